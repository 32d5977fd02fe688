"""The persona's API: owner only (403 for everyone else, 401 without credentials)."""

from typing import Literal

from django.http import HttpRequest, HttpResponse
from django.utils.http import content_disposition_header
from ninja import File, Query, Router, Schema, UploadedFile

from luma.roles import Role, role_required
from persona.cards import CARD_MAX_BYTES, CardTooLarge
from persona.models import Persona
from persona.schemas import CardImportOut, PersonaIn, PersonaOut
from persona.selectors import persona_get
from persona.services import (
    AVATAR_MAX_BYTES,
    AvatarTooLarge,
    CardImported,
    persona_avatar_clear,
    persona_avatar_set,
    persona_card_export,
    persona_card_import,
    persona_update,
)

router = Router()


def _read_bounded(file: UploadedFile, limit: int, error: type[Exception]) -> bytes:
    """The upload's bytes, refused before reading when it is over `limit`."""
    if file.size is not None and file.size > limit:
        raise error(f"The file is {file.size / 1_048_576:.1f} MB; at most {limit // 1_048_576} MB.")
    return file.read(limit + 1)


@router.get("", response=PersonaOut, summary="The persona: name, avatar, character fields")
@role_required(Role.OWNER, action="read the persona")
def persona_read(request: HttpRequest) -> Persona:
    return persona_get()


@router.put("", response=PersonaOut, summary="Change the persona's fields")
@role_required(Role.OWNER, action="change the persona")
def persona_change(request: HttpRequest, payload: PersonaIn) -> Persona:
    return persona_update(**payload.dict(exclude_unset=True))


@router.post(
    "/avatar",
    response=PersonaOut,
    summary="Upload the avatar (multipart `file`: PNG, JPEG, WebP or GIF, up to 10 MB)",
    description="The image is stored as a PNG of at most 1024 pixels a side.",
)
@role_required(Role.OWNER, action="change the persona")
def persona_avatar_upload(request: HttpRequest, file: File[UploadedFile]) -> Persona:
    return persona_avatar_set(data=_read_bounded(file, AVATAR_MAX_BYTES, AvatarTooLarge))


@router.delete("/avatar", response=PersonaOut, summary="Go back to the default avatar")
@role_required(Role.OWNER, action="change the persona")
def persona_avatar_remove(request: HttpRequest) -> Persona:
    return persona_avatar_clear()


@router.post(
    "/card",
    response=CardImportOut,
    summary="Import a character card (multipart `file`: a PNG or JSON card, V1, V2 or V3)",
    description="The card's fields replace the persona's; a PNG card's picture becomes the "
    "avatar; the lorebook's enabled entries become global memories, replacing the previous "
    "card's. A file that is no readable card changes nothing: 400 (damaged, no card chunk, "
    "bad base64 or JSON, unknown spec), 413 (over 10 MB) or 415 (neither PNG nor JSON).",
)
@role_required(Role.OWNER, action="import a character card")
def persona_card_upload(request: HttpRequest, file: File[UploadedFile]) -> CardImported:
    data = _read_bounded(file, CARD_MAX_BYTES, CardTooLarge)
    return persona_card_import(data=data, actor=request.user)


class CardFormat(Schema):
    format: Literal["png", "v2", "v3"] = "png"


@router.get(
    "/card",
    response={200: None},
    summary="Export the persona as a character card (`format`: png, v2 or v3)",
    description="png: the avatar with the card in `chara` (V2) and `ccv3` (V3) chunks. Every "
    "field of the imported card that Luma does not use comes back as it was.",
)
@role_required(Role.OWNER, action="export the character card")
def persona_card_download(request: HttpRequest, query: Query[CardFormat]) -> HttpResponse:
    card = persona_card_export(format=query.format)
    response = HttpResponse(card.content, content_type=card.content_type)
    response["Content-Disposition"] = content_disposition_header(True, card.filename)
    return response
