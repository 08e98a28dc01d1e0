//! The compatibility matrix: eight mainstream MySQL clients against the real `vestibule` binary,
//! in every TLS mode and on every auth path each can express, plus the refusals. Writes
//! `docs/compatibility.md` and fails when a case fails or when the committed file differs from
//! what this run produced (`VESTIBULE_UPDATE_COMPAT=1` rewrites it instead).
//!
//! Clients: the `mariadb` CLI (one process per case), PyMySQL, mysql-connector-python (C
//! extension and pure Python) and mysqlclient (one `tests/compat/py_client.py` process each), node
//! mysql2 (one `tests/compat/node_client.js` process), mysql_async and sqlx (in process). Every
//! case checks what the server reports (`CURRENT_USER()`, `SHOW SESSION STATUS LIKE 'Ssl_version'`
//! / `'Ssl_cipher'`) or the exact error code; a client-side TLS refusal must be a client error,
//! not a login. What a client cannot express is a table cell with the reason, never a skip.

mod common;

use common::Server;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------------
// Clients
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Client {
    Cli,
    PyMySql,
    ConnectorC,
    ConnectorPure,
    Mysqlclient,
    Mysql2,
    MysqlAsync,
    Sqlx,
}
use Client::*;

const CLIENTS: [Client; 8] = [
    Cli,
    PyMySql,
    ConnectorC,
    ConnectorPure,
    Mysqlclient,
    Mysql2,
    MysqlAsync,
    Sqlx,
];

impl Client {
    fn name(self) -> &'static str {
        match self {
            Cli => "mariadb CLI",
            PyMySql => "PyMySQL",
            ConnectorC => "connector C ext",
            ConnectorPure => "connector pure",
            Mysqlclient => "mysqlclient",
            Mysql2 => "mysql2",
            MysqlAsync => "mysql_async",
            Sqlx => "sqlx",
        }
    }
    /// Account-name prefix: every (client, account kind) has its own account.
    fn prefix(self) -> &'static str {
        match self {
            Cli => "cli",
            PyMySql => "pym",
            ConnectorC => "cxc",
            ConnectorPure => "cxp",
            Mysqlclient => "mcl",
            Mysql2 => "my2",
            MysqlAsync => "mya",
            Sqlx => "sqx",
        }
    }
    /// Clients that can name their first auth plugin; the others start with the greeting's, so
    /// the auth-switch cases pick a server whose greeting names the wanted first plugin.
    fn chooses_first_plugin(self) -> bool {
        matches!(self, Cli | ConnectorC | ConnectorPure | Mysqlclient)
    }
}

// ---------------------------------------------------------------------------------------------
// Servers and accounts
// ---------------------------------------------------------------------------------------------

/// The server instances (each `--port 0`, its own temporary data dir).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Srv {
    /// Defaults: caching_sha2_password greeting, TLS 1.2 and 1.3, RSA keys.
    Main,
    /// `--default-authentication-plugin mysql_native_password`: the greeting names
    /// mysql_native_password, so a client that follows it starts there.
    Native,
    /// `--require-secure-transport ON --tls-version TLSv1.3`.
    Strict,
    /// No RSA key pair (auto-generation OFF, none on disk) and a server certificate, signed by
    /// Main's CA, whose only name is `wrong.example`.
    Bare,
}
const SERVERS: [Srv; 4] = [Srv::Main, Srv::Native, Srv::Strict, Srv::Bare];

const SHA2: &str = "caching_sha2_password";
const NATIVE: &str = "mysql_native_password";
const SHA256: &str = "sha256_password";

/// An account kind, created for every client as `<prefix>_<suffix>`@`%`.
struct Acct {
    suffix: &'static str,
    plugin: &'static str,
    require: &'static str,
    on: &'static [Srv],
}

const ACCOUNTS: &[Acct] = &[
    acct("nat", NATIVE, "", &[Srv::Main, Srv::Native, Srv::Strict]),
    acct("tls", SHA2, "", &[Srv::Main, Srv::Bare]),
    acct("x509", SHA2, "X509", &[Srv::Main]),
    acct("s2t", SHA2, "", &[Srv::Main]),
    acct("s2s", SHA2, "", &[Srv::Main]),
    acct("s2r", SHA2, "", &[Srv::Main]),
    acct("s2k", SHA2, "", &[Srv::Main]),
    acct("s2w", SHA2, "", &[Srv::Main]),
    acct("256t", SHA256, "", &[Srv::Main]),
    acct("256r", SHA256, "", &[Srv::Main]),
    acct("s2n", SHA2, "", &[Srv::Native]),
    acct("cu", NATIVE, "", &[Srv::Main]),
    acct("cu2", NATIVE, "", &[Srv::Main]),
    acct("cus", SHA2, "", &[Srv::Main]),
    acct("cur", NATIVE, "SSL", &[Srv::Main]),
    acct("rssl", NATIVE, "SSL", &[Srv::Main]),
    acct("s2x", SHA2, "", &[Srv::Bare]),
];

const fn acct(
    suffix: &'static str,
    plugin: &'static str,
    require: &'static str,
    on: &'static [Srv],
) -> Acct {
    Acct {
        suffix,
        plugin,
        require,
        on,
    }
}

fn user(cl: Client, suffix: &str) -> String {
    format!("{}_{suffix}", cl.prefix())
}
fn password(user: &str) -> String {
    format!("{user}-Pw1")
}
const WRONG_PW: &str = "Wrong-Pw1";

// ---------------------------------------------------------------------------------------------
// Cases
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tls {
    Off,
    Preferred,
    Required,
    VerifyCa,
    VerifyIdentity,
}

