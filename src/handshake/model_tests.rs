//! Model-based test of the connection phase: a small reference model, written from the plugin
//! sections of docs/protocol.md ("caching_sha2_password: fast path and full authentication" to
//! "mysql_native_password", "Post-authentication checks") independently of the machine, predicts
//! the exact sequence of server packets (kind and sequence id) and the outcome for a generated
//! client; the real machine, driven in memory, must produce the same sequence, outcome and cache
//! fill.

use proptest::prelude::*;

use super::tests::{
    account, fake_encrypt, params, response, Driver, CLIENT_CAPS, NONCE, SWITCH_NONCE,
};
use super::*;
use crate::auth::{caching_sha2, native};
use crate::wire::handshake::{encode_ssl_request, ClientHeader};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pw {
    Right,
    Wrong,
}

/// What the client does after `01 04` on an insecure channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Insecure {
    RequestKey,
    SendCleartext,
}

#[derive(Debug, Clone)]
struct Case {
    unix: bool,
    tls: bool,
    rsa: bool,
    /// None: the user does not exist (decoy with `decoy` plugin).
    account: Option<(
        Plugin,
        bool, /* empty password */
        bool, /* REQUIRE SSL */
    )>,
    decoy: Plugin,
    cached: bool,
    /// None: a client without CLIENT_PLUGIN_AUTH (speaks mysql_native_password).
    client_plugin: Option<Plugin>,
    pw: Pw,
    insecure: Insecure,
}

/// A server packet as the model names it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Pkt {
    Greeting,
    Switch,
    FastOk,
    FullAuth,
    PublicKey,
    Ok,
    Err(u16),
}

fn arb_plugin() -> impl Strategy<Value = Plugin> {
    prop_oneof![
        Just(Plugin::CachingSha2Password),
        Just(Plugin::MysqlNativePassword),
        Just(Plugin::Sha256Password)
    ]
}

fn arb_case() -> impl Strategy<Value = Case> {
    (
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        proptest::option::weighted(
            0.8,
            (
                arb_plugin(),
                proptest::bool::weighted(0.2),
                proptest::bool::weighted(0.2),
            ),
        ),
        arb_plugin(),
        any::<bool>(),
        proptest::option::weighted(0.9, arb_plugin()),
        prop_oneof![Just(Pw::Right), Just(Pw::Wrong)],
        prop_oneof![Just(Insecure::RequestKey), Just(Insecure::SendCleartext)],
    )
        .prop_map(
            |(unix, tls, rsa, account, decoy, cached, client_plugin, pw, insecure)| {
                // The cache can only hold a caching_sha2 account with a password.
                let cached =
                    cached && matches!(account, Some((Plugin::CachingSha2Password, false, _)));
                Case {
                    unix,
                    tls,
                    rsa,
                    account,
                    decoy,
                    cached,
                    client_plugin,
                    pw,
                    insecure,
                }
            },
        )
}

const PASSWORD: &str = "secret";

/// The password the client types: the account's (possibly empty) or a wrong one.
fn typed(c: &Case) -> &'static str {
    match (c.pw, c.account) {
        (Pw::Right, Some((_, true, _))) => "",
        (Pw::Right, _) => PASSWORD,
        (Pw::Wrong, _) => "wrong",
    }
}

/// The reference model: packets the server sends (kind, seq), and whether the cache is filled.
fn model(c: &Case) -> (Vec<(u8, Pkt)>, bool) {
    let mut out = vec![(0u8, Pkt::Greeting)];
    // The client's response comes at 1, or at 2 after an SSLRequest: the server answers next.
    let mut seq: u8 = if c.tls { 3 } else { 2 };
    let plugin = c.account.map_or(c.decoy, |a| a.0);
    let exists = c.account.is_some();
    let empty_account = matches!(c.account, Some((_, true, _)));
    let require_ssl = matches!(c.account, Some((_, _, true)));
    let pw = typed(c);
    let right = exists && pw == if empty_account { "" } else { PASSWORD };
    // After the password: REQUIRE SSL needs TLS (socket is not enough), then OK.
    let finish = |out: &mut Vec<(u8, Pkt)>, seq: u8| {
        if require_ssl && !c.tls {
            out.push((seq, Pkt::Err(1045)));
        } else {
            out.push((seq, Pkt::Ok));
        }
    };
    match c.client_plugin {
        None if plugin != Plugin::MysqlNativePassword => {
            out.push((seq, Pkt::Err(1251)));
            return (out, false);
        }
        // A switch unless the client answered the greeting's plugin and it is the account's.
        Some(p) if p != plugin || plugin != Plugin::CachingSha2Password => {
            out.push((seq, Pkt::Switch));
            seq += 2;
        }
        _ => {}
    }
    // An empty response: OK or ERR directly, never 01 03 / 01 04.
    if pw.is_empty() {
        if exists && empty_account {
            finish(&mut out, seq);
        } else {
            out.push((seq, Pkt::Err(1045)));
        }
        return (out, false);
    }
    let deny = |out: &mut Vec<(u8, Pkt)>, seq: u8| out.push((seq, Pkt::Err(1045)));
    match plugin {
        Plugin::MysqlNativePassword => {
            if right {
                finish(&mut out, seq)
            } else {
                deny(&mut out, seq)
            }
            (out, false)
        }
        Plugin::CachingSha2Password => {
            if c.cached && right {
                out.push((seq, Pkt::FastOk));
                finish(&mut out, seq + 1);
                return (out, false);
            }
            out.push((seq, Pkt::FullAuth));
            seq += 2;
            let secure = c.tls || c.unix;
            let verified = if secure {
                right
            } else if c.insecure == Insecure::SendCleartext || !c.rsa {
                false
            } else {
                out.push((seq, Pkt::PublicKey));
                seq += 2;
                right
            };
            if verified {
                finish(&mut out, seq)
            } else {
                deny(&mut out, seq)
            }
            (out, verified && exists)
        }
        Plugin::Sha256Password => {
            // Cleartext only over TLS (the socket is not secure for sha256_password).
            let verified = if c.tls {
                right
            } else if c.insecure == Insecure::SendCleartext || !c.rsa {
                false
            } else {
                out.push((seq, Pkt::PublicKey));
                seq += 2;
                right
            };
            if verified {
                finish(&mut out, seq)
            } else {
                deny(&mut out, seq)
            }
            (out, false)
        }
    }
}

