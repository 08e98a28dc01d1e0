//! What an embedder implements to put its own engine behind the door: where accounts come from
//! ([`AccountStore`]) and what a logged-in session talks to ([`Backend`], [`Connection`]), plus
//! the [`Request`] / [`Reply`] pair of the command phase.
//!
//! The connection phase stays Vestibule's: the handshake machine runs every plugin exchange
//! (caching_sha2_password fast and full path, RSA, sha256_password, mysql_native_password), the
//! cache, TLS and the post-authentication checks (REQUIRE, ACCOUNT LOCK,
//! require_secure_transport, the administrator's connection slot). Only then is the backend
//! asked to [`Backend::admit`] the session, before the client gets its OK.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use crate::account::{Account, ClientHost};
use crate::auth::AuthString;
use crate::cache::AuthCache;
use crate::handshake::Session;
use crate::wire::command::Command;
use crate::wire::frame;
use crate::wire::packets::{ErrPacket, OkPacket};

use super::conn::Io;
use super::Timeouts;

/// Where accounts come from. The file store of the binary ([`super::store::FileAccounts`])
/// implements it; an embedder can keep accounts anywhere (a database table, a service).
///
/// MySQL's matching rules stay in the core: an implementation that holds an
/// [`crate::account::AccountSet`] answers [`AccountStore::lookup`] with
/// [`crate::account::AccountSet::lookup_shared`].
pub trait AccountStore: Send + Sync + 'static {
    /// The account `user` logs in as from `client`: MySQL's most specific match of user name
    /// and host pattern, or `None` (the login then runs against a decoy and fails with the same
    /// 1045 as a wrong password).
    fn lookup(
        &self,
        user: &str,
        client: &ClientHost,
    ) -> impl Future<Output = Option<Arc<Account>>> + Send;

    /// The guard of every cache fill, called on the reactor and so synchronous: a store whose
    /// accounts live elsewhere (a database) keeps an in-memory map of each account's current
    /// credential, updated as changes are applied, and answers from it (`false` is always
    /// safe: it only sends the next login down the full-authentication path).
    ///
    /// Runs `fill` only while `verified` is still the stored
    /// credential of the account `user`@`host` (as stored: `host` is the pattern), and returns
    /// whether it ran. No change of that account may complete between the check and the end of
    /// `fill` — hold the lock that changes take — or a login whose full authentication started
    /// before an `ALTER USER` could put the old password back into the cache.
    fn if_current(
        &self,
        user: &str,
        host: &str,
        verified: &AuthString,
        fill: &mut dyn FnMut(),
    ) -> bool;

    /// Hands the store a server's caching_sha2_password cache when that server is built (once
    /// per server: a store that serves several servers must evict from every cache it was
    /// given, as [`super::FileAccounts`] and [`super::MemoryAccounts`] do):
    /// a store whose accounts change must evict the changed accounts from it after the change
    /// is visible to [`AccountStore::lookup`] (what [`crate::account_ops`] computes as
    /// [`crate::account_ops::CacheEffect`]), and clear it where MySQL does (FLUSH PRIVILEGES).
    /// The default ignores it (a store whose accounts never change).
    fn attach_cache(&self, cache: Arc<AuthCache>) {
        let _ = cache;
    }
}

/// What the connection driver knows about a connection when it asks for admission.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ConnectionInfo {
    /// The connection id of the greeting (`CONNECTION_ID()`).
    pub id: u32,
    /// Where the client connected from.
    pub client: ClientHost,
    shutdown: Option<tokio::sync::watch::Receiver<bool>>,
    cleartext: Arc<std::sync::atomic::AtomicBool>,
}

impl ConnectionInfo {
    /// A description for a test of a [`Backend`]: no server behind it, so it never shuts down.
    pub fn new(id: u32, client: ClientHost) -> ConnectionInfo {
        ConnectionInfo {
            id,
            client,
            shutdown: None,
            cleartext: Arc::default(),
        }
    }

    pub(crate) fn with_shutdown(
        id: u32,
        client: ClientHost,
        shutdown: tokio::sync::watch::Receiver<bool>,
    ) -> ConnectionInfo {
        ConnectionInfo {
            id,
            client,
            shutdown: Some(shutdown),
            cleartext: Arc::default(),
        }
    }

    /// Whether the server is shutting down (SIGTERM, [`super::Server::shutdown`]): a
    /// long-running command may stop early; the driver sends 1053 at the session's next read.
    pub fn shutting_down(&self) -> bool {
        self.shutdown.as_ref().is_some_and(|rx| *rx.borrow())
    }

