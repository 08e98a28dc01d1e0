//! The MySQL errors Vestibule sends: one table, one entry per error, each with MySQL's code,
//! SQLSTATE, `ER_*` symbol and message format (docs/protocol.md, "Error codes"; MySQL
//! `include/mysqld_error.h` for codes and symbols, `share/messages_to_clients.txt` for SQLSTATEs
//! and texts).
//!
//! Owns: the numbers and texts. Every ERR packet the server sends, and every code a `SHOW
//! WARNINGS` row carries, comes from [`MysqlError`]; the typed errors of the core
//! ([`crate::handshake::HandshakeError`], [`crate::account::AccountError`],
//! [`crate::account_ops::AccountOpError`], [`crate::sql::ParseError`]) convert into it instead of
//! carrying numbers of their own. Never decides *when* an error is sent; the callers do.
//!
//! Two ways to build the packet, as in MySQL: [`MysqlError::packet`] fills the entry's format
//! with arguments (`my_error`), [`MysqlError::packet_with_message`] sends the entry's code and
//! SQLSTATE with a text the caller wrote (`my_message`).

use std::fmt;

use crate::wire::packets::ErrPacket;

/// One row of the table.
struct Entry {
    code: u16,
    sqlstate: &'static str,
    symbol: Option<&'static str>,
    format: &'static str,
}

