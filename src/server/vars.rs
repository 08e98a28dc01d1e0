//! System and status variables: what `SHOW VARIABLES`, `SHOW STATUS`, `@@name` and the
//! performance_schema tables report. Names and formats follow MySQL 8.0.

use std::sync::atomic::Ordering;

use super::admin::ConnState;
use super::Shared;

/// The version in the greeting and `@@version`: ≥ 8.0.5 so Connector/J uses OAEP
/// (docs/protocol.md, "Server version string").
pub const SERVER_VERSION: &str = "8.0.40-vestibule";
pub const VERSION_COMMENT: &str = "Vestibule MySQL-protocol front door";

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
    .map(|(k, v)| (k.to_string(), v))
    .collect();
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
        (
            "Ssl_session_cache_mode",
            if active.is_some() { "SERVER" } else { "OFF" }.into(),
        ),
        ("Ssl_sessions_reused", "0".into()),
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
