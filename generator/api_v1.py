"""The HTTP API's version 1 routes, under /v1: drafts (one, variants, best of N, revised to a score; or streamed as
server-sent events), revisions, the eval's score and stage classifier, knowledge search, the stages. Every error
is ``{error, details}`` (generator/api_errors.py); the keys are checked before a route runs (generator/api_auth.py).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import StreamingResponse

from generator.api_auth import bearer, workspace
from generator.api_errors import NotConfiguredError
from generator.api_limits import model_slot
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
from generator.workspaces import BUSINESS_ID, BusinessStore, business_key, inline_profile


def errors_doc(**described: str) -> dict[int | str, dict[str, Any]]:
    return {int(code.removeprefix("e")): {"model": ErrorBody, "description": text} for code, text in described.items()}


COMMON_ERRORS = errors_doc(
    e400="A request the library refuses (an option that does not fit); the message says which and why",
    e401="No API key, or a wrong one (only when the server has CVJ_API_KEYS); with `WWW-Authenticate: Bearer`",
    e413="The request body is larger than 10 MiB",
    e422="The request is invalid; `details` lists each problem with its `loc`",
    e429="Too many requests for this key (CVJ_API_RATE_LIMIT), or every model slot stayed busy; with `Retry-After`",
    e500="Something unexpected; the server's log has the cause",
)
COMMON_ERRORS[429]["headers"] = {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}}
MODEL_ERRORS = errors_doc(
    e502="The model never returned a valid asset; `details.last_completion` keeps its last answer",
    e503="The model cannot be reached; with `Retry-After`",
)
NO_BUSINESS = errors_doc(e404="No such business in this workspace (`business_id`), or no such asset type at this stage")
# OpenAPI describes a text/event-stream by the schema of one event (as schemathesis and generated clients read it).
SSE_EVENT = {
    "type": "object",
    "required": ["event", "data"],
    "properties": {
        "event": {"type": "string", "enum": ["token", "draft", "error"]},
        "data": {"type": "string", "description": "JSON: {text} for a token, the scored draft, or {error, details}"},
    },
}
STREAM_RESPONSES: dict[int | str, dict[str, Any]] = {200: {"description": EVENTS_DOC, "content": {"text/event-stream": {
    "schema": SSE_EVENT, "example": EVENTS_EXAMPLE}}}}  # fmt: skip
COMMON_ERRORS[401]["headers"] = {"WWW-Authenticate": {"description": "Bearer", "schema": {"type": "string"}}}
MODEL_ERRORS[503]["headers"] = {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}}
router = APIRouter(prefix="/v1", dependencies=[Depends(bearer)], responses=COMMON_ERRORS)


def service(request: Request) -> DraftingService:
    """The app's long-lived drafting service."""
    svc: DraftingService = request.app.state.service
    return svc


def business_store(request: Request) -> BusinessStore:
    """The app's store of businesses (per workspace)."""
    store: BusinessStore = request.app.state.businesses
    return store


Service = Annotated[DraftingService, Depends(service)]
Workspace = Annotated[str, Depends(workspace)]
Businesses = Annotated[BusinessStore, Depends(business_store)]
ModelSlot = Depends(model_slot)


def profile_for(
    workspace: str, store: BusinessStore, profile: BusinessProfile | None, business_id: str | None
) -> BusinessProfile | None:
    """The business a request is about, keyed for the index in the caller's workspace: a stored one (404 if it is
    not this workspace's), or the profile sent inline (keyed by its content)."""
    if business_id is not None:
        return store.get(workspace, business_id).profile
    return None if profile is None else inline_profile(workspace, profile)


def required_profile(
    workspace: str, store: BusinessStore, profile: BusinessProfile | None, business_id: str | None
) -> BusinessProfile:
    found = profile_for(workspace, store, profile, business_id)
    assert found is not None  # the body's validator asks for one
    return found


def stage_list() -> list[StageInfo]:
    return [
        StageInfo(id=s.id, name=s.name, purpose=s.purpose, asset_types=[a.asset_type for a in asset_types_for(s.id)])
        for s in load_stages()
    ]


def score_items(svc: DraftingService, body: ScoreBody, profile: BusinessProfile | None) -> list[AssetScore]:
    business = profile.name if profile else None
    subjects = [
        Subject(stage=i.stage, text=i.text, business=i.business or business, profile=profile) for i in body.items
    ]
    return svc.score(subjects)


def classify_texts(svc: DraftingService, texts: list[str]) -> list[StageFit]:
    classifier = svc.evaluator().classifier
    if classifier is None:
        raise NotConfiguredError("The stage classifier is not available in this service.")
    return list(classifier.classify(texts))


def _scored(svc: DraftingService, result: Draft, profile: BusinessProfile | None) -> Draft:
    return result.model_copy(update={"evaluation": svc.score_draft(result, profile)})


def make_drafts(svc: DraftingService, body: DraftsBody, profile: BusinessProfile) -> DraftsResponse:
    """One draft (best of ``candidates``), N variants, or a draft revised until it reaches ``min_score``; scored."""
    request = body.draft_request()
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


@router.post("/drafts", response_model=DraftsResponse, responses=MODEL_ERRORS | NO_BUSINESS, tags=["drafting"],
             dependencies=[ModelSlot])  # fmt: skip
