"""Every page and API operation, walked: an anonymous client gets nothing."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from luma.api import api

# Pages anyone may open: logging in, and the API's own description.
PUBLIC = {
    "/accounts/login/",
    "/accounts/logout/",
    "/admin/login/",
    "/admin/logout/",
    "/api/docs",
    "/api/openapi.json",
}


def page_urls(patterns=None, prefix: str = "") -> list[str]:
    """Every URL pattern, with its parameters filled in with `1`."""
    urls: list[str] = []
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            if route.startswith("api/"):
                continue  # walked through the OpenAPI schema below
            urls += page_urls(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            url = re.sub(r"<(?:\w+:)?\w+>", "1", route)
            url = re.sub(r"\(\?P<\w+>[^)]*\)", "1", url).lstrip("^").rstrip("$").replace("\\", "")
            if not re.search(r"[()\[\]?*+]", url):
                urls.append("/" + url)
    return sorted(set(urls))


def api_operations() -> list[tuple[str, str]]:
    schema = api.get_openapi_schema()
    return sorted(
        (method.upper(), re.sub(r"\{\w+\}", "1", path))
        for path, operations in schema["paths"].items()
        for method in operations
    )


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
