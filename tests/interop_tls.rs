//! TLS policy against tools nobody here wrote (issue 3): `openssl s_client -starttls mysql`
//! (OpenSSL 3.0) for protocol versions and cipher suites, the `mariadb` CLI (libmariadb 3.3) and
//! PyMySQL for client certificates and per-account REQUIRE clauses, and both plus raw greetings
//! for the runtime TLS variables, `ALTER INSTANCE RELOAD TLS`, `require_secure_transport` and
//! the `Ssl_*` status variables. The reload stress test drives the crate's own minimal client
//! (rustls) from a second thread while the main thread rotates certificates.
//!
//! Every test starts its own server: most change global TLS state or count handshakes.
//!
//! Needs: `openssl`, `mariadb` (Debian package mariadb-client), `python3` with PyMySQL and
//! cryptography. A missing tool fails the test with an install hint.

mod common;
use common::*;
use std::io::Read;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

const CLIENT_CERT_SUBJECT: &str = "/CN=Vestibule_Auto_Generated_Client_Certificate";
/// TLS 1.2 suites OpenSSL and rustls share for an ECDSA certificate, what the server generates
/// by default (OpenSSL names).
const TLS12_ECDSA_SUITES: [&str; 3] = [
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
];
/// The same for an RSA certificate (`--auto-generate-certs-key-type=RSA`).
const TLS12_RSA_SUITES: [&str; 3] = [
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-RSA-CHACHA20-POLY1305",
];
const INSECURE_3159: &str =
    "Connections using insecure transport are prohibited while --require_secure_transport=ON.";

// ---------------------------------------------------------------------------------------------
// openssl s_client
// ---------------------------------------------------------------------------------------------

/// What `openssl s_client` negotiated.
#[derive(Debug, PartialEq, Eq)]
enum Hs {
    /// (protocol, cipher) as OpenSSL names them.
    Ok(String, String),
    /// The handshake failed ("New, (NONE), Cipher is (NONE)", exit status 1).
    Refused,
}

fn hs(protocol: &str, cipher: &str) -> Hs {
    Hs::Ok(protocol.into(), cipher.into())
}

/// `openssl s_client -starttls mysql -connect 127.0.0.1:PORT ARGS </dev/null` (time limit
/// `CLIENT_TIMEOUT`). Reads the "New, <protocol>, Cipher is <cipher>" line and checks every
/// `Protocol  :` / `Cipher    :` line of the SSL-Session blocks against it (OpenSSL prints the
/// block for TLS 1.2 at once, for TLS 1.3 when a session ticket arrives before stdin's EOF).
fn s_client(srv: &Server, args: &[&str]) -> Hs {
    let mut cmd = Command::new("openssl");
    cmd.args([
        "s_client",
        "-starttls",
        "mysql",
        "-connect",
        &format!("127.0.0.1:{}", srv.port),
    ])
    .args(args);
    let r = run(
        cmd,
        format!("openssl s_client {args:?}"),
        "install it: apt-get install -y openssl",
    );
    let out = format!("{}{}", r.stdout, r.stderr);
    let new_line = r
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("New, "))
        .unwrap_or_else(|| panic!("{}: no 'New, …' line:\n{out}", r.what));
    let (protocol, cipher) = new_line
        .split_once(", Cipher is ")
        .unwrap_or_else(|| panic!("{}: cannot parse {new_line:?}", r.what));
    if protocol == "(NONE)" {
        assert_eq!(cipher, "(NONE)", "{}:\n{out}", r.what);
        assert_eq!(
            r.status,
            Some(1),
            "{}: refused but exit status:\n{out}",
            r.what
        );
        return Hs::Refused;
    }
    assert_eq!(r.status, Some(0), "{}: handshake done but:\n{out}", r.what);
    let field = |name: &str| -> Vec<String> {
        r.stdout
            .lines()
            .filter_map(|l| {
                let (k, v) = l.split_once(':')?;
                (k.trim() == name).then(|| v.trim().to_string())
            })
            .collect()
    };
    for p in field("Protocol") {
        assert_eq!(p, protocol, "{}: Protocol line vs New line:\n{out}", r.what);
    }
    for c in field("Cipher") {
        assert_eq!(c, cipher, "{}: Cipher line vs New line:\n{out}", r.what);
    }
    hs(protocol, cipher)
}

// ---------------------------------------------------------------------------------------------
// Other helpers
// ---------------------------------------------------------------------------------------------