impl Tls {
    fn as_str(self) -> &'static str {
        match self {
            Tls::Off => "off",
            Tls::Preferred => "preferred",
            Tls::Required => "required",
            Tls::VerifyCa => "verify_ca",
            Tls::VerifyIdentity => "verify_identity",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    /// A session as `account` (a suffix), with this `Ssl_version` (None: plain, `Ssl_version` and
    /// `Ssl_cipher` empty) and, when given, this `Ssl_cipher`.
    Session {
        account: &'static str,
        tls: Option<&'static str>,
        cipher: Option<&'static str>,
    },
    /// The server's error code, exactly.
    Code(i64),
    /// A refusal by the client itself (TLS or connection error, no login).
    ClientRefusal,
}

#[derive(Clone, Copy, Debug)]
struct Case {
    id: &'static str,
    section: &'static str,
    srv: Srv,
    account: &'static str,
    wrong_password: bool,
    socket: bool,
    tls: Tls,
    client_cert: bool,
    tls_version: Option<&'static str>,
    cipher: Option<&'static str>,
    local_key: bool,
    first_plugin: Option<&'static str>,
    /// COM_CHANGE_USER after the login: (account suffix, wrong password).
    change_user: Option<(&'static str, bool)>,
    /// Verify against a CA that did not sign the server's certificate (the Native server's).
    other_ca: bool,
    expect: Expect,
}

const BASE: Case = Case {
    id: "",
    section: "",
    srv: Srv::Main,
    account: "tls",
    wrong_password: false,
    socket: false,
    tls: Tls::Required,
    client_cert: false,
    tls_version: None,
    cipher: None,
    local_key: false,
    first_plugin: None,
    change_user: None,
    other_ca: false,
    expect: Expect::Session {
        account: "tls",
        tls: Some("TLSv1.3"),
        cipher: None,
    },
};

const fn session(account: &'static str, tls: Option<&'static str>) -> Expect {
    Expect::Session {
        account,
        tls,
        cipher: None,
    }
}

/// A TLS 1.2 suite of the generated certificate's key type (ECDSA P-256).
const TLS12_CIPHER: &str = "ECDHE-ECDSA-AES128-GCM-SHA256";
const TLS13_CIPHER: &str = "TLS_CHACHA20_POLY1305_SHA256";
const T13: Option<&str> = Some("TLSv1.3");
const T12: Option<&str> = Some("TLSv1.2");

const TLS_REQUIRED: &str = "TLS required";
const S_TLS: &str = "TLS modes";
const S_AUTH: &str = "Auth paths";
const S_CHANGE: &str = "COM_CHANGE_USER";
const S_REFUSE: &str = "Refusals";
const SECTIONS: [&str; 4] = [S_TLS, S_AUTH, S_CHANGE, S_REFUSE];

fn cases() -> Vec<Case> {
    vec![
        // ---- TLS modes (a caching_sha2_password account; the mode decides the transport) ----
        Case {
            id: "no TLS",
            section: S_TLS,
            account: "nat",
            tls: Tls::Off,
            expect: session("nat", None),
            ..BASE
        },
        Case {
            id: "TLS preferred",
            section: S_TLS,
            tls: Tls::Preferred,
            ..BASE
        },
        Case {
            id: TLS_REQUIRED,
            section: S_TLS,
            ..BASE
        },
        Case {
            id: "verify CA",
            section: S_TLS,
            tls: Tls::VerifyCa,
            ..BASE
        },
        Case {
            id: "verify identity",
            section: S_TLS,
            tls: Tls::VerifyIdentity,
            ..BASE
        },
        Case {
            id: "verify CA, another CA",
            section: S_TLS,
            tls: Tls::VerifyCa,
            other_ca: true,
            expect: Expect::ClientRefusal,
            ..BASE
        },
        Case {
            id: "verify identity, wrong host name",
            section: S_TLS,
            srv: Srv::Bare,
            tls: Tls::VerifyIdentity,
            expect: Expect::ClientRefusal,
            ..BASE
        },
        Case {
            id: "client certificate (REQUIRE X509)",
            section: S_TLS,
            account: "x509",
            client_cert: true,
            expect: session("x509", T13),
            ..BASE
        },
        Case {
            id: "TLS 1.2",
            section: S_TLS,
            tls_version: T12,
            expect: session("tls", T12),
            ..BASE
        },
        Case {
            id: "TLS 1.3",
            section: S_TLS,
            tls_version: T13,
            ..BASE
        },
        Case {
            id: "cipher, TLS 1.2",
            section: S_TLS,
            tls_version: T12,
            cipher: Some(TLS12_CIPHER),
            expect: Expect::Session {
                account: "tls",
                tls: T12,
                cipher: Some(TLS12_CIPHER),
            },
            ..BASE
        },
        Case {
            id: "cipher, TLS 1.3",
            section: S_TLS,
            tls_version: T13,
            cipher: Some(TLS13_CIPHER),
            expect: Expect::Session {
                account: "tls",
                tls: T13,
                cipher: Some(TLS13_CIPHER),
            },
            ..BASE
        },
        // ---- Auth paths (a fresh account per client: a cold cache) ----
        Case {
            id: "caching_sha2 cold, TLS",
            section: S_AUTH,
            account: "s2t",
            expect: session("s2t", T13),
            ..BASE
        },
        Case {
            id: "caching_sha2 cold, Unix socket",
            section: S_AUTH,
            account: "s2s",
            socket: true,
            tls: Tls::Off,
            expect: session("s2s", None),
            ..BASE
        },
        Case {
            id: "caching_sha2 cold, RSA (key from the server)",
            section: S_AUTH,
            account: "s2r",
            tls: Tls::Off,
            expect: session("s2r", None),
            ..BASE
        },
        Case {
            id: "caching_sha2 cold, RSA (local key file)",
            section: S_AUTH,
            account: "s2k",
            tls: Tls::Off,
            local_key: true,
            expect: session("s2k", None),
            ..BASE
        },
        Case {
            id: "caching_sha2 warm, plain TCP",
            section: S_AUTH,
            account: "s2w",
            tls: Tls::Off,
            expect: session("s2w", None),
            ..BASE
        },
        Case {
            id: "sha256_password, TLS",
            section: S_AUTH,
            account: "256t",
            expect: session("256t", T13),
            ..BASE
        },
        Case {
            id: "sha256_password, RSA",
            section: S_AUTH,
            account: "256r",
            tls: Tls::Off,
            expect: session("256r", None),
            ..BASE
        },
        Case {
            id: "mysql_native_password",
            section: S_AUTH,
            srv: Srv::Native,
            account: "nat",
            tls: Tls::Off,
            expect: session("nat", None),
            ..BASE
        },
        // Over TLS: connector's C extension, asked to start with caching_sha2_password on plain
        // TCP, gives up before connecting (errno 2002), as it does against MariaDB. The plain
        // TCP switch of greeting-following clients is the "no TLS" row.
        Case {
            id: "auth switch caching_sha2 → native",
            section: S_AUTH,
            account: "nat",
            first_plugin: Some(SHA2),
            expect: session("nat", T13),
            ..BASE
        },
        Case {
            id: "auth switch native → caching_sha2",
            section: S_AUTH,
            srv: Srv::Native,
            account: "s2n",
            first_plugin: Some(NATIVE),
            expect: session("s2n", T13),
            ..BASE
        },
        // ---- COM_CHANGE_USER (from a mysql_native_password account, over TLS) ----
        Case {
            id: "to another account (same plugin)",
            section: S_CHANGE,
            account: "cu",
            change_user: Some(("cu2", false)),
            expect: session("cu2", T13),
            ..BASE
        },
        Case {
            id: "to a caching_sha2 account (cold)",
            section: S_CHANGE,
            account: "cu",
            change_user: Some(("cus", false)),
            expect: session("cus", T13),
            ..BASE
        },
        Case {
            id: "wrong password",
            section: S_CHANGE,
            account: "cu",
            change_user: Some(("cu2", true)),
            expect: Expect::Code(1045),
            ..BASE
        },
        Case {
            id: "to a REQUIRE SSL account",
            section: S_CHANGE,
            account: "cu",
            change_user: Some(("cur", false)),
            expect: session("cur", T13),
            ..BASE
        },
        // ---- Refusals ----
        Case {
            id: "wrong password",
            section: S_REFUSE,
            wrong_password: true,
            expect: Expect::Code(1045),
            ..BASE
        },
        Case {
            id: "REQUIRE SSL, plain TCP",
            section: S_REFUSE,
            account: "rssl",
            tls: Tls::Off,
            expect: Expect::Code(1045),
            ..BASE
        },
        Case {
            id: "REQUIRE X509, TLS without a certificate",
            section: S_REFUSE,
            account: "x509",
            expect: Expect::Code(1045),
            ..BASE
        },
        Case {
            id: "require_secure_transport, plain TCP",
            section: S_REFUSE,
            srv: Srv::Strict,
            account: "nat",
            tls: Tls::Off,
            expect: Expect::Code(3159),
            ..BASE
        },
        Case {
            id: "TLS version mismatch (server 1.3 only, client 1.2)",
            section: S_REFUSE,
            srv: Srv::Strict,
            account: "nat",
            tls_version: T12,
            expect: Expect::ClientRefusal,
            ..BASE
        },
        Case {
            id: "caching_sha2 cold, no RSA keys, plain TCP",
            section: S_REFUSE,
            srv: Srv::Bare,
            account: "s2x",
            tls: Tls::Off,
            // "Authentication requires either RSA keys or SSL encryption": MySQL's
            // caching_sha2_password refuses the full authentication (sql/auth/sha2_password.cc).
            expect: Expect::Code(1045),
            ..BASE
        },
    ]
}

/// The expectation for `cl`, where a client-side refusal is the documented behaviour.
fn expectation(cl: Client, c: &Case) -> Expect {
    if c.srv == Srv::Bare && c.tls == Tls::Off {
        match cl {
            // libmysqlclient's caching_sha2_password client plugin, without TLS and without an
            // RSA key option, refuses to send the password: CR_AUTH_PLUGIN_ERR (2061).
            ConnectorC => return Expect::Code(2061),
            // libmariadb asks for the key and reports the server's ERR 1045 as its own 2061
            // "Couldn't read RSA public key from server"; `no_rsa_key_request_refused` checks the
            // server's 1045 on the wire.
            Cli | Mysqlclient => return Expect::Code(2061),
            _ => {}
        }
    }
    c.expect
}

// ---------------------------------------------------------------------------------------------
// What a client cannot express, with the reason
// ---------------------------------------------------------------------------------------------

const R_LIBMARIADB_PREFERRED: &str = "libmariadb 3.3 starts TLS only when an ssl option or \
    enforcement is set: mysqlclient's `ssl_mode=PREFERRED` is plain TCP";
const R_MYSQL2_PREFERRED: &str =
    "mysql2 uses TLS exactly when `ssl` is given, and then requires it";
const R_MYSQL_ASYNC_PREFERRED: &str =
    "mysql_async uses TLS exactly when `ssl_opts` is set, and then requires it";
const R_CONNECTOR_REQUIRED: &str = "mysql-connector-python has no flag that requires TLS \
    without verifying the certificate: it uses TLS whenever the server offers it and refuses \
    plain TCP only with `ssl_verify_cert`";
const R_PY_TLS13_CIPHER: &str = "Python's `ssl` module cannot choose TLS 1.3 cipher suites \
    (`SSLContext.set_ciphers` covers TLS 1.2 and below)";
const R_RUST_TLS_VERSION: &str =
    "no option for the TLS version or cipher (rustls's defaults: TLS 1.2 and 1.3)";
const R_CLI_LOCAL_KEY: &str = "the CLI has no option for a local RSA public key file";
const R_CONNECTOR_RSA: &str = "mysql-connector-python has no RSA key exchange: the C extension \
    refuses a full authentication on plain TCP (2061), the pure-Python one sends the cleartext \
    password (which the server refuses)";
const R_CONNECTOR_SHA256: &str = "mysql-connector-python supports sha256_password over TLS only";
const R_RUST_LOCAL_KEY: &str = "no option for a local RSA public key file (it asks the server)";
const R_MYSQL_ASYNC_SHA256: &str = "mysql_async does not implement sha256_password";
const R_SQLX_SOCKET: &str = "sqlx treats the Unix socket as insecure and starts an RSA key \
    request there, which MySQL reads as the password on a secure transport";
const R_NO_CHANGE_USER: &str = "no API for COM_CHANGE_USER";

fn cannot(cl: Client, c: &Case) -> Option<&'static str> {
    let cold_rsa = matches!(c.account, "s2r" | "s2k" | "256r");
    match cl {
        Cli => {
            if c.local_key {
                return Some(R_CLI_LOCAL_KEY);
            }
            if c.change_user.is_some() {
                return Some(R_NO_CHANGE_USER);
            }
        }
        PyMySql => {
            if c.change_user.is_some() {
                return Some(R_NO_CHANGE_USER);
            }
            if c.cipher.is_some() && c.tls_version == T13 {
                return Some(R_PY_TLS13_CIPHER);
            }
        }
        ConnectorC | ConnectorPure => {
            if c.id == TLS_REQUIRED {
                return Some(R_CONNECTOR_REQUIRED);
            }
            if c.account == "256r" {
                return Some(R_CONNECTOR_SHA256);
            }
            if cold_rsa {
                return Some(R_CONNECTOR_RSA);
            }
            if cl == ConnectorPure && c.cipher.is_some() && c.tls_version == T13 {
                return Some(R_PY_TLS13_CIPHER);
            }
        }
        Mysqlclient => {
            if c.tls == Tls::Preferred {
                return Some(R_LIBMARIADB_PREFERRED);
            }
        }
        Mysql2 => {
            if c.tls == Tls::Preferred {
                return Some(R_MYSQL2_PREFERRED);
            }
        }
        MysqlAsync | Sqlx => {
            if c.tls_version.is_some() || c.cipher.is_some() {
                return Some(R_RUST_TLS_VERSION);
            }
            if c.local_key {
                return Some(R_RUST_LOCAL_KEY);
            }
            if cl == MysqlAsync {
                if c.tls == Tls::Preferred {
                    return Some(R_MYSQL_ASYNC_PREFERRED);
                }
                if c.account.starts_with("256") {
                    return Some(R_MYSQL_ASYNC_SHA256);
                }
            } else {
                if c.socket {
                    return Some(R_SQLX_SOCKET);
                }
                if c.change_user.is_some() {
                    return Some(R_NO_CHANGE_USER);
                }
            }
        }
    }
    None
}

// ---------------------------------------------------------------------------------------------
// The concrete request for one client
// ---------------------------------------------------------------------------------------------

/// One case for one client, as the drivers read it (see tests/compat/py_client.py).
#[derive(Clone, Debug)]
struct Spec {
    id: String,
    host: String,
    port: u16,
    socket: Option<String>,
    user: String,
    password: String,
    tls: Tls,
    ca: Option<String>,
    cert: Option<String>,
    key: Option<String>,
    tls_version: Option<String>,
    cipher: Option<String>,
    server_public_key: Option<String>,
    auth_plugin: Option<String>,
    change_user: Option<(String, String)>,
}

impl Spec {
    fn json(&self) -> Value {
        json!({
            "id": self.id,
            "host": self.host,
            "port": self.port,
            "socket": self.socket,
            "user": self.user,
            "password": self.password,
            "tls": self.tls.as_str(),
            "ca": self.ca,
            "cert": self.cert,
            "key": self.key,
            "tls_version": self.tls_version,
            "cipher": self.cipher,
            "server_public_key": self.server_public_key,
            "auth_plugin": self.auth_plugin,
            "change_user": self.change_user.as_ref().map(|(u, p)| json!({"user": u, "password": p})),
        })
    }
}

struct Env {
    servers: Vec<(Srv, Server)>,
    ca: String,
    client_cert: String,
    client_key: String,
    public_key: String,
}

impl Env {
    fn srv(&self, s: Srv) -> &Server {
        &self
            .servers
            .iter()
            .find(|(k, _)| *k == s)
            .expect("server")
            .1
    }
    /// The CA that signed `s`'s certificate (Bare's is signed by Main's CA).
    fn ca_for(&self, s: Srv) -> String {
        match s {
            Srv::Bare => self.ca.clone(),
            other => self.srv(other).ca(),
        }
    }
}

fn spec(env: &Env, cl: Client, key: &str, c: &Case) -> Spec {
    let srv = env.srv(c.srv);
    let u = user(cl, c.account);
    let verifying = matches!(c.tls, Tls::VerifyCa | Tls::VerifyIdentity)
        || (matches!(cl, ConnectorC | ConnectorPure) && c.tls == Tls::Required);
    Spec {
        id: key.to_string(),
        // mysql2 checks the host name only for a DNS name (not for an IP address).
        host: if cl == Mysql2 && c.tls == Tls::VerifyIdentity {
            "localhost".into()
        } else {
            "127.0.0.1".into()
        },
        port: srv.port,
        socket: c.socket.then(|| srv.socket()),
        password: if c.wrong_password {
            WRONG_PW.into()
        } else {
            password(&u)
        },
        user: u,
        // mysql-connector-python's only way to insist on TLS is to verify the certificate (see
        // R_CONNECTOR_REQUIRED): the rows that need some TLS use that.
        tls: match (cl, c.tls) {
            (ConnectorC | ConnectorPure, Tls::Required) => Tls::VerifyCa,
            (_, t) => t,
        },
        ca: verifying.then(|| {
            if c.other_ca {
                env.srv(Srv::Native).ca()
            } else {
                env.ca_for(c.srv)
            }
        }),
        cert: c.client_cert.then(|| env.client_cert.clone()),
        key: c.client_cert.then(|| env.client_key.clone()),
        tls_version: c.tls_version.map(String::from),
        cipher: c.cipher.map(String::from),
        server_public_key: c.local_key.then(|| env.public_key.clone()),
        auth_plugin: c
            .first_plugin
            .filter(|_| cl.chooses_first_plugin())
            .map(String::from),
        change_user: c.change_user.map(|(acct, wrong)| {
            let u = user(cl, acct);
            let p = if wrong { WRONG_PW.into() } else { password(&u) };
            (u, p)
        }),
    }
}

// ---------------------------------------------------------------------------------------------
// Outcomes
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq)]
enum Outcome {
    Session {
        user: String,
        ssl_version: String,
        ssl_cipher: String,
    },
    /// `code`: the numeric code (server or client library), or a client's error name.
    Error {
        stage: String,
        code: String,
        msg: String,
    },
}

