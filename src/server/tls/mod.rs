//! The server's TLS: the live context, built at startup from `ssl_cert` / `ssl_key` / `ssl_ca` /
//! `tls_version` … (or from certificates generated in the data dir), swapped atomically by
//! `ALTER INSTANCE RELOAD TLS` from the staged values. Connections take a snapshot (`Arc`) when
//! they start, so a reload never disturbs a connection already open.
//!
//! The parts, one concern each:
//! - `config`: [`TlsConfig`] and [`TlsIdentity`], what an embedder hands over: each part from
//!   files or from memory (PEM bytes or rustls types), with the TLS policy;
//! - `generate`: MySQL's `auto_generate_certs` (the six PEM files in the data dir);
//! - `load`: reading the certificate chain, key, CA certificates and CRLs, with MySQL's checks;
//! - `context`: the rustls server configuration under the TLS policy;
//! - `describe`: certificates as OpenSSL prints them (one-line DNs, times, SANs);
//! - `dn_fuzz`: the fuzz body of the one-line DN text;
//! - `error`: [`TlsFileError`] and [`TlsError`], with MySQL's texts.
//!
//! This module owns the live state and its reload. It never listens on sockets and never
//! evaluates REQUIRE rules.
#![warn(missing_docs)]

mod config;
mod context;
mod describe;
#[cfg(any(test, feature = "fuzzing"))]
mod dn_fuzz;
mod error;
mod generate;
mod load;
mod session_cache;
#[cfg(test)]
pub(crate) mod test_support;

use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, RwLock};

use tokio_rustls::TlsAcceptor;
use tracing::{error, info, warn};

pub use config::{TlsConfig, TlsIdentity};
pub use context::{cert_key_type, default_versions, rustls_suites, server_config};
pub use describe::{
    cert_info, describe_cert, format_openssl_time, format_openssl_time_unix, x509_name_oneline,
    CertInfo,
};
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub use dn_fuzz::fuzz_dn;
pub use error::{TlsError, TlsFileError};
pub(crate) use generate::write_file_atomic;
pub use generate::{
    auto_generate_certs, auto_generate_certs_with_key_type, AutoCertKeyType, AutoCerts,
    CA_CERT_FILE, CA_KEY_FILE, CLIENT_CERT_FILE, CLIENT_KEY_FILE, SERVER_CERT_FILE,
    SERVER_KEY_FILE,
};
pub use load::{load_tls_material, TlsMaterial, TrustFiles};
pub use session_cache::{SessionCache, SessionCacheStats, SESSION_CACHE_SIZE};

use super::Config;
use crate::tls_policy::{ssl_cipher_list, TlsPolicy, TlsVersion};
use config::InMemory;
use load::Identity;

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
    /// `ssl_session_cache_mode`: sessions are cached for resumption (and TLS 1.3 tickets sent).
    pub ssl_session_cache_mode: bool,
    /// `ssl_session_cache_timeout`: seconds a cached session stays usable.
    pub ssl_session_cache_timeout: u64,
}

impl Default for TlsSettings {
    /// No files, MySQL 8.0's default policy: `tls_version=TLSv1.2,TLSv1.3`, the default
    /// `ssl_cipher` and `tls_ciphersuites` lists.
    fn default() -> TlsSettings {
        TlsSettings {
            ssl_ca: None,
            ssl_capath: None,
            ssl_crl: None,
            ssl_crlpath: None,
            ssl_cert: None,
            ssl_key: None,
            tls_version: "TLSv1.2,TLSv1.3".into(),
            ssl_cipher: None,
            tls_ciphersuites: None,
            ssl_session_cache_mode: true,
            ssl_session_cache_timeout: 300,
        }
    }
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
    /// Whether client certificates are requested and verified (client CAs configured, from
    /// `ssl_ca` / `ssl_capath` or memory): MySQL's verify mode 5 (`Ssl_ctx_verify_mode`), else 0.
    pub client_verification: bool,
    /// What the context negotiates (versions, suites in preference order, key type).
    pub policy: TlsPolicy,
    /// `Ssl_cipher_list` of connections using this context.
    pub cipher_list: String,
    /// The context's session cache (`None`: `ssl_session_cache_mode=OFF`).
    pub session_cache: Option<Arc<SessionCache>>,
}

