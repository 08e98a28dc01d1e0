//! TLS policy rules as MySQL 8.0 states them (reference §7.1, §7.2): the `tls_version` list and
//! the names `Ssl_cipher` reports.
//!
//! Owns: parsing and validating `tls_version`, and the mapping between IANA cipher-suite codes and
//! the names MySQL shows. Never does: build a TLS configuration (the server does that from the
//! decisions made here) or any I/O.
//!
//! Order of the two `tls_version` rules (a deliberate choice; MySQL documents the first rule but
//! never enforces it): **holes are checked first, on the list as written**, over the four versions
//! MySQL has ever known (TLSv1, TLSv1.1, TLSv1.2, TLSv1.3); **then** versions the TLS library
//! cannot do (TLSv1, TLSv1.1 with rustls) are dropped with a warning. So `TLSv1.1,TLSv1.3` is
//! rejected (hole: TLSv1.2) and `TLSv1.1,TLSv1.2` becomes `TLSv1.2` with a warning.

/// A TLS protocol version MySQL knows by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TlsVersion {
    V1_0,
    V1_1,
    V1_2,
    V1_3,
}

impl TlsVersion {
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
pub enum TlsVersionError {
    #[error("unknown TLS version '{0}' in tls_version")]
    Unknown(String),
    #[error("tls_version '{list}' has a hole: {missing} is missing between the versions listed")]
    Hole { list: String, missing: &'static str },
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
    pub code: u16,
    pub iana: &'static str,
    /// OpenSSL name (what `Ssl_cipher` shows for TLS ≤ 1.2; TLS 1.3 shows the IANA name).
    pub openssl: &'static str,
    pub tls13: bool,
}

/// The suites of rustls's aws-lc-rs provider, in MySQL's default preference order.
pub const SUITES: &[SuiteName] = &[
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
        code: 0x1301,
        iana: "TLS_AES_128_GCM_SHA256",
        openssl: "TLS_AES_128_GCM_SHA256",
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
    SUITES.iter().find(|s| s.code == code).map(|s| s.openssl)
}

/// Fuzz body: parsing never panics; an accepted list re-joined parses to the same result and has
/// no hole.
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
    }
}
