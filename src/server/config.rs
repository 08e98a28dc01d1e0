//! Server configuration: defaults, a TOML file (`--config`) and command-line flags, with mysqld's
//! option names. As mysqld does, dashes and underscores in option names are interchangeable, on
//! the command line and in the file. Precedence: flag > file > default.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use clap::Parser;

/// Largest value of MySQL's timeout variables (`wait_timeout`, `net_read_timeout` …): one year.
pub const MAX_TIMEOUT: u64 = 31_536_000;

/// Command-line flags. Every option can also be written with underscores (`--ssl_cert`).
#[derive(Debug, Clone, Parser, Default, PartialEq, Eq)]
#[command(
    name = "vestibule",
    version,
    next_line_help = true,
    about = "MySQL-protocol front door: TLS and caching_sha2_password authentication"
)]
pub struct Flags {
    /// TOML configuration file (flat keys or a `[mysqld]` table, mysqld option names).
    #[arg(
        long,
        value_name = "FILE",
        help = "TOML configuration file (flat keys or a [mysqld] table, mysqld option names)"
    )]
    pub config: Option<PathBuf>,
    /// Data directory: accounts file, generated certificates and RSA keys, the Unix socket.
    /// Default: ./vestibule-data
    #[arg(long)]
    pub datadir: Option<PathBuf>,
    /// TCP port. Default 3306; 0 picks a free port (logged at startup).
    #[arg(long, short = 'P')]
    pub port: Option<u16>,
    /// Address to listen on. Default 127.0.0.1.
    #[arg(long)]
    pub bind_address: Option<IpAddr>,
    /// Unix socket path (`""` disables it). Default `<datadir>/mysql.sock`.
    #[arg(
        long,
        help = "Unix socket path (\"\" disables it). Default <datadir>/mysql.sock"
    )]
    pub socket: Option<String>,
    /// Server certificate (PEM). With neither this nor --ssl-key, certificates are generated in the
    /// data dir on first start (auto_generate_certs).
    #[arg(long)]
    pub ssl_cert: Option<PathBuf>,
    /// Server private key (PEM, unencrypted).
    #[arg(long)]
    pub ssl_key: Option<PathBuf>,
    /// CA bundle used to verify client certificates (which remain optional unless an account
    /// requires one).
    #[arg(long)]
    pub ssl_ca: Option<PathBuf>,
    /// Directory of PEM CA certificate files client certificates are also verified against.
    #[arg(long)]
    pub ssl_capath: Option<PathBuf>,
    /// PEM file of certificate revocation lists; when set (or ssl_crlpath), client certificate
    /// chains are checked against CRLs, as MySQL does with OpenSSL's CRL_CHECK_ALL.
    #[arg(long)]
    pub ssl_crl: Option<PathBuf>,
    /// Directory of PEM CRL files.
    #[arg(long)]
    pub ssl_crlpath: Option<PathBuf>,
    /// Generate CA, server and client certificates in the data dir when none exist (default ON).
    #[arg(long)]
    pub auto_generate_certs: Option<Toggle>,
    /// Key type of the certificates --auto-generate-certs creates: ECDSA (P-256, default) or RSA
    /// (2048-bit). Existing files are kept whatever their key type.
    #[arg(long, value_name = "ECDSA|RSA")]
    pub auto_generate_certs_key_type: Option<super::tls::AutoCertKeyType>,
    /// TLS 1.2 cipher list, OpenSSL names separated by ':' (default: MySQL's list).
    #[arg(long)]
    pub ssl_cipher: Option<String>,
    /// TLS 1.3 cipher suites, IANA names separated by ':' ("" disables TLS 1.3).
    #[arg(long)]
    pub tls_ciphersuites: Option<String>,
    /// Permitted TLS versions, comma-separated (TLSv1.2,TLSv1.3). Empty disables TLS.
    #[arg(long)]
    pub tls_version: Option<String>,
    /// Cache TLS sessions for resumption (ON) or not (OFF). Default ON.
    #[arg(long)]
    pub ssl_session_cache_mode: Option<Toggle>,
    /// Seconds a cached TLS session stays usable, 0 to 86400. Default 300.
    #[arg(long)]
    pub ssl_session_cache_timeout: Option<u64>,
    /// Refuse logins over plain TCP (TLS or the Unix socket required). Default OFF.
    #[arg(long)]
    pub require_secure_transport: Option<Toggle>,
    /// Seconds a client may take to complete the connection phase. Default 10.
    #[arg(long)]
    pub connect_timeout: Option<u64>,
    /// Seconds an idle session may wait between commands before the server closes it (1..31536000).
    /// Default 28800.
    #[arg(long)]
    pub wait_timeout: Option<u64>,
    /// wait_timeout of a client that says it is interactive (CLIENT_INTERACTIVE). Default 28800.
    #[arg(long)]
    pub interactive_timeout: Option<u64>,
    /// Seconds to wait for the rest of a command packet that has started. Default 30.
    #[arg(long)]
    pub net_read_timeout: Option<u64>,
    /// Seconds to wait for a write to the client to make progress. Default 60.
    #[arg(long)]
    pub net_write_timeout: Option<u64>,
    /// Largest packet accepted in the command phase, bytes (K/M/G suffixes). Default 64M.
    #[arg(long, value_parser = parse_size)]
    pub max_allowed_packet: Option<u64>,
    /// Maximum simultaneous client connections. Default 151.
    #[arg(long)]
    pub max_connections: Option<u32>,
    /// SHA-256-crypt rounds for new caching_sha2_password hashes (5000..4095000). Default 5000.
    #[arg(long)]
    pub caching_sha2_password_digest_rounds: Option<u32>,
    /// RSA private key for caching_sha2_password (relative to the data dir). Default private_key.pem.
    #[arg(long)]
    pub caching_sha2_password_private_key_path: Option<PathBuf>,
    /// RSA public key for caching_sha2_password. Default public_key.pem.
    #[arg(long)]
    pub caching_sha2_password_public_key_path: Option<PathBuf>,
    /// Generate the RSA key pair on first start when missing (default ON).
    #[arg(long)]
    pub caching_sha2_password_auto_generate_rsa_keys: Option<Toggle>,
    /// RSA private key for sha256_password. Default private_key.pem.
    #[arg(long)]
    pub sha256_password_private_key_path: Option<PathBuf>,
    /// RSA public key for sha256_password. Default public_key.pem.
    #[arg(long)]
    pub sha256_password_public_key_path: Option<PathBuf>,
    /// Generate the sha256_password RSA key pair when missing (default ON).
    #[arg(long)]
    pub sha256_password_auto_generate_rsa_keys: Option<Toggle>,
    /// Plugin for new accounts and the greeting. Default caching_sha2_password.
    #[arg(long)]
    pub default_authentication_plugin: Option<String>,
    /// Maximum number of entries in the caching_sha2_password cache. Default 100000.
    #[arg(long)]
    pub caching_sha2_password_cache_size: Option<usize>,
    /// Parallel full authentications (SHA-256-crypt, RSA) off the reactor. Default: number of CPUs.
    #[arg(long)]
    pub full_auth_concurrency: Option<usize>,
    /// Log filter (tracing EnvFilter syntax), e.g. info, debug. Default info.
    #[arg(long)]
    pub log_level: Option<String>,
    /// `text` (default) or `json`: the log format, audit records included.
    #[arg(long)]
    pub log_format: Option<String>,
    /// Load connection_control (MySQL's plugin): delays after consecutive failed logins, per
    /// the connection_control_* variables. Default OFF, as the plugin is not loaded by default.
    #[arg(long)]
    pub connection_control: Option<Toggle>,
    /// Address (IP:port) of a Prometheus `/metrics` endpoint, e.g. 127.0.0.1:9104. Default: off.
    #[arg(long, value_name = "IP:PORT")]
    pub metrics_address: Option<std::net::SocketAddr>,
    /// Proxy mode (docs/proxy.md §2).
    #[command(flatten)]
    pub backend: super::proxy::BackendFlags,
}

