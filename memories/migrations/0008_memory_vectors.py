"""Vector search in PostgreSQL, where pgvector is available.

On PostgreSQL whose `vector` extension is available (compose's pgvector/pgvector
image), this installs the extension, adds a dimensionless `vector` column,
`embedding`, to the embeddings' table (`MemoryVector` is that table seen with it),
with an HNSW index for MiniLM's 384 dimensions, and fills it from the stored
embeddings (`memories.pg_vectors.vector_column_install`). On SQLite, or on a PostgreSQL without
the extension, it changes nothing and vectors stay searched in process; a database
that gets the extension later runs `python manage.py enable_pgvector`.
"""

import django.db.models.deletion
import pgvector.django.vector
from django.db import migrations, models

from memories.pg_vectors import vector_column_drop, vector_column_install


def install(apps, schema_editor):
    vector_column_install(schema_editor.connection)


def uninstall(apps, schema_editor):
    vector_column_drop(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("memories", "0007_search_every_script")]

    operations = [
        migrations.CreateModel(
            name="MemoryVector",
            fields=[
                (
                    "memory",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="memories.memory",
                    ),
                ),
                ("model", models.CharField(max_length=200)),
                ("embedding", pgvector.django.vector.VectorField(null=True)),
                ("updated_at", models.DateTimeField()),
            ],
            options={"db_table": "memories_memoryembedding", "managed": False},
        ),
        migrations.RunPython(install, uninstall),
    ]
