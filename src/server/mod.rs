//! The thin tokio server: listeners (TCP and Unix socket), one task per connection driving the
//! pure [`crate::handshake`] machine, TLS through rustls, full-auth crypto on a bounded blocking
//! pool, the account file, generated certificates and keys, and the command handler.
//!
//! Owns: everything that touches the outside world. Decisions stay in the pure core; this module
//! moves bytes, reads files and clocks, draws random numbers and runs slow checks.

pub mod admin;
pub mod api;
pub mod audit_log;
pub mod builder;
pub(crate) mod commands;
pub mod config;
pub mod conn;
pub mod login_state;
pub mod metrics;
pub mod proxy;
pub mod rlimit;
pub mod rsa_keys;
pub mod sessions;
pub mod store;
pub mod tls;
pub mod tls_files;
pub(crate) mod vars;

pub use vars::AccountSecurityVars;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Instant;

use tokio::net::{TcpListener, UnixListener};
use tokio::sync::Semaphore;
use tracing::{error, info, warn};

use crate::account::{Account, AccountSet, ClientHost, Require};
use crate::auth::{AuthString, Plugin};
use crate::cache::AuthCache;
use crate::handshake::{RsaDecryptor, RsaPublicKey};

pub use api::{AccountStore, Backend, Connection, ConnectionInfo, Reply, Request};
pub use builder::{BuildError, NoBackend, ServerBuilder};
pub use conn::{Authenticated, ConnError, ConnectionSlot, Io, Stream};
pub use store::{FileAccounts, MemoryAccounts};

pub use config::Config;

/// Server-wide counters behind `SHOW STATUS`.
#[derive(Default)]
pub struct Stats {
    /// `Connections`: connection attempts, successful or not.
    pub connections: AtomicU64,
    /// `Threads_connected`: connections open now.
    pub threads_connected: AtomicU64,
    /// `Aborted_connects`: connection phases that ended without a session.
    pub aborted_connects: AtomicU64,
    /// `Caching_sha2_password_fast_path_auths` (Vestibule's): logins answered from the cache.
    pub fast_path_auths: AtomicU64,
    /// `Caching_sha2_password_full_auths` (Vestibule's): logins that checked the stored hash.
    pub full_auths: AtomicU64,
    /// `Ssl_sessions_reused` (global): TLS handshakes that resumed a session.
    pub tls_resumed: AtomicU64,
    /// `Questions`: COM_QUERY packets received.
    pub questions: AtomicU64,
    /// Logins by mysql_native_password's scramble or to an account without password
    /// (`/metrics`' `vestibule_logins_total{path="other"}`).
    pub other_auths: AtomicU64,
    /// Logins refused: connection phases (and COM_CHANGE_USER exchanges) that ended with an
    /// error sent to the client (`/metrics`' `vestibule_login_failures_total`).
    pub login_failures: AtomicU64,
    /// TLS handshakes completed at TLS 1.2 (`/metrics`' `vestibule_tls_handshakes_total`).
    pub tls_v12: AtomicU64,
    /// TLS handshakes completed at TLS 1.3 (`/metrics`' `vestibule_tls_handshakes_total`).
    pub tls_v13: AtomicU64,
}

/// Global system variables that can change at run time.
#[derive(Debug, Clone)]
pub struct GlobalVars {
    /// `require_secure_transport`: refuse logins over plain TCP with 3159 (docs/protocol.md,
    /// "Secure transports").
    pub require_secure_transport: bool,
    /// Defaults of new sessions' timeouts (`SET GLOBAL wait_timeout` …).
    pub timeouts: Timeouts,
    /// The account-security variables (`default_password_lifetime`, `password_history`,
    /// `max_user_connections`, `max_connect_errors`, `connection_control_*` …).
    pub account_security: vars::AccountSecurityVars,
}

