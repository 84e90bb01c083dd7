"""The HTTP API's version 1 routes, under /v1: drafts (one, variants, best of N, revised to a score; or streamed as
server-sent events), revisions, the eval's score and stage classifier, knowledge search, the stages. Every error
is ``{error, details}`` (generator/api_errors.py); the keys are checked before a route runs (generator/api_auth.py).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import StreamingResponse

from generator.api_auth import bearer
from generator.api_errors import NotConfiguredError
from generator.api_models import (
    CLASSIFY_EXAMPLES,
    DRAFTS_EXAMPLES,
    REVISION_EXAMPLES,
    SCORE_EXAMPLES,
    STREAM_EXAMPLES,
    ClassifyBody,
    ClassifyResponse,
    DraftsBody,
    DraftsResponse,
    DraftStreamBody,
    ErrorBody,
    RevisionBody,
    ScoreBody,
    ScoresResponse,
    SearchResponse,
    StageInfo,
    StagesResponse,
)
from generator.api_stream import EVENTS_DOC, EVENTS_EXAMPLE, STREAM_HEADERS, draft_events
from generator.assets import asset_types_for
from generator.chains import draft_variants
from generator.drafts import Draft
from generator.errors import DocumentError
from generator.evaluation.rule_scorers import Subject
from generator.evaluation.scoring import AssetScore
from generator.evaluation.stage_fit import StageFit
from generator.improve import best_version, draft_until
from generator.profile import BusinessProfile
from generator.service import DraftingService
from generator.stages import StageId, load_stages
from generator.structured import TextCallback


def _errors(**described: str) -> dict[int | str, dict[str, Any]]:
    return {int(code.removeprefix("e")): {"model": ErrorBody, "description": text} for code, text in described.items()}


COMMON_ERRORS = _errors(
    e401="No API key, or a wrong one (only when the server has CVJ_API_KEYS); with `WWW-Authenticate: Bearer`",
    e422="The request is invalid; `details` lists each problem with its `loc`",
    e500="Something unexpected; the server's log has the cause",
)
MODEL_ERRORS = _errors(
    e502="The model never returned a valid asset; `details.last_completion` keeps its last answer",
    e503="The model cannot be reached; with `Retry-After`",
)
COMMON_ERRORS[401]["headers"] = {"WWW-Authenticate": {"description": "Bearer", "schema": {"type": "string"}}}
MODEL_ERRORS[503]["headers"] = {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}}
router = APIRouter(prefix="/v1", dependencies=[Depends(bearer)], responses=COMMON_ERRORS)


def service(request: Request) -> DraftingService:
    """The app's long-lived drafting service."""
    svc: DraftingService = request.app.state.service
    return svc


Service = Annotated[DraftingService, Depends(service)]


def stage_list() -> list[StageInfo]:
    return [
        StageInfo(id=s.id, name=s.name, purpose=s.purpose, asset_types=[a.asset_type for a in asset_types_for(s.id)])
        for s in load_stages()
    ]


def score_items(svc: DraftingService, body: ScoreBody) -> list[AssetScore]:
    business = body.profile.name if body.profile else None
    subjects = [
        Subject(stage=i.stage, text=i.text, business=i.business or business, profile=body.profile) for i in body.items
    ]
    return svc.score(subjects)


def classify_texts(svc: DraftingService, texts: list[str]) -> list[StageFit]:
    classifier = svc.evaluator().classifier
    if classifier is None:
        raise NotConfiguredError("The stage classifier is not available in this service.")
    return list(classifier.classify(texts))


def _scored(svc: DraftingService, result: Draft, profile: BusinessProfile | None) -> Draft:
    return result.model_copy(update={"evaluation": svc.score_draft(result, profile)})


def make_drafts(svc: DraftingService, body: DraftsBody) -> DraftsResponse:
    """One draft (best of ``candidates``), N variants, or a draft revised until it reaches ``min_score``; scored."""
    profile, request = body.profile, body.draft_request()
    if body.variants == 1 and body.min_score is None:
        return DraftsResponse(drafts=[svc.draft_best(profile, request, candidates=body.candidates)])
    svc.ensure_indexed(profile)
    common: dict[str, Any] = {"model": svc.model, "index": svc.index, "settings": svc.settings}
    if body.variants > 1:
        drafted = draft_variants(profile, request, body.variants, **common)
        return DraftsResponse(drafts=[_scored(svc, result, profile) for result in drafted])
    assert body.min_score is not None
    versions = draft_until(profile, request, min_score=body.min_score, max_revisions=body.max_revisions,
                           evaluator=svc.evaluator(), candidates=body.candidates, **common)  # fmt: skip
    kept = best_version(versions)
    reached = kept.evaluation is not None and kept.evaluation.passed and kept.evaluation.score >= body.min_score
    return DraftsResponse(drafts=[kept], versions=len(versions), reached_min_score=reached)


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


