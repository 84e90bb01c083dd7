"""The HTTP API (FastAPI). Library errors become 4xx/5xx JSON with details; the UI is mounted at /ui."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

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

    @app.exception_handler(CVJError)
    async def _cvj_error(_: Request, exc: CVJError) -> JSONResponse:
        body = ErrorBody(error=exc.message, details=exc.details)
        return JSONResponse(status_code=exc.http_status, content=body.model_dump(mode="json"))

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
