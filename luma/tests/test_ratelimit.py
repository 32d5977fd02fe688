import pytest

from chat.models import Message
from chat.services import Speaker, conversation_for_owner, conversation_reply
from luma.ratelimit import RateLimited, rate_limit_check


@pytest.fixture
def tight_chat_limit(settings):
    settings.LUMA_CHAT_RATE = "2/60"


def test_it_refuses_past_the_limit_per_person(settings):
    settings.LUMA_RATE_LIMITS_ENABLED = True
    rate_limit_check(scope="upload", who="a", rate="2/60")
    rate_limit_check(scope="upload", who="a", rate="2/60")
    rate_limit_check(scope="upload", who="b", rate="2/60")
    with pytest.raises(RateLimited, match="at most 2 upload requests per 60 seconds"):
        rate_limit_check(scope="upload", who="a", rate="2/60")


def test_chat_messages_past_the_limit_are_refused_before_anything_is_stored(
    use_ollama, user, tight_chat_limit
):
    conversation = conversation_for_owner(owner=user, conversation_id=None)
    for text in ("one", "two"):
        conversation_reply(conversation=conversation, speaker=Speaker(user=user), text=text)
    with pytest.raises(RateLimited):
        conversation_reply(conversation=conversation, speaker=Speaker(user=user), text="three")
    assert Message.objects.filter(content="three").count() == 0


def test_the_chat_api_answers_429(use_ollama, user_client, tight_chat_limit):
    for _ in range(2):
        assert (
            user_client.post(
                "/api/chat", {"message": "hi"}, content_type="application/json"
            ).status_code
            == 200
        )
    response = user_client.post("/api/chat", {"message": "hi"}, content_type="application/json")
    assert response.status_code == 429
    assert "Slow down" in response.json()["message"]
