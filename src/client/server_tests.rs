//! The backend login against Vestibule's own server machine ([`crate::handshake::Handshake`]),
//! both driven in memory: the caching_sha2_password cases no MariaDB backend can answer (fast
//! path from a filled cache, full path over TLS), switches in both directions, stage-1 hash
//! credentials, the default database and the server's refusals.

use std::collections::VecDeque;
use std::sync::Arc;

use super::*;
use crate::account::Account;
use crate::auth::{AuthString, CachedDigest};
use crate::handshake::TlsInfo;
use crate::handshake::{Action, Event, Handshake, HandshakeError, Lookup, ServerParams, Transport};

const NONCE: [u8; 20] = *b"0123456789abcdefghij";
const SWITCH_NONCE: [u8; 20] = *b"klmnopqrstuvwxyzABCD";
const PW: &str = "Backend-pw_1";

fn server_params(default_plugin: Plugin, tls: bool) -> ServerParams {
    ServerParams {
        server_version: "8.0.40-vestibule".into(),
        connection_id: 77,
        tls_available: tls,
        transport: Transport::Tcp,
        client_host: "127.0.0.1".into(),
        default_plugin,
        rsa: None,
        rsa_sha256: None,
        require_secure_transport: false,
        reserved_admin_slot: false,
        admission: false,
        derive_secret: false,
        now_secs: 0,
        default_password_lifetime: 0,
        disconnect_on_expired_password: true,
        databases: Some(Arc::from(vec!["test".to_string()])),
        nonce: Nonce::from_wire(NONCE),
        switch_nonce: Nonce::from_wire(SWITCH_NONCE),
        digest_rounds: crate::auth::DEFAULT_DIGEST_ROUNDS,
        capabilities: SERVER_CAPABILITIES,
        character_set: 255,
    }
}

fn account(plugin: Plugin) -> Arc<Account> {
    Arc::new(Account::new(
        "app",
        "%",
        plugin,
        AuthString::generate(plugin, PW.as_bytes(), [7u8; 20], 5000),
    ))
}

/// How both sides ended.
#[derive(Debug)]
struct Outcome {
    client: Result<LoginOk, LoginError>,
    server_ok: bool,
    server_error: Option<HandshakeError>,
    /// The server asked to fill its cache (a full authentication succeeded).
    filled: Option<CachedDigest>,
}

fn frames(bytes: &[u8], into: &mut VecDeque<(u8, Vec<u8>)>) {
    let mut rest = bytes;
    while let [a, b, c, seq, tail @ ..] = rest {
        let len = u32::from_le_bytes([*a, *b, *c, 0]) as usize;
        let (payload, next) = tail.split_at(len);
        into.push_back((*seq, payload.to_vec()));
        rest = next;
    }
    assert!(rest.is_empty());
}

/// Runs one login: `Login` (the door) against `Handshake` (a Vestibule backend).
fn run(
    sp: ServerParams,
    account: Arc<Account>,
    cached: Option<CachedDigest>,
    cp: LoginParams,
) -> Outcome {
    let (mut server, first) = Handshake::new(sp);
    let mut client = Login::new(cp);
    let mut to_client = VecDeque::new();
    let mut to_server = VecDeque::new();
    let mut server_actions: VecDeque<Action> = first.into();
    let mut client_tls = false;
    let mut server_tls = false;
    let mut out = Outcome {
        client: Err(LoginError::SecondSwitch),
        server_ok: false,
        server_error: None,
        filled: None,
    };
    let mut client_done = false;
    for _ in 0..100 {
        while let Some(a) = server_actions.pop_front() {
            match a {
                Action::Send(b) => frames(&b, &mut to_client),
                Action::StartTls => server_tls = true,
                Action::LookupAccount { .. } => {
                    server_actions.extend(server.handle(Event::Account(Lookup::Found {
                        account: account.clone(),
                        cached: cached.clone(),
                        cached_secondary: None,
                    })))
                }
                Action::RunSlowCheck(check) => {
                    server_actions.extend(server.handle(Event::Verdict(check.run(None))))
                }
                Action::FillCache { digest, .. } => out.filled = Some(digest),
                Action::Authenticated(_) => out.server_ok = true,
                Action::Failed(e) => out.server_error = Some(e),
                _ => {}
            }
        }
        if client_tls && server_tls {
            client_tls = false;
            server_tls = false;
            server_actions.extend(server.handle(Event::TlsEstablished(TlsInfo {
                version: "TLSv1.3".into(),
                cipher: "TLS_AES_128_GCM_SHA256".into(),
                peer_cert: None,
                resumed: false,
            })));
            let a = client.handle(ClientEvent::TlsEstablished);
            client_done |= take_client(a, &mut to_server, &mut client_tls, &mut out);
            continue;
        }
        if let Some((seq, p)) = to_client.pop_front() {
            let a = client.handle(ClientEvent::Packet { seq, payload: &p });
            client_done |= take_client(a, &mut to_server, &mut client_tls, &mut out);
        } else if let Some((seq, p)) = to_server.pop_front() {
            server_actions.extend(server.handle(Event::Packet { seq, payload: &p }));
        } else if client_done && server_actions.is_empty() {
            return out;
        }
    }
    panic!("no end: {out:?}");
}

