//! Authentication latency: the caching_sha2_password fast-path server step, one full
//! SHA-256-crypt check, and the RSA decryption of the plain-TCP full path.
//!
//! Run: `cargo bench --bench auth` (figures in benches/README.md).

use std::hint::black_box;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use vestibule::account::{Account, AccountSet, ClientHost};
use vestibule::auth::{caching_sha2, AuthString, Nonce, Plugin};
use vestibule::cache::AuthCache;
use vestibule::handshake::{
    Action, Event, Handshake, Lookup, ServerParams, SlowCheck, SlowSecret, Transport,
};
use vestibule::wire::handshake::{ClientHeader, HandshakeResponse41};
use vestibule::wire::*;

const NONCE: [u8; 20] = *b"abcdefghijklmnopqrst";

fn params() -> ServerParams {
    ServerParams {
        server_version: "8.0.40-vestibule".into(),
        connection_id: 1,
        tls_available: false,
        transport: Transport::Tcp,
        client_host: "localhost".into(),
        default_plugin: Plugin::CachingSha2Password,
        rsa: None,
        rsa_sha256: None,
        require_secure_transport: false,
        databases: Some(Arc::from(vec![])),
        nonce: Nonce::from_wire(NONCE),
        switch_nonce: Nonce::from_wire(NONCE),
        reserved_admin_slot: false,
        admission: false,
        derive_secret: false,
        now_secs: 0,
        default_password_lifetime: 0,
        disconnect_on_expired_password: true,
        digest_rounds: vestibule::auth::DEFAULT_DIGEST_ROUNDS,
        capabilities: vestibule::wire::capabilities::SERVER_CAPABILITIES,
        character_set: 255,
    }
}

fn fast_path(c: &mut Criterion) {
    let auth = AuthString::generate(Plugin::CachingSha2Password, b"secret", [3; 20], 5000);
    let mut set = AccountSet::new();
    set.create(
        vec![Account::new("app", "%", Plugin::CachingSha2Password, auth)],
        false,
    )
    .unwrap();
    let cache = AuthCache::new(1000, [9; 16]);
    cache.insert("app", "%", caching_sha2::cached_digest(b"secret"));
    let response = HandshakeResponse41 {
        header: ClientHeader {
            capabilities: CLIENT_PROTOCOL_41
                | CLIENT_SECURE_CONNECTION
                | CLIENT_PLUGIN_AUTH
                | CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA,
            max_packet_size: 1 << 24,
            character_set: 255,
        },
        username: b"app".to_vec(),
        auth_response: caching_sha2::client_scramble(b"secret", &Nonce::from_wire(NONCE)).to_vec(),
        database: None,
        client_plugin: Some(b"caching_sha2_password".to_vec()),
        connect_attrs: vec![],
        zstd_level: None,
    }
    .encode();
    let client = ClientHost::Tcp([127, 0, 0, 1].into());

    // The server step from the client's reply to `01 03` + OK: parse, account lookup, cache
    // lookup, scramble verification, packet encoding, and dropping what the step made (the
    // machine, the actions). The actions go into one buffer the caller keeps, as the server's
    // driver does (`Handshake::handle_into`).
    let mut out: Vec<Action> = Vec::with_capacity(8);
    c.bench_function("fast_path_server_step", |b| {
        b.iter_batched(
            || Handshake::new(params()).0,
            |mut hs| {
                out.clear();
                hs.handle_into(
                    Event::Packet {
                        seq: 1,
                        payload: black_box(&response),
                    },
                    &mut out,
                );
                let Some(Action::LookupAccount { user }) = out.pop() else {
                    panic!("expected a lookup")
                };
                let acct = set.lookup_shared(&user, &client).unwrap();
                let lookup = Lookup::Found {
                    cached: cache.get(&acct.user, &acct.host),
                    cached_secondary: None,
                    account: acct.clone(),
                };
                hs.handle_into(Event::Account(lookup), &mut out);
                assert!(matches!(out.last(), Some(Action::Authenticated(_))));
            },
            BatchSize::SmallInput,
        )
    });

    let cached = caching_sha2::cached_digest(b"secret");
    let scramble = caching_sha2::client_scramble(b"secret", &Nonce::from_wire(NONCE));
    c.bench_function("fast_path_verify_scramble_only", |b| {
        b.iter(|| {
            caching_sha2::verify_scramble(
                black_box(&cached),
                &Nonce::from_wire(NONCE),
                black_box(&scramble),
            )
        })
    });
}

