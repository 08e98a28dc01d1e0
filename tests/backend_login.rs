//! `client::Login` against a real MariaDB (the fixture of `tests/common/mariadb.rs`): a small
//! blocking driver (std::net, rustls with aws-lc-rs for TLS) carries the machine's actions out,
//! then runs `COM_QUERY` on the session it opened. Covers the `app` mysql_native_password
//! account over TCP and TLS, the `REQUIRE SSL` account over TLS, a SHA1(password) credential,
//! a default database, and the backend's own refusals (1045, 1049) and plugin switch.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::OnceLock;
use std::time::Duration;

use common::mariadb::{MariaDb, APP_PW, APP_TLS_PW, APP_TLS_USER, APP_USER};
use sha1::Digest;
use vestibule::auth::Plugin;
use vestibule::client::{
    ClientAction, ClientEvent, Credential, Login, LoginError, LoginOk, LoginParams,
};
use vestibule::handshake::AuthPath;
use vestibule::wire::{CLIENT_DEPRECATE_EOF, CLIENT_SSL};

/// One TLS-enabled server for every test (the watchdog stops it when the process exits).
fn db() -> &'static MariaDb {
    static DB: OnceLock<MariaDb> = OnceLock::new();
    DB.get_or_init(MariaDb::start_tls)
}

enum Conn {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
    /// Only while upgrading.
    Gone,
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Conn::Plain(s) => s.read(buf),
            Conn::Tls(s) => s.read(buf),
            Conn::Gone => Err(std::io::Error::other("gone")),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Conn::Plain(s) => s.write(buf),
            Conn::Tls(s) => s.write(buf),
            Conn::Gone => Err(std::io::Error::other("gone")),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Conn::Plain(s) => s.flush(),
            Conn::Tls(s) => s.flush(),
            Conn::Gone => Ok(()),
        }
    }
}

/// One physical packet (login and test replies are far below 16 MiB): (seq, payload).
fn read_packet(c: &mut Conn) -> (u8, Vec<u8>) {
    let mut h = [0u8; 4];
    c.read_exact(&mut h).expect("packet header");
    let len = u32::from_le_bytes([h[0], h[1], h[2], 0]) as usize;
    let mut p = vec![0u8; len];
    c.read_exact(&mut p).expect("packet payload");
    (h[3], p)
}

/// Connects and drives `Login` to its end; returns the outcome and the connection.
fn login(params: LoginParams) -> (Result<LoginOk, LoginError>, Conn) {
    let tcp = TcpStream::connect(("127.0.0.1", db().port())).expect("connect");
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut conn = Conn::Plain(tcp);
    let mut login = Login::new(params);
    loop {
        let (seq, payload) = read_packet(&mut conn);
        let mut actions: std::collections::VecDeque<ClientAction> = login
            .handle(ClientEvent::Packet {
                seq,
                payload: &payload,
            })
            .into();
        while let Some(a) = actions.pop_front() {
            match a {
                ClientAction::Send(bytes) => {
                    conn.write_all(&bytes).expect("write");
                    conn.flush().expect("flush");
                }
                ClientAction::StartTls => {
                    let Conn::Plain(tcp) = std::mem::replace(&mut conn, Conn::Gone) else {
                        panic!("StartTls twice");
                    };
                    let t = common::client_tls(&[db().ca().expect("TLS fixture")]);
                    let c = rustls::ClientConnection::new(t.config, t.server_name).unwrap();
                    let mut s = rustls::StreamOwned::new(c, tcp);
                    while s.conn.is_handshaking() {
                        s.conn.complete_io(&mut s.sock).expect("TLS handshake");
                    }
                    conn = Conn::Tls(Box::new(s));
                    actions.extend(login.handle(ClientEvent::TlsEstablished));
                }
                ClientAction::Done(ok) => return (Ok(ok), conn),
                ClientAction::Failed(e) => return (Err(e), conn),
                other => panic!("unknown action {other:?}"),
            }
        }
    }
}

/// `COM_QUERY` of a statement returning one row of one column; the value as text.
fn query_one(c: &mut Conn, caps: u32, sql: &str) -> String {
    let mut payload = vec![0x03];
    payload.extend_from_slice(sql.as_bytes());
    c.write_all(&vestibule::wire::frame::packet(0, &payload))
        .unwrap();
    let (_, count) = read_packet(c);
    assert_eq!(count, [1], "column count of {sql}: {count:02x?}");
    read_packet(c); // the column definition
    if caps & CLIENT_DEPRECATE_EOF == 0 {
        assert_eq!(read_packet(c).1.first(), Some(&0xFE));
    }
    let (_, row) = read_packet(c);
    let len = usize::from(row[0]);
    assert!(len < 251 && row.len() == len + 1, "row {row:02x?}");
    let value = String::from_utf8(row[1..].to_vec()).unwrap();
    assert_eq!(read_packet(c).1.first(), Some(&0xFE), "end of {sql}");
    value
}

