#!/usr/bin/env bash
# Start Luma on one machine: migrate, make sure an admin exists, then run the
# ASGI server and the background task worker until Ctrl+C.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${VENV:-.venv}/bin/python
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
DATA_DIR=${LUMA_DATA_DIR:-data}
mkdir -p "$DATA_DIR"

if [ -z "${SECRET_KEY:-}" ]; then
  if [ ! -s "$DATA_DIR/secret_key" ]; then
    (umask 077 && "$PY" -c "import secrets; print(secrets.token_urlsafe(50))" > "$DATA_DIR/secret_key")
  fi
  SECRET_KEY=$(cat "$DATA_DIR/secret_key")
  export SECRET_KEY
fi

"$PY" manage.py migrate --no-input
"$PY" manage.py collectstatic --no-input --verbosity 0
"$PY" manage.py ensure_admin

"$PY" manage.py db_worker &
worker=$!
trap 'kill $worker 2>/dev/null || true' EXIT INT TERM
echo "Luma is starting on http://$HOST:$PORT/ (Ctrl+C stops it)"
"$PY" -m daphne -b "$HOST" -p "$PORT" config.asgi:application
