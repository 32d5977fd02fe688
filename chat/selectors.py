from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from chat.models import Conversation, Message
from luma.errors import NotFound


def conversations_of(*, owner: AbstractBaseUser) -> QuerySet[Conversation]:
    return Conversation.objects.filter(owner=owner).order_by("-updated_at")


def conversation_messages(*, owner: AbstractBaseUser, conversation_id: int) -> list[Message]:
    conversation = Conversation.objects.filter(pk=conversation_id, owner=owner).first()
    if conversation is None:
        raise NotFound(f"Conversation {conversation_id} does not exist.")
    return list(conversation.messages.prefetch_related("memories_used"))
