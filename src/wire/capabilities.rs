//! Capability and status flag constants (docs/protocol.md, "Capability and status flags"), named
//! as in MySQL's `mysql_com.h`.

/// Pre-4.1 "new, longer password hash"; kept set, since a MariaDB server clears it
/// (docs/protocol.md, "HandshakeV10 (the greeting)").
pub const CLIENT_LONG_PASSWORD: u32 = 0x0000_0001;
/// Affected rows of an UPDATE count matched rows, not changed ones.
pub const CLIENT_FOUND_ROWS: u32 = 0x0000_0002;
/// Column definitions carry all column flags (always so with PROTOCOL_41).
pub const CLIENT_LONG_FLAG: u32 = 0x0000_0004;
/// The HandshakeResponse41 names a default database.
pub const CLIENT_CONNECT_WITH_DB: u32 = 0x0000_0008;
/// Refuse `db.table.column` names (deprecated; never offered).
pub const CLIENT_NO_SCHEMA: u32 = 0x0000_0010;
/// The compressed protocol (not offered).
pub const CLIENT_COMPRESS: u32 = 0x0000_0020;
/// `LOAD DATA LOCAL` (not offered).
pub const CLIENT_LOCAL_FILES: u32 = 0x0000_0080;
/// The 4.1 protocol: HandshakeResponse41, SQLSTATE in ERR packets; required of clients.
pub const CLIENT_PROTOCOL_41: u32 = 0x0000_0200;
/// The client is interactive: its session waits `interactive_timeout`, not `wait_timeout`.
pub const CLIENT_INTERACTIVE: u32 = 0x0000_0400;
/// TLS: offered only with a usable TLS context; from a client, an SSLRequest
/// (docs/protocol.md, "SSLRequest and TLS").
pub const CLIENT_SSL: u32 = 0x0000_0800;
/// The client knows about transactions (status flags in OK packets).
pub const CLIENT_TRANSACTIONS: u32 = 0x0000_2000;
/// The 4.1 authentication: the auth response has a 1-byte length.
pub const CLIENT_SECURE_CONNECTION: u32 = 0x0000_8000;
/// A COM_QUERY may hold several statements separated by `;`.
pub const CLIENT_MULTI_STATEMENTS: u32 = 0x0001_0000;
/// The client handles several result sets for one query.
pub const CLIENT_MULTI_RESULTS: u32 = 0x0002_0000;
/// The same for prepared statements.
pub const CLIENT_PS_MULTI_RESULTS: u32 = 0x0004_0000;
/// Pluggable authentication: plugin names in the greeting and response, AuthSwitchRequest.
pub const CLIENT_PLUGIN_AUTH: u32 = 0x0008_0000;
/// The response carries connect attributes.
pub const CLIENT_CONNECT_ATTRS: u32 = 0x0010_0000;
/// The response's auth data has a length-encoded length (up to 2^64 bytes).
pub const CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA: u32 = 0x0020_0000;
/// The client can run in the expired-password sandbox (not offered).
pub const CLIENT_CAN_HANDLE_EXPIRED_PASSWORDS: u32 = 0x0040_0000;
/// OK packets carry session-state changes (not offered).
pub const CLIENT_SESSION_TRACK: u32 = 0x0080_0000;
/// Result sets end with an OK packet (header `FE`) instead of EOF packets.
pub const CLIENT_DEPRECATE_EOF: u32 = 0x0100_0000;
/// zstd compression; the response then ends with a level byte (not offered).
pub const CLIENT_ZSTD_COMPRESSION_ALGORITHM: u32 = 0x0400_0000;
/// COM_QUERY carries query attributes before the text (not offered).
pub const CLIENT_QUERY_ATTRIBUTES: u32 = 0x0800_0000;

/// What Vestibule advertises without TLS (docs/protocol.md, "Capability and status flags"),
/// CAN_HANDLE_EXPIRED_PASSWORDS included: an expired password gets the sandbox, as in MySQL.
/// CLIENT_SSL is added only when a usable TLS configuration exists, as MySQL does.
pub const SERVER_CAPABILITIES: u32 = CLIENT_LONG_PASSWORD
    | CLIENT_FOUND_ROWS
    | CLIENT_LONG_FLAG
    | CLIENT_CONNECT_WITH_DB
    | CLIENT_PROTOCOL_41
    | CLIENT_INTERACTIVE
    | CLIENT_TRANSACTIONS
    | CLIENT_SECURE_CONNECTION
    | CLIENT_MULTI_STATEMENTS
    | CLIENT_MULTI_RESULTS
    | CLIENT_PS_MULTI_RESULTS
    | CLIENT_PLUGIN_AUTH
    | CLIENT_CONNECT_ATTRS
    | CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA
    | CLIENT_DEPRECATE_EOF
    | CLIENT_CAN_HANDLE_EXPIRED_PASSWORDS;

/// What every greeting offers, whatever an embedder asks for: the exchange needs protocol 4.1
/// responses with the 1-byte (or length-encoded) auth data and plugin names.
pub const REQUIRED_CAPABILITIES: u32 = CLIENT_PROTOCOL_41
    | CLIENT_SECURE_CONNECTION
    | CLIENT_PLUGIN_AUTH
    | CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA;

/// Status flag: a transaction is open.
pub const SERVER_STATUS_IN_TRANS: u16 = 0x0001;
/// Status flag: autocommit is on (in the greeting and in OK packets while it is).
pub const SERVER_STATUS_AUTOCOMMIT: u16 = 0x0002;

/// utf8mb4_0900_ai_ci, MySQL 8.0's default collation (greeting character set byte).
pub const UTF8MB4_0900_AI_CI: u8 = 255;
/// Collation id `binary`, used in column definitions of numbers.
pub const BINARY_COLLATION: u16 = 63;
