//! The statement tree produced by [`super::parse_statement`] and its canonical SQL printer.
//!
//! `Display` prints canonical MySQL text (upper-case keywords, explicit scopes, `AS` before
//! aliases, minimal parentheses, identifiers back-quoted only when needed) that parses back to
//! an equal tree. It prints passwords and authentication strings verbatim, because a round trip
//! needs them: **never log the `Display` of an account statement**. `Debug` is safe to log:
//! every secret sits in a [`Secret`], whose `Debug` is redacted.

use std::fmt::{self, Write as _};

use zeroize::Zeroizing;

use super::keywords;

/// A password or stored authentication string taken from SQL text. Zeroized on drop, redacted in
/// `Debug`. `PartialEq` exists for comparing parsed trees in tests; authentication never compares
/// plaintext from SQL with anything (it hashes it), so no constant-time comparison is offered.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Wraps `value`, which is zeroized when the secret is dropped.
    pub fn new(value: String) -> Self {
        Self(Zeroizing::new(value))
    }

    /// The plaintext, for hashing or storing. Do not log it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Moves the text out, leaving an empty secret behind (used for ordinary string literals).
    pub(crate) fn take(&mut self) -> String {
        std::mem::take(&mut *self.0)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// One statement of the admin subset (MySQL 8.0 syntax).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Statement {
    /// `SET assignment [, assignment]…` (MySQL "SET Syntax for Variable Assignment").
    Set(Vec<SetAssignment>),
    /// `SET PASSWORD [FOR user] = 'pw' [REPLACE 'current'] [RETAIN CURRENT PASSWORD]`; `user` is
    /// `None` for the session's own account.
    SetPassword {
        /// `FOR user`.
        user: Option<UserSpec>,
        /// The new password.
        password: Secret,
        /// `REPLACE 'current'`: the current password, for `PASSWORD REQUIRE CURRENT`.
        replace: Option<Secret>,
        /// `RETAIN CURRENT PASSWORD`: the current password becomes the secondary one.
        retain_current: bool,
    },
    /// `SELECT …` (the subset described on [`Select`]).
    Select(Select),
    /// `SHOW [GLOBAL|SESSION|LOCAL] STATUS [LIKE 'pat' | WHERE expr]`; no modifier means SESSION.
    ShowStatus {
        /// `GLOBAL` or SESSION.
        scope: ShowScope,
        /// `LIKE` / `WHERE`.
        filter: Option<ShowFilter>,
    },
    /// `SHOW [GLOBAL|SESSION|LOCAL] VARIABLES [LIKE 'pat' | WHERE expr]`.
    ShowVariables {
        /// `GLOBAL` or SESSION.
        scope: ShowScope,
        /// `LIKE` / `WHERE`.
        filter: Option<ShowFilter>,
    },
    /// `SHOW CREATE USER user`.
    ShowCreateUser(UserSpec),
    /// `SHOW GRANTS [FOR user]`; `None` means the current user.
    ShowGrants(Option<UserSpec>),
    /// `SHOW {DATABASES|SCHEMAS} [LIKE 'pat' | WHERE expr]`.
    ShowDatabases(Option<ShowFilter>),
    /// `SHOW WARNINGS`.
    ShowWarnings,
    /// `CREATE USER [IF NOT EXISTS] user [auth] [, user [auth]]… [REQUIRE …] [WITH
    /// resource_option …] [password_option | lock_option …]` (MySQL's `create_user_stmt`; the
    /// clauses after the account list apply to every account listed).
    CreateUser {
        /// `IF NOT EXISTS`.
        if_not_exists: bool,
        /// The accounts and their authentication clauses.
        users: Vec<UserAuth>,
        /// `REQUIRE …` (for every account listed).
        require: Option<Require>,
        /// `WITH MAX_QUERIES_PER_HOUR n …`.
        limits: ResourceLimits,
        /// `Some(true)` = `ACCOUNT LOCK`, `Some(false)` = `ACCOUNT UNLOCK` (the last one given wins).
        account_lock: Option<bool>,
        /// `PASSWORD EXPIRE …`, `PASSWORD HISTORY …`, `FAILED_LOGIN_ATTEMPTS n` ….
        password: PasswordOptions,
    },
    /// `ALTER USER [IF EXISTS] user [auth [REPLACE …] [RETAIN …] | DISCARD OLD PASSWORD] [, …]
    /// [REQUIRE …] [WITH …] [password_option | lock_option …]`, and `ALTER USER USER()
    /// IDENTIFIED BY 'pw'` (the user is then [`UserSpec::CurrentUser`]).
    AlterUser {
        /// `IF EXISTS`.
        if_exists: bool,
        /// The accounts and their authentication clauses.
        users: Vec<UserAuth>,
        /// `REQUIRE …` (for every account listed).
        require: Option<Require>,
        /// As in [`Statement::CreateUser`].
        limits: ResourceLimits,
        /// As in [`Statement::CreateUser`].
        account_lock: Option<bool>,
        /// As in [`Statement::CreateUser`].
        password: PasswordOptions,
    },
    /// `DROP USER [IF EXISTS] user [, user]…`.
    DropUser {
        /// `IF EXISTS`.
        if_exists: bool,
        /// The accounts.
        users: Vec<UserSpec>,
    },
    /// `RENAME USER old TO new [, old TO new]…`.
    RenameUser(Vec<(UserSpec, UserSpec)>),
    /// `GRANT privileges ON level TO user [, user]… [WITH GRANT OPTION]`.
    Grant {
        /// What is granted.
        privileges: Privileges,
        /// `ON` what.
        level: GrantLevel,
        /// `TO` whom.
        users: Vec<UserSpec>,
        /// `WITH GRANT OPTION`.
        with_grant_option: bool,
    },
    /// `REVOKE privileges ON level FROM user [, user]…` and
    /// `REVOKE ALL [PRIVILEGES], GRANT OPTION [ON level] FROM user [, user]…`.
    /// `level` is `None` only in the second form without `ON` (MySQL's "revoke everything").
    Revoke {
        /// What is revoked.
        privileges: Privileges,
        /// `, GRANT OPTION` after `ALL [PRIVILEGES]`.
        grant_option: bool,
        /// `ON` what.
        level: Option<GrantLevel>,
        /// `FROM` whom.
        users: Vec<UserSpec>,
    },
    /// `FLUSH [NO_WRITE_TO_BINLOG|LOCAL] option [, option]…` for the options in [`FlushKind`].
    Flush(Vec<FlushKind>),
    /// `ALTER INSTANCE RELOAD TLS [FOR CHANNEL name] [NO ROLLBACK ON ERROR]`.
    AlterInstanceReloadTls {
        /// `FOR CHANNEL name` (`mysql_main` or `mysql_admin` in MySQL).
        channel: Option<String>,
        /// `NO ROLLBACK ON ERROR`: a failed reload disables TLS instead of keeping the old one.
        no_rollback_on_error: bool,
    },
    /// `USE db`.
    Use(String),
    /// `SHOW [FULL] PROCESSLIST`.
    ShowProcesslist {
        /// `FULL`: the whole statement text in `Info` (else its first 100 characters).
        full: bool,
    },
    /// `KILL [CONNECTION | QUERY] id`.
    Kill {
        /// `QUERY`: only the statement the session runs (`CONNECTION`, the default, ends it).
        query: bool,
        /// The connection id.
        id: Expr,
    },
    /// `SHUTDOWN`.
    Shutdown,
    /// `TRUNCATE [TABLE] [schema.]table`.
    TruncateTable {
        /// `schema.`, when written.
        schema: Option<String>,
        /// The table.
        name: String,
    },
    /// `BEGIN [WORK]` or `START TRANSACTION` (without characteristics).
    Begin,
    /// `COMMIT [WORK]`.
    Commit,
    /// `ROLLBACK [WORK]`.
    Rollback,
    /// A statement that starts like a real MySQL statement this server does not implement
    /// (`INSERT`, `CREATE TABLE`, `SHOW CREATE TABLE`, `SET TRANSACTION`, …). Only the leading
    /// words were examined; the rest up to `;` was tokenized (so lexical errors still surface)
    /// and skipped. `verb` holds those leading words upper-cased, e.g. `"CREATE TABLE"`. The
    /// handler answers ER_NOT_SUPPORTED_YET (1235) with it, or acknowledges harmless ones.
    Other {
        /// The leading words, upper-cased.
        verb: String,
    },
}

