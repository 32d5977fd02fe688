"""Message actions and conversation actions, through the services and the API, by role."""

import json

import pytest

from chat.actions import conversation_rename, message_delete, message_version_select
from chat.models import Conversation, Message, ReplyStatus, Role
from chat.selectors import conversation_messages
from chat.services import (
    InvalidMessage,
    ReplyRegenerates,
    Speaker,
    conversation_reply,
    conversation_reply_stream,
    conversation_start,
)
from luma.errors import NotFound


@pytest.fixture
def conversation(user) -> Conversation:
    return conversation_start(owner=user)


def say(conversation: Conversation, user, text: str, openai_server, reply: str):
    openai_server.behaviour.reply = reply
    return conversation_reply(conversation=conversation, speaker=Speaker(user=user), text=text)


def regenerate(conversation, user, reply_id, openai_server, reply: str):
    openai_server.behaviour.reply = reply
    return conversation_reply(
        conversation=conversation, speaker=Speaker(user=user), regenerate_of=reply_id
    )


def shown(conversation, user) -> list[str]:
    messages = conversation_messages(owner=user, conversation_id=conversation.pk)
    return [message.content for message in messages]


def sent_history(openai_server) -> list[str]:
    return [m["content"] for m in openai_server.requests[-1]["json"]["messages"][1:]]


# ---- regenerate and versions ---------------------------------------------------------


def test_regenerating_keeps_every_version_and_the_new_one_is_shown(
    use_deepseek, openai_server, conversation, user
):
    first = say(conversation, user, "pick a game", openai_server, "Celeste.")
    second = regenerate(conversation, user, first.message.pk, openai_server, "Hades.")
    third = regenerate(conversation, user, second.message.pk, openai_server, "Outer Wilds.")

    assert third.user_message == first.user_message
    assert shown(conversation, user) == ["pick a game", "Outer Wilds."]
    messages = conversation_messages(owner=user, conversation_id=conversation.pk)
    assert messages[1].versions == [first.message.pk, second.message.pk, third.message.pk]
    # The prompt of a regeneration holds the question, never the version it replaces.
    assert sent_history(openai_server) == ["pick a game"]


def test_the_chosen_version_is_what_the_model_reads_back(
    use_deepseek, openai_server, conversation, user
):
    first = say(conversation, user, "pick a game", openai_server, "Celeste.")
    regenerate(conversation, user, first.message.pk, openai_server, "Hades.")
    message_version_select(owner=user, conversation_id=conversation.pk, message_id=first.message.pk)

    say(conversation, user, "why?", openai_server, "Because it is hard.")

    assert sent_history(openai_server) == ["pick a game", "Celeste.", "why?"]
    assert shown(conversation, user) == ["pick a game", "Celeste.", "why?", "Because it is hard."]


def test_each_version_keeps_its_own_usage_and_memories(
    use_deepseek, openai_server, conversation, user
):
    first = say(conversation, user, "hi", openai_server, "Hello.")
    second = regenerate(conversation, user, first.message.pk, openai_server, "Hey there, friend.")
    first.message.refresh_from_db()
    assert first.message.completion_tokens and second.message.completion_tokens
    assert first.message.completion_tokens != second.message.completion_tokens
    assert Message.objects.filter(role=Role.ASSISTANT, conversation=conversation).count() == 2
    assert not first.message.selected


def test_only_the_last_reply_can_be_regenerated(use_deepseek, openai_server, conversation, user):
    first = say(conversation, user, "one", openai_server, "Uno.")
    say(conversation, user, "two", openai_server, "Dos.")
    with pytest.raises(InvalidMessage, match="Only the last reply"):
        regenerate(conversation, user, first.message.pk, openai_server, "Eins.")
    with pytest.raises(InvalidMessage, match="Only the last reply"):
        regenerate(conversation, user, first.user_message.pk, openai_server, "Eins.")