/// The live TLS context of a server and the values staged for the next
/// `ALTER INSTANCE RELOAD TLS`.
///
/// A reload builds a new context from the staged values (the parts of the [`TlsConfig`] given in
/// memory are kept, see there) and swaps it in; connections already open keep the context they
/// started with.
pub struct TlsState {
    active: RwLock<Option<Arc<ActiveTls>>>,
    staged: RwLock<TlsSettings>,
    /// The parts given in memory, the same for every context.
    memory: InMemory,
    /// `Ssl_accepts`: TLS handshakes started.
    pub accepts: AtomicU64,
    /// `Ssl_finished_accepts`: TLS handshakes completed.
    pub finished_accepts: AtomicU64,
}

impl TlsState {
    /// The live state for `config`; a configuration from which no context can be built is an
    /// error (unlike MySQL's startup, see [`TlsState::new_or_disabled`]). Files are read now.
    pub fn new(config: TlsConfig) -> Result<TlsState, TlsError> {
        let active = build(&config.settings, &config.memory)?;
        Ok(TlsState::with(config, Some(Arc::new(active))))
    }

    /// MySQL's startup rule: the live state for `config`, or, when no context can be built from
    /// it, TLS disabled with the reason in the log; the configuration stays staged, so
    /// `ALTER INSTANCE RELOAD TLS` can enable TLS once the files are fixed.
    pub fn new_or_disabled(config: TlsConfig) -> TlsState {
        let active = match build(&config.settings, &config.memory) {
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
        TlsState::with(config, active)
    }

    /// TLS disabled: the greeting does not offer SSL. MySQL's default policy and no files are
    /// staged, so a reload succeeds only after `SET GLOBAL ssl_cert` and `ssl_key`.
    pub fn disabled() -> TlsState {
        TlsState::with(TlsConfig::from_settings(TlsSettings::default()), None)
    }

    fn with(config: TlsConfig, active: Option<Arc<ActiveTls>>) -> TlsState {
        TlsState {
            active: RwLock::new(active),
            staged: RwLock::new(config.settings),
            memory: config.memory,
            accepts: AtomicU64::new(0),
            finished_accepts: AtomicU64::new(0),
        }
    }

    /// MySQL's startup behaviour from the server's options: explicit files, else auto-generated
    /// ones; any failure leaves the server running without TLS, with the reason in the log.
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
            ssl_session_cache_mode: config.ssl_session_cache_mode,
            ssl_session_cache_timeout: config.ssl_session_cache_timeout,
        };
        if settings.ssl_cert.is_none() && settings.ssl_key.is_none() && config.auto_generate_certs {
            let key_type = config.auto_generate_certs_key_type;
            let now = std::time::SystemTime::now();
            match auto_generate_certs_with_key_type(&config.datadir, hostname, now, key_type) {
                Ok(outcome) => {
                    if outcome == AutoCerts::Generated {
                        info!(datadir = %config.datadir.display(), %key_type, "generated CA, server and client certificates");
                    }
                    if let AutoCerts::PartialSetPresent(present) = &outcome {
                        warn!(?present, "only some of ca.pem, server-cert.pem, server-key.pem exist; not generating certificates");
                    }
                    let ca = config.datadir.join(CA_CERT_FILE);
                    settings.ssl_cert = Some(config.datadir.join(SERVER_CERT_FILE));
                    settings.ssl_key = Some(config.datadir.join(SERVER_KEY_FILE));
                    if settings.ssl_ca.is_none() && settings.ssl_capath.is_none() && ca.exists() {
                        settings.ssl_ca = Some(ca);
                    }
                }
                Err(e) => error!("cannot generate certificates: {e}"),
            }
        }
        TlsState::new_or_disabled(TlsConfig::from_settings(settings))
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

    /// `ALTER INSTANCE RELOAD TLS`: builds a context from the staged values (and the parts given
    /// in memory, which a reload keeps) and swaps it in. On failure the old context stays
    /// (Err), or with `no_rollback` TLS is disabled for new connections and the error becomes a
    /// warning (Ok(Some(warning))).
    pub fn reload(&self, no_rollback: bool) -> Result<Option<String>, String> {
        let settings = self.staged();
        match build(&settings, &self.memory) {
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
                Ok(Some(e.to_string()))
            }
            Err(e) => {
                warn!("TLS reload failed, keeping the previous context: {e}");
                Err(e.to_string())
            }
        }
    }
}

