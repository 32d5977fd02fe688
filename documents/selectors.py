from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from documents.models import Document
from luma.errors import NotFound
from luma.roles import Role, role_of


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
