//! Connections at scale (issue 14, "Memory at scale"): the file-descriptor limit.
//!
//! - `vestibule::server::rlimit::raise_nofile` raises the soft RLIMIT_NOFILE up to the hard
//!   limit and never lowers it (checked in a child process: this test binary run again, so the
//!   limits of the other tests never change).
//! - At the descriptor limit the real binary logs the failed `accept`, keeps serving the
//!   sessions it has, and takes the waiting client once a descriptor is free.
//! - Ignored until `src/main.rs` calls `raise_nofile`: the binary started with a soft limit of
//!   1024 raises it itself to `rlimit::wanted_for(max_connections)` (capped by the hard limit).
//!
//! The memory figures themselves are in `cargo bench --bench storm` (benches/README.md).

mod common;

use std::io::Read;
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{login_with, Login, Server, ROOT_PW};
use vestibule::server::rlimit::{nofile, raise_nofile, wanted_for};

const CHILD_ENV: &str = "VEST_SCALE_RLIMIT_CHILD";

/// Runs `raise_nofile_in_a_child` again in a child process, where it lowers and raises its own
/// limits.
#[test]
fn raise_nofile_raises_the_soft_limit_up_to_the_hard_one() {
    let out = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "raise_nofile_in_a_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, "1")
        .output()
        .expect("run the test binary again");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "child failed:\n{text}");
    assert!(
        text.contains("CHILD-OK"),
        "the child did not run its checks:\n{text}"
    );
}

/// The child half of `raise_nofile_raises_the_soft_limit_up_to_the_hard_one` (a no-op in the
/// test process itself).
#[test]
fn raise_nofile_in_a_child() {
    use rustix::process::{setrlimit, Resource, Rlimit};
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    let set = |soft: u64, hard: u64| {
        setrlimit(
            Resource::Nofile,
            Rlimit {
                current: Some(soft),
                maximum: (hard != u64::MAX).then_some(hard),
            },
        )
        .expect("setrlimit");
    };
    let (_, hard) = nofile();
    assert!(
        hard >= 2000,
        "hard RLIMIT_NOFILE {hard}: too low for this test"
    );
    // A shell's usual soft limit.
    set(256, hard);
    assert_eq!(raise_nofile(1000).unwrap(), (256, 1000));
    assert_eq!(nofile(), (1000, hard));
    // Never lowered.
    assert_eq!(raise_nofile(500).unwrap(), (1000, 1000));
    assert_eq!(nofile().0, 1000);
    // Capped by the hard limit, which stays as it is.
    set(256, 2000);
    assert_eq!(raise_nofile(5000).unwrap(), (256, 2000));
    assert_eq!(nofile(), (2000, 2000));
    // Already at the hard limit: nothing to do.
    assert_eq!(raise_nofile(5000).unwrap(), (2000, 2000));
    println!("CHILD-OK");
}

/// Descriptors the process has open now.
fn open_fds(pid: u32) -> u64 {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("/proc/PID/fd")
        .count() as u64
}

/// Sets another process's soft RLIMIT_NOFILE (prlimit(2)), keeping its hard limit.
fn set_soft_nofile(pid: u32, soft: u64) {
    use rustix::process::{prlimit, Pid, Resource, Rlimit};
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).expect("limits");
    let hard = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(4))
        .expect("Max open files");
    prlimit(
        Pid::from_raw(pid as i32),
        Resource::Nofile,
        Rlimit {
            current: Some(soft),
            maximum: hard.parse().ok(),
        },
    )
    .expect("set the server's soft limit");
}

fn plain(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_nodelay(true).expect("nodelay");
    s
}

