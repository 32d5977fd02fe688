import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from luma.errors import LumaError
from memories.transfer import memories_import


class Command(BaseCommand):
    help = (
        "Import memories from FILE (JSON lines, as export_memories writes them). All or "
        "nothing; searchable at once, embeddings computed afterwards by the task worker."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument(
            "--no-embed", action="store_true", help="Do not queue embedding computation."
        )

    def handle(self, *args: Any, file: str, no_embed: bool, **options: Any) -> None:
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No file {file}.")
        started = time.perf_counter()
        try:
            with path.open(encoding="utf-8") as lines:
                count = memories_import(lines=lines, embed=not no_embed)
        except LumaError as error:
            raise CommandError(f"Nothing imported: {error.message}") from None
        elapsed = time.perf_counter() - started
        self.stdout.write(f"Imported {count} memories in {elapsed:.1f} s.")
