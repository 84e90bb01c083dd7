"""The HTTP API (FastAPI). Every error is JSON ``{error, details}`` (library errors with their own status, invalid
requests 422, a body over MAX_BODY_BYTES 413, anything unexpected 500 with no traceback); the UI is at /ui."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from generator.assets import asset_types_for
from generator.drafts import Draft, DraftRequest
from generator.errors import CVJError, ModelUnavailableError
from generator.evaluation.rule_scorers import Subject
from generator.evaluation.scoring import AssetScore
from generator.evaluation.stage_fit import StageFit
from generator.profile import BusinessProfile
from generator.runtime import Components, components
from generator.service import DraftingService
from generator.stages import StageId, load_stages
from generator.validation import describe_error_list, error_list

# The largest valid body is /eval/score at its caps: 200 texts of 20,000 characters (~4 MB of JSON) and a
# profile (at most 256 KiB); 10 MiB leaves room for that and stops a client that streams without end.
MAX_BODY_BYTES = 10 * 1024 * 1024
_MESSAGE_CHARS = 500  # of one problem's message, which may quote the value (an unknown stage of 5 MB)
log = logging.getLogger(__name__)


class DraftBody(DraftRequest):
    """A draft request with the business profile inline; ``candidates`` > 1 drafts N and keeps the best."""

    model_config = ConfigDict(extra="forbid")

    profile: BusinessProfile
    candidates: int = Field(default=1, ge=1, le=8, description="Draft N at once, keep the one the eval ranks best")


class ScoreItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stage: StageId
    text: str = Field(min_length=1, max_length=20_000)
    business: str | None = None


class ScoreBody(BaseModel):
    """Texts to score against their stage's rubric; with a profile, brand words, claims and prices are checked."""

    model_config = ConfigDict(extra="forbid")

    items: list[ScoreItem] = Field(min_length=1, max_length=200)
    profile: BusinessProfile | None = None


class ClassifyBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    texts: list[Annotated[str, Field(min_length=1, max_length=20_000)]] = Field(min_length=1, max_length=200)


class StageInfo(BaseModel):
    id: str
    name: str
    purpose: str
    asset_types: list[str] = Field(default_factory=list)


class ErrorBody(BaseModel):
    error: str
    details: Any = None


def _error(status: int, message: str, details: object = None, **extra: object) -> JSONResponse:
    return JSONResponse(
        status_code=status, content={**ErrorBody(error=message, details=details).model_dump(mode="json"), **extra}
    )


def _request_problems(errors: Any) -> list[dict[str, Any]]:
    """FastAPI's request errors without their input (it may be megabytes) or context objects."""
    problems = []
    for err in errors:
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        msg = msg if len(msg) <= _MESSAGE_CHARS else f"{msg[:_MESSAGE_CHARS]}... (clipped)"  # it may echo the input
        if err.get("type") == "json_invalid":
            msg = f"not valid JSON ({(err.get('ctx') or {}).get('error', 'decode error')})"
        problems.append({"loc": list(err.get("loc", ())), "msg": msg, "type": err.get("type")})
    return problems


_TOO_LARGE = f"The request body is larger than {MAX_BODY_BYTES // (1024 * 1024)} MiB."


class _BodyLimit:
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
            await _error(413, _TOO_LARGE)(scope, receive, send)
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


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CVJError)
    async def _cvj_error(_: Request, exc: CVJError) -> JSONResponse:
        return _error(exc.http_status, exc.message, exc.details)

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = _request_problems(exc.errors())
        # "detail" too: FastAPI's own key for these, which existing clients read.
        return _error(422, f"Invalid request:\n{describe_error_list(problems)}", problems, detail=problems)

    @app.exception_handler(ValidationError)
    async def _invalid_data(_: Request, exc: ValidationError) -> JSONResponse:
        problems = error_list(exc)
        return _error(422, f"Invalid request:\n{describe_error_list(problems)}", problems)

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
        message = {
            404: f"Not found: {request.url.path} (the API's paths are listed at /docs).",
            405: f"{request.method} is not allowed on {request.url.path}.",
            413: _TOO_LARGE,
        }.get(exc.status_code, str(exc.detail))
        response = _error(exc.status_code, message)
        response.headers.update(exc.headers or {})
        return response

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("Unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
        return _error(500, "Internal error: the server could not finish this request (its log has the cause).")


def create_app(
    parts: Components | None = None, *, service: DraftingService | None = None, mount_ui: bool = True
) -> FastAPI:
    """The API. Its drafting service is ``service`` if given, else opened from ``parts`` (default: the
    composition root's) for the app's lifetime."""
    parts = parts or (Components(service.settings) if service else components())

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if service is not None:
            app.state.service = service
            yield
            return
        with parts.service() as opened:
            app.state.service = opened
            yield

    app = FastAPI(
        title="CVJ Kit API",
        version="0.1.0",
        description="Draft marketing assets for each stage of the Customer Value Journey.",
        lifespan=lifespan,
    )
    app.add_middleware(_BodyLimit)
    _install_error_handlers(app)

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/stages", response_model=list[StageInfo])
    def stages() -> list[StageInfo]:
        return [
            StageInfo(
                id=s.id, name=s.name, purpose=s.purpose, asset_types=[a.asset_type for a in asset_types_for(s.id)]
            )
            for s in load_stages()
        ]

    @app.post("/drafts", response_model=Draft, responses={404: {"model": ErrorBody}, 502: {"model": ErrorBody}})
    def create_draft(body: DraftBody, request: Request) -> Draft:
        """Draft one asset. Blocking model work runs in FastAPI's thread pool."""
        svc: DraftingService = request.app.state.service
        draft_request = DraftRequest.model_validate(body.model_dump(exclude={"profile", "candidates"}))
        if body.candidates > 1:
            return svc.draft_best(body.profile, draft_request, candidates=body.candidates)
        return svc.draft(body.profile, draft_request)

    @app.post("/eval/score", response_model=list[AssetScore], responses={422: {"model": ErrorBody}})
    def score(body: ScoreBody, request: Request) -> list[AssetScore]:
        """Score each text on its stage's rubric (rules, stage fit, offline quality model), in input order."""
        svc: DraftingService = request.app.state.service
        business = body.profile.name if body.profile else None
        subjects = [
            Subject(stage=i.stage, text=i.text, business=i.business or business, profile=body.profile)
            for i in body.items
        ]
        return svc.score(subjects)

    @app.post("/eval/classify", response_model=list[StageFit], responses={503: {"model": ErrorBody}})
    def classify(body: ClassifyBody, request: Request) -> list[StageFit]:
        """Which stage each text serves, with a confidence, in input order."""
        classifier = request.app.state.service.evaluator().classifier
        if classifier is None:
            raise ModelUnavailableError("The stage classifier is not available in this service.")
        return list(classifier.classify(body.texts))

    if mount_ui:
        import gradio as gr

        from generator.ui import build_ui

        ui = build_ui(lambda: app.state.service, examples_dir=parts.settings.examples_dir)
        app = gr.mount_gradio_app(app, ui, path="/ui")
    return app
