//! Shared by the integration tests: the real `vestibule` binary in a temporary data dir, a
//! minimal Rust MySQL client built from the crate's own wire encoders, and runners for the
//! third-party clients (mariadb CLI, PyMySQL, mysql-connector-python) with their output helpers.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

pub const ROOT_PW: &str = "Interop-Root_pw1";

// ---------------------------------------------------------------------------------------------
// The server under test
// ---------------------------------------------------------------------------------------------

/// How [`Server::launch`] runs the server: another build of the binary (`bin`, else the one
/// cargo built for these tests) and a wrapper command in front of it (`wrapper`: a program and
/// its arguments, the binary's path appended after them).
#[derive(Debug, Default, Clone)]
pub struct Launch {
    pub bin: Option<PathBuf>,
    pub wrapper: Vec<String>,
}

/// A running `vestibule` in its own temporary data dir, stopped on drop.
///
/// The binary runs under a tiny `sh` watchdog holding our end of a pipe: dropping the guard (or
/// the test process exiting, which matters for the `OnceLock` server that is never dropped)
/// closes the pipe and the watchdog kills the server and removes its data dir.
pub struct Server {
    watchdog: Child,
    stdin: Option<ChildStdin>,
    pub dir: tempfile::TempDir,
    pub port: u16,
}

impl Server {
    pub fn start(extra: &[&str]) -> Server {
        let dir = tempfile::Builder::new()
            .prefix("vest-interop")
            .tempdir()
            .expect("tempdir");
        Server::start_in(dir, extra)
    }

    /// Starts the server in `dir` (data dir `dir/data`): a fresh directory, or one handed back by
    /// [`Server::stop`] to restart on the same accounts, certificates and keys. The default
    /// `--socket <datadir>/mysql.sock` is left out when `extra` names `--socket` itself, and the
    /// default `--bind-address 127.0.0.1` when it names `--bind-address`, and the default
    /// `--log-level info,vestibule=debug` when it names `--log-level`.
    pub fn start_in(dir: tempfile::TempDir, extra: &[&str]) -> Server {
        Server::launch(dir, extra, &Launch::default())
    }

    /// [`Server::start_in`] with another binary or a wrapper command ([`Launch`]).
    pub fn launch(dir: tempfile::TempDir, extra: &[&str], how: &Launch) -> Server {
        let datadir = dir.path().join("data");
        let log = std::fs::File::create(dir.path().join("server.log")).expect("log file");
        let socket = datadir.join("mysql.sock");
        let mut args: Vec<String> = vec![
            "--datadir".into(),
            datadir.display().to_string(),
            // Port 0: the server picks a free port and logs it in the "ready for connections"
            // line, so parallel tests never race for a port.
            "--port".into(),
            "0".into(),
        ];
        if !extra
            .iter()
            .any(|a| *a == "--log-level" || a.starts_with("--log-level="))
        {
            args.extend(["--log-level".into(), "info,vestibule=debug".into()]);
        }
        if !extra
            .iter()
            .any(|a| *a == "--bind-address" || a.starts_with("--bind-address="))
        {
            args.extend(["--bind-address".into(), "127.0.0.1".into()]);
        }
        if !extra
            .iter()
            .any(|a| *a == "--socket" || a.starts_with("--socket="))
        {
            args.extend(["--socket".into(), socket.display().to_string()]);
        }
        args.extend(extra.iter().map(|s| s.to_string()));
        let bin = how
            .bin
            .clone()
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_vestibule")));
        // The program the watchdog runs: the binary, or the wrapper with the binary after its
        // own arguments (`prlimit --nofile=1024: -- vestibule …`, which execs it).
        let (program, mut argv) = match how.wrapper.split_first() {
            Some((w, rest)) => {
                let mut a: Vec<String> = rest.to_vec();
                a.push(bin.display().to_string());
                (w.clone(), a)
            }
            None => (bin.display().to_string(), Vec::new()),
        };
        argv.extend(args);
        let script = r#"trap '' INT
exec 3<&0
"$0" "$@" </dev/null 3<&- &
pid=$!
(
  read -r _line <&3
  kill "$pid" 2>/dev/null
  while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
  # Server::stop asks to keep the directory with a .keep file, and waits for it to go.
  if [ -e "$VEST_INTEROP_DIR/.keep" ]; then rm -f "$VEST_INTEROP_DIR/.keep"; else rm -rf "$VEST_INTEROP_DIR"; fi
) &
wait "$pid""#;
        let mut watchdog = Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg(&program)
            .args(&argv)
            .env("VESTIBULE_ROOT_PASSWORD", ROOT_PW)
            .env("NO_COLOR", "1")
            // Removed by the watchdog once the server is gone (the shared server's TempDir is
            // never dropped).
            .env("VEST_INTEROP_DIR", dir.path())
            .env_remove("RUST_LOG")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("cannot run sh to start the server");
        let stdin = watchdog.stdin.take();
        let mut server = Server {
            watchdog,
            stdin,
            dir,
            port: 0,
        };
        server.port = server.wait_ready(Duration::from_secs(30));
        server
    }

