//! Proxy speed (issue 12, "Speed"; docs/proxy.md §9 item 6): Vestibule in proxy mode (mapped
//! identity, the backend over TCP to a private MariaDB, pool on) against the same clients
//! talking to that MariaDB directly.
//!
//! - **Connection storm.** Short-lived connections (connect, authenticate, `SELECT 1`, quit) at
//!   c = 1, 8 and 64 concurrent clients, plain and TLS 1.3. The client is the same for both
//!   sides: `mysql_async` in this process, a fresh `Conn::new` per connection (rustls with
//!   aws-lc-rs; `@@max_allowed_packet` and `@@wait_timeout` given in the options so the connect
//!   sends no query of its own). It reports connections/s, p50/p99 latency, the CPU spent per
//!   connection by the client (this process), mariadbd and the door (from /proc, in ticks of
//!   10 ms), the ratios proxy / direct, and after each proxied storm the deltas of
//!   `Backend_connections_opened`, `Backend_checkouts` and `Backend_checkouts_reused`
//!   (docs/proxy.md §10, read on the admin socket) and of MariaDB's `Connections`.
//! - **Steady queries.** `sysbench oltp_read_only` (prepared statements, sysbench's default),
//!   8 threads, 4 tables × 10 000 rows, 20 s, through the proxy and directly, plain and TLS.
//!   It reports tps, qps, average and 95th-percentile latency, the CPU per query of sysbench,
//!   mariadbd and the door, and the ratios.
//!
//! Both servers present the same ECDSA P-256 certificate (the MariaDB fixture's, for
//! `127.0.0.1`), so the TLS handshakes cost the same on the two sides. "plain" is plain end to
//! end (client leg and backend leg, `--backend-ssl-mode DISABLED`); "TLS" is TLS on every hop
//! (the backend leg `VERIFY_IDENTITY` against the fixture's CA): one proxy of each kind runs.
//!
//! `cargo bench --bench proxy` runs everything; under `cargo test --benches` (no `--bench`
//! argument) it makes a handful of connections per case and a 1-second sysbench, as a smoke
//! test. Without `mariadbd` it does nothing (with a notice); without `sysbench` it skips the
//! steady-query part; with a `vestibule` that has no proxy mode yet (`--backend-host` not in its
//! `--help`) it measures MariaDB direct only.

#[path = "../tests/common/mod.rs"]
mod common;

use std::fmt::Write as _;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::mariadb::{MariaDb, Options, APP_PW, APP_USER};
use common::{login_with, Login, Server, Session};
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts, OptsBuilder, SslOpts};

/// The front-door account the clients use through the proxy (caching_sha2_password, mapped to
/// the backend account `app`).
const DOOR_USER: &str = "bench";
const DOOR_PW: &str = "Bench-door_pw1";

/// How much of everything to do.
struct Plan {
    concurrency: &'static [usize],
    /// Measured connections of one storm at concurrency c.
    conns: fn(usize) -> usize,
    sysbench: Sysbench,
    /// Sysbench with TLS too (plain only in the smoke run).
    sysbench_tls: bool,
}

#[derive(Clone, Copy)]
struct Sysbench {
    threads: usize,
    tables: usize,
    table_size: usize,
    seconds: u64,
}

const FULL: Plan = Plan {
    concurrency: &[1, 8, 64],
    conns: |c| if c == 1 { 1000 } else { 2000 },
    sysbench: Sysbench {
        threads: 8,
        tables: 4,
        table_size: 10_000,
        seconds: 20,
    },
    sysbench_tls: true,
};

const SMOKE: Plan = Plan {
    concurrency: &[1, 8],
    conns: |c| 2 * c,
    sysbench: Sysbench {
        threads: 2,
        tables: 1,
        table_size: 100,
        seconds: 1,
    },
    sysbench_tls: false,
};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Leg {
    Plain,
    Tls,
}

