//! The one loop that carries out the machine's [`Action`]s: every driver — the tokio server,
//! the unit tests, the model test and the fuzzer — runs it, and differs only in its
//! [`Environment`]: how it writes bytes, upgrades to TLS, finds accounts, runs slow checks,
//! fills the cache and admits sessions.
//!
//! It is `async` so that the server's environment can do real I/O; it uses no runtime. The
//! synchronous environments (tests, fuzzing) return ready futures and run it with
//! [`run_ready`].

use std::collections::VecDeque;
use std::future::Future;

use super::{
    Action, CachedDigest, Event, Handshake, HandshakeError, LockState, Lookup, RequireFailure,
    Session, SlowCheck, TlsInfo, Verdict,
};

/// [`super::Action::TrackFailedLogins`] as the driver gets it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedLogin {
    /// The account's user name.
    pub user: String,
    /// The account's host pattern.
    pub host: String,
    /// The plugin's verdict.
    pub password_ok: bool,
    /// `FAILED_LOGIN_ATTEMPTS`.
    pub attempts: u32,
    /// `PASSWORD_LOCK_TIME` in days; `None` for UNBOUNDED.
    pub lock_days: Option<u32>,
}
use crate::auth::AuthString;
use crate::wire::packets::ErrPacket;

/// What a driver does for the machine.
pub trait Environment {
    /// Why the driver gave up (a socket error …); ends [`carry`] at once.
    type Error;

    /// Writes these framed bytes to the client.
    fn send(&mut self, bytes: Vec<u8>) -> impl Future<Output = Result<(), Self::Error>> + Send;

    /// Runs the server side of a TLS handshake on the connection and describes the result.
    fn start_tls(&mut self) -> impl Future<Output = Result<TlsInfo, Self::Error>> + Send;

    /// Finds the account `user` logs in as from this connection's client host, with its
    /// caching_sha2_password cache entry, or the decoy of an unknown user.
    fn lookup(&mut self, user: String) -> impl Future<Output = Lookup> + Send;

    /// Runs a SHA-256-crypt / RSA check (off the reactor, in a server).
    fn slow_check(&mut self, check: SlowCheck) -> impl Future<Output = Verdict> + Send;

    /// Puts `digest` into the cache for the account — only while `verified` is still its
    /// stored credential (see [`super::fill_cache_if_current`]).
    fn fill_cache(
        &mut self,
        user: String,
        host: String,
        slot: usize,
        digest: CachedDigest,
        verified: AuthString,
    );

    /// Updates the failed-login counter of an account with FAILED_LOGIN_ATTEMPTS and answers
    /// whether it is blocked ([`super::Action::TrackFailedLogins`]). The default keeps no
    /// state: never blocked.
    fn track_failed_logins(&mut self, track: FailedLogin) -> LockState {
        let _ = track;
        LockState::Open
    }

    /// Asks the backend to take the session ([`super::ServerParams::admission`]).
    fn admit(&mut self, session: &Session) -> impl Future<Output = Result<(), ErrPacket>> + Send;

    /// After [`Environment::admit`] refused: whether the backend asked for the client's
    /// cleartext password instead ([`Event::CleartextNeeded`]). The default: never.
    fn admission_needs_cleartext(&mut self) -> bool {
        false
    }

    /// The account's REQUIRE clause was not met (for the log; the client gets 1045).
    fn require_not_met(&mut self, reason: RequireFailure) {
        let _ = reason;
    }

    /// The login failed with this error (its packet has been sent).
    fn failed(&mut self, error: &HandshakeError) {
        let _ = error;
    }
}

/// Where the exchange stands once the actions of a step are carried out.
#[derive(Debug)]
pub enum Step {
    /// The machine waits for the client's next packet.
    NeedPacket,
    /// The login succeeded: its OK has been sent.
    Authenticated(Box<Session>),
    /// The exchange is over without a session: close the connection. `error` is why (`None`:
    /// nothing to report); `ignored` counts actions the machine emitted after its `Close`
    /// (always 0: the fuzzer checks it).
    Closed {
        /// The error the login failed with, if any.
        error: Option<HandshakeError>,
        /// Actions after `Close`, not carried out.
        ignored: usize,
    },
}

/// Carries out `actions`, feeding each answer back into `hs`, until the machine waits for a
/// packet, authenticates or closes.
pub async fn carry<E: Environment>(
    hs: &mut Handshake,
    actions: Vec<Action>,
    env: &mut E,
) -> Result<Step, E::Error> {
    let mut pending: VecDeque<Action> = actions.into();
    // The machine's answers to each event, moved on to `pending` (one buffer for the whole run).
    let mut answers = Vec::new();
    let mut failure = None;
    while let Some(action) = pending.pop_front() {
        match action {
            Action::Send(bytes) => env.send(bytes).await?,
            Action::StartTls => {
                let info = env.start_tls().await?;
                pending.extend(handle(hs, &mut answers, Event::TlsEstablished(info)));
            }
            Action::LookupAccount { user } => {
                let lookup = env.lookup(user).await;
                pending.extend(handle(hs, &mut answers, Event::Account(lookup)));
            }
            Action::RunSlowCheck(check) => {
                let verdict = env.slow_check(check).await;
                pending.extend(handle(hs, &mut answers, Event::Verdict(verdict)));
            }
            Action::FillCache {
                user,
                host,
                slot,
                digest,
                verified,
            } => env.fill_cache(user, host, slot, digest, verified),
            Action::TrackFailedLogins {
                user,
                host,
                password_ok,
                attempts,
                lock_days,
            } => {
                let lock = env.track_failed_logins(FailedLogin {
                    user,
                    host,
                    password_ok,
                    attempts,
                    lock_days,
                });
                pending.extend(handle(hs, &mut answers, Event::LockState(lock)));
            }
            Action::Admit(session) => {
                let event = match env.admit(&session).await {
                    Err(_) if env.admission_needs_cleartext() => Event::CleartextNeeded,
                    verdict => Event::Admission(verdict.map(|()| session)),
                };
                pending.extend(handle(hs, &mut answers, event));
            }
            Action::Authenticated(session) => return Ok(Step::Authenticated(session)),
            Action::RequireNotMet(reason) => env.require_not_met(reason),
            Action::Failed(e) => {
                env.failed(&e);
                failure = Some(e);
            }
            Action::Close => {
                return Ok(Step::Closed {
                    error: failure,
                    ignored: pending.len(),
                })
            }
        }
    }
    if hs.is_finished() {
        return Ok(Step::Closed {
            error: failure,
            ignored: 0,
        });
    }
    Ok(Step::NeedPacket)
}

/// One machine step through the reused buffer `answers`, its actions drained for `pending`.
fn handle<'b>(
    hs: &mut Handshake,
    answers: &'b mut Vec<Action>,
    event: Event<'_>,
) -> std::vec::Drain<'b, Action> {
    hs.handle_into(event, answers);
    answers.drain(..)
}

/// Runs a future whose every await is ready at once (a synchronous [`Environment`]): `None` if
/// it is not.
pub fn run_ready<F: Future>(future: F) -> Option<F::Output> {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(out) => Some(out),
        std::task::Poll::Pending => None,
    }
}
