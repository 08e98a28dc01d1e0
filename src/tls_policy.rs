//! TLS policy rules as MySQL 8.0 states them (docs/protocol.md, "TLS versions and cipher
//! suites"): the `tls_version` list, the `ssl_cipher` / `tls_ciphersuites` lists, the names
//! `Ssl_cipher` / `Ssl_cipher_list` report, and a prediction of which version and cipher suite a
//! handshake ends with.
//!
//! Owns: parsing and validating the three variables, the mapping between IANA cipher-suite codes
//! and the names MySQL shows, and [`predict`], a model of the server side of rustls 0.23's
//! negotiation. Never does: build a TLS configuration (the server does that from the decisions
//! made here, by IANA `u16` code), import rustls, or any I/O.
//!
//! # `tls_version`
//!
//! Order of the two `tls_version` rules (a deliberate choice; MySQL documents the first rule but
//! never enforces it): **holes are checked first, on the list as written**, over the four versions
//! MySQL has ever known (TLSv1, TLSv1.1, TLSv1.2, TLSv1.3); **then** versions the TLS library
//! cannot do (TLSv1, TLSv1.1 with rustls) are dropped with a warning. So `TLSv1.1,TLSv1.3` is
//! rejected (hole: TLSv1.2) and `TLSv1.1,TLSv1.2` becomes `TLSv1.2` with a warning.
//!
//! # `ssl_cipher` and `tls_ciphersuites`
//!
//! Both lists keep the **configured order** (first occurrence wins for duplicates), as OpenSSL does
//! with an explicit list; unset means MySQL's default list in MySQL's order ([`SUITES`]). The
//! order only decides the suite when the server prefers its own order
//! ([`TlsPolicy::prefer_server_order`]) and is what `Ssl_cipher_list` shows.
//! Only suites rustls's aws-lc-rs provider implements survive ([`SUITES`]); see
//! [`parse_ssl_cipher`] for what happens to every other kind of name.
//!
//! # Negotiation, rustls vs. the MySQL manual
//!
//! [`predict`] follows what rustls 0.23 does (checked by `tests/tls_differential.rs` against real
//! in-memory handshakes), which differs from the manual's rule ("the highest version both permit
//! for which a compatible cipher both permit exists") in these places:
//!
//! * **No fallback from TLS 1.3.** rustls picks the version before looking at suites
//!   (`server/hs.rs`, `with_certified_key`): TLS 1.3 whenever the client offers it and the server
//!   enables it. If the two share no TLS 1.3 suite the handshake fails (`NoCipherSuitesInCommon`)
//!   even when a TLS 1.2 suite is common. The manual says TLSv1.2 would be used; OpenSSL is believed
//!   to fail like rustls, unconfirmed against a live server (docs/protocol.md, "TLS versions and
//!   cipher suites").
//! * **A version counts as enabled only if a suite for it is configured** (`ServerConfig::
//!   supports_version`), so an empty `tls_ciphersuites` makes TLS 1.3 impossible, as in MySQL. The
//!   certificate's key type is *not* considered: TLS 1.2 with only ECDSA suites and an RSA
//!   certificate is still chosen, then fails.
//! * **Whose order picks the suite.** rustls's default (`ignore_client_order = false`) is the
//!   client's preference order. MySQL 8.0-era `vio/viosslfactories.cc` (as in forks based on
//!   8.0.32) never sets `SSL_OP_CIPHER_SERVER_PREFERENCE`, so OpenSSL also follows the client;
//!   current mysql-server sources set it on the server context (server order). The manual only
//!   says the library picks "the one … that has the highest priority".
//!   [`TlsPolicy::prefer_server_order`] selects between the two; it must equal the rustls
//!   `ServerConfig::ignore_client_order` the server builds.
//! * **TLS 1.3 default order.** The manual says MySQL uses the library's default TLS 1.3 list
//!   (OpenSSL: AES-256-GCM, CHACHA20, AES-128-GCM); MySQL's `include/tls_ciphers.h`
//!   (`default_tls13_ciphers`) sets AES-128-GCM, AES-256-GCM, CHACHA20, AES-128-CCM. [`SUITES`]
//!   follows the source.

use std::fmt;

/// A TLS protocol version MySQL knows by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TlsVersion {
    /// `TLSv1`: counts for the hole rule, then dropped (rustls cannot do it).
    V1_0,
    /// `TLSv1.1`: likewise.
    V1_1,
    /// `TLSv1.2`.
    V1_2,
    /// `TLSv1.3`.
    V1_3,
}

impl TlsVersion {
    /// Every version, ascending (the order a `tls_version` hole is looked for in).
    pub const ALL: [TlsVersion; 4] = [
        TlsVersion::V1_0,
        TlsVersion::V1_1,
        TlsVersion::V1_2,
        TlsVersion::V1_3,
    ];

    /// MySQL's spelling (`Ssl_version`, `tls_version`).
    pub fn name(self) -> &'static str {
        match self {
            TlsVersion::V1_0 => "TLSv1",
            TlsVersion::V1_1 => "TLSv1.1",
            TlsVersion::V1_2 => "TLSv1.2",
            TlsVersion::V1_3 => "TLSv1.3",
        }
    }

    /// The version MySQL's name `s` denotes, case-insensitively and ignoring surrounding space.
    pub fn from_name(s: &str) -> Option<TlsVersion> {
        TlsVersion::ALL
            .into_iter()
            .find(|v| v.name().eq_ignore_ascii_case(s.trim()))
    }

    /// Versions rustls implements.
    pub fn supported(self) -> bool {
        matches!(self, TlsVersion::V1_2 | TlsVersion::V1_3)
    }
}

/// Why a `tls_version` value is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TlsVersionError {
    /// An entry that names no TLS version.
    #[error("unknown TLS version '{0}' in tls_version")]
    Unknown(String),
    /// The list skips a version between two it names (`TLSv1.1,TLSv1.3`), which MySQL refuses.
    #[error("tls_version '{list}' has a hole: {missing} is missing between the versions listed")]
    Hole {
        /// The value as given.
        list: String,
        /// The first version missing.
        missing: &'static str,
    },
}

/// Result of parsing a `tls_version` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsVersions {
    /// Enabled and supported versions, ascending. Empty: TLS is disabled.
    pub enabled: Vec<TlsVersion>,
    /// Versions listed but dropped because the TLS library cannot do them.
    pub dropped: Vec<TlsVersion>,
}

/// Parses a comma-separated, case-insensitive `tls_version` list (see the module doc for the rule
/// order). The empty string is valid and means "TLS disabled".
pub fn parse_tls_versions(list: &str) -> Result<TlsVersions, TlsVersionError> {
    let mut listed = Vec::new();
    for tok in list.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        let v =
            TlsVersion::from_name(tok).ok_or_else(|| TlsVersionError::Unknown(tok.to_string()))?;
        if !listed.contains(&v) {
            listed.push(v);
        }
    }
    listed.sort();
    if let (Some(lo), Some(hi)) = (listed.first(), listed.last()) {
        if let Some(missing) = TlsVersion::ALL
            .into_iter()
            .find(|v| v > lo && v < hi && !listed.contains(v))
        {
            return Err(TlsVersionError::Hole {
                list: list.to_string(),
                missing: missing.name(),
            });
        }
    }
    let (enabled, dropped) = listed.into_iter().partition(|v| v.supported());
    Ok(TlsVersions { enabled, dropped })
}

/// A cipher suite rustls can negotiate, with the names MySQL uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SuiteName {
    /// The IANA code point.
    pub code: u16,
    /// IANA name (`TLS_AES_128_GCM_SHA256`; what `tls_ciphersuites` takes).
    pub iana: &'static str,
    /// OpenSSL name (what `Ssl_cipher` shows for TLS ≤ 1.2; TLS 1.3 shows the IANA name).
    pub openssl: &'static str,
    /// A TLS 1.3 suite (else TLS 1.2).
    pub tls13: bool,
}

impl SuiteName {
    /// Whether a server whose certificate has `key` can use this suite. TLS 1.3 suites say
    /// nothing about the key; a TLS 1.2 `ECDHE-ECDSA-*` suite needs an ECDSA or Ed25519 key
    /// (rustls's `TLS12_ECDSA_SCHEMES` include Ed25519) and `ECDHE-RSA-*` an RSA key.
    pub fn usable_with(&self, key: CertKeyType) -> bool {
        if self.tls13 {
            return true;
        }
        let ecdsa_suite = self.openssl.starts_with("ECDHE-ECDSA-");
        match key {
            CertKeyType::Rsa => !ecdsa_suite,
            CertKeyType::EcdsaP256 | CertKeyType::EcdsaP384 | CertKeyType::Ed25519 => ecdsa_suite,
        }
    }

    /// The protocol version this suite belongs to.
    pub fn version(&self) -> TlsVersion {
        if self.tls13 {
            TlsVersion::V1_3
        } else {
            TlsVersion::V1_2
        }
    }
}

