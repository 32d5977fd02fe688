"""Who may do what, over every page and every API operation, as a table.

Each row names one request and the status each role gets: anonymous, viewer,
moderator, owner. A URL pattern or API operation without a row fails
`test_every_route_has_a_row`, so a new route cannot ship unchecked. The admin is
checked model by model (`test_the_admin_lets_moderators_manage_memories_and_documents_only`).
Every admin page, with its parameters filled in, is walked as anonymous too.
The WebSocket and the Discord commands have tables of their own, beside their apps.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from chat.models import Conversation
from chat.services import conversation_start
from config.api import api
from documents.models import Document, DocumentChunk
from documents.services import document_create
from luma.models import ApiToken
from luma.services import api_token_create, runtime_settings_get
from luma.tests.urlwalk import api_operations, page_urls
from memories.models import Memory, MemorySource, MemoryStatus
from memories.services import memory_create, memory_delete, memory_reject, memory_update
from persona.selectors import persona_get
from persona.services import persona_avatar_set
from persona.tests.cards import png

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "viewer", "moderator", "owner")


@dataclass
class World:
    """What exists when a role knocks: someone else's things, global things, and theirs."""

    stranger: User
    own_memory: Memory
    their_memory: Memory
    global_memory: Memory
    their_suggestion: Memory
    their_conversation: Conversation
    their_token: ApiToken
    global_document: Document
    own_document: Document | None = None
    ids: dict[str, int] = field(default_factory=dict)


@pytest.fixture
def world(request, moderator_user, user, other_user, settings, tmp_path) -> Callable[[str], World]:
    settings.MEDIA_ROOT = tmp_path / "media"

    def build(role: str) -> World:
        acting = {"viewer": user, "moderator": moderator_user}.get(role)
        document, _ = document_create(
            file=SimpleUploadedFile("lore.txt", b"The mascot is a fox."),
            name="lore.txt",
            uploaded_by=moderator_user,
        )
        built = World(
            stranger=other_user,
            own_memory=memory_create(content="I like tea.", subject_user=acting or other_user),
            their_memory=memory_create(content="Stranger's secret.", subject_user=other_user),
            global_memory=memory_create(content="Streams start at 8pm."),
            their_suggestion=memory_create(
                content="Stranger has a dog.",
                source=MemorySource.AI_SUGGESTED,
                subject_user=other_user,
            ),
            their_conversation=conversation_start(owner=other_user),
            their_token=api_token_create(user=other_user, name="theirs")[0],
            global_document=document,
        )
        return built

    return build


@dataclass(frozen=True)
class Case:
    """One request and the status each role gets: (anonymous, viewer, moderator, owner)."""

    method: str
    route: str  # the path as the OpenAPI schema or the URL pattern writes it
    expect: tuple[int, int, int, int]
    url: Callable[[World], str] | None = None
    body: Callable[[World], Any] | None = None
    multipart: bool = False
    fixtures: tuple[str, ...] = ()
    label: str = ""

    def id(self) -> str:
        return f"{self.method} {self.route}{f' ({self.label})' if self.label else ''}"


def upload_body(world: World) -> dict[str, Any]:
    return {"file": SimpleUploadedFile("notes.txt", b"Friday is karaoke night.")}


def viewers_document() -> Document:
    """The viewer's own upload (the `viewer_document` fixture): theirs as a viewer,
    someone else's as a moderator or the owner."""
    return Document.objects.get(uploaded_by__username="viewer")


def first_chunk(document: Document) -> DocumentChunk:
    return DocumentChunk.objects.filter(document=document).order_by("position").first()


def first_version(memory: Memory) -> dict[str, int]:
    """A restore body: the memory's first version (after an edit, so restoring it changes it)."""
    version = Memory.history.filter(id=memory.pk).order_by("history_id").first().history_id
    memory_update(memory=memory, content=memory.content + " (edited)")
    return {"version": version}


def rejected(memory: Memory) -> Memory:
    return memory_reject(memory=memory)


