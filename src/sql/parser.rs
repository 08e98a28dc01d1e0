//! Recursive-descent parser over the token vector from [`super::lexer`].
//!
//! Bounded by construction: recursion (parentheses, subqueries, prefix operators) is capped at
//! [`MAX_NESTING`] levels and the height of every expression tree at [`MAX_EXPR_HEIGHT`], so
//! neither parsing nor dropping, printing or comparing a tree can exhaust the stack. Errors point
//! at the token where parsing stopped, as MySQL's `near '…'` does.

use super::ast::*;
use super::keywords;
use super::lexer::{Tok, Token};
use super::{ParseError, ParseErrorKind};

/// Maximum nesting of parentheses, subqueries and prefix operators.
pub const MAX_NESTING: u32 = 64;
/// Maximum height of an expression tree (long `a OR b OR …` chains grow it too).
pub const MAX_EXPR_HEIGHT: u32 = 256;

/// Largest `FAILED_LOGIN_ATTEMPTS` / `PASSWORD_LOCK_TIME` (MySQL's `INT_MAX16`).
const LOCKING_MAX: u32 = 32767;
/// Largest `PASSWORD EXPIRE INTERVAL n DAY` (MySQL's `UINT_MAX16`).
const LIFETIME_MAX: u32 = 65535;

type PResult<T> = Result<T, ParseError>;
/// An expression with the height of its tree.
type ExprH = (Expr, u32);

static END: Token = Token {
    tok: Tok::Eof,
    start: 0,
    end: 0,
};

pub(crate) struct Parser<'a> {
    src: &'a str,
    toks: Vec<Token>,
    pos: usize,
    depth: u32,
}

impl<'a> Parser<'a> {
    pub(crate) fn new(src: &'a str, toks: Vec<Token>) -> Self {
        Self {
            src,
            toks,
            pos: 0,
            depth: 0,
        }
    }

    // ----- token access -----

    fn token_at(&self, n: usize) -> &Token {
        // The vector ends with Eof/Error, which `bump` never moves past.
        self.toks
            .get(self.pos + n)
            .or_else(|| self.toks.last())
            .unwrap_or(&END)
    }

    fn tok(&self) -> &Tok {
        &self.token_at(0).tok
    }

    fn tok_at(&self, n: usize) -> &Tok {
        &self.token_at(n).tok
    }

    pub(crate) fn at_end(&self) -> bool {
        matches!(self.tok(), Tok::Eof)
    }

    /// Takes the current token's value and advances (never past the final Eof/Error).
    fn bump(&mut self) -> Tok {
        match self.toks.get_mut(self.pos) {
            Some(t) if !matches!(t.tok, Tok::Eof | Tok::Error(_)) => {
                self.pos += 1;
                std::mem::replace(&mut t.tok, Tok::Consumed)
            }
            _ => Tok::Eof,
        }
    }

    fn is_kw_at(&self, n: usize, kw: &str) -> bool {
        matches!(self.tok_at(n), Tok::Word(w) if w.eq_ignore_ascii_case(kw))
    }

    fn is_kw(&self, kw: &str) -> bool {
        self.is_kw_at(0, kw)
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        let hit = self.is_kw(kw);
        if hit {
            self.bump();
        }
        hit
    }

    fn expect_kw(&mut self, kw: &str) -> PResult<()> {
        if self.eat_kw(kw) {
            Ok(())
        } else {
            Err(self.error())
        }
    }

    fn is_op_at(&self, n: usize, op: &str) -> bool {
        matches!(self.tok_at(n), Tok::Op(o) if *o == op)
    }

    fn is_op(&self, op: &str) -> bool {
        self.is_op_at(0, op)
    }

    fn eat_op(&mut self, op: &str) -> bool {
        let hit = self.is_op(op);
        if hit {
            self.bump();
        }
        hit
    }

    fn expect_op(&mut self, op: &str) -> PResult<()> {
        if self.eat_op(op) {
            Ok(())
        } else {
            Err(self.error())
        }
    }

    fn eat_assign(&mut self) -> PResult<()> {
        if self.eat_op("=") || self.eat_op(":=") {
            Ok(())
        } else {
            Err(self.error())
        }
    }

    /// The upper-cased current word, if the current token is an unquoted word.
    fn word_upper(&self) -> Option<String> {
        match self.tok() {
            Tok::Word(w) => Some(w.to_ascii_uppercase()),
            _ => None,
        }
    }

    // ----- errors -----

    fn error_at(&self, kind: ParseErrorKind, offset: usize) -> ParseError {
        ParseError::new(kind, offset, self.src)
    }

    /// A syntax error at the current token, or the lexical error the current token carries.
    pub(crate) fn error(&self) -> ParseError {
        let t = self.token_at(0);
        match &t.tok {
            Tok::Error(kind) => self.error_at(kind.clone(), t.start),
            _ => self.error_at(ParseErrorKind::Syntax, t.start),
        }
    }

    fn unsupported(&self, what: &'static str) -> ParseError {
        self.error_at(ParseErrorKind::Unsupported(what), self.token_at(0).start)
    }

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(self.error_at(ParseErrorKind::TooDeep, self.token_at(0).start));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// The height of a new node over children of height `h`.
    fn grow(&self, h: u32) -> PResult<u32> {
        if h >= MAX_EXPR_HEIGHT {
            return Err(self.error_at(ParseErrorKind::TooDeep, self.token_at(0).start));
        }
        Ok(h + 1)
    }

    // ----- statements -----

    /// Parses one statement and its terminator (`;` or end of input).
    pub(crate) fn statement_with_terminator(&mut self) -> PResult<Statement> {
        let stmt = self.statement()?;
        if !self.eat_op(";") && !self.at_end() {
            return Err(self.error());
        }
        Ok(stmt)
    }

    /// Parses exactly one statement, an optional `;`, then the end of input.
    pub(crate) fn single_statement(&mut self) -> PResult<Statement> {
        let stmt = self.statement()?;
        self.eat_op(";");
        if !self.at_end() {
            return Err(self.error());
        }
        Ok(stmt)
    }

