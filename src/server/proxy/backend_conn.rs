//! One connection to the backend: opening it (TCP or Unix socket, TLS, the sans-IO
//! [`crate::client::Login`]), reading and writing physical frames, and the few commands the
//! door sends on its own account (ping, reset, `SET NAMES`, `SELECT DATABASE()`).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::sync::OwnedSemaphorePermit;

use super::config::BackendAddress;
use crate::client::{ClientAction, ClientEvent, Login, LoginError, LoginOk, LoginParams};
use crate::server::conn::Io;
use crate::wire::frame::{self, MAX_PACKET_CHUNK};
use crate::wire::packets::ErrPacket;
use crate::wire::response::{Progress, Tracker};

/// Why opening a backend connection failed.
#[derive(Debug)]
pub(crate) enum OpenError {
    /// Connect, TLS, timeout or a protocol failure: the backend's health is in question.
    Unreachable(String),
    /// The backend answered the login with an ERR packet.
    Refused(ErrPacket),
    /// The credential cannot answer the backend account's plugin (pass-through).
    Unsuitable(LoginError),
}

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OpenError::Unreachable(s) => f.write_str(s),
            OpenError::Refused(e) => write!(f, "backend error {}: {}", e.code, e.message),
            OpenError::Unsuitable(e) => write!(f, "{e}"),
        }
    }
}

/// What makes two backend connections interchangeable (docs/proxy.md §6.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct PoolKey {
    /// The backend account.
    pub user: String,
    /// The command-phase capability flags of the login.
    pub capabilities: u32,
    /// The collation id of the login.
    pub collation: u8,
    /// The default database the connection is returned to.
    pub database: Option<String>,
}

/// One open, logged-in backend connection.
pub(crate) struct BackendConn {
    io: BufReader<Box<dyn Io>>,
    /// The backend's thread id (`KILL` takes it).
    pub thread_id: u32,
    /// The login's capability flags.
    pub capabilities: u32,
    /// The pool generation it was opened in (a backend restart bumps it).
    pub generation: u64,
    pub opened: Instant,
    pub last_used: Instant,
    pub key: PoolKey,
    /// `SET NAMES` text restoring the login's character set after COM_RESET_CONNECTION.
    pub set_names: Option<String>,
    /// A MariaDB backend: the collation it has in place of MySQL 8.0's `utf8mb4_0900_ai_ci`
    /// (docs/proxy.md §3.4).
    pub collation_for_0900: Option<&'static str>,
    /// Its place among `backend-pool-max-connections`.
    pub _permit: OwnedSemaphorePermit,
}

impl std::fmt::Debug for BackendConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackendConn")
            .field("thread_id", &self.thread_id)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

/// Largest frame the door reads from the backend in one piece: a whole physical frame.
const FRAME_LIMIT: usize = MAX_PACKET_CHUNK;

impl BackendConn {
    /// Opens and logs in, bounded by `timeout`.
    pub(crate) async fn open(
        address: &BackendAddress,
        tls: Option<&Arc<rustls::ClientConfig>>,
        params: LoginParams,
        timeout: Duration,
        permit: OwnedSemaphorePermit,
        generation: u64,
        key: PoolKey,
    ) -> Result<(BackendConn, LoginOk), OpenError> {
        let opened = tokio::time::timeout(timeout, Self::open_inner(address, tls, params)).await;
        let (io, ok) = match opened {
            Err(_) => {
                return Err(OpenError::Unreachable(format!(
                    "no login within backend-connect-timeout ({}s)",
                    timeout.as_secs()
                )))
            }
            Ok(r) => r?,
        };
        let now = Instant::now();
        Ok((
            BackendConn {
                io,
                thread_id: ok.connection_id,
                capabilities: ok.capabilities,
                generation,
                opened: now,
                last_used: now,
                key,
                set_names: None,
                collation_for_0900: collation_for_0900(&ok.server_version),
                _permit: permit,
            },
            ok,
        ))
    }

