//! End-to-end interoperability: starts the real `vestibule` binary and drives real third-party
//! clients against it — the `mariadb` CLI (libmariadb 3.3), PyMySQL, and mysql-connector-python
//! (C extension and pure Python; scripts in `tests/interop/`). Every test asserts concrete values
//! (status variables, error codes and messages, auth-path counters); a missing client binary or
//! Python module fails the test rather than skipping it.
//!
//! Order-independent checks share one server (`shared()`); tests that count fast-path/full
//! authentications or depend on the cache state start their own, because every login changes
//! those counters. The counters are read by the login under test itself (its own authentication
//! is counted before its first statement), so consecutive readings differ by exactly that login.
//!
//! Needs: `mariadb` (Debian package mariadb-client), `python3` with PyMySQL, cryptography and
//! mysql-connector-python.

mod common;
use common::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The server shared by order-independent tests (never dropped: the watchdog stops it when the
/// test process exits).
fn shared() -> &'static Server {
    static SHARED: OnceLock<Server> = OnceLock::new();
    SHARED.get_or_init(|| Server::start(&[]))
}

// ---------------------------------------------------------------------------------------------
// TLS
// ---------------------------------------------------------------------------------------------

/// mariadb CLI, `--ssl --ssl-ca --ssl-verify-server-cert` (CA and host name verified): the server
/// reports TLS 1.3 and a TLS 1.3 cipher suite for the session, nothing globally.
#[test]
fn mariadb_tls_verified_reports_tlsv13() {
    let srv = shared();
    let out = ok(
        srv,
        mariadb(srv, Via::Tls, "root", ROOT_PW, &[], "SHOW STATUS LIKE 'Ssl_version'; SHOW SESSION STATUS LIKE 'Ssl_cipher'; SHOW GLOBAL STATUS LIKE 'Ssl_version'"),
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    check_eq(srv, lines[0], "Ssl_version\tTLSv1.3", "session Ssl_version");
    let cipher = lines[1]
        .strip_prefix("Ssl_cipher\t")
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        TLS13_SUITES.contains(&cipher),
        "Ssl_cipher {cipher:?} is not a TLS 1.3 suite"
    );
    check_eq(
        srv,
        lines[2],
        "Ssl_version\t",
        "GLOBAL Ssl_version is session-only (empty)",
    );
}

