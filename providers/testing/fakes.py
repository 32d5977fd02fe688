"""Local fake LLM servers that speak the real OpenAI and Ollama wire protocols.

The point is to exercise the *real* ``openai`` and ``ollama`` client libraries
(and therefore our adapters' error mapping, streaming and timeout handling)
without a network, an API key or a GPU. Standard library only, so the fakes can
be used from tests and benchmarks alike.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import math
import re
import struct
import threading
import time
import weakref
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socket import SHUT_RDWR, socket
from types import TracebackType
from typing import Any, ClassVar

__all__ = [
    "FakeBehaviour",
    "FakeOllamaServer",
    "FakeOpenAIServer",
    "FakeServer",
    "free_port",
]

_HOST = "127.0.0.1"
_CHUNK_RE = re.compile(r"^\s+|\S+\s*")
_GARBAGE = "{this is not json"
# Errors a handler sees when the client gave up (timeout, closed stream) mid-response.
_CLIENT_GONE = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError)


@dataclass
class FakeBehaviour:
    """How the fake server answers; mutable so one server can play several scenarios."""

    reply: str = "Hello from the fake model."
    chunk_delay: float = 0.0
    first_byte_delay: float = 0.0
    status: int = 200
    garbage: bool = False
    models: list[str] = field(default_factory=lambda: ["fake-chat", "fake-small"])
    prompt_tokens: int = 11
    completion_tokens: int | None = None
    embedding_dim: int = 8
    omit_usage: bool = False  # send no token counts, as some servers do
    # Thinking sent before the reply: "tags" in the text as `<think>…</think>` split
    # across chunks (Ollama, vLLM, llama.cpp with deepseek-r1, qwq), "open-in-prompt"
    # the same without the opening tag (templates that put it in the prompt), "field"
    # apart (OpenAI-compatible: `reasoning_content`, DeepSeek's reasoner; Ollama:
    # `message.thinking`).
    reasoning: str = ""
    reasoning_as: str = "tags"
    error_message: str | None = None  # the message of an error status, if not the default
    # A prompt longer than this many characters is refused with the server's 400
    # "context length exceeded" error, as vLLM, llama.cpp and DeepSeek answer.
    max_prompt_chars: int | None = None
    finish_reason: str = "stop"  # "length": the max-tokens limit cut the reply off


def free_port() -> int:
    """Return a port nothing listens on, so "server down" tests get a real refusal."""
    with socket() as sock:
        sock.bind((_HOST, 0))
        return int(sock.getsockname()[1])


def split_reply(reply: str) -> list[str]:
    """Split into ~1-word chunks whose concatenation is exactly ``reply``."""
    return _CHUNK_RE.findall(reply)


def content_chunks(behaviour: FakeBehaviour) -> list[str]:
    """The reply's text chunks, with the thinking in tags cut every 3 characters
    (so `<think>` arrives as `<th` + `ink` + `>…`) when the behaviour asks for it."""
    if not behaviour.reasoning or behaviour.reasoning_as == "field":
        return split_reply(behaviour.reply)
    opening = "<think>" if behaviour.reasoning_as == "tags" else ""
    thinking = f"{opening}{behaviour.reasoning}</think>\n\n"
    return [thinking[i : i + 3] for i in range(0, len(thinking), 3)] + split_reply(behaviour.reply)


def prompt_chars(body: dict[str, Any]) -> int:
    messages = body.get("messages")
    if not isinstance(messages, list):
        return 0
    return sum(len(str(m.get("content", ""))) for m in messages if isinstance(m, dict))


def fake_embedding(text: str, dim: int) -> list[float]:
    """Deterministic unit vector from a hash, so similarity tests are reproducible."""
    values: list[float] = []
    block = 0
    while len(values) < dim:
        digest = hashlib.sha256(f"{block}:{text}".encode()).digest()
        for (word,) in struct.iter_unpack("<I", digest):
            values.append(word / 0xFFFFFFFF * 2.0 - 1.0)
        block += 1
    values = values[:dim]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [v / norm for v in values]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 256  # load tests open many connections at once
    owner: FakeServer
    connections: weakref.WeakSet[Any]

    def get_request(self) -> tuple[Any, Any]:
        connection, address = super().get_request()
        self.connections.add(connection)
        return connection, address

    def sever_connections(self) -> None:
        """Cut every open (keep-alive) connection, as a server that dies would."""
        for connection in list(self.connections):
            with contextlib.suppress(OSError):
                connection.shutdown(SHUT_RDWR)
        self.connections.clear()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet: clients hanging up on purpose (timeouts) are part of the tests."""


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 so httpx can keep connections alive between calls, like a real API.
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default per-request stderr logging."""

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        try:
            self.server.owner._handle(self)
        except _CLIENT_GONE:
            self.close_connection = True

    # --- helpers used by FakeServer subclasses -------------------------------------

    def read_json(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            return None

    def send_json(self, status: int, payload: Any) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def start_stream(self, content_type: str) -> None:
        # Chunked encoding keeps the connection reusable and is what real APIs send.
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()

    def write_chunk(self, data: str, *, last: bool = False) -> None:
        raw = data.encode()
        out = b"%x\r\n%s\r\n" % (len(raw), raw) if raw else b""
        if last:
            # Same send as the final data, so clients that stop reading at the last
            # event (openai's sync Stream at [DONE]) still see a complete message and
            # can reuse the connection.
            out += b"0\r\n\r\n"
        if out:
            self.wfile.write(out)
            self.wfile.flush()

    def end_stream(self) -> None:
        self.write_chunk("", last=True)


class FakeServer:
    """Threaded local HTTP server; subclasses implement one vendor protocol in ``_route``."""

    def __init__(self, behaviour: FakeBehaviour | None = None) -> None:
        self.behaviour: FakeBehaviour = behaviour if behaviour is not None else FakeBehaviour()
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        self._counter = 0

    # --- lifecycle -----------------------------------------------------------------

    def start(self) -> FakeServer:
        """Bind an ephemeral port so parallel tests never collide."""
        if self._httpd is not None:
            return self
        self._stopping.clear()
        httpd = _Server((_HOST, 0), _Handler)
        httpd.owner = self
        httpd.connections = weakref.WeakSet()
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"{type(self).__name__}:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and wake handlers sleeping on a simulated delay."""
        self._stopping.set()
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        httpd.sever_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("server is not running; call start() first")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{_HOST}:{self.port}"

    # --- request plumbing ----------------------------------------------------------

    def _handle(self, handler: _Handler) -> None:
        body = handler.read_json() if handler.command == "POST" else None
        path = handler.path.split("?", 1)[0]
        with self._lock:
            self.requests.append(
                {
                    "method": handler.command,
                    "path": path,
                    # Lower-cased: HTTP header names are case-insensitive, dict keys are not.
                    "headers": {k.lower(): v for k, v in handler.headers.items()},
                    "json": body,
                }
            )
            self._counter += 1
        behaviour = self.behaviour
        if behaviour.first_byte_delay > 0:
            self._sleep(behaviour.first_byte_delay)
        self._route(handler, handler.command, path, body if isinstance(body, dict) else {})

    def _route(self, handler: _Handler, method: str, path: str, body: dict[str, Any]) -> None:
        raise NotImplementedError

    def _sleep(self, seconds: float) -> None:
        # Interruptible, so stop() does not wait out a long simulated delay.
        if seconds > 0:
            self._stopping.wait(seconds)

    def _next_id(self) -> int:
        with self._lock:
            return self._counter

    def _completion_tokens(self, chunks: list[str]) -> int:
        configured = self.behaviour.completion_tokens
        return len(chunks) if configured is None else configured

    def _has_model(self, model: object) -> bool:
        return isinstance(model, str) and model in self.behaviour.models

    @staticmethod
    def _texts(value: object) -> list[str]:
        """Embedding input may be one string or a list (of strings or token ids)."""
        if isinstance(value, list):
            return [v if isinstance(v, str) else json.dumps(v) for v in value]
        if value is None:
            return []
        return [value if isinstance(value, str) else json.dumps(value)]


