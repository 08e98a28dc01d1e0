//! TLS files on disk: MySQL's `auto_generate_certs`, loading `ssl_cert` / `ssl_key` / `ssl_ca` into
//! a rustls [`ServerConfig`], and describing certificates the way OpenSSL (and so MySQL) prints them.
//!
//! This module owns the file formats and the rustls configuration (aws-lc-rs provider only, MySQL's
//! verify mode 5). It reads the files it is pointed at and writes the six auto-generated files; it
//! never listens on sockets, never decides *when* to reload (that is `ALTER INSTANCE RELOAD TLS`'s
//! caller) and never evaluates REQUIRE rules: [`describe_cert`] only turns a peer certificate into
//! the strings the core's REQUIRE check compares.

use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, RsaKeySize, SanType, SerialNumber, PKCS_RSA_SHA256,
};
use rustls::crypto::aws_lc_rs;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer, ServerName};
use rustls::server::WebPkiClientVerifier;
use rustls::sign::CertifiedKey;
use rustls::{RootCertStore, ServerConfig, SupportedCipherSuite, SupportedProtocolVersion};
use x509_parser::asn1_rs::Tag;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::FromDer;
use x509_parser::time::ASN1Time;
use x509_parser::x509::X509Name;
use zeroize::Zeroizing;

/// `ca-key.pem`: the auto-generated CA's private key (mode 0600).
pub const CA_KEY_FILE: &str = "ca-key.pem";
/// `ca.pem`: the auto-generated self-signed CA certificate; becomes `ssl_ca`.
pub const CA_CERT_FILE: &str = "ca.pem";
/// `server-key.pem`: the server's private key; becomes `ssl_key`.
pub const SERVER_KEY_FILE: &str = "server-key.pem";
/// `server-cert.pem`: the server certificate signed by the CA; becomes `ssl_cert`.
pub const SERVER_CERT_FILE: &str = "server-cert.pem";
/// `client-key.pem`: a client private key for `mysql --ssl-key`.
pub const CLIENT_KEY_FILE: &str = "client-key.pem";
/// `client-cert.pem`: a client certificate signed by the CA, for `mysql --ssl-cert`.
pub const CLIENT_CERT_FILE: &str = "client-cert.pem";

/// The files whose presence stops auto-generation (MySQL checks exactly these three).
const TRIGGER_FILES: [&str; 3] = [CA_CERT_FILE, SERVER_CERT_FILE, SERVER_KEY_FILE];

/// MySQL's validity period for generated certificates: 10 × 365 days, leap days ignored.
const VALIDITY_SECS: i64 = 10 * 365 * 24 * 60 * 60;

const PRIVATE_MODE: u32 = 0o600;
const PUBLIC_MODE: u32 = 0o644;

/// Errors from the TLS files. Where MySQL has a library-error text for the same failure
/// (the `%s` of ER 3888 "Failed to set up SSL because of the following SSL library error: %s")
/// the message starts with that text; the path and the underlying cause follow.
#[derive(Debug, thiserror::Error)]
pub enum TlsFileError {
    /// The certificate file (`ssl_cert`) could not be read.
    #[error("Unable to get certificate from '{}': {source}", path.display())]
    CertificateIo { path: PathBuf, source: io::Error },
    /// The certificate file was read but holds no usable PEM certificate.
    #[error("Unable to get certificate from '{}': {detail}", path.display())]
    CertificateInvalid { path: PathBuf, detail: String },
    /// The key file (`ssl_key`) could not be read.
    #[error("Unable to get private key from '{}': {source}", path.display())]
    KeyIo { path: PathBuf, source: io::Error },
    /// The key file holds no usable unencrypted PKCS#1, PKCS#8 or SEC1 key.
    #[error("Unable to get private key from '{}': {detail}", path.display())]
    KeyInvalid { path: PathBuf, detail: String },
    /// The key is not the one the leaf certificate was issued for.
    #[error(
        "Private key does not match the certificate public key (certificate '{}', key '{}')",
        cert.display(),
        key.display()
    )]
    KeyMismatch { cert: PathBuf, key: PathBuf },
    /// The CA bundle (`ssl_ca`) could not be read. MySQL reports every `ssl_ca` failure with
    /// this library text.
    #[error(
        "SSL_CTX_set_default_verify_paths failed: cannot read CA file '{}': {source}",
        path.display()
    )]
    CaIo { path: PathBuf, source: io::Error },
    /// The CA bundle holds no certificate, or one that cannot be a trust anchor.
    #[error(
        "SSL_CTX_set_default_verify_paths failed: invalid CA file '{}': {detail}",
        path.display()
    )]
    CaInvalid { path: PathBuf, detail: String },
    /// A CRL file or directory (`ssl_crl`, `ssl_crlpath`) could not be read.
    #[error(
        "SSL_CTX_set_default_verify_paths failed: cannot read CRL '{}': {source}",
        path.display()
    )]
    CrlIo { path: PathBuf, source: io::Error },
    /// A CRL file holds no CRL or a broken PEM block.
    #[error(
        "SSL_CTX_set_default_verify_paths failed: invalid CRL file '{}': {detail}",
        path.display()
    )]
    CrlInvalid { path: PathBuf, detail: String },
    /// A CRL could not be parsed as an X.509 CRL.
    #[error("SSL_CTX_set_default_verify_paths failed: unusable CRL: {0}")]
    CrlUnusable(String),
    /// No protocol version was enabled (`tls_version=''`).
    #[error("TLS version is invalid")]
    NoVersions,
    /// None of the configured cipher suites can be used with the enabled versions.
    #[error("Failed to set ciphers to use: {0}")]
    Ciphers(String),
    /// rustls refused the assembled configuration for another reason.
    #[error("SSL context is not usable without certificate and private key: {0}")]
    Context(String),
    /// Key or certificate generation failed (including a clock before 1970).
    #[error("Failed to generate the TLS certificates: {0}")]
    Generate(String),
    /// Checking for or writing an auto-generated file failed.
    #[error("Failed to write '{}': {source}", path.display())]
    Write { path: PathBuf, source: io::Error },
    /// [`describe_cert`] got bytes that are not an X.509 certificate.
    #[error("Unable to parse certificate: {0}")]
    Parse(String),
}

/// Outcome of [`auto_generate_certs`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AutoCerts {
    /// None of the trigger files existed; all six files were written.
    Generated,
    /// `ca.pem`, `server-cert.pem` and `server-key.pem` all exist; nothing was written.
    AlreadyPresent,
    /// Some but not all trigger files exist (listed); nothing was written. MySQL then runs with
    /// whatever those files give, usually TLS disabled with an error in the log.
    PartialSetPresent(Vec<&'static str>),
}