def own_suggestion(world: World) -> Memory:
    """A pending suggestion about whoever knocks (the stranger for the anonymous)."""
    return memory_create(
        content="I collect vinyl records.",
        source=MemorySource.AI_SUGGESTED,
        subject_user=world.own_memory.subject_user,
    )


def deleted(memory: Memory) -> Memory:
    memory_delete(memory=Memory.objects.get(pk=memory.pk))
    return memory


API_CASES = [
    Case("POST", "/api/chat", (401, 200, 200, 200), body=lambda w: {"message": "hi"},
         fixtures=("use_deepseek",)),
    Case("POST", "/api/chat", (401, 404, 404, 404), label="someone else's conversation",
         body=lambda w: {"message": "hi", "conversation_id": w.their_conversation.pk},
         fixtures=("use_deepseek",)),
    Case("GET", "/api/chat/conversations", (401, 200, 200, 200)),
    Case("POST", "/api/chat/conversations/{conversation_id}/messages/{message_id}/continue",
         (401, 404, 404, 404), label="someone else's reply",
         url=lambda w: f"/api/chat/conversations/{w.their_conversation.pk}/messages/1/continue"),
    Case("GET", "/api/chat/conversations/{conversation_id}/messages", (401, 404, 404, 404),
         url=lambda w: f"/api/chat/conversations/{w.their_conversation.pk}/messages"),
    Case("DELETE", "/api/chat/conversations/{conversation_id}", (401, 404, 404, 404),
         url=lambda w: f"/api/chat/conversations/{w.their_conversation.pk}"),
    Case("PATCH", "/api/chat/conversations/{conversation_id}", (401, 404, 404, 404),
         url=lambda w: f"/api/chat/conversations/{w.their_conversation.pk}",
         body=lambda w: {"title": "mine now"}),
    Case("GET", "/api/chat/conversations/{conversation_id}/export", (401, 404, 404, 404),
         url=lambda w: f"/api/chat/conversations/{w.their_conversation.pk}/export"),
    Case("POST", "/api/chat/conversations/{conversation_id}/messages/{message_id}/regenerate",
         (401, 404, 404, 404),
         url=lambda w: f"/api/chat/conversations/{w.their_conversation.pk}/messages/1/regenerate"),
    Case("POST", "/api/chat/conversations/{conversation_id}/messages/{message_id}/edit",
         (401, 404, 404, 404), body=lambda w: {"message": "hijacked"},
         url=lambda w: f"/api/chat/conversations/{w.their_conversation.pk}/messages/1/edit"),
    Case("POST", "/api/chat/conversations/{conversation_id}/messages/{message_id}/select",
         (401, 404, 404, 404),
         url=lambda w: f"/api/chat/conversations/{w.their_conversation.pk}/messages/1/select"),
    Case("DELETE", "/api/chat/conversations/{conversation_id}/messages/{message_id}",
         (401, 404, 404, 404),
         url=lambda w: f"/api/chat/conversations/{w.their_conversation.pk}/messages/1"),
    Case("GET", "/api/settings", (401, 403, 403, 200)),
    Case("PUT", "/api/settings", (401, 403, 403, 200), body=lambda w: {"temperature": 0.3}),
    Case("GET", "/api/models/available", (401, 403, 403, 200)),
    Case("POST", "/api/models/test", (401, 403, 403, 200),
         body=lambda w: {"provider": "ollama", "address": "http://127.0.0.1:9"}),
    Case("GET", "/api/memory/search", (401, 200, 200, 200), url=lambda w: "/api/memory/search?q=x"),
    Case("GET", "/api/memory/suggestions", (401, 200, 200, 200)),
    Case("GET", "/api/memory/suggestions/runs", (401, 403, 200, 200)),
    Case("POST", "/api/memory/suggest", (401, 404, 200, 200),
         body=lambda w: {"id": w.their_suggestion.pk}),
    Case("POST", "/api/memory/{memory_id}/reject", (401, 404, 200, 200),
         url=lambda w: f"/api/memory/{w.their_suggestion.pk}/reject"),
    Case("POST", "/api/memory", (401, 201, 201, 201), label="about me",
         body=lambda w: {"content": "I play bass.", "subject": "me"}),
    Case("POST", "/api/memory", (401, 403, 201, 201), label="about everyone",
         body=lambda w: {"content": "Merch drops Friday.", "subject": "everyone"}),
    Case("POST", "/api/memory", (401, 403, 201, 201), label="about someone else",
         body=lambda w: {"content": "Has a cat.", "subject": f"user:{w.stranger.pk}"}),
    Case("GET", "/api/memory/{memory_id}", (401, 200, 200, 200), label="own",
         url=lambda w: f"/api/memory/{w.own_memory.pk}"),
    Case("GET", "/api/memory/{memory_id}", (401, 404, 200, 200), label="global",
         url=lambda w: f"/api/memory/{w.global_memory.pk}"),
    Case("GET", "/api/memory/{memory_id}", (401, 404, 200, 200), label="someone else's",
         url=lambda w: f"/api/memory/{w.their_memory.pk}"),
    Case("PUT", "/api/memory/{memory_id}", (401, 200, 200, 200), label="own",
         url=lambda w: f"/api/memory/{w.own_memory.pk}", body=lambda w: {"importance": 7}),
    Case("PUT", "/api/memory/{memory_id}", (401, 404, 200, 200), label="global",
         url=lambda w: f"/api/memory/{w.global_memory.pk}", body=lambda w: {"importance": 7}),
    Case("DELETE", "/api/memory/{memory_id}", (401, 204, 204, 204), label="own",
         url=lambda w: f"/api/memory/{w.own_memory.pk}"),
    Case("DELETE", "/api/memory/{memory_id}", (401, 404, 204, 204), label="someone else's",
         url=lambda w: f"/api/memory/{w.their_memory.pk}"),
    Case("PUT", "/api/memory/{memory_id}", (401, 200, 200, 200), label="own, the fact changed",
         url=lambda w: f"/api/memory/{w.own_memory.pk}",
         body=lambda w: {"content": "I like coffee now.", "supersede": True}),
    Case("PUT", "/api/memory/{memory_id}", (401, 404, 200, 200), label="global, the fact changed",
         url=lambda w: f"/api/memory/{w.global_memory.pk}",
         body=lambda w: {"content": "Streams start at 9pm.", "supersede": True}),
    Case("GET", "/api/memory/deleted", (401, 200, 200, 200)),
    Case("GET", "/api/memory/{memory_id}/history", (401, 200, 200, 200), label="own",
         url=lambda w: f"/api/memory/{w.own_memory.pk}/history"),
    Case("GET", "/api/memory/{memory_id}/history", (401, 404, 200, 200), label="global",
         url=lambda w: f"/api/memory/{w.global_memory.pk}/history"),
    Case("GET", "/api/memory/{memory_id}/history", (401, 404, 200, 200), label="someone else's",
         url=lambda w: f"/api/memory/{w.their_memory.pk}/history"),
    Case("GET", "/api/memory/{memory_id}/history", (401, 404, 200, 200),
         label="someone else's, deleted",
         url=lambda w: f"/api/memory/{deleted(w.their_memory).pk}/history"),
    Case("POST", "/api/memory/{memory_id}/restore", (401, 200, 200, 200), label="own version",
         url=lambda w: f"/api/memory/{w.own_memory.pk}/restore",
         body=lambda w: first_version(w.own_memory)),
    Case("POST", "/api/memory/{memory_id}/restore", (401, 404, 200, 200), label="global version",
         url=lambda w: f"/api/memory/{w.global_memory.pk}/restore",
         body=lambda w: first_version(w.global_memory)),
    Case("POST", "/api/memory/{memory_id}/restore", (401, 200, 200, 200), label="own, deleted",
         url=lambda w: f"/api/memory/{deleted(w.own_memory).pk}/restore"),
    Case("POST", "/api/memory/{memory_id}/restore", (401, 404, 200, 200),
         label="someone else's, deleted",
         url=lambda w: f"/api/memory/{deleted(w.their_memory).pk}/restore"),
    Case("POST", "/api/memory/{memory_id}/restore", (401, 404, 200, 200),
         label="someone else's rejected suggestion",
         url=lambda w: f"/api/memory/{rejected(w.their_suggestion).pk}/restore"),
    Case("GET", "/api/memory/suggestions/count", (401, 200, 200, 200)),
    Case("POST", "/api/memory/suggestions/review", (401, 404, 200, 200), label="someone else's",
         body=lambda w: {"ids": [w.their_suggestion.pk], "decision": "reject"}),
    Case("POST", "/api/memory/suggestions/review", (401, 200, 200, 200), label="about me",
         body=lambda w: {"ids": [own_suggestion(w).pk], "decision": "approve"}),
    Case("POST", "/api/memory/suggestions/undo", (401, 404, 200, 200), label="someone else's",
         body=lambda w: {"ids": [rejected(w.their_suggestion).pk]}),
    Case("POST", "/api/memory/suggestions/undo", (401, 200, 200, 200), label="about me",
         body=lambda w: {"ids": [rejected(own_suggestion(w)).pk]}),
    Case("GET", "/api/memory/auto-approved", (401, 200, 200, 200)),
    Case("POST", "/api/memory/auto-approved/undo", (401, 403, 200, 200),
         body=lambda w: {"day": str(timezone.localdate())}),
    Case("GET", "/api/tokens", (401, 200, 200, 200)),
    Case("POST", "/api/tokens", (401, 201, 201, 201), body=lambda w: {"name": "overlay"}),
    Case("DELETE", "/api/tokens/{token_id}", (401, 404, 404, 404), label="someone else's",
         url=lambda w: f"/api/tokens/{w.their_token.pk}"),
    Case("POST", "/api/documents", (401, 403, 201, 201), body=upload_body, multipart=True),
    Case("POST", "/api/documents", (401, 201, 201, 201), body=upload_body, multipart=True,
         label="viewer uploads allowed", fixtures=("viewer_uploads",)),
    Case("GET", "/api/documents", (401, 200, 200, 200)),
    Case("GET", "/api/documents/{document_id}", (401, 404, 200, 200),
         url=lambda w: f"/api/documents/{w.global_document.pk}"),
    Case("DELETE", "/api/documents/{document_id}", (401, 404, 204, 204),
         url=lambda w: f"/api/documents/{w.global_document.pk}"),
    Case("GET", "/api/documents/{document_id}/chunks", (401, 404, 200, 200),
         url=lambda w: f"/api/documents/{w.global_document.pk}/chunks"),
    Case("GET", "/api/documents/{document_id}/chunks", (401, 200, 200, 200), label="a viewer's",
         url=lambda w: f"/api/documents/{viewers_document().pk}/chunks",
         fixtures=("viewer_document",)),
    Case("DELETE", "/api/documents/{document_id}/chunks/{chunk_id}", (401, 404, 204, 204),
         url=lambda w: f"/api/documents/{w.global_document.pk}/chunks/"
                       f"{first_chunk(w.global_document).pk}"),
    Case("DELETE", "/api/documents/{document_id}/chunks/{chunk_id}", (401, 204, 204, 204),
         label="a viewer's", fixtures=("viewer_document",),
         url=lambda w: f"/api/documents/{viewers_document().pk}/chunks/"
                       f"{first_chunk(viewers_document()).pk}"),
    Case("POST", "/api/documents/{document_id}/reingest", (401, 404, 200, 200),
         url=lambda w: f"/api/documents/{w.global_document.pk}/reingest"),
    Case("POST", "/api/documents/{document_id}/reingest", (401, 200, 200, 200),
         label="a viewer's", fixtures=("viewer_document",),
         url=lambda w: f"/api/documents/{viewers_document().pk}/reingest"),
    Case("GET", "/api/stream/settings", (401, 403, 403, 200)),
    Case("PUT", "/api/stream/settings", (401, 403, 403, 200),
         body=lambda w: {"stream_blocklist": "badword"}),
    Case("POST", "/api/stream/overlay-token", (401, 403, 403, 200)),
    Case("GET", "/api/stream/blocked", (401, 403, 403, 200)),
    Case("GET", "/api/persona", (401, 403, 403, 200)),
    Case("PUT", "/api/persona", (401, 403, 403, 200), body=lambda w: {"name": "Mika"}),
    Case("POST", "/api/persona/avatar", (401, 403, 403, 200), multipart=True,
         body=lambda w: {"file": SimpleUploadedFile("a.png", png())}),
    Case("DELETE", "/api/persona/avatar", (401, 403, 403, 200)),
    Case("POST", "/api/persona/card", (401, 403, 403, 200), multipart=True,
         body=lambda w: {"file": SimpleUploadedFile("c.json", b'{"name": "Mika"}')}),
    Case("GET", "/api/persona/card", (401, 403, 403, 200)),
]  # fmt: skip

