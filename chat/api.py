from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Router, Status
from ninja.pagination import paginate

from chat.models import Channel, Conversation
from chat.schemas import ChatIn, ChatOut, ConversationOut, MessageOut, message_out
from chat.selectors import conversation_messages, conversations_of
from chat.services import (
    ReplyStored,
    Speaker,
    conversation_delete,
    conversation_for_owner,
    conversation_reply,
)

router = Router()


@router.post(
    "",
    response=ChatOut,
    summary="Send a message and get the persona's reply",
    description="Without `conversation_id` a new conversation starts. If the provider fails, "
    "the message is kept and the error names the conversation so it can be resent.",
)
def chat_send(request: HttpRequest, payload: ChatIn) -> dict:
    conversation = conversation_for_owner(
        owner=request.user, conversation_id=payload.conversation_id
    )
    speaker = Speaker(user=request.user, channel=Channel.API)
    done = conversation_reply(conversation=conversation, speaker=speaker, text=payload.message)
    return _chat_out(done)


@router.post(
    "/conversations/{conversation_id}/messages/{message_id}/continue",
    response=ChatOut,
    summary="Continue a reply that did not end complete",
    description="The conversation's last reply, if its `status` is `stopped`, `length` or "
    "`interrupted`: the model goes on where it stopped and the same message grows. 400 for "
    "any other message.",
)
def chat_continue(request: HttpRequest, conversation_id: int, message_id: int) -> dict:
    conversation = conversation_for_owner(owner=request.user, conversation_id=conversation_id)
    speaker = Speaker(user=request.user, channel=Channel.API)
    done = conversation_reply(conversation=conversation, speaker=speaker, continue_of=message_id)
    return _chat_out(done)


def _chat_out(done: ReplyStored) -> dict:
    reply = message_out(done.message, memories=done.memories)
    return {
        **reply,
        "user_message_id": done.user_message.pk,
        "message_id": reply["id"],
        "reply": reply["content"],
        "memory_ids": [memory["id"] for memory in reply["memories"]],
    }


@router.get("/conversations", response=list[ConversationOut], summary="Your conversations")
@paginate
def conversation_list(request: HttpRequest) -> QuerySet[Conversation]:
    return conversations_of(owner=request.user)


@router.get(
    "/conversations/{conversation_id}/messages",
    response=list[MessageOut],
    summary="The messages of one of your conversations, oldest first",
)
def conversation_message_list(request: HttpRequest, conversation_id: int) -> list[dict]:
    messages = conversation_messages(owner=request.user, conversation_id=conversation_id)
    return [message_out(message) for message in messages]


@router.delete(
    "/conversations/{conversation_id}", response={204: None}, summary="Delete a conversation"
)
def conversation_remove(request: HttpRequest, conversation_id: int) -> Status:
    conversation_delete(owner=request.user, conversation_id=conversation_id)
    return Status(204, None)
