//! The SQL a MySQL front door must understand: a tokenizer and recursive-descent parser for the
//! statement subset listed on [`Statement`] (MySQL 8.0 syntax), canonical printing, MySQL's
//! 1064 error text, and `LIKE` matching.
//!
//! This module owns the *syntax* only. It never evaluates anything, never checks privileges,
//! lengths or variable names, and never does I/O; the command handler does all of that with the
//! tree. It never panics: the parser is a total function, nesting is capped
//! ([`MAX_NESTING`], [`MAX_EXPR_HEIGHT`]), and the caller bounds the statement length.
//!
//! Outcomes and the MySQL error each maps to (see [`ParseError::code`]):
//! * a statement of the subset → the tree;
//! * a real MySQL statement outside the subset (`INSERT …`, `CREATE TABLE …`, `SHOW CREATE
//!   TABLE`) → [`Statement::Other`], for ER_NOT_SUPPORTED_YET (1235) or a harmless OK;
//! * a supported statement with a valid but unsupported clause (`DEFAULT ROLE`, `RANDOM
//!   PASSWORD`, column privileges, …) → [`ParseErrorKind::Unsupported`], 1235;
//! * an account option whose number MySQL's grammar refuses (`PASSWORD EXPIRE INTERVAL 0 DAY`)
//!   → [`ParseErrorKind::WrongValue`], 1525;
//! * only whitespace and comments → [`ParseErrorKind::Empty`], 1065 (MySQL answers OK instead
//!   when there was a comment; the kind says which);
//! * anything else → [`ParseErrorKind::Syntax`], ER_PARSE_ERROR (1064) with
//!   [`ParseError::mysql_message`].
//!
//! Deviations from MySQL, all deliberate: `sql_mode` is not consulted (backslash escapes on,
//! `"…"` is a string, `||` is OR); bit-value literals and `IS TRUE`-style tests are rejected;
//! `IN (SELECT …)` is kept as a one-element list holding the subquery.

mod ast;
mod keywords;
mod lexer;
mod like;
mod parser;

#[cfg(test)]
mod tests;

pub use ast::{
    AuthOption, BinaryOp, Expr, FlushKind, GrantLevel, Limit, LockTime, PasswordExpire,
    PasswordOptions, PolicyValue, Privileges, Require, RequireCurrent, ResourceLimits, Secret,
    Select, SelectItem, SetAssignment, SetValue, ShowFilter, ShowScope, Statement, TableRef,
    UnaryOp, UserAuth, UserSpec, VarScope,
};
pub use like::like_matches;
pub use parser::{MAX_EXPR_HEIGHT, MAX_NESTING};

use crate::error::MysqlError;
use crate::wire::packets::ErrPacket;

