//! Statement-level tests: every supported form, the strings real clients send, MySQL's 1064
//! positions, limits, and the parse → print → parse property.

use super::*;
use proptest::prelude::*;

fn parse(sql: &str) -> Statement {
    match parse_statement(sql) {
        Ok(stmt) => {
            // Every accepted statement must survive a round trip through its canonical text.
            let text = stmt.to_string();
            assert_eq!(
                parse_statement(&text).as_ref(),
                Ok(&stmt),
                "canonical text {text:?} of {sql:?}"
            );
            stmt
        }
        Err(e) => panic!("{sql:?} failed: {e}: {}", e.message(sql)),
    }
}

fn err(sql: &str) -> ParseError {
    match parse_statement(sql) {
        Ok(stmt) => panic!("{sql:?} parsed as {stmt:?}"),
        Err(e) => e,
    }
}

fn near(sql: &str) -> String {
    let e = err(sql);
    assert_eq!(e.code(), 1064, "{sql:?}: {e:?}");
    e.mysql_message(sql)
}

fn canonical(sql: &str) -> String {
    parse(sql).to_string()
}

fn acct(user: &str, host: &str) -> UserSpec {
    UserSpec::Account {
        user: user.into(),
        host: host.into(),
    }
}

fn col(name: &str) -> Expr {
    Expr::Column(vec![name.into()])
}

fn s(value: &str) -> Expr {
    Expr::Str(value.into())
}

fn int(n: u64) -> Expr {
    Expr::Integer(n)
}

fn sysvar(scope: Option<VarScope>, name: &str) -> Expr {
    Expr::SystemVar {
        scope,
        name: name.into(),
    }
}

fn func(name: &str, args: Vec<Expr>) -> Expr {
    Expr::Function {
        name: name.into(),
        args,
    }
}

fn bin(left: Expr, op: BinaryOp, right: Expr) -> Expr {
    Expr::Binary {
        left: Box::new(left),
        op,
        right: Box::new(right),
    }
}

fn item(expr: Expr) -> SelectItem {
    SelectItem::Expr { expr, alias: None }
}

fn select(items: Vec<SelectItem>) -> Select {
    Select {
        items,
        from: None,
        selection: None,
        limit: None,
    }
}

fn secret(s: &str) -> Secret {
    Secret::new(s.into())
}

fn sys(scope: VarScope, name: &str, value: Expr) -> SetAssignment {
    SetAssignment::System {
        scope,
        name: name.into(),
        value: SetValue::Expr(value),
    }
}

fn other(verb: &str) -> Statement {
    Statement::Other { verb: verb.into() }
}

const NEAR: &str =
    "You have an error in your SQL syntax; check the manual that corresponds to your MySQL server \
                    version for the right syntax to use near";

// ----- what real clients send -----

#[test]
fn sqlx_session_setup() {
    let sql =
        "SET sql_mode=(SELECT CONCAT(@@sql_mode, ',PIPES_AS_CONCAT,NO_ENGINE_SUBSTITUTION')),\
               time_zone='+00:00',NAMES utf8mb4 COLLATE utf8mb4_unicode_ci";
    let concat = func(
        "CONCAT",
        vec![
            sysvar(None, "sql_mode"),
            s(",PIPES_AS_CONCAT,NO_ENGINE_SUBSTITUTION"),
        ],
    );
    let subquery = Expr::Subquery(Box::new(select(vec![item(concat)])));
    assert_eq!(
        parse(sql),
        Statement::Set(vec![
            sys(VarScope::Session, "sql_mode", subquery),
            sys(VarScope::Session, "time_zone", s("+00:00")),
            SetAssignment::Names {
                charset: Some("utf8mb4".into()),
                collation: Some("utf8mb4_unicode_ci".into())
            },
        ])
    );
    assert_eq!(
        canonical(sql),
        "SET SESSION sql_mode = (SELECT CONCAT(@@sql_mode, ',PIPES_AS_CONCAT,NO_ENGINE_SUBSTITUTION')), \
         SESSION time_zone = '+00:00', NAMES utf8mb4 COLLATE utf8mb4_unicode_ci"
    );
}

#[test]
fn pymysql_and_admin_set_statements() {
    assert_eq!(
        parse("SET AUTOCOMMIT = 0"),
        Statement::Set(vec![sys(VarScope::Session, "AUTOCOMMIT", int(0))])
    );
    assert_eq!(
        parse("SET autocommit=1"),
        Statement::Set(vec![sys(VarScope::Session, "autocommit", int(1))])
    );
    assert_eq!(canonical("set autocommit=1"), "SET SESSION autocommit = 1");
    let off = parse("SET @@session.autocommit = OFF");
    assert_eq!(
        off,
        Statement::Set(vec![sys(VarScope::Session, "autocommit", col("OFF"))])
    );
    assert_eq!(
        canonical("SET @@session.autocommit = OFF"),
        "SET SESSION autocommit = OFF"
    );
    assert_eq!(
        parse("SET GLOBAL tls_version = 'TLSv1.2,TLSv1.3'"),
        Statement::Set(vec![sys(
            VarScope::Global,
            "tls_version",
            s("TLSv1.2,TLSv1.3")
        )])
    );
    let on = parse("SET GLOBAL require_secure_transport = ON");
    assert_eq!(
        on,
        Statement::Set(vec![sys(
            VarScope::Global,
            "require_secure_transport",
            col("ON")
        )])
    );
    // The handler reads bare words as values.
    let Statement::Set(assignments) = on else {
        unreachable!()
    };
    let Some(SetAssignment::System {
        value: SetValue::Expr(value),
        ..
    }) = assignments.first()
    else {
        unreachable!()
    };
    assert_eq!(value.as_bare_word(), Some("ON"));
    assert_eq!(s("ON").as_bare_word(), None);
}

#[test]
fn client_startup_selects() {
    let stmt = parse("select @@version_comment limit 1");
    assert_eq!(
        stmt,
        Statement::Select(Select {
            limit: Some(Limit {
                count: 1,
                offset: None
            }),
            ..select(vec![item(sysvar(None, "version_comment"))])
        })
    );
    assert_eq!(stmt.to_string(), "SELECT @@version_comment LIMIT 1");
    assert_eq!(
        parse("SELECT @@max_allowed_packet, @@wait_timeout"),
        Statement::Select(select(vec![
            item(sysvar(None, "max_allowed_packet")),
            item(sysvar(None, "wait_timeout"))
        ]))
    );
    assert_eq!(
        parse("SELECT VERSION(), USER(), CURRENT_USER(), CONNECTION_ID(), DATABASE()"),
        Statement::Select(select(
            [
                "VERSION",
                "USER",
                "CURRENT_USER",
                "CONNECTION_ID",
                "DATABASE"
            ]
            .iter()
            .map(|n| item(func(n, vec![])))
            .collect()
        ))
    );
    // CURRENT_USER without parentheses is the same call.
    assert_eq!(
        parse("SELECT current_user"),
        Statement::Select(select(vec![item(func("CURRENT_USER", vec![]))]))
    );
    assert_eq!(
        parse("SELECT @@session.auto_increment_increment AS auto_increment_increment, @@GLOBAL.x, @@local.y"),
        Statement::Select(select(vec![
            SelectItem::Expr {
                expr: sysvar(Some(VarScope::Session), "auto_increment_increment"),
                alias: Some("auto_increment_increment".into())
            },
            item(sysvar(Some(VarScope::Global), "x")),
            item(sysvar(Some(VarScope::Session), "y")),
        ]))
    );
}

#[test]
fn show_status_like_with_escapes() {
    let sql = r"SHOW GLOBAL STATUS LIKE 'Ssl\_server\_not\_%'";
    let stmt = parse(sql);
    assert_eq!(
        stmt,
        Statement::ShowStatus {
            scope: ShowScope::Global,
            filter: Some(ShowFilter::Like(r"Ssl\_server\_not\_%".into()))
        }
    );
    assert_eq!(
        stmt.to_string(),
        r"SHOW GLOBAL STATUS LIKE 'Ssl\\_server\\_not\\_%'"
    );
    let Statement::ShowStatus {
        filter: Some(ShowFilter::Like(pattern)),
        ..
    } = stmt
    else {
        unreachable!()
    };
    assert!(like_matches(&pattern, "Ssl_server_not_after", '\\'));
    assert!(!like_matches(&pattern, "Ssl_serverXnot_after", '\\'));
}

#[test]
fn performance_schema_select() {
    let stmt = parse("SELECT * FROM performance_schema.session_status WHERE VARIABLE_NAME IN ('Ssl_version','Ssl_cipher')");
    assert_eq!(
        stmt,
        Statement::Select(Select {
            items: vec![SelectItem::Wildcard],
            from: Some(TableRef {
                schema: Some("performance_schema".into()),
                name: "session_status".into(),
                alias: None
            }),
            selection: Some(Expr::InList {
                expr: Box::new(col("VARIABLE_NAME")),
                list: vec![s("Ssl_version"), s("Ssl_cipher")],
                negated: false
            }),
            limit: None,
        })
    );
    assert_eq!(
        stmt.to_string(),
        "SELECT * FROM performance_schema.session_status WHERE VARIABLE_NAME IN ('Ssl_version', 'Ssl_cipher')"
    );
}

#[test]
fn create_user_with_plugin_and_require_ssl() {
    let sql = "CREATE USER 'app'@'%' IDENTIFIED WITH caching_sha2_password BY 'secret' REQUIRE SSL";
    let stmt = parse(sql);
    assert_eq!(
        stmt,
        Statement::CreateUser {
            if_not_exists: false,
            users: vec![UserAuth {
                user: acct("app", "%"),
                auth: Some(AuthOption::PluginPassword {
                    plugin: "caching_sha2_password".into(),
                    password: secret("secret")
                }),
                ..Default::default()
            }],
            require: Some(Require::Ssl),
            account_lock: None,
            limits: ResourceLimits::default(),
            password: PasswordOptions::default(),
        }
    );
    assert_eq!(stmt.to_string(), sql);
    // Debug (what logs see) never shows the password; Display (for round trips) does.
    assert!(!format!("{stmt:?}").contains("secret"));
    assert!(format!("{stmt:?}").contains("<redacted>"));
}

#[test]
fn alter_instance_reload_tls() {
    assert_eq!(
        parse("ALTER INSTANCE RELOAD TLS NO ROLLBACK ON ERROR"),
        Statement::AlterInstanceReloadTls {
            channel: None,
            no_rollback_on_error: true
        }
    );
    assert_eq!(
        parse("alter instance reload tls"),
        Statement::AlterInstanceReloadTls {
            channel: None,
            no_rollback_on_error: false
        }
    );
    let stmt = parse("ALTER INSTANCE RELOAD TLS FOR CHANNEL mysql_admin NO ROLLBACK ON ERROR");
    assert_eq!(
        stmt,
        Statement::AlterInstanceReloadTls {
            channel: Some("mysql_admin".into()),
            no_rollback_on_error: true
        }
    );
    assert_eq!(
        stmt.to_string(),
        "ALTER INSTANCE RELOAD TLS FOR CHANNEL mysql_admin NO ROLLBACK ON ERROR"
    );
    assert_eq!(
        parse("ALTER INSTANCE ROTATE INNODB MASTER KEY"),
        other("ALTER INSTANCE ROTATE")
    );
    assert_eq!(
        parse("ALTER INSTANCE RELOAD KEYRING"),
        other("ALTER INSTANCE RELOAD KEYRING")
    );
    assert_eq!(
        near("ALTER INSTANCE RELOAD TLS NO ROLLBACK"),
        format!("{NEAR} '' at line 1")
    );
}

