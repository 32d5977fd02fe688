"""Failures public reports describe between OpenAI-compatible servers and their clients,
reduced to small requests and tried on Luma (the report is named on each test)."""

import json
import time

import httpx

from chat.models import Message, ReplyStatus, Role
from openai_api.tests.conftest import LiveLuma

HELLO = [{"role": "user", "content": "Hello"}]


def raw_events(live: LiveLuma, token: str, **body) -> list[str]:
    response = httpx.post(
        f"{live.base_url}/chat/completions",
        json={"model": "luma", "messages": HELLO, "stream": True, **body},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return response.text.split("\n\n")


def test_the_stream_ends_with_a_done_line_after_blank_line_separated_events(live, viewer_token):
    # acheong08/ChatGPT-to-API#14: "[DONE]" missing or events without their blank line.
    events = raw_events(live, viewer_token)
    assert events[-2:] == ["data: [DONE]", ""]
    assert all(event.startswith("data: ") for event in events[:-1])


def test_every_chunk_carries_finish_reason_and_the_last_one_says_why(live, viewer_token):
    # LocalAI#1744 (chunks without `finish_reason`), opencode#43882 (a stream that never
    # sends a terminal finish_reason breaks strict clients), also when a stop sequence cut it.
    for body in ({}, {"stop": ["fake"]}):
        chunks = [json.loads(e[6:]) for e in raw_events(live, viewer_token, **body)[:-2]]
        assert all("finish_reason" in chunk["choices"][0] for chunk in chunks)
        assert [c["choices"][0]["finish_reason"] for c in chunks][-1] == "stop"
        assert all(c["choices"][0]["finish_reason"] is None for c in chunks[:-1])


def test_no_chunk_without_choices_unless_usage_is_asked_for(live, viewer_token):
    # datawhalechina/hello-agents#425, BerriAI/litellm#36553, KiCad-AI-Assistant#90: clients
    # index choices[0] and crash on the usage-only chunk, so it comes only on request.
    plain = [json.loads(e[6:]) for e in raw_events(live, viewer_token)[:-2]]
    assert all(chunk["choices"] for chunk in plain)
    assert all("usage" not in chunk for chunk in plain)
    asked = [
        json.loads(e[6:])
        for e in raw_events(live, viewer_token, stream_options={"include_usage": True})[:-2]
    ]
    assert [chunk for chunk in asked if not chunk["choices"]] == [asked[-1]]


def test_the_developer_role_is_a_system_instruction(live: LiveLuma, viewer_token):
    # peonist-ai/halogen-server#3, cloudflare/cloudflare-os#36, can1357/oh-my-pi#843: servers
    # answering role "developer" with a 400.
    response = httpx.post(
        f"{live.base_url}/chat/completions",
        json={
            "model": "luma-raw",
            "messages": [{"role": "developer", "content": "Be brief."}, *HELLO],
        },
        headers={"Authorization": f"Bearer {viewer_token}"},
    )
    assert response.status_code == 200
    assert live.prompts()[-1][0] == {"role": "system", "content": "Be brief."}


def test_a_base_url_ending_in_a_slash_still_finds_the_endpoints(live: LiveLuma, viewer_token):
    # open-webui/open-webui#16749: a trailing slash in the connection URL gives `/v1//models`.
    headers = {"Authorization": f"Bearer {viewer_token}"}
    assert httpx.get(f"{live.base_url}//models", headers=headers).status_code == 200
    assert httpx.get(f"{live.base_url}/models/", headers=headers).status_code == 200
    answer = httpx.post(
        f"{live.base_url}//chat/completions/",
        headers=headers,
        json={"model": "luma", "messages": HELLO},
    )
    assert answer.status_code == 200


def test_a_client_that_hangs_up_stops_the_reply_and_keeps_what_came(live, viewer_token):
    # SillyTavern's and Open WebUI's Stop button close the connection mid-stream.
    live.provider.behaviour.reply = " ".join(f"word{i}" for i in range(200))
    live.provider.behaviour.chunk_delay = 0.02
    with httpx.stream(
        "POST",
        f"{live.base_url}/chat/completions",
        json={"model": "luma", "messages": HELLO, "stream": True},
        headers={"Authorization": f"Bearer {viewer_token}"},
    ) as response:
        for line in response.iter_lines():
            if "word3" in line:
                break
    deadline = time.monotonic() + 10
    while not Message.objects.filter(role=Role.ASSISTANT).exists():
        assert time.monotonic() < deadline, "the stopped reply was never stored"
        time.sleep(0.1)
    reply = Message.objects.get(role=Role.ASSISTANT)
    assert reply.status == ReplyStatus.STOPPED
    assert reply.content.startswith("word0 word1 word2 word3")
    assert "word199" not in reply.content
