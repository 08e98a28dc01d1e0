//! The client side of the connection phase: the door logging in to a backend MySQL or MariaDB
//! server (proxy mode, docs/proxy.md §1, `client::Login`).
//!
//! Owns: every decision of the backend login — which capability flags to ask for, which plugin
//! response to send, whether a cleartext password may go out, when the login is over. Never
//! does: I/O, TLS, clock reads or randomness, and never panics: a packet that is malformed or
//! not valid in the current state ends the login with a [`LoginError`].
//!
//! The driver reads packets from the backend, feeds them to [`Login::handle`] as
//! [`ClientEvent`]s and carries out the returned [`ClientAction`]s in order. States are named
//! after what they expect next:
//!
//! ```text
//!  new() ──▶ ExpectGreeting ──HandshakeV10──┬──(tls) SSLRequest, StartTls──▶ ExpectTls
//!                                           │                                  │ TlsEstablished
//!                                           │ HandshakeResponse41 ◀────────────┘
//!                                           ▼
//!                                    ExpectAuthResult ──FE switch (once)──▶ ExpectAuthResult
//!                                     │        │ 01 03 (fast path)   │ 01 04 (full, TLS only:
//!                                     │        ▼                     ▼  cleartext + NUL)
//!                                     │   ExpectFinalResult ◀────────┘
//!                                     ▼        ▼
//!                              OK → Done(LoginOk)   ERR → Failed(LoginError::Refused)
//! ```
//!
//! Sequence ids run continuously through the exchange, from the greeting's 0 (docs/protocol.md,
//! "Packets and sequence ids"): the machine checks every server packet against the next id and
//! numbers its own packets. After [`ClientAction::Done`] the command phase starts again at 0.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

use sha1::Sha1;
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, Zeroizing};

use crate::auth::{self, Nonce, Plugin};
use crate::handshake::AuthPath;
use crate::wire::capabilities::*;
use crate::wire::frame;
use crate::wire::handshake::{
    encode_ssl_request, AuthSwitchRequest, ClientHeader, HandshakeResponse41, HandshakeV10,
    FAST_AUTH_SUCCESS, PERFORM_FULL_AUTHENTICATION,
};
use crate::wire::packets::{ErrPacket, OkPacket};
use crate::wire::WireError;

/// Longest server packet accepted during the login: a greeting, an OK with its info, an ERR
/// (≤ 512-byte message) or an AuthMoreData with an RSA public key all fit in far less.
pub const LOGIN_MAX_PACKET: usize = 64 * 1024;

/// Flags the machine never asks for, whatever the caller requests: their layouts (compression,
/// session tracking, query attributes, optional metadata) are not spoken by the door, and it
/// sends no connect attributes (docs/proxy.md §3.1).
pub const NEVER_REQUESTED: u32 = CLIENT_COMPRESS
    | CLIENT_SESSION_TRACK
    | CLIENT_QUERY_ATTRIBUTES
    | CLIENT_ZSTD_COMPRESSION_ALGORITHM
    | CLIENT_CONNECT_ATTRS
    | CLIENT_SSL
    | CLIENT_CONNECT_WITH_DB
    | CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA
    | (1 << 25) // CLIENT_OPTIONAL_RESULTSET_METADATA
    | (1 << 29) // CLIENT_CAPABILITY_EXTENSION
    | (1 << 30) // CLIENT_SSL_VERIFY_SERVER_CERT
    | (1 << 31); // CLIENT_REMEMBER_OPTIONS

/// Flags a backend must offer for this client to log in: the 4.1 protocol, 20-byte scrambles
/// and pluggable authentication (docs/protocol.md, "HandshakeResponse41", "Plugin selection and
/// AuthSwitchRequest"). Every MySQL ≥ 5.5 and MariaDB offers them.
pub const REQUIRED_SERVER_CAPABILITIES: u32 =
    CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION | CLIENT_PLUGIN_AUTH;

/// `utf8mb4_general_ci` (45): a utf8mb4 collation both MySQL and MariaDB know (MariaDB has no
/// 255), the default of [`LoginParams::new`].
pub const UTF8MB4_GENERAL_CI: u8 = 45;

