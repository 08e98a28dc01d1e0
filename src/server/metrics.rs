//! The optional Prometheus `/metrics` endpoint (`--metrics-address`, docs/proxy.md §7 and §10):
//! connections, logins by path and result, TLS handshakes by version, and in proxy mode the
//! backend pool's state, counters and latency histograms.
//!
//! Nothing is counted twice: a [`ServerCollector`] reads the live counters ([`super::Stats`],
//! the TLS state's, [`ProxyBackend::status`] and [`ProxyBackend::stats`]) at each scrape and
//! hands them to `prometheus-client`, which writes the Prometheus text format (0.0.4). An
//! embedder with its own registry can register a [`ServerCollector`] there instead of running
//! [`serve`].
//!
//! The HTTP side is hyper's HTTP/1 server on the runtime: `GET /metrics` (or `HEAD`) answers
//! the exposition, any other path 404, any other method on `/metrics` 405. It serves plain HTTP
//! only: bind it to an address only the scraper reaches.

use std::convert::Infallible;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Method, Request, Response, StatusCode};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric, NoLabelSet};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::{Registry, Unit};
use tokio::net::TcpListener;
use tracing::{debug, warn};

use super::proxy::{Latency, ProxyBackend};
use super::Shared;

/// The `Content-Type` of the exposition (the Prometheus text format, version 0.0.4).
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// Every metric's name starts with it.
pub const PREFIX: &str = "vestibule";

/// Scrape connections served at once; a connection beyond them is closed at once.
const MAX_CONNECTIONS: u64 = 64;

/// How long a client may take to send a request's headers.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// `Backend_*` status variables that are gauges (the others are counters; `Backend_state`
/// becomes `vestibule_backend_up`).
const BACKEND_GAUGES: [&str; 2] = ["Backend_connections", "Backend_connections_idle"];

/// A `prometheus-client` collector of the server's live counters: [`super::Stats`], the TLS
/// handshake counters and, in proxy mode, the backend's (read at each scrape).
#[derive(Clone)]
pub struct ServerCollector {
    shared: Arc<Shared>,
    backend: Option<ProxyBackend>,
}

impl fmt::Debug for ServerCollector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerCollector")
            .field("proxy", &self.backend.is_some())
            .finish_non_exhaustive()
    }
}

impl ServerCollector {
    /// A collector of `shared`'s counters and, in proxy mode, `backend`'s.
    pub fn new(shared: Arc<Shared>, backend: Option<ProxyBackend>) -> ServerCollector {
        ServerCollector { shared, backend }
    }

    /// The values now.
    fn read(&self) -> Scrape {
        let s = &self.shared.stats;
        let c = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Scrape {
            connections: c(&s.connections),
            threads_connected: c(&s.threads_connected),
            aborted_connects: c(&s.aborted_connects),
            logins_fast: c(&s.fast_path_auths),
            logins_full: c(&s.full_auths),
            logins_other: c(&s.other_auths),
            login_failures: c(&s.login_failures),
            questions: c(&s.questions),
            tls_accepts: c(&self.shared.tls.accepts),
            tls_v12: c(&s.tls_v12),
            tls_v13: c(&s.tls_v13),
            uptime_seconds: self.shared.started.elapsed().as_secs_f64(),
            backend: self.backend.as_ref().map(|b| {
                let stats = b.stats();
                BackendScrape {
                    status: b.status(),
                    checkout: Histogram::read(&stats.checkout_latency),
                    open: Histogram::read(&stats.open_latency),
                    reply: Histogram::read(&stats.reply_latency),
                }
            }),
        }
    }
}

impl Collector for ServerCollector {
    fn encode(&self, encoder: DescriptorEncoder) -> fmt::Result {
        self.read().encode(encoder)
    }
}

/// A registry (prefix [`PREFIX`]) holding a [`ServerCollector`] of `shared` and `backend`.
pub fn registry(shared: Arc<Shared>, backend: Option<ProxyBackend>) -> Registry {
    let mut registry = Registry::with_prefix(PREFIX);
    registry.register_collector(Box::new(ServerCollector::new(shared, backend)));
    registry
}

/// The exposition of `registry` (Prometheus text format, [`CONTENT_TYPE`]).
pub fn render(registry: &Registry) -> String {
    let mut out = String::new();
    // Writing into a String fails only if a collector fails, and ours do not.
    if let Err(e) = prometheus_client::encoding::prometheus_text::encode(&mut out, registry) {
        warn!("cannot encode the metrics: {e}");
    }
    out
}