/// MySQL's `auto_generate_certs` (reference §6.3): if none of `ca.pem`, `server-cert.pem`,
/// `server-key.pem` exists in `datadir`, write a CA, a server and a client certificate with their
/// keys (RSA 2048, sha256WithRSAEncryption, serials 1/2/3, valid from `now` for 10 × 365 days).
///
/// Differences from MySQL, all deliberate:
/// * subjects use `Vestibule` where MySQL writes `MySQL_Server_<version>`:
///   `/CN=Vestibule_Auto_Generated_CA_Certificate`, `…_Server_Certificate`, `…_Client_Certificate`;
/// * the server certificate carries subjectAltNames (DNS `localhost`, IP 127.0.0.1, IP ::1 and
///   `hostname` when it is a valid DNS name or IP other than those), so clients that verify
///   the server identity (`--ssl-mode=VERIFY_IDENTITY`) accept it;
/// * key usage / extended key usage are set (serverAuth, clientAuth) and the keys are written as
///   PKCS#8 (`BEGIN PRIVATE KEY`, what aws-lc-rs exports); MySQL writes PKCS#1. Both load anywhere.
///
/// Every file is written to a temporary name with its final mode (keys 0600, certificates 0644)
/// and renamed into place; nothing is written unless all six were generated.
pub fn auto_generate_certs(
    datadir: &Path,
    hostname: &str,
    now: SystemTime,
) -> Result<AutoCerts, TlsFileError> {
    let mut present = Vec::new();
    for name in TRIGGER_FILES {
        let path = datadir.join(name);
        let exists = path
            .try_exists()
            .map_err(|source| TlsFileError::Write { path, source })?;
        if exists {
            present.push(name);
        }
    }
    if present.len() == TRIGGER_FILES.len() {
        return Ok(AutoCerts::AlreadyPresent);
    }
    if !present.is_empty() {
        return Ok(AutoCerts::PartialSetPresent(present));
    }

    let files = generate_cert_set(hostname, now)?;
    for (name, contents, mode) in &files {
        let path = datadir.join(name);
        write_file_atomic(&path, contents.as_bytes(), *mode)
            .map_err(|source| TlsFileError::Write { path, source })?;
    }
    // Make the renames durable; failing to sync a directory is not worth failing startup for.
    if let Ok(dir) = fs::File::open(datadir) {
        let _ = dir.sync_all();
    }
    Ok(AutoCerts::Generated)
}

/// One generated file: name in the datadir, PEM text (wiped on drop), mode.
type GeneratedFile = (&'static str, Zeroizing<String>, u32);

/// Builds the six PEM files in memory, in the order they are to be written.
fn generate_cert_set(hostname: &str, now: SystemTime) -> Result<Vec<GeneratedFile>, TlsFileError> {
    let gen_err = |e: rcgen::Error| TlsFileError::Generate(e.to_string());
    let start = now
        .duration_since(UNIX_EPOCH)
        .map_err(|_| TlsFileError::Generate("system clock is before 1970".into()))?
        .as_secs();
    let start = i64::try_from(start)
        .map_err(|_| TlsFileError::Generate("system clock out of range".into()))?;
    let to_datetime = |secs: i64| {
        ASN1Time::from_timestamp(secs)
            .map(|t| t.to_datetime())
            .map_err(|e| TlsFileError::Generate(format!("invalid validity time: {e}")))
    };
    let not_before = to_datetime(start)?;
    let not_after = to_datetime(start.saturating_add(VALIDITY_SECS))?;

    let params = |cn: &str, serial: u8| {
        let mut p = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, cn);
        p.distinguished_name = dn;
        p.serial_number = Some(SerialNumber::from(vec![serial]));
        p.not_before = not_before;
        p.not_after = not_after;
        p
    };

    let ca_key = KeyPair::generate_rsa_for(&PKCS_RSA_SHA256, RsaKeySize::_2048).map_err(gen_err)?;
    let mut ca_params = params("Vestibule_Auto_Generated_CA_Certificate", 1);
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca_params.self_signed(&ca_key).map_err(gen_err)?;
    let issuer = Issuer::new(ca_params, &ca_key);

    let server_key =
        KeyPair::generate_rsa_for(&PKCS_RSA_SHA256, RsaKeySize::_2048).map_err(gen_err)?;
    let mut server_params = params("Vestibule_Auto_Generated_Server_Certificate", 2);
    server_params.is_ca = IsCa::ExplicitNoCa;
    server_params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    server_params.subject_alt_names = server_sans(hostname)?;
    let server_cert = server_params
        .signed_by(&server_key, &issuer)
        .map_err(gen_err)?;

    let client_key =
        KeyPair::generate_rsa_for(&PKCS_RSA_SHA256, RsaKeySize::_2048).map_err(gen_err)?;
    let mut client_params = params("Vestibule_Auto_Generated_Client_Certificate", 3);
    client_params.is_ca = IsCa::ExplicitNoCa;
    client_params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    client_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let client_cert = client_params
        .signed_by(&client_key, &issuer)
        .map_err(gen_err)?;

    // Keys before certificates: an interrupted run then leaves no certificate without its key.
    Ok(vec![
        (
            CA_KEY_FILE,
            Zeroizing::new(ca_key.serialize_pem()),
            PRIVATE_MODE,
        ),
        (
            CLIENT_KEY_FILE,
            Zeroizing::new(client_key.serialize_pem()),
            PRIVATE_MODE,
        ),
        (
            SERVER_KEY_FILE,
            Zeroizing::new(server_key.serialize_pem()),
            PRIVATE_MODE,
        ),
        (
            CLIENT_CERT_FILE,
            Zeroizing::new(client_cert.pem()),
            PUBLIC_MODE,
        ),
        (
            SERVER_CERT_FILE,
            Zeroizing::new(server_cert.pem()),
            PUBLIC_MODE,
        ),
        (CA_CERT_FILE, Zeroizing::new(ca_cert.pem()), PUBLIC_MODE),
    ])
}

/// SANs of the generated server certificate: the loopback names plus `hostname` if it is a
/// syntactically valid DNS name or IP address not already covered.
fn server_sans(hostname: &str) -> Result<Vec<SanType>, TlsFileError> {
    let dns = |name: &str| {
        name.try_into()
            .map(SanType::DnsName)
            .map_err(|e: rcgen::Error| TlsFileError::Generate(e.to_string()))
    };
    let loopback_v4 = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let loopback_v6 = IpAddr::V6(Ipv6Addr::LOCALHOST);
    let mut sans = vec![
        dns("localhost")?,
        SanType::IpAddress(loopback_v4),
        SanType::IpAddress(loopback_v6),
    ];
    if hostname.is_empty() || hostname.eq_ignore_ascii_case("localhost") {
        return Ok(sans);
    }
    match ServerName::try_from(hostname) {
        Ok(ServerName::DnsName(name)) => sans.push(dns(name.as_ref())?),
        Ok(ServerName::IpAddress(ip)) => {
            let ip = IpAddr::from(ip);
            if ip != loopback_v4 && ip != loopback_v6 {
                sans.push(SanType::IpAddress(ip));
            }
        }
        _ => tracing::warn!(
            hostname,
            "host name is not a valid DNS name; not added to the server certificate"
        ),
    }
    Ok(sans)
}

