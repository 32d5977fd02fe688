"""Reads of the persona: the one row, its avatar, its card."""

import os

from django.db import IntegrityError, transaction
from django.templatetags.static import static
from django.urls import reverse

from persona.models import Persona

DEFAULT_AVATAR = "persona/avatar.png"
# The environment variable that seeds the description the first time (README, Configuration).
SEED_VARIABLE = "PERSONA_PROMPT"


def persona_get() -> Persona:
    """The persona, created with Luma's defaults (and `PERSONA_PROMPT`) on first read.

    The avatar's bytes are left out (`persona_avatar_png` reads them): every page shows
    the persona's name."""
    found = Persona.objects.defer("avatar_png").filter(pk=1).first()
    if found is not None:
        return found
    seeded = os.environ.get(SEED_VARIABLE, "").replace("\x00", "").strip()
    candidate = Persona(pk=1, **({"description": seeded} if seeded else {}))
    try:
        with transaction.atomic():
            candidate.save(force_insert=True)
    except IntegrityError:  # another request created it first
        return Persona.objects.defer("avatar_png").get(pk=1)
    return candidate


def persona_avatar_url(persona: Persona) -> str:
    """The uploaded avatar's URL (it changes with the image), or the default avatar's."""
    if persona.avatar_version:
        return reverse("persona-avatar", kwargs={"version": persona.avatar_version})
    return static(DEFAULT_AVATAR)


def persona_avatar_png() -> bytes:
    """The avatar as PNG bytes: the uploaded one, or the default image."""
    stored = Persona.objects.filter(pk=1).values_list("avatar_png", flat=True).first()
    if stored:
        return bytes(stored)
    return default_avatar_png()


def default_avatar_png() -> bytes:
    from django.contrib.staticfiles import finders

    path = finders.find(DEFAULT_AVATAR)
    assert path, f"static/{DEFAULT_AVATAR} is missing"
    with open(path, "rb") as file:
        return file.read()
