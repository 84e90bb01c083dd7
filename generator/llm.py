"""The chat model from settings: one code path (LangChain's ``ChatOpenAI``) for every provider.

OpenAI, any OpenAI-compatible server (Ollama, vLLM, LM Studio) and the embedded llama.cpp
server differ only in base URL, key, and two quirks of local servers handled here: they
ignore ``max_completion_tokens`` (so ``max_tokens`` goes in the body) and they take a JSON
schema as a grammar through ``response_format={"type": "json_object", "schema": ...}``.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import openai
from langchain_core.caches import BaseCache
from langchain_core.messages import HumanMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_openai import ChatOpenAI
from pydantic import BaseModel

from generator.errors import ModelCrashedError, ModelUnavailableError
from generator.llm_cache import SQLiteAnswerCache
from generator.local_llm import BUNDLED_GGUF, LocalServer, running_server
from generator.settings import Provider, ResponseFormat, Settings

LOCAL_API_KEY = "sk-local-no-key-needed"
GRAMMAR_MAX_LENGTH = 700  # characters per string field in a llama.cpp grammar (see clamp_lengths)
DEBRIS_CHARACTERS = r'"\\{}<>\[\]_|'  # never in copy a grammar-bound model writes (see plain_text_only)
LEADING_PUNCTUATION = r" \t\n,.;:!?)\-"  # what no field starts with
FIGURE_CHARACTERS = r"0-9$£€¥%#"  # left out of copy too when the model may not write figures


class RequestCounter:
    """Counts HTTP requests to the model server (cache hits make none): the honest 'model calls'."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> None:
        with self._lock:
            self.count += 1


