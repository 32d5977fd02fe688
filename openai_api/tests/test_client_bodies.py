"""Bodies as real clients send them: every field Luma does not use is accepted and
ignored, never refused. The SillyTavern body is the one its server builds for a
"Custom (OpenAI-compatible)" source (src/endpoints/backends/chat-completions.js:
samplers, `logit_bias`, `seed`, `n`, plus what "Include Body Parameters" adds); the
Open WebUI ones follow its OpenAI router (model parameters, `stream_options`, image
parts, the user-info headers of ENABLE_FORWARD_USER_INFO_HEADERS, its "### Task:"
background prompts)."""

import json

import httpx
from django.contrib.auth.models import User

from chat.models import Message, Role
from memories.services import memory_create
from openai_api.tests.conftest import LiveLuma

SILLYTAVERN_BODY = {
    "messages": [
        {"role": "system", "content": "Write Luma's next reply in a fictional chat with Kai."},
        {"role": "system", "content": "[Start a new Chat]"},
        {"role": "assistant", "content": "*waves* Welcome back to the stream, Kai!"},
        {"role": "user", "content": "Hi Luma, do you remember my cat?", "name": "Kai"},
    ],
    "model": "luma-raw",
    "temperature": 1,
    "max_tokens": 300,
    "stream": True,
    "presence_penalty": 0,
    "frequency_penalty": 0,
    "top_p": 1,
    "top_k": 0,
    "stop": [],
    "logit_bias": {},
    "seed": 1234,
    "n": 1,
    "include_reasoning": False,
    "reasoning_effort": "medium",
    # "Include Body Parameters" of a custom source (YAML in the connection panel)
    "repetition_penalty": 1.1,
    "min_p": 0.05,
    "top_a": 0,
}

OPEN_WEBUI_BODY = {
    "stream": True,
    "model": "luma",
    "messages": [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is in this picture of my cat?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
            ],
        }
    ],
    "stream_options": {"include_usage": True},
    "temperature": 0.8,
    "top_p": 0.9,
    "min_p": 0.0,
    "frequency_penalty": 0.1,
    "presence_penalty": 0.1,
    "seed": 42,
    "max_tokens": 256,
    "logit_bias": {"1234": -100},
    "reasoning_effort": "low",
}

OPEN_WEBUI_TITLE_TASK = {
    "model": "luma",
    "stream": False,
    "messages": [
        {
            "role": "user",
            "content": "### Task:\nGenerate a concise, 3-5 word title with an emoji summarizing "
            'the chat history.\n### Output:\nJSON format: { "title": "your concise title '
            'here" }\n### Chat History:\n<chat_history>\nUSER: Hi Luma, do you remember my '
            "cat?\nASSISTANT: Of course!\n</chat_history>",
        }
    ],
}


def post(live: LiveLuma, token: str, body: dict, **headers) -> httpx.Response:
    return httpx.post(
        f"{live.base_url}/chat/completions",
        json=body,
        headers={"Authorization": f"Bearer {token}", **headers},
        timeout=30,
    )


def sse_events(response: httpx.Response) -> list[str]:
    return [line[6:] for line in response.text.splitlines() if line.startswith("data: ")]


