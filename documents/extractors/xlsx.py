"""XLSX: every sheet, row by row, in openpyxl's read-only (streaming) mode.

The archive is checked before anything is unpacked: an XLSX is a zip file, and
a small one can unpack to gigabytes (a zip bomb). Each sheet's declared size is
checked before its rows are read.
"""

import datetime
import logging
import zipfile
from collections.abc import Iterator
from typing import Any, BinaryIO

import openpyxl
from django.conf import settings
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

from documents.errors import ArchiveTooLarge, CorruptFile, DocumentRejected, DocumentTooLong
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

MAX_UNCOMPRESSED_BYTES = 256 * 1024 * 1024
# Spreadsheet XML compresses well, but not a thousand times: only crafted files do.
MAX_COMPRESSION_RATIO = 100
RATIO_CHECKED_ABOVE_BYTES = 1024 * 1024
MAX_COLUMNS = 1000
_PROGRESS_EVERY_ROWS = 1000


def archive_check(source: BinaryIO) -> None:
    """Refuse a zip whose members unpack to an absurd size or ratio, before unpacking any.
    The sizes come from the zip's directory; zipfile never unpacks more than they say."""
    try:
        with zipfile.ZipFile(source) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as error:
        raise CorruptFile(
            "This Excel file cannot be read: it is damaged or incomplete.", detail=str(error)
        ) from None
    finally:
        source.seek(0)
    total = sum(member.file_size for member in members)
    if total > MAX_UNCOMPRESSED_BYTES:
        raise ArchiveTooLarge(
            f"This Excel file would unpack to {total / 1024**2:,.0f} MB; Luma unpacks at most "
            f"{MAX_UNCOMPRESSED_BYTES / 1024**2:,.0f} MB. It may be a zip bomb."
        )
    for member in members:
        ratio = member.file_size / max(1, member.compress_size)
        if member.file_size > RATIO_CHECKED_ABOVE_BYTES and ratio > MAX_COMPRESSION_RATIO:
            raise ArchiveTooLarge(
                f"This Excel file is compressed {ratio:,.0f} times ({member.filename}), far more "
                "than real spreadsheets are: it looks like a zip bomb and was not opened.",
            )


def _sheet_check(sheet: ReadOnlyWorksheet, max_rows: int) -> None:
    rows, columns = sheet.max_row or 0, sheet.max_column or 0
    if rows > max_rows:
        raise DocumentTooLong(
            f'Sheet "{sheet.title}" declares {rows:,} rows; Luma reads at most {max_rows:,}.'
        )
    if columns > MAX_COLUMNS:
        raise DocumentTooLong(
            f'Sheet "{sheet.title}" declares {columns:,} columns; Luma reads at most '
            f"{MAX_COLUMNS:,}."
        )


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


def _sheet_pieces(sheet: ReadOnlyWorksheet, *, max_rows: int, on_row: Progress) -> Iterator[Piece]:
    header: list[str] | None = None
    for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
        if number > max_rows:
            raise DocumentTooLong(
                f'Sheet "{sheet.title}" has more than {max_rows:,} rows, the limit.'
            )
        if len(row) > MAX_COLUMNS:
            raise DocumentTooLong(
                f'Sheet "{sheet.title}" has {len(row):,} columns in row {number}; Luma reads '
                f"at most {MAX_COLUMNS:,}."
            )
        values = [cell_text(value) for value in row]
        if number % _PROGRESS_EVERY_ROWS == 0:
            on_row(number)
        if not any(values):
            continue
        if header is None:
            header = values
            continue
        yield Piece(row_text(header, values), Location(sheet=sheet.title, row_start=number))


def extract_xlsx(
    source: BinaryIO,
    *,
    progress: Progress = no_progress,
    options: ExtractOptions = DEFAULT_OPTIONS,
    report: ExtractionReport | None = None,
) -> Iterator[Piece]:
    """One piece per row, `header: value` for each cell, every sheet in turn."""
    archive_check(source)
    max_rows = settings.LUMA_DOCUMENT_MAX_ROWS
    try:
        workbook = openpyxl.load_workbook(source, read_only=True, data_only=True)
    except Exception as error:
        raise CorruptFile(
            "This Excel file cannot be read: it is damaged, or not an .xlsx workbook.",
            detail=f"{type(error).__name__}: {error}",
        ) from None
    try:
        sheets = workbook.worksheets
        for sheet in sheets:
            _sheet_check(sheet, max_rows)
        total = max(1, sum(sheet.max_row or 0 for sheet in sheets))
        done = 0
        for sheet in sheets:

            def on_row(number: float, before: int = done) -> None:
                progress(min(1.0, (before + number) / total))

            yield from _sheet_pieces(sheet, max_rows=max_rows, on_row=on_row)
            done += sheet.max_row or 0
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
