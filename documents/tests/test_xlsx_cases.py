"""The XLSX field cases (shared/cases: merged ranges, an inflated declared size, hidden
sheets, formulas without a saved value), each with variants written here by openpyxl."""

import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import Workbook
from openpyxl.styles import Font

from documents.errors import DocumentTooLong
from documents.extractors import ExtractionReport, ExtractOptions, extract
from documents.models import DocumentStatus
from documents.tests import files
from memories.models import Memory
from memories.selectors import MemoryFilters, memory_search

CASES = Path(__file__).parent / "cases"
SHEET = "xl/worksheets/sheet1.xml"


def read(
    path: Path, *, include_hidden: bool = False, report: ExtractionReport | None = None
) -> list[tuple[str, int | None, str]]:
    options = ExtractOptions(include_hidden_sheets=include_hidden)
    with path.open("rb") as source:
        found = list(extract("xlsx", source, options=options, report=report))
    return [(piece.location.sheet, piece.location.row_start, piece.text) for piece in found]


def read_noted(path: Path, **options) -> tuple[list[tuple[str, int | None, str]], list[str]]:
    report = ExtractionReport()
    return read(path, report=report, **options), report.notes


@pytest.fixture
def workbook_file(tmp_path: Path) -> Callable[..., Path]:
    """A workbook written by openpyxl into a file; `build` fills it, `edit` rewrites the
    first sheet's XML for what openpyxl does not write (saved values, prefixes)."""

    def write(
        build: Callable[[Workbook], None], edit: Callable[[bytes], bytes] | None = None
    ) -> Path:
        workbook = Workbook()
        build(workbook)
        path = tmp_path / "book.xlsx"
        workbook.save(path)
        if edit is not None:
            sheet_xml_edit(path, edit)
        return path

    return write