/// The suites of rustls's aws-lc-rs provider, in MySQL's default preference order
/// (`include/tls_ciphers.h`: `default_tls13_ciphers`, then `default_tls12_ciphers`).
pub const SUITES: &[SuiteName] = &[
    SuiteName {
        code: 0x1301,
        iana: "TLS_AES_128_GCM_SHA256",
        openssl: "TLS_AES_128_GCM_SHA256",
        tls13: true,
    },
    SuiteName {
        code: 0x1302,
        iana: "TLS_AES_256_GCM_SHA384",
        openssl: "TLS_AES_256_GCM_SHA384",
        tls13: true,
    },
    SuiteName {
        code: 0x1303,
        iana: "TLS_CHACHA20_POLY1305_SHA256",
        openssl: "TLS_CHACHA20_POLY1305_SHA256",
        tls13: true,
    },
    SuiteName {
        code: 0xC02B,
        iana: "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        openssl: "ECDHE-ECDSA-AES128-GCM-SHA256",
        tls13: false,
    },
    SuiteName {
        code: 0xC02C,
        iana: "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        openssl: "ECDHE-ECDSA-AES256-GCM-SHA384",
        tls13: false,
    },
    SuiteName {
        code: 0xC02F,
        iana: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        openssl: "ECDHE-RSA-AES128-GCM-SHA256",
        tls13: false,
    },
    SuiteName {
        code: 0xC030,
        iana: "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        openssl: "ECDHE-RSA-AES256-GCM-SHA384",
        tls13: false,
    },
    SuiteName {
        code: 0xCCA9,
        iana: "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        openssl: "ECDHE-ECDSA-CHACHA20-POLY1305",
        tls13: false,
    },
    SuiteName {
        code: 0xCCA8,
        iana: "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        openssl: "ECDHE-RSA-CHACHA20-POLY1305",
        tls13: false,
    },
];

/// The name `Ssl_cipher` shows for a negotiated suite code.
pub fn ssl_cipher_name(code: u16) -> Option<&'static str> {
    suite(code).map(|s| s.openssl)
}

/// The [`SUITES`] entry for a code.
pub fn suite(code: u16) -> Option<&'static SuiteName> {
    SUITES.iter().find(|s| s.code == code)
}

/// TLS ≤ 1.2 suites MySQL (with OpenSSL) accepts in `ssl_cipher` but rustls does not implement:
/// `(OpenSSL name, IANA name)`. The rest of MySQL's default list (CCM, DHE) and the client-side
/// compatibility list of `include/tls_ciphers.h` (CBC, static ECDH, RSA key exchange, CAMELLIA).
const UNUSABLE_TLS12: &[(&str, &str)] = &[
    ("ECDHE-ECDSA-AES256-CCM", "TLS_ECDHE_ECDSA_WITH_AES_256_CCM"),
    ("ECDHE-ECDSA-AES128-CCM", "TLS_ECDHE_ECDSA_WITH_AES_128_CCM"),
    (
        "ECDHE-ECDSA-AES256-CCM8",
        "TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8",
    ),
    (
        "ECDHE-ECDSA-AES128-CCM8",
        "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8",
    ),
    (
        "DHE-RSA-AES128-GCM-SHA256",
        "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
    ),
    (
        "DHE-RSA-AES256-GCM-SHA384",
        "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
    ),
    ("DHE-RSA-AES256-CCM", "TLS_DHE_RSA_WITH_AES_256_CCM"),
    ("DHE-RSA-AES128-CCM", "TLS_DHE_RSA_WITH_AES_128_CCM"),
    ("DHE-RSA-AES256-CCM8", "TLS_DHE_RSA_WITH_AES_256_CCM_8"),
    ("DHE-RSA-AES128-CCM8", "TLS_DHE_RSA_WITH_AES_128_CCM_8"),
    (
        "DHE-RSA-CHACHA20-POLY1305",
        "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    ),
    (
        "ECDHE-ECDSA-AES128-SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
    ),
    (
        "ECDHE-RSA-AES128-SHA256",
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
    ),
    (
        "ECDHE-ECDSA-AES256-SHA384",
        "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
    ),
    (
        "ECDHE-RSA-AES256-SHA384",
        "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
    ),
    (
        "DHE-DSS-AES256-GCM-SHA384",
        "TLS_DHE_DSS_WITH_AES_256_GCM_SHA384",
    ),
    (
        "DHE-DSS-AES128-GCM-SHA256",
        "TLS_DHE_DSS_WITH_AES_128_GCM_SHA256",
    ),
    (
        "DHE-DSS-AES128-SHA256",
        "TLS_DHE_DSS_WITH_AES_128_CBC_SHA256",
    ),
    (
        "DHE-DSS-AES256-SHA256",
        "TLS_DHE_DSS_WITH_AES_256_CBC_SHA256",
    ),
    (
        "DHE-RSA-AES256-SHA256",
        "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256",
    ),
    (
        "DHE-RSA-AES128-SHA256",
        "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256",
    ),
    (
        "DHE-RSA-CAMELLIA256-SHA256",
        "TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA256",
    ),
    (
        "DHE-RSA-CAMELLIA128-SHA256",
        "TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA256",
    ),
    ("ECDHE-RSA-AES128-SHA", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"),
    (
        "ECDHE-ECDSA-AES128-SHA",
        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
    ),
    ("ECDHE-RSA-AES256-SHA", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"),
    (
        "ECDHE-ECDSA-AES256-SHA",
        "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
    ),
    ("DHE-DSS-AES128-SHA", "TLS_DHE_DSS_WITH_AES_128_CBC_SHA"),
    ("DHE-RSA-AES128-SHA", "TLS_DHE_RSA_WITH_AES_128_CBC_SHA"),
    ("DHE-RSA-AES256-SHA", "TLS_DHE_RSA_WITH_AES_256_CBC_SHA"),
    ("DHE-DSS-AES256-SHA", "TLS_DHE_DSS_WITH_AES_256_CBC_SHA"),
    (
        "DHE-RSA-CAMELLIA256-SHA",
        "TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA",
    ),
    (
        "DHE-RSA-CAMELLIA128-SHA",
        "TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA",
    ),
    (
        "ECDH-ECDSA-AES128-SHA256",
        "TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA256",
    ),
    (
        "ECDH-RSA-AES128-SHA256",
        "TLS_ECDH_RSA_WITH_AES_128_CBC_SHA256",
    ),
    (
        "ECDH-RSA-AES256-SHA384",
        "TLS_ECDH_RSA_WITH_AES_256_CBC_SHA384",
    ),
    (
        "ECDH-ECDSA-AES256-SHA384",
        "TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA384",
    ),
    (
        "ECDH-ECDSA-AES128-SHA",
        "TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA",
    ),
    (
        "ECDH-ECDSA-AES256-SHA",
        "TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA",
    ),
    ("ECDH-RSA-AES128-SHA", "TLS_ECDH_RSA_WITH_AES_128_CBC_SHA"),
    ("ECDH-RSA-AES256-SHA", "TLS_ECDH_RSA_WITH_AES_256_CBC_SHA"),
    (
        "ECDH-ECDSA-AES128-GCM-SHA256",
        "TLS_ECDH_ECDSA_WITH_AES_128_GCM_SHA256",
    ),
    (
        "ECDH-ECDSA-AES256-GCM-SHA384",
        "TLS_ECDH_ECDSA_WITH_AES_256_GCM_SHA384",
    ),
    (
        "ECDH-RSA-AES128-GCM-SHA256",
        "TLS_ECDH_RSA_WITH_AES_128_GCM_SHA256",
    ),
    (
        "ECDH-RSA-AES256-GCM-SHA384",
        "TLS_ECDH_RSA_WITH_AES_256_GCM_SHA384",
    ),
    ("AES128-GCM-SHA256", "TLS_RSA_WITH_AES_128_GCM_SHA256"),
    ("AES256-GCM-SHA384", "TLS_RSA_WITH_AES_256_GCM_SHA384"),
    ("AES128-CCM", "TLS_RSA_WITH_AES_128_CCM"),
    ("AES256-CCM", "TLS_RSA_WITH_AES_256_CCM"),
    ("AES128-CCM8", "TLS_RSA_WITH_AES_128_CCM_8"),
    ("AES256-CCM8", "TLS_RSA_WITH_AES_256_CCM_8"),
    ("AES128-SHA256", "TLS_RSA_WITH_AES_128_CBC_SHA256"),
    ("AES256-SHA256", "TLS_RSA_WITH_AES_256_CBC_SHA256"),
    ("AES128-SHA", "TLS_RSA_WITH_AES_128_CBC_SHA"),
    ("AES256-SHA", "TLS_RSA_WITH_AES_256_CBC_SHA"),
    ("CAMELLIA256-SHA", "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA"),
    ("CAMELLIA128-SHA", "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA"),
];

/// TLS 1.3 suites MySQL accepts in `tls_ciphersuites` that rustls does not implement.
const UNUSABLE_TLS13: &[&str] = &["TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_8_SHA256"];

/// OpenSSL categories MySQL always excludes (`blocked_tls12_ciphers` in `include/tls_ciphers.h`,
/// the manual's "permanently restricted" list) and their aliases. Named positively they are an
/// error; `!`/`-` exclusions of them are accepted and change nothing.
const RESTRICTED_CATEGORIES: &[&str] = &[
    "aNULL",
    "eNULL",
    "NULL",
    "EXPORT",
    "EXP",
    "EXPORT40",
    "EXPORT56",
    "LOW",
    "MD5",
    "DES",
    "3DES",
    "RC2",
    "RC4",
    "PSK",
    "kPSK",
    "aPSK",
    "kECDHEPSK",
    "kDHEPSK",
    "kRSAPSK",
    "SSLv3",
    "SSLv2",
    "ADH",
    "AECDH",
    "kDH",
    "kDHr",
    "kDHd",
    "aDH",
];

/// OpenSSL category keywords that select no suite rustls implements; accepted (as no-ops) only
/// as `!`/`-` exclusions.
const EMPTY_CATEGORIES: &[&str] = &[
    "MEDIUM",
    "SRP",
    "kSRP",
    "aSRP",
    "CAMELLIA",
    "CAMELLIA128",
    "CAMELLIA256",
    "SEED",
    "IDEA",
    "ARIA",
    "ARIA128",
    "ARIA256",
    "ARIAGCM",
    "DSS",
    "aDSS",
    "kRSA",
    "RSA",
    "DHE",
    "EDH",
    "kDHE",
    "kEDH",
    "DH",
    "AESCCM",
    "AESCCM8",
    "CCM",
    "CCM8",
    "SHA1",
    "SHA",
    "kGOST",
    "aGOST",
    "GOST94",
    "GOST89MAC",
    "TLSv1",
    "TLSv1.0",
    "COMPLEMENTOFDEFAULT",
    "COMPLEMENTOFALL",
];

/// Which usable suites an OpenSSL category keyword selects.
type SuitePredicate = fn(&SuiteName) -> bool;

/// OpenSSL category keywords that select some of the usable TLS 1.2 suites; supported only as
/// `!`/`-` exclusions (as a positive term the expansion order would be OpenSSL's strength sort,
/// which is not modelled).
fn category_matches(keyword: &str) -> Option<SuitePredicate> {
    const TABLE: &[(&str, SuitePredicate)] = &[
        ("ALL", |_| true),
        ("HIGH", |_| true),
        ("DEFAULT", |_| true),
        ("AEAD", |_| true),
        ("TLSv1.2", |_| true),
        ("ECDHE", |_| true),
        ("EECDH", |_| true),
        ("kECDHE", |_| true),
        ("kEECDH", |_| true),
        ("ECDSA", |s| s.openssl.contains("-ECDSA-")),
        ("aECDSA", |s| s.openssl.contains("-ECDSA-")),
        ("aRSA", |s| s.openssl.contains("-RSA-")),
        ("CHACHA20", |s| s.openssl.contains("CHACHA20")),
        ("AESGCM", |s| s.openssl.contains("GCM")),
        ("AES", |s| s.openssl.contains("-AES")),
        ("AES128", |s| s.openssl.contains("-AES128-")),
        ("AES256", |s| s.openssl.contains("-AES256-")),
    ];
    TABLE
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(keyword))
        .map(|(_, f)| *f)
}

/// Whether a concrete suite name (OpenSSL or IANA spelling) falls in a restricted category:
/// NULL encryption or authentication, export grade, RC2/RC4, (3)DES, MD5, PSK, and the static-DH
/// suites MySQL blocks by name.
fn is_restricted_suite_name(name: &str) -> bool {
    const TOKENS: &[&str] = &[
        "NULL",
        "ANULL",
        "ENULL",
        "ANON",
        "RC4",
        "RC2",
        "DES",
        "3DES",
        "CBC3",
        "DES40",
        "MD5",
        "PSK",
        "EXP",
        "EXP1024",
        "EXPORT",
        "EXPORT1024",
        "EXPORT40",
        "ADH",
        "AECDH",
    ];
    let upper = name.to_ascii_uppercase();
    // Static DH: OpenSSL `DH-RSA-…` / `DH-DSS-…`, IANA `TLS_DH_…` (not `DHE`).
    let static_dh = upper.starts_with("DH-") || upper.starts_with("TLS_DH_");
    static_dh || upper.split(['-', '_']).any(|t| TOKENS.contains(&t))
}

/// Which of the two cipher variables a value is for; names the variable in errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CipherVariable {
    /// `ssl_cipher`: TLS 1.2 suites, OpenSSL names.
    SslCipher,
    /// `tls_ciphersuites`: TLS 1.3 suites, IANA names.
    TlsCiphersuites,
}

impl CipherVariable {
    /// The variable's name.
    pub fn name(self) -> &'static str {
        match self {
            CipherVariable::SslCipher => "ssl_cipher",
            CipherVariable::TlsCiphersuites => "tls_ciphersuites",
        }
    }
}

