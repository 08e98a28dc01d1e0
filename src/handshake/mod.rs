//! The connection-phase state machine: greeting, optional TLS upgrade, plugin negotiation and
//! the three password plugins, post-authentication checks — and COM_CHANGE_USER, which re-runs
//! the same exchange inside the command phase.
//!
//! Owns: every decision of the connection phase (which packet to send, whether a cleartext password
//! may be accepted, when the cache may be filled). Never does: I/O, hashing work that takes
//! milliseconds (SHA-256-crypt and RSA are handed out as [`SlowCheck`]s for the driver to run off
//! its reactor), clock reads or randomness (nonces come in through [`ServerParams`]).
//!
//! The driver feeds [`Event`]s to [`Handshake::handle`] and carries out the returned [`Action`]s in
//! order. States are named after what they expect next:
//!
//! ```text
//!  new() ──greeting──▶ ExpectFirstPacket ──SSLRequest──▶ ExpectTls ──TlsEstablished──▶ ExpectResponseInTls
//!                          │ HandshakeResponse41                                           │ HandshakeResponse41
//!                          ▼                                                               ▼
//!                      ExpectAccount ◀─────────────────────────────────────────────────────┘
//!                          │ Account(lookup)
//!          ┌───────────────┼─────────────────────────────┐
//!          │ plugin differs│ same plugin                  │ empty / fast-path hit / native
//!          ▼               ▼                              ▼
//!  ExpectSwitchResponse ─▶ (plugin step) ──01 04──▶ ExpectFullAuth ──02──▶ ExpectRsaCiphertext
//!                               │                        │ cleartext (secure)     │ ciphertext
//!                               │                        ▼                        ▼
//!                               │                    ExpectVerdict ◀──────────────┘
//!                               ▼                        │ Verdict
//!                     post-auth checks ◀─────────────────┘
//!                               │
//!                       Done (OK sent) | Failed (ERR sent, Close)
//! ```
//!
//! Sequence ids run continuously through the whole exchange (docs/protocol.md, "Packets and
//! sequence ids"): the machine tracks the next id and checks every client packet against it.

pub mod drive;
mod error;
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzz;
pub use error::{clip, HandshakeError};

use std::sync::Arc;

use zeroize::Zeroizing;

use crate::account::{Account, Require};
use crate::auth::{self, AuthString, CachedDigest, Nonce, Plugin};
use crate::wire::capabilities::*;
use crate::wire::command::ChangeUser;
use crate::wire::frame::{self, FrameDecoder, FrameError, Header};
use crate::wire::handshake::{
    encode_auth_more_data, AuthSwitchRequest, FirstClientPacketRef, HandshakeResponse41,
    HandshakeResponse41Ref, HandshakeV10, AUTH_MORE_DATA, CACHING_SHA2_REQUEST_PUBLIC_KEY,
    FAST_AUTH_SUCCESS, PERFORM_FULL_AUTHENTICATION, SHA256_REQUEST_PUBLIC_KEY,
};
use crate::wire::packets::ErrPacket;

/// Longest connection-phase payload accepted: a HandshakeResponse41 with 64 KiB of connect
/// attributes, or an RSA-4096 ciphertext, fits; anything larger is refused on its header.
pub const CONNECTION_PHASE_MAX_PACKET: usize = 70 * 1024;
/// MySQL refuses to store passwords over 256 bytes; longer cleartext is never hashed.
pub const MAX_PASSWORD_LEN: usize = 256;

/// How the client reached the server, as the *server* sees it (docs/protocol.md, "Secure
/// transports").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Transport {
    /// TCP: secure only once TLS is up.
    Tcp,
    /// The Unix socket: a secure transport for caching_sha2_password and
    /// `require_secure_transport`, not for sha256_password or `REQUIRE SSL`.
    Unix,
}

/// The negotiated TLS session, described by the driver once the TLS handshake has finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsInfo {
    /// `TLSv1.2` or `TLSv1.3` (what `Ssl_version` shows).
    pub version: String,
    /// OpenSSL name for TLS 1.2, IANA name for TLS 1.3 (what `Ssl_cipher` shows).
    pub cipher: String,
    /// The client certificate, if one was presented (it has then been verified against `ssl_ca`).
    pub peer_cert: Option<PeerCert>,
    /// The TLS session was resumed (a ticket or the session cache), not a full handshake
    /// (`Ssl_sessions_reused`).
    pub resumed: bool,
}

/// A plain description of a verified client certificate, for REQUIRE checks (docs/protocol.md,
/// "Per-account REQUIRE").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerCert {
    /// OpenSSL one-line DN, `/C=US/O=Acme/CN=client`.
    pub subject: String,
    /// The issuer's DN in the same form (`REQUIRE ISSUER` compares it exactly).
    pub issuer: String,
    /// subjectAltName entries as `DNS:x`, `IP:1.2.3.4`, `URI:…`, `email:…`.
    pub san: Vec<String>,
}

/// The server's RSA public key for password exchange on insecure channels (docs/protocol.md, "RSA
/// key exchange").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RsaPublicKey {
    /// SubjectPublicKeyInfo PEM, sent verbatim in AuthMoreData.
    pub pem: Arc<str>,
    /// Ciphertext length the key produces (256 for RSA-2048).
    pub modulus_len: usize,
}

/// What the driver knows about the server and this connection when it starts the machine.
#[derive(Debug, Clone)]
pub struct ServerParams {
    /// The greeting's version string (docs/protocol.md, "Server version string").
    pub server_version: String,
    /// The greeting's connection id.
    pub connection_id: u32,
    /// A usable TLS configuration exists: CLIENT_SSL is advertised.
    pub tls_available: bool,
    /// How the client reached the server (the socket is a secure transport).
    pub transport: Transport,
    /// Client host as shown in messages and USER(): `localhost` for the socket and loopback.
    pub client_host: Arc<str>,
    /// Plugin named in the greeting.
    pub default_plugin: Plugin,
    /// caching_sha2_password's RSA public key; `None`: RSA key exchange unavailable for it.
    pub rsa: Option<RsaPublicKey>,
    /// sha256_password's RSA public key (its own key pair: `sha256_password_public_key_path`);
    /// `None`: RSA key exchange unavailable for it.
    pub rsa_sha256: Option<RsaPublicKey>,
    /// `require_secure_transport`: a login over plain TCP gets 3159 after its password
    /// checked out (docs/protocol.md, "Post-authentication checks").
    pub require_secure_transport: bool,
    /// The connection holds the extra slot MySQL keeps beyond `max_connections` for an
    /// administrator: only an account with the admin privilege may finish logging in; any
    /// other gets 1040 after its password checked out (the order of MySQL's
    /// `acl_authenticate()`). Always `false` for COM_CHANGE_USER, which MySQL does not count.
    pub reserved_admin_slot: bool,
    /// Ask the driver to admit the session ([`Action::Admit`]) after every login check and
    /// before the client gets its OK, so that the backend behind the door can still refuse it
    /// with an error packet. `false`: the OK follows the checks at once.
    pub admission: bool,
    /// Derive [`Session::login_secret`] from the client's answer (proxy mode's pass-through);
    /// never done otherwise.
    pub derive_secret: bool,
    /// The time of the login, Unix seconds (password expiry; the machine reads no clock).
    pub now_secs: u64,
    /// The global `default_password_lifetime`, days (0: passwords never expire by age).
    pub default_password_lifetime: u32,
    /// The global `disconnect_on_expired_password`.
    pub disconnect_on_expired_password: bool,
    /// Schemas a client may name as its default database (1049 for any other, after every other
    /// check); `None`: not checked here — the session carries the name and the backend decides
    /// at admission.
    pub databases: Option<Arc<[String]>>,
    /// Nonce of the greeting (already post-processed by [`Nonce::from_random`]). For
    /// [`Handshake::change_user`] it must be the connection's own, [`Session::nonce`]: the
    /// switch carries it and every plugin checks against it.
    pub nonce: Nonce,
    /// Nonce for an AuthSwitchRequest of a new connection, if one is needed (MySQL's plugin
    /// draws a fresh one there). Also the salt of an unknown user's decoy hash.
    pub switch_nonce: Nonce,
    /// SHA-256-crypt rounds of new caching_sha2_password hashes
    /// (`caching_sha2_password_digest_rounds`): an unknown user's decoy hash costs as many, so
    /// its full authentication takes as long as a real account's (docs/security.md).
    pub digest_rounds: u32,
    /// Capability flags the greeting offers (without CLIENT_SSL, which follows
    /// `tls_available`): at most [`SERVER_CAPABILITIES`], and always the ones the exchange
    /// needs ([`REQUIRED_CAPABILITIES`]). An embedder may leave out, say,
    /// CLIENT_DEPRECATE_EOF or CLIENT_MULTI_STATEMENTS.
    pub capabilities: u32,
    /// The collation id the greeting names as the server's character set (255,
    /// utf8mb4_0900_ai_ci, as MySQL 8.0).
    pub character_set: u8,
}