class KitChatOpenAI(ChatOpenAI):
    """ChatOpenAI whose cache key names the model rather than the local server's per-run port, and whose
    failures are CVJ errors: a crashed local server says so (and is restarted once), others say what to check.
    """

    cache_namespace: str | None = None
    request_counter: RequestCounter | None = None
    local_server: LocalServer | None = None
    # A server with one slot keeps only the last prompt's prefill: requests that share a prompt (the candidates of
    # one draft) hold this so they reach it back to back and reuse the whole prompt, not just the shared prefix.
    prompt_group: Any = None  # a threading.Lock (not a type pydantic can check)

    def _get_llm_string(self, stop: list[str] | None = None, **kwargs: Any) -> str:
        key = super()._get_llm_string(stop=stop, **kwargs)
        if self.cache_namespace and self.openai_api_base:
            key = key.replace(self.openai_api_base, self.cache_namespace)
        return key

    @contextlib.contextmanager
    def _request(self) -> Iterator[None]:
        """Around every real request (cache hits make none): a live server first, readable errors after."""
        if self.local_server is not None:
            self.local_server.ensure_running()
        try:
            yield
        except (openai.APIConnectionError, openai.APITimeoutError) as exc:
            report = self.local_server.crash_report() if self.local_server is not None else None
            if report:
                raise ModelCrashedError(report) from None
            raise ModelUnavailableError(
                f"The model could not be reached ({str(exc).rstrip('.')}). Check CVJ_BASE_URL and that the server runs."
            ) from None
        except openai.APIStatusError as exc:
            raise ModelUnavailableError(
                f"The model server refused the request (HTTP {exc.status_code}): {exc}"
            ) from None

    def _generate(self, *args: Any, **kwargs: Any) -> ChatResult:
        with self._request():
            return super()._generate(*args, **kwargs)

    def _stream(self, *args: Any, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        with self._request():
            yield from super()._stream(*args, **kwargs)

    async def _agenerate(self, *args: Any, **kwargs: Any) -> ChatResult:
        with self._request():
            return await super()._agenerate(*args, **kwargs)

    async def _astream(self, *args: Any, **kwargs: Any) -> AsyncIterator[ChatGenerationChunk]:
        with self._request():
            async for chunk in super()._astream(*args, **kwargs):
                yield chunk


def build_chat_model(
    settings: Settings,
    *,
    base_url: str | None = None,
    model: str | None = None,
    local_server: LocalServer | None = None,
) -> KitChatOpenAI:
    """A configured chat model; ``base_url`` overrides the settings, ``local_server`` supplies it and watches it."""
    provider = settings.resolved_provider
    key = settings.api_key.get_secret_value() if settings.api_key else None
    extra_body: dict[str, Any] = {}
    if provider is not Provider.OPENAI:
        extra_body["max_tokens"] = settings.max_output_tokens
    if provider is Provider.LOCAL:
        extra_body["repeat_penalty"] = settings.local_repeat_penalty
    namespace = f"local:{settings.local_gguf.name if settings.local_gguf else BUNDLED_GGUF}"
    counter = RequestCounter()
    # model, base_url, api_key and timeout are langchain's documented aliases of model_name, openai_api_base,
    # openai_api_key and request_timeout; the pydantic mypy plugin types a populate_by_name model by field name only.
    return KitChatOpenAI(  # type: ignore[call-arg]
        request_counter=counter,
        http_client=httpx.Client(event_hooks={"request": [counter]}, timeout=settings.timeout_s),
        local_server=local_server,
        prompt_group=threading.Lock() if provider is Provider.LOCAL else None,
        cache_namespace=namespace if provider is Provider.LOCAL else None,
        cache=response_cache(settings),
        model=model or settings.resolved_model,
        base_url=base_url or (local_server.base_url if local_server else settings.base_url),
        api_key=key or LOCAL_API_KEY,
        temperature=settings.temperature,
        max_tokens=settings.max_output_tokens,
        timeout=settings.timeout_s,
        max_retries=settings.max_retries,
        extra_body=extra_body or None,
        stream_usage=True,
    )


def response_cache(settings: Settings) -> BaseCache | None:
    """The SQLite answer cache, keyed by the full prompt and model parameters: a new prompt version misses."""
    if not settings.llm_cache:
        return None
    return SQLiteAnswerCache(settings.data_dir / "llm-cache.sqlite")


@contextlib.contextmanager
def open_chat_model(settings: Settings) -> Iterator[ChatOpenAI]:
    """The chat model for a block of work, starting the local server on demand."""
    if settings.resolved_provider is Provider.LOCAL:
        with running_server(settings) as server:
            yield build_chat_model(settings, local_server=server)
    else:
        yield build_chat_model(settings)


def check_completion(settings: Settings) -> str:
    """One real, tiny chat completion (a server can list its models and still crash on the first request)."""
    started = time.perf_counter()
    quick = settings.model_copy(update={"max_output_tokens": 8, "llm_cache": False})
    with open_chat_model(quick) as model:
        reply = model.invoke([HumanMessage("Reply with the single word OK.")])
    answer = " ".join(str(reply.content).split())[:40]
    return f"answered {answer!r} in {time.perf_counter() - started:.1f} s"


def response_format(settings: Settings, schema_model: type[BaseModel]) -> dict[str, Any]:
    """How to ask this provider for JSON in the asset's shape."""
    schema = schema_model.model_json_schema()
    choice = settings.response_format
    if choice is ResponseFormat.AUTO:
        local = settings.resolved_provider is Provider.LOCAL
        choice = ResponseFormat.JSON_OBJECT if local else ResponseFormat.JSON_SCHEMA
    if choice is ResponseFormat.JSON_SCHEMA:
        return {
            "type": "json_schema",
            "json_schema": {"name": schema_model.__name__, "schema": schema, "strict": False},
        }
    # llama.cpp turns the schema into a grammar; Ollama and vLLM accept json_object too.
    grammar = plain_text_only(clamp_lengths(schema, GRAMMAR_MAX_LENGTH), figures=settings.allow_copy_figures)
    return {"type": "json_object", "schema": grammar}


def plain_text_only(schema: Any, *, figures: bool = True) -> Any:
    """A copy of a JSON schema whose bounded strings cannot hold template or JSON debris.

    A grammar-constrained small model otherwise writes ``{{ content }}``, ``[link]``, ``quick_start_steps`` or a
    stray ``}`` into copy; a pattern that leaves out those characters (and the quote and backslash a JSON string
    would need escaping) makes them impossible to generate. Copy quotes with “ ” or ' instead. Without
    ``figures`` the copy holds no digits or currency signs either: every price, percentage and duration the
    bundled model wrote was invented, and the figures that are true (offer prices, names) come from the profile.
    Numeric fields (a proposed price) are not strings and keep their numbers.
    """
    if isinstance(schema, dict):
        out = {k: plain_text_only(v, figures=figures) for k, v in schema.items()}
        bounded = out.get("type") == "string" and "maxLength" in out
        if bounded and not {"pattern", "enum", "const", "format"} & set(out):
            low, high = int(out.get("minLength", 0)), int(out["maxLength"])
            banned = DEBRIS_CHARACTERS + ("" if figures else FIGURE_CHARACTERS)
            body = f"[^{banned}]"
            if low >= 1:  # and it starts with a word, a digit or a symbol, never with stray punctuation
                out["pattern"] = f"^[^{banned}{LEADING_PUNCTUATION}]{body}{{{low - 1},{high - 1}}}$"
            else:
                out["pattern"] = f"^{body}{{0,{high}}}$"
        return out
    if isinstance(schema, list):
        return [plain_text_only(v, figures=figures) for v in schema]
    return schema


def clamp_lengths(schema: Any, limit: int) -> Any:
    """A copy of a JSON schema with every ``maxLength`` at most ``limit``.

    llama.cpp expands ``maxLength: n`` into n nested optional rules; past about a thousand its grammar
    parser fails and the server dies. Pydantic still validates the real limits afterwards.
    """
    if isinstance(schema, dict):
        return {
            k: min(v, limit) if k == "maxLength" and isinstance(v, int) else clamp_lengths(v, limit)
            for k, v in schema.items()
        }
    if isinstance(schema, list):
        return [clamp_lengths(v, limit) for v in schema]
    return schema
