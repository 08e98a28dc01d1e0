//! One connection: drives the pure handshake machine over the socket (upgrading to TLS when it
//! asks), asks the backend to admit the session, then runs the command phase, handing every
//! command to the backend's [`Connection`]. Stalls in the connection phase end at
//! `connect_timeout`; the command phase has MySQL's `wait_timeout` / `net_read_timeout` /
//! `net_write_timeout`.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tracing::{debug, info, warn};

use super::api::{AccountStore, Backend, Connection, ConnectionInfo, Reply, Request};
use super::{RsaAdapter, Server, Shared, Timeouts};
use crate::account::ClientHost;
use crate::auth::{AuthString, CachedDigest, Nonce};
use crate::error::MysqlError;
use crate::handshake::drive::{self, Environment, Step};
use crate::handshake::{
    Action, AuthPath, Event, Handshake, HandshakeError, LockState, Lookup, PeerCert,
    RequireFailure, ServerParams, Session, TlsInfo, Transport, Verdict,
};
use crate::wire::command::Command;
use crate::wire::frame::{self, Frame, FrameDecoder, FrameError};
use crate::wire::packets::ErrPacket;

/// Any byte stream a connection can run over (TCP, Unix socket, or TLS on top of either).
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// A connection's stream once the connection phase has run (TLS-wrapped or not).
pub type Stream = Box<dyn Io>;

/// A connection's place among `max_connections`: `Threads_connected` counts it until it is
/// dropped, however the connection ends.
pub struct ConnectionSlot(Arc<Shared>);

impl ConnectionSlot {
    /// Takes a slot; returns it with the number of connections now open, this one included.
    fn take(shared: &Arc<Shared>) -> (ConnectionSlot, u64) {
        shared.stats.connections.fetch_add(1, Ordering::Relaxed);
        let open = shared
            .stats
            .threads_connected
            .fetch_add(1, Ordering::Relaxed)
            + 1;
        (ConnectionSlot(Arc::clone(shared)), open)
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        self.0
            .stats
            .threads_connected
            .fetch_sub(1, Ordering::Relaxed);
    }
}

impl std::fmt::Debug for ConnectionSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ConnectionSlot")
    }
}

/// MySQL admits `max_connections + 1` connections and keeps the last slot for an account with
/// the admin privilege (SUPER / CONNECTION_ADMIN): beyond it, 1040 before the greeting
/// (`Err`); in it (`Ok(true)`), the login must prove to be an administrator's
/// (docs/security.md).
async fn admit_connection(io: &mut Stream, shared: &Shared, open: u64) -> Result<bool, ()> {
    let max = u64::from(shared.config.max_connections);
    if open > max + 1 {
        let mut err = MysqlError::ConCountError.packet(&[]);
        // Before the greeting no capabilities are known (docs/protocol.md, "Errors before and
        // during the connection phase").
        err.sql_state = None;
        let _ = io.write_all(&frame::packet(0, &err.encode())).await;
        let _ = io.shutdown().await;
        return Err(());
    }
    Ok(open == max + 1)
}

impl std::fmt::Debug for Authenticated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticated")
            .field("session", &self.session)
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// What [`Server::authenticate`] hands back.
#[non_exhaustive]
pub struct Authenticated {
    /// The stream after the connection phase (inside TLS if the client asked for it); the
    /// client has its OK and sends its first command next, with sequence id 0.
    pub stream: Stream,
    /// Who logged in, how, and with which capabilities.
    pub session: Session,
    /// The connection id of the greeting (`CONNECTION_ID()`).
    pub id: u32,
    /// The connection's slot: keep it for as long as the connection is open.
    pub slot: ConnectionSlot,
}

/// Serves one accepted connection: the login, then the session.
///
/// This is the connection's task, held for as long as the connection is open, so it holds
/// little itself: each half is a boxed future, the login's freed when the session starts (an
/// unauthenticated peer costs the task and the login; an idle session, the task and the command
/// loop: `tests::the_futures_a_waiting_connection_holds_are_small`).
pub(crate) async fn serve<T, S, B>(
    stream: T,
    client: ClientHost,
    port: Option<u16>,
    server: Server<S, B>,
) where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: AccountStore,
    B: Backend,
{
    let (_slot, open) = ConnectionSlot::take(server.shared());
    let Some((io, phase)) = Box::pin(login(Box::new(stream), client, port, &server, open)).await
    else {
        return;
    };
    let id = phase.id;
    if let Err(e) = Box::pin(phase.run(io, &server)).await {
        debug!(id, "connection closed: {e}");
    }
}

