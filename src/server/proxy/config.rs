//! Proxy mode's options (docs/proxy.md §2) and the backend credentials file (§8).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use zeroize::Zeroizing;

/// The proxy options as flags (and, through [`super::super::config::parse_file`], TOML keys).
/// Setting `--backend-host` or `--backend-socket` turns proxy mode on.
#[derive(Debug, Clone, clap::Args, Default, PartialEq, Eq)]
pub struct BackendFlags {
    /// Proxy mode: the backend MySQL/MariaDB server's host or IP.
    #[arg(long)]
    pub backend_host: Option<String>,
    /// Proxy mode: the backend's TCP port. Default 3306.
    #[arg(long)]
    pub backend_port: Option<u16>,
    /// Proxy mode: the backend's Unix socket (takes precedence over host and port).
    #[arg(long)]
    pub backend_socket: Option<PathBuf>,
    /// `mapped` (door accounts log in to the backend as service accounts) or `pass-through`
    /// (the backend sees and checks the client's own user name). Default mapped.
    #[arg(long)]
    pub backend_identity: Option<String>,
    /// Backend accounts and the account map (TOML, mode 0600). Default
    /// `<datadir>/backend-credentials.toml`.
    #[arg(long)]
    pub backend_credentials_file: Option<PathBuf>,
    /// DISABLED, REQUIRED, VERIFY_CA or VERIFY_IDENTITY (the mysql client's --ssl-mode values).
    /// Default REQUIRED, or VERIFY_IDENTITY when a CA is given.
    #[arg(long)]
    pub backend_ssl_mode: Option<String>,
    /// CA certificates (PEM) the backend's certificate is verified against.
    #[arg(long)]
    pub backend_ssl_ca: Option<PathBuf>,
    /// Seconds for the TCP connect, TLS and login of one backend connection. Default 5.
    #[arg(long)]
    pub backend_connect_timeout: Option<u64>,
    /// Backend connections in all, busy and idle. Default 100.
    #[arg(long)]
    pub backend_pool_max_connections: Option<usize>,
    /// Idle backend connections kept. Default 32.
    #[arg(long)]
    pub backend_pool_max_idle: Option<usize>,
    /// Backend connections being opened at once. Default 4.
    #[arg(long)]
    pub backend_pool_max_connecting: Option<usize>,
    /// Seconds an admission waits for a connection when the pool is full (then 1040). Default 3.
    #[arg(long)]
    pub backend_pool_wait_timeout: Option<u64>,
    /// Seconds an idle backend connection is kept. Default 300.
    #[arg(long)]
    pub backend_pool_idle_timeout: Option<u64>,
    /// Seconds a backend connection lives; an older one is closed at hand-back. Default 3600.
    #[arg(long)]
    pub backend_pool_max_lifetime: Option<u64>,
    /// A connection idle this many seconds is pinged at checkout. Default 2.
    #[arg(long)]
    pub backend_pool_validate_after: Option<u64>,
    /// Longest pause, in seconds, between attempts to reach a backend marked down. Default 5.
    #[arg(long)]
    pub backend_reconnect_max_backoff: Option<u64>,
    /// Vestibule's own SQL in proxy mode: this Unix socket. Default `<datadir>/admin.sock`.
    #[arg(long)]
    pub admin_socket: Option<String>,
    /// Vestibule's own SQL in proxy mode on a TCP address too (off by default).
    #[arg(long)]
    pub admin_address: Option<std::net::IpAddr>,
    /// The port of --admin-address. Default 33062.
    #[arg(long)]
    pub admin_port: Option<u16>,
}

/// How the door logs in to the backend (docs/proxy.md §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum IdentityMode {
    /// Door accounts map to backend service accounts whose passwords the door holds.
    Mapped,
    /// The backend sees the client's user name and checks its password itself.
    PassThrough,
}

/// The backend TLS modes, as the mysql client's `--ssl-mode` (without PREFERRED).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BackendSslMode {
    /// No TLS.
    Disabled,
    /// TLS, the certificate not verified.
    Required,
    /// TLS, the chain verified against the CA.
    VerifyCa,
    /// TLS, the chain and the host name verified.
    VerifyIdentity,
}

/// Where the backend listens.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BackendAddress {
    /// TCP host and port.
    Tcp(String, u16),
    /// A Unix socket.
    Unix(PathBuf),
}

impl std::fmt::Display for BackendAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BackendAddress::Tcp(h, p) => write!(f, "{h}:{p}"),
            BackendAddress::Unix(p) => write!(f, "{}", p.display()),
        }
    }
}

