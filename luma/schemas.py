"""Schemas every app's API shares: the base of input schemas, and the error body."""

from typing import Any

from ninja import Schema
from pydantic import ConfigDict, Field, ModelWrapValidatorHandler, field_validator, model_validator


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple):
        return any(_has_nul(item) for item in value)
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    return False


NO_NUL_PATTERN = "^[^\\x00]*$"


def _text_without_nul(schema: dict[str, Any]) -> None:
    """Give every free text in a JSON schema the pattern that says no NUL, so that the
    OpenAPI schema tells clients what `InputSchema` refuses."""
    if schema.get("type") == "string" and not {"enum", "const", "pattern"} & schema.keys():
        schema["pattern"] = NO_NUL_PATTERN
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            _text_without_nul(schema[key])
    for key in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(key, []):
            _text_without_nul(option)
    for member in schema.get("properties", {}).values():
        _text_without_nul(member)


class InputSchema(Schema):
    """Refuses NUL characters in any text field, with a 422 that names the field:
    PostgreSQL cannot store them, and no person types one.

    Refuses anything but an object too: ninja's `Schema` reads attributes, so a body
    of `[]` or `5` would otherwise pass as an object with every field left out."""

    model_config = ConfigDict(json_schema_extra=_text_without_nul)

    @model_validator(mode="wrap")
    @classmethod
    def _an_object(cls, value: Any, handler: ModelWrapValidatorHandler[Any]) -> Any:
        if not isinstance(value, dict | cls):
            raise ValueError(f"Expected an object, not {type(value).__name__}.")
        return handler(value)

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul_characters(cls, value: Any) -> Any:
        if _has_nul(value):
            raise ValueError("Text may not contain NUL (\\x00) characters.")
        return value


class ErrorOut(Schema):
    """The body of every refused request, whatever refused it: a `LumaError`, input
    that does not validate (422), or missing credentials (401).

    Further keys carry what a client needs to recover, e.g. the `conversation_id`
    and `user_message_id` of a reply that failed, or the `required_role` of a 403.
    """

    model_config = ConfigDict(extra="allow")

    message: str = Field(..., description="What went wrong, written for a person.")
    detail: Any = Field(
        ...,
        description="Technical detail: a string (often empty), or for 422 the list of "
        "validation errors, each with `loc`, `msg` and `type`.",
    )
