"""What a person does to their own chat besides talking: rename a conversation, choose
one version of a regenerated reply, delete a message.

Regenerating a reply and editing a message are replies themselves (they stream), so
they live in `chat.services.conversation_reply_stream`. Every surface (the API, the
chat page) calls these; each looks the conversation up by its owner, so anyone
else's is a 404, whatever their role.
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from chat.models import Conversation, Message, Role
from chat.services import InvalidMessage
from chat.turns import TurnAbandoned, conversation_turn
from luma.errors import LumaError, NotFound

# How long an action waits for a reply being written in the same conversation.
BUSY_WAIT_SECONDS = 5.0
TITLE_MAX_CHARS = 200


class ConversationBusy(LumaError):
    status_code = 409


def _owned(owner: AbstractBaseUser, conversation_id: int) -> Conversation:
    found = Conversation.objects.filter(pk=conversation_id, owner=owner).first()
    if found is None:
        raise NotFound(f"Conversation {conversation_id} does not exist.")
    return found


def _message_in(conversation: Conversation, message_id: int) -> Message:
    found = conversation.messages.filter(pk=message_id).first()
    if found is None:
        raise NotFound(f"Message {message_id} does not exist in this conversation.")
    return found


@contextmanager
def _between_replies(conversation: Conversation) -> Iterator[None]:
    """Hold the conversation's turn, so no reply is stored beside a message that goes."""
    deadline = time.monotonic() + BUSY_WAIT_SECONDS
    try:
        with conversation_turn(conversation.pk, should_stop=lambda: time.monotonic() > deadline):
            yield
    except TurnAbandoned:
        raise ConversationBusy(
            "A reply is being written in this conversation. Try again when it is finished."
        ) from None


def conversation_rename(
    *, owner: AbstractBaseUser, conversation_id: int, title: str
) -> Conversation:
    """A new title; the conversation keeps its place in the list (`updated_at` stays)."""
    conversation = _owned(owner, conversation_id)
    title = " ".join(title.split())
    if not title:
        raise InvalidMessage("A conversation's title cannot be empty.")
    if len(title) > TITLE_MAX_CHARS:
        raise InvalidMessage(
            f"The title is too long ({len(title)} characters; the limit is {TITLE_MAX_CHARS})."
        )
    conversation.title = title
    conversation.save(update_fields=["title"])
    return conversation


def message_version_select(
    *, owner: AbstractBaseUser, conversation_id: int, message_id: int
) -> Message:
    """Make `message_id` the chosen version of its reply: the one shown, and the one
    the model reads back in the history from now on."""
    conversation = _owned(owner, conversation_id)
    with _between_replies(conversation), transaction.atomic():
        message = _message_in(conversation, message_id)
        if message.role != Role.ASSISTANT or message.reply_to_id is None:
            raise InvalidMessage("Only a reply has versions to choose from.")
        versions = conversation.messages.filter(role=Role.ASSISTANT, reply_to=message.reply_to_id)
        versions.exclude(pk=message.pk).update(selected=False)
        versions.filter(pk=message.pk).update(selected=True)
    message.selected = True
    return message


def message_delete(*, owner: AbstractBaseUser, conversation_id: int, message_id: int) -> None:
    """Delete a message. A person's message goes with the replies to it (every version);
    a reply goes alone, and its next newest version, if any, is shown instead."""
    conversation = _owned(owner, conversation_id)
    with _between_replies(conversation), transaction.atomic():
        message = _message_in(conversation, message_id)
        if message.role == Role.USER:
            conversation.messages.filter(reply_to=message).delete()
        elif message.selected and message.reply_to_id is not None:
            versions = conversation.messages.filter(
                role=Role.ASSISTANT, reply_to=message.reply_to_id
            ).exclude(pk=message.pk)
            if (newest := versions.order_by("-pk").first()) is not None:
                versions.filter(pk=newest.pk).update(selected=True)
        message.delete()
