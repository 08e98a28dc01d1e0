//! The built-in command handler: what clients send right after logging in, status and variable
//! reads, and the account-management statements, with MySQL's error codes.
//!
//! Statements are parsed by the pure [`crate::sql`] module; this module evaluates them against
//! the server state. Account changes are saved atomically before they are acknowledged.

use std::sync::Arc;

use tracing::{info, warn};

use super::admin::{Admin, ConnState};
use super::random_bytes;
use super::vars::{self, Scope};
use crate::account::{self, Account, AccountError};
use crate::account_ops::{self, AccountOp, AlterChange, Applied};
use crate::auth::{AuthString, Plugin};
use crate::error::MysqlError;
use crate::sql::*;
use crate::wire::packets::{ErrPacket, OkPacket};
use crate::wire::resultset::{encode_result_set, ColumnDefinition41};
use crate::wire::{CLIENT_MULTI_STATEMENTS, SERVER_STATUS_AUTOCOMMIT};

const SERVER_MORE_RESULTS_EXISTS: u16 = 0x0008;

/// A value of the tiny expression evaluator.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Str(String),
}

impl Value {
    fn text(&self) -> Option<String> {
        match self {
            Value::Null => None,
            Value::Int(i) => Some(i.to_string()),
            Value::Str(s) => Some(s.clone()),
        }
    }

    fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Null => None,
            Value::Int(i) => Some(*i),
            Value::Str(s) => Some(leading_number(s)),
        }
    }

    fn truthy(&self) -> bool {
        self.as_i64().is_some_and(|i| i != 0)
    }

    /// A number-looking variable value reads as an integer, as MySQL types them.
    fn from_var(s: String) -> Value {
        match s.parse::<i64>() {
            Ok(i) if !s.starts_with('+') && (s == "0" || !s.starts_with('0')) => Value::Int(i),
            _ => Value::Str(s),
        }
    }
}

fn leading_number(s: &str) -> i64 {
    let t = s.trim_start();
    let end = t
        .char_indices()
        .take_while(|(i, c)| c.is_ascii_digit() || (*i == 0 && (*c == '-' || *c == '+')))
        .map(|(i, c)| i + c.len_utf8())
        .last()
        .unwrap_or(0);
    t[..end].parse().unwrap_or(0)
}

/// A statement's outcome before encoding.
pub enum Reply {
    Ok {
        affected: u64,
        info: String,
    },
    Rows {
        columns: Vec<String>,
        rows: Vec<Vec<Value>>,
    },
    Err(ErrPacket),
}

/// MySQL's `my_error`: the entry's format filled with `args`.
fn err(e: MysqlError, args: &[&dyn std::fmt::Display]) -> Reply {
    Reply::Err(e.packet(args))
}

/// MySQL's `my_message`: the entry's code and SQLSTATE with a text written here.
fn err_text(e: MysqlError, msg: impl Into<String>) -> Reply {
    Reply::Err(e.packet_with_message(msg))
}

fn ok() -> Reply {
    Reply::Ok {
        affected: 0,
        info: String::new(),
    }
}

fn access_denied(privilege: &str) -> Reply {
    err(MysqlError::SpecificAccessDeniedError, &[&privilege])
}

fn unsupported(what: &str) -> Reply {
    err(MysqlError::NotSupportedYet, &[&what])
}

/// `COM_INIT_DB` / `USE db`.
pub fn use_database(st: &mut ConnState, shared: &Admin, db: &str) -> Vec<Vec<u8>> {
    match use_db(st, shared, db) {
        Reply::Err(e) => vec![e.encode()],
        _ => vec![OkPacket::with_status(st.status_flags).encode()],
    }
}

fn use_db(st: &mut ConnState, shared: &Admin, db: &str) -> Reply {
    if shared.databases.iter().any(|d| d == db) {
        st.session.database = Some(db.to_string());
        shared.sessions.set_database(st.id, Some(db));
        ok()
    } else {
        // The format cuts the name to 192 characters.
        err(MysqlError::BadDbError, &[&db])
    }
}

/// Runs one COM_QUERY and returns the payloads of the reply (sequence ids are the caller's).
/// With CLIENT_MULTI_STATEMENTS the statements run in order, each result flagged
/// SERVER_MORE_RESULTS_EXISTS but the last; the first error ends the batch, as in MySQL.
pub async fn execute(st: &mut ConnState, shared: &Arc<Admin>, sql: &[u8]) -> Vec<Vec<u8>> {
    let text = String::from_utf8_lossy(sql);
    let caps = st.session.client_capabilities;
    let parse_error = |e: ParseError| -> Vec<u8> {
        match e.kind {
            // A query of only comments is answered with OK by MySQL.
            ParseErrorKind::Empty { comment_only: true } => {
                OkPacket::with_status(SERVER_STATUS_AUTOCOMMIT).encode()
            }
            _ => e.to_err_packet(&text).encode(),
        }
    };
    let mut out = Vec::new();
    if caps & CLIENT_MULTI_STATEMENTS == 0 {
        match crate::sql::parse_statement(&text) {
            Ok(stmt) => {
                let reply = run_one(st, shared, stmt).await;
                push_reply(&mut out, st, reply, caps, 0);
            }
            Err(e) => out.push(parse_error(e)),
        }
        return out;
    }
    let mut it = crate::sql::statements(&text).peekable();
    while let Some(next) = it.next() {
        let stmt = match next {
            Ok(s) => s,
            Err(e) => {
                out.push(parse_error(e));
                break;
            }
        };
        let reply = run_one(st, shared, stmt).await;
        let more = if it.peek().is_some() {
            SERVER_MORE_RESULTS_EXISTS
        } else {
            0
        };
        if !push_reply(&mut out, st, reply, caps, more) {
            break;
        }
    }
    out
}

async fn run_one(st: &mut ConnState, shared: &Arc<Admin>, stmt: Statement) -> Reply {
    if !matches!(stmt, Statement::ShowWarnings) {
        st.warnings.clear();
    }
    if !st.session.password_expired {
        return run(st, shared, stmt).await;
    }
    // MySQL's sandbox ("Server Handling of Expired Passwords"): only SET, SET PASSWORD for the
    // session's own account and ALTER USER changing its own password run; the rest gets 1820.
    let own_change = match &stmt {
        Statement::Set(_) => false,
        Statement::SetPassword { user, .. } => user
            .as_ref()
            .is_none_or(|u| own_account(st, &resolve_user(st, u))),
        Statement::AlterUser { users, .. } => {
            !users.is_empty()
                && users
                    .iter()
                    .all(|ua| ua.auth.is_some() && own_account(st, &resolve_user(st, &ua.user)))
        }
        _ => return err(MysqlError::MustChangePassword, &[]),
    };
    if !own_change && !matches!(stmt, Statement::Set(_)) {
        return err(MysqlError::MustChangePassword, &[]);
    }
    let reply = run(st, shared, stmt).await;
    if own_change && matches!(reply, Reply::Ok { .. }) {
        // The new password is not expired: the session leaves the sandbox (later logins see
        // the stored account, which the change cleared too).
        st.session.password_expired = false;
        info!(
            id = st.id,
            "expired password changed; the session leaves the sandbox"
        );
    }
    reply
}

fn own_account(st: &ConnState, (user, host): &(String, String)) -> bool {
    is_own(st, user, host)
}

/// Encodes one statement's reply; false if it was an error (which ends a batch).
fn push_reply(out: &mut Vec<Vec<u8>>, st: &ConnState, reply: Reply, caps: u32, more: u16) -> bool {
    let status = st.status_flags | more;
    match reply {
        Reply::Ok { affected, info } => out.push(
            OkPacket {
                affected_rows: affected,
                last_insert_id: 0,
                status_flags: status,
                warnings: st.warnings.len().min(usize::from(u16::MAX)) as u16,
                info: info.into_bytes(),
            }
            .encode(),
        ),
        Reply::Rows { columns, rows } => out.extend(encode_rows(&columns, &rows, caps, status)),
        Reply::Err(e) => {
            out.push(e.encode());
            return false;
        }
    }
    true
}

fn encode_rows(columns: &[String], rows: &[Vec<Value>], caps: u32, status: u16) -> Vec<Vec<u8>> {
    let defs: Vec<ColumnDefinition41> = columns
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let all_int =
                !rows.is_empty() && rows.iter().all(|r| matches!(r.get(i), Some(Value::Int(_))));
            if all_int {
                let width = rows
                    .iter()
                    .filter_map(|r| r.get(i)?.text())
                    .map(|t| t.len())
                    .max()
                    .unwrap_or(1);
                ColumnDefinition41::integer(name, width.max(1) as u32)
            } else {
                let width = rows
                    .iter()
                    .filter_map(|r| r.get(i)?.text())
                    .map(|t| t.chars().count())
                    .max()
                    .unwrap_or(0);
                ColumnDefinition41::string(name, width.max(1) as u32)
            }
        })
        .collect();
    let rows: Vec<Vec<Option<Vec<u8>>>> = rows
        .iter()
        .map(|r| r.iter().map(|v| v.text().map(String::into_bytes)).collect())
        .collect();
    encode_result_set(&defs, &rows, caps, status)
}

/// The current account as it is now (GRANT/REVOKE by another session take effect at once).
fn current_account(st: &ConnState, shared: &Admin) -> Option<Account> {
    let accounts = shared.accounts.read();
    accounts
        .get(st.session.account_user(), st.session.account_host())
        .cloned()
}

