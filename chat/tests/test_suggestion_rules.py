"""What is never proposed: the streamer's rules in the suggestion prompt, the privacy
screen and the blocklist on what the model proposes, and who may set them."""

import json

import pytest
from django.test import Client

from chat.models import Message
from chat.services import Speaker, conversation_for_owner, conversation_reply
from chat.suggestions import (
    RULES_HEADING,
    SUGGESTION_PROMPT,
    memory_suggestions_report,
    suggestion_prompt,
)
from luma.forms import RuntimeSettingsForm
from luma.services import runtime_settings_get, runtime_settings_update
from memories.models import Memory, MemorySource, SuggestionRun
from memories.services import memory_create

pytestmark = pytest.mark.django_db

RULE = "Never remember anything about other viewers' real-life location."


def answer(*contents: str, importance: int = 7) -> str:
    return json.dumps({"memories": [{"content": c, "importance": importance} for c in contents]})


@pytest.fixture
def suggesting(use_deepseek):
    return runtime_settings_update(memory_suggestions_enabled=True, memory_suggestion_threshold=5)


def chat(user, openai_server, model_answer: str, text: str = "Hi!") -> Message:
    openai_server.behaviour.reply = model_answer
    conversation = conversation_for_owner(owner=user, conversation_id=None)
    return conversation_reply(
        conversation=conversation, speaker=Speaker(user=user), text=text
    ).message


def suggested() -> list[str]:
    return list(
        Memory.objects.filter(source=MemorySource.AI_SUGGESTED)
        .order_by("pk")
        .values_list("content", flat=True)
    )


def suggestion_request(openai_server) -> dict:
    """The last request that asked for suggestions (JSON mode), as the server saw it."""
    asked = [r["json"] for r in openai_server.requests if r["json"].get("response_format")]
    return asked[-1]


# The rules in the prompt.


def test_the_streamers_rules_end_the_suggestion_prompt_one_a_line():
    prompt = suggestion_prompt(f"  - {RULE}\n\n* Only games and pets.\r\n")

    assert prompt.startswith(SUGGESTION_PROMPT)
    assert prompt.endswith(f"{RULES_HEADING}\n- {RULE}\n- Only games and pets.")
    assert suggestion_prompt(" \n ") == SUGGESTION_PROMPT


def test_the_model_is_given_the_rules_with_every_exchange(suggesting, openai_server, user):
    runtime_settings_update(memory_rules=RULE)

    chat(user, openai_server, answer("Viewer has a cat named Tofu."))

    system = suggestion_request(openai_server)["messages"][0]["content"]
    assert system.endswith(f"{RULES_HEADING}\n- {RULE}")


def test_without_rules_the_prompt_is_as_before(suggesting, openai_server, user):
    chat(user, openai_server, answer("Viewer has a cat named Tofu."))

    assert suggestion_request(openai_server)["messages"][0]["content"] == SUGGESTION_PROMPT


# The privacy screen on what the model proposes.


def test_secrets_and_personal_data_are_withheld_and_counted_by_kind(
    suggesting, openai_server, user
):
    chat(
        user,
        openai_server,
        answer(
            "Viewer has a cat named Tofu.",
            "Viewer's password is hunter2.",
            "Viewer's phone number is +44 20 7946 0958.",
            "Viewer's email is viewer+stream@example.com.",
            "Viewer lives at 221B Baker Street, London.",
            "Viewer paid with card 4111 1111 1111 1111.",
            "Viewer's Twitch stream key is live_123456789_abcdefghijklmnopqrstuvwxyz12.",
        ),
    )

    assert suggested() == ["Viewer has a cat named Tofu."]
    run = SuggestionRun.objects.get()
    assert (run.kept, run.withheld) == (1, 6)
    assert run.withheld_categories == {
        "password": 1,
        "phone": 1,
        "email": 1,
        "address": 1,
        "payment_card": 1,
        "api_key": 1,
    }
    assert run.answer == ""  # nothing was dropped, so the answer is not kept


def test_a_secret_is_withheld_whatever_its_importance(suggesting, openai_server, user):
    chat(user, openai_server, answer("Viewer's PIN is 4321.", importance=1))

    run = SuggestionRun.objects.get()
    assert (run.withheld, run.skipped, run.withheld_categories) == (1, 0, {"password": 1})


def test_a_secret_in_the_tags_is_withheld_too(suggesting, openai_server, user):
    model_answer = json.dumps(
        {"memories": [{"content": "Viewer has a new phone.", "tags": ["+44 20 7946 0958"]}]}
    )
    chat(user, openai_server, model_answer)

    assert suggested() == []
    assert SuggestionRun.objects.get().withheld_categories == {"phone": 1}


