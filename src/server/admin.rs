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
use crate::error::MysqlError;
use crate::handshake::Session;
use crate::wire::command::Command;
use crate::wire::packets::{ErrPacket, OkPacket};

/// What the admin statements work on: the server's state and the account store. Derefs to
/// [`Shared`], so statements read `config`, `stats`, `tls` … directly.
pub(crate) struct Admin {
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
    /// The admin SQL over `shared` (variables, status, TLS) and `accounts` (the statements
    /// that create, alter and drop accounts save through it).
    pub fn new(shared: Arc<Shared>, accounts: Arc<FileAccounts>) -> AdminBackend {
        AdminBackend {
            admin: Arc::new(Admin { shared, accounts }),
        }
    }
}

/// Per-session state of the admin SQL.
pub(crate) struct ConnState {
    pub id: u32,
    pub session: Session,
    /// Session system variables set by the client (lower-case names).
    pub session_vars: HashMap<String, String>,
    /// User variables (`@x`).
    pub user_vars: HashMap<String, String>,
    pub status_flags: u16,
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
            reply.error(&MysqlError::UnknownComError.packet(&[]));
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
                reply.error(&MysqlError::UnknownComError.packet(&[]));
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

/// The admin SQL without a socket: a server built in memory (no TLS, accounts in a temporary
/// file), a session admitted as if it had logged in, statements run through
/// [`Connection::on_command`]'s path and their packets decoded.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::{Account, AccountSet, ClientHost};
    use crate::auth::{AuthString, Nonce, Plugin};
    use crate::handshake::{AuthPath, Transport};
    use crate::wire::capabilities::{CLIENT_DEPRECATE_EOF, CLIENT_PROTOCOL_41};
    use crate::wire::packets::ErrPacket;

    struct Harness {
        _dir: tempfile::TempDir,
        backend: AdminBackend,
    }

    fn harness() -> Harness {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = crate::server::config::Config::merge(
            crate::server::config::Flags::default(),
            crate::server::config::Flags::default(),
        )
        .expect("defaults");
        let shared = Shared::new(
            config,
            crate::server::tls::TlsState::disabled(),
            None,
            None,
            "testhost".into(),
        );
        let mut root = Account::new(
            "root",
            "localhost",
            Plugin::CachingSha2Password,
            AuthString::generate(Plugin::CachingSha2Password, b"pw", [1; 20], 5000),
        );
        root.admin = true;
        root.grant_option = true;
        let mut set = AccountSet::new();
        set.create(vec![root], false).expect("root");
        let file = crate::server::store::AccountsFile::new(dir.path().join("accounts"));
        let accounts = Arc::new(FileAccounts::new(file, set));
        crate::server::AccountStore::attach_cache(&*accounts, Arc::clone(&shared.cache));
        Harness {
            _dir: dir,
            backend: AdminBackend::new(shared, accounts),
        }
    }

    fn session(h: &Harness, user: &str, host: &str) -> Session {
        let account = h
            .backend
            .admin
            .accounts
            .read()
            .get(user, host)
            .cloned()
            .map(Arc::new)
            .expect("account");
        Session {
            user: user.into(),
            account,
            client_host: "localhost".into(),
            database: None,
            client_capabilities: CLIENT_PROTOCOL_41 | CLIENT_DEPRECATE_EOF,
            character_set: 255,
            plugin: Plugin::CachingSha2Password,
            tls: None,
            transport: Transport::Unix,
            auth_path: AuthPath::Full,
            nonce: Nonce::from_wire([7; 20]),
            login_secret: None,
            password_expired: false,
            secondary_password: false,
        }
    }

    async fn admitted(h: &Harness, user: &str, host: &str) -> AdminConnection {
        let info = ConnectionInfo::new(7, ClientHost::Unix);
        h.backend
            .admit(&session(h, user, host), &info)
            .await
            .expect("admitted")
    }

