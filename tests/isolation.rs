//! Full authentications (SHA-256-crypt, milliseconds each) run on a bounded blocking pool, so a
//! flood of them cannot starve fast-path logins: while many clients keep the pool saturated with
//! full auths, fast-path logins of a cached account keep succeeding promptly.

mod common;

use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{login, Login, Server, ROOT_PW};

#[test]
fn fast_path_logins_keep_succeeding_while_full_auths_saturate_the_pool() {
    // 200 000 rounds make each full auth 40 x the default cost; one worker makes them queue.
    let srv = Server::start(&[
        "--caching-sha2-password-digest-rounds",
        "200000",
        "--full-auth-concurrency",
        "1",
        "--max-connections",
        "500",
    ]);
    let socket = srv.socket();
    let connect = || {
        let s = UnixStream::connect(&socket).expect("connect to the socket");
        s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        s
    };
    // Warm the cache for root (one full authentication over the socket).
    assert_eq!(login(&mut connect(), "root", ROOT_PW).unwrap(), Login::Full);
    let t = Instant::now();
    assert_eq!(
        login(&mut connect(), "root", ROOT_PW).unwrap(),
        Login::FastPath
    );
    let baseline = t.elapsed();

    // Saturate: 12 clients in a loop of full authentications (a wrong password never caches).
    let stop = Arc::new(AtomicBool::new(false));
    let floods = Arc::new(AtomicU64::new(0));
    let flooders: Vec<_> = (0..12)
        .map(|_| {
            let (stop, floods, socket) = (stop.clone(), floods.clone(), socket.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let mut s = UnixStream::connect(&socket).unwrap();
                    s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
                    match login(&mut s, "root", "wrong-password") {
                        Ok(Login::Error(1045, _)) => floods.fetch_add(1, Ordering::Relaxed),
                        other => panic!("flood login: {other:?}"),
                    };
                }
            })
        })
        .collect();
    // Wait until the flood is verifiably running (a first full auth came back), so the pool is
    // busy and 11 more are queued behind it.
    let deadline = Instant::now() + Duration::from_secs(60);
    while floods.load(Ordering::Relaxed) == 0 {
        assert!(
            Instant::now() < deadline,
            "no full authentication finished within 60 s"
        );
        std::thread::sleep(Duration::from_millis(10));
    }

    let mut worst = Duration::ZERO;
    for _ in 0..20 {
        let t = Instant::now();
        let r = login(&mut connect(), "root", ROOT_PW).unwrap();
        let took = t.elapsed();
        assert_eq!(r, Login::FastPath);
        worst = worst.max(took);
    }
    let full_auths_done = floods.load(Ordering::Relaxed);
    stop.store(true, Ordering::Relaxed);
    for f in flooders {
        f.join().unwrap();
    }
    eprintln!("fast-path baseline {baseline:?}, worst under flood {worst:?}, full auths completed {full_auths_done}");
    // Each queued full auth costs tens of milliseconds and 12 are always waiting: a fast path
    // that had to wait behind them would take well over a second.
    assert!(
        worst < Duration::from_millis(500),
        "fast path took {worst:?} under a full-auth flood; log:\n{}",
        srv.log_tail()
    );
}
