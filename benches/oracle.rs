//! Timing of failed logins, known user against unknown user (docs/security.md, "User
//! enumeration"): an unknown user goes through a decoy whose SHA-256-crypt costs the configured
//! `caching_sha2_password_digest_rounds`, so a wrong password for a real caching_sha2_password
//! account and any password for a user that does not exist take the same time.
//!
//! For each rounds setting the real server binary is started, an account is created (its hash
//! gets the configured rounds), and wrong-password logins over the Unix socket (a full
//! authentication every time: a wrong password is never cached) alternate between that account
//! and unknown user names whose decoy plugin is caching_sha2_password. It prints the medians,
//! their ratio, and how many guesses per second one sequential client gets.
//!
//! `cargo bench --bench oracle` runs it; under `cargo test --benches` it makes a few logins as a
//! smoke test.

#[path = "../tests/common/mod.rs"]
mod common;

use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use common::{login_with, must_query, root_socket_session, Login, Server};

fn attempt(srv: &Server, user: &str) -> (Login, Duration) {
    let t = Instant::now();
    let s = UnixStream::connect(srv.socket()).expect("socket");
    let (login, _) = login_with(Box::new(s), user, "Not-the-password1", None).expect("login");
    (login, t.elapsed())
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (settings, n): (&[u32], usize) = if full {
        (&[5000, 100_000], 101)
    } else {
        (&[5000], 3)
    };
    println!(
        "{:>8} {:>14} {:>14} {:>8} {:>16}",
        "rounds", "known p50", "unknown p50", "ratio", "guesses/s (1 c.)"
    );
    for &rounds in settings {
        let srv = Server::start(&["--caching-sha2-password-digest-rounds", &rounds.to_string()]);
        let mut root = root_socket_session(&srv);
        must_query(
            &srv,
            &mut root,
            "CREATE USER 'known'@'localhost' IDENTIFIED BY 'Known-pw1'",
        );
        root.quit();
        // Unknown names whose decoy is caching_sha2_password (the others answer with an
        // AuthSwitchRequest, which this minimal client does not follow).
        let ghosts: Vec<String> = (0..200)
            .map(|i| format!("ghost{i}"))
            .filter(|u| matches!(attempt(&srv, u).0, Login::Error(1045, _)))
            .take(8)
            .collect();
        assert!(
            !ghosts.is_empty(),
            "no unknown user with a caching_sha2 decoy"
        );
        let (mut known, mut unknown) = (Vec::new(), Vec::new());
        let start = Instant::now();
        for i in 0..n {
            let (k, tk) = attempt(&srv, "known");
            let (u, tu) = attempt(&srv, &ghosts[i % ghosts.len()]);
            assert!(matches!(k, Login::Error(1045, _)), "known: {k:?}");
            assert!(matches!(u, Login::Error(1045, _)), "unknown: {u:?}");
            known.push(tk);
            unknown.push(tu);
        }
        let rate = (2 * n) as f64 / start.elapsed().as_secs_f64();
        let (k, u) = (median(known), median(unknown));
        println!(
            "{:>8} {:>14.2?} {:>14.2?} {:>8.3} {:>16.0}",
            rounds,
            k,
            u,
            u.as_secs_f64() / k.as_secs_f64(),
            rate
        );
    }
}
