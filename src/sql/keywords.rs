//! Word lists: MySQL 8.0 reserved words, functions callable without parentheses, statement
//! verbs this server recognises but does not implement, and character-set names usable as
//! `_charset'…'` introducers. All comparisons are ASCII case-insensitive.

/// MySQL 8.0 reserved words (manual "Keywords and Reserved Words", the (R) entries), minus a few
/// that cannot occur in the supported grammar. A bare reserved word is never an identifier.
#[rustfmt::skip]
const MYSQL_RESERVED: &[&str] = &[
    "ACCESSIBLE", "ADD", "ALL", "ALTER", "ANALYZE", "AND", "AS", "ASC", "ASENSITIVE", "BEFORE",
    "BETWEEN", "BIGINT", "BINARY", "BLOB", "BOTH", "BY", "CALL", "CASCADE", "CASE", "CHANGE",
    "CHAR", "CHARACTER", "CHECK", "COLLATE", "COLUMN", "CONDITION", "CONSTRAINT", "CONTINUE",
    "CONVERT", "CREATE", "CROSS", "CUBE", "CUME_DIST", "CURRENT_DATE", "CURRENT_TIME",
    "CURRENT_TIMESTAMP", "CURRENT_USER", "CURSOR", "DATABASE", "DATABASES", "DAY_HOUR",
    "DAY_MICROSECOND", "DAY_MINUTE", "DAY_SECOND", "DEC", "DECIMAL", "DECLARE", "DEFAULT",
    "DELAYED", "DELETE", "DENSE_RANK", "DESC", "DESCRIBE", "DETERMINISTIC", "DISTINCT",
    "DISTINCTROW", "DIV", "DOUBLE", "DROP", "DUAL", "EACH", "ELSE", "ELSEIF", "EMPTY", "ENCLOSED",
    "ESCAPED", "EXCEPT", "EXISTS", "EXIT", "EXPLAIN", "FALSE", "FETCH", "FIRST_VALUE", "FLOAT",
    "FLOAT4", "FLOAT8", "FOR", "FORCE", "FOREIGN", "FROM", "FULLTEXT", "FUNCTION", "GENERATED",
    "GET", "GRANT", "GROUP", "GROUPING", "GROUPS", "HAVING", "HIGH_PRIORITY", "HOUR_MICROSECOND",
    "HOUR_MINUTE", "HOUR_SECOND", "IF", "IGNORE", "IN", "INDEX", "INFILE", "INNER", "INOUT",
    "INSENSITIVE", "INSERT", "INT", "INT1", "INT2", "INT3", "INT4", "INT8", "INTEGER", "INTERSECT",
    "INTERVAL", "INTO", "IO_AFTER_GTIDS", "IO_BEFORE_GTIDS", "IS", "ITERATE", "JOIN", "JSON_TABLE",
    "KEY", "KEYS", "KILL", "LAG", "LAST_VALUE", "LATERAL", "LEAD", "LEADING", "LEAVE", "LEFT",
    "LIKE", "LIMIT", "LINEAR", "LINES", "LOAD", "LOCALTIME", "LOCALTIMESTAMP", "LOCK", "LONG",
    "LONGBLOB", "LONGTEXT", "LOOP", "LOW_PRIORITY", "MASTER_BIND", "MASTER_SSL_VERIFY_SERVER_CERT",
    "MATCH", "MAXVALUE", "MEDIUMBLOB", "MEDIUMINT", "MEDIUMTEXT", "MIDDLEINT", "MINUTE_MICROSECOND",
    "MINUTE_SECOND", "MOD", "MODIFIES", "NATURAL", "NOT", "NO_WRITE_TO_BINLOG", "NTH_VALUE",
    "NTILE", "NULL", "NUMERIC", "OF", "ON", "OPTIMIZE", "OPTIMIZER_COSTS", "OPTION", "OPTIONALLY",
    "OR", "ORDER", "OUT", "OUTER", "OUTFILE", "OVER", "PARTITION", "PERCENT_RANK", "PRECISION",
    "PRIMARY", "PROCEDURE", "PURGE", "RANGE", "RANK", "READ", "READS", "READ_WRITE", "REAL",
    "RECURSIVE", "REFERENCES", "REGEXP", "RELEASE", "RENAME", "REPEAT", "REPLACE", "REQUIRE",
    "RESIGNAL", "RESTRICT", "RETURN", "REVOKE", "RIGHT", "RLIKE", "ROW", "ROWS", "ROW_NUMBER",
    "SCHEMA", "SCHEMAS", "SECOND_MICROSECOND", "SELECT", "SENSITIVE", "SEPARATOR", "SET", "SHOW",
    "SIGNAL", "SMALLINT", "SPATIAL", "SPECIFIC", "SQL", "SQLEXCEPTION", "SQLSTATE", "SQLWARNING",
    "SQL_BIG_RESULT", "SQL_CALC_FOUND_ROWS", "SQL_SMALL_RESULT", "SSL", "STARTING", "STORED",
    "STRAIGHT_JOIN", "SYSTEM", "TABLE", "TERMINATED", "THEN", "TINYBLOB", "TINYINT", "TINYTEXT",
    "TO", "TRAILING", "TRIGGER", "TRUE", "UNDO", "UNION", "UNIQUE", "UNLOCK", "UNSIGNED", "UPDATE",
    "USAGE", "USE", "USING", "UTC_DATE", "UTC_TIME", "UTC_TIMESTAMP", "VALUES", "VARBINARY",
    "VARCHAR", "VARCHARACTER", "VARYING", "VIRTUAL", "WHEN", "WHERE", "WHILE", "WINDOW", "WITH",
    "WRITE", "XOR", "YEAR_MONTH", "ZEROFILL",
];

