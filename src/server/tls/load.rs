//! Loading what a TLS context is built from: `ssl_cert` (PEM chain), `ssl_key` (PEM key), and
//! the client-certificate trust: `ssl_ca` / `ssl_capath` (CA certificates) and `ssl_crl` /
//! `ssl_crlpath` (CRLs), with MySQL's checks and error texts.
//!
//! Owns reading and checking the material. It never builds the rustls context (that is
//! [`super::context`]) and never writes files.

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::crypto::aws_lc_rs;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;
use rustls::RootCertStore;
use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::FromDer;
use zeroize::Zeroizing;

use super::{CertInfo, TlsFileError};

/// Where client certificates are checked against: `ssl_ca` (a PEM bundle), `ssl_capath` (a
/// directory of PEM CA files), `ssl_crl` (a PEM file of CRLs), `ssl_crlpath` (a directory of PEM
/// CRL files).
#[derive(Debug, Clone, Copy, Default)]
pub struct TrustFiles<'a> {
    /// `ssl_ca`: a PEM bundle of CA certificates.
    pub ca: Option<&'a Path>,
    /// `ssl_capath`: a directory of PEM CA files.
    pub capath: Option<&'a Path>,
    /// `ssl_crl`: a PEM file of CRLs.
    pub crl: Option<&'a Path>,
    /// `ssl_crlpath`: a directory of PEM CRL files.
    pub crlpath: Option<&'a Path>,
}

impl<'a> TrustFiles<'a> {
    /// Only `ssl_ca`.
    pub fn ca(ca: Option<&'a Path>) -> TrustFiles<'a> {
        TrustFiles {
            ca,
            ..TrustFiles::default()
        }
    }
}

/// What the server needs from `ssl_cert`, `ssl_key` and the [`TrustFiles`] to build a
/// [`rustls::ServerConfig`] (see [`super::server_config`]).
pub struct TlsMaterial {
    /// The PEM certificates of `ssl_cert`, leaf first.
    pub cert_chain: Vec<CertificateDer<'static>>,
    /// The private key of `ssl_key`.
    pub key: PrivateKeyDer<'static>,
    /// Trust anchors from `ssl_ca` and `ssl_capath`; `None` when neither is configured (no
    /// client certificates are requested).
    pub client_roots: Option<Arc<RootCertStore>>,
    /// CRLs from `ssl_crl` and `ssl_crlpath`; when any are loaded, every certificate of a client's
    /// chain must be covered by a current CRL of its issuer and not listed (OpenSSL's
    /// `X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL`, which MySQL sets).
    pub crls: Vec<CertificateRevocationListDer<'static>>,
    /// The leaf certificate as `Ssl_server_not_before` / `Ssl_server_not_after` show it.
    pub server_cert: CertInfo,
}

impl fmt::Debug for TlsMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsMaterial")
            .field("cert_chain_len", &self.cert_chain.len())
            .field("key", &"<redacted>")
            .field("client_roots", &self.client_roots.as_ref().map(|r| r.len()))
            .field("crls", &self.crls.len())
            .field("server_cert", &self.server_cert)
            .finish()
    }
}

/// Where an input came from, which decides the error variant: a file (named in the text) or
/// memory.
#[derive(Debug, Clone, Copy)]
pub(super) enum Origin<'a> {
    /// A file or directory.
    File(&'a Path),
    /// Bytes or rustls types handed over by the embedder.
    Memory,
}