    /// Rows of a result set as text, or the error (code, message), or `Ok(vec![])` for an OK.
    async fn query(c: &mut AdminConnection, sql: &str) -> Result<Vec<Vec<String>>, (u16, String)> {
        let payloads = super::super::commands::execute(&mut c.st, &c.admin, sql.as_bytes()).await;
        let first = payloads.first().expect("a reply");
        match first.first() {
            Some(0x00) => return Ok(vec![]),
            Some(0xff) => {
                let e = ErrPacket::parse(first).expect("ERR");
                return Err((e.code, e.message));
            }
            _ => {}
        }
        let ncols = usize::from(first[0]);
        let mut rows = Vec::new();
        for p in &payloads[1 + ncols..] {
            if p.first() == Some(&0xfe) && p.len() < 9 {
                break;
            }
            let mut r = crate::wire::Reader::new(p);
            let row = (0..ncols)
                .map(|_| {
                    if r.peek() == Some(0xfb) {
                        let _ = r.u8("null");
                        "NULL".to_string()
                    } else {
                        String::from_utf8_lossy(r.lenenc_bytes("value").expect("value"))
                            .into_owned()
                    }
                })
                .collect();
            rows.push(row);
        }
        Ok(rows)
    }

    fn rows(v: &[&[&str]]) -> Vec<Vec<String>> {
        v.iter()
            .map(|r| r.iter().map(|c| c.to_string()).collect())
            .collect()
    }

    #[tokio::test]
    async fn account_statements_run_without_a_socket() {
        let h = harness();
        let mut root = admitted(&h, "root", "localhost").await;
        assert_eq!(
            query(
                &mut root,
                "CREATE USER 'app'@'%' IDENTIFIED WITH mysql_native_password BY 'pw'"
            )
            .await,
            Ok(vec![])
        );
        let show = query(&mut root, "SHOW CREATE USER 'app'@'%'")
            .await
            .expect("show");
        assert!(
            show[0][0]
                .starts_with("CREATE USER `app`@`%` IDENTIFIED WITH 'mysql_native_password' AS '*"),
            "{show:?}"
        );
        // The change is in the store (what logins read) and in the file.
        assert!(h.backend.admin.accounts.read().get("app", "%").is_some());
        let mut app = admitted(&h, "app", "%").await;
        assert_eq!(
            query(&mut app, "SELECT CURRENT_USER(), USER(), CONNECTION_ID()").await,
            Ok(rows(&[&["app@%", "app@localhost", "7"]]))
        );
        assert_eq!(
            query(&mut app, "CREATE USER 'x'@'%'")
                .await
                .map_err(|e| e.0),
            Err(1227)
        );
        assert_eq!(
            query(&mut root, "DROP USER 'nobody'@'%'")
                .await
                .map_err(|e| e.0),
            Err(1396)
        );
    }

    #[tokio::test]
    async fn session_variables_and_timeouts_are_per_session() {
        let h = harness();
        let mut a = admitted(&h, "root", "localhost").await;
        let mut b = admitted(&h, "root", "localhost").await;
        assert_eq!(
            query(&mut a, "SET SESSION wait_timeout = 60").await,
            Ok(vec![])
        );
        assert_eq!(a.timeouts().map(|t| t.wait), Some(60));
        assert_eq!(
            query(
                &mut a,
                "SELECT @@session.wait_timeout, @@global.wait_timeout"
            )
            .await,
            Ok(rows(&[&["60", "28800"]]))
        );
        assert_eq!(
            query(&mut b, "SELECT @@wait_timeout").await,
            Ok(rows(&[&["28800"]]))
        );
        // SET GLOBAL changes what new sessions start with, not the open ones.
        assert_eq!(
            query(&mut b, "SET GLOBAL net_read_timeout = 5").await,
            Ok(vec![])
        );
        assert_eq!(b.timeouts().map(|t| t.net_read), Some(30));
        let c = admitted(&h, "root", "localhost").await;
        assert_eq!(c.timeouts().map(|t| t.net_read), Some(5));
        // COM_RESET_CONNECTION puts the session back on the globals.
        a.st.reset_session(&a.admin);
        assert_eq!(a.timeouts().map(|t| t.wait), Some(28800));
    }
}
