"""Run a command against a private PostgreSQL 16 with pgvector (the `pgserver` wheel).

    .venv/bin/python scripts/with_pgserver.py COMMAND [ARGS...]

Starts a server in a new temporary folder (Unix socket only, no TCP port), runs the
command with DATABASE_URL pointing at it, then stops the server and deletes the
folder, whatever the command did; exits with the command's status. As root, pgserver
runs PostgreSQL as a `pgserver` system user it creates. For the test suite's pgvector
pass (scripts/test.sh) and `bench/bench_retrieval.py --pgserver`.
"""

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote


@contextmanager
def pgserver_database() -> Iterator[str]:
    """A running private server with the `vector` extension available; yields its URL."""
    import warnings

    # platformdirs warns that XDG_RUNTIME_DIR is unset (CI, root) and uses /tmp instead.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")
    import pgserver

    # Short and lower-case: the socket path must fit in 107 bytes, and a URL's host
    # is read lower-cased.
    folder = Path(tempfile.mkdtemp(prefix="luma-pg-", dir="/tmp")).resolve()
    server = None
    try:
        server = pgserver.get_server(folder / "data", cleanup_mode="stop")
        socket_dir = server.get_postmaster_info().socket_dir
        yield f"postgres://postgres@{quote(str(socket_dir), safe='')}/postgres"
    finally:
        if server is not None:
            server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    with pgserver_database() as url:
        # The command is this script's own arguments, given by whoever runs it.
        return subprocess.call(sys.argv[1:], env={**os.environ, "DATABASE_URL": url})  # noqa: S603


if __name__ == "__main__":
    sys.exit(main())
