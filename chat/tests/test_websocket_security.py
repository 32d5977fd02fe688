"""The WebSocket as the ASGI application serves it: origin and session checked."""

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore

from config.asgi import application

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


async def session_cookie_for(user) -> bytes:
    def create() -> str:
        session = SessionStore()
        session["_auth_user_id"] = str(user.pk)
        session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
        session["_auth_user_hash"] = user.get_session_auth_hash()
        session.create()
        return session.session_key

    key = await sync_to_async(create)()
    return f"{settings.SESSION_COOKIE_NAME}={key}".encode()


async def try_connect(headers: list[tuple[bytes, bytes]]) -> tuple[bool, int | None]:
    communicator = WebsocketCommunicator(application, "/ws/chat/", headers=headers)
    connected, code = await communicator.connect()
    await communicator.disconnect()
    return connected, code


async def test_a_logged_in_browser_on_our_origin_connects(user):
    cookie = await session_cookie_for(user)
    connected, _ = await try_connect([(b"origin", b"http://127.0.0.1:8000"), (b"cookie", cookie)])
    assert connected


async def test_another_sites_page_cannot_open_the_socket_with_our_cookie(user):
    cookie = await session_cookie_for(user)
    connected, _ = await try_connect([(b"origin", b"https://evil.example"), (b"cookie", cookie)])
    assert not connected


async def test_without_a_session_the_socket_is_closed_with_not_logged_in():
    connected, code = await try_connect([(b"origin", b"http://localhost")])
    assert not connected
    assert code == 4401
