//! Account-management statements as pure, all-or-nothing transitions of an [`AccountSet`], and
//! what each one does to the caching_sha2_password cache and to the failed-login counters.
//!
//! Owns: the statement semantics of CREATE / ALTER / DROP / RENAME USER, `SET PASSWORD`, GRANT /
//! REVOKE (`ALL ON *.*`) and FLUSH PRIVILEGES — 1396 listing every failing account, 3162 / 3163
//! notes for `IF [NOT] EXISTS`, a failed statement changes nothing (MySQL 8.0's atomic ACL DDL)
//! — including MySQL 8.0's account-security rules at statement time (`sql/auth/sql_user.cc`
//! `set_and_validate_user_attributes`): dual passwords (`RETAIN CURRENT PASSWORD`, `DISCARD OLD
//! PASSWORD`; 3878, 3894, 3895), the password history and reuse interval (3638), `PASSWORD
//! REQUIRE CURRENT` with `REPLACE` (3891, 3892, 3893), expiry (`PASSWORD EXPIRE …`, the time of
//! the last change), resource limits and the failed-login locking options.
//!
//! Also owns the cache rules of MySQL's built-in `sha2_cache_cleaner` audit plugin
//! (docs/protocol.md, "The caching_sha2_password cache"; MySQL 8.0 Reference Manual, "Caching
//! SHA-2 Pluggable Authentication"): an account's entry is removed when its credentials change
//! (`ALTER USER … IDENTIFIED …`, `SET PASSWORD`, `RETAIN CURRENT PASSWORD`, `DISCARD OLD
//! PASSWORD`), when it is renamed (old name) or dropped; FLUSH PRIVILEGES empties the cache;
//! REQUIRE, ACCOUNT LOCK and GRANT / REVOKE leave it alone; and a statement that fails touches
//! nothing (the cleaner ignores events whose status is an error). [`LockEffect`] says the same
//! for the failed-login counters (MySQL WL#13515).
//!
//! Never does: privilege checks (who may run a statement is the command handler's business),
//! password hashing or verification (callers pass finished [`AuthString`]s, and the
//! [`CleartextChecks`] of the statement's cleartext passwords, computed off the reactor), reading
//! a clock (the time is in [`Context::now_secs`]), I/O or persistence, and it never touches the
//! cache or the counters itself: [`apply`] returns a [`CacheEffect`] and a [`LockEffect`] for the
//! caller to carry out once the new set is published.
//!
//! Cache keys are account identities as *stored*: the user exactly, the host lowercased (the set
//! stores hosts lowercase and compares them ASCII case-insensitively), so `DROP USER
//! 'u'@'LOCALHOST'` evicts the entry filled for `'u'@'localhost'`.

use crate::account::{
    account_name, Account, AccountError, AccountId, AccountSet, PasswordLifetime, PasswordLockTime,
    Require, Warning, SECONDS_PER_DAY,
};
use crate::auth::{AuthString, Plugin};
use crate::cache::AuthCache;
use crate::error::MysqlError;
use crate::wire::packets::ErrPacket;

/// What a statement needs to know beyond its own text: the time, the global password policy
/// and who runs it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Context {
    /// Now, in Unix seconds (the caller's clock): `password_last_changed` and the timestamps
    /// of the password history.
    pub now_secs: u64,
    /// The global variables `password_history`, `password_reuse_interval` and
    /// `password_require_current`.
    pub policy: PasswordPolicy,
    /// The session's own account (`CURRENT_USER()`), host as stored: `REPLACE` may only name
    /// it (3893). `None` when no session runs the statement.
    pub actor: Option<AccountId>,
    /// Whether the session has CREATE USER (Vestibule's admin privilege): such a session changes
    /// passwords without `REPLACE` even under `PASSWORD REQUIRE CURRENT` (MySQL's
    /// `is_privileged_user`).
    pub privileged: bool,
}

/// The global password-policy variables, MySQL 8.0's defaults being 0, 0 and OFF.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PasswordPolicy {
    /// `password_history`: how many recent passwords may not be reused (accounts with
    /// `PASSWORD HISTORY DEFAULT`).
    pub password_history: u32,
    /// `password_reuse_interval`: for how many days a password may not be reused (accounts with
    /// `PASSWORD REUSE INTERVAL DEFAULT`).
    pub password_reuse_interval: u32,
    /// `password_require_current`: whether a password change must name the current one
    /// (accounts with `PASSWORD REQUIRE CURRENT DEFAULT`).
    pub password_require_current: bool,
}

/// The statement-wide options of CREATE / ALTER USER besides REQUIRE and ACCOUNT LOCK. `None`
/// leaves a field as it is (ALTER USER; CREATE USER starts from [`Account::new`]'s defaults).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AccountOptions {
    /// `WITH MAX_QUERIES_PER_HOUR n`.
    pub max_queries_per_hour: Option<u32>,
    /// `WITH MAX_UPDATES_PER_HOUR n`.
    pub max_updates_per_hour: Option<u32>,
    /// `WITH MAX_CONNECTIONS_PER_HOUR n`.
    pub max_connections_per_hour: Option<u32>,
    /// `WITH MAX_USER_CONNECTIONS n`.
    pub max_user_connections: Option<u32>,
    /// `PASSWORD EXPIRE …`.
    pub expire: Option<Expire>,
    /// `PASSWORD HISTORY n` (`Some(Some(n))`) or `DEFAULT` (`Some(None)`).
    pub password_history: Option<Option<u32>>,
    /// `PASSWORD REUSE INTERVAL n DAY` (`Some(Some(n))`) or `DEFAULT` (`Some(None)`).
    pub password_reuse_interval: Option<Option<u32>>,
    /// `PASSWORD REQUIRE CURRENT` (`Some(Some(true))`), `OPTIONAL` (`Some(Some(false))`) or
    /// `DEFAULT` (`Some(None)`).
    pub password_require_current: Option<Option<bool>>,
    /// `FAILED_LOGIN_ATTEMPTS n`.
    pub failed_login_attempts: Option<u32>,
    /// `PASSWORD_LOCK_TIME n | UNBOUNDED`.
    pub password_lock_time: Option<PasswordLockTime>,
}

/// `PASSWORD EXPIRE …`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expire {
    /// Bare `PASSWORD EXPIRE`: expired now (`password_expired = 'Y'`); the lifetime is kept.
    Now,
    /// `PASSWORD EXPIRE DEFAULT | NEVER | INTERVAL n DAY`: the lifetime.
    Lifetime(PasswordLifetime),
}

impl AccountOptions {
    /// Writes the given options into `a`.
    pub fn apply_to(&self, a: &mut Account) {
        for (value, slot) in [
            (self.max_queries_per_hour, &mut a.max_queries_per_hour),
            (self.max_updates_per_hour, &mut a.max_updates_per_hour),
            (
                self.max_connections_per_hour,
                &mut a.max_connections_per_hour,
            ),
            (self.max_user_connections, &mut a.max_user_connections),
        ] {
            if let Some(v) = value {
                *slot = v;
            }
        }
        match self.expire {
            Some(Expire::Now) => a.password_expired = true,
            Some(Expire::Lifetime(l)) => a.password_lifetime = l,
            None => {}
        }
        if let Some(v) = self.password_history {
            a.password_history = v;
        }
        if let Some(v) = self.password_reuse_interval {
            a.password_reuse_interval = v;
        }
        if let Some(v) = self.password_require_current {
            a.password_require_current = v;
        }
        if let Some(v) = self.failed_login_attempts {
            a.failed_login_attempts = v;
        }
        if let Some(v) = self.password_lock_time {
            a.password_lock_time = v;
        }
    }

    /// Whether the statement sets `FAILED_LOGIN_ATTEMPTS` or `PASSWORD_LOCK_TIME` (which resets
    /// the account's failed-login state, WL#13515).
    pub fn sets_password_locking(&self) -> bool {
        self.failed_login_attempts.is_some() || self.password_lock_time.is_some()
    }
}

/// How an `IDENTIFIED …` clause gave its credential, which decides what can be checked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum CredentialSource {
    /// `IDENTIFIED [WITH plugin] BY 'pw'` and `SET PASSWORD = 'pw'`: the caller had the
    /// cleartext and checked it against the account's stored hashes
    /// ([`CleartextChecks::compute`]).
    Password(CleartextChecks),
    /// `IDENTIFIED WITH plugin AS 'hash'`: a finished hash; nothing to check it against (MySQL
    /// still records it in the history).
    #[default]
    Hash,
    /// `IDENTIFIED WITH plugin` alone: the password becomes empty and, as in MySQL, expired.
    PluginOnly,
}

/// What the statement's cleartext passwords verify against, for one account as it is before
/// the statement. Computing it runs the plugins' slow hashes (SHA-256-crypt): do it off the
/// reactor, while holding the lock that serialises account changes, so the account cannot change
/// in between.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CleartextChecks {
    /// The entries of [`Account::password_history_entries`] the new password verifies against
    /// (the password history check, 3638).
    pub reused: Vec<AuthString>,
    /// `REPLACE 'current'`: whether it verifies against the current primary password (an
    /// empty primary matches only an empty REPLACE); `None` without a REPLACE clause.
    pub replace_matches: Option<bool>,
}

impl CleartextChecks {
    /// Verifies `new_password` against every history entry of `account` and `replace` (the
    /// `REPLACE` clause's cleartext) against its primary password. An empty new password is
    /// never checked against the history (MySQL keeps no empty passwords there).
    pub fn compute(account: &Account, new_password: &[u8], replace: Option<&[u8]>) -> Self {
        let reused = if new_password.is_empty() {
            Vec::new()
        } else {
            account
                .password_history_entries
                .iter()
                .filter(|(_, hash)| hash.verify_cleartext(new_password))
                .map(|(_, hash)| hash.clone())
                .collect()
        };
        CleartextChecks {
            reused,
            replace_matches: replace.map(|current| account.auth_string.verify_cleartext(current)),
        }
    }
}

/// One account's part of an `ALTER USER` statement (or of `SET PASSWORD`).
#[derive(Clone, Debug, Default)]
pub struct AlterChange {
    /// The account changed (`CURRENT_USER` resolved).
    pub id: AccountId,
    /// `IDENTIFIED [WITH plugin] [BY 'pw' | AS 'hash']`: the new plugin and stored string (for a
    /// plain `IDENTIFIED BY`, the account's current plugin). `Some` evicts the cache entry even if
    /// the password is the same, as MySQL's CREDENTIAL_CHANGE event does.
    pub credential: Option<(Plugin, AuthString)>,
    /// How `credential` was given.
    pub source: CredentialSource,
    /// `RETAIN CURRENT PASSWORD`: the current primary password becomes the secondary one.
    pub retain_current: bool,
    /// `DISCARD OLD PASSWORD`: the secondary password is removed.
    pub discard_old: bool,
    /// `REQUIRE …` (statement-wide in MySQL's grammar, repeated per account here).
    pub require: Option<Require>,
    /// `ACCOUNT LOCK` (`true`) / `ACCOUNT UNLOCK` (`false`).
    pub lock: Option<bool>,
    /// The other statement-wide options (limits, expiry, password policy, locking).
    pub options: AccountOptions,
}

impl AlterChange {
    /// A change of `id` that changes nothing yet.
    pub fn new(id: AccountId) -> Self {
        AlterChange {
            id,
            ..AlterChange::default()
        }
    }
}

/// An account-management statement, with user names resolved (`CURRENT_USER` already replaced by
/// the session's account) and credentials already hashed.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum AccountOp {
    /// `CREATE USER [IF NOT EXISTS] a, b, …`.
    Create {
        /// The new accounts, credentials hashed, options applied
        /// ([`AccountOptions::apply_to`]). The operation sets `password_last_changed` and starts
        /// the password history.
        accounts: Vec<Account>,
        /// An existing account is a note (3163), not error 1396.
        if_not_exists: bool,
        /// The time and the global password policy.
        context: Context,
    },
    /// `ALTER USER [IF EXISTS] a …, b …` and `SET PASSWORD [FOR a] = …`.
    Alter {
        /// One change per account named.
        changes: Vec<AlterChange>,
        /// A missing account is a note (3162), not error 1396.
        if_exists: bool,
        /// The time, the global password policy and who runs the statement.
        context: Context,
    },
    /// `DROP USER [IF EXISTS] a, b, …`.
    Drop {
        /// The accounts to drop.
        ids: Vec<AccountId>,
        /// A missing account is a note (3162), not error 1396.
        if_exists: bool,
    },
    /// `RENAME USER old TO new, …` (pairs applied in order).
    Rename {
        /// (old, new) identities.
        pairs: Vec<(AccountId, AccountId)>,
    },
    /// `GRANT ALL ON *.* TO a, … [WITH GRANT OPTION]`.
    Grant {
        /// The grantees (they must exist: 1410 otherwise).
        ids: Vec<AccountId>,
        /// `WITH GRANT OPTION`.
        with_grant_option: bool,
    },
    /// `REVOKE ALL [PRIVILEGES] ON *.* FROM a, …` (`grant_option: false`) or `REVOKE ALL
    /// [PRIVILEGES], GRANT OPTION FROM a, …` (`grant_option: true`). Only the second form takes
    /// GRANT OPTION away: MySQL's `ALL` excludes GRANT OPTION.
    Revoke {
        /// The accounts revoked from.
        ids: Vec<AccountId>,
        /// The `ALL PRIVILEGES, GRANT OPTION` form.
        grant_option: bool,
    },
    /// `FLUSH PRIVILEGES`.
    FlushPrivileges,
}

/// What a successful statement does to the caching_sha2_password cache.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CacheEffect {
    /// Leave the cache as it is (`GRANT`, `REVOKE`, a lock change …).
    None,
    /// Remove these accounts' entries (identities as stored: host lowercase).
    Evict(Vec<AccountId>),
    /// Empty the whole cache (FLUSH PRIVILEGES).
    Clear,
}

