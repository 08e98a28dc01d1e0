//! Structured fuzzing of the connection-phase machine: `arbitrary` turns fuzzer bytes into client
//! behaviour (TLS or not, which user and plugin, right/wrong/empty password, key requests, garbage,
//! wrong sequence ids, events out of turn) against a fixed account set, and every run checks the
//! machine's invariants:
//!
//! 1. it never authenticates a login whose password the client did not know;
//! 2. it never asks to verify a cleartext password received on an insecure channel;
//! 3. every server packet carries the next sequence id;
//! 4. a run ends in OK (then `Authenticated`), or ERR/nothing followed by `Close`, or is still
//!    waiting for input — never stuck with actions it cannot take.

use std::sync::{Arc, OnceLock};

use arbitrary::Unstructured;
use zeroize::Zeroizing;

use super::*;
use crate::account::{Account, Require};
use crate::auth::{caching_sha2, native};
use crate::wire::handshake::{encode_ssl_request, ClientHeader};

const PASSWORD: &str = "secret";

struct Fixture {
    accounts: Vec<Account>,
    cached: CachedDigest,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let mk = |user: &str, plugin: Plugin, pw: &str, require: Require| {
            let mut a = Account::new(
                user,
                "%",
                plugin,
                AuthString::generate(plugin, pw.as_bytes(), [9; 20], 5000),
            );
            a.require = require;
            a
        };
        Fixture {
            accounts: vec![
                mk("app", Plugin::CachingSha2Password, PASSWORD, Require::None),
                mk("old", Plugin::MysqlNativePassword, PASSWORD, Require::None),
                mk("s256", Plugin::Sha256Password, PASSWORD, Require::None),
                mk("nopw", Plugin::CachingSha2Password, "", Require::None),
                mk("sec", Plugin::CachingSha2Password, PASSWORD, Require::Ssl),
            ],
            cached: caching_sha2::cached_digest(PASSWORD.as_bytes()),
        }
    })
}

/// RSA stand-in: "ciphertext" is the plaintext padded with 0xAA to 256 bytes.
struct PadRsa;
impl RsaDecryptor for PadRsa {
    fn decrypt(&self, ct: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        let end = ct.iter().rposition(|&b| b != 0xAA).map_or(0, |p| p + 1);
        (ct.len() == 256).then(|| Zeroizing::new(ct.get(..end).unwrap_or_default().to_vec()))
    }
}

const USERS: [&str; 6] = ["app", "old", "s256", "nopw", "sec", "ghost"];
const PLUGINS: [&str; 4] = [
    "caching_sha2_password",
    "mysql_native_password",
    "sha256_password",
    "",
];

/// What the fuzzed client knows, to judge invariant 1.
struct Client {
    nonce: [u8; 20],
    tls: bool,
    used_right_password: bool,
}

/// Fuzz body (see the module doc). Panics only on a violated invariant.
pub fn fuzz_handshake(data: &[u8]) {
    let _ = outcome(data);
}

/// How a fuzzed run ended (used to check that generated clients reach every ending).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    Authenticated,
    Closed,
    /// Input ran out while the machine waited.
    Waiting,
}

pub fn outcome(data: &[u8]) -> Outcome {
    let mut u = Unstructured::new(data);
    run(&mut u).unwrap_or(Outcome::Waiting)
}

fn pick<'a, T>(u: &mut Unstructured<'_>, xs: &'a [T]) -> arbitrary::Result<&'a T> {
    u.choose(xs)
}

