//! Authentication paths against clients nobody here wrote (issue 4): sha256_password over TLS,
//! over RSA and (refused) in cleartext on the Unix socket; caching_sha2_password's RSA path with
//! clients that fetch the key, bring their own (PyMySQL `server_public_key`), or cannot do RSA
//! (mysql-connector-python C extension and pure mode); a server without an RSA key pair;
//! FLUSH PRIVILEGES and wrong passwords against a warm cache; `caching_sha2_password_digest_rounds`
//! across a restart on the same data dir.
//!
//! Auth-path counters (`Caching_sha2_password_fast_path_auths` / `_full_auths`, which count
//! successful logins) are read over one root session on the Unix socket opened at the start of a
//! test, so reading them adds no login of its own.
//!
//! Needs: `mariadb` (Debian package mariadb-client), `python3` with PyMySQL, cryptography and
//! mysql-connector-python. A missing tool fails the test with an install hint.

mod common;
use common::*;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

/// The server shared by tests that neither count logins nor change global state.
fn shared() -> &'static Server {
    static SHARED: OnceLock<Server> = OnceLock::new();
    SHARED.get_or_init(|| Server::start(&[]))
}

/// (fast_path_auths, full_auths) read over an open session.
fn auth_counters(srv: &Server, admin: &mut Session<'_>) -> (u64, u64) {
    counters(&must_query(srv, admin, COUNTERS_SQL))
}

fn denied(user: &str) -> String {
    format!("ERROR 1045 (28000): {}\n", access_denied(user))
}

fn path_str(p: &Path) -> String {
    p.display().to_string()
}

/// A one-connection TCP proxy to the server that records what the client sends. Returns the
/// port to connect to and a handle yielding the client's bytes once the client has closed.
fn recording_proxy(server_port: u16) -> (u16, std::thread::JoinHandle<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
    let port = listener.local_addr().expect("addr").port();
    let handle = std::thread::spawn(move || {
        let (mut client, _) = listener.accept().expect("accept");
        let mut server = TcpStream::connect(("127.0.0.1", server_port)).expect("connect server");
        for s in [&client, &server] {
            s.set_read_timeout(Some(Duration::from_secs(30)))
                .expect("timeout");
        }
        let (mut client_w, mut server_r) = (
            client.try_clone().expect("clone"),
            server.try_clone().expect("clone"),
        );
        let back = std::thread::spawn(move || {
            let _ = std::io::copy(&mut server_r, &mut client_w);
            let _ = client_w.shutdown(std::net::Shutdown::Write);
        });
        let mut recorded = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match client.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    recorded.extend_from_slice(&buf[..n]);
                    if server.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            }
        }
        let _ = server.shutdown(std::net::Shutdown::Both);
        let _ = back.join();
        recorded
    });
    (port, handle)
}

/// Splits a recorded byte stream into (sequence id, payload) packets.
fn packets(mut b: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    while b.len() >= 4 {
        let len = usize::from(b[0]) | usize::from(b[1]) << 8 | usize::from(b[2]) << 16;
        let end = (4 + len).min(b.len());
        out.push((b[3], b[4..end].to_vec()));
        b = &b[end..];
    }
    out
}

// ---------------------------------------------------------------------------------------------
// sha256_password
// ---------------------------------------------------------------------------------------------

