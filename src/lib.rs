//! Vestibule: the front door of a MySQL-compatible service.
//!
//! # The purity contract
//!
//! Everything in this crate outside [`server`] is a *sans-IO* core: plain Rust that takes bytes and
//! events and returns bytes and decisions. The core never touches a socket, a file, a clock or a
//! random-number generator; whatever it needs of those (nonces, salts, the current time, the
//! transport a connection arrived on) is passed in by the caller. It never panics on any input:
//! every parser is a total function returning a value or a typed error. It builds with
//! `--no-default-features`, which CI checks, so this is a build fact rather than a promise.
//!
//! The [`server`] module (feature `server`, on by default) is the thin tokio driver: listeners,
//! TLS through rustls, key and certificate files, the account file, and the command handler.
//!
//! # Embedding: your engine behind Vestibule's door
//!
//! Vestibule owns the connection phase: TLS under an operator's policy, every
//! caching_sha2_password path (the fast path from its cache, full authentication over TLS, the
//! Unix socket or RSA), sha256_password, mysql_native_password, and MySQL's checks after the
//! password (REQUIRE, ACCOUNT LOCK, require_secure_transport, the administrator's connection
//! slot). An embedder supplies two things:
//!
//! * an [`server::AccountStore`]: where accounts come from ([`server::MemoryAccounts`] keeps them
//!   in memory; [`server::FileAccounts`] is the binary's accounts file);
//! * a [`server::Backend`]: asked to [`admit`](server::Backend::admit) each authenticated session
//!   before the client gets its OK (it may still refuse with an error packet), it returns the
//!   session's [`server::Connection`], which answers every command through a [`server::Reply`].
//!
//! ```no_run
//! use std::sync::Arc;
//! use vestibule::auth::Plugin;
//! use vestibule::handshake::Session;
//! use vestibule::server::{Backend, Connection, ConnectionInfo, MemoryAccounts, Reply, Request, Server};
//! use vestibule::wire::packets::{ErrPacket, OkPacket};
//!
//! struct Engine;
//! struct EngineSession;
//!
//! impl Backend for Engine {
//!     type Connection = EngineSession;
//!     async fn admit(&self, _: &Session, _: &ConnectionInfo) -> Result<EngineSession, ErrPacket> {
//!         Ok(EngineSession)
//!     }
//! }
//!
//! impl Connection for EngineSession {
//!     async fn on_command(&mut self, _: Request<'_>, reply: &mut Reply<'_>) -> std::io::Result<()> {
//!         reply.ok(&OkPacket::default());
//!         Ok(())
//!     }
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let accounts = MemoryAccounts::new();
//! accounts.add("app", "%", Plugin::CachingSha2Password, "secret", [7; 20], 5000)?;
//! let server = Server::builder().accounts(accounts).backend(Engine).build()?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3307").await?;
//! server.serve(listener).await;
//! # Ok(())
//! # }
//! ```
//!
//! `examples/embed.rs` is a complete program (TLS from memory, RSA, an admission refusal), and
//! README.md's "Embedding" section says how to run it. [`server::Server::authenticate`] runs
//! only the connection phase, for an embedder that keeps its own command loop.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod account;
pub mod account_ops;
pub mod auth;
pub mod cache;
pub mod client;
pub mod error;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod handshake;
pub mod sql;
pub mod tls_policy;
pub mod wire;

#[cfg(feature = "server")]
pub mod server;
