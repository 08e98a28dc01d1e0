//! Authentication math for MySQL's password plugins: `caching_sha2_password`, `mysql_native_password`
//! and `sha256_password`.
//!
//! This module owns the nonce ("scramble") type, the client scramble formulas and their server-side
//! checks, SHA-256-crypt as MySQL computes it, the RSA-path obfuscation (XOR with the nonce) and the
//! stored `authentication_string` formats. It never does I/O, never draws random numbers (callers pass
//! raw CSPRNG output in), never performs RSA (the server decrypts; this module only undoes the XOR) and
//! never decides protocol flow: which packet comes next is the handshake machine's business.
//!
//! Secrets — passwords, `SHA256(SHA256(pw))`, stored digests — are compared with
//! [`subtle::ConstantTimeEq`], held in [`zeroize`] types where this module creates them, and never
//! printed by `Debug`.

mod auth_string;
pub mod caching_sha2;
pub mod native;
mod nonce;
pub mod sha256_crypt;

pub use auth_string::{AuthString, AuthStringError};
pub use nonce::{
    obfuscate_password_for_rsa, password_from_rsa_plaintext, salt_from_random, xor_with_nonce,
    Nonce, NONCE_LEN,
};

use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// `caching_sha2_password_digest_rounds` default (MySQL: 5000).
pub const DEFAULT_DIGEST_ROUNDS: u32 = 5000;
/// `caching_sha2_password_digest_rounds` minimum (MySQL: 5000).
pub const MIN_DIGEST_ROUNDS: u32 = 5000;
/// `caching_sha2_password_digest_rounds` maximum: `FFF` × 1000 (MySQL: 4 095 000).
pub const MAX_DIGEST_ROUNDS: u32 = 4_095_000;
/// Longest password MySQL hashes with SHA-256-crypt (`CACHING_SHA2_PASSWORD_MAX_PASSWORD_LENGTH`,
/// 256). Longer passwords never verify against a `$A$`/`$5$` string. Step 4 of the algorithm hashes
/// `len(pw)²` bytes, so this bound is also what keeps a hostile password from costing minutes.
pub const MAX_PASSWORD_LEN: usize = 256;

/// The three password plugins Vestibule speaks, named as in `mysql.user.plugin`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Plugin {
    /// `caching_sha2_password`: MySQL 8's default; fast path via the server cache.
    CachingSha2Password,
    /// `mysql_native_password`: SHA-1 challenge–response (disabled by default in MySQL 8.4).
    MysqlNativePassword,
    /// `sha256_password`: deprecated; cleartext over TLS or RSA, no cache.
    Sha256Password,
}

impl Plugin {
    /// Every plugin, in a stable order.
    pub const ALL: [Plugin; 3] = [
        Plugin::CachingSha2Password,
        Plugin::MysqlNativePassword,
        Plugin::Sha256Password,
    ];

    /// The plugin name as it appears on the wire (HandshakeV10, AuthSwitchRequest) and in `mysql.user`.
    pub fn name(self) -> &'static str {
        match self {
            Plugin::CachingSha2Password => "caching_sha2_password",
            Plugin::MysqlNativePassword => "mysql_native_password",
            Plugin::Sha256Password => "sha256_password",
        }
    }

    /// Exact, case-sensitive match on the name a client sent (MySQL compares plugin names byte-wise).
    pub fn from_name(name: &[u8]) -> Option<Plugin> {
        Plugin::ALL
            .into_iter()
            .find(|p| p.name().as_bytes() == name)
    }
}

impl std::fmt::Display for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// `SHA256(SHA256(password))`: the value MySQL's caching_sha2_password keeps in its server cache and
/// checks fast-path scrambles against. Zeroized on drop, compared in constant time, never printed.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct CachedDigest([u8; 32]);

impl CachedDigest {
    /// Wraps a digest computed elsewhere (an embedder's own cache, tests).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        CachedDigest(bytes)
    }

    /// The 32 digest bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl PartialEq for CachedDigest {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for CachedDigest {}

impl std::fmt::Debug for CachedDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CachedDigest(<redacted>)")
    }
}

