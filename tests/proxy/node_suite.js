// node mysql2 client of the proxy-mode test (tests/proxy.rs): the same suite as py_suite.py
// beside this file (the input and output formats are documented there and in tests/proxy.rs).
// mysql2 comes from tests/compat/node_modules (installed by scripts/test.sh).
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const mysql = require(path.join(__dirname, '..', 'compat', 'node_modules', 'mysql2', 'promise'));

function text(v) {
  if (v === null || v === undefined) return null;
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  return String(v);
}

const rowsText = (rows) => rows.map((r) => r.map(text));

function blob(n) {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = i & 0xff;
  return b;
}

function error(e) {
  return { code: e.errno, sqlstate: e.sqlState, msg: String(e.sqlMessage) };
}

async function connect(c) {
  const o = {
    user: c.user,
    password: c.password,
    connectTimeout: 10000,
    rowsAsArray: true,
    multipleStatements: true,
    // Numbers and BLOBs as the server sent them.
    supportBigNumbers: true,
    bigNumberStrings: true,
  };
  if (c.socket) {
    o.socketPath = c.socket;
  } else {
    o.host = c.host;
    o.port = c.port;
  }
  if (c.tls) {
    // mysql2 checks the certificate against `host` only with verifyIdentity.
    o.ssl = { ca: fs.readFileSync(c.tls.ca), rejectUnauthorized: true, verifyIdentity: true };
  }
  return mysql.createConnection(o);
}

async function suite(c) {
  let conn;
  try {
    conn = await connect(c);
  } catch (e) {
    return { connect_error: error(e) };
  }
  const t = c.table;
  const q = async (sql) => rowsText((await conn.query(sql))[0]);
  const out = {};
  out.conn_id = (await q('SELECT CONNECTION_ID()'))[0][0];
  out.greeting_id = String(conn.connection.threadId);
  out.who = (await q('SELECT CURRENT_USER(), USER()'))[0];
  out.ssl_version = (await q("SHOW SESSION STATUS LIKE 'Ssl_version'"))[0][1];
  await conn.query(`DROP TABLE IF EXISTS test.${t}, test.${t}_blob`);
  await conn.query(`CREATE TABLE test.${t} (id INT PRIMARY KEY, v VARCHAR(20)) ENGINE=InnoDB`);
  await conn.query(`INSERT INTO test.${t} VALUES (1, 'one'), (2, 'two')`);
  out.rows = await q(`SELECT id, v FROM test.${t} ORDER BY id`);
  await conn.query('START TRANSACTION');
  await conn.query(`INSERT INTO test.${t} VALUES (3, 'three')`);
  const inside = (await q(`SELECT COUNT(*) FROM test.${t}`))[0][0];
  await conn.query('ROLLBACK');
  out.txn = { inside, after: await q(`SELECT id, v FROM test.${t} ORDER BY id`) };

  // The binary protocol: execute() prepares (COM_STMT_PREPARE) and executes.
  await conn.execute(`INSERT INTO test.${t} VALUES (?, ?)`, [4, 'four']);
  const [prows] = await conn.execute(`SELECT id, v FROM test.${t} WHERE id >= ? ORDER BY id`, [2]);
  out.prepared = { kind: 'binary', rows: rowsText(prows) };

  const data = blob(c.blob_len);
  await conn.query(`CREATE TABLE test.${t}_blob (id INT PRIMARY KEY, data LONGBLOB) ENGINE=InnoDB`);
  await conn.execute(`INSERT INTO test.${t}_blob VALUES (?, ?)`, [1, data]);
  const server = (await q(`SELECT LENGTH(data), SHA2(data, 256) FROM test.${t}_blob WHERE id = 1`))[0];
  const [frows] = await conn.execute(`SELECT data FROM test.${t}_blob WHERE id = ?`, [1]);
  const fetched = frows[0][0];
  out.blob = {
    server_len: server[0],
    server_sha: server[1],
    fetched_len: String(fetched.length),
    fetched_sha: crypto.createHash('sha256').update(fetched).digest('hex'),
  };
  await conn.query(`DROP TABLE test.${t}_blob`);

  const [sets] = await conn.query('SELECT 1; SELECT 2');
  out.multi = sets.map(rowsText);

  out.errors = {};
  for (const [key, sql] of [
    ['missing_table', 'SELECT * FROM test.no_such_table'],
    ['syntax', 'SELEC 1'],
  ]) {
    try {
      await conn.query(sql);
      out.errors[key] = null;
    } catch (e) {
      if (typeof e.errno !== 'number') throw e;
      out.errors[key] = error(e);
    }
  }
  out.after_errors = await q("SELECT 'still here'");
  await conn.end();
  return out;
}

async function main() {
  const c = JSON.parse(fs.readFileSync(0, 'utf8'));
  const action = process.argv[2];
  if (action !== 'suite') throw new Error(`unknown action ${action}`);
  process.stdout.write(JSON.stringify(await suite(c)) + '\n');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