    /// Waits for the "ready for connections" log line and returns the port it names.
    pub fn wait_ready(&mut self, limit: Duration) -> u16 {
        let deadline = Instant::now() + limit;
        loop {
            let log = self.log();
            if let Some(line) = log.lines().find(|l| l.contains("ready for connections")) {
                // Text (`address=IP:PORT`) or JSON (`"address":"IP:PORT"`, --log-format=json).
                let addr = line
                    .split_whitespace()
                    .find_map(|w| w.strip_prefix("address="))
                    .or_else(|| {
                        let (_, rest) = line.split_once("\"address\":\"")?;
                        rest.split('"').next()
                    })
                    .and_then(|a| a.parse::<SocketAddr>().ok())
                    .unwrap_or_else(|| panic!("no address=IP:PORT in the ready line: {line}"));
                assert_ne!(addr.port(), 0, "ready line names port 0: {line}");
                return addr.port();
            }
            if let Ok(Some(status)) = self.watchdog.try_wait() {
                panic!("vestibule exited ({status}) before becoming ready; log:\n{log}");
            }
            assert!(
                Instant::now() < deadline,
                "vestibule not ready within {limit:?}; log:\n{log}"
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    pub fn datadir(&self) -> PathBuf {
        self.dir.path().join("data")
    }
    pub fn ca(&self) -> String {
        self.datadir().join("ca.pem").display().to_string()
    }
    pub fn socket(&self) -> String {
        self.datadir().join("mysql.sock").display().to_string()
    }
    /// The server's stderr so far, ANSI colour codes removed.
    pub fn log(&self) -> String {
        let raw = std::fs::read(self.dir.path().join("server.log")).unwrap_or_default();
        strip_ansi(&String::from_utf8_lossy(&raw))
    }
    pub fn log_tail(&self) -> String {
        let log = self.log();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

impl Server {
    /// Stops the server and hands back its directory with the data dir intact, for
    /// [`Server::start_in`] (a restart on the same data dir).
    pub fn stop(mut self) -> tempfile::TempDir {
        let keep = self.dir.path().join(".keep");
        std::fs::write(&keep, b"").expect("write .keep");
        self.halt();
        // The watchdog's cleanup removes .keep instead of the directory once the server is gone.
        let deadline = Instant::now() + Duration::from_secs(10);
        while keep.exists() {
            assert!(Instant::now() < deadline, "watchdog did not finish");
            std::thread::sleep(Duration::from_millis(20));
        }
        // Drop still runs on `self` (the watchdog has exited): leave it an empty stand-in.
        let stand_in = tempfile::tempdir().expect("tempdir");
        std::mem::replace(&mut self.dir, stand_in)
    }

    /// Waits up to `limit` for the server to exit on its own (a SHUTDOWN statement); its exit
    /// code (the watchdog's, which is the server's), `None` if it is still running.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<i32> {
        let deadline = Instant::now() + limit;
        loop {
            if let Ok(Some(status)) = self.watchdog.try_wait() {
                return status.code();
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Closes the watchdog's pipe (it kills the server) and waits for it to finish.
    fn halt(&mut self) {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.watchdog.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.watchdog.kill();
        let _ = self.watchdog.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.halt(); // the watchdog kills the server and removes its directory
    }
}

pub fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            // CSI: ESC [ params final-byte(@..~)
            for d in chars.by_ref() {
                if ('@'..='~').contains(&d) && d != '[' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// A minimal client from the crate's own encoders (caching_sha2_password only)
// ---------------------------------------------------------------------------------------------

use std::io::{Read, Write};
use vestibule::auth::{caching_sha2, Nonce};
use vestibule::wire::handshake::{ClientHeader, HandshakeResponse41, HandshakeV10};
use vestibule::wire::packets::ErrPacket;
use vestibule::wire::*;

/// How a [`login`] ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Login {
    /// `01 03` then OK.
    FastPath,
    /// `01 04`, cleartext password (socket only), then OK.
    Full,
    /// ERR (code, message).
    Error(u16, String),
}

pub trait Stream: Read + Write {}
impl<T: Read + Write> Stream for T {}

/// Reads one packet: (sequence id, payload).
pub fn read_packet<S: Read + ?Sized>(s: &mut S) -> std::io::Result<(u8, Vec<u8>)> {
    let mut h = [0u8; 4];
    s.read_exact(&mut h)?;
    let len = u32::from_le_bytes([h[0], h[1], h[2], 0]) as usize;
    let mut p = vec![0u8; len];
    s.read_exact(&mut p)?;
    Ok((h[3], p))
}

/// Writes `payload` as one packet (or more, past 16 MiB) from sequence id `seq`, and flushes.
pub fn write_packet<S: Write + ?Sized>(s: &mut S, seq: u8, payload: &[u8]) -> std::io::Result<()> {
    s.write_all(&vestibule::wire::frame::packet(seq, payload))?;
    s.flush()
}

/// TLS for [`login_with`]: the client configuration and the name to verify.
pub struct ClientTls {
    pub config: std::sync::Arc<rustls::ClientConfig>,
    pub server_name: rustls::pki_types::ServerName<'static>,
}

/// A client configuration trusting the given CA files (PEM), with the aws-lc-rs provider.
pub fn client_tls(ca_files: &[PathBuf]) -> ClientTls {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for f in ca_files {
        for c in rustls::pki_types::CertificateDer::pem_file_iter(f).expect("read CA") {
            roots.add(c.expect("CA PEM")).expect("add CA");
        }
    }
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    ClientTls {
        config: std::sync::Arc::new(config),
        server_name: rustls::pki_types::ServerName::try_from("localhost").expect("name"),
    }
}

/// Logs in as `user` with a caching_sha2_password scramble; on `01 04` sends the cleartext
/// password (the server accepts it only on TLS or the socket), then quits.
pub fn login(s: &mut dyn Stream, user: &str, pw: &str) -> std::io::Result<Login> {
    let (login, _) = login_with(Box::new(StreamRef(s)), user, pw, None)?;
    Ok(login)
}

struct StreamRef<'a>(&'a mut dyn Stream);
impl Read for StreamRef<'_> {
    fn read(&mut self, b: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(b)
    }
}
impl Write for StreamRef<'_> {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.write(b)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// The login exchange over `s` (plain, or upgraded to TLS with an SSLRequest when `tls` is
/// given); returns the outcome and, on success, the open connection (for [`query`]) and the
/// server certificate seen (TLS only).
pub fn login_with<'a>(
    s: Box<dyn Stream + 'a>,
    user: &str,
    pw: &str,
    tls: Option<&ClientTls>,
) -> std::io::Result<(Login, Option<Session<'a>>)> {
    login_full(s, user, pw, tls, None)
}

/// [`login_with`] on plain TCP naming a default database (CLIENT_CONNECT_WITH_DB); the outcome.
pub fn login_with_database(s: Box<dyn Stream>, user: &str, pw: &str, db: &str) -> Login {
    login_full(s, user, pw, None, Some(db))
        .map(|(login, _)| login)
        .unwrap_or_else(|e| Login::Error(0, e.to_string()))
}

fn login_full<'a>(
    mut s: Box<dyn Stream + 'a>,
    user: &str,
    pw: &str,
    tls: Option<&ClientTls>,
    db: Option<&str>,
) -> std::io::Result<(Login, Option<Session<'a>>)> {
    let (_, greeting) = read_packet(&mut *s)?;
    let g = HandshakeV10::parse(&greeting).map_err(|e| std::io::Error::other(e.to_string()))?;
    let mut caps = CLIENT_PROTOCOL_41
        | CLIENT_SECURE_CONNECTION
        | CLIENT_PLUGIN_AUTH
        | CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA
        | CLIENT_LONG_PASSWORD
        | CLIENT_TRANSACTIONS
        | CLIENT_DEPRECATE_EOF;
    if db.is_some() {
        caps |= CLIENT_CONNECT_WITH_DB;
    }
    let mut seq = 1u8;
    let mut peer_cert = None;
    if let Some(t) = tls {
        caps |= CLIENT_SSL;
        let header = ClientHeader {
            capabilities: caps,
            max_packet_size: 1 << 24,
            character_set: 255,
        };
        write_packet(
            &mut *s,
            seq,
            &vestibule::wire::handshake::encode_ssl_request(&header),
        )?;
        seq += 1;
        let conn = rustls::ClientConnection::new(t.config.clone(), t.server_name.clone())
            .map_err(std::io::Error::other)?;
        let mut tls_stream = rustls::StreamOwned::new(conn, s);
        while tls_stream.conn.is_handshaking() {
            tls_stream.conn.complete_io(&mut tls_stream.sock)?;
        }
        peer_cert = tls_stream
            .conn
            .peer_certificates()
            .and_then(|c| c.first())
            .map(|c| c.to_vec());
        s = Box::new(tls_stream);
    }
    let resp = HandshakeResponse41 {
        header: ClientHeader {
            capabilities: caps,
            max_packet_size: 1 << 24,
            character_set: 255,
        },
        username: user.as_bytes().to_vec(),
        auth_response: caching_sha2::client_scramble(pw.as_bytes(), &Nonce::from_wire(g.nonce))
            .to_vec(),
        database: db.map(|d| d.as_bytes().to_vec()),
        client_plugin: Some(b"caching_sha2_password".to_vec()),
        connect_attrs: vec![],
        zstd_level: None,
    };
    write_packet(&mut *s, seq, &resp.encode())?;
    let (_, p) = read_packet(&mut *s)?;
    let err = |p: &[u8]| -> std::io::Result<Login> {
        let e = ErrPacket::parse(p).map_err(|e| std::io::Error::other(e.to_string()))?;
        Ok(Login::Error(e.code, e.message))
    };
    let outcome = match p.as_slice() {
        [1, 3] => {
            let (_, r) = read_packet(&mut *s)?;
            if r.first() == Some(&0) {
                Login::FastPath
            } else {
                err(&r)?
            }
        }
        [1, 4] => {
            let mut cleartext = pw.as_bytes().to_vec();
            cleartext.push(0);
            write_packet(&mut *s, seq + 2, &cleartext)?;
            let (_, r) = read_packet(&mut *s)?;
            if r.first() == Some(&0) {
                Login::Full
            } else {
                err(&r)?
            }
        }
        [0xFF, ..] => err(&p)?,
        other => Login::Error(0, format!("unexpected packet {other:02x?}")),
    };
    let session =
        matches!(outcome, Login::FastPath | Login::Full).then(|| Session { s, peer_cert });
    Ok((outcome, session))
}

/// The server's first reply to a caching_sha2_password HandshakeResponse41 (plain, no TLS):
/// `01 03` (fast path), `01 04` (full authentication follows) or an ERR. Closes without going on.
pub fn first_auth_reply(s: &mut dyn Stream, user: &str, pw: &str) -> std::io::Result<Vec<u8>> {
    let (_, greeting) = read_packet(s)?;
    let g = HandshakeV10::parse(&greeting).map_err(|e| std::io::Error::other(e.to_string()))?;
    let resp = HandshakeResponse41 {
        header: ClientHeader {
            capabilities: CLIENT_PROTOCOL_41
                | CLIENT_SECURE_CONNECTION
                | CLIENT_PLUGIN_AUTH
                | CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA
                | CLIENT_LONG_PASSWORD
                | CLIENT_TRANSACTIONS
                | CLIENT_DEPRECATE_EOF,
            max_packet_size: 1 << 24,
            character_set: 255,
        },
        username: user.as_bytes().to_vec(),
        auth_response: caching_sha2::client_scramble(pw.as_bytes(), &Nonce::from_wire(g.nonce))
            .to_vec(),
        database: None,
        client_plugin: Some(b"caching_sha2_password".to_vec()),
        connect_attrs: vec![],
        zstd_level: None,
    };
    write_packet(s, 1, &resp.encode())?;
    Ok(read_packet(s)?.1)
}

/// root over the Unix socket with the minimal client (a full authentication sends the cleartext
/// password: the socket is a secure transport). For statements that must not open a connection
/// of their own (counters, global variables).
pub fn root_socket_session(srv: &Server) -> Session<'static> {
    let s = std::os::unix::net::UnixStream::connect(srv.socket()).expect("connect socket");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let (login, session) = login_with(Box::new(s), "root", ROOT_PW, None).expect("login");
    assert!(
        matches!(login, Login::Full | Login::FastPath),
        "root over the socket: {login:?}\n{}",
        srv.log_tail()
    );
    session.expect("session")
}

/// Runs one statement that must succeed; the rows as "v1\tv2\n" lines (NULL as `NULL`).
#[track_caller]
pub fn must_query(srv: &Server, s: &mut Session<'_>, sql: &str) -> String {
    match s.query(sql).expect("query i/o") {
        Ok(rows) => rows
            .iter()
            .map(|r| {
                let cells: Vec<&str> = r.iter().map(|c| c.as_deref().unwrap_or("NULL")).collect();
                format!("{}\n", cells.join("\t"))
            })
            .collect(),
        Err((code, msg)) => panic!("{sql}: ERROR {code}: {msg}\n{}", srv.log_tail()),
    }
}

/// Rows as text (`None` = NULL), or the ERR (code, message).
pub type QueryResult = Result<Vec<Vec<Option<String>>>, (u16, String)>;

/// An authenticated connection of the minimal client.
pub struct Session<'a> {
    s: Box<dyn Stream + 'a>,
    pub peer_cert: Option<Vec<u8>>,
}

impl Session<'_> {
    /// Runs one statement; rows as text (None = NULL), or the ERR (code, message).
    pub fn query(&mut self, sql: &str) -> std::io::Result<QueryResult> {
        let mut p = vec![0x03];
        p.extend_from_slice(sql.as_bytes());
        write_packet(&mut *self.s, 0, &p)?;
        let (_, first) = read_packet(&mut *self.s)?;
        match first.first() {
            Some(0x00) => return Ok(Ok(vec![])),
            Some(0xFF) => {
                let e =
                    ErrPacket::parse(&first).map_err(|e| std::io::Error::other(e.to_string()))?;
                return Ok(Err((e.code, e.message)));
            }
            _ => {}
        }
        let ncols = first.first().copied().unwrap_or(0) as usize;
        for _ in 0..ncols {
            read_packet(&mut *self.s)?;
        }
        let mut rows = Vec::new();
        loop {
            let (_, r) = read_packet(&mut *self.s)?;
            if r.first() == Some(&0xFE) && r.len() < 0xFF_FFFF {
                return Ok(Ok(rows));
            }
            let mut rd = Reader::new(&r);
            let mut row = Vec::new();
            for _ in 0..ncols {
                if rd.peek() == Some(0xFB) {
                    rd.u8("null").ok();
                    row.push(None);
                } else {
                    let v = rd
                        .lenenc_bytes("value")
                        .map_err(|e| std::io::Error::other(e.to_string()))?;
                    row.push(Some(String::from_utf8_lossy(v).into_owned()));
                }
            }
            rows.push(row);
        }
    }

