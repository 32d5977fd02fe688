"""The base of every API input schema."""

from typing import Any

from ninja import Schema
from pydantic import field_validator


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple):
        return any(_has_nul(item) for item in value)
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    return False


class InputSchema(Schema):
    """Refuses NUL characters in any text field, with a 422 that names the field:
    PostgreSQL cannot store them, and no person types one."""

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul_characters(cls, value: Any) -> Any:
        if _has_nul(value):
            raise ValueError("Text may not contain NUL (\\x00) characters.")
        return value