LOGIN = "/accounts/login/"
PAGE_CASES = [
    Case("GET", "", (302, 200, 200, 200)),
    Case("GET", "usage/", (302, 200, 200, 200)),
    Case("GET", "settings/", (302, 403, 403, 200)),
    Case("POST", "settings/", (302, 403, 403, 200), label="a viewer's own endpoint",
         body=lambda w: {"ollama_endpoint": "http://attacker.example:11434"}),
    Case("GET", "memory/", (302, 200, 200, 200)),
    Case("GET", "documents/", (302, 200, 200, 200)),
    Case("GET", "documents/<int:document_id>/", (302, 404, 200, 200),
         url=lambda w: f"/documents/{w.global_document.pk}/"),
    Case("GET", "documents/<int:document_id>/", (302, 200, 200, 200), label="a viewer's",
         url=lambda w: f"/documents/{viewers_document().pk}/", fixtures=("viewer_document",)),
    Case("GET", "accounts/login/", (200, 200, 200, 200)),
    Case("GET", "persona/avatar/<str:version>.png", (200, 200, 200, 200), label="public: the overlay shows it",
         url=lambda w: persona_get().avatar_url, fixtures=("persona_avatar",)),
    Case("POST", "accounts/logout/", (302, 302, 302, 302)),
    Case("GET", "admin/", (302, 302, 200, 200)),
    Case("GET", "api/", (404, 404, 404, 404), label="the API's own table is above"),
    Case("GET", "overlay/", (200, 200, 200, 200), label="OBS: the socket checks the token"),
    Case("GET", "favicon.ico", (302, 302, 302, 302), label="the icon, for the admin's pages"),
    Case("POST", "v1/^(?:/*)chat/completions/?$", (401, 401, 401, 401), url=lambda w: "/v1/chat/completions", label="a session is not enough"),
    Case("GET", "v1/^(?:/*)models/?$", (401, 401, 401, 401), url=lambda w: "/v1/models"),
    Case("GET", "v1/^(?:/*)models/(?P<model_id>.+?)/?$", (401, 401, 401, 401), url=lambda w: "/v1/models/luma"),
    Case("GET", "v1/^(?P<path>.*)$", (404, 404, 404, 404), url=lambda w: "/v1/embeddings"),
]  # fmt: skip


