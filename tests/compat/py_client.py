"""Python driver of the compatibility matrix (tests/compat.rs): one process per client.

Usage: py_client.py CLIENT, with CLIENT one of pymysql, connector-cext, connector-pure, mysqlclient.
Reads a JSON list of cases on stdin and prints one JSON object: {"versions": {...}, "results": [...]}.

A case (built by tests/compat.rs, which also decides what a client cannot express):
  id, host, port, socket (Unix socket path or null), user, password,
  tls: "off" | "preferred" | "required" | "verify_ca" | "verify_identity",
  ca, cert, key (paths or null), tls_version ("TLSv1.2" / "TLSv1.3" or null: the only version
  allowed), cipher (a TLS 1.2 OpenSSL name or a TLS 1.3 IANA name, or null),
  server_public_key (path of the server's RSA public key, or null: ask the server),
  auth_plugin (the client's first plugin, or null: the client's default),
  change_user ({"user", "password"} or null: COM_CHANGE_USER after the login).
A result: {"id", "ok": true, "user", "ssl_version", "ssl_cipher"} read from the server
(CURRENT_USER(), SHOW SESSION STATUS), or {"id", "ok": false, "stage": "connect" | "change_user"
| "query", "code", "msg"}.
A missing module prints MISSING-MODULE <name> and exits with status 3.
"""

import json
import os
import sys
import tempfile

CLIENT = sys.argv[1] if len(sys.argv) > 1 else ""

# The connector's C extension bundles its own OpenSSL and must be loaded before anything imports
# `ssl` (else: "version `OPENSSL_3.2.0' not found"); see tests/interop/connector_client.py.
if CLIENT == "connector-cext":
    try:
        import _mysql_connector  # noqa: F401
    except ImportError as e:
        print(f"MISSING-MODULE _mysql_connector ({e})")
        sys.exit(3)

import ssl  # noqa: E402

QUERIES = [
    "SELECT CURRENT_USER()",
    "SHOW SESSION STATUS LIKE 'Ssl_version'",
    "SHOW SESSION STATUS LIKE 'Ssl_cipher'",
]


def text(v):
    if v is None:
        return None
    if isinstance(v, (bytes, bytearray)):
        return v.decode("utf-8", "replace")
    return str(v)


def summary(rows):
    """The three queries' rows -> the result fields."""
    user = text(rows[0][0][0]) if rows[0] else None
    version = text(rows[1][0][1]) if rows[1] else None
    cipher = text(rows[2][0][1]) if rows[2] else None
    return {"ok": True, "user": user, "ssl_version": version, "ssl_cipher": cipher}


# ---------------------------------------------------------------------------------------------
# PyMySQL: an ssl.SSLContext for every TLS mode (PyMySQL accepts one as `ssl`), `ssl_disabled`
# for none, no ssl argument for "preferred" (PyMySQL then uses TLS when the server offers it).
# ---------------------------------------------------------------------------------------------

TLS_VERSIONS = {"TLSv1.2": ssl.TLSVersion.TLSv1_2, "TLSv1.3": ssl.TLSVersion.TLSv1_3}


def pymysql_run(c):
    import pymysql

    kw = dict(user=c["user"], password=c["password"], connect_timeout=10, read_timeout=20)
    if c["socket"]:
        kw["unix_socket"] = c["socket"]
    else:
        kw.update(host=c["host"], port=c["port"])
    if c["tls"] == "off":
        kw["ssl_disabled"] = True
    elif c["tls"] != "preferred":
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        if c["tls"] in ("verify_ca", "verify_identity"):
            ctx.load_verify_locations(c["ca"])
            ctx.check_hostname = c["tls"] == "verify_identity"
            ctx.verify_mode = ssl.CERT_REQUIRED
        else:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        if c["cert"]:
            ctx.load_cert_chain(c["cert"], c["key"])
        if c["tls_version"]:
            ctx.minimum_version = ctx.maximum_version = TLS_VERSIONS[c["tls_version"]]
        if c["cipher"]:
            ctx.set_ciphers(c["cipher"])  # TLS 1.2 names only
        kw["ssl"] = ctx
    if c["server_public_key"]:
        with open(c["server_public_key"], "rb") as f:
            kw["server_public_key"] = f.read()
    if c["auth_plugin"] or c["change_user"]:
        raise SystemExit(f"case {c['id']}: PyMySQL cannot express it (tests/compat.rs decides)")

    def err(stage, e):
        code = e.args[0] if e.args else -1
        msg = e.args[1] if len(e.args) > 1 else str(e)
        return {"ok": False, "stage": stage, "code": code, "msg": str(msg)}

    try:
        conn = pymysql.connect(**kw)
    except pymysql.err.MySQLError as e:
        return err("connect", e)
    try:
        rows = []
        for q in QUERIES:
            with conn.cursor() as cur:
                cur.execute(q)
                rows.append(cur.fetchall())
        return summary(rows)
    except pymysql.err.MySQLError as e:
        return err("query", e)
    finally:
        conn.close()