/// MySQL's command-phase timeouts, in seconds (1..=[`config::MAX_TIMEOUT`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// `wait_timeout`: how long a session may sit idle between commands.
    pub wait: u64,
    /// `interactive_timeout`: a CLIENT_INTERACTIVE client's session starts with it as its
    /// `wait_timeout`.
    pub interactive: u64,
    /// `net_read_timeout`: how long a read inside a started packet may wait for bytes.
    pub net_read: u64,
    /// `net_write_timeout`: how long a write to the client may wait for progress.
    pub net_write: u64,
}

impl Default for Timeouts {
    /// MySQL 8.0's defaults: `wait_timeout` and `interactive_timeout` 28800,
    /// `net_read_timeout` 30, `net_write_timeout` 60.
    fn default() -> Timeouts {
        Timeouts {
            wait: 28800,
            interactive: 28800,
            net_read: 30,
            net_write: 60,
        }
    }
}

impl Timeouts {
    /// The variable names, as `SHOW VARIABLES` and `SET` spell them.
    pub const NAMES: [&'static str; 4] = [
        "interactive_timeout",
        "net_read_timeout",
        "net_write_timeout",
        "wait_timeout",
    ];

    /// The values of `--wait-timeout`, `--interactive-timeout`, `--net-read-timeout` and
    /// `--net-write-timeout`.
    pub fn from_config(c: &Config) -> Timeouts {
        Timeouts {
            wait: c.wait_timeout,
            interactive: c.interactive_timeout,
            net_read: c.net_read_timeout,
            net_write: c.net_write_timeout,
        }
    }

    /// A new session's values: as the globals, but an interactive client waits
    /// `interactive_timeout` (MySQL's `thd->variables.net_wait_timeout` at login).
    pub fn for_session(self, client_capabilities: u32) -> Timeouts {
        if client_capabilities & crate::wire::capabilities::CLIENT_INTERACTIVE != 0 {
            Timeouts {
                wait: self.interactive,
                ..self
            }
        } else {
            self
        }
    }

    /// The value of one of [`Timeouts::NAMES`]; `None` for any other name.
    pub fn get(&self, name: &str) -> Option<u64> {
        Some(match name {
            "wait_timeout" => self.wait,
            "interactive_timeout" => self.interactive,
            "net_read_timeout" => self.net_read,
            "net_write_timeout" => self.net_write,
            _ => return None,
        })
    }

    /// Sets one of [`Timeouts::NAMES`]; `false` for any other name.
    pub fn set(&mut self, name: &str, seconds: u64) -> bool {
        let slot = match name {
            "wait_timeout" => &mut self.wait,
            "interactive_timeout" => &mut self.interactive,
            "net_read_timeout" => &mut self.net_read,
            "net_write_timeout" => &mut self.net_write,
            _ => return false,
        };
        *slot = seconds;
        true
    }
}

/// Everything connections share.
pub struct Shared {
    /// The configuration the server was built with (startup values of the variables).
    pub config: Config,
    /// The caching_sha2_password cache (handed to the account store, which evicts from it).
    pub cache: Arc<AuthCache>,
    /// The TLS context new connections get, and its reloads (`ALTER INSTANCE RELOAD TLS`).
    pub tls: tls::TlsState,
    /// caching_sha2_password's RSA key pair (`None`: no RSA key exchange for it).
    pub rsa: Option<Arc<rsa_keys::RsaKeyPair>>,
    /// sha256_password's RSA key pair (`None`: no RSA key exchange for it).
    pub sha256_rsa: Option<Arc<rsa_keys::RsaKeyPair>>,
    /// The global variables `SET GLOBAL` changes.
    pub globals: RwLock<GlobalVars>,
    /// The status counters.
    pub stats: Stats,
    /// When the server started (`Uptime`).
    pub started: Instant,
    /// Key for the decoy plugin choice of unknown users.
    pub(crate) decoy_secret: [u8; 32],
    /// Bounds concurrent full authentications (SHA-256-crypt, RSA) on the blocking pool.
    pub(crate) slow_checks: Arc<Semaphore>,
    pub(crate) next_connection_id: AtomicU32,
    /// The failed-login counters of FAILED_LOGIN_ATTEMPTS (memory only, as in MySQL).
    pub login_locks: login_state::LoginLocks,
    /// The host cache of `max_connect_errors` (`performance_schema.host_cache`).
    pub host_cache: login_state::HostCache,
    /// connection_control's failed-login counters and delays.
    pub throttle: login_state::Throttle,
    /// Open connections and hourly counters per account (resource limits).
    pub user_resources: Arc<login_state::UserResources>,
    /// The live sessions of every backend (`SHOW PROCESSLIST`, `KILL`).
    pub sessions: Arc<sessions::Sessions>,
    /// More global status variables, from a backend (proxy mode's `Backend_*`): set once.
    pub(crate) extra_status: std::sync::OnceLock<StatusSource>,
    pub(crate) databases: Arc<[String]>,
    /// `@@hostname`.
    pub hostname: String,
    /// `@@port`: the configured TCP port, then the bound one once [`run`] listens.
    pub tcp_port: AtomicU32,
    /// `@@socket`: the Unix socket's path (`None`: no socket).
    pub socket_path: Option<PathBuf>,
    /// The Unix socket is listening (a secure transport exists without TLS).
    pub socket_listening: std::sync::atomic::AtomicBool,
    /// Set once by [`Shared::begin_shutdown`]: listeners stop, sessions get 1053.
    shutdown: tokio::sync::watch::Sender<bool>,
}

