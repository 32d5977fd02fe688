"""XLSX: every visible sheet, row by row, streamed with openpyxl's read-only reader.

The archive is checked before anything is unpacked: an XLSX is a zip file, and
a small one can unpack to gigabytes (a zip bomb).

A sheet's declared size (its `<dimension>`) is only a hint: programs write
A1:XFD1048576 for one formatted empty cell, or too small a size. So the rows are
parsed as the file holds them (openpyxl's streaming `WorkSheetParser`, not
`iter_rows`, which pads every row to the declared size and stops at it), and the
row and column limits count the cells that hold values.

Merged ranges are listed after the rows in a sheet's XML, and read-only openpyxl
does not expose them; they are read first from the sheet's XML without parsing its
rows (those are skipped as bytes), so that every cell a range covers gets its value
while the rows stream. openpyxl is pinned (requirements.txt) and these private
parts of it are pinned by the tests.
"""

import datetime
import logging
import re
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import IO, Any, BinaryIO
from xml.etree.ElementTree import Element

from defusedxml.ElementTree import iterparse
from django.conf import settings
from openpyxl.formula.tokenizer import TokenizerError
from openpyxl.formula.translate import Translator
from openpyxl.reader.excel import ExcelReader
from openpyxl.utils.cell import get_column_letter, range_boundaries
from openpyxl.workbook import Workbook
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from openpyxl.worksheet._reader import FORMULA_TAG, VALUE_TAG, WorkSheetParser
from openpyxl.xml.constants import SHEET_MAIN_NS

from documents.errors import CorruptFile, DocumentRejected, DocumentTooLong
from documents.extractors.archive import archive_check
from documents.extractors.base import (
    DEFAULT_OPTIONS,
    ExtractionReport,
    ExtractOptions,
    Location,
    Piece,
    Progress,
    no_progress,
)
from documents.extractors.text import row_text

logger = logging.getLogger(__name__)

MAX_COLUMNS = 1000
# Real sheets have a few hundred at most; the cap keeps a crafted sheet's list small.
MAX_MERGED_RANGES = 100_000
_PROGRESS_EVERY_ROWS = 1000

_PREFIX = rb"(?:[A-Za-z_][\w.-]*:)?"  # SpreadsheetML may be written with a namespace prefix
_ROOT_START = re.compile(rb"<" + _PREFIX + rb"worksheet\b[^>]*>")
_ROWS_END = re.compile(rb"</" + _PREFIX + rb"sheetData\s*>")
_SCAN_BYTES = 64 * 1024
_SCAN_OVERLAP = 256  # longer than any `</…sheetData>` tag, so none is cut between two reads
_MERGE_CELL_TAG = f"{{{SHEET_MAIN_NS}}}mergeCell"
_MERGE_CELLS_TAG = f"{{{SHEET_MAIN_NS}}}mergeCells"


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if type(value) is str:
        return value.strip()
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _plural(count: int, one: str, many: str) -> str:
    return f"{count:,} {one if count == 1 else many}"


# Merged ranges


@dataclass(slots=True)
class _Merge:
    min_col: int
    min_row: int
    max_col: int
    max_row: int
    value: str = ""


class _Joined:
    """A file-like view of `first`, then the rest of `rest`: the XML parser reads the
    sheet's start tag and then what follows its rows, never the rows."""

    def __init__(self, first: bytes, rest: IO[bytes]) -> None:
        self._first = first
        self._rest = rest

    def read(self, size: int = -1) -> bytes:
        if not self._first:
            return self._rest.read(size)
        if size < 0:
            data, self._first = self._first + self._rest.read(), b""
        else:
            data, self._first = self._first[:size], self._first[size:]
        return data


def _without_rows(source: IO[bytes]) -> _Joined | None:
    """The sheet's XML from its start to its root element's start tag, then from the end
    of `<sheetData>` on: still well-formed, and all the merged ranges are in it. None for
    a sheet without rows."""
    head = source.read(_SCAN_BYTES)
    root = _ROOT_START.search(head)
    if root is None:
        return None
    start, buffer = head[: root.end()], head[root.end() :]
    while (end := _ROWS_END.search(buffer)) is None:
        more = source.read(_SCAN_BYTES)
        if not more:
            return None
        buffer = buffer[-_SCAN_OVERLAP:] + more
    return _Joined(start + buffer[end.end() :], source)


def _merge_from(ref: str) -> _Merge | None:
    min_col, min_row, max_col, max_row = range_boundaries(ref)
    if None in (min_col, min_row, max_col, max_row):  # whole rows or columns: not a merge
        logger.info("Merged range %r ignored: not a range of cells", ref)
        return None
    return _Merge(
        min(min_col, max_col), min(min_row, max_row), max(min_col, max_col), max(min_row, max_row)
    )


