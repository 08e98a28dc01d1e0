//! The Prometheus `/metrics` endpoint (`--metrics-address`, docs/proxy.md §7 and §10) of the
//! real binary, scraped with a plain HTTP/1.1 GET: the connection and login counters after
//! known logins (full over TLS 1.3, fast path, a refused one), the HTTP answers around it, and in
//! proxy mode, in front of the real MariaDB of `tests/common/mariadb.rs`, the backend's state,
//! pool counters and latency histograms after one proxied login.

mod common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use common::mariadb::{MariaDb, APP_PW, APP_USER};
use common::{client_tls, login_with, Login, Server};

/// The address the server logged for its metrics endpoint (`--metrics-address 127.0.0.1:0`
/// picks a free port, as `--port 0` does).
fn metrics_address(srv: &Server) -> SocketAddr {
    let log = srv.log();
    let line = log
        .lines()
        .find(|l| l.contains("/metrics endpoint"))
        .unwrap_or_else(|| panic!("no metrics line in the log:\n{log}"));
    line.split_whitespace()
        .find_map(|w| w.strip_prefix("address="))
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("no address=IP:PORT in: {line}"))
}

/// One HTTP/1.1 request (`Connection: close`); the status line, the headers (lower-case names)
/// and the body.
fn http(addr: SocketAddr, method: &str, path: &str) -> (String, BTreeMap<String, String>, String) {
    let mut s = TcpStream::connect(addr).expect("connect to the metrics address");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("send request");
    let mut raw = String::new();
    s.read_to_string(&mut raw).expect("read response");
    let (head, body) = raw
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no end of headers: {raw:?}"));
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or_default().to_string();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    (status, headers, body.to_string())
}

/// The samples of a scrape: series (name with labels) → value.
fn scrape(addr: SocketAddr) -> BTreeMap<String, String> {
    let (status, headers, body) = http(addr, "GET", "/metrics");
    assert_eq!(status, "HTTP/1.1 200 OK", "{body}");
    assert_eq!(
        headers.get("content-type").map(String::as_str),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    body.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (k, v) = l
                .rsplit_once(' ')
                .unwrap_or_else(|| panic!("not a sample: {l:?}"));
            (k.to_string(), v.to_string())
        })
        .collect()
}

/// Scrapes until `done` holds (connections close asynchronously), at most 10 s.
fn scrape_until(
    srv: &Server,
    addr: SocketAddr,
    done: impl Fn(&BTreeMap<String, String>) -> bool,
) -> BTreeMap<String, String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let m = scrape(addr);
        if done(&m) {
            return m;
        }
        assert!(
            Instant::now() < deadline,
            "the scrape never settled: {m:#?}\n{}",
            srv.log_tail()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[track_caller]
fn expect(m: &BTreeMap<String, String>, want: &[(&str, &str)]) {
    for (series, value) in want {
        assert_eq!(
            m.get(*series).map(String::as_str),
            Some(*value),
            "{series}: {m:#?}"
        );
    }
}

fn tcp(srv: &Server) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", srv.port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    s
}

