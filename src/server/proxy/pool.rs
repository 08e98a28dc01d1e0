//! The backend connection pool (docs/proxy.md §6): idle connections by [`PoolKey`], the limits,
//! the backend's health with a half-open retry after a backoff, and the hand-back that resets a
//! connection before another session may take it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tracing::{debug, info, warn};

use super::backend_conn::{BackendConn, OpenError, PoolKey};
use super::config::ProxyConfig;
use crate::client::{LoginOk, LoginParams};
use crate::wire::packets::ErrPacket;

/// A latency histogram with fixed buckets (seconds), lock-free, for `/metrics`.
#[derive(Debug, Default)]
pub struct Latency {
    /// Observations at or below each bound of [`Latency::BOUNDS`] (not cumulative).
    pub buckets: [AtomicU64; 13],
    /// Observations above the last bound.
    pub overflow: AtomicU64,
    /// Sum of all observations, in microseconds.
    pub sum_micros: AtomicU64,
    /// Number of observations.
    pub count: AtomicU64,
}

impl Latency {
    /// Upper bounds of the buckets, in seconds.
    pub const BOUNDS: [f64; 13] = [
        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0,
    ];

    /// Records one observation.
    pub fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        match Self::BOUNDS.iter().position(|b| secs <= *b) {
            Some(i) => self.buckets[i].fetch_add(1, Ordering::Relaxed),
            None => self.overflow.fetch_add(1, Ordering::Relaxed),
        };
        let micros = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }
}

/// The status counters of docs/proxy.md §10.
#[derive(Debug, Default)]
pub struct PoolStats {
    /// `Backend_connections_opened`.
    pub opened: AtomicU64,
    /// `Backend_connections_closed`.
    pub closed: AtomicU64,
    /// `Backend_connect_errors`: opens that failed for health reasons.
    pub connect_errors: AtomicU64,
    /// `Backend_checkouts`.
    pub checkouts: AtomicU64,
    /// `Backend_checkouts_reused`: checkouts served from an idle connection.
    pub checkouts_reused: AtomicU64,
    /// `Backend_checkout_waits`: checkouts that waited on a full pool.
    pub checkout_waits: AtomicU64,
    /// `Backend_checkout_timeouts`: 1040s sent for a full pool.
    pub checkout_timeouts: AtomicU64,
    /// `Backend_resets`: hand-backs that reset a connection for reuse.
    pub resets: AtomicU64,
    /// `Backend_reset_failures`.
    pub reset_failures: AtomicU64,
    /// `Backend_pings`: validations at checkout.
    pub pings: AtomicU64,
    /// `Backend_ping_failures`.
    pub ping_failures: AtomicU64,
    /// `Backend_login_refusals`: per-user refusals by the backend (not health).
    pub login_refusals: AtomicU64,
    /// `Backend_sessions_lost`: 1152s sent.
    pub sessions_lost: AtomicU64,
    /// `Backend_logins_native_hash` (pass-through).
    pub logins_native_hash: AtomicU64,
    /// `Backend_logins_sha256_fast` (pass-through).
    pub logins_sha256_fast: AtomicU64,
    /// `Backend_logins_cleartext` (pass-through).
    pub logins_cleartext: AtomicU64,
    /// `Backend_full_auth_requests`: `01 04`s sent to clients on the backend's behalf.
    pub full_auth_requests: AtomicU64,
    /// How long admissions took to get their backend connection (pool or new).
    pub checkout_latency: Latency,
    /// How long opening a backend connection took (connect, TLS, login).
    pub open_latency: Latency,
    /// From a relayed command to the first packet of the backend's reply.
    pub reply_latency: Latency,
}

/// Why a checkout failed; [`super::ProxyBackend`] turns it into the client's error.
#[derive(Debug)]
pub(crate) enum CheckoutError {
    /// The backend is down or could not be reached: 1429.
    Unavailable(String),
    /// The backend refused the login with this packet.
    Refused(ErrPacket),
    /// The credential cannot log in to the backend account (pass-through).
    Unsuitable(String),
    /// The pool stayed full for `backend-pool-wait-timeout`: 1040.
    Full,
}

