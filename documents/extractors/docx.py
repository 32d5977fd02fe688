"""Word (.docx): paragraphs in order under their headings, tables row by row.

A .docx is a zip, so it gets the XLSX zip-bomb check before anything is
unpacked. python-docx then parses every XML part of the package at once (it
has no streaming mode), so their unpacked size has a limit of its own.
Tables are read from their XML grid rather than python-docx's `row.cells`,
which follows a vertical merge upwards by recursion, once per row of it.
"""

import re
import zipfile
from collections.abc import Iterator
from typing import BinaryIO

import docx
from django.conf import settings
from docx.document import Document as WordDocument
from docx.enum.style import WD_STYLE_TYPE
from docx.styles.style import BaseStyle
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

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
from documents.extractors.markup import HeadingPath, columns_check, table_pieces

# A 1,000-page novel's XML is about 30 MB; parsed, lxml holds several times that.
MAX_XML_BYTES = 64 * 1024 * 1024
_HEADING_STYLE = re.compile(r"Heading ([1-9])")
# Styles based on styles based on … a heading: deeper is a loop or a forgery.
_MAX_STYLE_DEPTH = 10
_PROGRESS_EVERY = 100


def _package_check(source: BinaryIO) -> None:
    """The zip-bomb check, then the limit on the XML python-docx loads at once."""
    archive_check(source, what="Word document")
    with zipfile.ZipFile(source) as archive:
        xml = sum(m.file_size for m in archive.infolist() if m.filename.endswith((".xml", ".rels")))
    source.seek(0)
    if xml > MAX_XML_BYTES:
        raise DocumentTooLong(
            f"This Word document holds {xml / 1024**2:,.0f} MB of text and layout; Luma reads "
            f"at most {MAX_XML_BYTES / 1024**2:,.0f} MB."
        )


def _style_heading_level(style: BaseStyle | None) -> int | None:
    """1 for "Heading 1", also for a style based on it; None for body text."""
    for _ in range(_MAX_STYLE_DEPTH):
        if style is None:
            return None
        match = _HEADING_STYLE.fullmatch(style.name or "")
        if match:
            return int(match[1])
        style = style.base_style
    return None


def _heading_levels(document: WordDocument) -> dict[str, int]:
    """Heading styles by id, found once: `paragraph.style` searches every style of the
    document for each paragraph that has none of its own."""
    levels: dict[str, int] = {}
    for style in document.styles:
        if style.type == WD_STYLE_TYPE.PARAGRAPH:
            level = _style_heading_level(style)
            if level is not None:
                levels[style.style_id] = level
    return levels


def _heading_level(paragraph: Paragraph, levels: dict[str, int]) -> int | None:
    style_id = paragraph._p.style  # None: the default style, body text
    return levels.get(style_id) if style_id is not None else None


def _table_rows(table: Table, heading: str) -> Iterator[tuple[Location, list[str]]]:
    """Each row's cells on the table's grid: a cell spanning columns counts once, a cell
    merged with those below repeats in them (it belongs to those rows too)."""
    above: list[str] = []
    for number, row in enumerate(table.rows, start=1):
        columns_check(row.grid_cols_before, what="Word document")
        values = [""] * row.grid_cols_before
        # python-docx has no public grid of cells: its `row.cells` recurses up vertical merges.
        for tc in row._tr.tc_lst:
            column = len(values)
            if tc.vMerge == "continue":
                values.append(above[column] if column < len(above) else "")
            else:
                values.append(_Cell(tc, table).text.strip())
            columns_check(column + tc.grid_span, what="Word document")
            values.extend([""] * (tc.grid_span - 1))
        above = values
        yield Location(heading=heading, row_start=number), values


def _document_pieces(document: WordDocument, progress: Progress) -> Iterator[Piece]:
    max_paragraphs = settings.LUMA_DOCUMENT_MAX_ROWS
    body = document.element.body
    total = max(1, len(body))
    levels = _heading_levels(document)
    headings = HeadingPath()
    paragraphs = 0
    for index, block in enumerate(document.iter_inner_content(), start=1):
        if isinstance(block, Table):
            yield from table_pieces(_table_rows(block, str(headings)), what="Word document")
        elif (level := _heading_level(block, levels)) is not None:
            headings.enter(level, block.text)
        else:
            paragraphs += 1
            if paragraphs > max_paragraphs:
                raise DocumentTooLong(
                    f"This Word document has more than {max_paragraphs:,} paragraphs, the limit."
                )
            if text := block.text.strip():
                yield Piece(text, Location(heading=str(headings)))
        if index % _PROGRESS_EVERY == 0:
            progress(min(1.0, index / total))


def _left_out(document: WordDocument, report: ExtractionReport) -> None:
    boxes = int(document.element.body.xpath("count(.//w:txbxContent)"))
    if boxes:
        report.note(f"{boxes} text box{'es' if boxes > 1 else ''} not read")


def extract_docx(
    source: BinaryIO,
    *,
    progress: Progress = no_progress,
    options: ExtractOptions = DEFAULT_OPTIONS,
    report: ExtractionReport | None = None,
) -> Iterator[Piece]:
    """One piece per paragraph under its headings (Heading 1-9 styles), one per table row
    with `header: value` for each cell; headers, footers, notes and comments are left out."""
    _package_check(source)
    try:
        document = docx.Document(source)
        if report is not None:
            _left_out(document, report)
        yield from _document_pieces(document, progress)
    except DocumentRejected:
        raise
    except Exception as error:
        raise CorruptFile(
            "This Word document cannot be read: it is damaged, or not a .docx document.",
            detail=f"{type(error).__name__}: {error}",
        ) from None
    progress(1.0)
