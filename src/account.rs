//! Accounts: the `'user'@'host'` model and everything MySQL decides from it before a password is
//! checked.
//!
//! This module owns the [`Account`] record (plugin, stored `authentication_string`, REQUIRE, lock
//! and privilege flags, and MySQL 8.0's account-security options: failed-login locking, password
//! expiry with [`Account::password_expired_at`], the secondary password, resource limits, the
//! password history and its policy), MySQL's host-pattern matching ([`host_matches`]) and account ordering
//! (which account a connecting `user` from a given client host resolves to, [`AccountSet::lookup`]),
//! the account-management operations with MySQL's all-or-nothing semantics (CREATE / DROP /
//! RENAME / ALTER USER → 1396, 3162, 3163), the decoy plugin for unknown users, and the text format
//! of the accounts file ([`serialize_accounts`] / [`parse_accounts`]).
//!
//! It never does I/O (the server's `store` module reads and writes the file), never reads a clock or
//! an RNG (the decoy secret is passed in), never checks a password (`auth`) and never evaluates
//! REQUIRE against a certificate (the TLS policy does, from the [`Require`] stored here).
//!
//! Invariants an [`AccountSet`] keeps: host parts are ASCII-lowercase (MySQL lowercases the host of
//! an account name when it parses it), no two accounts share an identity, user ≤ 32 and host ≤ 255
//! characters, each account's `authentication_string` is of its plugin's format, and the accounts
//! are sorted in MySQL's matching order. Whatever is in a set can therefore be written to the file
//! and read back unchanged.

use std::cmp::Reverse;
use std::fmt;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::auth::{AuthString, Plugin};
use crate::error::MysqlError;
use crate::wire::packets::ErrPacket;

/// Longest user name, in characters (MySQL `USERNAME_CHAR_LENGTH`).
pub const MAX_USER_CHARS: usize = 32;
/// Longest host part, in characters (MySQL `HOSTNAME_LENGTH`).
pub const MAX_HOST_CHARS: usize = 255;
/// The accounts-file format version this code writes and reads.
pub const ACCOUNTS_FILE_VERSION: u32 = 1;

/// The first word of the accounts file's header line (`vestibule-accounts 1`).
const FILE_MAGIC: &str = "vestibule-accounts";

// ---------------------------------------------------------------------------------------------
// Client host
// ---------------------------------------------------------------------------------------------

/// Where a connection came from, as the server saw it (never as the client claims).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ClientHost {
    /// The Unix-domain socket: MySQL's host `localhost`, without an IP address.
    Unix,
    /// A TCP peer address.
    Tcp(IpAddr),
}

impl ClientHost {
    /// Host shown in messages (`Access denied for user 'u'@'<this>'`, `USER()`): `localhost` for the
    /// Unix socket and for loopback addresses (127.0.0.0/8, `::1`, `::ffff:127.x.y.z`) — MySQL's
    /// name resolution maps loopback to `localhost` — else the IP text, with IPv4-mapped IPv6
    /// addresses shown as IPv4 (MySQL's `vio_get_normalized_ip`). Vestibule does no DNS lookups.
    pub fn display_host(&self) -> String {
        match self.ip() {
            Some(ip) if !ip.is_loopback() => ip.to_string(),
            _ => "localhost".to_owned(),
        }
    }

    /// Whether the transport is secure without TLS: the Unix socket (MySQL counts it as secure for
    /// `require_secure_transport` and caching_sha2_password's cleartext full authentication; note
    /// that sha256_password still demands TLS; docs/protocol.md, "Secure transports").
    pub fn is_secure_transport_by_itself(&self) -> bool {
        matches!(self, ClientHost::Unix)
    }

    /// The peer IP, IPv4-mapped IPv6 normalised to IPv4; `None` for the socket.
    fn ip(&self) -> Option<IpAddr> {
        match *self {
            ClientHost::Unix => None,
            ClientHost::Tcp(ip) => Some(normalize_ip(ip)),
        }
    }

    /// The Unix socket or a loopback address: the clients that carry the host name `localhost`.
    fn is_local(&self) -> bool {
        match self.ip() {
            None => true,
            Some(ip) => ip.is_loopback(),
        }
    }
}

fn normalize_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

// ---------------------------------------------------------------------------------------------
// Account
// ---------------------------------------------------------------------------------------------

/// Per-account TLS requirement (`REQUIRE …` of CREATE/ALTER USER; `mysql.user.ssl_type` and the
/// `ssl_cipher` / `x509_issuer` / `x509_subject` columns). Evaluated after the password check;
/// failure is 1045 (docs/protocol.md, "Per-account REQUIRE").
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Require {
    /// `REQUIRE NONE` (`ssl_type = ''`).
    None,
    /// `REQUIRE SSL` (`ssl_type = 'ANY'`): the connection must use TLS.
    Ssl,
    /// `REQUIRE X509`: TLS and a verified client certificate.
    X509,
    /// `REQUIRE ISSUER … SUBJECT … CIPHER …` (`ssl_type = 'SPECIFIED'`), plus TiDB's `SAN`.
    /// Each present string is compared exactly; the strings may contain any character.
    Specified {
        /// `ISSUER`: the certificate's issuer in OpenSSL's one-line form.
        issuer: Option<String>,
        /// `SUBJECT`: the certificate's subject in the same form.
        subject: Option<String>,
        /// `CIPHER`: the negotiated suite's OpenSSL name.
        cipher: Option<String>,
        /// `SAN` (TiDB): comma-separated `DNS:…`, `IP:…` entries the certificate must all have.
        san: Option<String>,
    },
}

/// `PASSWORD_LOCK_TIME` of CREATE / ALTER USER (`User_attributes.Password_locking.
/// password_lock_time_days`): how long the temporary lock after `FAILED_LOGIN_ATTEMPTS`
/// consecutive wrong passwords lasts, in calendar days. `Days(0)` (the default) disables it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PasswordLockTime {
    /// `PASSWORD_LOCK_TIME n`, 0..=[`MAX_PASSWORD_LOCKING_VALUE`].
    Days(u32),
    /// `PASSWORD_LOCK_TIME UNBOUNDED` (MySQL stores -1): the lock never lapses on its own; only
    /// `ALTER USER … ACCOUNT UNLOCK`, an `ALTER USER` setting either locking option, FLUSH
    /// PRIVILEGES or a restart end it.
    Unbounded,
}

impl Default for PasswordLockTime {
    fn default() -> Self {
        PasswordLockTime::Days(0)
    }
}

/// Largest `FAILED_LOGIN_ATTEMPTS` and `PASSWORD_LOCK_TIME` value (MySQL's `INT_MAX16`; larger
/// values are error 1525 at parse time).
pub const MAX_PASSWORD_LOCKING_VALUE: u32 = 32767;
/// Largest `PASSWORD EXPIRE INTERVAL n DAY` (MySQL's `UINT_MAX16`; 0 and larger values are 1525).
pub const MAX_PASSWORD_LIFETIME_DAYS: u32 = 65535;

/// `mysql.user.password_lifetime`: when a password expires by age.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum PasswordLifetime {
    /// `PASSWORD EXPIRE DEFAULT` (column NULL): the global `default_password_lifetime` applies.
    #[default]
    Default,
    /// `PASSWORD EXPIRE NEVER` (column 0).
    Never,
    /// `PASSWORD EXPIRE INTERVAL n DAY`, 1..=[`MAX_PASSWORD_LIFETIME_DAYS`].
    Days(u32),
}

/// One `mysql.user` row, reduced to what Vestibule needs, with the account-security options of
/// MySQL 8.0 (`User_attributes` and the password and resource columns).
///
/// Every field added after the first release has MySQL's default in [`Account::new`], so an
/// account created without the option, and an accounts file written before it existed, behave
/// as MySQL does without it. Times are Unix seconds supplied by the caller: this type never
/// reads a clock.
///
/// `Debug` never shows a stored credential (primary, secondary or history), only whether it is
/// empty or how many there are.
#[derive(Clone, PartialEq, Eq)]
pub struct Account {
    /// User part; `''` is the anonymous user, which matches any user name.
    pub user: String,
    /// Host pattern (`%`, `_`, `\` escapes, IPv4 netmask/CIDR, IP literal or name).
    pub host: String,
    /// `mysql.user.plugin`: the authentication plugin the account logs in with.
    pub plugin: Plugin,
    /// `mysql.user.authentication_string`, in `plugin`'s format: the primary password.
    pub auth_string: AuthString,
    /// The `REQUIRE` clause, checked after the password.
    pub require: Require,
    /// `ACCOUNT LOCK`: a correct password still gets 3118.
    pub locked: bool,
    /// `GRANT ALL ON *.*`.
    pub admin: bool,
    /// `WITH GRANT OPTION`.
    pub grant_option: bool,

    /// `FAILED_LOGIN_ATTEMPTS n` (0..=[`MAX_PASSWORD_LOCKING_VALUE`], 0 = off). Together with a
    /// non-zero [`Account::password_lock_time`] it arms the temporary lock (3955); see
    /// [`Account::password_locking_active`]. The counter itself is login-time state kept by
    /// the server, never stored (MySQL keeps it in memory only).
    pub failed_login_attempts: u32,
    /// `PASSWORD_LOCK_TIME n | UNBOUNDED`.
    pub password_lock_time: PasswordLockTime,

    /// `mysql.user.password_expired`: set by `PASSWORD EXPIRE` (and by `ALTER USER … IDENTIFIED
    /// WITH plugin` without a password), cleared by every password change. A login with a
    /// correct password then gets 1862 or the sandbox (1820).
    pub password_expired: bool,
    /// `PASSWORD EXPIRE DEFAULT | NEVER | INTERVAL n DAY`.
    pub password_lifetime: PasswordLifetime,
    /// `mysql.user.password_last_changed`, Unix seconds, set by every password change. 0 means
    /// "not recorded" (an account from a file written before this field existed): such an
    /// account never expires by age, as MySQL skips the check for a NULL column.
    pub password_last_changed: u64,

    /// `User_attributes.additional_password`: the secondary password of a dual-password account
    /// (`RETAIN CURRENT PASSWORD`), in `plugin`'s format, never empty when `Some`. Logins try the
    /// primary, then this one. Never shown by SHOW CREATE USER.
    pub secondary: Option<AuthString>,

    /// `WITH MAX_QUERIES_PER_HOUR n` (`max_questions`; 0 = unlimited).
    pub max_queries_per_hour: u32,
    /// `WITH MAX_UPDATES_PER_HOUR n` (`max_updates`; 0 = unlimited).
    pub max_updates_per_hour: u32,
    /// `WITH MAX_CONNECTIONS_PER_HOUR n` (`max_connections`; 0 = unlimited).
    pub max_connections_per_hour: u32,
    /// `WITH MAX_USER_CONNECTIONS n` (0 = the global `max_user_connections` applies).
    pub max_user_connections: u32,

    /// `PASSWORD HISTORY n | DEFAULT` (`Password_reuse_history`; `None` = DEFAULT, the global
    /// `password_history`).
    pub password_history: Option<u32>,
    /// `PASSWORD REUSE INTERVAL n DAY | DEFAULT` (`Password_reuse_time`; `None` = DEFAULT, the
    /// global `password_reuse_interval`).
    pub password_reuse_interval: Option<u32>,
    /// `PASSWORD REQUIRE CURRENT [DEFAULT | OPTIONAL]` (`Password_require_current`): `None` =
    /// DEFAULT (the global `password_require_current`), `Some(true)` = `PASSWORD REQUIRE CURRENT`,
    /// `Some(false)` = `OPTIONAL`.
    pub password_require_current: Option<bool>,
    /// `mysql.password_history` for this account, newest first: (Unix seconds of the change,
    /// the stored hash in `plugin`'s format). Hashes only, never cleartext; never empty
    /// strings. Kept only while a history length or reuse interval applies (MySQL's
    /// `auth_verify_password_history`).
    pub password_history_entries: Vec<(u64, AuthString)>,
}

impl Account {
    /// An unlocked account without privileges, with `REQUIRE NONE` and MySQL's defaults for
    /// every security option: no failed-login locking, `PASSWORD EXPIRE DEFAULT`, not expired,
    /// last change not recorded, no secondary password, no resource limits, `PASSWORD HISTORY
    /// DEFAULT`, `PASSWORD REUSE INTERVAL DEFAULT`, `PASSWORD REQUIRE CURRENT DEFAULT`.
    pub fn new(user: &str, host: &str, plugin: Plugin, auth_string: AuthString) -> Self {
        Account {
            user: user.to_owned(),
            host: host.to_owned(),
            plugin,
            auth_string,
            require: Require::None,
            locked: false,
            admin: false,
            grant_option: false,
            failed_login_attempts: 0,
            password_lock_time: PasswordLockTime::default(),
            password_expired: false,
            password_lifetime: PasswordLifetime::Default,
            password_last_changed: 0,
            secondary: None,
            max_queries_per_hour: 0,
            max_updates_per_hour: 0,
            max_connections_per_hour: 0,
            max_user_connections: 0,
            password_history: None,
            password_reuse_interval: None,
            password_require_current: None,
            password_history_entries: Vec::new(),
        }
    }

    /// The account name as MySQL prints it in messages: `'user'@'host'`.
    pub fn name(&self) -> String {
        account_name(&self.user, &self.host)
    }

    /// Whether failed-login tracking applies (MySQL `Password_locked_state::is_active`): both
    /// `FAILED_LOGIN_ATTEMPTS` and `PASSWORD_LOCK_TIME` are non-zero.
    pub fn password_locking_active(&self) -> bool {
        self.failed_login_attempts != 0 && self.password_lock_time != PasswordLockTime::Days(0)
    }

    /// Whether a login with the right password must be treated as having an expired password
    /// (MySQL `acl_authenticate` → `check_password_lifetime`), at `now_secs` (Unix seconds,
    /// from the caller's clock) with the global `default_password_lifetime` in days:
    ///
    /// * [`Account::password_expired`] set (`PASSWORD EXPIRE`) → expired;
    /// * else the lifetime in days is the account's `INTERVAL n DAY`, or the global for
    ///   `DEFAULT`; `NEVER`, a global of 0, or no recorded last change → not expired;
    /// * else expired once whole 24-hour days since [`Account::password_last_changed`] reach
    ///   the lifetime (MySQL counts `interval.day` of the time difference, not calendar days; a
    ///   clock that went backwards counts 0).
    ///
    /// MySQL computes lifetimes only for built-in plugins (`auth_plugin_is_built_in`), which
    /// all of [`Plugin`]'s are.
    pub fn password_expired_at(&self, now_secs: u64, default_lifetime_days: u32) -> bool {
        if self.password_expired {
            return true;
        }
        let lifetime = match self.password_lifetime {
            PasswordLifetime::Default => default_lifetime_days,
            PasswordLifetime::Never => 0,
            PasswordLifetime::Days(n) => n,
        };
        if lifetime == 0 || self.password_last_changed == 0 {
            return false;
        }
        let days = now_secs.saturating_sub(self.password_last_changed) / SECONDS_PER_DAY;
        days >= u64::from(lifetime)
    }

