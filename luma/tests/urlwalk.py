"""Every route of the site and the API, with parameters filled in, for tests that walk them all."""

import re

from django.urls import URLPattern, URLResolver, get_resolver

from config.api import api


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
