"""Markdown and HTML: the text a reader sees, under the headings it sits below.

Both are parsed, not matched with regular expressions: Markdown into markdown-it-py's
tokens (so `*`, `#`, link targets and table pipes never reach the text), HTML into
a tree by lxml's HTML parser (libxml2), which lets scripts, styles, templates, the
head and hidden elements be left out whole. Tables become one piece per row,
each cell named by its column header, as spreadsheet rows are.
"""

import codecs
import re
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from django.conf import settings
from lxml import etree
from markdown_it import MarkdownIt
from markdown_it.token import Token

from documents.errors import CorruptFile, DocumentTooLong
from documents.extractors.base import (
    DEFAULT_OPTIONS,
    ExtractionReport,
    ExtractOptions,
    Location,
    Piece,
    Progress,
    no_progress,
)
from documents.extractors.text import row_text, text_decode
from documents.extractors.xlsx import MAX_COLUMNS


class HeadingPath:
    """The headings above the text being read: a heading of level n ends those of level n
    and deeper, so "Schedule > Friday" becomes "Schedule > Saturday" at the next h2."""

    def __init__(self) -> None:
        self._levels: list[tuple[int, str]] = []

    def enter(self, level: int, text: str) -> None:
        self._levels = [(kept, title) for kept, title in self._levels if kept < level]
        title = " ".join(text.split())
        if title:
            self._levels.append((level, title))

    def __str__(self) -> str:
        return " > ".join(title for _, title in self._levels)


def table_pieces(rows: Iterable[tuple[Location, list[str]]], *, what: str) -> Iterator[Piece]:
    """The first row with text names the columns; every later row is one piece,
    `Day: Friday; Game: Hades`. A table of one row (a framed note) is read as text."""
    max_rows = settings.LUMA_DOCUMENT_MAX_ROWS
    header: tuple[Location, list[str]] | None = None
    read_rows = False
    for count, (location, values) in enumerate(rows, start=1):
        if count > max_rows:
            raise DocumentTooLong(f"A table in this {what} has more than {max_rows:,} rows.")
        if not any(values):
            continue
        if header is None:
            header = (location, values)
            continue
        read_rows = True
        yield Piece(row_text(header[1], values), location)
    if header is not None and not read_rows:
        yield Piece("\n".join(value for value in header[1] if value), header[0])


def columns_check(count: int, *, what: str) -> None:
    if count > MAX_COLUMNS:
        raise DocumentTooLong(
            f"A table in this {what} has {count:,} columns; Luma reads at most {MAX_COLUMNS:,}."
        )


# Markdown


_MARKDOWN = MarkdownIt("commonmark").enable(["table", "strikethrough"])
_FRONT_MATTER_FENCE = "---"
_FRONT_MATTER_MAX_LINES = 200


def _front_matter_end(lines: list[str]) -> int:
    """How many lines the YAML front matter (`---` … `---`) takes; 0 if there is none.
    Parsed as Markdown it would turn into a rule and a heading."""
    if not lines or lines[0].strip() != _FRONT_MATTER_FENCE:
        return 0
    for index, line in enumerate(lines[1:_FRONT_MATTER_MAX_LINES], start=1):
        if line.strip() in {_FRONT_MATTER_FENCE, "..."}:
            return index + 1
    return 0


def _inline_text(token: Token) -> str:
    """An inline token's words: emphasis, link targets and inline HTML tags left out,
    an image by its description."""
    parts: list[str] = []
    for child in token.children or []:
        if child.type in {"text", "code_inline", "image"}:
            parts.append(child.content)
        elif child.type in {"softbreak", "hardbreak"}:
            parts.append("\n")
    return "".join(parts)


def _block_end(tokens: list[Token], start: int) -> int:
    """The index just past the block that opens at `start`."""
    opening = tokens[start]
    if opening.nesting != 1:
        return start + 1
    depth = 0
    for index in range(start, len(tokens)):
        depth += tokens[index].nesting
        if depth == 0:
            return index + 1
    return len(tokens)