/// A source of extra status variables (name, value).
pub type StatusSource = Arc<dyn Fn() -> Vec<(String, String)> + Send + Sync>;

impl Shared {
    /// Adds status variables to `SHOW GLOBAL STATUS` (once; a second call is ignored and
    /// returns `false`). Proxy mode's `Backend_*` variables come from here.
    pub fn set_status_source(&self, source: StatusSource) -> bool {
        self.extra_status.set(source).is_ok()
    }
}

/// aws-lc-rs's constant-time RSA-OAEP decryption, as the handshake machine wants it.
struct RsaAdapter<'a>(&'a rsa_keys::RsaKeyPair);

impl RsaDecryptor for RsaAdapter<'_> {
    fn decrypt(&self, ciphertext: &[u8]) -> Option<zeroize::Zeroizing<Vec<u8>>> {
        self.0.decrypt_oaep_sha1(ciphertext).ok()
    }
}

/// Bytes for the public nonces of a connection (the greeting's and an auth switch's scramble):
/// CSPRNG bytes from [`random_bytes`], drawn 1 KiB at a time per thread and handed out in order,
/// each handed out once. A draw costs about as much for 20 bytes as for 1 KiB, and two per login
/// were a tenth of a plain fast-path login's instructions (benches/README.md). Only for values
/// the peer sees anyway: salts and keys still come from [`random_bytes`].
pub(crate) fn nonce_bytes<const N: usize>() -> [u8; N] {
    use std::cell::RefCell;
    const POOL: usize = 1024;
    thread_local! {
        static NONCES: RefCell<(Box<[u8; POOL]>, usize)> = RefCell::new((Box::new([0; POOL]), POOL));
    }
    let mut out = [0u8; N];
    NONCES.with_borrow_mut(|(pool, used)| {
        if N > POOL {
            out = random_bytes();
            return;
        }
        if POOL - *used < N {
            **pool = random_bytes();
            *used = 0;
        }
        if let Some(src) = pool.get_mut(*used..*used + N) {
            out.copy_from_slice(src);
            // Handed out: not kept where a later read of this memory could find it.
            src.fill(0);
        }
        *used += N;
    });
    out
}

/// CSPRNG bytes from aws-lc-rs (the one crypto provider in the build).
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    if aws_lc_rs::rand::fill(&mut b).is_err() {
        // aws-lc's RNG does not fail in practice; fall back to a hash of the clock and a counter
        // rather than panic, and say so.
        error!("system random number generator failed; using a degraded fallback");
        use sha2::Digest;
        static CTR: AtomicU64 = AtomicU64::new(0);
        let seed = format!(
            "{:?}{}",
            std::time::SystemTime::now(),
            CTR.fetch_add(1, Ordering::Relaxed)
        );
        let h = sha2::Sha256::digest(seed.as_bytes());
        for (i, x) in b.iter_mut().enumerate() {
            *x = h[i % 32];
        }
    }
    b
}

