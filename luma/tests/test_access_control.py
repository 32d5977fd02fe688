"""Every page and API operation, walked: an anonymous client gets nothing."""

import pytest

from luma.tests.urlwalk import api_operations, page_urls

# Pages anyone may open: logging in, and the API's own description.
PUBLIC = {
    "/accounts/login/",
    "/accounts/logout/",
    "/admin/login/",
    "/admin/logout/",
    "/api/docs",
    "/api/openapi.json",
}


@pytest.mark.django_db
@pytest.mark.parametrize("url", [u for u in page_urls() if u not in PUBLIC])
def test_pages_send_anonymous_visitors_to_a_login(client, url):
    response = client.get(url)
    assert response.status_code in {301, 302, 401, 403, 404, 405}, url
    if response.status_code in {301, 302}:
        assert "login" in response["Location"], (url, response["Location"])


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "url"), api_operations())
def test_api_operations_refuse_anonymous_callers(client, method, url):
    response = client.generic(method, url, "{}", content_type="application/json")
    assert response.status_code in {401, 403}, (method, url, response.status_code)


def test_the_walk_finds_the_known_routes():
    assert "/" in page_urls()
    assert ("POST", "/api/chat") in api_operations()
    assert ("PUT", "/api/settings") in api_operations()