def test_a_regeneration_stopped_before_any_text_keeps_the_old_reply_shown(
    use_deepseek, openai_server, conversation, user
):
    first = say(conversation, user, "hi", openai_server, "Hello.")
    openai_server.behaviour.reply = "never seen"
    events = conversation_reply_stream(
        conversation=conversation,
        speaker=Speaker(user=user),
        regenerate_of=first.message.pk,
        should_stop=lambda: True,
    )
    assert [type(event) for event in events] == [ReplyRegenerates]
    assert shown(conversation, user) == ["hi", "Hello."]


def test_a_stopped_regeneration_is_a_version_that_can_be_continued(
    use_deepseek, openai_server, conversation, user
):
    first = say(conversation, user, "count", openai_server, "one two")
    openai_server.behaviour.reply = "three four five six"
    openai_server.behaviour.finish_reason = "length"
    cut = regenerate(conversation, user, first.message.pk, openai_server, "three four")
    assert cut.message.status == ReplyStatus.LENGTH
    openai_server.behaviour.finish_reason = "stop"
    openai_server.behaviour.reply = " five."
    done = conversation_reply(
        conversation=conversation, speaker=Speaker(user=user), continue_of=cut.message.pk
    )
    assert done.message.pk == cut.message.pk
    assert shown(conversation, user) == ["count", "three four five."]


def test_choosing_a_version_of_a_message_that_is_not_a_reply_is_refused(
    use_deepseek, openai_server, conversation, user
):
    first = say(conversation, user, "hi", openai_server, "Hello.")
    with pytest.raises(InvalidMessage):
        message_version_select(
            owner=user, conversation_id=conversation.pk, message_id=first.user_message.pk
        )


# ---- edit and resend ------------------------------------------------------------------


def test_editing_a_message_replaces_every_later_turn_and_answers_it_anew(
    use_deepseek, openai_server, conversation, user
):
    say(conversation, user, "my cat is Mochi", openai_server, "Cute!")
    second = say(conversation, user, "what games?", openai_server, "Celeste.")
    regenerate(conversation, user, second.message.pk, openai_server, "Hades.")
    say(conversation, user, "why?", openai_server, "It is hard.")

    openai_server.behaviour.reply = "Dogs are great."
    done = conversation_reply(
        conversation=conversation,
        speaker=Speaker(user=user),
        text="  what about dogs?  ",
        edit_of=second.user_message.pk,
    )

    assert done.user_message.pk == second.user_message.pk
    assert shown(conversation, user) == [
        "my cat is Mochi",
        "Cute!",
        "what about dogs?",
        "Dogs are great.",
    ]
    assert sent_history(openai_server) == ["my cat is Mochi", "Cute!", "what about dogs?"]
    assert not Message.objects.filter(content__in=["Celeste.", "Hades.", "why?", "It is hard."])


def test_editing_the_first_message_renames_a_chat_named_after_it_and_never_a_renamed_one(
    use_deepseek, openai_server, conversation, user
):
    first = say(conversation, user, "my cat is Mochi", openai_server, "Cute!")
    second = say(conversation, user, "what games?", openai_server, "Celeste.")

    def edit(message_id: int, text: str) -> str:
        conversation_reply(
            conversation=conversation, speaker=Speaker(user=user), text=text, edit_of=message_id
        )
        conversation.refresh_from_db()
        return conversation.title

    assert edit(second.user_message.pk, "what films?") == "my cat is Mochi"
    assert edit(first.user_message.pk, "my dog is Rex") == "my dog is Rex"
    conversation_rename(owner=user, conversation_id=conversation.pk, title="Pets")
    assert edit(first.user_message.pk, "my dog is Max") == "Pets"


@pytest.mark.parametrize(
    ("first", "title"),
    [
        (
            "Which cosy games should we play on the Friday night stream with everyone?",
            "Which cosy games should we play on the Friday night stream…",
        ),
        ("two\nlines  here", "two lines here"),
        ("猫" * 70, "猫" * 59 + "…"),
    ],
)
def test_a_chat_is_named_after_its_first_message_cut_at_a_word(
    use_deepseek, openai_server, conversation, user, first, title
):
    say(conversation, user, first, openai_server, "Sure.")

    assert Conversation.objects.get(pk=conversation.pk).title == title


