import io

import pytest
from django.core.management import CommandError, call_command

from documents.models import Document
from documents.tests import files

pytestmark = pytest.mark.django_db


def test_ingest_reads_files_and_folders_with_a_progress_bar(tmp_path, user):
    folder = tmp_path / "lore"
    folder.mkdir()
    (folder / "lore.pdf").write_bytes(files.pdf_bytes(["Page one.", "Page two."]))
    (folder / "schedule.xlsx").write_bytes(files.xlsx_bytes({"S": [["Day"], ["Friday"]]}))
    (folder / ".hidden.txt").write_text("skip me")
    single = tmp_path / "notes.txt"
    single.write_text("Luma likes tea.")
    out = io.StringIO()
    call_command(
        "ingest", str(folder), str(single), "--user", "viewer", "--importance", "7", stdout=out
    )
    output = out.getvalue()
    assert "[1/3] lore.pdf [" in output and "100%" in output
    assert "[3/3] notes.txt: done, 1 chunks" in output
    assert Document.objects.count() == 3
    assert set(Document.objects.values_list("status", "importance")) == {("done", 7)}
    assert Document.objects.get(name="notes.txt").uploaded_by == user


def test_ingest_reports_bad_files_and_still_reads_the_others(tmp_path):
    (tmp_path / "junk.txt").write_bytes(bytes(range(256)))
    (tmp_path / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(20))
    (tmp_path / "ok.json").write_bytes(b'{"a": 1}')
    out = io.StringIO()
    with pytest.raises(CommandError, match="2 of 3 file"):
        call_command("ingest", str(tmp_path), stdout=out)
    output = out.getvalue()
    assert "junk.txt: failed: This file does not look like text" in output
    assert "photo.png: refused: This file is a PNG image" in output
    assert Document.objects.get(name="ok.json").status == "done"


def test_ingest_again_says_the_file_was_already_uploaded(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("Luma likes tea.")
    call_command("ingest", str(path), stdout=io.StringIO())
    out = io.StringIO()
    call_command("ingest", str(path), stdout=out)
    assert "(already uploaded)" in out.getvalue()
    assert Document.objects.count() == 1


def test_ingest_refuses_a_missing_path():
    with pytest.raises(CommandError, match="no such file"):
        call_command("ingest", "/does/not/exist", stdout=io.StringIO())
