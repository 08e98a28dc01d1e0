//! Stored `mysql.user.authentication_string` values (docs/protocol.md, "Stored authentication
//! strings"): parsing, encoding, generation of new hashes and full-authentication verification of
//! a cleartext password.
//!
//! Never stores or looks up accounts and never touches the fast-path cache; the caller decides
//! what a parse error means for the account (MySQL logs it and refuses the login).

use std::fmt;

use subtle::ConstantTimeEq;
use zeroize::Zeroize;

use super::sha256_crypt::{self, is_crypt_base64, DIGEST_LEN};
use super::{
    native, salt_from_random, Plugin, DEFAULT_DIGEST_ROUNDS, MAX_DIGEST_ROUNDS, MAX_PASSWORD_LEN,
    MIN_DIGEST_ROUNDS, NONCE_LEN,
};

const SALT_LEN: usize = NONCE_LEN;
/// `$A$RRR$` + 20-byte salt + 43-character digest.
const CACHING_SHA2_LEN: usize = 7 + SALT_LEN + DIGEST_LEN;
/// `*` + 40 hexadecimal digits.
const NATIVE_LEN: usize = 41;
/// `$5$` + 20-byte salt + `$` + 43-character digest.
const SHA256_LEN: usize = 3 + SALT_LEN + 1 + DIGEST_LEN;
/// The stored iteration field counts thousands of rounds (`ITERATION_MULTIPLIER`).
const ROUNDS_UNIT: u32 = 1000;

/// A stored authentication_string, decoded. The variant says which plugin's format it is in; an
/// empty string (no password) is valid for every plugin.
///
/// Equality compares digests and hashes in constant time. `Debug` shows the variant and the round
/// count only. Digests and hashes are wiped when the value is dropped (so fields are read through
/// a reference: `match &s { … }`).
#[derive(Clone)]
#[non_exhaustive]
pub enum AuthString {
    /// Empty authentication_string: the account has no password (any plugin).
    Empty,
    /// caching_sha2_password: `$A$RRR$<salt:20><digest:43>`, 70 bytes. `rounds` is a multiple of
    /// 1000 in 1000..=4 095 000 (what MySQL's parser accepts).
    CachingSha2 {
        /// SHA-256-crypt rounds: `RRR` read as hexadecimal, × 1000.
        rounds: u32,
        /// The 20-byte salt (made like a nonce: no 0x00, no `$`).
        salt: [u8; 20],
        /// The crypt-base64 SHA-256-crypt digest.
        digest: [u8; 43],
    },
    /// mysql_native_password: `*` + 40 hexadecimal digits of `SHA1(SHA1(pw))`.
    Native {
        /// `SHA1(SHA1(pw))`, decoded from the hex digits.
        hash: [u8; 20],
    },
    /// sha256_password: `$5$<salt:20>$<digest:43>` (5000 rounds, no `rounds=` field). The salt is
    /// exactly 20 bytes when parsed (MySQL rejects other lengths as a corrupt salt).
    Sha256 {
        /// The salt (20 bytes when parsed).
        salt: Vec<u8>,
        /// The crypt-base64 SHA-256-crypt digest.
        digest: [u8; 43],
    },
}

/// Why a stored authentication_string cannot be used. MySQL reports all of these alike (it logs a
/// corrupt-string message and the login fails with 1045), so the variants are for logs and tests.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthStringError {
    /// The string has the wrong total length for the plugin's format.
    #[error("{plugin} authentication_string must be {expected} bytes, not {actual}")]
    Length {
        /// The account's plugin.
        plugin: Plugin,
        /// The format's length.
        expected: usize,
        /// The string's.
        actual: usize,
    },
    /// The string does not start with the plugin's marker (`$A$`, `*`, `$5$`).
    #[error("{plugin} authentication_string must start with {expected:?}")]
    Prefix {
        /// The account's plugin.
        plugin: Plugin,
        /// The marker its format starts with.
        expected: &'static str,
    },
    /// The `RRR` field of `$A$RRR$` is not three hexadecimal digits, or is `000`.
    #[error("invalid iteration count in caching_sha2_password authentication_string")]
    Rounds,
    /// A `$` separator is missing where the format requires one.
    #[error("missing '$' separator in {plugin} authentication_string")]
    Separator {
        /// The account's plugin.
        plugin: Plugin,
    },
    /// The sha256_password salt contains 0x00 or `$`, which MySQL could never match.
    #[error("sha256_password salt contains 0x00 or '$'")]
    Salt,
    /// The 43-byte digest has a character outside crypt-base64 (`./0-9A-Za-z`).
    #[error("{plugin} digest is not crypt-base64")]
    Digest {
        /// The account's plugin.
        plugin: Plugin,
    },
    /// The native hash is not 40 hexadecimal digits.
    #[error("mysql_native_password hash is not 40 hexadecimal digits")]
    Hex,
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'A'..=b'F' => Some(c - b'A' + 10),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