/// The login of [`serve`]: from the accepted socket to the command phase of an admitted
/// session (`None`: the connection ended).
async fn login<S: AccountStore, B: Backend>(
    mut io: Stream,
    client: ClientHost,
    port: Option<u16>,
    server: &Server<S, B>,
    open: u64,
) -> Option<(Stream, CommandPhase<B::Connection>)> {
    let shared = server.shared();
    let Ok(reserved_admin_slot) = admit_connection(&mut io, shared, open).await else {
        return None;
    };
    let id = shared.next_connection_id.fetch_add(1, Ordering::Relaxed);
    let mut audit = LoginAudit::new(id, client, port, "login");
    // max_connect_errors: a host blocked by handshake errors gets 1129 before the greeting
    // (MySQL `sql/sql_connect.cc`, `check_connection`); loopback and the socket are exempt.
    if let ClientHost::Tcp(ip) = client {
        if shared
            .host_cache
            .is_blocked(ip, shared.max_connect_errors())
        {
            shared
                .host_cache
                .record(ip, super::login_state::HostEvent::Blocked, unix_now());
            let mut err = MysqlError::HostIsBlocked.packet(&[&ip]);
            err.sql_state = None;
            let _ = io.write_all(&frame::packet(0, &err.encode())).await;
            let _ = io.shutdown().await;
            audit.finish(Err("blocked host"), None);
            return None;
        }
    }
    let timeout = Duration::from_secs(shared.config.connect_timeout);
    let tls = shared.tls.current();
    let nonce = Nonce::from_random(super::nonce_bytes());
    let params = connection_params(
        shared,
        id,
        &client,
        tls.is_some(),
        nonce,
        reserved_admin_slot,
        server.backend().wants_login_secret(),
    );
    let (hs, actions) = Handshake::new(params);
    let mut admission = NewSession {
        backend: server.backend(),
        info: ConnectionInfo::with_shutdown(id, client, shared.shutdown_receiver()),
        admitted: None,
        shared: Arc::clone(shared),
        user_slot: None,
        limit: None,
    };
    let outcome = tokio::time::timeout(
        timeout,
        connection_phase(io, hs, actions, server, tls, &mut admission, &mut audit),
    )
    .await;
    let outcome = match outcome {
        Ok(r) => r,
        Err(_) => Err(ConnError::ConnectTimeout),
    };
    record_login(
        shared,
        &client,
        &mut audit,
        &outcome,
        admission.limit.take(),
    );
    match outcome {
        Ok((io, mut session)) => {
            // Admission has answered: the secret it was derived for goes (zeroized on drop).
            session.login_secret = None;
            let conn = *admission.admitted.take()?;
            let user_slot = admission.user_slot.take();
            debug!(id, user = %session.user, host = %session.client_host, tls = session.tls.is_some(), "logged in");
            let timeouts = shared.timeouts().for_session(session.client_capabilities);
            let registration = shared.sessions.register(id, &session, client, port);
            Some((
                io,
                CommandPhase {
                    id,
                    client,
                    session,
                    timeouts,
                    conn,
                    _user_slot: user_slot,
                    registration,
                },
            ))
        }
        Err(ConnError::ConnectTimeout) => {
            shared
                .stats
                .aborted_connects
                .fetch_add(1, Ordering::Relaxed);
            info!(id, host = %client.display_host(), "connection phase timed out after connect_timeout");
            None
        }
        Err(e) => {
            shared
                .stats
                .aborted_connects
                .fetch_add(1, Ordering::Relaxed);
            debug!(id, "connection phase ended: {e}");
            None
        }
    }
}

/// After a connection phase: the host cache, connection_control's counter and the audit
/// record.
fn record_login(
    shared: &Shared,
    client: &ClientHost,
    audit: &mut LoginAudit,
    outcome: &Result<(Stream, Session), ConnError>,
    limit: Option<&'static str>,
) {
    use super::login_state::HostEvent;
    let now = unix_now();
    let throttle_key = audit
        .user
        .as_ref()
        .filter(|_| shared.config.connection_control)
        .map(|u| super::login_state::Throttle::key(u, &client.display_host()));
    let (event, result) = match outcome {
        Ok((_, session)) => {
            if let Some(k) = &throttle_key {
                shared.throttle.succeeded(k);
            }
            (HostEvent::Success, Ok(session))
        }
        Err(e) => {
            if let Some(k) = &throttle_key {
                shared.throttle.failed(k);
            }
            let reason = failure_reason(e, audit, limit);
            let event = match e {
                ConnError::Login(
                    HandshakeError::BadHandshake
                    | HandshakeError::PacketsOutOfOrder
                    | HandshakeError::PacketTooLarge
                    | HandshakeError::UnexpectedEvent { .. },
                ) => HostEvent::HandshakeError,
                ConnError::Login(_) => HostEvent::AuthenticationError,
                // Before the user name arrived, a dropped or stalled connection is a handshake
                // error (MySQL counts "interrupted connections"); after it, an authentication
                // one.
                _ if audit.user.is_none() => HostEvent::HandshakeError,
                _ => HostEvent::AuthenticationError,
            };
            (event, Err(reason))
        }
    };
    if let ClientHost::Tcp(ip) = client {
        shared.host_cache.record(*ip, event, now);
    }
    match result {
        Ok(session) => audit.finish(Ok(()), Some(session)),
        Err(reason) => audit.finish(Err(reason), None),
    }
}

/// The server-side reason of a failed login, for the audit record (never sent to the client).
fn failure_reason(e: &ConnError, audit: &LoginAudit, limit: Option<&'static str>) -> &'static str {
    match e {
        ConnError::Login(HandshakeError::AccessDenied { .. }) if audit.account.is_none() => {
            "unknown user"
        }
        ConnError::Login(HandshakeError::AccessDenied { .. }) if audit.require_unmet => {
            "REQUIRE unmet"
        }
        ConnError::Login(HandshakeError::AccessDenied { .. }) => "wrong password",
        ConnError::Login(HandshakeError::AccountLocked { .. }) => "account locked",
        ConnError::Login(HandshakeError::AccountBlocked { .. }) => "blocked by failed logins",
        ConnError::Login(HandshakeError::PasswordExpired) => "password expired",
        ConnError::Login(HandshakeError::SecureTransportRequired) => "insecure transport",
        ConnError::Login(HandshakeError::TooManyConnections) => "connection limit",
        ConnError::Login(HandshakeError::UnknownDatabase(_)) => "unknown database",
        ConnError::Login(HandshakeError::NotSupportedAuthMode) => "unsupported client",
        ConnError::Login(HandshakeError::Refused(_)) => limit.unwrap_or("refused by the backend"),
        ConnError::Login(_) => "bad handshake",
        ConnError::ConnectTimeout => "connect_timeout",
        ConnError::Tls(_) => "TLS handshake failed",
        _ => "connection closed",
    }
}

/// `'user'@'host'` of the matched account in an audit record (empty for none).
struct AuditAccount<'a>(Option<&'a crate::account::Account>);

impl std::fmt::Display for AuditAccount<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(a) => write!(f, "'{}'@'{}'", a.user, a.host),
            None => Ok(()),
        }
    }
}

/// What one login attempt's audit record says (issue 13: one structured record per attempt,
/// success or failure, never a password or a hash), under the tracing target
/// `vestibule::audit`.
#[derive(Debug)]
pub(crate) struct LoginAudit {
    id: u32,
    event: &'static str,
    client: ClientHost,
    port: Option<u16>,
    /// The user name as the client sent it.
    user: Option<String>,
    /// The matched account, `user`@`host` as stored.
    account: Option<Arc<crate::account::Account>>,
    plugin: Option<crate::auth::Plugin>,
    tls: Option<(String, String)>,
    require_unmet: bool,
    /// connection_control's delay before the answer.
    delay_ms: u64,
}

