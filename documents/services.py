"""Documents: store an upload, ingest it into memory (off the request path), delete it.

Ingestion is all or nothing: the text is extracted and chunked first (only the
progress is written meanwhile), then every chunk's memory is written in one
transaction that starts by claiming the document. A failure, or a document
deleted meanwhile, leaves no memory behind.
"""

import hashlib
import logging
import re
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import PureWindowsPath

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files import File
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from documents.chunking import Chunk, ChunkSpool, chunks_from
from documents.errors import (
    AlreadyUploadedByOther,
    DocumentRejected,
    EmptyFile,
    FileTooLarge,
    NoExtractableText,
)
from documents.extractors import ExtractionReport, ExtractOptions, detect_kind, extract
from documents.models import Document, DocumentChunk, DocumentStatus
from luma.errors import LumaError, NotFound
from luma.roles import Role, role_of, role_require
from luma.services import runtime_settings_get
from memories import services as memory_services
from memories.changes import Surface, memory_changes_by
from memories.models import (
    IMPORTANCE_DEFAULT,
    IMPORTANCE_MAX,
    IMPORTANCE_MIN,
    Memory,
    MemorySource,
    MemoryStatus,
)

logger = logging.getLogger(__name__)

# Extraction is this share of the progress bar; writing the memories is the rest.
_EXTRACTION_PERCENT = 90
_PROGRESS_STEP_PERCENT = 5
_PROGRESS_WRITE_SECONDS = 0.5
# Chunks written per query while storing a document (all in one transaction).
_STORE_BATCH = 1000
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")

ProgressCallback = Callable[[int], None]


def _name_clean(name: str) -> str:
    """The file's own name: no folders (browsers on Windows send them), no control characters."""
    name = _CONTROL_CHARACTERS.sub("", PureWindowsPath(name).name).strip()
    return name[-255:] or "document"


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB"


def _hash_and_size(file: File) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    file.seek(0)
    for block in file.chunks():
        digest.update(block)
        size += len(block)
    file.seek(0)
    return digest.hexdigest(), size


def _size_check(size: int) -> None:
    limit = settings.LUMA_MAX_UPLOAD_BYTES
    if size > limit:
        raise FileTooLarge(
            f"This file is {_megabytes(size)}; the largest upload is {_megabytes(limit)}.",
            detail=f"{size} bytes > LUMA_MAX_UPLOAD_BYTES={limit}",
        )
    if size == 0:
        raise EmptyFile("This file is empty.")


def _ingestion_enqueue(document: Document) -> None:
    # Imported here: the task module imports this one.
    from documents.tasks import document_ingest_task

    document_ingest_task.enqueue(document.pk)


def document_upload_allowed(*, user: AbstractBaseUser) -> bool:
    """Moderators and the owner may upload; viewers when the owner allows it."""
    role = role_of(user)
    if role == Role.VIEWER:
        return runtime_settings_get().viewer_uploads_enabled
    return role >= Role.MODERATOR


def document_upload_check(*, user: AbstractBaseUser) -> None:
    """Raise `PermissionDenied` (403) unless `user` may upload documents."""
    if not document_upload_allowed(user=user):
        role_require(
            user,
            Role.MODERATOR,
            action="upload documents here (the owner has not turned on uploads by viewers)",
        )


def document_create(
    *,
    file: File,
    name: str,
    uploaded_by: AbstractBaseUser | None = None,
    importance: int = IMPORTANCE_DEFAULT,
    include_hidden_sheets: bool = False,
    enqueue: bool = True,
) -> tuple[Document, bool]:
    """Store an upload and queue its ingestion; returns the document and whether it is new.

    The same content again returns the existing document (a failed one is queued
    again); a viewer who uploads what someone else did gets `AlreadyUploadedByOther`
    (409) and learns nothing of it. A viewer's document becomes memories about them
    only, until a moderator or the owner uploads the same file: then it is everyone's.
    The size and the type are checked here, before anything is stored; everything
    else is checked by the ingestion.
    """
    private = uploaded_by is not None and role_of(uploaded_by) == Role.VIEWER
    name = _name_clean(name)
    if file.size is not None:
        _size_check(file.size)
    if not IMPORTANCE_MIN <= importance <= IMPORTANCE_MAX:
        raise DocumentRejected(f"Importance must be between {IMPORTANCE_MIN} and {IMPORTANCE_MAX}.")
    sha256, size = _hash_and_size(file)
    _size_check(size)
    existing = Document.objects.filter(sha256=sha256).first()
    if existing is not None:
        if private and existing.uploaded_by_id != uploaded_by.pk:
            raise AlreadyUploadedByOther("Someone else has already uploaded this file.")
        if not private and existing.subject_user_id is not None:
            _document_share(existing)
        return document_retry(document=existing, enqueue=enqueue), False
    document = Document(
        name=name,
        kind=detect_kind(file, name),
        size=size,
        sha256=sha256,
        importance=importance,
        include_hidden_sheets=include_hidden_sheets,
        uploaded_by=uploaded_by,
        subject_user=uploaded_by if private else None,
    )
    document.file.save(name, file, save=False)
    try:
        with transaction.atomic():
            document.save()
    except IntegrityError:  # the same file, uploaded at the same moment, won
        document.file.delete(save=False)
        return Document.objects.get(sha256=sha256), False
    logger.info("Document %s (%s, %s bytes) stored", document.pk, document.kind, size)
    if enqueue:
        _ingestion_enqueue(document)
        document.refresh_from_db()
    return document, True