impl fmt::Display for CipherVariable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why an `ssl_cipher` or `tls_ciphersuites` value is refused. Where several problems exist the
/// first kind in declaration order is reported, naming every offending entry of that kind.
/// MySQL reports all of these as "Failed to set ciphers to use" (startup disables TLS, `ALTER
/// INSTANCE RELOAD TLS` fails); the server prefixes that text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CipherError {
    /// Entries in a category MySQL permanently restricts (aNULL, eNULL, EXPORT, LOW, MD5, DES,
    /// 3DES, RC2, RC4, PSK, SSLv3, static DH) or concrete suites in one, named positively.
    #[error("{variable}: {} permanently restricted by MySQL: {}", plural(.names, "cipher"),
            .names.join(", "))]
    Restricted {
        /// The variable the value is for.
        variable: CipherVariable,
        /// The restricted entries, as written.
        names: Vec<String>,
    },
    /// Names that are no cipher suite or keyword we know.
    #[error("{variable}: unknown cipher {}: {}", plural(.names, "name"), .names.join(", "))]
    Unknown {
        /// The variable the value is for.
        variable: CipherVariable,
        /// The unknown entries, as written.
        names: Vec<String>,
    },
    /// Known suite names given to the other variable (a TLS 1.3 suite in `ssl_cipher`, a TLS ≤ 1.2
    /// suite in `tls_ciphersuites`).
    #[error("{variable}: {} belong{} in {}: {}", plural(.names, "name"),
            if .names.len() == 1 { "s" } else { "" }, .belongs_in, .names.join(", "))]
    WrongVariable {
        /// The variable the value is for.
        variable: CipherVariable,
        /// The variable those suites belong in.
        belongs_in: CipherVariable,
        /// The misplaced entries, as written.
        names: Vec<String>,
    },
    /// Cipher-string syntax we do not implement: positive category keywords (`HIGH`, `ALL`, …),
    /// `+` moves, `A+B` intersections, `@STRENGTH` / `@SECLEVEL=n`, and `!`/`-` in
    /// `tls_ciphersuites`. Exclusions (`!name`, `-name`) of concrete names and of categories are
    /// supported in `ssl_cipher`.
    #[error("{variable}: unsupported cipher-list {}: {} (list concrete cipher names; only \
             !/- exclusions may name categories)", plural(.items, "term"), .items.join(", "))]
    Unsupported {
        /// The variable the value is for.
        variable: CipherVariable,
        /// The unsupported terms, as written.
        items: Vec<String>,
    },
    /// Every named suite is one rustls cannot do (or was excluded), so nothing is left.
    #[error("{variable}: no usable cipher in '{value}'{}", dropped_note(.dropped))]
    NoUsable {
        /// The variable the value is for.
        variable: CipherVariable,
        /// The value as given.
        value: String,
        /// Suites named but dropped because rustls cannot do them.
        dropped: Vec<&'static str>,
    },
}

fn plural(v: &[String], word: &str) -> String {
    if v.len() == 1 {
        word.to_string()
    } else {
        format!("{word}s")
    }
}

fn dropped_note(dropped: &[&'static str]) -> String {
    if dropped.is_empty() {
        String::new()
    } else {
        format!(
            " (not implemented by this server's TLS library: {})",
            dropped.join(", ")
        )
    }
}

/// A parsed cipher list: the usable suites in preference order and the warnings.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CipherList {
    /// IANA codes of [`SUITES`] entries, configured order, no duplicates.
    pub codes: Vec<u16>,
    /// Names MySQL would accept that rustls cannot do, canonical spelling, in order; the server
    /// logs a warning for each.
    pub dropped: Vec<&'static str>,
}

impl CipherList {
    /// MySQL's default `ssl_cipher` list (unset variable) reduced to what rustls implements.
    pub fn mysql_default_tls12() -> CipherList {
        Self::defaults(false)
    }

    /// MySQL's default `tls_ciphersuites` list (unset variable) reduced to what rustls implements.
    pub fn mysql_default_tls13() -> CipherList {
        Self::defaults(true)
    }

    fn defaults(tls13: bool) -> CipherList {
        CipherList {
            codes: SUITES
                .iter()
                .filter(|s| s.tls13 == tls13)
                .map(|s| s.code)
                .collect(),
            dropped: Vec::new(),
        }
    }

    /// The list as an `ssl_cipher` value (OpenSSL names).
    pub fn ssl_cipher_string(&self) -> String {
        self.join(|s| s.openssl)
    }

    /// The list as a `tls_ciphersuites` value (IANA names).
    pub fn tls_ciphersuites_string(&self) -> String {
        self.join(|s| s.iana)
    }

    fn join(&self, name: fn(&SuiteName) -> &'static str) -> String {
        let names: Vec<&str> = self
            .codes
            .iter()
            .filter_map(|&c| suite(c))
            .map(name)
            .collect();
        names.join(":")
    }
}

