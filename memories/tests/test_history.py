"""A memory's history and rollback: versions, restoring one, deleted memories
restored within 30 days (purged after), rejected suggestions back to pending."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from memories.history import DELETED_KEPT, memories_deleted_purge, memory_restore
from memories.models import Memory, MemorySource, MemoryStatus
from memories.services import (
    memories_delete,
    memory_approve,
    memory_create,
    memory_delete,
    memory_reject,
    memory_update,
)

pytestmark = pytest.mark.django_db


def send(client, method: str, path: str, payload=None):
    return getattr(client, method)(f"/api/memory{path}", payload, content_type="application/json")


def versions(memory_id: int) -> list:
    return list(Memory.history.filter(id=memory_id).order_by("-history_id"))


def age_deletion(memory_id: int, days: int) -> None:
    Memory.history.filter(id=memory_id, history_type="-").update(
        history_date=timezone.now() - timedelta(days=days)
    )


def test_the_history_lists_every_version_newest_first_with_who_where_and_what_changed(
    moderator_client, moderator_user
):
    memory = memory_create(content="Kai streams on Mondays.", source=MemorySource.AI_SUGGESTED)
    send(moderator_client, "post", "/suggest", {"id": memory.pk, "content": "Kai streams Fridays."})

    body = send(moderator_client, "get", f"/{memory.pk}/history").json()

    assert [v["action"] for v in body] == ["approved", "edited", "suggested"]
    assert body[0]["version"] > body[1]["version"] > body[2]["version"]
    assert [v["number"] for v in body] == [3, 2, 1]
    assert (body[1]["who"], body[1]["surface"], body[1]["changed"]) == ("mod", "web", ["content"])
    assert body[0]["changed"] == ["status"] and body[0]["fields"]["status"] == "approved"
    assert body[2]["fields"]["content"] == "Kai streams on Mondays."
    assert (body[2]["who"], body[2]["surface"]) == (None, "system")


def test_restoring_a_version_brings_back_its_text_and_is_itself_a_version(admin_client):
    """SIN-Code-Bundle #358 (an update overwrote the record; no revert) and MystenLabs/MemWal
    #509 (rollback as an append-only operation that is itself recorded)."""
    memory_create(content="Another memory's versions are counted apart.")
    memory = memory_create(content="Luma's mascot is a fox.", importance=4, tags=["lore"])
    first = versions(memory.pk)[0].history_id
    memory_update(memory=memory, content="Luma's mascot is a wolf.", importance=9)

    body = send(admin_client, "post", f"/{memory.pk}/restore", {"version": first}).json()

    assert (body["content"], body["importance"], body["tags"]) == (
        "Luma's mascot is a fox.",
        4,
        ["lore"],
    )
    newest = versions(memory.pk)[0]
    assert first > 1
    assert newest.history_change_reason == "restored version 1"  # its number, not its id
    assert (newest.surface, newest.content) == ("web", "Luma's mascot is a fox.")
    assert send(admin_client, "get", "/search?q=fox").json()["count"] == 1
    assert send(admin_client, "get", "/search?q=wolf").json()["count"] == 0


def test_an_edit_that_changes_nothing_adds_no_version():
    """gastownhall/beads #6538: a no-op mints no version."""
    memory = memory_create(content="Kai likes tea.", tags=["drinks"])
    memory_update(memory=memory, content="Kai likes tea.", tags=["Drinks"])
    assert len(versions(memory.pk)) == 1


def test_restoring_the_version_a_memory_already_has_adds_no_version(admin_user):
    memory = memory_create(content="Kai likes tea.")
    memory_restore(user=admin_user, memory_id=memory.pk, version=versions(memory.pk)[0].history_id)
    assert len(versions(memory.pk)) == 1


def test_a_version_of_another_memory_is_not_found(admin_client):
    one = memory_create(content="One.")
    other = memory_create(content="Other.")
    version = versions(other.pk)[0].history_id
    response = send(admin_client, "post", f"/{one.pk}/restore", {"version": version})
    assert response.status_code == 404
    assert "no version" in response.json()["message"]


def test_a_deleted_memory_is_listed_and_comes_back_under_its_old_id(user_client, user):
    """BasedHardware/omi #858 (undo a deleted memory) and gastownhall/beads #6538 (restore
    brings a deleted memory back under the same identity)."""
    memory = memory_create(content="I have a cat named Miso.", subject_user=user, importance=7)
    born = memory.created_at
    assert send(user_client, "delete", f"/{memory.pk}").status_code == 204

    listed = send(user_client, "get", "/deleted").json()
    assert [(d["id"], d["fields"]["content"], d["who"]) for d in listed] == [
        (memory.pk, "I have a cat named Miso.", "viewer")
    ]
    assert listed[0]["restorable_until"] > listed[0]["deleted_at"]
    body = send(user_client, "post", f"/{memory.pk}/restore", {}).json()

    assert (body["id"], body["content"], body["importance"]) == (memory.pk, memory.content, 7)
    assert Memory.objects.get(pk=memory.pk).created_at == born
    assert send(user_client, "get", "/search?q=miso").json()["count"] == 1
    assert send(user_client, "get", "/deleted").json() == []
    assert [v.history_type for v in versions(memory.pk)] == ["+", "-", "+"]


