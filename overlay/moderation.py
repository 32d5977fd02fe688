"""The stream's moderation filter: words, phrases and patterns the streamer blocks.

It runs on what Twitch viewers send (before the model sees it) and on what the persona
is about to say on stream (before a reply is posted to Twitch, and on the overlay,
where a blocked passage is masked as it streams). One entry a line in
`RuntimeSettings.stream_blocklist`:

- a word or phrase: matched as the memory blocklist matches (`memories.privacy.Blocklist`:
  case, accents and full-width forms do not matter, Latin words match whole);
- `/pattern/`: a regular expression (Python syntax), case-insensitive, for what words
  cannot say (`/b+a+d+w+o+r+d+/`, `/\\bfree\\s+v-?bucks\\b/`).
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from luma.errors import LumaError
from memories.privacy import Blocklist

MASK = "•••"


class InvalidBlocklist(LumaError):
    """A `/pattern/` line that is not a valid regular expression."""


@dataclass(frozen=True)
class Blocked:
    """What a filter found: the entry (as the streamer typed it) and where."""

    entry: str
    start: int
    end: int


@dataclass(frozen=True)
class StreamFilter:
    words: Blocklist
    patterns: tuple[tuple[str, re.Pattern[str]], ...]

    @property
    def empty(self) -> bool:
        return not self.words.entries and not self.patterns

    def findings(self, text: str) -> Iterator[Blocked]:
        for start, end in self.words.findings(text):
            yield Blocked(self._entry_at(text[start:end]), start, end)
        for entry, pattern in self.patterns:
            for match in pattern.finditer(text):
                if match.end() > match.start():
                    yield Blocked(entry, match.start(), match.end())

    def _entry_at(self, found: str) -> str:
        """The word entry that matched `found` (for the owner's list)."""
        for entry in self.words.entries:
            if any(True for _ in Blocklist((entry,)).findings(found)):
                return entry
        return found

    def first(self, text: str) -> Blocked | None:
        return next(self.findings(text), None)

    def masked(self, text: str) -> str:
        """`text` with every blocked passage replaced by •••."""
        spans = sorted((found.start, found.end) for found in self.findings(text))
        pieces: list[str] = []
        position = 0
        for start, end in spans:
            if end <= position:
                continue
            pieces += [text[position : max(start, position)], MASK]
            position = end
        return "".join(pieces) + text[position:]


def _is_pattern(line: str) -> bool:
    return len(line) >= 3 and line.startswith("/") and line.endswith("/")


@lru_cache(maxsize=16)
def stream_filter_parse(text: str) -> StreamFilter:
    """The filter of a blocklist's text. Raises `InvalidBlocklist` (400) naming the
    line of a pattern that does not compile."""
    words: list[str] = []
    patterns: list[tuple[str, re.Pattern[str]]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if not _is_pattern(line):
            words.append(line)
            continue
        try:
            patterns.append((line, re.compile(line[1:-1], re.IGNORECASE)))
        except re.error as error:
            raise InvalidBlocklist(
                f"Line {number} of the blocklist, {line}, is not a valid pattern: {error}."
            ) from None
    return StreamFilter(Blocklist.from_text("\n".join(words)), tuple(patterns))