def _memory_ids(document: Document) -> list[int]:
    """The memories made from `document`'s chunks."""
    return list(
        Memory.objects.filter(document_chunk__document=document).values_list("pk", flat=True)
    )


@transaction.atomic
def _document_share(document: Document) -> None:
    """A viewer's document uploaded again by a moderator or the owner: about everyone now."""
    memory_ids = _memory_ids(document)
    memory_services.memories_make_global(memory_ids=memory_ids)
    Document.objects.filter(pk=document.pk).update(subject_user=None)
    document.subject_user = None


def document_retry(*, document: Document, enqueue: bool = True) -> Document:
    """Queue a failed document again, or one stuck in processing (its worker died: no
    progress for `LUMA_DOCUMENT_STALE_SECONDS`); any other document is returned as it is."""
    stale_before = timezone.now() - timedelta(seconds=settings.LUMA_DOCUMENT_STALE_SECONDS)
    retryable = Q(status=DocumentStatus.FAILED) | Q(
        status=DocumentStatus.PROCESSING, updated_at__lt=stale_before
    )
    requeued = Document.objects.filter(retryable, pk=document.pk).update(
        status=DocumentStatus.QUEUED,
        progress=0,
        error="",
        error_detail="",
        updated_at=timezone.now(),
    )
    if requeued and enqueue:
        _ingestion_enqueue(document)
    document.refresh_from_db()
    return document


class _ProgressReporter:
    """Reports the document's progress when it moves by a step, not on every page or
    row; the row is written at most every `_PROGRESS_WRITE_SECONDS` (pages poll about
    once a second, and each write is a transaction on the ingestion's path)."""

    def __init__(self, document: Document, callback: ProgressCallback | None) -> None:
        self.document_id = document.pk
        self.callback = callback
        self.percent = 0
        self.written_at = time.monotonic()

    def __call__(self, fraction: float) -> None:
        self.set(int(fraction * _EXTRACTION_PERCENT))

    def set(self, percent: int) -> None:
        if percent < self.percent + _PROGRESS_STEP_PERCENT and percent != 100:
            return
        self.percent = percent
        if time.monotonic() - self.written_at >= _PROGRESS_WRITE_SECONDS:
            self.written_at = time.monotonic()
            Document.objects.filter(pk=self.document_id, status=DocumentStatus.PROCESSING).update(
                progress=percent, updated_at=timezone.now()
            )
        if self.callback is not None:
            self.callback(percent)


def _document_spool(
    document: Document, progress: _ProgressReporter, spool: ChunkSpool
) -> ExtractionReport:
    report = ExtractionReport()
    options = ExtractOptions(include_hidden_sheets=document.include_hidden_sheets)
    with document.file.open("rb") as source:
        pieces = extract(document.kind, source, progress=progress, options=options, report=report)
        for chunk in chunks_from(pieces, max_chars=settings.LUMA_DOCUMENT_CHUNK_CHARS):
            spool.add(chunk)
    if not spool.count:
        raise NoExtractableText(
            "This document has no text to remember."
            + (f" ({'; '.join(report.notes)})" if report.notes else "")
        )
    return report


def _memory_content(document: Document, chunk: Chunk) -> str:
    """The chunk as the persona sees it: which document and where, then the text."""
    place = f" ({chunk.location.label})" if chunk.location.label else ""
    return f'From "{document.name}"{place}:\n{chunk.text}'