/// What the door proves the backend account's password with (docs/proxy.md §1, §4).
///
/// Zeroized on drop; `Debug` shows only the kind; compared in constant time.
#[derive(Clone)]
#[non_exhaustive]
pub enum Credential {
    /// The password itself: answers mysql_native_password and caching_sha2_password scrambles,
    /// and caching_sha2_password's full authentication over TLS. Empty means "no password":
    /// the first response is empty, as MySQL's clients send it.
    Password(Zeroizing<Vec<u8>>),
    /// `SHA1(password)`, mysql_native_password's stage-1 hash: enough for its scramble
    /// (`SHA1(pw) ⊕ SHA1(nonce ‖ SHA1(SHA1(pw)))`, docs/protocol.md, "mysql_native_password"),
    /// not for caching_sha2_password.
    NativeHash([u8; 20]),
    /// `SHA256(password)`: enough for caching_sha2_password's fast path
    /// (`SHA256(pw) ⊕ SHA256(SHA256(SHA256(pw)) ‖ nonce)`, docs/protocol.md,
    /// "caching_sha2_password: fast path and full authentication"), not for its full
    /// authentication nor for mysql_native_password.
    Sha256Hash([u8; 32]),
}

impl Credential {
    /// A cleartext password credential.
    pub fn password(pw: impl Into<Vec<u8>>) -> Self {
        Credential::Password(Zeroizing::new(pw.into()))
    }

    fn kind(&self) -> &'static str {
        match self {
            Credential::Password(_) => "Password",
            Credential::NativeHash(_) => "NativeHash",
            Credential::Sha256Hash(_) => "Sha256Hash",
        }
    }

    /// The plugin this credential answers best, for a greeting naming a plugin it cannot
    /// answer (the server then switches to the account's plugin).
    fn natural_plugin(&self) -> Plugin {
        match self {
            Credential::NativeHash(_) => Plugin::MysqlNativePassword,
            Credential::Password(_) | Credential::Sha256Hash(_) => Plugin::CachingSha2Password,
        }
    }

    fn can_answer(&self, plugin: Plugin) -> bool {
        matches!(
            (self, plugin),
            (Credential::Password(_), Plugin::MysqlNativePassword)
                | (Credential::Password(_), Plugin::CachingSha2Password)
                | (Credential::NativeHash(_), Plugin::MysqlNativePassword)
                | (Credential::Sha256Hash(_), Plugin::CachingSha2Password)
        )
    }

    /// The plugin's first response over `nonce`: empty for an empty password (what MySQL's
    /// clients send), else the scramble. `None` when this credential cannot answer `plugin`.
    fn scramble(&self, plugin: Plugin, nonce: &Nonce) -> Option<Zeroizing<Vec<u8>>> {
        let out = match (self, plugin) {
            (Credential::Password(pw), _) if pw.is_empty() && self.can_answer(plugin) => Vec::new(),
            (Credential::Password(pw), Plugin::MysqlNativePassword) => {
                auth::native::client_scramble(pw, nonce).to_vec()
            }
            (Credential::Password(pw), Plugin::CachingSha2Password) => {
                auth::caching_sha2::client_scramble(pw, nonce).to_vec()
            }
            (Credential::NativeHash(h1), Plugin::MysqlNativePassword) => {
                native_scramble_from_stage1(h1, nonce).to_vec()
            }
            (Credential::Sha256Hash(h1), Plugin::CachingSha2Password) => {
                sha2_scramble_from_stage1(h1, nonce).to_vec()
            }
            _ => return None,
        };
        Some(Zeroizing::new(out))
    }
}

impl PartialEq for Credential {
    fn eq(&self, other: &Self) -> bool {
        use subtle::ConstantTimeEq;
        match (self, other) {
            (Credential::Password(a), Credential::Password(b)) => a.ct_eq(b).into(),
            (Credential::NativeHash(a), Credential::NativeHash(b)) => a.ct_eq(b).into(),
            (Credential::Sha256Hash(a), Credential::Sha256Hash(b)) => a.ct_eq(b).into(),
            _ => false,
        }
    }
}

impl Eq for Credential {}

impl Drop for Credential {
    fn drop(&mut self) {
        match self {
            Credential::Password(_) => {} // Zeroizing wipes itself.
            Credential::NativeHash(h) => h.zeroize(),
            Credential::Sha256Hash(h) => h.zeroize(),
        }
    }
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credential::{}(<redacted>)", self.kind())
    }
}