fn hex_upper(v: u8) -> u8 {
    b"0123456789ABCDEF"
        .get(usize::from(v & 0x0F))
        .copied()
        .unwrap_or(b'0')
}

fn digest_field(plugin: Plugin, bytes: &[u8]) -> Result<[u8; DIGEST_LEN], AuthStringError> {
    let digest = <[u8; DIGEST_LEN]>::try_from(bytes).map_err(|_| AuthStringError::Length {
        plugin,
        expected: DIGEST_LEN,
        actual: bytes.len(),
    })?;
    if digest.iter().all(|&c| is_crypt_base64(c)) {
        Ok(digest)
    } else {
        Err(AuthStringError::Digest { plugin })
    }
}

fn check_len(plugin: Plugin, bytes: &[u8], expected: usize) -> Result<(), AuthStringError> {
    if bytes.len() == expected {
        Ok(())
    } else {
        Err(AuthStringError::Length {
            plugin,
            expected,
            actual: bytes.len(),
        })
    }
}

/// Rounds for a new `$A$` hash: clamped to MIN..=MAX, then rounded down to a multiple of 1000
/// (the stored field counts thousands).
fn normalize_rounds(rounds: u32) -> u32 {
    rounds.clamp(MIN_DIGEST_ROUNDS, MAX_DIGEST_ROUNDS) / ROUNDS_UNIT * ROUNDS_UNIT
}

/// Rounds MySQL actually runs for a stored `$A$` count: `my_crypt_genhash` falls back to the default
/// (5000) for counts outside MIN..=MAX, e.g. `$A$001$`.
fn effective_rounds(rounds: u32) -> u32 {
    if (MIN_DIGEST_ROUNDS..=MAX_DIGEST_ROUNDS).contains(&rounds) {
        rounds
    } else {
        DEFAULT_DIGEST_ROUNDS
    }
}

impl AuthString {
    /// Decodes a stored string for `plugin`. Total: every input gives a value or an error.
    ///
    /// Stricter than MySQL's own parsers in layout (exact length, marker at offset 0, crypt-base64
    /// digest), which only rejects strings MySQL could never have generated. Hexadecimal digits are
    /// accepted in either case; [`AuthString::to_bytes`] writes uppercase as MySQL does.
    pub fn parse(plugin: Plugin, bytes: &[u8]) -> Result<AuthString, AuthStringError> {
        if bytes.is_empty() {
            return Ok(AuthString::Empty);
        }
        match plugin {
            Plugin::CachingSha2Password => Self::parse_caching_sha2(bytes),
            Plugin::MysqlNativePassword => Self::parse_native(bytes),
            Plugin::Sha256Password => Self::parse_sha256(bytes),
        }
    }

    fn parse_caching_sha2(bytes: &[u8]) -> Result<AuthString, AuthStringError> {
        const PLUGIN: Plugin = Plugin::CachingSha2Password;
        let rest = bytes.strip_prefix(b"$A$").ok_or(AuthStringError::Prefix {
            plugin: PLUGIN,
            expected: "$A$",
        })?;
        check_len(PLUGIN, bytes, CACHING_SHA2_LEN)?;
        let (rounds_field, rest) = rest.split_at_checked(3).ok_or(AuthStringError::Rounds)?;
        let thousands = rounds_field
            .iter()
            .try_fold(0u32, |acc, &c| Some(acc * 16 + u32::from(hex_value(c)?)))
            .ok_or(AuthStringError::Rounds)?;
        if thousands == 0 {
            return Err(AuthStringError::Rounds);
        }
        let rest = rest
            .strip_prefix(b"$")
            .ok_or(AuthStringError::Separator { plugin: PLUGIN })?;
        let (salt, digest) = rest
            .split_at_checked(SALT_LEN)
            .ok_or(AuthStringError::Length {
                plugin: PLUGIN,
                expected: CACHING_SHA2_LEN,
                actual: bytes.len(),
            })?;
        let salt = <[u8; SALT_LEN]>::try_from(salt).map_err(|_| AuthStringError::Length {
            plugin: PLUGIN,
            expected: CACHING_SHA2_LEN,
            actual: bytes.len(),
        })?;
        Ok(AuthString::CachingSha2 {
            // At most 0xFFF × 1000 = MAX_DIGEST_ROUNDS, MySQL's cap.
            rounds: thousands * ROUNDS_UNIT,
            salt,
            digest: digest_field(PLUGIN, digest)?,
        })
    }