@pytest.fixture
def viewer_uploads(db) -> None:
    row = runtime_settings_get()
    row.viewer_uploads_enabled = True
    row.save()


@pytest.fixture
def persona_avatar(db) -> None:
    persona_avatar_set(data=png())


@pytest.fixture
def viewer_document(user, settings, tmp_path) -> Document:
    settings.MEDIA_ROOT = tmp_path / "media"
    document, _ = document_create(
        file=SimpleUploadedFile("diary.txt", b"I stream on Sundays."),
        name="diary.txt",
        uploaded_by=user,
    )
    return document


@pytest.fixture
def client_as(user, moderator_user, admin_user) -> Callable[[str], Client]:
    def login(role: str) -> Client:
        client = Client()
        person = {"viewer": user, "moderator": moderator_user, "owner": admin_user}.get(role)
        if person is not None:
            client.force_login(person)
        return client

    return login


def send(client: Client, case: Case, world: World) -> Any:
    path = (
        case.url(world)
        if case.url
        else case.route
        if case.route.startswith("/")
        else "/" + case.route
    )
    body = case.body(world) if case.body else None
    method = getattr(client, case.method.lower())
    if case.multipart:
        return method(path, body)
    if case.method in {"GET", "DELETE"}:
        return method(path)
    if case.route.startswith("/api/"):
        return method(path, body or {}, content_type="application/json")
    return method(path, body or {})


