//! Proxy mode (docs/proxy.md): Vestibule in front of a real MySQL or MariaDB server.
//!
//! The door keeps the connection phase (TLS, every plugin, REQUIRE, the slots). At admission
//! [`ProxyBackend`] checks a backend connection out of the pool (or opens one) before
//! the client gets its OK; then [`ProxyConnection`] relays every command byte for byte, frame by
//! frame, with [`crate::wire::response::Tracker`] finding where each reply ends. The commands the
//! door owns (§3.4) are answered here.

mod backend_conn;
pub mod config;
mod pool;

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use tracing::{debug, info, warn};

use self::backend_conn::{BackendConn, PoolKey};
pub use self::config::{BackendCredentials, BackendFlags, IdentityMode, ProxyConfig};
use self::pool::{CheckoutError, Pool};
pub use self::pool::{Latency, PoolStats};
use super::api::{Backend, Connection, ConnectionInfo, Reply, Request};
use crate::client::{Credential, LoginParams};
use crate::error::MysqlError;
use crate::handshake::Session;
use crate::wire::capabilities::*;
use crate::wire::packets::ErrPacket;
use crate::wire::response::{Progress, Tracker};

/// Flags of the client's login that hold for the command phase and so must be the same on the
/// backend leg (docs/proxy.md §3.1); the others belong to the handshake.
const COMMAND_PHASE_FLAGS: u32 = CLIENT_LONG_PASSWORD
    | CLIENT_FOUND_ROWS
    | CLIENT_LONG_FLAG
    | 0x0000_0100 // CLIENT_IGNORE_SPACE
    | CLIENT_INTERACTIVE
    | CLIENT_TRANSACTIONS
    | CLIENT_MULTI_STATEMENTS
    | CLIENT_MULTI_RESULTS
    | CLIENT_PS_MULTI_RESULTS
    | CLIENT_DEPRECATE_EOF
    | CLIENT_PROTOCOL_41;

/// Flags that change packet layouts: the two legs must agree on them exactly.
const LAYOUT_FLAGS: u32 = CLIENT_DEPRECATE_EOF
    | CLIENT_MULTI_RESULTS
    | CLIENT_PS_MULTI_RESULTS
    | CLIENT_MULTI_STATEMENTS
    | CLIENT_PROTOCOL_41;

/// Relayed bytes queued before the relay writes them to the client (docs/proxy.md §3.3).
const FLUSH_AT: usize = 64 * 1024;

/// What a door session registers for `KILL` (docs/proxy.md §3.4).
#[derive(Debug, Clone)]
struct SessionEntry {
    backend_thread: u32,
    account: (String, String),
}

/// The state all sessions of a proxy share.
struct Inner {
    pool: Arc<Pool>,
    credentials: BackendCredentials,
    identity: IdentityMode,
    sessions: Mutex<HashMap<u32, SessionEntry>>,
    /// Backend accounts (pass-through) that a fast path's SHA256(pw) cannot log in to: their
    /// plugin is not caching_sha2_password. Learnt from the first refusal.
    no_sha256: Mutex<std::collections::HashSet<String>>,
    /// The backend has no caching_sha2_password at all (MariaDB before 11.4, from the greeting
    /// probe): no fast-path hash is ever tried.
    no_sha256_anywhere: std::sync::atomic::AtomicBool,
}

/// The proxy [`Backend`]: admission checks a backend connection out of the pool.
#[derive(Clone)]
pub struct ProxyBackend {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for ProxyBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyBackend")
            .field("backend", &self.inner.pool.cfg.address)
            .field("identity", &self.inner.identity)
            .finish_non_exhaustive()
    }
}

/// What the startup probe learned from the backend's greeting (docs/proxy.md §7).
#[derive(Debug, Clone)]
pub struct BackendProbe {
    /// The greeting's capability flags.
    pub capabilities: u32,
    /// The greeting's character set (the backend's default collation id).
    pub character_set: u8,
    /// The greeting's version string.
    pub server_version: String,
}

