"""Background work on conversations, run by `manage.py db_worker` (django-tasks)."""

from django_tasks import task

from chat.suggestions import memory_suggestions_from_reply


@task()
def memory_suggestions_task(reply_message_id: int) -> int:
    """Ask the model which facts of the latest exchange are worth remembering."""
    return len(memory_suggestions_from_reply(reply_message_id=reply_message_id))
