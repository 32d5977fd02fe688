from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from documents.models import Document, DocumentChunk, DocumentStatus
from documents.services import document_delete, document_retry
from luma.admin_site import ModeratorAccess


class DocumentChunkInline(ModeratorAccess, admin.TabularInline):
    model = DocumentChunk
    fields = ["position", "location", "memory"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False
    max_num = 0


@admin.register(Document)
class DocumentAdmin(ModeratorAccess, admin.ModelAdmin):
    list_display = [
        "name",
        "kind",
        "status",
        "progress",
        "size",
        "chunk_count",
        "importance",
        "uploaded_by",
        "created_at",
    ]
    list_filter = ["status", "kind"]
    search_fields = ["name", "sha256"]
    readonly_fields = [
        "name",
        "file",
        "kind",
        "size",
        "sha256",
        "importance",
        "status",
        "progress",
        "error",
        "error_detail",
        "chunk_count",
        "uploaded_by",
        "created_at",
        "updated_at",
        "ingested_at",
    ]
    inlines = [DocumentChunkInline]
    actions = ["ingest_again"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # uploads go through the documents page, the API or `manage.py ingest`

    def delete_model(self, request: HttpRequest, obj: Document) -> None:
        document_delete(document=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Document]) -> None:
        for document in queryset:
            document_delete(document=document)

    @admin.action(description="Ingest the selected failed documents again")
    def ingest_again(self, request: HttpRequest, queryset: QuerySet[Document]) -> None:
        failed = list(queryset.filter(status=DocumentStatus.FAILED))
        for document in failed:
            document_retry(document=document)
        self.message_user(request, f"{len(failed)} document(s) queued again.", messages.SUCCESS)
        skipped = queryset.count() - len(failed)
        if skipped:
            self.message_user(request, f"{skipped} skipped: they had not failed.", messages.WARNING)
