"""Python clients of the proxy-mode test (tests/proxy.rs): PyMySQL and mysql-connector-python
(C extension or pure Python), one process per run.

Usage: py_suite.py CLIENT ACTION, CLIENT one of pymysql, connector-cext, connector-pure; ACTION
`suite` (every client) or `change_user` (the connector only). Reads one JSON object on stdin:
  host, port (TCP) or socket (Unix socket path), user, password,
  tls: null (plain) or {"ca": PATH} (TLS required, CA and host name verified),
  table: a table-name prefix of this run (tables are made in database `test`),
  blob_len: the BLOB's length in bytes,
  change_to: [[user, password], ...] (change_user only).
Prints one JSON object (the format is documented in tests/proxy.rs, `Suite` and `ChangeUser`).
A missing module prints MISSING-MODULE <name> and exits with status 3.
"""

import sys

CLIENT = sys.argv[1] if len(sys.argv) > 1 else ""
ACTION = sys.argv[2] if len(sys.argv) > 2 else ""

# The connector's C extension bundles its own OpenSSL and must be loaded before anything imports
# `ssl` or `hashlib` (else: "version `OPENSSL_3.2.0' not found"); see tests/interop/connector_client.py.
if CLIENT == "connector-cext":
    try:
        import _mysql_connector  # noqa: F401
    except ImportError as e:
        print(f"MISSING-MODULE _mysql_connector ({e})")
        sys.exit(3)

import hashlib  # noqa: E402  (after the C extension: hashlib loads the system libcrypto)
import json  # noqa: E402

try:
    if CLIENT == "pymysql":
        import pymysql
        import pymysql.err
        from pymysql.constants import CLIENT as PYCLIENT
    elif CLIENT in ("connector-cext", "connector-pure"):
        import mysql.connector
    else:
        raise SystemExit(f"unknown client {CLIENT!r}")
except ImportError as e:
    print(f"MISSING-MODULE {e.name}")
    sys.exit(3)


def text(v):
    if v is None:
        return None
    if isinstance(v, (bytes, bytearray)):
        return v.decode("utf-8", "replace")
    return str(v)


def rows_text(rows):
    return [[text(v) for v in r] for r in rows]