/// A user account in account-management statements: `'name'@'host'`, `name@host`, `'name'`
/// (host `%`), or `CURRENT_USER[()]` / `USER()` (in `ALTER USER`). Names and hosts are kept
/// exactly as written (MySQL compares user names case-sensitively); length limits (32 / 255)
/// are for the handler to check.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum UserSpec {
    /// `'user'@'host'` (host `%` when omitted).
    Account {
        /// The user part.
        user: String,
        /// The host part.
        host: String,
    },
    /// `CURRENT_USER[()]` or `USER()`: the session's own account.
    #[default]
    CurrentUser,
}

/// One account of a `CREATE USER` / `ALTER USER` list with its optional authentication clause.
///
/// The parser sets `replace`, `retain_current` and `discard_old` only where MySQL's grammar
/// has them (`alter_user`): `REPLACE` after `IDENTIFIED [WITH plugin] BY`, `RETAIN CURRENT
/// PASSWORD` after `IDENTIFIED [WITH plugin] BY | AS`, `DISCARD OLD PASSWORD` without
/// `IDENTIFIED`; never in CREATE USER.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UserAuth {
    /// The account.
    pub user: UserSpec,
    /// Its `IDENTIFIED …` clause.
    pub auth: Option<AuthOption>,
    /// `REPLACE 'current'` (ALTER USER): the current password, for `PASSWORD REQUIRE CURRENT`.
    pub replace: Option<Secret>,
    /// `RETAIN CURRENT PASSWORD` (ALTER USER): the current password becomes the secondary one.
    pub retain_current: bool,
    /// `DISCARD OLD PASSWORD` (ALTER USER): the secondary password is removed.
    pub discard_old: bool,
}

impl UserAuth {
    /// `user` with an optional `IDENTIFIED …` clause and none of the ALTER-only clauses.
    pub fn new(user: UserSpec, auth: Option<AuthOption>) -> Self {
        UserAuth {
            user,
            auth,
            ..UserAuth::default()
        }
    }
}

/// `WITH MAX_QUERIES_PER_HOUR n MAX_UPDATES_PER_HOUR n MAX_CONNECTIONS_PER_HOUR n
/// MAX_USER_CONNECTIONS n` of CREATE / ALTER USER (MySQL's `connect_options`): any subset, in
/// any order; a limit given twice keeps the last value. `None` = not given (ALTER USER leaves
/// it as it is; CREATE USER's default is 0, unlimited).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ResourceLimits {
    /// `MAX_QUERIES_PER_HOUR n`.
    pub max_queries_per_hour: Option<u32>,
    /// `MAX_UPDATES_PER_HOUR n`.
    pub max_updates_per_hour: Option<u32>,
    /// `MAX_CONNECTIONS_PER_HOUR n`.
    pub max_connections_per_hour: Option<u32>,
    /// `MAX_USER_CONNECTIONS n`.
    pub max_user_connections: Option<u32>,
}

impl ResourceLimits {
    /// Whether no limit was given (no `WITH` clause).
    pub fn is_empty(&self) -> bool {
        *self == ResourceLimits::default()
    }
}

/// The password and locking options of CREATE / ALTER USER (MySQL's
/// `opt_account_lock_password_expire_option` list, `ACCOUNT LOCK|UNLOCK` apart): any order, each
/// option given twice keeps the last one. `None` = not given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PasswordOptions {
    /// `PASSWORD EXPIRE [DEFAULT | NEVER | INTERVAL n DAY]`.
    pub expire: Option<PasswordExpire>,
    /// `PASSWORD HISTORY {n | DEFAULT}`.
    pub history: Option<PolicyValue>,
    /// `PASSWORD REUSE INTERVAL {n DAY | DEFAULT}`.
    pub reuse_interval: Option<PolicyValue>,
    /// `PASSWORD REQUIRE CURRENT [DEFAULT | OPTIONAL]`.
    pub require_current: Option<RequireCurrent>,
    /// `FAILED_LOGIN_ATTEMPTS n` (0..=32767; larger is 1525 at parse time).
    pub failed_login_attempts: Option<u32>,
    /// `PASSWORD_LOCK_TIME {n | UNBOUNDED}` (n 0..=32767).
    pub password_lock_time: Option<LockTime>,
}