/// Declares [`MysqlError`], its row of the table for each variant, and [`MysqlError::ALL`] from
/// one list, so no variant can lack a code or be missing from `ALL`.
macro_rules! mysql_errors {
    ($(
        $(#[$doc:meta])*
        $name:ident => ($code:literal, $sqlstate:literal, $symbol:expr, $format:literal),
    )*) => {
        /// A MySQL error Vestibule sends, named after MySQL's `ER_*` symbol
        /// (`ER_ACCESS_DENIED_ERROR` → [`MysqlError::AccessDeniedError`]).
        ///
        /// Each variant's doc says which kind of failure it reports: *malformed input* (bytes that
        /// do not parse), *peer misbehaviour* (a well-formed message at the wrong time), *denial*
        /// (the server refuses what is asked), *unsupported* (valid MySQL this server does not
        /// implement), *not found* (a name that does not exist) or *server state* (the server,
        /// not the request, is the reason).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum MysqlError {
            $($(#[$doc])* $name,)*
        }

        impl MysqlError {
            /// Every entry of the table, in code order.
            pub const ALL: &'static [MysqlError] = &[$(MysqlError::$name,)*];

            const fn entry(self) -> Entry {
                match self {
                    $(MysqlError::$name => Entry {
                        code: $code,
                        sqlstate: $sqlstate,
                        symbol: $symbol,
                        format: $format,
                    },)*
                }
            }
        }
    };
}

mysql_errors! {
    /// Server state: no connection slot is left, before the greeting (sent without a SQLSTATE)
    /// or in the slot MySQL keeps for an administrator, for a login that is not one.
    ConCountError => (1040, "08004", Some("ER_CON_COUNT_ERROR"), "Too many connections"),
    /// Malformed input in the connection phase, or a client asking for TLS the server cannot
    /// give.
    HandshakeError => (1043, "08S01", Some("ER_HANDSHAKE_ERROR"), "Bad handshake"),
    /// Denial: an account-management statement touching the `mysql` schema of another account
    /// without the admin privilege.
    DbaccessDeniedError => (1044, "42000", Some("ER_DBACCESS_DENIED_ERROR"),
        "Access denied for user '%-.48s'@'%-.64s' to database '%-.192s'"),
    /// Denial of a login, whatever the reason (wrong password, unknown user, REQUIRE not met,
    /// cleartext on an insecure channel), so that nothing is leaked. The last argument is `YES`
    /// or `NO`.
    AccessDeniedError => (1045, "28000", Some("ER_ACCESS_DENIED_ERROR"),
        "Access denied for user '%-.48s'@'%-.64s' (using password: %s)"),
    /// Not found: a table named without a schema and no default database.
    NoDbError => (1046, "3D000", Some("ER_NO_DB_ERROR"), "No database selected"),
    /// Unsupported: a command packet the session does not serve, or a malformed one; the
    /// connection stays usable.
    UnknownComError => (1047, "08S01", Some("ER_UNKNOWN_COM_ERROR"), "Unknown command"),
    /// Not found: the database of the handshake, `COM_INIT_DB` or `USE`.
    BadDbError => (1049, "42000", Some("ER_BAD_DB_ERROR"), "Unknown database '%-.192s'"),
    /// Server state: the server is shutting down; sent at the session's next read, then the
    /// connection is closed.
    ServerShutdown => (1053, "08S01", Some("ER_SERVER_SHUTDOWN"), "Server shutdown in progress"),
    /// Not found: a column name in a `SELECT` list or `WHERE` clause.
    BadFieldError => (1054, "42S22", Some("ER_BAD_FIELD_ERROR"),
        "Unknown column '%-.192s' in '%-.192s'"),
    /// Malformed input: a statement that is not MySQL syntax. The first argument is MySQL's
    /// ER_SYNTAX_ERROR text, the second the query from the error position.
    ParseError => (1064, "42000", Some("ER_PARSE_ERROR"), "%s near '%-.80s' at line %d"),
    /// Malformed input: a query of only whitespace (MySQL answers OK when it held a comment).
    EmptyQuery => (1065, "42000", Some("ER_EMPTY_QUERY"), "Query was empty"),
    /// Not found: `KILL` of a connection id no session has (proxy mode).
    NoSuchThread => (1094, "HY000", Some("ER_NO_SUCH_THREAD"), "Unknown thread id: %lu"),
    /// Denial: `KILL` of another account's session without the admin privilege (proxy mode).
    KillDeniedError => (1095, "HY000", Some("ER_KILL_DENIED_ERROR"),
        "You are not owner of thread %lu"),
    /// Malformed input: `SELECT *` without a table.
    NoTablesUsed => (1096, "HY000", Some("ER_NO_TABLES_USED"), "No tables used"),
    /// Server state: a failure of the server itself (the accounts file cannot be saved, a
    /// hashing task failed); usually sent with a text of its own.
    UnknownError => (1105, "HY000", Some("ER_UNKNOWN_ERROR"), "Unknown error"),
    /// Server state: the client's host made more than `max_connect_errors` consecutive handshake
    /// errors; sent before the greeting until FLUSH HOSTS.
    HostIsBlocked => (1129, "HY000", Some("ER_HOST_IS_BLOCKED"),
        "Host '%-.64s' is blocked because of many connection errors; unblock with 'mysqladmin flush-hosts'"),
    /// Not found: `SHOW GRANTS` or `REVOKE` for an account that does not exist.
    NonexistingGrant => (1141, "42000", Some("ER_NONEXISTING_GRANT"),
        "There is no such grant defined for user '%-.48s' on host '%-.64s'"),
    /// Denial: reading `mysql.user` without the admin privilege.
    TableaccessDeniedError => (1142, "42000", Some("ER_TABLEACCESS_DENIED_ERROR"),
        "%-.128s command denied to user '%-.48s'@'%-.64s' for table '%-.64s'"),
    /// Not found: a table this server does not have.
    NoSuchTable => (1146, "42S02", Some("ER_NO_SUCH_TABLE"),
        "Table '%-.192s.%-.192s' doesn't exist"),
    /// Server state: proxy mode lost the session's backend connection mid-session; the client
    /// gets it, then its connection closes (docs/proxy.md §6.4).
    NewAbortingConnection => (1152, "08S01", Some("ER_NEW_ABORTING_CONNECTION"),
        "Aborted connection %u to db: '%-.192s' user: '%-.48s' host: '%-.64s' (%-.64s)"),
    /// Peer misbehaviour: a packet over the size limit; the connection is closed.
    NetPacketTooLarge => (1153, "08S01", Some("ER_NET_PACKET_TOO_LARGE"),
        "Got a packet bigger than 'max_allowed_packet' bytes"),
    /// Peer misbehaviour: a sequence id other than the expected one; the connection is closed.
    NetPacketsOutOfOrder => (1156, "08S01", Some("ER_NET_PACKETS_OUT_OF_ORDER"),
        "Got packets out of order"),
    /// Peer misbehaviour: a packet stalled longer than `net_read_timeout`; the connection is
    /// closed.
    NetReadInterrupted => (1159, "08S01", Some("ER_NET_READ_INTERRUPTED"),
        "Got timeout reading communication packets"),
    /// Not found: a system variable this server does not have.
    UnknownSystemVariable => (1193, "HY000", Some("ER_UNKNOWN_SYSTEM_VARIABLE"),
        "Unknown system variable '%-.64s'"),
    /// Denial after the password: the global `max_user_connections` is reached for this account.
    TooManyUserConnections => (1203, "42000", Some("ER_TOO_MANY_USER_CONNECTIONS"),
        "User %-.64s already has more than 'max_user_connections' active connections"),
    /// Malformed input: a `REQUIRE` option given twice.
    DupArgument => (1225, "HY000", Some("ER_DUP_ARGUMENT"), "Option '%s' used twice in statement"),
    /// Denial: an account resource limit (MAX_USER_CONNECTIONS, MAX_CONNECTIONS_PER_HOUR,
    /// MAX_QUERIES_PER_HOUR, MAX_UPDATES_PER_HOUR) is reached.
    UserLimitReached => (1226, "42000", Some("ER_USER_LIMIT_REACHED"),
        "User '%-.64s' has exceeded the '%s' resource (current value: %ld)"),
    /// Denial: a statement that needs a privilege the account lacks.
    SpecificAccessDeniedError => (1227, "42000", Some("ER_SPECIFIC_ACCESS_DENIED_ERROR"),
        "Access denied; you need (at least one of) the %-.128s privilege(s) for this operation"),
    /// Malformed input: `SET SESSION` of a global-only variable.
    GlobalVariable => (1229, "HY000", Some("ER_GLOBAL_VARIABLE"),
        "Variable '%-.64s' is a GLOBAL variable and should be set with SET GLOBAL"),
    /// Malformed input: a value a variable cannot take.
    WrongValueForVar => (1231, "42000", Some("ER_WRONG_VALUE_FOR_VAR"),
        "Variable '%-.64s' can't be set to the value of '%-.200s'"),
    /// Malformed input: a value of the wrong type for a variable.
    WrongTypeForVar => (1232, "42000", Some("ER_WRONG_TYPE_FOR_VAR"),
        "Incorrect argument type to variable '%-.64s'"),
    /// Unsupported: valid MySQL this server does not implement.
    NotSupportedYet => (1235, "42000", Some("ER_NOT_SUPPORTED_YET"),
        "This version of MySQL doesn't yet support '%s'"),
    /// Denial: `SET` of a read-only variable (the second argument is `read only`).
    IncorrectGlobalLocalVar => (1238, "HY000", Some("ER_INCORRECT_GLOBAL_LOCAL_VAR"),
        "Variable '%-.64s' is a %s variable"),
    /// Incompatibility: a client without CLIENT_PLUGIN_AUTH for an account whose plugin is not
    /// mysql_native_password.
    NotSupportedAuthMode => (1251, "08004", Some("ER_NOT_SUPPORTED_AUTH_MODE"),
        "Client does not support authentication protocol requested by server; consider upgrading MySQL client"),
    /// Not found: `REVOKE ALL PRIVILEGES, GRANT OPTION` naming an account that does not exist.
    RevokeGrants => (1269, "HY000", Some("ER_REVOKE_GRANTS"),
        "Can't revoke all privileges for one or more of the requested users"),
    /// A warning, not an error: a timeout value out of range, clamped.
    TruncatedWrongValue => (1292, "22007", Some("ER_TRUNCATED_WRONG_VALUE"),
        "Truncated incorrect %-.32s value: '%-.128s'"),
    /// Not found: a function this server does not have (the first argument is `FUNCTION`).
    SpDoesNotExist => (1305, "42000", Some("ER_SP_DOES_NOT_EXIST"), "%s %s does not exist"),
    /// Interruption: `KILL QUERY` of the session's own statement.
    QueryInterrupted => (1317, "70100", Some("ER_QUERY_INTERRUPTED"), "Query execution was interrupted"),
    /// Denial: an account statement that would change nothing (the account exists, or does
    /// not), naming every failing account.
    CannotUser => (1396, "HY000", Some("ER_CANNOT_USER"), "Operation %s failed for %.256s"),
    /// Denial: `GRANT` to an account that does not exist (MySQL 8.0 creates none implicitly).
    CantCreateUserWithGrant => (1410, "42000", Some("ER_CANT_CREATE_USER_WITH_GRANT"),
        "You are not allowed to create a user with GRANT"),
    /// Server state: proxy mode cannot reach the backend, or the backend refused the door's
    /// service account (docs/proxy.md §5); the same code MySQL's FEDERATED engine uses.
    ConnectToForeignDataSource => (1429, "HY000", Some("ER_CONNECT_TO_FOREIGN_DATA_SOURCE"),
        "Unable to connect to foreign data source: %.64s"),
    /// Malformed input: a user name over 32 or a host name over 255 characters.
    WrongStringLength => (1470, "HY000", Some("ER_WRONG_STRING_LENGTH"),
        "String '%-.70s' is too long for %s (should be no longer than %d)"),
    /// Unsupported: `IDENTIFIED WITH` an authentication plugin this server does not have.
    PluginIsNotLoaded => (1524, "HY000", Some("ER_PLUGIN_IS_NOT_LOADED"),
        "Plugin '%-.192s' is not loaded"),
    /// Malformed input: an account option's number out of the range MySQL's grammar accepts
    /// (`PASSWORD EXPIRE INTERVAL 0 DAY`, `FAILED_LOGIN_ATTEMPTS 40000`).
    WrongValue => (1525, "HY000", Some("ER_WRONG_VALUE"), "Incorrect %-.32s value: '%-.128s'"),
    /// Malformed input: a built-in function called with the wrong number of arguments.
    WrongParamcountToNativeFct => (1582, "42000", Some("ER_WRONG_PARAMCOUNT_TO_NATIVE_FCT"),
        "Incorrect parameter count in the call to native function '%-.192s'"),
    /// Denial: `SET SESSION` of a variable whose session value is read-only
    /// (`max_user_connections`); the arguments are `SESSION`, the name and `GLOBAL`.
    VariableIsReadonly => (1621, "HY000", Some("ER_VARIABLE_IS_READONLY"),
        "%s variable '%s' is read-only. Use SET %s to assign the value"),
    /// Denial: a password longer than the server accepts.
    NotValidPassword => (1819, "HY000", Some("ER_NOT_VALID_PASSWORD"),
        "Your password does not satisfy the current policy requirements"),
    /// Denial: a statement other than a password change or SET in an expired-password session.
    MustChangePassword => (1820, "HY000", Some("ER_MUST_CHANGE_PASSWORD"),
        "You must reset your password using ALTER USER statement before executing this statement."),
    /// Malformed input: `IDENTIFIED WITH … AS` a string that is not the plugin's hash format.
    PasswordFormat => (1827, "HY000", Some("ER_PASSWORD_FORMAT"),
        "The password hash doesn't have the expected format."),
    /// Denial after the password: an expired password and a client that cannot handle it.
    MustChangePasswordLogin => (1862, "HY000", Some("ER_MUST_CHANGE_PASSWORD_LOGIN"),
        "Your password has expired. To log in you must change it using a client that supports expired passwords."),
    /// Denial after the password: the account is locked.
    AccountHasBeenLocked => (3118, "HY000", Some("ER_ACCOUNT_HAS_BEEN_LOCKED"),
        "Access denied for user '%-.48s'@'%-.64s'. Account is locked."),
    /// Denial after the password: `require_secure_transport=ON` and the transport is plain TCP.
    SecureTransportRequired => (3159, "HY000", Some("ER_SECURE_TRANSPORT_REQUIRED"),
        "Connections using insecure transport are prohibited while --require_secure_transport=ON."),
    /// Server state: `SET GLOBAL require_secure_transport=ON` while TLS is off.
    NoSecureTransportsConfigured => (3160, "HY000", Some("ER_NO_SECURE_TRANSPORTS_CONFIGURED"),
        "No secure transports (SSL or Shared Memory) are configured, unable to set --require_secure_transport=ON."),
    /// A note, not an error: `DROP USER IF EXISTS` for an account that does not exist.
    UserDoesNotExist => (3162, "HY000", Some("ER_USER_DOES_NOT_EXIST"),
        "Authorization ID %s does not exist."),
    /// A note, not an error: `CREATE USER IF NOT EXISTS` for an account that exists.
    UserAlreadyExists => (3163, "HY000", Some("ER_USER_ALREADY_EXISTS"),
        "Authorization ID %s already exists."),
    /// Denial: a password change to a password the account's history or reuse interval
    /// forbids. `'%.*s@%.*s'` puts user and host inside one pair of quotes, as MySQL does.
    CredentialsContradictToHistory => (3638, "HY000", Some("ER_CREDENTIALS_CONTRADICT_TO_HISTORY"),
        "Cannot use these credentials for '%.*s@%.*s' because they contradict the password history policy"),
    /// Denial: `RETAIN CURRENT PASSWORD` for an account whose current password is empty.
    SecondPasswordCannotBeEmpty => (3878, "HY000", Some("ER_SECOND_PASSWORD_CANNOT_BE_EMPTY"),
        "Empty password can not be retained as second password for user '%-.64s'@'%-.64s'."),
    /// Malformed input: `ALTER INSTANCE RELOAD TLS FOR CHANNEL` other than `mysql_main`.
    /// Vestibule's own code and text: MySQL's 3887 is ER_REGEXP_INVALID_CAPTURE_GROUP_NAME, so
    /// this entry has no MySQL symbol.
    InvalidTlsChannel => (3887, "HY000", None, "Invalid TLS channel name: %s"),
    /// Server state: `ALTER INSTANCE RELOAD TLS` could not build a TLS context from the
    /// configured files (an error; a warning with `NO ROLLBACK ON ERROR`).
    DaSslLibraryError => (3888, "HY000", Some("ER_DA_SSL_LIBRARY_ERROR"),
        "Failed to set up SSL because of the following SSL library error: %s"),
    /// Denial: `REPLACE 'current'` that does not match the account's current password.
    IncorrectCurrentPassword => (3891, "HY000", Some("ER_INCORRECT_CURRENT_PASSWORD"),
        "Incorrect current password. Specify the correct password which has to be replaced."),
    /// Denial: a password change without `REPLACE 'current'` by a user who is not privileged,
    /// for an account with `PASSWORD REQUIRE CURRENT` (or DEFAULT with the global ON).
    MissingCurrentPassword => (3892, "HY000", Some("ER_MISSING_CURRENT_PASSWORD"),
        "Current password needs to be specified in the REPLACE clause in order to change it."),
    /// Malformed input: `REPLACE 'current'` while changing another account's password.
    CurrentPasswordNotRequired => (3893, "HY000", Some("ER_CURRENT_PASSWORD_NOT_REQUIRED"),
        "Do not specify the current password while changing it for other users."),
    /// Denial: `RETAIN CURRENT PASSWORD` with `IDENTIFIED WITH` another plugin.
    PasswordCannotBeRetainedOnPluginChange => (3894, "HY000",
        Some("ER_PASSWORD_CANNOT_BE_RETAINED_ON_PLUGIN_CHANGE"),
        "Current password can not be retained for user '%-.64s'@'%-.64s' because authentication plugin is being changed."),
    /// Denial: `RETAIN CURRENT PASSWORD` with an empty new password.
    CurrentPasswordCannotBeRetained => (3895, "HY000", Some("ER_CURRENT_PASSWORD_CANNOT_BE_RETAINED"),
        "Current password can not be retained for user '%-.64s'@'%-.64s' because new password is empty."),
    /// Denial: FAILED_LOGIN_ATTEMPTS consecutive wrong passwords blocked the account for
    /// PASSWORD_LOCK_TIME days.
    UserAccessDeniedForUserAccountBlockedByPasswordLock => (3955, "HY000", Some("ER_USER_ACCESS_DENIED_FOR_USER_ACCOUNT_BLOCKED_BY_PASSWORD_LOCK"),
        "Access denied for user '%-.48s'@'%-.64s'. Account is blocked for %s day(s) (%s day(s) remaining) due to %u consecutive failed logins."),
    /// Server state: the session was idle longer than `wait_timeout` (MySQL 8.0.24+ sends it
    /// before closing).
    ClientInteractionTimeout => (4031, "HY000", Some("ER_CLIENT_INTERACTION_TIMEOUT"),
        "The client was disconnected by the server because of inactivity. See wait_timeout and interactive_timeout for configuring this behavior."),
}

impl MysqlError {
    /// MySQL's error number.
    pub const fn code(self) -> u16 {
        self.entry().code
    }

    /// The five-character SQLSTATE sent after the `#` marker.
    pub const fn sqlstate(self) -> &'static str {
        self.entry().sqlstate
    }

    /// MySQL's `ER_*` name for [`MysqlError::code`], or `None` where the code is Vestibule's own.
    pub const fn symbol(self) -> Option<&'static str> {
        self.entry().symbol
    }

    /// MySQL's message format: printf-style, where `%s` / `%d` take one argument each and
    /// `%-.Ns` / `%.Ns` cut their argument to at most `N` characters (`%.*s`, whose length C
    /// passes separately, takes the string alone).
    pub const fn message_format(self) -> &'static str {
        self.entry().format
    }

    /// The entry with this code, if the server sends it.
    pub fn from_code(code: u16) -> Option<MysqlError> {
        Self::ALL.iter().copied().find(|e| e.code() == code)
    }

    /// [`MysqlError::message_format`] filled with `args` in order (a missing argument reads as
    /// empty, extra ones are ignored).
    pub fn message(self, args: &[&dyn fmt::Display]) -> String {
        render(self.message_format(), args)
    }

    /// The ERR packet MySQL's `my_error` sends: the entry's code, SQLSTATE and formatted message.
    pub fn packet(self, args: &[&dyn fmt::Display]) -> ErrPacket {
        self.packet_with_message(self.message(args))
    }

    /// The ERR packet MySQL's `my_message` sends: the entry's code and SQLSTATE with a text the
    /// caller wrote (a failure's own description, or a message whose arguments are not cut as
    /// the format would cut them).
    pub fn packet_with_message(self, message: impl Into<String>) -> ErrPacket {
        ErrPacket::new(self.code(), self.sqlstate(), message)
    }
}