/// How one `ssl_cipher` term was understood.
enum Term {
    Usable(&'static SuiteName),
    Unusable(&'static str),
    Category(SuitePredicate),
    /// Excluding it changes nothing (restricted or empty category).
    NoOp,
    Restricted,
    WrongVariable,
    Unsupported,
    Unknown,
}

fn classify_tls12(name: &str) -> Term {
    let eq = |a: &str| a.eq_ignore_ascii_case(name);
    if let Some(s) = SUITES
        .iter()
        .find(|s| !s.tls13 && (eq(s.openssl) || eq(s.iana)))
    {
        return Term::Usable(s);
    }
    if let Some(&(openssl, _)) = UNUSABLE_TLS12
        .iter()
        .find(|(openssl, iana)| eq(openssl) || eq(iana))
    {
        return Term::Unusable(openssl);
    }
    if SUITES.iter().any(|s| s.tls13 && eq(s.iana)) || UNUSABLE_TLS13.iter().any(|n| eq(n)) {
        return Term::WrongVariable;
    }
    if RESTRICTED_CATEGORIES.iter().any(|c| eq(c)) || is_restricted_suite_name(name) {
        return Term::Restricted;
    }
    if EMPTY_CATEGORIES.iter().any(|c| eq(c)) {
        return Term::NoOp;
    }
    if let Some(f) = category_matches(name) {
        return Term::Category(f);
    }
    if name.starts_with('@') || name.contains('+') {
        return Term::Unsupported;
    }
    Term::Unknown
}

/// Error collector shared by the two parsers.
#[derive(Default)]
struct Problems {
    restricted: Vec<String>,
    unknown: Vec<String>,
    wrong: Vec<String>,
    unsupported: Vec<String>,
}

impl Problems {
    fn into_error(self, variable: CipherVariable) -> Option<CipherError> {
        let belongs_in = match variable {
            CipherVariable::SslCipher => CipherVariable::TlsCiphersuites,
            CipherVariable::TlsCiphersuites => CipherVariable::SslCipher,
        };
        if !self.restricted.is_empty() {
            Some(CipherError::Restricted {
                variable,
                names: self.restricted,
            })
        } else if !self.unknown.is_empty() {
            Some(CipherError::Unknown {
                variable,
                names: self.unknown,
            })
        } else if !self.wrong.is_empty() {
            Some(CipherError::WrongVariable {
                variable,
                belongs_in,
                names: self.wrong,
            })
        } else if !self.unsupported.is_empty() {
            Some(CipherError::Unsupported {
                variable,
                items: self.unsupported,
            })
        } else {
            None
        }
    }
}

/// Parses an `ssl_cipher` value (TLS ≤ 1.2): OpenSSL cipher names separated by `:`, `,`, `;` or
/// spaces (OpenSSL's separators), compared case-insensitively; IANA names of TLS ≤ 1.2 suites
/// are accepted too, as OpenSSL ≥ 1.1.1 does.
///
/// * A suite rustls implements is kept, in the configured order (duplicates: first wins).
/// * A suite MySQL accepts that rustls lacks (CCM, DHE, CBC, static ECDH, RSA key exchange, …) is
///   dropped and listed in [`CipherList::dropped`].
/// * A restricted category (`aNULL`, `RC4`, …) or a concrete suite in one (`DES-CBC3-SHA`,
///   `RC4-MD5`, `NULL-SHA`, `PSK-AES128-CBC-SHA`, static `DH-*`) is an error, where OpenSSL under
///   MySQL would silently filter it — an administrator asking for it should learn it is never used.
/// * `!name` removes a suite for good, `-name` removes it until named again (OpenSSL semantics);
///   both also accept category keywords (`!aNULL`, `!ECDSA`, `!CHACHA20`, …).
/// * Positive category keywords (`HIGH`, `DEFAULT`, …), `+name`, `A+B` and `@…` are refused as
///   [`CipherError::Unsupported`]; unknown names as [`CipherError::Unknown`].
/// * If nothing usable remains (including the empty value) the result is
///   [`CipherError::NoUsable`], as OpenSSL's "no cipher match" makes MySQL fail.
pub fn parse_ssl_cipher(s: &str) -> Result<CipherList, CipherError> {
    let variable = CipherVariable::SslCipher;
    let mut problems = Problems::default();
    let mut codes: Vec<u16> = Vec::new();
    let mut dropped: Vec<&'static str> = Vec::new();
    let mut banned_codes: Vec<u16> = Vec::new();
    let mut banned_names: Vec<&'static str> = Vec::new();

    let terms = s
        .split(|c: char| matches!(c, ':' | ',' | ';') || c.is_ascii_whitespace())
        .filter(|t| !t.is_empty());
    for term in terms {
        let (op, name) = match term.split_at_checked(1) {
            Some((p @ ("!" | "-" | "+"), rest)) => (p, rest),
            _ => ("", term),
        };
        let class = classify_tls12(name);
        if op == "+" || name.is_empty() || name.starts_with(['!', '-', '+']) {
            problems.unsupported.push(term.to_string());
            continue;
        }
        let exclude = !op.is_empty();
        match class {
            Term::Restricted if exclude => {}
            Term::NoOp if exclude => {}
            Term::Restricted => problems.restricted.push(name.to_string()),
            Term::Unknown => problems.unknown.push(name.to_string()),
            Term::WrongVariable => problems.wrong.push(name.to_string()),
            Term::Unsupported | Term::NoOp | Term::Category(_) if !exclude => {
                problems.unsupported.push(term.to_string())
            }
            Term::Unsupported => problems.unsupported.push(term.to_string()),
            Term::Usable(suite) if !exclude => {
                if !codes.contains(&suite.code) && !banned_codes.contains(&suite.code) {
                    codes.push(suite.code);
                }
            }
            Term::Unusable(n) if !exclude => {
                if !dropped.contains(&n) && !banned_names.contains(&n) {
                    dropped.push(n);
                }
            }
            Term::Usable(suite) => {
                codes.retain(|&c| c != suite.code);
                if op == "!" {
                    banned_codes.push(suite.code);
                }
            }
            Term::Unusable(n) => {
                dropped.retain(|&d| d != n);
                if op == "!" {
                    banned_names.push(n);
                }
            }
            Term::Category(f) => {
                let hit: Vec<u16> = SUITES
                    .iter()
                    .filter(|s| !s.tls13 && f(s))
                    .map(|s| s.code)
                    .collect();
                codes.retain(|c| !hit.contains(c));
                if op == "!" {
                    banned_codes.extend(hit);
                }
            }
            Term::NoOp => {}
        }
    }
    if let Some(e) = problems.into_error(variable) {
        return Err(e);
    }
    if codes.is_empty() {
        return Err(CipherError::NoUsable {
            variable,
            value: s.to_string(),
            dropped,
        });
    }
    Ok(CipherList { codes, dropped })
}

/// Parses a `tls_ciphersuites` value (TLS 1.3): IANA names separated by `:` (surrounding spaces
/// ignored), case-insensitive, configured order kept. The empty value (or only separators) is
/// valid and yields an empty list: no TLS 1.3 suite, so TLS 1.3 cannot be negotiated (MySQL's
/// documented meaning). Names rustls lacks (`TLS_AES_128_CCM_SHA256`, `TLS_AES_128_CCM_8_SHA256`)
/// are dropped with a warning; if names were given and none is usable the result is
/// [`CipherError::NoUsable`]. TLS ≤ 1.2 names are [`CipherError::WrongVariable`]; `!`/`-`/`+`
/// terms are [`CipherError::Unsupported`] (OpenSSL's ciphersuite syntax has none).
pub fn parse_tls_ciphersuites(s: &str) -> Result<CipherList, CipherError> {
    let variable = CipherVariable::TlsCiphersuites;
    let mut problems = Problems::default();
    let mut list = CipherList::default();
    let mut named_any = false;
    for name in s.split(':').map(str::trim).filter(|t| !t.is_empty()) {
        named_any = true;
        let eq = |a: &str| a.eq_ignore_ascii_case(name);
        if let Some(suite) = SUITES.iter().find(|s| s.tls13 && eq(s.iana)) {
            if !list.codes.contains(&suite.code) {
                list.codes.push(suite.code);
            }
        } else if let Some(n) = UNUSABLE_TLS13.iter().find(|n| eq(n)) {
            if !list.dropped.contains(n) {
                list.dropped.push(n);
            }
        } else if name.starts_with(['!', '-', '+', '@']) {
            problems.unsupported.push(name.to_string());
        } else {
            match classify_tls12(name) {
                Term::Usable(_) | Term::Unusable(_) => problems.wrong.push(name.to_string()),
                Term::Restricted if is_restricted_suite_name(name) => {
                    problems.restricted.push(name.to_string())
                }
                _ => problems.unknown.push(name.to_string()),
            }
        }
    }
    if let Some(e) = problems.into_error(variable) {
        return Err(e);
    }
    if named_any && list.codes.is_empty() {
        return Err(CipherError::NoUsable {
            variable,
            value: s.to_string(),
            dropped: list.dropped,
        });
    }
    Ok(list)
}

/// `ssl_cipher` as a server setting: unset means MySQL's default list.
pub fn ssl_cipher_setting(value: Option<&str>) -> Result<CipherList, CipherError> {
    value.map_or_else(|| Ok(CipherList::mysql_default_tls12()), parse_ssl_cipher)
}

/// `tls_ciphersuites` as a server setting: unset means MySQL's default list; empty means none.
pub fn tls_ciphersuites_setting(value: Option<&str>) -> Result<CipherList, CipherError> {
    value.map_or_else(
        || Ok(CipherList::mysql_default_tls13()),
        parse_tls_ciphersuites,
    )
}

/// The kind of key in the server certificate, which decides the usable TLS 1.2 suites.
/// P-256 and P-384 behave the same for suite selection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CertKeyType {
    /// RSA: `ECDHE-RSA-*` TLS 1.2 suites.
    Rsa,
    /// ECDSA on P-256: `ECDHE-ECDSA-*` suites.
    EcdsaP256,
    /// ECDSA on P-384: `ECDHE-ECDSA-*` suites.
    EcdsaP384,
    /// Ed25519: `ECDHE-ECDSA-*` suites (rustls signs them with it).
    Ed25519,
}

impl CertKeyType {
    /// Every key type.
    pub const ALL: [CertKeyType; 4] = [
        CertKeyType::Rsa,
        CertKeyType::EcdsaP256,
        CertKeyType::EcdsaP384,
        CertKeyType::Ed25519,
    ];
}

/// The server's TLS policy as the TLS library sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsPolicy {
    /// `tls_version` after parsing (unsupported versions are ignored here).
    pub versions: Vec<TlsVersion>,
    /// `ssl_cipher` codes, preference order. Codes not in [`SUITES`] are ignored.
    pub tls12: Vec<u16>,
    /// `tls_ciphersuites` codes, preference order. Codes not in [`SUITES`] are ignored.
    pub tls13: Vec<u16>,
    /// The server certificate's key type, which limits the TLS 1.2 suites.
    pub cert_key: CertKeyType,
    /// The server's order picks the suite (OpenSSL's `SSL_OP_CIPHER_SERVER_PREFERENCE`, rustls's
    /// `ServerConfig::ignore_client_order = true`); `false` = the client's order (rustls default).
    pub prefer_server_order: bool,
}

