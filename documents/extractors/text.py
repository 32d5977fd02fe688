"""Text, CSV and JSON: decode the bytes (encoding detected), then read the structure."""

import codecs
import csv
import io
import json
import re
from collections.abc import Iterator
from typing import Any, BinaryIO

import charset_normalizer
from django.conf import settings

from documents.errors import DocumentTooLong, InvalidCsv, InvalidJson, UndecodableText
from documents.extractors.base import (
    DEFAULT_OPTIONS,
    ExtractionReport,
    ExtractOptions,
    Location,
    PathPart,
    Piece,
    Progress,
    json_path_label,
    no_progress,
)

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Control characters (but tab, newlines, form feed), surrogates and private-use characters.
_UNPRINTABLE = re.compile(
    r"[\x00-\x08\x0e-\x1f\x7f-\x9f\ud800-\udfff\ue000-\uf8ff\U000f0000-\U0010ffff]"
)
_WESTERN = frozenset({"cp1252", "latin_1", "iso8859_15"})
# More than one unprintable character in this many means the bytes are not text.
_BINARY_ONE_IN = 200
_CSV_SNIFF_CHARS = 16_384


def _position(text: str, index: int) -> str:
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return f"line {line}, column {column}"


def _refuse_binary(text: str) -> None:
    unprintable = _UNPRINTABLE.findall(text)
    if len(unprintable) * _BINARY_ONE_IN > max(len(text), _BINARY_ONE_IN):
        first = _UNPRINTABLE.search(text)
        assert first is not None
        raise UndecodableText(
            "This file does not look like text: it holds binary data "
            f"(the first unprintable character, U+{ord(first.group()):04X}, is at "
            f"{_position(text, first.start())}).",
            detail=f"{len(unprintable)} unprintable characters in {len(text)}",
        )


def text_decode(data: bytes) -> str:
    """The text in `data`: a byte-order mark wins, then strict UTF-8, then the encoding
    charset-normalizer finds (Latin-1, Windows-1252, …). Binary data is refused, saying where."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError as error:
                raise UndecodableText(
                    f"This file starts like {encoding.upper()} text but byte {error.start} "
                    f"is not valid {encoding.upper()}.",
                    detail=str(error),
                ) from None
            _refuse_binary(text)
            return text
    nul = data.find(b"\x00")
    if nul != -1:
        raise UndecodableText(
            f"This file does not look like text: byte {nul} is a NUL byte, as in binary files.",
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        guessed = _decode_guessed(data)
        if guessed is None:
            raise UndecodableText(
                f"This file is not valid UTF-8 (byte {error.start} is 0x{data[error.start]:02X}) "
                "and no other text encoding fits it.",
                detail=str(error),
            ) from None
        text = guessed
    _refuse_binary(text)
    return text


def _decode_guessed(data: bytes) -> str | None:
    """charset-normalizer's best guess; but where Western European (Windows-1252, Latin-1)
    fits as well as its guess, that: short texts fit several code pages equally."""
    matches = charset_normalizer.from_bytes(data)
    best = matches.best()
    if best is None:
        return None
    for match in matches:
        if match.chaos <= best.chaos and _WESTERN & set(match.could_be_from_charset):
            try:
                return data.decode("cp1252")
            except UnicodeDecodeError:  # 0x81, 0x8D, 0x8F, 0x90, 0x9D: only Latin-1 has them
                return data.decode("latin-1")
    return str(best)


def extract_txt(
    source: BinaryIO,
    *,
    progress: Progress = no_progress,
    options: ExtractOptions = DEFAULT_OPTIONS,
    report: ExtractionReport | None = None,
) -> Iterator[Piece]:
    """Paragraphs (separated by blank lines), each with its line numbers."""
    text = text_decode(source.read())
    lines: list[str] = []
    first = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            if not lines:
                first = number
            lines.append(line.rstrip())
        elif lines:
            yield Piece("\n".join(lines), _lines(first, number - 1))
            lines = []
    if lines:
        yield Piece("\n".join(lines), _lines(first, first + len(lines) - 1))
    progress(1.0)


def _lines(first: int, last: int) -> Location:
    return Location(row_start=first, row_end=last, rows_are_lines=True)


def row_text(header: list[str], values: list[str]) -> str:
    """`Date: 2026-01-05; Game: Hades` from a header and a row; empty cells left out."""
    parts = []
    for index, value in enumerate(values):
        if value == "":
            continue
        name = header[index] if index < len(header) and header[index] else f"column {index + 1}"
        parts.append(f"{name}: {value}")
    return "; ".join(parts)


def _csv_dialect(text: str) -> type[csv.Dialect] | csv.Dialect:
    sample = text[:_CSV_SNIFF_CHARS]
    if len(text) > _CSV_SNIFF_CHARS and "\n" in sample:
        sample = sample[: sample.rindex("\n")]
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        return csv.excel


def extract_csv(
    source: BinaryIO,
    *,
    progress: Progress = no_progress,
    options: ExtractOptions = DEFAULT_OPTIONS,
    report: ExtractionReport | None = None,
) -> Iterator[Piece]:
    """One piece per row, `header: value` for each cell; the dialect is detected."""
    text = text_decode(source.read())
    stream = io.StringIO(text, newline="")
    reader = csv.reader(stream, _csv_dialect(text))
    header: list[str] | None = None
    max_rows = settings.LUMA_DOCUMENT_MAX_ROWS
    try:
        for number, row in enumerate(reader, start=1):
            if number > max_rows:
                raise DocumentTooLong(f"This CSV has more than {max_rows:,} rows, the limit.")
            values = [value.strip() for value in row]
            if not any(values):
                continue
            if header is None:
                header = values
                continue
            yield Piece(row_text(header, values), Location(row_start=number))
            if number % 1000 == 0:
                progress(stream.tell() / max(1, len(text)))
    except csv.Error as error:
        raise InvalidCsv(
            f"This CSV cannot be read at line {reader.line_num}: {error}.", detail=str(error)
        ) from None
    progress(1.0)


def _json_leaves(value: Any) -> Iterator[tuple[tuple[PathPart, ...], Any]]:
    """Every scalar in `value` with its path, in document order (no recursion: depth is free)."""
    stack: list[tuple[tuple[PathPart, ...], Any]] = [((), value)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, dict):
            stack.extend(((*path, str(key)), item) for key, item in reversed(node.items()))
        elif isinstance(node, list):
            stack.extend(((*path, index), item) for index, item in reversed(list(enumerate(node))))
        else:
            yield path, node


def _json_scalar(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def extract_json(
    source: BinaryIO,
    *,
    progress: Progress = no_progress,
    options: ExtractOptions = DEFAULT_OPTIONS,
    report: ExtractionReport | None = None,
) -> Iterator[Piece]:
    """One piece per value, `path: value`, so nested data keeps where each value was."""
    text = text_decode(source.read())
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidJson(
            f"This is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}.",
            detail=str(error),
        ) from None
    except RecursionError:
        raise InvalidJson("This JSON is nested too deeply to read.") from None
    except ValueError as error:  # e.g. an integer with more digits than Python converts
        raise InvalidJson(f"This JSON holds a value Luma cannot read: {error}.") from None
    for path, value in _json_leaves(data):
        label = json_path_label(path)
        name = label[2:] if label.startswith("$.") else label
        yield Piece(f"{name}: {_json_scalar(value)}", Location(path=path))
    progress(1.0)