def test_the_answer_kept_for_the_admin_never_holds_the_secret(suggesting, openai_server, user):
    """An answer is kept when part of it could not be understood: what it says about a
    password must not reach the admin, understood or not."""
    model_answer = (
        '{"memories": [{"content": "Viewer\'s password is hunter2", "importance": 8}, '
        '{"importance": 3, "note": "call +44 20 7946 0958"}]}'
    )
    chat(user, openai_server, model_answer)

    run = SuggestionRun.objects.get()
    assert (run.withheld, run.dropped) == (1, 1)
    assert "hunter2" not in run.answer and "7946" not in run.answer
    assert "[withheld: password]" in run.answer and "[withheld: phone]" in run.answer


def test_the_report_says_what_became_of_each_fact(use_deepseek, openai_server, user):
    runtime_settings_update(memory_blocklist="Maplewood", memory_suggestion_threshold=5)
    memory_create(content="Viewer likes green tea.", subject_user=user)
    model_answer = json.dumps(
        {
            "memories": [
                {"content": "Viewer has a cat named Tofu.", "importance": 7},
                {"content": "Viewer goes to Maplewood High.", "importance": 7},
                {"content": "Viewer said hi.", "importance": 2},
                {"content": "Viewer likes green tea.", "importance": 7},
            ]
        }
    )
    reply = chat(user, openai_server, model_answer)  # suggestions are off: none asked yet

    report = memory_suggestions_report(reply_message_id=reply.pk)

    assert [(item.outcome, item.category) for item in report.items] == [
        ("kept", ""),
        ("withheld", "blocklist"),
        ("unimportant", ""),
        ("duplicate", ""),
    ]
    assert [memory.content for memory in report.created] == ["Viewer has a cat named Tofu."]
    run = SuggestionRun.objects.get()
    assert (run.kept, run.skipped, run.withheld) == (1, 2, 1)
    assert memory_suggestions_report(reply_message_id=10**9) is None


# The blocklist.


def test_a_blocked_word_keeps_the_fact_from_being_proposed(suggesting, openai_server, user):
    """mem0ai/mem0#2214: `excludes="personal information"` given to the model alone did
    not keep 'priya, Staff data scientist, xyz company' out of the memories; a word on
    the blocklist is withheld whatever the model does with the rules."""
    runtime_settings_update(
        memory_rules="Never remember people's employers.", memory_blocklist="xyz company"
    )

    chat(
        user,
        openai_server,
        answer(
            "Priya is a staff data scientist at XYZ Company.", "Priya's laptop will not turn on."
        ),
    )

    assert suggested() == ["Priya's laptop will not turn on."]
    assert SuggestionRun.objects.get().withheld_categories == {"blocklist": 1}


def test_the_blocklist_is_case_and_accent_blind_and_matches_whole_latin_words(
    suggesting, openai_server, user
):
    runtime_settings_update(memory_blocklist="Zoë\nKai\n东京")

    chat(
        user,
        openai_server,
        answer(
            "Viewer's sister is called ZOE.",
            "Viewer loves Kaiser rolls.",
            "Viewer lives near 东京塔.",
            "Viewer's friend KAI streams on Sundays.",
        ),
    )

    assert suggested() == ["Viewer loves Kaiser rolls."]
    assert SuggestionRun.objects.get().withheld_categories == {"blocklist": 3}


def test_a_prompt_that_asks_for_addresses_cannot_get_them_stored(suggesting, openai_server, user):
    """Prism-Shadow/penguin-harness#397: a memory prompt asked the model to save 'names,
    addresses, identifiers' that the same prompt forbade. Whatever the rules say, the
    screen holds: an owner's rule cannot let an address through."""
    runtime_settings_update(memory_rules="Remember every viewer's home address.")

    chat(user, openai_server, answer("Viewer lives at 42 Wallaby Way, Sydney."))

    assert suggested() == []
    assert SuggestionRun.objects.get().withheld_categories == {"address": 1}


# Who sets them: the settings API and page, every role.


ROLES = [
    ("anonymous", 401),
    ("viewer", 403),
    ("moderator", 403),
    ("owner", 200),
]


@pytest.fixture
def clients(user_client, moderator_client, admin_client) -> dict[str, Client]:
    return {
        "anonymous": Client(),
        "viewer": user_client,
        "moderator": moderator_client,
        "owner": admin_client,
    }


@pytest.mark.parametrize(("role", "status"), ROLES)
def test_only_the_owner_reads_the_rules_and_the_blocklist(clients, role, status):
    runtime_settings_update(memory_rules=RULE, memory_blocklist="Maplewood")

    response = clients[role].get("/api/settings")

    assert response.status_code == status
    body = response.json()
    if status == 200:
        assert (body["memory_rules"], body["memory_blocklist"]) == (RULE, "Maplewood")
    else:
        assert "Maplewood" not in response.content.decode()


