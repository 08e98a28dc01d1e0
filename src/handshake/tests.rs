//! Scenario tests of the connection-phase machine, driven by an in-memory client built from the
//! wire module's client-side encoders. Every packet the server sends is also snapshotted.

use super::*;
use crate::account::{Account, Require};
use crate::auth::{caching_sha2, native};
use crate::wire::frame::Frame;
use crate::wire::handshake::{encode_ssl_request, ClientHeader};
use crate::wire::packets::ErrPacket;

pub(crate) const NONCE: [u8; 20] = [
    0x0a, 0x2f, 0x4a, 0x6f, 0x4b, 0x49, 0x22, 0x30, 0x58, 0x4c, 0x72, 0x4a, 0x25, 0x0d, 0x03, 0x50,
    0x52, 0x02, 0x17, 0x15,
];
pub(crate) const SWITCH_NONCE: [u8; 20] = [
    0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20,
    0x21, 0x22, 0x23, 0x25,
];
pub(crate) const CLIENT_CAPS: u32 = 0x013F_A20D | CLIENT_PLUGIN_AUTH | CLIENT_CONNECT_ATTRS;

pub(crate) fn params(transport: Transport, tls: bool, rsa: bool) -> ServerParams {
    ServerParams {
        server_version: "8.0.40-vestibule".into(),
        connection_id: 7,
        tls_available: tls,
        transport,
        client_host: "localhost".into(),
        default_plugin: Plugin::CachingSha2Password,
        rsa: rsa.then(|| RsaPublicKey {
            pem: Arc::from("-----BEGIN PUBLIC KEY-----\nTEST\n-----END PUBLIC KEY-----\n"),
            modulus_len: 256,
        }),
        rsa_sha256: rsa.then(|| RsaPublicKey {
            pem: Arc::from("-----BEGIN PUBLIC KEY-----\nSHA256\n-----END PUBLIC KEY-----\n"),
            modulus_len: 256,
        }),
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
        capabilities: crate::wire::capabilities::SERVER_CAPABILITIES,
        character_set: 255,
    }
}

pub(crate) fn account(user: &str, plugin: Plugin, password: &str) -> Account {
    Account {
        require: Require::None,
        ..Account::new(
            user,
            "%",
            plugin,
            AuthString::generate(plugin, password.as_bytes(), [7u8; 20], 5000),
        )
    }
}

/// Test RSA "key": ciphertext = plaintext padded with 0xAA to 256 bytes.
pub(crate) struct FakeRsa;
impl RsaDecryptor for FakeRsa {
    fn decrypt(&self, ct: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        let end = ct.iter().rposition(|&b| b != 0xAA).map_or(0, |p| p + 1);
        (ct.len() == 256).then(|| Zeroizing::new(ct[..end].to_vec()))
    }
}
pub(crate) fn fake_encrypt(password: &str, nonce: &[u8; 20]) -> Vec<u8> {
    let mut pt = password.as_bytes().to_vec();
    pt.push(0);
    let mut ct = crate::auth::xor_with_nonce(&pt, &Nonce::from_wire(*nonce)).to_vec();
    ct.resize(256, 0xAA);
    ct
}

/// An in-memory driver: carries out actions against a fixed account and cache.
pub(crate) struct Driver {
    pub hs: Handshake,
    pub sent: Vec<Frame>,
    pub account: Option<Account>,
    pub cache: Option<CachedDigest>,
    pub session: Option<Session>,
    pub error: Option<HandshakeError>,
    pub closed: bool,
    pub filled: Option<CachedDigest>,
    pub tls: Option<TlsInfo>,
    /// Plugin of the decoy for an unknown user.
    pub decoy: Plugin,
    /// The backend's answer to [`Action::Admit`].
    pub admission: Result<(), ErrPacket>,
}

impl Driver {
    pub fn new(p: ServerParams, account: Option<Account>, cache: Option<CachedDigest>) -> Driver {
        let (hs, actions) = Handshake::new(p);
        Driver::start(hs, actions, account, cache)
    }

    /// Carries out the machine's first actions with this account and cache entry.
    fn start(
        hs: Handshake,
        actions: Vec<Action>,
        account: Option<Account>,
        cache: Option<CachedDigest>,
    ) -> Driver {
        let mut d = Driver {
            hs,
            sent: Vec::new(),
            account,
            cache,
            session: None,
            error: None,
            closed: false,
            filled: None,
            tls: None,
            decoy: Plugin::CachingSha2Password,
            admission: Ok(()),
        };
        d.apply(actions);
        d
    }

    /// Carries out the machine's actions with [`drive::carry`], in this test environment.
    pub fn apply(&mut self, actions: Vec<Action>) {
        let Driver {
            hs,
            sent,
            account,
            cache,
            session,
            error,
            closed,
            filled,
            tls,
            decoy,
            admission,
        } = self;
        let mut env = TestEnv {
            sent,
            account,
            cache,
            filled,
            tls,
            decoy: *decoy,
            admission,
        };
        match drive::run_ready(drive::carry(hs, actions, &mut env)) {
            Some(Ok(drive::Step::NeedPacket)) => {}
            Some(Ok(drive::Step::Authenticated(s))) => *session = Some(*s),
            Some(Ok(drive::Step::Closed { error: e, ignored })) => {
                assert_eq!(ignored, 0, "actions after Close");
                *error = e;
                *closed = true;
            }
            Some(Err(never)) => match never {},
            None => panic!("the test environment is synchronous"),
        }
    }

    /// A COM_CHANGE_USER exchange on a connection whose greeting carried `p.nonce` and whose
    /// client logged in with `client_caps`.
    pub fn change_user(
        p: ServerParams,
        client_caps: u32,
        account: Option<Account>,
        cache: Option<CachedDigest>,
        cmd: ChangeUser,
    ) -> Driver {
        let (hs, actions) = Handshake::change_user(p, client_caps, None, cmd);
        Driver::start(hs, actions, account, cache)
    }

    pub fn client_send(&mut self, payload: &[u8]) {
        let seq = self.hs.expected_seq();
        let actions = self.hs.handle(Event::Packet { seq, payload });
        self.apply(actions);
    }

    pub fn last(&self) -> &Frame {
        self.sent.last().unwrap()
    }

    pub fn greeting_nonce(&self) -> [u8; 20] {
        HandshakeV10::parse(&self.sent[0].payload).unwrap().nonce
    }
}

/// [`Driver`]'s environment: packets decoded into `sent`, one account (or the decoy), the fake
/// RSA key, the given TLS description and admission answer.
struct TestEnv<'a> {
    sent: &'a mut Vec<Frame>,
    account: &'a Option<Account>,
    cache: &'a Option<CachedDigest>,
    filled: &'a mut Option<CachedDigest>,
    tls: &'a Option<TlsInfo>,
    decoy: Plugin,
    admission: &'a Result<(), ErrPacket>,
}

impl drive::Environment for TestEnv<'_> {
    type Error = std::convert::Infallible;

    async fn send(&mut self, bytes: Vec<u8>) -> Result<(), Self::Error> {
        let next = self.sent.last().map_or(0, |f| f.seq.wrapping_add(1));
        let mut dec = crate::wire::frame::FrameDecoder::new(next, usize::MAX);
        // Sequence ids are checked by the client-side tests below; decode leniently.
        dec.set_expected_seq(bytes[3]);
        dec.push(&bytes);
        while let Some(f) = dec.next_frame().unwrap() {
            self.sent.push(f);
        }
        Ok(())
    }

    async fn start_tls(&mut self) -> Result<TlsInfo, Self::Error> {
        Ok(self.tls.clone().unwrap_or(TlsInfo {
            version: "TLSv1.3".into(),
            cipher: "TLS_AES_256_GCM_SHA384".into(),
            peer_cert: None,
            resumed: false,
        }))
    }

    async fn lookup(&mut self, _user: String) -> Lookup {
        match self.account {
            Some(a) => Lookup::Found {
                account: Arc::new(a.clone()),
                cached: self.cache.clone(),
                cached_secondary: None,
            },
            None => Lookup::Unknown {
                decoy_plugin: self.decoy,
            },
        }
    }

    async fn slow_check(&mut self, check: SlowCheck) -> Verdict {
        check.run(Some(&FakeRsa))
    }

    fn fill_cache(&mut self, _: String, _: String, _: usize, digest: CachedDigest, _: AuthString) {
        *self.filled = Some(digest);
    }

    async fn admit(&mut self, _session: &Session) -> Result<(), ErrPacket> {
        self.admission.clone()
    }
}