fn is_admin(st: &ConnState, shared: &Admin) -> bool {
    current_account(st, shared).is_some_and(|a| a.admin)
}

async fn run(st: &mut ConnState, shared: &Arc<Admin>, stmt: Statement) -> Reply {
    match stmt {
        Statement::Set(assignments) => set(st, shared, assignments),
        Statement::Select(sel) => select(st, shared, &sel),
        Statement::ShowStatus { scope, filter } => {
            let scope = show_scope(scope);
            show_pairs(
                st,
                shared,
                vars::status_variables(shared, Some(st), scope),
                filter,
            )
        }
        Statement::ShowVariables { scope, filter } => {
            let scope = show_scope(scope);
            show_pairs(
                st,
                shared,
                vars::system_variables(shared, Some(st), scope),
                filter,
            )
        }
        Statement::ShowDatabases(filter) => {
            let mut rows = Vec::new();
            for d in shared.databases.iter() {
                let keep = match &filter {
                    None => true,
                    Some(ShowFilter::Like(p)) => crate::sql::like_matches(p, d, '\\'),
                    Some(ShowFilter::Where(_)) => true,
                };
                if keep {
                    rows.push(vec![Value::Str(d.clone())]);
                }
            }
            Reply::Rows {
                columns: vec!["Database".into()],
                rows,
            }
        }
        Statement::ShowWarnings => Reply::Rows {
            columns: vec!["Level".into(), "Code".into(), "Message".into()],
            rows: st
                .warnings
                .iter()
                .map(|(l, c, m)| {
                    vec![
                        Value::Str(l.clone()),
                        Value::Int(i64::from(*c)),
                        Value::Str(m.clone()),
                    ]
                })
                .collect(),
        },
        Statement::ShowCreateUser(u) => show_create_user(st, shared, &u),
        Statement::ShowGrants(u) => show_grants(st, shared, u.as_ref()),
        Statement::CreateUser {
            if_not_exists,
            users,
            require,
            limits,
            account_lock,
            password,
        } => {
            let tail = Tail {
                require,
                lock: account_lock,
                options: account_options(&limits, &password),
            };
            create_user(st, shared, if_not_exists, users, tail).await
        }
        Statement::AlterUser {
            if_exists,
            users,
            require,
            limits,
            account_lock,
            password,
        } => {
            let tail = Tail {
                require,
                lock: account_lock,
                options: account_options(&limits, &password),
            };
            alter_user(st, shared, if_exists, users, tail).await
        }
        Statement::DropUser { if_exists, users } => drop_user(st, shared, if_exists, users).await,
        Statement::RenameUser(pairs) => rename_user(st, shared, pairs).await,
        Statement::SetPassword {
            user,
            password,
            replace,
            retain_current,
        } => {
            let target = user.unwrap_or(UserSpec::CurrentUser);
            let mut ua = UserAuth::new(target, Some(AuthOption::Password(password)));
            ua.replace = replace;
            ua.retain_current = retain_current;
            alter_user(st, shared, false, vec![ua], Tail::default()).await
        }
        Statement::Grant {
            privileges,
            level,
            users,
            with_grant_option,
        } => {
            grant(
                st,
                shared,
                privileges,
                level,
                users,
                with_grant_option,
                true,
            )
            .await
        }
        Statement::Revoke {
            privileges,
            grant_option,
            level,
            users,
        } => {
            grant(
                st,
                shared,
                privileges,
                level.unwrap_or(GrantLevel::Global),
                users,
                grant_option,
                false,
            )
            .await
        }
        Statement::Flush(kinds) => {
            if !is_admin(st, shared) {
                return access_denied("RELOAD");
            }
            for k in kinds {
                match k {
                    FlushKind::Privileges => {
                        // MySQL: FLUSH PRIVILEGES empties the caching_sha2_password cache and
                        // resets every failed-login counter.
                        let mut unchanged = shared.accounts.read().clone();
                        if let Ok(applied) =
                            account_ops::apply(&mut unchanged, AccountOp::FlushPrivileges)
                        {
                            carry_out(shared, &applied);
                        }
                        info!("FLUSH PRIVILEGES: caching_sha2_password cache cleared");
                    }
                    // The hourly per-account counters (MAX_QUERIES_PER_HOUR …) start again.
                    FlushKind::UserResources => {
                        shared.user_resources.flush_hourly();
                        info!("FLUSH USER_RESOURCES: hourly counters reset");
                    }
                    // Every host blocked by max_connect_errors is unblocked.
                    FlushKind::Hosts => {
                        shared.host_cache.flush();
                        info!("FLUSH HOSTS: host cache emptied");
                    }
                    FlushKind::Status => {}
                }
            }
            ok()
        }
        Statement::AlterInstanceReloadTls {
            channel,
            no_rollback_on_error,
        } => {
            if !is_admin(st, shared) {
                return access_denied("CONNECTION_ADMIN");
            }
            if let Some(c) = channel {
                if !c.eq_ignore_ascii_case("mysql_main") {
                    return err(MysqlError::InvalidTlsChannel, &[&c]);
                }
            }
            match shared.tls.reload(no_rollback_on_error) {
                Ok(None) => ok(),
                Ok(Some(w)) => {
                    let e = MysqlError::DaSslLibraryError;
                    st.warnings
                        .push(("Warning".into(), e.code(), e.message(&[&w])));
                    ok()
                }
                Err(e) => err(MysqlError::DaSslLibraryError, &[&e]),
            }
        }
        Statement::Use(db) => use_db(st, shared, &db),
        Statement::ShowProcesslist { full } => show_processlist(st, shared, full),
        Statement::Kill { query, id } => kill(st, shared, query, &id),
        Statement::Shutdown => {
            if !is_admin(st, shared) {
                return access_denied("SHUTDOWN");
            }
            // The same path as SIGTERM: the caller gets its OK, then every session (this one
            // too) 1053 at its next read, and the binary drains and exits 0.
            info!(id = st.id, user = %st.session.user, "SHUTDOWN statement: shutting down");
            shared.begin_shutdown();
            ok()
        }
        Statement::TruncateTable { schema, name } => truncate_table(st, shared, schema, &name),
        Statement::Begin | Statement::Commit | Statement::Rollback => ok(),
        Statement::Other { verb } => unsupported(&verb),
    }
}

fn show_scope(s: ShowScope) -> Scope {
    match s {
        ShowScope::Session => Scope::Session,
        ShowScope::Global => Scope::Global,
    }
}

fn show_pairs(
    st: &ConnState,
    shared: &Admin,
    pairs: Vec<(String, String)>,
    filter: Option<ShowFilter>,
) -> Reply {
    let mut rows = Vec::new();
    for (k, v) in pairs {
        let keep = match &filter {
            None => true,
            Some(ShowFilter::Like(p)) => crate::sql::like_matches(p, &k, '\\'),
            Some(ShowFilter::Where(e)) => {
                let row = [
                    ("variable_name", Value::Str(k.clone())),
                    ("value", Value::Str(v.clone())),
                ];
                match eval(
                    e,
                    &Ctx {
                        st,
                        shared,
                        row: Some(&row),
                    },
                ) {
                    Ok(v) => v.truthy(),
                    Err(r) => return r,
                }
            }
        };
        if keep {
            rows.push(vec![Value::Str(k), Value::Str(v)]);
        }
    }
    Reply::Rows {
        columns: vec!["Variable_name".into(), "Value".into()],
        rows,
    }
}

struct Ctx<'a> {
    st: &'a ConnState,
    shared: &'a Admin,
    /// Columns of the current row (lower-case names), for WHERE over status tables.
    row: Option<&'a [(&'a str, Value)]>,
}

