//! Step-by-step tests of the connection-phase machine: each drives [`Handshake`] event by event
//! and checks the actions of every step, where the scenario tests (`tests.rs`) check whole
//! traces. They pin whose turn it is, the size limits, the lengths of full-authentication input,
//! [`SlowCheck::run`], COM_CHANGE_USER's choice between switching and verifying, and the REQUIRE
//! clauses.

use super::tests::{account, params, response, CLIENT_CAPS, CS2, NONCE};
use super::*;
use crate::auth::{caching_sha2, native};
use crate::wire::handshake::{encode_ssl_request, ClientHeader};

/// The payloads of every `Send` (one `Send` may carry several packets).
fn payloads(actions: &[Action]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for a in actions {
        if let Action::Send(bytes) = a {
            let mut rest = bytes.as_slice();
            while let [a, b, c, _seq, tail @ ..] = rest {
                let len = u32::from_le_bytes([*a, *b, *c, 0]) as usize;
                let (payload, next) = tail.split_at(len);
                out.push(payload.to_vec());
                rest = next;
            }
            assert!(rest.is_empty(), "partial packet in a Send");
        }
    }
    out
}

fn failure(actions: &[Action]) -> Option<&HandshakeError> {
    actions.iter().find_map(|a| match a {
        Action::Failed(e) => Some(e),
        _ => None,
    })
}

fn runs_slow_check(actions: &[Action]) -> bool {
    actions.iter().any(|a| matches!(a, Action::RunSlowCheck(_)))
}

fn closes(actions: &[Action]) -> bool {
    matches!(actions.last(), Some(Action::Close))
}

fn authenticated(actions: &[Action]) -> bool {
    actions
        .iter()
        .any(|a| matches!(a, Action::Authenticated(_)))
}

/// The client's next packet, with the sequence id the machine expects.
fn packet(hs: &mut Handshake, payload: &[u8]) -> Vec<Action> {
    let seq = hs.expected_seq();
    hs.handle(Event::Packet { seq, payload })
}

fn denied(actions: &[Action]) -> bool {
    matches!(failure(actions), Some(HandshakeError::AccessDenied { .. })) && closes(actions)
}

/// The login OK: no rows, no insert id, SERVER_STATUS_AUTOCOMMIT, no warnings.
fn ok_packet() -> Vec<u8> {
    vec![0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00]
}

/// Events delivered out of turn, and the accessors that tell the driver whose turn it is.
mod turns {
    use super::*;

    #[test]
    fn events_out_of_turn_close_silently_naming_event_and_state() {
        let cases: Vec<(Event<'static>, &str)> = vec![
            (
                Event::Verdict(Verdict {
                    password_ok: true,
                    digest: None,
                    cleartext: None,
                }),
                "Verdict",
            ),
            (
                Event::Account(Lookup::Unknown {
                    decoy_plugin: Plugin::CachingSha2Password,
                }),
                "Account",
            ),
            (
                Event::TlsEstablished(TlsInfo {
                    version: "TLSv1.3".into(),
                    cipher: "TLS_AES_128_GCM_SHA256".into(),
                    peer_cert: None,
                    resumed: false,
                }),
                "TlsEstablished",
            ),
        ];
        for (event, name) in cases {
            let (mut hs, _) = Handshake::new(params(Transport::Tcp, true, false));
            let actions = hs.handle(event);
            assert_eq!(
                failure(&actions),
                Some(&HandshakeError::UnexpectedEvent {
                    event: name,
                    state: "ExpectFirstPacket"
                })
            );
            assert!(
                payloads(&actions).is_empty(),
                "no ERR packet for a driver bug"
            );
            assert!(closes(&actions));
            assert!(hs.is_finished());
        }
    }

    /// A client packet while the machine waits for the account lookup (or for TLS) is an event
    /// out of turn, not a packet to parse.
    #[test]
    fn packet_while_waiting_for_the_driver_is_an_unexpected_event() {
        let (mut hs, _) = Handshake::new(params(Transport::Tcp, false, false));
        let actions = packet(
            &mut hs,
            &response("app", &[1; 32], Some(CS2), None, CLIENT_CAPS),
        );
        assert!(matches!(
            actions.as_slice(),
            [Action::LookupAccount { user }] if user == "app"
        ));
        assert_eq!(hs.state_name(), "ExpectAccount");
        assert!(!hs.wants_packet());
        let actions = packet(&mut hs, &[0x01]);
        assert_eq!(
            failure(&actions),
            Some(&HandshakeError::UnexpectedEvent {
                event: "Packet",
                state: "ExpectAccount"
            })
        );

        let (mut hs, _) = Handshake::new(params(Transport::Tcp, true, false));
        let actions = packet(
            &mut hs,
            &encode_ssl_request(&ClientHeader {
                capabilities: CLIENT_CAPS | CLIENT_SSL,
                max_packet_size: 1 << 24,
                character_set: 255,
            }),
        );
        assert!(matches!(actions.as_slice(), [Action::StartTls]));
        assert!(!hs.wants_packet());
        let actions = packet(
            &mut hs,
            &response("app", &[1; 32], Some(CS2), None, CLIENT_CAPS),
        );
        assert_eq!(
            failure(&actions),
            Some(&HandshakeError::UnexpectedEvent {
                event: "Packet",
                state: "ExpectTls"
            })
        );
    }

