//! System and status variables: what `SHOW VARIABLES`, `SHOW STATUS`, `@@name` and the
//! performance_schema tables report. Names and formats follow MySQL 8.0.

use std::sync::atomic::Ordering;

use super::admin::ConnState;
use super::Shared;

/// The version in the greeting and `@@version`: ≥ 8.0.5 so Connector/J uses OAEP
/// (docs/protocol.md, "Server version string").
pub const SERVER_VERSION: &str = "8.0.40-vestibule";
pub const VERSION_COMMENT: &str = "Vestibule MySQL-protocol front door";

/// The global variables of MySQL 8.0's account security, with MySQL's defaults: what `SELECT
/// @@…` reads and `SET GLOBAL …` changes. The login path (issue 13 part B) reads them from
/// [`super::GlobalVars::account_security`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountSecurityVars {
    /// `default_password_lifetime` (days, 0..=65535; 0 = passwords never expire by age): the
    /// lifetime of accounts with `PASSWORD EXPIRE DEFAULT`.
    pub default_password_lifetime: u32,
    /// `disconnect_on_expired_password` (ON; read-only at run time, as in MySQL): a client that
    /// cannot handle an expired password gets 1862 instead of the sandbox.
    pub disconnect_on_expired_password: bool,
    /// `password_history` (0..=4294967295): for `PASSWORD HISTORY DEFAULT`.
    pub password_history: u32,
    /// `password_reuse_interval` (days, 0..=4294967295): for `PASSWORD REUSE INTERVAL DEFAULT`.
    pub password_reuse_interval: u32,
    /// `password_require_current` (OFF): for `PASSWORD REQUIRE CURRENT DEFAULT`.
    pub password_require_current: bool,
    /// `max_user_connections` (0..=4294967295, 0 = unlimited): per account, for accounts
    /// without `MAX_USER_CONNECTIONS` (1203).
    pub max_user_connections: u32,
    /// `max_connect_errors` (1..=18446744073709551615, 100): consecutive handshake errors
    /// before a host is blocked (1129).
    pub max_connect_errors: u64,
    /// `connection_control_failed_connections_threshold` (0..=2147483647, 3; 0 = off).
    pub connection_control_failed_connections_threshold: u32,
    /// `connection_control_min_connection_delay` (ms, 1000..=2147483647, 1000; never above the
    /// maximum).
    pub connection_control_min_connection_delay: u32,
    /// `connection_control_max_connection_delay` (ms, 1000..=2147483647, 2147483647; never
    /// below the minimum).
    pub connection_control_max_connection_delay: u32,
}

impl Default for AccountSecurityVars {
    /// MySQL 8.0's defaults (and the connection_control plugin's).
    fn default() -> Self {
        AccountSecurityVars {
            default_password_lifetime: 0,
            disconnect_on_expired_password: true,
            password_history: 0,
            password_reuse_interval: 0,
            password_require_current: false,
            max_user_connections: 0,
            max_connect_errors: 100,
            connection_control_failed_connections_threshold: 3,
            connection_control_min_connection_delay: 1000,
            connection_control_max_connection_delay: CONNECTION_CONTROL_MAX,
        }
    }
}

/// The largest connection_control value (`INT_MAX32`).
const CONNECTION_CONTROL_MAX: u32 = 2_147_483_647;

/// How `SET GLOBAL` treats one of the [`AccountSecurityVars`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SecurityVarKind {
    /// A server integer: out of `min..=max` is clamped with warning 1292.
    Clamped { min: u64, max: u64 },
    /// A connection_control integer: out of `min..=max` is refused with 1231 (the plugin's
    /// check functions).
    Checked { min: u64, max: u64 },
    /// `ON` / `OFF`.
    Bool,
    /// Not settable at run time (1238).
    ReadOnly,
}