pub(crate) fn response(
    user: &str,
    auth: &[u8],
    plugin: Option<&str>,
    db: Option<&str>,
    caps: u32,
) -> Vec<u8> {
    HandshakeResponse41 {
        header: ClientHeader {
            capabilities: caps,
            max_packet_size: 1 << 24,
            character_set: 255,
        },
        username: user.as_bytes().to_vec(),
        auth_response: auth.to_vec(),
        database: db.map(|d| d.as_bytes().to_vec()),
        client_plugin: plugin.map(|p| p.as_bytes().to_vec()),
        connect_attrs: vec![(b"_client_name".to_vec(), b"test".to_vec())],
        zstd_level: None,
    }
    .encode()
}

fn err_of(f: &Frame) -> ErrPacket {
    ErrPacket::parse(&f.payload).unwrap()
}

fn seqs(d: &Driver) -> Vec<u8> {
    d.sent.iter().map(|f| f.seq).collect()
}

pub(crate) const CS2: &str = "caching_sha2_password";

#[test]
fn fast_path_on_plain_tcp_follows_the_reference_trace() {
    let acct = account("app", Plugin::CachingSha2Password, "secret");
    let cached = caching_sha2::cached_digest(b"secret");
    let mut d = Driver::new(
        params(Transport::Tcp, false, false),
        Some(acct),
        Some(cached),
    );
    let scramble = caching_sha2::client_scramble(b"secret", &Nonce::from_wire(d.greeting_nonce()));
    d.client_send(&response("app", &scramble, Some(CS2), None, CLIENT_CAPS));
    assert_eq!(seqs(&d), vec![0, 2, 3]);
    assert_eq!(d.sent[1].payload, vec![0x01, 0x03]);
    assert_eq!(d.sent[2].payload, vec![0, 0, 0, 2, 0, 0, 0]);
    let s = d.session.as_ref().unwrap();
    assert_eq!(s.auth_path, AuthPath::FastPath);
    assert_eq!(s.account_user(), "app");
    assert!(d.filled.is_none());
    assert!(d.hs.is_finished());
}

#[test]
fn tls_full_auth_fills_the_cache_and_follows_the_reference_trace() {
    let acct = account("app", Plugin::CachingSha2Password, "secret");
    let mut d = Driver::new(params(Transport::Tcp, true, false), Some(acct), None);
    let caps = CLIENT_CAPS | CLIENT_SSL;
    let hdr = ClientHeader {
        capabilities: caps,
        max_packet_size: 1 << 24,
        character_set: 255,
    };
    d.client_send(&encode_ssl_request(&hdr));
    assert_eq!(d.hs.state_name(), "ExpectResponseInTls");
    assert_eq!(d.hs.expected_seq(), 2);
    let scramble = caching_sha2::client_scramble(b"secret", &Nonce::from_wire(NONCE));
    d.client_send(&response("app", &scramble, Some(CS2), Some("test"), caps));
    assert_eq!(d.last().payload, vec![0x01, 0x04]);
    assert_eq!(d.last().seq, 3);
    d.client_send(b"secret\0");
    assert_eq!(seqs(&d), vec![0, 3, 5]);
    assert_eq!(d.last().payload[0], 0x00);
    assert_eq!(
        d.filled.as_ref().map(|c| *c.as_bytes()),
        Some(*caching_sha2::cached_digest(b"secret").as_bytes())
    );
    let s = d.session.as_ref().unwrap();
    assert_eq!(s.auth_path, AuthPath::Full);
    assert_eq!(s.database.as_deref(), Some("test"));
    assert_eq!(s.tls.as_ref().unwrap().version, "TLSv1.3");
}

#[test]
fn wrong_password_against_a_warm_cache_degrades_to_full_auth_then_1045() {
    let acct = account("app", Plugin::CachingSha2Password, "secret");
    let cached = caching_sha2::cached_digest(b"secret");
    let mut d = Driver::new(
        params(Transport::Unix, false, false),
        Some(acct),
        Some(cached),
    );
    let scramble = caching_sha2::client_scramble(b"wrong", &Nonce::from_wire(NONCE));
    d.client_send(&response("app", &scramble, Some(CS2), None, CLIENT_CAPS));
    assert_eq!(d.last().payload, vec![0x01, 0x04]);
    d.client_send(b"wrong\0");
    let e = err_of(d.last());
    assert_eq!((e.code, &e.sql_state.unwrap()), (1045, b"28000"));
    assert_eq!(
        e.message,
        "Access denied for user 'app'@'localhost' (using password: YES)"
    );
    assert!(d.closed && d.session.is_none() && d.filled.is_none());
}

#[test]
fn cleartext_on_plain_tcp_is_never_read_as_a_password() {
    // mysql-connector-python's pure mode sends the cleartext password after 01 04 without TLS.
    let acct = account("app", Plugin::CachingSha2Password, "secret");
    let mut d = Driver::new(params(Transport::Tcp, false, true), Some(acct), None);
    let scramble = caching_sha2::client_scramble(b"secret", &Nonce::from_wire(NONCE));
    d.client_send(&response("app", &scramble, Some(CS2), None, CLIENT_CAPS));
    d.client_send(b"secret\0");
    assert_eq!(err_of(d.last()).code, 1045);
    assert!(d.session.is_none());
}

#[test]
fn plain_tcp_without_rsa_key_fails_full_auth_with_1045() {
    let acct = account("app", Plugin::CachingSha2Password, "secret");
    let mut d = Driver::new(params(Transport::Tcp, false, false), Some(acct), None);
    let scramble = caching_sha2::client_scramble(b"secret", &Nonce::from_wire(NONCE));
    d.client_send(&response("app", &scramble, Some(CS2), None, CLIENT_CAPS));
    d.client_send(&[0x02]);
    assert_eq!(err_of(d.last()).code, 1045);
}

#[test]
fn rsa_path_with_key_request_follows_the_reference_trace() {
    let pw = "a-password-longer-than-twenty-bytes";
    let acct = account("app", Plugin::CachingSha2Password, pw);
    let mut d = Driver::new(params(Transport::Tcp, false, true), Some(acct), None);
    let scramble = caching_sha2::client_scramble(pw.as_bytes(), &Nonce::from_wire(NONCE));
    d.client_send(&response("app", &scramble, Some(CS2), None, CLIENT_CAPS));
    d.client_send(&[0x02]);
    assert_eq!(d.last().seq, 4);
    assert!(d
        .last()
        .payload
        .starts_with(b"\x01-----BEGIN PUBLIC KEY-----"));
    d.client_send(&fake_encrypt(pw, &NONCE));
    assert_eq!(seqs(&d), vec![0, 2, 4, 6]);
    assert_eq!(d.session.as_ref().unwrap().auth_path, AuthPath::Full);
    assert!(d.filled.is_some());
}

#[test]
fn rsa_ciphertext_of_the_wrong_length_is_refused() {
    let acct = account("app", Plugin::CachingSha2Password, "secret");
    let mut d = Driver::new(params(Transport::Tcp, false, true), Some(acct), None);
    let scramble = caching_sha2::client_scramble(b"secret", &Nonce::from_wire(NONCE));
    d.client_send(&response("app", &scramble, Some(CS2), None, CLIENT_CAPS));
    d.client_send(&[0x02]);
    d.client_send(&[0x55; 255]);
    assert_eq!(err_of(d.last()).code, 1045);
}

#[test]
fn auth_switch_to_the_accounts_plugin_uses_a_fresh_nonce() {
    let acct = account("app", Plugin::CachingSha2Password, "secret");
    let cached = caching_sha2::cached_digest(b"secret");
    let mut d = Driver::new(
        params(Transport::Tcp, false, false),
        Some(acct),
        Some(cached),
    );
    let native_scramble = native::client_scramble(b"secret", &Nonce::from_wire(NONCE));
    d.client_send(&response(
        "app",
        &native_scramble,
        Some("mysql_native_password"),
        None,
        CLIENT_CAPS,
    ));
    let sw = AuthSwitchRequest::parse(&d.last().payload).unwrap();
    assert_eq!(sw.plugin_name, CS2.as_bytes());
    assert_eq!(&sw.plugin_data[..20], &SWITCH_NONCE);
    assert_eq!(sw.plugin_data[20], 0);
    assert_eq!(d.last().seq, 2);
    let scramble = caching_sha2::client_scramble(b"secret", &Nonce::from_wire(SWITCH_NONCE));
    d.client_send(&scramble);
    assert_eq!(seqs(&d), vec![0, 2, 4, 5]);
    assert_eq!(d.session.as_ref().unwrap().auth_path, AuthPath::FastPath);
}