    #[test]
    fn wants_packet_and_is_finished_follow_a_fast_path_login() {
        let pw = "Fast-pw1";
        let (mut hs, _) = Handshake::new(params(Transport::Tcp, false, false));
        assert!(hs.wants_packet());
        assert!(!hs.is_finished());

        let scramble = caching_sha2::client_scramble(pw.as_bytes(), &Nonce::from_wire(NONCE));
        let actions = packet(
            &mut hs,
            &response("app", &scramble, Some(CS2), None, CLIENT_CAPS),
        );
        assert!(matches!(actions.as_slice(), [Action::LookupAccount { .. }]));
        assert!(!hs.wants_packet());
        assert!(!hs.is_finished());

        let actions = hs.handle(Event::Account(Lookup::Found {
            account: Arc::new(account("app", Plugin::CachingSha2Password, pw)),
            cached: Some(caching_sha2::cached_digest(pw.as_bytes())),
            cached_secondary: None,
        }));
        assert!(authenticated(&actions));
        assert_eq!(payloads(&actions), vec![vec![0x01, 0x03], ok_packet()]);
        assert!(hs.is_finished());
        assert!(!hs.wants_packet());
    }

    #[test]
    fn a_failed_login_is_finished_and_wants_nothing() {
        let (mut hs, _) = Handshake::new(params(Transport::Tcp, false, false));
        let actions = packet(&mut hs, b"not a handshake response");
        assert_eq!(failure(&actions), Some(&HandshakeError::BadHandshake));
        assert!(hs.is_finished());
        assert!(!hs.wants_packet());
    }
}

/// [`CONNECTION_PHASE_MAX_PACKET`] is the largest payload accepted, on the header and on the
/// payload.
mod packet_size_limit {
    use super::*;

    fn raw_header(len: usize, seq: u8) -> [u8; 4] {
        let b = (len as u32).to_le_bytes();
        [b[0], b[1], b[2], seq]
    }

    #[test]
    fn header_of_exactly_the_limit_is_accepted_one_more_is_refused() {
        let (mut hs, _) = Handshake::new(params(Transport::Tcp, false, false));
        let h = hs
            .check_header(raw_header(CONNECTION_PHASE_MAX_PACKET, 1))
            .expect("a payload of exactly the limit is allowed");
        assert_eq!(h.len, CONNECTION_PHASE_MAX_PACKET);
        assert!(!hs.is_finished());

        let actions = hs
            .check_header(raw_header(CONNECTION_PHASE_MAX_PACKET + 1, 1))
            .unwrap_err();
        assert_eq!(failure(&actions), Some(&HandshakeError::PacketTooLarge));
        assert_eq!(payloads(&actions).len(), 1, "the 1153 ERR packet");
        assert!(closes(&actions));
    }

    #[test]
    fn payload_of_exactly_the_limit_is_parsed_one_more_is_refused() {
        let (mut hs, _) = Handshake::new(params(Transport::Tcp, false, false));
        let actions = packet(&mut hs, &vec![0u8; CONNECTION_PHASE_MAX_PACKET]);
        // Parsed (and found malformed), not refused for its size.
        assert_eq!(failure(&actions), Some(&HandshakeError::BadHandshake));

        let (mut hs, _) = Handshake::new(params(Transport::Tcp, false, false));
        let actions = packet(&mut hs, &vec![0u8; CONNECTION_PHASE_MAX_PACKET + 1]);
        assert_eq!(failure(&actions), Some(&HandshakeError::PacketTooLarge));
    }

