//! The 20-byte nonce ("scramble") and the XOR obfuscation used on the RSA path.
//!
//! Owns MySQL's post-processing of random bytes (`generate_user_salt`) for nonces and salts, and the
//! cyclic XOR with the nonce that clients apply before RSA encryption. Never generates randomness and
//! never touches RSA itself.

use zeroize::Zeroizing;

/// Length of the nonce MySQL sends in HandshakeV10 and AuthSwitchRequest (`SCRAMBLE_LENGTH`).
pub const NONCE_LEN: usize = 20;

/// The per-connection nonce: 20 bytes, without the trailing NUL sent on the wire.
///
/// Public on the wire, so `Debug` prints the bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Nonce([u8; NONCE_LEN]);

/// MySQL's `generate_user_salt` byte transform: clear the high bit, then bump 0x00 and `$` by one,
/// so every byte is in 0x01..=0x7F and never 0x24.
fn legalize(raw: [u8; NONCE_LEN]) -> [u8; NONCE_LEN] {
    raw.map(|b| {
        let b = b & 0x7F;
        if b == 0 || b == b'$' {
            b + 1
        } else {
            b
        }
    })
}

impl Nonce {
    /// Builds a server nonce from raw CSPRNG output the way MySQL does: `b & 0x7F`, then 0x00 or `$`
    /// becomes the next byte. Several clients read the nonce as a C string or as text, which is why
    /// MySQL (and Vitess) never send 0x00, bytes ≥ 0x80 or `$`.
    pub fn from_random(raw: [u8; NONCE_LEN]) -> Nonce {
        Nonce(legalize(raw))
    }

    /// Takes the 20 bytes exactly as received (client side, published test vectors).
    pub fn from_wire(bytes: [u8; NONCE_LEN]) -> Nonce {
        Nonce(bytes)
    }

    /// The 20 bytes, as sent in the greeting or an AuthSwitchRequest.
    pub fn as_bytes(&self) -> &[u8; NONCE_LEN] {
        &self.0
    }
}

/// Salt for a new `$A$` or `$5$` string from raw CSPRNG output: the same transform as
/// [`Nonce::from_random`] (MySQL generates both with `generate_user_salt`).
pub fn salt_from_random(raw: [u8; NONCE_LEN]) -> [u8; NONCE_LEN] {
    legalize(raw)
}

/// `data ⊕ nonce`, the nonce repeated cyclically (byte `i` with `nonce[i mod 20]`), as MySQL's
/// `xor_string` does on the RSA path. Only the 20 nonce bytes are used — never a 21st NUL
/// (bun#28161). The operation is its own inverse. `data` is taken as is: for the client-side
/// obfuscation of a password use [`obfuscate_password_for_rsa`], which appends the NUL first.
pub fn xor_with_nonce(data: &[u8], nonce: &Nonce) -> Zeroizing<Vec<u8>> {
    Zeroizing::new(
        data.iter()
            .zip(nonce.0.iter().cycle())
            .map(|(d, n)| d ^ n)
            .collect(),
    )
}

/// What a client OAEP-encrypts on the RSA path of caching_sha2_password and sha256_password:
/// `(password || 0x00) ⊕ nonce` (cyclic).
pub fn obfuscate_password_for_rsa(password: &[u8], nonce: &Nonce) -> Zeroizing<Vec<u8>> {
    let mut with_nul = Zeroizing::new(Vec::with_capacity(password.len().saturating_add(1)));
    with_nul.extend_from_slice(password);
    with_nul.push(0);
    xor_with_nonce(&with_nul, nonce)
}