impl ServerParams {
    /// The RSA public key of `plugin`'s own key pair (mysql_native_password has none).
    pub fn rsa_for(&self, plugin: Plugin) -> Option<&RsaPublicKey> {
        match plugin {
            Plugin::CachingSha2Password => self.rsa.as_ref(),
            Plugin::Sha256Password => self.rsa_sha256.as_ref(),
            Plugin::MysqlNativePassword => None,
        }
    }
}

/// Result of the driver's account lookup (user name + client host, most specific match).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Lookup {
    /// The most specific account matching user and host.
    Found {
        /// The account as stored now.
        account: Arc<Account>,
        /// The caching_sha2_password cache entry for this account, if any (slot 0: the
        /// primary password).
        cached: Option<CachedDigest>,
        /// The cache's second slot: the secondary password's digest (dual passwords).
        cached_secondary: Option<CachedDigest>,
    },
    /// No account matches: the exchange continues against a decoy that can never authenticate
    /// (docs/protocol.md, "Unknown users and the decoy"), with a plugin chosen per user@host by
    /// [`crate::account::decoy_plugin`].
    Unknown {
        /// The decoy's plugin for this user@host.
        decoy_plugin: Plugin,
    },
}

/// Verification work too slow for the reactor: SHA-256-crypt (milliseconds) and RSA decryption.
/// Run it with [`SlowCheck::run`] on a blocking pool and feed the [`Verdict`] back.
#[derive(Clone)]
pub struct SlowCheck {
    /// The plugin whose exchange this is: an RSA ciphertext is decrypted with its key pair.
    pub plugin: Plugin,
    /// The password as received: cleartext, or RSA ciphertext.
    pub secret: SlowSecret,
    /// The account's stored string the password is checked against (a decoy's for an
    /// unknown user).
    pub auth_string: AuthString,
    /// Nonce the client used to obfuscate an RSA-encrypted password.
    pub nonce: Nonce,
    /// Hand the decrypted password back in [`Verdict::cleartext`] when it verifies (proxy
    /// mode's pass-through, [`ServerParams::derive_secret`]); never otherwise.
    pub keep_cleartext: bool,
}

impl std::fmt::Debug for SlowCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.secret {
            SlowSecret::Cleartext(_) => "cleartext",
            SlowSecret::RsaCiphertext(_) => "rsa",
        };
        f.debug_struct("SlowCheck")
            .field("kind", &kind)
            .finish_non_exhaustive()
    }
}

/// The password material of a [`SlowCheck`].
#[derive(Clone)]
pub enum SlowSecret {
    /// Cleartext received over a secure transport (trailing NUL already removed).
    Cleartext(Zeroizing<Vec<u8>>),
    /// RSA-OAEP ciphertext of `(password || 0) XOR nonce`.
    RsaCiphertext(Vec<u8>),
}

/// The private half of the RSA key pair, provided by the driver (constant-time implementation).
pub trait RsaDecryptor {
    /// RSAES-OAEP (SHA-1, MGF1-SHA-1, empty label) decryption; `None` on any failure.
    fn decrypt(&self, ciphertext: &[u8]) -> Option<Zeroizing<Vec<u8>>>;
}

/// Outcome of a [`SlowCheck`].
#[derive(Clone)]
pub struct Verdict {
    /// The password matched the stored string.
    pub password_ok: bool,
    /// SHA256(SHA256(password)) when the password verified: the cache value.
    pub digest: Option<CachedDigest>,
    /// The password itself, when it verified and [`SlowCheck::keep_cleartext`] asked for it.
    pub cleartext: Option<Zeroizing<Vec<u8>>>,
}

impl std::fmt::Debug for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verdict")
            .field("password_ok", &self.password_ok)
            .finish_non_exhaustive()
    }
}

impl SlowCheck {
    /// Decrypts (RSA path) and verifies the password against the stored SHA-256-crypt string.
    pub fn run(&self, rsa: Option<&dyn RsaDecryptor>) -> Verdict {
        let password = match &self.secret {
            SlowSecret::Cleartext(p) => p.clone(),
            SlowSecret::RsaCiphertext(ct) => match rsa.and_then(|k| k.decrypt(ct)) {
                Some(plain) => auth::password_from_rsa_plaintext(&plain, &self.nonce),
                None => {
                    // Equalise the work of a failed decryption with a wrong password.
                    let _ = self.auth_string.verify_cleartext(b"\x01");
                    return Verdict {
                        password_ok: false,
                        digest: None,
                        cleartext: None,
                    };
                }
            },
        };
        if password.is_empty() || password.len() > MAX_PASSWORD_LEN {
            let _ = self.auth_string.verify_cleartext(b"\x01");
            return Verdict {
                password_ok: false,
                digest: None,
                cleartext: None,
            };
        }
        let ok = self.auth_string.verify_cleartext(&password);
        Verdict {
            password_ok: ok,
            digest: ok.then(|| auth::caching_sha2::cached_digest(&password)),
            cleartext: (ok && self.keep_cleartext).then_some(password),
        }
    }
}

/// What the client ends up as after a successful login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// User name as sent by the client (USER()).
    pub user: String,
    /// The matched account as it was at login (CURRENT_USER() is its user and host).
    pub account: Arc<Account>,
    /// The client's host as the server knows it (USER()'s host part; `localhost` for the
    /// socket).
    pub client_host: Arc<str>,
    /// The default database (DATABASE()), checked to exist at login.
    pub database: Option<String>,
    /// The client's capability flags from its HandshakeResponse41.
    pub client_capabilities: u32,
    /// The client's collation id from its HandshakeResponse41.
    pub character_set: u8,
    /// The plugin that authenticated the login (the account's).
    pub plugin: Plugin,
    /// The TLS session, if the connection uses TLS.
    pub tls: Option<TlsInfo>,
    /// How the client reached the server.
    pub transport: Transport,
    /// Which caching_sha2_password path authenticated the login.
    pub auth_path: AuthPath,
    /// The nonce the client last answered (the greeting's, or that of the AuthSwitchRequest).
    /// COM_CHANGE_USER authenticates against it again: MySQL draws no new scramble for it, and
    /// libmariadb's `mysql_change_user()` answers mysql_native_password with the scramble it
    /// last received, whatever the switch carries (docs/protocol.md, "COM_CHANGE_USER").
    pub nonce: Nonce,
    /// What the client's answer proves about its password, for a backend that logs in as the
    /// client (proxy mode's pass-through, docs/proxy.md §4.2): SHA1(pw) from a
    /// mysql_native_password scramble, SHA256(pw) from a caching_sha2_password fast path, the
    /// cleartext from a full authentication over a secure transport. Only with
    /// [`ServerParams::derive_secret`]; the driver drops it once admission has answered.
    pub login_secret: Option<crate::client::Credential>,
    /// The password has expired and the client can handle it: the session is sandboxed, and
    /// only `ALTER USER … IDENTIFIED BY`, `SET PASSWORD` and `SET` may run (others get 1820).
    pub password_expired: bool,
    /// The login matched the account's secondary password (dual passwords: MySQL logs it).
    pub secondary_password: bool,
}