fn eval(e: &Expr, cx: &Ctx<'_>) -> Result<Value, Reply> {
    Ok(match e {
        Expr::Null => Value::Null,
        Expr::Bool(b) => Value::Int(i64::from(*b)),
        Expr::Integer(i) => {
            i64::try_from(*i).map_or_else(|_| Value::Str(i.to_string()), Value::Int)
        }
        Expr::Decimal(d) => Value::Str(d.clone()),
        Expr::Str(s) | Expr::Hex(s) => Value::Str(s.clone()),
        Expr::SystemVar { scope, name } => {
            let scope = match scope {
                Some(VarScope::Global) | Some(VarScope::Persist) | Some(VarScope::PersistOnly) => {
                    Scope::Global
                }
                _ => Scope::Session,
            };
            match vars::system_variable(cx.shared, Some(cx.st), scope, name) {
                Some(v) => Value::from_var(v),
                None => return Err(err(MysqlError::UnknownSystemVariable, &[&name])),
            }
        }
        Expr::UserVar(name) => cx
            .st
            .user_vars
            .get(&name.to_ascii_lowercase())
            .cloned()
            .map_or(Value::Null, Value::from_var),
        Expr::Column(parts) => {
            let name = parts
                .last()
                .map(|s| s.to_ascii_lowercase())
                .unwrap_or_default();
            match cx.row {
                Some(row) => match row.iter().find(|(k, _)| *k == name) {
                    Some((_, v)) => v.clone(),
                    None => {
                        // Not cut: MySQL's format would cut the name to 192 characters.
                        return Err(err_text(
                            MysqlError::BadFieldError,
                            format!("Unknown column '{}' in 'where clause'", parts.join(".")),
                        ));
                    }
                },
                None => {
                    // Not cut, as above.
                    return Err(err_text(
                        MysqlError::BadFieldError,
                        format!("Unknown column '{}' in 'field list'", parts.join(".")),
                    ));
                }
            }
        }
        Expr::Function { name, args } => function(name, args, cx)?,
        Expr::Subquery(sel) => match select(cx.st, cx.shared, sel) {
            Reply::Rows { rows, .. } => rows
                .into_iter()
                .next()
                .and_then(|r| r.into_iter().next())
                .unwrap_or(Value::Null),
            other => return Err(other),
        },
        Expr::Unary { op, expr } => {
            let v = eval(expr, cx)?;
            match op {
                UnaryOp::Neg => v
                    .as_i64()
                    .map_or(Value::Null, |i| Value::Int(i.wrapping_neg())),
                UnaryOp::Not => match v {
                    Value::Null => Value::Null,
                    v => Value::Int(i64::from(!v.truthy())),
                },
            }
        }
        Expr::Binary { left, op, right } => {
            let (l, r) = (eval(left, cx)?, eval(right, cx)?);
            binary(*op, l, r)
        }
        Expr::IsNull { expr, negated } => {
            Value::Int(i64::from((eval(expr, cx)? == Value::Null) != *negated))
        }
        Expr::Like {
            expr,
            pattern,
            escape,
            negated,
        } => {
            let v = eval(expr, cx)?;
            let p = eval(pattern, cx)?;
            let esc = match escape {
                Some(e) => eval(e, cx)?
                    .text()
                    .and_then(|s| s.chars().next())
                    .unwrap_or('\\'),
                None => '\\',
            };
            match (v.text(), p.text()) {
                (Some(v), Some(p)) => {
                    Value::Int(i64::from(crate::sql::like_matches(&p, &v, esc) != *negated))
                }
                _ => Value::Null,
            }
        }
        Expr::InList {
            expr,
            list,
            negated,
        } => {
            let v = eval(expr, cx)?;
            let mut found = false;
            for item in list {
                if compare(&v, &eval(item, cx)?) == Some(std::cmp::Ordering::Equal) {
                    found = true;
                }
            }
            Value::Int(i64::from(found != *negated))
        }
        Expr::Between {
            expr,
            low,
            high,
            negated,
        } => {
            let v = eval(expr, cx)?;
            let inside = compare(&v, &eval(low, cx)?).is_some_and(|o| o.is_ge())
                && compare(&v, &eval(high, cx)?).is_some_and(|o| o.is_le());
            Value::Int(i64::from(inside != *negated))
        }
    })
}

/// Comparison as MySQL does it for these types: numbers numerically, strings case-insensitively
/// (the default collation is accent- and case-insensitive).
fn compare(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Value::Null, _) | (_, Value::Null) => None,
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        (Value::Int(x), Value::Str(s)) | (Value::Str(s), Value::Int(x)) => {
            let o = x.cmp(&leading_number(s));
            Some(if matches!(a, Value::Int(_)) {
                o
            } else {
                o.reverse()
            })
        }
        (Value::Str(x), Value::Str(y)) => Some(x.to_lowercase().cmp(&y.to_lowercase())),
    }
}

fn binary(op: BinaryOp, l: Value, r: Value) -> Value {
    use std::cmp::Ordering as O;
    let bool_v = |b: bool| Value::Int(i64::from(b));
    match op {
        BinaryOp::And => match (l.as_i64(), r.as_i64()) {
            (Some(0), _) | (_, Some(0)) => bool_v(false),
            (Some(_), Some(_)) => bool_v(true),
            _ => Value::Null,
        },
        BinaryOp::Or => match (l.as_i64(), r.as_i64()) {
            (Some(x), _) if x != 0 => bool_v(true),
            (_, Some(y)) if y != 0 => bool_v(true),
            (Some(_), Some(_)) => bool_v(false),
            _ => Value::Null,
        },
        BinaryOp::Xor => match (l.as_i64(), r.as_i64()) {
            (Some(x), Some(y)) => bool_v((x != 0) != (y != 0)),
            _ => Value::Null,
        },
        BinaryOp::NullSafeEq => bool_v(l == r || compare(&l, &r) == Some(O::Equal)),
        BinaryOp::Eq
        | BinaryOp::NotEq
        | BinaryOp::Lt
        | BinaryOp::LtEq
        | BinaryOp::Gt
        | BinaryOp::GtEq => match compare(&l, &r) {
            None => Value::Null,
            Some(o) => bool_v(match op {
                BinaryOp::Eq => o == O::Equal,
                BinaryOp::NotEq => o != O::Equal,
                BinaryOp::Lt => o == O::Less,
                BinaryOp::LtEq => o != O::Greater,
                BinaryOp::Gt => o == O::Greater,
                _ => o != O::Less,
            }),
        },
        BinaryOp::Plus
        | BinaryOp::Minus
        | BinaryOp::Mul
        | BinaryOp::IntDiv
        | BinaryOp::Mod
        | BinaryOp::Div => match (l.as_i64(), r.as_i64()) {
            (Some(x), Some(y)) => match op {
                BinaryOp::Plus => Value::Int(x.wrapping_add(y)),
                BinaryOp::Minus => Value::Int(x.wrapping_sub(y)),
                BinaryOp::Mul => Value::Int(x.wrapping_mul(y)),
                _ if y == 0 => Value::Null,
                BinaryOp::IntDiv => Value::Int(x.wrapping_div(y)),
                BinaryOp::Mod => Value::Int(x.wrapping_rem(y)),
                _ => Value::Str(format!("{:.4}", x as f64 / y as f64)),
            },
            _ => Value::Null,
        },
    }
}

fn function(name: &str, args: &[Expr], cx: &Ctx<'_>) -> Result<Value, Reply> {
    let s = &cx.st.session;
    let upper = name.to_ascii_uppercase();
    let argc_ok = |n: usize| args.len() == n;
    // Only for the built-in names below, all shorter than the format's 192 characters.
    let wrong_count = || err(MysqlError::WrongParamcountToNativeFct, &[&upper]);
    Ok(match upper.as_str() {
        "VERSION" if argc_ok(0) => Value::Str(cx.shared.config.server_version.clone()),
        "USER" | "SESSION_USER" | "SYSTEM_USER" if argc_ok(0) => {
            Value::Str(format!("{}@{}", s.user, s.client_host))
        }
        "CURRENT_USER" if argc_ok(0) => {
            Value::Str(format!("{}@{}", s.account_user(), s.account_host()))
        }
        "CONNECTION_ID" if argc_ok(0) => Value::Int(i64::from(cx.st.id)),
        "DATABASE" | "SCHEMA" if argc_ok(0) => s.database.clone().map_or(Value::Null, Value::Str),
        "CONCAT" => {
            let mut out = String::new();
            for a in args {
                match eval(a, cx)?.text() {
                    Some(t) => out.push_str(&t),
                    None => return Ok(Value::Null),
                }
            }
            Value::Str(out)
        }
        "LOWER" | "LCASE" if argc_ok(1) => eval(&args[0], cx)?
            .text()
            .map_or(Value::Null, |t| Value::Str(t.to_lowercase())),
        "UPPER" | "UCASE" if argc_ok(1) => eval(&args[0], cx)?
            .text()
            .map_or(Value::Null, |t| Value::Str(t.to_uppercase())),
        "IFNULL" | "COALESCE" => {
            for a in args {
                let v = eval(a, cx)?;
                if v != Value::Null {
                    return Ok(v);
                }
            }
            Value::Null
        }
        "VERSION" | "USER" | "SESSION_USER" | "SYSTEM_USER" | "CURRENT_USER" | "CONNECTION_ID"
        | "DATABASE" | "SCHEMA" | "LOWER" | "LCASE" | "UPPER" | "UCASE" => {
            return Err(wrong_count())
        }
        _ => {
            return Err(err(
                MysqlError::SpDoesNotExist,
                &[&"FUNCTION", &crate::handshake::clip(name, 64)],
            ))
        }
    })
}

/// Column title MySQL would show: the alias, else the expression text.
fn item_name(item: &SelectItem) -> String {
    match item {
        SelectItem::Expr { alias: Some(a), .. } => a.clone(),
        SelectItem::Expr { expr, .. } => expr.to_string(),
        SelectItem::Wildcard => "*".into(),
    }
}

fn select(st: &ConnState, shared: &Admin, sel: &Select) -> Reply {
    let cx = Ctx {
        st,
        shared,
        row: None,
    };
    let Some(table) = &sel.from else {
        if let Some(w) = &sel.selection {
            match eval(w, &cx) {
                Ok(v) if !v.truthy() => {
                    return Reply::Rows {
                        columns: sel.items.iter().map(item_name).collect(),
                        rows: vec![],
                    }
                }
                Ok(_) => {}
                Err(r) => return r,
            }
        }
        let mut row = Vec::new();
        for item in &sel.items {
            match item {
                SelectItem::Wildcard => return err(MysqlError::NoTablesUsed, &[]),
                SelectItem::Expr { expr, .. } => match eval(expr, &cx) {
                    Ok(v) => row.push(v),
                    Err(r) => return r,
                },
            }
        }
        let rows = if sel.limit.is_some_and(|l| l.count == 0) {
            vec![]
        } else {
            vec![row]
        };
        return Reply::Rows {
            columns: sel.items.iter().map(item_name).collect(),
            rows,
        };
    };
    select_from_table(st, shared, sel, table)
}

