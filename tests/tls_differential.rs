//! Differential test of `vestibule::tls_policy::predict` against real rustls handshakes.
//!
//! Each case generates a server policy (enabled versions, TLS 1.2 and TLS 1.3 suite lists in
//! random order, certificate key type, whose order decides) and a rustls client (versions, suites
//! in random order), builds the server context with `server::tls_files::server_config`, runs a
//! complete handshake over in-memory buffers and checks that the prediction — configuration
//! refused, no common version, no common suite, or the negotiated version and suite — is exactly
//! what happened.

use std::sync::{Arc, OnceLock};

use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};
use rcgen::{
    CertificateParams, KeyPair, RsaKeySize, PKCS_ECDSA_P256_SHA256, PKCS_ECDSA_P384_SHA384,
    PKCS_ED25519, PKCS_RSA_SHA256,
};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{aws_lc_rs, CryptoProvider};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{
    ClientConfig, ClientConnection, DigitallySignedStruct, PeerIncompatible, ProtocolVersion,
    ServerConfig, ServerConnection, SignatureScheme, SupportedProtocolVersion,
};
use vestibule::server::tls_files::{server_config, CertInfo, TlsFileError, TlsMaterial};
use vestibule::tls_policy::{
    parse_ssl_cipher, parse_tls_ciphersuites, predict, ssl_cipher_name, CertKeyType, ClientOffer,
    FailureReason, PolicyError, Prediction, TlsPolicy, TlsVersion, SUITES,
};

fn rustls_versions(versions: &[TlsVersion]) -> Vec<&'static SupportedProtocolVersion> {
    versions
        .iter()
        .filter_map(|v| match v {
            TlsVersion::V1_2 => Some(&rustls::version::TLS12),
            TlsVersion::V1_3 => Some(&rustls::version::TLS13),
            _ => None,
        })
        .collect()
}

fn version_of(v: ProtocolVersion) -> TlsVersion {
    match v {
        ProtocolVersion::TLSv1_2 => TlsVersion::V1_2,
        ProtocolVersion::TLSv1_3 => TlsVersion::V1_3,
        other => panic!("unexpected version {other:?}"),
    }
}

/// One self-signed certificate per key type, generated once for the whole test binary.
fn material(key: CertKeyType) -> &'static TlsMaterial {
    static CERTS: OnceLock<Vec<(CertKeyType, TlsMaterial)>> = OnceLock::new();
    let all = CERTS.get_or_init(|| {
        CertKeyType::ALL
            .into_iter()
            .map(|k| {
                let pair = match k {
                    CertKeyType::Rsa => {
                        KeyPair::generate_rsa_for(&PKCS_RSA_SHA256, RsaKeySize::_2048)
                    }
                    CertKeyType::EcdsaP256 => KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256),
                    CertKeyType::EcdsaP384 => KeyPair::generate_for(&PKCS_ECDSA_P384_SHA384),
                    CertKeyType::Ed25519 => KeyPair::generate_for(&PKCS_ED25519),
                }
                .unwrap();
                let cert = CertificateParams::new(vec!["localhost".to_string()])
                    .unwrap()
                    .self_signed(&pair)
                    .unwrap();
                let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pair.serialize_der()));
                let info = CertInfo {
                    not_before: String::new(),
                    not_after: String::new(),
                    subject: "/CN=localhost".into(),
                    issuer: "/CN=localhost".into(),
                };
                let m = TlsMaterial {
                    cert_chain: vec![cert.der().clone()],
                    key,
                    client_roots: None,
                    crls: Vec::new(),
                    server_cert: info,
                };
                (k, m)
            })
            .collect()
    });
    &all.iter().find(|(k, _)| *k == key).unwrap().1
}