/// Why a [`TlsPolicy`] cannot become a TLS context (what `server_config` refuses).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// No supported version enabled; MySQL's library-error text.
    #[error("TLS version is invalid")]
    NoVersions,
    /// No configured suite belongs to an enabled version (rustls: "no usable cipher suites
    /// configured").
    #[error("Failed to set ciphers to use: no configured cipher suite belongs to an enabled TLS version")]
    NoCiphers,
}

impl TlsPolicy {
    /// A policy from parsed settings, client order (the rustls default and MySQL 8.0's).
    pub fn new(
        versions: &TlsVersions,
        tls12: &CipherList,
        tls13: &CipherList,
        cert_key: CertKeyType,
    ) -> TlsPolicy {
        TlsPolicy {
            versions: versions.enabled.clone(),
            tls12: tls12.codes.clone(),
            tls13: tls13.codes.clone(),
            cert_key,
            prefer_server_order: false,
        }
    }

    /// MySQL's defaults: TLSv1.2,TLSv1.3 and the default cipher lists.
    pub fn mysql_default(cert_key: CertKeyType) -> TlsPolicy {
        TlsPolicy {
            versions: vec![TlsVersion::V1_2, TlsVersion::V1_3],
            tls12: CipherList::mysql_default_tls12().codes,
            tls13: CipherList::mysql_default_tls13().codes,
            cert_key,
            prefer_server_order: false,
        }
    }

    /// The server's suites in the order the TLS context holds them (TLS 1.3 list, then TLS 1.2).
    pub fn suites(&self) -> impl Iterator<Item = &'static SuiteName> + '_ {
        self.tls13
            .iter()
            .chain(&self.tls12)
            .filter_map(|&c| suite(c))
    }

    /// Whether `v` is enabled and has at least one configured suite (rustls's
    /// `ServerConfig::supports_version`).
    pub fn enables(&self, v: TlsVersion) -> bool {
        v.supported() && self.versions.contains(&v) && self.suites().any(|s| s.version() == v)
    }

    /// What `server_config` would say about this policy.
    pub fn check(&self) -> Result<(), PolicyError> {
        if !self.versions.iter().any(|v| v.supported()) {
            return Err(PolicyError::NoVersions);
        }
        if !TlsVersion::ALL.into_iter().any(|v| self.enables(v)) {
            return Err(PolicyError::NoCiphers);
        }
        Ok(())
    }

    /// Enabled versions with at least one suite the certificate's key can use: the versions a
    /// handshake can actually end with. Worth a startup warning when it differs from the
    /// enabled versions, since rustls still selects such a version and then fails.
    pub fn usable_versions(&self) -> Vec<TlsVersion> {
        TlsVersion::ALL
            .into_iter()
            .filter(|&v| {
                self.enables(v)
                    && self
                        .suites()
                        .any(|s| s.version() == v && s.usable_with(self.cert_key))
            })
            .collect()
    }
}

/// What a client's ClientHello offers: the `supported_versions` it lists and its cipher suites in
/// its preference order (codes rustls does not know are allowed and never chosen).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClientOffer {
    /// `supported_versions`.
    pub versions: Vec<TlsVersion>,
    /// Cipher suite codes, the client's preference first.
    pub suites: Vec<u16>,
}

impl ClientOffer {
    /// What a rustls client configured with `versions` and `suites` sends: a version only if a
    /// configured suite belongs to it (`ClientConfig::supports_version`), and every configured
    /// suite whatever its version (`client/hs.rs`, ClientHello construction).
    pub fn rustls_client(versions: &[TlsVersion], suites: &[u16]) -> ClientOffer {
        ClientOffer {
            versions: versions
                .iter()
                .copied()
                .filter(|&v| {
                    v.supported()
                        && suites
                            .iter()
                            .any(|&c| suite(c).map(|s| s.version()) == Some(v))
                })
                .collect(),
            suites: suites.to_vec(),
        }
    }
}

/// Why [`predict`] expects the handshake to fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailureReason {
    /// The policy cannot become a TLS context ([`TlsPolicy::check`]); no handshake happens.
    ServerUnusable,
    /// No version both sides enable. rustls: `PeerIncompatible::Tls12NotOfferedOrEnabled`, alert
    /// `protocol_version`.
    NoCommonVersion,
    /// A version was chosen but no suite for it is offered by the client, configured on the
    /// server and usable with the certificate's key. rustls:
    /// `PeerIncompatible::NoCipherSuitesInCommon`, alert `handshake_failure`.
    NoCommonSuite,
}

/// The outcome [`predict`] expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prediction {
    /// The handshake succeeds with this version and suite.
    Negotiated {
        /// The version chosen (the highest both enable).
        version: TlsVersion,
        /// The suite's code.
        suite: u16,
    },
    /// The handshake fails.
    Failed(FailureReason),
}

/// Predicts the version and suite of a handshake between a rustls 0.23 server configured from
/// `policy` and a client sending `offer` (key-exchange groups assumed to be the aws-lc-rs
/// defaults on both sides, so ECDHE is always possible):
///
/// 1. Version (`server/hs.rs` `with_certified_key`): TLS 1.3 if the client offers it and the
///    server enables it ([`TlsPolicy::enables`]); otherwise TLS 1.2 if both do; otherwise
///    [`FailureReason::NoCommonVersion`]. Suites play no part, so there is no fallback to 1.2.
/// 2. Suite (`choose_suite_and_kx_group`): among the server's suites for that version usable
///    with the key, the first in the client's order that the server has — or, with
///    [`TlsPolicy::prefer_server_order`], the first in the server's order that the client
///    offered. None: [`FailureReason::NoCommonSuite`].
pub fn predict(policy: &TlsPolicy, offer: &ClientOffer) -> Prediction {
    if policy.check().is_err() {
        return Prediction::Failed(FailureReason::ServerUnusable);
    }
    let both = |v: TlsVersion| offer.versions.contains(&v) && policy.enables(v);
    let version = if both(TlsVersion::V1_3) {
        TlsVersion::V1_3
    } else if both(TlsVersion::V1_2) {
        TlsVersion::V1_2
    } else {
        return Prediction::Failed(FailureReason::NoCommonVersion);
    };
    let suitable: Vec<&SuiteName> = policy
        .suites()
        .filter(|s| s.version() == version && s.usable_with(policy.cert_key))
        .collect();
    let chosen = if policy.prefer_server_order {
        suitable
            .iter()
            .find(|s| offer.suites.contains(&s.code))
            .map(|s| s.code)
    } else {
        offer
            .suites
            .iter()
            .copied()
            .find(|c| suitable.iter().any(|s| s.code == *c))
    };
    match chosen {
        Some(suite) => Prediction::Negotiated { version, suite },
        None => Prediction::Failed(FailureReason::NoCommonSuite),
    }
}

