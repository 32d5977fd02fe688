from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from luma.services import runtime_settings_get


@login_required
def chat_page(request: HttpRequest) -> HttpResponse:
    row = runtime_settings_get()
    return render(
        request,
        "chat/chat.html",
        {"provider": row.get_provider_display(), "model": row.active_model, "row": row},
    )