// ----- SET -----

#[test]
fn set_scopes_follow_mysql() {
    use VarScope::*;
    // A scope keyword carries over to later assignments without one …
    assert_eq!(
        parse("SET GLOBAL a = 1, b = 2, SESSION c = 3, d = 4, LOCAL e = 5, PERSIST f = 6, PERSIST_ONLY g = 7"),
        Statement::Set(vec![
            sys(Global, "a", int(1)),
            sys(Global, "b", int(2)),
            sys(Session, "c", int(3)),
            sys(Session, "d", int(4)),
            sys(Session, "e", int(5)),
            sys(Persist, "f", int(6)),
            sys(PersistOnly, "g", int(7)),
        ])
    );
    // … but `@@scope.` applies to its variable only, and bare `@@` means SESSION.
    assert_eq!(
        parse("SET GLOBAL a = 1, @@b = 2, @@persist.c := 3, d = 4"),
        Statement::Set(vec![
            sys(Global, "a", int(1)),
            sys(Session, "b", int(2)),
            sys(Persist, "c", int(3)),
            sys(Global, "d", int(4))
        ])
    );
    assert_eq!(
        canonical("SET GLOBAL a = 1, @@b = 2, d = 4"),
        "SET GLOBAL a = 1, SESSION b = 2, GLOBAL d = 4"
    );
    assert_eq!(
        parse("SET GLOBAL validate_password.length = 8, x = DEFAULT"),
        Statement::Set(vec![
            sys(Global, "validate_password.length", int(8)),
            SetAssignment::System {
                scope: Global,
                name: "x".into(),
                value: SetValue::Default
            },
        ])
    );
    assert_eq!(
        parse("SET time_zone = SYSTEM"),
        Statement::Set(vec![sys(Session, "time_zone", col("SYSTEM"))])
    );
    assert_eq!(
        parse("SET `sql_mode` = ''"),
        Statement::Set(vec![sys(Session, "sql_mode", s(""))])
    );
}

#[test]
fn set_user_variables_names_and_charset() {
    assert_eq!(
        parse("SET @a = 1, @`b c` := 'x', @'d' = @a + 1, @e.f = NULL"),
        Statement::Set(vec![
            SetAssignment::User {
                name: "a".into(),
                value: int(1)
            },
            SetAssignment::User {
                name: "b c".into(),
                value: s("x")
            },
            SetAssignment::User {
                name: "d".into(),
                value: bin(Expr::UserVar("a".into()), BinaryOp::Plus, int(1))
            },
            SetAssignment::User {
                name: "e.f".into(),
                value: Expr::Null
            },
        ])
    );
    assert_eq!(canonical("SET @`b c` = 1"), "SET @`b c` = 1");
    assert_eq!(
        parse("SET NAMES 'utf8mb4'"),
        Statement::Set(vec![SetAssignment::Names {
            charset: Some("utf8mb4".into()),
            collation: None
        }])
    );
    assert_eq!(
        parse("SET NAMES DEFAULT"),
        Statement::Set(vec![SetAssignment::Names {
            charset: None,
            collation: None
        }])
    );
    assert_eq!(
        parse("SET NAMES binary"),
        Statement::Set(vec![SetAssignment::Names {
            charset: Some("binary".into()),
            collation: None
        }])
    );
    assert_eq!(
        parse("SET CHARACTER SET utf8mb4, CHARSET DEFAULT"),
        Statement::Set(vec![
            SetAssignment::CharacterSet(Some("utf8mb4".into())),
            SetAssignment::CharacterSet(None)
        ])
    );
    // Executable comments, as mysqldump writes them.
    assert_eq!(
        parse("/*!40101 SET NAMES utf8 */"),
        Statement::Set(vec![SetAssignment::Names {
            charset: Some("utf8".into()),
            collation: None
        }])
    );
    assert_eq!(
        near("SET @x = DEFAULT"),
        format!("{NEAR} 'DEFAULT' at line 1")
    );
    assert_eq!(
        near("SET NAMES utf8 COLLATE"),
        format!("{NEAR} '' at line 1")
    );
}

#[test]
fn set_password_and_unimplemented_set_forms() {
    assert_eq!(
        parse("SET PASSWORD = 'pw'"),
        Statement::SetPassword {
            user: None,
            password: secret("pw"),
            replace: None,
            retain_current: false,
        }
    );
    let stmt = parse("SET PASSWORD FOR 'bob'@'localhost' = 'new''pw'");
    assert_eq!(
        stmt,
        Statement::SetPassword {
            user: Some(acct("bob", "localhost")),
            password: secret("new'pw"),
            replace: None,
            retain_current: false,
        }
    );
    assert_eq!(
        stmt.to_string(),
        r"SET PASSWORD FOR 'bob'@'localhost' = 'new\'pw'"
    );
    assert!(!format!("{stmt:?}").contains("new"));
    assert_eq!(
        err("SET PASSWORD TO RANDOM").kind,
        ParseErrorKind::Unsupported("SET PASSWORD TO RANDOM")
    );
    assert_eq!(
        parse("SET PASSWORD = 'a' REPLACE 'b' RETAIN CURRENT PASSWORD"),
        Statement::SetPassword {
            user: None,
            password: secret("a"),
            replace: Some(secret("b")),
            retain_current: true,
        }
    );
    let stmt = parse("set password for u@h = 'n' retain current password");
    assert_eq!(
        stmt.to_string(),
        "SET PASSWORD FOR 'u'@'h' = 'n' RETAIN CURRENT PASSWORD"
    );
    assert_eq!(
        canonical("SET PASSWORD FOR u = 'n' REPLACE 'o''x'"),
        r"SET PASSWORD FOR 'u'@'%' = 'n' REPLACE 'o\'x'"
    );
    let debug = format!("{:?}", parse("SET PASSWORD = 'newpw' REPLACE 'oldpw'"));
    assert!(
        !debug.contains("newpw") && !debug.contains("oldpw"),
        "{debug}"
    );
    assert_eq!(
        near("SET PASSWORD = 'a' RETAIN CURRENT"),
        format!("{NEAR} '' at line 1")
    );
    assert_eq!(
        near("SET PASSWORD = 'a' RETAIN CURRENT PASSWORD REPLACE 'b'"),
        format!("{NEAR} 'REPLACE 'b'' at line 1")
    );
    assert_eq!(
        near("SET PASSWORD = 'a' REPLACE b"),
        format!("{NEAR} 'b' at line 1")
    );
    assert_eq!(
        parse("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED"),
        other("SET TRANSACTION")
    );
    assert_eq!(parse("SET TRANSACTION READ ONLY"), other("SET TRANSACTION"));
    assert_eq!(parse("SET ROLE ALL"), other("SET ROLE"));
    assert_eq!(
        parse("SET DEFAULT ROLE ALL TO u"),
        other("SET DEFAULT ROLE")
    );
    assert_eq!(parse("SET RESOURCE GROUP g"), other("SET RESOURCE GROUP"));
    // Words with a special meaning at the start are plain names after a scope.
    assert_eq!(
        parse("SET SESSION role = 1"),
        Statement::Set(vec![sys(VarScope::Session, "role", int(1))])
    );
    assert_eq!(
        canonical("SET @@transaction = 1"),
        "SET SESSION `transaction` = 1"
    );
}

// ----- SELECT and expressions -----