@pytest.mark.parametrize(("role", "status"), ROLES)
def test_only_the_owner_changes_the_rules_and_the_blocklist(clients, role, status):
    response = clients[role].put(
        "/api/settings",
        {"memory_rules": RULE, "memory_blocklist": "Maplewood\nKai's school"},
        content_type="application/json",
    )

    assert response.status_code == status
    row = runtime_settings_get()
    changed = (row.memory_rules, row.memory_blocklist) == (RULE, "Maplewood\nKai's school")
    assert changed is (status == 200)


def test_an_empty_value_clears_them(admin_client):
    runtime_settings_update(memory_rules=RULE, memory_blocklist="Maplewood")

    response = admin_client.put(
        "/api/settings",
        {"memory_rules": "", "memory_blocklist": ""},
        content_type="application/json",
    )

    assert response.status_code == 200
    assert (response.json()["memory_rules"], response.json()["memory_blocklist"]) == ("", "")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("memory_rules", "\n".join(f"rule {n}" for n in range(31)), "At most 30 rules"),
        ("memory_rules", "x" * 301, "Line 1 of the rules is 301 characters long"),
        ("memory_blocklist", "ok\n" + "y" * 201, "Line 2 of the blocklist entries is 201"),
    ],
)
def test_too_many_or_too_long_lines_are_refused_with_a_reason(admin_client, field, value, message):
    response = admin_client.put("/api/settings", {field: value}, content_type="application/json")

    assert response.status_code == 400
    assert message in response.json()["message"]
    assert getattr(runtime_settings_get(), field) == ""


def test_a_body_past_the_limit_or_with_nul_is_refused_before_it_is_read(admin_client):
    huge = admin_client.put(
        "/api/settings", {"memory_blocklist": "z" * 200_000}, content_type="application/json"
    )
    nul = admin_client.put(
        "/api/settings", {"memory_rules": "no\x00pe"}, content_type="application/json"
    )

    assert (huge.status_code, nul.status_code) == (422, 422)


def page_data(**changes) -> dict:
    """What the settings page posts when nothing is touched, with `changes`."""
    form = RuntimeSettingsForm(instance=runtime_settings_get())
    data: dict = {}
    for name in form.fields:
        value = form[name].value()
        if value not in (None, False, ""):
            data[name] = value
    data.pop("deepseek_api_key", None)
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("role", "status"), [("anonymous", 302), ("viewer", 403), ("moderator", 403), ("owner", 302)]
)
def test_only_the_owner_sets_them_on_the_settings_page(clients, role, status):
    response = clients[role].post(
        "/settings/", page_data(memory_rules=RULE, memory_blocklist="Maplewood")
    )

    assert response.status_code == status
    saved = runtime_settings_get().memory_blocklist == "Maplewood"
    assert saved is (role == "owner")


def test_the_settings_page_shows_them_to_the_owner_with_what_is_always_withheld(admin_client):
    runtime_settings_update(memory_rules=RULE, memory_blocklist="Maplewood")

    html = admin_client.get("/settings/").content.decode()

    assert 'name="memory_rules"' in html and 'name="memory_blocklist"' in html
    assert "real-life location" in html and "Maplewood" in html
    assert "never proposed" in html and 'id="withheld-summary"' in html


def test_the_settings_page_names_a_line_too_long(admin_client):
    response = admin_client.post("/settings/", page_data(memory_blocklist="w" * 201))

    assert response.status_code == 200
    assert "Line 1 of the blocklist entries is 201 characters long" in response.content.decode()
    assert runtime_settings_get().memory_blocklist == ""


# What the owner sees of what was withheld.


@pytest.mark.parametrize(
    ("role", "status"), [("anonymous", 401), ("viewer", 403), ("moderator", 200), ("owner", 200)]
)
def test_the_runs_say_how_many_were_withheld_of_each_kind_never_the_facts(
    clients, role, status, suggesting, openai_server, user
):
    chat(
        user,
        openai_server,
        answer("Viewer's password is hunter2.", "Viewer's email is v@example.com."),
    )

    response = clients[role].get("/api/memory/suggestions/runs")

    assert response.status_code == status
    if status == 200:
        body = response.json()
        assert body["withheld"] == 2
        assert body["withheld_categories"] == [  # equal counts: by name
            {"category": "email", "label": "email address", "count": 1},
            {"category": "password", "label": "password", "count": 1},
        ]
    assert "hunter2" not in response.content.decode()


def test_the_admin_shows_the_kinds_withheld(admin_client, suggesting, openai_server, user):
    chat(user, openai_server, answer("Viewer's password is hunter2."))
    run = SuggestionRun.objects.get()

    html = admin_client.get(f"/admin/memories/suggestionrun/{run.pk}/change/").content.decode()

    assert "password: 1" in html and "hunter2" not in html


def test_the_owner_sets_them_in_the_admin_too(admin_client):
    row = runtime_settings_get()
    page = admin_client.get(f"/admin/luma/runtimesettings/{row.pk}/change/").content.decode()

    assert 'name="memory_rules"' in page and 'name="memory_blocklist"' in page