/// Serves `/metrics` on `listener` until [`Shared::begin_shutdown`]: the counters of `shared`
/// and, in proxy mode, of `backend`. Connections open at shutdown finish the request in
/// progress and close.
pub async fn serve(listener: TcpListener, shared: Arc<Shared>, backend: Option<ProxyBackend>) {
    let registry = Arc::new(registry(Arc::clone(&shared), backend));
    let open = Arc::new(AtomicU64::new(0));
    let stop = shared.shutdown_signal();
    tokio::pin!(stop);
    loop {
        let accepted = tokio::select! {
            r = listener.accept() => r,
            () = &mut stop => break,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                warn!(listener = "metrics", "accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        if open.load(Ordering::Relaxed) >= MAX_CONNECTIONS {
            debug!(%peer, "metrics: too many scrape connections; closing this one");
            continue;
        }
        open.fetch_add(1, Ordering::Relaxed);
        let registry = Arc::clone(&registry);
        let open = Arc::clone(&open);
        let stop = shared.shutdown_signal();
        tokio::spawn(async move {
            if let Err(e) = connection(stream, registry, stop).await {
                debug!(%peer, "metrics connection ended: {e}");
            }
            open.fetch_sub(1, Ordering::Relaxed);
        });
    }
}

/// One HTTP/1 connection: requests until the client closes, or until `stop` (the request in
/// progress is answered first).
async fn connection(
    stream: tokio::net::TcpStream,
    registry: Arc<Registry>,
    stop: impl std::future::Future<Output = ()>,
) -> Result<(), hyper::Error> {
    let service = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
        let registry = Arc::clone(&registry);
        async move { Ok::<_, Infallible>(respond(req.method(), req.uri().path(), &registry)) }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    let conn = builder.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::pin!(stop);
    tokio::select! {
        r = conn.as_mut() => r,
        () = &mut stop => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    }
}

/// The answer to `method` on `path`.
fn respond(method: &Method, path: &str, registry: &Registry) -> Response<Full<Bytes>> {
    let plain = |status: StatusCode, text: &'static str| {
        let mut r = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
        *r.status_mut() = status;
        r.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        r
    };
    if path != "/metrics" {
        return plain(
            StatusCode::NOT_FOUND,
            "not found: the metrics are at /metrics\n",
        );
    }
    if method != Method::GET && method != Method::HEAD {
        let mut r = plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
        r.headers_mut().insert(
            hyper::header::ALLOW,
            hyper::header::HeaderValue::from_static("GET, HEAD"),
        );
        return r;
    }
    let mut r = Response::new(Full::new(Bytes::from(render(registry))));
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static(CONTENT_TYPE),
    );
    r
}

/// The values of one scrape.
#[derive(Debug, Clone, Default)]
struct Scrape {
    connections: u64,
    threads_connected: u64,
    aborted_connects: u64,
    logins_fast: u64,
    logins_full: u64,
    logins_other: u64,
    login_failures: u64,
    questions: u64,
    tls_accepts: u64,
    tls_v12: u64,
    tls_v13: u64,
    uptime_seconds: f64,
    backend: Option<BackendScrape>,
}

/// Proxy mode's part of a scrape.
#[derive(Debug, Clone, Default)]
struct BackendScrape {
    /// [`ProxyBackend::status`].
    status: Vec<(String, String)>,
    checkout: Histogram,
    open: Histogram,
    reply: Histogram,
}

/// A [`Latency`] read once: per-bucket counts (not cumulative; the encoder adds them up) with
/// `+Inf` last, the sum in seconds, and the count.
#[derive(Debug, Clone, Default, PartialEq)]
struct Histogram {
    buckets: Vec<(f64, u64)>,
    sum: f64,
    count: u64,
}

impl Histogram {
    fn read(l: &Latency) -> Histogram {
        let mut buckets: Vec<(f64, u64)> = Latency::BOUNDS
            .iter()
            .zip(&l.buckets)
            .map(|(bound, n)| (*bound, n.load(Ordering::Relaxed)))
            .collect();
        buckets.push((f64::INFINITY, l.overflow.load(Ordering::Relaxed)));
        // The count is the buckets' total, so `+Inf` equals `_count` even while an observation
        // is half recorded.
        let count = buckets.iter().map(|(_, n)| n).sum();
        Histogram {
            buckets,
            sum: l.sum_micros.load(Ordering::Relaxed) as f64 / 1e6,
            count,
        }
    }

