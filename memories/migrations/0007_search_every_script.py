"""Search in every script: Chinese, Japanese, Korean, Thai, emoji, mixed-script text.

SQLite gets a second FTS5 table, with the trigram tokenizer, beside the porter one;
the memories that have gram characters (`memories.search_index.GRAM_RANGES`) are
indexed in it here, and again in the word table with their runs set apart.
PostgreSQL gets two functions and two GIN indexes (`postgres_index_sql`): the
word index moves to the spaced text (identical for text without such
characters), and a new one holds each memory's characters and pairs. No
extension is needed.
"""

from django.db import migrations

from memories.search_index import GRAM_RUN, postgres_index_sql, search_index_write

SQLITE_CREATE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS memories_memory_trigram "
    "USING fts5(content, tags, tokenize='trigram')"
)
POSTGRES_OLD_INDEX = (
    "CREATE INDEX IF NOT EXISTS memories_memory_fts_gin ON memories_memory "
    "USING gin (to_tsvector('english'::regconfig, COALESCE(content, '')))"
)


def _index_every_script(apps) -> None:
    Memory = apps.get_model("memories", "Memory")
    batch = []
    for memory in Memory.objects.only("pk", "content", "tags").iterator(chunk_size=2000):
        if GRAM_RUN.search(memory.content) or any(
            GRAM_RUN.search(str(t)) for t in memory.tags or []
        ):
            batch.append(memory)
        if len(batch) == 2000:
            search_index_write(batch)
            batch = []
    search_index_write(batch)


def create_index(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(SQLITE_CREATE)
        _index_every_script(apps)
    elif vendor == "postgresql":
        for statement in postgres_index_sql():
            schema_editor.execute(statement)
        schema_editor.execute("DROP INDEX IF EXISTS memories_memory_fts_gin")


def drop_index(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute("DROP TABLE IF EXISTS memories_memory_trigram")
    elif vendor == "postgresql":
        schema_editor.execute(POSTGRES_OLD_INDEX)
        schema_editor.execute("DROP INDEX IF EXISTS memories_memory_words_gin")
        schema_editor.execute("DROP INDEX IF EXISTS memories_memory_grams_gin")
        schema_editor.execute("DROP FUNCTION IF EXISTS luma_memory_grams(text)")
        schema_editor.execute("DROP FUNCTION IF EXISTS luma_memory_spaced(text)")


class Migration(migrations.Migration):
    dependencies = [
        ("memories", "0006_suggestion_wording_and_runs"),
    ]

    operations = [migrations.RunPython(create_index, drop_index)]
