//! The rustls server context (MySQL's "SSL context") built from loaded material under the TLS
//! policy: `tls_version`, `ssl_cipher` and `tls_ciphersuites` as [`crate::tls_policy`] decides
//! them, on the aws-lc-rs provider, with MySQL's client-certificate verify mode.
//!
//! Owns the translation of the policy and the material into a [`ServerConfig`]. It never reads
//! files (that is [`super::load`]) and never decides when a context is (re)built.

use std::sync::Arc;

use rustls::crypto::aws_lc_rs;
use rustls::server::WebPkiClientVerifier;
use rustls::{ServerConfig, SupportedCipherSuite, SupportedProtocolVersion};
use tracing::warn;

use super::{TlsError, TlsFileError, TlsMaterial};
use crate::tls_policy::{
    parse_tls_versions, ssl_cipher_setting, tls_ciphersuites_setting, CertKeyType, CipherList,
    TlsPolicy, TlsVersion, TlsVersions,
};

/// TLS 1.2 and TLS 1.3: MySQL 8's default `tls_version`.
pub fn default_versions() -> Vec<&'static SupportedProtocolVersion> {
    vec![&rustls::version::TLS12, &rustls::version::TLS13]
}

/// Builds the server context from `material` on the aws-lc-rs provider. `suites` replaces the
/// provider's default cipher suites when given (the translation of `ssl_cipher` /
/// `tls_ciphersuites` happens elsewhere).
///
/// With a CA the server behaves like MySQL's verify mode 5 (`SSL_VERIFY_PEER |
/// SSL_VERIFY_CLIENT_ONCE`): it requests a client certificate, a client may send none, and one
/// that is sent must chain to the CA — and, when CRLs are configured, no certificate of its chain
/// may be revoked, each must be covered by a CRL of its issuer, and the CRLs must be current
/// (OpenSSL checks `nextUpdate`). Without a CA no certificate is requested.
pub fn server_config(
    material: &TlsMaterial,
    versions: &[&'static SupportedProtocolVersion],
    suites: Option<Vec<SupportedCipherSuite>>,
) -> Result<Arc<ServerConfig>, TlsFileError> {
    if versions.is_empty() {
        return Err(TlsFileError::NoVersions);
    }
    let mut provider = aws_lc_rs::default_provider();
    if let Some(suites) = suites {
        provider.cipher_suites = suites;
    }
    let provider = Arc::new(provider);
    let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(versions)
        .map_err(|e| TlsFileError::Ciphers(e.to_string()))?;
    let builder = match &material.client_roots {
        Some(roots) => {
            let mut verifier =
                WebPkiClientVerifier::builder_with_provider(Arc::clone(roots), provider)
                    .allow_unauthenticated();
            if !material.crls.is_empty() {
                verifier = verifier
                    .with_crls(material.crls.iter().cloned())
                    .enforce_revocation_expiration();
            }
            let verifier = verifier.build().map_err(|e| match e {
                rustls::server::VerifierBuilderError::InvalidCrl(e) => {
                    TlsFileError::CrlUnusable(format!("{e:?}"))
                }
                e => TlsFileError::Context(e.to_string()),
            })?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let config = builder
        .with_single_cert(material.cert_chain.clone(), material.key.clone_key())
        .map_err(|e| TlsFileError::Context(e.to_string()))?;
    Ok(Arc::new(config))
}

/// The provider's suites for IANA codes (as [`crate::tls_policy`] decides them), in that order;
/// codes the provider lacks are skipped.
pub fn rustls_suites(codes: &[u16]) -> Vec<SupportedCipherSuite> {
    codes
        .iter()
        .filter_map(|&code| {
            aws_lc_rs::ALL_CIPHER_SUITES
                .iter()
                .find(|s| u16::from(s.suite()) == code)
                .copied()
        })
        .collect()
}

/// The kind of the server key, which decides the usable TLS 1.2 suites.
pub fn cert_key_type(material: &TlsMaterial) -> Result<CertKeyType, TlsFileError> {
    use rustls::SignatureAlgorithm as A;
    let key = aws_lc_rs::sign::any_supported_type(&material.key)
        .map_err(|e| TlsFileError::Context(e.to_string()))?;
    Ok(match key.algorithm() {
        A::ECDSA => CertKeyType::EcdsaP256,
        A::ED25519 => CertKeyType::Ed25519,
        _ => CertKeyType::Rsa,
    })
}

/// `tls_version`, `ssl_cipher` and `tls_ciphersuites`, parsed before any file is read: a bad
/// list is reported before a missing file, as MySQL does. Names the TLS library lacks are
/// dropped here with a warning in the log.
pub(super) struct PolicyChoice {
    versions: TlsVersions,
    tls12: CipherList,
    tls13: CipherList,
}

/// A context built by [`PolicyChoice::context`].
pub(super) struct Context {
    /// The rustls configuration.
    pub config: Arc<ServerConfig>,
    /// The enabled versions.
    pub versions: Vec<TlsVersion>,
    /// What the context negotiates.
    pub policy: TlsPolicy,
}

impl PolicyChoice {
    /// Parses the three variables: the version list first (holes rejected, unsupported versions
    /// dropped with a warning, nothing left = TLS disabled), then the cipher lists.
    pub(super) fn parse(
        tls_version: &str,
        ssl_cipher: Option<&str>,
        tls_ciphersuites: Option<&str>,
    ) -> Result<PolicyChoice, TlsError> {
        let versions = parse_tls_versions(tls_version)?;
        for v in &versions.dropped {
            warn!(
                "tls_version lists {}, which this server's TLS library does not support; ignoring it",
                v.name()
            );
        }
        if versions.enabled.is_empty() {
            return Err(TlsError::NoSupportedVersion);
        }
        let tls12 = ssl_cipher_setting(ssl_cipher)?;
        let tls13 = tls_ciphersuites_setting(tls_ciphersuites)?;
        for name in tls12.dropped.iter().chain(&tls13.dropped) {
            warn!(
                cipher = name,
                "cipher not supported by this server's TLS library; ignoring it"
            );
        }
        Ok(PolicyChoice {
            versions,
            tls12,
            tls13,
        })
    }

    /// The context for `material`: the policy is checked against the certificate's key type
    /// (a warning names the versions left without a usable suite), then rustls builds it.
    pub(super) fn context(self, material: &TlsMaterial) -> Result<Context, TlsError> {
        let PolicyChoice {
            versions,
            tls12,
            tls13,
        } = self;
        let key_type = cert_key_type(material)?;
        let policy = TlsPolicy::new(&versions, &tls12, &tls13, key_type);
        policy.check()?;
        let usable = policy.usable_versions();
        if usable != versions.enabled {
            warn!(
                usable = %usable.iter().map(|v| v.name()).collect::<Vec<_>>().join(","),
                "some enabled TLS versions have no usable cipher suite with this certificate"
            );
        }
        let rustls_versions: Vec<&'static SupportedProtocolVersion> = versions
            .enabled
            .iter()
            .filter_map(|v| match v {
                TlsVersion::V1_2 => Some(&rustls::version::TLS12),
                TlsVersion::V1_3 => Some(&rustls::version::TLS13),
                _ => None,
            })
            .collect();
        let codes: Vec<u16> = tls13.codes.iter().chain(&tls12.codes).copied().collect();
        let suites = rustls_suites(&codes);
        let config = server_config(material, &rustls_versions, Some(suites))?;
        Ok(Context {
            config,
            versions: versions.enabled,
            policy,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{client_config, generated, handshake, material, now};
    use super::super::{auto_generate_certs, describe_cert};
    use super::*;

    #[test]
    fn config_errors_use_mysql_texts() {
        let m = material(false);
        let err = server_config(&m, &[], None).unwrap_err();
        assert_eq!(err.to_string(), "TLS version is invalid");
        let tls13_only: Vec<_> = aws_lc_rs::default_provider()
            .cipher_suites
            .into_iter()
            .filter(|s| s.version() == &rustls::version::TLS13)
            .collect();
        let err = server_config(&m, &[&rustls::version::TLS12], Some(tls13_only)).unwrap_err();
        assert!(err.to_string().starts_with("Failed to set ciphers to use"));
    }

    #[test]
    fn tls13_handshake_with_and_without_client_certificate() {
        let config = server_config(&material(true), &default_versions(), None).unwrap();

        let server = handshake(
            Arc::clone(&config),
            client_config(Some(generated())),
            "localhost",
        )
        .unwrap();
        assert_eq!(
            server.protocol_version(),
            Some(rustls::ProtocolVersion::TLSv1_3)
        );
        let peer = server.peer_certificates().unwrap();
        assert_eq!(
            describe_cert(&peer[0]).unwrap().subject,
            "/CN=Vestibule_Auto_Generated_Client_Certificate"
        );

        // Verify mode 5: a client without a certificate is still accepted.
        let server = handshake(Arc::clone(&config), client_config(None), "localhost").unwrap();
        assert!(server.peer_certificates().is_none());

        // The SANs make identity verification work for the configured host name and IPs.
        handshake(Arc::clone(&config), client_config(None), "db1.example.com").unwrap();
        handshake(Arc::clone(&config), client_config(None), "127.0.0.1").unwrap();
        handshake(Arc::clone(&config), client_config(None), "::1").unwrap();
        let err = handshake(config, client_config(None), "other.example.com").unwrap_err();
        assert!(matches!(err, rustls::Error::InvalidCertificate(_)), "{err}");
    }

    #[test]
    fn tls12_handshake_and_no_client_auth_without_ca() {
        let config = server_config(&material(false), &[&rustls::version::TLS12], None).unwrap();
        let server = handshake(config, client_config(Some(generated())), "localhost").unwrap();
        assert_eq!(
            server.protocol_version(),
            Some(rustls::ProtocolVersion::TLSv1_2)
        );
        assert!(
            server.peer_certificates().is_none(),
            "no certificate requested"
        );
    }

    #[test]
    fn client_certificate_from_another_ca_is_refused() {
        let config = server_config(&material(true), &default_versions(), None).unwrap();
        let other = tempfile::tempdir().unwrap();
        auto_generate_certs(other.path(), "", now()).unwrap();
        let err = handshake(config, client_config(Some(other.path())), "localhost").unwrap_err();
        // Same CA subject, different key: the server rejects the signature.
        assert!(matches!(err, rustls::Error::InvalidCertificate(_)), "{err}");
    }
}
