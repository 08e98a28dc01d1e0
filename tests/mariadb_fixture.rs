//! The MariaDB fixture (`tests/common/mariadb.rs`) end to end with the real `mariadb` CLI:
//! logins over TCP and the socket with mysql_native_password accounts, a wrong password, TLS,
//! two servers at once, stop / kill / start again, and the clean-up when a test process exits
//! without dropping its fixture.

mod common;

use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::mariadb::{
    Link, MariaDb, Options, APP_PW, APP_TLS_PW, APP_TLS_USER, APP_USER, ROOT_PW,
};

/// One TLS-enabled server shared by the tests that only read (never dropped: the watchdog
/// stops it when the test process exits).
fn shared() -> &'static MariaDb {
    static DB: OnceLock<MariaDb> = OnceLock::new();
    DB.get_or_init(MariaDb::start_tls)
}

#[track_caller]
fn failed_output(db: &MariaDb, r: common::Run) -> String {
    assert_ne!(
        r.status,
        Some(0),
        "{} unexpectedly succeeded:\n{}\nerror log:\n{}",
        r.what,
        r.stdout,
        db.error_log()
    );
    format!("{}{}", r.stdout, r.stderr)
}

#[test]
fn native_account_logs_in_over_tcp_and_the_socket() {
    let db = shared();
    for link in [Link::Tcp, Link::Socket] {
        let out = db.ok(db.sql(
            link,
            APP_USER,
            APP_PW,
            "SELECT VERSION(); SELECT CURRENT_USER(); SELECT @@port",
        ));
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 3, "{link:?}: {out}");
        assert!(
            lines[0].contains("MariaDB"),
            "{link:?}: VERSION() = {}",
            lines[0]
        );
        assert_eq!(lines[1], "app@%", "{link:?}");
        assert_eq!(lines[2], db.port().to_string(), "{link:?}");
    }
    // The account really is mysql_native_password, and root has a password on TCP too.
    let plugin = db.root_sql("SELECT plugin FROM mysql.user WHERE User = 'app'");
    assert_eq!(plugin, "mysql_native_password\n");
    let root = db.ok(db.sql(Link::Tcp, "root", ROOT_PW, "SELECT CURRENT_USER()"));
    assert_eq!(root, "root@127.0.0.1\n");
    // No root row beyond localhost and 127.0.0.1, no anonymous account. `x509` is created on
    // this shared server by `tls_reports_ssl_version` below, which may run first or alongside.
    let users =
        db.root_sql("SELECT User, Host FROM mysql.user WHERE User <> 'x509' ORDER BY User, Host");
    assert_eq!(
        users,
        "app\t%\napp_tls\t%\nmariadb.sys\tlocalhost\nroot\t127.0.0.1\nroot\tlocalhost\n"
    );
}

#[test]
fn wrong_password_gets_1045() {
    let db = shared();
    for (link, host) in [(Link::Tcp, "127.0.0.1"), (Link::Socket, "localhost")] {
        let out = failed_output(db, db.sql(link, APP_USER, "not-the-password", "SELECT 1"));
        let want = format!(
            "ERROR 1045 (28000): Access denied for user 'app'@'{host}' (using password: YES)"
        );
        assert!(out.contains(&want), "{link:?}: {out}");
    }
    // root without a password (as mariadb-install-db left it) is refused too.
    let mut cmd = db.cli(Link::Socket, "root", "");
    cmd.arg("-e").arg("SELECT 1");
    let out = failed_output(
        db,
        common::run(cmd, "root without password".into(), "mariadb-client"),
    );
    assert!(out.contains("ERROR 1045"), "{out}");
}

#[test]
fn tls_reports_ssl_version() {
    let db = shared();
    let out = db.ok(db.sql(
        Link::Tls,
        APP_USER,
        APP_PW,
        "SHOW SESSION STATUS LIKE 'Ssl_version'; SELECT @@have_ssl",
    ));
    let mut lines = out.lines();
    let version = lines.next().and_then(|l| l.strip_prefix("Ssl_version\t"));
    assert!(
        version.is_some_and(|v| v.starts_with("TLSv1.")),
        "Ssl_version over --ssl: {out}"
    );
    assert_eq!(lines.next(), Some("YES"));
    // Without TLS the session reports none.
    let plain = db.ok(db.sql(
        Link::Tcp,
        APP_USER,
        APP_PW,
        "SHOW SESSION STATUS LIKE 'Ssl_version'",
    ));
    assert_eq!(plain, "Ssl_version\t\n");
    // The REQUIRE SSL account: refused on plain TCP, accepted over TLS.
    let out = failed_output(db, db.sql(Link::Tcp, APP_TLS_USER, APP_TLS_PW, "SELECT 1"));
    assert!(out.contains("ERROR 1045"), "{out}");
    let ok = db.ok(db.sql(Link::Tls, APP_TLS_USER, APP_TLS_PW, "SELECT CURRENT_USER()"));
    assert_eq!(ok, "app_tls@%\n");
    // The generated client certificate satisfies REQUIRE X509.
    db.root_sql(
        "CREATE USER IF NOT EXISTS x509@'%' IDENTIFIED VIA mysql_native_password \
         USING PASSWORD('X509-pw_1') REQUIRE X509",
    );
    let (cert, key) = db.client_cert().expect("client certificate");
    let mut cmd = db.cli(Link::Tls, "x509", "X509-pw_1");
    cmd.arg(format!("--ssl-cert={}", cert.display()))
        .arg(format!("--ssl-key={}", key.display()))
        .args(["-e", "SELECT CURRENT_USER()"]);
    let out = db.ok(common::run(cmd, "x509 with a client cert".into(), "-"));
    assert_eq!(out, "x509@%\n");
    let out = failed_output(db, db.sql(Link::Tls, "x509", "X509-pw_1", "SELECT 1"));
    assert!(out.contains("ERROR 1045"), "no client certificate: {out}");
}