/// mysql_native_password's scramble from `SHA1(pw)`: `h1 ⊕ SHA1(nonce ‖ SHA1(h1))`.
fn native_scramble_from_stage1(h1: &[u8; 20], nonce: &Nonce) -> Zeroizing<[u8; 20]> {
    let h2: [u8; 20] = Sha1::digest(h1).into();
    let x: Zeroizing<[u8; 20]> = Zeroizing::new(
        Sha1::new()
            .chain_update(nonce.as_bytes())
            .chain_update(h2)
            .finalize()
            .into(),
    );
    let mut out = Zeroizing::new([0u8; 20]);
    for ((o, a), b) in out.iter_mut().zip(h1).zip(x.iter()) {
        *o = a ^ b;
    }
    out
}

/// caching_sha2_password's scramble from `SHA256(pw)`: `h1 ⊕ SHA256(SHA256(h1) ‖ nonce)`.
fn sha2_scramble_from_stage1(h1: &[u8; 32], nonce: &Nonce) -> Zeroizing<[u8; 32]> {
    let h2: [u8; 32] = Sha256::digest(h1).into();
    let x: Zeroizing<[u8; 32]> = Zeroizing::new(
        Sha256::new()
            .chain_update(h2)
            .chain_update(nonce.as_bytes())
            .finalize()
            .into(),
    );
    let mut out = Zeroizing::new([0u8; 32]);
    for ((o, a), b) in out.iter_mut().zip(h1).zip(x.iter()) {
        *o = a ^ b;
    }
    out
}

/// What the driver knows when it starts a backend login.
#[derive(Debug)]
pub struct LoginParams {
    /// The backend account's user name (HandshakeResponse41 `username`).
    pub user: String,
    /// What proves the password.
    pub credential: Credential,
    /// The default database (`CLIENT_CONNECT_WITH_DB`); the backend checks it (1049).
    pub database: Option<String>,
    /// Capability flags to ask for. The response carries these ∩ the greeting's flags (and
    /// CLIENT_LONG_PASSWORD if asked for, which MariaDB never offers), minus
    /// [`NEVER_REQUESTED`], plus what the exchange needs ([`REQUIRED_SERVER_CAPABILITIES`],
    /// `CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA` when offered, `CLIENT_CONNECT_WITH_DB` with a
    /// database, `CLIENT_SSL` with TLS).
    pub capabilities: u32,
    /// Upgrade to TLS first: an SSLRequest, then [`ClientAction::StartTls`], then the response
    /// inside TLS (docs/protocol.md, "SSLRequest and TLS"). A backend without CLIENT_SSL then
    /// fails the login rather than falling back to clear text.
    pub tls: bool,
    /// The collation id of the session (HandshakeResponse41 `character_set`).
    pub character_set: u8,
    /// `max_packet_size` of the client header (informational to the server).
    pub max_packet_size: u32,
}

impl LoginParams {
    /// A login as `user`, no database, no TLS, [`UTF8MB4_GENERAL_CI`], 16 MiB packets, and
    /// capabilities a MySQL client asks for by default: LONG_PASSWORD, LONG_FLAG, TRANSACTIONS,
    /// MULTI_RESULTS, PS_MULTI_RESULTS and DEPRECATE_EOF (each kept only if the server offers
    /// it).
    pub fn new(user: impl Into<String>, credential: Credential) -> Self {
        LoginParams {
            user: user.into(),
            credential,
            database: None,
            capabilities: CLIENT_LONG_PASSWORD
                | CLIENT_LONG_FLAG
                | CLIENT_TRANSACTIONS
                | CLIENT_MULTI_RESULTS
                | CLIENT_PS_MULTI_RESULTS
                | CLIENT_DEPRECATE_EOF,
            tls: false,
            character_set: UTF8MB4_GENERAL_CI,
            max_packet_size: 16 * 1024 * 1024,
        }
    }
}

/// A finished login: what the command phase needs to know about the backend session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginOk {
    /// The capability flags of the HandshakeResponse41: what both sides offered, so the
    /// layout of every command-phase packet (docs/protocol.md, "Capability and status flags").
    pub capabilities: u32,
    /// The backend's thread id from the greeting (its `CONNECTION_ID()`, what `KILL` takes).
    pub connection_id: u32,
    /// The greeting's server version string (`5.5.5-10.11.6-MariaDB-…`, `8.0.40`).
    pub server_version: String,
    /// The greeting's character set: the server's default collation id.
    pub server_character_set: u8,
    /// `SERVER_STATUS_*` flags of the final OK.
    pub status_flags: u16,
    /// The plugin that authenticated (the greeting's, or the AuthSwitchRequest's).
    pub plugin: Plugin,
    /// Which caching_sha2_password path the backend took ([`AuthPath::Other`] for
    /// mysql_native_password and an empty password).
    pub auth_path: AuthPath,
}

