from datetime import timedelta

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from chat.charts import usage_chart
from chat.selectors import usage_by_day, usage_by_model
from luma.services import runtime_settings_get

USAGE_RANGES = (7, 30, 90, 365)


@login_required
def chat_page(request: HttpRequest) -> HttpResponse:
    row = runtime_settings_get()
    return render(
        request,
        "chat/chat.html",
        {
            "provider": row.get_provider_display(),
            "model": row.active_model,
            "row": row,
            "suggestions_enabled": row.memory_suggestions_enabled,
            "max_chars": settings.LUMA_MAX_MESSAGE_CHARS,
        },
    )


@login_required
def usage_page(request: HttpRequest) -> HttpResponse:
    days = int(request.GET["days"]) if request.GET.get("days", "").isdigit() else 30
    days = days if days in USAGE_RANGES else 30
    start = timezone.localtime() - timedelta(days=days - 1)
    since = start.replace(hour=0, minute=0, second=0, microsecond=0)
    by_model = usage_by_model(since=since)
    by_day = usage_by_day(since=since)
    return render(
        request,
        "chat/usage.html",
        {
            "days": days,
            "ranges": USAGE_RANGES,
            "chart": usage_chart(by_day),
            "by_model": by_model,
            "total_prompt": sum(row.prompt_tokens for row in by_model),
            "total_completion": sum(row.completion_tokens for row in by_model),
            "total_tokens": sum(row.total_tokens for row in by_model),
            "total_replies": sum(row.replies for row in by_model),
        },
    )