impl Session {
    /// A session of `account` (its user name as sent) over the socket, for unit tests: no TLS,
    /// no database, the 4.1 protocol, utf8mb4; tests change what they need with `..`.
    #[cfg(test)]
    pub(crate) fn for_tests(account: Arc<crate::account::Account>) -> Session {
        Session {
            user: account.user.clone(),
            plugin: account.plugin,
            account,
            client_host: "localhost".into(),
            database: None,
            client_capabilities: crate::wire::capabilities::CLIENT_PROTOCOL_41,
            character_set: 255,
            tls: None,
            transport: Transport::Unix,
            auth_path: AuthPath::Full,
            nonce: Nonce::from_wire([7; 20]),
            login_secret: None,
            password_expired: false,
            secondary_password: false,
        }
    }

    /// User part of CURRENT_USER().
    pub fn account_user(&self) -> &str {
        &self.account.user
    }

    /// Host part of CURRENT_USER().
    pub fn account_host(&self) -> &str {
        &self.account.host
    }
}

/// The OK packet that ends a login: no rows, no insert id, SERVER_STATUS_AUTOCOMMIT, no
/// warnings (the encoder's output, kept as bytes because every login sends it).
const LOGIN_OK: [u8; 7] = [0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00];

/// How a login's password was checked, for the `Caching_sha2_password_fast_path_auths` /
/// `…_full_auths` counters (docs/protocol.md, "caching_sha2_password: fast path and full
/// authentication").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthPath {
    /// caching_sha2_password answered from the cache (`01 03`).
    FastPath,
    /// A full authentication verified the password against the stored hash (cleartext or RSA).
    Full,
    /// mysql_native_password scramble, or an account without password.
    Other,
}

/// Inputs to the machine.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event<'a> {
    /// One complete client payload with the sequence id of its header.
    Packet {
        /// The header's sequence id (the machine checks it).
        seq: u8,
        /// The payload, continuation packets joined.
        payload: &'a [u8],
    },
    /// The TLS handshake the machine asked for with [`Action::StartTls`] completed.
    TlsEstablished(TlsInfo),
    /// Answer to [`Action::LookupAccount`].
    Account(Lookup),
    /// Answer to [`Action::RunSlowCheck`].
    Verdict(Verdict),
    /// Answer to [`Action::Admit`]: `Ok` hands the session back and sends the OK, an error
    /// packet refuses the login with it (and closes the connection).
    Admission(Result<Box<Session>, ErrPacket>),
    /// Answer to [`Action::TrackFailedLogins`].
    LockState(LockState),
    /// Answer to [`Action::Admit`]: the backend needs the client's cleartext password
    /// (docs/proxy.md §4.2c). After a caching_sha2_password fast path whose `01 03` was held
    /// back for admission, the machine answers `01 04` instead and runs full authentication,
    /// then asks for admission again; anywhere else it is an unexpected event.
    CleartextNeeded,
}

impl Event<'_> {
    fn name(&self) -> &'static str {
        match self {
            Event::Packet { .. } => "Packet",
            Event::TlsEstablished(_) => "TlsEstablished",
            Event::Account(_) => "Account",
            Event::Verdict(_) => "Verdict",
            Event::Admission(_) => "Admission",
            Event::CleartextNeeded => "CleartextNeeded",
            Event::LockState(_) => "LockState",
        }
    }
}

/// Whether an account with FAILED_LOGIN_ATTEMPTS is blocked ([`Event::LockState`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LockState {
    /// Not blocked: the verdict stands.
    Open,
    /// Blocked (by this failure or an earlier one): 3955 whatever the password.
    Blocked {
        /// `PASSWORD_LOCK_TIME` in days; `None` for UNBOUNDED.
        lock_days: Option<u32>,
        /// Days left; `None` for UNBOUNDED.
        remaining_days: Option<u32>,
        /// `FAILED_LOGIN_ATTEMPTS`.
        attempts: u32,
    },
}

/// Outputs, to be carried out in order.
#[derive(Debug)]
#[non_exhaustive]
pub enum Action {
    /// Write these framed bytes (one or more packets) to the client (inside TLS once TLS is
    /// established).
    Send(Vec<u8>),
    /// Run the server side of a TLS handshake on the socket, then deliver [`Event::TlsEstablished`].
    StartTls,
    /// Find the account for this user name and the connection's client host, then deliver
    /// [`Event::Account`] (with the cache entry).
    LookupAccount {
        /// The user name the client sent.
        user: String,
    },
    /// Run this check off the reactor, then deliver [`Event::Verdict`].
    RunSlowCheck(SlowCheck),
    /// Put this digest into the caching_sha2_password cache for the account (a full
    /// authentication succeeded) — but only if the account still has the stored string the
    /// password was verified against: an `ALTER USER`/`DROP USER` that landed while the check
    /// ran must not be undone by a stale fill. [`fill_cache_if_current`] does exactly that.
    FillCache {
        /// The account's user name.
        user: String,
        /// The account's host pattern.
        host: String,
        /// The cache slot: 0 for the primary password, 1 for the secondary.
        slot: usize,
        /// SHA256(SHA256(password)).
        digest: CachedDigest,
        /// The stored string the password was verified against.
        verified: AuthString,
    },
    /// The password check of an account with FAILED_LOGIN_ATTEMPTS and PASSWORD_LOCK_TIME:
    /// update its consecutive-failure counter (a success resets it, a failure counts, the
    /// `attempts`th failure blocks the account for `lock_days`, `None` = UNBOUNDED), then
    /// deliver [`Event::LockState`]: whether the account is blocked now.
    TrackFailedLogins {
        /// The account's user name.
        user: String,
        /// The account's host pattern.
        host: String,
        /// The plugin's verdict.
        password_ok: bool,
        /// `FAILED_LOGIN_ATTEMPTS`.
        attempts: u32,
        /// `PASSWORD_LOCK_TIME` in days; `None` for UNBOUNDED.
        lock_days: Option<u32>,
    },
    /// Every login check passed (only with [`ServerParams::admission`]): ask the backend
    /// whether it takes this session, then deliver [`Event::Admission`].
    Admit(Box<Session>),
    /// The login succeeded; the OK packet has been queued before this action.
    Authenticated(Box<Session>),
    /// The account's REQUIRE clause was not met (for the server log only: the client gets the
    /// ordinary 1045, which follows).
    RequireNotMet(RequireFailure),
    /// The login failed with this error (its ERR packet, if any, has been queued before).
    Failed(HandshakeError),
    /// Close the connection.
    Close,
}