/// Why a backend login failed. The driver closes the connection after any of them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LoginError {
    /// Denial or trouble at the backend: its ERR packet (1045 access denied, 1040 too many
    /// connections, 1049 unknown database, 1129/1130 host blocked or not allowed …), before or
    /// after the password (docs/protocol.md, "Errors before and during the connection phase").
    #[error("backend error {}: {}", .0.code, .0.message)]
    Refused(ErrPacket),
    /// Malformed input: a packet that does not parse as the message the state expects.
    #[error("malformed {what} from the backend: {error}")]
    Malformed {
        /// The message that was expected.
        what: &'static str,
        /// How it failed to parse.
        error: WireError,
    },
    /// Peer misbehaviour: a packet whose first byte is no message valid in this state (an
    /// AuthMoreData to mysql_native_password, a `01 03` after the full path …).
    #[error("unexpected packet (first byte {first:#04x}) from the backend in state {state}")]
    UnexpectedPacket {
        /// The payload's first byte (0 for an empty payload).
        first: u8,
        /// The state the machine was in.
        state: &'static str,
    },
    /// Peer misbehaviour: a sequence id other than the next one (MySQL client error 2027's
    /// "packets out of order").
    #[error("packets out of order from the backend: expected sequence id {expected}, got {got}")]
    PacketsOutOfOrder {
        /// The id the machine expected.
        expected: u8,
        /// The id the header carried.
        got: u8,
    },
    /// Peer misbehaviour: a packet over [`LOGIN_MAX_PACKET`].
    #[error("backend login packet too large ({0} bytes)")]
    PacketTooLarge(usize),
    /// Peer misbehaviour: a second AuthSwitchRequest (MySQL restarts authentication at most
    /// once, docs/protocol.md, "Plugin selection and AuthSwitchRequest").
    #[error("the backend switched authentication plugins twice")]
    SecondSwitch,
    /// Driver bug: an event the current state cannot take (a packet while waiting for TLS, a
    /// TlsEstablished that was not asked for, anything after the end).
    #[error("event {event} not valid in state {state}")]
    UnexpectedEvent {
        /// The event's name.
        event: &'static str,
        /// The state the machine was in.
        state: &'static str,
    },
    /// Incompatibility: the backend lacks a flag this client needs (one of
    /// [`REQUIRED_SERVER_CAPABILITIES`]).
    #[error("the backend does not offer {0}")]
    MissingCapability(&'static str),
    /// Incompatibility: TLS was asked for and the greeting has no CLIENT_SSL (the MySQL
    /// client's `--ssl-mode=REQUIRED` fails the same way, client error 2026).
    #[error("TLS required but the backend does not offer it")]
    TlsUnavailable,
    /// Incompatibility: the backend switched to a plugin this client does not speak
    /// (`sha256_password`, `client_ed25519`, `mysql_old_password` …).
    #[error("the backend asks for the unsupported authentication plugin '{0}'")]
    UnsupportedPlugin(String),
    /// Incompatibility: the credential cannot answer the backend account's plugin (a
    /// `NativeHash` for caching_sha2_password, a `Sha256Hash` for mysql_native_password).
    #[error("a {credential} credential cannot answer {plugin}")]
    CredentialUnsuitable {
        /// The plugin asked for.
        plugin: Plugin,
        /// The credential's kind.
        credential: &'static str,
    },
    /// Bad parameters: the user name or the database contains a NUL byte, which
    /// HandshakeResponse41's `string<NUL>` fields cannot carry (the server would read a
    /// shorter name). Nothing has been sent.
    #[error("the {0} contains a NUL byte")]
    NulInName(&'static str),
    /// caching_sha2_password asked for full authentication (`01 04`) on a connection without
    /// TLS. Sending the password in the clear is never done, and the RSA exchange is not
    /// implemented yet.
    #[error("the backend asks for caching_sha2_password full authentication, which needs TLS (RSA to the backend is not supported)")]
    FullAuthNeedsTls,
    /// caching_sha2_password asked for full authentication (`01 04`) and the credential is a
    /// hash: only the cleartext password can complete it (the account is not in the backend's
    /// cache, or its hash is stale).
    #[error("the backend asks for caching_sha2_password full authentication, which needs the cleartext password")]
    FullAuthNeedsPassword,
}

/// Inputs to the machine.
#[derive(Debug)]
#[non_exhaustive]
pub enum ClientEvent<'a> {
    /// One complete backend payload with the sequence id of its header (the greeting first).
    Packet {
        /// The header's sequence id (the machine checks it).
        seq: u8,
        /// The payload, continuation packets joined.
        payload: &'a [u8],
    },
    /// The TLS handshake asked for with [`ClientAction::StartTls`] completed.
    TlsEstablished,
}

