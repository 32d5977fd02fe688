import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from documents.models import Document
from documents.tests import files
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
