//! The caching_sha2_password server-side cache (docs/protocol.md, "The caching_sha2_password
//! cache"): account → `SHA256(SHA256(pw))`.
//!
//! Owns the concurrent, bounded map and nothing else. It never decides when to fill or purge
//! entries; MySQL's rules, which the caller applies, are: insert only after a successful full
//! authentication; remove on ALTER USER / SET PASSWORD changing the credential or plugin, RENAME
//! USER (old name) and DROP USER; clear on FLUSH PRIVILEGES; memory only, never persisted. A miss
//! is always safe — it only sends the client down the full-authentication path — which is what
//! makes eviction and hash collisions harmless.
//!
//! The key is the **account** (user name + host pattern as stored, e.g. `app` + `%`), never the
//! client's actual host. Each entry has two slots, as MySQL's (`sql/auth/i_sha2_password.h`,
//! `MAX_PASSWORDS = 2`): slot 0 for the primary password, slot 1 for the secondary of a
//! dual-password account. Filling one slot keeps the other; removing the account empties both.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::auth::CachedDigest;

const MAX_SHARDS: usize = 16;

/// Hasher for keys that already are keyed SipHash outputs: passes the `u64` through.
#[derive(Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only reached if a key other than u64 were used; fold the bytes in.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

struct Entry {
    user: Box<str>,
    host: Box<str>,
    slots: [Option<CachedDigest>; 2],
    /// Insertion sequence number; the matching `(key, seq)` in `Shard::order` is the live one.
    seq: u64,
}

/// One lock's worth of the cache. Entries are keyed by the 64-bit keyed hash of (user, host); the
/// entry itself stores the names, so a lookup only returns a digest for an exact match and two
/// accounts colliding on 64 bits merely evict each other.
#[derive(Default)]
struct Shard {
    entries: HashMap<u64, Entry, BuildHasherDefault<PassThrough>>,
    /// Insertion order for FIFO eviction; pairs whose entry was replaced or removed are stale and
    /// skipped (and periodically compacted away).
    order: VecDeque<(u64, u64)>,
    next_seq: u64,
    capacity: usize,
}

impl Shard {
    fn is_live(&self, key: u64, seq: u64) -> bool {
        self.entries.get(&key).is_some_and(|e| e.seq == seq)
    }

    fn get(&self, key: u64, user: &str, host: &str) -> Option<&Entry> {
        self.entries
            .get(&key)
            .filter(|e| &*e.user == user && &*e.host == host)
    }

    fn insert(&mut self, key: u64, user: &str, host: &str, slot: usize, digest: CachedDigest) {
        let seq = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1);
        let mut slots = [None, None];
        if let Some(s) = slots.get_mut(slot) {
            *s = Some(digest);
        }
        match self.entries.get_mut(&key) {
            Some(e) if &*e.user == user && &*e.host == host => {
                // The other slot is copied over unchanged (MySQL's full authentication fills
                // the matching slot only).
                for (have, new) in e.slots.iter_mut().zip(slots) {
                    if new.is_some() {
                        *have = new;
                    }
                }
                e.seq = seq;
            }
            occupied => {
                // A new account; a colliding one (occupied by another name) is simply replaced.
                if occupied.is_none() && self.entries.len() >= self.capacity {
                    self.evict_oldest();
                }
                self.entries.insert(
                    key,
                    Entry {
                        user: user.into(),
                        host: host.into(),
                        slots,
                        seq,
                    },
                );
            }
        }
        self.order.push_back((key, seq));
        self.compact_if_needed();
    }

    fn evict_oldest(&mut self) {
        while let Some((key, seq)) = self.order.pop_front() {
            if self.is_live(key, seq) {
                self.entries.remove(&key);
                return;
            }
        }
        // Unreachable while every entry has its pair in `order`; stay bounded regardless.
        if let Some(&key) = self.entries.keys().next() {
            self.entries.remove(&key);
        }
    }

    /// Drops stale `order` pairs once they outnumber live entries, keeping memory bounded under
    /// repeated replace/remove of the same accounts (amortised O(1) per insert).
    fn compact_if_needed(&mut self) {
        let limit = self.entries.len().saturating_mul(2).saturating_add(32);
        if self.order.len() > limit {
            let entries = &self.entries;
            self.order
                .retain(|&(key, seq)| entries.get(&key).is_some_and(|e| e.seq == seq));
        }
    }

    fn remove(&mut self, key: u64, user: &str, host: &str) -> bool {
        if self.get(key, user, host).is_some() {
            self.entries.remove(&key);
            true
        } else {
            false
        }
    }

    fn clear(&mut self) {
        self.entries.clear();
        self.order.clear();
    }
}