#[test]
fn operator_precedence() {
    let e = |sql: &str| match parse(&format!("SELECT {sql}")) {
        Statement::Select(Select { items, .. }) => match items.into_iter().next() {
            Some(SelectItem::Expr { expr, .. }) => expr,
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    };
    let (a, b, c) = (col("a"), col("b"), col("c"));
    let not = |x: Expr| Expr::Unary {
        op: UnaryOp::Not,
        expr: Box::new(x),
    };
    let neg = |x: Expr| Expr::Unary {
        op: UnaryOp::Neg,
        expr: Box::new(x),
    };
    assert_eq!(
        e("1 + 2 * 3"),
        bin(int(1), BinaryOp::Plus, bin(int(2), BinaryOp::Mul, int(3)))
    );
    assert_eq!(
        e("1 - 2 - 3"),
        bin(
            bin(int(1), BinaryOp::Minus, int(2)),
            BinaryOp::Minus,
            int(3)
        )
    );
    assert_eq!(
        e("a OR b AND c"),
        bin(
            a.clone(),
            BinaryOp::Or,
            bin(b.clone(), BinaryOp::And, c.clone())
        )
    );
    assert_eq!(e("a || b && c"), e("a OR b AND c"));
    assert_eq!(
        e("a XOR b OR c"),
        bin(
            bin(a.clone(), BinaryOp::Xor, b.clone()),
            BinaryOp::Or,
            c.clone()
        )
    );
    assert_eq!(e("NOT a = b"), not(bin(a.clone(), BinaryOp::Eq, b.clone())));
    assert_eq!(e("!a = b"), bin(not(a.clone()), BinaryOp::Eq, b.clone()));
    assert_eq!(
        e("a = b IS NOT NULL"),
        Expr::IsNull {
            expr: Box::new(bin(a.clone(), BinaryOp::Eq, b.clone())),
            negated: true
        }
    );
    assert_eq!(
        e("a <> b != c"),
        bin(
            bin(a.clone(), BinaryOp::NotEq, b.clone()),
            BinaryOp::NotEq,
            c.clone()
        )
    );
    assert_eq!(
        e("a <=> b"),
        bin(a.clone(), BinaryOp::NullSafeEq, b.clone())
    );
    assert_eq!(
        e("-1 * -a"),
        bin(neg(int(1)), BinaryOp::Mul, neg(a.clone()))
    );
    assert_eq!(e("+1"), int(1));
    assert_eq!(e("7 DIV 2 MOD 3 % 4 / 5"), {
        let x = bin(bin(int(7), BinaryOp::IntDiv, int(2)), BinaryOp::Mod, int(3));
        bin(bin(x, BinaryOp::Mod, int(4)), BinaryOp::Div, int(5))
    });
    assert_eq!(
        e("a NOT LIKE 'x!%' ESCAPE '!'"),
        Expr::Like {
            expr: Box::new(a.clone()),
            pattern: Box::new(s("x!%")),
            escape: Some(Box::new(s("!"))),
            negated: true
        }
    );
    assert_eq!(
        e("a BETWEEN 1 AND 2 AND c"),
        bin(
            Expr::Between {
                expr: Box::new(a.clone()),
                low: Box::new(int(1)),
                high: Box::new(int(2)),
                negated: false
            },
            BinaryOp::And,
            c.clone()
        )
    );
    assert_eq!(
        e("a NOT IN (1, (2))"),
        Expr::InList {
            expr: Box::new(a.clone()),
            list: vec![int(1), int(2)],
            negated: true
        }
    );
    assert_eq!(
        e("(a OR b) AND c"),
        bin(
            bin(a.clone(), BinaryOp::Or, b.clone()),
            BinaryOp::And,
            c.clone()
        )
    );
    // Printing keeps exactly the parentheses the tree needs.
    assert_eq!(
        canonical("SELECT (a OR b) AND c, a - (b - c), (a - b) - c, -(-1), NOT (NOT a), (!a) + 1"),
        "SELECT (a OR b) AND c, a - (b - c), a - b - c, - -1, NOT NOT a, !a + 1"
    );
    assert_eq!(
        near("SELECT a LIKE b LIKE c"),
        format!("{NEAR} 'LIKE c' at line 1")
    );
    assert_eq!(
        near("SELECT a = NOT b"),
        format!("{NEAR} 'NOT b' at line 1")
    );
}

#[test]
fn literals() {
    let items = |sql: &str| match parse(sql) {
        Statement::Select(sel) => sel.items,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        items("SELECT 1, 18446744073709551615, 18446744073709551616, 1.50, .5, 1e3, NULL, TRUE, false"),
        vec![
            item(int(1)),
            item(int(u64::MAX)),
            item(Expr::Decimal("18446744073709551616".into())),
            item(Expr::Decimal("1.50".into())),
            item(Expr::Decimal(".5".into())),
            item(Expr::Decimal("1e3".into())),
            item(Expr::Null),
            item(Expr::Bool(true)),
            item(Expr::Bool(false)),
        ]
    );
    assert_eq!(
        items(r#"SELECT 'a' "b" 'c', _utf8mb4'x', N'y', X'4D', 0x4d, 'it''s\n'"#),
        vec![
            item(s("abc")),
            item(s("x")),
            item(s("y")),
            item(Expr::Hex("4D".into())),
            item(Expr::Hex("4d".into())),
            item(s("it's\n")),
        ]
    );
    assert_eq!(
        canonical(r"SELECT 'a\0b\\c''d', X''"),
        r"SELECT 'a\0b\\c\'d', X''"
    );
    assert_eq!(
        err("SELECT b'01'").kind,
        ParseErrorKind::Unsupported("bit-value literals")
    );
}

#[test]
fn select_clauses() {
    assert_eq!(
        parse("SELECT u.host AS h, 1 'one', `user` x FROM mysql.user AS u WHERE u.user = 'root' LIMIT 5, 10"),
        Statement::Select(Select {
            items: vec![
                SelectItem::Expr { expr: Expr::Column(vec!["u".into(), "host".into()]), alias: Some("h".into()) },
                SelectItem::Expr { expr: int(1), alias: Some("one".into()) },
                SelectItem::Expr { expr: col("user"), alias: Some("x".into()) },
            ],
            from: Some(TableRef { schema: Some("mysql".into()), name: "user".into(), alias: Some("u".into()) }),
            selection: Some(bin(Expr::Column(vec!["u".into(), "user".into()]), BinaryOp::Eq, s("root"))),
            limit: Some(Limit { count: 10, offset: Some(5) }),
        })
    );
    assert_eq!(
        canonical("SELECT 1 LIMIT 10 OFFSET 5"),
        "SELECT 1 LIMIT 10 OFFSET 5"
    );
    assert_eq!(canonical("SELECT 1 FROM DUAL"), "SELECT 1");
    assert_eq!(canonical("SELECT *, 1 FROM t"), "SELECT *, 1 FROM t");
    assert_eq!(
        canonical("SELECT `select`, `a b`.c FROM `from`"),
        "SELECT `select`, `a b`.c FROM `from`"
    );
    assert_eq!(
        canonical("SELECT IF(1, LEFT('ab', 1), MOD(5, 2)), db.t.c"),
        "SELECT IF(1, LEFT('ab', 1), MOD(5, 2)), db.t.c"
    );
    assert_eq!(near("SELECT 1, *"), format!("{NEAR} '*' at line 1"));
    assert_eq!(
        near("SELECT COUNT(*) FROM t"),
        format!("{NEAR} '*) FROM t' at line 1")
    );
    assert_eq!(
        near("SELECT DISTINCT a"),
        format!("{NEAR} 'DISTINCT a' at line 1")
    );
    assert_eq!(
        near("SELECT 1 LIMIT 1.5"),
        format!("{NEAR} '1.5' at line 1")
    );
    assert_eq!(
        near("SELECT 1 LIMIT 18446744073709551616"),
        format!("{NEAR} '18446744073709551616' at line 1")
    );
    assert_eq!(near("SELECT a.b.c.d"), format!("{NEAR} '.d' at line 1"));
    assert_eq!(
        near("SELECT 1 ORDER BY 1"),
        format!("{NEAR} 'ORDER BY 1' at line 1")
    );
}

// ----- SHOW -----

#[test]
fn show_statements() {
    use ShowScope::*;
    assert_eq!(
        parse("SHOW STATUS"),
        Statement::ShowStatus {
            scope: Session,
            filter: None
        }
    );
    assert_eq!(
        parse("show session status"),
        Statement::ShowStatus {
            scope: Session,
            filter: None
        }
    );
    assert_eq!(
        parse("SHOW LOCAL VARIABLES LIKE 'tls%'"),
        Statement::ShowVariables {
            scope: Session,
            filter: Some(ShowFilter::Like("tls%".into()))
        }
    );
    assert_eq!(
        parse("SHOW GLOBAL VARIABLES WHERE Variable_name = 'have_ssl'"),
        Statement::ShowVariables {
            scope: Global,
            filter: Some(ShowFilter::Where(bin(
                col("Variable_name"),
                BinaryOp::Eq,
                s("have_ssl")
            )))
        }
    );
    assert_eq!(
        parse("SHOW CREATE USER 'a'@'b'"),
        Statement::ShowCreateUser(acct("a", "b"))
    );
    assert_eq!(
        parse("SHOW CREATE USER bob"),
        Statement::ShowCreateUser(acct("bob", "%"))
    );
    assert_eq!(parse("SHOW GRANTS"), Statement::ShowGrants(None));
    assert_eq!(
        parse("SHOW GRANTS FOR CURRENT_USER"),
        Statement::ShowGrants(Some(UserSpec::CurrentUser))
    );
    assert_eq!(
        parse("SHOW GRANTS FOR CURRENT_USER()"),
        Statement::ShowGrants(Some(UserSpec::CurrentUser))
    );
    assert_eq!(
        parse("SHOW GRANTS FOR 'u'@'h'"),
        Statement::ShowGrants(Some(acct("u", "h")))
    );
    assert_eq!(parse("SHOW DATABASES"), Statement::ShowDatabases(None));
    assert_eq!(
        parse("SHOW SCHEMAS LIKE 'm%'"),
        Statement::ShowDatabases(Some(ShowFilter::Like("m%".into())))
    );
    assert_eq!(parse("SHOW WARNINGS"), Statement::ShowWarnings);
    assert_eq!(
        parse("SHOW PROCESSLIST"),
        Statement::ShowProcesslist { full: false }
    );
    assert_eq!(
        parse("show full processlist"),
        Statement::ShowProcesslist { full: true }
    );
    assert_eq!(parse("SHOW FULL TABLES"), other("SHOW FULL"));
    assert_eq!(parse("SHOW CREATE TABLE t"), other("SHOW CREATE TABLE"));
    assert_eq!(
        canonical("SHOW STATUS LIKE 'x'"),
        "SHOW SESSION STATUS LIKE 'x'"
    );
    assert_eq!(
        near("SHOW GLOBAL GRANTS"),
        format!("{NEAR} 'GRANTS' at line 1")
    );
    assert_eq!(near("SHOW STATUS LIKE x"), format!("{NEAR} 'x' at line 1"));
    assert_eq!(err("SHOW GRANTS FOR u USING r").code(), 1235);
}

// ----- accounts -----

#[test]
fn user_specs() {
    let users = |sql: &str| match parse(sql) {
        Statement::DropUser { users, .. } => users,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        users(
            r#"DROP USER 'a'@'%', b@localhost, "c"@"10.0.0.1", `d`@`h`, 'e', f@127.0.0.1, g@'%.example.com', CURRENT_USER, CURRENT_USER()"#
        ),
        vec![
            acct("a", "%"),
            acct("b", "localhost"),
            acct("c", "10.0.0.1"),
            acct("d", "h"),
            acct("e", "%"),
            acct("f", "127.0.0.1"),
            acct("g", "%.example.com"),
            UserSpec::CurrentUser,
            UserSpec::CurrentUser,
        ]
    );
    // Case is kept; lengths are the handler's business.
    let long = "u".repeat(40);
    assert_eq!(
        users(&format!(
            "DROP USER 'Bob'@'LocalHost', '{long}'@'{}'",
            "h".repeat(300)
        )),
        vec![acct("Bob", "LocalHost"), acct(&long, &"h".repeat(300))]
    );
    assert_eq!(
        users("DROP USER ''@'localhost'"),
        vec![acct("", "localhost")]
    );
    assert_eq!(
        canonical("DROP USER IF EXISTS a@b"),
        "DROP USER IF EXISTS 'a'@'b'"
    );
    assert_eq!(near("DROP USER a@%"), format!("{NEAR} '%' at line 1"));
    assert_eq!(
        near("DROP USER select"),
        format!("{NEAR} 'select' at line 1")
    );
    assert_eq!(near("DROP USER"), format!("{NEAR} '' at line 1"));
}

#[test]
fn create_user_forms() {
    let stmt = parse(
        "CREATE USER IF NOT EXISTS 'a'@'%' IDENTIFIED BY 'p1', 'b' IDENTIFIED WITH mysql_native_password, \
         c@h IDENTIFIED WITH 'caching_sha2_password' AS '$A$005$hash', d \
         REQUIRE ISSUER '/C=SE/CN=ca' AND SUBJECT '/CN=client' CIPHER 'ECDHE-RSA-AES256-GCM-SHA384' SAN 'DNS:x' \
         ACCOUNT UNLOCK ACCOUNT LOCK",
    );
    assert_eq!(
        stmt,
        Statement::CreateUser {
            if_not_exists: true,
            users: vec![
                UserAuth {
                    user: acct("a", "%"),
                    auth: Some(AuthOption::Password(secret("p1"))),
                    ..Default::default()
                },
                UserAuth {
                    user: acct("b", "%"),
                    auth: Some(AuthOption::Plugin("mysql_native_password".into())),
                    ..Default::default()
                },
                UserAuth {
                    user: acct("c", "h"),
                    auth: Some(AuthOption::PluginAuthString {
                        plugin: "caching_sha2_password".into(),
                        auth_string: secret("$A$005$hash")
                    }),
                    ..Default::default()
                },
                UserAuth {
                    user: acct("d", "%"),
                    auth: None,
                    ..Default::default()
                },
            ],
            require: Some(Require::Specified {
                issuer: Some("/C=SE/CN=ca".into()),
                subject: Some("/CN=client".into()),
                cipher: Some("ECDHE-RSA-AES256-GCM-SHA384".into()),
                san: Some("DNS:x".into()),
            }),
            account_lock: Some(true),
            limits: ResourceLimits::default(),
            password: PasswordOptions::default(),
        }
    );
    assert_eq!(
        stmt.to_string(),
        "CREATE USER IF NOT EXISTS 'a'@'%' IDENTIFIED BY 'p1', 'b'@'%' IDENTIFIED WITH mysql_native_password, \
         'c'@'h' IDENTIFIED WITH caching_sha2_password AS '$A$005$hash', 'd'@'%' \
         REQUIRE ISSUER '/C=SE/CN=ca' SUBJECT '/CN=client' CIPHER 'ECDHE-RSA-AES256-GCM-SHA384' SAN 'DNS:x' ACCOUNT LOCK"
    );
    let debug = format!("{stmt:?}");
    assert!(
        !debug.contains("p1") && !debug.contains("$A$005$hash"),
        "{debug}"
    );
    let require = |sql: &str| match parse(sql) {
        Statement::CreateUser { require, .. } => require,
        other => panic!("{other:?}"),
    };
    assert_eq!(require("CREATE USER u REQUIRE NONE"), Some(Require::None));
    assert_eq!(require("CREATE USER u REQUIRE X509"), Some(Require::X509));
    assert_eq!(
        require("CREATE USER u REQUIRE CIPHER 'c'"),
        Some(Require::Specified {
            issuer: None,
            subject: None,
            cipher: Some("c".into()),
            san: None
        })
    );
    let dup = err("CREATE USER u REQUIRE ISSUER 'a' AND ISSUER 'b'");
    assert_eq!(
        (dup.kind.clone(), dup.code(), dup.sqlstate()),
        (ParseErrorKind::DuplicateOption("ISSUER"), 1225, "HY000")
    );
    assert_eq!(dup.message(""), "Option 'ISSUER' used twice in statement");
    assert_eq!(
        near("CREATE USER u REQUIRE SSL AND X509"),
        format!("{NEAR} 'AND X509' at line 1")
    );
    assert_eq!(
        near("CREATE USER u REQUIRE"),
        format!("{NEAR} '' at line 1")
    );
    assert_eq!(
        near("CREATE USER u ACCOUNT LOCK REQUIRE SSL"),
        format!("{NEAR} 'REQUIRE SSL' at line 1")
    );
    assert_eq!(
        near("CREATE USER u IDENTIFIED BY PASSWORD '*AB'"),
        format!("{NEAR} 'PASSWORD '*AB'' at line 1")
    );
    for (sql, what) in [
        ("CREATE USER u DEFAULT ROLE r", "DEFAULT ROLE"),
        (
            "CREATE USER u IDENTIFIED BY RANDOM PASSWORD",
            "RANDOM PASSWORD",
        ),
        ("CREATE USER u COMMENT 'x'", "COMMENT"),
        ("CREATE USER u PASSWORD EXPIRE ATTRIBUTE '{}'", "ATTRIBUTE"),
    ] {
        let e = err(sql);
        assert_eq!(e.kind, ParseErrorKind::Unsupported(what), "{sql}");
        assert_eq!(
            e.message(sql),
            format!("This version of MySQL doesn't yet support '{what}'")
        );
    }
}

/// The tail of a CREATE USER statement (limits, lock, password options).
fn create_tail(sql: &str) -> (ResourceLimits, Option<bool>, PasswordOptions) {
    match parse(sql) {
        Statement::CreateUser {
            limits,
            account_lock,
            password,
            ..
        } => (limits, account_lock, password),
        other => panic!("{other:?}"),
    }
}

#[test]
fn resource_limits_any_subset_any_order() {
    let (limits, _, _) = create_tail(
        "CREATE USER u WITH MAX_USER_CONNECTIONS 4 MAX_QUERIES_PER_HOUR 1 max_updates_per_hour 0x10 \
         MAX_CONNECTIONS_PER_HOUR 3 MAX_QUERIES_PER_HOUR 2",
    );
    assert_eq!(
        limits,
        ResourceLimits {
            max_queries_per_hour: Some(2),
            max_updates_per_hour: Some(16),
            max_connections_per_hour: Some(3),
            max_user_connections: Some(4),
        }
    );
    assert_eq!(
        canonical("CREATE USER u WITH MAX_USER_CONNECTIONS 4 MAX_QUERIES_PER_HOUR 0"),
        "CREATE USER 'u'@'%' WITH MAX_QUERIES_PER_HOUR 0 MAX_USER_CONNECTIONS 4"
    );
    let (limits, lock, _) =
        create_tail("CREATE USER u REQUIRE SSL WITH MAX_USER_CONNECTIONS 4294967295 ACCOUNT LOCK");
    assert_eq!(limits.max_user_connections, Some(u32::MAX));
    assert_eq!(lock, Some(true));
    // MySQL's order: REQUIRE, then WITH, then the lock and password options.
    assert_eq!(
        near("CREATE USER u WITH MAX_USER_CONNECTIONS 1 REQUIRE SSL"),
        format!("{NEAR} 'REQUIRE SSL' at line 1")
    );
    assert_eq!(
        near("CREATE USER u ACCOUNT LOCK WITH MAX_USER_CONNECTIONS 1"),
        format!("{NEAR} 'WITH MAX_USER_CONNECTIONS 1' at line 1")
    );
    assert_eq!(near("CREATE USER u WITH"), format!("{NEAR} '' at line 1"));
    assert_eq!(
        near("CREATE USER u WITH GRANT OPTION"),
        format!("{NEAR} 'GRANT OPTION' at line 1")
    );
    assert_eq!(
        near("CREATE USER u WITH MAX_USER_CONNECTIONS"),
        format!("{NEAR} '' at line 1")
    );
    assert_eq!(
        near("CREATE USER u WITH MAX_USER_CONNECTIONS 1.5"),
        format!("{NEAR} '1.5' at line 1")
    );
    assert_eq!(
        near("CREATE USER u WITH MAX_USER_CONNECTIONS -1"),
        format!("{NEAR} '-1' at line 1")
    );
    let big = err("ALTER USER u WITH MAX_QUERIES_PER_HOUR 4294967296");
    assert_eq!(
        (big.code(), big.sqlstate(), big.message("")),
        (
            1525,
            "HY000",
            "Incorrect MAX_QUERIES_PER_HOUR value: '4294967296'".to_string()
        )
    );
}

#[test]
fn password_and_locking_options() {
    let full = "CREATE USER u PASSWORD EXPIRE INTERVAL 90 DAY ACCOUNT UNLOCK PASSWORD HISTORY 5 \
                PASSWORD REUSE INTERVAL 365 DAY PASSWORD REQUIRE CURRENT OPTIONAL \
                FAILED_LOGIN_ATTEMPTS 3 PASSWORD_LOCK_TIME 2";
    let (limits, lock, password) = create_tail(full);
    assert!(limits.is_empty());
    assert_eq!(lock, Some(false));
    assert_eq!(
        password,
        PasswordOptions {
            expire: Some(PasswordExpire::Interval(90)),
            history: Some(PolicyValue::Value(5)),
            reuse_interval: Some(PolicyValue::Value(365)),
            require_current: Some(RequireCurrent::Optional),
            failed_login_attempts: Some(3),
            password_lock_time: Some(LockTime::Days(2)),
        }
    );
    assert_eq!(
        canonical(full),
        full.replace("CREATE USER u", "CREATE USER 'u'@'%'")
    );
    // Any order, the last of a repeated option wins; lower case is fine.
    let (_, _, password) = create_tail(
        "create user u password_lock_time unbounded failed_login_attempts 0 password expire \
         password require current password history default password reuse interval default \
         password require current default password expire never",
    );
    assert_eq!(
        password,
        PasswordOptions {
            expire: Some(PasswordExpire::Never),
            history: Some(PolicyValue::Default),
            reuse_interval: Some(PolicyValue::Default),
            require_current: Some(RequireCurrent::Default),
            failed_login_attempts: Some(0),
            password_lock_time: Some(LockTime::Unbounded),
        }
    );
    for (sql, expire) in [
        ("CREATE USER u PASSWORD EXPIRE", PasswordExpire::Now),
        (
            "CREATE USER u PASSWORD EXPIRE DEFAULT",
            PasswordExpire::Default,
        ),
        ("CREATE USER u PASSWORD EXPIRE NEVER", PasswordExpire::Never),
        (
            "CREATE USER u PASSWORD EXPIRE INTERVAL 65535 DAY",
            PasswordExpire::Interval(65535),
        ),
    ] {
        assert_eq!(create_tail(sql).2.expire, Some(expire), "{sql}");
    }
    assert_eq!(
        create_tail("CREATE USER u PASSWORD REQUIRE CURRENT")
            .2
            .require_current,
        Some(RequireCurrent::Yes)
    );
    assert_eq!(
        canonical("ALTER USER u PASSWORD_LOCK_TIME UNBOUNDED PASSWORD EXPIRE"),
        "ALTER USER 'u'@'%' PASSWORD EXPIRE PASSWORD_LOCK_TIME UNBOUNDED"
    );
    // Out of MySQL's ranges: ER_WRONG_VALUE with the grammar's names.
    for (sql, what, value) in [
        ("CREATE USER u PASSWORD EXPIRE INTERVAL 0 DAY", "DAY", "0"),
        (
            "CREATE USER u PASSWORD EXPIRE INTERVAL 65536 DAY",
            "DAY",
            "65536",
        ),
        (
            "ALTER USER u FAILED_LOGIN_ATTEMPTS 32768",
            "FAILED_LOGIN_ATTEMPTS",
            "32768",
        ),
        (
            "ALTER USER u PASSWORD_LOCK_TIME 40000",
            "PASSWORD_LOCK_TIME",
            "40000",
        ),
        (
            "ALTER USER u PASSWORD_LOCK_TIME 0x8000",
            "PASSWORD_LOCK_TIME",
            "32768",
        ),
        (
            "ALTER USER u FAILED_LOGIN_ATTEMPTS 99999999999999999999999",
            "FAILED_LOGIN_ATTEMPTS",
            "99999999999999999999999",
        ),
    ] {
        let e = err(sql);
        assert_eq!(
            (e.kind.clone(), e.code(), e.sqlstate()),
            (
                ParseErrorKind::WrongValue {
                    what,
                    value: value.into()
                },
                1525,
                "HY000"
            ),
            "{sql}"
        );
        assert_eq!(e.message(sql), format!("Incorrect {what} value: '{value}'"));
    }
    // Syntax errors where MySQL's grammar has none of these words.
    for (sql, rest) in [
        ("CREATE USER u PASSWORD EXPIRE INTERVAL 5", ""),
        ("CREATE USER u PASSWORD EXPIRE INTERVAL 5 DAYS", "DAYS"),
        ("CREATE USER u PASSWORD EXPIRE INTERVAL DAY", "DAY"),
        ("CREATE USER u PASSWORD HISTORY", ""),
        ("CREATE USER u PASSWORD HISTORY NEVER", "NEVER"),
        ("CREATE USER u PASSWORD REUSE INTERVAL 5", ""),
        ("CREATE USER u PASSWORD REUSE 5 DAY", "5 DAY"),
        ("CREATE USER u PASSWORD REQUIRE", ""),
        ("CREATE USER u PASSWORD REQUIRE CURRENT NEVER", "NEVER"),
        ("CREATE USER u PASSWORD", ""),
        ("CREATE USER u PASSWORD LOCK", "LOCK"),
        ("CREATE USER u FAILED_LOGIN_ATTEMPTS", ""),
        ("CREATE USER u FAILED_LOGIN_ATTEMPTS UNBOUNDED", "UNBOUNDED"),
        ("CREATE USER u PASSWORD_LOCK_TIME NEVER", "NEVER"),
        ("CREATE USER u ACCOUNT LOCK REQUIRE SSL", "REQUIRE SSL"),
    ] {
        assert_eq!(near(sql), format!("{NEAR} '{rest}' at line 1"), "{sql}");
    }
}

#[test]
fn alter_user_dual_password_clauses() {
    let alter_users = |sql: &str| match parse(sql) {
        Statement::AlterUser { users, .. } => users,
        other => panic!("{other:?}"),
    };
    let users = alter_users(
        "ALTER USER a IDENTIFIED BY 'n' REPLACE 'o' RETAIN CURRENT PASSWORD, \
         b IDENTIFIED WITH caching_sha2_password BY 'n2' REPLACE 'o2', \
         c IDENTIFIED WITH mysql_native_password AS '*AB' RETAIN CURRENT PASSWORD, \
         d DISCARD OLD PASSWORD, e IDENTIFIED BY 'x' RETAIN CURRENT PASSWORD, f",
    );
    assert_eq!(
        users,
        vec![
            UserAuth {
                user: acct("a", "%"),
                auth: Some(AuthOption::Password(secret("n"))),
                replace: Some(secret("o")),
                retain_current: true,
                discard_old: false,
            },
            UserAuth {
                user: acct("b", "%"),
                auth: Some(AuthOption::PluginPassword {
                    plugin: "caching_sha2_password".into(),
                    password: secret("n2")
                }),
                replace: Some(secret("o2")),
                retain_current: false,
                discard_old: false,
            },
            UserAuth {
                user: acct("c", "%"),
                auth: Some(AuthOption::PluginAuthString {
                    plugin: "mysql_native_password".into(),
                    auth_string: secret("*AB")
                }),
                replace: None,
                retain_current: true,
                discard_old: false,
            },
            UserAuth {
                user: acct("d", "%"),
                auth: None,
                replace: None,
                retain_current: false,
                discard_old: true,
            },
            UserAuth {
                user: acct("e", "%"),
                auth: Some(AuthOption::Password(secret("x"))),
                replace: None,
                retain_current: true,
                discard_old: false,
            },
            UserAuth::new(acct("f", "%"), None),
        ]
    );
    let users = alter_users("ALTER USER USER() DISCARD OLD PASSWORD");
    assert_eq!(users[0].user, UserSpec::CurrentUser);
    assert!(users[0].discard_old);
    assert_eq!(
        canonical("alter user u identified by 'n' replace 'o' retain current password"),
        "ALTER USER 'u'@'%' IDENTIFIED BY 'n' REPLACE 'o' RETAIN CURRENT PASSWORD"
    );
    assert_eq!(
        canonical("ALTER USER u DISCARD OLD PASSWORD PASSWORD HISTORY 2"),
        "ALTER USER 'u'@'%' DISCARD OLD PASSWORD PASSWORD HISTORY 2"
    );
    let debug = format!(
        "{:?}",
        parse("ALTER USER u IDENTIFIED BY 'sekrit' REPLACE 'oldsekrit'")
    );
    assert!(!debug.contains("sekrit"), "{debug}");
    // Where MySQL's `alter_user` has no such clause: 1064 at the word.
    for (sql, rest) in [
        (
            "ALTER USER u IDENTIFIED WITH sha256_password AS '$5$x' REPLACE 'o'",
            "REPLACE 'o'",
        ),
        (
            "ALTER USER u IDENTIFIED WITH sha256_password RETAIN CURRENT PASSWORD",
            "RETAIN CURRENT PASSWORD",
        ),
        (
            "ALTER USER u RETAIN CURRENT PASSWORD",
            "RETAIN CURRENT PASSWORD",
        ),
        ("ALTER USER u REPLACE 'o'", "REPLACE 'o'"),
        (
            "ALTER USER u IDENTIFIED BY 'n' DISCARD OLD PASSWORD",
            "DISCARD OLD PASSWORD",
        ),
        (
            "ALTER USER u IDENTIFIED BY 'n' RETAIN CURRENT PASSWORD REPLACE 'o'",
            "REPLACE 'o'",
        ),
        ("ALTER USER u DISCARD PASSWORD", "PASSWORD"),
        ("ALTER USER u DISCARD OLD", ""),
        ("ALTER USER u IDENTIFIED BY 'n' RETAIN PASSWORD", "PASSWORD"),
        ("ALTER USER u IDENTIFIED BY 'n' REPLACE", ""),
        // CREATE USER has none of them.
        (
            "CREATE USER u IDENTIFIED BY 'n' RETAIN CURRENT PASSWORD",
            "RETAIN CURRENT PASSWORD",
        ),
        ("CREATE USER u IDENTIFIED BY 'n' REPLACE 'o'", "REPLACE 'o'"),
        ("CREATE USER u DISCARD OLD PASSWORD", "DISCARD OLD PASSWORD"),
    ] {
        assert_eq!(near(sql), format!("{NEAR} '{rest}' at line 1"), "{sql}");
    }
}

#[test]
fn alter_drop_rename_user() {
    assert_eq!(
        parse("ALTER USER USER() IDENTIFIED BY 'pw'"),
        Statement::AlterUser {
            if_exists: false,
            users: vec![UserAuth {
                user: UserSpec::CurrentUser,
                auth: Some(AuthOption::Password(secret("pw"))),
                ..Default::default()
            }],
            require: None,
            account_lock: None,
            limits: ResourceLimits::default(),
            password: PasswordOptions::default(),
        }
    );
    assert_eq!(
        parse("ALTER USER IF EXISTS 'a'@'h' IDENTIFIED WITH sha256_password BY 'x', b REQUIRE NONE ACCOUNT UNLOCK"),
        Statement::AlterUser {
            if_exists: true,
            users: vec![
                UserAuth {
                    user: acct("a", "h"),
                    auth: Some(AuthOption::PluginPassword { plugin: "sha256_password".into(), password: secret("x") }), ..Default::default() },
                UserAuth { user: acct("b", "%"), auth: None, ..Default::default() },
            ],
            require: Some(Require::None),
            account_lock: Some(false),
            limits: ResourceLimits::default(),
            password: PasswordOptions::default(),
        }
    );
    // `user` is an ordinary account name; only `USER()` means the current user.
    assert_eq!(
        parse("ALTER USER user ACCOUNT LOCK"),
        Statement::AlterUser {
            if_exists: false,
            users: vec![UserAuth {
                user: acct("user", "%"),
                auth: None,
                ..Default::default()
            }],
            require: None,
            account_lock: Some(true),
            limits: ResourceLimits::default(),
            password: PasswordOptions::default(),
        }
    );
    assert_eq!(
        parse("DROP USER IF EXISTS a, 'b'@'c'"),
        Statement::DropUser {
            if_exists: true,
            users: vec![acct("a", "%"), acct("b", "c")]
        }
    );
    assert_eq!(
        parse("RENAME USER 'a'@'h' TO 'b'@'h', c TO d@e"),
        Statement::RenameUser(vec![
            (acct("a", "h"), acct("b", "h")),
            (acct("c", "%"), acct("d", "e"))
        ])
    );
    assert_eq!(
        canonical("RENAME USER a TO b"),
        "RENAME USER 'a'@'%' TO 'b'@'%'"
    );
    assert_eq!(near("RENAME USER a b"), format!("{NEAR} 'b' at line 1"));
}

#[test]
fn grant_and_revoke() {
    assert_eq!(
        parse("GRANT ALL ON *.* TO 'admin'@'%' WITH GRANT OPTION"),
        Statement::Grant {
            privileges: Privileges::All,
            level: GrantLevel::Global,
            users: vec![acct("admin", "%")],
            with_grant_option: true
        }
    );
    let stmt = parse("grant all privileges on *.* to a, b@h");
    assert_eq!(
        stmt,
        Statement::Grant {
            privileges: Privileges::All,
            level: GrantLevel::Global,
            users: vec![acct("a", "%"), acct("b", "h")],
            with_grant_option: false
        }
    );
    assert_eq!(
        stmt.to_string(),
        "GRANT ALL PRIVILEGES ON *.* TO 'a'@'%', 'b'@'h'"
    );
    let level = |sql: &str| match parse(sql) {
        Statement::Grant {
            level, privileges, ..
        } => (privileges, level),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        level("GRANT select, Insert, create user, GRANT OPTION ON db.* TO u"),
        (
            Privileges::List(vec![
                "SELECT".into(),
                "INSERT".into(),
                "CREATE USER".into(),
                "GRANT OPTION".into()
            ]),
            GrantLevel::Database("db".into())
        )
    );
    assert_eq!(
        level("GRANT SELECT ON db.tbl TO u").1,
        GrantLevel::Table {
            database: Some("db".into()),
            table: "tbl".into()
        }
    );
    assert_eq!(
        level("GRANT SELECT ON TABLE tbl TO u").1,
        GrantLevel::Table {
            database: None,
            table: "tbl".into()
        }
    );
    assert_eq!(
        level("GRANT RELOAD ON * TO u").1,
        GrantLevel::CurrentDatabase
    );
    assert_eq!(
        level("GRANT CONNECTION_ADMIN ON *.* TO u").0,
        Privileges::List(vec!["CONNECTION_ADMIN".into()])
    );
    assert_eq!(
        parse("REVOKE ALL PRIVILEGES, GRANT OPTION FROM u"),
        Statement::Revoke {
            privileges: Privileges::All,
            grant_option: true,
            level: None,
            users: vec![acct("u", "%")]
        }
    );
    assert_eq!(
        parse("REVOKE ALL ON *.* FROM u"),
        Statement::Revoke {
            privileges: Privileges::All,
            grant_option: false,
            level: Some(GrantLevel::Global),
            users: vec![acct("u", "%")]
        }
    );
    assert_eq!(
        canonical("REVOKE ALL, GRANT OPTION ON *.* FROM u, v"),
        "REVOKE ALL PRIVILEGES, GRANT OPTION ON *.* FROM 'u'@'%', 'v'@'%'"
    );
    assert_eq!(
        canonical("REVOKE select ON db.* FROM u"),
        "REVOKE SELECT ON db.* FROM 'u'@'%'"
    );
    assert_eq!(
        err("GRANT r1 TO u").kind,
        ParseErrorKind::Unsupported("GRANT role")
    );
    assert_eq!(
        err("GRANT SELECT (c) ON t TO u").kind,
        ParseErrorKind::Unsupported("column privileges")
    );
    assert_eq!(err("GRANT PROXY ON a TO b").code(), 1235);
    assert_eq!(err("GRANT EXECUTE ON PROCEDURE p TO u").code(), 1235);
    assert_eq!(err("REVOKE r1 FROM u").code(), 1235);
    assert_eq!(
        near("GRANT SELECT, ALL ON *.* TO u"),
        format!("{NEAR} 'ALL ON *.* TO u' at line 1")
    );
    assert_eq!(
        near("GRANT ALL ON *.* TO u IDENTIFIED BY 'x'"),
        format!("{NEAR} 'IDENTIFIED BY 'x'' at line 1")
    );
    assert_eq!(
        near("REVOKE ALL FROM u"),
        format!("{NEAR} 'FROM u' at line 1")
    );
}

#[test]
fn flush_use_transactions_and_other_statements() {
    assert_eq!(
        parse("FLUSH PRIVILEGES"),
        Statement::Flush(vec![FlushKind::Privileges])
    );
    assert_eq!(
        parse("flush local hosts, status"),
        Statement::Flush(vec![FlushKind::Hosts, FlushKind::Status])
    );
    assert_eq!(
        parse("FLUSH NO_WRITE_TO_BINLOG PRIVILEGES"),
        Statement::Flush(vec![FlushKind::Privileges])
    );
    assert_eq!(
        parse("FLUSH USER_RESOURCES, privileges"),
        Statement::Flush(vec![FlushKind::UserResources, FlushKind::Privileges])
    );
    assert_eq!(parse("FLUSH TABLES WITH READ LOCK"), other("FLUSH TABLES"));
    assert_eq!(err("FLUSH PRIVILEGES, TABLES").code(), 1235);
    assert_eq!(
        near("FLUSH LOCAL LOCAL"),
        format!("{NEAR} 'LOCAL' at line 1")
    );
    assert_eq!(parse("USE mydb"), Statement::Use("mydb".into()));
    assert_eq!(parse("USE `my db`;"), Statement::Use("my db".into()));
    assert_eq!(canonical("use `my db`"), "USE `my db`");
    for sql in [
        "BEGIN",
        "BEGIN WORK",
        "START TRANSACTION",
        "start transaction;",
    ] {
        assert_eq!(parse(sql), Statement::Begin, "{sql}");
    }
    assert_eq!(parse("COMMIT WORK"), Statement::Commit);
    assert_eq!(parse("ROLLBACK"), Statement::Rollback);
    assert_eq!(err("START TRANSACTION READ ONLY").code(), 1235);
    assert_eq!(err("ROLLBACK TO SAVEPOINT s").code(), 1235);
    assert_eq!(parse("INSERT INTO t VALUES (1, 'a;b')"), other("INSERT"));
    assert_eq!(parse("create table t (a int)"), other("CREATE TABLE"));
    assert_eq!(parse("DROP DATABASE d"), other("DROP DATABASE"));
    assert_eq!(parse("ALTER TABLE t ADD c INT"), other("ALTER TABLE"));
    assert_eq!(parse("RENAME TABLE a TO b"), other("RENAME TABLE"));
    assert_eq!(parse("START REPLICA"), other("START REPLICA"));
    let kill = |query, id: u64| Statement::Kill {
        query,
        id: Expr::Integer(id),
    };
    assert_eq!(parse("KILL 5"), kill(false, 5));
    assert_eq!(parse("kill connection 5"), kill(false, 5));
    assert_eq!(parse("KILL QUERY 7;"), kill(true, 7));
    assert_eq!(
        parse("KILL CONNECTION_ID()"),
        Statement::Kill {
            query: false,
            id: func("CONNECTION_ID", vec![])
        }
    );
    assert_eq!(canonical("KILL 5"), "KILL CONNECTION 5");
    assert_eq!(near("KILL"), format!("{NEAR} '' at line 1"));
    assert_eq!(parse("SHUTDOWN"), Statement::Shutdown);
    let truncate = |schema: Option<&str>, name: &str| Statement::TruncateTable {
        schema: schema.map(String::from),
        name: name.into(),
    };
    assert_eq!(
        parse("TRUNCATE TABLE performance_schema.host_cache"),
        truncate(Some("performance_schema"), "host_cache")
    );
    assert_eq!(parse("truncate t"), truncate(None, "t"));
    assert_eq!(
        canonical("TRUNCATE performance_schema.host_cache"),
        "TRUNCATE TABLE performance_schema.host_cache"
    );
    // The skipped part is still tokenized: a broken literal is still a 1064.
    assert_eq!(
        near("INSERT INTO t VALUES ('abc"),
        format!("{NEAR} ''abc' at line 1")
    );
    assert_eq!(
        parse_statements("INSERT INTO t VALUES (1); SELECT 1"),
        Ok(vec![
            other("INSERT"),
            Statement::Select(select(vec![item(int(1))]))
        ])
    );
}

// ----- comments, empty queries, errors -----

#[test]
fn comments_everywhere() {
    let one = Statement::Select(select(vec![item(int(1))]));
    for sql in [
        "SELECT 1 -- trailing",
        "SELECT 1 --",
        "# leading\nSELECT 1",
        "SELECT /* inline */ 1",
        "/*!SELECT*/ 1",
        "/*!80000 SELECT 1 */",
        "SELECT 1 /*!99999 , 2 */",
        "/*+ hint */ SELECT 1;",
        "\n\t SELECT\n1\r\n;\n",
    ] {
        assert_eq!(parse(sql), one, "{sql:?}");
    }
}

#[test]
fn empty_queries() {
    for (sql, comment_only) in [
        ("", false),
        ("   \n\t", false),
        ("/* ping */", true),
        ("-- x", true),
        ("/*!99999 SELECT 1 */", true),
    ] {
        let e = err(sql);
        assert_eq!(e.kind, ParseErrorKind::Empty { comment_only }, "{sql:?}");
        assert_eq!(
            (e.code(), e.sqlstate(), e.message(sql).as_str()),
            (1065, "42000", "Query was empty")
        );
        assert_eq!(parse_statements(sql), Err(e));
    }
    assert_eq!(near(";"), format!("{NEAR} ';' at line 1"));
}

#[test]
fn error_positions_match_mysql() {
    assert_eq!(near("SELEC 1"), format!("{NEAR} 'SELEC 1' at line 1"));
    assert_eq!(near("SELECT 1 FROM"), format!("{NEAR} '' at line 1"));
    assert_eq!(near("SELECT 1 FROM   "), format!("{NEAR} '' at line 1"));
    assert_eq!(
        near("SELECT 1\nFROM\nWHERE x"),
        format!("{NEAR} 'WHERE x' at line 3")
    );
    assert_eq!(
        near("SELECT 1,\n  2,\n  FROM t"),
        format!("{NEAR} 'FROM t' at line 3")
    );
    assert_eq!(near("SELECT 'abc"), format!("{NEAR} ''abc' at line 1"));
    assert_eq!(
        near("SELECT 1 /* open"),
        format!("{NEAR} '/* open' at line 1")
    );
    assert_eq!(near("/*! SELECT 1"), format!("{NEAR} '' at line 1"));
    assert_eq!(
        near("SELECT 1; SELECT 2"),
        format!("{NEAR} 'SELECT 2' at line 1")
    );
    assert_eq!(near("SELECT 1 ? 2"), format!("{NEAR} '? 2' at line 1"));
    // At most 80 bytes, never splitting a character, stopping at NUL.
    let e100 = "é".repeat(100);
    // 1 + 39 × 2 = 79 bytes: a 40th "é" would split at byte 80.
    assert_eq!(
        near(&format!("SELECT 1 ?{e100}")),
        format!("{NEAR} '?{}' at line 1", "é".repeat(39))
    );
    // 2 + 39 × 2 = 80 bytes exactly.
    assert_eq!(
        near(&format!("SELECT 1 ? {e100}")),
        format!("{NEAR} '? {}' at line 1", "é".repeat(39))
    );
    assert_eq!(
        near(&format!("SELECT 1 ? {}", "x".repeat(100))),
        format!("{NEAR} '? {}' at line 1", "x".repeat(78))
    );
    assert_eq!(near("SELECT 1 ?\0yz"), format!("{NEAR} '?' at line 1"));
    let e = err("SELEC 1");
    assert_eq!(
        (e.offset, e.line, e.code(), e.sqlstate()),
        (0, 1, 1064, "42000")
    );
    assert_eq!(e.message("SELEC 1"), e.mysql_message("SELEC 1"));
}

#[test]
fn multi_statements() {
    let one = Statement::Select(select(vec![item(int(1))]));
    let two = Statement::Select(select(vec![item(int(2))]));
    assert_eq!(
        parse_statements("SELECT 1; SELECT 2;"),
        Ok(vec![one.clone(), two.clone()])
    );
    assert_eq!(
        parse_statements("SELECT 1;\n-- done\n"),
        Ok(vec![one.clone()])
    );
    // The statements before an error are still delivered, then the iterator stops.
    let sql = "SELECT 1; SELEC 2; SELECT 3";
    let results: Vec<_> = statements(sql).collect();
    assert_eq!(results.len(), 2);
    assert_eq!(results.first(), Some(&Ok(one.clone())));
    let e = results
        .get(1)
        .and_then(|r| r.clone().err())
        .map(|e| e.mysql_message(sql));
    assert_eq!(e, Some(format!("{NEAR} 'SELEC 2; SELECT 3' at line 1")));
    assert_eq!(
        statements("SELECT 1;;")
            .nth(1)
            .map(|r| r.map_err(|e| e.offset)),
        Some(Err(9))
    );
    // A lexical error after the first statement does not spoil it.
    let results: Vec<_> = statements("SELECT 1; SELECT 'x").collect();
    assert_eq!(results.first(), Some(&Ok(one)));
    assert!(matches!(
        results.get(1),
        Some(Err(ParseError {
            kind: ParseErrorKind::Syntax,
            offset: 17,
            ..
        }))
    ));
}

#[test]
fn nesting_is_bounded() {
    let parens = |n: usize| format!("SELECT {}1{}", "(".repeat(n), ")".repeat(n));
    assert!(parse_statement(&parens(50)).is_ok());
    assert_eq!(err(&parens(100)).kind, ParseErrorKind::TooDeep);
    assert_eq!(err(&parens(100_000)).kind, ParseErrorKind::TooDeep);
    assert_eq!(
        err(&format!("SELECT {}1", "NOT ".repeat(100_000))).kind,
        ParseErrorKind::TooDeep
    );
    assert_eq!(
        err(&format!("SELECT {}1", "- ".repeat(100_000))).kind,
        ParseErrorKind::TooDeep
    );
    assert_eq!(
        err(&format!("SELECT {}1", "!".repeat(100_000))).kind,
        ParseErrorKind::TooDeep
    );
    // Left-deep chains are flat to parse but tall as trees.
    assert!(parse_statement(&format!("SELECT 1{}", " OR 1".repeat(200))).is_ok());
    assert_eq!(
        err(&format!("SELECT 1{}", " + 1".repeat(100_000))).kind,
        ParseErrorKind::TooDeep
    );
    assert_eq!(
        err(&format!("SELECT 1{}", " IS NULL".repeat(100_000))).kind,
        ParseErrorKind::TooDeep
    );
    let subqueries = |n: usize| format!("SELECT {}1{}", "(SELECT ".repeat(n), ")".repeat(n));
    assert!(parse_statement(&subqueries(20)).is_ok());
    assert_eq!(err(&subqueries(10_000)).kind, ParseErrorKind::TooDeep);
    let e = err(&parens(100));
    assert_eq!(e.code(), 1064);
    // Wide is fine.
    let wide = format!("SELECT 1 IN ({})", vec!["1"; 10_000].join(","));
    assert!(parse_statement(&wide).is_ok());
}

#[test]
fn in_subquery() {
    let stmt = parse("SELECT 1 FROM t WHERE a NOT IN (SELECT b FROM u)");
    let Statement::Select(Select {
        selection:
            Some(Expr::InList {
                list,
                negated: true,
                ..
            }),
        ..
    }) = &stmt
    else {
        panic!("{stmt:?}")
    };
    assert!(matches!(list.as_slice(), [Expr::Subquery(_)]));
    assert_eq!(
        stmt.to_string(),
        "SELECT 1 FROM t WHERE a NOT IN (SELECT b FROM u)"
    );
    // A one-element list holding a scalar subquery is the same tree.
    assert_eq!(
        parse("SELECT a IN ((SELECT b))"),
        parse("SELECT a IN (SELECT b)")
    );
}

#[test]
fn printing_never_needs_deeper_nesting_than_the_source() {
    for n in 0..80 {
        let close = ")".repeat(n);
        for sql in [
            format!("SELECT {}a + 1", "-!".repeat(n)),
            format!("SELECT {}a{close} + 1", "(NOT ".repeat(n)),
            format!("SELECT {}a{close}", "-(NOT ".repeat(n)),
            format!("SELECT {}1{close}", "1 IN (SELECT ".repeat(n)),
            format!("SELECT {}1{close}", "(SELECT ".repeat(n)),
            format!("SELECT {}1{close}", "CONCAT(".repeat(n)),
            format!("SELECT 1{}", " OR 1".repeat(n * 4)),
        ] {
            // Whether accepted or rejected, an accepted statement must round-trip.
            fuzz_parse(sql.as_bytes());
        }
    }
    // The tallest accepted tree still prints, compares and parses back.
    let tallest = format!("SELECT 1{}", " OR 1".repeat(255));
    fuzz_parse(tallest.as_bytes());
    assert_eq!(
        err(&format!("{tallest} OR 1")).kind,
        ParseErrorKind::TooDeep
    );
}

#[test]
fn fuzz_body_accepts_samples() {
    for sample in [
        "SELECT 1; SELECT 'a'",
        "SET @@global.x = 1, NAMES DEFAULT",
        "CREATE USER 'a'@'%' IDENTIFIED BY 'x' REQUIRE SUBJECT 's'; DROP USER a",
        "\u{0}\u{1}SELECT",
        "SELECT @`",
        "SELECT 0x",
    ] {
        fuzz_parse(sample.as_bytes());
    }
    fuzz_parse(&[0xff, 0xfe, b'S', b'E', b'L', b'E', b'C', b'T', b' ', b'1']);
}

// ----- properties -----

fn ident() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-zA-Z_][a-zA-Z0-9_$]{0,8}",
        2 => prop::sample::select(vec![
            "select", "from", "user", "global", "session", "transaction", "names", "null", "current_user", "dual",
            "_utf8mb4", "limit", "ON", "x", "n", "X", "b", "e1", "1e5", "0x1", "12", "a.b", "", "`", "DEFAULT",
            "binary", "escape", "role", "password", "OFF", "mod", "div", "1abc",
        ])
        .prop_map(String::from),
        1 => "\\PC{0,6}",
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![3 => "\\PC{0,8}", 1 => "[\\\\'\"\\x00\\n\\r\\t\\x1a%_`@ ]{0,6}", 1 => "\\PC{0,3}\\*/\\PC{0,3}"]
}

