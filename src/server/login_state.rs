//! Login-time state MySQL keeps in memory only (reset by FLUSH PRIVILEGES and a restart):
//! the temporary lock of `FAILED_LOGIN_ATTEMPTS` / `PASSWORD_LOCK_TIME` (3955).
//!
//! MySQL `sql/auth/sql_auth_cache.cc`, `ACL_USER::Password_locked_state::update`: a success
//! while not blocked resets the counter; each failure counts one; the failure that uses the
//! last attempt blocks the account and itself gets 3955; while blocked, the right password
//! gets 3955 too; the block lapses once `today − lock_day ≥ PASSWORD_LOCK_TIME` in calendar
//! days; UNBOUNDED never lapses. Unknown users are never tracked (no account).

use std::collections::HashMap;
use std::sync::Mutex;

use crate::handshake::drive::FailedLogin;
use crate::handshake::LockState;

/// One account's counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    /// Consecutive failures so far.
    failures: u32,
    /// The day number the block began, while blocked.
    blocked_on: Option<u64>,
}

/// The failed-login counters of every account with locking active.
#[derive(Debug, Default)]
pub struct LoginLocks {
    entries: Mutex<HashMap<(String, String), Entry>>,
}

impl LoginLocks {
    /// Applies one password verdict on day `today` (days since the Unix epoch) and answers
    /// whether the account is blocked.
    pub fn update(&self, t: &FailedLogin, today: u64) -> LockState {
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let key = (t.user.clone(), t.host.clone());
        let mut e = entries.get(&key).copied().unwrap_or(Entry {
            failures: 0,
            blocked_on: None,
        });
        let blocked = |on: u64| LockState::Blocked {
            lock_days: t.lock_days,
            remaining_days: t.lock_days.map(|d| {
                u32::try_from(u64::from(d).saturating_sub(today.saturating_sub(on)))
                    .unwrap_or(u32::MAX)
            }),
            attempts: t.attempts,
        };
        if let Some(on) = e.blocked_on {
            let lapsed = t
                .lock_days
                .is_some_and(|d| today.saturating_sub(on) >= u64::from(d));
            if !lapsed {
                return blocked(on);
            }
            e = Entry {
                failures: 0,
                blocked_on: None,
            };
        }
        if t.password_ok {
            entries.remove(&key);
            return LockState::Open;
        }
        e.failures = e.failures.saturating_add(1);
        let state = if e.failures >= t.attempts {
            e.blocked_on = Some(today);
            blocked(today)
        } else {
            LockState::Open
        };
        entries.insert(key, e);
        state
    }

    /// `ACCOUNT UNLOCK`, an `ALTER USER` setting either locking option, DROP or RENAME: the
    /// account starts afresh.
    pub fn reset(&self, user: &str, host: &str) {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&(user.to_string(), host.to_string()));
    }

    /// FLUSH PRIVILEGES: every account starts afresh.
    pub fn reset_all(&self) {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn attempt(ok: bool, attempts: u32, lock_days: Option<u32>) -> FailedLogin {
        FailedLogin {
            user: "u".into(),
            host: "%".into(),
            password_ok: ok,
            attempts,
            lock_days,
        }
    }

    /// Captures show two 1045s, then 3955 for FAILED_LOGIN_ATTEMPTS 3; then even the right
    /// password is blocked until the lock lapses on the third calendar day (PASSWORD_LOCK_TIME
    /// 2), after which a success resets the count.
    #[test]
    fn the_nth_failure_blocks_until_the_days_pass() {
        let l = LoginLocks::default();
        assert_eq!(l.update(&attempt(false, 3, Some(2)), 100), LockState::Open);
        assert_eq!(l.update(&attempt(false, 3, Some(2)), 100), LockState::Open);
        let blocked = |remaining| LockState::Blocked {
            lock_days: Some(2),
            remaining_days: Some(remaining),
            attempts: 3,
        };
        assert_eq!(l.update(&attempt(false, 3, Some(2)), 100), blocked(2));
        assert_eq!(l.update(&attempt(true, 3, Some(2)), 100), blocked(2));
        assert_eq!(l.update(&attempt(true, 3, Some(2)), 101), blocked(1));
        assert_eq!(l.update(&attempt(true, 3, Some(2)), 102), LockState::Open);
        // Counting starts afresh.
        assert_eq!(l.update(&attempt(false, 3, Some(2)), 102), LockState::Open);
        assert_eq!(l.update(&attempt(true, 3, Some(2)), 102), LockState::Open);
        assert_eq!(l.update(&attempt(false, 3, Some(2)), 102), LockState::Open);
        assert_eq!(l.update(&attempt(false, 3, Some(2)), 102), LockState::Open);
    }

    #[test]
    fn unbounded_never_lapses_and_reset_ends_it() {
        let l = LoginLocks::default();
        let t = attempt(false, 1, None);
        let blocked = LockState::Blocked {
            lock_days: None,
            remaining_days: None,
            attempts: 1,
        };
        assert_eq!(l.update(&t, 1), blocked);
        assert_eq!(l.update(&attempt(true, 1, None), 100_000), blocked);
        l.reset("u", "%");
        assert_eq!(l.update(&attempt(true, 1, None), 100_000), LockState::Open);
        assert_eq!(l.update(&t, 5), blocked);
        l.reset_all();
        assert_eq!(l.update(&attempt(true, 1, None), 5), LockState::Open);
    }

    proptest! {
        /// Against a model: blocked exactly when `attempts` consecutive failures happened and
        /// fewer than `days` days have passed since.
        #[test]
        fn matches_the_model(
            attempts in 1u32..5,
            days in 1u32..4,
            steps in proptest::collection::vec((any::<bool>(), 0u64..3), 0..40),
        ) {
            let l = LoginLocks::default();
            let (mut failures, mut blocked_on, mut today) = (0u32, None::<u64>, 0u64);
            for (ok, advance) in steps {
                today += advance;
                if let Some(on) = blocked_on {
                    if today - on >= u64::from(days) {
                        blocked_on = None;
                        failures = 0;
                    }
                }
                let want_blocked = if blocked_on.is_some() {
                    true
                } else if ok {
                    failures = 0;
                    false
                } else {
                    failures += 1;
                    if failures >= attempts {
                        blocked_on = Some(today);
                        true
                    } else {
                        false
                    }
                };
                let got = l.update(&attempt(ok, attempts, Some(days)), today);
                prop_assert_eq!(matches!(got, LockState::Blocked { .. }), want_blocked);
            }
        }
    }
}