    fn encode(&self, enc: &mut DescriptorEncoder, name: &str, help: &str) -> fmt::Result {
        let mut m =
            enc.encode_descriptor(name, help, Some(&Unit::Seconds), MetricType::Histogram)?;
        m.encode_histogram::<NoLabelSet>(self.sum, self.count, &self.buckets, None)
    }
}

fn counter(enc: &mut DescriptorEncoder, name: &str, help: &str, v: u64) -> fmt::Result {
    ConstCounter::new(v).encode(enc.encode_descriptor(name, help, None, MetricType::Counter)?)
}

fn gauge(enc: &mut DescriptorEncoder, name: &str, help: &str, v: u64) -> fmt::Result {
    ConstGauge::new(v).encode(enc.encode_descriptor(name, help, None, MetricType::Gauge)?)
}

/// A counter with one label, one series per value.
fn counter_by(
    enc: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    label: &str,
    series: &[(&str, u64)],
) -> fmt::Result {
    let mut m = enc.encode_descriptor(name, help, None, MetricType::Counter)?;
    for (value, n) in series {
        ConstCounter::new(*n).encode(m.encode_family(&[(label, *value)])?)?;
    }
    Ok(())
}

impl Scrape {
    fn encode(&self, mut enc: DescriptorEncoder) -> fmt::Result {
        let enc = &mut enc;
        counter(
            enc,
            "connections",
            "Connection attempts, successful or not (Connections).",
            self.connections,
        )?;
        gauge(
            enc,
            "threads_connected",
            "Client connections open now (Threads_connected).",
            self.threads_connected,
        )?;
        counter(
            enc,
            "aborted_connects",
            "Connection phases that ended without a session (Aborted_connects).",
            self.aborted_connects,
        )?;
        counter_by(
            enc,
            "logins",
            "Successful logins by path: fast (caching_sha2_password's cache), full (the stored \
             hash checked), other (mysql_native_password, no password).",
            "path",
            &[
                ("fast", self.logins_fast),
                ("full", self.logins_full),
                ("other", self.logins_other),
            ],
        )?;
        counter(
            enc,
            "login_failures",
            "Logins refused with an error (wrong password, unknown user, REQUIRE not met ...).",
            self.login_failures,
        )?;
        counter(
            enc,
            "questions",
            "COM_QUERY packets received (Questions).",
            self.questions,
        )?;
        counter(
            enc,
            "tls_accepts",
            "TLS handshakes started (Ssl_accepts).",
            self.tls_accepts,
        )?;
        counter_by(
            enc,
            "tls_handshakes",
            "TLS handshakes completed, by protocol version.",
            "version",
            &[("TLSv1.2", self.tls_v12), ("TLSv1.3", self.tls_v13)],
        )?;
        ConstGauge::new(self.uptime_seconds).encode(enc.encode_descriptor(
            "uptime",
            "Time since the server started (Uptime).",
            Some(&Unit::Seconds),
            MetricType::Gauge,
        )?)?;
        if let Some(b) = &self.backend {
            b.encode(enc)?;
        }
        Ok(())
    }
}

impl BackendScrape {
    fn encode(&self, enc: &mut DescriptorEncoder) -> fmt::Result {
        for (name, value) in &self.status {
            if name == "Backend_state" {
                gauge(
                    enc,
                    "backend_up",
                    "1 while the backend is healthy (Backend_state UP), 0 while it is DOWN.",
                    u64::from(value == "UP"),
                )?;
                continue;
            }
            let Ok(v) = value.parse::<u64>() else {
                continue;
            };
            let metric = name.to_ascii_lowercase();
            let help = format!("{}.", backend_help(name));
            if BACKEND_GAUGES.contains(&name.as_str()) {
                gauge(enc, &metric, &help, v)?;
            } else {
                counter(enc, &metric, &help, v)?;
            }
        }
        self.checkout.encode(
            enc,
            "backend_checkout",
            "Time a new session waited for a backend connection from the pool.",
        )?;
        self.open.encode(
            enc,
            "backend_open",
            "Time opening a backend connection took (connect, TLS, login).",
        )?;
        self.reply.encode(
            enc,
            "backend_reply",
            "Time from a relayed command to the first packet of the backend's reply.",
        )
    }
}

