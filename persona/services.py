"""Writes to the persona: its fields, its avatar, a character card's import.

A card's lorebook becomes global memories (`MemorySource.CARD`), approved (the owner
chose to import them) and tagged with their keys; importing another card replaces them,
through the memory services, so that the memory history records what went and came.
"""

import hashlib
import io
import logging
import warnings
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from PIL import Image, UnidentifiedImageError

from luma.errors import LumaError
from memories.models import Memory, MemorySource
from memories.services import memories_create_bulk, memories_delete
from persona.cards import (
    CARD_FIELD_MAX_CHARS,
    CARD_FIELDS,
    CARD_MAX_PIXELS,
    SPEC_V2,
    SPEC_V3,
    CardRejected,
    LoreEntry,
    card_document,
    card_json,
    card_png,
    card_read,
    image_as_png,
)
from persona.models import AVATAR_MAX_SIDE, Persona
from persona.selectors import persona_avatar_png, persona_get

logger = logging.getLogger(__name__)

AVATAR_MAX_BYTES = 10 * 1024 * 1024
AVATAR_FORMATS = ["PNG", "JPEG", "WEBP", "GIF"]
EDITABLE_FIELDS = tuple(CARD_FIELDS)
# Lorebook memories: constant entries (always in SillyTavern's prompt) rank higher.
LORE_IMPORTANCE, LORE_CONSTANT_IMPORTANCE = 6, 8


class InvalidPersona(LumaError):
    pass


class AvatarRejected(LumaError):
    status_code = 400


class AvatarTooLarge(AvatarRejected):
    status_code = 413


def persona_update(**changes: Any) -> Persona:
    """Change the persona's fields (only those given, None meaning unchanged)."""
    persona = Persona.objects.get(pk=persona_get().pk)
    for name, value in changes.items():
        if name not in EDITABLE_FIELDS:
            raise InvalidPersona(f"{name} cannot be changed.")
        if value is not None:
            setattr(persona, name, _clean_text(name, value))
    _validate(persona)
    persona.save()
    return persona


def _clean_text(name: str, value: str) -> str:
    value = value.replace("\x00", "").replace("\r\n", "\n")
    if name == "name":
        return " ".join(value.split())
    if len(value) > CARD_FIELD_MAX_CHARS:
        raise InvalidPersona(
            f"{name}: {len(value)} characters; at most {CARD_FIELD_MAX_CHARS}.",
        )
    return value.strip()


def _validate(persona: Persona) -> None:
    if not persona.name:
        raise InvalidPersona("name: the persona needs a name.")
    try:
        persona.full_clean(exclude=["avatar_png", "card"])
    except ValidationError as error:
        field, problems = next(iter(error.message_dict.items()))
        raise InvalidPersona(f"{field}: {problems[0]}", detail=str(error.message_dict)) from None


