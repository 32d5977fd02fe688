import base64
import io
import json

import pytest
from PIL import Image

from memories.models import Memory, MemorySource
from memories.services import memory_update
from persona.cards import CARD_MAX_BYTES, CardNotACard, CardRejected, CardTooLarge
from persona.models import Persona
from persona.selectors import persona_avatar_png, persona_get
from persona.services import persona_card_export, persona_card_import, persona_update
from persona.tests.cards import (
    b64,
    bomb_png,
    itxt_png,
    lorebook,
    png,
    png_chunks,
    v2_card,
    v3_card,
)

pytestmark = pytest.mark.django_db


def imported(document, *, actor=None):
    data = document if isinstance(document, bytes) else json.dumps(document).encode()
    return persona_card_import(data=data, actor=actor)


def exported(format: str) -> dict:
    content = persona_card_export(format=format).content
    if format == "png":
        chunks = png_chunks(content)
        return {key: json.loads(base64.b64decode(value)) for key, value in chunks.items()}
    return json.loads(content)


# ---- reading each kind of card -------------------------------------------------


def test_a_v2_json_card_becomes_the_persona():
    result = imported(
        v2_card(system_prompt="Be {{char}}.", post_history_instructions="Stay brief.")
    )

    persona = persona_get()
    assert result.spec == "chara_card_v2"
    assert persona.name == "Aria"
    assert persona.description == "{{char}} is a starship pilot who teases <USER>."
    assert persona.personality == "brave, sarcastic"
    assert persona.scenario == "On the bridge of the Wanderer."
    assert persona.greeting == "Welcome aboard, {{user}}! I'm {{char}}."
    assert persona.example_dialogue.startswith("<START>")
    assert persona.system_prompt == "Be {{char}}."
    assert persona.post_history_instructions == "Stay brief."


def test_a_v1_json_card_is_read_from_its_top_level():
    imported({"name": "Old Timer", "description": "From 2023.", "first_mes": "Howdy.",
              "personality": "gruff", "scenario": "A saloon", "mes_example": "",
              "creatorcomment": "classic", "talkativeness": "0.4"})  # fmt: skip
    persona = persona_get()
    assert (persona.name, persona.description, persona.greeting) == (
        "Old Timer",
        "From 2023.",
        "Howdy.",
    )
    v2 = exported("v2")
    assert v2["data"]["creator_notes"] == "classic"
    assert v2["talkativeness"] == "0.4"  # an unknown top-level field comes back


def test_a_v3_json_card_is_read_and_its_own_fields_come_back():
    imported(v3_card(name="Nova"))
    assert persona_get().name == "Nova"
    v3 = exported("v3")
    assert v3["spec"] == "chara_card_v3" and v3["spec_version"] == "3.0"
    assert v3["data"]["nickname"] == "Ari"
    assert v3["data"]["assets"][0]["uri"] == "ccdefault:"


def test_a_png_card_with_a_chara_chunk_brings_its_picture_as_the_avatar():
    result = imported(png({"chara": b64(v2_card(name="Pixel"))}, colour=(1, 2, 3)))
    assert result.spec == "chara_card_v2"
    assert persona_get().name == "Pixel"
    with Image.open(io.BytesIO(persona_avatar_png())) as avatar:
        assert avatar.format == "PNG" and avatar.getpixel((5, 5))[:3] == (1, 2, 3)
        assert "chara" not in avatar.info  # the stored avatar carries no card
    assert persona_get().avatar_url.startswith("/persona/avatar/")


def test_v3_wins_when_a_png_has_both_chunks():
    card = png({"chara": b64(v2_card(name="Old Name")), "ccv3": b64(v3_card(name="New Name"))})
    assert imported(card).spec == "chara_card_v3"
    assert persona_get().name == "New Name"


def test_chunk_keywords_match_in_any_case_and_compressed_chunks_count():
    imported(png({"Chara": b64(v2_card(name="Shouty"))}, compressed=True))
    assert persona_get().name == "Shouty"
    imported(itxt_png("ccv3", b64(v3_card(name="Itxt"))))
    assert persona_get().name == "Itxt"