impl LoginAudit {
    fn new(id: u32, client: ClientHost, port: Option<u16>, event: &'static str) -> Self {
        LoginAudit {
            id,
            event,
            client,
            port,
            user: None,
            account: None,
            plugin: None,
            tls: None,
            require_unmet: false,
            delay_ms: 0,
        }
    }

    fn finish(&self, result: Result<(), &'static str>, session: Option<&Session>) {
        // Borrowed, not formatted: nothing is built for a record the filter drops.
        let account = AuditAccount(self.account.as_deref());
        let (tls_version, tls_cipher) = self
            .tls
            .as_ref()
            .map_or(("", ""), |(v, c)| (v.as_str(), c.as_str()));
        let transport = match self.client {
            ClientHost::Unix => "socket",
            ClientHost::Tcp(_) if self.tls.is_some() => "tcp+tls",
            ClientHost::Tcp(_) => "tcp",
        };
        let auth_path = match session.map(|s| s.auth_path) {
            Some(AuthPath::FastPath) => "fast",
            Some(AuthPath::Full) if self.client == ClientHost::Unix && self.tls.is_none() => {
                "full (socket)"
            }
            Some(AuthPath::Full) if self.tls.is_some() => "full (TLS)",
            Some(AuthPath::Full) => "full (RSA)",
            Some(_) => "scramble",
            None => "",
        };
        let plugin = self.plugin.map(|p| p.name()).unwrap_or_default();
        let secondary = session.is_some_and(|s| s.secondary_password);
        info!(
            target: "vestibule::audit",
            event = self.event,
            id = self.id,
            user = self.user.as_deref().unwrap_or_default(),
            account = %account,
            host = %self.client.display_host(),
            port = self.port.unwrap_or(0),
            transport,
            tls_version = %tls_version,
            tls_cipher = %tls_cipher,
            plugin,
            auth_path,
            result = if result.is_ok() { "success" } else { "failure" },
            reason = result.err().unwrap_or_default(),
            secondary_password = secondary,
            delay_ms = self.delay_ms,
            "login attempt"
        );
    }
}

/// [`Server::authenticate`]: the connection phase alone, every session admitted.
pub(crate) async fn authenticate<T, S, B>(
    stream: T,
    client: ClientHost,
    server: &Server<S, B>,
) -> Result<Authenticated, ConnError>
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: AccountStore,
    B: Backend,
{
    let shared = server.shared();
    let (slot, open) = ConnectionSlot::take(shared);
    let mut io: Stream = Box::new(stream);
    let Ok(reserved_admin_slot) = admit_connection(&mut io, shared, open).await else {
        return Err(ConnError::Login(HandshakeError::TooManyConnections));
    };
    let id = shared.next_connection_id.fetch_add(1, Ordering::Relaxed);
    let tls = shared.tls.current();
    let nonce = Nonce::from_random(super::nonce_bytes());
    let params = connection_params(
        shared,
        id,
        &client,
        tls.is_some(),
        nonce,
        reserved_admin_slot,
        false,
    );
    let (hs, actions) = Handshake::new(params);
    let timeout = Duration::from_secs(shared.config.connect_timeout);
    let mut admit_all = AdmitAll;
    let mut audit = LoginAudit::new(id, client, None, "login");
    let phase = connection_phase(io, hs, actions, server, tls, &mut admit_all, &mut audit);
    let outcome = tokio::time::timeout(timeout, phase)
        .await
        .map_err(|_| ConnError::ConnectTimeout)
        .and_then(|r| r);
    match outcome {
        Ok((stream, session)) => Ok(Authenticated {
            stream,
            session,
            id,
            slot,
        }),
        Err(e) => {
            shared
                .stats
                .aborted_connects
                .fetch_add(1, Ordering::Relaxed);
            Err(e)
        }
    }
}

/// Admits every session ([`Server::authenticate`]: the embedder decides what follows).
struct AdmitAll;

impl Admission for AdmitAll {
    async fn admit(&mut self, _session: &Session) -> Result<(), ErrPacket> {
        Ok(())
    }
}

/// `nonce`: a fresh one for a new connection; the session's own for COM_CHANGE_USER.
fn connection_params(
    shared: &Shared,
    id: u32,
    client: &ClientHost,
    tls_available: bool,
    nonce: Nonce,
    reserved_admin_slot: bool,
    derive_secret: bool,
) -> ServerParams {
    let (default_password_lifetime, disconnect_on_expired_password) = shared.expiry_settings();
    ServerParams {
        server_version: shared.config.server_version.clone(),
        connection_id: id,
        tls_available,
        transport: match client {
            ClientHost::Unix => Transport::Unix,
            ClientHost::Tcp(_) => Transport::Tcp,
        },
        client_host: client.display_host().into(),
        default_plugin: shared.config.default_plugin,
        rsa: shared.rsa_public(crate::auth::Plugin::CachingSha2Password),
        rsa_sha256: shared.rsa_public(crate::auth::Plugin::Sha256Password),
        require_secure_transport: shared.require_secure_transport(),
        reserved_admin_slot,
        admission: true,
        derive_secret,
        now_secs: unix_now(),
        default_password_lifetime,
        disconnect_on_expired_password,
        databases: shared
            .config
            .check_databases
            .then(|| shared.databases.clone()),
        nonce,
        switch_nonce: Nonce::from_random(super::nonce_bytes()),
        digest_rounds: shared.config.digest_rounds,
        capabilities: shared.config.capabilities,
        character_set: shared.config.character_set,
    }
}

/// Seconds since the Unix epoch (0 if the clock is before it).
pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Why a connection ended with an error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnError {
    /// The socket failed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// The login was refused (the client got the error packet).
    #[error("login failed: {0}")]
    Login(HandshakeError),
    /// The TLS handshake failed.
    #[error("TLS handshake failed: {0}")]
    Tls(std::io::Error),
    /// The exchange ended without an error of its own (for example TLS was asked for but is
    /// not available any more).
    #[error("closed by the server")]
    Closed,
    /// The connection phase took longer than `connect_timeout`.
    #[error("connect_timeout passed")]
    ConnectTimeout,
    /// `net_read_timeout` passed inside a packet.
    #[error("net_read_timeout passed inside a packet")]
    ReadTimeout,
    /// `net_write_timeout` passed while writing.
    #[error("net_write_timeout passed while writing")]
    WriteTimeout,
}

