//! Shared by the unit tests of the TLS modules: one auto-generated certificate set for the whole
//! test binary, rustls clients, and a handshake over in-memory buffers (no sockets).

use std::fs;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustls::crypto::aws_lc_rs;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, ServerConfig, ServerConnection};

use super::{
    auto_generate_certs, load_tls_material, AutoCerts, TlsMaterial, TrustFiles, CA_CERT_FILE,
    CLIENT_CERT_FILE, CLIENT_KEY_FILE, SERVER_CERT_FILE, SERVER_KEY_FILE,
};

/// 2026-11-21 18:29:02 UTC.
pub const NOW: u64 = 1_795_285_742;

pub fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(NOW)
}

/// RSA key generation is the slow part: generate one set and share it (read-only).
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
