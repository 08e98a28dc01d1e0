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
        let shared = vestibule::server::init(config)?;
        tokio::select! {
            r = vestibule::server::run(shared) => r,
            _ = tokio::signal::ctrl_c() => {
                tracing::info!("shutting down");
                Ok(())
            }
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("vestibule: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
