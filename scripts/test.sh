#!/usr/bin/env bash
# Runs every test Vestibule has: unit, property, snapshot, corpus-replay and interop tests (the
# interop suite starts the real server binary and drives the real mariadb CLI, PyMySQL and
# mysql-connector-python; the compatibility matrix, tests/compat.rs, adds mysqlclient, node mysql2,
# mysql_async and sqlx and writes docs/compatibility.md). Installs what it needs first, including
# mariadb-server for the tests that start private MariaDB servers. Ends with cargo test's own
# summary.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_INCREMENTAL=0 CARGO_TERM_COLOR=never

need_apt=()
command -v mariadb >/dev/null 2>&1 || need_apt+=(mariadb-client)
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
# mysqlclient builds against libmariadb (pkg-config finds it); node and npm run mysql2.
dpkg -s libmariadb-dev >/dev/null 2>&1 || need_apt+=(libmariadb-dev)
command -v pkg-config >/dev/null 2>&1 || need_apt+=(pkg-config)
command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
# sysbench (oltp_read_only) for the proxy bench's steady-query part (benches/proxy.rs).
command -v sysbench >/dev/null 2>&1 || need_apt+=(sysbench)
# A real MariaDB server for the tests that need one (tests/common/mariadb.rs starts private
# instances in temporary dirs on free ports; Debian puts mariadbd in /usr/sbin). Installed
# without recommends (Perl CGI modules, compression plugins), and its own service is kept from
# starting: no test uses it, nor port 3306.
need_server=()
command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] || need_server+=(mariadb-server)
if [ $((${#need_apt[@]} + ${#need_server[@]})) -gt 0 ]; then
  echo "== installing Debian packages: ${need_apt[*]} ${need_server[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  if [ ${#need_apt[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
  fi
  if [ ${#need_server[@]} -gt 0 ]; then
    # invoke-rc.d starts no service while /usr/sbin/policy-rc.d exits 101 (Debian's
    # policy-rc.d interface: README.policy-rc.d of init-system-helpers); container images often
    # have one.
    policy=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      policy=/usr/sbin/policy-rc.d
      printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null && $SUDO chmod 755 "$policy"
    fi
    rc=0
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
      "${need_server[@]}" >/tmp/vestibule-apt-server.log 2>&1 || rc=$?
    [ -z "$policy" ] || $SUDO rm -f "$policy"
    if [ "$rc" -ne 0 ]; then
      cat /tmp/vestibule-apt-server.log >&2; echo "apt-get install mariadb-server failed" >&2; exit 1
    fi
  fi
fi
# The Python clients, pinned (tests/compat/requirements.txt) so docs/compatibility.md is the same
# on every machine; pip leaves satisfied pins alone.
if ! python3 -m pip install -q --disable-pip-version-check -r tests/compat/requirements.txt \
    >/tmp/vestibule-pip.log 2>&1; then
  cat /tmp/vestibule-pip.log >&2; echo "pip install failed" >&2; exit 1
fi
# node mysql2 at the version in tests/compat/package-lock.json.
want_mysql2=$(sed -n 's/.*"mysql2": "\(.*\)".*/\1/p' tests/compat/package.json)
have_mysql2=$(node -p 'require("./tests/compat/node_modules/mysql2/package.json").version' 2>/dev/null || true)
if [ "$want_mysql2" != "$have_mysql2" ]; then
  echo "== installing node packages (npm ci in tests/compat)"
  (cd tests/compat && npm ci --no-audit --no-fund --loglevel=error)
fi

echo "== purity: the core builds without the server feature"
cargo check -q --lib --no-default-features
echo "== one crypto provider: ring must not be in the graph"
if cargo tree -q -e normal,build -i ring 2>/dev/null | grep -q ring; then
  echo "ring is in the dependency graph" >&2; exit 1
fi
echo "== fuzz targets compile (stable)"
cargo build -q --manifest-path fuzz/Cargo.toml --bins
# A short run of every fuzz target when cargo-fuzz is installed (`cargo install cargo-fuzz`);
# VESTIBULE_FUZZ_SECONDS=0 skips it. Each run works on a copy of the committed corpus.
VESTIBULE_FUZZ_SECONDS=${VESTIBULE_FUZZ_SECONDS:-5}
if command -v cargo-fuzz >/dev/null 2>&1 && [ "$VESTIBULE_FUZZ_SECONDS" -gt 0 ]; then
  for t in $(cargo fuzz list --fuzz-dir fuzz 2>/dev/null); do
    echo "== fuzzing $t for ${VESTIBULE_FUZZ_SECONDS}s"
    work=$(mktemp -d); cp -r "fuzz/corpus/$t/." "$work/" 2>/dev/null || true
    if ! cargo fuzz run --fuzz-dir fuzz -s none "$t" "$work" -- -max_total_time="$VESTIBULE_FUZZ_SECONDS" \
        -rss_limit_mb=2048 >"$work.log" 2>&1; then
      tail -40 "$work.log" >&2; echo "fuzz target $t failed" >&2; exit 1
    fi
    grep -E '^#[0-9]+.*(DONE|cov:)' "$work.log" | tail -1 || true
  done
fi
echo "== benches, once each as smoke tests"
cargo test -q --benches 2>&1 | tail -3
echo "== examples (tests/embed_example.rs runs examples/embed against the mariadb CLI)"
cargo build -q --examples
echo "== documentation examples (rustdoc)"
cargo test -q --doc 2>&1 | tail -3
echo "== tests (unit, property, snapshot, corpus replay, interop)"
cargo test --no-fail-fast --features fuzzing --lib --bins --tests 2>&1
