"""One conversation as a file a person keeps: Markdown to read, JSON to process.

Both hold the conversation as it reads (each reply's chosen version); the JSON also
carries every other version of a reply, its model, status and token counts.
"""

import json
import re
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from chat.models import Conversation, Message, Role
from chat.selectors import conversation_messages, conversation_owned
from persona.selectors import persona_get

EXPORT_FORMATS = ("markdown", "json")


def _speaker(message: Message, persona_name: str) -> str:
    if message.role == Role.ASSISTANT:
        return persona_name
    return message.author_name or "You"


def _when(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def export_filename(conversation: Conversation, extension: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", (conversation.title or "chat").lower()).strip("-")
    return f"luma-chat-{conversation.pk}-{slug[:50] or 'chat'}.{extension}"


def conversation_markdown(*, owner: AbstractBaseUser, conversation_id: int) -> tuple[str, str]:
    """(file name, Markdown text) of one of `owner`'s conversations."""
    conversation = conversation_owned(owner=owner, conversation_id=conversation_id)
    persona_name = persona_get().name
    lines = [
        f"# {conversation.title or 'Chat'}",
        "",
        f"*A conversation with {persona_name}, exported {_when(timezone.now())}.*",
    ]
    for message in conversation_messages(owner=owner, conversation_id=conversation_id):
        lines += ["", f"### {_speaker(message, persona_name)} · {_when(message.created_at)}", ""]
        lines.append(message.content)
    return export_filename(conversation, "md"), "\n".join(lines) + "\n"


def conversation_json(*, owner: AbstractBaseUser, conversation_id: int) -> tuple[str, str]:
    """(file name, JSON text) of one of `owner`'s conversations."""
    conversation = conversation_owned(owner=owner, conversation_id=conversation_id)
    persona_name = persona_get().name
    messages = conversation_messages(owner=owner, conversation_id=conversation_id)
    others = {
        m.pk: m for m in conversation.messages.filter(selected=False).order_by("pk")
    }  # versions not chosen
    data = {
        "id": conversation.pk,
        "title": conversation.title,
        "persona": persona_name,
        "created_at": conversation.created_at.isoformat(),
        "updated_at": conversation.updated_at.isoformat(),
        "messages": [_message_json(m, persona_name, others) for m in messages],
    }
    return export_filename(conversation, "json"), json.dumps(data, ensure_ascii=False, indent=2)


def _message_json(message: Message, persona_name: str, others: dict[int, Message]) -> dict:
    data = {
        "id": message.pk,
        "role": message.role,
        "name": _speaker(message, persona_name),
        "content": message.content,
        "created_at": message.created_at.isoformat(),
    }
    if message.role == Role.ASSISTANT:
        data |= {
            "model": message.model,
            "status": message.status,
            "prompt_tokens": message.prompt_tokens,
            "completion_tokens": message.completion_tokens,
            "reasoning": message.reasoning,
            "other_versions": [
                {"id": pk, "content": others[pk].content}
                for pk in getattr(message, "versions", [])
                if pk in others
            ],
        }
    return data