impl Leg {
    fn name(self) -> &'static str {
        match self {
            Leg::Plain => "plain",
            Leg::Tls => "TLS",
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Side {
    Direct,
    Proxy,
}

impl Side {
    fn name(self) -> &'static str {
        match self {
            Side::Direct => "MariaDB",
            Side::Proxy => "proxy",
        }
    }
}

/// One proxy: the door in front of the MariaDB fixture, with its own backend TLS mode.
struct Proxy {
    srv: Server,
    /// Holds the credentials file.
    _creds: tempfile::TempDir,
}

impl Proxy {
    fn start(db: &MariaDb, backend_ssl: bool) -> Proxy {
        let creds = tempfile::Builder::new()
            .prefix("vest-bench-creds")
            .tempdir()
            .expect("tempdir");
        let file = creds.path().join("backend-credentials.toml");
        std::fs::write(
            &file,
            format!("[accounts.{APP_USER}]\npassword = \"{APP_PW}\"\n\n[map]\ndefault = \"{APP_USER}\"\n"),
        )
        .expect("write the credentials file");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        let tls = db.dir().join("tls");
        let cert = tls.join("server-cert.pem").display().to_string();
        let key = tls.join("server-key.pem").display().to_string();
        let ca = tls.join("ca.pem").display().to_string();
        let port = db.port().to_string();
        let file = file.display().to_string();
        let mut args = vec![
            // (Server::start sets --log-level info,vestibule=debug: one line per login.)
            "--max-connections",
            "1000",
            "--ssl-cert",
            &cert,
            "--ssl-key",
            &key,
            "--backend-host",
            "127.0.0.1",
            "--backend-port",
            &port,
            "--backend-identity",
            "mapped",
            "--backend-credentials-file",
            &file,
            "--backend-pool-max-connections",
            "100",
            // Idle connections kept up to the cap (the default, 32, is below c = 64: half of
            // each wave would close and reopen).
            "--backend-pool-max-idle",
            "100",
        ];
        if backend_ssl {
            args.extend([
                "--backend-ssl-mode",
                "VERIFY_IDENTITY",
                "--backend-ssl-ca",
                &ca,
            ]);
        } else {
            args.extend(["--backend-ssl-mode", "DISABLED"]);
        }
        let srv = Server::start(&args);
        let proxy = Proxy { srv, _creds: creds };
        let mut admin = proxy.admin();
        admin_query(
            &proxy.srv,
            &mut admin,
            &format!("CREATE USER '{DOOR_USER}'@'%' IDENTIFIED BY '{DOOR_PW}'"),
        );
        admin.quit();
        proxy
    }

    /// root on the admin socket (Vestibule's own SQL in proxy mode).
    fn admin(&self) -> Session<'static> {
        let path = self.srv.datadir().join("admin.sock");
        let s = UnixStream::connect(&path).unwrap_or_else(|e| {
            panic!(
                "admin socket {}: {e}\n{}",
                path.display(),
                self.srv.log_tail()
            )
        });
        s.set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        let (login, session) =
            login_with(Box::new(s), "root", common::ROOT_PW, None).expect("admin login");
        assert!(
            matches!(login, Login::Full | Login::FastPath),
            "root on the admin socket: {login:?}\n{}",
            self.srv.log_tail()
        );
        session.expect("session")
    }

    /// `SHOW GLOBAL STATUS LIKE 'Backend%'` as (name, value).
    fn backend_status(&self) -> Vec<(String, String)> {
        let mut admin = self.admin();
        let rows = match admin
            .query("SHOW GLOBAL STATUS LIKE 'Backend%'")
            .expect("admin i/o")
        {
            Ok(rows) => rows,
            Err((code, msg)) => panic!("SHOW GLOBAL STATUS: {code} {msg}"),
        };
        admin.quit();
        rows.into_iter()
            .filter_map(|r| match r.as_slice() {
                [Some(n), Some(v)] => Some((n.clone(), v.clone())),
                _ => None,
            })
            .collect()
    }
}

fn admin_query(srv: &Server, s: &mut Session<'_>, sql: &str) {
    if let Err((code, msg)) = s.query(sql).expect("admin i/o") {
        panic!("{sql}: ERROR {code}: {msg}\n{}", srv.log_tail());
    }
}

fn counter(status: &[(String, String)], name: &str) -> Option<u64> {
    status
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.parse().ok())
}

/// Client options for one side and leg; `db` names a default database.
fn client_opts(port: u16, user: &str, pw: &str, ca: Option<&[u8]>) -> Opts {
    let b = OptsBuilder::default()
        .ip_or_hostname("127.0.0.1")
        .tcp_port(port)
        .user(Some(user))
        .pass(Some(pw))
        // Neither a reconnect over @@socket nor the settings query after the login.
        .prefer_socket(false)
        .max_allowed_packet(Some(16 << 20))
        .wait_timeout(Some(28800))
        .ssl_opts(ca.map(|ca| {
            SslOpts::default()
                .with_root_certs(vec![ca.to_vec().into()])
                .with_disable_built_in_roots(true)
        }));
    b.into()
}