/// Runs the machine to the end: returns the (possibly TLS-wrapped) stream and the session.
#[allow(clippy::manual_async_fn)] // see the comment in the body
fn connection_phase<'a, S: AccountStore, B: Backend>(
    io: Stream,
    mut hs: Handshake,
    actions: Vec<Action>,
    server: &'a Server<S, B>,
    tls: Option<Arc<super::tls::ActiveTls>>,
    admission: &'a mut impl Admission,
    audit: &'a mut LoginAudit,
) -> impl std::future::Future<Output = Result<(Stream, Session), ConnError>> + 'a {
    // An `async move` block, not an `async fn`: an async fn moves its arguments into new
    // bindings, and the future keeps room for both (rust-lang/rust#62958); `hs` is large.
    async move {
        let shared = server.shared();
        let mut env = ServerEnv {
            io: Some(io),
            server,
            client: audit.client,
            tls,
            admission,
            audit,
            out: Vec::new(),
        };
        let mut actions = actions;
        loop {
            match Box::pin(drive::carry(&mut hs, actions, &mut env)).await? {
                Step::NeedPacket => {}
                Step::Authenticated(session) => {
                    env.flush_out().await?;
                    let io = env.take_io()?;
                    match session.auth_path {
                        AuthPath::FastPath => {
                            shared.stats.fast_path_auths.fetch_add(1, Ordering::Relaxed)
                        }
                        AuthPath::Full => shared.stats.full_auths.fetch_add(1, Ordering::Relaxed),
                        AuthPath::Other => shared.stats.other_auths.fetch_add(1, Ordering::Relaxed),
                    };
                    return Ok((io, *session));
                }
                Step::Closed { error, .. } => {
                    if error.is_some() {
                        shared.stats.login_failures.fetch_add(1, Ordering::Relaxed);
                    }
                    env.flush_out().await?;
                    let mut io = env.take_io()?;
                    let _ = io.shutdown().await;
                    return Err(error.map_or(ConnError::Closed, ConnError::Login));
                }
            }
            env.flush_out().await?;
            let io = env.io_mut()?;
            // The machine's own framing; the whole phase is bounded by connect_timeout (the
            // caller's timeout), so a single read has no bound of its own.
            let mut dec = hs.frame_decoder();
            actions = match read_frame(io, &mut dec, None).await? {
                Ok(f) => hs.handle(Event::Packet {
                    seq: f.seq,
                    payload: &f.payload,
                }),
                Err(e) => hs.framing_error(e),
            };
        }
    }
}

/// The server's [`Environment`] for the handshake machine: the socket (upgraded to TLS when
/// asked), the account store and cache, the slow-check pool and the admission.
struct ServerEnv<'a, S, B, A> {
    /// `None` only while the TLS handshake owns the stream.
    io: Option<Stream>,
    server: &'a Server<S, B>,
    client: ClientHost,
    tls: Option<Arc<super::tls::ActiveTls>>,
    admission: &'a mut A,
    audit: &'a mut LoginAudit,
    /// What the machine sent since the last read: written at once before the connection waits
    /// for the client (or ends), so `01 03` and the OK that follows admission leave in one
    /// write, as one TLS record.
    out: Vec<u8>,
}

impl<S, B, A> ServerEnv<'_, S, B, A> {
    fn io_mut(&mut self) -> Result<&mut Stream, ConnError> {
        self.io.as_mut().ok_or(ConnError::Closed)
    }

    fn take_io(&mut self) -> Result<Stream, ConnError> {
        self.io.take().ok_or(ConnError::Closed)
    }

    /// Writes what [`Environment::send`] gathered, and flushes.
    async fn flush_out(&mut self) -> Result<(), ConnError> {
        let io = self.io.as_mut().ok_or(ConnError::Closed)?;
        if !self.out.is_empty() {
            io.write_all(&self.out).await?;
            self.out.clear();
        }
        io.flush().await?;
        Ok(())
    }
}