impl Shared {
    /// The state of a server that uses `config`'s limits, timeouts and plugin settings, with
    /// the given TLS state and RSA key pairs (one per plugin; `None`: no RSA key exchange for
    /// that plugin).
    pub fn new(
        config: Config,
        tls: tls::TlsState,
        rsa: Option<Arc<rsa_keys::RsaKeyPair>>,
        sha256_rsa: Option<Arc<rsa_keys::RsaKeyPair>>,
        hostname: String,
    ) -> Arc<Shared> {
        // As configured: with no secure transport, logins over plain TCP then get 3159 (the
        // binary's `init` decides beforehand whether to start that way).
        let globals = GlobalVars {
            require_secure_transport: config.require_secure_transport,
            timeouts: Timeouts::from_config(&config),
            account_security: vars::AccountSecurityVars::default(),
        };
        Arc::new(Shared {
            cache: Arc::new(AuthCache::new(config.cache_size, random_bytes())),
            tls,
            rsa,
            sha256_rsa,
            globals: RwLock::new(globals),
            stats: Stats::default(),
            started: Instant::now(),
            decoy_secret: random_bytes(),
            slow_checks: Arc::new(Semaphore::new(config.full_auth_concurrency)),
            next_connection_id: AtomicU32::new(1),
            extra_status: std::sync::OnceLock::new(),
            login_locks: login_state::LoginLocks::default(),
            host_cache: login_state::HostCache::default(),
            throttle: login_state::Throttle::default(),
            user_resources: Arc::default(),
            sessions: Arc::default(),
            databases: Arc::from(vec![
                "information_schema".to_string(),
                "mysql".to_string(),
                "performance_schema".to_string(),
                "sys".to_string(),
            ]),
            hostname,
            tcp_port: AtomicU32::new(u32::from(config.port)),
            socket_path: config.socket.clone(),
            socket_listening: std::sync::atomic::AtomicBool::new(false),
            shutdown: tokio::sync::watch::Sender::new(false),
            config,
        })
    }

    /// The public key `plugin_default` sends for RSA key exchange (sha256_password's pair for
    /// it, caching_sha2_password's for the others); `None` when that plugin has no pair.
    pub fn rsa_public(&self, plugin_default: Plugin) -> Option<RsaPublicKey> {
        let k = match plugin_default {
            Plugin::Sha256Password => self.sha256_rsa.as_ref(),
            _ => self.rsa.as_ref(),
        }?;
        Some(RsaPublicKey {
            pem: Arc::from(k.public_pem()),
            modulus_len: k.modulus_len(),
        })
    }

    /// Starts a shutdown (SIGTERM / SIGINT): the listeners stop accepting, logins in flight may
    /// finish, and every session gets 1053 at its next read.
    pub fn begin_shutdown(&self) {
        self.shutdown.send_replace(true);
    }

    /// Whether [`Shared::begin_shutdown`] has been called.
    pub fn shutting_down(&self) -> bool {
        *self.shutdown.borrow()
    }

    /// Resolves once [`Shared::begin_shutdown`] has been called (at once if it already was).
    pub fn shutdown_signal(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut rx = self.shutdown.subscribe();
        async move {
            let _ = rx.wait_for(|down| *down).await;
        }
    }

    pub(crate) fn shutdown_receiver(&self) -> tokio::sync::watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    /// The live global timeouts (new sessions start from them).
    pub fn timeouts(&self) -> Timeouts {
        self.globals
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .timeouts
    }

    /// The live value of `require_secure_transport`.
    pub fn require_secure_transport(&self) -> bool {
        self.globals
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .require_secure_transport
    }

    /// The live account-security variables (`SET GLOBAL default_password_lifetime` …).
    pub fn account_security(&self) -> vars::AccountSecurityVars {
        self.globals
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .account_security
    }

    /// (`default_password_lifetime`, `disconnect_on_expired_password`) for a login now.
    pub(crate) fn expiry_settings(&self) -> (u32, bool) {
        let v = self.account_security();
        (
            v.default_password_lifetime,
            v.disconnect_on_expired_password,
        )
    }

