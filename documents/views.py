from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from documents.models import DocumentKind
from documents.schemas import DocumentChunkOut
from documents.selectors import document_chunks, document_get, documents_visible_to
from documents.services import document_change_allowed, document_upload_allowed
from luma.errors import NotFound
from luma.roles import Role, page_role_required
from memories.models import IMPORTANCE_DEFAULT, IMPORTANCE_MAX, IMPORTANCE_MIN

CHUNKS_PER_PAGE = 100


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


@page_role_required(Role.VIEWER, action="see documents")
def document_page(request: HttpRequest, document_id: int) -> HttpResponse:
    """What Luma learned from one document: its chunks (in the API's shape), what reading
    left out, and for those who may change it, deleting chunks and reading it again
    (through the documents API)."""
    try:
        document = document_get(document_id=document_id, user=request.user)
    except NotFound as missing:
        raise Http404(missing.message) from None
    chunks = Paginator(document_chunks(document=document), CHUNKS_PER_PAGE)
    page = chunks.get_page(request.GET.get("page"))
    return render(
        request,
        "documents/document.html",
        {
            "document": document,
            "page": page,
            "chunks": [DocumentChunkOut.from_orm(chunk) for chunk in page],
            "can_change": document_change_allowed(document=document, user=request.user),
            "is_workbook": document.kind == DocumentKind.XLSX,
        },
    )