def create_drafts(
    body: Annotated[DraftsBody, Body(openapi_examples=DRAFTS_EXAMPLES)], svc: Service, ws: Workspace, store: Businesses
) -> DraftsResponse:
    """Draft for a business (a `profile`, or the `business_id` of a stored one) at one stage: one draft, N distinct
    `variants`, the best of N `candidates`, or a draft revised with the eval's reasons until it passes at
    `min_score`. Always `{drafts: [...]}`, each scored."""
    return make_drafts(svc, body, required_profile(ws, store, body.profile, body.business_id))


@router.post(
    "/drafts:stream",
    response_class=StreamingResponse,
    responses=STREAM_RESPONSES | NO_BUSINESS,
    tags=["drafting"],
)  # fmt: skip
async def stream_draft(
    body: Annotated[DraftStreamBody, Body(openapi_examples=STREAM_EXAMPLES)],
    svc: Service, ws: Workspace, store: Businesses, request: Request,
) -> StreamingResponse:  # fmt: skip
    """One draft as server-sent events: `token` events with the text as the model writes it, then one `draft`
    event (the scored draft) or one `error` event (`{error, details}`). Invalid requests are refused before the
    stream starts, with the usual JSON errors."""
    asked = body.draft_request()
    profile = required_profile(ws, store, body.profile, body.business_id)

    def work(on_text: TextCallback) -> Draft:
        return _scored(svc, svc.draft(profile, asked, on_text=on_text), profile)

    slots = request.app.state.model_slots
    await slots.acquire()  # held until the model work ends, not only until the response starts
    events = draft_events(work, on_end=slots.release)
    return StreamingResponse(events, media_type="text/event-stream", headers=STREAM_HEADERS)


@router.post("/revisions", response_model=Draft, responses=MODEL_ERRORS | NO_BUSINESS, tags=["drafting"],
             dependencies=[ModelSlot])  # fmt: skip
def create_revision(
    body: Annotated[RevisionBody, Body(openapi_examples=REVISION_EXAMPLES)], svc: Service, ws: Workspace,
    store: Businesses,
) -> Draft:  # fmt: skip
    """A new version of a draft that follows one instruction (its `version` + 1, the instruction added to its
    `revisions`), scored; with the business (`profile` or `business_id`), its brand rules apply too."""
    profile = profile_for(ws, store, body.profile, body.business_id)
    if profile is not None and _slug(profile.name) != _slug(body.draft.business):
        raise DocumentError(
            f"The draft is for '{body.draft.business}', not for '{profile.name}' (the business sent with it)."
        )
    return _scored(svc, svc.revise(body.draft, body.instruction, profile=profile), profile)


@router.post("/score", response_model=ScoresResponse, tags=["eval"], responses=NO_BUSINESS,
             dependencies=[ModelSlot])  # fmt: skip
def score(
    body: Annotated[ScoreBody, Body(openapi_examples=SCORE_EXAMPLES)], svc: Service, ws: Workspace, store: Businesses
) -> ScoresResponse:
    """Score each text on its stage's rubric (the on-brief gate, rules, stage fit, offline quality model)."""
    return ScoresResponse(results=score_items(svc, body, profile_for(ws, store, body.profile, body.business_id)))


@router.post(
    "/classify", response_model=ClassifyResponse, responses=errors_doc(e503="No stage classifier"), tags=["eval"]
)
def classify(body: Annotated[ClassifyBody, Body(openapi_examples=CLASSIFY_EXAMPLES)], svc: Service) -> ClassifyResponse:
    """Which of the 8 stages each text serves, with a calibrated confidence ("unclear" below 0.6)."""
    return ClassifyResponse(results=classify_texts(svc, body.texts))


@router.get(
    "/search",
    response_model=SearchResponse,
    responses=errors_doc(e503="No knowledge index") | NO_BUSINESS,
    tags=["knowledge"],
)
def search(
    svc: Service,
    ws: Workspace,
    store: Businesses,
    q: Annotated[str, Query(min_length=1, max_length=1000, description="What to look for")],
    stage: Annotated[StageId | None, Query(description="Only chunks serving this stage")] = None,
    k: Annotated[int, Query(ge=1, le=50, description="How many results")] = 5,
    business_id: Annotated[
        str | None, Query(pattern=BUSINESS_ID.pattern, description="Also this business's facts and documents")
    ] = None,
) -> SearchResponse:
    """Search the knowledge index: stage-aware, diverse (MMR), with each chunk's source and score. The method notes,
    and with `business_id` that business's profile facts and documents (never another workspace's)."""
    if svc.index is None:
        raise NotConfiguredError("This service has no knowledge index, so there is nothing to search.")
    if business_id is None:
        hits = svc.index.search(q, k=k, stage=stage, kind="method")
    else:
        svc.ensure_indexed(store.get(ws, business_id).profile)
        hits = svc.index.search(q, k=k, stage=stage, business=business_key(ws, business_id), with_method=True)
    return SearchResponse(query=q, stage=stage, hits=hits)


@router.get("/stages", response_model=StagesResponse, tags=["knowledge"])
def stages() -> StagesResponse:
    """The 8 stages of the Customer Value Journey, in order, with their purpose and asset types."""
    return StagesResponse(stages=stage_list())