    /// The global `max_connect_errors`.
    pub(crate) fn max_connect_errors(&self) -> u64 {
        self.account_security().max_connect_errors
    }

    /// The global `max_user_connections` (0: no limit).
    pub(crate) fn max_user_connections(&self) -> u32 {
        self.account_security().max_user_connections
    }

    /// The connection_control variables.
    pub(crate) fn connection_control(&self) -> login_state::ConnectionControl {
        let v = self.account_security();
        login_state::ConnectionControl {
            // Without the plugin loaded (--connection-control), no delays.
            threshold: if self.config.connection_control {
                u64::from(v.connection_control_failed_connections_threshold)
            } else {
                0
            },
            min_delay_ms: u64::from(v.connection_control_min_connection_delay),
            max_delay_ms: u64::from(v.connection_control_max_connection_delay),
        }
    }
}

/// Why [`init`] could not start the server. Each variant is a step of the startup on disk; the
/// binary prints the Display text and exits. (TLS and RSA key problems are not errors: the server
/// starts without them and logs why.)
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InitError {
    /// The data directory (`--datadir`) does not exist and cannot be created.
    #[error("cannot create data directory {}: {source}", path.display())]
    CreateDataDir {
        /// The data directory.
        path: PathBuf,
        /// Why `create_dir_all` failed.
        source: std::io::Error,
    },
    /// The accounts file exists but cannot be read or is not a valid accounts file.
    #[error("cannot load accounts: {0}")]
    LoadAccounts(#[source] store::StoreError),
    /// First start: the bootstrap `root@localhost` account was refused.
    #[error("cannot create root account: {0}")]
    CreateRoot(#[source] crate::account::AccountError),
    /// First start: the accounts file holding the new root account cannot be written.
    #[error("cannot write accounts file: {0}")]
    SaveAccounts(#[source] store::StoreError),
    /// First start: the generated root password cannot be written to `root-password.txt`.
    #[error("cannot write {}: {source}", path.display())]
    WriteRootPassword {
        /// The password file.
        path: PathBuf,
        /// Why the write failed.
        source: std::io::Error,
    },
}

/// Startup of the binary: data dir, accounts file (with the bootstrap root account), TLS files,
/// RSA keys. Returns the server's state and the file account store.
pub fn init(config: Config) -> Result<(Arc<Shared>, Arc<store::FileAccounts>), InitError> {
    std::fs::create_dir_all(&config.datadir).map_err(|source| InitError::CreateDataDir {
        path: config.datadir.clone(),
        source,
    })?;
    let store = store::AccountsFile::new(config.accounts_file());
    let accounts = match store.load().map_err(InitError::LoadAccounts)? {
        Some(set) => set,
        None => bootstrap_accounts(&config, &store)?,
    };
    let hostname = gethostname::gethostname().to_string_lossy().into_owned();
    let tls = tls::TlsState::startup(&config, &hostname);
    let rsa = load_rsa(
        &config.sha2_private_key,
        &config.sha2_public_key,
        config.sha2_auto_generate_rsa_keys,
        "caching_sha2_password",
    );
    let sha256_rsa = if config.sha256_private_key == config.sha2_private_key
        && config.sha256_public_key == config.sha2_public_key
    {
        rsa.clone()
    } else {
        load_rsa(
            &config.sha256_private_key,
            &config.sha256_public_key,
            config.sha256_auto_generate_rsa_keys,
            "sha256_password",
        )
    };
    let accounts = Arc::new(store::FileAccounts::new(store, accounts));
    let mut config = config;
    if config.require_secure_transport && !tls.available() && config.socket.is_none() {
        error!("require_secure_transport=ON but no secure transport (TLS or Unix socket) is configured; turning it OFF");
        config.require_secure_transport = false;
    }
    let shared = Shared::new(config, tls, rsa, sha256_rsa, hostname);
    Ok((shared, accounts))
}

fn load_rsa(
    private: &std::path::Path,
    public: &std::path::Path,
    auto: bool,
    plugin: &str,
) -> Option<Arc<rsa_keys::RsaKeyPair>> {
    match rsa_keys::ensure_rsa_keys(private, public, auto) {
        Ok(rsa_keys::KeyFiles::Generated) => {
            info!(plugin, path = %private.display(), "generated RSA key pair")
        }
        Ok(_) => {}
        Err(e) => warn!(plugin, "RSA key files: {e}"),
    }
    match rsa_keys::RsaKeyPair::load(private, public) {
        Ok(k) => Some(Arc::new(k)),
        Err(e) => {
            warn!(plugin, "RSA key exchange unavailable (login over plain TCP needs TLS or the Unix socket): {e}");
            None
        }
    }
}

/// First start: `root@localhost` with `VESTIBULE_ROOT_PASSWORD` or a random password, shown once
/// and written 0600 into the data dir.
fn bootstrap_accounts(
    config: &Config,
    store: &store::AccountsFile,
) -> Result<AccountSet, InitError> {
    let (password, generated) = match std::env::var("VESTIBULE_ROOT_PASSWORD") {
        Ok(p) if !p.is_empty() => (p, false),
        _ => {
            const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
            let raw: [u8; 20] = random_bytes();
            (
                raw.iter()
                    .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
                    .collect(),
                true,
            )
        }
    };
    let auth = AuthString::generate(
        config.default_plugin,
        password.as_bytes(),
        random_bytes(),
        config.digest_rounds,
    );
    let mut root = Account::new("root", "localhost", config.default_plugin, auth);
    root.admin = true;
    root.grant_option = true;
    root.require = Require::None;
    let mut set = AccountSet::new();
    set.create(vec![root], false)
        .map_err(InitError::CreateRoot)?;
    store.save(&set).map_err(InitError::SaveAccounts)?;
    if generated {
        let path = config.datadir.join("root-password.txt");
        write_private(&path, format!("{password}\n").as_bytes()).map_err(|source| {
            InitError::WriteRootPassword {
                path: path.clone(),
                source,
            }
        })?;
        // Shown once, on the terminal, like mysqld --initialize; never in the log.
        eprintln!(
            "\nA temporary password is generated for root@localhost: {password}\n(also written to {})\n",
            path.display()
        );
    }
    info!("created account 'root'@'localhost'");
    Ok(set)
}

pub(crate) fn write_private(path: &std::path::Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(data)?;
    f.sync_all()
}

/// A server: its state, where accounts come from and the backend behind the door.
pub struct Server<S, B> {
    shared: Arc<Shared>,
    store: Arc<S>,
    backend: Arc<B>,
}

impl<S, B> Clone for Server<S, B> {
    fn clone(&self) -> Self {
        Server {
            shared: Arc::clone(&self.shared),
            store: Arc::clone(&self.store),
            backend: Arc::clone(&self.backend),
        }
    }
}

impl<S: AccountStore, B: Backend> Server<S, B> {
    /// Puts the parts together; hands the store the cache it must evict from.
    pub fn from_parts(shared: Arc<Shared>, store: Arc<S>, backend: Arc<B>) -> Self {
        store.attach_cache(Arc::clone(&shared.cache));
        Server {
            shared,
            store,
            backend,
        }
    }

    /// The server's state (status counters, TLS, global variables, shutdown).
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// MySQL's shutdown: stops the accept loops, lets logins in flight finish, sends 1053 to
    /// every session at its next read, and waits up to `bound` for the connections to end.
    /// Returns how many are still open.
    pub async fn shutdown(&self, bound: std::time::Duration) -> u64 {
        self.shared.begin_shutdown();
        drain(&self.shared, bound).await
    }

    pub(crate) fn store(&self) -> &S {
        &self.store
    }

    pub(crate) fn backend(&self) -> &B {
        &self.backend
    }

    /// Accepts TCP connections and serves each on its own task until
    /// [`Shared::begin_shutdown`]. Accept errors (out of file descriptors …) are logged and
    /// retried after a pause.
    pub async fn serve(&self, listener: TcpListener) {
        self.accept_loop(listener).await;
    }

    /// The same for a Unix socket: its clients are [`ClientHost::Unix`] (`localhost`, a secure
    /// transport for caching_sha2_password).
    pub async fn serve_unix(&self, listener: UnixListener) {
        // A secure transport exists now (`SET GLOBAL require_secure_transport=ON` may follow).
        self.shared.socket_listening.store(true, Ordering::Relaxed);
        self.accept_loop(listener).await;
    }

    async fn accept_loop<L: Accept>(&self, listener: L) {
        let stop = self.shared.shutdown_signal();
        tokio::pin!(stop);
        loop {
            let accepted = tokio::select! {
                r = listener.accept_one() => r,
                () = &mut stop => break,
            };
            match accepted {
                Ok((stream, client, port)) => {
                    tokio::spawn(conn::serve(stream, client, port, self.clone()));
                }
                Err(e) => {
                    warn!(listener = L::KIND, "accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            }
        }
    }

    /// Runs only the connection phase on `stream` — TLS, every plugin exchange, the cache and
    /// the post-authentication checks — and hands back the (possibly TLS-wrapped) stream and
    /// the session, for an embedder that keeps its own command loop. The client has its OK;
    /// the next packet it sends is a command with sequence id 0. Bounded by `connect_timeout`.
    pub async fn authenticate<T>(
        &self,
        stream: T,
        client: ClientHost,
    ) -> Result<conn::Authenticated, conn::ConnError>
    where
        T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        conn::authenticate(stream, client, self).await
    }

    /// Serves one accepted connection to its end: the connection phase, then the backend's
    /// session. `client` is where it came from (host matching, `USER()`, the secure-transport
    /// decision: [`ClientHost::Unix`] is the socket).
    pub async fn serve_conn<T>(&self, stream: T, client: ClientHost)
    where
        T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        conn::serve(stream, client, None, self.clone()).await;
    }
}

/// A listener [`Server`]'s accept loop takes connections from.
trait Accept: Send + Sync {
    type Conn: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static;
    const KIND: &'static str;
    fn accept_one(
        &self,
    ) -> impl std::future::Future<Output = std::io::Result<(Self::Conn, ClientHost, Option<u16>)>> + Send;
}

impl Accept for TcpListener {
    type Conn = tokio::net::TcpStream;
    const KIND: &'static str = "tcp";
    async fn accept_one(&self) -> std::io::Result<(Self::Conn, ClientHost, Option<u16>)> {
        let (stream, peer) = self.accept().await?;
        let _ = stream.set_nodelay(true);
        Ok((stream, ClientHost::Tcp(peer.ip()), Some(peer.port())))
    }
}

impl Accept for UnixListener {
    type Conn = tokio::net::UnixStream;
    const KIND: &'static str = "unix";
    async fn accept_one(&self) -> std::io::Result<(Self::Conn, ClientHost, Option<u16>)> {
        let (stream, _) = self.accept().await?;
        Ok((stream, ClientHost::Unix, None))
    }
}

/// Binds the configured listeners (TCP, and the Unix socket unless disabled) and serves until
/// [`Shared::begin_shutdown`].
pub async fn run<S: AccountStore, B: Backend>(server: Server<S, B>) -> Result<(), String> {
    let shared = Arc::clone(&server.shared);
    let addr = std::net::SocketAddr::new(shared.config.bind_address, shared.config.port);
    let tcp = TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let local = tcp.local_addr().map_err(|e| e.to_string())?;
    shared
        .tcp_port
        .store(u32::from(local.port()), Ordering::Relaxed);
    let unix = match &shared.socket_path {
        Some(path) => {
            let _ = std::fs::remove_file(path);
            match UnixListener::bind(path) {
                Ok(l) => {
                    shared.socket_listening.store(true, Ordering::Relaxed);
                    Some(l)
                }
                Err(e) => {
                    warn!(path = %path.display(), "cannot listen on the Unix socket: {e}");
                    None
                }
            }
        }
        None => None,
    };
    info!(
        address = %local,
        socket = shared.socket_path.as_ref().map(|p| p.display().to_string()).unwrap_or_default(),
        version = %shared.config.server_version,
        "ready for connections"
    );
    let tcp_task = {
        let server = server.clone();
        tokio::spawn(async move { server.serve(tcp).await })
    };
    let unix_task = unix.map(|unix| {
        let server = server.clone();
        tokio::spawn(async move { server.serve_unix(unix).await })
    });
    let _ = tcp_task.await;
    if let Some(task) = unix_task {
        let _ = task.await;
    }
    // The listeners are closed; MySQL removes its socket file on shutdown too.
    if let Some(path) = shared
        .socket_path
        .as_ref()
        .filter(|_| shared.socket_listening.load(Ordering::Relaxed))
    {
        let _ = std::fs::remove_file(path);
    }
    Ok(())
}

/// After [`Shared::begin_shutdown`]: waits until every connection has ended or `bound` has
/// passed. Returns the number of connections still open.
pub async fn drain(shared: &Shared, bound: std::time::Duration) -> u64 {
    let deadline = tokio::time::Instant::now() + bound;
    loop {
        let open = shared.stats.threads_connected.load(Ordering::Relaxed);
        if open == 0 || tokio::time::Instant::now() >= deadline {
            return open;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// Installs the SIGTERM and SIGINT handlers at once (inside the runtime) and returns a future
/// that resolves to the name of the first of them to arrive; both stop the server the same way.
/// With a handler installed, SIGTERM also reaches a server that runs as PID 1 (a container
/// without an init), where the kernel would otherwise drop it.
pub fn stop_signal(
) -> std::io::Result<impl std::future::Future<Output = &'static str> + Send + 'static> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        }
    })
}

#[cfg(test)]
mod tests {
    use super::Timeouts;
    use crate::wire::capabilities::CLIENT_INTERACTIVE;

    /// A client that says it is interactive starts with `interactive_timeout` as its
    /// `wait_timeout` (MySQL); the others with `wait_timeout`.
    #[test]
    fn an_interactive_session_waits_interactive_timeout() {
        let globals = Timeouts {
            wait: 100,
            interactive: 7,
            net_read: 30,
            net_write: 60,
        };
        assert_eq!(globals.for_session(0), globals);
        let s = globals.for_session(CLIENT_INTERACTIVE);
        assert_eq!((s.wait, s.interactive, s.net_read), (7, 7, 30));
        let mut t = globals;
        for (i, name) in Timeouts::NAMES.iter().enumerate() {
            assert!(t.set(name, 1000 + i as u64));
            assert_eq!(t.get(name), Some(1000 + i as u64));
        }
        assert!(!t.set("connect_timeout", 5));
        assert_eq!(t.get("connect_timeout"), None);
    }

    /// `init` names the startup step that failed, with the text the binary prints.
    #[test]
    fn init_reports_the_failing_step() {
        use super::{init, store::AccountsFile, Config, InitError};
        let load = |datadir: &std::path::Path| {
            Config::load(super::config::Flags {
                datadir: Some(datadir.to_path_buf()),
                ..Default::default()
            })
            .unwrap()
        };
        let dir = tempfile::tempdir().unwrap();

        let file = dir.path().join("a-file");
        std::fs::write(&file, "x").unwrap();
        let datadir = file.join("data");
        let e = init(load(&datadir)).err().unwrap();
        let io = std::fs::create_dir_all(&datadir).unwrap_err();
        assert!(matches!(e, InitError::CreateDataDir { .. }), "{e:?}");
        assert_eq!(
            e.to_string(),
            format!("cannot create data directory {}: {io}", datadir.display())
        );

        let config = load(dir.path());
        std::fs::write(config.accounts_file(), "not an accounts file\n").unwrap();
        let cause = AccountsFile::new(config.accounts_file())
            .load()
            .unwrap_err();
        let e = init(config).err().unwrap();
        assert!(matches!(e, InitError::LoadAccounts(_)), "{e:?}");
        assert_eq!(e.to_string(), format!("cannot load accounts: {cause}"));
        assert!(std::error::Error::source(&e).is_some());
    }
}