/// The effective proxy configuration.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ProxyConfig {
    /// `--backend-host`/`--backend-port` or `--backend-socket`.
    pub address: BackendAddress,
    /// `--backend-identity`.
    pub identity: IdentityMode,
    /// `--backend-credentials-file`.
    pub credentials_file: PathBuf,
    /// `--backend-ssl-mode` (never used on a Unix socket).
    pub ssl_mode: BackendSslMode,
    /// `--backend-ssl-ca`.
    pub ssl_ca: Option<PathBuf>,
    /// `--backend-connect-timeout`.
    pub connect_timeout: Duration,
    /// `--backend-pool-max-connections`.
    pub max_connections: usize,
    /// `--backend-pool-max-idle`.
    pub max_idle: usize,
    /// `--backend-pool-max-connecting`.
    pub max_connecting: usize,
    /// `--backend-pool-wait-timeout`.
    pub wait_timeout: Duration,
    /// `--backend-pool-idle-timeout`.
    pub idle_timeout: Duration,
    /// `--backend-pool-max-lifetime`.
    pub max_lifetime: Duration,
    /// `--backend-pool-validate-after`.
    pub validate_after: Duration,
    /// `--backend-reconnect-max-backoff`.
    pub max_backoff: Duration,
    /// `--admin-socket` (`None`: no admin socket).
    pub admin_socket: Option<PathBuf>,
    /// `--admin-address` / `--admin-port`.
    pub admin_tcp: Option<std::net::SocketAddr>,
}

impl ProxyConfig {
    /// The proxy configuration the flags (over the file's) ask for, or `None` when neither
    /// `--backend-host` nor `--backend-socket` is set.
    pub fn from_flags(
        f: &BackendFlags,
        file: &BackendFlags,
        datadir: &Path,
    ) -> Result<Option<ProxyConfig>, super::super::config::ConfigError> {
        use super::super::config::ConfigError;
        macro_rules! pick {
            ($field:ident) => {
                f.$field.clone().or(file.$field.clone())
            };
        }
        let in_datadir = |p: PathBuf| if p.is_absolute() { p } else { datadir.join(p) };
        let address = match (pick!(backend_socket), pick!(backend_host)) {
            (Some(s), _) => BackendAddress::Unix(s),
            (None, Some(h)) => BackendAddress::Tcp(h, pick!(backend_port).unwrap_or(3306)),
            (None, None) => return Ok(None),
        };
        let identity = match pick!(backend_identity)
            .unwrap_or_else(|| "mapped".into())
            .to_ascii_lowercase()
            .replace('_', "-")
            .as_str()
        {
            "mapped" => IdentityMode::Mapped,
            "pass-through" | "passthrough" => IdentityMode::PassThrough,
            other => {
                return Err(ConfigError::Value {
                    option: "backend_identity",
                    message: format!("'{other}' is neither mapped nor pass-through"),
                })
            }
        };
        let ssl_ca = pick!(backend_ssl_ca).map(in_datadir);
        let ssl_mode = match pick!(backend_ssl_mode).map(|m| m.to_ascii_uppercase()) {
            None if ssl_ca.is_some() => BackendSslMode::VerifyIdentity,
            None => BackendSslMode::Required,
            Some(m) => match m.as_str() {
                "DISABLED" => BackendSslMode::Disabled,
                "REQUIRED" => BackendSslMode::Required,
                "VERIFY_CA" => BackendSslMode::VerifyCa,
                "VERIFY_IDENTITY" => BackendSslMode::VerifyIdentity,
                _ => {
                    return Err(ConfigError::Value {
                        option: "backend_ssl_mode",
                        message: format!(
                            "'{m}' is not one of DISABLED, REQUIRED, VERIFY_CA, VERIFY_IDENTITY"
                        ),
                    })
                }
            },
        };
        if matches!(
            ssl_mode,
            BackendSslMode::VerifyCa | BackendSslMode::VerifyIdentity
        ) && ssl_ca.is_none()
            && !matches!(address, BackendAddress::Unix(_))
        {
            return Err(ConfigError::Value {
                option: "backend_ssl_mode",
                message: "VERIFY_CA and VERIFY_IDENTITY need --backend-ssl-ca".into(),
            });
        }
        let secs = |v: Option<u64>, d: u64| Duration::from_secs(v.unwrap_or(d));
        let admin_socket = match pick!(admin_socket) {
            Some(s) if s.is_empty() => None,
            Some(s) => Some(PathBuf::from(s)),
            None => Some(datadir.join("admin.sock")),
        };
        let admin_tcp = pick!(admin_address)
            .map(|ip| std::net::SocketAddr::new(ip, pick!(admin_port).unwrap_or(33062)));
        let max_connections = pick!(backend_pool_max_connections).unwrap_or(100).max(1);
        Ok(Some(ProxyConfig {
            address,
            identity,
            credentials_file: in_datadir(
                pick!(backend_credentials_file)
                    .unwrap_or_else(|| PathBuf::from("backend-credentials.toml")),
            ),
            ssl_mode,
            ssl_ca,
            connect_timeout: secs(pick!(backend_connect_timeout), 5).max(Duration::from_secs(1)),
            max_connections,
            max_idle: pick!(backend_pool_max_idle)
                .unwrap_or(32)
                .min(max_connections),
            max_connecting: pick!(backend_pool_max_connecting).unwrap_or(4).max(1),
            wait_timeout: secs(pick!(backend_pool_wait_timeout), 3),
            idle_timeout: secs(pick!(backend_pool_idle_timeout), 300),
            max_lifetime: secs(pick!(backend_pool_max_lifetime), 3600),
            validate_after: secs(pick!(backend_pool_validate_after), 2),
            max_backoff: secs(pick!(backend_reconnect_max_backoff), 5)
                .max(Duration::from_millis(100)),
            admin_socket,
            admin_tcp,
        }))
    }
}

