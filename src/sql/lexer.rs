//! Tokenizer following MySQL 8.0's lexer (`sql_lex.cc`) for the token kinds the subset needs.
//!
//! It owns comments (`#`, `-- `, `/* */`, and `/*! … */` / `/*!NNNNN … */` executable
//! comments, whose content is lexed as SQL when the version is ≤ [`MYSQL_VERSION_ID`]), string
//! literals with MySQL's backslash escapes (as without `NO_BACKSLASH_ESCAPES`; `"…"` is a string,
//! as without `ANSI_QUOTES`), back-quoted identifiers, numbers, and the `user@host` rule that
//! lexes the word after a lone `@` as a host name. It never fails as a whole: the first lexical
//! error becomes a final [`Tok::Error`] token, so statements before it still parse.

use super::ast::Secret;
use super::ParseErrorKind;

/// The server version executable comments are compared with (8.0.40, as advertised).
pub(crate) const MYSQL_VERSION_ID: u32 = 80040;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// An unquoted identifier or keyword, as written.
    Word(String),
    /// A back-quoted identifier, unquoted.
    Quoted(String),
    /// A string literal's decoded value (a secret: it may be a password).
    Str(Secret),
    /// A numeric literal's text.
    Number(String),
    /// The digits of `X'…'` / `0x…`.
    Hex(String),
    /// The word right after a lone `@` (`user@localhost`, `@var`), MySQL's `LEX_HOSTNAME`.
    HostWord(String),
    At,
    AtAt,
    Op(&'static str),
    /// Any other single character (MySQL returns it as itself; no rule of ours accepts it).
    Char(char),
    Eof,
    Error(ParseErrorKind),
    /// Left behind when the parser takes a token's value.
    Consumed,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub tok: Tok,
    /// Byte offsets in the query text.
    pub start: usize,
    pub end: usize,
}

pub(crate) struct Lexed {
    /// Always ends with exactly one `Eof` or `Error` token.
    pub tokens: Vec<Token>,
    /// Whether any comment was seen (MySQL answers a comment-only query with OK, not 1065).
    pub saw_comment: bool,
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

fn is_host_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'$')
}

type LexResult = Result<Tok, (ParseErrorKind, usize)>;

struct Lexer<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
    in_exec_comment: bool,
    saw_comment: bool,
    /// Position at which the next token must be read as an identifier (after `ident.` / `@@`).
    force_ident_at: Option<usize>,
    /// Position at which the next token is a host name (right after a lone `@`).
    host_at: Option<usize>,
    /// End of the previous token if it was an identifier.
    ident_end: Option<usize>,
}

/// Splits `src` into tokens. Total: never panics, always terminates with `Eof` or `Error`.
pub(crate) fn tokenize(src: &str) -> Lexed {
    let mut lx = Lexer {
        src,
        bytes: src.as_bytes(),
        pos: 0,
        in_exec_comment: false,
        saw_comment: false,
        force_ident_at: None,
        host_at: None,
        ident_end: None,
    };
    let mut tokens = Vec::new();
    loop {
        if let Err(at) = lx.skip_trivia() {
            tokens.push(Token {
                tok: Tok::Error(ParseErrorKind::Syntax),
                start: at,
                end: at,
            });
            break;
        }
        let start = lx.pos;
        if start >= lx.bytes.len() {
            // An executable comment left open is a syntax error at the end (MySQL's ABORT_SYM).
            let tok = if lx.in_exec_comment {
                Tok::Error(ParseErrorKind::Syntax)
            } else {
                Tok::Eof
            };
            tokens.push(Token {
                tok,
                start,
                end: start,
            });
            break;
        }
        match lx.next_token() {
            Ok(tok) => {
                lx.ident_end = matches!(tok, Tok::Word(_) | Tok::Quoted(_)).then_some(lx.pos);
                tokens.push(Token {
                    tok,
                    start,
                    end: lx.pos,
                });
            }
            Err((kind, at)) => {
                tokens.push(Token {
                    tok: Tok::Error(kind),
                    start: at,
                    end: at,
                });
                break;
            }
        }
    }
    Lexed {
        tokens,
        saw_comment: lx.saw_comment,
    }
}

