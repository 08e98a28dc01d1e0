//! One connection: drives the pure handshake machine over the socket (upgrading to TLS when it
//! asks), then runs the command phase. Stalls in the connection phase end at `connect_timeout`.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tracing::{debug, info, warn};

use super::{random_bytes, RsaAdapter, Shared, Timeouts};
use crate::account::ClientHost;
use crate::auth::Nonce;
use crate::handshake::{
    Action, AuthPath, Event, Handshake, HandshakeError, PeerCert, ServerParams, Session, TlsInfo,
    Transport,
};
use crate::wire::command::Command;
use crate::wire::frame::{self, Header, HEADER_LEN, MAX_PACKET_CHUNK};
use crate::wire::packets::{ErrPacket, OkPacket};

/// Any byte stream a connection can run over (TCP, Unix socket, or TLS on top of either).
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

type Stream = Box<dyn Io>;

/// Decrements `Threads_connected` when the connection ends, however it ends.
struct ConnectedGuard(Arc<Shared>);
impl Drop for ConnectedGuard {
    fn drop(&mut self) {
        self.0
            .stats
            .threads_connected
            .fetch_sub(1, Ordering::Relaxed);
    }
}

/// Per-connection state of the command phase.
pub struct ConnState {
    pub id: u32,
    pub session: Session,
    /// Session system variables set by the client (lower-case names).
    pub session_vars: HashMap<String, String>,
    /// User variables (`@x`).
    pub user_vars: HashMap<String, String>,
    pub status_flags: u16,
    pub client: ClientHost,
    /// Warnings of the last statement (SHOW WARNINGS).
    pub warnings: Vec<(String, u16, String)>,
    /// The TLS context this connection was accepted with (its session status values).
    pub tls_ctx: Option<Arc<super::tls::ActiveTls>>,
    /// This session's `wait_timeout`, `net_read_timeout` … (`SET SESSION` changes them).
    pub timeouts: Timeouts,
}

impl ConnState {
    /// COM_RESET_CONNECTION and a successful COM_CHANGE_USER: session variables back to the
    /// global defaults, user variables gone, autocommit on.
    pub fn reset_session(&mut self, shared: &Shared) {
        self.session_vars.clear();
        self.user_vars.clear();
        self.status_flags = crate::wire::SERVER_STATUS_AUTOCOMMIT;
        self.timeouts = shared
            .timeouts()
            .for_session(self.session.client_capabilities);
    }
}