    /// MySQL accepts up to 64 KiB of connect attributes, so a HandshakeResponse41 carrying that
    /// much must pass the connection-phase size limit.
    #[test]
    fn a_response_with_64_kib_of_connect_attributes_is_accepted() {
        let mut r =
            HandshakeResponse41::parse(&response("app", &[1; 32], Some(CS2), None, CLIENT_CAPS))
                .unwrap();
        r.header.capabilities |= CLIENT_CONNECT_ATTRS;
        r.connect_attrs = vec![(b"_client_name".to_vec(), vec![b'x'; 65_000])];
        let payload = r.encode();
        assert!(payload.len() > 65_000);
        let (mut hs, _) = Handshake::new(params(Transport::Tcp, false, false));
        assert!(hs.check_header(raw_header(payload.len(), 1)).is_ok());
        let actions = packet(&mut hs, &payload);
        assert!(
            matches!(actions.as_slice(), [Action::LookupAccount { user }] if user == "app"),
            "{:?}",
            failure(&actions)
        );
    }
}

/// Full authentication refuses cleartext of the wrong length and an RSA ciphertext that is not
/// the modulus length before any hashing or decryption.
mod full_auth_input_lengths {
    use super::*;

    /// A caching_sha2 login with a cold cache, up to the server's `01 04`.
    fn at_full_auth(tls: bool, rsa: bool) -> Handshake {
        let (mut hs, _) = Handshake::new(params(Transport::Tcp, tls, rsa));
        let mut caps = CLIENT_CAPS;
        if tls {
            caps |= CLIENT_SSL;
            let ssl = encode_ssl_request(&ClientHeader {
                capabilities: caps,
                max_packet_size: 1 << 24,
                character_set: 255,
            });
            assert!(matches!(
                packet(&mut hs, &ssl).as_slice(),
                [Action::StartTls]
            ));
            assert!(hs
                .handle(Event::TlsEstablished(TlsInfo {
                    version: "TLSv1.3".into(),
                    cipher: "TLS_AES_128_GCM_SHA256".into(),
                    peer_cert: None,
                    resumed: false,
                }))
                .is_empty());
        }
        let scramble = caching_sha2::client_scramble(b"whatever", &Nonce::from_wire(NONCE));
        packet(&mut hs, &response("app", &scramble, Some(CS2), None, caps));
        let actions = hs.handle(Event::Account(Lookup::Found {
            account: Arc::new(account("app", Plugin::CachingSha2Password, "Full-pw1")),
            cached: None,
            cached_secondary: None,
        }));
        assert_eq!(payloads(&actions), vec![vec![0x01, 0x04]]);
        assert_eq!(hs.state_name(), "ExpectFullAuth");
        hs
    }

    fn cleartext(len: usize) -> Vec<u8> {
        let mut p = vec![b'p'; len];
        p.push(0);
        p
    }

    #[test]
    fn empty_cleartext_is_denied_without_hashing() {
        let mut hs = at_full_auth(true, false);
        let actions = packet(&mut hs, &[0]);
        assert!(!runs_slow_check(&actions));
        assert!(denied(&actions));
    }

    #[test]
    fn cleartext_of_max_password_len_is_checked_longer_is_denied_without_hashing() {
        let mut hs = at_full_auth(true, false);
        let actions = packet(&mut hs, &cleartext(MAX_PASSWORD_LEN));
        assert!(runs_slow_check(&actions));
        assert_eq!(hs.state_name(), "ExpectVerdict");

        let mut hs = at_full_auth(true, false);
        let actions = packet(&mut hs, &cleartext(MAX_PASSWORD_LEN + 1));
        assert!(!runs_slow_check(&actions));
        assert!(denied(&actions));
    }

    #[test]
    fn rsa_ciphertext_must_have_the_modulus_length() {
        for (len, checked) in [(255usize, false), (256, true), (257, false), (1, false)] {
            let mut hs = at_full_auth(false, true);
            let actions = packet(&mut hs, &[0x02]);
            let sent = payloads(&actions);
            assert_eq!(sent.len(), 1);
            assert!(sent[0].starts_with(b"\x01-----BEGIN PUBLIC KEY-----"));
            assert_eq!(hs.state_name(), "ExpectRsaCiphertext");
            let actions = packet(&mut hs, &vec![0x5A; len]);
            assert_eq!(
                runs_slow_check(&actions),
                checked,
                "ciphertext of {len} bytes"
            );
            if !checked {
                assert!(denied(&actions), "ciphertext of {len} bytes");
            }
        }
    }
}

/// [`SlowCheck::run`]'s own password-length refusals, and the `Debug` of the secret-carrying
/// types, which never shows a secret.
mod slow_check {
    use super::*;

    fn check(secret: &[u8], stored: AuthString) -> SlowCheck {
        SlowCheck {
            plugin: Plugin::CachingSha2Password,
            secret: SlowSecret::Cleartext(Zeroizing::new(secret.to_vec())),
            auth_string: stored,
            nonce: Nonce::from_wire(NONCE),
            keep_cleartext: false,
        }
    }