/// The capability flags of the server greeting, parsed from the raw bytes (HandshakeV10:
/// protocol 10, version NUL, id 4, nonce part 1 8, filler 1, caps low 2, charset 1, status 2,
/// caps high 2).
fn greeting_capabilities(srv: &Server) -> u32 {
    let mut s = TcpStream::connect(("127.0.0.1", srv.port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut h = [0u8; 4];
    s.read_exact(&mut h).expect("greeting header");
    let len = usize::from(h[0]) | usize::from(h[1]) << 8 | usize::from(h[2]) << 16;
    let mut p = vec![0u8; len];
    s.read_exact(&mut p).expect("greeting");
    assert_eq!(p[0], 10, "protocol version 10: {p:02x?}");
    let nul = p.iter().position(|b| *b == 0).expect("version NUL");
    let at = nul + 1 + 4 + 8 + 1;
    let low = u32::from(u16::from_le_bytes([p[at], p[at + 1]]));
    let high = u32::from(u16::from_le_bytes([p[at + 5], p[at + 6]]));
    low | high << 16
}

const CLIENT_SSL: u32 = 0x800;

/// A second, independent set of certificates (another CA) in its own directory.
fn other_cert_set() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    vestibule::server::tls_files::auto_generate_certs(dir.path(), "localhost", SystemTime::now())
        .expect("generate a second certificate set");
    dir
}

fn path_str(p: &Path) -> String {
    p.display().to_string()
}

/// The DER of the first certificate in a PEM file.
fn cert_der(path: &Path) -> Vec<u8> {
    use rustls::pki_types::pem::PemObject;
    rustls::pki_types::CertificateDer::pem_file_iter(path)
        .expect("read PEM")
        .next()
        .expect("a certificate")
        .expect("PEM")
        .to_vec()
}

/// `-N -B` output of one mariadb statement that must fail: its last line.
fn mariadb_err(srv: &Server, via: Via, user: &str, pw: &str, extra: &[&str], sql: &str) -> String {
    last_line(&failed(srv, mariadb(srv, via, user, pw, extra, sql))).to_string()
}

fn ssl_cert_args(dir: &Path) -> [String; 2] {
    [
        format!("--ssl-cert={}", dir.join("client-cert.pem").display()),
        format!("--ssl-key={}", dir.join("client-key.pem").display()),
    ]
}

// ---------------------------------------------------------------------------------------------
// Versions and cipher suites (openssl s_client, mariadb)
// ---------------------------------------------------------------------------------------------

/// `--tls-version TLSv1.3`: OpenSSL with `-tls1_2` is refused; `-tls1_3` gets TLS 1.3 with each
/// of the three suites it asks for. The mariadb CLI with `--tls-version=TLSv1.2` fails with
/// 2026; with `--ssl-verify-server-cert` and the CA it gets TLS 1.3.
#[test]
fn tls13_only_server() {
    let srv = Server::start(&["--tls-version", "TLSv1.3"]);
    assert_eq!(s_client(&srv, &["-tls1_2"]), Hs::Refused, "TLS 1.2 client");
    for suite in TLS13_SUITES {
        assert_eq!(
            s_client(&srv, &["-tls1_3", "-ciphersuites", suite]),
            hs("TLSv1.3", suite)
        );
    }
    let Hs::Ok(p, c) = s_client(&srv, &[]) else {
        panic!("default s_client refused\n{}", srv.log_tail())
    };
    assert!(
        p == "TLSv1.3" && TLS13_SUITES.contains(&c.as_str()),
        "{p} {c}"
    );

    let err = mariadb_err(
        &srv,
        Via::Tls,
        "root",
        ROOT_PW,
        &["--tls-version=TLSv1.2"],
        "SELECT 1",
    );
    assert!(
        err.starts_with("ERROR 2026 (HY000): TLS/SSL error"),
        "mariadb --tls-version=TLSv1.2 against a TLS 1.3-only server: {err}"
    );
    let out = ok(
        &srv,
        mariadb(
            &srv,
            Via::Tls,
            "root",
            ROOT_PW,
            &[],
            "SHOW STATUS LIKE 'Ssl_version'; SHOW GLOBAL VARIABLES LIKE 'tls_version'",
        ),
    );
    check_eq(
        &srv,
        &out,
        "Ssl_version\tTLSv1.3\ntls_version\tTLSv1.3\n",
        "mariadb --ssl-ca --ssl-verify-server-cert",
    );
}

/// `--tls-version TLSv1.2`: `-tls1_3` refused; `-tls1_2` accepted with each ECDHE-ECDSA suite the
/// client names (the generated certificate is ECDSA P-256), reported under its OpenSSL name;
/// an ECDHE-RSA suite is refused (no RSA certificate to sign with).
#[test]
fn tls12_only_server() {
    let srv = Server::start(&["--tls-version", "TLSv1.2"]);
    assert_eq!(s_client(&srv, &["-tls1_3"]), Hs::Refused, "TLS 1.3 client");
    for suite in TLS12_ECDSA_SUITES {
        assert_eq!(
            s_client(&srv, &["-tls1_2", "-cipher", suite]),
            hs("TLSv1.2", suite)
        );
    }
    for suite in TLS12_RSA_SUITES {
        assert_eq!(
            s_client(&srv, &["-tls1_2", "-cipher", suite]),
            Hs::Refused,
            "{suite} with an ECDSA certificate"
        );
    }
    let Hs::Ok(p, c) = s_client(&srv, &[]) else {
        panic!("default s_client refused\n{}", srv.log_tail())
    };
    assert!(
        p == "TLSv1.2" && TLS12_ECDSA_SUITES.contains(&c.as_str()),
        "{p} {c}"
    );
}

/// `Public Key Algorithm` of a PEM certificate as `openssl x509 -text` names it
/// (`id-ecPublicKey`, `rsaEncryption`), with the key size line (`Public-Key: (256 bit)`).
fn cert_key_algorithm(path: &Path) -> (String, String) {
    let mut cmd = Command::new("openssl");
    cmd.args(["x509", "-noout", "-text", "-in"]).arg(path);
    let r = run(
        cmd,
        format!("openssl x509 -text -in {}", path.display()),
        "install it: apt-get install -y openssl",
    );
    assert_eq!(r.status, Some(0), "{}: {}", r.what, r.stderr);
    let field = |name: &str| {
        r.stdout
            .lines()
            .find_map(|l| l.trim().strip_prefix(name))
            .unwrap_or_else(|| panic!("{}: no {name}\n{}", r.what, r.stdout))
            .trim()
            .to_string()
    };
    (field("Public Key Algorithm:"), field("Public-Key:"))
}

/// The key type of the generated certificates: ECDSA P-256 by default, RSA 2048 with
/// `--auto-generate-certs-key-type=RSA` (each server in a fresh data dir). With RSA, TLS 1.2
/// clients get the ECDHE-RSA suites and not the ECDHE-ECDSA ones; the mariadb CLI verifies the
/// chain and the host name in both cases, over TLS 1.2 and TLS 1.3.
#[test]
fn generated_certificates_are_ecdsa_unless_rsa_is_asked_for() {
    let files = ["ca.pem", "server-cert.pem", "client-cert.pem"];
    for (args, algorithm, bits, suites, others) in [
        (
            &[][..],
            "id-ecPublicKey",
            "(256 bit)",
            TLS12_ECDSA_SUITES,
            TLS12_RSA_SUITES,
        ),
        (
            &["--auto-generate-certs-key-type", "RSA"][..],
            "rsaEncryption",
            "(2048 bit)",
            TLS12_RSA_SUITES,
            TLS12_ECDSA_SUITES,
        ),
    ] {
        let srv = Server::start(args);
        for file in files {
            assert_eq!(
                cert_key_algorithm(&srv.datadir().join(file)),
                (algorithm.to_string(), bits.to_string()),
                "{file} with {args:?}"
            );
        }
        for suite in suites {
            assert_eq!(
                s_client(&srv, &["-tls1_2", "-cipher", suite]),
                hs("TLSv1.2", suite),
                "{args:?}"
            );
        }
        for suite in others {
            assert_eq!(
                s_client(&srv, &["-tls1_2", "-cipher", suite]),
                Hs::Refused,
                "{suite} with {args:?}"
            );
        }
        let out = ok(
            &srv,
            mariadb(
                &srv,
                Via::Tls,
                "root",
                ROOT_PW,
                &["--tls-version=TLSv1.2"],
                "SHOW STATUS LIKE 'Ssl_version'; SHOW STATUS LIKE 'Ssl_cipher'",
            ),
        );
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2, "{out}");
        assert_eq!(lines[0], "Ssl_version\tTLSv1.2", "{args:?}");
        let cipher = lines[1].strip_prefix("Ssl_cipher\t").unwrap_or_default();
        assert!(suites.contains(&cipher), "{args:?}: {out}");
        check_eq(
            &srv,
            &ok(
                &srv,
                mariadb(
                    &srv,
                    Via::Tls,
                    "root",
                    ROOT_PW,
                    &[],
                    "SHOW STATUS LIKE 'Ssl_version'",
                ),
            ),
            "Ssl_version\tTLSv1.3\n",
            "mariadb --ssl-ca --ssl-verify-server-cert, TLS 1.3",
        );
    }
}

/// `--ssl-cipher ECDHE-ECDSA-AES256-GCM-SHA384`: of the TLS 1.2 suites only that one is accepted
/// (`-cipher ECDHE-ECDSA-AES128-GCM-SHA256 -tls1_2` is refused); TLS 1.3 is unaffected.
#[test]
fn ssl_cipher_restricts_tls12_suites() {
    let only = "ECDHE-ECDSA-AES256-GCM-SHA384";
    let srv = Server::start(&["--ssl-cipher", only]);
    for suite in TLS12_ECDSA_SUITES {
        let want = if suite == only {
            hs("TLSv1.2", only)
        } else {
            Hs::Refused
        };
        assert_eq!(
            s_client(&srv, &["-tls1_2", "-cipher", suite]),
            want,
            "-tls1_2 -cipher {suite}"
        );
    }
    assert_eq!(s_client(&srv, &["-tls1_2"]), hs("TLSv1.2", only));
    assert_eq!(
        s_client(
            &srv,
            &["-tls1_3", "-ciphersuites", "TLS_AES_128_GCM_SHA256"]
        ),
        hs("TLSv1.3", "TLS_AES_128_GCM_SHA256")
    );
    let out = ok(
        &srv,
        mariadb(
            &srv,
            Via::Tls,
            "root",
            ROOT_PW,
            &["--tls-version=TLSv1.2"],
            "SHOW GLOBAL VARIABLES LIKE 'ssl_cipher'; SHOW STATUS LIKE 'Ssl_cipher'",
        ),
    );
    check_eq(
        &srv,
        &out,
        &format!("ssl_cipher\t{only}\nSsl_cipher\t{only}\n"),
        "mariadb TLS 1.2",
    );
}

