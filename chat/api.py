from typing import Literal

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from ninja import Router, Status
from ninja.pagination import paginate

from chat.actions import conversation_rename, message_delete, message_version_select
from chat.export import conversation_json, conversation_markdown
from chat.models import Channel, Conversation
from chat.schemas import (
    ChatIn,
    ChatOut,
    ConversationOut,
    ConversationRenameIn,
    MessageEditIn,
    MessageOut,
    message_out,
)
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


@router.post(
    "/conversations/{conversation_id}/messages/{message_id}/regenerate",
    response=ChatOut,
    summary="Write a new version of the last reply",
    description="The conversation's last reply is written again. The new version is the "
    "chosen one (shown, and sent back to the model from now on); the earlier versions are "
    "kept (`versions`) and can be chosen again with `.../select`. 400 for any other message.",
)
def chat_regenerate(request: HttpRequest, conversation_id: int, message_id: int) -> dict:
    conversation = conversation_for_owner(owner=request.user, conversation_id=conversation_id)
    speaker = Speaker(user=request.user, channel=Channel.API)
    done = conversation_reply(conversation=conversation, speaker=speaker, regenerate_of=message_id)
    return _chat_out(done)


@router.post(
    "/conversations/{conversation_id}/messages/{message_id}/edit",
    response=ChatOut,
    summary="Edit one of your messages and send it again",
    description="The message gets the new text; every turn after it (the replies to it, "
    "all their versions, and everything later) is deleted, and the message is answered anew.",
)
def chat_edit(
    request: HttpRequest, conversation_id: int, message_id: int, payload: MessageEditIn
) -> dict:
    conversation = conversation_for_owner(owner=request.user, conversation_id=conversation_id)
    speaker = Speaker(user=request.user, channel=Channel.API)
    done = conversation_reply(
        conversation=conversation, speaker=speaker, text=payload.message, edit_of=message_id
    )
    return _chat_out(done)


@router.post(
    "/conversations/{conversation_id}/messages/{message_id}/select",
    response=MessageOut,
    summary="Choose a version of a reply",
    description="The reply version `message_id` is shown and sent back to the model from "
    "now on instead of its other versions.",
)
def message_select(request: HttpRequest, conversation_id: int, message_id: int) -> dict:
    message = message_version_select(
        owner=request.user, conversation_id=conversation_id, message_id=message_id
    )
    return message_out(message)


@router.delete(
    "/conversations/{conversation_id}/messages/{message_id}",
    response={204: None},
    summary="Delete a message",
    description="Your message goes with the replies to it (every version); a reply goes "
    "alone, and its next newest version, if any, is shown instead.",
)
def message_remove(request: HttpRequest, conversation_id: int, message_id: int) -> Status:
    message_delete(owner=request.user, conversation_id=conversation_id, message_id=message_id)
    return Status(204, None)


def _chat_out(done: ReplyStored) -> dict:
    reply = message_out(done.message, memories=done.memories)
    return {
        **reply,
        "user_message_id": done.user_message.pk,
        "message_id": reply["id"],
        "reply": reply["content"],
        "memory_ids": [memory["id"] for memory in reply["memories"]],
    }


@router.get(
    "/conversations",
    response=list[ConversationOut],
    summary="Your conversations, most recently updated first",
    description="With `q`, those whose title or messages hold it (case-insensitive); "
    "`snippet` then shows the words around the first match in the messages.",
)
@paginate
def conversation_list(request: HttpRequest, q: str = "") -> QuerySet[Conversation]:
    return conversations_of(owner=request.user, query=q)


@router.patch(
    "/conversations/{conversation_id}", response=ConversationOut, summary="Rename a conversation"
)
def conversation_update(
    request: HttpRequest, conversation_id: int, payload: ConversationRenameIn
) -> Conversation:
    return conversation_rename(
        owner=request.user, conversation_id=conversation_id, title=payload.title
    )


@router.get(
    "/conversations/{conversation_id}/export",
    response={200: None},
    summary="Download a conversation as Markdown or JSON",
    description="`format=markdown` (the default) or `json`; the JSON also holds every "
    "version of each reply, its model, status and token counts.",
)
def conversation_export(
    request: HttpRequest, conversation_id: int, format: Literal["markdown", "json"] = "markdown"
) -> HttpResponse:
    write = conversation_json if format == "json" else conversation_markdown
    name, text = write(owner=request.user, conversation_id=conversation_id)
    kind = "application/json" if format == "json" else "text/markdown"
    response = HttpResponse(text, content_type=f"{kind}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


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
