"""What every extractor yields: pieces of text and where each came from."""

import re
from collections.abc import Callable
from dataclasses import dataclass, field

# Reports how far extraction got, from 0.0 to 1.0.
Progress = Callable[[float], None]


def no_progress(_fraction: float) -> None:
    return None


PathPart = str | int


def json_path_label(parts: tuple[PathPart, ...]) -> str:
    """`("sponsors", 0, "name")` as `$.sponsors[0].name`."""
    label = "$"
    for part in parts:
        if isinstance(part, int):
            label += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", part):
            label += f".{part}"
        else:
            escaped = part.replace("\\", "\\\\").replace('"', '\\"')
            label += f'["{escaped}"]'
    return label


@dataclass(frozen=True)
class Location:
    """Where a piece of text is in its document: a page, a sheet and rows, lines, or a JSON path."""

    page: int | None = None
    sheet: str = ""
    row_start: int | None = None
    row_end: int | None = None
    path: tuple[PathPart, ...] | None = None
    rows_are_lines: bool = False
    heading: str = ""  # the headings above the text, "Schedule > Friday" (DOCX, Markdown, HTML)

    @property
    def json_path(self) -> str:
        return json_path_label(self.path) if self.path is not None else ""

    @property
    def label(self) -> str:
        parts: list[str] = []
        if self.heading:
            parts.append(f'section "{self.heading}"')
        if self.page is not None:
            parts.append(f"page {self.page}")
        if self.sheet:
            parts.append(f'sheet "{self.sheet}"')
        if self.row_start is not None:
            noun = "line" if self.rows_are_lines else "row"
            if self.row_end is None or self.row_end == self.row_start:
                parts.append(f"{noun} {self.row_start}")
            else:
                parts.append(f"{noun}s {self.row_start}-{self.row_end}")
        if self.path is not None:
            parts.append(self.json_path)
        return ", ".join(parts)

    def can_join(self, other: "Location") -> bool:
        """Pieces join into one chunk only within one page, one sheet, one kind of place."""
        return (
            self.page == other.page
            and self.sheet == other.sheet
            and self.heading == other.heading
            and (self.path is None) == (other.path is None)
            and (self.row_start is None) == (other.row_start is None)
        )

    def joined(self, other: "Location") -> "Location":
        """The place covering this piece and the next one."""
        path = self.path
        if path is not None and other.path is not None:
            common: list[PathPart] = []
            for mine, theirs in zip(path, other.path, strict=False):
                if mine != theirs:
                    break
                common.append(mine)
            path = tuple(common)
        return Location(
            page=self.page,
            sheet=self.sheet,
            row_start=self.row_start,
            row_end=other.row_end if other.row_end is not None else other.row_start,
            path=path,
            rows_are_lines=self.rows_are_lines,
            heading=self.heading,
        )


@dataclass(frozen=True)
class Piece:
    """A unit of text as the document holds it: a page, a row, a JSON value, a paragraph."""

    text: str
    location: Location


@dataclass(frozen=True)
class ExtractOptions:
    """What the uploader chose: hidden sheets are left out unless asked for."""

    include_hidden_sheets: bool = False


@dataclass
class ExtractionReport:
    """What an extractor left out or could not read, in words for the document's page:
    "2 hidden sheets skipped", "3 formula cells had no saved value"."""

    notes: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        self.notes.append(text)


DEFAULT_OPTIONS = ExtractOptions()
