"""Cutting extracted text into chunks sized for the prompt, each keeping its place."""

import itertools
import json
import tempfile
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TextIO

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
    """Chunks kept between extraction and storage, read back in batches. The first
    `memory_chars` characters of text stay in memory (a 200-page PDF of prose is about
    400,000); past that every chunk goes to a temporary file, so memory stays flat
    however long the document is."""

    def __init__(self, *, memory_chars: int = 500_000) -> None:
        self._held: list[Chunk] = []
        self._held_chars = 0
        self._memory_chars = memory_chars
        self._file: TextIO | None = None
        self.count = 0

    def __enter__(self) -> "ChunkSpool":
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._file is not None:
            self._file.close()

    def add(self, chunk: Chunk) -> None:
        self.count += 1
        if self._file is None and self._held_chars + len(chunk.text) <= self._memory_chars:
            self._held.append(chunk)
            self._held_chars += len(chunk.text)
            return
        if self._file is None:
            self._file = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115 (closed on exit)
        # `vars`, not `dataclasses.asdict`: a Location holds no nested dataclass, and
        # asdict's deep copy cost more than the JSON itself.
        self._file.write(json.dumps([chunk.text, vars(chunk.location)]) + "\n")

    def _spilled(self) -> Iterator[Chunk]:
        if self._file is None:
            return
        self._file.seek(0)
        for line in self._file:
            text, location = json.loads(line)
            if location["path"] is not None:
                location["path"] = tuple(location["path"])
            yield Chunk(text, Location(**location))

    def batches(self, size: int) -> Iterator[list[Chunk]]:
        batch: list[Chunk] = []
        for chunk in itertools.chain(self._held, self._spilled()):
            batch.append(chunk)
            if len(batch) == size:
                yield batch
                batch = []
        if batch:
            yield batch