/// `--tls-ciphersuites TLS_AES_128_GCM_SHA256`: of the TLS 1.3 suites only that one is
/// accepted; TLS 1.2 is unaffected.
#[test]
fn tls_ciphersuites_restricts_tls13_suites() {
    let only = "TLS_AES_128_GCM_SHA256";
    let srv = Server::start(&["--tls-ciphersuites", only]);
    for suite in TLS13_SUITES {
        let want = if suite == only {
            hs("TLSv1.3", only)
        } else {
            Hs::Refused
        };
        assert_eq!(
            s_client(&srv, &["-tls1_3", "-ciphersuites", suite]),
            want,
            "-tls1_3 -ciphersuites {suite}"
        );
    }
    assert_eq!(s_client(&srv, &["-tls1_3"]), hs("TLSv1.3", only));
    assert_eq!(
        s_client(
            &srv,
            &["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256"]
        ),
        hs("TLSv1.2", "ECDHE-ECDSA-AES128-GCM-SHA256")
    );
    let out = ok(
        &srv,
        mariadb(
            &srv,
            Via::Tls,
            "root",
            ROOT_PW,
            &[],
            "SHOW GLOBAL VARIABLES LIKE 'tls_ciphersuites'; SHOW STATUS LIKE 'Ssl_cipher'",
        ),
    );
    check_eq(
        &srv,
        &out,
        &format!("tls_ciphersuites\t{only}\nSsl_cipher\t{only}\n"),
        "mariadb TLS 1.3",
    );
}

// ---------------------------------------------------------------------------------------------
// Client certificates and REQUIRE
// ---------------------------------------------------------------------------------------------

/// REQUIRE X509: refused (1045) without a client certificate, accepted with the generated
/// client-cert.pem/client-key.pem, refused at the TLS layer (2026) with a certificate from
/// another CA. REQUIRE SUBJECT matches the one-line DN exactly; REQUIRE CIPHER the OpenSSL name
/// of the negotiated suite. PyMySQL behaves the same with and without `ssl_cert`/`ssl_key`.
/// `Ssl_verify_mode` is 5 in a TLS session.
#[test]
fn client_certificates_and_require_clauses() {
    let srv = Server::start(&[]);
    let other = other_cert_set();
    let [cert, key] = ssl_cert_args(&srv.datadir());
    let [foreign_cert, foreign_key] = ssl_cert_args(other.path());
    let with_cert = [cert.as_str(), key.as_str()];
    admin(
        &srv,
        &format!(
            "CREATE USER 'x509_u'@'localhost' IDENTIFIED BY 'X509-pw1' REQUIRE X509; \
             CREATE USER 'subj_ok'@'localhost' IDENTIFIED BY 'Subj-pw2' REQUIRE SUBJECT '{CLIENT_CERT_SUBJECT}'; \
             CREATE USER 'subj_bad'@'localhost' IDENTIFIED BY 'Subj-pw3' REQUIRE SUBJECT '/CN=someone-else'; \
             CREATE USER 'ciph'@'localhost' IDENTIFIED BY 'Ciph-pw4' REQUIRE CIPHER 'ECDHE-ECDSA-AES128-GCM-SHA256'"
        ),
    );
    let show = admin(
        &srv,
        "SHOW CREATE USER 'x509_u'@'localhost'; SHOW CREATE USER 'subj_ok'@'localhost'; \
         SHOW CREATE USER 'ciph'@'localhost'",
    );
    let show: Vec<&str> = show.lines().collect();
    assert_eq!(show.len(), 3, "{show:?}");
    assert!(show[0].contains(" REQUIRE X509 "), "{}", show[0]);
    assert!(
        show[1].contains(&format!(" REQUIRE SUBJECT '{CLIENT_CERT_SUBJECT}' ")),
        "{}",
        show[1]
    );
    assert!(
        show[2].contains(" REQUIRE CIPHER 'ECDHE-ECDSA-AES128-GCM-SHA256' "),
        "{}",
        show[2]
    );
    let denied = |u: &str| format!("ERROR 1045 (28000): {}", access_denied(u));
    let sql = "SELECT CURRENT_USER(); SHOW STATUS LIKE 'Ssl_verify_mode'";

    // X509
    assert_eq!(
        mariadb_err(&srv, Via::Tls, "x509_u", "X509-pw1", &[], sql),
        denied("x509_u"),
        "REQUIRE X509 without a client certificate"
    );
    check_eq(
        &srv,
        &ok(
            &srv,
            mariadb(&srv, Via::Tls, "x509_u", "X509-pw1", &with_cert, sql),
        ),
        "x509_u@localhost\nSsl_verify_mode\t5\n",
        "REQUIRE X509 with the generated client certificate",
    );
    let err = mariadb_err(
        &srv,
        Via::Tls,
        "x509_u",
        "X509-pw1",
        &[&foreign_cert, &foreign_key],
        sql,
    );
    assert!(
        err.starts_with("ERROR 2026 (HY000): TLS/SSL error"),
        "a client certificate from another CA must fail the TLS handshake: {err}\n{}",
        srv.log_tail()
    );
    assert_eq!(
        mariadb_err(&srv, Via::Plain, "x509_u", "X509-pw1", &[], sql),
        denied("x509_u"),
        "REQUIRE X509 over plain TCP"
    );

    // SUBJECT
    check_eq(
        &srv,
        &ok(
            &srv,
            mariadb(&srv, Via::Tls, "subj_ok", "Subj-pw2", &with_cert, sql),
        ),
        "subj_ok@localhost\nSsl_verify_mode\t5\n",
        "REQUIRE SUBJECT of the generated client certificate",
    );
    assert_eq!(
        mariadb_err(&srv, Via::Tls, "subj_ok", "Subj-pw2", &[], sql),
        denied("subj_ok"),
        "REQUIRE SUBJECT without a certificate"
    );
    assert_eq!(
        mariadb_err(&srv, Via::Tls, "subj_bad", "Subj-pw3", &with_cert, sql),
        denied("subj_bad"),
        "REQUIRE SUBJECT '/CN=someone-else' with the generated client certificate"
    );

    // CIPHER (MySQL also requires a client certificate for SPECIFIED; docs/protocol.md,
    // "Per-account REQUIRE").
    let tls12_aes128 = [
        "--tls-version=TLSv1.2",
        "--ssl-cipher=ECDHE-ECDSA-AES128-GCM-SHA256",
        cert.as_str(),
        key.as_str(),
    ];
    check_eq(
        &srv,
        &ok(
            &srv,
            mariadb(
                &srv,
                Via::Tls,
                "ciph",
                "Ciph-pw4",
                &tls12_aes128,
                "SELECT CURRENT_USER(); SHOW STATUS LIKE 'Ssl_cipher'",
            ),
        ),
        "ciph@localhost\nSsl_cipher\tECDHE-ECDSA-AES128-GCM-SHA256\n",
        "REQUIRE CIPHER with that cipher",
    );
    assert_eq!(
        mariadb_err(&srv, Via::Tls, "ciph", "Ciph-pw4", &with_cert, sql),
        denied("ciph"),
        "REQUIRE CIPHER over TLS 1.3 (another cipher)"
    );

    // PyMySQL
    let py_denied = format!("CONNECT ERROR 1045: {}\n", access_denied("x509_u"));
    check_eq(
        &srv,
        &failed(
            &srv,
            pymysql(
                &srv,
                Via::Tls,
                "x509_u",
                "X509-pw1",
                None,
                &["SELECT CURRENT_USER()"],
            ),
        ),
        &py_denied,
        "PyMySQL without ssl_cert",
    );
    let py_cert = [
        "--ssl-cert",
        &path_str(&srv.datadir().join("client-cert.pem")),
        "--ssl-key",
        &path_str(&srv.datadir().join("client-key.pem")),
    ]
    .map(String::from);
    let py_cert: Vec<&str> = py_cert.iter().map(String::as_str).collect();
    check_eq(
        &srv,
        &ok(
            &srv,
            pymysql_args(
                &srv,
                Via::Tls,
                "x509_u",
                "X509-pw1",
                &py_cert,
                &[
                    "SELECT CURRENT_USER()",
                    "SHOW STATUS LIKE 'Ssl_verify_mode'",
                ],
            ),
        ),
        "x509_u@localhost\nSsl_verify_mode\t5\n",
        "PyMySQL with ssl_cert/ssl_key",
    );
    assert!(
        srv.log().contains("account REQUIRE clause not met"),
        "the server logs why REQUIRE failed"
    );
}

