"""The API's refusals: one body (`ErrorOut`) whatever refused, and every one in the schema."""

import pytest
from django.test import Client

from config.api import SERVICE_ERRORS, api
from luma.schemas import NO_NUL_PATTERN, ErrorOut

pytestmark = pytest.mark.django_db

ERROR_REF = {"$ref": "#/components/schemas/ErrorOut"}


def operations() -> dict[str, dict]:
    """Every operation of the served schema by "METHOD /path", the path under /api."""
    paths = api.get_openapi_schema()["paths"]
    return {
        f"{method.upper()} {path.removeprefix('/api')}": operation
        for path, methods in paths.items()
        for method, operation in methods.items()
    }


def documented(operation: str) -> set[int]:
    return set(operations()[operation]["responses"])


def assert_error_body(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    ErrorOut.model_validate(body)
    return body


def test_every_error_response_has_the_error_schema():
    schema = api.get_openapi_schema()
    assert schema["components"]["schemas"]["ErrorOut"]["required"] == ["message", "detail"]
    for name, operation in operations().items():
        for status, response in operation["responses"].items():
            if status >= 400:
                assert response["content"]["application/json"]["schema"] == ERROR_REF, name


def test_every_operation_documents_401_403_and_its_input_errors():
    for name, operation in operations().items():
        statuses = set(operation["responses"])
        assert {401, 403} <= statuses, name
        if operation.get("parameters") or operation.get("requestBody"):
            assert 422 in statuses, name
        if operation.get("requestBody"):
            assert {400, 413} <= statuses, name
        if any(parameter["in"] == "path" for parameter in operation.get("parameters", [])):
            assert 404 in statuses, name


def test_what_only_services_raise_is_documented_on_real_operations():
    assert set(SERVICE_ERRORS) <= set(operations())
    assert {409, 413, 415, 429} <= documented("POST /documents")
    assert {404, 429, 502, 503, 504} <= documented("POST /chat")
    assert 409 in documented("POST /memory/suggest")
    assert 409 in documented("POST /memory/{memory_id}/reject")
    assert 400 in documented("PUT /settings")


def test_text_inputs_say_they_refuse_nul_characters():
    memory_in = api.get_openapi_schema()["components"]["schemas"]["MemoryIn"]["properties"]
    assert memory_in["content"]["pattern"] == NO_NUL_PATTERN
    assert memory_in["tags"]["items"]["pattern"] == NO_NUL_PATTERN


def test_a_request_without_credentials_gets_the_error_body():
    body = assert_error_body(Client().get("/api/tokens"), 401)
    assert "Bearer" in body["message"]
    assert body["detail"] == "Unauthorized"


def test_a_session_without_its_csrf_token_gets_the_error_body(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post("/api/tokens", {"name": "x"}, content_type="application/json")
    assert "CSRF" in assert_error_body(response, 403)["message"]


def test_a_path_that_names_no_operation_gets_a_json_404(user_client):
    assert_error_body(user_client.get("/api/memory/abc"), 404)
    assert_error_body(user_client.delete("/api/tokens/null,null"), 404)
    assert_error_body(user_client.delete("/api/tokens/1%0A2"), 404)


def test_a_body_that_is_not_an_object_is_refused(admin_client):
    for body in ("[null, null]", "5", '"text"'):
        response = admin_client.put("/api/settings", body, content_type="application/json")
        assert "object" in assert_error_body(response, 422)["message"]


def test_a_body_over_the_request_limit_gets_413(user_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = '{"name": "' + "x" * 2000 + '"}'
    response = user_client.post("/api/tokens", body, content_type="application/json")
    assert "1000 bytes" in assert_error_body(response, 413)["message"]


def test_a_multipart_body_without_a_boundary_gets_400(admin_client):
    response = admin_client.post("/api/documents", b"--x", content_type="multipart/form-data")
    assert_error_body(response, 400)
