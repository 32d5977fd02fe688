from datetime import timedelta

import pytest
from django.utils import timezone

from chat.charts import usage_chart
from chat.models import Conversation, Message, Role
from chat.selectors import usage_by_day, usage_by_model

pytestmark = pytest.mark.django_db


def reply(
    *, provider: str, model: str, prompt: int, completion: int, days_ago: int = 0, owner=None
) -> None:
    conversation = Conversation.objects.create(owner=owner)
    message = Message.objects.create(
        conversation=conversation,
        role=Role.ASSISTANT,
        content="hi",
        provider=provider,
        model=model,
        prompt_tokens=prompt,
        completion_tokens=completion,
    )
    created = timezone.now() - timedelta(days=days_ago)
    Message.objects.filter(pk=message.pk).update(created_at=created)


def since(days: int):
    return timezone.now() - timedelta(days=days)


def test_usage_adds_up_per_provider_and_model_biggest_first():
    reply(provider="deepseek", model="deepseek-chat", prompt=100, completion=50)
    reply(provider="deepseek", model="deepseek-chat", prompt=10, completion=5)
    reply(provider="ollama", model="llama3.2", prompt=1000, completion=1)
    Message.objects.create(conversation=Conversation.objects.create(), role=Role.USER, content="x")
    rows = usage_by_model(since=since(1))
    assert [(r.provider, r.model, r.replies, r.total_tokens) for r in rows] == [
        ("ollama", "llama3.2", 1, 1001),
        ("deepseek", "deepseek-chat", 2, 165),
    ]


def test_usage_leaves_out_replies_before_the_range_and_counts_missing_usage_as_zero():
    reply(provider="deepseek", model="m", prompt=5, completion=5, days_ago=40)
    Message.objects.create(
        conversation=Conversation.objects.create(), role=Role.ASSISTANT, content="x",
        provider="builtin", model="smol",
    )  # fmt: skip
    assert [(r.provider, r.total_tokens) for r in usage_by_model(since=since(30))] == [
        ("builtin", 0)
    ]


def test_usage_per_day_has_every_day_with_zeros_between():
    reply(provider="deepseek", model="m", prompt=7, completion=3, days_ago=2)
    reply(provider="ollama", model="o", prompt=1, completion=1)
    days = usage_by_day(since=since(6))
    assert len(days) == 7
    assert days[-1].by_provider == {"ollama": 2}
    assert days[-3].by_provider == {"deepseek": 10}
    assert sum(day.total_tokens for day in days) == 12


def test_the_chart_stacks_providers_and_scales_to_a_round_number():
    reply(provider="deepseek", model="m", prompt=700, completion=0)
    reply(provider="ollama", model="o", prompt=100, completion=0)
    chart = usage_chart(usage_by_day(since=since(2)))
    assert chart.ticks[-1].label == "1,000"
    assert [bar.label.split("(")[1] for bar in chart.bars] == ["deepseek)", "ollama)"]
    assert chart.bars[0].y > chart.bars[1].y  # ollama sits on top of deepseek


def test_the_usage_page_shows_totals(admin_client):
    reply(provider="deepseek", model="deepseek-chat", prompt=120, completion=30)
    response = admin_client.get("/usage/?days=7")
    assert response.status_code == 200
    html = response.content.decode()
    assert "deepseek-chat" in html and "<svg" in html and ">150<" in html


@pytest.mark.parametrize("client_fixture", ["user_client", "moderator_client"])
def test_anyone_but_the_owner_sees_only_the_usage_of_their_own_chats(
    request, client_fixture, other_user
):
    client = request.getfixturevalue(client_fixture)
    me = client.get("/usage/").wsgi_request.user
    reply(provider="deepseek", model="mine", prompt=40, completion=2, owner=me)
    reply(provider="deepseek", model="someone-elses", prompt=900, completion=99, owner=other_user)
    reply(provider="ollama", model="discord-channel", prompt=500, completion=5)

    html = client.get("/usage/?days=7").content.decode()

    assert "Your token usage" in html and "mine" in html and ">42<" in html
    assert "someone-elses" not in html and "discord-channel" not in html


def test_the_usage_page_falls_back_to_30_days_for_odd_ranges(user_client):
    assert user_client.get("/usage/?days=abc").context["days"] == 30
    assert user_client.get("/usage/?days=12").context["days"] == 30
