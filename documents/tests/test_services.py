import os
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from chat.services import Speaker, conversation_reply, conversation_start
from documents.errors import AlreadyUploadedByOther, FileTooLarge, UnsupportedType
from documents.models import Document, DocumentChunk, DocumentStatus
from documents.selectors import chunk_text
from documents.services import (
    document_chunk_delete,
    document_create,
    document_delete,
    document_ingest,
    document_reingest,
)
from documents.tests import files
from luma.errors import PermissionDenied
from memories.models import Memory, MemorySource, MemoryStatus
from memories.services import InvalidMemory, memory_create

pytestmark = pytest.mark.django_db

LORE = [
    "Luma is a star spirit who fell from the Andromeda lighthouse.",
    "Her lucky number is 47 and her favourite snack is moon cheese.",
    "Her rival, Captain Nebula, steals the spotlight every full moon.",
]


def test_a_pdf_becomes_approved_global_document_memories_with_their_page(upload, moderator_user):
    document = upload("lore.pdf", files.pdf_bytes(LORE), importance=7)
    assert (document.status, document.progress, document.kind) == ("done", 100, "pdf")
    assert document.chunk_count == 3
    chunks = list(document.chunks.select_related("memory"))
    assert [chunk.page for chunk in chunks] == [1, 2, 3]
    memory = chunks[1].memory
    assert (memory.source, memory.status, memory.importance) == (
        MemorySource.DOCUMENT,
        MemoryStatus.APPROVED,
        7,
    )
    assert memory.is_global and memory.created_by == moderator_user
    assert memory.content == f'From "lore.pdf" (page 2):\n{LORE[1]}'


def test_a_workbook_keeps_sheet_and_rows_for_each_chunk(upload, settings):
    settings.LUMA_DOCUMENT_CHUNK_CHARS = 80
    rows = [["Day", "Game"], *[[f"Day {i}", f"Game {i}"] for i in range(1, 9)]]
    document = upload("schedule.xlsx", files.xlsx_bytes({"Schedule": rows, "Empty": []}))
    locations = [(c.sheet, c.row_start, c.row_end, c.location) for c in document.chunks.all()]
    assert locations[0] == ("Schedule", 2, 4, 'sheet "Schedule", rows 2-4')
    assert locations[-1][2] == 9
    assert "Day: Day 1; Game: Game 1" in document.chunks.first().memory.content


def test_the_same_content_is_not_stored_twice(upload, admin_user):
    first = upload("lore.pdf", files.pdf_bytes(LORE))
    again = upload("copy of lore.pdf", files.pdf_bytes(LORE), uploaded_by=admin_user)
    assert again.pk == first.pk
    assert Document.objects.count() == 1
    assert Memory.objects.filter(source=MemorySource.DOCUMENT).count() == 3


def test_a_viewers_document_becomes_memories_about_them_only(upload, user):
    document = upload("notes.txt", b"My cat is called Miso.", uploaded_by=user)
    memory = Memory.objects.get(document_chunk__document=document)
    assert (document.subject_user, memory.subject_user, memory.is_global) == (user, user, False)


def test_a_moderator_uploading_a_viewers_file_makes_it_everyones(upload, user, moderator_user):
    mine = upload("notes.txt", b"My cat is called Miso.", uploaded_by=user)
    again = upload("notes.txt", b"My cat is called Miso.", uploaded_by=moderator_user)
    memory = Memory.objects.get(document_chunk__document=mine)
    assert again.pk == mine.pk and again.subject_user is None and memory.is_global


def test_a_viewer_learns_nothing_of_a_file_someone_else_uploaded(upload, user):
    upload("lore.pdf", files.pdf_bytes(LORE))
    with pytest.raises(AlreadyUploadedByOther) as refused:
        upload("mine.pdf", files.pdf_bytes(LORE), uploaded_by=user)
    assert refused.value.status_code == 409 and "lore" not in refused.value.message
    assert Document.objects.count() == 1