#[test]
fn native_account_is_restarted_with_a_fresh_nonce_even_if_the_client_chose_native() {
    // The greeting named caching_sha2_password: MySQL restarts authentication for an account
    // of another plugin, so the first response (against the greeting's nonce) is discarded.
    let acct = account("old", Plugin::MysqlNativePassword, "secret");
    let mut d = Driver::new(params(Transport::Tcp, false, false), Some(acct), None);
    let s = native::client_scramble(b"secret", &Nonce::from_wire(NONCE));
    d.client_send(&response(
        "old",
        &s,
        Some("mysql_native_password"),
        None,
        CLIENT_CAPS,
    ));
    let sw = AuthSwitchRequest::parse(&d.last().payload).unwrap();
    assert_eq!(sw.plugin_name, b"mysql_native_password");
    d.client_send(&native::client_scramble(
        b"secret",
        &Nonce::from_wire(SWITCH_NONCE),
    ));
    assert!(d.session.is_some());
    assert_eq!(seqs(&d), vec![0, 2, 4]);
}

#[test]
fn native_account_answers_directly_when_native_is_the_greetings_plugin() {
    let acct = account("old", Plugin::MysqlNativePassword, "secret");
    let mut p = params(Transport::Tcp, false, false);
    p.default_plugin = Plugin::MysqlNativePassword;
    let mut d = Driver::new(p, Some(acct), None);
    let s = native::client_scramble(b"secret", &Nonce::from_wire(NONCE));
    d.client_send(&response(
        "old",
        &s,
        Some("mysql_native_password"),
        None,
        CLIENT_CAPS,
    ));
    assert!(d.session.is_some());
    assert_eq!(seqs(&d), vec![0, 2]);
}

#[test]
fn default_auth_sha256_with_an_empty_first_response_gets_a_switch() {
    // `mariadb --default-auth=sha256_password`: an empty first response named sha256_password.
    let acct = account("s256", Plugin::Sha256Password, "secret");
    let mut d = Driver::new(params(Transport::Tcp, true, false), Some(acct), None);
    let caps = CLIENT_CAPS | CLIENT_SSL;
    d.client_send(&encode_ssl_request(&ClientHeader {
        capabilities: caps,
        max_packet_size: 0,
        character_set: 255,
    }));
    d.client_send(&response("s256", &[], Some("sha256_password"), None, caps));
    assert_eq!(d.last().payload[0], 0xFE);
    d.client_send(b"secret\0");
    assert!(d.session.is_some());
}

#[test]
fn client_without_plugin_auth_gets_1251_for_a_sha2_account() {
    let acct = account("app", Plugin::CachingSha2Password, "secret");
    let mut d = Driver::new(params(Transport::Tcp, false, false), Some(acct), None);
    let caps = (CLIENT_CAPS & !CLIENT_PLUGIN_AUTH) & !CLIENT_CONNECT_ATTRS;
    d.client_send(&response("app", &[1; 20], None, None, caps));
    let e = err_of(d.last());
    assert_eq!((e.code, &e.sql_state.unwrap()), (1251, b"08004"));
}

#[test]
fn empty_password_account_gets_ok_directly_for_both_empty_forms() {
    for empty in [&[][..], &[0u8][..]] {
        let acct = account("nopw", Plugin::CachingSha2Password, "");
        let mut d = Driver::new(params(Transport::Tcp, false, false), Some(acct), None);
        d.client_send(&response("nopw", empty, Some(CS2), None, CLIENT_CAPS));
        assert_eq!(
            seqs(&d),
            vec![0, 2],
            "no 01 03 / 01 04 for an empty response"
        );
        assert_eq!(d.last().payload[0], 0);
    }
}

#[test]
fn empty_response_for_a_password_account_is_using_password_no() {
    let acct = account("app", Plugin::CachingSha2Password, "secret");
    let mut d = Driver::new(params(Transport::Tcp, false, false), Some(acct), None);
    d.client_send(&response("app", &[], Some(CS2), None, CLIENT_CAPS));
    assert_eq!(
        err_of(d.last()).message,
        "Access denied for user 'app'@'localhost' (using password: NO)"
    );
}

#[test]
fn unknown_user_looks_exactly_like_a_wrong_password() {
    let run = |acct: Option<Account>| {
        let mut d = Driver::new(params(Transport::Unix, false, false), acct, None);
        let scramble = caching_sha2::client_scramble(b"guess", &Nonce::from_wire(NONCE));
        d.client_send(&response("app", &scramble, Some(CS2), None, CLIENT_CAPS));
        d.client_send(b"guess\0");
        d.sent
            .iter()
            .map(|f| (f.seq, f.payload.clone()))
            .collect::<Vec<_>>()
    };
    let known = run(Some(account("app", Plugin::CachingSha2Password, "secret")));
    let unknown = run(None);
    assert_eq!(known, unknown);
    assert_eq!(
        ErrPacket::parse(&known.last().unwrap().1).unwrap().code,
        1045
    );
}

#[test]
fn unknown_user_with_the_decoys_empty_credential_still_fails() {
    let mut d = Driver::new(params(Transport::Tcp, false, false), None, None);
    d.client_send(&response("ghost", &[], Some(CS2), None, CLIENT_CAPS));
    assert_eq!(err_of(d.last()).code, 1045);
}

#[test]
fn require_ssl_account_is_refused_on_plain_tcp_after_a_correct_password() {
    let mut acct = account("sec", Plugin::CachingSha2Password, "secret");
    acct.require = Require::Ssl;
    let cached = caching_sha2::cached_digest(b"secret");
    let mut d = Driver::new(
        params(Transport::Tcp, false, false),
        Some(acct),
        Some(cached),
    );
    let scramble = caching_sha2::client_scramble(b"secret", &Nonce::from_wire(NONCE));
    d.client_send(&response("sec", &scramble, Some(CS2), None, CLIENT_CAPS));
    assert_eq!(d.sent[1].payload, vec![1, 3]);
    assert_eq!(err_of(d.last()).code, 1045);
}

#[test]
fn unknown_database_is_1049_after_authentication() {
    let acct = account("app", Plugin::CachingSha2Password, "secret");
    let cached = caching_sha2::cached_digest(b"secret");
    let mut d = Driver::new(
        params(Transport::Tcp, false, false),
        Some(acct),
        Some(cached),
    );
    let scramble = caching_sha2::client_scramble(b"secret", &Nonce::from_wire(NONCE));
    d.client_send(&response(
        "app",
        &scramble,
        Some(CS2),
        Some("nope"),
        CLIENT_CAPS,
    ));
    let e = err_of(d.last());
    assert_eq!(
        (e.code, e.message.as_str()),
        (1049, "Unknown database 'nope'")
    );
}

#[test]
fn require_secure_transport_is_checked_after_the_password() {
    let acct = account("app", Plugin::CachingSha2Password, "secret");
    let cached = caching_sha2::cached_digest(b"secret");
    let mut p = params(Transport::Tcp, false, false);
    p.require_secure_transport = true;
    let mut d = Driver::new(p.clone(), Some(acct.clone()), Some(cached.clone()));
    let scramble = caching_sha2::client_scramble(b"secret", &Nonce::from_wire(NONCE));
    d.client_send(&response("app", &scramble, Some(CS2), None, CLIENT_CAPS));
    assert_eq!(err_of(d.last()).code, 3159);
    let mut d = Driver::new(p, Some(acct), Some(cached));
    let wrong = caching_sha2::client_scramble(b"wrong", &Nonce::from_wire(NONCE));
    d.client_send(&response("app", &wrong, Some(CS2), None, CLIENT_CAPS));
    d.client_send(&[0x02]);
    assert_eq!(err_of(d.last()).code, 1045);
}

#[test]
fn locked_account_is_3118() {
    let mut acct = account("app", Plugin::CachingSha2Password, "secret");
    acct.locked = true;
    let mut d = Driver::new(params(Transport::Unix, false, false), Some(acct), None);
    let scramble = caching_sha2::client_scramble(b"secret", &Nonce::from_wire(NONCE));
    d.client_send(&response("app", &scramble, Some(CS2), None, CLIENT_CAPS));
    d.client_send(b"secret\0");
    assert_eq!(err_of(d.last()).code, 3118);
}

