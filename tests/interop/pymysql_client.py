"""PyMySQL driver for the interop suites (tests/interop*.rs).

Connects once with the requested transport, then runs each positional argument on that same
connection. Output, one line each, which the Rust test compares exactly:
  result rows            values joined by TAB, NULL for None
  a failed statement     ERROR <errno>: <message>      (the connection is kept; later statements run)
  "!thread_id"           the connection id from the greeting (PyMySQL's thread_id())
  a failed connect       CONNECT ERROR <errno>: <message>   and exit status 1
A missing module prints MISSING-MODULE <name> and exits with status 3 (the Rust test then fails).
"""

import argparse
import sys

try:
    import pymysql
    import cryptography  # noqa: F401  (PyMySQL's RSA path for caching_sha2_password needs it)
except ImportError as e:  # pragma: no cover - reported to the Rust side
    print(f"MISSING-MODULE {e.name}")
    sys.exit(3)


def fmt(value):
    if value is None:
        return "NULL"
    if isinstance(value, (bytes, bytearray)):
        return value.decode("utf-8", "replace")
    return str(value)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--mode", choices=["tls", "plain", "socket"], required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=3306)
    p.add_argument("--socket")
    p.add_argument("--ca")
    p.add_argument("--user", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--database")
    p.add_argument("--ssl-cert", help="client certificate (PEM), with --ssl-key")
    p.add_argument("--ssl-key")
    p.add_argument("--server-public-key", help="file with the server's RSA public key (PEM)")
    p.add_argument("statements", nargs="*")
    a = p.parse_args()

    kwargs = dict(user=a.user, password=a.password, connect_timeout=10, read_timeout=20)
    if a.database:
        kwargs["database"] = a.database
    if a.mode == "tls":
        # TLS required, CA verified, host name (IP SAN) verified.
        kwargs.update(host=a.host, port=a.port, ssl_ca=a.ca, ssl_verify_cert=True, ssl_verify_identity=True)
    elif a.mode == "plain":
        kwargs.update(host=a.host, port=a.port, ssl_disabled=True)
    else:
        # Without ssl_disabled, PyMySQL (2.2 here) starts TLS whenever the server offers it, also
        # on the socket.
        kwargs.update(unix_socket=a.socket, ssl_disabled=True)
    if a.ssl_cert:
        kwargs.update(ssl_cert=a.ssl_cert, ssl_key=a.ssl_key)
    if a.server_public_key:
        with open(a.server_public_key, "rb") as f:
            kwargs["server_public_key"] = f.read()

    try:
        conn = pymysql.connect(**kwargs)
    except pymysql.err.MySQLError as e:
        errno = e.args[0] if e.args else -1
        msg = e.args[1] if len(e.args) > 1 else str(e)
        print(f"CONNECT ERROR {errno}: {msg}")
        sys.exit(1)

    for stmt in a.statements:
        if stmt == "!thread_id":
            print(conn.thread_id())
            continue
        try:
            with conn.cursor() as cur:
                cur.execute(stmt)
                for row in cur.fetchall():
                    print("\t".join(fmt(v) for v in row))
        except pymysql.err.MySQLError as e:
            errno = e.args[0] if e.args else -1
            msg = e.args[1] if len(e.args) > 1 else str(e)
            print(f"ERROR {errno}: {msg}")
    conn.close()


if __name__ == "__main__":
    main()