@pytest.mark.parametrize("role_index", range(4), ids=ROLES)
@pytest.mark.parametrize("case", API_CASES + PAGE_CASES, ids=Case.id)
def test_each_role_gets_what_the_table_says(request, case, role_index, world, client_as):
    for name in case.fixtures:
        request.getfixturevalue(name)
    role = ROLES[role_index]
    built = world(role)
    response = send(client_as(role), case, built)
    expected = case.expect[role_index]
    assert response.status_code == expected, response.content[:300]
    if expected == 403 and case.route.startswith("/api/"):
        assert response.json()["message"].startswith("Only ")
    if expected == 403 and not case.route.startswith("/api/"):
        assert b"Not allowed" in response.content and b"Only " in response.content
    if expected == 302 and role == "anonymous" and case.method == "GET":
        if "/" + case.route in PUBLIC:  # the icon leads to its static file
            assert response["Location"].endswith("/luma/favicon.svg")
        else:
            assert LOGIN in response["Location"] or "/admin/login/" in response["Location"]


def _routes(patterns: list[URLPattern | URLResolver], prefix: str = "") -> set[str]:
    found: set[str] = set()
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver) and route not in {"admin/", "api/"}:
            found |= _routes(pattern.url_patterns, route)
        else:
            found.add(route)
    return found


