"""The start every in-process benchmark shares: Luma's Django on a fresh SQLite
database (unless DATABASE_URL says otherwise) in a new temporary folder."""

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def django_setup(name: str) -> Path:
    """Point LUMA_DATA_DIR at a new temporary folder and set Django up; returns the folder."""
    sys.path.insert(0, str(ROOT))
    work = Path(tempfile.mkdtemp(prefix=f"luma-bench-{name}-"))
    (work / "data").mkdir()
    os.environ["LUMA_DATA_DIR"] = str(work / "data")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.test_settings")
    import django

    django.setup()
    return work
