"""The API's brand voice and journey audit: learn a business's voice from its own copy (and keep it on a stored
business), and map the copy a business already has onto the journey."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.json_schema import SkipJsonSchema

from generator.api_auth import bearer
from generator.api_errors import NotConfiguredError
from generator.api_models import EXAMPLE_PROFILE, BusinessIdText, business_id_field, one_business
from generator.api_v1 import (
    COMMON_ERRORS,
    NO_BUSINESS,
    Businesses,
    ModelSlot,
    Service,
    Workspace,
    errors_doc,
    required_profile,
)
from generator.audit import AuditDoc, AuditReport, audit
from generator.audit_html import render_audit_html
from generator.profile import BusinessProfile
from generator.voice import learn_voice
from generator.voice_profile import profile_with_voice
from generator.voice_traits import LearnedVoice
from generator.workspaces import Business

router = APIRouter(prefix="/v1", dependencies=[Depends(bearer)], responses=COMMON_ERRORS, tags=["voice and audit"])
_SAMPLE = Annotated[str, Field(min_length=1, max_length=100_000)]
VOICE_EXAMPLES: dict[str, dict[str, Any]] = {
    "learn": {"summary": "Three pieces of the brand's own copy", "value": {"texts": [
        "We roast on Tuesdays. Come by, grab a cup, tell us what you think - we're always tinkering.",
        "New beans just landed! Ethiopian, bright and fruity. We're a little obsessed, honestly.",
        "Your kettle's too hot. Let it sit thirty seconds. Trust us, you'll taste the difference.",
    ]}},
}  # fmt: skip
AUDIT_EXAMPLES: dict[str, dict[str, Any]] = {
    "two": {"summary": "Two pieces of existing copy", "value": {"profile": EXAMPLE_PROFILE, "documents": [
        {"source": "homepage", "text": "Small-batch coffee roasted in Portland. Visit the café on Alder St."},
        {"source": "review email", "text": "Loved your beans? Leave us a quick Google review: it takes a minute."},
    ]}},
}  # fmt: skip


class VoiceBody(BaseModel):
    """3-20 pieces of a business's own copy; with `business_id`, the learned voice is kept on that business."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [e["value"] for e in VOICE_EXAMPLES.values()]}
    )

    texts: list[_SAMPLE] = Field(min_length=3, max_length=20)
    business_id: BusinessIdText | SkipJsonSchema[None] = business_id_field()


class VoiceResponse(BaseModel):
    voice: LearnedVoice
    business: Business | None = Field(default=None, description="The business, with the voice kept (business_id)")


class AuditBody(BaseModel):
    """The copy a business already has, to map onto the journey."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [e["value"] for e in AUDIT_EXAMPLES.values()],
                           "oneOf": [{"required": ["profile"]}, {"required": ["business_id"]}]},
    )  # fmt: skip

    documents: list[AuditDoc] = Field(min_length=1, max_length=100)
    profile: BusinessProfile | SkipJsonSchema[None] = None
    business_id: BusinessIdText | SkipJsonSchema[None] = business_id_field()

    @model_validator(mode="after")
    def _has_a_business(self) -> AuditBody:
        one_business(self.profile, self.business_id, required=True)
        return self


@router.post("/voice", response_model=VoiceResponse, responses=NO_BUSINESS)
def learn(
    body: Annotated[VoiceBody, Body(openapi_examples=VOICE_EXAMPLES)], svc: Service, ws: Workspace, store: Businesses
) -> VoiceResponse:
    """Learn a brand voice from its own copy: measured habits (sentence length, reading grade, person, contractions,
    emoji and exclamations...), a description, exemplar passages. Drafts for a business with a voice follow it, and
    the eval's "sounds like the brand" criterion says what differs."""
    business = store.get(ws, body.business_id) if body.business_id else None
    voice = learn_voice(body.texts, eval_dir=svc.settings.eval_dir, business=business.name if business else None)
    if business is None:
        return VoiceResponse(voice=voice)
    kept = store.update(ws, business.id, profile_with_voice(business.profile, voice))
    return VoiceResponse(voice=voice, business=kept)


@router.post(
    "/audit", response_model=AuditReport, dependencies=[ModelSlot],
    responses=NO_BUSINESS | errors_doc(e503="No stage classifier")
    | {200: {"content": {"text/html": {"schema": {"type": "string"}}}}},
)  # fmt: skip
def journey_audit(
    body: Annotated[AuditBody, Body(openapi_examples=AUDIT_EXAMPLES)], svc: Service, ws: Workspace, store: Businesses,
    format: Annotated[Literal["json", "html"], Query(description="The report as JSON or a web page")] = "json",
) -> Any:  # fmt: skip
    """Which stage each piece of existing copy serves (left unclear when the classifier is unsure), how well it does
    on its stage's rubric, which stages are covered, weak or missing, and the three assets to draft first."""
    profile = required_profile(ws, store, body.profile, body.business_id)
    evaluator = svc.evaluator()
    if evaluator.classifier is None:
        raise NotConfiguredError("The stage classifier is not available in this service, so copy cannot be mapped.")
    report = audit(body.documents, profile, evaluator=evaluator)
    return HTMLResponse(render_audit_html(report)) if format == "html" else report
