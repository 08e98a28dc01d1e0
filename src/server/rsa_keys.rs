//! The RSA key pair of `caching_sha2_password` / `sha256_password` (docs/protocol.md, "RSA key
//! files"): MySQL's auto-generation rule, loading `private_key.pem` / `public_key.pem`, and
//! RSA-OAEP decryption of the password a client sends without TLS.
//!
//! This module owns the key files and the private-key operation (aws-lc-rs, constant time). It
//! never decides whether RSA may be used for an account, never sees the plaintext protocol
//! exchange (the caller XORs the decrypted bytes with the nonce) and never logs key material.

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{
    OaepPrivateDecryptingKey, PrivateDecryptingKey, PublicEncryptingKey, OAEP_SHA1_MGF1SHA1,
};
use rcgen::{KeyPair, RsaKeySize, PKCS_RSA_SHA256};
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{PrivateKeyDer, SubjectPublicKeyInfoDer};
use zeroize::Zeroizing;

use super::tls_files::write_file_atomic;

/// Which half of the pair an error is about; displayed as MySQL's log messages word it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// The private key file (`caching_sha2_password_private_key_path` …).
    Private,
    /// The public key file (`caching_sha2_password_public_key_path` …).
    Public,
}

impl fmt::Display for KeyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyKind::Private => "private",
            KeyKind::Public => "public",
        })
    }
}

/// Why the RSA key pair is unavailable. The server logs it and runs without RSA password
/// exchange (the status variables `Caching_sha2_password_rsa_public_key` / `Rsa_public_key`
/// stay empty), as MySQL does; the messages follow MySQL's log texts.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RsaKeyError {
    /// A key file does not exist.
    #[error("RSA {kind} key file not found: {}. Some authentication plugins will not work.", path.display())]
    NotFound {
        /// Which file.
        kind: KeyKind,
        /// Where it was looked for.
        path: PathBuf,
    },
    /// A key file exists but cannot be read.
    #[error("Failure to read RSA {kind} key file {}: {source}", path.display())]
    Io {
        /// Which file.
        kind: KeyKind,
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// A key file was read but does not hold a usable RSA key of the expected form.
    #[error("Failure to parse RSA {kind} key (file exists): {}: {detail}", path.display())]
    Invalid {
        /// Which file.
        kind: KeyKind,
        /// The file.
        path: PathBuf,
        /// What the parser refused.
        detail: String,
    },
    /// Both files hold valid keys, but not of the same pair.
    #[error(
        "RSA public key {} does not match the private key {}",
        public.display(),
        private.display()
    )]
    Mismatch {
        /// The private key file.
        private: PathBuf,
        /// The public key file.
        public: PathBuf,
    },
    /// Key generation failed.
    #[error("Failed to generate the RSA key pair: {0}")]
    Generate(String),
    /// Checking for or writing a generated key file failed.
    #[error("Failed to write RSA key file {}: {source}", path.display())]
    Write {
        /// The file being written.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
}

/// RSA decryption failed: wrong ciphertext length or bad OAEP padding. Deliberately without
/// detail, so no padding oracle can be built on it; the caller answers with MySQL's access
/// denied error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("RSA decryption failed")]
pub struct RsaDecryptError;

/// A loaded and checked RSA key pair. The private half never leaves aws-lc-rs.
pub struct RsaKeyPair {
    key: OaepPrivateDecryptingKey,
    public_pem: String,
    modulus_len: usize,
}

impl fmt::Debug for RsaKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RsaKeyPair")
            .field("key", &"<redacted>")
            .field("modulus_len", &self.modulus_len)
            .finish()
    }
}

