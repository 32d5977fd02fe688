"""Cutting extracted text into chunks sized for the prompt, each keeping its place."""

import dataclasses
import json
import tempfile
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from documents.extractors.base import Location, Piece

# Where a long text may be cut, best first.
_BOUNDARIES = ("\n\n", "\n", ". ", "! ", "? ", "; ", ", ", " ")


@dataclass(frozen=True)
class Chunk:
    text: str
    location: Location


def text_clean(text: str) -> str:
    """Text any database stores and search finds: Unicode NFKC (compatibility forms
    folded: the ligature U+FB01 is "fi", a fullwidth letter its letter, a no-break
    space a space),
    no NUL characters, no lone surrogates."""
    text = unicodedata.normalize("NFKC", text.replace("\x00", ""))
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text.strip()


def text_split(text: str, max_chars: int) -> list[str]:
    """Cut `text` into parts of at most `max_chars`, at the best boundary in each part's
    second half (a paragraph, a line, a sentence, a word), else anywhere."""
    parts: list[str] = []
    while len(text) > max_chars:
        window = text[:max_chars]
        cut = max_chars
        for boundary in _BOUNDARIES:
            found = window.rfind(boundary, max_chars // 2)
            if found != -1:
                cut = found + len(boundary)
                break
        parts.append(text[:cut].strip())
        text = text[cut:].lstrip()
    parts.append(text.strip())
    return [part for part in parts if part]


def chunks_from(pieces: Iterable[Piece], *, max_chars: int) -> Iterator[Chunk]:
    """Join consecutive pieces from the same place (one page, one sheet) up to `max_chars`;
    split a piece longer than that."""
    texts: list[str] = []
    location: Location | None = None
    size = 0
    for piece in pieces:
        text = text_clean(piece.text)
        if not text:
            continue
        fits = size + 1 + len(text) <= max_chars
        if location is not None and fits and location.can_join(piece.location):
            texts.append(text)
            size += 1 + len(text)
            location = location.joined(piece.location)
            continue
        if location is not None:
            yield Chunk("\n".join(texts), location)
        if len(text) > max_chars:
            for part in text_split(text, max_chars):
                yield Chunk(part, piece.location)
            texts, location, size = [], None, 0
        else:
            texts, location, size = [text], piece.location, len(text)
    if location is not None:
        yield Chunk("\n".join(texts), location)


class ChunkSpool:
    """Chunks kept in a temporary file between extraction and storage, so memory stays
    flat however long the document is; read back in batches."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115 (closed on exit)
        self.count = 0

    def __enter__(self) -> "ChunkSpool":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._file.close()

    def add(self, chunk: Chunk) -> None:
        location = dataclasses.asdict(chunk.location)
        self._file.write(json.dumps([chunk.text, location]) + "\n")
        self.count += 1

    def batches(self, size: int) -> Iterator[list[Chunk]]:
        self._file.seek(0)
        batch: list[Chunk] = []
        for line in self._file:
            text, location = json.loads(line)
            if location["path"] is not None:
                location["path"] = tuple(location["path"])
            batch.append(Chunk(text, Location(**location)))
            if len(batch) == size:
                yield batch
                batch = []
        if batch:
            yield batch