impl AccountSecurityVars {
    /// The variable names, as `SHOW VARIABLES` and `SET` spell them, with how they are set.
    pub(crate) const VARIABLES: [(&'static str, SecurityVarKind); 10] = [
        (
            "connection_control_failed_connections_threshold",
            SecurityVarKind::Checked {
                min: 0,
                max: CONNECTION_CONTROL_MAX as u64,
            },
        ),
        (
            "connection_control_max_connection_delay",
            SecurityVarKind::Checked {
                min: 1000,
                max: CONNECTION_CONTROL_MAX as u64,
            },
        ),
        (
            "connection_control_min_connection_delay",
            SecurityVarKind::Checked {
                min: 1000,
                max: CONNECTION_CONTROL_MAX as u64,
            },
        ),
        (
            "default_password_lifetime",
            SecurityVarKind::Clamped { min: 0, max: 65535 },
        ),
        ("disconnect_on_expired_password", SecurityVarKind::ReadOnly),
        (
            "max_connect_errors",
            SecurityVarKind::Clamped {
                min: 1,
                max: u64::MAX,
            },
        ),
        (
            "max_user_connections",
            SecurityVarKind::Clamped {
                min: 0,
                max: u32::MAX as u64,
            },
        ),
        (
            "password_history",
            SecurityVarKind::Clamped {
                min: 0,
                max: u32::MAX as u64,
            },
        ),
        ("password_require_current", SecurityVarKind::Bool),
        (
            "password_reuse_interval",
            SecurityVarKind::Clamped {
                min: 0,
                max: u32::MAX as u64,
            },
        ),
    ];

    /// How `name` is set, if it is one of these variables.
    pub(crate) fn kind(name: &str) -> Option<SecurityVarKind> {
        Self::VARIABLES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, k)| *k)
    }

    /// The value of `name` as a number (booleans as 0 / 1).
    pub fn get(&self, name: &str) -> Option<u64> {
        Some(match name {
            "connection_control_failed_connections_threshold" => {
                u64::from(self.connection_control_failed_connections_threshold)
            }
            "connection_control_max_connection_delay" => {
                u64::from(self.connection_control_max_connection_delay)
            }
            "connection_control_min_connection_delay" => {
                u64::from(self.connection_control_min_connection_delay)
            }
            "default_password_lifetime" => u64::from(self.default_password_lifetime),
            "disconnect_on_expired_password" => u64::from(self.disconnect_on_expired_password),
            "max_connect_errors" => self.max_connect_errors,
            "max_user_connections" => u64::from(self.max_user_connections),
            "password_history" => u64::from(self.password_history),
            "password_require_current" => u64::from(self.password_require_current),
            "password_reuse_interval" => u64::from(self.password_reuse_interval),
            _ => return None,
        })
    }

    /// Sets `name` to `value`, which the caller has put in the variable's range (booleans as
    /// 0 / 1); `false` for any other name.
    pub fn set(&mut self, name: &str, value: u64) -> bool {
        let small = u32::try_from(value).unwrap_or(u32::MAX);
        match name {
            "connection_control_failed_connections_threshold" => {
                self.connection_control_failed_connections_threshold = small;
            }
            "connection_control_max_connection_delay" => {
                self.connection_control_max_connection_delay = small;
            }
            "connection_control_min_connection_delay" => {
                self.connection_control_min_connection_delay = small;
            }
            "default_password_lifetime" => self.default_password_lifetime = small,
            "disconnect_on_expired_password" => self.disconnect_on_expired_password = value != 0,
            "max_connect_errors" => self.max_connect_errors = value,
            "max_user_connections" => self.max_user_connections = small,
            "password_history" => self.password_history = small,
            "password_require_current" => self.password_require_current = value != 0,
            "password_reuse_interval" => self.password_reuse_interval = small,
            _ => return false,
        }
        true
    }

    /// The inputs of account statements: `password_history`, `password_reuse_interval`,
    /// `password_require_current`.
    pub fn password_policy(&self) -> crate::account_ops::PasswordPolicy {
        crate::account_ops::PasswordPolicy {
            password_history: self.password_history,
            password_reuse_interval: self.password_reuse_interval,
            password_require_current: self.password_require_current,
        }
    }

    /// `(name, value)` for `SHOW VARIABLES`: booleans as `ON` / `OFF`.
    fn shown(&self) -> Vec<(&'static str, String)> {
        Self::VARIABLES
            .iter()
            .map(|(name, kind)| {
                let v = self.get(name).unwrap_or_default();
                let text = match kind {
                    SecurityVarKind::Bool | SecurityVarKind::ReadOnly => on_off(v != 0),
                    _ => v.to_string(),
                };
                (*name, text)
            })
            .collect()
    }
}

