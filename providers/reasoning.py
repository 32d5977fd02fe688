"""Reasoning apart from the reply: `<think>` tags in streamed text.

Reasoning models served by Ollama, vLLM, llama.cpp or any OpenAI-compatible
server (deepseek-r1, qwq, qwen3, …) stream their thinking inside the reply's
text as `<think>…</think>`, tags split across chunks at any character
(`<th` + `ink>`). Some templates put the opening tag in the prompt, so the
reply starts with the thinking and only the closing tag arrives. Servers that
mark reasoning themselves (DeepSeek's `reasoning_content`, Ollama's
`thinking`) yield `Reasoning` directly; it passes through unchanged.

Open WebUI and SillyTavern parse the same tags; `<thinking>` and
`<reasoning>` are accepted as well.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

# Kimi's models write ◁think▷…◁/think▷.
_OPEN = ("<think>", "<thinking>", "<reasoning>", "◁think▷")
_CLOSE = ("</think>", "</thinking>", "</reasoning>", "◁/think▷")
_TAGS = _OPEN + _CLOSE
_LONGEST = max(len(tag) for tag in _TAGS)


@dataclass(frozen=True)
class Reasoning:
    """A piece of a reasoning model's thinking: never part of the reply's text."""

    text: str


@dataclass(frozen=True)
class ReplyWasReasoning:
    """All the reply text streamed so far was thinking: a closing tag arrived with no
    opening one (the template opened the block in the prompt). Surfaces move what
    they showed as the reply into the thinking; the answer follows."""


def _partial_tag_at_end(text: str, tags: tuple[str, ...]) -> int:
    """How many characters at the end of `text` could begin one of `tags`."""
    lowered = text[-_LONGEST:].lower()
    if "<" not in lowered and "◁" not in lowered:
        return 0
    for size in range(min(len(lowered), _LONGEST - 1), 0, -1):
        tail = lowered[-size:]
        if any(tag.startswith(tail) for tag in tags):
            return size
    return 0


def _find(text: str, tags: tuple[str, ...]) -> tuple[int, int]:
    """(start, end) of the first of `tags` in `text`, or (-1, -1)."""
    lowered = text.lower()
    found = [(lowered.find(tag), len(tag)) for tag in tags]
    found = [(at, size) for at, size in found if at >= 0]
    if not found:
        return -1, -1
    at, size = min(found)
    return at, at + size


class ReasoningSplitter:
    """Feed text chunks in order; get back reply text and `Reasoning` pieces.

    Text that might be the start of a tag is held back until the next chunk
    decides it (at most 12 characters). A reasoning block is only recognised at
    the start of the reply (after whitespace), as the models emit it; a `<think>`
    quoted in the middle of an answer stays text. A closing tag before any opening
    one (the template opened the block in the prompt) turns what came before it
    into thinking: `ReplyWasReasoning`, then the rest as `Reasoning`; this happens
    once, and only while no block was opened, and not inside `inline code`. Blocks
    nested in the reasoning end with their own closing tags.
    """

    def __init__(self) -> None:
        self._buffer = ""
        self._thinking = False
        self._started = False  # some reply text (not whitespace) was emitted
        # A block was closed, or the answer quotes an opening tag: a closing tag is text.
        self._closed_block = False
        self._depth = 0  # blocks open inside the reasoning
        self._backticks = 0  # in the reply so far: odd inside `inline code`

    def feed(self, chunk: str) -> list[str | Reasoning | ReplyWasReasoning]:
        self._buffer += chunk
        return self._drain(final=False)

    def close(self) -> list[str | Reasoning | ReplyWasReasoning]:
        """What is left when the stream ends (an unclosed block is reasoning)."""
        return self._drain(final=True)

    def _drain(self, *, final: bool) -> list[str | Reasoning | ReplyWasReasoning]:
        out: list[str | Reasoning | ReplyWasReasoning] = []
        while self._buffer:
            if self._thinking:
                close_at, close_end = _find(self._buffer, _CLOSE)
                open_at, open_end = _find(self._buffer, _OPEN)
                if open_at >= 0 and (close_at < 0 or open_at < close_at):
                    self._depth += 1  # a block inside the block: its end is not the end
                    out.append(Reasoning(self._buffer[:open_end]))
                    self._buffer = self._buffer[open_end:]
                    continue
                if close_at >= 0:
                    self._depth -= 1
                    if self._depth:
                        out.append(Reasoning(self._buffer[:close_end]))
                    else:
                        out.append(Reasoning(self._buffer[:close_at]))
                        self._thinking = False
                        self._closed_block = True
                    self._buffer = self._buffer[close_end:]
                    continue
                keep = 0 if final else _partial_tag_at_end(self._buffer, _TAGS)
                out.append(Reasoning(self._buffer[: len(self._buffer) - keep]))
                self._buffer = self._buffer[len(self._buffer) - keep :]
                break
            if not self._started:
                stripped = self._buffer.lstrip()
                start, end = _find(stripped, _OPEN)
                if start == 0:
                    self._buffer = stripped[end:]
                    self._thinking = True
                    self._depth = 1
                    continue
                if not final and (
                    not stripped or _partial_tag_at_end(stripped, _OPEN) == len(stripped)
                ):
                    break  # nothing decided yet: whitespace, or the start of a tag
                if self._closed_block:
                    self._buffer = stripped  # the answer starts after the block's blank lines
            if not self._closed_block:
                start, end = _find(self._buffer, _CLOSE)
                opened, _ = _find(self._buffer, _OPEN)
                in_code = (self._backticks + self._buffer[: max(start, 0)].count("`")) % 2
                if 0 <= opened < start or (opened >= 0 and start < 0) or (start >= 0 and in_code):
                    self._closed_block = True  # the answer quotes the tags: no block
                elif start >= 0:  # the opening tag was in the prompt
                    out += [ReplyWasReasoning(), Reasoning(self._buffer[:start])]
                    self._buffer = self._buffer[end:]
                    self._closed_block = True
                    self._started = False
                    continue
            keep = 0 if final or self._closed_block else _partial_tag_at_end(self._buffer, _TAGS)
            self._started = True
            if len(self._buffer) > keep:
                out.append(self._buffer[: len(self._buffer) - keep])
                self._backticks += out[-1].count("`")
            self._buffer = self._buffer[len(self._buffer) - keep :]
            if keep:
                break
        return [item for item in out if not isinstance(item, Reasoning) or item.text]


def reasoning_split(stream: Iterable[object]) -> Iterator[object]:
    """Separate `<think>` blocks from the reply in a provider's stream.

    Text chunks become reply text or `Reasoning`; other items (`Reasoning` the
    server marked, the final Usage) pass through in order.
    """
    splitter = ReasoningSplitter()
    for item in stream:
        if isinstance(item, str):
            yield from splitter.feed(item)
        elif isinstance(item, Reasoning):
            yield item
        else:
            yield from splitter.close()
            yield item
    yield from splitter.close()


def reasoning_removed(text: str) -> str:
    """A whole reply's text without its reasoning, read as `ReasoningSplitter` reads a
    stream (for text that did not come through `Provider.stream`)."""
    splitter = ReasoningSplitter()
    items = [*splitter.feed(text), *splitter.close()]
    if any(isinstance(item, ReplyWasReasoning) for item in items):
        items = items[
            max(i for i, item in enumerate(items) if isinstance(item, ReplyWasReasoning)) :
        ]
    return "".join(item for item in items if isinstance(item, str))
