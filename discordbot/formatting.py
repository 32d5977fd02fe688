"""Fitting replies into Discord messages (2,000 characters each) without breaking Markdown."""

import re

DISCORD_MESSAGE_LIMIT = 2000
_FENCE = re.compile(r"```([^\n`]*)")
_LANGUAGE = re.compile(r"[\w+#.-]*")
_CLOSE = "\n```"


def _fence_after(fence: str | None, text: str) -> str | None:
    """The code fence still open after `text` ("```py", "```"), given the one open before it."""
    for match in _FENCE.finditer(text):
        if fence is not None:
            fence = None
        else:
            language = match.group(1).strip()
            fence = "```" + (language if _LANGUAGE.fullmatch(language) else "")
    return fence


def _break_at(text: str, fence: str | None, budget: int) -> int:
    """Where to cut `text` to at most `budget` characters, preferring (in order) a
    paragraph break outside code, a line break outside code, any line break, a space
    outside code; a hard cut otherwise (moved off a ``` marker)."""
    window = text[: budget + 1]
    floor = budget // 2

    def outside(pos: int) -> bool:
        return _fence_after(fence, text[:pos]) is None

    candidates = [
        (pos for pos in _rfind_all(window, "\n\n") if outside(pos)),
        (pos for pos in _rfind_all(window, "\n") if outside(pos)),
        _rfind_all(window, "\n"),
        (pos for pos in _rfind_all(window, " ") if outside(pos)),
    ]
    for positions in candidates:
        for pos in positions:
            if pos < floor:
                break
            return pos
    cut = budget
    while cut > floor and "`" in text[cut - 1 : cut + 1]:
        cut -= 1
    return cut


def _rfind_all(text: str, needle: str) -> list[int]:
    """Positions of `needle` in `text`, last first."""
    positions = [match.start() for match in re.finditer(re.escape(needle), text)]
    return positions[::-1]


def split_message(text: str, limit: int = DISCORD_MESSAGE_LIMIT) -> list[str]:
    """Split `text` into messages of at most `limit` characters.

    A code block cut in two is closed at the end of one message and reopened
    (with its language) at the start of the next, so each message renders on its own.
    """
    parts: list[str] = []
    fence: str | None = None
    rest = text
    while rest:
        prefix = f"{fence}\n" if fence else ""
        last = prefix + rest + (_CLOSE if _fence_after(fence, rest) else "")
        if len(last) <= limit:
            parts.append(last)
            break
        budget = max(limit - len(prefix) - len(_CLOSE), 8)
        cut = _break_at(rest, fence, budget)
        piece = rest[:cut]
        fence_after = _fence_after(fence, piece)
        if fence_after is None:
            piece = piece.rstrip()
        parts.append(prefix + piece + (_CLOSE if fence_after else ""))
        rest = rest[cut:]
        # Drop the separator we cut at: the whole break outside code, one newline or
        # space inside it (indentation on the next line matters there).
        rest = rest.lstrip() if fence_after is None else rest.removeprefix("\n")
        fence = fence_after
    return [part for part in parts if part.strip()]