impl ProxyBackend {
    /// A proxy for `cfg` with these credentials; must run inside a tokio runtime (the pool's
    /// sweeper is a task).
    pub fn new(cfg: ProxyConfig, credentials: BackendCredentials) -> Result<ProxyBackend, String> {
        let tls = config::client_tls(&cfg)?;
        let identity = cfg.identity;
        let pool = Pool::new(Arc::new(cfg), tls);
        Ok(ProxyBackend {
            inner: Arc::new(Inner {
                pool,
                credentials,
                identity,
                sessions: Mutex::new(HashMap::new()),
                no_sha256: Mutex::new(std::collections::HashSet::new()),
                no_sha256_anywhere: std::sync::atomic::AtomicBool::new(false),
            }),
        })
    }

    /// Reads the backend's greeting (TCP or socket, no login), for the door's own greeting:
    /// the capability flags and the default collation.
    pub async fn probe(cfg: &ProxyConfig) -> Result<BackendProbe, String> {
        use tokio::io::AsyncReadExt;
        let read = async {
            let mut stream: Box<dyn super::conn::Io> = match &cfg.address {
                config::BackendAddress::Tcp(h, p) => {
                    Box::new(tokio::net::TcpStream::connect((h.as_str(), *p)).await?)
                }
                config::BackendAddress::Unix(p) => {
                    Box::new(tokio::net::UnixStream::connect(p).await?)
                }
            };
            let mut header = [0u8; 4];
            stream.read_exact(&mut header).await?;
            let len = crate::wire::frame::Header::parse(header).len;
            if len > crate::client::LOGIN_MAX_PACKET {
                return Err(std::io::Error::other("greeting too large"));
            }
            let mut payload = vec![0; len];
            stream.read_exact(&mut payload).await?;
            Ok::<_, std::io::Error>(payload)
        };
        let payload = tokio::time::timeout(cfg.connect_timeout, read)
            .await
            .map_err(|_| {
                format!(
                    "no greeting from {} within the connect timeout",
                    cfg.address
                )
            })?
            .map_err(|e| format!("cannot read the greeting of {}: {e}", cfg.address))?;
        if payload.first() == Some(&0xFF) {
            let e = ErrPacket::parse(&payload).map_err(|e| e.to_string())?;
            return Err(format!("backend error {}: {}", e.code, e.message));
        }
        let g = crate::wire::handshake::HandshakeV10::parse(&payload)
            .map_err(|e| format!("backend greeting: {e}"))?;
        Ok(BackendProbe {
            capabilities: g.capabilities,
            character_set: g.character_set,
            server_version: String::from_utf8_lossy(&g.server_version).into_owned(),
        })
    }

    /// Tells the proxy what the startup probe learnt: a MariaDB before 11.4 has no
    /// caching_sha2_password, so pass-through logins skip the fast-path hash and ask the client
    /// for its cleartext at once (docs/proxy.md §4.2c) instead of opening a backend connection
    /// that cannot succeed.
    pub fn learn_from_probe(&self, probe: &BackendProbe) {
        let v = probe
            .server_version
            .strip_prefix("5.5.5-")
            .unwrap_or(&probe.server_version);
        let mut parts = v
            .split(|c: char| !c.is_ascii_digit())
            .filter_map(|p| p.parse::<u32>().ok());
        let version = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
        if probe.server_version.contains("MariaDB") && version < (11, 4) {
            self.inner.no_sha256_anywhere.store(true, Ordering::Relaxed);
        }
    }

    fn sha256_cannot_log_in(&self, user: &str) -> bool {
        self.inner.no_sha256_anywhere.load(Ordering::Relaxed)
            || lock(&self.inner.no_sha256).contains(user)
    }

