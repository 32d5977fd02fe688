"""Background work on memories, run by `manage.py db_worker` (django-tasks)."""

import logging

from django_tasks import task

from memories.services import memories_embed
from memories.suggestions import memory_suggestions_from_reply

logger = logging.getLogger(__name__)


@task()
def memories_embed_task(memory_ids: list[int] | None = None) -> int:
    stored = memories_embed(memory_ids=memory_ids)
    logger.info("Stored %d memory embedding(s).", stored)
    return stored


@task()
def memory_suggestions_task(reply_message_id: int) -> int:
    """Ask the model which facts of the latest exchange are worth remembering."""
    return len(memory_suggestions_from_reply(reply_message_id=reply_message_id))