impl Outcome {
    fn from_json(v: &Value) -> Outcome {
        let s = |k: &str| match &v[k] {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        };
        if v["ok"].as_bool() == Some(true) {
            Outcome::Session {
                user: s("user"),
                ssl_version: s("ssl_version"),
                ssl_cipher: s("ssl_cipher"),
            }
        } else {
            Outcome::Error {
                stage: s("stage"),
                code: s("code"),
                msg: s("msg"),
            }
        }
    }
}

/// Server error codes are below 2000 or from 3000 on; 2000–2999 are client-library errors
/// (MySQL's include/errmsg.h), and names (strings) are client errors too.
fn is_client_code(code: &str) -> bool {
    match code.parse::<i64>() {
        Ok(n) => (2000..3000).contains(&n),
        Err(_) => true,
    }
}

/// None when `got` meets `want`, else what differs.
fn judge(cl: Client, c: &Case, want: Expect, got: &Outcome) -> Option<String> {
    match (want, got) {
        (
            Expect::Session {
                account,
                tls,
                cipher,
            },
            Outcome::Session {
                user: u,
                ssl_version,
                ssl_cipher,
            },
        ) => {
            let want_user = format!("{}@%", user(cl, account));
            let want_version = tls.unwrap_or("");
            let mut bad = vec![];
            if *u != want_user {
                bad.push(format!("CURRENT_USER() {u:?}, want {want_user:?}"));
            }
            if ssl_version != want_version {
                bad.push(format!(
                    "Ssl_version {ssl_version:?}, want {want_version:?}"
                ));
            }
            match (tls, cipher) {
                (None, _) if !ssl_cipher.is_empty() => {
                    bad.push(format!("Ssl_cipher {ssl_cipher:?} on plain"))
                }
                (Some(_), None) if ssl_cipher.is_empty() => {
                    bad.push("Ssl_cipher empty on TLS".into())
                }
                (_, Some(want)) if ssl_cipher != want => {
                    bad.push(format!("Ssl_cipher {ssl_cipher:?}, want {want:?}"))
                }
                _ => {}
            }
            (!bad.is_empty()).then(|| bad.join("; "))
        }
        (Expect::Code(n), Outcome::Error { code, .. }) if *code == n.to_string() => None,
        (Expect::ClientRefusal, Outcome::Error { code, stage, .. })
            if stage == "connect" && is_client_code(code) =>
        {
            None
        }
        (want, got) => Some(format!("{}: expected {want:?}, got {got:?}", c.id)),
    }
}

