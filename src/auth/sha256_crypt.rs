//! SHA-256-crypt (Ulrich Drepper's "Unix crypt using SHA-256", glibc's `$5$`) as MySQL's
//! `my_crypt_genhash` computes it for caching_sha2_password (`$A$`) and sha256_password (`$5$`).
//!
//! Owns only the digest computation and its crypt-base64 encoding; the `$A$RRR$` / `$5$` framing
//! lives in `auth_string`. MySQL's deviations from glibc: the salt may be 20 bytes instead of 16, and
//! the round count is an argument instead of a `rounds=` field. `sha-crypt`/`pwhash` truncate salts
//! to 16 bytes, hence this implementation.

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// Longest salt MySQL uses (`CRYPT_SALT_LENGTH`).
pub const MAX_SALT_LEN: usize = 20;
/// Length of the crypt-base64 digest (`SHA256_HASH_LENGTH`).
pub const DIGEST_LEN: usize = 43;

const ALPHABET: &[u8; 64] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Is `c` one of the 64 characters of the crypt-base64 alphabet (`./0-9A-Za-z`)?
pub fn is_crypt_base64(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'.' || c == b'/'
}

/// The part of `salt` the algorithm uses: like MySQL and glibc (`strcspn(salt, "$")` on a C string),
/// it stops at the first `$` or 0x00 and at [`MAX_SALT_LEN`] bytes. Salts made by
/// [`crate::auth::salt_from_random`] are used whole.
pub fn effective_salt(salt: &[u8]) -> &[u8] {
    let end = salt
        .iter()
        .take(MAX_SALT_LEN)
        .position(|&b| b == 0 || b == b'$')
        .unwrap_or(salt.len().min(MAX_SALT_LEN));
    salt.get(..end).unwrap_or_default()
}

/// `len` bytes made by repeating `block` (Drepper's steps 16 and 20; also step 2's `B` feed).
fn repeat_to_len(block: &[u8; 32], len: usize) -> Zeroizing<Vec<u8>> {
    Zeroizing::new(block.iter().copied().cycle().take(len).collect())
}

fn finish(h: Sha256) -> Zeroizing<[u8; 32]> {
    Zeroizing::new(h.finalize().into())
}

/// SHA-256-crypt of `password` with `salt` and exactly `rounds` rounds, as the 43-character
/// crypt-base64 digest (the part after the last `$` of a `$5$` string, the last 43 bytes of a `$A$`
/// string). See [`effective_salt`] for how the salt is cut.
///
/// Cost grows with `rounds` and with `len(password)²` (step 4 hashes the password `len` times):
/// callers bound both — [`crate::auth::MAX_DIGEST_ROUNDS`], [`crate::auth::MAX_PASSWORD_LEN`].
/// Not interpreted (MySQL quirks that cannot occur with generated salts): a `rounds=` substring or a
/// leading `$5` inside the salt.
pub fn digest(password: &[u8], salt: &[u8], rounds: u32) -> [u8; DIGEST_LEN] {
    let salt = effective_salt(salt);
    let pw_len = password.len();

    // Step 1: B = H(pw || s || pw).
    let b = finish(
        Sha256::new()
            .chain_update(password)
            .chain_update(salt)
            .chain_update(password),
    );

    // Steps 2–3: A = H(pw || s || len(pw) bytes of B cyclic || bit walk of len(pw)).
    let mut ctx = Sha256::new();
    ctx.update(password);
    ctx.update(salt);
    ctx.update(&repeat_to_len(&b, pw_len)[..]);
    let mut n = pw_len;
    while n > 0 {
        if n & 1 == 1 {
            ctx.update(&b[..]);
        } else {
            ctx.update(password);
        }
        n >>= 1;
    }
    let a = finish(ctx);

    // Step 4: P from H(pw repeated len(pw) times).
    let mut ctx = Sha256::new();
    for _ in 0..pw_len {
        ctx.update(password);
    }
    let p = repeat_to_len(&finish(ctx), pw_len);

    // Step 5: S from H(s repeated 16 + A[0] times).
    let [a0, ..] = *a;
    let mut ctx = Sha256::new();
    for _ in 0..16 + usize::from(a0) {
        ctx.update(salt);
    }
    let s = repeat_to_len(&finish(ctx), salt.len());

    // Step 6: the rounds.
    let mut c = Zeroizing::new(*a);
    for i in 0..rounds {
        let mut ctx = Sha256::new();
        if i & 1 == 1 {
            ctx.update(&p[..]);
        } else {
            ctx.update(&c[..]);
        }
        if i % 3 != 0 {
            ctx.update(&s[..]);
        }
        if i % 7 != 0 {
            ctx.update(&p[..]);
        }
        if i & 1 == 1 {
            ctx.update(&c[..]);
        } else {
            ctx.update(&p[..]);
        }
        *c = ctx.finalize().into();
    }

    encode(&c)
}

/// Step 7 byte order: each triple becomes four characters (Drepper's `b64_from_24bit`).
const TRIPLES: [[usize; 3]; 10] = [
    [0, 10, 20],
    [21, 1, 11],
    [12, 22, 2],
    [3, 13, 23],
    [24, 4, 14],
    [15, 25, 5],
    [6, 16, 26],
    [27, 7, 17],
    [18, 28, 8],
    [9, 19, 29],
];