def test_a_chat_renamed_before_its_first_message_keeps_its_name(
    use_deepseek, openai_server, conversation, user
):
    """openkursar/hello-halo #307: the first message's auto-title overwrote a rename."""
    stale = Conversation.objects.get(pk=conversation.pk)
    conversation_rename(owner=user, conversation_id=conversation.pk, title="Stream plans")
    say(stale, user, "what do we play on Friday?", openai_server, "Celeste.")

    assert Conversation.objects.get(pk=conversation.pk).title == "Stream plans"
    fresh = conversation_start(owner=user)
    say(fresh, user, "hello there", openai_server, "Hi!")
    assert Conversation.objects.get(pk=fresh.pk).title == "hello there"


def test_an_edit_that_fails_at_the_provider_keeps_the_edited_message_to_resend(
    use_deepseek, openai_server, conversation, user
):
    first = say(conversation, user, "hi", openai_server, "Hello.")
    openai_server.behaviour.status = 503
    with pytest.raises(Exception):
        conversation_reply(
            conversation=conversation,
            speaker=Speaker(user=user),
            text="hey",
            edit_of=first.user_message.pk,
        )
    assert shown(conversation, user) == ["hey"]
    openai_server.behaviour.status = 200
    done = say_resend(conversation, user, first.user_message.pk, openai_server, "Hey you.")
    assert shown(conversation, user) == ["hey", "Hey you."]
    assert done.user_message.pk == first.user_message.pk


def say_resend(conversation, user, message_id, openai_server, reply):
    openai_server.behaviour.reply = reply
    return conversation_reply(
        conversation=conversation, speaker=Speaker(user=user), resend_of=message_id
    )


@pytest.mark.parametrize("text", ["", "   ", "a\x00b"])
def test_an_edit_to_bad_text_is_refused_and_changes_nothing(
    use_deepseek, openai_server, conversation, user, text
):
    first = say(conversation, user, "hi", openai_server, "Hello.")
    with pytest.raises(InvalidMessage):
        conversation_reply(
            conversation=conversation,
            speaker=Speaker(user=user),
            text=text,
            edit_of=first.user_message.pk,
        )
    assert shown(conversation, user) == ["hi", "Hello."]


def test_a_reply_cannot_be_edited(use_deepseek, openai_server, conversation, user):
    first = say(conversation, user, "hi", openai_server, "Hello.")
    with pytest.raises(NotFound):
        conversation_reply(
            conversation=conversation,
            speaker=Speaker(user=user),
            text="x",
            edit_of=first.message.pk,
        )
    assert shown(conversation, user) == ["hi", "Hello."]


# ---- delete -----------------------------------------------------------------------------


def test_deleting_a_message_deletes_its_replies_and_every_version(
    use_deepseek, openai_server, conversation, user
):
    first = say(conversation, user, "one", openai_server, "Uno.")
    second = say(conversation, user, "two", openai_server, "Dos.")
    regenerate(conversation, user, second.message.pk, openai_server, "Zwei.")
    message_delete(owner=user, conversation_id=conversation.pk, message_id=second.user_message.pk)
    assert shown(conversation, user) == ["one", "Uno."]
    assert conversation.messages.count() == 2
    assert first.message.pk in conversation.messages.values_list("pk", flat=True)


def test_deleting_the_shown_version_shows_the_newest_other_one(
    use_deepseek, openai_server, conversation, user
):
    first = say(conversation, user, "pick", openai_server, "A.")
    second = regenerate(conversation, user, first.message.pk, openai_server, "B.")
    third = regenerate(conversation, user, second.message.pk, openai_server, "C.")
    message_delete(owner=user, conversation_id=conversation.pk, message_id=third.message.pk)
    assert shown(conversation, user) == ["pick", "B."]
    message_delete(owner=user, conversation_id=conversation.pk, message_id=second.message.pk)
    message_delete(owner=user, conversation_id=conversation.pk, message_id=first.message.pk)
    assert shown(conversation, user) == ["pick"]
    # The message is then unanswered: the next one answers both.
    say(conversation, user, "well?", openai_server, "D.")
    assert sent_history(openai_server) == ["pick\n\nwell?"]


