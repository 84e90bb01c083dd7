"""The API's limits: requests per minute per key (429 with Retry-After), and how many requests do model work at
once (the rest wait their turn, up to a timeout, then get a 429). /healthz is never limited or queued: it is async
and touches neither."""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field

from fastapi import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from generator.api_errors import error_response
from generator.errors import CVJError
from generator.workspaces import DEFAULT_WORKSPACE


class ModelBusyError(CVJError):
    """Every model slot stayed taken for the whole wait: try again shortly."""

    http_status = 429

    def __init__(self, message: str, *, retry_after_s: int, details: object = None) -> None:
        super().__init__(message, details=details)
        self.retry_after_s = retry_after_s


@dataclass
class _Bucket:
    tokens: float
    at: float = field(default_factory=time.monotonic)


class RateLimit:
    """A token bucket per workspace: ``per_minute`` requests a minute on average, a burst of as many at once."""

    def __init__(self, app: ASGIApp, *, per_minute: int, open_paths: Iterable[str] = ()) -> None:
        self.app, self.per_minute = app, per_minute
        self.open_paths = frozenset(open_paths)
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, workspace: str) -> float:
        """0 if a request may go now (and counts it), else the seconds until one may."""
        rate = self.per_minute / 60.0
        with self._lock:
            bucket = self._buckets.setdefault(workspace, _Bucket(tokens=float(self.per_minute)))
            now = time.monotonic()
            bucket.tokens = min(float(self.per_minute), bucket.tokens + (now - bucket.at) * rate)
            bucket.at = now
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return 0.0
            return (1 - bucket.tokens) / rate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.per_minute <= 0 or scope["type"] != "http" or scope["path"] in self.open_paths:
            await self.app(scope, receive, send)
            return
        workspace = str(scope.get("state", {}).get("workspace", DEFAULT_WORKSPACE))
        wait = self.take(workspace)
        if wait <= 0:
            await self.app(scope, receive, send)
            return
        retry = max(1, math.ceil(wait))
        message = f"Too many requests: this key may send {self.per_minute} a minute. Try again in {retry} s."
        details = {"limit_per_minute": self.per_minute, "retry_after_s": retry}
        await error_response(429, message, details, headers={"Retry-After": str(retry)})(scope, receive, send)


class ModelSlots:
    """At most ``slots`` requests doing model work at once; a request waits up to ``timeout_s`` for a slot."""

    def __init__(self, slots: int, timeout_s: float) -> None:
        self.slots, self.timeout_s = slots, timeout_s
        self._semaphore = asyncio.Semaphore(slots)

    async def acquire(self) -> None:
        try:
            await asyncio.wait_for(self._semaphore.acquire(), self.timeout_s)
        except TimeoutError:
            retry = max(1, math.ceil(self.timeout_s / 2))
            raise ModelBusyError(
                f"The model is busy: all {self.slots} slots stayed taken for {self.timeout_s:g} s. "
                f"Try again in {retry} s.",
                retry_after_s=retry, details={"slots": self.slots, "waited_s": self.timeout_s},
            ) from None  # fmt: skip

    def release(self) -> None:
        self._semaphore.release()


async def model_slot(request: Request) -> AsyncIterator[None]:
    """A route dependency: hold one of the app's model slots while the route runs."""
    slots: ModelSlots = request.app.state.model_slots
    await slots.acquire()
    try:
        yield
    finally:
        slots.release()