    /// The `Backend_*` status variables (docs/proxy.md §10).
    pub fn status(&self) -> Vec<(String, String)> {
        let pool = &self.inner.pool;
        let s = &pool.stats;
        let (open, idle) = pool.counts();
        let c = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed).to_string();
        vec![
            ("Backend_state".into(), pool.state().into()),
            ("Backend_connections".into(), open.to_string()),
            ("Backend_connections_idle".into(), idle.to_string()),
            ("Backend_connections_opened".into(), c(&s.opened)),
            ("Backend_connections_closed".into(), c(&s.closed)),
            ("Backend_connect_errors".into(), c(&s.connect_errors)),
            ("Backend_checkouts".into(), c(&s.checkouts)),
            ("Backend_checkouts_reused".into(), c(&s.checkouts_reused)),
            ("Backend_checkout_waits".into(), c(&s.checkout_waits)),
            ("Backend_checkout_timeouts".into(), c(&s.checkout_timeouts)),
            ("Backend_resets".into(), c(&s.resets)),
            ("Backend_reset_failures".into(), c(&s.reset_failures)),
            ("Backend_pings".into(), c(&s.pings)),
            ("Backend_ping_failures".into(), c(&s.ping_failures)),
            ("Backend_login_refusals".into(), c(&s.login_refusals)),
            ("Backend_sessions_lost".into(), c(&s.sessions_lost)),
            (
                "Backend_logins_native_hash".into(),
                c(&s.logins_native_hash),
            ),
            (
                "Backend_logins_sha256_fast".into(),
                c(&s.logins_sha256_fast),
            ),
            ("Backend_logins_cleartext".into(), c(&s.logins_cleartext)),
            (
                "Backend_full_auth_requests".into(),
                c(&s.full_auth_requests),
            ),
        ]
    }

    /// The pool's counters.
    pub fn stats(&self) -> &PoolStats {
        &self.inner.pool.stats
    }

    /// The backend account and the credential for a session (docs/proxy.md §4).
    fn identity_for(&self, session: &Session) -> Result<(String, Option<Credential>), ErrPacket> {
        match self.inner.identity {
            IdentityMode::Mapped => {
                let creds = &self.inner.credentials;
                let Some(name) =
                    creds.backend_account_for(session.account_user(), session.account_host())
                else {
                    warn!(user = %session.account_user(), "no backend account is mapped to this account");
                    return Err(foreign("backend login refused"));
                };
                let pw = creds
                    .password(name)
                    .map(|p| Credential::password(p.as_bytes().to_vec()));
                Ok((name.to_string(), pw))
            }
            IdentityMode::PassThrough => Ok((session.user.clone(), session.login_secret.clone())),
        }
    }
}

fn foreign(reason: &str) -> ErrPacket {
    MysqlError::ConnectToForeignDataSource.packet(&[&reason])
}

fn access_denied(session: &Session) -> ErrPacket {
    MysqlError::AccessDeniedError.packet(&[&session.user, &&*session.client_host, &"YES"])
}

impl Backend for ProxyBackend {
    type Connection = ProxyConnection;

    fn wants_login_secret(&self) -> bool {
        self.inner.identity == IdentityMode::PassThrough
    }

    async fn admit(
        &self,
        session: &Session,
        info: &ConnectionInfo,
    ) -> Result<ProxyConnection, ErrPacket> {
        let conn = match self.checkout(session).await {
            Ok(c) => c,
            Err(Refused::Cleartext(err)) => {
                // A fast-path hash cannot log in to this backend account: ask the client for
                // full authentication (docs/proxy.md §4.2c).
                self.inner
                    .pool
                    .stats
                    .full_auth_requests
                    .fetch_add(1, Ordering::Relaxed);
                info.ask_for_cleartext();
                return Err(err);
            }
            Err(Refused::Error(err)) => return Err(err),
        };
        let entry = SessionEntry {
            backend_thread: conn.thread_id,
            account: (session.account.user.clone(), session.account.host.clone()),
        };
        lock(&self.inner.sessions).insert(info.id, entry);
        Ok(ProxyConnection {
            backend: self.clone(),
            conn: Some(conn),
            door_id: info.id,
            account: (session.account.user.clone(), session.account.host.clone()),
            admin: session.account.admin,
            capabilities: session.client_capabilities,
            tls: session
                .tls
                .as_ref()
                .map(|t| (t.version.clone(), t.cipher.clone())),
            wants_cleartext: false,
        })
    }
}

