from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET

from persona.selectors import persona_avatar_png, persona_avatar_url, persona_get


@require_GET
def avatar(request: HttpRequest, version: str) -> HttpResponse:
    """The persona's avatar, for anyone: it is the face the persona shows on stream (the
    OBS overlay cannot log in; Discord gets the image itself). A URL names one version
    of the image, so it is cached for good; an old version's URL leads to the current one."""
    persona = persona_get()
    if version != persona.avatar_version:
        return redirect(persona_avatar_url(persona))
    response = HttpResponse(persona_avatar_png(), content_type="image/png")
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    response["Content-Security-Policy"] = "default-src 'none'"
    return response
