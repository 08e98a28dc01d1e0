//! [`Server::builder`]: a server put together in code — the account store, the backend, TLS,
//! the RSA key pairs and MySQL's limits — with no file, flag or log of its own.

use std::sync::Arc;

use super::api::{AccountStore, Backend, Connection, ConnectionInfo, Reply, Request};
use super::config::{Config, Flags};
use super::rsa_keys::RsaKeyPair;
use super::{tls, Server, Shared, Timeouts};
use crate::auth::Plugin;
use crate::error::MysqlError;
use crate::handshake::Session;
use crate::wire::packets::ErrPacket;

/// Why [`ServerBuilder::build`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// A setting is out of MySQL's range.
    #[error("{0}")]
    Invalid(String),
    /// The TLS configuration cannot make a context (no usable version, cipher, identity …).
    #[error("TLS: {0}")]
    Tls(#[from] tls::TlsError),
}

/// The backend of a server built without [`ServerBuilder::backend`]: it admits nobody (1045),
/// for embedders that only call [`Server::authenticate`] and keep their own command loop.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoBackend;

/// The connection type of [`NoBackend`] (never created).
#[derive(Debug)]
pub struct NoConnection;

impl Backend for NoBackend {
    type Connection = NoConnection;

    async fn admit(
        &self,
        session: &Session,
        _info: &ConnectionInfo,
    ) -> Result<NoConnection, ErrPacket> {
        // ER_ACCESS_DENIED_ERROR with a text of its own in place of "(using password: …)".
        Err(MysqlError::AccessDeniedError.packet_with_message(format!(
            "Access denied for user '{}'@'{}' (no backend)",
            crate::handshake::clip(&session.user, 48),
            crate::handshake::clip(&session.client_host, 64)
        )))
    }
}

impl Connection for NoConnection {
    async fn on_command(
        &mut self,
        _request: Request<'_>,
        reply: &mut Reply<'_>,
    ) -> std::io::Result<()> {
        reply.error(&MysqlError::UnknownComError.packet(&[]));
        Ok(())
    }
}

/// The placeholder store type of a builder before [`ServerBuilder::accounts`].
#[derive(Debug, Clone, Copy, Default)]
pub struct NoStore;

/// Builds a [`Server`]; start with [`Server::builder`]. Every setting has MySQL 8.0's default.
pub struct ServerBuilder<S = NoStore, B = NoBackend> {
    store: Option<Arc<S>>,
    backend: Arc<B>,
    config: Option<Config>,
    tls: Option<tls::TlsConfig>,
    rsa_caching_sha2: Option<Arc<RsaKeyPair>>,
    rsa_sha256: Option<Arc<RsaKeyPair>>,
    hostname: String,
}

impl Server<NoStore, NoBackend> {
    /// A builder with MySQL 8.0's defaults, no TLS, no RSA key pair and no backend.
    pub fn builder() -> ServerBuilder<NoStore, NoBackend> {
        // Empty flags always merge into the defaults; `build` reports it if they ever did not.
        let mut config = Config::merge(Flags::default(), Flags::default()).ok();
        if let Some(c) = config.as_mut() {
            // Embedded: no files of its own. The socket and data dir belong to the binary.
            c.socket = None;
            c.auto_generate_certs = false;
            // The backend knows its databases: it sees `Session::database` at admission.
            c.check_databases = false;
        }
        ServerBuilder {
            store: None,
            backend: Arc::new(NoBackend),
            config,
            tls: None,
            rsa_caching_sha2: None,
            rsa_sha256: None,
            hostname: "localhost".into(),
        }
    }
}

impl<S, B> ServerBuilder<S, B> {
    /// Applies one setting to the configuration.
    fn with(mut self, set: impl FnOnce(&mut Config)) -> Self {
        if let Some(c) = self.config.as_mut() {
            set(c);
        }
        self
    }

    /// Where accounts come from.
    pub fn accounts<S2: AccountStore>(self, store: S2) -> ServerBuilder<S2, B> {
        self.accounts_shared(Arc::new(store))
    }

    /// The same, for a store the embedder keeps a handle to (to change accounts later).
    pub fn accounts_shared<S2: AccountStore>(self, store: Arc<S2>) -> ServerBuilder<S2, B> {
        ServerBuilder {
            store: Some(store),
            backend: self.backend,
            config: self.config,
            tls: self.tls,
            rsa_caching_sha2: self.rsa_caching_sha2,
            rsa_sha256: self.rsa_sha256,
            hostname: self.hostname,
        }
    }

    /// The engine behind the door.
    pub fn backend<B2: Backend>(self, backend: B2) -> ServerBuilder<S, B2> {
        self.backend_shared(Arc::new(backend))
    }

    /// The same, for a backend the embedder keeps a handle to.
    pub fn backend_shared<B2: Backend>(self, backend: Arc<B2>) -> ServerBuilder<S, B2> {
        ServerBuilder {
            store: self.store,
            backend,
            config: self.config,
            tls: self.tls,
            rsa_caching_sha2: self.rsa_caching_sha2,
            rsa_sha256: self.rsa_sha256,
            hostname: self.hostname,
        }
    }

    /// TLS: the server's identity, trusted client CAs and CRLs, and the version / cipher
    /// policy, each from files or from memory ([`tls::TlsConfig`], [`tls::TlsIdentity`]).
    /// Without it the greeting offers no TLS.
    pub fn tls(mut self, tls: tls::TlsConfig) -> Self {
        self.tls = Some(tls);
        self
    }