pub async fn serve<S: AsyncRead + AsyncWrite + Unpin + Send + 'static>(
    stream: S,
    client: ClientHost,
    shared: Arc<Shared>,
) {
    shared.stats.connections.fetch_add(1, Ordering::Relaxed);
    let connected = shared
        .stats
        .threads_connected
        .fetch_add(1, Ordering::Relaxed)
        + 1;
    let _guard = ConnectedGuard(shared.clone());
    let mut io: Stream = Box::new(stream);
    // MySQL admits `max_connections + 1` connections and keeps the last slot for an account with
    // the admin privilege (SUPER / CONNECTION_ADMIN): beyond it, 1040 before the greeting; in
    // it, the login must prove to be an administrator's (docs/security.md).
    let max = u64::from(shared.config.max_connections);
    let reserved_admin_slot = connected == max + 1;
    if connected > max + 1 {
        let mut err = ErrPacket::new(1040, "08004", "Too many connections");
        err.sql_state = None; // before the greeting no capabilities are known (reference §8.2)
        let _ = io.write_all(&frame::packet(0, &err.encode())).await;
        let _ = io.shutdown().await;
        return;
    }
    let id = shared.next_connection_id.fetch_add(1, Ordering::Relaxed);
    let timeout = Duration::from_secs(shared.config.connect_timeout);
    let tls = shared.tls.current();
    let nonce = Nonce::from_random(random_bytes());
    let params = connection_params(
        &shared,
        id,
        &client,
        tls.is_some(),
        nonce,
        reserved_admin_slot,
    );
    let (hs, actions) = Handshake::new(params);
    let outcome = tokio::time::timeout(
        timeout,
        connection_phase(io, hs, actions, &client, &shared, tls.clone()),
    )
    .await;
    match outcome {
        Ok(Ok((io, session))) => {
            let session_tls = session.tls.is_some();
            let timeouts = shared.timeouts().for_session(session.client_capabilities);
            debug!(id, user = %session.user, host = %session.client_host, tls = session.tls.is_some(), "logged in");
            let state = ConnState {
                id,
                session,
                session_vars: HashMap::new(),
                user_vars: HashMap::new(),
                status_flags: crate::wire::SERVER_STATUS_AUTOCOMMIT,
                client,
                warnings: Vec::new(),
                tls_ctx: tls.filter(|_| session_tls),
                timeouts,
            };
            if let Err(e) = command_phase(io, state, &shared).await {
                debug!(id, "connection closed: {e}");
            }
        }
        Ok(Err(e)) => {
            shared
                .stats
                .aborted_connects
                .fetch_add(1, Ordering::Relaxed);
            debug!(id, "connection phase ended: {e}");
        }
        Err(_) => {
            shared
                .stats
                .aborted_connects
                .fetch_add(1, Ordering::Relaxed);
            info!(id, host = %client.display_host(), "connection phase timed out after connect_timeout");
        }
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
) -> ServerParams {
    ServerParams {
        server_version: super::vars::SERVER_VERSION.to_string(),
        connection_id: id,
        tls_available,
        transport: match client {
            ClientHost::Unix => Transport::Unix,
            ClientHost::Tcp(_) => Transport::Tcp,
        },
        client_host: client.display_host().into(),
        default_plugin: shared.config.default_plugin,
        rsa: shared.rsa_public(crate::auth::Plugin::CachingSha2Password),
        require_secure_transport: shared.require_secure_transport(),
        reserved_admin_slot,
        admission: true,
        databases: shared.databases.clone(),
        nonce,
        switch_nonce: Nonce::from_random(random_bytes()),
        digest_rounds: shared.config.digest_rounds,
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConnError {
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("login failed: {0}")]
    Login(HandshakeError),
    #[error("TLS handshake failed: {0}")]
    Tls(std::io::Error),
    #[error("closed by the server")]
    Closed,
    #[error("net_read_timeout passed inside a packet")]
    ReadTimeout,
    #[error("net_write_timeout passed while writing")]
    WriteTimeout,
}

/// Runs the machine to the end: returns the (possibly TLS-wrapped) stream and the session.
async fn connection_phase(
    mut io: Stream,
    mut hs: Handshake,
    actions: Vec<Action>,
    client: &ClientHost,
    shared: &Arc<Shared>,
    tls: Option<Arc<super::tls::ActiveTls>>,
) -> Result<(Stream, Session), ConnError> {
    let mut pending: VecDeque<Action> = actions.into();
    let mut failure = None;
    loop {
        while let Some(action) = pending.pop_front() {
            match action {
                Action::Send(bytes) => io.write_all(&bytes).await?,
                Action::StartTls => {
                    let Some(active) = tls.as_ref() else {
                        return Err(ConnError::Closed);
                    };
                    io.flush().await?;
                    shared.tls.accepts.fetch_add(1, Ordering::Relaxed);
                    let stream = active.acceptor.accept(io).await.map_err(ConnError::Tls)?;
                    shared.tls.finished_accepts.fetch_add(1, Ordering::Relaxed);
                    let info = tls_info(stream.get_ref().1);
                    io = Box::new(stream);
                    pending.extend(hs.handle(Event::TlsEstablished(info)));
                }
                Action::LookupAccount { user } => {
                    let lookup = shared.lookup(&user, client);
                    pending.extend(hs.handle(Event::Account(lookup)));
                }
                Action::RunSlowCheck(check) => {
                    let verdict = run_slow_check(shared, check).await;
                    pending.extend(hs.handle(Event::Verdict(verdict)));
                }
                Action::FillCache {
                    user,
                    host,
                    digest,
                    verified,
                } => {
                    let accounts = shared.accounts.read().unwrap_or_else(|e| e.into_inner());
                    crate::handshake::fill_cache_if_current(
                        &accounts,
                        &shared.cache,
                        &user,
                        &host,
                        digest,
                        &verified,
                    );
                }
                Action::Admit(_session) => {
                    pending.extend(hs.handle(Event::Admission(Ok(()))));
                }
                Action::Authenticated(session) => {
                    io.flush().await?;
                    match session.auth_path {
                        AuthPath::FastPath => {
                            shared.stats.fast_path_auths.fetch_add(1, Ordering::Relaxed)
                        }
                        AuthPath::Full => shared.stats.full_auths.fetch_add(1, Ordering::Relaxed),
                        AuthPath::Other => 0,
                    };
                    return Ok((io, *session));
                }
                Action::RequireNotMet(reason) => {
                    // MySQL logs why at log_error_verbosity 3; the client only sees 1045.
                    info!(host = %client.display_host(), ?reason, "account REQUIRE clause not met");
                }
                Action::Failed(e) => {
                    // The user name is the client's claim; never log password material.
                    info!(host = %client.display_host(), "login failed: {e}");
                    failure = Some(e);
                }
                Action::Close => {
                    io.flush().await?;
                    let _ = io.shutdown().await;
                    return Err(failure.map_or(ConnError::Closed, ConnError::Login));
                }
            }
        }
        if hs.is_finished() {
            return Err(ConnError::Closed);
        }
        io.flush().await?;
        let mut hdr = [0u8; HEADER_LEN];
        io.read_exact(&mut hdr).await?;
        match hs.check_header(hdr) {
            Ok(h) => {
                // Grown as bytes arrive: an announced length costs nothing until it is sent.
                // The whole phase is bounded by connect_timeout (the caller's timeout).
                let mut payload = Vec::new();
                read_growing(&mut io, &mut payload, h.len, None).await?;
                pending.extend(hs.handle(Event::Packet {
                    seq: h.seq,
                    payload: &payload,
                }));
            }
            Err(actions) => pending.extend(actions),
        }
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
    };
    let Ok(_permit) = shared.slow_checks.clone().acquire_owned().await else {
        return failed;
    };
    let rsa = shared.rsa.clone();
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
    let peer_cert: Option<PeerCert> = conn
        .peer_certificates()
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
    }
}

/// A packet buffer grows ahead of the bytes received by as many bytes as have arrived, at least
/// [`MIN_READ_STEP`] and at most [`MAX_READ_STEP`]: memory follows what a client has sent, never
/// what its header announced (MySQL's net buffer grows the same way, up to
/// `max_allowed_packet`).
const MIN_READ_STEP: usize = 4 * 1024;
const MAX_READ_STEP: usize = 64 * 1024;

/// Appends exactly `n` bytes from `io` to `buf`, growing `buf` only as bytes arrive (see
/// [`MIN_READ_STEP`]). Each read waits at most `per_read` for progress (`None`: no bound).
async fn read_growing(
    io: &mut Stream,
    buf: &mut Vec<u8>,
    n: usize,
    per_read: Option<Duration>,
) -> Result<(), ConnError> {
    let base = buf.len();
    let end = base + n;
    while buf.len() < end {
        let start = buf.len();
        let step = (start - base).clamp(MIN_READ_STEP, MAX_READ_STEP);
        buf.resize(start + (end - start).min(step), 0);
        let read = io.read(&mut buf[start..]);
        let got = match per_read {
            Some(d) => tokio::time::timeout(d, read)
                .await
                .map_err(|_| ConnError::ReadTimeout)?,
            None => read.await,
        };
        let got = match got {
            Ok(got) => got,
            Err(e) => {
                buf.truncate(start);
                return Err(e.into());
            }
        };
        buf.truncate(start + got);
        if got == 0 {
            return Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof).into());
        }
    }
    Ok(())
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
    /// The client closed the connection between commands.
    Closed,
}