/// Everything the plugin exchange needs once the account is known.
#[derive(Clone)]
struct AuthCtx {
    user: String,
    database: Option<String>,
    client_caps: u32,
    charset: u8,
    tls: Option<TlsInfo>,
    /// `None` for the decoy of an unknown user.
    account: Option<Arc<Account>>,
    cached: Option<CachedDigest>,
    plugin: Plugin,
    /// Nonce of the greeting or of the AuthSwitchRequest the client is answering.
    nonce: Nonce,
    using_password: bool,
    rsa_key_sent: bool,
    /// See [`Session::login_secret`].
    secret: Option<crate::client::Credential>,
    /// The caching_sha2_password cache's second slot (the secondary password's digest).
    cached_secondary: Option<CachedDigest>,
    /// The password matched (or, during a full authentication, is being tried against) the
    /// secondary.
    secondary_used: bool,
    /// A full authentication's password material, kept until the verdict so a dual-password
    /// account can be tried against its secondary.
    slow_secret: Option<SlowSecret>,
}

impl AuthCtx {
    fn auth_string(&self, params: &ServerParams) -> AuthString {
        match &self.account {
            Some(a) => a.auth_string.clone(),
            None => decoy_auth_string(self.plugin, params),
        }
    }
}

/// A stored string that can never verify, so a decoy login costs what a real one costs.
fn decoy_auth_string(plugin: Plugin, params: &ServerParams) -> AuthString {
    let salt = *params.switch_nonce.as_bytes();
    match plugin {
        Plugin::MysqlNativePassword => AuthString::Native { hash: [0; 20] },
        Plugin::Sha256Password => AuthString::Sha256 {
            salt: salt.to_vec(),
            digest: [b'.'; 43],
        },
        Plugin::CachingSha2Password => AuthString::CachingSha2 {
            rounds: params.digest_rounds,
            salt,
            digest: [b'.'; 43],
        },
    }
}

enum State {
    ExpectFirstPacket,
    ExpectTls,
    ExpectResponseInTls {
        tls: TlsInfo,
    },
    ExpectAccount(Box<Pending>),
    ExpectSwitchResponse(Box<AuthCtx>),
    ExpectFullAuth(Box<AuthCtx>),
    ExpectRsaCiphertext(Box<AuthCtx>),
    ExpectVerdict(Box<AuthCtx>),
    /// The driver is updating the failed-login counter ([`Action::TrackFailedLogins`]): the
    /// context, the plugin's verdict and the path.
    ExpectLockVerdict(Box<AuthCtx>, bool, AuthPath),
    /// Every check passed; the driver is asking the backend ([`Action::Admit`]).
    ExpectAdmission,
    Done,
    Failed,
}

/// A client's first auth response, kept until its account is known: inline up to 32 bytes (a
/// scramble; no allocation on the fast path), on the heap beyond; zeroized either way.
enum AuthBytes {
    Inline(u8, [u8; 32]),
    Heap(Zeroizing<Vec<u8>>),
}

impl AuthBytes {
    fn new(bytes: &[u8]) -> AuthBytes {
        let mut inline = [0u8; 32];
        match (inline.get_mut(..bytes.len()), u8::try_from(bytes.len())) {
            (Some(dst), Ok(len)) => {
                dst.copy_from_slice(bytes);
                AuthBytes::Inline(len, inline)
            }
            _ => AuthBytes::Heap(Zeroizing::new(bytes.to_vec())),
        }
    }

    fn as_slice(&self) -> &[u8] {
        match self {
            AuthBytes::Inline(len, b) => b.get(..usize::from(*len)).unwrap_or_default(),
            AuthBytes::Heap(v) => v,
        }
    }
}

impl Drop for AuthBytes {
    fn drop(&mut self) {
        if let AuthBytes::Inline(_, b) = self {
            zeroize::Zeroize::zeroize(b);
        }
    }
}

/// A client response waiting for its account.
struct Pending {
    user: String,
    auth_response: AuthBytes,
    /// The plugin the client named, with CLIENT_PLUGIN_AUTH (`Some(None)`: one Vestibule does not
    /// know, or none).
    client_plugin: Option<Option<Plugin>>,
    database: Option<String>,
    client_caps: u32,
    charset: u8,
    tls: Option<TlsInfo>,
    /// COM_CHANGE_USER: always switch, with the connection's own nonce (MySQL's
    /// `acl_authenticate()` draws a new scramble only for a new connection; libmariadb's
    /// `mysql_change_user()` answers with the greeting's scramble even after a switch).
    force_switch: bool,
}

impl State {
    fn name(&self) -> &'static str {
        match self {
            State::ExpectFirstPacket => "ExpectFirstPacket",
            State::ExpectTls => "ExpectTls",
            State::ExpectResponseInTls { .. } => "ExpectResponseInTls",
            State::ExpectAccount(_) => "ExpectAccount",
            State::ExpectSwitchResponse(_) => "ExpectSwitchResponse",
            State::ExpectFullAuth(_) => "ExpectFullAuth",
            State::ExpectRsaCiphertext(_) => "ExpectRsaCiphertext",
            State::ExpectVerdict(_) => "ExpectVerdict",
            State::ExpectLockVerdict(..) => "ExpectLockVerdict",
            State::ExpectAdmission => "ExpectAdmission",
            State::Done => "Done",
            State::Failed => "Failed",
        }
    }

    fn expects_packet(&self) -> bool {
        matches!(
            self,
            State::ExpectFirstPacket
                | State::ExpectResponseInTls { .. }
                | State::ExpectSwitchResponse(_)
                | State::ExpectFullAuth(_)
                | State::ExpectRsaCiphertext(_)
        )
    }
}

/// One connection phase (or one COM_CHANGE_USER exchange).
pub struct Handshake {
    params: ServerParams,
    state: State,
    /// A caching_sha2_password fast path whose `01 03` waits for admission (only with
    /// [`ServerParams::derive_secret`]): admission may ask for the cleartext instead.
    deferred_fast: Option<Box<AuthCtx>>,
    /// Sequence id of the next packet, in either direction.
    seq: u8,
    out: Vec<Action>,
}

/// The capability flags the greeting offers: what the driver asked for within what Vestibule
/// supports, what the exchange needs, and CLIENT_SSL when TLS is available, as MySQL does.
fn offered_capabilities(params: &ServerParams) -> u32 {
    let mut caps = (params.capabilities & SERVER_CAPABILITIES) | REQUIRED_CAPABILITIES;
    if params.tls_available {
        caps |= CLIENT_SSL;
    }
    caps
}

impl Handshake {
    /// Starts a connection: the returned actions send the greeting (seq 0).
    pub fn new(params: ServerParams) -> (Handshake, Vec<Action>) {
        let caps = offered_capabilities(&params);
        let greeting = HandshakeV10 {
            server_version: params.server_version.as_bytes().to_vec(),
            connection_id: params.connection_id,
            nonce: *params.nonce.as_bytes(),
            capabilities: caps,
            character_set: params.character_set,
            status_flags: SERVER_STATUS_AUTOCOMMIT,
            auth_plugin_name: params.default_plugin.name().as_bytes().to_vec(),
        };
        let mut hs = Handshake {
            params,
            deferred_fast: None,
            state: State::ExpectFirstPacket,
            seq: 0,
            out: Vec::new(),
        };
        hs.send(&greeting.encode());
        let out = std::mem::take(&mut hs.out);
        (hs, out)
    }

