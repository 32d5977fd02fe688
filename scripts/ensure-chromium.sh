#!/usr/bin/env bash
# The browser tests (e2e/) drive Debian's Chromium (never `playwright install`).
# Installs it when this machine allows (root, or sudo without a password);
# otherwise says exactly what to run, and fails.
set -euo pipefail
command -v chromium >/dev/null && exit 0
if [ -n "${LUMA_CHROMIUM:-}" ] && [ -x "${LUMA_CHROMIUM}" ]; then exit 0; fi

if [ "$(id -u)" = 0 ]; then
  as_root=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  as_root=(sudo)
else
  as_root=none
fi
if [ "${as_root[*]}" = none ] || ! command -v apt-get >/dev/null; then
  cat >&2 <<'TXT'
Chromium is missing: the browser tests (e2e/) need it.
Install Debian's Chromium, then run `make test` again:
    sudo apt-get update && sudo apt-get install -y chromium
(or set LUMA_CHROMIUM to another Chromium binary).
TXT
  exit 1
fi
echo ">>> Installing Debian's Chromium for the browser tests (about half a minute)."
"${as_root[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq chromium >/dev/null
command -v chromium >/dev/null
