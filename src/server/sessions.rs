//! The door's live sessions, whatever backend serves them: what `SHOW PROCESSLIST` and
//! `information_schema.PROCESSLIST` list, and what `KILL` ends.
//!
//! The connection driver registers a session once it is admitted and drops the registration
//! when the session ends; it marks each command it hands to the backend (Command, Time, State,
//! Info as MySQL shows them) and waits on the session's kill signal between commands, as it
//! waits on the server's shutdown.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use crate::account::ClientHost;
use crate::handshake::Session;

/// The longest statement text kept for `Info` (MySQL's `PROCESSLIST.INFO` is a 65535-character
/// column): longer statements are cut, at a character boundary.
const MAX_INFO: usize = 65_535;

/// `SHOW PROCESSLIST` cuts `Info` to this many characters unless `FULL` is given.
pub const SHORT_INFO: usize = 100;

/// What a session is doing, changed as commands come and go.
#[derive(Debug)]
struct Activity {
    /// The user name as the client sent it (`User`).
    user: String,
    /// The matched account (`user`, `host` as stored): whose session it is for `KILL` and for
    /// what a session without the admin privilege may see.
    account: (String, String),
    db: Option<String>,
    tls_version: String,
    /// MySQL's command name (`Sleep` between commands).
    command: &'static str,
    /// The statement text of a COM_QUERY being run.
    info: Option<String>,
    /// When the current command (or the idle wait) began.
    since: Instant,
}

#[derive(Debug)]
struct Slot {
    /// `host:port` for TCP, `localhost` for the socket.
    host: String,
    transport: &'static str,
    activity: Mutex<Activity>,
    kill: tokio::sync::watch::Sender<bool>,
}