fn take_client(
    actions: Vec<ClientAction>,
    to_server: &mut VecDeque<(u8, Vec<u8>)>,
    tls: &mut bool,
    out: &mut Outcome,
) -> bool {
    let mut done = false;
    for a in actions {
        match a {
            ClientAction::Send(b) => frames(&b, to_server),
            ClientAction::StartTls => *tls = true,
            ClientAction::Done(ok) => {
                out.client = Ok(ok);
                done = true;
            }
            ClientAction::Failed(e) => {
                out.client = Err(e);
                done = true;
            }
        }
    }
    done
}

fn params(credential: Credential, tls: bool) -> LoginParams {
    let mut p = LoginParams::new("app", credential);
    p.tls = tls;
    p
}

fn password() -> Credential {
    Credential::password(PW)
}

fn sha256_hash() -> Credential {
    Credential::Sha256Hash(Sha256::digest(PW.as_bytes()).into())
}

/// The first login of a caching_sha2_password account is a full authentication over TLS; the
/// server fills its cache, and the next login (even from a SHA256(pw) credential) takes the
/// fast path.
#[test]
fn caching_sha2_full_path_over_tls_then_fast_path() {
    let acct = account(Plugin::CachingSha2Password);
    let o = run(
        server_params(Plugin::CachingSha2Password, true),
        acct.clone(),
        None,
        params(password(), true),
    );
    let ok = o.client.expect("full path");
    assert_eq!(ok.auth_path, AuthPath::Full);
    assert_eq!(ok.plugin, Plugin::CachingSha2Password);
    assert_eq!(ok.connection_id, 77);
    assert_eq!(ok.server_version, "8.0.40-vestibule");
    assert_ne!(ok.capabilities & CLIENT_SSL, 0);
    assert!(o.server_ok);
    let digest = o.filled.expect("cache filled");

    for (cred, tls) in [
        (password(), false),
        (sha256_hash(), false),
        (password(), true),
    ] {
        let o = run(
            server_params(Plugin::CachingSha2Password, true),
            acct.clone(),
            Some(digest.clone()),
            params(cred, tls),
        );
        assert_eq!(o.client.expect("fast path").auth_path, AuthPath::FastPath);
        assert!(o.server_ok);
    }
}

/// A cache miss on plain TCP asks for full authentication, which the door refuses to do in
/// the clear; a hash credential cannot do it even over TLS.
#[test]
fn caching_sha2_cache_miss_without_tls_or_password() {
    let acct = account(Plugin::CachingSha2Password);
    let o = run(
        server_params(Plugin::CachingSha2Password, true),
        acct.clone(),
        None,
        params(password(), false),
    );
    assert_eq!(o.client.unwrap_err(), LoginError::FullAuthNeedsTls);
    assert!(!o.server_ok);
    let o = run(
        server_params(Plugin::CachingSha2Password, true),
        acct,
        None,
        params(sha256_hash(), true),
    );
    assert_eq!(o.client.unwrap_err(), LoginError::FullAuthNeedsPassword);
}

/// The greeting names caching_sha2_password, the account is native: the server switches with
/// its switch nonce, and both a password and a SHA1(pw) credential answer.
#[test]
fn switch_to_native() {
    let native: [u8; 20] = sha1::Sha1::digest(PW.as_bytes()).into();
    for cred in [password(), Credential::NativeHash(native)] {
        let o = run(
            server_params(Plugin::CachingSha2Password, false),
            account(Plugin::MysqlNativePassword),
            None,
            params(cred, false),
        );
        let ok = o.client.expect("native after switch");
        assert_eq!(ok.plugin, Plugin::MysqlNativePassword);
        assert!(o.server_ok);
    }
}

/// The greeting names mysql_native_password, the account is caching_sha2_password: the switch
/// leads to the fast path from a warm cache.
#[test]
fn switch_to_caching_sha2() {
    let acct = account(Plugin::CachingSha2Password);
    let digest = crate::auth::caching_sha2::cached_digest(PW.as_bytes());
    let o = run(
        server_params(Plugin::MysqlNativePassword, false),
        acct,
        Some(digest),
        params(password(), false),
    );
    let ok = o.client.expect("fast path after switch");
    assert_eq!(ok.plugin, Plugin::CachingSha2Password);
    assert_eq!(ok.auth_path, AuthPath::FastPath);
}

#[test]
fn refusals_reach_the_client_as_the_servers_err() {
    let o = run(
        server_params(Plugin::MysqlNativePassword, false),
        account(Plugin::MysqlNativePassword),
        None,
        params(Credential::password("wrong"), false),
    );
    match o.client {
        Err(LoginError::Refused(e)) => {
            assert_eq!(e.code, 1045);
            assert_eq!(e.sql_state, Some(*b"28000"));
        }
        other => panic!("{other:?}"),
    }

    let mut p = params(password(), false);
    p.database = Some("nope".into());
    let o = run(
        server_params(Plugin::MysqlNativePassword, false),
        account(Plugin::MysqlNativePassword),
        None,
        p,
    );
    assert!(matches!(o.client, Err(LoginError::Refused(ref e)) if e.code == 1049));

    let mut p = params(password(), false);
    p.database = Some("test".into());
    let o = run(
        server_params(Plugin::MysqlNativePassword, false),
        account(Plugin::MysqlNativePassword),
        None,
        p,
    );
    assert!(o.client.is_ok() && o.server_ok);
}