impl RsaKeyPair {
    /// Loads `caching_sha2_password_private_key_path` / `_public_key_path` (or the
    /// `sha256_password_*` pair). The private key may be PKCS#1 (`BEGIN RSA PRIVATE KEY`, what
    /// MySQL writes) or unencrypted PKCS#8 (`BEGIN PRIVATE KEY`, what OpenSSL 3 and
    /// [`ensure_rsa_keys`] write); the public key must be SubjectPublicKeyInfo (`BEGIN PUBLIC
    /// KEY`), because clients parse what we send them that way. Keys of 2048 to 8192 bits are
    /// accepted (aws-lc-rs's range; MySQL's own limit is also 8192). The two files must be
    /// halves of one pair.
    pub fn load(
        private_pem_path: &Path,
        public_pem_path: &Path,
    ) -> Result<RsaKeyPair, RsaKeyError> {
        let private_pem = read_key_file(KeyKind::Private, private_pem_path)?;
        let public_pem = read_key_file(KeyKind::Public, public_pem_path)?;
        Self::parse(&private_pem, &public_pem, private_pem_path, public_pem_path)
    }

    /// The same from PEM text in memory (an embedder's own key pair): the same formats and
    /// checks as [`RsaKeyPair::load`]; errors name the path `<memory>`.
    pub fn from_pem(private_pem: &[u8], public_pem: &[u8]) -> Result<RsaKeyPair, RsaKeyError> {
        let memory = Path::new("<memory>");
        Self::parse(private_pem, public_pem, memory, memory)
    }

    /// A new 2048-bit pair in memory (what `--…-auto-generate-rsa-keys` writes to files).
    pub fn generate() -> Result<RsaKeyPair, RsaKeyError> {
        let pair = KeyPair::generate_rsa_for(&PKCS_RSA_SHA256, RsaKeySize::_2048)
            .map_err(|e| RsaKeyError::Generate(e.to_string()))?;
        let private_pem = Zeroizing::new(pair.serialize_pem());
        Self::from_pem(private_pem.as_bytes(), pair.public_key_pem().as_bytes())
    }

    fn parse(
        private_pem: &[u8],
        public_pem: &[u8],
        private_pem_path: &Path,
        public_pem_path: &Path,
    ) -> Result<RsaKeyPair, RsaKeyError> {
        let private = parse_private(private_pem, private_pem_path)?;
        let (public_pem, public) = parse_public(public_pem, public_pem_path)?;

        let invalid = |kind, path: &Path, e: aws_lc_rs::error::Unspecified| RsaKeyError::Invalid {
            kind,
            path: path.to_path_buf(),
            detail: format!("cannot encode key: {e}"),
        };
        let from_private = private
            .public_key()
            .as_der()
            .map_err(|e| invalid(KeyKind::Private, private_pem_path, e))?;
        let from_public = public
            .as_der()
            .map_err(|e| invalid(KeyKind::Public, public_pem_path, e))?;
        if from_private.as_ref() != from_public.as_ref() {
            return Err(RsaKeyError::Mismatch {
                private: private_pem_path.to_path_buf(),
                public: public_pem_path.to_path_buf(),
            });
        }

        let modulus_len = private.key_size_bytes();
        let key = OaepPrivateDecryptingKey::new(private).map_err(|e| RsaKeyError::Invalid {
            kind: KeyKind::Private,
            path: private_pem_path.to_path_buf(),
            detail: format!("not usable for OAEP: {e}"),
        })?;
        Ok(RsaKeyPair {
            key,
            public_pem,
            modulus_len,
        })
    }

    /// The public key file's content exactly as loaded: what `AuthMoreData` sends on a
    /// public-key request and what the `Caching_sha2_password_rsa_public_key` /
    /// `Rsa_public_key` status variables show.
    pub fn public_pem(&self) -> &str {
        &self.public_pem
    }

    /// Modulus length in bytes (256 for 2048-bit keys): the only valid ciphertext length.
    pub fn modulus_len(&self) -> usize {
        self.modulus_len
    }