fn dotted() -> impl Strategy<Value = String> {
    prop::collection::vec(ident(), 1..3).prop_map(|parts| parts.join("."))
}

fn var_scope() -> impl Strategy<Value = VarScope> {
    prop::sample::select(vec![
        VarScope::Session,
        VarScope::Global,
        VarScope::Persist,
        VarScope::PersistOnly,
    ])
}

fn decimal() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9]{1,4}\\.[0-9]{0,4}",
        "\\.[0-9]{1,4}",
        "[0-9]{1,3}[eE][+-]?[0-9]{1,2}",
        "[0-9]{1,3}\\.[0-9]{1,3}[eE]-?[0-9]{1,2}",
        "[1-9][0-9]{20,24}",
    ]
}

fn function_name() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "CONCAT",
        "VERSION",
        "USER",
        "CURRENT_USER",
        "DATABASE",
        "IF",
        "LEFT",
        "CONNECTION_ID",
        "F1",
        "X",
        "N",
        "_UTF8MB4",
        "MOD",
        "UTC_TIMESTAMP",
        "PASSWORD",
    ])
    .prop_map(String::from)
}

fn expr() -> BoxedStrategy<Expr> {
    let leaf = prop_oneof![
        Just(Expr::Null),
        any::<bool>().prop_map(Expr::Bool),
        any::<u64>().prop_map(Expr::Integer),
        decimal().prop_map(Expr::Decimal),
        text().prop_map(Expr::Str),
        "[0-9a-fA-F]{0,6}".prop_map(Expr::Hex),
        (prop::option::of(var_scope()), dotted())
            .prop_map(|(scope, name)| Expr::SystemVar { scope, name }),
        text().prop_map(Expr::UserVar),
        prop::collection::vec(ident(), 1..=3).prop_map(Expr::Column),
        function_name().prop_map(|name| Expr::Function { name, args: vec![] }),
    ];
    leaf.prop_recursive(4, 40, 4, |inner| {
        let b = |e: Expr| Box::new(e);
        prop_oneof![
            (function_name(), prop::collection::vec(inner.clone(), 0..3))
                .prop_map(|(name, args)| Expr::Function { name, args }),
            (
                prop::sample::select(vec![UnaryOp::Neg, UnaryOp::Not]),
                inner.clone()
            )
                .prop_map(move |(op, e)| Expr::Unary { op, expr: b(e) }),
            (
                inner.clone(),
                prop::sample::select(vec![
                    BinaryOp::Or,
                    BinaryOp::Xor,
                    BinaryOp::And,
                    BinaryOp::Eq,
                    BinaryOp::NullSafeEq,
                    BinaryOp::NotEq,
                    BinaryOp::Lt,
                    BinaryOp::LtEq,
                    BinaryOp::Gt,
                    BinaryOp::GtEq,
                    BinaryOp::Plus,
                    BinaryOp::Minus,
                    BinaryOp::Mul,
                    BinaryOp::Div,
                    BinaryOp::IntDiv,
                    BinaryOp::Mod,
                ]),
                inner.clone()
            )
                .prop_map(move |(l, op, r)| Expr::Binary {
                    left: b(l),
                    op,
                    right: b(r)
                }),
            (inner.clone(), any::<bool>()).prop_map(move |(e, negated)| Expr::IsNull {
                expr: b(e),
                negated
            }),
            (
                inner.clone(),
                inner.clone(),
                prop::option::of(inner.clone()),
                any::<bool>()
            )
                .prop_map(move |(e, p, esc, negated)| Expr::Like {
                    expr: b(e),
                    pattern: b(p),
                    escape: esc.map(b),
                    negated
                }),
            (
                inner.clone(),
                prop::collection::vec(inner.clone(), 1..3),
                any::<bool>()
            )
                .prop_map(move |(e, list, negated)| Expr::InList {
                    expr: b(e),
                    list,
                    negated
                }),
            (inner.clone(), inner.clone(), inner.clone(), any::<bool>()).prop_map(
                move |(e, low, high, negated)| {
                    Expr::Between {
                        expr: b(e),
                        low: b(low),
                        high: b(high),
                        negated,
                    }
                }
            ),
            select_of(inner).prop_map(|s| Expr::Subquery(Box::new(s))),
        ]
    })
    .boxed()
}