impl Origin<'_> {
    fn cert_invalid(self, detail: String) -> TlsFileError {
        match self {
            Origin::File(path) => TlsFileError::CertificateInvalid {
                path: path.to_path_buf(),
                detail,
            },
            Origin::Memory => TlsFileError::CertificateInMemory { detail },
        }
    }

    fn key_invalid(self, detail: String) -> TlsFileError {
        match self {
            Origin::File(path) => TlsFileError::KeyInvalid {
                path: path.to_path_buf(),
                detail,
            },
            Origin::Memory => TlsFileError::KeyInMemory { detail },
        }
    }

    fn ca_invalid(self, detail: String) -> TlsFileError {
        match self {
            Origin::File(path) => TlsFileError::CaInvalid {
                path: path.to_path_buf(),
                detail,
            },
            Origin::Memory => TlsFileError::CaInMemory { detail },
        }
    }

    fn crl_invalid(self, detail: String) -> TlsFileError {
        match self {
            Origin::File(path) => TlsFileError::CrlInvalid {
                path: path.to_path_buf(),
                detail,
            },
            Origin::Memory => TlsFileError::CrlInMemory { detail },
        }
    }
}

/// The server's certificate chain and private key, checked to belong together, with the leaf's
/// printable facts.
pub(super) struct Identity {
    /// Leaf first.
    pub cert_chain: Vec<CertificateDer<'static>>,
    /// The leaf's private key.
    pub key: PrivateKeyDer<'static>,
    /// The leaf as `Ssl_server_not_before` / `Ssl_server_not_after` show it.
    pub server_cert: CertInfo,
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("cert_chain_len", &self.cert_chain.len())
            .field("key", &"<redacted>")
            .field("server_cert", &self.server_cert)
            .finish()
    }
}

impl Identity {
    /// `ssl_cert` and `ssl_key`, read and checked in MySQL's order: the certificate file is
    /// read and parsed before the key file is opened.
    pub(super) fn from_files(cert: &Path, key: &Path) -> Result<Identity, TlsFileError> {
        let cert_pem = fs::read(cert).map_err(|source| TlsFileError::CertificateIo {
            path: cert.to_path_buf(),
            source,
        })?;
        let cert_chain = chain_from_pem(&cert_pem, Origin::File(cert))?;
        let server_cert = leaf_info(&cert_chain, Origin::File(cert))?;
        let key_pem = Zeroizing::new(fs::read(key).map_err(|source| TlsFileError::KeyIo {
            path: key.to_path_buf(),
            source,
        })?);
        let key_der = key_from_pem(&key_pem, Origin::File(key))?;
        check_pair(&cert_chain, &key_der, Origin::File(cert), Origin::File(key))?;
        Ok(Identity {
            cert_chain,
            key: key_der,
            server_cert,
        })
    }

    /// A PEM chain (leaf first) and a PEM key given in memory, with the checks files get.
    pub(super) fn from_pem(
        cert_chain_pem: &[u8],
        key_pem: &[u8],
    ) -> Result<Identity, TlsFileError> {
        let cert_chain = chain_from_pem(cert_chain_pem, Origin::Memory)?;
        let server_cert = leaf_info(&cert_chain, Origin::Memory)?;
        let key = key_from_pem(key_pem, Origin::Memory)?;
        check_pair(&cert_chain, &key, Origin::Memory, Origin::Memory)?;
        Ok(Identity {
            cert_chain,
            key,
            server_cert,
        })
    }

    /// A DER chain (leaf first) and key given in memory, with the checks files get.
    pub(super) fn from_der(
        cert_chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> Result<Identity, TlsFileError> {
        let server_cert = leaf_info(&cert_chain, Origin::Memory)?;
        check_pair(&cert_chain, &key, Origin::Memory, Origin::Memory)?;
        Ok(Identity {
            cert_chain,
            key,
            server_cert,
        })
    }
}

/// Every PEM certificate of `pem` (other PEM blocks are skipped); at least one.
fn chain_from_pem(
    pem: &[u8],
    origin: Origin<'_>,
) -> Result<Vec<CertificateDer<'static>>, TlsFileError> {
    let chain = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| origin.cert_invalid(format!("invalid PEM: {e}")))?;
    if chain.is_empty() {
        return Err(origin.cert_invalid("no PEM certificate found".into()));
    }
    Ok(chain)
}

