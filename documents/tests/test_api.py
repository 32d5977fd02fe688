from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from documents.models import Document
from documents.services import document_change_allowed, document_chunk_delete, document_reingest
from documents.tests import files
from luma.errors import PermissionDenied
from memories.models import Memory

pytestmark = pytest.mark.django_db


def test_upload_returns_the_document_with_its_status_and_chunk_count(post_file):
    response = post_file("schedule.csv", b"Day,Game\r\nFriday,Hades\r\n", importance="8")
    body = response.json()
    assert response.status_code == 201, body
    assert {k: body[k] for k in ("name", "kind", "status", "progress", "error", "chunk_count")} == {
        "name": "schedule.csv",
        "kind": "csv",
        "status": "done",
        "progress": 100,
        "error": "",
        "chunk_count": 1,
    }
    assert body["importance"] == 8 and body["uploaded_by"] == "mod"


def test_uploading_the_same_file_again_returns_the_first_one(post_file):
    first = post_file("a.txt", b"Luma likes tea.").json()
    again = post_file("b.txt", b"Luma likes tea.")
    assert again.status_code == 200
    assert again.json()["id"] == first["id"]


def test_a_file_that_fails_ingestion_shows_why(post_file, moderator_client):
    created = post_file("plans.pdf", files.pdf_bytes(["secret"], user_password="pw")).json()
    body = moderator_client.get(f"/api/documents/{created['id']}").json()
    assert body["status"] == "failed"
    assert "password" in body["error"]
    assert body["chunk_count"] == 0


def test_an_oversized_upload_is_refused_with_413(post_file, settings):
    settings.LUMA_MAX_UPLOAD_BYTES = 1000
    response = post_file("big.txt", b"x" * 1001)
    assert response.status_code == 413
    assert "largest upload is" in response.json()["message"]
    assert not Document.objects.exists()


def test_uploads_past_the_per_user_rate_are_refused_with_429(post_file, settings):
    settings.LUMA_UPLOAD_RATE = "2/3600"
    assert post_file("a.txt", b"One fact.").status_code == 201
    assert post_file("b.txt", b"Another fact.").status_code == 201
    refused = post_file("c.txt", b"A third fact.")
    assert refused.status_code == 429
    assert "at most 2 upload requests" in refused.json()["message"]
    assert Document.objects.count() == 2


def test_an_unknown_type_is_refused_with_415(post_file):
    response = post_file("photo.jpg", b"\xff\xd8\xff\xe0" + bytes(100))
    assert response.status_code == 415
    assert "JPEG" in response.json()["message"]


def test_an_upload_without_a_file_is_refused(moderator_client):
    response = moderator_client.post("/api/documents", {})
    assert response.status_code == 422
    assert "file" in response.json()["message"]


def test_an_out_of_range_importance_is_refused(post_file):
    response = post_file("a.txt", b"hello", importance="11")
    assert response.status_code == 422
    assert "Importance" in response.json()["message"]


def test_the_list_shows_documents_newest_first(post_file, moderator_client):
    post_file("a.txt", b"first")
    post_file("b.txt", b"second")
    body = moderator_client.get("/api/documents").json()
    assert body["count"] == 2
    assert [item["name"] for item in body["items"]] == ["b.txt", "a.txt"]


def test_an_unknown_document_is_404(moderator_client):
    response = moderator_client.get("/api/documents/999")
    assert response.status_code == 404
    assert response.json()["message"] == "Document 999 does not exist."


def test_delete_removes_the_document_and_its_memories(post_file, moderator_client):
    created = post_file("a.txt", b"Luma likes tea.").json()
    assert Memory.objects.count() == 1
    response = moderator_client.delete(f"/api/documents/{created['id']}")
    assert response.status_code == 204
    assert not Document.objects.exists() and not Memory.objects.exists()


def test_someone_else_cannot_delete_your_document(post_file, other_user):
    created = post_file("a.txt", b"Luma likes tea.").json()
    stranger = Client()
    stranger.force_login(other_user)
    response = stranger.delete(f"/api/documents/{created['id']}")
    assert response.status_code == 404  # a viewer does not even see it
    assert Document.objects.exists()


