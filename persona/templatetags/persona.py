from django import template
from django.contrib.auth.models import AbstractBaseUser

from persona.models import Persona
from persona.prompt import persona_greeting

register = template.Library()


@register.filter
def greeting_for(persona: Persona, user: AbstractBaseUser) -> str:
    """The persona's greeting for `user`, macros filled in ("" when it has none)."""
    return persona_greeting(persona, user=user.get_username())