/// A sha256_password account (stored as `$5$…`): the mariadb CLI and PyMySQL log in over TLS
/// (cleartext inside TLS, after the auth switch from the greeting's caching_sha2_password) and
/// over plain TCP (RSA: both request the key with 0x01). On the Unix socket without TLS the
/// cleartext password PyMySQL sends (it treats the socket as secure) is refused with 1045, as in
/// MySQL, where the socket is not secure for sha256_password; the mariadb CLI uses RSA there and
/// logs in. Wrong passwords get 1045 on every path.
#[test]
fn sha256_password_tls_rsa_and_no_cleartext_on_the_socket() {
    let srv = shared();
    admin(
        srv,
        "CREATE USER 's256'@'localhost' IDENTIFIED WITH sha256_password BY 'S256-pw1'",
    );
    let show = admin(srv, "SHOW CREATE USER 's256'@'localhost'");
    assert!(
        show.starts_with(
            "CREATE USER `s256`@`localhost` IDENTIFIED WITH 'sha256_password' AS 0x2435"
        ) && show.contains(" REQUIRE NONE "),
        "SHOW CREATE USER: {show}"
    );
    let sql = "SELECT CURRENT_USER(); SHOW STATUS LIKE 'Ssl_version'";
    for (via, ssl) in [(Via::Tls, "TLSv1.3"), (Via::Plain, ""), (Via::Socket, "")] {
        check_eq(
            srv,
            &ok(srv, mariadb(srv, via, "s256", "S256-pw1", &[], sql)),
            &format!("s256@localhost\nSsl_version\t{ssl}\n"),
            &format!("mariadb {via:?}"),
        );
        check_eq(
            srv,
            &failed(srv, mariadb(srv, via, "s256", "S256-wrong", &[], sql)),
            &denied("s256"),
            &format!("mariadb {via:?}, wrong password"),
        );
    }
    let stmts = ["SELECT CURRENT_USER()", "SHOW STATUS LIKE 'Ssl_version'"];
    for (via, ssl) in [(Via::Tls, "TLSv1.3"), (Via::Plain, "")] {
        check_eq(
            srv,
            &ok(srv, pymysql(srv, via, "s256", "S256-pw1", None, &stmts)),
            &format!("s256@localhost\nSsl_version\t{ssl}\n"),
            &format!("PyMySQL {via:?}"),
        );
    }
    check_eq(
        srv,
        &failed(
            srv,
            pymysql(srv, Via::Socket, "s256", "S256-pw1", None, &stmts),
        ),
        &format!("CONNECT ERROR 1045: {}\n", access_denied("s256")),
        "PyMySQL sends the cleartext password on the socket (no TLS): refused",
    );
}

