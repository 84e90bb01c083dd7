"""API keys: with ``CVJ_API_KEYS`` set, every request but the open paths (/healthz; the docs while
``CVJ_API_DOCS_PUBLIC``) needs ``Authorization: Bearer <key>``, or gets a JSON 401 with ``WWW-Authenticate``.

An ASGI middleware, so it guards everything the app serves (the mounted UI and unknown paths too), before a
request body is read. Keys are compared in constant time. Each key opens a workspace (generator/workspaces.py):
the middleware puts its name in the request's state (``workspace``) and in the answer cache's scope for the
request; without keys everyone shares the workspace "default"."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

from fastapi import Request
from fastapi.security import HTTPBearer
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from generator.api_errors import error_response
from generator.llm_cache import cache_scope
from generator.workspaces import DEFAULT_WORKSPACE, ApiKey

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

    def __init__(
        self, app: ASGIApp, *, keys: Iterable[ApiKey], open_paths: Iterable[str], open_prefixes: Iterable[str] = ()
    ) -> None:
        self.app = app
        self.keys = [(_digest(key.secret.get_secret_value()), key.workspace) for key in keys]
        self.open_paths = frozenset(open_paths)
        self.open_prefixes = tuple(open_prefixes)  # a mounted app that checks keys itself (the UI's login)

    def workspace_of(self, token: str) -> str | None:
        """The workspace ``token`` opens, or None; every key is compared, each in constant time (over digests of one
        length, so the time does not tell a key's length either)."""
        given = _digest(token)
        found = [workspace for digest, workspace in self.keys if hmac.compare_digest(given, digest)]
        return found[0] if found else None

    async def _call_in(self, workspace: str, scope: Scope, receive: Receive, send: Send) -> None:
        scope.setdefault("state", {})["workspace"] = workspace
        token = cache_scope.set(workspace)
        try:
            await self.app(scope, receive, send)
        finally:
            cache_scope.reset(token)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in {"http", "websocket"}:
            await self.app(scope, receive, send)
            return
        path = str(scope["path"])
        if not self.keys or path in self.open_paths or any(path.startswith(p) for p in self.open_prefixes):
            await self._call_in(DEFAULT_WORKSPACE, scope, receive, send)
            return
        scheme, _, token = Headers(scope=scope).get("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() == "bearer" and token and (workspace := self.workspace_of(token)):
            await self._call_in(workspace, scope, receive, send)
            return
        if scope["type"] == "websocket":  # refused before the handshake: the client sees HTTP 403
            await send({"type": "websocket.close", "code": WEBSOCKET_POLICY_VIOLATION})
            return
        missing = scheme.lower() != "bearer" or not token
        challenge = 'Bearer realm="cvj"' + ("" if missing else ', error="invalid_token"')
        response = error_response(401, MISSING if missing else INVALID, headers={"WWW-Authenticate": challenge})
        await response(scope, receive, send)


def workspace(request: Request) -> str:
    """The caller's workspace (set by :class:`ApiKeys`)."""
    return str(getattr(request.state, "workspace", DEFAULT_WORKSPACE))