/// Scope of a `SHOW … VARIABLES|STATUS` or `@@` read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Session,
    Global,
}

fn on_off(b: bool) -> String {
    if b { "ON" } else { "OFF" }.to_string()
}

fn path_or_empty(p: &Option<std::path::PathBuf>) -> String {
    p.as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default()
}

/// System variables, name → value, sorted by name. Session scope overlays what the client set.
pub fn system_variables(
    shared: &Shared,
    st: Option<&ConnState>,
    scope: Scope,
) -> Vec<(String, String)> {
    let c = &shared.config;
    let staged = shared.tls.staged();
    let tls_on = shared.tls.available();
    let timeouts = match (scope, st) {
        (Scope::Session, Some(st)) => st.timeouts,
        _ => shared.timeouts(),
    };
    let security = shared.account_security();
    let mut v: Vec<(String, String)> = vec![
        ("auto_generate_certs", on_off(c.auto_generate_certs)),
        ("autocommit", "ON".into()),
        ("caching_sha2_password_auto_generate_rsa_keys", on_off(c.sha2_auto_generate_rsa_keys)),
        ("caching_sha2_password_digest_rounds", c.digest_rounds.to_string()),
        ("caching_sha2_password_private_key_path", c.sha2_private_key.display().to_string()),
        ("caching_sha2_password_public_key_path", c.sha2_public_key.display().to_string()),
        ("character_set_client", "utf8mb4".into()),
        ("character_set_connection", "utf8mb4".into()),
        ("character_set_database", "utf8mb4".into()),
        ("character_set_results", "utf8mb4".into()),
        ("character_set_server", "utf8mb4".into()),
        ("character_set_system", "utf8mb3".into()),
        ("collation_connection", "utf8mb4_0900_ai_ci".into()),
        ("collation_database", "utf8mb4_0900_ai_ci".into()),
        ("collation_server", "utf8mb4_0900_ai_ci".into()),
        ("connect_timeout", c.connect_timeout.to_string()),
        ("datadir", c.datadir.display().to_string()),
        ("default_authentication_plugin", c.default_plugin.name().into()),
        ("have_openssl", if tls_on { "YES" } else { "DISABLED" }.into()),
        ("have_ssl", if tls_on { "YES" } else { "DISABLED" }.into()),
        ("hostname", shared.hostname.clone()),
        ("init_connect", String::new()),
        ("interactive_timeout", timeouts.get("interactive_timeout").unwrap_or_default().to_string()),
        ("license", "Apache-2.0".into()),
        ("lower_case_table_names", "0".into()),
        ("max_allowed_packet", c.max_allowed_packet.to_string()),
        ("max_connections", c.max_connections.to_string()),
        ("net_buffer_length", "16384".into()),
        ("net_read_timeout", timeouts.get("net_read_timeout").unwrap_or_default().to_string()),
        ("net_write_timeout", timeouts.get("net_write_timeout").unwrap_or_default().to_string()),
        ("performance_schema", "ON".into()),
        ("port", shared.tcp_port.load(Ordering::Relaxed).to_string()),
        ("protocol_version", "10".into()),
        ("require_secure_transport", on_off(shared.require_secure_transport())),
        ("sha256_password_auto_generate_rsa_keys", on_off(c.sha256_auto_generate_rsa_keys)),
        ("sha256_password_private_key_path", c.sha256_private_key.display().to_string()),
        ("sha256_password_public_key_path", c.sha256_public_key.display().to_string()),
        ("socket", path_or_empty(&shared.socket_path)),
        ("sql_mode", "ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION".into()),
        ("ssl_ca", path_or_empty(&staged.ssl_ca)),
        ("ssl_capath", path_or_empty(&staged.ssl_capath)),
        ("ssl_cipher", staged.ssl_cipher.clone().unwrap_or_default()),
        ("ssl_cert", path_or_empty(&staged.ssl_cert)),
        ("ssl_crl", path_or_empty(&staged.ssl_crl)),
        ("ssl_crlpath", path_or_empty(&staged.ssl_crlpath)),
        ("ssl_key", path_or_empty(&staged.ssl_key)),
        (
            "ssl_session_cache_mode",
            if staged.ssl_session_cache_mode { "ON" } else { "OFF" }.into(),
        ),
        (
            "ssl_session_cache_timeout",
            staged.ssl_session_cache_timeout.to_string(),
        ),
        ("system_time_zone", "UTC".into()),
        ("time_zone", "SYSTEM".into()),
        ("tls_ciphersuites", staged.tls_ciphersuites.clone().unwrap_or_default()),
        ("tls_version", staged.tls_version.clone()),
        ("transaction_isolation", "REPEATABLE-READ".into()),
        ("transaction_read_only", "OFF".into()),
        ("tx_isolation", "REPEATABLE-READ".into()),
        ("version", c.server_version.clone()),
        ("version_comment", VERSION_COMMENT.into()),
        ("version_compile_machine", std::env::consts::ARCH.into()),
        ("version_compile_os", "Linux".into()),
        ("wait_timeout", timeouts.get("wait_timeout").unwrap_or_default().to_string()),
    ]
    .into_iter()
    .chain(security.shown())
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    v.sort();
    if let (Scope::Session, Some(st)) = (scope, st) {
        for (k, val) in &st.session_vars {
            match v.iter_mut().find(|(name, _)| name == k) {
                Some(slot) => slot.1 = val.clone(),
                None => v.push((k.clone(), val.clone())),
            }
        }
        v.sort();
    }
    v
}