/// Accepts any server certificate but checks the handshake signatures, so every signature
/// scheme of the provider is offered and really used.
#[derive(Debug)]
struct AnyCert(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCert {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// The server context exactly as the server would build it, plus the suite-order switch.
fn server(policy: &TlsPolicy) -> Result<Arc<ServerConfig>, TlsFileError> {
    let codes: Vec<u16> = policy.tls13.iter().chain(&policy.tls12).copied().collect();
    let config = server_config(
        material(policy.cert_key),
        &rustls_versions(&policy.versions),
        Some(vestibule::server::tls_files::rustls_suites(&codes)),
    )?;
    let mut config = (*config).clone();
    config.ignore_client_order = policy.prefer_server_order;
    Ok(Arc::new(config))
}

fn client(versions: &[TlsVersion], suites: &[u16]) -> Result<Arc<ClientConfig>, rustls::Error> {
    let mut provider = aws_lc_rs::default_provider();
    provider.cipher_suites = vestibule::server::tls_files::rustls_suites(suites);
    let provider = Arc::new(provider);
    let config = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(&rustls_versions(versions))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCert(provider)))
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Which side failed and how.
#[derive(Debug)]
enum Failure {
    Server(rustls::Error),
    Client(rustls::Error),
}

/// Runs the handshake over in-memory buffers; on success returns the version and suite both
/// sides agree on.
fn handshake(
    server: Arc<ServerConfig>,
    client: Arc<ClientConfig>,
) -> Result<(TlsVersion, u16), Failure> {
    let mut server = ServerConnection::new(server).unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let mut client = ClientConnection::new(client, name).unwrap();
    for _ in 0..10 {
        let mut buf = Vec::new();
        while client.wants_write() {
            client.write_tls(&mut buf).unwrap();
        }
        let mut rd = &buf[..];
        while !rd.is_empty() {
            server.read_tls(&mut rd).unwrap();
        }
        server.process_new_packets().map_err(Failure::Server)?;
        let mut buf = Vec::new();
        while server.wants_write() {
            server.write_tls(&mut buf).unwrap();
        }
        let mut rd = &buf[..];
        while !rd.is_empty() {
            client.read_tls(&mut rd).unwrap();
        }
        client.process_new_packets().map_err(Failure::Client)?;
        if !server.is_handshaking() && !client.is_handshaking() {
            let version = version_of(server.protocol_version().unwrap());
            let suite = u16::from(server.negotiated_cipher_suite().unwrap().suite());
            assert_eq!(client.protocol_version().map(version_of), Some(version));
            assert_eq!(
                client
                    .negotiated_cipher_suite()
                    .map(|s| u16::from(s.suite())),
                Some(suite)
            );
            return Ok((version, suite));
        }
    }
    panic!("handshake did not finish in 10 flights");
}

/// What actually happened, in the prediction's terms.
fn actual(policy: &TlsPolicy, client_versions: &[TlsVersion], client_suites: &[u16]) -> Prediction {
    let server = match server(policy) {
        Ok(s) => s,
        Err(TlsFileError::NoVersions) => {
            assert_eq!(policy.check(), Err(PolicyError::NoVersions));
            return Prediction::Failed(FailureReason::ServerUnusable);
        }
        Err(TlsFileError::Ciphers(_)) => {
            assert_eq!(policy.check(), Err(PolicyError::NoCiphers));
            return Prediction::Failed(FailureReason::ServerUnusable);
        }
        Err(e) => panic!("unexpected server_config error: {e}"),
    };
    let client = match client(client_versions, client_suites) {
        Ok(c) => c,
        Err(e) => {
            // rustls refuses a client with no suite for any of its versions: it could offer
            // nothing, which the offer model expresses as no versions.
            let offer = ClientOffer::rustls_client(client_versions, client_suites);
            assert!(offer.versions.is_empty(), "client refused: {e}");
            return Prediction::Failed(FailureReason::NoCommonVersion);
        }
    };
    match handshake(server, client) {
        Ok((version, suite)) => {
            assert!(ssl_cipher_name(suite).is_some(), "no Ssl_cipher name");
            Prediction::Negotiated { version, suite }
        }
        Err(Failure::Server(rustls::Error::PeerIncompatible(
            PeerIncompatible::Tls12NotOfferedOrEnabled,
        ))) => Prediction::Failed(FailureReason::NoCommonVersion),
        Err(Failure::Server(rustls::Error::PeerIncompatible(
            PeerIncompatible::NoCipherSuitesInCommon,
        ))) => Prediction::Failed(FailureReason::NoCommonSuite),
        Err(Failure::Server(e)) => panic!("unexpected server failure: {e}"),
        Err(Failure::Client(e)) => panic!("the client failed before the server: {e}"),
    }
}

/// The prediction for a rustls client configured with `versions` and `suites`. A client rustls
/// refuses to build is treated like one offering nothing.
fn predicted(policy: &TlsPolicy, versions: &[TlsVersion], suites: &[u16]) -> Prediction {
    predict(policy, &ClientOffer::rustls_client(versions, suites))
}

fn all_codes(tls13: bool) -> Vec<u16> {
    SUITES
        .iter()
        .filter(|s| s.tls13 == tls13)
        .map(|s| s.code)
        .collect()
}

/// A random subset in random order.
fn shuffled_subset(all: Vec<u16>) -> impl Strategy<Value = Vec<u16>> {
    let n = all.len();
    proptest::sample::subsequence(all, 0..=n).prop_shuffle()
}

fn versions() -> impl Strategy<Value = Vec<TlsVersion>> {
    prop_oneof![
        1 => Just(vec![]),
        3 => Just(vec![TlsVersion::V1_2]),
        3 => Just(vec![TlsVersion::V1_3]),
        6 => Just(vec![TlsVersion::V1_2, TlsVersion::V1_3]),
        1 => Just(vec![TlsVersion::V1_3, TlsVersion::V1_2]),
    ]
}

prop_compose! {
    fn policies()(
        versions in versions(),
        tls12 in shuffled_subset(all_codes(false)),
        tls13 in shuffled_subset(all_codes(true)),
        cert_key in prop::sample::select(CertKeyType::ALL.to_vec()),
        prefer_server_order in any::<bool>(),
    ) -> TlsPolicy {
        TlsPolicy { versions, tls12, tls13, cert_key, prefer_server_order }
    }
}

/// A client: versions and all nine suites' subset in random order (TLS 1.2 and 1.3 mixed).
fn clients() -> impl Strategy<Value = (Vec<TlsVersion>, Vec<u16>)> {
    let all: Vec<u16> = SUITES.iter().map(|s| s.code).collect();
    (versions(), shuffled_subset(all))
}

proptest! {
    #![proptest_config(Config {
        cases: 256,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/proptest-regressions/tls_differential.txt"
        )))),
        ..Config::default()
    })]

    #[test]
    fn prediction_matches_rustls(policy in policies(), (cv, cs) in clients()) {
        let expected = predicted(&policy, &cv, &cs);
        let got = actual(&policy, &cv, &cs);
        prop_assert_eq!(expected, got, "policy {:?}, client {:?} {:04x?}", policy, cv, cs);
    }
}