def test_the_documents_api_needs_a_login(client):
    assert client.get("/api/documents").status_code == 401
    upload = client.post("/api/documents", {"file": SimpleUploadedFile("a.txt", b"hi")})
    assert upload.status_code == 401
    assert not Document.objects.exists()


def test_a_session_upload_needs_the_csrf_token(moderator_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(moderator_user)
    response = client.post("/api/documents", {"file": SimpleUploadedFile("a.txt", b"hi")})
    assert response.status_code == 403
    assert not Document.objects.exists()


def test_the_openapi_schema_describes_the_upload(moderator_client):
    schema = moderator_client.get("/api/openapi.json").json()
    upload = schema["paths"]["/api/documents"]["post"]
    assert "multipart/form-data" in upload["requestBody"]["content"]


# What a document taught Luma: its chunks, forgetting one, reading it again.


def _schedule(upload, **options) -> Document:
    return upload("schedule.csv", b"Day,Game\r\nFriday,Hades\r\nSaturday,Celeste\r\n", **options)


def _lines(count: int) -> bytes:
    return "\n\n".join(f"Fact number {n} about Luma." for n in range(count)).encode()


def _client_for(role: str, request) -> Client:
    fixture = {"viewer": "user", "moderator": "moderator_user", "owner": "admin_user"}[role]
    client = Client()
    client.force_login(request.getfixturevalue(fixture))
    return client


def test_the_chunks_of_a_document_say_where_each_came_from_and_how_it_was_used(
    upload, moderator_client
):
    document = _schedule(upload)
    chunk = document.chunks.get()
    Memory.objects.filter(pk=chunk.memory_id).update(use_count=3, last_used_at=timezone.now())
    response = moderator_client.get(f"/api/documents/{document.pk}/chunks")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    [item] = body["items"]
    assert {k: item[k] for k in ("id", "position", "location", "page", "sheet", "row_start",
                                 "row_end", "heading", "json_path", "memory_id", "use_count")} == {
        "id": chunk.pk, "position": 0, "location": chunk.location, "page": None, "sheet": "",
        "row_start": 2, "row_end": 3, "heading": "", "json_path": "", "memory_id": chunk.memory_id,
        "use_count": 3,
    }  # fmt: skip
    assert item["last_used_at"] is not None
    assert item["content"].startswith('From "schedule.csv" (')
    assert item["text"] == "Day: Friday; Game: Hades\nDay: Saturday; Game: Celeste"


def test_the_chunks_come_in_reading_order_a_page_at_a_time(upload, moderator_client, settings):
    settings.LUMA_DOCUMENT_CHUNK_CHARS = 30
    document = upload("facts.txt", _lines(12))
    assert document.chunk_count == 12
    page = moderator_client.get(f"/api/documents/{document.pk}/chunks?limit=5&offset=5").json()
    assert page["count"] == 12
    assert [item["position"] for item in page["items"]] == [5, 6, 7, 8, 9]
    assert page["items"][0]["text"] == "Fact number 5 about Luma."


# Who asks, whose document it is, and the status they get.
BY_ROLE_AND_UPLOADER = pytest.mark.parametrize(
    ("role", "whose", "expected"),
    [
        ("anonymous", "a viewer's", 401),
        ("viewer", "own", 200),
        ("viewer", "someone else's", 404),
        ("moderator", "a viewer's", 200),
        ("moderator", "someone else's", 200),
        ("owner", "someone else's", 200),
    ],
)


@BY_ROLE_AND_UPLOADER
def test_who_sees_the_chunks(request, upload, user, role, whose, expected):
    uploader = user if whose in {"own", "a viewer's"} else request.getfixturevalue("other_user")
    document = _schedule(upload, uploaded_by=uploader)
    client = Client() if role == "anonymous" else _client_for(role, request)
    assert client.get(f"/api/documents/{document.pk}/chunks").status_code == expected


@pytest.mark.parametrize(
    ("role", "whose", "expected"),
    [
        ("anonymous", "a viewer's", 401),
        ("viewer", "own", 204),
        ("viewer", "someone else's", 404),
        ("moderator", "a viewer's", 204),
        ("moderator", "someone else's", 204),
        ("owner", "someone else's", 204),
    ],
)
def test_who_may_delete_a_chunk(request, upload, user, settings, role, whose, expected):
    settings.LUMA_DOCUMENT_CHUNK_CHARS = 30
    uploader = user if whose in {"own", "a viewer's"} else request.getfixturevalue("other_user")
    document = upload("facts.txt", _lines(3), uploaded_by=uploader)
    first, second, third = document.chunks.order_by("position")
    client = Client() if role == "anonymous" else _client_for(role, request)
    response = client.delete(f"/api/documents/{document.pk}/chunks/{second.pk}")
    assert response.status_code == expected
    document.refresh_from_db()
    if expected == 204:
        assert not Memory.objects.filter(pk=second.memory_id).exists()
        assert [c.pk for c in document.chunks.order_by("position")] == [first.pk, third.pk]
        assert document.chunk_count == 2
    else:
        assert Memory.objects.filter(pk=second.memory_id).exists()
        assert document.chunk_count == 3


def test_deleting_a_chunk_forgets_it_in_search_too(upload, moderator_client):
    document = upload("lore.txt", b"Luma's spaceship is called Meridian.")
    chunk = document.chunks.get()
    found = moderator_client.get("/api/memory/search?q=Meridian").json()["items"]
    assert [item["memory"]["id"] for item in found] == [chunk.memory_id]
    moderator_client.delete(f"/api/documents/{document.pk}/chunks/{chunk.pk}")
    assert moderator_client.get("/api/memory/search?q=Meridian").json()["items"] == []
    assert moderator_client.get(f"/api/documents/{document.pk}").json()["chunk_count"] == 0


def test_a_chunk_of_another_document_or_none_at_all_is_404(upload, moderator_client):
    document = _schedule(upload)
    other = upload("lore.txt", b"Luma likes tea.")
    chunk = other.chunks.get()
    response = moderator_client.delete(f"/api/documents/{document.pk}/chunks/{chunk.pk}")
    assert response.status_code == 404
    assert Memory.objects.filter(pk=chunk.memory_id).exists()
    assert moderator_client.delete(f"/api/documents/{document.pk}/chunks/999").status_code == 404
    assert moderator_client.get("/api/documents/999/chunks").status_code == 404


def test_only_the_uploader_and_moderators_may_change_a_document(upload, user, other_user):
    """A viewer never sees someone else's document through the API (404 first); the
    services refuse them all the same, with the role it needs."""
    document = _schedule(upload, uploaded_by=other_user)
    chunk = document.chunks.get()
    with pytest.raises(PermissionDenied, match=r"^Only moderators and the owner can delete"):
        document_chunk_delete(document=document, chunk_id=chunk.pk, user=user)
    with pytest.raises(PermissionDenied, match=r"^Only moderators and the owner can read again"):
        document_reingest(document=document, user=user)
    assert Memory.objects.filter(pk=chunk.memory_id).exists()
    assert document_change_allowed(document=document, user=other_user)
    assert not document_change_allowed(document=document, user=user)


@BY_ROLE_AND_UPLOADER
def test_who_may_read_a_document_again(request, upload, user, role, whose, expected):
    uploader = user if whose in {"own", "a viewer's"} else request.getfixturevalue("other_user")
    document = _schedule(upload, uploaded_by=uploader)
    before = document.chunks.get().memory_id
    client = Client() if role == "anonymous" else _client_for(role, request)
    response = client.post(f"/api/documents/{document.pk}/reingest")
    assert response.status_code == expected
    assert Memory.objects.filter(pk=before).exists() is (expected != 200)


def test_reading_again_replaces_the_memories_and_their_use(upload, moderator_client):
    document = _schedule(upload, importance=8)
    old = document.chunks.get().memory
    Memory.objects.filter(pk=old.pk).update(use_count=5)
    response = moderator_client.post(f"/api/documents/{document.pk}/reingest")
    body = response.json()
    assert response.status_code == 200
    assert (body["status"], body["chunk_count"]) == ("done", 1)  # tasks run at once in tests
    assert not Memory.objects.filter(pk=old.pk).exists()
    new = Document.objects.get(pk=document.pk).chunks.get().memory
    assert (new.content, new.use_count, new.importance) == (old.content, 0, 8)


def test_reading_again_queues_the_document_with_its_memories_gone(
    upload, moderator_client, settings
):
    document = _schedule(upload)
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    body = moderator_client.post(f"/api/documents/{document.pk}/reingest").json()
    assert {k: body[k] for k in ("status", "progress", "chunk_count", "notes", "error")} == {
        "status": "queued", "progress": 0, "chunk_count": 0, "notes": [], "error": "",
    }  # fmt: skip
    assert not Memory.objects.exists() and not document.chunks.exists()


def test_reading_again_can_change_whether_hidden_sheets_are_read(upload, moderator_client):
    document = upload("plan.xlsx", files.xlsx_bytes({"Plan": [["Day"], ["Friday"]]}))
    url = f"/api/documents/{document.pk}/reingest"
    assert moderator_client.post(url, {"include_hidden_sheets": "true"}).json()[
        "include_hidden_sheets"
    ]
    assert moderator_client.post(url).json()["include_hidden_sheets"]  # unchanged without it
    assert not moderator_client.post(url, {"include_hidden_sheets": "false"}).json()[
        "include_hidden_sheets"
    ]


def test_a_document_luma_is_reading_is_not_read_again_until_it_stalls(
    upload, moderator_client, settings
):
    document = _schedule(upload)
    memory = document.chunks.get().memory_id
    Document.objects.filter(pk=document.pk).update(status="processing", updated_at=timezone.now())
    refused = moderator_client.post(f"/api/documents/{document.pk}/reingest")
    assert refused.status_code == 409
    assert "reading schedule.csv now" in refused.json()["message"]
    assert Memory.objects.filter(pk=memory).exists()
    stalled = timezone.now() - timedelta(seconds=settings.LUMA_DOCUMENT_STALE_SECONDS + 1)
    Document.objects.filter(pk=document.pk).update(updated_at=stalled)
    assert moderator_client.post(f"/api/documents/{document.pk}/reingest").status_code == 200
    assert not Memory.objects.filter(pk=memory).exists()


def test_a_failed_document_can_be_read_again(upload, moderator_client):
    document = upload("broken.json", b"{")
    assert document.status == "failed"
    body = moderator_client.post(f"/api/documents/{document.pk}/reingest").json()
    assert body["status"] == "failed" and "not valid JSON" in body["error"]


def test_reading_again_counts_against_the_upload_rate(upload, moderator_client, settings):
    document = _schedule(upload)
    settings.LUMA_UPLOAD_RATE = "1/3600"
    assert moderator_client.post(f"/api/documents/{document.pk}/reingest").status_code == 200
    refused = moderator_client.post(f"/api/documents/{document.pk}/reingest")
    assert refused.status_code == 429
    assert Document.objects.get(pk=document.pk).chunk_count == 1


def test_the_openapi_schema_describes_every_chunk_operation(moderator_client):
    paths = moderator_client.get("/api/openapi.json").json()["paths"]
    operations = [
        paths["/api/documents/{document_id}/chunks"]["get"],
        paths["/api/documents/{document_id}/chunks/{chunk_id}"]["delete"],
        paths["/api/documents/{document_id}/reingest"]["post"],
    ]
    for operation in operations:
        assert operation["summary"] and operation["description"]
        assert {"401", "403", "404"} <= operation["responses"].keys()
    assert {"200", "409", "429"} <= operations[2]["responses"].keys()
    assert "204" in operations[1]["responses"]