def test_a_deleted_memory_restores_an_earlier_version_when_asked(admin_user):
    memory = memory_create(content="First words.")
    memory_id, first = memory.pk, versions(memory.pk)[0].history_id
    memory_update(memory=memory, content="Second words.")
    memory_delete(memory=memory)
    restored = memory_restore(user=admin_user, memory_id=memory_id, version=first)
    assert restored.content == "First words."


def test_a_deletion_29_days_ago_is_still_restorable(admin_user):
    memory_id = memory_create(content="Almost forgotten.").pk
    memory_delete(memory=Memory.objects.get(pk=memory_id))
    age_deletion(memory_id, 29)
    memories_deleted_purge()
    assert memory_restore(user=admin_user, memory_id=memory_id).content == "Almost forgotten."


def test_a_deletion_over_30_days_ago_is_purged_and_cannot_be_restored(admin_client):
    gone, kept = memory_create(content="Long gone.").pk, memory_create(content="Lately.").pk
    memory_delete(memory=Memory.objects.get(pk=gone))
    memory_delete(memory=Memory.objects.get(pk=kept))
    age_deletion(gone, DELETED_KEPT.days + 1)

    out = io.StringIO()
    call_command("purge_deleted_memories", stdout=out)
    assert "Purged 2 version(s)" in out.getvalue()

    assert versions(gone) == []
    assert len(versions(kept)) == 2
    assert send(admin_client, "post", f"/{gone}/restore", {}).status_code == 404
    assert send(admin_client, "get", f"/{gone}/history").status_code == 404
    assert [d["id"] for d in send(admin_client, "get", "/deleted").json()] == [kept]


def test_a_memory_restored_then_deleted_again_counts_from_its_last_deletion(admin_user):
    memory_id = memory_create(content="Back and forth.").pk
    memory_delete(memory=Memory.objects.get(pk=memory_id))
    memory_restore(user=admin_user, memory_id=memory_id)
    age_deletion(memory_id, 40)  # that first deletion was long ago
    memory_delete(memory=Memory.objects.get(pk=memory_id))
    memories_deleted_purge()
    assert memory_restore(user=admin_user, memory_id=memory_id).content == "Back and forth."


def test_many_memories_deleted_at_once_are_each_restorable(admin_client):
    """lobehub/lobehub #15576: one action deleted all of someone's memories; each can
    come back."""
    made = [memory_create(content=f"Fact number {n}.") for n in range(3)]
    memories_delete(memory_ids=[m.pk for m in made])
    assert {d["id"] for d in send(admin_client, "get", "/deleted").json()} == {m.pk for m in made}
    for memory in made:
        assert send(admin_client, "post", f"/{memory.pk}/restore", {}).status_code == 200
    assert Memory.objects.count() == 3


def test_a_rejected_suggestion_goes_back_to_pending(moderator_client, moderator_user):
    suggestion = memory_create(content="Kai likes jazz.", source=MemorySource.AI_SUGGESTED)
    memory_reject(memory=suggestion, reviewer=moderator_user)

    body = send(moderator_client, "post", f"/{suggestion.pk}/restore", {}).json()

    assert body["status"] == "pending"
    suggestion.refresh_from_db()
    assert (suggestion.reviewed_by, suggestion.reviewed_at) == (None, None)
    assert versions(suggestion.pk)[0].history_change_reason == "back to pending"
    assert [m["id"] for m in send(moderator_client, "get", "/suggestions").json()] == [
        suggestion.pk
    ]
    memory_approve(memory=suggestion, reviewer=moderator_user)


def test_restoring_an_approved_memory_needs_a_version(admin_client):
    memory = memory_create(content="Streams at 8pm.")
    response = send(admin_client, "post", f"/{memory.pk}/restore", {})
    assert response.status_code == 400
    assert "Say which version" in response.json()["message"]
    assert send(admin_client, "post", f"/{memory.pk}/restore", {"version": 0}).status_code == 422


def test_a_viewer_sees_only_their_own_deleted_memories(user_client, user, other_user):
    mine = memory_create(content="Mine.", subject_user=user).pk
    theirs = memory_create(content="Theirs.", subject_user=other_user).pk
    world = memory_create(content="Everyone's.").pk
    for memory_id in (mine, theirs, world):
        memory_delete(memory=Memory.objects.get(pk=memory_id))
    assert [d["id"] for d in send(user_client, "get", "/deleted").json()] == [mine]
    assert send(user_client, "get", f"/{theirs}/history").status_code == 404
    assert send(user_client, "post", f"/{world}/restore", {}).status_code == 404


