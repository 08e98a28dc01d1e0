//! caching_sha2_password's fast-path scramble: the client formula, the cache value and the server's
//! check against a cached `SHA256(SHA256(pw))` (docs/protocol.md, "caching_sha2_password: fast
//! path and full authentication").
//!
//! Never reads the cache or the stored `$A$` string itself: the caller looks the entry up and, on the
//! full-authentication path, verifies with [`crate::auth::AuthString::verify_cleartext`].

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::{CachedDigest, Nonce};

fn sha256(parts: &[&[u8]]) -> Zeroizing<[u8; 32]> {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    Zeroizing::new(h.finalize().into())
}

fn xor32(a: &[u8; 32], b: &[u8; 32]) -> Zeroizing<[u8; 32]> {
    let mut out = Zeroizing::new([0u8; 32]);
    for ((o, x), y) in out.iter_mut().zip(a).zip(b) {
        *o = x ^ y;
    }
    out
}

/// The client's fast-path token: `SHA256(pw) ⊕ SHA256(SHA256(SHA256(pw)) || nonce)` — double hash
/// first, nonce second (the reverse of mysql_native_password).
///
/// Computes the formula for any input, the empty password included. A real client does not call it
/// for an empty password: it sends an empty response instead (docs/protocol.md,
/// "caching_sha2_password: fast path and full authentication", step 1), and the server treats a
/// 32-byte response as "using password: YES".
pub fn client_scramble(password: &[u8], nonce: &Nonce) -> [u8; 32] {
    let h1 = sha256(&[password]);
    let h2 = sha256(&[&h1[..]]);
    let h3 = sha256(&[&h2[..], nonce.as_bytes()]);
    *xor32(&h1, &h3)
}

/// `SHA256(SHA256(pw))`: what the server caches after a successful full authentication
/// (MySQL's `generate_fast_digest` with the default 2 rounds).
pub fn cached_digest(password: &[u8]) -> CachedDigest {
    let h1 = sha256(&[password]);
    let h2 = sha256(&[&h1[..]]);
    CachedDigest::from_bytes(*h2)
}

/// Server fast-path check (MySQL's `Validate_scramble`): with `x = SHA256(cached || nonce)`, accept
/// iff `response` is exactly 32 bytes and `SHA256(x ⊕ response) == cached`, compared in constant
/// time. A `false` here means "send `01 04` and do full authentication", not "deny".
pub fn verify_scramble(cached: &CachedDigest, nonce: &Nonce, response: &[u8]) -> bool {
    let Ok(response) = <&[u8; 32]>::try_from(response) else {
        return false;
    };
    let x = sha256(&[cached.as_bytes(), nonce.as_bytes()]);
    // Candidate SHA256(pw); hashing it once more must give the cached value.
    let candidate = xor32(&x, response);
    let rehashed = sha256(&[&candidate[..]]);
    rehashed.ct_eq(cached.as_bytes()).into()
}

