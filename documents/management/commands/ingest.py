"""`manage.py ingest PATH...`: ingest files, or every file in folders, with a progress bar."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError, CommandParser

from documents.errors import DocumentRejected
from documents.models import Document, DocumentStatus
from documents.services import document_create, document_ingest
from memories.models import IMPORTANCE_DEFAULT, IMPORTANCE_MAX, IMPORTANCE_MIN

BAR_WIDTH = 30


def _files(paths: list[str]) -> Iterator[Path]:
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            yield from sorted(
                found
                for found in path.rglob("*")
                if found.is_file() and not any(part.startswith(".") for part in found.parts)
            )
        elif path.is_file():
            yield path
        else:
            raise CommandError(f"{raw}: no such file or folder.")


class Command(BaseCommand):
    help = "Ingest documents (PDF, XLSX, CSV, JSON, text) into Luma's memory."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", metavar="PATH", help="Files or folders.")
        parser.add_argument(
            "--importance",
            type=int,
            default=IMPORTANCE_DEFAULT,
            choices=range(IMPORTANCE_MIN, IMPORTANCE_MAX + 1),
            metavar=f"{IMPORTANCE_MIN}-{IMPORTANCE_MAX}",
            help="Importance of the memories made from these documents.",
        )
        parser.add_argument("--user", help="Record this user as the uploader.")

    def handle(self, *args: Any, **options: Any) -> None:
        uploader = None
        if options["user"]:
            uploader = get_user_model().objects.filter(username=options["user"]).first()
            if uploader is None:
                raise CommandError(f"No user named {options['user']}.")
        files = list(_files(options["paths"]))
        failures = sum(
            not self._ingest(path, f"[{index}/{len(files)}]", uploader, options["importance"])
            for index, path in enumerate(files, start=1)
        )
        if failures:
            raise CommandError(f"{failures} of {len(files)} file(s) failed.")

    def _ingest(self, path: Path, counter: str, uploader: Any, importance: int) -> bool:
        label = f"{counter} {path.name}"
        try:
            with path.open("rb") as handle:
                document, created = document_create(
                    file=File(handle, name=path.name),
                    name=path.name,
                    uploaded_by=uploader,
                    importance=importance,
                    enqueue=False,
                )
        except DocumentRejected as error:
            self.stdout.write(f"{label}: refused: {error.message}")
            return False
        if created or document.status == DocumentStatus.QUEUED:
            self._bar(label, 0)
            document = document_ingest(
                document_id=document.pk, on_progress=lambda percent: self._bar(label, percent)
            )
            self.stdout.write("")
        return self._report(label, document, created)

    def _bar(self, label: str, percent: int) -> None:
        filled = BAR_WIDTH * percent // 100
        self.stdout.write(
            f"\r{label} [{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {percent:3d}%", ending=""
        )
        self.stdout.flush()

    def _report(self, label: str, document: Document, created: bool) -> bool:
        if document.status == DocumentStatus.FAILED:
            self.stdout.write(f"{label}: failed: {document.error}")
            return False
        note = "" if created else " (already uploaded)"
        self.stdout.write(
            f"{label}: {document.get_status_display().lower()}, {document.chunk_count} chunks{note}"
        )
        return True
