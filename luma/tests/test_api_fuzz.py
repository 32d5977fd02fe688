"""Schemathesis against the served OpenAPI schema: no 5xx, responses match the schema."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
)

from luma.services import api_token_create


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """The app is called as WSGI: stop it closing the test's database connection
    after each request (Django's test client does the same)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def bearer(user) -> dict[str, str]:
    _, plain = api_token_create(user=user, name="fuzz")
    return {"Authorization": f"Bearer {plain}"}


# Loaded from the served endpoint, as a client would see it.
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application())


@schema.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_never_fails_and_keeps_to_its_schema(case, bearer, use_ollama):
    case.call_and_validate(
        headers=bearer,
        checks=[not_a_server_error, response_schema_conformance, content_type_conformance],
    )
