from datetime import timedelta

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from chat.charts import usage_chart
from chat.selectors import usage_by_day, usage_by_model
from documents.services import document_upload_allowed
from luma.roles import Role, page_role_required, role_of
from luma.services import runtime_settings_get
from providers.registry import provider_model

USAGE_RANGES = (7, 30, 90, 365)


@page_role_required(Role.VIEWER, action="chat")
def chat_page(request: HttpRequest) -> HttpResponse:
    row = runtime_settings_get()
    return render(
        request,
        "chat/chat.html",
        {
            "provider": row.get_provider_display(),
            "model": provider_model(row),
            "row": row,
            "show_suggestions": row.memory_suggestions_enabled,
            "can_upload": document_upload_allowed(user=request.user),
            "max_chars": settings.LUMA_MAX_MESSAGE_CHARS,
        },
    )


@page_role_required(Role.VIEWER, action="see token usage")
def usage_page(request: HttpRequest) -> HttpResponse:
    """Everyone's usage for the owner; for anyone else, the replies to their own chats."""
    owner = None if role_of(request.user) == Role.OWNER else request.user
    days = int(request.GET["days"]) if request.GET.get("days", "").isdigit() else 30
    days = days if days in USAGE_RANGES else 30
    start = timezone.localtime() - timedelta(days=days - 1)
    since = start.replace(hour=0, minute=0, second=0, microsecond=0)
    by_model = usage_by_model(since=since, owner=owner)
    by_day = usage_by_day(since=since, owner=owner)
    return render(
        request,
        "chat/usage.html",
        {
            "days": days,
            "everyone": owner is None,
            "ranges": USAGE_RANGES,
            "chart": usage_chart(by_day),
            "by_model": by_model,
            "total_prompt": sum(row.prompt_tokens for row in by_model),
            "total_completion": sum(row.completion_tokens for row in by_model),
            "total_tokens": sum(row.total_tokens for row in by_model),
            "total_replies": sum(row.replies for row in by_model),
        },
    )
