"""Schemathesis against the served OpenAPI schema, with every check it has, as the
owner, as a viewer and without credentials: no 5xx, and every status, content type
and body documented.

Deterministic (Hypothesis derandomized, no example database) and small: a few
examples per operation, so the whole run takes well under a minute.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.config import SchemathesisConfig

from luma.services import api_token_create

load_all_checks()
EVERY_CHECK = list(CHECKS.get_all())

# `positive_data_acceptance` wants every schema-valid request accepted. Services also
# judge what a schema cannot: a rule over several fields or rows (a subject naming no
# user, text blank once stripped, a base URL changed without its key) answers 400; an
# upload is judged by its content (413, 415, 422). Both are documented.
ACCEPTED = ["2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx"]
UPLOAD_ACCEPTED = [*ACCEPTED, "413", "415", "422"]

CONFIG = SchemathesisConfig.from_dict(
    {
        "suppress-health-check": ["all"],
        "generation": {"max-examples": 6, "deterministic": True, "database": "none"},
        "checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED}},
        "operations": [
            {
                "include-name": name,
                "checks": {"positive_data_acceptance": {"expected-statuses": UPLOAD_ACCEPTED}},
            }
            for name in (
                "POST /api/documents",
                "POST /api/persona/card",
                "POST /api/persona/avatar",
            )
        ],
    }
)


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """The app is called as WSGI: stop it closing the test's database connection
    after each request (Django's test client does the same)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(params=["owner", "viewer", "anonymous"])
def bearer(request) -> dict[str, str]:
    """A bearer token of the owner (a superuser) or of a viewer (a plain account); none
    for the anonymous, whose requests carry only the credentials schemathesis makes up."""
    fixture = {"owner": "admin_user", "viewer": "user"}.get(request.param)
    if fixture is None:
        return {}
    _, plain = api_token_create(user=request.getfixturevalue(fixture), name="fuzz")
    return {"Authorization": f"Bearer {plain}"}


# Loaded from the served endpoint, as a client would see it.
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application(), config=CONFIG)


@schema.parametrize()
def test_the_api_never_fails_and_keeps_to_its_schema(case, bearer, use_ollama):
    case.call_and_validate(headers=bearer, checks=EVERY_CHECK)