impl ClientEvent<'_> {
    fn name(&self) -> &'static str {
        match self {
            ClientEvent::Packet { .. } => "Packet",
            ClientEvent::TlsEstablished => "TlsEstablished",
        }
    }
}

/// Outputs, to be carried out in order.
#[derive(Debug)]
#[non_exhaustive]
pub enum ClientAction {
    /// Write these framed bytes (one packet, headers included) to the backend (inside TLS once
    /// TLS is established).
    Send(Vec<u8>),
    /// Run the client side of a TLS handshake on the socket (after the SSLRequest has been
    /// written), then deliver [`ClientEvent::TlsEstablished`].
    StartTls,
    /// The backend accepted the login; the command phase may start (sequence id 0).
    Done(LoginOk),
    /// The login failed; close the connection.
    Failed(LoginError),
}

/// What the backend's first-round answer is being read for.
#[derive(Debug)]
struct AuthCtx {
    plugin: Plugin,
    switched: bool,
    /// The plugin's response was empty (no password): caching_sha2_password then ends with
    /// OK or ERR directly.
    empty: bool,
}

#[derive(Debug)]
enum State {
    ExpectGreeting,
    ExpectTls,
    ExpectAuthResult(AuthCtx),
    /// After `01 03` or the cleartext of the full path: only OK or ERR may follow.
    ExpectFinalResult(Plugin, AuthPath),
    Done,
    Failed,
}

impl State {
    fn name(&self) -> &'static str {
        match self {
            State::ExpectGreeting => "ExpectGreeting",
            State::ExpectTls => "ExpectTls",
            State::ExpectAuthResult(_) => "ExpectAuthResult",
            State::ExpectFinalResult(..) => "ExpectFinalResult",
            State::Done => "Done",
            State::Failed => "Failed",
        }
    }

    fn expects_packet(&self) -> bool {
        matches!(
            self,
            State::ExpectGreeting | State::ExpectAuthResult(_) | State::ExpectFinalResult(..)
        )
    }
}

/// What the greeting told us, kept for the response and for [`LoginOk`].
#[derive(Debug)]
struct Greeting {
    connection_id: u32,
    server_version: String,
    character_set: u8,
    plugin: Option<Plugin>,
    nonce: Nonce,
}

/// One backend login (the client side of MySQL's connection phase).
#[derive(Debug)]
pub struct Login {
    params: LoginParams,
    state: State,
    /// Sequence id of the next packet, in either direction.
    seq: u8,
    /// The capability flags of the response, once the greeting is read.
    caps: u32,
    greeting: Option<Greeting>,
    out: Vec<ClientAction>,
}

impl Login {
    /// A login waiting for the backend's greeting (the first [`ClientEvent::Packet`], seq 0).
    pub fn new(params: LoginParams) -> Login {
        Login {
            params,
            state: State::ExpectGreeting,
            seq: 0,
            caps: 0,
            greeting: None,
            out: Vec::new(),
        }
    }

    /// Feeds one event; returns the actions to carry out, in order. Never panics: anything the
    /// state cannot take ends the login with [`ClientAction::Failed`], and every later event
    /// is refused the same way.
    pub fn handle(&mut self, event: ClientEvent<'_>) -> Vec<ClientAction> {
        let state = std::mem::replace(&mut self.state, State::Failed);
        let event_name = event.name();
        match (state, event) {
            (state, ClientEvent::Packet { seq, payload }) if state.expects_packet() => {
                if seq != self.seq {
                    self.fail(LoginError::PacketsOutOfOrder {
                        expected: self.seq,
                        got: seq,
                    });
                } else if payload.len() > LOGIN_MAX_PACKET {
                    self.fail(LoginError::PacketTooLarge(payload.len()));
                } else {
                    self.seq = self.seq.wrapping_add(1);
                    self.on_packet(state, payload);
                }
            }
            (State::ExpectTls, ClientEvent::TlsEstablished) => self.send_response(),
            (state, _) => self.fail(LoginError::UnexpectedEvent {
                event: event_name,
                state: state.name(),
            }),
        }
        std::mem::take(&mut self.out)
    }