fn full_auth(c: &mut Criterion) {
    let auth = AuthString::generate(Plugin::CachingSha2Password, b"secret", [3; 20], 5000);
    let check = SlowCheck {
        plugin: Plugin::CachingSha2Password,
        secret: SlowSecret::Cleartext(zeroize::Zeroizing::new(b"secret".to_vec())),
        auth_string: auth,
        nonce: Nonce::from_wire(NONCE),
        keep_cleartext: false,
    };
    let mut g = c.benchmark_group("full_auth");
    g.sample_size(20);
    g.bench_function("sha256_crypt_5000_rounds_check", |b| {
        b.iter(|| assert!(check.run(None).password_ok))
    });
    g.finish();
}

fn rsa(c: &mut Criterion) {
    use rsa::pkcs8::DecodePublicKey;
    let dir = tempfile::tempdir().unwrap();
    let (private, public) = (
        dir.path().join("private_key.pem"),
        dir.path().join("public_key.pem"),
    );
    vestibule::server::rsa_keys::ensure_rsa_keys(&private, &public, true).unwrap();
    let key = vestibule::server::rsa_keys::RsaKeyPair::load(&private, &public).unwrap();
    let pubkey = rsa::RsaPublicKey::from_public_key_pem(key.public_pem()).unwrap();
    let ct = pubkey
        .encrypt(
            &mut rand::thread_rng(),
            rsa::Oaep::new::<sha1::Sha1>(),
            b"secret\0",
        )
        .unwrap();
    let mut g = c.benchmark_group("rsa");
    g.sample_size(30);
    g.bench_function("oaep_sha1_decrypt_2048", |b| {
        b.iter(|| key.decrypt_oaep_sha1(black_box(&ct)).unwrap())
    });
    g.finish();
    // The whole RSA full-auth check as the server runs it: decrypt, undo the nonce XOR,
    // SHA-256-crypt verify.
    struct Adapter<'a>(&'a vestibule::server::rsa_keys::RsaKeyPair);
    impl vestibule::handshake::RsaDecryptor for Adapter<'_> {
        fn decrypt(&self, ct: &[u8]) -> Option<zeroize::Zeroizing<Vec<u8>>> {
            self.0.decrypt_oaep_sha1(ct).ok()
        }
    }
    let nonce = Nonce::from_wire(NONCE);
    let obfuscated = vestibule::auth::obfuscate_password_for_rsa(b"secret", &nonce);
    let ct = pubkey
        .encrypt(
            &mut rand::thread_rng(),
            rsa::Oaep::new::<sha1::Sha1>(),
            &obfuscated,
        )
        .unwrap();
    let check = SlowCheck {
        plugin: Plugin::CachingSha2Password,
        secret: SlowSecret::RsaCiphertext(ct),
        auth_string: AuthString::generate(Plugin::CachingSha2Password, b"secret", [3; 20], 5000),
        nonce,
        keep_cleartext: false,
    };
    let mut g = c.benchmark_group("full_auth");
    g.sample_size(20);
    g.bench_function("rsa_path_check", |b| {
        b.iter(|| assert!(check.run(Some(&Adapter(&key))).password_ok))
    });
    g.finish();
}

/// The extra cost of the full path over TLS: both sides of a TLS 1.3 handshake in memory with
/// the auto-generated RSA certificate (the SHA-256-crypt check above comes on top).
fn tls_handshake(c: &mut Criterion) {
    use vestibule::server::tls_files;
    let dir = tempfile::tempdir().unwrap();
    tls_files::auto_generate_certs(dir.path(), "localhost", std::time::SystemTime::now()).unwrap();
    let material = tls_files::load_tls_material(
        &dir.path().join("server-cert.pem"),
        &dir.path().join("server-key.pem"),
        &tls_files::TrustFiles::ca(Some(&dir.path().join("ca.pem"))),
    )
    .unwrap();
    let server = tls_files::server_config(&material, &tls_files::default_versions(), None).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    for cert in
        <rustls::pki_types::CertificateDer as rustls::pki_types::pem::PemObject>::pem_file_iter(
            dir.path().join("ca.pem"),
        )
        .unwrap()
    {
        roots.add(cert.unwrap()).unwrap();
    }
    let client = Arc::new(
        rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth(),
    );
    let mut g = c.benchmark_group("full_auth");
    g.sample_size(30);
    g.bench_function("tls13_handshake_in_memory", |b| {
        b.iter(|| {
            let mut cl =
                rustls::ClientConnection::new(client.clone(), "localhost".try_into().unwrap())
                    .unwrap();
            let mut sv = rustls::ServerConnection::new(server.clone()).unwrap();
            while cl.is_handshaking() || sv.is_handshaking() {
                let mut buf = Vec::new();
                cl.write_tls(&mut buf).unwrap();
                sv.read_tls(&mut buf.as_slice()).unwrap();
                sv.process_new_packets().unwrap();
                let mut buf = Vec::new();
                sv.write_tls(&mut buf).unwrap();
                cl.read_tls(&mut buf.as_slice()).unwrap();
                cl.process_new_packets().unwrap();
            }
        })
    });
    g.finish();
}