    fn parse_native(bytes: &[u8]) -> Result<AuthString, AuthStringError> {
        const PLUGIN: Plugin = Plugin::MysqlNativePassword;
        let hex = bytes.strip_prefix(b"*").ok_or(AuthStringError::Prefix {
            plugin: PLUGIN,
            expected: "*",
        })?;
        check_len(PLUGIN, bytes, NATIVE_LEN)?;
        let mut hash = [0u8; 20];
        for (out, pair) in hash.iter_mut().zip(hex.chunks_exact(2)) {
            let [hi, lo] = pair else {
                return Err(AuthStringError::Hex);
            };
            *out = (hex_value(*hi).ok_or(AuthStringError::Hex)? << 4)
                | hex_value(*lo).ok_or(AuthStringError::Hex)?;
        }
        Ok(AuthString::Native { hash })
    }

    fn parse_sha256(bytes: &[u8]) -> Result<AuthString, AuthStringError> {
        const PLUGIN: Plugin = Plugin::Sha256Password;
        let rest = bytes.strip_prefix(b"$5$").ok_or(AuthStringError::Prefix {
            plugin: PLUGIN,
            expected: "$5$",
        })?;
        check_len(PLUGIN, bytes, SHA256_LEN)?;
        let (salt, rest) = rest
            .split_at_checked(SALT_LEN)
            .ok_or(AuthStringError::Separator { plugin: PLUGIN })?;
        if salt.iter().any(|&b| b == 0 || b == b'$') {
            return Err(AuthStringError::Salt);
        }
        let digest = rest
            .strip_prefix(b"$")
            .ok_or(AuthStringError::Separator { plugin: PLUGIN })?;
        Ok(AuthString::Sha256 {
            salt: salt.to_vec(),
            digest: digest_field(PLUGIN, digest)?,
        })
    }