def blob(n):
    """Every byte value in turn (NUL, quote and backslash included), n bytes."""
    pattern = bytes(range(256))
    return (pattern * (n // 256 + 1))[:n]


# ---------------------------------------------------------------------------------------------
# PyMySQL. Its exceptions drop the SQLSTATE of the ERR packet: the packet is read here first.
# ---------------------------------------------------------------------------------------------

LAST_SQLSTATE = [None]

if CLIENT == "pymysql":
    _raise = pymysql.err.raise_mysql_exception

    def _raise_keeping_state(data):
        LAST_SQLSTATE[0] = data[4:9].decode("ascii") if data[3:4] == b"#" else None
        return _raise(data)

    pymysql.err.raise_mysql_exception = _raise_keeping_state


def py_connect(c):
    kw = dict(
        user=c["user"],
        password=c["password"],
        connect_timeout=10,
        read_timeout=60,
        autocommit=True,
        max_allowed_packet=64 << 20,
        binary_prefix=True,
        client_flag=PYCLIENT.MULTI_STATEMENTS,
        local_infile=bool(c.get("local_infile")),
    )
    if c.get("socket"):
        kw["unix_socket"] = c["socket"]
    else:
        kw.update(host=c["host"], port=c["port"])
    if c.get("tls"):
        kw.update(ssl_ca=c["tls"]["ca"], ssl_verify_cert=True, ssl_verify_identity=True)
    else:
        kw["ssl_disabled"] = True
    return pymysql.connect(**kw)


def py_error(e):
    return {
        "code": e.args[0] if e.args else None,
        "sqlstate": LAST_SQLSTATE[0],
        "msg": str(e.args[1]) if len(e.args) > 1 else str(e),
    }


class PyRunner:
    name = "PyMySQL"
    Error = None

    def __init__(self, c):
        self.Error = pymysql.err.MySQLError
        self.conn = py_connect(c)

    def greeting_id(self):
        return self.conn.thread_id()

    def query(self, sql):
        with self.conn.cursor() as cur:
            cur.execute(sql)
            return rows_text(cur.fetchall())

    def query_params(self, sql, params):
        with self.conn.cursor() as cur:
            cur.execute(sql, params)
            return list(cur.fetchall())

    def prepared(self, t):
        # No binary protocol in PyMySQL: the same statements prepared with SQL.
        self.query(f"PREPARE ins FROM 'INSERT INTO test.{t} VALUES (?, ?)'")
        self.query("SET @id = 4, @v = 'four'")
        self.query("EXECUTE ins USING @id, @v")
        self.query(f"PREPARE sel FROM 'SELECT id, v FROM test.{t} WHERE id >= ? ORDER BY id'")
        self.query("SET @min = 2")
        rows = self.query("EXECUTE sel USING @min")
        self.query("DEALLOCATE PREPARE ins")
        self.query("DEALLOCATE PREPARE sel")
        return {"kind": "sql", "rows": rows}

    def insert_blob(self, t, data):
        with self.conn.cursor() as cur:
            cur.execute(f"INSERT INTO test.{t} VALUES (1, %s)", (data,))

    def multi(self, sql):
        sets = []
        with self.conn.cursor() as cur:
            cur.execute(sql)
            while True:
                sets.append(rows_text(cur.fetchall()))
                if not cur.nextset():
                    break
        return sets

    def error(self, e):
        return py_error(e)

    def close(self):
        self.conn.close()


# ---------------------------------------------------------------------------------------------
# mysql-connector-python
# ---------------------------------------------------------------------------------------------


def cx_connect(c, pure):
    kw = dict(
        user=c["user"],
        password=c["password"],
        use_pure=pure,
        connection_timeout=10,
        autocommit=True,
    )
    if c.get("socket"):
        kw["unix_socket"] = c["socket"]
    else:
        kw.update(host=c["host"], port=c["port"])
    if c.get("tls"):
        kw.update(ssl_ca=c["tls"]["ca"], ssl_verify_cert=True, ssl_verify_identity=True)
    else:
        kw["ssl_disabled"] = True
    conn = mysql.connector.connect(**kw)
    want = "MySQLConnection" if pure else "CMySQLConnection"
    if type(conn).__name__ != want:
        raise SystemExit(f"wrong implementation {type(conn).__name__} (wanted {want})")
    return conn


class CxRunner:
    def __init__(self, c, pure):
        self.name = "connector " + ("pure" if pure else "C ext")
        self.Error = mysql.connector.Error
        self.conn = cx_connect(c, pure)

    def greeting_id(self):
        return self.conn.connection_id

    def query(self, sql):
        cur = self.conn.cursor()
        try:
            cur.execute(sql)
            return rows_text(cur.fetchall()) if cur.with_rows else []
        finally:
            cur.close()

    def query_params(self, sql, params):
        cur = self.conn.cursor()
        try:
            cur.execute(sql, params)
            return list(cur.fetchall())
        finally:
            cur.close()

    def prepared(self, t):
        # The binary protocol: COM_STMT_PREPARE / COM_STMT_EXECUTE.
        cur = self.conn.cursor(prepared=True)
        try:
            cur.execute(f"INSERT INTO test.{t} VALUES (?, ?)", (4, "four"))
            cur.execute(f"SELECT id, v FROM test.{t} WHERE id >= ? ORDER BY id", (2,))
            rows = rows_text(cur.fetchall())
        finally:
            cur.close()
        return {"kind": "binary", "rows": rows}

    def insert_blob(self, t, data):
        cur = self.conn.cursor(prepared=True)
        try:
            cur.execute(f"INSERT INTO test.{t} VALUES (?, ?)", (1, data))
        finally:
            cur.close()

    def multi(self, sql):
        cur = self.conn.cursor()
        try:
            cur.execute(sql)
            sets = [rows_text(cur.fetchall())]
            while cur.nextset():
                sets.append(rows_text(cur.fetchall()))
            return sets
        finally:
            cur.close()

    def error(self, e):
        return {"code": e.errno, "sqlstate": e.sqlstate, "msg": str(e.msg)}

    def close(self):
        self.conn.close()


def runner(c):
    if CLIENT == "pymysql":
        return PyRunner(c)
    return CxRunner(c, CLIENT == "connector-pure")


def connect_error(e):
    if CLIENT == "pymysql":
        return py_error(e)
    return {"code": e.errno, "sqlstate": e.sqlstate, "msg": str(e.msg)}


def connect_errors():
    return pymysql.err.MySQLError if CLIENT == "pymysql" else mysql.connector.Error


# ---------------------------------------------------------------------------------------------
# The suite (the same steps as the other clients; tests/proxy.rs checks the values)
# ---------------------------------------------------------------------------------------------


def suite(c):
    try:
        r = runner(c)
    except connect_errors() as e:
        return {"connect_error": connect_error(e)}
    t = c["table"]
    out = {}
    out["conn_id"] = r.query("SELECT CONNECTION_ID()")[0][0]
    out["greeting_id"] = str(r.greeting_id())
    out["who"] = r.query("SELECT CURRENT_USER(), USER()")[0]
    out["ssl_version"] = r.query("SHOW SESSION STATUS LIKE 'Ssl_version'")[0][1]
    r.query(f"DROP TABLE IF EXISTS test.{t}, test.{t}_blob")
    r.query(f"CREATE TABLE test.{t} (id INT PRIMARY KEY, v VARCHAR(20)) ENGINE=InnoDB")
    r.query(f"INSERT INTO test.{t} VALUES (1, 'one'), (2, 'two')")
    out["rows"] = r.query(f"SELECT id, v FROM test.{t} ORDER BY id")
    r.query("START TRANSACTION")
    r.query(f"INSERT INTO test.{t} VALUES (3, 'three')")
    inside = r.query(f"SELECT COUNT(*) FROM test.{t}")[0][0]
    r.query("ROLLBACK")
    out["txn"] = {"inside": inside, "after": r.query(f"SELECT id, v FROM test.{t} ORDER BY id")}
    out["prepared"] = r.prepared(t)

    n = c["blob_len"]
    data = blob(n)
    r.query(f"CREATE TABLE test.{t}_blob (id INT PRIMARY KEY, data LONGBLOB) ENGINE=InnoDB")
    r.insert_blob(f"{t}_blob", data)
    server = r.query(f"SELECT LENGTH(data), SHA2(data, 256) FROM test.{t}_blob WHERE id = 1")[0]
    fetched = r.query_params(f"SELECT data FROM test.{t}_blob WHERE id = %s", (1,))[0][0]
    fetched = bytes(fetched)
    out["blob"] = {
        "server_len": server[0],
        "server_sha": server[1],
        "fetched_len": str(len(fetched)),
        "fetched_sha": hashlib.sha256(fetched).hexdigest(),
    }
    del data, fetched
    r.query(f"DROP TABLE test.{t}_blob")

    out["multi"] = r.multi("SELECT 1; SELECT 2")
    errors = {}
    for key, sql in (("missing_table", "SELECT * FROM test.no_such_table"), ("syntax", "SELEC 1")):
        try:
            r.query(sql)
            errors[key] = None
        except r.Error as e:
            errors[key] = r.error(e)
    out["errors"] = errors
    out["after_errors"] = r.query("SELECT 'still here'")
    r.close()
    return out


def change_user(c):
    """COM_CHANGE_USER through cmd_change_user (connector only), to each account in turn."""
    if CLIENT == "pymysql":
        raise SystemExit("PyMySQL has no COM_CHANGE_USER")
    try:
        r = runner(c)
    except connect_errors() as e:
        return {"connect_error": connect_error(e)}
    steps = []
    r.query("SET @marker = 'before'")
    steps.append({"who": r.query("SELECT CURRENT_USER(), @marker")[0]})
    for user, password in c["change_to"]:
        try:
            r.conn.cmd_change_user(username=user, password=password)
        except r.Error as e:
            steps.append({"error": r.error(e)})
            break
        step = {"who": r.query("SELECT CURRENT_USER(), @marker")[0]}
        step["rows"] = r.query(f"SELECT id, v FROM test.{c['table']} ORDER BY id")
        r.query("SET @marker = 'set'")
        steps.append(step)
    try:
        r.close()
    except Exception:
        pass
    return {"steps": steps}


def local_infile(c):
    """LOAD DATA LOCAL INFILE with the client willing (PyMySQL local_infile=True)."""
    if CLIENT != "pymysql":
        raise SystemExit("local_infile is a PyMySQL action")
    r = runner(c)
    t = c["table"]
    out = {}
    try:
        r.query(
            f"LOAD DATA LOCAL INFILE '{c['file']}' INTO TABLE test.{t} FIELDS TERMINATED BY ','"
        )
        out["load"] = None
    except r.Error as e:
        out["load"] = r.error(e)
    out["count"] = r.query(f"SELECT COUNT(*) FROM test.{t}")[0][0]
    r.close()
    return out


def main():
    c = json.load(sys.stdin)
    action = {"suite": suite, "change_user": change_user, "local_infile": local_infile}.get(ACTION)
    if action is None:
        raise SystemExit(f"unknown action {ACTION!r}")
    print(json.dumps(action(c)))


if __name__ == "__main__":
    main()
