//! Connection storm: many clients logging in at once against the real server binary.
//! Reports logins per second and latency percentiles for the caching_sha2_password fast path
//! over plain TCP and over TLS, and for full authentications over the Unix socket.
//!
//! `cargo bench --bench storm` runs the full storm; under `cargo test --benches` (no `--bench`
//! argument) it runs a few logins as a smoke test.

#[path = "../tests/common/mod.rs"]
mod common;

use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use common::{client_tls, login_with, Login, Server, ROOT_PW};

#[derive(Clone, Copy)]
enum Kind {
    FastPlain,
    FastTls,
    FullSocket,
}

fn one_login(srv: &Server, kind: Kind, tls: &common::ClientTls) -> (Login, Duration) {
    let t = Instant::now();
    let (login, session) = match kind {
        Kind::FastPlain => {
            let s = TcpStream::connect(("127.0.0.1", srv.port)).unwrap();
            s.set_nodelay(true).unwrap();
            login_with(Box::new(s), "root", ROOT_PW, None).unwrap()
        }
        Kind::FastTls => {
            let s = TcpStream::connect(("127.0.0.1", srv.port)).unwrap();
            s.set_nodelay(true).unwrap();
            login_with(Box::new(s), "root", ROOT_PW, Some(tls)).unwrap()
        }
        Kind::FullSocket => {
            let s = UnixStream::connect(srv.socket()).unwrap();
            // A wrong password is never cached: every attempt is a full authentication.
            login_with(Box::new(s), "root", "not-the-password", None).unwrap()
        }
    };
    if let Some(s) = session {
        s.quit();
    }
    (login, t.elapsed())
}

fn storm(srv: &Server, kind: Kind, threads: usize, per_thread: usize) -> (f64, Vec<Duration>) {
    let tls = client_tls(&[srv.datadir().join("ca.pem")]);
    let start = Instant::now();
    let mut all: Vec<Duration> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let tls = &tls;
                scope.spawn(move || {
                    (0..per_thread)
                        .map(|_| {
                            let (login, took) = one_login(srv, kind, tls);
                            match (kind, &login) {
                                (Kind::FullSocket, Login::Error(1045, _)) => {}
                                (Kind::FastPlain | Kind::FastTls, Login::FastPath) => {}
                                _ => panic!("unexpected login outcome {login:?}"),
                            }
                            took
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let rate = all.len() as f64 / start.elapsed().as_secs_f64();
    all.sort();
    (rate, all)
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let srv = Server::start(&["--max-connections", "1000"]);
    // Fill the cache with one full authentication over the socket.
    let s = UnixStream::connect(srv.socket()).unwrap();
    assert_eq!(
        login_with(Box::new(s), "root", ROOT_PW, None).unwrap().0,
        Login::Full
    );
    let (threads, n) = if full { (32, 100) } else { (2, 3) };
    let runs = [
        ("fast path, plain TCP", Kind::FastPlain, threads, n),
        ("fast path, TLS 1.3", Kind::FastTls, threads, n),
        (
            "full auth, Unix socket",
            Kind::FullSocket,
            threads,
            if full { 10 } else { 1 },
        ),
    ];
    println!(
        "{:<24} {:>8} {:>10} {:>10} {:>10} {:>10}",
        "storm", "logins", "logins/s", "p50", "p99", "max"
    );
    for (name, kind, t, per) in runs {
        let (rate, lat) = storm(&srv, kind, t, per);
        println!(
            "{:<24} {:>8} {:>10.0} {:>10.2?} {:>10.2?} {:>10.2?}",
            name,
            lat.len(),
            rate,
            pct(&lat, 0.5),
            pct(&lat, 0.99),
            lat[lat.len() - 1]
        );
    }
}