fn app(credential: Credential) -> LoginParams {
    LoginParams::new(APP_USER, credential)
}

#[test]
fn native_account_over_tcp() {
    let (ok, mut c) = login(app(Credential::password(APP_PW)));
    let ok = ok.expect("login");
    assert_eq!(ok.plugin, Plugin::MysqlNativePassword);
    assert_eq!(ok.auth_path, AuthPath::Other);
    assert!(
        ok.server_version.contains("MariaDB"),
        "{}",
        ok.server_version
    );
    assert_eq!(ok.capabilities & CLIENT_SSL, 0);
    assert_eq!(
        query_one(&mut c, ok.capabilities, "SELECT CURRENT_USER()"),
        "app@%"
    );
    assert_eq!(
        query_one(&mut c, ok.capabilities, "SELECT CONNECTION_ID()"),
        ok.connection_id.to_string()
    );
}

/// A SHA1(password) credential (what pass-through recovers from a native client) passes the
/// backend's mysql_native_password check.
#[test]
fn native_hash_credential() {
    let h: [u8; 20] = sha1::Sha1::digest(APP_PW.as_bytes()).into();
    let (ok, mut c) = login(app(Credential::NativeHash(h)));
    let ok = ok.expect("login");
    assert_eq!(
        query_one(&mut c, ok.capabilities, "SELECT CURRENT_USER()"),
        "app@%"
    );
}

#[test]
fn wrong_password_is_1045() {
    let (r, _) = login(app(Credential::password("not-the-password")));
    match r {
        Err(LoginError::Refused(e)) => {
            assert_eq!(e.code, 1045, "{e:?}");
            assert_eq!(e.sql_state, Some(*b"28000"));
            assert!(e.message.contains("Access denied for user 'app'"), "{e:?}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn default_database_and_unknown_database() {
    let mut p = app(Credential::password(APP_PW));
    p.database = Some("test".into());
    let (ok, mut c) = login(p);
    let ok = ok.expect("login");
    assert_eq!(
        query_one(&mut c, ok.capabilities, "SELECT DATABASE()"),
        "test"
    );

    let mut p = app(Credential::password(APP_PW));
    p.database = Some("no_such_db".into());
    match login(p).0 {
        Err(LoginError::Refused(e)) => assert_eq!(e.code, 1049, "{e:?}"),
        other => panic!("{other:?}"),
    }
}

/// A SHA256(password) credential answers caching_sha2_password; MariaDB's account is native,
/// so it switches, and the machine reports that the credential cannot follow.
#[test]
fn sha256_credential_follows_the_switch_and_fails_cleanly() {
    let (r, _) = login(app(Credential::Sha256Hash([5; 32])));
    assert_eq!(
        r.unwrap_err(),
        LoginError::CredentialUnsuitable {
            plugin: Plugin::MysqlNativePassword,
            credential: "Sha256Hash"
        }
    );
}

#[test]
fn over_tls_including_require_ssl_account() {
    for (user, pw) in [(APP_USER, APP_PW), (APP_TLS_USER, APP_TLS_PW)] {
        let mut p = LoginParams::new(user, Credential::password(pw));
        p.tls = true;
        let (ok, mut c) = login(p);
        let ok = ok.unwrap_or_else(|e| panic!("{user}: {e}"));
        assert_ne!(ok.capabilities & CLIENT_SSL, 0);
        assert!(matches!(c, Conn::Tls(_)));
        assert_eq!(
            query_one(&mut c, ok.capabilities, "SELECT CURRENT_USER()"),
            format!("{user}@%")
        );
        let sql = "SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS \
                   WHERE VARIABLE_NAME = 'Ssl_version'";
        let version = query_one(&mut c, ok.capabilities, sql);
        assert!(version.starts_with("TLSv1."), "{user}: {version}");
    }
    // Without TLS the REQUIRE SSL account is refused by the backend.
    let (r, _) = login(LoginParams::new(
        APP_TLS_USER,
        Credential::password(APP_TLS_PW),
    ));
    match r {
        Err(LoginError::Refused(e)) => assert_eq!(e.code, 1045, "{e:?}"),
        other => panic!("{other:?}"),
    }
}
