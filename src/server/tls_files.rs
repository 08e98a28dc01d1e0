//! The former home of the TLS file code, now split by concern under [`super::tls`]
//! (`generate`, `load`, `context`, `describe`). These re-exports keep the old paths working
//! until every caller names [`super::tls`] directly; nothing is defined here.

pub(crate) use super::tls::write_file_atomic;
pub use super::tls::{
    auto_generate_certs, cert_key_type, default_versions, describe_cert, format_openssl_time,
    format_openssl_time_unix, load_tls_material, rustls_suites, server_config, x509_name_oneline,
    AutoCerts, CertInfo, TlsFileError, TlsMaterial, TrustFiles, CA_CERT_FILE, CA_KEY_FILE,
    CLIENT_CERT_FILE, CLIENT_KEY_FILE, SERVER_CERT_FILE, SERVER_KEY_FILE,
};