// ---------------------------------------------------------------------------------------------
// Runtime TLS variables and ALTER INSTANCE RELOAD TLS
// ---------------------------------------------------------------------------------------------

/// `SET GLOBAL tls_version` with a hole is 1231; a valid value is only staged (SHOW VARIABLES
/// shows it, `Current_tls_version` does not) until `ALTER INSTANCE RELOAD TLS`, after which new
/// connections negotiate only TLS 1.3. A reload with a missing certificate file fails with 3888
/// and the old context keeps serving; with `NO ROLLBACK ON ERROR` it succeeds with a 3888
/// warning and new connections get no TLS (the greeting drops CLIENT_SSL) until the variables
/// are fixed and TLS is reloaded.
#[test]
fn tls_variables_staging_and_reload() {
    let srv = Server::start(&[]);
    let cert = path_str(&srv.datadir().join("server-cert.pem"));
    let missing = path_str(&srv.datadir().join("no-such-cert.pem"));
    let show_versions =
        "SHOW VARIABLES LIKE 'tls_version'; SHOW GLOBAL STATUS LIKE 'Current_tls_version'";

    assert_eq!(
        mariadb_err(
            &srv,
            Via::Socket,
            "root",
            ROOT_PW,
            &[],
            "SET GLOBAL tls_version = 'TLSv1.1,TLSv1.3'"
        ),
        "ERROR 1231 (42000) at line 1: Variable 'tls_version' can't be set to the value of 'TLSv1.1,TLSv1.3'",
        "a list with a hole"
    );
    let out = ok(
        &srv,
        mariadb(
            &srv,
            Via::Socket,
            "root",
            ROOT_PW,
            &[],
            &format!("SET GLOBAL tls_version = 'TLSv1.3'; {show_versions}"),
        ),
    );
    check_eq(
        &srv,
        &out,
        "tls_version\tTLSv1.3\nCurrent_tls_version\tTLSv1.2,TLSv1.3\n",
        "staged, not active",
    );
    assert_eq!(
        s_client(
            &srv,
            &["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256"]
        ),
        hs("TLSv1.2", "ECDHE-ECDSA-AES128-GCM-SHA256"),
        "TLS 1.2 still accepted before the reload"
    );
    let out = ok(
        &srv,
        mariadb(
            &srv,
            Via::Socket,
            "root",
            ROOT_PW,
            &[],
            &format!("ALTER INSTANCE RELOAD TLS; {show_versions}"),
        ),
    );
    check_eq(
        &srv,
        &out,
        "tls_version\tTLSv1.3\nCurrent_tls_version\tTLSv1.3\n",
        "after RELOAD",
    );
    assert_eq!(
        s_client(&srv, &["-tls1_2"]),
        Hs::Refused,
        "TLS 1.2 after the reload"
    );
    assert_eq!(
        s_client(
            &srv,
            &["-tls1_3", "-ciphersuites", "TLS_AES_128_GCM_SHA256"]
        ),
        hs("TLSv1.3", "TLS_AES_128_GCM_SHA256")
    );

    // A reload that fails keeps the old context.
    let err = mariadb_err(
        &srv,
        Via::Socket,
        "root",
        ROOT_PW,
        &[],
        &format!("SET GLOBAL ssl_cert = '{missing}'; ALTER INSTANCE RELOAD TLS"),
    );
    let prefix = "ERROR 3888 (HY000) at line 1: Failed to set up SSL because of the following SSL library error: ";
    assert!(
        err.starts_with(prefix) && err.contains("Unable to get certificate"),
        "reload with a missing certificate: {err}"
    );
    let out = ok(
        &srv,
        mariadb(
            &srv,
            Via::Tls,
            "root",
            ROOT_PW,
            &[],
            "SHOW GLOBAL VARIABLES LIKE 'ssl_cert'; SHOW GLOBAL STATUS LIKE 'Current_tls_cert'; \
             SHOW STATUS LIKE 'Ssl_version'; SHOW GLOBAL VARIABLES LIKE 'have_ssl'",
        ),
    );
    check_eq(
        &srv,
        &out,
        &format!(
            "ssl_cert\t{missing}\nCurrent_tls_cert\t{cert}\nSsl_version\tTLSv1.3\nhave_ssl\tYES\n"
        ),
        "the old context still serves verified TLS",
    );
    assert_eq!(
        s_client(&srv, &["-tls1_2"]),
        Hs::Refused,
        "still the reloaded TLS 1.3-only context"
    );
    assert_ne!(greeting_capabilities(&srv) & CLIENT_SSL, 0, "CLIENT_SSL");

    // NO ROLLBACK ON ERROR: OK with a warning, TLS off for new connections.
    let out = ok(
        &srv,
        mariadb(
            &srv,
            Via::Socket,
            "root",
            ROOT_PW,
            &[],
            "ALTER INSTANCE RELOAD TLS NO ROLLBACK ON ERROR; SHOW WARNINGS",
        ),
    );
    let warning = out.trim_end();
    assert!(
        warning.starts_with(
            "Warning\t3888\tFailed to set up SSL because of the following SSL library error: "
        ) && warning.contains("Unable to get certificate")
            && !warning.contains('\n'),
        "one 3888 warning: {out}"
    );
    assert_eq!(
        greeting_capabilities(&srv) & CLIENT_SSL,
        0,
        "the greeting must not offer CLIENT_SSL"
    );
    assert_eq!(
        mariadb_err(&srv, Via::Tls, "root", ROOT_PW, &[], "SELECT 1"),
        "ERROR 2026 (HY000): TLS/SSL error: SSL is required, but the server does not support it",
        "mariadb --ssl-verify-server-cert"
    );
    let out = ok(
        &srv,
        mariadb(
            &srv,
            Via::Plain,
            "root",
            ROOT_PW,
            &[],
            "SHOW GLOBAL VARIABLES LIKE 'have_ssl'; SHOW GLOBAL STATUS LIKE 'Current_tls_version'",
        ),
    );
    check_eq(
        &srv,
        &out,
        "have_ssl\tDISABLED\nCurrent_tls_version\t\n",
        "no active TLS context",
    );

    // Fix the variables and reload: TLS is back.
    let out = ok(
        &srv,
        mariadb(
            &srv,
            Via::Socket,
            "root",
            ROOT_PW,
            &[],
            &format!(
                "SET GLOBAL ssl_cert = '{cert}'; SET GLOBAL tls_version = 'TLSv1.2,TLSv1.3'; \
                 ALTER INSTANCE RELOAD TLS; SHOW WARNINGS; {show_versions}"
            ),
        ),
    );
    check_eq(
        &srv,
        &out,
        "tls_version\tTLSv1.2,TLSv1.3\nCurrent_tls_version\tTLSv1.2,TLSv1.3\n",
        "reload after the fix, without warnings",
    );
    assert_ne!(
        greeting_capabilities(&srv) & CLIENT_SSL,
        0,
        "CLIENT_SSL is back"
    );
    check_eq(
        &srv,
        &ok(
            &srv,
            mariadb(
                &srv,
                Via::Tls,
                "root",
                ROOT_PW,
                &[],
                "SHOW STATUS LIKE 'Ssl_version'",
            ),
        ),
        "Ssl_version\tTLSv1.3\n",
        "verified TLS again",
    );
    assert_eq!(
        s_client(
            &srv,
            &["-tls1_2", "-cipher", "ECDHE-ECDSA-AES256-GCM-SHA384"]
        ),
        hs("TLSv1.2", "ECDHE-ECDSA-AES256-GCM-SHA384")
    );
}

