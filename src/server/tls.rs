//! The server's TLS context: built at startup from `ssl_cert`/`ssl_key`/`ssl_ca`/`tls_version`
//! (or from certificates generated in the data dir), swapped atomically by
//! `ALTER INSTANCE RELOAD TLS` from the staged values. Connections take a snapshot (`Arc`) when
//! they start, so a reload never disturbs a connection already open.

use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, RwLock};

use tokio_rustls::TlsAcceptor;
use tracing::{error, info, warn};

use super::tls_files::{self, AutoCerts, CertInfo};
use super::Config;
use crate::tls_policy::{
    parse_tls_versions, ssl_cipher_list, ssl_cipher_setting, tls_ciphersuites_setting, TlsPolicy,
    TlsVersion,
};

/// The values a TLS context is built from (`ssl_ca`, `ssl_capath`, `ssl_crl`, `ssl_crlpath`,
/// `ssl_cert`, `ssl_key`, `tls_version`, `ssl_cipher`, `tls_ciphersuites`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    pub ssl_ca: Option<PathBuf>,
    pub ssl_capath: Option<PathBuf>,
    pub ssl_crl: Option<PathBuf>,
    pub ssl_crlpath: Option<PathBuf>,
    pub ssl_cert: Option<PathBuf>,
    pub ssl_key: Option<PathBuf>,
    pub tls_version: String,
    /// `ssl_cipher` (TLS 1.2, OpenSSL names); `None` = MySQL's default list.
    pub ssl_cipher: Option<String>,
    /// `tls_ciphersuites` (TLS 1.3, IANA names); `None` = default, `""` = no TLS 1.3.
    pub tls_ciphersuites: Option<String>,
}

/// A built, usable TLS context.
pub struct ActiveTls {
    pub acceptor: TlsAcceptor,
    pub settings: TlsSettings,
    pub cert: CertInfo,
    pub versions: Vec<TlsVersion>,
    pub client_verification: bool,
    /// What the context negotiates (versions, suites in preference order, key type).
    pub policy: TlsPolicy,
    /// `Ssl_cipher_list` of connections using this context.
    pub cipher_list: String,
}

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
            match tls_files::auto_generate_certs(
                &config.datadir,
                hostname,
                std::time::SystemTime::now(),
            ) {
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

    pub fn current(&self) -> Option<Arc<ActiveTls>> {
        self.active
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn available(&self) -> bool {
        self.current().is_some()
    }

    pub fn staged(&self) -> TlsSettings {
        self.staged
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

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
    let versions = parse_tls_versions(&settings.tls_version).map_err(|e| e.to_string())?;
    for v in &versions.dropped {
        warn!(
            "tls_version lists {}, which this server's TLS library does not support; ignoring it",
            v.name()
        );
    }
    if versions.enabled.is_empty() {
        return Err("TLS version is invalid: tls_version enables no supported version".into());
    }
    let tls12 = ssl_cipher_setting(settings.ssl_cipher.as_deref()).map_err(|e| e.to_string())?;
    let tls13 = tls_ciphersuites_setting(settings.tls_ciphersuites.as_deref())
        .map_err(|e| e.to_string())?;
    for name in tls12.dropped.iter().chain(&tls13.dropped) {
        warn!(
            cipher = name,
            "cipher not supported by this server's TLS library; ignoring it"
        );
    }
    let (Some(cert), Some(key)) = (&settings.ssl_cert, &settings.ssl_key) else {
        return Err("SSL context is not usable without certificate and private key".into());
    };
    let trust = tls_files::TrustFiles {
        ca: settings.ssl_ca.as_deref(),
        capath: settings.ssl_capath.as_deref(),
        crl: settings.ssl_crl.as_deref(),
        crlpath: settings.ssl_crlpath.as_deref(),
    };
    let material = tls_files::load_tls_material(cert, key, &trust).map_err(|e| e.to_string())?;
    let key_type = tls_files::cert_key_type(&material).map_err(|e| e.to_string())?;
    let policy = TlsPolicy::new(&versions, &tls12, &tls13, key_type);
    policy.check().map_err(|e| e.to_string())?;
    let usable = policy.usable_versions();
    if usable != versions.enabled {
        warn!(
            usable = %usable.iter().map(|v| v.name()).collect::<Vec<_>>().join(","),
            "some enabled TLS versions have no usable cipher suite with this certificate"
        );
    }
    let rustls_versions: Vec<&'static rustls::SupportedProtocolVersion> = versions
        .enabled
        .iter()
        .filter_map(|v| match v {
            TlsVersion::V1_2 => Some(&rustls::version::TLS12),
            TlsVersion::V1_3 => Some(&rustls::version::TLS13),
            _ => None,
        })
        .collect();
    let codes: Vec<u16> = tls13.codes.iter().chain(&tls12.codes).copied().collect();
    let suites = tls_files::rustls_suites(&codes);
    let config = tls_files::server_config(&material, &rustls_versions, Some(suites))
        .map_err(|e| e.to_string())?;
    Ok(ActiveTls {
        acceptor: TlsAcceptor::from(config),
        settings: settings.clone(),
        cert: material.server_cert.clone(),
        versions: versions.enabled,
        client_verification: material.client_roots.is_some(),
        cipher_list: ssl_cipher_list(&policy),
        policy,
    })
}
