"""The lexical search index: SQLite FTS5, or a PostgreSQL GIN full-text index.

Whatever the database, existing memories are indexed here; afterwards the
memory services keep the index in sync.
"""

from django.db import migrations

SQLITE_CREATE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS memories_memory_fts "
    "USING fts5(content, tags, tokenize='porter unicode61')"
)
SQLITE_FILL = (
    "INSERT INTO memories_memory_fts(rowid, content, tags) "
    "SELECT id, content, replace(replace(replace(tags, '[', ''), ']', ''), '\"', '') "
    "FROM memories_memory"
)
# The expression must match the one `memories.search_index` queries with.
POSTGRES_CREATE = (
    "CREATE INDEX IF NOT EXISTS memories_memory_fts_gin ON memories_memory "
    "USING gin (to_tsvector('english'::regconfig, COALESCE(content, '')))"
)


def create_index(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(SQLITE_CREATE)
        schema_editor.execute(SQLITE_FILL)
    elif vendor == "postgresql":
        schema_editor.execute(POSTGRES_CREATE)


def drop_index(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute("DROP TABLE IF EXISTS memories_memory_fts")
    elif vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS memories_memory_fts_gin")


class Migration(migrations.Migration):

    dependencies = [
        ("memories", "0002_embeddings_and_search"),
    ]

    operations = [migrations.RunPython(create_index, drop_index)]