// ---------------------------------------------------------------------------------------------
// Drivers
// ---------------------------------------------------------------------------------------------

const QUERIES: &str = "SELECT CURRENT_USER(); SHOW SESSION STATUS LIKE 'Ssl_version'; \
                       SHOW SESSION STATUS LIKE 'Ssl_cipher'";

/// The mariadb CLI, one process per case (`-N -B`, the three queries in one `-e`).
fn run_cli(s: &Spec) -> Outcome {
    let mut cmd = Command::new("mariadb");
    cmd.arg("--no-defaults");
    match &s.socket {
        Some(sock) => cmd.args(["--protocol=SOCKET", "-S", sock]),
        None => cmd.args([
            "--protocol=TCP".to_string(),
            format!("-h{}", s.host),
            format!("-P{}", s.port),
        ]),
    };
    match s.tls {
        Tls::Off => {
            cmd.arg("--skip-ssl");
        }
        // The 10.11 CLI's default: TLS when the server offers it, certificate not verified.
        Tls::Preferred => {}
        Tls::Required => {
            cmd.arg("--ssl");
        }
        Tls::VerifyCa => {
            cmd.arg("--ssl");
        }
        Tls::VerifyIdentity => {
            cmd.args(["--ssl", "--ssl-verify-server-cert"]);
        }
    }
    if let Some(ca) = &s.ca {
        cmd.arg(format!("--ssl-ca={ca}"));
    }
    if let (Some(cert), Some(key)) = (&s.cert, &s.key) {
        cmd.arg(format!("--ssl-cert={cert}"))
            .arg(format!("--ssl-key={key}"));
    }
    if let Some(v) = &s.tls_version {
        cmd.arg(format!("--tls-version={v}"));
    }
    if let Some(c) = &s.cipher {
        cmd.arg(format!("--ssl-cipher={c}"));
    }
    if let Some(p) = &s.auth_plugin {
        cmd.arg(format!("--default-auth={p}"));
    }
    assert!(s.server_public_key.is_none() && s.change_user.is_none());
    cmd.arg(format!("-u{}", s.user))
        .arg(format!("--password={}", s.password))
        .args(["-N", "-B", "--connect-timeout=10", "-e", QUERIES]);
    for v in [
        "MYSQL_PWD",
        "MYSQL_HOST",
        "MYSQL_TCP_PORT",
        "MYSQL_UNIX_PORT",
    ] {
        cmd.env_remove(v);
    }
    let r = common::run(
        cmd,
        format!("mariadb {}", s.id),
        "install it: apt-get install -y mariadb-client",
    );
    if r.status == Some(0) {
        let lines: Vec<&str> = r.stdout.lines().collect();
        let status = |name: &str| {
            lines
                .iter()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix('\t'))
                .unwrap_or("")
                .to_string()
        };
        return Outcome::Session {
            user: lines.first().copied().unwrap_or("").to_string(),
            ssl_version: status("Ssl_version"),
            ssl_cipher: status("Ssl_cipher"),
        };
    }
    // "ERROR 1045 (28000): Access denied …" / "ERROR 2026 (HY000): TLS/SSL error: …"
    let text = format!("{}{}", r.stdout, r.stderr);
    let line = text
        .lines()
        .find(|l| l.starts_with("ERROR "))
        .unwrap_or(text.trim());
    let code = line
        .strip_prefix("ERROR ")
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or("exit")
        .to_string();
    Outcome::Error {
        stage: "connect".into(),
        code,
        msg: line.to_string(),
    }
}