async fn one_connection(opts: Opts) -> Result<(), mysql_async::Error> {
    let mut conn = Conn::new(opts).await?;
    let one: Option<i64> = conn.query_first("SELECT 1").await?;
    if one != Some(1) {
        return Err(mysql_async::Error::Other(
            format!("SELECT 1 answered {one:?}").into(),
        ));
    }
    conn.disconnect().await
}

struct Storm {
    rate: f64,
    /// Sorted latencies of the successful connections.
    lat: Vec<Duration>,
    errors: usize,
    first_error: Option<String>,
}

/// `n` connections by `c` concurrent clients.
fn storm(rt: &tokio::runtime::Runtime, opts: &Opts, c: usize, n: usize) -> Storm {
    let next = Arc::new(AtomicUsize::new(0));
    let errors = Arc::new(Mutex::new(Vec::<String>::new()));
    let start = Instant::now();
    let mut lat: Vec<Duration> = rt.block_on(async {
        let tasks: Vec<_> = (0..c)
            .map(|_| {
                let (next, errors, opts) = (next.clone(), errors.clone(), opts.clone());
                tokio::spawn(async move {
                    let mut lat = Vec::new();
                    while next.fetch_add(1, Ordering::Relaxed) < n {
                        let t = Instant::now();
                        match one_connection(opts.clone()).await {
                            Ok(()) => lat.push(t.elapsed()),
                            Err(e) => errors.lock().unwrap().push(e.to_string()),
                        }
                    }
                    lat
                })
            })
            .collect();
        let mut all = Vec::with_capacity(n);
        for t in tasks {
            all.extend(t.await.expect("client task"));
        }
        all
    });
    let elapsed = start.elapsed().as_secs_f64();
    lat.sort();
    let errors = std::mem::take(&mut *errors.lock().unwrap());
    Storm {
        rate: lat.len() as f64 / elapsed,
        lat,
        errors: errors.len(),
        first_error: errors.into_iter().next(),
    }
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// CPU time (user + system) of a process so far, from /proc/PID/stat (clock ticks of 10 ms):
/// its own (`utime`, `stime`), or with `children` that of its waited-for children (`cutime`,
/// `cstime`: sysbench, once it has exited).
fn cpu_time(pid: &str, children: bool) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which is in parentheses and may hold spaces), from the
    // state (field 3): utime and stime are fields 14 and 15, cutime and cstime 16 and 17.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    let at = if children { 13 } else { 11 };
    let ticks = f.get(at).copied().unwrap_or(0) + f.get(at + 1).copied().unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

/// CPU spent by the client (this process, or sysbench), mariadbd and the door.
#[derive(Clone, Copy, Default)]
struct Cpu {
    client: Duration,
    maria: Duration,
    door: Duration,
}

impl Cpu {
    /// Now: `sysbench` takes the client's time from this process's exited children.
    fn now(maria_pid: u32, door_pid: Option<u32>, sysbench: bool) -> Cpu {
        Cpu {
            client: cpu_time("self", sysbench),
            maria: cpu_time(&maria_pid.to_string(), false),
            door: door_pid.map_or(Duration::ZERO, |p| cpu_time(&p.to_string(), false)),
        }
    }

    /// CPU from `self` to `later`, per one of `n` units (µs).
    fn per(self, later: Cpu, n: usize) -> [f64; 3] {
        let d =
            |a: Duration, b: Duration| b.saturating_sub(a).as_secs_f64() * 1e6 / n.max(1) as f64;
        [
            d(self.client, later.client),
            d(self.maria, later.maria),
            d(self.door, later.door),
        ]
    }
}

/// MariaDB's global status, read over a connection kept open for the whole run (so reading it
/// opens no connection).
struct MariaStatus {
    conn: Conn,
}

impl MariaStatus {
    fn get(&mut self, rt: &tokio::runtime::Runtime, name: &str) -> u64 {
        let sql = format!("SHOW GLOBAL STATUS LIKE '{name}'");
        let row: Option<(String, u64)> = rt
            .block_on(self.conn.query_first(&sql))
            .expect("SHOW GLOBAL STATUS on MariaDB");
        row.map_or(0, |r| r.1)
    }
}