class FakeOpenAIServer(FakeServer):
    """OpenAI-compatible (also DeepSeek, vLLM, LM Studio...) chat-completions API."""

    _ERRORS: ClassVar[dict[int, tuple[str, str, str | None]]] = {
        400: ("Invalid request", "invalid_request_error", None),
        401: (
            "Authentication Fails (no such user)",
            "authentication_error",
            "invalid_api_key",
        ),
        402: ("Insufficient Balance", "insufficient_quota", "insufficient_quota"),
        403: ("Permission denied", "permission_error", None),
        404: ("Model Not Exist", "invalid_request_error", "model_not_found"),
        422: ("Invalid parameters", "invalid_request_error", None),
        429: ("Rate limit reached for requests", "rate_limit_error", "rate_limit_exceeded"),
        503: ("Server overloaded, please try again later", "server_error", None),
    }

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def _error(self, handler: _Handler, status: int, message: str | None = None) -> None:
        default_message, kind, code = self._ERRORS.get(
            status, ("The server had an error while processing your request", "server_error", None)
        )
        message = message or self.behaviour.error_message or default_message
        payload = {"error": {"message": message, "type": kind, "code": code}}
        handler.send_json(status, payload)

    def _route(self, handler: _Handler, method: str, path: str, body: dict[str, Any]) -> None:
        auth = handler.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or not auth[len("Bearer ") :].strip():
            self._error(handler, 401)
            return
        if self.behaviour.status != 200:
            self._error(handler, self.behaviour.status)
            return
        if method == "GET" and path == "/v1/models":
            self._models(handler)
        elif method == "POST" and path == "/v1/chat/completions":
            self._chat(handler, body)
        elif method == "POST" and path == "/v1/embeddings":
            self._embeddings(handler, body)
        else:
            self._error(handler, 404, f"Unknown route {method} {path}")

    def _models(self, handler: _Handler) -> None:
        data = [
            {"id": m, "object": "model", "created": 0, "owned_by": "fake"}
            for m in self.behaviour.models
        ]
        handler.send_json(200, {"object": "list", "data": data})

    def _usage(self, completion_tokens: int) -> dict[str, int]:
        prompt = self.behaviour.prompt_tokens
        return {
            "prompt_tokens": prompt,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt + completion_tokens,
        }

    def _chat(self, handler: _Handler, body: dict[str, Any]) -> None:
        model = body.get("model")
        if not self._has_model(model):
            self._error(handler, 404)
            return
        behaviour = self.behaviour
        limit = behaviour.max_prompt_chars
        if limit is not None and prompt_chars(body) > limit:
            message = (
                f"This model's maximum context length is {limit // 4} tokens. However, you "
                f"requested {prompt_chars(body) // 4} tokens. Please reduce the length of the "
                "messages."
            )
            handler.send_json(
                400,
                {
                    "error": {
                        "message": message,
                        "type": "invalid_request_error",
                        "code": "context_length_exceeded",
                    }
                },
            )
            return
        chunks = content_chunks(behaviour)
        usage = self._usage(self._completion_tokens(chunks))
        completion_id = f"chatcmpl-fake-{self._next_id()}"
        created = int(time.time())
        if not body.get("stream"):
            handler.send_json(
                200,
                {
                    "id": completion_id,
                    "object": "chat.completion",
                    "created": created,
                    "model": model,
                    "system_fingerprint": "fp_fake",
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": "".join(chunks)},
                            "logprobs": None,
                            "finish_reason": behaviour.finish_reason,
                        }
                    ],
                    "usage": usage,
                },
            )
            return

        def chunk(delta: dict[str, Any], finish: str | None) -> str:
            payload = {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "system_fingerprint": "fp_fake",
                "choices": [
                    {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
                ],
            }
            return f"data: {json.dumps(payload)}\n\n"

        wire_chunks = chunks or [""]
        handler.start_stream("text/event-stream")
        if behaviour.reasoning and behaviour.reasoning_as == "field":
            for piece in split_reply(behaviour.reasoning):
                handler.write_chunk(chunk({"role": "assistant", "reasoning_content": piece}, None))
                self._sleep(behaviour.chunk_delay)
        for i, text in enumerate(wire_chunks):
            if i:
                self._sleep(behaviour.chunk_delay)
            delta: dict[str, Any] = {"content": text}
            if i == 0:
                delta = {"role": "assistant", "content": text}
            last = i == len(wire_chunks) - 1
            handler.write_chunk(chunk(delta, behaviour.finish_reason if last else None))
            if behaviour.garbage:
                handler.write_chunk(f"data: {_GARBAGE}\n\n")
                handler.end_stream()
                return
        stream_options = body.get("stream_options") or {}
        wants_usage = isinstance(stream_options, dict) and stream_options.get("include_usage")
        if wants_usage and not behaviour.omit_usage:
            final = {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "system_fingerprint": "fp_fake",
                "choices": [],
                "usage": usage,
            }
            handler.write_chunk(f"data: {json.dumps(final)}\n\n")
        handler.write_chunk("data: [DONE]\n\n", last=True)

    def _embeddings(self, handler: _Handler, body: dict[str, Any]) -> None:
        model = body.get("model")
        if not self._has_model(model):
            self._error(handler, 404)
            return
        dim = body.get("dimensions") or self.behaviour.embedding_dim
        # The openai client asks for base64 unless told otherwise, and decodes float32 LE.
        as_base64 = body.get("encoding_format") == "base64"
        texts = self._texts(body.get("input"))
        data = []
        for i, text in enumerate(texts):
            vector = fake_embedding(text, int(dim))
            encoded: Any = vector
            if as_base64:
                encoded = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
            data.append({"object": "embedding", "index": i, "embedding": encoded})
        tokens = sum(max(1, len(t.split())) for t in texts)
        handler.send_json(
            200,
            {
                "object": "list",
                "data": data,
                "model": model,
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            },
        )


class FakeOllamaServer(FakeServer):
    """Ollama native API (``/api/...``), as spoken by the ``ollama`` client."""

    version = "0.12.0"

    def _error(self, handler: _Handler, status: int, message: str | None = None) -> None:
        message = message or self.behaviour.error_message or f"fake ollama error (status {status})"
        handler.send_json(status, {"error": message})

    def _resolve(self, model: object) -> str | None:
        """Ollama treats ``name`` and ``name:latest`` as the same model."""
        if not isinstance(model, str):
            return None
        models = self.behaviour.models
        candidates = {model, f"{model}:latest", model.removesuffix(":latest")}
        return model if any(c in models for c in candidates) else None

    def _route(self, handler: _Handler, method: str, path: str, body: dict[str, Any]) -> None:
        status = self.behaviour.status
        if status != 200:
            message = "unauthorized" if status == 401 else None
            self._error(handler, status, message)
            return
        if method == "GET" and path == "/api/tags":
            self._tags(handler)
        elif method == "GET" and path == "/api/version":
            handler.send_json(200, {"version": self.version})
        elif method == "POST" and path == "/api/chat":
            self._chat(handler, body)
        elif method == "POST" and path == "/api/embed":
            self._embed(handler, body)
        else:
            self._error(handler, 404, "404 page not found")

    def _tags(self, handler: _Handler) -> None:
        models = [
            {
                "name": m,
                "model": m,
                "modified_at": "2026-01-01T00:00:00Z",
                "size": 1,
                "digest": "sha256:" + hashlib.sha256(m.encode()).hexdigest(),
                "details": {
                    "parent_model": "",
                    "format": "gguf",
                    "family": "fake",
                    "families": ["fake"],
                    "parameter_size": "1B",
                    "quantization_level": "Q4_0",
                },
            }
            for m in self.behaviour.models
        ]
        handler.send_json(200, {"models": models})

    @staticmethod
    def _now() -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + "Z"

    def _not_found(self, handler: _Handler, model: object) -> None:
        self._error(handler, 404, f'model "{model}" not found, try pulling it first')

    def _chat(self, handler: _Handler, body: dict[str, Any]) -> None:
        model = self._resolve(body.get("model"))
        if model is None:
            self._not_found(handler, body.get("model"))
            return
        behaviour = self.behaviour
        limit = behaviour.max_prompt_chars
        if limit is not None and prompt_chars(body) > limit:
            self._error(handler, 400, "the input length exceeds the context length")
            return
        chunks = content_chunks(behaviour)
        thinking = split_reply(behaviour.reasoning) if behaviour.reasoning_as == "field" else []
        started = time.perf_counter_ns()

        def final(content: str) -> dict[str, Any]:
            total = max(1, time.perf_counter_ns() - started)
            result = {
                "model": model,
                "created_at": self._now(),
                "message": {"role": "assistant", "content": content},
                "done": True,
                "done_reason": behaviour.finish_reason,
                "total_duration": total,
                "load_duration": 0,
                "prompt_eval_count": behaviour.prompt_tokens,
                "prompt_eval_duration": total // 10,
                "eval_count": self._completion_tokens(chunks),
                "eval_duration": total - total // 10,
            }
            if behaviour.omit_usage:
                for key in ("prompt_eval_count", "eval_count"):
                    del result[key]
            return result

        # Ollama streams unless the request explicitly says "stream": false.
        if body.get("stream") is False:
            handler.send_json(200, final("".join(chunks)))
            return
        handler.start_stream("application/x-ndjson")
        for text in thinking:
            part = {
                "model": model,
                "created_at": self._now(),
                "message": {"role": "assistant", "content": "", "thinking": text},
                "done": False,
            }
            handler.write_chunk(json.dumps(part) + "\n")
        for i, text in enumerate(chunks):
            if i:
                self._sleep(behaviour.chunk_delay)
            part = {
                "model": model,
                "created_at": self._now(),
                "message": {"role": "assistant", "content": text},
                "done": False,
            }
            handler.write_chunk(json.dumps(part) + "\n")
            if behaviour.garbage:
                handler.write_chunk(_GARBAGE + "\n")
                handler.end_stream()
                return
        if behaviour.garbage:  # empty reply: still honour "garbage after a valid start"
            handler.write_chunk(_GARBAGE + "\n")
            handler.end_stream()
            return
        self._sleep(behaviour.chunk_delay if chunks else 0.0)
        handler.write_chunk(json.dumps(final("")) + "\n", last=True)

    def _embed(self, handler: _Handler, body: dict[str, Any]) -> None:
        model = self._resolve(body.get("model"))
        if model is None:
            self._not_found(handler, body.get("model"))
            return
        texts = self._texts(body.get("input"))
        dim = body.get("dimensions") or self.behaviour.embedding_dim
        handler.send_json(
            200,
            {
                "model": model,
                "embeddings": [fake_embedding(t, int(dim)) for t in texts],
                "total_duration": 1,
                "load_duration": 0,
                "prompt_eval_count": sum(max(1, len(t.split())) for t in texts),
            },
        )


def main() -> None:
    """Serve a fake until killed: `python -m providers.testing.fakes openai --reply "Hi"`.

    Prints the server's URL on the first line, for scripts and benchmarks.
    """
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("kind", choices=["openai", "ollama"])
    parser.add_argument("--reply", default=FakeBehaviour.reply)
    parser.add_argument("--chunk-delay", type=float, default=0.0)
    args = parser.parse_args()
    server_class = FakeOpenAIServer if args.kind == "openai" else FakeOllamaServer
    server = server_class(FakeBehaviour(reply=args.reply, chunk_delay=args.chunk_delay)).start()
    print(server.url, flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
