import pytest

from memories.dedupe import memory_relation, normalised_text
from memories.models import Memory, MemorySource
from memories.services import memory_approve, memory_create, memory_reject, memory_update
from memories.subjects import Subject

pytestmark = pytest.mark.django_db

ORIGINAL = "Kai has a cat named Tofu."


def suggestion(content: str = ORIGINAL, **fields) -> Memory:
    return memory_create(content=content, source=MemorySource.AI_SUGGESTED, **fields)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Kai likes tea.", "kai likes tea"),
        ("  KAI   likes\ttea!! ", "kai likes tea"),
        ("Kai likes \uff34\uff25\uff21", "kai likes tea"),  # full-width letters
        ("Kai's o\ufb03ce", "kai s office"),  # the ffi ligature
        ("STRASSE", "strasse"),
        ("Stra\u00dfe", "strasse"),  # casefold: sharp s
        ("Streams at 8PM, 10:30pm too", "streams at 8 pm 10 30 pm too"),  # number and unit
        ("Runs 5km in flat 1a", "runs 5 km in flat 1a"),  # a one-letter unit stays
    ],
)
def test_normalised_text_folds_case_width_punctuation_and_spacing(text, expected):
    assert normalised_text(text) == expected


def test_an_edited_update_keeps_its_first_wording_in_the_memory_that_supersedes(user):
    original = memory_create(content="Kai has a dog named Rex.", subject_user=user)
    update = suggestion(subject_user=user, updates=original)

    result = memory_approve(memory=update, content="Kai has a dog named Rex and a cat, Tofu.")

    result.refresh_from_db()
    assert (result.pk, result.suggested_content, result.supersedes) == (
        update.pk,
        ORIGINAL,
        original,
    )
    assert memory_relation(content=ORIGINAL, subject=Subject(user_id=user.pk)) == (
        "decided",
        result,
    )


@pytest.mark.parametrize(
    ("review", "candidate", "expected"),
    [
        ("rejected", ORIGINAL, "decided"),
        ("rejected", "kai has a cat named tofu", "decided"),
        ("edited and rejected", ORIGINAL, "decided"),
        ("edited and rejected", "Kai's cat is Tofu.", "decided"),
        ("edited and approved", ORIGINAL, "decided"),
        ("edited and approved", "  KAI has a cat, named Tofu! ", "decided"),
        ("edited and approved", "Kai's ginger cat is called Tofu.", "duplicate"),
        ("approved as suggested", ORIGINAL, "duplicate"),
        ("pending", ORIGINAL, "duplicate"),
    ],
)
def test_a_wording_a_person_decided_on_is_recognised(
    user, lexical_only, review, candidate, expected
):
    memory = suggestion(subject_user=user)
    if review.startswith("edited"):
        new_text = (
            "Kai's ginger cat is called Tofu." if "approved" in review else "Kai's cat is Tofu."
        )
        memory_update(memory=memory, content=new_text)
    if review.endswith("rejected"):
        memory_reject(memory=memory)
    elif review != "pending":
        memory_approve(memory=memory)

    relation, found = memory_relation(content=candidate, subject=Subject(user_id=user.pk))

    assert (relation, found) == (expected, memory)


def test_a_decided_wording_about_someone_else_is_new(user, other_user, lexical_only):
    memory_reject(memory=suggestion(subject_user=other_user))

    assert memory_relation(content=ORIGINAL, subject=Subject(user_id=user.pk)) == ("new", None)
    assert memory_relation(content=ORIGINAL, subject=Subject()) == ("new", None)