    async fn open_inner(
        address: &BackendAddress,
        tls: Option<&Arc<rustls::ClientConfig>>,
        mut params: LoginParams,
    ) -> Result<(BufReader<Box<dyn Io>>, LoginOk), OpenError> {
        let unreachable = |what: &str, e: std::io::Error| {
            OpenError::Unreachable(format!("{what} {address}: {e}"))
        };
        let stream: Box<dyn Io> = match address {
            BackendAddress::Tcp(host, port) => {
                let s = tokio::net::TcpStream::connect((host.as_str(), *port))
                    .await
                    .map_err(|e| unreachable("cannot connect to", e))?;
                let _ = s.set_nodelay(true);
                Box::new(s)
            }
            BackendAddress::Unix(path) => Box::new(
                tokio::net::UnixStream::connect(path)
                    .await
                    .map_err(|e| unreachable("cannot connect to", e))?,
            ),
        };
        params.tls = tls.is_some();
        let mut io = BufReader::new(stream);
        let mut login = Login::new(params);
        let mut pending: VecDeque<ClientAction> = VecDeque::new();
        loop {
            let Some(action) = pending.pop_front() else {
                let (seq, payload) = read_frame(&mut io, crate::client::LOGIN_MAX_PACKET)
                    .await
                    .map_err(|e| unreachable("login read from", e))?;
                pending.extend(login.handle(ClientEvent::Packet {
                    seq,
                    payload: &payload,
                }));
                continue;
            };
            match action {
                ClientAction::Send(bytes) => io
                    .get_mut()
                    .write_all(&bytes)
                    .await
                    .map_err(|e| unreachable("login write to", e))?,
                ClientAction::StartTls => {
                    let Some(config) = tls else {
                        return Err(OpenError::Unreachable(
                            "TLS asked for without a TLS configuration".into(),
                        ));
                    };
                    let host = match address {
                        BackendAddress::Tcp(h, _) => h.clone(),
                        BackendAddress::Unix(_) => "localhost".into(),
                    };
                    let name = rustls::pki_types::ServerName::try_from(host)
                        .map_err(|e| OpenError::Unreachable(format!("backend host name: {e}")))?;
                    let connector = tokio_rustls::TlsConnector::from(Arc::clone(config));
                    // Nothing can be buffered: the server waits for the ClientHello.
                    let inner = io.into_inner();
                    let stream = connector
                        .connect(name, inner)
                        .await
                        .map_err(|e| unreachable("TLS handshake with", e))?;
                    io = BufReader::new(Box::new(stream) as Box<dyn Io>);
                    pending.extend(login.handle(ClientEvent::TlsEstablished));
                }
                ClientAction::Done(ok) => {
                    io.get_mut()
                        .flush()
                        .await
                        .map_err(|e| unreachable("login write to", e))?;
                    return Ok((io, ok));
                }
                ClientAction::Failed(LoginError::Refused(err)) => {
                    return Err(OpenError::Refused(err))
                }
                ClientAction::Failed(
                    e @ (LoginError::CredentialUnsuitable { .. }
                    | LoginError::FullAuthNeedsPassword
                    | LoginError::FullAuthNeedsTls
                    | LoginError::UnsupportedPlugin(_)),
                ) => return Err(OpenError::Unsuitable(e)),
                ClientAction::Failed(e) => {
                    return Err(OpenError::Unreachable(format!("login to {address}: {e}")))
                }
            }
        }
    }

    /// Writes a command payload as frames from sequence id 0 (the client's own split, so the
    /// reply's ids match the client's: docs/proxy.md §3.1).
    pub(crate) async fn write_command(&mut self, payload: &[u8]) -> std::io::Result<()> {
        let mut out = Vec::with_capacity(payload.len() + 8);
        frame::encode(0, payload, &mut out);
        let w = self.io.get_mut();
        w.write_all(&out).await?;
        w.flush().await
    }