def test_sillytaverns_custom_source_body_is_accepted(live: LiveLuma, viewer_token, user: User):
    speaker = User.objects.create_user(f"app:{user.pk}:Kai", is_active=False)
    memory_create(content="Kai's cat is called Miso", subject_user=speaker)
    response = post(live, viewer_token, SILLYTAVERN_BODY, **{"X-Luma-Speaker": "Kai"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    events = sse_events(response)
    assert events[-1] == "[DONE]"
    assert "Hello from the fake model." in "".join(
        json.loads(e)["choices"][0]["delta"].get("content") or "" for e in events[:-1]
    )
    sent = live.prompts()[-1]
    # One system message (the client's, no persona: luma-raw), then user and assistant by turns.
    assert [m["role"] for m in sent] == ["system", "user"]
    assert sent[0]["content"].startswith("Write Luma's next reply")
    assert "You opened this conversation with:\n*waves* Welcome back" in sent[0]["content"]
    assert "Kai's cat is called Miso" in sent[0]["content"]
    assert sent[1]["content"] == "Kai: Hi Luma, do you remember my cat?"
    forwarded = [r["json"] for r in live.provider.requests if r["path"] == "/v1/chat/completions"]
    assert "repetition_penalty" not in forwarded[-1] and "logit_bias" not in forwarded[-1]


def test_open_webuis_body_with_an_image_part_and_user_headers_is_accepted(
    live: LiveLuma, viewer_token, user: User
):
    response = post(
        live,
        viewer_token,
        OPEN_WEBUI_BODY,
        **{"X-OpenWebUI-User-Id": "7f3a-uuid", "X-OpenWebUI-User-Name": "Mei%20Lin"},
    )
    assert response.status_code == 200, response.text
    events = sse_events(response)
    usage = json.loads(events[-2])
    assert usage["choices"] == [] and usage["usage"]["prompt_tokens"] == 11
    sent = live.prompts()[-1]
    assert sent[-1] == {"role": "user", "content": "What is in this picture of my cat?"}
    assert "talking with Mei Lin" in sent[0]["content"]  # `luma`: the persona
    asked = Message.objects.get(role=Role.USER)
    assert asked.author_user.username == f"app:{user.pk}:7f3a-uuid"
    assert asked.author_name == "Mei Lin"


def test_open_webuis_title_task_is_answered_plainly_and_not_stored(
    live: LiveLuma, viewer_token, user: User
):
    memory_create(content="The viewer account has a cat", subject_user=user)
    response = post(live, viewer_token, OPEN_WEBUI_TITLE_TASK)
    assert response.status_code == 200
    assert response.json()["choices"][0]["message"]["content"] == "Hello from the fake model."
    sent = live.prompts()[-1]
    assert [m["role"] for m in sent] == ["user"]  # no persona, no memories
    assert not Message.objects.exists()


def test_developer_tool_and_function_messages_are_accepted(live: LiveLuma, viewer_token):
    body = {
        "model": "luma-raw",
        "messages": [
            {"role": "developer", "content": "Answer in one sentence."},
            {"role": "user", "content": "What time is it?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "get_time", "arguments": "{}"},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "20:15"},
            {"role": "function", "name": "get_time", "content": "20:15"},
            {"role": "user", "content": "Thanks!"},
        ],
        "tools": [{"type": "function", "function": {"name": "get_time", "parameters": {}}}],
        "tool_choice": "auto",
        "parallel_tool_calls": False,
    }
    response = post(live, viewer_token, body)
    assert response.status_code == 200, response.text
    sent = live.prompts()[-1]
    assert sent[0] == {"role": "system", "content": "Answer in one sentence."}
    assert sent[1:] == [{"role": "user", "content": "What time is it?\n\nThanks!"}]


def test_a_system_message_inside_the_conversation_stays_where_it_was(live, viewer_token):
    body = {
        "model": "luma-raw",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hello"},
            {"role": "assistant", "content": "Hi!"},
            {"role": "system", "content": "[The user was interrupted.]"},
            {"role": "user", "content": "Sorry, go on."},
        ],
    }
    assert post(live, viewer_token, body).status_code == 200
    sent = live.prompts()[-1]
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "user"]
    assert sent[-1]["content"] == "[The user was interrupted.]\n\nSorry, go on."


def test_a_user_object_or_number_names_the_speaker(live: LiveLuma, viewer_token, user: User):
    post(
        live,
        viewer_token,
        {
            "model": "luma",
            "messages": [{"role": "user", "content": "a"}],
            "user": {"id": "u-9", "name": "Nine"},
        },
    )
    post(
        live,
        viewer_token,
        {"model": "luma", "messages": [{"role": "user", "content": "b"}], "user": 42},
    )
    post(
        live,
        viewer_token,
        {"model": "luma", "messages": [{"role": "user", "content": "c"}], "user": "\x00\n"},
    )
    authors = {m.author_user.username: m.author_name for m in Message.objects.filter(role="user")}
    assert authors == {
        f"app:{user.pk}:u-9": "Nine",
        f"app:{user.pk}:42": "42",
        user.username: user.username,  # only control characters: no speaker, the account
    }


def test_bad_bodies_get_a_400_naming_the_parameter(live: LiveLuma, viewer_token):
    cases = [
        ({"model": "luma"}, "messages"),
        ({"model": "luma", "messages": []}, "messages"),
        (
            {"model": "luma", "messages": [{"role": "user", "content": "x"}], "temperature": 3},
            "temperature",
        ),
        (
            {"model": "luma", "messages": [{"role": "system", "content": "only a system"}]},
            "messages",
        ),
        (
            {
                "model": "luma",
                "messages": [{"role": "user", "content": "x"}],
                "stop": list("abcde"),
            },
            "stop",
        ),
    ]
    for body, param in cases:
        response = post(live, viewer_token, body)
        assert response.status_code == 400, body
        error = response.json()["error"]
        assert error["type"] == "invalid_request_error"
        assert error["param"] == param, (body, error)
    broken = httpx.post(
        f"{live.base_url}/chat/completions",
        content=b"{not json",
        headers={"Authorization": f"Bearer {viewer_token}"},
    )
    assert broken.status_code == 400 and "JSON" in broken.json()["error"]["message"]
    assert live.provider.requests == []


def test_a_long_history_is_cut_to_the_models_budget_from_the_oldest_turn(
    live: LiveLuma, viewer_token, settings
):
    settings.LUMA_PROMPT_TOKEN_BUDGET = 300
    turns = []
    for number in range(40):
        turns += [
            {"role": "user", "content": f"message {number} " + "word " * 20},
            {"role": "assistant", "content": f"answer {number} " + "word " * 20},
        ]
    turns.append({"role": "user", "content": "the newest question"})
    response = post(live, viewer_token, {"model": "luma-raw", "messages": turns})
    assert response.status_code == 200
    sent = live.prompts()[-1]
    assert sent[0]["role"] == "user"  # starts with a user turn
    assert sent[-1]["content"] == "the newest question"
    assert len(sent) < len(turns)


def test_a_photo_over_djangos_request_limit_is_read_and_dropped(live, viewer_token, settings):
    photo = "data:image/jpeg;base64," + "A" * (3 * 1024 * 1024)  # over LUMA_MAX_REQUEST_BYTES
    message = {
        "role": "user",
        "content": [
            {"type": "text", "text": "Look at my cat"},
            {"type": "image_url", "image_url": {"url": photo, "detail": "auto"}},
        ],
    }
    response = post(live, viewer_token, {"model": "luma", "messages": [message]})
    assert response.status_code == 200, response.text[:300]
    assert live.prompts()[-1][-1] == {"role": "user", "content": "Look at my cat"}
    settings.LUMA_MAX_UPLOAD_BYTES = 1024 * 1024
    refused = post(live, viewer_token, {"model": "luma", "messages": [message]})
    assert refused.status_code == 413
    assert refused.json()["error"]["code"] == "request_too_large"
