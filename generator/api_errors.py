"""Every HTTP error in one shape, ``{error, details}``: library errors with their own status (503 with Retry-After
when the model is unavailable), invalid requests 422, unknown paths 404, wrong methods 405, a body over
MAX_BODY_BYTES 413, anything unexpected 500 with no traceback."""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from generator.api_models import ErrorBody
from generator.errors import CVJError, ModelUnavailableError
from generator.validation import describe_error_list, error_list

# The largest valid body is /v1/score at its caps: 200 texts of 20,000 characters (~4 MB of JSON) and a
# profile (at most 256 KiB); 10 MiB leaves room for that and stops a client that streams without end.
MAX_BODY_BYTES = 10 * 1024 * 1024
# When the model cannot be reached: the embedded server restarts in seconds, a remote provider's blip passes in
# tens of seconds; a client that waits this long before retrying does not hammer either.
RETRY_AFTER_S = 30
INTERNAL_ERROR = "Internal error: the server could not finish this request (its log has the cause)."
_MESSAGE_CHARS = 500  # of one problem's message, which may quote the value (an unknown stage of 5 MB)
_TOO_LARGE = f"The request body is larger than {MAX_BODY_BYTES // (1024 * 1024)} MiB."
log = logging.getLogger(__name__)


class NotConfiguredError(CVJError):
    """A part this service was started without (the knowledge index, the stage classifier): retrying won't help."""

    http_status = 503


def error_response(
    status: int, message: str, details: object = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = ErrorBody(error=message, details=details).model_dump(mode="json")
    return JSONResponse(status_code=status, content=body, headers=headers)


def error_body(exc: BaseException) -> dict[str, Any]:
    """What an error says, as ``{error, details}`` (a stream's ``error`` event); unexpected ones say no more."""
    if isinstance(exc, CVJError):
        return ErrorBody(error=exc.message, details=exc.details).model_dump(mode="json")
    return ErrorBody(error=INTERNAL_ERROR).model_dump(mode="json")


# pydantic names the member of a union a value failed as a step of its loc ("profile.BusinessProfile.market",
# "profile.none"). Our fields are snake_case, so a CamelCase step, "none" or a validator's name is such a tag.
_UNION_TAG = re.compile(r"^(none|[A-Z]\w*|[a-z-]+\[.*\])$")


def _plain(errors: Any) -> list[dict[str, Any]]:
    """The errors with union tags taken out of their locs; a value that failed as a model is not also reported as
    "Input should be None" (the optional field's other member)."""
    plain, failed_models = [], set()
    for err in errors:
        loc = tuple(err.get("loc", ()))
        tags = [n for n, step in enumerate(loc) if isinstance(step, str) and _UNION_TAG.match(step)]
        if tags and loc[tags[0]] != "none":
            failed_models.add(loc[: tags[0]])
        kept = tuple(step for n, step in enumerate(loc) if n not in tags)
        plain.append({**err, "loc": kept, "_none": loc[-1:] == ("none",)})
    return [e for e in plain if not (e["_none"] and tuple(e["loc"]) in failed_models)]


def _request_problems(errors: Any) -> list[dict[str, Any]]:
    """FastAPI's request errors without their input (it may be megabytes) or context objects."""
    problems = []
    for err in _plain(errors):
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        msg = msg if len(msg) <= _MESSAGE_CHARS else f"{msg[:_MESSAGE_CHARS]}... (clipped)"  # it may echo the input
        if err.get("type") == "json_invalid":
            msg = f"not valid JSON ({(err.get('ctx') or {}).get('error', 'decode error')})"
        problems.append({"loc": list(err.get("loc", ())), "msg": msg, "type": err.get("type")})
    return problems


class BodyLimit:
    """Refuses a request body over MAX_BODY_BYTES with the JSON 413: at once when its Content-Length says so, else
    as the bytes arrive (a body sent in chunks without a length), before any of it is parsed."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            await error_response(413, _TOO_LARGE)(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > MAX_BODY_BYTES:
                raise HTTPException(413)  # FastAPI re-raises it from the body parser; the handler below answers
            return message

        await self.app(scope, counted, send)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CVJError)
    async def _cvj_error(_: Request, exc: CVJError) -> JSONResponse:
        after = getattr(exc, "retry_after_s", RETRY_AFTER_S if isinstance(exc, ModelUnavailableError) else None)
        retry = {"Retry-After": str(after)} if after is not None else None
        return error_response(exc.http_status, exc.message, exc.details, headers=retry)

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = _request_problems(exc.errors())
        return error_response(422, f"Invalid request:\n{describe_error_list(problems)}", problems)

    @app.exception_handler(ValidationError)
    async def _invalid_data(_: Request, exc: ValidationError) -> JSONResponse:
        problems = error_list(exc)
        return error_response(422, f"Invalid request:\n{describe_error_list(problems)}", problems)

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
        message = {
            404: f"Not found: {request.url.path} (the API's paths are listed at /docs).",
            405: f"{request.method} is not allowed on {request.url.path}.",
            413: _TOO_LARGE,
        }.get(exc.status_code, str(exc.detail))
        return error_response(exc.status_code, message, headers=dict(exc.headers or {}))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("Unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
        return error_response(500, INTERNAL_ERROR)
