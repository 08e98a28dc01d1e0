//! mysql_native_password (docs/protocol.md, "mysql_native_password"): the SHA-1
//! challenge–response and its stored hash.
//!
//! Never parses the `*HEX` string (see [`crate::auth::AuthString`]) and never decides what an empty
//! or odd-length response means on the wire: the handshake machine does (MySQL: empty = no password,
//! other lengths than 20 = 1043 Bad handshake).

use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::Nonce;

fn sha1(parts: &[&[u8]]) -> Zeroizing<[u8; 20]> {
    let mut h = Sha1::new();
    for p in parts {
        h.update(p);
    }
    Zeroizing::new(h.finalize().into())
}

fn xor20(a: &[u8; 20], b: &[u8; 20]) -> Zeroizing<[u8; 20]> {
    let mut out = Zeroizing::new([0u8; 20]);
    for ((o, x), y) in out.iter_mut().zip(a).zip(b) {
        *o = x ^ y;
    }
    out
}

/// The client's response: `SHA1(pw) ⊕ SHA1(nonce || SHA1(SHA1(pw)))` — nonce first (the reverse of
/// caching_sha2_password). Computes the formula for any input; real clients send an empty response
/// for an empty password instead.
pub fn client_scramble(password: &[u8], nonce: &Nonce) -> [u8; 20] {
    let h1 = sha1(&[password]);
    let h2 = sha1(&[&h1[..]]);
    let h3 = sha1(&[nonce.as_bytes(), &h2[..]]);
    *xor20(&h1, &h3)
}

/// `SHA1(SHA1(pw))`: the 20 bytes behind the stored `*` + 40-hex string (MySQL's `PASSWORD()`).
pub fn stored_hash(password: &[u8]) -> [u8; 20] {
    let h1 = sha1(&[password]);
    *sha1(&[&h1[..]])
}

/// Server check (MySQL's `check_scramble`): `c = response ⊕ SHA1(nonce || stored)`, accept iff
/// `response` is exactly 20 bytes and `SHA1(c) == stored`, compared in constant time.
pub fn verify_scramble(stored: &[u8; 20], nonce: &Nonce, response: &[u8]) -> bool {
    let Ok(response) = <&[u8; 20]>::try_from(response) else {
        return false;
    };
    let mask = sha1(&[nonce.as_bytes(), stored]);
    // Candidate SHA1(pw).
    let candidate = xor20(response, &mask);
    sha1(&[&candidate[..]]).ct_eq(stored).into()
}

/// `SHA1(pw)` recovered from a response that verifies against `stored` (`None` when it does
/// not): `response ⊕ SHA1(nonce || stored)`. What a proxy needs to answer a backend's
/// mysql_native_password scramble for any nonce without the cleartext (docs/proxy.md §4.2a).
pub fn recover_stage1(stored: &[u8; 20], nonce: &Nonce, response: &[u8]) -> Option<[u8; 20]> {
    if !verify_scramble(stored, nonce, response) {
        return None;
    }
    let response = <&[u8; 20]>::try_from(response).ok()?;
    let mask = sha1(&[nonce.as_bytes(), stored]);
    Some(*xor20(response, &mask))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const W4_NONCE: [u8; 20] = [
        70, 114, 92, 94, 1, 38, 11, 116, 63, 114, 23, 101, 126, 103, 26, 95, 81, 17, 24, 21,
    ];
    const W4_RESPONSE: [u8; 20] = [
        53, 177, 140, 159, 251, 189, 127, 53, 109, 252, 172, 50, 211, 192, 240, 164, 26, 48, 207,
        45,
    ];
    /// docs/proxy.md §9.1: from the W4 exchange and `*14E6…`, X = SHA1("secret"), and X answers
    /// any other nonce as the password would.
    #[test]
    fn stage1_is_recovered_from_the_w4_exchange() {
        let stored: [u8; 20] = stored_hash(b"secret");
        let x = recover_stage1(&stored, &Nonce::from_wire(W4_NONCE), &W4_RESPONSE).unwrap();
        assert_eq!(x, *sha1(&[b"secret"]));
        let mut wrong = W4_RESPONSE;
        wrong[0] ^= 1;
        assert_eq!(
            recover_stage1(&stored, &Nonce::from_wire(W4_NONCE), &wrong),
            None
        );
    }

    /// `*14E65567ABDB5135D0CFD9A70B3032C179A49EE7` (docs/protocol.md, "Test vectors").
    const SECRET_HASH: [u8; 20] = [
        0x14, 0xE6, 0x55, 0x67, 0xAB, 0xDB, 0x51, 0x35, 0xD0, 0xCF, 0xD9, 0xA7, 0x0B, 0x30, 0x32,
        0xC1, 0x79, 0xA4, 0x9E, 0xE7,
    ];

    #[test]
    fn vector_w4() {
        let nonce = Nonce::from_wire(W4_NONCE);
        assert_eq!(client_scramble(b"secret", &nonce), W4_RESPONSE);
        assert!(verify_scramble(&SECRET_HASH, &nonce, &W4_RESPONSE));
        assert!(!verify_scramble(
            &stored_hash(b"secret2"),
            &nonce,
            &W4_RESPONSE
        ));
    }

    #[test]
    fn stored_hash_of_secret() {
        assert_eq!(stored_hash(b"secret"), SECRET_HASH);
    }

    #[test]
    fn wrong_lengths_are_rejected() {
        let nonce = Nonce::from_wire(W4_NONCE);
        assert!(!verify_scramble(&SECRET_HASH, &nonce, &[]));
        assert!(!verify_scramble(&SECRET_HASH, &nonce, &W4_RESPONSE[..19]));
        let mut long = W4_RESPONSE.to_vec();
        long.push(0);
        assert!(!verify_scramble(&SECRET_HASH, &nonce, &long));
    }

    proptest! {
        #[test]
        fn round_trip_and_wrong_password(
            password in proptest::collection::vec(any::<u8>(), 1..64),
            other in proptest::collection::vec(any::<u8>(), 1..64),
            nonce in any::<[u8; 20]>(),
        ) {
            let nonce = Nonce::from_random(nonce);
            let stored = stored_hash(&password);
            prop_assert!(verify_scramble(&stored, &nonce, &client_scramble(&password, &nonce)));
            if other != password {
                prop_assert!(!verify_scramble(&stored, &nonce, &client_scramble(&other, &nonce)));
            }
        }
    }
}
