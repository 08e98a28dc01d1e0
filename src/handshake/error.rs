//! The connection-phase error taxonomy: every way a login can end badly, each mapped to exactly one
//! MySQL error code, SQLSTATE and message (docs/protocol.md, "Error codes").

use crate::wire::packets::ErrPacket;

/// Why the connection phase failed. Each variant is one MySQL error; [`HandshakeError::to_err_packet`]
/// is the only place codes and SQLSTATEs are assigned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
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
        user: String,
        host: String,
        using_password: bool,
    },
    /// Incompatibility: a client without CLIENT_PLUGIN_AUTH for an account whose plugin is not
    /// mysql_native_password. 1251 08004.
    #[error("Client does not support authentication protocol requested by server; consider upgrading MySQL client")]
    NotSupportedAuthMode,
    /// Denial after the password: the account is locked. 3118 HY000.
    #[error("Access denied for user '{user}'@'{host}'. Account is locked.")]
    AccountLocked { user: String, host: String },
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
        event: &'static str,
        state: &'static str,
    },
}

impl HandshakeError {
    /// (code, SQLSTATE) of the MySQL error this variant is.
    pub fn code(&self) -> (u16, &'static str) {
        match self {
            HandshakeError::BadHandshake => (1043, "08S01"),
            HandshakeError::AccessDenied { .. } => (1045, "28000"),
            HandshakeError::NotSupportedAuthMode => (1251, "08004"),
            HandshakeError::AccountLocked { .. } => (3118, "HY000"),
            HandshakeError::SecureTransportRequired => (3159, "HY000"),
            HandshakeError::TooManyConnections => (1040, "08004"),
            HandshakeError::Refused(code) => (*code, "HY000"),
            HandshakeError::UnknownDatabase(_) => (1049, "42000"),
            HandshakeError::PacketsOutOfOrder => (1156, "08S01"),
            HandshakeError::PacketTooLarge => (1153, "08S01"),
            HandshakeError::UnexpectedEvent { .. } => (1043, "08S01"),
        }
    }

    /// The ERR packet payload, or `None` where the connection is closed silently.
    pub fn to_err_packet(&self) -> Option<ErrPacket> {
        // A refusal's packet is the backend's own, already queued by the machine.
        if matches!(
            self,
            HandshakeError::UnexpectedEvent { .. } | HandshakeError::Refused(_)
        ) {
            return None;
        }
        let (code, state) = self.code();
        Some(ErrPacket::new(code, state, self.to_string()))
    }
}

/// MySQL's `%-.48s` / `%-.64s` formatting: at most `n` characters.
pub fn clip(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}
