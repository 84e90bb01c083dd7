"""API keys: with ``CVJ_API_KEYS`` set, every request but the open paths (/healthz; the docs while
``CVJ_API_DOCS_PUBLIC``) needs ``Authorization: Bearer <key>``, or gets a JSON 401 with ``WWW-Authenticate``.

An ASGI middleware, so it guards everything the app serves (the mounted UI and unknown paths too), before a
request body is read. Keys are compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

from fastapi.security import HTTPBearer
from pydantic import SecretStr
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from generator.api_errors import error_response

# For the OpenAPI document (the "Authorize" button in /docs); the middleware below is what enforces the keys.
bearer = HTTPBearer(
    auto_error=False,
    description="An API key from CVJ_API_KEYS, as 'Authorization: Bearer <key>' (needed when the server has keys).",
)
MISSING = "This API needs a key: send 'Authorization: Bearer <key>' with one of the server's CVJ_API_KEYS."
INVALID = "The API key is not valid: send 'Authorization: Bearer <key>' with one of the server's CVJ_API_KEYS."
WEBSOCKET_POLICY_VIOLATION = 1008


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


class ApiKeys:
    """Lets a request through when the API has no keys, its path is open, or it carries one of the keys."""

    def __init__(self, app: ASGIApp, *, keys: Iterable[SecretStr], open_paths: Iterable[str]) -> None:
        self.app = app
        self.keys = [_digest(key.get_secret_value()) for key in keys]
        self.open_paths = frozenset(open_paths)

    def accepts(self, token: str) -> bool:
        """Whether ``token`` is one of the keys; every key is compared, each in constant time (over digests of one
        length, so the time does not tell a key's length either)."""
        given = _digest(token)
        return sum(hmac.compare_digest(given, key) for key in self.keys) > 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.keys or scope["type"] not in {"http", "websocket"} or scope["path"] in self.open_paths:
            await self.app(scope, receive, send)
            return
        scheme, _, token = Headers(scope=scope).get("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() == "bearer" and token and self.accepts(token):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":  # refused before the handshake: the client sees HTTP 403
            await send({"type": "websocket.close", "code": WEBSOCKET_POLICY_VIOLATION})
            return
        missing = scheme.lower() != "bearer" or not token
        challenge = 'Bearer realm="cvj"' + ("" if missing else ', error="invalid_token"')
        response = error_response(401, MISSING if missing else INVALID, headers={"WWW-Authenticate": challenge})
        await response(scope, receive, send)