/// The leaf (first) certificate's facts; the leaf must parse as X.509.
fn leaf_info(chain: &[CertificateDer<'_>], origin: Origin<'_>) -> Result<CertInfo, TlsFileError> {
    let leaf = chain
        .first()
        .ok_or_else(|| origin.cert_invalid("no certificate given".into()))?;
    let (_, parsed) = X509Certificate::from_der(leaf)
        .map_err(|e| origin.cert_invalid(format!("invalid certificate: {e}")))?;
    Ok(CertInfo::of(&parsed))
}

/// The first PEM private key of `pem`: unencrypted PKCS#1, PKCS#8 or SEC1.
fn key_from_pem(pem: &[u8], origin: Origin<'_>) -> Result<PrivateKeyDer<'static>, TlsFileError> {
    PrivateKeyDer::from_pem_slice(pem).map_err(|e| match e {
        rustls::pki_types::pem::Error::NoItemsFound => origin.key_invalid(no_key_detail(pem)),
        other => origin.key_invalid(format!("invalid PEM: {other}")),
    })
}

/// The key must be one aws-lc-rs can sign with and belong to the leaf certificate — what
/// MySQL's `new_VioSSLFd` checks (`SSL_CTX_check_private_key`) before a context becomes active.
fn check_pair(
    chain: &[CertificateDer<'static>],
    key: &PrivateKeyDer<'static>,
    cert_origin: Origin<'_>,
    key_origin: Origin<'_>,
) -> Result<(), TlsFileError> {
    let provider = aws_lc_rs::default_provider();
    let signing_key = provider
        .key_provider
        .load_private_key(key.clone_key())
        .map_err(|e| key_origin.key_invalid(format!("unsupported key: {e}")))?;
    match CertifiedKey::new(chain.to_vec(), signing_key).keys_match() {
        Ok(()) => Ok(()),
        Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch)) => {
            Err(match (cert_origin, key_origin) {
                (Origin::File(cert), Origin::File(key)) => TlsFileError::KeyMismatch {
                    cert: cert.to_path_buf(),
                    key: key.to_path_buf(),
                },
                _ => TlsFileError::KeyMismatchInMemory,
            })
        }
        // aws-lc-rs can always derive the public key; if some key type could not, OpenSSL's
        // check would not run either.
        Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => Ok(()),
        Err(e) => Err(cert_origin.cert_invalid(format!("invalid certificate: {e}"))),
    }
}

/// Loads `ssl_cert` (PEM chain, leaf first), `ssl_key` (unencrypted PKCS#1, PKCS#8 or SEC1 PEM)
/// and the optional trust files, and checks that the key belongs to the leaf certificate —
/// what MySQL's `new_VioSSLFd` checks before a context becomes active (startup and
/// `ALTER INSTANCE RELOAD TLS`).
pub fn load_tls_material(
    cert: &Path,
    key: &Path,
    trust: &TrustFiles<'_>,
) -> Result<TlsMaterial, TlsFileError> {
    let Identity {
        cert_chain,
        key,
        server_cert,
    } = Identity::from_files(cert, key)?;
    let client_roots = load_client_roots(trust.ca, trust.capath)?;
    let crls = load_crls(trust.crl, trust.crlpath)?;
    Ok(TlsMaterial {
        cert_chain,
        key,
        client_roots,
        crls,
        server_cert,
    })
}

/// CRLs from the `ssl_crl` file (at least one) and every file of the `ssl_crlpath` directory
/// (files without a PEM CRL add nothing).
pub(super) fn load_crls(
    crl: Option<&Path>,
    crlpath: Option<&Path>,
) -> Result<Vec<CertificateRevocationListDer<'static>>, TlsFileError> {
    let mut crls = Vec::new();
    if let Some(path) = crl {
        let pem = fs::read(path).map_err(|source| TlsFileError::CrlIo {
            path: path.to_path_buf(),
            source,
        })?;
        let found = read_crls(&pem, Origin::File(path), &mut crls)?;
        if found == 0 {
            return Err(Origin::File(path).crl_invalid("no PEM CRL found".into()));
        }
    }
    if let Some(dir) = crlpath {
        for file in dir_files(dir).map_err(|source| TlsFileError::CrlIo {
            path: dir.to_path_buf(),
            source,
        })? {
            let pem = fs::read(&file).map_err(|source| TlsFileError::CrlIo {
                path: file.clone(),
                source,
            })?;
            read_crls(&pem, Origin::File(&file), &mut crls)?;
        }
    }
    Ok(crls)
}

