from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from luma.services import api_token_create
from memories.models import Memory, MemorySource, SuggestionRun
from memories.services import memory_create, suggestion_run_record

pytestmark = pytest.mark.django_db


def send(client, method: str, path: str, payload=None, **headers):
    return getattr(client, method)(
        f"/api/memory{path}", payload, content_type="application/json", **headers
    )


def suggestion(content: str, **fields) -> Memory:
    return memory_create(content=content, source=MemorySource.AI_SUGGESTED, **fields)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/search?q=x"),
        ("post", ""),
        ("get", "/1"),
        ("put", "/1"),
        ("delete", "/1"),
        ("get", "/suggestions"),
        ("get", "/suggestions/runs"),
        ("post", "/suggest"),
        ("post", "/1/reject"),
    ],
)
def test_every_endpoint_needs_a_login_or_token(method, path):
    response = send(Client(), method, path, {})
    assert response.status_code == 401


def test_nul_characters_are_refused_with_the_field_named(user_client):
    """PostgreSQL cannot store NUL; the API says so instead of failing with a 500."""
    response = send(user_client, "post", "", {"content": "a\x00b"})
    assert response.status_code == 422
    assert "NUL" in response.content.decode() and "content" in response.content.decode()
    tagged = send(user_client, "post", "", {"content": "ok", "tags": ["x\x00"]})
    assert tagged.status_code == 422
    assert send(user_client, "get", "/search?q=a%00b").status_code == 422
    assert not Memory.objects.exists()


def test_an_api_token_authenticates(user):
    _, token = api_token_create(user=user, name="overlay")
    memory_create(content="I love foxes.", subject_user=user)

    good = send(Client(), "get", "/search?q=foxes", HTTP_AUTHORIZATION=f"Bearer {token}")
    bad = send(Client(), "get", "/search?q=foxes", HTTP_AUTHORIZATION="Bearer luma_nope")

    assert good.status_code == 200 and good.json()["count"] == 1
    assert bad.status_code == 401


def test_a_user_creates_reads_updates_and_deletes_a_memory_about_themselves(user_client, user):
    created = send(user_client, "post", "", {"content": "I play bass.", "tags": ["Music"]})
    body = created.json()
    assert created.status_code == 201, body
    assert (body["subject"], body["status"], body["tags"]) == (
        f"user:{user.pk}",
        "approved",
        ["music"],
    )

    url = f"/{body['id']}"
    assert send(user_client, "get", url).json()["content"] == "I play bass."
    updated = send(user_client, "put", url, {"content": "I play bass and drums.", "importance": 8})
    assert (updated.json()["content"], updated.json()["importance"]) == (
        "I play bass and drums.",
        8,
    )
    assert send(user_client, "get", "/search?q=drums").json()["count"] == 1
    assert send(user_client, "delete", url).status_code == 204
    assert send(user_client, "get", url).status_code == 404
    assert send(user_client, "get", "/search?q=drums").json()["count"] == 0


def test_only_staff_add_memories_about_everyone_or_someone_else(user_client, admin_client, user):
    refused = send(user_client, "post", "", {"content": "Luma is a fox.", "subject": "everyone"})
    for_everyone = send(
        admin_client, "post", "", {"content": "Luma is a fox.", "subject": "everyone"}
    )
    for_discord = send(admin_client, "post", "", {"content": "Pal plays.", "subject": "discord:42"})
    for_user = send(
        admin_client, "post", "", {"content": "Likes tea.", "subject": f"user:{user.pk}"}
    )

    assert refused.status_code == 403
    assert for_everyone.json()["subject"] == "everyone"
    assert for_discord.json()["subject"] == "discord:42"
    assert for_user.json()["subject"] == f"user:{user.pk}"


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"content": ""},
        {"content": "x", "importance": 11},
        {"content": "x", "importance": "high"},
        {"content": "x", "tags": "music"},
        {"content": "x", "subject": "moon"},
    ],
)
def test_an_invalid_memory_gets_a_clear_4xx(admin_client, payload):
    response = send(admin_client, "post", "", payload)

    assert 400 <= response.status_code < 500
    assert response.json()["message"]
    assert not Memory.objects.exists()