def _block_text(tokens: list[Token]) -> str:
    """A paragraph, list, quote or code block as plain lines; list items keep their
    marker (`-`, `2.`) and nesting, the rest of the syntax goes."""
    lines: list[str] = []
    depth = 0
    marker: str | None = None
    for token in tokens:
        indent = "  " * max(0, depth - 1)
        if token.type in {"bullet_list_open", "ordered_list_open"}:
            depth += 1
        elif token.type in {"bullet_list_close", "ordered_list_close"}:
            depth -= 1
        elif token.type == "list_item_open":
            marker = f"{token.info}. " if token.info else "- "
        elif token.type == "inline":
            first, *rest = _inline_text(token).split("\n")
            prefix = indent + (marker if marker is not None else "  " if depth else "")
            lines.append(prefix + first)
            lines.extend(indent + ("  " if depth else "") + line for line in rest)
            marker = None
        elif token.type in {"fence", "code_block"}:
            lines.extend(indent + line for line in token.content.rstrip("\n").split("\n"))
        elif token.type == "html_block":
            lines.append(html_fragment_text(token.content))
    return "\n".join(line.rstrip() for line in lines).strip("\n")


class _MarkdownReader:
    """Reads the top-level blocks in order, keeping the headings above them and the
    source's lines (to say where each piece is)."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.headings = HeadingPath()

    def block_pieces(self, block: list[Token]) -> Iterator[Piece]:
        opening = block[0]
        if opening.type == "heading_open":
            self.headings.enter(int(opening.tag[1:]), _inline_text(block[1]))
        elif opening.type == "table_open":
            yield from table_pieces(self._table_rows(block), what="Markdown file")
        elif opening.type != "hr":
            text = _block_text(block)
            if text.strip():
                yield Piece(text, self._where(opening))

    def _where(self, token: Token) -> Location:
        """The block's lines, without the blank lines markdown-it counts in at its end."""
        first, end = token.map or (0, 1)
        while end > first + 1 and not self.lines[end - 1].strip():
            end -= 1
        return Location(
            heading=str(self.headings), row_start=first + 1, row_end=end, rows_are_lines=True
        )

    def _table_rows(self, tokens: list[Token]) -> Iterator[tuple[Location, list[str]]]:
        values: list[str] = []
        location = Location()
        for token in tokens:
            if token.type == "tr_open":
                values, location = [], self._where(token)
            elif token.type == "inline":
                values.append(" ".join(_inline_text(token).split()))
            elif token.type == "tr_close":
                columns_check(len(values), what="Markdown file")
                yield location, values


def extract_markdown(
    source: BinaryIO,
    *,
    progress: Progress = no_progress,
    options: ExtractOptions = DEFAULT_OPTIONS,
    report: ExtractionReport | None = None,
) -> Iterator[Piece]:
    """One piece per paragraph, list, quote or code block, and per table row, each with
    its headings and lines."""
    lines = text_decode(source.read()).splitlines()
    front = _front_matter_end(lines)
    if front:
        metadata = "\n".join(lines[1 : front - 1])
        yield Piece(metadata, Location(row_start=1, row_end=front, rows_are_lines=True))
        lines = [""] * front + lines[front:]  # blank, so that line numbers stay true
    tokens = _MARKDOWN.parse("\n".join(lines))
    reader = _MarkdownReader(lines)
    index = 0
    while index < len(tokens):
        end = _block_end(tokens, index)
        yield from reader.block_pieces(tokens[index:end])
        progress(end / len(tokens))
        index = end
    progress(1.0)


# HTML


# Never shown to a reader: code, styling, templates, the head (title, metadata), embeds.
_UNSEEN = frozenset(
    {
        "head", "script", "style", "noscript", "template", "svg", "math", "canvas",
        "iframe", "object", "embed", "audio", "video", "select", "datalist",
    }
)  # fmt: skip
# Elements that start a new paragraph of text.
_BLOCKS = frozenset(
    {
        "address", "article", "aside", "blockquote", "body", "caption", "dd", "details",
        "dialog", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form",
        "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "summary", "ul",
    }
)  # fmt: skip
_BREAKS = _BLOCKS | {"br"}
_HEADINGS = {f"h{level}": level for level in range(1, 7)}
_DECLARED_CHARSET = re.compile(rb"<meta[^>]{0,200}?charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]+)", re.I)
_SPACES = re.compile(r"\s+")
# The HTML standard's own limits on colspan and rowspan.
_MAX_COLSPAN = 1000
_MAX_ROWSPAN = 65534