def _memories_create(document: Document, chunks: list[Chunk], *, embed: bool) -> list[Memory]:
    """One approved memory per chunk, about everyone or (a viewer's upload) about its
    uploader, in a few queries (embedded later, in a task); recorded as the uploader's
    import."""
    with memory_changes_by(surface=Surface.IMPORT, user=document.uploaded_by):
        return memory_services.memories_create_bulk(
            memories=[
                Memory(
                    content=_memory_content(document, chunk),
                    source=MemorySource.DOCUMENT,
                    status=MemoryStatus.APPROVED,
                    importance=document.importance,
                    tags=["document"],
                    created_by=document.uploaded_by,
                    subject_user=document.subject_user,
                )
                for chunk in chunks
            ],
            embed=embed,
        )


# The DocumentChunk columns `_chunk_rows_insert` writes, in its values' order.
_CHUNK_FIELDS = (
    "document", "memory", "position", "location", "page", "sheet", "row_start", "row_end",
    "json_path", "heading",
)  # fmt: skip


def _chunk_row(document: Document, position: int, chunk: Chunk, memory: Memory) -> tuple:
    location = chunk.location
    row_end = location.row_end if location.row_end is not None else location.row_start
    return (
        document.pk, memory.pk, position, location.label[:300], location.page,
        location.sheet[:100], location.row_start, row_end, location.json_path[:300],
        location.heading[:300],
    )  # fmt: skip


def _chunk_rows_insert(rows: list[tuple]) -> None:
    """Insert DocumentChunk rows with one `executemany`: `bulk_create` spent more time
    preparing each field of each row than the database took to write them (about 5%
    of a 200-page PDF's ingestion, `bench/bench_ingestion.py`). Values are plain ints
    and strings in `_CHUNK_FIELDS` order; nothing needs the new rows' ids."""
    meta = DocumentChunk._meta
    columns = ", ".join(connection.ops.quote_name(meta.get_field(f).column) for f in _CHUNK_FIELDS)
    placeholders = ", ".join(["%s"] * len(_CHUNK_FIELDS))
    table = connection.ops.quote_name(meta.db_table)
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", rows)  # noqa: S608


def _chunks_store(document: Document, spool: ChunkSpool, notes: list[str]) -> bool:
    """Write every chunk's memory, or none. False when the document was deleted meanwhile."""
    with transaction.atomic():
        # Claiming the row first locks it: a delete waits for this, or this sees it gone.
        claimed = Document.objects.filter(pk=document.pk, status=DocumentStatus.PROCESSING).update(
            status=DocumentStatus.DONE,
            progress=100,
            chunk_count=spool.count,
            notes=notes,
            ingested_at=timezone.now(),
            updated_at=timezone.now(),
        )
        if not claimed:
            return False
        position = 0
        for chunks in spool.batches(_STORE_BATCH):
            is_last = position + len(chunks) == spool.count
            memories = _memories_create(document, chunks, embed=is_last)
            _chunk_rows_insert(
                [
                    _chunk_row(document, position + offset, chunk, memory)
                    for offset, (chunk, memory) in enumerate(zip(chunks, memories, strict=True))
                ]
            )
            position += len(chunks)
    return True


def _document_fail(document: Document, message: str, detail: str) -> None:
    Document.objects.filter(pk=document.pk, status=DocumentStatus.PROCESSING).update(
        status=DocumentStatus.FAILED,
        progress=0,
        error=message,
        error_detail=detail[:2000],
        updated_at=timezone.now(),
    )


def document_ingest(*, document_id: int, on_progress: ProgressCallback | None = None) -> Document:
    """Extract, chunk and remember a queued document. A rejected file ends `failed` with the
    reason; an unexpected error does too, and is raised again for the worker's log."""
    claimed = Document.objects.filter(pk=document_id, status=DocumentStatus.QUEUED).update(
        status=DocumentStatus.PROCESSING, progress=0, updated_at=timezone.now()
    )
    document = Document.objects.filter(pk=document_id).first()
    if document is None:
        raise NotFound(f"Document {document_id} does not exist.")
    if not claimed:
        logger.info(
            "Document %s is %s, not queued: not ingested again", document_id, document.status
        )
        return document
    progress = _ProgressReporter(document, on_progress)
    try:
        with ChunkSpool() as spool:
            report = _document_spool(document, progress, spool)
            stored = _chunks_store(document, spool, report.notes)
    except DocumentRejected as error:
        logger.info("Document %s rejected: %s (%s)", document_id, error.message, error.detail)
        _document_fail(document, error.message, error.detail)
    except Exception as error:
        logger.exception("Ingesting document %s failed", document_id)
        _document_fail(
            document,
            "Reading this document failed unexpectedly. Try again, or tell the admin.",
            f"{type(error).__name__}: {error}",
        )
        raise
    else:
        if stored:
            logger.info("Document %s ingested: %s chunks", document_id, spool.count)
            if on_progress is not None:
                on_progress(100)
    return Document.objects.filter(pk=document_id).first() or document


