//! Connection storm, side by side (issue 14): Vestibule against a bare tokio floor and MariaDB,
//! then a full-authentication flood, then memory per connection at scale.
//!
//! 1. **Storm.** Eight client threads each open connection after connection for a fixed time:
//!    connect, greeting, (TLS), HandshakeResponse41, the server's answer, COM_QUIT, close. For
//!    each transport (plain, TLS 1.2, TLS 1.3, TLS 1.3 resumed) and each target it reports
//!    logins/s, p50/p99 latency (connect to the final OK) and the **server process's CPU per
//!    connection**: utime + stime from /proc/PID/stat (clock ticks of 10 ms) over the measured
//!    run, ÷ connections. The targets:
//!    - **floor**: a bare tokio server in a child process (this bench binary re-run with
//!      `--floor-server`): accepts, writes a 78-byte greeting, on an SSLRequest runs the TLS
//!      handshake (tokio-rustls, rustls's default server configuration, Vestibule's own
//!      certificate and key), reads the client's HandshakeResponse41 and writes a constant
//!      `01 03` + OK (no verification), then reads until the client closes;
//!    - **Vestibule**: the release binary (`CARGO_BIN_EXE_vestibule`, built by `cargo bench`) at
//!      its default settings (info log level, so one audit line per login; auto-generated ECDSA
//!      P-256 certificates), root logging in on the caching_sha2_password fast path;
//!    - **Vest. quiet**: the same with `--log-level info,vestibule::audit=off`, which drops the
//!      audit line each login writes at the default level: what that line costs;
//!    - **MariaDB**: Debian's `mariadbd` on a private port and data directory
//!      (tests/common/mariadb.rs, with its ECDSA P-256 certificate), `app` logging in with
//!      mysql_native_password (MariaDB 10.11 has no caching_sha2_password). Skipped, with a
//!      notice, when `mariadbd` is absent.
//!
//!    The client is the same for all three (blocking sockets, rustls with aws-lc-rs offering
//!    X25519 first as OpenSSL 3.0 clients do; session resumption off except in the "resumed"
//!    row, where the eight threads share rustls's in-memory session store per target).
//! 2. **Full-auth flood** (Vestibule): four clients on the plain-TCP fast path alone, then the
//!    same four while four more log in over the Unix socket with a wrong password (never
//!    cached: every attempt is a full SHA-256-crypt check, ending in 1045). Both groups' p50/p99,
//!    and whether the fast path's p99 moved by less than 2×.
//! 3. **Memory at scale** (Vestibule): RSS growth per connection (VmRSS, KiB) with 2,000 and
//!    10,000 idle connections of each kind — authenticated plain, authenticated TLS 1.3, and
//!    unauthenticated peers that stop after the greeting — each on a fresh server with
//!    `--max-connections N`. The server is started with a soft RLIMIT_NOFILE of 1024 (through
//!    util-linux's `prlimit`, when present) as many shells and service managers give; if it has
//!    not raised the limit itself (`vestibule::server::rlimit::raise_nofile`), the bench raises
//!    it from outside (prlimit(2)) and says so. At N connections, two more logins show the limit:
//!    the administrator's extra slot, then 1040, and the server still serving afterwards.
//!
//! `cargo bench --bench storm` runs everything (about 2 minutes; `VESTIBULE_BIN=path` runs
//! another build of the server; `-- --only storm|flood|memory` runs one part); under
//! `cargo test --benches`
//! (no `--bench` argument) it runs a few connections of each kind as a smoke test.

#[path = "../tests/common/mod.rs"]
mod common;

use std::io::{BufRead, Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::client::{ClientConnection, Resumption};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, HandshakeKind, RootCertStore, StreamOwned};

use common::mariadb::{MariaDb, Options as MariaOptions, APP_PW, APP_USER};
use common::{read_packet, rss_kib, write_packet, ROOT_PW};
use vestibule::auth::{caching_sha2, native, Nonce};
use vestibule::wire::handshake::{
    encode_ssl_request, AuthSwitchRequest, ClientHeader, HandshakeResponse41, HandshakeV10,
};
use vestibule::wire::packets::ErrPacket;
use vestibule::wire::*;

/// Concurrent clients of the storm.
const CLIENTS: usize = 8;

/// How much of everything to do.
struct Plan {
    /// Measured time of one storm row (all clients stop at the deadline).
    storm_for: Duration,
    /// Connections per client at most (the smoke run's bound).
    per_client: usize,
    /// Connections per client before a row, not measured.
    warmup: usize,
    /// Each half of the flood.
    flood_for: Duration,
    /// Connection counts of the memory part.
    scale: &'static [usize],
    /// A fresh server for each kind and count of the memory part (else one for all).
    fresh_servers: bool,
}

const FULL: Plan = Plan {
    storm_for: Duration::from_secs(4),
    per_client: usize::MAX,
    warmup: 20,
    flood_for: Duration::from_secs(5),
    scale: &[2_000, 10_000],
    fresh_servers: true,
};