impl PasswordOptions {
    /// Whether no option was given.
    pub fn is_empty(&self) -> bool {
        *self == PasswordOptions::default()
    }
}

/// `PASSWORD EXPIRE …`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordExpire {
    /// Bare `PASSWORD EXPIRE`: the password is expired now (the lifetime is left alone).
    Now,
    /// `PASSWORD EXPIRE DEFAULT`: the global `default_password_lifetime` applies.
    Default,
    /// `PASSWORD EXPIRE NEVER`.
    Never,
    /// `PASSWORD EXPIRE INTERVAL n DAY` (1..=65535; other values are 1525 at parse time).
    Interval(u32),
}

/// The value of `PASSWORD HISTORY` / `PASSWORD REUSE INTERVAL`: `DEFAULT` (the global
/// variable applies) or a number (entries / days).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyValue {
    /// `DEFAULT`.
    Default,
    /// `n` (`n DAY` for the reuse interval).
    Value(u32),
}

/// `PASSWORD REQUIRE CURRENT [DEFAULT | OPTIONAL]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequireCurrent {
    /// `PASSWORD REQUIRE CURRENT`: a password change must name the current one (REPLACE).
    Yes,
    /// `PASSWORD REQUIRE CURRENT DEFAULT`: the global `password_require_current` decides.
    Default,
    /// `PASSWORD REQUIRE CURRENT OPTIONAL`.
    Optional,
}

/// `PASSWORD_LOCK_TIME …`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockTime {
    /// `PASSWORD_LOCK_TIME n` (days; 0 disables the lock).
    Days(u32),
    /// `PASSWORD_LOCK_TIME UNBOUNDED`.
    Unbounded,
}

/// MySQL's `auth_option` of `CREATE USER` / `ALTER USER`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum AuthOption {
    /// `IDENTIFIED BY 'pw'` (the default plugin).
    Password(Secret),
    /// `IDENTIFIED WITH plugin`.
    Plugin(String),
    /// `IDENTIFIED WITH plugin BY 'pw'`.
    PluginPassword {
        /// The plugin name as written.
        plugin: String,
        /// The password.
        password: Secret,
    },
    /// `IDENTIFIED WITH plugin AS 'auth_string'` (an already-hashed credential).
    PluginAuthString {
        /// The plugin name as written.
        plugin: String,
        /// The stored string, in the plugin's format.
        auth_string: Secret,
    },
}

/// The `REQUIRE` clause (MySQL `ssl_type` NONE / ANY / X509 / SPECIFIED; SAN is TiDB's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Require {
    /// `REQUIRE NONE`.
    None,
    /// `REQUIRE SSL`.
    Ssl,
    /// `REQUIRE X509`.
    X509,
    /// At least one field is `Some` when produced by the parser.
    Specified {
        /// `ISSUER 'dn'`.
        issuer: Option<String>,
        /// `SUBJECT 'dn'`.
        subject: Option<String>,
        /// `CIPHER 'name'`.
        cipher: Option<String>,
        /// `SAN 'list'` (TiDB).
        san: Option<String>,
    },
}

/// The privilege list of `GRANT` / `REVOKE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Privileges {
    /// `ALL [PRIVILEGES]`.
    All,
    /// Named privileges, each upper-cased with single spaces (`"SELECT"`, `"CREATE USER"`,
    /// `"GRANT OPTION"`, `"CONNECTION_ADMIN"`).
    List(Vec<String>),
}

/// The `ON` level of `GRANT` / `REVOKE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrantLevel {
    /// `*.*`
    Global,
    /// `*` (the default database)
    CurrentDatabase,
    /// `db.*`
    Database(String),
    /// `db.tbl` or `tbl`
    Table {
        /// `db`, when written.
        database: Option<String>,
        /// `tbl`.
        table: String,
    },
}

/// `FLUSH` options this server implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FlushKind {
    /// `FLUSH PRIVILEGES`.
    Privileges,
    /// `FLUSH HOSTS`.
    Hosts,
    /// `FLUSH STATUS`.
    Status,
    /// `FLUSH USER_RESOURCES`: the per-account hourly counters start again.
    UserResources,
}

/// The scope of `SHOW STATUS` / `SHOW VARIABLES` (`LOCAL` and no modifier mean SESSION).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShowScope {
    /// The session's values.
    Session,
    /// `GLOBAL`.
    Global,
}

/// The `LIKE 'pattern'` or `WHERE expr` filter of a `SHOW` statement. The pattern is the string
/// literal's value (escapes like `\_` kept, see [`super::like_matches`]).
#[derive(Debug, Clone, PartialEq)]
pub enum ShowFilter {
    /// `LIKE 'pattern'`.
    Like(String),
    /// `WHERE expr`.
    Where(Expr),
}

/// A system-variable scope. `LOCAL` is parsed as `Session`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VarScope {
    /// `SESSION` / `LOCAL` / `@@session.`.
    Session,
    /// `GLOBAL` / `@@global.`.
    Global,
    /// `PERSIST` / `@@persist.`.
    Persist,
    /// `PERSIST_ONLY` / `@@persist_only.`.
    PersistOnly,
}

impl VarScope {
    /// The SQL keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            VarScope::Session => "SESSION",
            VarScope::Global => "GLOBAL",
            VarScope::Persist => "PERSIST",
            VarScope::PersistOnly => "PERSIST_ONLY",
        }
    }
}