def persona_avatar_set(*, data: bytes) -> Persona:
    """Make the image in `data` (PNG, JPEG, WebP or GIF) the avatar, as a PNG of at most
    `AVATAR_MAX_SIDE` pixels a side."""
    if len(data) > AVATAR_MAX_BYTES:
        raise AvatarTooLarge(
            f"The image is {len(data) / 1_048_576:.1f} MB; at most "
            f"{AVATAR_MAX_BYTES // 1_048_576} MB."
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=AVATAR_FORMATS) as image:
                if image.size[0] * image.size[1] > CARD_MAX_PIXELS:
                    raise AvatarRejected(
                        f"The image is {image.size[0]} x {image.size[1]} pixels; at most "
                        f"{CARD_MAX_PIXELS // 1_000_000} million pixels."
                    )
                image.load()
                png = image_as_png(image, max_side=AVATAR_MAX_SIDE)
    except AvatarRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise AvatarRejected("The image is far too large to open.", detail=str(error)) from None
    except UnidentifiedImageError:
        raise AvatarRejected(
            "This file is not an image Luma reads: PNG, JPEG, WebP or GIF."
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise AvatarRejected(
            "This image is damaged and cannot be read.", detail=str(error)
        ) from None
    return _avatar_store(png)


def _avatar_store(png: bytes) -> Persona:
    persona = persona_get()
    Persona.objects.filter(pk=persona.pk).update(
        avatar_png=png,
        avatar_version=hashlib.sha256(png).hexdigest()[:16],
        updated_at=timezone.now(),
    )
    return persona_get()


def persona_avatar_clear() -> Persona:
    persona = persona_get()
    Persona.objects.filter(pk=persona.pk).update(
        avatar_png=b"", avatar_version="", updated_at=timezone.now()
    )
    return persona_get()


@dataclass(frozen=True)
class CardImported:
    persona: Persona
    spec: str
    memories_created: int
    memories_removed: int
    entries_skipped: int  # disabled or empty lorebook entries


def persona_card_import(*, data: bytes, actor: AbstractBaseUser | None) -> CardImported:
    """Make the card in `data` the persona: its fields, its picture (a PNG card's) and
    its lorebook (global memories replacing the previous card's). All or nothing: a
    card refused (`CardRejected`) changes nothing."""
    read = card_read(data)
    avatar = image_as_png(read.image, max_side=AVATAR_MAX_SIDE) if read.image else None
    entries = [entry for entry in read.lorebook if entry.enabled and entry.content.strip()]
    with transaction.atomic():
        persona = Persona.objects.select_for_update().get(pk=persona_get().pk)
        for name, value in read.fields.items():
            setattr(persona, name, _clean_text(name, value))
        _validate(persona)
        persona.card = read.card
        persona.card_imported_at = timezone.now()
        if avatar is not None:
            persona.avatar_png = avatar
            persona.avatar_version = hashlib.sha256(avatar).hexdigest()[:16]
        persona.save()
        removed = _lorebook_remove()
        created = memories_create_bulk(memories=[_lore_memory(e, actor) for e in entries])
    logger.info(
        "Imported the %s card of %s: %d lorebook memories (%d replaced)",
        read.spec,
        persona.name,
        len(created),
        removed,
    )
    return CardImported(
        persona=persona_get(),
        spec=read.spec,
        memories_created=len(created),
        memories_removed=removed,
        entries_skipped=len(read.lorebook) - len(entries),
    )


def _lorebook_remove() -> int:
    ids = list(Memory.objects.filter(source=MemorySource.CARD).values_list("pk", flat=True))
    if ids:
        memories_delete(memory_ids=ids)  # its count includes the rows deleted with them
    return len(ids)


def _lore_memory(entry: LoreEntry, actor: AbstractBaseUser | None) -> Memory:
    return Memory(
        content=entry.content.strip(),
        source=MemorySource.CARD,
        importance=LORE_CONSTANT_IMPORTANCE if entry.constant else LORE_IMPORTANCE,
        tags=entry.keys,
        created_by=actor if actor is not None and actor.pk else None,
    )


CARD_FORMATS = ("png", "v2", "v3")


@dataclass(frozen=True)
class CardFile:
    content: bytes
    content_type: str
    filename: str


def persona_card_export(*, format: str) -> CardFile:
    """The persona as a card file: `png` (the avatar with `chara` and `ccv3` chunks),
    `v2` or `v3` JSON."""
    persona = persona_get()
    fields = {name: getattr(persona, name) for name in CARD_FIELDS}
    stem = "".join(c if c.isalnum() or c in "-_ " else "_" for c in persona.name).strip()
    stem = stem or "card"
    if format == "png":
        content = card_png(persona_avatar_png(), persona.card, fields)
        return CardFile(content, "image/png", f"{stem}.png")
    if format in ("v2", "v3"):
        spec = SPEC_V3 if format == "v3" else SPEC_V2
        content = card_json(card_document(persona.card, fields, spec=spec))
        return CardFile(content, "application/json", f"{stem}.{format}.json")
    raise CardRejected(f"Unknown card format {format!r}: png, v2 or v3.")