#[test]
fn counters_after_known_logins() {
    let srv = Server::start(&["--metrics-address", "127.0.0.1:0"]);
    let addr = metrics_address(&srv);
    let m = scrape(addr);
    expect(
        &m,
        &[
            ("vestibule_connections_total", "0"),
            ("vestibule_threads_connected", "0"),
            ("vestibule_logins_total{path=\"full\"}", "0"),
        ],
    );
    assert!(
        !m.keys().any(|k| k.starts_with("vestibule_backend")),
        "no backend series outside proxy mode: {m:#?}"
    );

    // 1. root over TLS 1.3: the cache is cold, a full authentication.
    let tls = client_tls(&[srv.ca().into()]);
    let (login, full) =
        login_with(Box::new(tcp(&srv)), "root", common::ROOT_PW, Some(&tls)).expect("TLS login");
    assert_eq!(login, Login::Full, "{}", srv.log_tail());
    // 2. root over plain TCP: the fast path, and one COM_QUERY.
    let (login, fast) =
        login_with(Box::new(tcp(&srv)), "root", common::ROOT_PW, None).expect("login");
    assert_eq!(login, Login::FastPath, "{}", srv.log_tail());
    let mut fast = fast.expect("session");
    let _ = fast.query("SELECT 1").expect("query i/o");
    // 3. A wrong password: refused.
    let (login, _) = login_with(Box::new(tcp(&srv)), "root", "wrong", None).expect("login i/o");
    assert!(matches!(login, Login::Error(1045, _)), "{login:?}");

    // Two sessions stay open; the refused connection closes on the server's side soon.
    let m = scrape_until(&srv, addr, |m| {
        m.get("vestibule_threads_connected").map(String::as_str) == Some("2")
    });
    expect(
        &m,
        &[
            ("vestibule_connections_total", "3"),
            ("vestibule_threads_connected", "2"),
            ("vestibule_aborted_connects_total", "1"),
            ("vestibule_logins_total{path=\"fast\"}", "1"),
            ("vestibule_logins_total{path=\"full\"}", "1"),
            ("vestibule_logins_total{path=\"other\"}", "0"),
            ("vestibule_login_failures_total", "1"),
            ("vestibule_questions_total", "1"),
            ("vestibule_tls_accepts_total", "1"),
            ("vestibule_tls_handshakes_total{version=\"TLSv1.2\"}", "0"),
            ("vestibule_tls_handshakes_total{version=\"TLSv1.3\"}", "1"),
        ],
    );
    let uptime: f64 = m["vestibule_uptime_seconds"].parse().expect("uptime");
    assert!(uptime > 0.0, "{uptime}");

    fast.quit();
    drop(full);
    let m = scrape_until(&srv, addr, |m| {
        m.get("vestibule_threads_connected").map(String::as_str) == Some("0")
    });
    expect(&m, &[("vestibule_connections_total", "3")]);

    // The HTTP side: only /metrics, only GET and HEAD; the body of HEAD is empty.
    let (status, _, _) = http(addr, "GET", "/");
    assert_eq!(status, "HTTP/1.1 404 Not Found");
    let (status, headers, _) = http(addr, "POST", "/metrics");
    assert_eq!(status, "HTTP/1.1 405 Method Not Allowed");
    assert_eq!(headers.get("allow").map(String::as_str), Some("GET, HEAD"));
    let (status, _, body) = http(addr, "HEAD", "/metrics");
    assert_eq!((status.as_str(), body.as_str()), ("HTTP/1.1 200 OK", ""));
    // Scrapes are not MySQL connections.
    expect(&scrape(addr), &[("vestibule_connections_total", "3")]);
}

/// Without `--metrics-address` nothing listens for it.
#[test]
fn off_by_default() {
    let srv = Server::start(&[]);
    assert!(
        !srv.log().contains("/metrics endpoint"),
        "{}",
        srv.log_tail()
    );
}

