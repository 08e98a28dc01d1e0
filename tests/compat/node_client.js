// node mysql2 driver of the compatibility matrix (tests/compat.rs); the case and result formats
// are those of py_client.py beside this file. Reads a JSON list of cases on stdin, prints one
// JSON object {"versions": {...}, "results": [...]}.
'use strict';

const fs = require('fs');
const mysql = require('mysql2/promise');
const { authPlugins } = require('mysql2');

const QUERIES = [
  'SELECT CURRENT_USER()',
  "SHOW SESSION STATUS LIKE 'Ssl_version'",
  "SHOW SESSION STATUS LIKE 'Ssl_cipher'",
];

function options(c) {
  const o = {
    user: c.user,
    password: c.password,
    connectTimeout: 10000,
    rowsAsArray: true,
  };
  if (c.socket) {
    o.socketPath = c.socket;
  } else {
    o.host = c.host;
    o.port = c.port;
  }
  // mysql2 uses TLS exactly when `ssl` is given, and then requires it.
  if (c.tls !== 'off') {
    if (c.tls === 'preferred') throw new Error('mysql2 has no preferred mode');
    const ssl = { rejectUnauthorized: c.tls !== 'required' };
    if (c.tls === 'verify_ca' || c.tls === 'verify_identity') {
      ssl.ca = fs.readFileSync(c.ca);
    }
    // Checks the certificate against `host` (a DNS name: mysql2 skips the check for an IP).
    if (c.tls === 'verify_identity') ssl.verifyIdentity = true;
    if (c.cert) {
      ssl.cert = fs.readFileSync(c.cert);
      ssl.key = fs.readFileSync(c.key);
    }
    if (c.tls_version) {
      ssl.minVersion = c.tls_version;
      ssl.maxVersion = c.tls_version;
    }
    if (c.cipher) ssl.ciphers = c.cipher;
    o.ssl = ssl;
  }
  if (c.server_public_key) {
    o.authPlugins = {
      caching_sha2_password: authPlugins.caching_sha2_password({
        serverPublicKey: fs.readFileSync(c.server_public_key),
      }),
    };
  }
  if (c.auth_plugin) throw new Error('mysql2 cannot choose its first plugin');
  return o;
}

function failure(stage, e) {
  // Server errors carry a numeric errno; TLS and socket errors only a string code.
  const code = typeof e.errno === 'number' && e.sqlState ? e.errno : e.code || String(e);
  return { ok: false, stage, code, msg: String(e.sqlMessage || e.message) };
}

async function runCase(c) {
  let conn;
  try {
    conn = await mysql.createConnection(options(c));
  } catch (e) {
    return failure('connect', e);
  }
  try {
    if (c.change_user) {
      try {
        await conn.changeUser({
          user: c.change_user.user,
          password: c.change_user.password,
        });
      } catch (e) {
        return failure('change_user', e);
      }
    }
    const rows = [];
    for (const q of QUERIES) {
      const [r] = await conn.query(q);
      rows.push(r);
    }
    const cell = (r, i) => (r.length ? String(r[0][i]) : null);
    return {
      ok: true,
      user: cell(rows[0], 0),
      ssl_version: cell(rows[1], 1),
      ssl_cipher: cell(rows[2], 1),
    };
  } catch (e) {
    return failure('query', e);
  } finally {
    conn.destroy();
  }
}

async function main() {
  const cases = JSON.parse(fs.readFileSync(0, 'utf8'));
  const results = [];
  for (const c of cases) {
    const r = await runCase(c);
    r.id = c.id;
    results.push(r);
  }
  const versions = {
    mysql2: require('mysql2/package.json').version,
    node: process.versions.node,
  };
  process.stdout.write(JSON.stringify({ versions, results }) + '\n');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