    /// The login has ended, successfully or not.
    pub fn is_finished(&self) -> bool {
        matches!(self.state, State::Done | State::Failed)
    }

    fn send(&mut self, payload: &[u8]) {
        let mut bytes = Vec::with_capacity(payload.len() + 4);
        self.seq = frame::encode(self.seq, payload, &mut bytes);
        self.out.push(ClientAction::Send(bytes));
    }

    fn fail(&mut self, e: LoginError) {
        self.state = State::Failed;
        self.out.push(ClientAction::Failed(e));
    }

    fn on_packet(&mut self, state: State, payload: &[u8]) {
        match state {
            State::ExpectGreeting => self.on_greeting(payload),
            State::ExpectAuthResult(ctx) => self.on_auth_result(ctx, payload),
            State::ExpectFinalResult(plugin, path) => match payload.first() {
                Some(0x00) => self.on_ok(plugin, path, payload),
                Some(0xFF) => self.on_err(payload),
                first => self.fail(LoginError::UnexpectedPacket {
                    first: first.copied().unwrap_or(0),
                    state: "ExpectFinalResult",
                }),
            },
            // `expects_packet` admits no other state.
            other => self.fail(LoginError::UnexpectedEvent {
                event: "Packet",
                state: other.name(),
            }),
        }
    }

    fn on_err(&mut self, payload: &[u8]) {
        match ErrPacket::parse(payload) {
            Ok(err) => self.fail(LoginError::Refused(err)),
            Err(error) => self.fail(LoginError::Malformed {
                what: "ERR packet",
                error,
            }),
        }
    }

    fn on_ok(&mut self, plugin: Plugin, auth_path: AuthPath, payload: &[u8]) {
        let ok = match OkPacket::parse(payload) {
            Ok(ok) => ok,
            Err(error) => {
                return self.fail(LoginError::Malformed {
                    what: "OK packet",
                    error,
                })
            }
        };
        let Some(g) = self.greeting.take() else {
            return self.fail(LoginError::UnexpectedEvent {
                event: "Packet",
                state: "ExpectAuthResult",
            });
        };
        self.state = State::Done;
        self.out.push(ClientAction::Done(LoginOk {
            capabilities: self.caps,
            connection_id: g.connection_id,
            server_version: g.server_version,
            server_character_set: g.character_set,
            status_flags: ok.status_flags,
            plugin,
            auth_path,
        }));
    }

    /// HandshakeV10, or an ERR sent instead of it (too many connections, host blocked).
    fn on_greeting(&mut self, payload: &[u8]) {
        if payload.first() == Some(&0xFF) {
            return self.on_err(payload);
        }
        if self.params.user.contains('\0') {
            return self.fail(LoginError::NulInName("user name"));
        }
        if self
            .params
            .database
            .as_deref()
            .is_some_and(|d| d.contains('\0'))
        {
            return self.fail(LoginError::NulInName("database"));
        }
        let g = match HandshakeV10::parse(payload) {
            Ok(g) => g,
            Err(error) => {
                return self.fail(LoginError::Malformed {
                    what: "HandshakeV10",
                    error,
                })
            }
        };
        for (flag, name) in [
            (CLIENT_PROTOCOL_41, "CLIENT_PROTOCOL_41"),
            (CLIENT_SECURE_CONNECTION, "CLIENT_SECURE_CONNECTION"),
            (CLIENT_PLUGIN_AUTH, "CLIENT_PLUGIN_AUTH"),
        ] {
            if g.capabilities & flag == 0 {
                return self.fail(LoginError::MissingCapability(name));
            }
        }
        if self.params.tls && g.capabilities & CLIENT_SSL == 0 {
            return self.fail(LoginError::TlsUnavailable);
        }
        // CLIENT_LONG_PASSWORD stays when asked for: MariaDB clears it in its greeting (its
        // CLIENT_MYSQL bit) and reads a client that sets it as a MySQL client, without MariaDB
        // extended capabilities (docs/proxy.md §3.1).
        let offered = g.capabilities | CLIENT_LONG_PASSWORD;
        let mut caps = (self.params.capabilities & offered & !NEVER_REQUESTED)
            | REQUIRED_SERVER_CAPABILITIES
            | (g.capabilities & CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA);
        if self.params.database.is_some() && g.capabilities & CLIENT_CONNECT_WITH_DB != 0 {
            caps |= CLIENT_CONNECT_WITH_DB;
        }
        if self.params.tls {
            caps |= CLIENT_SSL;
        }
        self.caps = caps;
        self.greeting = Some(Greeting {
            connection_id: g.connection_id,
            server_version: String::from_utf8_lossy(&g.server_version).into_owned(),
            character_set: g.character_set,
            plugin: Plugin::from_name(&g.auth_plugin_name),
            nonce: Nonce::from_wire(g.nonce),
        });
        if self.params.tls {
            let ssl = encode_ssl_request(&self.header());
            self.send(&ssl);
            self.out.push(ClientAction::StartTls);
            self.state = State::ExpectTls;
        } else {
            self.send_response();
        }
    }