/// Runs the real machine with a client that behaves as the case says.
fn run(c: &Case) -> (Vec<(u8, Pkt)>, bool) {
    let p = params(
        if c.unix {
            Transport::Unix
        } else {
            Transport::Tcp
        },
        c.tls,
        c.rsa,
    );
    let acct = c.account.map(|(plugin, empty, require_ssl)| {
        let mut a = account("u", plugin, if empty { "" } else { PASSWORD });
        if require_ssl {
            a.require = Require::Ssl;
        }
        a
    });
    let cache = c
        .cached
        .then(|| caching_sha2::cached_digest(PASSWORD.as_bytes()));
    let mut d = Driver::new(p, acct, cache);
    d.decoy = c.decoy;
    let pw = typed(c);
    let mut caps = CLIENT_CAPS;
    if c.client_plugin.is_none() {
        caps &= !(CLIENT_PLUGIN_AUTH | CLIENT_CONNECT_ATTRS);
    }
    if c.tls {
        caps |= CLIENT_SSL;
        d.client_send(&encode_ssl_request(&ClientHeader {
            capabilities: caps,
            max_packet_size: 0,
            character_set: 255,
        }));
    }
    let first = |plugin: Plugin, nonce: &[u8; 20]| -> Vec<u8> {
        let n = Nonce::from_wire(*nonce);
        if pw.is_empty() {
            return Vec::new();
        }
        match plugin {
            Plugin::CachingSha2Password => {
                caching_sha2::client_scramble(pw.as_bytes(), &n).to_vec()
            }
            Plugin::MysqlNativePassword => native::client_scramble(pw.as_bytes(), &n).to_vec(),
            Plugin::Sha256Password if c.tls || c.insecure == Insecure::SendCleartext => {
                [pw.as_bytes(), b"\0"].concat()
            }
            Plugin::Sha256Password => vec![0x01],
        }
    };
    let client_plugin = c.client_plugin.unwrap_or(Plugin::MysqlNativePassword);
    d.client_send(&response(
        "u",
        &first(client_plugin, &NONCE),
        c.client_plugin.map(Plugin::name),
        None,
        caps,
    ));
    let mut nonce = NONCE;
    // Answer whatever the server asks until it finishes.
    for _ in 0..4 {
        if d.closed || d.session.is_some() {
            break;
        }
        let last = d.last().payload.clone();
        let reply = match last.as_slice() {
            [0xFE, rest @ ..] => {
                nonce = SWITCH_NONCE;
                let name_end = rest.iter().position(|&b| b == 0).unwrap();
                let plugin = Plugin::from_name(&rest[..name_end]).unwrap();
                first(plugin, &nonce)
            }
            [1, 4] if c.tls || c.unix => [pw.as_bytes(), b"\0"].concat(),
            [1, 4] if c.insecure == Insecure::SendCleartext => [pw.as_bytes(), b"\0"].concat(),
            [1, 4] => vec![0x02],
            [1, b'-', ..] => fake_encrypt(pw, &nonce),
            other => panic!("server waits after {other:02x?}"),
        };
        d.client_send(&reply);
    }
    let kinds = d
        .sent
        .iter()
        .map(|f| {
            let kind = match f.payload.as_slice() {
                [0x0A, ..] if f.seq == 0 => Pkt::Greeting,
                [0xFE, ..] => Pkt::Switch,
                [1, 3] => Pkt::FastOk,
                [1, 4] => Pkt::FullAuth,
                [1, b'-', ..] => Pkt::PublicKey,
                [0, ..] => Pkt::Ok,
                [0xFF, lo, hi, ..] => Pkt::Err(u16::from_le_bytes([*lo, *hi])),
                other => panic!("unknown server packet {other:02x?}"),
            };
            (f.seq, kind)
        })
        .collect();
    (kinds, d.filled.is_some())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    #[test]
    fn machine_matches_the_reference_model(c in arb_case()) {
        let expected = model(&c);
        let actual = run(&c);
        prop_assert_eq!(actual, expected, "case {:?}", c);
    }
}