impl ProxyBackend {
    async fn checkout(&self, session: &Session) -> Result<BackendConn, Refused> {
        let (user, credential) = self.identity_for(session).map_err(Refused::Error)?;
        let from_fast_path = matches!(credential, Some(Credential::Sha256Hash(_)));
        let caps = session.client_capabilities & COMMAND_PHASE_FLAGS;
        let key = PoolKey {
            user: user.clone(),
            capabilities: caps,
            collation: session.character_set,
            database: session.database.clone(),
        };
        let mode = self.inner.identity;
        let stats = &self.inner.pool.stats;
        // Known: this backend account takes no SHA256(pw) (a native account, or a MariaDB
        // without caching_sha2): only a pooled connection can serve it; otherwise the client is
        // asked for the cleartext, without an open that cannot succeed.
        let may_open = !(from_fast_path && self.sha256_cannot_log_in(&user));
        stats.checkouts.fetch_add(1, Ordering::Relaxed);
        let params = || {
            let credential = match &credential {
                Some(c) => c.clone(),
                None => {
                    return Err(CheckoutError::Unsuitable(
                        "no credential for the backend login".into(),
                    ))
                }
            };
            let mut p = LoginParams::new(user.clone(), credential);
            p.capabilities = caps;
            p.character_set = session.character_set;
            p.database = session.database.clone();
            Ok(p)
        };
        let (conn, reused) = match self.inner.pool.checkout(&key, may_open, params).await {
            Ok(c) => c,
            Err(CheckoutError::Unsuitable(why)) if from_fast_path => {
                debug!(user = %session.user, "the fast path's hash cannot log in: {why}");
                // Not a checkout after all: the login goes on with the cleartext.
                stats.checkouts.fetch_sub(1, Ordering::Relaxed);
                lock(&self.inner.no_sha256).insert(user);
                return Err(Refused::Cleartext(access_denied(session)));
            }
            Err(e) => {
                if let CheckoutError::Unsuitable(_) = e {
                    stats.login_refusals.fetch_add(1, Ordering::Relaxed);
                }
                return Err(Refused::Error(self.refusal(session, e)));
            }
        };
        if !reused && mode == IdentityMode::PassThrough {
            // Which credential opened the connection (docs/proxy.md §10).
            let counter = match credential {
                Some(Credential::NativeHash(_)) => &stats.logins_native_hash,
                Some(Credential::Sha256Hash(_)) => &stats.logins_sha256_fast,
                _ => &stats.logins_cleartext,
            };
            counter.fetch_add(1, Ordering::Relaxed);
        }
        if (conn.capabilities ^ session.client_capabilities) & LAYOUT_FLAGS != 0 {
            warn!(
                backend = conn.capabilities,
                client = session.client_capabilities,
                "the backend lacks a capability the client negotiated"
            );
            self.inner.pool.discard(conn);
            return Err(Refused::Error(foreign("backend lacks a capability")));
        }
        Ok(conn)
    }

    /// The client's error for a failed checkout (docs/proxy.md §5).
    fn refusal(&self, session: &Session, e: CheckoutError) -> ErrPacket {
        match (e, self.inner.identity) {
            (CheckoutError::Full, _) => MysqlError::ConCountError.packet(&[]),
            (CheckoutError::Unavailable(why), _) => {
                info!("admission failed, backend unavailable: {why}");
                foreign("backend unavailable")
            }
            (CheckoutError::Refused(err), IdentityMode::Mapped) => {
                warn!(
                    code = err.code,
                    "the backend refused the door's service account: {}", err.message
                );
                foreign("backend login refused")
            }
            (CheckoutError::Refused(err), IdentityMode::PassThrough) if err.code == 1045 => {
                info!(user = %session.user, "the backend refused the password the door accepted (credential drift)");
                access_denied(session)
            }
            (CheckoutError::Refused(err), IdentityMode::PassThrough) => err,
            (CheckoutError::Unsuitable(why), IdentityMode::PassThrough) => {
                info!(user = %session.user, "pass-through login impossible: {why}");
                access_denied(session)
            }
            (CheckoutError::Unsuitable(why), _) => {
                warn!("backend login impossible: {why}");
                foreign("backend login refused")
            }
        }
    }
}

/// Why a checkout failed.
enum Refused {
    /// Send this error.
    Error(ErrPacket),
    /// Ask the client for its cleartext password (this error if it cannot be asked).
    Cleartext(ErrPacket),
}

/// One proxied session: its backend connection, handed back to the pool when the session ends.
pub struct ProxyConnection {
    backend: ProxyBackend,
    /// `None` once lost (the session then ends).
    conn: Option<BackendConn>,
    door_id: u32,
    account: (String, String),
    admin: bool,
    capabilities: u32,
    /// The client leg's TLS version and cipher (`Ssl_version`, `Ssl_cipher`).
    tls: Option<(String, String)>,
    /// COM_CHANGE_USER's admission asked for the cleartext (docs/proxy.md §4.2c).
    wants_cleartext: bool,
}

