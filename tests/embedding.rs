//! The library API end to end, in process: servers built with `Server::builder()` over real
//! loopback sockets, driven by the crate's minimal client (tests/common). Each test pins one
//! promise of the embedding contract (src/lib.rs, README "Embedding").

mod common;

use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{login_with, Login};
use vestibule::account::{AccountSet, ClientHost};
use vestibule::auth::Plugin;
use vestibule::handshake::Session;
use vestibule::server::{
    Backend, Connection, ConnectionInfo, MemoryAccounts, Reply, Request, Server,
};
use vestibule::wire::packets::{ErrPacket, OkPacket};

/// A backend that records what it was asked to admit and answers every command with OK.
#[derive(Clone, Default)]
struct Recorder {
    admitted: Arc<Mutex<Vec<Session>>>,
}

struct Quiet;

impl Backend for Recorder {
    type Connection = Quiet;
    async fn admit(&self, session: &Session, _: &ConnectionInfo) -> Result<Quiet, ErrPacket> {
        self.admitted.lock().unwrap().push(session.clone());
        Ok(Quiet)
    }
}

impl Connection for Quiet {
    async fn on_command(&mut self, _: Request<'_>, reply: &mut Reply<'_>) -> std::io::Result<()> {
        reply.ok(&OkPacket::default());
        Ok(())
    }
}

fn salt(n: u8) -> [u8; 20] {
    [n; 20]
}

/// A store holding one caching_sha2_password account.
fn one_account(user: &str, pw: &str, seed: u8) -> MemoryAccounts {
    let store = MemoryAccounts::new();
    store
        .add(user, "%", Plugin::CachingSha2Password, pw, salt(seed), 5000)
        .unwrap();
    store
}

/// Fills `server`'s cache for `user`@`%` as a full authentication over TLS would, so the
/// minimal client's plain-TCP login takes the fast path.
fn warm<S: vestibule::server::AccountStore, B: Backend>(
    server: &Server<S, B>,
    user: &str,
    pw: &str,
) {
    server.shared().cache.insert(
        user,
        "%",
        vestibule::auth::caching_sha2::cached_digest(pw.as_bytes()),
    );
}

/// Binds a listener, serves on it in the background, returns the port.
async fn serve<S, B>(server: &Server<S, B>) -> u16
where
    S: vestibule::server::AccountStore,
    B: Backend,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = server.clone();
    tokio::spawn(async move { server.serve(listener).await });
    port
}

/// A login of the minimal client (caching_sha2_password scramble, cleartext after `01 04`:
/// refused on plain TCP), run off the reactor.
async fn login(port: u16, user: &str, pw: &str) -> Login {
    let (user, pw) = (user.to_string(), pw.to_string());
    tokio::task::spawn_blocking(move || {
        let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        login_with(Box::new(s), &user, &pw, None).unwrap().0
    })
    .await
    .unwrap()
}

/// Two servers on one store: a password change evicts the account from both caches, so
/// neither lets the old password through its fast path.
#[tokio::test]
async fn a_store_shared_by_two_servers_evicts_from_both_caches() {
    let store = Arc::new(MemoryAccounts::new());
    store
        .add(
            "app",
            "%",
            Plugin::CachingSha2Password,
            "old-pw",
            salt(1),
            5000,
        )
        .unwrap();
    let build = || {
        Server::builder()
            .accounts_shared(Arc::clone(&store))
            .backend(Recorder::default())
            .build()
            .unwrap()
    };
    let (a, b) = (build(), build());
    let ports = [serve(&a).await, serve(&b).await];
    // Warm both caches: a full authentication needs a secure transport, so fill them the way
    // a login over TLS would.
    for server in [&a, &b] {
        server.shared().cache.insert(
            "app",
            "%",
            vestibule::auth::caching_sha2::cached_digest(b"old-pw"),
        );
    }
    for port in ports {
        assert_eq!(login(port, "app", "old-pw").await, Login::FastPath);
    }
    let mut set = AccountSet::new();
    let auth = vestibule::auth::AuthString::generate(
        Plugin::CachingSha2Password,
        b"new-pw",
        salt(2),
        5000,
    );
    set.create(
        vec![vestibule::account::Account::new(
            "app",
            "%",
            Plugin::CachingSha2Password,
            auth,
        )],
        false,
    )
    .unwrap();
    store.replace(set);
    for port in ports {
        // No cache entry: `01 04`, then the cleartext is refused on plain TCP.
        assert!(matches!(
            login(port, "app", "old-pw").await,
            Login::Error(1045, _)
        ));
    }
}