#[derive(Debug)]
struct Health {
    down: bool,
    consecutive_failures: u32,
    next_probe: Instant,
    backoff: Duration,
}

/// Consecutive health failures that mark the backend down.
const DOWN_AFTER: u32 = 3;
const FIRST_BACKOFF: Duration = Duration::from_millis(100);

/// The pool.
pub(crate) struct Pool {
    pub cfg: Arc<ProxyConfig>,
    tls: Option<Arc<rustls::ClientConfig>>,
    capacity: Arc<Semaphore>,
    connecting: Semaphore,
    /// Idle connections, least recently used first.
    idle: Mutex<Vec<BackendConn>>,
    /// Connections being handed back (reset in the background), by key: a checkout of the
    /// same key waits for one rather than opening another (a client that reconnects at once
    /// finds its previous connection still resetting).
    resetting: Mutex<std::collections::HashMap<PoolKey, usize>>,
    /// Woken whenever a hand-back ends.
    handed_back: tokio::sync::Notify,
    health: Mutex<Health>,
    generation: AtomicU64,
    pub stats: PoolStats,
}

impl Pool {
    pub(crate) fn new(cfg: Arc<ProxyConfig>, tls: Option<Arc<rustls::ClientConfig>>) -> Arc<Pool> {
        let pool = Arc::new(Pool {
            capacity: Arc::new(Semaphore::new(cfg.max_connections)),
            connecting: Semaphore::new(cfg.max_connecting),
            idle: Mutex::new(Vec::new()),
            resetting: Mutex::new(std::collections::HashMap::new()),
            handed_back: tokio::sync::Notify::new(),
            health: Mutex::new(Health {
                down: false,
                consecutive_failures: 0,
                next_probe: Instant::now(),
                backoff: FIRST_BACKOFF,
            }),
            generation: AtomicU64::new(0),
            stats: PoolStats::default(),
            tls,
            cfg,
        });
        // The sweeper: idle connections past their idle timeout or lifetime are closed.
        let weak = Arc::downgrade(&pool);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(5));
            loop {
                tick.tick().await;
                let Some(pool) = weak.upgrade() else { return };
                pool.sweep();
            }
        });
        pool
    }

    /// `UP` or `DOWN`.
    pub(crate) fn state(&self) -> &'static str {
        if lock(&self.health).down {
            "DOWN"
        } else {
            "UP"
        }
    }

    /// Open connections (busy and idle), and idle ones.
    pub(crate) fn counts(&self) -> (usize, usize) {
        let busy_or_idle = self.cfg.max_connections - self.capacity.available_permits();
        (busy_or_idle, lock(&self.idle).len())
    }

    fn sweep(&self) {
        let now = Instant::now();
        let mut closing = Vec::new();
        {
            let mut idle = lock(&self.idle);
            let gen = self.generation.load(Ordering::Relaxed);
            let mut i = 0;
            while i < idle.len() {
                let c = &idle[i];
                if now.duration_since(c.last_used) >= self.cfg.idle_timeout
                    || now.duration_since(c.opened) >= self.cfg.max_lifetime
                    || c.generation != gen
                {
                    closing.push(idle.remove(i));
                } else {
                    i += 1;
                }
            }
        }
        for c in closing {
            self.close(c);
        }
    }

    /// Closes a connection in the background (COM_QUIT, so the backend logs no aborted client).
    pub(crate) fn close(&self, conn: BackendConn) {
        self.stats.closed.fetch_add(1, Ordering::Relaxed);
        tokio::spawn(conn.quit());
    }

    /// Drops a connection whose state is unknown (a reply in flight, a failure).
    pub(crate) fn discard(&self, conn: BackendConn) {
        self.stats.closed.fetch_add(1, Ordering::Relaxed);
        drop(conn);
    }

    /// A connection for `key`: an idle one (pinged when it has been idle a while), or a new one
    /// logged in with `params()`. `Ok(true)` when it came from the pool.
    pub(crate) async fn checkout(
        self: &Arc<Self>,
        key: &PoolKey,
        may_open: bool,
        params: impl Fn() -> Result<LoginParams, CheckoutError>,
    ) -> Result<(BackendConn, bool), CheckoutError> {
        let started = Instant::now();
        let got = self.checkout_inner(key, may_open, params).await;
        if got.is_ok() {
            self.stats.checkout_latency.observe(started.elapsed());
        }
        got
    }

    async fn checkout_inner(
        self: &Arc<Self>,
        key: &PoolKey,
        may_open: bool,
        params: impl Fn() -> Result<LoginParams, CheckoutError>,
    ) -> Result<(BackendConn, bool), CheckoutError> {
        self.admit_health()?;
        loop {
            // Registered before looking, so a hand-back that ends in between is not missed.
            let returned = self.handed_back.notified();
            if let Some(conn) = self.checkout_idle(key).await {
                return Ok((conn, true));
            }
            let pending = lock(&self.resetting).get(key).copied().unwrap_or(0);
            if pending == 0 {
                break;
            }
            if tokio::time::timeout(self.cfg.connect_timeout, returned)
                .await
                .is_err()
            {
                break;
            }
        }
        if !may_open {
            return Err(CheckoutError::Unsuitable(
                "no pooled connection, and the credential cannot open one".into(),
            ));
        }
        let permit = self.capacity_permit().await?;
        let _opening = self
            .connecting
            .acquire()
            .await
            .map_err(|_| CheckoutError::Unavailable("pool closed".into()))?;
        let generation = self.generation.load(Ordering::Relaxed);
        let open_started = Instant::now();
        let opened = BackendConn::open(
            &self.cfg.address,
            self.tls.as_ref(),
            params()?,
            self.cfg.connect_timeout,
            permit,
            generation,
            key.clone(),
        )
        .await;
        match opened {
            Ok((mut conn, ok)) => {
                self.stats.open_latency.observe(open_started.elapsed());
                self.stats.opened.fetch_add(1, Ordering::Relaxed);
                self.healthy();
                if let Err(e) = self.after_open(&mut conn, &ok).await {
                    self.discard(conn);
                    self.unhealthy(&e);
                    return Err(CheckoutError::Unavailable(e));
                }
                Ok((conn, false))
            }
            Err(OpenError::Unreachable(e)) => {
                self.unhealthy(&e);
                Err(CheckoutError::Unavailable(e))
            }
            Err(OpenError::Refused(err)) => match err.code {
                // The backend's own connection limit.
                1040 => Err(CheckoutError::Full),
                // The door's address blocked, or the backend shutting down: health.
                1129 | 1053 => {
                    self.unhealthy(&format!("backend error {}: {}", err.code, err.message));
                    Err(CheckoutError::Unavailable(err.message))
                }
                _ => {
                    // One account's refusal says nothing about the backend (docs/proxy.md §5).
                    self.healthy();
                    self.stats.login_refusals.fetch_add(1, Ordering::Relaxed);
                    Err(CheckoutError::Refused(err))
                }
            },
            Err(OpenError::Unsuitable(e)) => {
                // Not a refusal: the door's credential could not answer; the caller decides.
                Err(CheckoutError::Unsuitable(e.to_string()))
            }
        }
    }

    /// An idle connection of `key`, pinged first when it has been idle `validate-after`.
    async fn checkout_idle(&self, key: &PoolKey) -> Option<BackendConn> {
        while let Some(mut conn) = self.take_idle(key) {
            if conn.last_used.elapsed() >= self.cfg.validate_after {
                self.stats.pings.fetch_add(1, Ordering::Relaxed);
                let ping = tokio::time::timeout(self.cfg.connect_timeout, conn.command(&[0x0e]));
                if !matches!(ping.await, Ok(Ok(Ok(_)))) {
                    self.stats.ping_failures.fetch_add(1, Ordering::Relaxed);
                    self.discard(conn);
                    continue;
                }
            }
            self.stats.checkouts_reused.fetch_add(1, Ordering::Relaxed);
            return Some(conn);
        }
        None
    }

    /// Called synchronously as a session lets its connection go, before
    /// [`Pool::hand_back`] runs in the background: later checkouts of the key wait for it.
    pub(crate) fn begin_hand_back(&self, key: &PoolKey) {
        *lock(&self.resetting).entry(key.clone()).or_insert(0) += 1;
    }

    fn end_hand_back(&self, key: &PoolKey) {
        {
            let mut resetting = lock(&self.resetting);
            if let Some(n) = resetting.get_mut(key) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    resetting.remove(key);
                }
            }
        }
        self.handed_back.notify_waiters();
    }

    /// After the login: what COM_RESET_CONNECTION will not restore, the character set.
    async fn after_open(&self, conn: &mut BackendConn, _ok: &LoginOk) -> Result<(), String> {
        let cs = conn
            .query_value("SELECT @@collation_connection")
            .await
            .map_err(|e| format!("reading the session collation: {e}"))?;
        if let Ok(Some(coll)) = cs {
            let coll = String::from_utf8_lossy(&coll).into_owned();
            // Collation names are identifiers of [a-z0-9_]; anything else is not used.
            if coll.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                let charset = coll.split('_').next().unwrap_or_default().to_string();
                conn.set_names = Some(format!("SET NAMES {charset} COLLATE {coll}"));
            }
        }
        Ok(())
    }

    fn take_idle(&self, key: &PoolKey) -> Option<BackendConn> {
        let gen = self.generation.load(Ordering::Relaxed);
        let mut idle = lock(&self.idle);
        loop {
            let i = idle.iter().rposition(|c| c.key == *key)?;
            let conn = idle.remove(i);
            if conn.generation == gen && conn.opened.elapsed() < self.cfg.max_lifetime {
                return Some(conn);
            }
            drop(idle);
            self.discard(conn);
            idle = lock(&self.idle);
        }
    }

    async fn capacity_permit(&self) -> Result<tokio::sync::OwnedSemaphorePermit, CheckoutError> {
        loop {
            match Arc::clone(&self.capacity).try_acquire_owned() {
                Ok(p) => return Ok(p),
                Err(tokio::sync::TryAcquireError::Closed) => {
                    return Err(CheckoutError::Unavailable("pool closed".into()))
                }
                Err(tokio::sync::TryAcquireError::NoPermits) => {}
            }
            // Full: an idle connection of another key gives its place up.
            let lru = {
                let mut idle = lock(&self.idle);
                (!idle.is_empty()).then(|| idle.remove(0))
            };
            match lru {
                Some(c) => {
                    // Its permit is released when it is dropped, after the COM_QUIT.
                    self.stats.closed.fetch_add(1, Ordering::Relaxed);
                    drop(c);
                }
                None => break,
            }
        }
        self.stats.checkout_waits.fetch_add(1, Ordering::Relaxed);
        match tokio::time::timeout(
            self.cfg.wait_timeout,
            Arc::clone(&self.capacity).acquire_owned(),
        )
        .await
        {
            Ok(Ok(p)) => Ok(p),
            _ => {
                self.stats.checkout_timeouts.fetch_add(1, Ordering::Relaxed);
                Err(CheckoutError::Full)
            }
        }
    }

    /// While the backend is down, admissions fail at once, except one each backoff interval,
    /// which tries to open a connection (docs/proxy.md §6.4).
    fn admit_health(&self) -> Result<(), CheckoutError> {
        let mut h = lock(&self.health);
        if !h.down {
            return Ok(());
        }
        let now = Instant::now();
        if now < h.next_probe {
            return Err(CheckoutError::Unavailable("backend marked down".into()));
        }
        h.next_probe = now + h.backoff;
        h.backoff = (h.backoff * 2).min(self.cfg.max_backoff);
        Ok(())
    }

    fn healthy(&self) {
        let mut h = lock(&self.health);
        h.consecutive_failures = 0;
        if h.down {
            h.down = false;
            h.backoff = FIRST_BACKOFF;
            // Every idle connection predates the outage: a restarted backend has closed them.
            self.generation.fetch_add(1, Ordering::Relaxed);
            info!("backend is UP again");
        }
    }

    fn unhealthy(&self, why: &str) {
        self.stats.connect_errors.fetch_add(1, Ordering::Relaxed);
        let mut h = lock(&self.health);
        h.consecutive_failures += 1;
        warn!(
            failures = h.consecutive_failures,
            "backend connection failed: {why}"
        );
        if !h.down && h.consecutive_failures >= DOWN_AFTER {
            h.down = true;
            h.backoff = FIRST_BACKOFF;
            h.next_probe = Instant::now() + FIRST_BACKOFF;
            warn!("backend marked DOWN");
        }
    }

    /// A session lost its backend connection mid-command: the backend may be gone. The next
    /// checkouts find out (their pings or opens fail); idle connections of the same generation
    /// are pinged before use anyway.
    pub(crate) fn session_lost(&self) {
        self.stats.sessions_lost.fetch_add(1, Ordering::Relaxed);
        // Idle connections are likely dead too when the backend went away: validate them all
        // at their next checkout by ageing them.
        let mut idle = lock(&self.idle);
        for c in idle.iter_mut() {
            c.last_used = Instant::now()
                .checked_sub(self.cfg.validate_after)
                .unwrap_or(c.last_used);
        }
    }

    /// The hand-back (docs/proxy.md §6.3): COM_RESET_CONNECTION, the login's character set,
    /// then the key's default database; any failure, or a connection past its lifetime, closes
    /// it. Runs in the background after the client has gone.
    pub(crate) async fn hand_back(self: Arc<Self>, conn: BackendConn) {
        let key = conn.key.clone();
        self.hand_back_inner(conn).await;
        self.end_hand_back(&key);
    }

    async fn hand_back_inner(&self, mut conn: BackendConn) {
        if conn.opened.elapsed() >= self.cfg.max_lifetime
            || conn.generation != self.generation.load(Ordering::Relaxed)
        {
            self.close(conn);
            return;
        }
        let reset = tokio::time::timeout(self.cfg.connect_timeout, self.reset(&mut conn)).await;
        match reset {
            Ok(Ok(())) => {
                self.stats.resets.fetch_add(1, Ordering::Relaxed);
                conn.last_used = Instant::now();
                let evicted = {
                    let mut idle = lock(&self.idle);
                    idle.push(conn);
                    (idle.len() > self.cfg.max_idle).then(|| idle.remove(0))
                };
                if let Some(old) = evicted {
                    self.close(old);
                }
            }
            Ok(Err(e)) => {
                debug!("hand-back failed, closing the backend connection: {e}");
                self.stats.reset_failures.fetch_add(1, Ordering::Relaxed);
                self.discard(conn);
            }
            Err(_) => {
                self.stats.reset_failures.fetch_add(1, Ordering::Relaxed);
                self.discard(conn);
            }
        }
    }

    async fn reset(&self, conn: &mut BackendConn) -> Result<(), String> {
        let fail = |what: &str, e: String| format!("{what}: {e}");
        conn.command(&[0x1f])
            .await
            .map_err(|e| fail("COM_RESET_CONNECTION", e.to_string()))?
            .map_err(|e| fail("COM_RESET_CONNECTION", e.message))?;
        if let Some(set) = conn.set_names.clone() {
            let mut q = vec![0x03];
            q.extend_from_slice(set.as_bytes());
            conn.command(&q)
                .await
                .map_err(|e| fail("SET NAMES", e.to_string()))?
                .map_err(|e| fail("SET NAMES", e.message))?;
        }
        let db = conn
            .query_value("SELECT DATABASE()")
            .await
            .map_err(|e| fail("SELECT DATABASE()", e.to_string()))?
            .map_err(|e| fail("SELECT DATABASE()", e.message))?;
        let want = conn.key.database.clone();
        match (db, want) {
            (None, None) => Ok(()),
            (Some(have), Some(want)) if have == want.as_bytes() => Ok(()),
            (_, Some(want)) => {
                let mut q = vec![0x02];
                q.extend_from_slice(want.as_bytes());
                conn.command(&q)
                    .await
                    .map_err(|e| fail("COM_INIT_DB", e.to_string()))?
                    .map_err(|e| fail("COM_INIT_DB", e.message))?;
                Ok(())
            }
            // MySQL has no way back to "no database".
            (Some(_), None) => Err("the session left a default database".into()),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
