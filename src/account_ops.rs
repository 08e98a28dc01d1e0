//! Account-management statements as pure, all-or-nothing transitions of an [`AccountSet`], and
//! what each one does to the caching_sha2_password cache.
//!
//! Owns: the statement semantics of CREATE / ALTER / DROP / RENAME USER, GRANT / REVOKE (`ALL ON
//! *.*`) and FLUSH PRIVILEGES — 1396 listing every failing account, 3162 / 3163 notes for
//! `IF [NOT] EXISTS`, a failed statement changes nothing (MySQL 8.0's atomic ACL DDL) — and the
//! cache rules of MySQL's built-in `sha2_cache_cleaner` audit plugin (reference §6.1, manual
//! 6.4.1.2 "SHA-2 プラガブル認証のキャッシュ操作"): an account's entry is removed when its
//! credential or plugin changes (`ALTER USER … IDENTIFIED …`, `SET PASSWORD`), when it is renamed
//! (old name) or dropped; FLUSH PRIVILEGES empties the cache; REQUIRE, ACCOUNT LOCK and GRANT /
//! REVOKE leave it alone; and a statement that fails touches nothing (the cleaner ignores events
//! whose status is an error).
//!
//! Never does: privilege checks (who may run a statement is the command handler's business),
//! password hashing (callers pass finished [`AuthString`]s, hashed off the reactor), I/O or
//! persistence, and it never touches the cache itself: [`apply`] returns a [`CacheEffect`] for the
//! caller to carry out with [`CacheEffect::apply_to`] once the new set is published.
//!
//! Cache keys are account identities as *stored*: the user exactly, the host lowercased (the set
//! stores hosts lowercase and compares them ASCII case-insensitively), so `DROP USER
//! 'u'@'LOCALHOST'` evicts the entry filled for `'u'@'localhost'`.

use crate::account::{account_name, Account, AccountError, AccountId, AccountSet, Require, Warning};
use crate::auth::{AuthString, Plugin};
use crate::cache::AuthCache;

/// One account's part of an `ALTER USER` statement (or of `SET PASSWORD`).
#[derive(Clone, Debug)]
pub struct AlterChange {
    pub id: AccountId,
    /// `IDENTIFIED [WITH plugin] [BY 'pw' | AS 'hash']`: the new plugin and stored string (for a
    /// plain `IDENTIFIED BY`, the account's current plugin). `Some` evicts the cache entry even if
    /// the password is the same, as MySQL's CREDENTIAL_CHANGE event does.
    pub credential: Option<(Plugin, AuthString)>,
    /// `REQUIRE …` (statement-wide in MySQL's grammar, repeated per account here).
    pub require: Option<Require>,
    /// `ACCOUNT LOCK` (`true`) / `ACCOUNT UNLOCK` (`false`).
    pub lock: Option<bool>,
}

/// An account-management statement, with user names resolved (`CURRENT_USER` already replaced by
/// the session's account) and credentials already hashed.
#[derive(Clone, Debug)]
pub enum AccountOp {
    /// `CREATE USER [IF NOT EXISTS] a, b, …`.
    Create {
        accounts: Vec<Account>,
        if_not_exists: bool,
    },
    /// `ALTER USER [IF EXISTS] a …, b …` and `SET PASSWORD [FOR a] = …`.
    Alter {
        changes: Vec<AlterChange>,
        if_exists: bool,
    },
    /// `DROP USER [IF EXISTS] a, b, …`.
    Drop { ids: Vec<AccountId>, if_exists: bool },
    /// `RENAME USER old TO new, …` (pairs applied in order).
    Rename { pairs: Vec<(AccountId, AccountId)> },
    /// `GRANT ALL ON *.* TO a, … [WITH GRANT OPTION]`.
    Grant {
        ids: Vec<AccountId>,
        with_grant_option: bool,
    },
    /// `REVOKE ALL [PRIVILEGES] ON *.* FROM a, …` (`grant_option: false`) or `REVOKE ALL
    /// [PRIVILEGES], GRANT OPTION FROM a, …` (`grant_option: true`). Only the second form takes
    /// GRANT OPTION away: MySQL's `ALL` excludes GRANT OPTION.
    Revoke {
        ids: Vec<AccountId>,
        grant_option: bool,
    },
    /// `FLUSH PRIVILEGES`.
    FlushPrivileges,
}