    /// Starts a COM_CHANGE_USER exchange on an authenticated connection (docs/protocol.md,
    /// "COM_CHANGE_USER"). The command packet had sequence id 0; `tls` is the connection's TLS
    /// session, unchanged.
    pub fn change_user(
        params: ServerParams,
        client_caps: u32,
        tls: Option<TlsInfo>,
        cmd: ChangeUser,
    ) -> (Handshake, Vec<Action>) {
        let mut hs = Handshake {
            params,
            deferred_fast: None,
            state: State::Failed,
            seq: 1,
            out: Vec::new(),
        };
        let user = String::from_utf8_lossy(&cmd.username).into_owned();
        let charset = cmd
            .character_set
            .map(|c| c as u8)
            .unwrap_or(UTF8MB4_0900_AI_CI);
        let database =
            (!cmd.database.is_empty()).then(|| String::from_utf8_lossy(&cmd.database).into_owned());
        hs.out.push(Action::LookupAccount { user: user.clone() });
        hs.state = State::ExpectAccount(Box::new(Pending {
            user,
            auth_response: AuthBytes::new(&cmd.auth_response),
            client_plugin: cmd.client_plugin.as_deref().map(Plugin::from_name),
            database,
            client_caps,
            charset,
            tls,
            force_switch: client_caps & CLIENT_PLUGIN_AUTH != 0,
        }));
        let out = std::mem::take(&mut hs.out);
        (hs, out)
    }