/// Non-reserved words the printer still back-quotes because the parser gives them a meaning in
/// some identifier position (`SET [scope] TRANSACTION`, `LIKE … ESCAPE`, `@@global.x`, …).
#[rustfmt::skip]
const QUOTE_ALSO: &[&str] = &[
    "CHARSET", "ESCAPE", "GLOBAL", "LOCAL", "NAMES", "OFFSET", "PASSWORD", "PERSIST",
    "PERSIST_ONLY", "ROLE", "SESSION", "TRANSACTION",
];

/// Reserved words that are still function names when followed by `(` (`IF(…)`, `LEFT(…)`, …).
#[rustfmt::skip]
const RESERVED_FUNCTIONS: &[&str] = &[
    "CHAR", "CONVERT", "CUME_DIST", "CURRENT_DATE", "CURRENT_TIME", "CURRENT_TIMESTAMP",
    "CURRENT_USER", "DATABASE", "DEFAULT", "DENSE_RANK", "FIRST_VALUE", "GROUPING", "IF", "INSERT",
    "INTERVAL", "LAG", "LAST_VALUE", "LEAD", "LEFT", "LOCALTIME", "LOCALTIMESTAMP", "MATCH", "MOD",
    "NTH_VALUE", "NTILE", "PERCENT_RANK", "RANK", "REPEAT", "REPLACE", "RIGHT", "ROW_NUMBER",
    "SCHEMA", "UTC_DATE", "UTC_TIME", "UTC_TIMESTAMP", "VALUES",
];

/// Functions MySQL lets you call without parentheses (`SELECT CURRENT_USER`).
#[rustfmt::skip]
const NO_PAREN_FUNCTIONS: &[&str] = &[
    "CURRENT_DATE", "CURRENT_TIME", "CURRENT_TIMESTAMP", "CURRENT_USER", "LOCALTIME",
    "LOCALTIMESTAMP", "UTC_DATE", "UTC_TIME", "UTC_TIMESTAMP",
];