/// The PEM CRLs of `pem` given in memory (other PEM blocks are skipped); at least one.
pub(super) fn crls_from_pem(
    pem: &[u8],
) -> Result<Vec<CertificateRevocationListDer<'static>>, TlsFileError> {
    let mut crls = Vec::new();
    if read_crls(pem, Origin::Memory, &mut crls)? == 0 {
        return Err(Origin::Memory.crl_invalid("no PEM CRL found".into()));
    }
    Ok(crls)
}

/// The regular files of a directory (symlinks followed), in name order.
fn dir_files(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Appends the PEM CRLs of `pem` (other PEM blocks are skipped); returns how many were found.
fn read_crls(
    pem: &[u8],
    origin: Origin<'_>,
    out: &mut Vec<CertificateRevocationListDer<'static>>,
) -> Result<usize, TlsFileError> {
    let before = out.len();
    for crl in CertificateRevocationListDer::pem_slice_iter(pem) {
        out.push(crl.map_err(|e| origin.crl_invalid(format!("invalid PEM: {e}")))?);
    }
    Ok(out.len() - before)
}

/// Explains why no key was found in a key file, naming the formats we refuse.
fn no_key_detail(pem: &[u8]) -> String {
    let has = |needle: &[u8]| pem.windows(needle.len()).any(|w| w == needle);
    if has(b"ENCRYPTED") {
        "encrypted private keys are not supported".into()
    } else if has(b"-----BEGIN CERTIFICATE-----") {
        "file holds a certificate, not a private key".into()
    } else {
        "no PEM private key found".into()
    }
}

/// Trust anchors from the `ssl_ca` bundle (every certificate must be usable, at least one) and
/// the `ssl_capath` directory (every certificate of every file that holds PEM certificates —
/// a superset of what OpenSSL's hashed-name lookup would find). The directory must be readable
/// (OpenSSL would only notice at the first verification), and hold a certificate unless `ssl_ca`
/// is set too.
pub(super) fn load_client_roots(
    ca: Option<&Path>,
    capath: Option<&Path>,
) -> Result<Option<Arc<RootCertStore>>, TlsFileError> {
    if ca.is_none() && capath.is_none() {
        return Ok(None);
    }
    let mut roots = RootCertStore::empty();
    if let Some(path) = ca {
        let pem = fs::read(path).map_err(|source| TlsFileError::CaIo {
            path: path.to_path_buf(),
            source,
        })?;
        if add_roots_pem(&pem, Origin::File(path), &mut roots)? == 0 {
            return Err(Origin::File(path).ca_invalid("no PEM certificate found".into()));
        }
    }
    if let Some(dir) = capath {
        let io = |path: &Path, source| TlsFileError::CaIo {
            path: path.to_path_buf(),
            source,
        };
        let mut found = 0;
        for file in dir_files(dir).map_err(|e| io(dir, e))? {
            let pem = fs::read(&file).map_err(|e| io(&file, e))?;
            found += add_roots_pem(&pem, Origin::File(&file), &mut roots)?;
        }
        // With `ssl_ca` beside it an empty directory only adds nothing (OpenSSL would not
        // look into it before a verification either); alone it would leave nothing to trust.
        if found == 0 && ca.is_none() {
            return Err(
                Origin::File(dir).ca_invalid("no PEM certificate found in the directory".into())
            );
        }
    }
    Ok(Some(Arc::new(roots)))
}

/// Adds the PEM certificates of `pem` (other PEM blocks are skipped); returns how many.
pub(super) fn add_roots_pem(
    pem: &[u8],
    origin: Origin<'_>,
    roots: &mut RootCertStore,
) -> Result<usize, TlsFileError> {
    let mut found = 0;
    for cert in CertificateDer::pem_slice_iter(pem) {
        let cert = cert.map_err(|e| origin.ca_invalid(format!("invalid PEM: {e}")))?;
        add_root(cert, origin, roots)?;
        found += 1;
    }
    Ok(found)
}

/// Adds one CA certificate as a trust anchor.
pub(super) fn add_root(
    cert: CertificateDer<'_>,
    origin: Origin<'_>,
    roots: &mut RootCertStore,
) -> Result<(), TlsFileError> {
    roots
        .add(cert)
        .map_err(|e| origin.ca_invalid(format!("unusable CA certificate: {e}")))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{client_config, generated, handshake, material, now};
    use super::super::{
        auto_generate_certs, default_versions, server_config, CA_CERT_FILE, CA_KEY_FILE,
        CLIENT_KEY_FILE, SERVER_CERT_FILE, SERVER_KEY_FILE,
    };
    use super::*;
    use rcgen::{CertificateParams, DistinguishedName, DnType, KeyUsagePurpose, SerialNumber};
    use rustls::ServerConfig;

    #[test]
    fn loads_generated_material() {
        let m = material(true);
        assert_eq!(m.cert_chain.len(), 1);
        assert_eq!(m.client_roots.as_ref().unwrap().len(), 1);
        assert_eq!(
            m.server_cert,
            CertInfo {
                not_before: "Nov 21 18:29:02 2026 GMT".into(),
                not_after: "Nov 18 18:29:02 2036 GMT".into(),
                subject: "/CN=Vestibule_Auto_Generated_Server_Certificate".into(),
                issuer: "/CN=Vestibule_Auto_Generated_CA_Certificate".into(),
            }
        );
        assert!(!format!("{m:?}").contains("Pkcs8"), "key not printed");
        assert!(material(false).client_roots.is_none());
    }

    #[test]
    fn mismatched_key_is_rejected_with_mysql_text() {
        let dir = generated();
        let err = load_tls_material(
            &dir.join(SERVER_CERT_FILE),
            &dir.join(CLIENT_KEY_FILE),
            &TrustFiles::default(),
        )
        .unwrap_err();
        assert!(matches!(err, TlsFileError::KeyMismatch { .. }));
        assert!(err
            .to_string()
            .starts_with("Private key does not match the certificate public key"));
    }

    #[test]
    fn unreadable_or_wrong_files_give_mysql_texts() {
        let dir = generated();
        let scratch = tempfile::tempdir().unwrap();
        let missing = scratch.path().join("nope.pem");
        let cert = dir.join(SERVER_CERT_FILE);
        let key = dir.join(SERVER_KEY_FILE);

        let err = load_tls_material(&missing, &key, &TrustFiles::default()).unwrap_err();
        assert!(matches!(err, TlsFileError::CertificateIo { .. }));
        let msg = err.to_string();
        assert!(msg.starts_with("Unable to get certificate from '"), "{msg}");
        assert!(
            msg.contains("nope.pem") && msg.contains("No such file"),
            "{msg}"
        );

        // A key file passed as the certificate: no CERTIFICATE section.
        let err = load_tls_material(&key, &key, &TrustFiles::default()).unwrap_err();
        assert!(
            matches!(err, TlsFileError::CertificateInvalid { .. }),
            "{err}"
        );

        let err = load_tls_material(&cert, &missing, &TrustFiles::default()).unwrap_err();
        assert!(err
            .to_string()
            .starts_with("Unable to get private key from '"));
        let err = load_tls_material(&cert, &cert, &TrustFiles::default()).unwrap_err();
        assert!(err.to_string().contains("holds a certificate"), "{err}");

        let encrypted = scratch.path().join("enc.pem");
        fs::write(
            &encrypted,
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
        )
        .unwrap();
        let err = load_tls_material(&cert, &encrypted, &TrustFiles::default()).unwrap_err();
        assert!(err.to_string().contains("encrypted private keys"), "{err}");

        let err = load_tls_material(&cert, &key, &TrustFiles::ca(Some(&missing))).unwrap_err();
        assert!(matches!(err, TlsFileError::CaIo { .. }));
        assert!(err
            .to_string()
            .starts_with("SSL_CTX_set_default_verify_paths failed"));
        let err = load_tls_material(&cert, &key, &TrustFiles::ca(Some(&key))).unwrap_err();
        assert!(matches!(err, TlsFileError::CaInvalid { .. }), "{err}");
    }

    /// A CRL signed by the generated CA, valid `from..until` (years), revoking `serials`.
    fn crl_pem(signer_dir: &Path, serials: &[u8], from: i32, until: i32) -> String {
        use rcgen::{
            date_time_ymd, CertificateRevocationListParams, Issuer, KeyIdMethod, KeyPair,
            RevocationReason, RevokedCertParams,
        };
        let key =
            KeyPair::from_pem(&fs::read_to_string(signer_dir.join(CA_KEY_FILE)).unwrap()).unwrap();
        // The generated CA's name and key usages; the CRL names its issuer by them.
        let mut ca = CertificateParams::default();
        ca.distinguished_name = DistinguishedName::new();
        ca.distinguished_name.push(
            DnType::CommonName,
            "Vestibule_Auto_Generated_CA_Certificate",
        );
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let issuer = Issuer::new(ca, key);
        let params = CertificateRevocationListParams {
            this_update: date_time_ymd(from, 1, 1),
            next_update: date_time_ymd(until, 1, 1),
            crl_number: SerialNumber::from(vec![1]),
            issuing_distribution_point: None,
            revoked_certs: serials
                .iter()
                .map(|&n| RevokedCertParams {
                    serial_number: SerialNumber::from(vec![n]),
                    revocation_time: date_time_ymd(from, 1, 1),
                    reason_code: Some(RevocationReason::KeyCompromise),
                    invalidity_date: None,
                })
                .collect(),
            key_identifier_method: KeyIdMethod::Sha256,
        };
        params.signed_by(&issuer).unwrap().pem().unwrap()
    }

    fn crl_config(trust: &TrustFiles<'_>) -> Result<Arc<ServerConfig>, TlsFileError> {
        let dir = generated();
        let m = load_tls_material(
            &dir.join(SERVER_CERT_FILE),
            &dir.join(SERVER_KEY_FILE),
            trust,
        )?;
        server_config(&m, &default_versions(), None)
    }

    /// `ssl_crl` / `ssl_crlpath`: a revoked client certificate is refused in the handshake, an
    /// unrevoked one and a client without one are accepted; a stale CRL, or one from another
    /// issuer (no CRL covers the client's issuer), fails closed as OpenSSL's CRL_CHECK_ALL does.
    #[test]
    fn client_certificates_are_checked_against_crls() {
        let dir = generated();
        let ca = dir.join(CA_CERT_FILE);
        let files = tempfile::tempdir().unwrap();
        let write = |name: &str, pem: &str| {
            let p = files.path().join(name);
            fs::write(&p, pem).unwrap();
            p
        };
        let revoked = write("revoked.pem", &crl_pem(dir, &[3], 2020, 2100));
        let other = write("other.pem", &crl_pem(dir, &[2, 9], 2020, 2100));
        let stale = write("stale.pem", &crl_pem(dir, &[], 2020, 2021));
        let foreign_ca = tempfile::tempdir().unwrap();
        auto_generate_certs(foreign_ca.path(), "", now()).unwrap();
        let foreign = write("foreign.pem", &crl_pem(foreign_ca.path(), &[], 2020, 2100));

        let with_crl = |crl: &Path| {
            crl_config(&TrustFiles {
                ca: Some(&ca),
                crl: Some(crl),
                ..TrustFiles::default()
            })
            .unwrap()
        };
        let client = || client_config(Some(generated()));

        let err = handshake(with_crl(&revoked), client(), "localhost").unwrap_err();
        assert!(
            matches!(
                err,
                rustls::Error::InvalidCertificate(rustls::CertificateError::Revoked)
            ),
            "{err}"
        );
        handshake(with_crl(&revoked), client_config(None), "localhost").unwrap();
        handshake(with_crl(&other), client(), "localhost").unwrap();
        let err = handshake(with_crl(&stale), client(), "localhost").unwrap_err();
        assert!(
            format!("{err:?}").contains("ExpiredRevocationList"),
            "{err:?}"
        );
        for crl in [&stale, &foreign] {
            let err = handshake(with_crl(crl), client(), "localhost").unwrap_err();
            assert!(
                matches!(
                    err,
                    rustls::Error::InvalidCertificate(_)
                        | rustls::Error::InvalidCertRevocationList(_)
                ),
                "{}: {err}",
                crl.display()
            );
        }

        // The same CRL found in an `ssl_crlpath` directory (next to a file that is not a CRL).
        let crldir = tempfile::tempdir().unwrap();
        fs::copy(&revoked, crldir.path().join("0a1b2c3d.r0")).unwrap();
        fs::write(crldir.path().join("README"), "not a CRL").unwrap();
        let config = crl_config(&TrustFiles {
            ca: Some(&ca),
            crlpath: Some(crldir.path()),
            ..TrustFiles::default()
        })
        .unwrap();
        assert!(handshake(config, client(), "localhost").is_err());

        // Files that cannot be used are errors with MySQL's 3888 text.
        let missing = files.path().join("missing.pem");
        let not_crl = write("not_crl.pem", &fs::read_to_string(&ca).unwrap());
        let broken = write(
            "broken.pem",
            "-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n",
        );
        for (crl, expect) in [
            (&missing, "cannot read CRL"),
            (&not_crl, "no PEM CRL found"),
            (&broken, "unusable CRL"),
        ] {
            let err = crl_config(&TrustFiles {
                ca: Some(&ca),
                crl: Some(crl),
                ..TrustFiles::default()
            })
            .unwrap_err()
            .to_string();
            assert!(
                err.starts_with("SSL_CTX_set_default_verify_paths failed") && err.contains(expect),
                "{err}"
            );
        }
    }

    /// `ssl_capath`: every PEM certificate file of the directory is a trust anchor, alone or
    /// with `ssl_ca`; a directory without any is refused.
    #[test]
    fn capath_directory_supplies_trust_anchors() {
        let dir = generated();
        let capath = tempfile::tempdir().unwrap();
        fs::copy(dir.join(CA_CERT_FILE), capath.path().join("1a2b3c4d.0")).unwrap();
        fs::write(capath.path().join("notes.txt"), "no certificates here").unwrap();
        let m = load_tls_material(
            &dir.join(SERVER_CERT_FILE),
            &dir.join(SERVER_KEY_FILE),
            &TrustFiles {
                capath: Some(capath.path()),
                ..TrustFiles::default()
            },
        )
        .unwrap();
        assert_eq!(m.client_roots.as_ref().map(|r| r.len()), Some(1));
        let config = server_config(&m, &default_versions(), None).unwrap();
        let server = handshake(config, client_config(Some(dir)), "localhost").unwrap();
        assert!(server.peer_certificates().is_some());

        let empty = tempfile::tempdir().unwrap();
        let err = crl_config(&TrustFiles {
            capath: Some(empty.path()),
            ..TrustFiles::default()
        })
        .unwrap_err();
        assert!(matches!(err, TlsFileError::CaInvalid { .. }), "{err}");
        let ca = dir.join(CA_CERT_FILE);
        crl_config(&TrustFiles {
            ca: Some(&ca),
            capath: Some(empty.path()),
            ..TrustFiles::default()
        })
        .unwrap();
        let err = crl_config(&TrustFiles {
            capath: Some(&empty.path().join("nope")),
            ..TrustFiles::default()
        })
        .unwrap_err();
        assert!(matches!(err, TlsFileError::CaIo { .. }), "{err}");
    }
}
