#!/usr/bin/env bash
# The browser tests (README, "Run the tests"): the JavaScript client and the demo page in
# Debian's Chromium, each test file against a real server of its own. Needs Node 20 or newer
# and /usr/bin/chromium (apt-get install chromium), or CHROMIUM naming another build.
# PARLOR_BIN names a server binary to use instead of building target/debug/parlor.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

# npm ci when node_modules was not installed from this lock file.
stamp="$here/node_modules/.installed-lock.json"
if ! cmp -s "$here/package-lock.json" "$stamp" 2>/dev/null; then
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$here/package-lock.json" "$stamp"
fi
if [ -z "${PARLOR_BIN:-}" ]; then
  (cd "$repo" && cargo build --quiet --locked --bin parlor)
fi

cd "$here"
# Two cores: two test files (each a server and a browser) at a time.
exec node --test --test-concurrency=2 "$@" ./*.test.js
