"""The HTTP API (FastAPI): the /v1 routes (generator/api_v1.py), /healthz, the unversioned routes of before as
deprecated aliases, and the UI at /ui. Every error is JSON ``{error, details}`` (generator/api_errors.py); with
``CVJ_API_KEYS`` set every path but /healthz (and the docs, while public) needs a key (generator/api_auth.py)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import anyio.to_thread
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware

from generator.api_auth import ApiKeys, bearer
from generator.api_businesses import router as businesses
from generator.api_errors import MAX_BODY_BYTES, BodyLimit, install_error_handlers
from generator.api_kits import router as kits
from generator.api_limits import ModelSlots, RateLimit
from generator.api_models import ClassifyBody, DraftBody, Health, ScoreBody, StageInfo
from generator.api_v1 import (
    COMMON_ERRORS,
    MODEL_ERRORS,
    NO_BUSINESS,
    Businesses,
    ModelSlot,
    Service,
    Workspace,
    classify_texts,
    profile_for,
    score_items,
    stage_list,
)
from generator.api_v1 import router as v1
from generator.api_voice import router as voice
from generator.drafts import Draft
from generator.evaluation.scoring import AssetScore
from generator.evaluation.stage_fit import StageFit
from generator.jobs import JobRunner, JobStore
from generator.runtime import Components, components
from generator.service import DraftingService, ServiceKitParts
from generator.webhooks import callback_refusal
from generator.workspaces import BusinessStore, api_keys, inline_profile

__all__ = ["MAX_BODY_BYTES", "create_app"]


UI_LOGIN = "This CVJ Kit needs an API key: any user name, and one of the server's API keys as the password."
KIT_STOP_WAIT_S = 10.0  # on shutdown; a kit still in flight after it is re-queued on the next start
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


@legacy.post("/drafts", response_model=Draft, responses=MODEL_ERRORS | NO_BUSINESS, dependencies=[ModelSlot])
def legacy_draft(body: DraftBody, svc: Service, ws: Workspace) -> Draft:
    """Use POST /v1/drafts. One draft (scored only with `candidates` > 1)."""
    profile = inline_profile(ws, body.profile)
    if body.candidates > 1:
        return svc.draft_best(profile, body.draft_request(), candidates=body.candidates)
    return svc.draft(profile, body.draft_request())


@legacy.post("/eval/score", response_model=list[AssetScore], responses=NO_BUSINESS, dependencies=[ModelSlot])
def legacy_score(body: ScoreBody, svc: Service, ws: Workspace, store: Businesses) -> list[AssetScore]:
    """Use POST /v1/score."""
    return score_items(svc, body, profile_for(ws, store, body.profile, body.business_id))


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
    async def serving(app: FastAPI, opened: DraftingService) -> AsyncIterator[None]:
        """The service and the kit-job runner (which re-queues the jobs a stopped server left unfinished)."""
        app.state.service = opened
        app.state.model_slots = ModelSlots(settings.api_model_slots, settings.api_queue_timeout_s)
        # Sync routes run in AnyIO's thread pool (40 threads by default): every model slot gets a thread, and the
        # routes that do no model work keep 40 of their own.
        limiter = anyio.to_thread.current_default_thread_limiter()
        limiter.total_tokens = max(limiter.total_tokens, settings.api_model_slots + 40)
        secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
        hosts = settings.webhook_hosts
        runner = JobRunner(JobStore(settings.data_dir), ServiceKitParts(opened), concurrency=settings.api_kit_workers,
                           webhook_secret=secret, callback_check=lambda url: callback_refusal(url, hosts))  # fmt: skip
        app.state.jobs = runner.start()
        try:
            yield
        finally:  # kits in flight finish their current asset (or, past the wait, resume on the next start)
            await asyncio.to_thread(runner.stop, KIT_STOP_WAIT_S)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if service is not None:
            async with serving(app, service):
                yield
            return
        with parts.service() as opened:
            async with serving(app, opened):
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
    app.state.businesses = BusinessStore(settings.data_dir)
    app.add_middleware(BodyLimit)
    app.add_middleware(RateLimit, per_minute=settings.api_rate_limit, open_paths=open_paths)
    keys = api_keys(settings)
    keys_guard = ApiKeys(app, keys=keys, open_paths=())  # checks the UI's login
    ui_login = mount_ui and bool(keys)  # the UI has its own login (below)
    app.add_middleware(ApiKeys, keys=keys, open_paths=open_paths | ({"/ui"} if ui_login else set()),
                       open_prefixes=("/ui/",) if ui_login else ())  # fmt: skip
    if settings.api_cors_origins:  # outermost: a browser's preflight carries no key
        app.add_middleware(
            CORSMiddleware, allow_origins=settings.api_cors_origins, allow_methods=["*"],
            allow_headers=["Authorization", "Content-Type"], expose_headers=["Location", "Retry-After"], max_age=600,
        )  # fmt: skip
    install_error_handlers(app)

    @app.get("/healthz", response_model=Health, tags=["meta"])
    async def healthz() -> Health:
        """Whether the server is up: no key needed, no model work, never queued (it runs on the event loop)."""
        return Health()

    for router in (v1, businesses, kits, voice, legacy):
        app.include_router(router)

    if mount_ui:
        import gradio as gr

        from generator.ui import build_ui

        ui = build_ui(lambda: app.state.service, examples_dir=settings.examples_dir)
        # With keys, the UI asks for one on its own login page (a browser sends no Authorization header): any user
        # name, an API key as the password.
        login = (lambda _user, password: keys_guard.workspace_of(password) is not None) if keys else None
        app = gr.mount_gradio_app(app, ui, path="/ui", auth=login, auth_message=UI_LOGIN)
    return app
