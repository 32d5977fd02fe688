from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import File, Form, Router, Status, UploadedFile
from ninja.pagination import paginate

from documents.models import Document
from documents.schemas import DocumentOut
from documents.selectors import document_get, documents_visible_to
from documents.services import document_create, document_delete, document_upload_check
from luma.ratelimit import rate_limit_check
from memories.models import IMPORTANCE_DEFAULT

router = Router()


@router.post(
    "",
    response={200: DocumentOut, 201: DocumentOut},
    summary="Upload a document (PDF, XLSX, CSV, JSON or text) to feed the memory",
    description="Multipart field `file`; optional `importance` (1-10) for its memories and "
    "`include_hidden_sheets` (a workbook's hidden sheets are left out otherwise; `notes` "
    "on the document says what was left out). "
    "The document is read in the background: poll `GET /api/documents/{id}` until `status` "
    "is `done` (with `chunk_count`) or `failed` (with `error`). 201 for a new document; 200 "
    "when the same content was uploaded before (that document is returned, not a copy). "
    "Too large: 413; not a supported type: 415; past the per-user upload rate: 429. "
    "Moderators and the owner may upload; viewers when the owner allows it (403 "
    "otherwise), and a viewer's document becomes memories about them only.",
)
def document_upload(
    request: HttpRequest,
    file: File[UploadedFile],
    importance: Form[int] = IMPORTANCE_DEFAULT,
    include_hidden_sheets: Form[bool] = False,
) -> Status[Document]:
    document_upload_check(user=request.user)
    rate_limit_check(scope="upload", who=f"user-{request.user.pk}", rate=settings.LUMA_UPLOAD_RATE)
    document, created = document_create(
        file=file,
        name=file.name or "document",
        uploaded_by=request.user,
        importance=importance,
        include_hidden_sheets=include_hidden_sheets,
    )
    return Status(201 if created else 200, document)


@router.get(
    "",
    response=list[DocumentOut],
    summary="Uploaded documents, newest first (a viewer sees their own uploads)",
)
@paginate
def document_list(request: HttpRequest) -> QuerySet[Document]:
    return documents_visible_to(user=request.user)


@router.get(
    "/{document_id}",
    response=DocumentOut,
    summary="A document: status (queued, processing, done, failed), progress, error, chunk count",
)
def document_detail(request: HttpRequest, document_id: int) -> Document:
    return document_get(document_id=document_id, user=request.user)


@router.delete(
    "/{document_id}",
    response={204: None},
    summary="Delete a document and every memory made from it (its uploader, a moderator "
    "or the owner)",
)
def document_remove(request: HttpRequest, document_id: int) -> Status[None]:
    document = document_get(document_id=document_id, user=request.user)
    document_delete(document=document, user=request.user)
    return Status(204, None)
