"""Server-sent events for a draft: the blocking work runs in a thread, its text comes over a queue as ``token``
events while the model writes, then one ``draft`` event (the scored draft) or one ``error`` event
(``{error, details}``), and the stream ends."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import logging
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any

from generator.api_errors import error_body
from generator.drafts import Draft
from generator.errors import CVJError
from generator.structured import TextCallback

# A comment line this often while the model is silent (a cold prefill takes seconds), so proxies that drop idle
# connections keep this one.
KEEPALIVE_S = 15.0
STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}  # no caching, no proxy buffering
EVENTS_DOC = (
    'A text/event-stream. `event: token` with `data: {"text": "..."}` for each piece of text as the model '
    "writes it (a re-asked answer streams again); then exactly one of `event: draft` with the scored draft "
    "(the same JSON as one item of POST /v1/drafts' `drafts`) or `event: error` with `{error, details}`. "
    "Lines starting with ':' are keep-alive comments."
)
EVENTS_EXAMPLE = (
    'event: token\ndata: {"text": "{\\"hook\\": \\"Your"}\n\n'
    'event: token\ndata: {"text": " beans are fine"}\n\n'
    'event: draft\ndata: {"business": "Harbor Lane Coffee", "stage": "aware", "asset_type": "social_post", '
    '"asset": {...}, "meta": {...}, "evaluation": {"score": 0.74, "verdict": "passed", ...}}\n\n'
)
log = logging.getLogger(__name__)


def sse(event: str, data: object) -> str:
    """One event: its name and its data as one line of JSON."""
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


async def draft_events(
    work: Callable[[TextCallback], Draft],
    *,
    keepalive_s: float = KEEPALIVE_S,
    on_end: Callable[[], None] | None = None,
) -> AsyncIterator[str]:
    """Run ``work(on_text)`` in a thread (in this request's context: its workspace) and yield its events as they
    happen; ``on_end`` runs on the event loop once the work has ended.

    A client that disconnects stops the stream; the model call in flight finishes in its thread (it cannot be cut),
    and what it sends afterwards is dropped (``on_end`` still runs when it ends, so a model slot is held until then).
    """
    loop = asyncio.get_running_loop()
    events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

    def emit(event: str, data: object) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is gone (the server stopped): nobody is listening
            loop.call_soon_threadsafe(events.put_nowait, (event, data))

    def run() -> None:
        try:
            drafted = work(lambda text: emit("token", {"text": text}))
            emit("draft", drafted.model_dump(mode="json"))
        except Exception as exc:  # every failure becomes the stream's error event
            if not isinstance(exc, CVJError):
                log.error("Unexpected error while streaming a draft", exc_info=exc)
            emit("error", error_body(exc))
        finally:
            if on_end is not None:
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(on_end)

    context = contextvars.copy_context()
    threading.Thread(target=context.run, args=(run,), name="draft-stream", daemon=True).start()
    while True:
        try:
            event, data = await asyncio.wait_for(events.get(), timeout=keepalive_s)
        except TimeoutError:
            yield ": keep-alive\n\n"
            continue
        yield sse(event, data)
        if event != "token":
            return