    pub fn quit(mut self) {
        let _ = write_packet(&mut *self.s, 0, &[0x01]);
    }
}

// ---------------------------------------------------------------------------------------------
// Third-party clients: the mariadb CLI, PyMySQL and mysql-connector-python (scripts in
// tests/interop/), each run as a child process with a time limit.
// ---------------------------------------------------------------------------------------------

pub const VERSION: &str = "8.0.40-vestibule";
/// TLS 1.3 suites rustls (aws-lc-rs) can negotiate, by their MySQL/IANA names.
pub const TLS13_SUITES: [&str; 3] = [
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
];
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug)]
pub struct Run {
    pub what: String,
    pub status: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Runs a client with a time limit, capturing both streams. A missing program fails the test
/// with `install_hint`.
pub fn run(cmd: Command, what: String, install_hint: &str) -> Run {
    run_with_input(cmd, what, install_hint, None)
}

/// As `run`, writing `input` to the client's stdin.
pub fn run_with_input(
    mut cmd: Command,
    what: String,
    install_hint: &str,
    input: Option<&str>,
) -> Run {
    cmd.stdin(if input.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            panic!("{what}: client program not found ({e}); {install_hint}")
        }
        Err(e) => panic!("{what}: cannot start: {e}"),
    };
    if let (Some(text), Some(mut stdin)) = (input, child.stdin.take()) {
        stdin
            .write_all(text.as_bytes())
            .expect("write client stdin");
    }
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let t_out = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    let deadline = Instant::now() + CLIENT_TIMEOUT;
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait") {
            break st;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}: no answer within {CLIENT_TIMEOUT:?} (client killed)");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let stdout = String::from_utf8_lossy(&t_out.join().unwrap_or_default()).into_owned();
    let stderr = String::from_utf8_lossy(&t_err.join().unwrap_or_default()).into_owned();
    let r = Run {
        what,
        status: status.code(),
        stdout,
        stderr,
    };
    if r.status == Some(3) && r.stdout.starts_with("MISSING-MODULE") {
        panic!("{}: Python module missing: {}; run `pip install PyMySQL cryptography mysql-connector-python`", r.what, r.stdout.trim());
    }
    r
}