def test_base64_without_padding_or_with_line_breaks_is_read():
    encoded = b64(v2_card(name="Wrapped")).rstrip("=")
    wrapped = "\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76))
    imported(png({"chara": wrapped}))
    assert persona_get().name == "Wrapped"


# ---- the lorebook -------------------------------------------------------------


def test_the_lorebook_becomes_global_memories_tagged_with_their_keys(admin_user):
    book = lorebook(
        {"keys": ["Wanderer", "ship"], "content": "The Wanderer is a retired cargo hauler."},
        {"keys": ["Zed"], "content": "Zed is the ship's cat.", "constant": True},
        {"keys": ["secret"], "content": "Not active.", "enabled": False},
        {"keys": ["blank"], "content": "   "},
    )
    result = imported(v2_card(character_book=book), actor=admin_user)

    assert (result.memories_created, result.entries_skipped) == (2, 2)
    memories = Memory.objects.filter(source=MemorySource.CARD).order_by("content")
    assert [(m.content, m.tags, m.is_global, m.approved) for m in memories] == [
        ("The Wanderer is a retired cargo hauler.", ["wanderer", "ship"], True, True),
        ("Zed is the ship's cat.", ["zed"], True, True),
    ]
    assert memories[1].importance > memories[0].importance  # constant entries matter more
    assert memories[0].created_by == admin_user


def test_importing_another_card_replaces_the_lorebook_and_history_records_it():
    imported(v2_card(character_book=lorebook({"keys": ["a"], "content": "Old lore."})))
    old = Memory.objects.get(source=MemorySource.CARD)
    other = Memory.objects.create(content="A fact someone added.")

    result = imported(v3_card(character_book=lorebook({"keys": ["b"], "content": "New lore."})))

    assert (result.memories_created, result.memories_removed) == (1, 1)
    assert list(
        Memory.objects.filter(source=MemorySource.CARD).values_list("content", flat=True)
    ) == ["New lore."]
    assert Memory.objects.filter(pk=other.pk).exists()
    assert Memory.history.filter(id=old.pk, history_type="-").exists()


# ---- export round-trips --------------------------------------------------------


def test_every_field_luma_does_not_use_survives_v2_v3_and_png_export():
    card = v2_card(
        character_book=lorebook({"keys": ["k"], "content": "Lore.", "enabled": False}),
        extensions={"chub": {"id": 123}, "regex_scripts": [{"find": "x"}], "fav": True},
        some_future_field={"nested": [1, 2]},
    )
    card["create_date"] = "2024-1-1"
    imported(card)
    persona_update(name="Aria Prime", greeting="Hello, {{user}}.")

    for document in (exported("v2"), exported("v3"), *exported("png").values()):
        data = document["data"]
        assert data["name"] == document["name"] == "Aria Prime"
        assert data["first_mes"] == "Hello, {{user}}."
        assert data["extensions"] == card["data"]["extensions"]
        assert data["character_book"] == card["data"]["character_book"]
        assert data["some_future_field"] == {"nested": [1, 2]}
        assert data["alternate_greetings"] == ["Oh, it's you, {{user}}."]
        assert data["creator_notes"] == "Made for testing."
        assert document["create_date"] == "2024-1-1"
    chunks = exported("png")
    assert chunks["chara"]["spec"] == "chara_card_v2" and chunks["ccv3"]["spec"] == "chara_card_v3"


def test_an_exported_png_card_imports_back_to_the_same_persona():
    imported(png({"ccv3": b64(v3_card(name="Loop"))}, colour=(9, 99, 199)))
    card = persona_card_export(format="png").content
    before = {f: getattr(persona_get(), f) for f in ("name", "description", "greeting")}
    Persona.objects.all().delete()

    imported(card)

    assert {f: getattr(persona_get(), f) for f in before} == before
    with Image.open(io.BytesIO(persona_avatar_png())) as avatar:
        assert avatar.getpixel((1, 1))[:3] == (9, 99, 199)


def test_a_persona_never_imported_exports_a_complete_v2_card():
    document = exported("v2")
    assert document["spec"] == "chara_card_v2"
    assert document["data"]["name"] == "Luma"
    for key in ("creator_notes", "alternate_greetings", "tags", "extensions", "character_version"):
        assert key in document["data"]
    assert exported("v3")["data"]["group_only_greetings"] == []


