"""The HTTP API (FastAPI). Library errors become 4xx/5xx JSON with details; the UI is mounted at /ui."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from generator.assets import asset_types_for
from generator.drafts import Draft, DraftRequest
from generator.errors import CVJError
from generator.profile import BusinessProfile
from generator.runtime import settings_or_error
from generator.service import DraftingService, open_service
from generator.stages import load_stages


class DraftBody(DraftRequest):
    """A draft request with the business profile inline."""

    model_config = ConfigDict(extra="forbid")

    profile: BusinessProfile


class StageInfo(BaseModel):
    id: str
    name: str
    purpose: str
    asset_types: list[str] = Field(default_factory=list)


class ErrorBody(BaseModel):
    error: str
    details: Any = None


def create_app(service: DraftingService | None = None, *, mount_ui: bool = True) -> FastAPI:
    """The API; with no service given, one is opened from settings for the app's lifetime."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if service is not None:
            app.state.service = service
            yield
            return
        with open_service(settings_or_error()) as opened:
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
        draft_request = DraftRequest.model_validate(body.model_dump(exclude={"profile"}))
        return svc.draft(body.profile, draft_request)

    if mount_ui:
        import gradio as gr

        from ui import build_ui

        app = gr.mount_gradio_app(app, build_ui(lambda: app.state.service), path="/ui")
    return app
