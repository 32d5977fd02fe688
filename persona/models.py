"""The persona: the character every surface speaks as (one row).

Its fields are a SillyTavern character card's (`persona.cards`): name, description,
personality, scenario, greeting (`first_mes`), example dialogue (`mes_example`), system
prompt and post-history instructions. The card it was imported from is kept whole in
`card`, so that an export gives back every field Luma does not use, `extensions` and
the lorebook included.
"""

from django.core.validators import ProhibitNullCharactersValidator
from django.db import models

DEFAULT_NAME = "Luma"
DEFAULT_DESCRIPTION = (
    "You are {{char}}, a cheerful and quick-witted AI VTuber who streams with your "
    "community. You are warm, playful and concise, you remember what people tell you, and "
    "you never pretend to know things you do not."
)
NAME_MAX_CHARS = 100
TEXT_MAX_CHARS = 20000
AVATAR_MAX_SIDE = 1024

_no_nul = [ProhibitNullCharactersValidator()]


class Persona(models.Model):
    name = models.CharField(max_length=NAME_MAX_CHARS, default=DEFAULT_NAME, validators=_no_nul)
    description = models.TextField(
        blank=True,
        default=DEFAULT_DESCRIPTION,
        validators=_no_nul,
        help_text="Who the persona is: appearance, background, how they talk.",
    )
    personality = models.TextField(
        blank=True, validators=_no_nul, help_text="A short summary of their personality."
    )
    scenario = models.TextField(
        blank=True, validators=_no_nul, help_text="Where and how conversations take place."
    )
    greeting = models.TextField(
        blank=True,
        validators=_no_nul,
        help_text="The first message of every new web conversation (empty: none).",
    )
    example_dialogue = models.TextField(
        blank=True,
        validators=_no_nul,
        help_text="Example exchanges showing how they talk; start each with <START>.",
    )
    system_prompt = models.TextField(
        blank=True,
        validators=_no_nul,
        help_text="Replaces Luma's main instruction; {{original}} puts it back in.",
    )
    post_history_instructions = models.TextField(
        blank=True,
        validators=_no_nul,
        help_text="Sent after the conversation, just before the reply: the strongest place.",
    )
    avatar_png = models.BinaryField(blank=True, default=b"", editable=False)
    # A short hash of the avatar: its URL changes whenever the image does.
    avatar_version = models.CharField(max_length=16, blank=True, editable=False)
    # The character card last imported, as read (V2 or V3 shape): exported with the
    # fields above written over it.
    card = models.JSONField(default=dict, blank=True, editable=False)
    card_imported_at = models.DateTimeField(null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "persona"
        verbose_name_plural = "persona"

    def __str__(self) -> str:
        return self.name

    @property
    def avatar_url(self) -> str:
        from persona.selectors import persona_avatar_url  # the selector knows the URLs

        return persona_avatar_url(self)
