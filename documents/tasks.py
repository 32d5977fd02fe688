"""Ingestion as a django-tasks task: run by `manage.py db_worker`, off the request path."""

from django_tasks import task

from documents import services


@task()
def document_ingest_task(document_id: int) -> int:
    """Ingest one document; returns its chunk count (0 when it failed)."""
    return services.document_ingest(document_id=document_id).chunk_count
