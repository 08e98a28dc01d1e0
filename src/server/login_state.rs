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