/// What a successful statement does to the caching_sha2_password cache.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CacheEffect {
    None,
    /// Remove these accounts' entries (identities as stored: host lowercase).
    Evict(Vec<AccountId>),
    /// Empty the whole cache (FLUSH PRIVILEGES).
    Clear,
}

impl CacheEffect {
    /// Carries the effect out. Call it after the new account set is visible to logins: a full
    /// authentication that read the old set and fills the cache meanwhile is then undone.
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

/// The outcome of a successful statement: its notes (for `SHOW WARNINGS`) and its cache effect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied {
    pub warnings: Vec<Warning>,
    pub cache: CacheEffect,
}

/// Why a statement failed; the set is then unchanged and the cache must not be touched.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
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
    NoSuchGrant { user: String, host: String },
    /// 1269 ER_REVOKE_GRANTS (HY000): `REVOKE ALL PRIVILEGES, GRANT OPTION` naming an account
    /// that does not exist.
    #[error("Can't revoke all privileges for one or more of the requested users")]
    CannotRevokeAll,
}

impl AccountOpError {
    /// MySQL error code.
    pub fn code(&self) -> u16 {
        match self {
            AccountOpError::Account(e) => e.code(),
            AccountOpError::GrantWouldCreateUser => 1410,
            AccountOpError::NoSuchGrant { .. } => 1141,
            AccountOpError::CannotRevokeAll => 1269,
        }
    }

    /// SQLSTATE.
    pub fn sqlstate(&self) -> &'static str {
        match self {
            AccountOpError::Account(e) => e.sqlstate(),
            AccountOpError::GrantWouldCreateUser | AccountOpError::NoSuchGrant { .. } => "42000",
            AccountOpError::CannotRevokeAll => "HY000",
        }
    }
}

/// Applies one statement. All or nothing: on `Err` the set is unchanged (and the caller must
/// leave the cache alone). On `Ok` the caller saves and publishes the set, then carries out
/// [`Applied::cache`].
///
/// Cache effects (MySQL's `sha2_cache_cleaner`): CREATE → none (a new account has no entry);
/// ALTER → evict each existing account given a credential, none for REQUIRE / lock only; DROP →
/// evict every named account; RENAME → evict every old name; GRANT / REVOKE → none; FLUSH
/// PRIVILEGES → clear.
pub fn apply(set: &mut AccountSet, op: AccountOp) -> Result<Applied, AccountOpError> {
    match op {
        AccountOp::Create {
            accounts,
            if_not_exists,
        } => {
            let warnings = set.create(accounts, if_not_exists)?;
            Ok(Applied {
                warnings,
                cache: CacheEffect::None,
            })
        }
        AccountOp::Alter { changes, if_exists } => alter(set, changes, if_exists),
        AccountOp::Drop { ids, if_exists } => {
            let warnings = set.drop_users(&ids, if_exists)?;
            Ok(Applied {
                warnings,
                cache: evict(ids),
            })
        }
        AccountOp::Rename { pairs } => {
            set.rename(&pairs)?;
            Ok(Applied {
                warnings: Vec::new(),
                cache: evict(pairs.into_iter().map(|(old, _)| old)),
            })
        }
        AccountOp::Grant {
            ids,
            with_grant_option,
        } => privileges(set, &ids, Privilege::Grant { with_grant_option }),
        AccountOp::Revoke { ids, grant_option } => {
            privileges(set, &ids, Privilege::Revoke { grant_option })
        }
        AccountOp::FlushPrivileges => Ok(Applied {
            warnings: Vec::new(),
            cache: CacheEffect::Clear,
        }),
    }
}