/// The slot beyond `max_connections` admits only an administrator: an ordinary account gets
/// 1040 (08004) after its password checked out, and a wrong password is still the plain 1045.
#[test]
fn reserved_admin_slot_admits_only_an_administrator() {
    let login = |admin: bool, password: &[u8]| {
        let mut acct = account("app", Plugin::CachingSha2Password, "secret");
        acct.admin = admin;
        let mut p = params(Transport::Tcp, false, false);
        p.reserved_admin_slot = true;
        let mut d = Driver::new(p, Some(acct), Some(caching_sha2::cached_digest(b"secret")));
        let scramble = caching_sha2::client_scramble(password, &Nonce::from_wire(NONCE));
        d.client_send(&response("app", &scramble, Some(CS2), None, CLIENT_CAPS));
        d
    };
    let d = login(false, b"secret");
    let e = err_of(d.last());
    assert_eq!((e.code, e.sql_state), (1040, Some(*b"08004")));
    assert_eq!(e.message, "Too many connections");
    assert!(d.session.is_none() && d.closed);
    let d = login(true, b"secret");
    assert_eq!(d.session.unwrap().auth_path, AuthPath::FastPath);
    // A wrong password: the full-auth round trip first, as for any account.
    let mut d = login(false, b"wrong");
    assert_eq!(d.last().payload, [1, 4]);
    d.client_send(b"wrong\0");
    assert_eq!(err_of(d.last()).code, 1045);
}

/// With `admission`, the machine asks the driver after every check and sends the OK only once
/// the backend admits the session; a refusal sends the backend's own error packet and closes.
#[test]
fn admission_comes_after_every_check_and_before_the_ok() {
    let login = |admission: Result<(), ErrPacket>| {
        let mut p = params(Transport::Tcp, false, false);
        p.admission = true;
        let acct = account("app", Plugin::CachingSha2Password, "secret");
        let (mut hs, _) = Handshake::new(p);
        let scramble = caching_sha2::client_scramble(b"secret", &Nonce::from_wire(NONCE));
        let resp = response("app", &scramble, Some(CS2), None, CLIENT_CAPS);
        let actions = hs.handle(Event::Packet {
            seq: 1,
            payload: &resp,
        });
        assert!(matches!(actions.as_slice(), [Action::LookupAccount { .. }]));
        let actions = hs.handle(Event::Account(Lookup::Found {
            account: Arc::new(acct),
            cached: Some(caching_sha2::cached_digest(b"secret")),
            cached_secondary: None,
        }));
        // `01 03` is sent, the OK is not: the session waits for its admission.
        let session = match actions.as_slice() {
            [Action::Send(fast), Action::Admit(s)] => {
                assert_eq!(fast, &crate::wire::frame::packet(2, &[1, 3]));
                assert_eq!(s.account_user(), "app");
                s.clone()
            }
            other => panic!("{other:?}"),
        };
        assert_eq!(hs.state_name(), "ExpectAdmission");
        (hs.handle(Event::Admission(admission.map(|()| session))), hs)
    };
    let (actions, hs) = login(Ok(()));
    match actions.as_slice() {
        [Action::Send(ok), Action::Authenticated(s)] => {
            assert_eq!(ok, &crate::wire::frame::packet(3, &LOGIN_OK));
            assert_eq!(s.account_user(), "app");
        }
        other => panic!("{other:?}"),
    }
    assert!(hs.is_finished());

    let refusal = ErrPacket::new(
        1044,
        "42000",
        "Access denied for user 'app'@'%' to database 'x'",
    );
    let (actions, hs) = login(Err(refusal.clone()));
    match actions.as_slice() {
        [Action::Send(err), Action::Failed(HandshakeError::Refused(1044)), Action::Close] => {
            assert_eq!(err, &crate::wire::frame::packet(3, &refusal.encode()));
        }
        other => panic!("{other:?}"),
    }
    assert!(hs.is_finished());
}

/// An admission answer out of place ends the exchange without a packet.
#[test]
fn an_admission_out_of_place_is_an_unexpected_event() {
    let mut d = Driver::new(params(Transport::Tcp, false, false), None, None);
    let refusal = ErrPacket::new(1045, "28000", "refused");
    let actions = d.hs.handle(Event::Admission(Err(refusal)));
    assert!(matches!(
        actions.as_slice(),
        [
            Action::Failed(HandshakeError::UnexpectedEvent {
                event: "Admission",
                state: "ExpectFirstPacket"
            }),
            Action::Close
        ]
    ));
}

#[test]
fn sha256_password_over_tls_and_rsa_but_not_over_the_socket() {
    let acct = account("s256", Plugin::Sha256Password, "secret");
    // The greeting's plugin is caching_sha2_password, so every sha256_password login starts
    // with an AuthSwitchRequest; the client's answer is the password material.
    let switched = |d: &Driver| {
        AuthSwitchRequest::parse(&d.last().payload)
            .is_ok_and(|s| s.plugin_name == b"sha256_password")
    };
    // TLS: cleartext.
    let mut d = Driver::new(params(Transport::Tcp, true, true), Some(acct.clone()), None);
    let caps = CLIENT_CAPS | CLIENT_SSL;
    d.client_send(&encode_ssl_request(&ClientHeader {
        capabilities: caps,
        max_packet_size: 0,
        character_set: 255,
    }));
    d.client_send(&response(
        "s256",
        b"secret\0",
        Some("sha256_password"),
        None,
        caps,
    ));
    assert!(switched(&d));
    d.client_send(b"secret\0");
    assert!(d.session.is_some());
    assert!(d.filled.is_none(), "sha256_password has no cache");
    // Unix socket is not secure for sha256_password: cleartext refused.
    let mut d = Driver::new(
        params(Transport::Unix, false, false),
        Some(acct.clone()),
        None,
    );
    d.client_send(&response(
        "s256",
        b"secret\0",
        Some("sha256_password"),
        None,
        CLIENT_CAPS,
    ));
    assert!(switched(&d));
    d.client_send(b"secret\0");
    assert_eq!(err_of(d.last()).code, 1045);
    // RSA with its own request byte 0x01.
    let mut d = Driver::new(params(Transport::Tcp, false, true), Some(acct), None);
    d.client_send(&response(
        "s256",
        &[0x01],
        Some("sha256_password"),
        None,
        CLIENT_CAPS,
    ));
    assert!(switched(&d));
    d.client_send(&[0x01]);
    assert!(d.last().payload.starts_with(b"\x01-----BEGIN"));
    d.client_send(&fake_encrypt("secret", &SWITCH_NONCE));
    assert!(d.session.is_some());
}

/// Each plugin has its own RSA key pair: a sha256_password login gets sha256_password's public
/// key and its ciphertext is decrypted with that pair (the check names the plugin), a
/// caching_sha2_password login gets its own; without sha256_password's pair its RSA path is
/// refused even when caching_sha2_password has one.
#[test]
fn each_plugin_sends_and_decrypts_with_its_own_rsa_key_pair() {
    let key_sent = |plugin: Plugin, p: ServerParams| {
        let name = plugin.name();
        let acct = account("k", plugin, "secret");
        let (mut hs, _) = Handshake::new(p);
        // sha256_password: an empty response, then the switch; caching_sha2_password: a scramble
        // that cannot match (no cache entry), then `01 04`.
        let first: &[u8] = if plugin == Plugin::Sha256Password {
            &[]
        } else {
            &[9; 32]
        };
        let resp = response("k", first, Some(name), None, CLIENT_CAPS);
        let _ = hs.handle(Event::Packet {
            seq: 1,
            payload: &resp,
        });
        let _ = hs.handle(Event::Account(Lookup::Found {
            account: Arc::new(acct),
            cached: None,
            cached_secondary: None,
        }));
        // The switch (or `01 04`), then the client's key request.
        let request = if plugin == Plugin::Sha256Password {
            0x01
        } else {
            0x02
        };
        let seq = hs.expected_seq();
        let actions = hs.handle(Event::Packet {
            seq,
            payload: &[request],
        });
        let pem = actions.iter().find_map(|a| match a {
            // AuthMoreData (`01` + PEM), not an ERR.
            Action::Send(bytes) if bytes.get(4) == Some(&1) => {
                Some(String::from_utf8_lossy(&bytes[5..]).into_owned())
            }
            _ => None,
        });
        let seq = hs.expected_seq();
        let nonce = if plugin == Plugin::Sha256Password {
            SWITCH_NONCE
        } else {
            NONCE
        };
        let actions = hs.handle(Event::Packet {
            seq,
            payload: &fake_encrypt("secret", &nonce),
        });
        let checked = actions.iter().find_map(|a| match a {
            Action::RunSlowCheck(c) => Some(c.plugin),
            _ => None,
        });
        (pem, checked)
    };
    let p = params(Transport::Tcp, false, true);
    let (pem, checked) = key_sent(Plugin::Sha256Password, p.clone());
    assert!(pem.is_some_and(|p| p.contains("SHA256")));
    assert_eq!(checked, Some(Plugin::Sha256Password));
    let (pem, checked) = key_sent(Plugin::CachingSha2Password, p.clone());
    assert!(pem.is_some_and(|p| p.contains("TEST") && !p.contains("SHA256")));
    assert_eq!(checked, Some(Plugin::CachingSha2Password));
    let mut no_sha256 = p;
    no_sha256.rsa_sha256 = None;
    let (pem, checked) = key_sent(Plugin::Sha256Password, no_sha256);
    assert_eq!((pem, checked), (None, None));
}

