"""What a failing model server said, turned into one sentence a person can act on.

Servers speak one dialect of errors each (DeepSeek, OpenAI, vLLM, llama.cpp, Ollama),
through a status and a message. The adapters catch their client's exceptions; this
module reads the status and the wording into Luma's typed errors, so the web chat,
the API and Discord all say what is wrong and what to do, with the server's own words.
"""

import re
from dataclasses import dataclass

from providers.errors import (
    ContextTooLong,
    InsufficientBalance,
    ProviderError,
    ProviderRateLimited,
    ProviderServerError,
    ProviderTimeout,
    RequestRefused,
    UnknownModel,
    WrongEndpoint,
)

SAID_LIMIT = 300  # characters of the server's message quoted in a sentence

# Read in the message, not the code: some fakes and proxies send `model_not_found` with
# any 404. DeepSeek answers an unknown model with a 400 "Model Not Exist".
_MODEL_MISSING = re.compile(
    r"model\b.*\b(not found|not exist|does not exist|doesn't exist)|(unknown|no such) model",
    re.IGNORECASE,
)
# OpenAI, DeepSeek, vLLM ("maximum context length"), llama.cpp ("exceeds the available
# context size"), Ollama ("the input length exceeds the context length"), Anthropic-style.
# vLLM also says "longer than the maximum model length", other servers "max_seq_len".
_CONTEXT_TOO_LONG = re.compile(
    r"context[ _-]?(length|size|window)|maximum context|n_ctx|too many (input )?tokens"
    r"|(prompt|input|request|message)s? (is |are )?too long|maximum model length"
    r"|max_seq_len|max_model_len",
    re.IGNORECASE,
)
# Groq answers 413 "Request too large … on tokens per minute (TPM)": a rate, not a length.
_RATE_WORDING = re.compile(r"per minute|rate limit|\bTPM\b|\bRPM\b", re.IGNORECASE)
_NO_BALANCE = re.compile(
    r"insufficient[ _](balance|quota|funds|credit)|exceeded your current quota",
    re.IGNORECASE,
)
_CONTEXT_STATUSES = {-1, 400, 413, 422, 500}  # -1: an error inside an Ollama stream
_MODEL_STATUSES = {-1, 400, 404, 422}


@dataclass(frozen=True)
class Server:
    """Whom Luma asked, and the advice that depends on what kind of server it is."""

    kind: str  # "Ollama server"
    address: str
    address_hint: str  # the form the address should have (luma.endpoints)
    model_advice: str  # what to do about a missing model; `{model}` is filled in

    @property
    def where(self) -> str:
        """For sentences: `the Ollama server at http://box:11434`."""
        return f"the {self.kind} at {self.address}"

    @property
    def where_capitalised(self) -> str:
        return self.where[:1].upper() + self.where[1:]


def quoted(said: str) -> str:
    """The server's message as ` ("…")`, shortened; nothing when it said nothing."""
    said = " ".join(str(said or "").split())
    if len(said) > SAID_LIMIT:
        said = said[: SAID_LIMIT - 1] + "…"
    return f' ("{said}")' if said else ""


def status_error(
    server: Server, status: int, said: str, *, model: str, url: str = "", code: str = ""
) -> ProviderError:
    """The typed error for a status and message other than a refused key (the adapters
    word that one: only some servers take a key)."""
    text = f"{code} {said}"
    if status == 402 or _NO_BALANCE.search(text):
        return _no_balance(server, said)
    if status == 413 and _RATE_WORDING.search(text):
        return _other_status(server, 429, said)
    if status == 413 or (status in _CONTEXT_STATUSES and _CONTEXT_TOO_LONG.search(text)):
        return _context_too_long(server, said, model)
    if status in _MODEL_STATUSES and model and _MODEL_MISSING.search(said or code):
        advice = server.model_advice.format(model=model)
        where = server.where_capitalised
        return UnknownModel(f"{where} has no model {model!r}{quoted(said)}. {advice}", detail=said)
    if status == 404:
        return _wrong_endpoint(server, said, url)
    return _other_status(server, status, said)


def _no_balance(server: Server, said: str) -> ProviderError:
    where = "https://platform.deepseek.com/top_up" if "deepseek.com" in server.address else ""
    top_up = f"Top up the account at {where}" if where else "Top up the account at the provider"
    return InsufficientBalance(
        f"{server.where_capitalised} refused the request for lack of balance{quoted(said)}. "
        f"{top_up}, lower Max tokens in Settings if the provider reserves credit for it, or "
        "pick another provider in Settings.",
        detail=said,
    )


def _context_too_long(server: Server, said: str, model: str) -> ProviderError:
    return ContextTooLong(
        f"The conversation is too long for the context window of {model or 'the model'} at "
        f"{server.where}{quoted(said)}. Start a new conversation, lower the memories or max "
        "tokens per prompt in Settings, or pick a model with a larger context.",
        detail=said,
    )


def _wrong_endpoint(server: Server, said: str, url: str) -> ProviderError:
    at = f" at {url}" if url else ""
    return WrongEndpoint(
        f"The address looks wrong: {server.address} answered 404{at}{quoted(said)}. "
        f"Fix it in Settings: {server.address_hint}.",
        detail=said,
    )


def _other_status(server: Server, status: int, said: str) -> ProviderError:
    where = server.where_capitalised
    answer = f"{status}: {said}" if said and status > 0 else said or str(status)
    if status == 429:
        return ProviderRateLimited(
            f"{where} is rate-limiting requests{quoted(said)}. Wait a minute and try again.",
            detail=said,
        )
    if status in {400, 422}:
        return RequestRefused(
            f"{where} refused the request ({answer}). Check the model and the reply settings "
            "(temperature, max tokens) in Settings.",
            detail=said,
        )
    if status >= 500:
        return ProviderServerError(
            f"{where} failed ({answer}). Try again in a moment; if it keeps failing, look at "
            "the server's logs.",
            detail=said,
        )
    return ProviderError(
        f"{where} answered with an error ({answer}). Check the address and the model in Settings.",
        detail=said,
    )


def timeout_error(server: Server, error: BaseException) -> ProviderTimeout:
    """A timeout, with the seconds waited when the request tells them."""
    seconds = timeout_seconds(error)
    waited = f"in {seconds:g} seconds" if seconds else "in time"
    return ProviderTimeout(
        f"{server.where_capitalised} did not answer {waited}. Check that it is running and not "
        "overloaded, or raise LUMA_PROVIDER_TIMEOUT.",
        detail=str(error),
    )


def timeout_seconds(error: BaseException) -> float | None:
    """The read timeout of the request that timed out (httpx and its kin keep it in the
    request's extensions); None when it cannot be told."""
    try:
        request = getattr(error, "request", None)
    except RuntimeError:  # httpx: an exception raised without its request
        return None
    timeouts = getattr(request, "extensions", {}).get("timeout") or {}
    seconds = timeouts.get("read") or timeouts.get("connect")
    return float(seconds) if isinstance(seconds, int | float) else None


def connect_reason(error: BaseException) -> str:
    """Why a connection failed, from the exception and what it was raised from."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    text = " ".join(str(e) for e in chain).lower()
    if any(isinstance(e, ConnectionRefusedError) for e in chain) or "refused" in text:
        return "nothing is listening there (connection refused)"
    if "name or service not known" in text or "nodename" in text or "name resolution" in text:
        return "the host name does not resolve"
    return "the connection failed"