/// One assignment of a `SET` statement.
#[derive(Debug, Clone, PartialEq)]
pub enum SetAssignment {
    /// A system variable. `scope` is resolved as MySQL does: an explicit `@@scope.` applies to
    /// this variable only, a `GLOBAL`/`SESSION`/… keyword applies to it and to the following
    /// assignments without one, and the default is SESSION. `name` is as written, dotted for
    /// component variables (`validate_password.length`).
    System {
        /// The resolved scope.
        scope: VarScope,
        /// The variable's name.
        name: String,
        /// The value.
        value: SetValue,
    },
    /// `@name = expr`.
    User {
        /// The name, without `@`.
        name: String,
        /// The value.
        value: Expr,
    },
    /// `NAMES charset [COLLATE collation]`; `charset` is `None` for `NAMES DEFAULT`.
    Names {
        /// The character set.
        charset: Option<String>,
        /// `COLLATE collation`.
        collation: Option<String>,
    },
    /// `CHARACTER SET charset` / `CHARSET charset`; `None` for `DEFAULT`.
    CharacterSet(Option<String>),
}

/// The right-hand side of a system-variable assignment.
#[derive(Debug, Clone, PartialEq)]
pub enum SetValue {
    /// `DEFAULT`.
    Default,
    /// An expression. Bare words (`ON`, `OFF`, `SYSTEM`, `` `ON` ``) arrive as a one-part
    /// [`Expr::Column`]; MySQL reads such a name as the string value — see [`Expr::as_bare_word`].
    Expr(Expr),
}

/// `SELECT items [FROM table] [WHERE expr] [LIMIT n [OFFSET m]]` (`LIMIT m, n` is accepted and
/// stored as `count: n, offset: Some(m)`). `FROM DUAL` is stored as no table.
#[derive(Debug, Clone, PartialEq)]
pub struct Select {
    /// The select list.
    pub items: Vec<SelectItem>,
    /// `FROM table`.
    pub from: Option<TableRef>,
    /// `WHERE expr`.
    pub selection: Option<Expr>,
    /// `LIMIT …`.
    pub limit: Option<Limit>,
}

/// One item of a select list. `*` is only accepted first, as in MySQL.
#[derive(Debug, Clone, PartialEq)]
pub enum SelectItem {
    /// `*`.
    Wildcard,
    /// `expr [[AS] alias]`.
    Expr {
        /// The expression.
        expr: Expr,
        /// The alias (the column's name in the result).
        alias: Option<String>,
    },
}

/// `[schema.]table [[AS] alias]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableRef {
    /// `schema.`, when written.
    pub schema: Option<String>,
    /// The table.
    pub name: String,
    /// `[AS] alias`.
    pub alias: Option<String>,
}

/// `LIMIT count [OFFSET offset]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Rows to return at most.
    pub count: u64,
    /// Rows to skip first.
    pub offset: Option<u64>,
}

/// An expression with MySQL operator precedence. Parentheses leave no node (except around a
/// subquery); negative numbers are `Unary { Neg, … }` over an unsigned literal.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Expr {
    /// `NULL`.
    Null,
    /// `TRUE` / `FALSE`.
    Bool(bool),
    /// An unsigned integer literal that fits in `u64`.
    Integer(u64),
    /// Any other numeric literal, as written (`1.5`, `.5`, `1e3`, `18446744073709551616`).
    Decimal(String),
    /// A string literal's value (escapes decoded; adjacent literals concatenated; a character
    /// set introducer such as `_utf8mb4` or `N` dropped).
    Str(String),
    /// A hexadecimal literal's digits as written (`X'4D'`, `0x4d`).
    Hex(String),
    /// `@@[scope.]name`; `scope` is `None` when not written (session value if any, else global).
    SystemVar {
        /// `global.`, `session.` …, when written.
        scope: Option<VarScope>,
        /// The variable's name.
        name: String,
    },
    /// `@name`.
    UserVar(String),
    /// A column reference of one to three parts (`col`, `tbl.col`, `db.tbl.col`).
    Column(Vec<String>),
    /// A function call; `name` upper-cased. `CURRENT_USER` and the other functions MySQL allows
    /// without parentheses are stored with empty `args`.
    Function {
        /// The function's name, upper-cased.
        name: String,
        /// The arguments.
        args: Vec<Expr>,
    },
    /// `(SELECT …)`.
    Subquery(Box<Select>),
    /// `-expr`, `NOT expr`.
    Unary {
        /// The operator.
        op: UnaryOp,
        /// The operand.
        expr: Box<Expr>,
    },
    /// `left op right`.
    Binary {
        /// The left operand.
        left: Box<Expr>,
        /// The operator.
        op: BinaryOp,
        /// The right operand.
        right: Box<Expr>,
    },
    /// `expr IS [NOT] NULL`.
    IsNull {
        /// The operand.
        expr: Box<Expr>,
        /// `NOT`.
        negated: bool,
    },
    /// `expr [NOT] LIKE pattern [ESCAPE escape]`.
    Like {
        /// The operand.
        expr: Box<Expr>,
        /// The pattern.
        pattern: Box<Expr>,
        /// `ESCAPE escape` (default `\`).
        escape: Option<Box<Expr>>,
        /// `NOT`.
        negated: bool,
    },
    /// `expr [NOT] IN (list)`; `IN (SELECT …)` is a one-element list holding the subquery.
    InList {
        /// The operand.
        expr: Box<Expr>,
        /// The list.
        list: Vec<Expr>,
        /// `NOT`.
        negated: bool,
    },
    /// `expr [NOT] BETWEEN low AND high`.
    Between {
        /// The operand.
        expr: Box<Expr>,
        /// The lower bound.
        low: Box<Expr>,
        /// The upper bound.
        high: Box<Expr>,
        /// `NOT`.
        negated: bool,
    },
}

impl Expr {
    /// The name of a one-part column reference: how MySQL's `SET var = OFF` spells a word value.
    pub fn as_bare_word(&self) -> Option<&str> {
        match self {
            Expr::Column(parts) => match parts.as_slice() {
                [only] => Some(only),
                _ => None,
            },
            _ => None,
        }
    }
}

/// Prefix operators. `!` is parsed as `Not`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UnaryOp {
    /// `-`.
    Neg,
    /// `NOT` / `!`.
    Not,
}

