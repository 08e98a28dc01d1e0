//! A real MariaDB server for the tests: the backend of proxy mode (issue 12) and the baseline
//! of the storm benchmark (issue 14).
//!
//! [`MariaDb::start`] (or [`MariaDb::start_with`]) runs Debian's `mariadbd` (package
//! `mariadb-server`, installed by `scripts/test.sh`) as a private instance; the system service
//! and port 3306 are never used (`--no-defaults` everywhere, so `/etc/mysql` is not read):
//!
//! - **Where.** Everything lives in one temporary directory, `vest-mariadb*` under `$TMPDIR`:
//!   `data/` (a fresh data dir from `mariadb-install-db`, see the manual's
//!   "mariadb-install-db" page), `tmp/` (`--tmpdir`), `mariadbd.sock`, `mariadbd.pid`,
//!   `error.log` (`--log-error`), `install.log`, `watchdog.log`, and with TLS `tls/`
//!   (`ca.pem`, `server-cert.pem`, `server-key.pem`, `client-cert.pem`, `client-key.pem`:
//!   ECDSA P-256 from rcgen, the server certificate for `localhost` and `127.0.0.1`).
//! - **Network.** `--bind-address=127.0.0.1` on a port picked by binding `127.0.0.1:0` and
//!   releasing it (mariadbd has no "any free port"); if mariadbd then finds the port taken
//!   ("Address already in use" in the error log) the start is retried on another one.
//!   `--skip-name-resolve`: TCP clients are `'user'@'127.0.0.1'`, socket clients
//!   `'user'@'localhost'`.
//! - **Accounts.** Real authentication (never `--skip-grant-tables`), all
//!   `mysql_native_password` (no ed25519 nor unix_socket): `root` ([`ROOT_PW`], on
//!   `localhost` and `127.0.0.1` only; the other root rows `mariadb-install-db` makes, `::1` and
//!   the host name, are deleted, as `mariadb-secure-installation` deletes remote root rows);
//!   `app@'%'` ([`APP_USER`]/[`APP_PW`], all privileges on `*.*`); with TLS also `app_tls@'%'`
//!   ([`APP_TLS_USER`]/[`APP_TLS_PW`], `REQUIRE SSL`). A database `test` exists. They are made
//!   over the socket with the `mariadb` CLI right after the first start (the manual's "CREATE
//!   USER" and "ALTER USER" pages).
//! - **TLS** ([`Options::tls`]): `--ssl-cert`, `--ssl-key`, `--ssl-ca` (the manual's "Securing
//!   Connections for Client and Server" page); MariaDB 10.11 generates nothing by itself.
//! - **Readiness.** A start waits (30 s at most) for `mariadbd: ready for connections.` in the
//!   error log; a failure panics with the error log.
//! - **Stopping.** `mariadbd` runs under a small `sh` watchdog that holds our end of a pipe, as
//!   `Server` in `tests/common/mod.rs` does: dropping the fixture, or the test process exiting
//!   (a fixture in a `static` is never dropped), closes the pipe; the watchdog then sends
//!   SIGTERM (a normal shutdown, see the manual's "mariadbd" page), SIGKILL after 10 s, and
//!   removes the directory. [`MariaDb::stop`] and [`MariaDb::kill`] keep the data dir for
//!   [`MariaDb::start_again`] on the same port (a backend restart; a crash).
//!
//! Starting one costs about 0.6 s (`mariadb-install-db`) plus 0.1-0.2 s (`mariadbd`).
#![allow(dead_code)]

use std::io::Read;
use std::net::TcpListener;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use super::{run, run_with_input, Run};

/// `root@localhost` and `root@127.0.0.1` (mysql_native_password).
pub const ROOT_PW: &str = "Maria-Root_pw1";
/// An ordinary account, `app@'%'`, with all privileges on `*.*` (mysql_native_password).
pub const APP_USER: &str = "app";
pub const APP_PW: &str = "App-pw_1";
/// `app_tls@'%'`, `REQUIRE SSL`, all privileges on `*.*`: made only with [`Options::tls`].
pub const APP_TLS_USER: &str = "app_tls";
pub const APP_TLS_PW: &str = "App-tls-pw_1";

