#!/usr/bin/env bash
# The suite three times: on SQLite (the default), on PostgreSQL, and on a private
# PostgreSQL 16 with pgvector started by the `pgserver` wheel, where the database
# searches the vectors (scripts/with_pgserver.py; about a second to start). The
# browser tests run in the first pass only: their server has its own SQLite file
# whatever DATABASE_URL says, so the other passes would repeat them unchanged.
# TEST_POSTGRES_URL picks the second pass's server (default: the local one, trust
# auth); without a reachable server that pass is skipped, except in CI.
# TEST_PGVECTOR=0 skips the third pass (CI always runs it).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${VENV:-.venv}/bin/python
POSTGRES_URL=${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}

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
  DATABASE_URL="$POSTGRES_URL" "$PY" -m pytest -m "not browser" "$@"
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
  env -u REDIS_URL "$PY" scripts/with_pgserver.py "$PY" -m pytest -m "not browser" "$@"
fi