def test_an_action_waits_for_a_reply_being_written_then_says_busy(
    use_deepseek, openai_server, conversation, user, monkeypatch
):
    from chat import actions
    from chat.turns import conversation_turn

    first = say(conversation, user, "hi", openai_server, "Hello.")
    monkeypatch.setattr(actions, "BUSY_WAIT_SECONDS", 0.1)
    with conversation_turn(conversation.pk, should_stop=lambda: False):
        with pytest.raises(actions.ConversationBusy):
            message_delete(owner=user, conversation_id=conversation.pk, message_id=first.message.pk)
    assert shown(conversation, user) == ["hi", "Hello."]


# ---- rename, search -------------------------------------------------------------------------


def test_renaming_keeps_the_conversations_place_in_the_list(conversation, user):
    older = conversation_start(owner=user)
    Conversation.objects.filter(pk=older.pk).update(
        updated_at=conversation.updated_at.replace(year=2020)
    )
    before = Conversation.objects.get(pk=older.pk).updated_at
    conversation_rename(owner=user, conversation_id=older.pk, title="  Games   night ")
    older.refresh_from_db()
    assert older.title == "Games night"
    assert older.updated_at == before


@pytest.mark.parametrize("title", ["", "   ", "x" * 201])
def test_a_bad_title_is_refused(conversation, user, title):
    with pytest.raises(InvalidMessage):
        conversation_rename(owner=user, conversation_id=conversation.pk, title=title)


# ---- every action by role, through the API ---------------------------------------------


@pytest.fixture
def theirs(use_deepseek, openai_server, other_user):
    conversation = conversation_start(owner=other_user)
    done = say(conversation, other_user, "secret plans", openai_server, "Noted.")
    return conversation, done


def actions_on(conversation_id: int, user_message_id: int, reply_id: int):
    base = f"/api/chat/conversations/{conversation_id}"
    return [
        ("post", f"{base}/messages/{reply_id}/regenerate", None),
        ("post", f"{base}/messages/{user_message_id}/edit", {"message": "hijacked"}),
        ("post", f"{base}/messages/{reply_id}/select", None),
        ("post", f"{base}/messages/{reply_id}/continue", None),
        ("delete", f"{base}/messages/{user_message_id}", None),
        ("delete", f"{base}/messages/{reply_id}", None),
        ("patch", base, {"title": "mine now"}),
        ("get", f"{base}/export?format=markdown", None),
        ("get", f"{base}/export?format=json", None),
        ("get", f"{base}/messages", None),
        ("delete", base, None),
    ]


def call(client, method: str, url: str, body):
    if body is None:
        return getattr(client, method)(url)
    return getattr(client, method)(url, json.dumps(body), content_type="application/json")


@pytest.mark.parametrize("who", ["user_client", "moderator_client", "admin_client"])
def test_no_role_can_act_on_someone_elses_conversation(request, theirs, who):
    client = request.getfixturevalue(who)
    conversation, done = theirs
    for method, url, body in actions_on(conversation.pk, done.user_message.pk, done.message.pk):
        response = call(client, method, url, body)
        assert response.status_code == 404, (method, url, response.content)
    assert [m.content for m in conversation.messages.order_by("pk")] == ["secret plans", "Noted."]
    conversation.refresh_from_db()
    assert conversation.title == "secret plans"


def test_anonymous_is_asked_to_log_in_for_every_action(client, theirs):
    conversation, done = theirs
    for method, url, body in actions_on(conversation.pk, done.user_message.pk, done.message.pk):
        assert call(client, method, url, body).status_code == 401, (method, url)
    assert client.get("/api/chat/conversations?q=secret").status_code == 401


@pytest.mark.parametrize("who", ["user_client", "moderator_client", "admin_client"])
def test_search_finds_only_your_own_conversations(request, theirs, who, openai_server):
    client = request.getfixturevalue(who)
    me = client.get("/api/chat/conversations").wsgi_request.user
    mine = conversation_start(owner=me)
    say(mine, me, "my secret recipe for ramen", openai_server, "Tell me more!")
    found = client.get("/api/chat/conversations?q=SECRET").json()["items"]
    assert [c["id"] for c in found] == [mine.pk]
    assert "secret recipe" in found[0]["snippet"]