/// ON/OFF values as mysqld takes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Toggle(pub bool);

impl std::str::FromStr for Toggle {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        parse_bool(s)
            .map(Toggle)
            .ok_or_else(|| format!("expected ON or OFF, got '{s}'"))
    }
}

/// A boolean option or variable value as mysqld reads one: `ON`/`1`/`TRUE`/`YES` or
/// `OFF`/`0`/`FALSE`/`NO`, in any case; `None` for anything else.
pub fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_uppercase().as_str() {
        "ON" | "1" | "TRUE" | "YES" => Some(true),
        "OFF" | "0" | "FALSE" | "NO" => Some(false),
        _ => None,
    }
}

/// `64M`, `16K`, `1G` or plain bytes.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (num, mult) = match s.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let m = match c.to_ascii_uppercase() {
                'K' => 1 << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                _ => return Err(format!("unknown size suffix in '{s}'")),
            };
            (&s[..i], m)
        }
        _ => (s, 1),
    };
    num.parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(|| format!("invalid size '{s}'"))
}

/// mysqld accepts `--ssl_cert` as `--ssl-cert`: rewrite option names before clap sees them.
pub fn normalize_args<I: IntoIterator<Item = String>>(args: I) -> Vec<String> {
    args.into_iter()
        .map(|a| match a.strip_prefix("--") {
            Some(rest) => {
                let (name, value) = match rest.split_once('=') {
                    Some((n, v)) => (n, Some(v)),
                    None => (rest, None),
                };
                let name = name.replace('_', "-");
                match value {
                    Some(v) => format!("--{name}={v}"),
                    None => format!("--{name}"),
                }
            }
            None => a,
        })
        .collect()
}

