"""Every way a memory changes is recorded in its history with who and from where:
the web panel, the API with a token, the admin, Discord, imports (documents and
memory files) and the AI's suggestions. One test per surface, across the apps that
call the memory services (hence here, in the wiring's tests)."""

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from chat.services import Speaker, conversation_for_owner, conversation_reply
from discordbot.services import DiscordMember, discord_memory_forget, discord_memory_remember
from documents.services import document_create
from luma.services import api_token_create, runtime_settings_update
from memories.models import Memory, MemorySource
from memories.services import memory_create
from memories.transfer import memories_export, memories_import

pytestmark = pytest.mark.django_db


def newest(memory_id: int):
    return Memory.history.filter(id=memory_id).order_by("-history_id").first()


def test_an_edit_on_the_web_panel_is_recorded_as_the_web_by_the_user(user_client, user):
    memory = memory_create(content="I like tea.", subject_user=user)
    user_client.put(f"/api/memory/{memory.pk}", {"importance": 8}, content_type="application/json")
    version = newest(memory.pk)
    assert (version.surface, version.history_user, version.history_change_reason) == (
        "web",
        user,
        "edited",
    )
    assert (version.importance, version.history_type) == (8, "~")


def test_a_change_through_the_api_with_a_token_is_recorded_as_the_api(client, user):
    _, token = api_token_create(user=user, name="overlay")
    response = client.post(
        "/api/memory",
        {"content": "I play bass.", "subject": "me"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    version = newest(response.json()["id"])
    assert (version.surface, version.history_user, version.history_type) == ("api", user, "+")


def test_a_review_in_the_admin_is_recorded_as_the_admin(admin_client, admin_user):
    pending = memory_create(content="Kai streams on Fridays.", source=MemorySource.AI_SUGGESTED)
    url = reverse("admin:memories_memory_change", args=[pending.pk])
    form = {
        "content": pending.content,
        "source": pending.source,
        "status": "rejected",
        "importance": "5",
        "tags": "[]",
        "subject_discord_id": "",
        "subject_name": "",
    }
    admin_client.post(url, form)
    version = newest(pending.pk)
    assert (version.surface, version.history_user, version.status) == (
        "admin",
        admin_user,
        "rejected",
    )
    assert version.history_change_reason == "rejected"


def test_discord_commands_are_recorded_as_the_member_on_discord():
    member = DiscordMember(id=42, name="kai")
    memory = discord_memory_remember(member=member, content="I main Zelda.")
    discord_memory_forget(member=member, memory_id=memory.pk)
    created, deleted = Memory.history.filter(id=memory.pk).order_by("history_id")
    assert (created.surface, created.actor, created.history_type) == (
        "discord",
        "kai (Discord 42)",
        "+",
    )
    assert (deleted.surface, deleted.history_type, deleted.content) == (
        "discord",
        "-",
        "I main Zelda.",
    )


def test_a_documents_memories_are_recorded_as_an_import_by_its_uploader(
    moderator_user, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    document, _ = document_create(
        file=SimpleUploadedFile("lore.txt", b"The mascot is a fox."),
        name="lore.txt",
        uploaded_by=moderator_user,
    )
    memory = Memory.objects.get(source=MemorySource.DOCUMENT)
    version = newest(memory.pk)
    assert document.pk
    assert (version.surface, version.history_user, version.history_change_reason) == (
        "import",
        moderator_user,
        "imported",
    )


def test_a_memory_file_import_is_recorded_as_an_import():
    memory_create(content="Streams start at 8pm.")
    out = io.StringIO()
    memories_export(out=out)
    Memory.objects.all().delete()
    lines = [json.dumps({**json.loads(line), "id": None}) for line in out.getvalue().splitlines()]
    memories_import(lines=lines)
    imported = Memory.objects.get()
    assert (newest(imported.pk).surface, newest(imported.pk).history_type) == ("import", "+")


def test_the_ais_suggestions_are_recorded_as_the_ai(use_deepseek, openai_server, user):
    runtime_settings_update(memory_suggestions_enabled=True, memory_suggestion_threshold=5)
    openai_server.behaviour.reply = json.dumps(
        {"memories": [{"content": "Viewer has a cat named Tofu.", "importance": 7}]}
    )
    conversation = conversation_for_owner(owner=user, conversation_id=None)
    conversation_reply(conversation=conversation, speaker=Speaker(user=user), text="A cat!")
    suggestion = Memory.objects.get(source=MemorySource.AI_SUGGESTED)
    version = newest(suggestion.pk)
    assert (version.surface, version.history_change_reason, version.status) == (
        "ai",
        "suggested",
        "pending",
    )