#[test]
fn two_fixtures_run_in_parallel() {
    let starts: Vec<_> = (0..2).map(|_| std::thread::spawn(MariaDb::start)).collect();
    // Every start joined before any failure is raised: a start still running when the test
    // process exits would leave its directory behind (no watchdog yet).
    let joined: Vec<_> = starts.into_iter().map(|t| t.join()).collect();
    let dbs: Vec<MariaDb> = joined
        .into_iter()
        .map(|r| r.unwrap_or_else(|e| std::panic::resume_unwind(e)))
        .collect();
    assert_ne!(dbs[0].port(), dbs[1].port());
    assert_ne!(dbs[0].dir(), dbs[1].dir());
    assert_ne!(dbs[0].pid(), dbs[1].pid());
    let mut gone = Vec::new();
    for db in dbs {
        // Each answers for itself, over TCP and its own socket; no TLS without Options::tls.
        let want = format!("{}\t{}/\tDISABLED\n", db.port(), db.datadir().display());
        for link in [Link::Tcp, Link::Socket] {
            let out = db.ok(db.sql(
                link,
                APP_USER,
                APP_PW,
                "SELECT @@port, @@datadir, @@have_ssl",
            ));
            assert_eq!(out, want, "{link:?}");
        }
        gone.push((db.pid(), db.dir().to_path_buf(), db.port()));
        drop(db);
    }
    // Dropping stops the server and removes its directory.
    for (pid, dir, port) in gone {
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "mariadbd {pid} still runs"
        );
        wait_until(
            Duration::from_secs(5),
            || !dir.exists(),
            "directory removed",
        );
        assert!(
            TcpStream::connect(("127.0.0.1", port)).is_err(),
            "port {port} still open"
        );
    }
}

#[test]
fn stop_kill_and_start_again_keep_the_data() {
    let mut db = MariaDb::start();
    let port = db.port();
    let app = |db: &MariaDb, sql: &str| db.ok(db.sql(Link::Tcp, APP_USER, APP_PW, sql));
    app(
        &db,
        "CREATE TABLE test.t (id INT PRIMARY KEY) ENGINE=InnoDB; INSERT INTO test.t VALUES (1)",
    );

    // A crash: SIGKILL, InnoDB recovers the committed row at the next start.
    let pid = db.pid();
    db.kill();
    assert!(!db.is_running());
    assert!(!Path::new(&format!("/proc/{pid}")).exists());
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
    db.start_again();
    assert!(db.is_running());
    assert_eq!(db.port(), port);
    app(&db, "INSERT INTO test.t VALUES (2)");

    // A normal shutdown and start.
    db.stop();
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
    db.start_again();
    assert_eq!(app(&db, "SELECT id FROM test.t ORDER BY id"), "1\n2\n");
    assert!(db.error_log().contains("Shutdown complete"));
}

const LEAK_ENV: &str = "VEST_MARIADB_LEAK_FILE";

/// The child half of the next test: starts a fixture, reports it, and exits without dropping it.
#[test]
fn leak_a_fixture_and_exit() {
    let Some(report) = std::env::var_os(LEAK_ENV) else {
        return;
    };
    let db = MariaDb::start();
    let line = format!("{} {} {}\n", db.pid(), db.port(), db.dir().display());
    std::fs::write(report, line).expect("write report");
    std::process::exit(0);
}

#[test]
fn a_fixture_never_dropped_stops_when_the_process_exits() {
    let report = tempfile::NamedTempFile::new().expect("report file");
    let status = Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", "leak_a_fixture_and_exit", "--test-threads=1"])
        .env(LEAK_ENV, report.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .expect("run the test binary");
    assert!(status.success(), "child: {status}");
    let text = std::fs::read_to_string(report.path()).expect("report");
    let mut words = text.split_whitespace();
    let pid: u32 = words.next().and_then(|w| w.parse().ok()).expect("pid");
    let port: u16 = words.next().and_then(|w| w.parse().ok()).expect("port");
    let dir = words.next().expect("dir").to_string();
    wait_until(
        Duration::from_secs(15),
        || !Path::new(&format!("/proc/{pid}")).exists(),
        "mariadbd gone",
    );
    wait_until(
        Duration::from_secs(5),
        || !Path::new(&dir).exists(),
        "directory removed",
    );
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
}

#[track_caller]
fn wait_until(limit: Duration, mut done: impl FnMut() -> bool, what: &str) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "not within {limit:?}: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_taken_port_is_retried_on_another() {
    let squatter = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let taken = squatter.local_addr().unwrap().port();
    let mut offered = vec![];
    let db = MariaDb::start_on_ports(Options::default(), || {
        let port = if offered.is_empty() {
            taken
        } else {
            std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port()
        };
        offered.push(port);
        port
    });
    assert_eq!(offered.len(), 2, "{offered:?}");
    assert_eq!(db.port(), offered[1]);
    assert!(db.error_log().contains("Address already in use"));
    let out = db.ok(db.sql(Link::Tcp, APP_USER, APP_PW, "SELECT @@port"));
    assert_eq!(out, format!("{}\n", offered[1]));
}