/// `performance_schema.{session,global}_{status,variables}` (two columns, VARIABLE_NAME and
/// VARIABLE_VALUE), `mysql.user` and `performance_schema.host_cache` (administrators only),
/// `information_schema.PROCESSLIST` (an account without the admin privilege sees its own
/// sessions) and `information_schema.connection_control_failed_login_attempts` (empty without
/// the admin privilege or `--connection-control`).
fn select_from_table(st: &ConnState, shared: &Admin, sel: &Select, table: &TableRef) -> Reply {
    let schema = table
        .schema
        .clone()
        .or_else(|| st.session.database.clone())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let name = table.name.to_ascii_lowercase();
    let texts = |rows: Vec<Vec<String>>| -> Vec<Vec<Value>> {
        rows.into_iter()
            .map(|r| r.into_iter().map(Value::Str).collect())
            .collect()
    };
    let (columns, data): (Vec<&str>, Vec<Vec<Value>>) = match (schema.as_str(), name.as_str()) {
        (
            "performance_schema",
            "session_status" | "global_status" | "session_variables" | "global_variables",
        ) => {
            let scope = if name.starts_with("global") {
                Scope::Global
            } else {
                Scope::Session
            };
            let pairs = if name.ends_with("status") {
                vars::status_variables(shared, Some(st), scope)
            } else {
                vars::system_variables(shared, Some(st), scope)
            };
            (
                vec!["VARIABLE_NAME", "VARIABLE_VALUE"],
                texts(pairs.into_iter().map(|(k, v)| vec![k, v]).collect()),
            )
        }
        ("performance_schema", "host_cache") => {
            if !is_admin(st, shared) {
                return table_access_denied(st, "SELECT", "host_cache");
            }
            let count = |n: u64| Value::Int(i64::try_from(n).unwrap_or(i64::MAX));
            let rows = shared
                .host_cache
                .snapshot()
                .into_iter()
                .map(|e| {
                    vec![
                        Value::Str(e.ip.to_string()),
                        Value::Str(e.ip.to_string()),
                        count(e.connect_errors),
                        count(e.blocked_errors),
                        count(e.handshake_errors),
                        count(e.authentication_errors),
                        Value::Str(datetime_utc(e.first_seen)),
                        Value::Str(datetime_utc(e.last_seen)),
                    ]
                })
                .collect();
            (
                vec![
                    "IP",
                    "HOST",
                    "SUM_CONNECT_ERRORS",
                    "COUNT_HOST_BLOCKED_ERRORS",
                    "COUNT_HANDSHAKE_ERRORS",
                    "COUNT_AUTHENTICATION_ERRORS",
                    "FIRST_SEEN",
                    "LAST_SEEN",
                ],
                rows,
            )
        }
        ("information_schema", "connection_control_failed_login_attempts") => {
            // MySQL: empty unless the plugin is active; its fill function needs the admin
            // privilege (CONNECTION_ADMIN / SUPER).
            let rows = if shared.config.connection_control && is_admin(st, shared) {
                shared
                    .throttle
                    .snapshot()
                    .into_iter()
                    .map(|(userhost, n)| {
                        vec![
                            Value::Str(userhost),
                            Value::Int(i64::try_from(n).unwrap_or(i64::MAX)),
                        ]
                    })
                    .collect()
            } else {
                Vec::new()
            };
            (vec!["USERHOST", "FAILED_ATTEMPTS"], rows)
        }
        ("information_schema", "processlist") => {
            let rows = visible_processes(st, shared)
                .into_iter()
                .map(|p| {
                    let mut row = process_values(&p, None);
                    row.push(Value::Str(p.transport.to_string()));
                    row.push(Value::Str(p.tls_version));
                    row
                })
                .collect();
            (
                vec![
                    "ID",
                    "USER",
                    "HOST",
                    "DB",
                    "COMMAND",
                    "TIME",
                    "STATE",
                    "INFO",
                    "TRANSPORT",
                    "TLS_VERSION",
                ],
                rows,
            )
        }
        ("mysql", "user") => {
            if !is_admin(st, shared) {
                return table_access_denied(st, "SELECT", "user");
            }
            let accounts = shared.accounts.read();
            let rows = accounts
                .iter()
                .map(|a| {
                    vec![
                        a.host.clone(),
                        a.user.clone(),
                        a.plugin.name().to_string(),
                        ssl_type(&a.require).to_string(),
                        if a.locked { "Y" } else { "N" }.to_string(),
                        if a.admin { "Y" } else { "N" }.to_string(),
                    ]
                })
                .collect();
            (
                vec![
                    "Host",
                    "User",
                    "plugin",
                    "ssl_type",
                    "account_locked",
                    "Super_priv",
                ],
                texts(rows),
            )
        }
        _ => return no_such_table(&schema, &table.name),
    };
    let lower: Vec<String> = columns.iter().map(|c| c.to_ascii_lowercase()).collect();
    let mut out_cols = Vec::new();
    for item in &sel.items {
        match item {
            SelectItem::Wildcard => out_cols.extend(columns.iter().map(|c| c.to_string())),
            other => out_cols.push(item_name(other)),
        }
    }
    let mut rows = Vec::new();
    for r in &data {
        let bound: Vec<(&str, Value)> = lower
            .iter()
            .map(String::as_str)
            .zip(r.iter().cloned())
            .collect();
        let cx = Ctx {
            st,
            shared,
            row: Some(&bound),
        };
        if let Some(w) = &sel.selection {
            match eval(w, &cx) {
                Ok(v) if !v.truthy() => continue,
                Ok(_) => {}
                Err(e) => return e,
            }
        }
        let mut row = Vec::new();
        for item in &sel.items {
            match item {
                SelectItem::Wildcard => row.extend(r.iter().cloned()),
                SelectItem::Expr { expr, .. } => match eval(expr, &cx) {
                    Ok(v) => row.push(v),
                    Err(e) => return e,
                },
            }
        }
        rows.push(row);
    }
    if let Some(l) = sel.limit {
        let off = l.offset.unwrap_or(0) as usize;
        rows = rows.into_iter().skip(off).take(l.count as usize).collect();
    }
    Reply::Rows {
        columns: out_cols,
        rows,
    }
}

/// 1146 for a table this server does not have (1046 without a schema or a default database).
fn no_such_table(schema: &str, name: &str) -> Reply {
    if schema.is_empty() {
        return err(MysqlError::NoDbError, &[]);
    }
    // Not cut: MySQL's format would cut schema and table to 192 characters each.
    err_text(
        MysqlError::NoSuchTable,
        format!("Table '{schema}.{name}' doesn't exist"),
    )
}

/// 1142: `command` (SELECT, DROP) on `table` needs a privilege the account lacks.
fn table_access_denied(st: &ConnState, command: &str, table: &str) -> Reply {
    // Not cut: MySQL's format would cut user and host to 48 and 64 characters.
    err_text(
        MysqlError::TableaccessDeniedError,
        format!(
            "{command} command denied to user '{}'@'{}' for table '{table}'",
            st.session.user, st.session.client_host
        ),
    )
}

/// `TRUNCATE TABLE performance_schema.host_cache`: FLUSH HOSTS (MySQL's DROP privilege on the
/// table, the admin privilege here). There is no other table to truncate.
fn truncate_table(st: &ConnState, shared: &Admin, schema: Option<String>, name: &str) -> Reply {
    let schema = schema
        .or_else(|| st.session.database.clone())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if schema == "performance_schema" && name.eq_ignore_ascii_case("host_cache") {
        if !is_admin(st, shared) {
            return table_access_denied(st, "DROP", "host_cache");
        }
        shared.host_cache.flush();
        info!("TRUNCATE TABLE performance_schema.host_cache: host cache emptied");
        return ok();
    }
    no_such_table(&schema, name)
}

/// The sessions the caller may see: all with the admin privilege (MySQL's PROCESS), else those
/// of its own account.
fn visible_processes(st: &ConnState, shared: &Admin) -> Vec<super::sessions::ProcessRow> {
    let all = shared.sessions.snapshot(std::time::Instant::now());
    if is_admin(st, shared) {
        return all;
    }
    all.into_iter()
        .filter(|p| is_own(st, &p.account_user, &p.account_host))
        .collect()
}

/// Id, User, Host, db, Command, Time, State, Info; `Info` cut to `info_chars` characters.
fn process_values(p: &super::sessions::ProcessRow, info_chars: Option<usize>) -> Vec<Value> {
    let info = p.info.as_ref().map(|i| match info_chars {
        Some(n) => i.chars().take(n).collect(),
        None => i.clone(),
    });
    vec![
        Value::Int(i64::from(p.id)),
        Value::Str(p.user.clone()),
        Value::Str(p.host.clone()),
        p.db.clone().map_or(Value::Null, Value::Str),
        Value::Str(p.command.to_string()),
        Value::Int(i64::try_from(p.time).unwrap_or(i64::MAX)),
        Value::Str(p.state.to_string()),
        info.map_or(Value::Null, Value::Str),
    ]
}

/// `SHOW [FULL] PROCESSLIST`: the door's sessions, whatever backend serves them; without FULL,
/// `Info` is cut to 100 characters (MySQL).
fn show_processlist(st: &ConnState, shared: &Admin, full: bool) -> Reply {
    let cut = (!full).then_some(super::sessions::SHORT_INFO);
    Reply::Rows {
        columns: [
            "Id", "User", "Host", "db", "Command", "Time", "State", "Info",
        ]
        .iter()
        .map(|c| c.to_string())
        .collect(),
        rows: visible_processes(st, shared)
            .iter()
            .map(|p| process_values(p, cut))
            .collect(),
    }
}