impl<S: AccountStore, B: Backend, A: Admission> Environment for ServerEnv<'_, S, B, A> {
    type Error = ConnError;

    async fn send(&mut self, bytes: Vec<u8>) -> Result<(), ConnError> {
        if self.out.is_empty() {
            self.out = bytes;
        } else {
            self.out.extend_from_slice(&bytes);
        }
        Ok(())
    }

    async fn start_tls(&mut self) -> Result<TlsInfo, ConnError> {
        let Some(active) = self.tls.clone() else {
            return Err(ConnError::Closed);
        };
        self.flush_out().await?;
        let io = self.take_io()?;
        let shared = self.server.shared();
        shared.tls.accepts.fetch_add(1, Ordering::Relaxed);
        // Boxed (the handshake's state is large), so that a connection that never asks for TLS
        // does not carry room for it.
        let stream = Box::pin(active.acceptor.accept(io))
            .await
            .map_err(ConnError::Tls)?;
        shared.tls.finished_accepts.fetch_add(1, Ordering::Relaxed);
        let info = tls_info(stream.get_ref().1);
        if info.resumed {
            shared.stats.tls_resumed.fetch_add(1, Ordering::Relaxed);
        }
        self.audit.tls = Some((info.version.clone(), info.cipher.clone()));
        match info.version.as_str() {
            "TLSv1.3" => shared.stats.tls_v13.fetch_add(1, Ordering::Relaxed),
            "TLSv1.2" => shared.stats.tls_v12.fetch_add(1, Ordering::Relaxed),
            _ => 0,
        };
        self.io = Some(Box::new(stream));
        Ok(info)
    }

    async fn lookup(&mut self, user: String) -> Lookup {
        let shared = self.server.shared();
        // connection_control: after enough consecutive failures of this 'user'@'host' (known
        // user or not), every attempt waits before its answer. A timer, not a thread; the
        // connection keeps its slot among max_connections meanwhile.
        // Nothing to do (no key, no lock) unless the plugin is loaded (--connection-control).
        let delay = if shared.config.connection_control {
            let key = super::login_state::Throttle::key(&user, &self.client.display_host());
            shared
                .throttle
                .delay_for(&key, &shared.connection_control())
        } else {
            None
        };
        if let Some(delay) = delay {
            shared
                .throttle
                .delays_generated
                .fetch_add(1, Ordering::Relaxed);
            self.audit.delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
            tokio::time::sleep(delay).await;
        }
        let found = lookup(self.server, &user, &self.client).await;
        match &found {
            Lookup::Found { account, .. } => {
                self.audit.account = Some(Arc::clone(account));
                self.audit.plugin = Some(account.plugin);
            }
            Lookup::Unknown { decoy_plugin } => self.audit.plugin = Some(*decoy_plugin),
        }
        self.audit.user = Some(user);
        found
    }

    async fn slow_check(&mut self, check: crate::handshake::SlowCheck) -> Verdict {
        Box::pin(run_slow_check(self.server.shared(), check)).await
    }

    fn fill_cache(
        &mut self,
        user: String,
        host: String,
        slot: usize,
        digest: CachedDigest,
        verified: AuthString,
    ) {
        let cache = &self.server.shared().cache;
        let mut fill = Some(digest);
        self.server
            .store()
            .if_current(&user, &host, &verified, &mut || {
                if let Some(d) = fill.take() {
                    cache.insert_slot(&user, &host, slot, d);
                }
            });
    }

    async fn admit(&mut self, session: &Session) -> Result<(), ErrPacket> {
        // What was sent so far (a fast path's `01 03`) stays in `out`, to leave with the
        // admission's OK or error in one write.
        Box::pin(self.admission.admit(session)).await
    }

    fn track_failed_logins(&mut self, track: crate::handshake::drive::FailedLogin) -> LockState {
        let today = unix_now() / 86_400;
        let lock = self.server.shared().login_locks.update(&track, today);
        if let LockState::Blocked { .. } = lock {
            info!(user = %track.user, host = %track.host, "account blocked by FAILED_LOGIN_ATTEMPTS");
        }
        lock
    }

    fn admission_needs_cleartext(&mut self) -> bool {
        self.admission.wants_cleartext()
    }

    fn require_not_met(&mut self, reason: RequireFailure) {
        // MySQL logs why at log_error_verbosity 3; the client only sees 1045.
        info!(host = %self.client.display_host(), ?reason, "account REQUIRE clause not met");
        self.audit.require_unmet = true;
    }

    fn failed(&mut self, e: &HandshakeError) {
        // The user name is the client's claim; never log password material.
        info!(host = %self.client.display_host(), "login failed: {e}");
    }
}

/// SHA-256-crypt and RSA off the reactor, at most `full_auth_concurrency` at a time.
async fn run_slow_check(
    shared: &Arc<Shared>,
    check: crate::handshake::SlowCheck,
) -> crate::handshake::Verdict {
    let failed = crate::handshake::Verdict {
        password_ok: false,
        digest: None,
        cleartext: None,
    };
    let Ok(_permit) = shared.slow_checks.clone().acquire_owned().await else {
        return failed;
    };
    // Each plugin decrypts with its own key pair.
    let rsa = match check.plugin {
        crate::auth::Plugin::Sha256Password => shared.sha256_rsa.clone(),
        _ => shared.rsa.clone(),
    };
    tokio::task::spawn_blocking(move || {
        let adapter = rsa.as_deref().map(RsaAdapter);
        check.run(
            adapter
                .as_ref()
                .map(|a| a as &dyn crate::handshake::RsaDecryptor),
        )
    })
    .await
    .unwrap_or(failed)
}

/// Describes the negotiated TLS session in MySQL's terms.
fn tls_info(conn: &rustls::ServerConnection) -> TlsInfo {
    let version = match conn.protocol_version() {
        Some(rustls::ProtocolVersion::TLSv1_3) => "TLSv1.3",
        Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2",
        _ => "",
    };
    let cipher = conn
        .negotiated_cipher_suite()
        .map(|s| {
            let code = u16::from(s.suite());
            crate::tls_policy::ssl_cipher_name(code)
                .map_or_else(|| format!("{:?}", s.suite()), str::to_string)
        })
        .unwrap_or_default();
    let peer_cert: Option<PeerCert> =
        conn.peer_certificates()
            .and_then(|c| c.first())
            .and_then(|der| match super::tls::describe_cert(der.as_ref()) {
                Ok(p) => Some(p),
                Err(e) => {
                    warn!("cannot describe the client certificate: {e}");
                    None
                }
            });
    TlsInfo {
        version: version.to_string(),
        cipher,
        peer_cert,
        resumed: conn.handshake_kind() == Some(rustls::HandshakeKind::Resumed),
    }
}

/// A packet buffer grows ahead of the bytes received by as many bytes as have arrived, at least
/// [`MIN_READ_STEP`] and at most [`MAX_READ_STEP`]: memory follows what a client has sent, never
/// what its header announced (MySQL's net buffer grows the same way, up to
/// `max_allowed_packet`).
const MIN_READ_STEP: usize = 4 * 1024;
const MAX_READ_STEP: usize = 64 * 1024;

/// Reads one frame through `dec` (the one framing, [`FrameDecoder`]): never past the packet in
/// progress — bytes after it may be a TLS handshake or the next command — and growing the
/// buffer only as bytes arrive (see [`MIN_READ_STEP`]), so an announced length costs nothing
/// until it is sent. Each read waits at most `per_read` for progress (`None`: no bound).
async fn read_frame(
    io: &mut Stream,
    dec: &mut FrameDecoder,
    per_read: Option<Duration>,
) -> Result<Result<Frame, FrameError>, ConnError> {
    loop {
        match dec.next_frame() {
            Ok(Some(frame)) => return Ok(Ok(frame)),
            Err(e) => return Ok(Err(e)),
            Ok(None) => {}
        }
        let step = dec
            .wanted()
            .min(dec.buffered().clamp(MIN_READ_STEP, MAX_READ_STEP));
        let read = io.read(dec.spare(step));
        let got = match per_read {
            Some(d) => tokio::time::timeout(d, read)
                .await
                .map_err(|_| ConnError::ReadTimeout)?,
            None => read.await,
        };
        match got {
            Ok(0) => return Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof).into()),
            Ok(n) => dec.filled(n),
            Err(e) => return Err(e.into()),
        }
    }
}