def test_a_viewer_finds_neither_another_users_memory_nor_a_global_one(
    user_client, moderator_client, other_user
):
    theirs = memory_create(content="Stranger's secret.", subject_user=other_user)
    world = memory_create(content="The mascot is a fox.")

    for memory in (theirs, world):
        assert send(user_client, "get", f"/{memory.pk}").status_code == 404
        assert send(user_client, "put", f"/{memory.pk}", {"content": "x"}).status_code == 404
        assert send(user_client, "delete", f"/{memory.pk}").status_code == 404
    assert Memory.objects.count() == 2
    edited = send(moderator_client, "put", f"/{world.pk}", {"content": "Mascot: cat"})
    assert edited.json()["content"] == "Mascot: cat"


def test_search_returns_ranked_results_with_scores_and_filters(
    user_client, moderator_client, user, other_user
):
    memory_create(content="Viewer plays chess on Sundays.", subject_user=user, importance=9)
    memory_create(content="Chess club meets on Mondays.", importance=3, tags=["club"])
    memory_create(content="Stranger plays chess too.", subject_user=other_user)
    suggestion("Viewer might like chess puzzles.", subject_user=user)

    ranked = send(user_client, "get", "/search?q=chess").json()
    club = send(moderator_client, "get", "/search?q=chess&tags=club&subject=everyone").json()
    pending = send(user_client, "get", "/search?q=chess&status=pending").json()
    important = send(user_client, "get", "/search?q=chess&importance_min=6&limit=1").json()

    contents = [item["memory"]["content"] for item in ranked["items"]]
    assert "Stranger plays chess too." not in contents
    assert "Chess club meets on Mondays." not in contents  # global: a viewer sees their own
    assert contents[0] == "Viewer plays chess on Sundays."
    assert ranked["items"][0]["score"] > ranked["items"][-1]["score"] > 0
    assert [i["memory"]["content"] for i in club["items"]] == ["Chess club meets on Mondays."]
    assert [i["memory"]["status"] for i in pending["items"]] == ["pending"]
    assert (important["count"], len(important["items"])) == (1, 1)


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=101", "offset=-1", "importance_min=0", "status=maybe", "source=x"]
)
def test_search_refuses_invalid_parameters(user_client, query):
    response = send(user_client, "get", f"/search?q=chess&{query}")

    assert response.status_code == 422
    assert response.json()["message"].startswith("Invalid request")


def test_search_paginates(moderator_client, lexical_only):
    # Lexical only: equally good matches, so importance alone orders them (MiniLM's
    # similarities to these near-identical texts differ by more than importance weighs).
    for i in range(5):
        memory_create(content=f"Song number {i} is great.", importance=i + 1)

    first = send(moderator_client, "get", "/search?q=song&limit=2").json()
    third = send(moderator_client, "get", "/search?q=song&limit=2&offset=4").json()

    assert first["count"] == third["count"] == 5
    assert len(first["items"]) == 2 and len(third["items"]) == 1
    assert first["items"][0]["memory"]["importance"] == 5


def test_people_see_and_review_the_suggestions_about_themselves(
    user_client, admin_client, user, other_user
):
    mine = suggestion("Viewer has a cat.", subject_user=user)
    theirs = suggestion("Stranger has a dog.", subject_user=other_user)
    memory_create(content="Approved already.", subject_user=user)

    assert [m["id"] for m in send(user_client, "get", "/suggestions").json()] == [mine.pk]
    assert {m["id"] for m in send(admin_client, "get", "/suggestions").json()} == {
        mine.pk,
        theirs.pk,
    }
    assert send(user_client, "post", f"/{theirs.pk}/reject").status_code == 404
    rejected = send(user_client, "post", f"/{mine.pk}/reject")
    assert rejected.json()["status"] == "rejected"
    again = send(user_client, "post", f"/{mine.pk}/reject")
    assert again.status_code == 409


