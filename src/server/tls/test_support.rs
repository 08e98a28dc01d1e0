//! Shared by the unit tests of the TLS modules: one auto-generated certificate set for the whole
//! test binary, a small PKI made in memory, rustls clients, and a handshake over in-memory
//! buffers (no sockets).

use std::fs;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rcgen::{
    date_time_ymd, BasicConstraints, CertificateParams, CertificateRevocationListParams,
    DistinguishedName, DnType, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose,
    RevocationReason, RevokedCertParams, SerialNumber,
};
use rustls::crypto::aws_lc_rs;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, ServerConfig, ServerConnection};

use super::{
    auto_generate_certs, load_tls_material, AutoCerts, TlsMaterial, TlsState, TrustFiles,
    CA_CERT_FILE, CLIENT_CERT_FILE, CLIENT_KEY_FILE, SERVER_CERT_FILE, SERVER_KEY_FILE,
};

/// 2026-11-21 18:29:02 UTC.
pub const NOW: u64 = 1_795_285_742;

pub fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(NOW)
}

/// Key generation is the slow part (RSA on request): generate one set and share it (read-only).
pub fn generated() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let outcome = auto_generate_certs(dir.path(), "db1.example.com", now()).unwrap();
        assert_eq!(outcome, AutoCerts::Generated);
        dir
    })
    .path()
}

/// The DER of a generated PEM certificate file.
pub fn read_cert(name: &str) -> Vec<u8> {
    let pem = fs::read(generated().join(name)).unwrap();
    CertificateDer::from_pem_slice(&pem).unwrap().to_vec()
}

/// The generated server certificate and key, trusting the generated CA if `with_ca`.
pub fn material(with_ca: bool) -> TlsMaterial {
    let dir = generated();
    let ca = dir.join(CA_CERT_FILE);
    load_tls_material(
        &dir.join(SERVER_CERT_FILE),
        &dir.join(SERVER_KEY_FILE),
        &TrustFiles::ca(with_ca.then_some(ca.as_path())),
    )
    .unwrap()
}

/// A client trusting the generated CA, presenting the client certificate found in
/// `client_cert_dir` if given.
pub fn client_config(client_cert_dir: Option<&Path>) -> ClientConfig {
    let identity = client_cert_dir.map(|dir| {
        let key = PrivateKeyDer::from_pem_file(dir.join(CLIENT_KEY_FILE)).unwrap();
        let cert = CertificateDer::from_pem_file(dir.join(CLIENT_CERT_FILE)).unwrap();
        (vec![cert], key)
    });
    client_config_with(CertificateDer::from(read_cert(CA_CERT_FILE)), identity)
}

/// A client trusting `ca`, presenting `identity` (chain and key) if given.
pub fn client_config_with(
    ca: CertificateDer<'static>,
    identity: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
) -> ClientConfig {
    let mut roots = RootCertStore::empty();
    roots.add(ca).unwrap();
    let builder = ClientConfig::builder_with_provider(Arc::new(aws_lc_rs::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    match identity {
        Some((chain, key)) => builder.with_client_auth_cert(chain, key).unwrap(),
        None => builder.with_no_client_auth(),
    }
}

/// Runs a handshake over in-memory buffers; returns the server side when both finished.
pub fn handshake(
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

/// A CA, a server certificate for `localhost` and a client certificate (serial 7), all
/// made in memory by rcgen (ECDSA P-256: fast to generate).
pub struct Pki {
    pub ca_key: KeyPair,
    pub ca_params: CertificateParams,
    pub ca: rcgen::Certificate,
    pub server_key: KeyPair,
    pub server: rcgen::Certificate,
    pub client_key: KeyPair,
    pub client: rcgen::Certificate,
}

pub fn pki() -> Pki {
    let named = |cn: &str| {
        let mut p = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
        p.distinguished_name = DistinguishedName::new();
        p.distinguished_name.push(DnType::CommonName, cn);
        p
    };
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = named("In-memory CA");
    ca_params.subject_alt_names.clear();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params.clone(), &ca_key);
    let server_key = KeyPair::generate().unwrap();
    let server = named("in-memory server")
        .signed_by(&server_key, &issuer)
        .unwrap();
    let client_key = KeyPair::generate().unwrap();
    let mut client_params = named("in-memory client");
    client_params.serial_number = Some(SerialNumber::from(vec![7]));
    let client = client_params.signed_by(&client_key, &issuer).unwrap();
    Pki {
        ca_key,
        ca_params,
        ca,
        server_key,
        server,
        client_key,
        client,
    }
}

impl Pki {
    pub fn ca_der(&self) -> CertificateDer<'static> {
        self.ca.der().clone()
    }

    pub fn server_key_der(&self) -> PrivateKeyDer<'static> {
        PrivatePkcs8KeyDer::from(self.server_key.serialize_der()).into()
    }

    /// A client trusting the CA, presenting the client certificate if `with_cert`.
    pub fn client(&self, with_cert: bool) -> rustls::ClientConfig {
        let identity = with_cert.then(|| {
            let key = PrivatePkcs8KeyDer::from(self.client_key.serialize_der()).into();
            (vec![self.client.der().clone()], key)
        });
        client_config_with(self.ca_der(), identity)
    }

    /// A current CRL of the CA revoking `serials`.
    pub fn crl_pem(&self, serials: &[u8]) -> String {
        let issuer = Issuer::new(self.ca_params.clone(), &self.ca_key);
        CertificateRevocationListParams {
            this_update: date_time_ymd(2020, 1, 1),
            next_update: date_time_ymd(2100, 1, 1),
            crl_number: SerialNumber::from(vec![1]),
            issuing_distribution_point: None,
            revoked_certs: serials
                .iter()
                .map(|&n| RevokedCertParams {
                    serial_number: SerialNumber::from(vec![n]),
                    revocation_time: date_time_ymd(2020, 1, 1),
                    reason_code: Some(RevocationReason::KeyCompromise),
                    invalidity_date: None,
                })
                .collect(),
            key_identifier_method: KeyIdMethod::Sha256,
        }
        .signed_by(&issuer)
        .unwrap()
        .pem()
        .unwrap()
    }
}

/// The rustls configuration of the live context.
pub fn server_config_of(state: &TlsState) -> Arc<ServerConfig> {
    Arc::clone(state.current().unwrap().acceptor.config())
}