def _hidden(element: etree._Element) -> bool:
    if not isinstance(element.tag, str):  # a comment or processing instruction
        return True
    if element.tag in _UNSEEN or element.get("hidden") is not None:
        return True
    style = (element.get("style") or "").replace(" ", "").lower()
    return "display:none" in style or "visibility:hidden" in style


def _walk(
    root: etree._Element, opaque: frozenset[str] = frozenset()
) -> Iterator[tuple[etree._Element, bool | None]]:
    """`(element, True)` entering, `(element, False)` leaving, `(element, None)` for a
    hidden element, left out whole (the text after it, its tail, is still the page's).
    Elements named in `opaque` are entered and left but not walked into. No recursion:
    nesting depth costs nothing."""
    stack: list[tuple[etree._Element, bool]] = [(root, True)]
    while stack:
        element, entering = stack.pop()
        if not entering:
            yield element, False
        elif element is not root and _hidden(element):
            yield element, None
        else:
            yield element, True
            stack.append((element, False))
            if element.tag not in opaque:
                stack.extend((child, True) for child in reversed(element))


def _visible_text(root: etree._Element) -> str:
    """An element's visible words on one line (a heading, a table cell)."""
    parts: list[str] = []
    for element, entering in _walk(root):
        if entering is not None and element.tag in _BREAKS:
            parts.append(" ")
        if entering and element.text:
            parts.append(element.text)
        if entering is not True and element is not root and element.tail:
            parts.append(element.tail)
    return " ".join("".join(parts).split())


def _span(cell: etree._Element, name: str, most: int) -> int:
    try:
        return min(max(1, int(cell.get(name, "1"))), most)
    except ValueError:
        return 1


def _table_rows(table: etree._Element) -> Iterator[etree._Element]:
    """The table's own rows (not those of tables inside its cells), in order."""
    for child in table:
        if child.tag == "tr":
            yield child
        elif child.tag in {"thead", "tbody", "tfoot"}:
            yield from (row for row in child if row.tag == "tr")


def _html_table(table: etree._Element, heading: str) -> Iterator[tuple[Location, list[str]]]:
    """Each row's cells on the table's grid: a cell spanning columns counts once, a cell
    spanning rows repeats below (it belongs to those rows too)."""
    spanning: dict[int, tuple[str, int]] = {}  # column → (text, rows still covered)
    for number, row in enumerate(_table_rows(table), start=1):
        values: list[str] = []
        cells = iter(cell for cell in row if cell.tag in {"td", "th"} and not _hidden(cell))
        cell = next(cells, None)
        while cell is not None or any(column >= len(values) for column in spanning):
            column = len(values)
            if column in spanning:
                text, left = spanning.pop(column)
                if left > 1:
                    spanning[column] = (text, left - 1)
                values.append(text)
            elif cell is not None:
                text = _visible_text(cell)
                across = _span(cell, "colspan", _MAX_COLSPAN)
                down = _span(cell, "rowspan", _MAX_ROWSPAN)
                if down > 1:
                    spanning[column] = (text, down - 1)
                values.extend([text] + [""] * (across - 1))
                cell = next(cells, None)
            else:
                values.append("")
            columns_check(len(values), what="web page")
        yield Location(heading=heading, row_start=number), values


def _declared_encoding(data: bytes) -> str | None:
    """The legacy encoding a `<meta charset>` declares (Windows-1251, Shift_JIS, …), read as
    browsers do; None for UTF-8 and UTF-16, which the text decoder recognises itself."""
    match = _DECLARED_CHARSET.search(data[:4096])
    if match is None:
        return None
    try:
        name = codecs.lookup(match[1].decode("ascii")).name
    except (LookupError, UnicodeDecodeError):
        return None
    if name.startswith(("utf-", "utf_")):
        return None
    return "cp1252" if name in {"iso8859-1", "ascii"} else name  # as the HTML standard says