/// `SHA256(pw)` recovered from a fast-path response that verifies against the cached value
/// (`None` when it does not): `response ⊕ SHA256(cached || nonce)`. It answers a backend's
/// caching_sha2_password fast path for any nonce (docs/proxy.md §4.2b).
pub fn recover_stage1(cached: &CachedDigest, nonce: &Nonce, response: &[u8]) -> Option<[u8; 32]> {
    if !verify_scramble(cached, nonce, response) {
        return None;
    }
    let response = <&[u8; 32]>::try_from(response).ok()?;
    let x = sha256(&[cached.as_bytes(), nonce.as_bytes()]);
    Some(*xor32(&x, response))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    const W1_NONCE: [u8; 20] = [
        0x0a, 0x2f, 0x4a, 0x6f, 0x4b, 0x49, 0x22, 0x30, 0x58, 0x4c, 0x72, 0x4a, 0x25, 0x0d, 0x03,
        0x50, 0x52, 0x02, 0x17, 0x15,
    ];

    #[test]
    fn vector_w1() {
        let nonce = Nonce::from_wire(W1_NONCE);
        let expected = hex("f490e76f66d9d86665ce54d98c78d0acfe2fb0b08b423da807144873d30b312c");
        assert_eq!(client_scramble(b"secret", &nonce).to_vec(), expected);
        // Server-side check of W1 against the cached value of "secret" (docs/protocol.md, "Test
        // vectors").
        assert!(verify_scramble(
            &cached_digest(b"secret"),
            &nonce,
            &expected
        ));
        assert!(!verify_scramble(
            &cached_digest(b"secret2"),
            &nonce,
            &expected
        ));
    }

    /// docs/proxy.md §9.1: from the W1 fast-path answer and the cached value of "secret",
    /// T = SHA256("secret"); a wrong answer recovers nothing.
    #[test]
    fn stage1_is_recovered_from_the_w1_exchange() {
        let nonce = Nonce::from_wire(W1_NONCE);
        let w1 = hex("f490e76f66d9d86665ce54d98c78d0acfe2fb0b08b423da807144873d30b312c");
        let t = recover_stage1(&cached_digest(b"secret"), &nonce, &w1).unwrap();
        assert_eq!(t, *sha256(&[b"secret"]));
        assert_eq!(recover_stage1(&cached_digest(b"other"), &nonce, &w1), None);
    }

    #[test]
    fn vector_w2() {
        let nonce = Nonce::from_wire(W1_NONCE);
        let expected = hex("abc3934a012cf342e876071c8ee202de51785b430258a7a0138bc79c4d800bc6");
        assert_eq!(client_scramble(b"secret2", &nonce).to_vec(), expected);
        assert!(verify_scramble(
            &cached_digest(b"secret2"),
            &nonce,
            &expected
        ));
    }

    #[test]
    fn vector_w3() {
        let nonce = Nonce::from_wire([
            90, 105, 74, 126, 30, 48, 37, 56, 3, 23, 115, 127, 69, 22, 41, 84, 32, 123, 43, 118,
        ]);
        let expected: [u8; 32] = [
            102, 32, 5, 35, 143, 161, 140, 241, 171, 232, 56, 139, 43, 14, 107, 196, 249, 170, 147,
            60, 220, 204, 120, 178, 214, 15, 184, 150, 26, 61, 57, 235,
        ];
        assert_eq!(client_scramble(b"secret", &nonce), expected);
        assert!(verify_scramble(
            &cached_digest(b"secret"),
            &nonce,
            &expected
        ));
    }

    #[test]
    fn cached_value_of_secret() {
        let expected = hex("3881219d087dd9c634373fd33dfa33a2cb6bfc6c520b64b8bb60ef2ceb534ae7");
        assert_eq!(cached_digest(b"secret").as_bytes().to_vec(), expected);
        // Server check of W1 step by step: SHA256(cached || N) ⊕ W1 == SHA256("secret").
        let nonce = Nonce::from_wire(W1_NONCE);
        let w1: [u8; 32] = client_scramble(b"secret", &nonce);
        let x = sha256(&[&expected, &W1_NONCE]);
        assert_eq!(*xor32(&x, &w1), *sha256(&[b"secret"]));
    }

    #[test]
    fn wrong_lengths_are_rejected() {
        let nonce = Nonce::from_wire(W1_NONCE);
        let cached = cached_digest(b"secret");
        let good = client_scramble(b"secret", &nonce);
        assert!(!verify_scramble(&cached, &nonce, &[]));
        assert!(!verify_scramble(&cached, &nonce, &[0]));
        assert!(!verify_scramble(&cached, &nonce, &good[..31]));
        let mut long = good.to_vec();
        long.push(0);
        assert!(!verify_scramble(&cached, &nonce, &long));
        // The cleartext password as a first response (mariadb-connector-c#120) fails.
        assert!(!verify_scramble(&cached, &nonce, b"secret\0"));
    }

    #[test]
    fn other_nonce_is_rejected() {
        let cached = cached_digest(b"secret");
        let r = client_scramble(b"secret", &Nonce::from_wire(W1_NONCE));
        let mut other = W1_NONCE;
        other[19] ^= 1;
        assert!(!verify_scramble(&cached, &Nonce::from_wire(other), &r));
    }

    proptest! {
        #[test]
        fn scramble_round_trip(
            password in proptest::collection::vec(any::<u8>(), 1..64),
            nonce in any::<[u8; 20]>(),
        ) {
            let nonce = Nonce::from_random(nonce);
            let r = client_scramble(&password, &nonce);
            prop_assert!(verify_scramble(&cached_digest(&password), &nonce, &r));
        }

        #[test]
        fn wrong_password_is_rejected(
            password in proptest::collection::vec(any::<u8>(), 1..64),
            other in proptest::collection::vec(any::<u8>(), 1..64),
            nonce in any::<[u8; 20]>(),
        ) {
            prop_assume!(password != other);
            let nonce = Nonce::from_random(nonce);
            let r = client_scramble(&other, &nonce);
            prop_assert!(!verify_scramble(&cached_digest(&password), &nonce, &r));
        }

        #[test]
        fn flipped_bit_is_rejected(
            password in proptest::collection::vec(any::<u8>(), 1..64),
            nonce in any::<[u8; 20]>(),
            bit in 0usize..256,
        ) {
            let nonce = Nonce::from_random(nonce);
            let mut r = client_scramble(&password, &nonce);
            r[bit / 8] ^= 1 << (bit % 8);
            prop_assert!(!verify_scramble(&cached_digest(&password), &nonce, &r));
        }
    }
}
