"""The persona in the prompt that reaches the model, and its greeting in new chats."""

import pytest

from chat.models import Role
from chat.services import (
    Speaker,
    conversation_for_discord_channel,
    conversation_for_owner,
    conversation_reply_stream,
)
from persona.models import DEFAULT_DESCRIPTION, Persona
from persona.prompt import macros_substitute
from persona.selectors import persona_get
from persona.services import persona_update


def reply(conversation, speaker, text):
    return list(conversation_reply_stream(conversation=conversation, speaker=speaker, text=text))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{{char}} greets {{user}}", "Mika greets Alice"),
        ("{{Char}} and {{USER}}, {{ char }}", "Mika and Alice, Mika"),
        ("<BOT> waves at <user>", "Mika waves at Alice"),
        ("{{char}}{{char}}", "MikaMika"),
        ("{{random}} stays", "{{random}} stays"),
    ],
)
def test_macros_are_substituted_in_any_case(text, expected):
    assert macros_substitute(text, char="Mika", user="Alice") == expected


def test_a_name_holding_a_macro_or_backslashes_is_put_in_literally():
    assert macros_substitute("{{char}}", char=r"\1 {{user}}", user="Al") == r"\1 {{user}}"


@pytest.mark.django_db
def test_the_model_gets_the_persona_in_sillytaverns_order_with_macros_filled(
    use_deepseek, openai_server, user
):
    persona_update(
        name="Mika",
        system_prompt="{{original}} Never break character.",
        description="{{char}} is a fox spirit who streams at night.",
        personality="curious, teasing <USER>",
        scenario="{{user}} joined {{char}}'s late stream.",
        example_dialogue="<START>\n{{user}}: hi\n{{char}}: Boo!",
        post_history_instructions="Answer {{user}} in under 50 words.",
    )
    conversation = conversation_for_owner(owner=user, conversation_id=None)

    reply(conversation, Speaker(user=user), "hello there")

    system, *turns = openai_server.requests[-1]["json"]["messages"]
    text = system["content"]
    order = [
        "You are Mika.",
        "Never break character.",
        "Mika is a fox spirit",
        "Mika's personality: curious, teasing viewer",
        "Scenario: viewer joined Mika's late stream.",
        "[Example chat]\nviewer: hi\nMika: Boo!",
        "You are talking with viewer.",
    ]
    assert [text.index(part) for part in order] == sorted(text.index(part) for part in order)
    assert "{{" not in text and "<USER>" not in text and "<START>" not in text
    assert turns == [{"role": "user", "content": "hello there\n\nAnswer viewer in under 50 words."}]
    stored = conversation.messages.filter(role=Role.USER).get()
    assert stored.content == "hello there"  # the instruction is never stored


@pytest.mark.django_db
def test_a_new_web_chat_opens_with_the_greeting_and_the_model_knows_it(
    use_deepseek, openai_server, user
):
    persona_update(name="Mika", greeting="Hi {{user}}, I'm {{char}}! What's up?")
    conversation = conversation_for_owner(owner=user, conversation_id=None)

    first = conversation.messages.get()
    assert (first.role, first.content) == (Role.ASSISTANT, "Hi viewer, I'm Mika! What's up?")
    reply(conversation, Speaker(user=user), "not much")

    system, *turns = openai_server.requests[-1]["json"]["messages"]
    assert (
        "You opened this conversation with:\nHi viewer, I'm Mika! What's up?" in system["content"]
    )
    assert turns == [{"role": "user", "content": "not much"}]  # user first: strict templates
    assert list(conversation.messages.answer_order().values_list("role", flat=True)) == [
        Role.ASSISTANT,
        Role.USER,
        Role.ASSISTANT,
    ]


@pytest.mark.django_db
def test_discord_channels_and_personas_without_a_greeting_get_none(user):
    persona_update(greeting="Hello!")
    assert not conversation_for_discord_channel(channel_id="42").messages.exists()
    persona_update(greeting="")
    assert not conversation_for_owner(owner=user, conversation_id=None).messages.exists()


@pytest.mark.django_db
def test_the_persona_is_luma_by_default_and_persona_prompt_seeds_its_description(monkeypatch):
    assert (persona_get().name, persona_get().description) == ("Luma", DEFAULT_DESCRIPTION)
    Persona.objects.all().delete()
    monkeypatch.setenv("PERSONA_PROMPT", "You are Nyx, a sleepy owl.")
    assert persona_get().description == "You are Nyx, a sleepy owl."


@pytest.mark.django_db
def test_every_page_shows_the_persona_name_and_avatar(user_client):
    persona_update(name="Mika")
    html = user_client.get("/").content.decode()
    assert "<title>Chat · Mika</title>" in html
    assert 'data-persona-name="Mika"' in html and "/static/persona/avatar.png" in html
    assert "Message Mika…" in html and "Luma" not in html.split("<body")[1].split("<script")[0]