    /// Name of the current state (tests, logs).
    pub fn state_name(&self) -> &'static str {
        self.state.name()
    }

    /// Sequence id the next client packet must carry.
    pub fn expected_seq(&self) -> u8 {
        self.seq
    }

    /// The exchange is over: the login succeeded or failed, and no more events are taken.
    pub fn is_finished(&self) -> bool {
        matches!(self.state, State::Done | State::Failed)
    }

    /// True while the machine waits for a client packet (the driver reads only then).
    pub fn wants_packet(&self) -> bool {
        self.state.expects_packet()
    }

    /// The framing of the packet the machine expects next: a [`FrameDecoder`] at the expected
    /// sequence id, with the connection phase's size limit, refusing a TLS ClientHello in place
    /// of the first packet. A driver reads through it (never past the packet in progress) and
    /// feeds each frame to [`Handshake::handle`], or its error to [`Handshake::framing_error`].
    pub fn frame_decoder(&self) -> FrameDecoder {
        let mut dec = FrameDecoder::new(self.seq, CONNECTION_PHASE_MAX_PACKET);
        dec.detect_tls(matches!(self.state, State::ExpectFirstPacket));
        dec
    }

    /// Ends the exchange for a framing error of [`Handshake::frame_decoder`]: a TLS ClientHello
    /// without SSLRequest is a bad handshake (1043), a wrong sequence id 1156, an oversized
    /// packet 1153.
    pub fn framing_error(&mut self, e: FrameError) -> Vec<Action> {
        self.fail(match e {
            FrameError::OutOfOrder { .. } => HandshakeError::PacketsOutOfOrder,
            FrameError::TooLarge { .. } => HandshakeError::PacketTooLarge,
            _ => HandshakeError::BadHandshake,
        });
        std::mem::take(&mut self.out)
    }

    /// Checks a packet header before its payload is read ([`Handshake::frame_decoder`]'s
    /// checks): a TLS ClientHello in place of the first packet, a wrong sequence id or an
    /// oversized packet fail here, so nothing is buffered.
    pub fn check_header(&mut self, raw: [u8; 4]) -> Result<Header, Vec<Action>> {
        self.frame_decoder()
            .check_header(raw)
            .map_err(|e| self.framing_error(e))
    }

    /// Feeds one event; returns the actions to carry out, in order. Never panics: anything the
    /// state cannot take ends the exchange with an error.
    pub fn handle(&mut self, event: Event<'_>) -> Vec<Action> {
        let mut out = Vec::new();
        self.handle_into(event, &mut out);
        out
    }

    /// [`Handshake::handle`] into a buffer the caller owns: the actions are appended to `out`,
    /// so a driver that keeps one buffer allocates none for them step after step.
    pub fn handle_into(&mut self, event: Event<'_>, out: &mut Vec<Action>) {
        // The machine queues into `self.out`; lend it the caller's buffer for this step.
        std::mem::swap(&mut self.out, out);
        self.step(event);
        std::mem::swap(&mut self.out, out);
    }

    fn step(&mut self, event: Event<'_>) {
        let state = std::mem::replace(&mut self.state, State::Failed);
        let event_name = event.name();
        match (state, event) {
            (state, Event::Packet { seq, payload }) if state.expects_packet() => {
                if seq != self.seq {
                    self.fail(HandshakeError::PacketsOutOfOrder);
                } else if payload.len() > CONNECTION_PHASE_MAX_PACKET {
                    self.fail(HandshakeError::PacketTooLarge);
                } else {
                    self.seq = self.seq.wrapping_add(1);
                    self.on_packet(state, payload);
                }
            }
            (State::ExpectTls, Event::TlsEstablished(tls)) => {
                self.state = State::ExpectResponseInTls { tls };
            }
            (State::ExpectAccount(p), Event::Account(lookup)) => self.on_account(*p, lookup),
            (State::ExpectVerdict(ctx), Event::Verdict(v)) => self.on_verdict(*ctx, v),
            (State::ExpectLockVerdict(ctx, ok, path), Event::LockState(lock)) => {
                self.on_lock_state(*ctx, ok, path, lock)
            }
            (State::ExpectAdmission, Event::CleartextNeeded) => match self.deferred_fast.take() {
                Some(mut ctx) => {
                    ctx.secret = None;
                    self.send(&[AUTH_MORE_DATA, PERFORM_FULL_AUTHENTICATION]);
                    self.state = State::ExpectFullAuth(ctx);
                }
                None => self.fail(HandshakeError::UnexpectedEvent {
                    event: event_name,
                    state: "ExpectAdmission",
                }),
            },
            (State::ExpectAdmission, Event::Admission(verdict)) => match verdict {
                Ok(session) => self.admit(session),
                Err(refusal) => {
                    self.release_fast_ok();
                    self.send(&refusal.encode());
                    self.state = State::Failed;
                    self.out
                        .push(Action::Failed(HandshakeError::Refused(refusal.code)));
                    self.out.push(Action::Close);
                }
            },
            (state, _) => self.fail(HandshakeError::UnexpectedEvent {
                event: event_name,
                state: state.name(),
            }),
        }
    }

    /// Queues a packet; consecutive packets share one buffer (one write: `01 03` + OK).
    fn send(&mut self, payload: &[u8]) {
        if let Some(Action::Send(buf)) = self.out.last_mut() {
            self.seq = frame::encode(self.seq, payload, buf);
            return;
        }
        let mut bytes = Vec::with_capacity(payload.len() + 16);
        self.seq = frame::encode(self.seq, payload, &mut bytes);
        self.out.push(Action::Send(bytes));
    }

    /// Sends the `01 03` a fast path held back for admission (before whatever follows it).
    fn release_fast_ok(&mut self) {
        if self.deferred_fast.take().is_some() {
            self.send(&[AUTH_MORE_DATA, FAST_AUTH_SUCCESS]);
        }
    }

    fn fail(&mut self, e: HandshakeError) {
        self.release_fast_ok();
        if let Some(p) = e.to_err_packet() {
            self.send(&p.encode());
        }
        self.state = State::Failed;
        self.out.push(Action::Failed(e));
        self.out.push(Action::Close);
    }

    fn deny(&mut self, ctx: &AuthCtx) {
        self.fail(HandshakeError::AccessDenied {
            user: clip(&ctx.user, 48),
            host: clip(&self.params.client_host, 64),
            using_password: ctx.using_password,
        });
    }

    fn on_packet(&mut self, state: State, payload: &[u8]) {
        match state {
            State::ExpectFirstPacket => match HandshakeResponse41::parse_first_ref(payload) {
                Ok(FirstClientPacketRef::SslRequest(_)) => {
                    if self.params.tls_available {
                        self.state = State::ExpectTls;
                        self.out.push(Action::StartTls);
                    } else {
                        // MySQL: CLIENT_SSL without a TLS context is a bad handshake, never a
                        // silent fall-back to cleartext (docs/protocol.md, "SSLRequest and TLS").
                        self.fail(HandshakeError::BadHandshake);
                    }
                }
                Ok(FirstClientPacketRef::Response(r)) => {
                    if r.header.capabilities & CLIENT_SSL != 0 {
                        // Asked for TLS but sent a full response in cleartext.
                        self.fail(HandshakeError::BadHandshake);
                    } else {
                        self.on_response(r, None);
                    }
                }
                Err(_) => self.fail(HandshakeError::BadHandshake),
            },
            State::ExpectResponseInTls { tls } => match HandshakeResponse41::parse_ref(payload) {
                Ok(r) => self.on_response(r, Some(tls)),
                Err(_) => self.fail(HandshakeError::BadHandshake),
            },
            // The plugin step decides "using password" from this response itself.
            State::ExpectSwitchResponse(ctx) => self.plugin_first_response(*ctx, payload),
            State::ExpectFullAuth(ctx) => self.full_auth_packet(*ctx, payload),
            State::ExpectRsaCiphertext(ctx) => self.rsa_ciphertext(*ctx, payload),
            _ => self.fail(HandshakeError::BadHandshake),
        }
    }

    fn on_response(&mut self, r: HandshakeResponse41Ref<'_>, tls: Option<TlsInfo>) {
        let user = String::from_utf8_lossy(r.username).into_owned();
        let database = r
            .database
            .filter(|d| !d.is_empty())
            .map(|d| String::from_utf8_lossy(d).into_owned());
        self.out.push(Action::LookupAccount { user: user.clone() });
        self.state = State::ExpectAccount(Box::new(Pending {
            user,
            auth_response: AuthBytes::new(r.auth_response),
            client_plugin: if r.header.capabilities & CLIENT_PLUGIN_AUTH != 0 {
                Some(r.client_plugin.and_then(Plugin::from_name))
            } else {
                None
            },
            database,
            // What both sides support, as MySQL keeps it: a flag the greeting did not offer
            // (CLIENT_DEPRECATE_EOF left out by an embedder …) does not hold for the session.
            client_caps: r.header.capabilities & offered_capabilities(&self.params),
            charset: r.header.character_set,
            tls,
            force_switch: false,
        }));
    }

    fn on_account(&mut self, p: Pending, lookup: Lookup) {
        let (account, cached, cached_secondary, plugin) = match lookup {
            Lookup::Found {
                account,
                cached,
                cached_secondary,
            } => {
                let plugin = account.plugin;
                (Some(account), cached, cached_secondary, plugin)
            }
            Lookup::Unknown { decoy_plugin } => (None, None, None, decoy_plugin),
        };
        let mut ctx = AuthCtx {
            user: p.user,
            database: p.database,
            client_caps: p.client_caps,
            charset: p.charset,
            tls: p.tls,
            account,
            cached,
            plugin,
            nonce: self.params.nonce,
            using_password: !p.auth_response.as_slice().is_empty(),
            rsa_key_sent: false,
            secret: None,
            cached_secondary,
            secondary_used: false,
            slow_secret: None,
        };
        match &p.client_plugin {
            None if plugin == Plugin::MysqlNativePassword && !p.force_switch => {
                self.plugin_first_response(ctx, p.auth_response.as_slice())
            }
            // A pre-plugin-auth client cannot be switched (docs/protocol.md, "Plugin selection and
            // AuthSwitchRequest").
            None => self.fail(HandshakeError::NotSupportedAuthMode),
            // The first response is usable only if it answers the greeting's nonce for the
            // account's plugin: the client chose that plugin and it is the greeting's. Otherwise
            // MySQL restarts authentication and the plugin sends a fresh nonce in an
            // AuthSwitchRequest, even when the client already named the account's plugin
            // (`--default-auth=sha256_password` sends an empty first response and waits).
            Some(named)
                if !p.force_switch
                    && plugin == self.params.default_plugin
                    && *named == Some(plugin) =>
            {
                self.plugin_first_response(ctx, p.auth_response.as_slice())
            }
            Some(_) => {
                if !p.force_switch {
                    ctx.nonce = self.params.switch_nonce;
                }
                let sw = AuthSwitchRequest::with_nonce(plugin.name(), ctx.nonce.as_bytes());
                self.send(&sw.encode());
                self.state = State::ExpectSwitchResponse(Box::new(ctx));
            }
        }
    }

    fn secure_for(&self, ctx: &AuthCtx, plugin: Plugin) -> bool {
        // caching_sha2_password: TLS or the Unix socket; sha256_password: TLS only
        // (docs/protocol.md, "Secure transports").
        ctx.tls.is_some()
            || (plugin == Plugin::CachingSha2Password && self.params.transport == Transport::Unix)
    }

    /// The plugin's view of the client's first response (from the HandshakeResponse41 or the
    /// AuthSwitchResponse).
    fn plugin_first_response(&mut self, mut ctx: AuthCtx, r: &[u8]) {
        let no_password = r.is_empty() || (r == [0] && ctx.plugin != Plugin::MysqlNativePassword);
        if no_password {
            ctx.using_password = false;
            // OK or ERR directly: never 01 03 / 01 04 here (docs/protocol.md,
            // "caching_sha2_password: fast path and full authentication", step 1).
            let empty_ok = ctx
                .account
                .as_ref()
                .is_some_and(|a| a.auth_string.is_empty());
            self.password_checked(ctx, empty_ok, AuthPath::Other);
            return;
        }
        ctx.using_password = true;
        match ctx.plugin {
            Plugin::MysqlNativePassword => {
                if r.len() != 20 {
                    self.fail(HandshakeError::BadHandshake);
                    return;
                }
                // The primary, then the secondary of a dual-password account (MySQL tries
                // `authentication_string`, then `additional_password`).
                let account = ctx.account.clone();
                let stored = account.as_deref().into_iter().flat_map(|a| {
                    std::iter::once((&a.auth_string, false))
                        .chain(a.secondary.as_ref().map(|s| (s, true)))
                });
                let mut ok = false;
                for (auth_string, secondary) in stored {
                    let AuthString::Native { hash } = auth_string else {
                        continue;
                    };
                    if auth::native::verify_scramble(hash, &ctx.nonce, r) {
                        if self.params.derive_secret {
                            ctx.secret = auth::native::recover_stage1(hash, &ctx.nonce, r)
                                .map(crate::client::Credential::NativeHash);
                        }
                        ctx.secondary_used = secondary;
                        ok = true;
                        break;
                    }
                }
                self.password_checked(ctx, ok, AuthPath::Other);
            }
            Plugin::CachingSha2Password => {
                if r.len() != 32 {
                    self.deny(&ctx);
                    return;
                }
                // Slot 0, then slot 1 only while the account has a secondary password, so a
                // stale slot after DISCARD OLD PASSWORD is never consulted (MySQL
                // `sql/auth/sha2_password.cc`, `check_second`).
                let has_secondary = ctx.account.as_ref().is_some_and(|a| a.secondary.is_some());
                let slots = [(ctx.cached.as_ref(), false)]
                    .into_iter()
                    .chain(has_secondary.then_some((ctx.cached_secondary.as_ref(), true)));
                let mut matched = None;
                for (cached, secondary) in slots {
                    if let Some(c) =
                        cached.filter(|c| auth::caching_sha2::verify_scramble(c, &ctx.nonce, r))
                    {
                        matched = Some((c.clone(), secondary));
                        break;
                    }
                }
                let hit = ctx.account.is_some() && matched.is_some();
                if let (true, Some((cached, secondary))) = (hit, matched) {
                    ctx.secondary_used = secondary;
                    if self.params.derive_secret {
                        ctx.secret = auth::caching_sha2::recover_stage1(&cached, &ctx.nonce, r)
                            .map(crate::client::Credential::Sha256Hash);
                        // `01 03` waits for admission, which may want the cleartext instead
                        // (docs/proxy.md §4.2c); the post-authentication checks send nothing
                        // before it.
                        self.deferred_fast = Some(Box::new(ctx.clone()));
                    } else {
                        self.send(&[AUTH_MORE_DATA, FAST_AUTH_SUCCESS]);
                    }
                    self.password_checked(ctx, true, AuthPath::FastPath);
                } else {
                    // Miss, or a scramble that does not verify: degrade to full authentication.
                    self.send(&[AUTH_MORE_DATA, PERFORM_FULL_AUTHENTICATION]);
                    self.state = State::ExpectFullAuth(Box::new(ctx));
                }
            }
            Plugin::Sha256Password => self.password_material(ctx, r, Plugin::Sha256Password),
        }
    }

    /// caching_sha2_password after `01 04`.
    fn full_auth_packet(&mut self, ctx: AuthCtx, p: &[u8]) {
        self.password_material(ctx, p, Plugin::CachingSha2Password)
    }

    /// A packet carrying password material: cleartext on a secure transport, else an RSA public
    /// key request or ciphertext. Never reads cleartext from an insecure channel.
    fn password_material(&mut self, mut ctx: AuthCtx, p: &[u8], plugin: Plugin) {
        if self.secure_for(&ctx, plugin) {
            // MySQL takes the first len−1 bytes (the client appends one NUL).
            let Some((_, pw)) = p.split_last() else {
                self.deny(&ctx);
                return;
            };
            if pw.is_empty() || pw.len() > MAX_PASSWORD_LEN {
                self.deny(&ctx);
                return;
            }
            if self.params.derive_secret {
                // Kept only if the verdict accepts it (a denial drops the context).
                ctx.secret = Some(crate::client::Credential::password(pw.to_vec()));
            }
            let secret = SlowSecret::Cleartext(Zeroizing::new(pw.to_vec()));
            ctx.slow_secret = Some(secret.clone());
            let check = SlowCheck {
                plugin,
                secret,
                auth_string: ctx.auth_string(&self.params),
                nonce: ctx.nonce,
                keep_cleartext: false,
            };
            self.out.push(Action::RunSlowCheck(check));
            self.state = State::ExpectVerdict(Box::new(ctx));
            return;
        }
        let Some(rsa) = self.params.rsa_for(plugin).cloned() else {
            // "Authentication requires either RSA keys or SSL encryption".
            self.deny(&ctx);
            return;
        };
        let request = match plugin {
            Plugin::Sha256Password => SHA256_REQUEST_PUBLIC_KEY,
            _ => CACHING_SHA2_REQUEST_PUBLIC_KEY,
        };
        if p == [request] && !ctx.rsa_key_sent {
            ctx.rsa_key_sent = true;
            self.send(&encode_auth_more_data(rsa.pem.as_bytes()));
            self.state = State::ExpectRsaCiphertext(Box::new(ctx));
        } else {
            self.rsa_ciphertext(ctx, p);
        }
    }

    fn rsa_ciphertext(&mut self, mut ctx: AuthCtx, p: &[u8]) {
        match self.params.rsa_for(ctx.plugin) {
            Some(rsa) if p.len() == rsa.modulus_len => {
                ctx.slow_secret = Some(SlowSecret::RsaCiphertext(p.to_vec()));
                let check = SlowCheck {
                    plugin: ctx.plugin,
                    secret: SlowSecret::RsaCiphertext(p.to_vec()),
                    auth_string: ctx.auth_string(&self.params),
                    nonce: ctx.nonce,
                    keep_cleartext: self.params.derive_secret,
                };
                self.out.push(Action::RunSlowCheck(check));
                self.state = State::ExpectVerdict(Box::new(ctx));
            }
            _ => self.deny(&ctx),
        }
    }

    fn on_verdict(&mut self, mut ctx: AuthCtx, v: Verdict) {
        if let Some(pw) = v
            .cleartext
            .filter(|_| self.params.derive_secret && v.password_ok)
        {
            // The RSA path: the password arrived encrypted (docs/proxy.md §4.2c).
            ctx.secret = Some(crate::client::Credential::Password(pw));
        }
        if !v.password_ok {
            // A dual-password account: the same password against the secondary, once.
            let secondary = ctx.account.as_ref().and_then(|a| a.secondary.clone());
            if let (Some(auth_string), false, Some(secret)) =
                (secondary, ctx.secondary_used, ctx.slow_secret.clone())
            {
                ctx.secondary_used = true;
                let check = SlowCheck {
                    plugin: ctx.plugin,
                    secret,
                    auth_string,
                    nonce: ctx.nonce,
                    keep_cleartext: self.params.derive_secret,
                };
                self.out.push(Action::RunSlowCheck(check));
                self.state = State::ExpectVerdict(Box::new(ctx));
                return;
            }
            ctx.secondary_used = false;
            self.password_checked(ctx, false, AuthPath::Full);
            return;
        }
        ctx.slow_secret = None;
        if let Some(account) = ctx.account.as_deref() {
            if account.plugin == Plugin::CachingSha2Password {
                if let Some(digest) = v.digest {
                    let (slot, verified) = match (&account.secondary, ctx.secondary_used) {
                        (Some(secondary), true) => (1, secondary.clone()),
                        _ => (0, account.auth_string.clone()),
                    };
                    self.out.push(Action::FillCache {
                        user: account.user.clone(),
                        host: account.host.clone(),
                        slot,
                        digest,
                        verified,
                    });
                }
            }
        }
        self.password_checked(ctx, true, AuthPath::Full);
    }

    /// The plugin's verdict, then the temporary lock of FAILED_LOGIN_ATTEMPTS (MySQL
    /// `acl_authenticate` → `check_and_update_password_lock_state`, which sees every attempt's
    /// verdict before REQUIRE and ACCOUNT LOCK): for an account with locking active the driver
    /// updates the account's counter and answers whether it is blocked (3955, even for the
    /// right password); otherwise a wrong password is 1045 and a right one goes on to the
    /// post-authentication checks. Unknown users are never tracked.
    fn password_checked(&mut self, ctx: AuthCtx, ok: bool, path: AuthPath) {
        let locking = ctx
            .account
            .as_ref()
            .filter(|a| a.password_locking_active())
            .cloned();
        match locking {
            Some(account) => {
                self.out.push(Action::TrackFailedLogins {
                    user: account.user.clone(),
                    host: account.host.clone(),
                    password_ok: ok,
                    attempts: account.failed_login_attempts,
                    lock_days: match account.password_lock_time {
                        crate::account::PasswordLockTime::Days(d) => Some(d),
                        crate::account::PasswordLockTime::Unbounded => None,
                    },
                });
                self.state = State::ExpectLockVerdict(Box::new(ctx), ok, path);
            }
            None if ok => self.post_auth(ctx, path),
            None => self.deny(&ctx),
        }
    }

    fn on_lock_state(&mut self, ctx: AuthCtx, ok: bool, path: AuthPath, lock: LockState) {
        match lock {
            LockState::Blocked {
                lock_days,
                remaining_days,
                attempts,
            } => {
                let days =
                    |d: Option<u32>| d.map_or_else(|| "unlimited".to_string(), |d| d.to_string());
                self.fail(HandshakeError::AccountBlocked {
                    user: clip(&ctx.user, 48),
                    host: clip(&self.params.client_host, 64),
                    lock_days: days(lock_days),
                    remaining_days: days(remaining_days),
                    attempts,
                });
            }
            LockState::Open if ok => self.post_auth(ctx, path),
            LockState::Open => self.deny(&ctx),
        }
    }

    /// Checks after the password, in MySQL's order (docs/protocol.md, "Post-authentication
    /// checks"): REQUIRE, account lock, require_secure_transport, the administrator's slot,
    /// default database.
    fn post_auth(&mut self, ctx: AuthCtx, path: AuthPath) {
        let Some(account) = ctx.account.clone() else {
            self.deny(&ctx);
            return;
        };
        if let Err(reason) = require_satisfied(&account.require, ctx.tls.as_ref()) {
            self.out.push(Action::RequireNotMet(reason));
            self.deny(&ctx);
            return;
        }
        if account.locked {
            self.fail(HandshakeError::AccountLocked {
                user: clip(&ctx.user, 48),
                host: clip(&self.params.client_host, 64),
            });
            return;
        }
        if self.params.require_secure_transport
            && ctx.tls.is_none()
            && self.params.transport != Transport::Unix
        {
            self.fail(HandshakeError::SecureTransportRequired);
            return;
        }
        // Expired password (MySQL `acl_authenticate`, after REQUIRE, the lock and the secure
        // transport check): 1862 for a client that cannot handle it while
        // disconnect_on_expired_password is ON, else the sandbox (1820 for other statements).
        let expired = account
            .password_expired_at(self.params.now_secs, self.params.default_password_lifetime);
        if expired
            && ctx.client_caps & CLIENT_CAN_HANDLE_EXPIRED_PASSWORDS == 0
            && self.params.disconnect_on_expired_password
        {
            self.fail(HandshakeError::PasswordExpired);
            return;
        }
        if self.params.reserved_admin_slot && !account.admin {
            self.fail(HandshakeError::TooManyConnections);
            return;
        }
        if let (Some(db), Some(known)) = (&ctx.database, &self.params.databases) {
            if !known.iter().any(|d| d == db) {
                self.fail(HandshakeError::UnknownDatabase(clip(db, 192)));
                return;
            }
        }
        let session = Session {
            user: ctx.user,
            account,
            client_host: Arc::clone(&self.params.client_host),
            database: ctx.database,
            client_capabilities: ctx.client_caps,
            character_set: ctx.charset,
            plugin: ctx.plugin,
            tls: ctx.tls,
            transport: self.params.transport,
            auth_path: path,
            nonce: ctx.nonce,
            login_secret: ctx.secret,
            password_expired: expired,
            secondary_password: ctx.secondary_used,
        };
        if self.params.admission {
            // The session travels with the question and comes back with the answer: no copy.
            self.state = State::ExpectAdmission;
            self.out.push(Action::Admit(Box::new(session)));
        } else {
            self.admit(Box::new(session));
        }
    }

    /// The login is complete: OK, then the session.
    fn admit(&mut self, session: Box<Session>) {
        self.release_fast_ok();
        self.send(&LOGIN_OK);
        self.state = State::Done;
        self.out.push(Action::Authenticated(session));
    }
}