impl std::fmt::Debug for ProxyConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyConnection")
            .field("door_id", &self.door_id)
            .field("conn", &self.conn)
            .finish_non_exhaustive()
    }
}

impl Drop for ProxyConnection {
    fn drop(&mut self) {
        lock(&self.backend.inner.sessions).remove(&self.door_id);
        if let Some(conn) = self.conn.take() {
            let pool = Arc::clone(&self.backend.inner.pool);
            match tokio::runtime::Handle::try_current() {
                Ok(rt) => {
                    pool.begin_hand_back(&conn.key);
                    rt.spawn(pool.hand_back(conn));
                }
                Err(_) => pool.discard(conn),
            }
        }
    }
}

/// A statement the door answers or rewrites instead of relaying it (docs/proxy.md §3.4).
#[derive(Debug, PartialEq, Eq)]
enum Intercept {
    ConnectionId,
    Kill {
        id: u64,
        query_only: bool,
    },
    /// `SHOW [SESSION | LOCAL] STATUS …`: relayed, with the client leg's `Ssl_*` values.
    SessionStatus,
}

fn intercept(sql: &[u8]) -> Option<Intercept> {
    // Words compared in place, case-insensitively: a relayed statement is never copied. The
    // door's statements have at most four words before anything it ignores (`LIKE …`).
    let text = std::str::from_utf8(sql).ok()?.trim();
    let text = text.strip_suffix(';').unwrap_or(text).trim_end();
    let mut it = text.split_ascii_whitespace();
    let mut w = [""; 4];
    for slot in w.iter_mut() {
        *slot = it.next().unwrap_or("");
    }
    let count = w.iter().filter(|x| !x.is_empty()).count();
    let is = |i: usize, word: &str| w.get(i).is_some_and(|x| x.eq_ignore_ascii_case(word));
    let kill = |id: &str, query_only: bool| {
        Some(Intercept::Kill {
            id: id.parse().ok()?,
            query_only,
        })
    };
    if count == 2 && is(0, "select") && is(1, "connection_id()") {
        return Some(Intercept::ConnectionId);
    }
    if is(0, "show")
        && (is(1, "status") || ((is(1, "session") || is(1, "local")) && is(2, "status")))
    {
        return Some(Intercept::SessionStatus);
    }
    if !is(0, "kill") {
        return None;
    }
    match count {
        2 => kill(w[1], false),
        3 if is(1, "connection") => kill(w[2], false),
        3 if is(1, "query") => kill(w[2], true),
        _ => None,
    }
}

