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
#![forbid(unsafe_code)]

pub mod account;
pub mod account_ops;
pub mod auth;
pub mod cache;
pub mod fuzzing;
pub mod handshake;
pub mod sql;
pub mod tls_policy;
pub mod wire;

#[cfg(feature = "server")]
pub mod server;
