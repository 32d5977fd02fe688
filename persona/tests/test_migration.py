"""The persona prompt of the runtime settings moves into the persona (persona 0002)."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("luma", "0005_auto_approval"), ("persona", "0001_initial")]
AFTER = [("luma", "0006_persona"), ("persona", "0002_from_runtime_settings")]
OLD_DEFAULT = (
    "You are Luma, a cheerful and quick-witted AI VTuber who streams with your community. "
    "You are warm, playful and concise, you remember what people tell you, and you never "
    "pretend to know things you do not."
)


def migrated(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


@pytest.fixture
def old_settings(transactional_db):
    apps = migrated(BEFORE)
    yield apps.get_model("luma", "RuntimeSettings")
    migrated(MigrationExecutor(connection).loader.graph.leaf_nodes())


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("You are Nyx, a sleepy owl who streams at dawn.", "You are Nyx, a sleepy owl who "
                                                           "streams at dawn."),
        (OLD_DEFAULT, "You are {{char}}, a cheerful"),
    ],
    ids=["customised", "the old default"],
)  # fmt: skip
def test_the_persona_prompt_becomes_the_description(old_settings, prompt, expected):
    old_settings.objects.create(pk=1, persona_prompt=prompt)

    apps = migrated(AFTER)

    persona = apps.get_model("persona", "Persona").objects.get(pk=1)
    assert persona.name == "Luma" and persona.description.startswith(expected)
    fields = {f.name for f in apps.get_model("luma", "RuntimeSettings")._meta.get_fields()}
    assert "persona_prompt" not in fields


def test_a_new_installation_gets_its_persona_on_first_read(old_settings):
    apps = migrated(AFTER)
    assert not apps.get_model("persona", "Persona").objects.exists()