/// How long a start may take before the test fails.
const READY_WITHIN: Duration = Duration::from_secs(30);
/// Starts tried when the picked port turns out to be taken.
const PORT_TRIES: usize = 5;

/// What to start.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Serve TLS with generated certificates (`--ssl-cert`, `--ssl-key`, `--ssl-ca`) and make
    /// the `REQUIRE SSL` account.
    pub tls: bool,
    /// More `mariadbd` options (`--max-connections=500` …), after the fixture's own.
    pub args: Vec<String>,
}

/// How a `mariadb` CLI connects (see [`MariaDb::cli`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Link {
    /// TCP to 127.0.0.1, no TLS (`--skip-ssl`).
    Tcp,
    /// TCP to 127.0.0.1 with TLS, the server certificate verified against the fixture's CA.
    Tls,
    /// The Unix socket, no TLS.
    Socket,
}

/// A running private `mariadbd` (see the module documentation).
pub struct MariaDb {
    /// The watchdog shell and our end of its pipe; `None` while stopped.
    watchdog: Option<(Child, Option<ChildStdin>)>,
    dir: tempfile::TempDir,
    port: u16,
    opts: Options,
}

impl MariaDb {
    /// A fresh server without TLS.
    pub fn start() -> MariaDb {
        MariaDb::start_with(Options::default())
    }

    /// A fresh server with TLS (and the `REQUIRE SSL` account).
    pub fn start_tls() -> MariaDb {
        MariaDb::start_with(Options {
            tls: true,
            ..Options::default()
        })
    }

    /// A fresh data dir, a server on a free port, the accounts of the module documentation.
    pub fn start_with(opts: Options) -> MariaDb {
        MariaDb::start_on_ports(opts, free_port)
    }

    /// As [`MariaDb::start_with`], taking each port to try from `next_port` (the port-clash
    /// retry's test).
    pub fn start_on_ports(opts: Options, mut next_port: impl FnMut() -> u16) -> MariaDb {
        let bin = mariadbd_path();
        let dir = tempfile::Builder::new()
            .prefix("vest-mariadb")
            .tempdir()
            .expect("tempdir");
        let mut db = MariaDb {
            watchdog: None,
            dir,
            port: 0,
            opts,
        };
        // sockaddr_un holds 108 bytes with the terminating NUL.
        let sock = db.socket();
        assert!(
            sock.as_os_str().len() < 100,
            "socket path too long for AF_UNIX: {} (set a shorter TMPDIR)",
            sock.display()
        );
        std::fs::create_dir(db.tmpdir()).expect("tmp dir");
        db.install();
        if db.opts.tls {
            db.write_tls_files();
        }
        for attempt in 1..=PORT_TRIES {
            db.port = next_port();
            match db.launch(&bin) {
                Ok(()) => break,
                Err(Clash) if attempt < PORT_TRIES => continue,
                Err(Clash) => panic!(
                    "mariadbd: port taken {PORT_TRIES} times in a row; error log:\n{}",
                    db.error_log()
                ),
            }
        }
        db.create_accounts();
        db
    }

    /// Restarts a server stopped by [`MariaDb::stop`] or [`MariaDb::kill`] on the same port,
    /// data dir, accounts and certificates (after a kill, InnoDB recovers its log first).
    pub fn start_again(&mut self) {
        assert!(self.watchdog.is_none(), "mariadbd is already running");
        if self.launch(&mariadbd_path()).is_err() {
            panic!(
                "mariadbd: port {} was taken while it was stopped; error log:\n{}",
                self.port,
                self.error_log()
            );
        }
    }

    /// A normal shutdown (SIGTERM, waited for); the data dir is kept for
    /// [`MariaDb::start_again`].
    pub fn stop(&mut self) {
        self.retire(true);
    }