/// Proxy mode (mapped) in front of MariaDB: one login through the door, one query.
#[test]
fn proxy_mode_backend_series() {
    use std::os::unix::fs::PermissionsExt;
    let db = MariaDb::start();
    let dir = tempfile::Builder::new()
        .prefix("vest-metrics")
        .tempdir()
        .expect("tempdir");
    let creds = dir.path().join("backend-credentials.toml");
    std::fs::write(
        &creds,
        format!(
            "[accounts.{APP_USER}]\npassword = \"{APP_PW}\"\n[map]\ndefault = \"{APP_USER}\"\n"
        ),
    )
    .expect("write credentials");
    std::fs::set_permissions(&creds, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let port = db.port().to_string();
    let creds = creds.display().to_string();
    let srv = Server::start_in(
        dir,
        &[
            "--backend-host",
            "127.0.0.1",
            "--backend-port",
            &port,
            "--backend-ssl-mode",
            "DISABLED",
            "--backend-credentials-file",
            &creds,
            "--metrics-address",
            "127.0.0.1:0",
        ],
    );
    let addr = metrics_address(&srv);

    // The door account, made as root over the admin socket (Vestibule's own SQL).
    let admin = std::os::unix::net::UnixStream::connect(srv.datadir().join("admin.sock"))
        .expect("connect to the admin socket");
    admin
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let (login, root) =
        login_with(Box::new(admin), "root", common::ROOT_PW, None).expect("admin login");
    assert_eq!(login, Login::Full, "{}", srv.log_tail());
    let mut root = root.expect("session");
    common::must_query(
        &srv,
        &mut root,
        "CREATE USER 'door'@'%' IDENTIFIED BY 'Door-pw_1'",
    );
    root.quit();

    // One login through the door (the main socket: the cleartext of a full authentication),
    // mapped to the backend's `app`, and one query relayed.
    let s = std::os::unix::net::UnixStream::connect(srv.socket()).expect("connect socket");
    s.set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let (login, session) = login_with(Box::new(s), "door", "Door-pw_1", None).expect("login");
    assert_eq!(login, Login::Full, "{}", srv.log_tail());
    let mut session = session.expect("session");
    let rows = common::must_query(&srv, &mut session, "SELECT CURRENT_USER()");
    assert_eq!(rows, "app@%\n");

    let m = scrape(addr);
    expect(
        &m,
        &[
            ("vestibule_backend_up", "1"),
            ("vestibule_backend_checkouts_total", "1"),
            ("vestibule_backend_checkout_seconds_count", "1"),
            (
                "vestibule_backend_checkout_seconds_bucket{le=\"+Inf\"}",
                "1",
            ),
            ("vestibule_backend_reply_seconds_count", "1"),
            ("vestibule_backend_reply_seconds_bucket{le=\"+Inf\"}", "1"),
            ("vestibule_backend_login_refusals_total", "0"),
            ("vestibule_backend_sessions_lost_total", "0"),
            // root on the admin socket and the door's login, both full authentications.
            ("vestibule_logins_total{path=\"full\"}", "2"),
            ("vestibule_connections_total", "2"),
            ("vestibule_threads_connected", "1"),
        ],
    );
    // The backend connections opened (the login's, and min-idle's in the background) each
    // took one backend open.
    let opened: u64 = m["vestibule_backend_connections_opened_total"]
        .parse()
        .expect("number");
    assert!(opened >= 1, "{m:#?}");
    let opens: u64 = m["vestibule_backend_open_seconds_count"]
        .parse()
        .expect("number");
    assert!(opens >= 1, "{m:#?}");
    let open_now: u64 = m["vestibule_backend_connections"].parse().expect("number");
    assert!(open_now >= 1, "{m:#?}");
    let (_, _, body) = http(addr, "GET", "/metrics");
    // Cumulative buckets, in the order written: never decreasing, `+Inf` last at the count.
    let buckets: Vec<(&str, u64)> = body
        .lines()
        .filter_map(|l| l.strip_prefix("vestibule_backend_checkout_seconds_bucket{le=\""))
        .map(|l| {
            let (le, n) = l.split_once("\"} ").expect("bucket line");
            (le, n.parse().expect("number"))
        })
        .collect();
    assert_eq!(buckets.len(), 14, "{body}");
    assert!(buckets.windows(2).all(|w| w[0].1 <= w[1].1), "{buckets:?}");
    assert_eq!(buckets.last(), Some(&("+Inf", 1)));
    // Every Backend_* status variable has its own description, not its bare name.
    for line in body
        .lines()
        .filter(|l| l.starts_with("# HELP vestibule_backend_"))
    {
        let help = line.splitn(4, ' ').nth(3).unwrap_or_default();
        assert!(!help.starts_with("Backend_"), "{line}");
    }
    session.quit();
}