def test_a_document_whose_worker_died_is_queued_again_by_a_new_upload(upload):
    document, _ = document_create(
        file=SimpleUploadedFile("lore.pdf", files.pdf_bytes(LORE)), name="lore.pdf", enqueue=False
    )
    # The worker took it, then died: no progress since.
    Document.objects.filter(pk=document.pk).update(status=DocumentStatus.PROCESSING)
    assert upload("lore.pdf", files.pdf_bytes(LORE)).status == DocumentStatus.PROCESSING

    Document.objects.filter(pk=document.pk).update(
        updated_at=timezone.now() - timedelta(seconds=settings.LUMA_DOCUMENT_STALE_SECONDS + 1)
    )
    again = upload("lore.pdf", files.pdf_bytes(LORE))

    assert again.pk == document.pk
    assert (again.status, again.chunk_count) == (DocumentStatus.DONE, 3)


def test_a_failed_document_is_kept_with_its_reason_and_no_memories(upload):
    document = upload("plans.pdf", files.pdf_bytes(["x"], user_password="pw"))
    assert document.status == DocumentStatus.FAILED
    assert "password" in document.error
    assert document.chunk_count == 0
    assert not Memory.objects.filter(source=MemorySource.DOCUMENT).exists()


def test_a_failure_while_writing_memories_leaves_none_behind(settings):
    settings.LUMA_DOCUMENT_CHUNK_CHARS = 60
    rows = [["Fact"], *[[f"fact number {i}"] for i in range(50)]]
    document, _ = document_create(
        file=SimpleUploadedFile("facts.csv", files.csv_bytes(rows)), name="facts.csv", enqueue=False
    )
    # An importance the memory service refuses makes it fail part-way through the chunks.
    Document.objects.filter(pk=document.pk).update(importance=99)
    memory_create(content="Luma likes tea.")
    with pytest.raises(InvalidMemory):  # unexpected errors are raised again for the worker
        document_ingest(document_id=document.pk)
    document.refresh_from_db()
    assert document.status == DocumentStatus.FAILED
    assert "unexpectedly" in document.error
    assert Memory.objects.count() == 1
    assert not document.chunks.exists()


def test_a_document_of_many_chunks_is_stored_whole(upload, settings):
    settings.LUMA_DOCUMENT_CHUNK_CHARS = 20
    settings.LUMA_EMBEDDING_SOURCE = "none"  # embeddings are the memory's business, and slow
    rows = [["Fact"], *[[f"fact {i}"] for i in range(1200)]]
    document = upload("facts.csv", files.csv_bytes(rows))
    assert document.chunk_count == 1200
    assert list(document.chunks.values_list("position", flat=True)) == list(range(1200))
    assert Memory.objects.filter(source=MemorySource.DOCUMENT).count() == 1200
    assert document.chunks.last().memory.content == 'From "facts.csv" (row 1201):\nFact: fact 1199'


def test_one_bad_upload_does_not_stop_the_next(upload):
    bad = upload("broken.json", b'{"a": ')
    good = upload("good.json", files.json_bytes({"a": "fine"}))
    assert (bad.status, good.status) == ("failed", "done")
    assert "line 1, column 7" in bad.error


def test_size_and_type_are_checked_before_anything_is_stored(settings, user, media_root):
    settings.LUMA_MAX_UPLOAD_BYTES = 100
    with pytest.raises(FileTooLarge, match="the largest upload is"):
        document_create(file=SimpleUploadedFile("big.txt", b"x" * 101), name="big.txt")
    with pytest.raises(UnsupportedType):
        document_create(file=SimpleUploadedFile("x.png", b"\x89PNG\r\n\x1a\n"), name="x.png")
    assert not Document.objects.exists()
    assert not any(media_root.rglob("*.*"))


def test_the_file_name_is_stored_without_folders(upload):
    document = upload("C:\\Users\\me\\lore.txt", b"hello")
    assert document.name == "lore.txt"
    assert document.file.name.endswith(f"{document.sha256}.txt")


