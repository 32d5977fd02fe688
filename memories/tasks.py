"""Background work on memories, run by `manage.py db_worker` (django-tasks)."""

import logging

from django_tasks import task

from memories.services import memories_embed

logger = logging.getLogger(__name__)


@task()
def memories_embed_task(memory_ids: list[int] | None = None) -> int:
    stored = memories_embed(memory_ids=memory_ids)
    logger.info("Stored %d memory embedding(s).", stored)
    return stored