/// Reads one command-phase message up to `max_allowed_packet`. An idle session waits for the
/// first byte up to `wait_timeout` (or until shutdown); once a packet has started, each read
/// waits at most `net_read_timeout`.
async fn read_command(
    io: &mut Stream,
    limit: usize,
    timeouts: Timeouts,
    shared: &Shared,
) -> Result<Incoming, ConnError> {
    let net_read = Some(Duration::from_secs(timeouts.net_read));
    let mut payload = Vec::new();
    let mut seq = 0u8;
    loop {
        let mut hdr = Vec::with_capacity(HEADER_LEN);
        if seq == 0 {
            let mut first = [0u8; 1];
            let wait = Duration::from_secs(timeouts.wait);
            let got = tokio::select! {
                r = tokio::time::timeout(wait, io.read(&mut first)) => r,
                () = shared.shutdown_signal() => return Ok(Incoming::Shutdown),
            };
            match got {
                Err(_) => return Ok(Incoming::Idle),
                Ok(Ok(0)) => return Ok(Incoming::Closed),
                Ok(Ok(_)) => hdr.push(first[0]),
                Ok(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    return Ok(Incoming::Closed)
                }
                Ok(Err(e)) => return Err(e.into()),
            }
        }
        let missing = HEADER_LEN - hdr.len();
        read_growing(io, &mut hdr, missing, net_read).await?;
        let mut raw = [0u8; HEADER_LEN];
        raw.copy_from_slice(&hdr);
        let h = Header::parse(raw);
        if h.seq != seq {
            return Ok(Incoming::Refused(ErrPacket::new(
                1156,
                "08S01",
                "Got packets out of order",
            )));
        }
        if payload.len() + h.len > limit {
            return Ok(Incoming::Refused(ErrPacket::new(
                1153,
                "08S01",
                "Got a packet bigger than 'max_allowed_packet' bytes",
            )));
        }
        read_growing(io, &mut payload, h.len, net_read).await?;
        seq = seq.wrapping_add(1);
        if h.len < MAX_PACKET_CHUNK {
            return Ok(Incoming::Command(payload, seq));
        }
    }
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
    let write = async {
        io.write_all(&out).await?;
        io.flush().await
    };
    tokio::time::timeout(Duration::from_secs(timeouts.net_write), write)
        .await
        .map_err(|_| ConnError::WriteTimeout)??;
    Ok(())
}

