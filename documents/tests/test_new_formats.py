"""Word (.docx), Markdown and HTML: real files written here, read back piece by piece."""

import io
import zipfile

import docx
import pytest
from docx.oxml import parse_xml

from documents.errors import (
    ArchiveTooLarge,
    CorruptFile,
    DocumentTooLong,
    EncryptedFile,
    UnsupportedType,
)
from documents.extractors import ExtractionReport, detect_kind, extract
from documents.models import DocumentChunk
from documents.tests.files import docx_bytes, zip_rewrite

OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(50)


def pieces(kind: str, data: bytes, report: ExtractionReport | None = None) -> list[tuple[str, str]]:
    found = extract(kind, io.BytesIO(data), report=report)
    return [(piece.text, piece.location.label) for piece in found]


def kind_of(data: bytes, name: str) -> str:
    return detect_kind(io.BytesIO(data), name)


SCHEDULE = docx_bytes(
    ("p", "Luma's stream notes."),
    ("h", 1, "Schedule"),
    ("p", "Three streams a week."),
    ("h", 2, "Friday"),
    ("p", "Cosy games only."),
    ("table", [["Day", "Game"], ["Friday", "Hades"], ["Saturday", ""]]),
    ("h", 2, "Sunday"),
    ("p", "Rest day."),
    ("h", 1, "Lore"),
    ("p", "Luma fell from the moon."),
)


# DOCX


def test_a_docx_is_detected_by_its_zip_structure_whatever_its_name():
    assert kind_of(SCHEDULE, "notes.txt") == "docx"
    assert kind_of(SCHEDULE, "upload") == "docx"


def test_a_docx_is_read_in_order_with_headings_as_the_path_and_rows_by_header():
    assert pieces("docx", SCHEDULE) == [
        ("Luma's stream notes.", ""),
        ("Three streams a week.", 'section "Schedule"'),
        ("Cosy games only.", 'section "Schedule > Friday"'),
        ("Day: Friday; Game: Hades", 'section "Schedule > Friday", row 2'),
        ("Day: Saturday", 'section "Schedule > Friday", row 3'),
        ("Rest day.", 'section "Schedule > Sunday"'),
        ("Luma fell from the moon.", 'section "Lore"'),
    ]


def test_merged_docx_cells_count_once_across_and_repeat_down():
    document = docx.Document()
    table = document.add_table(rows=3, cols=3)
    for r, row in enumerate(
        [["Day", "Game", "Note"], ["Friday", "Hades", ""], ["", "Celeste", ""]]
    ):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    table.cell(1, 0).merge(table.cell(2, 0))  # "Friday" spans two rows
    table.cell(1, 1).merge(table.cell(1, 2))  # "Hades" spans two columns
    buffer = io.BytesIO()
    document.save(buffer)
    assert pieces("docx", buffer.getvalue()) == [
        ("Day: Friday; Game: Hades", "row 2"),
        ("Day: Friday; Game: Celeste", "row 3"),
    ]


def test_a_docx_table_of_one_row_is_read_as_text():
    data = docx_bytes(("table", [["Note", "Bring snacks"]]))
    assert pieces("docx", data) == [("Note\nBring snacks", "row 1")]


def test_a_docx_text_box_left_out_is_noted():
    document = docx.Document()
    paragraph = document.add_paragraph("Body text.")
    paragraph._p.append(
        parse_xml(
            '<w:r xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
            ' xmlns:v="urn:schemas-microsoft-com:vml"><w:pict><v:textbox><w:txbxContent>'
            "<w:p><w:r><w:t>Boxed</w:t></w:r></w:p></w:txbxContent></v:textbox></w:pict></w:r>"
        )
    )
    buffer = io.BytesIO()
    document.save(buffer)
    report = ExtractionReport()
    assert pieces("docx", buffer.getvalue(), report) == [("Body text.", "")]
    assert report.notes == ["1 text box not read"]