    /// The stored form, byte-exact as MySQL writes it (`SHOW CREATE USER … AS '…'`).
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            AuthString::Empty => Vec::new(),
            AuthString::CachingSha2 {
                rounds,
                salt,
                digest,
            } => {
                let thousands = rounds / ROUNDS_UNIT;
                let mut out = Vec::with_capacity(CACHING_SHA2_LEN);
                out.extend_from_slice(b"$A$");
                // Three uppercase hex digits; counts above 0xFFF cannot be represented and are cut
                // (parse never produces them).
                for shift in [8u32, 4, 0] {
                    out.push(hex_upper(((thousands >> shift) & 0xF) as u8));
                }
                out.push(b'$');
                out.extend_from_slice(salt);
                out.extend_from_slice(digest);
                out
            }
            AuthString::Native { hash } => {
                let mut out = Vec::with_capacity(NATIVE_LEN);
                out.push(b'*');
                for b in hash {
                    out.push(hex_upper(b >> 4));
                    out.push(hex_upper(*b));
                }
                out
            }
            AuthString::Sha256 { salt, digest } => {
                let mut out = Vec::with_capacity(3 + salt.len() + 1 + DIGEST_LEN);
                out.extend_from_slice(b"$5$");
                out.extend_from_slice(salt);
                out.push(b'$');
                out.extend_from_slice(digest);
                out
            }
        }
    }

    /// A new stored string for `password` under `plugin` (CREATE USER / ALTER USER … IDENTIFIED BY).
    ///
    /// * Empty password → [`AuthString::Empty`] for every plugin (MySQL stores an empty string).
    /// * caching_sha2_password: salt = [`salt_from_random`]`(salt_random)`; `rounds` (the
    ///   `caching_sha2_password_digest_rounds` setting) is clamped to 5000..=4 095 000 and rounded
    ///   down to a multiple of 1000, because the string stores thousands.
    /// * sha256_password: same salt transform, always 5000 rounds (`rounds` is ignored).
    /// * mysql_native_password: `SHA1(SHA1(pw))`; salt and rounds are ignored.
    ///
    /// MySQL refuses to store passwords longer than [`MAX_PASSWORD_LEN`] bytes; the caller must
    /// enforce that before calling (a longer password hashes, slowly, and then never verifies).
    pub fn generate(
        plugin: Plugin,
        password: &[u8],
        salt_random: [u8; 20],
        rounds: u32,
    ) -> AuthString {
        if password.is_empty() {
            return AuthString::Empty;
        }
        match plugin {
            Plugin::CachingSha2Password => {
                let rounds = normalize_rounds(rounds);
                let salt = salt_from_random(salt_random);
                AuthString::CachingSha2 {
                    rounds,
                    salt,
                    digest: sha256_crypt::digest(password, &salt, rounds),
                }
            }
            Plugin::MysqlNativePassword => AuthString::Native {
                hash: native::stored_hash(password),
            },
            Plugin::Sha256Password => {
                let salt = salt_from_random(salt_random);
                AuthString::Sha256 {
                    digest: sha256_crypt::digest(password, &salt, DEFAULT_DIGEST_ROUNDS),
                    salt: salt.to_vec(),
                }
            }
        }
    }

    /// Full-authentication check of a cleartext password (TLS / Unix socket / after RSA), digests
    /// compared in constant time.
    ///
    /// * [`AuthString::Empty`] matches only the empty password; a non-empty string never matches
    ///   the empty password (MySQL: "empty password at this point → failure").
    /// * `$A$`: SHA-256-crypt with the string's own salt and rounds (counts outside 5000..=4 095 000
    ///   run 5000 rounds, as in MySQL); passwords over [`MAX_PASSWORD_LEN`] bytes fail, as in MySQL.
    /// * `$5$`: SHA-256-crypt, 5000 rounds, same length limit.
    /// * `*HEX`: `SHA1(SHA1(pw))` against the stored hash.
    ///
    /// For caching_sha2 accounts the caller then caches
    /// [`crate::auth::caching_sha2::cached_digest`]`(password)`.
    pub fn verify_cleartext(&self, password: &[u8]) -> bool {
        match self {
            AuthString::Empty => password.is_empty(),
            _ if password.is_empty() => false,
            AuthString::CachingSha2 {
                rounds,
                salt,
                digest,
            } => {
                password.len() <= MAX_PASSWORD_LEN
                    && sha256_crypt::digest(password, salt, effective_rounds(*rounds))
                        .ct_eq(digest)
                        .into()
            }
            AuthString::Sha256 { salt, digest } => {
                password.len() <= MAX_PASSWORD_LEN
                    && sha256_crypt::digest(password, salt, DEFAULT_DIGEST_ROUNDS)
                        .ct_eq(digest)
                        .into()
            }
            AuthString::Native { hash } => native::stored_hash(password).ct_eq(hash).into(),
        }
    }

    /// True for the empty string (account without password).
    pub fn is_empty(&self) -> bool {
        matches!(self, AuthString::Empty)
    }

    /// The plugin whose format this is; `None` for [`AuthString::Empty`], which fits them all.
    pub fn plugin(&self) -> Option<Plugin> {
        match self {
            AuthString::Empty => None,
            AuthString::CachingSha2 { .. } => Some(Plugin::CachingSha2Password),
            AuthString::Native { .. } => Some(Plugin::MysqlNativePassword),
            AuthString::Sha256 { .. } => Some(Plugin::Sha256Password),
        }
    }

    /// Can an account whose `plugin` column is `plugin` carry this string? The empty string fits
    /// every plugin; the others only their own (MySQL validates the hash format per plugin).
    pub fn plugin_matches(&self, plugin: Plugin) -> bool {
        self.plugin().is_none_or(|p| p == plugin)
    }
}

impl PartialEq for AuthString {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (AuthString::Empty, AuthString::Empty) => true,
            (
                AuthString::CachingSha2 {
                    rounds: r1,
                    salt: s1,
                    digest: d1,
                },
                AuthString::CachingSha2 {
                    rounds: r2,
                    salt: s2,
                    digest: d2,
                },
            ) => r1 == r2 && s1 == s2 && bool::from(d1.ct_eq(d2)),
            (AuthString::Native { hash: h1 }, AuthString::Native { hash: h2 }) => {
                h1.ct_eq(h2).into()
            }
            (
                AuthString::Sha256 {
                    salt: s1,
                    digest: d1,
                },
                AuthString::Sha256 {
                    salt: s2,
                    digest: d2,
                },
            ) => s1 == s2 && bool::from(d1.ct_eq(d2)),
            _ => false,
        }
    }
}

impl Eq for AuthString {}

impl fmt::Debug for AuthString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthString::Empty => f.write_str("Empty"),
            AuthString::CachingSha2 { rounds, .. } => f
                .debug_struct("CachingSha2")
                .field("rounds", rounds)
                .finish_non_exhaustive(),
            AuthString::Native { .. } => f.debug_struct("Native").finish_non_exhaustive(),
            AuthString::Sha256 { .. } => f.debug_struct("Sha256").finish_non_exhaustive(),
        }
    }
}

