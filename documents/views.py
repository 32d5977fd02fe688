from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from documents.selectors import documents_visible_to
from documents.services import document_upload_allowed
from luma.roles import Role, page_role_required
from memories.models import IMPORTANCE_DEFAULT, IMPORTANCE_MAX, IMPORTANCE_MIN


@page_role_required(Role.VIEWER, action="see documents")
def documents_page(request: HttpRequest) -> HttpResponse:
    """The documents page: the list is rendered here; uploads, polling and deletes go
    through the documents API (`/api/documents`)."""
    return render(
        request,
        "documents/documents.html",
        {
            "documents": documents_visible_to(user=request.user)[:200],
            "can_upload": document_upload_allowed(user=request.user),
            "max_upload_bytes": settings.LUMA_MAX_UPLOAD_BYTES,
            "importance_range": range(IMPORTANCE_MIN, IMPORTANCE_MAX + 1),
            "importance_default": IMPORTANCE_DEFAULT,
        },
    )
