"""The HTTP API (FastAPI): the /v1 routes (generator/api_v1.py), /healthz, the unversioned routes of before as
deprecated aliases, and the UI at /ui. Every error is JSON ``{error, details}`` (generator/api_errors.py); with
``CVJ_API_KEYS`` set every path but /healthz (and the docs, while public) needs a key (generator/api_auth.py)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from fastapi import APIRouter, Depends, FastAPI, Request, Response

from generator.api_auth import ApiKeys, bearer
from generator.api_errors import MAX_BODY_BYTES, BodyLimit, install_error_handlers
from generator.api_models import ClassifyBody, DraftBody, Health, ScoreBody, StageInfo
from generator.api_v1 import COMMON_ERRORS, MODEL_ERRORS, Service, classify_texts, score_items, stage_list
from generator.api_v1 import router as v1
from generator.drafts import Draft
from generator.evaluation.scoring import AssetScore
from generator.evaluation.stage_fit import StageFit
from generator.runtime import Components, components
from generator.service import DraftingService

__all__ = ["MAX_BODY_BYTES", "create_app"]


SUCCESSORS = {"/health": "/healthz", "/stages": "/v1/stages", "/drafts": "/v1/drafts", "/eval/score": "/v1/score",
              "/eval/classify": "/v1/classify"}  # fmt: skip


def _deprecation(request: Request, response: Response) -> None:
    """Says so on every answer of a route of before, and names the route that replaces it."""
    response.headers["Deprecation"] = "true"
    if successor := SUCCESSORS.get(request.url.path):
        response.headers["Link"] = f'<{successor}>; rel="successor-version"'


legacy = APIRouter(
    dependencies=[Depends(bearer), Depends(_deprecation)], responses=COMMON_ERRORS, deprecated=True, tags=["before v1"]
)


@legacy.get("/health")
def health() -> Health:
    """Use /healthz."""
    return Health()


@legacy.get("/stages", response_model=list[StageInfo])
def legacy_stages() -> list[StageInfo]:
    """Use GET /v1/stages."""
    return stage_list()


@legacy.post("/drafts", response_model=Draft, responses=MODEL_ERRORS)
def legacy_draft(body: DraftBody, svc: Service) -> Draft:
    """Use POST /v1/drafts. One draft (scored only with `candidates` > 1)."""
    if body.candidates > 1:
        return svc.draft_best(body.profile, body.draft_request(), candidates=body.candidates)
    return svc.draft(body.profile, body.draft_request())


@legacy.post("/eval/score", response_model=list[AssetScore])
def legacy_score(body: ScoreBody, svc: Service) -> list[AssetScore]:
    """Use POST /v1/score."""
    return score_items(svc, body)


@legacy.post("/eval/classify", response_model=list[StageFit])
def legacy_classify(body: ClassifyBody, svc: Service) -> list[StageFit]:
    """Use POST /v1/classify."""
    return classify_texts(svc, body.texts)


def create_app(
    parts: Components | None = None, *, service: DraftingService | None = None, mount_ui: bool = True
) -> FastAPI:
    """The API. Its drafting service is ``service`` if given, else opened from ``parts`` (default: the
    composition root's) for the app's lifetime."""
    parts = parts or (Components(service.settings) if service else components())
    settings = parts.settings

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
        version="1.0.0",
        description="Draft, revise and score marketing assets for each stage of the Customer Value Journey. "
        "Errors are `{error, details}`; with keys configured, send `Authorization: Bearer <key>`.",
        lifespan=lifespan,
    )
    docs = {app.docs_url, app.redoc_url, app.openapi_url, app.swagger_ui_oauth2_redirect_url}
    open_paths = {"/healthz"} | ({p for p in docs if p} if settings.api_docs_public else set())
    app.add_middleware(BodyLimit)
    app.add_middleware(ApiKeys, keys=settings.api_keys, open_paths=open_paths)  # outermost: before any body is read
    install_error_handlers(app)

    @app.get("/healthz", response_model=Health, tags=["meta"])
    def healthz() -> Health:
        """Whether the server is up: no key needed, no model work."""
        return Health()

    app.include_router(v1)
    app.include_router(legacy)

    if mount_ui:
        import gradio as gr

        from generator.ui import build_ui

        ui = build_ui(lambda: app.state.service, examples_dir=settings.examples_dir)
        app = gr.mount_gradio_app(app, ui, path="/ui")
    return app