/// What the command-phase reader hands back.
enum Incoming {
    /// One command payload (continuation packets joined) and the sequence id that follows it.
    Command(Vec<u8>, u8),
    /// A framing error: answered with this error, then the connection ends, as in MySQL.
    Refused(ErrPacket),
    /// `wait_timeout` passed with no command.
    Idle,
    /// The server is shutting down.
    Shutdown,
    /// `KILL CONNECTION` named this session.
    Killed,
    /// The client closed the connection between commands.
    Closed,
}

/// Bytes an idle session reads at once when a command starts: a short command (COM_QUIT,
/// COM_PING, COM_STMT_CLOSE, a short query) arrives in one read, a longer one in two (this, then
/// the rest of its packet). Kept in the future, not on the heap, so an idle session holds no
/// read buffer.
const FIRST_READ: usize = 64;

/// Reads one command-phase message up to `max_allowed_packet` through the session's decoder
/// `dec`, which keeps bytes that arrived after the previous command (a pipelined one). An idle
/// session waits for the first bytes up to `wait_timeout` (or until shutdown, or
/// `KILL CONNECTION`); once a packet has started, each read waits at most `net_read_timeout`.
async fn read_command(
    io: &mut Stream,
    dec: &mut FrameDecoder,
    timeouts: Timeouts,
    shared: &Shared,
    registration: &mut super::sessions::Registration,
) -> Result<Incoming, ConnError> {
    dec.set_expected_seq(0);
    if dec.buffered() == 0 {
        let wait = Duration::from_secs(timeouts.wait);
        let mut first = [0u8; FIRST_READ];
        let got = tokio::select! {
            r = tokio::time::timeout(wait, io.read(&mut first)) => r,
            () = shared.shutdown_signal() => return Ok(Incoming::Shutdown),
            () = registration.killed() => return Ok(Incoming::Killed),
        };
        match got {
            Err(_) => return Ok(Incoming::Idle),
            Ok(Ok(0)) => return Ok(Incoming::Closed),
            Ok(Ok(n)) => dec.push(first.get(..n).unwrap_or_default()),
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                return Ok(Incoming::Closed)
            }
            Ok(Err(e)) => return Err(e.into()),
        }
    }
    let net_read = Some(Duration::from_secs(timeouts.net_read));
    let frame = read_frame(io, dec, net_read).await;
    // An idle session keeps no buffer (bytes of a pipelined command excepted).
    dec.release_if_empty();
    Ok(match frame? {
        Ok(frame) => Incoming::Command(frame.payload, dec.expected_seq()),
        Err(FrameError::TooLarge { .. }) => {
            Incoming::Refused(MysqlError::NetPacketTooLarge.packet(&[]))
        }
        Err(_) => Incoming::Refused(MysqlError::NetPacketsOutOfOrder.packet(&[])),
    })
}

/// Writes `payloads` as packets from sequence id `seq`; the write waits at most
/// `net_write_timeout` for the client to take the bytes.
async fn write_payloads(
    io: &mut Stream,
    mut seq: u8,
    payloads: &[Vec<u8>],
    timeouts: Timeouts,
) -> Result<(), ConnError> {
    let mut out = Vec::new();
    for p in payloads {
        seq = frame::encode(seq, p, &mut out);
    }
    write_with_progress(io, &out, Duration::from_secs(timeouts.net_write))
        .await
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::TimedOut => ConnError::WriteTimeout,
            _ => ConnError::Io(e),
        })
}

/// Writes `bytes` and flushes, each write waiting at most `per_write` for the client to take
/// some bytes: MySQL's `net_write_timeout` bounds progress, not the whole reply, so a large
/// result to a slow but steady reader is not cut off. A stall is `ErrorKind::TimedOut`.
pub(crate) async fn write_with_progress(
    io: &mut dyn Io,
    bytes: &[u8],
    per_write: Duration,
) -> std::io::Result<()> {
    let timed_out = || std::io::Error::from(std::io::ErrorKind::TimedOut);
    let mut rest = bytes;
    while !rest.is_empty() {
        let n = tokio::time::timeout(per_write, io.write(rest))
            .await
            .map_err(|_| timed_out())??;
        if n == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        rest = rest.get(n..).unwrap_or_default();
    }
    tokio::time::timeout(per_write, io.flush())
        .await
        .map_err(|_| timed_out())?
}

/// Sends an error the client did not ask for (sequence id 0, as MySQL's `net_send_error` after
/// a failed read of a new command) and closes the connection.
async fn send_and_close(io: &mut Stream, err: ErrPacket, timeouts: Timeouts) {
    let _ = write_payloads(io, 0, &[err.encode()], timeouts).await;
    let _ = io.shutdown().await;
}

/// The account for a login, with its cache entry, or the decoy of an unknown user.
async fn lookup<S: AccountStore, B: Backend>(
    server: &Server<S, B>,
    user: &str,
    client: &ClientHost,
) -> Lookup {
    let shared = server.shared();
    match server.store().lookup(user, client).await {
        Some(account) => Lookup::Found {
            cached: if account.plugin == crate::auth::Plugin::CachingSha2Password {
                shared.cache.get(&account.user, &account.host)
            } else {
                None
            },
            // The second slot only for a dual-password account (MySQL's `check_second`).
            cached_secondary: if account.plugin == crate::auth::Plugin::CachingSha2Password
                && account.secondary.is_some()
            {
                shared.cache.get_slot(&account.user, &account.host, 1)
            } else {
                None
            },
            account,
        },
        None => Lookup::Unknown {
            decoy_plugin: crate::account::decoy_plugin(
                user,
                &client.display_host(),
                &shared.decoy_secret,
            ),
        },
    }
}