    fn statement(&mut self) -> PResult<Statement> {
        let Some(verb) = self.word_upper() else {
            return Err(self.error());
        };
        match verb.as_str() {
            "SELECT" => Ok(Statement::Select(self.select()?.0)),
            "SET" => self.set(),
            "SHOW" => self.show(),
            "CREATE" => self.create(),
            "ALTER" => self.alter(),
            "DROP" => self.drop_stmt(),
            "RENAME" => self.rename(),
            "GRANT" => self.grant(),
            "REVOKE" => self.revoke(),
            "FLUSH" => self.flush(),
            "KILL" => {
                self.bump();
                let query = if self.eat_kw("QUERY") {
                    true
                } else {
                    self.eat_kw("CONNECTION");
                    false
                };
                Ok(Statement::Kill {
                    query,
                    id: self.expr()?.0,
                })
            }
            "SHUTDOWN" => {
                self.bump();
                Ok(Statement::Shutdown)
            }
            "TRUNCATE" => {
                self.bump();
                self.eat_kw("TABLE");
                let first = self.ident()?;
                Ok(if self.eat_op(".") {
                    Statement::TruncateTable {
                        schema: Some(first),
                        name: self.any_ident()?,
                    }
                } else {
                    Statement::TruncateTable {
                        schema: None,
                        name: first,
                    }
                })
            }
            "USE" => {
                self.bump();
                Ok(Statement::Use(self.ident_or_text()?))
            }
            "BEGIN" => {
                self.bump();
                self.eat_kw("WORK");
                Ok(Statement::Begin)
            }
            "START" => {
                self.bump();
                if self.eat_kw("TRANSACTION") {
                    if self.is_kw("READ") || self.is_kw("WITH") {
                        return Err(self.unsupported("START TRANSACTION characteristics"));
                    }
                    return Ok(Statement::Begin);
                }
                self.other_with_next_word("START")
            }
            "COMMIT" | "ROLLBACK" => {
                self.bump();
                self.eat_kw("WORK");
                if self.is_kw("AND") || self.is_kw("NO") || self.is_kw("RELEASE") {
                    return Err(self.unsupported("COMMIT/ROLLBACK AND CHAIN / RELEASE"));
                }
                if self.is_kw("TO") {
                    return Err(self.unsupported("ROLLBACK TO SAVEPOINT"));
                }
                Ok(if verb == "COMMIT" {
                    Statement::Commit
                } else {
                    Statement::Rollback
                })
            }
            v if keywords::is_other_verb(v) => {
                self.bump();
                self.other(verb)
            }
            _ => Err(self.error()),
        }
    }

    /// Skips the rest of an unimplemented statement up to `;` or the end of input.
    fn other(&mut self, verb: String) -> PResult<Statement> {
        loop {
            match self.tok() {
                Tok::Eof => break,
                Tok::Error(_) => return Err(self.error()),
                Tok::Op(";") => break,
                _ => {
                    self.bump();
                }
            }
        }
        Ok(Statement::Other { verb })
    }

    /// `prefix WORD …` as [`Statement::Other`] with verb `"prefix WORD"`.
    fn other_with_next_word(&mut self, prefix: &str) -> PResult<Statement> {
        let Some(word) = self.word_upper() else {
            return Err(self.error());
        };
        self.bump();
        self.other(format!("{prefix} {word}"))
    }

    // ----- SET -----

    fn set(&mut self) -> PResult<Statement> {
        self.bump();
        if self.is_kw("PASSWORD") {
            return self.set_password();
        }
        let first_is_scope = matches!(self.tok(), Tok::Word(w) if keywords::is_scope_word(w));
        if self.is_kw("TRANSACTION") || (first_is_scope && self.is_kw_at(1, "TRANSACTION")) {
            return self.other("SET TRANSACTION".into());
        }
        if self.is_kw("ROLE") && !self.is_op_at(1, "=") && !self.is_op_at(1, ":=") {
            return self.other("SET ROLE".into());
        }
        if self.is_kw("DEFAULT") && self.is_kw_at(1, "ROLE") {
            return self.other("SET DEFAULT ROLE".into());
        }
        if self.is_kw("RESOURCE") && self.is_kw_at(1, "GROUP") {
            return self.other("SET RESOURCE GROUP".into());
        }
        let mut scope = VarScope::Session;
        let mut assignments = Vec::new();
        loop {
            assignments.push(self.set_assignment(&mut scope)?);
            if !self.eat_op(",") {
                break;
            }
        }
        Ok(Statement::Set(assignments))
    }

    fn scope_keyword(&self) -> Option<VarScope> {
        let Tok::Word(w) = self.tok() else {
            return None;
        };
        match w.to_ascii_uppercase().as_str() {
            "GLOBAL" => Some(VarScope::Global),
            "SESSION" | "LOCAL" => Some(VarScope::Session),
            "PERSIST" => Some(VarScope::Persist),
            "PERSIST_ONLY" => Some(VarScope::PersistOnly),
            _ => None,
        }
    }

    fn set_assignment(&mut self, scope: &mut VarScope) -> PResult<SetAssignment> {
        match self.tok() {
            Tok::AtAt => {
                self.bump();
                let (explicit, name) = self.system_var_name()?;
                self.eat_assign()?;
                let value = self.set_value()?;
                // `@@scope.` applies to this variable only.
                Ok(SetAssignment::System {
                    scope: explicit.unwrap_or(VarScope::Session),
                    name,
                    value,
                })
            }
            Tok::At => {
                self.bump();
                let name = self.user_var_name()?;
                self.eat_assign()?;
                let (value, _) = self.expr()?;
                Ok(SetAssignment::User { name, value })
            }
            _ if self.is_kw("NAMES") => {
                self.bump();
                let charset = self.charset_or_default()?;
                let collation = if charset.is_some() && self.eat_kw("COLLATE") {
                    Some(self.ident_or_text()?)
                } else {
                    None
                };
                Ok(SetAssignment::Names { charset, collation })
            }
            _ if self.is_kw("CHARACTER") && self.is_kw_at(1, "SET") => {
                self.bump();
                self.bump();
                Ok(SetAssignment::CharacterSet(self.charset_or_default()?))
            }
            _ if self.is_kw("CHARSET") => {
                self.bump();
                Ok(SetAssignment::CharacterSet(self.charset_or_default()?))
            }
            _ => {
                if let Some(s) = self.scope_keyword() {
                    self.bump();
                    // A scope keyword carries over to later assignments without one.
                    *scope = s;
                }
                let name = self.dotted_name()?;
                self.eat_assign()?;
                let value = self.set_value()?;
                Ok(SetAssignment::System {
                    scope: *scope,
                    name,
                    value,
                })
            }
        }
    }

    fn set_value(&mut self) -> PResult<SetValue> {
        if self.eat_kw("DEFAULT") {
            return Ok(SetValue::Default);
        }
        // Reserved words MySQL accepts as bare values (`SET autocommit = ON`).
        if let Some(w) = self.word_upper() {
            if matches!(w.as_str(), "ON" | "ALL" | "BINARY" | "ROW" | "SYSTEM") {
                if let Tok::Word(original) = self.bump() {
                    return Ok(SetValue::Expr(Expr::Column(vec![original])));
                }
            }
        }
        Ok(SetValue::Expr(self.expr()?.0))
    }

    fn charset_or_default(&mut self) -> PResult<Option<String>> {
        if self.eat_kw("DEFAULT") {
            return Ok(None);
        }
        if self.is_kw("BINARY") {
            if let Tok::Word(w) = self.bump() {
                return Ok(Some(w));
            }
        }
        Ok(Some(self.ident_or_text()?))
    }