/// A connection keeps the TLS context it was accepted with (docs/protocol.md, "ALTER INSTANCE
/// RELOAD TLS"): after `ALTER INSTANCE RELOAD TLS NO ROLLBACK ON ERROR` disables TLS for new
/// connections, an open TLS session still works and still reports its own `Ssl_version`,
/// `Ssl_cipher` and `Ssl_verify_mode` (5: the server context verifies client certificates; MySQL
/// reads the value from the connection's SSL object).
#[test]
fn open_tls_session_keeps_its_context_across_a_failed_reload() {
    let srv = Server::start(&[]);
    let tls = client_tls(&[srv.datadir().join("ca.pem")]);
    let s = TcpStream::connect(("127.0.0.1", srv.port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let (login, session) = login_with(Box::new(s), "root", ROOT_PW, Some(&tls)).expect("login");
    assert_eq!(login, Login::Full, "{}", srv.log_tail());
    let mut open = session.expect("session");
    let sql = "SHOW STATUS WHERE Variable_name IN ('Ssl_version', 'Ssl_verify_mode')";
    let before = must_query(&srv, &mut open, sql);
    assert_eq!(before, "Ssl_verify_mode\t5\nSsl_version\tTLSv1.3\n");
    let cipher = must_query(&srv, &mut open, "SHOW STATUS LIKE 'Ssl_cipher'");

    let mut adm = root_socket_session(&srv);
    must_query(
        &srv,
        &mut adm,
        &format!(
            "SET GLOBAL ssl_cert = '{}'",
            srv.datadir().join("no-such-cert.pem").display()
        ),
    );
    must_query(
        &srv,
        &mut adm,
        "ALTER INSTANCE RELOAD TLS NO ROLLBACK ON ERROR",
    );
    assert_eq!(
        greeting_capabilities(&srv) & CLIENT_SSL,
        0,
        "TLS is off for new connections"
    );
    assert_eq!(must_query(&srv, &mut open, "SELECT 1"), "1\n");
    assert_eq!(
        must_query(&srv, &mut open, "SHOW STATUS LIKE 'Ssl_cipher'"),
        cipher
    );
    assert_eq!(
        must_query(&srv, &mut open, sql),
        before,
        "the open session's TLS status after the context was dropped"
    );
    open.quit();
    adm.quit();
}

/// Certificate rotation under load: one thread logs in over TLS in a loop (the minimal rustls
/// client trusting both CAs, recording the certificate each login saw) while the main thread,
/// as root over the Unix socket, switches `ssl_cert`/`ssl_key` between the server's own set and
/// a second generated set and reloads, 25 times. No login may fail; both certificates must be
/// seen; every login that starts after the last reload must see the last certificate.
#[test]
fn reload_tls_under_concurrent_logins() {
    let srv = Server::start(&[]);
    let other = other_cert_set();
    let sets: [(PathBuf, PathBuf); 2] = [
        (
            srv.datadir().join("server-cert.pem"),
            srv.datadir().join("server-key.pem"),
        ),
        (
            other.path().join("server-cert.pem"),
            other.path().join("server-key.pem"),
        ),
    ];
    let ders = [cert_der(&sets[0].0), cert_der(&sets[1].0)];
    assert_ne!(ders[0], ders[1]);
    let tls = client_tls(&[srv.datadir().join("ca.pem"), other.path().join("ca.pem")]);
    // Fill the cache first so that every login in the loop is cheap.
    let mut admin = root_socket_session(&srv);

    let stop = Arc::new(AtomicBool::new(false));
    let final_done = Arc::new(AtomicBool::new(false));
    let port = srv.port;
    let worker = {
        let (stop, final_done) = (stop.clone(), final_done.clone());
        std::thread::spawn(move || {
            // (started after the final reload, certificate DER) per login; failures as text.
            let mut seen: Vec<(bool, Vec<u8>)> = Vec::new();
            let mut failures: Vec<String> = Vec::new();
            let mut after_final = 0;
            while !stop.load(Ordering::SeqCst) || after_final < 5 {
                let late = final_done.load(Ordering::SeqCst);
                let outcome = TcpStream::connect(("127.0.0.1", port))
                    .and_then(|s| {
                        s.set_read_timeout(Some(Duration::from_secs(10)))?;
                        login_with(Box::new(s), "root", ROOT_PW, Some(&tls))
                    })
                    .map_err(|e| e.to_string())
                    .and_then(|(login, session)| match (login, session) {
                        (Login::FastPath | Login::Full, Some(mut s)) => {
                            let cert = s.peer_cert.clone().unwrap_or_default();
                            match s.query("SELECT 1") {
                                Ok(Ok(_)) => {
                                    s.quit();
                                    Ok(cert)
                                }
                                other => Err(format!("SELECT 1: {other:?}")),
                            }
                        }
                        (other, _) => Err(format!("{other:?}")),
                    });
                match outcome {
                    Ok(cert) => seen.push((late, cert)),
                    Err(e) => failures.push(e),
                }
                if late {
                    after_final += 1;
                }
            }
            (seen, failures)
        })
    };

    // Odd: the last reload installs the second set, not the certificate the server started with.
    let reloads = 25;
    for i in 0..reloads {
        let (cert, key) = &sets[(i + 1) % 2];
        must_query(
            &srv,
            &mut admin,
            &format!("SET GLOBAL ssl_cert = '{}'", cert.display()),
        );
        must_query(
            &srv,
            &mut admin,
            &format!("SET GLOBAL ssl_key = '{}'", key.display()),
        );
        must_query(&srv, &mut admin, "ALTER INSTANCE RELOAD TLS");
        std::thread::sleep(Duration::from_millis(60));
    }
    let final_set = reloads % 2; // reload i installs set (i + 1) % 2
    final_done.store(true, Ordering::SeqCst);
    stop.store(true, Ordering::SeqCst);
    let (seen, failures) = worker.join().expect("login thread");
    let current = must_query(
        &srv,
        &mut admin,
        "SHOW GLOBAL STATUS LIKE 'Current_tls_cert'",
    );
    assert_eq!(
        current,
        format!("Current_tls_cert\t{}\n", sets[final_set].0.display())
    );
    assert!(
        failures.is_empty(),
        "{} of {} logins failed: {:?}\n{}",
        failures.len(),
        failures.len() + seen.len(),
        &failures[..failures.len().min(5)],
        srv.log_tail()
    );
    let count = |i: usize| seen.iter().filter(|(_, c)| *c == ders[i]).count();
    eprintln!(
        "{reloads} reloads, {} logins: {} with the first certificate, {} with the second",
        seen.len(),
        count(0),
        count(1)
    );
    assert_eq!(
        count(0) + count(1),
        seen.len(),
        "every login saw one of the two certificates"
    );
    assert!(
        count(0) > 0 && count(1) > 0,
        "both certificates seen: {} / {} over {} logins",
        count(0),
        count(1),
        seen.len()
    );
    let late: Vec<&Vec<u8>> = seen.iter().filter(|(l, _)| *l).map(|(_, c)| c).collect();
    assert!(
        late.len() >= 5,
        "{} logins after the final reload",
        late.len()
    );
    assert!(
        late.iter().all(|c| **c == ders[final_set]),
        "logins after the final reload present the final certificate"
    );
    admin.quit();
}

// ---------------------------------------------------------------------------------------------
// require_secure_transport
// ---------------------------------------------------------------------------------------------

/// `SET GLOBAL require_secure_transport = ON` applies to the next logins at once: plain TCP with
/// the right password gets 3159 (checked after authentication: a wrong password still gets
/// 1045), the Unix socket and TLS are accepted; OFF restores plain TCP.
#[test]
fn require_secure_transport_at_runtime() {
    let srv = Server::start(&[]);
    let sql = "SELECT CURRENT_USER()";
    // Warm root's cache entry so the plain-TCP logins below are decided after the fast path.
    ok(&srv, mariadb(&srv, Via::Tls, "root", ROOT_PW, &[], sql));
    check_eq(
        &srv,
        &ok(
            &srv,
            mariadb(
                &srv,
                Via::Socket,
                "root",
                ROOT_PW,
                &[],
                "SET GLOBAL require_secure_transport = ON; \
                 SHOW GLOBAL VARIABLES LIKE 'require_secure_transport'",
            ),
        ),
        "require_secure_transport\tON\n",
        "SET GLOBAL ON",
    );
    assert_eq!(
        mariadb_err(&srv, Via::Plain, "root", ROOT_PW, &[], sql),
        format!("ERROR 3159 (HY000): {INSECURE_3159}"),
        "plain TCP, right password"
    );
    assert_eq!(
        mariadb_err(&srv, Via::Plain, "root", "Wrong-pw9", &[], sql),
        format!("ERROR 1045 (28000): {}", access_denied("root")),
        "plain TCP, wrong password"
    );
    check_eq(
        &srv,
        &failed(
            &srv,
            pymysql(&srv, Via::Plain, "root", ROOT_PW, None, &[sql]),
        ),
        &format!("CONNECT ERROR 3159: {INSECURE_3159}\n"),
        "PyMySQL plain TCP",
    );
    for via in [Via::Socket, Via::Tls] {
        check_eq(
            &srv,
            &ok(&srv, mariadb(&srv, via, "root", ROOT_PW, &[], sql)),
            "root@localhost\n",
            &format!("{via:?} with require_secure_transport=ON"),
        );
    }
    ok(
        &srv,
        mariadb(
            &srv,
            Via::Socket,
            "root",
            ROOT_PW,
            &[],
            "SET GLOBAL require_secure_transport = OFF",
        ),
    );
    check_eq(
        &srv,
        &ok(&srv, mariadb(&srv, Via::Plain, "root", ROOT_PW, &[], sql)),
        "root@localhost\n",
        "plain TCP after OFF",
    );
}

/// Without TLS (`--tls-version ''`) the Unix socket is still a secure transport, so ON is
/// accepted; with neither TLS nor a socket (`--socket ''`, documented as "disables it"),
/// `SET GLOBAL require_secure_transport = ON` is 3160.
#[test]
fn require_secure_transport_needs_a_secure_transport() {
    let srv = Server::start(&["--tls-version", ""]);
    check_eq(
        &srv,
        &ok(
            &srv,
            mariadb(
                &srv,
                Via::Socket,
                "root",
                ROOT_PW,
                &[],
                "SHOW GLOBAL VARIABLES LIKE 'have_ssl'; SET GLOBAL require_secure_transport = ON",
            ),
        ),
        "have_ssl\tDISABLED\n",
        "socket only: ON accepted",
    );
    assert_eq!(
        mariadb_err(&srv, Via::Plain, "root", ROOT_PW, &[], "SELECT 1"),
        format!("ERROR 3159 (HY000): {INSECURE_3159}")
    );
    drop(srv);

    let srv = Server::start(&["--tls-version", "", "--socket", ""]);
    assert_eq!(
        mariadb_err(
            &srv,
            Via::Plain,
            "root",
            ROOT_PW,
            &[],
            "SET GLOBAL require_secure_transport = ON"
        ),
        "ERROR 3160 (HY000) at line 1: No secure transports (SSL or Shared Memory) are configured, unable to set --require_secure_transport=ON.",
    );
    check_eq(
        &srv,
        &ok(
            &srv,
            mariadb(
                &srv,
                Via::Plain,
                "root",
                ROOT_PW,
                &[],
                "SHOW GLOBAL VARIABLES LIKE 'require_secure_transport'; \
                 SHOW GLOBAL VARIABLES LIKE 'socket'",
            ),
        ),
        "require_secure_transport\tOFF\nsocket\t\n",
        "still OFF",
    );
}

// ---------------------------------------------------------------------------------------------
// Status variables
// ---------------------------------------------------------------------------------------------

/// `Mmm DD HH:MM:SS YYYY GMT` with the day padded by a space (OpenSSL's ASN1_TIME_print):
/// `^[A-Z][a-z]{2} [ 1-3][0-9] \d\d:\d\d:\d\d \d{4} GMT$`.
fn is_openssl_time(s: &str) -> bool {
    let b = s.as_bytes();
    let digit = |i: usize| b[i].is_ascii_digit();
    b.len() == 24
        && b[0].is_ascii_uppercase()
        && b[1].is_ascii_lowercase()
        && b[2].is_ascii_lowercase()
        && b[3] == b' '
        && matches!(b[4], b' ' | b'1'..=b'3')
        && digit(5)
        && b[6] == b' '
        && digit(7)
        && digit(8)
        && b[9] == b':'
        && digit(10)
        && digit(11)
        && b[12] == b':'
        && digit(13)
        && digit(14)
        && b[15] == b' '
        && (16..20).all(digit)
        && &s[20..] == " GMT"
}

#[test]
fn openssl_time_pattern() {
    assert!(is_openssl_time("May  1 14:16:39 2017 GMT"));
    assert!(is_openssl_time("Nov 21 18:35:00 2026 GMT"));
    assert!(!is_openssl_time("Nov 21 18:35:00 2026 UTC"));
    assert!(!is_openssl_time("Nov 41 18:35:00 2026 GMT"));
    assert!(!is_openssl_time("Nov 01 18:35:00 2026 GMT "));
}

/// `(Ssl_accepts, Ssl_finished_accepts)` read over the Unix socket (no TLS handshake of its own).
fn accept_counters(srv: &Server) -> (u64, u64) {
    let out = ok(
        srv,
        mariadb(
            srv,
            Via::Socket,
            "root",
            ROOT_PW,
            &[],
            "SHOW GLOBAL STATUS LIKE 'Ssl\\_%accepts'",
        ),
    );
    let get = |name: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix('\t')?.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {out}"))
    };
    (get("Ssl_accepts"), get("Ssl_finished_accepts"))
}

/// Ssl_* status: certificate dates in OpenSSL's format and equal to the certificate's own; the
/// session-only variables empty globally and set in the session, through SHOW STATUS and the
/// four performance_schema tables (`IN`, `=`, `LIKE`); handshake counters; the OpenSSL name of a
/// TLS 1.2 cipher and the IANA name of a TLS 1.3 one; Ssl_verify_mode per session.
#[test]
fn ssl_status_variables() {
    let srv = Server::start(&[]);
    // The certificate's dates as OpenSSL prints them.
    let mut cmd = Command::new("openssl");
    cmd.args(["x509", "-noout", "-startdate", "-enddate", "-in"])
        .arg(srv.datadir().join("server-cert.pem"));
    let dates = ok(
        &srv,
        run(cmd, "openssl x509".into(), "apt-get install -y openssl"),
    );
    let date = |k: &str| {
        dates
            .lines()
            .find_map(|l| l.strip_prefix(k))
            .unwrap_or_else(|| panic!("no {k} in {dates}"))
            .to_string()
    };
    let (not_before, not_after) = (date("notBefore="), date("notAfter="));

    let out = ok(
        &srv,
        mariadb(
            &srv,
            Via::Tls,
            "root",
            ROOT_PW,
            &[],
            "SHOW GLOBAL STATUS LIKE 'Ssl\\_server\\_not\\_%'",
        ),
    );
    check_eq(
        &srv,
        &out,
        &format!("Ssl_server_not_after\t{not_after}\nSsl_server_not_before\t{not_before}\n"),
        "exactly the two rows, the certificate's dates",
    );
    assert!(
        is_openssl_time(&not_before) && is_openssl_time(&not_after),
        "{not_before:?} {not_after:?}"
    );

    // Scope: SHOW STATUS
    let out = ok(
        &srv,
        mariadb(
            &srv,
            Via::Tls,
            "root",
            ROOT_PW,
            &[],
            "SHOW GLOBAL STATUS LIKE 'Ssl_version'; SHOW GLOBAL STATUS LIKE 'Ssl_cipher'; \
             SHOW SESSION STATUS LIKE 'Ssl_version'; SHOW STATUS LIKE 'Ssl_cipher'; \
             SHOW STATUS LIKE 'Ssl_verify_mode'; SHOW GLOBAL STATUS LIKE 'Ssl_verify_mode'",
        ),
    );
    let lines_: Vec<&str> = out.lines().collect();
    assert_eq!(lines_.len(), 6, "{out}");
    assert_eq!(
        &lines_[..3],
        &["Ssl_version\t", "Ssl_cipher\t", "Ssl_version\tTLSv1.3"],
        "{out}"
    );
    let cipher = lines_[3].strip_prefix("Ssl_cipher\t").unwrap_or_default();
    assert!(TLS13_SUITES.contains(&cipher), "{out}");
    assert_eq!(
        &lines_[4..],
        &["Ssl_verify_mode\t5", "Ssl_verify_mode\t0"],
        "{out}"
    );
    check_eq(
        &srv,
        &ok(
            &srv,
            mariadb(
                &srv,
                Via::Plain,
                "root",
                ROOT_PW,
                &[],
                "SHOW STATUS LIKE 'Ssl_verify_mode'; SHOW STATUS LIKE 'Ssl_version'",
            ),
        ),
        "Ssl_verify_mode\t0\nSsl_version\t\n",
        "plain TCP session",
    );

    // Scope: performance_schema, with a TLS 1.2 session and a named cipher.
    let tls12 = [
        "--tls-version=TLSv1.2",
        "--ssl-cipher=ECDHE-ECDSA-AES128-GCM-SHA256",
    ];
    let ps = "performance_schema";
    let out = ok(
        &srv,
        mariadb(
            &srv,
            Via::Tls,
            "root",
            ROOT_PW,
            &tls12,
            &format!(
                "SELECT * FROM {ps}.session_status WHERE VARIABLE_NAME IN ('Ssl_version','Ssl_cipher'); \
                 SELECT * FROM {ps}.global_status WHERE VARIABLE_NAME IN ('Ssl_version','Ssl_cipher'); \
                 SELECT VARIABLE_VALUE FROM {ps}.session_status WHERE VARIABLE_NAME = 'Ssl_cipher'; \
                 SELECT VARIABLE_NAME, VARIABLE_VALUE FROM {ps}.global_status WHERE VARIABLE_NAME = 'Ssl_version'; \
                 SELECT * FROM {ps}.session_status WHERE VARIABLE_NAME LIKE 'Ssl\\_vers%'; \
                 SELECT * FROM {ps}.global_status WHERE VARIABLE_NAME LIKE 'Ssl\\_server\\_not\\_after'; \
                 SELECT * FROM {ps}.session_variables WHERE VARIABLE_NAME = 'tls_version'; \
                 SELECT * FROM {ps}.session_variables WHERE VARIABLE_NAME LIKE 'have\\_ssl'; \
                 SELECT * FROM {ps}.global_variables WHERE VARIABLE_NAME = 'have_openssl'; \
                 SELECT * FROM {ps}.global_variables WHERE VARIABLE_NAME LIKE 'require\\_secure%'"
            ),
        ),
    );
    check_eq(
        &srv,
        &out,
        &format!(
            "Ssl_cipher\tECDHE-ECDSA-AES128-GCM-SHA256\nSsl_version\tTLSv1.2\n\
             Ssl_cipher\t\nSsl_version\t\n\
             ECDHE-ECDSA-AES128-GCM-SHA256\n\
             Ssl_version\t\n\
             Ssl_version\tTLSv1.2\n\
             Ssl_server_not_after\t{not_after}\n\
             tls_version\tTLSv1.2,TLSv1.3\n\
             have_ssl\tYES\n\
             have_openssl\tYES\n\
             require_secure_transport\tOFF\n"
        ),
        "performance_schema tables, TLS 1.2 session",
    );
    let out = ok(
        &srv,
        mariadb(
            &srv,
            Via::Tls,
            "root",
            ROOT_PW,
            &["--tls-version=TLSv1.3", "--ssl-cipher=TLS_AES_128_GCM_SHA256"],
            &format!(
                "SELECT * FROM {ps}.session_status WHERE VARIABLE_NAME IN ('Ssl_version','Ssl_cipher')"
            ),
        ),
    );
    check_eq(
        &srv,
        &out,
        "Ssl_cipher\tTLS_AES_128_GCM_SHA256\nSsl_version\tTLSv1.3\n",
        "TLS 1.3: the IANA name",
    );

    // Handshake counters: one TLS login = +1 started, +1 finished; a refused handshake
    // (no common suite) = +1 started only.
    let before = accept_counters(&srv);
    ok(
        &srv,
        mariadb(&srv, Via::Tls, "root", ROOT_PW, &[], "SELECT 1"),
    );
    let after = accept_counters(&srv);
    assert_eq!(
        after,
        (before.0 + 1, before.1 + 1),
        "one TLS login (before {before:?})"
    );
    assert_eq!(
        s_client(&srv, &["-tls1_2", "-cipher", "AES128-SHA"]),
        Hs::Refused
    );
    assert_eq!(
        accept_counters(&srv),
        (after.0 + 1, after.1),
        "one failed handshake"
    );
}

// ---------------------------------------------------------------------------------------------
// Certificate revocation: ssl_crl, ssl_crlpath (mariadb CLI)
// ---------------------------------------------------------------------------------------------

/// A PEM CRL signed by the auto-generated CA in `datadir`, revoking the given serial numbers
/// (the generated client certificate has serial 3).
fn crl_signed_by_generated_ca(datadir: &Path, revoked: &[u8]) -> String {
    use rcgen::{
        date_time_ymd, CertificateParams, CertificateRevocationListParams, DistinguishedName,
        DnType, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose, RevocationReason, RevokedCertParams,
        SerialNumber,
    };
    let key = KeyPair::from_pem(
        &std::fs::read_to_string(datadir.join("ca-key.pem")).expect("generated CA key"),
    )
    .expect("CA key");
    let mut ca = CertificateParams::default();
    ca.distinguished_name = DistinguishedName::new();
    ca.distinguished_name.push(
        DnType::CommonName,
        "Vestibule_Auto_Generated_CA_Certificate",
    );
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let params = CertificateRevocationListParams {
        this_update: date_time_ymd(2025, 1, 1),
        next_update: date_time_ymd(2099, 1, 1),
        crl_number: SerialNumber::from(vec![7]),
        issuing_distribution_point: None,
        revoked_certs: revoked
            .iter()
            .map(|&n| RevokedCertParams {
                serial_number: SerialNumber::from(vec![n]),
                revocation_time: date_time_ymd(2025, 6, 1),
                reason_code: Some(RevocationReason::KeyCompromise),
                invalidity_date: None,
            })
            .collect(),
        key_identifier_method: KeyIdMethod::Sha256,
    };
    params
        .signed_by(&Issuer::new(ca, key))
        .and_then(|crl| crl.pem())
        .expect("sign the CRL")
}

/// `--ssl-crl` at startup refuses the revoked generated client certificate in the TLS handshake
/// (2026), while password logins over TLS without a certificate go on; `SET GLOBAL ssl_crl` /
/// `ssl_crlpath` + `ALTER INSTANCE RELOAD TLS` switch CRLs (a missing file is 3888 and the old
/// context stays); `Current_tls_crl` / `Current_tls_crlpath` show the active values.
#[test]
fn revoked_client_certificates_are_refused() {
    let dir = tempfile::Builder::new()
        .prefix("vest-crl")
        .tempdir()
        .expect("tempdir");
    let datadir = dir.path().join("data");
    std::fs::create_dir_all(&datadir).expect("datadir");
    vestibule::server::tls_files::auto_generate_certs(&datadir, "localhost", SystemTime::now())
        .expect("certificates");
    let revoked_crl = datadir.join("revoked-crl.pem");
    std::fs::write(&revoked_crl, crl_signed_by_generated_ca(&datadir, &[3])).expect("write CRL");
    let crl_dir = dir.path().join("crls");
    std::fs::create_dir_all(&crl_dir).expect("crl dir");
    std::fs::write(
        crl_dir.join("ca.r0"),
        crl_signed_by_generated_ca(&datadir, &[2, 200]),
    )
    .expect("write CRL");
    let crl_flag = format!("--ssl-crl={}", revoked_crl.display());
    let srv = Server::start_in(dir, &[&crl_flag]);
    admin(
        &srv,
        "CREATE USER 'x509_u'@'localhost' IDENTIFIED BY 'X509-pw1' REQUIRE X509; \
         CREATE USER 'tls_u'@'localhost' IDENTIFIED BY 'Tls-pw1' REQUIRE SSL",
    );
    let [cert, key] = ssl_cert_args(&srv.datadir());
    let with_cert = [cert.as_str(), key.as_str()];
    let sql = "SELECT CURRENT_USER()";
    let status = "SHOW GLOBAL STATUS LIKE 'Current_tls_crl%'; SELECT @@ssl_crl, @@ssl_crlpath";

    let refused = |what: &str| {
        let err = mariadb_err(&srv, Via::Tls, "x509_u", "X509-pw1", &with_cert, sql);
        assert!(
            err.starts_with("ERROR 2026 (HY000): TLS/SSL error"),
            "{what}: a revoked client certificate must fail the TLS handshake: {err}\n{}",
            srv.log_tail()
        );
    };
    refused("--ssl-crl at startup");
    check_eq(
        &srv,
        &ok(&srv, mariadb(&srv, Via::Tls, "tls_u", "Tls-pw1", &[], sql)),
        "tls_u@localhost\n",
        "TLS without a client certificate",
    );
    let crl = revoked_crl.display().to_string();
    check_eq(
        &srv,
        &admin(&srv, status),
        &format!("Current_tls_crl\t{crl}\nCurrent_tls_crlpath\t\n{crl}\t\n"),
        "startup values",
    );

    // A missing CRL file: 3888, and the revoking context stays active.
    let err = mariadb_err(
        &srv,
        Via::Socket,
        "root",
        ROOT_PW,
        &[],
        "SET GLOBAL ssl_crl = '/nonexistent/crl.pem'; ALTER INSTANCE RELOAD TLS",
    );
    assert!(
        err.starts_with(
            "ERROR 3888 (HY000) at line 1: Failed to set up SSL because of the following SSL library error: SSL_CTX_set_default_verify_paths failed: cannot read CRL '/nonexistent/crl.pem'"
        ),
        "{err}"
    );
    refused("after a failed reload");

    // A CRL directory whose CRL does not list the client certificate: accepted again.
    admin(
        &srv,
        &format!(
            "SET GLOBAL ssl_crl = ''; SET GLOBAL ssl_crlpath = '{}'; ALTER INSTANCE RELOAD TLS",
            crl_dir.display()
        ),
    );
    check_eq(
        &srv,
        &ok(
            &srv,
            mariadb(&srv, Via::Tls, "x509_u", "X509-pw1", &with_cert, sql),
        ),
        "x509_u@localhost\n",
        "REQUIRE X509 with an unrevoked certificate",
    );
    let crlpath = crl_dir.display().to_string();
    check_eq(
        &srv,
        &admin(&srv, status),
        &format!("Current_tls_crl\t\nCurrent_tls_crlpath\t{crlpath}\n\t{crlpath}\n"),
        "after the reload",
    );
}

/// `Ssl_sessions_reused` reports real numbers (issue 14): 0 in the session of a full TLS
/// handshake, 1 in one that resumed the ticket the first gave (the same rustls client
/// configuration keeps it), and in global scope the count of resumed handshakes.
#[test]
fn ssl_sessions_reused_counts_resumed_handshakes() {
    let srv = Server::start(&[]);
    let tls = client_tls(&[PathBuf::from(srv.ca())]);
    let session_value = |expect: &str| {
        let s = TcpStream::connect(("127.0.0.1", srv.port)).unwrap();
        let (login, session) = login_with(Box::new(s), "root", ROOT_PW, Some(&tls)).unwrap();
        assert!(matches!(login, Login::FastPath | Login::Full), "{login:?}");
        let mut session = session.unwrap();
        let got = must_query(
            &srv,
            &mut session,
            "SHOW SESSION STATUS LIKE 'Ssl_sessions_reused'",
        );
        assert_eq!(got, format!("Ssl_sessions_reused\t{expect}\n"));
        session.quit();
    };
    session_value("0");
    session_value("1");
    session_value("1");
    let mut root = root_socket_session(&srv);
    assert_eq!(
        must_query(
            &srv,
            &mut root,
            "SHOW GLOBAL STATUS LIKE 'Ssl_sessions_reused'"
        ),
        "Ssl_sessions_reused\t2\n"
    );
    // The session cache's counters (MySQL's, from OpenSSL's): one ticket issued per handshake,
    // each resumption takes one: 2 hits, no miss, 1 + 1 + 1 - 2 = 1 session left in the
    // 128-entry cache.
    assert_eq!(
        must_query(
            &srv,
            &mut root,
            "SHOW GLOBAL STATUS WHERE Variable_name LIKE 'Ssl_session_cache%' \
             OR Variable_name = 'Ssl_used_session_cache_entries'"
        ),
        "Ssl_session_cache_hits\t2\nSsl_session_cache_misses\t0\n\
         Ssl_session_cache_mode\tSERVER\nSsl_session_cache_overflows\t0\n\
         Ssl_session_cache_size\t128\nSsl_session_cache_timeout\t300\n\
         Ssl_session_cache_timeouts\t0\nSsl_used_session_cache_entries\t1\n"
    );
    assert_eq!(
        must_query(
            &srv,
            &mut root,
            "SHOW GLOBAL VARIABLES LIKE 'ssl_session_cache%'"
        ),
        "ssl_session_cache_mode\tON\nssl_session_cache_timeout\t300\n"
    );
}

/// `ssl_session_cache_mode=OFF`: no session is cached nor resumed, and the status says so;
/// `SET GLOBAL` turns it back on at the next `ALTER INSTANCE RELOAD TLS`, as in MySQL.
#[test]
fn ssl_session_cache_mode_off_resumes_nothing_until_turned_on_and_reloaded() {
    let srv = Server::start(&["--ssl-session-cache-mode=OFF"]);
    let tls = client_tls(&[PathBuf::from(srv.ca())]);
    let reused = || {
        let s = TcpStream::connect(("127.0.0.1", srv.port)).unwrap();
        let (_, session) = login_with(Box::new(s), "root", ROOT_PW, Some(&tls)).unwrap();
        let mut session = session.unwrap();
        let got = must_query(
            &srv,
            &mut session,
            "SHOW SESSION STATUS LIKE 'Ssl_sessions_reused'",
        );
        session.quit();
        got
    };
    assert_eq!(reused(), "Ssl_sessions_reused\t0\n");
    assert_eq!(reused(), "Ssl_sessions_reused\t0\n");
    let mut root = root_socket_session(&srv);
    let status = "SHOW GLOBAL STATUS WHERE Variable_name IN \
                  ('Ssl_session_cache_mode', 'Ssl_session_cache_size', 'Ssl_session_cache_hits')";
    assert_eq!(
        must_query(&srv, &mut root, status),
        "Ssl_session_cache_hits\t0\nSsl_session_cache_mode\tOFF\nSsl_session_cache_size\t0\n"
    );
    must_query(&srv, &mut root, "SET GLOBAL ssl_session_cache_mode = ON");
    must_query(&srv, &mut root, "SET GLOBAL ssl_session_cache_timeout = 60");
    assert_eq!(
        must_query(&srv, &mut root, status),
        "Ssl_session_cache_hits\t0\nSsl_session_cache_mode\tOFF\nSsl_session_cache_size\t0\n",
        "staged until the reload"
    );
    must_query(&srv, &mut root, "ALTER INSTANCE RELOAD TLS");
    assert_eq!(reused(), "Ssl_sessions_reused\t0\n");
    assert_eq!(reused(), "Ssl_sessions_reused\t1\n");
    assert_eq!(
        must_query(
            &srv,
            &mut root,
            "SHOW GLOBAL STATUS WHERE Variable_name IN \
             ('Ssl_session_cache_mode', 'Ssl_session_cache_timeout', 'Ssl_session_cache_hits')"
        ),
        "Ssl_session_cache_hits\t1\nSsl_session_cache_mode\tSERVER\nSsl_session_cache_timeout\t60\n"
    );
}
