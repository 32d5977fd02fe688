"""Reading uploaded files: decide the type from the content, then extract located text.

`detect_kind` looks at the bytes (PDF header, the zip directory of an XLSX) and
only uses the name to tell text formats apart (CSV, JSON, plain text).
`extract` yields `Piece`s; every failure is a `DocumentRejected`.
"""

import zipfile
from collections.abc import Callable, Iterator
from pathlib import PurePath
from typing import BinaryIO

from documents.errors import CorruptFile, EmptyFile, UnsupportedType
from documents.extractors.base import (
    DEFAULT_OPTIONS,
    ExtractionReport,
    ExtractOptions,
    Location,
    Piece,
    Progress,
    no_progress,
)
from documents.extractors.pdf import extract_pdf
from documents.extractors.text import extract_csv, extract_json, extract_txt
from documents.extractors.xlsx import extract_xlsx
from documents.models import DocumentKind

__all__ = [
    "ExtractOptions",
    "ExtractionReport",
    "Location",
    "Piece",
    "Progress",
    "detect_kind",
    "extract",
]

SUPPORTED = "Luma reads PDF, Excel (.xlsx), CSV, JSON and text files"
TEXT_SUFFIXES = frozenset({".txt", ".text", ".md", ".markdown", ".log", ".rst", ""})
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_BINARY_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"RIFF", "audio or video (RIFF)"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
    (b"\x7fELF", "a program (ELF)"),
)
_ZIP_KINDS = (
    ("word/", "a Word document (.docx): save it as PDF"),
    ("ppt/", "a PowerPoint file: save it as PDF"),
    ("content.xml", "an OpenDocument file: save it as .xlsx or PDF"),
)

EXTRACTORS: dict[str, Callable[..., Iterator[Piece]]] = {
    DocumentKind.PDF: extract_pdf,
    DocumentKind.XLSX: extract_xlsx,
    DocumentKind.CSV: extract_csv,
    DocumentKind.JSON: extract_json,
    DocumentKind.TXT: extract_txt,
}


def _zip_kind(source: BinaryIO) -> DocumentKind:
    try:
        with zipfile.ZipFile(source) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as error:
        raise CorruptFile(
            "This file is a damaged zip archive (an .xlsx is one); it cannot be read.",
            detail=str(error),
        ) from None
    finally:
        source.seek(0)
    if "xl/workbook.xml" in names:
        return DocumentKind.XLSX
    for prefix, what in _ZIP_KINDS:
        if any(name.startswith(prefix) for name in names):
            raise UnsupportedType(f"This file is {what}. {SUPPORTED}.")
    raise UnsupportedType(f"This file is a zip archive. {SUPPORTED}: upload the files inside.")


def _looks_like_json(head: bytes) -> bool:
    return head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in {b"{", b"["}


def detect_kind(source: BinaryIO, name: str) -> DocumentKind:
    """The document's type, judged by its content; the name only separates text formats."""
    head = source.read(2048)
    source.seek(0)
    if not head:
        raise EmptyFile("This file is empty.")
    if b"%PDF-" in head[:1024]:
        return DocumentKind.PDF
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _zip_kind(source)
    if head.startswith(_OLE):
        raise UnsupportedType(
            "This is an old Office file (.xls or .doc). Save it as .xlsx (or PDF) and upload that."
        )
    for signature, what in _BINARY_SIGNATURES:
        if head.startswith(signature):
            raise UnsupportedType(f"This file is {what}. {SUPPORTED}.")
    suffix = PurePath(name).suffix.lower()
    if suffix in {".pdf", ".xlsx", ".xlsm", ".xls"}:
        raise UnsupportedType(
            f"This file is named {suffix} but its content is not a {suffix} file."
        )
    if suffix in {".csv", ".tsv"}:
        return DocumentKind.CSV
    if suffix == ".json":
        return DocumentKind.JSON
    if suffix in TEXT_SUFFIXES:
        return DocumentKind.JSON if not suffix and _looks_like_json(head) else DocumentKind.TXT
    raise UnsupportedType(f"Files of type {suffix} are not supported. {SUPPORTED}.")


def extract(
    kind: str,
    source: BinaryIO,
    *,
    progress: Progress = no_progress,
    options: ExtractOptions = DEFAULT_OPTIONS,
    report: ExtractionReport | None = None,
) -> Iterator[Piece]:
    """The document's located text; what was left out is noted in `report`."""
    return EXTRACTORS[kind](source, progress=progress, options=options, report=report)
