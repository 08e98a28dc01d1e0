//! One connection: drives the pure handshake machine over the socket (upgrading to TLS when it
//! asks), then runs the command phase. Stalls in the connection phase end at `connect_timeout`.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tracing::{debug, info, warn};

use super::{random_bytes, RsaAdapter, Shared};
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
    // MySQL keeps one extra slot for an administrator; we keep it simple and refuse beyond it.
    if connected > u64::from(shared.config.max_connections) + 1 {
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
    let params = connection_params(&shared, id, &client, tls.is_some(), nonce);
    let (hs, actions) = Handshake::new(params);
    let outcome = tokio::time::timeout(
        timeout,
        connection_phase(io, hs, actions, &client, &shared, tls.clone()),
    )
    .await;
    match outcome {
        Ok(Ok((io, session))) => {
            let session_tls = session.tls.is_some();
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
                let mut payload = vec![0u8; h.len];
                io.read_exact(&mut payload).await?;
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
    let peer_cert = conn
        .peer_certificates()
        .and_then(|c| c.first())
        .and_then(|der| match super::tls_files::describe_cert(der.as_ref()) {
            Ok(p) => Some(PeerCert {
                subject: p.subject,
                issuer: p.issuer,
                san: p.san,
            }),
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

/// Reads one command-phase message (continuation packets joined) up to `max_allowed_packet`.
/// Returns the payload and the sequence id that follows it.
async fn read_command(
    io: &mut Stream,
    limit: usize,
) -> Result<Result<(Vec<u8>, u8), (u16, &'static str, &'static str)>, ConnError> {
    let mut payload = Vec::new();
    let mut seq = 0u8;
    loop {
        let mut hdr = [0u8; HEADER_LEN];
        io.read_exact(&mut hdr).await?;
        let h = Header::parse(hdr);
        if h.seq != seq {
            return Ok(Err((1156, "08S01", "Got packets out of order")));
        }
        if payload.len() + h.len > limit {
            return Ok(Err((
                1153,
                "08S01",
                "Got a packet bigger than 'max_allowed_packet' bytes",
            )));
        }
        let start = payload.len();
        payload.resize(start + h.len, 0);
        io.read_exact(&mut payload[start..]).await?;
        seq = seq.wrapping_add(1);
        if h.len < MAX_PACKET_CHUNK {
            return Ok(Ok((payload, seq)));
        }
    }
}

async fn write_payloads(
    io: &mut Stream,
    mut seq: u8,
    payloads: &[Vec<u8>],
) -> Result<(), ConnError> {
    let mut out = Vec::new();
    for p in payloads {
        seq = frame::encode(seq, p, &mut out);
    }
    io.write_all(&out).await?;
    io.flush().await?;
    Ok(())
}

async fn command_phase(
    mut io: Stream,
    mut st: ConnState,
    shared: &Arc<Shared>,
) -> Result<(), ConnError> {
    let limit = shared.config.max_allowed_packet as usize;
    loop {
        let (payload, seq) = match read_command(&mut io, limit).await {
            Ok(Ok(p)) => p,
            Ok(Err((code, state, msg))) => {
                // Framing errors end the connection, as in MySQL.
                write_payloads(&mut io, 1, &[ErrPacket::new(code, state, msg).encode()]).await?;
                return Ok(());
            }
            Err(ConnError::Io(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(e) => return Err(e),
        };
        let ok = || OkPacket::with_status(st.status_flags).encode();
        let cmd = match Command::parse(&payload, st.session.client_capabilities) {
            Ok(c) => c,
            Err(_) => {
                write_payloads(
                    &mut io,
                    seq,
                    &[ErrPacket::new(1047, "08S01", "Unknown command").encode()],
                )
                .await?;
                continue;
            }
        };
        match cmd {
            Command::Quit => return Ok(()),
            Command::Ping => write_payloads(&mut io, seq, &[ok()]).await?,
            Command::ResetConnection => {
                st.session_vars.clear();
                st.user_vars.clear();
                st.status_flags = crate::wire::SERVER_STATUS_AUTOCOMMIT;
                write_payloads(
                    &mut io,
                    seq,
                    &[OkPacket::with_status(st.status_flags).encode()],
                )
                .await?;
            }
            Command::InitDb(db) => {
                let reply =
                    super::commands::use_database(&mut st, shared, &String::from_utf8_lossy(&db));
                write_payloads(&mut io, seq, &reply).await?;
            }
            Command::Query(sql) => {
                shared.stats.questions.fetch_add(1, Ordering::Relaxed);
                let reply = super::commands::execute(&mut st, shared, &sql).await;
                write_payloads(&mut io, seq, &reply).await?;
            }
            Command::Statistics => {
                let text = format!(
                    "Uptime: {}  Threads: {}  Questions: {}  Slow queries: 0  Opens: 0  Flush tables: 0  Open tables: 0  Queries per second avg: 0.000",
                    shared.started.elapsed().as_secs(),
                    shared.stats.threads_connected.load(Ordering::Relaxed),
                    shared.stats.questions.load(Ordering::Relaxed),
                );
                write_payloads(&mut io, seq, &[text.into_bytes()]).await?;
            }
            Command::ChangeUser(cu) => {
                let params = connection_params(shared, st.id, &st.client, false, st.session.nonce);
                let tls = st.session.tls.clone();
                let (hs, actions) =
                    Handshake::change_user(params, st.session.client_capabilities, tls, cu);
                // Failure closes the connection; the old session is not restored (MySQL).
                let (new_io, session) =
                    connection_phase(io, hs, actions, &st.client.clone(), shared, None).await?;
                io = new_io;
                st.session = session;
                st.session_vars.clear();
                st.user_vars.clear();
                st.status_flags = crate::wire::SERVER_STATUS_AUTOCOMMIT;
            }
            Command::Unsupported(_) => {
                write_payloads(
                    &mut io,
                    seq,
                    &[ErrPacket::new(1047, "08S01", "Unknown command").encode()],
                )
                .await?;
            }
        }
    }
}
