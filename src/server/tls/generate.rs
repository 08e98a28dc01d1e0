//! MySQL's `auto_generate_certs`: when none of `ca.pem`, `server-cert.pem`, `server-key.pem`
//! exists in the data directory, a CA, a server and a client certificate are generated with their
//! keys (MySQL 8.0 manual, "Creating SSL and RSA Certificates and Keys using MySQL",
//! <https://dev.mysql.com/doc/refman/8.0/en/creating-ssl-rsa-files-using-mysql.html>).
//!
//! Owns the six file names, what goes into them, their modes and atomic writes. It never reads
//! the files back (that is [`super::load`]) and never decides whether generation is wanted (the
//! caller checks `--auto-generate-certs` and whether `ssl_cert` / `ssl_key` are set).
//!
//! The keys are ECDSA P-256 by default ([`AutoCertKeyType::Ecdsa`]): a TLS handshake with an
//! ECDSA P-256 certificate costs the server about 40 % of the CPU of one with RSA-2048 (issue
//! 14). MySQL's RSA-2048 keys are written on request (`--auto-generate-certs-key-type=RSA`).

use std::fs;
use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, RsaKeySize, SanType, SerialNumber, PKCS_ECDSA_P256_SHA256,
    PKCS_RSA_SHA256,
};
use rustls::pki_types::ServerName;
use x509_parser::time::ASN1Time;
use zeroize::Zeroizing;

use super::TlsFileError;

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

/// The key type of the auto-generated CA, server and client certificates
/// (`--auto-generate-certs-key-type`). Only used when the files are generated: an existing set
/// in the data directory is loaded as it is, whatever its key type.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum AutoCertKeyType {
    /// `ECDSA`: P-256 keys, certificates signed with ecdsa-with-SHA256 (the default). TLS 1.2
    /// clients negotiate `ECDHE-ECDSA-*` suites.
    #[default]
    Ecdsa,
    /// `RSA`: 2048-bit keys, certificates signed with sha256WithRSAEncryption (what MySQL
    /// generates). TLS 1.2 clients negotiate `ECDHE-RSA-*` suites.
    Rsa,
}

impl AutoCertKeyType {
    /// The option value: `ECDSA` or `RSA`.
    pub fn name(self) -> &'static str {
        match self {
            AutoCertKeyType::Ecdsa => "ECDSA",
            AutoCertKeyType::Rsa => "RSA",
        }
    }

    /// A new key pair of this type.
    fn generate_key(self) -> Result<KeyPair, rcgen::Error> {
        match self {
            AutoCertKeyType::Ecdsa => KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256),
            AutoCertKeyType::Rsa => KeyPair::generate_rsa_for(&PKCS_RSA_SHA256, RsaKeySize::_2048),
        }
    }

    /// Key usages of an end-entity certificate: digitalSignature, plus keyEncipherment for RSA
    /// only (RFC 5480 §3 does not allow keyEncipherment on an EC key).
    fn end_entity_key_usages(self) -> Vec<KeyUsagePurpose> {
        match self {
            AutoCertKeyType::Ecdsa => vec![KeyUsagePurpose::DigitalSignature],
            AutoCertKeyType::Rsa => vec![
                KeyUsagePurpose::DigitalSignature,
                KeyUsagePurpose::KeyEncipherment,
            ],
        }
    }
}

impl std::str::FromStr for AutoCertKeyType {
    type Err = String;
    /// `ECDSA` or `RSA`, in any case.
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("ECDSA") {
            Ok(AutoCertKeyType::Ecdsa)
        } else if s.eq_ignore_ascii_case("RSA") {
            Ok(AutoCertKeyType::Rsa)
        } else {
            Err(format!("expected ECDSA or RSA, got '{s}'"))
        }
    }
}

impl std::fmt::Display for AutoCertKeyType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
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

/// [`auto_generate_certs_with_key_type`] with the default key type, ECDSA P-256.
pub fn auto_generate_certs(
    datadir: &Path,
    hostname: &str,
    now: SystemTime,
) -> Result<AutoCerts, TlsFileError> {
    auto_generate_certs_with_key_type(datadir, hostname, now, AutoCertKeyType::default())
}