impl Drop for AuthString {
    fn drop(&mut self) {
        match self {
            AuthString::Empty => {}
            AuthString::CachingSha2 { digest, .. } | AuthString::Sha256 { digest, .. } => {
                digest.zeroize();
            }
            AuthString::Native { hash } => hash.zeroize(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Equality (used to tell whether an account still has the string a full authentication
    /// verified) looks at every part: rounds, salt and digest.
    #[test]
    fn equality_compares_every_part() {
        let salt = salt_from_random([1; 20]);
        let other_salt = salt_from_random([2; 20]);
        let sha256 = |salt: [u8; 20], d: u8| AuthString::Sha256 {
            salt: salt.to_vec(),
            digest: [d; 43],
        };
        assert_eq!(sha256(salt, 1), sha256(salt, 1));
        assert_ne!(sha256(salt, 1), sha256(salt, 2));
        assert_ne!(sha256(salt, 1), sha256(other_salt, 1));
        let sha2 = |rounds: u32, salt: [u8; 20], d: u8| AuthString::CachingSha2 {
            rounds,
            salt,
            digest: [d; 43],
        };
        assert_eq!(sha2(5000, salt, 1), sha2(5000, salt, 1));
        assert_ne!(sha2(5000, salt, 1), sha2(6000, salt, 1));
        assert_ne!(sha2(5000, salt, 1), sha2(5000, other_salt, 1));
        assert_ne!(sha2(5000, salt, 1), sha2(5000, salt, 2));
        assert_ne!(sha2(5000, salt, 1), sha256(salt, 1));
        let native = |h: u8| AuthString::Native { hash: [h; 20] };
        assert_eq!(native(1), native(1));
        assert_ne!(native(1), native(2));
        assert_ne!(native(1), AuthString::Empty);
        assert_eq!(AuthString::Empty, AuthString::Empty);
    }

    /// A stored hash of the empty password (imported with `IDENTIFIED … AS`) still never lets the
    /// empty password in: MySQL fails an empty password against any non-empty string.
    #[test]
    fn the_empty_password_never_matches_a_hash_of_it() {
        let salt = salt_from_random([9; 20]);
        let rounds = normalize_rounds(DEFAULT_DIGEST_ROUNDS);
        let sha2 = AuthString::CachingSha2 {
            rounds,
            salt,
            digest: sha256_crypt::digest(b"", &salt, rounds),
        };
        let native = AuthString::Native {
            hash: native::stored_hash(b""),
        };
        assert!(!sha2.verify_cleartext(b""));
        assert!(!native.verify_cleartext(b""));
        assert!(AuthString::Empty.verify_cleartext(b""));
    }

    const V3_HEX: &str = "24412430303524031A69251C34295C4B35167C7F1E5A7B63091349503974624D34504B5A424679354856336868686F52485A736E4A733368786E427575516C73446469496537";
    const V4: &[u8] = b"$A$005$abcdefghijklmnopqrstYy1cVJ5jT.fk4HyAGlowRhOkI55As4SAesbspXHQvFD";
    const V5: &[u8] = b"$A$006$abcdefghijklmnopqrstT03mRnoxDci2w4OWCimVuppPMGpCLlUZuxqTYXAXyW2";
    const SECRET_NATIVE: &[u8] = b"*14E65567ABDB5135D0CFD9A70B3032C179A49EE7";

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn vector_v3_mysql_generated() {
        let bytes = unhex(V3_HEX);
        let parsed = AuthString::parse(Plugin::CachingSha2Password, &bytes).unwrap();
        let AuthString::CachingSha2 {
            rounds,
            salt,
            digest,
        } = &parsed
        else {
            panic!("wrong variant: {parsed:?}");
        };
        assert_eq!(*rounds, 5000);
        assert_eq!(
            salt,
            &[
                0x03, 0x1a, 0x69, 0x25, 0x1c, 0x34, 0x29, 0x5c, 0x4b, 0x35, 0x16, 0x7c, 0x7f, 0x1e,
                0x5a, 0x7b, 0x63, 0x09, 0x13, 0x49
            ]
        );
        assert_eq!(digest, b"P9tbM4PKZBFy5HV3hhhoRHZsnJs3hxnBuuQlsDdiIe7");
        assert!(parsed.verify_cleartext(b"foobar"));
        assert!(!parsed.verify_cleartext(b"foobaR"));
        assert!(!parsed.verify_cleartext(b""));
        assert_eq!(parsed.to_bytes(), bytes);
    }

    #[test]
    fn vectors_v4_v5_strings() {
        let raw_salt: [u8; 20] = *b"abcdefghijklmnopqrst";
        let v4 = AuthString::generate(Plugin::CachingSha2Password, b"secret", raw_salt, 5000);
        assert_eq!(v4.to_bytes(), V4);
        let v5 = AuthString::generate(Plugin::CachingSha2Password, b"secret", raw_salt, 6000);
        assert_eq!(v5.to_bytes(), V5);
        // High bits in the raw salt are cleared, so this generates the same string.
        let mut high = raw_salt;
        high.iter_mut().for_each(|b| *b |= 0x80);
        assert_eq!(
            AuthString::generate(Plugin::CachingSha2Password, b"secret", high, 5000).to_bytes(),
            V4
        );
        for s in [V4, V5] {
            let parsed = AuthString::parse(Plugin::CachingSha2Password, s).unwrap();
            assert!(parsed.verify_cleartext(b"secret"));
            assert!(!parsed.verify_cleartext(b"secret2"));
            assert_eq!(parsed.to_bytes(), s);
        }
    }

    #[test]
    fn rounds_are_normalized_for_new_hashes() {
        assert_eq!(normalize_rounds(0), 5000);
        assert_eq!(normalize_rounds(5999), 5000);
        assert_eq!(normalize_rounds(6000), 6000);
        assert_eq!(normalize_rounds(u32::MAX), 4_095_000);
        let s = AuthString::generate(Plugin::CachingSha2Password, b"pw", [7; 20], 5999);
        assert!(s.to_bytes().starts_with(b"$A$005$"));
    }

    #[test]
    fn low_stored_rounds_run_5000_like_mysql() {
        // "$A$001$" + V4's salt and digest: MySQL computes 5000 rounds for counts below the minimum.
        let mut s = V4.to_vec();
        s[3..6].copy_from_slice(b"001");
        let parsed = AuthString::parse(Plugin::CachingSha2Password, &s).unwrap();
        assert!(matches!(
            parsed,
            AuthString::CachingSha2 { rounds: 1000, .. }
        ));
        assert!(parsed.verify_cleartext(b"secret"));
        assert_eq!(effective_rounds(4_095_000), 4_095_000);
        assert_eq!(effective_rounds(4000), 5000);
    }

    #[test]
    fn rounds_field_hex_and_limits() {
        let with = |field: &[u8]| {
            let mut s = V4.to_vec();
            s[3..6].copy_from_slice(field);
            AuthString::parse(Plugin::CachingSha2Password, &s)
        };
        assert!(matches!(
            with(b"00A"),
            Ok(AuthString::CachingSha2 { rounds: 10_000, .. })
        ));
        assert!(matches!(
            with(b"00a"),
            Ok(AuthString::CachingSha2 { rounds: 10_000, .. })
        ));
        assert!(matches!(
            with(b"FFF"),
            Ok(AuthString::CachingSha2 {
                rounds: 4_095_000,
                ..
            })
        ));
        assert_eq!(with(b"000"), Err(AuthStringError::Rounds));
        assert_eq!(with(b"00G"), Err(AuthStringError::Rounds));
        assert_eq!(with(b" 05"), Err(AuthStringError::Rounds));
        // Lowercase re-encodes as uppercase.
        assert!(with(b"00a").unwrap().to_bytes().starts_with(b"$A$00A$"));
    }

    #[test]
    fn caching_sha2_parse_errors() {
        let p = Plugin::CachingSha2Password;
        assert_eq!(
            AuthString::parse(p, &V4[..69]),
            Err(AuthStringError::Length {
                plugin: p,
                expected: 70,
                actual: 69
            })
        );
        assert!(matches!(
            AuthString::parse(p, SECRET_NATIVE),
            Err(AuthStringError::Prefix { .. })
        ));
        let mut s = V4.to_vec();
        s[6] = b'x';
        assert_eq!(
            AuthString::parse(p, &s),
            Err(AuthStringError::Separator { plugin: p })
        );
        let mut s = V4.to_vec();
        s[69] = b'!';
        assert_eq!(
            AuthString::parse(p, &s),
            Err(AuthStringError::Digest { plugin: p })
        );
        // Salt bytes are not restricted for $A$ (MySQL stores and compares them as bytes).
        let mut s = V4.to_vec();
        s[7] = 0;
        s[8] = b'$';
        s[9] = 0xFF;
        assert!(AuthString::parse(p, &s).is_ok());
    }

    #[test]
    fn system_account_placeholder_parses_but_never_matches() {
        let s = b"$A$005$THISISACOMBINATIONOFINVALIDSALTANDPASSWORDTHATMUSTNEVERBRBEUSED";
        let parsed = AuthString::parse(Plugin::CachingSha2Password, s).unwrap();
        assert!(!parsed.verify_cleartext(b""));
        assert!(!parsed.verify_cleartext(b"password"));
        assert_eq!(parsed.to_bytes(), s);
    }

    #[test]
    fn native_example() {
        let parsed = AuthString::parse(Plugin::MysqlNativePassword, SECRET_NATIVE).unwrap();
        assert_eq!(
            parsed,
            AuthString::Native {
                hash: native::stored_hash(b"secret")
            }
        );
        assert!(parsed.verify_cleartext(b"secret"));
        assert!(!parsed.verify_cleartext(b"Secret"));
        assert!(!parsed.verify_cleartext(b""));
        assert_eq!(parsed.to_bytes(), SECRET_NATIVE);
        let generated = AuthString::generate(Plugin::MysqlNativePassword, b"secret", [0; 20], 0);
        assert_eq!(generated.to_bytes(), SECRET_NATIVE);
        // Lowercase hex is accepted and re-encoded uppercase.
        let lower = SECRET_NATIVE.to_ascii_lowercase();
        assert_eq!(
            AuthString::parse(Plugin::MysqlNativePassword, &lower).unwrap(),
            parsed
        );
        let mut bad = SECRET_NATIVE.to_vec();
        bad[40] = b'G';
        assert_eq!(
            AuthString::parse(Plugin::MysqlNativePassword, &bad),
            Err(AuthStringError::Hex)
        );
        assert!(matches!(
            AuthString::parse(Plugin::MysqlNativePassword, b"*14E6"),
            Err(AuthStringError::Length { .. })
        ));
        // Pre-4.1 16-digit hashes are not supported (MySQL 8 neither).
        assert!(AuthString::parse(Plugin::MysqlNativePassword, b"6f8c114b58f2ce9e").is_err());
    }

    #[test]
    fn sha256_password_strings() {
        // MySQL's sha256_password runs the same my_crypt_genhash with its default 5000 rounds, so a
        // $5$ string with V4's salt carries V4's digest.
        let s = b"$5$abcdefghijklmnopqrst$Yy1cVJ5jT.fk4HyAGlowRhOkI55As4SAesbspXHQvFD";
        let parsed = AuthString::parse(Plugin::Sha256Password, s).unwrap();
        assert!(parsed.verify_cleartext(b"secret"));
        assert!(!parsed.verify_cleartext(b"secre"));
        assert_eq!(parsed.to_bytes(), s);
        let generated = AuthString::generate(
            Plugin::Sha256Password,
            b"secret",
            *b"abcdefghijklmnopqrst",
            9000,
        );
        assert_eq!(generated.to_bytes(), s);

        let p = Plugin::Sha256Password;
        let mut bad = s.to_vec();
        bad[5] = b'$';
        assert_eq!(AuthString::parse(p, &bad), Err(AuthStringError::Salt));
        bad[5] = 0;
        assert_eq!(AuthString::parse(p, &bad), Err(AuthStringError::Salt));
        let mut bad = s.to_vec();
        bad[23] = b'x';
        assert_eq!(
            AuthString::parse(p, &bad),
            Err(AuthStringError::Separator { plugin: p })
        );
        // A 16-byte glibc salt is the wrong length for MySQL.
        assert!(matches!(
            AuthString::parse(
                p,
                b"$5$saltstringsaltst$a5C8Ofk71MUIoKve2QuP9FMl.dwNgseF5tR1LGAL7iB"
            ),
            Err(AuthStringError::Length {
                expected: 67,
                actual: 63,
                ..
            })
        ));
        assert!(matches!(
            AuthString::parse(p, V4),
            Err(AuthStringError::Prefix { .. })
        ));
    }

    #[test]
    fn empty_string_and_empty_password() {
        for p in Plugin::ALL {
            let e = AuthString::parse(p, b"").unwrap();
            assert!(e.is_empty());
            assert!(e.plugin_matches(p));
            assert!(e.verify_cleartext(b""));
            assert!(!e.verify_cleartext(b"x"));
            assert!(e.to_bytes().is_empty());
            assert_eq!(
                AuthString::generate(p, b"", [1; 20], 5000),
                AuthString::Empty
            );
        }
    }

    #[test]
    fn overlong_password_never_verifies() {
        let long = vec![b'a'; MAX_PASSWORD_LEN + 1];
        let s = AuthString::parse(Plugin::CachingSha2Password, V4).unwrap();
        assert!(!s.verify_cleartext(&long));
        let ok_len = vec![b'a'; MAX_PASSWORD_LEN];
        let generated = AuthString::generate(Plugin::CachingSha2Password, &ok_len, [3; 20], 5000);
        assert!(generated.verify_cleartext(&ok_len));
    }

    #[test]
    fn plugin_matching() {
        let v4 = AuthString::parse(Plugin::CachingSha2Password, V4).unwrap();
        assert!(v4.plugin_matches(Plugin::CachingSha2Password));
        assert!(!v4.plugin_matches(Plugin::Sha256Password));
        assert!(!v4.plugin_matches(Plugin::MysqlNativePassword));
        assert_eq!(v4.plugin(), Some(Plugin::CachingSha2Password));
        assert_eq!(AuthString::Empty.plugin(), None);
    }

    #[test]
    fn debug_hides_digests() {
        let v4 = AuthString::parse(Plugin::CachingSha2Password, V4).unwrap();
        let shown = format!("{v4:?}");
        assert_eq!(shown, "CachingSha2 { rounds: 5000, .. }");
        let native = AuthString::parse(Plugin::MysqlNativePassword, SECRET_NATIVE).unwrap();
        assert_eq!(format!("{native:?}"), "Native { .. }");
        assert!(!format!("{:?}", AuthStringError::Hex).is_empty());
        assert_eq!(
            AuthStringError::Rounds.to_string(),
            "invalid iteration count in caching_sha2_password authentication_string"
        );
    }

    fn arb_digest() -> impl Strategy<Value = [u8; 43]> {
        proptest::array::uniform::<_, 43>(proptest::sample::select(
            b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".to_vec(),
        ))
    }

    fn arb_auth_string() -> impl Strategy<Value = AuthString> {
        prop_oneof![
            Just(AuthString::Empty),
            (1u32..=0xFFF, any::<[u8; 20]>(), arb_digest()).prop_map(|(k, salt, digest)| {
                AuthString::CachingSha2 {
                    rounds: k * 1000,
                    salt,
                    digest,
                }
            }),
            any::<[u8; 20]>().prop_map(|hash| AuthString::Native { hash }),
            (any::<[u8; 20]>(), arb_digest()).prop_map(|(raw, digest)| AuthString::Sha256 {
                salt: salt_from_random(raw).to_vec(),
                digest,
            }),
        ]
    }

    proptest! {
        #[test]
        fn parse_to_bytes_round_trip(s in arb_auth_string()) {
            let plugin = s.plugin().unwrap_or(Plugin::CachingSha2Password);
            let bytes = s.to_bytes();
            prop_assert_eq!(AuthString::parse(plugin, &bytes), Ok(s.clone()));
            // A non-empty string only parses for its own plugin.
            for other in Plugin::ALL {
                if !s.is_empty() && other != plugin {
                    prop_assert!(AuthString::parse(other, &bytes).is_err());
                }
            }
        }

        #[test]
        fn parse_is_total(plugin in proptest::sample::select(Plugin::ALL.to_vec()),
                          bytes in proptest::collection::vec(any::<u8>(), 0..100)) {
            if let Ok(s) = AuthString::parse(plugin, &bytes) {
                prop_assert!(s.plugin_matches(plugin));
                prop_assert_eq!(AuthString::parse(plugin, &s.to_bytes()), Ok(s));
            }
        }

        #[test]
        fn parse_is_total_near_valid(plugin in proptest::sample::select(Plugin::ALL.to_vec()),
                                     base in proptest::sample::select(vec![V4, V5, SECRET_NATIVE]),
                                     pos in any::<proptest::sample::Index>(),
                                     byte in any::<u8>(),
                                     cut in proptest::option::of(any::<proptest::sample::Index>())) {
            let mut bytes = base.to_vec();
            let i = pos.index(bytes.len());
            bytes[i] = byte;
            if let Some(cut) = cut {
                bytes.truncate(cut.index(bytes.len()));
            }
            crate::auth::fuzz_auth_string(&bytes);
            let _ = AuthString::parse(plugin, &bytes);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(12))]

        #[test]
        fn generate_then_verify(
            plugin in proptest::sample::select(Plugin::ALL.to_vec()),
            password in proptest::collection::vec(any::<u8>(), 1..48),
            other in proptest::collection::vec(any::<u8>(), 0..48),
            salt in any::<[u8; 20]>(),
            rounds in 0u32..12_000,
        ) {
            let s = AuthString::generate(plugin, &password, salt, rounds);
            prop_assert!(s.plugin_matches(plugin));
            prop_assert!(!s.is_empty());
            prop_assert!(s.verify_cleartext(&password));
            if other != password {
                prop_assert!(!s.verify_cleartext(&other));
            }
            let reparsed = AuthString::parse(plugin, &s.to_bytes()).unwrap();
            prop_assert!(reparsed.verify_cleartext(&password));
            if let AuthString::CachingSha2 { rounds: r, salt: st, .. } = &s {
                prop_assert_eq!(*r, rounds.clamp(5000, 4_095_000) / 1000 * 1000);
                prop_assert_eq!(st, &salt_from_random(salt));
            }
        }
    }
}
