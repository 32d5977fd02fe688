from datetime import datetime

from ninja import Field, Schema

from documents.models import Document, DocumentChunk
from documents.selectors import chunk_text


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


class DocumentChunkOut(Schema):
    """One chunk of a document: where it came from, its text, and how its memory is used."""

    id: int
    position: int = Field(..., description="Order in the document, from 0.")
    location: str = Field(..., description='Where, in words: "sheet Streams, rows 2-9".')
    page: int | None
    sheet: str
    row_start: int | None = Field(..., description="First row (spreadsheet, CSV) or line.")
    row_end: int | None
    heading: str = Field(..., description='The headings above it: "Schedule > Friday".')
    json_path: str
    memory_id: int
    content: str = Field(..., description="The memory as the persona sees it, with its place.")
    text: str = Field(..., description="The chunk's own text, without the place line.")
    use_count: int = Field(..., description="Replies that used this memory.")
    last_used_at: datetime | None

    @staticmethod
    def resolve_content(chunk: DocumentChunk) -> str:
        return chunk.memory.content

    @staticmethod
    def resolve_text(chunk: DocumentChunk) -> str:
        return chunk_text(chunk)

    @staticmethod
    def resolve_use_count(chunk: DocumentChunk) -> int:
        return chunk.memory.use_count

    @staticmethod
    def resolve_last_used_at(chunk: DocumentChunk) -> datetime | None:
        return chunk.memory.last_used_at