def test_search_matches_titles_and_text_and_nothing_else(
    use_deepseek, openai_server, user, user_client
):
    by_title = conversation_start(owner=user)
    say(by_title, user, "hello", openai_server, "Hi.")
    conversation_rename(owner=user, conversation_id=by_title.pk, title="Ramen night")
    by_reply = conversation_start(owner=user)
    say(by_reply, user, "dinner?", openai_server, "Maybe some ramen, 100% tasty_.")
    other = conversation_start(owner=user)
    say(other, user, "games", openai_server, "Celeste.")

    def ids(query: str) -> set[int]:
        page = user_client.get("/api/chat/conversations", {"q": query}).json()
        return {c["id"] for c in page["items"]}

    assert ids("ramen") == {by_title.pk, by_reply.pk}
    assert ids("100%") == {by_reply.pk}  # % and _ are letters here, not wildcards
    assert ids("_") == {by_reply.pk}
    assert ids("nothing like this") == set()
    assert ids("") == {by_title.pk, by_reply.pk, other.pk}


def test_search_ignores_versions_that_are_not_shown(use_deepseek, openai_server, user, user_client):
    conversation = conversation_start(owner=user)
    first = say(conversation, user, "pick", openai_server, "Zanzibar.")
    regenerate(conversation, user, first.message.pk, openai_server, "Paris.")
    page = user_client.get("/api/chat/conversations", {"q": "zanzibar"}).json()
    assert page["items"] == []


# ---- the API, for the owner of the conversation -----------------------------------------


def test_the_api_runs_every_message_action(use_deepseek, openai_server, user, user_client):
    conversation = conversation_start(owner=user)
    first = say(conversation, user, "pick a game", openai_server, "Celeste.")
    base = f"/api/chat/conversations/{conversation.pk}"

    openai_server.behaviour.reply = "Hades."
    again = user_client.post(f"{base}/messages/{first.message.pk}/regenerate").json()
    assert again["reply"] == "Hades."
    assert again["versions"] == [first.message.pk, again["id"]]

    chosen = user_client.post(f"{base}/messages/{first.message.pk}/select").json()
    assert (chosen["content"], chosen["versions"]) == ("Celeste.", again["versions"])
    listed = user_client.get(f"{base}/messages").json()
    assert [m["content"] for m in listed] == ["pick a game", "Celeste."]

    openai_server.behaviour.reply = "Dogs!"
    edited = call(
        user_client,
        "post",
        f"{base}/messages/{first.user_message.pk}/edit",
        {"message": "pick a pet"},
    )
    assert edited.status_code == 200, edited.content
    assert edited.json()["reply"] == "Dogs!"
    listed = user_client.get(f"{base}/messages").json()
    assert [m["content"] for m in listed] == ["pick a pet", "Dogs!"]

    renamed = call(user_client, "patch", base, {"title": "Pets"})
    assert renamed.json()["title"] == "Pets"

    assert user_client.delete(f"{base}/messages/{first.user_message.pk}").status_code == 204
    assert user_client.get(f"{base}/messages").json() == []


def test_the_api_refuses_bad_edits_and_titles_with_a_message(
    use_deepseek, openai_server, user, user_client
):
    conversation = conversation_start(owner=user)
    first = say(conversation, user, "hi", openai_server, "Hello.")
    base = f"/api/chat/conversations/{conversation.pk}"
    response = call(
        user_client, "post", f"{base}/messages/{first.user_message.pk}/edit", {"message": ""}
    )
    assert response.status_code == 422
    response = call(user_client, "patch", base, {"title": "   "})
    assert response.status_code == 400
    assert "empty" in response.json()["message"]
    response = user_client.post(f"{base}/messages/{first.user_message.pk}/regenerate")
    assert response.status_code == 400
    assert "last reply" in response.json()["message"]