/// Builds a context: the version list first (holes rejected, unsupported versions dropped with
/// a warning, nothing left = TLS disabled), then the cipher lists, then the certificate and key,
/// the CA certificates and the CRLs (each from memory when given there, else from the files
/// `settings` names); finally the policy is checked against the certificate's key type.
fn build(settings: &TlsSettings, memory: &InMemory) -> Result<ActiveTls, TlsError> {
    let choice = context::PolicyChoice::parse(
        &settings.tls_version,
        settings.ssl_cipher.as_deref(),
        settings.tls_ciphersuites.as_deref(),
    )?;
    let from_files;
    let identity: &Identity = match &memory.identity {
        Some(identity) => identity,
        None => {
            let (Some(cert), Some(key)) = (&settings.ssl_cert, &settings.ssl_key) else {
                return Err(TlsError::NoCertificate);
            };
            from_files = Identity::from_files(cert, key)?;
            &from_files
        }
    };
    let client_roots = match &memory.client_roots {
        Some(roots) => Some(Arc::clone(roots)),
        None => {
            load::load_client_roots(settings.ssl_ca.as_deref(), settings.ssl_capath.as_deref())?
        }
    };
    let crls = match &memory.crls {
        Some(crls) => crls.to_vec(),
        None => load::load_crls(settings.ssl_crl.as_deref(), settings.ssl_crlpath.as_deref())?,
    };
    let material = TlsMaterial {
        cert_chain: identity.cert_chain.clone(),
        key: identity.key.clone_key(),
        client_roots,
        crls,
        server_cert: identity.server_cert.clone(),
    };
    let ctx = choice.context(&material)?;
    // Sessions for resumption: MySQL's 128-entry cache with `ssl_session_cache_timeout`, or
    // none at all (no session ids, no TLS 1.3 tickets) when the mode is OFF. One TLS 1.3 ticket
    // per handshake, not rustls's (and OpenSSL's) two: a resumed handshake gets a new one, so a
    // client reconnecting one connection at a time always has one, and each ticket costs the
    // server a key derivation, a cache entry and a record (about 8 µs of a 200 µs handshake:
    // benches/README.md, "Side-by-side storm").
    let mut config = Arc::unwrap_or_clone(ctx.config);
    let session_cache = settings.ssl_session_cache_mode.then(|| {
        Arc::new(SessionCache::new(
            SESSION_CACHE_SIZE,
            std::time::Duration::from_secs(settings.ssl_session_cache_timeout),
        ))
    });
    match &session_cache {
        Some(cache) => {
            config.session_storage = Arc::clone(cache) as _;
            config.send_tls13_tickets = 1;
        }
        None => {
            config.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
            config.send_tls13_tickets = 0;
        }
    }
    Ok(ActiveTls {
        acceptor: TlsAcceptor::from(Arc::new(config)),
        session_cache,
        settings: memory.shown(settings),
        cert: material.server_cert,
        versions: ctx.versions,
        client_verification: material.client_roots.is_some(),
        cipher_list: ssl_cipher_list(&ctx.policy),
        policy: ctx.policy,
    })
}

#[cfg(test)]
mod tests {
    use super::test_support::{client_config, generated, handshake, pki, server_config_of};
    use super::*;
    use crate::tls_policy::PolicyError;
    use rustls::ProtocolVersion;

    /// RELOAD TLS keeps an in-memory identity and CA: staged `ssl_cert` / `ssl_key` / `ssl_ca`
    /// naming other (valid) files are not used for them, while the staged policy applies.
    #[test]
    fn reload_keeps_the_in_memory_identity() {
        let pki = pki();
        let config = TlsConfig::new(
            TlsIdentity::from_der(vec![pki.server.der().clone()], pki.server_key_der()).unwrap(),
        )
        .with_client_ca_der([pki.ca_der()])
        .unwrap();
        let state = TlsState::new(config).unwrap();
        let dir = generated();
        state.stage(|s| {
            s.ssl_cert = Some(dir.join(SERVER_CERT_FILE));
            s.ssl_key = Some(dir.join(SERVER_KEY_FILE));
            s.ssl_ca = Some(dir.join(CA_CERT_FILE));
            s.tls_version = "TLSv1.3".into();
        });
        assert_eq!(state.reload(false), Ok(None));
        let active = state.current().unwrap();
        assert_eq!(active.cert.subject, "/CN=in-memory server");
        assert_eq!(active.versions, [TlsVersion::V1_3]);
        assert_eq!(active.settings.ssl_cert, None);
        assert_eq!(active.settings.ssl_ca, None);
        assert_eq!(active.settings.tls_version, "TLSv1.3");
        let server = handshake(server_config_of(&state), pki.client(true), "localhost").unwrap();
        assert_eq!(server.protocol_version(), Some(ProtocolVersion::TLSv1_3));
        assert!(
            server.peer_certificates().is_some(),
            "the in-memory CA still verifies"
        );

        // The staged policy is still checked: a bad one fails and the context stays.
        state.stage(|s| s.tls_version = "TLSv1.1,TLSv1.3".into());
        assert!(state.reload(false).unwrap_err().contains("hole"));
        assert_eq!(state.current().unwrap().versions, [TlsVersion::V1_3]);
    }