def sheet_xml_edit(path: Path, edit: Callable[[bytes], bytes]) -> None:
    with zipfile.ZipFile(path) as archive:
        members = [(info.filename, archive.read(info.filename)) for info in archive.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members:
            archive.writestr(name, edit(content) if name == SHEET else content)


def rows_of(*rows: list) -> Callable[[Workbook], None]:
    def build(workbook: Workbook) -> None:
        for row in rows:
            workbook.active.append(row)

    return build


# Merged ranges: every cell a range covers carries its value.


def test_every_row_a_merged_week_covers_carries_the_week():
    found = read(CASES / "xlsx_merged_long.xlsx")
    weeks = [(row, text.split(";")[0]) for _, row, text in found]
    assert weeks == [(row, "Week: Week 1") for row in range(2, 16)] + [
        (row, "Week: Week 2") for row in range(16, 30)
    ]
    notes = "Notes: Collab with a guest artist, bring the drawing tablet and the spare mic"
    assert found[13] == ("Schedule", 15, f"Week: Week 1; Day: Day 14; Game: Hades; {notes}")
    assert found[26] == ("Schedule", 28, f"Week: Week 2; Day: Day 13; Game: Hades; {notes}")


def test_a_merged_header_names_every_column_it_covers(workbook_file):
    def build(workbook: Workbook) -> None:
        sheet = workbook.active
        sheet.title = "Scores"
        sheet.append(["Player", "Round scores", None, None])
        sheet.append(["Ana", 3, 5, 8])
        sheet.merge_cells("B1:D1")

    assert read(workbook_file(build)) == [
        ("Scores", 2, "Player: Ana; Round scores: 3; Round scores: 5; Round scores: 8")
    ]


def test_a_merged_block_gives_its_value_to_every_row_and_column_it_covers(workbook_file):
    def build(workbook: Workbook) -> None:
        sheet = workbook.active
        sheet.title = "Plan"
        for row in (
            ["Day", "Game", "Guest"],
            ["Fri", "Boss rush"],
            ["Sat"],
            ["Sun", "Tetris", "Kai"],
        ):
            sheet.append(row)
        sheet.merge_cells("B2:C3")

    assert read(workbook_file(build)) == [
        ("Plan", 2, "Day: Fri; Game: Boss rush; Guest: Boss rush"),
        ("Plan", 3, "Day: Sat; Game: Boss rush; Guest: Boss rush"),
        ("Plan", 4, "Day: Sun; Game: Tetris; Guest: Kai"),
    ]


def test_a_merged_range_alone_makes_no_rows_of_its_own(workbook_file):
    def build(workbook: Workbook) -> None:
        rows_of(["Week", "Game"], ["Week 1", "Hades"], [None, None], [None, None])(workbook)
        workbook.active.merge_cells("A2:A4")

    assert [text for _, _, text in read(workbook_file(build))] == ["Week: Week 1; Game: Hades"]


def test_a_range_merged_across_a_whole_row_covers_the_tables_columns(workbook_file):
    def build(workbook: Workbook) -> None:
        rows_of(["Day", "Game"], ["Mon", "Hades"], ["Break week"], ["Fri", "Celeste"])(workbook)
        workbook.active.merge_cells("A3:XFD3")

    assert [text for _, _, text in read(workbook_file(build))] == [
        "Day: Mon; Game: Hades",
        "Day: Break week; Game: Break week",
        "Day: Fri; Game: Celeste",
    ]


def test_each_sheet_has_its_own_merged_ranges(workbook_file):
    def build(workbook: Workbook) -> None:
        first = workbook.active
        first.title = "May"
        rows_of(["Week", "Game"], ["Week 1", "Hades"], [None, "Tetris"])(workbook)
        first.merge_cells("A2:A3")
        second = workbook.create_sheet("June")
        for row in (["Week", "Game"], ["Week 5", "Celeste"], ["Week 6", "Balatro"]):
            second.append(row)

    assert read(workbook_file(build)) == [
        ("May", 2, "Week: Week 1; Game: Hades"),
        ("May", 3, "Week: Week 1; Game: Tetris"),
        ("June", 2, "Week: Week 5; Game: Celeste"),
        ("June", 3, "Week: Week 6; Game: Balatro"),
    ]


def test_merged_ranges_are_found_when_the_sheet_xml_uses_a_namespace_prefix(workbook_file):
    def build(workbook: Workbook) -> None:
        rows_of(["Week", "Game"], ["Week 1", "Hades"], [None, "Tetris"])(workbook)
        workbook.active.merge_cells("A2:A3")

    def prefixed(xml: bytes) -> bytes:
        xml = re.sub(rb"<(/?)([A-Za-z]+)([\s/>])", rb"<\1x:\2\3", xml)
        return xml.replace(b'xmlns="', b'xmlns:x="', 1)

    path = workbook_file(build, edit=prefixed)
    with zipfile.ZipFile(path) as archive:
        assert b"<x:mergeCell " in archive.read(SHEET)
    assert [text for _, _, text in read(path)] == [
        "Week: Week 1; Game: Hades",
        "Week: Week 1; Game: Tetris",
    ]


# The declared size is a hint: the cells that hold values are measured.


def test_a_formatted_empty_cell_at_the_last_cell_excel_has_does_not_refuse_the_file():
    assert read(CASES / "xlsx_inflated_dimension.xlsx") == [
        ("Sheet1", 2, "Day: Mon; Game: Hades"),
        ("Sheet1", 3, "Day: Tue; Game: Celeste"),
        ("Sheet1", 4, "Day: Wed; Game: Tetris"),
    ]


def test_a_sheet_declaring_a_million_rows_is_read_by_the_rows_it_has(tmp_path):
    path = tmp_path / "claims.xlsx"
    path.write_bytes(files.huge_dimension_xlsx_bytes())
    assert read(path) == [("Sheet", 2, "a: 1; b: 2")]


def test_a_sheet_declaring_fewer_rows_than_it_holds_is_read_whole(workbook_file):
    def smaller(xml: bytes) -> bytes:
        return re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:B2"', xml)

    path = workbook_file(
        rows_of(["Day", "Game"], *[[f"Day {i}", "Hades"] for i in range(1, 5)]), edit=smaller
    )
    assert [row for _, row, _ in read(path)] == [2, 3, 4, 5]


def test_a_sheet_without_a_declared_size_is_read(workbook_file):
    def undeclared(xml: bytes) -> bytes:
        return re.sub(rb"<dimension [^>]*/>", b"", xml)

    path = workbook_file(rows_of(["Day", "Game"], ["Mon", "Hades"]), edit=undeclared)
    assert read(path) == [("Sheet", 2, "Day: Mon; Game: Hades")]


def test_formatted_empty_cells_far_to_the_right_are_not_columns(workbook_file):
    def build(workbook: Workbook) -> None:
        rows_of(["Day", "Game"], ["Mon", "Hades"])(workbook)
        workbook.active.cell(row=2, column=5000).font = Font(bold=True)

    assert [text for _, _, text in read(workbook_file(build))] == ["Day: Mon; Game: Hades"]


def test_a_value_past_the_column_limit_is_still_refused(workbook_file):
    def build(workbook: Workbook) -> None:
        rows_of(["Day", "Game"], ["Mon", "Hades"])(workbook)
        workbook.active.cell(row=2, column=1001, value="far")

    with pytest.raises(DocumentTooLong, match="1,001 columns in row 2; Luma reads at most 1,000"):
        read(workbook_file(build))


def test_the_row_limit_counts_rows_that_hold_values_not_row_numbers(workbook_file, settings):
    settings.LUMA_DOCUMENT_MAX_ROWS = 3

    def build(workbook: Workbook) -> None:
        sheet = workbook.active
        for number, value in ((1, "Day"), (500, "Mon"), (100_000, "Tue")):
            sheet.cell(row=number, column=1, value=value)
        sheet.cell(row=200_000, column=3).font = Font(bold=True)

    assert read(workbook_file(build)) == [
        ("Sheet", 500, "Day: Mon"),
        ("Sheet", 100_000, "Day: Tue"),
    ]


def test_a_sheet_with_more_rows_of_values_than_the_limit_is_refused(workbook_file, settings):
    settings.LUMA_DOCUMENT_MAX_ROWS = 3
    path = workbook_file(rows_of(["n"], [1], [None], [2], [3]))
    with pytest.raises(DocumentTooLong, match='Sheet "Sheet" has more than 3 rows, the limit'):
        read(path)


# Hidden sheets are left out unless asked for, and the report says so.


def test_a_hidden_sheet_is_left_out_and_noted():
    found, notes = read_noted(CASES / "xlsx_hidden_sheet.xlsx")
    assert found == [("Public", 2, "Day: Friday; Game: Hades")]
    assert notes == ['1 hidden sheet skipped: "Internal"']


def test_hidden_sheets_are_read_when_asked_for():
    found, notes = read_noted(CASES / "xlsx_hidden_sheet.xlsx", include_hidden=True)
    assert found == [
        ("Public", 2, "Day: Friday; Game: Hades"),
        ("Internal", 2, "Note: Sponsor pays 500 EUR, do not mention on stream"),
    ]
    assert notes == []


def test_very_hidden_sheets_are_left_out_too_and_named(workbook_file):
    def build(workbook: Workbook) -> None:
        rows_of(["Day"], ["Friday"])(workbook)
        for title, state in (("Notes", "hidden"), ("Secret", "veryHidden")):
            sheet = workbook.create_sheet(title)
            sheet.append(["Note"])
            sheet.append([f"{title} text"])
            sheet.sheet_state = state

    path = workbook_file(build)
    found, notes = read_noted(path)
    assert found == [("Sheet", 2, "Day: Friday")]
    assert notes == ['2 hidden sheets skipped: "Notes", "Secret"']
    assert [sheet for sheet, _, _ in read(path, include_hidden=True)] == [
        "Sheet",
        "Notes",
        "Secret",
    ]


def test_without_a_report_hidden_sheets_are_still_left_out():
    assert read(CASES / "xlsx_hidden_sheet.xlsx", report=None) == [
        ("Public", 2, "Day: Friday; Game: Hades")
    ]


def test_a_workbook_with_only_hidden_content_yields_nothing_but_the_note(workbook_file):
    def build(workbook: Workbook) -> None:
        workbook.create_sheet("Private").append(["Sponsor pays 500 EUR"])
        workbook["Private"].sheet_state = "hidden"

    assert read_noted(workbook_file(build)) == ([], ['1 hidden sheet skipped: "Private"'])


# Formulas without a saved value keep their text; saved values are kept as they are.


def test_a_formula_without_a_saved_value_keeps_its_text_and_is_noted():
    found, notes = read_noted(CASES / "xlsx_formula_nocache.xlsx")
    assert found == [
        ("Budget", 2, "Item: Mic; Cost: 120"),
        ("Budget", 3, "Item: Camera; Cost: 300"),
        ("Budget", 4, "Item: Total; Cost: =SUM(B2:B3)"),
    ]
    assert notes == ["1 formula cell had no saved value; its formula was kept"]


def test_formulas_written_by_openpyxl_keep_their_text(workbook_file):
    build = rows_of(
        ["Item", "Cost", "With tax"],
        ["Mic", 120, "=B2*1.2"],
        ["Camera", 300, "=B3*1.2"],
        ["Total", "=SUM(B2:B3)", None],
    )
    found, notes = read_noted(workbook_file(build))
    assert [text for _, _, text in found] == [
        "Item: Mic; Cost: 120; With tax: =B2*1.2",
        "Item: Camera; Cost: 300; With tax: =B3*1.2",
        "Item: Total; Cost: =SUM(B2:B3)",
    ]
    assert notes == ["3 formula cells had no saved value; their formulas were kept"]


def test_a_formula_with_a_saved_value_reads_as_its_value(workbook_file):
    def saved(xml: bytes) -> bytes:
        xml, count = re.subn(rb"(<f>SUM\(B2:B3\)</f>)<v>\s*</v>", rb"\1<v>420</v>", xml)
        assert count == 1
        return xml

    path = workbook_file(
        rows_of(["Item", "Cost"], ["Mic", 120], ["Camera", 300], ["Total", "=SUM(B2:B3)"]),
        edit=saved,
    )
    found, notes = read_noted(path)
    assert found[-1] == ("Sheet", 4, "Item: Total; Cost: 420")
    assert notes == []


def test_a_formula_whose_saved_value_is_empty_text_stays_empty(workbook_file):
    def empty_text(xml: bytes) -> bytes:
        return re.sub(rb'<c r="B2"([^>]*)><f>', rb'<c r="B2"\1 t="str"><f>', xml)

    path = workbook_file(
        rows_of(["Item", "Note"], ["Mic", '=IF(A2="Mic","","x")']), edit=empty_text
    )
    with zipfile.ZipFile(path) as archive:
        assert b't="str"><f>' in archive.read(SHEET)
    assert read_noted(path) == ([("Sheet", 2, "Item: Mic")], [])


def test_cells_sharing_a_formula_get_it_moved_to_their_own_row(workbook_file):
    def shared(xml: bytes) -> bytes:
        xml = xml.replace(b"<f>A2*B2</f>", b'<f t="shared" ref="C2:C4" si="0">A2*B2</f>')
        for row in (3, 4):
            xml = xml.replace(f"<f>A{row}*B{row}</f>".encode(), b'<f t="shared" si="0"/>')
        return xml

    build = rows_of(["Qty", "Price", "Sum"], *[[n, 2, f"=A{n + 1}*B{n + 1}"] for n in (1, 2, 3)])
    found, notes = read_noted(workbook_file(build, edit=shared))
    assert [text.split("; ")[-1] for _, _, text in found] == [
        "Sum: =A2*B2",
        "Sum: =A3*B3",
        "Sum: =A4*B4",
    ]
    assert notes == ["3 formula cells had no saved value; their formulas were kept"]


# Through the whole ingestion: what Luma remembers, and what the document page says.


def search(query: str) -> list[str]:
    _, found = memory_search(
        queryset=Memory.objects, query=query, filters=MemoryFilters(), offset=0, limit=50
    )
    return [item.memory.content for item in found]


def test_an_uploaded_schedule_remembers_the_merged_week_of_every_row(upload, settings):
    settings.LUMA_EMBEDDING_SOURCE = "none"
    document = upload("schedule.xlsx", (CASES / "xlsx_merged_long.xlsx").read_bytes())
    assert (document.status, document.notes) == (DocumentStatus.DONE, [])
    contents = [chunk.memory.content for chunk in document.chunks.select_related("memory")]
    assert sum(content.count("Week: Week 2;") for content in contents) == 14
    assert any("Week: Week 2; Day: Day 13; Game: Hades" in text for text in search("Week 2 Day 13"))


def test_an_uploaded_workbook_keeps_its_hidden_note_out_of_memory(upload, settings):
    settings.LUMA_EMBEDDING_SOURCE = "none"
    document = upload("plan.xlsx", (CASES / "xlsx_hidden_sheet.xlsx").read_bytes())
    assert (document.status, document.notes) == (
        DocumentStatus.DONE,
        ['1 hidden sheet skipped: "Internal"'],
    )
    assert not Memory.objects.filter(content__contains="do not mention").exists()
    assert not any("Sponsor pays" in text for text in search("sponsor mention stream"))


def test_an_uploaded_workbook_includes_hidden_sheets_when_asked(upload, settings):
    settings.LUMA_EMBEDDING_SOURCE = "none"
    data = (CASES / "xlsx_hidden_sheet.xlsx").read_bytes()
    document = upload("plan.xlsx", data, include_hidden_sheets=True)
    assert (document.status, document.notes) == (DocumentStatus.DONE, [])
    assert any("do not mention on stream" in text for text in search("sponsor mention stream"))


def test_an_upload_with_only_hidden_content_fails_saying_why(upload, workbook_file):
    def build(workbook: Workbook) -> None:
        workbook.create_sheet("Private").append(["Sponsor pays 500 EUR"])
        workbook["Private"].sheet_state = "hidden"

    document = upload("private.xlsx", workbook_file(build).read_bytes())
    assert document.status == DocumentStatus.FAILED
    assert document.error == (
        'This document has no text to remember. (1 hidden sheet skipped: "Private")'
    )
    assert not Memory.objects.exists()


def test_an_uploaded_workbook_notes_formulas_without_saved_values(upload):
    document = upload("budget.xlsx", (CASES / "xlsx_formula_nocache.xlsx").read_bytes())
    assert document.notes == ["1 formula cell had no saved value; its formula was kept"]
    memory = document.chunks.select_related("memory").get().memory
    assert "Item: Total; Cost: =SUM(B2:B3)" in memory.content