/// Sends an error the client did not ask for (sequence id 0, as MySQL's `net_send_error` after
/// a failed read of a new command) and closes the connection.
async fn send_and_close(io: &mut Stream, err: ErrPacket, timeouts: Timeouts) {
    let _ = write_payloads(io, 0, &[err.encode()], timeouts).await;
    let _ = io.shutdown().await;
}

async fn command_phase(
    mut io: Stream,
    mut st: ConnState,
    shared: &Arc<Shared>,
) -> Result<(), ConnError> {
    let limit = shared.config.max_allowed_packet as usize;
    loop {
        let t = st.timeouts;
        let (payload, seq) = match read_command(&mut io, limit, t, shared).await {
            Ok(Incoming::Command(payload, seq)) => (payload, seq),
            Ok(Incoming::Refused(err)) => {
                // Framing errors end the connection, as in MySQL.
                write_payloads(&mut io, 1, &[err.encode()], t).await?;
                return Ok(());
            }
            Ok(Incoming::Idle) => {
                info!(id = st.id, wait_timeout = t.wait, "closing an idle session");
                send_and_close(&mut io, ErrPacket::new(4031, "HY000", IDLE_MESSAGE), t).await;
                return Ok(());
            }
            Ok(Incoming::Shutdown) => {
                let err = ErrPacket::new(1053, "08S01", "Server shutdown in progress");
                send_and_close(&mut io, err, t).await;
                return Ok(());
            }
            Ok(Incoming::Closed) => return Ok(()),
            Err(ConnError::ReadTimeout) => {
                info!(
                    id = st.id,
                    net_read_timeout = t.net_read,
                    "a packet stalled; closing"
                );
                let err =
                    ErrPacket::new(1159, "08S01", "Got timeout reading communication packets");
                send_and_close(&mut io, err, t).await;
                return Ok(());
            }
            Err(ConnError::Io(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(e) => return Err(e),
        };
        let ok = || OkPacket::with_status(st.status_flags).encode();
        let cmd = match Command::parse(&payload, st.session.client_capabilities) {
            Ok(c) => c,
            Err(_) => {
                let err = ErrPacket::new(1047, "08S01", "Unknown command");
                write_payloads(&mut io, seq, &[err.encode()], t).await?;
                continue;
            }
        };
        drop(payload);
        match cmd {
            Command::Quit => return Ok(()),
            Command::Ping => write_payloads(&mut io, seq, &[ok()], t).await?,
            Command::ResetConnection => {
                st.reset_session(shared);
                let ok = OkPacket::with_status(st.status_flags).encode();
                write_payloads(&mut io, seq, &[ok], t).await?;
            }
            Command::InitDb(db) => {
                let reply =
                    super::commands::use_database(&mut st, shared, &String::from_utf8_lossy(&db));
                write_payloads(&mut io, seq, &reply, t).await?;
            }
            Command::Query(sql) => {
                shared.stats.questions.fetch_add(1, Ordering::Relaxed);
                let reply = super::commands::execute(&mut st, shared, &sql).await;
                write_payloads(&mut io, seq, &reply, t).await?;
            }
            Command::Statistics => {
                let text = format!(
                    "Uptime: {}  Threads: {}  Questions: {}  Slow queries: 0  Opens: 0  Flush tables: 0  Open tables: 0  Queries per second avg: 0.000",
                    shared.started.elapsed().as_secs(),
                    shared.stats.threads_connected.load(Ordering::Relaxed),
                    shared.stats.questions.load(Ordering::Relaxed),
                );
                write_payloads(&mut io, seq, &[text.into_bytes()], t).await?;
            }
            Command::ChangeUser(cu) => {
                let params =
                    connection_params(shared, st.id, &st.client, false, st.session.nonce, false);
                let tls = st.session.tls.clone();
                let (hs, actions) =
                    Handshake::change_user(params, st.session.client_capabilities, tls, cu);
                // Failure closes the connection; the old session is not restored (MySQL). The
                // exchange is bounded like a login, by connect_timeout.
                let client = st.client;
                let exchange = connection_phase(io, hs, actions, &client, shared, None);
                let bound = Duration::from_secs(shared.config.connect_timeout);
                let (new_io, session) = tokio::time::timeout(bound, exchange)
                    .await
                    .map_err(|_| ConnError::ReadTimeout)??;
                io = new_io;
                st.session = session;
                st.reset_session(shared);
            }
            Command::Unsupported(_) => {
                let err = ErrPacket::new(1047, "08S01", "Unknown command");
                write_payloads(&mut io, seq, &[err.encode()], t).await?;
            }
        }
    }
}

/// ER_CLIENT_INTERACTION_TIMEOUT's text (MySQL 8.0.24+ sends it before closing an idle session).
const IDLE_MESSAGE: &str = "The client was disconnected by the server because of inactivity. See wait_timeout and interactive_timeout for configuring this behavior.";
