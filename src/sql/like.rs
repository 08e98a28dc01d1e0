//! MySQL `LIKE` pattern matching, as `SHOW STATUS LIKE '…'` and `SHOW VARIABLES LIKE '…'` use it.
//!
//! Iterative (greedy match with backtracking to the last `%`): O(pattern × text) time in the
//! worst case, linear memory, no recursion.

#[derive(Clone, Copy, PartialEq, Eq)]
enum Piece {
    Literal(char),
    /// `_`
    One,
    /// `%`
    Any,
}

fn compile(pattern: &str, escape: char) -> Vec<Piece> {
    let mut pieces = Vec::with_capacity(pattern.len());
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        // The escape check comes first (MySQL `my_wildcmp`), so `ESCAPE '%'` makes `%%` a
        // literal `%`; an escape character at the very end stands for itself.
        if c == escape {
            if let Some(next) = chars.next() {
                pieces.push(Piece::Literal(next));
                continue;
            }
            pieces.push(Piece::Literal(c));
        } else if c == '%' {
            // Consecutive `%` are equivalent to one.
            if pieces.last() != Some(&Piece::Any) {
                pieces.push(Piece::Any);
            }
        } else if c == '_' {
            pieces.push(Piece::One);
        } else {
            pieces.push(Piece::Literal(c));
        }
    }
    pieces
}

/// Whether `text` matches the MySQL `LIKE` `pattern`: `%` matches any run of characters, `_`
/// exactly one character, `escape` (MySQL's default is `\`) makes the next character literal.
/// Letters compare ASCII case-insensitively, like the `utf8mb3_general_ci` collation of
/// `SHOW STATUS` names; other characters compare exactly. Trailing spaces are significant.
pub fn like_matches(pattern: &str, text: &str, escape: char) -> bool {
    let pieces = compile(pattern, escape);
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0usize, 0usize);
    // After a `%`: the piece index following it and the text position it currently absorbs to.
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        let tc = text.get(t).copied();
        match (pieces.get(p), tc) {
            (Some(Piece::Any), _) => {
                backtrack = Some((p + 1, t));
                p += 1;
                continue;
            }
            (Some(Piece::One), Some(_)) => {
                p += 1;
                t += 1;
                continue;
            }
            (Some(Piece::Literal(pc)), Some(tc)) if pc.eq_ignore_ascii_case(&tc) => {
                p += 1;
                t += 1;
                continue;
            }
            _ => {}
        }
        // Mismatch: let the last `%` absorb one more character, or fail.
        match backtrack {
            Some((after_any, absorbed)) => {
                p = after_any;
                t = absorbed + 1;
                backtrack = Some((after_any, absorbed + 1));
            }
            None => return false,
        }
    }
    pieces
        .get(p..)
        .is_some_and(|rest| rest.iter().all(|piece| *piece == Piece::Any))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Straightforward dynamic-programming reference over the compiled pattern.
    fn reference(pattern: &str, text: &str, escape: char) -> bool {
        let pieces = compile(pattern, escape);
        let text: Vec<char> = text.chars().collect();
        // m[i][j]: the first i pieces match the first j characters.
        let mut m = vec![vec![false; text.len() + 1]; pieces.len() + 1];
        m[0][0] = true;
        for i in 1..=pieces.len() {
            for j in 0..=text.len() {
                m[i][j] = match pieces[i - 1] {
                    Piece::Any => m[i - 1][j] || (j > 0 && m[i][j - 1]),
                    Piece::One => j > 0 && m[i - 1][j - 1],
                    Piece::Literal(c) => {
                        j > 0 && m[i - 1][j - 1] && c.eq_ignore_ascii_case(&text[j - 1])
                    }
                };
            }
        }
        m[pieces.len()][text.len()]
    }

    #[test]
    fn mysql_examples() {
        assert!(like_matches(
            r"Ssl\_server\_not\_%",
            "Ssl_server_not_after",
            '\\'
        ));
        assert!(like_matches(
            r"Ssl\_server\_not\_%",
            "ssl_server_not_before",
            '\\'
        ));
        assert!(!like_matches(
            r"Ssl\_server\_not\_%",
            "Sslxserver_not_after",
            '\\'
        ));
        assert!(like_matches(
            "Ssl_server_not_%",
            "Sslxserver_not_after",
            '\\'
        ));
        assert!(like_matches("%cipher%", "Ssl_cipher_list", '\\'));
        assert!(like_matches("", "", '\\'));
        assert!(!like_matches("", "a", '\\'));
        assert!(like_matches("%", "", '\\'));
        assert!(!like_matches("_", "", '\\'));
        assert!(like_matches("_", "é", '\\'));
        assert!(!like_matches("a", "a ", '\\'));
        // Escape at the end is literal; a custom escape character.
        assert!(like_matches("a\\", "a\\", '\\'));
        assert!(like_matches("100!%", "100%", '!'));
        assert!(!like_matches("100!%", "1000", '!'));
        assert!(like_matches("%%", "%", '%'));
        assert!(!like_matches("%%", "x", '%'));
        // Case-insensitive only for ASCII letters.
        assert!(like_matches("TLS%", "tlsv1.3", '\\'));
        assert!(!like_matches("É", "é", '\\'));
    }

    #[test]
    fn pathological_patterns_stay_fast() {
        let text = "a".repeat(5000);
        let pattern = format!("{}b", "%a".repeat(200));
        assert!(!like_matches(&pattern, &text, '\\'));
        assert!(like_matches(&"%a".repeat(200), &text, '\\'));
    }

    proptest! {
        #[test]
        fn agrees_with_reference(
            pattern in "[abA%_\\\\!]{0,12}",
            text in "[abAB%_\\\\!]{0,12}",
            escape in prop::sample::select(vec!['\\', '!', '%', 'a']),
        ) {
            prop_assert_eq!(like_matches(&pattern, &text, escape), reference(&pattern, &text, escape));
        }

        #[test]
        fn pattern_matches_itself_when_escaped(text in "\\PC{0,16}") {
            let mut pattern = String::new();
            for c in text.chars() {
                if matches!(c, '%' | '_' | '\\') {
                    pattern.push('\\');
                }
                pattern.push(c);
            }
            prop_assert!(like_matches(&pattern, &text, '\\'));
        }
    }
}