/// MySQL's `auto_generate_certs` (see the module documentation): if none of `ca.pem`, `server-cert.pem`,
/// `server-key.pem` exists in `datadir`, write a CA, a server and a client certificate with their
/// keys (`key_type`: ECDSA P-256 with ecdsa-with-SHA256, or RSA 2048 with
/// sha256WithRSAEncryption; serials 1/2/3, valid from `now` for 10 × 365 days). When any of the
/// three exists nothing is written, whatever `key_type` is: existing files are never replaced.
///
/// Differences from MySQL, all deliberate:
/// * the keys are ECDSA P-256 unless `key_type` is [`AutoCertKeyType::Rsa`] (MySQL: RSA 2048);
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
pub fn auto_generate_certs_with_key_type(
    datadir: &Path,
    hostname: &str,
    now: SystemTime,
    key_type: AutoCertKeyType,
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

    let files = generate_cert_set(hostname, now, key_type)?;
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
fn generate_cert_set(
    hostname: &str,
    now: SystemTime,
    key_type: AutoCertKeyType,
) -> Result<Vec<GeneratedFile>, TlsFileError> {
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

    let ca_key = key_type.generate_key().map_err(gen_err)?;
    let mut ca_params = params("Vestibule_Auto_Generated_CA_Certificate", 1);
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca_params.self_signed(&ca_key).map_err(gen_err)?;
    let issuer = Issuer::new(ca_params, &ca_key);

    let server_key = key_type.generate_key().map_err(gen_err)?;
    let mut server_params = params("Vestibule_Auto_Generated_Server_Certificate", 2);
    server_params.is_ca = IsCa::ExplicitNoCa;
    server_params.key_usages = key_type.end_entity_key_usages();
    server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    server_params.subject_alt_names = server_sans(hostname)?;
    let server_cert = server_params
        .signed_by(&server_key, &issuer)
        .map_err(gen_err)?;

    let client_key = key_type.generate_key().map_err(gen_err)?;
    let mut client_params = params("Vestibule_Auto_Generated_Client_Certificate", 3);
    client_params.is_ca = IsCa::ExplicitNoCa;
    client_params.key_usages = key_type.end_entity_key_usages();
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

#[cfg(test)]
mod tests {
    use super::super::test_support::{
        client_config_with, generated, handshake, now, read_cert, server_config_of, NOW,
    };
    use super::super::{cert_info, cert_key_type, describe_cert, x509_name_oneline, TlsState};
    use super::*;
    use crate::tls_policy::CertKeyType;
    use rcgen::PublicKeyData;
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;
    use std::sync::OnceLock;
    use std::time::Duration;
    use x509_parser::certificate::X509Certificate;
    use x509_parser::extensions::ParsedExtension;
    use x509_parser::prelude::FromDer;

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

    /// One RSA set for the tests that need it (RSA key generation is the slow part).
    fn rsa_generated() -> &'static Path {
        static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
        DIR.get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let outcome = auto_generate_certs_with_key_type(
                dir.path(),
                "db1.example.com",
                now(),
                AutoCertKeyType::Rsa,
            )
            .unwrap();
            assert_eq!(outcome, AutoCerts::Generated);
            dir
        })
        .path()
    }

    fn cert_der(dir: &Path, name: &str) -> Vec<u8> {
        let pem = fs::read(dir.join(name)).unwrap();
        CertificateDer::from_pem_slice(&pem).unwrap().to_vec()
    }

    const ECDSA_WITH_SHA256: &str = "1.2.840.10045.4.3.2";
    const SHA256_WITH_RSA: &str = "1.2.840.113549.1.1.11";
    const EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
    const PRIME256V1: &str = "1.2.840.10045.3.1.7";
    const RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";

    /// The three certificates in `dir`: MySQL's subjects, serials, validity (from `start` when
    /// given) and basic constraints, with keys and signatures of `key_type`.
    fn check_cert_set(dir: &Path, key_type: AutoCertKeyType, start: Option<i64>) {
        let expect = [
            (CA_CERT_FILE, "CA", 1u8, true),
            (SERVER_CERT_FILE, "Server", 2, false),
            (CLIENT_CERT_FILE, "Client", 3, false),
        ];
        for (file, role, serial, is_ca) in expect {
            let der = cert_der(dir, file);
            let (_, cert) = X509Certificate::from_der(&der).unwrap();
            let cn = format!("/CN=Vestibule_Auto_Generated_{role}_Certificate");
            assert_eq!(x509_name_oneline(cert.subject()), cn);
            assert_eq!(
                x509_name_oneline(cert.issuer()),
                "/CN=Vestibule_Auto_Generated_CA_Certificate"
            );
            assert_eq!(cert.raw_serial(), [serial]);
            assert_eq!(cert.version(), x509_parser::x509::X509Version::V3);
            let spki = cert.public_key();
            let (signature, algorithm, bits) = match key_type {
                AutoCertKeyType::Ecdsa => (ECDSA_WITH_SHA256, EC_PUBLIC_KEY, 256),
                AutoCertKeyType::Rsa => (SHA256_WITH_RSA, RSA_ENCRYPTION, 2048),
            };
            assert_eq!(
                cert.signature_algorithm.algorithm.to_id_string(),
                signature,
                "{file}: signed with {key_type}"
            );
            assert_eq!(spki.algorithm.algorithm.to_id_string(), algorithm, "{file}");
            if key_type == AutoCertKeyType::Ecdsa {
                let curve = spki.algorithm.parameters.as_ref().map(|p| p.as_oid());
                assert_eq!(
                    curve.and_then(Result::ok).map(|oid| oid.to_id_string()),
                    Some(PRIME256V1.to_string()),
                    "{file}: named curve P-256"
                );
            }
            assert_eq!(spki.parsed().unwrap().key_size(), bits, "{file}");
            let validity = cert.validity();
            if let Some(start) = start {
                assert_eq!(validity.not_before.timestamp(), start);
            }
            assert_eq!(
                validity.not_after.timestamp(),
                validity.not_before.timestamp() + 3650 * 86_400
            );
            let bc = cert.basic_constraints().unwrap().unwrap();
            assert!(bc.critical);
            assert_eq!(bc.value.ca, is_ca, "{file}");
            let ku = cert.key_usage().unwrap().unwrap().value;
            if is_ca {
                assert!(ku.key_cert_sign() && ku.crl_sign(), "{file}");
            } else {
                assert!(ku.digital_signature(), "{file}");
                assert_eq!(
                    ku.key_encipherment(),
                    key_type == AutoCertKeyType::Rsa,
                    "{file}: keyEncipherment only on an RSA key (RFC 5480 §3)"
                );
            }
        }
        // Each key file holds the private key of its certificate, as PKCS#8.
        for (key_file, cert_file) in [
            (CA_KEY_FILE, CA_CERT_FILE),
            (SERVER_KEY_FILE, SERVER_CERT_FILE),
            (CLIENT_KEY_FILE, CLIENT_CERT_FILE),
        ] {
            let pem = fs::read_to_string(dir.join(key_file)).unwrap();
            assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"), "{key_file}");
            let key = KeyPair::from_pem(&pem).unwrap();
            let der = cert_der(dir, cert_file);
            let (_, cert) = X509Certificate::from_der(&der).unwrap();
            assert_eq!(
                key.subject_public_key_info(),
                cert.public_key().raw,
                "{key_file} belongs to {cert_file}"
            );
        }
    }

    #[test]
    fn generated_certificates_have_mysql_properties_with_ecdsa_p256_keys() {
        assert_eq!(AutoCertKeyType::default(), AutoCertKeyType::Ecdsa);
        check_cert_set(generated(), AutoCertKeyType::Ecdsa, Some(NOW as i64));
        let material = super::super::test_support::material(true);
        assert_eq!(cert_key_type(&material).unwrap(), CertKeyType::EcdsaP256);
    }

    #[test]
    fn rsa_2048_on_request() {
        check_cert_set(rsa_generated(), AutoCertKeyType::Rsa, Some(NOW as i64));
        assert_eq!(
            describe_cert(&cert_der(rsa_generated(), SERVER_CERT_FILE))
                .unwrap()
                .san,
            [
                "DNS:localhost",
                "IP:127.0.0.1",
                "IP:::1",
                "DNS:db1.example.com"
            ]
        );
    }

    #[test]
    fn key_type_option_values() {
        for (text, want) in [
            ("ECDSA", AutoCertKeyType::Ecdsa),
            ("ecdsa", AutoCertKeyType::Ecdsa),
            ("RSA", AutoCertKeyType::Rsa),
            (" Rsa ", AutoCertKeyType::Rsa),
        ] {
            assert_eq!(text.parse::<AutoCertKeyType>(), Ok(want), "{text}");
        }
        for bad in ["", "EC", "ED25519", "RSA-2048"] {
            assert!(bad.parse::<AutoCertKeyType>().is_err(), "{bad}");
        }
        assert_eq!(AutoCertKeyType::Rsa.to_string(), "RSA");
        assert_eq!(AutoCertKeyType::Ecdsa.to_string(), "ECDSA");
    }

    /// A data directory from before ECDSA became the default (an RSA set) is loaded as it is by
    /// the server's startup: no file is rewritten, the context uses the RSA key, and TLS 1.2
    /// clients get an `ECDHE-RSA-*` suite. A fresh directory gets ECDSA and `ECDHE-ECDSA-*`.
    #[test]
    fn an_existing_rsa_data_dir_is_loaded_unchanged() {
        use crate::server::config::{Config, Flags};
        use crate::tls_policy::ssl_cipher_name;

        let tls12_suite = |datadir: &Path| {
            let flags = Flags {
                datadir: Some(datadir.to_path_buf()),
                tls_version: Some("TLSv1.2".into()),
                ..Flags::default()
            };
            let config = Config::merge(flags, Flags::default()).unwrap();
            assert_eq!(config.auto_generate_certs_key_type, AutoCertKeyType::Ecdsa);
            let state = TlsState::startup(&config, "db1.example.com");
            let active = state.current().expect("TLS enabled");
            let ca = CertificateDer::from(cert_der(datadir, CA_CERT_FILE));
            let server = handshake(
                server_config_of(&state),
                client_config_with(ca, None),
                "db1.example.com",
            )
            .unwrap();
            assert_eq!(
                server.protocol_version(),
                Some(rustls::ProtocolVersion::TLSv1_2)
            );
            let code = u16::from(server.negotiated_cipher_suite().unwrap().suite());
            (active.policy.cert_key, ssl_cipher_name(code).unwrap())
        };

        let old = tempfile::tempdir().unwrap();
        let names = [
            CA_KEY_FILE,
            CA_CERT_FILE,
            SERVER_KEY_FILE,
            SERVER_CERT_FILE,
            CLIENT_KEY_FILE,
            CLIENT_CERT_FILE,
        ];
        for name in names {
            fs::copy(rsa_generated().join(name), old.path().join(name)).unwrap();
        }
        let snapshot = || names.map(|n| fs::read(old.path().join(n)).unwrap());
        let before = snapshot();
        let (key, suite) = tls12_suite(old.path());
        assert_eq!(key, CertKeyType::Rsa);
        assert!(suite.starts_with("ECDHE-RSA-"), "{suite}");
        assert_eq!(snapshot(), before, "the RSA files are kept as they were");
        assert_eq!(
            auto_generate_certs(old.path(), "", now()).unwrap(),
            AutoCerts::AlreadyPresent
        );
        assert_eq!(snapshot(), before);

        let fresh = tempfile::tempdir().unwrap();
        let (key, suite) = tls12_suite(fresh.path());
        assert_eq!(key, CertKeyType::EcdsaP256);
        assert!(suite.starts_with("ECDHE-ECDSA-"), "{suite}");
        check_cert_set(fresh.path(), AutoCertKeyType::Ecdsa, None);
    }

    #[test]
    fn server_certificate_has_sans_and_ekus() {
        let der = read_cert(SERVER_CERT_FILE);
        assert_eq!(
            describe_cert(&der).unwrap().san,
            [
                "DNS:localhost",
                "IP:127.0.0.1",
                "IP:::1",
                "DNS:db1.example.com"
            ]
        );
        let info = cert_info(&der).unwrap();
        assert_eq!(info.not_before, "Nov 21 18:29:02 2026 GMT");
        assert_eq!(info.not_after, "Nov 18 18:29:02 2036 GMT");

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
}