// -----------------------------------------------------------------------------------------------
// max_connect_errors and the host cache (research note §1.6)
// -----------------------------------------------------------------------------------------------

/// One client address in the host cache (`performance_schema.host_cache`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostEntry {
    /// The client's IP address.
    pub ip: std::net::IpAddr,
    /// Consecutive handshake errors since the last successful connection
    /// (`SUM_CONNECT_ERRORS`, which MySQL sets from `COUNT_HANDSHAKE_ERRORS`).
    pub connect_errors: u64,
    /// All handshake errors (`COUNT_HANDSHAKE_ERRORS`).
    pub handshake_errors: u64,
    /// Failed authentications (`COUNT_AUTHENTICATION_ERRORS`): they never block.
    pub authentication_errors: u64,
    /// Connections refused with 1129 (`COUNT_HOST_BLOCKED_ERRORS`).
    pub blocked_errors: u64,
    /// Unix seconds of the first and the last connection.
    pub first_seen: u64,
    /// See `first_seen`.
    pub last_seen: u64,
}

/// The host cache: consecutive handshake errors per client IP. Only TCP clients from other
/// than loopback are tracked (MySQL: the Unix socket and 127.0.0.1/::1 are exempt).
#[derive(Debug, Default)]
pub struct HostCache {
    entries: Mutex<HashMap<std::net::IpAddr, HostEntry>>,
}

/// What happened to one connection, for [`HostCache::record`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostEvent {
    /// A login succeeded: the consecutive count starts again.
    Success,
    /// A protocol error before authentication (bad handshake, timeout, TLS failure …).
    HandshakeError,
    /// A wrong password or another denial: counted, never blocking.
    AuthenticationError,
    /// Refused with 1129.
    Blocked,
}

impl HostCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<std::net::IpAddr, HostEntry>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether `ip` is blocked: its consecutive handshake errors reached `max_connect_errors`.
    pub fn is_blocked(&self, ip: std::net::IpAddr, max_connect_errors: u64) -> bool {
        !ip.is_loopback()
            && self
                .lock()
                .get(&ip)
                .is_some_and(|e| e.connect_errors >= max_connect_errors)
    }

    /// Records one connection's outcome at `now` (Unix seconds). Loopback is never tracked.
    pub fn record(&self, ip: std::net::IpAddr, event: HostEvent, now: u64) {
        if ip.is_loopback() {
            return;
        }
        let mut entries = self.lock();
        let e = entries.entry(ip).or_insert(HostEntry {
            ip,
            connect_errors: 0,
            handshake_errors: 0,
            authentication_errors: 0,
            blocked_errors: 0,
            first_seen: now,
            last_seen: now,
        });
        e.last_seen = now;
        match event {
            HostEvent::Success => e.connect_errors = 0,
            HostEvent::HandshakeError => {
                e.connect_errors += 1;
                e.handshake_errors += 1;
            }
            HostEvent::AuthenticationError => e.authentication_errors += 1,
            HostEvent::Blocked => e.blocked_errors += 1,
        }
    }

    /// FLUSH HOSTS / TRUNCATE TABLE performance_schema.host_cache: every host unblocked.
    pub fn flush(&self) {
        self.lock().clear();
    }

    /// The rows of `performance_schema.host_cache`, by address.
    pub fn snapshot(&self) -> Vec<HostEntry> {
        let mut rows: Vec<HostEntry> = self.lock().values().cloned().collect();
        rows.sort_by_key(|e| e.ip);
        rows
    }
}

