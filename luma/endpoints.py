"""The model servers' addresses, as people type them and as the clients want them.

People paste what they find in a tutorial or a curl example: `http://box:11434/api/chat`,
`https://api.deepseek.com/v1/chat/completions`, a trailing space. Each client wants one
form: Ollama's its root (it adds `/api/...` itself), an OpenAI-compatible client its base
(`.../v1` where the server has one; the client adds `/chat/completions`). Everything that
saves an address, and the registry building a provider from an older row, goes through
here, so a typo saved once still works and a mistake that is not a URL is refused with
the form expected.
"""

import re
from collections.abc import Callable
from urllib.parse import SplitResult, urlsplit, urlunsplit

from django.core.exceptions import ValidationError

OLLAMA_PORT = 11434
OLLAMA_HINT = "an Ollama endpoint looks like http://localhost:11434"
BASE_URL_HINT = (
    "a base URL looks like https://api.deepseek.com or, for other OpenAI-compatible "
    "servers, http://localhost:8000/v1"
)

# What tutorials append to Ollama's root: its native routes and its OpenAI-compatible ones.
_OLLAMA_SUFFIX = re.compile(r"(/api(/[\w.-]*)?|/v1(/[\w.-]*)*)$", re.IGNORECASE)
# Routes the OpenAI client appends to the base itself.
# What people paste after the base: the chat route, or the models list (ollama#3050).
_BASE_URL_SUFFIX = re.compile(r"(/chat)?/completions$|/models$", re.IGNORECASE)


def ollama_endpoint_normalise(value: str) -> str:
    """The root URL of an Ollama server: `" box:11434/api/tags/ "` → `http://box:11434`.

    A bare host gets `http://` and port 11434, as the Ollama client gives it (it would
    use port 80 for `http://gpu-box`); a path before the routes (a reverse proxy's
    `/ollama`) is kept.
    """
    url = _http_url(value, hint=OLLAMA_HINT, default_scheme="http")
    if "://" not in value and url.port is None:
        url = url._replace(netloc=f"{url.netloc}:{OLLAMA_PORT}")
    path = _OLLAMA_SUFFIX.sub("", url.path.rstrip("/")).rstrip("/")
    return urlunsplit(url._replace(path=path))


def base_url_normalise(value: str) -> str:
    """The base URL an OpenAI-compatible client wants:
    `"https://api.deepseek.com/v1/chat/completions/"` → `https://api.deepseek.com/v1`.

    `/v1` stays: many servers (vLLM, LM Studio, Ollama's own) serve only under it.
    """
    url = _http_url(value, hint=BASE_URL_HINT, default_scheme=None)
    path = _BASE_URL_SUFFIX.sub("", url.path.rstrip("/")).rstrip("/")
    return urlunsplit(url._replace(path=path))


def address_normalised(normalise: Callable[[str], str], value: str) -> str:
    """`normalise(value)`, or `value` as it is when it cannot be an address: for rows
    saved before normalising, where the server's own error then says what is wrong."""
    try:
        return normalise(value)
    except ValidationError:
        return value


def _http_url(value: str, *, hint: str, default_scheme: str | None) -> SplitResult:
    """`value` stripped and split, or `ValidationError` saying what was expected."""
    text = value.strip()
    if default_scheme and text and "://" not in text:
        text = f"{default_scheme}://{text}"
    url = _split(text)
    if url is None or url.scheme not in {"http", "https"} or not url.hostname:
        raise ValidationError(f"{value.strip()!r} is not a server's http(s) address: {hint}.")
    return url


def _split(text: str) -> SplitResult | None:
    """`text` split into its parts; None when it has parts no server address has."""
    try:
        url = urlsplit(text)
        url.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return None
    if url.query or url.fragment or re.search(r"\s", text):
        return None
    return url
