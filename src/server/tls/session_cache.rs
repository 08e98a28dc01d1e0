//! The server's TLS session cache (`ssl_session_cache_mode`, `ssl_session_cache_timeout`) and
//! its counters, the `Ssl_session_cache_*` status variables.
//!
//! MySQL 8.0 keeps OpenSSL's server session cache at 128 entries (`vio/viosslfactories.cc`,
//! `SSL_CTX_sess_set_cache_size(…, 128)`) with `ssl_session_cache_timeout` (300 s by default) as
//! the sessions' lifetime, and reports OpenSSL's counters (`SSL_CTX_sess_hits` and the others,
//! as `SSL_CTX_sess_number(3)` defines them):
//! - **hits**: a session the client proposed was found, fresh, and handed to the handshake;
//! - **misses**: it was not in the cache;
//! - **timeouts**: it was found but older than the timeout (removed; not also a miss);
//! - **overflows** (`sess_cache_full`): sessions removed to make room for a new one;
//! - **used entries** (`sess_number`): sessions in the cache now.
//!
//! rustls asks the cache through [`StoresServerSessions`]: `put` for each session it issues
//! (TLS 1.3 tickets, TLS 1.2 session ids), `take` for a TLS 1.3 ticket (single use) and `get`
//! for a TLS 1.2 session id. This cache answers them and counts.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use rustls::server::StoresServerSessions;

/// MySQL's server session cache size (`Ssl_session_cache_size`).
pub const SESSION_CACHE_SIZE: usize = 128;

/// A bounded, timed server session cache with OpenSSL's counters.
#[derive(Debug)]
pub struct SessionCache {
    entries: Mutex<Entries>,
    size: usize,
    timeout: Duration,
    hits: AtomicU64,
    misses: AtomicU64,
    timeouts: AtomicU64,
    overflows: AtomicU64,
}

#[derive(Debug, Default)]
struct Entries {
    map: HashMap<Vec<u8>, (Vec<u8>, Instant)>,
    /// Keys in insertion order, oldest first; keys already taken are skipped (and dropped
    /// when the queue grows past twice the cache).
    order: VecDeque<Vec<u8>>,
}

/// The counters at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SessionCacheStats {
    /// `Ssl_session_cache_hits`.
    pub hits: u64,
    /// `Ssl_session_cache_misses`.
    pub misses: u64,
    /// `Ssl_session_cache_timeouts`.
    pub timeouts: u64,
    /// `Ssl_session_cache_overflows`.
    pub overflows: u64,
    /// `Ssl_used_session_cache_entries`.
    pub used_entries: u64,
}

impl SessionCache {
    /// A cache of `size` sessions, each usable for `timeout` after it was issued.
    pub fn new(size: usize, timeout: Duration) -> SessionCache {
        SessionCache {
            entries: Mutex::new(Entries::default()),
            size,
            timeout,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            timeouts: AtomicU64::new(0),
            overflows: AtomicU64::new(0),
        }
    }

    /// `Ssl_session_cache_size`.
    pub fn size(&self) -> usize {
        self.size
    }

