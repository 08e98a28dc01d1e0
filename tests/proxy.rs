//! Proxy mode (issue 12, docs/proxy.md) with real parts: the `vestibule` binary in front of the
//! real MariaDB of `tests/common/mariadb.rs`, driven by real clients.
//!
//! One MariaDB (TLS, `--max-allowed-packet=64M`) serves every test function; each function starts
//! its own Vestibule(s) with `--backend-*` flags and a 0600 credentials file, and makes the door
//! accounts over the admin socket (`<datadir>/admin.sock`) as root. The backend-killing test takes
//! the backend for itself (a write lock the others hold for reading) and restarts it before it
//! lets go.
//!
//! The suite each client runs (`tests/proxy/py_suite.py` for PyMySQL and mysql-connector-python,
//! C extension and pure Python; `tests/proxy/node_suite.js` for node mysql2; in process for the
//! `mariadb` CLI and mysql_async), with a JSON result checked by [`check_suite`]:
//! `SELECT CONNECTION_ID()` (must equal the greeting's id), `CURRENT_USER()`/`USER()` (what the
//! backend sees), `Ssl_version` (the client leg's), CREATE TABLE, INSERT, SELECT, a transaction
//! rolled back, prepared statements (the binary protocol; PyMySQL and the CLI have none and use
//! SQL `PREPARE`), a 20 MiB BLOB inserted and read back (length and SHA-256 on the server and at
//! the client), a multi-statement with two result sets, and errors 1146 and 1064, which must be
//! identical (code, SQLSTATE, message) to what the same client gets from MariaDB directly.
//!
//! Scenarios (issue 12's list):
//! 1. [`mapped_identity_every_client`], [`pass_through_identity_every_client`] (and the direct
//!    baseline, [`direct_baseline_every_client`]);
//! 2. [`change_user_in_both_modes`];
//! 3. [`kill_query_by_door_id`];
//! 4. [`backend_killed_and_restarted`];
//! 5. [`load_data_local_infile_refused`];
//! 6. [`tls_on_both_legs`], [`backend_over_unix_socket`].
//!
//! And from docs/proxy.md §9: the pass-through paths against MariaDB's native accounts
//! ([`pass_through_paths_against_native_backend`], item 3); isolation across reuse in a pool of
//! one ([`isolation_across_reuse`], item 4); faults ([`full_pool_gives_1040_after_the_wait`],
//! [`backend_down_at_startup`], [`credentials_file_mode_0644_refused_at_startup`],
//! [`trace_log_holds_no_secret`], item 5); the reuse counters of 300 short connections
//! ([`reuse_counters_short_connections`], item 6). The `Backend_*` status variables are read on
//! the admin socket.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard, OnceLock, RwLock, RwLockReadGuard};
use std::time::{Duration, Instant};

use common::mariadb::{MariaDb, Options, APP_PW, APP_TLS_PW, APP_TLS_USER, APP_USER};
use common::{run_with_input, Run, Server};
use serde_json::{json, Value};
use sha2::Digest;

// ---------------------------------------------------------------------------------------------
// Accounts and constants
// ---------------------------------------------------------------------------------------------

/// A second MariaDB account (all privileges), for COM_CHANGE_USER between backend accounts.
const ALICE: &str = "alice";
const ALICE_PW: &str = "Alice-pw_1";
/// Mapped mode's door passwords: the door's own, unlike the backend's.
const DOOR_APP_PW: &str = "Door-app_pw1";
const DOOR_ALICE_PW: &str = "Door-alice_pw1";
/// `bob` exists only at the door (mapped mode), mapped to the default service account.
const BOB: &str = "bob";
const DOOR_BOB_PW: &str = "Door-bob_pw1";
/// A second MariaDB account (mysql_native_password, all privileges), which the pass-through
/// tests put behind a caching_sha2_password door account of the same name and password.
const CAROL: &str = "carol";
const CAROL_PW: &str = "Carol-pw_1";
/// A caching_sha2_password door account of mapped mode (to the default service account).
const DAVE: &str = "dave";
const DOOR_DAVE_PW: &str = "Door-dave_pw1";
/// Pass-through: a door password that is no longer the backend's (credential drift).
const DRIFT_PW: &str = "Drifted-pw_1";
/// A wrong password, refused by the door itself.
const WRONG_PW: &str = "Wrong-pw_1";
/// A second database, for `USE` and for logins that make a new pool key.
const OTHER_DB: &str = "px_other";

/// The BLOB of the suite: every byte value in turn, 20 MiB (two frames of 16 MiB each way).
const BLOB_LEN: usize = 20 << 20;

const MSG_1146: &str = "Table 'test.no_such_table' doesn't exist";
const MSG_1064: &str = "You have an error in your SQL syntax; check the manual that corresponds \
                        to your MariaDB server version for the right syntax to use near 'SELEC 1' \
                        at line 1";
/// MariaDB's answer to LOAD DATA LOCAL from a session without CLIENT_LOCAL_FILES.
const MSG_4166: &str = "The used command is not allowed because the MariaDB server or client has \
                        disabled the local infile capability";
/// docs/proxy.md §5: the client's error when the backend cannot be reached.
const MSG_1429: &str = "Unable to connect to foreign data source: backend unavailable";

fn blob() -> Vec<u8> {
    (0..BLOB_LEN).map(|i| i as u8).collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn blob_sha() -> &'static str {
    static SHA: OnceLock<String> = OnceLock::new();
    SHA.get_or_init(|| hex(&sha2::Sha256::digest(blob())))
}

// ---------------------------------------------------------------------------------------------
// The backend: one MariaDB for every test function
// ---------------------------------------------------------------------------------------------

struct Backend {
    db: Mutex<MariaDb>,
    /// Held for reading by every test while it uses the backend; for writing by the test that
    /// kills it.
    gate: RwLock<()>,
    port: u16,
    socket: PathBuf,
    ca: PathBuf,
}

fn backend() -> &'static Backend {
    static B: OnceLock<Backend> = OnceLock::new();
    B.get_or_init(|| {
        let db = MariaDb::start_with(Options {
            tls: true,
            args: vec!["--max-allowed-packet=64M".into()],
        });
        db.root_sql(&format!(
            "CREATE USER {ALICE}@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD('{ALICE_PW}');
             GRANT ALL PRIVILEGES ON *.* TO {ALICE}@'%';
             CREATE TABLE test.cu_rows (id INT PRIMARY KEY, v VARCHAR(20));
             INSERT INTO test.cu_rows VALUES (1, 'one'), (2, 'two');
             CREATE USER {CAROL}@'%' IDENTIFIED VIA mysql_native_password USING PASSWORD('{CAROL_PW}');
             GRANT ALL PRIVILEGES ON *.* TO {CAROL}@'%';
             CREATE DATABASE {OTHER_DB};
             CREATE TABLE test.iso_rows (id INT PRIMARY KEY) ENGINE=InnoDB;"
        ));
        Backend {
            port: db.port(),
            socket: db.socket(),
            ca: db.ca().expect("TLS fixture"),
            db: Mutex::new(db),
            gate: RwLock::new(()),
        }
    })
}

impl Backend {
    fn db(&self) -> MutexGuard<'_, MariaDb> {
        self.db.lock().unwrap_or_else(|e| e.into_inner())
    }
    fn root_sql(&self, sql: &str) -> String {
        self.db().root_sql(sql)
    }
    fn error_log_tail(&self) -> String {
        let log = self.db().error_log();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
}

/// The backend, running, for the duration of a test.
fn shared() -> (&'static Backend, RwLockReadGuard<'static, ()>) {
    let b = backend();
    let guard = b.gate.read().unwrap_or_else(|e| e.into_inner());
    (b, guard)
}

/// Where a client connects, and as whom.
#[derive(Clone, Debug)]
struct Target {
    what: String,
    port: u16,
    socket: Option<PathBuf>,
    /// TLS, the certificate verified against this CA and the host name checked.
    ca: Option<PathBuf>,
    user: String,
    password: String,
    /// The default database of the login (mysql_async only).
    db: Option<String>,
}

impl Target {
    fn direct(b: &Backend, user: &str, pw: &str) -> Target {
        Target {
            what: "MariaDB directly".into(),
            port: b.port,
            socket: None,
            ca: None,
            user: user.into(),
            password: pw.into(),
            db: None,
        }
    }
    fn with_tls(mut self, ca: PathBuf) -> Target {
        self.ca = Some(ca);
        self
    }
    fn with_db(mut self, db: &str) -> Target {
        self.db = Some(db.into());
        self
    }
}

// ---------------------------------------------------------------------------------------------
// The door: a proxy-mode Vestibule
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Identity {
    Mapped,
    PassThrough,
}

#[derive(Clone, Debug)]
enum Leg {
    /// TCP to 127.0.0.1, `--backend-ssl-mode VERIFY_IDENTITY` with this CA.
    Tls(PathBuf),
    /// `--backend-socket`.
    Socket,
    /// TCP to 127.0.0.1 on this port, where nothing listens (`--backend-ssl-mode REQUIRED`).
    Unreachable(u16),
}

struct Door {
    srv: Server,
    identity: Identity,
    label: &'static str,
}

/// Starts a proxy-mode Vestibule in front of `b` and makes its accounts. Mapped: door accounts
/// `app`, `alice`, `bob` with door passwords; `alice@%` maps to the backend's `alice`, the others
/// to `map_default`. Pass-through: `app` and `alice` with the backend's passwords
/// (mysql_native_password), and `app_tls`.
fn start_door(
    label: &'static str,
    b: &Backend,
    identity: Identity,
    leg: Leg,
    map_default: &str,
    extra: &[&str],
) -> Door {
    start_door_at(label, b, identity, leg, map_default, extra, false)
}

