//! The server's TLS: the live context, built at startup from `ssl_cert` / `ssl_key` / `ssl_ca` /
//! `tls_version` … (or from certificates generated in the data dir), swapped atomically by
//! `ALTER INSTANCE RELOAD TLS` from the staged values. Connections take a snapshot (`Arc`) when
//! they start, so a reload never disturbs a connection already open.
//!
//! The parts, one concern each:
//! - [`generate`]: MySQL's `auto_generate_certs` (the six PEM files in the data dir);
//! - [`load`]: reading the certificate chain, key, CA certificates and CRLs, with MySQL's checks;
//! - [`context`]: the rustls server configuration under the TLS policy;
//! - [`describe`]: certificates as OpenSSL prints them (one-line DNs, times, SANs);
//! - `dn_fuzz`: the fuzz body of the one-line DN text.
//!
//! This module owns the live state and its reload. It never listens on sockets and never
//! evaluates REQUIRE rules.
#![warn(missing_docs)]

mod context;
mod describe;
mod dn_fuzz;
mod error;
mod generate;
mod load;
#[cfg(test)]
mod test_support;

use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, RwLock};

use tokio_rustls::TlsAcceptor;
use tracing::{error, info, warn};

pub use context::{cert_key_type, default_versions, rustls_suites, server_config};
pub use describe::{
    cert_info, describe_cert, format_openssl_time, format_openssl_time_unix, x509_name_oneline,
    CertInfo,
};
#[doc(hidden)]
pub use dn_fuzz::fuzz_dn;
pub use error::TlsFileError;
pub(crate) use generate::write_file_atomic;
pub use generate::{
    auto_generate_certs, AutoCerts, CA_CERT_FILE, CA_KEY_FILE, CLIENT_CERT_FILE, CLIENT_KEY_FILE,
    SERVER_CERT_FILE, SERVER_KEY_FILE,
};
pub use load::{load_tls_material, TlsMaterial, TrustFiles};

use super::Config;
use crate::tls_policy::{ssl_cipher_list, TlsPolicy, TlsVersion};

/// The values a TLS context is built from (`ssl_ca`, `ssl_capath`, `ssl_crl`, `ssl_crlpath`,
/// `ssl_cert`, `ssl_key`, `tls_version`, `ssl_cipher`, `tls_ciphersuites`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    /// `ssl_ca`: PEM bundle of the CAs client certificates must chain to.
    pub ssl_ca: Option<PathBuf>,
    /// `ssl_capath`: directory of PEM CA files, trusted like `ssl_ca`.
    pub ssl_capath: Option<PathBuf>,
    /// `ssl_crl`: PEM file of CRLs client certificate chains are checked against.
    pub ssl_crl: Option<PathBuf>,
    /// `ssl_crlpath`: directory of PEM CRL files.
    pub ssl_crlpath: Option<PathBuf>,
    /// `ssl_cert`: the server's PEM certificate chain, leaf first.
    pub ssl_cert: Option<PathBuf>,
    /// `ssl_key`: the server's unencrypted PEM private key.
    pub ssl_key: Option<PathBuf>,
    /// `tls_version`: comma-separated list of the permitted protocol versions.
    pub tls_version: String,
    /// `ssl_cipher` (TLS 1.2, OpenSSL names); `None` = MySQL's default list.
    pub ssl_cipher: Option<String>,
    /// `tls_ciphersuites` (TLS 1.3, IANA names); `None` = default, `""` = no TLS 1.3.
    pub tls_ciphersuites: Option<String>,
}

/// A built, usable TLS context.
pub struct ActiveTls {
    /// Accepts TLS on a connection with this context's rustls configuration.
    pub acceptor: TlsAcceptor,
    /// The values the context was built from (`Current_tls_*`).
    pub settings: TlsSettings,
    /// The server certificate (`Ssl_server_not_before` / `Ssl_server_not_after`).
    pub cert: CertInfo,
    /// The enabled protocol versions, ascending.
    pub versions: Vec<TlsVersion>,
    /// Whether client certificates are requested and verified (`ssl_ca` / `ssl_capath` set):
    /// MySQL's verify mode 5 (`Ssl_ctx_verify_mode`), else 0.
    pub client_verification: bool,
    /// What the context negotiates (versions, suites in preference order, key type).
    pub policy: TlsPolicy,
    /// `Ssl_cipher_list` of connections using this context.
    pub cipher_list: String,
}

/// The live TLS context of a server and the values staged for the next
/// `ALTER INSTANCE RELOAD TLS`.
pub struct TlsState {
    active: RwLock<Option<Arc<ActiveTls>>>,
    staged: RwLock<TlsSettings>,
    /// `Ssl_accepts`: TLS handshakes started.
    pub accepts: AtomicU64,
    /// `Ssl_finished_accepts`: TLS handshakes completed.
    pub finished_accepts: AtomicU64,
}

