from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from memories.pg_vectors import vector_column_install


class Command(BaseCommand):
    help = (
        "Move memory vector search into PostgreSQL (pgvector) on a database migrated "
        "before the `vector` extension was available: creates the vector table and its "
        "HNSW index and copies the stored embeddings. Restart Luma's processes afterwards."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError(f"pgvector needs PostgreSQL; this database is {connection.vendor}.")
        with transaction.atomic():
            installed = vector_column_install(connection)
        if not installed:
            raise CommandError(
                "The `vector` extension is not installed in this database and could not be "
                "created: install pgvector on the server and run CREATE EXTENSION vector as "
                "a superuser, then run this again."
            )
        self.stdout.write("Vector search now runs in PostgreSQL (pgvector); restart Luma.")
