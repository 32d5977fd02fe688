"""PDF: the text of each page, with pypdf."""

import logging
import re
from collections.abc import Iterator
from typing import BinaryIO

from pypdf import PasswordType, PdfReader

from documents.errors import CorruptFile, DocumentTooLong, EncryptedFile, NoExtractableText
from documents.extractors.base import (
    DEFAULT_OPTIONS,
    ExtractionReport,
    ExtractOptions,
    Location,
    Piece,
    Progress,
    no_progress,
)

logger = logging.getLogger(__name__)

MAX_PAGES = 5000
_SPACES = re.compile(r"[ \t\u00a0]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def _pdf_open(source: BinaryIO) -> tuple[PdfReader, int]:
    """The reader, decrypted when the PDF only has an empty user password, and its page count.
    pypdf raises many kinds of errors on damaged files; each becomes `CorruptFile`."""
    try:
        reader = PdfReader(source, strict=False)
        encrypted = reader.is_encrypted
    except Exception as error:
        raise CorruptFile(
            "This PDF cannot be read: it is damaged or incomplete (truncated).",
            detail=f"{type(error).__name__}: {error}",
        ) from None
    if encrypted:
        try:
            unlocked = reader.decrypt("") != PasswordType.NOT_DECRYPTED
        except Exception as error:
            logger.info("Decrypting a PDF failed: %r", error)
            unlocked = False
        if not unlocked:
            raise EncryptedFile(
                "This PDF is protected by a password. Remove the protection (print or export "
                "it to a new PDF) and upload it again."
            )
    try:
        return reader, len(reader.pages)
    except Exception as error:
        raise CorruptFile(
            "This PDF cannot be read: its page list is damaged.",
            detail=f"{type(error).__name__}: {error}",
        ) from None


def _page_text(reader: PdfReader, index: int) -> str:
    try:
        text = reader.pages[index].extract_text() or ""
    except Exception as error:
        raise CorruptFile(
            f"Page {index + 1} of this PDF cannot be read: it is damaged.",
            detail=f"{type(error).__name__}: {error}",
        ) from None
    lines = (_SPACES.sub(" ", line).strip() for line in text.splitlines())
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def extract_pdf(
    source: BinaryIO,
    *,
    progress: Progress = no_progress,
    options: ExtractOptions = DEFAULT_OPTIONS,
    report: ExtractionReport | None = None,
) -> Iterator[Piece]:
    """One piece per page that has text. A PDF with no text at all (scanned) is refused."""
    reader, count = _pdf_open(source)
    if count > MAX_PAGES:
        raise DocumentTooLong(f"This PDF has {count:,} pages; Luma reads at most {MAX_PAGES:,}.")
    found_text = False
    for index in range(count):
        text = _page_text(reader, index)
        if text:
            found_text = True
            yield Piece(text, Location(page=index + 1))
        progress((index + 1) / count)
    if not found_text:
        raise NoExtractableText(
            "This PDF has no text to read: it is probably scanned pages (images). Luma cannot "
            "read text in images; run it through OCR first, or upload the text itself."
            if count
            else "This PDF has no pages."
        )