/// The caching_sha2_password fast-path cache, shared by all connections (`Send + Sync`).
///
/// Bounded: at most `capacity` entries in total. The entries are spread over up to 16 shards, each
/// behind its own `RwLock` and holding a fixed share of the capacity; when a new account arrives at
/// a full shard, that shard evicts the entry inserted (or last replaced) longest ago — FIFO per
/// shard, so eviction can start before the cache as a whole is full. An evicted account just takes
/// the full-authentication path at its next login, as after FLUSH PRIVILEGES in MySQL.
///
/// A poisoned lock is recovered, never propagated as a panic: every critical section leaves the
/// shard consistent before anything that could panic.
pub struct AuthCache {
    /// SipHash-1-3 key: the caller draws it (the core reads no randomness).
    hash_key: [u8; 16],
    shards: Box<[RwLock<Shard>]>,
    capacity: usize,
}

impl AuthCache {
    /// A cache holding at most `capacity` accounts; 0 is treated as 1. `hash_key` keys the
    /// account hash (SipHash-1-3): draw it at random once per process, so that a client cannot
    /// choose user names that pile into one shard.
    pub fn new(capacity: usize, hash_key: [u8; 16]) -> AuthCache {
        let capacity = capacity.max(1);
        let n = capacity.min(MAX_SHARDS);
        let shards = (0..n)
            .map(|i| {
                // Shares differ by at most one and add up to `capacity`.
                let share = capacity / n + usize::from(i < capacity % n);
                RwLock::new(Shard {
                    capacity: share,
                    ..Shard::default()
                })
            })
            .collect();
        AuthCache {
            hash_key,
            shards,
            capacity,
        }
    }

    /// Keyed SipHash of the account, without building a combined key: the tuple hashes each
    /// `str` with a terminator, so ("ab", "c") and ("a", "bc") differ.
    fn key(&self, user: &str, host: &str) -> u64 {
        let mut h = siphasher::sip::SipHasher13::new_with_key(&self.hash_key);
        std::hash::Hash::hash(&(user, host), &mut h);
        h.finish()
    }

    fn shard(&self, key: u64) -> Option<&RwLock<Shard>> {
        let len = self.shards.len().max(1) as u64;
        // High bits choose the shard; the map inside uses the low bits for its buckets.
        self.shards.get(((key >> 32) % len) as usize)
    }

    fn read(lock: &RwLock<Shard>) -> RwLockReadGuard<'_, Shard> {
        lock.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(lock: &RwLock<Shard>) -> RwLockWriteGuard<'_, Shard> {
        lock.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// The cached digest for account `user`@`host` (host = the account's host pattern). The fast
    /// path of every caching_sha2 login runs this: it takes a shared lock and does not allocate.
    pub fn get(&self, user: &str, host: &str) -> Option<CachedDigest> {
        self.get_slot(user, host, 0)
    }

    /// The digest in `slot` (0: primary password, 1: secondary) for account `user`@`host`.
    pub fn get_slot(&self, user: &str, host: &str, slot: usize) -> Option<CachedDigest> {
        let key = self.key(user, host);
        let shard = Self::read(self.shard(key)?);
        shard
            .get(key, user, host)
            .and_then(|e| e.slots.get(slot).cloned().flatten())
    }

    /// Inserts or replaces slot 0 of `user`@`host` (after a successful full authentication with
    /// the primary password).
    pub fn insert(&self, user: &str, host: &str, digest: CachedDigest) {
        self.insert_slot(user, host, 0, digest);
    }

    /// Fills `slot` (0 or 1; any other slot is ignored) of `user`@`host`, keeping the other.
    pub fn insert_slot(&self, user: &str, host: &str, slot: usize, digest: CachedDigest) {
        if slot > 1 {
            return;
        }
        let key = self.key(user, host);
        if let Some(lock) = self.shard(key) {
            Self::write(lock).insert(key, user, host, slot, digest);
        }
    }

