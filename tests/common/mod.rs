//! Shared by the integration tests: the real `vestibule` binary in a temporary data dir, and a
//! minimal Rust MySQL client built from the crate's own wire encoders.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

pub const ROOT_PW: &str = "Interop-Root_pw1";

// ---------------------------------------------------------------------------------------------
// The server under test
// ---------------------------------------------------------------------------------------------

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
            "--bind-address".into(),
            "127.0.0.1".into(),
            "--socket".into(),
            socket.display().to_string(),
            "--log-level".into(),
            "info,vestibule=debug".into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        let script = r#"trap '' INT
exec 3<&0
"$0" "$@" </dev/null 3<&- &
pid=$!
(
  read -r _line <&3
  kill "$pid" 2>/dev/null
  while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
  rm -rf "$VEST_INTEROP_DIR"
) &
wait "$pid""#;
        let mut watchdog = Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg(env!("CARGO_BIN_EXE_vestibule"))
            .args(&args)
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
                let addr = line
                    .split_whitespace()
                    .find_map(|w| w.strip_prefix("address="))
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

impl Drop for Server {
    fn drop(&mut self) {
        drop(self.stdin.take()); // the watchdog kills the server
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

fn read_packet(s: &mut dyn Stream) -> std::io::Result<(u8, Vec<u8>)> {
    let mut h = [0u8; 4];
    s.read_exact(&mut h)?;
    let len = u32::from_le_bytes([h[0], h[1], h[2], 0]) as usize;
    let mut p = vec![0u8; len];
    s.read_exact(&mut p)?;
    Ok((h[3], p))
}

fn write_packet(s: &mut dyn Stream, seq: u8, payload: &[u8]) -> std::io::Result<()> {
    s.write_all(&vestibule::wire::frame::packet(seq, payload))
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
    mut s: Box<dyn Stream + 'a>,
    user: &str,
    pw: &str,
    tls: Option<&ClientTls>,
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
        database: None,
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