#[derive(Clone, Copy, Debug)]
pub enum Via {
    /// TCP, TLS required, server certificate verified against the data dir's CA, host name checked.
    Tls,
    /// TCP without TLS.
    Plain,
    /// The Unix socket without TLS (`--skip-ssl`: the 10.11 CLI defaults to `--ssl`, also on
    /// the socket).
    Socket,
}

/// `mariadb` CLI in batch mode (`-N -B`): `sql` may hold several `;`-separated statements. The
/// CLI sends each statement separately; after a failing one it skips the rest of the `-e` text
/// (even with `--force`): use `mariadb_stdin` to go on after an error.
pub fn mariadb(srv: &Server, via: Via, user: &str, pw: &str, extra: &[&str], sql: &str) -> Run {
    let mut cmd = mariadb_cmd(srv, via, user, pw, extra);
    cmd.arg("-e").arg(sql);
    run(
        cmd,
        format!("mariadb {via:?} as {user}: {sql}"),
        "install it: apt-get install -y mariadb-client",
    )
}

/// `mariadb` CLI in batch mode reading `script` from stdin.
pub fn mariadb_stdin(
    srv: &Server,
    via: Via,
    user: &str,
    pw: &str,
    extra: &[&str],
    script: &str,
) -> Run {
    let cmd = mariadb_cmd(srv, via, user, pw, extra);
    run_with_input(
        cmd,
        format!("mariadb {via:?} as {user} < {script:?}"),
        "install it: apt-get install -y mariadb-client",
        Some(script),
    )
}