# ---------------------------------------------------------------------------------------------
# mysql-connector-python, C extension or pure Python.
# ---------------------------------------------------------------------------------------------


def connector_run(c, pure):
    import mysql.connector

    kw = dict(user=c["user"], password=c["password"], use_pure=pure, connection_timeout=10)
    if c["socket"]:
        kw["unix_socket"] = c["socket"]
    else:
        kw.update(host=c["host"], port=c["port"])
    tls = c["tls"]
    if tls == "off":
        kw["ssl_disabled"] = True
    elif tls in ("verify_ca", "verify_identity"):
        kw.update(ssl_ca=c["ca"], ssl_verify_cert=True)
        if tls == "verify_identity":
            kw["ssl_verify_identity"] = True
    elif tls != "preferred":
        raise SystemExit(f"case {c['id']}: connector has no required-without-verification mode")
    if c["cert"]:
        kw.update(ssl_cert=c["cert"], ssl_key=c["key"])
    if c["tls_version"]:
        kw["tls_versions"] = [c["tls_version"]]
    if c["cipher"]:
        kw["tls_ciphersuites"] = [c["cipher"]]
    if c["auth_plugin"]:
        kw["auth_plugin"] = c["auth_plugin"]

    def err(stage, e):
        return {"ok": False, "stage": stage, "code": e.errno, "msg": str(e.msg)}

    try:
        conn = mysql.connector.connect(**kw)
    except mysql.connector.Error as e:
        return err("connect", e)
    want = "MySQLConnection" if pure else "CMySQLConnection"
    if type(conn).__name__ != want:
        raise SystemExit(f"wrong implementation {type(conn).__name__} (wanted {want})")
    try:
        if c["change_user"]:
            try:
                conn.cmd_change_user(
                    username=c["change_user"]["user"], password=c["change_user"]["password"]
                )
            except mysql.connector.Error as e:
                return err("change_user", e)
        rows = []
        for q in QUERIES:
            cur = conn.cursor()
            cur.execute(q)
            rows.append(cur.fetchall())
            cur.close()
        return summary(rows)
    except mysql.connector.Error as e:
        return err("query", e)
    finally:
        try:
            conn.close()
        except Exception:  # a failed COM_CHANGE_USER closes the connection
            pass


# ---------------------------------------------------------------------------------------------
# mysqlclient (MySQLdb on libmariadb). libmariadb has no MYSQL_OPT_SSL_MODE: mysqlclient maps
# ssl_mode REQUIRED to MYSQL_OPT_SSL_ENFORCE and VERIFY_CA / VERIFY_IDENTITY to
# MYSQL_OPT_SSL_VERIFY_SERVER_CERT (which also checks the host name). The TLS version is only
# reachable through an option file (`tls-version` in [client]).
# ---------------------------------------------------------------------------------------------


