import io
import json

import pytest

from documents.chunking import chunks_from
from documents.errors import (
    ArchiveTooLarge,
    CorruptFile,
    DocumentTooLong,
    EmptyFile,
    EncryptedFile,
    InvalidJson,
    NoExtractableText,
    UndecodableText,
    UnsupportedType,
)
from documents.extractors import detect_kind, extract
from documents.tests import files


def pieces(kind: str, data: bytes) -> list:
    return list(extract(kind, io.BytesIO(data)))


def kind_of(data: bytes, name: str) -> str:
    return detect_kind(io.BytesIO(data), name)


# Detection: by content first.


def test_it_detects_a_pdf_by_content_whatever_its_name():
    assert kind_of(files.pdf_bytes(["hello"]), "notes.txt") == "pdf"


def test_it_detects_an_xlsx_by_its_zip_structure():
    assert kind_of(files.xlsx_bytes({"S": [["a"]]}), "upload.bin.txt") == "xlsx"


def test_it_uses_the_name_only_to_tell_text_formats_apart():
    assert kind_of(b"a,b\n1,2\n", "t.csv") == "csv"
    assert kind_of(b'{"a": 1}', "t.json") == "json"
    assert kind_of(b"hello", "t.txt") == "txt"
    assert kind_of(b' {"a": 1}', "no-extension") == "json"


@pytest.mark.parametrize(
    ("data", "name", "words"),
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(50), "photo.txt", "PNG image"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(50), "old.xls", "old Office file"),
        (b"just text", "fake.pdf", "named .pdf but its content is not"),
        (b"hello", "program.exe", "not supported"),
    ],
)
def test_it_refuses_types_it_does_not_read(data, name, words):
    with pytest.raises(UnsupportedType, match=words):
        kind_of(data, name)


def test_it_refuses_a_word_document_inside_a_zip():
    buffer = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")
    with pytest.raises(UnsupportedType, match="Word document"):
        kind_of(buffer.getvalue(), "letter.xlsx")


def test_it_refuses_an_empty_file():
    with pytest.raises(EmptyFile):
        kind_of(b"", "empty.txt")


# PDF


def test_a_pdf_gives_the_text_of_each_page_with_its_number():
    data = files.pdf_bytes(["Luma was born on the moon.", "", "Her rival is Captain Nebula."])
    found = pieces("pdf", data)
    assert [(p.location.page, p.text) for p in found] == [
        (1, "Luma was born on the moon."),
        (3, "Her rival is Captain Nebula."),
    ]
    assert found[1].location.label == "page 3"


def test_a_truncated_pdf_is_refused_as_damaged():
    data = files.pdf_bytes(["Some text " * 50] * 3)
    with pytest.raises(CorruptFile, match="damaged or incomplete"):
        pieces("pdf", data[: len(data) // 2])


def test_a_password_protected_pdf_is_refused():
    with pytest.raises(EncryptedFile, match="protected by a password"):
        pieces("pdf", files.pdf_bytes(["secret plans"], user_password="hunter2"))


def test_a_pdf_locked_only_against_editing_is_read():
    data = files.pdf_bytes(["open to read"], user_password="")
    assert [p.text for p in pieces("pdf", data)] == ["open to read"]


def test_a_scanned_pdf_says_it_has_no_text():
    with pytest.raises(NoExtractableText, match="scanned"):
        pieces("pdf", files.scanned_pdf_bytes())


# XLSX


def test_every_sheet_is_read_row_by_row_with_its_header_names():
    data = files.xlsx_bytes(
        {
            "Schedule": [["Day", "Game", "Time"], ["Monday", "Hades", "20:00"], [None, None, None]],
            "Sponsors": [["Name", "Rule"], ["Acme", "Say the code ACME10"]],
        }
    )
    found = pieces("xlsx", data)
    assert [(p.location.sheet, p.location.row_start, p.text) for p in found] == [
        ("Schedule", 2, "Day: Monday; Game: Hades; Time: 20:00"),
        ("Sponsors", 2, "Name: Acme; Rule: Say the code ACME10"),
    ]
    assert found[1].location.label == 'sheet "Sponsors", row 2'


def test_numbers_and_dates_read_as_people_write_them():
    import datetime

    data = files.xlsx_bytes({"S": [["When", "Viewers"], [datetime.datetime(2026, 1, 5), 1200.0]]})
    assert pieces("xlsx", data)[0].text == "When: 2026-01-05; Viewers: 1200"


def test_a_zip_bomb_xlsx_is_refused_before_it_is_unpacked():
    with pytest.raises(ArchiveTooLarge, match="zip bomb"):
        pieces("xlsx", files.zip_bomb_xlsx_bytes())


def test_rows_past_the_limit_are_refused(settings):
    settings.LUMA_DOCUMENT_MAX_ROWS = 5
    data = files.xlsx_bytes({"S": [["n"], *[[i] for i in range(10)]]})
    with pytest.raises(DocumentTooLong):
        pieces("xlsx", data)


def test_a_damaged_xlsx_is_refused():
    data = files.xlsx_bytes({"S": [["a"], ["b"]]})
    with pytest.raises(CorruptFile):
        pieces("xlsx", data[:-100])


# CSV


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "latin-1"])
def test_a_csv_is_read_in_its_encoding(encoding):
    rows = [["Name", "Favourite"], ["Zoë", "crème brûlée"], ["José", "café au lait"]]
    found = pieces("csv", files.csv_bytes(rows, encoding=encoding))
    assert [p.text for p in found] == [
        "Name: Zoë; Favourite: crème brûlée",
        "Name: José; Favourite: café au lait",
    ]
    assert found[0].location.label == "row 2"


