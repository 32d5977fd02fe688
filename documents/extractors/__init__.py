"""Reading uploaded files: decide the type from the content, then extract located text.

`detect_kind` looks at the bytes (PDF header, the zip directory of an XLSX or a
DOCX) and only uses the name to tell text formats apart (CSV, JSON, Markdown,
HTML, plain text); a name without a suffix is told apart by how the text starts.
`extract` yields `Piece`s; every failure is a `DocumentRejected`.
"""

import zipfile
from collections.abc import Callable, Iterator
from pathlib import PurePath
from typing import BinaryIO

from documents.errors import (
    CorruptFile,
    DocumentRejected,
    EmptyFile,
    EncryptedFile,
    UnsupportedType,
)
from documents.extractors.base import (
    DEFAULT_OPTIONS,
    ExtractionReport,
    ExtractOptions,
    Location,
    Piece,
    Progress,
    no_progress,
)
from documents.extractors.docx import extract_docx
from documents.extractors.markup import extract_html, extract_markdown
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

SUPPORTED = (
    "Luma reads PDF, Word (.docx), Excel (.xlsx), CSV, JSON, Markdown, web pages (HTML) "
    "and text files"
)
TEXT_SUFFIXES = frozenset({".txt", ".text", ".log", ".rst", ""})
MARKDOWN_SUFFIXES = frozenset({".md", ".markdown"})
HTML_SUFFIXES = frozenset({".html", ".htm"})
# Suffixes of formats judged by content: a file so named whose content is not that format.
_BINARY_SUFFIXES = frozenset({".pdf", ".xlsx", ".xlsm", ".xls", ".docx", ".doc"})
_HTML_STARTS = (b"<!doctype html", b"<html")
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# An OLE file does not say in its first bytes which program wrote it: the name does.
_OLE_KINDS = {
    ".doc": "a Word document (.doc). Save it as .docx (or PDF)",
    ".xls": "an Excel workbook (.xls). Save it as .xlsx (or PDF)",
    ".ppt": "a PowerPoint file (.ppt). Save it as PDF",
}
_OLE_UNKNOWN = (
    "a Word document (.doc), an Excel workbook (.xls) or a PowerPoint file (.ppt). Save it "
    "as .docx, .xlsx or PDF"
)
# Word and Excel keep a password-protected .docx or .xlsx in an OLE file, encrypted.
_ENCRYPTED_SUFFIXES = frozenset({".docx", ".xlsx", ".xlsm"})
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
    (
        "word/",
        "an incomplete Word document (it has no [Content_Types].xml): open it in Word and "
        "save it again as .docx or PDF",
    ),
    ("ppt/", "a PowerPoint file: save it as PDF"),
    ("content.xml", "an OpenDocument file: save it as .xlsx or PDF"),
)

EXTRACTORS: dict[str, Callable[..., Iterator[Piece]]] = {
    DocumentKind.PDF: extract_pdf,
    DocumentKind.XLSX: extract_xlsx,
    DocumentKind.DOCX: extract_docx,
    DocumentKind.MARKDOWN: extract_markdown,
    DocumentKind.HTML: extract_html,
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
            "This file is a damaged zip archive (an .xlsx or .docx file is one); it cannot be "
            "read.",
            detail=str(error),
        ) from None
    finally:
        source.seek(0)
    if "xl/workbook.xml" in names:
        return DocumentKind.XLSX
    # Word names the main part word/document.xml, some writers word/document2.xml: the
    # package's [Content_Types].xml says which, and python-docx follows it.
    if "[Content_Types].xml" in names and any(name.startswith("word/") for name in names):
        return DocumentKind.DOCX
    for prefix, what in _ZIP_KINDS:
        if any(name.startswith(prefix) for name in names):
            raise UnsupportedType(f"This file is {what}. {SUPPORTED}.")
    raise UnsupportedType(f"This file is a zip archive. {SUPPORTED}: upload the files inside.")


def _ole_refusal(suffix: str) -> DocumentRejected:
    if suffix in _ENCRYPTED_SUFFIXES:
        return EncryptedFile(
            f"This {suffix} file is protected with a password. Remove the password (in Word or "
            "Excel: File > Info > Protect), save it and upload that."
        )
    return UnsupportedType(
        f"This is an old Office file: {_OLE_KINDS.get(suffix, _OLE_UNKNOWN)} and upload that."
    )


def _looks_like_json(head: bytes) -> bool:
    return head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in {b"{", b"["}


def _looks_like_html(head: bytes) -> bool:
    """Starts with a doctype or `<html>`, perhaps after comments (browsers write
    `<!-- saved from url=… -->` at the top of a saved page)."""
    head = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    while head.startswith(b"<!--") and b"-->" in head:
        head = head[head.index(b"-->") + 3 :].lstrip(b" \t\r\n")
    return head[:14].lower().startswith(_HTML_STARTS)


def _unnamed_text_kind(head: bytes) -> DocumentKind:
    if _looks_like_json(head):
        return DocumentKind.JSON
    return DocumentKind.HTML if _looks_like_html(head) else DocumentKind.TXT


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
    suffix = PurePath(name).suffix.lower()
    if head.startswith(_OLE):
        raise _ole_refusal(suffix)
    for signature, what in _BINARY_SIGNATURES:
        if head.startswith(signature):
            raise UnsupportedType(f"This file is {what}. {SUPPORTED}.")
    if suffix in _BINARY_SUFFIXES:
        raise UnsupportedType(
            f"This file is named {suffix} but its content is not a {suffix} file."
        )
    if suffix in {".csv", ".tsv"}:
        return DocumentKind.CSV
    if suffix == ".json":
        return DocumentKind.JSON
    if suffix in MARKDOWN_SUFFIXES:
        return DocumentKind.MARKDOWN
    if suffix in HTML_SUFFIXES:
        return DocumentKind.HTML
    if suffix in TEXT_SUFFIXES:
        return _unnamed_text_kind(head) if not suffix else DocumentKind.TXT
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
