from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from luma.roles import Role, role_of

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command("create_moderator", *args, stdout=out)
    return out.getvalue()


def test_it_makes_an_existing_viewer_a_moderator(user):
    assert role_of(User.objects.get(pk=user.pk)) == Role.VIEWER
    assert "is now a moderator" in run("viewer")
    assert role_of(User.objects.get(pk=user.pk)) == Role.MODERATOR


def test_it_creates_a_new_moderator_with_a_printed_password():
    said = run("kai")
    password = said.split("password '")[1].split("'")[0]
    kai = User.objects.get(username="kai")
    assert kai.check_password(password) and role_of(kai) == Role.MODERATOR and not kai.is_staff


def test_it_creates_a_new_moderator_with_the_password_given():
    assert "the password you gave" in run("mina", "--password", "pw-mina-12345")
    assert User.objects.get(username="mina").check_password("pw-mina-12345")


def test_it_refuses_a_password_for_an_existing_account(user):
    with pytest.raises(CommandError, match="only for a new account"):
        run("viewer", "--password", "x")
    assert User.objects.get(pk=user.pk).check_password("pw-viewer-123")


def test_the_owner_stays_the_owner(admin_user):
    assert "is the owner" in run("boss")
    assert role_of(User.objects.get(pk=admin_user.pk)) == Role.OWNER
