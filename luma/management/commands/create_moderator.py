from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from luma.errors import LumaError
from luma.services import moderator_ensure


class Command(BaseCommand):
    help = (
        "Make an account a moderator (the 'Moderators' group). A new account is created "
        "with --password, or a random password that is printed once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--password", help="For a new account only.")

    def handle(self, *args: Any, username: str, password: str | None, **options: Any) -> None:
        try:
            self.stdout.write(moderator_ensure(username=username, password=password))
        except LumaError as error:
            raise CommandError(error.message) from None