def test_progress_is_reported_while_processing(user):
    seen = []
    document, _ = document_create(
        file=SimpleUploadedFile("lore.pdf", files.pdf_bytes([f"page {i}" for i in range(40)])),
        name="lore.pdf",
        enqueue=False,
    )
    assert document.status == DocumentStatus.QUEUED
    document_ingest(document_id=document.pk, on_progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == 100 and len(seen) > 5


@pytest.mark.parametrize("declared", ["A1:B2", "A1:XFD1048576", None])
def test_a_workbooks_progress_goes_by_what_is_read_whatever_size_it_declares(declared, settings):
    settings.LUMA_EMBEDDING_SOURCE = "none"  # progress is about reading; vectors come later
    data = files.xlsx_bytes({"S": [["Day", "Game"], *[[f"Day {i}", "Hades"] for i in range(4000)]]})
    if declared is not None:
        data = files.xlsx_with_dimension(data, declared)
    seen = []
    document, _ = document_create(
        file=SimpleUploadedFile("big.xlsx", data), name="big.xlsx", enqueue=False
    )
    document = document_ingest(document_id=document.pk, on_progress=seen.append)
    assert document.status == DocumentStatus.DONE and document.chunk_count > 0
    assert seen == sorted(seen) and seen[-1] == 100
    assert len([percent for percent in seen if 0 < percent < 90]) >= 3, seen


def test_deleting_a_document_deletes_its_memories_through_the_memory_service(
    upload, moderator_user, django_capture_on_commit_callbacks
):
    kept = memory_create(content="Luma likes tea.")
    document = upload("lore.pdf", files.pdf_bytes(LORE))
    path = document.file.path
    with django_capture_on_commit_callbacks(execute=True):
        document_delete(document=document, user=moderator_user)
    assert list(Memory.objects.all()) == [kept]
    assert not DocumentChunk.objects.exists()
    assert not os.path.exists(path)


def test_only_the_uploader_a_moderator_or_the_owner_may_delete(upload, other_user, admin_user):
    document = upload("lore.pdf", files.pdf_bytes(LORE))
    with pytest.raises(PermissionDenied):
        document_delete(document=document, user=other_user)
    document_delete(document=document, user=admin_user)
    assert not Document.objects.exists()


def test_a_document_deleted_while_processing_leaves_no_memories(user):
    document, _ = document_create(
        file=SimpleUploadedFile("lore.pdf", files.pdf_bytes(LORE)), name="lore.pdf", enqueue=False
    )

    def delete_midway(percent: int) -> None:
        if percent < 100 and Document.objects.filter(pk=document.pk).exists():
            document_delete(document=document)

    document_ingest(document_id=document.pk, on_progress=delete_midway)
    assert not Memory.objects.exists()
    assert not Document.objects.exists()


def test_a_fact_only_in_an_uploaded_document_reaches_the_prompt(
    upload, use_deepseek, openai_server, user
):
    for number in range(12):
        memory_create(content=f"Filler memory {number} about nothing in particular.", importance=5)
    upload(
        "sponsor-brief.pdf",
        files.pdf_bytes(
            [
                "Sponsor brief for Luma's channel.",
                "The sponsor discount code is ORBIT-7731: read it out once an hour.",
            ]
        ),
        importance=9,
    )
    done = conversation_reply(
        conversation=conversation_start(owner=user),
        speaker=Speaker(user=user),
        text="What is the sponsor discount code?",
    )
    system = openai_server.requests[-1]["json"]["messages"][0]["content"]
    assert "ORBIT-7731" in system
    assert 'From "sponsor-brief.pdf" (page 2)' in system
    chunk = DocumentChunk.objects.get(document__name="sponsor-brief.pdf", page=2)
    assert chunk.memory in done.memories


def test_a_viewer_cannot_change_their_file_once_it_is_everyones(upload, user, moderator_user):
    """Found by a fresh user: after a moderator uploaded the same file, its memories are
    global, and the viewer who uploaded it first must not delete them."""
    mine = upload("v1.txt", b"Karaoke night is Friday.", uploaded_by=user)
    shared = upload("v1.txt", b"Karaoke night is Friday.", uploaded_by=moderator_user)
    chunk = DocumentChunk.objects.get(document=shared)
    for change in (
        lambda: document_chunk_delete(document=shared, chunk_id=chunk.pk, user=user),
        lambda: document_reingest(document=shared, user=user),
        lambda: document_delete(document=shared, user=user),
    ):
        with pytest.raises(PermissionDenied):
            change()
    assert mine.pk == shared.pk and Memory.objects.filter(pk=chunk.memory_id).exists()


def test_a_chunk_without_a_place_shows_its_own_text(upload, moderator_user):
    document = upload("notes.docx", files.docx_bytes(("p", "Lore Bible"), ("h", 1, "Origins")))
    first = DocumentChunk.objects.filter(document=document).order_by("position").first()
    assert first.memory.content == 'From "notes.docx":\nLore Bible'
    assert chunk_text(first) == "Lore Bible"
