//! Kills mutants of `src/cache.rs` that the unit tests let through (docs/assurance.md): the
//! shard choice must spread accounts over every shard, and the small accessors (`is_empty`,
//! `capacity`, `Debug`) must report the cache as it is. Public API only.

use vestibule::auth::CachedDigest;
use vestibule::cache::AuthCache;

fn d(n: u8) -> CachedDigest {
    CachedDigest::from_bytes([n; 32])
}

/// 16 shards of 100 entries each, 800 accounts: with the keyed hash spreading accounts evenly a
/// shard receives 50 ± 7 of them, so none is ever full and nothing is evicted. A shard choice that
/// sent every account to one shard would keep only that shard's 100.
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
