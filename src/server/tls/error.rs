//! The errors of the TLS layer, with MySQL's texts: [`TlsFileError`] for the certificates, keys,
//! CA certificates and CRLs (from files or memory) and the rustls context, and [`TlsError`] for
//! everything that can stop a context from being built.

use std::io;
use std::path::PathBuf;

use crate::tls_policy::{CipherError, PolicyError, TlsVersionError};

/// Errors from the TLS files. Where MySQL has a library-error text for the same failure
/// (the `%s` of ER 3888 "Failed to set up SSL because of the following SSL library error: %s")
/// the message starts with that text; the path and the underlying cause follow.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsFileError {
    /// The certificate file (`ssl_cert`) could not be read.
    #[error("Unable to get certificate from '{}': {source}", path.display())]
    CertificateIo {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The certificate file was read but holds no usable PEM certificate.
    #[error("Unable to get certificate from '{}': {detail}", path.display())]
    CertificateInvalid {
        /// The file or directory.
        path: PathBuf,
        /// What is wrong with it.
        detail: String,
    },
    /// The key file (`ssl_key`) could not be read.
    #[error("Unable to get private key from '{}': {source}", path.display())]
    KeyIo {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The key file holds no usable unencrypted PKCS#1, PKCS#8 or SEC1 key.
    #[error("Unable to get private key from '{}': {detail}", path.display())]
    KeyInvalid {
        /// The file or directory.
        path: PathBuf,
        /// What is wrong with it.
        detail: String,
    },
    /// The key is not the one the leaf certificate was issued for.
    #[error(
        "Private key does not match the certificate public key (certificate '{}', key '{}')",
        cert.display(),
        key.display()
    )]
    KeyMismatch {
        /// The certificate file (`ssl_cert`).
        cert: PathBuf,
        /// The key file (`ssl_key`).
        key: PathBuf,
    },
    /// The CA bundle (`ssl_ca`) could not be read. MySQL reports every `ssl_ca` failure with
    /// this library text.
    #[error(
        "SSL_CTX_set_default_verify_paths failed: cannot read CA file '{}': {source}",
        path.display()
    )]
    CaIo {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The CA bundle holds no certificate, or one that cannot be a trust anchor.
    #[error(
        "SSL_CTX_set_default_verify_paths failed: invalid CA file '{}': {detail}",
        path.display()
    )]
    CaInvalid {
        /// The file or directory.
        path: PathBuf,
        /// What is wrong with it.
        detail: String,
    },
    /// A CRL file or directory (`ssl_crl`, `ssl_crlpath`) could not be read.
    #[error(
        "SSL_CTX_set_default_verify_paths failed: cannot read CRL '{}': {source}",
        path.display()
    )]
    CrlIo {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// A CRL file holds no CRL or a broken PEM block.
    #[error(
        "SSL_CTX_set_default_verify_paths failed: invalid CRL file '{}': {detail}",
        path.display()
    )]
    CrlInvalid {
        /// The file or directory.
        path: PathBuf,
        /// What is wrong with it.
        detail: String,
    },
    /// The certificate chain given in memory ([`TlsIdentity::from_pem`] /
    /// [`TlsIdentity::from_der`]) holds no usable certificate.
    ///
    /// [`TlsIdentity::from_pem`]: super::TlsIdentity::from_pem
    /// [`TlsIdentity::from_der`]: super::TlsIdentity::from_der
    #[error("Unable to get certificate from memory: {detail}")]
    CertificateInMemory {
        /// What is wrong with it.
        detail: String,
    },
    /// The private key given in memory is not a usable unencrypted PKCS#1, PKCS#8 or SEC1 key.
    #[error("Unable to get private key from memory: {detail}")]
    KeyInMemory {
        /// What is wrong with it.
        detail: String,
    },
    /// The private key given in memory is not the one the leaf certificate was issued for.
    #[error(
        "Private key does not match the certificate public key (certificate and key in memory)"
    )]
    KeyMismatchInMemory,
    /// CA certificates given in memory: none, broken PEM, or one that cannot be a trust anchor.
    #[error("SSL_CTX_set_default_verify_paths failed: invalid CA in memory: {detail}")]
    CaInMemory {
        /// What is wrong with them.
        detail: String,
    },
    /// CRLs given in memory as PEM: none, or a broken PEM block.
    #[error("SSL_CTX_set_default_verify_paths failed: invalid CRL in memory: {detail}")]
    CrlInMemory {
        /// What is wrong with them.
        detail: String,
    },
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
    Write {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// [`describe_cert`](super::describe_cert) or [`cert_info`](super::cert_info) got bytes
    /// that are not an X.509 certificate.
    #[error("Unable to parse certificate: {0}")]
    Parse(String),
}

/// Why a TLS context could not be built, at startup ([`TlsState::new`](super::TlsState::new))
/// or by `ALTER INSTANCE RELOAD TLS`, whose error text (the `%s` of ER 3888) is this error's
/// text. The checks run in this order: versions, ciphers, certificate and key, trust, policy.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// `tls_version` does not parse: an unknown version, or a hole in the list.
    #[error(transparent)]
    TlsVersion(#[from] TlsVersionError),
    /// `tls_version` enables no version this server's TLS library supports (`''` disables TLS).
    #[error("TLS version is invalid: tls_version enables no supported version")]
    NoSupportedVersion,
    /// `ssl_cipher` or `tls_ciphersuites` does not parse.
    #[error(transparent)]
    Cipher(#[from] CipherError),
    /// No server certificate and private key are configured.
    #[error("SSL context is not usable without certificate and private key")]
    NoCertificate,
    /// The certificate, key, CA certificates or CRLs cannot be used, or rustls refused the
    /// assembled context.
    #[error(transparent)]
    Material(#[from] TlsFileError),
    /// The policy leaves no enabled version with a configured cipher suite.
    #[error(transparent)]
    Policy(#[from] PolicyError),
}