    fn set_password(&mut self) -> PResult<Statement> {
        self.bump();
        let user = if self.eat_kw("FOR") {
            Some(self.user_spec(false)?)
        } else {
            None
        };
        if self.is_kw("TO") {
            return Err(self.unsupported("SET PASSWORD TO RANDOM"));
        }
        self.eat_assign()?;
        let password = self.secret()?;
        let replace = self.opt_replace()?;
        let retain_current = self.opt_retain()?;
        Ok(Statement::SetPassword {
            user,
            password,
            replace,
            retain_current,
        })
    }

    /// MySQL's `opt_replace_password`: `[REPLACE 'current']`.
    fn opt_replace(&mut self) -> PResult<Option<Secret>> {
        if self.eat_kw("REPLACE") {
            return Ok(Some(self.secret()?));
        }
        Ok(None)
    }

    /// MySQL's `opt_retain_current_password`: `[RETAIN CURRENT PASSWORD]`.
    fn opt_retain(&mut self) -> PResult<bool> {
        if self.eat_kw("RETAIN") {
            self.expect_kw("CURRENT")?;
            self.expect_kw("PASSWORD")?;
            return Ok(true);
        }
        Ok(false)
    }

    // ----- names -----

    /// An identifier: an unquoted non-reserved word or a back-quoted name.
    fn ident(&mut self) -> PResult<String> {
        match self.tok() {
            Tok::Word(w) if !keywords::is_reserved(w) => {}
            Tok::Quoted(_) => {}
            _ => return Err(self.error()),
        }
        match self.bump() {
            Tok::Word(s) | Tok::Quoted(s) => Ok(s),
            _ => Err(self.error()),
        }
    }

    /// Any word or back-quoted name (after `ident.`, where MySQL reads an identifier anyway).
    fn any_ident(&mut self) -> PResult<String> {
        if !matches!(self.tok(), Tok::Word(_) | Tok::Quoted(_)) {
            return Err(self.error());
        }
        match self.bump() {
            Tok::Word(s) | Tok::Quoted(s) => Ok(s),
            _ => Err(self.error()),
        }
    }

    /// MySQL's `ident_or_text`: an identifier or a string literal.
    fn ident_or_text(&mut self) -> PResult<String> {
        if let Tok::Str(_) = self.tok() {
            if let Tok::Str(mut s) = self.bump() {
                return Ok(s.take());
            }
        }
        self.ident()
    }

    /// `ident[.ident]…` joined with dots (system-variable names).
    fn dotted_name(&mut self) -> PResult<String> {
        let mut name = self.ident()?;
        while self.eat_op(".") {
            name.push('.');
            name.push_str(&self.any_ident()?);
        }
        Ok(name)
    }

    /// After `@@`: `[scope.]name[.name]…`. The scope is only recognised unquoted.
    fn system_var_name(&mut self) -> PResult<(Option<VarScope>, String)> {
        let scope = if self.is_op_at(1, ".") {
            self.scope_keyword()
        } else {
            None
        };
        if scope.is_some() {
            self.bump();
            self.bump();
        }
        let mut name = self.any_ident()?;
        while self.eat_op(".") {
            name.push('.');
            name.push_str(&self.any_ident()?);
        }
        Ok((scope, name))
    }

    /// After `@`: the variable name (a host-name-like word, a string, or a quoted identifier).
    fn user_var_name(&mut self) -> PResult<String> {
        match self.bump_if(|t| matches!(t, Tok::HostWord(_) | Tok::Quoted(_) | Tok::Str(_))) {
            Some(Tok::HostWord(s) | Tok::Quoted(s)) => Ok(s),
            Some(Tok::Str(mut s)) => Ok(s.take()),
            _ => Err(self.error()),
        }
    }

    fn bump_if(&mut self, pred: impl Fn(&Tok) -> bool) -> Option<Tok> {
        if pred(self.tok()) {
            Some(self.bump())
        } else {
            None
        }
    }

    fn secret(&mut self) -> PResult<Secret> {
        match self.bump_if(|t| matches!(t, Tok::Str(_))) {
            Some(Tok::Str(s)) => Ok(s),
            _ => Err(self.error()),
        }
    }

    fn string_literal(&mut self) -> PResult<String> {
        Ok(self.secret()?.take())
    }

    // ----- accounts -----

    /// `'user'@'host'`, `user@host`, `'user'`, `CURRENT_USER[()]`, and `USER()` when
    /// `allow_user_fn` (`ALTER USER USER() …`).
    fn user_spec(&mut self, allow_user_fn: bool) -> PResult<UserSpec> {
        if self.eat_kw("CURRENT_USER") {
            if self.eat_op("(") {
                self.expect_op(")")?;
            }
            return Ok(UserSpec::CurrentUser);
        }
        if allow_user_fn && self.is_kw("USER") && self.is_op_at(1, "(") && self.is_op_at(2, ")") {
            self.bump();
            self.bump();
            self.bump();
            return Ok(UserSpec::CurrentUser);
        }
        let user = self.ident_or_text()?;
        let host = if self.eat_op_at_sign() {
            match self.bump_if(|t| {
                matches!(
                    t,
                    Tok::HostWord(_) | Tok::Word(_) | Tok::Quoted(_) | Tok::Str(_)
                )
            }) {
                Some(Tok::HostWord(h) | Tok::Word(h) | Tok::Quoted(h)) => h,
                Some(Tok::Str(mut h)) => h.take(),
                _ => return Err(self.error()),
            }
        } else {
            "%".to_owned()
        };
        Ok(UserSpec::Account { user, host })
    }

    fn eat_op_at_sign(&mut self) -> bool {
        self.bump_if(|t| matches!(t, Tok::At)).is_some()
    }

    fn user_list(&mut self) -> PResult<Vec<UserSpec>> {
        let mut users = vec![self.user_spec(false)?];
        while self.eat_op(",") {
            users.push(self.user_spec(false)?);
        }
        Ok(users)
    }

    fn auth_option(&mut self) -> PResult<Option<AuthOption>> {
        if !self.eat_kw("IDENTIFIED") {
            return Ok(None);
        }
        if self.eat_kw("BY") {
            if self.is_kw("RANDOM") {
                return Err(self.unsupported("RANDOM PASSWORD"));
            }
            if self.is_kw("PASSWORD") {
                // 5.7's `IDENTIFIED BY PASSWORD 'hash'`, removed in 8.0.
                return Err(self.error());
            }
            return Ok(Some(AuthOption::Password(self.secret()?)));
        }
        self.expect_kw("WITH")?;
        let plugin = self.ident_or_text()?;
        if self.eat_kw("BY") {
            if self.is_kw("RANDOM") {
                return Err(self.unsupported("RANDOM PASSWORD"));
            }
            let password = self.secret()?;
            return Ok(Some(AuthOption::PluginPassword { plugin, password }));
        }
        if self.eat_kw("AS") {
            let auth_string = self.secret()?;
            return Ok(Some(AuthOption::PluginAuthString {
                plugin,
                auth_string,
            }));
        }
        Ok(Some(AuthOption::Plugin(plugin)))
    }