/// `Ssl_cipher_list`: every configured suite, TLS 1.3 IANA names first, then TLS 1.2 OpenSSL
/// names, each in preference order, colon-separated. It does not filter by enabled version or
/// certificate key, as OpenSSL's `SSL_get_cipher_list`, which MySQL reads, does not (inferred
/// from the OpenSSL API; not checked against a live server).
pub fn ssl_cipher_list(policy: &TlsPolicy) -> String {
    let tls13 = policy
        .tls13
        .iter()
        .filter_map(|&c| suite(c))
        .filter(|s| s.tls13);
    let tls12 = policy
        .tls12
        .iter()
        .filter_map(|&c| suite(c))
        .filter(|s| !s.tls13);
    let mut names: Vec<&str> = Vec::new();
    for s in tls13.chain(tls12) {
        if !names.contains(&s.openssl) {
            names.push(s.openssl);
        }
    }
    names.join(":")
}

/// Fuzz body: parsing never panics; an accepted list re-joined parses to the same result and has
/// no hole.
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub fn fuzz_tls_versions(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(v) = parse_tls_versions(s) {
        let all: Vec<&str> = {
            let mut a: Vec<TlsVersion> =
                v.enabled.iter().chain(v.dropped.iter()).copied().collect();
            a.sort();
            a.into_iter().map(TlsVersion::name).collect()
        };
        assert_eq!(parse_tls_versions(&all.join(",")), Ok(v));
    }
}

