from datetime import datetime

from ninja import Schema

from documents.models import Document


class DocumentOut(Schema):
    id: int
    name: str
    kind: str
    size: int
    sha256: str
    importance: int
    status: str
    progress: int
    error: str
    error_detail: str
    chunk_count: int
    include_hidden_sheets: bool
    notes: list[str]
    uploaded_by: str | None
    created_at: datetime
    updated_at: datetime
    ingested_at: datetime | None

    @staticmethod
    def resolve_uploaded_by(document: Document) -> str | None:
        return document.uploaded_by.get_username() if document.uploaded_by else None
