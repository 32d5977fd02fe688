"""The request and response bodies of OpenAI's Chat Completions API, as Luma reads them.

Clients send far more than Luma uses: SillyTavern adds samplers (`top_k`,
`repetition_penalty`, `min_p`…), Open WebUI adds `metadata` or `user` objects, the
official client `stream_options`, `seed`, `logit_bias`. A request is refused only for
what Luma cannot answer (no messages, a bad `temperature`); every other field is
accepted and ignored, so a client configured for OpenAI works unchanged.
"""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

MAX_STOP_SEQUENCES = 4  # OpenAI's limit


class ChatMessageIn(BaseModel):
    """One message of the client's conversation. `content` may be text, a list of parts
    (`{"type": "text", "text": …}`, `image_url`, `input_audio`…) or null (an assistant
    turn that only called tools)."""

    model_config = ConfigDict(extra="ignore")

    role: str
    content: str | list[Any] | None = None
    name: str | None = None

    @property
    def text(self) -> str:
        """The text of `content`: a list's text parts, joined; images and audio left out."""
        if isinstance(self.content, str):
            return self.content
        if not isinstance(self.content, list):
            return ""
        parts = []
        for part in self.content:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, dict) and isinstance(part.get("text"), str):
                parts.append(part["text"])
        return "\n".join(part for part in parts if part)


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="ignore")

    include_usage: bool | None = False


class ChatCompletionIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    model: str = Field(..., min_length=1, max_length=200)
    messages: list[ChatMessageIn] = Field(..., min_length=1)
    stream: bool | None = False
    stream_options: StreamOptions | None = None
    temperature: float | None = Field(None, ge=0, le=2)
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    stop: str | list[str] | None = None
    # OpenAI: a string naming the end user. Some clients send an object or a number.
    user: Any = None
    response_format: dict[str, Any] | None = None

    @field_validator("stop")
    @classmethod
    def _stop_sequences(cls, value: str | list[str] | None) -> str | list[str] | None:
        if isinstance(value, list) and len(value) > MAX_STOP_SEQUENCES:
            raise ValueError(f"at most {MAX_STOP_SEQUENCES} stop sequences")
        return value

    @property
    def stop_sequences(self) -> list[str]:
        stops = [self.stop] if isinstance(self.stop, str) else list(self.stop or [])
        return [stop for stop in stops if stop]

    @property
    def reply_token_limit(self) -> int | None:
        return self.max_completion_tokens or self.max_tokens

    @property
    def json_mode(self) -> bool:
        kind = (self.response_format or {}).get("type")
        return kind in {"json_object", "json_schema"}

    @property
    def include_usage(self) -> bool:
        return bool(self.stream_options and self.stream_options.include_usage)