#[test]
fn ssl_request_without_tls_is_bad_handshake() {
    let mut d = Driver::new(params(Transport::Tcp, false, false), None, None);
    d.client_send(&encode_ssl_request(&ClientHeader {
        capabilities: CLIENT_CAPS | CLIENT_SSL,
        max_packet_size: 0,
        character_set: 255,
    }));
    let e = err_of(d.last());
    assert_eq!((e.code, &e.sql_state.unwrap()), (1043, b"08S01"));
    assert!(d.closed);
}

#[test]
fn header_checks_refuse_tls_hello_out_of_order_and_oversized() {
    let (mut hs, _) = Handshake::new(params(Transport::Tcp, true, false));
    assert!(hs.check_header([0x16, 0x03, 0x01, 0x01]).is_err());
    let (mut hs, _) = Handshake::new(params(Transport::Tcp, true, false));
    let a = hs.check_header([5, 0, 0, 3]).unwrap_err();
    assert!(matches!(&a[0], Action::Send(b) if b[4] == 0xFF && b[5..7] == 1156u16.to_le_bytes()));
    let (mut hs, _) = Handshake::new(params(Transport::Tcp, true, false));
    assert!(hs.check_header([0xFF, 0xFF, 0x01, 1]).is_err());
    let (mut hs, _) = Handshake::new(params(Transport::Tcp, true, false));
    assert_eq!(
        hs.check_header([50, 0, 0, 1]).unwrap(),
        Header { len: 50, seq: 1 }
    );
}

#[test]
fn events_out_of_place_close_cleanly() {
    let (mut hs, _) = Handshake::new(params(Transport::Tcp, true, false));
    let a = hs.handle(Event::Verdict(Verdict {
        password_ok: true,
        digest: None,
        cleartext: None,
    }));
    assert!(matches!(
        a.as_slice(),
        [
            Action::Failed(HandshakeError::UnexpectedEvent { .. }),
            Action::Close
        ]
    ));
    // Once failed, everything is refused without panicking.
    let a = hs.handle(Event::Packet {
        seq: 1,
        payload: b"x",
    });
    assert!(matches!(a.last(), Some(Action::Close)));
}

/// COM_CHANGE_USER always restarts authentication with an AuthSwitchRequest that carries the
/// connection's own nonce (the greeting's), as MySQL's `acl_authenticate()` does: it draws a
/// new scramble only for a new connection.
#[test]
fn change_user_always_switches_with_the_connections_nonce() {
    let acct = account("bob", Plugin::CachingSha2Password, "pw");
    let cmd = ChangeUser {
        username: b"bob".to_vec(),
        auth_response: vec![],
        database: vec![],
        character_set: Some(255),
        client_plugin: Some(CS2.as_bytes().to_vec()),
        connect_attrs: vec![],
    };
    let mut d = Driver::change_user(
        params(Transport::Tcp, false, false),
        CLIENT_CAPS,
        Some(acct),
        Some(caching_sha2::cached_digest(b"pw")),
        cmd,
    );
    assert_eq!(d.last().seq, 1);
    let sw = AuthSwitchRequest::parse(&d.last().payload).unwrap();
    assert_eq!(&sw.plugin_data[..20], &NONCE);
    assert_ne!(NONCE, SWITCH_NONCE);
    d.client_send(&caching_sha2::client_scramble(
        b"pw",
        &Nonce::from_wire(NONCE),
    ));
    assert_eq!(seqs(&d), vec![1, 3, 4]);
    assert_eq!(d.session.as_ref().unwrap().account_user(), "bob");
}

/// An unknown user's decoy hash costs what a real account's costs: its SHA-256-crypt rounds are
/// the configured `caching_sha2_password_digest_rounds`, not the default (docs/security.md).
#[test]
fn decoy_hash_uses_the_configured_digest_rounds() {
    for rounds in [5000, 100_000, 4_095_000] {
        let mut p = params(Transport::Tcp, true, false);
        p.digest_rounds = rounds;
        match decoy_auth_string(Plugin::CachingSha2Password, &p) {
            AuthString::CachingSha2 { rounds: r, .. } => assert_eq!(r, rounds),
            other => panic!("decoy is not caching_sha2: {other:?}"),
        }
    }
}

/// The greeting offers what the embedder asks for, within what Vestibule supports, and always
/// what the exchange needs; CLIENT_SSL follows TLS; the character set is the one given.
#[test]
fn the_greeting_offers_the_configured_capabilities_and_character_set() {
    let greet = |caps: u32, charset: u8, tls: bool| {
        let mut p = params(Transport::Tcp, tls, false);
        p.capabilities = caps;
        p.character_set = charset;
        let d = Driver::new(p, None, None);
        HandshakeV10::parse(&d.sent[0].payload).unwrap()
    };
    let g = greet(SERVER_CAPABILITIES, 255, true);
    assert_eq!(g.capabilities, SERVER_CAPABILITIES | CLIENT_SSL);
    assert_eq!(g.character_set, 255);
    let g = greet(
        SERVER_CAPABILITIES & !CLIENT_DEPRECATE_EOF & !CLIENT_MULTI_STATEMENTS,
        45,
        false,
    );
    assert_eq!(
        g.capabilities & (CLIENT_DEPRECATE_EOF | CLIENT_MULTI_STATEMENTS | CLIENT_SSL),
        0
    );
    assert_eq!(g.character_set, 45);
    // Nothing asked for: still what the exchange needs; nothing Vestibule does not support.
    assert_eq!(greet(0, 255, false).capabilities, REQUIRED_CAPABILITIES);
    assert_eq!(
        greet(!CLIENT_SSL, 255, false).capabilities,
        SERVER_CAPABILITIES
    );
}

/// Byte-exact snapshots of every packet the server sends in the connection phase.
mod snapshots {
    use super::*;

    pub(super) fn settings() -> insta::Settings {
        let mut s = insta::Settings::clone_current();
        s.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots"));
        s.set_prepend_module_to_snapshot(false);
        s.set_omit_expression(true);
        s
    }