/// Who answers [`Action::Admit`]: the backend for a new session, the session's connection for
/// COM_CHANGE_USER.
trait Admission: Send {
    fn admit(
        &mut self,
        session: &Session,
    ) -> impl std::future::Future<Output = Result<(), ErrPacket>> + Send;

    /// After a refusal: the backend asked for the cleartext ([`ConnectionInfo::ask_for_cleartext`]).
    fn wants_cleartext(&mut self) -> bool {
        false
    }
}

/// A new login: [`Backend::admit`], keeping the connection it returns.
struct NewSession<'a, B: Backend> {
    backend: &'a B,
    info: ConnectionInfo,
    /// Boxed until the command phase takes it: the login's future stays small.
    admitted: Option<Box<B::Connection>>,
    shared: Arc<Shared>,
    /// The account's place among its connections (resource limits), kept by the session.
    user_slot: Option<super::login_state::UserConnection>,
    /// The limit that refused the login, for the audit record.
    limit: Option<&'static str>,
}

impl<B: Backend> Admission for NewSession<'_, B> {
    async fn admit(&mut self, session: &Session) -> Result<(), ErrPacket> {
        // MAX_USER_CONNECTIONS / max_user_connections / MAX_CONNECTIONS_PER_HOUR (MySQL checks
        // them after the expired-password step; here at admission, just before the backend).
        if self.user_slot.is_none() {
            let shared = &self.shared;
            match shared.user_resources.connect(
                &session.account,
                shared.max_user_connections(),
                unix_now(),
            ) {
                Ok(slot) => self.user_slot = Some(slot),
                Err(limit) => {
                    self.limit = Some("resource limit");
                    return Err(limit.packet(&session.account.user));
                }
            }
        }
        let conn = self.backend.admit(session, &self.info).await?;
        self.admitted = Some(Box::new(conn));
        Ok(())
    }

    fn wants_cleartext(&mut self) -> bool {
        self.info.take_cleartext_request()
    }
}

/// COM_CHANGE_USER: [`Connection::on_change_user`].
struct ChangeUser<'a, C: Connection>(&'a mut C);

impl<C: Connection> Admission for ChangeUser<'_, C> {
    async fn admit(&mut self, session: &Session) -> Result<(), ErrPacket> {
        self.0.on_change_user(session).await
    }

    fn wants_cleartext(&mut self) -> bool {
        self.0.change_user_needs_cleartext()
    }
}

/// The command phase of one session.
struct CommandPhase<C> {
    id: u32,
    client: ClientHost,
    session: Session,
    timeouts: Timeouts,
    conn: C,
    /// The account's place among its connections, released when the session ends.
    _user_slot: Option<super::login_state::UserConnection>,
    /// The session in the process list (`SHOW PROCESSLIST`, `KILL`), removed when it ends.
    registration: super::sessions::Registration,
}

