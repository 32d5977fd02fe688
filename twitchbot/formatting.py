"""Fitting a reply into Twitch chat: one line of plain text, at most 500 characters a
message, never a command.

Twitch shows chat messages as plain text on one line, so Markdown marks (`**`, `#`,
backticks, bullets, links) are noise there: the text is kept and the marks dropped.
A long reply is cut into several messages at word boundaries, never inside a
grapheme (an emoji with its skin tone or ZWJ sequence, a flag, a letter with its
accent). A message that starts with `/` or `.`
would be run by Twitch as a chat command (`/ban`, `.timeout`): it starts with a
zero-width space instead, which Twitch shows as nothing and does not trim.
"""

import re
import unicodedata

from markdown_it import MarkdownIt

TWITCH_MESSAGE_LIMIT = 500
# What a message may not start with: Twitch runs it as a command.
COMMAND_STARTS = ("/", ".")

_markdown = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
_SPACES = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u2028\u2029]")
# Block ends that become a separator on one line.
_ITEM_SEPARATOR = " • "


def markdown_to_plain(text: str) -> str:
    """The words of a Markdown reply on one line: marks dropped, link text kept (with
    the address when it differs), list items and paragraphs joined."""
    pieces: list[str] = []
    in_item = False
    for token in _markdown.parse(text):
        if token.type == "list_item_open":
            pieces.append(_ITEM_SEPARATOR if in_item or pieces else "")
            in_item = True
        elif token.type in ("paragraph_close", "heading_close", "blockquote_close"):
            pieces.append(" ")
        elif token.type in ("fence", "code_block"):
            pieces.append(f" {token.content.strip()} ")
        elif token.type == "inline" and token.children is not None:
            pieces.append(_inline_text(token.children))
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            in_item = False
            pieces.append(" ")
    return _SPACES.sub(" ", "".join(pieces)).strip()


def _inline_text(children: list) -> str:
    out: list[str] = []
    link: str | None = None
    link_text: list[str] = []
    for child in children:
        if child.type == "link_open":
            link, link_text = str(child.attrs.get("href", "")), []
        elif child.type == "link_close":
            label = "".join(link_text)
            out.append(label if not link or link in label else f"{label} ({link})")
            link = None
        elif child.type in ("text", "code_inline"):
            (link_text if link is not None else out).append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            (link_text if link is not None else out).append(" ")
        elif child.type == "image":
            out.append(child.content)
    return "".join(out)


def command_escaped(message: str) -> str:
    """A message Twitch will show, never run: one starting with / or . gets a
    zero-width space before it, which Twitch keeps (it trims spaces, not this)."""
    return "\u200b" + message if message.startswith(COMMAND_STARTS) else message


def _is_extender(character: str) -> bool:
    code = ord(character)
    return (
        unicodedata.category(character) in ("Mn", "Me", "Mc")
        or code == 0x200D  # zero-width joiner
        or 0xFE00 <= code <= 0xFE0F  # variation selectors
        or 0xE0100 <= code <= 0xE01EF
        or 0x1F3FB <= code <= 0x1F3FF  # skin tones
        or 0xE0020 <= code <= 0xE007F  # emoji tag sequences (subdivision flags)
        or 0x1160 <= code <= 0x11FF  # Hangul medial vowels and final consonants
    )


def _is_regional_indicator(character: str) -> bool:
    return 0x1F1E6 <= ord(character) <= 0x1F1FF


def grapheme_boundary(text: str, index: int) -> bool:
    """Whether `text` may be cut before `index` without breaking a grapheme."""
    if index <= 0 or index >= len(text):
        return True
    before, after = text[index - 1], text[index]
    if before == "\r" and after == "\n":
        return False
    if _is_extender(after) or before == "\u200d":
        return False
    if _is_regional_indicator(before) and _is_regional_indicator(after):
        run = 0
        position = index - 1
        while position >= 0 and _is_regional_indicator(text[position]):
            run += 1
            position -= 1
        return run % 2 == 0  # a flag is a pair: cut only between pairs
    return True


def _cut(text: str, limit: int) -> int:
    """Where to end a message of at most `limit` characters: the last space in its
    second half, else the last grapheme boundary."""
    space = text.rfind(" ", limit // 2, limit + 1)
    if space > 0:
        return space
    cut = limit
    while cut > 1 and not grapheme_boundary(text, cut):
        cut -= 1
    return cut


def twitch_messages(reply: str, limit: int = TWITCH_MESSAGE_LIMIT) -> list[str]:
    """The chat messages that carry `reply` (Markdown) to Twitch, each at most `limit`
    characters, none a command."""
    text = _CONTROL.sub(" ", markdown_to_plain(reply))
    text = _SPACES.sub(" ", text).strip()
    messages: list[str] = []
    while text:
        room = limit - (1 if text.startswith(COMMAND_STARTS) else 0)
        if len(text) <= room:
            messages.append(command_escaped(text))
            break
        cut = _cut(text, room)
        messages.append(command_escaped(text[:cut].rstrip()))
        text = text[cut:].lstrip()
    return [message for message in messages if message.strip("\u200b ")]
