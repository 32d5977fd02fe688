"""Layers point one way: an app imports only the apps below it (README, Architecture)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Lowest first. `config` is the wiring above them all.
LAYERS = [
    "luma",
    "providers",
    "memories",
    "documents",
    "persona",
    "chat",
    "discordbot",
    "overlay",
    "twitchbot",
    "openai_api",
    "config",
]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found & set(LAYERS)


def _modules(app: str) -> list[Path]:
    return [
        path
        for path in (ROOT / app).rglob("*.py")
        if "tests" not in path.parts and "migrations" not in path.parts
    ]


@pytest.mark.parametrize("app", LAYERS)
def test_no_module_imports_an_app_above_its_own(app):
    below = set(LAYERS[: LAYERS.index(app) + 1])
    upward = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in _modules(app)
        for name in _imports(path) - below
    }
    assert not upward


def test_memories_never_imports_chat_not_even_in_its_tests():
    offenders = [p for p in (ROOT / "memories").rglob("*.py") if "chat" in _imports(p)]
    assert offenders == []


def test_every_app_with_tests_is_in_the_test_command():
    """An app whose tests pytest's `testpaths` leave out would never run in `make test`."""
    import tomllib

    testpaths = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"][
        "ini_options"
    ]["testpaths"]
    with_tests = {path.parent.name for path in ROOT.glob("*/tests") if path.is_dir()}
    assert with_tests - set(testpaths) == set()