    /// Called by [`Backend::admit`] before it refuses a login: "ask the client for its
    /// cleartext password and let me try again" (proxy mode's pass-through, docs/proxy.md
    /// §4.2c). It takes effect only after a caching_sha2_password fast path with
    /// [`Backend::wants_login_secret`]: the client then gets `01 04` instead of `01 03`, runs
    /// full authentication (TLS, the socket or RSA), and `admit` is called again with the
    /// cleartext in [`Session::login_secret`]. Anywhere else the refusal is sent as usual.
    pub fn ask_for_cleartext(&self) {
        self.cleartext
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    pub(crate) fn take_cleartext_request(&self) -> bool {
        self.cleartext
            .swap(false, std::sync::atomic::Ordering::Relaxed)
    }

    /// Resolves when the server begins to shut down (never, for [`ConnectionInfo::new`]).
    pub async fn shutdown(&self) {
        if let Some(mut rx) = self.shutdown.clone() {
            if rx.wait_for(|down| *down).await.is_ok() {
                return;
            }
        }
        std::future::pending::<()>().await;
    }
}

/// The engine behind the door.
pub trait Backend: Send + Sync + 'static {
    /// The per-session state the backend keeps.
    type Connection: Connection;

    /// Called once per login, after every check of the connection phase and **before** the
    /// client gets its OK: return the session's [`Connection`], or refuse the login with a
    /// MySQL error packet (the client gets exactly that packet and the connection closes).
    fn admit(
        &self,
        session: &Session,
        info: &ConnectionInfo,
    ) -> impl Future<Output = Result<Self::Connection, ErrPacket>> + Send;

    /// Whether [`Backend::admit`] wants [`Session::login_secret`]: what the client's answer
    /// proves about its password, for a backend that logs in elsewhere as the client (proxy
    /// mode's pass-through, docs/proxy.md §4.2). The default, `false`, derives nothing.
    fn wants_login_secret(&self) -> bool {
        false
    }
}

/// One logged-in session of a [`Backend`].
pub trait Connection: Send + 'static {
    /// One command from the client (anything but COM_QUIT and COM_CHANGE_USER, which the
    /// driver handles). Answer it through `reply`, which numbers the packets; the driver writes
    /// what is left in `reply` when this returns `Ok`. An error ends the connection without
    /// writing more. Every command the protocol answers must get an answer (the client waits
    /// for it); only those MySQL leaves unanswered (COM_STMT_CLOSE, COM_STMT_SEND_LONG_DATA)
    /// may write nothing. For a large result, [`Reply::flush`] as you go.
    fn on_command(
        &mut self,
        request: Request<'_>,
        reply: &mut Reply<'_>,
    ) -> impl Future<Output = std::io::Result<()>> + Send;

    /// COM_CHANGE_USER: the client authenticated as `session` on this connection, and every
    /// check passed. Accept it (the client then gets OK; reset the session state, as MySQL
    /// does), or refuse it with an error packet (the client gets it and the connection closes).
    /// The default accepts.
    fn on_change_user(
        &mut self,
        session: &Session,
    ) -> impl Future<Output = Result<(), ErrPacket>> + Send {
        let _ = session;
        async { Ok(()) }
    }

    /// After [`Connection::on_change_user`] refused: whether it wants the client's cleartext
    /// password instead (as [`ConnectionInfo::ask_for_cleartext`] for a new login); the
    /// default never does.
    fn change_user_needs_cleartext(&mut self) -> bool {
        false
    }

    /// The session's timeouts if the backend changed them (`SET SESSION wait_timeout …`);
    /// `None` keeps the ones the session started with. Read after every command.
    fn timeouts(&self) -> Option<Timeouts> {
        None
    }
}

/// One command-phase request.
#[derive(Debug)]
#[non_exhaustive]
pub struct Request<'a> {
    /// The whole payload, command byte first (continuation packets joined).
    pub payload: &'a [u8],
    /// The payload parsed with the session's capability flags; `None` when it does not parse
    /// (MySQL answers 1047 "Unknown command" then, which a proxy may leave to its backend).
    pub command: Option<Command>,
}

impl<'a> Request<'a> {
    /// A request as the driver makes it: `payload` parsed with the session's capability flags.
    pub fn new(payload: &'a [u8], client_capabilities: u32) -> Request<'a> {
        Request {
            payload,
            command: Command::parse(payload, client_capabilities).ok(),
        }
    }
}

/// The answer to one [`Request`]: numbers its packets (from 1, after the client's 0) and
/// buffers them; [`Reply::flush`] writes what is buffered, and the driver flushes at the end.
pub struct Reply<'a> {
    io: &'a mut dyn Io,
    seq: u8,
    out: Vec<u8>,
    client_capabilities: u32,
    net_write: Duration,
    /// A flush failed: the connection is unusable, and later flushes fail at once.
    failed: bool,
}