fn run(u: &mut Unstructured<'_>) -> arbitrary::Result<Outcome> {
    let fx = fixture();
    let transport = if u.arbitrary::<bool>()? {
        Transport::Unix
    } else {
        Transport::Tcp
    };
    let tls_available: bool = u.arbitrary()?;
    let rsa: bool = u.arbitrary()?;
    let warm: bool = u.arbitrary()?;
    let require_secure_transport: bool = u.arbitrary()?;
    let nonce = Nonce::from_random(u.arbitrary()?);
    let switch_nonce = Nonce::from_random(u.arbitrary()?);
    let params = ServerParams {
        server_version: "8.0.40-vestibule".into(),
        connection_id: 1,
        tls_available,
        transport,
        client_host: "localhost".into(),
        default_plugin: *pick(u, &Plugin::ALL)?,
        rsa: rsa.then(|| RsaPublicKey {
            pem: Arc::from("PEM"),
            modulus_len: 256,
        }),
        rsa_sha256: rsa.then(|| RsaPublicKey {
            pem: Arc::from("PEM-SHA256"),
            modulus_len: 256,
        }),
        require_secure_transport,
        databases: Some(Arc::from(vec!["db".to_string()])),
        nonce,
        switch_nonce,
        reserved_admin_slot: false,
        admission: false,
        derive_secret: false,
        now_secs: 0,
        default_password_lifetime: 0,
        disconnect_on_expired_password: true,
        digest_rounds: crate::auth::DEFAULT_DIGEST_ROUNDS,
        capabilities: crate::wire::capabilities::SERVER_CAPABILITIES,
        character_set: 255,
    };
    let (mut hs, first) = Handshake::new(params);
    let mut client = Client {
        nonce: *nonce.as_bytes(),
        tls: false,
        used_right_password: false,
    };
    let mut next_seq = 0u8;
    let mut actions = first;
    let mut last_sent: Option<u8> = None;
    for _ in 0..12 {
        // Carry out everything the machine asked for, through the one driver loop.
        let mut env = FuzzEnv {
            client: &mut client,
            next_seq: &mut next_seq,
            last_sent: &mut last_sent,
            fx,
            warm,
            transport,
            u: &mut *u,
        };
        let step = drive::run_ready(drive::carry(&mut hs, actions, &mut env));
        match step {
            Some(Ok(drive::Step::NeedPacket)) => {}
            Some(Ok(drive::Step::Authenticated(s))) => {
                assert_eq!(last_sent, Some(0x00), "Authenticated without an OK packet");
                let acct = fx.accounts.iter().find(|a| a.user == s.account_user());
                let acct = acct.expect("authenticated as an account that does not exist");
                assert!(
                    acct.auth_string.is_empty() || client.used_right_password,
                    "authenticated without the password"
                );
                return Ok(Outcome::Authenticated);
            }
            Some(Ok(drive::Step::Closed { ignored, .. })) => {
                assert_eq!(ignored, 0, "action after Close");
                return Ok(Outcome::Closed);
            }
            Some(Err(never)) => match never {},
            None => panic!("the fuzz environment is synchronous"),
        }
        // The client's next move.
        let move_kind: u8 = u.int_in_range(0..=9)?;
        let payload: Vec<u8> = match move_kind {
            0 => {
                let caps =
                    CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION | CLIENT_PLUGIN_AUTH | CLIENT_SSL;
                encode_ssl_request(&ClientHeader {
                    capabilities: caps,
                    max_packet_size: 0,
                    character_set: 255,
                })
            }
            1..=3 => {
                let user = *pick(u, &USERS)?;
                let plugin = *pick(u, &PLUGINS)?;
                let right: bool = u.arbitrary()?;
                let auth = first_response(u, plugin, right, &mut client)?;
                let mut caps = CLIENT_PROTOCOL_41
                    | CLIENT_SECURE_CONNECTION
                    | CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA;
                if u.arbitrary()? {
                    caps |= CLIENT_PLUGIN_AUTH;
                }
                if client.tls {
                    caps |= CLIENT_SSL;
                }
                let db = if u.arbitrary()? {
                    Some(b"db".to_vec())
                } else {
                    None
                };
                if db.is_some() {
                    caps |= CLIENT_CONNECT_WITH_DB;
                }
                HandshakeResponse41 {
                    header: ClientHeader {
                        capabilities: caps,
                        max_packet_size: 0,
                        character_set: 255,
                    },
                    username: user.as_bytes().to_vec(),
                    auth_response: auth,
                    database: db,
                    client_plugin: (caps & CLIENT_PLUGIN_AUTH != 0)
                        .then(|| plugin.as_bytes().to_vec()),
                    connect_attrs: vec![],
                    zstd_level: None,
                }
                .encode()
            }
            4 => {
                let plugin = *pick(u, &PLUGINS)?;
                let right: bool = u.arbitrary()?;
                first_response(u, plugin, right, &mut client)?
            }
            5 => {
                let right: bool = u.arbitrary()?;
                client.used_right_password |= right;
                let mut p = if right {
                    PASSWORD.as_bytes().to_vec()
                } else {
                    b"wrong".to_vec()
                };
                p.push(0);
                p
            }
            6 => vec![*pick(u, &[0x01u8, 0x02])?],
            7 => {
                let right: bool = u.arbitrary()?;
                client.used_right_password |= right;
                let pw = if right { PASSWORD } else { "wrong" };
                let mut pt = pw.as_bytes().to_vec();
                pt.push(0);
                let mut ct =
                    crate::auth::xor_with_nonce(&pt, &Nonce::from_wire(client.nonce)).to_vec();
                ct.resize(256, 0xAA);
                ct
            }
            8 => {
                // An event out of turn.
                actions = hs.handle(Event::Verdict(Verdict {
                    password_ok: true,
                    digest: None,
                    cleartext: None,
                }));
                continue;
            }
            _ => {
                let len = u.int_in_range(0..=64)?;
                u.bytes(len)?.to_vec()
            }
        };
        // A packet out of order is answered (1156) at the server's own sequence position.
        let expected = hs.expected_seq();
        let wrong = u.ratio(1, 16)?;
        let seq = if wrong {
            expected.wrapping_add(1)
        } else {
            expected
        };
        next_seq = if wrong {
            expected
        } else {
            expected.wrapping_add(1)
        };
        actions = hs.handle(Event::Packet {
            seq,
            payload: &payload,
        });
    }
    Ok(Outcome::Waiting)
}