struct Row {
    leg: Leg,
    c: usize,
    side: Side,
    storm: Storm,
    /// CPU µs per connection: client, mariadbd, door.
    cpu: [f64; 3],
    /// Proxy only: deltas of Backend_connections_opened, Backend_checkouts,
    /// Backend_checkouts_reused and MariaDB's Connections.
    reuse: Option<[Option<u64>; 4]>,
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let plan = if full { FULL } else { SMOKE };
    if !Path::new("/usr/sbin/mariadbd").is_file() && !on_path("mariadbd") {
        println!("proxy bench: mariadbd not found (apt-get install mariadb-server): skipped");
        return;
    }
    let proxy_built = vestibule_has_proxy_mode();
    if !proxy_built {
        println!(
            "proxy bench: this vestibule has no proxy mode yet (no --backend-host): MariaDB direct only"
        );
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");

    let db = MariaDb::start_with(Options {
        tls: true,
        args: vec!["--max-connections=1000".into()],
    });
    let ca_pem = std::fs::read(db.ca().expect("CA")).expect("read CA");
    let mut maria = MariaStatus {
        conn: rt
            .block_on(Conn::new(
                OptsBuilder::default()
                    .socket(Some(db.socket().display().to_string()))
                    .user(Some("root"))
                    .pass(Some(common::mariadb::ROOT_PW)),
            ))
            .expect("root on MariaDB's socket"),
    };
    let tls_version: Option<(String, String)> = rt
        .block_on(async {
            let mut c = Conn::new(client_opts(db.port(), APP_USER, APP_PW, Some(&ca_pem))).await?;
            let v = c
                .query_first("SHOW SESSION STATUS LIKE 'Ssl_version'")
                .await;
            c.disconnect().await?;
            v
        })
        .expect("TLS connection to MariaDB");
    let version: Option<String> = rt
        .block_on(maria.conn.query_first("SELECT VERSION()"))
        .expect("VERSION()");
    println!(
        "MariaDB {} on 127.0.0.1:{}; mysql_async over TLS to it: {}",
        version.unwrap_or_default(),
        db.port(),
        tls_version.map_or("?".into(), |v| v.1)
    );

    let proxies = proxy_built.then(|| (Proxy::start(&db, false), Proxy::start(&db, true)));
    let maria_pid = db.pid();

    // The door's caching_sha2_password cache filled once per proxy (a full authentication over
    // TLS); every later login is a fast path.
    if let Some((p, t)) = &proxies {
        for p in [p, t] {
            rt.block_on(one_connection(client_opts(
                p.srv.port,
                DOOR_USER,
                DOOR_PW,
                Some(&ca_pem),
            )))
            .unwrap_or_else(|e| panic!("first login through the proxy: {e}\n{}", p.srv.log_tail()));
        }
    }

    // ----- connection storm -----
    let mut rows: Vec<Row> = Vec::new();
    for leg in [Leg::Plain, Leg::Tls] {
        for &c in plan.concurrency {
            let n = (plan.conns)(c);
            for side in [Side::Direct, Side::Proxy] {
                let proxy = match (side, &proxies) {
                    (Side::Direct, _) => None,
                    (Side::Proxy, Some((p, t))) => Some(if leg == Leg::Tls { t } else { p }),
                    (Side::Proxy, None) => continue,
                };
                let ca = (leg == Leg::Tls).then_some(&ca_pem[..]);
                let opts = match proxy {
                    None => client_opts(db.port(), APP_USER, APP_PW, ca),
                    Some(p) => client_opts(p.srv.port, DOOR_USER, DOOR_PW, ca),
                };
                // Warm-up, not counted: the pool grows to c, MariaDB's thread cache fills.
                let warm = storm(&rt, &opts, c, 2 * c);
                assert_eq!(
                    warm.errors,
                    0,
                    "{} {} c={c} warm-up: {:?}",
                    side.name(),
                    leg.name(),
                    warm.first_error
                );
                let before = proxy.map(|p| p.backend_status());
                let conns_before = maria.get(&rt, "Connections");
                let door_pid = proxy.map(|p| p.srv.server_pid());
                let cpu0 = Cpu::now(maria_pid, door_pid, false);
                let s = storm(&rt, &opts, c, n);
                let cpu1 = Cpu::now(maria_pid, door_pid, false);
                let conns_after = maria.get(&rt, "Connections");
                let reuse = proxy.map(|p| {
                    let after = p.backend_status();
                    let before = before.as_ref().expect("status before");
                    let d = |name: &str| Some(counter(&after, name)? - counter(before, name)?);
                    [
                        d("Backend_connections_opened"),
                        d("Backend_checkouts"),
                        d("Backend_checkouts_reused"),
                        Some(conns_after - conns_before),
                    ]
                });
                if !full {
                    assert_eq!(
                        s.errors,
                        0,
                        "{} {} c={c}: {:?}",
                        side.name(),
                        leg.name(),
                        s.first_error
                    );
                }
                rows.push(Row {
                    leg,
                    c,
                    side,
                    cpu: cpu0.per(cpu1, s.lat.len()),
                    storm: s,
                    reuse,
                });
            }
        }
    }
    print_storm(&rows);

    // ----- steady queries -----
    if !on_path("sysbench") {
        println!("\nsysbench not found (apt-get install sysbench): steady-query part skipped");
        return;
    }
    let sb = plan.sysbench;
    // sysbench 1.0's --mysql-ssl=on reads client-key.pem, client-cert.pem and cacert.pem from
    // its working directory.
    let sb_dir = tempfile::Builder::new()
        .prefix("vest-bench-sysbench")
        .tempdir()
        .expect("tempdir");
    let tls = db.dir().join("tls");
    for (from, to) in [
        ("client-key.pem", "client-key.pem"),
        ("client-cert.pem", "client-cert.pem"),
        ("ca.pem", "cacert.pem"),
    ] {
        std::fs::copy(tls.join(from), sb_dir.path().join(to)).expect("copy a PEM for sysbench");
    }
    let prep = sysbench(
        sb_dir.path(),
        db.port(),
        APP_USER,
        APP_PW,
        sb,
        Leg::Plain,
        "prepare",
    );
    assert!(
        prep.is_ok(),
        "sysbench prepare: {}",
        prep.err().unwrap_or_default()
    );
    let mut results: Vec<SysbenchRow> = Vec::new();
    let legs: &[Leg] = if plan.sysbench_tls {
        &[Leg::Plain, Leg::Tls]
    } else {
        &[Leg::Plain]
    };
    for &leg in legs {
        for side in [Side::Direct, Side::Proxy] {
            let proxy = match (side, &proxies) {
                (Side::Direct, _) => None,
                (Side::Proxy, Some((p, t))) => Some(if leg == Leg::Tls { t } else { p }),
                (Side::Proxy, None) => continue,
            };
            let (port, user, pw) = match proxy {
                None => (db.port(), APP_USER, APP_PW),
                Some(p) => (p.srv.port, DOOR_USER, DOOR_PW),
            };
            let before = proxy.map(|p| p.backend_status());
            let conns_before = maria.get(&rt, "Connections");
            let door_pid = proxy.map(|p| p.srv.server_pid());
            let cpu0 = Cpu::now(maria_pid, door_pid, true);
            let out = sysbench(sb_dir.path(), port, user, pw, sb, leg, "run");
            let cpu1 = Cpu::now(maria_pid, door_pid, true);
            let conns_after = maria.get(&rt, "Connections");
            let r = match &out {
                Ok(o) => parse_sysbench(o)
                    .unwrap_or_else(|| panic!("sysbench: an output without its figures:\n{o}")),
                Err(e) => panic!("sysbench {} {}: {e}", side.name(), leg.name()),
            };
            let reuse = proxy.map(|p| {
                let after = p.backend_status();
                let before = before.as_ref().expect("before");
                let opened = counter(&after, "Backend_connections_opened")
                    .zip(counter(before, "Backend_connections_opened"))
                    .map(|(a, b)| a - b);
                [opened, Some(conns_after - conns_before)]
            });
            if !full {
                assert_eq!(r.errors + r.reconnects, 0, "sysbench errors or reconnects");
            }
            let cpu = cpu0.per(cpu1, r.queries as usize);
            results.push((leg, side, r, cpu, reuse));
        }
    }
    print_sysbench(sb, &results);
}

fn on_path(prog: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|p| p.join(prog).is_file()))
}

