#!/bin/sh
# Refreshes the vendored Preact and htm from the npm registry (no build step: their own ESM builds).
# Usage: sh static/vendor/refresh.sh [preact-version] [htm-version]   (default: the latest)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
npm pack --silent "preact@${1:-latest}" "htm@${2:-latest}" >/dev/null
mkdir preact htm
tar -xzf preact-*.tgz -C preact --strip-components=1
tar -xzf htm-*.tgz -C htm --strip-components=1
# The builds end with a sourceMappingURL comment naming maps that are not vendored: drop it.
strip() { sed '/^\/\/# sourceMappingURL=/d' "$1" > "$2"; }
strip preact/dist/preact.mjs "$here/preact/preact.mjs"
strip preact/hooks/dist/hooks.mjs "$here/preact/hooks.mjs"
strip htm/dist/htm.module.js "$here/htm/htm.mjs"
cp preact/LICENSE "$here/preact/LICENSE"
cp htm/LICENSE "$here/htm/LICENSE"
node -p '"preact " + require("./preact/package.json").version + ", htm " + require("./htm/package.json").version'