def test_every_route_has_a_row():
    operations = {
        (method.upper(), path)
        for path, methods in api.get_openapi_schema()["paths"].items()
        for method in methods
    }
    assert operations == {(case.method, case.route) for case in API_CASES}
    assert _routes(get_resolver().url_patterns) == {case.route for case in PAGE_CASES}


def _admin_changelists() -> list[tuple[type, bool]]:
    moderated = {"memory", "document", "suggestionrun"}
    return [(model, model._meta.model_name in moderated) for model in admin.site._registry]


@pytest.mark.parametrize("role_index", range(4), ids=ROLES)
@pytest.mark.parametrize(("model", "moderated"), _admin_changelists(), ids=lambda v: str(v))
def test_the_admin_lets_moderators_manage_memories_documents_and_suggestion_runs_only(
    model, moderated, role_index, client_as
):
    role = ROLES[role_index]
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    response = client_as(role).get(url)
    if role in {"anonymous", "viewer"}:
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
    elif role == "owner" or moderated:
        assert response.status_code == 200
    else:
        assert response.status_code == 403


def test_a_moderator_sees_only_memories_documents_and_suggestion_runs_on_the_admin_index(
    moderator_client,
):
    models = {m["object_name"] for app in moderator_client.get("/admin/").context["app_list"]
              for m in app["models"]}  # fmt: skip
    assert models == {"Memory", "Document", "SuggestionRun"}


def test_a_viewer_cannot_log_in_to_the_admin(user):
    response = Client().post("/admin/login/", {"username": "viewer", "password": "pw-viewer-123"})
    assert response.status_code == 200 and b"not for it" in response.content


def test_a_moderator_logs_in_to_the_admin(moderator_user):
    response = Client().post("/admin/login/", {"username": "mod", "password": "pw-mod-123"})
    assert response.status_code == 302


@pytest.mark.parametrize("role_index", [1, 2], ids=["viewer", "moderator"])
def test_what_a_role_cannot_use_is_not_shown(role_index, client_as):
    html = client_as(ROLES[role_index]).get("/").content.decode()
    assert 'href="/settings/"' not in html
    assert ('href="/admin/"' in html) is (ROLES[role_index] == "moderator")
    assert ('id="upload"' in html) is (ROLES[role_index] == "moderator")