    pub(super) fn dump(d: &Driver) -> String {
        d.sent
            .iter()
            .map(|f| {
                let mut bytes = Vec::new();
                crate::wire::frame::encode(f.seq, &f.payload, &mut bytes);
                format!("seq {}:\n{}", f.seq, crate::wire::hex_dump(&bytes))
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn snapshot_greeting_with_and_without_tls() {
        let d = Driver::new(params(Transport::Tcp, true, false), None, None);
        let d2 = Driver::new(params(Transport::Tcp, false, false), None, None);
        settings().bind(|| {
            insta::assert_snapshot!("greeting_tls", dump(&d));
            insta::assert_snapshot!("greeting_plain", dump(&d2));
        });
    }

    #[test]
    fn snapshot_fast_path_full_path_switch_rsa_and_errors() {
        let acct = account("app", Plugin::CachingSha2Password, "secret");
        let cached = caching_sha2::cached_digest(b"secret");
        let ok_scramble = caching_sha2::client_scramble(b"secret", &Nonce::from_wire(NONCE));

        let mut fast = Driver::new(
            params(Transport::Tcp, false, false),
            Some(acct.clone()),
            Some(cached.clone()),
        );
        fast.client_send(&response("app", &ok_scramble, Some(CS2), None, CLIENT_CAPS));

        let mut full = Driver::new(
            params(Transport::Unix, false, false),
            Some(acct.clone()),
            None,
        );
        full.client_send(&response("app", &ok_scramble, Some(CS2), None, CLIENT_CAPS));
        full.client_send(b"secret\0");

        let mut switch = Driver::new(
            params(Transport::Tcp, false, false),
            Some(acct.clone()),
            Some(cached),
        );
        switch.client_send(&response(
            "app",
            &[1; 20],
            Some("mysql_native_password"),
            None,
            CLIENT_CAPS,
        ));

        let mut rsa = Driver::new(
            params(Transport::Tcp, false, true),
            Some(acct.clone()),
            None,
        );
        rsa.client_send(&response("app", &ok_scramble, Some(CS2), None, CLIENT_CAPS));
        rsa.client_send(&[0x02]);

        let mut denied = Driver::new(params(Transport::Tcp, false, false), Some(acct), None);
        denied.client_send(&response("app", &[], Some(CS2), None, CLIENT_CAPS));

        let mut bad = Driver::new(params(Transport::Tcp, false, false), None, None);
        bad.client_send(&[1, 2, 3]);

        let mut old = Driver::new(
            params(Transport::Tcp, false, false),
            Some(account("app", Plugin::CachingSha2Password, "x")),
            None,
        );
        old.client_send(&response(
            "app",
            &[1; 20],
            None,
            None,
            (CLIENT_CAPS & !CLIENT_PLUGIN_AUTH) & !CLIENT_CONNECT_ATTRS,
        ));

        settings().bind(|| {
            insta::assert_snapshot!("auth_fast_path", dump(&fast));
            insta::assert_snapshot!("auth_full_path_socket", dump(&full));
            insta::assert_snapshot!("auth_switch_request", dump(&switch));
            insta::assert_snapshot!("auth_rsa_public_key", dump(&rsa));
            insta::assert_snapshot!("err_access_denied_no_password", dump(&denied));
            insta::assert_snapshot!("err_bad_handshake", dump(&bad));
            insta::assert_snapshot!("err_not_supported_auth_mode", dump(&old));
        });
    }
}

#[test]
fn a_full_auth_finishing_after_alter_user_does_not_refill_the_cache() {
    // The login verified the old stored string; ALTER USER changed it (and evicted) meanwhile.
    let old = account("app", Plugin::CachingSha2Password, "old");
    let new = account("app", Plugin::CachingSha2Password, "new");
    let mut set = crate::account::AccountSet::new();
    set.create(vec![new], false).unwrap();
    let cache = crate::cache::AuthCache::new(10, [9; 16]);
    let stale = caching_sha2::cached_digest(b"old");
    assert!(!fill_cache_if_current(
        &set,
        &cache,
        "app",
        "%",
        0,
        stale.clone(),
        &old.auth_string
    ));
    assert!(cache.get("app", "%").is_none());
    // Dropped meanwhile: no fill either.
    let empty = crate::account::AccountSet::new();
    assert!(!fill_cache_if_current(
        &empty,
        &cache,
        "app",
        "%",
        0,
        stale,
        &old.auth_string
    ));
    // Unchanged: filled.
    let current = set.get("app", "%").unwrap().auth_string.clone();
    assert!(fill_cache_if_current(
        &set,
        &cache,
        "app",
        "%",
        0,
        caching_sha2::cached_digest(b"new"),
        &current
    ));
    assert!(cache.get("app", "%").is_some());
}

#[test]
fn login_ok_is_the_encoders_ok_with_autocommit() {
    assert_eq!(
        LOGIN_OK.to_vec(),
        crate::wire::packets::OkPacket::with_status(SERVER_STATUS_AUTOCOMMIT).encode()
    );
}

/// Real clients' COM_CHANGE_USER exchanges, replayed byte for byte through the machine.
///
/// Each capture is one plain-TCP connection recorded with `tests/interop/capture_proxy.py`
/// between the client and the server binary: the login, a few queries, then COM_CHANGE_USER.
/// The replay takes the greeting's and the switch's nonces from the server's recorded bytes,
/// feeds the client's recorded packets to the machine and checks that it answers with exactly
/// the bytes the server sent, ending with the new session (docs/protocol.md, "COM_CHANGE_USER").
mod replays {
    use super::*;
    use crate::wire::command::Command;

    fn packets(stream: &[u8]) -> Vec<Frame> {
        let mut out = Vec::new();
        let mut rest = stream;
        while let [a, b, c, seq, tail @ ..] = rest {
            let len = usize::from(*a) | usize::from(*b) << 8 | usize::from(*c) << 16;
            out.push(Frame {
                seq: *seq,
                payload: tail[..len].to_vec(),
            });
            rest = &tail[len..];
        }
        out
    }

    fn nonce_of_switch(payload: &[u8]) -> Nonce {
        let sw = AuthSwitchRequest::parse(payload).unwrap();
        Nonce::from_wire(sw.plugin_data[..20].try_into().unwrap())
    }

    /// Replays `c2s` against `s2c`: logs in as `login` (with its cache entry), then changes user
    /// to `target`. Returns the login's session and the driver of the change-user exchange.
    fn replay(
        c2s: &[u8],
        s2c: &[u8],
        login: (Account, Option<CachedDigest>),
        target: Account,
        target_cache: Option<CachedDigest>,
    ) -> (Session, Driver) {
        let (c2s, s2c) = (packets(c2s), packets(s2c));
        let greeting = HandshakeV10::parse(&s2c[0].payload).unwrap();
        let mut p = params(Transport::Tcp, true, false);
        p.nonce = Nonce::from_wire(greeting.nonce);
        p.connection_id = greeting.connection_id;
        // The server of the capture offered what its greeting says (it predates
        // CLIENT_CAN_HANDLE_EXPIRED_PASSWORDS in the greeting).
        p.capabilities = greeting.capabilities & !CLIENT_SSL;
        // The login's own switch, if any: before the OK that ends the login.
        let login_frames = s2c.iter().take_while(|f| f.payload.first() != Some(&0x00));
        if let Some(sw) = login_frames
            .skip(1)
            .find(|f| f.payload.first() == Some(&0xfe))
        {
            p.switch_nonce = nonce_of_switch(&sw.payload);
        }
        // The login: every client packet up to the first command.
        let mut d = Driver::new(p.clone(), Some(login.0), login.1);
        let mut client = c2s.iter();
        while d.session.is_none() {
            let f = client
                .next()
                .expect("the capture ends before the login does");
            assert_eq!(f.seq, d.hs.expected_seq());
            d.client_send(&f.payload);
            assert!(d.error.is_none(), "login failed: {:?}", d.error);
        }
        assert_eq!(
            d.sent,
            s2c[..d.sent.len()],
            "login packets differ from the capture"
        );
        let session = d.session.clone().unwrap();

        // COM_CHANGE_USER and the packets that answer the server within it.
        let mut client = client.skip_while(|f| f.payload.first() != Some(&0x11));
        let cmd = client.next().expect("no COM_CHANGE_USER in the capture");
        let Ok(Command::ChangeUser(cu)) = Command::parse(&cmd.payload, session.client_capabilities)
        else {
            panic!("COM_CHANGE_USER refused")
        };
        let mut p2 = p;
        p2.nonce = session.nonce;
        let mut cu_driver = Driver::change_user(
            p2,
            session.client_capabilities,
            Some(target),
            target_cache,
            cu,
        );
        for f in client.take_while(|f| f.seq != 0) {
            assert_eq!(f.seq, cu_driver.hs.expected_seq());
            cu_driver.client_send(&f.payload);
        }
        // The server's answer in the capture: from the switch at seq 1 on.
        let start = s2c
            .iter()
            .skip(d.sent.len())
            .position(|f| f.seq == 1 && f.payload.first() == Some(&0xfe))
            .expect("no AuthSwitchRequest in the capture")
            + d.sent.len();
        let n = cu_driver.sent.len();
        assert_eq!(
            cu_driver.sent,
            s2c[start..start + n],
            "change-user packets differ from the capture"
        );
        (session, cu_driver)
    }

    fn native(user: &str, pw: &str) -> Account {
        account(user, Plugin::MysqlNativePassword, pw)
    }

    /// mysqlclient 2.2 on libmariadb 3.3: a native account changes to another native account.
    /// libmariadb answers the switch with the scramble of the nonce it last received during the
    /// login (here the login's own AuthSwitchRequest), whatever the switch carries.
    #[test]
    fn mysqlclient_change_user_native_to_native() {
        let (session, d) = replay(
            include_bytes!("replays/mysqlclient_change_user_native.c2s"),
            include_bytes!("replays/mysqlclient_change_user_native.s2c"),
            (native("u1", "pw1"), None),
            native("u2", "pw2"),
            None,
        );
        assert_eq!(session.plugin, Plugin::MysqlNativePassword);
        let new = d.session.as_ref().expect("change_user failed");
        assert_eq!((new.account_user(), new.plugin), ("u2", session.plugin));
        assert_eq!(new.nonce, session.nonce);
        snapshots::settings().bind(|| {
            insta::assert_snapshot!("change_user_mysqlclient_native", snapshots::dump(&d));
        });
    }

    /// mysql_async 0.37: a caching_sha2_password account (fast path) changes to a native one.
    /// Its COM_CHANGE_USER carries a 32-byte caching_sha2 scramble and ends with an empty
    /// connect-attributes block (`00`) although CLIENT_CONNECT_ATTRS was not negotiated.
    #[test]
    fn mysql_async_change_user_sha2_to_native() {
        let c2s = include_bytes!("replays/mysql_async_change_user_sha2_to_native.c2s");
        let cmd = packets(c2s)
            .into_iter()
            .find(|f| f.payload.first() == Some(&0x11))
            .unwrap();
        assert!(cmd.payload.ends_with(b"caching_sha2_password\0\0"));
        let (session, d) = replay(
            c2s,
            include_bytes!("replays/mysql_async_change_user_sha2_to_native.s2c"),
            (
                account("s2", Plugin::CachingSha2Password, "pw3"),
                Some(caching_sha2::cached_digest(b"pw3")),
            ),
            native("u2", "pw2"),
            None,
        );
        assert_eq!(session.client_capabilities & CLIENT_CONNECT_ATTRS, 0);
        assert_eq!(session.auth_path, AuthPath::FastPath);
        let new = d.session.as_ref().expect("change_user failed");
        assert_eq!(
            (new.account_user(), new.plugin),
            ("u2", Plugin::MysqlNativePassword)
        );
        snapshots::settings().bind(|| {
            insta::assert_snapshot!(
                "change_user_mysql_async_sha2_to_native",
                snapshots::dump(&d)
            );
        });
    }
}

/// Pass-through (docs/proxy.md §4.2): with `derive_secret`, a native login carries SHA1(pw),
/// a fast path SHA256(pw) and a full authentication the cleartext; without it, nothing.
#[test]
fn the_login_secret_is_derived_only_when_asked_for() {
    use crate::client::Credential;
    use sha1::Digest as _;
    let native_login = |derive: bool| {
        let mut p = params(Transport::Tcp, false, false);
        p.default_plugin = Plugin::MysqlNativePassword;
        p.derive_secret = derive;
        let acct = account("app", Plugin::MysqlNativePassword, "secret");
        let mut d = Driver::new(p, Some(acct), None);
        let scramble =
            crate::auth::native::client_scramble(b"secret", &Nonce::from_wire(d.greeting_nonce()));
        d.client_send(&response(
            "app",
            &scramble,
            Some("mysql_native_password"),
            None,
            CLIENT_CAPS,
        ));
        d.session.expect("logged in").login_secret
    };
    let sha1: [u8; 20] = sha1::Sha1::digest(b"secret").into();
    assert_eq!(native_login(true), Some(Credential::NativeHash(sha1)));
    assert_eq!(native_login(false), None);

    // Full authentication over TLS: the cleartext.
    let mut p = params(Transport::Tcp, true, false);
    p.derive_secret = true;
    let acct = account("app", Plugin::CachingSha2Password, "secret");
    let mut d = Driver::new(p, Some(acct), None);
    let caps = CLIENT_CAPS | CLIENT_SSL;
    d.client_send(&encode_ssl_request(&ClientHeader {
        capabilities: caps,
        max_packet_size: 1 << 24,
        character_set: 255,
    }));
    let scramble = caching_sha2::client_scramble(b"secret", &Nonce::from_wire(NONCE));
    d.client_send(&response("app", &scramble, Some(CS2), None, caps));
    assert_eq!(d.last().payload, vec![0x01, 0x04]);
    d.client_send(b"secret\0");
    assert_eq!(
        d.session.expect("logged in").login_secret,
        Some(Credential::password(b"secret".to_vec()))
    );

    // Full authentication with RSA on plain TCP: the decrypted password, only when asked for.
    for derive in [true, false] {
        let mut p = params(Transport::Tcp, false, true);
        p.derive_secret = derive;
        let acct = account("app", Plugin::CachingSha2Password, "secret");
        let mut d = Driver::new(p, Some(acct), None);
        let scramble = caching_sha2::client_scramble(b"secret", &Nonce::from_wire(NONCE));
        d.client_send(&response("app", &scramble, Some(CS2), None, CLIENT_CAPS));
        assert_eq!(d.last().payload, vec![0x01, 0x04]);
        d.client_send(&fake_encrypt("secret", &NONCE));
        let secret = d.session.expect("logged in").login_secret;
        let want = derive.then(|| Credential::password(b"secret".to_vec()));
        assert_eq!(secret, want);
    }
}

/// docs/proxy.md §4.2c: with `derive_secret`, a fast path's `01 03` waits for admission;
/// admission can take it (`01 03` + OK, the secret SHA256(pw)), refuse it (`01 03` + ERR), or
/// ask for the cleartext: `01 04`, full authentication, and a second admission with the
/// password. A wrong cleartext then fails as any full authentication does.
#[test]
fn admission_can_turn_a_fast_path_into_a_full_authentication() {
    use crate::client::Credential;
    use sha2::Digest as _;
    let start = || {
        let mut p = params(Transport::Unix, false, false);
        p.admission = true;
        p.derive_secret = true;
        let acct = account("app", Plugin::CachingSha2Password, "secret");
        let (mut hs, _) = Handshake::new(p);
        let scramble = caching_sha2::client_scramble(b"secret", &Nonce::from_wire(NONCE));
        let resp = response("app", &scramble, Some(CS2), None, CLIENT_CAPS);
        hs.handle(Event::Packet {
            seq: 1,
            payload: &resp,
        });
        let actions = hs.handle(Event::Account(Lookup::Found {
            account: Arc::new(acct),
            cached: Some(caching_sha2::cached_digest(b"secret")),
            cached_secondary: None,
        }));
        // Nothing is sent before admission answers.
        let session = match actions.as_slice() {
            [Action::Admit(s)] => s.clone(),
            other => panic!("{other:?}"),
        };
        let t: [u8; 32] = sha2::Sha256::digest(b"secret").into();
        assert_eq!(session.login_secret, Some(Credential::Sha256Hash(t)));
        (hs, session)
    };
    // Taken: 01 03 + OK in one write.
    let (mut hs, session) = start();
    match hs.handle(Event::Admission(Ok(session))).as_slice() {
        [Action::Send(bytes), Action::Authenticated(_)] => {
            let mut want = crate::wire::frame::packet(2, &[1, 3]);
            want.extend(crate::wire::frame::packet(3, &LOGIN_OK));
            assert_eq!(bytes, &want);
        }
        other => panic!("{other:?}"),
    }
    // Refused: 01 03 + ERR.
    let (mut hs, _) = start();
    let refusal = ErrPacket::new(1045, "28000", "no");
    match hs.handle(Event::Admission(Err(refusal.clone()))).as_slice() {
        [Action::Send(bytes), Action::Failed(HandshakeError::Refused(1045)), Action::Close] => {
            let mut want = crate::wire::frame::packet(2, &[1, 3]);
            want.extend(crate::wire::frame::packet(3, &refusal.encode()));
            assert_eq!(bytes, &want);
        }
        other => panic!("{other:?}"),
    }
    // Cleartext needed: 01 04, the password over the socket, a second admission.
    for (password, accepted) in [("secret", true), ("wrong", false)] {
        let (mut hs, _) = start();
        match hs.handle(Event::CleartextNeeded).as_slice() {
            [Action::Send(bytes)] => assert_eq!(bytes, &crate::wire::frame::packet(2, &[1, 4])),
            other => panic!("{other:?}"),
        }
        let mut pw = password.as_bytes().to_vec();
        pw.push(0);
        let check = match hs
            .handle(Event::Packet {
                seq: 3,
                payload: &pw,
            })
            .as_slice()
        {
            [Action::RunSlowCheck(c)] => c.clone(),
            other => panic!("{other:?}"),
        };
        let verdict = check.run(None);
        let actions = hs.handle(Event::Verdict(verdict));
        if accepted {
            let second = actions
                .iter()
                .find_map(|a| match a {
                    Action::Admit(s) => Some(s.clone()),
                    _ => None,
                })
                .expect("a second admission");
            assert_eq!(
                second.login_secret,
                Some(Credential::password(b"secret".to_vec()))
            );
            assert_eq!(second.auth_path, AuthPath::Full);
            // A second request for the cleartext has nothing left to ask: it fails.
            let after = hs.handle(Event::CleartextNeeded);
            assert!(matches!(
                after.as_slice(),
                [
                    Action::Failed(HandshakeError::UnexpectedEvent { .. }),
                    Action::Close
                ]
            ));
        } else {
            assert!(actions
                .iter()
                .any(|a| matches!(a, Action::Failed(HandshakeError::AccessDenied { .. }))));
        }
    }
}

/// Dual passwords (research note §1.1): every plugin tries the primary, then the secondary;
/// the session says which matched; the fast path consults slot 1 only while the account has
/// a secondary; a full authentication with the secondary fills slot 1.
#[test]
fn dual_passwords_pass_with_either_password() {
    let dual = |plugin: Plugin| {
        let mut a = account("app", plugin, "new-pw");
        a.secondary = Some(AuthString::generate(plugin, b"old-pw", [9u8; 20], 5000));
        a
    };
    // mysql_native_password.
    for (pw, ok, secondary) in [
        ("new-pw", true, false),
        ("old-pw", true, true),
        ("x", false, false),
    ] {
        let mut p = params(Transport::Tcp, false, false);
        p.default_plugin = Plugin::MysqlNativePassword;
        let mut d = Driver::new(p, Some(dual(Plugin::MysqlNativePassword)), None);
        let scramble = crate::auth::native::client_scramble(
            pw.as_bytes(),
            &Nonce::from_wire(d.greeting_nonce()),
        );
        d.client_send(&response(
            "app",
            &scramble,
            Some("mysql_native_password"),
            None,
            CLIENT_CAPS,
        ));
        assert_eq!(
            d.session.as_ref().map(|s| s.secondary_password),
            ok.then_some(secondary),
            "{pw}"
        );
    }
    // caching_sha2_password full path over the socket: the secondary fills slot 1.
    for (pw, ok, secondary) in [
        ("new-pw", true, false),
        ("old-pw", true, true),
        ("x", false, false),
    ] {
        let mut d = Driver::new(
            params(Transport::Unix, false, false),
            Some(dual(Plugin::CachingSha2Password)),
            None,
        );
        let scramble = caching_sha2::client_scramble(pw.as_bytes(), &Nonce::from_wire(NONCE));
        d.client_send(&response("app", &scramble, Some(CS2), None, CLIENT_CAPS));
        assert_eq!(d.last().payload, vec![0x01, 0x04]);
        let mut clear = pw.as_bytes().to_vec();
        clear.push(0);
        d.client_send(&clear);
        assert_eq!(
            d.session.as_ref().map(|s| s.secondary_password),
            ok.then_some(secondary),
            "{pw}"
        );
        assert_eq!(
            d.filled.as_ref().map(|c| *c.as_bytes()),
            ok.then(|| *caching_sha2::cached_digest(pw.as_bytes()).as_bytes())
        );
    }
    // Fast path: slot 1 answers only while the account has a secondary.
    let fast = |acct: Account, secondary_slot: Option<CachedDigest>| {
        let (mut hs, _) = Handshake::new(params(Transport::Tcp, false, false));
        let scramble = caching_sha2::client_scramble(b"old-pw", &Nonce::from_wire(NONCE));
        let resp = response("app", &scramble, Some(CS2), None, CLIENT_CAPS);
        hs.handle(Event::Packet {
            seq: 1,
            payload: &resp,
        });
        hs.handle(Event::Account(Lookup::Found {
            account: Arc::new(acct),
            cached: Some(caching_sha2::cached_digest(b"new-pw")),
            cached_secondary: secondary_slot,
        }))
    };
    let slot1 = Some(caching_sha2::cached_digest(b"old-pw"));
    let actions = fast(dual(Plugin::CachingSha2Password), slot1.clone());
    assert!(
        matches!(actions.last(), Some(Action::Authenticated(s)) if s.secondary_password),
        "{actions:?}"
    );
    // After DISCARD OLD PASSWORD the stale slot is never consulted: full authentication.
    let discarded = account("app", Plugin::CachingSha2Password, "new-pw");
    let actions = fast(discarded, slot1);
    match actions.as_slice() {
        [Action::Send(b)] => assert_eq!(b, &crate::wire::frame::packet(2, &[1, 4])),
        other => panic!("{other:?}"),
    }
}

/// FAILED_LOGIN_ATTEMPTS: the machine asks the driver after every password verdict of an
/// account with locking active, and a blocked answer is 3955 with MySQL's text, even for the
/// right password (after `01 03` on the fast path, as MySQL's plugin sends it first).
#[test]
fn a_blocked_account_gets_3955_whatever_the_password() {
    let locking = || {
        let mut a = account("app", Plugin::MysqlNativePassword, "secret");
        a.failed_login_attempts = 3;
        a.password_lock_time = crate::account::PasswordLockTime::Days(2);
        a
    };
    let mut p = params(Transport::Tcp, false, false);
    p.default_plugin = Plugin::MysqlNativePassword;
    let (mut hs, _) = Handshake::new(p);
    let scramble = crate::auth::native::client_scramble(b"secret", &Nonce::from_wire(NONCE));
    let resp = response(
        "app",
        &scramble,
        Some("mysql_native_password"),
        None,
        CLIENT_CAPS,
    );
    hs.handle(Event::Packet {
        seq: 1,
        payload: &resp,
    });
    let actions = hs.handle(Event::Account(Lookup::Found {
        account: Arc::new(locking()),
        cached: None,
        cached_secondary: None,
    }));
    assert!(matches!(
        actions.as_slice(),
        [Action::TrackFailedLogins {
            password_ok: true,
            attempts: 3,
            lock_days: Some(2),
            ..
        }]
    ));
    let actions = hs.handle(Event::LockState(LockState::Blocked {
        lock_days: Some(2),
        remaining_days: Some(1),
        attempts: 3,
    }));
    match actions.as_slice() {
        [Action::Send(b), Action::Failed(HandshakeError::AccountBlocked { .. }), Action::Close] => {
            let err = ErrPacket::parse(&b[4..]).unwrap();
            assert_eq!(err.code, 3955);
            assert_eq!(
                err.message,
                "Access denied for user 'app'@'localhost'. Account is blocked for 2 day(s) (1 day(s) remaining) due to 3 consecutive failed logins."
            );
        }
        other => panic!("{other:?}"),
    }
    // Not blocked: the verdict stands (here the right password: OK).
    let mut d = Driver::new(
        {
            let mut p = params(Transport::Tcp, false, false);
            p.default_plugin = Plugin::MysqlNativePassword;
            p
        },
        Some(locking()),
        None,
    );
    let scramble =
        crate::auth::native::client_scramble(b"secret", &Nonce::from_wire(d.greeting_nonce()));
    d.client_send(&response(
        "app",
        &scramble,
        Some("mysql_native_password"),
        None,
        CLIENT_CAPS,
    ));
    assert!(d.session.is_some());
}

/// Password expiry (research note §1.4): 1862 for a client without
/// CLIENT_CAN_HANDLE_EXPIRED_PASSWORDS while disconnect_on_expired_password is ON; otherwise
/// the session is admitted and marked for the sandbox.
#[test]
fn an_expired_password_is_1862_or_the_sandbox() {
    use crate::wire::CLIENT_CAN_HANDLE_EXPIRED_PASSWORDS as CAN;
    for (caps, disconnect, outcome) in [
        (CLIENT_CAPS & !CAN, true, Err(1862)),
        (CLIENT_CAPS | CAN, true, Ok(true)),
        (CLIENT_CAPS & !CAN, false, Ok(true)),
    ] {
        let mut acct = account("app", Plugin::CachingSha2Password, "secret");
        acct.password_expired = true;
        let mut p = params(Transport::Unix, false, false);
        p.disconnect_on_expired_password = disconnect;
        let mut d = Driver::new(p, Some(acct), Some(caching_sha2::cached_digest(b"secret")));
        let scramble = caching_sha2::client_scramble(b"secret", &Nonce::from_wire(NONCE));
        d.client_send(&response("app", &scramble, Some(CS2), None, caps));
        let got = match &d.session {
            Some(s) => Ok(s.password_expired),
            None => Err(err_of(d.last()).code),
        };
        assert_eq!(got, outcome);
    }
    // By age: the global default lifetime against the last change.
    let mut acct = account("app", Plugin::CachingSha2Password, "secret");
    acct.password_last_changed = 1_000;
    let mut p = params(Transport::Unix, false, false);
    p.default_password_lifetime = 1;
    p.now_secs = 1_000 + 86_400;
    let mut d = Driver::new(p, Some(acct), Some(caching_sha2::cached_digest(b"secret")));
    let scramble = caching_sha2::client_scramble(b"secret", &Nonce::from_wire(NONCE));
    d.client_send(&response(
        "app",
        &scramble,
        Some(CS2),
        None,
        CLIENT_CAPS & !CLIENT_CAN_HANDLE_EXPIRED_PASSWORDS,
    ));
    assert_eq!(err_of(d.last()).code, 1862);
}
