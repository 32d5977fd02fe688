"""The persona's part of a prompt, assembled in SillyTavern's order.

System prompt (or Luma's main instruction), description, personality, scenario and
example dialogue open the system message; the conversation service adds memories and
history after them, and the post-history instructions go last, into the turn the model
answers (strict chat templates allow one system message, at the start).

Macros are SillyTavern's: `{{char}}` (also `<BOT>`) is the persona's name and `{{user}}`
(also `<USER>`) the person talking, in any case; `{{original}}` in a system prompt is
Luma's main instruction, which the system prompt otherwise replaces.
"""

import re
from dataclasses import dataclass

from persona.models import Persona

MAIN_PROMPT = "You are {{char}}. Stay in character and reply to {{user}} as {{char}}."
_MACRO = re.compile(
    r"\{\{\s*(?P<char>char)\s*\}\}|\{\{\s*user\s*\}\}|<(?P<bot>BOT)>|<USER>", re.IGNORECASE
)
_ORIGINAL = re.compile(r"\{\{\s*original\s*\}\}", re.IGNORECASE)
_START = re.compile(r"<START>", re.IGNORECASE)


def macros_substitute(text: str, *, char: str, user: str) -> str:
    """`text` with the persona's and the user's names in place of their macros."""
    # One pass: a name that holds a macro is put in as written.
    return _MACRO.sub(lambda m: char if m["char"] or m["bot"] else user, text)


def example_dialogue_blocks(text: str) -> list[str]:
    """The example chats of a card's `mes_example`, each without its `<START>` line."""
    return [block.strip() for block in _START.split(text) if block.strip()]


@dataclass(frozen=True)
class PersonaPrompt:
    system: str  # opens the system message
    post_history: str  # appended to the turn the model answers; may be empty


def persona_prompt(persona: Persona, *, user: str) -> PersonaPrompt:
    """The persona's prompt for a conversation with `user`, macros substituted."""
    system = persona.system_prompt.strip()
    system = _ORIGINAL.sub(lambda _: MAIN_PROMPT, system) if system else MAIN_PROMPT
    parts = [system, persona.description.strip()]
    if persona.personality.strip():
        parts.append(f"{{{{char}}}}'s personality: {persona.personality.strip()}")
    if persona.scenario.strip():
        parts.append(f"Scenario: {persona.scenario.strip()}")
    examples = example_dialogue_blocks(persona.example_dialogue)
    if examples:
        shown = "\n\n".join(f"[Example chat]\n{block}" for block in examples)
        parts.append("How {{char}} talks (examples only, not part of this conversation):\n" + shown)
    text = "\n\n".join(part for part in parts if part)
    return PersonaPrompt(
        system=macros_substitute(text, char=persona.name, user=user),
        post_history=macros_substitute(
            persona.post_history_instructions.strip(), char=persona.name, user=user
        ),
    )


def persona_greeting(persona: Persona, *, user: str) -> str:
    """The first message of a new conversation with `user` ("" when there is none)."""
    return macros_substitute(persona.greeting.strip(), char=persona.name, user=user)