/// The effective configuration: each field is the mysqld option of the same name (the
/// [`Flags`] field says which), with its default filled in and its range enforced.
#[derive(Debug, Clone)]
pub struct Config {
    /// `--datadir`.
    pub datadir: PathBuf,
    /// `--port` (0: any free port).
    pub port: u16,
    /// `--bind-address`.
    pub bind_address: IpAddr,
    /// `--socket` (`None`: no Unix socket).
    pub socket: Option<PathBuf>,
    /// `--ssl-cert` (`None`: the generated one in the data dir).
    pub ssl_cert: Option<PathBuf>,
    /// `--ssl-key`.
    pub ssl_key: Option<PathBuf>,
    /// `--ssl-ca`.
    pub ssl_ca: Option<PathBuf>,
    /// `--ssl-capath`.
    pub ssl_capath: Option<PathBuf>,
    /// `--ssl-crl`.
    pub ssl_crl: Option<PathBuf>,
    /// `--ssl-crlpath`.
    pub ssl_crlpath: Option<PathBuf>,
    /// `--auto-generate-certs`.
    pub auto_generate_certs: bool,
    /// `--auto-generate-certs-key-type`: the key type of newly generated certificates.
    pub auto_generate_certs_key_type: super::tls::AutoCertKeyType,
    /// `--tls-version`, as written (parsed by [`crate::tls_policy`]).
    pub tls_version: String,
    /// `--ssl-cipher` (`None`: MySQL's default TLS 1.2 list).
    pub ssl_cipher: Option<String>,
    /// `--tls-ciphersuites` (`None`: MySQL's default TLS 1.3 list).
    pub tls_ciphersuites: Option<String>,
    /// `--ssl-session-cache-mode`.
    pub ssl_session_cache_mode: bool,
    /// `--ssl-session-cache-timeout`, seconds (clamped to MySQL's 0..=86400).
    pub ssl_session_cache_timeout: u64,
    /// `--require-secure-transport` at startup (the live value is in [`super::GlobalVars`]).
    pub require_secure_transport: bool,
    /// `--connect-timeout`, seconds (at least 1).
    pub connect_timeout: u64,
    /// The version in the greeting and `@@version` (the binary's is `8.0.40-vestibule`; an
    /// embedder may set its own, ≥ 8.0.5 so that Connector/J uses OAEP: docs/protocol.md,
    /// "Server version string").
    pub server_version: String,
    /// Refuse a default database other than the admin SQL's schemas at login (1049); off for an
    /// embedded server, whose backend sees `Session::database` at admission and decides.
    pub check_databases: bool,
    /// Capability flags the greeting offers (see [`crate::handshake::ServerParams::capabilities`];
    /// the binary offers all it supports).
    pub capabilities: u32,
    /// The greeting's character set (collation id; 255, utf8mb4_0900_ai_ci).
    pub character_set: u8,
    /// Defaults of the session timeouts (seconds, 1..=[`MAX_TIMEOUT`]); `SET GLOBAL` changes
    /// the live values in [`super::GlobalVars`]. This one is `--wait-timeout`.
    pub wait_timeout: u64,
    /// `--interactive-timeout`.
    pub interactive_timeout: u64,
    /// `--net-read-timeout`.
    pub net_read_timeout: u64,
    /// `--net-write-timeout`.
    pub net_write_timeout: u64,
    /// `--max-allowed-packet`, bytes (1 KiB..=1 GiB).
    pub max_allowed_packet: u64,
    /// `--max-connections` (one more is kept for an administrator).
    pub max_connections: u32,
    /// `--caching-sha2-password-digest-rounds`.
    pub digest_rounds: u32,
    /// `--caching-sha2-password-private-key-path`, resolved against the data dir.
    pub sha2_private_key: PathBuf,
    /// `--caching-sha2-password-public-key-path`, resolved against the data dir.
    pub sha2_public_key: PathBuf,
    /// `--caching-sha2-password-auto-generate-rsa-keys`.
    pub sha2_auto_generate_rsa_keys: bool,
    /// `--sha256-password-private-key-path`, resolved against the data dir.
    pub sha256_private_key: PathBuf,
    /// `--sha256-password-public-key-path`, resolved against the data dir.
    pub sha256_public_key: PathBuf,
    /// `--sha256-password-auto-generate-rsa-keys`.
    pub sha256_auto_generate_rsa_keys: bool,
    /// `--default-authentication-plugin`.
    pub default_plugin: crate::auth::Plugin,
    /// `--caching-sha2-password-cache-size`, entries (at least 1).
    pub cache_size: usize,
    /// `--full-auth-concurrency` (at least 1).
    pub full_auth_concurrency: usize,
    /// `--log-level`.
    pub log_level: String,
    /// `--log-format`: JSON lines instead of text.
    pub log_json: bool,
    /// `--connection-control`: connection_control's delays are active.
    pub connection_control: bool,
    /// `--metrics-address`: where the Prometheus `/metrics` endpoint listens (`None`: off).
    pub metrics_address: Option<std::net::SocketAddr>,
    /// Proxy mode, when `--backend-host` or `--backend-socket` is set (docs/proxy.md §2).
    pub proxy: Option<super::proxy::ProxyConfig>,
}

