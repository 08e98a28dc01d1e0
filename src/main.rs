//! `vestibule`: the server binary.

use clap::Parser;
use vestibule::server::config::{normalize_args, Config, Flags};

fn main() -> std::process::ExitCode {
    let flags = Flags::parse_from(normalize_args(std::env::args()));
    let config = match Config::load(flags) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("vestibule: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log_level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // The log (and each login's audit record) is written by a thread of its own through a
    // buffer it flushes whenever it has nothing more queued: a line reaches stderr at once when
    // the server is quiet, and many share one write under load, none on the reactor's threads.
    // Never lossy: a full queue makes the logging thread wait rather than drop an audit record.
    // `_log_guard` flushes what is queued when main returns.
    // The queue holds 4 096 lines (its slots are allocated up front: the crate's default of
    // 128 000 took 4 MiB of RSS for nothing).
    let (writer, _log_guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .buffered_lines_limit(4096)
        .lossy(false)
        .thread_name("vestibule-log")
        .finish(std::io::BufWriter::new(std::io::stderr()));
    if config.log_json {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(writer)
            .json()
            .init();
    } else {
        // The audit records through their own one-pass writer, the rest through `fmt`; the
        // same text either way (vestibule::server::audit_log).
        use tracing_subscriber::filter::filter_fn;
        use tracing_subscriber::prelude::*;
        use vestibule::server::audit_log::{AuditTextLayer, AUDIT_TARGET};
        tracing_subscriber::registry()
            .with(filter)
            .with(
                tracing_subscriber::fmt::layer()
                    .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
                    .with_writer(writer.clone())
                    .with_filter(filter_fn(|m| m.target() != AUDIT_TARGET)),
            )
            .with(
                AuditTextLayer::new(writer).with_filter(filter_fn(|m| m.target() == AUDIT_TARGET)),
            )
            .init();
    }
    // As mysqld does for open_files_limit: enough descriptors for max_connections, so clients
    // past the limit get 1040 rather than waiting in the backlog.
    let wanted = vestibule::server::rlimit::wanted_for(config.max_connections);
    match vestibule::server::rlimit::raise_nofile(wanted) {
        Ok((_, after)) if after < wanted => tracing::warn!(
            after,
            wanted,
            "open files limit below what max_connections needs: clients past it wait instead of getting 1040"
        ),
        Ok((before, after)) if after > before => {
            tracing::info!(before, after, "open files limit raised")
        }
        Ok(_) => {}
        Err(e) => tracing::warn!("cannot raise the open files limit: {e}"),
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("vestibule: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        use std::sync::Arc;
        use vestibule::server::{admin::AdminBackend, proxy::ProxyBackend, Server};
        let mut config = config;
        // Proxy mode: the greeting offers what the backend supports (docs/proxy.md §7).
        let mut probed = None;
        let proxy = match config.proxy.clone() {
            Some(p) => {
                let creds = vestibule::server::proxy::BackendCredentials::load(
                    &p.credentials_file,
                    p.identity,
                )
                .map_err(|e| e.to_string())?;
                match ProxyBackend::probe(&p).await {
                    Ok(probe) => {
                        tracing::info!(
                            backend = %p.address,
                            version = %probe.server_version,
                            collation = probe.character_set,
                            "proxy mode: backend greeting read"
                        );
                        config.capabilities &= probe.capabilities;
                        config.character_set = probe.character_set;
                        probed = Some(probe);
                    }
                    Err(e) => {
                        tracing::warn!(
                            "proxy mode: cannot read the backend's greeting ({e}); \
                             offering utf8mb4_general_ci and the door's own capabilities"
                        );
                        config.character_set = vestibule::client::UTF8MB4_GENERAL_CI;
                    }
                }
                Some((p, creds))
            }
            None => None,
        };
        let (shared, accounts) = vestibule::server::init(config).map_err(|e| e.to_string())?;
        let admin = Arc::new(AdminBackend::new(shared.clone(), accounts.clone()));
        match proxy {
            None => {
                // The binary is one composition of the library: the accounts file as the
                // store, the admin SQL as the backend.
                let server = Server::from_parts(shared.clone(), accounts, admin);
                start_metrics(&shared, None).await?;
                serve_until_signal(server).await
            }
            Some((p, creds)) => {
                let admin_server = Server::from_parts(shared.clone(), accounts.clone(), admin);
                let mut admin_sockets = Vec::new();
                if let Some(path) = &p.admin_socket {
                    let _ = std::fs::remove_file(path);
                    let l = tokio::net::UnixListener::bind(path).map_err(|e| {
                        format!("cannot listen on the admin socket {}: {e}", path.display())
                    })?;
                    tracing::info!(socket = %path.display(), "admin socket: Vestibule's own SQL");
                    let s = admin_server.clone();
                    tokio::spawn(async move { s.serve_unix(l).await });
                    admin_sockets.push(path.clone());
                }
                if let Some(addr) = p.admin_tcp {
                    let l = tokio::net::TcpListener::bind(addr)
                        .await
                        .map_err(|e| format!("cannot listen on the admin address {addr}: {e}"))?;
                    tracing::info!(address = %addr, "admin port: Vestibule's own SQL");
                    let s = admin_server.clone();
                    tokio::spawn(async move { s.serve(l).await });
                }
                let backend = ProxyBackend::new(p, creds)?;
                if let Some(probe) = &probed {
                    backend.learn_from_probe(probe);
                }
                let status = backend.clone();
                shared.set_status_source(Arc::new(move || status.status()));
                start_metrics(&shared, Some(backend.clone())).await?;
                let server = Server::from_parts(shared.clone(), accounts, Arc::new(backend));
                let r = serve_until_signal(server).await;
                for path in admin_sockets {
                    let _ = std::fs::remove_file(path);
                }
                r
            }
        }
    });
    // Blocking tasks (a full authentication in flight) are not waited for beyond this.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("vestibule: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// `--metrics-address`: binds it and serves Prometheus `/metrics` until shutdown (with the
/// backend's pool in proxy mode). Nothing when the option is unset.
async fn start_metrics(
    shared: &std::sync::Arc<vestibule::server::Shared>,
    backend: Option<vestibule::server::proxy::ProxyBackend>,
) -> Result<(), String> {
    let Some(addr) = shared.config.metrics_address else {
        return Ok(());
    };
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on the metrics address {addr}: {e}"))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    tracing::info!(address = %local, "metrics: Prometheus /metrics endpoint");
    tokio::spawn(vestibule::server::metrics::serve(
        listener,
        shared.clone(),
        backend,
    ));
    Ok(())
}

/// Serves until SIGTERM, SIGINT or the SHUTDOWN statement, then shuts down as MySQL does: stop
/// accepting, let logins in flight finish (each is bounded by connect_timeout), then every
/// session gets 1053 at its next read.
async fn serve_until_signal<S, B>(server: vestibule::server::Server<S, B>) -> Result<(), String>
where
    S: vestibule::server::AccountStore,
    B: vestibule::server::Backend,
{
    let shared = server.shared().clone();
    // Handlers first, so a signal that arrives while the listeners bind is not lost.
    let stop = vestibule::server::stop_signal()
        .map_err(|e| format!("cannot install signal handlers: {e}"))?;
    // SHUTDOWN (an administrator's statement) calls `begin_shutdown` itself.
    let statement = shared.shutdown_signal();
    let mut task = tokio::spawn(vestibule::server::run(server));
    let (signal, task_done) = tokio::select! {
        r = &mut task => {
            if !shared.shutting_down() {
                return r.unwrap_or_else(|e| Err(format!("server task failed: {e}")));
            }
            // The listeners stopped because a SHUTDOWN statement began the shutdown.
            ("SHUTDOWN", true)
        }
        s = stop => (s, false),
        () = statement => ("SHUTDOWN", false),
    };
    tracing::info!(
        signal,
        "shutting down: no new connections; open sessions get 1053"
    );
    shared.begin_shutdown();
    if !task_done {
        let _ = task.await;
    }
    let bound = std::time::Duration::from_secs(shared.config.connect_timeout + 1);
    let left = vestibule::server::drain(&shared, bound).await;
    tracing::info!(connections_left = left, "shutdown complete");
    Ok(())
}
