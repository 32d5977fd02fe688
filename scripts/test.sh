#!/usr/bin/env bash
# The suite on SQLite (the default), then again on PostgreSQL, and on a private
# PostgreSQL 16 with pgvector started by the `pgserver` wheel, where the database
# searches the vectors (scripts/with_pgserver.py; about a second to start).
# The PostgreSQL passes run the tests that use the test database
# (LUMA_TESTS_DATABASE_ONLY, conftest.py): the others, the browser tests among them
# (their server keeps its own SQLite file), cannot behave differently there. The
# pgvector pass runs the apps that store or search memories (PGVECTOR_APPS).
# TEST_POSTGRES_URL picks the second pass's server (default: the local one, trust
# auth); without a reachable server that pass is skipped, except in CI.
# TEST_PGVECTOR=0 skips the third pass (CI always runs it). Each pass runs on every
# core (pytest-xdist, -n auto; TEST_WORKERS=0 runs it in this one process).
# Arguments go to every pass (the pgvector pass then runs what they select instead).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${VENV:-.venv}/bin/python
POSTGRES_URL=${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
PGVECTOR_APPS=${PGVECTOR_APPS:-memories chat documents openai_api discordbot twitchbot persona}
# shellcheck disable=SC2206 # the app names are words
[ $# -eq 0 ] && pgvector_args=($PGVECTOR_APPS) || pgvector_args=("$@")
set -- -n "${TEST_WORKERS:-auto}" "$@"

echo "== Tests on SQLite"
env -u DATABASE_URL -u REDIS_URL "$PY" -m pytest "$@"

if "$PY" - "$POSTGRES_URL" <<'PYCODE'
import sys
import psycopg
try:
    psycopg.connect(sys.argv[1].replace("postgres://", "postgresql://"), connect_timeout=3).close()
except Exception as error:
    print(f"PostgreSQL is not reachable ({error}).")
    sys.exit(1)
PYCODE
then
  echo "== Tests on PostgreSQL ($POSTGRES_URL)"
  LUMA_TESTS_DATABASE_ONLY=1 DATABASE_URL="$POSTGRES_URL" "$PY" -m pytest "$@"
elif [ "${CI:-}" = "true" ]; then
  echo "CI needs the PostgreSQL pass: set TEST_POSTGRES_URL or start PostgreSQL." >&2
  exit 1
else
  echo "== Skipped the PostgreSQL pass (set TEST_POSTGRES_URL to run it)."
fi

if [ "${TEST_PGVECTOR:-1}" = "0" ] && [ "${CI:-}" != "true" ]; then
  echo "== Skipped the PostgreSQL + pgvector pass (TEST_PGVECTOR=0)."
else
  echo "== Tests on PostgreSQL 16 with pgvector (a private pgserver in a temporary folder)"
  LUMA_TESTS_DATABASE_ONLY=1 env -u REDIS_URL \
    "$PY" scripts/with_pgserver.py "$PY" -m pytest -n "${TEST_WORKERS:-auto}" "${pgvector_args[@]}"
fi