    #[test]
    fn slow_check_refuses_empty_and_overlong_passwords() {
        // Even against a stored empty string, an empty cleartext never verifies here.
        assert!(!check(b"", AuthString::Empty).run(None).password_ok);

        // mysql_native_password has no length limit of its own: only run's limit refuses 257
        // bytes.
        let long = vec![b'x'; MAX_PASSWORD_LEN + 1];
        let stored = AuthString::generate(Plugin::MysqlNativePassword, &long, [0; 20], 0);
        let v = check(&long, stored).run(None);
        assert!(!v.password_ok);
        assert!(v.digest.is_none());

        let max = vec![b'x'; MAX_PASSWORD_LEN];
        let stored = AuthString::generate(Plugin::MysqlNativePassword, &max, [0; 20], 0);
        let v = check(&max, stored).run(None);
        assert!(v.password_ok);
        assert_eq!(v.digest, Some(caching_sha2::cached_digest(&max)));
    }

    #[test]
    fn debug_of_slow_check_and_verdict_hides_the_secrets() {
        let c = check(
            b"Secret-pw1",
            AuthString::generate(Plugin::MysqlNativePassword, b"Secret-pw1", [0; 20], 0),
        );
        assert_eq!(format!("{c:?}"), "SlowCheck { kind: \"cleartext\", .. }");
        let rsa = SlowCheck {
            plugin: Plugin::CachingSha2Password,
            secret: SlowSecret::RsaCiphertext(vec![0x41; 256]),
            ..c.clone()
        };
        assert_eq!(format!("{rsa:?}"), "SlowCheck { kind: \"rsa\", .. }");

        let v = Verdict {
            password_ok: true,
            digest: Some(CachedDigest::from_bytes([0x61; 32])),
            cleartext: None,
        };
        assert_eq!(format!("{v:?}"), "Verdict { password_ok: true, .. }");
    }
}

/// COM_CHANGE_USER switches plugins only for clients with CLIENT_PLUGIN_AUTH; older clients'
/// native scramble is verified directly.
mod change_user_switch_or_verify {
    use super::*;

    fn change_user_cmd(user: &str, auth: Vec<u8>, plugin: Option<&str>) -> ChangeUser {
        ChangeUser {
            username: user.as_bytes().to_vec(),
            auth_response: auth,
            database: Vec::new(),
            character_set: None,
            client_plugin: plugin.map(|p| p.as_bytes().to_vec()),
            connect_attrs: vec![],
        }
    }

    /// A pre-plugin-auth client (no CLIENT_PLUGIN_AUTH) answers COM_CHANGE_USER with a native
    /// scramble of the connection's nonce; the server verifies it without an AuthSwitchRequest.
    #[test]
    fn change_user_without_plugin_auth_verifies_the_native_scramble() {
        let pw = "Old-pw1";
        let caps = CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION;
        let scramble = native::client_scramble(pw.as_bytes(), &Nonce::from_wire(NONCE));
        let (mut hs, actions) = Handshake::change_user(
            ServerParams {
                default_plugin: Plugin::MysqlNativePassword,
                ..params(Transport::Tcp, false, false)
            },
            caps,
            None,
            change_user_cmd("old", scramble.to_vec(), None),
        );
        assert!(matches!(actions.as_slice(), [Action::LookupAccount { user }] if user == "old"));
        let actions = hs.handle(Event::Account(Lookup::Found {
            account: Arc::new(account("old", Plugin::MysqlNativePassword, pw)),
            cached: None,
            cached_secondary: None,
        }));
        assert!(authenticated(&actions), "{:?}", failure(&actions));
        assert_eq!(payloads(&actions), vec![ok_packet()]);
    }

    /// With CLIENT_PLUGIN_AUTH the server always restarts with an AuthSwitchRequest, even when
    /// the client named the account's plugin and it is the greeting's; the switch carries the
    /// session's own nonce (the `nonce` the driver passes), never a fresh one.
    #[test]
    fn change_user_with_plugin_auth_always_switches() {
        let pw = "Fast-pw1";
        let scramble = caching_sha2::client_scramble(pw.as_bytes(), &Nonce::from_wire(NONCE));
        let (mut hs, _) = Handshake::change_user(
            params(Transport::Tcp, false, false),
            CLIENT_CAPS,
            None,
            change_user_cmd("app", scramble.to_vec(), Some(CS2)),
        );
        let actions = hs.handle(Event::Account(Lookup::Found {
            account: Arc::new(account("app", Plugin::CachingSha2Password, pw)),
            cached: Some(caching_sha2::cached_digest(pw.as_bytes())),
            cached_secondary: None,
        }));
        assert!(!authenticated(&actions));
        let sent = payloads(&actions);
        assert_eq!(sent.len(), 1);
        let mut want = b"\xfecaching_sha2_password\0".to_vec();
        want.extend_from_slice(&NONCE);
        want.push(0);
        assert_eq!(sent[0], want);
        assert_eq!(hs.state_name(), "ExpectSwitchResponse");
    }
}

