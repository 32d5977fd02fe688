"""PDF: the text of each page, with pypdf."""

import io
import logging
import re
from collections.abc import Iterator
from typing import BinaryIO

from pypdf import PageObject, PasswordType, PdfReader
from pypdf.generic import ArrayObject, DictionaryObject

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
        # In memory, as pypdf itself holds a PDF it opens by name (uploads are bounded by
        # LUMA_MAX_UPLOAD_BYTES): reading through Django's File proxy on every seek and
        # read of every page cost a third more than the bare read.
        reader = PdfReader(io.BytesIO(source.read()), strict=False)
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


_RADIO_FLAG = 1 << 15  # PDF 32000-1, 12.7.4.2.4: a button field whose widgets are radio buttons


def _inherited(field: DictionaryObject, key: str) -> object:
    """A field attribute, from the field or the nearest parent that has it (PDF 12.7.3.1)."""
    node: DictionaryObject | None = field
    for _ in range(32):  # a parent chain deeper than this is damage, not a form
        if node is None:
            return None
        if key in node:
            return node[key]
        parent = node.get("/Parent")
        node = parent.get_object() if parent is not None else None
    return None


def _full_name(field: DictionaryObject) -> str:
    names: list[str] = []
    node: DictionaryObject | None = field
    for _ in range(32):
        if node is None:
            break
        if "/T" in node:
            names.append(str(node["/T"]))
        parent = node.get("/Parent")
        node = parent.get_object() if parent is not None else None
    return ".".join(reversed(names))


def _field_value(field: DictionaryObject) -> str:
    """The filled value in words: text as typed, a ticked box "yes", the chosen radio
    button or option; "" for an empty or unticked field."""
    value = _inherited(field, "/V")
    kind = _inherited(field, "/FT")
    if value is None:
        return ""
    if isinstance(value, list | ArrayObject):
        return ", ".join(str(item) for item in value if str(item).strip())
    text = str(value)
    if kind == "/Btn":
        if text in {"/Off", "Off", ""}:
            return ""
        flags = int(_inherited(field, "/Ff") or 0)
        return text.lstrip("/") if flags & _RADIO_FLAG else "yes"
    return text.strip()


def _form_lines(page: PageObject, seen: set[str]) -> list[str]:
    """`name: value` for each filled form field on this page, each field once."""
    lines: list[str] = []
    for annotation in page.get("/Annots") or []:
        widget = annotation.get_object()
        if widget.get("/Subtype") != "/Widget":
            continue
        field = widget if "/T" in widget else widget.get("/Parent", widget).get_object()
        name = _full_name(field)
        if not name or name in seen:
            continue
        seen.add(name)
        value = _field_value(field)
        if value:
            lines.append(f"{name}: {value}")
    return lines


def _page_with_form(reader: PdfReader, index: int, seen: set[str]) -> str:
    text = _page_text(reader, index)
    try:
        lines = _form_lines(reader.pages[index], seen)
    except Exception as error:  # a damaged form loses its fields, not the page's text
        logger.info("Form fields of page %s unreadable: %r", index + 1, error)
        lines = []
    return "\n\n".join(part for part in (text, "\n".join(lines)) if part)


def extract_pdf(
    source: BinaryIO,
    *,
    progress: Progress = no_progress,
    options: ExtractOptions = DEFAULT_OPTIONS,
    report: ExtractionReport | None = None,
) -> Iterator[Piece]:
    """One piece per page that has text, with the page's filled form fields (AcroForm:
    text, check boxes, radio buttons, choices) as `name: value` lines after it. A PDF
    with no text at all (scanned) is refused."""
    reader, count = _pdf_open(source)
    if count > MAX_PAGES:
        raise DocumentTooLong(f"This PDF has {count:,} pages; Luma reads at most {MAX_PAGES:,}.")
    found_text = False
    fields_seen: set[str] = set()
    for index in range(count):
        text = _page_with_form(reader, index, fields_seen)
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