/// Writes `contents` to `path` through a temporary file created with `mode` in the same
/// directory, then renames it over `path`. The mode is also set explicitly so the umask cannot
/// widen or narrow it.
pub(crate) fn write_file_atomic(path: &Path, contents: &[u8], mode: u32) -> io::Result<()> {
    let file_name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name"))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(file_name);
    tmp_name.push(format!(".tmp-{}", std::process::id()));
    let tmp = path.with_file_name(tmp_name);

    let result = (|| {
        // A leftover from a crashed run with the same pid would make create_new fail.
        match fs::remove_file(&tmp) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&tmp)?;
        file.set_permissions(fs::Permissions::from_mode(mode))?;
        file.write_all(contents)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Where client certificates are checked against: `ssl_ca` (a PEM bundle), `ssl_capath` (a
/// directory of PEM CA files), `ssl_crl` (a PEM file of CRLs), `ssl_crlpath` (a directory of PEM
/// CRL files).
#[derive(Debug, Clone, Copy, Default)]
pub struct TrustFiles<'a> {
    pub ca: Option<&'a Path>,
    pub capath: Option<&'a Path>,
    pub crl: Option<&'a Path>,
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
/// [`ServerConfig`].
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

/// Printable facts about the server certificate (OpenSSL formats, see [`describe_cert`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    /// `Ssl_server_not_before`, e.g. `Apr 23 07:59:47 2025 GMT`.
    pub not_before: String,
    /// `Ssl_server_not_after`.
    pub not_after: String,
    /// Subject in `X509_NAME_oneline` form.
    pub subject: String,
    /// Issuer in `X509_NAME_oneline` form.
    pub issuer: String,
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
        CertInfo {
            not_before: format_openssl_time(parsed.validity().not_before),
            not_after: format_openssl_time(parsed.validity().not_after),
            subject: x509_name_oneline(parsed.subject()),
            issuer: x509_name_oneline(parsed.issuer()),
        }
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

/// TLS 1.2 and TLS 1.3: MySQL 8's default `tls_version`.
pub fn default_versions() -> Vec<&'static SupportedProtocolVersion> {
    vec![&rustls::version::TLS12, &rustls::version::TLS13]
}

/// Builds the server context from `material` on the aws-lc-rs provider. `suites` replaces the
/// provider's default cipher suites when given (the translation of `ssl_cipher` /
/// `tls_ciphersuites` happens elsewhere).
///
/// With a CA the server behaves like MySQL's verify mode 5 (`SSL_VERIFY_PEER |
/// SSL_VERIFY_CLIENT_ONCE`): it requests a client certificate, a client may send none, and one
/// that is sent must chain to the CA — and, when CRLs are configured, no certificate of its chain
/// may be revoked, each must be covered by a CRL of its issuer, and the CRLs must be current
/// (OpenSSL checks `nextUpdate`). Without a CA no certificate is requested.
pub fn server_config(
    material: &TlsMaterial,
    versions: &[&'static SupportedProtocolVersion],
    suites: Option<Vec<SupportedCipherSuite>>,
) -> Result<Arc<ServerConfig>, TlsFileError> {
    if versions.is_empty() {
        return Err(TlsFileError::NoVersions);
    }
    let mut provider = aws_lc_rs::default_provider();
    if let Some(suites) = suites {
        provider.cipher_suites = suites;
    }
    let provider = Arc::new(provider);
    let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(versions)
        .map_err(|e| TlsFileError::Ciphers(e.to_string()))?;
    let builder = match &material.client_roots {
        Some(roots) => {
            let mut verifier =
                WebPkiClientVerifier::builder_with_provider(Arc::clone(roots), provider)
                    .allow_unauthenticated();
            if !material.crls.is_empty() {
                verifier = verifier
                    .with_crls(material.crls.iter().cloned())
                    .enforce_revocation_expiration();
            }
            let verifier = verifier.build().map_err(|e| match e {
                rustls::server::VerifierBuilderError::InvalidCrl(e) => {
                    TlsFileError::CrlUnusable(format!("{e:?}"))
                }
                e => TlsFileError::Context(e.to_string()),
            })?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let config = builder
        .with_single_cert(material.cert_chain.clone(), material.key.clone_key())
        .map_err(|e| TlsFileError::Context(e.to_string()))?;
    Ok(Arc::new(config))
}

/// A client certificate as the REQUIRE checks see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerCert {
    /// Subject, `X509_NAME_oneline` form (`/C=US/O=Acme/CN=client`), compared by REQUIRE SUBJECT.
    pub subject: String,
    /// Issuer in the same form, compared by REQUIRE ISSUER.
    pub issuer: String,
    /// subjectAltName entries in certificate order: `DNS:x`, `IP:1.2.3.4`, `IP:::1`, `URI:…`,
    /// `email:…`, `DirName:/CN=…`, `Registered ID:1.2.3`, `othername:1.2.3` (TiDB's REQUIRE SAN
    /// uses the first four). Entries that do not decode are left out.
    pub san: Vec<String>,
    /// notBefore, OpenSSL format.
    pub not_before: String,
    /// notAfter, OpenSSL format.
    pub not_after: String,
}

/// Describes a DER certificate (the peer's leaf) with the strings MySQL compares for
/// `REQUIRE ISSUER` / `REQUIRE SUBJECT` (reference §7.6) and TiDB for `REQUIRE SAN`.
pub fn describe_cert(der: &[u8]) -> Result<PeerCert, TlsFileError> {
    let (_, cert) =
        X509Certificate::from_der(der).map_err(|e| TlsFileError::Parse(e.to_string()))?;
    let mut san = Vec::new();
    let ext = cert
        .subject_alternative_name()
        .map_err(|e| TlsFileError::Parse(e.to_string()))?;
    for name in ext.iter().flat_map(|ext| ext.value.general_names.iter()) {
        let entry = match name {
            GeneralName::DNSName(s) => format!("DNS:{s}"),
            GeneralName::IPAddress(bytes) => match format_ip(bytes) {
                Some(ip) => format!("IP:{ip}"),
                None => continue,
            },
            GeneralName::URI(s) => format!("URI:{s}"),
            GeneralName::RFC822Name(s) => format!("email:{s}"),
            GeneralName::DirectoryName(n) => format!("DirName:{}", x509_name_oneline(n)),
            GeneralName::RegisteredID(oid) => format!("Registered ID:{}", oid.to_id_string()),
            GeneralName::OtherName(oid, _) => format!("othername:{}", oid.to_id_string()),
            GeneralName::X400Address(_)
            | GeneralName::EDIPartyName(_)
            | GeneralName::Invalid(..) => continue,
        };
        san.push(entry);
    }
    Ok(PeerCert {
        subject: x509_name_oneline(cert.subject()),
        issuer: x509_name_oneline(cert.issuer()),
        san,
        not_before: format_openssl_time(cert.validity().not_before),
        not_after: format_openssl_time(cert.validity().not_after),
    })
}

/// IPv4 dotted, IPv6 in RFC 5952 form (`::1`, as Go and TiDB print it).
fn format_ip(bytes: &[u8]) -> Option<String> {
    if let Ok(v4) = <[u8; 4]>::try_from(bytes) {
        return Some(Ipv4Addr::from(v4).to_string());
    }
    <[u8; 16]>::try_from(bytes)
        .ok()
        .map(|v6| Ipv6Addr::from(v6).to_string())
}

/// OpenSSL 3's `X509_NAME_oneline`: each attribute as `/SN=value` in certificate order, `+`
/// instead of `/` between attributes of one multi-valued RDN, `/` and `+` inside values escaped
/// with `\`, bytes outside 0x20..=0x7E as `\xHH` (so UTF-8 and BMPString values show their raw
/// bytes), unknown attribute types as dotted OIDs, an empty name as "".
/// (OpenSSL 1.1 escaped nothing and never used `+`; MySQL shows whichever library it links.)
pub fn x509_name_oneline(name: &X509Name<'_>) -> String {
    let mut out = String::new();
    for rdn in name.iter_rdn() {
        for (i, attr) in rdn.iter().enumerate() {
            out.push(if i == 0 { '/' } else { '+' });
            let oid = attr.attr_type().to_id_string();
            out.push_str(short_name(&oid).unwrap_or(&oid));
            out.push('=');
            let value = attr.as_slice();
            // OpenSSL's GeneralString special case: a value whose length is a multiple of 4 and
            // whose non-zero bytes all sit at offsets ≡ 3 (mod 4) is printed as those bytes only.
            let every_fourth = attr.attr_value().tag() == Tag::GeneralString
                && value.len() % 4 == 0
                && value.iter().enumerate().all(|(j, &b)| b == 0 || j % 4 == 3);
            for (j, &b) in value.iter().enumerate() {
                if every_fourth && j % 4 != 3 {
                    continue;
                }
                match b {
                    b'/' | b'+' => {
                        out.push('\\');
                        out.push(char::from(b));
                    }
                    0x20..=0x7e => out.push(char::from(b)),
                    _ => out.push_str(&format!("\\x{b:02X}")),
                }
            }
        }
    }
    out
}

/// OpenSSL's short names (`OBJ_nid2sn`) for attribute types seen in certificate names.
fn short_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.4.3" => "CN",
        "2.5.4.4" => "SN",
        "2.5.4.5" => "serialNumber",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.9" => "street",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.12" => "title",
        "2.5.4.13" => "description",
        "2.5.4.14" => "searchGuide",
        "2.5.4.15" => "businessCategory",
        "2.5.4.16" => "postalAddress",
        "2.5.4.17" => "postalCode",
        "2.5.4.18" => "postOfficeBox",
        "2.5.4.19" => "physicalDeliveryOfficeName",
        "2.5.4.20" => "telephoneNumber",
        "2.5.4.41" => "name",
        "2.5.4.42" => "GN",
        "2.5.4.43" => "initials",
        "2.5.4.44" => "generationQualifier",
        "2.5.4.45" => "x500UniqueIdentifier",
        "2.5.4.46" => "dnQualifier",
        "2.5.4.65" => "pseudonym",
        "2.5.4.72" => "role",
        "2.5.4.97" => "organizationIdentifier",
        "1.2.840.113549.1.9.1" => "emailAddress",
        "1.2.840.113549.1.9.2" => "unstructuredName",
        "1.2.840.113549.1.9.8" => "unstructuredAddress",
        "0.9.2342.19200300.100.1.1" => "UID",
        "0.9.2342.19200300.100.1.3" => "mail",
        "0.9.2342.19200300.100.1.25" => "DC",
        "1.3.6.1.4.1.311.60.2.1.1" => "jurisdictionL",
        "1.3.6.1.4.1.311.60.2.1.2" => "jurisdictionST",
        "1.3.6.1.4.1.311.60.2.1.3" => "jurisdictionC",
        _ => return None,
    })
}

/// An ASN.1 time as OpenSSL's `ASN1_TIME_print` shows it (`Ssl_server_not_before`,
/// `Ssl_server_not_after`): `May  1 14:16:39 2017 GMT`.
pub fn format_openssl_time(t: ASN1Time) -> String {
    format_openssl_time_unix(t.timestamp())
}

/// [`format_openssl_time`] from seconds since the Unix epoch (UTC, proleptic Gregorian):
/// three-letter month, day padded with a space to two characters, `HH:MM:SS`, year, `GMT`.
pub fn format_openssl_time_unix(secs: i64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let month = usize::try_from(month)
        .ok()
        .and_then(|m| MONTHS.get(m.wrapping_sub(1)))
        .copied()
        .unwrap_or("???");
    format!(
        "{month} {day:>2} {:02}:{:02}:{:02} {year} GMT",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

/// Days since 1970-01-01 to (year, month 1..=12, day 1..=31), Howard Hinnant's algorithm.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days.saturating_add(719_468);
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // day of era, 0..=146096
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // 0..=399
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // 0..=365, year starting in March
    let mp = (5 * doy + 2) / 153; // 0..=11, March = 0
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The provider's suites for IANA codes (as [`crate::tls_policy`] decides them), in that order;
/// codes the provider lacks are skipped.
pub fn rustls_suites(codes: &[u16]) -> Vec<SupportedCipherSuite> {
    codes
        .iter()
        .filter_map(|&code| {
            aws_lc_rs::ALL_CIPHER_SUITES
                .iter()
                .find(|s| u16::from(s.suite()) == code)
                .copied()
        })
        .collect()
}

/// The kind of the server key, which decides the usable TLS 1.2 suites.
pub fn cert_key_type(
    material: &TlsMaterial,
) -> Result<crate::tls_policy::CertKeyType, TlsFileError> {
    use rustls::SignatureAlgorithm as A;
    let key = aws_lc_rs::sign::any_supported_type(&material.key)
        .map_err(|e| TlsFileError::Context(e.to_string()))?;
    Ok(match key.algorithm() {
        A::ECDSA => crate::tls_policy::CertKeyType::EcdsaP256,
        A::ED25519 => crate::tls_policy::CertKeyType::Ed25519,
        _ => crate::tls_policy::CertKeyType::Rsa,
    })
}

/// Fuzz body of the `dn` target. The first byte picks the mode:
/// - even: the rest as raw DER, read as a Name and as a certificate; the one-line forms (what
///   REQUIRE SUBJECT / ISSUER compare and the log shows) are printable ASCII only;
/// - odd: the rest drives `arbitrary` to build a Name (RDNs of one or more attributes: CN, C, O,
///   OU, emailAddress, DC or an unregistered OID; UTF8String, PrintableString or IA5String values
///   without `\`), encoded to DER here; it must parse, and its one-line form must read back to
///   exactly the attributes written: the escaping is unambiguous.
pub fn fuzz_dn(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        if let Ok((_, name)) = X509Name::from_der(rest) {
            assert_printable(&x509_name_oneline(&name));
        }
        if let Ok(cert) = describe_cert(rest) {
            assert_printable(&cert.subject);
            assert_printable(&cert.issuer);
        }
        return;
    }
    let mut u = arbitrary::Unstructured::new(rest);
    let Ok(rdns) = dn_fuzz::arbitrary_name(&mut u) else {
        return;
    };
    let der = dn_fuzz::encode_name(&rdns);
    let (left, name) = X509Name::from_der(&der).expect("a well-formed Name parses");
    assert!(left.is_empty());
    let line = x509_name_oneline(&name);
    assert_printable(&line);
    let expected: Vec<dn_fuzz::Rdn> = rdns
        .iter()
        .map(|rdn| {
            rdn.iter()
                .map(|a| (a.attr.1.to_string(), a.value.clone()))
                .collect()
        })
        .collect();
    assert_eq!(dn_fuzz::read_oneline(&line), Some(expected), "{line}");
}

fn assert_printable(s: &str) {
    assert!(
        s.bytes().all(|b| (0x20..=0x7e).contains(&b)),
        "non-printable byte in {s:?}"
    );
}

/// The structured side of [`fuzz_dn`]: a DER encoder for Names and a reader of the one-line form,
/// both written from the specifications (X.501 Name; OpenSSL's escaping) independently of the
/// formatter under test.
mod dn_fuzz {
    use arbitrary::{Arbitrary, Unstructured};

    /// `(DER content of the OID, the name OpenSSL prints)`.
    pub type Attr = (&'static [u8], &'static str);

    const ATTRS: [Attr; 7] = [
        (&[0x55, 0x04, 0x03], "CN"),
        (&[0x55, 0x04, 0x06], "C"),
        (&[0x55, 0x04, 0x0a], "O"),
        (&[0x55, 0x04, 0x0b], "OU"),
        (
            &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01],
            "emailAddress",
        ),
        (
            &[0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19],
            "DC",
        ),
        // 1.3.6.1.4.1.99999.1: no short name, printed dotted.
        (
            &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x86, 0x8d, 0x1f, 0x01],
            "1.3.6.1.4.1.99999.1",
        ),
    ];

    const PRINTABLE: &[u8] =
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 '()+,-./:=?";

    /// One RDN as read back: `(type as printed, value bytes)` per attribute.
    pub type Rdn = Vec<(String, Vec<u8>)>;

    pub struct Attribute {
        pub attr: Attr,
        pub tag: u8,
        pub value: Vec<u8>,
    }

    pub fn arbitrary_name(u: &mut Unstructured<'_>) -> arbitrary::Result<Vec<Vec<Attribute>>> {
        let rdn_count = u.int_in_range(0..=6)?;
        let mut rdns = Vec::with_capacity(rdn_count);
        for _ in 0..rdn_count {
            let attr_count = u.int_in_range(1..=3)?;
            let mut rdn = Vec::with_capacity(attr_count);
            for _ in 0..attr_count {
                let attr = *u.choose(&ATTRS)?;
                let (tag, value) = match u.int_in_range(0..=2)? {
                    0 => {
                        let s = String::arbitrary(u)?;
                        let s: String = s.chars().filter(|&c| c != '\\').take(60).collect();
                        (0x0c, s.into_bytes())
                    }
                    1 => {
                        let n = u.int_in_range(0..=40)?;
                        let v = (0..n)
                            .map(|_| u.choose(PRINTABLE).copied())
                            .collect::<arbitrary::Result<Vec<u8>>>()?;
                        (0x13, v)
                    }
                    _ => {
                        let v = Vec::<u8>::arbitrary(u)?;
                        let v = v.into_iter().map(|b| b & 0x7f).filter(|&b| b != b'\\');
                        (0x16, v.take(200).collect())
                    }
                };
                rdn.push(Attribute { attr, tag, value });
            }
            rdns.push(rdn);
        }
        Ok(rdns)
    }

    fn tlv(tag: u8, content: &[u8], out: &mut Vec<u8>) {
        out.push(tag);
        let len = content.len();
        if len < 0x80 {
            out.push(len as u8);
        } else if len <= 0xff {
            out.extend_from_slice(&[0x81, len as u8]);
        } else {
            out.extend_from_slice(&[0x82, (len >> 8) as u8, len as u8]);
        }
        out.extend_from_slice(content);
    }

    /// Name ::= SEQUENCE OF SET OF SEQUENCE { type OID, value ANY }.
    pub fn encode_name(rdns: &[Vec<Attribute>]) -> Vec<u8> {
        let mut seq = Vec::new();
        for rdn in rdns {
            let mut set = Vec::new();
            for a in rdn {
                let mut atv = Vec::new();
                tlv(0x06, a.attr.0, &mut atv);
                tlv(a.tag, &a.value, &mut atv);
                tlv(0x30, &atv, &mut set);
            }
            tlv(0x31, &set, &mut seq);
        }
        let mut out = Vec::new();
        tlv(0x30, &seq, &mut out);
        out
    }

    /// Reads `/T=v+T=v/T=v` back: `\/`, `\+` and `\xHH` are the only escapes.
    pub fn read_oneline(line: &str) -> Option<Vec<Rdn>> {
        let b = line.as_bytes();
        let mut rdns: Vec<Rdn> = Vec::new();
        let mut i = 0;
        while i < b.len() {
            let sep = b[i];
            i += 1;
            let eq = i + b[i..].iter().position(|&c| c == b'=')?;
            let ty = String::from_utf8(b[i..eq].to_vec()).ok()?;
            i = eq + 1;
            let mut value = Vec::new();
            while i < b.len() && b[i] != b'/' && b[i] != b'+' {
                if b[i] == b'\\' {
                    match b.get(i + 1)? {
                        c @ (b'/' | b'+') => {
                            value.push(*c);
                            i += 2;
                        }
                        b'x' => {
                            let hex = std::str::from_utf8(b.get(i + 2..i + 4)?).ok()?;
                            value.push(u8::from_str_radix(hex, 16).ok()?);
                            i += 4;
                        }
                        _ => return None,
                    }
                } else {
                    value.push(b[i]);
                    i += 1;
                }
            }
            match sep {
                b'/' => rdns.push(vec![(ty, value)]),
                b'+' => rdns.last_mut()?.push((ty, value)),
                _ => return None,
            }
        }
        Some(rdns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::{ClientConfig, ClientConnection, ServerConnection};
    use std::sync::OnceLock;
    use std::time::Duration;
    use x509_parser::extensions::ParsedExtension;

    /// 2026-11-21 18:29:02 UTC.
    const NOW: u64 = 1_795_285_742;

    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(NOW)
    }

    /// RSA key generation is the slow part: generate one set and share it (read-only).
    fn generated() -> &'static Path {
        static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
        DIR.get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let outcome = auto_generate_certs(dir.path(), "db1.example.com", now()).unwrap();
            assert_eq!(outcome, AutoCerts::Generated);
            dir
        })
        .path()
    }

    fn read_cert(name: &str) -> Vec<u8> {
        let pem = fs::read(generated().join(name)).unwrap();
        CertificateDer::from_pem_slice(&pem).unwrap().to_vec()
    }

    #[test]
    fn generates_six_files_with_mysql_modes() {
        let dir = generated();
        for (name, mode) in [
            (CA_KEY_FILE, 0o600),
            (CA_CERT_FILE, 0o644),
            (SERVER_KEY_FILE, 0o600),
            (SERVER_CERT_FILE, 0o644),
            (CLIENT_KEY_FILE, 0o600),
            (CLIENT_CERT_FILE, 0o644),
        ] {
            let meta = fs::metadata(dir.join(name)).unwrap();
            assert_eq!(meta.permissions().mode() & 0o777, mode, "{name}");
        }
        let mut names: Vec<_> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "ca-key.pem",
                "ca.pem",
                "client-cert.pem",
                "client-key.pem",
                "server-cert.pem",
                "server-key.pem"
            ],
            "no temporary files left behind"
        );
        let key = fs::read_to_string(dir.join(SERVER_KEY_FILE)).unwrap();
        assert!(key.starts_with("-----BEGIN PRIVATE KEY-----"));
    }

    #[test]
    fn generated_certificates_have_mysql_properties() {
        let expect = [
            (CA_CERT_FILE, "CA", 1u8, true),
            (SERVER_CERT_FILE, "Server", 2, false),
            (CLIENT_CERT_FILE, "Client", 3, false),
        ];
        for (file, role, serial, is_ca) in expect {
            let der = read_cert(file);
            let (_, cert) = X509Certificate::from_der(&der).unwrap();
            let cn = format!("/CN=Vestibule_Auto_Generated_{role}_Certificate");
            assert_eq!(x509_name_oneline(cert.subject()), cn);
            assert_eq!(
                x509_name_oneline(cert.issuer()),
                "/CN=Vestibule_Auto_Generated_CA_Certificate"
            );
            assert_eq!(cert.raw_serial(), [serial]);
            assert_eq!(cert.version(), x509_parser::x509::X509Version::V3);
            assert_eq!(
                cert.signature_algorithm.algorithm.to_id_string(),
                "1.2.840.113549.1.1.11",
                "sha256WithRSAEncryption"
            );
            let spki = cert.public_key().parsed().unwrap();
            assert_eq!(spki.key_size(), 2048);
            assert_eq!(cert.validity().not_before.timestamp(), NOW as i64);
            assert_eq!(
                cert.validity().not_after.timestamp(),
                NOW as i64 + 3650 * 86_400
            );
            let bc = cert.basic_constraints().unwrap().unwrap();
            assert!(bc.critical);
            assert_eq!(bc.value.ca, is_ca, "{file}");
        }
    }

    #[test]
    fn server_certificate_has_sans_and_ekus() {
        let der = read_cert(SERVER_CERT_FILE);
        let peer = describe_cert(&der).unwrap();
        assert_eq!(
            peer.san,
            [
                "DNS:localhost",
                "IP:127.0.0.1",
                "IP:::1",
                "DNS:db1.example.com"
            ]
        );
        assert_eq!(peer.not_before, "Nov 21 18:29:02 2026 GMT");
        assert_eq!(peer.not_after, "Nov 18 18:29:02 2036 GMT");

        let (_, cert) = X509Certificate::from_der(&der).unwrap();
        let eku = cert.extended_key_usage().unwrap().unwrap().value;
        assert!(eku.server_auth && !eku.client_auth);
        let client_der = read_cert(CLIENT_CERT_FILE);
        let (_, client) = X509Certificate::from_der(&client_der).unwrap();
        let eku = client.extended_key_usage().unwrap().unwrap().value;
        assert!(eku.client_auth && !eku.server_auth);
        assert!(!client.extensions().iter().any(|e| matches!(
            e.parsed_extension(),
            ParsedExtension::SubjectAlternativeName(_)
        )));
    }

    #[test]
    fn server_sans_for_various_hostnames() {
        let render = |h: &str| server_sans(h).unwrap().len();
        assert_eq!(render(""), 3);
        assert_eq!(render("LOCALHOST"), 3);
        assert_eq!(render("127.0.0.1"), 3);
        assert_eq!(render("10.1.2.3"), 4);
        assert_eq!(render("db-1.internal"), 4);
        assert_eq!(render("not a host name"), 3);
        assert!(matches!(
            server_sans("10.1.2.3").unwrap().last(),
            Some(SanType::IpAddress(IpAddr::V4(ip))) if *ip == Ipv4Addr::new(10, 1, 2, 3)
        ));
    }

    #[test]
    fn existing_or_partial_sets_are_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(SERVER_KEY_FILE), "x").unwrap();
        assert_eq!(
            auto_generate_certs(dir.path(), "", now()).unwrap(),
            AutoCerts::PartialSetPresent(vec![SERVER_KEY_FILE])
        );
        fs::write(dir.path().join(CA_CERT_FILE), "x").unwrap();
        fs::write(dir.path().join(SERVER_CERT_FILE), "x").unwrap();
        assert_eq!(
            auto_generate_certs(dir.path(), "", now()).unwrap(),
            AutoCerts::AlreadyPresent
        );
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 3);
        assert_eq!(fs::read(dir.path().join(CA_CERT_FILE)).unwrap(), b"x");
    }

    #[test]
    fn clock_before_epoch_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let err =
            auto_generate_certs(dir.path(), "", UNIX_EPOCH - Duration::from_secs(1)).unwrap_err();
        assert!(matches!(err, TlsFileError::Generate(_)), "{err}");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    fn material(with_ca: bool) -> TlsMaterial {
        let dir = generated();
        let ca = dir.join(CA_CERT_FILE);
        load_tls_material(
            &dir.join(SERVER_CERT_FILE),
            &dir.join(SERVER_KEY_FILE),
            &TrustFiles::ca(with_ca.then_some(ca.as_path())),
        )
        .unwrap()
    }

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

    #[test]
    fn config_errors_use_mysql_texts() {
        let m = material(false);
        let err = server_config(&m, &[], None).unwrap_err();
        assert_eq!(err.to_string(), "TLS version is invalid");
        let tls13_only: Vec<_> = aws_lc_rs::default_provider()
            .cipher_suites
            .into_iter()
            .filter(|s| s.version() == &rustls::version::TLS13)
            .collect();
        let err = server_config(&m, &[&rustls::version::TLS12], Some(tls13_only)).unwrap_err();
        assert!(err.to_string().starts_with("Failed to set ciphers to use"));
    }

    /// A client trusting the generated CA, presenting the client certificate found in
    /// `client_cert_dir` if given.
    fn client_config(client_cert_dir: Option<&Path>) -> ClientConfig {
        let mut roots = RootCertStore::empty();
        roots
            .add(CertificateDer::from(read_cert(CA_CERT_FILE)))
            .unwrap();
        let builder = ClientConfig::builder_with_provider(Arc::new(aws_lc_rs::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots);
        match client_cert_dir {
            Some(dir) => {
                let key = PrivateKeyDer::from_pem_file(dir.join(CLIENT_KEY_FILE)).unwrap();
                let cert = CertificateDer::from_pem_file(dir.join(CLIENT_CERT_FILE)).unwrap();
                builder.with_client_auth_cert(vec![cert], key).unwrap()
            }
            None => builder.with_no_client_auth(),
        }
    }

    /// Runs a handshake over in-memory buffers; returns the server side when both finished.
    fn handshake(
        server: Arc<ServerConfig>,
        client: ClientConfig,
        name: &str,
    ) -> Result<ServerConnection, rustls::Error> {
        let mut server = ServerConnection::new(server).unwrap();
        let name = ServerName::try_from(name.to_owned()).unwrap();
        let mut client = ClientConnection::new(Arc::new(client), name).unwrap();
        for _ in 0..20 {
            let mut buf = Vec::new();
            while client.wants_write() {
                client.write_tls(&mut buf).unwrap();
            }
            let mut rd = &buf[..];
            while !rd.is_empty() {
                server.read_tls(&mut rd).unwrap();
            }
            server.process_new_packets()?;
            let mut buf = Vec::new();
            while server.wants_write() {
                server.write_tls(&mut buf).unwrap();
            }
            let mut rd = &buf[..];
            while !rd.is_empty() {
                client.read_tls(&mut rd).unwrap();
            }
            client.process_new_packets()?;
            if !server.is_handshaking() && !client.is_handshaking() {
                return Ok(server);
            }
        }
        panic!("handshake did not finish");
    }

    #[test]
    fn tls13_handshake_with_and_without_client_certificate() {
        let config = server_config(&material(true), &default_versions(), None).unwrap();

        let server = handshake(
            Arc::clone(&config),
            client_config(Some(generated())),
            "localhost",
        )
        .unwrap();
        assert_eq!(
            server.protocol_version(),
            Some(rustls::ProtocolVersion::TLSv1_3)
        );
        let peer = server.peer_certificates().unwrap();
        assert_eq!(
            describe_cert(&peer[0]).unwrap().subject,
            "/CN=Vestibule_Auto_Generated_Client_Certificate"
        );

        // Verify mode 5: a client without a certificate is still accepted.
        let server = handshake(Arc::clone(&config), client_config(None), "localhost").unwrap();
        assert!(server.peer_certificates().is_none());

        // The SANs make identity verification work for the configured host name and IPs.
        handshake(Arc::clone(&config), client_config(None), "db1.example.com").unwrap();
        handshake(Arc::clone(&config), client_config(None), "127.0.0.1").unwrap();
        handshake(Arc::clone(&config), client_config(None), "::1").unwrap();
        let err = handshake(config, client_config(None), "other.example.com").unwrap_err();
        assert!(matches!(err, rustls::Error::InvalidCertificate(_)), "{err}");
    }

    #[test]
    fn tls12_handshake_and_no_client_auth_without_ca() {
        let config = server_config(&material(false), &[&rustls::version::TLS12], None).unwrap();
        let server = handshake(config, client_config(Some(generated())), "localhost").unwrap();
        assert_eq!(
            server.protocol_version(),
            Some(rustls::ProtocolVersion::TLSv1_2)
        );
        assert!(
            server.peer_certificates().is_none(),
            "no certificate requested"
        );
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

    #[test]
    fn client_certificate_from_another_ca_is_refused() {
        let config = server_config(&material(true), &default_versions(), None).unwrap();
        let other = tempfile::tempdir().unwrap();
        auto_generate_certs(other.path(), "", now()).unwrap();
        let err = handshake(config, client_config(Some(other.path())), "localhost").unwrap_err();
        // Same CA subject, different key: the server rejects the signature.
        assert!(matches!(err, rustls::Error::InvalidCertificate(_)), "{err}");
    }

    #[test]
    fn describe_generated_client_cert() {
        let peer = describe_cert(&read_cert(CLIENT_CERT_FILE)).unwrap();
        assert_eq!(
            peer.subject,
            "/CN=Vestibule_Auto_Generated_Client_Certificate"
        );
        assert_eq!(peer.issuer, "/CN=Vestibule_Auto_Generated_CA_Certificate");
        assert!(peer.san.is_empty());
    }

    #[test]
    fn describe_rcgen_cert_with_several_attributes_and_sans() {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec!["db.example.com".to_string()]).unwrap();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CountryName, "US");
        dn.push(DnType::OrganizationName, "Acme");
        dn.push(DnType::CommonName, "client");
        params.distinguished_name = dn;
        params.subject_alt_names.extend([
            SanType::IpAddress("192.0.2.7".parse().unwrap()),
            SanType::IpAddress("2001:db8::1".parse().unwrap()),
            SanType::URI("spiffe://acme/db".try_into().unwrap()),
            SanType::Rfc822Name("ops@acme.test".try_into().unwrap()),
        ]);
        let cert = params.self_signed(&key).unwrap();
        let peer = describe_cert(cert.der()).unwrap();
        assert_eq!(peer.subject, "/C=US/O=Acme/CN=client");
        assert_eq!(peer.issuer, "/C=US/O=Acme/CN=client");
        assert_eq!(
            peer.san,
            [
                "DNS:db.example.com",
                "IP:192.0.2.7",
                "IP:2001:db8::1",
                "URI:spiffe://acme/db",
                "email:ops@acme.test"
            ]
        );
        assert_eq!(peer.not_before, "Jan  1 00:00:00 1975 GMT");
        assert_eq!(peer.not_after, "Jan  1 00:00:00 4096 GMT");
    }

    /// Made with OpenSSL 3.0.19 (`openssl req -x509 -multivalue-rdn -utf8 -subj …`, with an
    /// `oid_section` naming 1.2.3.4 so `req` accepts it): a `/` and a `+` in a value, UTF-8, a
    /// multi-valued RDN (CN+UID) and an attribute type OpenSSL does not know. The expected
    /// string is what OpenSSL 3.0.19's `X509_NAME_oneline` printed for it.
    const ODD_CERT: &str = "\
-----BEGIN CERTIFICATE-----\n\
MIICAjCCAagCAQcwCgYIKoZIzj0EAwIwgYwxCzAJBgNVBAYTAlNFMRIwEAYDVQQI\n\
DAlTdG9ja2hvbG0xDjAMBgNVBAoMBUEvQitDMSAwDAYDVQQDDAVjYWbDqTAQBgoJ\n\
kiaJk/IsZAEBDAJ1MTEUMBIGCSqGSIb3DQEJARYFeEB5LnoxDDAKBgMqAwQMA29k\n\
ZDETMBEGCgmSJomT8ixkARkWA29yZzAeFw0yNjExMjEyMDQwMzhaFw0yNjExMjIy\n\
MDQwMzhaMIGMMQswCQYDVQQGEwJTRTESMBAGA1UECAwJU3RvY2tob2xtMQ4wDAYD\n\
VQQKDAVBL0IrQzEgMAwGA1UEAwwFY2Fmw6kwEAYKCZImiZPyLGQBAQwCdTExFDAS\n\
BgkqhkiG9w0BCQEWBXhAeS56MQwwCgYDKgMEDANvZGQxEzARBgoJkiaJk/IsZAEZ\n\
FgNvcmcwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAQHWfFDW5+oKL0ktN7jpWNn\n\
IzVRnWjIJmLo5rbiiT/9ybwGUloI64PFc10rqwmHfOKcXuc2DOVjKN4JSqmYpckd\n\
MAoGCCqGSM49BAMCA0gAMEUCIHtmYB8BlR+5kyrKJWjEKdoEsVMD2qjES+px2cWR\n\
9CGTAiEAjhotq8yaY4UgPN72Kv0zsEeT34Jjky2GM0ARhUHZwEY=\n\
-----END CERTIFICATE-----\n\
";
    const ODD_ONELINE: &str = "/C=SE/ST=Stockholm/O=A\\/B\\+C/CN=caf\\xC3\\xA9+UID=u1\
                               /emailAddress=x@y.z/1.2.3.4=odd/DC=org";

    #[test]
    fn dn_fuzz_body_holds_on_generated_names() {
        use proptest::prelude::*;
        proptest!(ProptestConfig::with_cases(512), |(mut data in proptest::collection::vec(any::<u8>(), 0..400), raw in any::<bool>())| {
            data.insert(0, u8::from(!raw));
            fuzz_dn(&data);
        });
        // The reader is strict: an unknown escape or a missing '=' is not a name.
        assert_eq!(dn_fuzz::read_oneline("/CN=a\\q"), None);
        assert_eq!(dn_fuzz::read_oneline("/CN"), None);
        assert_eq!(
            dn_fuzz::read_oneline("/CN=a\\/b+O=\\xC3\\xA9/C=x"),
            Some(vec![
                vec![
                    ("CN".into(), b"a/b".to_vec()),
                    ("O".into(), vec![0xc3, 0xa9])
                ],
                vec![("C".into(), b"x".to_vec())],
            ])
        );
    }

    #[test]
    fn oneline_matches_openssl_3_for_awkward_names() {
        let der = CertificateDer::from_pem_slice(ODD_CERT.as_bytes()).unwrap();
        let peer = describe_cert(&der).unwrap();
        assert_eq!(peer.subject, ODD_ONELINE);
        assert_eq!(peer.issuer, ODD_ONELINE);
    }

    #[test]
    fn oneline_shows_raw_bytes_of_wide_strings_like_openssl() {
        // Expected output checked against OpenSSL 3.0.19's X509_NAME_oneline on the same cert.
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        let bmp = rcgen::DnValue::BmpString("H\u{e9}/x".try_into().unwrap());
        dn.push(DnType::CommonName, bmp);
        let universal = rcgen::DnValue::UniversalString("\u{dc}".try_into().unwrap());
        dn.push(DnType::OrganizationName, universal);
        dn.push(DnType::CustomDnType(vec![2, 5, 4, 97]), "VATSE-1");
        dn.push(DnType::CustomDnType(vec![2, 5, 4, 5]), "tab\there");
        params.distinguished_name = dn;
        let cert = params.self_signed(&key).unwrap();
        assert_eq!(
            describe_cert(cert.der()).unwrap().subject,
            "/CN=\\x00H\\x00\\xE9\\x00\\/\\x00x/O=\\x00\\x00\\x00\\xDC\
             /organizationIdentifier=VATSE-1/serialNumber=tab\\x09here"
        );
    }

    #[test]
    fn describe_rejects_garbage() {
        assert!(matches!(
            describe_cert(b"nope"),
            Err(TlsFileError::Parse(_))
        ));
        assert!(matches!(describe_cert(&[]), Err(TlsFileError::Parse(_))));
    }

    #[test]
    fn openssl_time_format() {
        let cases = [
            (0, "Jan  1 00:00:00 1970 GMT"),
            (1_493_648_199, "May  1 14:16:39 2017 GMT"),
            (1_745_395_187, "Apr 23 07:59:47 2025 GMT"),
            (1_745_395_187 + 3650 * 86_400, "Apr 21 07:59:47 2035 GMT"),
            (951_782_400, "Feb 29 00:00:00 2000 GMT"), // leap year divisible by 400
            (1_709_251_199, "Feb 29 23:59:59 2024 GMT"),
            (1_709_251_200, "Mar  1 00:00:00 2024 GMT"),
            (4_107_542_400, "Mar  1 00:00:00 2100 GMT"), // 2100 is not a leap year
            (4_107_542_399, "Feb 28 23:59:59 2100 GMT"),
            (253_402_300_799, "Dec 31 23:59:59 9999 GMT"),
            (-1, "Dec 31 23:59:59 1969 GMT"),
        ];
        for (secs, want) in cases {
            assert_eq!(format_openssl_time_unix(secs), want, "{secs}");
        }
        // Extremes do not panic.
        format_openssl_time_unix(i64::MIN);
        format_openssl_time_unix(i64::MAX);
    }

    #[test]
    fn civil_conversion_agrees_with_the_time_crate_over_centuries() {
        let mut secs = -2_208_988_800i64; // 1900-01-01
        while secs < 7_258_118_400 {
            // 2200-01-01
            let want = ASN1Time::from_timestamp(secs).unwrap().to_datetime();
            let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
            assert_eq!(
                (y, m, d),
                (
                    i64::from(want.year()),
                    i64::from(u8::from(want.month())),
                    i64::from(want.day())
                ),
                "{secs}"
            );
            secs += 86_400 * 7 + 3_601;
        }
    }
}
