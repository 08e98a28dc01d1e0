"""mysql-connector-python driver for the interop suite (tests/interop.rs).

--impl cext uses the C extension (libmysqlclient inside), --impl pure the pure-Python protocol; the
script fails if the requested implementation is not the one actually in use.
Connects once, then runs each positional argument on that connection. Output lines:
  result rows                  values joined by TAB, NULL for None
  a failed statement           ERROR <errno> (<sqlstate>): <message>
  "!thread_id"                 the connection id from the greeting
  "!change_user USER PASSWORD" COM_CHANGE_USER via cmd_change_user; prints CHANGED, or
                               CHANGE ERROR <errno> (<sqlstate>): <message>
  "!impl"                      the connection class name
  a failed connect             CONNECT ERROR <errno> (<sqlstate>): <message>   and exit status 1
A missing module prints MISSING-MODULE <name> and exits with status 3.
"""

import sys

# The C extension bundles its own OpenSSL and must be loaded before anything imports `ssl`
# (else: "version `OPENSSL_3.2.0' not found"). Loaded only when asked for, so that pure mode
# does not depend on it.
if "--impl" in sys.argv and sys.argv[sys.argv.index("--impl") + 1:][:1] == ["cext"]:
    try:
        import _mysql_connector  # noqa: F401
    except ImportError as e:
        print(f"MISSING-MODULE _mysql_connector ({e})")
        sys.exit(3)

try:
    import mysql.connector
except ImportError as e:
    print(f"MISSING-MODULE {e.name}")
    sys.exit(3)

import argparse  # noqa: E402


def fmt(value):
    if value is None:
        return "NULL"
    if isinstance(value, (bytes, bytearray)):
        return value.decode("utf-8", "replace")
    return str(value)


def err_line(prefix, e):
    return f"{prefix} {e.errno} ({e.sqlstate}): {e.msg}"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--impl", choices=["cext", "pure"], required=True)
    p.add_argument("--mode", choices=["tls", "plain"], required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=3306)
    p.add_argument("--ca")
    p.add_argument("--user", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("statements", nargs="*")
    a = p.parse_args()

    kwargs = dict(
        host=a.host,
        port=a.port,
        user=a.user,
        password=a.password,
        use_pure=(a.impl == "pure"),
        connection_timeout=10,
    )
    if a.mode == "tls":
        kwargs.update(ssl_ca=a.ca, ssl_verify_cert=True, ssl_verify_identity=True)
    else:
        kwargs.update(ssl_disabled=True)

    try:
        conn = mysql.connector.connect(**kwargs)
    except mysql.connector.Error as e:
        print(err_line("CONNECT ERROR", e))
        sys.exit(1)

    want = "CMySQLConnection" if a.impl == "cext" else "MySQLConnection"
    if type(conn).__name__ != want:
        print(f"WRONG-IMPL {type(conn).__name__} (wanted {want})")
        sys.exit(4)

    for stmt in a.statements:
        if stmt == "!thread_id":
            print(conn.connection_id)
            continue
        if stmt == "!impl":
            print(type(conn).__name__)
            continue
        if stmt.startswith("!change_user "):
            _, user, password = stmt.split(" ", 2)
            try:
                conn.cmd_change_user(username=user, password=password)
                print("CHANGED")
            except mysql.connector.Error as e:
                print(err_line("CHANGE ERROR", e))
            continue
        try:
            cur = conn.cursor()
            cur.execute(stmt)
            if cur.with_rows:
                for row in cur.fetchall():
                    print("\t".join(fmt(v) for v in row))
            cur.close()
        except mysql.connector.Error as e:
            print(err_line("ERROR", e))
    conn.close()


if __name__ == "__main__":
    main()