def test_a_truncated_docx_is_refused_as_damaged():
    truncated = SCHEDULE[: len(SCHEDULE) // 2]
    with pytest.raises(CorruptFile, match="damaged zip archive"):
        kind_of(truncated, "schedule.docx")
    with pytest.raises(CorruptFile, match="Word document cannot be read") as error:
        pieces("docx", truncated)
    assert "Excel" not in error.value.message


def test_a_docx_with_a_damaged_body_is_refused_as_damaged():
    broken = zip_rewrite(SCHEDULE, "word/document.xml", b"<w:document><w:body><w:p>")
    with pytest.raises(CorruptFile, match="Word document cannot be read"):
        pieces("docx", broken)


def test_a_docx_zip_bomb_is_refused_before_it_is_unpacked():
    with zipfile.ZipFile(io.BytesIO(SCHEDULE)) as archive:
        body = archive.read("word/document.xml")
    padding = b" " * (40 * 1024 * 1024)  # 40 MB of blanks pack into about 40 KB
    bomb = zip_rewrite(
        SCHEDULE, "word/document.xml", body.replace(b"<w:body>", b"<w:body>" + padding)
    )
    assert len(bomb) < 200_000
    assert kind_of(bomb, "bomb.docx") == "docx"
    with pytest.raises(ArchiveTooLarge, match=r"Word document .* zip bomb"):
        pieces("docx", bomb)


def test_a_docx_table_longer_than_the_limit_is_refused(settings):
    settings.LUMA_DOCUMENT_MAX_ROWS = 3
    data = docx_bytes(("table", [["n"], ["1"], ["2"], ["3"]]))
    with pytest.raises(DocumentTooLong, match="more than 3 rows"):
        pieces("docx", data)


@pytest.mark.parametrize("forged", ["gridBefore", "gridSpan"])
def test_a_docx_row_claiming_a_billion_columns_is_refused_without_building_them(forged):
    document = docx.Document()
    table = document.add_table(rows=2, cols=1)
    table.cell(0, 0).text, table.cell(1, 0).text = "Day", "Friday"
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    claim = f'<w:{forged} xmlns:w="{w}" w:val="1000000000"/>'
    if forged == "gridBefore":
        table.rows[1]._tr.get_or_add_trPr().append(parse_xml(claim))
    else:
        table.cell(1, 0)._tc.get_or_add_tcPr().append(parse_xml(claim))
    buffer = io.BytesIO()
    document.save(buffer)
    with pytest.raises(DocumentTooLong, match="1,000,000,000 columns"):
        pieces("docx", buffer.getvalue())


def test_a_zip_with_word_parts_but_no_package_is_refused_as_incomplete():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")
    with pytest.raises(UnsupportedType, match="incomplete Word document"):
        kind_of(buffer.getvalue(), "letter.docx")


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("letter.doc", r"old Office file: a Word document \(\.doc\)\. Save it as \.docx"),
        ("budget.xls", r"old Office file: an Excel workbook \(\.xls\)\. Save it as \.xlsx"),
        ("upload", r"old Office file: .*\.doc.*\.xls.*Save it as \.docx, \.xlsx or PDF"),
    ],
)
def test_an_old_office_file_is_refused_with_what_to_save_it_as(name, words):
    with pytest.raises(UnsupportedType, match=words):
        kind_of(OLE, name)


def test_a_password_protected_docx_is_refused_as_such():
    with pytest.raises(EncryptedFile, match="protected with a password"):
        kind_of(OLE, "secret.docx")


def test_a_docx_name_on_other_content_is_refused():
    with pytest.raises(UnsupportedType, match=r"named \.docx but its content is not"):
        kind_of(b"just text", "fake.docx")


# Markdown

LORE_MD = """---
title: Luma's lore
---
# Schedule

Luma streams *three* times a week, see [the site](https://example.com)
for **details**.

## Friday

- Cosy games
- Chat with `!lore`
  1. first
  2. second

| Day | Game |
|-----|------|
| Friday | Hades |
| Saturday | |

```python
print("moon")
```

<div>Raw <b>HTML</b><script>alert(1)</script></div>

## Sunday
> Rest day.

---

![Luma's moon cat](cat.png)
"""


def test_markdown_is_detected_by_its_name():
    assert kind_of(b"# Hi", "lore.md") == "md"
    assert kind_of(b"# Hi", "lore.MARKDOWN") == "md"
    assert kind_of(b"# Hi", "lore.txt") == "txt"


def test_markdown_is_read_without_its_syntax_under_its_headings_with_its_lines():
    assert pieces("md", LORE_MD.encode()) == [
        ("title: Luma's lore", "lines 1-3"),
        (
            "Luma streams three times a week, see the site\nfor details.",
            'section "Schedule", lines 6-7',
        ),
        (
            "- Cosy games\n- Chat with !lore\n  1. first\n  2. second",
            'section "Schedule > Friday", lines 11-14',
        ),
        ("Day: Friday; Game: Hades", 'section "Schedule > Friday", line 18'),
        ("Day: Saturday", 'section "Schedule > Friday", line 19'),
        ('print("moon")', 'section "Schedule > Friday", lines 21-23'),
        ("Raw HTML", 'section "Schedule > Friday", line 25'),
        ("Rest day.", 'section "Schedule > Sunday", line 28'),
        ("Luma's moon cat", 'section "Schedule > Sunday", line 32'),
    ]


def test_markdown_in_a_legacy_encoding_is_decoded():
    assert pieces("md", "# Café\n\nCrème brûlée.\n".encode("cp1252")) == [
        ("Crème brûlée.", 'section "Café", line 3'),
    ]


# HTML

PAGE = b"""<!DOCTYPE html>
<html><head><title>Luma | Home</title>
<meta name="description" content="Tracking junk">
<style>body { color: red }</style>
<script>alert(1)</script>
</head>
<body>
<!-- a comment nobody sees -->
<h1>Schedule</h1>
<p>Luma   streams
three times<br>a <b>week</b>.</p>
<noscript>Enable JavaScript</noscript>
<template><p>Template text</p></template>
<div hidden>Hidden text</div>
<p style="display: none">Invisible text</p>
<h2>Friday</h2>
<table>
  <caption>Games</caption>
  <thead><tr><th>Day</th><th>Game</th><th>Mood</th></tr></thead>
  <tbody>
    <tr><td rowspan="2">Friday</td><td>Hades</td><td>cosy</td></tr>
    <tr><td colspan="2">Celeste</td></tr>
  </tbody>
</table>
<pre>  moon
    cat</pre>
<h2>Sunday</h2>
<ul><li>Rest</li><li>Read <a href="/lore">lore</a></li></ul>
<script>document.write("evil")</script>
</body></html>"""