// -----------------------------------------------------------------------------------------------
// connection_control: delays after consecutive failures (research note §1.6)
// -----------------------------------------------------------------------------------------------

/// The connection_control variables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionControl {
    /// `connection_control_failed_connections_threshold` (0 disables the delays).
    pub threshold: u64,
    /// `connection_control_min_connection_delay`, milliseconds.
    pub min_delay_ms: u64,
    /// `connection_control_max_connection_delay`, milliseconds.
    pub max_delay_ms: u64,
}

impl Default for ConnectionControl {
    fn default() -> Self {
        ConnectionControl {
            threshold: 3,
            min_delay_ms: 1000,
            max_delay_ms: 2_147_483_647,
        }
    }
}

/// Consecutive failed logins per `'user'@'host'` as the client sent it (unknown users too, so
/// an attacker learns nothing), and the delay each further attempt gets
/// (MySQL `plugin/connection_control/connection_delay.cc`).
#[derive(Debug, Default)]
pub struct Throttle {
    failures: Mutex<HashMap<String, u64>>,
    /// `Connection_control_delay_generated`.
    pub delays_generated: std::sync::atomic::AtomicU64,
}

impl Throttle {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, u64>> {
        self.failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The key: `'user'@'host'`.
    pub fn key(user: &str, host: &str) -> String {
        format!("'{user}'@'{host}'")
    }

    /// The delay the next attempt of `key` gets: none below the threshold, then
    /// `(failures + 1 − threshold)` seconds, clamped to [min, max] milliseconds.
    pub fn delay_for(&self, key: &str, cc: &ConnectionControl) -> Option<std::time::Duration> {
        if cc.threshold == 0 {
            return None;
        }
        let failures = self.lock().get(key).copied().unwrap_or(0);
        if failures < cc.threshold {
            return None;
        }
        let secs = failures + 1 - cc.threshold;
        let ms = secs
            .saturating_mul(1000)
            .clamp(cc.min_delay_ms, cc.max_delay_ms.max(cc.min_delay_ms));
        Some(std::time::Duration::from_millis(ms))
    }

    /// A failed attempt of `key`.
    pub fn failed(&self, key: &str) {
        *self.lock().entry(key.to_string()).or_insert(0) += 1;
    }

    /// A successful one: the entry goes.
    pub fn succeeded(&self, key: &str) {
        self.lock().remove(key);
    }

    /// `information_schema.connection_control_failed_login_attempts`: (USERHOST,
    /// FAILED_ATTEMPTS), by key.
    pub fn snapshot(&self) -> Vec<(String, u64)> {
        let mut rows: Vec<(String, u64)> =
            self.lock().iter().map(|(k, v)| (k.clone(), *v)).collect();
        rows.sort();
        rows
    }