impl CacheEffect {
    /// Carries the effect out. Call it after the new account set is visible to logins, never
    /// before: an entry filled in between by a login that read the old set is then removed too.
    /// (A full authentication still verifying against the old set when this runs can refill the
    /// entry afterwards; only a fill that re-checks the stored credential closes that window.)
    pub fn apply_to(&self, cache: &AuthCache) {
        match self {
            CacheEffect::None => {}
            CacheEffect::Evict(ids) => {
                for (user, host) in ids {
                    cache.remove(user, host);
                }
            }
            CacheEffect::Clear => cache.clear(),
        }
    }
}

/// What a successful statement does to the in-memory failed-login state of
/// `FAILED_LOGIN_ATTEMPTS` / `PASSWORD_LOCK_TIME` (MySQL WL#13515: the consecutive-failure
/// counter and the temporary lock, never stored). The caller carries it out after the new set is
/// published, like [`CacheEffect`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LockEffect {
    /// Leave every account's state as it is.
    None,
    /// These accounts start afresh (identities as stored: host lowercase): `ALTER USER … ACCOUNT
    /// UNLOCK`, an `ALTER USER` that sets `FAILED_LOGIN_ATTEMPTS` or `PASSWORD_LOCK_TIME`, and
    /// the dropped accounts and old names of DROP / RENAME USER (whose state would otherwise
    /// outlive them; MySQL keeps a renamed account's counter, Vestibule starts it afresh).
    Reset(Vec<AccountId>),
    /// Every account starts afresh (FLUSH PRIVILEGES; a restart does the same).
    ResetAll,
}

/// The outcome of a successful statement: its notes (for `SHOW WARNINGS`) and its effects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied {
    /// Notes the statement left (`IF [NOT] EXISTS`).
    pub warnings: Vec<Warning>,
    /// What the cache must lose, once the new set is visible.
    pub cache: CacheEffect,
    /// Whose failed-login state must be reset, once the new set is visible.
    pub lock_state: LockEffect,
}

impl Applied {
    fn new(warnings: Vec<Warning>, cache: CacheEffect, lock_state: LockEffect) -> Self {
        Applied {
            warnings,
            cache,
            lock_state,
        }
    }
}

/// Why a statement failed; the set is then unchanged and the cache must not be touched.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AccountOpError {
    /// 1396 `Operation … failed for …` (every failing account listed) or 1470 (name too long).
    #[error(transparent)]
    Account(#[from] AccountError),
    /// 1410 ER_CANT_CREATE_USER_WITH_GRANT (42000): GRANT to an account that does not exist
    /// (MySQL 8.0 never creates accounts implicitly).
    #[error("You are not allowed to create a user with GRANT")]
    GrantWouldCreateUser,
    /// 1141 ER_NONEXISTING_GRANT (42000): `REVOKE ALL ON *.*` from an account that does not
    /// exist; names the first such account.
    #[error("There is no such grant defined for user '{user}' on host '{host}'")]
    NoSuchGrant {
        /// The first missing account's user.
        user: String,
        /// Its host.
        host: String,
    },
    /// 1269 ER_REVOKE_GRANTS (HY000): `REVOKE ALL PRIVILEGES, GRANT OPTION` naming an account
    /// that does not exist.
    #[error("Can't revoke all privileges for one or more of the requested users")]
    CannotRevokeAll,
    /// 3638 ER_CREDENTIALS_CONTRADICT_TO_HISTORY (HY000): the new password is one the account's
    /// `PASSWORD HISTORY` or `PASSWORD REUSE INTERVAL` forbids. User and host share one pair of
    /// quotes, as in MySQL's `'%.*s@%.*s'`.
    #[error("Cannot use these credentials for '{user}@{host}' because they contradict the password history policy")]
    ContradictsHistory {
        /// The account's user.
        user: String,
        /// The account's host, as stored.
        host: String,
    },
    /// 3878 ER_SECOND_PASSWORD_CANNOT_BE_EMPTY (HY000): `RETAIN CURRENT PASSWORD` while the
    /// current password is empty.
    #[error("Empty password can not be retained as second password for user '{}'@'{}'.", cut64(.user), cut64(.host))]
    SecondPasswordCannotBeEmpty {
        /// The account's user.
        user: String,
        /// The account's host, as stored.
        host: String,
    },
    /// 3891 ER_INCORRECT_CURRENT_PASSWORD (HY000): `REPLACE 'current'` does not match.
    #[error("Incorrect current password. Specify the correct password which has to be replaced.")]
    IncorrectCurrentPassword,
    /// 3892 ER_MISSING_CURRENT_PASSWORD (HY000): no `REPLACE` clause although the account
    /// requires the current password and the session is not privileged.
    #[error("Current password needs to be specified in the REPLACE clause in order to change it.")]
    MissingCurrentPassword,
    /// 3893 ER_CURRENT_PASSWORD_NOT_REQUIRED (HY000): `REPLACE` while changing another
    /// account's password.
    #[error("Do not specify the current password while changing it for other users.")]
    CurrentPasswordNotRequired,
    /// 3894 ER_PASSWORD_CANNOT_BE_RETAINED_ON_PLUGIN_CHANGE (HY000): `RETAIN CURRENT PASSWORD`
    /// with `IDENTIFIED WITH` another plugin.
    #[error("Current password can not be retained for user '{}'@'{}' because authentication plugin is being changed.", cut64(.user), cut64(.host))]
    RetainOnPluginChange {
        /// The account's user.
        user: String,
        /// The account's host, as stored.
        host: String,
    },
    /// 3895 ER_CURRENT_PASSWORD_CANNOT_BE_RETAINED (HY000): `RETAIN CURRENT PASSWORD` with an
    /// empty new password.
    #[error("Current password can not be retained for user '{}'@'{}' because new password is empty.", cut64(.user), cut64(.host))]
    RetainWithEmptyPassword {
        /// The account's user.
        user: String,
        /// The account's host, as stored.
        host: String,
    },
}

/// The first 64 characters (MySQL's `%-.64s`).
fn cut64(s: &str) -> &str {
    s.char_indices()
        .nth(64)
        .map_or(s, |(i, _)| s.get(..i).unwrap_or(s))
}

impl AccountOpError {
    /// The MySQL error this is (its Display text is the message sent).
    pub fn mysql_error(&self) -> MysqlError {
        match self {
            AccountOpError::Account(e) => e.mysql_error(),
            AccountOpError::GrantWouldCreateUser => MysqlError::CantCreateUserWithGrant,
            AccountOpError::NoSuchGrant { .. } => MysqlError::NonexistingGrant,
            AccountOpError::CannotRevokeAll => MysqlError::RevokeGrants,
            AccountOpError::ContradictsHistory { .. } => MysqlError::CredentialsContradictToHistory,
            AccountOpError::SecondPasswordCannotBeEmpty { .. } => {
                MysqlError::SecondPasswordCannotBeEmpty
            }
            AccountOpError::IncorrectCurrentPassword => MysqlError::IncorrectCurrentPassword,
            AccountOpError::MissingCurrentPassword => MysqlError::MissingCurrentPassword,
            AccountOpError::CurrentPasswordNotRequired => MysqlError::CurrentPasswordNotRequired,
            AccountOpError::RetainOnPluginChange { .. } => {
                MysqlError::PasswordCannotBeRetainedOnPluginChange
            }
            AccountOpError::RetainWithEmptyPassword { .. } => {
                MysqlError::CurrentPasswordCannotBeRetained
            }
        }
    }

    /// MySQL error code.
    pub fn code(&self) -> u16 {
        self.mysql_error().code()
    }

    /// SQLSTATE.
    pub fn sqlstate(&self) -> &'static str {
        self.mysql_error().sqlstate()
    }

    /// The ERR packet payload: the entry's code and SQLSTATE with the Display text.
    pub fn to_err_packet(&self) -> ErrPacket {
        self.mysql_error().packet_with_message(self.to_string())
    }
}

impl From<&AccountOpError> for MysqlError {
    fn from(e: &AccountOpError) -> Self {
        e.mysql_error()
    }
}

/// Applies one statement. All or nothing: on `Err` the set is unchanged (and the caller must
/// leave the cache and the failed-login state alone). On `Ok` the caller saves and publishes the
/// set, then carries out [`Applied::cache`] and [`Applied::lock_state`].
///
/// Cache effects (MySQL's `sha2_cache_cleaner`): CREATE → none (a new account has no entry);
/// ALTER → evict each existing account whose credentials change (`IDENTIFIED`, `RETAIN`,
/// `DISCARD`), none for other options; DROP → evict every named account; RENAME → evict every
/// old name; GRANT / REVOKE → none; FLUSH PRIVILEGES → clear.
///
/// Failed-login effects (WL#13515): ALTER → reset each account given `ACCOUNT UNLOCK`,
/// `FAILED_LOGIN_ATTEMPTS` or `PASSWORD_LOCK_TIME`; DROP / RENAME → reset the dropped and old
/// names; FLUSH PRIVILEGES → reset all; the others → none.
pub fn apply(set: &mut AccountSet, op: AccountOp) -> Result<Applied, AccountOpError> {
    match op {
        AccountOp::Create {
            accounts,
            if_not_exists,
            context,
        } => {
            let accounts = accounts.into_iter().map(|a| created(a, &context)).collect();
            let warnings = set.create(accounts, if_not_exists)?;
            Ok(Applied::new(warnings, CacheEffect::None, LockEffect::None))
        }
        AccountOp::Alter {
            changes,
            if_exists,
            context,
        } => alter(set, changes, if_exists, &context),
        AccountOp::Drop { ids, if_exists } => {
            let warnings = set.drop_users(&ids, if_exists)?;
            let ids = stored_ids(ids);
            Ok(Applied::new(warnings, evict(ids.clone()), reset(ids)))
        }
        AccountOp::Rename { pairs } => {
            set.rename(&pairs)?;
            let old = stored_ids(pairs.into_iter().map(|(old, _)| old));
            Ok(Applied::new(Vec::new(), evict(old.clone()), reset(old)))
        }
        AccountOp::Grant {
            ids,
            with_grant_option,
        } => privileges(set, &ids, Privilege::Grant { with_grant_option }),
        AccountOp::Revoke { ids, grant_option } => {
            privileges(set, &ids, Privilege::Revoke { grant_option })
        }
        AccountOp::FlushPrivileges => Ok(Applied::new(
            Vec::new(),
            CacheEffect::Clear,
            LockEffect::ResetAll,
        )),
    }
}

/// A new account as CREATE USER stores it: last changed now, and its password as the first
/// history entry when a history length or reuse interval applies (MySQL's
/// `auth_verify_password_history` on an account without history).
fn created(mut a: Account, context: &Context) -> Account {
    a.password_last_changed = context.now_secs;
    let (history, reuse) = effective_policy(&a, &context.policy);
    a.password_history_entries.clear();
    if (history != 0 || reuse != 0) && !a.auth_string.is_empty() {
        a.password_history_entries
            .push((context.now_secs, a.auth_string.clone()));
    }
    a
}

/// The history length and reuse interval that apply to `a`: its own, or the globals for
/// DEFAULT.
fn effective_policy(a: &Account, policy: &PasswordPolicy) -> (u32, u32) {
    (
        a.password_history.unwrap_or(policy.password_history),
        a.password_reuse_interval
            .unwrap_or(policy.password_reuse_interval),
    )
}