    /// Writes raw, already framed bytes (the client's LOCAL INFILE packets).
    pub(crate) async fn write_raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        let w = self.io.get_mut();
        w.write_all(bytes).await?;
        w.flush().await
    }

    /// Reads one physical frame: its sequence id and payload.
    pub(crate) async fn read_frame(&mut self) -> std::io::Result<(u8, Vec<u8>)> {
        read_frame(&mut self.io, FRAME_LIMIT).await
    }

    /// Whether bytes are buffered or a read would not block (an unsolicited packet, or EOF).
    pub(crate) fn has_buffered(&self) -> bool {
        !self.io.buffer().is_empty()
    }

    /// Sends a command the door owns and reads its whole reply: `Ok(Err)` for an ERR packet,
    /// the packets otherwise.
    pub(crate) async fn command(
        &mut self,
        payload: &[u8],
    ) -> std::io::Result<Result<Vec<Vec<u8>>, ErrPacket>> {
        self.write_command(payload).await?;
        let Some(mut tracker) = Tracker::for_command(payload, self.capabilities) else {
            return Ok(Ok(Vec::new()));
        };
        let mut packets = Vec::new();
        loop {
            let (_, p) = self.read_frame().await?;
            let progress = tracker
                .frame(&p)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()))?;
            packets.push(p);
            match progress {
                Progress::More => {}
                Progress::LocalInfile => {
                    // Never asked for by the door: send the empty packet that ends the file.
                    self.write_raw(&frame::packet(2, &[])).await?;
                    tracker.infile_sent();
                }
                _ => break,
            }
        }
        if packets.len() == 1 && packets[0].first() == Some(&0xFF) {
            let err = ErrPacket::parse(&packets[0])
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()))?;
            return Ok(Err(err));
        }
        Ok(Ok(packets))
    }

    /// A text query the door owns whose result is one row of one column: its value (`None` for
    /// NULL or no row).
    pub(crate) async fn query_value(
        &mut self,
        sql: &str,
    ) -> std::io::Result<Result<Option<Vec<u8>>, ErrPacket>> {
        let mut payload = Vec::with_capacity(sql.len() + 1);
        payload.push(0x03);
        payload.extend_from_slice(sql.as_bytes());
        let packets = match self.command(&payload).await? {
            Ok(p) => p,
            Err(e) => return Ok(Err(e)),
        };
        // column count, column definition, [EOF], row, EOF/OK.
        let eof = self.capabilities & crate::wire::CLIENT_DEPRECATE_EOF == 0;
        let row = packets.get(if eof { 3 } else { 2 });
        let value = match row {
            Some(r) if packets.len() >= if eof { 5 } else { 4 } => match r.first() {
                Some(0xFB) => None,
                _ => crate::wire::Reader::new(r)
                    .lenenc_bytes("value")
                    .ok()
                    .map(<[u8]>::to_vec),
            },
            _ => None,
        };
        Ok(Ok(value))
    }

    /// COM_QUIT, then close.
    pub(crate) async fn quit(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(1), self.write_command(&[0x01])).await;
        let _ = self.io.get_mut().shutdown().await;
    }
}

/// MariaDB has no `utf8mb4_0900_ai_ci` before 11.4 (MariaDB KB, "Supported Character Sets and
/// Collations"); from 10.10 on, `utf8mb4_uca1400_ai_ci` is the same kind of collation (UCA,
/// accent- and case-insensitive), before that `utf8mb4_general_ci`. `None` for MySQL, whose
/// greeting version has no `MariaDB`.
fn collation_for_0900(version: &str) -> Option<&'static str> {
    if !version.contains("MariaDB") {
        return None;
    }
    // "5.5.5-10.11.19-MariaDB-…" (the 5.5.5- prefix kept for old replication clients).
    let v = version.strip_prefix("5.5.5-").unwrap_or(version);
    let mut parts = v
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|p| p.parse::<u32>().ok());
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    Some(if (major, minor) >= (10, 10) {
        "utf8mb4_uca1400_ai_ci"
    } else {
        "utf8mb4_general_ci"
    })
}

/// Reads one frame of at most `limit` payload bytes.
async fn read_frame(
    io: &mut BufReader<Box<dyn Io>>,
    limit: usize,
) -> std::io::Result<(u8, Vec<u8>)> {
    let mut header = [0u8; 4];
    io.read_exact(&mut header).await?;
    let h = frame::Header::parse(header);
    let len = h.len;
    if len > limit {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("backend packet of {len} bytes over the limit of {limit}"),
        ));
    }
    let mut payload = vec![0u8; len];
    io.read_exact(&mut payload).await?;
    Ok((h.seq, payload))
}

#[cfg(test)]
mod tests {
    #[test]
    fn mariadb_gets_a_collation_in_place_of_0900_ai_ci() {
        use super::collation_for_0900 as f;
        assert_eq!(
            f("5.5.5-10.11.19-MariaDB-0+deb12u1"),
            Some("utf8mb4_uca1400_ai_ci")
        );
        assert_eq!(f("5.5.5-10.6.18-MariaDB"), Some("utf8mb4_general_ci"));
        assert_eq!(f("11.4.2-MariaDB"), Some("utf8mb4_uca1400_ai_ci"));
        assert_eq!(f("8.0.40"), None);
    }
}