fn vestibule_has_proxy_mode() -> bool {
    Command::new(env!("CARGO_BIN_EXE_vestibule"))
        .arg("--help")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("--backend-host"))
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1e3)
}

fn opt(v: Option<u64>) -> String {
    v.map_or("-".into(), |v| v.to_string())
}

fn print_storm(rows: &[Row]) {
    println!(
        "\nconnection storm: connect, authenticate, SELECT 1, quit (mysql_async, a new Conn each)"
    );
    println!(
        "{:<6} {:>3} {:<8} {:>6} {:>8} {:>7} {:>7} | {:>6} {:>6} {:>6} | {:>6} | {:>6} {:>9} {:>7} {:>11}",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "CPU µs",
        "/conn",
        "",
        "",
        "",
        "",
        "",
        "MariaDB"
    );
    println!(
        "{:<6} {:>3} {:<8} {:>6} {:>8} {:>7} {:>7} | {:>6} {:>6} {:>6} | {:>6} | {:>6} {:>9} {:>7} {:>11}",
        "leg",
        "c",
        "target",
        "conns",
        "conns/s",
        "p50 ms",
        "p99 ms",
        "client",
        "maria",
        "door",
        "errors",
        "opened",
        "checkouts",
        "reused",
        "Connections"
    );
    let mut ratios = String::new();
    for r in rows {
        let s = &r.storm;
        let [opened, checkouts, reused, maria] = r.reuse.unwrap_or([None; 4]);
        let [client, mcpu, door] = r.cpu;
        println!(
            "{:<6} {:>3} {:<8} {:>6} {:>8.0} {:>7} {:>7} | {:>6.0} {:>6.0} {:>6} | {:>6} | {:>6} {:>9} {:>7} {:>11}",
            r.leg.name(),
            r.c,
            r.side.name(),
            s.lat.len(),
            s.rate,
            ms(pct(&s.lat, 0.5)),
            ms(pct(&s.lat, 0.99)),
            client,
            mcpu,
            if r.side == Side::Proxy { format!("{door:.0}") } else { "-".into() },
            s.errors,
            opt(opened),
            opt(checkouts),
            opt(reused),
            if r.side == Side::Proxy { opt(maria) } else { "-".into() },
        );
        if let Some(e) = &s.first_error {
            println!("       first error: {e}");
        }
        if r.side == Side::Proxy {
            if let Some(d) = rows
                .iter()
                .find(|d| d.side == Side::Direct && d.leg == r.leg && d.c == r.c)
            {
                let lat = |p| pct(&s.lat, p).as_secs_f64() / pct(&d.storm.lat, p).as_secs_f64();
                let server = |cpu: [f64; 3]| cpu[1] + cpu[2];
                // Clock ticks of 10 ms: too few connections give no CPU figure.
                let cpu_ratio = if server(d.cpu) > 0.0 && server(r.cpu) > 0.0 {
                    format!("×{:.2}", server(r.cpu) / server(d.cpu))
                } else {
                    "-".into()
                };
                let _ = writeln!(
                    ratios,
                    "{:<6} c={:<3} conns/s ×{:.2}   p50 ×{:.2}   p99 ×{:.2}   server CPU/conn (mariadbd + door) {cpu_ratio}",
                    r.leg.name(),
                    r.c,
                    s.rate / d.storm.rate,
                    lat(0.5),
                    lat(0.99),
                );
            }
        }
    }
    if !ratios.is_empty() {
        println!("\nproxy / MariaDB direct:\n{ratios}");
    }
}