fn select_of(expr: impl Strategy<Value = Expr> + Clone + 'static) -> impl Strategy<Value = Select> {
    let items = (
        any::<bool>(),
        prop::collection::vec((expr.clone(), prop::option::of(ident())), 0..3),
    )
        .prop_map(|(star, rest)| {
            let mut items = Vec::new();
            if star || rest.is_empty() {
                items.push(SelectItem::Wildcard);
            }
            items.extend(
                rest.into_iter()
                    .map(|(expr, alias)| SelectItem::Expr { expr, alias }),
            );
            items
        });
    let table = (
        prop::option::of(ident()),
        ident(),
        prop::option::of(ident()),
    )
        .prop_map(|(schema, name, alias)| TableRef {
            schema,
            name,
            alias,
        });
    let limit = (any::<u64>(), prop::option::of(any::<u64>()))
        .prop_map(|(count, offset)| Limit { count, offset });
    (
        items,
        prop::option::of(table),
        prop::option::of(expr),
        prop::option::of(limit),
    )
        .prop_map(|(items, from, selection, limit)| Select {
            items,
            from,
            selection,
            limit,
        })
}

fn user_spec() -> impl Strategy<Value = UserSpec> {
    prop_oneof![
        1 => Just(UserSpec::CurrentUser),
        5 => (text(), text()).prop_map(|(user, host)| UserSpec::Account { user, host }),
    ]
}

