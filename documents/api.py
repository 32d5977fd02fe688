from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import File, Form, Router, Status, UploadedFile
from ninja.pagination import paginate
from pydantic.json_schema import SkipJsonSchema

from documents.models import Document, DocumentChunk
from documents.schemas import DocumentChunkOut, DocumentOut
from documents.selectors import document_chunks, document_get, documents_visible_to
from documents.services import (
    document_chunk_delete,
    document_create,
    document_delete,
    document_reingest,
    document_upload_check,
)
from luma.ratelimit import rate_limit_check
from luma.schemas import ErrorOut
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


@router.get(
    "/{document_id}/chunks",
    response=list[DocumentChunkOut],
    summary="What Luma learned from a document: its chunks in order, each with its place, "
    "text and memory (with its use count)",
    description="Paginated (`limit`, `offset`; `count` is the total). Each chunk is one "
    "memory: `content` is that memory as the persona sees it (with the document and "
    "place), `text` the chunk's own text; `page`, `sheet`, `row_start`/`row_end`, "
    "`json_path` and `heading` say where it came from. `use_count` and `last_used_at` "
    "say how often replies used it. A document Luma has not read yet has none. "
    "404 for a document you may not see (a viewer sees their own uploads).",
)
@paginate
def document_chunk_list(request: HttpRequest, document_id: int) -> QuerySet[DocumentChunk]:
    document = document_get(document_id=document_id, user=request.user)
    return document_chunks(document=document)


@router.delete(
    "/{document_id}/chunks/{chunk_id}",
    response={204: None},
    summary="Forget one chunk of a document: its memory is deleted (its uploader, a "
    "moderator or the owner)",
    description="204: the chunk and its memory are gone, and the document's "
    "`chunk_count` is one less. 404: no such document you may see, or no such chunk in "
    "it. 403: the document is someone else's and you are not a moderator.",
)
def document_chunk_remove(request: HttpRequest, document_id: int, chunk_id: int) -> Status[None]:
    document = document_get(document_id=document_id, user=request.user)
    document_chunk_delete(document=document, chunk_id=chunk_id, user=request.user)
    return Status(204, None)


@router.post(
    "/{document_id}/reingest",
    response={200: DocumentOut, 409: ErrorOut, 429: ErrorOut},
    summary="Read a document again: its memories are deleted and it is queued (its "
    "uploader, a moderator or the owner)",
    description="Optional form field `include_hidden_sheets` (as on upload): true to read "
    "a workbook's hidden sheets this time, false to leave them out; without it, as before. "
    "200: the document, `status` `queued` (poll `GET /api/documents/{id}` until `done` "
    "or `failed`, as after an upload), `chunk_count` 0 until then. 409: Luma is reading "
    "it now. 429: past the per-user upload rate (reading again counts as an upload). "
    "404: no such document you may see. 403: the document is someone else's and you are "
    "not a moderator.",
)
def document_reingest_start(
    request: HttpRequest,
    document_id: int,
    include_hidden_sheets: Form[bool | SkipJsonSchema[None]] = None,
) -> Document:
    document = document_get(document_id=document_id, user=request.user)
    rate_limit_check(scope="upload", who=f"user-{request.user.pk}", rate=settings.LUMA_UPLOAD_RATE)
    return document_reingest(
        document=document,
        user=request.user,
        include_hidden_sheets=include_hidden_sheets,
    )
