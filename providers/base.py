"""The one interface every model provider implements."""

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TypedDict

from providers.reasoning import Reasoning, reasoning_split

__all__ = ["Reasoning"]  # a stream item, re-exported with the other ones


class ChatMessage(TypedDict):
    role: str  # "system" | "user" | "assistant"
    content: str


@dataclass(frozen=True)
class Usage:
    """Token counts of one reply, and why it ended (OpenAI's `finish_reason`:
    "stop", or "length" when the max-tokens limit cut it off)."""

    prompt_tokens: int
    completion_tokens: int
    estimated: bool = False
    finish_reason: str = "stop"

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class Completion:
    text: str
    usage: Usage


@dataclass(frozen=True)
class ChatOptions:
    model: str
    temperature: float = 0.7
    max_tokens: int = 512
    json_mode: bool = False


# A stream yields reply text chunks and `Reasoning` pieces as they come, then
# exactly one Usage as its last item.
ChatStream = Iterator[str | Reasoning | Usage]


def estimate_tokens(text: str) -> int:
    """About four characters a token: used only when a provider reports nothing."""
    return max(1, (len(text) + 3) // 4) if text else 0


def estimate_usage(messages: list[ChatMessage], reply: str) -> Usage:
    prompt = sum(estimate_tokens(m["content"]) + 4 for m in messages)
    return Usage(prompt, estimate_tokens(reply), estimated=True)


class Provider(ABC):
    name: str

    @abstractmethod
    def stream_chat(self, messages: list[ChatMessage], options: ChatOptions) -> ChatStream:
        """Stream what the server sends: text chunks (reasoning in `<think>` tags
        included) or `Reasoning` the server marks as such, then the Usage."""

    def stream(self, messages: list[ChatMessage], options: ChatOptions) -> ChatStream:
        """`stream_chat` with reasoning always apart from the reply's text."""
        return reasoning_split(self.stream_chat(messages, options))

    def complete(self, messages: list[ChatMessage], options: ChatOptions) -> Completion:
        """The whole reply, without reasoning."""
        chunks: list[str] = []
        usage: Usage | None = None
        for item in self.stream(messages, options):
            if isinstance(item, Usage):
                usage = item
            elif isinstance(item, str):
                chunks.append(item)
        text = "".join(chunks)
        return Completion(text, usage or estimate_usage(messages, text))

    @abstractmethod
    def list_models(self) -> list[str]:
        """Names of the models this provider can chat with right now."""

    @abstractmethod
    def embed(self, texts: list[str]) -> list[list[float]]:
        """One embedding vector per text."""