struct SysbenchResult {
    tps: f64,
    qps: f64,
    queries: u64,
    avg_ms: f64,
    p95_ms: f64,
    errors: u64,
    reconnects: u64,
}

/// Runs one sysbench command (`prepare` or `run`); its stdout, or what went wrong.
fn sysbench(
    cwd: &Path,
    port: u16,
    user: &str,
    pw: &str,
    sb: Sysbench,
    leg: Leg,
    cmd: &str,
) -> Result<String, String> {
    let out = Command::new("sysbench")
        .current_dir(cwd)
        .arg("oltp_read_only")
        .args([
            "--db-driver=mysql",
            "--mysql-host=127.0.0.1",
            &format!("--mysql-port={port}"),
            &format!("--mysql-user={user}"),
            &format!("--mysql-password={pw}"),
            "--mysql-db=test",
            &format!("--tables={}", sb.tables),
            &format!("--table-size={}", sb.table_size),
            &format!("--threads={}", sb.threads),
            &format!("--time={}", sb.seconds),
            "--report-interval=0",
            if leg == Leg::Tls {
                "--mysql-ssl=on"
            } else {
                "--mysql-ssl=off"
            },
            cmd,
        ])
        .env_remove("MYSQL_PWD")
        .output()
        .map_err(|e| format!("cannot run sysbench: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if out.status.success() {
        Ok(stdout)
    } else {
        Err(format!(
            "exit {:?}\nstdout:\n{stdout}\nstderr:\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// The figures of sysbench 1.0's report ("transactions:  N  (X per sec.)", "avg:  X" …).
fn parse_sysbench(out: &str) -> Option<SysbenchResult> {
    let field = |key: &str| -> Option<&str> {
        out.lines()
            .find_map(|l| l.trim_start().strip_prefix(key))
            .map(str::trim)
    };
    let per_sec = |key: &str| -> Option<f64> {
        let v = field(key)?;
        v.split_once('(')?.1.split_whitespace().next()?.parse().ok()
    };
    let count = |key: &str| -> Option<u64> { field(key)?.split_whitespace().next()?.parse().ok() };
    let num = |key: &str| -> Option<f64> { field(key)?.parse().ok() };
    Some(SysbenchResult {
        tps: per_sec("transactions:")?,
        qps: per_sec("queries:")?,
        queries: count("queries:")?,
        avg_ms: num("avg:")?,
        p95_ms: num("95th percentile:")?,
        errors: count("ignored errors:")?,
        reconnects: count("reconnects:")?,
    })
}

/// Leg, side, figures, CPU µs per query (sysbench, mariadbd, door), and for the proxy the
/// deltas of Backend_connections_opened and MariaDB's Connections.
type SysbenchRow = (
    Leg,
    Side,
    SysbenchResult,
    [f64; 3],
    Option<[Option<u64>; 2]>,
);

fn print_sysbench(sb: Sysbench, rows: &[SysbenchRow]) {
    println!(
        "\nsysbench oltp_read_only: {} threads, {} tables × {} rows, {} s, prepared statements",
        sb.threads, sb.tables, sb.table_size, sb.seconds
    );
    println!(
        "{:<6} {:<8} {:>8} {:>9} {:>7} {:>7} {:>6} {:>6} | {:>8} {:>6} {:>6} | {:>6} {:>11}",
        "", "", "", "", "", "", "", "", "CPU µs", "/query", "", "", "MariaDB"
    );
    println!(
        "{:<6} {:<8} {:>8} {:>9} {:>7} {:>7} {:>6} {:>6} | {:>8} {:>6} {:>6} | {:>6} {:>11}",
        "leg",
        "target",
        "tps",
        "qps",
        "avg ms",
        "p95 ms",
        "errors",
        "reconn",
        "sysbench",
        "maria",
        "door",
        "opened",
        "Connections"
    );
    let mut ratios = String::new();
    for (leg, side, r, cpu, reuse) in rows {
        let [opened, maria] = reuse.unwrap_or([None; 2]);
        let proxy = *side == Side::Proxy;
        println!(
            "{:<6} {:<8} {:>8.1} {:>9.1} {:>7.2} {:>7.2} {:>6} {:>6} | {:>8.1} {:>6.1} {:>6} | {:>6} {:>11}",
            leg.name(),
            side.name(),
            r.tps,
            r.qps,
            r.avg_ms,
            r.p95_ms,
            r.errors,
            r.reconnects,
            cpu[0],
            cpu[1],
            if proxy { format!("{:.1}", cpu[2]) } else { "-".into() },
            opt(opened),
            if proxy { opt(maria) } else { "-".into() },
        );
        if proxy {
            if let Some((_, _, d, _, _)) = rows
                .iter()
                .find(|(l, s, _, _, _)| l == leg && *s == Side::Direct)
            {
                let _ = writeln!(
                    ratios,
                    "{:<6} tps ×{:.3} ({:+.1} %)   avg latency ×{:.2}   p95 ×{:.2}",
                    leg.name(),
                    r.tps / d.tps,
                    (r.tps / d.tps - 1.0) * 100.0,
                    r.avg_ms / d.avg_ms,
                    r.p95_ms / d.p95_ms,
                );
            }
        }
    }
    if !ratios.is_empty() {
        println!("\nproxy / MariaDB direct:\n{ratios}");
    }
}
