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
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
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
        use vestibule::server::{admin::AdminBackend, Server};
        // The binary is one composition of the library: the accounts file as the store, the
        // admin SQL as the backend.
        let (shared, accounts) = vestibule::server::init(config).map_err(|e| e.to_string())?;
        let backend = AdminBackend::new(shared.clone(), accounts.clone());
        let server = Server::from_parts(shared.clone(), accounts, std::sync::Arc::new(backend));
        // Handlers first, so a signal that arrives while the listeners bind is not lost.
        let stop = vestibule::server::stop_signal()
            .map_err(|e| format!("cannot install signal handlers: {e}"))?;
        let mut server = tokio::spawn(vestibule::server::run(server));
        let signal = tokio::select! {
            r = &mut server => {
                return r.unwrap_or_else(|e| Err(format!("server task failed: {e}")));
            }
            s = stop => s,
        };
        // MySQL's shutdown: stop accepting, let logins in flight finish (each is bounded by
        // connect_timeout), then every session gets 1053 at its next read.
        tracing::info!(
            signal,
            "shutting down: no new connections; open sessions get 1053"
        );
        shared.begin_shutdown();
        let _ = server.await;
        let bound = std::time::Duration::from_secs(shared.config.connect_timeout + 1);
        let left = vestibule::server::drain(&shared, bound).await;
        tracing::info!(connections_left = left, "shutdown complete");
        Ok(())
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