/// Why [`Config::load`] refused the configuration; the binary prints it and exits.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The `--config` file cannot be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The `--config` file is not valid TOML or has an unknown key or a bad value.
    #[error("invalid config file {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong, as [`parse_file`] says it.
        message: String,
    },
    /// An option's value is out of its range or unknown (a plugin name …).
    #[error("invalid value for {option}: {message}")]
    Value {
        /// The option, as mysqld names it.
        option: &'static str,
        /// What is wrong.
        message: String,
    },
}

impl Config {
    /// Merges flags over the file named by `--config` over the defaults.
    pub fn load(flags: Flags) -> Result<Config, ConfigError> {
        let file = match &flags.config {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.clone(),
                    source,
                })?;
                parse_file(&text).map_err(|message| ConfigError::Parse {
                    path: path.clone(),
                    message,
                })?
            }
            None => Flags::default(),
        };
        Self::merge(flags, file)
    }

    pub(crate) fn merge(f: Flags, file: Flags) -> Result<Config, ConfigError> {
        macro_rules! pick {
            ($field:ident, $default:expr) => {
                f.$field
                    .clone()
                    .or(file.$field.clone())
                    .unwrap_or_else(|| $default)
            };
        }
        let datadir = pick!(datadir, PathBuf::from("vestibule-data"));
        let in_datadir = |p: PathBuf| if p.is_absolute() { p } else { datadir.join(p) };
        let socket = match f.socket.clone().or(file.socket.clone()) {
            Some(p) if p.is_empty() => None,
            Some(p) => Some(PathBuf::from(p)),
            None => Some(datadir.join("mysql.sock")),
        };
        let rounds = pick!(
            caching_sha2_password_digest_rounds,
            crate::auth::DEFAULT_DIGEST_ROUNDS
        );
        if !(crate::auth::MIN_DIGEST_ROUNDS..=crate::auth::MAX_DIGEST_ROUNDS).contains(&rounds) {
            return Err(ConfigError::Value {
                option: "caching_sha2_password_digest_rounds",
                message: format!("{rounds} is outside 5000..4095000"),
            });
        }
        let plugin_name = pick!(
            default_authentication_plugin,
            "caching_sha2_password".to_string()
        );
        let default_plugin =
            crate::auth::Plugin::from_name(plugin_name.as_bytes()).ok_or(ConfigError::Value {
                option: "default_authentication_plugin",
                message: format!("unknown plugin '{plugin_name}'"),
            })?;
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
        let proxy = super::proxy::ProxyConfig::from_flags(&f.backend, &file.backend, &datadir)?;
        Ok(Config {
            // In proxy mode the backend checks the default database (1049 is its answer).
            check_databases: proxy.is_none(),
            proxy,
            port: pick!(port, 3306),
            bind_address: pick!(bind_address, IpAddr::from([127, 0, 0, 1])),
            socket,
            ssl_cert: f.ssl_cert.or(file.ssl_cert),
            ssl_key: f.ssl_key.or(file.ssl_key),
            ssl_ca: f.ssl_ca.or(file.ssl_ca),
            ssl_capath: f.ssl_capath.or(file.ssl_capath),
            ssl_crl: f.ssl_crl.or(file.ssl_crl),
            ssl_crlpath: f.ssl_crlpath.or(file.ssl_crlpath),
            auto_generate_certs: pick!(auto_generate_certs, Toggle(true)).0,
            auto_generate_certs_key_type: pick!(
                auto_generate_certs_key_type,
                super::tls::AutoCertKeyType::default()
            ),
            tls_version: pick!(tls_version, "TLSv1.2,TLSv1.3".to_string()),
            ssl_cipher: f.ssl_cipher.or(file.ssl_cipher),
            tls_ciphersuites: f.tls_ciphersuites.or(file.tls_ciphersuites),
            ssl_session_cache_mode: pick!(ssl_session_cache_mode, Toggle(true)).0,
            ssl_session_cache_timeout: pick!(ssl_session_cache_timeout, 300).min(86_400),
            require_secure_transport: pick!(require_secure_transport, Toggle(false)).0,
            connect_timeout: pick!(connect_timeout, 10).max(1),
            server_version: super::vars::SERVER_VERSION.to_string(),
            capabilities: crate::wire::capabilities::SERVER_CAPABILITIES,
            character_set: crate::wire::capabilities::UTF8MB4_0900_AI_CI,
            wait_timeout: pick!(wait_timeout, 28800).clamp(1, MAX_TIMEOUT),
            interactive_timeout: pick!(interactive_timeout, 28800).clamp(1, MAX_TIMEOUT),
            net_read_timeout: pick!(net_read_timeout, 30).clamp(1, MAX_TIMEOUT),
            net_write_timeout: pick!(net_write_timeout, 60).clamp(1, MAX_TIMEOUT),
            max_allowed_packet: pick!(max_allowed_packet, 64 << 20).clamp(1024, 1 << 30),
            max_connections: pick!(max_connections, 151).max(1),
            digest_rounds: rounds,
            sha2_private_key: in_datadir(pick!(
                caching_sha2_password_private_key_path,
                "private_key.pem".into()
            )),
            sha2_public_key: in_datadir(pick!(
                caching_sha2_password_public_key_path,
                "public_key.pem".into()
            )),
            sha2_auto_generate_rsa_keys: pick!(
                caching_sha2_password_auto_generate_rsa_keys,
                Toggle(true)
            )
            .0,
            sha256_private_key: in_datadir(pick!(
                sha256_password_private_key_path,
                "private_key.pem".into()
            )),
            sha256_public_key: in_datadir(pick!(
                sha256_password_public_key_path,
                "public_key.pem".into()
            )),
            sha256_auto_generate_rsa_keys: pick!(
                sha256_password_auto_generate_rsa_keys,
                Toggle(true)
            )
            .0,
            default_plugin,
            cache_size: pick!(caching_sha2_password_cache_size, 100_000).max(1),
            full_auth_concurrency: pick!(full_auth_concurrency, cpus).max(1),
            log_level: pick!(log_level, "info".to_string()),
            log_json: match pick!(log_format, "text".to_string())
                .to_ascii_lowercase()
                .as_str()
            {
                "text" => false,
                "json" => true,
                other => {
                    return Err(ConfigError::Value {
                        option: "log_format",
                        message: format!("'{other}' is neither text nor json"),
                    })
                }
            },
            connection_control: pick!(connection_control, Toggle(false)).0,
            metrics_address: f.metrics_address.or(file.metrics_address),
            datadir,
        })
    }

    /// The binary's accounts file: `accounts.vestibule` in the data dir.
    pub fn accounts_file(&self) -> PathBuf {
        self.datadir.join("accounts.vestibule")
    }

    /// `p` as mysqld resolves a relative file option: against the data dir.
    pub fn resolve(&self, p: &Path) -> PathBuf {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.datadir.join(p)
        }
    }
}