/// Infix operators. `||` / `&&` are parsed as `Or` / `And` (MySQL's default `sql_mode`), `!=` as
/// `NotEq`, `MOD` as `Mod`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BinaryOp {
    /// `OR` / `||`.
    Or,
    /// `XOR`.
    Xor,
    /// `AND` / `&&`.
    And,
    /// `=`.
    Eq,
    /// `<=>`.
    NullSafeEq,
    /// `<>` / `!=`.
    NotEq,
    /// `<`.
    Lt,
    /// `<=`.
    LtEq,
    /// `>`.
    Gt,
    /// `>=`.
    GtEq,
    /// `+`.
    Plus,
    /// `-`.
    Minus,
    /// `*`.
    Mul,
    /// `/`.
    Div,
    /// `DIV`.
    IntDiv,
    /// `%` / `MOD`.
    Mod,
}

impl BinaryOp {
    fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Or => "OR",
            BinaryOp::Xor => "XOR",
            BinaryOp::And => "AND",
            BinaryOp::Eq => "=",
            BinaryOp::NullSafeEq => "<=>",
            BinaryOp::NotEq => "<>",
            BinaryOp::Lt => "<",
            BinaryOp::LtEq => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::GtEq => ">=",
            BinaryOp::Plus => "+",
            BinaryOp::Minus => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::IntDiv => "DIV",
            BinaryOp::Mod => "%",
        }
    }

    /// Binding strength, matching the parser's levels (higher binds tighter).
    pub(crate) fn precedence(self) -> u8 {
        match self {
            BinaryOp::Or => PREC_OR,
            BinaryOp::Xor => PREC_XOR,
            BinaryOp::And => PREC_AND,
            BinaryOp::Eq
            | BinaryOp::NullSafeEq
            | BinaryOp::NotEq
            | BinaryOp::Lt
            | BinaryOp::LtEq
            | BinaryOp::Gt
            | BinaryOp::GtEq => PREC_CMP,
            BinaryOp::Plus | BinaryOp::Minus => PREC_ADD,
            BinaryOp::Mul | BinaryOp::Div | BinaryOp::IntDiv | BinaryOp::Mod => PREC_MUL,
        }
    }
}

// Precedence levels (MySQL manual "Operator Precedence", restricted to the supported operators).
const PREC_OR: u8 = 1;
const PREC_XOR: u8 = 2;
const PREC_AND: u8 = 3;
const PREC_NOT: u8 = 4;
const PREC_CMP: u8 = 5; // = <=> <> < <= > >= IS [NOT] NULL
const PREC_PRED: u8 = 6; // [NOT] IN / LIKE / BETWEEN
const PREC_ADD: u8 = 7;
const PREC_MUL: u8 = 8;
const PREC_NEG: u8 = 9;
const PREC_ATOM: u8 = 10;

fn expr_prec(e: &Expr) -> u8 {
    match e {
        Expr::Binary { op, .. } => op.precedence(),
        Expr::Unary {
            op: UnaryOp::Not, ..
        } => PREC_NOT,
        Expr::Unary {
            op: UnaryOp::Neg, ..
        } => PREC_NEG,
        Expr::IsNull { .. } => PREC_CMP,
        Expr::Like { .. } | Expr::InList { .. } | Expr::Between { .. } => PREC_PRED,
        _ => PREC_ATOM,
    }
}

/// Writes `e`, parenthesised if it binds looser than `min`.
///
/// Never needs more nesting to parse back than the text the tree came from: parentheses are
/// only added where the source had them too, and `NOT` in a tight spot is printed as `!` (which
/// binds like unary minus, as it did when parsed) instead of `(NOT …)`.
fn write_expr(f: &mut fmt::Formatter<'_>, e: &Expr, min: u8) -> fmt::Result {
    if let Expr::Unary {
        op: UnaryOp::Not,
        expr,
    } = e
    {
        if min > PREC_NOT {
            f.write_char('!')?;
            return write_expr(f, expr, PREC_NEG);
        }
    }
    if expr_prec(e) < min {
        f.write_char('(')?;
        write_expr_bare(f, e)?;
        f.write_char(')')
    } else {
        write_expr_bare(f, e)
    }
}

fn write_not(f: &mut fmt::Formatter<'_>, negated: bool) -> fmt::Result {
    if negated {
        f.write_str(" NOT")
    } else {
        Ok(())
    }
}

fn write_expr_bare(f: &mut fmt::Formatter<'_>, e: &Expr) -> fmt::Result {
    match e {
        Expr::Null => f.write_str("NULL"),
        Expr::Bool(true) => f.write_str("TRUE"),
        Expr::Bool(false) => f.write_str("FALSE"),
        Expr::Integer(n) => write!(f, "{n}"),
        Expr::Decimal(text) => f.write_str(text),
        Expr::Str(s) => write_str_literal(f, s),
        Expr::Hex(digits) if digits.is_empty() => f.write_str("X''"),
        Expr::Hex(digits) => write!(f, "0x{digits}"),
        Expr::SystemVar { scope, name } => {
            f.write_str("@@")?;
            match scope {
                Some(scope) => {
                    write!(f, "{}.", scope.keyword())?;
                    write_dotted_name(f, name, false)
                }
                // A leading part spelled like a scope must not be read back as one.
                None => write_dotted_name(f, name, true),
            }
        }
        Expr::UserVar(name) => write_user_var(f, name),
        Expr::Column(parts) => {
            for (i, part) in parts.iter().enumerate() {
                if i > 0 {
                    f.write_char('.')?;
                }
                write_ident(f, part)?;
            }
            Ok(())
        }
        Expr::Function { name, args } => {
            write!(f, "{name}(")?;
            for (i, arg) in args.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write_expr(f, arg, PREC_OR)?;
            }
            f.write_char(')')
        }
        Expr::Subquery(select) => write!(f, "({select})"),
        Expr::Unary {
            op: UnaryOp::Not,
            expr,
        } => {
            f.write_str("NOT ")?;
            write_expr(f, expr, PREC_NOT)
        }
        Expr::Unary {
            op: UnaryOp::Neg,
            expr,
        } => {
            // `--` followed by a space would start a comment; keep nested minus signs apart.
            let nested = matches!(
                **expr,
                Expr::Unary {
                    op: UnaryOp::Neg,
                    ..
                }
            );
            f.write_str(if nested { "- " } else { "-" })?;
            write_expr(f, expr, PREC_NEG)
        }
        Expr::Binary { left, op, right } => {
            let p = op.precedence();
            write_expr(f, left, p)?;
            write!(f, " {} ", op.symbol())?;
            write_expr(f, right, p + 1)
        }
        Expr::IsNull { expr, negated } => {
            write_expr(f, expr, PREC_CMP)?;
            f.write_str(if *negated { " IS NOT NULL" } else { " IS NULL" })
        }
        Expr::Like {
            expr,
            pattern,
            escape,
            negated,
        } => {
            write_expr(f, expr, PREC_ADD)?;
            write_not(f, *negated)?;
            f.write_str(" LIKE ")?;
            write_expr(f, pattern, PREC_ADD)?;
            if let Some(escape) = escape {
                f.write_str(" ESCAPE ")?;
                write_expr(f, escape, PREC_NEG)?;
            }
            Ok(())
        }
        Expr::InList {
            expr,
            list,
            negated,
        } => {
            write_expr(f, expr, PREC_ADD)?;
            write_not(f, *negated)?;
            if let [Expr::Subquery(select)] = list.as_slice() {
                // The same tree as `IN ((SELECT …))`, one nesting level cheaper to parse.
                return write!(f, " IN ({select})");
            }
            f.write_str(" IN (")?;
            for (i, item) in list.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write_expr(f, item, PREC_OR)?;
            }
            f.write_char(')')
        }
        Expr::Between {
            expr,
            low,
            high,
            negated,
        } => {
            write_expr(f, expr, PREC_ADD)?;
            write_not(f, *negated)?;
            f.write_str(" BETWEEN ")?;
            write_expr(f, low, PREC_ADD)?;
            f.write_str(" AND ")?;
            write_expr(f, high, PREC_ADD)
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_expr(f, self, PREC_OR)
    }
}