    /// `Ssl_session_cache_timeout`, seconds.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The counters now.
    pub fn stats(&self) -> SessionCacheStats {
        SessionCacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            timeouts: self.timeouts.load(Ordering::Relaxed),
            overflows: self.overflows.load(Ordering::Relaxed),
            used_entries: self.lock().map.len() as u64,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `put` at `now`: false (not stored) for a cache of size 0.
    fn put_at(&self, key: Vec<u8>, value: Vec<u8>, now: Instant) -> bool {
        if self.size == 0 {
            return false;
        }
        let mut e = self.lock();
        if e.map.insert(key.clone(), (value, now)).is_none() {
            e.order.push_back(key);
        }
        while e.map.len() > self.size {
            let Some(oldest) = e.order.pop_front() else {
                break;
            };
            if e.map.remove(&oldest).is_some() {
                self.overflows.fetch_add(1, Ordering::Relaxed);
            }
        }
        if e.order.len() > 2 * self.size.max(1) {
            let Entries { map, order } = &mut *e;
            order.retain(|k| map.contains_key(k));
        }
        true
    }

    /// `get` (`remove = false`) or `take` at `now`, counted.
    fn find_at(&self, key: &[u8], remove: bool, now: Instant) -> Option<Vec<u8>> {
        let mut e = self.lock();
        let Some((value, issued)) = e.map.get(key) else {
            self.misses.fetch_add(1, Ordering::Relaxed);
            return None;
        };
        if now.saturating_duration_since(*issued) > self.timeout {
            e.map.remove(key);
            self.timeouts.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        let found = if remove {
            e.map.remove(key).map(|(v, _)| v)
        } else {
            Some(value.clone())
        };
        self.hits.fetch_add(1, Ordering::Relaxed);
        found
    }
}

impl StoresServerSessions for SessionCache {
    fn put(&self, key: Vec<u8>, value: Vec<u8>) -> bool {
        self.put_at(key, value, Instant::now())
    }

    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.find_at(key, false, Instant::now())
    }

    fn take(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.find_at(key, true, Instant::now())
    }

    fn can_cache(&self) -> bool {
        self.size > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(i: u32) -> Vec<u8> {
        i.to_le_bytes().to_vec()
    }

    #[test]
    fn counts_hits_misses_timeouts_and_overflows_as_openssl_defines_them() {
        let t0 = Instant::now();
        let c = SessionCache::new(2, Duration::from_secs(300));
        assert!(c.put_at(key(1), b"one".to_vec(), t0));
        assert!(c.put_at(key(2), b"two".to_vec(), t0));
        // A TLS 1.2 session id is looked up and stays; a TLS 1.3 ticket is taken once.
        assert_eq!(c.find_at(&key(1), false, t0), Some(b"one".to_vec()));
        assert_eq!(c.find_at(&key(1), true, t0), Some(b"one".to_vec()));
        assert_eq!(c.find_at(&key(1), true, t0), None);
        assert_eq!(
            c.stats(),
            SessionCacheStats {
                hits: 2,
                misses: 1,
                timeouts: 0,
                overflows: 0,
                used_entries: 1
            }
        );
        // A third and a fourth session: the cache holds two, the oldest goes (one overflow).
        assert!(c.put_at(key(3), b"three".to_vec(), t0));
        assert!(c.put_at(key(4), b"four".to_vec(), t0));
        let s = c.stats();
        assert_eq!((s.overflows, s.used_entries), (1, 2));
        assert_eq!(c.find_at(&key(2), false, t0), None, "evicted");
        // Past the timeout: a timeout, not a miss, and the entry is gone.
        let late = t0 + Duration::from_secs(301);
        assert_eq!(c.find_at(&key(3), false, late), None);
        let s = c.stats();
        assert_eq!((s.hits, s.misses, s.timeouts, s.used_entries), (2, 2, 1, 1));
        // Exactly at the timeout it is still fresh.
        assert_eq!(
            c.find_at(&key(4), true, t0 + Duration::from_secs(300)),
            Some(b"four".to_vec())
        );
    }

    #[test]
    fn size_zero_stores_nothing() {
        let c = SessionCache::new(0, Duration::from_secs(300));
        assert!(!c.can_cache());
        assert!(!c.put_at(key(1), vec![1], Instant::now()));
        assert_eq!(c.stats().used_entries, 0);
    }

    /// Taken tickets leave their keys in the order queue; it is compacted, so a cache that
    /// issues and takes forever stays bounded.
    #[test]
    fn the_order_queue_stays_bounded_under_take() {
        let t0 = Instant::now();
        let c = SessionCache::new(4, Duration::from_secs(300));
        for i in 0..10_000 {
            c.put_at(key(i), vec![0; 8], t0);
            assert!(c.find_at(&key(i), true, t0).is_some());
        }
        let e = c.lock();
        assert!(e.order.len() <= 9, "{}", e.order.len());
        assert!(e.map.is_empty());
    }
}
