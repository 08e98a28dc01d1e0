#!/usr/bin/env bash
# Runs every test Vestibule has: unit, property, snapshot, corpus-replay and interop tests (the
# interop suite starts the real server binary and drives the real mariadb CLI, PyMySQL and
# mysql-connector-python). Installs what it needs first. Ends with cargo test's own summary.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_INCREMENTAL=0 CARGO_TERM_COLOR=never

need_apt=()
command -v mariadb >/dev/null 2>&1 || need_apt+=(mariadb-client)
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "== installing Debian packages: ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
if ! python3 -c 'import pymysql, cryptography, mysql.connector' >/dev/null 2>&1; then
  echo "== installing Python packages"
  python3 -m pip install -q --disable-pip-version-check PyMySQL cryptography mysql-connector-python
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
echo "== tests (unit, property, snapshot, corpus replay, interop)"
cargo test --no-fail-fast --lib --bins --tests 2>&1
