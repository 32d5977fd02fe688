"""SillyTavern-style character cards: read V1, V2 and V3 JSON and PNG cards, write them back.

A PNG card is a picture carrying the card as base64 JSON in a text chunk: `chara` (V2 or
V1) and, from V3 on, `ccv3`; when both are there V3 wins, as in SillyTavern
(src/character-card-parser.js). Keywords match in any case, and tEXt, zTXt and iTXt
chunks all count (SillyTavern reads tEXt only; other tools compress). Pillow reads the
chunks, with its guards against decompression bombs: an image of more than
`CARD_MAX_PIXELS` is refused before its pixels are decoded, and a compressed chunk may not
inflate past `PngImagePlugin.MAX_TEXT_CHUNK` (1 MB).

The card is kept whole (`RawCard`), so that an export gives back every field Luma does not
use, `extensions`, unknown top-level keys and the lorebook included; Luma's fields are
written over it (`card_document`).
"""

import base64
import binascii
import copy
import io
import json
import warnings
from dataclasses import dataclass, field
from typing import Any

from PIL import Image, PngImagePlugin, UnidentifiedImageError

from luma.errors import LumaError

CARD_MAX_BYTES = 10 * 1024 * 1024
CARD_MAX_PIXELS = 25_000_000  # 5000 x 5000: 100 MB decoded, the most a card decodes to
CARD_FIELD_MAX_CHARS = 100_000
LOREBOOK_MAX_ENTRIES = 5000
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SPEC_V2, SPEC_V3 = "chara_card_v2", "chara_card_v3"

# Luma's persona field → the card's `data` key.
CARD_FIELDS = {
    "name": "name",
    "description": "description",
    "personality": "personality",
    "scenario": "scenario",
    "greeting": "first_mes",
    "example_dialogue": "mes_example",
    "system_prompt": "system_prompt",
    "post_history_instructions": "post_history_instructions",
}
# V1 cards have these at the top level (V2 and V3 keep a copy there for old readers).
V1_FIELDS = ("name", "description", "personality", "scenario", "first_mes", "mes_example")
V2_DEFAULTS: dict[str, Any] = {
    "creator_notes": "",
    "system_prompt": "",
    "post_history_instructions": "",
    "alternate_greetings": [],
    "tags": [],
    "creator": "",
    "character_version": "",
    "extensions": {},
}
V3_DEFAULTS: dict[str, Any] = {**V2_DEFAULTS, "group_only_greetings": []}


class CardRejected(LumaError):
    """A file that is no card Luma can read; nothing was changed."""

    status_code = 400


class CardTooLarge(CardRejected):
    status_code = 413


class CardNotACard(CardRejected):
    status_code = 415


@dataclass(frozen=True)
class LoreEntry:
    content: str
    keys: list[str]
    enabled: bool
    constant: bool
    insertion_order: int


@dataclass
class CardRead:
    """A card as read: Luma's fields, the lorebook, the card itself, and the picture."""

    fields: dict[str, str]
    lorebook: list[LoreEntry]
    card: dict[str, Any]
    spec: str  # "chara_card_v3", "chara_card_v2" or "v1"
    image: Image.Image | None = field(default=None, repr=False)


# ---- reading -----------------------------------------------------------------


def card_read(data: bytes) -> CardRead:
    """The card in `data` (a PNG or a JSON file); `CardRejected` says what is wrong."""
    if len(data) > CARD_MAX_BYTES:
        raise CardTooLarge(_too_large(len(data)))
    if data.startswith(PNG_SIGNATURE):
        text, image = _png_card_text(data)
        return _card_from_json(text, image=image, where="the PNG's card chunk")
    stripped = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"{"):
        return _card_from_json(stripped, image=None, where="the JSON file")
    raise CardNotACard(
        "This file is not a character card: upload a PNG card (with the character inside) "
        "or a JSON card (V1, V2 or V3).",
        detail="neither a PNG signature nor a JSON object",
    )


def _too_large(size: int) -> str:
    return (
        f"The card is {size / 1_048_576:.1f} MB; cards of up to "
        f"{CARD_MAX_BYTES // 1_048_576} MB are accepted."
    )