/// The backend accounts the door holds passwords for, and the map of door accounts to them
/// (docs/proxy.md §8). Passwords are `Zeroizing` and never printed: `Debug` shows names only.
#[derive(Default)]
pub struct BackendCredentials {
    accounts: BTreeMap<String, Zeroizing<String>>,
    /// `'user'@'host'` of a door account (as stored) → backend account.
    map: BTreeMap<(String, String), String>,
    default: Option<String>,
}

impl std::fmt::Debug for BackendCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackendCredentials")
            .field("accounts", &self.accounts.keys().collect::<Vec<_>>())
            .field("map", &self.map)
            .field("default", &self.default)
            .finish()
    }
}

/// Why the credentials could not be loaded; the server refuses to start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialsError {
    /// The file cannot be read.
    #[error("cannot read backend credentials file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The file is readable by others than its owner, or not a regular file.
    #[error("backend credentials file {path} must be a regular file with mode 0600 or 0400 (it is {mode:o})")]
    Permissions {
        /// The file.
        path: PathBuf,
        /// Its mode bits.
        mode: u32,
    },
    /// Not valid TOML, or a key or value that does not belong there (never quoting a value).
    #[error("invalid backend credentials file {path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Mapped mode and no backend account to map door accounts to.
    #[error("mapped mode needs a default backend account: [map] default in {0}, or VESTIBULE_BACKEND_USER and VESTIBULE_BACKEND_PASSWORD")]
    NoDefault(PathBuf),
}