/// `require_secure_transport(true)` on a server without TLS refuses plain TCP with 3159; it is
/// never silently switched off.
#[tokio::test]
async fn require_secure_transport_without_tls_refuses_plain_tcp() {
    let store = one_account("c2", "pw", 4);
    let server = Server::builder()
        .accounts(store)
        .backend(Recorder::default())
        .require_secure_transport(true)
        .build()
        .unwrap();
    assert!(server.shared().require_secure_transport());
    warm(&server, "c2", "pw");
    let port = serve(&server).await;
    // The right password on the fast path, then the transport check: 3159.
    match login(port, "c2", "pw").await {
        Login::Error(code, _) => assert_eq!(code, 3159),
        other => panic!("{other:?}"),
    }
}

/// An embedded server leaves the default database to the backend: a client naming any
/// database is admitted with `Session::database` set (the admin SQL's schema list is the
/// binary's, not the library's).
#[tokio::test]
async fn the_backend_sees_the_database_the_client_names() {
    let store = one_account("app", "pw", 5);
    let backend = Recorder::default();
    let server = Server::builder()
        .accounts(store)
        .backend(backend.clone())
        .build()
        .unwrap();
    warm(&server, "app", "pw");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let srv = server.clone();
    tokio::spawn(async move { srv.serve(listener).await });
    let outcome = tokio::task::spawn_blocking(move || {
        let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        common::login_with_database(Box::new(s), "app", "pw", "inventory")
    })
    .await
    .unwrap();
    assert_eq!(outcome, Login::FastPath);
    let admitted = backend.admitted.lock().unwrap();
    assert_eq!(admitted.len(), 1);
    assert_eq!(admitted[0].database.as_deref(), Some("inventory"));
}

/// `Server::authenticate` counts the connection (`Threads_connected`, until its slot is
/// dropped), keeps MySQL's `max_connections` + 1 (the last for an administrator) and returns
/// the greeting's connection id.
#[tokio::test]
async fn authenticate_takes_a_connection_slot() {
    let store = one_account("app", "pw", 6);
    let server = Server::builder()
        .accounts(store)
        .max_connections(1)
        .build()
        .unwrap();
    warm(&server, "app", "pw");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let srv = server.clone();
    let accepted = tokio::spawn(async move {
        let mut out = Vec::new();
        for _ in 0..3 {
            let (stream, peer) = listener.accept().await.unwrap();
            out.push(srv.authenticate(stream, ClientHost::Tcp(peer.ip())).await);
        }
        out
    });
    let clients: Vec<_> = (0..3)
        .map(|_| {
            std::thread::spawn(move || {
                let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
                s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                let (login, session) = login_with(Box::new(s), "app", "pw", None)
                    .unwrap_or((Login::Error(0, "i/o".into()), None));
                (login, session.is_some())
            })
        })
        .collect();
    let outcomes = accepted.await.unwrap();
    let logins: Vec<Login> = clients.into_iter().map(|c| c.join().unwrap().0).collect();
    // One ordinary slot, one for an administrator (not this account), then none.
    let ok: Vec<&vestibule::server::Authenticated> =
        outcomes.iter().filter_map(|o| o.as_ref().ok()).collect();
    assert_eq!(ok.len(), 1, "{logins:?}");
    assert_ne!(ok[0].id, 0);
    assert_eq!(
        server
            .shared()
            .stats
            .threads_connected
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
    assert_eq!(
        logins
            .iter()
            .filter(|l| matches!(l, Login::Error(1040, _)))
            .count(),
        2,
        "{logins:?}"
    );
    drop(outcomes);
    assert_eq!(
        server
            .shared()
            .stats
            .threads_connected
            .load(std::sync::atomic::Ordering::Relaxed),
        0
    );
}