    /// RSAES-OAEP with SHA-1 and MGF1-SHA-1, empty label — what MySQL's server does with
    /// `RSA_private_decrypt(..., RSA_PKCS1_OAEP_PADDING)`. Constant time in aws-lc-rs. A
    /// ciphertext that is not exactly [`Self::modulus_len`] bytes or fails the padding check is
    /// an error without detail.
    pub fn decrypt_oaep_sha1(
        &self,
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, RsaDecryptError> {
        if ciphertext.len() != self.modulus_len {
            return Err(RsaDecryptError);
        }
        let mut out = Zeroizing::new(vec![0u8; self.key.min_output_size()]);
        let len = self
            .key
            .decrypt(&OAEP_SHA1_MGF1SHA1, ciphertext, &mut out, None)
            .map_err(|_| RsaDecryptError)?
            .len();
        out.truncate(len);
        Ok(out)
    }
}

fn read_key_file(kind: KeyKind, path: &Path) -> Result<Zeroizing<Vec<u8>>, RsaKeyError> {
    fs::read(path).map(Zeroizing::new).map_err(|source| {
        if source.kind() == io::ErrorKind::NotFound {
            RsaKeyError::NotFound {
                kind,
                path: path.to_path_buf(),
            }
        } else {
            RsaKeyError::Io {
                kind,
                path: path.to_path_buf(),
                source,
            }
        }
    })
}

fn parse_private(pem_bytes: &[u8], path: &Path) -> Result<PrivateDecryptingKey, RsaKeyError> {
    let invalid = |detail: String| RsaKeyError::Invalid {
        kind: KeyKind::Private,
        path: path.to_path_buf(),
        detail,
    };
    let der = PrivateKeyDer::from_pem_slice(pem_bytes).map_err(|e| match e {
        pem::Error::NoItemsFound if contains(pem_bytes, b"ENCRYPTED") => {
            invalid("encrypted private keys are not supported".into())
        }
        pem::Error::NoItemsFound => invalid("no PEM private key found".into()),
        other => invalid(format!("invalid PEM: {other}")),
    })?;
    let rejected = |e: aws_lc_rs::error::KeyRejected| invalid(format!("not a usable RSA key: {e}"));
    match der {
        PrivateKeyDer::Pkcs8(pkcs8) => {
            PrivateDecryptingKey::from_pkcs8(pkcs8.secret_pkcs8_der()).map_err(rejected)
        }
        PrivateKeyDer::Pkcs1(pkcs1) => {
            // aws-lc-rs reads PKCS#1 only through its signing key type; re-encode as PKCS#8.
            let pair =
                aws_lc_rs::rsa::KeyPair::from_der(pkcs1.secret_pkcs1_der()).map_err(rejected)?;
            let pkcs8 = pair
                .as_der()
                .map_err(|e| invalid(format!("cannot re-encode key: {e}")))?;
            PrivateDecryptingKey::from_pkcs8(pkcs8.as_ref()).map_err(rejected)
        }
        _ => Err(invalid("not an RSA key".into())),
    }
}

fn parse_public(bytes: &[u8], path: &Path) -> Result<(String, PublicEncryptingKey), RsaKeyError> {
    let invalid = |detail: String| RsaKeyError::Invalid {
        kind: KeyKind::Public,
        path: path.to_path_buf(),
        detail,
    };
    let text = String::from_utf8(bytes.to_vec()).map_err(|_| invalid("not a text file".into()))?;
    let spki = SubjectPublicKeyInfoDer::from_pem_slice(text.as_bytes()).map_err(|e| match e {
        pem::Error::NoItemsFound if text.contains("BEGIN RSA PUBLIC KEY") => invalid(
            "PKCS#1 'RSA PUBLIC KEY' is not accepted; clients need 'PUBLIC KEY' \
             (SubjectPublicKeyInfo)"
                .into(),
        ),
        pem::Error::NoItemsFound => invalid("no PEM public key found".into()),
        other => invalid(format!("invalid PEM: {other}")),
    })?;
    let key = PublicEncryptingKey::from_der(spki.as_ref())
        .map_err(|e| invalid(format!("not a usable RSA public key: {e}")))?;
    Ok((text, key))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// What [`ensure_rsa_keys`] found or did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFiles {
    /// Neither file existed and a new pair was written.
    Generated,
    /// Both files exist (they are not validated here; [`RsaKeyPair::load`] does that).
    Existing,
    /// Generation was off, or only one of the two files exists (MySQL never completes a
    /// half pair): the RSA exchange will be unavailable unless loading succeeds anyway.
    Missing,
}

/// MySQL's `caching_sha2_password_auto_generate_rsa_keys` / `sha256_password_auto_generate_rsa_keys`
/// rule: generate a 2048-bit pair only when `auto_generate` is set and **neither** file exists.
/// MySQL also requires both paths to be the defaults (`private_key.pem` / `public_key.pem` in
/// the datadir); the caller folds that into `auto_generate`.
///
/// The private key is written as PKCS#8 (`BEGIN PRIVATE KEY`, the form aws-lc-rs exports;
/// MySQL writes PKCS#1, and both load here and in MySQL) with mode 0600, the public key as
/// SubjectPublicKeyInfo (`BEGIN PUBLIC KEY`) with mode 0644; each via a temporary file and a
/// rename.
pub fn ensure_rsa_keys(
    private_path: &Path,
    public_path: &Path,
    auto_generate: bool,
) -> Result<KeyFiles, RsaKeyError> {
    let exists = |path: &Path| {
        path.try_exists().map_err(|source| RsaKeyError::Write {
            path: path.to_path_buf(),
            source,
        })
    };
    match (exists(private_path)?, exists(public_path)?) {
        (true, true) => return Ok(KeyFiles::Existing),
        (false, false) if auto_generate => {}
        _ => return Ok(KeyFiles::Missing),
    }

    let pair = KeyPair::generate_rsa_for(&PKCS_RSA_SHA256, RsaKeySize::_2048)
        .map_err(|e| RsaKeyError::Generate(e.to_string()))?;
    let private_pem = Zeroizing::new(pair.serialize_pem());
    write_file_atomic(private_path, private_pem.as_bytes(), 0o600).map_err(|source| {
        RsaKeyError::Write {
            path: private_path.to_path_buf(),
            source,
        }
    })?;
    if let Err(source) = write_file_atomic(public_path, pair.public_key_pem().as_bytes(), 0o644) {
        // Leave no half pair behind: it would block generation on every later start.
        let _ = fs::remove_file(private_path);
        return Err(RsaKeyError::Write {
            path: public_path.to_path_buf(),
            source,
        });
    }
    Ok(KeyFiles::Generated)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::pkcs1::{EncodeRsaPrivateKey, EncodeRsaPublicKey, LineEnding};
    use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
    use rsa::{Oaep, RsaPrivateKey, RsaPublicKey};
    use std::os::unix::fs::PermissionsExt;
    use std::sync::OnceLock;

    const PRIVATE: &str = "private_key.pem";
    const PUBLIC: &str = "public_key.pem";

    /// One generated pair shared by the tests (read-only).
    fn generated() -> &'static Path {
        static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
        DIR.get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let (private, public) = (dir.path().join(PRIVATE), dir.path().join(PUBLIC));
            assert_eq!(
                ensure_rsa_keys(&private, &public, true).unwrap(),
                KeyFiles::Generated
            );
            dir
        })
        .path()
    }

    fn loaded() -> RsaKeyPair {
        let dir = generated();
        RsaKeyPair::load(&dir.join(PRIVATE), &dir.join(PUBLIC)).unwrap()
    }

    fn encrypt(pair: &RsaKeyPair, msg: &[u8]) -> Vec<u8> {
        let public = RsaPublicKey::from_public_key_pem(pair.public_pem()).unwrap();
        public
            .encrypt(&mut rand::thread_rng(), Oaep::new::<sha1::Sha1>(), msg)
            .unwrap()
    }

    #[test]
    fn generates_pair_with_mysql_modes_and_loads_it() {
        let dir = generated();
        let mode = |name| fs::metadata(dir.join(name)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(PRIVATE), 0o600);
        assert_eq!(mode(PUBLIC), 0o644);
        let private = fs::read_to_string(dir.join(PRIVATE)).unwrap();
        assert!(private.starts_with("-----BEGIN PRIVATE KEY-----"));

        let pair = loaded();
        assert!(pair.public_pem().starts_with("-----BEGIN PUBLIC KEY-----"));
        assert_eq!(
            pair.public_pem(),
            fs::read_to_string(dir.join(PUBLIC)).unwrap()
        );
        assert_eq!(pair.modulus_len(), 256);
        assert_eq!(fs::read_dir(dir).unwrap().count(), 2, "no temporary files");
        let debug = format!("{pair:?}");
        assert!(debug.contains("redacted") && !debug.contains("BEGIN"));
    }

    #[test]
    fn existing_missing_and_half_pairs() {
        let dir = generated();
        let (private, public) = (dir.join(PRIVATE), dir.join(PUBLIC));
        assert_eq!(
            ensure_rsa_keys(&private, &public, true).unwrap(),
            KeyFiles::Existing
        );

        let empty = tempfile::tempdir().unwrap();
        let (private, public) = (empty.path().join(PRIVATE), empty.path().join(PUBLIC));
        assert_eq!(
            ensure_rsa_keys(&private, &public, false).unwrap(),
            KeyFiles::Missing
        );
        assert_eq!(fs::read_dir(empty.path()).unwrap().count(), 0);
        let err = RsaKeyPair::load(&private, &public).unwrap_err();
        assert!(matches!(
            err,
            RsaKeyError::NotFound {
                kind: KeyKind::Private,
                ..
            }
        ));
        assert!(err
            .to_string()
            .starts_with("RSA private key file not found: "));

        fs::copy(dir.join(PUBLIC), &public).unwrap();
        assert_eq!(
            ensure_rsa_keys(&private, &public, true).unwrap(),
            KeyFiles::Missing,
            "half a pair is never completed"
        );
        assert!(!private.exists());
    }

    #[test]
    fn decrypts_what_the_rsa_crate_encrypts() {
        let pair = loaded();
        for msg in [&b""[..], b"x", b"secret password\0", &[0xA5; 214]] {
            let ciphertext = encrypt(&pair, msg);
            assert_eq!(ciphertext.len(), 256);
            assert_eq!(&pair.decrypt_oaep_sha1(&ciphertext).unwrap()[..], msg);
        }
    }

    #[test]
    fn bad_ciphertexts_are_plain_errors() {
        let pair = loaded();
        let good = encrypt(&pair, b"secret password\0");
        assert_eq!(pair.decrypt_oaep_sha1(&[]), Err(RsaDecryptError));
        assert_eq!(pair.decrypt_oaep_sha1(&good[1..]), Err(RsaDecryptError));
        let mut long = good.clone();
        long.push(0);
        assert_eq!(pair.decrypt_oaep_sha1(&long), Err(RsaDecryptError));
        for i in [0, 100, 255] {
            let mut bad = good.clone();
            bad[i] ^= 0x01;
            assert_eq!(
                pair.decrypt_oaep_sha1(&bad),
                Err(RsaDecryptError),
                "byte {i}"
            );
        }
        // Larger than the modulus.
        assert_eq!(pair.decrypt_oaep_sha1(&[0xFF; 256]), Err(RsaDecryptError));
        // PKCS#1 v1.5 padding is not OAEP.
        let public = RsaPublicKey::from_public_key_pem(pair.public_pem()).unwrap();
        let v15 = public
            .encrypt(&mut rand::thread_rng(), rsa::Pkcs1v15Encrypt, b"pw")
            .unwrap();
        assert_eq!(pair.decrypt_oaep_sha1(&v15), Err(RsaDecryptError));
    }

    #[test]
    fn halves_of_different_pairs_are_rejected() {
        let other = tempfile::tempdir().unwrap();
        let (private, public) = (other.path().join(PRIVATE), other.path().join(PUBLIC));
        ensure_rsa_keys(&private, &public, true).unwrap();
        let err = RsaKeyPair::load(&private, &generated().join(PUBLIC)).unwrap_err();
        assert!(matches!(err, RsaKeyError::Mismatch { .. }), "{err}");
    }

    #[test]
    fn pkcs1_private_key_is_accepted_and_pkcs1_public_key_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let pkcs8 = fs::read_to_string(generated().join(PRIVATE)).unwrap();
        let key = RsaPrivateKey::from_pkcs8_pem(&pkcs8).unwrap();
        let pkcs1 = dir.path().join("pkcs1.pem");
        fs::write(&pkcs1, key.to_pkcs1_pem(LineEnding::LF).unwrap().as_bytes()).unwrap();
        assert!(fs::read_to_string(&pkcs1)
            .unwrap()
            .starts_with("-----BEGIN RSA PRIVATE KEY-----"));
        let pair = RsaKeyPair::load(&pkcs1, &generated().join(PUBLIC)).unwrap();
        let ciphertext = encrypt(&pair, b"pw");
        assert_eq!(&pair.decrypt_oaep_sha1(&ciphertext).unwrap()[..], b"pw");

        let rsa_public = dir.path().join("rsa_public.pem");
        let pem = key.to_public_key().to_pkcs1_pem(LineEnding::LF).unwrap();
        fs::write(&rsa_public, pem).unwrap();
        let err = RsaKeyPair::load(&pkcs1, &rsa_public).unwrap_err();
        assert!(matches!(
            err,
            RsaKeyError::Invalid {
                kind: KeyKind::Public,
                ..
            }
        ));
        assert!(err.to_string().contains("SubjectPublicKeyInfo"), "{err}");
    }

    #[test]
    fn non_rsa_and_garbage_files_are_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let ec = KeyPair::generate().unwrap();
        let ec_private = dir.path().join("ec.pem");
        let ec_public = dir.path().join("ec_pub.pem");
        fs::write(&ec_private, ec.serialize_pem()).unwrap();
        fs::write(&ec_public, ec.public_key_pem()).unwrap();
        let public = generated().join(PUBLIC);
        let private = generated().join(PRIVATE);

        let err = RsaKeyPair::load(&ec_private, &public).unwrap_err();
        assert!(
            matches!(
                err,
                RsaKeyError::Invalid {
                    kind: KeyKind::Private,
                    ..
                }
            ),
            "{err}"
        );
        let err = RsaKeyPair::load(&private, &ec_public).unwrap_err();
        assert!(
            matches!(
                err,
                RsaKeyError::Invalid {
                    kind: KeyKind::Public,
                    ..
                }
            ),
            "{err}"
        );
        // The files swapped.
        let err = RsaKeyPair::load(&public, &private).unwrap_err();
        assert!(
            matches!(
                err,
                RsaKeyError::Invalid {
                    kind: KeyKind::Private,
                    ..
                }
            ),
            "{err}"
        );
        let garbage = dir.path().join("garbage.pem");
        fs::write(&garbage, [0xFF, 0x00, 0x41]).unwrap();
        let err = RsaKeyPair::load(&private, &garbage).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("Failure to parse RSA public key (file exists): "),
            "{err}"
        );
    }

    #[test]
    fn decrypts_openssl_pkeyutl_oaep_output() {
        let openssl = Path::new("/usr/bin/openssl");
        if !openssl.exists() {
            eprintln!("skipping: {} not found", openssl.display());
            return;
        }
        let pair = loaded();
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.bin");
        let output = dir.path().join("out.bin");
        fs::write(&input, b"from openssl\0").unwrap();
        let status = std::process::Command::new(openssl)
            .args(["pkeyutl", "-encrypt", "-pubin", "-inkey"])
            .arg(generated().join(PUBLIC))
            .args(["-pkeyopt", "rsa_padding_mode:oaep", "-in"])
            .arg(&input)
            .arg("-out")
            .arg(&output)
            .status()
            .unwrap();
        assert!(status.success());
        let ciphertext = fs::read(&output).unwrap();
        assert_eq!(
            &pair.decrypt_oaep_sha1(&ciphertext).unwrap()[..],
            b"from openssl\0"
        );
    }
}
