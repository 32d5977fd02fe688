"""The one interface every model provider implements."""

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TypedDict


class ChatMessage(TypedDict):
    role: str  # "system" | "user" | "assistant"
    content: str


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int
    estimated: bool = False

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


# A stream yields text chunks, then exactly one Usage as its last item.
ChatStream = Iterator[str | Usage]


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
        """Stream a reply: text chunks as they come, then its Usage."""

    def complete(self, messages: list[ChatMessage], options: ChatOptions) -> Completion:
        chunks: list[str] = []
        usage: Usage | None = None
        for item in self.stream_chat(messages, options):
            if isinstance(item, Usage):
                usage = item
            else:
                chunks.append(item)
        text = "".join(chunks)
        return Completion(text, usage or estimate_usage(messages, text))

    @abstractmethod
    def list_models(self) -> list[str]:
        """Names of the models this provider can chat with right now."""

    @abstractmethod
    def embed(self, texts: list[str]) -> list[list[float]]:
        """One embedding vector per text."""