/// Looks up one system variable (case-insensitive name).
pub fn system_variable(
    shared: &Shared,
    st: Option<&ConnState>,
    scope: Scope,
    name: &str,
) -> Option<String> {
    let name = name.to_ascii_lowercase();
    system_variables(shared, st, scope)
        .into_iter()
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Status variables, sorted by name. Session-only TLS variables are empty/0 in global scope;
/// in session scope they describe the TLS context the connection was accepted with (which a
/// later `ALTER INSTANCE RELOAD TLS` does not change).
pub fn status_variables(
    shared: &Shared,
    st: Option<&ConnState>,
    scope: Scope,
) -> Vec<(String, String)> {
    let s = &shared.stats;
    let active = shared.tls.current();
    let (tls, conn_ctx) = match (scope, st) {
        (Scope::Session, Some(st)) => (st.session.tls.clone(), st.tls_ctx.clone()),
        _ => (None, None),
    };
    let count = |c: &std::sync::atomic::AtomicU64| c.load(Ordering::Relaxed).to_string();
    let rsa_pem = |k: &Option<std::sync::Arc<super::rsa_keys::RsaKeyPair>>| {
        k.as_ref()
            .map(|k| k.public_pem().to_string())
            .unwrap_or_default()
    };
    let mode = |ctx: &Option<std::sync::Arc<super::tls::ActiveTls>>| {
        ctx.as_ref()
            .map_or("0", |a| if a.client_verification { "5" } else { "0" })
            .to_string()
    };
    let current =
        |f: &dyn Fn(&super::tls::ActiveTls) -> String| active.as_deref().map(f).unwrap_or_default();
    let opt_path = |p: &Option<std::path::PathBuf>| path_or_empty(p);
    // The live context's session cache (OpenSSL's counters: docs in `tls::SessionCache`).
    let cache = active.as_ref().and_then(|a| a.session_cache.as_ref());
    let cache_stats = cache.map(|c| c.stats()).unwrap_or_default();
    const UNLIMITED_DEPTH: &str = "18446744073709551615";
    let v: Vec<(&str, String)> = vec![
        ("Aborted_connects", count(&s.aborted_connects)),
        (
            "Caching_sha2_password_fast_path_auths",
            count(&s.fast_path_auths),
        ),
        ("Caching_sha2_password_full_auths", count(&s.full_auths)),
        ("Caching_sha2_password_rsa_public_key", rsa_pem(&shared.rsa)),
        ("Connections", count(&s.connections)),
        (
            "Connection_control_delay_generated",
            count(&shared.throttle.delays_generated),
        ),
        ("Current_tls_ca", current(&|a| opt_path(&a.settings.ssl_ca))),
        (
            "Current_tls_capath",
            current(&|a| opt_path(&a.settings.ssl_capath)),
        ),
        (
            "Current_tls_cert",
            current(&|a| opt_path(&a.settings.ssl_cert)),
        ),
        (
            "Current_tls_cipher",
            current(&|a| a.settings.ssl_cipher.clone().unwrap_or_default()),
        ),
        (
            "Current_tls_ciphersuites",
            current(&|a| a.settings.tls_ciphersuites.clone().unwrap_or_default()),
        ),
        (
            "Current_tls_crl",
            current(&|a| opt_path(&a.settings.ssl_crl)),
        ),
        (
            "Current_tls_crlpath",
            current(&|a| opt_path(&a.settings.ssl_crlpath)),
        ),
        (
            "Current_tls_key",
            current(&|a| opt_path(&a.settings.ssl_key)),
        ),
        (
            "Current_tls_version",
            current(&|a| a.settings.tls_version.clone()),
        ),
        ("Questions", count(&s.questions)),
        ("Rsa_public_key", rsa_pem(&shared.sha256_rsa)),
        ("Ssl_accept_renegotiates", "0".into()),
        ("Ssl_accepts", count(&shared.tls.accepts)),
        (
            "Ssl_cipher",
            tls.as_ref().map(|t| t.cipher.clone()).unwrap_or_default(),
        ),
        (
            "Ssl_cipher_list",
            conn_ctx
                .as_ref()
                .map(|a| a.cipher_list.clone())
                .unwrap_or_default(),
        ),
        ("Ssl_client_connects", "0".into()),
        ("Ssl_connect_renegotiates", "0".into()),
        (
            "Ssl_ctx_verify_depth",
            if active.is_some() {
                UNLIMITED_DEPTH
            } else {
                "0"
            }
            .into(),
        ),
        ("Ssl_ctx_verify_mode", mode(&active)),
        (
            "Ssl_default_timeout",
            if tls.is_some() { "7200" } else { "0" }.into(),
        ),
        ("Ssl_finished_accepts", count(&shared.tls.finished_accepts)),
        ("Ssl_finished_connects", "0".into()),
        (
            "Ssl_server_not_after",
            current(&|a| a.cert.not_after.clone()),
        ),
        (
            "Ssl_server_not_before",
            current(&|a| a.cert.not_before.clone()),
        ),
        ("Ssl_session_cache_hits", cache_stats.hits.to_string()),
        ("Ssl_session_cache_misses", cache_stats.misses.to_string()),
        (
            "Ssl_session_cache_mode",
            if cache.is_some() { "SERVER" } else { "OFF" }.into(),
        ),
        (
            "Ssl_session_cache_overflows",
            cache_stats.overflows.to_string(),
        ),
        (
            "Ssl_session_cache_size",
            cache.map_or(0, |c| c.size()).to_string(),
        ),
        (
            "Ssl_session_cache_timeout",
            cache.map_or(0, |c| c.timeout().as_secs()).to_string(),
        ),
        (
            "Ssl_session_cache_timeouts",
            cache_stats.timeouts.to_string(),
        ),
        // Session scope: whether this session's TLS was resumed (MySQL's SSL_session_reused);
        // global: how many handshakes resumed.
        (
            "Ssl_sessions_reused",
            match (scope, st) {
                (Scope::Session, Some(st)) => {
                    u8::from(st.session.tls.as_ref().is_some_and(|t| t.resumed)).to_string()
                }
                _ => count(&s.tls_resumed),
            },
        ),
        (
            "Ssl_used_session_cache_entries",
            cache_stats.used_entries.to_string(),
        ),
        (
            "Ssl_verify_depth",
            if tls.is_some() { UNLIMITED_DEPTH } else { "0" }.into(),
        ),
        (
            "Ssl_verify_mode",
            if tls.is_some() {
                mode(&conn_ctx)
            } else {
                "0".into()
            },
        ),
        (
            "Ssl_version",
            tls.as_ref().map(|t| t.version.clone()).unwrap_or_default(),
        ),
        ("Threads_connected", count(&s.threads_connected)),
        ("Uptime", shared.started.elapsed().as_secs().to_string()),
    ];
    let mut v: Vec<(String, String)> = v.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    if let Some(extra) = shared.extra_status.get() {
        v.extend(extra());
    }
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}