/// [`start_door`], at `--log-level trace` when `trace`.
fn start_door_at(
    label: &'static str,
    b: &Backend,
    identity: Identity,
    leg: Leg,
    map_default: &str,
    extra: &[&str],
    trace: bool,
) -> Door {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::Builder::new()
        .prefix("vest-proxy")
        .tempdir()
        .expect("tempdir");
    let creds = dir.path().join("backend-credentials.toml");
    std::fs::write(
        &creds,
        format!(
            "control = \"{APP_USER}\"\n\
             [accounts.{APP_USER}]\npassword = \"{APP_PW}\"\n\
             [accounts.{APP_TLS_USER}]\npassword = \"{APP_TLS_PW}\"\n\
             [accounts.{ALICE}]\npassword = \"{ALICE_PW}\"\n\
             [map]\ndefault = \"{map_default}\"\n\"{ALICE}@%\" = \"{ALICE}\"\n"
        ),
    )
    .expect("write credentials");
    std::fs::set_permissions(&creds, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let mut args: Vec<String> = vec![
        "--backend-identity".into(),
        match identity {
            Identity::Mapped => "mapped".into(),
            Identity::PassThrough => "pass-through".into(),
        },
        "--backend-credentials-file".into(),
        creds.display().to_string(),
    ];
    match &leg {
        Leg::Tls(ca) => args.extend([
            "--backend-host".into(),
            "127.0.0.1".into(),
            "--backend-port".into(),
            b.port.to_string(),
            "--backend-ssl-mode".into(),
            "VERIFY_IDENTITY".into(),
            "--backend-ssl-ca".into(),
            ca.display().to_string(),
        ]),
        Leg::Socket => args.extend(["--backend-socket".into(), b.socket.display().to_string()]),
        Leg::Unreachable(port) => args.extend([
            "--backend-host".into(),
            "127.0.0.1".into(),
            "--backend-port".into(),
            port.to_string(),
            "--backend-ssl-mode".into(),
            "REQUIRED".into(),
        ]),
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    if trace {
        args.extend(["--log-level".into(), "trace".into()]);
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let srv = Server::start_in(dir, &refs);
    let door = Door {
        srv,
        identity,
        label,
    };
    let native = |u: &str, pw: &str| {
        format!("CREATE USER '{u}'@'%' IDENTIFIED WITH mysql_native_password BY '{pw}';")
    };
    let sql = match identity {
        Identity::Mapped => [
            native(APP_USER, DOOR_APP_PW),
            native(ALICE, DOOR_ALICE_PW),
            native(BOB, DOOR_BOB_PW),
        ]
        .concat(),
        Identity::PassThrough => [
            native(APP_USER, APP_PW),
            native(ALICE, ALICE_PW),
            native(APP_TLS_USER, APP_TLS_PW),
        ]
        .concat(),
    };
    door.admin_sql(&sql);
    door
}

impl Door {
    fn admin_socket(&self) -> PathBuf {
        self.srv.datadir().join("admin.sock")
    }

    /// Runs Vestibule's own SQL as root on the admin socket; panics unless it succeeds.
    fn admin_sql(&self, sql: &str) -> String {
        let mut cmd = Command::new("mariadb");
        cmd.arg("--no-defaults")
            .args(["--protocol=SOCKET", "--skip-ssl"])
            .arg(format!("--socket={}", self.admin_socket().display()))
            .args(["-uroot", &format!("--password={}", common::ROOT_PW)])
            .args(["-N", "-B", "--connect-timeout=10", "-e", sql]);
        for var in [
            "MYSQL_PWD",
            "MYSQL_HOST",
            "MYSQL_TCP_PORT",
            "MYSQL_UNIX_PORT",
        ] {
            cmd.env_remove(var);
        }
        let r = common::run(
            cmd,
            format!("[{}] admin socket: {sql}", self.label),
            "install it: apt-get install -y mariadb-client",
        );
        self.ok(r)
    }

    /// Asserts the client succeeded (as `common::ok`); its stdout.
    #[track_caller]
    fn ok(&self, r: Run) -> String {
        if r.status != Some(0) || r.stdout.starts_with("CONNECT ERROR") {
            panic!(
                "{} failed (exit {:?})\nstdout:\n{}\nstderr:\n{}\nserver log (tail):\n{}",
                r.what,
                r.status,
                r.stdout,
                r.stderr,
                self.log_tail()
            );
        }
        r.stdout
    }

    /// Asserts the client failed (as `common::failed`); its stdout and stderr.
    #[track_caller]
    fn failed(&self, r: Run) -> String {
        if r.status == Some(0) {
            panic!(
                "{} unexpectedly succeeded\nstdout:\n{}\nserver log (tail):\n{}",
                r.what,
                r.stdout,
                self.log_tail()
            );
        }
        format!("{}{}", r.stdout, r.stderr)
    }

    /// The door's main TCP port, plain, as `user`.
    fn tcp(&self, user: &str, pw: &str) -> Target {
        Target {
            what: format!("door {} ({:?}) over TCP", self.label, self.identity),
            port: self.srv.port,
            socket: None,
            ca: None,
            user: user.into(),
            password: pw.into(),
            db: None,
        }
    }

    /// The door's main TCP port over TLS (the door's own CA).
    fn tls(&self, user: &str, pw: &str) -> Target {
        let mut t = self.tcp(user, pw).with_tls(PathBuf::from(self.srv.ca()));
        t.what = format!("door {} ({:?}) over TLS", self.label, self.identity);
        t
    }

    /// The door's main Unix socket (relayed, as the main port).
    fn socket(&self, user: &str, pw: &str) -> Target {
        let mut t = self.tcp(user, pw);
        t.socket = Some(PathBuf::from(self.srv.socket()));
        t.what = format!("door {} ({:?}) over its socket", self.label, self.identity);
        t
    }

    /// The door account `app` and its password in this mode.
    fn app(&self) -> (&'static str, &'static str) {
        match self.identity {
            Identity::Mapped => (APP_USER, DOOR_APP_PW),
            Identity::PassThrough => (APP_USER, APP_PW),
        }
    }

    fn log_tail(&self) -> String {
        self.srv.log_tail()
    }

    /// The `Backend_*` status variables (docs/proxy.md §10) from the admin socket.
    fn status(&self) -> BTreeMap<String, String> {
        self.admin_sql("SHOW GLOBAL STATUS LIKE 'Backend%'")
            .lines()
            .filter_map(|l| l.split_once('\t'))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// Asserts some status variables; `what` names the moment.
    #[track_caller]
    fn expect_status(&self, what: &str, want: &[(&str, &str)]) {
        if let Some(problem) = self.status_problem(what, want) {
            panic!("{problem}\n--- door log (tail):\n{}", self.log_tail());
        }
    }

    /// What differs in these status variables, if anything.
    fn status_problem(&self, what: &str, want: &[(&str, &str)]) -> Option<String> {
        let all = self.status();
        let want: BTreeMap<&str, &str> = want.iter().copied().collect();
        let got: BTreeMap<&str, &str> = want
            .keys()
            .map(|k| (*k, all.get(*k).map_or("(missing)", String::as_str)))
            .collect();
        (got != want).then(|| {
            let diff: Vec<String> = want
                .iter()
                .filter(|(k, v)| got[*k] != **v)
                .map(|(k, v)| format!("{k} = {} (want {v})", got[*k]))
                .collect();
            format!(
                "[{}] status after {what}: {}\n    all: {all:?}",
                self.label,
                diff.join(", ")
            )
        })
    }

    /// Waits (5 s at most) until the status variable `name` is `value`: hand-backs run in the
    /// background after the client has gone.
    #[track_caller]
    fn wait_status(&self, name: &str, value: &str) {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let all = self.status();
            if all.get(name).map(String::as_str) == Some(value) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "[{}] {name} is not {value} after 5 s\n--- all: {all:?}\n--- door log (tail):\n{}",
                self.label,
                self.log_tail()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Clients
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Client {
    Cli,
    PyMySql,
    ConnectorC,
    ConnectorPure,
    Mysql2,
    MysqlAsync,
}
use Client::*;

const CLIENTS: [Client; 6] = [Cli, PyMySql, ConnectorC, ConnectorPure, Mysql2, MysqlAsync];

impl Client {
    fn short(self) -> &'static str {
        match self {
            Cli => "cli",
            PyMySql => "pym",
            ConnectorC => "cxc",
            ConnectorPure => "cxp",
            Mysql2 => "my2",
            MysqlAsync => "mya",
        }
    }
    /// `binary` (COM_STMT_PREPARE/EXECUTE) or `sql` (PREPARE/EXECUTE statements).
    fn prepared_kind(self) -> &'static str {
        match self {
            Cli | PyMySql => "sql",
            _ => "binary",
        }
    }
    fn python_name(self) -> &'static str {
        match self {
            PyMySql => "pymysql",
            ConnectorC => "connector-cext",
            ConnectorPure => "connector-pure",
            _ => unreachable!("{self:?} is no Python client"),
        }
    }
}

fn proxy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/proxy")
}

fn spec(t: &Target, client: Client, table: &str) -> Value {
    json!({
        // mysql2 checks the host name only for a DNS name (not for an IP address).
        "host": if client == Mysql2 && t.ca.is_some() { "localhost" } else { "127.0.0.1" },
        "port": t.port,
        "socket": t.socket,
        "user": t.user,
        "password": t.password,
        "tls": t.ca.as_ref().map(|ca| json!({ "ca": ca })),
        "table": table,
        "blob_len": BLOB_LEN,
    })
}

/// Runs a script client with `input` as JSON on stdin; its JSON output, or an `Err` with
/// everything it printed.
fn script_json(client: Client, action: &str, input: &Value) -> Result<Value, String> {
    let mut cmd = match client {
        Mysql2 => {
            let mut c = Command::new("node");
            c.arg(proxy_dir().join("node_suite.js"));
            c
        }
        _ => {
            let mut c = common::python();
            c.arg(proxy_dir().join("py_suite.py"))
                .arg(client.python_name());
            c
        }
    };
    cmd.arg(action);
    let r = run_with_input(
        cmd,
        format!("{client:?} {action}"),
        "run `bash scripts/test.sh` once (it installs the Python clients and node mysql2)",
        Some(&input.to_string()),
    );
    match (r.status, serde_json::from_str::<Value>(r.stdout.trim())) {
        (Some(0), Ok(v)) => Ok(v),
        _ => Err(format!(
            "{} exited {:?}\nstdout:\n{}\nstderr:\n{}",
            r.what, r.status, r.stdout, r.stderr
        )),
    }
}

/// The suite of `client` against `t`, tables named after `table`; the JSON result (see the
/// module documentation), or an `Err` describing a step that failed outside the expected errors.
fn run_suite(client: Client, t: &Target, table: &str) -> Result<Value, String> {
    match client {
        Cli => cli_suite(t, table),
        MysqlAsync => block_on(mysql_async_suite(t, table)),
        _ => script_json(client, "suite", &spec(t, client, table)),
    }
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

// ---------------------------------------------------------------------------------------------
// The mariadb CLI
// ---------------------------------------------------------------------------------------------

fn cli_cmd(t: &Target, extra: &[&str]) -> Command {
    let mut cmd = Command::new("mariadb");
    cmd.arg("--no-defaults");
    match (&t.socket, &t.ca) {
        (Some(s), _) => {
            cmd.args(["--protocol=SOCKET", "--skip-ssl"])
                .arg(format!("--socket={}", s.display()));
        }
        (None, Some(ca)) => {
            cmd.args([
                "--protocol=TCP",
                "-h127.0.0.1",
                &format!("-P{}", t.port),
                "--ssl",
            ])
            .arg(format!("--ssl-ca={}", ca.display()))
            .arg("--ssl-verify-server-cert");
        }
        (None, None) => {
            cmd.args([
                "--protocol=TCP",
                "-h127.0.0.1",
                &format!("-P{}", t.port),
                "--skip-ssl",
            ]);
        }
    }
    cmd.arg(format!("-u{}", t.user))
        .arg(format!("--password={}", t.password))
        .args([
            "-N",
            "-B",
            "--connect-timeout=10",
            "--max-allowed-packet=64M",
        ])
        .args(extra);
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

/// The CLI reading `script` from stdin.
fn cli(t: &Target, extra: &[&str], script: &str) -> Run {
    let shown: String = script.chars().take(200).collect();
    run_with_input(
        cli_cmd(t, extra),
        format!("mariadb CLI via {} as {}: {shown}", t.what, t.user),
        "install it: apt-get install -y mariadb-client",
        Some(script),
    )
}

/// `ERROR 1146 (42S02) at line 1: Table …` (or `ERROR 1429 (HY000): …` at connect) as the JSON
/// error object.
fn cli_error(line: &str) -> Option<Value> {
    let rest = line.strip_prefix("ERROR ")?;
    let (code, rest) = rest.split_once(" (")?;
    let (state, rest) = rest.split_once(')')?;
    let msg = match rest.strip_prefix(": ") {
        Some(m) => m,
        None => rest.split_once(": ")?.1,
    };
    Some(json!({ "code": code.parse::<u64>().ok()?, "sqlstate": state, "msg": msg }))
}

fn cli_errors(text: &str) -> Vec<Value> {
    text.lines().filter_map(cli_error).collect()
}

fn tsv_rows(lines: &[&str]) -> Value {
    Value::Array(
        lines
            .iter()
            .map(|l| Value::Array(l.split('\t').map(Value::from).collect()))
            .collect(),
    )
}

fn cli_suite(t: &Target, table: &str) -> Result<Value, String> {
    let fail = |r: &Run| {
        format!(
            "{} exited {:?}\nstdout:\n{}\nstderr:\n{}",
            r.what,
            r.status,
            r.stdout.chars().take(2000).collect::<String>(),
            r.stderr
        )
    };
    // 1. Rows, a transaction, prepared statements (SQL: the CLI has no binary protocol). Lines
    //    starting with `#` open a section.
    let script = format!(
        "SELECT CONNECTION_ID();
SELECT CURRENT_USER(), USER();
SHOW SESSION STATUS LIKE 'Ssl_version';
DROP TABLE IF EXISTS test.{table}, test.{table}_blob;
CREATE TABLE test.{table} (id INT PRIMARY KEY, v VARCHAR(20)) ENGINE=InnoDB;
INSERT INTO test.{table} VALUES (1, 'one'), (2, 'two');
SELECT '#rows';
SELECT id, v FROM test.{table} ORDER BY id;
START TRANSACTION;
INSERT INTO test.{table} VALUES (3, 'three');
SELECT '#inside';
SELECT COUNT(*) FROM test.{table};
ROLLBACK;
SELECT '#after';
SELECT id, v FROM test.{table} ORDER BY id;
PREPARE ins FROM 'INSERT INTO test.{table} VALUES (?, ?)';
SET @id = 4, @v = 'four';
EXECUTE ins USING @id, @v;
PREPARE sel FROM 'SELECT id, v FROM test.{table} WHERE id >= ? ORDER BY id';
SET @min = 2;
SELECT '#prepared';
EXECUTE sel USING @min;
DEALLOCATE PREPARE ins;
DEALLOCATE PREPARE sel;
"
    );
    let r = cli(t, &[], &script);
    if r.status != Some(0) {
        if let Some(e) = r.stderr.lines().find_map(cli_error) {
            if !r.stdout.contains('\n') {
                return Ok(json!({ "connect_error": e }));
            }
        }
        return Err(fail(&r));
    }
    let mut sections: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    let mut current = String::from("head");
    for line in r.stdout.lines() {
        if let Some(name) = line.strip_prefix('#') {
            current = name.to_string();
            sections.entry(current.clone()).or_default();
        } else {
            sections.entry(current.clone()).or_default().push(line);
        }
    }
    let head = sections.get("head").cloned().unwrap_or_default();
    if head.len() != 3 {
        return Err(format!(
            "unexpected head of the output: {head:?}\n{}",
            fail(&r)
        ));
    }
    let section = |name: &str| tsv_rows(sections.get(name).map_or(&[][..], |v| &v[..]));
    let mut out = serde_json::Map::new();
    out.insert("conn_id".into(), head[0].into());
    out.insert("who".into(), tsv_rows(&head[1..2])[0].clone());
    out.insert("ssl_version".into(), tsv_rows(&head[2..3])[0][1].clone());
    out.insert("rows".into(), section("rows"));
    out.insert(
        "txn".into(),
        json!({ "inside": section("inside")[0][0], "after": section("after") }),
    );
    out.insert(
        "prepared".into(),
        json!({ "kind": "sql", "rows": section("prepared") }),
    );

    // 2. The BLOB: in as a hex literal (40 MiB of statement), out as HEX() (40 MiB of row).
    let data = blob();
    let mut script = format!(
        "CREATE TABLE test.{table}_blob (id INT PRIMARY KEY, data LONGBLOB) ENGINE=InnoDB;\n\
         INSERT INTO test.{table}_blob VALUES (1, X'"
    );
    script.reserve(data.len() * 2 + 400);
    script.push_str(&hex(&data));
    script.push_str(&format!(
        "');\nSELECT LENGTH(data), SHA2(data, 256) FROM test.{table}_blob WHERE id = 1;\n\
         SELECT HEX(data) FROM test.{table}_blob WHERE id = 1;\n\
         DROP TABLE test.{table}_blob;\n"
    ));
    let r = cli(t, &[], &script);
    drop(script);
    if r.status != Some(0) {
        return Err(fail(&r));
    }
    let lines: Vec<&str> = r.stdout.lines().collect();
    if lines.len() != 2 {
        return Err(format!("BLOB: {} output lines\n{}", lines.len(), fail(&r)));
    }
    let server: Vec<&str> = lines[0].split('\t').collect();
    let fetched = unhex(lines[1]).ok_or_else(|| "BLOB: HEX() output is no hex".to_string())?;
    out.insert(
        "blob".into(),
        json!({
            "server_len": server[0],
            "server_sha": server.get(1).copied().unwrap_or_default(),
            "fetched_len": fetched.len().to_string(),
            "fetched_sha": hex(&sha2::Sha256::digest(&fetched)),
        }),
    );

    // 3. One COM_QUERY with two statements (the CLI splits at `;` unless the delimiter is
    //    another), column names on to tell the result sets apart.
    let r = cli(
        t,
        &["--column-names"],
        "DELIMITER //\nSELECT 1 AS first_set; SELECT 2 AS second_set//\n",
    );
    if r.status != Some(0) {
        return Err(fail(&r));
    }
    let mut sets: Vec<Value> = vec![];
    for line in r.stdout.lines() {
        if line == "first_set" || line == "second_set" {
            sets.push(json!([]));
        } else if let Some(Value::Array(set)) = sets.last_mut() {
            set.push(json!([line]));
        } else {
            return Err(format!("multi-statement output: {:?}", r.stdout));
        }
    }
    out.insert("multi".into(), Value::Array(sets));

    // 4. Errors, then a statement on the same session (`--force` goes on after an error).
    let r = cli(
        t,
        &["--force"],
        "SELECT * FROM test.no_such_table;\nSELEC 1;\nSELECT 'still here';\n",
    );
    let errors = cli_errors(&r.stderr);
    if errors.len() != 2 {
        return Err(format!("expected two errors\n{}", fail(&r)));
    }
    out.insert(
        "errors".into(),
        json!({ "missing_table": errors[0], "syntax": errors[1] }),
    );
    out.insert(
        "after_errors".into(),
        tsv_rows(&r.stdout.lines().collect::<Vec<_>>()),
    );
    Ok(Value::Object(out))
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    if !b.len().is_multiple_of(2) {
        return None;
    }
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    b.chunks(2)
        .map(|p| Some(digit(p[0])? << 4 | digit(p[1])?))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// mysql_async (in process)
// ---------------------------------------------------------------------------------------------

use mysql_async::prelude::Queryable;

fn async_opts(t: &Target) -> mysql_async::OptsBuilder {
    // prefer_socket(false): otherwise mysql_async reconnects over `@@socket` after a TCP login.
    let mut b = mysql_async::OptsBuilder::default()
        .user(Some(&t.user))
        .pass(Some(&t.password))
        .db_name(t.db.as_deref())
        .prefer_socket(false);
    b = match &t.socket {
        Some(s) => b.socket(Some(s.display().to_string())),
        None => b.ip_or_hostname("127.0.0.1").tcp_port(t.port),
    };
    if let Some(ca) = &t.ca {
        b = b.ssl_opts(Some(
            mysql_async::SslOpts::default()
                .with_root_certs(vec![ca.clone().into()])
                .with_disable_built_in_roots(true),
        ));
    }
    b
}

async fn async_connect(t: &Target) -> Result<mysql_async::Conn, mysql_async::Error> {
    mysql_async::Conn::new(async_opts(t)).await
}

/// A server error as the scripts print it; anything else as `{"client_error": …}`.
fn async_err(e: &mysql_async::Error) -> Value {
    match e {
        mysql_async::Error::Server(s) => {
            json!({ "code": s.code, "sqlstate": s.state, "msg": s.message })
        }
        other => json!({ "client_error": other.to_string() }),
    }
}

fn cell(v: &mysql_async::Value) -> Value {
    use mysql_async::Value as V;
    match v {
        V::NULL => Value::Null,
        V::Bytes(b) => String::from_utf8_lossy(b).into_owned().into(),
        V::Int(i) => i.to_string().into(),
        V::UInt(u) => u.to_string().into(),
        other => format!("{other:?}").into(),
    }
}

fn rows_json(rows: &[mysql_async::Row]) -> Value {
    Value::Array(
        rows.iter()
            .map(|r| {
                Value::Array(
                    (0..r.len())
                        .map(|i| r.as_ref(i).map_or(Value::Null, cell))
                        .collect(),
                )
            })
            .collect(),
    )
}

async fn text_rows(conn: &mut mysql_async::Conn, sql: &str) -> Result<Value, String> {
    let rows: Vec<mysql_async::Row> = conn.query(sql).await.map_err(|e| format!("{sql}: {e}"))?;
    Ok(rows_json(&rows))
}

async fn mysql_async_suite(t: &Target, table: &str) -> Result<Value, String> {
    let mut conn = match async_connect(t).await {
        Ok(c) => c,
        Err(e) => return Ok(json!({ "connect_error": async_err(&e) })),
    };
    let tb = table;
    let mut out = serde_json::Map::new();
    out.insert(
        "conn_id".into(),
        text_rows(&mut conn, "SELECT CONNECTION_ID()").await?[0][0].clone(),
    );
    out.insert("greeting_id".into(), conn.id().to_string().into());
    out.insert(
        "who".into(),
        text_rows(&mut conn, "SELECT CURRENT_USER(), USER()").await?[0].clone(),
    );
    out.insert(
        "ssl_version".into(),
        text_rows(&mut conn, "SHOW SESSION STATUS LIKE 'Ssl_version'").await?[0][1].clone(),
    );
    for sql in [
        format!("DROP TABLE IF EXISTS test.{tb}, test.{tb}_blob"),
        format!("CREATE TABLE test.{tb} (id INT PRIMARY KEY, v VARCHAR(20)) ENGINE=InnoDB"),
        format!("INSERT INTO test.{tb} VALUES (1, 'one'), (2, 'two')"),
    ] {
        text_rows(&mut conn, &sql).await?;
    }
    let select = format!("SELECT id, v FROM test.{tb} ORDER BY id");
    out.insert("rows".into(), text_rows(&mut conn, &select).await?);
    text_rows(&mut conn, "START TRANSACTION").await?;
    text_rows(
        &mut conn,
        &format!("INSERT INTO test.{tb} VALUES (3, 'three')"),
    )
    .await?;
    let inside = text_rows(&mut conn, &format!("SELECT COUNT(*) FROM test.{tb}")).await?;
    text_rows(&mut conn, "ROLLBACK").await?;
    out.insert(
        "txn".into(),
        json!({ "inside": inside[0][0], "after": text_rows(&mut conn, &select).await? }),
    );

    // The binary protocol (exec: COM_STMT_PREPARE, COM_STMT_EXECUTE).
    let e = |e: mysql_async::Error| format!("prepared statement: {e}");
    conn.exec_drop(format!("INSERT INTO test.{tb} VALUES (?, ?)"), (4, "four"))
        .await
        .map_err(e)?;
    let rows: Vec<mysql_async::Row> = conn
        .exec(
            format!("SELECT id, v FROM test.{tb} WHERE id >= ? ORDER BY id"),
            (2,),
        )
        .await
        .map_err(e)?;
    out.insert(
        "prepared".into(),
        json!({ "kind": "binary", "rows": rows_json(&rows) }),
    );

    let data = blob();
    text_rows(
        &mut conn,
        &format!("CREATE TABLE test.{tb}_blob (id INT PRIMARY KEY, data LONGBLOB) ENGINE=InnoDB"),
    )
    .await?;
    conn.exec_drop(
        format!("INSERT INTO test.{tb}_blob VALUES (?, ?)"),
        (1, data),
    )
    .await
    .map_err(|e| format!("BLOB insert: {e}"))?;
    let server = text_rows(
        &mut conn,
        &format!("SELECT LENGTH(data), SHA2(data, 256) FROM test.{tb}_blob WHERE id = 1"),
    )
    .await?;
    let fetched: Vec<u8> = conn
        .exec_first(
            format!("SELECT data FROM test.{tb}_blob WHERE id = ?"),
            (1,),
        )
        .await
        .map_err(|e| format!("BLOB select: {e}"))?
        .ok_or("BLOB select: no row")?;
    out.insert(
        "blob".into(),
        json!({
            "server_len": server[0][0],
            "server_sha": server[0][1],
            "fetched_len": fetched.len().to_string(),
            "fetched_sha": hex(&sha2::Sha256::digest(&fetched)),
        }),
    );
    drop(fetched);
    text_rows(&mut conn, &format!("DROP TABLE test.{tb}_blob")).await?;

    let mut sets = vec![];
    {
        let mut res = conn
            .query_iter("SELECT 1; SELECT 2")
            .await
            .map_err(|e| format!("multi-statement: {e}"))?;
        while !res.is_empty() {
            let rows: Vec<mysql_async::Row> = res
                .collect()
                .await
                .map_err(|e| format!("multi-statement: {e}"))?;
            sets.push(rows_json(&rows));
        }
    }
    out.insert("multi".into(), Value::Array(sets));

    let mut errors = serde_json::Map::new();
    for (key, sql) in [
        ("missing_table", "SELECT * FROM test.no_such_table"),
        ("syntax", "SELEC 1"),
    ] {
        let r: Result<Vec<mysql_async::Row>, _> = conn.query(sql).await;
        errors.insert(
            key.into(),
            match r {
                Ok(_) => Value::Null,
                Err(e) => async_err(&e),
            },
        );
    }
    out.insert("errors".into(), Value::Object(errors));
    out.insert(
        "after_errors".into(),
        text_rows(&mut conn, "SELECT 'still here'").await?,
    );
    let _ = conn.disconnect().await;
    Ok(Value::Object(out))
}

// ---------------------------------------------------------------------------------------------
// Checking a suite
// ---------------------------------------------------------------------------------------------

fn error_json(code: u64, state: &str, msg: &str) -> Value {
    json!({ "code": code, "sqlstate": state, "msg": msg })
}

fn expected_suite(client: Client, who: [&str; 2], ssl_version: &str) -> Value {
    let two = json!([["1", "one"], ["2", "two"]]);
    json!({
        "who": who,
        "ssl_version": ssl_version,
        "rows": two,
        "txn": { "inside": "3", "after": two },
        "prepared": { "kind": client.prepared_kind(), "rows": [["2", "two"], ["4", "four"]] },
        "blob": {
            "server_len": BLOB_LEN.to_string(),
            "server_sha": blob_sha(),
            "fetched_len": BLOB_LEN.to_string(),
            "fetched_sha": blob_sha(),
        },
        "multi": [[["1"]], [["2"]]],
        "errors": {
            "missing_table": error_json(1146, "42S02", MSG_1146),
            "syntax": error_json(1064, "42000", MSG_1064),
        },
        "after_errors": [["still here"]],
    })
}

/// Checks one suite result; a list of what differs (empty: all as expected). `baseline` is the
/// same client's result directly against MariaDB: the errors must be identical to it.
fn check_suite(
    client: Client,
    got: &Value,
    who: [&str; 2],
    ssl_version: &str,
    baseline: Option<&Value>,
) -> Vec<String> {
    let mut problems = vec![];
    let Some(obj) = got.as_object() else {
        return vec![format!("not a JSON object: {got}")];
    };
    if let Some(e) = obj.get("connect_error") {
        return vec![format!("login failed: {e}")];
    }
    let conn_id = obj.get("conn_id").and_then(Value::as_str).unwrap_or("");
    if conn_id.parse::<u64>().is_err() {
        problems.push(format!(
            "SELECT CONNECTION_ID() gave {:?}",
            obj.get("conn_id")
        ));
    }
    if let Some(g) = obj.get("greeting_id") {
        if g.as_str() != Some(conn_id) {
            problems.push(format!(
                "SELECT CONNECTION_ID() = {conn_id:?} but the greeting's connection id is {g}"
            ));
        }
    }
    let want = expected_suite(client, who, ssl_version);
    for (key, w) in want.as_object().expect("object") {
        let g = obj.get(key).unwrap_or(&Value::Null);
        if g != w {
            problems.push(format!("{key}: got {g}\n    want {w}"));
        }
    }
    if let Some(base) = baseline {
        if obj.get("errors") != base.get("errors") {
            problems.push(format!(
                "errors differ from MariaDB's own for the same statements:\n    got    {}\n    direct {}",
                obj.get("errors").unwrap_or(&Value::Null),
                base.get("errors").unwrap_or(&Value::Null)
            ));
        }
    }
    problems
}

/// Each client's suite directly against MariaDB (computed once, checked by the caller).
fn baseline(b: &Backend, client: Client) -> Value {
    static CACHE: Mutex<BTreeMap<Client, Value>> = Mutex::new(BTreeMap::new());
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(v) = cache.get(&client) {
        return v.clone();
    }
    let t = Target::direct(b, APP_USER, APP_PW);
    let v = run_suite(client, &t, &format!("d_{}", client.short())).unwrap_or_else(|e| {
        panic!(
            "{client:?} directly against MariaDB: {e}\nMariaDB error log:\n{}",
            b.error_log_tail()
        )
    });
    let problems = check_suite(client, &v, ["app@%", "app@127.0.0.1"], "", None);
    assert!(
        problems.is_empty(),
        "{client:?} directly against MariaDB (the baseline itself is wrong):\n  {}",
        problems.join("\n  ")
    );
    cache.insert(client, v.clone());
    v
}

/// Runs every client's suite against `target()`; what went wrong, one entry per failing client
/// with every difference (empty: all passed).
fn every_client(
    b: &Backend,
    door: &Door,
    prefix: &str,
    clients: &[Client],
    target: impl Fn() -> Target,
    who: [&str; 2],
    ssl_version: &str,
) -> Vec<String> {
    let mut report = vec![];
    for &client in clients {
        let base = baseline(b, client);
        let t = target();
        let started = Instant::now();
        let table = format!("{prefix}_{}", client.short());
        match run_suite(client, &t, &table) {
            Ok(got) => {
                let problems = check_suite(client, &got, who, ssl_version, Some(&base));
                if !problems.is_empty() {
                    report.push(format!(
                        "{client:?} via {}:\n  {}",
                        t.what,
                        problems.join("\n  ")
                    ));
                }
            }
            Err(e) => report.push(format!("{client:?} via {}: {e}", t.what)),
        }
        eprintln!(
            "[{}] {client:?} suite via {}: {:?}",
            door.label,
            t.what,
            started.elapsed()
        );
    }
    if !report.is_empty() {
        report.push(format!(
            "--- door {} log (tail):\n{}",
            door.label,
            door.log_tail()
        ));
    }
    report
}

#[track_caller]
fn assert_no_report(report: &[String]) {
    assert!(report.is_empty(), "\n{}", report.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// Scenario 1: both identity modes, every client
// ---------------------------------------------------------------------------------------------

/// The suite directly against MariaDB: validates the clients and the expectations themselves.
#[test]
fn direct_baseline_every_client() {
    let (b, _g) = shared();
    for client in CLIENTS {
        baseline(b, client);
    }
}

/// Mapped: the door account `app` has its own door password; the backend sees the service
/// account `app` (from the credentials file) connecting from 127.0.0.1.
#[test]
fn mapped_identity_every_client() {
    let (b, _g) = shared();
    let door = start_door(
        "mapped",
        b,
        Identity::Mapped,
        Leg::Tls(b.ca.clone()),
        APP_USER,
        &[],
    );
    let report = every_client(
        b,
        &door,
        "m",
        &CLIENTS,
        || door.tcp(APP_USER, DOOR_APP_PW),
        ["app@%", "app@127.0.0.1"],
        "",
    );
    assert_no_report(&report);
}

/// Pass-through: the door account `app` has MariaDB's password (mysql_native_password); the
/// backend checks it itself.
#[test]
fn pass_through_identity_every_client() {
    let (b, _g) = shared();
    let door = start_door(
        "pass-through",
        b,
        Identity::PassThrough,
        Leg::Tls(b.ca.clone()),
        APP_USER,
        &[],
    );
    let report = every_client(
        b,
        &door,
        "p",
        &CLIENTS,
        || door.tcp(APP_USER, APP_PW),
        ["app@%", "app@127.0.0.1"],
        "",
    );
    assert_no_report(&report);
}

// ---------------------------------------------------------------------------------------------
// Scenario 2: COM_CHANGE_USER
// ---------------------------------------------------------------------------------------------

/// Logs in, sets `@marker`, then COM_CHANGE_USER to each of `to` in turn; after each, what the
/// backend says (`CURRENT_USER()`, `@marker`, which a change of user resets) and a table read.
async fn mysql_async_change_user(t: &Target, to: &[(&str, &str)]) -> Result<Value, String> {
    let mut conn = match async_connect(t).await {
        Ok(c) => c,
        Err(e) => return Ok(json!({ "connect_error": async_err(&e) })),
    };
    let mut steps = vec![];
    text_rows(&mut conn, "SET @marker = 'before'").await?;
    steps.push(json!({ "who": text_rows(&mut conn, "SELECT CURRENT_USER(), @marker").await?[0] }));
    for (user, pw) in to {
        let opts = mysql_async::ChangeUserOpts::default()
            .with_user(Some(user.to_string()))
            .with_pass(Some(pw.to_string()));
        if let Err(e) = conn.change_user(opts).await {
            steps.push(json!({ "error": async_err(&e) }));
            break;
        }
        let who = text_rows(&mut conn, "SELECT CURRENT_USER(), @marker").await?[0].clone();
        let rows = text_rows(&mut conn, "SELECT id, v FROM test.cu_rows ORDER BY id").await?;
        text_rows(&mut conn, "SET @marker = 'set'").await?;
        steps.push(json!({ "who": who, "rows": rows }));
    }
    let _ = conn.disconnect().await;
    Ok(json!({ "steps": steps }))
}

fn change_user_run(client: Client, t: &Target, to: &[(&str, &str)]) -> Result<Value, String> {
    match client {
        MysqlAsync => block_on(mysql_async_change_user(t, to)),
        ConnectorC | ConnectorPure => {
            let mut s = spec(t, client, "cu_rows");
            s["change_to"] = json!(to);
            script_json(client, "change_user", &s)
        }
        _ => unreachable!("{client:?} has no COM_CHANGE_USER here"),
    }
}

fn expected_change_user(first: &str, then: &[&str]) -> Value {
    let rows = json!([["1", "one"], ["2", "two"]]);
    let mut steps = vec![json!({ "who": [first, "before"] })];
    for who in then {
        steps.push(json!({ "who": [who, null], "rows": rows }));
    }
    json!({ "steps": steps })
}

#[test]
fn change_user_in_both_modes() {
    let (b, _g) = shared();
    let clients = [MysqlAsync, ConnectorPure, ConnectorC];
    let mut report = vec![];
    let check = |what: String, got: Result<Value, String>, want: &Value, log: &str| match got {
        Ok(g) if &g == want => None,
        Ok(g) => Some(format!(
            "{what}:\n  got  {g}\n  want {want}\n--- door log (tail):\n{log}"
        )),
        Err(e) => Some(format!("{what}: {e}\n--- door log (tail):\n{log}")),
    };
    // Directly: app → alice → app, as a baseline of the clients' behaviour.
    let direct = Target::direct(b, APP_USER, APP_PW);
    let to = [(ALICE, ALICE_PW), (APP_USER, APP_PW)];
    let want = expected_change_user("app@%", &["alice@%", "app@%"]);
    for client in clients {
        let got = change_user_run(client, &direct, &to);
        report.extend(check(format!("{client:?} directly"), got, &want, ""));
    }
    assert!(report.is_empty(), "{}", report.join("\n"));

    // Mapped: app (→ backend app) → alice (→ backend alice, by the map) → bob (→ the default,
    // backend app). The backend sees the service accounts; each change resets the session.
    let door = start_door(
        "mapped",
        b,
        Identity::Mapped,
        Leg::Tls(b.ca.clone()),
        APP_USER,
        &[],
    );
    let to = [(ALICE, DOOR_ALICE_PW), (BOB, DOOR_BOB_PW)];
    let want = expected_change_user("app@%", &["alice@%", "app@%"]);
    for client in clients {
        let got = change_user_run(client, &door.tcp(APP_USER, DOOR_APP_PW), &to);
        report.extend(check(
            format!("{client:?} via the mapped door"),
            got,
            &want,
            &door.log_tail(),
        ));
    }
    drop(door);

    // Pass-through: app → alice → app, the backend checking each.
    let door = start_door(
        "pass-through",
        b,
        Identity::PassThrough,
        Leg::Tls(b.ca.clone()),
        APP_USER,
        &[],
    );
    let to = [(ALICE, ALICE_PW), (APP_USER, APP_PW)];
    let want = expected_change_user("app@%", &["alice@%", "app@%"]);
    for client in clients {
        let got = change_user_run(client, &door.tcp(APP_USER, APP_PW), &to);
        report.extend(check(
            format!("{client:?} via the pass-through door"),
            got,
            &want,
            &door.log_tail(),
        ));
    }
    assert!(report.is_empty(), "{}", report.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// Scenario 3: KILL QUERY by the door's connection id
// ---------------------------------------------------------------------------------------------

/// Waits (10 s at most) until MariaDB runs a `SELECT SLEEP(30)`, asking it as root over TCP.
async fn wait_for_sleep(b: &Backend) -> Result<(), String> {
    let root = Target::direct(b, "root", common::mariadb::ROOT_PW);
    let mut c = async_connect(&root)
        .await
        .map_err(|e| format!("root login to MariaDB: {e}"))?;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let n: Option<u64> = c
            .query_first(
                "SELECT COUNT(*) FROM information_schema.PROCESSLIST \
                 WHERE INFO = 'SELECT SLEEP(30)'",
            )
            .await
            .map_err(|e| format!("PROCESSLIST: {e}"))?;
        if n.unwrap_or(0) > 0 {
            let _ = c.disconnect().await;
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err("SELECT SLEEP(30) did not reach MariaDB within 10 s".into());
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Session A runs `SELECT SLEEP(30)`; session B (same account) sends `KILL QUERY <A's id>`, the
/// id from A's greeting (which `SELECT CONNECTION_ID()` must also give). Returns what A got, how
/// long A's statement took, A's next statement, and B's `KILL QUERY 999999`.
async fn kill_query_run(b: &Backend, t: &Target) -> Result<Value, String> {
    let e = |what: &'static str| move |e: mysql_async::Error| format!("{what}: {e}");
    let mut a = async_connect(t).await.map_err(e("session A login"))?;
    let greeting_id = a.id();
    let conn_id = text_rows(&mut a, "SELECT CONNECTION_ID()").await?[0][0].clone();
    let sleeper = tokio::spawn(async move {
        let started = Instant::now();
        let r: Result<Option<i64>, _> = a.query_first("SELECT SLEEP(30)").await;
        (r, started.elapsed(), a)
    });
    wait_for_sleep(b).await?;
    let mut bconn = async_connect(t).await.map_err(e("session B login"))?;
    let kill = bconn
        .query_drop(format!("KILL QUERY {greeting_id}"))
        .await
        .map_err(|e| async_err(&e));
    let (slept, elapsed, mut a) = tokio::time::timeout(Duration::from_secs(40), sleeper)
        .await
        .map_err(|_| "SELECT SLEEP(30) did not return within 40 s".to_string())?
        .map_err(|e| format!("sleeper task: {e}"))?;
    let slept = match slept {
        Ok(v) => json!({ "row": v }),
        Err(e) => json!({ "error": async_err(&e) }),
    };
    let after = text_rows(&mut a, "SELECT 'alive'").await?;
    let unknown: Result<(), _> = bconn.query_drop("KILL QUERY 999999").await;
    let _ = a.disconnect().await;
    let _ = bconn.disconnect().await;
    Ok(json!({
        "ids_agree": conn_id.as_str() == Some(greeting_id.to_string().as_str()),
        "kill": kill.err(),
        "slept": slept,
        "prompt": elapsed < Duration::from_secs(10),
        "elapsed_ms": elapsed.as_millis() as u64,
        "after": after,
        "unknown_id": unknown.err().map(|e| async_err(&e)),
    }))
}

#[test]
fn kill_query_by_door_id() {
    let (b, _g) = shared();
    let want = |got: &Value| {
        json!({
            "ids_agree": true,
            "kill": null,
            "slept": { "error": error_json(1317, "70100", "Query execution was interrupted") },
            "prompt": true,
            "elapsed_ms": got["elapsed_ms"],
            "after": [["alive"]],
            "unknown_id": error_json(1094, "HY000", "Unknown thread id: 999999"),
        })
    };
    let direct = block_on(kill_query_run(b, &Target::direct(b, APP_USER, APP_PW)))
        .unwrap_or_else(|e| panic!("directly against MariaDB: {e}"));
    assert_eq!(direct, want(&direct), "directly against MariaDB");

    let mut report = vec![];
    for identity in [Identity::Mapped, Identity::PassThrough] {
        let door = start_door("kill", b, identity, Leg::Tls(b.ca.clone()), APP_USER, &[]);
        let (u, pw) = door.app();
        match block_on(kill_query_run(b, &door.tcp(u, pw))) {
            Ok(got) if got == want(&got) => {
                eprintln!(
                    "[{identity:?}] SLEEP(30) interrupted after {} ms",
                    got["elapsed_ms"]
                );
            }
            Ok(got) => report.push(format!(
                "{identity:?}:\n  got  {got}\n  want {}\n--- door log (tail):\n{}",
                want(&got),
                door.log_tail()
            )),
            Err(e) => report.push(format!(
                "{identity:?}: {e}\n--- door log (tail):\n{}",
                door.log_tail()
            )),
        }
    }
    assert!(report.is_empty(), "{}", report.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// Scenario 4: the backend killed during a session, then restarted
// ---------------------------------------------------------------------------------------------

/// Restarts the backend if a panic left it down, so that the other tests find it running.
struct Revive(&'static Backend);

impl Drop for Revive {
    fn drop(&mut self) {
        let mut db = self.0.db();
        if !db.is_running() {
            db.start_again();
        }
    }
}

#[test]
fn backend_killed_and_restarted() {
    let b = backend();
    let _exclusive = b.gate.write().unwrap_or_else(|e| e.into_inner());
    let _revive = Revive(b);
    let door = start_door(
        "fault",
        b,
        Identity::Mapped,
        Leg::Tls(b.ca.clone()),
        APP_USER,
        &[],
    );
    let t = door.tcp(APP_USER, DOOR_APP_PW);
    let log = || door.log_tail();
    block_on(async {
        // Committed before the crash: still there after the restart.
        let mut setup = async_connect(&t).await.expect("setup login");
        for sql in [
            "DROP TABLE IF EXISTS test.fault_rows",
            "CREATE TABLE test.fault_rows (id INT PRIMARY KEY, v VARCHAR(20)) ENGINE=InnoDB",
            "INSERT INTO test.fault_rows VALUES (1, 'kept')",
        ] {
            setup
                .query_drop(sql)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}\n{}", log()));
        }
        let _ = setup.disconnect().await;

        let mut idle = async_connect(&t).await.expect("idle session login");
        let mut busy = async_connect(&t).await.expect("busy session login");
        let busy_id = busy.id();
        let sleeper = tokio::spawn(async move {
            let r: Result<Option<i64>, _> = busy.query_first("SELECT SLEEP(30)").await;
            (r, busy)
        });
        wait_for_sleep(b)
            .await
            .unwrap_or_else(|e| panic!("{e}\n{}", log()));
        b.db().kill();
        let killed = Instant::now();

        // The session whose statement was running: 1152 (08S01), promptly, not a hang.
        let (r, mut busy) = tokio::time::timeout(Duration::from_secs(15), sleeper)
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "SELECT SLEEP(30) hangs 15 s after the backend was killed\n{}",
                    log()
                )
            })
            .expect("sleeper task");
        let waited = killed.elapsed();
        match &r {
            Err(mysql_async::Error::Server(e)) => {
                assert_eq!(
                    (e.code, e.state.as_str()),
                    (1152, "08S01"),
                    "the interrupted session's error: {e:?}\n{}",
                    log()
                );
                // docs/proxy.md §6.4: MySQL's "Aborted connection" with the reason.
                assert!(
                    e.message
                        .starts_with(&format!("Aborted connection {busy_id} "))
                        && e.message.ends_with("(backend connection lost)"),
                    "1152's message: {:?}\n{}",
                    e.message,
                    log()
                );
            }
            other => panic!(
                "the interrupted session got {other:?}, not ERROR 1152 (08S01)\n{}",
                log()
            ),
        }
        assert!(
            waited < Duration::from_secs(5),
            "1152 came after {waited:?}"
        );
        eprintln!("1152 after {waited:?}");
        // Its connection is closed: the next statement fails at once.
        let next = tokio::time::timeout(Duration::from_secs(5), busy.query_drop("SELECT 1")).await;
        assert!(
            matches!(next, Ok(Err(_))),
            "after 1152 the session's next statement gave {next:?} (expected an error, at once)"
        );
        // An idle session: its next statement fails too, never hangs; if the client reports the
        // door's packet, it is 1152.
        let next = tokio::time::timeout(Duration::from_secs(5), idle.query_drop("SELECT 1")).await;
        match next {
            Ok(Err(mysql_async::Error::Server(e))) => assert_eq!(
                (e.code, e.state.as_str()),
                (1152, "08S01"),
                "the idle session's error: {e:?}\n{}",
                log()
            ),
            Ok(Err(e)) => eprintln!("idle session after the kill: client error {e}"),
            other => panic!(
                "idle session after the backend was killed: {other:?} (expected an error)\n{}",
                log()
            ),
        }

        // New logins while the backend is down: 1429. Pooled connections idle since before the
        // kill are past validate-after (2 s) by now, so none is handed out unchecked.
        let pause = Duration::from_millis(2500).saturating_sub(killed.elapsed());
        tokio::time::sleep(pause).await;
        for attempt in 1..=3 {
            let started = Instant::now();
            match async_connect(&t).await {
                Ok(mut c) => {
                    let r: Result<Vec<mysql_async::Row>, _> = c.query("SELECT 1").await;
                    panic!(
                        "login {attempt} while the backend is down succeeded (then SELECT 1: {r:?})\n{}",
                        log()
                    );
                }
                Err(e) => assert_eq!(
                    async_err(&e),
                    error_json(1429, "HY000", MSG_1429),
                    "login {attempt} while the backend is down\n{}",
                    log()
                ),
            }
            assert!(
                started.elapsed() < Duration::from_secs(7),
                "login {attempt} took {:?} to be refused",
                started.elapsed()
            );
        }
    });
    let r = cli(&t, &[], "SELECT 1;\n");
    let out = door.failed(r);
    assert_eq!(
        cli_errors(&out),
        vec![error_json(1429, "HY000", MSG_1429)],
        "mariadb CLI login while the backend is down:\n{out}"
    );

    // The backend back: a new login succeeds within a few seconds, Vestibule not restarted.
    b.db().start_again();
    let restarted = Instant::now();
    let last = block_on(async {
        loop {
            let r = async {
                let mut c = async_connect(&t).await?;
                let rows: Vec<mysql_async::Row> = c
                    .query("SELECT CURRENT_USER(), v FROM test.fault_rows WHERE id = 1")
                    .await?;
                let _ = c.disconnect().await;
                Ok::<_, mysql_async::Error>(rows_json(&rows))
            }
            .await;
            match r {
                Ok(rows) => return Ok(rows),
                Err(e) if restarted.elapsed() > Duration::from_secs(10) => return Err(e),
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    });
    match last {
        Ok(rows) => {
            assert_eq!(rows, json!([["app@%", "kept"]]));
            eprintln!(
                "login after the restart succeeded {:?} after it",
                restarted.elapsed()
            );
        }
        Err(e) => panic!(
            "no successful login within 10 s of the backend's restart; last: {e}\n{}",
            log()
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// Scenario 5: LOAD DATA LOCAL INFILE
// ---------------------------------------------------------------------------------------------

/// Refused by default (`--backend-local-infile` OFF): the client asks for it, the backend session
/// has no CLIENT_LOCAL_FILES, and MariaDB answers 4166 exactly as it answers a client that
/// disabled local infile itself. No row arrives.
#[test]
fn load_data_local_infile_refused() {
    let (b, _g) = shared();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("rows.csv");
    std::fs::write(&file, "1,a\n2,b\n").expect("write csv");
    let load = |table: &str| {
        format!(
            "LOAD DATA LOCAL INFILE '{}' INTO TABLE test.{table} FIELDS TERMINATED BY ',';\n",
            file.display()
        )
    };
    let count = |table: &str| b.root_sql(&format!("SELECT COUNT(*) FROM test.{table}"));
    b.root_sql(
        "DROP TABLE IF EXISTS test.li_direct, test.li_door;
         CREATE TABLE test.li_direct (id INT, v VARCHAR(5));
         CREATE TABLE test.li_door (id INT, v VARCHAR(5));",
    );
    let refusal = error_json(4166, "HY000", MSG_4166);

    // Directly: the CLI with local infile off gets 4166; with it on, the rows load.
    let direct = Target::direct(b, APP_USER, APP_PW);
    let r = cli(&direct, &["--local-infile=0"], &load("li_direct"));
    assert_eq!(cli_errors(&r.stderr), vec![refusal.clone()], "{r:?}");
    let r = cli(&direct, &["--local-infile=1"], &load("li_direct"));
    assert_eq!(r.status, Some(0), "{r:?}");
    assert_eq!(count("li_direct"), "2\n");

    for identity in [Identity::Mapped, Identity::PassThrough] {
        let door = start_door("infile", b, identity, Leg::Tls(b.ca.clone()), APP_USER, &[]);
        let (u, pw) = door.app();
        let t = door.tcp(u, pw);
        let r = cli(&t, &["--local-infile=1"], &load("li_door"));
        assert_eq!(
            cli_errors(&r.stderr),
            vec![refusal.clone()],
            "{identity:?}: mariadb --local-infile=1 through the door: {r:?}\n{}",
            door.log_tail()
        );
        let mut s = spec(&t, PyMySql, "li_door");
        s["local_infile"] = json!(true);
        s["file"] = json!(file);
        let got = script_json(PyMySql, "local_infile", &s)
            .unwrap_or_else(|e| panic!("{identity:?}: {e}\n{}", door.log_tail()));
        assert_eq!(
            got,
            json!({ "load": refusal, "count": "0" }),
            "{identity:?}: PyMySQL local_infile=True through the door\n{}",
            door.log_tail()
        );
        assert_eq!(count("li_door"), "0\n", "{identity:?}: rows arrived");
    }
}

// ---------------------------------------------------------------------------------------------
// Scenario 6: TLS on both legs; the backend over its Unix socket
// ---------------------------------------------------------------------------------------------

/// The client over TLS to the door, the door over TLS to MariaDB (`VERIFY_IDENTITY` against the
/// fixture's CA). The mapped service account is `app_tls`, which MariaDB accepts only over TLS;
/// `Ssl_version` is the client leg's. A door trusting another CA cannot reach the backend: 1429.
#[test]
fn tls_on_both_legs() {
    let (b, _g) = shared();
    let door = start_door(
        "tls",
        b,
        Identity::Mapped,
        Leg::Tls(b.ca.clone()),
        APP_TLS_USER,
        &[],
    );
    let mut report = every_client(
        b,
        &door,
        "t",
        &CLIENTS,
        || door.tls(APP_USER, DOOR_APP_PW),
        ["app_tls@%", "app_tls@127.0.0.1"],
        "TLSv1.3",
    );

    // VERIFY_IDENTITY against a CA that did not sign MariaDB's certificate (the first door's).
    let wrong_ca = PathBuf::from(door.srv.ca());
    let wrong = start_door(
        "wrong-ca",
        b,
        Identity::Mapped,
        Leg::Tls(wrong_ca),
        APP_USER,
        &[],
    );
    let got = block_on(async_connect(&wrong.tcp(APP_USER, DOOR_APP_PW)));
    let want = error_json(1429, "HY000", MSG_1429);
    match got {
        Err(e) if async_err(&e) == want => {}
        Err(e) => report.push(format!(
            "door wrong-ca (backend certificate not trusted): got {}, want {want}\n{}",
            async_err(&e),
            wrong.log_tail()
        )),
        Ok(_) => report.push(format!(
            "door wrong-ca: login succeeded though the door cannot verify the backend's \
             certificate\n{}",
            wrong.log_tail()
        )),
    }
    assert_no_report(&report);
}

/// `--backend-socket`: the backend sees the door as a socket client (`app@localhost`). Pass-through
/// identity, every client over the door's own Unix socket.
#[test]
fn backend_over_unix_socket() {
    let (b, _g) = shared();
    let door = start_door(
        "socket",
        b,
        Identity::PassThrough,
        Leg::Socket,
        APP_USER,
        &[],
    );
    let report = every_client(
        b,
        &door,
        "s",
        &CLIENTS,
        || door.socket(APP_USER, APP_PW),
        ["app@%", "app@localhost"],
        "",
    );
    assert_no_report(&report);
}

// ---------------------------------------------------------------------------------------------
// mysql_async helpers for the pool and fault scenarios
// ---------------------------------------------------------------------------------------------

/// Logs in, runs `sql`, quits: the rows, or the login's or the statement's error as JSON.
async fn one_shot(t: &Target, sql: &str) -> Result<Value, Value> {
    let mut c = async_connect(t).await.map_err(|e| async_err(&e))?;
    let rows: Result<Vec<mysql_async::Row>, _> = c.query(sql).await;
    let _ = c.disconnect().await;
    rows.map(|r| rows_json(&r)).map_err(|e| async_err(&e))
}

/// Logs in and says who the backend sees, in which default database, and the client leg's
/// `Ssl_version` (`[CURRENT_USER(), DATABASE(), Ssl_version]`); or the error as JSON.
async fn who_where(t: &Target) -> Result<Value, Value> {
    let mut c = async_connect(t).await.map_err(|e| async_err(&e))?;
    let facts = async {
        let who: Vec<mysql_async::Row> = c.query("SELECT CURRENT_USER(), DATABASE()").await?;
        let ssl: Vec<mysql_async::Row> = c.query("SHOW SESSION STATUS LIKE 'Ssl_version'").await?;
        let (who, ssl) = (rows_json(&who), rows_json(&ssl));
        Ok::<_, mysql_async::Error>(json!([who[0][0], who[0][1], ssl[0][1]]))
    }
    .await;
    let _ = c.disconnect().await;
    facts.map_err(|e| async_err(&e))
}

/// A port on 127.0.0.1 where nothing listens (bound, then released).
fn dead_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local address").port()
}

// ---------------------------------------------------------------------------------------------
// docs/proxy.md §9 item 4: isolation across reuse
// ---------------------------------------------------------------------------------------------

/// Session 1 of the isolation test: leaves a user variable, a temporary table, `SET NAMES
/// latin1`, another current database and an uncommitted INSERT behind, then quits (COM_QUIT).
/// Returns its backend thread id (`CONNECTION_ID() + 0` is not the door's intercepted
/// statement), its handshake `[character_set_client, collation_connection]`, and what it saw of
/// its own state just before quitting.
async fn dirty_session(t: &Target) -> Result<(Value, Value, Value), String> {
    let mut c = async_connect(t)
        .await
        .map_err(|e| format!("session 1 login: {e}"))?;
    let id = text_rows(&mut c, "SELECT CONNECTION_ID() + 0").await?[0][0].clone();
    let login = text_rows(
        &mut c,
        "SELECT @@character_set_client, @@collation_connection",
    )
    .await?[0]
        .clone();
    let use_other = format!("USE {OTHER_DB}");
    for sql in [
        "SET @v = 1",
        "CREATE TEMPORARY TABLE test.iso_tmp (id INT)",
        "SET NAMES latin1",
        use_other.as_str(),
        "SET autocommit = 0",
        "INSERT INTO test.iso_rows VALUES (1)",
    ] {
        text_rows(&mut c, sql).await?;
    }
    let state = text_rows(
        &mut c,
        "SELECT @v, @@character_set_client, DATABASE(), @@autocommit, \
         (SELECT COUNT(*) FROM test.iso_rows), (SELECT COUNT(*) FROM test.iso_tmp)",
    )
    .await?;
    c.disconnect()
        .await
        .map_err(|e| format!("session 1 COM_QUIT: {e}"))?;
    Ok((id, login, state))
}

/// Session 2: `[thread id, @v, character_set_client, collation_connection, DATABASE(),
/// @@autocommit]`, the rows of `test.iso_rows` it sees, and what reading the temporary table
/// gives.
async fn clean_session(t: &Target) -> Result<Value, String> {
    let mut c = async_connect(t)
        .await
        .map_err(|e| format!("session 2 login: {e}"))?;
    let state = text_rows(
        &mut c,
        "SELECT CONNECTION_ID() + 0, @v, @@character_set_client, @@collation_connection, \
         DATABASE(), @@autocommit",
    )
    .await?;
    let rows = text_rows(&mut c, "SELECT COUNT(*) FROM test.iso_rows").await?;
    let tmp: Result<Vec<mysql_async::Row>, _> = c.query("SELECT * FROM test.iso_tmp").await;
    c.disconnect()
        .await
        .map_err(|e| format!("session 2 COM_QUIT: {e}"))?;
    Ok(json!({
        "state": state[0],
        "rows": rows[0][0],
        "tmp": match tmp {
            Ok(r) => json!({ "rows": rows_json(&r) }),
            Err(e) => json!({ "error": async_err(&e) }),
        },
    }))
}

/// docs/proxy.md §9 item 4, with `--backend-pool-max-connections 1` so that both sessions can
/// only have the one backend connection.
///
/// 1. Both sessions log in with the default database `test`: session 2 is on session 1's
///    backend thread, and sees none of its state: `@v` NULL, no temporary table (1146), its
///    handshake character set, its own database again, autocommit on, no uncommitted row.
/// 2. Both without a default database: session 1's `USE px_other` cannot be
///    undone (MySQL has no way back to "no database", docs/proxy.md §6.3), so the hand-back
///    closes the connection and session 2 gets a new backend thread, `DATABASE()` NULL.
#[test]
fn isolation_across_reuse() {
    let (b, _g) = shared();
    let door = start_door(
        "iso",
        b,
        Identity::Mapped,
        Leg::Tls(b.ca.clone()),
        APP_USER,
        &["--backend-pool-max-connections", "1"],
    );
    let log = || door.log_tail();
    let no_tmp =
        json!({ "error": error_json(1146, "42S02", "Table 'test.iso_tmp' doesn't exist") });
    // What session 1 sees of its own state before it quits.
    let dirty_state = json!([["1", "latin1", OTHER_DB, "0", "1", "0"]]);
    block_on(async {
        // 1. The same backend thread.
        let t = door.tcp(APP_USER, DOOR_APP_PW).with_db("test");
        let (id1, login, dirty) = dirty_session(&t)
            .await
            .unwrap_or_else(|e| panic!("{e}\n{}", log()));
        assert_eq!(
            login,
            json!(["utf8mb4", "utf8mb4_general_ci"]),
            "session 1's handshake character set"
        );
        assert_eq!(dirty, dirty_state, "session 1's own state");
        door.wait_status("Backend_resets", "1");
        let clean = clean_session(&t)
            .await
            .unwrap_or_else(|e| panic!("{e}\n{}", log()));
        assert_eq!(
            clean,
            json!({
                "state": [id1, null, login[0], login[1], "test", "1"],
                "rows": "0",
                "tmp": no_tmp,
            }),
            "session 2 with the default database test (session 1's backend thread: {id1})\n{}",
            log()
        );
        door.wait_status("Backend_resets", "2");
        door.expect_status(
            "two sessions with the default database test",
            &[
                ("Backend_connections_opened", "1"),
                ("Backend_connections_closed", "0"),
                ("Backend_checkouts", "2"),
                ("Backend_checkouts_reused", "1"),
                ("Backend_resets", "2"),
                ("Backend_reset_failures", "0"),
                ("Backend_connections", "1"),
                ("Backend_connections_idle", "1"),
            ],
        );

        // 2. No default database: the connection cannot be returned to "none".
        let t = door.tcp(APP_USER, DOOR_APP_PW);
        let (id3, login, dirty) = dirty_session(&t)
            .await
            .unwrap_or_else(|e| panic!("{e}\n{}", log()));
        assert_eq!(login, json!(["utf8mb4", "utf8mb4_general_ci"]));
        assert_eq!(dirty, dirty_state, "session 1's own state");
        assert_ne!(
            id3, id1,
            "a new key in a full pool of one: a new connection"
        );
        door.wait_status("Backend_reset_failures", "1");
        let clean = clean_session(&t)
            .await
            .unwrap_or_else(|e| panic!("{e}\n{}", log()));
        let id4 = clean["state"][0].clone();
        assert_ne!(
            id4,
            id3,
            "the connection session 1 left in {OTHER_DB} was reused\n{}",
            log()
        );
        assert_eq!(
            clean,
            json!({
                "state": [id4, null, login[0], login[1], null, "1"],
                "rows": "0",
                "tmp": no_tmp,
            }),
            "session 2 without a default database\n{}",
            log()
        );
        door.wait_status("Backend_resets", "3");
        // Opened: part 1's, part 2's two. Closed: part 1's (evicted for part 2's key in the
        // pool of one) and session 1's of part 2 (left in px_other).
        door.expect_status(
            "two sessions without a default database",
            &[
                ("Backend_connections_opened", "3"),
                ("Backend_connections_closed", "2"),
                ("Backend_checkouts", "4"),
                ("Backend_checkouts_reused", "1"),
                ("Backend_resets", "3"),
                ("Backend_reset_failures", "1"),
            ],
        );
    });
    assert_eq!(
        b.root_sql("SELECT COUNT(*) FROM test.iso_rows"),
        "0\n",
        "an uncommitted row of session 1 reached the table"
    );
}

// ---------------------------------------------------------------------------------------------
// docs/proxy.md §9 item 3: pass-through paths against MariaDB (mysql_native_password accounts)
// ---------------------------------------------------------------------------------------------

/// The pass-through paths on a fresh pass-through door (`start_door`'s accounts): what differs
/// from the expected outcomes and, when `counters`, from the exact `Backend_*` values of
/// docs/proxy.md §10 (empty: all as expected).
///
/// (a) The native door account `app` with the backend's password, plain TCP: the door logs in
///     with SHA1(pw) derived from the scramble (`Backend_logins_native_hash`).
/// (b) The caching_sha2 door account `carol` in front of MariaDB's native `carol`: the first
///     login (door cache cold) is a full authentication over TLS, whose cleartext opens the
///     backend connection (`Backend_logins_cleartext`). Then, cache warm, a login with another
///     default database (a new pool key): the door's fast path yields SHA256(pw), which cannot
///     answer mysql_native_password, so the door answers `01 04` (`Backend_full_auth_requests`)
///     and opens with the cleartext. The same on plain TCP, mysql_async doing RSA with the
///     door's key.
/// (c) Credential drift: the door's `alice` gets a password MariaDB does not have. The client
///     gets the door's own 1045 (identical to a wrong password), `Backend_login_refusals`
///     counts it, the backend stays UP, and `app` logs in right after.
async fn pass_through_paths(door: &Door, counters: bool) -> Vec<String> {
    let mut report = vec![];
    let mut check = |what: &str, got: Result<Value, Value>, want: Result<Value, Value>| {
        if got != want {
            report.push(format!("{what}:\n    got  {got:?}\n    want {want:?}"));
        }
    };
    let status = |what: &str, want: &[(&str, &str)]| match counters {
        true => door.status_problem(what, want),
        false => None,
    };
    let mut problems = vec![];
    // (a)
    let got = who_where(&door.tcp(APP_USER, APP_PW)).await;
    check(
        "(a) app (native) over plain TCP",
        got,
        Ok(json!(["app@%", null, ""])),
    );
    problems.extend(status(
        "(a) a native door account over plain TCP",
        &[
            ("Backend_logins_native_hash", "1"),
            ("Backend_logins_sha256_fast", "0"),
            ("Backend_logins_cleartext", "0"),
            ("Backend_full_auth_requests", "0"),
            ("Backend_connections_opened", "1"),
            ("Backend_checkouts", "1"),
            ("Backend_login_refusals", "0"),
        ],
    ));

    // (b)
    door.admin_sql(&format!(
        "CREATE USER '{CAROL}'@'%' IDENTIFIED WITH caching_sha2_password BY '{CAROL_PW}'"
    ));
    let got = who_where(&door.tls(CAROL, CAROL_PW)).await;
    check(
        "(b) carol (caching_sha2) over TLS, door cache cold",
        got,
        Ok(json!(["carol@%", null, "TLSv1.3"])),
    );
    problems.extend(status(
        "(b) caching_sha2 door account, cold cache, TLS",
        &[
            ("Backend_logins_native_hash", "1"),
            ("Backend_logins_sha256_fast", "0"),
            ("Backend_logins_cleartext", "1"),
            ("Backend_full_auth_requests", "0"),
            ("Backend_connections_opened", "2"),
            ("Backend_checkouts", "2"),
            ("Backend_login_refusals", "0"),
        ],
    ));
    let got = who_where(&door.tls(CAROL, CAROL_PW).with_db(OTHER_DB)).await;
    check(
        "(b) carol over TLS, door cache warm, a new pool key",
        got,
        Ok(json!(["carol@%", OTHER_DB, "TLSv1.3"])),
    );
    problems.extend(status(
        "(b) caching_sha2 door account, warm cache, a new pool key, TLS",
        &[
            ("Backend_logins_native_hash", "1"),
            ("Backend_logins_sha256_fast", "0"),
            ("Backend_logins_cleartext", "2"),
            ("Backend_full_auth_requests", "1"),
            ("Backend_connections_opened", "3"),
            ("Backend_checkouts", "3"),
            ("Backend_login_refusals", "0"),
        ],
    ));
    let got = who_where(&door.tcp(CAROL, CAROL_PW).with_db("mysql")).await;
    check(
        "(b) carol over plain TCP (mysql_async does RSA), door cache warm, a new pool key",
        got,
        Ok(json!(["carol@%", "mysql", ""])),
    );
    problems.extend(status(
        "(b) caching_sha2 door account, warm cache, a new pool key, plain TCP with RSA",
        &[
            ("Backend_logins_native_hash", "1"),
            ("Backend_logins_sha256_fast", "0"),
            ("Backend_logins_cleartext", "3"),
            ("Backend_full_auth_requests", "2"),
            ("Backend_connections_opened", "4"),
            ("Backend_checkouts", "4"),
            ("Backend_login_refusals", "0"),
        ],
    ));

    // (c): the counters as differences, so that (b)'s do not count twice.
    door.admin_sql(&format!(
        "ALTER USER '{ALICE}'@'%' IDENTIFIED WITH mysql_native_password BY '{DRIFT_PW}'"
    ));
    let refusals = |door: &Door| -> u64 {
        door.status()
            .get("Backend_login_refusals")
            .and_then(|v| v.parse().ok())
            .unwrap_or(u64::MAX)
    };
    let denied = error_json(
        1045,
        "28000",
        "Access denied for user 'alice'@'localhost' (using password: YES)",
    );
    let r0 = refusals(door);
    let got = who_where(&door.tcp(ALICE, WRONG_PW)).await;
    check("(c) a wrong password at the door", got, Err(denied.clone()));
    let r1 = refusals(door);
    let got = who_where(&door.tcp(ALICE, DRIFT_PW)).await;
    check("(c) credential drift", got, Err(denied));
    let r2 = refusals(door);
    if counters && (r1 - r0, r2 - r1) != (0, 1) {
        problems.push(format!(
            "(c) Backend_login_refusals grew by {} for the door's own refusal (want 0) and by \
             {} for the drift (want 1)",
            r1 - r0,
            r2 - r1
        ));
    }
    problems.extend(status(
        "(c) credential drift",
        &[("Backend_state", "UP"), ("Backend_connect_errors", "0")],
    ));
    let got = who_where(&door.tcp(APP_USER, APP_PW)).await;
    check(
        "(c) app right after the drift",
        got,
        Ok(json!(["app@%", null, ""])),
    );
    problems.extend(status(
        "(c) app after the drift",
        &[("Backend_state", "UP")],
    ));
    report.extend(problems);
    if !report.is_empty() {
        report.push(format!(
            "--- door {} log (tail):\n{}",
            door.label,
            door.log_tail()
        ));
    }
    report
}

#[test]
fn pass_through_paths_against_native_backend() {
    let (b, _g) = shared();
    let door = start_door(
        "pt-paths",
        b,
        Identity::PassThrough,
        Leg::Tls(b.ca.clone()),
        APP_USER,
        &[],
    );
    let report = block_on(pass_through_paths(&door, true));
    assert_no_report(&report);
}

// ---------------------------------------------------------------------------------------------
// docs/proxy.md §9 item 5: faults
// ---------------------------------------------------------------------------------------------

/// A pool of one, held by one session: the next login waits `--backend-pool-wait-timeout` (1 s)
/// and gets 1040; once the session has gone, a login gets its connection.
#[test]
fn full_pool_gives_1040_after_the_wait() {
    let (b, _g) = shared();
    let door = start_door(
        "full",
        b,
        Identity::Mapped,
        Leg::Tls(b.ca.clone()),
        APP_USER,
        &[
            "--backend-pool-max-connections",
            "1",
            "--backend-pool-wait-timeout",
            "1",
        ],
    );
    let t = door.tcp(APP_USER, DOOR_APP_PW);
    let log = || door.log_tail();
    block_on(async {
        let mut holder = async_connect(&t)
            .await
            .unwrap_or_else(|e| panic!("first login: {e}\n{}", log()));
        text_rows(&mut holder, "SELECT 1").await.expect("SELECT 1");
        let started = Instant::now();
        let second = async_connect(&t)
            .await
            .map(|_| ())
            .map_err(|e| async_err(&e));
        let waited = started.elapsed();
        assert_eq!(
            second,
            Err(error_json(1040, "08004", "Too many connections")),
            "a login to a full pool\n{}",
            log()
        );
        assert!(
            waited >= Duration::from_millis(950) && waited < Duration::from_millis(2500),
            "1040 came after {waited:?}, not after the 1 s wait"
        );
        eprintln!("1040 after {waited:?}");
        door.expect_status(
            "a login to a full pool",
            &[
                ("Backend_checkout_waits", "1"),
                ("Backend_checkout_timeouts", "1"),
                ("Backend_connections", "1"),
                ("Backend_connections_opened", "1"),
                ("Backend_state", "UP"),
            ],
        );
        let _ = holder.disconnect().await;
        door.wait_status("Backend_resets", "1");
        let got = one_shot(&t, "SELECT CURRENT_USER()").await;
        assert_eq!(
            got,
            Ok(json!([["app@%"]])),
            "a login once the pool has room\n{}",
            log()
        );
        door.expect_status(
            "a login once the pool has room",
            &[
                ("Backend_checkouts_reused", "1"),
                ("Backend_connections_opened", "1"),
                ("Backend_checkout_timeouts", "1"),
            ],
        );
    });
}

/// The door started while nothing listens on the backend's port: each login gets 1429; the
/// third failed open marks the backend DOWN, after which logins are refused at once.
#[test]
fn backend_down_at_startup() {
    let (b, _g) = shared();
    let door = start_door(
        "down",
        b,
        Identity::Mapped,
        Leg::Unreachable(dead_port()),
        APP_USER,
        &[],
    );
    let t = door.tcp(APP_USER, DOOR_APP_PW);
    let refused = error_json(1429, "HY000", MSG_1429);
    door.expect_status(
        "startup",
        &[("Backend_state", "UP"), ("Backend_connect_errors", "0")],
    );
    block_on(async {
        for attempt in 1..=3u32 {
            let got = one_shot(&t, "SELECT 1").await;
            assert_eq!(
                got,
                Err(refused.clone()),
                "login {attempt}\n{}",
                door.log_tail()
            );
            let state = if attempt < 3 { "UP" } else { "DOWN" };
            door.expect_status(
                &format!("login {attempt}"),
                &[
                    ("Backend_state", state),
                    ("Backend_connect_errors", &attempt.to_string()),
                    ("Backend_connections_opened", "0"),
                ],
            );
        }
        let started = Instant::now();
        let got = one_shot(&t, "SELECT 1").await;
        assert_eq!(
            got,
            Err(refused.clone()),
            "login 4 (DOWN)\n{}",
            door.log_tail()
        );
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "a login while DOWN took {:?}",
            started.elapsed()
        );
        door.expect_status("login 4", &[("Backend_state", "DOWN")]);
    });
}

/// A credentials file others can read: the binary refuses to start, naming the file and mode.
#[test]
fn credentials_file_mode_0644_refused_at_startup() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::Builder::new()
        .prefix("vest-proxy")
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
    std::fs::set_permissions(&creds, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let datadir = dir.path().join("data");
    let stderr_path = dir.path().join("stderr.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_vestibule"))
        .arg("--datadir")
        .arg(&datadir)
        .args(["--port", "0", "--bind-address", "127.0.0.1", "--socket"])
        .arg(datadir.join("mysql.sock"))
        .args(["--backend-host", "127.0.0.1", "--backend-port", "1"])
        .arg("--backend-credentials-file")
        .arg(&creds)
        .env("VESTIBULE_ROOT_PASSWORD", common::ROOT_PW)
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .env_remove("VESTIBULE_BACKEND_USER")
        .env_remove("VESTIBULE_BACKEND_PASSWORD")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&stderr_path).expect("stderr file"))
        .spawn()
        .expect("run vestibule");
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "vestibule still running 15 s after starting with a 0644 credentials file:\n{}",
                std::fs::read_to_string(&stderr_path).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
    let want = format!(
        "vestibule: backend credentials file {} must be a regular file with mode 0600 or 0400 \
         (it is 644)",
        creds.display()
    );
    assert_eq!(status.code(), Some(1), "exit status; stderr:\n{stderr}");
    assert!(
        stderr.lines().any(|l| l == want),
        "stderr lacks the line {want:?}:\n{stderr}"
    );
    assert!(
        !stderr.contains(APP_PW),
        "stderr shows the password:\n{stderr}"
    );
    assert!(
        !stderr.contains("ready for connections"),
        "it started listening:\n{stderr}"
    );
}

/// Mapped-mode logins of every kind, for the secrecy test: native door accounts over plain TCP
/// and TLS (the door logs in with the file's passwords), the caching_sha2 door account `dave`
/// cold over plain TCP (RSA), warm (fast path), and over TLS, a wrong password, and
/// COM_CHANGE_USER across backend accounts.
async fn mapped_paths(door: &Door) {
    let log = || door.log_tail();
    let got = who_where(&door.tcp(APP_USER, DOOR_APP_PW)).await;
    assert_eq!(
        got,
        Ok(json!(["app@%", null, ""])),
        "app over TCP\n{}",
        log()
    );
    let got = who_where(&door.tls(ALICE, DOOR_ALICE_PW)).await;
    assert_eq!(
        got,
        Ok(json!(["alice@%", null, "TLSv1.3"])),
        "alice over TLS\n{}",
        log()
    );
    door.admin_sql(&format!(
        "CREATE USER '{DAVE}'@'%' IDENTIFIED WITH caching_sha2_password BY '{DOOR_DAVE_PW}'"
    ));
    for (what, t) in [
        ("cold, plain TCP (RSA)", door.tcp(DAVE, DOOR_DAVE_PW)),
        ("warm, plain TCP", door.tcp(DAVE, DOOR_DAVE_PW)),
        ("warm, TLS", door.tls(DAVE, DOOR_DAVE_PW).with_db(OTHER_DB)),
    ] {
        let want = match &t.db {
            Some(db) => json!(["app@%", db, "TLSv1.3"]),
            None => json!(["app@%", null, ""]),
        };
        let got = who_where(&t).await;
        assert_eq!(got, Ok(want), "dave {what}\n{}", log());
    }
    let got = who_where(&door.tcp(BOB, WRONG_PW)).await;
    assert_eq!(
        got,
        Err(error_json(
            1045,
            "28000",
            "Access denied for user 'bob'@'localhost' (using password: YES)"
        )),
        "bob with a wrong password\n{}",
        log()
    );
    let got = mysql_async_change_user(
        &door.tcp(APP_USER, DOOR_APP_PW),
        &[(ALICE, DOOR_ALICE_PW), (BOB, DOOR_BOB_PW)],
    )
    .await;
    assert_eq!(
        got,
        Ok(expected_change_user("app@%", &["alice@%", "app@%"])),
        "COM_CHANGE_USER\n{}",
        log()
    );
}

/// Every form of every password of `secrets` that must never appear in a log: the cleartext,
/// SHA1 and SHA256 in hex (lower and upper case), and SHA1(SHA1(pw)) in hex (the
/// mysql_native_password hash).
fn secret_forms(secrets: &[&str]) -> Vec<(String, String)> {
    let mut forms = vec![];
    for pw in secrets {
        let sha1 = |b: &[u8]| -> Vec<u8> { <sha1::Sha1 as sha1::Digest>::digest(b).to_vec() };
        let x = sha1(pw.as_bytes());
        let digests = [
            ("SHA1", hex(&x)),
            ("SHA256", hex(&sha2::Sha256::digest(pw.as_bytes()))),
            ("SHA1(SHA1)", hex(&sha1(&x))),
        ];
        forms.push((format!("the password {pw:?}"), pw.to_string()));
        for (name, h) in digests {
            forms.push((format!("{name}({pw:?}) in lower-case hex"), h.clone()));
            forms.push((
                format!("{name}({pw:?}) in upper-case hex"),
                h.to_uppercase(),
            ));
        }
    }
    forms
}

/// docs/proxy.md §8: at `--log-level trace`, after logins of every path in both identity modes,
/// the door's log holds no password and no SHA1, SHA256 or SHA1(SHA1) of one, in hex.
#[test]
fn trace_log_holds_no_secret() {
    let (b, _g) = shared();
    let pt = start_door_at(
        "pt-trace",
        b,
        Identity::PassThrough,
        Leg::Tls(b.ca.clone()),
        APP_USER,
        &[],
        true,
    );
    let mapped = start_door_at(
        "mapped-trace",
        b,
        Identity::Mapped,
        Leg::Tls(b.ca.clone()),
        APP_USER,
        &[],
        true,
    );
    block_on(async {
        // Logins only: pass_through_paths_against_native_backend checks the counters.
        let report = pass_through_paths(&pt, false).await;
        assert_no_report(&report);
        let got = mysql_async_change_user(&pt.tls(APP_USER, APP_PW), &[(CAROL, CAROL_PW)]).await;
        assert_eq!(
            got,
            Ok(expected_change_user("app@%", &["carol@%"])),
            "pass-through COM_CHANGE_USER\n{}",
            pt.log_tail()
        );
        mapped_paths(&mapped).await;
    });
    let secrets = [
        APP_PW,
        APP_TLS_PW,
        ALICE_PW,
        CAROL_PW,
        DRIFT_PW,
        WRONG_PW,
        DOOR_APP_PW,
        DOOR_ALICE_PW,
        DOOR_BOB_PW,
        DOOR_DAVE_PW,
        common::ROOT_PW,
    ];
    let forms = secret_forms(&secrets);
    let mut found = vec![];
    for door in [&pt, &mapped] {
        let log = door.srv.log();
        let lines = log.lines().count();
        assert!(
            log.contains(" TRACE ") && lines > 100,
            "[{}] not a trace-level log ({lines} lines):\n{}",
            door.label,
            door.log_tail()
        );
        eprintln!("[{}] {lines} log lines checked", door.label);
        for (what, text) in &forms {
            for (n, line) in log.lines().enumerate() {
                if line.contains(text.as_str()) {
                    found.push(format!("[{}] line {}: {what}: {line}", door.label, n + 1));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "secrets in the log:\n{}",
        found.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// docs/proxy.md §9 item 6 (short): reuse counters
// ---------------------------------------------------------------------------------------------

/// MariaDB's own `Connections` (connection attempts since it started), as root. The reading's
/// own connection counts in it.
fn mariadb_connections(b: &Backend) -> u64 {
    let out = b.root_sql("SHOW GLOBAL STATUS LIKE 'Connections'");
    out.trim()
        .strip_prefix("Connections\t")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("Connections: {out:?}"))
}

/// 300 short-lived connections (login, `SELECT 1`, COM_QUIT) at concurrency 8 in mapped mode:
/// every one is a checkout, at least 290 are served from the pool, and MariaDB sees at most
/// 10 + 8 new connections, exactly those the door opened. The backend is taken for this test
/// alone, so that no other test's connections count.
#[test]
fn reuse_counters_short_connections() {
    const TOTAL: usize = 300;
    const CONCURRENCY: usize = 8;
    let b = backend();
    let _exclusive = b.gate.write().unwrap_or_else(|e| e.into_inner());
    let door = start_door(
        "reuse",
        b,
        Identity::Mapped,
        Leg::Tls(b.ca.clone()),
        APP_USER,
        &[],
    );
    let t = door.tcp(APP_USER, DOOR_APP_PW);
    let before = mariadb_connections(b);
    let started = Instant::now();
    let errors = block_on(async {
        let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut workers = tokio::task::JoinSet::new();
        for _ in 0..CONCURRENCY {
            let (t, next) = (t.clone(), next.clone());
            workers.spawn(async move {
                let mut errors = vec![];
                while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < TOTAL {
                    match one_shot(&t, "SELECT 1").await {
                        Ok(rows) if rows == json!([["1"]]) => {}
                        other => errors.push(format!("{other:?}")),
                    }
                }
                errors
            });
        }
        let mut all = vec![];
        while let Some(r) = workers.join_next().await {
            all.extend(r.expect("worker"));
        }
        all
    });
    let elapsed = started.elapsed();
    assert!(
        errors.is_empty(),
        "{} of {TOTAL} connections failed, first: {}\n{}",
        errors.len(),
        errors[0],
        door.log_tail()
    );
    // Every hand-back done: all connections idle again.
    let deadline = Instant::now() + Duration::from_secs(5);
    let status = loop {
        let s = door.status();
        if s.get("Backend_connections") == s.get("Backend_connections_idle") {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "hand-backs unfinished after 5 s: {s:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let after = mariadb_connections(b);
    let num = |k: &str| -> u64 {
        status[k]
            .parse()
            .unwrap_or_else(|_| panic!("{k}: {status:?}"))
    };
    let (opened, reused) = (
        num("Backend_connections_opened"),
        num("Backend_checkouts_reused"),
    );
    // `after` counts its own reading's connection.
    let backend_new = after - before - 1;
    eprintln!(
        "{TOTAL} connections at c = {CONCURRENCY} in {elapsed:?}: {reused} reused, {opened} \
         opened, MariaDB Connections +{backend_new}"
    );
    assert_eq!(num("Backend_checkouts"), TOTAL as u64, "{status:?}");
    assert_eq!(
        backend_new, opened,
        "MariaDB's Connections grew by {backend_new}, the door opened {opened}: {status:?}"
    );
    assert!(
        backend_new <= 10 + CONCURRENCY as u64,
        "MariaDB's Connections grew by {backend_new} > 18: {status:?}"
    );
    // At most 10 opens for 8 concurrent clients: the first 8, and 2 to spare.
    assert!(
        reused >= 290,
        "Backend_checkouts_reused = {reused} < 290 ({opened} backend connections opened for \
         {CONCURRENCY} concurrent clients): {status:?}"
    );
}