/// A conversion of [`MysqlError::message_format`]: how much of its argument it keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Conversion {
    /// `%%`: a literal percent sign, no argument.
    Percent,
    /// `%s`, `%d`, `%lu`, `%.*s` …: the whole argument.
    Whole,
    /// `%-.Ns` / `%.Ns`: at most `N` characters of the argument.
    Cut(usize),
}

/// Reads the conversion after a `%` (flags `-`, precision `.N`, length `l`/`z`, then the letter).
fn conversion(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Conversion {
    if chars.next_if_eq(&'%').is_some() {
        return Conversion::Percent;
    }
    while chars.next_if_eq(&'-').is_some() {}
    let mut precision = None;
    if chars.next_if_eq(&'.').is_some() {
        if chars.next_if_eq(&'*').is_some() {
            // `%.*s`: C takes the length from an extra argument, which MySQL always sets to the
            // string's own length; here the string is the only argument and is kept whole.
            chars.next();
            return Conversion::Whole;
        }
        let mut n: usize = 0;
        while let Some(d) = chars.next_if(char::is_ascii_digit) {
            let digit = d.to_digit(10).map_or(0, |d| d as usize);
            n = n.saturating_mul(10).saturating_add(digit);
        }
        precision = Some(n);
    }
    while chars.next_if(|c| matches!(c, 'l' | 'z')).is_some() {}
    chars.next();
    precision.map_or(Conversion::Whole, Conversion::Cut)
}

fn render(format: &str, args: &[&dyn fmt::Display]) -> String {
    let mut out = String::with_capacity(format.len());
    let mut args = args.iter();
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let conversion = conversion(&mut chars);
        if conversion == Conversion::Percent {
            out.push('%');
            continue;
        }
        let arg = args.next().map(ToString::to_string).unwrap_or_default();
        match conversion {
            Conversion::Cut(n) => out.extend(arg.chars().take(n)),
            _ => out.push_str(&arg),
        }
    }
    out
}