/// Reads a TOML config file into the same shape as the flags: keys are mysqld option names with
/// dashes or underscores, flat or inside a `[mysqld]` table.
pub fn parse_file(text: &str) -> Result<Flags, String> {
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| e.to_string())?;
    let mut args = vec!["vestibule".to_string()];
    let mut push = |k: &str, v: &toml::Value| -> Result<(), String> {
        let value = match v {
            toml::Value::String(s) => s.clone(),
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Boolean(b) => if *b { "ON" } else { "OFF" }.to_string(),
            other => return Err(format!("unsupported value for {k}: {other}")),
        };
        // A key is an option name; anything else (`"a=b"`, a leading dash) would be read by the
        // flag parser as something other than the key that was written.
        if k.is_empty()
            || k.starts_with('-')
            || !k
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(format!("invalid option name '{k}'"));
        }
        if k.replace('_', "-") == "config" {
            return Err("config files cannot include other config files".into());
        }
        args.push(format!("--{}={value}", k.replace('_', "-")));
        Ok(())
    };
    for (k, v) in &table {
        match v {
            toml::Value::Table(t) if k == "mysqld" || k == "vestibule" => {
                for (k2, v2) in t {
                    push(k2, v2)?;
                }
            }
            _ => push(k, v)?,
        }
    }
    Flags::try_parse_from(args).map_err(|e| e.to_string())
}