impl ProxyConnection {
    /// The backend connection failed mid-command: the client gets 1152 at the next sequence id
    /// and the session ends (docs/proxy.md §6.4).
    async fn lost(&mut self, reply: &mut Reply<'_>, why: String) -> std::io::Result<()> {
        warn!(id = self.door_id, "backend connection lost: {why}");
        if let Some(conn) = self.conn.take() {
            self.backend.inner.pool.discard(conn);
        }
        self.backend.inner.pool.session_lost();
        let err = MysqlError::NewAbortingConnection.packet(&[
            &self.door_id,
            &"",
            &self.account.0,
            &"",
            &"backend connection lost",
        ]);
        reply.error(&err);
        let _ = reply.flush().await;
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            why,
        ))
    }

    /// Sends `payload` to the backend and relays its reply frame by frame.
    async fn relay(&mut self, payload: &[u8], reply: &mut Reply<'_>) -> std::io::Result<()> {
        self.relay_with(payload, reply, None).await
    }

    /// [`ProxyConnection::relay`], passing each frame through `rewrite` when given.
    async fn relay_with(
        &mut self,
        payload: &[u8],
        reply: &mut Reply<'_>,
        mut rewrite: Option<StatusRewrite>,
    ) -> std::io::Result<()> {
        let Some(conn) = self.conn.as_mut() else {
            return Err(std::io::ErrorKind::NotConnected.into());
        };
        if let Err(e) = conn.write_command(payload).await {
            return self.lost(reply, format!("write: {e}")).await;
        }
        let Some(mut tracker) = Tracker::for_command(payload, self.capabilities) else {
            return Ok(());
        };
        let sent = std::time::Instant::now();
        let mut first = true;
        loop {
            let Some(conn) = self.conn.as_mut() else {
                return Err(std::io::ErrorKind::NotConnected.into());
            };
            let (seq, frame) = match conn.read_frame().await {
                Ok(f) => f,
                Err(e) => return self.lost(reply, format!("read: {e}")).await,
            };
            if first {
                first = false;
                self.backend
                    .inner
                    .pool
                    .stats
                    .reply_latency
                    .observe(sent.elapsed());
            }
            if seq != reply.next_seq() {
                let why = format!("sequence id {seq}, expected {}", reply.next_seq());
                return self.lost(reply, why).await;
            }
            let progress = match tracker.frame(&frame) {
                Ok(p) => p,
                Err(e) => return self.lost(reply, format!("reply: {e}")).await,
            };
            if progress == Progress::LocalInfile {
                // CLIENT_LOCAL_FILES is never negotiated on either leg, so a backend may not
                // ask for a file: a protocol error (docs/proxy.md §3.4).
                return self.lost(reply, "unrequested LOCAL INFILE".into()).await;
            }
            match rewrite.as_mut().and_then(|r| r.frame(&frame)) {
                Some(changed) => reply.frame(&changed)?,
                None => reply.frame(&frame)?,
            }
            match progress {
                Progress::More => {
                    if reply.buffered() >= FLUSH_AT || !conn.has_buffered() {
                        if let Err(e) = reply.flush().await {
                            // The client is gone mid-reply: the connection's state is unknown.
                            if let Some(conn) = self.conn.take() {
                                self.backend.inner.pool.discard(conn);
                            }
                            return Err(e);
                        }
                    }
                }
                _ => return Ok(()),
            }
        }
    }

    /// A `SET …` statement naming MySQL 8.0's `utf8mb4_0900_ai_ci` (connector-python sends
    /// `SET NAMES 'utf8mb4' COLLATE 'utf8mb4_0900_ai_ci'` to any server whose greeting says
    /// 8.0) gets the MariaDB backend's equivalent instead, which MariaDB before 11.4 would
    /// refuse with 1273 (docs/proxy.md §3.4). Nothing else is rewritten.
    fn translate_collation(&self, payload: &[u8]) -> Option<Vec<u8>> {
        const MYSQL_0900: &[u8] = b"utf8mb4_0900_ai_ci";
        let with = self.conn.as_ref()?.collation_for_0900?;
        let sql = payload.get(1..)?;
        let start = sql.iter().position(|b| !b.is_ascii_whitespace())?;
        if !sql.get(start..start + 4)?.eq_ignore_ascii_case(b"set ") {
            return None;
        }
        let lower = sql.to_ascii_lowercase();
        let at = lower
            .windows(MYSQL_0900.len())
            .position(|w| w == MYSQL_0900)?;
        let mut out = Vec::with_capacity(payload.len() + 4);
        out.push(0x03);
        out.extend_from_slice(&sql[..at]);
        out.extend_from_slice(with.as_bytes());
        out.extend_from_slice(&sql[at + MYSQL_0900.len()..]);
        Some(out)
    }

    async fn kill(
        &mut self,
        id: u64,
        query_only: bool,
        reply: &mut Reply<'_>,
    ) -> std::io::Result<()> {
        let target = u32::try_from(id)
            .ok()
            .and_then(|id| lock(&self.backend.inner.sessions).get(&id).cloned());
        let Some(target) = target else {
            reply.error(&MysqlError::NoSuchThread.packet(&[&id]));
            return Ok(());
        };
        if !self.admin && target.account != self.account {
            reply.error(&MysqlError::KillDeniedError.packet(&[&id]));
            return Ok(());
        }
        let sql = format!(
            "KILL {} {}",
            if query_only { "QUERY" } else { "CONNECTION" },
            target.backend_thread
        );
        debug!(id = self.door_id, target = id, "{sql}");
        let mut payload = vec![0x03];
        payload.extend_from_slice(sql.as_bytes());
        self.relay(&payload, reply).await
    }
}

impl Connection for ProxyConnection {
    fn change_user_needs_cleartext(&mut self) -> bool {
        std::mem::take(&mut self.wants_cleartext)
    }

