from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from memories.search_index import search_index_rebuild
from memories.services import memories_embed


class Command(BaseCommand):
    help = "Rebuild the full-text index of memories, and compute missing embeddings."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-embed", action="store_true", help="Only the full-text index.")

    def handle(self, *args: Any, no_embed: bool, **options: Any) -> None:
        self.stdout.write(f"Indexed {search_index_rebuild()} memories for full-text search.")
        if not no_embed:
            self.stdout.write(f"Computed {memories_embed()} embeddings.")