def test_export_as_markdown_and_json(use_deepseek, openai_server, user, user_client):
    conversation = conversation_start(owner=user)
    first = say(
        conversation,
        user,
        "Write **bold** code",
        openai_server,
        "Here:\n\n```python\nprint(1)\n```",
    )
    regenerate(conversation, user, first.message.pk, openai_server, "Second *take*.")
    conversation_rename(owner=user, conversation_id=conversation.pk, title="Code / talk?")
    base = f"/api/chat/conversations/{conversation.pk}/export"

    markdown = user_client.get(base)
    assert markdown.status_code == 200
    assert markdown["Content-Type"].startswith("text/markdown")
    assert f'filename="luma-chat-{conversation.pk}-code-talk.md"' in markdown["Content-Disposition"]
    text = markdown.content.decode()
    assert text.startswith("# Code / talk?\n")
    assert "### viewer · " in text and "Write **bold** code" in text
    assert "Second *take*." in text and "print(1)" not in text  # the shown version only

    exported = user_client.get(base, {"format": "json"})
    assert exported["Content-Type"].startswith("application/json")
    data = json.loads(exported.content)
    assert data["title"] == "Code / talk?"
    assert [m["content"] for m in data["messages"]] == ["Write **bold** code", "Second *take*."]
    assert data["messages"][1]["other_versions"][0]["content"].startswith("Here:")
    assert data["messages"][1]["completion_tokens"] > 0

    assert user_client.get(base, {"format": "pdf"}).status_code == 422


# ---- field cases: public reports of other chat apps, tried on Luma -----------------------


def test_the_greeting_cannot_be_regenerated_and_says_why(
    use_deepseek, openai_server, conversation, user
):
    """SillyTavern #4074: a swipe on the character's first message did nothing."""
    greeting = conversation.messages.create(role=Role.ASSISTANT, content="Hi, I am Luma!")
    with pytest.raises(InvalidMessage, match="greeting"):
        regenerate(conversation, user, greeting.pk, openai_server, "Hello again.")
    assert openai_server.requests == []


def test_switching_versions_never_asks_the_model(use_deepseek, openai_server, conversation, user):
    """SillyTavern #1905: swiping to an existing version started a generation."""
    first = say(conversation, user, "hi", openai_server, "Hello.")
    regenerate(conversation, user, first.message.pk, openai_server, "Hey.")
    asked = len(openai_server.requests)
    message_version_select(owner=user, conversation_id=conversation.pk, message_id=first.message.pk)
    assert len(openai_server.requests) == asked


def test_a_failed_regeneration_keeps_the_old_reply_chosen_and_in_the_history(
    use_deepseek, openai_server, conversation, user
):
    """tldw_chatbook #2164: a failed regenerate lost the answer shown before it."""
    first = say(conversation, user, "hi", openai_server, "Hello.")
    openai_server.behaviour.status = 503
    with pytest.raises(Exception):
        regenerate(conversation, user, first.message.pk, openai_server, "never")
    openai_server.behaviour.status = 200
    assert shown(conversation, user) == ["hi", "Hello."]
    say(conversation, user, "and?", openai_server, "And more.")
    assert sent_history(openai_server) == ["hi", "Hello.", "and?"]


def test_regenerating_right_after_a_stop_keeps_both_and_loses_no_context(
    use_deepseek, openai_server, conversation, user
):
    """LibreChat #1507: stopping and sending again at once lost the earlier context."""
    say(conversation, user, "my cat is Mochi", openai_server, "Cute!")
    openai_server.behaviour.reply = " ".join(f"word{n}" for n in range(50))
    openai_server.behaviour.chunk_delay = 0.01
    seen: list[str] = []
    events = conversation_reply_stream(
        conversation=conversation,
        speaker=Speaker(user=user),
        text="tell me a story",
        should_stop=lambda: len(seen) >= 3,
    )
    stopped = None
    for event in events:
        if isinstance(event, str):
            seen.append(event)
        stopped = getattr(event, "message", stopped)
    assert stopped is not None and stopped.status == ReplyStatus.STOPPED
    openai_server.behaviour.chunk_delay = 0.0
    again = regenerate(conversation, user, stopped.pk, openai_server, "Once upon a time.")
    assert sent_history(openai_server) == ["my cat is Mochi", "Cute!", "tell me a story"]
    messages = conversation_messages(owner=user, conversation_id=conversation.pk)
    assert [m.content for m in messages][-1] == "Once upon a time."
    assert messages[-1].versions == [stopped.pk, again.message.pk]