/// A batch driver process (Python or Node): the cases as JSON on stdin; returns the outcomes by
/// id and the versions it reports.
fn run_batch(
    mut cmd: Command,
    what: &str,
    hint: &str,
    specs: &[Spec],
) -> (BTreeMap<String, Outcome>, BTreeMap<String, String>) {
    let input = Value::Array(specs.iter().map(Spec::json).collect()).to_string();
    cmd.env("PYTHONDONTWRITEBYTECODE", "1");
    let r = common::run_with_input(cmd, what.to_string(), hint, Some(&input));
    if r.status == Some(3) && r.stdout.starts_with("MISSING-MODULE") {
        panic!("{what}: {}; {hint}", r.stdout.trim());
    }
    let v: Value = serde_json::from_str(r.stdout.trim()).unwrap_or_else(|e| {
        panic!(
            "{what}: no JSON result ({e}); exit {:?}\nstdout:\n{}\nstderr:\n{}",
            r.status, r.stdout, r.stderr
        )
    });
    let outcomes = v["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            (
                r["id"].as_str().expect("id").to_string(),
                Outcome::from_json(r),
            )
        })
        .collect();
    let versions = v["versions"]
        .as_object()
        .expect("versions")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
        .collect();
    (outcomes, versions)
}

fn compat_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/compat")
}

fn run_python(cl: Client, specs: &[Spec]) -> (BTreeMap<String, Outcome>, BTreeMap<String, String>) {
    let name = match cl {
        PyMySql => "pymysql",
        ConnectorC => "connector-cext",
        ConnectorPure => "connector-pure",
        Mysqlclient => "mysqlclient",
        _ => unreachable!(),
    };
    let mut cmd = Command::new("python3");
    cmd.arg(compat_dir().join("py_client.py")).arg(name);
    run_batch(
        cmd,
        cl.name(),
        "run `python3 -m pip install -r tests/compat/requirements.txt` (bash scripts/test.sh does)",
        specs,
    )
}

fn run_node(specs: &[Spec]) -> (BTreeMap<String, Outcome>, BTreeMap<String, String>) {
    let mut cmd = Command::new("node");
    cmd.arg(compat_dir().join("node_client.js"));
    run_batch(
        cmd,
        "mysql2",
        "run `npm ci` in tests/compat (bash scripts/test.sh does)",
        specs,
    )
}

/// For a TLS failure of the Rust clients: the rustls error in `e`'s chain (through `source()`
/// and `io::Error`'s inner error) by its variant name, e.g. `InvalidCertificate(NotValidForName)`.
fn rustls_code(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    fn variant(debug: &str) -> &str {
        debug.split(['(', '{', ' ']).next().unwrap_or(debug)
    }
    let mut e = e;
    loop {
        if let Some(r) = e.downcast_ref::<rustls::Error>() {
            return Some(match r {
                rustls::Error::InvalidCertificate(c) => {
                    format!("InvalidCertificate({})", variant(&format!("{c:?}")))
                }
                other => variant(&format!("{other:?}")).to_string(),
            });
        }
        if let Some(inner) = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            e = inner;
            continue;
        }
        e = e.source()?;
    }
}

const RUST_TIMEOUT: Duration = Duration::from_secs(30);

async fn mysql_async_case(s: &Spec) -> Outcome {
    use mysql_async::prelude::Queryable;
    use mysql_async::{ChangeUserOpts, ClientIdentity, Conn, OptsBuilder, SslOpts};

    fn err(stage: &str, e: mysql_async::Error) -> Outcome {
        let code = match &e {
            mysql_async::Error::Server(se) => se.code.to_string(),
            _ if rustls_code(&e).is_some() => rustls_code(&e).unwrap_or_default(),
            mysql_async::Error::Io(mysql_async::IoError::Tls(_)) => "tls".into(),
            mysql_async::Error::Io(_) => "io".into(),
            mysql_async::Error::Driver(_) => "driver".into(),
            mysql_async::Error::Other(_) => "other".into(),
            mysql_async::Error::Url(_) => "url".into(),
        };
        Outcome::Error {
            stage: stage.into(),
            code,
            msg: e.to_string(),
        }
    }

    // prefer_socket(false): otherwise mysql_async reconnects over `@@socket` after a TCP login.
    let mut b = OptsBuilder::default()
        .user(Some(&s.user))
        .pass(Some(&s.password))
        .prefer_socket(false);
    b = match &s.socket {
        Some(sock) => b.socket(Some(sock)),
        None => b.ip_or_hostname(&s.host).tcp_port(s.port),
    };
    let ssl = match s.tls {
        Tls::Off => None,
        Tls::Preferred => unreachable!("{}", R_MYSQL_ASYNC_PREFERRED),
        Tls::Required => Some(
            SslOpts::default()
                .with_danger_accept_invalid_certs(true)
                .with_danger_skip_domain_validation(true),
        ),
        Tls::VerifyCa | Tls::VerifyIdentity => Some(
            SslOpts::default()
                .with_root_certs(vec![PathBuf::from(s.ca.as_ref().expect("ca")).into()])
                .with_disable_built_in_roots(true)
                .with_danger_skip_domain_validation(s.tls == Tls::VerifyCa),
        ),
    };
    let ssl = ssl.map(|o| match (&s.cert, &s.key) {
        (Some(c), Some(k)) => o.with_client_identity(Some(ClientIdentity::new(
            PathBuf::from(c).into(),
            PathBuf::from(k).into(),
        ))),
        _ => o,
    });
    b = b.ssl_opts(ssl);
    let mut conn = match Conn::new(b).await {
        Ok(c) => c,
        Err(e) => return err("connect", e),
    };
    if let Some((u, p)) = &s.change_user {
        let opts = ChangeUserOpts::default()
            .with_user(Some(u.clone()))
            .with_pass(Some(p.clone()));
        if let Err(e) = conn.change_user(opts).await {
            return err("change_user", e);
        }
    }
    let mut rows = vec![];
    for q in [
        "SELECT 'user', CURRENT_USER()",
        "SHOW SESSION STATUS LIKE 'Ssl_version'",
        "SHOW SESSION STATUS LIKE 'Ssl_cipher'",
    ] {
        match conn.query_first::<(String, String), _>(q).await {
            Ok(r) => rows.push(r.map(|r| r.1).unwrap_or_default()),
            Err(e) => return err("query", e),
        }
    }
    let _ = conn.disconnect().await;
    Outcome::Session {
        user: rows[0].clone(),
        ssl_version: rows[1].clone(),
        ssl_cipher: rows[2].clone(),
    }
}