    /// Setting `connection_control_failed_connections_threshold` clears the counters (MySQL).
    pub fn clear(&self) {
        self.lock().clear();
    }
}

// -----------------------------------------------------------------------------------------------
// Per-account resource limits (research note §1.5)
// -----------------------------------------------------------------------------------------------

/// One account's usage.
#[derive(Debug, Default, Clone, Copy)]
struct Usage {
    connections: u32,
    /// The hour the counters below belong to (Unix seconds / 3600).
    hour: u64,
    connections_this_hour: u32,
    queries_this_hour: u32,
    updates_this_hour: u32,
}

/// Which limit a session reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LimitReached {
    /// 1203: the global `max_user_connections`.
    GlobalUserConnections,
    /// 1226 with the resource's name and the current value.
    Resource(&'static str, u32),
}

/// Open connections and hourly counters per account (`user`, `host` as stored).
#[derive(Debug, Default)]
pub struct UserResources {
    usage: Mutex<HashMap<(String, String), Usage>>,
}

/// An account's place among its connections; released on drop.
#[derive(Debug)]
pub struct UserConnection {
    resources: std::sync::Arc<UserResources>,
    key: (String, String),
}

impl Drop for UserConnection {
    fn drop(&mut self) {
        let mut usage = self.resources.lock();
        if let Some(u) = usage.get_mut(&self.key) {
            u.connections = u.connections.saturating_sub(1);
        }
    }
}

impl UserResources {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), Usage>> {
        self.usage
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// MySQL `check_for_max_user_connections`: the account's MAX_USER_CONNECTIONS (or, when 0,
    /// the global `max_user_connections`), then MAX_CONNECTIONS_PER_HOUR; a connection that
    /// passes is counted until its [`UserConnection`] drops.
    pub fn connect(
        self: &std::sync::Arc<Self>,
        account: &crate::account::Account,
        global_max_user_connections: u32,
        now: u64,
    ) -> Result<UserConnection, LimitReached> {
        let key = (account.user.clone(), account.host.clone());
        let mut usage = self.lock();
        let u = usage.entry(key.clone()).or_default();
        let hour = now / 3600;
        if u.hour != hour {
            u.hour = hour;
            u.connections_this_hour = 0;
            u.queries_this_hour = 0;
            u.updates_this_hour = 0;
        }
        if account.max_user_connections != 0 {
            if u.connections >= account.max_user_connections {
                return Err(LimitReached::Resource(
                    "max_user_connections",
                    account.max_user_connections,
                ));
            }
        } else if global_max_user_connections != 0 && u.connections >= global_max_user_connections {
            return Err(LimitReached::GlobalUserConnections);
        }
        if account.max_connections_per_hour != 0
            && u.connections_this_hour >= account.max_connections_per_hour
        {
            return Err(LimitReached::Resource(
                "max_connections_per_hour",
                account.max_connections_per_hour,
            ));
        }
        u.connections += 1;
        u.connections_this_hour += 1;
        drop(usage);
        Ok(UserConnection {
            resources: std::sync::Arc::clone(self),
            key,
        })
    }

    /// One statement of `account` (an update when `update`): MAX_QUERIES_PER_HOUR, then
    /// MAX_UPDATES_PER_HOUR.
    pub fn statement(
        &self,
        account: &crate::account::Account,
        update: bool,
        now: u64,
    ) -> Result<(), LimitReached> {
        if account.max_queries_per_hour == 0 && account.max_updates_per_hour == 0 {
            return Ok(());
        }
        let mut usage = self.lock();
        let u = usage
            .entry((account.user.clone(), account.host.clone()))
            .or_default();
        let hour = now / 3600;
        if u.hour != hour {
            u.hour = hour;
            u.connections_this_hour = 0;
            u.queries_this_hour = 0;
            u.updates_this_hour = 0;
        }
        if account.max_queries_per_hour != 0 && u.queries_this_hour >= account.max_queries_per_hour
        {
            return Err(LimitReached::Resource(
                "max_questions",
                account.max_queries_per_hour,
            ));
        }
        if update
            && account.max_updates_per_hour != 0
            && u.updates_this_hour >= account.max_updates_per_hour
        {
            return Err(LimitReached::Resource(
                "max_updates",
                account.max_updates_per_hour,
            ));
        }
        u.queries_this_hour += 1;
        if update {
            u.updates_this_hour += 1;
        }
        Ok(())
    }

    /// FLUSH USER_RESOURCES: the hourly counters start again (open connections stay counted).
    pub fn flush_hourly(&self) {
        for u in self.lock().values_mut() {
            u.connections_this_hour = 0;
            u.queries_this_hour = 0;
            u.updates_this_hour = 0;
        }
    }
}

impl LimitReached {
    /// The client's error: 1203 or 1226 (MySQL `sql/sql_connect.cc`).
    pub fn packet(&self, user: &str) -> crate::wire::packets::ErrPacket {
        use crate::error::MysqlError;
        match self {
            LimitReached::GlobalUserConnections => {
                MysqlError::TooManyUserConnections.packet(&[&user])
            }
            LimitReached::Resource(name, value) => {
                MysqlError::UserLimitReached.packet(&[&user, name, value])
            }
        }
    }
}

/// Whether a statement counts against MAX_UPDATES_PER_HOUR: one that changes data or
/// accounts (MySQL's `CF_CHANGES_DATA` commands), judged by its first keyword.
pub fn is_update_statement(sql: &[u8]) -> bool {
    let text = String::from_utf8_lossy(sql);
    let first = text
        .trim_start()
        .split(|c: char| !c.is_ascii_alphabetic())
        .next()
        .unwrap_or("")
        .to_ascii_uppercase();
    matches!(
        first.as_str(),
        "INSERT"
            | "UPDATE"
            | "DELETE"
            | "REPLACE"
            | "CREATE"
            | "ALTER"
            | "DROP"
            | "TRUNCATE"
            | "RENAME"
            | "GRANT"
            | "REVOKE"
            | "LOAD"
    )
}

#[cfg(test)]
mod more_tests {
    use super::*;
    use std::net::IpAddr;