fn secret_text() -> impl Strategy<Value = Secret> {
    text().prop_map(Secret::new)
}

fn auth_option() -> impl Strategy<Value = AuthOption> {
    prop_oneof![
        secret_text().prop_map(AuthOption::Password),
        ident().prop_map(AuthOption::Plugin),
        (ident(), secret_text())
            .prop_map(|(plugin, password)| AuthOption::PluginPassword { plugin, password }),
        (ident(), secret_text()).prop_map(|(plugin, auth_string)| AuthOption::PluginAuthString {
            plugin,
            auth_string
        }),
    ]
}

fn require() -> impl Strategy<Value = Require> {
    let opt = || prop::option::of(text());
    prop_oneof![
        Just(Require::None),
        Just(Require::Ssl),
        Just(Require::X509),
        (opt(), opt(), opt(), opt()).prop_map(|(issuer, subject, cipher, san)| {
            let issuer =
                if issuer.is_none() && subject.is_none() && cipher.is_none() && san.is_none() {
                    Some(String::new())
                } else {
                    issuer
                };
            Require::Specified {
                issuer,
                subject,
                cipher,
                san,
            }
        }),
    ]
}

fn grant_level() -> impl Strategy<Value = GrantLevel> {
    prop_oneof![
        Just(GrantLevel::Global),
        Just(GrantLevel::CurrentDatabase),
        ident().prop_map(GrantLevel::Database),
        (prop::option::of(ident()), ident())
            .prop_map(|(database, table)| GrantLevel::Table { database, table }),
    ]
}