/// A plugin's first response computed the way a real client would, with the right or a wrong
/// password (or empty).
/// The fuzzer's environment: decodes what the server sends (the client follows an
/// AuthSwitchRequest's nonce), finds the fixture's accounts (an unknown user's decoy plugin is
/// drawn from the input), and checks that cleartext is only ever checked on a secure channel.
struct FuzzEnv<'a, 'u> {
    client: &'a mut Client,
    next_seq: &'a mut u8,
    last_sent: &'a mut Option<u8>,
    fx: &'a Fixture,
    warm: bool,
    transport: Transport,
    u: &'a mut Unstructured<'u>,
}

impl drive::Environment for FuzzEnv<'_, '_> {
    type Error = std::convert::Infallible;

    async fn send(&mut self, bytes: Vec<u8>) -> Result<(), Self::Error> {
        let mut dec = crate::wire::frame::FrameDecoder::new(*self.next_seq, usize::MAX);
        dec.push(&bytes);
        loop {
            match dec.next_frame() {
                Ok(Some(f)) => {
                    *self.next_seq = self.next_seq.wrapping_add(1);
                    *self.last_sent = f.payload.first().copied();
                    if *self.last_sent == Some(0xFE) {
                        // AuthSwitchRequest: the client answers with the new nonce.
                        if let Ok(sw) = AuthSwitchRequest::parse(&f.payload) {
                            if let Some(n) = sw.plugin_data.get(..20) {
                                self.client.nonce.copy_from_slice(n);
                            }
                        }
                    }
                }
                Ok(None) => break,
                Err(e) => panic!("server packet out of sequence or malformed: {e}"),
            }
        }
        assert_eq!(dec.buffered(), 0, "partial server packet");
        Ok(())
    }

    async fn start_tls(&mut self) -> Result<TlsInfo, Self::Error> {
        self.client.tls = true;
        Ok(TlsInfo {
            version: "TLSv1.3".into(),
            cipher: "TLS_AES_256_GCM_SHA384".into(),
            peer_cert: None,
            resumed: false,
        })
    }

    async fn lookup(&mut self, user: String) -> Lookup {
        match self.fx.accounts.iter().find(|a| a.user == user) {
            Some(a) => Lookup::Found {
                account: Arc::new(a.clone()),
                cached: (self.warm
                    && a.plugin == Plugin::CachingSha2Password
                    && !a.auth_string.is_empty())
                .then(|| self.fx.cached.clone()),
                cached_secondary: None,
            },
            None => Lookup::Unknown {
                decoy_plugin: *pick(self.u, &Plugin::ALL).unwrap_or(&Plugin::CachingSha2Password),
            },
        }
    }

    async fn slow_check(&mut self, check: SlowCheck) -> Verdict {
        if matches!(check.secret, SlowSecret::Cleartext(_)) {
            assert!(
                self.client.tls || self.transport == Transport::Unix,
                "cleartext accepted on an insecure channel"
            );
        }
        check.run(Some(&PadRsa))
    }

    fn fill_cache(&mut self, _: String, _: String, _: usize, _: CachedDigest, _: AuthString) {}

    async fn admit(&mut self, _session: &Session) -> Result<(), ErrPacket> {
        Ok(())
    }
}

fn first_response(
    u: &mut Unstructured<'_>,
    plugin: &str,
    right: bool,
    client: &mut Client,
) -> arbitrary::Result<Vec<u8>> {
    if u.ratio(1, 8)? {
        return Ok(Vec::new());
    }
    client.used_right_password |= right;
    let pw = if right { PASSWORD } else { "wrong" };
    let n = Nonce::from_wire(client.nonce);
    Ok(match plugin {
        "caching_sha2_password" => caching_sha2::client_scramble(pw.as_bytes(), &n).to_vec(),
        "mysql_native_password" => native::client_scramble(pw.as_bytes(), &n).to_vec(),
        "sha256_password" if client.tls => {
            let mut p = pw.as_bytes().to_vec();
            p.push(0);
            p
        }
        "sha256_password" => vec![0x01],
        _ => {
            let len = u.int_in_range(0..=40)?;
            u.bytes(len)?.to_vec()
        }
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn machine_invariants_hold_for_generated_clients(data in proptest::collection::vec(any::<u8>(), 0..400)) {
            super::fuzz_handshake(&data);
        }
    }

    #[test]
    fn generated_clients_reach_every_ending() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let mut seen = std::collections::HashSet::new();
        for _ in 0..3000 {
            let len = rng.gen_range(0..300);
            let data: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
            seen.insert(super::outcome(&data));
        }
        assert!(seen.contains(&super::Outcome::Authenticated), "{seen:?}");
        assert!(seen.contains(&super::Outcome::Closed), "{seen:?}");
    }
}
