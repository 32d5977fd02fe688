from typing import Any

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from luma.admin_site import ModeratorAccess
from luma.errors import LumaError
from memories.history import memory_restore
from memories.models import Memory, MemoryStatus, SuggestionRun
from memories.privacy import CATEGORY_LABELS
from memories.services import (
    memories_delete,
    memory_approve,
    memory_delete,
    memory_index_sync,
    memory_reject,
)


def _review_each(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Memory], verb: str
) -> None:
    review = memory_approve if verb == "approved" else memory_reject
    done = 0
    skipped = queryset.exclude(status=MemoryStatus.PENDING).count()
    for memory in queryset.filter(status=MemoryStatus.PENDING):
        try:
            review(memory=memory, reviewer=request.user)
            done += 1
        except LumaError:
            skipped += 1
    modeladmin.message_user(request, f"{done} suggestion(s) {verb}.", messages.SUCCESS)
    if skipped:
        modeladmin.message_user(
            request, f"{skipped} skipped: they were not pending.", messages.WARNING
        )


class CurrentFilter(admin.SimpleListFilter):
    title = "still true"
    parameter_name = "current"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("yes", "Current facts"), ("no", "Superseded (past) facts")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() in ("yes", "no"):
            return queryset.filter(valid_until__isnull=self.value() == "yes")
        return queryset


@admin.register(Memory)
class MemoryAdmin(ModeratorAccess, SimpleHistoryAdmin):
    """Memories, with each one's history ("History", top right: every version, who
    made it, from where; open a version and "Revert" to restore it)."""

    history_list_display = ["surface", "actor", "status", "content_short"]

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict | None = None
    ) -> Any:
        """The versions, with "changed by" linking to the user's page only for whom
        may open it (a moderator got a "Not allowed" page)."""
        user_model = get_user_model()._meta
        if not request.user.has_perm(f"{user_model.app_label}.change_{user_model.model_name}"):
            extra_context = {**(extra_context or {}), "admin_user_view": ""}
        return super().history_view(request, object_id, extra_context)

    list_display = [
        "content_short",
        "source",
        "status",
        "importance",
        "subject",
        "use_count",
        "created_at",
    ]
    list_filter = [
        "status",
        CurrentFilter,
        "source",
        "importance",
        ("subject_user", admin.EmptyFieldListFilter),
        ("auto_approved_at", admin.EmptyFieldListFilter),  # auto-approved, not looked at yet
    ]
    search_fields = ["content", "tags", "subject_name", "subject_discord_id"]
    readonly_fields = [
        "suggested_content",
        "confidence",
        "auto_approved_at",
        "use_count",
        "last_used_at",
        "reviewed_by",
        "reviewed_at",
        "valid_until",
        "created_at",
        "updated_at",
    ]
    raw_id_fields = ["subject_user", "updates", "supersedes", "created_by"]
    actions = ["approve_suggestions", "reject_suggestions", "back_to_pending"]
    date_hierarchy = "created_at"

    def save_model(self, request: HttpRequest, obj: Memory, form: Any, change: bool) -> None:
        """Save the form; a new status of approved or rejected goes through the review
        service like the bulk actions, so the reviewer and the time are recorded."""
        verdict = obj.status if change and "status" in form.changed_data else None
        if verdict is not None:
            obj.status = MemoryStatus.PENDING
        super().save_model(request, obj, form, change)
        memory_index_sync(memory=obj)
        if verdict == MemoryStatus.APPROVED:
            memory_approve(memory=obj, reviewer=request.user)
        elif verdict == MemoryStatus.REJECTED:
            memory_reject(memory=obj, reviewer=request.user)

    def delete_model(self, request: HttpRequest, obj: Memory) -> None:
        memory_delete(memory=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Memory]) -> None:
        memories_delete(memory_ids=list(queryset.values_list("pk", flat=True)))

    @admin.display(description="content", ordering="content")
    def content_short(self, memory: Memory) -> str:
        return memory.content if len(memory.content) <= 90 else memory.content[:89] + "…"

    @admin.display(description="about")
    def subject(self, memory: Memory) -> str:
        return memory.subject_label

    @admin.action(description="Approve selected suggestions")
    def approve_suggestions(self, request: HttpRequest, queryset: QuerySet[Memory]) -> None:
        _review_each(self, request, queryset, "approved")

    @admin.action(description="Reject selected suggestions")
    def reject_suggestions(self, request: HttpRequest, queryset: QuerySet[Memory]) -> None:
        _review_each(self, request, queryset, "rejected")

    @admin.action(description="Put rejected suggestions back to pending")
    def back_to_pending(self, request: HttpRequest, queryset: QuerySet[Memory]) -> None:
        rejected = list(queryset.filter(status=MemoryStatus.REJECTED).values_list("pk", flat=True))
        for memory_id in rejected:
            memory_restore(user=request.user, memory_id=memory_id)
        self.message_user(request, f"{len(rejected)} suggestion(s) back to pending.")


class DroppedFilter(admin.SimpleListFilter):
    title = "understood"
    parameter_name = "understood"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("no", "Something could not be understood"), ("yes", "Everything understood")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "no":
            return queryset.filter(dropped__gt=0)
        if self.value() == "yes":
            return queryset.filter(dropped=0)
        return queryset


@admin.register(SuggestionRun)
class SuggestionRunAdmin(ModeratorAccess, admin.ModelAdmin):
    """Read-only: what became of each answer to a suggestion request, for the
    moderators to see what the model says that Luma could not understand."""

    list_display = [
        "created_at",
        "reply_message_id",
        "kept",
        "dropped",
        "decided",
        "skipped",
        "withheld",
    ]
    list_filter = [DroppedFilter, "created_at"]
    fields = [
        "created_at",
        "reply_message_id",
        "kept",
        "dropped",
        "decided",
        "skipped",
        "withheld",
        "what_was_withheld",
        "why_dropped",
        "answer",
    ]
    readonly_fields = fields
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest, *args: object) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.display(description="why dropped")
    def why_dropped(self, run: SuggestionRun) -> str:
        return "; ".join(run.problems) or "-"

    @admin.display(description="what was withheld")
    def what_was_withheld(self, run: SuggestionRun) -> str:
        """The kinds only (a secret is never kept): "phone number: 2, password: 1"."""
        kinds = run.withheld_categories.items()
        return ", ".join(f"{CATEGORY_LABELS.get(k, k)}: {n}" for k, n in kinds) or "-"
