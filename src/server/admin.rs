//! The built-in backend: the admin SQL subset (accounts, TLS, variables, status) that the
//! binary answers after login. It is one [`Backend`] among any an embedder may write; it reads
//! the server's own state ([`Shared`]) and changes accounts through the binary's
//! [`FileAccounts`] store.

use std::collections::HashMap;
use std::ops::Deref;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::api::{Backend, Connection, ConnectionInfo, Reply, Request};
use super::store::FileAccounts;
use super::{Shared, Timeouts};
use crate::account::ClientHost;
use crate::handshake::Session;
use crate::wire::command::Command;
use crate::wire::packets::{ErrPacket, OkPacket};

/// What the admin statements work on: the server's state and the account store. Derefs to
/// [`Shared`], so statements read `config`, `stats`, `tls` … directly.
pub struct Admin {
    pub shared: Arc<Shared>,
    pub accounts: Arc<FileAccounts>,
}

impl Deref for Admin {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.shared
    }
}

/// The admin SQL as a [`Backend`]: every account that logs in gets a session; what it may do
/// is decided per statement (privileges), as in MySQL.
#[derive(Clone)]
pub struct AdminBackend {
    admin: Arc<Admin>,
}

impl AdminBackend {
    pub fn new(shared: Arc<Shared>, accounts: Arc<FileAccounts>) -> AdminBackend {
        AdminBackend {
            admin: Arc::new(Admin { shared, accounts }),
        }
    }
}

/// Per-session state of the admin SQL.
pub struct ConnState {
    pub id: u32,
    pub session: Session,
    /// Session system variables set by the client (lower-case names).
    pub session_vars: HashMap<String, String>,
    /// User variables (`@x`).
    pub user_vars: HashMap<String, String>,
    pub status_flags: u16,
    pub client: ClientHost,
    /// Warnings of the last statement (SHOW WARNINGS).
    pub warnings: Vec<(String, u16, String)>,
    /// The TLS context current when the session was admitted (its session status values; a
    /// later `ALTER INSTANCE RELOAD TLS` does not change them).
    pub tls_ctx: Option<Arc<super::tls::ActiveTls>>,
    /// This session's `wait_timeout`, `net_read_timeout` … (`SET SESSION` changes them).
    pub timeouts: Timeouts,
}

impl ConnState {
    /// COM_RESET_CONNECTION and a successful COM_CHANGE_USER: session variables back to the
    /// global defaults, user variables gone, autocommit on.
    pub fn reset_session(&mut self, shared: &Shared) {
        self.session_vars.clear();
        self.user_vars.clear();
        self.status_flags = crate::wire::SERVER_STATUS_AUTOCOMMIT;
        self.timeouts = shared
            .timeouts()
            .for_session(self.session.client_capabilities);
    }
}

/// One admin SQL session.
pub struct AdminConnection {
    admin: Arc<Admin>,
    st: ConnState,
}

impl Backend for AdminBackend {
    type Connection = AdminConnection;

    fn admit(
        &self,
        session: &Session,
        info: &ConnectionInfo,
    ) -> impl std::future::Future<Output = Result<AdminConnection, ErrPacket>> + Send {
        let admin = Arc::clone(&self.admin);
        let tls_ctx = session.tls.as_ref().and_then(|_| admin.tls.current());
        let st = ConnState {
            id: info.id,
            session: session.clone(),
            session_vars: HashMap::new(),
            user_vars: HashMap::new(),
            status_flags: crate::wire::SERVER_STATUS_AUTOCOMMIT,
            client: info.client,
            warnings: Vec::new(),
            tls_ctx,
            timeouts: admin.timeouts().for_session(session.client_capabilities),
        };
        std::future::ready(Ok(AdminConnection { admin, st }))
    }
}

impl Connection for AdminConnection {
    async fn on_command(
        &mut self,
        request: Request<'_>,
        reply: &mut Reply<'_>,
    ) -> std::io::Result<()> {
        let st = &mut self.st;
        let admin = &self.admin;
        let Some(cmd) = request.command else {
            reply.error(&ErrPacket::new(1047, "08S01", "Unknown command"));
            return Ok(());
        };
        match cmd {
            Command::Ping => reply.ok(&OkPacket::with_status(st.status_flags)),
            Command::ResetConnection => {
                st.reset_session(admin);
                reply.ok(&OkPacket::with_status(st.status_flags));
            }
            Command::InitDb(db) => {
                let db = String::from_utf8_lossy(&db);
                for p in super::commands::use_database(st, admin, &db) {
                    reply.packet(&p);
                }
            }
            Command::Query(sql) => {
                for p in super::commands::execute(st, admin, &sql).await {
                    reply.packet(&p);
                }
            }
            Command::Statistics => {
                let text = format!(
                    "Uptime: {}  Threads: {}  Questions: {}  Slow queries: 0  Opens: 0  Flush tables: 0  Open tables: 0  Queries per second avg: 0.000",
                    admin.started.elapsed().as_secs(),
                    admin.stats.threads_connected.load(Ordering::Relaxed),
                    admin.stats.questions.load(Ordering::Relaxed),
                );
                reply.packet(text.as_bytes());
            }
            Command::Quit | Command::ChangeUser(_) | Command::Unsupported(_) => {
                reply.error(&ErrPacket::new(1047, "08S01", "Unknown command"));
            }
        }
        Ok(())
    }

    async fn on_change_user(&mut self, session: &Session) -> Result<(), ErrPacket> {
        self.st.session = session.clone();
        self.st.reset_session(&self.admin);
        Ok(())
    }

    fn timeouts(&self) -> Option<Timeouts> {
        Some(self.st.timeouts)
    }
}