    /// The RSA key pair of `plugin` (caching_sha2_password or sha256_password) for password
    /// exchange on plain TCP; the two plugins may share one. Without it that plugin's full
    /// authentication needs TLS (or, for caching_sha2_password, a Unix socket).
    pub fn rsa_key_pair(mut self, plugin: Plugin, pair: Arc<RsaKeyPair>) -> Self {
        match plugin {
            Plugin::CachingSha2Password => self.rsa_caching_sha2 = Some(pair),
            Plugin::Sha256Password => self.rsa_sha256 = Some(pair),
            Plugin::MysqlNativePassword => {}
        }
        self
    }

    /// `default_authentication_plugin`: the plugin the greeting names (caching_sha2_password).
    pub fn default_plugin(self, plugin: Plugin) -> Self {
        self.with(|c| c.default_plugin = plugin)
    }

    /// The version in the greeting and `@@version` (keep it ≥ 8.0.5: Connector/J chooses
    /// RSA-OAEP from it).
    pub fn server_version(self, version: impl Into<String>) -> Self {
        self.with(|c| c.server_version = version.into())
    }

    /// The capability flags the greeting offers: any subset of what Vestibule supports
    /// ([`crate::wire::capabilities::SERVER_CAPABILITIES`]); the flags the exchange needs are
    /// always offered, and CLIENT_SSL follows [`ServerBuilder::tls`].
    pub fn greeting_capabilities(self, flags: u32) -> Self {
        self.with(|c| c.capabilities = flags)
    }

    /// The character set (collation id) the greeting names: 255, utf8mb4_0900_ai_ci, by
    /// default.
    pub fn character_set(self, collation: u8) -> Self {
        self.with(|c| c.character_set = collation)
    }

    /// `caching_sha2_password_cache_size`… the number of accounts the fast-path cache holds.
    pub fn cache_size(self, accounts: usize) -> Self {
        self.with(|c| c.cache_size = accounts.max(1))
    }

    /// `caching_sha2_password_digest_rounds`: rounds of an unknown user's decoy hash (set it to
    /// what the store's hashes use).
    pub fn digest_rounds(self, rounds: u32) -> Self {
        self.with(|c| c.digest_rounds = rounds)
    }

    /// `connect_timeout` in seconds (10): the bound of a login and of a COM_CHANGE_USER.
    pub fn connect_timeout(self, seconds: u64) -> Self {
        self.with(|c| c.connect_timeout = seconds.max(1))
    }

    /// `wait_timeout`, `interactive_timeout`, `net_read_timeout`, `net_write_timeout`, each
    /// clamped to MySQL's 1 to 31536000 seconds ([`Timeouts::default`] is MySQL's defaults).
    pub fn timeouts(self, t: Timeouts) -> Self {
        use super::config::MAX_TIMEOUT;
        // MySQL's range for each: 1 second to a year.
        self.with(|c| {
            c.wait_timeout = t.wait.clamp(1, MAX_TIMEOUT);
            c.interactive_timeout = t.interactive.clamp(1, MAX_TIMEOUT);
            c.net_read_timeout = t.net_read.clamp(1, MAX_TIMEOUT);
            c.net_write_timeout = t.net_write.clamp(1, MAX_TIMEOUT);
        })
    }

    /// `max_connections` (151); one more connection is kept for an administrator.
    pub fn max_connections(self, n: u32) -> Self {
        self.with(|c| c.max_connections = n.max(1))
    }

    /// `max_allowed_packet` in bytes (64 MiB; 1 KiB to 1 GiB): the largest command the backend
    /// receives.
    pub fn max_allowed_packet(self, bytes: u64) -> Self {
        self.with(|c| c.max_allowed_packet = bytes.clamp(1024, 1 << 30))
    }

    /// `require_secure_transport` (OFF): refuse logins over plain TCP with 3159.
    pub fn require_secure_transport(self, on: bool) -> Self {
        self.with(|c| c.require_secure_transport = on)
    }

    /// How many full authentications (SHA-256-crypt, RSA) run at once off the reactor (the
    /// number of CPUs).
    pub fn full_auth_concurrency(self, n: usize) -> Self {
        self.with(|c| c.full_auth_concurrency = n.max(1))
    }

    /// The host name `@@hostname` shows.
    pub fn hostname(mut self, name: impl Into<String>) -> Self {
        self.hostname = name.into();
        self
    }
}

impl<S: AccountStore, B: Backend> ServerBuilder<S, B> {
    /// The server. Nothing is bound yet: hand it listeners ([`Server::serve`]) or connections
    /// ([`Server::serve_conn`]).
    pub fn build(self) -> Result<Server<S, B>, BuildError> {
        // `build` exists only once `accounts` was called; the store is always there.
        let store = self
            .store
            .ok_or_else(|| BuildError::Invalid("no account store".into()))?;
        let config = self
            .config
            .ok_or_else(|| BuildError::Invalid("the default configuration is invalid".into()))?;
        let rounds = config.digest_rounds;
        if !(crate::auth::MIN_DIGEST_ROUNDS..=crate::auth::MAX_DIGEST_ROUNDS).contains(&rounds) {
            return Err(BuildError::Invalid(format!(
                "caching_sha2_password_digest_rounds {rounds} is outside {}..={}",
                crate::auth::MIN_DIGEST_ROUNDS,
                crate::auth::MAX_DIGEST_ROUNDS
            )));
        }
        let tls = match self.tls {
            Some(config) => tls::TlsState::new(config)?,
            None => tls::TlsState::disabled(),
        };
        let shared = Shared::new(
            config,
            tls,
            self.rsa_caching_sha2,
            self.rsa_sha256,
            self.hostname,
        );
        Ok(Server::from_parts(shared, store, self.backend))
    }
}