    /// The account list of CREATE USER (`alter: false`: MySQL's `create_user`, an optional
    /// `IDENTIFIED …` per account) or ALTER USER (`alter: true`: MySQL's `alter_user`, which
    /// adds `REPLACE 'current'` after `IDENTIFIED [WITH p] BY 'pw'`, `RETAIN CURRENT PASSWORD`
    /// after `IDENTIFIED [WITH p] BY | AS …`, and `DISCARD OLD PASSWORD` instead of
    /// `IDENTIFIED`). A clause where the grammar has none is a syntax error there.
    fn user_auth_list(&mut self, alter: bool) -> PResult<Vec<UserAuth>> {
        let mut users = Vec::new();
        loop {
            let mut ua = UserAuth::new(self.user_spec(alter)?, self.auth_option()?);
            if alter {
                match &ua.auth {
                    Some(AuthOption::Password(_) | AuthOption::PluginPassword { .. }) => {
                        ua.replace = self.opt_replace()?;
                        ua.retain_current = self.opt_retain()?;
                    }
                    Some(AuthOption::PluginAuthString { .. }) => {
                        ua.retain_current = self.opt_retain()?;
                    }
                    Some(AuthOption::Plugin(_)) => {}
                    None => {
                        if self.eat_kw("DISCARD") {
                            self.expect_kw("OLD")?;
                            self.expect_kw("PASSWORD")?;
                            ua.discard_old = true;
                        }
                    }
                }
            }
            users.push(ua);
            if !self.eat_op(",") {
                return Ok(users);
            }
        }
    }

    /// `[REQUIRE …] [WITH resource_option…] [ACCOUNT LOCK|UNLOCK | password_option]…`, in
    /// MySQL's order (`require_clause connect_options opt_account_lock_password_expire_options`),
    /// rejecting `DEFAULT ROLE`, `COMMENT` and `ATTRIBUTE` as unsupported.
    fn account_tail(
        &mut self,
    ) -> PResult<(
        Option<Require>,
        ResourceLimits,
        Option<bool>,
        PasswordOptions,
    )> {
        if self.is_kw("DEFAULT") && self.is_kw_at(1, "ROLE") {
            return Err(self.unsupported("DEFAULT ROLE"));
        }
        let require = if self.eat_kw("REQUIRE") {
            Some(self.require()?)
        } else {
            None
        };
        let limits = if self.eat_kw("WITH") {
            self.resource_limits()?
        } else {
            ResourceLimits::default()
        };
        let mut lock = None;
        let mut password = PasswordOptions::default();
        loop {
            if self.eat_kw("ACCOUNT") {
                if self.eat_kw("LOCK") {
                    lock = Some(true);
                } else {
                    self.expect_kw("UNLOCK")?;
                    lock = Some(false);
                }
                continue;
            }
            if self.is_kw("PASSWORD") {
                self.password_option(&mut password)?;
                continue;
            }
            if self.eat_kw("FAILED_LOGIN_ATTEMPTS") {
                password.failed_login_attempts =
                    Some(self.bounded_number("FAILED_LOGIN_ATTEMPTS", 0, LOCKING_MAX)?);
                continue;
            }
            if self.eat_kw("PASSWORD_LOCK_TIME") {
                password.password_lock_time = Some(if self.eat_kw("UNBOUNDED") {
                    LockTime::Unbounded
                } else {
                    LockTime::Days(self.bounded_number("PASSWORD_LOCK_TIME", 0, LOCKING_MAX)?)
                });
                continue;
            }
            let unsupported = match self.word_upper().as_deref() {
                Some("COMMENT") => "COMMENT",
                Some("ATTRIBUTE") => "ATTRIBUTE",
                _ => return Ok((require, limits, lock, password)),
            };
            return Err(self.unsupported(unsupported));
        }
    }

    /// After `WITH`: MySQL's `connect_option_list`, at least one option, any order; the last
    /// value of a repeated option wins.
    fn resource_limits(&mut self) -> PResult<ResourceLimits> {
        let mut limits = ResourceLimits::default();
        loop {
            let (slot, name) = match self.word_upper().as_deref() {
                Some("MAX_QUERIES_PER_HOUR") => {
                    (&mut limits.max_queries_per_hour, "MAX_QUERIES_PER_HOUR")
                }
                Some("MAX_UPDATES_PER_HOUR") => {
                    (&mut limits.max_updates_per_hour, "MAX_UPDATES_PER_HOUR")
                }
                Some("MAX_CONNECTIONS_PER_HOUR") => (
                    &mut limits.max_connections_per_hour,
                    "MAX_CONNECTIONS_PER_HOUR",
                ),
                Some("MAX_USER_CONNECTIONS") => {
                    (&mut limits.max_user_connections, "MAX_USER_CONNECTIONS")
                }
                _ if limits.is_empty() => return Err(self.error()),
                _ => return Ok(limits),
            };
            self.bump();
            *slot = Some(self.bounded_number(name, 0, u32::MAX)?);
        }
    }

    /// One `PASSWORD …` option of MySQL's `opt_account_lock_password_expire_option`.
    fn password_option(&mut self, o: &mut PasswordOptions) -> PResult<()> {
        self.expect_kw("PASSWORD")?;
        if self.eat_kw("EXPIRE") {
            o.expire = Some(if self.eat_kw("DEFAULT") {
                PasswordExpire::Default
            } else if self.eat_kw("NEVER") {
                PasswordExpire::Never
            } else if self.eat_kw("INTERVAL") {
                let days = self.bounded_number("DAY", 1, LIFETIME_MAX)?;
                self.expect_kw("DAY")?;
                PasswordExpire::Interval(days)
            } else {
                PasswordExpire::Now
            });
        } else if self.eat_kw("HISTORY") {
            o.history = Some(if self.eat_kw("DEFAULT") {
                PolicyValue::Default
            } else {
                PolicyValue::Value(self.bounded_number("PASSWORD HISTORY", 0, u32::MAX)?)
            });
        } else if self.eat_kw("REUSE") {
            self.expect_kw("INTERVAL")?;
            o.reuse_interval = Some(if self.eat_kw("DEFAULT") {
                PolicyValue::Default
            } else {
                let days = self.bounded_number("PASSWORD REUSE INTERVAL", 0, u32::MAX)?;
                self.expect_kw("DAY")?;
                PolicyValue::Value(days)
            });
        } else if self.eat_kw("REQUIRE") {
            self.expect_kw("CURRENT")?;
            o.require_current = Some(if self.eat_kw("DEFAULT") {
                RequireCurrent::Default
            } else if self.eat_kw("OPTIONAL") {
                RequireCurrent::Optional
            } else {
                RequireCurrent::Yes
            });
        } else {
            return Err(self.error());
        }
        Ok(())
    }