def mysqlclient_run(c):
    import MySQLdb

    kw = dict(user=c["user"], password=c["password"], connect_timeout=10)
    if c["socket"]:
        kw["unix_socket"] = c["socket"]
    else:
        kw.update(host=c["host"], port=c["port"])
    tls = c["tls"]
    if tls == "preferred":
        raise SystemExit(f"case {c['id']}: libmariadb has no preferred mode")
    kw["ssl_mode"] = {
        "off": "DISABLED",
        "required": "REQUIRED",
        "verify_ca": "VERIFY_CA",
        "verify_identity": "VERIFY_IDENTITY",
    }[tls]
    ssl_opts = {}
    if tls in ("verify_ca", "verify_identity"):
        ssl_opts["ca"] = c["ca"]
    if c["cert"]:
        ssl_opts.update(cert=c["cert"], key=c["key"])
    if c["cipher"]:
        ssl_opts["cipher"] = c["cipher"]
    if ssl_opts:
        kw["ssl"] = ssl_opts
    if c["server_public_key"]:
        kw["server_public_key_path"] = c["server_public_key"]
    if c["auth_plugin"]:
        kw["auth_plugin"] = c["auth_plugin"]
    option_file = None
    if c["tls_version"]:
        fd, option_file = tempfile.mkstemp(suffix=".cnf")
        with os.fdopen(fd, "w") as f:
            f.write(f"[client]\ntls-version={c['tls_version']}\n")
        kw["read_default_file"] = option_file

    def err(stage, e):
        code = e.args[0] if e.args else -1
        msg = e.args[1] if len(e.args) > 1 else str(e)
        return {"ok": False, "stage": stage, "code": code, "msg": str(msg)}

    try:
        try:
            conn = MySQLdb.connect(**kw)
        except MySQLdb.Error as e:
            return err("connect", e)
    finally:
        if option_file:
            os.unlink(option_file)
    try:
        if c["change_user"]:
            try:
                conn.change_user(c["change_user"]["user"], c["change_user"]["password"])
            except MySQLdb.Error as e:
                return err("change_user", e)
        rows = []
        for q in QUERIES:
            cur = conn.cursor()
            cur.execute(q)
            rows.append(cur.fetchall())
            cur.close()
        return summary(rows)
    except MySQLdb.Error as e:
        return err("query", e)
    finally:
        try:
            conn.close()
        except Exception:
            pass


def versions():
    from importlib.metadata import version

    v = {"python": sys.version.split()[0]}
    if CLIENT == "pymysql":
        v.update(PyMySQL=version("PyMySQL"), cryptography=version("cryptography"))
    elif CLIENT.startswith("connector"):
        v["mysql-connector-python"] = version("mysql-connector-python")
        if CLIENT == "connector-cext":
            import _mysql_connector

            v["libmysqlclient"] = _mysql_connector.MySQL().get_client_info()
    elif CLIENT == "mysqlclient":
        import MySQLdb

        v["mysqlclient"] = version("mysqlclient")
        v["libmariadb"] = MySQLdb.get_client_info()
    return v


def main():
    try:
        if CLIENT == "pymysql":
            import pymysql  # noqa: F401
            import cryptography  # noqa: F401

            run = pymysql_run
        elif CLIENT in ("connector-cext", "connector-pure"):
            import mysql.connector  # noqa: F401

            pure = CLIENT == "connector-pure"

            def run(c):
                return connector_run(c, pure)

        elif CLIENT == "mysqlclient":
            import MySQLdb  # noqa: F401

            run = mysqlclient_run
        else:
            raise SystemExit(f"unknown client {CLIENT!r}")
    except ImportError as e:
        print(f"MISSING-MODULE {e.name}")
        sys.exit(3)
    cases = json.load(sys.stdin)
    results = []
    for c in cases:
        try:
            r = run(c)
        except SystemExit:
            raise
        except Exception as e:
            # Raised outside the library's own error classes: e.g. an SSLContext the ssl module
            # refuses to build, or connector 26.10's C-extension error path failing on an error
            # without a message (AttributeError 'msg' while handling MySQLInterfaceError): then
            # the original error's code is reported.
            inner = e.__context__ if getattr(e.__context__, "errno", None) is not None else e
            code = getattr(inner, "errno", None) or type(inner).__name__
            r = {"ok": False, "stage": "connect", "code": code, "msg": f"{type(e).__name__}: {e}"}
        r["id"] = c["id"]
        results.append(r)
    print(json.dumps({"versions": versions(), "results": results}))


if __name__ == "__main__":
    main()