    async fn on_command(
        &mut self,
        request: Request<'_>,
        reply: &mut Reply<'_>,
    ) -> std::io::Result<()> {
        let payload = request.payload;
        match payload.first() {
            // COM_QUERY: CONNECTION_ID() and KILL are the door's.
            Some(0x03) => match intercept(payload.get(1..).unwrap_or_default()) {
                Some(Intercept::ConnectionId) => {
                    use crate::wire::resultset::{encode_result_set, ColumnDefinition41};
                    let col = ColumnDefinition41::integer("CONNECTION_ID()", 10);
                    let rows = vec![vec![Some(self.door_id.to_string().into_bytes())]];
                    let status = SERVER_STATUS_AUTOCOMMIT;
                    for p in encode_result_set(&[col], &rows, self.capabilities, status) {
                        reply.packet(&p);
                    }
                    Ok(())
                }
                Some(Intercept::Kill { id, query_only }) => self.kill(id, query_only, reply).await,
                Some(Intercept::SessionStatus) => {
                    let rewrite = StatusRewrite::new(self.tls.clone(), self.capabilities);
                    self.relay_with(payload, reply, Some(rewrite)).await
                }
                None => match self.translate_collation(payload) {
                    Some(rewritten) => self.relay(&rewritten, reply).await,
                    None => self.relay(payload, reply).await,
                },
            },
            // COM_PROCESS_KILL: the id is a door connection id.
            Some(0x0c) => {
                let id = payload
                    .get(1..5)
                    .and_then(|b| <[u8; 4]>::try_from(b).ok())
                    .map(u32::from_le_bytes);
                match id {
                    Some(id) => self.kill(u64::from(id), false, reply).await,
                    None => {
                        reply.error(&MysqlError::UnknownComError.packet(&[]));
                        Ok(())
                    }
                }
            }
            // COM_SHUTDOWN, COM_BINLOG_DUMP, COM_REGISTER_SLAVE, COM_BINLOG_DUMP_GTID, COM_CLONE:
            // not through the door.
            Some(0x08 | 0x12 | 0x15 | 0x1e | 0x20) => {
                reply.error(&MysqlError::UnknownComError.packet(&[]));
                Ok(())
            }
            _ => self.relay(payload, reply).await,
        }
    }

    /// COM_CHANGE_USER: the door re-authenticated; the old backend connection goes back to the
    /// pool (reset there) and the new identity checks one out (docs/proxy.md §3.4).
    async fn on_change_user(&mut self, session: &Session) -> Result<(), ErrPacket> {
        if let Some(old) = self.conn.take() {
            let pool = Arc::clone(&self.backend.inner.pool);
            pool.begin_hand_back(&old.key);
            tokio::spawn(pool.hand_back(old));
        }
        let conn = match self.backend.checkout(session).await {
            Ok(c) => c,
            Err(Refused::Cleartext(e)) => {
                self.backend
                    .inner
                    .pool
                    .stats
                    .full_auth_requests
                    .fetch_add(1, Ordering::Relaxed);
                self.wants_cleartext = true;
                return Err(e);
            }
            Err(Refused::Error(e)) => return Err(e),
        };
        self.account = (session.account.user.clone(), session.account.host.clone());
        self.admin = session.account.admin;
        self.capabilities = session.client_capabilities;
        lock(&self.backend.inner.sessions).insert(
            self.door_id,
            SessionEntry {
                backend_thread: conn.thread_id,
                account: self.account.clone(),
            },
        );
        self.conn = Some(conn);
        Ok(())
    }
}

/// Replaces the values of `Ssl_version` and `Ssl_cipher` rows in a text result of
/// `SHOW SESSION STATUS` with the client leg's (docs/proxy.md §3.4): the backend's describe the
/// door's own connection to it.
struct StatusRewrite {
    tls: Option<(String, String)>,
    eof_after_columns: bool,
    /// Frames seen so far, and where rows start once the column count is known.
    seen: usize,
    rows_from: Option<usize>,
}

impl StatusRewrite {
    fn new(tls: Option<(String, String)>, capabilities: u32) -> Self {
        StatusRewrite {
            tls,
            eof_after_columns: capabilities & CLIENT_DEPRECATE_EOF == 0,
            seen: 0,
            rows_from: None,
        }
    }