    /// The credentials a login may match, primary first, then the secondary password when the
    /// account has one (MySQL tries `authentication_string`, then `additional_password`).
    pub fn credentials(&self) -> impl Iterator<Item = &AuthString> {
        std::iter::once(&self.auth_string).chain(self.secondary.as_ref())
    }
}

/// Seconds in a day, for day counts computed from Unix seconds.
pub const SECONDS_PER_DAY: u64 = 86_400;

impl fmt::Debug for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let credential = if self.auth_string.is_empty() {
            format_args!("<empty>")
        } else {
            format_args!("<redacted>")
        };
        let secondary = if self.secondary.is_some() {
            "Some(<redacted>)"
        } else {
            "None"
        };
        f.debug_struct("Account")
            .field("user", &self.user)
            .field("host", &self.host)
            .field("plugin", &self.plugin)
            .field("auth_string", &credential)
            .field("require", &self.require)
            .field("locked", &self.locked)
            .field("admin", &self.admin)
            .field("grant_option", &self.grant_option)
            .field("failed_login_attempts", &self.failed_login_attempts)
            .field("password_lock_time", &self.password_lock_time)
            .field("password_expired", &self.password_expired)
            .field("password_lifetime", &self.password_lifetime)
            .field("password_last_changed", &self.password_last_changed)
            .field("secondary", &format_args!("{secondary}"))
            .field("max_queries_per_hour", &self.max_queries_per_hour)
            .field("max_updates_per_hour", &self.max_updates_per_hour)
            .field("max_connections_per_hour", &self.max_connections_per_hour)
            .field("max_user_connections", &self.max_user_connections)
            .field("password_history", &self.password_history)
            .field("password_reuse_interval", &self.password_reuse_interval)
            .field("password_require_current", &self.password_require_current)
            .field(
                "password_history_entries",
                &format_args!("<{} redacted>", self.password_history_entries.len()),
            )
            .finish()
    }
}

/// An account identity `(user, host)` as account-management statements name it.
pub type AccountId = (String, String);

/// `'user'@'host'` exactly as MySQL's `append_user` writes it (no escaping of quotes inside).
pub fn account_name(user: &str, host: &str) -> String {
    format!("'{user}'@'{host}'")
}

/// Whether `auth` is a string of `plugin`'s format (an empty string fits every plugin).
fn auth_fits_plugin(plugin: Plugin, auth: &AuthString) -> bool {
    match auth {
        AuthString::Empty => true,
        AuthString::CachingSha2 { .. } => plugin == Plugin::CachingSha2Password,
        AuthString::Native { .. } => plugin == Plugin::MysqlNativePassword,
        AuthString::Sha256 { .. } => plugin == Plugin::Sha256Password,
    }
}

/// Whether every stored credential of `a` is of its plugin's format: the primary (which may be
/// empty), the secondary and the history entries (which may not).
fn credentials_fit_plugin(a: &Account) -> bool {
    let stored_fits = |auth: &AuthString| !auth.is_empty() && auth_fits_plugin(a.plugin, auth);
    auth_fits_plugin(a.plugin, &a.auth_string)
        && a.secondary.as_ref().is_none_or(stored_fits)
        && a.password_history_entries
            .iter()
            .all(|(_, h)| stored_fits(h))
}

// ---------------------------------------------------------------------------------------------
// Errors and notes
// ---------------------------------------------------------------------------------------------

/// Failures of account-management statements and identity validation.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AccountError {
    /// 1396 ER_CANNOT_USER (HY000), `Operation %s failed for %.256s`: the statement changed nothing;
    /// `accounts` lists every failing account as `'user'@'host'`.
    #[error("Operation {operation} failed for {}", truncate_chars(&.accounts.join(","), 256))]
    OperationFailed {
        /// The statement, as MySQL names it (`CREATE USER`, `DROP USER` …).
        operation: &'static str,
        /// Every failing account, `'user'@'host'`.
        accounts: Vec<String>,
    },
    /// 1470 ER_WRONG_STRING_LENGTH (HY000): user part longer than 32 characters.
    #[error(
        "String '{}' is too long for user name (should be no longer than {MAX_USER_CHARS})",
        truncate_chars(.user, 70)
    )]
    UserNameTooLong {
        /// The user part as given.
        user: String,
    },
    /// 1470 ER_WRONG_STRING_LENGTH (HY000): host part longer than 255 characters.
    #[error(
        "String '{}' is too long for host name (should be no longer than {MAX_HOST_CHARS})",
        truncate_chars(.host, 70)
    )]
    HostNameTooLong {
        /// The host part as given.
        host: String,
    },
}

impl AccountError {
    /// The MySQL error this is (its Display text is the entry's format filled in).
    pub fn mysql_error(&self) -> MysqlError {
        match self {
            AccountError::OperationFailed { .. } => MysqlError::CannotUser,
            AccountError::UserNameTooLong { .. } | AccountError::HostNameTooLong { .. } => {
                MysqlError::WrongStringLength
            }
        }
    }

    /// MySQL error code.
    pub fn code(&self) -> u16 {
        self.mysql_error().code()
    }

    /// SQLSTATE.
    pub fn sqlstate(&self) -> &'static str {
        self.mysql_error().sqlstate()
    }

    /// The ERR packet payload: the entry's code and SQLSTATE with the Display text.
    pub fn to_err_packet(&self) -> ErrPacket {
        self.mysql_error().packet_with_message(self.to_string())
    }
}

impl From<&AccountError> for MysqlError {
    fn from(e: &AccountError) -> Self {
        e.mysql_error()
    }
}

/// A note left by `IF [NOT] EXISTS` instead of an error (MySQL level `Note`, SQLSTATE HY000).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Warning {
    /// 3163 ER_USER_ALREADY_EXISTS: `CREATE USER IF NOT EXISTS` on an existing account.
    UserAlreadyExists {
        /// `'user'@'host'`.
        account: String,
    },
    /// 3162 ER_USER_DOES_NOT_EXIST: `DROP USER IF EXISTS` on a missing account.
    UserDoesNotExist {
        /// `'user'@'host'`.
        account: String,
    },
}

impl Warning {
    /// The MySQL error this note is.
    pub fn mysql_error(&self) -> MysqlError {
        match self {
            Warning::UserAlreadyExists { .. } => MysqlError::UserAlreadyExists,
            Warning::UserDoesNotExist { .. } => MysqlError::UserDoesNotExist,
        }
    }

    /// MySQL error code.
    pub fn code(&self) -> u16 {
        self.mysql_error().code()
    }

    /// `SHOW WARNINGS` level.
    pub fn level(&self) -> &'static str {
        "Note"
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::UserAlreadyExists { account } => {
                write!(f, "Authorization ID {account} already exists.")
            }
            Warning::UserDoesNotExist { account } => {
                write!(f, "Authorization ID {account} does not exist.")
            }
        }
    }
}

/// The first `max` characters of `s` (MySQL's `%.Ns` precision).
fn truncate_chars(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((end, _)) => s.get(..end).unwrap_or(s),
        None => s,
    }
}

/// MySQL's limits on account names: user ≤ 32 characters, host ≤ 255 (1470 otherwise).
pub fn validate_identity(user: &str, host: &str) -> Result<(), AccountError> {
    if user.chars().count() > MAX_USER_CHARS {
        return Err(AccountError::UserNameTooLong {
            user: user.to_owned(),
        });
    }
    if host.chars().count() > MAX_HOST_CHARS {
        return Err(AccountError::HostNameTooLong {
            host: host.to_owned(),
        });
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Host patterns
// ---------------------------------------------------------------------------------------------

/// The IPv4 forms MySQL 8.0.23+ recognises in a host part, in their order of specificity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Ipv4Form {
    /// `198.51.100.44`
    Address = 0,
    /// `198.51.100.0/24`
    Cidr = 1,
    /// `198.51.100.0/255.255.255.0`
    Subnet = 2,
}

/// An IPv4 host part: matches a client whose address `a` satisfies `a & mask == net` (MySQL's
/// `compare_hostname`; an address with bits outside the mask therefore matches nothing).
#[derive(Clone, Copy, Debug)]
struct Ipv4Pattern {
    form: Ipv4Form,
    net: u32,
    mask: u32,
}

/// MySQL's `calc_ip`: four decimal components 0–255 separated by dots.
fn parse_ipv4(s: &str) -> Option<u32> {
    let mut value: u32 = 0;
    let mut parts = 0;
    for part in s.split('.') {
        if part.is_empty() || part.len() > 3 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let octet: u32 = part.parse().ok()?;
        if octet > 255 {
            return None;
        }
        value = (value << 8) | octet;
        parts += 1;
    }
    (parts == 4).then_some(value)
}

fn ipv4_pattern(host: &str) -> Option<Ipv4Pattern> {
    let Some((addr, mask)) = host.split_once('/') else {
        let net = parse_ipv4(host)?;
        return Some(Ipv4Pattern {
            form: Ipv4Form::Address,
            net,
            mask: u32::MAX,
        });
    };
    let net = parse_ipv4(addr)?;
    let (form, mask) =
        if !mask.is_empty() && mask.len() <= 2 && mask.bytes().all(|b| b.is_ascii_digit()) {
            let bits: u32 = mask.parse().ok()?;
            if !(1..=32).contains(&bits) {
                return None;
            }
            (Ipv4Form::Cidr, u32::MAX << (32 - bits))
        } else {
            (Ipv4Form::Subnet, parse_ipv4(mask)?)
        };
    // MySQL: "A net mask of 0.0.0.0 is not allowed" — such a host part is just a string.
    (mask != 0).then_some(Ipv4Pattern { form, net, mask })
}

/// One element of a `LIKE`-style host pattern.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Wild {
    Literal(char),
    /// `_`: exactly one character.
    One,
    /// `%`: any run of characters.
    Many,
}

/// Splits a pattern MySQL's way: `\x` is a literal `x`, a trailing `\` is a literal backslash.
fn wild_tokens(pattern: &str) -> Vec<Wild> {
    let mut out = Vec::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        out.push(match c {
            '\\' => Wild::Literal(chars.next().unwrap_or('\\')),
            '%' => Wild::Many,
            '_' => Wild::One,
            c => Wild::Literal(c),
        });
    }
    out
}

/// MySQL's `wild_case_compare`, ASCII case-insensitive, in O(pattern × text) worst case (the
/// classic glob walk that only ever backtracks to the last `%`).
fn wild_match(pattern: &str, text: &str) -> bool {
    let tokens = wild_tokens(pattern);
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0usize, 0usize);
    let mut resume: Option<(usize, usize)> = None;
    while t < text.len() {
        let here = text.get(t);
        match tokens.get(p) {
            Some(Wild::Many) => {
                resume = Some((p, t));
                p += 1;
                continue;
            }
            Some(Wild::One) => {
                p += 1;
                t += 1;
                continue;
            }
            Some(Wild::Literal(c)) if here.is_some_and(|h| h.eq_ignore_ascii_case(c)) => {
                p += 1;
                t += 1;
                continue;
            }
            _ => {}
        }
        match resume {
            Some((star, from)) => {
                p = star + 1;
                t = from + 1;
                resume = Some((star, from + 1));
            }
            None => return false,
        }
    }
    tokens.iter().skip(p).all(|w| *w == Wild::Many)
}

/// Host-pattern matching as MySQL's `ACL_HOST_AND_IP::compare_hostname`.
///
/// * `''` matches every client (MySQL treats an empty Host as "any host"; it sorts after `%`).
/// * IPv4 address, `a.b.c.d/nn` and `a.b.c.d/m.m.m.m` forms match TCP clients whose (IPv4 or
///   IPv4-mapped) address satisfies `addr & mask == net`. They never match the Unix socket.
/// * Anything else is a `LIKE`-style pattern (`%`, `_`, `\` escape; ASCII case-insensitive)
///   matched against the client's names: the Unix socket is **only** the string `localhost`
///   (so `localhost`, `local%` and `%` match it, `127.0.0.1` does not); a TCP client is its IP
///   text (IPv4 dotted, IPv6 lowercase RFC 5952), and a loopback client is also `localhost`.
///   Vestibule does no DNS, so patterns like `%.example.com` match no one.
/// * An IPv6 literal also matches by address value, so `0:0:0:0:0:0:0:1` equals `::1` and
///   `::ffff:10.0.0.1` equals a client seen as `10.0.0.1`.
pub fn host_matches(pattern: &str, client: &ClientHost) -> bool {
    // '%' (and the empty pattern) match every client, the socket's "localhost" included; the
    // commonest pattern skips the parsing below.
    if pattern.is_empty() || pattern == "%" {
        return true;
    }
    let ip = client.ip();
    if let Some(v4) = ipv4_pattern(pattern) {
        return matches!(ip, Some(IpAddr::V4(a)) if u32::from(a) & v4.mask == v4.net);
    }
    if client.is_local() && wild_match(pattern, "localhost") {
        return true;
    }
    let Some(ip) = ip else {
        return false;
    };
    if let Ok(literal) = pattern.parse::<Ipv6Addr>() {
        if normalize_ip(IpAddr::V6(literal)) == ip {
            return true;
        }
    }
    wild_match(pattern, &ip.to_string())
}

/// MySQL's `get_sort()` rank of one string: 128 without wildcards, 0 for `''`, 1 for a lone `%`,
/// otherwise the byte offset of the first unescaped wildcard + 2, capped at 127 — so a pattern
/// whose wildcard comes later is more specific (`192.168.1.%` before `192.168.%` before `%.b.c`).
fn wildcard_rank(s: &str) -> u32 {
    if s == "%" {
        return 1;
    }
    let bytes = s.as_bytes();
    let mut i = 0usize;
    while let Some(&b) = bytes.get(i) {
        if b == b'\\' && i + 1 < bytes.len() {
            i += 2;
            continue;
        }
        if b == b'%' || b == b'_' {
            return u32::try_from(i + 2).unwrap_or(127).min(127);
        }
        i += 1;
    }
    if s.is_empty() {
        0
    } else {
        128
    }
}

