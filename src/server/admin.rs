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
        // An expired password's sandbox: besides statements (each checked where it runs), only
        // COM_PING goes through (MySQL `dispatch_command`); COM_INIT_DB, COM_STATISTICS … get
        // 1820.
        if st.session.password_expired && !matches!(cmd, Command::Query(_) | Command::Ping) {
            reply.error(&MysqlError::MustChangePassword.packet(&[]));
            return Ok(());
        }
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
    use crate::auth::{AuthString, Plugin};
    use crate::wire::capabilities::{CLIENT_DEPRECATE_EOF, CLIENT_PROTOCOL_41};
    use crate::wire::packets::ErrPacket;

    struct Harness {
        _dir: tempfile::TempDir,
        backend: AdminBackend,
    }

    fn harness() -> Harness {
        harness_with(crate::server::config::Flags::default())
    }

    fn harness_with(flags: crate::server::config::Flags) -> Harness {
        let dir = tempfile::tempdir().expect("tempdir");
        let config =
            crate::server::config::Config::merge(flags, crate::server::config::Flags::default())
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
            client_capabilities: CLIENT_PROTOCOL_41 | CLIENT_DEPRECATE_EOF,
            plugin: Plugin::CachingSha2Password,
            ..Session::for_tests(account)
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

    /// The first column of the first row, or the error.
    async fn one(c: &mut AdminConnection, sql: &str) -> Result<String, (u16, String)> {
        query(c, sql).await.map(|r| r[0][0].clone())
    }

    async fn code(c: &mut AdminConnection, sql: &str) -> Result<(), u16> {
        query(c, sql).await.map(|_| ()).map_err(|e| e.0)
    }

    /// What SHOW CREATE USER prints after the credential.
    async fn shown_tail(c: &mut AdminConnection, account: &str) -> String {
        let show = one(c, &format!("SHOW CREATE USER {account}"))
            .await
            .expect("show");
        show.split_once(" REQUIRE ")
            .map(|(_, t)| format!("REQUIRE {t}"))
            .expect("REQUIRE")
    }

    #[tokio::test]
    async fn show_create_user_prints_the_security_options_in_mysqls_order() {
        let h = harness();
        let mut root = admitted(&h, "root", "localhost").await;
        assert_eq!(
            shown_tail(&mut root, "root@localhost").await,
            "REQUIRE NONE PASSWORD EXPIRE DEFAULT ACCOUNT UNLOCK PASSWORD HISTORY DEFAULT \
             PASSWORD REUSE INTERVAL DEFAULT PASSWORD REQUIRE CURRENT DEFAULT"
        );
        let create = "CREATE USER 'sec'@'%' IDENTIFIED WITH mysql_native_password BY 'pw' REQUIRE SSL \
                      WITH MAX_USER_CONNECTIONS 2 MAX_QUERIES_PER_HOUR 10 \
                      PASSWORD_LOCK_TIME UNBOUNDED FAILED_LOGIN_ATTEMPTS 3 ACCOUNT LOCK \
                      PASSWORD REQUIRE CURRENT OPTIONAL PASSWORD REUSE INTERVAL 7 DAY PASSWORD HISTORY 3 \
                      PASSWORD EXPIRE INTERVAL 90 DAY";
        assert_eq!(code(&mut root, create).await, Ok(()));
        assert_eq!(
            shown_tail(&mut root, "sec").await,
            "REQUIRE SSL WITH MAX_QUERIES_PER_HOUR 10 MAX_USER_CONNECTIONS 2 PASSWORD EXPIRE INTERVAL 90 DAY \
             ACCOUNT LOCK PASSWORD HISTORY 3 PASSWORD REUSE INTERVAL 7 DAY PASSWORD REQUIRE CURRENT OPTIONAL \
             FAILED_LOGIN_ATTEMPTS 3 PASSWORD_LOCK_TIME UNBOUNDED"
        );
        let a = h
            .backend
            .admin
            .accounts
            .read()
            .get("sec", "%")
            .cloned()
            .expect("sec");
        assert!(a.password_last_changed > 0);
        assert_eq!(a.password_history_entries.len(), 1);
        // Each option separately; a bare PASSWORD EXPIRE hides the lifetime while it lasts.
        for (sql, tail) in [
            ("ALTER USER sec WITH MAX_QUERIES_PER_HOUR 0 PASSWORD EXPIRE NEVER PASSWORD REQUIRE CURRENT",
             "REQUIRE SSL WITH MAX_USER_CONNECTIONS 2 PASSWORD EXPIRE NEVER ACCOUNT LOCK PASSWORD HISTORY 3 \
              PASSWORD REUSE INTERVAL 7 DAY PASSWORD REQUIRE CURRENT FAILED_LOGIN_ATTEMPTS 3 PASSWORD_LOCK_TIME UNBOUNDED"),
            ("ALTER USER sec REQUIRE NONE WITH MAX_USER_CONNECTIONS 0 PASSWORD EXPIRE ACCOUNT UNLOCK \
              PASSWORD HISTORY DEFAULT PASSWORD REUSE INTERVAL DEFAULT PASSWORD REQUIRE CURRENT DEFAULT \
              FAILED_LOGIN_ATTEMPTS 0 PASSWORD_LOCK_TIME 2",
             "REQUIRE NONE PASSWORD EXPIRE ACCOUNT UNLOCK PASSWORD HISTORY DEFAULT PASSWORD REUSE INTERVAL DEFAULT \
              PASSWORD REQUIRE CURRENT DEFAULT PASSWORD_LOCK_TIME 2"),
            ("ALTER USER sec IDENTIFIED BY 'new' FAILED_LOGIN_ATTEMPTS 4 PASSWORD_LOCK_TIME 0",
             "REQUIRE NONE PASSWORD EXPIRE NEVER ACCOUNT UNLOCK PASSWORD HISTORY DEFAULT PASSWORD REUSE INTERVAL DEFAULT \
              PASSWORD REQUIRE CURRENT DEFAULT FAILED_LOGIN_ATTEMPTS 4"),
        ] {
            assert_eq!(code(&mut root, sql).await, Ok(()), "{sql}");
            assert_eq!(shown_tail(&mut root, "sec").await, tail, "after {sql}");
        }
    }

    #[tokio::test]
    async fn dual_passwords_through_sql() {
        let h = harness();
        let mut root = admitted(&h, "root", "localhost").await;
        let stored = |h: &Harness| {
            h.backend
                .admin
                .accounts
                .read()
                .get("dp", "%")
                .cloned()
                .expect("dp")
        };
        assert_eq!(
            code(&mut root, "CREATE USER dp IDENTIFIED BY 'one'").await,
            Ok(())
        );
        let show_before = one(&mut root, "SHOW CREATE USER dp").await.expect("show");
        assert_eq!(
            code(
                &mut root,
                "ALTER USER dp IDENTIFIED BY 'two' RETAIN CURRENT PASSWORD"
            )
            .await,
            Ok(())
        );
        let a = stored(&h);
        assert!(a.auth_string.verify_cleartext(b"two"));
        assert!(a
            .secondary
            .as_ref()
            .expect("secondary")
            .verify_cleartext(b"one"));
        // The secondary is never shown.
        let show = one(&mut root, "SHOW CREATE USER dp").await.expect("show");
        assert_eq!(show.len(), show_before.len());
        assert!(!show.contains("RETAIN"), "{show}");
        assert_eq!(
            code(
                &mut root,
                "SET PASSWORD FOR dp = 'three' RETAIN CURRENT PASSWORD"
            )
            .await,
            Ok(())
        );
        assert!(stored(&h)
            .secondary
            .expect("secondary")
            .verify_cleartext(b"two"));
        assert_eq!(
            code(&mut root, "ALTER USER dp DISCARD OLD PASSWORD").await,
            Ok(())
        );
        assert_eq!(stored(&h).secondary, None);
        // MySQL's errors, texts included.
        assert_eq!(
            query(&mut root, "ALTER USER dp IDENTIFIED BY '' RETAIN CURRENT PASSWORD").await,
            Err((3895, "Current password can not be retained for user 'dp'@'%' because new password is empty.".into()))
        );
        assert_eq!(
            query(&mut root, "ALTER USER dp IDENTIFIED WITH sha256_password BY 'x' RETAIN CURRENT PASSWORD").await,
            Err((3894, "Current password can not be retained for user 'dp'@'%' because authentication plugin is being changed.".into()))
        );
        assert_eq!(code(&mut root, "CREATE USER nopw").await, Ok(()));
        assert_eq!(
            query(
                &mut root,
                "ALTER USER nopw IDENTIFIED BY 'x' RETAIN CURRENT PASSWORD"
            )
            .await,
            Err((
                3878,
                "Empty password can not be retained as second password for user 'nopw'@'%'.".into()
            ))
        );
        // Keeping or discarding a second password of one's own needs APPLICATION_PASSWORD_ADMIN.
        let mut dp = admitted(&h, "dp", "%").await;
        for sql in [
            "ALTER USER USER() IDENTIFIED BY 'x' RETAIN CURRENT PASSWORD",
            "SET PASSWORD = 'x' RETAIN CURRENT PASSWORD",
            "ALTER USER dp DISCARD OLD PASSWORD",
        ] {
            assert_eq!(
                query(&mut dp, sql).await,
                Err((1227, "Access denied; you need (at least one of) the CREATE USER or APPLICATION_PASSWORD_ADMIN privilege(s) for this operation".into())),
                "{sql}"
            );
        }
        assert_eq!(
            code(&mut dp, "ALTER USER dp PASSWORD EXPIRE").await,
            Err(1227)
        );
        assert_eq!(code(&mut dp, "SET PASSWORD = 'mine'").await, Ok(()));
    }

    #[tokio::test]
    async fn replace_history_and_the_policy_variables_through_sql() {
        let h = harness();
        let mut root = admitted(&h, "root", "localhost").await;
        assert_eq!(
            code(
                &mut root,
                "CREATE USER me IDENTIFIED BY 'cur' PASSWORD REQUIRE CURRENT PASSWORD HISTORY 2"
            )
            .await,
            Ok(())
        );
        let mut me = admitted(&h, "me", "%").await;
        assert_eq!(
            query(&mut me, "SET PASSWORD = 'n1'").await,
            Err((3892, "Current password needs to be specified in the REPLACE clause in order to change it.".into()))
        );
        assert_eq!(
            code(
                &mut me,
                "ALTER USER USER() IDENTIFIED BY 'n1' REPLACE 'bad'"
            )
            .await,
            Err(3891)
        );
        assert_eq!(
            code(&mut me, "ALTER USER me IDENTIFIED BY 'n1' REPLACE 'cur'").await,
            Ok(())
        );
        assert_eq!(
            query(&mut me, "SET PASSWORD = 'cur' REPLACE 'n1'").await,
            Err((3638, "Cannot use these credentials for 'me@%' because they contradict the password history policy".into()))
        );
        // REPLACE names the session's own account only; the admin needs none.
        assert_eq!(
            code(&mut root, "ALTER USER me IDENTIFIED BY 'n2' REPLACE 'n1'").await,
            Err(3893)
        );
        assert_eq!(
            code(&mut root, "ALTER USER me IDENTIFIED BY 'n2'").await,
            Ok(())
        );
        // The globals: DEFAULT accounts follow them.
        assert_eq!(
            code(&mut root, "CREATE USER g IDENTIFIED BY 'p'").await,
            Ok(())
        );
        assert_eq!(
            code(&mut root, "SET GLOBAL password_history = 1").await,
            Ok(())
        );
        assert_eq!(
            code(&mut root, "ALTER USER g IDENTIFIED BY 'q'").await,
            Ok(())
        );
        assert_eq!(
            code(&mut root, "ALTER USER g IDENTIFIED BY 'q'").await,
            Err(3638)
        );
        assert_eq!(
            code(&mut root, "SET GLOBAL password_require_current = ON").await,
            Ok(())
        );
        let mut g = admitted(&h, "g", "%").await;
        assert_eq!(code(&mut g, "SET PASSWORD = 'r'").await, Err(3892));
        assert_eq!(code(&mut g, "SET PASSWORD = 'r' REPLACE 'q'").await, Ok(()));
    }

    #[tokio::test]
    async fn account_security_variables_read_and_set_with_mysqls_ranges() {
        let h = harness();
        let mut root = admitted(&h, "root", "localhost").await;
        assert_eq!(
            query(
                &mut root,
                "SELECT @@default_password_lifetime, @@disconnect_on_expired_password, @@password_history, \
                 @@password_reuse_interval, @@password_require_current, @@max_user_connections, \
                 @@max_connect_errors, @@connection_control_failed_connections_threshold, \
                 @@connection_control_min_connection_delay, @@global.connection_control_max_connection_delay"
            )
            .await,
            Ok(rows(&[&["0", "ON", "0", "0", "OFF", "0", "100", "3", "1000", "2147483647"]]))
        );
        assert_eq!(
            code(&mut root, "SET GLOBAL default_password_lifetime = 70000").await,
            Ok(())
        );
        assert_eq!(
            query(&mut root, "SHOW WARNINGS").await,
            Ok(rows(&[&[
                "Warning",
                "1292",
                "Truncated incorrect default_password_lifetime value: '70000'"
            ]]))
        );
        assert_eq!(
            one(&mut root, "SELECT @@default_password_lifetime").await,
            Ok("65535".into())
        );
        assert_eq!(
            h.backend.admin.account_security().default_password_lifetime,
            65535
        );
        assert_eq!(
            code(&mut root, "SET GLOBAL max_connect_errors = 0").await,
            Ok(())
        );
        assert_eq!(
            one(&mut root, "SELECT @@max_connect_errors").await,
            Ok("1".into())
        );
        assert_eq!(
            code(&mut root, "SET GLOBAL password_reuse_interval = -5").await,
            Ok(())
        );
        assert_eq!(
            one(&mut root, "SELECT @@password_reuse_interval").await,
            Ok("0".into())
        );
        assert_eq!(
            code(&mut root, "SET GLOBAL password_history = 'many'").await,
            Err(1232)
        );
        assert_eq!(
            code(&mut root, "SET GLOBAL password_require_current = 2").await,
            Err(1231)
        );
        assert_eq!(
            code(&mut root, "SET GLOBAL password_require_current = ON").await,
            Ok(())
        );
        assert_eq!(
            one(&mut root, "SELECT @@password_require_current").await,
            Ok("ON".into())
        );
        assert_eq!(
            code(
                &mut root,
                "SET GLOBAL max_user_connections = 10, GLOBAL password_history = 4"
            )
            .await,
            Ok(())
        );
        assert_eq!(
            query(&mut root, "SHOW GLOBAL VARIABLES LIKE 'password_history'").await,
            Ok(rows(&[&["password_history", "4"]]))
        );
        // connection_control's checks refuse instead of clamping, and keep min <= max.
        assert_eq!(
            code(
                &mut root,
                "SET GLOBAL connection_control_min_connection_delay = 999"
            )
            .await,
            Err(1231)
        );
        assert_eq!(
            code(
                &mut root,
                "SET GLOBAL connection_control_failed_connections_threshold = 2147483648"
            )
            .await,
            Err(1231)
        );
        assert_eq!(
            code(
                &mut root,
                "SET GLOBAL connection_control_max_connection_delay = 5000"
            )
            .await,
            Ok(())
        );
        assert_eq!(
            query(&mut root, "SET GLOBAL connection_control_min_connection_delay = 6000").await,
            Err((1231, "Variable 'connection_control_min_connection_delay' can't be set to the value of '6000'".into()))
        );
        assert_eq!(
            code(
                &mut root,
                "SET GLOBAL connection_control_min_connection_delay = 5000"
            )
            .await,
            Ok(())
        );
        assert_eq!(
            code(
                &mut root,
                "SET GLOBAL connection_control_max_connection_delay = 4999"
            )
            .await,
            Err(1231)
        );
        assert_eq!(
            code(
                &mut root,
                "SET GLOBAL connection_control_failed_connections_threshold = 0"
            )
            .await,
            Ok(())
        );
        // DEFAULT is MySQL's default.
        assert_eq!(
            code(&mut root, "SET GLOBAL max_connect_errors = DEFAULT").await,
            Ok(())
        );
        assert_eq!(
            one(&mut root, "SELECT @@max_connect_errors").await,
            Ok("100".into())
        );
        // Scope and read-only rules.
        assert_eq!(
            query(&mut root, "SET GLOBAL disconnect_on_expired_password = OFF").await,
            Err((
                1238,
                "Variable 'disconnect_on_expired_password' is a read only variable".into()
            ))
        );
        assert_eq!(
            code(&mut root, "SET SESSION password_history = 1").await,
            Err(1229)
        );
        assert_eq!(
            query(&mut root, "SET max_user_connections = 1").await,
            Err((1621, "SESSION variable 'max_user_connections' is read-only. Use SET GLOBAL to assign the value".into()))
        );
        assert_eq!(code(&mut root, "CREATE USER plain").await, Ok(()));
        let mut plain = admitted(&h, "plain", "%").await;
        assert_eq!(
            code(&mut plain, "SET GLOBAL password_history = 1").await,
            Err(1227)
        );
        assert_eq!(
            one(&mut plain, "SELECT @@password_history").await,
            Ok("4".into())
        );
    }

    #[tokio::test]
    async fn flush_and_unlock_reset_the_failed_login_state() {
        use crate::handshake::drive::FailedLogin;
        use crate::handshake::LockState;
        let h = harness();
        let mut root = admitted(&h, "root", "localhost").await;
        assert_eq!(code(&mut root, "FLUSH USER_RESOURCES").await, Ok(()));
        assert_eq!(
            code(&mut root, "CREATE USER l IDENTIFIED BY 'p' FAILED_LOGIN_ATTEMPTS 1 PASSWORD_LOCK_TIME UNBOUNDED").await,
            Ok(())
        );
        let locks = &h.backend.admin.login_locks;
        let attempt = |ok: bool| FailedLogin {
            user: "l".into(),
            host: "%".into(),
            password_ok: ok,
            attempts: 1,
            lock_days: None,
        };
        let blocked = |s: LockState| matches!(s, LockState::Blocked { .. });
        for (statement, resets) in [
            ("ALTER USER l ACCOUNT LOCK", false),
            ("ALTER USER l ACCOUNT UNLOCK", true),
            ("ALTER USER l PASSWORD EXPIRE NEVER", false),
            ("ALTER USER l FAILED_LOGIN_ATTEMPTS 1", true),
            ("ALTER USER l PASSWORD_LOCK_TIME UNBOUNDED", true),
            ("FLUSH PRIVILEGES", true),
        ] {
            assert!(blocked(locks.update(&attempt(false), 1)));
            assert_eq!(code(&mut root, statement).await, Ok(()), "{statement}");
            assert_eq!(
                blocked(locks.update(&attempt(true), 1)),
                !resets,
                "{statement}"
            );
            locks.reset_all();
        }
    }

    /// What [`Connection::on_command`] writes for one command: the first packet's payload.
    async fn command(c: &mut AdminConnection, payload: &[u8]) -> Vec<u8> {
        use tokio::io::AsyncReadExt;
        let (mut near, mut far) = tokio::io::duplex(1 << 16);
        let caps = c.st.session.client_capabilities;
        {
            let mut reply = Reply::new(&mut near, 1, caps, std::time::Duration::from_secs(5));
            let request = Request::new(payload, caps);
            c.on_command(request, &mut reply).await.expect("command");
            reply.flush().await.expect("flush");
        }
        drop(near);
        let mut out = Vec::new();
        far.read_to_end(&mut out).await.expect("read");
        out.get(4..).unwrap_or_default().to_vec()
    }

    async fn expired_session(h: &Harness, user: &str) -> AdminConnection {
        let mut s = session(h, user, "%");
        s.password_expired = true;
        let info = ConnectionInfo::new(8, ClientHost::Unix);
        h.backend.admit(&s, &info).await.expect("admitted")
    }

    #[tokio::test]
    async fn an_expired_password_allows_only_its_own_change_and_set() {
        let h = harness();
        let mut root = admitted(&h, "root", "localhost").await;
        for sql in [
            "CREATE USER exp IDENTIFIED BY 'old' PASSWORD EXPIRE",
            "CREATE USER other IDENTIFIED BY 'o'",
        ] {
            assert_eq!(code(&mut root, sql).await, Ok(()), "{sql}");
        }
        let mut exp = expired_session(&h, "exp").await;
        let sandboxed = (
            1820,
            "You must reset your password using ALTER USER statement before executing this statement."
                .to_string(),
        );
        for sql in [
            "SELECT 1",
            "USE mysql",
            "SHOW WARNINGS",
            "SHOW PROCESSLIST",
            "ALTER USER other IDENTIFIED BY 'x'",
            "ALTER USER exp ACCOUNT LOCK",
            "ALTER USER exp DISCARD OLD PASSWORD",
            "SET PASSWORD FOR other = 'x'",
            "FLUSH PRIVILEGES",
            "KILL 1",
        ] {
            assert_eq!(query(&mut exp, sql).await, Err(sandboxed.clone()), "{sql}");
        }
        for sql in [
            "SET @x = 1",
            "SET NAMES utf8mb4",
            "SET SESSION wait_timeout = 100",
        ] {
            assert_eq!(code(&mut exp, sql).await, Ok(()), "{sql}");
        }
        // COM_INIT_DB and COM_STATISTICS too; COM_PING goes through.
        let init_db = command(&mut exp, b"\x02mysql").await;
        let e = ErrPacket::parse(&init_db).expect("ERR");
        assert_eq!((e.code, e.message), sandboxed.clone());
        let stats = command(&mut exp, b"\x09").await;
        assert_eq!(ErrPacket::parse(&stats).expect("ERR").code, 1820);
        assert_eq!(command(&mut exp, b"\x0e").await.first(), Some(&0x00));
        // Changing the own password ends the sandbox for this session and in the store.
        assert_eq!(
            code(&mut exp, "ALTER USER USER() IDENTIFIED BY 'new'").await,
            Ok(())
        );
        assert_eq!(query(&mut exp, "SELECT 1").await, Ok(rows(&[&["1"]])));
        let stored = h.backend.admin.accounts.read().get("exp", "%").cloned();
        assert!(!stored.expect("exp").password_expired);
        // SET PASSWORD, with or without naming the own account, does the same.
        for sql in ["SET PASSWORD = 'p2'", "SET PASSWORD FOR exp = 'p3'"] {
            assert_eq!(
                code(&mut root, "ALTER USER exp PASSWORD EXPIRE").await,
                Ok(())
            );
            let mut again = expired_session(&h, "exp").await;
            assert_eq!(code(&mut again, "SELECT 1").await, Err(1820));
            assert_eq!(code(&mut again, sql).await, Ok(()), "{sql}");
            assert_eq!(code(&mut again, "SELECT 1").await, Ok(()), "after {sql}");
        }
        // A refused change (no REPLACE under PASSWORD REQUIRE CURRENT) keeps the sandbox.
        assert_eq!(
            code(
                &mut root,
                "ALTER USER exp PASSWORD REQUIRE CURRENT PASSWORD EXPIRE"
            )
            .await,
            Ok(())
        );
        let mut again = expired_session(&h, "exp").await;
        assert_eq!(code(&mut again, "SET PASSWORD = 'p4'").await, Err(3892));
        assert_eq!(code(&mut again, "SELECT 1").await, Err(1820));
    }

    #[tokio::test]
    async fn host_cache_reads_flushes_and_truncates() {
        use crate::server::login_state::HostEvent;
        let h = harness();
        let mut root = admitted(&h, "root", "localhost").await;
        let ip = "10.1.2.3".parse().unwrap();
        let cache = &h.backend.admin.host_cache;
        cache.record(ip, HostEvent::HandshakeError, 86_400 * 365);
        cache.record(ip, HostEvent::HandshakeError, 86_400 * 365 + 61);
        cache.record(ip, HostEvent::AuthenticationError, 1_700_000_000);
        cache.record(ip, HostEvent::Blocked, 1_700_000_000);
        assert_eq!(
            query(&mut root, "SELECT * FROM performance_schema.host_cache").await,
            Ok(rows(&[&[
                "10.1.2.3",
                "10.1.2.3",
                "2",
                "1",
                "2",
                "1",
                "1971-01-01 00:00:00",
                "2023-11-14 22:13:20"
            ]]))
        );
        assert_eq!(
            query(
                &mut root,
                "SELECT IP, SUM_CONNECT_ERRORS FROM performance_schema.host_cache \
                 WHERE COUNT_HANDSHAKE_ERRORS >= 2"
            )
            .await,
            Ok(rows(&[&["10.1.2.3", "2"]]))
        );
        assert_eq!(code(&mut root, "CREATE USER plain").await, Ok(()));
        let mut plain = admitted(&h, "plain", "%").await;
        assert_eq!(
            query(&mut plain, "SELECT * FROM performance_schema.host_cache").await,
            Err((
                1142,
                "SELECT command denied to user 'plain'@'localhost' for table 'host_cache'".into()
            ))
        );
        assert_eq!(
            query(&mut plain, "TRUNCATE TABLE performance_schema.host_cache").await,
            Err((
                1142,
                "DROP command denied to user 'plain'@'localhost' for table 'host_cache'".into()
            ))
        );
        assert_eq!(code(&mut plain, "FLUSH HOSTS").await, Err(1227));
        assert_eq!(
            code(&mut root, "TRUNCATE TABLE performance_schema.host_cache").await,
            Ok(())
        );
        assert!(cache.snapshot().is_empty());
        cache.record(ip, HostEvent::HandshakeError, 5);
        assert!(cache.is_blocked(ip, 1));
        assert_eq!(code(&mut root, "FLUSH HOSTS").await, Ok(()));
        assert!(!cache.is_blocked(ip, 1));
        assert_eq!(
            query(&mut root, "TRUNCATE TABLE performance_schema.threads").await,
            Err((
                1146,
                "Table 'performance_schema.threads' doesn't exist".into()
            ))
        );
        assert_eq!(code(&mut root, "TRUNCATE TABLE t").await, Err(1046));
    }

    #[tokio::test]
    async fn connection_control_table_status_and_threshold_reset() {
        use std::sync::atomic::Ordering;
        let flags = crate::server::config::Flags {
            connection_control: Some(crate::server::config::Toggle(true)),
            ..Default::default()
        };
        let h = harness_with(flags);
        let mut root = admitted(&h, "root", "localhost").await;
        let throttle = &h.backend.admin.throttle;
        let key = crate::server::login_state::Throttle::key("nobody", "10.0.0.9");
        for _ in 0..3 {
            throttle.failed(&key);
        }
        throttle.delays_generated.store(4, Ordering::Relaxed);
        let table = "SELECT * FROM information_schema.connection_control_failed_login_attempts";
        assert_eq!(
            query(&mut root, table).await,
            Ok(rows(&[&["'nobody'@'10.0.0.9'", "3"]]))
        );
        assert_eq!(
            query(
                &mut root,
                "SHOW GLOBAL STATUS LIKE 'Connection_control_delay_generated'"
            )
            .await,
            Ok(rows(&[&["Connection_control_delay_generated", "4"]]))
        );
        // Without the admin privilege the table is empty, as the plugin's fill function does.
        assert_eq!(code(&mut root, "CREATE USER plain").await, Ok(()));
        let mut plain = admitted(&h, "plain", "%").await;
        assert_eq!(query(&mut plain, table).await, Ok(vec![]));
        // Setting the threshold starts the counters again.
        assert_eq!(
            code(
                &mut root,
                "SET GLOBAL connection_control_failed_connections_threshold = 3"
            )
            .await,
            Ok(())
        );
        assert_eq!(query(&mut root, table).await, Ok(vec![]));
        assert_eq!(throttle.delays_generated.load(Ordering::Relaxed), 0);
        // Without --connection-control the table is always empty.
        let off = harness();
        let mut root = admitted(&off, "root", "localhost").await;
        off.backend.admin.throttle.failed(&key);
        assert_eq!(query(&mut root, table).await, Ok(vec![]));
    }

    #[tokio::test]
    async fn flush_user_resources_resets_the_hourly_counters() {
        let h = harness();
        let mut root = admitted(&h, "root", "localhost").await;
        assert_eq!(
            code(&mut root, "CREATE USER q WITH MAX_QUERIES_PER_HOUR 1").await,
            Ok(())
        );
        let q = h
            .backend
            .admin
            .accounts
            .read()
            .get("q", "%")
            .cloned()
            .expect("q");
        let res = &h.backend.admin.user_resources;
        assert!(res.statement(&q, false, 100).is_ok());
        assert!(res.statement(&q, false, 100).is_err());
        assert_eq!(code(&mut root, "FLUSH USER_RESOURCES").await, Ok(()));
        assert!(res.statement(&q, false, 100).is_ok());
    }

    #[tokio::test]
    async fn processlist_kill_and_shutdown() {
        let h = harness();
        let mut root = admitted(&h, "root", "localhost").await;
        assert_eq!(
            code(&mut root, "CREATE USER app IDENTIFIED BY 'p'").await,
            Ok(())
        );
        assert_eq!(
            code(&mut root, "CREATE USER ops IDENTIFIED BY 'p'").await,
            Ok(())
        );
        let sessions = &h.backend.admin.sessions;
        let tcp = ClientHost::Tcp("10.0.0.5".parse().unwrap());
        let root_reg =
            sessions.register(7, &session(&h, "root", "localhost"), ClientHost::Unix, None);
        let mut app_reg = sessions.register(20, &session(&h, "app", "%"), tcp, Some(5000));
        let _ops_reg = sessions.register(21, &session(&h, "ops", "%"), tcp, Some(5001));
        root_reg.begin(b"\x03SHOW PROCESSLIST");
        let mut app = admitted(&h, "app", "%").await;
        app.st.id = 20;
        assert_eq!(code(&mut root, "USE mysql").await, Ok(()));
        assert_eq!(
            query(&mut root, "SHOW PROCESSLIST").await,
            Ok(rows(&[
                &[
                    "7",
                    "root",
                    "localhost",
                    "mysql",
                    "Query",
                    "0",
                    "executing",
                    "SHOW PROCESSLIST"
                ],
                &[
                    "20",
                    "app",
                    "10.0.0.5:5000",
                    "NULL",
                    "Sleep",
                    "0",
                    "",
                    "NULL"
                ],
                &[
                    "21",
                    "ops",
                    "10.0.0.5:5001",
                    "NULL",
                    "Sleep",
                    "0",
                    "",
                    "NULL"
                ],
            ]))
        );
        // Without the admin privilege, only the own account's sessions.
        assert_eq!(
            query(
                &mut app,
                "SELECT ID, USER, HOST, TRANSPORT, TLS_VERSION FROM information_schema.PROCESSLIST"
            )
            .await,
            Ok(rows(&[&["20", "app", "10.0.0.5:5000", "tcp", ""]]))
        );
        // SHOW PROCESSLIST cuts Info to 100 characters; FULL does not.
        let long = format!("\x03SELECT '{}'", "x".repeat(200));
        root_reg.begin(long.as_bytes());
        let short = query(&mut root, "SHOW PROCESSLIST").await.expect("rows");
        assert_eq!(short[0][7].chars().count(), 100);
        let full = query(&mut root, "SHOW FULL PROCESSLIST")
            .await
            .expect("rows");
        assert_eq!(full[0][7].len(), long.len() - 1);
        // KILL: unknown, not owner, own session, another's as admin.
        assert_eq!(
            query(&mut app, "KILL 99").await,
            Err((1094, "Unknown thread id: 99".into()))
        );
        assert_eq!(
            query(&mut app, "KILL QUERY 21").await,
            Err((1095, "You are not owner of thread 21".into()))
        );
        assert_eq!(
            query(&mut app, "KILL QUERY CONNECTION_ID()").await,
            Err((1317, "Query execution was interrupted".into()))
        );
        assert_eq!(code(&mut root, "KILL QUERY 20").await, Ok(()));
        assert_eq!(code(&mut root, "KILL CONNECTION 20").await, Ok(()));
        tokio::time::timeout(std::time::Duration::from_secs(1), app_reg.killed())
            .await
            .expect("session 20 killed");
        // SHUTDOWN needs the admin privilege; the caller gets its OK.
        assert_eq!(
            query(&mut app, "SHUTDOWN").await,
            Err((1227, "Access denied; you need (at least one of) the SHUTDOWN privilege(s) for this operation".into()))
        );
        assert!(!h.backend.admin.shutting_down());
        assert_eq!(code(&mut root, "SHUTDOWN").await, Ok(()));
        assert!(h.backend.admin.shutting_down());
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