def _merged_ranges(sheet: ReadOnlyWorksheet) -> list[_Merge]:
    merges: list[_Merge] = []
    with sheet._get_source() as source:
        rest = _without_rows(source)
        if rest is None:
            return merges
        for _event, element in iterparse(rest):
            if element.tag == _MERGE_CELLS_TAG:
                break
            if element.tag == _MERGE_CELL_TAG and (merge := _merge_from(element.get("ref", ""))):
                merges.append(merge)
                if len(merges) > MAX_MERGED_RANGES:
                    raise DocumentTooLong(
                        f'Sheet "{sheet.title}" has more than {MAX_MERGED_RANGES:,} merged '
                        "ranges; Luma reads at most that many."
                    )
            element.clear()
    return merges


class _MergeFill:
    """Gives each merged range's value (its top-left cell's) to every cell it covers,
    as the rows stream by in order, up to `last_column`: a range merged across a whole
    row (A3:XFD3) covers the table's columns, not 16,384."""

    def __init__(self, merges: list[_Merge]) -> None:
        self._waiting = sorted(merges, key=lambda merge: merge.min_row, reverse=True)
        self._active: list[_Merge] = []

    def apply(self, number: int, values: dict[int, str], last_column: int) -> None:
        while self._waiting and self._waiting[-1].min_row <= number:
            merge = self._waiting.pop()
            # A range whose first row held nothing (so was never seen) has no value to give.
            merge.value = values.get(merge.min_col, "") if merge.min_row == number else ""
            if merge.value:
                self._active.append(merge)
        if self._active:
            self._active = [merge for merge in self._active if merge.max_row >= number]
        for merge in self._active:
            for column in range(merge.min_col, min(merge.max_col, last_column) + 1):
                values[column] = merge.value


# Rows


def _holds_empty_text(element: Element) -> bool:
    """A formula whose saved result is the empty string (`=IF(A2="","",…)`): a value."""
    return element.get("t") == "str" and element.find(VALUE_TAG) is not None


class _RowParser(WorkSheetParser):
    """openpyxl's streaming sheet parser, reading saved values (as `data_only`), and a
    formula's text where the file holds no value for it: programs that write workbooks
    without computing them leave the value out, and the formula is all there is."""

    def __init__(self, sheet: ReadOnlyWorksheet, source: IO[bytes]) -> None:
        workbook: Workbook = sheet.parent
        super().__init__(
            source,
            sheet._shared_strings,
            data_only=True,
            epoch=workbook.epoch,
            date_formats=workbook._date_formats,
            timedelta_formats=workbook._timedelta_formats,
        )
        self.formulas_kept = 0
        self._shared: dict[str | None, tuple[str, str]] = {}

    def parse_cell(self, element: Element) -> dict[str, Any]:
        cell = super().parse_cell(element)
        formula = element.find(FORMULA_TAG)
        if formula is None:
            return cell
        coordinate = f"{get_column_letter(cell['column'])}{cell['row']}"
        if formula.get("t") == "shared" and formula.text:
            self._shared[formula.get("si")] = (f"={formula.text}", coordinate)
        if cell["value"] is None and not _holds_empty_text(element):
            text = self._formula_text(formula, coordinate)
            if text:
                cell["value"] = text
                self.formulas_kept += 1
        return cell

    def _formula_text(self, formula: Element, coordinate: str) -> str:
        if formula.text:
            return f"={formula.text}"
        # The cells below a shared formula hold only its index: theirs is the first one's,
        # moved. A data table's cells have no formula text at all.
        first = self._shared.get(formula.get("si")) if formula.get("t") == "shared" else None
        if first is None:
            return ""
        try:
            return Translator(*first).translate_formula(coordinate)
        except (TokenizerError, ValueError):
            logger.info("Shared formula %r not moved to %s", first[0], coordinate)
            return ""


def _row_values(title: str, number: int, cells: list[dict[str, Any]]) -> dict[int, str]:
    """The row's non-empty cells by column; formatted empty cells do not count."""
    values = {}
    for cell in cells:
        text = cell_text(cell["value"])
        if text:
            values[cell["column"]] = text
    if values and (last := max(values)) > MAX_COLUMNS:
        raise DocumentTooLong(
            f'Sheet "{title}" has {last:,} columns in row {number}; Luma reads '
            f"at most {MAX_COLUMNS:,}."
        )
    return values