/// Identities with hosts as stored (lowercase), without duplicates, in statement order.
fn stored_ids(ids: impl IntoIterator<Item = AccountId>) -> Vec<AccountId> {
    let mut out: Vec<AccountId> = Vec::new();
    for (user, host) in ids {
        let id = (user, host.to_ascii_lowercase());
        if !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

/// Eviction list with hosts as stored (lowercase), without duplicates, in statement order.
fn evict(ids: impl IntoIterator<Item = AccountId>) -> CacheEffect {
    let out = stored_ids(ids);
    if out.is_empty() {
        CacheEffect::None
    } else {
        CacheEffect::Evict(out)
    }
}

/// Failed-login reset list, as [`evict`].
fn reset(ids: impl IntoIterator<Item = AccountId>) -> LockEffect {
    let out = stored_ids(ids);
    if out.is_empty() {
        LockEffect::None
    } else {
        LockEffect::Reset(out)
    }
}

/// MySQL's `mysql_alter_user`: accounts are taken in order on a working copy; a missing account is
/// a 3162 note with `IF EXISTS`, else a failure; an invalid result (a stored string not of the
/// plugin's format) is a failure. The first account-security error (3638, 3878, 3891–3895) in
/// statement order is the statement's error (MySQL keeps the first error raised); otherwise any
/// failure → 1396 listing every failing account. Nothing changes on error.
fn alter(
    set: &mut AccountSet,
    changes: Vec<AlterChange>,
    if_exists: bool,
    context: &Context,
) -> Result<Applied, AccountOpError> {
    let mut working = set.clone();
    let mut failed = Vec::new();
    let mut first_error: Option<AccountOpError> = None;
    let mut warnings = Vec::new();
    let mut credential_changed = Vec::new();
    let mut lock_reset = Vec::new();
    for change in changes {
        let (user, host) = (change.id.0.clone(), change.id.1.to_ascii_lowercase());
        let Some(current) = working.get(&user, &host) else {
            let account = account_name(&user, &host);
            if if_exists {
                warnings.push(Warning::UserDoesNotExist { account });
            } else {
                failed.push(account);
            }
            continue;
        };
        let edited = match altered(current, &change, context) {
            Ok(edited) => edited,
            Err(e) => {
                first_error.get_or_insert(e);
                continue;
            }
        };
        let evicts = change.credential.is_some() || change.retain_current || change.discard_old;
        let resets = change.lock == Some(false) || change.options.sets_password_locking();
        match working.alter((&user, &host), move |a| *a = edited) {
            Ok(()) => {
                if evicts {
                    credential_changed.push((user.clone(), host.clone()));
                }
                if resets {
                    lock_reset.push((user, host));
                }
            }
            Err(AccountError::OperationFailed { .. }) => failed.push(account_name(&user, &host)),
            Err(e) => return Err(e.into()),
        }
    }
    if let Some(e) = first_error {
        return Err(e);
    }
    if !failed.is_empty() {
        return Err(AccountError::OperationFailed {
            operation: "ALTER USER",
            accounts: failed,
        }
        .into());
    }
    *set = working;
    Ok(Applied::new(
        warnings,
        evict(credential_changed),
        reset(lock_reset),
    ))
}

/// One account after its part of ALTER USER, with MySQL's checks in MySQL's order
/// (`set_and_validate_user_attributes`): RETAIN with a plugin change (3894); the history and
/// reuse interval (3638); REPLACE / REQUIRE CURRENT (3893, 3891, 3892); RETAIN of an empty
/// password or to an empty one (3878, 3895).
fn altered(
    a: &Account,
    change: &AlterChange,
    context: &Context,
) -> Result<Account, AccountOpError> {
    let mut next = a.clone();
    let (user, host) = (a.user.clone(), a.host.clone());
    if let Some((plugin, auth_string)) = &change.credential {
        let plugin_changes = *plugin != a.plugin;
        if plugin_changes && change.retain_current {
            return Err(AccountOpError::RetainOnPluginChange { user, host });
        }
        // The history check runs with the policy this statement leaves in place.
        let mut with_options = a.clone();
        change.options.apply_to(&mut with_options);
        let (history, reuse) = effective_policy(&with_options, &context.policy);
        let reused = match &change.source {
            CredentialSource::Password(checks) => checks.reused.as_slice(),
            CredentialSource::Hash | CredentialSource::PluginOnly => &[],
        };
        next.password_history_entries = updated_history(
            &a.password_history_entries,
            (history, reuse),
            context.now_secs,
            auth_string,
            reused,
            plugin_changes,
        )
        .ok_or_else(|| AccountOpError::ContradictsHistory {
            user: user.clone(),
            host: host.clone(),
        })?;
        check_current_password(a, change, context)?;
        if change.retain_current {
            if a.auth_string.is_empty() {
                return Err(AccountOpError::SecondPasswordCannotBeEmpty { user, host });
            }
            if auth_string.is_empty() {
                return Err(AccountOpError::RetainWithEmptyPassword { user, host });
            }
        }
        next.secondary = if change.retain_current {
            Some(a.auth_string.clone())
        } else if plugin_changes || auth_string.is_empty() {
            // Another plugin cannot use the old secondary; an empty password empties it too.
            None
        } else {
            a.secondary.clone()
        };
        next.plugin = *plugin;
        next.auth_string = auth_string.clone();
        next.password_last_changed = context.now_secs;
        // A new password is not expired, unless the statement says PASSWORD EXPIRE, or changes
        // the plugin without a password (MySQL expires it then).
        next.password_expired = matches!(change.source, CredentialSource::PluginOnly);
    }
    if change.discard_old {
        next.secondary = None;
    }
    if let Some(r) = &change.require {
        next.require = r.clone();
    }
    if let Some(l) = change.lock {
        next.locked = l;
    }
    change.options.apply_to(&mut next);
    Ok(next)
}

/// MySQL's `validate_password_require_current`, for a change of `a`'s credential.
fn check_current_password(
    a: &Account,
    change: &AlterChange,
    context: &Context,
) -> Result<(), AccountOpError> {
    let replace = match &change.source {
        CredentialSource::Password(checks) => checks.replace_matches,
        CredentialSource::Hash | CredentialSource::PluginOnly => None,
    };
    match replace {
        Some(matches) => {
            let own = context
                .actor
                .as_ref()
                .is_some_and(|(u, h)| *u == a.user && h.eq_ignore_ascii_case(&a.host));
            if !own {
                return Err(AccountOpError::CurrentPasswordNotRequired);
            }
            if !matches {
                return Err(AccountOpError::IncorrectCurrentPassword);
            }
        }
        None if !context.privileged => {
            let required = a
                .password_require_current
                .unwrap_or(context.policy.password_require_current);
            if required {
                return Err(AccountOpError::MissingCurrentPassword);
            }
        }
        None => {}
    }
    Ok(())
}

/// MySQL's `auth_verify_password_history` for a new stored string: `None` when the new
/// password contradicts the history (3638), else the history to keep.
///
/// Entries are taken newest first, counting from 1. An entry is checked when `count <=
/// history` or it is younger than `reuse` days (calendar days of UTC, MySQL's `calc_daynr`
/// difference), and contradicts when it is in `reused` (the entries the new cleartext verifies
/// against; empty for a hash given with `AS`) — unless the plugin changes, which cannot match.
/// An entry is dropped when `count >= history` and (no interval or older than `reuse` days), or
/// when the plugin changes. The new string is then added first when a history length or reuse
/// interval applies. An empty password neither checks nor changes the history.
fn updated_history(
    entries: &[(u64, AuthString)],
    (history, reuse): (u32, u32),
    now_secs: u64,
    new: &AuthString,
    reused: &[AuthString],
    plugin_changes: bool,
) -> Option<Vec<(u64, AuthString)>> {
    if new.is_empty() {
        return Some(entries.to_vec());
    }
    let day = |secs: u64| i128::from(secs / SECONDS_PER_DAY);
    let today = day(now_secs);
    let (history, reuse) = (i128::from(history), i128::from(reuse));
    let mut kept = Vec::new();
    for (count, (at, hash)) in (1i128..).zip(entries) {
        let age = today - day(*at);
        let checked = count <= history || age < reuse;
        if checked && !plugin_changes && reused.contains(hash) {
            return None;
        }
        let dropped = (count >= history && (reuse == 0 || age > reuse)) || plugin_changes;
        if !dropped {
            kept.push((*at, hash.clone()));
        }
    }
    if history != 0 || reuse != 0 {
        kept.insert(0, (now_secs, new.clone()));
    }
    Some(kept)
}

#[derive(Clone, Copy)]
enum Privilege {
    Grant { with_grant_option: bool },
    Revoke { grant_option: bool },
}

/// `GRANT ALL ON *.*` sets `admin` (and `grant_option` if asked; never clears it); `REVOKE ALL`
/// clears `admin`, and `grant_option` only in the `, GRANT OPTION` form. A missing account fails
/// the whole statement (1410 / 1141 / 1269).
fn privileges(
    set: &mut AccountSet,
    ids: &[AccountId],
    what: Privilege,
) -> Result<Applied, AccountOpError> {
    if let Some((user, host)) = ids.iter().find(|(u, h)| set.get(u, h).is_none()) {
        return Err(match what {
            Privilege::Grant { .. } => AccountOpError::GrantWouldCreateUser,
            Privilege::Revoke { grant_option: true } => AccountOpError::CannotRevokeAll,
            Privilege::Revoke {
                grant_option: false,
            } => AccountOpError::NoSuchGrant {
                user: user.clone(),
                host: host.to_ascii_lowercase(),
            },
        });
    }
    let mut working = set.clone();
    for (user, host) in ids {
        working.alter((user, host), |a| match what {
            Privilege::Grant { with_grant_option } => {
                a.admin = true;
                a.grant_option |= with_grant_option;
            }
            Privilege::Revoke { grant_option } => {
                a.admin = false;
                if grant_option {
                    a.grant_option = false;
                }
            }
        })?;
    }
    *set = working;
    Ok(Applied::new(
        Vec::new(),
        CacheEffect::None,
        LockEffect::None,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::caching_sha2::cached_digest;

    fn cs2(user: &str, host: &str, password: &str) -> Account {
        let auth = AuthString::generate(
            Plugin::CachingSha2Password,
            password.as_bytes(),
            [7; 20],
            5000,
        );
        Account::new(user, host, Plugin::CachingSha2Password, auth)
    }

    fn id(user: &str, host: &str) -> AccountId {
        (user.to_owned(), host.to_owned())
    }

    fn set_of(accounts: Vec<Account>) -> AccountSet {
        let mut set = AccountSet::new();
        set.create(accounts, false).unwrap();
        set
    }

    fn native(password: &str) -> (Plugin, AuthString) {
        let p = Plugin::MysqlNativePassword;
        (p, AuthString::generate(p, password.as_bytes(), [0; 20], 0))
    }

    fn change(user: &str, host: &str) -> AlterChange {
        AlterChange::new(id(user, host))
    }

    #[test]
    fn create_has_no_cache_effect_and_if_not_exists_gives_3163() {
        let mut set = set_of(vec![cs2("a", "%", "pw")]);
        let op = AccountOp::Create {
            accounts: vec![cs2("a", "%", "x"), cs2("b", "%", "y")],
            if_not_exists: true,
            context: Context::default(),
        };
        let applied = apply(&mut set, op).unwrap();
        assert_eq!(applied.cache, CacheEffect::None);
        assert_eq!(applied.warnings.len(), 1);
        assert_eq!(applied.warnings[0].code(), 3163);
        assert_eq!(
            applied.warnings[0].to_string(),
            "Authorization ID 'a'@'%' already exists."
        );
        assert_eq!(set.len(), 2);
        // The existing account kept its password.
        assert!(set
            .get("a", "%")
            .unwrap()
            .auth_string
            .verify_cleartext(b"pw"));
    }

    #[test]
    fn failed_create_lists_every_existing_account_and_changes_nothing() {
        let mut set = set_of(vec![cs2("a", "%", "pw"), cs2("b", "%", "pw")]);
        let before = set.clone();
        let op = AccountOp::Create {
            accounts: vec![cs2("a", "%", "x"), cs2("c", "%", "y"), cs2("b", "%", "z")],
            if_not_exists: false,
            context: Context::default(),
        };
        let e = apply(&mut set, op).unwrap_err();
        assert_eq!((e.code(), e.sqlstate()), (1396, "HY000"));
        assert_eq!(
            e.to_string(),
            "Operation CREATE USER failed for 'a'@'%','b'@'%'"
        );
        assert_eq!(set, before);
    }

    #[test]
    fn alter_evicts_only_on_credential_change_with_the_stored_host() {
        let mut set = set_of(vec![cs2("a", "localhost", "pw"), cs2("b", "%", "pw")]);
        let mut pw = change("a", "LocalHost");
        pw.credential = Some(native("new"));
        let mut req = change("b", "%");
        req.require = Some(Require::Ssl);
        req.lock = Some(true);
        let applied = apply(
            &mut set,
            AccountOp::Alter {
                changes: vec![pw, req],
                if_exists: false,
                context: Context::default(),
            },
        )
        .unwrap();
        assert_eq!(
            applied.cache,
            CacheEffect::Evict(vec![id("a", "localhost")])
        );
        let a = set.get("a", "localhost").unwrap();
        assert_eq!(a.plugin, Plugin::MysqlNativePassword);
        assert!(a.auth_string.verify_cleartext(b"new"));
        let b = set.get("b", "%").unwrap();
        assert_eq!((b.require.clone(), b.locked), (Require::Ssl, true));
    }

    #[test]
    fn alter_of_require_or_lock_only_leaves_the_cache_alone() {
        let mut set = set_of(vec![cs2("a", "%", "pw")]);
        let mut c = change("a", "%");
        c.require = Some(Require::Ssl);
        let applied = apply(
            &mut set,
            AccountOp::Alter {
                changes: vec![c],
                if_exists: false,
                context: Context::default(),
            },
        )
        .unwrap();
        assert_eq!(applied.cache, CacheEffect::None);
    }

    #[test]
    fn alter_lists_every_failing_account_and_if_exists_turns_missing_into_3162() {
        let mut set = set_of(vec![cs2("a", "%", "pw")]);
        let before = set.clone();
        let mut ok = change("a", "%");
        ok.credential = Some(native("x"));
        // A caching_sha2 string under mysql_native_password is not a valid row.
        let mut invalid = change("a", "%");
        invalid.credential = Some((
            Plugin::MysqlNativePassword,
            set.get("a", "%").unwrap().auth_string.clone(),
        ));
        let e = apply(
            &mut set,
            AccountOp::Alter {
                changes: vec![change("x", "%"), ok.clone(), invalid, change("y", "H")],
                if_exists: false,
                context: Context::default(),
            },
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "Operation ALTER USER failed for 'x'@'%','a'@'%','y'@'h'"
        );
        assert_eq!(set, before);

        let applied = apply(
            &mut set,
            AccountOp::Alter {
                changes: vec![change("x", "%"), ok],
                if_exists: true,
                context: Context::default(),
            },
        )
        .unwrap();
        let codes: Vec<_> = applied.warnings.iter().map(Warning::code).collect();
        assert_eq!(codes, vec![3162]);
        assert_eq!(
            applied.warnings[0].to_string(),
            "Authorization ID 'x'@'%' does not exist."
        );
        assert_eq!(applied.cache, CacheEffect::Evict(vec![id("a", "%")]));
    }

    #[test]
    fn drop_and_rename_evict_the_old_names_lowercased() {
        let mut set = set_of(vec![cs2("a", "localhost", "pw"), cs2("b", "%", "pw")]);
        let applied = apply(
            &mut set,
            AccountOp::Rename {
                pairs: vec![(id("a", "LOCALHOST"), id("c", "%"))],
            },
        )
        .unwrap();
        assert_eq!(
            applied.cache,
            CacheEffect::Evict(vec![id("a", "localhost")])
        );
        let applied = apply(
            &mut set,
            AccountOp::Drop {
                ids: vec![id("b", "%"), id("zz", "X"), id("b", "%")],
                if_exists: true,
            },
        )
        .unwrap();
        assert_eq!(
            applied.cache,
            CacheEffect::Evict(vec![id("b", "%"), id("zz", "x")])
        );
        assert_eq!(applied.warnings.len(), 2, "missing and already dropped");
        assert_eq!(
            set.iter().map(|a| a.user.as_str()).collect::<Vec<_>>(),
            ["c"]
        );
    }

    #[test]
    fn failed_drop_and_rename_change_nothing() {
        let mut set = set_of(vec![cs2("a", "%", "pw"), cs2("b", "%", "pw")]);
        let before = set.clone();
        let e = apply(
            &mut set,
            AccountOp::Drop {
                ids: vec![id("a", "%"), id("x", "%")],
                if_exists: false,
            },
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "Operation DROP USER failed for 'x'@'%'");
        let e = apply(
            &mut set,
            AccountOp::Rename {
                pairs: vec![(id("a", "%"), id("b", "%"))],
            },
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "Operation RENAME USER failed for 'a'@'%'");
        assert_eq!(set, before);
    }

    #[test]
    fn grant_and_revoke_follow_mysql_and_never_touch_the_cache() {
        let mut set = set_of(vec![cs2("a", "%", "pw")]);
        let grant = |g| AccountOp::Grant {
            ids: vec![id("a", "%")],
            with_grant_option: g,
        };
        let applied = apply(&mut set, grant(true)).unwrap();
        assert_eq!(applied.cache, CacheEffect::None);
        apply(&mut set, grant(false)).unwrap();
        let a = set.get("a", "%").unwrap();
        assert!(
            a.admin && a.grant_option,
            "GRANT without the option keeps it"
        );

        // REVOKE ALL ON *.* keeps GRANT OPTION: MySQL's ALL excludes it.
        let revoke = |g| AccountOp::Revoke {
            ids: vec![id("a", "%")],
            grant_option: g,
        };
        apply(&mut set, revoke(false)).unwrap();
        let a = set.get("a", "%").unwrap();
        assert!(!a.admin && a.grant_option);
        apply(&mut set, revoke(true)).unwrap();
        assert!(!set.get("a", "%").unwrap().grant_option);

        let missing = vec![id("a", "%"), id("nobody", "%")];
        let before = set.clone();
        let e = apply(
            &mut set,
            AccountOp::Grant {
                ids: missing.clone(),
                with_grant_option: false,
            },
        )
        .unwrap_err();
        assert_eq!((e.code(), e.sqlstate()), (1410, "42000"));
        let e = apply(
            &mut set,
            AccountOp::Revoke {
                ids: missing.clone(),
                grant_option: false,
            },
        )
        .unwrap_err();
        assert_eq!((e.code(), e.sqlstate()), (1141, "42000"));
        assert_eq!(
            e.to_string(),
            "There is no such grant defined for user 'nobody' on host '%'"
        );
        let e = apply(
            &mut set,
            AccountOp::Revoke {
                ids: missing,
                grant_option: true,
            },
        )
        .unwrap_err();
        assert_eq!((e.code(), e.sqlstate()), (1269, "HY000"));
        assert_eq!(set, before);
    }

    #[test]
    fn cache_effects_apply_to_the_real_cache() {
        let cache = AuthCache::new(8, [9; 16]);
        for user in ["a", "b"] {
            cache.insert(user, "localhost", cached_digest(b"pw"));
        }
        let mut set = set_of(vec![
            cs2("a", "localhost", "pw"),
            cs2("b", "localhost", "pw"),
        ]);
        apply(
            &mut set,
            AccountOp::Drop {
                ids: vec![id("a", "LOCALHOST")],
                if_exists: false,
            },
        )
        .unwrap()
        .cache
        .apply_to(&cache);
        assert!(cache.get("a", "localhost").is_none());
        assert!(cache.get("b", "localhost").is_some());
        apply(&mut set, AccountOp::FlushPrivileges)
            .unwrap()
            .cache
            .apply_to(&cache);
        assert!(cache.is_empty());
    }

    // ---- account-security options ----

    const DAY: u64 = crate::account::SECONDS_PER_DAY;
    const T0: u64 = 1_750_000_000;

    /// An administrator's statement at `now_secs`, with the global policy at its defaults.
    fn at(now_secs: u64) -> Context {
        Context {
            now_secs,
            privileged: true,
            ..Context::default()
        }
    }

    /// `ALTER USER who IDENTIFIED BY 'pw' [REPLACE 'current']` with the account's plugin, hashed
    /// and checked as the command handler does.
    fn new_password(
        set: &AccountSet,
        who: &AccountId,
        pw: &str,
        replace: Option<&str>,
    ) -> AlterChange {
        let a = set.get(&who.0, &who.1).unwrap();
        let auth = AuthString::generate(a.plugin, pw.as_bytes(), [3; 20], 5000);
        let mut c = AlterChange::new(who.clone());
        c.credential = Some((a.plugin, auth));
        c.source = CredentialSource::Password(CleartextChecks::compute(
            a,
            pw.as_bytes(),
            replace.map(str::as_bytes),
        ));
        c
    }

    /// [`new_password`] applied to `set`.
    fn change_password(
        set: &mut AccountSet,
        who: &AccountId,
        pw: &str,
        replace: Option<&str>,
        context: Context,
    ) -> Result<Applied, AccountOpError> {
        let c = new_password(set, who, pw, replace);
        alter_one(set, c, context)
    }

    fn alter_one(
        set: &mut AccountSet,
        c: AlterChange,
        context: Context,
    ) -> Result<Applied, AccountOpError> {
        apply(
            set,
            AccountOp::Alter {
                changes: vec![c],
                if_exists: false,
                context,
            },
        )
    }

    fn create_one(set: &mut AccountSet, a: Account, context: Context) -> Applied {
        apply(
            set,
            AccountOp::Create {
                accounts: vec![a],
                if_not_exists: false,
                context,
            },
        )
        .unwrap()
    }

    fn nat(user: &str, pw: &str) -> Account {
        let (p, auth) = native(pw);
        Account::new(user, "%", p, auth)
    }

    #[test]
    fn retain_makes_the_old_primary_the_secondary() {
        let mut set = set_of(vec![nat("u", "one")]);
        let u = id("u", "%");
        let mut c = new_password(&set, &u, "two", None);
        c.retain_current = true;
        let applied = alter_one(&mut set, c, at(T0)).unwrap();
        assert_eq!(applied.cache, CacheEffect::Evict(vec![u.clone()]));
        assert_eq!(applied.lock_state, LockEffect::None);
        let a = set.get("u", "%").unwrap();
        assert!(a.auth_string.verify_cleartext(b"two"));
        assert!(a.secondary.as_ref().unwrap().verify_cleartext(b"one"));
        assert_eq!(a.credentials().count(), 2);
        assert_eq!(a.password_last_changed, T0);

        // A change without RETAIN keeps the secondary …
        let c = new_password(&set, &u, "three", None);
        alter_one(&mut set, c, at(T0)).unwrap();
        let a = set.get("u", "%").unwrap();
        assert!(a.auth_string.verify_cleartext(b"three"));
        assert!(a.secondary.as_ref().unwrap().verify_cleartext(b"one"));
        // … RETAIN replaces it with the current primary …
        let mut c = new_password(&set, &u, "four", None);
        c.retain_current = true;
        alter_one(&mut set, c, at(T0)).unwrap();
        assert!(set
            .get("u", "%")
            .unwrap()
            .secondary
            .as_ref()
            .unwrap()
            .verify_cleartext(b"three"));
        // … DISCARD OLD PASSWORD removes it, and evicts like a credential change …
        let mut c = AlterChange::new(u.clone());
        c.discard_old = true;
        let applied = alter_one(&mut set, c, at(T0 + DAY)).unwrap();
        assert_eq!(applied.cache, CacheEffect::Evict(vec![u.clone()]));
        let a = set.get("u", "%").unwrap();
        assert_eq!(a.secondary, None);
        assert_eq!(
            a.password_last_changed, T0,
            "DISCARD is not a password change"
        );
        // … and an empty new password empties it.
        let mut c = new_password(&set, &u, "five", None);
        c.retain_current = true;
        alter_one(&mut set, c, at(T0)).unwrap();
        assert!(set.get("u", "%").unwrap().secondary.is_some());
        let c = new_password(&set, &u, "", None);
        alter_one(&mut set, c, at(T0)).unwrap();
        let a = set.get("u", "%").unwrap();
        assert_eq!(
            (a.auth_string.is_empty(), a.secondary.is_none()),
            (true, true)
        );
    }

    #[test]
    fn a_plugin_change_drops_the_secondary_and_cannot_retain() {
        let mut set = set_of(vec![nat("u", "one")]);
        let u = id("u", "%");
        let mut c = new_password(&set, &u, "two", None);
        c.retain_current = true;
        alter_one(&mut set, c, at(T0)).unwrap();
        let sha2 = AuthString::generate(Plugin::CachingSha2Password, b"x", [1; 20], 5000);
        let mut c = AlterChange::new(u.clone());
        c.credential = Some((Plugin::CachingSha2Password, sha2.clone()));
        c.retain_current = true;
        let before = set.clone();
        let e = alter_one(&mut set, c.clone(), at(T0)).unwrap_err();
        assert_eq!((e.code(), e.sqlstate()), (3894, "HY000"));
        assert_eq!(
            e.to_string(),
            "Current password can not be retained for user 'u'@'%' because authentication plugin is being changed."
        );
        assert_eq!(set, before);
        c.retain_current = false;
        alter_one(&mut set, c, at(T0)).unwrap();
        let a = set.get("u", "%").unwrap();
        assert_eq!(
            (a.plugin, a.secondary.clone()),
            (Plugin::CachingSha2Password, None)
        );
    }

    #[test]
    fn retain_refuses_empty_passwords() {
        let mut set = set_of(vec![nat("e", ""), nat("u", "one")]);
        let mut c = new_password(&set, &id("e", "%"), "new", None);
        c.retain_current = true;
        let e = alter_one(&mut set, c, at(T0)).unwrap_err();
        assert_eq!((e.code(), e.sqlstate()), (3878, "HY000"));
        assert_eq!(
            e.to_string(),
            "Empty password can not be retained as second password for user 'e'@'%'."
        );
        let mut c = new_password(&set, &id("u", "%"), "", None);
        c.retain_current = true;
        let e = alter_one(&mut set, c, at(T0)).unwrap_err();
        assert_eq!((e.code(), e.sqlstate()), (3895, "HY000"));
        assert_eq!(
            e.to_string(),
            "Current password can not be retained for user 'u'@'%' because new password is empty."
        );
        // The first such error in statement order is the statement's, even after a missing
        // account, and nothing changes.
        let before = set.clone();
        let mut retain_empty = new_password(&set, &id("u", "%"), "", None);
        retain_empty.retain_current = true;
        let mut from_empty = new_password(&set, &id("e", "%"), "x", None);
        from_empty.retain_current = true;
        let e = apply(
            &mut set,
            AccountOp::Alter {
                changes: vec![
                    change("missing", "%"),
                    new_password(&before, &id("u", "%"), "ok", None),
                    retain_empty,
                    from_empty,
                ],
                if_exists: false,
                context: at(T0),
            },
        )
        .unwrap_err();
        assert_eq!(e.code(), 3895);
        assert_eq!(set, before);
    }

    #[test]
    fn password_expiry_options_and_changes() {
        let mut set = AccountSet::new();
        let mut a = nat("u", "one");
        AccountOptions {
            expire: Some(Expire::Lifetime(PasswordLifetime::Days(30))),
            ..AccountOptions::default()
        }
        .apply_to(&mut a);
        create_one(&mut set, a, at(T0));
        let u = id("u", "%");
        let a = set.get("u", "%").unwrap();
        assert_eq!(
            (a.password_last_changed, a.password_lifetime),
            (T0, PasswordLifetime::Days(30))
        );
        assert!(!a.password_expired_at(T0 + 29 * DAY, 0));
        assert!(a.password_expired_at(T0 + 30 * DAY, 0));
        // PASSWORD EXPIRE: expired now, lifetime kept; no cache or lock effect.
        let mut c = AlterChange::new(u.clone());
        c.options.expire = Some(Expire::Now);
        let applied = alter_one(&mut set, c, at(T0 + DAY)).unwrap();
        assert_eq!(
            (applied.cache, applied.lock_state),
            (CacheEffect::None, LockEffect::None)
        );
        let a = set.get("u", "%").unwrap();
        assert!(a.password_expired && a.password_expired_at(T0 + DAY, 0));
        assert_eq!(a.password_lifetime, PasswordLifetime::Days(30));
        // A password change clears it and restarts the clock …
        let c = new_password(&set, &u, "two", None);
        alter_one(&mut set, c, at(T0 + 40 * DAY)).unwrap();
        let a = set.get("u", "%").unwrap();
        assert!(!a.password_expired);
        assert_eq!(a.password_last_changed, T0 + 40 * DAY);
        assert!(!a.password_expired_at(T0 + 41 * DAY, 0));
        // … unless the same statement says PASSWORD EXPIRE.
        let mut c = new_password(&set, &u, "three", None);
        c.options.expire = Some(Expire::Now);
        alter_one(&mut set, c, at(T0)).unwrap();
        assert!(set.get("u", "%").unwrap().password_expired);
        // IDENTIFIED WITH plugin alone: an empty password, expired.
        let mut c = AlterChange::new(u.clone());
        c.credential = Some((Plugin::Sha256Password, AuthString::Empty));
        c.source = CredentialSource::PluginOnly;
        alter_one(&mut set, c, at(T0)).unwrap();
        let a = set.get("u", "%").unwrap();
        assert!(a.password_expired && a.auth_string.is_empty());
        // NEVER / DEFAULT.
        let mut c = AlterChange::new(u.clone());
        c.options.expire = Some(Expire::Lifetime(PasswordLifetime::Never));
        alter_one(&mut set, c, at(T0)).unwrap();
        assert_eq!(
            set.get("u", "%").unwrap().password_lifetime,
            PasswordLifetime::Never
        );
    }

    #[test]
    fn password_history_refuses_recent_passwords() {
        let mut set = AccountSet::new();
        let mut a = nat("u", "p1");
        a.password_history = Some(2);
        create_one(&mut set, a, at(T0));
        let u = id("u", "%");
        let a = set.get("u", "%").unwrap();
        assert_eq!(a.password_history_entries.len(), 1);
        assert_eq!(a.password_history_entries[0], (T0, a.auth_string.clone()));
        // The current password is in the history.
        let e = change_password(&mut set, &u, "p1", None, at(T0 + 1)).unwrap_err();
        assert_eq!((e.code(), e.sqlstate()), (3638, "HY000"));
        assert_eq!(
            e.to_string(),
            "Cannot use these credentials for 'u@%' because they contradict the password history policy"
        );
        change_password(&mut set, &u, "p2", None, at(T0 + 2)).unwrap();
        assert!(change_password(&mut set, &u, "p1", None, at(T0 + 3)).is_err());
        change_password(&mut set, &u, "p3", None, at(T0 + 4)).unwrap();
        // Two entries kept (p3, p2): p1 is free again.
        let a = set.get("u", "%").unwrap();
        assert_eq!(
            a.password_history_entries
                .iter()
                .map(|(t, _)| *t)
                .collect::<Vec<_>>(),
            [T0 + 4, T0 + 2]
        );
        assert!(change_password(&mut set, &u, "p2", None, at(T0 + 5)).is_err());
        change_password(&mut set, &u, "p1", None, at(T0 + 6)).unwrap();
        // Hashes only: nothing in the history is the cleartext.
        let a = set.get("u", "%").unwrap();
        assert!(a
            .password_history_entries
            .iter()
            .all(|(_, h)| !h.to_bytes().windows(2).any(|w| w == b"p1")));
    }

    #[test]
    fn reuse_interval_counts_calendar_days() {
        let mut set = AccountSet::new();
        let mut a = nat("u", "p1");
        a.password_reuse_interval = Some(10);
        let day0 = T0 - T0 % DAY;
        create_one(&mut set, a, at(day0 + 23 * 3600));
        let u = id("u", "%");
        change_password(&mut set, &u, "p2", None, at(day0 + DAY)).unwrap();
        // Day 9 (from the day p1 was set): refused; day 10: allowed, not yet dropped.
        assert!(change_password(&mut set, &u, "p1", None, at(day0 + 9 * DAY + 1)).is_err());
        change_password(&mut set, &u, "p1", None, at(day0 + 10 * DAY)).unwrap();
        let a = set.get("u", "%").unwrap();
        assert_eq!(a.password_history_entries.len(), 3);
        // Day 30: everything but the new entry is older than the interval and dropped.
        change_password(&mut set, &u, "p3", None, at(day0 + 30 * DAY)).unwrap();
        assert_eq!(set.get("u", "%").unwrap().password_history_entries.len(), 1);
    }

    #[test]
    fn history_follows_the_globals_the_statement_and_the_plugin() {
        let u = id("u", "%");
        // DEFAULT takes the global password_history.
        let mut set = AccountSet::new();
        let global = Context {
            now_secs: T0,
            policy: PasswordPolicy {
                password_history: 1,
                ..PasswordPolicy::default()
            },
            ..Context::default()
        };
        create_one(&mut set, nat("u", "p1"), global.clone());
        assert!(change_password(&mut set, &u, "p1", None, global.clone()).is_err());
        // With the globals at 0 nothing is recorded or checked.
        let mut plain = AccountSet::new();
        create_one(&mut plain, nat("u", "p1"), at(T0));
        assert!(plain
            .get("u", "%")
            .unwrap()
            .password_history_entries
            .is_empty());
        change_password(&mut plain, &u, "p1", None, at(T0)).unwrap();
        // The statement's own PASSWORD HISTORY applies to its password change.
        let mut c = new_password(&plain, &u, "p2", None);
        c.options.password_history = Some(Some(0));
        alter_one(&mut set, c, global.clone()).unwrap();
        assert!(set
            .get("u", "%")
            .unwrap()
            .password_history_entries
            .is_empty());
        // An empty password is never recorded; a hash given AS is recorded unchecked.
        let mut set = AccountSet::new();
        let mut a = nat("u", "p1");
        a.password_history = Some(5);
        create_one(&mut set, a, at(T0));
        change_password(&mut set, &u, "", None, at(T0)).unwrap();
        assert_eq!(set.get("u", "%").unwrap().password_history_entries.len(), 1);
        let mut c = AlterChange::new(u.clone());
        c.credential = Some(native("p1"));
        alter_one(&mut set, c, at(T0)).unwrap();
        assert_eq!(set.get("u", "%").unwrap().password_history_entries.len(), 2);
        // Another plugin wipes it (no old hash can match) and starts afresh.
        let mut c = AlterChange::new(u.clone());
        let sha2 = AuthString::generate(Plugin::CachingSha2Password, b"p1", [1; 20], 5000);
        c.credential = Some((Plugin::CachingSha2Password, sha2.clone()));
        c.source = CredentialSource::Password(CleartextChecks {
            reused: set
                .get("u", "%")
                .unwrap()
                .password_history_entries
                .iter()
                .map(|(_, h)| h.clone())
                .collect(),
            replace_matches: None,
        });
        alter_one(&mut set, c, at(T0)).unwrap();
        assert_eq!(
            set.get("u", "%").unwrap().password_history_entries,
            vec![(T0, sha2)]
        );
    }

    #[test]
    fn replace_and_require_current() {
        let mut set = set_of(vec![nat("me", "cur"), nat("other", "x"), nat("empty", "")]);
        let me = id("me", "%");
        let mut own = Context {
            now_secs: T0,
            actor: Some(me.clone()),
            privileged: false,
            ..Context::default()
        };
        let expect = |r: Result<Applied, AccountOpError>, code: u16, text: &str| {
            let e = r.unwrap_err();
            assert_eq!(
                (e.code(), e.sqlstate(), e.to_string()),
                (code, "HY000", text.to_string())
            );
        };
        // Optional by default: a change without REPLACE passes.
        change_password(&mut set.clone(), &me, "n", None, own.clone()).unwrap();
        // REPLACE must be right …
        expect(
            change_password(&mut set.clone(), &me, "n", Some("wrong"), own.clone()),
            3891,
            "Incorrect current password. Specify the correct password which has to be replaced.",
        );
        change_password(&mut set.clone(), &me, "n", Some("cur"), own.clone()).unwrap();
        // … and only for one's own account.
        expect(
            change_password(
                &mut set.clone(),
                &id("other", "%"),
                "n",
                Some("x"),
                own.clone(),
            ),
            3893,
            "Do not specify the current password while changing it for other users.",
        );
        // An empty current password matches only an empty REPLACE.
        let mut as_empty = own.clone();
        as_empty.actor = Some(id("empty", "%"));
        change_password(
            &mut set.clone(),
            &id("empty", "%"),
            "n",
            Some(""),
            as_empty.clone(),
        )
        .unwrap();
        assert_eq!(
            change_password(
                &mut set.clone(),
                &id("empty", "%"),
                "n",
                Some("x"),
                as_empty
            )
            .unwrap_err()
            .code(),
            3891
        );
        // PASSWORD REQUIRE CURRENT, or DEFAULT with the global ON: REPLACE is needed …
        own.policy.password_require_current = true;
        let missing =
            "Current password needs to be specified in the REPLACE clause in order to change it.";
        expect(
            change_password(&mut set.clone(), &me, "n", None, own.clone()),
            3892,
            missing,
        );
        let mut c = AlterChange::new(me.clone());
        c.credential = Some(native("hash-given"));
        expect(alter_one(&mut set.clone(), c, own.clone()), 3892, missing);
        // … unless the account says OPTIONAL, or the session is privileged.
        set.alter(("me", "%"), |a| a.password_require_current = Some(false))
            .unwrap();
        change_password(&mut set.clone(), &me, "n", None, own.clone()).unwrap();
        set.alter(("me", "%"), |a| a.password_require_current = Some(true))
            .unwrap();
        own.policy.password_require_current = false;
        expect(
            change_password(&mut set.clone(), &me, "n", None, own.clone()),
            3892,
            missing,
        );
        own.privileged = true;
        change_password(&mut set.clone(), &me, "n", None, own.clone()).unwrap();
        // Options without a password change never need REPLACE.
        own.privileged = false;
        let mut c = AlterChange::new(me.clone());
        c.discard_old = true;
        alter_one(&mut set, c, own).unwrap();
    }

    #[test]
    fn the_history_is_checked_before_replace() {
        // MySQL hashes and checks the history before validating REPLACE.
        let mut set = AccountSet::new();
        let mut a = nat("me", "cur");
        a.password_history = Some(3);
        create_one(&mut set, a, at(T0));
        let me = id("me", "%");
        let ctx = Context {
            now_secs: T0,
            actor: Some(me.clone()),
            ..Context::default()
        };
        let e = change_password(&mut set, &me, "cur", Some("wrong"), ctx).unwrap_err();
        assert_eq!(e.code(), 3638);
    }

    #[test]
    fn options_apply_and_lock_state_resets_where_mysql_resets_it() {
        let mut set = AccountSet::new();
        let mut a = nat("u", "pw");
        let options = AccountOptions {
            max_queries_per_hour: Some(10),
            max_user_connections: Some(2),
            password_history: Some(Some(4)),
            password_reuse_interval: Some(None),
            password_require_current: Some(Some(true)),
            failed_login_attempts: Some(3),
            password_lock_time: Some(PasswordLockTime::Unbounded),
            ..AccountOptions::default()
        };
        options.apply_to(&mut a);
        let applied = create_one(&mut set, a, at(T0));
        assert_eq!(applied.lock_state, LockEffect::None);
        let a = set.get("u", "%").unwrap();
        assert_eq!(
            (
                a.max_queries_per_hour,
                a.max_updates_per_hour,
                a.max_user_connections
            ),
            (10, 0, 2)
        );
        assert_eq!(
            (
                a.password_history,
                a.password_reuse_interval,
                a.password_require_current
            ),
            (Some(4), None, Some(true))
        );
        assert!(a.password_locking_active());
        let u = id("u", "%");
        let effect = |set: &mut AccountSet, f: &dyn Fn(&mut AlterChange)| {
            let mut c = AlterChange::new(id("u", "%"));
            f(&mut c);
            alter_one(set, c, at(T0)).unwrap().lock_state
        };
        assert_eq!(
            effect(&mut set, &|c| c.options.failed_login_attempts = Some(5)),
            LockEffect::Reset(vec![u.clone()])
        );
        assert_eq!(
            effect(&mut set, &|c| c.options.password_lock_time =
                Some(PasswordLockTime::Days(1))),
            LockEffect::Reset(vec![u.clone()])
        );
        assert_eq!(
            effect(&mut set, &|c| c.lock = Some(false)),
            LockEffect::Reset(vec![u.clone()])
        );
        assert_eq!(effect(&mut set, &|c| c.lock = Some(true)), LockEffect::None);
        assert_eq!(
            effect(&mut set, &|c| c.options.max_user_connections = Some(0)),
            LockEffect::None
        );
        assert_eq!(
            effect(&mut set, &|c| c.credential = Some(native("n"))),
            LockEffect::None
        );
        let a = set.get("u", "%").unwrap();
        assert_eq!(
            (
                a.failed_login_attempts,
                a.password_lock_time,
                a.max_user_connections
            ),
            (5, PasswordLockTime::Days(1), 0)
        );
        // DROP and RENAME forget the old names; FLUSH PRIVILEGES resets everybody.
        let renamed = apply(
            &mut set,
            AccountOp::Rename {
                pairs: vec![(id("u", "%"), id("v", "%"))],
            },
        )
        .unwrap();
        assert_eq!(renamed.lock_state, LockEffect::Reset(vec![u]));
        let dropped = apply(
            &mut set,
            AccountOp::Drop {
                ids: vec![id("v", "%")],
                if_exists: false,
            },
        )
        .unwrap();
        assert_eq!(dropped.lock_state, LockEffect::Reset(vec![id("v", "%")]));
        assert_eq!(
            apply(&mut set, AccountOp::FlushPrivileges)
                .unwrap()
                .lock_state,
            LockEffect::ResetAll
        );
    }

    #[test]
    fn cleartext_checks_verify_against_the_stored_hashes_only() {
        let mut a = nat("u", "cur");
        a.password_history_entries = vec![(1, native("old").1), (2, native("cur").1)];
        let checks = CleartextChecks::compute(&a, b"old", Some(b"cur"));
        assert_eq!(checks.reused, vec![native("old").1]);
        assert_eq!(checks.replace_matches, Some(true));
        assert_eq!(
            CleartextChecks::compute(&a, b"", None),
            CleartextChecks::default()
        );
        assert_eq!(
            CleartextChecks::compute(&a, b"new", Some(b"x")).replace_matches,
            Some(false)
        );
    }
}

/// Model-based test of the whole authentication story: random sequences of account statements,
/// FLUSH PRIVILEGES, restarts and logins are run against the real pieces — [`AccountSet`] +
/// [`apply`] + [`AuthCache`] + the connection-phase machine driven in memory by scripted clients —
/// and against a small independent model of MySQL's rules. After every step the login outcome (OK
/// by which path, or the error code, or a client that gave up), the statement result, the account
/// rows and the exact cache content must agree.
///
/// The rules the model encodes (docs/protocol.md: "caching_sha2_password: fast path and full
/// authentication", "sha256_password", "The caching_sha2_password cache", "Post-authentication
/// checks", "Secure transports"):
/// * caching_sha2_password: fast path (`01 03`) iff the account's cache entry is the digest of the
///   password the client sends; otherwise full authentication, which needs the cleartext over TLS
///   or the Unix socket, or RSA on plain TCP (a client that cannot do RSA either sends cleartext,
///   which is refused, or gives up); a wrong password against a warm cache degrades to full
///   authentication → 1045 and the entry stays. Only a successful full authentication fills the
///   cache, and it does so *before* the post-password checks (MySQL's plugin adds the entry inside
///   `Caching_sha2_password::authenticate`, then `acl_authenticate` checks REQUIRE / lock), so a
///   login refused for REQUIRE SSL or ACCOUNT LOCK still warms the cache.
/// * sha256_password: cleartext only over TLS (the socket is not secure for it), RSA otherwise;
///   never cached. mysql_native_password: scramble, never cached.
/// * An empty password authenticates (with an empty response, no `01 03`/`01 04`) exactly the
///   accounts without a password; a non-empty one never does.
/// * After the password: REQUIRE SSL unmet → 1045, then ACCOUNT LOCK → 3118, then
///   require_secure_transport on plain TCP → 3159.
/// * Unknown users meet a caching_sha2 decoy: same exchange, always 1045.
/// * Cache eviction per statement as in this module's doc; restart empties the cache and keeps
///   the accounts (written and read back through the accounts file).
#[cfg(test)]
mod model_tests {
    use std::collections::{HashMap, VecDeque};
    use std::net::{IpAddr, Ipv4Addr};
    use std::sync::{Arc, OnceLock};

    use proptest::prelude::*;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{TestCaseError, TestRunner};
    use zeroize::Zeroizing;

    use super::*;
    use crate::account::{parse_accounts, serialize_accounts, ClientHost};
    use crate::auth::{caching_sha2, native, Nonce};
    use crate::handshake::{
        drive, Action, AuthPath, Event, Handshake, HandshakeError, Lookup, RsaDecryptor,
        RsaPublicKey, ServerParams, Session, Transport,
    };
    use crate::wire::capabilities::{CLIENT_CONNECT_ATTRS, CLIENT_PLUGIN_AUTH, CLIENT_SSL};
    use crate::wire::handshake::{
        encode_ssl_request, AuthSwitchRequest, ClientHeader, HandshakeResponse41, HandshakeV10,
    };
    use crate::wire::packets::ErrPacket;

    const USERS: [&str; 3] = ["a", "b", "c"];
    /// A user name no account has.
    const UNKNOWN_USER: &str = "zed";
    /// Host index 0 matches everyone; index 1 only the Unix socket (the TCP peer is not loopback).
    const HOSTS: [&str; 2] = ["%", "localhost"];
    const PASSWORDS: [&str; 4] = ["", "secret", "hunter2", "a-password-longer-than-twenty"];
    const CLIENT_CAPS: u32 = 0x013F_A20D | CLIENT_PLUGIN_AUTH | CLIENT_CONNECT_ATTRS;
    const TCP_PEER: ClientHost = ClientHost::Tcp(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 5)));
    const PEM: &str = "-----BEGIN PUBLIC KEY-----\nFAKE\n-----END PUBLIC KEY-----\n";
    const CS2: Plugin = Plugin::CachingSha2Password;

    /// The stored string of every (plugin, password) pair, hashed once with a fixed salt.
    fn stored(plugin: Plugin, pw: &str) -> AuthString {
        static TABLE: OnceLock<Vec<AuthString>> = OnceLock::new();
        let table = TABLE.get_or_init(|| {
            Plugin::ALL
                .iter()
                .flat_map(|&p| {
                    PASSWORDS
                        .iter()
                        .map(move |pw| AuthString::generate(p, pw.as_bytes(), [7; 20], 5000))
                })
                .collect()
        });
        let p = Plugin::ALL.iter().position(|&q| q == plugin).unwrap();
        let i = PASSWORDS.iter().position(|&q| q == pw).unwrap();
        table[p * PASSWORDS.len() + i].clone()
    }

    // ---------------------------------------------------------------------------------------
    // Steps
    // ---------------------------------------------------------------------------------------

    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    struct Id {
        user: usize,
        host: usize,
    }

    /// An identity as a statement spells it: the host as stored, upper case, or mixed case.
    #[derive(Clone, Copy, Debug)]
    struct Named {
        id: Id,
        case: u8,
    }

    impl Named {
        fn spelled(self) -> AccountId {
            let host = HOSTS[self.id.host];
            let host = match self.case {
                0 => host.to_owned(),
                1 => host.to_ascii_uppercase(),
                _ => host
                    .chars()
                    .enumerate()
                    .map(|(i, c)| {
                        if i % 2 == 0 {
                            c.to_ascii_uppercase()
                        } else {
                            c
                        }
                    })
                    .collect(),
            };
            (USERS[self.id.user].to_owned(), host)
        }
    }

    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    enum Via {
        Tls,
        Tcp,
        Unix,
    }

    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    enum Client {
        /// libmysqlclient with `--get-server-public-key`, PyMySQL: asks for the key (02 for
        /// caching_sha2, 01 for sha256) and encrypts when it needs RSA.
        Full,
        /// mysql-connector-python's pure mode: no RSA, sends the cleartext password anyway.
        NoRsaCleartext,
        /// The mysql CLI without key options: gives up locally (2061) where RSA is needed.
        NoRsaGivesUp,
    }

    #[derive(Clone, Copy, Debug)]
    enum Password {
        /// The password of the account the login resolves to.
        Right,
        Pool(usize),
    }

    #[derive(Clone, Copy, Debug)]
    struct Login {
        /// `None`: the unknown user.
        user: Option<usize>,
        password: Password,
        via: Via,
        client: Client,
        /// The plugin of the client's first response.
        start: Plugin,
        rsa_key: bool,
        require_secure_transport: bool,
        nonce_seed: u8,
    }

    #[derive(Clone, Copy, Debug)]
    enum Step {
        Create {
            who: Named,
            plugin: Plugin,
            pw: usize,
            require_ssl: bool,
            locked: bool,
            if_not_exists: bool,
        },
        AlterPassword {
            who: Named,
            pw: usize,
            if_exists: bool,
        },
        AlterPlugin {
            who: Named,
            plugin: Plugin,
            pw: usize,
        },
        AlterRequire {
            who: Named,
            ssl: bool,
        },
        AlterLock {
            who: Named,
            locked: bool,
        },
        /// `ALTER USER … IDENTIFIED BY 'pw' RETAIN CURRENT PASSWORD` (a non-empty `pw`).
        AlterRetain {
            who: Named,
            pw: usize,
        },
        /// `ALTER USER … DISCARD OLD PASSWORD`.
        DiscardOld {
            who: Named,
        },
        Rename {
            from: Named,
            to: Named,
        },
        Drop {
            who: Named,
            if_exists: bool,
        },
        Grant {
            who: Named,
        },
        FlushPrivileges,
        Restart,
        Login(Login),
    }

    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    enum Outcome {
        Ok(AuthPath),
        Err(u16),
        ClientGaveUp,
    }

    /// Note codes of a successful statement, or its error code.
    type StatementResult = Result<Vec<u16>, u16>;

    // ---------------------------------------------------------------------------------------
    // The reference model
    // ---------------------------------------------------------------------------------------

    #[derive(Clone, Debug)]
    struct ModelAccount {
        plugin: Plugin,
        pw: &'static str,
        /// The secondary password of a dual-password account.
        secondary: Option<&'static str>,
        require_ssl: bool,
        locked: bool,
    }

    #[derive(Default, Debug)]
    struct Model {
        accounts: HashMap<Id, ModelAccount>,
        /// Cached account → the passwords whose digests are in slot 0 and slot 1.
        cached: HashMap<Id, [Option<&'static str>; 2]>,
    }

    impl Model {
        fn statement(&mut self, step: &Step) -> StatementResult {
            let exists = |m: &Model, n: &Named| m.accounts.contains_key(&n.id);
            match *step {
                Step::Create {
                    who,
                    plugin,
                    pw,
                    require_ssl,
                    locked,
                    if_not_exists,
                } => {
                    if exists(self, &who) {
                        return if if_not_exists {
                            Ok(vec![3163])
                        } else {
                            Err(1396)
                        };
                    }
                    let account = ModelAccount {
                        plugin,
                        pw: PASSWORDS[pw],
                        secondary: None,
                        require_ssl,
                        locked,
                    };
                    self.accounts.insert(who.id, account);
                    Ok(vec![])
                }
                Step::AlterPassword { who, pw, if_exists } => {
                    match self.accounts.get_mut(&who.id) {
                        None if if_exists => return Ok(vec![3162]),
                        None => return Err(1396),
                        Some(a) => {
                            a.pw = PASSWORDS[pw];
                            // Without RETAIN the secondary stays, unless the new password is
                            // empty (research note §1.1).
                            if a.pw.is_empty() {
                                a.secondary = None;
                            }
                        }
                    }
                    self.cached.remove(&who.id);
                    Ok(vec![])
                }
                Step::AlterPlugin { who, plugin, pw } => {
                    let a = self.accounts.get_mut(&who.id).ok_or(1396u16)?;
                    if a.plugin != plugin || PASSWORDS[pw].is_empty() {
                        a.secondary = None;
                    }
                    a.plugin = plugin;
                    a.pw = PASSWORDS[pw];
                    self.cached.remove(&who.id);
                    Ok(vec![])
                }
                Step::AlterRetain { who, pw } => {
                    let a = self.accounts.get_mut(&who.id).ok_or(1396u16)?;
                    if a.pw.is_empty() {
                        return Err(3878);
                    }
                    a.secondary = Some(a.pw);
                    a.pw = PASSWORDS[pw];
                    self.cached.remove(&who.id);
                    Ok(vec![])
                }
                Step::DiscardOld { who } => {
                    let a = self.accounts.get_mut(&who.id).ok_or(1396u16)?;
                    a.secondary = None;
                    self.cached.remove(&who.id);
                    Ok(vec![])
                }
                Step::AlterRequire { who, ssl } => {
                    self.accounts.get_mut(&who.id).ok_or(1396u16)?.require_ssl = ssl;
                    Ok(vec![])
                }
                Step::AlterLock { who, locked } => {
                    self.accounts.get_mut(&who.id).ok_or(1396u16)?.locked = locked;
                    Ok(vec![])
                }
                Step::Rename { from, to } => {
                    if !exists(self, &from) || exists(self, &to) {
                        return Err(1396);
                    }
                    let a = self.accounts.remove(&from.id).ok_or(1396u16)?;
                    self.accounts.insert(to.id, a);
                    self.cached.remove(&from.id);
                    Ok(vec![])
                }
                Step::Drop { who, if_exists } => {
                    if self.accounts.remove(&who.id).is_none() {
                        return if if_exists { Ok(vec![3162]) } else { Err(1396) };
                    }
                    self.cached.remove(&who.id);
                    Ok(vec![])
                }
                Step::Grant { who } => {
                    if exists(self, &who) {
                        Ok(vec![])
                    } else {
                        Err(1410)
                    }
                }
                Step::FlushPrivileges | Step::Restart => {
                    self.cached.clear();
                    Ok(vec![])
                }
                Step::Login(_) => unreachable!("logins go through Model::login"),
            }
        }

        /// The account a login resolves to: over the socket `'u'@'localhost'` before `'u'@'%'`;
        /// over TCP (from 10.0.0.5) only `'u'@'%'`.
        fn resolve(&self, user: Option<usize>, via: Via) -> Option<Id> {
            let user = user?;
            let hosts: &[usize] = if via == Via::Unix { &[1, 0] } else { &[0] };
            hosts
                .iter()
                .map(|&host| Id { user, host })
                .find(|id| self.accounts.contains_key(id))
        }

        fn password_for(&self, l: &Login) -> &'static str {
            match l.password {
                Password::Pool(i) => PASSWORDS[i],
                Password::Right => self
                    .resolve(l.user, l.via)
                    .and_then(|id| self.accounts.get(&id))
                    .map_or(PASSWORDS[1], |a| a.pw),
            }
        }

        fn login(&mut self, l: &Login, pw: &'static str) -> Outcome {
            let tls = l.via == Via::Tls;
            let socket = l.via == Via::Unix;
            // Password material in the very first packet: a sha256_password client without TLS
            // needs RSA before the server has said anything.
            if l.start == Plugin::Sha256Password
                && !pw.is_empty()
                && !tls
                && l.client == Client::NoRsaGivesUp
            {
                return Outcome::ClientGaveUp;
            }
            let id = self.resolve(l.user, l.via);
            let account = id.and_then(|id| self.accounts.get(&id)).cloned();
            // Dual passwords: the primary, then the secondary (slot 1 of the cache).
            let slot = account.as_ref().and_then(|a| {
                if a.pw == pw {
                    Some(0)
                } else if a.secondary == Some(pw) {
                    Some(1)
                } else {
                    None
                }
            });
            let right = slot.is_some();
            let after_password = |path| {
                let Some(a) = &account else {
                    return Outcome::Err(1045);
                };
                if a.require_ssl && !tls {
                    Outcome::Err(1045)
                } else if a.locked {
                    Outcome::Err(3118)
                } else if l.require_secure_transport && !tls && !socket {
                    Outcome::Err(3159)
                } else {
                    Outcome::Ok(path)
                }
            };
            if pw.is_empty() {
                return if right {
                    after_password(AuthPath::Other)
                } else {
                    Outcome::Err(1045)
                };
            }
            // Can the password reach the server's hash check? (TLS, the socket for
            // caching_sha2 only, or RSA with a key on the server and a client that does it.)
            let delivered = |secure: bool| match (secure, l.client) {
                (true, _) => Some(true),
                (false, Client::Full) => Some(l.rsa_key),
                (false, Client::NoRsaCleartext) => Some(false),
                (false, Client::NoRsaGivesUp) => None,
            };
            match account.as_ref().map_or(CS2, |a| a.plugin) {
                Plugin::MysqlNativePassword if right => after_password(AuthPath::Other),
                Plugin::MysqlNativePassword => Outcome::Err(1045),
                Plugin::CachingSha2Password => {
                    if let Some(id) = id {
                        let has_secondary = account.as_ref().is_some_and(|a| a.secondary.is_some());
                        let slots = self.cached.get(&id).copied().unwrap_or([None, None]);
                        // Slot 1 only while the account has a secondary: a discarded one never
                        // passes the fast path.
                        if slots[0] == Some(pw) || (has_secondary && slots[1] == Some(pw)) {
                            return after_password(AuthPath::FastPath);
                        }
                    }
                    let Some(delivered) = delivered(tls || socket) else {
                        return Outcome::ClientGaveUp;
                    };
                    match id {
                        Some(id) if delivered && right => {
                            // Filled before REQUIRE / lock / require_secure_transport, in the
                            // slot of the password that matched; the other slot is kept.
                            let entry = self.cached.entry(id).or_insert([None, None]);
                            entry[slot.unwrap_or(0)] = Some(pw);
                            after_password(AuthPath::Full)
                        }
                        _ => Outcome::Err(1045),
                    }
                }
                Plugin::Sha256Password => match delivered(tls) {
                    None => Outcome::ClientGaveUp,
                    Some(true) if right => after_password(AuthPath::Full),
                    Some(_) => Outcome::Err(1045),
                },
            }
        }
    }

    // ---------------------------------------------------------------------------------------
    // The system under test
    // ---------------------------------------------------------------------------------------

    /// Test RSA: the "ciphertext" is the plaintext padded with 0xAA to the 256-byte modulus (the
    /// obfuscated plaintext ends in `0 ⊕ nonce byte`, never 0xAA).
    struct FakeRsa;

    impl RsaDecryptor for FakeRsa {
        fn decrypt(&self, ct: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
            if ct.len() != 256 {
                return None;
            }
            let end = ct.iter().rposition(|&b| b != 0xAA).map_or(0, |p| p + 1);
            Some(Zeroizing::new(ct[..end].to_vec()))
        }
    }

    fn fake_encrypt(pw: &str, nonce: &Nonce) -> Vec<u8> {
        let mut ct = crate::auth::obfuscate_password_for_rsa(pw.as_bytes(), nonce).to_vec();
        ct.resize(256, 0xAA);
        ct
    }

    fn cleartext(pw: &str) -> Vec<u8> {
        let mut p = pw.as_bytes().to_vec();
        p.push(0);
        p
    }

    /// The client's first response for `plugin` (HandshakeResponse41 or AuthSwitchResponse);
    /// `None`: the client gives up.
    fn first_response(plugin: Plugin, pw: &str, nonce: &Nonce, l: &Login) -> Option<Vec<u8>> {
        if pw.is_empty() {
            return Some(Vec::new());
        }
        Some(match plugin {
            Plugin::MysqlNativePassword => native::client_scramble(pw.as_bytes(), nonce).to_vec(),
            Plugin::CachingSha2Password => {
                caching_sha2::client_scramble(pw.as_bytes(), nonce).to_vec()
            }
            // libmysqlclient's sha256_password counts only TLS as secure.
            Plugin::Sha256Password if l.via == Via::Tls => cleartext(pw),
            Plugin::Sha256Password => match l.client {
                Client::Full => vec![0x01],
                Client::NoRsaCleartext => cleartext(pw),
                Client::NoRsaGivesUp => return None,
            },
        })
    }

    /// The client's answer to `01 04`; `None`: it gives up.
    fn full_auth_response(pw: &str, l: &Login) -> Option<Vec<u8>> {
        if l.via != Via::Tcp {
            return Some(cleartext(pw));
        }
        match l.client {
            Client::Full => Some(vec![0x02]),
            Client::NoRsaCleartext => Some(cleartext(pw)),
            Client::NoRsaGivesUp => None,
        }
    }

    struct Sut {
        set: AccountSet,
        cache: AuthCache,
    }

    /// One connection: the machine, the driver's side effects and the bytes in flight.
    /// The model's environment for the machine: packets into the inbox, accounts and cache of
    /// the system under test, as `server::conn` does.
    struct ModelEnv<'a> {
        sut: &'a Sut,
        client_host: ClientHost,
        inbox: &'a mut VecDeque<(u8, Vec<u8>)>,
        require_not_met: &'a mut bool,
    }

    impl drive::Environment for ModelEnv<'_> {
        type Error = std::convert::Infallible;

        async fn send(&mut self, bytes: Vec<u8>) -> Result<(), std::convert::Infallible> {
            let mut rest = &bytes[..];
            while !rest.is_empty() {
                let len =
                    usize::from(rest[0]) | usize::from(rest[1]) << 8 | usize::from(rest[2]) << 16;
                self.inbox.push_back((rest[3], rest[4..4 + len].to_vec()));
                rest = &rest[4 + len..];
            }
            Ok(())
        }

        async fn start_tls(
            &mut self,
        ) -> Result<crate::handshake::TlsInfo, std::convert::Infallible> {
            Ok(crate::handshake::TlsInfo {
                version: "TLSv1.3".into(),
                cipher: "TLS_AES_128_GCM_SHA256".into(),
                peer_cert: None,
                resumed: false,
            })
        }

        async fn lookup(&mut self, user: String) -> crate::handshake::Lookup {
            self.sut.lookup(&user, &self.client_host)
        }

        async fn slow_check(
            &mut self,
            check: crate::handshake::SlowCheck,
        ) -> crate::handshake::Verdict {
            check.run(Some(&FakeRsa))
        }

        fn fill_cache(
            &mut self,
            user: String,
            host: String,
            slot: usize,
            digest: crate::auth::CachedDigest,
            verified: AuthString,
        ) {
            crate::handshake::fill_cache_if_current(
                &self.sut.set,
                &self.sut.cache,
                &user,
                &host,
                slot,
                digest,
                &verified,
            );
        }

        async fn admit(
            &mut self,
            _session: &Session,
        ) -> Result<(), crate::wire::packets::ErrPacket> {
            Ok(())
        }

        fn require_not_met(&mut self, _reason: crate::handshake::RequireFailure) {
            *self.require_not_met = true;
        }
    }

    struct Conn<'a> {
        sut: &'a Sut,
        client_host: ClientHost,
        hs: Handshake,
        inbox: VecDeque<(u8, Vec<u8>)>,
        next_seq: u8,
        session: Option<Session>,
        require_not_met: bool,
        failed: Option<HandshakeError>,
        closed: bool,
    }

    impl Conn<'_> {
        /// Carries out actions as `server::conn` does.
        fn carry(&mut self, actions: Vec<Action>) {
            let mut env = ModelEnv {
                sut: self.sut,
                client_host: self.client_host,
                inbox: &mut self.inbox,
                require_not_met: &mut self.require_not_met,
            };
            match drive::run_ready(drive::carry(&mut self.hs, actions, &mut env)) {
                Some(Ok(drive::Step::NeedPacket)) => {}
                Some(Ok(drive::Step::Authenticated(s))) => self.session = Some(*s),
                Some(Ok(drive::Step::Closed { error, .. })) => {
                    self.failed = error;
                    self.closed = true;
                }
                Some(Err(never)) => match never {},
                None => panic!("the model's environment is synchronous"),
            }
        }

        fn send(&mut self, payload: &[u8]) {
            let seq = self.hs.expected_seq();
            assert_eq!(
                seq, self.next_seq,
                "client and server disagree on the sequence id"
            );
            self.next_seq = seq.wrapping_add(1);
            let actions = self.hs.handle(Event::Packet { seq, payload });
            self.carry(actions);
        }

        fn recv(&mut self) -> Vec<u8> {
            let (seq, payload) = self.inbox.pop_front().expect("the server went silent");
            assert_eq!(seq, self.next_seq, "server packet out of sequence");
            self.next_seq = seq.wrapping_add(1);
            payload
        }

        fn gave_up(&self) -> Outcome {
            assert!(self.inbox.is_empty() && self.session.is_none() && self.failed.is_none());
            assert!(!self.require_not_met);
            assert!(self.hs.wants_packet(), "the server waits for the client");
            Outcome::ClientGaveUp
        }
    }

    impl Sut {
        fn new() -> Sut {
            Sut {
                set: AccountSet::new(),
                cache: AuthCache::new(64, [9; 16]),
            }
        }

        /// As `server::Shared::lookup`, with a fixed decoy plugin for unknown users.
        fn lookup(&self, user: &str, client: &ClientHost) -> Lookup {
            match self.set.lookup_shared(user, client) {
                Some(a) => Lookup::Found {
                    cached: if a.plugin == CS2 {
                        self.cache.get(&a.user, &a.host)
                    } else {
                        None
                    },
                    cached_secondary: if a.plugin == CS2 && a.secondary.is_some() {
                        self.cache.get_slot(&a.user, &a.host, 1)
                    } else {
                        None
                    },
                    account: a,
                },
                None => Lookup::Unknown { decoy_plugin: CS2 },
            }
        }

        fn statement(&mut self, step: &Step) -> StatementResult {
            let credential =
                |plugin: Plugin, pw: usize| Some((plugin, stored(plugin, PASSWORDS[pw])));
            let change = |who: Named| AlterChange::new(who.spelled());
            let alter = |changes| AccountOp::Alter {
                changes,
                if_exists: false,
                context: Context::default(),
            };
            let op = match *step {
                Step::Create {
                    who,
                    plugin,
                    pw,
                    require_ssl,
                    locked,
                    if_not_exists,
                } => {
                    let (user, host) = who.spelled();
                    let mut a = Account::new(&user, &host, plugin, stored(plugin, PASSWORDS[pw]));
                    if require_ssl {
                        a.require = Require::Ssl;
                    }
                    a.locked = locked;
                    AccountOp::Create {
                        accounts: vec![a],
                        if_not_exists,
                        context: Context::default(),
                    }
                }
                Step::AlterPassword { who, pw, if_exists } => {
                    // `IDENTIFIED BY` keeps the plugin: the command handler reads it first.
                    let (user, host) = who.spelled();
                    let plugin = self.set.get(&user, &host).map(|a| a.plugin);
                    let mut c = change(who);
                    c.credential = plugin.and_then(|p| credential(p, pw));
                    AccountOp::Alter {
                        changes: vec![c],
                        if_exists,
                        context: Context::default(),
                    }
                }
                Step::AlterPlugin { who, plugin, pw } => {
                    let mut c = change(who);
                    c.credential = credential(plugin, pw);
                    alter(vec![c])
                }
                Step::AlterRequire { who, ssl } => {
                    let mut c = change(who);
                    c.require = Some(if ssl { Require::Ssl } else { Require::None });
                    alter(vec![c])
                }
                Step::AlterLock { who, locked } => {
                    let mut c = change(who);
                    c.lock = Some(locked);
                    alter(vec![c])
                }
                Step::AlterRetain { who, pw } => {
                    let (user, host) = who.spelled();
                    let plugin = self.set.get(&user, &host).map(|a| a.plugin);
                    let mut c = change(who);
                    c.credential = plugin.and_then(|p| credential(p, pw));
                    c.retain_current = true;
                    alter(vec![c])
                }
                Step::DiscardOld { who } => {
                    let mut c = change(who);
                    c.discard_old = true;
                    alter(vec![c])
                }
                Step::Rename { from, to } => AccountOp::Rename {
                    pairs: vec![(from.spelled(), to.spelled())],
                },
                Step::Drop { who, if_exists } => AccountOp::Drop {
                    ids: vec![who.spelled()],
                    if_exists,
                },
                Step::Grant { who } => AccountOp::Grant {
                    ids: vec![who.spelled()],
                    with_grant_option: false,
                },
                Step::FlushPrivileges => AccountOp::FlushPrivileges,
                Step::Restart | Step::Login(_) => unreachable!("not a statement"),
            };
            match apply(&mut self.set, op) {
                Ok(applied) => {
                    applied.cache.apply_to(&self.cache);
                    Ok(applied.warnings.iter().map(Warning::code).collect())
                }
                Err(e) => Err(e.code()),
            }
        }

        /// Shutdown and start: the cache is memory only; the accounts go through the file format.
        fn restart(&mut self) {
            let text = serialize_accounts(&self.set);
            let back = parse_accounts(&text).expect("the accounts file reads back");
            assert_eq!(back, self.set, "accounts file round trip");
            self.set = back;
            self.cache = AuthCache::new(64, [9; 16]);
        }

        fn login(&self, l: &Login, pw: &str) -> Outcome {
            let client_host = if l.via == Via::Unix {
                ClientHost::Unix
            } else {
                TCP_PEER
            };
            let seed = l.nonce_seed;
            let params = ServerParams {
                server_version: "8.0.40-vestibule".into(),
                connection_id: 1,
                tls_available: true,
                transport: if l.via == Via::Unix {
                    Transport::Unix
                } else {
                    Transport::Tcp
                },
                client_host: client_host.display_host().into(),
                default_plugin: CS2,
                rsa: l.rsa_key.then(|| RsaPublicKey {
                    pem: Arc::from(PEM),
                    modulus_len: 256,
                }),
                rsa_sha256: l.rsa_key.then(|| RsaPublicKey {
                    pem: Arc::from(PEM),
                    modulus_len: 256,
                }),
                require_secure_transport: l.require_secure_transport,
                reserved_admin_slot: false,
                admission: false,
                derive_secret: false,
                now_secs: 0,
                default_password_lifetime: 0,
                disconnect_on_expired_password: true,
                databases: Some(Arc::from(Vec::<String>::new())),
                nonce: Nonce::from_random(std::array::from_fn(|i| {
                    seed.wrapping_add((i as u8).wrapping_mul(37))
                })),
                switch_nonce: Nonce::from_random(std::array::from_fn(|i| {
                    seed.wrapping_mul(3)
                        .wrapping_add((i as u8).wrapping_mul(11))
                        ^ 0x55
                })),
                digest_rounds: crate::auth::DEFAULT_DIGEST_ROUNDS,
                capabilities: crate::wire::capabilities::SERVER_CAPABILITIES,
                character_set: 255,
            };
            let (hs, actions) = Handshake::new(params);
            let mut c = Conn {
                sut: self,
                client_host,
                hs,
                inbox: VecDeque::new(),
                next_seq: 0,
                session: None,
                require_not_met: false,
                failed: None,
                closed: false,
            };
            c.carry(actions);
            let greeting = HandshakeV10::parse(&c.recv()).expect("greeting");
            let mut nonce = Nonce::from_wire(greeting.nonce);
            let mut plugin = l.start;
            let header = ClientHeader {
                capabilities: CLIENT_CAPS | if l.via == Via::Tls { CLIENT_SSL } else { 0 },
                max_packet_size: 1 << 24,
                character_set: 255,
            };
            if l.via == Via::Tls {
                c.send(&encode_ssl_request(&header));
                assert!(
                    c.inbox.is_empty(),
                    "nothing is sent before the TLS handshake"
                );
            }
            let Some(first) = first_response(plugin, pw, &nonce, l) else {
                return c.gave_up();
            };
            let user = l.user.map_or(UNKNOWN_USER, |u| USERS[u]);
            let response = HandshakeResponse41 {
                header,
                username: user.as_bytes().to_vec(),
                auth_response: first,
                database: None,
                client_plugin: Some(plugin.name().as_bytes().to_vec()),
                connect_attrs: Vec::new(),
                zstd_level: None,
            };
            c.send(&response.encode());
            let mut fast = false;
            loop {
                let p = c.recv();
                match p.first() {
                    Some(0x00) => {
                        let s = c.session.as_ref().expect("OK without a session");
                        assert!(c.hs.is_finished() && c.inbox.is_empty() && c.failed.is_none());
                        assert_eq!(s.auth_path == AuthPath::FastPath, fast, "01 03 ⇔ FastPath");
                        assert_eq!(s.plugin, plugin);
                        return Outcome::Ok(s.auth_path);
                    }
                    Some(0xFF) => {
                        let e = ErrPacket::parse(&p).expect("ERR packet");
                        let reported = c.failed.as_ref().map(|f| f.code().0);
                        assert_eq!(reported, Some(e.code), "ERR packet ⇔ Failed action");
                        assert!(c.closed && c.inbox.is_empty() && c.session.is_none());
                        assert!(!c.require_not_met || e.code == 1045, "REQUIRE → 1045");
                        return Outcome::Err(e.code);
                    }
                    Some(0xFE) => {
                        assert!(!fast, "no switch after 01 03");
                        let sw = AuthSwitchRequest::parse(&p).expect("AuthSwitchRequest");
                        plugin = Plugin::from_name(&sw.plugin_name).expect("known plugin");
                        assert_eq!(sw.plugin_data.len(), 21, "20-byte nonce + NUL");
                        nonce = Nonce::from_wire(sw.plugin_data[..20].try_into().unwrap());
                        match first_response(plugin, pw, &nonce, l) {
                            Some(r) => c.send(&r),
                            None => return c.gave_up(),
                        }
                    }
                    Some(0x01) => match &p[1..] {
                        [0x03] => {
                            assert_eq!(plugin, CS2);
                            fast = true;
                        }
                        [0x04] => match full_auth_response(pw, l) {
                            Some(r) => c.send(&r),
                            None => return c.gave_up(),
                        },
                        pem => {
                            assert_eq!(pem, PEM.as_bytes(), "AuthMoreData is the public key");
                            c.send(&fake_encrypt(pw, &nonce));
                        }
                    },
                    _ => panic!("unexpected server packet {p:02x?}"),
                }
            }
        }

        /// Account rows and the exact cache content against the model.
        fn check_against(&self, m: &Model) -> Result<(), TestCaseError> {
            for (user, u) in USERS.into_iter().enumerate() {
                for (host, h) in HOSTS.into_iter().enumerate() {
                    let id = Id { user, host };
                    match (self.set.get(u, h), m.accounts.get(&id)) {
                        (None, None) => {}
                        (Some(a), Some(e)) => {
                            let require = if e.require_ssl {
                                Require::Ssl
                            } else {
                                Require::None
                            };
                            prop_assert_eq!(a.plugin, e.plugin, "plugin of {}@{}", u, h);
                            prop_assert!(a.auth_string == stored(e.plugin, e.pw), "credential");
                            prop_assert!(
                                a.secondary == e.secondary.map(|pw| stored(e.plugin, pw)),
                                "secondary of {}@{}",
                                u,
                                h
                            );
                            prop_assert_eq!(&a.require, &require, "REQUIRE of {}@{}", u, h);
                            prop_assert_eq!(a.locked, e.locked, "lock of {}@{}", u, h);
                        }
                        (got, want) => {
                            prop_assert!(false, "{}@{}: set {:?}, model {:?}", u, h, got, want)
                        }
                    }
                    let want = m.cached.get(&id).copied().unwrap_or([None, None]);
                    for (slot, pw) in want.iter().enumerate() {
                        let digest = pw.map(|pw| caching_sha2::cached_digest(pw.as_bytes()));
                        let got = self.cache.get_slot(u, h, slot);
                        prop_assert!(
                            got == digest,
                            "cache slot {} of {}@{}: present={}, model={:?}",
                            slot,
                            u,
                            h,
                            got.is_some(),
                            want
                        );
                    }
                }
            }
            prop_assert_eq!(self.set.len(), m.accounts.len());
            prop_assert_eq!(self.cache.len(), m.cached.len());
            Ok(())
        }
    }

    /// Runs the steps against both; returns every login's outcome.
    fn run(steps: &[Step]) -> Result<Vec<Outcome>, TestCaseError> {
        let mut model = Model::default();
        let mut sut = Sut::new();
        let mut outcomes = Vec::new();
        for (i, step) in steps.iter().enumerate() {
            match step {
                Step::Login(l) => {
                    let pw = model.password_for(l);
                    let want = model.login(l, pw);
                    let got = sut.login(l, pw);
                    prop_assert_eq!(got, want, "step {}: {:?} with password {:?}", i, l, pw);
                    outcomes.push(got);
                }
                Step::Restart => {
                    model.statement(step).ok();
                    sut.restart();
                }
                _ => {
                    let want = model.statement(step);
                    let got = sut.statement(step);
                    prop_assert_eq!(got, want, "step {}: {:?}", i, step);
                }
            }
            sut.check_against(&model)?;
        }
        Ok(outcomes)
    }

    // ---------------------------------------------------------------------------------------
    // Generators
    // ---------------------------------------------------------------------------------------

    fn named() -> impl Strategy<Value = Named> {
        (0..USERS.len(), prop::bool::weighted(0.35), 0u8..3).prop_map(|(user, local, case)| Named {
            id: Id {
                user,
                host: usize::from(local),
            },
            case,
        })
    }

    fn plugin() -> impl Strategy<Value = Plugin> {
        prop_oneof![
            2 => Just(Plugin::CachingSha2Password),
            1 => Just(Plugin::MysqlNativePassword),
            1 => Just(Plugin::Sha256Password),
        ]
    }

    fn password() -> impl Strategy<Value = usize> {
        prop_oneof![1 => Just(0usize), 4 => 1..PASSWORDS.len()]
    }

    fn login() -> impl Strategy<Value = Login> {
        (
            prop_oneof![8 => (0..USERS.len()).prop_map(Some), 1 => Just(None)],
            prop_oneof![4 => Just(Password::Right), 1 => (0..PASSWORDS.len()).prop_map(Password::Pool)],
            prop::sample::select(vec![Via::Tls, Via::Tcp, Via::Unix]),
            prop_oneof![
                3 => Just(Client::Full),
                1 => Just(Client::NoRsaCleartext),
                1 => Just(Client::NoRsaGivesUp),
            ],
            plugin(),
            prop::bool::weighted(0.7),
            prop::bool::weighted(0.15),
            any::<u8>(),
        )
            .prop_map(
                |(user, password, via, client, start, rsa_key, rst, nonce_seed)| Login {
                    user,
                    password,
                    via,
                    client,
                    start,
                    rsa_key,
                    require_secure_transport: rst,
                    nonce_seed,
                },
            )
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            4 => (
                named(),
                plugin(),
                password(),
                prop::bool::weighted(0.25),
                prop::bool::weighted(0.15),
                any::<bool>(),
            )
                .prop_map(|(who, plugin, pw, require_ssl, locked, if_not_exists)| Step::Create {
                    who, plugin, pw, require_ssl, locked, if_not_exists,
                }),
            2 => (named(), password(), any::<bool>())
                .prop_map(|(who, pw, if_exists)| Step::AlterPassword { who, pw, if_exists }),
            1 => (named(), plugin(), password())
                .prop_map(|(who, plugin, pw)| Step::AlterPlugin { who, plugin, pw }),
            1 => (named(), any::<bool>()).prop_map(|(who, ssl)| Step::AlterRequire { who, ssl }),
            1 => (named(), any::<bool>()).prop_map(|(who, locked)| Step::AlterLock { who, locked }),
            2 => (named(), 1..PASSWORDS.len()).prop_map(|(who, pw)| Step::AlterRetain { who, pw }),
            1 => named().prop_map(|who| Step::DiscardOld { who }),
            2 => (named(), named()).prop_map(|(from, to)| Step::Rename { from, to }),
            1 => (named(), any::<bool>()).prop_map(|(who, if_exists)| Step::Drop { who, if_exists }),
            1 => named().prop_map(|who| Step::Grant { who }),
            1 => Just(Step::FlushPrivileges),
            1 => Just(Step::Restart),
            12 => login().prop_map(Step::Login),
        ]
    }

    /// Three `'u'@'%'` accounts and one `'u'@'localhost'` to start with (so most logins meet an
    /// account, and socket logins meet the more specific one), then up to 30 random steps.
    fn scenario() -> impl Strategy<Value = Vec<Step>> {
        let create = |user: usize, host: usize| {
            (
                plugin(),
                password(),
                prop::bool::weighted(0.2),
                prop::bool::weighted(0.1),
            )
                .prop_map(move |(plugin, pw, require_ssl, locked)| Step::Create {
                    who: who(user, host, 0),
                    plugin,
                    pw,
                    require_ssl,
                    locked,
                    if_not_exists: false,
                })
        };
        let initial = (create(0, 0), create(1, 0), create(2, 0));
        let local = (0..USERS.len()).prop_flat_map(move |user| create(user, 1));
        (initial, local, prop::collection::vec(step(), 1..=30)).prop_map(
            |((a, b, c), local, more)| {
                let mut steps = vec![a, b, c, local];
                steps.extend(more);
                steps
            },
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 192, ..ProptestConfig::default() })]

        #[test]
        fn logins_and_the_cache_follow_the_mysql_model(steps in scenario()) {
            run(&steps)?;
        }
    }

    /// The generator is only useful if it reaches every kind of outcome (the counts are printed
    /// with `--nocapture`).
    #[test]
    fn the_generator_reaches_every_outcome() {
        let mut runner = TestRunner::deterministic();
        let strategy = scenario();
        let mut seen: Vec<(Outcome, usize)> = Vec::new();
        for _ in 0..128 {
            let steps = strategy.new_tree(&mut runner).unwrap().current();
            let mut m = Model::default();
            for s in &steps {
                match s {
                    Step::Login(l) => {
                        let pw = m.password_for(l);
                        let o = m.login(l, pw);
                        match seen.iter_mut().find(|(x, _)| *x == o) {
                            Some((_, n)) => *n += 1,
                            None => seen.push((o, 1)),
                        }
                    }
                    _ => {
                        m.statement(s).ok();
                    }
                }
            }
        }
        println!("login outcomes over 128 sequences: {seen:?}");
        for want in [
            Outcome::Ok(AuthPath::FastPath),
            Outcome::Ok(AuthPath::Full),
            Outcome::Ok(AuthPath::Other),
            Outcome::Err(1045),
            Outcome::Err(3118),
            Outcome::Err(3159),
            Outcome::ClientGaveUp,
        ] {
            assert!(
                seen.iter().any(|(o, n)| *o == want && *n >= 3),
                "{want:?} (almost) never generated; saw {seen:?}"
            );
        }
    }

    fn who(user: usize, host: usize, case: u8) -> Named {
        Named {
            id: Id { user, host },
            case,
        }
    }

    fn socket_login(user: usize, pw: usize) -> Step {
        Step::Login(Login {
            user: Some(user),
            password: Password::Pool(pw),
            via: Via::Unix,
            client: Client::NoRsaGivesUp,
            start: CS2,
            rsa_key: false,
            require_secure_transport: false,
            nonce_seed: 9,
        })
    }

    /// `ALTER USER 'a'@'LOCALHOST' IDENTIFIED BY …` must evict the entry filled for
    /// `'a'@'localhost'`: afterwards the old password degrades to full authentication and fails.
    #[test]
    fn a_credential_change_spelled_in_upper_case_still_evicts() {
        let a_local = who(0, 1, 0);
        let outcomes = run(&[
            Step::Create {
                who: a_local,
                plugin: CS2,
                pw: 1,
                require_ssl: false,
                locked: false,
                if_not_exists: false,
            },
            socket_login(0, 1),
            socket_login(0, 1),
            Step::AlterPassword {
                who: who(0, 1, 1),
                pw: 2,
                if_exists: false,
            },
            socket_login(0, 1),
            socket_login(0, 2),
            Step::Drop {
                who: who(0, 1, 2),
                if_exists: false,
            },
            Step::Create {
                who: a_local,
                plugin: CS2,
                pw: 3,
                require_ssl: false,
                locked: false,
                if_not_exists: false,
            },
            socket_login(0, 2),
        ])
        .unwrap();
        assert_eq!(
            outcomes,
            [
                Outcome::Ok(AuthPath::Full),
                Outcome::Ok(AuthPath::FastPath),
                Outcome::Err(1045),
                Outcome::Ok(AuthPath::Full),
                Outcome::Err(1045),
            ]
        );
    }

    /// The plugin fills the cache before REQUIRE is checked, as in MySQL: a correct password over
    /// the socket is refused for REQUIRE SSL yet warms the cache, so the next TCP login takes the
    /// fast path (and is refused again), and a TLS login then succeeds on the fast path.
    #[test]
    fn a_login_refused_for_require_ssl_still_fills_the_cache() {
        let tcp = |via| {
            Step::Login(Login {
                user: Some(1),
                password: Password::Right,
                via,
                client: Client::NoRsaGivesUp,
                start: CS2,
                rsa_key: false,
                require_secure_transport: false,
                nonce_seed: 200,
            })
        };
        let outcomes = run(&[
            Step::Create {
                who: who(1, 0, 0),
                plugin: CS2,
                pw: 2,
                require_ssl: true,
                locked: false,
                if_not_exists: false,
            },
            tcp(Via::Tcp),
            socket_login(1, 2),
            tcp(Via::Tcp),
            tcp(Via::Tls),
            Step::AlterRequire {
                who: who(1, 0, 0),
                ssl: false,
            },
            tcp(Via::Tcp),
            Step::FlushPrivileges,
            tcp(Via::Tcp),
        ])
        .unwrap();
        assert_eq!(
            outcomes,
            [
                Outcome::ClientGaveUp,
                Outcome::Err(1045),
                Outcome::Err(1045),
                Outcome::Ok(AuthPath::FastPath),
                Outcome::Ok(AuthPath::FastPath),
                Outcome::ClientGaveUp,
            ]
        );
    }
}