def test_a_memory_about_an_account_since_removed_cannot_be_restored(admin_client, other_user):
    memory = memory_create(content="Stranger's cat.", subject_user=other_user)
    other_user.delete()  # its memories go with it
    assert not Memory.objects.filter(pk=memory.pk).exists()
    response = send(admin_client, "post", f"/{memory.pk}/restore", {})
    assert response.status_code == 409
    assert "no longer has an account" in response.json()["message"]


def test_the_admin_shows_a_memorys_history_and_reverts_a_version(moderator_client):
    memory = memory_create(content="The mascot is a fox.")
    first = versions(memory.pk)[0]
    memory_update(memory=memory, content="The mascot is a wolf.")

    page = moderator_client.get(reverse("admin:memories_memory_history", args=[memory.pk]))
    assert page.status_code == 200
    assert b"The mascot is a fox." in page.content

    url = reverse("admin:memories_memory_simple_history", args=[memory.pk, first.history_id])
    assert moderator_client.get(url).status_code == 200
    form = {
        "content": "The mascot is a fox.",
        "source": "manual",
        "status": "approved",
        "importance": "5",
        "tags": "[]",
        "subject_discord_id": "",
        "subject_name": "",
    }
    moderator_client.post(url, form)
    memory.refresh_from_db()
    assert memory.content == "The mascot is a fox."
    newest = versions(memory.pk)[0]
    assert (newest.surface, newest.history_user.username) == ("admin", "mod")


def test_the_admin_history_links_who_changed_it_only_for_whom_may_open_their_page(
    moderator_client, admin_client, admin_user
):
    """Found trying Luma as a new user: a moderator's "changed by" link led to a
    "Not allowed" page (the user admin is the owner's)."""
    from memories.changes import Surface, memory_changes_by

    with memory_changes_by(surface=Surface.WEB, user=admin_user):
        memory = memory_create(content="The mascot is a fox.")
    url = reverse("admin:memories_memory_history", args=[memory.pk])
    user_page = reverse("admin:auth_user_change", args=[admin_user.pk])

    as_moderator = moderator_client.get(url).content.decode()
    assert admin_user.username in as_moderator and user_page not in as_moderator
    assert user_page in admin_client.get(url).content.decode()


def test_the_history_of_a_memory_someone_may_not_edit_is_not_found(user_client, other_user):
    theirs = memory_create(content="Stranger's secret.", subject_user=other_user)
    assert send(user_client, "get", f"/{theirs.pk}/history").status_code == 404
    assert send(user_client, "get", "/999999/history").status_code == 404


def test_status_changes_made_by_a_bulk_update_are_recorded_too(admin_user):
    suggestion = memory_create(content="Kai likes jazz.", source=MemorySource.AI_SUGGESTED)
    memory_approve(memory=suggestion, reviewer=admin_user)
    newest = versions(suggestion.pk)[0]
    assert (newest.status, newest.history_change_reason) == (MemoryStatus.APPROVED, "approved")


def test_bulk_changes_record_each_row_as_it_is_with_who_and_where(admin_user, django_user_model):
    """Bulk create, make-global and delete copy each row into its version in SQL
    (`_versions_record`): every tracked field, the user, the surface and the actor."""
    from memories.changes import Surface, memory_changes_by
    from memories.services import memories_create_bulk, memories_make_global

    viewer = django_user_model.objects.create_user("vee")
    rows = [
        Memory(
            content=f"Fact {n}",
            importance=n + 1,
            tags=["lore", f"n{n}"],
            status=MemoryStatus.APPROVED,
            source=MemorySource.DOCUMENT,
            subject_user=viewer,
            subject_name="Vee",
        )
        for n in range(3)
    ]
    with memory_changes_by(surface=Surface.IMPORT, user=admin_user):
        created = memories_create_bulk(memories=rows, embed=False)
    ids = [memory.pk for memory in created]
    for memory in created:
        (version,) = versions(memory.pk)
        assert (version.history_type, version.history_change_reason) == ("+", "imported")
        assert (version.surface, version.history_user) == ("import", admin_user)
        assert (version.content, version.importance, version.tags) == (
            memory.content, memory.importance, memory.tags,
        )  # fmt: skip
        assert (version.subject_user_id, version.subject_name) == (viewer.pk, "Vee")
    with memory_changes_by(surface=Surface.DISCORD, actor="mod#1"):
        memories_make_global(memory_ids=ids[:2])
        memories_delete(memory_ids=ids[1:])
    made_global = versions(ids[0])[0]
    assert (made_global.history_type, made_global.history_change_reason) == ("~", "made global")
    assert made_global.subject_user_id is None
    assert (made_global.surface, made_global.actor, made_global.history_user) == (
        "discord", "mod#1", None,
    )  # fmt: skip
    assert [v.history_type for v in versions(ids[1])] == ["-", "~", "+"]
    assert [v.history_type for v in versions(ids[2])] == ["-", "+"]
    assert versions(ids[2])[0].content == "Fact 2"
