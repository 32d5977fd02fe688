from pathlib import PurePath

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from memories.models import IMPORTANCE_DEFAULT, IMPORTANCE_MAX, IMPORTANCE_MIN, Memory


class DocumentKind(models.TextChoices):
    PDF = "pdf", "PDF"
    XLSX = "xlsx", "Excel workbook"
    CSV = "csv", "CSV"
    JSON = "json", "JSON"
    TXT = "txt", "Text"
    DOCX = "docx", "Word document"
    MARKDOWN = "md", "Markdown"
    HTML = "html", "Web page (HTML)"


class DocumentStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    PROCESSING = "processing", "Processing"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


def document_file_path(document: "Document", filename: str) -> str:
    """Files are stored by content hash: names never collide and never carry user input."""
    suffix = PurePath(filename).suffix.lower()[:10]
    return f"documents/{document.sha256[:2]}/{document.sha256}{suffix}"


class Document(models.Model):
    """An uploaded file whose text feeds the memory as `document` memories.

    One row per distinct content (`sha256` is unique): uploading the same bytes
    again returns this row. Its chunks (and their memories) exist only once
    ingestion is done; until then `status` and `progress` say how far it got.
    """

    name = models.CharField(max_length=255, help_text="The file name as uploaded.")
    file = models.FileField(upload_to=document_file_path, max_length=255)
    kind = models.CharField(max_length=10, choices=DocumentKind.choices)
    size = models.PositiveBigIntegerField(help_text="Bytes.")
    sha256 = models.CharField(max_length=64, unique=True)
    importance = models.PositiveSmallIntegerField(
        default=IMPORTANCE_DEFAULT,
        validators=[MinValueValidator(IMPORTANCE_MIN), MaxValueValidator(IMPORTANCE_MAX)],
        help_text="Given to every memory made from this document.",
    )
    status = models.CharField(
        max_length=20,
        choices=DocumentStatus.choices,
        default=DocumentStatus.QUEUED,
        db_index=True,
    )
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent, while processing.")
    error = models.TextField(blank=True, help_text="Why ingestion failed, for the uploader.")
    error_detail = models.TextField(blank=True)
    chunk_count = models.PositiveIntegerField(default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="documents",
    )
    include_hidden_sheets = models.BooleanField(
        default=False, help_text="Read the workbook's hidden sheets too (left out by default)."
    )
    notes = models.JSONField(
        default=list,
        blank=True,
        help_text='What reading left out or could not read: "2 hidden sheets skipped".',
    )
    subject_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="private_documents",
        help_text="A viewer's upload: its memories are about this viewer only. "
        "Empty: about everyone.",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    ingested_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def finished(self) -> bool:
        return self.status in {DocumentStatus.DONE, DocumentStatus.FAILED}


class DocumentChunk(models.Model):
    """One piece of a document, stored as one memory, and where it came from."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="chunks")
    memory = models.OneToOneField(Memory, on_delete=models.CASCADE, related_name="document_chunk")
    position = models.PositiveIntegerField(help_text="Order of the chunk in the document.")
    location = models.CharField(max_length=300, help_text='Where, in words: "page 3".')
    page = models.PositiveIntegerField(null=True, blank=True)
    sheet = models.CharField(max_length=100, blank=True)
    row_start = models.PositiveIntegerField(
        null=True, blank=True, help_text="First row (spreadsheet, CSV) or line (text)."
    )
    row_end = models.PositiveIntegerField(null=True, blank=True)
    json_path = models.CharField(max_length=300, blank=True)
    heading = models.CharField(
        max_length=300, blank=True, help_text='The headings above it: "Schedule > Friday".'
    )

    class Meta:
        ordering = ["document", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["document", "position"], name="document_chunk_position_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.document.name}, {self.location}"