/// Writes an identifier, back-quoted unless it is a plain word that cannot be mistaken for a
/// keyword, a number or a character-set introducer.
pub(crate) fn write_ident(f: &mut impl fmt::Write, s: &str) -> fmt::Result {
    if is_plain_ident(s) {
        f.write_str(s)
    } else {
        f.write_char('`')?;
        for c in s.chars() {
            if c == '`' {
                f.write_str("``")?;
            } else {
                f.write_char(c)?;
            }
        }
        f.write_char('`')
    }
}

fn is_plain_ident(s: &str) -> bool {
    let mut bytes = s.bytes();
    let starts_ok = bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_');
    starts_ok
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'$')
        && !keywords::needs_quoting(s)
}

/// A name that may be dotted (`validate_password.length`): each part printed as an identifier.
fn write_dotted_name(f: &mut fmt::Formatter<'_>, name: &str, guard_scope: bool) -> fmt::Result {
    for (i, part) in name.split('.').enumerate() {
        if i > 0 {
            f.write_char('.')?;
        }
        if i == 0 && guard_scope && keywords::is_scope_word(part) {
            write!(f, "`{part}`")?;
        } else {
            write_ident(f, part)?;
        }
    }
    Ok(())
}

fn write_user_var(f: &mut fmt::Formatter<'_>, name: &str) -> fmt::Result {
    f.write_char('@')?;
    let bare = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'$'));
    if bare {
        f.write_str(name)
    } else {
        f.write_char('`')?;
        f.write_str(&name.replace('`', "``"))?;
        f.write_char('`')
    }
}

/// Writes a single-quoted MySQL string literal that decodes back to exactly `s`.
pub(crate) fn write_str_literal(f: &mut impl fmt::Write, s: &str) -> fmt::Result {
    f.write_char('\'')?;
    for c in s.chars() {
        match c {
            '\'' => f.write_str("\\'")?,
            '\\' => f.write_str("\\\\")?,
            '\0' => f.write_str("\\0")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\u{1a}' => f.write_str("\\Z")?,
            c => f.write_char(c)?,
        }
    }
    f.write_char('\'')
}

impl fmt::Display for UserSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UserSpec::Account { user, host } => {
                write_str_literal(f, user)?;
                f.write_char('@')?;
                write_str_literal(f, host)
            }
            UserSpec::CurrentUser => f.write_str("CURRENT_USER()"),
        }
    }
}

impl fmt::Display for AuthOption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthOption::Password(pw) => {
                f.write_str("IDENTIFIED BY ")?;
                write_str_literal(f, pw.expose())
            }
            AuthOption::Plugin(plugin) => {
                f.write_str("IDENTIFIED WITH ")?;
                write_ident(f, plugin)
            }
            AuthOption::PluginPassword { plugin, password } => {
                f.write_str("IDENTIFIED WITH ")?;
                write_ident(f, plugin)?;
                f.write_str(" BY ")?;
                write_str_literal(f, password.expose())
            }
            AuthOption::PluginAuthString {
                plugin,
                auth_string,
            } => {
                f.write_str("IDENTIFIED WITH ")?;
                write_ident(f, plugin)?;
                f.write_str(" AS ")?;
                write_str_literal(f, auth_string.expose())
            }
        }
    }
}

impl fmt::Display for Require {
    /// The form `SHOW CREATE USER` prints: `REQUIRE SSL`, `REQUIRE ISSUER '…' SUBJECT '…'`, ….
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("REQUIRE")?;
        match self {
            Require::None => f.write_str(" NONE"),
            Require::Ssl => f.write_str(" SSL"),
            Require::X509 => f.write_str(" X509"),
            Require::Specified {
                issuer,
                subject,
                cipher,
                san,
            } => {
                let fields = [
                    ("ISSUER", issuer),
                    ("SUBJECT", subject),
                    ("CIPHER", cipher),
                    ("SAN", san),
                ];
                for (keyword, value) in fields {
                    if let Some(value) = value {
                        write!(f, " {keyword} ")?;
                        write_str_literal(f, value)?;
                    }
                }
                Ok(())
            }
        }
    }
}

impl fmt::Display for GrantLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GrantLevel::Global => f.write_str("*.*"),
            GrantLevel::CurrentDatabase => f.write_char('*'),
            GrantLevel::Database(db) => {
                write_ident(f, db)?;
                f.write_str(".*")
            }
            GrantLevel::Table { database, table } => {
                if let Some(db) = database {
                    write_ident(f, db)?;
                    f.write_char('.')?;
                }
                write_ident(f, table)
            }
        }
    }
}