/// Carries out [`Action::FillCache`]: inserts the digest only while `accounts` (a read guard the
/// caller holds across this call) still maps the identity to a caching_sha2_password account
/// with the verified stored string. Account writers publish the new set before evicting, so a
/// fill either sees the new set (and skips) or lands before the eviction (and is removed).
pub fn fill_cache_if_current(
    accounts: &crate::account::AccountSet,
    cache: &crate::cache::AuthCache,
    user: &str,
    host: &str,
    slot: usize,
    digest: CachedDigest,
    verified: &AuthString,
) -> bool {
    let current = accounts.credential_is_current(user, host, verified);
    if current {
        cache.insert_slot(user, host, slot, digest);
    }
    current
}

/// Why a REQUIRE clause is not met (for the server log only; the client sees 1045).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RequireFailure {
    /// The account requires TLS and the connection has none (the socket does not count).
    NotTls,
    /// `REQUIRE X509` or a SPECIFIED clause, and no verified client certificate.
    NoCertificate,
    /// `REQUIRE CIPHER` differs from the negotiated suite's name.
    CipherMismatch {
        /// The account's cipher.
        expected: String,
        /// The connection's.
        got: String,
    },
    /// `REQUIRE ISSUER` differs from the certificate's issuer.
    IssuerMismatch {
        /// The account's issuer DN.
        expected: String,
        /// The certificate's.
        got: String,
    },
    /// `REQUIRE SUBJECT` differs from the certificate's subject.
    SubjectMismatch {
        /// The account's subject DN.
        expected: String,
        /// The certificate's.
        got: String,
    },
    /// `REQUIRE SAN` (TiDB's) names an entry the certificate does not have, or none at all.
    SanMismatch {
        /// The account's SAN list.
        expected: String,
    },
}