fn privilege_list() -> impl Strategy<Value = Privileges> {
    prop::collection::vec(
        prop::sample::select(vec![
            "SELECT",
            "INSERT",
            "CREATE USER",
            "GRANT OPTION",
            "RELOAD",
            "SHOW DATABASES",
            "CONNECTION_ADMIN",
        ]),
        1..4,
    )
    .prop_map(|list| Privileges::List(list.into_iter().map(String::from).collect()))
}

fn show_filter() -> impl Strategy<Value = ShowFilter> {
    prop_oneof![
        text().prop_map(ShowFilter::Like),
        expr().prop_map(ShowFilter::Where)
    ]
}

fn set_assignment() -> impl Strategy<Value = SetAssignment> {
    prop_oneof![
        3 => (var_scope(), dotted(), prop_oneof![1 => Just(SetValue::Default), 4 => expr().prop_map(SetValue::Expr)])
            .prop_map(|(scope, name, value)| SetAssignment::System { scope, name, value }),
        2 => (text(), expr()).prop_map(|(name, value)| SetAssignment::User { name, value }),
        1 => Just(SetAssignment::Names { charset: None, collation: None }),
        1 => (ident(), prop::option::of(ident()))
            .prop_map(|(cs, collation)| SetAssignment::Names { charset: Some(cs), collation }),
        1 => prop::option::of(ident()).prop_map(SetAssignment::CharacterSet),
    ]
}

fn user_auths() -> impl Strategy<Value = Vec<UserAuth>> {
    prop::collection::vec(
        (user_spec(), prop::option::of(auth_option()))
            .prop_map(|(user, auth)| UserAuth::new(user, auth)),
        1..3,
    )
}

/// ALTER USER's list: the ALTER-only clauses where MySQL's `alter_user` has them.
fn alter_user_auths() -> impl Strategy<Value = Vec<UserAuth>> {
    prop::collection::vec(
        (
            user_spec(),
            prop::option::of(auth_option()),
            prop::option::of(secret_text()),
            any::<bool>(),
        )
            .prop_map(|(user, auth, replace, flag)| {
                let mut ua = UserAuth::new(user, auth);
                match &ua.auth {
                    Some(AuthOption::Password(_) | AuthOption::PluginPassword { .. }) => {
                        ua.replace = replace;
                        ua.retain_current = flag;
                    }
                    Some(AuthOption::PluginAuthString { .. }) => ua.retain_current = flag,
                    Some(AuthOption::Plugin(_)) => {}
                    None => ua.discard_old = flag,
                }
                ua
            }),
        1..3,
    )
}

fn resource_limits() -> impl Strategy<Value = ResourceLimits> {
    let limit = || prop::option::of(any::<u32>());
    (limit(), limit(), limit(), limit()).prop_map(|(q, u, c, uc)| ResourceLimits {
        max_queries_per_hour: q,
        max_updates_per_hour: u,
        max_connections_per_hour: c,
        max_user_connections: uc,
    })
}