def test_approving_a_suggestion_with_edits(admin_client):
    pending = suggestion("Kai streams on fridays", importance=5)

    response = send(
        admin_client,
        "post",
        "/suggest",
        {"id": pending.pk, "content": "Kai streams on Fridays at 9pm.", "tags": ["schedule"]},
    )

    body = response.json()
    assert response.status_code == 200, body
    assert (body["status"], body["content"], body["tags"]) == (
        "approved",
        "Kai streams on Fridays at 9pm.",
        ["schedule"],
    )
    assert send(admin_client, "post", "/suggest", {"id": pending.pk}).status_code == 409


def test_approving_an_update_suggestion_returns_the_memory_that_supersedes_the_old_one(
    admin_client,
):
    original = memory_create(content="Kai's favourite game is Osu!")
    update = suggestion("Kai's favourite game is now Beat Saber.", updates=original)

    body = send(admin_client, "post", "/suggest", {"id": update.pk}).json()

    assert (body["id"], body["content"]) == (update.pk, "Kai's favourite game is now Beat Saber.")
    assert (body["supersedes_id"], body["was"]) == (original.pk, "Kai's favourite game is Osu!")
    assert Memory.objects.get(pk=original.pk).valid_until is not None
    assert send(admin_client, "get", "/search?q=beat+saber").json()["count"] == 1


def test_approving_a_missing_suggestion_is_not_found(admin_client):
    assert send(admin_client, "post", "/suggest", {"id": 999}).status_code == 404
    assert send(admin_client, "post", "/suggest", {"content": "no id"}).status_code == 422


def test_the_openapi_schema_lists_the_memory_endpoints(user_client):
    paths = user_client.get("/api/openapi.json").json()["paths"]

    assert {"/api/memory", "/api/memory/search", "/api/memory/suggest"} <= set(paths)
    assert {"/api/memory/{memory_id}", "/api/memory/{memory_id}/reject"} <= set(paths)


@pytest.mark.parametrize(
    ("client_fixture", "status"),
    [("user_client", 403), ("moderator_client", 200), ("admin_client", 200)],
)
def test_moderators_and_the_owner_see_what_the_model_answers_lost(request, client_fixture, status):
    suggestion_run_record(
        reply_message_id=1, kept=1, decided=1, skipped=0, problems=["a", "b"], answer="?"
    )
    suggestion_run_record(reply_message_id=2, kept=2, decided=0, skipped=3, problems=[], answer="")

    response = send(request.getfixturevalue(client_fixture), "get", "/suggestions/runs")

    assert response.status_code == status
    if status == 200:
        assert response.json() == {
            "days": 7,
            "runs": 2,
            "kept": 3,
            "dropped": 2,
            "decided": 1,
            "skipped": 3,
            "withheld": 0,
            "withheld_categories": [],
            "review_url": "/admin/memories/suggestionrun/?understood=no",
        }


def test_the_suggestion_runs_cover_the_days_asked(moderator_client):
    run = suggestion_run_record(
        reply_message_id=1, kept=0, decided=0, skipped=0, problems=["a"], answer=""
    )
    SuggestionRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - timedelta(days=10))

    week = send(moderator_client, "get", "/suggestions/runs").json()
    month = send(moderator_client, "get", "/suggestions/runs?days=30").json()

    assert (week["dropped"], month["dropped"]) == (0, 1)
    assert send(moderator_client, "get", "/suggestions/runs?days=31").status_code == 422


def test_editing_a_suggestion_before_approving_keeps_its_first_wording(moderator_client):
    pending = suggestion("Kai has a cat named Tofu.")

    response = send(
        moderator_client, "post", "/suggest", {"id": pending.pk, "content": "Kai's cat: Tofu."}
    )

    assert response.status_code == 200
    pending.refresh_from_db()
    assert (pending.content, pending.suggested_content) == (
        "Kai's cat: Tofu.",
        "Kai has a cat named Tofu.",
    )
