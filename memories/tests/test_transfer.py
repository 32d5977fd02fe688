import io
import json
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from memories.models import Memory, MemorySource, MemoryStatus
from memories.selectors import memory_rank
from memories.services import memory_create, memory_reject
from memories.transfer import memories_export, memories_import

pytestmark = pytest.mark.django_db

FIELDS = [
    "id",
    "content",
    "source",
    "status",
    "importance",
    "tags",
    "subject_user_id",
    "subject_discord_id",
    "subject_name",
    "updates_id",
    "created_by_id",
    "reviewed_by_id",
    "reviewed_at",
    "last_used_at",
    "use_count",
    "created_at",
    "updated_at",
]


def snapshot() -> list[tuple]:
    return list(Memory.objects.order_by("pk").values_list(*FIELDS))


@pytest.fixture
def varied(user, admin_user):
    original = memory_create(content="Kai's favourite game is Osu!", tags=["games"], importance=6)
    memory_create(
        content="Viewer drinks green tea.", subject_user=user, created_by=admin_user, importance=8
    )
    memory_create(content="Pal plays bass.", subject_discord_id="42", subject_name="Pal")
    memory_create(
        content="Kai's favourite game is Beat Saber.",
        source=MemorySource.AI_SUGGESTED,
        updates=original,
    )
    rejected = memory_create(content="Kai hates cats.", source=MemorySource.AI_SUGGESTED)
    memory_reject(memory=rejected, reviewer=admin_user)
    long_ago = timezone.now() - timedelta(days=300)
    Memory.objects.filter(pk=original.pk).update(
        created_at=long_ago, updated_at=long_ago, last_used_at=long_ago, use_count=3
    )


def exported() -> str:
    out = io.StringIO()
    memories_export(out=out)
    return out.getvalue()


def test_export_then_import_is_a_lossless_round_trip(varied):
    before = snapshot()
    dump = exported()
    Memory.objects.all().delete()

    assert memories_import(lines=dump.splitlines()) == 5
    assert snapshot() == before
    assert memory_create(content="Written after the import.").pk > max(row[0] for row in before)
    assert json.loads(dump.splitlines()[1])["subject_user"] == "viewer"


def test_imported_memories_are_searchable_at_once(varied):
    dump = exported()
    Memory.objects.all().delete()
    memories_import(lines=dump.splitlines(), embed=False)

    found = [item.memory.content for item in memory_rank(queryset=Memory.objects, query="tea")]
    assert found == ["Viewer drinks green tea."]


def test_importing_next_to_existing_memories_renumbers_and_keeps_links(varied):
    dump = exported()

    memories_import(lines=dump.splitlines())

    assert Memory.objects.count() == 10
    copy = (
        Memory.objects.filter(content="Kai's favourite game is Beat Saber.").order_by("pk").last()
    )
    assert copy.updates.content == "Kai's favourite game is Osu!"
    assert copy.updates.pk > copy.pk - 5
    assert copy.status == MemoryStatus.PENDING


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("{not json", "Line 2: not JSON"),
        ('{"content": "x", "importance": 11}', "importance"),
        ('{"content": "x", "subject_user": "ghost"}', "no user named 'ghost'"),
        ('{"content": "x", "created_at": "yesterday"}', "created_at"),
        ('{"text": "x"}', "content string"),
        ('{"content": "a\\u0000b"}', "Null characters"),
    ],
)
def test_a_bad_line_imports_nothing_and_says_where(line, problem, tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"content": "A fine memory."}\n' + line + "\n")

    with pytest.raises(CommandError, match=problem):
        call_command("import_memories", str(path))
    assert not Memory.objects.exists()


def test_the_commands_round_trip_through_a_file(varied, tmp_path):
    path = tmp_path / "memories.jsonl"
    before = snapshot()

    call_command("export_memories", str(path), stderr=io.StringIO())
    Memory.objects.all().delete()
    out = io.StringIO()
    call_command("import_memories", str(path), stdout=out)

    assert "Imported 5 memories" in out.getvalue()
    assert snapshot() == before