def test_the_owner_sees_settings_admin_and_upload(admin_client):
    html = admin_client.get("/").content.decode()
    assert 'href="/settings/"' in html and 'href="/admin/"' in html and 'id="upload"' in html


def test_a_viewer_sees_the_upload_button_once_the_owner_allows_it(user_client, viewer_uploads):
    assert 'id="upload"' in user_client.get("/").content.decode()
    assert 'id="upload-form"' in user_client.get("/documents/").content.decode()


def test_a_viewer_sees_only_their_own_memories_in_search(user_client, user, other_user):
    memory_create(content="Viewer plays chess.", subject_user=user)
    memory_create(content="Stranger plays chess.", subject_user=other_user)
    memory_create(content="Chess night is on Monday.")
    memory_create(content="Pending chess fact.", source=MemorySource.AI_SUGGESTED)
    found = user_client.get("/api/memory/search?q=chess").json()["items"]
    assert [item["memory"]["content"] for item in found] == ["Viewer plays chess."]
    assert user_client.get("/api/memory/suggestions").json() == []


def test_a_viewer_sees_only_their_own_documents(user_client, user, world):
    built = world("viewer")
    assert built.global_document.pk
    assert user_client.get("/api/documents").json()["items"] == []
    assert b"lore.txt" not in user_client.get("/documents/").content


def test_nothing_a_refused_request_asked_for_changed(client_as, world):
    """The refused rows above change nothing: settings, memories and documents stay."""
    built = world("viewer")
    before = runtime_settings_get().ollama_endpoint
    viewer = client_as("viewer")
    viewer.post("/settings/", {"ollama_endpoint": "http://attacker.example:11434"})
    viewer.put("/api/settings", {"ollama_endpoint": "http://attacker.example:1"},
               content_type="application/json")  # fmt: skip
    viewer.delete(f"/api/memory/{built.global_memory.pk}")
    viewer.delete(f"/api/documents/{built.global_document.pk}")
    viewer.post(f"/api/memory/{built.their_suggestion.pk}/reject")
    assert runtime_settings_get().ollama_endpoint == before
    assert Memory.objects.filter(pk=built.global_memory.pk).exists()
    assert Document.objects.filter(pk=built.global_document.pk).exists()
    assert Memory.objects.get(pk=built.their_suggestion.pk).status == MemoryStatus.PENDING


# Pages anyone may open: logging in, and the API's own description.
PUBLIC = {
    "/accounts/login/",
    "/accounts/logout/",
    "/admin/login/",
    "/admin/logout/",
    "/api/docs",
    "/api/openapi.json",
    "/overlay/",  # OBS cannot log in: the page is the same for all, its socket needs the token
    "/favicon.ico",  # leads to the static icon
    "/persona/avatar/1.png",  # the persona's face, shown on stream; leads to the current one
}


@pytest.mark.parametrize("url", [u for u in page_urls() if u not in PUBLIC])
def test_every_page_the_admin_included_sends_anonymous_visitors_to_a_login(client, url):
    response = client.get(url)
    assert response.status_code in {301, 302, 401, 403, 404, 405}, url
    if response.status_code in {301, 302}:
        assert "login" in response["Location"], (url, response["Location"])


@pytest.mark.parametrize(("method", "url"), api_operations())
def test_every_api_operation_refuses_anonymous_callers_whatever_the_body(client, method, url):
    response = client.generic(method, url, "{}", content_type="application/json")
    assert response.status_code in {401, 403}, (method, url, response.status_code)


def test_a_viewer_sent_to_the_admin_gets_the_403_page_not_a_second_login(user_client):
    response = user_client.get("/admin/", follow=True)
    assert response.status_code == 403
    assert b"Only moderators and the owner can use the admin." in response.content


def test_a_refused_page_logs_one_line_not_a_traceback(user_client, caplog):
    user_client.get("/settings/")
    refused = [record for record in caplog.records if "Forbidden" in record.getMessage()]
    assert refused and all(record.exc_info is None for record in refused)