/// `KILL [CONNECTION | QUERY] id` (MySQL `sql_kill`): 1094 for an id that is no live session,
/// 1095 for another account's session without the admin privilege (CONNECTION_ADMIN). A
/// session killed by CONNECTION closes at its next read, as an idle MySQL session's socket is
/// shut down; one running a command (a relayed statement in proxy mode) finishes it first.
/// QUERY has nothing to interrupt in the admin SQL. The caller's own id gets 1317 (MySQL's
/// `send_kill_message`), and with CONNECTION its connection closes after it.
fn kill(st: &ConnState, shared: &Admin, query: bool, id: &Expr) -> Reply {
    let cx = Ctx {
        st,
        shared,
        row: None,
    };
    let n = match eval(id, &cx) {
        Ok(v) => v.as_i64().unwrap_or(0),
        Err(r) => return r,
    };
    // The id is unsigned in MySQL (`%lu`).
    let shown = n as u64;
    let target = u32::try_from(n).ok();
    let Some((target, owner)) = target.and_then(|t| Some((t, shared.sessions.owner(t)?))) else {
        return err(MysqlError::NoSuchThread, &[&shown]);
    };
    if !is_own(st, &owner.0, &owner.1) && !is_admin(st, shared) {
        return err(MysqlError::KillDeniedError, &[&shown]);
    }
    info!(
        id = st.id,
        target,
        query,
        "KILL {}",
        if query { "QUERY" } else { "CONNECTION" }
    );
    if !query {
        shared.sessions.kill(target);
    }
    if target == st.id {
        return err(MysqlError::QueryInterrupted, &[]);
    }
    ok()
}

/// Unix seconds as MySQL prints a TIMESTAMP in UTC: `YYYY-MM-DD HH:MM:SS`.
fn datetime_utc(secs: u64) -> String {
    let sod = secs % 86_400;
    let (year, month, day) = super::audit_log::civil_from_days(secs / 86_400);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

fn ssl_type(r: &account::Require) -> &'static str {
    match r {
        account::Require::None => "",
        account::Require::Ssl => "ANY",
        account::Require::X509 => "X509",
        account::Require::Specified { .. } => "SPECIFIED",
    }
}

/// Session and global `SET`.
fn set(st: &mut ConnState, shared: &Admin, assignments: Vec<SetAssignment>) -> Reply {
    for a in assignments {
        let r = match a {
            SetAssignment::User { name, value } => match eval(
                &value,
                &Ctx {
                    st,
                    shared,
                    row: None,
                },
            ) {
                Ok(v) => {
                    match v.text() {
                        Some(t) => st.user_vars.insert(name.to_ascii_lowercase(), t),
                        None => st.user_vars.remove(&name.to_ascii_lowercase()),
                    };
                    None
                }
                Err(e) => Some(e),
            },
            SetAssignment::Names { charset, collation } => {
                let cs = charset
                    .unwrap_or_else(|| "utf8mb4".into())
                    .to_ascii_lowercase();
                for k in [
                    "character_set_client",
                    "character_set_connection",
                    "character_set_results",
                ] {
                    st.session_vars.insert(k.into(), cs.clone());
                }
                if let Some(c) = collation {
                    st.session_vars
                        .insert("collation_connection".into(), c.to_ascii_lowercase());
                }
                None
            }
            SetAssignment::CharacterSet(cs) => {
                let cs = cs.unwrap_or_else(|| "utf8mb4".into()).to_ascii_lowercase();
                st.session_vars
                    .insert("character_set_client".into(), cs.clone());
                st.session_vars.insert("character_set_results".into(), cs);
                None
            }
            SetAssignment::System { scope, name, value } => {
                set_system(st, shared, scope, &name.to_ascii_lowercase(), value)
            }
        };
        if let Some(e) = r {
            return e;
        }
    }
    ok()
}

/// Variables that exist only globally (SET SESSION → 1229) and their setters.
const GLOBAL_DYNAMIC: &[&str] = &[
    "require_secure_transport",
    "tls_version",
    "ssl_ca",
    "ssl_capath",
    "ssl_crl",
    "ssl_crlpath",
    "ssl_cert",
    "ssl_key",
    "ssl_cipher",
    "tls_ciphersuites",
    "ssl_session_cache_mode",
    "ssl_session_cache_timeout",
];
const READ_ONLY: &[&str] = &[
    "auto_generate_certs",
    "caching_sha2_password_auto_generate_rsa_keys",
    "caching_sha2_password_digest_rounds",
    "caching_sha2_password_private_key_path",
    "caching_sha2_password_public_key_path",
    "datadir",
    "have_openssl",
    "have_ssl",
    "hostname",
    "license",
    "lower_case_table_names",
    "port",
    "protocol_version",
    "sha256_password_auto_generate_rsa_keys",
    "sha256_password_private_key_path",
    "sha256_password_public_key_path",
    "socket",
    "system_time_zone",
    "version",
    "version_comment",
    "version_compile_machine",
    "version_compile_os",
    "character_set_system",
];

/// `SET [SESSION|GLOBAL] wait_timeout | interactive_timeout | net_read_timeout |
/// net_write_timeout`: an integer, clamped to 1..=31536000 with warning 1292 as MySQL does;
/// `DEFAULT` is the global value (session) or the startup value (global).
fn set_timeout(
    st: &mut ConnState,
    shared: &Admin,
    scope: VarScope,
    name: &str,
    value: Option<&str>,
) -> Option<Reply> {
    let global = !matches!(scope, VarScope::Session);
    if global && !is_admin(st, shared) {
        return Some(access_denied("SUPER or SYSTEM_VARIABLES_ADMIN"));
    }
    let seconds = match value {
        None => {
            let defaults = if global {
                super::Timeouts::from_config(&shared.config)
            } else {
                shared.timeouts()
            };
            defaults.get(name).unwrap_or(1)
        }
        Some(text) => {
            let Ok(n) = text.trim().parse::<i128>() else {
                return Some(err(MysqlError::WrongTypeForVar, &[&name]));
            };
            let max = i128::from(super::config::MAX_TIMEOUT);
            if !(1..=max).contains(&n) {
                let e = MysqlError::TruncatedWrongValue;
                st.warnings.push((
                    "Warning".into(),
                    e.code(),
                    e.message(&[&name, &crate::handshake::clip(text, 64)]),
                ));
            }
            // In range after the clamp, so the conversion cannot fail.
            u64::try_from(n.clamp(1, max)).unwrap_or(1)
        }
    };
    if global {
        let mut g = shared.globals.write().unwrap_or_else(|e| e.into_inner());
        g.timeouts.set(name, seconds);
        info!(name, seconds, "global timeout changed");
    } else {
        st.timeouts.set(name, seconds);
    }
    None
}

/// `SET GLOBAL` of the account-security variables ([`vars::AccountSecurityVars`]) with MySQL's
/// rules: server integers out of range are clamped with warning 1292, connection_control's are
/// refused with 1231 (its check functions, which also keep min ≤ max), a non-integer is 1232,
/// `DEFAULT` is MySQL's default, `disconnect_on_expired_password` is read-only (1238), and all are
/// global only (1229; `max_user_connections` has a read-only session value, 1621).
fn set_account_security(
    st: &mut ConnState,
    shared: &Admin,
    scope: VarScope,
    name: &str,
    kind: vars::SecurityVarKind,
    value: Option<&str>,
) -> Option<Reply> {
    use vars::SecurityVarKind as K;
    if kind == K::ReadOnly {
        return Some(err(
            MysqlError::IncorrectGlobalLocalVar,
            &[&name, &"read only"],
        ));
    }
    if scope == VarScope::Session {
        return Some(if name == "max_user_connections" {
            err(
                MysqlError::VariableIsReadonly,
                &[&"SESSION", &name, &"GLOBAL"],
            )
        } else {
            err(MysqlError::GlobalVariable, &[&name])
        });
    }
    if !is_admin(st, shared) {
        return Some(access_denied("SUPER or SYSTEM_VARIABLES_ADMIN"));
    }
    let wrong_value = |v: &str| Some(err(MysqlError::WrongValueForVar, &[&name, &v]));
    let current = shared.account_security();
    let new = match (value, kind) {
        (None, _) => vars::AccountSecurityVars::default().get(name).unwrap_or(0),
        (Some(text), K::Bool) => match crate::server::config::parse_bool(text) {
            Some(b) => u64::from(b),
            None => return wrong_value(text),
        },
        (Some(text), K::Clamped { min, max } | K::Checked { min, max }) => {
            let Ok(n) = text.trim().parse::<i128>() else {
                return Some(err(MysqlError::WrongTypeForVar, &[&name]));
            };
            let (lo, hi) = (i128::from(min), i128::from(max));
            if !(lo..=hi).contains(&n) {
                if matches!(kind, K::Checked { .. }) {
                    return wrong_value(text);
                }
                let e = MysqlError::TruncatedWrongValue;
                st.warnings.push((
                    "Warning".into(),
                    e.code(),
                    e.message(&[&name, &crate::handshake::clip(text, 64)]),
                ));
            }
            // In range after the clamp, so the conversion cannot fail.
            u64::try_from(n.clamp(lo, hi)).unwrap_or(min)
        }
        (Some(_), K::ReadOnly) => return None,
    };
    // connection_control: the minimum delay may not exceed the maximum, nor the reverse.
    let min_above_max = name == "connection_control_min_connection_delay"
        && new > u64::from(current.connection_control_max_connection_delay);
    let max_below_min = name == "connection_control_max_connection_delay"
        && new < u64::from(current.connection_control_min_connection_delay);
    if min_above_max || max_below_min {
        return wrong_value(value.unwrap_or("DEFAULT"));
    }
    shared
        .globals
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .account_security
        .set(name, new);
    if name == "connection_control_failed_connections_threshold" {
        // As connection_control does: the failure counters and Connection_control_delay_
        // generated start again.
        shared.throttle.clear();
        shared
            .throttle
            .delays_generated
            .store(0, std::sync::atomic::Ordering::Relaxed);
    }
    info!(name, value = new, "global variable changed");
    None
}

