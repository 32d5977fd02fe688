"""Forget memories deleted over 30 days ago: their versions go, and with them the
chance to restore them. Runs after every delete as well; schedule it (cron) when
memories are seldom deleted."""

from typing import Any

from django.core.management.base import BaseCommand

from memories.history import memories_deleted_purge


class Command(BaseCommand):
    help = "Purge the history of memories deleted more than 30 days ago."

    def handle(self, *args: Any, **options: Any) -> None:
        purged = memories_deleted_purge()
        self.stdout.write(f"Purged {purged} version(s) of memories deleted over 30 days ago.")