/// Position of an account in MySQL's matching order (smaller = tried first).
///
/// MySQL 8.0.23+ (`ACL_compare`): accounts whose host is an IPv4 form come first — plain
/// addresses, then CIDR, then subnet masks, wider masks later; all others follow by `get_sort()`
/// over (host, user): the host rank decides, then a named user beats the anonymous `''`. The
/// host rank outranks the user, which is why `''@'localhost'` is chosen over `'app'@'%'` for a
/// local client. MySQL leaves equally specific accounts in no defined order; this order breaks
/// ties by host, then user, so a set's order does not depend on its history.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct SortKey<'a> {
    class: u8,
    mask: Reverse<u32>,
    rank: Reverse<u32>,
    host: &'a str,
    user: &'a str,
}

fn sort_key<'a>(user: &'a str, host: &'a str) -> SortKey<'a> {
    let user_rank = if user.is_empty() { 0 } else { 128 };
    let (class, mask) = match ipv4_pattern(host) {
        Some(p) => (p.form as u8, p.mask),
        None => (3, 0),
    };
    SortKey {
        class,
        mask: Reverse(mask),
        rank: Reverse((wildcard_rank(host) << 8) | user_rank),
        host,
        user,
    }
}

// ---------------------------------------------------------------------------------------------
// Account set
// ---------------------------------------------------------------------------------------------

/// All accounts, kept in MySQL's matching order (see [`AccountSet::lookup`]).
///
/// Identities are `(user, host)` with the user compared exactly and the host ASCII
/// case-insensitively (MySQL's `mysql.user.Host` is `ascii_general_ci`); hosts are stored
/// lowercase.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccountSet {
    /// Shared so a login takes a reference-counted handle instead of copying the account.
    accounts: Vec<Arc<Account>>,
}

impl AccountSet {
    /// No accounts (every login fails with 1045).
    pub fn new() -> Self {
        AccountSet::default()
    }

    /// The account a connecting `user` from `client` authenticates as (MySQL `find_mpvio_user`):
    /// the first account in matching order whose user is `user` or anonymous (`''`) and whose host
    /// pattern matches the client. Locked accounts are returned too (the lock is checked after the
    /// password, 3118). Host specificity outranks the user: with `'app'@'%'` and `''@'localhost'`,
    /// `app` connecting over the socket becomes the anonymous `''@'localhost'`.
    pub fn lookup(&self, user: &str, client: &ClientHost) -> Option<&Account> {
        self.accounts
            .iter()
            .find(|a| (a.user == user || a.user.is_empty()) && host_matches(&a.host, client))
            .map(|a| &**a)
    }

    /// [`AccountSet::lookup`] returning a shared handle (the login path keeps it without copying).
    pub fn lookup_shared(&self, user: &str, client: &ClientHost) -> Option<Arc<Account>> {
        self.accounts
            .iter()
            .find(|a| (a.user == user || a.user.is_empty()) && host_matches(&a.host, client))
            .cloned()
    }

    /// The account with exactly this identity (host compared case-insensitively).
    pub fn get(&self, user: &str, host: &str) -> Option<&Account> {
        let host = host.to_ascii_lowercase();
        self.position(user, &host)
            .ok()
            .and_then(|i| self.accounts.get(i))
            .map(|a| &**a)
    }

    /// Whether `verified` is still the stored credential of the caching_sha2_password account
    /// with exactly this identity: the condition of a cache fill (an `ALTER USER` that landed
    /// while a full authentication ran must not have its old password cached).
    pub fn credential_is_current(&self, user: &str, host: &str, verified: &AuthString) -> bool {
        self.get(user, host).is_some_and(|a| {
            a.plugin == Plugin::CachingSha2Password
                && (a.auth_string == *verified || a.secondary.as_ref() == Some(verified))
        })
    }

    /// Accounts in matching order.
    pub fn iter(&self) -> impl Iterator<Item = &Account> {
        self.accounts.iter().map(|a| &**a)
    }

    /// Number of accounts.
    pub fn len(&self) -> usize {
        self.accounts.len()
    }

    /// Whether there are no accounts.
    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty()
    }

    /// `Ok(index)` of the identity, or `Err(insertion point)`; `host` must be lowercase.
    fn position(&self, user: &str, host: &str) -> Result<usize, usize> {
        let probe = sort_key(user, host);
        self.accounts
            .binary_search_by(|a| sort_key(&a.user, &a.host).cmp(&probe))
    }

    /// Inserts an account whose host is already lowercase; if the identity exists, returns its
    /// name instead.
    fn insert_new(&mut self, account: Account) -> Result<(), String> {
        match self.position(&account.user, &account.host) {
            Ok(_) => Err(account.name()),
            Err(at) => {
                self.accounts.insert(at, Arc::new(account));
                Ok(())
            }
        }
    }

    /// `CREATE USER [IF NOT EXISTS] a, b, …` — all or nothing.
    ///
    /// Hosts are lowercased; a name that is too long fails the whole statement with 1470 before
    /// anything else. Accounts are then taken in order, so a name repeated in the statement
    /// collides with its own earlier creation. An existing account, or one whose
    /// `authentication_string` is not of its plugin's format, is a failure; the error lists every
    /// failure (1396) and nothing is created. With `IF NOT EXISTS` an existing account becomes a
    /// 3163 note instead and the others are created.
    pub fn create(
        &mut self,
        accounts: Vec<Account>,
        if_not_exists: bool,
    ) -> Result<Vec<Warning>, AccountError> {
        let mut accounts = accounts;
        for account in &mut accounts {
            account.host.make_ascii_lowercase();
            validate_identity(&account.user, &account.host)?;
        }
        let mut working = self.clone();
        let mut failed = Vec::new();
        let mut notes = Vec::new();
        for account in accounts {
            if !credentials_fit_plugin(&account) {
                failed.push(account.name());
                continue;
            }
            if let Err(existing) = working.insert_new(account) {
                if if_not_exists {
                    notes.push(Warning::UserAlreadyExists { account: existing });
                } else {
                    failed.push(existing);
                }
            }
        }
        if !failed.is_empty() {
            return Err(AccountError::OperationFailed {
                operation: "CREATE USER",
                accounts: failed,
            });
        }
        *self = working;
        Ok(notes)
    }

    /// `DROP USER [IF EXISTS] a, b, …` — all or nothing; a missing account (including one
    /// already dropped earlier in the same statement) fails the statement with 1396 listing
    /// every missing account, or with `IF EXISTS` becomes a 3162 note.
    pub fn drop_users(
        &mut self,
        ids: &[AccountId],
        if_exists: bool,
    ) -> Result<Vec<Warning>, AccountError> {
        let mut working = self.clone();
        let mut failed = Vec::new();
        let mut notes = Vec::new();
        for (user, host) in ids {
            let host = host.to_ascii_lowercase();
            match working.position(user, &host) {
                Ok(at) => {
                    working.accounts.remove(at);
                }
                Err(_) if if_exists => notes.push(Warning::UserDoesNotExist {
                    account: account_name(user, &host),
                }),
                Err(_) => failed.push(account_name(user, &host)),
            }
        }
        if !failed.is_empty() {
            return Err(AccountError::OperationFailed {
                operation: "DROP USER",
                accounts: failed,
            });
        }
        *self = working;
        Ok(notes)
    }

    /// `RENAME USER old TO new, …` — pairs applied in order (so `a TO b, b TO c` works), all or
    /// nothing. A pair fails when `old` does not exist or `new` already does; the 1396 error lists
    /// the `old` side of every failing pair (MySQL `mysql_rename_user`). New names longer than
    /// the limits fail with 1470 first.
    pub fn rename(&mut self, pairs: &[(AccountId, AccountId)]) -> Result<(), AccountError> {
        for (_, (user, host)) in pairs {
            validate_identity(user, host)?;
        }
        let mut working = self.clone();
        let mut failed = Vec::new();
        for ((old_user, old_host), (new_user, new_host)) in pairs {
            let old_host = old_host.to_ascii_lowercase();
            let new_host = new_host.to_ascii_lowercase();
            let Ok(at) = working.position(old_user, &old_host) else {
                failed.push(account_name(old_user, &old_host));
                continue;
            };
            if working.position(new_user, &new_host).is_ok() {
                failed.push(account_name(old_user, &old_host));
                continue;
            }
            let mut account = Arc::unwrap_or_clone(working.accounts.remove(at));
            account.user.clone_from(new_user);
            account.host = new_host;
            // Cannot collide: the new identity was checked above and the old one removed.
            let _ = working.insert_new(account);
        }
        if !failed.is_empty() {
            return Err(AccountError::OperationFailed {
                operation: "RENAME USER",
                accounts: failed,
            });
        }
        *self = working;
        Ok(())
    }

    /// `ALTER USER` on one account: applies `f` to a copy and keeps it only if the result is still
    /// a valid member of the set (identity within limits and not colliding with another account,
    /// `authentication_string` of the plugin's format). A missing account or an invalid result is
    /// 1396 `Operation ALTER USER failed for 'u'@'h'` (1470 for an over-long new name), and the
    /// set is unchanged.
    pub fn alter(
        &mut self,
        id: (&str, &str),
        f: impl FnOnce(&mut Account),
    ) -> Result<(), AccountError> {
        let (user, host) = (id.0, id.1.to_ascii_lowercase());
        let failed = || AccountError::OperationFailed {
            operation: "ALTER USER",
            accounts: vec![account_name(user, &host)],
        };
        let at = self.position(user, &host).map_err(|_| failed())?;
        let Some(current) = self.accounts.get(at) else {
            return Err(failed());
        };
        let mut edited = (**current).clone();
        f(&mut edited);
        edited.host.make_ascii_lowercase();
        validate_identity(&edited.user, &edited.host)?;
        if !credentials_fit_plugin(&edited) {
            return Err(failed());
        }
        let original = self.accounts.remove(at);
        if self.insert_new(edited).is_err() {
            self.accounts.insert(at, original);
            return Err(failed());
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Decoy for unknown users
// ---------------------------------------------------------------------------------------------

/// The plugin of the decoy account an unknown `user` from `client_host` is authenticated against
/// (docs/protocol.md, "Unknown users and the decoy"). MySQL draws it at random and remembers it
/// in a bounded map so repeated probes see the same plugin; here it is
/// `SHA-256(secret ‖ user ‖ 0x00 ‖ host)` reduced modulo 3 over [`Plugin::ALL`]: stable for a
/// given server secret, uniform over the three plugins, unpredictable without the secret, and with
/// no state to grow.
pub fn decoy_plugin(user: &str, client_host: &str, secret: &[u8; 32]) -> Plugin {
    let digest = Sha256::new()
        .chain_update(secret)
        .chain_update(user.as_bytes())
        .chain_update([0u8])
        .chain_update(client_host.as_bytes())
        .finalize();
    let first = digest.first_chunk::<8>().copied().unwrap_or_default();
    let pick = u64::from_be_bytes(first) % Plugin::ALL.len() as u64;
    usize::try_from(pick)
        .ok()
        .and_then(|i| Plugin::ALL.get(i).copied())
        .unwrap_or(Plugin::CachingSha2Password)
}

// ---------------------------------------------------------------------------------------------
// Accounts file
// ---------------------------------------------------------------------------------------------

/// Why the accounts file was rejected, with the 1-based line it was found on.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("accounts file line {line}: {kind}")]
pub struct AccountFileError {
    /// The line, counted from 1.
    pub line: usize,
    /// What is wrong with it.
    pub kind: AccountFileErrorKind,
}

/// What was wrong with an accounts-file line. Messages never include credential bytes.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AccountFileErrorKind {
    /// The first non-comment line is not `vestibule-accounts <version>` (or the file is empty).
    #[error("missing header line `{FILE_MAGIC} {ACCOUNTS_FILE_VERSION}`")]
    MissingHeader,
    /// The header names a version this code does not read.
    #[error("unsupported accounts file version {0:?} (this server reads version {ACCOUNTS_FILE_VERSION})")]
    UnsupportedVersion(String),
    /// A line after the header that does not start with `account`.
    #[error("expected a line starting with `account`")]
    NotAnAccount,
    /// Broken `key=value` / quoting syntax.
    #[error("syntax error: {0}")]
    Syntax(&'static str),
    /// A field name this version does not know.
    #[error("unknown field `{0}`")]
    UnknownField(String),
    /// The same field twice on one line.
    #[error("field `{0}` given twice")]
    DuplicateField(String),
    /// A mandatory field is absent.
    #[error("missing field `{0}`")]
    MissingField(&'static str),
    /// A field value outside its allowed set (`yes`/`no`, REQUIRE kinds…).
    #[error("invalid value {value:?} for field `{field}`")]
    InvalidValue {
        /// The field.
        field: &'static str,
        /// Its value as written.
        value: String,
    },
    /// `issuer`/`subject`/`cipher`/`san` on an account whose `require` is not `specified`.
    #[error("field `{0}` is only allowed with require=specified")]
    RequireDetailWithoutSpecified(&'static str),
    /// A plugin name Vestibule does not implement.
    #[error("unknown authentication plugin {0:?}")]
    UnknownPlugin(String),
    /// `auth` is neither `-` nor an even number of hex digits.
    #[error("auth is not hex (or `-` for an empty credential)")]
    BadHex,
    /// `auth` decodes to something that is not a valid string of the account's plugin.
    #[error("auth is not a valid {plugin} authentication_string")]
    InvalidAuthString {
        /// The account's plugin name.
        plugin: &'static str,
    },
    /// User or host over MySQL's limits.
    #[error("{0}")]
    InvalidIdentity(AccountError),
    /// Two lines for the same `'user'@'host'`.
    #[error("duplicate account {0}")]
    DuplicateAccount(String),
}

/// Writes the accounts file (format version 1). Deterministic: the same set always gives the same
/// text.
///
/// ```text
/// # comment lines and blank lines are ignored
/// vestibule-accounts 1
/// account user="app" host="%" plugin=caching_sha2_password auth=2441…  require=ssl locked=no admin=no grant_option=no
/// ```
///
/// One `account` line per account, in matching order, fields in a fixed order separated by one
/// space. Strings are double-quoted; `"` `\` and control characters are escaped (`\"`, `\\`,
/// `\n`, `\r`, `\t`, `\u{hex}`; also U+2028/U+2029), so a line always holds exactly one record.
/// `auth` is the lowercase hex of `mysql.user.authentication_string` (its salt holds arbitrary
/// bytes), `-` when empty. `require` is `none`, `ssl`, `x509` or `specified` followed by any of
/// `issuer=`, `subject=`, `cipher=`, `san=`.
///
/// The account-security options follow, each only when it is not MySQL's default (so files
/// written before they existed read unchanged, with the defaults): `secondary=<hex>`,
/// `password_expired=yes`, `password_lifetime=never|<days>`, `password_last_changed=<unix
/// seconds>`, `failed_login_attempts=<n>`, `password_lock_time=<days>|unbounded`,
/// `max_queries_per_hour=`, `max_updates_per_hour=`, `max_connections_per_hour=`,
/// `max_user_connections=` (`<n>`), `password_history=<n>`, `password_reuse_interval=<days>`,
/// `password_require_current=yes|optional`, and `history=<unix seconds>:<hex>,…` (newest
/// first; hashes only).
pub fn serialize_accounts(set: &AccountSet) -> String {
    let mut out = String::with_capacity(64 + set.len() * 256);
    out.push_str("# Vestibule accounts. Written by the server: edit only while it is stopped.\n");
    out.push_str("# auth = hex of mysql.user.authentication_string (- when empty).\n");
    out.push_str(FILE_MAGIC);
    out.push(' ');
    out.push_str(&ACCOUNTS_FILE_VERSION.to_string());
    out.push('\n');
    for account in set.iter() {
        write_account(&mut out, account);
        out.push('\n');
    }
    out
}

fn write_account(out: &mut String, a: &Account) {
    out.push_str("account user=");
    push_quoted(out, &a.user);
    out.push_str(" host=");
    push_quoted(out, &a.host);
    out.push_str(" plugin=");
    out.push_str(a.plugin.name());
    out.push_str(" auth=");
    let bytes = a.auth_string.to_bytes();
    if bytes.is_empty() {
        out.push('-');
    } else {
        for b in bytes {
            out.push(hex_digit(b >> 4));
            out.push(hex_digit(b & 0x0f));
        }
    }
    out.push_str(" require=");
    match &a.require {
        Require::None => out.push_str("none"),
        Require::Ssl => out.push_str("ssl"),
        Require::X509 => out.push_str("x509"),
        Require::Specified {
            issuer,
            subject,
            cipher,
            san,
        } => {
            out.push_str("specified");
            for (key, value) in [
                ("issuer", issuer),
                ("subject", subject),
                ("cipher", cipher),
                ("san", san),
            ] {
                if let Some(value) = value {
                    out.push(' ');
                    out.push_str(key);
                    out.push('=');
                    push_quoted(out, value);
                }
            }
        }
    }
    for (key, value) in [
        ("locked", a.locked),
        ("admin", a.admin),
        ("grant_option", a.grant_option),
    ] {
        out.push(' ');
        out.push_str(key);
        out.push_str(if value { "=yes" } else { "=no" });
    }
    write_security_options(out, a);
}

/// The account-security fields, each written only when it differs from MySQL's default, so a
/// file of accounts that use none of them is the same as before they existed.
fn write_security_options(out: &mut String, a: &Account) {
    let mut field = |key: &str, value: &str| {
        out.push(' ');
        out.push_str(key);
        out.push('=');
        out.push_str(value);
    };
    if let Some(secondary) = &a.secondary {
        field("secondary", &hex(&secondary.to_bytes()));
    }
    if a.password_expired {
        field("password_expired", "yes");
    }
    match a.password_lifetime {
        PasswordLifetime::Default => {}
        PasswordLifetime::Never => field("password_lifetime", "never"),
        PasswordLifetime::Days(n) => field("password_lifetime", &n.to_string()),
    }
    if a.password_last_changed != 0 {
        field(
            "password_last_changed",
            &a.password_last_changed.to_string(),
        );
    }
    if a.failed_login_attempts != 0 {
        field(
            "failed_login_attempts",
            &a.failed_login_attempts.to_string(),
        );
    }
    match a.password_lock_time {
        PasswordLockTime::Days(0) => {}
        PasswordLockTime::Days(n) => field("password_lock_time", &n.to_string()),
        PasswordLockTime::Unbounded => field("password_lock_time", "unbounded"),
    }
    for (key, value) in [
        ("max_queries_per_hour", a.max_queries_per_hour),
        ("max_updates_per_hour", a.max_updates_per_hour),
        ("max_connections_per_hour", a.max_connections_per_hour),
        ("max_user_connections", a.max_user_connections),
    ] {
        if value != 0 {
            field(key, &value.to_string());
        }
    }
    if let Some(n) = a.password_history {
        field("password_history", &n.to_string());
    }
    if let Some(n) = a.password_reuse_interval {
        field("password_reuse_interval", &n.to_string());
    }
    if let Some(required) = a.password_require_current {
        field(
            "password_require_current",
            if required { "yes" } else { "optional" },
        );
    }
    if !a.password_history_entries.is_empty() {
        let entries: Vec<String> = a
            .password_history_entries
            .iter()
            .map(|(at, hash)| format!("{at}:{}", hex(&hash.to_bytes())))
            .collect();
        field("history", &entries.join(","));
    }
}

/// Lowercase hex of `bytes`.
fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(hex_digit(b >> 4));
        out.push(hex_digit(b & 0x0f));
    }
    out
}

fn hex_digit(nibble: u8) -> char {
    char::from_digit(u32::from(nibble), 16).unwrap_or('0')
}

fn push_quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() || c == '\u{2028}' || c == '\u{2029}' => {
                out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Reads an accounts file written by [`serialize_accounts`] (or by hand in the same format).
///
/// Total: any text gives a set or an error naming the line. CRLF line ends, blank lines, `#`
/// comment lines and surrounding spaces are accepted; fields may come in any order. Host parts are
/// lowercased; an empty file, a missing or unknown-version header, unknown or repeated fields, an
/// invalid `authentication_string` for the plugin, over-long names and duplicate accounts are
/// errors (a server must not start on half an account list).
pub fn parse_accounts(text: &str) -> Result<AccountSet, AccountFileError> {
    let mut set = AccountSet::new();
    let mut header_seen = false;
    let mut last_line = 1;
    for (index, raw) in text.split('\n').enumerate() {
        let line_no = index + 1;
        last_line = line_no;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let line = line.trim_matches([' ', '\t']);
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at_line = |kind| AccountFileError {
            line: line_no,
            kind,
        };
        if !header_seen {
            parse_header(line).map_err(at_line)?;
            header_seen = true;
            continue;
        }
        let account = parse_account_line(line).map_err(at_line)?;
        set.insert_new(account)
            .map_err(|dup| at_line(AccountFileErrorKind::DuplicateAccount(dup)))?;
    }
    if !header_seen {
        return Err(AccountFileError {
            line: last_line,
            kind: AccountFileErrorKind::MissingHeader,
        });
    }
    Ok(set)
}

/// Cuts user-supplied text quoted in error messages.
fn excerpt(s: &str) -> String {
    truncate_chars(s, 64).to_owned()
}

fn parse_header(line: &str) -> Result<(), AccountFileErrorKind> {
    let mut words = line.split([' ', '\t']).filter(|w| !w.is_empty());
    if words.next() != Some(FILE_MAGIC) {
        return Err(AccountFileErrorKind::MissingHeader);
    }
    let version = words.next().ok_or(AccountFileErrorKind::MissingHeader)?;
    if version != ACCOUNTS_FILE_VERSION.to_string() || words.next().is_some() {
        return Err(AccountFileErrorKind::UnsupportedVersion(excerpt(
            line.get(FILE_MAGIC.len()..)
                .unwrap_or_default()
                .trim_matches([' ', '\t']),
        )));
    }
    Ok(())
}

/// Splits `key=value key="quoted value" …` into fields.
struct Fields<'a> {
    rest: &'a str,
}

impl<'a> Fields<'a> {
    fn next_field(&mut self) -> Result<Option<(&'a str, String)>, AccountFileErrorKind> {
        use AccountFileErrorKind::Syntax;
        let rest = self.rest.trim_start_matches([' ', '\t']);
        if rest.is_empty() {
            return Ok(None);
        }
        let (key, after) = rest.split_once('=').ok_or(Syntax("expected key=value"))?;
        if key.is_empty()
            || !key
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'_' || b.is_ascii_digit())
        {
            return Err(Syntax("field names are lowercase letters, digits and _"));
        }
        let (value, after) = match after.strip_prefix('"') {
            Some(quoted) => parse_quoted(quoted)?,
            None => {
                let end = after.find([' ', '\t']).unwrap_or(after.len());
                let (bare, after) = after.split_at_checked(end).unwrap_or((after, ""));
                if bare.contains(['"', '\\']) || bare.chars().any(char::is_control) {
                    return Err(Syntax(
                        "unquoted value with a quote, backslash or control character",
                    ));
                }
                (bare.to_owned(), after)
            }
        };
        if !(after.is_empty() || after.starts_with([' ', '\t'])) {
            return Err(Syntax("expected a space after a value"));
        }
        self.rest = after;
        Ok(Some((key, value)))
    }
}

/// Decodes a quoted string whose opening `"` is already consumed; returns it and the text after
/// the closing `"`.
fn parse_quoted(s: &str) -> Result<(String, &str), AccountFileErrorKind> {
    use AccountFileErrorKind::Syntax;
    let mut out = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((out, s.get(i + 1..).unwrap_or_default())),
            '\\' => match chars.next().map(|(_, e)| e) {
                Some('"') => out.push('"'),
                Some('\\') => out.push('\\'),
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some('t') => out.push('\t'),
                Some('u') => {
                    if chars.next().map(|(_, b)| b) != Some('{') {
                        return Err(Syntax("expected { after \\u"));
                    }
                    let mut code: u32 = 0;
                    let mut digits = 0;
                    loop {
                        match chars.next().map(|(_, d)| d) {
                            Some('}') if digits > 0 => break,
                            Some(d) if digits < 6 => {
                                let v = d.to_digit(16).ok_or(Syntax("bad hex digit in \\u{…}"))?;
                                code = (code << 4) | v;
                                digits += 1;
                            }
                            _ => return Err(Syntax("bad \\u{…} escape")),
                        }
                    }
                    out.push(
                        char::from_u32(code)
                            .ok_or(Syntax("\\u{…} is not a Unicode scalar value"))?,
                    );
                }
                _ => return Err(Syntax("unknown escape in a quoted string")),
            },
            c if c.is_control() => return Err(Syntax("raw control character in a quoted string")),
            c => out.push(c),
        }
    }
    Err(Syntax("unterminated quoted string"))
}