/// Fuzz body of the `config` target: any text as a config file. Never panics; a rejected file
/// has a message; an accepted one means the same when every key is moved into a `[mysqld]` table
/// and written with dashes, and the configuration built from it keeps its ranges.
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub fn fuzz_config_file(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let flags = match parse_file(text) {
        Ok(flags) => flags,
        Err(message) => {
            assert!(!message.is_empty(), "a rejected config file has a message");
            return;
        }
    };
    let table: toml::Table = text.parse().expect("parse_file accepted it as TOML");
    let mut moved = toml::Table::new();
    let mut collision = false;
    for (k, v) in &table {
        let entries: Vec<(&String, &toml::Value)> = match v {
            toml::Value::Table(t) if k == "mysqld" || k == "vestibule" => t.iter().collect(),
            _ => vec![(k, v)],
        };
        for (k, v) in entries {
            collision |= moved.insert(k.replace('_', "-"), v.clone()).is_some();
        }
    }
    if !collision {
        let mut wrapped = toml::Table::new();
        wrapped.insert("mysqld".into(), toml::Value::Table(moved));
        let rewritten = toml::to_string(&wrapped).expect("a table serializes");
        assert_eq!(
            parse_file(&rewritten).as_ref(),
            Ok(&flags),
            "{text:?} vs {rewritten:?}"
        );
    }
    if let Ok(config) = Config::merge(Flags::default(), flags) {
        assert!(
            (crate::auth::MIN_DIGEST_ROUNDS..=crate::auth::MAX_DIGEST_ROUNDS)
                .contains(&config.digest_rounds)
        );
        assert!(config.connect_timeout >= 1);
        for t in [
            config.wait_timeout,
            config.interactive_timeout,
            config.net_read_timeout,
            config.net_write_timeout,
        ] {
            assert!((1..=MAX_TIMEOUT).contains(&t));
        }
        assert!((1024..=1 << 30).contains(&config.max_allowed_packet));
        assert!(config.max_connections >= 1);
        assert!(config.cache_size >= 1 && config.full_auth_concurrency >= 1);
        assert!(
            config.sha2_private_key.starts_with(&config.datadir)
                || config.sha2_private_key.is_absolute()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn underscores_and_dashes_are_the_same_option() {
        let a = normalize_args(
            [
                "vestibule",
                "--ssl_cert=/x",
                "--bind_address",
                "0.0.0.0",
                "-P",
                "1",
            ]
            .map(String::from),
        );
        let f = Flags::try_parse_from(a).unwrap();
        assert_eq!(f.ssl_cert.as_deref(), Some(Path::new("/x")));
        assert_eq!(f.bind_address, Some(IpAddr::from([0, 0, 0, 0])));
        assert_eq!(f.port, Some(1));
    }

    #[test]
    fn file_values_apply_under_flags() {
        let file = parse_file("port = 4000\n[mysqld]\nssl-cert = \"/c.pem\"\nrequire_secure_transport = true\nmax_allowed_packet = \"16M\"\n").unwrap();
        let flags = Flags {
            port: Some(5000),
            ..Default::default()
        };
        let c = Config::merge(flags, file).unwrap();
        assert_eq!(c.port, 5000);
        assert_eq!(c.ssl_cert.as_deref(), Some(Path::new("/c.pem")));
        assert!(c.require_secure_transport);
        assert_eq!(c.max_allowed_packet, 16 << 20);
        assert_eq!(
            c.sha2_private_key,
            Path::new("vestibule-data/private_key.pem")
        );
        assert_eq!(
            c.socket.as_deref(),
            Some(Path::new("vestibule-data/mysql.sock"))
        );
    }

    #[test]
    fn the_metrics_address_is_off_unless_given() {
        let c = Config::merge(Flags::default(), Flags::default()).unwrap();
        assert_eq!(c.metrics_address, None);
        let file = parse_file("[mysqld]\nmetrics_address = \"127.0.0.1:9104\"").unwrap();
        let c = Config::merge(Flags::default(), file.clone()).unwrap();
        assert_eq!(c.metrics_address, Some("127.0.0.1:9104".parse().unwrap()));
        let f = Flags::try_parse_from(normalize_args(
            ["vestibule", "--metrics_address", "[::1]:9105"].map(String::from),
        ))
        .unwrap();
        let c = Config::merge(f, file).unwrap();
        assert_eq!(c.metrics_address, Some("[::1]:9105".parse().unwrap()));
        assert!(parse_file("metrics-address = \"9104\"").is_err());
    }

    #[test]
    fn auto_generated_certificates_are_ecdsa_unless_rsa_is_asked_for() {
        use crate::server::tls::AutoCertKeyType;
        let c = Config::merge(Flags::default(), Flags::default()).unwrap();
        assert_eq!(c.auto_generate_certs_key_type, AutoCertKeyType::Ecdsa);
        let file = parse_file("[mysqld]\nauto_generate_certs_key_type = \"rsa\"").unwrap();
        let c = Config::merge(Flags::default(), file.clone()).unwrap();
        assert_eq!(c.auto_generate_certs_key_type, AutoCertKeyType::Rsa);
        let f = Flags::try_parse_from(normalize_args(
            ["vestibule", "--auto_generate_certs_key_type=ECDSA"].map(String::from),
        ))
        .unwrap();
        let c = Config::merge(f, file).unwrap();
        assert_eq!(c.auto_generate_certs_key_type, AutoCertKeyType::Ecdsa);
        let f = Flags::try_parse_from(normalize_args(
            ["vestibule", "--auto-generate-certs-key-type", "RSA"].map(String::from),
        ))
        .unwrap();
        assert_eq!(f.auto_generate_certs_key_type, Some(AutoCertKeyType::Rsa));
        let err = parse_file("auto-generate-certs-key-type = \"ed25519\"").unwrap_err();
        assert!(err.contains("expected ECDSA or RSA"), "{err}");
    }

    #[test]
    fn an_empty_socket_disables_it() {
        let f = Flags::try_parse_from(normalize_args(
            ["vestibule", "--socket", ""].map(String::from),
        ))
        .unwrap();
        assert_eq!(Config::merge(f, Flags::default()).unwrap().socket, None);
        let file = parse_file("socket = \"\"").unwrap();
        assert_eq!(Config::merge(Flags::default(), file).unwrap().socket, None);
    }

    #[test]
    fn bad_values_are_errors() {
        assert!(parse_file("port = \"x\"").is_err());
        assert!(parse_file("no_such_option = 1").is_err());
        let f = Flags {
            caching_sha2_password_digest_rounds: Some(10),
            ..Default::default()
        };
        assert!(Config::merge(f, Flags::default()).is_err());
        assert_eq!(parse_size("64M"), Ok(64 << 20));
        assert!(parse_size("12Q").is_err());
    }

    /// A quoted key is an option name only: `"ssl-cert=x"` must not become `--ssl-cert=x=…`.
    #[test]
    fn keys_that_are_not_option_names_are_refused() {
        for text in [
            "\"ssl-cert=/etc/passwd\" = \"x\"",
            "\"-P\" = 5",
            "\"\" = 1",
            "[mysqld]\n\"port 1\" = 2",
        ] {
            let err = parse_file(text).unwrap_err();
            assert!(err.contains("invalid option name"), "{text}: {err}");
        }
    }

    #[test]
    fn the_config_fuzz_body_accepts_its_seeds() {
        for text in [
            "port = 3307\nssl_cert = \"a.pem\"",
            "[mysqld]\nrequire-secure-transport = true\nmax_allowed_packet = \"16M\"",
            "tls_version = \"TLSv1.3\"\n[vestibule]\nconnect_timeout = 0",
            "port = 1\n[mysqld]\nport = 2",
            "caching_sha2_password_digest_rounds = 4",
            "= broken",
        ] {
            fuzz_config_file(text.as_bytes());
        }
    }
}