const SMOKE: Plan = Plan {
    storm_for: Duration::from_secs(2),
    per_client: 2,
    warmup: 1,
    flood_for: Duration::from_millis(300),
    scale: &[20],
    fresh_servers: false,
};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--floor-server") {
        floor_server(Path::new(&args[i + 1]), Path::new(&args[i + 2]));
        return;
    }
    let full = args.iter().any(|a| a == "--bench");
    let plan = if full { FULL } else { SMOKE };
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1))
        .map(String::as_str);
    let runs = |part: &str| only.is_none_or(|o| o == part);
    // The memory part holds 10,000 client sockets in this process.
    let (before, after) = vestibule::server::rlimit::raise_nofile(30_000)
        .expect("raise this process's RLIMIT_NOFILE");
    let started = Instant::now();
    println!(
        "storm bench: {} CPUs, load average {}; this process's RLIMIT_NOFILE soft {before} -> {after}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_average()
    );
    if runs("storm") || runs("flood") {
        // Vestibule at its default settings, for the storm and the flood.
        let door = Door::start(&[], None);
        door.fill_cache();
        if runs("storm") {
            // The same without the audit line every login writes at the default level: what
            // it costs.
            let quiet = Door::start(&["--log-level", "info,vestibule::audit=off"], None);
            quiet.fill_cache();
            side_by_side(&plan, &door, &quiet);
        }
        if runs("flood") {
            flood(&plan, &door);
        }
    }
    if runs("memory") {
        memory(&plan);
    }
    println!(
        "\nstorm bench done in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

// =============================================================================================
// 1. Side-by-side storm
// =============================================================================================

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Transport {
    Plain,
    Tls12,
    Tls13,
    Tls13Resumed,
}

impl Transport {
    const ALL: [Transport; 4] = [
        Transport::Plain,
        Transport::Tls12,
        Transport::Tls13,
        Transport::Tls13Resumed,
    ];
    fn name(self) -> &'static str {
        match self {
            Transport::Plain => "plain",
            Transport::Tls12 => "TLS 1.2",
            Transport::Tls13 => "TLS 1.3",
            Transport::Tls13Resumed => "TLS 1.3 resumed",
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Auth {
    CachingSha2,
    Native,
}

/// Where a storm logs in, and as whom.
struct Target {
    name: &'static str,
    port: u16,
    pid: u32,
    user: &'static str,
    pw: &'static str,
    auth: Auth,
    /// The CA its certificate chains to.
    ca: PathBuf,
}

struct Row {
    transport: Transport,
    target: &'static str,
    storm: Storm,
    /// Server CPU per connection, µs (None: fewer than two clock ticks measured).
    cpu_us: Option<f64>,
}

fn side_by_side(plan: &Plan, door: &Door, quiet: &Door) {
    println!("\n== 1. storm: {CLIENTS} concurrent clients, a new connection per login ==");
    let floor = Floor::start(&door.datadir());
    let maria = if mariadbd_installed() {
        Some(MariaDb::start_with(MariaOptions {
            tls: true,
            args: vec![],
        }))
    } else {
        println!(
            "mariadbd not found (apt-get install mariadb-server): the MariaDB column is skipped"
        );
        None
    };
    let mut targets = vec![
        Target {
            name: "floor",
            port: floor.port,
            pid: floor.child.id(),
            user: "root",
            pw: ROOT_PW,
            auth: Auth::CachingSha2,
            ca: door.datadir().join("ca.pem"),
        },
        Target {
            name: "Vestibule",
            port: door.port(),
            pid: door.pid(),
            user: "root",
            pw: ROOT_PW,
            auth: Auth::CachingSha2,
            ca: door.datadir().join("ca.pem"),
        },
        Target {
            name: "Vest. quiet",
            port: quiet.port(),
            pid: quiet.pid(),
            user: "root",
            pw: ROOT_PW,
            auth: Auth::CachingSha2,
            ca: quiet.datadir().join("ca.pem"),
        },
    ];
    if let Some(db) = &maria {
        targets.push(Target {
            name: "MariaDB",
            port: db.port(),
            pid: db.pid(),
            user: APP_USER,
            pw: APP_PW,
            auth: Auth::Native,
            ca: db.ca().expect("the MariaDB fixture's CA"),
        });
        println!("MariaDB: {}", mariadbd_version());
    }
    let mut rows = Vec::new();
    // `STORM_ONLY=plain` (or a target's name, or both: `STORM_ONLY=plain,Vestibule`) narrows the
    // rows, for profiling one of them.
    let only = std::env::var("STORM_ONLY").unwrap_or_default();
    let wanted = |name: &str| {
        let names = ["plain", "TLS 1.2", "TLS 1.3", "TLS 1.3 resumed"];
        let picked: Vec<&str> = only.split(',').filter(|w| names.contains(w)).collect();
        picked.is_empty() || picked.contains(&name)
    };
    let wanted_target = |name: &str| {
        let picked: Vec<&str> = only
            .split(',')
            .filter(|w| targets.iter().any(|t| t.name == *w))
            .collect();
        picked.is_empty() || picked.contains(&name)
    };
    for transport in Transport::ALL.into_iter().filter(|t| wanted(t.name())) {
        for t in targets.iter().filter(|t| wanted_target(t.name)) {
            // One client configuration per row: the resumed row's session store starts empty
            // and fills during the warm-up.
            let tls = client_config(&t.ca, transport);
            let warm = storm(
                t,
                tls.as_ref(),
                CLIENTS,
                plan.warmup,
                Duration::from_secs(30),
            );
            assert!(
                warm.errors.is_empty(),
                "{} {}: warm-up failed: {:?}\n{}",
                t.name,
                transport.name(),
                warm.errors.first(),
                if t.name == "Vestibule" {
                    door.log_tail()
                } else {
                    String::new()
                }
            );
            let cpu0 = cpu_ticks(t.pid);
            let s = storm(t, tls.as_ref(), CLIENTS, plan.per_client, plan.storm_for);
            let cpu1 = cpu_ticks(t.pid);
            assert!(
                s.errors.is_empty(),
                "{} {}: {} failed logins, first: {:?}",
                t.name,
                transport.name(),
                s.errors.len(),
                s.errors.first()
            );
            let ticks = cpu1.saturating_sub(cpu0);
            let cpu_us = (ticks >= 2).then(|| ticks as f64 * 10_000.0 / s.lat.len() as f64);
            rows.push(Row {
                transport,
                target: t.name,
                storm: s,
                cpu_us,
            });
        }
    }
    print_storm(&rows);
    drop(maria);
}

/// Outcome of one storm.
struct Storm {
    /// Sorted latencies of the successful logins.
    lat: Vec<Duration>,
    rate: f64,
    /// Logins whose TLS session was resumed.
    resumed: usize,
    errors: Vec<String>,
}

/// `clients` threads, each logging in until `per_client` logins or the deadline.
fn storm(
    t: &Target,
    tls: Option<&Arc<ClientConfig>>,
    clients: usize,
    per_client: usize,
    run_for: Duration,
) -> Storm {
    let start = Instant::now();
    let deadline = start + run_for;
    let per: Vec<(Vec<Duration>, usize, Vec<String>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..clients)
            .map(|_| {
                scope.spawn(move || {
                    let (mut lat, mut resumed, mut errors) = (Vec::new(), 0, Vec::new());
                    while lat.len() + errors.len() < per_client && Instant::now() < deadline {
                        let began = Instant::now();
                        match tcp(t.port).and_then(|s| login(s, t.user, t.pw, t.auth, tls)) {
                            Ok(l) if l.reply.is_success() => {
                                lat.push(began.elapsed());
                                resumed += usize::from(l.resumed);
                                l.conn.quit();
                            }
                            Ok(l) => errors.push(format!("{:?}", l.reply)),
                            Err(e) => errors.push(e.to_string()),
                        }
                    }
                    (lat, resumed, errors)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let elapsed = start.elapsed().as_secs_f64();
    let mut out = Storm {
        lat: Vec::new(),
        rate: 0.0,
        resumed: 0,
        errors: Vec::new(),
    };
    for (lat, resumed, errors) in per {
        out.lat.extend(lat);
        out.resumed += resumed;
        out.errors.extend(errors);
    }
    out.lat.sort();
    out.rate = out.lat.len() as f64 / elapsed;
    out
}

fn print_storm(rows: &[Row]) {
    println!(
        "{:<16} {:<11} {:>7} {:>9} {:>8} {:>8} {:>12} {:>8}",
        "transport", "target", "logins", "logins/s", "p50 ms", "p99 ms", "CPU µs/conn", "resumed"
    );
    for r in rows {
        let s = &r.storm;
        println!(
            "{:<16} {:<11} {:>7} {:>9.0} {:>8.3} {:>8.3} {:>12} {:>7.0}%",
            r.transport.name(),
            r.target,
            s.lat.len(),
            s.rate,
            ms(pct(&s.lat, 0.5)),
            ms(pct(&s.lat, 0.99)),
            r.cpu_us.map_or("-".into(), |c| format!("{c:.1}")),
            100.0 * s.resumed as f64 / s.lat.len().max(1) as f64,
        );
    }
    println!("\nratios (server CPU per connection; logins/s)");
    for transport in Transport::ALL {
        let find = |name: &str| {
            rows.iter()
                .find(|r| r.transport == transport && r.target == name)
        };
        let (Some(floor), Some(door)) = (find("floor"), find("Vestibule")) else {
            continue;
        };
        let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) if b > 0.0 => format!("×{:.2}", a / b),
            _ => "-".into(),
        };
        let mut line = format!(
            "{:<16} Vestibule/floor CPU {} (logins/s ×{:.2})",
            transport.name(),
            ratio(door.cpu_us, floor.cpu_us),
            door.storm.rate / floor.storm.rate
        );
        if let Some(q) = find("Vest. quiet") {
            line.push_str(&format!(
                "   Vest. quiet/floor CPU {}",
                ratio(q.cpu_us, floor.cpu_us)
            ));
        }
        if let Some(m) = find("MariaDB") {
            line.push_str(&format!(
                "   MariaDB/Vestibule CPU {} (logins/s ×{:.2})",
                ratio(m.cpu_us, door.cpu_us),
                m.storm.rate / door.storm.rate
            ));
        }
        println!("{line}");
    }
}

// =============================================================================================
// 2. Full-auth flood
// =============================================================================================

fn flood(plan: &Plan, door: &Door) {
    println!("\n== 2. full-auth flood (Vestibule): 4 fast-path clients (plain TCP), 4 full-auth clients (Unix socket, wrong password) ==");
    let fast = Target {
        name: "Vestibule",
        port: door.port(),
        pid: door.pid(),
        user: "root",
        pw: ROOT_PW,
        auth: Auth::CachingSha2,
        ca: door.datadir().join("ca.pem"),
    };
    let per = if plan.per_client == usize::MAX {
        usize::MAX
    } else {
        plan.per_client * 2
    };
    let _ = storm(&fast, None, 4, plan.warmup, Duration::from_secs(30));
    let cpu0 = cpu_ticks(fast.pid);
    let alone = storm(&fast, None, 4, per, plan.flood_for);
    let cpu1 = cpu_ticks(fast.pid);
    let (under, full, cpu2) = std::thread::scope(|scope| {
        let sock = door.socket();
        let deadline = Instant::now() + plan.flood_for;
        let flooders: Vec<_> = (0..4)
            .map(|_| {
                let sock = sock.clone();
                scope.spawn(move || {
                    let (mut lat, mut errors) = (Vec::new(), Vec::new());
                    while lat.len() + errors.len() < per && Instant::now() < deadline {
                        let began = Instant::now();
                        let r = UnixStream::connect(&sock).map(Conn::Unix).and_then(|s| {
                            login(s, "root", "not-the-password", Auth::CachingSha2, None)
                        });
                        match r {
                            Ok(l) if l.reply == Reply::Err(1045) && l.full => {
                                lat.push(began.elapsed())
                            }
                            Ok(l) => errors.push(format!("{:?} (full: {})", l.reply, l.full)),
                            Err(e) => errors.push(e.to_string()),
                        }
                    }
                    (lat, errors)
                })
            })
            .collect();
        let under = storm(&fast, None, 4, per, plan.flood_for);
        let mut full = (Vec::new(), Vec::new());
        for h in flooders {
            let (l, e) = h.join().unwrap();
            full.0.extend(l);
            full.1.extend(e);
        }
        full.0.sort();
        (under, full, cpu_ticks(fast.pid))
    });
    assert!(
        alone.errors.is_empty() && under.errors.is_empty(),
        "fast path errors: {:?} {:?}",
        alone.errors.first(),
        under.errors.first()
    );
    assert!(full.1.is_empty(), "full-auth group: {:?}", full.1.first());
    let secs = plan.flood_for.as_secs_f64();
    println!(
        "{:<34} {:>7} {:>9} {:>8} {:>8} {:>12}",
        "group", "logins", "logins/s", "p50 ms", "p99 ms", "server CPU s"
    );
    let line = |name: &str, lat: &[Duration], cpu: Option<u64>| {
        println!(
            "{:<34} {:>7} {:>9.0} {:>8.3} {:>8.3} {:>12}",
            name,
            lat.len(),
            lat.len() as f64 / secs,
            ms(pct(lat, 0.5)),
            ms(pct(lat, 0.99)),
            cpu.map_or(String::new(), |t| format!("{:.2}", t as f64 / 100.0)),
        )
    };
    line("fast path alone", &alone.lat, Some(cpu1 - cpu0));
    line("fast path during the flood", &under.lat, Some(cpu2 - cpu1));
    line("full auth (the flood)", &full.0, None);
    let moved = pct(&under.lat, 0.99).as_secs_f64() / pct(&alone.lat, 0.99).as_secs_f64().max(1e-9);
    println!(
        "fast-path p99 moved ×{moved:.2} under the flood (goal < ×2: {}); p50 ×{:.2}",
        if moved < 2.0 { "met" } else { "NOT met" },
        pct(&under.lat, 0.5).as_secs_f64() / pct(&alone.lat, 0.5).as_secs_f64().max(1e-9)
    );
}

// =============================================================================================
// 3. Memory at scale
// =============================================================================================

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Idle {
    Plain,
    Tls,
    /// Connects, reads the greeting and sends nothing more.
    Unauthenticated,
}

impl Idle {
    fn name(self) -> &'static str {
        match self {
            Idle::Plain => "authenticated, plain",
            Idle::Tls => "authenticated, TLS 1.3",
            Idle::Unauthenticated => "unauthenticated (after greeting)",
        }
    }
}

fn memory(plan: &Plan) {
    println!("\n== 3. memory at scale (Vestibule): RSS growth per idle connection ==");
    let prlimit = on_path("prlimit");
    if !prlimit {
        println!(
            "(util-linux prlimit not found: the server starts with this process's RLIMIT_NOFILE)"
        );
    }
    println!(
        "{:<34} {:>6} {:>10} {:>10} {:>12} {:>22}",
        "connections", "N", "RSS0 KiB", "RSS KiB", "KiB / conn", "server RLIMIT_NOFILE"
    );
    let mut notes = Vec::new();
    for &n in plan.scale {
        let max = n.to_string();
        // Unauthenticated peers would be dropped after connect_timeout (10 s) while the
        // others are still being opened.
        let start = || {
            Door::start(
                &["--max-connections", &max, "--connect-timeout", "300"],
                prlimit.then_some(1024),
            )
        };
        let shared = (!plan.fresh_servers).then(start);
        for kind in [Idle::Plain, Idle::Tls, Idle::Unauthenticated] {
            let fresh = plan.fresh_servers.then(start);
            let door = fresh.as_ref().or(shared.as_ref()).expect("a server");
            let pid = door.pid();
            let (soft0, hard) = nofile_of(pid);
            let needed = n as u64 + 200;
            let started_with = if prlimit { 1024 } else { soft0 };
            let limit_note = if soft0 > started_with {
                format!("{started_with} -> {soft0} (by itself)")
            } else if soft0 >= needed {
                format!("{soft0}")
            } else {
                let to = needed
                    .max(vestibule::server::rlimit::wanted_for(n as u32))
                    .min(hard);
                raise_nofile_of(pid, to);
                let (now, _) = nofile_of(pid);
                if !notes.iter().any(|s: &String| s.contains("from outside")) {
                    notes.push(format!(
                        "the server kept its soft RLIMIT_NOFILE of {soft0} (hard {hard}): raised from outside with prlimit(2) to {now}"
                    ));
                }
                format!("{soft0} -> {now} (bench)")
            };
            door.fill_cache();
            let mut admin = door.root_session();
            let tls = client_config(&door.datadir().join("ca.pem"), Transport::Tls13);
            // Warm-up: one login of each kind, closed, so that one-off allocations (the TLS
            // configuration's first use, the cache entry) are in the baseline.
            for _ in 0..3 {
                let c = hold_one(door.port(), Idle::Tls, tls.as_ref()).expect("warm-up TLS");
                c.quit();
                let c = hold_one(door.port(), Idle::Plain, None).expect("warm-up plain");
                c.quit();
            }
            wait_connected(&mut admin, 1);
            std::thread::sleep(Duration::from_millis(300));
            let rss0 = rss_kib(pid);
            let held = hold(door.port(), kind, tls.as_ref(), n);
            wait_connected(&mut admin, n as u64 + 1);
            std::thread::sleep(Duration::from_millis(500));
            let rss1 = rss_kib(pid);
            println!(
                "{:<34} {:>6} {:>10} {:>10} {:>12.2} {:>22}",
                kind.name(),
                n,
                rss0,
                rss1,
                (rss1 as f64 - rss0 as f64) / n as f64,
                limit_note
            );
            // The monitoring session goes first: with it, N + 1 connections would be open
            // and the administrator's extra slot taken.
            admin.quit();
            if kind == Idle::Plain && n == *plan.scale.last().unwrap() {
                notes.push(at_the_limit(door, n, held));
            } else {
                drop(held);
            }
        }
    }
    for n in notes {
        println!("{n}");
    }
}

/// With `n` = max_connections connections open: the administrator's extra slot, then 1040, then
/// a login after one connection closed.
fn at_the_limit(door: &Door, n: usize, mut held: Vec<Conn>) -> String {
    let root = || match tcp(door.port())
        .and_then(|s| login(s, "root", ROOT_PW, Auth::CachingSha2, None))
    {
        Ok(l) if l.reply.is_success() => Ok(l.conn),
        Ok(l) => Err(format!("{:?}", l.reply)),
        Err(e) => Err(e.to_string()),
    };
    let show = |r: &Result<Conn, String>| match r {
        Ok(_) => "logged in".to_string(),
        Err(e) => e.clone(),
    };
    // The monitoring session's COM_QUIT has reached the server.
    std::thread::sleep(Duration::from_millis(300));
    let extra = root();
    let extra_text = show(&extra);
    let refused = root();
    let refused_text = show(&refused);
    held.extend(extra);
    held.extend(refused);
    // One of the N goes: the next login takes its place.
    drop(held.swap_remove(0));
    let (_, after) = wait_for(Duration::from_secs(5), || {
        let r = root();
        let text = show(&r);
        (r.is_ok(), text)
    });
    let accept_errors = door.srv.log().matches("accept failed").count();
    drop(held);
    format!(
        "at max_connections = {n} (all {n} open): connection {} (root, the administrator's extra slot): {extra_text}; connection {}: {refused_text}; after one closed: {after}; accept errors logged: {accept_errors}",
        n + 1,
        n + 2
    )
}

fn hold(port: u16, kind: Idle, tls: Option<&Arc<ClientConfig>>, n: usize) -> Vec<Conn> {
    // Two threads: opening 10,000 TLS sessions takes a few seconds.
    std::thread::scope(|scope| {
        let hs: Vec<_> = (0..2)
            .map(|i| {
                scope.spawn(move || {
                    let count = n / 2 + if i == 0 { n % 2 } else { 0 };
                    (0..count)
                        .map(|_| {
                            hold_one(port, kind, tls)
                                .unwrap_or_else(|e| panic!("{}: {e}", kind.name()))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        hs.into_iter().flat_map(|h| h.join().unwrap()).collect()
    })
}

fn hold_one(port: u16, kind: Idle, tls: Option<&Arc<ClientConfig>>) -> std::io::Result<Conn> {
    let s = tcp(port)?;
    match kind {
        Idle::Unauthenticated => {
            let mut s = s;
            read_packet(&mut s)?;
            Ok(s)
        }
        Idle::Plain | Idle::Tls => {
            let l = login(
                s,
                "root",
                ROOT_PW,
                Auth::CachingSha2,
                if kind == Idle::Tls { tls } else { None },
            )?;
            if !l.reply.is_success() {
                return Err(std::io::Error::other(format!("{:?}", l.reply)));
            }
            Ok(l.conn)
        }
    }
}

/// Waits until `Threads_connected` is `n`.
fn wait_connected(admin: &mut Session, n: u64) {
    let (ok, last) = wait_for(Duration::from_secs(30), || {
        let now = admin.status("Threads_connected");
        (now == n, now)
    });
    assert!(ok, "Threads_connected stayed at {last}, expected {n}");
}

fn wait_for<T>(limit: Duration, mut f: impl FnMut() -> (bool, T)) -> (bool, T) {
    let deadline = Instant::now() + limit;
    loop {
        let (ok, v) = f();
        if ok || Instant::now() > deadline {
            return (ok, v);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// (soft, hard) RLIMIT_NOFILE of another process.
fn nofile_of(pid: u32) -> (u64, u64) {
    let text = std::fs::read_to_string(format!("/proc/{pid}/limits")).expect("limits");
    let line = text
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .expect("Max open files");
    let v: Vec<u64> = line
        .split_whitespace()
        .filter_map(|w| {
            if w == "unlimited" {
                Some(u64::MAX)
            } else {
                w.parse().ok()
            }
        })
        .collect();
    (v[0], v[1])
}

fn raise_nofile_of(pid: u32, soft: u64) {
    use rustix::process::{prlimit, Pid, Resource, Rlimit};
    let (_, hard) = nofile_of(pid);
    prlimit(
        Pid::from_raw(pid as i32),
        Resource::Nofile,
        Rlimit {
            current: Some(soft),
            maximum: (hard != u64::MAX).then_some(hard),
        },
    )
    .unwrap_or_else(|e| panic!("prlimit({pid}, NOFILE, {soft}): {e}"));
}

// =============================================================================================
// The client
// =============================================================================================

/// A client connection: TCP, TLS over TCP, or the Unix socket.
enum Conn {
    Tcp(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
    Unix(UnixStream),
}

impl Read for Conn {
    fn read(&mut self, b: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Conn::Tcp(s) => s.read(b),
            Conn::Tls(s) => s.read(b),
            Conn::Unix(s) => s.read(b),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        match self {
            Conn::Tcp(s) => s.write(b),
            Conn::Tls(s) => s.write(b),
            Conn::Unix(s) => s.write(b),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Conn::Tcp(s) => s.flush(),
            Conn::Tls(s) => s.flush(),
            Conn::Unix(s) => s.flush(),
        }
    }
}

impl Conn {
    /// COM_QUIT, then close.
    fn quit(mut self) {
        let _ = write_packet(&mut self, 0, &[0x01]);
    }
}

fn tcp(port: u16) -> std::io::Result<Conn> {
    let s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_nodelay(true)?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    Ok(Conn::Tcp(s))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reply {
    /// `01 03` then OK.
    FastPath,
    /// OK after a full authentication (`01 04`, cleartext password).
    Full,
    /// OK at once, or after an authentication switch (mysql_native_password).
    Ok,
    Err(u16),
}

impl Reply {
    fn is_success(self) -> bool {
        !matches!(self, Reply::Err(_))
    }
}

struct LoggedIn {
    reply: Reply,
    /// The server asked for the full authentication (`01 04`).
    full: bool,
    resumed: bool,
    conn: Conn,
}

/// The 20-byte nonce of a HandshakeV10 (MySQL's or MariaDB's layout).
fn greeting_nonce(p: &[u8]) -> std::io::Result<[u8; 20]> {
    let bad = || std::io::Error::other(format!("not a greeting: {:02x?}", &p[..p.len().min(16)]));
    if p.first() != Some(&10) {
        return Err(bad());
    }
    let v_end = 1 + p[1..].iter().position(|&b| b == 0).ok_or_else(bad)?;
    let n1 = v_end + 1 + 4;
    // n1: 8 bytes, filler, caps (2), charset, status (2), caps (2), length, 10 reserved.
    let n2 = n1 + 8 + 1 + 2 + 1 + 2 + 2 + 1 + 10;
    if p.len() < n2 + 12 {
        return Err(bad());
    }
    let mut nonce = [0u8; 20];
    nonce[..8].copy_from_slice(&p[n1..n1 + 8]);
    nonce[8..].copy_from_slice(&p[n2..n2 + 12]);
    Ok(nonce)
}

fn err_code(p: &[u8]) -> Reply {
    Reply::Err(ErrPacket::parse(p).map_or(0, |e| e.code))
}

/// One login: greeting, (SSLRequest and TLS), HandshakeResponse41 with `auth`'s scramble, and
/// what follows (`01 03` + OK, `01 04` + cleartext + OK/ERR, an authentication switch, OK, ERR).
fn login(
    mut s: Conn,
    user: &str,
    pw: &str,
    auth: Auth,
    tls: Option<&Arc<ClientConfig>>,
) -> std::io::Result<LoggedIn> {
    let (_, greeting) = read_packet(&mut s)?;
    if greeting.first() == Some(&0xFF) {
        // 1040 (or 1129) before the greeting.
        return Ok(LoggedIn {
            reply: err_code(&greeting),
            full: false,
            resumed: false,
            conn: s,
        });
    }
    let nonce = greeting_nonce(&greeting)?;
    let mut caps = CLIENT_PROTOCOL_41
        | CLIENT_SECURE_CONNECTION
        | CLIENT_PLUGIN_AUTH
        | CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA
        | CLIENT_LONG_PASSWORD
        | CLIENT_TRANSACTIONS
        | CLIENT_DEPRECATE_EOF;
    // utf8mb4: MySQL 8's default collation, or MariaDB 10.11's.
    let character_set = if auth == Auth::CachingSha2 { 255 } else { 45 };
    let mut seq = 1u8;
    let mut resumed = false;
    if let Some(cfg) = tls {
        caps |= CLIENT_SSL;
        let header = ClientHeader {
            capabilities: caps,
            max_packet_size: 1 << 24,
            character_set,
        };
        write_packet(&mut s, seq, &encode_ssl_request(&header))?;
        seq += 1;
        let Conn::Tcp(tcp) = s else {
            return Err(std::io::Error::other("TLS on TCP only"));
        };
        let conn = ClientConnection::new(
            cfg.clone(),
            ServerName::try_from("localhost").expect("name"),
        )
        .map_err(std::io::Error::other)?;
        let mut t = StreamOwned::new(conn, tcp);
        while t.conn.is_handshaking() {
            t.conn.complete_io(&mut t.sock)?;
        }
        resumed = t.conn.handshake_kind() == Some(HandshakeKind::Resumed);
        s = Conn::Tls(Box::new(t));
    }
    let scramble = |nonce: &[u8; 20], plugin: Auth| -> Vec<u8> {
        let n = Nonce::from_wire(*nonce);
        match plugin {
            Auth::CachingSha2 => caching_sha2::client_scramble(pw.as_bytes(), &n).to_vec(),
            Auth::Native => native::client_scramble(pw.as_bytes(), &n).to_vec(),
        }
    };
    let resp = HandshakeResponse41 {
        header: ClientHeader {
            capabilities: caps,
            max_packet_size: 1 << 24,
            character_set,
        },
        username: user.as_bytes().to_vec(),
        auth_response: scramble(&nonce, auth),
        database: None,
        client_plugin: Some(
            match auth {
                Auth::CachingSha2 => "caching_sha2_password",
                Auth::Native => "mysql_native_password",
            }
            .as_bytes()
            .to_vec(),
        ),
        connect_attrs: vec![],
        zstd_level: None,
    };
    write_packet(&mut s, seq, &resp.encode())?;
    let (rseq, p) = read_packet(&mut s)?;
    let mut full = false;
    let reply = match p.as_slice() {
        [1, 3] => {
            let (_, ok) = read_packet(&mut s)?;
            if ok.first() == Some(&0) {
                Reply::FastPath
            } else {
                err_code(&ok)
            }
        }
        [1, 4] => {
            full = true;
            let mut clear = pw.as_bytes().to_vec();
            clear.push(0);
            write_packet(&mut s, rseq.wrapping_add(1), &clear)?;
            let (_, r) = read_packet(&mut s)?;
            if r.first() == Some(&0) {
                Reply::Full
            } else {
                err_code(&r)
            }
        }
        [0x00, ..] => Reply::Ok,
        [0xFE, ..] => {
            let sw =
                AuthSwitchRequest::parse(&p).map_err(|e| std::io::Error::other(e.to_string()))?;
            let plugin = match sw.plugin_name.as_slice() {
                b"mysql_native_password" => Auth::Native,
                b"caching_sha2_password" => Auth::CachingSha2,
                other => {
                    return Err(std::io::Error::other(format!(
                        "switch to {}",
                        String::from_utf8_lossy(other)
                    )))
                }
            };
            let n: [u8; 20] = sw
                .plugin_data
                .get(..20)
                .and_then(|d| d.try_into().ok())
                .ok_or_else(|| std::io::Error::other("short switch nonce"))?;
            write_packet(&mut s, rseq.wrapping_add(1), &scramble(&n, plugin))?;
            let (_, r) = read_packet(&mut s)?;
            match r.first() {
                Some(0) => Reply::Ok,
                _ => err_code(&r),
            }
        }
        [0xFF, ..] => err_code(&p),
        other => {
            return Err(std::io::Error::other(format!(
                "unexpected reply {:02x?}",
                &other[..other.len().min(8)]
            )))
        }
    };
    Ok(LoggedIn {
        reply,
        full,
        resumed,
        conn: s,
    })
}

/// The client's TLS configuration for a transport (None: plain): rustls with aws-lc-rs,
/// trusting `ca`, offering X25519 first (as OpenSSL 3.0 clients do); session resumption only
/// for [`Transport::Tls13Resumed`].
fn client_config(ca: &Path, t: Transport) -> Option<Arc<ClientConfig>> {
    use rustls::crypto::aws_lc_rs::{default_provider, kx_group};
    if t == Transport::Plain {
        return None;
    }
    let mut roots = RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(ca).expect("read CA") {
        roots.add(c.expect("CA PEM")).expect("add CA");
    }
    let mut provider = default_provider();
    provider.kx_groups = vec![kx_group::X25519, kx_group::SECP256R1, kx_group::SECP384R1];
    let versions: &[&rustls::SupportedProtocolVersion] = match t {
        Transport::Tls12 => &[&rustls::version::TLS12],
        _ => &[&rustls::version::TLS13],
    };
    let mut cfg = ClientConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(versions)
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    if t != Transport::Tls13Resumed {
        cfg.resumption = Resumption::disabled();
    }
    Some(Arc::new(cfg))
}

/// root over the Unix socket (a full authentication: the socket takes the cleartext).
struct Session(Conn);

impl Session {
    fn status(&mut self, name: &str) -> u64 {
        let sql = format!("SHOW GLOBAL STATUS LIKE '{name}'");
        let mut p = vec![0x03];
        p.extend_from_slice(sql.as_bytes());
        write_packet(&mut self.0, 0, &p).expect("query");
        let (_, first) = read_packet(&mut self.0).expect("column count");
        assert!(
            first.first() != Some(&0xFF),
            "{sql}: {:?}",
            err_code(&first)
        );
        let ncols = first[0] as usize;
        for _ in 0..ncols {
            read_packet(&mut self.0).expect("column");
        }
        let mut value = 0;
        loop {
            let (_, r) = read_packet(&mut self.0).expect("row");
            if r.first() == Some(&0xFE) && r.len() < 9 {
                return value;
            }
            // Two length-encoded strings (< 251 bytes each).
            let name_len = r[0] as usize;
            let v = &r[name_len + 2..name_len + 2 + r[name_len + 1] as usize];
            value = std::str::from_utf8(v)
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
        }
    }

    fn quit(self) {
        self.0.quit();
    }
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// utime + stime of a process, clock ticks (10 ms), from /proc/PID/stat.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // After the command name (in parentheses, may hold spaces) the state is field 3; utime and
    // stime are fields 14 and 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn on_path(prog: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|p| p.join(prog).is_file()))
}

fn mariadbd_installed() -> bool {
    Path::new("/usr/sbin/mariadbd").is_file() || on_path("mariadbd")
}

fn mariadbd_version() -> String {
    let bin = if on_path("mariadbd") {
        "mariadbd".into()
    } else {
        "/usr/sbin/mariadbd".to_string()
    };
    Command::new(bin)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

// =============================================================================================
// Vestibule: the release binary at its default settings
// =============================================================================================

/// A running `vestibule` at its default log level (tests/common's `Server` logs at debug unless
/// told otherwise), launched by tests/common's watchdog.
struct Door {
    srv: common::Server,
}

impl Door {
    /// `nofile`: start it with this soft RLIMIT_NOFILE (util-linux `prlimit`).
    fn start(extra: &[&str], nofile: Option<u64>) -> Door {
        let dir = tempfile::Builder::new()
            .prefix("vest-storm")
            .tempdir()
            .expect("tempdir");
        // VESTIBULE_BIN: another build of the binary (a copy, so that a rebuild during the run
        // does not change what later servers run).
        let launch = common::Launch {
            bin: std::env::var_os("VESTIBULE_BIN").map(PathBuf::from),
            wrapper: nofile
                .map(|soft| vec!["prlimit".into(), format!("--nofile={soft}:"), "--".into()])
                .unwrap_or_default(),
        };
        // The default level, named so that the fixture does not put its debug level instead.
        let mut args = vec!["--log-level", "info"];
        if extra.iter().any(|a| a.starts_with("--log-level")) {
            args.clear();
        }
        args.extend_from_slice(extra);
        Door {
            srv: common::Server::launch(dir, &args, &launch),
        }
    }

    fn port(&self) -> u16 {
        self.srv.port
    }
    fn datadir(&self) -> PathBuf {
        self.srv.datadir()
    }
    fn socket(&self) -> PathBuf {
        self.datadir().join("mysql.sock")
    }
    fn log_tail(&self) -> String {
        self.srv.log_tail()
    }

    /// The `vestibule` process (a child of the watchdog shell).
    fn pid(&self) -> u32 {
        self.srv.server_pid()
    }

    /// One full authentication over the socket: root's cache entry, for the fast path.
    fn fill_cache(&self) {
        self.root_session().quit();
    }

    /// root over the socket; retried while connections just closed still hold their slots
    /// (1040).
    fn root_session(&self) -> Session {
        let (_, r) = wait_for(Duration::from_secs(10), || {
            let s = UnixStream::connect(self.socket()).expect("socket");
            s.set_read_timeout(Some(Duration::from_secs(30)))
                .expect("timeout");
            let l = login(Conn::Unix(s), "root", ROOT_PW, Auth::CachingSha2, None).expect("login");
            if l.reply.is_success() {
                (true, Ok(Session(l.conn)))
            } else {
                (false, Err(l.reply))
            }
        });
        r.unwrap_or_else(|e| panic!("root over the socket: {e:?}\n{}", self.log_tail()))
    }
}

// =============================================================================================
// The floor: a bare tokio server in a child process
// =============================================================================================

/// This bench binary re-run as the floor server; it exits when its stdin closes.
struct Floor {
    child: Child,
    port: u16,
}

impl Floor {
    /// Serves TLS with the certificate and key of Vestibule's data dir.
    fn start(datadir: &Path) -> Floor {
        let mut child = Command::new(std::env::current_exe().expect("current exe"))
            .arg("--floor-server")
            .arg(datadir.join("server-cert.pem"))
            .arg(datadir.join("server-key.pem"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the floor server");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("floor port");
        let port = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("floor said {line:?}"));
        Floor { child, port }
    }
}

impl Drop for Floor {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The floor's greeting: HandshakeV10 for caching_sha2_password, 74 bytes of payload.
fn floor_greeting() -> Vec<u8> {
    let g = HandshakeV10 {
        server_version: b"8.0.40".to_vec(),
        connection_id: 1,
        nonce: *b"0123456789abcdefghij",
        capabilities: CLIENT_LONG_PASSWORD
            | CLIENT_PROTOCOL_41
            | CLIENT_SSL
            | CLIENT_TRANSACTIONS
            | CLIENT_SECURE_CONNECTION
            | CLIENT_PLUGIN_AUTH
            | CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA
            | CLIENT_DEPRECATE_EOF,
        character_set: 255,
        status_flags: 2,
        auth_plugin_name: b"caching_sha2_password".to_vec(),
    };
    let packet = frame::packet(0, &g.encode());
    assert_eq!(packet.len(), 78);
    packet
}

fn floor_server(cert: &Path, key: &Path) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .expect("cert")
        .map(|c| c.expect("cert PEM"))
        .collect();
    let key = PrivateKeyDer::from_pem_file(key).expect("key");
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(cfg));
    let greeting: Arc<[u8]> = floor_greeting().into();
    // The parent closing our stdin (or dying) ends the floor.
    std::thread::spawn(|| {
        let mut b = [0u8; 1];
        let _ = std::io::stdin().read(&mut b);
        std::process::exit(0);
    });
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(async move {
            let l = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            println!("{}", l.local_addr().expect("addr").port());
            std::io::stdout().flush().expect("flush");
            loop {
                let Ok((mut s, _)) = l.accept().await else {
                    continue;
                };
                let _ = s.set_nodelay(true);
                let (acceptor, greeting) = (acceptor.clone(), greeting.clone());
                tokio::spawn(async move {
                    async fn packet<S: tokio::io::AsyncRead + Unpin>(
                        s: &mut S,
                    ) -> std::io::Result<(u8, Vec<u8>)> {
                        let mut h = [0u8; 4];
                        s.read_exact(&mut h).await?;
                        let mut p = vec![0u8; u32::from_le_bytes([h[0], h[1], h[2], 0]) as usize];
                        s.read_exact(&mut p).await?;
                        Ok((h[3], p))
                    }
                    /// `01 03` and OK, after the response of sequence id `seq`.
                    fn reply(seq: u8) -> Vec<u8> {
                        let mut out = frame::packet(seq.wrapping_add(1), &[1, 3]);
                        out.extend(frame::packet(seq.wrapping_add(2), &[0, 0, 0, 2, 0, 0, 0]));
                        out
                    }
                    async fn rest<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
                        mut s: S,
                        seq: u8,
                    ) -> std::io::Result<()> {
                        s.write_all(&reply(seq)).await?;
                        let mut buf = [0u8; 512];
                        while s.read(&mut buf).await? > 0 {}
                        Ok(())
                    }
                    let r: std::io::Result<()> = async {
                        s.write_all(&greeting).await?;
                        let (seq, p) = packet(&mut s).await?;
                        let caps = u32::from_le_bytes(p[..4].try_into().unwrap_or_default());
                        if p.len() == 32 && caps & CLIENT_SSL != 0 {
                            let mut t = acceptor.accept(s).await?;
                            let (seq, _) = packet(&mut t).await?;
                            rest(t, seq).await
                        } else {
                            rest(s, seq).await
                        }
                    }
                    .await;
                    drop(r);
                });
            }
        });
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Conn::Tcp(_) => "Tcp",
            Conn::Tls(_) => "Tls",
            Conn::Unix(_) => "Unix",
        })
    }
}