fn parse_flag(field: &'static str, value: Option<String>) -> Result<bool, AccountFileErrorKind> {
    match value.as_deref() {
        Some("yes") => Ok(true),
        Some("no") => Ok(false),
        Some(other) => Err(AccountFileErrorKind::InvalidValue {
            field,
            value: excerpt(other),
        }),
        None => Err(AccountFileErrorKind::MissingField(field)),
    }
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 == 1 {
        return None;
    }
    s.as_bytes()
        .chunks(2)
        .map(|pair| {
            let hi = char::from(*pair.first()?).to_digit(16)?;
            let lo = char::from(*pair.get(1)?).to_digit(16)?;
            u8::try_from(hi * 16 + lo).ok()
        })
        .collect()
}

fn parse_account_line(line: &str) -> Result<Account, AccountFileErrorKind> {
    use AccountFileErrorKind as K;
    let rest = line.strip_prefix("account").ok_or(K::NotAnAccount)?;
    if !(rest.is_empty() || rest.starts_with([' ', '\t'])) {
        return Err(K::NotAnAccount);
    }

    const KEYS: [&str; 26] = [
        "user",
        "host",
        "plugin",
        "auth",
        "require",
        "issuer",
        "subject",
        "cipher",
        "san",
        "locked",
        "admin",
        "grant_option",
        "secondary",
        "password_expired",
        "password_lifetime",
        "password_last_changed",
        "failed_login_attempts",
        "password_lock_time",
        "max_queries_per_hour",
        "max_updates_per_hour",
        "max_connections_per_hour",
        "max_user_connections",
        "password_history",
        "password_reuse_interval",
        "password_require_current",
        "history",
    ];
    let mut values: [Option<String>; 26] = Default::default();
    let mut fields = Fields { rest };
    while let Some((key, value)) = fields.next_field()? {
        let slot = KEYS
            .iter()
            .position(|k| *k == key)
            .and_then(|i| values.get_mut(i))
            .ok_or_else(|| K::UnknownField(excerpt(key)))?;
        if slot.is_some() {
            return Err(K::DuplicateField(key.to_owned()));
        }
        *slot = Some(value);
    }
    let [user, host, plugin, auth, require, issuer, subject, cipher, san, locked, admin, grant_option, secondary, password_expired, password_lifetime, password_last_changed, failed_login_attempts, password_lock_time, max_queries_per_hour, max_updates_per_hour, max_connections_per_hour, max_user_connections, password_history, password_reuse_interval, password_require_current, history] =
        values;

    let user = user.ok_or(K::MissingField("user"))?;
    let mut host = host.ok_or(K::MissingField("host"))?;
    host.make_ascii_lowercase();
    validate_identity(&user, &host).map_err(K::InvalidIdentity)?;

    let plugin_name = plugin.ok_or(K::MissingField("plugin"))?;
    let plugin = Plugin::from_name(plugin_name.as_bytes())
        .ok_or_else(|| K::UnknownPlugin(excerpt(&plugin_name)))?;
    let auth = auth.ok_or(K::MissingField("auth"))?;
    let auth_bytes = if auth == "-" {
        Vec::new()
    } else {
        decode_hex(&auth).ok_or(K::BadHex)?
    };
    if auth_bytes.is_empty() && auth != "-" {
        return Err(K::BadHex);
    }
    let auth_string = AuthString::parse(plugin, &auth_bytes)
        .ok()
        .filter(|a| auth_fits_plugin(plugin, a))
        .ok_or(K::InvalidAuthString {
            plugin: plugin.name(),
        })?;

    let require = match require.as_deref() {
        Some("specified") => Require::Specified {
            issuer,
            subject,
            cipher,
            san,
        },
        other => {
            for (name, detail) in [
                ("issuer", &issuer),
                ("subject", &subject),
                ("cipher", &cipher),
                ("san", &san),
            ] {
                if detail.is_some() {
                    return Err(K::RequireDetailWithoutSpecified(name));
                }
            }
            match other {
                Some("none") => Require::None,
                Some("ssl") => Require::Ssl,
                Some("x509") => Require::X509,
                Some(v) => {
                    return Err(K::InvalidValue {
                        field: "require",
                        value: excerpt(v),
                    })
                }
                None => return Err(K::MissingField("require")),
            }
        }
    };

    // A stored (non-empty) credential of the account's plugin: the secondary password and the
    // history entries.
    let stored = |field: &'static str, text: &str| -> Result<AuthString, AccountFileErrorKind> {
        let bytes = decode_hex(text)
            .filter(|b| !b.is_empty())
            .ok_or(K::BadHex)?;
        AuthString::parse(plugin, &bytes)
            .ok()
            .filter(|a| !a.is_empty() && auth_fits_plugin(plugin, a))
            .ok_or(K::InvalidValue {
                field,
                value: format!("<{} credential>", plugin.name()),
            })
    };
    let secondary = secondary.map(|s| stored("secondary", &s)).transpose()?;
    let mut password_history_entries = Vec::new();
    if let Some(list) = history {
        for entry in list.split(',') {
            let (at, hash) = entry.split_once(':').ok_or(K::InvalidValue {
                field: "history",
                value: "<entry without `seconds:hash`>".into(),
            })?;
            password_history_entries
                .push((number("history", at, u64::MAX)?, stored("history", hash)?));
        }
    }

    let mut account = Account::new(&user, &host, plugin, auth_string);
    account.require = require;
    account.locked = parse_flag("locked", locked)?;
    account.admin = parse_flag("admin", admin)?;
    account.grant_option = parse_flag("grant_option", grant_option)?;
    account.secondary = secondary;
    account.password_history_entries = password_history_entries;
    if password_expired.is_some() {
        account.password_expired = parse_flag("password_expired", password_expired)?;
    }
    account.password_lifetime = match password_lifetime.as_deref() {
        None => PasswordLifetime::Default,
        Some("never") => PasswordLifetime::Never,
        Some(n) => PasswordLifetime::Days(number_u32(
            "password_lifetime",
            n,
            1,
            MAX_PASSWORD_LIFETIME_DAYS,
        )?),
    };
    if let Some(at) = password_last_changed {
        account.password_last_changed = number("password_last_changed", &at, u64::MAX)?;
    }
    if let Some(n) = failed_login_attempts {
        account.failed_login_attempts =
            number_u32("failed_login_attempts", &n, 0, MAX_PASSWORD_LOCKING_VALUE)?;
    }
    account.password_lock_time = match password_lock_time.as_deref() {
        None => PasswordLockTime::Days(0),
        Some("unbounded") => PasswordLockTime::Unbounded,
        Some(n) => PasswordLockTime::Days(number_u32(
            "password_lock_time",
            n,
            0,
            MAX_PASSWORD_LOCKING_VALUE,
        )?),
    };
    for (field, value, slot) in [
        (
            "max_queries_per_hour",
            max_queries_per_hour,
            &mut account.max_queries_per_hour,
        ),
        (
            "max_updates_per_hour",
            max_updates_per_hour,
            &mut account.max_updates_per_hour,
        ),
        (
            "max_connections_per_hour",
            max_connections_per_hour,
            &mut account.max_connections_per_hour,
        ),
        (
            "max_user_connections",
            max_user_connections,
            &mut account.max_user_connections,
        ),
    ] {
        if let Some(v) = value {
            *slot = number_u32(field, &v, 0, u32::MAX)?;
        }
    }
    account.password_history = password_history
        .map(|n| number_u32("password_history", &n, 0, u32::MAX))
        .transpose()?;
    account.password_reuse_interval = password_reuse_interval
        .map(|n| number_u32("password_reuse_interval", &n, 0, u32::MAX))
        .transpose()?;
    account.password_require_current = match password_require_current.as_deref() {
        None => None,
        Some("yes") => Some(true),
        Some("optional") => Some(false),
        Some(v) => {
            return Err(K::InvalidValue {
                field: "password_require_current",
                value: excerpt(v),
            })
        }
    };
    Ok(account)
}