    fn header(&self) -> ClientHeader {
        ClientHeader {
            capabilities: self.caps,
            max_packet_size: self.params.max_packet_size,
            character_set: self.params.character_set,
        }
    }

    /// HandshakeResponse41: the greeting's plugin if the credential can answer it (so a
    /// matching account logs in without a switch), else the credential's natural plugin with
    /// an answer over the greeting's nonce, which the server replaces by a switch.
    fn send_response(&mut self) {
        let Some(g) = self.greeting.as_ref() else {
            return self.fail(LoginError::UnexpectedEvent {
                event: "TlsEstablished",
                state: "ExpectTls",
            });
        };
        let plugin = match g.plugin {
            Some(p) if self.params.credential.can_answer(p) => p,
            _ => self.params.credential.natural_plugin(),
        };
        let Some(auth_response) = self.params.credential.scramble(plugin, &g.nonce) else {
            return self.fail(LoginError::CredentialUnsuitable {
                plugin,
                credential: self.params.credential.kind(),
            });
        };
        let response = HandshakeResponse41 {
            header: self.header(),
            username: self.params.user.as_bytes().to_vec(),
            auth_response: auth_response.to_vec(),
            database: self
                .params
                .database
                .as_ref()
                .filter(|_| self.caps & CLIENT_CONNECT_WITH_DB != 0)
                .map(|d| d.as_bytes().to_vec()),
            client_plugin: Some(plugin.name().as_bytes().to_vec()),
            connect_attrs: Vec::new(),
            zstd_level: None,
        };
        let bytes = Zeroizing::new(response.encode());
        drop(response);
        self.send(&bytes);
        self.state = State::ExpectAuthResult(AuthCtx {
            plugin,
            switched: false,
            empty: auth_response.is_empty(),
        });
    }

    fn on_auth_result(&mut self, ctx: AuthCtx, payload: &[u8]) {
        let path = AuthPath::Other;
        match payload.first() {
            Some(0x00) => self.on_ok(ctx.plugin, path, payload),
            Some(0xFF) => self.on_err(payload),
            Some(0xFE) if ctx.switched => self.fail(LoginError::SecondSwitch),
            Some(0xFE) => self.on_switch(payload),
            Some(0x01) if ctx.plugin == Plugin::CachingSha2Password && !ctx.empty => {
                self.on_more_data(payload)
            }
            first => self.fail(LoginError::UnexpectedPacket {
                first: first.copied().unwrap_or(0),
                state: "ExpectAuthResult",
            }),
        }
    }

    /// AuthSwitchRequest: restart with the named plugin over the switch's own nonce (20 bytes
    /// and the NUL MySQL appends, docs/protocol.md, "Plugin selection and AuthSwitchRequest").
    fn on_switch(&mut self, payload: &[u8]) {
        let sw = match AuthSwitchRequest::parse(payload) {
            Ok(sw) => sw,
            Err(error) => {
                return self.fail(LoginError::Malformed {
                    what: "AuthSwitchRequest",
                    error,
                })
            }
        };
        let Some(plugin) = Plugin::from_name(&sw.plugin_name)
            .filter(|p| matches!(p, Plugin::MysqlNativePassword | Plugin::CachingSha2Password))
        else {
            return self.fail(LoginError::UnsupportedPlugin(
                String::from_utf8_lossy(&sw.plugin_name).into_owned(),
            ));
        };
        let data = match sw.plugin_data.split_last() {
            Some((0, rest)) if rest.len() == auth::NONCE_LEN => rest,
            _ => sw.plugin_data.as_slice(),
        };
        let Ok(nonce) = <[u8; auth::NONCE_LEN]>::try_from(data) else {
            return self.fail(LoginError::Malformed {
                what: "AuthSwitchRequest",
                error: WireError::Unexpected("auth switch nonce length"),
            });
        };
        let nonce = Nonce::from_wire(nonce);
        if let Some(g) = self.greeting.as_mut() {
            g.nonce = nonce;
        }
        let Some(answer) = self.params.credential.scramble(plugin, &nonce) else {
            return self.fail(LoginError::CredentialUnsuitable {
                plugin,
                credential: self.params.credential.kind(),
            });
        };
        self.send(&answer);
        self.state = State::ExpectAuthResult(AuthCtx {
            plugin,
            switched: true,
            empty: answer.is_empty(),
        });
    }