impl<C: Connection> CommandPhase<C> {
    #[allow(clippy::manual_async_fn)] // see the comment in the body
    fn run<'a, S: AccountStore, B: Backend>(
        mut self,
        mut io: Stream,
        server: &'a Server<S, B>,
    ) -> impl std::future::Future<Output = Result<(), ConnError>> + 'a
    where
        C: 'a,
    {
        // Not an `async fn`, for the reason `connection_phase` gives: `self` is large.
        async move {
            let shared = server.shared();
            let limit = shared.config.max_allowed_packet as usize;
            let mut dec = FrameDecoder::new(0, limit);
            loop {
                let t = self.timeouts;
                let read = read_command(&mut io, &mut dec, t, shared, &mut self.registration).await;
                let (payload, seq) = match read {
                    Ok(Incoming::Command(payload, seq)) => (payload, seq),
                    Ok(Incoming::Refused(err)) => {
                        // Framing errors end the connection, as in MySQL.
                        write_payloads(&mut io, 1, &[err.encode()], t).await?;
                        return Ok(());
                    }
                    Ok(Incoming::Idle) => {
                        info!(
                            id = self.id,
                            wait_timeout = t.wait,
                            "closing an idle session"
                        );
                        // MySQL 8.0.24+ sends it before closing an idle session.
                        let err = MysqlError::ClientInteractionTimeout.packet(&[]);
                        send_and_close(&mut io, err, t).await;
                        return Ok(());
                    }
                    Ok(Incoming::Shutdown) => {
                        let err = MysqlError::ServerShutdown.packet(&[]);
                        send_and_close(&mut io, err, t).await;
                        return Ok(());
                    }
                    Ok(Incoming::Killed) => {
                        // MySQL closes a killed idle session's socket without a message.
                        info!(id = self.id, "session killed by KILL CONNECTION");
                        let _ = io.shutdown().await;
                        return Ok(());
                    }
                    Ok(Incoming::Closed) => return Ok(()),
                    Err(ConnError::ReadTimeout) => {
                        info!(
                            id = self.id,
                            net_read_timeout = t.net_read,
                            "a packet stalled; closing"
                        );
                        let err = MysqlError::NetReadInterrupted.packet(&[]);
                        send_and_close(&mut io, err, t).await;
                        return Ok(());
                    }
                    Err(ConnError::Io(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                        return Ok(())
                    }
                    Err(e) => return Err(e),
                };
                let command = Command::parse(&payload, self.session.client_capabilities).ok();
                match command {
                    Some(Command::Quit) => return Ok(()),
                    Some(Command::ChangeUser(cu)) => {
                        // Boxed, as the backend's command below: an idle session's future holds
                        // only what waiting for the next command needs.
                        io = Box::pin(self.change_user(io, server, cu)).await?;
                    }
                    command => {
                        if let Some(Command::Query(sql)) = &command {
                            shared.stats.questions.fetch_add(1, Ordering::Relaxed);
                            // MAX_QUERIES_PER_HOUR / MAX_UPDATES_PER_HOUR (1226).
                            let update = super::login_state::is_update_statement(sql);
                            if let Err(limit) = shared.user_resources.statement(
                                &self.session.account,
                                update,
                                unix_now(),
                            ) {
                                let err = limit.packet(&self.session.account.user);
                                write_payloads(&mut io, seq, &[err.encode()], t).await?;
                                continue;
                            }
                        }
                        let net_write = Duration::from_secs(t.net_write);
                        let caps = self.session.client_capabilities;
                        let mut reply = Reply::new(&mut *io, seq, caps, net_write);
                        let request = Request {
                            payload: &payload,
                            command,
                        };
                        self.registration.begin(&payload);
                        let answered = Box::pin(self.conn.on_command(request, &mut reply)).await;
                        // Idle again before the client can read the end of the reply.
                        self.registration.idle();
                        answered?;
                        reply.flush().await?;
                    }
                }
                if let Some(t) = self.conn.timeouts() {
                    self.timeouts = t;
                }
            }
        }
    }

    /// COM_CHANGE_USER: a new authentication on this connection, bounded like a login by
    /// connect_timeout. Failure closes the connection; the old session is not restored (MySQL).
    async fn change_user<S: AccountStore, B: Backend>(
        &mut self,
        io: Stream,
        server: &Server<S, B>,
        cu: crate::wire::command::ChangeUser,
    ) -> Result<Stream, ConnError> {
        let shared = server.shared();
        let params = connection_params(
            shared,
            self.id,
            &self.client,
            false,
            self.session.nonce,
            false,
            server.backend().wants_login_secret(),
        );
        let tls = self.session.tls.clone();
        let (hs, actions) =
            Handshake::change_user(params, self.session.client_capabilities, tls, cu);
        let client = self.client;
        let mut admission = ChangeUser(&mut self.conn);
        let mut audit = LoginAudit::new(self.id, client, None, "change_user");
        if let Some(tls) = &self.session.tls {
            audit.tls = Some((tls.version.clone(), tls.cipher.clone()));
        }
        let exchange = connection_phase(io, hs, actions, server, None, &mut admission, &mut audit);
        let bound = Duration::from_secs(shared.config.connect_timeout);
        let outcome = tokio::time::timeout(bound, exchange)
            .await
            .map_err(|_| ConnError::ConnectTimeout)
            .and_then(|r| r);
        record_login(shared, &client, &mut audit, &outcome, None);
        let (io, mut session) = outcome?;
        session.login_secret = None;
        self.timeouts = shared.timeouts().for_session(session.client_capabilities);
        self.registration.change_user(&session);
        self.session = session;
        Ok(io)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::admin::AdminBackend;
    use crate::server::config::{Config, Flags, Toggle};

    /// What a connection's futures take, in bytes. The task of every connection holds its
    /// future for as long as the connection is open, so these sizes are most of the memory per
    /// connection (docs: `benches/README.md`, "Memory at scale"). An unauthenticated peer holds
    /// the task and the boxed connection phase; an idle session the task and the boxed command
    /// loop. The bounds are this build's sizes with some room: a change that makes one of them
    /// much larger (an unboxed TLS handshake, a backend's command future kept inline) fails
    /// here.
    #[tokio::test]
    async fn the_futures_a_waiting_connection_holds_are_small() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = Config::load(Flags {
            datadir: Some(dir.path().to_path_buf()),
            auto_generate_certs: Some(Toggle(false)),
            caching_sha2_password_auto_generate_rsa_keys: Some(Toggle(false)),
            sha256_password_auto_generate_rsa_keys: Some(Toggle(false)),
            ..Default::default()
        })
        .expect("config");
        let (shared, accounts) = crate::server::init(config).expect("init");
        let admin = Arc::new(AdminBackend::new(
            Arc::clone(&shared),
            Arc::clone(&accounts),
        ));
        let server = Server::from_parts(Arc::clone(&shared), accounts, admin);

        let (a, _b) = tokio::io::duplex(64);
        let login_bytes =
            std::mem::size_of_val(&login(Box::new(a), ClientHost::Unix, None, &server, 1));
        let (a, _b) = tokio::io::duplex(64);
        let task = serve(a, ClientHost::Unix, None, server.clone());
        let task_bytes = std::mem::size_of_val(&task);

        let (a, _b) = tokio::io::duplex(64);
        let params = connection_params(
            &shared,
            1,
            &ClientHost::Unix,
            false,
            Nonce::from_wire([7; 20]),
            false,
            false,
        );
        let (hs, actions) = Handshake::new(params);
        let mut admission = NewSession {
            backend: server.backend(),
            info: ConnectionInfo::new(1, ClientHost::Unix),
            admitted: None,
            shared: Arc::clone(&shared),
            user_slot: None,
            limit: None,
        };
        let mut audit = LoginAudit::new(1, ClientHost::Unix, None, "login");
        let phase = connection_phase(
            Box::new(a),
            hs,
            actions,
            &server,
            None,
            &mut admission,
            &mut audit,
        );
        let phase_bytes = std::mem::size_of_val(&phase);
        drop(phase);

        let root = root_session();
        let conn = server
            .backend()
            .admit(&root, &ConnectionInfo::new(1, ClientHost::Unix))
            .await
            .expect("admitted");
        let registration = shared.sessions.register(1, &root, ClientHost::Unix, None);
        let phase = CommandPhase {
            id: 1,
            client: ClientHost::Unix,
            session: root,
            timeouts: shared.timeouts(),
            conn,
            _user_slot: None,
            registration,
        };
        let (a, _b) = tokio::io::duplex(64);
        let run = phase.run(Box::new(a), &server);
        let run_bytes = std::mem::size_of_val(&run);
        eprintln!(
            "task {task_bytes} B, login {login_bytes} B (its connection phase {phase_bytes} B), \
             command loop {run_bytes} B"
        );
        assert!(task_bytes <= 256, "task {task_bytes} B");
        assert!(login_bytes <= 2048, "login {login_bytes} B");
        assert!(phase_bytes <= 1280, "connection phase {phase_bytes} B");
        assert!(run_bytes <= 2048, "command loop {run_bytes} B");
    }

    fn root_session() -> Session {
        let account = Arc::new(crate::account::Account::new(
            "root",
            "localhost",
            crate::auth::Plugin::CachingSha2Password,
            AuthString::generate(
                crate::auth::Plugin::CachingSha2Password,
                b"pw",
                [1; 20],
                5000,
            ),
        ));
        Session::for_tests(account)
    }
}