/// Eviction list with hosts as stored (lowercase), without duplicates, in statement order.
fn evict(ids: impl IntoIterator<Item = AccountId>) -> CacheEffect {
    let mut out: Vec<AccountId> = Vec::new();
    for (user, host) in ids {
        let id = (user, host.to_ascii_lowercase());
        if !out.contains(&id) {
            out.push(id);
        }
    }
    if out.is_empty() {
        CacheEffect::None
    } else {
        CacheEffect::Evict(out)
    }
}

/// MySQL's `mysql_alter_user`: accounts are taken in order on a working copy; a missing account is
/// a 3162 note with `IF EXISTS`, else a failure; an invalid result (a stored string not of the
/// plugin's format) is a failure; any failure → 1396 listing every failing account, nothing
/// changed.
fn alter(
    set: &mut AccountSet,
    changes: Vec<AlterChange>,
    if_exists: bool,
) -> Result<Applied, AccountOpError> {
    let mut working = set.clone();
    let mut failed = Vec::new();
    let mut warnings = Vec::new();
    let mut credential_changed = Vec::new();
    for change in changes {
        let AlterChange {
            id: (user, host),
            credential,
            require,
            lock,
        } = change;
        let host = host.to_ascii_lowercase();
        if working.get(&user, &host).is_none() {
            let account = account_name(&user, &host);
            if if_exists {
                warnings.push(Warning::UserDoesNotExist { account });
            } else {
                failed.push(account);
            }
            continue;
        }
        let evicts = credential.is_some();
        let edited = working.alter((&user, &host), move |a| {
            if let Some((plugin, auth_string)) = credential {
                a.plugin = plugin;
                a.auth_string = auth_string;
            }
            if let Some(r) = require {
                a.require = r;
            }
            if let Some(l) = lock {
                a.locked = l;
            }
        });
        match edited {
            Ok(()) if evicts => credential_changed.push((user, host)),
            Ok(()) => {}
            Err(AccountError::OperationFailed { .. }) => failed.push(account_name(&user, &host)),
            Err(e) => return Err(e.into()),
        }
    }
    if !failed.is_empty() {
        return Err(AccountError::OperationFailed {
            operation: "ALTER USER",
            accounts: failed,
        }
        .into());
    }
    *set = working;
    Ok(Applied {
        warnings,
        cache: evict(credential_changed),
    })
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
    Ok(Applied {
        warnings: Vec::new(),
        cache: CacheEffect::None,
    })
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
        AlterChange {
            id: id(user, host),
            credential: None,
            require: None,
            lock: None,
        }
    }

    #[test]
    fn create_has_no_cache_effect_and_if_not_exists_gives_3163() {
        let mut set = set_of(vec![cs2("a", "%", "pw")]);
        let op = AccountOp::Create {
            accounts: vec![cs2("a", "%", "x"), cs2("b", "%", "y")],
            if_not_exists: true,
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
        assert!(set.get("a", "%").unwrap().auth_string.verify_cleartext(b"pw"));
    }

    #[test]
    fn failed_create_lists_every_existing_account_and_changes_nothing() {
        let mut set = set_of(vec![cs2("a", "%", "pw"), cs2("b", "%", "pw")]);
        let before = set.clone();
        let op = AccountOp::Create {
            accounts: vec![cs2("a", "%", "x"), cs2("c", "%", "y"), cs2("b", "%", "z")],
            if_not_exists: false,
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
            },
        )
        .unwrap();
        assert_eq!(applied.cache, CacheEffect::Evict(vec![id("a", "localhost")]));
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
        assert_eq!(applied.cache, CacheEffect::Evict(vec![id("a", "localhost")]));
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
        assert_eq!(set.iter().map(|a| a.user.as_str()).collect::<Vec<_>>(), ["c"]);
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
        assert!(a.admin && a.grant_option, "GRANT without the option keeps it");

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
        let cache = AuthCache::new(8);
        for user in ["a", "b"] {
            cache.insert(user, "localhost", cached_digest(b"pw"));
        }
        let mut set = set_of(vec![cs2("a", "localhost", "pw"), cs2("b", "localhost", "pw")]);
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
}
