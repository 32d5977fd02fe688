from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from documents.models import Document
from documents.services import document_create


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path: Path) -> Path:
    """Each test stores its uploads in a folder of its own."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def upload(db, moderator_user) -> Callable[..., Document]:
    """Store and ingest a file as a moderator would (tasks run at once in tests)."""

    def upload(name: str, data: bytes, **options) -> Document:
        options.setdefault("uploaded_by", moderator_user)
        document, _ = document_create(file=SimpleUploadedFile(name, data), name=name, **options)
        return document

    return upload


@pytest.fixture
def post_file(moderator_client: Client) -> Callable[..., object]:
    def post_file(name: str, data: bytes, client: Client = moderator_client, **fields):
        return client.post("/api/documents", {"file": SimpleUploadedFile(name, data), **fields})

    return post_file
