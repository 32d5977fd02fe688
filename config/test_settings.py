"""Settings for the test suite: config.settings with a test key and fast, local parts.

`DATABASE_URL` still applies, so the same suite runs on PostgreSQL.
"""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production")
os.environ.setdefault("LUMA_DATA_DIR", tempfile.mkdtemp(prefix="luma-test-"))
if worker := os.environ.get("PYTEST_XDIST_WORKER"):
    # Each of pytest-xdist's worker processes has a data folder (and database) of its own.
    os.environ["LUMA_DATA_DIR"] = os.path.join(os.environ["LUMA_DATA_DIR"], worker)
    os.makedirs(os.environ["LUMA_DATA_DIR"], exist_ok=True)
os.environ.setdefault("TASKS_BACKEND", "django_tasks.backends.immediate.ImmediateBackend")
# Fallback endpoints are set per test; none by default so no test waits on DNS.
os.environ.setdefault("OLLAMA_FALLBACK_ENDPOINTS", "")
# No loading thread started by importing the ASGI application while tests are collected.
os.environ.setdefault("LUMA_VECTOR_WARM_UP", "false")

from config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
LUMA_PROVIDER_TIMEOUT = 5
LUMA_PROVIDER_BACKOFF = 0.01
WHITENOISE_AUTOREFRESH = True  # serve from the finders; no collectstatic before tests
STATIC_ROOT = DATA_DIR / "staticfiles"  # noqa: F405
STATIC_ROOT.mkdir(parents=True, exist_ok=True)

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, as in production: replies run on threads, and an in-memory database
    # shared between threads fails at once ("table is locked") where a file waits.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}  # noqa: F405