/// Why a query did not parse. Each kind maps to one MySQL error (see [`ParseError::code`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// Only whitespace and comments: ER_EMPTY_QUERY (1065, 42000) "Query was empty".
    /// MySQL sends OK instead when `comment_only` (the query held a comment).
    #[error("query was empty")]
    Empty {
        /// The query held a comment (MySQL then answers OK).
        comment_only: bool,
    },
    /// Not valid MySQL syntax (or an unterminated literal or comment): ER_PARSE_ERROR (1064).
    #[error("syntax error")]
    Syntax,
    /// Nesting deeper than [`MAX_NESTING`] or an expression taller than [`MAX_EXPR_HEIGHT`];
    /// reported as 1064 like any syntax error.
    #[error("statement nested too deeply")]
    TooDeep,
    /// Valid MySQL this server does not implement: ER_NOT_SUPPORTED_YET (1235, 42000)
    /// "This version of MySQL doesn't yet support '%s'".
    #[error("unsupported: {0}")]
    Unsupported(&'static str),
    /// A `REQUIRE` option given twice: ER_DUP_ARGUMENT (1225, HY000)
    /// "Option '%s' used twice in statement".
    #[error("option {0} used twice")]
    DuplicateOption(&'static str),
    /// A number out of the range MySQL's grammar accepts for an account option
    /// (`FAILED_LOGIN_ATTEMPTS 40000`, `PASSWORD EXPIRE INTERVAL 0 DAY`): ER_WRONG_VALUE (1525,
    /// HY000) "Incorrect %-.32s value: '%-.128s'", e.g. `Incorrect DAY value: '0'`.
    #[error("incorrect {what} value {value}")]
    WrongValue {
        /// What MySQL names in the message (`DAY`, `FAILED_LOGIN_ATTEMPTS`, …).
        what: &'static str,
        /// The number as written.
        value: String,
    },
}

/// A parse failure with the position MySQL's message reports.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} at line {line}, byte {offset}")]
pub struct ParseError {
    /// What went wrong (and so which MySQL error it is).
    pub kind: ParseErrorKind,
    /// Byte offset in the query where parsing stopped (start of the offending token, or the
    /// query length at the end of input).
    pub offset: usize,
    /// 1-based line of `offset`.
    pub line: u32,
}

const ER_SYNTAX_ERROR_TEXT: &str =
    "You have an error in your SQL syntax; check the manual that corresponds to your \
                                    MySQL server version for the right syntax to use";

impl ParseError {
    pub(crate) fn new(kind: ParseErrorKind, offset: usize, src: &str) -> Self {
        let newlines = src
            .as_bytes()
            .get(..offset)
            .map_or(0, |s| s.iter().filter(|&&b| b == b'\n').count());
        let line = u32::try_from(newlines)
            .unwrap_or(u32::MAX - 1)
            .saturating_add(1);
        Self { kind, offset, line }
    }

    /// MySQL's ER_PARSE_ERROR (1064) text for `query` (the text that was parsed):
    /// `You have an error in your SQL syntax; … near '<rest>' at line N`, where `<rest>` is the
    /// query from the error position, at most 80 bytes (cut at a character boundary and at a NUL,
    /// as MySQL's `%-.80s` does), and empty at the end of input.
    pub fn mysql_message(&self, query: &str) -> String {
        let mut near = query.get(self.offset..).unwrap_or("");
        if let Some(nul) = near.find('\0') {
            near = near.get(..nul).unwrap_or("");
        }
        let mut end = near.len().min(80);
        while !near.is_char_boundary(end) {
            end -= 1;
        }
        let near = near.get(..end).unwrap_or("");
        // `near` is at most 80 bytes, so the format's 80-character cut keeps all of it.
        MysqlError::ParseError.message(&[&ER_SYNTAX_ERROR_TEXT, &near, &self.line])
    }

    /// The MySQL error to send.
    pub fn mysql_error(&self) -> MysqlError {
        match self.kind {
            ParseErrorKind::Empty { .. } => MysqlError::EmptyQuery,
            ParseErrorKind::Syntax | ParseErrorKind::TooDeep => MysqlError::ParseError,
            ParseErrorKind::Unsupported(_) => MysqlError::NotSupportedYet,
            ParseErrorKind::DuplicateOption(_) => MysqlError::DupArgument,
            ParseErrorKind::WrongValue { .. } => MysqlError::WrongValue,
        }
    }

    /// The MySQL error code to send.
    pub fn code(&self) -> u16 {
        self.mysql_error().code()
    }

    /// The SQLSTATE that goes with [`ParseError::code`].
    pub fn sqlstate(&self) -> &'static str {
        self.mysql_error().sqlstate()
    }

    /// The complete MySQL error message for [`ParseError::code`].
    pub fn message(&self, query: &str) -> String {
        let e = self.mysql_error();
        match &self.kind {
            ParseErrorKind::Empty { .. } => e.message(&[]),
            ParseErrorKind::Syntax | ParseErrorKind::TooDeep => self.mysql_message(query),
            ParseErrorKind::Unsupported(what) => e.message(&[what]),
            ParseErrorKind::DuplicateOption(option) => e.message(&[option]),
            ParseErrorKind::WrongValue { what, value } => e.message(&[what, value]),
        }
    }

    /// The ERR packet payload for this failure of `query` (the text that was parsed).
    pub fn to_err_packet(&self, query: &str) -> ErrPacket {
        self.mysql_error().packet_with_message(self.message(query))
    }
}