pub fn mariadb_cmd(srv: &Server, via: Via, user: &str, pw: &str, extra: &[&str]) -> Command {
    let mut cmd = Command::new("mariadb");
    cmd.arg("--no-defaults");
    match via {
        Via::Tls => {
            cmd.args([
                "--protocol=TCP",
                "-h127.0.0.1",
                &format!("-P{}", srv.port),
                "--ssl",
            ]);
            cmd.arg(format!("--ssl-ca={}", srv.ca()))
                .arg("--ssl-verify-server-cert");
        }
        Via::Plain => {
            cmd.args([
                "--protocol=TCP",
                "-h127.0.0.1",
                &format!("-P{}", srv.port),
                "--skip-ssl",
            ]);
        }
        Via::Socket => {
            cmd.args(["--protocol=SOCKET", "-S", &srv.socket(), "--skip-ssl"]);
        }
    }
    cmd.arg(format!("-u{user}"))
        .arg(format!("--password={pw}"))
        .args(["-N", "-B", "--connect-timeout=10"]);
    cmd.args(extra);
    cmd.env_remove("MYSQL_PWD")
        .env_remove("MYSQL_HOST")
        .env_remove("MYSQL_TCP_PORT")
        .env_remove("MYSQL_UNIX_PORT");
    cmd
}

