import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    environment.update({"DJANGO_SETTINGS_MODULE": "config.settings", **env})
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_missing_secret_key_outside_debug_is_an_error(tmp_path):
    result = run_manage("check", LUMA_DATA_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_the_key_make_run_keeps_in_the_data_folder_is_used(tmp_path):
    (tmp_path / "secret_key").write_text("k" * 60 + "\n")
    result = run_manage("check", LUMA_DATA_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr


def test_migrate_creates_a_data_folder_that_does_not_exist_yet(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)  # the default: SQLite in the folder
    data = tmp_path / "new" / "data"
    result = run_manage("migrate", "--noinput", DEBUG="true", LUMA_DATA_DIR=str(data))
    assert result.returncode == 0, result.stderr
    assert (data / "luma.sqlite3").is_file()


def test_debug_runs_without_a_secret_key():
    result = run_manage("check", DEBUG="true")
    assert result.returncode == 0, result.stderr


def test_production_settings_pass_the_deploy_check():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY="x" * 60 + "production-grade-secret-key-value-9f8e7d",
        LUMA_HTTPS="true",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_database_url_switches_the_database(tmp_path):
    code = "from django.conf import settings; print(settings.DATABASES['default']['ENGINE'])"
    result = run_manage(
        "shell",
        "-c",
        code,
        DEBUG="true",
        DATABASE_URL="postgres://luma:pw@db.example:5432/luma",
    )
    assert result.stdout.strip().splitlines()[-1] == "django.db.backends.postgresql", result.stderr


def test_redis_url_switches_the_channel_layer():
    code = "from django.conf import settings; print(settings.CHANNEL_LAYERS['default']['BACKEND'])"
    result = run_manage("shell", "-c", code, DEBUG="true", REDIS_URL="redis://127.0.0.1:6379/0")
    assert result.stdout.strip().splitlines()[-1] == "channels_redis.core.RedisChannelLayer", (
        result.stderr
    )
