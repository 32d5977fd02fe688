import pytest

from documents.tests import files

pytestmark = pytest.mark.django_db


def test_the_page_lists_documents_with_status_size_and_chunks(upload, moderator_client):
    upload("lore.pdf", files.pdf_bytes(["Luma was born on the moon."]))
    upload("broken.json", b"{")
    page = moderator_client.get("/documents/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "lore.pdf" in html and "Done" in html and 'class="chunks">1<' in html
    assert "broken.json" in html and "not valid JSON" in html
    assert 'id="upload-form"' in html and "documents/documents.js" in html


def test_the_page_escapes_file_names(upload, moderator_client):
    upload("<script>alert(1)</script>.txt", b"hello")
    html = moderator_client.get("/documents/").content.decode()
    assert "<script>alert(1)" not in html


def test_the_page_needs_a_login(client):
    response = client.get("/documents/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
