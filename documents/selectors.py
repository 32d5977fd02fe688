from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from documents.models import Document, DocumentChunk
from luma.errors import NotFound
from luma.roles import Role, role_of
from memories.models import Memory


def documents_visible_to(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[Document]:
    """Moderators and the owner see every document; viewers those they uploaded."""
    documents = Document.objects.select_related("uploaded_by")
    if role_of(user) >= Role.MODERATOR:
        return documents
    if role_of(user) == Role.VIEWER:
        return documents.filter(uploaded_by=user)
    return documents.none()


def document_get(*, document_id: int, user: AbstractBaseUser | AnonymousUser) -> Document:
    """One document `user` may see; any other looks as if it did not exist (404)."""
    document = documents_visible_to(user=user).filter(pk=document_id).first()
    if document is None:
        raise NotFound(f"Document {document_id} does not exist.")
    return document


@dataclass(frozen=True)
class DocumentSource:
    """Where a document memory came from: the document, and the place in it."""

    memory_id: int
    document_id: int
    document_name: str
    location: str
    page: int | None
    sheet: str
    row_start: int | None
    row_end: int | None
    json_path: str


def document_sources_for(*, memories: Iterable[Memory]) -> dict[int, DocumentSource]:
    """For the memories that came from a document (e.g. those a reply used), by memory id:
    which document and where. Other memories are left out."""
    ids = [memory.pk for memory in memories]
    chunks = DocumentChunk.objects.filter(memory_id__in=ids).select_related("document")
    return {
        chunk.memory_id: DocumentSource(
            memory_id=chunk.memory_id,
            document_id=chunk.document_id,
            document_name=chunk.document.name,
            location=chunk.location,
            page=chunk.page,
            sheet=chunk.sheet,
            row_start=chunk.row_start,
            row_end=chunk.row_end,
            json_path=chunk.json_path,
        )
        for chunk in chunks
    }
