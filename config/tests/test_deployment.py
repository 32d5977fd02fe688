"""compose.yaml and the Dockerfile cannot run here (no Docker engine): check their shape."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def test_compose_runs_the_web_app_worker_and_bot_from_one_image():
    services = compose()["services"]
    assert services["web"]["build"] == "."
    assert services["worker"]["command"] == ["python", "manage.py", "db_worker"]
    assert services["bot"]["command"] == ["python", "manage.py", "runbot"]
    assert "127.0.0.1:8000:8000" in services["web"]["ports"]


def test_optional_services_sit_behind_profiles():
    services = compose()["services"]
    assert services["ollama"]["profiles"] == ["ollama"]
    assert services["postgres"]["profiles"] == ["scale"]
    assert services["redis"]["profiles"] == ["scale"]
    assert services["bot"]["profiles"] == ["bot"]
    assert "web" not in {name for name, s in services.items() if s.get("profiles")}


def test_every_luma_service_requires_a_secret_key_and_keeps_data_in_a_volume():
    document = compose()
    for name in ("web", "worker", "bot"):
        service = document["services"][name]
        assert "?" in service["environment"]["SECRET_KEY"], name
        assert "luma-data:/data" in service["volumes"], name
    assert set(document["volumes"]) >= {"luma-data", "ollama-models", "postgres-data"}


def test_the_ollama_gpu_section_is_documented_but_commented():
    text = (ROOT / "compose.yaml").read_text()
    assert "# deploy:" in text
    assert "capabilities: [gpu]" in text
    assert "deploy" not in compose()["services"]["ollama"]


def test_the_dockerfile_installs_the_pinned_requirements_and_serves_asgi():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install -r requirements.txt" in dockerfile
    assert "daphne" in dockerfile
    assert "config.asgi:application" in dockerfile


def test_requirements_are_pinned():
    for name in ("requirements.txt", "requirements-dev.txt", "requirements-builtin.txt"):
        for line in (ROOT / name).read_text().splitlines():
            line = line.strip()
            if line and not line.startswith(("#", "-r")):
                assert "==" in line, f"{name}: {line} is not pinned"
