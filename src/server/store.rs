//! The accounts file on disk ([`AccountsFile`]: loading it at startup and replacing it
//! atomically after every successful account-management statement), and the binary's
//! [`super::AccountStore`] on top of it ([`FileAccounts`]: the set in memory, its changes saved
//! before they are published).
//!
//! This module owns the file's lifecycle only — the text format is `crate::account`'s
//! ([`serialize_accounts`] / [`parse_accounts`]). It uses blocking `std::fs` calls: the server runs
//! it on `spawn_blocking`. It never keeps the set in memory, never retries and never repairs a bad
//! file (a server must not start on half an account list).
//!
//! Saves must not run concurrently on the same path (the server serialises account-management
//! statements); the temporary file has a fixed name, so a save interrupted by a crash leaves at
//! most one stale temporary file, which the next save replaces and [`AccountsFile::load`] ignores.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard, Weak};

use crate::account::{
    parse_accounts, serialize_accounts, Account, AccountFileError, AccountSet, ClientHost,
};
use crate::account_ops::{self, AccountOp, Applied};
use crate::auth::{AuthString, Plugin};
use crate::cache::AuthCache;

/// Why the accounts file could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A filesystem call failed; `action` says which step.
    #[error("accounts file {}: cannot {action}: {source}", path.display())]
    Io {
        /// The accounts file.
        path: PathBuf,
        /// The step that failed ("read", "write" …).
        action: &'static str,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// The file exists but is not a valid accounts file.
    #[error("accounts file {}: {source}", path.display())]
    Parse {
        /// The accounts file.
        path: PathBuf,
        /// The line and what is wrong with it.
        #[source]
        source: AccountFileError,
    },
}

/// The accounts file at one path.
#[derive(Clone, Debug)]
pub struct AccountsFile {
    path: PathBuf,
}

impl AccountsFile {
    /// The accounts file at `path` (the binary's is `<datadir>/accounts.vestibule`); nothing
    /// is read until [`AccountsFile::load`].
    pub fn new(path: PathBuf) -> Self {
        AccountsFile { path }
    }

    /// The file this store reads and writes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the file; `Ok(None)` if it does not exist (first start).
    pub fn load(&self) -> Result<Option<AccountSet>, StoreError> {
        let text = match fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.io("read", e)),
        };
        parse_accounts(&text)
            .map(Some)
            .map_err(|source| StoreError::Parse {
                path: self.path.clone(),
                source,
            })
    }

    /// Atomic replace: writes a temporary file in the same directory (mode 0600, created
    /// exclusively so a planted symlink is never followed), fsyncs it, renames it over the target
    /// and fsyncs the directory. A crash at any point leaves either the old or the new complete
    /// file under the target name.
    pub fn save(&self, set: &AccountSet) -> Result<(), StoreError> {
        let text = serialize_accounts(set);
        let tmp = self.temp_path();
        // A leftover from an interrupted save: never reuse it (its mode or owner may differ).
        match fs::remove_file(&tmp) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(self.io("remove the stale temporary file", e)),
        }
        if let Err(e) = write_synced(&tmp, text.as_bytes()) {
            let _ = fs::remove_file(&tmp);
            return Err(self.io("write the temporary file", e));
        }
        if let Err(e) = fs::rename(&tmp, &self.path) {
            let _ = fs::remove_file(&tmp);
            return Err(self.io("rename the temporary file over it", e));
        }
        sync_dir(self.dir()).map_err(|e| self.io("sync its directory", e))
    }

    fn dir(&self) -> &Path {
        match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        }
    }

    /// `<dir>/.<name>.tmp`: same directory (so the rename is atomic), hidden, fixed name.
    fn temp_path(&self) -> PathBuf {
        let mut name = std::ffi::OsString::from(".");
        name.push(self.path.file_name().unwrap_or_else(|| "accounts".as_ref()));
        name.push(".tmp");
        self.dir().join(name)
    }

    fn io(&self, action: &'static str, source: io::Error) -> StoreError {
        StoreError::Io {
            path: self.path.clone(),
            action,
            source,
        }
    }
}

fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    // The umask can only remove bits from 0600; set it explicitly so the result is exact.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(bytes)?;
    file.sync_all()
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// The binary's account store: the accounts file's set in memory. Logins read it; the admin
/// SQL changes it through [`FileAccounts::apply`], which saves the file before the change is
/// visible and evicts from the cache after.
pub struct FileAccounts {
    set: RwLock<AccountSet>,
    /// Serialises account changes (each computes, saves and publishes a whole new set).
    writes: tokio::sync::Mutex<()>,
    file: AccountsFile,
    caches: Caches,
}

/// Why [`FileAccounts::apply`] did not change anything.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApplyError {
    /// The statement is refused (the account exists, does not exist …).
    #[error(transparent)]
    Refused(#[from] account_ops::AccountOpError),
    /// The new set could not be saved; nothing changed.
    #[error("Cannot save the accounts file: {0}")]
    Save(String),
}

impl FileAccounts {
    /// The store over `file`, holding `set` (as loaded from it, or a new set just saved).
    pub fn new(file: AccountsFile, set: AccountSet) -> FileAccounts {
        FileAccounts {
            set: RwLock::new(set),
            writes: tokio::sync::Mutex::new(()),
            file,
            caches: Caches::default(),
        }
    }

    /// The accounts as they are now.
    pub fn read(&self) -> RwLockReadGuard<'_, AccountSet> {
        self.set.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Taken around a whole account statement (its checks and [`FileAccounts::apply`]), so
    /// that statements do not interleave.
    pub async fn lock_writes(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.writes.lock().await
    }

    /// Runs an account statement on a copy of the set, saves the copy atomically (off the
    /// reactor), publishes it, and only then applies its cache effect, so that no login can
    /// refill an entry from the old set afterwards (see [`AccountStore::if_current`]). The
    /// caller holds [`FileAccounts::lock_writes`].
    ///
    /// [`AccountStore::if_current`]: super::AccountStore::if_current
    pub async fn apply(self: &Arc<Self>, op: AccountOp) -> Result<Applied, ApplyError> {
        let mut set = self.read().clone();
        let applied = account_ops::apply(&mut set, op)?;
        let this = Arc::clone(self);
        let copy = set.clone();
        match tokio::task::spawn_blocking(move || this.file.save(&copy)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(ApplyError::Save(e.to_string())),
            Err(e) => return Err(ApplyError::Save(e.to_string())),
        }
        *self.set.write().unwrap_or_else(PoisonError::into_inner) = set;
        self.caches.each(|cache| applied.cache.apply_to(cache));
        Ok(applied)
    }
}

impl super::AccountStore for FileAccounts {
    fn lookup(
        &self,
        user: &str,
        client: &ClientHost,
    ) -> impl std::future::Future<Output = Option<Arc<Account>>> + Send {
        let found = self.read().lookup_shared(user, client);
        std::future::ready(found)
    }

    fn if_current(
        &self,
        user: &str,
        host: &str,
        verified: &AuthString,
        fill: &mut dyn FnMut(),
    ) -> bool {
        fill_if_current(&self.read(), user, host, verified, fill)
    }

    fn attach_cache(&self, cache: Arc<AuthCache>) {
        self.caches.attach(cache);
    }
}

/// An account store in memory, for an embedder that keeps its accounts in its own code, and for
/// tests: accounts are added with [`MemoryAccounts::add`] (or replaced wholesale with
/// [`MemoryAccounts::replace`]), which evicts what changed from the server's cache.
#[derive(Default)]
pub struct MemoryAccounts {
    set: RwLock<AccountSet>,
    caches: Caches,
}

impl MemoryAccounts {
    /// An empty store.
    pub fn new() -> MemoryAccounts {
        MemoryAccounts::default()
    }

    /// Adds an account (its host pattern lower-cased, MySQL's matching order kept), refusing a
    /// duplicate or invalid identity as CREATE USER does. `salt` seeds the stored hash (draw it
    /// at random); caching_sha2_password hashes use `rounds` (5000 is MySQL's default).
    pub fn add(
        &self,
        user: &str,
        host: &str,
        plugin: Plugin,
        password: &str,
        salt: [u8; 20],
        rounds: u32,
    ) -> Result<(), crate::account::AccountError> {
        let auth = AuthString::generate(plugin, password.as_bytes(), salt, rounds);
        self.add_account(Account::new(user, host, plugin, auth))
    }

