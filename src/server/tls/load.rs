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

/// Loads `ssl_cert` (PEM chain, leaf first), `ssl_key` (unencrypted PKCS#1, PKCS#8 or SEC1 PEM)
/// and the optional trust files, and checks that the key belongs to the leaf certificate —
/// what MySQL's `new_VioSSLFd` checks before a context becomes active (startup and
/// `ALTER INSTANCE RELOAD TLS`).
pub fn load_tls_material(
    cert: &Path,
    key: &Path,
    trust: &TrustFiles<'_>,
) -> Result<TlsMaterial, TlsFileError> {
    let cert_invalid = |detail: String| TlsFileError::CertificateInvalid {
        path: cert.to_path_buf(),
        detail,
    };
    let key_invalid = |detail: String| TlsFileError::KeyInvalid {
        path: key.to_path_buf(),
        detail,
    };

    let cert_pem = fs::read(cert).map_err(|source| TlsFileError::CertificateIo {
        path: cert.to_path_buf(),
        source,
    })?;
    let cert_chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| cert_invalid(format!("invalid PEM: {e}")))?;
    let leaf = cert_chain
        .first()
        .ok_or_else(|| cert_invalid("no PEM certificate found".into()))?;
    let server_cert = {
        let (_, parsed) = X509Certificate::from_der(leaf)
            .map_err(|e| cert_invalid(format!("invalid certificate: {e}")))?;
        CertInfo::of(&parsed)
    };

    let key_pem = Zeroizing::new(fs::read(key).map_err(|source| TlsFileError::KeyIo {
        path: key.to_path_buf(),
        source,
    })?);
    let private_key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| match e {
        rustls::pki_types::pem::Error::NoItemsFound => key_invalid(no_key_detail(&key_pem)),
        other => key_invalid(format!("invalid PEM: {other}")),
    })?;

    let provider = aws_lc_rs::default_provider();
    let signing_key = provider
        .key_provider
        .load_private_key(private_key.clone_key())
        .map_err(|e| key_invalid(format!("unsupported key: {e}")))?;
    match CertifiedKey::new(cert_chain.clone(), signing_key).keys_match() {
        Ok(()) => {}
        Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch)) => {
            return Err(TlsFileError::KeyMismatch {
                cert: cert.to_path_buf(),
                key: key.to_path_buf(),
            })
        }
        // aws-lc-rs can always derive the public key; if some key type could not, OpenSSL's
        // check would not run either.
        Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => {}
        Err(e) => return Err(cert_invalid(format!("invalid certificate: {e}"))),
    }

    let client_roots = load_client_roots(trust.ca, trust.capath)?;
    let crls = load_crls(trust.crl, trust.crlpath)?;
    Ok(TlsMaterial {
        cert_chain,
        key: private_key,
        client_roots,
        crls,
        server_cert,
    })
}

/// CRLs from the `ssl_crl` file (at least one) and every file of the `ssl_crlpath` directory
/// (files without a PEM CRL add nothing).
fn load_crls(
    crl: Option<&Path>,
    crlpath: Option<&Path>,
) -> Result<Vec<CertificateRevocationListDer<'static>>, TlsFileError> {
    let mut crls = Vec::new();
    if let Some(path) = crl {
        let pem = fs::read(path).map_err(|source| TlsFileError::CrlIo {
            path: path.to_path_buf(),
            source,
        })?;
        let found = read_crls(&pem, path, &mut crls)?;
        if found == 0 {
            return Err(TlsFileError::CrlInvalid {
                path: path.to_path_buf(),
                detail: "no PEM CRL found".into(),
            });
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
            read_crls(&pem, &file, &mut crls)?;
        }
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
    path: &Path,
    out: &mut Vec<CertificateRevocationListDer<'static>>,
) -> Result<usize, TlsFileError> {
    let before = out.len();
    for crl in CertificateRevocationListDer::pem_slice_iter(pem) {
        out.push(crl.map_err(|e| TlsFileError::CrlInvalid {
            path: path.to_path_buf(),
            detail: format!("invalid PEM: {e}"),
        })?);
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
fn load_client_roots(
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
        if add_roots(&pem, path, &mut roots)? == 0 {
            return Err(TlsFileError::CaInvalid {
                path: path.to_path_buf(),
                detail: "no PEM certificate found".into(),
            });
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
            found += add_roots(&pem, &file, &mut roots)?;
        }
        // With `ssl_ca` beside it an empty directory only adds nothing (OpenSSL would not
        // look into it before a verification either); alone it would leave nothing to trust.
        if found == 0 && ca.is_none() {
            return Err(TlsFileError::CaInvalid {
                path: dir.to_path_buf(),
                detail: "no PEM certificate found in the directory".into(),
            });
        }
    }
    Ok(Some(Arc::new(roots)))
}

/// Adds the PEM certificates of `pem` (other PEM blocks are skipped); returns how many.
fn add_roots(pem: &[u8], path: &Path, roots: &mut RootCertStore) -> Result<usize, TlsFileError> {
    let invalid = |detail: String| TlsFileError::CaInvalid {
        path: path.to_path_buf(),
        detail,
    };
    let mut found = 0;
    for cert in CertificateDer::pem_slice_iter(pem) {
        let cert = cert.map_err(|e| invalid(format!("invalid PEM: {e}")))?;
        roots
            .add(cert)
            .map_err(|e| invalid(format!("unusable CA certificate: {e}")))?;
        found += 1;
    }
    Ok(found)
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