/// A decimal number `0..=max` written without sign, spaces or leading zeros (so that reading and
/// writing it again gives the same text).
fn number(field: &'static str, text: &str, max: u64) -> Result<u64, AccountFileErrorKind> {
    let canonical = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    text.parse::<u64>()
        .ok()
        .filter(|n| canonical && *n <= max)
        .ok_or_else(|| AccountFileErrorKind::InvalidValue {
            field,
            value: excerpt(text),
        })
}

/// [`number`] in `min..=max` as a `u32`.
fn number_u32(
    field: &'static str,
    text: &str,
    min: u32,
    max: u32,
) -> Result<u32, AccountFileErrorKind> {
    let n = number(field, text, u64::from(max))?;
    u32::try_from(n)
        .ok()
        .filter(|n| *n >= min)
        .ok_or_else(|| AccountFileErrorKind::InvalidValue {
            field,
            value: excerpt(text),
        })
}

/// Fuzz body for the accounts-file parser.
///
/// Parses `data` (lossily decoded as UTF-8); whatever parses must serialize to text that parses to
/// an equal set and serializes identically again. Unlike the rest of the core this function
/// **panics** when that invariant is violated — that is how a fuzzer (and the corpus-replay test)
/// notices the bug. It never panics when [`parse_accounts`] and [`serialize_accounts`] are correct.
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub fn fuzz_accounts_file(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let Ok(set) = parse_accounts(&text) else {
        return;
    };
    let written = serialize_accounts(&set);
    match parse_accounts(&written) {
        Ok(again) => {
            assert!(again == set, "serialize → parse changed the account set");
            assert!(
                serialize_accounts(&again) == written,
                "serialization is not stable"
            );
        }
        Err(e) => panic!("serialized accounts file does not parse: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn tcp(s: &str) -> ClientHost {
        ClientHost::Tcp(s.parse().unwrap())
    }

    fn native(hex_byte: u8) -> AuthString {
        let text = format!("*{}", format!("{hex_byte:02X}").repeat(20));
        AuthString::parse(Plugin::MysqlNativePassword, text.as_bytes()).unwrap()
    }

    fn acct(user: &str, host: &str) -> Account {
        Account::new(user, host, Plugin::CachingSha2Password, AuthString::Empty)
    }

    fn id(user: &str, host: &str) -> (String, String) {
        (user.to_owned(), host.to_owned())
    }

    fn set_of(ids: &[(&str, &str)]) -> AccountSet {
        let mut set = AccountSet::new();
        set.create(ids.iter().map(|(u, h)| acct(u, h)).collect(), false)
            .unwrap();
        set
    }

    fn names(set: &AccountSet) -> Vec<String> {
        set.iter().map(Account::name).collect()
    }

    #[test]
    fn display_host_table() {
        let cases: [(ClientHost, &str); 9] = [
            (ClientHost::Unix, "localhost"),
            (tcp("127.0.0.1"), "localhost"),
            (tcp("127.10.20.30"), "localhost"),
            (tcp("::1"), "localhost"),
            (tcp("::ffff:127.0.0.1"), "localhost"),
            (tcp("192.168.1.20"), "192.168.1.20"),
            (tcp("::ffff:10.0.0.5"), "10.0.0.5"),
            (tcp("2001:DB8::1"), "2001:db8::1"),
            (tcp("0.0.0.0"), "0.0.0.0"),
        ];
        for (client, want) in cases {
            assert_eq!(client.display_host(), want, "{client:?}");
        }
        assert!(ClientHost::Unix.is_secure_transport_by_itself());
        assert!(!tcp("127.0.0.1").is_secure_transport_by_itself());
    }

    #[test]
    fn host_matching_table() {
        let clients = [
            ClientHost::Unix,
            tcp("127.0.0.1"),
            tcp("::1"),
            tcp("::ffff:127.0.0.1"),
            tcp("192.168.1.20"),
            tcp("10.0.0.5"),
            tcp("2001:db8::1"),
            tcp("::ffff:192.168.1.20"),
        ];
        // Columns: unix, 127.0.0.1, ::1, mapped 127.0.0.1, 192.168.1.20, 10.0.0.5, 2001:db8::1,
        // mapped 192.168.1.20.
        let table: &[(&str, [bool; 8])] = &[
            (
                "localhost",
                [true, true, true, true, false, false, false, false],
            ),
            (
                "LOCALHOST",
                [true, true, true, true, false, false, false, false],
            ),
            (
                "LocalHost",
                [true, true, true, true, false, false, false, false],
            ),
            ("loc%", [true, true, true, true, false, false, false, false]),
            (
                "l_calhost",
                [true, true, true, true, false, false, false, false],
            ),
            (
                "local\\host",
                [true, true, true, true, false, false, false, false],
            ),
            ("localhos", [false; 8]),
            ("localhost_", [false; 8]),
            ("%", [true; 8]),
            ("%%", [true; 8]),
            ("", [true; 8]),
            (
                "127.0.0.1",
                [false, true, false, true, false, false, false, false],
            ),
            (
                "127.0.0.%",
                [false, true, false, true, false, false, false, false],
            ),
            (
                "127.%",
                [false, true, false, true, false, false, false, false],
            ),
            (
                "::1",
                [false, false, true, false, false, false, false, false],
            ),
            (
                "0:0:0:0:0:0:0:1",
                [false, false, true, false, false, false, false, false],
            ),
            (
                "192.168.1.%",
                [false, false, false, false, true, false, false, true],
            ),
            (
                "192.168.1.2_",
                [false, false, false, false, true, false, false, true],
            ),
            ("192.168.1._", [false; 8]),
            ("192.168.1.\\%", [false; 8]),
            (
                "192.168.1.20",
                [false, false, false, false, true, false, false, true],
            ),
            (
                "192.168.001.020",
                [false, false, false, false, true, false, false, true],
            ),
            (
                "::ffff:192.168.1.20",
                [false, false, false, false, true, false, false, true],
            ),
            (
                "192.168.1.0/255.255.255.0",
                [false, false, false, false, true, false, false, true],
            ),
            (
                "192.168.1.0/24",
                [false, false, false, false, true, false, false, true],
            ),
            (
                "192.168.0.0/16",
                [false, false, false, false, true, false, false, true],
            ),
            (
                "192.168.1.16/28",
                [false, false, false, false, true, false, false, true],
            ),
            (
                "192.168.1.0/25",
                [false, false, false, false, true, false, false, true],
            ),
            ("192.168.1.128/25", [false; 8]),
            // Host bits outside the mask: MySQL's `a & mask == net` never holds.
            ("192.168.1.1/255.255.255.0", [false; 8]),
            (
                "10.0.0.0/8",
                [false, false, false, false, false, true, false, false],
            ),
            (
                "10.0.0.0/255.0.0.0",
                [false, false, false, false, false, true, false, false],
            ),
            (
                "127.0.0.0/8",
                [false, true, false, true, false, false, false, false],
            ),
            // A zero mask is not a netmask: just a string that matches nobody.
            ("0.0.0.0/0", [false; 8]),
            ("0.0.0.0/0.0.0.0", [false; 8]),
            (
                "2001:db8::%",
                [false, false, false, false, false, false, true, false],
            ),
            (
                "2001:DB8::1",
                [false, false, false, false, false, false, true, false],
            ),
            (
                "%:%",
                [false, false, true, false, false, false, true, false],
            ),
            ("%.example.com", [false; 8]),
            ("db.example.com", [false; 8]),
            (
                "%5",
                [false, false, false, false, false, true, false, false],
            ),
            (
                "_0.0.0.5",
                [false, false, false, false, false, true, false, false],
            ),
            (
                "1_.0.0.5",
                [false, false, false, false, false, true, false, false],
            ),
            ("_.0.0.5", [false; 8]),
            (
                "10.0.0.5%",
                [false, false, false, false, false, true, false, false],
            ),
        ];
        for (pattern, expected) in table {
            for (client, want) in clients.iter().zip(expected) {
                assert_eq!(
                    host_matches(pattern, client),
                    *want,
                    "pattern {pattern:?} vs {client:?}"
                );
            }
        }
    }

    #[test]
    fn wildcard_matcher_edge_cases() {
        assert!(wild_match("a%b%c", "axxbyyc"));
        assert!(!wild_match("a%b%c", "axxbyy"));
        assert!(wild_match("%a%a%a%", "aaa"));
        assert!(!wild_match("%a%a%a%a%", "aaa"));
        assert!(wild_match("a_c", "abc"));
        assert!(!wild_match("a_c", "ac"));
        assert!(wild_match("a\\_c", "a_c"));
        assert!(!wild_match("a\\_c", "abc"));
        assert!(wild_match("a\\%", "a%"));
        assert!(!wild_match("a\\%", "ab"));
        assert!(wild_match("ab\\", "ab\\"));
        assert!(wild_match("ÄB", "Äb"));
        // Case folding is ASCII-only, like MySQL's byte-wise my_toupper on latin letters.
        assert!(!wild_match("ä", "Ä"));
        // Long hostile patterns stay fast (no exponential backtracking).
        let pattern = "%a".repeat(100) + "b";
        assert!(!wild_match(&pattern, &"a".repeat(255)));
    }

    #[test]
    fn get_sort_ranks() {
        assert_eq!(wildcard_rank("localhost"), 128);
        assert_eq!(wildcard_rank("192.168.1.0/24"), 128);
        assert_eq!(wildcard_rank(""), 0);
        assert_eq!(wildcard_rank("%"), 1);
        assert_eq!(wildcard_rank("%%"), 2);
        assert_eq!(wildcard_rank("_"), 2);
        assert_eq!(wildcard_rank("%.example.com"), 2);
        assert_eq!(wildcard_rank("192.168.%"), 10);
        assert_eq!(wildcard_rank("192.168.1.%"), 12);
        assert_eq!(wildcard_rank("a\\%b"), 128);
        assert_eq!(wildcard_rank("a\\%b%"), 6);
        assert_eq!(wildcard_rank(&("a".repeat(200) + "%")), 127);
    }

    #[test]
    fn specificity_order_is_mysqls_and_independent_of_insertion_order() {
        let hosts = [
            "%",
            "",
            "localhost",
            "192.168.1.%",
            "192.168.%",
            "%.example.com",
            "127.0.0.1",
            "10.0.0.0/8",
            "10.0.0.0/255.0.0.0",
            "10.1.0.0/16",
            "db.example.com",
        ];
        let mut ids = Vec::new();
        for h in hosts {
            ids.push(("app", h));
            ids.push(("", h));
        }
        let expected = [
            "'app'@'127.0.0.1'",
            "''@'127.0.0.1'",
            "'app'@'10.1.0.0/16'",
            "''@'10.1.0.0/16'",
            "'app'@'10.0.0.0/8'",
            "''@'10.0.0.0/8'",
            "'app'@'10.0.0.0/255.0.0.0'",
            "''@'10.0.0.0/255.0.0.0'",
            "'app'@'db.example.com'",
            "'app'@'localhost'",
            "''@'db.example.com'",
            "''@'localhost'",
            "'app'@'192.168.1.%'",
            "''@'192.168.1.%'",
            "'app'@'192.168.%'",
            "''@'192.168.%'",
            "'app'@'%.example.com'",
            "''@'%.example.com'",
            "'app'@'%'",
            "''@'%'",
            "'app'@''",
            "''@''",
        ];
        let forward = set_of(&ids);
        assert_eq!(names(&forward), expected);
        ids.reverse();
        let backward = set_of(&ids);
        assert_eq!(backward, forward);
        // Rotations of the insertion order give the same set too.
        for shift in 1..ids.len() {
            ids.rotate_left(1);
            assert_eq!(set_of(&ids), forward, "rotation {shift}");
        }
    }

    #[test]
    fn lookup_prefers_most_specific_host() {
        let set = set_of(&[("app", "%"), ("app", "localhost"), ("app", "192.168.1.%")]);
        let found = |client: &ClientHost| set.lookup("app", client).map(Account::name);
        assert_eq!(
            found(&ClientHost::Unix).as_deref(),
            Some("'app'@'localhost'")
        );
        assert_eq!(found(&tcp("::1")).as_deref(), Some("'app'@'localhost'"));
        assert_eq!(
            found(&tcp("192.168.1.7")).as_deref(),
            Some("'app'@'192.168.1.%'")
        );
        assert_eq!(found(&tcp("10.9.8.7")).as_deref(), Some("'app'@'%'"));
        assert!(set.lookup("other", &ClientHost::Unix).is_none());
        assert!(
            set.lookup("App", &ClientHost::Unix).is_none(),
            "user names are case-sensitive"
        );
        assert!(
            set.lookup("", &ClientHost::Unix).is_none(),
            "'' only matches anonymous accounts"
        );
    }

    /// MySQL quirk (manual, "Access Control, Stage 1"): host specificity is compared before the
    /// user, so an anonymous ''@'localhost' shadows 'app'@'%' for local clients — `app` then logs
    /// in (or fails) as the anonymous account.
    #[test]
    fn anonymous_localhost_shadows_named_wildcard_account() {
        let set = set_of(&[("app", "%"), ("", "localhost")]);
        for local in [ClientHost::Unix, tcp("127.0.0.1"), tcp("::1")] {
            let got = set.lookup("app", &local).unwrap();
            assert_eq!(
                (got.user.as_str(), got.host.as_str()),
                ("", "localhost"),
                "{local:?}"
            );
        }
        let remote = set.lookup("app", &tcp("203.0.113.9")).unwrap();
        assert_eq!(remote.name(), "'app'@'%'");
        // Any other name from localhost lands on the anonymous account as well.
        assert_eq!(
            set.lookup("nobody", &ClientHost::Unix).unwrap().name(),
            "''@'localhost'"
        );
        assert!(set.lookup("nobody", &tcp("203.0.113.9")).is_none());
    }

    #[test]
    fn ip_literal_beats_localhost_for_loopback_tcp_but_not_for_the_socket() {
        let set = set_of(&[("app", "localhost"), ("app", "127.0.0.1")]);
        assert_eq!(
            set.lookup("app", &tcp("127.0.0.1")).unwrap().host,
            "127.0.0.1"
        );
        assert_eq!(
            set.lookup("app", &ClientHost::Unix).unwrap().host,
            "localhost"
        );
        assert_eq!(set.lookup("app", &tcp("::1")).unwrap().host, "localhost");
    }

    #[test]
    fn lookup_returns_locked_accounts() {
        let mut set = set_of(&[("app", "%")]);
        set.alter(("app", "%"), |a| a.locked = true).unwrap();
        assert!(set.lookup("app", &ClientHost::Unix).unwrap().locked);
    }

    #[test]
    fn get_is_exact_and_host_case_insensitive() {
        let set = set_of(&[("app", "DB.Example.COM"), ("app", "%")]);
        assert_eq!(
            set.get("app", "db.example.com").unwrap().host,
            "db.example.com"
        );
        assert!(set.get("app", "DB.EXAMPLE.com").is_some());
        assert!(set.get("APP", "db.example.com").is_none());
        assert!(
            set.get("app", "localhost").is_none(),
            "get does not pattern-match"
        );
        assert_eq!(set.len(), 2);
        assert!(!set.is_empty());
        assert!(AccountSet::new().is_empty());
    }

    #[test]
    fn create_is_all_or_nothing() {
        let mut set = set_of(&[("a", "%")]);
        let err = set
            .create(vec![acct("b", "%"), acct("a", "%"), acct("c", "%")], false)
            .unwrap_err();
        assert_eq!(
            err,
            AccountError::OperationFailed {
                operation: "CREATE USER",
                accounts: vec!["'a'@'%'".into()]
            }
        );
        assert_eq!(err.to_string(), "Operation CREATE USER failed for 'a'@'%'");
        assert_eq!((err.code(), err.sqlstate()), (1396, "HY000"));
        assert_eq!(names(&set), ["'a'@'%'"], "nothing created");

        // Every failing account is listed; a name repeated in the statement collides with itself.
        let err = set
            .create(
                vec![
                    acct("a", "%"),
                    acct("b", "%"),
                    acct("b", "%"),
                    acct("x", "h"),
                ],
                false,
            )
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Operation CREATE USER failed for 'a'@'%','b'@'%'"
        );
        assert_eq!(set.len(), 1);

        // Host comparison ignores case: 'a'@'LOCALHOST' collides with 'a'@'localhost'.
        set.create(vec![acct("a", "localhost")], false).unwrap();
        let err = set.create(vec![acct("a", "LOCALHOST")], false).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Operation CREATE USER failed for 'a'@'localhost'"
        );
    }

    #[test]
    fn create_if_not_exists_notes_existing_and_creates_the_rest() {
        let mut set = set_of(&[("a", "%")]);
        let notes = set
            .create(vec![acct("a", "%"), acct("b", "%"), acct("b", "%")], true)
            .unwrap();
        assert_eq!(
            notes,
            [
                Warning::UserAlreadyExists {
                    account: "'a'@'%'".into()
                },
                Warning::UserAlreadyExists {
                    account: "'b'@'%'".into()
                },
            ]
        );
        assert_eq!(
            notes[0].to_string(),
            "Authorization ID 'a'@'%' already exists."
        );
        assert_eq!((notes[0].code(), notes[0].level()), (3163, "Note"));
        assert_eq!(names(&set), ["'a'@'%'", "'b'@'%'"]);
    }

    #[test]
    fn create_rejects_credential_of_another_plugin_and_overlong_names() {
        let mut set = AccountSet::new();
        let mut wrong = acct("w", "%");
        wrong.auth_string = native(0xAB); // native hash on a caching_sha2_password account
        let err = set.create(vec![acct("ok", "%"), wrong], false).unwrap_err();
        assert_eq!(err.to_string(), "Operation CREATE USER failed for 'w'@'%'");
        assert!(set.is_empty());

        let long_user = "u".repeat(33);
        let err = set
            .create(vec![acct("ok", "%"), acct(&long_user, "%")], true)
            .unwrap_err();
        assert_eq!(
            err,
            AccountError::UserNameTooLong {
                user: long_user.clone()
            }
        );
        assert_eq!(err.code(), 1470);
        assert_eq!(
            err.to_string(),
            format!("String '{long_user}' is too long for user name (should be no longer than 32)")
        );
        assert!(set.is_empty());
    }

    #[test]
    fn validate_identity_limits_count_characters() {
        assert!(validate_identity(&"u".repeat(32), "h").is_ok());
        assert!(
            validate_identity(&"é".repeat(32), "h").is_ok(),
            "32 two-byte characters"
        );
        assert!(validate_identity(&"é".repeat(33), "h").is_err());
        assert!(validate_identity("", &"h".repeat(255)).is_ok());
        let err = validate_identity("u", &"h".repeat(256)).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "String '{}' is too long for host name (should be no longer than 255)",
                "h".repeat(70)
            )
        );
    }

    #[test]
    fn drop_users_semantics() {
        let mut set = set_of(&[("a", "%"), ("b", "%"), ("c", "localhost")]);
        let err = set
            .drop_users(
                &[id("a", "%"), id("x", "%"), id("a", "%"), id("y", "h")],
                false,
            )
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Operation DROP USER failed for 'x'@'%','a'@'%','y'@'h'"
        );
        assert_eq!(set.len(), 3, "nothing dropped");

        let notes = set
            .drop_users(&[id("a", "%"), id("x", "%"), id("c", "LOCALHOST")], true)
            .unwrap();
        assert_eq!(
            notes,
            [Warning::UserDoesNotExist {
                account: "'x'@'%'".into()
            }]
        );
        assert_eq!(
            notes[0].to_string(),
            "Authorization ID 'x'@'%' does not exist."
        );
        assert_eq!(notes[0].code(), 3162);
        assert_eq!(names(&set), ["'b'@'%'"]);

        assert!(set.drop_users(&[id("b", "%")], false).unwrap().is_empty());
        assert!(set.is_empty());
    }

    #[test]
    fn rename_semantics() {
        let mut set = set_of(&[("a", "%"), ("b", "%")]);
        set.alter(("a", "%"), |a| {
            a.plugin = Plugin::MysqlNativePassword;
            a.auth_string = native(0x11);
            a.admin = true;
        })
        .unwrap();

        // New name exists; old name missing: both listed by their old side, nothing renamed.
        let err = set
            .rename(&[(id("a", "%"), id("b", "%")), (id("zz", "%"), id("q", "%"))])
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Operation RENAME USER failed for 'a'@'%','zz'@'%'"
        );
        assert_eq!(names(&set), ["'a'@'%'", "'b'@'%'"]);

        // Pairs apply in order: b → c frees b, then a → b succeeds.
        set.rename(&[
            (id("b", "%"), id("c", "%")),
            (id("a", "%"), id("b", "Localhost")),
        ])
        .unwrap();
        assert_eq!(names(&set), ["'b'@'localhost'", "'c'@'%'"]);
        let moved = set.get("b", "localhost").unwrap();
        assert!(moved.admin && moved.plugin == Plugin::MysqlNativePassword);
        assert!(
            moved.auth_string == native(0x11),
            "credential travels with the account"
        );

        // Renaming onto itself fails (the new name exists).
        assert!(set.rename(&[(id("c", "%"), id("c", "%"))]).is_err());
        assert!(matches!(
            set.rename(&[(id("c", "%"), id(&"n".repeat(40), "%"))]),
            Err(AccountError::UserNameTooLong { .. })
        ));
    }

    #[test]
    fn alter_semantics() {
        let mut set = set_of(&[("a", "%"), ("b", "%")]);
        set.alter(("a", "%"), |a| {
            a.require = Require::X509;
            a.grant_option = true;
        })
        .unwrap();
        assert_eq!(set.get("a", "%").unwrap().require, Require::X509);

        let err = set.alter(("missing", "h"), |_| {}).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Operation ALTER USER failed for 'missing'@'h'"
        );

        let before = set.clone();
        // Credential of another plugin: refused, set unchanged.
        let err = set
            .alter(("a", "%"), |a| a.auth_string = native(0x22))
            .unwrap_err();
        assert_eq!(err.code(), 1396);
        assert_eq!(set, before);
        // Identity change onto an existing account: refused, set unchanged.
        assert!(set.alter(("a", "%"), |a| a.user = "b".into()).is_err());
        assert_eq!(set, before);
        // Identity change to a free name re-sorts the account and lowercases its host.
        set.alter(("a", "%"), |a| a.host = "LOCALHOST".into())
            .unwrap();
        assert_eq!(names(&set), ["'a'@'localhost'", "'b'@'%'"]);
    }

    #[test]
    fn operation_failed_message_is_cut_at_256_characters() {
        let accounts: Vec<String> = (0..40)
            .map(|i| account_name(&format!("user{i:02}"), "%"))
            .collect();
        let err = AccountError::OperationFailed {
            operation: "DROP USER",
            accounts,
        };
        let text = err.to_string();
        let list = text
            .strip_prefix("Operation DROP USER failed for ")
            .unwrap();
        assert_eq!(list.chars().count(), 256);
    }

    #[test]
    fn account_debug_hides_the_credential() {
        let hex = "24412430303524031A69251C34295C4B35167C7F1E5A7B63091349503974624D34504B5A424679354856336868686F52485A736E4A733368786E427575516C73446469496537";
        let bytes: Vec<u8> = decode_hex(hex).unwrap();
        let auth = AuthString::parse(Plugin::CachingSha2Password, &bytes).unwrap();
        let a = Account::new("app", "%", Plugin::CachingSha2Password, auth);
        let shown = format!("{a:?}");
        assert!(
            shown.contains("<redacted>") && shown.contains("app"),
            "{shown}"
        );
        assert!(!shown.contains("P9tbM4PKZBFy5HV3"), "{shown}");
        assert!(!shown.to_lowercase().contains("2441243030"), "{shown}");
        let empty = format!("{:?}", acct("e", "%"));
        assert!(empty.contains("<empty>"), "{empty}");
        // The file error for a bad credential never quotes it either.
        let line = format!("vestibule-accounts 1\naccount user=\"a\" host=\"%\" plugin=mysql_native_password auth={hex} require=none locked=no admin=no grant_option=no\n");
        let err = parse_accounts(&line).unwrap_err();
        assert_eq!(
            err.kind,
            AccountFileErrorKind::InvalidAuthString {
                plugin: "mysql_native_password"
            }
        );
        assert!(!err.to_string().contains("2441"), "{err}");
    }

    #[test]
    fn decoy_is_deterministic_and_uniform() {
        let secret = [7u8; 32];
        let first = decoy_plugin("ghost", "10.0.0.1", &secret);
        for _ in 0..10 {
            assert_eq!(decoy_plugin("ghost", "10.0.0.1", &secret), first);
        }
        let mut counts = [0usize; 3];
        for i in 0..3000 {
            let p = decoy_plugin(&format!("user{i}"), "203.0.113.7", &secret);
            let slot = Plugin::ALL.iter().position(|q| *q == p).unwrap();
            counts[slot] += 1;
        }
        for c in counts {
            assert!((850..=1150).contains(&c), "{counts:?}");
        }
        // The host and the secret both feed the choice.
        let by_host = (0..50)
            .filter(|i| decoy_plugin("ghost", &format!("10.0.0.{i}"), &secret) != first)
            .count();
        assert!(by_host > 10, "{by_host}");
        let other_secret = [8u8; 32];
        let by_secret = (0..50)
            .filter(|i| {
                let u = format!("u{i}");
                decoy_plugin(&u, "h", &secret) != decoy_plugin(&u, "h", &other_secret)
            })
            .count();
        assert!(by_secret > 10, "{by_secret}");
        // The 0x00 separator keeps user/host boundaries apart.
        let a = (0..30).filter(|i| {
            let s = [*i as u8; 32];
            decoy_plugin("ab", "c", &s) != decoy_plugin("a", "bc", &s)
        });
        assert!(a.count() > 5);
    }

    // ---- accounts file ----

    fn sample_set() -> AccountSet {
        let mut set = AccountSet::new();
        let caching = AuthString::parse(
            Plugin::CachingSha2Password,
            b"$A$005$abcdefghijklmnopqrstYy1cVJ5jT.fk4HyAGlowRhOkI55As4SAesbspXHQvFD",
        )
        .unwrap();
        let mut root = Account::new("root", "localhost", Plugin::CachingSha2Password, caching);
        root.admin = true;
        root.grant_option = true;
        let mut app = Account::new("app", "%", Plugin::MysqlNativePassword, native(0x0F));
        app.require = Require::Specified {
            issuer: Some("/C=SE/O=\"Acme\"\\n".into()),
            subject: None,
            cipher: Some("ECDHE-RSA-AES256-GCM-SHA384".into()),
            san: Some("DNS:a\nDNS:b\u{2028}\u{0}".into()),
        };
        let mut locked = Account::new(
            "ops team",
            "10.0.0.0/8",
            Plugin::Sha256Password,
            AuthString::Empty,
        );
        locked.locked = true;
        locked.require = Require::Ssl;
        set.create(vec![root, app, locked], false).unwrap();
        set
    }

    #[test]
    fn serialized_format_is_stable_and_readable() {
        let text = serialize_accounts(&sample_set());
        let expected = concat!(
            "# Vestibule accounts. Written by the server: edit only while it is stopped.\n",
            "# auth = hex of mysql.user.authentication_string (- when empty).\n",
            "vestibule-accounts 1\n",
            "account user=\"ops team\" host=\"10.0.0.0/8\" plugin=sha256_password auth=- require=ssl locked=yes admin=no grant_option=no\n",
            "account user=\"root\" host=\"localhost\" plugin=caching_sha2_password ",
            "auth=244124303035246162636465666768696a6b6c6d6e6f707172737459793163564a356a542e666b34487941476c6f7752684f6b49353541733453416573627370584851764644 ",
            "require=none locked=no admin=yes grant_option=yes\n",
            "account user=\"app\" host=\"%\" plugin=mysql_native_password auth=2a30463046304630463046304630463046304630463046304630463046304630463046304630463046 ",
            "require=specified issuer=\"/C=SE/O=\\\"Acme\\\"\\\\n\" cipher=\"ECDHE-RSA-AES256-GCM-SHA384\" san=\"DNS:a\\nDNS:b\\u{2028}\\u{0}\" ",
            "locked=no admin=no grant_option=no\n",
        );
        assert_eq!(text, expected);
        assert_eq!(parse_accounts(&text).unwrap(), sample_set());
        // One line per record whatever the strings contain.
        assert_eq!(text.lines().count(), 3 + 3);
    }

    #[test]
    fn parser_is_lenient_about_layout() {
        let text = "\r\n# hello\r\n  vestibule-accounts   1  \r\n\r\n\t# an account:\r\n  account   require=ssl grant_option=no admin=no locked=no auth=- plugin=caching_sha2_password host=\"LocalHost\" user=bare   \r\n";
        let set = parse_accounts(text).unwrap();
        let a = set.get("bare", "localhost").unwrap();
        assert_eq!(a.host, "localhost", "hosts are lowercased");
        assert_eq!(a.require, Require::Ssl);
        assert!(a.auth_string.is_empty());
        let only_header = parse_accounts("vestibule-accounts 1").unwrap();
        assert!(only_header.is_empty());
    }

    #[test]
    fn parser_errors_name_the_line() {
        use AccountFileErrorKind as K;
        let head = "vestibule-accounts 1\n";
        let ok_fields =
            "plugin=caching_sha2_password auth=- require=none locked=no admin=no grant_option=no";
        let rec =
            |extra: &str| format!("{head}\naccount user=\"u\" host=\"h\" {ok_fields}{extra}\n");
        let cases: Vec<(String, usize, K)> = vec![
            (String::new(), 1, K::MissingHeader),
            ("# only a comment\n".into(), 2, K::MissingHeader),
            ("account user=\"u\"\n".into(), 1, K::MissingHeader),
            ("vestibule-accounts 2\n".into(), 1, K::UnsupportedVersion("2".into())),
            ("vestibule-accounts\n".into(), 1, K::MissingHeader),
            (format!("{head}user=\"u\"\n"), 2, K::NotAnAccount),
            (format!("{head}accounts user=\"u\"\n"), 2, K::NotAnAccount),
            (rec(" color=red"), 3, K::UnknownField("color".into())),
            (rec(" locked=no"), 3, K::DuplicateField("locked".into())),
            (format!("{head}account user=\"u\" {ok_fields}\n"), 2, K::MissingField("host")),
            (format!("{head}account host=\"h\" {ok_fields}\n"), 2, K::MissingField("user")),
            (rec(" issuer=\"x"), 3, K::Syntax("unterminated quoted string")),
            (rec(" issuer=\"\\q\""), 3, K::Syntax("unknown escape in a quoted string")),
            (rec(" issuer=\"a\"b"), 3, K::Syntax("expected a space after a value")),
            (rec(" issuer=\"\\u{110000}\""), 3, K::Syntax("\\u{…} is not a Unicode scalar value")),
            (rec(" issuer=\"\\u{}\""), 3, K::Syntax("bad hex digit in \\u{…}")),
            (rec(" issuer=\"\\u{1234567}\""), 3, K::Syntax("bad \\u{…} escape")),
            (rec(" issuer=\"\t\""), 3, K::Syntax("raw control character in a quoted string")),
            (rec(" junk"), 3, K::Syntax("expected key=value")),
            (rec(" Issuer=x"), 3, K::Syntax("field names are lowercase letters, digits and _")),
            (rec(" issuer=a\\b"), 3, K::Syntax("unquoted value with a quote, backslash or control character")),
            (rec(" issuer=\"x\""), 3, K::RequireDetailWithoutSpecified("issuer")),
            (
                format!("{head}account user=u host=h plugin=caching_sha2_password auth=- require=tls locked=no admin=no grant_option=no\n"),
                2,
                K::InvalidValue { field: "require", value: "tls".into() },
            ),
            (
                format!("{head}account user=u host=h plugin=caching_sha2_password auth=- require=none locked=maybe admin=no grant_option=no\n"),
                2,
                K::InvalidValue { field: "locked", value: "maybe".into() },
            ),
            (
                format!("{head}account user=u host=h plugin=auth_socket auth=- require=none locked=no admin=no grant_option=no\n"),
                2,
                K::UnknownPlugin("auth_socket".into()),
            ),
            (
                format!("{head}account user=u host=h plugin=mysql_native_password auth=2a3 require=none locked=no admin=no grant_option=no\n"),
                2,
                K::BadHex,
            ),
            (
                format!("{head}account user=u host=h plugin=mysql_native_password auth= require=none locked=no admin=no grant_option=no\n"),
                2,
                K::BadHex,
            ),
            (
                format!("{head}account user=u host=h plugin=mysql_native_password auth=2a30 require=none locked=no admin=no grant_option=no\n"),
                2,
                K::InvalidAuthString { plugin: "mysql_native_password" },
            ),
            (
                format!("{head}account user=\"{}\" host=h {ok_fields}\n", "u".repeat(33)),
                2,
                K::InvalidIdentity(AccountError::UserNameTooLong { user: "u".repeat(33) }),
            ),
            (
                format!("{head}account user=u host=h {ok_fields}\n#\naccount user=u host=H {ok_fields}\n"),
                4,
                K::DuplicateAccount("'u'@'h'".into()),
            ),
        ];
        for (text, line, kind) in cases {
            let err = parse_accounts(&text).unwrap_err();
            assert_eq!(err, AccountFileError { line, kind }, "input {text:?}");
            assert!(err
                .to_string()
                .starts_with(&format!("accounts file line {line}: ")));
        }
    }

    /// An account with every security option set away from its default.
    fn secured() -> Account {
        let p = Plugin::MysqlNativePassword;
        let mut a = Account::new("sec", "%", p, native(0x11));
        a.failed_login_attempts = 3;
        a.password_lock_time = PasswordLockTime::Unbounded;
        a.password_expired = true;
        a.password_lifetime = PasswordLifetime::Days(90);
        a.password_last_changed = 1_700_000_000;
        a.secondary = Some(native(0x22));
        a.max_queries_per_hour = 1;
        a.max_updates_per_hour = 2;
        a.max_connections_per_hour = 3;
        a.max_user_connections = 4;
        a.password_history = Some(5);
        a.password_reuse_interval = Some(0);
        a.password_require_current = Some(false);
        a.password_history_entries =
            vec![(1_700_000_000, native(0x11)), (1_600_000_000, native(0x33))];
        a
    }

    #[test]
    fn security_options_have_mysqls_defaults() {
        let a = acct("u", "%");
        assert_eq!(a.failed_login_attempts, 0);
        assert_eq!(a.password_lock_time, PasswordLockTime::Days(0));
        assert!(!a.password_locking_active());
        assert!(!a.password_expired);
        assert_eq!(a.password_lifetime, PasswordLifetime::Default);
        assert_eq!(a.password_last_changed, 0);
        assert_eq!(a.secondary, None);
        assert_eq!(
            (
                a.max_queries_per_hour,
                a.max_updates_per_hour,
                a.max_connections_per_hour,
                a.max_user_connections
            ),
            (0, 0, 0, 0)
        );
        assert_eq!(
            (
                a.password_history,
                a.password_reuse_interval,
                a.password_require_current
            ),
            (None, None, None)
        );
        assert!(a.password_history_entries.is_empty());
        assert_eq!(a.credentials().count(), 1);
        assert_eq!(secured().credentials().count(), 2);
    }

    #[test]
    fn password_locking_needs_both_options() {
        let mut a = acct("u", "%");
        a.failed_login_attempts = 3;
        assert!(!a.password_locking_active());
        a.password_lock_time = PasswordLockTime::Days(1);
        assert!(a.password_locking_active());
        a.password_lock_time = PasswordLockTime::Unbounded;
        assert!(a.password_locking_active());
        a.failed_login_attempts = 0;
        assert!(!a.password_locking_active());
    }

    #[test]
    fn password_expiry_follows_check_password_lifetime() {
        const DAY: u64 = SECONDS_PER_DAY;
        let t0 = 1_700_000_000;
        let mut a = acct("u", "%");
        a.password_last_changed = t0;
        // DEFAULT with the global at 0 (MySQL 8.0's default): never.
        assert!(!a.password_expired_at(t0 + 10_000 * DAY, 0));
        // DEFAULT with a global of 30 days: whole 24-hour days, >= the lifetime.
        assert!(!a.password_expired_at(t0 + 30 * DAY - 1, 30));
        assert!(a.password_expired_at(t0 + 30 * DAY, 30));
        // INTERVAL n DAY wins over the global; NEVER ignores it.
        a.password_lifetime = PasswordLifetime::Days(2);
        assert!(!a.password_expired_at(t0 + DAY, 0));
        assert!(a.password_expired_at(t0 + 2 * DAY, 365));
        a.password_lifetime = PasswordLifetime::Never;
        assert!(!a.password_expired_at(t0 + 1000 * DAY, 1));
        // A clock behind the last change counts 0 days.
        a.password_lifetime = PasswordLifetime::Days(1);
        assert!(!a.password_expired_at(t0 - DAY, 1));
        // No recorded change (an account from an old file): no expiry by age.
        a.password_last_changed = 0;
        assert!(!a.password_expired_at(t0, 1));
        // PASSWORD EXPIRE: expired whatever the lifetime.
        a.password_lifetime = PasswordLifetime::Never;
        a.password_expired = true;
        assert!(a.password_expired_at(0, 0));
    }

    #[test]
    fn security_options_round_trip_through_the_file() {
        let mut set = sample_set();
        set.create(vec![secured()], false).unwrap();
        let text = serialize_accounts(&set);
        let line = text.lines().find(|l| l.contains("\"sec\"")).unwrap();
        let (h1, h2, h3) = (
            hex(&native(0x11).to_bytes()),
            hex(&native(0x22).to_bytes()),
            hex(&native(0x33).to_bytes()),
        );
        assert_eq!(
            line,
            format!(
                "account user=\"sec\" host=\"%\" plugin=mysql_native_password auth={h1} require=none locked=no admin=no grant_option=no \
                 secondary={h2} password_expired=yes password_lifetime=90 password_last_changed=1700000000 \
                 failed_login_attempts=3 password_lock_time=unbounded max_queries_per_hour=1 max_updates_per_hour=2 \
                 max_connections_per_hour=3 max_user_connections=4 password_history=5 password_reuse_interval=0 \
                 password_require_current=optional history=1700000000:{h1},1600000000:{h3}"
            )
        );
        let again = parse_accounts(&text).unwrap();
        assert_eq!(again, set);
        assert_eq!(again.get("sec", "%"), Some(&secured()));
        // The other variants of each option.
        let mut b = secured();
        b.user = "b".into();
        b.password_lifetime = PasswordLifetime::Never;
        b.password_lock_time = PasswordLockTime::Days(7);
        b.password_require_current = Some(true);
        b.secondary = None;
        b.password_history_entries.clear();
        let mut set = AccountSet::new();
        set.create(vec![b.clone()], false).unwrap();
        let text = serialize_accounts(&set);
        assert!(text.contains(" password_lifetime=never "), "{text}");
        assert!(text.contains(" password_lock_time=7 "), "{text}");
        assert!(text.contains(" password_require_current=yes"), "{text}");
        assert!(
            !text.contains(" secondary=") && !text.contains(" history="),
            "{text}"
        );
        assert_eq!(parse_accounts(&text).unwrap().get("b", "%"), Some(&b));
    }

    #[test]
    fn old_files_load_with_the_defaults() {
        // A file written before the security options existed: the same text, the defaults.
        let text = "vestibule-accounts 1\naccount user=\"app\" host=\"%\" plugin=caching_sha2_password auth=- require=none locked=no admin=no grant_option=no\n";
        let set = parse_accounts(text).unwrap();
        assert_eq!(set.get("app", "%"), Some(&acct("app", "%")));
        assert_eq!(serialize_accounts(&set).lines().last(), text.lines().last());
    }

    #[test]
    fn security_option_errors_name_the_field() {
        use AccountFileErrorKind as K;
        let head = "vestibule-accounts 1\n";
        let base = format!(
            "account user=u host=h plugin=mysql_native_password auth={} require=none locked=no admin=no grant_option=no",
            hex(&native(0x11).to_bytes())
        );
        let bad = |field: &'static str, value: &str| K::InvalidValue {
            field,
            value: value.into(),
        };
        let credential = "<mysql_native_password credential>";
        let sha2 = hex(
            &AuthString::generate(Plugin::CachingSha2Password, b"pw", [7; 20], 5000).to_bytes(),
        );
        let cases: Vec<(String, K)> = vec![
            (
                " failed_login_attempts=32768".into(),
                bad("failed_login_attempts", "32768"),
            ),
            (
                " failed_login_attempts=-1".into(),
                bad("failed_login_attempts", "-1"),
            ),
            (
                " failed_login_attempts=03".into(),
                bad("failed_login_attempts", "03"),
            ),
            (
                " password_lock_time=forever".into(),
                bad("password_lock_time", "forever"),
            ),
            (" password_lifetime=0".into(), bad("password_lifetime", "0")),
            (
                " password_lifetime=65536".into(),
                bad("password_lifetime", "65536"),
            ),
            (
                " password_lifetime=default".into(),
                bad("password_lifetime", "default"),
            ),
            (
                " password_expired=maybe".into(),
                bad("password_expired", "maybe"),
            ),
            (
                " max_user_connections=4294967296".into(),
                bad("max_user_connections", "4294967296"),
            ),
            (" password_history=x".into(), bad("password_history", "x")),
            (
                " password_require_current=no".into(),
                bad("password_require_current", "no"),
            ),
            (
                " password_last_changed=18446744073709551616".into(),
                bad("password_last_changed", "18446744073709551616"),
            ),
            (" secondary=2a31".into(), bad("secondary", credential)),
            (" secondary=-".into(), K::BadHex),
            (format!(" secondary={sha2}"), bad("secondary", credential)),
            (
                " history=12".into(),
                bad("history", "<entry without `seconds:hash`>"),
            ),
            (
                format!(" history=x:{}", hex(&native(0x11).to_bytes())),
                bad("history", "x"),
            ),
            (" history=1:".into(), K::BadHex),
            (format!(" history=1:{sha2}"), bad("history", credential)),
        ];
        for (extra, kind) in cases {
            let text = format!("{head}{base}{extra}\n");
            let err = parse_accounts(&text).unwrap_err();
            assert_eq!(err, AccountFileError { line: 2, kind }, "input {text:?}");
            assert!(!err.to_string().contains("2a3131"), "{err}");
        }
    }

    #[test]
    fn the_set_refuses_foreign_secondary_and_history_credentials() {
        let sha2 = AuthString::generate(Plugin::CachingSha2Password, b"pw", [7; 20], 5000);
        let mut a = secured();
        a.secondary = Some(sha2.clone());
        let mut set = AccountSet::new();
        assert!(set.create(vec![a], false).is_err());
        let mut a = secured();
        a.secondary = Some(AuthString::Empty);
        assert!(set.create(vec![a], false).is_err());
        let mut a = secured();
        a.password_history_entries.push((1, sha2));
        assert!(set.create(vec![a], false).is_err());
        set.create(vec![secured()], false).unwrap();
        let err = set.alter(("sec", "%"), |a| a.plugin = Plugin::CachingSha2Password);
        assert!(
            err.is_err(),
            "a plugin change must bring its credentials along"
        );
    }

    #[test]
    fn debug_hides_secondary_and_history() {
        let shown = format!("{:?}", secured());
        assert!(shown.contains("secondary: Some(<redacted>)"), "{shown}");
        assert!(
            shown.contains("password_history_entries: <2 redacted>"),
            "{shown}"
        );
        assert!(!shown.contains("2222"), "{shown}");
    }

    #[test]
    fn fuzz_body_accepts_known_inputs() {
        fuzz_accounts_file(serialize_accounts(&sample_set()).as_bytes());
        fuzz_accounts_file(b"");
        fuzz_accounts_file(b"vestibule-accounts 1\n");
        fuzz_accounts_file(b"\xff\xfe vestibule-accounts 1\naccount");
    }

    // ---- property tests ----

    fn salt_byte() -> impl Strategy<Value = u8> {
        (1u8..=0x7f).prop_map(|b| if b == b'$' { b + 1 } else { b })
    }

    fn crypt_digest() -> impl Strategy<Value = Vec<u8>> {
        const ALPHABET: &[u8] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        proptest::collection::vec(proptest::sample::select(ALPHABET), 43)
    }

    /// A plugin with a stored string of its format (built as bytes, parsed by the auth module).
    fn plugin_and_auth() -> impl Strategy<Value = (Plugin, AuthString)> {
        let caching = (
            5u32..=0xFFF,
            proptest::collection::vec(salt_byte(), 20),
            crypt_digest(),
        )
            .prop_map(|(k, salt, digest)| {
                let mut bytes = format!("$A${k:03X}$").into_bytes();
                bytes.extend(salt);
                bytes.extend(digest);
                (Plugin::CachingSha2Password, bytes)
            });
        let native = proptest::array::uniform20(any::<u8>()).prop_map(|hash| {
            let hex: String = hash.iter().map(|b| format!("{b:02X}")).collect();
            (Plugin::MysqlNativePassword, format!("*{hex}").into_bytes())
        });
        let sha256 = (proptest::collection::vec(salt_byte(), 20), crypt_digest()).prop_map(
            |(salt, digest)| {
                let mut bytes = b"$5$".to_vec();
                bytes.extend(salt);
                bytes.push(b'$');
                bytes.extend(digest);
                (Plugin::Sha256Password, bytes)
            },
        );
        let empty = proptest::sample::select(Plugin::ALL.to_vec()).prop_map(|p| (p, Vec::new()));
        prop_oneof![caching, native, sha256, empty].prop_map(|(plugin, bytes)| {
            let auth = AuthString::parse(plugin, &bytes).expect("generated string must parse");
            (plugin, auth)
        })
    }

    fn any_text(max: usize) -> impl Strategy<Value = String> {
        prop_oneof![
            proptest::collection::vec(any::<char>(), 0..=max).prop_map(|v| v.into_iter().collect()),
            proptest::collection::vec(
                proptest::sample::select(vec![
                    'a', 'Z', '%', '_', '\\', '"', ' ', '\n', '\r', '\t', '\0', '=', '#', 'é',
                    '\u{2028}', '.', '/'
                ]),
                0..=max,
            )
            .prop_map(|v| v.into_iter().collect()),
        ]
    }

    fn host_text() -> impl Strategy<Value = String> {
        prop_oneof![
            any_text(40),
            proptest::sample::select(vec![
                "%",
                "",
                "localhost",
                "LocalHost",
                "127.0.0.1",
                "::1",
                "10.0.0.0/8",
                "10.0.0.0/255.0.0.0",
                "192.168.1.%",
                "%.example.com",
            ])
            .prop_map(str::to_owned),
        ]
    }

    fn require() -> impl Strategy<Value = Require> {
        let opt = || proptest::option::of(any_text(30));
        prop_oneof![
            Just(Require::None),
            Just(Require::Ssl),
            Just(Require::X509),
            (opt(), opt(), opt(), opt()).prop_map(|(issuer, subject, cipher, san)| {
                Require::Specified {
                    issuer,
                    subject,
                    cipher,
                    san,
                }
            }),
        ]
    }

    /// The account-security options, with their defaults often (as in real files).
    fn security() -> impl Strategy<Value = (Account, bool)> {
        let lifetime = prop_oneof![
            2 => Just(PasswordLifetime::Default),
            1 => Just(PasswordLifetime::Never),
            1 => (1..=MAX_PASSWORD_LIFETIME_DAYS).prop_map(PasswordLifetime::Days),
        ];
        let lock_time = prop_oneof![
            2 => Just(PasswordLockTime::Days(0)),
            1 => Just(PasswordLockTime::Unbounded),
            1 => (0..=MAX_PASSWORD_LOCKING_VALUE).prop_map(PasswordLockTime::Days),
        ];
        let small = || prop_oneof![2 => Just(0u32), 1 => any::<u32>()];
        let opt = || prop_oneof![2 => Just(None), 1 => any::<u32>().prop_map(Some)];
        (
            (
                any::<bool>(),
                lifetime,
                prop_oneof![Just(0u64), any::<u64>()],
                0..=MAX_PASSWORD_LOCKING_VALUE,
                lock_time,
            ),
            (small(), small(), small(), small()),
            (opt(), opt(), prop::option::of(any::<bool>())),
            any::<bool>(),
        )
            .prop_map(
                |(
                    (password_expired, password_lifetime, password_last_changed, attempts, lock),
                    (q, u, c, uc),
                    (history, reuse, require_current),
                    with_secondary,
                )| {
                    let mut a = acct("", "");
                    a.password_expired = password_expired;
                    a.password_lifetime = password_lifetime;
                    a.password_last_changed = password_last_changed;
                    a.failed_login_attempts = attempts;
                    a.password_lock_time = lock;
                    a.max_queries_per_hour = q;
                    a.max_updates_per_hour = u;
                    a.max_connections_per_hour = c;
                    a.max_user_connections = uc;
                    a.password_history = history;
                    a.password_reuse_interval = reuse;
                    a.password_require_current = require_current;
                    (a, with_secondary)
                },
            )
    }

    fn account() -> impl Strategy<Value = Account> {
        (
            any_text(32),
            host_text(),
            plugin_and_auth(),
            require(),
            any::<[bool; 3]>(),
            security(),
            proptest::collection::vec((any::<u64>(), plugin_and_auth()), 0..3),
        )
            .prop_map(
                |(
                    user,
                    host,
                    (plugin, auth_string),
                    require,
                    [locked, admin, grant_option],
                    (mut a, with_secondary),
                    history,
                )| {
                    // Secondary and history: stored strings of the account's plugin only.
                    let stored: Vec<(u64, AuthString)> = history
                        .into_iter()
                        .filter(|(_, (p, h))| *p == plugin && !h.is_empty())
                        .map(|(at, (_, h))| (at, h))
                        .collect();
                    a.secondary = stored
                        .first()
                        .filter(|_| with_secondary)
                        .map(|(_, h)| h.clone());
                    a.password_history_entries = stored;
                    a.user = user;
                    a.host = host;
                    a.plugin = plugin;
                    a.auth_string = auth_string;
                    a.require = require;
                    a.locked = locked;
                    a.admin = admin;
                    a.grant_option = grant_option;
                    a
                },
            )
    }

    fn account_set() -> impl Strategy<Value = AccountSet> {
        proptest::collection::vec(account(), 0..12).prop_map(|accounts| {
            let mut set = AccountSet::new();
            set.create(accounts, true)
                .expect("generated accounts are valid");
            set
        })
    }

    proptest! {
        #[test]
        fn serialize_parse_round_trip(set in account_set()) {
            let text = serialize_accounts(&set);
            let parsed = parse_accounts(&text);
            prop_assert_eq!(parsed.as_ref(), Ok(&set));
            prop_assert_eq!(serialize_accounts(&parsed.unwrap()), text.clone());
            prop_assert_eq!(text.lines().count(), 3 + set.len());
        }

        #[test]
        fn set_order_is_sorted_and_canonical(accounts in proptest::collection::vec(account(), 0..12)) {
            // With IF NOT EXISTS the first of two equal identities wins: keep identities unique
            // so both insertion orders describe the same set.
            let mut seen = std::collections::HashSet::new();
            let accounts: Vec<Account> = accounts
                .into_iter()
                .filter(|a| seen.insert((a.user.clone(), a.host.to_ascii_lowercase())))
                .collect();
            let mut forward = AccountSet::new();
            forward.create(accounts.clone(), true).unwrap();
            let mut backward = AccountSet::new();
            backward.create(accounts.into_iter().rev().collect(), true).unwrap();
            prop_assert_eq!(&forward, &backward);
            let keys: Vec<_> = forward.iter().map(|a| sort_key(&a.user, &a.host)).collect();
            prop_assert!(keys.windows(2).all(|w| w[0] < w[1]));
        }

        #[test]
        fn lookup_agrees_with_a_linear_scan(
            set in account_set(),
            user in any_text(4),
            client in prop_oneof![
                Just(ClientHost::Unix),
                any::<Ipv4Addr>().prop_map(|a| ClientHost::Tcp(IpAddr::V4(a))),
                any::<Ipv6Addr>().prop_map(|a| ClientHost::Tcp(IpAddr::V6(a))),
                Just(ClientHost::Tcp(IpAddr::V4(Ipv4Addr::LOCALHOST))),
            ],
        ) {
            let found = set.lookup(&user, &client);
            if let Some(a) = found {
                prop_assert!(a.user == user || a.user.is_empty());
                prop_assert!(host_matches(&a.host, &client));
            }
            // No matching account is more specific than the one found.
            let first = set.iter().position(|a| (a.user == user || a.user.is_empty()) && host_matches(&a.host, &client));
            prop_assert_eq!(first.and_then(|i| set.iter().nth(i)).map(Account::name), found.map(Account::name));
        }

        #[test]
        fn parse_never_panics_on_arbitrary_text(text in any_text(300)) {
            fuzz_accounts_file(text.as_bytes());
            fuzz_accounts_file(format!("vestibule-accounts 1\n{text}").as_bytes());
            fuzz_accounts_file(format!("vestibule-accounts 1\naccount {text}").as_bytes());
        }

        #[test]
        fn parse_never_panics_on_mutated_files(set in account_set(), at in any::<usize>(), byte in any::<u8>(), cut in any::<bool>()) {
            let mut bytes = serialize_accounts(&set).into_bytes();
            let i = at % (bytes.len() + 1);
            if cut {
                bytes.truncate(i);
            } else {
                bytes.insert(i, byte);
            }
            fuzz_accounts_file(&bytes);
        }

        #[test]
        fn host_matching_never_panics(pattern in host_text(), ip in any::<IpAddr>()) {
            let _ = host_matches(&pattern, &ClientHost::Tcp(ip));
            let _ = host_matches(&pattern, &ClientHost::Unix);
            let _ = wildcard_rank(&pattern);
        }
    }
}