fn set_system(
    st: &mut ConnState,
    shared: &Admin,
    scope: VarScope,
    name: &str,
    value: SetValue,
) -> Option<Reply> {
    if READ_ONLY.contains(&name) {
        return Some(err(
            MysqlError::IncorrectGlobalLocalVar,
            &[&name, &"read only"],
        ));
    }
    let value_text = match &value {
        SetValue::Default => None,
        SetValue::Expr(e) => {
            let e = match e.as_bare_word() {
                Some(w) => Value::Str(w.to_string()),
                None => match eval(
                    e,
                    &Ctx {
                        st,
                        shared,
                        row: None,
                    },
                ) {
                    Ok(v) => v,
                    Err(r) => return Some(r),
                },
            };
            e.text()
        }
    };
    // The format cuts the value to 200 characters; `name` is one of the variables below.
    let wrong_value = |v: &str| err(MysqlError::WrongValueForVar, &[&name, &v]);
    if super::Timeouts::NAMES.contains(&name) {
        return set_timeout(st, shared, scope, name, value_text.as_deref());
    }
    if let Some(kind) = vars::AccountSecurityVars::kind(name) {
        return set_account_security(st, shared, scope, name, kind, value_text.as_deref());
    }
    match scope {
        VarScope::Session => {
            if GLOBAL_DYNAMIC.contains(&name) {
                return Some(err(MysqlError::GlobalVariable, &[&name]));
            }
            if name == "autocommit" {
                let on = match value_text.as_deref().map(crate::server::config::parse_bool) {
                    None => Some(true),
                    Some(Some(b)) => Some(b),
                    Some(None) => None,
                };
                let Some(on) = on else {
                    return Some(wrong_value(value_text.as_deref().unwrap_or("")));
                };
                if on {
                    st.status_flags |= SERVER_STATUS_AUTOCOMMIT;
                } else {
                    st.status_flags &= !SERVER_STATUS_AUTOCOMMIT;
                }
                st.session_vars
                    .insert(name.into(), if on { "ON" } else { "OFF" }.into());
                return None;
            }
            // Clients set many session variables on connect (sql_mode, time_zone, …); accept them.
            match value_text {
                Some(v) => st.session_vars.insert(name.into(), v),
                None => st.session_vars.remove(name),
            };
            None
        }
        VarScope::Global | VarScope::Persist | VarScope::PersistOnly => {
            if !is_admin(st, shared) {
                return Some(access_denied("SUPER or SYSTEM_VARIABLES_ADMIN"));
            }
            let is_null = value_text.is_none();
            let v = value_text.unwrap_or_default();
            match name {
                "require_secure_transport" => {
                    let Some(on) = crate::server::config::parse_bool(&v) else {
                        return Some(wrong_value(&v));
                    };
                    if on
                        && !shared.tls.available()
                        && !shared
                            .socket_listening
                            .load(std::sync::atomic::Ordering::Relaxed)
                    {
                        return Some(err(MysqlError::NoSecureTransportsConfigured, &[]));
                    }
                    shared
                        .globals
                        .write()
                        .unwrap_or_else(|e| e.into_inner())
                        .require_secure_transport = on;
                    info!(on, "require_secure_transport changed");
                    None
                }
                // Both take effect at the next ALTER INSTANCE RELOAD TLS, as in MySQL.
                "ssl_session_cache_mode" => {
                    let Some(on) = crate::server::config::parse_bool(&v) else {
                        return Some(wrong_value(&v));
                    };
                    shared.tls.stage(|s| s.ssl_session_cache_mode = on);
                    None
                }
                "ssl_session_cache_timeout" => {
                    let Ok(secs) = v.parse::<u64>() else {
                        return Some(err(
                            MysqlError::WrongTypeForVar,
                            &[&"ssl_session_cache_timeout"],
                        ));
                    };
                    shared
                        .tls
                        .stage(|s| s.ssl_session_cache_timeout = secs.min(86_400));
                    None
                }
                "tls_version" => {
                    if crate::tls_policy::parse_tls_versions(&v).is_err() {
                        return Some(wrong_value(&v));
                    }
                    shared.tls.stage(|s| s.tls_version = v);
                    None
                }
                "ssl_cipher" | "tls_ciphersuites" => {
                    // NULL / DEFAULT restore MySQL's default list; a value must parse (names the
                    // TLS library lacks are dropped with a warning at RELOAD, as MySQL does).
                    let value = (!is_null).then_some(v);
                    let parsed = match (name, value.as_deref()) {
                        ("ssl_cipher", v) => crate::tls_policy::ssl_cipher_setting(v).map(|_| ()),
                        (_, v) => crate::tls_policy::tls_ciphersuites_setting(v).map(|_| ()),
                    };
                    if let Err(e) = parsed {
                        info!("SET GLOBAL {name} refused: {e}");
                        return Some(wrong_value(value.as_deref().unwrap_or("NULL")));
                    }
                    shared.tls.stage(|s| {
                        if name == "ssl_cipher" {
                            s.ssl_cipher = value;
                        } else {
                            s.tls_ciphersuites = value;
                        }
                    });
                    None
                }
                "ssl_ca" | "ssl_capath" | "ssl_crl" | "ssl_crlpath" | "ssl_cert" | "ssl_key" => {
                    let p = (!v.is_empty()).then(|| std::path::PathBuf::from(&v));
                    shared.tls.stage(|s| match name {
                        "ssl_ca" => s.ssl_ca = p,
                        "ssl_capath" => s.ssl_capath = p,
                        "ssl_crl" => s.ssl_crl = p,
                        "ssl_crlpath" => s.ssl_crlpath = p,
                        "ssl_cert" => s.ssl_cert = p,
                        _ => s.ssl_key = p,
                    });
                    None
                }
                _ => {
                    if vars::system_variable(shared, None, Scope::Global, name).is_some() {
                        Some(err(
                            MysqlError::IncorrectGlobalLocalVar,
                            &[&name, &"read only"],
                        ))
                    } else {
                        Some(err(MysqlError::UnknownSystemVariable, &[&name]))
                    }
                }
            }
        }
    }
}

