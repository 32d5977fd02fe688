"""A live Luma for the official `openai` client: daphne serving `config.asgi` on a
thread of the test process, so it reads the test database (committed data: the tests
use `transactional_db`) and the fake model server's captured requests are at hand."""

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import openai
import pytest
from django.contrib.auth.models import User

from luma.models import RuntimeSettings
from luma.services import api_token_create
from providers.testing.fakes import FakeOpenAIServer, free_port


@pytest.fixture(scope="session")
def luma_url() -> Iterator[str]:
    from daphne.endpoints import build_endpoint_description_strings
    from daphne.server import Server
    from twisted.internet import reactor

    from config.asgi import application

    port = free_port()
    server = Server(
        application=application,
        endpoints=build_endpoint_description_strings(host="127.0.0.1", port=port),
        signal_handlers=False,
        verbosity=0,
    )
    thread = threading.Thread(target=server.run, name="daphne", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError("daphne did not start") from None
            time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    reactor.callFromThread(reactor.stop)
    thread.join(timeout=5)


@dataclass
class LiveLuma:
    url: str
    provider: FakeOpenAIServer

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def client(self, token: str, **options) -> openai.OpenAI:
        return openai.OpenAI(api_key=token, base_url=self.base_url, max_retries=0, **options)

    def async_client(self, token: str, **options) -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(api_key=token, base_url=self.base_url, max_retries=0, **options)

    def prompts(self) -> list[list[dict]]:
        """The messages of every chat request the provider received, oldest first."""
        return [
            r["json"]["messages"]
            for r in self.provider.requests
            if r["path"] == "/v1/chat/completions" and not r["json"].get("response_format")
        ]


@pytest.fixture
def live(
    transactional_db, luma_url: str, use_deepseek: RuntimeSettings, openai_server: FakeOpenAIServer
) -> LiveLuma:
    """Luma answering through the fake OpenAI-compatible provider (model `fake-chat`)."""
    return LiveLuma(luma_url, openai_server)


def token_for(user: User, name: str = "app") -> str:
    return api_token_create(user=user, name=name)[1]


@pytest.fixture
def viewer_token(user: User) -> str:
    return token_for(user)