pub fn python() -> Command {
    let mut cmd = Command::new("python3");
    cmd.env("PYTHONDONTWRITEBYTECODE", "1");
    cmd
}

pub fn script(name: &str) -> String {
    format!("{}/tests/interop/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// PyMySQL (`tests/interop/pymysql_client.py`): one connection, `stmts` run in order.
pub fn pymysql(
    srv: &Server,
    via: Via,
    user: &str,
    pw: &str,
    database: Option<&str>,
    stmts: &[&str],
) -> Run {
    let db_args = database.map(|db| ["--database", db]);
    pymysql_args(
        srv,
        via,
        user,
        pw,
        db_args.as_ref().map_or(&[], |a| &a[..]),
        stmts,
    )
}

/// As [`pymysql`], with more options for the script (`--ssl-cert F --ssl-key F`,
/// `--server-public-key F`, `--database D`).
pub fn pymysql_args(
    srv: &Server,
    via: Via,
    user: &str,
    pw: &str,
    args: &[&str],
    stmts: &[&str],
) -> Run {
    let mut cmd = python();
    cmd.arg(script("pymysql_client.py"));
    match via {
        Via::Tls => cmd.args([
            "--mode",
            "tls",
            "--port",
            &srv.port.to_string(),
            "--ca",
            &srv.ca(),
        ]),
        Via::Plain => cmd.args(["--mode", "plain", "--port", &srv.port.to_string()]),
        Via::Socket => cmd.args(["--mode", "socket", "--socket", &srv.socket()]),
    };
    cmd.args(["--user", user, "--password", pw]);
    cmd.args(args);
    cmd.arg("--").args(stmts);
    run(
        cmd,
        format!("PyMySQL {via:?} {args:?} as {user}: {stmts:?}"),
        "install python3",
    )
}

#[derive(Clone, Copy, Debug)]
pub enum Impl {
    CExt,
    Pure,
}

/// mysql-connector-python (`tests/interop/connector_client.py`).
pub fn connector(srv: &Server, imp: Impl, via: Via, user: &str, pw: &str, stmts: &[&str]) -> Run {
    let mut cmd = python();
    cmd.arg(script("connector_client.py"));
    cmd.args([
        "--impl",
        match imp {
            Impl::CExt => "cext",
            Impl::Pure => "pure",
        },
    ]);
    match via {
        Via::Tls => cmd.args(["--mode", "tls", "--ca", &srv.ca()]),
        Via::Plain => cmd.args(["--mode", "plain"]),
        Via::Socket => panic!("connector tests use TCP"),
    };
    cmd.args([
        "--port",
        &srv.port.to_string(),
        "--user",
        user,
        "--password",
        pw,
    ]);
    cmd.arg("--").args(stmts);
    run(
        cmd,
        format!("mysql-connector-python {imp:?} {via:?} as {user}: {stmts:?}"),
        "install python3",
    )
}

/// Asserts the client succeeded; returns its stdout.
pub fn ok(srv: &Server, r: Run) -> String {
    if r.status != Some(0) || r.stdout.starts_with("CONNECT ERROR") {
        panic!(
            "{} failed (exit {:?})\nstdout:\n{}\nstderr:\n{}\nserver log (tail):\n{}",
            r.what,
            r.status,
            r.stdout,
            r.stderr,
            srv.log_tail()
        );
    }
    r.stdout
}

/// Asserts the client failed; returns stdout + stderr.
pub fn failed(srv: &Server, r: Run) -> String {
    if r.status == Some(0) {
        panic!(
            "{} unexpectedly succeeded\nstdout:\n{}\nserver log (tail):\n{}",
            r.what,
            r.stdout,
            srv.log_tail()
        );
    }
    format!("{}{}", r.stdout, r.stderr)
}

/// Equality with the server log attached on failure.
#[track_caller]
pub fn check_eq(srv: &Server, got: &str, want: &str, ctx: &str) {
    if got != want {
        panic!(
            "{ctx}\n--- got:\n{got}\n--- want:\n{want}\n--- server log (tail):\n{}",
            srv.log_tail()
        );
    }
}

pub const COUNTERS_SQL: &str = "SHOW GLOBAL STATUS LIKE 'Caching_sha2_password_f%'";

/// (fast_path_auths, full_auths) from the output of `COUNTERS_SQL`.
#[track_caller]
pub fn counters(out: &str) -> (u64, u64) {
    let get = |name: &str| {
        out.lines()
            .find_map(|l| {
                l.strip_prefix(name)?
                    .strip_prefix('\t')?
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
            .unwrap_or_else(|| panic!("no {name} in output:\n{out}"))
    };
    (
        get("Caching_sha2_password_fast_path_auths"),
        get("Caching_sha2_password_full_auths"),
    )
}

/// Output lines other than the counter rows.
pub fn without_counters(out: &str) -> String {
    out.lines()
        .filter(|l| !l.starts_with("Caching_sha2_password_f"))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// The last non-empty line (the 10.11 CLI echoes a failing statement between dashes before
/// the `ERROR … at line N:` line).
pub fn last_line(text: &str) -> &str {
    text.lines()
        .rev()
        .find(|l| !l.is_empty())
        .unwrap_or_default()
}

pub fn access_denied(user: &str) -> String {
    format!("Access denied for user '{user}'@'localhost' (using password: YES)")
}

/// Creates accounts as root over TLS (statements separated by `;`).
pub fn admin(srv: &Server, sql: &str) -> String {
    ok(srv, mariadb(srv, Via::Tls, "root", ROOT_PW, &[], sql))
}

// ---------------------------------------------------------------------------------------------
// Raw access, for the hardening tests (tests/hardening.rs)
// ---------------------------------------------------------------------------------------------

impl Session<'_> {
    /// Writes bytes as they are (a header without its payload, a partial packet …).
    pub fn write_raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.s.write_all(bytes)?;
        self.s.flush()
    }

    /// Reads one packet: (sequence id, payload).
    pub fn read_raw_packet(&mut self) -> std::io::Result<(u8, Vec<u8>)> {
        read_packet(&mut *self.s)
    }
}

impl Server {
    /// PID of the server process (a child of the watchdog shell).
    pub fn server_pid(&self) -> u32 {
        let sh = self.watchdog.id();
        let children = std::fs::read_to_string(format!("/proc/{sh}/task/{sh}/children"))
            .expect("children of the watchdog");
        children
            .split_whitespace()
            .filter_map(|p| p.parse::<u32>().ok())
            // The other child is the watchdog's own subshell; the binary may be a copy under
            // another name (`Launch::bin`).
            .find(|p| {
                std::fs::read_to_string(format!("/proc/{p}/comm")).is_ok_and(|c| c.trim() != "sh")
            })
            .expect("no server child of the watchdog")
    }
}

/// Resident set size of a process, in KiB (`VmRSS` of /proc/PID/status).
pub fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmRSS")
}
pub mod mariadb;