def html_decode(data: bytes) -> str:
    """A byte-order mark wins, then the page's declared encoding, then detection."""
    encoding = _declared_encoding(data)
    if encoding is not None and not data.startswith(
        (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
    ):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            pass
    return text_decode(data)


def _html_root(text: str) -> etree._Element | None:
    # huge_tree lifts libxml2's nesting limit from 256 to 2,048 elements: real pages reach
    # a few hundred; past the limit libxml2 drops the rest of the page, so that is refused.
    parser = etree.HTMLParser(
        encoding="utf-8", remove_comments=True, remove_pis=True, no_network=True, huge_tree=True
    )
    try:
        root = etree.HTML(text.encode("utf-8", "replace"), parser)
    except (etree.LxmlError, ValueError) as error:
        raise CorruptFile(
            "This web page cannot be read: its HTML is damaged.", detail=str(error)
        ) from None
    for error in parser.error_log:
        if error.type_name == "ERR_RESOURCE_LIMIT":
            raise DocumentTooLong(
                "This web page nests its elements deeper than Luma reads (2,048 levels).",
                detail=error.message,
            )
    return root


class _PageReader:
    """Walks a parsed page once: paragraphs between blocks, headings, tables."""

    def __init__(self) -> None:
        self.headings = HeadingPath()
        self.parts: list[str] = []
        self.preformatted = 0

    def pieces(self, root: etree._Element) -> Iterator[Piece]:
        for element, entering in _walk(root, opaque=frozenset({"table", *_HEADINGS})):
            if entering:
                yield from self._enter(element)
            elif entering is False:
                yield from self._leave(element)
            if entering is not True and element is not root and element.tail:
                self._add(element.tail)
        yield from self._flush()

    def _enter(self, element: etree._Element) -> Iterator[Piece]:
        tag = element.tag
        if tag in _HEADINGS:
            yield from self._flush()
            self.headings.enter(_HEADINGS[tag], _visible_text(element))
            return
        if tag == "table":
            yield from self._flush()
            for caption in element.iterchildren("caption"):
                if text := _visible_text(caption):
                    yield Piece(text, Location(heading=str(self.headings)))
            yield from table_pieces(_html_table(element, str(self.headings)), what="web page")
            return
        if tag in _BLOCKS:
            yield from self._flush()
        if tag == "pre":
            self.preformatted += 1
        elif tag == "br":
            self.parts.append("\n")
        if element.text:
            self._add(element.text)

    def _leave(self, element: etree._Element) -> Iterator[Piece]:
        if element.tag in _BLOCKS:
            yield from self._flush()
        if element.tag == "pre":
            self.preformatted -= 1

    def _add(self, text: str) -> None:
        self.parts.append(text if self.preformatted else _SPACES.sub(" ", text))

    def _flush(self) -> Iterator[Piece]:
        text = "".join(self.parts)
        self.parts = []
        lines = [line.rstrip() if self.preformatted else line.strip() for line in text.split("\n")]
        text = "\n".join(lines).strip("\n")
        if text.strip():
            yield Piece(text, Location(heading=str(self.headings)))


def html_fragment_text(html: str) -> str:
    """The visible text of a piece of HTML (raw HTML inside Markdown), one paragraph a line."""
    root = _html_root(html)
    if root is None:
        return ""
    return "\n".join(piece.text for piece in _PageReader().pieces(root))


def extract_html(
    source: BinaryIO,
    *,
    progress: Progress = no_progress,
    options: ExtractOptions = DEFAULT_OPTIONS,
    report: ExtractionReport | None = None,
) -> Iterator[Piece]:
    """One piece per paragraph and per table row, each under its headings (h1-h6);
    scripts, styles, the head and hidden elements left out."""
    root = _html_root(html_decode(source.read()))
    if root is not None:
        yield from _PageReader().pieces(root)
    progress(1.0)