impl fmt::Display for Privileges {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Privileges::All => f.write_str("ALL PRIVILEGES"),
            Privileges::List(list) => f.write_str(&list.join(", ")),
        }
    }
}

impl fmt::Display for FlushKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FlushKind::Privileges => "PRIVILEGES",
            FlushKind::Hosts => "HOSTS",
            FlushKind::Status => "STATUS",
            FlushKind::UserResources => "USER_RESOURCES",
        })
    }
}

impl fmt::Display for ShowFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShowFilter::Like(pattern) => {
                f.write_str("LIKE ")?;
                write_str_literal(f, pattern)
            }
            ShowFilter::Where(expr) => write!(f, "WHERE {expr}"),
        }
    }
}

impl fmt::Display for SetAssignment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetAssignment::System { scope, name, value } => {
                // Always explicit: a scope keyword carries over to later assignments.
                write!(f, "{} ", scope.keyword())?;
                write_dotted_name(f, name, false)?;
                match value {
                    SetValue::Default => f.write_str(" = DEFAULT"),
                    SetValue::Expr(e) => write!(f, " = {e}"),
                }
            }
            SetAssignment::User { name, value } => {
                write_user_var(f, name)?;
                write!(f, " = {value}")
            }
            SetAssignment::Names { charset, collation } => {
                f.write_str("NAMES ")?;
                match charset {
                    Some(cs) => write_ident(f, cs)?,
                    None => f.write_str("DEFAULT")?,
                }
                if let Some(coll) = collation {
                    f.write_str(" COLLATE ")?;
                    write_ident(f, coll)?;
                }
                Ok(())
            }
            SetAssignment::CharacterSet(charset) => {
                f.write_str("CHARACTER SET ")?;
                match charset {
                    Some(cs) => write_ident(f, cs),
                    None => f.write_str("DEFAULT"),
                }
            }
        }
    }
}

impl fmt::Display for Select {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SELECT ")?;
        for (i, item) in self.items.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            match item {
                SelectItem::Wildcard => f.write_char('*')?,
                SelectItem::Expr { expr, alias } => {
                    write!(f, "{expr}")?;
                    if let Some(alias) = alias {
                        f.write_str(" AS ")?;
                        write_ident(f, alias)?;
                    }
                }
            }
        }
        if let Some(table) = &self.from {
            f.write_str(" FROM ")?;
            if let Some(schema) = &table.schema {
                write_ident(f, schema)?;
                f.write_char('.')?;
            }
            write_ident(f, &table.name)?;
            if let Some(alias) = &table.alias {
                f.write_str(" AS ")?;
                write_ident(f, alias)?;
            }
        }
        if let Some(selection) = &self.selection {
            write!(f, " WHERE {selection}")?;
        }
        if let Some(limit) = &self.limit {
            write!(f, " LIMIT {}", limit.count)?;
            if let Some(offset) = limit.offset {
                write!(f, " OFFSET {offset}")?;
            }
        }
        Ok(())
    }
}

fn write_list<T: fmt::Display>(f: &mut fmt::Formatter<'_>, items: &[T]) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{item}")?;
    }
    Ok(())
}

fn write_user_auths(f: &mut fmt::Formatter<'_>, users: &[UserAuth]) -> fmt::Result {
    for (i, ua) in users.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{}", ua.user)?;
        if let Some(auth) = &ua.auth {
            write!(f, " {auth}")?;
        }
        write_replace_retain(f, ua.replace.as_ref(), ua.retain_current)?;
        if ua.discard_old {
            f.write_str(" DISCARD OLD PASSWORD")?;
        }
    }
    Ok(())
}

fn write_replace_retain(
    f: &mut fmt::Formatter<'_>,
    replace: Option<&Secret>,
    retain_current: bool,
) -> fmt::Result {
    if let Some(current) = replace {
        f.write_str(" REPLACE ")?;
        write_str_literal(f, current.expose())?;
    }
    if retain_current {
        f.write_str(" RETAIN CURRENT PASSWORD")?;
    }
    Ok(())
}

/// The clauses after the account list, in the order MySQL's `Rewriter_user` prints them.
fn write_account_tail(
    f: &mut fmt::Formatter<'_>,
    require: &Option<Require>,
    limits: &ResourceLimits,
    account_lock: Option<bool>,
    password: &PasswordOptions,
) -> fmt::Result {
    if let Some(require) = require {
        write!(f, " {require}")?;
    }
    write!(f, "{limits}")?;
    if let Some(expire) = password.expire {
        f.write_str(" PASSWORD EXPIRE")?;
        match expire {
            PasswordExpire::Now => {}
            PasswordExpire::Default => f.write_str(" DEFAULT")?,
            PasswordExpire::Never => f.write_str(" NEVER")?,
            PasswordExpire::Interval(n) => write!(f, " INTERVAL {n} DAY")?,
        }
    }
    match account_lock {
        Some(true) => f.write_str(" ACCOUNT LOCK")?,
        Some(false) => f.write_str(" ACCOUNT UNLOCK")?,
        None => {}
    }
    match password.history {
        Some(PolicyValue::Default) => f.write_str(" PASSWORD HISTORY DEFAULT")?,
        Some(PolicyValue::Value(n)) => write!(f, " PASSWORD HISTORY {n}")?,
        None => {}
    }
    match password.reuse_interval {
        Some(PolicyValue::Default) => f.write_str(" PASSWORD REUSE INTERVAL DEFAULT")?,
        Some(PolicyValue::Value(n)) => write!(f, " PASSWORD REUSE INTERVAL {n} DAY")?,
        None => {}
    }
    match password.require_current {
        Some(RequireCurrent::Yes) => f.write_str(" PASSWORD REQUIRE CURRENT")?,
        Some(RequireCurrent::Default) => f.write_str(" PASSWORD REQUIRE CURRENT DEFAULT")?,
        Some(RequireCurrent::Optional) => f.write_str(" PASSWORD REQUIRE CURRENT OPTIONAL")?,
        None => {}
    }
    if let Some(n) = password.failed_login_attempts {
        write!(f, " FAILED_LOGIN_ATTEMPTS {n}")?;
    }
    match password.password_lock_time {
        Some(LockTime::Days(n)) => write!(f, " PASSWORD_LOCK_TIME {n}"),
        Some(LockTime::Unbounded) => f.write_str(" PASSWORD_LOCK_TIME UNBOUNDED"),
        None => Ok(()),
    }
}