/// Fuzz body for both cipher parsers: neither panics on any UTF-8 input; an accepted list printed
/// back (OpenSSL names for `ssl_cipher`, IANA names for `tls_ciphersuites`) parses to the same
/// codes with nothing dropped; every accepted code is a [`SUITES`] entry of the right version.
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub fn fuzz_cipher_lists(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(list) = parse_ssl_cipher(s) {
        assert!(list
            .codes
            .iter()
            .all(|&c| suite(c).is_some_and(|s| !s.tls13)));
        let again = parse_ssl_cipher(&list.ssl_cipher_string());
        assert_eq!(
            again,
            Ok(CipherList {
                codes: list.codes,
                dropped: Vec::new()
            })
        );
    }
    if let Ok(list) = parse_tls_ciphersuites(s) {
        assert!(list
            .codes
            .iter()
            .all(|&c| suite(c).is_some_and(|s| s.tls13)));
        let again = parse_tls_ciphersuites(&list.tls_ciphersuites_string());
        assert_eq!(
            again,
            Ok(CipherList {
                codes: list.codes,
                dropped: Vec::new()
            })
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use TlsVersion::*;

    #[test]
    fn default_and_single_versions() {
        assert_eq!(
            parse_tls_versions("TLSv1.2,TLSv1.3").unwrap().enabled,
            vec![V1_2, V1_3]
        );
        assert_eq!(parse_tls_versions("tlsv1.3").unwrap().enabled, vec![V1_3]);
        assert_eq!(
            parse_tls_versions(" TLSv1.3 , TLSv1.2 ").unwrap().enabled,
            vec![V1_2, V1_3]
        );
        assert!(parse_tls_versions("").unwrap().enabled.is_empty());
    }

    #[test]
    fn holes_are_rejected_before_unsupported_versions_are_dropped() {
        assert_eq!(
            parse_tls_versions("TLSv1.1,TLSv1.3"),
            Err(TlsVersionError::Hole {
                list: "TLSv1.1,TLSv1.3".into(),
                missing: "TLSv1.2"
            })
        );
        assert!(matches!(
            parse_tls_versions("TLSv1,TLSv1.2"),
            Err(TlsVersionError::Hole {
                missing: "TLSv1.1",
                ..
            })
        ));
        let v = parse_tls_versions("TLSv1.1,TLSv1.2").unwrap();
        assert_eq!((v.enabled, v.dropped), (vec![V1_2], vec![V1_1]));
        let v = parse_tls_versions("TLSv1,TLSv1.1").unwrap();
        assert!(v.enabled.is_empty());
        assert_eq!(
            parse_tls_versions("SSLv3"),
            Err(TlsVersionError::Unknown("SSLv3".into()))
        );
    }

    const RSA_128: u16 = 0xC02F;
    const RSA_256: u16 = 0xC030;
    const RSA_CHACHA: u16 = 0xCCA8;
    const ECDSA_128: u16 = 0xC02B;
    const ECDSA_256: u16 = 0xC02C;
    const AES128: u16 = 0x1301;
    const AES256: u16 = 0x1302;
    const CHACHA: u16 = 0x1303;

    fn codes(s: &str) -> Vec<u16> {
        parse_ssl_cipher(s).unwrap().codes
    }

    #[test]
    fn ssl_cipher_keeps_configured_order_and_accepts_openssl_separators() {
        assert_eq!(
            codes("ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256"),
            vec![RSA_256, RSA_128]
        );
        assert_eq!(
            codes("ecdhe-rsa-aes128-gcm-sha256, ECDHE-RSA-AES256-GCM-SHA384;ECDHE-RSA-AES128-GCM-SHA256 ECDHE-ECDSA-AES128-GCM-SHA256"),
            vec![RSA_128, RSA_256, ECDSA_128]
        );
        // IANA spellings, as OpenSSL ≥ 1.1.1 accepts.
        assert_eq!(
            codes("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"),
            vec![RSA_CHACHA]
        );
    }

    #[test]
    fn ssl_cipher_drops_what_rustls_lacks_with_a_warning() {
        let l = parse_ssl_cipher(
            "DHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-CCM:\
             TLS_DHE_DSS_WITH_AES_256_CBC_SHA",
        )
        .unwrap();
        assert_eq!(l.codes, vec![RSA_128]);
        assert_eq!(
            l.dropped,
            vec![
                "DHE-RSA-AES128-GCM-SHA256",
                "ECDHE-ECDSA-AES128-CCM",
                "DHE-DSS-AES256-SHA"
            ]
        );
        let e = parse_ssl_cipher("DHE-RSA-AES128-GCM-SHA256:AES128-SHA").unwrap_err();
        assert_eq!(
            e,
            CipherError::NoUsable {
                variable: CipherVariable::SslCipher,
                value: "DHE-RSA-AES128-GCM-SHA256:AES128-SHA".into(),
                dropped: vec!["DHE-RSA-AES128-GCM-SHA256", "AES128-SHA"],
            }
        );
        let msg = e.to_string();
        assert!(
            msg.starts_with("ssl_cipher: no usable cipher in '"),
            "{msg}"
        );
        assert!(msg.contains("AES128-SHA"), "{msg}");
        assert!(matches!(
            parse_ssl_cipher(""),
            Err(CipherError::NoUsable { .. })
        ));
    }

    #[test]
    fn restricted_names_and_categories_are_errors_naming_them() {
        for bad in [
            "aNULL",
            "eNULL",
            "EXPORT",
            "LOW",
            "MD5",
            "DES",
            "RC2",
            "RC4",
            "PSK",
            "SSLv3",
            "3DES",
            "DES-CBC3-SHA",
            "RC4-MD5",
            "NULL-SHA",
            "PSK-AES128-CBC-SHA",
            "EXP-RC4-MD5",
            "ECDHE-RSA-DES-CBC3-SHA",
            "ADH-AES128-SHA",
            "DH-RSA-AES128-SHA256",
            "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
            "TLS_DH_anon_WITH_AES_128_CBC_SHA",
        ] {
            let value = format!("ECDHE-RSA-AES128-GCM-SHA256:{bad}");
            let e = parse_ssl_cipher(&value).unwrap_err();
            assert_eq!(
                e,
                CipherError::Restricted {
                    variable: CipherVariable::SslCipher,
                    names: vec![bad.to_string()]
                },
                "{bad}"
            );
            assert!(e.to_string().contains(bad));
        }
        let e = parse_ssl_cipher("RC4-MD5:NULL-SHA").unwrap_err();
        assert_eq!(
            e.to_string(),
            "ssl_cipher: ciphers permanently restricted by MySQL: RC4-MD5, NULL-SHA"
        );
    }

    #[test]
    fn unknown_and_misplaced_names() {
        assert_eq!(
            parse_ssl_cipher("ECDHE-RSA-AES128-GCM-SHA256:FOO-BAR:baz"),
            Err(CipherError::Unknown {
                variable: CipherVariable::SslCipher,
                names: vec!["FOO-BAR".into(), "baz".into()]
            })
        );
        let e = parse_ssl_cipher("TLS_AES_128_GCM_SHA256").unwrap_err();
        assert_eq!(
            e.to_string(),
            "ssl_cipher: name belongs in tls_ciphersuites: TLS_AES_128_GCM_SHA256"
        );
        let e = parse_tls_ciphersuites("ECDHE-RSA-AES128-GCM-SHA256:TLS_AES_128_GCM_SHA256")
            .unwrap_err();
        assert!(matches!(
            e,
            CipherError::WrongVariable {
                belongs_in: CipherVariable::SslCipher,
                ..
            }
        ));
        assert!(matches!(
            parse_tls_ciphersuites("TLS_AES_128_GCM_SHA256:TLS_FOO"),
            Err(CipherError::Unknown { .. })
        ));
        assert!(matches!(
            parse_tls_ciphersuites("TLS_RSA_WITH_RC4_128_MD5"),
            Err(CipherError::Restricted { .. })
        ));
    }

    #[test]
    fn exclusions_and_keywords() {
        // Restricted and empty categories excluded: no-ops, as MySQL prepends such a list itself.
        assert_eq!(
            codes("ECDHE-RSA-AES128-GCM-SHA256:!aNULL:!eNULL:!MD5:-RC4:!SRP:!CAMELLIA:!kDH"),
            vec![RSA_128]
        );
        // `!` bans for good, `-` until named again.
        assert_eq!(
            codes("!ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384"),
            vec![RSA_256]
        );
        assert_eq!(
            codes("ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:-ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256"),
            vec![RSA_256, RSA_128]
        );
        // Category exclusions that hit usable suites.
        assert_eq!(
            codes("ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-CHACHA20-POLY1305:!ECDSA:!CHACHA20"),
            vec![RSA_128]
        );
        let l = parse_ssl_cipher("ECDHE-RSA-AES128-GCM-SHA256:AES128-SHA:!AES128-SHA").unwrap();
        assert!(l.dropped.is_empty());
        for unsupported in [
            "HIGH",
            "ALL:!aNULL",
            "+RC4",
            "ECDHE+AESGCM",
            "@STRENGTH",
            "@SECLEVEL=2",
            "!!x",
            "SRP",
        ] {
            let value = format!("ECDHE-RSA-AES128-GCM-SHA256:{unsupported}");
            assert!(
                matches!(
                    parse_ssl_cipher(&value),
                    Err(CipherError::Unsupported { .. })
                ),
                "{unsupported}: {:?}",
                parse_ssl_cipher(&value)
            );
        }
        assert!(matches!(
            parse_ssl_cipher("ECDHE-RSA-AES128-GCM-SHA256:!HIGH"),
            Err(CipherError::NoUsable { .. })
        ));
    }

    #[test]
    fn tls_ciphersuites_rules() {
        let l = parse_tls_ciphersuites(" TLS_CHACHA20_POLY1305_SHA256 : tls_aes_128_gcm_sha256:TLS_AES_128_CCM_SHA256:TLS_CHACHA20_POLY1305_SHA256").unwrap();
        assert_eq!(l.codes, vec![CHACHA, AES128]);
        assert_eq!(l.dropped, vec!["TLS_AES_128_CCM_SHA256"]);
        assert_eq!(parse_tls_ciphersuites("").unwrap(), CipherList::default());
        assert_eq!(
            parse_tls_ciphersuites(" : ").unwrap(),
            CipherList::default()
        );
        assert_eq!(
            parse_tls_ciphersuites("TLS_AES_128_CCM_SHA256:TLS_AES_128_CCM_8_SHA256"),
            Err(CipherError::NoUsable {
                variable: CipherVariable::TlsCiphersuites,
                value: "TLS_AES_128_CCM_SHA256:TLS_AES_128_CCM_8_SHA256".into(),
                dropped: vec!["TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_8_SHA256"],
            })
        );
        assert!(matches!(
            parse_tls_ciphersuites("TLS_AES_128_GCM_SHA256:!TLS_AES_256_GCM_SHA384"),
            Err(CipherError::Unsupported { .. })
        ));
        assert_eq!(
            tls_ciphersuites_setting(None).unwrap().codes,
            vec![AES128, AES256, CHACHA]
        );
        assert_eq!(
            tls_ciphersuites_setting(Some("")).unwrap().codes,
            Vec::<u16>::new()
        );
        assert_eq!(
            ssl_cipher_setting(None).unwrap().codes,
            vec![ECDSA_128, ECDSA_256, RSA_128, RSA_256, 0xCCA9, RSA_CHACHA]
        );
    }

    fn policy(
        versions: &[TlsVersion],
        tls12: &[u16],
        tls13: &[u16],
        key: CertKeyType,
    ) -> TlsPolicy {
        TlsPolicy {
            versions: versions.to_vec(),
            tls12: tls12.to_vec(),
            tls13: tls13.to_vec(),
            cert_key: key,
            prefer_server_order: false,
        }
    }

    fn offer(versions: &[TlsVersion], suites: &[u16]) -> ClientOffer {
        ClientOffer {
            versions: versions.to_vec(),
            suites: suites.to_vec(),
        }
    }

    #[test]
    fn no_fallback_to_tls12_when_tls13_shares_no_suite() {
        // The manual would pick TLSv1.2 with ECDHE-RSA-AES128-GCM-SHA256; rustls fails.
        let p = policy(&[V1_2, V1_3], &[RSA_128], &[AES128], CertKeyType::Rsa);
        let o = offer(&[V1_2, V1_3], &[AES256, RSA_128]);
        assert_eq!(
            predict(&p, &o),
            Prediction::Failed(FailureReason::NoCommonSuite)
        );
        // Without TLS 1.3 in the offer, TLS 1.2 is used.
        let o = offer(&[V1_2], &[AES256, RSA_128]);
        assert_eq!(
            predict(&p, &o),
            Prediction::Negotiated {
                version: V1_2,
                suite: RSA_128
            }
        );
    }

    #[test]
    fn empty_tls_ciphersuites_disables_tls13() {
        let p = policy(&[V1_2, V1_3], &[RSA_128], &[], CertKeyType::Rsa);
        assert!(!p.enables(V1_3));
        let o = offer(&[V1_2, V1_3], &[AES128, RSA_128]);
        assert_eq!(
            predict(&p, &o),
            Prediction::Negotiated {
                version: V1_2,
                suite: RSA_128
            }
        );
        assert_eq!(
            predict(&p, &offer(&[V1_3], &[AES128])),
            Prediction::Failed(FailureReason::NoCommonVersion)
        );
        let p = policy(&[V1_3], &[RSA_128], &[], CertKeyType::Rsa);
        assert_eq!(p.check(), Err(PolicyError::NoCiphers));
        assert_eq!(
            predict(&p, &o),
            Prediction::Failed(FailureReason::ServerUnusable)
        );
        assert_eq!(
            policy(&[], &[RSA_128], &[AES128], CertKeyType::Rsa).check(),
            Err(PolicyError::NoVersions)
        );
    }

    #[test]
    fn ecdsa_suites_need_an_ecdsa_or_ed25519_key() {
        let p = policy(&[V1_2], &[ECDSA_128, RSA_128], &[], CertKeyType::Rsa);
        let o = offer(&[V1_2], &[ECDSA_128, RSA_128]);
        assert_eq!(
            predict(&p, &o),
            Prediction::Negotiated {
                version: V1_2,
                suite: RSA_128
            }
        );
        for key in [
            CertKeyType::EcdsaP256,
            CertKeyType::EcdsaP384,
            CertKeyType::Ed25519,
        ] {
            let p = TlsPolicy {
                cert_key: key,
                ..p.clone()
            };
            assert_eq!(
                predict(&p, &o),
                Prediction::Negotiated {
                    version: V1_2,
                    suite: ECDSA_128
                }
            );
            assert_eq!(
                predict(&p, &offer(&[V1_2], &[RSA_128])),
                Prediction::Failed(FailureReason::NoCommonSuite)
            );
        }
        // An RSA certificate with only ECDSA suites: TLS 1.2 is still selected, then fails.
        let p = policy(&[V1_2], &[ECDSA_128], &[], CertKeyType::Rsa);
        assert_eq!(p.check(), Ok(()));
        assert!(p.usable_versions().is_empty());
        assert_eq!(
            predict(&p, &offer(&[V1_2], &[ECDSA_128])),
            Prediction::Failed(FailureReason::NoCommonSuite)
        );
    }

    #[test]
    fn client_order_by_default_server_order_on_request() {
        let mut p = policy(
            &[V1_2, V1_3],
            &[RSA_128, RSA_256],
            &[AES128, AES256],
            CertKeyType::Rsa,
        );
        let o = offer(&[V1_3], &[AES256, AES128]);
        assert_eq!(
            predict(&p, &o),
            Prediction::Negotiated {
                version: V1_3,
                suite: AES256
            }
        );
        p.prefer_server_order = true;
        assert_eq!(
            predict(&p, &o),
            Prediction::Negotiated {
                version: V1_3,
                suite: AES128
            }
        );
        let o = offer(&[V1_2], &[RSA_256, RSA_128]);
        assert_eq!(
            predict(&p, &o),
            Prediction::Negotiated {
                version: V1_2,
                suite: RSA_128
            }
        );
    }

    #[test]
    fn rustls_client_offer_model() {
        let o = ClientOffer::rustls_client(&[V1_2, V1_3], &[RSA_128, 0x1234]);
        assert_eq!(o.versions, vec![V1_2]);
        assert_eq!(o.suites, vec![RSA_128, 0x1234]);
        let o = ClientOffer::rustls_client(&[V1_2], &[AES128]);
        assert!(o.versions.is_empty());
    }

    #[test]
    fn ssl_cipher_list_shows_tls13_first_in_preference_order() {
        assert_eq!(
            ssl_cipher_list(&TlsPolicy::mysql_default(CertKeyType::Rsa)),
            "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:\
             ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:\
             ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:\
             ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
        );
        let p = policy(
            &[V1_2],
            &[RSA_256, 0x0005, RSA_128],
            &[CHACHA],
            CertKeyType::Rsa,
        );
        assert_eq!(
            ssl_cipher_list(&p),
            "TLS_CHACHA20_POLY1305_SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256"
        );
    }

    #[test]
    fn tables_are_consistent() {
        for (i, s) in SUITES.iter().enumerate() {
            assert!(SUITES.iter().skip(i + 1).all(|t| t.code != s.code));
            assert_eq!(s.tls13, (0x1300..0x1400).contains(&s.code));
            assert!(!is_restricted_suite_name(s.openssl) && !is_restricted_suite_name(s.iana));
            assert!(matches!(
                classify_tls12(s.iana),
                Term::Usable(_) | Term::WrongVariable
            ));
        }
        for (openssl, iana) in UNUSABLE_TLS12 {
            assert!(!is_restricted_suite_name(openssl), "{openssl}");
            assert!(!is_restricted_suite_name(iana), "{iana}");
            assert!(SUITES
                .iter()
                .all(|s| s.openssl != *openssl && s.iana != *iana));
        }
        for c in RESTRICTED_CATEGORIES.iter().chain(EMPTY_CATEGORIES) {
            assert!(category_matches(c).is_none(), "{c}");
        }
    }

    fn arb_version() -> impl Strategy<Value = TlsVersion> {
        prop::sample::select(TlsVersion::ALL.to_vec())
    }

    /// Codes from SUITES plus a few it does not contain.
    fn arb_code() -> impl Strategy<Value = u16> {
        prop_oneof![
            8 => prop::sample::select(SUITES.iter().map(|s| s.code).collect::<Vec<_>>()),
            1 => prop::sample::select(vec![0x0005u16, 0x1304, 0x009C, 0xC0AC]),
            1 => any::<u16>(),
        ]
    }

    prop_compose! {
        fn arb_policy()(
            versions in prop::collection::vec(arb_version(), 0..4),
            tls12 in prop::collection::vec(arb_code(), 0..7),
            tls13 in prop::collection::vec(arb_code(), 0..4),
            key in prop::sample::select(CertKeyType::ALL.to_vec()),
            prefer_server_order in any::<bool>(),
        ) -> TlsPolicy {
            TlsPolicy { versions, tls12, tls13, cert_key: key, prefer_server_order }
        }
    }

    prop_compose! {
        fn arb_offer()(
            versions in prop::collection::vec(arb_version(), 0..4),
            suites in prop::collection::vec(arb_code(), 0..10),
        ) -> ClientOffer {
            ClientOffer { versions, suites }
        }
    }

    /// A name the cipher parsers may meet: usable, unusable, restricted, categories, junk.
    fn arb_cipher_term() -> impl Strategy<Value = String> {
        let mut names: Vec<String> = SUITES
            .iter()
            .flat_map(|s| [s.openssl.to_string(), s.iana.to_string()])
            .collect();
        names.extend(UNUSABLE_TLS12.iter().map(|(o, _)| o.to_string()));
        names.extend(UNUSABLE_TLS13.iter().map(|n| n.to_string()));
        names.extend(
            [
                "aNULL",
                "RC4-MD5",
                "HIGH",
                "ECDSA",
                "CHACHA20",
                "SRP",
                "DES-CBC3-SHA",
            ]
            .map(String::from),
        );
        prop_oneof![
            6 => (prop::sample::select(names), prop::sample::select(vec!["", "", "", "!", "-"]))
                .prop_map(|(n, op)| format!("{op}{n}")),
            1 => "[!+@A-Za-z0-9_-]{0,12}",
        ]
    }

    proptest! {
        #[test]
        fn accepted_lists_have_no_holes_and_order_does_not_matter(mut picks in proptest::collection::vec(0usize..4, 0..6)) {
            let names: Vec<&str> = picks.iter().map(|&i| TlsVersion::ALL[i].name()).collect();
            // The error names the list as written; compare which version is missing.
            let norm = |r: Result<TlsVersions, TlsVersionError>| r.map_err(|e| match e {
                TlsVersionError::Hole { missing, .. } => missing,
                TlsVersionError::Unknown(_) => "unknown",
            });
            let a = norm(parse_tls_versions(&names.join(",")));
            picks.reverse();
            let names_rev: Vec<&str> = picks.iter().map(|&i| TlsVersion::ALL[i].name()).collect();
            prop_assert_eq!(&a, &norm(parse_tls_versions(&names_rev.join(","))));
            if let Ok(v) = a {
                let mut all: Vec<TlsVersion> = v.enabled.iter().chain(&v.dropped).copied().collect();
                all.sort();
                for w in all.windows(2) {
                    prop_assert_eq!(w[1] as usize, w[0] as usize + 1);
                }
                prop_assert!(v.enabled.iter().all(|x| x.supported()));
            }
        }

        #[test]
        fn fuzz_body_is_total(s in "\\PC{0,40}") {
            fuzz_tls_versions(s.as_bytes());
        }

        /// The rustls rule: the version is the highest one both enable, chosen before suites;
        /// a negotiated suite is of that version, offered, configured and usable with the key,
        /// and is the first such in the deciding side's order.
        #[test]
        fn prediction_follows_the_rustls_rule(p in arb_policy(), o in arb_offer()) {
            let result = predict(&p, &o);
            let common = |v: TlsVersion| o.versions.contains(&v) && p.enables(v);
            let highest = [V1_3, V1_2].into_iter().find(|&v| common(v));
            let candidates = |v: TlsVersion| -> Vec<u16> {
                p.suites()
                    .filter(|s| s.version() == v && s.usable_with(p.cert_key) && o.suites.contains(&s.code))
                    .map(|s| s.code)
                    .collect()
            };
            match result {
                Prediction::Failed(FailureReason::ServerUnusable) => prop_assert!(p.check().is_err()),
                Prediction::Failed(FailureReason::NoCommonVersion) => {
                    prop_assert!(p.check().is_ok());
                    prop_assert_eq!(highest, None);
                }
                Prediction::Failed(FailureReason::NoCommonSuite) => {
                    let v = highest.unwrap();
                    prop_assert!(candidates(v).is_empty());
                }
                Prediction::Negotiated { version, suite: chosen } => {
                    prop_assert_eq!(Some(version), highest);
                    let c = candidates(version);
                    prop_assert!(c.contains(&chosen));
                    let first = if p.prefer_server_order {
                        c.first().copied()
                    } else {
                        o.suites.iter().copied().find(|x| c.contains(x))
                    };
                    prop_assert_eq!(Some(chosen), first);
                }
            }
        }

        /// Where the manual's rule ("highest version with a common compatible cipher") and
        /// rustls differ, it is only by rustls failing where the manual falls back.
        #[test]
        fn manual_rule_differs_only_by_missing_fallback(p in arb_policy(), o in arb_offer()) {
            let manual = [V1_3, V1_2].into_iter().find(|&v| {
                o.versions.contains(&v) && p.enables(v) && p.suites().any(|s| {
                    s.version() == v && s.usable_with(p.cert_key) && o.suites.contains(&s.code)
                })
            });
            match predict(&p, &o) {
                Prediction::Negotiated { version, .. } => prop_assert_eq!(Some(version), manual),
                Prediction::Failed(FailureReason::NoCommonSuite) => {
                    prop_assert!(manual.is_none() || manual == Some(V1_2));
                }
                Prediction::Failed(_) => prop_assert_eq!(manual, None),
            }
        }

        #[test]
        fn version_list_order_does_not_matter(p in arb_policy(), o in arb_offer(), seed in any::<u64>()) {
            let mut q = p.clone();
            q.versions.reverse();
            let n = q.versions.len().max(1);
            q.versions.rotate_left((seed as usize) % n);
            prop_assert_eq!(predict(&p, &o), predict(&q, &o));
            // Suite order may change the suite, never the version or the outcome kind.
            let mut r = p.clone();
            r.tls12.reverse();
            r.tls13.reverse();
            let version = |x: Prediction| match x {
                Prediction::Negotiated { version, .. } => Ok(version),
                Prediction::Failed(f) => Err(f),
            };
            prop_assert_eq!(version(predict(&p, &o)), version(predict(&r, &o)));
            let mut o2 = o.clone();
            o2.versions.reverse();
            prop_assert_eq!(predict(&p, &o), predict(&p, &o2));
        }

        #[test]
        fn cipher_lists_round_trip(terms in prop::collection::vec(arb_cipher_term(), 0..8), sep in prop::sample::select(vec![":", ",", " ", ";"])) {
            let value = terms.join(sep);
            fuzz_cipher_lists(value.as_bytes());
            let value13 = terms.join(":");
            fuzz_cipher_lists(value13.as_bytes());
            if let Ok(l) = parse_ssl_cipher(&value) {
                prop_assert!(!l.codes.is_empty());
                let printed = l.ssl_cipher_string();
                prop_assert_eq!(parse_ssl_cipher(&printed).map(|x| x.codes), Ok(l.codes.clone()));
                let p = TlsPolicy { tls12: l.codes.clone(), ..TlsPolicy::mysql_default(CertKeyType::Rsa) };
                prop_assert!(ssl_cipher_list(&p).ends_with(&printed));
            }
        }

        #[test]
        fn cipher_parsers_are_total(s in "\\PC{0,60}") {
            fuzz_cipher_lists(s.as_bytes());
        }
    }
}
