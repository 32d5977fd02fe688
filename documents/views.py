from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from documents.selectors import documents_list
from memories.models import IMPORTANCE_DEFAULT, IMPORTANCE_MAX, IMPORTANCE_MIN


@login_required
def documents_page(request: HttpRequest) -> HttpResponse:
    """The documents page: the list is rendered here; uploads, polling and deletes go
    through the documents API (`/api/documents`)."""
    return render(
        request,
        "documents/documents.html",
        {
            "documents": documents_list()[:200],
            "max_upload_bytes": settings.LUMA_MAX_UPLOAD_BYTES,
            "importance_range": range(IMPORTANCE_MIN, IMPORTANCE_MAX + 1),
            "importance_default": IMPORTANCE_DEFAULT,
        },
    )
