import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from memories.models import Memory, MemorySource
from persona.selectors import persona_get
from persona.tests.cards import b64, lorebook, png, png_chunks, v2_card

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "viewer", "moderator", "owner")


@pytest.fixture
def client_as(user, moderator_user, admin_user):
    def login(role: str) -> Client:
        client = Client()
        person = {"viewer": user, "moderator": moderator_user, "owner": admin_user}.get(role)
        if person is not None:
            client.force_login(person)
        return client

    return login


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (2000, 1000), (20, 200, 40)).save(out, format="JPEG")
    return out.getvalue()


OPERATIONS = {
    "read": lambda c: c.get("/api/persona"),
    "change": lambda c: c.put("/api/persona", {"name": "Mika"}, content_type="application/json"),
    "avatar upload": lambda c: c.post(
        "/api/persona/avatar", {"file": SimpleUploadedFile("a.jpg", jpeg())}
    ),
    "avatar reset": lambda c: c.delete("/api/persona/avatar"),
    "card import": lambda c: c.post(
        "/api/persona/card", {"file": SimpleUploadedFile("c.json", json.dumps(v2_card()).encode())}
    ),
    "card export": lambda c: c.get("/api/persona/card?format=v2"),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("operation", OPERATIONS)
def test_only_the_owner_may_read_or_change_the_persona(client_as, role, operation):
    before = persona_get().name
    response = OPERATIONS[operation](client_as(role))
    expected = {"anonymous": 401, "viewer": 403, "moderator": 403, "owner": 200}[role]
    assert response.status_code == expected, response.content[:200]
    if expected == 403:
        assert response.json()["message"].startswith("Only ")
    if expected != 200:
        assert persona_get().name == before


def test_the_owner_changes_fields_and_an_empty_name_is_refused(admin_client):
    saved = admin_client.put(
        "/api/persona",
        {"name": "  Mika  Star ", "scenario": "A cosy stream.", "greeting": "Hi {{user}}!"},
        content_type="application/json",
    )
    assert saved.status_code == 200
    assert saved.json()["name"] == "Mika Star" and saved.json()["greeting"] == "Hi {{user}}!"
    refused = admin_client.put("/api/persona", {"name": ""}, content_type="application/json")
    assert refused.status_code == 422
    unknown = admin_client.put("/api/persona", {"persona": "x"}, content_type="application/json")
    assert unknown.status_code == 422
    assert persona_get().name == "Mika Star"


def test_an_avatar_upload_is_stored_as_a_bounded_png_and_served_to_every_role(
    admin_client, user_client
):
    body = admin_client.post(
        "/api/persona/avatar", {"file": SimpleUploadedFile("a.jpg", jpeg())}
    ).json()
    assert body["avatar_uploaded"] is True
    assert Client().get(body["avatar_url"]).status_code == 200  # public: shown on stream
    served = user_client.get(body["avatar_url"])
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    with Image.open(io.BytesIO(served.content)) as image:
        assert image.format == "PNG" and image.size == (1024, 512)
    assert "immutable" in served["Cache-Control"]
    stale = user_client.get("/persona/avatar/0123456789abcdef.png")
    assert stale.status_code == 302 and stale["Location"] == body["avatar_url"]


def test_a_file_that_is_not_an_image_is_refused_as_avatar(admin_client):
    response = admin_client.post(
        "/api/persona/avatar", {"file": SimpleUploadedFile("a.png", b"<svg></svg>")}
    )
    assert response.status_code == 400 and "not an image" in response.json()["message"]
    assert persona_get().avatar_version == ""


def test_the_default_avatar_is_a_static_image_until_one_is_uploaded(admin_client):
    url = admin_client.get("/api/persona").json()["avatar_url"]
    assert url.endswith("persona/avatar.png") and url.startswith("/static/")


def test_a_card_import_reports_the_lorebook_memories_it_made(admin_client):
    card = png({"chara": b64(v2_card(character_book=lorebook({"keys": ["x"], "content": "L."})))})
    response = admin_client.post("/api/persona/card", {"file": SimpleUploadedFile("c.png", card)})
    assert response.status_code == 200
    body = response.json()
    assert body["persona"]["name"] == "Aria" and body["memories_created"] == 1
    assert body["spec"] == "chara_card_v2" and body["persona"]["card_spec"] == "chara_card_v2"
    assert Memory.objects.filter(source=MemorySource.CARD).count() == 1


@pytest.mark.parametrize(
    ("data", "status"),
    [(b"plain words", 415), (png({"x": "y"}), 400), (b"{", 400)],
    ids=["neither PNG nor JSON", "no card chunk", "broken JSON"],
)
def test_a_bad_card_upload_gets_an_error_body(admin_client, data, status):
    response = admin_client.post("/api/persona/card", {"file": SimpleUploadedFile("c", data)})
    assert response.status_code == status
    assert response.json()["message"]
    assert persona_get().name == "Luma"


def test_an_oversized_card_is_refused_before_it_is_read(admin_client, monkeypatch):
    monkeypatch.setattr("persona.api.CARD_MAX_BYTES", 1000)
    response = admin_client.post(
        "/api/persona/card", {"file": SimpleUploadedFile("c.json", b" " * 2000)}
    )
    assert response.status_code == 413 and "MB" in response.json()["message"]


@pytest.mark.parametrize("format", ["png", "v2", "v3"])
def test_the_card_downloads_as_a_named_file(admin_client, format):
    admin_client.put("/api/persona", {"name": "Mika"}, content_type="application/json")
    response = admin_client.get(f"/api/persona/card?format={format}")
    assert response.status_code == 200
    assert (
        "attachment" in response["Content-Disposition"]
        and "Mika" in response["Content-Disposition"]
    )
    if format == "png":
        assert set(png_chunks(response.content)) == {"chara", "ccv3"}
    else:
        assert json.loads(response.content)["data"]["name"] == "Mika"


def test_an_unknown_export_format_is_refused(admin_client):
    assert admin_client.get("/api/persona/card?format=webp").status_code == 422