impl BackendCredentials {
    /// Reads `path` (must be 0600/0400 and a regular file), then the environment variables
    /// `VESTIBULE_BACKEND_USER` / `VESTIBULE_BACKEND_PASSWORD`, which add an account and make it
    /// the default. A missing file is no error when the environment supplies the default, or
    /// in pass-through mode.
    pub fn load(path: &Path, mode: IdentityMode) -> Result<BackendCredentials, CredentialsError> {
        use std::os::unix::fs::MetadataExt;
        let mut creds = match std::fs::metadata(path) {
            Ok(meta) => {
                let bits = meta.mode() & 0o777;
                if !meta.is_file() || bits & 0o077 != 0 {
                    return Err(CredentialsError::Permissions {
                        path: path.to_path_buf(),
                        mode: bits,
                    });
                }
                let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|source| {
                    CredentialsError::Read {
                        path: path.to_path_buf(),
                        source,
                    }
                })?);
                Self::parse(&text).map_err(|message| CredentialsError::Invalid {
                    path: path.to_path_buf(),
                    message,
                })?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BackendCredentials::default(),
            Err(source) => {
                return Err(CredentialsError::Read {
                    path: path.to_path_buf(),
                    source,
                })
            }
        };
        if let (Ok(user), Ok(pw)) = (
            std::env::var("VESTIBULE_BACKEND_USER"),
            std::env::var("VESTIBULE_BACKEND_PASSWORD"),
        ) {
            creds.accounts.insert(user.clone(), Zeroizing::new(pw));
            creds.default = Some(user);
        }
        if mode == IdentityMode::Mapped && creds.default.is_none() {
            return Err(CredentialsError::NoDefault(path.to_path_buf()));
        }
        Ok(creds)
    }

    /// Parses the file's text. Errors name keys, never values.
    pub fn parse(text: &str) -> Result<BackendCredentials, String> {
        let table: toml::Table = text
            .parse()
            .map_err(|_| "not valid TOML (details withheld: the file holds passwords)")?;
        let mut creds = BackendCredentials::default();
        for (key, value) in &table {
            match (key.as_str(), value) {
                ("control", toml::Value::String(_)) => {}
                ("accounts", toml::Value::Table(accounts)) => {
                    for (name, entry) in accounts {
                        let pw = entry
                            .as_table()
                            .and_then(|t| t.get("password"))
                            .and_then(toml::Value::as_str)
                            .ok_or_else(|| format!("[accounts.{name}] needs password = \"…\""))?;
                        creds
                            .accounts
                            .insert(name.clone(), Zeroizing::new(pw.to_string()));
                    }
                }
                ("map", toml::Value::Table(map)) => {
                    for (door, backend) in map {
                        let backend = backend
                            .as_str()
                            .ok_or_else(|| format!("[map] {door} must name a backend account"))?;
                        if door == "default" {
                            creds.default = Some(backend.to_string());
                            continue;
                        }
                        let (user, host) = match door.rsplit_once('@') {
                            Some((u, h)) => (u, h),
                            None => (door.as_str(), "%"),
                        };
                        let unquote =
                            |s: &str| s.trim_matches(|c| c == '\'' || c == '`').to_string();
                        creds
                            .map
                            .insert((unquote(user), unquote(host)), backend.to_string());
                    }
                }
                (other, _) => return Err(format!("unknown key '{other}'")),
            }
        }
        for backend in creds.map.values().chain(creds.default.iter()) {
            if !creds.accounts.contains_key(backend) {
                return Err(format!(
                    "the map names '{backend}', which has no [accounts.{backend}]"
                ));
            }
        }
        Ok(creds)
    }

    /// The backend account a door account (`user`@`host` as stored) maps to.
    pub fn backend_account_for(&self, user: &str, host: &str) -> Option<&str> {
        self.map
            .get(&(user.to_string(), host.to_string()))
            .or(self.default.as_ref())
            .map(String::as_str)
    }

    /// The password of a backend account.
    pub fn password(&self, account: &str) -> Option<&Zeroizing<String>> {
        self.accounts.get(account)
    }

    /// The default backend account (mapped mode's service account).
    pub fn default_account(&self) -> Option<&str> {
        self.default.as_deref()
    }
}

/// The rustls client configuration for the backend leg, or `None` for `DISABLED` and a Unix
/// socket.
pub(crate) fn client_tls(cfg: &ProxyConfig) -> Result<Option<Arc<rustls::ClientConfig>>, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::CertificateDer;
    if cfg.ssl_mode == BackendSslMode::Disabled || matches!(cfg.address, BackendAddress::Unix(_)) {
        return Ok(None);
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let mut roots = rustls::RootCertStore::empty();
    if let Some(ca) = &cfg.ssl_ca {
        for cert in CertificateDer::pem_file_iter(ca)
            .map_err(|e| format!("cannot read --backend-ssl-ca {}: {e}", ca.display()))?
        {
            let cert = cert.map_err(|e| format!("--backend-ssl-ca {}: {e}", ca.display()))?;
            roots
                .add(cert)
                .map_err(|e| format!("--backend-ssl-ca {}: {e}", ca.display()))?;
        }
    }
    let roots = Arc::new(roots);
    let mut config = match cfg.ssl_mode {
        BackendSslMode::VerifyIdentity => {
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        BackendSslMode::VerifyCa => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verify::Lenient::chain_only(
                roots, provider,
            )?))
            .with_no_client_auth(),
        _ => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verify::Lenient::any_certificate(provider)))
            .with_no_client_auth(),
    };
    config.resumption = rustls::client::Resumption::default();
    Ok(Some(Arc::new(config)))
}

/// The certificate checks of `REQUIRED` (none: encryption only, as the mysql client's
/// `--ssl-mode=REQUIRED`) and `VERIFY_CA` (the chain, not the name). Handshake signatures are
/// always checked, with the provider's algorithms.
mod verify {
    use std::sync::Arc;

    use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
    use rustls::client::WebPkiServerVerifier;
    use rustls::crypto::CryptoProvider;
    use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
    use rustls::{CertificateError, DigitallySignedStruct, Error, SignatureScheme};