    #[test]
    fn handshake_errors_block_a_host_until_flush_and_passwords_never_do() {
        let hc = HostCache::default();
        let ip: IpAddr = "10.0.0.7".parse().unwrap();
        for _ in 0..5 {
            hc.record(ip, HostEvent::AuthenticationError, 1);
        }
        assert!(!hc.is_blocked(ip, 2));
        hc.record(ip, HostEvent::HandshakeError, 2);
        hc.record(ip, HostEvent::Success, 3);
        hc.record(ip, HostEvent::HandshakeError, 4);
        assert!(!hc.is_blocked(ip, 2));
        hc.record(ip, HostEvent::HandshakeError, 5);
        assert!(hc.is_blocked(ip, 2));
        let row = &hc.snapshot()[0];
        assert_eq!(
            (
                row.connect_errors,
                row.handshake_errors,
                row.authentication_errors
            ),
            (2, 3, 5)
        );
        hc.flush();
        assert!(!hc.is_blocked(ip, 2));
        // Loopback is exempt.
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        hc.record(lo, HostEvent::HandshakeError, 6);
        assert!(!hc.is_blocked(lo, 0) && hc.snapshot().is_empty());
    }

    #[test]
    fn delays_grow_after_the_threshold_and_stay_clamped() {
        let t = Throttle::default();
        let cc = ConnectionControl {
            threshold: 2,
            min_delay_ms: 1500,
            max_delay_ms: 3000,
        };
        let k = Throttle::key("nobody", "10.0.0.1");
        let mut delays = Vec::new();
        for _ in 0..6 {
            delays.push(t.delay_for(&k, &cc).map(|d| d.as_millis()));
            t.failed(&k);
        }
        assert_eq!(
            delays,
            [None, None, Some(1500), Some(2000), Some(3000), Some(3000)]
        );
        t.succeeded(&k);
        assert_eq!(t.delay_for(&k, &cc), None);
    }

    #[test]
    fn user_connection_limits() {
        use crate::account::Account;
        use crate::auth::{AuthString, Plugin};
        let r = std::sync::Arc::new(UserResources::default());
        let mut a = Account::new("u", "%", Plugin::MysqlNativePassword, AuthString::Empty);
        a.max_user_connections = 1;
        let first = r.connect(&a, 0, 0).unwrap();
        assert_eq!(
            r.connect(&a, 0, 0).unwrap_err(),
            LimitReached::Resource("max_user_connections", 1)
        );
        drop(first);
        let _again = r.connect(&a, 0, 0).unwrap();
        // The global limit applies to an account without its own.
        let b = Account::new("b", "%", Plugin::MysqlNativePassword, AuthString::Empty);
        let _b1 = r.connect(&b, 1, 0).unwrap();
        assert_eq!(
            r.connect(&b, 1, 0).unwrap_err(),
            LimitReached::GlobalUserConnections
        );
        assert_eq!(
            LimitReached::GlobalUserConnections.packet("b").message,
            "User b already has more than 'max_user_connections' active connections"
        );
        // Per hour.
        let mut c = Account::new("c", "%", Plugin::MysqlNativePassword, AuthString::Empty);
        c.max_connections_per_hour = 2;
        drop(r.connect(&c, 0, 10).unwrap());
        drop(r.connect(&c, 0, 20).unwrap());
        let e = r.connect(&c, 0, 30).unwrap_err();
        assert_eq!(
            e.packet("c").message,
            "User 'c' has exceeded the 'max_connections_per_hour' resource (current value: 2)"
        );
        assert!(r.connect(&c, 0, 3600).is_ok());
        c.max_queries_per_hour = 1;
        assert!(r.statement(&c, false, 3600).is_ok());
        assert_eq!(
            r.statement(&c, false, 3600).unwrap_err(),
            LimitReached::Resource("max_questions", 1)
        );
        r.flush_hourly();
        assert!(r.statement(&c, false, 3600).is_ok());
        assert!(is_update_statement(b"  insert into t values (1)"));
        assert!(!is_update_statement(b"SELECT 1"));
    }
}