    /// Removes the entry for `user`@`host`; true if there was one.
    pub fn remove(&self, user: &str, host: &str) -> bool {
        let key = self.key(user, host);
        self.shard(key)
            .is_some_and(|lock| Self::write(lock).remove(key, user, host))
    }

    /// Empties the cache (FLUSH PRIVILEGES). Shards are cleared one after another, so a concurrent
    /// insert may survive; that entry came from a full authentication that finished meanwhile.
    pub fn clear(&self) {
        for lock in self.shards.iter() {
            Self::write(lock).clear();
        }
    }

    /// Number of cached accounts (a snapshot: shards are read one after another).
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|lock| Self::read(lock).entries.len())
            .sum()
    }

    /// Whether no account has an entry (after `FLUSH PRIVILEGES`, or at start).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bound given to [`AuthCache::new`] (at least 1).
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

impl fmt::Debug for AuthCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthCache")
            .field("len", &self.len())
            .field("capacity", &self.capacity)
            .field("shards", &self.shards.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    const TEST_KEY: [u8; 16] = *b"vestibule-cache!";

    /// The shard placement follows the key: another key spreads the same accounts differently,
    /// so a client who does not know the key cannot aim names at one shard.
    #[test]
    fn the_hash_key_decides_the_placement() {
        let a = AuthCache::new(16, TEST_KEY);
        let b = AuthCache::new(16, [7; 16]);
        let same = (0..64)
            .filter(|i| a.key(&format!("u{i}"), "%") == b.key(&format!("u{i}"), "%"))
            .count();
        assert_eq!(same, 0);
        assert_eq!(
            a.key("u1", "%"),
            AuthCache::new(16, TEST_KEY).key("u1", "%")
        );
    }

    fn d(n: u8) -> CachedDigest {
        CachedDigest::from_bytes([n; 32])
    }

    #[test]
    fn is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<AuthCache>();
    }

    #[test]
    fn insert_get_remove_clear() {
        let cache = AuthCache::new(100, TEST_KEY);
        assert!(cache.is_empty());
        assert_eq!(cache.get("app", "%"), None);
        cache.insert("app", "%", d(1));
        cache.insert("app", "localhost", d(2));
        cache.insert("other", "%", d(3));
        assert_eq!(cache.len(), 3);
        assert_eq!(cache.get("app", "%"), Some(d(1)));
        assert_eq!(cache.get("app", "localhost"), Some(d(2)));
        assert_eq!(cache.get("other", "%"), Some(d(3)));
        // Keyed by the account's host pattern, exactly: no matching of client hosts here.
        assert_eq!(cache.get("app", "10.0.0.1"), None);
        assert_eq!(cache.get("App", "%"), None);

        // Replace keeps one entry per account.
        cache.insert("app", "%", d(9));
        assert_eq!(cache.get("app", "%"), Some(d(9)));
        assert_eq!(cache.len(), 3);

        assert!(cache.remove("app", "%"));
        assert!(!cache.remove("app", "%"));
        assert_eq!(cache.get("app", "%"), None);
        assert_eq!(cache.get("app", "localhost"), Some(d(2)));
        assert_eq!(cache.len(), 2);

        cache.clear();
        assert!(cache.is_empty());
        assert_eq!(cache.get("app", "localhost"), None);
        assert_eq!(cache.get("other", "%"), None);
    }

    #[test]
    fn user_host_split_is_unambiguous() {
        // Large enough that no shard is ever full (shards evict on their own share).
        let cache = AuthCache::new(10_000, TEST_KEY);
        cache.insert("ab", "c", d(1));
        assert_eq!(cache.get("a", "bc"), None);
        assert_eq!(cache.get("ab\0", "c"), None);
        cache.insert("a", "bc", d(2));
        assert_eq!(cache.get("ab", "c"), Some(d(1)));
        assert_eq!(cache.get("a", "bc"), Some(d(2)));
        cache.insert("", "", d(3));
        assert_eq!(cache.get("", ""), Some(d(3)));
    }

    /// Two accounts whose keyed hashes collide share a slot: the second replaces the first, and
    /// a lookup only ever returns the digest of the account it names.
    #[test]
    fn a_colliding_account_replaces_the_slot_with_its_own_names() {
        let mut shard = Shard {
            capacity: 8,
            ..Shard::default()
        };
        shard.insert(7, "app", "%", 0, d(1));
        shard.insert(7, "app", "localhost", 0, d(2));
        assert_eq!(shard.entries.len(), 1);
        assert!(shard.get(7, "app", "%").is_none());
        assert_eq!(
            shard
                .get(7, "app", "localhost")
                .and_then(|e| e.slots[0].clone()),
            Some(d(2))
        );
        shard.insert(7, "other", "localhost", 0, d(3));
        assert!(shard.get(7, "app", "localhost").is_none());
        assert_eq!(
            shard
                .get(7, "other", "localhost")
                .and_then(|e| e.slots[0].clone()),
            Some(d(3))
        );
        assert!(!shard.remove(7, "app", "localhost"));
        assert!(shard.remove(7, "other", "localhost"));
    }

    /// Logging the same accounts in over and over (each fill re-inserts) must not grow the
    /// eviction queue without bound.
    #[test]
    fn repeated_fills_keep_the_eviction_queue_bounded() {
        let mut shard = Shard {
            capacity: 8,
            ..Shard::default()
        };
        for i in 0..10_000u64 {
            shard.insert(i % 3, "u", &(i % 3).to_string(), 0, d(1));
            assert!(shard.order.len() <= shard.entries.len() * 2 + 33);
        }
        assert_eq!(shard.entries.len(), 3);
    }

    #[test]
    fn capacity_one_evicts_the_previous_account() {
        let cache = AuthCache::new(0, TEST_KEY);
        assert_eq!(cache.capacity(), 1);
        cache.insert("a", "%", d(1));
        cache.insert("b", "%", d(2));
        assert_eq!(cache.len(), 1);
        assert_eq!(cache.get("a", "%"), None);
        assert_eq!(cache.get("b", "%"), Some(d(2)));
        // Replacing the resident account does not evict it.
        cache.insert("b", "%", d(3));
        assert_eq!(cache.get("b", "%"), Some(d(3)));
    }

    #[test]
    fn total_never_exceeds_capacity() {
        for capacity in [1, 2, 3, 15, 16, 17, 40, 100] {
            let cache = AuthCache::new(capacity, TEST_KEY);
            for i in 0..(capacity * 5 + 20) {
                cache.insert(&format!("user{i}"), "%", d(i as u8));
                assert!(cache.len() <= capacity, "capacity {capacity}");
            }
            // The most recent insert is always present.
            let last = capacity * 5 + 19;
            assert_eq!(cache.get(&format!("user{last}"), "%"), Some(d(last as u8)));
        }
    }

    #[test]
    fn eviction_is_fifo_within_a_shard() {
        // AuthCache::new(3, …) makes three one-entry shards, so FIFO order is tested on a shard directly.
        let mut shard = Shard {
            capacity: 3,
            ..Shard::default()
        };
        shard.insert(1, "a", "%", 0, d(1));
        shard.insert(2, "b", "%", 0, d(2));
        shard.insert(3, "c", "%", 0, d(3));
        // Refresh "a": now "b" is the oldest.
        shard.insert(1, "a", "%", 0, d(4));
        shard.insert(4, "d", "%", 0, d(5));
        assert!(shard.get(2, "b", "%").is_none());
        assert!(shard.get(1, "a", "%").is_some());
        assert!(shard.get(3, "c", "%").is_some());
        assert!(shard.get(4, "d", "%").is_some());
        // A removed entry leaves a stale pair that eviction skips.
        assert!(shard.remove(3, "c", "%"));
        shard.insert(5, "e", "%", 0, d(6));
        assert_eq!(shard.entries.len(), 3);
        shard.insert(6, "f", "%", 0, d(7));
        assert!(shard.get(1, "a", "%").is_none());
        assert_eq!(shard.entries.len(), 3);
    }

    #[test]
    fn colliding_key_never_returns_anothers_digest() {
        let mut shard = Shard {
            capacity: 4,
            ..Shard::default()
        };
        shard.insert(7, "a", "%", 0, d(1));
        shard.insert(7, "b", "%", 0, d(2));
        assert!(shard.get(7, "a", "%").is_none());
        assert_eq!(
            shard.get(7, "b", "%").and_then(|e| e.slots[0].clone()),
            Some(d(2))
        );
        assert!(!shard.remove(7, "a", "%"));
        assert_eq!(shard.entries.len(), 1);
    }

    #[test]
    fn order_queue_stays_bounded() {
        let mut shard = Shard {
            capacity: 2,
            ..Shard::default()
        };
        for i in 0..10_000u32 {
            shard.insert(1, "a", "%", 0, d(i as u8));
            if i % 3 == 0 {
                shard.remove(1, "a", "%");
            }
        }
        assert!(shard.order.len() <= 2 * shard.entries.len() + 33);
    }

    #[test]
    fn poisoned_shard_is_recovered() {
        let cache = Arc::new(AuthCache::new(1, TEST_KEY));
        cache.insert("a", "%", d(1));
        let c = Arc::clone(&cache);
        let result = std::thread::spawn(move || {
            let _guard = c.shards[0].write().unwrap();
            panic!("poison the lock");
        })
        .join();
        assert!(result.is_err());
        assert!(cache.shards[0].is_poisoned());
        assert_eq!(cache.get("a", "%"), Some(d(1)));
        cache.insert("b", "%", d(2));
        assert!(cache.remove("b", "%"));
        cache.clear();
        assert!(cache.is_empty());
    }

    #[test]
    fn concurrent_smoke() {
        let cache = Arc::new(AuthCache::new(64, TEST_KEY));
        let threads: Vec<_> = (0..8u8)
            .map(|t| {
                let cache = Arc::clone(&cache);
                std::thread::spawn(move || {
                    for i in 0..2000u32 {
                        let user = format!("u{}", (i as u8) % 50);
                        let host = if t % 2 == 0 { "%" } else { "localhost" };
                        // The digest is a function of the account, so any hit can be checked.
                        let digest = d(((i as u8) % 50).wrapping_mul(2) + u8::from(t % 2 == 0));
                        match i % 5 {
                            0 | 1 => cache.insert(&user, host, digest),
                            2 => {
                                cache.remove(&user, host);
                            }
                            3 if i % 500 == 3 && t == 0 => cache.clear(),
                            _ => {
                                if let Some(found) = cache.get(&user, host) {
                                    assert_eq!(found, digest);
                                }
                            }
                        }
                        assert!(cache.len() <= 64);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert!(cache.len() <= 64);
        cache.insert("final", "%", d(200));
        assert_eq!(cache.get("final", "%"), Some(d(200)));
    }

    /// 16 shards of 100 entries each, 800 accounts: with the keyed hash spreading accounts evenly
    /// a shard receives 50 ± 7 of them, so none is ever full and nothing is evicted. A shard choice
    /// that sent every account to one shard would keep only that shard's 100.
    #[test]
    fn accounts_spread_over_every_shard() {
        let cache = AuthCache::new(1600, [9; 16]);
        for i in 0..800u32 {
            cache.insert(&format!("user{i}"), "%", d(i as u8));
        }
        assert_eq!(
            cache.len(),
            800,
            "accounts were evicted before the cache was half full"
        );
        for i in 0..800u32 {
            assert_eq!(
                cache.get(&format!("user{i}"), "%"),
                Some(d(i as u8)),
                "user{i}"
            );
        }
    }

    #[test]
    fn is_empty_follows_the_contents() {
        let cache = AuthCache::new(10, [9; 16]);
        assert!(cache.is_empty());
        cache.insert("app", "%", d(1));
        assert!(!cache.is_empty());
        assert!(cache.remove("app", "%"));
        assert!(cache.is_empty());
        cache.insert("app", "%", d(1));
        cache.insert("app", "localhost", d(2));
        assert!(!cache.is_empty());
        cache.clear();
        assert!(cache.is_empty());
    }

    #[test]
    fn capacity_is_the_bound_given() {
        for capacity in [1usize, 2, 7, 16, 17, 100, 100_000] {
            assert_eq!(AuthCache::new(capacity, [9; 16]).capacity(), capacity);
        }
        assert_eq!(AuthCache::new(0, [9; 16]).capacity(), 1);
    }

    /// Debug shows the sizes (what an operator needs in a log) and never a digest.
    #[test]
    fn debug_shows_sizes_not_digests() {
        let cache = AuthCache::new(100, [9; 16]);
        cache.insert("app", "%", d(0xAB));
        cache.insert("other", "%", d(0xCD));
        let shown = format!("{cache:?}");
        assert_eq!(shown, "AuthCache { len: 2, capacity: 100, shards: 16 }");
        let small = format!("{:?}", AuthCache::new(3, [9; 16]));
        assert_eq!(small, "AuthCache { len: 0, capacity: 3, shards: 3 }");
    }
}
