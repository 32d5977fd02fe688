from datetime import datetime

from ninja import Schema
from pydantic import ConfigDict, Field

from luma.schemas import InputSchema
from persona.cards import CARD_FIELD_MAX_CHARS
from persona.models import NAME_MAX_CHARS, Persona


class PersonaOut(Schema):
    name: str
    avatar_url: str = Field(description="The avatar's URL: the uploaded one, or the default.")
    avatar_uploaded: bool
    description: str
    personality: str
    scenario: str
    greeting: str = Field(description="The first message of a new web conversation.")
    example_dialogue: str
    system_prompt: str
    post_history_instructions: str
    card_imported_at: datetime | None = Field(
        description="When a character card was last imported (None: never)."
    )
    card_spec: str = Field(description="The spec of the card kept for export ('' if none).")
    updated_at: datetime

    @staticmethod
    def resolve_avatar_uploaded(persona: Persona) -> bool:
        return bool(persona.avatar_version)

    @staticmethod
    def resolve_card_spec(persona: Persona) -> str:
        card = persona.card or {}
        return str(card.get("spec") or ("v1" if card else ""))


def _text(description: str) -> object:
    return Field(None, max_length=CARD_FIELD_MAX_CHARS, description=description)


class PersonaIn(InputSchema):
    """Every field is optional: only what is sent changes. `{{char}}` and `{{user}}` in
    any text stand for the persona's name and the person talking."""

    name: str | None = Field(None, min_length=1, max_length=NAME_MAX_CHARS)
    description: str | None = _text("Who the persona is.")
    personality: str | None = _text("A short summary of their personality.")
    scenario: str | None = _text("Where and how conversations take place.")
    greeting: str | None = _text("The first message of every new web conversation.")
    example_dialogue: str | None = _text("Example exchanges, each starting with <START>.")
    system_prompt: str | None = _text("Replaces Luma's main instruction ({{original}}: it).")
    post_history_instructions: str | None = _text("Sent after the history, before the reply.")

    model_config = ConfigDict(extra="forbid")


class CardImportOut(Schema):
    persona: PersonaOut
    spec: str = Field(description="chara_card_v3, chara_card_v2 or v1: what the file held.")
    memories_created: int = Field(description="Lorebook entries that became global memories.")
    memories_removed: int = Field(description="The previous card's lorebook memories removed.")
    entries_skipped: int = Field(description="Disabled or empty lorebook entries left out.")