impl<'a> Reply<'a> {
    /// A reply on `io` whose first packet gets sequence id `seq` (1 after a one-packet
    /// command), for a client with these capability flags; each write waits at most
    /// `net_write` for progress. The driver makes one per command; a test of a [`Connection`]
    /// can make its own over an in-memory stream (`tokio::io::duplex`).
    pub fn new(io: &'a mut dyn Io, seq: u8, client_capabilities: u32, net_write: Duration) -> Self {
        Reply {
            io,
            seq,
            out: Vec::new(),
            client_capabilities,
            net_write,
            failed: false,
        }
    }

    /// The client's capability flags (CLIENT_DEPRECATE_EOF decides how result sets end).
    pub fn client_capabilities(&self) -> u32 {
        self.client_capabilities
    }

    /// Queues one payload as the next packet (split into 16 MiB chunks as the protocol wants).
    pub fn packet(&mut self, payload: &[u8]) {
        self.seq = frame::encode(self.seq, payload, &mut self.out);
    }

    /// Queues one physical frame as it is: the next sequence id, and `payload` (at most
    /// 0xFFFFFF bytes) not split. A proxy relays a backend's frames with it, a packet of
    /// 16 MiB or more frame by frame (docs/proxy.md §3.1). A longer payload is an error.
    pub fn frame(&mut self, payload: &[u8]) -> std::io::Result<()> {
        let Ok(len) = u32::try_from(payload.len()) else {
            return Err(std::io::ErrorKind::InvalidInput.into());
        };
        if payload.len() > frame::MAX_PACKET_CHUNK {
            return Err(std::io::ErrorKind::InvalidInput.into());
        }
        let [a, b, c, _] = len.to_le_bytes();
        self.out.extend_from_slice(&[a, b, c, self.seq]);
        self.out.extend_from_slice(payload);
        self.seq = self.seq.wrapping_add(1);
        Ok(())
    }

    /// The sequence id the next queued packet gets.
    pub fn next_seq(&self) -> u8 {
        self.seq
    }

    /// Bytes queued and not yet written.
    pub fn buffered(&self) -> usize {
        self.out.len()
    }

    /// Queues an OK packet.
    pub fn ok(&mut self, ok: &OkPacket) {
        self.packet(&ok.encode());
    }

    /// Queues an ERR packet.
    pub fn error(&mut self, err: &ErrPacket) {
        self.packet(&err.encode());
    }

    /// Queues a text result set: string column definitions, then rows of text values (`None`
    /// is NULL), ended as the client's flags ask (EOF, or OK with CLIENT_DEPRECATE_EOF). Each
    /// row must have one value per column: a shorter row is padded with NULLs and a longer one
    /// cut, so the client never sees a malformed result; no columns at all is an OK.
    pub fn text_result(&mut self, columns: &[&str], rows: &[Vec<Option<String>>]) {
        use crate::wire::resultset::{encode_result_set, ColumnDefinition41};
        if columns.is_empty() {
            self.ok(&OkPacket::default());
            return;
        }
        let defs: Vec<ColumnDefinition41> = columns
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let width = rows
                    .iter()
                    .filter_map(|r| r.get(i)?.as_deref())
                    .map(|t| t.chars().count())
                    .max()
                    .unwrap_or(0);
                ColumnDefinition41::string(name, u32::try_from(width.max(1)).unwrap_or(u32::MAX))
            })
            .collect();
        let rows: Vec<Vec<Option<Vec<u8>>>> = rows
            .iter()
            .map(|r| {
                (0..columns.len())
                    .map(|i| r.get(i).cloned().flatten().map(String::into_bytes))
                    .collect()
            })
            .collect();
        let status = crate::wire::SERVER_STATUS_AUTOCOMMIT;
        for p in encode_result_set(&defs, &rows, self.client_capabilities, status) {
            self.packet(&p);
        }
    }

    /// Writes what is queued; waits at most `net_write_timeout` for the client to take it.
    pub async fn flush(&mut self) -> std::io::Result<()> {
        if self.out.is_empty() {
            return Ok(());
        }
        if self.failed {
            return Err(std::io::Error::new(
                std::io::ErrorKind::BrokenPipe,
                "an earlier write of this reply failed",
            ));
        }
        let out = std::mem::take(&mut self.out);
        let written = super::conn::write_with_progress(&mut *self.io, &out, self.net_write).await;
        // A write that failed part-way leaves the client's framing broken: nothing more may
        // follow on this connection.
        self.failed = written.is_err();
        written
    }
}
