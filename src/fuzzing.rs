//! Fuzz bodies, one per parser, shared by the cargo-fuzz targets in `fuzz/` and by the corpus
//! replay test (`tests/fuzz_corpus.rs`), so every committed corpus file is checked by
//! `cargo test --features fuzzing` on the stable toolchain (`scripts/test.sh` passes the feature).
//!
//! Test harness, not API: this module and the bodies it lists exist only with the `fuzzing`
//! feature (the crate's own unit tests also build the bodies, as oracles) and are hidden from the
//! docs.
//!
//! Each body must not panic on any input except where it asserts an invariant of the code under
//! test (a round trip, a bound) — a panic there is a finding.

/// A fuzz body.
pub type Body = fn(&[u8]);

/// `(target name, body)` of the pure core; the name is the cargo-fuzz target and the corpus folder.
pub const TARGETS: &[(&str, Body)] = &[
    ("frame", crate::wire::frame::fuzz_frames),
    (
        "client_packets",
        crate::wire::handshake::fuzz_client_packets,
    ),
    ("command", crate::wire::command::fuzz_command),
    (
        "response_tracker",
        crate::wire::response::fuzz_response_tracker,
    ),
    ("auth_string", crate::auth::fuzz_auth_string),
    ("accounts_file", crate::account::fuzz_accounts_file),
    ("tls_version", crate::tls_policy::fuzz_tls_versions),
    ("cipher_list", crate::tls_policy::fuzz_cipher_lists),
    ("sql", crate::sql::fuzz_parse),
    ("handshake", crate::handshake::fuzz::fuzz_handshake),
    ("client_login", crate::client::fuzz_login),
];

/// The server's parsers: certificate names (DN strings) and the config file.
#[cfg(feature = "server")]
pub const SERVER_TARGETS: &[(&str, Body)] = &[
    ("dn", crate::server::tls::fuzz_dn),
    ("config", crate::server::config::fuzz_config_file),
];

/// Every target this build has.
pub fn all() -> impl Iterator<Item = &'static (&'static str, Body)> {
    #[cfg(feature = "server")]
    let server = SERVER_TARGETS;
    #[cfg(not(feature = "server"))]
    let server: &[(&str, Body)] = &[];
    TARGETS.iter().chain(server)
}

/// The body of a target by name.
pub fn target(name: &str) -> Option<Body> {
    all().find(|(n, _)| *n == name).map(|(_, f)| *f)
}