fn resolve_user(st: &ConnState, u: &UserSpec) -> (String, String) {
    match u {
        UserSpec::Account { user, host } => (user.clone(), host.clone()),
        UserSpec::CurrentUser => (
            st.session.account_user().to_owned(),
            st.session.account_host().to_owned(),
        ),
    }
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

fn backtick(s: &str) -> String {
    format!("`{}`", s.replace('`', "``"))
}

/// Reading another account's definition needs the admin privilege (MySQL: SELECT on mysql).
fn own_or_admin(st: &ConnState, shared: &Admin, user: &str, host: &str) -> Result<(), Reply> {
    if is_own(st, user, host) || is_admin(st, shared) {
        return Ok(());
    }
    // Not cut: MySQL's format would cut user and host to 48 and 64 characters.
    Err(err_text(
        MysqlError::DbaccessDeniedError,
        format!(
            "Access denied for user '{}'@'{}' to database 'mysql'",
            st.session.user, st.session.client_host
        ),
    ))
}

fn show_create_user(st: &ConnState, shared: &Admin, u: &UserSpec) -> Reply {
    let (user, host) = resolve_user(st, u);
    if let Err(denied) = own_or_admin(st, shared, &user, &host) {
        return denied;
    }
    let accounts = shared.accounts.read();
    let Some(a) = accounts.get(&user, &host) else {
        // Not cut: MySQL's format would cut the account name to 256 characters.
        return err_text(
            MysqlError::CannotUser,
            format!(
                "Operation SHOW CREATE USER failed for {}",
                account::account_name(&user, &host)
            ),
        );
    };
    let auth = a.auth_string.to_bytes();
    let mut text = format!(
        "CREATE USER {}@{} IDENTIFIED WITH '{}'",
        backtick(&a.user),
        backtick(&a.host),
        a.plugin.name()
    );
    if !auth.is_empty() {
        // Like print_identified_with_as_hex=ON: the $A$ salt has non-printable bytes.
        if auth
            .iter()
            .all(|b| (0x20..0x7f).contains(b) && *b != b'\'' && *b != b'\\')
        {
            text.push_str(&format!(" AS '{}'", String::from_utf8_lossy(&auth)));
        } else {
            text.push_str(" AS 0x");
            for b in &auth {
                text.push_str(&format!("{b:02X}"));
            }
        }
    }
    text.push_str(&format!(" REQUIRE {}", require_text(&a.require)));
    text.push_str(&security_clauses(a));
    Reply::Rows {
        columns: vec![format!("CREATE USER for {}@{}", a.user, a.host)],
        rows: vec![vec![Value::Str(text)]],
    }
}

/// What SHOW CREATE USER prints after `REQUIRE …`, in the order of MySQL's `Rewriter_user`
/// (`sql/sql_rewrite.cc`) with the values `mysql_show_create_user` gives it: `WITH` and the
/// non-zero limits; `PASSWORD EXPIRE` (bare while expired, else `INTERVAL n DAY`, `DEFAULT` or
/// `NEVER`); `ACCOUNT LOCK|UNLOCK`; `PASSWORD HISTORY`, `PASSWORD REUSE INTERVAL` and `PASSWORD
/// REQUIRE CURRENT`, always; `FAILED_LOGIN_ATTEMPTS n` and `PASSWORD_LOCK_TIME n|UNBOUNDED`, each
/// when not zero. The secondary password is never shown.
fn security_clauses(a: &Account) -> String {
    use crate::account::{PasswordLifetime, PasswordLockTime};
    let mut text = String::new();
    let limits = [
        ("MAX_QUERIES_PER_HOUR", a.max_queries_per_hour),
        ("MAX_UPDATES_PER_HOUR", a.max_updates_per_hour),
        ("MAX_CONNECTIONS_PER_HOUR", a.max_connections_per_hour),
        ("MAX_USER_CONNECTIONS", a.max_user_connections),
    ];
    if limits.iter().any(|(_, n)| *n != 0) {
        text.push_str(" WITH");
        for (name, n) in limits {
            if n != 0 {
                text.push_str(&format!(" {name} {n}"));
            }
        }
    }
    text.push_str(
        match (a.password_expired, a.password_lifetime) {
            (true, _) => " PASSWORD EXPIRE".into(),
            (false, PasswordLifetime::Days(n)) => format!(" PASSWORD EXPIRE INTERVAL {n} DAY"),
            (false, PasswordLifetime::Default) => " PASSWORD EXPIRE DEFAULT".into(),
            (false, PasswordLifetime::Never) => " PASSWORD EXPIRE NEVER".into(),
        }
        .as_str(),
    );
    text.push_str(if a.locked {
        " ACCOUNT LOCK"
    } else {
        " ACCOUNT UNLOCK"
    });
    match a.password_history {
        None => text.push_str(" PASSWORD HISTORY DEFAULT"),
        Some(n) => text.push_str(&format!(" PASSWORD HISTORY {n}")),
    }
    match a.password_reuse_interval {
        None => text.push_str(" PASSWORD REUSE INTERVAL DEFAULT"),
        Some(n) => text.push_str(&format!(" PASSWORD REUSE INTERVAL {n} DAY")),
    }
    text.push_str(match a.password_require_current {
        None => " PASSWORD REQUIRE CURRENT DEFAULT",
        Some(true) => " PASSWORD REQUIRE CURRENT",
        Some(false) => " PASSWORD REQUIRE CURRENT OPTIONAL",
    });
    if a.failed_login_attempts != 0 {
        text.push_str(&format!(
            " FAILED_LOGIN_ATTEMPTS {}",
            a.failed_login_attempts
        ));
    }
    match a.password_lock_time {
        PasswordLockTime::Days(0) => {}
        PasswordLockTime::Days(n) => text.push_str(&format!(" PASSWORD_LOCK_TIME {n}")),
        PasswordLockTime::Unbounded => text.push_str(" PASSWORD_LOCK_TIME UNBOUNDED"),
    }
    text
}

/// `REQUIRE …` as SHOW CREATE USER prints it.
pub fn require_text(r: &account::Require) -> String {
    match r {
        account::Require::None => "NONE".into(),
        account::Require::Ssl => "SSL".into(),
        account::Require::X509 => "X509".into(),
        account::Require::Specified {
            issuer,
            subject,
            cipher,
            san,
        } => {
            let mut parts = Vec::new();
            if let Some(i) = issuer {
                parts.push(format!("ISSUER {}", quote(i)));
            }
            if let Some(s) = subject {
                parts.push(format!("SUBJECT {}", quote(s)));
            }
            if let Some(c) = cipher {
                parts.push(format!("CIPHER {}", quote(c)));
            }
            if let Some(s) = san {
                parts.push(format!("SAN {}", quote(s)));
            }
            parts.join(" ")
        }
    }
}

fn show_grants(st: &ConnState, shared: &Admin, u: Option<&UserSpec>) -> Reply {
    let (user, host) = u.map_or_else(
        || resolve_user(st, &UserSpec::CurrentUser),
        |u| resolve_user(st, u),
    );
    if let Err(denied) = own_or_admin(st, shared, &user, &host) {
        return denied;
    }
    let accounts = shared.accounts.read();
    let Some(a) = accounts.get(&user, &host) else {
        // Not cut: MySQL's format would cut user and host to 48 and 64 characters.
        return err_text(
            MysqlError::NonexistingGrant,
            format!("There is no such grant defined for user '{user}' on host '{host}'"),
        );
    };
    let line = if a.admin {
        format!(
            "GRANT ALL PRIVILEGES ON *.* TO {}@{}{}",
            backtick(&a.user),
            backtick(&a.host),
            if a.grant_option {
                " WITH GRANT OPTION"
            } else {
                ""
            }
        )
    } else {
        format!(
            "GRANT USAGE ON *.* TO {}@{}",
            backtick(&a.user),
            backtick(&a.host)
        )
    };
    Reply::Rows {
        columns: vec![format!("Grants for {}@{}", a.user, a.host)],
        rows: vec![vec![Value::Str(line)]],
    }
}

fn convert_require(r: Require) -> account::Require {
    match r {
        Require::None => account::Require::None,
        Require::Ssl => account::Require::Ssl,
        Require::X509 => account::Require::X509,
        Require::Specified {
            issuer,
            subject,
            cipher,
            san,
        } => account::Require::Specified {
            issuer,
            subject,
            cipher,
            san,
        },
    }
}

fn account_error(e: AccountError) -> Reply {
    Reply::Err(e.to_err_packet())
}

/// The statement-wide clauses after the account list of CREATE / ALTER USER.
#[derive(Default)]
struct Tail {
    require: Option<Require>,
    lock: Option<bool>,
    options: account_ops::AccountOptions,
}

/// The parsed `WITH …` and password options as the account operations take them.
fn account_options(limits: &ResourceLimits, p: &PasswordOptions) -> account_ops::AccountOptions {
    use crate::account::{PasswordLifetime, PasswordLockTime};
    use account_ops::Expire;
    let policy = |v: PolicyValue| match v {
        PolicyValue::Default => None,
        PolicyValue::Value(n) => Some(n),
    };
    account_ops::AccountOptions {
        max_queries_per_hour: limits.max_queries_per_hour,
        max_updates_per_hour: limits.max_updates_per_hour,
        max_connections_per_hour: limits.max_connections_per_hour,
        max_user_connections: limits.max_user_connections,
        expire: p.expire.map(|e| match e {
            PasswordExpire::Now => Expire::Now,
            PasswordExpire::Default => Expire::Lifetime(PasswordLifetime::Default),
            PasswordExpire::Never => Expire::Lifetime(PasswordLifetime::Never),
            PasswordExpire::Interval(n) => Expire::Lifetime(PasswordLifetime::Days(n)),
        }),
        password_history: p.history.map(policy),
        password_reuse_interval: p.reuse_interval.map(policy),
        password_require_current: p.require_current.map(|r| match r {
            RequireCurrent::Yes => Some(true),
            RequireCurrent::Optional => Some(false),
            RequireCurrent::Default => None,
        }),
        failed_login_attempts: p.failed_login_attempts,
        password_lock_time: p.password_lock_time.map(|t| match t {
            LockTime::Days(n) => PasswordLockTime::Days(n),
            LockTime::Unbounded => PasswordLockTime::Unbounded,
        }),
    }
}

/// What account statements need besides their text: the time, the global password policy and
/// who runs them.
fn statement_context(st: &ConnState, shared: &Admin) -> account_ops::Context {
    account_ops::Context {
        now_secs: super::conn::unix_now(),
        policy: shared.account_security().password_policy(),
        actor: Some((
            st.session.account_user().to_owned(),
            st.session.account_host().to_ascii_lowercase(),
        )),
        privileged: is_admin(st, shared),
    }
}

/// The plugin, stored string and source an `IDENTIFIED …` clause asks for; for a cleartext
/// password, also what it and `replace` (the REPLACE clause) verify against in `existing` (the
/// account as it is, for ALTER USER). Hashing and verifying run off the reactor.
async fn credentials(
    shared: &Admin,
    auth: Option<AuthOption>,
    keep_plugin: Option<Plugin>,
    existing: Option<Account>,
    replace: Option<Secret>,
) -> Result<(Plugin, AuthString, account_ops::CredentialSource), Reply> {
    use account_ops::{CleartextChecks, CredentialSource};
    let default = keep_plugin.unwrap_or(shared.config.default_plugin);
    let plugin_of = |name: &str| {
        Plugin::from_name(name.as_bytes()).ok_or_else(|| {
            // The format cuts the name to 192 characters.
            err(MysqlError::PluginIsNotLoaded, &[&name])
        })
    };
    let (plugin, password) = match auth {
        None => (default, String::new()),
        Some(AuthOption::Password(p)) => (default, p.expose().to_string()),
        Some(AuthOption::Plugin(name)) => {
            return Ok((
                plugin_of(&name)?,
                AuthString::Empty,
                CredentialSource::PluginOnly,
            ));
        }
        Some(AuthOption::PluginPassword { plugin, password }) => {
            (plugin_of(&plugin)?, password.expose().to_string())
        }
        Some(AuthOption::PluginAuthString {
            plugin,
            auth_string,
        }) => {
            let plugin = plugin_of(&plugin)?;
            let s = AuthString::parse(plugin, auth_string.expose().as_bytes())
                .map_err(|_| err(MysqlError::PasswordFormat, &[]))?;
            return Ok((plugin, s, CredentialSource::Hash));
        }
    };
    let password = zeroize::Zeroizing::new(password);
    if password.len() > crate::auth::MAX_PASSWORD_LEN {
        return Err(err(MysqlError::NotValidPassword, &[]));
    }
    let replace = replace.map(|r| zeroize::Zeroizing::new(r.expose().to_string()));
    let rounds = shared.config.digest_rounds;
    let salt: [u8; 20] = random_bytes();
    let (s, checks) = tokio::task::spawn_blocking(move || {
        let s = AuthString::generate(plugin, password.as_bytes(), salt, rounds);
        let checks = existing.map_or_else(CleartextChecks::default, |a| {
            CleartextChecks::compute(
                &a,
                password.as_bytes(),
                replace.as_ref().map(|r| r.as_bytes()),
            )
        });
        (s, checks)
    })
    .await
    .map_err(|_| err(MysqlError::UnknownError, &[]))?;
    Ok((plugin, s, CredentialSource::Password(checks)))
}

/// Runs an account statement through the store ([`FileAccounts::apply`]: saved, published,
/// then evicted from the cache). The caller holds the store's write lock.
///
/// [`FileAccounts::apply`]: super::store::FileAccounts::apply
async fn run_op(shared: &Arc<Admin>, op: AccountOp) -> Result<Applied, Reply> {
    match shared.accounts.apply(op).await {
        Ok(applied) => {
            reset_login_locks(shared, &applied.lock_state);
            Ok(applied)
        }
        Err(super::store::ApplyError::Refused(e)) => Err(Reply::Err(e.to_err_packet())),
        Err(e @ super::store::ApplyError::Save(_)) => {
            warn!("cannot save accounts: {e}");
            Err(err_text(MysqlError::UnknownError, e.to_string()))
        }
    }
}

/// Resets the failed-login counters a statement resets (after its set is published).
fn reset_login_locks(shared: &Admin, effect: &account_ops::LockEffect) {
    match effect {
        account_ops::LockEffect::None => {}
        account_ops::LockEffect::Reset(ids) => {
            for (user, host) in ids {
                shared.login_locks.reset(user, host);
            }
        }
        account_ops::LockEffect::ResetAll => shared.login_locks.reset_all(),
    }
}

/// Carries out both effects of a statement that changed no account (FLUSH PRIVILEGES).
fn carry_out(shared: &Admin, applied: &Applied) {
    applied.cache.apply_to(&shared.cache);
    reset_login_locks(shared, &applied.lock_state);
}

fn push_warnings(st: &mut ConnState, warnings: Vec<account::Warning>) {
    for w in warnings {
        st.warnings
            .push((w.level().to_string(), w.code(), w.to_string()));
    }
}

/// The reply of a successful account statement, its notes kept for SHOW WARNINGS.
fn done(st: &mut ConnState, r: Result<Applied, Reply>) -> Reply {
    match r {
        Ok(applied) => {
            push_warnings(st, applied.warnings);
            ok()
        }
        Err(e) => e,
    }
}

fn is_own(st: &ConnState, user: &str, host: &str) -> bool {
    user == st.session.account_user() && host.eq_ignore_ascii_case(st.session.account_host())
}

async fn create_user(
    st: &mut ConnState,
    shared: &Arc<Admin>,
    if_not_exists: bool,
    users: Vec<UserAuth>,
    tail: Tail,
) -> Reply {
    if !is_admin(st, shared) {
        return access_denied("CREATE USER");
    }
    let _guard = shared.accounts.lock_writes().await;
    let mut accounts = Vec::new();
    for ua in users {
        let (user, host) = resolve_user(st, &ua.user);
        if let Err(e) = account::validate_identity(&user, &host) {
            return account_error(e);
        }
        let (plugin, auth, _) = match credentials(shared, ua.auth, None, None, None).await {
            Ok(x) => x,
            Err(r) => return r,
        };
        let mut a = Account::new(&user, &host, plugin, auth);
        if let Some(r) = tail.require.clone() {
            a.require = convert_require(r);
        }
        a.locked = tail.lock.unwrap_or(false);
        tail.options.apply_to(&mut a);
        accounts.push(a);
    }
    let r = run_op(
        shared,
        AccountOp::Create {
            accounts,
            if_not_exists,
            context: statement_context(st, shared),
        },
    )
    .await;
    done(st, r)
}

async fn alter_user(
    st: &mut ConnState,
    shared: &Arc<Admin>,
    if_exists: bool,
    users: Vec<UserAuth>,
    tail: Tail,
) -> Reply {
    let admin = is_admin(st, shared);
    // Held while the new hashes are computed, so the plugin kept by a plain IDENTIFIED BY, and
    // the history and password REPLACE is checked against, are the account's at the change.
    let _guard = shared.accounts.lock_writes().await;
    let require = tail.require.map(convert_require);
    let password_only =
        require.is_none() && tail.lock.is_none() && tail.options == Default::default();
    let mut changes = Vec::new();
    for ua in users {
        let (user, host) = resolve_user(st, &ua.user);
        // Changing one's own password needs no privilege; keeping or discarding a second one
        // needs APPLICATION_PASSWORD_ADMIN (which only the admin has here); anything else needs
        // CREATE USER (MySQL's mysql_alter_user / check_change_password).
        if !admin {
            if !(is_own(st, &user, &host) && password_only) {
                return access_denied("CREATE USER");
            }
            if ua.retain_current || ua.discard_old {
                return access_denied("CREATE USER or APPLICATION_PASSWORD_ADMIN");
            }
        }
        let existing = shared.accounts.read().get(&user, &host).cloned();
        let mut change = AlterChange::new((user, host));
        if let (Some(auth), Some(a)) = (ua.auth, &existing) {
            let plugin = a.plugin;
            match credentials(
                shared,
                Some(auth),
                Some(plugin),
                existing.clone(),
                ua.replace,
            )
            .await
            {
                Ok((plugin, s, source)) => {
                    change.credential = Some((plugin, s));
                    change.source = source;
                }
                Err(r) => return r,
            }
        }
        // A missing account is reported by the operation (1396 or a 3162 note).
        change.retain_current = ua.retain_current;
        change.discard_old = ua.discard_old;
        change.require = require.clone();
        change.lock = tail.lock;
        change.options = tail.options;
        changes.push(change);
    }
    let r = run_op(
        shared,
        AccountOp::Alter {
            changes,
            if_exists,
            context: statement_context(st, shared),
        },
    )
    .await;
    done(st, r)
}

async fn drop_user(
    st: &mut ConnState,
    shared: &Arc<Admin>,
    if_exists: bool,
    users: Vec<UserSpec>,
) -> Reply {
    if !is_admin(st, shared) {
        return access_denied("CREATE USER");
    }
    let _guard = shared.accounts.lock_writes().await;
    let ids: Vec<(String, String)> = users.iter().map(|u| resolve_user(st, u)).collect();
    let r = run_op(shared, AccountOp::Drop { ids, if_exists }).await;
    done(st, r)
}

async fn rename_user(
    st: &mut ConnState,
    shared: &Arc<Admin>,
    pairs: Vec<(UserSpec, UserSpec)>,
) -> Reply {
    if !is_admin(st, shared) {
        return access_denied("CREATE USER");
    }
    let _guard = shared.accounts.lock_writes().await;
    let pairs: Vec<((String, String), (String, String))> = pairs
        .iter()
        .map(|(a, b)| (resolve_user(st, a), resolve_user(st, b)))
        .collect();
    let r = run_op(shared, AccountOp::Rename { pairs }).await;
    done(st, r)
}

/// `GRANT ALL ON *.* TO …` / `REVOKE ALL [PRIVILEGES][, GRANT OPTION] ON *.* FROM …`: the admin
/// privilege is all Vestibule has.
async fn grant(
    st: &mut ConnState,
    shared: &Arc<Admin>,
    privileges: Privileges,
    level: GrantLevel,
    users: Vec<UserSpec>,
    grant_option: bool,
    is_grant: bool,
) -> Reply {
    let me = current_account(st, shared);
    if !me.as_ref().is_some_and(|a| a.admin && a.grant_option) {
        return access_denied("GRANT OPTION");
    }
    if privileges != Privileges::All || level != GrantLevel::Global {
        return unsupported(if is_grant {
            "GRANT of privileges other than ALL ON *.*"
        } else {
            "REVOKE of privileges other than ALL ON *.*"
        });
    }
    let _guard = shared.accounts.lock_writes().await;
    let ids: Vec<(String, String)> = users.iter().map(|u| resolve_user(st, u)).collect();
    let n = ids.len();
    let op = if is_grant {
        AccountOp::Grant {
            ids,
            with_grant_option: grant_option,
        }
    } else {
        AccountOp::Revoke { ids, grant_option }
    };
    let r = run_op(shared, op).await;
    if r.is_ok() {
        info!(grant = is_grant, accounts = n, "privileges changed");
    }
    done(st, r)
}
