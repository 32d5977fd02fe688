from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from persona.selectors import persona_get


def persona(request: HttpRequest) -> dict[str, object]:
    """`persona` for every template (its name and avatar are shown wherever it
    speaks), read only by a page that shows it."""
    return {"persona": SimpleLazyObject(persona_get)}