    /// Parts from files are read again by a reload, next to an in-memory part.
    #[test]
    fn reload_rereads_file_parts_beside_in_memory_ones() {
        let pki = pki();
        let files = tempfile::tempdir().unwrap();
        let ca = files.path().join("ca.pem");
        std::fs::write(&ca, pki.ca.pem()).unwrap();
        let config = TlsConfig::new(
            TlsIdentity::from_pem(
                pki.server.pem().as_bytes(),
                pki.server_key.serialize_pem().as_bytes(),
            )
            .unwrap(),
        )
        .with_client_ca_files(Some(ca.clone()), None);
        let state = TlsState::new(config).unwrap();
        let active = state.current().unwrap();
        assert!(active.client_verification);
        assert_eq!(active.settings.ssl_ca.as_deref(), Some(ca.as_path()));
        std::fs::remove_file(&ca).unwrap();
        let err = state.reload(false).unwrap_err();
        assert!(
            err.starts_with("SSL_CTX_set_default_verify_paths failed"),
            "{err}"
        );
        assert_eq!(state.reload(true), Ok(Some(err)));
        assert!(!state.available());
    }

    /// What stops a context from being built, as typed errors; the non-strict constructor
    /// starts with TLS disabled instead, the configuration staged.
    #[test]
    fn unusable_configurations_are_typed_errors() {
        let pki = pki();
        let identity =
            || TlsIdentity::from_der(vec![pki.server.der().clone()], pki.server_key_der()).unwrap();
        let new = |c: TlsConfig| TlsState::new(c).err().unwrap();
        assert!(matches!(
            new(TlsConfig::new(identity()).with_tls_version("TLSv1.4")),
            TlsError::TlsVersion(_)
        ));
        assert!(matches!(
            new(TlsConfig::new(identity()).with_tls_version("")),
            TlsError::NoSupportedVersion
        ));
        assert!(matches!(
            new(TlsConfig::new(identity()).with_ssl_cipher("NOT-A-CIPHER")),
            TlsError::Cipher(_)
        ));
        let err = new(TlsConfig::from_settings(TlsSettings::default()));
        assert!(matches!(err, TlsError::NoCertificate));
        assert_eq!(
            err.to_string(),
            "SSL context is not usable without certificate and private key"
        );
        let err = new(TlsConfig::new(TlsIdentity::from_files(
            "/nonexistent/c.pem",
            "k.pem",
        )));
        assert!(matches!(
            err,
            TlsError::Material(TlsFileError::CertificateIo { .. })
        ));
        // TLS 1.3 only, with no TLS 1.3 suite: nothing can be negotiated.
        let err = new(TlsConfig::new(identity())
            .with_tls_version("TLSv1.3")
            .with_tls_ciphersuites(""));
        assert!(
            matches!(err, TlsError::Policy(PolicyError::NoCiphers)),
            "{err}"
        );

        let state =
            TlsState::new_or_disabled(TlsConfig::new(identity()).with_tls_version("TLSv1.4"));
        assert!(!state.available());
        assert_eq!(state.staged().tls_version, "TLSv1.4");
        let state = TlsState::disabled();
        assert!(!state.available());
        assert_eq!(state.staged(), TlsSettings::default());
        assert!(state.reload(false).is_err());
    }

    /// A configuration from files behaves as the server's options do.
    #[test]
    fn file_identity_and_ca_as_the_options_give_them() {
        let dir = generated();
        let config = TlsConfig::new(TlsIdentity::from_files(
            dir.join(SERVER_CERT_FILE),
            dir.join(SERVER_KEY_FILE),
        ))
        .with_client_ca_files(Some(dir.join(CA_CERT_FILE)), None);
        let state = TlsState::new(config.clone()).unwrap();
        let active = state.current().unwrap();
        assert!(active.client_verification);
        assert_eq!(active.settings, *config.settings());
        assert_eq!(
            active.cert.subject,
            "/CN=Vestibule_Auto_Generated_Server_Certificate"
        );
        let server = handshake(
            server_config_of(&state),
            client_config(Some(dir)),
            "localhost",
        )
        .unwrap();
        assert!(server.peer_certificates().is_some());
    }
}