impl fmt::Display for ResourceLimits {
    /// ` WITH MAX_QUERIES_PER_HOUR n …` for the limits given (in MySQL's order), or nothing.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return Ok(());
        }
        f.write_str(" WITH")?;
        for (name, value) in [
            ("MAX_QUERIES_PER_HOUR", self.max_queries_per_hour),
            ("MAX_UPDATES_PER_HOUR", self.max_updates_per_hour),
            ("MAX_CONNECTIONS_PER_HOUR", self.max_connections_per_hour),
            ("MAX_USER_CONNECTIONS", self.max_user_connections),
        ] {
            if let Some(n) = value {
                write!(f, " {name} {n}")?;
            }
        }
        Ok(())
    }
}

fn write_scope(f: &mut fmt::Formatter<'_>, scope: ShowScope) -> fmt::Result {
    f.write_str(match scope {
        ShowScope::Session => "SESSION",
        ShowScope::Global => "GLOBAL",
    })
}

impl fmt::Display for Statement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Statement::Set(assignments) => {
                f.write_str("SET ")?;
                write_list(f, assignments)
            }
            Statement::SetPassword {
                user,
                password,
                replace,
                retain_current,
            } => {
                f.write_str("SET PASSWORD")?;
                if let Some(user) = user {
                    write!(f, " FOR {user}")?;
                }
                f.write_str(" = ")?;
                write_str_literal(f, password.expose())?;
                write_replace_retain(f, replace.as_ref(), *retain_current)
            }
            Statement::Select(select) => write!(f, "{select}"),
            Statement::ShowStatus { scope, filter }
            | Statement::ShowVariables { scope, filter } => {
                f.write_str("SHOW ")?;
                write_scope(f, *scope)?;
                let what = if matches!(self, Statement::ShowStatus { .. }) {
                    " STATUS"
                } else {
                    " VARIABLES"
                };
                f.write_str(what)?;
                if let Some(filter) = filter {
                    write!(f, " {filter}")?;
                }
                Ok(())
            }
            Statement::ShowCreateUser(user) => write!(f, "SHOW CREATE USER {user}"),
            Statement::ShowGrants(None) => f.write_str("SHOW GRANTS"),
            Statement::ShowGrants(Some(user)) => write!(f, "SHOW GRANTS FOR {user}"),
            Statement::ShowDatabases(filter) => {
                f.write_str("SHOW DATABASES")?;
                if let Some(filter) = filter {
                    write!(f, " {filter}")?;
                }
                Ok(())
            }
            Statement::ShowWarnings => f.write_str("SHOW WARNINGS"),
            Statement::CreateUser {
                if_not_exists,
                users,
                require,
                limits,
                account_lock,
                password,
            } => {
                f.write_str("CREATE USER ")?;
                if *if_not_exists {
                    f.write_str("IF NOT EXISTS ")?;
                }
                write_user_auths(f, users)?;
                write_account_tail(f, require, limits, *account_lock, password)
            }
            Statement::AlterUser {
                if_exists,
                users,
                require,
                limits,
                account_lock,
                password,
            } => {
                f.write_str("ALTER USER ")?;
                if *if_exists {
                    f.write_str("IF EXISTS ")?;
                }
                write_user_auths(f, users)?;
                write_account_tail(f, require, limits, *account_lock, password)
            }
            Statement::DropUser { if_exists, users } => {
                f.write_str("DROP USER ")?;
                if *if_exists {
                    f.write_str("IF EXISTS ")?;
                }
                write_list(f, users)
            }
            Statement::RenameUser(pairs) => {
                f.write_str("RENAME USER ")?;
                for (i, (from, to)) in pairs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{from} TO {to}")?;
                }
                Ok(())
            }
            Statement::Grant {
                privileges,
                level,
                users,
                with_grant_option,
            } => {
                write!(f, "GRANT {privileges} ON {level} TO ")?;
                write_list(f, users)?;
                if *with_grant_option {
                    f.write_str(" WITH GRANT OPTION")?;
                }
                Ok(())
            }
            Statement::Revoke {
                privileges,
                grant_option,
                level,
                users,
            } => {
                write!(f, "REVOKE {privileges}")?;
                if *grant_option {
                    f.write_str(", GRANT OPTION")?;
                }
                if let Some(level) = level {
                    write!(f, " ON {level}")?;
                }
                f.write_str(" FROM ")?;
                write_list(f, users)
            }
            Statement::Flush(kinds) => {
                f.write_str("FLUSH ")?;
                write_list(f, kinds)
            }
            Statement::AlterInstanceReloadTls {
                channel,
                no_rollback_on_error,
            } => {
                f.write_str("ALTER INSTANCE RELOAD TLS")?;
                if let Some(channel) = channel {
                    f.write_str(" FOR CHANNEL ")?;
                    write_ident(f, channel)?;
                }
                if *no_rollback_on_error {
                    f.write_str(" NO ROLLBACK ON ERROR")?;
                }
                Ok(())
            }
            Statement::Use(db) => {
                f.write_str("USE ")?;
                write_ident(f, db)
            }
            Statement::ShowProcesslist { full } => f.write_str(if *full {
                "SHOW FULL PROCESSLIST"
            } else {
                "SHOW PROCESSLIST"
            }),
            Statement::Kill { query, id } => {
                let what = if *query { "QUERY" } else { "CONNECTION" };
                write!(f, "KILL {what} {id}")
            }
            Statement::Shutdown => f.write_str("SHUTDOWN"),
            Statement::TruncateTable { schema, name } => {
                f.write_str("TRUNCATE TABLE ")?;
                if let Some(schema) = schema {
                    write_ident(f, schema)?;
                    f.write_char('.')?;
                }
                write_ident(f, name)
            }
            Statement::Begin => f.write_str("BEGIN"),
            Statement::Commit => f.write_str("COMMIT"),
            Statement::Rollback => f.write_str("ROLLBACK"),
            Statement::Other { verb } => f.write_str(verb),
        }
    }
}