def test_a_csv_dialect_is_detected():
    rows = [["Day", "Game"], ["Monday", "Hades, again"], ["Friday", "Tetris"]]
    text = b"Day;Game\nMonday;Hades, again\nFriday;Tetris\n"
    assert next(p.text for p in pieces("csv", text)) == "Day: Monday; Game: Hades, again"
    assert rows  # the same table as the text above


def test_binary_junk_named_txt_says_where_it_stops_being_text():
    junk = bytes(range(256)) * 4
    with pytest.raises(UndecodableText, match=r"byte 0 is a NUL"):
        pieces("txt", junk)


def test_control_characters_in_text_are_refused_with_their_line():
    junk = ("fine line\n" + "\x01\x02\x03\x04" * 20).encode()
    with pytest.raises(UndecodableText, match=r"line 2, column 1"):
        pieces("txt", junk)


# JSON


def test_nested_json_keeps_the_path_of_every_value():
    data = files.json_bytes(
        {"persona": {"name": "Luma", "likes": ["stars", "tea"]}, "sponsors": [{"code": "ACME10"}]}
    )
    found = pieces("json", data)
    assert [p.text for p in found] == [
        "persona.name: Luma",
        "persona.likes[0]: stars",
        "persona.likes[1]: tea",
        "sponsors[0].code: ACME10",
    ]
    assert found[3].location.json_path == "$.sponsors[0].code"


def test_json_chunks_name_the_common_path():
    data = files.json_bytes({"sponsors": [{"name": "Acme", "code": "ACME10"}], "x": 1})
    chunks = list(chunks_from(pieces("json", data), max_chars=50))
    assert [c.location.label for c in chunks] == ["$.sponsors[0]", "$.x"]


def test_invalid_json_says_where():
    with pytest.raises(InvalidJson, match="line 3, column 1"):
        pieces("json", b'{"a": 1,\n "b": 2\n')


def test_json_nested_too_deeply_is_refused_clearly():
    with pytest.raises(InvalidJson, match="nested too deeply"):
        pieces("json", b"[" * 100_000 + b"]" * 100_000)


def test_a_json_value_too_big_to_read_is_refused_clearly():
    with pytest.raises(InvalidJson):
        pieces("json", json.dumps({"n": 0}).replace("0", "9" * 5000).encode())


# TXT


def test_text_is_read_by_paragraph_with_its_lines():
    found = pieces("txt", "Luma's lore.\nChapter one.\n\n\nThe moon.\n".encode("utf-16"))
    assert [(p.text, p.location.label) for p in found] == [
        ("Luma's lore.\nChapter one.", "lines 1-2"),
        ("The moon.", "line 5"),
    ]
