from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from memories.transfer import memories_export


class Command(BaseCommand):
    help = "Write every memory to FILE as JSON lines (all fields; '-' for standard output)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")

    def handle(self, *args: Any, file: str, **options: Any) -> None:
        if file == "-":
            memories_export(out=self.stdout)
            return
        with Path(file).open("w", encoding="utf-8") as out:
            count = memories_export(out=out)
        self.stderr.write(f"Exported {count} memories to {file}.")