async fn sqlx_case(s: &Spec) -> Outcome {
    use sqlx::mysql::{MySqlConnectOptions, MySqlConnection, MySqlDatabaseError, MySqlSslMode};
    use sqlx::{Connection, Executor, Row};

    fn err(stage: &str, e: sqlx::Error) -> Outcome {
        let code = match &e {
            sqlx::Error::Database(db) => db
                .try_downcast_ref::<MySqlDatabaseError>()
                .map(|m| m.number().to_string())
                .unwrap_or_else(|| "database".into()),
            _ if rustls_code(&e).is_some() => rustls_code(&e).unwrap_or_default(),
            sqlx::Error::Tls(_) => "tls".into(),
            sqlx::Error::Io(_) => "io".into(),
            sqlx::Error::Protocol(_) => "protocol".into(),
            _ => "other".into(),
        };
        Outcome::Error {
            stage: stage.into(),
            code,
            msg: e.to_string(),
        }
    }

    let mut o = MySqlConnectOptions::new()
        .username(&s.user)
        .password(&s.password);
    o = match &s.socket {
        Some(sock) => o.socket(sock),
        None => o.host(&s.host).port(s.port),
    };
    o = o.ssl_mode(match s.tls {
        Tls::Off => MySqlSslMode::Disabled,
        Tls::Preferred => MySqlSslMode::Preferred,
        Tls::Required => MySqlSslMode::Required,
        Tls::VerifyCa => MySqlSslMode::VerifyCa,
        Tls::VerifyIdentity => MySqlSslMode::VerifyIdentity,
    });
    if let Some(ca) = &s.ca {
        o = o.ssl_ca(ca);
    }
    if let (Some(c), Some(k)) = (&s.cert, &s.key) {
        o = o.ssl_client_cert(c).ssl_client_key(k);
    }
    let mut conn = match MySqlConnection::connect_with(&o).await {
        Ok(c) => c,
        Err(e) => return err("connect", e),
    };
    let mut vals = vec![];
    // A plain &str runs as COM_QUERY (no prepared statement).
    for q in [
        "SELECT 'user', CURRENT_USER()",
        "SHOW SESSION STATUS LIKE 'Ssl_version'",
        "SHOW SESSION STATUS LIKE 'Ssl_cipher'",
    ] {
        match (&mut conn).fetch_optional(q).await {
            Ok(row) => vals.push(
                row.map(|r| r.try_get_unchecked::<String, _>(1).unwrap_or_default())
                    .unwrap_or_default(),
            ),
            Err(e) => return err("query", e),
        }
    }
    let _ = conn.close().await;
    Outcome::Session {
        user: vals[0].clone(),
        ssl_version: vals[1].clone(),
        ssl_cipher: vals[2].clone(),
    }
}

fn run_rust(cl: Client, specs: &[Spec]) -> BTreeMap<String, Outcome> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let mut out = BTreeMap::new();
        for s in specs {
            let fut = async {
                match cl {
                    MysqlAsync => mysql_async_case(s).await,
                    Sqlx => sqlx_case(s).await,
                    _ => unreachable!(),
                }
            };
            let o = tokio::time::timeout(RUST_TIMEOUT, fut)
                .await
                .unwrap_or_else(|_| {
                    panic!("{}: {} no answer within {RUST_TIMEOUT:?}", cl.name(), s.id)
                });
            out.insert(s.id.clone(), o);
        }
        out
    })
}

// ---------------------------------------------------------------------------------------------
// Set-up
// ---------------------------------------------------------------------------------------------

fn start_servers() -> Env {
    let main = Server::start(&[]);
    let datadir = main.datadir();
    // A certificate for `wrong.example` only, signed by Main's CA: a client verifying the
    // identity of 127.0.0.1 / localhost against it must refuse.
    let wrong = main.dir.path().join("wrong-name");
    std::fs::create_dir_all(&wrong).expect("mkdir");
    let (wcert, wkey) = (wrong.join("cert.pem"), wrong.join("key.pem"));
    let out = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
        ])
        .args(["-subj", "/CN=wrong.example"])
        .args(["-addext", "subjectAltName=DNS:wrong.example"])
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .arg("-CA")
        .arg(datadir.join("ca.pem"))
        .arg("-CAkey")
        .arg(datadir.join("ca-key.pem"))
        .arg("-keyout")
        .arg(&wkey)
        .arg("-out")
        .arg(&wcert)
        .output()
        .expect("openssl (bash scripts/test.sh installs it)");
    assert!(
        out.status.success(),
        "openssl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (wcert, wkey) = (wcert.display().to_string(), wkey.display().to_string());
    let ca = main.ca();
    let threads = [
        vec!["--default-authentication-plugin", NATIVE],
        vec![
            "--require-secure-transport",
            "ON",
            "--tls-version",
            "TLSv1.3",
        ],
        vec![
            "--caching-sha2-password-auto-generate-rsa-keys",
            "OFF",
            "--sha256-password-auto-generate-rsa-keys",
            "OFF",
            "--ssl-cert",
            &wcert,
            "--ssl-key",
            &wkey,
            "--ssl-ca",
            &ca,
        ],
    ]
    .map(|args| {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        std::thread::spawn(move || {
            let a: Vec<&str> = args.iter().map(String::as_str).collect();
            Server::start(&a)
        })
    });
    let [native, strict, bare] = threads.map(|t| t.join().expect("server start"));
    let bare_log = bare.log();
    assert!(
        !bare.datadir().join("public_key.pem").exists(),
        "the Bare server has an RSA key:\n{bare_log}"
    );
    Env {
        ca,
        client_cert: datadir.join("client-cert.pem").display().to_string(),
        client_key: datadir.join("client-key.pem").display().to_string(),
        public_key: datadir.join("public_key.pem").display().to_string(),
        servers: vec![
            (Srv::Main, main),
            (Srv::Native, native),
            (Srv::Strict, strict),
            (Srv::Bare, bare),
        ],
    }
}

/// Every account on every server, as root over the Unix socket (one CLI process per server).
fn create_accounts(env: &Env) {
    let handles: Vec<_> = SERVERS
        .iter()
        .map(|&k| {
            let srv = env.srv(k);
            let mut stmts = vec![];
            for cl in CLIENTS {
                for a in ACCOUNTS.iter().filter(|a| a.on.contains(&k)) {
                    let u = user(cl, a.suffix);
                    let require = if a.require.is_empty() {
                        String::new()
                    } else {
                        format!(" REQUIRE {}", a.require)
                    };
                    stmts.push(format!(
                        "CREATE USER '{u}'@'%' IDENTIFIED WITH {} BY '{}'{require}",
                        a.plugin,
                        password(&u)
                    ));
                }
            }
            (srv, stmts)
        })
        .collect();
    // The mariadb CLI over the socket: root's plugin follows the server's default (the Native
    // server's greeting), and the Bare server has no CA file for a verified TLS login.
    std::thread::scope(|scope| {
        for (srv, stmts) in handles {
            scope.spawn(move || {
                let script: String = stmts.iter().map(|s| format!("{s};\n")).collect();
                common::ok(
                    srv,
                    common::mariadb_stdin(
                        srv,
                        common::Via::Socket,
                        "root",
                        common::ROOT_PW,
                        &[],
                        &script,
                    ),
                );
            });
        }
    });
}