    /// MySQL's `real_ulong_num` / `ulong_num`: a decimal or hexadecimal integer literal (a
    /// decimal fraction is a syntax error). Outside `min..=max` it is ER_WRONG_VALUE (1525)
    /// naming `what`, as MySQL's grammar actions do for `DAY`, `FAILED_LOGIN_ATTEMPTS` and
    /// `PASSWORD_LOCK_TIME`. (For the options MySQL stores without a check — history, reuse
    /// interval and the resource limits, silently cut to 32 bits — values over 4294967295 get
    /// the same error here instead.)
    fn bounded_number(&mut self, what: &'static str, min: u32, max: u32) -> PResult<u32> {
        let start = self.token_at(0).start;
        let (text, value) = match self.tok() {
            Tok::Number(t) if t.bytes().all(|b| b.is_ascii_digit()) => {
                (t.clone(), t.parse::<u64>().ok())
            }
            Tok::Hex(h) if self.src.get(start..).is_some_and(|r| r.starts_with("0x")) => {
                (h.clone(), u64::from_str_radix(h, 16).ok())
            }
            _ => return Err(self.error()),
        };
        self.bump();
        match value.and_then(|v| u32::try_from(v).ok()) {
            Some(v) if (min..=max).contains(&v) => Ok(v),
            _ => Err(self.error_at(
                ParseErrorKind::WrongValue {
                    what,
                    value: value.map_or(text, |v| v.to_string()),
                },
                start,
            )),
        }
    }