/// Statement-starting words of MySQL statements outside the supported subset; the statement is
/// then [`super::Statement::Other`] with the word as verb.
#[rustfmt::skip]
const OTHER_VERBS: &[&str] = &[
    "ANALYZE", "BINLOG", "CACHE", "CALL", "CHANGE", "CHECK", "CHECKSUM", "CLONE", "DEALLOCATE",
    "DELETE", "DESC", "DESCRIBE", "DO", "EXECUTE", "EXPLAIN", "GET", "HANDLER", "HELP", "IMPORT",
    "INSERT", "INSTALL", "KILL", "LOAD", "LOCK", "OPTIMIZE", "PREPARE", "PURGE", "RELEASE",
    "REPAIR", "REPLACE", "RESET", "RESIGNAL", "RESTART", "SAVEPOINT", "SHUTDOWN", "SIGNAL", "STOP",
    "TABLE", "TRUNCATE", "UNINSTALL", "UNLOCK", "UPDATE", "VALUES", "WITH", "XA",
];

/// MySQL 8.0 character-set names (for `_charset'string'` introducers).
#[rustfmt::skip]
const CHARSETS: &[&str] = &[
    "ARMSCII8", "ASCII", "BIG5", "BINARY", "CP1250", "CP1251", "CP1256", "CP1257", "CP850", "CP852",
    "CP866", "CP932", "DEC8", "EUCJPMS", "EUCKR", "GB18030", "GB2312", "GBK", "GEOSTD8", "GREEK",
    "HEBREW", "HP8", "KEYBCS2", "KOI8R", "KOI8U", "LATIN1", "LATIN2", "LATIN5", "LATIN7", "MACCE",
    "MACROMAN", "SJIS", "SWE7", "TIS620", "UCS2", "UJIS", "UTF16", "UTF16LE", "UTF32", "UTF8",
    "UTF8MB3", "UTF8MB4",
];

fn contains(list: &[&str], word: &str) -> bool {
    list.iter().any(|k| k.eq_ignore_ascii_case(word))
}

/// A MySQL reserved word: not usable as a bare identifier.
pub(crate) fn is_reserved(word: &str) -> bool {
    contains(MYSQL_RESERVED, word)
}

/// Whether the printer must back-quote `word` even though it is made of identifier characters.
pub(crate) fn needs_quoting(word: &str) -> bool {
    is_reserved(word) || contains(QUOTE_ALSO, word) || is_introducer(word)
}

pub(crate) fn is_reserved_function(word: &str) -> bool {
    contains(RESERVED_FUNCTIONS, word)
}

pub(crate) fn is_no_paren_function(word: &str) -> bool {
    contains(NO_PAREN_FUNCTIONS, word)
}

pub(crate) fn is_other_verb(word: &str) -> bool {
    contains(OTHER_VERBS, word)
}

/// `_utf8mb4`, `_latin1`, `_binary`, …
pub(crate) fn is_introducer(word: &str) -> bool {
    word.strip_prefix('_')
        .is_some_and(|cs| contains(CHARSETS, cs))
}

/// `GLOBAL`, `SESSION`, `LOCAL`, `PERSIST`, `PERSIST_ONLY`.
pub(crate) fn is_scope_word(word: &str) -> bool {
    ["GLOBAL", "SESSION", "LOCAL", "PERSIST", "PERSIST_ONLY"]
        .iter()
        .any(|k| k.eq_ignore_ascii_case(word))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_upper_case_and_consistent() {
        for list in [
            MYSQL_RESERVED,
            QUOTE_ALSO,
            RESERVED_FUNCTIONS,
            NO_PAREN_FUNCTIONS,
            OTHER_VERBS,
            CHARSETS,
        ] {
            for w in list {
                assert_eq!(*w, w.to_ascii_uppercase());
            }
        }
        // Every function usable without parentheses is reserved and callable with them.
        for w in NO_PAREN_FUNCTIONS {
            assert!(is_reserved(w) && is_reserved_function(w), "{w}");
        }
        for w in RESERVED_FUNCTIONS {
            assert!(is_reserved(w), "{w}");
        }
        assert!(is_reserved("select") && !is_reserved("user") && !is_reserved("password"));
        assert!(needs_quoting("Transaction") && needs_quoting("_utf8mb4") && !needs_quoting("_x"));
    }
}
