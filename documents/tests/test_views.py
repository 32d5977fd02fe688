import pytest
from django.utils import timezone

from documents.models import Document, DocumentChunk
from documents.tests import files
from memories.models import Memory

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


def _lines(count: int) -> bytes:
    return "\n\n".join(f"Fact number {n} about Luma." for n in range(count)).encode()


def test_the_list_links_each_document_to_its_page(upload, moderator_client):
    document = upload("lore.txt", b"Luma likes tea.")
    html = moderator_client.get("/documents/").content.decode()
    assert f'<a href="/documents/{document.pk}/">lore.txt</a>' in html


def test_the_upload_form_takes_several_files_and_can_include_hidden_sheets(moderator_client):
    html = moderator_client.get("/documents/").content.decode()
    assert 'id="upload-file" name="file" required multiple' in html
    assert 'name="include_hidden_sheets"' in html and "Include hidden sheets" in html
    assert 'id="drop-zone"' in html and 'id="upload-list"' in html


def test_a_documents_page_shows_what_luma_learned_and_how_it_was_used(upload, moderator_client):
    document = upload("schedule.csv", b"Day,Game\r\nFriday,Hades\r\n")
    chunk = document.chunks.get()
    Memory.objects.filter(pk=chunk.memory_id).update(use_count=4, last_used_at=timezone.now())
    page = moderator_client.get(f"/documents/{document.pk}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert '<h1 class="document-name">schedule.csv</h1>' in html
    assert f'data-id="{chunk.pk}"' in html and chunk.location in html
    assert ">Day: Friday; Game: Hades<" in html  # the text, without its "From" line
    assert "4 times" in html
    assert "Nothing: Luma read all of it." in html
    assert 'id="reingest"' in html and "delete-chunk" in html


def test_a_documents_page_says_what_was_left_out(upload, moderator_client):
    document = upload("plan.xlsx", files.xlsx_bytes({"Plan": [["Day"], ["Friday"]]}))
    notes = ["1 hidden sheet skipped", "2 formula cells had no saved value"]
    Document.objects.filter(pk=document.pk).update(notes=notes)
    html = moderator_client.get(f"/documents/{document.pk}/").content.decode()
    assert "What was left out" in html
    assert "<li>1 hidden sheet skipped</li><li>2 formula cells had no saved value</li>" in html
    assert 'id="reingest-hidden"' in html  # a workbook can be read again with them


def test_a_documents_page_shows_the_heading_above_a_chunk(upload, moderator_client):
    document = upload("lore.txt", b"The moon base.")
    DocumentChunk.objects.filter(document=document).update(heading="Lore > Places")
    html = moderator_client.get(f"/documents/{document.pk}/").content.decode()
    assert '<span class="heading muted">Lore &gt; Places</span>' in html


def test_a_long_documents_chunks_come_a_hundred_a_page(upload, moderator_client, settings):
    settings.LUMA_DOCUMENT_CHUNK_CHARS = 30
    document = upload("facts.txt", _lines(130))
    assert document.chunk_count == 130
    first = moderator_client.get(f"/documents/{document.pk}/").content.decode()
    assert first.count("<tr data-id=") == 100 and "Page 1 of 2" in first
    second = moderator_client.get(f"/documents/{document.pk}/?page=2").content.decode()
    assert second.count("<tr data-id=") == 30 and "Fact number 129 about Luma." in second
    assert "Fact number 0 about Luma." not in second
    odd = moderator_client.get(f"/documents/{document.pk}/?page=abc")
    assert odd.status_code == 200  # a page that is not a number shows the first


def test_a_viewer_sees_their_own_documents_page_and_may_change_it(upload, user, user_client):
    document = upload("diary.txt", b"I stream on Sundays.", uploaded_by=user)
    html = user_client.get(f"/documents/{document.pk}/").content.decode()
    assert "I stream on Sundays." in html
    assert 'id="reingest"' in html and "delete-chunk" in html
    assert "viewer only" in html  # its memories are about its uploader


def test_someone_elses_or_an_unknown_documents_page_is_404(upload, user_client, moderator_client):
    document = upload("lore.txt", b"Luma likes tea.")
    assert user_client.get(f"/documents/{document.pk}/").status_code == 404
    assert moderator_client.get("/documents/999/").status_code == 404


def test_a_documents_page_needs_a_login(upload, client):
    document = upload("lore.txt", b"Luma likes tea.")
    response = client.get(f"/documents/{document.pk}/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_documents_page_escapes_what_the_document_says(upload, moderator_client):
    document = upload("<b>x</b>.txt", b"<script>alert(1)</script>")
    Document.objects.filter(pk=document.pk).update(notes=["<img src=x onerror=alert(1)>"])
    html = moderator_client.get(f"/documents/{document.pk}/").content.decode()
    assert "<script>alert(1)" not in html and "<img src=x" not in html and "<b>x</b>" not in html


def test_a_document_not_read_yet_says_so(upload, moderator_client, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    document = upload("lore.txt", b"Luma likes tea.")
    html = moderator_client.get(f"/documents/{document.pk}/").content.decode()
    assert 'data-status="queued"' in html and "None yet: Luma is reading it." in html
    assert 'id="reingest" data-name="lore.txt" disabled' in html


def test_someone_elses_document_is_a_friendly_not_found_page(upload, user_client):
    document = upload("lore.txt", b"The moon is made of cheese.")
    response = user_client.get(f"/documents/{document.pk}/")
    assert response.status_code == 404
    assert b"Not found" in response.content and b'aria-label="Main"' in response.content