impl Lexer<'_> {
    fn peek(&self, n: usize) -> Option<u8> {
        self.bytes.get(self.pos + n).copied()
    }

    fn slice(&self, from: usize, to: usize) -> &str {
        self.src.get(from..to).unwrap_or("")
    }

    fn scan_while(&self, from: usize, pred: impl Fn(u8) -> bool) -> usize {
        let mut i = from;
        while self.bytes.get(i).is_some_and(|&b| pred(b)) {
            i += 1;
        }
        i
    }

    /// Skips whitespace and comments; `Err(offset)` for an unterminated comment.
    fn skip_trivia(&mut self) -> Result<(), usize> {
        loop {
            let Some(b) = self.peek(0) else { return Ok(()) };
            match b {
                b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c => self.pos += 1,
                b'#' => self.skip_line(),
                // `--` starts a comment only when followed by a space, a control character or
                // the end of the query.
                b'-' if self.peek(1) == Some(b'-')
                    && self.peek(2).is_none_or(|c| c <= b' ' || c == 0x7f) =>
                {
                    self.skip_line()
                }
                b'/' if self.peek(1) == Some(b'*') => self.block_comment()?,
                b'*' if self.in_exec_comment && self.peek(1) == Some(b'/') => {
                    self.pos += 2;
                    self.in_exec_comment = false;
                }
                _ => return Ok(()),
            }
        }
    }

    fn skip_line(&mut self) {
        self.saw_comment = true;
        self.pos = self.scan_while(self.pos, |b| b != b'\n');
    }

    fn block_comment(&mut self) -> Result<(), usize> {
        let start = self.pos;
        self.saw_comment = true;
        if self.peek(2) == Some(b'!') && !self.in_exec_comment {
            let digits = (3..8).all(|i| self.peek(i).is_some_and(|c| c.is_ascii_digit()));
            if !digits {
                self.pos += 3;
                self.in_exec_comment = true;
                return Ok(());
            }
            let version = self
                .slice(start + 3, start + 8)
                .parse::<u32>()
                .unwrap_or(u32::MAX);
            self.pos += 8;
            if version <= MYSQL_VERSION_ID {
                self.in_exec_comment = true;
                return Ok(());
            }
            // A comment for a later version is discarded; it may hold one nested comment.
            return self.consume_comment(start, 1);
        }
        self.pos += 2;
        self.consume_comment(start, 0)
    }

    /// Skips to the `*/` closing a comment opened at `start`, allowing `nesting` inner comments.
    fn consume_comment(&mut self, start: usize, nesting: u32) -> Result<(), usize> {
        let mut depth = 0u32;
        loop {
            match (self.peek(0), self.peek(1)) {
                (None, _) => return Err(start),
                (Some(b'/'), Some(b'*')) if depth < nesting => {
                    depth += 1;
                    self.pos += 2;
                }
                (Some(b'*'), Some(b'/')) => {
                    self.pos += 2;
                    if depth == 0 {
                        return Ok(());
                    }
                    depth -= 1;
                }
                _ => self.pos += 1,
            }
        }
    }

    fn next_token(&mut self) -> LexResult {
        let start = self.pos;
        let Some(b) = self.peek(0) else {
            return Ok(Tok::Eof);
        };
        if self.host_at.take() == Some(start) && is_host_byte(b) {
            self.pos = self.scan_while(start, is_host_byte);
            return Ok(Tok::HostWord(self.slice(start, self.pos).to_owned()));
        }
        if self.force_ident_at.take() == Some(start) && is_ident_byte(b) {
            self.pos = self.scan_while(start, is_ident_byte);
            return Ok(Tok::Word(self.slice(start, self.pos).to_owned()));
        }
        match b {
            b'\'' | b'"' => self.string(b),
            b'`' => self.quoted_ident(),
            b'0'..=b'9' => self.number_or_word(),
            b'.' => {
                let next = self.peek(1);
                if self.ident_end == Some(start) && next.is_some_and(is_ident_byte) {
                    // `ident.` followed by identifier characters: the next token is an
                    // identifier even if it starts with a digit or is a keyword.
                    self.force_ident_at = Some(start + 1);
                    self.pos += 1;
                    Ok(Tok::Op("."))
                } else if next.is_some_and(|c| c.is_ascii_digit()) {
                    self.real_number(start, start + 1)
                } else {
                    self.pos += 1;
                    Ok(Tok::Op("."))
                }
            }
            b'@' => {
                if self.peek(1) == Some(b'@') {
                    self.pos += 2;
                    self.force_ident_at = Some(self.pos);
                    Ok(Tok::AtAt)
                } else {
                    self.pos += 1;
                    self.host_at = Some(self.pos);
                    Ok(Tok::At)
                }
            }
            c if is_ident_byte(c) => self.word(),
            _ => self.operator(),
        }
    }

    fn operator(&mut self) -> LexResult {
        let b = self.peek(0).unwrap_or(0);
        let n1 = self.peek(1);
        let n2 = self.peek(2);
        let (op, len): (&'static str, usize) = match (b, n1, n2) {
            (b'<', Some(b'='), Some(b'>')) => ("<=>", 3),
            (b'<', Some(b'='), _) => ("<=", 2),
            (b'<', Some(b'>'), _) => ("<>", 2),
            (b'<', Some(b'<'), _) => ("<<", 2),
            (b'<', _, _) => ("<", 1),
            (b'>', Some(b'='), _) => (">=", 2),
            (b'>', Some(b'>'), _) => (">>", 2),
            (b'>', _, _) => (">", 1),
            (b'!', Some(b'='), _) => ("!=", 2),
            (b'!', _, _) => ("!", 1),
            (b':', Some(b'='), _) => (":=", 2),
            (b'|', Some(b'|'), _) => ("||", 2),
            (b'|', _, _) => ("|", 1),
            (b'&', Some(b'&'), _) => ("&&", 2),
            (b'&', _, _) => ("&", 1),
            (b'-', Some(b'>'), Some(b'>')) => ("->>", 3),
            (b'-', Some(b'>'), _) => ("->", 2),
            (b'-', _, _) => ("-", 1),
            (b'=', _, _) => ("=", 1),
            (b'(', _, _) => ("(", 1),
            (b')', _, _) => (")", 1),
            (b',', _, _) => (",", 1),
            (b';', _, _) => (";", 1),
            (b'*', _, _) => ("*", 1),
            (b'+', _, _) => ("+", 1),
            (b'/', _, _) => ("/", 1),
            (b'%', _, _) => ("%", 1),
            (b'~', _, _) => ("~", 1),
            (b'^', _, _) => ("^", 1),
            _ => {
                let c = self
                    .src
                    .get(self.pos..)
                    .and_then(|s| s.chars().next())
                    .unwrap_or('\u{fffd}');
                self.pos += c.len_utf8().max(1);
                return Ok(Tok::Char(c));
            }
        };
        self.pos += len;
        Ok(Tok::Op(op))
    }

    fn word(&mut self) -> LexResult {
        let start = self.pos;
        let end = self.scan_while(start, is_ident_byte);
        let quote_follows = self.bytes.get(end) == Some(&b'\'');
        if end == start + 1 && quote_follows {
            match self.bytes.get(start) {
                Some(b'x' | b'X') => return self.hex_string(start),
                Some(b'b' | b'B') => {
                    return Err((ParseErrorKind::Unsupported("bit-value literals"), start))
                }
                Some(b'n' | b'N') => {
                    // N'…': a national-character string, which is utf8 here anyway.
                    self.pos = end;
                    return self.string(b'\'');
                }
                _ => {}
            }
        }
        self.pos = end;
        Ok(Tok::Word(self.slice(start, end).to_owned()))
    }

    /// `X'hex'`: hex digits only and an even number of them, else a syntax error at `X`.
    fn hex_string(&mut self, start: usize) -> LexResult {
        let digits_start = start + 2;
        let digits_end = self.scan_while(digits_start, |b| b.is_ascii_hexdigit());
        if self.bytes.get(digits_end) != Some(&b'\'')
            || !(digits_end - digits_start).is_multiple_of(2)
        {
            return Err((ParseErrorKind::Syntax, start));
        }
        self.pos = digits_end + 1;
        Ok(Tok::Hex(self.slice(digits_start, digits_end).to_owned()))
    }

    /// Numbers, `0x…`, and identifiers that start with digits (`1abc`), as MySQL's
    /// `MY_LEX_NUMBER_IDENT` decides.
    fn number_or_word(&mut self) -> LexResult {
        let start = self.pos;
        let word_end = self.scan_while(start, is_ident_byte);
        let as_word = |lx: &mut Self| {
            lx.pos = word_end;
            Ok(Tok::Word(lx.slice(start, word_end).to_owned()))
        };
        if self.peek(0) == Some(b'0') && matches!(self.peek(1), Some(b'x' | b'b')) {
            let hex = self.peek(1) == Some(b'x');
            let digits_end = if hex {
                self.scan_while(start + 2, |b| b.is_ascii_hexdigit())
            } else {
                self.scan_while(start + 2, |b| b == b'0' || b == b'1')
            };
            if digits_end > start + 2 && digits_end == word_end {
                if !hex {
                    return Err((ParseErrorKind::Unsupported("bit-value literals"), start));
                }
                self.pos = digits_end;
                return Ok(Tok::Hex(self.slice(start + 2, digits_end).to_owned()));
            }
            return as_word(self);
        }
        let digits_end = self.scan_while(start, |b| b.is_ascii_digit());
        match self.bytes.get(digits_end).copied() {
            Some(b'.') => self.real_number(start, digits_end + 1),
            Some(b'e' | b'E') => {
                let after = self.bytes.get(digits_end + 1).copied();
                let exponent_digits_at = match after {
                    Some(b'+' | b'-') => digits_end + 2,
                    _ => digits_end + 1,
                };
                if self
                    .bytes
                    .get(exponent_digits_at)
                    .is_some_and(|b| b.is_ascii_digit())
                {
                    self.pos = self.scan_while(exponent_digits_at, |b| b.is_ascii_digit());
                    Ok(Tok::Number(self.slice(start, self.pos).to_owned()))
                } else {
                    as_word(self)
                }
            }
            Some(c) if is_ident_byte(c) => as_word(self),
            _ => {
                self.pos = digits_end;
                Ok(Tok::Number(self.slice(start, digits_end).to_owned()))
            }
        }
    }

    /// The fraction and exponent of a number whose digits before `.` end at `frac_start - 1`.
    fn real_number(&mut self, start: usize, frac_start: usize) -> LexResult {
        let mut end = self.scan_while(frac_start, |b| b.is_ascii_digit());
        if matches!(self.bytes.get(end), Some(b'e' | b'E')) {
            let digits_at = match self.bytes.get(end + 1) {
                Some(b'+' | b'-') => end + 2,
                _ => end + 1,
            };
            if self
                .bytes
                .get(digits_at)
                .is_some_and(|b| b.is_ascii_digit())
            {
                end = self.scan_while(digits_at, |b| b.is_ascii_digit());
            }
        }
        self.pos = end;
        Ok(Tok::Number(self.slice(start, end).to_owned()))
    }

    /// A `'…'` or `"…"` literal starting at `self.pos`. An unterminated literal is a syntax error
    /// at its opening quote (MySQL: `near ''abc' at line 1`).
    fn string(&mut self, quote: u8) -> LexResult {
        let start = self.pos;
        // First pass: find the closing quote, so the value is built in one exact allocation
        // (no reallocation leaves stray copies of a password behind).
        let mut i = start + 1;
        let close = loop {
            match self.bytes.get(i).copied() {
                None => return Err((ParseErrorKind::Syntax, start)),
                Some(b'\\') => {
                    if i + 1 >= self.bytes.len() {
                        return Err((ParseErrorKind::Syntax, start));
                    }
                    i += 2;
                }
                Some(c) if c == quote => {
                    if self.bytes.get(i + 1) == Some(&quote) {
                        i += 2;
                    } else {
                        break i;
                    }
                }
                Some(_) => i += 1,
            }
        };
        let raw = self.slice(start + 1, close);
        let mut value = String::with_capacity(raw.len());
        let mut chars = raw.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                match chars.next() {
                    Some('0') => value.push('\0'),
                    Some('b') => value.push('\u{8}'),
                    Some('n') => value.push('\n'),
                    Some('r') => value.push('\r'),
                    Some('t') => value.push('\t'),
                    Some('Z') => value.push('\u{1a}'),
                    // Kept with the backslash so LIKE patterns can escape wildcards.
                    Some(w @ ('%' | '_')) => {
                        value.push('\\');
                        value.push(w);
                    }
                    Some(other) => value.push(other),
                    None => {}
                }
            } else if c as u32 == u32::from(quote) {
                // A doubled quote; skip its twin.
                chars.next();
                value.push(c);
            } else {
                value.push(c);
            }
        }
        self.pos = close + 1;
        Ok(Tok::Str(Secret::new(value)))
    }

    fn quoted_ident(&mut self) -> LexResult {
        let start = self.pos;
        let mut i = start + 1;
        let mut value = String::new();
        let mut seg = i;
        loop {
            match self.bytes.get(i) {
                None => return Err((ParseErrorKind::Syntax, start)),
                Some(b'`') if self.bytes.get(i + 1) == Some(&b'`') => {
                    value.push_str(self.slice(seg, i + 1));
                    i += 2;
                    seg = i;
                }
                Some(b'`') => {
                    value.push_str(self.slice(seg, i));
                    self.pos = i + 1;
                    return Ok(Tok::Quoted(value));
                }
                Some(_) => i += 1,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(src: &str) -> Vec<Tok> {
        tokenize(src).tokens.into_iter().map(|t| t.tok).collect()
    }

    fn word(s: &str) -> Tok {
        Tok::Word(s.into())
    }

    fn string(s: &str) -> Tok {
        Tok::Str(Secret::new(s.into()))
    }

    #[test]
    fn strings_decode_mysql_escapes() {
        assert_eq!(toks(r"'a\nb'"), vec![string("a\nb"), Tok::Eof]);
        assert_eq!(
            toks(r#"'it''s' 'it\'s' 'say \"hi\"'"#),
            vec![
                string("it's"),
                string("it's"),
                string("say \"hi\""),
                Tok::Eof
            ]
        );
        assert_eq!(
            toks(r#""dq""x" "a'b""#),
            vec![string("dq\"x"), string("a'b"), Tok::Eof]
        );
        assert_eq!(
            toks(r"'\0\b\r\t\Z\\\q'"),
            vec![string("\0\u{8}\r\t\u{1a}\\q"), Tok::Eof]
        );
        // \% and \_ keep their backslash, as MySQL does for LIKE.
        assert_eq!(
            toks(r"'Ssl\_server\_not\_%'"),
            vec![string(r"Ssl\_server\_not\_%"), Tok::Eof]
        );
        assert_eq!(toks("'é\\é'"), vec![string("éé"), Tok::Eof]);
        assert_eq!(toks("N'x' n'y'"), vec![string("x"), string("y"), Tok::Eof]);
    }

    #[test]
    fn unterminated_literals_fail_at_their_start() {
        let lexed = tokenize("SELECT 'abc");
        let last = lexed.tokens.last().cloned();
        assert_eq!(
            last,
            Some(Token {
                tok: Tok::Error(ParseErrorKind::Syntax),
                start: 7,
                end: 7
            })
        );
        assert!(matches!(
            toks("`abc").last(),
            Some(Tok::Error(ParseErrorKind::Syntax))
        ));
        assert!(matches!(
            toks(r"'abc\").last(),
            Some(Tok::Error(ParseErrorKind::Syntax))
        ));
        let lexed = tokenize("SELECT 1 /* open");
        assert_eq!(lexed.tokens.last().map(|t| t.start), Some(9));
    }

    #[test]
    fn identifiers_and_numbers() {
        assert_eq!(
            toks("`a``b` abc_1$ é"),
            vec![
                Tok::Quoted("a`b".into()),
                word("abc_1$"),
                word("é"),
                Tok::Eof
            ]
        );
        assert_eq!(
            toks("1 1.5 .5 1e3 1E+3 1.5e-2 007"),
            ["1", "1.5", ".5", "1e3", "1E+3", "1.5e-2", "007"]
                .iter()
                .map(|s| Tok::Number((*s).into()))
                .chain([Tok::Eof])
                .collect::<Vec<_>>()
        );
        // Digit-led identifiers, as MySQL's lexer allows.
        assert_eq!(
            toks("1abc 1e 0xZZ"),
            vec![word("1abc"), word("1e"), word("0xZZ"), Tok::Eof]
        );
        assert_eq!(
            toks("0x4d X'4D' x''"),
            vec![
                Tok::Hex("4d".into()),
                Tok::Hex("4D".into()),
                Tok::Hex(String::new()),
                Tok::Eof
            ]
        );
        assert!(matches!(
            toks("X'4'").last(),
            Some(Tok::Error(ParseErrorKind::Syntax))
        ));
        assert!(matches!(
            toks("b'01'").last(),
            Some(Tok::Error(ParseErrorKind::Unsupported(_)))
        ));
        assert!(matches!(
            toks("0b01").last(),
            Some(Tok::Error(ParseErrorKind::Unsupported(_)))
        ));
    }

    #[test]
    fn dot_after_identifier_forces_identifier() {
        assert_eq!(
            toks("t.12 t.select"),
            vec![
                word("t"),
                Tok::Op("."),
                word("12"),
                word("t"),
                Tok::Op("."),
                word("select"),
                Tok::Eof
            ]
        );
        assert_eq!(
            toks("*.*"),
            vec![Tok::Op("*"), Tok::Op("."), Tok::Op("*"), Tok::Eof]
        );
        assert_eq!(
            toks("t .5"),
            vec![word("t"), Tok::Number(".5".into()), Tok::Eof]
        );
    }

    #[test]
    fn at_signs_and_hosts() {
        assert_eq!(
            toks("'u'@'%'"),
            vec![string("u"), Tok::At, string("%"), Tok::Eof]
        );
        assert_eq!(
            toks("u@127.0.0.1"),
            vec![
                word("u"),
                Tok::At,
                Tok::HostWord("127.0.0.1".into()),
                Tok::Eof
            ]
        );
        assert_eq!(
            toks("@a.b"),
            vec![Tok::At, Tok::HostWord("a.b".into()), Tok::Eof]
        );
        assert_eq!(
            toks("@@session.autocommit"),
            vec![
                Tok::AtAt,
                word("session"),
                Tok::Op("."),
                word("autocommit"),
                Tok::Eof
            ]
        );
        assert_eq!(toks("@@1x"), vec![Tok::AtAt, word("1x"), Tok::Eof]);
    }

    #[test]
    fn operators() {
        assert_eq!(
            toks("<=> <= <> < >= > != ! := || && -> - = ?"),
            ["<=>", "<=", "<>", "<", ">=", ">", "!=", "!", ":=", "||", "&&", "->", "-", "="]
                .iter()
                .map(|s| Tok::Op(s))
                .chain([Tok::Char('?'), Tok::Eof])
                .collect::<Vec<_>>()
        );
        // `--1` is two minus signs, `-- 1` a comment.
        assert_eq!(
            toks("--1"),
            vec![
                Tok::Op("-"),
                Tok::Op("-"),
                Tok::Number("1".into()),
                Tok::Eof
            ]
        );
        assert_eq!(toks("-- 1"), vec![Tok::Eof]);
        assert_eq!(toks("1--"), vec![Tok::Number("1".into()), Tok::Eof]);
    }

    #[test]
    fn comments() {
        let lexed = tokenize("# c\n1 -- c\n/* c */ 2");
        assert!(lexed.saw_comment);
        let got: Vec<Tok> = lexed.tokens.into_iter().map(|t| t.tok).collect();
        assert_eq!(
            got,
            vec![Tok::Number("1".into()), Tok::Number("2".into()), Tok::Eof]
        );
        assert!(!tokenize("1").saw_comment);
        // Executable comments: content is SQL when the version is not newer than ours.
        assert_eq!(
            toks("/*! 1 */ /*!80000 2 */ /*!99999 3 */ /*!800401*/"),
            vec![
                Tok::Number("1".into()),
                Tok::Number("2".into()),
                Tok::Number("1".into()),
                Tok::Eof
            ]
        );
        assert_eq!(
            toks("/*!SELECT 2**/"),
            vec![
                word("SELECT"),
                Tok::Number("2".into()),
                Tok::Op("*"),
                Tok::Eof
            ]
        );
        // A future-version comment may hold one nested comment.
        assert_eq!(
            toks("/*!99999 a /* b */ c */ 4"),
            vec![Tok::Number("4".into()), Tok::Eof]
        );
        // `*/` outside an executable comment is just two operators.
        assert_eq!(toks("*/"), vec![Tok::Op("*"), Tok::Op("/"), Tok::Eof]);
        assert!(matches!(
            toks("/*! 1").last(),
            Some(Tok::Error(ParseErrorKind::Syntax))
        ));
        // Optimizer hints are comments here.
        assert_eq!(
            toks("/*+ hint */ 5"),
            vec![Tok::Number("5".into()), Tok::Eof]
        );
    }
}