def test_edits_to_lorebook_memories_stay_in_luma():
    imported(v2_card(character_book=lorebook({"keys": ["k"], "content": "Lore."})))
    memory_update(memory=Memory.objects.get(source=MemorySource.CARD), content="Edited lore.")
    assert exported("v2")["data"]["character_book"]["entries"][0]["content"] == "Lore."


# ---- public reports about other card readers, reduced ------------------------------


def test_a_null_character_book_is_no_lorebook():
    """SrJuggernaut/character-tools#36 (and #25): Chub writes `"character_book": null`."""
    result = imported(v2_card(name="Yukari", character_book=None))
    assert (persona_get().name, result.memories_created) == ("Yukari", 0)
    assert exported("v2")["data"]["character_book"] is None


def test_a_malformed_field_luma_does_not_use_is_kept_as_it_came():
    """SrJuggernaut/character-tools#17: `alternate_greetings` a string, not a list."""
    imported(v2_card(name="Lola", alternate_greetings="1687194031049"))
    assert persona_get().name == "Lola"
    assert exported("v3")["data"]["alternate_greetings"] == "1687194031049"


def test_an_empty_data_name_falls_back_to_the_top_level_name():
    """SillyTavern/SillyTavern#3905: cards from Chub with `"name": ""` in `data` failed."""
    card = v2_card(name="")
    card["name"] = "Topsy"
    imported(card)
    assert persona_get().name == "Topsy"


# ---- hostile and broken files ------------------------------------------------------


HOSTILE = {
    "not a card at all": (b"GIF89a\x01\x00\x01\x00", CardNotACard, "not a character card"),
    "a PNG without a card": (png({"Software": "paint"}), CardRejected, "no `chara` or `ccv3`"),
    "a chunk that is not base64": (png({"chara": "%%%not base64%%%"}), CardRejected, "base64"),
    "a chunk that is not JSON": (png({"chara": b64("{name: oops")}), CardRejected, "not valid JSON"),
    "a JSON file that is broken": (b'{"spec": "chara_card_v2", "data": {', CardRejected, "valid JSON"),
    "a JSON list": (b"[1, 2]", CardNotACard, "not a character card"),
    "an unknown spec": (json.dumps({"spec": "risu_v9", "data": {}}).encode(), CardRejected,
                        "Unknown card format"),
    "a v2 card without data": (json.dumps({"spec": "chara_card_v2"}).encode(), CardRejected,
                               "no `data`"),
    "a card without a name": (json.dumps(v2_card(name="")).encode(), CardRejected, "no name"),
    "a field that is not text": (json.dumps(v2_card(description=["x"])).encode(), CardRejected,
                                 "`description` is not text"),
    "lorebook entries that are not a list": (
        json.dumps(v2_card(character_book={"entries": "x"})).encode(), CardRejected, "not a list"),
    "a truncated PNG": (png({"chara": b64(v2_card())})[:60], CardRejected, "damaged"),
    "a decompression bomb": (bomb_png(), CardRejected, "decompression bomb"),
    "a picture over Luma's bound": (bomb_png(6000, 6000), CardRejected, "million pixels"),
    "a zTXt chunk inflating past Pillow's limit": (
        png({"chara": "A" * (3 * 1024 * 1024)}, compressed=True), CardRejected, "inflates"),
    "an oversized file": (b"{" + b" " * CARD_MAX_BYTES + b"}", CardTooLarge, "MB"),
}  # fmt: skip


@pytest.mark.parametrize("name", HOSTILE)
def test_a_bad_card_is_refused_with_a_clear_message_and_changes_nothing(name):
    imported(v2_card(name="Keeper", character_book=lorebook({"content": "Kept lore."})))
    before = Persona.objects.values().get()
    data, error, words = HOSTILE[name]

    with pytest.raises(error) as raised:
        imported(data)

    assert words in raised.value.message
    assert Persona.objects.values().get() == before
    assert list(Memory.objects.values_list("content", flat=True)) == ["Kept lore."]