/// How many arguments [`MysqlError::message_format`] takes.
#[cfg(test)]
fn arity(format: &str) -> usize {
    let mut chars = format.chars().peekable();
    let mut n = 0;
    while let Some(c) = chars.next() {
        if c == '%' && conversion(&mut chars) != Conversion::Percent {
            n += 1;
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table, pinned: every entry's code, SQLSTATE and symbol, as MySQL 8.0 defines them
    /// (`include/mysqld_error.h`, `share/messages_to_clients.txt`). A change here is a change on
    /// the wire.
    #[rustfmt::skip]
    const PINNED: &[(MysqlError, u16, &str, Option<&str>)] = {
        use MysqlError::*;
        &[
            (ConCountError, 1040, "08004", Some("ER_CON_COUNT_ERROR")),
            (HandshakeError, 1043, "08S01", Some("ER_HANDSHAKE_ERROR")),
            (DbaccessDeniedError, 1044, "42000", Some("ER_DBACCESS_DENIED_ERROR")),
            (AccessDeniedError, 1045, "28000", Some("ER_ACCESS_DENIED_ERROR")),
            (NoDbError, 1046, "3D000", Some("ER_NO_DB_ERROR")),
            (UnknownComError, 1047, "08S01", Some("ER_UNKNOWN_COM_ERROR")),
            (BadDbError, 1049, "42000", Some("ER_BAD_DB_ERROR")),
            (ServerShutdown, 1053, "08S01", Some("ER_SERVER_SHUTDOWN")),
            (BadFieldError, 1054, "42S22", Some("ER_BAD_FIELD_ERROR")),
            (ParseError, 1064, "42000", Some("ER_PARSE_ERROR")),
            (EmptyQuery, 1065, "42000", Some("ER_EMPTY_QUERY")),
            (NoSuchThread, 1094, "HY000", Some("ER_NO_SUCH_THREAD")),
            (KillDeniedError, 1095, "HY000", Some("ER_KILL_DENIED_ERROR")),
            (NoTablesUsed, 1096, "HY000", Some("ER_NO_TABLES_USED")),
            (UnknownError, 1105, "HY000", Some("ER_UNKNOWN_ERROR")),
            (HostIsBlocked, 1129, "HY000", Some("ER_HOST_IS_BLOCKED")),
            (NonexistingGrant, 1141, "42000", Some("ER_NONEXISTING_GRANT")),
            (TableaccessDeniedError, 1142, "42000", Some("ER_TABLEACCESS_DENIED_ERROR")),
            (NoSuchTable, 1146, "42S02", Some("ER_NO_SUCH_TABLE")),
            (NewAbortingConnection, 1152, "08S01", Some("ER_NEW_ABORTING_CONNECTION")),
            (NetPacketTooLarge, 1153, "08S01", Some("ER_NET_PACKET_TOO_LARGE")),
            (NetPacketsOutOfOrder, 1156, "08S01", Some("ER_NET_PACKETS_OUT_OF_ORDER")),
            (NetReadInterrupted, 1159, "08S01", Some("ER_NET_READ_INTERRUPTED")),
            (UnknownSystemVariable, 1193, "HY000", Some("ER_UNKNOWN_SYSTEM_VARIABLE")),
            (TooManyUserConnections, 1203, "42000", Some("ER_TOO_MANY_USER_CONNECTIONS")),
            (DupArgument, 1225, "HY000", Some("ER_DUP_ARGUMENT")),
            (UserLimitReached, 1226, "42000", Some("ER_USER_LIMIT_REACHED")),
            (SpecificAccessDeniedError, 1227, "42000", Some("ER_SPECIFIC_ACCESS_DENIED_ERROR")),
            (GlobalVariable, 1229, "HY000", Some("ER_GLOBAL_VARIABLE")),
            (WrongValueForVar, 1231, "42000", Some("ER_WRONG_VALUE_FOR_VAR")),
            (WrongTypeForVar, 1232, "42000", Some("ER_WRONG_TYPE_FOR_VAR")),
            (NotSupportedYet, 1235, "42000", Some("ER_NOT_SUPPORTED_YET")),
            (IncorrectGlobalLocalVar, 1238, "HY000", Some("ER_INCORRECT_GLOBAL_LOCAL_VAR")),
            (NotSupportedAuthMode, 1251, "08004", Some("ER_NOT_SUPPORTED_AUTH_MODE")),
            (RevokeGrants, 1269, "HY000", Some("ER_REVOKE_GRANTS")),
            (TruncatedWrongValue, 1292, "22007", Some("ER_TRUNCATED_WRONG_VALUE")),
            (SpDoesNotExist, 1305, "42000", Some("ER_SP_DOES_NOT_EXIST")),
            (QueryInterrupted, 1317, "70100", Some("ER_QUERY_INTERRUPTED")),
            (CannotUser, 1396, "HY000", Some("ER_CANNOT_USER")),
            (CantCreateUserWithGrant, 1410, "42000", Some("ER_CANT_CREATE_USER_WITH_GRANT")),
            (ConnectToForeignDataSource, 1429, "HY000", Some("ER_CONNECT_TO_FOREIGN_DATA_SOURCE")),
            (WrongStringLength, 1470, "HY000", Some("ER_WRONG_STRING_LENGTH")),
            (PluginIsNotLoaded, 1524, "HY000", Some("ER_PLUGIN_IS_NOT_LOADED")),
            (WrongValue, 1525, "HY000", Some("ER_WRONG_VALUE")),
            (WrongParamcountToNativeFct, 1582, "42000", Some("ER_WRONG_PARAMCOUNT_TO_NATIVE_FCT")),
            (VariableIsReadonly, 1621, "HY000", Some("ER_VARIABLE_IS_READONLY")),
            (NotValidPassword, 1819, "HY000", Some("ER_NOT_VALID_PASSWORD")),
            (MustChangePassword, 1820, "HY000", Some("ER_MUST_CHANGE_PASSWORD")),
            (PasswordFormat, 1827, "HY000", Some("ER_PASSWORD_FORMAT")),
            (MustChangePasswordLogin, 1862, "HY000", Some("ER_MUST_CHANGE_PASSWORD_LOGIN")),
            (AccountHasBeenLocked, 3118, "HY000", Some("ER_ACCOUNT_HAS_BEEN_LOCKED")),
            (SecureTransportRequired, 3159, "HY000", Some("ER_SECURE_TRANSPORT_REQUIRED")),
            (NoSecureTransportsConfigured, 3160, "HY000", Some("ER_NO_SECURE_TRANSPORTS_CONFIGURED")),
            (UserDoesNotExist, 3162, "HY000", Some("ER_USER_DOES_NOT_EXIST")),
            (UserAlreadyExists, 3163, "HY000", Some("ER_USER_ALREADY_EXISTS")),
            (CredentialsContradictToHistory, 3638, "HY000", Some("ER_CREDENTIALS_CONTRADICT_TO_HISTORY")),
            (SecondPasswordCannotBeEmpty, 3878, "HY000", Some("ER_SECOND_PASSWORD_CANNOT_BE_EMPTY")),
            (InvalidTlsChannel, 3887, "HY000", None),
            (DaSslLibraryError, 3888, "HY000", Some("ER_DA_SSL_LIBRARY_ERROR")),
            (IncorrectCurrentPassword, 3891, "HY000", Some("ER_INCORRECT_CURRENT_PASSWORD")),
            (MissingCurrentPassword, 3892, "HY000", Some("ER_MISSING_CURRENT_PASSWORD")),
            (CurrentPasswordNotRequired, 3893, "HY000", Some("ER_CURRENT_PASSWORD_NOT_REQUIRED")),
            (PasswordCannotBeRetainedOnPluginChange, 3894, "HY000", Some("ER_PASSWORD_CANNOT_BE_RETAINED_ON_PLUGIN_CHANGE")),
            (CurrentPasswordCannotBeRetained, 3895, "HY000", Some("ER_CURRENT_PASSWORD_CANNOT_BE_RETAINED")),
            (UserAccessDeniedForUserAccountBlockedByPasswordLock, 3955, "HY000", Some("ER_USER_ACCESS_DENIED_FOR_USER_ACCOUNT_BLOCKED_BY_PASSWORD_LOCK")),
            (ClientInteractionTimeout, 4031, "HY000", Some("ER_CLIENT_INTERACTION_TIMEOUT")),
        ]
    };

    #[test]
    fn every_entry_has_mysqls_code_sqlstate_and_symbol() {
        assert_eq!(
            PINNED.iter().map(|p| p.0).collect::<Vec<_>>(),
            MysqlError::ALL,
            "the pinned list and the table hold the same entries in the same order"
        );
        for &(e, code, sqlstate, symbol) in PINNED {
            assert_eq!(
                (e.code(), e.sqlstate(), e.symbol()),
                (code, sqlstate, symbol)
            );
            assert_eq!(MysqlError::from_code(code), Some(e));
            // The variant is the symbol in CamelCase, without `ER_`.
            if let Some(symbol) = symbol {
                let camel: String = symbol
                    .trim_start_matches("ER_")
                    .split('_')
                    .map(|w| {
                        let lower = w.to_ascii_lowercase();
                        let mut cs = lower.chars();
                        cs.next()
                            .map(|c| c.to_ascii_uppercase().to_string() + cs.as_str())
                            .unwrap_or_default()
                    })
                    .collect();
                assert_eq!(format!("{e:?}"), camel);
            }
        }
    }

    #[test]
    fn the_table_is_in_code_order_with_valid_sqlstates() {
        for pair in MysqlError::ALL.windows(2) {
            assert!(pair[0].code() < pair[1].code(), "{pair:?}");
        }
        for e in MysqlError::ALL {
            let s = e.sqlstate();
            assert!(
                s.len() == 5
                    && s.bytes()
                        .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase()),
                "{e:?}: {s}"
            );
        }
        assert_eq!(MysqlError::from_code(1), None);
    }

    #[test]
    fn messages_fill_mysqls_formats() {
        use MysqlError::*;
        let arity: Vec<(MysqlError, usize)> = MysqlError::ALL
            .iter()
            .map(|e| (*e, arity(e.message_format())))
            .collect();
        assert!(arity.contains(&(ConCountError, 0)));
        assert!(arity.contains(&(AccessDeniedError, 3)));
        assert!(arity.contains(&(TableaccessDeniedError, 4)));
        assert_eq!(
            AccessDeniedError.message(&[&"app", &"localhost", &"YES"]),
            "Access denied for user 'app'@'localhost' (using password: YES)"
        );
        // `%-.48s` cuts to 48 characters (not bytes); `%s` keeps everything.
        let long = "é".repeat(60);
        assert_eq!(
            AccessDeniedError.message(&[&long, &"h", &"NO"]),
            format!(
                "Access denied for user '{}'@'h' (using password: NO)",
                "é".repeat(48)
            )
        );
        assert_eq!(
            NotSupportedYet.message(&[&long]),
            format!("This version of MySQL doesn't yet support '{long}'")
        );
        assert_eq!(
            ParseError.message(&[&"You have an error", &"x", &3]),
            "You have an error near 'x' at line 3"
        );
        assert_eq!(
            WrongStringLength.message(&[&"u", &"user name", &32]),
            "String 'u' is too long for user name (should be no longer than 32)"
        );
        // Missing arguments read as empty; extra ones are ignored; `%%` is a percent sign.
        assert_eq!(BadDbError.message(&[]), "Unknown database ''");
        assert_eq!(UnknownComError.message(&[&"x"]), "Unknown command");
        // `%.*s` takes one argument, kept whole: 3638's `'u@h'` in one pair of quotes.
        assert!(arity.contains(&(CredentialsContradictToHistory, 2)));
        assert_eq!(
            CredentialsContradictToHistory.message(&[&long, &"10.0.0.%"]),
            format!("Cannot use these credentials for '{long}@10.0.0.%' because they contradict the password history policy")
        );
        assert_eq!(
            WrongValue.message(&[&"DAY", &0]),
            "Incorrect DAY value: '0'"
        );
        assert_eq!(
            VariableIsReadonly.message(&[&"SESSION", &"max_user_connections", &"GLOBAL"]),
            "SESSION variable 'max_user_connections' is read-only. Use SET GLOBAL to assign the value"
        );
        assert_eq!(
            SecondPasswordCannotBeEmpty.message(&[&"test", &"localhost"]),
            "Empty password can not be retained as second password for user 'test'@'localhost'."
        );
        assert_eq!(
            CurrentPasswordCannotBeRetained.message(&[&"test", &"localhost"]),
            "Current password can not be retained for user 'test'@'localhost' because new password is empty."
        );
        assert_eq!(render("100%% of %s", &[&"it"]), "100% of it");
        assert_eq!(render("%", &[&"x"]), "x");
    }

    /// Each typed error of the core converts into its entry, keeps the code and SQLSTATE it
    /// had before the table, and its Display text is the entry's format filled with its fields.
    #[test]
    fn the_core_errors_convert_into_the_table() {
        use crate::account::{AccountError, Warning};
        use crate::account_ops::AccountOpError;
        use crate::handshake::HandshakeError as H;
        use crate::sql::{ParseError as P, ParseErrorKind as K};

        /// An error, its entry, the (code, SQLSTATE) it had before the table, and the arguments
        /// that fill the entry's format to its Display text.
        type Case<'a, E> = (
            E,
            MysqlError,
            (u16, &'static str),
            Vec<&'a dyn fmt::Display>,
        );

        fn check(text: String, entry: MysqlError, pinned: (u16, &str), args: &[&dyn fmt::Display]) {
            assert_eq!((entry.code(), entry.sqlstate()), pinned, "{entry:?}");
            assert_eq!(text, entry.message(args), "{entry:?}");
        }

        let (user, host) = ("app", "10.0.0.1");
        let handshake: Vec<Case<'_, H>> = vec![
            (
                H::BadHandshake,
                MysqlError::HandshakeError,
                (1043, "08S01"),
                vec![],
            ),
            (
                H::AccessDenied {
                    user: user.into(),
                    host: host.into(),
                    using_password: true,
                },
                MysqlError::AccessDeniedError,
                (1045, "28000"),
                vec![&user, &host, &"YES"],
            ),
            (
                H::NotSupportedAuthMode,
                MysqlError::NotSupportedAuthMode,
                (1251, "08004"),
                vec![],
            ),
            (
                H::AccountLocked {
                    user: user.into(),
                    host: host.into(),
                },
                MysqlError::AccountHasBeenLocked,
                (3118, "HY000"),
                vec![&user, &host],
            ),
            (
                H::SecureTransportRequired,
                MysqlError::SecureTransportRequired,
                (3159, "HY000"),
                vec![],
            ),
            (
                H::TooManyConnections,
                MysqlError::ConCountError,
                (1040, "08004"),
                vec![],
            ),
            (
                H::UnknownDatabase("shop".into()),
                MysqlError::BadDbError,
                (1049, "42000"),
                vec![&"shop"],
            ),
            (
                H::PacketsOutOfOrder,
                MysqlError::NetPacketsOutOfOrder,
                (1156, "08S01"),
                vec![],
            ),
            (
                H::PacketTooLarge,
                MysqlError::NetPacketTooLarge,
                (1153, "08S01"),
                vec![],
            ),
        ];
        for (e, entry, pinned, args) in handshake {
            assert_eq!(e.mysql_error(), Some(entry));
            assert_eq!(e.code(), pinned);
            assert_eq!(e.to_err_packet(), Some(entry.packet(&args)));
            check(e.to_string(), entry, pinned, &args);
        }
        // Closed without a packet: a driver bug is still a bad handshake; a refusal carries the
        // backend's code and packet.
        let unexpected = H::UnexpectedEvent {
            event: "e",
            state: "s",
        };
        assert_eq!(unexpected.mysql_error(), Some(MysqlError::HandshakeError));
        assert_eq!(unexpected.code(), (1043, "08S01"));
        assert_eq!(unexpected.to_err_packet(), None);
        let refused = H::Refused(1234);
        assert_eq!(
            (refused.mysql_error(), refused.code()),
            (None, (1234, "HY000"))
        );
        assert_eq!(refused.to_err_packet(), None);

        let long_user = "u".repeat(33);
        let long_host = "h".repeat(300);
        let account: Vec<Case<'_, AccountError>> = vec![
            (
                AccountError::OperationFailed {
                    operation: "CREATE USER",
                    accounts: vec!["'a'@'%'".into(), "'b'@'%'".into()],
                },
                MysqlError::CannotUser,
                (1396, "HY000"),
                vec![&"CREATE USER", &"'a'@'%','b'@'%'"],
            ),
            (
                AccountError::UserNameTooLong {
                    user: long_user.clone(),
                },
                MysqlError::WrongStringLength,
                (1470, "HY000"),
                vec![&long_user, &"user name", &32],
            ),
            (
                AccountError::HostNameTooLong {
                    host: long_host.clone(),
                },
                MysqlError::WrongStringLength,
                (1470, "HY000"),
                vec![&long_host, &"host name", &255],
            ),
        ];
        for (e, entry, pinned, args) in account {
            assert_eq!(
                (MysqlError::from(&e), (e.code(), e.sqlstate())),
                (entry, pinned)
            );
            assert_eq!(e.to_err_packet(), entry.packet(&args));
            let op = AccountOpError::Account(e.clone());
            assert_eq!(
                (MysqlError::from(&op), (op.code(), op.sqlstate())),
                (entry, pinned)
            );
            assert_eq!(op.to_err_packet(), e.to_err_packet());
            check(e.to_string(), entry, pinned, &args);
        }

        let ops: Vec<Case<'_, AccountOpError>> = vec![
            (
                AccountOpError::GrantWouldCreateUser,
                MysqlError::CantCreateUserWithGrant,
                (1410, "42000"),
                vec![],
            ),
            (
                AccountOpError::NoSuchGrant {
                    user: user.into(),
                    host: host.into(),
                },
                MysqlError::NonexistingGrant,
                (1141, "42000"),
                vec![&user, &host],
            ),
            (
                AccountOpError::CannotRevokeAll,
                MysqlError::RevokeGrants,
                (1269, "HY000"),
                vec![],
            ),
        ];
        for (e, entry, pinned, args) in ops {
            assert_eq!(
                (MysqlError::from(&e), (e.code(), e.sqlstate())),
                (entry, pinned)
            );
            assert_eq!(e.to_err_packet(), entry.packet(&args));
            check(e.to_string(), entry, pinned, &args);
        }

        let name = "'a'@'%'";
        for (w, entry, code) in [
            (
                Warning::UserAlreadyExists {
                    account: name.into(),
                },
                MysqlError::UserAlreadyExists,
                3163,
            ),
            (
                Warning::UserDoesNotExist {
                    account: name.into(),
                },
                MysqlError::UserDoesNotExist,
                3162,
            ),
        ] {
            assert_eq!((w.mysql_error(), w.code()), (entry, code));
            assert_eq!(w.to_string(), entry.message(&[&name]));
        }

        let syntax = "You have an error in your SQL syntax; check the manual that corresponds to \
                      your MySQL server version for the right syntax to use";
        let query = "SELEC 1\n";
        let parse: Vec<(K, MysqlError, (u16, &str), String)> = vec![
            (
                K::Syntax,
                MysqlError::ParseError,
                (1064, "42000"),
                format!("{syntax} near 'SELEC 1\n' at line 1"),
            ),
            (
                K::TooDeep,
                MysqlError::ParseError,
                (1064, "42000"),
                format!("{syntax} near 'SELEC 1\n' at line 1"),
            ),
            (
                K::Empty {
                    comment_only: false,
                },
                MysqlError::EmptyQuery,
                (1065, "42000"),
                "Query was empty".into(),
            ),
            (
                K::Unsupported("DEFAULT ROLE"),
                MysqlError::NotSupportedYet,
                (1235, "42000"),
                "This version of MySQL doesn't yet support 'DEFAULT ROLE'".into(),
            ),
            (
                K::WrongValue {
                    what: "DAY",
                    value: "0".into(),
                },
                MysqlError::WrongValue,
                (1525, "HY000"),
                "Incorrect DAY value: '0'".into(),
            ),
            (
                K::DuplicateOption("ISSUER"),
                MysqlError::DupArgument,
                (1225, "HY000"),
                "Option 'ISSUER' used twice in statement".into(),
            ),
        ];
        for (kind, entry, pinned, text) in parse {
            let e = P::new(kind, 0, query);
            assert_eq!(
                (MysqlError::from(&e), (e.code(), e.sqlstate())),
                (entry, pinned)
            );
            assert_eq!(e.message(query), text);
            assert_eq!(
                e.to_err_packet(query),
                ErrPacket::new(pinned.0, pinned.1, text)
            );
        }
    }

    #[test]
    fn packets_carry_the_entrys_code_and_sqlstate() {
        let p = MysqlError::ServerShutdown.packet(&[]);
        assert_eq!(
            p,
            ErrPacket::new(1053, "08S01", "Server shutdown in progress")
        );
        let p = MysqlError::UnknownError.packet_with_message("disk full");
        assert_eq!(p, ErrPacket::new(1105, "HY000", "disk full"));
    }
}