def _sheet_pieces(
    sheet: ReadOnlyWorksheet, *, max_rows: int, on_row: Progress
) -> Generator[Piece, None, int]:
    """The sheet's rows that hold values, named by its first such row; returns how many
    formulas without a saved value were kept as text."""
    fill = _MergeFill(_merged_ranges(sheet))
    header: list[str] | None = None
    counted = 0
    with sheet._get_source() as raw:
        source = _Counted(raw)
        parser = _RowParser(sheet, source)  # type: ignore[arg-type]
        for parsed, (number, cells) in enumerate(parser.parse(), start=1):
            if parsed % _PROGRESS_EVERY_ROWS == 0:
                on_row(source.count)
            values = _row_values(sheet.title, number, cells)
            if not values:
                continue
            counted += 1
            if counted > max_rows:
                raise DocumentTooLong(
                    f'Sheet "{sheet.title}" has more than {max_rows:,} rows, the limit.'
                )
            fill.apply(number, values, len(header) if header is not None else MAX_COLUMNS)
            row = [values.get(column, "") for column in range(1, max(values) + 1)]
            if header is None:
                header = row
                continue
            yield Piece(row_text(header, row), Location(sheet=sheet.title, row_start=number))
    return parser.formulas_kept


# Workbook


class _UnmeasuredSheet(ReadOnlyWorksheet):
    """A read-only sheet that is not measured when opened: openpyxl reads the declared
    size, and parses the whole sheet to find it when there is none (files from
    streaming writers); Luma does not use that size (progress goes by bytes read)."""

    def _get_size(self) -> None:
        return None


class _WorkbookReader(ExcelReader):
    """openpyxl's read-only workbook reader, with `_UnmeasuredSheet`s (chart sheets,
    which hold no cells, left out as openpyxl does)."""

    def read_worksheets(self) -> None:
        for sheet, rel in self.parser.find_sheets():
            if rel.target not in self.valid_files or "chartsheet" in rel.Type:
                continue
            worksheet = _UnmeasuredSheet(self.wb, sheet.name, rel.target, self.shared_strings)
            worksheet.sheet_state = sheet.state
            self.wb._sheets.append(worksheet)


class _Counted:
    """A stream that counts the bytes read from it: how far into a sheet parsing got."""

    def __init__(self, source: IO[bytes]) -> None:
        self._source = source
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        data = self._source.read(size)
        self.count += len(data)
        return data


def _workbook_open(source: BinaryIO) -> Workbook:
    try:
        reader = _WorkbookReader(source, read_only=True, data_only=True)
        reader.read()
        return reader.wb
    except Exception as error:
        raise CorruptFile(
            "This Excel file cannot be read: it is damaged, or not an .xlsx workbook.",
            detail=f"{type(error).__name__}: {error}",
        ) from None


def _sheets_to_read(
    workbook: Workbook, options: ExtractOptions, report: ExtractionReport | None
) -> list[ReadOnlyWorksheet]:
    """The visible sheets, or every sheet when asked; the hidden ones left out are noted:
    people hide what is not for everyone (a sponsor's terms, private notes)."""
    sheets = workbook.worksheets
    if options.include_hidden_sheets:
        return sheets
    hidden = [sheet.title for sheet in sheets if sheet.sheet_state != "visible"]
    if hidden and report is not None:
        names = ", ".join(f'"{title}"' for title in hidden)
        report.note(f"{_plural(len(hidden), 'hidden sheet', 'hidden sheets')} skipped: {names}")
    return [sheet for sheet in sheets if sheet.sheet_state == "visible"]


def _formulas_note(count: int) -> str:
    if count == 1:
        return "1 formula cell had no saved value; its formula was kept"
    return f"{count:,} formula cells had no saved value; their formulas were kept"


def extract_xlsx(
    source: BinaryIO,
    *,
    progress: Progress = no_progress,
    options: ExtractOptions = DEFAULT_OPTIONS,
    report: ExtractionReport | None = None,
) -> Iterator[Piece]:
    """One piece per row that holds values, `header: value` for each cell, every visible
    sheet in turn (hidden ones too when `options` ask); what was left out or stood in for
    a value is noted in `report`."""
    archive_check(source, what="Excel file")
    max_rows = settings.LUMA_DOCUMENT_MAX_ROWS
    workbook = _workbook_open(source)
    try:
        sheets = _sheets_to_read(workbook, options, report)
        # Progress goes by the bytes of sheet XML parsed: declared sizes are not the truth.
        sizes = [workbook._archive.getinfo(sheet._worksheet_path).file_size for sheet in sheets]
        total = max(1, sum(sizes))
        done = formulas_kept = 0
        for sheet, size in zip(sheets, sizes, strict=True):

            def on_row(parsed: float, before: int = done) -> None:
                progress(min(1.0, (before + parsed) / total))

            formulas_kept += yield from _sheet_pieces(sheet, max_rows=max_rows, on_row=on_row)
            done += size
        if formulas_kept and report is not None:
            report.note(_formulas_note(formulas_kept))
    except DocumentRejected:
        raise
    except Exception as error:
        raise CorruptFile(
            "This Excel file cannot be read: part of it is damaged.",
            detail=f"{type(error).__name__}: {error}",
        ) from None
    finally:
        workbook.close()
    progress(1.0)
