import os
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from luma.services import admin_ensure


class Command(BaseCommand):
    help = (
        "Create an admin login if none exists (LUMA_ADMIN_USERNAME, LUMA_ADMIN_PASSWORD), "
        "and print how to log in."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        how = admin_ensure(
            username=os.environ.get("LUMA_ADMIN_USERNAME", "admin"),
            password=os.environ.get("LUMA_ADMIN_PASSWORD") or None,
            password_file=settings.DATA_DIR / "admin_password.txt",
        )
        self.stdout.write(self.style.SUCCESS(how))