criterion_group!(benches, fast_path, full_auth, rsa, tls_handshake);
criterion_main!(benches, parts);

/// The pieces of the fast-path step, to see where its time goes.
fn breakdown(c: &mut Criterion) {
    let response = HandshakeResponse41 {
        header: ClientHeader {
            capabilities: CLIENT_PROTOCOL_41
                | CLIENT_SECURE_CONNECTION
                | CLIENT_PLUGIN_AUTH
                | CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA,
            max_packet_size: 1 << 24,
            character_set: 255,
        },
        username: b"app".to_vec(),
        auth_response: caching_sha2::client_scramble(b"secret", &Nonce::from_wire(NONCE)).to_vec(),
        database: None,
        client_plugin: Some(b"caching_sha2_password".to_vec()),
        connect_attrs: vec![],
        zstd_level: None,
    }
    .encode();
    c.bench_function("part_parse_handshake_response", |b| {
        b.iter(|| HandshakeResponse41::parse(black_box(&response)))
    });
    c.bench_function("part_parse_handshake_response_borrowed", |b| {
        b.iter(|| HandshakeResponse41::parse_ref(black_box(&response)).map(|r| r.username.len()))
    });
    // The same with the connect attributes the mysql CLI sends (six pairs): the owned form
    // copies each key and value, the borrowed one only checks the block.
    let mut with_attrs = HandshakeResponse41::parse(&response).unwrap();
    with_attrs.header.capabilities |= CLIENT_CONNECT_ATTRS;
    with_attrs.connect_attrs = [
        ("_os", "debian-linux-gnu"),
        ("_client_name", "libmariadb"),
        ("_pid", "1234567"),
        ("_client_version", "3.3.8"),
        ("_platform", "x86_64"),
        ("program_name", "mysql"),
    ]
    .iter()
    .map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec()))
    .collect();
    let with_attrs = with_attrs.encode();
    c.bench_function("part_parse_handshake_response_attrs", |b| {
        b.iter(|| HandshakeResponse41::parse(black_box(&with_attrs)))
    });
    c.bench_function("part_parse_handshake_response_attrs_borrowed", |b| {
        b.iter(|| HandshakeResponse41::parse_ref(black_box(&with_attrs)).map(|r| r.username.len()))
    });
    c.bench_function("part_greeting", |b| b.iter(|| Handshake::new(params())));
    c.bench_function("part_machine_response_step", |b| {
        b.iter_batched(
            || Handshake::new(params()).0,
            |mut hs| {
                hs.handle(Event::Packet {
                    seq: 1,
                    payload: black_box(&response),
                })
            },
            BatchSize::SmallInput,
        )
    });
    let cache = AuthCache::new(1000, [9; 16]);
    cache.insert("app", "%", caching_sha2::cached_digest(b"secret"));
    let auth = AuthString::generate(Plugin::CachingSha2Password, b"secret", [3; 20], 5000);
    let mut set = AccountSet::new();
    set.create(
        vec![Account::new("app", "%", Plugin::CachingSha2Password, auth)],
        false,
    )
    .unwrap();
    let client = ClientHost::Tcp([127, 0, 0, 1].into());
    c.bench_function("part_account_lookup", |b| {
        b.iter(|| set.lookup_shared(black_box("app"), &client))
    });
    let acct = set.lookup_shared("app", &client).unwrap();
    c.bench_function("part_machine_account_step", |b| {
        b.iter_batched(
            || {
                let mut hs = Handshake::new(params()).0;
                hs.handle(Event::Packet {
                    seq: 1,
                    payload: &response,
                });
                hs
            },
            |mut hs| {
                hs.handle(Event::Account(Lookup::Found {
                    cached: cache.get("app", "%"),
                    cached_secondary: None,
                    account: acct.clone(),
                }))
            },
            BatchSize::SmallInput,
        )
    });
    c.bench_function("part_cache_get", |b| {
        b.iter(|| cache.get(black_box("app"), "%"))
    });
}
criterion_group!(parts, breakdown);