    /// Kills mariadbd with SIGKILL, as a crash would; the data dir is kept for
    /// [`MariaDb::start_again`].
    pub fn kill(&mut self) {
        let pid = self.pid();
        let status = Command::new("sh")
            .args(["-c", "kill -KILL \"$0\"", &pid.to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -KILL {pid}: {status}");
        self.retire(true);
    }

    /// Whether mariadbd is running (started and neither stopped nor killed, nor gone by itself).
    pub fn is_running(&mut self) -> bool {
        match &mut self.watchdog {
            Some((child, _)) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// The TCP port (on 127.0.0.1); the same across [`MariaDb::start_again`].
    pub fn port(&self) -> u16 {
        self.port
    }
    /// The directory holding everything (see the module documentation).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
    pub fn datadir(&self) -> PathBuf {
        self.dir().join("data")
    }
    pub fn socket(&self) -> PathBuf {
        self.dir().join("mariadbd.sock")
    }
    fn pid_file(&self) -> PathBuf {
        self.dir().join("mariadbd.pid")
    }
    fn error_log_path(&self) -> PathBuf {
        self.dir().join("error.log")
    }
    /// mariadbd's `--tmpdir`, private: a starting mariadbd removes the `#sql*` files it finds in
    /// its tmpdir as leftovers of a crash, even another live server's temporary tables (two
    /// `mariadb-install-db` runs sharing /tmp failed on "Error on delete of
    /// '/tmp/#sql-temptable-….MAI'").
    fn tmpdir(&self) -> PathBuf {
        self.dir().join("tmp")
    }
    fn tls_dir(&self) -> PathBuf {
        self.dir().join("tls")
    }
    /// The CA that signed the server (and client) certificate, with [`Options::tls`].
    pub fn ca(&self) -> Option<PathBuf> {
        self.opts.tls.then(|| self.tls_dir().join("ca.pem"))
    }
    /// A client certificate and key signed by [`MariaDb::ca`] (CN `vestibule-client`), with
    /// [`Options::tls`].
    pub fn client_cert(&self) -> Option<(PathBuf, PathBuf)> {
        self.opts.tls.then(|| {
            (
                self.tls_dir().join("client-cert.pem"),
                self.tls_dir().join("client-key.pem"),
            )
        })
    }

    /// PID of the running mariadbd (from its `--pid-file`).
    pub fn pid(&self) -> u32 {
        let text = std::fs::read_to_string(self.pid_file()).expect("mariadbd pid file");
        text.trim().parse().expect("pid in the pid file")
    }

    /// The error log so far (`--log-error`; every start appends to it).
    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.error_log_path()).unwrap_or_default()
    }

    /// The error log, and what mariadbd or the watchdog printed before the log was open.
    fn diagnostics(&self) -> String {
        let early = std::fs::read_to_string(self.dir().join("watchdog.log")).unwrap_or_default();
        if early.trim().is_empty() {
            self.error_log()
        } else {
            format!("{}\n(stderr:)\n{early}", self.error_log())
        }
    }

    /// The `mariadb` CLI (`--no-defaults`, batch mode `-N -B`) connected as `user`; add `-e SQL`
    /// or use [`MariaDb::sql`].
    pub fn cli(&self, link: Link, user: &str, pw: &str) -> Command {
        let mut cmd = self.cli_base(link);
        cmd.arg(format!("-u{user}")).arg(format!("--password={pw}"));
        cmd
    }

    fn cli_base(&self, link: Link) -> Command {
        let mut cmd = Command::new("mariadb");
        cmd.arg("--no-defaults");
        let port = format!("-P{}", self.port);
        match link {
            Link::Tcp => {
                cmd.args(["--protocol=TCP", "-h127.0.0.1", &port, "--skip-ssl"]);
            }
            Link::Tls => {
                let ca = self
                    .ca()
                    .expect("Link::Tls needs a fixture started with TLS");
                cmd.args(["--protocol=TCP", "-h127.0.0.1", &port, "--ssl"])
                    .arg(format!("--ssl-ca={}", ca.display()))
                    .arg("--ssl-verify-server-cert");
            }
            Link::Socket => {
                cmd.args(["--protocol=SOCKET", "--skip-ssl"])
                    .arg(format!("--socket={}", self.socket().display()));
            }
        }
        cmd.args(["-N", "-B", "--connect-timeout=10"]);
        for var in [
            "MYSQL_PWD",
            "MYSQL_HOST",
            "MYSQL_TCP_PORT",
            "MYSQL_UNIX_PORT",
        ] {
            cmd.env_remove(var);
        }
        cmd
    }

    /// Runs `sql` (`;`-separated statements) with the CLI; the outcome as the other clients'.
    pub fn sql(&self, link: Link, user: &str, pw: &str, sql: &str) -> Run {
        let mut cmd = self.cli(link, user, pw);
        cmd.arg("-e").arg(sql);
        run(
            cmd,
            format!("mariadb {link:?} as {user} on MariaDB: {sql}"),
            "install it: apt-get install -y mariadb-client",
        )
    }

    /// Runs `sql` as root over the socket; panics (with the error log) unless it succeeds.
    /// Returns the rows as `-N -B` prints them.
    pub fn root_sql(&self, sql: &str) -> String {
        let r = self.sql(Link::Socket, "root", ROOT_PW, sql);
        self.ok(r)
    }

    /// Asserts the client succeeded; returns its stdout.
    #[track_caller]
    pub fn ok(&self, r: Run) -> String {
        assert!(
            r.status == Some(0),
            "{} failed (exit {:?})\nstdout:\n{}\nstderr:\n{}\nMariaDB error log (tail):\n{}",
            r.what,
            r.status,
            r.stdout,
            r.stderr,
            self.error_log_tail()
        );
        r.stdout
    }

    fn error_log_tail(&self) -> String {
        let log = self.error_log();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    /// `mariadb-install-db` into `data/`: system tables, root@localhost without a password
    /// (`normal`: set right after the first start), no test database.
    fn install(&self) {
        let mut cmd = Command::new("mariadb-install-db");
        cmd.arg("--no-defaults")
            .arg(format!("--datadir={}", self.datadir().display()))
            .args([
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                "--skip-name-resolve",
            ])
            .arg(format!("--tmpdir={}", self.tmpdir().display()));
        if running_as_root() {
            // Only root may pass --user (mariadb-install-db --help).
            cmd.arg("--user=root");
        }
        let log = self.dir().join("install.log");
        let out = std::fs::File::create(&log).expect("install.log");
        let status = cmd
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("dup"))
            .stderr(out)
            .status()
            .unwrap_or_else(|e| {
                panic!("cannot run mariadb-install-db ({e}); install mariadb-server")
            });
        assert!(
            status.success(),
            "mariadb-install-db failed ({status}):\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }

    /// One start of mariadbd under a new watchdog on `self.port`; waits until it is ready.
    /// `Err(Clash)` when the port was taken (the data dir is kept, nothing is left running).
    fn launch(&mut self, bin: &Path) -> Result<(), Clash> {
        let d = |p: PathBuf| p.display().to_string();
        let mut args = vec![
            // mariadbd wants --no-defaults first.
            "--no-defaults".to_string(),
            format!("--datadir={}", d(self.datadir())),
            format!("--socket={}", d(self.socket())),
            format!("--port={}", self.port),
            "--bind-address=127.0.0.1".into(),
            format!("--pid-file={}", d(self.pid_file())),
            format!("--log-error={}", d(self.error_log_path())),
            "--skip-name-resolve".into(),
            format!("--tmpdir={}", d(self.tmpdir())),
        ];
        if running_as_root() {
            // mariadbd refuses to run as root unless told to.
            args.push("--user=root".into());
        }
        if self.opts.tls {
            let t = self.tls_dir();
            args.push(format!("--ssl-cert={}", d(t.join("server-cert.pem"))));
            args.push(format!("--ssl-key={}", d(t.join("server-key.pem"))));
            args.push(format!("--ssl-ca={}", d(t.join("ca.pem"))));
        }
        args.extend(self.opts.args.iter().cloned());

        let log_start = std::fs::metadata(self.error_log_path()).map_or(0, |m| m.len());
        let _ = std::fs::remove_file(self.pid_file());
        let watchdog_log =
            std::fs::File::create(self.dir().join("watchdog.log")).expect("watchdog.log");
        let script = r#"trap '' INT
exec 3<&0
"$0" "$@" </dev/null 3<&- &
pid=$!
(
  read -r _line <&3
  kill -TERM "$pid" 2>/dev/null
  n=0
  while kill -0 "$pid" 2>/dev/null; do
    n=$((n + 1))
    if [ "$n" -eq 200 ]; then kill -KILL "$pid" 2>/dev/null; fi
    sleep 0.05
  done
  # stop/kill keep the directory with a .keep file, and wait for it to go.
  d=$VEST_MARIADB_DIR
  if [ -e "$d/.keep" ]; then rm -f "$d/.keep"; else rm -rf "$d"; fi
) &
wait "$pid""#;
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg(bin)
            .args(&args)
            .env("VEST_MARIADB_DIR", self.dir())
            .env_remove("MYSQL_TCP_PORT")
            .env_remove("MYSQL_UNIX_PORT")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::from(watchdog_log))
            .spawn()
            .expect("cannot run sh to start mariadbd");
        let stdin = child.stdin.take();
        self.watchdog = Some((child, stdin));

        let deadline = Instant::now() + READY_WITHIN;
        loop {
            let log = self.error_log_since(log_start);
            if log.contains("ready for connections") {
                return Ok(());
            }
            let exited = match &mut self.watchdog {
                Some((child, _)) => child.try_wait().expect("wait for the watchdog"),
                None => unreachable!(),
            };
            if let Some(status) = exited {
                self.retire(true);
                if log.contains("Address already in use") {
                    return Err(Clash);
                }
                panic!(
                    "mariadbd exited ({status}) before it was ready; error log:\n{}",
                    self.diagnostics()
                );
            }
            if Instant::now() > deadline {
                self.retire(true);
                panic!(
                    "mariadbd not ready within {READY_WITHIN:?}; error log:\n{}",
                    self.diagnostics()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn error_log_since(&self, offset: u64) -> String {
        let mut text = Vec::new();
        if let Ok(mut f) = std::fs::File::open(self.error_log_path()) {
            use std::io::Seek;
            let _ = f.seek(std::io::SeekFrom::Start(offset));
            let _ = f.read_to_end(&mut text);
        }
        String::from_utf8_lossy(&text).into_owned()
    }

    /// Closes the watchdog's pipe (it stops mariadbd: SIGTERM, SIGKILL after 10 s) and waits
    /// for it; `keep` leaves the directory in place.
    fn retire(&mut self, keep: bool) {
        let Some((mut child, stdin)) = self.watchdog.take() else {
            return;
        };
        let keep_file = self.dir().join(".keep");
        if keep {
            std::fs::write(&keep_file, b"").expect("write .keep");
        }
        drop(stdin);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Some(_)) = child.try_wait() {
                break;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        // The watchdog's cleanup runs once mariadbd is gone: it removes .keep (or everything).
        if keep {
            while keep_file.exists() {
                assert!(
                    Instant::now() < deadline,
                    "the MariaDB watchdog did not finish"
                );
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }

    /// Root's password, root's extra rows gone, the test accounts and database. Over the
    /// socket as root, who has no password yet.
    fn create_accounts(&self) {
        let mut sql = format!(
            "DELETE FROM mysql.global_priv
  WHERE User = 'root' AND Host NOT IN ('localhost', '127.0.0.1');
DELETE FROM mysql.proxies_priv
  WHERE User = 'root' AND Host NOT IN ('localhost', '127.0.0.1');
FLUSH PRIVILEGES;
ALTER USER root@localhost IDENTIFIED VIA mysql_native_password USING PASSWORD('{ROOT_PW}');
ALTER USER root@'127.0.0.1' IDENTIFIED VIA mysql_native_password USING PASSWORD('{ROOT_PW}');
CREATE USER {APP_USER}@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD('{APP_PW}');
GRANT ALL PRIVILEGES ON *.* TO {APP_USER}@'%';
CREATE DATABASE test;
"
        );
        if self.opts.tls {
            sql.push_str(&format!(
                "CREATE USER {APP_TLS_USER}@'%'
  IDENTIFIED VIA mysql_native_password USING PASSWORD('{APP_TLS_PW}') REQUIRE SSL;
GRANT ALL PRIVILEGES ON *.* TO {APP_TLS_USER}@'%';
"
            ));
        }
        let mut cmd = self.cli_base(Link::Socket);
        cmd.arg("-uroot");
        let r = run_with_input(
            cmd,
            "mariadb as root over the socket: account set-up".into(),
            "install it: apt-get install -y mariadb-client",
            Some(&sql),
        );
        self.ok(r);
    }

    /// A CA, a server certificate (`localhost`, `127.0.0.1`) and a client certificate, in `tls/`.
    fn write_tls_files(&self) {
        use rcgen::{
            BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
            KeyUsagePurpose,
        };
        let named = |cn: &str, sans: Vec<String>| {
            let mut p = CertificateParams::new(sans).expect("certificate params");
            p.distinguished_name = DistinguishedName::new();
            p.distinguished_name.push(DnType::CommonName, cn);
            p
        };
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca_params = named("Vestibule test MariaDB CA", vec![]);
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca = ca_params.self_signed(&ca_key).expect("CA certificate");
        let issuer = Issuer::new(ca_params, &ca_key);
        let server_key = KeyPair::generate().expect("server key");
        let server = named(
            "localhost",
            vec!["localhost".to_string(), "127.0.0.1".to_string()],
        )
        .signed_by(&server_key, &issuer)
        .expect("server certificate");
        let client_key = KeyPair::generate().expect("client key");
        let client = named("vestibule-client", vec![])
            .signed_by(&client_key, &issuer)
            .expect("client certificate");

        let dir = self.tls_dir();
        std::fs::create_dir(&dir).expect("tls dir");
        let write = |name: &str, pem: String, mode: u32| {
            let path = dir.join(name);
            std::fs::write(&path, pem).expect("write PEM");
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))
                .expect("chmod PEM");
        };
        write("ca.pem", ca.pem(), 0o644);
        write("server-cert.pem", server.pem(), 0o644);
        write("server-key.pem", server_key.serialize_pem(), 0o600);
        write("client-cert.pem", client.pem(), 0o644);
        write("client-key.pem", client_key.serialize_pem(), 0o600);
    }
}

impl Drop for MariaDb {
    fn drop(&mut self) {
        // The watchdog stops mariadbd and removes the directory; TempDir's own removal after
        // this finds it gone or half gone, which it tolerates.
        self.retire(false);
    }
}

/// The picked port was taken by the time mariadbd bound it.
struct Clash;

/// A port free on 127.0.0.1 right now (bound to port 0, then released).
fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local addr").port()
}

/// `mariadbd` from PATH, else Debian's `/usr/sbin/mariadbd` (sbin is not on every PATH).
fn mariadbd_path() -> PathBuf {
    let in_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("mariadbd"))
            .find(|p| p.is_file())
    });
    let path = in_path.unwrap_or_else(|| PathBuf::from("/usr/sbin/mariadbd"));
    assert!(
        path.is_file(),
        "mariadbd not found: `apt-get install -y mariadb-server` (bash scripts/test.sh does)"
    );
    path
}

/// Whether the tests run as root (the owner of /proc/self is the effective user).
fn running_as_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}