    #[derive(Debug)]
    pub(super) struct Lenient {
        /// `None`: any certificate (REQUIRED); `Some`: the chain against these roots, any name
        /// (VERIFY_CA).
        chain: Option<Arc<WebPkiServerVerifier>>,
        provider: Arc<CryptoProvider>,
    }

    impl Lenient {
        pub(super) fn any_certificate(provider: Arc<CryptoProvider>) -> Self {
            Lenient {
                chain: None,
                provider,
            }
        }

        pub(super) fn chain_only(
            roots: Arc<rustls::RootCertStore>,
            provider: Arc<CryptoProvider>,
        ) -> Result<Self, String> {
            let chain = WebPkiServerVerifier::builder_with_provider(roots, Arc::clone(&provider))
                .build()
                .map_err(|e| e.to_string())?;
            Ok(Lenient {
                chain: Some(chain),
                provider,
            })
        }
    }

    impl ServerCertVerifier for Lenient {
        fn verify_server_cert(
            &self,
            end_entity: &CertificateDer<'_>,
            intermediates: &[CertificateDer<'_>],
            server_name: &ServerName<'_>,
            ocsp: &[u8],
            now: UnixTime,
        ) -> Result<ServerCertVerified, Error> {
            let Some(chain) = &self.chain else {
                return Ok(ServerCertVerified::assertion());
            };
            match chain.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
                Err(Error::InvalidCertificate(
                    CertificateError::NotValidForName
                    | CertificateError::NotValidForNameContext { .. },
                )) => Ok(ServerCertVerified::assertion()),
                other => other,
            }
        }

        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, Error> {
            rustls::crypto::verify_tls12_signature(
                message,
                cert,
                dss,
                &self.provider.signature_verification_algorithms,
            )
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, Error> {
            rustls::crypto::verify_tls13_signature(
                message,
                cert,
                dss,
                &self.provider.signature_verification_algorithms,
            )
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.provider
                .signature_verification_algorithms
                .supported_schemes()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_parse_and_map() {
        let c = BackendCredentials::parse(
            r#"
[accounts.svc]
password = "s3cret"
[accounts.ro]
password = "r0"
[map]
default = "svc"
"reporting@%" = "ro"
"#,
        )
        .unwrap();
        assert_eq!(c.backend_account_for("reporting", "%"), Some("ro"));
        assert_eq!(c.backend_account_for("app", "%"), Some("svc"));
        assert_eq!(c.password("svc").map(|p| p.as_str()), Some("s3cret"));
        assert!(!format!("{c:?}").contains("s3cret"));
    }

    #[test]
    fn credentials_errors_never_quote_values() {
        let e = BackendCredentials::parse("[accounts.x]\npassword = \"hunter2").unwrap_err();
        assert!(!e.contains("hunter2"), "{e}");
        let e = BackendCredentials::parse("[map]\ndefault = \"nobody\"").unwrap_err();
        assert!(e.contains("nobody"), "{e}");
    }

    /// REQUIRED takes any certificate; VERIFY_CA checks the chain and ignores the name.
    #[test]
    fn the_lenient_verifier_checks_the_chain_only_when_asked() {
        use rustls::client::danger::ServerCertVerifier;
        use rustls::pki_types::{ServerName, UnixTime};
        let pki = crate::server::tls::test_support::pki();
        let other = crate::server::tls::test_support::pki();
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let roots = |ca| {
            let mut r = rustls::RootCertStore::empty();
            r.add(ca).unwrap();
            Arc::new(r)
        };
        let name = ServerName::try_from("db.example").unwrap();
        let check = |v: &verify::Lenient| {
            v.verify_server_cert(pki.server.der(), &[], &name, &[], UnixTime::now())
                .is_ok()
        };
        let chain = verify::Lenient::chain_only(roots(pki.ca_der()), Arc::clone(&provider));
        assert!(check(&chain.unwrap()), "right CA, another name: accepted");
        let wrong = verify::Lenient::chain_only(roots(other.ca_der()), Arc::clone(&provider));
        assert!(!check(&wrong.unwrap()), "another CA: refused");
        assert!(check(&verify::Lenient::any_certificate(provider)));
    }

    #[test]
    fn a_readable_file_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        std::fs::write(&p, "[accounts.a]\npassword=\"x\"\n[map]\ndefault=\"a\"\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = BackendCredentials::load(&p, IdentityMode::Mapped).unwrap_err();
        assert!(
            matches!(e, CredentialsError::Permissions { mode: 0o644, .. }),
            "{e}"
        );
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        let c = BackendCredentials::load(&p, IdentityMode::Mapped).unwrap();
        assert_eq!(c.default_account(), Some("a"));
    }
}
