//! `examples/embed.rs` — Vestibule embedded in front of a toy engine — driven by the real
//! `mariadb` CLI: the caching_sha2_password full path over RSA on plain TCP, then the fast path
//! from the cache, mysql_native_password, a wrong password (1045) and a backend that refuses
//! an account at admission with its own error (1044).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// The example binary next to this test's executable (`cargo build --examples`, which the test
/// command runs first: `cargo test --tests` does not build examples).
fn example_path() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target dir");
    dir.join("examples").join("embed")
}

struct Example(Child, u16);

impl Example {
    fn start() -> Example {
        let mut child = Command::new(example_path())
            .arg("0")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("run target/…/examples/embed: build it with `cargo build --examples`");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("first line");
        let port = line
            .trim()
            .strip_prefix("listening on ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
        Example(child, port)
    }

    fn mariadb(&self, user: &str, pw: &str, sql: &str) -> std::process::Output {
        self.mariadb_with(user, pw, &["--skip-ssl"], sql)
    }

    fn mariadb_with(
        &self,
        user: &str,
        pw: &str,
        extra: &[&str],
        sql: &str,
    ) -> std::process::Output {
        let mut cmd = Command::new("mariadb");
        cmd.args([
            "-h127.0.0.1",
            &format!("-P{}", self.1),
            &format!("-u{user}"),
            &format!("-p{pw}"),
        ]);
        cmd.args(extra);
        cmd.args(["--batch", "--skip-column-names", "-e", sql]);
        let child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run mariadb (apt-get install mariadb-client)");
        child.wait_with_output().expect("mariadb output")
    }
}

impl Drop for Example {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn the_embedding_example_serves_the_mariadb_cli() {
    let ex = Example::start();
    // Cold: caching_sha2_password full authentication, the CLI fetching the RSA key.
    for _ in 0..2 {
        let out = ex.mariadb("app", "secret", "hello engine");
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert_eq!(text(&out.stdout), "app@%\tnone\thello engine\n");
    }
    let out = ex.mariadb("legacy", "old", "SELECT 1");
    assert_eq!(
        text(&out.stdout),
        "legacy@%\tnone\tSELECT 1\n",
        "{}",
        text(&out.stderr)
    );
    // TLS from the example's in-memory certificate.
    let out = ex.mariadb_with("app", "secret", &["--ssl"], "over TLS");
    assert_eq!(
        text(&out.stdout),
        "app@%\tTLSv1.3\tover TLS\n",
        "{}",
        text(&out.stderr)
    );

    let out = ex.mariadb("app", "wrong", "x");
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("ERROR 1045 (28000): Access denied for user 'app'@'localhost'"),
        "{}",
        text(&out.stderr)
    );
    let out = ex.mariadb("blocked", "secret", "x");
    assert!(
        text(&out.stderr)
            .contains("ERROR 1044 (42000): Access denied: this account is blocked here"),
        "{}",
        text(&out.stderr)
    );
}