@router.post("/drafts", response_model=DraftsResponse, responses=MODEL_ERRORS, tags=["drafting"])
def create_drafts(body: Annotated[DraftsBody, Body(openapi_examples=DRAFTS_EXAMPLES)], svc: Service) -> DraftsResponse:
    """Draft for a business at one stage: one draft, N distinct `variants`, the best of N `candidates`, or a draft
    revised with the eval's reasons until it passes at `min_score`. Always `{drafts: [...]}`, each scored."""
    return make_drafts(svc, body)


@router.post(
    "/drafts:stream",
    response_class=StreamingResponse,
    responses={200: {"description": EVENTS_DOC, "content": {"text/event-stream": {
        "schema": {"type": "string", "format": "event-stream"}, "example": EVENTS_EXAMPLE}}}},
    tags=["drafting"],
)  # fmt: skip
async def stream_draft(
    body: Annotated[DraftStreamBody, Body(openapi_examples=STREAM_EXAMPLES)], svc: Service
) -> StreamingResponse:
    """One draft as server-sent events: `token` events with the text as the model writes it, then one `draft`
    event (the scored draft) or one `error` event (`{error, details}`). Invalid requests are refused before the
    stream starts, with the usual JSON errors."""
    request = body.draft_request()

    def work(on_text: TextCallback) -> Draft:
        return _scored(svc, svc.draft(body.profile, request, on_text=on_text), body.profile)

    return StreamingResponse(draft_events(work), media_type="text/event-stream", headers=STREAM_HEADERS)


@router.post("/revisions", response_model=Draft, responses=MODEL_ERRORS, tags=["drafting"])
def create_revision(body: Annotated[RevisionBody, Body(openapi_examples=REVISION_EXAMPLES)], svc: Service) -> Draft:
    """A new version of a draft that follows one instruction (its `version` + 1, the instruction added to its
    `revisions`), scored; with the profile, the business's brand rules apply too."""
    if body.profile is not None and _slug(body.profile.name) != _slug(body.draft.business):
        raise DocumentError(
            f"The draft is for '{body.draft.business}', not for '{body.profile.name}' (the profile sent with it)."
        )
    return _scored(svc, svc.revise(body.draft, body.instruction, profile=body.profile), body.profile)


@router.post("/score", response_model=ScoresResponse, tags=["eval"])
def score(body: Annotated[ScoreBody, Body(openapi_examples=SCORE_EXAMPLES)], svc: Service) -> ScoresResponse:
    """Score each text on its stage's rubric (the on-brief gate, rules, stage fit, offline quality model)."""
    return ScoresResponse(results=score_items(svc, body))


@router.post("/classify", response_model=ClassifyResponse, responses=_errors(e503="No stage classifier"), tags=["eval"])
def classify(body: Annotated[ClassifyBody, Body(openapi_examples=CLASSIFY_EXAMPLES)], svc: Service) -> ClassifyResponse:
    """Which of the 8 stages each text serves, with a calibrated confidence ("unclear" below 0.6)."""
    return ClassifyResponse(results=classify_texts(svc, body.texts))


@router.get("/search", response_model=SearchResponse, responses=_errors(e503="No knowledge index"), tags=["knowledge"])
def search(
    svc: Service,
    q: Annotated[str, Query(min_length=1, max_length=1000, description="What to look for")],
    stage: Annotated[StageId | None, Query(description="Only chunks serving this stage")] = None,
    k: Annotated[int, Query(ge=1, le=50, description="How many results")] = 5,
    business: Annotated[str | None, Query(max_length=200, description="Only this business's documents (slug)")] = None,
) -> SearchResponse:
    """Search the knowledge index: stage-aware, diverse (MMR), with each chunk's source and score."""
    if svc.index is None:
        raise NotConfiguredError("This service has no knowledge index, so there is nothing to search.")
    return SearchResponse(query=q, stage=stage, hits=svc.index.search(q, k=k, stage=stage, business=business))


@router.get("/stages", response_model=StagesResponse, tags=["knowledge"])
def stages() -> StagesResponse:
    """The 8 stages of the Customer Value Journey, in order, with their purpose and asset types."""
    return StagesResponse(stages=stage_list())
