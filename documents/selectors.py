from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from documents.models import Document, DocumentChunk
from luma.errors import NotFound
from luma.roles import Role, role_of


def documents_visible_to(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[Document]:
    """Moderators and the owner see every document; viewers those they uploaded."""
    documents = Document.objects.select_related("uploaded_by")
    role = role_of(user)
    if role >= Role.MODERATOR:
        return documents
    if role == Role.VIEWER:
        return documents.filter(uploaded_by=user)
    return documents.none()


def document_get(*, document_id: int, user: AbstractBaseUser | AnonymousUser) -> Document:
    """One document `user` may see; any other looks as if it did not exist (404)."""
    document = documents_visible_to(user=user).filter(pk=document_id).first()
    if document is None:
        raise NotFound(f"Document {document_id} does not exist.")
    return document


def document_chunks(*, document: Document) -> QuerySet[DocumentChunk]:
    """A document's chunks in reading order, each with its memory."""
    return (
        DocumentChunk.objects.filter(document=document)
        .select_related("memory")
        .order_by("position")
    )


def chunk_text(chunk: DocumentChunk) -> str:
    """The chunk's own text: its memory without the first line, `From "name" (place):`,
    which tells the persona where it came from (a memory edited since keeps what it has)."""
    content = chunk.memory.content
    first_line, newline, rest = content.partition("\n")
    if newline and first_line.startswith('From "') and first_line.endswith(("):", '":')):
        return rest
    return content