impl From<&ParseError> for MysqlError {
    fn from(e: &ParseError) -> Self {
        e.mysql_error()
    }
}

/// Parses exactly one statement with an optional trailing `;` (a `COM_QUERY` without
/// CLIENT_MULTI_STATEMENTS: MySQL then reports anything after the first statement as a syntax
/// error there).
pub fn parse_statement(sql: &str) -> Result<Statement, ParseError> {
    let lexed = lexer::tokenize(sql);
    let mut parser = parser::Parser::new(sql, lexed.tokens);
    if parser.at_end() {
        return Err(ParseError::new(
            ParseErrorKind::Empty {
                comment_only: lexed.saw_comment,
            },
            0,
            sql,
        ));
    }
    parser.single_statement()
}

/// Parses `;`-separated statements (CLIENT_MULTI_STATEMENTS); fails with the first error.
/// Use [`statements`] to execute the statements before a failing one, as MySQL does.
pub fn parse_statements(sql: &str) -> Result<Vec<Statement>, ParseError> {
    statements(sql).collect()
}

/// Iterates over the `;`-separated statements of `sql`, parsing each only when asked, and stops
/// after the first error (MySQL executes the statements before it). A trailing `;` and trailing
/// comments are allowed; an empty statement between two `;` is a syntax error.
pub fn statements(sql: &str) -> Statements<'_> {
    let lexed = lexer::tokenize(sql);
    Statements {
        parser: parser::Parser::new(sql, lexed.tokens),
        state: IterState::Start {
            saw_comment: lexed.saw_comment,
        },
        src: sql,
    }
}

/// Iterator returned by [`statements`].
pub struct Statements<'a> {
    parser: parser::Parser<'a>,
    state: IterState,
    src: &'a str,
}

enum IterState {
    Start { saw_comment: bool },
    Running,
    Done,
}

impl Iterator for Statements<'_> {
    type Item = Result<Statement, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.state {
            IterState::Done => return None,
            IterState::Start { saw_comment } => {
                if self.parser.at_end() {
                    self.state = IterState::Done;
                    let kind = ParseErrorKind::Empty {
                        comment_only: saw_comment,
                    };
                    return Some(Err(ParseError::new(kind, 0, self.src)));
                }
                self.state = IterState::Running;
            }
            IterState::Running => {
                if self.parser.at_end() {
                    self.state = IterState::Done;
                    return None;
                }
            }
        }
        let result = self.parser.statement_with_terminator();
        if result.is_err() {
            self.state = IterState::Done;
        }
        Some(result)
    }
}

/// Fuzz body: parses `data` (lossily decoded as UTF-8) as a multi-statement query and asserts,
/// for every statement that parses, that its canonical text parses back to the same tree and
/// prints identically. Unlike the rest of the module it **panics** when that property is
/// violated (the signal for the fuzzer and the corpus-replay test), and never otherwise.
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub fn fuzz_parse(data: &[u8]) {
    let sql = String::from_utf8_lossy(data);
    for result in statements(&sql) {
        match result {
            Ok(stmt) => {
                let text = stmt.to_string();
                let reparsed = parse_statement(&text);
                assert_eq!(
                    reparsed.as_ref(),
                    Ok(&stmt),
                    "round trip of {text:?} (from {sql:?})"
                );
                assert_eq!(
                    reparsed.map(|s| s.to_string()).as_deref(),
                    Ok(text.as_str())
                );
                let _ = format!("{stmt:?}");
            }
            Err(e) => {
                let message = e.message(&sql);
                assert!(!message.is_empty());
            }
        }
    }
}