/// Server side of the RSA path, after OAEP decryption: XOR the plaintext with the nonce (cyclic) and
/// keep the bytes before the first 0x00, as MySQL does (`xor_string`, then the result is read as a C
/// string). Without a 0x00 the whole XORed plaintext is the password, as in MySQL, which terminates
/// the decrypted buffer itself.
pub fn password_from_rsa_plaintext(plaintext: &[u8], nonce: &Nonce) -> Zeroizing<Vec<u8>> {
    let mut password = xor_with_nonce(plaintext, nonce);
    if let Some(end) = password.iter().position(|&b| b == 0) {
        // Zeroizing<Vec> wipes the spare capacity too on drop, so the cut-off tail is not left behind.
        password.truncate(end);
    }
    password
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Nonce of W1/W2 and of the RSA example (docs/protocol.md, "Test vectors").
    const W1_NONCE: [u8; 20] = [
        0x0a, 0x2f, 0x4a, 0x6f, 0x4b, 0x49, 0x22, 0x30, 0x58, 0x4c, 0x72, 0x4a, 0x25, 0x0d, 0x03,
        0x50, 0x52, 0x02, 0x17, 0x15,
    ];

    #[test]
    fn rsa_obfuscation_worked_example() {
        let nonce = Nonce::from_wire(W1_NONCE);
        let obf = obfuscate_password_for_rsa(b"secret", &nonce);
        assert_eq!(&obf[..], &[0x79, 0x4a, 0x29, 0x1d, 0x2e, 0x3d, 0x22]);
        // xor_with_nonce on the explicit pw||NUL gives the same bytes.
        assert_eq!(&xor_with_nonce(b"secret\0", &nonce)[..], &obf[..]);
        assert_eq!(&password_from_rsa_plaintext(&obf, &nonce)[..], b"secret");
    }

    #[test]
    fn long_password_wraps_the_nonce() {
        let nonce = Nonce::from_wire(W1_NONCE);
        let password = b"correct horse battery staple!"; // 29 bytes
        let obf = obfuscate_password_for_rsa(password, &nonce);
        assert_eq!(obf.len(), password.len() + 1);
        // Byte 20 uses nonce[0] again, byte 29 (the NUL) nonce[9].
        assert_eq!(obf[20], password[20] ^ W1_NONCE[0]);
        assert_eq!(obf[29], W1_NONCE[9]);
        assert_eq!(&password_from_rsa_plaintext(&obf, &nonce)[..], password);
        // A 21-byte "nonce" (with NUL) would give a different byte 20: the bun#28161 bug.
        assert_ne!(obf[20], password[20]);
    }

    /// TEST-ONLY 2048-bit RSA key (generated for this test with `openssl genpkey`; protects nothing).
    const TEST_RSA_KEY_PEM: &str = "\
-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDkiEXexMxB+l1O
IuBmV+ioVexjqOOzdfl0FRZf+50dOKSAzF26QVqjB0hdRLjTp2aKZH1IQaoDYyHB
2Ki4ywFOTCT11ZMdJQovWS8cEY5VOn3TuZtSbttbU8IMzIHGdIloxWFMF8/LBMo5
V3VxiasqRjLbI7NHrQpPSbAqql1aM3I6m+61Dlzz3MpWumQv90/ae/Oc20P0O2RN
94K08te27OA/EhNB7XZoWLiLCUhjQW0w3UE6kpbV7i7bTFRAtxRWyj3WMjXt/NIl
pkp3lVpu1/SDZ2GYspQULXqLpHVlMT6UvA9TgFFeZ/M7D438NiYJyCK66UN395DS
af5yU4RDAgMBAAECggEAcjyMcKb/U5vLOFvGwGIBMuSAnfC2oea/I3/HB4PHLew6
jweZcplorUXeroDDw0lSwKsq1Qu96KONJFEhRf50UKdPcnOoblEtni1+lxFPjNsI
OuX09mfjzus3fR5dYM6wQWcpE9hzTpC+ZZuKYY7nuOIOWeymmZWuKaQ0I5+1ung7
ElHIEq3jZfeeyFiZ0b8rSrGjBqi4tHpGeyxKv2/AG9+kR5nMgXJ+NZeJr8eSWT/N
ZUrzuWfElbW4MnbIMn5Yl+ZixZAwBi8mnH0hLaMWUaq0O4p9ceuXTaRa2l7AckHG
r2lR3qhYwWcZLcLZ/Dct9tcP6XaUC8rV8rGLeph+AQKBgQD6fWf35Gw4GjmWTcNU
yGDmTxbFYqmh4rND/EMR+vGb/n9lWxGTo6PR2jmhQCdPhs8YuaeB+q+O3Lx8I6e8
NCHVDFv/ckrFaVCHjEQtOa1OeKYV+4JtIbWqe321eUzffaHJOBlL7SM02tsbGfyf
JATW+86fKmZU+6zKSnYVq9pJ4wKBgQDpjzdiPm0VYPWfr8K3zWrMvd56XlxmA2FH
+UleMWOyyJ79rbDybviwLq2hpOUUzI0I2EsejSDf27s/gBMpoyGR4xnTxVecWqtQ
8oAzychCEBFwtIpM07CiYcUFaOnJaMMWtFg8LfUnMLf1qTNhYTeLFa/xdlRQja4Z
QhCOOIhqIQKBgGvhEKLZdKYg3UZXTVW5SspFq5fs6wO2f+A6x6P5wI6fZ7x+IS7F
nisl4gYJfCSq+Yw7gOHg1jUf6elI7deHWD7KKOD2Fy+4MJ+AEGit227dVSJIhJ59
kyDOOJCsoifqkn/3siVaBvyfeRfN9FeRiqgQIKe5+gKFtaAVu4+PyN5jAoGAIBo/
UpGiDL43BKvz56+kbl/qpIczzBHK3Um2e+vt+DT7JYMqPyhhplXEJ+OyWRmEiSKx
sJFVY2+gXSoNeDuj8Zl1g1YspKERyx6J4JRroijzPLqUB9tQ/ADUQ9oXyEdOCWDg
f+URPUHFB08qcMgcClIAzP+mtyvCMlaST/oVRgECgYEArN+dqPKiV1EaRNihb1Lp
q9WjnnSLdkcaIcYWA3ZczZQSWTRP0t4R3m2dyOJQdPDcvN8kHbS5nGcBBxZK+yNa
kk8tvTYr5BrlRPqf02kAVO6bu8TUKtJnXF3D85kLkmUumLEqoN8luyHxZMGtVF3s
9XMOycAVeRXWPcYpVwQkyzU=
-----END PRIVATE KEY-----";

    /// What a client and the server do on the RSA path, end to end: obfuscate, RSAES-OAEP
    /// (SHA-1, MGF1-SHA-1) with a 2048-bit key, decrypt, undo the XOR. The 34-byte password makes
    /// the nonce wrap.
    #[test]
    fn rsa_oaep_round_trip_with_long_password() {
        use rsa::pkcs8::DecodePrivateKey;
        use rsa::{Oaep, RsaPrivateKey, RsaPublicKey};

        let key = RsaPrivateKey::from_pkcs8_pem(TEST_RSA_KEY_PEM).unwrap();
        let public = RsaPublicKey::from(&key);
        let nonce = Nonce::from_wire(W1_NONCE);
        let password = b"a passphrase longer than the nonce";
        assert!(password.len() > 25);
        let obf = obfuscate_password_for_rsa(password, &nonce);
        let ciphertext = public
            .encrypt(&mut rand::thread_rng(), Oaep::new::<sha1::Sha1>(), &obf)
            .unwrap();
        assert_eq!(ciphertext.len(), 256);
        let plaintext = key.decrypt(Oaep::new::<sha1::Sha1>(), &ciphertext).unwrap();
        assert_eq!(&plaintext[..], &obf[..]);
        assert_eq!(
            &password_from_rsa_plaintext(&plaintext, &nonce)[..],
            password
        );
        // Undoing the XOR with another nonce does not give the password back.
        let other = Nonce::from_wire([0x41; 20]);
        assert_ne!(
            &password_from_rsa_plaintext(&plaintext, &other)[..],
            password
        );
    }

    #[test]
    fn plaintext_without_nul_is_taken_whole() {
        let nonce = Nonce::from_wire(W1_NONCE);
        let obf = xor_with_nonce(b"abc", &nonce);
        assert_eq!(&password_from_rsa_plaintext(&obf, &nonce)[..], b"abc");
        assert!(password_from_rsa_plaintext(&[], &nonce).is_empty());
        // Bytes after the first NUL are ignored.
        let obf = xor_with_nonce(b"ab\0cd", &nonce);
        assert_eq!(&password_from_rsa_plaintext(&obf, &nonce)[..], b"ab");
    }

    #[test]
    fn from_random_edge_bytes() {
        let mut raw = [0u8; 20];
        raw[1] = 0x24;
        raw[2] = 0x80;
        raw[3] = 0xA4;
        raw[4] = 0xFF;
        raw[5] = 0x7F;
        raw[6] = 0x23;
        let n = Nonce::from_random(raw);
        assert_eq!(
            &n.as_bytes()[..7],
            &[0x01, 0x25, 0x01, 0x25, 0x7F, 0x7F, 0x23]
        );
        assert_eq!(salt_from_random(raw), *n.as_bytes());
        assert_eq!(Nonce::from_wire(raw).as_bytes(), &raw);
    }

    proptest! {
        #[test]
        fn from_random_bytes_are_legal(raw in any::<[u8; 20]>()) {
            let n = Nonce::from_random(raw);
            for (&b, &r) in n.as_bytes().iter().zip(raw.iter()) {
                prop_assert!((0x01..=0x7F).contains(&b));
                prop_assert_ne!(b, b'$');
                // Only the documented transform: low 7 bits kept, or bumped by one.
                let low = r & 0x7F;
                prop_assert!(b == low || (b == low + 1 && (low == 0 || low == b'$')));
            }
            prop_assert_eq!(salt_from_random(raw), *n.as_bytes());
        }

        #[test]
        fn rsa_obfuscation_round_trips(
            password in proptest::collection::vec(1u8..=255, 0..80),
            nonce in any::<[u8; 20]>(),
        ) {
            let nonce = Nonce::from_wire(nonce);
            let obf = obfuscate_password_for_rsa(&password, &nonce);
            prop_assert_eq!(&password_from_rsa_plaintext(&obf, &nonce)[..], &password[..]);
            prop_assert_eq!(&xor_with_nonce(&obf, &nonce)[..password.len()], &password[..]);
        }
    }
}