    /// Adds a fully described account (REQUIRE, lock, admin privilege …).
    pub fn add_account(&self, account: Account) -> Result<(), crate::account::AccountError> {
        let (user, host) = (account.user.clone(), account.host.to_ascii_lowercase());
        self.set
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .create(vec![account], false)?;
        self.caches.each(|cache| {
            cache.remove(&user, &host);
        });
        Ok(())
    }

    /// Replaces every account, and empties the cache (as FLUSH PRIVILEGES does).
    pub fn replace(&self, set: AccountSet) {
        *self.set.write().unwrap_or_else(PoisonError::into_inner) = set;
        self.caches.each(AuthCache::clear);
    }
}

impl super::AccountStore for MemoryAccounts {
    fn lookup(
        &self,
        user: &str,
        client: &ClientHost,
    ) -> impl std::future::Future<Output = Option<Arc<Account>>> + Send {
        let set = self.set.read().unwrap_or_else(PoisonError::into_inner);
        std::future::ready(set.lookup_shared(user, client))
    }

    fn if_current(
        &self,
        user: &str,
        host: &str,
        verified: &AuthString,
        fill: &mut dyn FnMut(),
    ) -> bool {
        let set = self.set.read().unwrap_or_else(PoisonError::into_inner);
        fill_if_current(&set, user, host, verified, fill)
    }

    fn attach_cache(&self, cache: Arc<AuthCache>) {
        self.caches.attach(cache);
    }
}

/// The caches of every server built on a store (one store may serve several): a change evicts
/// from all of them, so no server keeps an old password on its fast path.
#[derive(Default)]
struct Caches(Mutex<Vec<Weak<AuthCache>>>);

impl Caches {
    fn attach(&self, cache: Arc<AuthCache>) {
        let mut all = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        all.retain(|c| c.strong_count() > 0);
        all.push(Arc::downgrade(&cache));
    }

    fn each(&self, f: impl Fn(&AuthCache)) {
        let all = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        for cache in all.iter().filter_map(Weak::upgrade) {
            f(&cache);
        }
    }
}