/// Step 7: Drepper's byte-shuffled crypt-base64, 10 groups of 3 bytes plus a final (0, C31, C30).
fn encode(c: &[u8; 32]) -> [u8; DIGEST_LEN] {
    // Every index in TRIPLES is below 32, so the fallback never applies.
    let byte = |i: usize| c.get(i).copied().unwrap_or(0);
    let groups = TRIPLES
        .iter()
        .map(|&[b2, b1, b0]| (byte(b2), byte(b1), byte(b0), 4))
        .chain([(0, byte(31), byte(30), 3)]);
    let mut out = [0u8; DIGEST_LEN];
    let mut slots = out.iter_mut();
    for (b2, b1, b0, chars) in groups {
        let mut w = (u32::from(b2) << 16) | (u32::from(b1) << 8) | u32::from(b0);
        for slot in slots.by_ref().take(chars) {
            // w & 63 < 64 = ALPHABET.len(), so the fallback never applies.
            *slot = ALPHABET.get((w & 63) as usize).copied().unwrap_or(b'.');
            w >>= 6;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(password: &[u8], salt: &[u8], rounds: u32) -> String {
        String::from_utf8(digest(password, salt, rounds).to_vec()).unwrap()
    }

    #[test]
    fn vector_v1_drepper() {
        assert_eq!(
            d(b"Hello world!", b"saltstring", 5000),
            "5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5"
        );
    }

    #[test]
    fn vector_v2_ten_thousand_rounds() {
        assert_eq!(
            d(b"Hello world!", b"saltstringsaltst", 10_000),
            "3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA"
        );
    }

    /// V4/V5 digests (the string framing is tested in `auth_string`).
    #[test]
    fn vectors_v4_v5_twenty_byte_salt() {
        assert_eq!(
            d(b"secret", b"abcdefghijklmnopqrst", 5000),
            "Yy1cVJ5jT.fk4HyAGlowRhOkI55As4SAesbspXHQvFD"
        );
        assert_eq!(
            d(b"secret", b"abcdefghijklmnopqrst", 6000),
            "T03mRnoxDci2w4OWCimVuppPMGpCLlUZuxqTYXAXyW2"
        );
    }

    /// Password lengths around and past the 32-byte block (steps 2 and 4), computed with
    /// `openssl passwd -5 -salt … ` (OpenSSL 3.0.19).
    #[test]
    fn openssl_vectors_for_other_password_lengths() {
        let cases: [(&[u8], &[u8], &str); 5] = [
            (
                b"x",
                b"saltstringsaltst",
                "GJcDDr/LiUc9n4.lvpdc1ryQhVapvtYYB0IGJYN7hSA",
            ),
            (
                b"Hello world!",
                b"saltstringsaltst",
                "a5C8Ofk71MUIoKve2QuP9FMl.dwNgseF5tR1LGAL7iB",
            ),
            (
                &[b'a'; 32],
                b"saltstringsaltst",
                "yevQFicwmPwqRj1CHjxiobwV1W7apYy7w6Qk3na/GV7",
            ),
            (
                &b"pwpwpwpwpwpwpwpwpwpwpwpwpwpwpwpwpwpwpwpwpwpwpwpwpwpwpwpwpwpwpwpwpwpwpwpwpw"[..],
                b"saltstringsaltst",
                "XZ1bUoGKmzrbbz5NyEaRqNUOLvqTJxMhl/ZXsKmlpj/",
            ),
            // `openssl passwd -5 -salt 'rounds=1000$abc'`: 1000 rounds, salt "abc".
            (
                b"The quick brown fox jumps over the lazy dog, 45",
                b"abc",
                "Xbzvg0CRULYQY6VdVKTDCTAgcH4HVpY1eYbvK1Ik6J3",
            ),
        ];
        for (i, (pw, salt, expected)) in cases.iter().enumerate() {
            let rounds = if i == 4 { 1000 } else { 5000 };
            assert_eq!(d(pw, salt, rounds), *expected, "case {i}");
        }
        let long: Vec<u8> = (0..200u32).map(|i| 33 + (i * 7 % 90) as u8).collect();
        assert_eq!(
            d(&long, b"abcde", 5000),
            "sy05/NXG9efm3lJ7pPPdL1SJxHlH6F6yWLT/7lOCD/."
        );
    }

    #[test]
    fn salt_is_cut_like_mysql() {
        assert_eq!(effective_salt(b"abc$def"), b"abc");
        assert_eq!(effective_salt(b"abc\0def"), b"abc");
        assert_eq!(
            effective_salt(b"abcdefghijklmnopqrstuvwxyz"),
            b"abcdefghijklmnopqrst"
        );
        assert_eq!(effective_salt(b""), b"");
        assert_eq!(effective_salt(b"$abc"), b"");
        // Bytes past the 20th are ignored, including a '$' there.
        assert_eq!(
            digest(b"secret", b"abcdefghijklmnopqrst$tail", 5000),
            digest(b"secret", b"abcdefghijklmnopqrst", 5000)
        );
    }

    #[test]
    fn output_is_crypt_base64_and_empty_inputs_work() {
        for out in [
            digest(b"", b"", 0),
            digest(b"", b"salt", 1),
            digest(&[0xFF; 40], &[0x7F; 20], 3),
        ] {
            assert!(out.iter().all(|&c| is_crypt_base64(c)));
        }
        assert_ne!(digest(b"a", b"salt", 10), digest(b"b", b"salt", 10));
        assert_ne!(digest(b"a", b"salt", 10), digest(b"a", b"salu", 10));
        assert_ne!(digest(b"a", b"salt", 10), digest(b"a", b"salt", 11));
    }

    #[test]
    fn alphabet_predicate_matches_table() {
        for c in 0..=255u8 {
            assert_eq!(is_crypt_base64(c), ALPHABET.contains(&c), "{c}");
        }
    }
}
