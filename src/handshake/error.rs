//! The connection-phase error taxonomy: every way a login can end badly, each mapped to exactly one
//! MySQL error code, SQLSTATE and message (docs/protocol.md, "Error codes").

use crate::error::MysqlError;
use crate::wire::packets::ErrPacket;

/// Why the connection phase failed. Each variant is one entry of the table of MySQL errors
/// ([`HandshakeError::mysql_error`]), except [`HandshakeError::Refused`], whose packet is the
/// backend's own.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HandshakeError {
    /// Malformed input: a packet that does not parse as the message the state expects, or a
    /// client that asked for TLS the server cannot give. 1043 08S01 "Bad handshake".
    #[error("Bad handshake")]
    BadHandshake,
    /// Denial: wrong password, unknown user (through the decoy), REQUIRE not met, cleartext on an
    /// insecure channel, RSA unavailable. Always the same message so nothing is leaked.
    /// 1045 28000.
    #[error("Access denied for user '{user}'@'{host}' (using password: {})", if *using_password { "YES" } else { "NO" })]
    AccessDenied {
        /// The user name the client sent (cut to 48 characters in the message).
        user: String,
        /// The client's host as the server knows it, never the account's pattern.
        host: String,
        /// The client answered with a password (`YES`); an empty response is `NO`.
        using_password: bool,
    },
    /// Incompatibility: a client without CLIENT_PLUGIN_AUTH for an account whose plugin is not
    /// mysql_native_password. 1251 08004.
    #[error("Client does not support authentication protocol requested by server; consider upgrading MySQL client")]
    NotSupportedAuthMode,
    /// Denial after the password: the account is locked. 3118 HY000.
    #[error("Access denied for user '{user}'@'{host}'. Account is locked.")]
    AccountLocked {
        /// The user name the client sent.
        user: String,
        /// The client's host.
        host: String,
    },
    /// Denial with or after the password: FAILED_LOGIN_ATTEMPTS consecutive wrong passwords
    /// blocked the account for PASSWORD_LOCK_TIME days (even the right password gets it while
    /// the block lasts). 3955 HY000.
    #[error("Access denied for user '{user}'@'{host}'. Account is blocked for {lock_days} day(s) ({remaining_days} day(s) remaining) due to {attempts} consecutive failed logins.")]
    AccountBlocked {
        /// The user name the client sent.
        user: String,
        /// The client's host.
        host: String,
        /// PASSWORD_LOCK_TIME in days, or `unlimited`.
        lock_days: String,
        /// Days left, or `unlimited`.
        remaining_days: String,
        /// FAILED_LOGIN_ATTEMPTS.
        attempts: u32,
    },
    /// Denial after the password: the password has expired and the client cannot handle it
    /// (no CLIENT_CAN_HANDLE_EXPIRED_PASSWORDS) while disconnect_on_expired_password is ON.
    /// 1862 HY000.
    #[error("Your password has expired. To log in you must change it using a client that supports expired passwords.")]
    PasswordExpired,
    /// Denial after the password: require_secure_transport=ON and the transport is plain TCP.
    /// 3159 HY000.
    #[error(
        "Connections using insecure transport are prohibited while --require_secure_transport=ON."
    )]
    SecureTransportRequired,
    /// Denial after the password: the connection holds the slot MySQL reserves beyond
    /// `max_connections` for an administrator, and the account lacks the admin privilege
    /// (SUPER / CONNECTION_ADMIN). 1040 08004.
    #[error("Too many connections")]
    TooManyConnections,
    /// The backend behind the door refused the session ([`crate::handshake::Event::Admission`]);
    /// its own error packet, with this code, has been sent.
    #[error("refused by the backend with error {0}")]
    Refused(u16),
    /// The default database of the handshake does not exist. 1049 42000.
    #[error("Unknown database '{0}'")]
    UnknownDatabase(String),
    /// Peer misbehaviour: a sequence id other than the expected one. 1156 08S01.
    #[error("Got packets out of order")]
    PacketsOutOfOrder,
    /// A connection-phase packet over the size limit. 1153 08S01.
    #[error("Got a packet bigger than 'max_allowed_packet' bytes")]
    PacketTooLarge,
    /// The driver delivered an event the current state cannot take (a bug in the driver, or a
    /// client packet arriving while the server is still working). The connection is closed
    /// without a packet.
    #[error("event {event} is not valid in state {state}")]
    UnexpectedEvent {
        /// The event's name.
        event: &'static str,
        /// The state's name ([`crate::handshake::Handshake::state_name`]).
        state: &'static str,
    },
}

impl HandshakeError {
    /// The entry of the table this variant is, or the backend's own code for
    /// [`HandshakeError::Refused`].
    fn table_entry(&self) -> Result<MysqlError, u16> {
        Ok(match self {
            HandshakeError::BadHandshake | HandshakeError::UnexpectedEvent { .. } => {
                MysqlError::HandshakeError
            }
            HandshakeError::AccessDenied { .. } => MysqlError::AccessDeniedError,
            HandshakeError::NotSupportedAuthMode => MysqlError::NotSupportedAuthMode,
            HandshakeError::AccountLocked { .. } => MysqlError::AccountHasBeenLocked,
            HandshakeError::AccountBlocked { .. } => {
                MysqlError::UserAccessDeniedForUserAccountBlockedByPasswordLock
            }
            HandshakeError::PasswordExpired => MysqlError::MustChangePasswordLogin,
            HandshakeError::SecureTransportRequired => MysqlError::SecureTransportRequired,
            HandshakeError::TooManyConnections => MysqlError::ConCountError,
            HandshakeError::Refused(code) => return Err(*code),
            HandshakeError::UnknownDatabase(_) => MysqlError::BadDbError,
            HandshakeError::PacketsOutOfOrder => MysqlError::NetPacketsOutOfOrder,
            HandshakeError::PacketTooLarge => MysqlError::NetPacketTooLarge,
        })
    }

    /// The MySQL error this variant is; `None` for [`HandshakeError::Refused`] (the backend's
    /// packet, not one of the table).
    pub fn mysql_error(&self) -> Option<MysqlError> {
        self.table_entry().ok()
    }

    /// (code, SQLSTATE) of the MySQL error this variant is.
    pub fn code(&self) -> (u16, &'static str) {
        match self.table_entry() {
            Ok(e) => (e.code(), e.sqlstate()),
            Err(code) => (code, "HY000"),
        }
    }

    /// The ERR packet payload, or `None` where the connection is closed silently.
    pub fn to_err_packet(&self) -> Option<ErrPacket> {
        // An unexpected event closes silently; a refusal (no entry) has the backend's own
        // packet, already queued by the machine.
        if matches!(self, HandshakeError::UnexpectedEvent { .. }) {
            return None;
        }
        // The Display text is the entry's format filled in: the machine cuts user, host and
        // database to MySQL's 48, 64 and 192 characters when it builds the error.
        Some(self.mysql_error()?.packet_with_message(self.to_string()))
    }
}

/// MySQL's `%-.48s` / `%-.64s` formatting: at most `n` characters.
pub fn clip(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}
