//! The file-descriptor limit (RLIMIT_NOFILE): every client connection holds one descriptor (two
//! in proxy mode: the client's and the backend's), so a server admitting `max_connections`
//! needs a soft limit above that. Shells and service managers often start processes with a soft
//! limit of 1024 and a much higher hard limit; a process may raise its own soft limit up to the
//! hard one without privileges. mysqld does this at start-up for `open_files_limit`
//! (`mysqld.cc`, `adjust_open_files_limit` and `my_set_max_open_files`): it asks for
//! `max(10 + max_connections + 2 × table_open_cache, 5 × max_connections, 5000)` and keeps what
//! the system grants, never lowering the limit it was given.
//!
//! Beyond the limit `accept` fails with EMFILE: the accept loop logs "accept failed: Too many
//! open files" and retries after a pause, the connections already open are served as before,
//! and the new clients wait in the listen backlog (their TCP connect succeeded, no greeting
//! comes) until a descriptor is free. A limit above `max_connections` turns that into the clean
//! refusal: 1040 Too many connections, sent before the greeting.

use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};

/// Descriptors beyond the connections themselves: listeners, the epoll instance and its wakers,
/// the log, the metrics endpoint, files read at run time (certificates on ALTER INSTANCE RELOAD
/// TLS, the account file).
pub const SPARE_DESCRIPTORS: u64 = 64;

/// mysqld's floor for `open_files_limit` (5000): a server with few connections still asks for
/// this many.
pub const MINIMUM_WANTED: u64 = 5000;

/// The soft limit to ask for with `max_connections`: two descriptors per connection (a proxied
/// connection holds the client's and the backend's), the extra administrator connection
/// (`max_connections + 1` are admitted), and [`SPARE_DESCRIPTORS`]; at least
/// [`MINIMUM_WANTED`].
pub fn wanted_for(max_connections: u32) -> u64 {
    let conns = u64::from(max_connections) + 1;
    (2 * conns + SPARE_DESCRIPTORS).max(MINIMUM_WANTED)
}

/// The soft limit to set, if any, when the current one is `soft`, the hard one `hard` (`None`:
/// unlimited) and `wanted` descriptors are asked for: `min(wanted, hard)` when that is above
/// `soft`; `None` when the soft limit already suffices (it is never lowered) or cannot grow.
pub fn plan(soft: Option<u64>, hard: Option<u64>, wanted: u64) -> Option<u64> {
    let soft = soft.unwrap_or(u64::MAX);
    let target = hard.map_or(wanted, |h| wanted.min(h));
    (target > soft).then_some(target)
}

/// The current (soft, hard) RLIMIT_NOFILE; `u64::MAX` for unlimited.
pub fn nofile() -> (u64, u64) {
    let r = getrlimit(Resource::Nofile);
    (r.current.unwrap_or(u64::MAX), r.maximum.unwrap_or(u64::MAX))
}

/// Raises this process's soft RLIMIT_NOFILE towards `wanted`, up to the hard limit, as mysqld
/// does for `open_files_limit`; never lowers it and never touches the hard limit (which only a
/// privileged process could raise). Returns (soft limit before, soft limit after); `u64::MAX`
/// stands for unlimited. An `Err` (the system refused) leaves the limit as it was.
///
/// The server calls it once at start-up with [`wanted_for`]`(max_connections)` and logs a
/// warning when the soft limit after is below what it wanted (connections past it would wait
/// in the listen backlog instead of receiving 1040).
pub fn raise_nofile(wanted: u64) -> std::io::Result<(u64, u64)> {
    let r = getrlimit(Resource::Nofile);
    let before = r.current.unwrap_or(u64::MAX);
    let Some(target) = plan(r.current, r.maximum, wanted) else {
        return Ok((before, before));
    };
    setrlimit(
        Resource::Nofile,
        Rlimit {
            current: Some(target),
            maximum: r.maximum,
        },
    )
    .map_err(|e| std::io::Error::from_raw_os_error(e.raw_os_error()))?;
    Ok((before, nofile().0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_raises_up_to_the_hard_limit_and_never_lowers() {
        // The usual case: soft 1024, hard much higher.
        assert_eq!(plan(Some(1024), Some(524_288), 10_000), Some(10_000));
        // Capped by the hard limit.
        assert_eq!(plan(Some(1024), Some(4096), 10_000), Some(4096));
        // Already enough: nothing to do, never lowered.
        assert_eq!(plan(Some(65_536), Some(524_288), 10_000), None);
        assert_eq!(plan(Some(10_000), Some(524_288), 10_000), None);
        // Soft at hard: cannot grow.
        assert_eq!(plan(Some(4096), Some(4096), 10_000), None);
        // Unlimited soft: nothing to do; unlimited hard: the wanted figure.
        assert_eq!(plan(None, None, 10_000), None);
        assert_eq!(plan(Some(1024), None, 10_000), Some(10_000));
    }

    #[test]
    fn wanted_follows_max_connections_with_mysqlds_floor() {
        assert_eq!(wanted_for(151), MINIMUM_WANTED);
        assert_eq!(wanted_for(10_000), 2 * 10_001 + SPARE_DESCRIPTORS);
    }

    #[test]
    fn asking_for_no_more_than_the_current_limit_changes_nothing() {
        let (soft, _) = nofile();
        assert_eq!(raise_nofile(0).unwrap(), (soft, soft));
        assert_eq!(raise_nofile(soft).unwrap(), (soft, soft));
        assert_eq!(nofile().0, soft);
    }
}
