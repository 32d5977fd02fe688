import pytest

from documents.models import Document, DocumentStatus
from documents.tests import files
from memories.models import Memory

pytestmark = pytest.mark.django_db


def test_the_admin_lists_documents_with_their_chunks(upload, admin_client):
    document = upload("lore.pdf", files.pdf_bytes(["Luma was born on the moon."]))
    assert "lore.pdf" in admin_client.get("/admin/documents/document/").content.decode()
    page = admin_client.get(f"/admin/documents/document/{document.pk}/change/").content.decode()
    assert "page 1" in page


def test_deleting_in_the_admin_deletes_the_memories_too(upload, admin_client):
    document = upload("lore.pdf", files.pdf_bytes(["Luma was born on the moon."]))
    response = admin_client.post(
        "/admin/documents/document/",
        {"action": "delete_selected", "_selected_action": [document.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not Document.objects.exists() and not Memory.objects.exists()


def test_the_admin_ingests_failed_documents_again(upload, admin_client):
    failed = upload("broken.json", b"{")
    done = upload("fine.json", b'{"a": 1}')
    response = admin_client.post(
        "/admin/documents/document/",
        {"action": "ingest_again", "_selected_action": [failed.pk, done.pk]},
        follow=True,
    )
    text = response.content.decode()
    assert "1 document(s) queued again." in text and "1 skipped" in text
    failed.refresh_from_db()
    assert failed.status == DocumentStatus.FAILED  # the same bytes fail the same way
    assert "not valid JSON" in failed.error
