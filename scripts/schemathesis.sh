#!/usr/bin/env bash
# Schemathesis against a live Parlor, driven by the OpenAPI document the server serves
# (GET /api-docs/openapi.json): every operation is called with generated valid and invalid
# requests, and the run fails on any 5xx (not_a_server_error), a status the document does not
# list for the operation (status_code_conformance), a body that does not match its schema
# (response_schema_conformance), or a method the document does not list answered otherwise than
# 405 with `Allow` (unsupported_method).
#
# It builds the server, starts it on a free port in a temporary folder (a fresh SQLite
# database, uploads, generous rate limits), creates an admin who is also an instance admin and
# an API key with the CLI, seeds a conversation with a message, and runs Schemathesis twice:
# first every operation but those that change the admin's account or project 1, then those,
# then sign-out everywhere. The server and the folder are removed at the end.
#
#   scripts/schemathesis.sh                 # 40 examples per operation
#   EXAMPLES=200 scripts/schemathesis.sh    # more
#   SEED=1234 scripts/schemathesis.sh       # a reproducible run
#   POSTGRES=postgres://postgres@127.0.0.1:5432 scripts/schemathesis.sh
#                                           # on PostgreSQL: a database of its own on that
#                                           # server (psql creates and drops it)
#
# Schemathesis (PyPI) is installed in a virtualenv, `$VENV` (default: a folder under the cargo
# target directory), on first use. Needs python3 with venv, and curl.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
VENV=${VENV:-$TARGET/schemathesis-venv}
EXAMPLES=${EXAMPLES:-40}
SCHEMATHESIS_VERSION=${SCHEMATHESIS_VERSION:-4.32.5}

cd "$ROOT"
cargo build --quiet --bin parlor
PARLOR=$TARGET/debug/parlor

if [ ! -x "$VENV/bin/schemathesis" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --upgrade pip
    "$VENV/bin/pip" install --quiet "schemathesis==$SCHEMATHESIS_VERSION"
fi

WORK=$(mktemp -d)
SERVER_PID=
DATABASE=
cleanup() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [ -n "${DATABASE:-}" ]; then
        psql -q "$POSTGRES/postgres" -c "DROP DATABASE IF EXISTS $DATABASE" || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE=http://127.0.0.1:$PORT

# The server's settings: defaults (no config.toml in $WORK) but for these.
export PARLOR__SERVER__BIND=127.0.0.1:$PORT
if [ -n "${POSTGRES:-}" ]; then
    DATABASE=parlor_schemathesis_$$
    psql -q "$POSTGRES/postgres" -c "CREATE DATABASE $DATABASE"
    export PARLOR__DATABASE__URL=$POSTGRES/$DATABASE
else
    export PARLOR__DATABASE__URL=sqlite://$WORK/parlor.db
fi
export PARLOR__UPLOADS__DIR=$WORK/uploads
export PARLOR__AUTH__BCRYPT_COST=4
export PARLOR__AUTH__ACCESS_TOKEN_TTL_S=86400
export PARLOR__WEBHOOKS__ENABLED=false
# Webhook targets on this machine may be registered (nothing is delivered: the worker is off).
export PARLOR__WEBHOOKS__ALLOW_PRIVATE_TARGETS=true
# Rate limits out of the way: the run sends thousands of requests from one user and one IP.
for key in API_REQUESTS_PER_MINUTE AUTH_ATTEMPTS_PER_IP_PER_MINUTE \
    LOGIN_ATTEMPTS_PER_ACCOUNT_PER_MINUTE WS_UPGRADES_PER_IP_PER_MINUTE CONVERSATIONS_PER_HOUR \
    USER_SEARCHES_PER_MINUTE INVITE_ACCEPTS_PER_MINUTE MESSAGE_SEARCHES_PER_MINUTE \
    MESSAGES_PER_WINDOW; do
    export "PARLOR__LIMITS__$key=100000"
done
export PARLOR__UPLOADS__UPLOADS_PER_MINUTE=100000

cd "$WORK"
json() { python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
"$PARLOR" user create --email admin@example.com --username admin --password 'admin password' \
    --role admin --instance-admin > /dev/null
"$PARLOR" user create --email bob@example.com --username bob --password 'bob password' > /dev/null
API_KEY=$("$PARLOR" project key create --project 1 --name schemathesis | json key)

"$PARLOR" > "$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 100); do
    curl -fs "$BASE/health" > /dev/null && break
    sleep 0.1
done

post() { curl -fsS "$BASE$1" -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d "$2"; }
TOKEN=$(curl -fsS "$BASE/api/v1/auth/login" -H 'content-type: application/json' \
    -d '{"username": "admin", "password": "admin password"}' | json access_token)
# Something for ids such as 1 to find: a conversation, a message, an invite, a webhook, a
# server API user.
post /api/v1/conversations '{"participant_ids": [2], "title": "seed"}' > /dev/null
post /api/v1/conversations/1/messages '{"content": "hello"}' > /dev/null
post /api/v1/conversations/1/invites '{}' > /dev/null
post /api/v1/projects/1/webhooks \
    '{"url": "http://127.0.0.1:9/hook", "events": ["message.created"]}' > /dev/null
curl -fsS -X PUT "$BASE/api/v1/server/users/crm-1" -H "x-api-key: $API_KEY" \
    -H 'content-type: application/json' -d '{"display_name": "Crm One"}' > /dev/null

export PARLOR_TOKEN=$TOKEN PARLOR_API_KEY=$API_KEY
cat > "$WORK/schemathesis.toml" <<'TOML'
[auth.openapi.bearer]
bearer = "${PARLOR_TOKEN}"

[auth.openapi.api_key]
api_key = "${PARLOR_API_KEY}"

[auth.openapi.api_key_bearer]
bearer = "${PARLOR_API_KEY}"
TOML

# Operations that change what every later request meets (the admin's account, project 1's
# settings) run after the others, and signing out everywhere last of all.
CHANGES='^(patch_users_id|patch_admin_projects_id|patch_projects_id_settings|delete_admin_projects_id)$'
SIGN_OUT='^post_auth_logout_all$'
run() {
    "$VENV/bin/schemathesis" --config-file "$WORK/schemathesis.toml" run \
        "$BASE/api-docs/openapi.json" \
        --checks not_a_server_error,status_code_conformance,response_schema_conformance,unsupported_method \
        --max-examples "$EXAMPLES" ${SEED:+--seed "$SEED"} \
        "$@"
}
status=0
run --exclude-operation-id-regex "$CHANGES|$SIGN_OUT" || status=$?
run --include-operation-id-regex "$CHANGES" || status=$?
run --include-operation-id-regex "$SIGN_OUT" || status=$?
if [ "$status" -ne 0 ]; then
    echo "--- server log (last 50 lines) ---"
    tail -n 50 "$WORK/server.log"
fi
exit "$status"