/// MySQL's per-account REQUIRE evaluation, plus TiDB's `REQUIRE SAN` (docs/protocol.md,
/// "Per-account REQUIRE").
pub fn require_satisfied(req: &Require, tls: Option<&TlsInfo>) -> Result<(), RequireFailure> {
    let tls = match (req, tls) {
        (Require::None, _) => return Ok(()),
        (_, None) => return Err(RequireFailure::NotTls),
        (_, Some(t)) => t,
    };
    match req {
        Require::None | Require::Ssl => Ok(()),
        Require::X509 => tls
            .peer_cert
            .as_ref()
            .map(|_| ())
            .ok_or(RequireFailure::NoCertificate),
        Require::Specified {
            issuer,
            subject,
            cipher,
            san,
        } => {
            if let Some(c) = cipher {
                if *c != tls.cipher {
                    return Err(RequireFailure::CipherMismatch {
                        expected: c.clone(),
                        got: tls.cipher.clone(),
                    });
                }
            }
            // As MySQL's code: a certificate is needed even for CIPHER-only.
            let cert = tls
                .peer_cert
                .as_ref()
                .ok_or(RequireFailure::NoCertificate)?;
            if let Some(i) = issuer {
                if *i != cert.issuer {
                    return Err(RequireFailure::IssuerMismatch {
                        expected: i.clone(),
                        got: cert.issuer.clone(),
                    });
                }
            }
            if let Some(s) = subject {
                if *s != cert.subject {
                    return Err(RequireFailure::SubjectMismatch {
                        expected: s.clone(),
                        got: cert.subject.clone(),
                    });
                }
            }
            if let Some(s) = san {
                let wanted = s.split(',').map(str::trim).filter(|x| !x.is_empty());
                let all = wanted
                    .clone()
                    .all(|w| cert.san.iter().any(|have| san_eq(have, w)));
                if !all || wanted.count() == 0 {
                    return Err(RequireFailure::SanMismatch {
                        expected: s.clone(),
                    });
                }
            }
            Ok(())
        }
    }
}

/// `DNS:x` / `dns:x` compare: type case-insensitively, value exactly.
fn san_eq(have: &str, want: &str) -> bool {
    match (have.split_once(':'), want.split_once(':')) {
        (Some((ht, hv)), Some((wt, wv))) => ht.eq_ignore_ascii_case(wt) && hv.trim() == wv.trim(),
        _ => false,
    }
}

#[cfg(test)]
mod model_tests;
#[cfg(test)]
mod step_tests;
#[cfg(test)]
mod tests;
