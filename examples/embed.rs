//! Embedding Vestibule: its connection phase in front of an engine of your own.
//!
//! The engine here is a toy — every query is answered with one row naming the account, the TLS
//! version and the statement — but the door is the real one: TLS from an in-memory
//! certificate, caching_sha2_password with the fast-path cache and RSA key exchange on plain
//! TCP, mysql_native_password, and an admission step where the backend can still refuse a
//! login with its own error.
//!
//! ```sh
//! cargo run --example embed -- 3307
//! mariadb -h127.0.0.1 -P3307 -uapp -psecret --skip-ssl -e 'hello'
//! ```

use std::sync::Arc;

use vestibule::auth::Plugin;
use vestibule::handshake::Session;
use vestibule::server::rsa_keys::RsaKeyPair;
use vestibule::server::tls::{TlsConfig, TlsIdentity};
use vestibule::server::{
    Backend, Connection, ConnectionInfo, MemoryAccounts, Reply, Request, Server,
};
use vestibule::wire::command::Command;
use vestibule::wire::packets::{ErrPacket, OkPacket};

/// The engine: admits everyone but `blocked`, and answers queries with an echo.
struct Echo;

struct EchoSession {
    account: String,
    tls: String,
}

impl Backend for Echo {
    type Connection = EchoSession;

    async fn admit(
        &self,
        session: &Session,
        info: &ConnectionInfo,
    ) -> Result<EchoSession, ErrPacket> {
        if session.account_user() == "blocked" {
            // The client gets exactly this packet instead of its OK.
            return Err(ErrPacket::new(
                1044,
                "42000",
                "Access denied: this account is blocked here",
            ));
        }
        eprintln!("connection {} admitted: {}", info.id, session.user);
        Ok(EchoSession {
            account: format!("{}@{}", session.account_user(), session.account_host()),
            tls: session
                .tls
                .as_ref()
                .map_or("none".into(), |t| t.version.clone()),
        })
    }
}

impl Connection for EchoSession {
    async fn on_command(
        &mut self,
        request: Request<'_>,
        reply: &mut Reply<'_>,
    ) -> std::io::Result<()> {
        match request.command {
            Some(Command::Query(sql)) => {
                let sql = String::from_utf8_lossy(&sql).into_owned();
                reply.text_result(
                    &["account", "tls", "you said"],
                    &[vec![
                        Some(self.account.clone()),
                        Some(self.tls.clone()),
                        Some(sql),
                    ]],
                );
            }
            Some(Command::Ping | Command::InitDb(_) | Command::ResetConnection) => {
                reply.ok(&OkPacket::default());
            }
            _ => reply.error(&ErrPacket::new(1047, "08S01", "Unknown command")),
        }
        Ok(())
    }

    async fn on_change_user(&mut self, session: &Session) -> Result<(), ErrPacket> {
        self.account = format!("{}@{}", session.account_user(), session.account_host());
        Ok(())
    }
}

/// Salt for a stored hash: any 20 bytes; a real embedder draws them at random.
fn salt(seed: u8) -> [u8; 20] {
    std::array::from_fn(|i| seed.wrapping_mul(31).wrapping_add(i as u8))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = std::env::args().nth(1).map_or(Ok(3307), |p| p.parse())?;

    let accounts = MemoryAccounts::new();
    accounts.add(
        "app",
        "%",
        Plugin::CachingSha2Password,
        "secret",
        salt(1),
        5000,
    )?;
    accounts.add(
        "legacy",
        "%",
        Plugin::MysqlNativePassword,
        "old",
        salt(2),
        5000,
    )?;
    accounts.add(
        "blocked",
        "%",
        Plugin::CachingSha2Password,
        "secret",
        salt(3),
        5000,
    )?;

    // One RSA pair for both SHA-256 plugins: full authentication on plain TCP.
    let rsa = Arc::new(RsaKeyPair::generate()?);
    // A self-signed certificate made here; a real embedder loads its own (files or memory).
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()])?;
    let identity = TlsIdentity::from_pem(
        cert.cert.pem().as_bytes(),
        cert.signing_key.serialize_pem().as_bytes(),
    )?;
    let server = Server::builder()
        .accounts(accounts)
        .backend(Echo)
        .tls(TlsConfig::new(identity))
        .rsa_key_pair(Plugin::CachingSha2Password, rsa.clone())
        .rsa_key_pair(Plugin::Sha256Password, rsa)
        .build()?;

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on {}", listener.local_addr()?.port());
    tokio::select! {
        () = server.serve(listener) => {}
        _ = tokio::signal::ctrl_c() => {
            // Open sessions get 1053 and a few seconds to go.
            server.shutdown(std::time::Duration::from_secs(5)).await;
        }
    }
    Ok(())
}