#[test]
fn at_the_descriptor_limit_accept_fails_logged_and_the_server_keeps_serving() {
    let srv = Server::start(&["--max-connections", "1000"]);
    let pid = srv.server_pid();
    // Fill the cache (the fast path needs no file).
    let s = std::os::unix::net::UnixStream::connect(srv.socket()).expect("socket");
    let (l, sess) = login_with(Box::new(s), "root", ROOT_PW, None).expect("login");
    assert_eq!(l, Login::Full);
    sess.expect("session").quit();
    std::thread::sleep(Duration::from_millis(200));

    // Room for five more descriptors.
    let base = open_fds(pid);
    set_soft_nofile(pid, base + 5);

    let mut held = Vec::new();
    let mut waiting = None;
    for _ in 0..20 {
        let s = plain(srv.port);
        s.set_read_timeout(Some(Duration::from_secs(2)))
            .expect("timeout");
        let mut probe = [0u8; 1];
        match s.peek(&mut probe) {
            Ok(n) if n > 0 => {
                let (l, sess) =
                    login_with(Box::new(s), "root", ROOT_PW, None).expect("login under the limit");
                assert_eq!(l, Login::FastPath, "{}", srv.log_tail());
                held.push(sess.expect("session"));
            }
            // No greeting: the connection waits in the listen backlog.
            _ => {
                waiting = Some(s);
                break;
            }
        }
    }
    let waiting = waiting.unwrap_or_else(|| {
        panic!(
            "every connection was served; open descriptors {}\n{}",
            open_fds(pid),
            srv.log_tail()
        )
    });
    assert!(
        (3..=6).contains(&held.len()),
        "{} connections served under a limit of {} with {base} open",
        held.len(),
        base + 5
    );
    let log = srv.log();
    assert!(
        log.contains("accept failed") && log.contains("Too many open files"),
        "no accept error logged:\n{}",
        srv.log_tail()
    );
    // The sessions already open are served.
    for sess in &mut held {
        let rows = sess.query("SELECT 1").expect("i/o").expect("SELECT 1");
        assert_eq!(rows, vec![vec![Some("1".to_string())]]);
    }
    // A descriptor comes free: the waiting client gets its greeting and logs in.
    held.pop().expect("one").quit();
    waiting
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let (l, sess) = login_with(Box::new(waiting), "root", ROOT_PW, None)
        .unwrap_or_else(|e| panic!("the waiting client: {e}\n{}", srv.log_tail()));
    assert_eq!(l, Login::FastPath);
    sess.expect("session").quit();
    // And once the limit is raised again, the server serves as before.
    set_soft_nofile(pid, base + 100);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let s = plain(srv.port);
        s.set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        match login_with(Box::new(s), "root", ROOT_PW, None) {
            Ok((Login::FastPath, Some(sess))) => {
                sess.quit();
                break;
            }
            other => assert!(
                Instant::now() < deadline,
                "no login after the limit was raised: {:?}\n{}",
                other.map(|(l, _)| l),
                srv.log_tail()
            ),
        }
    }
}

/// The binary raises its own soft limit at start-up, as mysqld does for open_files_limit.
#[test]
fn the_server_raises_its_own_descriptor_limit() {
    if !Path::new("/usr/bin/prlimit").is_file() && !Path::new("/bin/prlimit").is_file() {
        eprintln!("util-linux prlimit not found: skipped");
        return;
    }
    let (_, hard) = nofile();
    let dir = tempfile::tempdir().expect("tempdir");
    let datadir = dir.path().join("data");
    let log = dir.path().join("server.log");
    let mut child = Command::new("prlimit")
        .arg("--nofile=1024:")
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_vestibule"))
        .arg("--datadir")
        .arg(&datadir)
        .args([
            "--port",
            "0",
            "--bind-address",
            "127.0.0.1",
            "--socket",
            "",
            "--max-connections",
            "10000",
        ])
        .env("VESTIBULE_ROOT_PASSWORD", ROOT_PW)
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log"))
        .spawn()
        .expect("start vestibule under prlimit");
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let pid = child.id();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut text = String::new();
        let _ = std::fs::File::open(&log).and_then(|mut f| f.read_to_string(&mut text));
        if text.contains("ready for connections") {
            break;
        }
        if let Ok(Some(st)) = child.try_wait() {
            panic!("vestibule exited ({st}):\n{text}");
        }
        assert!(Instant::now() < deadline, "not ready:\n{text}");
        std::thread::sleep(Duration::from_millis(20));
    }
    let child = Kill(child);
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).expect("limits");
    let soft: u64 = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|v| v.parse().ok())
        .expect("Max open files");
    assert_eq!(soft, wanted_for(10_000).min(hard), "{limits}");
    drop(child);
}