/// REQUIRE ISSUER / SUBJECT / CIPHER compare exactly; REQUIRE SAN needs every listed name.
mod require_clauses {
    use super::*;

    fn tls_with_cert() -> TlsInfo {
        TlsInfo {
            version: "TLSv1.3".into(),
            cipher: "TLS_AES_256_GCM_SHA384".into(),
            peer_cert: Some(PeerCert {
                subject: "/C=US/O=Acme/CN=client".into(),
                issuer: "/C=US/O=Acme/CN=Acme CA".into(),
                san: vec!["DNS:client.example".into(), "IP:10.0.0.5".into()],
            }),
            resumed: false,
        }
    }

    fn spec(
        issuer: Option<&str>,
        subject: Option<&str>,
        cipher: Option<&str>,
        san: Option<&str>,
    ) -> Require {
        Require::Specified {
            issuer: issuer.map(String::from),
            subject: subject.map(String::from),
            cipher: cipher.map(String::from),
            san: san.map(String::from),
        }
    }

    #[test]
    fn require_cipher_issuer_subject_compare_exactly() {
        let tls = tls_with_cert();
        let ok = |r: Require| require_satisfied(&r, Some(&tls));
        assert_eq!(
            ok(spec(None, None, Some("TLS_AES_256_GCM_SHA384"), None)),
            Ok(())
        );
        assert_eq!(
            ok(spec(None, None, Some("TLS_AES_128_GCM_SHA256"), None)),
            Err(RequireFailure::CipherMismatch {
                expected: "TLS_AES_128_GCM_SHA256".into(),
                got: "TLS_AES_256_GCM_SHA384".into(),
            })
        );
        assert_eq!(
            ok(spec(Some("/C=US/O=Acme/CN=Acme CA"), None, None, None)),
            Ok(())
        );
        assert_eq!(
            ok(spec(Some("/C=US/O=Evil/CN=Acme CA"), None, None, None)),
            Err(RequireFailure::IssuerMismatch {
                expected: "/C=US/O=Evil/CN=Acme CA".into(),
                got: "/C=US/O=Acme/CN=Acme CA".into(),
            })
        );
        assert_eq!(
            ok(spec(None, Some("/C=US/O=Acme/CN=client"), None, None)),
            Ok(())
        );
        assert_eq!(
            ok(spec(None, Some("/C=US/O=Acme/CN=admin"), None, None)),
            Err(RequireFailure::SubjectMismatch {
                expected: "/C=US/O=Acme/CN=admin".into(),
                got: "/C=US/O=Acme/CN=client".into(),
            })
        );
        assert_eq!(
            ok(spec(
                Some("/C=US/O=Acme/CN=Acme CA"),
                Some("/C=US/O=Acme/CN=client"),
                Some("TLS_AES_256_GCM_SHA384"),
                None
            )),
            Ok(())
        );
    }

    #[test]
    fn require_san_needs_every_listed_name() {
        let tls = tls_with_cert();
        let san = |s: &str| require_satisfied(&spec(None, None, None, Some(s)), Some(&tls));
        let mismatch = |s: &str| {
            Err(RequireFailure::SanMismatch {
                expected: s.to_string(),
            })
        };
        assert_eq!(san("DNS:client.example"), Ok(()));
        assert_eq!(san("IP:10.0.0.5"), Ok(()));
        assert_eq!(san("DNS:client.example, IP:10.0.0.5"), Ok(()));
        // The type compares case-insensitively, the value exactly.
        assert_eq!(san("dns:client.example"), Ok(()));
        assert_eq!(san("DNS:Client.example"), mismatch("DNS:Client.example"));
        assert_eq!(san("DNS:other.example"), mismatch("DNS:other.example"));
        assert_eq!(san("URI:client.example"), mismatch("URI:client.example"));
        assert_eq!(
            san("DNS:client.example,IP:10.0.0.9"),
            mismatch("DNS:client.example,IP:10.0.0.9")
        );
        // A list naming nothing is never satisfied.
        assert_eq!(san(" , "), mismatch(" , "));
        assert_eq!(san("client.example"), mismatch("client.example"));
    }
}