    /// caching_sha2_password's AuthMoreData: `03` fast path, `04` full authentication.
    fn on_more_data(&mut self, payload: &[u8]) {
        match payload.get(1..) {
            Some([FAST_AUTH_SUCCESS]) => {
                self.state =
                    State::ExpectFinalResult(Plugin::CachingSha2Password, AuthPath::FastPath);
            }
            Some([PERFORM_FULL_AUTHENTICATION]) => {
                if !self.params.tls {
                    return self.fail(LoginError::FullAuthNeedsTls);
                }
                let Credential::Password(pw) = &self.params.credential else {
                    return self.fail(LoginError::FullAuthNeedsPassword);
                };
                let mut clear = Zeroizing::new(Vec::with_capacity(pw.len() + 1));
                clear.extend_from_slice(pw);
                clear.push(0);
                self.send(&clear);
                self.state = State::ExpectFinalResult(Plugin::CachingSha2Password, AuthPath::Full);
            }
            _ => self.fail(LoginError::Malformed {
                what: "AuthMoreData",
                error: WireError::Unexpected("caching_sha2_password status byte"),
            }),
        }
    }
}

/// Fuzz body: a backend login fed arbitrary server packets never panics, ends after at most
/// one `Done` or `Failed`, and refuses every event after that.
///
/// `data` is cut into packets as `[len, seq, payload…]`; the first byte picks the credential,
/// TLS and whether a TlsEstablished is fed after each StartTls. Unlike the core this function
/// **panics** when an invariant is violated: that is how a fuzzer notices.
#[allow(clippy::panic)] // Panicking on a broken invariant is this function's purpose.
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub fn fuzz_login(data: &[u8]) {
    let (mode, mut rest) = match data.split_first() {
        Some((m, r)) => (*m, r),
        None => (0, data),
    };
    let credential = match mode & 3 {
        0 => Credential::password(*b"secret"),
        1 => Credential::NativeHash([7; 20]),
        2 => Credential::Sha256Hash([9; 32]),
        _ => Credential::password(Vec::new()),
    };
    let mut params = LoginParams::new("app", credential);
    params.tls = mode & 4 != 0;
    params.database = (mode & 8 != 0).then(|| "db".to_owned());
    params.capabilities = u32::MAX;
    let mut login = Login::new(params);
    let mut ended = false;
    while let Some((&len, r)) = rest.split_first() {
        let Some((&seq, r)) = r.split_first() else {
            break;
        };
        let n = usize::from(len).min(r.len());
        let (payload, r) = r.split_at(n);
        rest = r;
        let mut actions = login.handle(ClientEvent::Packet { seq, payload });
        if actions.iter().any(|a| matches!(a, ClientAction::StartTls)) {
            actions.extend(login.handle(ClientEvent::TlsEstablished));
        }
        let ends = actions
            .iter()
            .filter(|a| matches!(a, ClientAction::Done(_) | ClientAction::Failed(_)))
            .count();
        if ended {
            assert!(
                matches!(
                    actions.as_slice(),
                    [ClientAction::Failed(LoginError::UnexpectedEvent { .. })]
                ),
                "event after the end: {actions:?}"
            );
        } else {
            assert!(ends <= 1, "two ends: {actions:?}");
            if let Some(last) = actions.last() {
                if matches!(last, ClientAction::Done(_) | ClientAction::Failed(_)) {
                    ended = true;
                }
            }
            if ends == 1 {
                assert!(login.is_finished(), "ended but not finished");
            }
        }
    }
}

#[cfg(test)]
mod server_tests;
#[cfg(test)]
mod tests;
