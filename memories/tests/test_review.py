"""Review at volume: bulk decisions, undo, near-duplicate groups, the pending count, and
auto-approval's undo and listing (`memories.review` and its API). Auto-approval on
arrival, from the chat's suggestions, is tested in chat/tests/test_auto_approval.py."""

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from memories.models import Memory, MemorySource, MemoryStatus
from memories.review import (
    auto_approvals_undo_day,
    suggestion_groups,
    suggestions_review,
    suggestions_undo,
)
from memories.services import memory_approve, memory_create, memory_reject

pytestmark = pytest.mark.django_db


def suggest(content: str, **fields) -> Memory:
    return memory_create(content=content, source=MemorySource.AI_SUGGESTED, **fields)


def post(client: Client, url: str, body: dict):
    return client.post(url, json.dumps(body), content_type="application/json")


def status_of(*memories: Memory) -> list[str]:
    return [Memory.objects.get(pk=memory.pk).status for memory in memories]


def reasons(memory: Memory) -> list[str]:
    return list(
        Memory.history.filter(id=memory.pk)
        .order_by("history_id")
        .values_list("history_change_reason", flat=True)
    )


# ---- bulk decisions ------------------------------------------------------------------


def test_many_suggestions_are_rejected_in_one_call_and_recorded(moderator_client, moderator_user):
    made = [suggest(f"Fact number {n} about the stream.") for n in range(3)]

    response = post(
        moderator_client,
        "/api/memory/suggestions/review",
        {"ids": [m.pk for m in made], "decision": "reject"},
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert sorted(body["undo_ids"]) == sorted(m.pk for m in made)
    assert body["pending_count"] == 0
    assert status_of(*made) == ["rejected"] * 3
    assert reasons(made[0])[-1] == "rejected"
    assert Memory.history.filter(id=made[0].pk).first().history_user == moderator_user


def test_a_viewer_cannot_decide_someone_elses_suggestion_in_a_batch(user_client, user, other_user):
    """All or nothing: one foreign id refuses the batch and names it, and the viewer's
    own suggestion stays pending."""
    own = suggest("Viewer likes jazz.", subject_user=user)
    theirs = suggest("Stranger likes metal.", subject_user=other_user)

    response = post(
        user_client,
        "/api/memory/suggestions/review",
        {"ids": [own.pk, theirs.pk], "decision": "approve"},
    )

    assert response.status_code == 404
    assert str(theirs.pk) in response.json()["message"]
    assert response.json()["not_found"] == [theirs.pk]
    assert status_of(own, theirs) == ["pending", "pending"]


def test_a_batch_with_one_suggestion_already_reviewed_changes_nothing(moderator_client):
    first, second = suggest("Luma's mascot is a fox."), suggest("Luma streams on Sundays.")
    memory_reject(memory=second)

    response = post(
        moderator_client,
        "/api/memory/suggestions/review",
        {"ids": [first.pk, second.pk], "decision": "approve"},
    )

    assert response.status_code == 409
    assert response.json()["already_reviewed"] == [second.pk]
    assert status_of(first, second) == ["pending", "rejected"]


@pytest.mark.parametrize(
    "body, message",
    [
        ({"ids": [], "decision": "approve"}, "ids"),
        ({"ids": [1, 1], "decision": "approve"}, "each suggestion once"),
        ({"ids": [1], "decision": "maybe"}, "decision"),
        ({"ids": [1], "decision": "approve", "duplicates": [{"of": 2, "ids": [3]}]}, "duplicates"),
        ({"ids": [1], "decision": "approve", "duplicates": [{"of": 1, "ids": [1]}]}, "once"),
        ({"ids": [0], "decision": "approve"}, "greater than or equal"),
        ({"ids": [1, 2], "decision": "approve", "content": "x y z"}, "Edits"),
        ({"ids": [1], "decision": "reject", "content": "x y z"}, "Edits"),
    ],
)
def test_a_malformed_review_is_refused_with_what_is_wrong(moderator_client, body, message):
    response = post(moderator_client, "/api/memory/suggestions/review", body)

    assert response.status_code in (400, 422)
    assert message.lower() in json.dumps(response.json()).lower()


def test_approving_a_group_keeps_one_and_rejects_the_rest_as_its_duplicates(moderator_user):
    kept = suggest("Kai's cat is called Miso.")
    same = [suggest("Kai's cat is called Miso!"), suggest("kai's CAT is called miso")]

    outcome = suggestions_review(
        user=moderator_user,
        ids=[kept.pk],
        decision="approve",
        duplicates={kept.pk: [m.pk for m in same]},
        content="Kai's cat is named Miso.",
    )

    assert [m.pk for m in outcome.approved] == [kept.pk]
    assert Memory.objects.get(pk=kept.pk).content == "Kai's cat is named Miso."
    assert status_of(*same) == ["rejected", "rejected"]
    assert reasons(same[0])[-1] == f"rejected: duplicate of {kept.pk}"


# ---- undo ------------------------------------------------------------------------------


def test_undoing_an_approval_makes_the_superseded_fact_current_again(moderator_client):
    old = memory_create(content="Kai streams on Fridays.")
    update = suggest("Kai streams on Saturdays now.", updates=old)
    approved = post(
        moderator_client,
        "/api/memory/suggestions/review",
        {"ids": [update.pk], "decision": "approve"},
    ).json()
    assert Memory.objects.get(pk=old.pk).valid_until is not None

    response = post(moderator_client, "/api/memory/suggestions/undo", {"ids": approved["undo_ids"]})

    assert response.status_code == 200, response.content
    back = Memory.objects.get(pk=update.pk)
    assert (back.status, back.supersedes_id, back.reviewed_by) == ("pending", None, None)
    assert Memory.objects.get(pk=old.pk).valid_until is None
    assert reasons(back)[-1] == "decision undone"
    assert response.json()["pending_count"] == 1
    # Approved again, it supersedes the old fact again.
    memory_approve(memory=back)
    assert Memory.objects.get(pk=old.pk).valid_until is not None


def test_undoing_a_group_brings_every_member_back(moderator_user):
    kept, same = suggest("Kai owns a red guitar."), suggest("Kai owns a red guitar!")
    outcome = suggestions_review(
        user=moderator_user, ids=[kept.pk], decision="approve", duplicates={kept.pk: [same.pk]}
    )

    suggestions_undo(user=moderator_user, ids=outcome.ids)

    assert status_of(kept, same) == ["pending", "pending"]


def test_undo_brings_back_the_wording_that_was_pending(moderator_user):
    suggestion = suggest("Kai likes teh rain.")
    memory_reject(memory=suggestion)

    (back,) = suggestions_undo(user=moderator_user, ids=[suggestion.pk])

    assert (back.status, back.content) == ("pending", "Kai likes teh rain.")


def test_a_memory_a_person_wrote_cannot_be_undone_to_pending(moderator_client):
    written = memory_create(content="Streams start at 8pm.")

    response = post(moderator_client, "/api/memory/suggestions/undo", {"ids": [written.pk]})

    assert response.status_code == 409
    assert "not an AI suggestion" in response.json()["message"]
    assert status_of(written) == ["approved"]


def test_a_viewer_undoes_only_their_own_decisions(user_client, user, other_user):
    own, theirs = suggest("Viewer plays chess.", subject_user=user), suggest("Stranger sings.")
    memory_reject(memory=own)
    memory_reject(memory=theirs)

    refused = post(user_client, "/api/memory/suggestions/undo", {"ids": [own.pk, theirs.pk]})
    allowed = post(user_client, "/api/memory/suggestions/undo", {"ids": [own.pk]})

    assert refused.status_code == 404
    assert allowed.status_code == 200
    assert status_of(own, theirs) == ["pending", "rejected"]


# ---- near-duplicates ----------------------------------------------------------------------


def test_suggestions_saying_the_same_thing_about_one_person_are_grouped(user, other_user):
    first = suggest("Kai has a cat named Miso.", subject_user=user)
    again = suggest("Kai has a cat named Miso!", subject_user=user)
    subset = suggest("Kai has a cat named Miso, a tabby.", subject_user=user)
    someone_else = suggest("Kai has a cat named Miso.", subject_user=other_user)
    different_day = suggest("Kai streams on Fridays.", subject_user=user)
    other_day = suggest("Kai streams on Saturdays.", subject_user=user)

    lead = suggestion_groups([first, again, subset, someone_else, different_day, other_day])

    assert lead[again.pk] == first.pk
    assert lead[someone_else.pk] == someone_else.pk
    assert lead[other_day.pk] == other_day.pk  # a different fact, however close in meaning
    assert lead[different_day.pk] == different_day.pk
    assert lead[subset.pk] in (first.pk, subset.pk)


def test_a_time_written_with_and_without_a_space_is_one_suggestion(lexical_only):
    spaced = suggest("The stream starts at 8 pm on Fridays.")
    joined = suggest("The stream starts at 8PM on Fridays.")
    other_time = suggest("The stream starts at 9pm on Fridays.")
    flat = suggest("Kai lives in flat 1a.")
    other_flat = suggest("Kai lives in flat 1b.")

    lead = suggestion_groups([spaced, joined, other_time, flat, other_flat])

    assert lead[joined.pk] == spaced.pk
    assert lead[other_time.pk] == other_time.pk
    assert lead[other_flat.pk] == other_flat.pk


def test_the_pending_list_says_each_suggestions_group_and_puts_members_after_it(
    moderator_client,
):
    alone = suggest("Luma's favourite colour is teal.")
    lead = suggest("The community mascot is a purple axolotl.")
    member = suggest("The community mascot is a purple axolotl!")

    items = moderator_client.get("/api/memory/suggestions").json()

    ids = [item["id"] for item in items]
    group = {item["id"]: item["group_id"] for item in items}
    assert group[lead.pk] == group[member.pk] == ids[ids.index(group[lead.pk])]
    assert abs(ids.index(lead.pk) - ids.index(member.pk)) == 1
    assert group[alone.pk] == alone.pk


# ---- the pending count ------------------------------------------------------------------


def test_the_navigation_counts_the_suggestions_each_person_may_review(
    user_client, moderator_client, user, other_user
):
    suggest("Viewer likes tea.", subject_user=user)
    suggest("Stranger likes coffee.", subject_user=other_user)
    suggest("Streams start at 8pm.")

    def badge(client: Client) -> str:
        html = client.get("/memory/").content.decode()
        start = html.index('id="nav-pending-count"')
        return html[start : html.index("</span></span>", start)].rsplit(">", 1)[-1]

    assert badge(user_client) == "1"
    assert badge(moderator_client) == "3"
    assert user_client.get("/api/memory/suggestions/count").json() == {"pending": 1}


def test_the_badge_is_hidden_when_nothing_waits(user_client):
    html = user_client.get("/memory/").content.decode()

    assert 'id="nav-pending-count" title="Suggestions waiting for your review" hidden' in html


# ---- auto-approval ----------------------------------------------------------------------


def auto_approved(content: str, *, days_ago: int = 0, **fields) -> Memory:
    memory = suggest(content, **fields)
    when = timezone.now() - timedelta(days=days_ago)
    Memory.objects.filter(pk=memory.pk).update(status=MemoryStatus.APPROVED, auto_approved_at=when)
    return Memory.objects.get(pk=memory.pk)


def test_one_switch_sends_a_whole_days_auto_approvals_back_to_review(
    moderator_client, moderator_user
):
    today = [auto_approved("Luma likes melon bread."), auto_approved("Luma fears spiders.")]
    yesterday = auto_approved("Luma collects stamps.", days_ago=1)
    kept = auto_approved("Luma sings on Sundays.")
    suggestions_review(user=moderator_user, ids=[kept.pk], decision="approve")
    day = timezone.localdate()

    listed = moderator_client.get("/api/memory/auto-approved").json()
    response = post(moderator_client, "/api/memory/auto-approved/undo", {"day": day.isoformat()})

    assert listed[0] == {"day": day.isoformat(), "count": 2}
    assert response.status_code == 200, response.content
    assert sorted(item["id"] for item in response.json()["items"]) == sorted(m.pk for m in today)
    assert status_of(*today) == ["pending", "pending"]
    assert all(not Memory.objects.get(pk=m.pk).auto_approved for m in today)
    assert reasons(today[0])[-1] == "auto-approval undone"
    assert status_of(yesterday, kept) == ["approved", "approved"]
    assert not Memory.objects.get(pk=kept.pk).auto_approved


def test_only_moderators_undo_a_days_auto_approvals(user_client, user):
    mine = auto_approved("Viewer likes tea.", subject_user=user)

    response = post(
        user_client, "/api/memory/auto-approved/undo", {"day": str(timezone.localdate())}
    )

    assert response.status_code == 403
    assert status_of(mine) == ["approved"]
    with pytest.raises(Exception, match="Only moderators"):
        auto_approvals_undo_day(user=user, day=timezone.localdate())


def test_auto_approved_memories_are_listed_for_a_later_look(moderator_client):
    waiting = auto_approved("Luma's rival is a robot.")
    memory_create(content="Luma's friend is a ghost.")

    listed = moderator_client.get("/api/memory/search?auto_approved=true").json()["items"]

    assert [item["memory"]["id"] for item in listed] == [waiting.pk]
    assert listed[0]["memory"]["auto_approved_at"] is not None


def test_rejecting_an_auto_approved_memory_takes_its_approval_back(moderator_user):
    memory = auto_approved("Luma hates rain.")

    suggestions_review(user=moderator_user, ids=[memory.pk], decision="reject")

    found = Memory.objects.get(pk=memory.pk)
    assert (found.status, found.auto_approved) == ("rejected", False)


# ---- settings -----------------------------------------------------------------------------


def test_the_owner_sets_auto_approval_through_the_api(admin_client):
    response = admin_client.put(
        "/api/settings",
        json.dumps(
            {
                "auto_approve_enabled": True,
                "auto_approve_sources": ["discord"],
                "auto_approve_min_importance": 9,
                "auto_approve_min_confidence": 0.75,
            }
        ),
        content_type="application/json",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["auto_approve_enabled"], body["auto_approve_sources"]) == (True, ["discord"])
    assert (body["auto_approve_min_importance"], body["auto_approve_min_confidence"]) == (9, 0.75)


@pytest.mark.parametrize(
    "change",
    [
        {"auto_approve_sources": ["youtube"]},
        {"auto_approve_min_confidence": 1.5},
        {"auto_approve_min_importance": 0},
    ],
)
def test_bad_auto_approval_settings_are_refused(admin_client, change):
    response = admin_client.put(
        "/api/settings", json.dumps(change), content_type="application/json"
    )

    assert response.status_code == 422


def test_auto_approval_starts_off(admin_client):
    body = admin_client.get("/api/settings").json()

    assert (body["auto_approve_enabled"], body["auto_approve_sources"]) == (False, [])


def test_the_settings_page_saves_auto_approval(admin_client):
    page = admin_client.get("/settings/")
    form = page.context["form"]
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(
        auto_approve_enabled="on",
        auto_approve_sources=["web", "discord"],
        auto_approve_min_importance="8",
        auto_approve_min_confidence="0.85",
        deepseek_api_key="",
    )
    data = {k: v for k, v in data.items() if v is not False}

    response = admin_client.post("/settings/", data)

    assert response.status_code == 302, response.context["form"].errors
    body = admin_client.get("/api/settings").json()
    assert body["auto_approve_sources"] == ["web", "discord"]
    assert body["auto_approve_min_confidence"] == 0.85


# ---- confidence, as the model writes it ------------------------------------------------------


# ---- field cases: public reports about review queues and bulk moderation ------------------


def test_a_large_selection_is_decided_in_one_request(moderator_client):
    """BasedHardware/omi#10364: a bulk delete sent one request per memory, hit 429s and
    left a half-done selection. Here one request decides 150 suggestions, all or nothing,
    and 201 are refused with the limit named."""
    made = [suggest(f"Viewer {n} likes the number {n}.") for n in range(150)]

    response = post(
        moderator_client,
        "/api/memory/suggestions/review",
        {"ids": [m.pk for m in made], "decision": "reject"},
    )
    too_many = post(
        moderator_client,
        "/api/memory/suggestions/review",
        {"ids": list(range(1, 202)), "decision": "reject"},
    )

    assert response.status_code == 200
    assert Memory.objects.filter(status=MemoryStatus.REJECTED).count() == 150
    assert too_many.status_code == 422
    assert "200" in json.dumps(too_many.json())


def test_the_same_fact_suggested_twice_is_one_decision(moderator_user, user):
    """1818TusculumSt/owui-adaptive-memory#43: "i like cats" sent twice became two
    memories. Two pending suggestions saying it form one group, and approving the group
    keeps one and rejects the repeat as its duplicate."""
    first = suggest("Viewer likes cats.", subject_user=user)
    again = suggest("viewer likes cats", subject_user=user)

    lead = suggestion_groups([again, first])
    suggestions_review(
        user=moderator_user, ids=[again.pk], decision="approve", duplicates={again.pk: [first.pk]}
    )

    assert lead[first.pk] == again.pk
    assert status_of(again, first) == ["approved", "rejected"]


def test_an_approval_made_by_accident_is_revoked_later(moderator_user):
    """exercism/exercism#3891 and photoprism/photoprism#3091: an approval given by a
    slip could not be taken back into the review queue. Any decided suggestion goes
    back to pending, not only the last decision, and the others stay decided."""
    slip, meant = suggest("Luma's voice actor is Bob."), suggest("Luma loves karaoke.")
    suggestions_review(user=moderator_user, ids=[slip.pk], decision="approve")
    suggestions_review(user=moderator_user, ids=[meant.pk], decision="approve")

    suggestions_undo(user=moderator_user, ids=[slip.pk])

    assert status_of(slip, meant) == ["pending", "approved"]


def test_the_empty_queue_says_where_suggestions_are_turned_on_only_to_the_owner(
    user_client, moderator_client, admin_client
):
    """A viewer or moderator has no Settings page: they are told who turns it on."""
    owner = admin_client.get("/memory/").content.decode()
    assert '“Let the AI suggest memories” is on in <a href="/settings/">Settings</a>' in owner
    for client in (user_client, moderator_client):
        page = client.get("/memory/").content.decode()
        assert "When the AI suggests memories (the owner turns that on)" in page
        assert 'in <a href="/settings/">Settings</a>, new ones' not in page