    fn require(&mut self) -> PResult<Require> {
        if self.eat_kw("NONE") {
            return Ok(Require::None);
        }
        if self.eat_kw("SSL") {
            return Ok(Require::Ssl);
        }
        if self.eat_kw("X509") {
            return Ok(Require::X509);
        }
        let (mut issuer, mut subject, mut cipher, mut san) = (None, None, None, None);
        loop {
            let (slot, name): (&mut Option<String>, &'static str) =
                match self.word_upper().as_deref() {
                    Some("ISSUER") => (&mut issuer, "ISSUER"),
                    Some("SUBJECT") => (&mut subject, "SUBJECT"),
                    Some("CIPHER") => (&mut cipher, "CIPHER"),
                    Some("SAN") => (&mut san, "SAN"),
                    _ => return Err(self.error()),
                };
            if slot.is_some() {
                // MySQL: ER_DUP_ARGUMENT "Option 'ISSUER' used twice in statement".
                return Err(self.error_at(
                    ParseErrorKind::DuplicateOption(name),
                    self.token_at(0).start,
                ));
            }
            self.bump();
            *slot = Some(self.string_literal()?);
            // `[AND]` between options.
            let and = self.is_kw("AND");
            let next_is_option = |p: &Self, n: usize| {
                ["ISSUER", "SUBJECT", "CIPHER", "SAN"]
                    .iter()
                    .any(|k| p.is_kw_at(n, k))
            };
            if and && next_is_option(self, 1) {
                self.bump();
            } else if !next_is_option(self, 0) {
                break;
            }
        }
        Ok(Require::Specified {
            issuer,
            subject,
            cipher,
            san,
        })
    }

    // ----- CREATE / ALTER / DROP / RENAME -----

    fn create(&mut self) -> PResult<Statement> {
        self.bump();
        if !self.eat_kw("USER") {
            return self.other_with_next_word("CREATE");
        }
        let if_not_exists = if self.eat_kw("IF") {
            self.expect_kw("NOT")?;
            self.expect_kw("EXISTS")?;
            true
        } else {
            false
        };
        let users = self.user_auth_list(false)?;
        let (require, limits, account_lock, password) = self.account_tail()?;
        Ok(Statement::CreateUser {
            if_not_exists,
            users,
            require,
            limits,
            account_lock,
            password,
        })
    }

    fn alter(&mut self) -> PResult<Statement> {
        self.bump();
        if self.eat_kw("INSTANCE") {
            return self.alter_instance();
        }
        if !self.eat_kw("USER") {
            return self.other_with_next_word("ALTER");
        }
        let if_exists = if self.eat_kw("IF") {
            self.expect_kw("EXISTS")?;
            true
        } else {
            false
        };
        let users = self.user_auth_list(true)?;
        let (require, limits, account_lock, password) = self.account_tail()?;
        Ok(Statement::AlterUser {
            if_exists,
            users,
            require,
            limits,
            account_lock,
            password,
        })
    }

    fn alter_instance(&mut self) -> PResult<Statement> {
        if !(self.is_kw("RELOAD") && self.is_kw_at(1, "TLS")) {
            let Some(word) = self.word_upper() else {
                return Err(self.error());
            };
            self.bump();
            if word == "RELOAD" {
                return self.other_with_next_word("ALTER INSTANCE RELOAD");
            }
            return self.other(format!("ALTER INSTANCE {word}"));
        }
        self.bump();
        self.bump();
        let channel = if self.eat_kw("FOR") {
            self.expect_kw("CHANNEL")?;
            Some(self.ident_or_text()?)
        } else {
            None
        };
        let no_rollback_on_error = if self.eat_kw("NO") {
            self.expect_kw("ROLLBACK")?;
            self.expect_kw("ON")?;
            self.expect_kw("ERROR")?;
            true
        } else {
            false
        };
        Ok(Statement::AlterInstanceReloadTls {
            channel,
            no_rollback_on_error,
        })
    }

    fn drop_stmt(&mut self) -> PResult<Statement> {
        self.bump();
        if !self.eat_kw("USER") {
            return self.other_with_next_word("DROP");
        }
        let if_exists = if self.eat_kw("IF") {
            self.expect_kw("EXISTS")?;
            true
        } else {
            false
        };
        Ok(Statement::DropUser {
            if_exists,
            users: self.user_list()?,
        })
    }

    fn rename(&mut self) -> PResult<Statement> {
        self.bump();
        if !self.eat_kw("USER") {
            return self.other_with_next_word("RENAME");
        }
        let mut pairs = Vec::new();
        loop {
            let from = self.user_spec(false)?;
            self.expect_kw("TO")?;
            let to = self.user_spec(false)?;
            pairs.push((from, to));
            if !self.eat_op(",") {
                return Ok(Statement::RenameUser(pairs));
            }
        }
    }

    // ----- GRANT / REVOKE -----

    /// `ALL [PRIVILEGES]` or `priv [, priv]…` where each privilege is one or more words.
    fn privileges(&mut self) -> PResult<Privileges> {
        if self.eat_kw("ALL") {
            self.eat_kw("PRIVILEGES");
            return Ok(Privileges::All);
        }
        if self.is_kw("PROXY") {
            return Err(self.unsupported("PROXY privileges"));
        }
        let mut list = Vec::new();
        loop {
            let mut words: Vec<String> = Vec::new();
            while let Some(w) = self.word_upper() {
                if (w == "ON" || w == "TO" || w == "FROM") && !words.is_empty() {
                    break;
                }
                if w == "ALL" || w == "ON" || w == "TO" || w == "FROM" {
                    return Err(self.error());
                }
                self.bump();
                words.push(w);
            }
            if words.is_empty() {
                return Err(self.error());
            }
            if self.is_op("(") {
                return Err(self.unsupported("column privileges"));
            }
            list.push(words.join(" "));
            if !self.eat_op(",") {
                break;
            }
        }
        Ok(Privileges::List(list))
    }

    fn grant_level(&mut self) -> PResult<GrantLevel> {
        if self.is_kw("FUNCTION") || self.is_kw("PROCEDURE") {
            return Err(self.unsupported("routine privileges"));
        }
        self.eat_kw("TABLE");
        if self.eat_op("*") {
            if self.eat_op(".") {
                self.expect_op("*")?;
                return Ok(GrantLevel::Global);
            }
            return Ok(GrantLevel::CurrentDatabase);
        }
        let first = self.ident()?;
        if self.eat_op(".") {
            if self.eat_op("*") {
                return Ok(GrantLevel::Database(first));
            }
            let table = self.any_ident()?;
            return Ok(GrantLevel::Table {
                database: Some(first),
                table,
            });
        }
        Ok(GrantLevel::Table {
            database: None,
            table: first,
        })
    }

    fn grant(&mut self) -> PResult<Statement> {
        self.bump();
        let privileges = self.privileges()?;
        if self.is_kw("TO") {
            return Err(self.unsupported("GRANT role"));
        }
        self.expect_kw("ON")?;
        let level = self.grant_level()?;
        self.expect_kw("TO")?;
        let users = self.user_list()?;
        if self.is_kw("IDENTIFIED") {
            // 5.7's implicit account creation, removed in 8.0.
            return Err(self.error());
        }
        let with_grant_option = if self.eat_kw("WITH") {
            self.expect_kw("GRANT")?;
            self.expect_kw("OPTION")?;
            true
        } else {
            false
        };
        if self.is_kw("AS") {
            return Err(self.unsupported("GRANT … AS user"));
        }
        Ok(Statement::Grant {
            privileges,
            level,
            users,
            with_grant_option,
        })
    }

    fn revoke(&mut self) -> PResult<Statement> {
        self.bump();
        if self.is_kw("IF") {
            return Err(self.unsupported("REVOKE IF EXISTS"));
        }
        let privileges = self.privileges()?;
        let mut grant_option = false;
        if privileges == Privileges::All && self.eat_op(",") {
            self.expect_kw("GRANT")?;
            self.expect_kw("OPTION")?;
            grant_option = true;
        }
        if privileges != Privileges::All && self.is_kw("FROM") {
            return Err(self.unsupported("REVOKE role"));
        }
        let level = if grant_option && self.is_kw("FROM") {
            None
        } else {
            self.expect_kw("ON")?;
            Some(self.grant_level()?)
        };
        self.expect_kw("FROM")?;
        let users = self.user_list()?;
        if self.is_kw("IGNORE") {
            return Err(self.unsupported("IGNORE UNKNOWN USER"));
        }
        Ok(Statement::Revoke {
            privileges,
            grant_option,
            level,
            users,
        })
    }

    // ----- FLUSH / SHOW -----

    fn flush(&mut self) -> PResult<Statement> {
        self.bump();
        if !self.eat_kw("NO_WRITE_TO_BINLOG") {
            self.eat_kw("LOCAL");
        }
        let mut kinds = Vec::new();
        loop {
            let kind = match self.word_upper().as_deref() {
                Some("PRIVILEGES") => FlushKind::Privileges,
                Some("HOSTS") => FlushKind::Hosts,
                Some("STATUS") => FlushKind::Status,
                Some("USER_RESOURCES") => FlushKind::UserResources,
                Some("LOCAL" | "NO_WRITE_TO_BINLOG") => return Err(self.error()),
                Some(_) if kinds.is_empty() => return self.other_with_next_word("FLUSH"),
                Some(_) => return Err(self.unsupported("this FLUSH option")),
                None => return Err(self.error()),
            };
            self.bump();
            kinds.push(kind);
            if !self.eat_op(",") {
                return Ok(Statement::Flush(kinds));
            }
        }
    }

    fn show_filter(&mut self) -> PResult<Option<ShowFilter>> {
        if self.eat_kw("LIKE") {
            return Ok(Some(ShowFilter::Like(self.string_literal()?)));
        }
        if self.eat_kw("WHERE") {
            return Ok(Some(ShowFilter::Where(self.expr()?.0)));
        }
        Ok(None)
    }

    fn show(&mut self) -> PResult<Statement> {
        self.bump();
        let Some(word) = self.word_upper() else {
            return Err(self.error());
        };
        match word.as_str() {
            "GLOBAL" | "SESSION" | "LOCAL" | "STATUS" | "VARIABLES" => {
                let scope = match word.as_str() {
                    "GLOBAL" => ShowScope::Global,
                    _ => ShowScope::Session,
                };
                if matches!(word.as_str(), "GLOBAL" | "SESSION" | "LOCAL") {
                    self.bump();
                }
                let status = if self.eat_kw("STATUS") {
                    true
                } else {
                    self.expect_kw("VARIABLES")?;
                    false
                };
                let filter = self.show_filter()?;
                Ok(if status {
                    Statement::ShowStatus { scope, filter }
                } else {
                    Statement::ShowVariables { scope, filter }
                })
            }
            "CREATE" => {
                self.bump();
                if self.eat_kw("USER") {
                    return Ok(Statement::ShowCreateUser(self.user_spec(false)?));
                }
                self.other_with_next_word("SHOW CREATE")
            }
            "GRANTS" => {
                self.bump();
                let user = if self.eat_kw("FOR") {
                    Some(self.user_spec(false)?)
                } else {
                    None
                };
                if self.is_kw("USING") {
                    return Err(self.unsupported("SHOW GRANTS … USING"));
                }
                Ok(Statement::ShowGrants(user))
            }
            "DATABASES" | "SCHEMAS" => {
                self.bump();
                Ok(Statement::ShowDatabases(self.show_filter()?))
            }
            "PROCESSLIST" => {
                self.bump();
                Ok(Statement::ShowProcesslist { full: false })
            }
            "FULL" if self.is_kw_at(1, "PROCESSLIST") => {
                self.bump();
                self.bump();
                Ok(Statement::ShowProcesslist { full: true })
            }
            "WARNINGS" => {
                self.bump();
                if self.is_kw("LIMIT") {
                    return Err(self.unsupported("SHOW WARNINGS LIMIT"));
                }
                Ok(Statement::ShowWarnings)
            }
            _ => self.other_with_next_word("SHOW"),
        }
    }

    // ----- SELECT -----

    /// `SELECT …`; returns the select and the height of its tallest expression.
    fn select(&mut self) -> PResult<(Select, u32)> {
        self.enter()?;
        self.expect_kw("SELECT")?;
        let mut height = 0;
        let mut items = Vec::new();
        loop {
            if items.is_empty() && self.eat_op("*") {
                items.push(SelectItem::Wildcard);
            } else {
                let (expr, h) = self.expr()?;
                height = height.max(h);
                let alias = self.alias(true)?;
                items.push(SelectItem::Expr { expr, alias });
            }
            if !self.eat_op(",") {
                break;
            }
        }
        let from = if self.eat_kw("FROM") {
            if self.eat_kw("DUAL") {
                None
            } else {
                Some(self.table_ref()?)
            }
        } else {
            None
        };
        let selection = if self.eat_kw("WHERE") {
            let (e, h) = self.expr()?;
            height = height.max(h);
            Some(e)
        } else {
            None
        };
        let limit = if self.eat_kw("LIMIT") {
            let first = self.limit_number()?;
            if self.eat_op(",") {
                Some(Limit {
                    count: self.limit_number()?,
                    offset: Some(first),
                })
            } else if self.eat_kw("OFFSET") {
                Some(Limit {
                    count: first,
                    offset: Some(self.limit_number()?),
                })
            } else {
                Some(Limit {
                    count: first,
                    offset: None,
                })
            }
        } else {
            None
        };
        self.leave();
        Ok((
            Select {
                items,
                from,
                selection,
                limit,
            },
            height,
        ))
    }

    /// `[AS] alias`; a string is accepted for select-list aliases (`SELECT 1 'one'`).
    fn alias(&mut self, allow_string: bool) -> PResult<Option<String>> {
        if self.eat_kw("AS") {
            return Ok(Some(if allow_string {
                self.ident_or_text()?
            } else {
                self.ident()?
            }));
        }
        match self.tok() {
            Tok::Word(w) if !keywords::is_reserved(w) => Ok(Some(self.ident()?)),
            Tok::Quoted(_) => Ok(Some(self.ident()?)),
            Tok::Str(_) if allow_string => Ok(Some(self.ident_or_text()?)),
            _ => Ok(None),
        }
    }

    fn table_ref(&mut self) -> PResult<TableRef> {
        let first = self.ident()?;
        let (schema, name) = if self.eat_op(".") {
            (Some(first), self.any_ident()?)
        } else {
            (None, first)
        };
        let alias = self.alias(false)?;
        Ok(TableRef {
            schema,
            name,
            alias,
        })
    }

    fn limit_number(&mut self) -> PResult<u64> {
        if let Tok::Number(text) = self.tok() {
            if let Ok(n) = text.parse::<u64>() {
                self.bump();
                return Ok(n);
            }
        }
        Err(self.error())
    }

    // ----- expressions -----

    pub(crate) fn expr(&mut self) -> PResult<ExprH> {
        self.enter()?;
        let r = self.or_expr();
        self.leave();
        r
    }

    fn binary(&self, (l, lh): ExprH, op: BinaryOp, (r, rh): ExprH) -> PResult<ExprH> {
        let h = self.grow(lh.max(rh))?;
        Ok((
            Expr::Binary {
                left: Box::new(l),
                op,
                right: Box::new(r),
            },
            h,
        ))
    }

    fn or_expr(&mut self) -> PResult<ExprH> {
        let mut left = self.xor_expr()?;
        while self.eat_kw("OR") || self.eat_op("||") {
            let right = self.xor_expr()?;
            left = self.binary(left, BinaryOp::Or, right)?;
        }
        Ok(left)
    }

    fn xor_expr(&mut self) -> PResult<ExprH> {
        let mut left = self.and_expr()?;
        while self.eat_kw("XOR") {
            let right = self.and_expr()?;
            left = self.binary(left, BinaryOp::Xor, right)?;
        }
        Ok(left)
    }

    fn and_expr(&mut self) -> PResult<ExprH> {
        let mut left = self.not_expr()?;
        while self.eat_kw("AND") || self.eat_op("&&") {
            let right = self.not_expr()?;
            left = self.binary(left, BinaryOp::And, right)?;
        }
        Ok(left)
    }

    fn not_expr(&mut self) -> PResult<ExprH> {
        if !self.is_kw("NOT") {
            return self.comparison();
        }
        self.bump();
        self.enter()?;
        let (e, h) = self.not_expr()?;
        self.leave();
        let h = self.grow(h)?;
        Ok((
            Expr::Unary {
                op: UnaryOp::Not,
                expr: Box::new(e),
            },
            h,
        ))
    }

    fn comparison_op(&self) -> Option<BinaryOp> {
        match self.tok() {
            Tok::Op("=") => Some(BinaryOp::Eq),
            Tok::Op("<=>") => Some(BinaryOp::NullSafeEq),
            Tok::Op("<>" | "!=") => Some(BinaryOp::NotEq),
            Tok::Op("<") => Some(BinaryOp::Lt),
            Tok::Op("<=") => Some(BinaryOp::LtEq),
            Tok::Op(">") => Some(BinaryOp::Gt),
            Tok::Op(">=") => Some(BinaryOp::GtEq),
            _ => None,
        }
    }

    /// MySQL's `bool_pri`: left-associative comparisons and `IS [NOT] NULL` over predicates.
    fn comparison(&mut self) -> PResult<ExprH> {
        let mut left = self.predicate()?;
        loop {
            if let Some(op) = self.comparison_op() {
                self.bump();
                let right = self.predicate()?;
                left = self.binary(left, op, right)?;
            } else if self.eat_kw("IS") {
                let negated = self.eat_kw("NOT");
                self.expect_kw("NULL")?;
                let h = self.grow(left.1)?;
                left = (
                    Expr::IsNull {
                        expr: Box::new(left.0),
                        negated,
                    },
                    h,
                );
            } else {
                return Ok(left);
            }
        }
    }

    /// MySQL's `predicate`: one optional `[NOT] IN / LIKE / BETWEEN` over arithmetic.
    fn predicate(&mut self) -> PResult<ExprH> {
        let (left, lh) = self.additive()?;
        let negated = self.is_kw("NOT")
            && (self.is_kw_at(1, "IN") || self.is_kw_at(1, "LIKE") || self.is_kw_at(1, "BETWEEN"));
        if negated {
            self.bump();
        }
        if self.eat_kw("IN") {
            self.expect_op("(")?;
            let mut list = Vec::new();
            let mut h = lh;
            if self.is_kw("SELECT") {
                // `IN (SELECT …)`: kept as a one-element list holding the subquery.
                let (select, sh) = self.select()?;
                h = h.max(self.grow(sh)?);
                list.push(Expr::Subquery(Box::new(select)));
            } else {
                loop {
                    let (item, ih) = self.expr()?;
                    h = h.max(ih);
                    list.push(item);
                    if !self.eat_op(",") {
                        break;
                    }
                }
            }
            self.expect_op(")")?;
            let h = self.grow(h)?;
            return Ok((
                Expr::InList {
                    expr: Box::new(left),
                    list,
                    negated,
                },
                h,
            ));
        }
        if self.eat_kw("LIKE") {
            let (pattern, ph) = self.additive()?;
            let mut h = lh.max(ph);
            let escape = if self.eat_kw("ESCAPE") {
                let (e, eh) = self.unary()?;
                h = h.max(eh);
                Some(Box::new(e))
            } else {
                None
            };
            let h = self.grow(h)?;
            return Ok((
                Expr::Like {
                    expr: Box::new(left),
                    pattern: Box::new(pattern),
                    escape,
                    negated,
                },
                h,
            ));
        }
        if self.eat_kw("BETWEEN") {
            let (low, loh) = self.additive()?;
            self.expect_kw("AND")?;
            let (high, hih) = self.additive()?;
            let h = self.grow(lh.max(loh).max(hih))?;
            return Ok((
                Expr::Between {
                    expr: Box::new(left),
                    low: Box::new(low),
                    high: Box::new(high),
                    negated,
                },
                h,
            ));
        }
        Ok((left, lh))
    }

    fn additive(&mut self) -> PResult<ExprH> {
        let mut left = self.multiplicative()?;
        loop {
            let op = match self.tok() {
                Tok::Op("+") => BinaryOp::Plus,
                Tok::Op("-") => BinaryOp::Minus,
                _ => return Ok(left),
            };
            self.bump();
            let right = self.multiplicative()?;
            left = self.binary(left, op, right)?;
        }
    }

    fn multiplicative(&mut self) -> PResult<ExprH> {
        let mut left = self.unary()?;
        loop {
            let op = match self.tok() {
                Tok::Op("*") => BinaryOp::Mul,
                Tok::Op("/") => BinaryOp::Div,
                Tok::Op("%") => BinaryOp::Mod,
                Tok::Word(w) if w.eq_ignore_ascii_case("DIV") => BinaryOp::IntDiv,
                Tok::Word(w) if w.eq_ignore_ascii_case("MOD") => BinaryOp::Mod,
                _ => return Ok(left),
            };
            self.bump();
            let right = self.unary()?;
            left = self.binary(left, op, right)?;
        }
    }

    fn unary(&mut self) -> PResult<ExprH> {
        let op = match self.tok() {
            Tok::Op("-") => Some(UnaryOp::Neg),
            Tok::Op("!") => Some(UnaryOp::Not),
            Tok::Op("+") => None,
            _ => return self.primary(),
        };
        self.bump();
        self.enter()?;
        let (e, h) = self.unary()?;
        self.leave();
        match op {
            Some(op) => {
                let h = self.grow(h)?;
                Ok((
                    Expr::Unary {
                        op,
                        expr: Box::new(e),
                    },
                    h,
                ))
            }
            // Unary plus is a no-op.
            None => Ok((e, h)),
        }
    }

    fn primary(&mut self) -> PResult<ExprH> {
        match self.tok() {
            Tok::Number(text) => {
                let e = match text.parse::<u64>() {
                    Ok(n) if text.bytes().all(|b| b.is_ascii_digit()) => Expr::Integer(n),
                    _ => Expr::Decimal(text.clone()),
                };
                self.bump();
                Ok((e, 1))
            }
            Tok::Str(_) => Ok((Expr::Str(self.concatenated_strings()?), 1)),
            Tok::Hex(_) => match self.bump() {
                Tok::Hex(digits) => Ok((Expr::Hex(digits), 1)),
                _ => Err(self.error()),
            },
            Tok::AtAt => {
                self.bump();
                let (scope, name) = self.system_var_name()?;
                Ok((Expr::SystemVar { scope, name }, 1))
            }
            Tok::At => {
                self.bump();
                Ok((Expr::UserVar(self.user_var_name()?), 1))
            }
            Tok::Op("(") => {
                if self.is_kw_at(1, "SELECT") {
                    self.bump();
                    let (select, h) = self.select()?;
                    self.expect_op(")")?;
                    let h = self.grow(h)?;
                    return Ok((Expr::Subquery(Box::new(select)), h));
                }
                self.bump();
                let e = self.expr()?;
                self.expect_op(")")?;
                Ok(e)
            }
            Tok::Quoted(_) => self.column(),
            Tok::Word(w) => {
                let upper = w.to_ascii_uppercase();
                match upper.as_str() {
                    "NULL" => {
                        self.bump();
                        return Ok((Expr::Null, 1));
                    }
                    "TRUE" | "FALSE" => {
                        self.bump();
                        return Ok((Expr::Bool(upper == "TRUE"), 1));
                    }
                    _ => {}
                }
                if keywords::is_introducer(&upper) && matches!(self.tok_at(1), Tok::Str(_)) {
                    // `_utf8mb4'…'`: the character set is irrelevant here (all text is UTF-8).
                    self.bump();
                    return Ok((Expr::Str(self.concatenated_strings()?), 1));
                }
                let call = self.is_op_at(1, "(");
                if keywords::is_no_paren_function(&upper) && !call {
                    self.bump();
                    return Ok((
                        Expr::Function {
                            name: upper,
                            args: Vec::new(),
                        },
                        1,
                    ));
                }
                if call {
                    if keywords::is_reserved(&upper) && !keywords::is_reserved_function(&upper) {
                        return Err(self.error());
                    }
                    return self.function_call(upper);
                }
                if keywords::is_reserved(&upper) {
                    return Err(self.error());
                }
                self.column()
            }
            _ => Err(self.error()),
        }
    }

    /// A string literal followed by any adjacent ones, concatenated as MySQL does.
    fn concatenated_strings(&mut self) -> PResult<String> {
        let mut value = self.string_literal()?;
        while matches!(self.tok(), Tok::Str(_)) {
            value.push_str(&self.string_literal()?);
        }
        Ok(value)
    }

    fn function_call(&mut self, name: String) -> PResult<ExprH> {
        self.bump();
        self.expect_op("(")?;
        let mut args = Vec::new();
        let mut h = 0;
        if !self.eat_op(")") {
            loop {
                let (arg, ah) = self.expr()?;
                h = h.max(ah);
                args.push(arg);
                if !self.eat_op(",") {
                    break;
                }
            }
            self.expect_op(")")?;
        }
        let h = self.grow(h)?;
        Ok((Expr::Function { name, args }, h))
    }

    fn column(&mut self) -> PResult<ExprH> {
        let mut parts = vec![self.ident()?];
        while self.is_op(".") && parts.len() < 3 {
            self.bump();
            parts.push(self.any_ident()?);
        }
        Ok((Expr::Column(parts), 1))
    }
}