/// What the server itself answers in the no-RSA case, on the wire (libmariadb and libmysqlclient
/// report their own 2061 there): a cold caching_sha2_password login on plain TCP gets `01 04`
/// (full authentication), and the public-key request (`02`) then gets ERR 1045, as MySQL answers
/// when it has no RSA keys ("Authentication requires either RSA keys or SSL encryption").
fn no_rsa_key_request_refused(env: &Env) {
    use std::io::{Read, Write};
    use vestibule::wire::frame;
    use vestibule::wire::packets::ErrPacket;

    fn read(s: &mut std::net::TcpStream) -> Vec<u8> {
        let mut h = [0u8; 4];
        s.read_exact(&mut h).expect("packet header");
        let mut p = vec![0u8; u32::from_le_bytes([h[0], h[1], h[2], 0]) as usize];
        s.read_exact(&mut p).expect("packet payload");
        p
    }
    let srv = env.srv(Srv::Bare);
    let u = user(Cli, "s2x");
    let mut s = std::net::TcpStream::connect(("127.0.0.1", srv.port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let first = common::first_auth_reply(&mut s, &u, &password(&u)).expect("first reply");
    assert_eq!(first, [1, 4], "full authentication expected");
    s.write_all(&frame::packet(3, &[2])).expect("write");
    let answer = read(&mut s);
    let err = ErrPacket::parse(&answer)
        .unwrap_or_else(|e| panic!("not an ERR after the key request ({e}): {answer:02x?}"));
    assert_eq!(
        err.code,
        1045,
        "server's answer to a key request without RSA keys: {}\n{}",
        err.message,
        srv.log_tail()
    );
}

/// Warms the cache for the "caching_sha2 warm" accounts: a full authentication over TLS by the
/// test itself, so the client's plain-TCP login takes the fast path.
fn warm(env: &Env) {
    let srv = env.srv(Srv::Main);
    let tls = common::client_tls(&[PathBuf::from(&env.ca)]);
    for cl in CLIENTS {
        let u = user(cl, "s2w");
        let s = std::net::TcpStream::connect(("127.0.0.1", srv.port)).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        let (login, session) =
            common::login_with(Box::new(s), &u, &password(&u), Some(&tls)).expect("warm-up");
        assert_eq!(
            login,
            common::Login::Full,
            "warm-up of {u}\n{}",
            srv.log_tail()
        );
        session.expect("session").quit();
    }
}

// ---------------------------------------------------------------------------------------------
// The matrix
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum Cell {
    Pass(Option<String>),
    Fail(String),
    NotExpressible(&'static str),
}

fn key(c: &Case) -> String {
    format!("{} / {}", c.section, c.id)
}

#[test]
fn compatibility_matrix() {
    let started = Instant::now();
    let env = start_servers();
    create_accounts(&env);
    warm(&env);
    no_rsa_key_request_refused(&env);
    let cases = cases();

    // The specs each client can express.
    let mut per_client: BTreeMap<Client, Vec<Spec>> = BTreeMap::new();
    for cl in CLIENTS {
        let specs = cases
            .iter()
            .filter(|c| cannot(cl, c).is_none())
            .map(|c| spec(&env, cl, &key(c), c))
            .collect();
        per_client.insert(cl, specs);
    }

    // Every client in parallel (distinct accounts: the cases do not interfere).
    let mut results: BTreeMap<Client, BTreeMap<String, Outcome>> = BTreeMap::new();
    let mut versions: BTreeMap<String, String> = BTreeMap::new();
    std::thread::scope(|scope| {
        let handles: Vec<_> = CLIENTS
            .iter()
            .map(|&cl| {
                let specs = &per_client[&cl];
                scope.spawn(move || match cl {
                    Cli => (
                        specs.iter().map(|s| (s.id.clone(), run_cli(s))).collect(),
                        BTreeMap::new(),
                    ),
                    PyMySql | ConnectorC | ConnectorPure | Mysqlclient => run_python(cl, specs),
                    Mysql2 => run_node(specs),
                    MysqlAsync | Sqlx => (run_rust(cl, specs), BTreeMap::new()),
                })
            })
            .collect();
        for (&cl, h) in CLIENTS.iter().zip(handles) {
            let (outcomes, v) = h.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
            results.insert(cl, outcomes);
            versions.extend(v);
        }
    });
    versions.extend(other_versions());

    // Judge.
    let mut cells: BTreeMap<(String, Client), Cell> = BTreeMap::new();
    let mut failures = vec![];
    for c in &cases {
        for cl in CLIENTS {
            let k = key(c);
            let cell = if let Some(reason) = cannot(cl, c) {
                Cell::NotExpressible(reason)
            } else {
                let got = results[&cl]
                    .get(&k)
                    .unwrap_or_else(|| panic!("{}: no result for {k}", cl.name()));
                let want = expectation(cl, c);
                match judge(cl, c, want, got) {
                    None => Cell::Pass(match got {
                        Outcome::Error { code, .. } => Some(code.clone()),
                        Outcome::Session { .. } => None,
                    }),
                    Some(why) => {
                        failures.push(format!("{} × {k}: {why}", cl.name()));
                        Cell::Fail(why)
                    }
                }
            };
            cells.insert((k, cl), cell);
        }
    }

    let doc = render(&cases, &cells, &versions);
    let (pass, fail, na) = cells.values().fold((0, 0, 0), |(p, f, n), c| match c {
        Cell::Pass(_) => (p + 1, f, n),
        Cell::Fail(_) => (p, f + 1, n),
        Cell::NotExpressible(_) => (p, f, n + 1),
    });

    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/compatibility.md");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    let update = std::env::var("VESTIBULE_UPDATE_COMPAT").is_ok_and(|v| v == "1");
    let differs = comparable(&committed) != comparable(&doc);
    if update && committed != doc {
        std::fs::write(&path, &doc).expect("write docs/compatibility.md");
        println!("rewrote {}", path.display());
    }
    let elapsed = started.elapsed();
    // Straight to the stderr handle, past libtest's capture: the totals show in every run.
    let _ = writeln!(
        std::io::stderr(),
        "compatibility matrix: {pass} pass, {fail} fail, {na} n/a ({elapsed:.1?})"
    );
    let mut problems = failures.clone();
    if differs && !update {
        let generated = std::env::temp_dir().join("compatibility.md");
        let _ = std::fs::write(&generated, &doc);
        problems.push(format!(
            "docs/compatibility.md differs from this run's table (written to {}); run \
             `VESTIBULE_UPDATE_COMPAT=1 cargo test --test compat` and commit it",
            generated.display()
        ));
    }
    if !problems.is_empty() {
        let logs: String = env
            .servers
            .iter()
            .map(|(k, s)| format!("--- {k:?} server log (tail):\n{}\n", s.log_tail()))
            .collect();
        panic!(
            "{} problem(s):\n{}\n{logs}",
            problems.len(),
            problems.join("\n")
        );
    }
}

/// Versions the drivers do not report: the mariadb CLI, the Rust crates (from Cargo.lock).
fn other_versions() -> BTreeMap<String, String> {
    let mut v = BTreeMap::new();
    if let Ok(out) = Command::new("mariadb").arg("--version").output() {
        v.insert(
            "mariadb CLI".to_string(),
            String::from_utf8_lossy(&out.stdout).trim().to_string(),
        );
    }
    let lock = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.lock"))
        .unwrap_or_default();
    for name in ["mysql_async", "sqlx", "rustls"] {
        let needle = format!("name = \"{name}\"\nversion = \"");
        if let Some(rest) = lock.split(&needle).nth(1) {
            v.insert(
                name.to_string(),
                rest.split('"').next().unwrap_or("").to_string(),
            );
        }
    }
    v
}

const VERSIONS_HEADING: &str = "## Client versions";

/// The part of the file that must match the committed one: all but the versions section, which
/// names Debian's and the toolchains' point releases (the pip, npm and cargo packages are pinned).
fn comparable(doc: &str) -> &str {
    doc.split(VERSIONS_HEADING).next().unwrap_or(doc)
}

fn render(
    cases: &[Case],
    cells: &BTreeMap<(String, Client), Cell>,
    versions: &BTreeMap<String, String>,
) -> String {
    let mut reasons: Vec<&'static str> = vec![];
    let mut fails: Vec<String> = vec![];
    let (mut pass, mut fail, mut na) = (0, 0, 0);
    let mut body = String::new();
    for section in SECTIONS {
        writeln!(body, "\n## {section}\n").unwrap();
        let header: Vec<&str> = CLIENTS.iter().map(|c| c.name()).collect();
        writeln!(body, "| case | expected | {} |", header.join(" | ")).unwrap();
        writeln!(body, "|---|---|{}", "---|".repeat(CLIENTS.len())).unwrap();
        for c in cases.iter().filter(|c| c.section == section) {
            let mut row = format!("| {} | {} |", c.id, describe_case(c));
            for cl in CLIENTS {
                let text = match &cells[&(key(c), cl)] {
                    Cell::Pass(None) => {
                        pass += 1;
                        "pass".to_string()
                    }
                    Cell::Pass(Some(code)) => {
                        pass += 1;
                        format!("pass ({code})")
                    }
                    Cell::Fail(why) => {
                        fail += 1;
                        fails.push(format!("{} × {}: {why}", cl.name(), key(c)));
                        format!("**FAIL** [F{}]", fails.len())
                    }
                    Cell::NotExpressible(reason) => {
                        na += 1;
                        let n = match reasons.iter().position(|r| r == reason) {
                            Some(i) => i + 1,
                            None => {
                                reasons.push(reason);
                                reasons.len()
                            }
                        };
                        format!("n/a [{n}]")
                    }
                };
                write!(row, " {text} |").unwrap();
            }
            writeln!(body, "{row}").unwrap();
        }
    }
    let mut doc = String::new();
    doc.push_str(
        "# Client compatibility\n\n\
         Generated by `tests/compat.rs` (part of `bash scripts/test.sh`): do not edit by hand; \
         `VESTIBULE_UPDATE_COMPAT=1 cargo test --test compat` rewrites it, and the test fails when \
         this file (all but the versions section) differs from what the run produced.\n\n\
         Each cell is one connection of the real client to the real `vestibule` binary. A login \
         passes when the server reports the expected account (`SELECT CURRENT_USER()`) and TLS \
         state (`SHOW SESSION STATUS LIKE 'Ssl_version'` / `'Ssl_cipher'`); a refusal passes on \
         the exact error code the server sends, or, for a refusal by the client itself (a \
         certificate that does not match, no common TLS version), on a client-side error.\n\n\
         Legend: **pass**: as expected; **pass (N)**: the expected refusal, with the code the \
         client reported (1045 access denied, 3159 secure transport required, 2026 TLS error of \
         the MySQL/MariaDB C libraries, 2061 authentication-plugin error of libmysqlclient, or \
         the client's own error name); **FAIL** [Fn]: not as expected (see Failures); \
         **n/a** [n]: the client cannot express this case (see Notes).\n\n",
    );
    writeln!(doc, "Totals: {pass} pass, {fail} fail, {na} n/a.").unwrap();
    doc.push_str(&body);
    doc.push_str(
        "\n## Servers and accounts\n\n\
         - The default server: caching_sha2_password greeting, TLS 1.2 and 1.3, generated \
         ECDSA P-256 certificates (the CA and the client certificate `client-cert.pem` come from \
         its data dir) and RSA keys (`public_key.pem` is the local key file).\n\
         - `--default-authentication-plugin mysql_native_password`: the `mysql_native_password` \
         row and the native → caching_sha2 switch (the greeting names mysql_native_password).\n\
         - `--require-secure-transport ON --tls-version TLSv1.3`: the require_secure_transport \
         and TLS version mismatch rows.\n\
         - No RSA key pair (`--caching-sha2-password-auto-generate-rsa-keys OFF \
         --sha256-password-auto-generate-rsa-keys OFF`) and a certificate, signed by the same CA, \
         for `wrong.example` only: the no-RSA and wrong host name rows.\n\n\
         Every client has its own accounts (`<client>_<kind>`@`%`), so each cold-cache case is \
         the account's first login. The warm case's account is first logged in over TLS by the \
         test. The auth-switch rows name the client's first plugin where it has an option for it \
         (`--default-auth`, `auth_plugin`); the other clients start with the greeting's plugin, \
         which those rows choose by server. COM_CHANGE_USER starts from a mysql_native_password \
         account over TLS (certificate not verified; connector: CA verified). The identity rows \
         connect to 127.0.0.1, an IP address in the generated certificate; mysql2's connect to \
         `localhost`, since it checks DNS names only. In the no-RSA row the test also checks the \
         server's own answer on the wire: ERR 1045 to the public-key request.\n",
    );
    if !reasons.is_empty() {
        doc.push_str("\n## Notes\n\n");
        for (i, r) in reasons.iter().enumerate() {
            writeln!(doc, "{}. {r}.", i + 1).unwrap();
        }
    }
    if !fails.is_empty() {
        doc.push_str("\n## Failures\n\n");
        for (i, f) in fails.iter().enumerate() {
            writeln!(doc, "- F{}: {f}", i + 1).unwrap();
        }
    }
    writeln!(doc, "\n{VERSIONS_HEADING}\n").unwrap();
    for (k, v) in versions {
        writeln!(doc, "- {k}: {v}").unwrap();
    }
    doc
}

/// The "expected" column: the case's expectation, and the clients whose own expectation differs
/// (see `expectation`).
fn describe_case(c: &Case) -> String {
    let mut s = describe(c.expect);
    let others: Vec<&str> = CLIENTS
        .iter()
        .filter(|&&cl| expectation(cl, c) != c.expect)
        .map(|cl| cl.name())
        .collect();
    if let Some(&cl) = CLIENTS.iter().find(|&&cl| expectation(cl, c) != c.expect) {
        write!(
            s,
            " from the server; {} report their own {}",
            others.join(", "),
            describe(expectation(cl, c))
        )
        .unwrap();
    }
    s
}

fn describe(e: Expect) -> String {
    match e {
        Expect::Session {
            account,
            tls,
            cipher,
        } => {
            let mut s = format!("`<client>_{account}@%`");
            match (tls, cipher) {
                (None, _) => s.push_str(", no TLS"),
                (Some(v), None) => write!(s, ", {v}").unwrap(),
                (Some(v), Some(c)) => write!(s, ", {v} `{c}`").unwrap(),
            }
            s
        }
        Expect::Code(n) => format!("error {n}"),
        Expect::ClientRefusal => "refused by the client".into(),
    }
}