def test_html_is_detected_by_its_name_or_by_how_it_starts():
    assert kind_of(PAGE, "page.html") == "html"
    assert kind_of(PAGE, "page.HTM") == "html"
    assert kind_of(PAGE, "saved-page") == "html"
    assert kind_of(b"\n<html><body>hi</body></html>", "saved-page") == "html"
    saved_by_a_browser = b"<!-- saved from url=(0014)about:internet -->\r\n<HTML><BODY>hi"
    assert kind_of(saved_by_a_browser, "saved-page") == "html"
    assert kind_of(b"<p>just a fragment</p>", "saved-page") == "txt"
    assert kind_of(PAGE, "page.txt") == "txt"


def test_html_gives_visible_text_under_its_headings_and_table_rows_by_header():
    assert pieces("html", PAGE) == [
        ("Luma streams three times\na week.", 'section "Schedule"'),
        ("Games", 'section "Schedule > Friday"'),
        ("Day: Friday; Game: Hades; Mood: cosy", 'section "Schedule > Friday", row 2'),
        ("Day: Friday; Game: Celeste", 'section "Schedule > Friday", row 3'),
        ("  moon\n    cat", 'section "Schedule > Friday"'),
        ("Rest", 'section "Schedule > Sunday"'),
        ("Read lore", 'section "Schedule > Sunday"'),
    ]


def test_html_scripts_styles_and_hidden_parts_never_reach_the_text():
    text = "\n".join(text for text, _ in pieces("html", PAGE))
    for hidden in ("alert(1)", "evil", "color", "Luma | Home", "Tracking", "comment",
                   "JavaScript", "Template", "Hidden", "Invisible"):  # fmt: skip
        assert hidden not in text


def test_an_empty_html_page_gives_no_pieces():
    assert (
        pieces("html", b"<!doctype html><html><head><title>x</title></head><body></body></html>")
        == []
    )
    assert pieces("html", b"  \n") == []
    assert pieces("html", b"<script>alert(1)</script><!-- nothing -->") == []


def test_html_in_its_declared_encoding_is_decoded():
    page = '<html><head><meta charset="windows-1251"></head><body><p>Привет, Луна</p></body></html>'
    assert pieces("html", page.encode("cp1251")) == [("Привет, Луна", "")]


def test_html_nested_deeply_is_read_without_recursion():
    page = b"<div>" * 1500 + b"deep" + b"</div>" * 1500 + b"<p>after</p>"
    assert [text for text, _ in pieces("html", page)] == ["deep", "after"]


def test_html_nested_past_the_parser_limit_is_refused_not_cut_short():
    page = b"<div>" * 3000 + b"deep" + b"</div>" * 3000 + b"<p>after</p>"
    with pytest.raises(DocumentTooLong, match="nests its elements deeper"):
        pieces("html", page)


def test_an_html_table_longer_than_the_limit_is_refused(settings):
    settings.LUMA_DOCUMENT_MAX_ROWS = 2
    page = b"<table><tr><th>n</th></tr><tr><td>1</td></tr><tr><td>2</td></tr></table>"
    with pytest.raises(DocumentTooLong, match="more than 2 rows"):
        pieces("html", page)


# End to end: upload, ingest, chunks and memories


@pytest.mark.django_db
def test_an_uploaded_docx_becomes_memories_that_say_their_section_and_rows(upload):
    document = upload("schedule.docx", SCHEDULE)
    assert (document.status, document.kind) == ("done", "docx")
    chunks = {chunk.location: chunk for chunk in DocumentChunk.objects.filter(document=document)}
    rows = chunks['section "Schedule > Friday", rows 2-3']
    assert (rows.heading, rows.row_start, rows.row_end) == ("Schedule > Friday", 2, 3)
    assert rows.memory.content == (
        'From "schedule.docx" (section "Schedule > Friday", rows 2-3):\n'
        "Day: Friday; Game: Hades\nDay: Saturday"
    )
    assert chunks['section "Lore"'].memory.content.endswith("Luma fell from the moon.")


@pytest.mark.django_db
def test_an_uploaded_web_page_without_a_suffix_becomes_memories_of_its_text(upload):
    document = upload("saved-page", PAGE)
    assert (document.status, document.kind) == ("done", "html")
    contents = [chunk.memory.content for chunk in DocumentChunk.objects.filter(document=document)]
    assert (
        contents[0] == 'From "saved-page" (section "Schedule"):\nLuma streams three times\na week.'
    )
    assert not any("alert" in content or "evil" in content for content in contents)