/// [`super::AccountStore::if_current`] over a set whose read guard the caller holds: a change
/// publishes under the write lock and evicts after it, so it either sees this fill or this
/// check sees the change.
fn fill_if_current(
    set: &AccountSet,
    user: &str,
    host: &str,
    verified: &AuthString,
    fill: &mut dyn FnMut(),
) -> bool {
    let current = set.credential_is_current(user, host, verified);
    if current {
        fill();
    }
    current
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::{Account, Require};
    use crate::auth::{AuthString, Plugin};

    fn set_with(users: &[&str]) -> AccountSet {
        let mut set = AccountSet::new();
        let accounts = users
            .iter()
            .map(|u| {
                let mut a = Account::new(u, "%", Plugin::CachingSha2Password, AuthString::Empty);
                a.require = Require::Specified {
                    issuer: Some("/CN=line\nbreak".into()),
                    subject: None,
                    cipher: None,
                    san: None,
                };
                a
            })
            .collect();
        set.create(accounts, false).unwrap();
        set
    }

    fn dir_entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn missing_file_loads_as_none() {
        let dir = tempfile::tempdir().unwrap();
        let store = AccountsFile::new(dir.path().join("accounts"));
        assert!(store.load().unwrap().is_none());
    }

    #[test]
    fn round_trip_and_replace() {
        let dir = tempfile::tempdir().unwrap();
        let store = AccountsFile::new(dir.path().join("accounts"));
        let first = set_with(&["a", "b"]);
        store.save(&first).unwrap();
        assert_eq!(store.load().unwrap(), Some(first));

        let second = set_with(&["c"]);
        store.save(&second).unwrap();
        assert_eq!(store.load().unwrap(), Some(second.clone()));
        assert_eq!(
            fs::read_to_string(store.path()).unwrap(),
            serialize_accounts(&second)
        );

        store.save(&AccountSet::new()).unwrap();
        assert_eq!(store.load().unwrap(), Some(AccountSet::new()));
        assert_eq!(
            dir_entries(dir.path()),
            ["accounts"],
            "no temporary file left behind"
        );
    }

    #[test]
    fn security_options_survive_save_and_load_and_old_files_load_with_defaults() {
        use crate::account::{PasswordLifetime, PasswordLockTime};
        let dir = tempfile::tempdir().unwrap();
        let store = AccountsFile::new(dir.path().join("accounts"));
        // A file as written before the account-security options existed.
        fs::write(
            store.path(),
            "vestibule-accounts 1\naccount user=\"old\" host=\"%\" plugin=caching_sha2_password auth=- require=none locked=no admin=no grant_option=no\n",
        )
        .unwrap();
        let old = store.load().unwrap().unwrap();
        let loaded = old.get("old", "%").unwrap();
        assert_eq!(
            loaded,
            &Account::new("old", "%", Plugin::CachingSha2Password, AuthString::Empty)
        );

        let p = Plugin::CachingSha2Password;
        let hash = |pw: &str| AuthString::generate(p, pw.as_bytes(), [9; 20], 5000);
        let mut a = Account::new("new", "%", p, hash("now"));
        a.secondary = Some(hash("before"));
        a.failed_login_attempts = 4;
        a.password_lock_time = PasswordLockTime::Days(2);
        a.password_lifetime = PasswordLifetime::Days(30);
        a.password_last_changed = 1_750_000_000;
        a.max_user_connections = 10;
        a.password_history = Some(3);
        a.password_reuse_interval = Some(10);
        a.password_require_current = Some(true);
        a.password_history_entries = vec![
            (1_750_000_000, hash("now")),
            (1_740_000_000, hash("before")),
        ];
        let mut set = old.clone();
        set.create(vec![a.clone()], false).unwrap();
        store.save(&set).unwrap();
        let again = store.load().unwrap().unwrap();
        assert_eq!(again, set);
        assert_eq!(again.get("new", "%"), Some(&a));
        let text = fs::read_to_string(store.path()).unwrap();
        assert!(
            !text.contains("before") && !text.contains("now\""),
            "hashes only"
        );
    }

    #[cfg(unix)]
    #[test]
    fn file_mode_is_0600_even_when_replacing_a_looser_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("accounts");
        fs::write(&path, "vestibule-accounts 1\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let store = AccountsFile::new(path.clone());
        store.save(&set_with(&["a"])).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    #[cfg(unix)]
    #[test]
    fn leftover_temp_file_from_a_crash_is_ignored_then_replaced() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let store = AccountsFile::new(dir.path().join("accounts"));
        let good = set_with(&["a"]);
        store.save(&good).unwrap();

        // A save that died after writing half the temporary file.
        let tmp = dir.path().join(".accounts.tmp");
        fs::write(&tmp, "vestibule-accounts 1\naccount user=\"half").unwrap();
        fs::set_permissions(&tmp, fs::Permissions::from_mode(0o666)).unwrap();
        assert_eq!(
            store.load().unwrap(),
            Some(good),
            "the target is still the old complete file"
        );

        let next = set_with(&["b", "c"]);
        store.save(&next).unwrap();
        assert_eq!(store.load().unwrap(), Some(next));
        assert_eq!(dir_entries(dir.path()), ["accounts"]);
        let mode = fs::metadata(store.path()).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_planted_at_the_temp_path_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        fs::write(&victim, "precious").unwrap();
        std::os::unix::fs::symlink(&victim, dir.path().join(".accounts.tmp")).unwrap();
        let store = AccountsFile::new(dir.path().join("accounts"));
        store.save(&set_with(&["a"])).unwrap();
        assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
        assert_eq!(store.load().unwrap(), Some(set_with(&["a"])));
    }

    #[test]
    fn corrupt_file_is_a_parse_error_with_path_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("accounts");
        fs::write(&path, "vestibule-accounts 1\n\naccount user=\"x\n").unwrap();
        let err = AccountsFile::new(path.clone()).load().unwrap_err();
        match &err {
            StoreError::Parse { path: p, source } => {
                assert_eq!(p, &path);
                assert_eq!(source.line, 3);
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(err.to_string().contains("line 3"), "{err}");
    }

    #[test]
    fn save_into_a_missing_directory_fails_cleanly() {
        let dir = tempfile::tempdir().unwrap();
        let store = AccountsFile::new(dir.path().join("nope").join("accounts"));
        let err = store.save(&set_with(&["a"])).unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::Io {
                    action: "write the temporary file",
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(store.load().unwrap().is_none());
    }

    #[test]
    fn relative_path_without_directory_uses_the_current_directory() {
        let store = AccountsFile::new(PathBuf::from("accounts"));
        assert_eq!(store.dir(), Path::new("."));
        assert_eq!(store.temp_path(), Path::new("./.accounts.tmp"));
    }
}