impl Slot {
    fn activity(&self) -> MutexGuard<'_, Activity> {
        self.activity.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One row of the process list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessRow {
    /// The connection id (`Id`).
    pub id: u32,
    /// The user name as sent (`User`).
    pub user: String,
    /// `host:port` for TCP, `localhost` for the socket (`Host`).
    pub host: String,
    /// The default database (`db`).
    pub db: Option<String>,
    /// MySQL's command name (`Command`): `Sleep`, `Query`, `Init DB` …
    pub command: &'static str,
    /// Seconds in the current command or idle wait (`Time`).
    pub time: u64,
    /// `executing` while a command runs, empty while idle (`State`).
    pub state: &'static str,
    /// The statement text of a COM_QUERY being run (`Info`).
    pub info: Option<String>,
    /// `tcp`, `tcp+tls` or `socket`.
    pub transport: &'static str,
    /// `TLSv1.3`, `TLSv1.2`, or empty without TLS.
    pub tls_version: String,
    /// The matched account's user part.
    pub account_user: String,
    /// The matched account's host part, as stored.
    pub account_host: String,
}

/// The registry of live sessions (`Shared::sessions`).
#[derive(Debug, Default)]
pub struct Sessions {
    slots: Mutex<HashMap<u32, Arc<Slot>>>,
}

/// A session's place in the registry, held by the connection driver; removed on drop.
#[derive(Debug)]
pub struct Registration {
    sessions: Arc<Sessions>,
    id: u32,
    slot: Arc<Slot>,
    killed: tokio::sync::watch::Receiver<bool>,
}

impl Sessions {
    fn lock(&self) -> MutexGuard<'_, HashMap<u32, Arc<Slot>>> {
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers the session `id` that `session` describes, connected from `client` (`port`:
    /// the client's TCP port).
    pub fn register(
        self: &Arc<Self>,
        id: u32,
        session: &Session,
        client: ClientHost,
        port: Option<u16>,
    ) -> Registration {
        let host = match (client, port) {
            (ClientHost::Tcp(_), Some(port)) => format!("{}:{port}", client.display_host()),
            _ => client.display_host().to_string(),
        };
        let transport = match client {
            ClientHost::Unix => "socket",
            ClientHost::Tcp(_) if session.tls.is_some() => "tcp+tls",
            ClientHost::Tcp(_) => "tcp",
        };
        let (kill, killed) = tokio::sync::watch::channel(false);
        let slot = Arc::new(Slot {
            host,
            transport,
            activity: Mutex::new(Activity {
                user: String::new(),
                account: (String::new(), String::new()),
                db: None,
                tls_version: String::new(),
                command: "Sleep",
                info: None,
                since: Instant::now(),
            }),
            kill,
        });
        set_identity(&mut slot.activity(), session);
        self.lock().insert(id, Arc::clone(&slot));
        Registration {
            sessions: Arc::clone(self),
            id,
            slot,
            killed,
        }
    }

    /// The live sessions by id, `Time` counted up to `now`.
    pub fn snapshot(&self, now: Instant) -> Vec<ProcessRow> {
        let slots: Vec<(u32, Arc<Slot>)> = self
            .lock()
            .iter()
            .map(|(id, s)| (*id, Arc::clone(s)))
            .collect();
        let mut rows: Vec<ProcessRow> = slots
            .into_iter()
            .map(|(id, slot)| {
                let a = slot.activity();
                ProcessRow {
                    id,
                    user: a.user.clone(),
                    host: slot.host.clone(),
                    db: a.db.clone(),
                    command: a.command,
                    time: now.saturating_duration_since(a.since).as_secs(),
                    state: if a.command == "Sleep" {
                        ""
                    } else {
                        "executing"
                    },
                    info: a.info.clone(),
                    transport: slot.transport,
                    tls_version: a.tls_version.clone(),
                    account_user: a.account.0.clone(),
                    account_host: a.account.1.clone(),
                }
            })
            .collect();
        rows.sort_by_key(|r| r.id);
        rows
    }

    /// The account (`user`, `host` as stored) of session `id`, if it is live.
    pub fn owner(&self, id: u32) -> Option<(String, String)> {
        let slot = self.lock().get(&id).cloned()?;
        let account = slot.activity().account.clone();
        Some(account)
    }

    /// `KILL CONNECTION id`: signals the session to end; `false` if it is not live.
    pub fn kill(&self, id: u32) -> bool {
        let Some(slot) = self.lock().get(&id).cloned() else {
            return false;
        };
        slot.kill.send_replace(true);
        true
    }

    /// The session's default database changed (`USE`, COM_INIT_DB).
    pub fn set_database(&self, id: u32, db: Option<&str>) {
        if let Some(slot) = self.lock().get(&id).cloned() {
            slot.activity().db = db.map(str::to_string);
        }
    }

    /// How many sessions are live.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no session is live.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn set_identity(a: &mut Activity, session: &Session) {
    a.user.clone_from(&session.user);
    a.account = (
        session.account_user().to_string(),
        session.account_host().to_string(),
    );
    a.db.clone_from(&session.database);
    a.tls_version = session
        .tls
        .as_ref()
        .map(|t| t.version.clone())
        .unwrap_or_default();
}

impl Registration {
    /// The connection id.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// A command starts: `payload` is the whole command packet (command byte first).
    pub fn begin(&self, payload: &[u8]) {
        let code = payload.first().copied().unwrap_or(0xff);
        let info = (code == 0x03).then(|| {
            let text = payload.get(1..).unwrap_or_default();
            let text = String::from_utf8_lossy(text);
            let mut end = text.len().min(MAX_INFO);
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            text[..end].to_string()
        });
        let mut a = self.slot.activity();
        a.command = command_name(code);
        a.info = info;
        a.since = Instant::now();
    }

    /// The command has been answered: the session sleeps until the next one.
    pub fn idle(&self) {
        let mut a = self.slot.activity();
        a.command = "Sleep";
        a.info = None;
        a.since = Instant::now();
    }

    /// A successful COM_CHANGE_USER: the session now belongs to `session`'s account.
    pub fn change_user(&self, session: &Session) {
        set_identity(&mut self.slot.activity(), session);
    }

