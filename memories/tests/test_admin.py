import pytest
from django.urls import reverse

from memories.models import Memory, MemorySource, MemoryStatus, SuggestionRun
from memories.services import memory_create, suggestion_run_record
from memories.tests.conftest import fts_rowids


def suggestion(content: str) -> Memory:
    return memory_create(content=content, source=MemorySource.AI_SUGGESTED, importance=6)


@pytest.mark.django_db
def test_admin_creates_a_memory(admin_client):
    response = admin_client.post(
        reverse("admin:memories_memory_add"),
        {
            "content": "Luma's birthday stream is on March 3rd.",
            "source": "manual",
            "status": "approved",
            "importance": "8",
            "tags": '["schedule"]',
            "subject_discord_id": "",
            "subject_name": "",
            "use_count": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    memory = Memory.objects.get()
    assert memory.tags == ["schedule"]
    assert memory.approved


@pytest.mark.django_db
def test_bulk_approve_approves_only_pending_suggestions(admin_client, admin_user):
    first, second = suggestion("Kai loves rhythm games."), suggestion("Mina is learning Rust.")
    already_rejected = suggestion("Zed hates cats.")
    already_rejected.status = MemoryStatus.REJECTED
    already_rejected.save()

    response = admin_client.post(
        reverse("admin:memories_memory_changelist"),
        {
            "action": "approve_suggestions",
            "_selected_action": [first.pk, second.pk, already_rejected.pk],
        },
        follow=True,
    )

    assert response.status_code == 200
    statuses = dict(Memory.objects.values_list("pk", "status"))
    assert statuses == {
        first.pk: "approved",
        second.pk: "approved",
        already_rejected.pk: "rejected",
    }
    first.refresh_from_db()
    assert first.reviewed_by == admin_user
    text = response.content.decode()
    assert "2 suggestion(s) approved." in text
    assert "1 skipped" in text


@pytest.mark.django_db
def test_bulk_reject_keeps_the_rejected_fact_on_record(admin_client):
    pending = suggestion("Kai's cat is called Mochi.")
    admin_client.post(
        reverse("admin:memories_memory_changelist"),
        {"action": "reject_suggestions", "_selected_action": [pending.pk]},
    )
    pending.refresh_from_db()
    assert pending.status == MemoryStatus.REJECTED
    assert pending.reviewed_at is not None


@pytest.mark.django_db
def test_changelist_filters_pending_and_searches_content(admin_client):
    suggestion("Kai loves rhythm games.")
    memory_create(content="The stream starts at 8pm CET.")
    response = admin_client.get(
        reverse("admin:memories_memory_changelist"), {"status__exact": "pending", "q": "rhythm"}
    )
    text = response.content.decode()
    assert "Kai loves rhythm games." in text
    assert "8pm CET" not in text


@pytest.mark.django_db
def test_admin_pages_need_a_staff_login(user_client, client):
    url = reverse("admin:memories_memory_changelist")
    assert client.get(url).status_code == 302
    assert user_client.get(url).status_code == 302


def found(query: str) -> list[str]:
    from memories.selectors import memory_rank

    return [item.memory.content for item in memory_rank(queryset=Memory.objects, query=query)]


@pytest.mark.django_db
def test_an_edit_in_the_admin_updates_the_search_index(admin_client, settings):
    settings.LUMA_EMBEDDING_SOURCE = "none"
    memory = memory_create(content="Kai streams on Fridays.")
    response = admin_client.post(
        reverse("admin:memories_memory_change", args=[memory.pk]),
        {
            "content": "Kai streams on Saturdays.",
            "source": "manual",
            "status": "approved",
            "importance": "5",
            "tags": "[]",
            "subject_discord_id": "",
            "subject_name": "",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert found("saturdays") == ["Kai streams on Saturdays."]
    assert found("fridays") == []


@pytest.mark.django_db
def test_deleting_in_the_admin_removes_memories_from_search(admin_client, settings):
    settings.LUMA_EMBEDDING_SOURCE = "none"
    one, two = memory_create(content="Kai likes tea."), memory_create(content="Mina likes tea.")
    admin_client.post(reverse("admin:memories_memory_delete", args=[one.pk]), {"post": "yes"})
    admin_client.post(
        reverse("admin:memories_memory_changelist"),
        {"action": "delete_selected", "_selected_action": [two.pk], "post": "yes"},
    )

    assert found("tea") == []
    assert not Memory.objects.exists()
    assert fts_rowids() in (set(), None)


def change_form(memory: Memory, **changes) -> dict:
    data = {
        "content": memory.content,
        "source": memory.source,
        "status": memory.status,
        "importance": str(memory.importance),
        "tags": "[]",
        "subject_discord_id": "",
        "subject_name": "",
    }
    return {**data, **changes}


@pytest.mark.django_db
@pytest.mark.parametrize("client_fixture", ["admin_client", "moderator_client"])
@pytest.mark.parametrize("verdict", ["approved", "rejected"])
def test_reviewing_in_the_change_form_records_the_reviewer(request, client_fixture, verdict):
    client = request.getfixturevalue(client_fixture)
    pending = suggestion("Kai streams on Fridays.")
    url = reverse("admin:memories_memory_change", args=[pending.pk])

    response = client.post(
        url, change_form(pending, status=verdict, content="Kai streams Fridays.")
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    pending.refresh_from_db()
    reviewer = client.get("/").wsgi_request.user
    assert (pending.status, pending.content) == (verdict, "Kai streams Fridays.")
    assert pending.reviewed_by == reviewer and pending.reviewed_at is not None


@pytest.mark.django_db
def test_approving_an_update_in_the_change_form_supersedes_the_memory(admin_client, admin_user):
    original = memory_create(content="Kai streams on Mondays.")
    update = memory_create(
        content="Kai streams on Fridays now.", source=MemorySource.AI_SUGGESTED, updates=original
    )
    url = reverse("admin:memories_memory_change", args=[update.pk])

    admin_client.post(url, {**change_form(update, status="approved"), "updates": original.pk})

    original.refresh_from_db()
    update.refresh_from_db()
    assert original.content == "Kai streams on Mondays." and original.valid_until is not None
    assert (update.status, update.supersedes) == ("approved", original)


@pytest.mark.django_db
def test_an_edit_in_the_admin_keeps_the_suggested_wording(admin_client):
    pending = suggestion("Kai streams on Fridays.")
    url = reverse("admin:memories_memory_change", args=[pending.pk])

    admin_client.post(
        url,
        change_form(
            pending, content="Kai streams Fridays.", suggested_content="Something else entirely."
        ),
    )

    pending.refresh_from_db()
    assert (pending.content, pending.suggested_content) == (
        "Kai streams Fridays.",
        "Kai streams on Fridays.",
    )


def lossy_run() -> SuggestionRun:
    return suggestion_run_record(
        reply_message_id=7,
        kept=1,
        decided=0,
        skipped=0,
        problems=["item 2: content: Field required"],
        answer='{"memories": [{"content": "Kai likes tea."}, {"importance": 7}]}',
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("client_fixture", "status"),
    [("client", 302), ("user_client", 302), ("moderator_client", 200), ("admin_client", 200)],
)
def test_moderators_and_the_owner_read_the_answers_that_lost_something(
    request, client_fixture, status
):
    run = lossy_run()
    suggestion_run_record(reply_message_id=8, kept=2, decided=0, skipped=0, problems=[], answer="")
    client = request.getfixturevalue(client_fixture)

    listing = client.get(reverse("admin:memories_suggestionrun_changelist") + "?understood=no")
    detail = client.get(reverse("admin:memories_suggestionrun_change", args=[run.pk]))

    assert (listing.status_code, detail.status_code) == (status, status)
    if status == 200:
        assert listing.context["cl"].result_count == 1
        text = detail.content.decode()
        assert "item 2: content: Field required" in text
        assert "{&quot;importance&quot;: 7}" in text


@pytest.mark.django_db
def test_suggestion_runs_cannot_be_added_or_changed_in_the_admin(admin_client):
    run = lossy_run()

    add = admin_client.get(reverse("admin:memories_suggestionrun_add"))
    admin_client.post(reverse("admin:memories_suggestionrun_change", args=[run.pk]), {"kept": "99"})

    assert add.status_code == 403
    run.refresh_from_db()
    assert run.kept == 1