impl TlsState {
    /// MySQL's startup behaviour: explicit files, else auto-generated ones; any failure leaves
    /// the server running without TLS, with the reason in the log.
    pub fn startup(config: &Config, hostname: &str) -> TlsState {
        let mut settings = TlsSettings {
            ssl_ca: config.ssl_ca.clone(),
            ssl_capath: config.ssl_capath.clone(),
            ssl_crl: config.ssl_crl.clone(),
            ssl_crlpath: config.ssl_crlpath.clone(),
            ssl_cert: config.ssl_cert.clone(),
            ssl_key: config.ssl_key.clone(),
            tls_version: config.tls_version.clone(),
            ssl_cipher: config.ssl_cipher.clone(),
            tls_ciphersuites: config.tls_ciphersuites.clone(),
        };
        if settings.ssl_cert.is_none() && settings.ssl_key.is_none() && config.auto_generate_certs {
            match auto_generate_certs(&config.datadir, hostname, std::time::SystemTime::now()) {
                Ok(outcome) => {
                    if outcome == AutoCerts::Generated {
                        info!(datadir = %config.datadir.display(), "generated CA, server and client certificates");
                    }
                    if let AutoCerts::PartialSetPresent(present) = &outcome {
                        warn!(?present, "only some of ca.pem, server-cert.pem, server-key.pem exist; not generating certificates");
                    }
                    let ca = config.datadir.join("ca.pem");
                    settings.ssl_cert = Some(config.datadir.join("server-cert.pem"));
                    settings.ssl_key = Some(config.datadir.join("server-key.pem"));
                    if settings.ssl_ca.is_none() && settings.ssl_capath.is_none() && ca.exists() {
                        settings.ssl_ca = Some(ca);
                    }
                }
                Err(e) => error!("cannot generate certificates: {e}"),
            }
        }
        let active = match build(&settings) {
            Ok(a) => {
                info!(
                    client_verification = a.client_verification,
                    tls_version = %a.versions.iter().map(|v| v.name()).collect::<Vec<_>>().join(","),
                    "mysql protocol server secure connection is enabled"
                );
                Some(Arc::new(a))
            }
            Err(e) => {
                error!("TLS is disabled: {e}");
                None
            }
        };
        TlsState {
            active: RwLock::new(active),
            staged: RwLock::new(settings),
            accepts: AtomicU64::new(0),
            finished_accepts: AtomicU64::new(0),
        }
    }

    /// The context new connections use; `None` when TLS is disabled.
    pub fn current(&self) -> Option<Arc<ActiveTls>> {
        self.active
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Whether TLS is enabled for new connections.
    pub fn available(&self) -> bool {
        self.current().is_some()
    }

    /// The values the next reload builds from (`SET GLOBAL ssl_cert` … change them).
    pub fn staged(&self) -> TlsSettings {
        self.staged
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Changes the staged values; the live context is untouched until a reload.
    pub fn stage(&self, f: impl FnOnce(&mut TlsSettings)) {
        f(&mut self.staged.write().unwrap_or_else(|e| e.into_inner()));
    }

    /// `ALTER INSTANCE RELOAD TLS`: builds a context from the staged values and swaps it in.
    /// On failure the old context stays (Err), or with `no_rollback` TLS is disabled for new
    /// connections and the error becomes a warning (Ok(Some(warning))).
    pub fn reload(&self, no_rollback: bool) -> Result<Option<String>, String> {
        let settings = self.staged();
        match build(&settings) {
            Ok(a) => {
                info!(
                    client_verification = a.client_verification,
                    "TLS context reloaded"
                );
                *self.active.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(a));
                Ok(None)
            }
            Err(e) if no_rollback => {
                warn!("TLS reload failed, TLS disabled for new connections: {e}");
                *self.active.write().unwrap_or_else(|e| e.into_inner()) = None;
                Ok(Some(e))
            }
            Err(e) => {
                warn!("TLS reload failed, keeping the previous context: {e}");
                Err(e)
            }
        }
    }
}

/// Builds a context: the version list first (holes rejected, unsupported versions dropped with
/// a warning, nothing left = TLS disabled), then the cipher lists, then the files; finally the
/// policy is checked against the certificate's key type.
pub fn build(settings: &TlsSettings) -> Result<ActiveTls, String> {
    let choice = context::PolicyChoice::parse(
        &settings.tls_version,
        settings.ssl_cipher.as_deref(),
        settings.tls_ciphersuites.as_deref(),
    )?;
    let (Some(cert), Some(key)) = (&settings.ssl_cert, &settings.ssl_key) else {
        return Err("SSL context is not usable without certificate and private key".into());
    };
    let trust = TrustFiles {
        ca: settings.ssl_ca.as_deref(),
        capath: settings.ssl_capath.as_deref(),
        crl: settings.ssl_crl.as_deref(),
        crlpath: settings.ssl_crlpath.as_deref(),
    };
    let material = load_tls_material(cert, key, &trust).map_err(|e| e.to_string())?;
    let ctx = choice.context(&material)?;
    Ok(ActiveTls {
        acceptor: TlsAcceptor::from(ctx.config),
        settings: settings.clone(),
        cert: material.server_cert.clone(),
        versions: ctx.versions,
        client_verification: material.client_roots.is_some(),
        cipher_list: ssl_cipher_list(&ctx.policy),
        policy: ctx.policy,
    })
}