/// What a `Backend_*` status variable counts (docs/proxy.md §10).
fn backend_help(name: &str) -> &str {
    match name {
        "Backend_connections" => "Backend connections open now, busy or idle",
        "Backend_connections_idle" => "Idle backend connections in the pool now",
        "Backend_connections_opened" => "Backend connections opened",
        "Backend_connections_closed" => "Backend connections closed",
        "Backend_connect_errors" => "Backend opens that failed for health reasons",
        "Backend_checkouts" => "Admissions served a backend connection",
        "Backend_checkouts_reused" => "Admissions served an idle backend connection",
        "Backend_checkout_waits" => "Admissions that waited on a full pool",
        "Backend_checkout_timeouts" => "Admissions refused with 1040 after waiting",
        "Backend_resets" => "Backend connections reset at hand-back",
        "Backend_reset_failures" => "Resets that failed (the connection was closed)",
        "Backend_pings" => "Idle backend connections validated at checkout",
        "Backend_ping_failures" => "Validations that failed",
        "Backend_login_refusals" => "Backend logins refused for a user (not health)",
        "Backend_sessions_lost" => "Sessions ended with 1152 when their backend connection broke",
        "Backend_logins_native_hash" => "Pass-through logins with the mysql_native_password hash",
        "Backend_logins_sha256_fast" => "Pass-through logins on caching_sha2's fast path",
        "Backend_logins_cleartext" => "Pass-through logins with the cleartext password",
        "Backend_full_auth_requests" => "Full-authentication requests sent for the backend",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A collector of fixed values.
    #[derive(Debug)]
    struct Fixed(Scrape);

    impl Collector for Fixed {
        fn encode(&self, encoder: DescriptorEncoder) -> fmt::Result {
            self.0.encode(encoder)
        }
    }

    fn render_scrape(s: Scrape) -> String {
        let mut registry = Registry::with_prefix(PREFIX);
        registry.register_collector(Box::new(Fixed(s)));
        render(&registry)
    }

    /// The sample lines (not `#` lines) of an exposition.
    fn samples(text: &str) -> Vec<&str> {
        text.lines().filter(|l| !l.starts_with('#')).collect()
    }

    #[test]
    fn server_metrics_have_their_names_types_and_values() {
        let text = render_scrape(Scrape {
            connections: 7,
            threads_connected: 2,
            aborted_connects: 1,
            logins_fast: 3,
            logins_full: 2,
            logins_other: 1,
            login_failures: 1,
            questions: 11,
            tls_accepts: 4,
            tls_v12: 1,
            tls_v13: 3,
            uptime_seconds: 1.5,
            backend: None,
        });
        assert_eq!(
            samples(&text),
            [
                "vestibule_connections_total 7",
                "vestibule_threads_connected 2",
                "vestibule_aborted_connects_total 1",
                "vestibule_logins_total{path=\"fast\"} 3",
                "vestibule_logins_total{path=\"full\"} 2",
                "vestibule_logins_total{path=\"other\"} 1",
                "vestibule_login_failures_total 1",
                "vestibule_questions_total 11",
                "vestibule_tls_accepts_total 4",
                "vestibule_tls_handshakes_total{version=\"TLSv1.2\"} 1",
                "vestibule_tls_handshakes_total{version=\"TLSv1.3\"} 3",
                "vestibule_uptime_seconds 1.5",
            ],
            "{text}"
        );
        for line in [
            "# TYPE vestibule_connections_total counter",
            "# TYPE vestibule_threads_connected gauge",
            "# TYPE vestibule_logins_total counter",
            "# TYPE vestibule_uptime_seconds gauge",
            "# HELP vestibule_questions_total COM_QUERY packets received (Questions).",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing:\n{text}");
        }
        assert!(!text.contains("backend"), "{text}");
    }

    /// The histograms' buckets are cumulative, `+Inf` equals `_count`, the sum is in seconds;
    /// every numeric `Backend_*` is there under its snake-case name, gauges and counters as
    /// docs/proxy.md §10 says, and `Backend_state` is `vestibule_backend_up`.
    #[test]
    fn backend_metrics_and_cumulative_histograms() {
        let checkout = Latency::default();
        for micros in [50, 80, 300, 2_000, 2_000, 7_000_000] {
            checkout.observe(Duration::from_micros(micros));
        }
        let h = Histogram::read(&checkout);
        assert_eq!(h.count, 6);
        assert_eq!(h.buckets.len(), Latency::BOUNDS.len() + 1);
        assert_eq!(h.buckets[0], (0.0001, 2));
        assert_eq!(h.buckets.last(), Some(&(f64::INFINITY, 1)));
        let status = [
            ("Backend_state", "UP"),
            ("Backend_connections", "3"),
            ("Backend_connections_idle", "1"),
            ("Backend_connections_opened", "4"),
            ("Backend_checkouts", "9"),
            ("Backend_future_text", "n/a"),
        ]
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .to_vec();
        let text = render_scrape(Scrape {
            backend: Some(BackendScrape {
                status: status.clone(),
                checkout: h,
                open: Histogram::read(&Latency::default()),
                reply: Histogram::read(&Latency::default()),
            }),
            ..Scrape::default()
        });
        let lines = samples(&text);
        let backend: Vec<&str> = lines
            .iter()
            .copied()
            .filter(|l| l.starts_with("vestibule_backend_") && !l.contains("_seconds"))
            .collect();
        assert_eq!(
            backend,
            [
                "vestibule_backend_up 1",
                "vestibule_backend_connections 3",
                "vestibule_backend_connections_idle 1",
                "vestibule_backend_connections_opened_total 4",
                "vestibule_backend_checkouts_total 9",
            ],
            "{text}"
        );
        let checkout: Vec<&str> = lines
            .iter()
            .copied()
            .filter(|l| l.starts_with("vestibule_backend_checkout_seconds"))
            .collect();
        assert_eq!(
            checkout,
            [
                "vestibule_backend_checkout_seconds_bucket{le=\"0.0001\"} 2",
                "vestibule_backend_checkout_seconds_bucket{le=\"0.00025\"} 2",
                "vestibule_backend_checkout_seconds_bucket{le=\"0.0005\"} 3",
                "vestibule_backend_checkout_seconds_bucket{le=\"0.001\"} 3",
                "vestibule_backend_checkout_seconds_bucket{le=\"0.0025\"} 5",
                "vestibule_backend_checkout_seconds_bucket{le=\"0.005\"} 5",
                "vestibule_backend_checkout_seconds_bucket{le=\"0.01\"} 5",
                "vestibule_backend_checkout_seconds_bucket{le=\"0.025\"} 5",
                "vestibule_backend_checkout_seconds_bucket{le=\"0.05\"} 5",
                "vestibule_backend_checkout_seconds_bucket{le=\"0.1\"} 5",
                "vestibule_backend_checkout_seconds_bucket{le=\"0.25\"} 5",
                "vestibule_backend_checkout_seconds_bucket{le=\"1\"} 5",
                "vestibule_backend_checkout_seconds_bucket{le=\"5\"} 5",
                "vestibule_backend_checkout_seconds_bucket{le=\"+Inf\"} 6",
                "vestibule_backend_checkout_seconds_sum 7.00443",
                "vestibule_backend_checkout_seconds_count 6",
            ],
            "{text}"
        );
        for line in [
            "# TYPE vestibule_backend_up gauge",
            "# TYPE vestibule_backend_connections gauge",
            "# TYPE vestibule_backend_connections_opened_total counter",
            "# TYPE vestibule_backend_checkout_seconds histogram",
            "# TYPE vestibule_backend_open_seconds histogram",
            "# TYPE vestibule_backend_reply_seconds histogram",
            "vestibule_backend_open_seconds_count 0",
            "vestibule_backend_reply_seconds_bucket{le=\"+Inf\"} 0",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing:\n{text}");
        }

        let down: Vec<(String, String)> = vec![("Backend_state".into(), "DOWN".into())];
        let text = render_scrape(Scrape {
            backend: Some(BackendScrape {
                status: down,
                ..BackendScrape::default()
            }),
            ..Scrape::default()
        });
        assert!(
            text.lines().any(|l| l == "vestibule_backend_up 0"),
            "{text}"
        );
    }

    #[test]
    fn only_get_and_head_of_metrics_are_answered() {
        let registry = Registry::with_prefix(PREFIX);
        let r = respond(&Method::GET, "/metrics", &registry);
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()[hyper::header::CONTENT_TYPE], CONTENT_TYPE);
        assert_eq!(
            respond(&Method::HEAD, "/metrics", &registry).status(),
            StatusCode::OK
        );
        assert_eq!(
            respond(&Method::GET, "/", &registry).status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            respond(&Method::GET, "/metrics/x", &registry).status(),
            StatusCode::NOT_FOUND
        );
        let post = respond(&Method::POST, "/metrics", &registry);
        assert_eq!(post.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(post.headers()[hyper::header::ALLOW], "GET, HEAD");
    }
}