/// The generators reach every outcome: a deterministic run of the same strategies must see each
/// failure kind, both versions, both order modes deciding a suite, and every key type negotiate.
#[test]
fn generated_cases_cover_every_outcome() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = (policies(), clients());
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..256 {
        let (policy, (cv, cs)) = strategy.new_tree(&mut runner).unwrap().current();
        let got = actual(&policy, &cv, &cs);
        assert_eq!(
            got,
            predicted(&policy, &cv, &cs),
            "{policy:?} {cv:?} {cs:04x?}"
        );
        seen.insert(match got {
            Prediction::Failed(reason) => format!("{reason:?}"),
            Prediction::Negotiated { version, .. } => format!(
                "{} {:?} server-order={}",
                version.name(),
                policy.cert_key,
                policy.prefer_server_order
            ),
        });
    }
    for want in ["ServerUnusable", "NoCommonVersion", "NoCommonSuite"] {
        assert!(seen.contains(want), "{want} never generated: {seen:?}");
    }
    for version in ["TLSv1.2", "TLSv1.3"] {
        for key in CertKeyType::ALL {
            for order in [false, true] {
                let want = format!("{version} {key:?} server-order={order}");
                assert!(seen.contains(&want), "{want} never generated: {seen:?}");
            }
        }
    }
}

const RSA_128: u16 = 0xC02F;
const AES128: u16 = 0x1301;
const AES256: u16 = 0x1302;

/// Reference open question 6: a client offering TLS 1.3 that shares no TLS 1.3 suite with the
/// server does not fall back to TLS 1.2, even though a TLS 1.2 suite is common.
#[test]
fn no_fallback_to_tls12_without_a_common_tls13_suite() {
    let policy = TlsPolicy {
        versions: vec![TlsVersion::V1_2, TlsVersion::V1_3],
        tls12: vec![RSA_128],
        tls13: vec![AES128],
        cert_key: CertKeyType::Rsa,
        prefer_server_order: false,
    };
    let both = [TlsVersion::V1_2, TlsVersion::V1_3];
    let got = actual(&policy, &both, &[AES256, RSA_128]);
    assert_eq!(got, Prediction::Failed(FailureReason::NoCommonSuite));
    assert_eq!(got, predicted(&policy, &both, &[AES256, RSA_128]));
    // The same client limited to TLS 1.2 connects.
    assert_eq!(
        actual(&policy, &[TlsVersion::V1_2], &[AES256, RSA_128]),
        Prediction::Negotiated {
            version: TlsVersion::V1_2,
            suite: RSA_128
        }
    );
}

/// From configuration strings to a handshake: MySQL defaults against a default rustls client
/// (which prefers AES-256-GCM) give TLS 1.3 with the client's choice, or MySQL's first suite when
/// the server's order decides; `tls_ciphersuites=''` forces TLS 1.2.
#[test]
fn parsed_settings_drive_the_handshake() {
    let default_client: Vec<u16> = aws_lc_rs::default_provider()
        .cipher_suites
        .iter()
        .map(|s| u16::from(s.suite()))
        .collect();
    let both = [TlsVersion::V1_2, TlsVersion::V1_3];
    let mut policy = TlsPolicy::mysql_default(CertKeyType::Rsa);
    assert_eq!(
        actual(&policy, &both, &default_client),
        Prediction::Negotiated {
            version: TlsVersion::V1_3,
            suite: AES256
        }
    );
    policy.prefer_server_order = true;
    assert_eq!(
        actual(&policy, &both, &default_client),
        Prediction::Negotiated {
            version: TlsVersion::V1_3,
            suite: AES128
        }
    );

    let tls12 =
        parse_ssl_cipher("DHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-CHACHA20-POLY1305:!aNULL").unwrap();
    assert_eq!(tls12.dropped, ["DHE-RSA-AES128-GCM-SHA256"]);
    let tls13 = parse_tls_ciphersuites("").unwrap();
    let policy = TlsPolicy {
        tls12: tls12.codes,
        tls13: tls13.codes,
        ..TlsPolicy::mysql_default(CertKeyType::Rsa)
    };
    let got = actual(&policy, &both, &default_client);
    assert_eq!(
        got,
        Prediction::Negotiated {
            version: TlsVersion::V1_2,
            suite: 0xCCA8
        }
    );
    assert_eq!(ssl_cipher_name(0xCCA8), Some("ECDHE-RSA-CHACHA20-POLY1305"));
    assert_eq!(got, predicted(&policy, &both, &default_client));
}