def _png_card_text(data: bytes) -> tuple[bytes, Image.Image]:
    """The decoded text of the PNG's `ccv3` (or else `chara`) chunk, and its picture."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=["PNG"])
            width, height = image.size
            if width * height > CARD_MAX_PIXELS:
                raise CardRejected(
                    f"The card's picture is {width} x {height} pixels; at most "
                    f"{CARD_MAX_PIXELS // 1_000_000} million pixels are accepted.",
                    detail="possible decompression bomb",
                )
            image.load()  # text chunks after the image data are read with it
            chunks = dict(image.text)
    except CardRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise CardRejected(
            "The card's picture is far too large to open (a decompression bomb?).",
            detail=str(error),
        ) from None
    except ValueError as error:  # Pillow's limits on text chunks
        raise CardRejected(
            "A text chunk of this PNG inflates to more than Luma reads "
            f"({PngImagePlugin.MAX_TEXT_CHUNK // 1_048_576} MB): it is refused.",
            detail=str(error),
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, EOFError) as error:
        raise CardRejected(
            "This PNG is damaged: its picture cannot be read.", detail=str(error)
        ) from None
    by_keyword = {keyword.lower(): value for keyword, value in chunks.items()}
    raw = by_keyword.get("ccv3") or by_keyword.get("chara")
    if raw is None:
        raise CardRejected(
            "This PNG holds no character: it has no `chara` or `ccv3` text chunk. Export the "
            "card again from the site or app it came from.",
            detail=f"text chunks: {', '.join(sorted(chunks)) or 'none'}",
        )
    packed = "".join(str(raw).split())  # line breaks, as some writers wrap base64
    try:
        text = base64.b64decode(packed + "=" * (-len(packed) % 4), validate=True)
    except (binascii.Error, ValueError) as error:
        raise CardRejected(
            "The PNG's card chunk is not valid base64: the card is damaged.", detail=str(error)
        ) from None
    return text, image


def _card_from_json(text: bytes, *, image: Image.Image | None, where: str) -> CardRead:
    try:
        card = json.loads(text.decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        raise CardRejected(f"{where.capitalize()} is not UTF-8 text.", detail=str(error)) from None
    except (json.JSONDecodeError, RecursionError) as error:
        raise CardRejected(
            f"{where.capitalize()} is not valid JSON: the card is damaged.", detail=str(error)
        ) from None
    if not isinstance(card, dict):
        raise CardRejected(f"{where.capitalize()} is not a JSON object: no character card.")
    spec = card.get("spec")
    if spec in (SPEC_V2, SPEC_V3):
        data = card.get("data")
        if not isinstance(data, dict):
            raise CardRejected(f"This {spec} card has no `data` object.")
        fields = {
            ours: _text(data.get(theirs, card.get(theirs) if theirs in V1_FIELDS else ""), theirs)
            for ours, theirs in CARD_FIELDS.items()
        }
        if not fields["name"].strip():  # some writers leave `data.name` empty (ST #3905)
            fields["name"] = _text(card.get("name", ""), "name")
        lorebook = _lorebook(data.get("character_book"))  # null: none (character-tools #36)
    elif spec is not None:
        raise CardRejected(
            f"Unknown card format {str(spec)[:40]!r}: Luma reads {SPEC_V2}, {SPEC_V3} and V1 cards."
        )
    elif "name" in card or "char_name" in card:
        spec, fields, lorebook = "v1", _v1_fields(card), []
    else:
        raise CardRejected(
            "This JSON is not a character card: it has neither `spec` nor `name`.",
        )
    fields["name"] = " ".join(fields["name"].split())[:100]
    if not fields["name"]:
        raise CardRejected("The card's character has no name.")
    return CardRead(fields=fields, lorebook=lorebook, card=card, spec=str(spec), image=image)


def _v1_fields(card: dict[str, Any]) -> dict[str, str]:
    if "name" not in card:  # Pygmalion / Gradio's notepad format
        renamed = {
            "name": "char_name",
            "description": "char_persona",
            "first_mes": "char_greeting",
            "scenario": "world_scenario",
            "mes_example": "example_dialogue",
        }
        card = {ours: card.get(theirs, "") for ours, theirs in renamed.items()}
    return {ours: _text(card.get(theirs, ""), theirs) for ours, theirs in CARD_FIELDS.items()}


def _text(value: Any, name: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise CardRejected(f"The card's `{name}` is not text.")
    text = str(value).replace("\x00", "")
    if len(text) > CARD_FIELD_MAX_CHARS:
        raise CardRejected(
            f"The card's `{name}` is {len(text)} characters long; at most "
            f"{CARD_FIELD_MAX_CHARS} are accepted."
        )
    return text


def _lorebook(book: Any) -> list[LoreEntry]:
    if book is None:
        return []
    if not isinstance(book, dict):
        raise CardRejected("The card's `character_book` is not an object.")
    entries = book.get("entries", [])
    if not isinstance(entries, list):
        raise CardRejected("The card's `character_book.entries` is not a list.")
    if len(entries) > LOREBOOK_MAX_ENTRIES:
        raise CardRejected(
            f"The card's lorebook has {len(entries)} entries; at most "
            f"{LOREBOOK_MAX_ENTRIES} are accepted."
        )
    return [_lore_entry(entry, number) for number, entry in enumerate(entries, start=1)]


def _lore_entry(entry: Any, number: int) -> LoreEntry:
    if not isinstance(entry, dict):
        raise CardRejected(f"Lorebook entry {number} is not an object.")
    keys = entry.get("keys", [])
    if isinstance(keys, str):
        keys = [part for part in keys.split(",")]
    if not isinstance(keys, list):
        raise CardRejected(f"The keys of lorebook entry {number} are not a list.")
    order = entry.get("insertion_order", 100)
    return LoreEntry(
        content=_text(entry.get("content", ""), f"character_book.entries[{number}].content"),
        keys=[str(key).strip() for key in keys if str(key).strip()],
        enabled=entry.get("enabled", True) is not False,
        constant=entry.get("constant") is True,
        insertion_order=order if isinstance(order, int) and not isinstance(order, bool) else 100,
    )


def image_as_png(image: Image.Image, *, max_side: int) -> bytes:
    """`image` as a plain PNG (no text chunks), at most `max_side` pixels a side."""
    picture = image.convert("RGBA") if image.mode not in ("RGB", "RGBA") else image.copy()
    picture.thumbnail((max_side, max_side))
    out = io.BytesIO()
    picture.save(out, format="PNG", optimize=False)
    return out.getvalue()


# ---- writing -------------------------------------------------------------------


def card_document(
    card: dict[str, Any], fields: dict[str, str], *, spec: str = SPEC_V2
) -> dict[str, Any]:
    """The card to export: the card kept from the import (or none), with Luma's fields
    written over it, as a `spec` card (V2 or V3). Every other field stays as it was."""
    document = copy.deepcopy(card) if isinstance(card, dict) else {}
    imported_data = document.get("data") if document.get("spec") in (SPEC_V2, SPEC_V3) else None
    if isinstance(imported_data, dict):
        data = imported_data
    else:  # a V1 card, or none: its known fields move into `data`
        data = {"creator_notes": _v1_notes(document)} if document else {}
        for key in ("tags", "creator"):
            if key in document:
                data[key] = document[key]
    for name, value in (V3_DEFAULTS if spec == SPEC_V3 else V2_DEFAULTS).items():
        data.setdefault(name, copy.deepcopy(value))
    for ours, theirs in CARD_FIELDS.items():
        data[theirs] = fields[ours]
    document.update(
        {"spec": spec, "spec_version": "3.0" if spec == SPEC_V3 else "2.0", "data": data}
    )
    for name in V1_FIELDS:  # the copy old readers look for
        document[name] = data[name]
    return document


def _v1_notes(card: dict[str, Any]) -> str:
    notes = card.get("creator_notes", card.get("creatorcomment", ""))
    return notes if isinstance(notes, str) else ""


def card_json(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, indent=2).encode()


def card_png(avatar_png: bytes, card: dict[str, Any], fields: dict[str, str]) -> bytes:
    """The avatar as a PNG card: a `chara` chunk (V2) and a `ccv3` chunk (V3)."""
    info = PngImagePlugin.PngInfo()
    for keyword, spec in (("chara", SPEC_V2), ("ccv3", SPEC_V3)):
        encoded = base64.b64encode(json.dumps(card_document(card, fields, spec=spec)).encode())
        info.add_text(keyword, encoded.decode("ascii"))
    with Image.open(io.BytesIO(avatar_png)) as image:
        out = io.BytesIO()
        image.save(out, format="PNG", pnginfo=info)
    return out.getvalue()