/// PyMySQL with ssl_ca + ssl_verify_cert + ssl_verify_identity (127.0.0.1 against the IP SAN).
#[test]
fn pymysql_tls_verified_reports_tlsv13() {
    let srv = shared();
    let out = ok(
        srv,
        pymysql(
            srv,
            Via::Tls,
            "root",
            ROOT_PW,
            None,
            &[
                "SHOW STATUS LIKE 'Ssl_version'",
                "SHOW STATUS LIKE 'Ssl_cipher'",
            ],
        ),
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    check_eq(
        srv,
        lines[0],
        "Ssl_version\tTLSv1.3",
        "PyMySQL session Ssl_version",
    );
    let cipher = lines[1]
        .strip_prefix("Ssl_cipher\t")
        .unwrap_or_else(|| panic!("{out}"));
    assert!(TLS13_SUITES.contains(&cipher), "Ssl_cipher {cipher:?}");
}

/// The verification above is real: a CA that did not sign the server certificate is rejected by
/// both clients (so the positive tests cannot pass with verification silently off).
#[test]
fn tls_verification_rejects_a_foreign_ca() {
    let srv = shared();
    let other = tempfile::tempdir().expect("tempdir");
    // A CA of a second server instance: valid PEM, wrong key.
    let foreign = Server::start(&[]);
    let foreign_ca = other.path().join("ca.pem");
    std::fs::copy(foreign.ca(), &foreign_ca).expect("copy ca");
    drop(foreign);
    let mut cmd = Command::new("mariadb");
    cmd.args([
        "--no-defaults",
        "--protocol=TCP",
        "-h127.0.0.1",
        &format!("-P{}", srv.port),
        "--ssl",
    ]);
    cmd.arg(format!("--ssl-ca={}", foreign_ca.display()))
        .arg("--ssl-verify-server-cert");
    cmd.args([
        "-uroot",
        &format!("--password={ROOT_PW}"),
        "-N",
        "-B",
        "-e",
        "SELECT 1",
    ]);
    let err = failed(
        srv,
        run(
            cmd,
            "mariadb with a foreign CA".into(),
            "apt-get install -y mariadb-client",
        ),
    );
    assert!(
        err.contains("ERROR 2026 (HY000)"),
        "expected TLS error 2026, got:\n{err}"
    );

    let mut cmd = python();
    cmd.arg(script("pymysql_client.py"));
    cmd.args([
        "--mode",
        "tls",
        "--port",
        &srv.port.to_string(),
        "--ca",
        &foreign_ca.display().to_string(),
    ]);
    cmd.args(["--user", "root", "--password", ROOT_PW, "--", "SELECT 1"]);
    let err = failed(
        srv,
        run(cmd, "PyMySQL with a foreign CA".into(), "install python3"),
    );
    assert!(
        err.starts_with("CONNECT ERROR 2003: ") && err.contains("CERTIFICATE_VERIFY_FAILED"),
        "got:\n{err}"
    );
}

// ---------------------------------------------------------------------------------------------
// The auth cache: full authentication, fast path, plain TCP, FLUSH PRIVILEGES
// ---------------------------------------------------------------------------------------------

/// Fresh server: the first root login over TLS is a full authentication (cleartext inside TLS);
/// every later login with the right password is a fast-path hit, also over plain TCP (mariadb
/// `--skip-ssl`, PyMySQL `ssl_disabled=True`) where a full authentication would have needed RSA.
/// A wrong password against the warm cache degrades to full authentication and fails 1045
/// without counting. FLUSH PRIVILEGES empties the cache: the next plain-TCP login is a full
/// authentication again (RSA key requested by libmariadb itself), and the one after it fast.
#[test]
fn cache_fill_fast_path_plain_tcp_and_flush() {
    let srv = Server::start(&[]);
    let step = |r: Run| {
        let out = ok(&srv, r);
        (counters(&out), without_counters(&out))
    };
    let sql = format!("{COUNTERS_SQL}; SHOW STATUS LIKE 'Ssl_version'");

    let (c, rest) = step(mariadb(&srv, Via::Tls, "root", ROOT_PW, &[], &sql));
    assert_eq!(
        c,
        (0, 1),
        "1st login (mariadb TLS, cold cache) must be a full auth\n{}",
        srv.log_tail()
    );
    check_eq(&srv, &rest, "Ssl_version\tTLSv1.3\n", "mariadb TLS");

    let (c, rest) = step(pymysql(
        &srv,
        Via::Tls,
        "root",
        ROOT_PW,
        None,
        &[COUNTERS_SQL, "SHOW STATUS LIKE 'Ssl_version'"],
    ));
    assert_eq!(
        c,
        (1, 1),
        "2nd login (PyMySQL TLS) must be a fast-path hit\n{}",
        srv.log_tail()
    );
    check_eq(&srv, &rest, "Ssl_version\tTLSv1.3\n", "PyMySQL TLS");

    let (c, rest) = step(mariadb(&srv, Via::Plain, "root", ROOT_PW, &[], &sql));
    assert_eq!(
        c,
        (2, 1),
        "mariadb --skip-ssl after the cache fill must be a fast-path hit\n{}",
        srv.log_tail()
    );
    check_eq(
        &srv,
        &rest,
        "Ssl_version\t\n",
        "plain TCP has no Ssl_version",
    );

    let (c, rest) = step(pymysql(
        &srv,
        Via::Plain,
        "root",
        ROOT_PW,
        None,
        &[COUNTERS_SQL, "SHOW STATUS LIKE 'Ssl_version'"],
    ));
    assert_eq!(
        c,
        (3, 1),
        "PyMySQL ssl_disabled after the cache fill must be a fast-path hit\n{}",
        srv.log_tail()
    );
    check_eq(&srv, &rest, "Ssl_version\t\n", "PyMySQL plain");

    // Wrong password, warm cache, plain TCP: fast path fails, full auth (RSA) fails, 1045.
    let err = failed(
        &srv,
        mariadb(
            &srv,
            Via::Plain,
            "root",
            "not-the-password",
            &[],
            "SELECT 1",
        ),
    );
    check_eq(
        &srv,
        &err,
        &format!("ERROR 1045 (28000): {}\n", access_denied("root")),
        "wrong password, warm cache",
    );

    let (c, _) = step(mariadb(
        &srv,
        Via::Tls,
        "root",
        ROOT_PW,
        &[],
        &format!("{COUNTERS_SQL}; FLUSH PRIVILEGES"),
    ));
    assert_eq!(
        c,
        (4, 1),
        "the failed login counted nothing; this one is fast\n{}",
        srv.log_tail()
    );

    let (c, rest) = step(mariadb(&srv, Via::Plain, "root", ROOT_PW, &[], &sql));
    assert_eq!(
        c,
        (4, 2),
        "after FLUSH PRIVILEGES a plain-TCP login needs full auth (RSA)\n{}",
        srv.log_tail()
    );
    check_eq(&srv, &rest, "Ssl_version\t\n", "plain TCP after flush");

    let (c, _) = step(pymysql(
        &srv,
        Via::Plain,
        "root",
        ROOT_PW,
        None,
        &[COUNTERS_SQL],
    ));
    assert_eq!(
        c,
        (5, 2),
        "the RSA full auth refilled the cache\n{}",
        srv.log_tail()
    );
}

/// Cold accounts over plain TCP: PyMySQL and libmariadb both request the server's RSA public key
/// themselves (0x02), encrypt the password, and log in: full_auths +1 each; the next login of
/// each account is a fast-path hit. mysql-connector-python pure mode has no RSA and sends the
/// password in cleartext on the plain full-auth path: the server must refuse it (1045), counting
/// nothing, and that account stays cold.
#[test]
fn rsa_key_exchange_for_cold_accounts_on_plain_tcp() {
    let srv = Server::start(&[]);
    let out = admin(
        &srv,
        &format!(
            "CREATE USER 'rsa_maria'@'localhost' IDENTIFIED BY 'Maria-rsa1'; \
             CREATE USER 'rsa_py'@'localhost' IDENTIFIED WITH caching_sha2_password BY 'Py-rsa-pw2'; \
             CREATE USER 'rsa_pure'@'localhost' IDENTIFIED BY 'Pure-pw3'; {COUNTERS_SQL}"
        ),
    );
    let base = counters(&out);
    assert_eq!(
        base,
        (0, 1),
        "the admin login was the only (full) auth so far"
    );

    let sel = "SELECT CURRENT_USER()";
    let out = ok(
        &srv,
        mariadb(
            &srv,
            Via::Plain,
            "rsa_maria",
            "Maria-rsa1",
            &[],
            &format!("{COUNTERS_SQL}; {sel}"),
        ),
    );
    assert_eq!(
        counters(&out),
        (0, 2),
        "mariadb cold plain TCP: RSA full auth\n{}",
        srv.log_tail()
    );
    check_eq(
        &srv,
        &without_counters(&out),
        "rsa_maria@localhost\n",
        "mariadb RSA login",
    );

    let out = ok(
        &srv,
        pymysql(
            &srv,
            Via::Plain,
            "rsa_py",
            "Py-rsa-pw2",
            None,
            &[COUNTERS_SQL, sel],
        ),
    );
    assert_eq!(
        counters(&out),
        (0, 3),
        "PyMySQL cold plain TCP: RSA full auth\n{}",
        srv.log_tail()
    );
    check_eq(
        &srv,
        &without_counters(&out),
        "rsa_py@localhost\n",
        "PyMySQL RSA login",
    );

    let out = ok(
        &srv,
        mariadb(&srv, Via::Plain, "rsa_py", "Py-rsa-pw2", &[], COUNTERS_SQL),
    );
    assert_eq!(
        counters(&out),
        (1, 3),
        "rsa_py is now cached: fast path for mariadb too"
    );
    let out = ok(
        &srv,
        pymysql(
            &srv,
            Via::Plain,
            "rsa_maria",
            "Maria-rsa1",
            None,
            &[COUNTERS_SQL],
        ),
    );
    assert_eq!(
        counters(&out),
        (2, 3),
        "rsa_maria cached: fast path for PyMySQL too"
    );

    let err = failed(
        &srv,
        connector(&srv, Impl::Pure, Via::Plain, "rsa_pure", "Pure-pw3", &[sel]),
    );
    assert!(
        err.starts_with(&format!(
            "CONNECT ERROR 1045 (28000): {}",
            access_denied("rsa_pure")
        )),
        "connector pure cold plain must get 1045, got:\n{err}\n{}",
        srv.log_tail()
    );
    let out = ok(
        &srv,
        mariadb(&srv, Via::Tls, "root", ROOT_PW, &[], COUNTERS_SQL),
    );
    assert_eq!(
        counters(&out),
        (3, 3),
        "the refused cleartext login counted nothing"
    );
    let out = ok(
        &srv,
        mariadb(&srv, Via::Plain, "rsa_pure", "Pure-pw3", &[], COUNTERS_SQL),
    );
    assert_eq!(
        counters(&out),
        (3, 4),
        "rsa_pure stayed cold: its first real login is a full auth"
    );
}

/// The Unix socket counts as secure: mariadb `-S` sends the cleartext password on the full-auth
/// path (no TLS, no RSA) and logs in; USER() is root@localhost, Ssl_version empty. Then PyMySQL
/// over the socket hits the cache, and a cold account over the socket is a full auth again. TLS
/// on top of the socket works too.
#[test]
fn unix_socket_cleartext_full_auth() {
    let srv = Server::start(&[]);
    let out = ok(&srv, mariadb(&srv, Via::Socket, "root", ROOT_PW, &[], &format!("{COUNTERS_SQL}; SELECT USER(), CURRENT_USER(); SHOW STATUS LIKE 'Ssl_version'; CREATE USER 'sock_u'@'localhost' IDENTIFIED BY 'Sock-pw4'")));
    assert_eq!(
        counters(&out),
        (0, 1),
        "first socket login: full auth (cleartext)\n{}",
        srv.log_tail()
    );
    check_eq(
        &srv,
        &without_counters(&out),
        "root@localhost\troot@localhost\nSsl_version\t\n",
        "socket session",
    );

    let out = ok(
        &srv,
        pymysql(
            &srv,
            Via::Socket,
            "root",
            ROOT_PW,
            None,
            &[COUNTERS_SQL, "SELECT USER()"],
        ),
    );
    assert_eq!(
        counters(&out),
        (1, 1),
        "PyMySQL over the socket: fast path\n{}",
        srv.log_tail()
    );
    check_eq(
        &srv,
        &without_counters(&out),
        "root@localhost\n",
        "PyMySQL socket USER()",
    );

    let out = ok(
        &srv,
        pymysql(
            &srv,
            Via::Socket,
            "sock_u",
            "Sock-pw4",
            None,
            &[COUNTERS_SQL, "SELECT CURRENT_USER()"],
        ),
    );
    assert_eq!(
        counters(&out),
        (1, 2),
        "PyMySQL cold account over the socket: cleartext full auth\n{}",
        srv.log_tail()
    );
    check_eq(
        &srv,
        &without_counters(&out),
        "sock_u@localhost\n",
        "PyMySQL socket cold account",
    );

    let err = failed(
        &srv,
        mariadb(&srv, Via::Socket, "sock_u", "wrong", &[], "SELECT 1"),
    );
    check_eq(
        &srv,
        &err,
        &format!("ERROR 1045 (28000): {}\n", access_denied("sock_u")),
        "wrong password over the socket",
    );

    // TLS also works over the socket (the 10.11 CLI's default); the certificate is verified for
    // "localhost".
    let ca = format!("--ssl-ca={}", srv.ca());
    let out = ok(
        &srv,
        mariadb(
            &srv,
            Via::Socket,
            "root",
            ROOT_PW,
            &["--ssl", &ca, "--ssl-verify-server-cert"],
            &format!("{COUNTERS_SQL}; SHOW STATUS LIKE 'Ssl_version'"),
        ),
    );
    assert_eq!(counters(&out), (2, 2), "root is cached: fast path");
    check_eq(
        &srv,
        &without_counters(&out),
        "Ssl_version\tTLSv1.3\n",
        "TLS over the socket",
    );
}

// ---------------------------------------------------------------------------------------------
// Accounts and errors
// ---------------------------------------------------------------------------------------------

/// A caching_sha2_password account created via SQL logs in with every transport and client.
#[test]
fn caching_sha2_account_created_via_sql() {
    let srv = shared();
    admin(srv, "CREATE USER 'sha2_acct'@'localhost' IDENTIFIED WITH caching_sha2_password BY 'Sha2-acct-pw'");
    let show = admin(srv, "SHOW CREATE USER 'sha2_acct'@'localhost'");
    assert!(
        show.starts_with(
            "CREATE USER `sha2_acct`@`localhost` IDENTIFIED WITH 'caching_sha2_password' AS "
        ) && show.contains("REQUIRE NONE"),
        "SHOW CREATE USER: {show}"
    );
    let want = "sha2_acct@localhost\tsha2_acct@localhost\n";
    let sql = "SELECT USER(), CURRENT_USER()";
    check_eq(
        srv,
        &ok(
            srv,
            mariadb(srv, Via::Plain, "sha2_acct", "Sha2-acct-pw", &[], sql),
        ),
        want,
        "mariadb plain (RSA)",
    );
    check_eq(
        srv,
        &ok(
            srv,
            mariadb(srv, Via::Tls, "sha2_acct", "Sha2-acct-pw", &[], sql),
        ),
        want,
        "mariadb TLS",
    );
    check_eq(
        srv,
        &ok(
            srv,
            mariadb(srv, Via::Socket, "sha2_acct", "Sha2-acct-pw", &[], sql),
        ),
        want,
        "mariadb socket",
    );
    check_eq(
        srv,
        &ok(
            srv,
            pymysql(srv, Via::Tls, "sha2_acct", "Sha2-acct-pw", None, &[sql]),
        ),
        want,
        "PyMySQL TLS",
    );
    check_eq(
        srv,
        &ok(
            srv,
            pymysql(srv, Via::Plain, "sha2_acct", "Sha2-acct-pw", None, &[sql]),
        ),
        want,
        "PyMySQL plain",
    );
}

/// A mysql_native_password account created via SQL: stored as `*`+SHA1(SHA1(pw)) hex, and the
/// clients (which start with caching_sha2_password from the greeting) follow the auth switch.
#[test]
fn native_password_account_created_via_sql() {
    let srv = shared();
    admin(
        srv,
        "CREATE USER 'native_acct'@'localhost' IDENTIFIED WITH mysql_native_password BY 'password'",
    );
    let show = admin(srv, "SHOW CREATE USER 'native_acct'@'localhost'");
    assert!(
        show.starts_with("CREATE USER `native_acct`@`localhost` IDENTIFIED WITH 'mysql_native_password' AS '*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19' REQUIRE NONE"),
        "SHOW CREATE USER: {show}"
    );
    let want = "native_acct@localhost\n";
    let sql = "SELECT CURRENT_USER()";
    check_eq(
        srv,
        &ok(
            srv,
            mariadb(srv, Via::Plain, "native_acct", "password", &[], sql),
        ),
        want,
        "mariadb plain",
    );
    check_eq(
        srv,
        &ok(
            srv,
            mariadb(srv, Via::Tls, "native_acct", "password", &[], sql),
        ),
        want,
        "mariadb TLS",
    );
    check_eq(
        srv,
        &ok(
            srv,
            pymysql(srv, Via::Plain, "native_acct", "password", None, &[sql]),
        ),
        want,
        "PyMySQL plain",
    );
    check_eq(
        srv,
        &ok(
            srv,
            pymysql(srv, Via::Tls, "native_acct", "password", None, &[sql]),
        ),
        want,
        "PyMySQL TLS",
    );
    check_eq(
        srv,
        &ok(
            srv,
            connector(
                srv,
                Impl::Pure,
                Via::Plain,
                "native_acct",
                "password",
                &[sql],
            ),
        ),
        want,
        "connector pure plain",
    );
    let err = failed(
        srv,
        mariadb(srv, Via::Plain, "native_acct", "passw0rd", &[], sql),
    );
    check_eq(
        srv,
        &err,
        &format!("ERROR 1045 (28000): {}\n", access_denied("native_acct")),
        "native wrong password",
    );
}

/// Wrong password and unknown user get the same 1045 (28000) with the exact MySQL message, over
/// TLS, plain TCP (RSA exchange first) and the Unix socket, from the mariadb CLI and PyMySQL.
#[test]
fn wrong_password_and_unknown_user_get_identical_1045() {
    let srv = shared();
    admin(srv, "CREATE USER 'x'@'localhost' IDENTIFIED BY 'Right-pw5'");
    for via in [Via::Tls, Via::Plain, Via::Socket] {
        for user in ["x", "nobody_here"] {
            let err = failed(srv, mariadb(srv, via, user, "Wrong-pw", &[], "SELECT 1"));
            check_eq(
                srv,
                &err,
                &format!("ERROR 1045 (28000): {}\n", access_denied(user)),
                &format!("mariadb {via:?} {user}"),
            );
            let err = failed(
                srv,
                pymysql(srv, via, user, "Wrong-pw", None, &["SELECT 1"]),
            );
            check_eq(
                srv,
                &err,
                &format!("CONNECT ERROR 1045: {}\n", access_denied(user)),
                &format!("PyMySQL {via:?} {user}"),
            );
        }
    }
    // The account itself works, so the failures above were about the password only.
    check_eq(
        srv,
        &ok(
            srv,
            mariadb(
                srv,
                Via::Tls,
                "x",
                "Right-pw5",
                &[],
                "SELECT CURRENT_USER()",
            ),
        ),
        "x@localhost\n",
        "x with the right password",
    );
}

/// REQUIRE SSL: refused with 1045 over plain TCP and over the Unix socket (the socket is secure
/// for passwords but is not SSL), accepted over TLS.
#[test]
fn require_ssl_account_needs_tls() {
    let srv = shared();
    admin(
        srv,
        "CREATE USER 'tls_only'@'localhost' IDENTIFIED BY 'Tls-only-pw6' REQUIRE SSL",
    );
    let show = admin(srv, "SHOW CREATE USER 'tls_only'@'localhost'");
    assert!(show.contains(" REQUIRE SSL "), "SHOW CREATE USER: {show}");
    let denied = format!("ERROR 1045 (28000): {}\n", access_denied("tls_only"));
    check_eq(
        srv,
        &failed(
            srv,
            mariadb(srv, Via::Plain, "tls_only", "Tls-only-pw6", &[], "SELECT 1"),
        ),
        &denied,
        "mariadb plain",
    );
    check_eq(
        srv,
        &failed(
            srv,
            mariadb(
                srv,
                Via::Socket,
                "tls_only",
                "Tls-only-pw6",
                &[],
                "SELECT 1",
            ),
        ),
        &denied,
        "mariadb socket",
    );
    check_eq(
        srv,
        &failed(
            srv,
            pymysql(
                srv,
                Via::Plain,
                "tls_only",
                "Tls-only-pw6",
                None,
                &["SELECT 1"],
            ),
        ),
        &format!("CONNECT ERROR 1045: {}\n", access_denied("tls_only")),
        "PyMySQL plain",
    );
    let out = ok(
        srv,
        mariadb(
            srv,
            Via::Tls,
            "tls_only",
            "Tls-only-pw6",
            &[],
            "SELECT CURRENT_USER(); SHOW STATUS LIKE 'Ssl_version'",
        ),
    );
    check_eq(
        srv,
        &out,
        "tls_only@localhost\nSsl_version\tTLSv1.3\n",
        "mariadb TLS",
    );
    let out = ok(
        srv,
        pymysql(
            srv,
            Via::Tls,
            "tls_only",
            "Tls-only-pw6",
            None,
            &["SELECT CURRENT_USER()"],
        ),
    );
    check_eq(srv, &out, "tls_only@localhost\n", "PyMySQL TLS");
}

/// An account without privileges gets 1227 (42000) on CREATE USER, and the account is not created.
#[test]
fn ordinary_account_gets_1227_on_create_user() {
    let srv = shared();
    admin(srv, "CREATE USER 'joe'@'localhost' IDENTIFIED BY 'Joe-pw7'");
    let err = failed(
        srv,
        mariadb(
            srv,
            Via::Tls,
            "joe",
            "Joe-pw7",
            &[],
            "CREATE USER 'eve'@'localhost' IDENTIFIED BY 'Eve-pw8'",
        ),
    );
    check_eq(
        srv,
        last_line(&err),
        "ERROR 1227 (42000) at line 1: Access denied; you need (at least one of) the CREATE USER privilege(s) for this operation",
        "joe CREATE USER",
    );
    let out = ok(
        srv,
        pymysql(
            srv,
            Via::Tls,
            "joe",
            "Joe-pw7",
            None,
            &["DROP USER 'x_never'@'localhost'", "SELECT CURRENT_USER()"],
        ),
    );
    check_eq(
        srv,
        &out,
        "ERROR 1227: Access denied; you need (at least one of) the CREATE USER privilege(s) for this operation\njoe@localhost\n",
        "joe DROP USER via PyMySQL",
    );
    let err = failed(
        srv,
        mariadb(srv, Via::Tls, "eve", "Eve-pw8", &[], "SELECT 1"),
    );
    check_eq(
        srv,
        &err,
        &format!("ERROR 1045 (28000): {}\n", access_denied("eve")),
        "eve was not created",
    );
}

/// A syntax error is 1064 (42000) and the same connection keeps working.
#[test]
fn syntax_error_1064_keeps_connection_usable() {
    let srv = shared();
    let r = mariadb_stdin(
        srv,
        Via::Tls,
        "root",
        ROOT_PW,
        &["--force"],
        "SELECT CONNECTION_ID();\nSELEC 1;\nSELECT 2;\nSELECT CONNECTION_ID();\n",
    );
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(
        lines.len() == 3 && lines[1] == "2" && lines[0] == lines[2],
        "statements after the error ran on the same connection: {r:?}"
    );
    assert!(
        last_line(&r.stderr) == "ERROR 1064 (42000) at line 2: You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use near 'SELEC 1' at line 1",
        "{r:?}"
    );
    let out = ok(
        srv,
        pymysql(
            srv,
            Via::Tls,
            "root",
            ROOT_PW,
            None,
            &[
                "!thread_id",
                "SELEC 1",
                "SELECT 2",
                "SELECT CONNECTION_ID()",
            ],
        ),
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert!(
        lines[1].starts_with("ERROR 1064: You have an error in your SQL syntax;"),
        "{out}"
    );
    assert_eq!(lines[2], "2", "{out}");
    assert_eq!(
        lines[3], lines[0],
        "same connection before and after the error: {out}"
    );
}

/// `SELECT VERSION(), USER(), CURRENT_USER(), CONNECTION_ID(), DATABASE()`: values as MySQL
/// gives them; CONNECTION_ID() equals the id in the greeting; DATABASE() follows the handshake's
/// database.
#[test]
fn identity_functions() {
    let srv = shared();
    let sql = "SELECT VERSION(), USER(), CURRENT_USER(), CONNECTION_ID(), DATABASE()";
    let out = ok(srv, mariadb(srv, Via::Tls, "root", ROOT_PW, &[], sql));
    let f: Vec<&str> = out.trim_end_matches('\n').split('\t').collect();
    assert_eq!(f.len(), 5, "{out}");
    assert_eq!(
        &f[..3],
        &[VERSION, "root@localhost", "root@localhost"],
        "{out}"
    );
    assert!(
        f[3].parse::<u32>().is_ok_and(|id| id > 0),
        "CONNECTION_ID() {:?}",
        f[3]
    );
    assert_eq!(f[4], "NULL", "no default database: {out}");

    let out = ok(
        srv,
        pymysql(
            srv,
            Via::Tls,
            "root",
            ROOT_PW,
            Some("mysql"),
            &["!thread_id", sql],
        ),
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    let expected = format!(
        "{VERSION}\troot@localhost\troot@localhost\t{}\tmysql",
        lines[0]
    );
    check_eq(
        srv,
        lines[1],
        &expected,
        "PyMySQL with database=mysql (CONNECTION_ID = greeting thread id)",
    );
    let out = ok(
        srv,
        mariadb(
            srv,
            Via::Tls,
            "root",
            ROOT_PW,
            &["--database=performance_schema"],
            "SELECT DATABASE()",
        ),
    );
    check_eq(srv, &out, "performance_schema\n", "mariadb --database");
}

// ---------------------------------------------------------------------------------------------
// mysql-connector-python
// ---------------------------------------------------------------------------------------------

fn connector_tls(imp: Impl, user: &str, pw: &str) {
    let srv = shared();
    admin(
        srv,
        &format!(
            "CREATE USER '{user}'@'localhost' IDENTIFIED WITH caching_sha2_password BY '{pw}'"
        ),
    );
    let stmts = [
        "!impl",
        "SHOW STATUS LIKE 'Ssl_version'",
        "SELECT CURRENT_USER()",
    ];
    let class = match imp {
        Impl::CExt => "CMySQLConnection",
        Impl::Pure => "MySQLConnection",
    };
    let want = format!("{class}\nSsl_version\tTLSv1.3\n{user}@localhost\n");
    // Cold (full auth, cleartext inside TLS), then warm (fast path), then a wrong password.
    check_eq(
        srv,
        &ok(srv, connector(srv, imp, Via::Tls, user, pw, &stmts)),
        &want,
        "connector TLS, cold",
    );
    check_eq(
        srv,
        &ok(srv, connector(srv, imp, Via::Tls, user, pw, &stmts)),
        &want,
        "connector TLS, warm",
    );
    let err = failed(srv, connector(srv, imp, Via::Tls, user, "bad-pw", &stmts));
    assert!(
        err.starts_with(&format!(
            "CONNECT ERROR 1045 (28000): {}",
            access_denied(user)
        )),
        "{err}"
    );
}

/// mysql-connector-python C extension over verified TLS with a caching_sha2_password account.
#[test]
fn connector_cext_tls_caching_sha2() {
    connector_tls(Impl::CExt, "conn_cext", "Cext-pw9");
}

/// mysql-connector-python pure mode over verified TLS with a caching_sha2_password account.
#[test]
fn connector_pure_tls_caching_sha2() {
    connector_tls(Impl::Pure, "conn_pure", "Pure-pw10");
}

/// COM_CHANGE_USER (connector's cmd_change_user) from root to another caching_sha2 account and to
/// a native one, on the same TLS connection: CURRENT_USER() changes, CONNECTION_ID() does not,
/// TLS remains; a wrong password gets 1045.
fn change_user(imp: Impl, suffix: &str) {
    let srv = shared();
    let (sha2, native) = (format!("cu_sha2_{suffix}"), format!("cu_nat_{suffix}"));
    admin(
        srv,
        &format!(
            "CREATE USER '{sha2}'@'localhost' IDENTIFIED BY 'Cu-sha2-pw'; \
             CREATE USER '{native}'@'localhost' IDENTIFIED WITH mysql_native_password BY 'Cu-nat-pw'"
        ),
    );
    let who = "SELECT CURRENT_USER(), CONNECTION_ID()";
    let cu_sha2 = format!("!change_user {sha2} Cu-sha2-pw");
    let cu_native = format!("!change_user {native} Cu-nat-pw");
    let cu_bad = format!("!change_user {sha2} wrong-pw");
    let out = ok(
        srv,
        connector(
            srv,
            imp,
            Via::Tls,
            "root",
            ROOT_PW,
            &[
                "!thread_id",
                who,
                &cu_sha2,
                who,
                "SHOW STATUS LIKE 'Ssl_version'",
                &cu_native,
                who,
                &cu_bad,
            ],
        ),
    );
    let lines: Vec<&str> = out.lines().collect();
    let id = lines.first().copied().unwrap_or_default();
    let want = format!(
        "{id}\nroot@localhost\t{id}\nCHANGED\n{sha2}@localhost\t{id}\nSsl_version\tTLSv1.3\nCHANGED\n{native}@localhost\t{id}\nCHANGE ERROR 1045 (28000): {}\n",
        access_denied(&sha2)
    );
    check_eq(srv, &out, &want, &format!("cmd_change_user ({imp:?})"));
}

#[test]
fn connector_cext_change_user() {
    change_user(Impl::CExt, "cext");
}

#[test]
fn connector_pure_change_user() {
    change_user(Impl::Pure, "pure");
}

// ---------------------------------------------------------------------------------------------
// connect_timeout
// ---------------------------------------------------------------------------------------------

/// A client that connects and then sends nothing is disconnected after `--connect-timeout 2`
/// (EOF after the greeting, not before ~2 s and well before 5 s), and counts as an aborted connect.
#[test]
fn connect_timeout_disconnects_a_silent_client() {
    let srv = Server::start(&["--connect-timeout", "2"]);
    let mut s = TcpStream::connect(("127.0.0.1", srv.port)).expect("connect");
    let t0 = Instant::now();
    s.set_read_timeout(Some(Duration::from_secs(8)))
        .expect("timeout");
    let mut hdr = [0u8; 4];
    s.read_exact(&mut hdr).expect("greeting header");
    let len = usize::from(hdr[0]) | usize::from(hdr[1]) << 8 | usize::from(hdr[2]) << 16;
    assert_eq!(hdr[3], 0, "greeting has sequence id 0");
    let mut greeting = vec![0u8; len];
    s.read_exact(&mut greeting).expect("greeting body");
    assert_eq!(greeting[0], 10, "protocol version 10");
    assert!(
        greeting[1..].starts_with(format!("{VERSION}\0").as_bytes()),
        "server version in greeting"
    );
    let mut buf = [0u8; 64];
    let n = match s.read(&mut buf) {
        Ok(n) => n,
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => 0,
        Err(e) => panic!(
            "expected EOF, got {e} after {:?}\n{}",
            t0.elapsed(),
            srv.log_tail()
        ),
    };
    let waited = t0.elapsed();
    assert_eq!(n, 0, "server sent {:?} instead of closing", &buf[..n]);
    assert!(
        waited >= Duration::from_millis(1500) && waited <= Duration::from_secs(5),
        "closed after {waited:?}"
    );
    // The connection is really gone: writing eventually fails.
    let _ = s.write_all(&[1, 0, 0, 1, 0]);

    let out = ok(
        &srv,
        mariadb(
            &srv,
            Via::Socket,
            "root",
            ROOT_PW,
            &[],
            "SHOW GLOBAL STATUS LIKE 'Aborted_connects'",
        ),
    );
    check_eq(
        &srv,
        &out,
        "Aborted_connects\t1\n",
        "the silent client was counted as aborted",
    );
    assert!(
        srv.log().contains("timed out"),
        "server logs the timeout:\n{}",
        srv.log_tail()
    );
}

// ---------------------------------------------------------------------------------------------
// Server-wide TLS policy
// ---------------------------------------------------------------------------------------------

/// `--require-secure-transport ON --tls-version TLSv1.2`: a correct password over plain TCP gets
/// 3159 (checked after authentication, so a wrong one still gets 1045); TLS and the Unix socket
/// are accepted; TLS sessions are TLS 1.2 with an OpenSSL-named ECDHE-ECDSA cipher (the generated
/// certificate is ECDSA P-256), and a client insisting on TLS 1.3 cannot connect.
#[test]
fn require_secure_transport_and_tls_version_policy() {
    let srv = Server::start(&[
        "--require-secure-transport",
        "ON",
        "--tls-version",
        "TLSv1.2",
    ]);
    let insecure =
        "Connections using insecure transport are prohibited while --require_secure_transport=ON.";
    let err = failed(
        &srv,
        mariadb(&srv, Via::Plain, "root", ROOT_PW, &[], "SELECT 1"),
    );
    check_eq(
        &srv,
        &err,
        &format!("ERROR 3159 (HY000): {insecure}\n"),
        "mariadb plain, right password",
    );
    let err = failed(
        &srv,
        mariadb(&srv, Via::Plain, "root", "Wrong-pw", &[], "SELECT 1"),
    );
    check_eq(
        &srv,
        &err,
        &format!("ERROR 1045 (28000): {}\n", access_denied("root")),
        "mariadb plain, wrong password",
    );
    let err = failed(
        &srv,
        pymysql(&srv, Via::Plain, "root", ROOT_PW, None, &["SELECT 1"]),
    );
    check_eq(
        &srv,
        &err,
        &format!("CONNECT ERROR 3159: {insecure}\n"),
        "PyMySQL plain",
    );

    let out = ok(
        &srv,
        mariadb(
            &srv,
            Via::Tls,
            "root",
            ROOT_PW,
            &[],
            "SHOW STATUS LIKE 'Ssl_version'; SHOW GLOBAL VARIABLES LIKE 'require_secure_transport'; \
             SHOW GLOBAL VARIABLES LIKE 'tls_version'; SHOW STATUS LIKE 'Ssl_cipher'",
        ),
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    check_eq(
        &srv,
        &lines[..3].join("\n"),
        "Ssl_version\tTLSv1.2\nrequire_secure_transport\tON\ntls_version\tTLSv1.2",
        "mariadb TLS 1.2",
    );
    let tls12 = [
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305",
    ];
    let cipher = lines[3].strip_prefix("Ssl_cipher\t").unwrap_or_default();
    assert!(
        tls12.contains(&cipher),
        "TLS 1.2 Ssl_cipher in OpenSSL naming, got {:?}",
        lines[3]
    );

    let out = ok(
        &srv,
        pymysql(
            &srv,
            Via::Tls,
            "root",
            ROOT_PW,
            None,
            &["SHOW STATUS LIKE 'Ssl_version'"],
        ),
    );
    check_eq(&srv, &out, "Ssl_version\tTLSv1.2\n", "PyMySQL TLS 1.2");

    let out = ok(
        &srv,
        mariadb(
            &srv,
            Via::Socket,
            "root",
            ROOT_PW,
            &[],
            "SELECT CURRENT_USER()",
        ),
    );
    check_eq(
        &srv,
        &out,
        "root@localhost\n",
        "the Unix socket is a secure transport",
    );

    let err = failed(
        &srv,
        mariadb(
            &srv,
            Via::Tls,
            "root",
            ROOT_PW,
            &["--tls-version=TLSv1.3"],
            "SELECT 1",
        ),
    );
    assert!(
        err.starts_with("ERROR 2026 (HY000): TLS/SSL error"),
        "TLS 1.3-only client must fail: {err}"
    );
}