fn password_options() -> impl Strategy<Value = PasswordOptions> {
    let policy = || {
        prop::option::of(prop_oneof![
            Just(PolicyValue::Default),
            any::<u32>().prop_map(PolicyValue::Value)
        ])
    };
    (
        prop::option::of(prop_oneof![
            Just(PasswordExpire::Now),
            Just(PasswordExpire::Default),
            Just(PasswordExpire::Never),
            (1u32..=65535).prop_map(PasswordExpire::Interval),
        ]),
        policy(),
        policy(),
        prop::option::of(prop::sample::select(vec![
            RequireCurrent::Yes,
            RequireCurrent::Default,
            RequireCurrent::Optional,
        ])),
        prop::option::of(0u32..=32767),
        prop::option::of(prop_oneof![
            Just(LockTime::Unbounded),
            (0u32..=32767).prop_map(LockTime::Days)
        ]),
    )
        .prop_map(
            |(
                expire,
                history,
                reuse_interval,
                require_current,
                failed_login_attempts,
                password_lock_time,
            )| {
                PasswordOptions {
                    expire,
                    history,
                    reuse_interval,
                    require_current,
                    failed_login_attempts,
                    password_lock_time,
                }
            },
        )
}

fn statement() -> impl Strategy<Value = Statement> {
    let users = || prop::collection::vec(user_spec(), 1..3);
    let show_scope = || prop::sample::select(vec![ShowScope::Session, ShowScope::Global]);
    prop_oneof![
        prop::collection::vec(set_assignment(), 1..4).prop_map(Statement::Set),
        (
            prop::option::of(user_spec()),
            secret_text(),
            prop::option::of(secret_text()),
            any::<bool>()
        )
            .prop_map(
                |(user, password, replace, retain_current)| Statement::SetPassword {
                    user,
                    password,
                    replace,
                    retain_current
                }
            ),
        select_of(expr()).prop_map(Statement::Select),
        (show_scope(), prop::option::of(show_filter()))
            .prop_map(|(scope, filter)| Statement::ShowStatus { scope, filter }),
        (show_scope(), prop::option::of(show_filter()))
            .prop_map(|(scope, filter)| Statement::ShowVariables { scope, filter }),
        user_spec().prop_map(Statement::ShowCreateUser),
        prop::option::of(user_spec()).prop_map(Statement::ShowGrants),
        prop::option::of(show_filter()).prop_map(Statement::ShowDatabases),
        Just(Statement::ShowWarnings),
        (
            any::<bool>(),
            user_auths(),
            prop::option::of(require()),
            resource_limits(),
            prop::option::of(any::<bool>()),
            password_options(),
        )
            .prop_map(
                |(if_not_exists, users, require, limits, account_lock, password)| {
                    Statement::CreateUser {
                        if_not_exists,
                        users,
                        require,
                        limits,
                        account_lock,
                        password,
                    }
                }
            ),
        (
            any::<bool>(),
            alter_user_auths(),
            prop::option::of(require()),
            resource_limits(),
            prop::option::of(any::<bool>()),
            password_options(),
        )
            .prop_map(
                |(if_exists, users, require, limits, account_lock, password)| {
                    Statement::AlterUser {
                        if_exists,
                        users,
                        require,
                        limits,
                        account_lock,
                        password,
                    }
                }
            ),
        (any::<bool>(), users())
            .prop_map(|(if_exists, users)| Statement::DropUser { if_exists, users }),
        prop::collection::vec((user_spec(), user_spec()), 1..3).prop_map(Statement::RenameUser),
        (
            prop_oneof![Just(Privileges::All), privilege_list()],
            grant_level(),
            users(),
            any::<bool>()
        )
            .prop_map(
                |(privileges, level, users, with_grant_option)| Statement::Grant {
                    privileges,
                    level,
                    users,
                    with_grant_option
                }
            ),
        (any::<bool>(), grant_level(), users()).prop_map(|(grant_option, level, users)| {
            Statement::Revoke {
                privileges: Privileges::All,
                grant_option,
                level: Some(level),
                users,
            }
        }),
        users().prop_map(|users| Statement::Revoke {
            privileges: Privileges::All,
            grant_option: true,
            level: None,
            users
        }),
        (privilege_list(), grant_level(), users()).prop_map(|(privileges, level, users)| {
            Statement::Revoke {
                privileges,
                grant_option: false,
                level: Some(level),
                users,
            }
        }),
        prop::collection::vec(
            prop::sample::select(vec![
                FlushKind::Privileges,
                FlushKind::Hosts,
                FlushKind::Status,
                FlushKind::UserResources
            ]),
            1..3
        )
        .prop_map(Statement::Flush),
        any::<bool>().prop_map(|full| Statement::ShowProcesslist { full }),
        (any::<bool>(), expr()).prop_map(|(query, id)| Statement::Kill { query, id }),
        Just(Statement::Shutdown),
        (prop::option::of(ident()), ident())
            .prop_map(|(schema, name)| Statement::TruncateTable { schema, name }),
        (prop::option::of(ident()), any::<bool>()).prop_map(|(channel, no_rollback_on_error)| {
            Statement::AlterInstanceReloadTls {
                channel,
                no_rollback_on_error,
            }
        }),
        ident().prop_map(Statement::Use),
        Just(Statement::Begin),
        Just(Statement::Commit),
        Just(Statement::Rollback),
        prop::sample::select(vec![
            "INSERT",
            "DESC",
            "CREATE TABLE",
            "DROP DATABASE",
            "ALTER TABLE",
            "RENAME TABLE",
            "SHOW CREATE TABLE",
            "FLUSH TABLES",
            "START SLAVE",
            "ALTER INSTANCE ROTATE",
            "ALTER INSTANCE RELOAD KEYRING",
            "SET TRANSACTION",
            "SET ROLE",
            "SET DEFAULT ROLE",
            "SET RESOURCE GROUP",
            "WITH",
        ])
        .prop_map(|verb| Statement::Other { verb: verb.into() }),
    ]
}

/// Keywords, operators and literals to build syntactically plausible garbage from.
const SOUP: &[&str] = &[
    "SELECT",
    "SET",
    "SHOW",
    "CREATE",
    "USER",
    "ALTER",
    "DROP",
    "GRANT",
    "REVOKE",
    "ALL",
    "PRIVILEGES",
    "ON",
    "TO",
    "FROM",
    "WHERE",
    "LIMIT",
    "OFFSET",
    "IDENTIFIED",
    "BY",
    "WITH",
    "AS",
    "REQUIRE",
    "SSL",
    "X509",
    "ISSUER",
    "SUBJECT",
    "CIPHER",
    "SAN",
    "AND",
    "OR",
    "XOR",
    "NOT",
    "NULL",
    "IS",
    "IN",
    "LIKE",
    "ESCAPE",
    "BETWEEN",
    "NAMES",
    "COLLATE",
    "CHARACTER",
    "CHARSET",
    "GLOBAL",
    "SESSION",
    "LOCAL",
    "PERSIST",
    "PASSWORD",
    "FOR",
    "CURRENT_USER",
    "INSTANCE",
    "RELOAD",
    "TLS",
    "CHANNEL",
    "NO",
    "ROLLBACK",
    "ERROR",
    "FLUSH",
    "STATUS",
    "VARIABLES",
    "GRANTS",
    "DATABASES",
    "WARNINGS",
    "USE",
    "BEGIN",
    "COMMIT",
    "START",
    "TRANSACTION",
    "ACCOUNT",
    "LOCK",
    "UNLOCK",
    "IF",
    "EXISTS",
    "RENAME",
    "DEFAULT",
    "DUAL",
    "DIV",
    "MOD",
    "TRUE",
    "FALSE",
    "INSERT",
    "TABLE",
    "OPTION",
    "ROLE",
    "(",
    ")",
    ",",
    ".",
    ";",
    "*",
    "=",
    ":=",
    "<=>",
    "<>",
    "!=",
    "<",
    ">=",
    "+",
    "-",
    "/",
    "%",
    "!",
    "~",
    "@",
    "@@",
    "'a'",
    "'%'",
    "\"b\"",
    "`c`",
    "1",
    "1.5",
    ".5",
    "1e3",
    "0x1F",
    "X'1F'",
    "@@session.x",
    "'u'@'h'",
    "u@h",
    "/*!",
    "*/",
    "/*",
    "-- ",
    "#",
    "\n",
    "x",
    "y",
    "_utf8mb4",
    "N'x'",
    "CONCAT",
    "VERSION",
    "USER()",
    "*.*",
    "db.*",
    "'\\'",
    "'",
    "`",
    "\\",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn generated_trees_round_trip(stmt in statement()) {
        let text = stmt.to_string();
        let reparsed = parse_statement(&text);
        prop_assert_eq!(reparsed.as_ref(), Ok(&stmt), "text: {}", text);
        // Canonical text is a fixed point.
        prop_assert_eq!(reparsed.map(|s| s.to_string()), Ok(text));
    }

    #[test]
    fn generated_statement_lists_round_trip(stmts in prop::collection::vec(statement(), 1..4)) {
        let text = stmts.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(";\n");
        prop_assert_eq!(parse_statements(&text), Ok(stmts));
    }

    #[test]
    fn arbitrary_text_never_panics(sql in "\\PC{0,64}") {
        fuzz_parse(sql.as_bytes());
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..64)) {
        fuzz_parse(&data);
    }

    #[test]
    fn keyword_soup_never_panics(
        words in prop::collection::vec(prop::sample::select(SOUP), 0..24),
        glue in prop::sample::select(vec![" ", "", "\n", "/**/"]),
    ) {
        fuzz_parse(words.join(glue).as_bytes());
    }

    #[test]
    fn nested_prefixes_and_parentheses_round_trip(
        openers in prop::collection::vec(
            prop::sample::select(vec!["-", "!", "NOT ", "+", "(", "(NOT ", "-(", "(SELECT ", "1 IN (SELECT ", "F(", "1 IN ("]),
            0..120,
        ),
        suffix in prop::sample::select(vec!["", " + 1", " = 1", " IS NULL", " AND 1"]),
    ) {
        let closers: String = openers.iter().rev().filter(|o| o.ends_with('(') || o.ends_with("SELECT ")).map(|_| ")").collect();
        let sql = format!("SELECT {}a{closers}{suffix}", openers.concat());
        fuzz_parse(sql.as_bytes());
    }

    #[test]
    fn mutated_statements_round_trip(
        stmt in statement(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0usize..4, prop::sample::select(SOUP)), 1..4),
    ) {
        // Near-valid input reaches the parser paths that canonical text never takes.
        let mut text = stmt.to_string();
        for (at, kind, fragment) in edits {
            let mut pos = at.index(text.len() + 1);
            while !text.is_char_boundary(pos) {
                pos -= 1;
            }
            match kind {
                0 => text.insert_str(pos, fragment),
                1 => text.insert_str(pos, &format!(" {fragment} ")),
                2 => {
                    let end = text[pos..].char_indices().nth(3).map_or(text.len(), |(i, _)| pos + i);
                    text.replace_range(pos..end, "");
                }
                _ => text = text.to_lowercase(),
            }
        }
        fuzz_parse(text.as_bytes());
    }

    #[test]
    fn error_offsets_are_in_bounds(sql in "\\PC{0,40}") {
        if let Err(e) = parse_statement(&sql) {
            prop_assert!(e.offset <= sql.len());
            prop_assert!(sql.is_char_boundary(e.offset));
            let newlines = sql.get(..e.offset).map_or(0, |s| s.matches('\n').count());
            prop_assert_eq!(e.line as usize, newlines + 1);
            prop_assert!(e.message(&sql).len() < 400);
        }
    }
}