/// `mariadb --default-auth=<plugin>` sends an empty first response named after that plugin
/// (libmariadb does not reuse the greeting's caching_sha2_password nonce for another plugin) and
/// waits for the server to send that plugin's data. MySQL restarts authentication with the
/// account's plugin, and sha256_password / mysql_native_password (whose nonce was not in the
/// greeting) always start by sending a fresh nonce, in an AuthSwitchRequest
/// (`server_mpvio_write_packet` in RESTART state), so these logins succeed against MySQL 8.0.
#[test]
fn mariadb_default_auth_plugin_gets_an_auth_switch() {
    let srv = shared();
    admin(
        srv,
        "CREATE USER 'da_s256'@'localhost' IDENTIFIED WITH sha256_password BY 'Da-s256-pw'; \
         CREATE USER 'da_nat'@'localhost' IDENTIFIED WITH mysql_native_password BY 'Da-nat-pw'",
    );
    let sql = "SELECT CURRENT_USER()";
    for via in [Via::Tls, Via::Plain] {
        check_eq(
            srv,
            &ok(
                srv,
                mariadb(
                    srv,
                    via,
                    "da_s256",
                    "Da-s256-pw",
                    &["--default-auth=sha256_password"],
                    sql,
                ),
            ),
            "da_s256@localhost\n",
            &format!("mariadb {via:?} --default-auth=sha256_password"),
        );
        check_eq(
            srv,
            &ok(
                srv,
                mariadb(
                    srv,
                    via,
                    "da_nat",
                    "Da-nat-pw",
                    &["--default-auth=mysql_native_password"],
                    sql,
                ),
            ),
            "da_nat@localhost\n",
            &format!("mariadb {via:?} --default-auth=mysql_native_password"),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// caching_sha2_password: the RSA path on plain TCP
// ---------------------------------------------------------------------------------------------

/// Cold caching_sha2_password accounts on plain TCP with clients that cannot fetch the key:
/// mysql-connector-python's C extension gives up locally with 2061 (like libmysqlclient without
/// `--get-server-public-key`), its pure mode sends the cleartext password and is refused (1045);
/// neither counts. PyMySQL with `server_public_key` (the data dir's public_key.pem) encrypts at
/// once — the recorded client stream shows no 0x02 key request, just a 256-byte ciphertext right
/// after `01 04` — and logs in (one full auth); with another key the server cannot decrypt (1045).
/// The C extension logs in over TLS, and afterwards on plain TCP through the fast path.
#[test]
fn cold_accounts_on_plain_tcp_without_key_retrieval() {
    let srv = Server::start(&[]);
    let mut adm = root_socket_session(&srv);
    must_query(
        &srv,
        &mut adm,
        "CREATE USER 'cext_cold'@'localhost' IDENTIFIED BY 'Cext-cold1'",
    );
    must_query(
        &srv,
        &mut adm,
        "CREATE USER 'pure_cold'@'localhost' IDENTIFIED BY 'Pure-cold2'",
    );
    must_query(
        &srv,
        &mut adm,
        "CREATE USER 'py_key'@'localhost' IDENTIFIED BY 'Py-key-pw3'",
    );
    let base = auth_counters(&srv, &mut adm);
    assert_eq!(base, (0, 1), "only root's socket login so far");
    let sel = "SELECT CURRENT_USER()";

    check_eq(
        &srv,
        &failed(
            &srv,
            connector(&srv, Impl::CExt, Via::Plain, "cext_cold", "Cext-cold1", &[sel]),
        ),
        "CONNECT ERROR 2061 (HY000): Authentication plugin 'caching_sha2_password' reported error: Authentication requires secure connection.\n",
        "connector C ext, cold, plain TCP",
    );
    let err = failed(
        &srv,
        connector(
            &srv,
            Impl::Pure,
            Via::Plain,
            "pure_cold",
            "Pure-cold2",
            &[sel],
        ),
    );
    assert!(
        err.starts_with(&format!(
            "CONNECT ERROR 1045 (28000): {}",
            access_denied("pure_cold")
        )),
        "connector pure, cold, plain TCP: {err}"
    );
    assert_eq!(
        auth_counters(&srv, &mut adm),
        base,
        "refused logins count nothing"
    );

    // PyMySQL with the key file, through a recording proxy.
    let key = path_str(&srv.datadir().join("public_key.pem"));
    let (proxy_port, recorded) = recording_proxy(srv.port);
    let proxy_port = proxy_port.to_string();
    check_eq(
        &srv,
        &ok(
            &srv,
            pymysql_args(
                &srv,
                Via::Plain,
                "py_key",
                "Py-key-pw3",
                &["--port", &proxy_port, "--server-public-key", &key],
                &[sel],
            ),
        ),
        "py_key@localhost\n",
        "PyMySQL with server_public_key",
    );
    let sent = packets(&recorded.join().expect("proxy"));
    assert!(
        sent.iter().all(|(_, p)| p.as_slice() != [0x02]),
        "PyMySQL must not request the key: {:?}",
        sent.iter().map(|(s, p)| (*s, p.len())).collect::<Vec<_>>()
    );
    assert!(
        sent.len() >= 2 && sent[1].0 == 3 && sent[1].1.len() == 256,
        "2nd client packet: the RSA ciphertext (seq 3, 256 bytes) answering 01 04: {:?}",
        sent.iter().map(|(s, p)| (*s, p.len())).collect::<Vec<_>>()
    );
    assert_eq!(
        auth_counters(&srv, &mut adm),
        (base.0, base.1 + 1),
        "one full authentication"
    );

    // The same with a key that is not the server's: the server cannot decrypt.
    let other = tempfile::tempdir().expect("tempdir");
    let (other_priv, other_pub) = (
        other.path().join("private_key.pem"),
        other.path().join("public_key.pem"),
    );
    vestibule::server::rsa_keys::ensure_rsa_keys(&other_priv, &other_pub, true)
        .expect("generate another key pair");
    must_query(
        &srv,
        &mut adm,
        "CREATE USER 'py_badkey'@'localhost' IDENTIFIED BY 'Py-badkey4'",
    );
    check_eq(
        &srv,
        &failed(
            &srv,
            pymysql_args(
                &srv,
                Via::Plain,
                "py_badkey",
                "Py-badkey4",
                &["--server-public-key", &path_str(&other_pub)],
                &[sel],
            ),
        ),
        &format!("CONNECT ERROR 1045: {}\n", access_denied("py_badkey")),
        "PyMySQL with another server's key",
    );
    assert_eq!(auth_counters(&srv, &mut adm), (base.0, base.1 + 1));

    // The C extension over TLS (full auth), then plain TCP on the warm cache (fast path).
    for (via, want) in [
        (Via::Tls, (base.0, base.1 + 2)),
        (Via::Plain, (base.0 + 1, base.1 + 2)),
    ] {
        check_eq(
            &srv,
            &ok(
                &srv,
                connector(&srv, Impl::CExt, via, "cext_cold", "Cext-cold1", &[sel]),
            ),
            "cext_cold@localhost\n",
            &format!("connector C ext {via:?}"),
        );
        assert_eq!(auth_counters(&srv, &mut adm), want, "after {via:?}");
    }
    adm.quit();
}

/// The status variables hold the PEM of the loaded public key, identical to public_key.pem.
#[test]
fn rsa_public_key_status_is_the_key_file() {
    let srv = shared();
    let pem = std::fs::read_to_string(srv.datadir().join("public_key.pem")).expect("public key");
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"), "{pem}");
    let mut adm = root_socket_session(srv);
    for name in ["Caching_sha2_password_rsa_public_key", "Rsa_public_key"] {
        let rows = adm
            .query(&format!("SHOW GLOBAL STATUS LIKE '{name}'"))
            .expect("query")
            .expect("rows");
        assert_eq!(
            rows,
            vec![vec![Some(name.to_string()), Some(pem.clone())]],
            "{name}"
        );
    }
    adm.quit();
}

/// `--caching-sha2-password-auto-generate-rsa-keys OFF --sha256-password-auto-generate-rsa-keys
/// OFF` in a fresh data dir: no key files, both status variables empty; a cold plain-TCP login
/// fails (mariadb asks for the key and reads the ERR instead: client-side 2061; PyMySQL 1045)
/// and counts nothing; TLS works, and then plain TCP works through the fast path.
#[test]
fn no_rsa_key_pair() {
    let srv = Server::start(&[
        "--caching-sha2-password-auto-generate-rsa-keys",
        "OFF",
        "--sha256-password-auto-generate-rsa-keys",
        "OFF",
    ]);
    for f in ["private_key.pem", "public_key.pem"] {
        assert!(!srv.datadir().join(f).exists(), "{f} must not be generated");
    }
    let mut adm = root_socket_session(&srv);
    assert_eq!(
        must_query(
            &srv,
            &mut adm,
            "SHOW GLOBAL STATUS LIKE '%rsa\\_public\\_key'"
        ),
        "Caching_sha2_password_rsa_public_key\t\nRsa_public_key\t\n"
    );
    must_query(
        &srv,
        &mut adm,
        "CREATE USER 'nokey'@'localhost' IDENTIFIED BY 'Nokey-pw1'",
    );
    let base = auth_counters(&srv, &mut adm);
    let sel = "SELECT CURRENT_USER()";
    check_eq(
        &srv,
        &failed(
            &srv,
            mariadb(&srv, Via::Plain, "nokey", "Nokey-pw1", &[], sel),
        ),
        "ERROR 2061 (HY000): Couldn't read RSA public key from server\n",
        "mariadb plain TCP, cold, no RSA keys",
    );
    check_eq(
        &srv,
        &failed(
            &srv,
            pymysql(&srv, Via::Plain, "nokey", "Nokey-pw1", None, &[sel]),
        ),
        &format!("CONNECT ERROR 1045: {}\n", access_denied("nokey")),
        "PyMySQL plain TCP, cold, no RSA keys",
    );
    assert_eq!(auth_counters(&srv, &mut adm), base, "nothing counted");
    check_eq(
        &srv,
        &ok(
            &srv,
            mariadb(&srv, Via::Tls, "nokey", "Nokey-pw1", &[], sel),
        ),
        "nokey@localhost\n",
        "TLS without RSA keys",
    );
    check_eq(
        &srv,
        &ok(
            &srv,
            pymysql(&srv, Via::Plain, "nokey", "Nokey-pw1", None, &[sel]),
        ),
        "nokey@localhost\n",
        "plain TCP on the warm cache",
    );
    assert_eq!(
        auth_counters(&srv, &mut adm),
        (base.0 + 1, base.1 + 1),
        "TLS full auth, then the fast path"
    );
    adm.quit();
}

// ---------------------------------------------------------------------------------------------
// The cache: FLUSH PRIVILEGES, wrong passwords
// ---------------------------------------------------------------------------------------------

/// FLUSH PRIVILEGES empties the cache: the next plain-TCP login of a client that cannot do RSA
/// (connector pure) is a full authentication in cleartext and is refused. A wrong password
/// against a warm cache is not refused on the fast path: the server answers `01 04` (full
/// authentication), then 1045; the counters do not move (they count successful logins). The
/// right password is still a fast-path hit afterwards.
#[test]
fn flush_privileges_and_wrong_password_on_a_warm_cache() {
    let srv = Server::start(&[]);
    let mut adm = root_socket_session(&srv);
    must_query(
        &srv,
        &mut adm,
        "CREATE USER 'warm'@'localhost' IDENTIFIED BY 'Warm-pw1'",
    );
    let c0 = auth_counters(&srv, &mut adm);
    let sel = "SELECT CURRENT_USER()";
    let raw_reply = |pw: &str| {
        let mut s = TcpStream::connect(("127.0.0.1", srv.port)).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        first_auth_reply(&mut s, "warm", pw).expect("first reply")
    };
    assert_eq!(raw_reply("Warm-pw1"), [1, 4], "cold: full authentication");
    check_eq(
        &srv,
        &ok(&srv, mariadb(&srv, Via::Tls, "warm", "Warm-pw1", &[], sel)),
        "warm@localhost\n",
        "TLS fills the cache",
    );
    check_eq(
        &srv,
        &ok(
            &srv,
            connector(&srv, Impl::Pure, Via::Plain, "warm", "Warm-pw1", &[sel]),
        ),
        "warm@localhost\n",
        "connector pure, plain TCP, warm: fast path",
    );
    assert_eq!(auth_counters(&srv, &mut adm), (c0.0 + 1, c0.1 + 1));
    // `01 03` is followed by the OK: this probe is a (counted) fast-path login.
    assert_eq!(raw_reply("Warm-pw1"), [1, 3], "warm: fast path");
    let c0 = (c0.0 + 2, c0.1 + 1);
    assert_eq!(auth_counters(&srv, &mut adm), c0);

    must_query(&srv, &mut adm, "FLUSH PRIVILEGES");
    assert_eq!(
        raw_reply("Warm-pw1"),
        [1, 4],
        "flushed: full authentication"
    );
    let err = failed(
        &srv,
        connector(&srv, Impl::Pure, Via::Plain, "warm", "Warm-pw1", &[sel]),
    );
    assert!(
        err.starts_with(&format!(
            "CONNECT ERROR 1045 (28000): {}",
            access_denied("warm")
        )),
        "connector pure after FLUSH PRIVILEGES: {err}"
    );
    let c1 = auth_counters(&srv, &mut adm);
    assert_eq!(c1, c0, "the refused login counted nothing");

    // Warm again (PyMySQL over TLS: full), then a wrong password.
    check_eq(
        &srv,
        &ok(
            &srv,
            pymysql(&srv, Via::Tls, "warm", "Warm-pw1", None, &[sel]),
        ),
        "warm@localhost\n",
        "TLS refills the cache",
    );
    let c2 = auth_counters(&srv, &mut adm);
    assert_eq!(c2, (c1.0, c1.1 + 1));
    assert_eq!(
        raw_reply("Warm-wrong"),
        [1, 4],
        "wrong password on a warm cache degrades to full authentication"
    );
    for via in [Via::Plain, Via::Tls] {
        check_eq(
            &srv,
            &failed(&srv, mariadb(&srv, via, "warm", "Warm-wrong", &[], sel)),
            &denied("warm"),
            &format!("wrong password on a warm cache, {via:?}"),
        );
    }
    let err = failed(
        &srv,
        connector(&srv, Impl::Pure, Via::Plain, "warm", "Warm-wrong", &[sel]),
    );
    check_eq(
        &srv,
        err.lines().next().unwrap_or_default(),
        &format!("CONNECT ERROR 1045 (28000): {}", access_denied("warm")),
        "connector pure, wrong password, warm cache",
    );
    assert_eq!(
        auth_counters(&srv, &mut adm),
        c2,
        "failed logins move neither counter"
    );
    check_eq(
        &srv,
        &ok(
            &srv,
            mariadb(&srv, Via::Plain, "warm", "Warm-pw1", &[], sel),
        ),
        "warm@localhost\n",
        "the right password after the failures",
    );
    assert_eq!(
        auth_counters(&srv, &mut adm),
        (c2.0 + 1, c2.1),
        "still a fast-path hit"
    );
    adm.quit();
}

// ---------------------------------------------------------------------------------------------
// caching_sha2_password_digest_rounds
// ---------------------------------------------------------------------------------------------

/// `--caching-sha2-password-digest-rounds 10000`: new hashes carry `$A$00A$` (SHOW CREATE USER
/// prints it as `AS 0x24412430304124…`) and log in. After a restart on the same data dir with the
/// default (5000), that account still logs in (full authentication: the cache starts empty) and
/// new accounts get `$A$005$`.
#[test]
fn digest_rounds_survive_a_restart_with_the_default() {
    let srv = Server::start(&["--caching-sha2-password-digest-rounds", "10000"]);
    let out = admin(
        &srv,
        "CREATE USER 'r10k'@'localhost' IDENTIFIED BY 'R10k-pw1'; \
         SHOW CREATE USER 'r10k'@'localhost'; \
         SHOW GLOBAL VARIABLES LIKE 'caching_sha2_password_digest_rounds'",
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].starts_with(
            "CREATE USER `r10k`@`localhost` IDENTIFIED WITH 'caching_sha2_password' AS 0x24412430304124"
        ),
        "$A$00A$ prefix: {}",
        lines[0]
    );
    assert_eq!(lines[1], "caching_sha2_password_digest_rounds\t10000");
    let sql = format!("SELECT CURRENT_USER(); {COUNTERS_SQL}");
    let out = ok(&srv, mariadb(&srv, Via::Tls, "r10k", "R10k-pw1", &[], &sql));
    assert_eq!(without_counters(&out), "r10k@localhost\n");
    assert_eq!(counters(&out), (0, 2), "root's login and this one: full");

    let dir = srv.stop();
    let srv = Server::start_in(dir, &[]);
    let out = ok(&srv, mariadb(&srv, Via::Tls, "r10k", "R10k-pw1", &[], &sql));
    assert_eq!(
        without_counters(&out),
        "r10k@localhost\n",
        "after the restart"
    );
    assert_eq!(
        counters(&out),
        (0, 1),
        "a full authentication on a fresh cache"
    );
    let out = ok(
        &srv,
        mariadb(&srv, Via::Plain, "r10k", "R10k-pw1", &[], &sql),
    );
    assert_eq!(counters(&out), (1, 1), "then the fast path");
    let out = admin(
        &srv,
        "CREATE USER 'r5k'@'localhost' IDENTIFIED BY 'R5k-pw2'; \
         SHOW CREATE USER 'r5k'@'localhost'; SHOW CREATE USER 'r10k'@'localhost'; \
         SHOW GLOBAL VARIABLES LIKE 'caching_sha2_password_digest_rounds'",
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(
        lines[0].contains(" AS 0x24412430303524"),
        "$A$005$ for new accounts: {}",
        lines[0]
    );
    assert!(
        lines[1].contains(" AS 0x24412430304124"),
        "r10k keeps $A$00A$: {}",
        lines[1]
    );
    assert_eq!(lines[2], "caching_sha2_password_digest_rounds\t5000");
    check_eq(
        &srv,
        &ok(
            &srv,
            pymysql(
                &srv,
                Via::Tls,
                "r5k",
                "R5k-pw2",
                None,
                &["SELECT CURRENT_USER()"],
            ),
        ),
        "r5k@localhost\n",
        "a 5000-round account",
    );
}

/// sha256_password has its own RSA key pair when its key files differ from
/// caching_sha2_password's: `Rsa_public_key` and `Caching_sha2_password_rsa_public_key` differ,
/// a sha256_password login over plain TCP gets its own public key from the server, and one that
/// encrypts with a local copy of that key (PyMySQL's `server_public_key`) logs in — which fails
/// if the server decrypts with the other plugin's pair.
#[test]
fn sha256_password_uses_its_own_rsa_key_pair() {
    let srv = Server::start(&[
        "--sha256-password-private-key-path",
        "sha256_private_key.pem",
        "--sha256-password-public-key-path",
        "sha256_public_key.pem",
    ]);
    admin(
        &srv,
        "CREATE USER 'own256'@'%' IDENTIFIED WITH sha256_password BY 'Own256-pw1'",
    );
    let sha256_pub = srv.datadir().join("sha256_public_key.pem");
    let sha2_pub = srv.datadir().join("public_key.pem");
    let (a, b) = (
        std::fs::read_to_string(&sha256_pub).expect("sha256 public key"),
        std::fs::read_to_string(&sha2_pub).expect("caching_sha2 public key"),
    );
    assert_ne!(a, b, "the two plugins share one key pair");
    let status = admin(&srv, "SHOW STATUS LIKE 'Rsa_public_key'");
    assert!(status.contains(a.lines().nth(1).unwrap_or("?")), "{status}");
    let stmts = ["SELECT CURRENT_USER()"];
    let key = sha256_pub.display().to_string();
    for args in [vec![], vec!["--server-public-key", key.as_str()]] {
        check_eq(
            &srv,
            &ok(
                &srv,
                pymysql_args(&srv, Via::Plain, "own256", "Own256-pw1", &args, &stmts),
            ),
            "own256@%\n",
            &format!("PyMySQL over RSA {args:?}"),
        );
    }
    // The other plugin's key cannot decrypt for sha256_password.
    let other = sha2_pub.display().to_string();
    check_eq(
        &srv,
        &failed(
            &srv,
            pymysql_args(
                &srv,
                Via::Plain,
                "own256",
                "Own256-pw1",
                &["--server-public-key", &other],
                &stmts,
            ),
        ),
        &format!("CONNECT ERROR 1045: {}\n", access_denied("own256")),
        "PyMySQL with caching_sha2_password's key",
    );
}
