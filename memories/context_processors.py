"""What every page's navigation shows about memories."""

from functools import partial

from django.http import HttpRequest

from memories.review import pending_count_for


def pending_review(request: HttpRequest) -> dict[str, object]:
    """`pending_review_count`: how many suggestions wait for this person's review
    (moderators and the owner: all; a viewer: those about them). A callable, so that
    the count is only asked for by a page that shows it (`{% with %}` it once)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"pending_review_count": partial(pending_count_for, user=user)}