/// Fuzz body for stored `authentication_string` parsing.
///
/// Parses `data` as the string of every plugin; whatever parses must survive
/// `parse(to_bytes(x)) == x`, must claim the plugin it was parsed for, and must re-encode to the
/// length MySQL stores. Unlike the rest of the core this function **panics** when one of those
/// invariants is violated: that is how a fuzzer (and the corpus-replay test) notices the bug. It
/// never panics for any input on which [`AuthString::parse`] and [`AuthString::to_bytes`] are
/// correct.
#[allow(clippy::panic)] // Panicking on a broken invariant is this function's purpose.
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub fn fuzz_auth_string(data: &[u8]) {
    for plugin in Plugin::ALL {
        let Ok(parsed) = AuthString::parse(plugin, data) else {
            continue;
        };
        assert!(
            parsed.plugin_matches(plugin),
            "parsed string claims another plugin"
        );
        let encoded = parsed.to_bytes();
        let expected_len = match &parsed {
            AuthString::Empty => 0,
            AuthString::CachingSha2 { .. } => 70,
            AuthString::Native { .. } => 41,
            AuthString::Sha256 { .. } => 67,
        };
        assert_eq!(encoded.len(), expected_len, "re-encoded length");
        match AuthString::parse(plugin, &encoded) {
            Ok(again) => assert!(again == parsed, "parse(to_bytes(x)) != x"),
            Err(e) => panic!("re-encoded string does not parse: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SHOW CREATE USER and the logs print plugins by their MySQL names; digests never show.
    #[test]
    fn plugins_display_their_names_and_digests_are_redacted() {
        assert_eq!(
            Plugin::CachingSha2Password.to_string(),
            "caching_sha2_password"
        );
        assert_eq!(Plugin::Sha256Password.to_string(), "sha256_password");
        assert_eq!(
            Plugin::MysqlNativePassword.to_string(),
            "mysql_native_password"
        );
        assert_eq!(
            format!("{:?}", CachedDigest::from_bytes([0xab; 32])),
            "CachedDigest(<redacted>)"
        );
    }

    #[test]
    fn plugin_names_round_trip() {
        for p in Plugin::ALL {
            assert_eq!(Plugin::from_name(p.name().as_bytes()), Some(p));
        }
        assert_eq!(
            Plugin::from_name(b"caching_sha2_password"),
            Some(Plugin::CachingSha2Password)
        );
        assert_eq!(Plugin::from_name(b"CACHING_SHA2_PASSWORD"), None);
        assert_eq!(Plugin::from_name(b"caching_sha2_password\0"), None);
        assert_eq!(Plugin::from_name(b""), None);
        assert_eq!(Plugin::from_name(b"mysql_clear_password"), None);
    }

    #[test]
    fn cached_digest_debug_is_redacted_and_eq_works() {
        let a = CachedDigest::from_bytes([0xAB; 32]);
        let b = CachedDigest::from_bytes([0xAB; 32]);
        let mut c_bytes = [0xAB; 32];
        c_bytes[31] = 0xAC;
        let c = CachedDigest::from_bytes(c_bytes);
        assert_eq!(a, b);
        assert_ne!(a, c);
        let shown = format!("{a:?}");
        assert!(!shown.to_lowercase().contains("ab"), "{shown}");
        assert_eq!(a.as_bytes(), &[0xAB; 32]);
    }

    #[test]
    fn fuzz_body_accepts_known_strings_and_garbage() {
        fuzz_auth_string(b"");
        fuzz_auth_string(b"*14E65567ABDB5135D0CFD9A70B3032C179A49EE7");
        fuzz_auth_string(b"*14e65567abdb5135d0cfd9a70b3032c179a49ee7");
        fuzz_auth_string(b"$A$005$abcdefghijklmnopqrstYy1cVJ5jT.fk4HyAGlowRhOkI55As4SAesbspXHQvFD");
        fuzz_auth_string(b"\xff\x00$A$5$");
    }

    proptest::proptest! {
        #[test]
        fn fuzz_body_never_panics(data in proptest::collection::vec(proptest::num::u8::ANY, 0..100)) {
            fuzz_auth_string(&data);
        }
    }
}