    /// The frame to send instead of `frame`, if any.
    fn frame(&mut self, frame: &[u8]) -> Option<Vec<u8>> {
        let index = self.seen;
        self.seen += 1;
        if index == 0 {
            let columns = crate::wire::Reader::new(frame).lenenc_int("columns").ok()?;
            let columns = usize::try_from(columns).ok()?;
            self.rows_from = Some(1 + columns + usize::from(self.eof_after_columns));
            return None;
        }
        if index < self.rows_from? || matches!(frame.first(), Some(0xFE | 0xFF)) {
            return None;
        }
        let mut r = crate::wire::Reader::new(frame);
        let name = r.lenenc_bytes("name").ok()?;
        let value = match name {
            b"Ssl_version" => self.tls.as_ref().map_or("", |t| t.0.as_str()),
            b"Ssl_cipher" => self.tls.as_ref().map_or("", |t| t.1.as_str()),
            _ => return None,
        };
        let mut out = Vec::with_capacity(frame.len() + value.len());
        crate::wire::put_lenenc_bytes(&mut out, name);
        crate::wire::put_lenenc_bytes(&mut out, value.as_bytes());
        Some(out)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::{intercept, Intercept, StatusRewrite};
    use crate::wire::resultset::{encode_result_set, ColumnDefinition41};
    use crate::wire::CLIENT_DEPRECATE_EOF;

    /// Only the values of Ssl_version and Ssl_cipher rows change, with and without EOF.
    #[test]
    fn session_status_shows_the_client_legs_tls() {
        for caps in [0, CLIENT_DEPRECATE_EOF] {
            let cols = [
                ColumnDefinition41::string("Variable_name", 64),
                ColumnDefinition41::string("Value", 64),
            ];
            let row =
                |k: &str, v: &str| vec![Some(k.as_bytes().to_vec()), Some(v.as_bytes().to_vec())];
            let backend = encode_result_set(
                &cols,
                &[
                    row("Ssl_cipher", "BACKEND"),
                    row("Ssl_foo", "x"),
                    row("Ssl_version", "TLSv1.2"),
                ],
                caps,
                2,
            );
            let want = encode_result_set(
                &cols,
                &[
                    row("Ssl_cipher", "TLS_AES_256_GCM_SHA384"),
                    row("Ssl_foo", "x"),
                    row("Ssl_version", "TLSv1.3"),
                ],
                caps,
                2,
            );
            let mut rw = StatusRewrite::new(
                Some(("TLSv1.3".into(), "TLS_AES_256_GCM_SHA384".into())),
                caps,
            );
            let got: Vec<Vec<u8>> = backend
                .iter()
                .map(|f| rw.frame(f).unwrap_or_else(|| f.clone()))
                .collect();
            assert_eq!(got, want);
            // A plain client leg: empty values, as MySQL shows them.
            let mut rw = StatusRewrite::new(None, caps);
            let got: Vec<Vec<u8>> = backend
                .iter()
                .map(|f| rw.frame(f).unwrap_or_else(|| f.clone()))
                .collect();
            assert_eq!(
                got[got.len() - 2],
                encode_result_set(&cols, &[row("Ssl_version", "")], caps, 2)[got.len() - 4]
            );
        }
    }

    #[test]
    fn the_door_answers_connection_id_and_kill() {
        assert_eq!(
            intercept(b"SELECT CONNECTION_ID()"),
            Some(Intercept::ConnectionId)
        );
        assert_eq!(
            intercept(b"  select   connection_id() ; "),
            Some(Intercept::ConnectionId)
        );
        assert_eq!(intercept(b"SELECT CONNECTION_ID(), 1"), None);
        assert_eq!(
            intercept(b"KILL QUERY 12"),
            Some(Intercept::Kill {
                id: 12,
                query_only: true
            })
        );
        assert_eq!(
            intercept(b"kill 7;"),
            Some(Intercept::Kill {
                id: 7,
                query_only: false
            })
        );
        assert_eq!(
            intercept(b"KILL CONNECTION 9"),
            Some(Intercept::Kill {
                id: 9,
                query_only: false
            })
        );
        assert_eq!(intercept(b"KILL QUERY x"), None);
        assert_eq!(
            intercept(b"SHOW SESSION STATUS LIKE 'Ssl%'"),
            Some(Intercept::SessionStatus)
        );
        assert_eq!(intercept(b"show status"), Some(Intercept::SessionStatus));
        assert_eq!(intercept(b"SHOW GLOBAL STATUS"), None);
        assert_eq!(intercept(b"SELECT 1"), None);
    }
}