    /// Resolves once `KILL CONNECTION` has named this session.
    pub async fn killed(&mut self) {
        if self.killed.wait_for(|k| *k).await.is_err() {
            // The sender lives in the slot this registration holds: it cannot go first.
            std::future::pending::<()>().await;
        }
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut slots = self.sessions.lock();
        if slots
            .get(&self.id)
            .is_some_and(|s| Arc::ptr_eq(s, &self.slot))
        {
            slots.remove(&self.id);
        }
    }
}

/// MySQL's name of a command byte (`sql/sql_parse.cc`, `command_name`), as the process list's
/// `Command` column shows it.
fn command_name(code: u8) -> &'static str {
    const NAMES: [&str; 33] = [
        "Sleep",
        "Quit",
        "Init DB",
        "Query",
        "Field List",
        "Create DB",
        "Drop DB",
        "Refresh",
        "Shutdown",
        "Statistics",
        "Processlist",
        "Connect",
        "Kill",
        "Debug",
        "Ping",
        "Time",
        "Delayed insert",
        "Change user",
        "Binlog Dump",
        "Table Dump",
        "Connect Out",
        "Register Replica",
        "Prepare",
        "Execute",
        "Long Data",
        "Close stmt",
        "Reset stmt",
        "Set option",
        "Fetch",
        "Daemon",
        "Binlog Dump GTID",
        "Reset Connection",
        "clone",
    ];
    NAMES.get(usize::from(code)).copied().unwrap_or("Error")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::Account;
    use crate::auth::{AuthString, Nonce, Plugin};
    use crate::handshake::{AuthPath, Transport};

    fn session(user: &str) -> Session {
        let account = Arc::new(Account::new(
            user,
            "%",
            Plugin::MysqlNativePassword,
            AuthString::Empty,
        ));
        Session {
            client_host: "10.0.0.5".into(),
            database: Some("mysql".into()),
            client_capabilities: 0,
            transport: Transport::Tcp,
            auth_path: AuthPath::Other,
            nonce: Nonce::from_wire([1; 20]),
            ..Session::for_tests(account)
        }
    }

    #[tokio::test]
    async fn sessions_register_show_their_command_and_end_on_kill() {
        let reg = Arc::new(Sessions::default());
        let ip = "10.0.0.5".parse().unwrap();
        let mut a = reg.register(7, &session("app"), ClientHost::Tcp(ip), Some(4242));
        let b = reg.register(9, &session("ops"), ClientHost::Unix, None);
        a.begin(b"\x03SELECT 1");
        let rows = reg.snapshot(Instant::now());
        assert_eq!(rows.len(), 2);
        assert_eq!(
            (rows[0].id, rows[0].user.as_str(), rows[0].host.as_str()),
            (7, "app", "10.0.0.5:4242")
        );
        assert_eq!(
            (rows[0].command, rows[0].state, rows[0].info.as_deref()),
            ("Query", "executing", Some("SELECT 1"))
        );
        assert_eq!(
            (rows[0].transport, rows[0].db.as_deref()),
            ("tcp", Some("mysql"))
        );
        assert_eq!(
            (
                rows[1].host.as_str(),
                rows[1].command,
                rows[1].state,
                rows[1].transport
            ),
            ("localhost", "Sleep", "", "socket")
        );
        a.idle();
        b.begin(&[0x02, b'x']);
        reg.set_database(9, None);
        let rows = reg.snapshot(Instant::now());
        assert_eq!((rows[0].command, rows[0].info.as_deref()), ("Sleep", None));
        assert_eq!((rows[1].command, rows[1].db.as_deref()), ("Init DB", None));
        assert_eq!(reg.owner(9), Some(("ops".into(), "%".into())));
        assert_eq!(reg.owner(8), None);
        // KILL: the registration's wait resolves; unknown ids are refused.
        assert!(!reg.kill(8));
        assert!(reg.kill(7));
        tokio::time::timeout(std::time::Duration::from_secs(1), a.killed())
            .await
            .expect("killed");
        drop(a);
        drop(b);
        assert!(reg.is_empty());
    }

    #[test]
    fn long_statements_are_cut_at_a_character_boundary() {
        let reg = Arc::new(Sessions::default());
        let a = reg.register(1, &session("u"), ClientHost::Unix, None);
        let mut payload = vec![0x03];
        payload.extend("é".repeat(40_000).as_bytes());
        a.begin(&payload);
        let info = reg.snapshot(Instant::now())[0].info.clone().unwrap();
        assert_eq!(info.len(), MAX_INFO - 1);
        assert_eq!(command_name(0x0e), "Ping");
        assert_eq!(command_name(200), "Error");
    }
}