def document_delete(*, document: Document, user: AbstractBaseUser | None = None) -> None:
    """Delete a document, its chunks and their memories.

    `user` None is the system (admin actions are checked by the admin); otherwise
    its uploader, a moderator or the owner.
    """
    if user is not None:
        _document_change_check(document=document, user=user, action="delete")
    with transaction.atomic():
        locked = Document.objects.select_for_update().filter(pk=document.pk).first()
        if locked is None:
            raise NotFound(f"Document {document.pk} does not exist.")
        memory_ids = _memory_ids(locked)
        memory_services.memories_delete(memory_ids=memory_ids)
        file_name = locked.file.name
        storage = locked.file.storage
        locked.delete()
    transaction.on_commit(lambda: storage.delete(file_name))
    logger.info("Document %s deleted with %s memories", document.pk, len(memory_ids))


class DocumentBusy(LumaError):
    """Luma is reading the document now: it cannot be read again until that ends."""

    status_code = 409


def document_change_allowed(*, document: Document, user: AbstractBaseUser) -> bool:
    """A moderator or the owner may change what a document taught Luma; a viewer only
    their own upload while its memories are about them (once a moderator uploaded the
    same file, they are everyone's, and a viewer never changes those)."""
    role = role_of(user)
    if role >= Role.MODERATOR:
        return True
    return role == Role.VIEWER and document.subject_user_id == user.pk


def _document_change_check(*, document: Document, user: AbstractBaseUser, action: str) -> None:
    if not document_change_allowed(document=document, user=user):
        role_require(
            user, Role.MODERATOR, action=f"{action} documents about everyone or someone else"
        )


def document_chunk_delete(*, document: Document, chunk_id: int, user: AbstractBaseUser) -> None:
    """Forget one chunk: its memory goes through `memory_delete` (the chunk row with it),
    and the document's chunk count follows."""
    _document_change_check(document=document, user=user, action="delete the chunks of")
    with transaction.atomic():
        # Locked like `document_delete` and `document_reingest`, so the count stays true.
        locked = Document.objects.select_for_update().filter(pk=document.pk).first()
        chunk = (
            DocumentChunk.objects.select_related("memory")
            .filter(document=locked, pk=chunk_id)
            .first()
        )
        if locked is None or chunk is None:
            raise NotFound(f"Document {document.pk} has no chunk {chunk_id}.")
        memory_services.memory_delete(memory=chunk.memory)
        remaining = DocumentChunk.objects.filter(document=locked).count()
        Document.objects.filter(pk=locked.pk).update(
            chunk_count=remaining, updated_at=timezone.now()
        )
    document.refresh_from_db()
    logger.info("Document %s: chunk %s and its memory deleted", document.pk, chunk_id)


def document_reingest(
    *,
    document: Document,
    user: AbstractBaseUser,
    include_hidden_sheets: bool | None = None,
    enqueue: bool = True,
) -> Document:
    """Forget what a document taught Luma and queue it to be read again (with
    `include_hidden_sheets` changed when given). A document Luma is reading now is
    refused (`DocumentBusy`), unless its reading stalled for `LUMA_DOCUMENT_STALE_SECONDS`."""
    _document_change_check(document=document, user=user, action="read again")
    stale_before = timezone.now() - timedelta(seconds=settings.LUMA_DOCUMENT_STALE_SECONDS)
    with transaction.atomic():
        locked = Document.objects.select_for_update().filter(pk=document.pk).first()
        if locked is None:
            raise NotFound(f"Document {document.pk} does not exist.")
        if not locked.finished and locked.updated_at >= stale_before:
            raise DocumentBusy(
                f"Luma is reading {locked.name} now; read it again once that is done.",
                detail=f"status {locked.status}",
            )
        memory_ids = _memory_ids(locked)
        memory_services.memories_delete(memory_ids=memory_ids)
        changes: dict[str, bool] = {}
        if include_hidden_sheets is not None:
            changes["include_hidden_sheets"] = include_hidden_sheets
        Document.objects.filter(pk=locked.pk).update(
            status=DocumentStatus.QUEUED,
            progress=0,
            error="",
            error_detail="",
            chunk_count=0,
            notes=[],
            ingested_at=None,
            updated_at=timezone.now(),
            **changes,
        )
    logger.info("Document %s queued again; %s memories forgotten", document.pk, len(memory_ids))
    if enqueue:
        _ingestion_enqueue(document)
    document.refresh_from_db()
    return document
