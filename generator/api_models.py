"""The HTTP API's request and response schemas (pydantic), with the examples its OpenAPI document shows."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator
from pydantic.json_schema import SkipJsonSchema

from generator.drafts import Draft, DraftRequest
from generator.evaluation.scoring import AssetScore
from generator.evaluation.stage_fit import StageFit
from generator.knowledge import Hit
from generator.profile import BusinessProfile
from generator.stages import StageId
from generator.workspaces import BUSINESS_ID, Business

# A small valid profile for the examples (tests/test_api_v1.py validates every example against its model).
EXAMPLE_PROFILE: dict[str, Any] = {
    "name": "Harbor Lane Coffee",
    "what_it_sells": "Small-batch specialty coffee roasted on site, a neighbourhood café and whole-bean subscriptions.",
    "market": "Local: Portland, Oregon",
    "audience": {
        "who": "Home-brewing coffee lovers in Portland who want café-quality coffee at home.",
        "pains": ["Supermarket beans taste flat and bitter"],
    },
    "offers": {
        "lead_magnet": {"name": "The 5-Minute Pour-Over Cheat Sheet", "price": 0},
        "entry_offer": {"name": "Tasting Flight Box", "price": 12},
        "core_offer": {"name": "Roaster's Choice Subscription", "price": 34},
    },
    "brand_voice": {"tone": "warm, neighbourly, a little nerdy about coffee", "words_to_avoid": ["cheap"]},
    "channels": ["instagram", "email"],
}
_TEXT = Annotated[str, Field(min_length=1, max_length=20_000)]
_EXAMPLE_DRAFT: dict[str, Any] = {
    "business": "Harbor Lane Coffee",
    "stage": "aware",
    "asset_type": "content_idea",
    "asset": {
        "format": "short video",
        "title": "Why your home coffee tastes bitter",
        "hook": "Your beans are fine. Your kettle is too hot.",
        "key_points": ["Bitter means over-extracted", "Let the kettle rest 30 seconds", "Grind a little coarser"],
        "why_strangers_care": "A better cup tomorrow morning with the beans they already have.",
    },
    "meta": {"prompt_id": "content_idea", "prompt_version": "1", "provider": "local", "model": "smollm2"},
}
Examples = dict[str, dict[str, Any]]  # FastAPI's openapi_examples: name -> {summary, value}
DRAFTS_EXAMPLES: Examples = {
    "one": {"summary": "One draft, scored", "value": {"profile": EXAMPLE_PROFILE, "stage": "subscribe"}},
    "variants": {
        "summary": "Three distinct variants of an X post",
        "value": {"profile": EXAMPLE_PROFILE, "stage": "aware", "asset_type": "social_post", "channel": "x",
                  "instructions": "Lead with the cheat sheet", "variants": 3},
    },
    "best": {
        "summary": "Best of 3 candidates, revised until it passes at 0.7",
        "value": {"profile": EXAMPLE_PROFILE, "stage": "convert", "candidates": 3, "min_score": 0.7},
    },
}  # fmt: skip
STREAM_EXAMPLES: Examples = {
    "post": {
        "summary": "An Instagram post, streamed",
        "value": {"profile": EXAMPLE_PROFILE, "stage": "aware", "channel": "instagram"},
    }
}
REVISION_EXAMPLES: Examples = {
    "shorter": {
        "summary": "A shorter, warmer version under the brand's rules",
        "value": {"draft": _EXAMPLE_DRAFT, "instruction": "shorter and warmer", "profile": EXAMPLE_PROFILE},
    }
}
SCORE_EXAMPLES: Examples = {
    "two": {
        "summary": "Two texts checked against one business",
        "value": {
            "items": [
                {"stage": "advocate", "text": "Loved your visit? Leave us a quick Google review: [link]"},
                {"stage": "promote", "text": "Give $10, get $10: you and a friend both get a bag credit."},
            ],
            "profile": EXAMPLE_PROFILE,
        },
    }
}
CLASSIFY_EXAMPLES: Examples = {
    "one": {"summary": "Which stage a text serves", "value": {"texts": ["Share your code: you both save $20."]}}
}


def _schema_examples(examples: Examples, *, business: bool | None = None) -> dict[str, Any]:
    """The same examples for the schema itself (``json_schema_extra``); with ``business``, the rule on `profile`
    and `business_id` too (True: exactly one of them; False: at most one), so a generated client knows it."""
    extra: dict[str, Any] = {"examples": [example["value"] for example in examples.values()]}
    if business is True:
        extra["oneOf"] = [{"required": ["profile"]}, {"required": ["business_id"]}]
    elif business is False:
        extra["not"] = {"required": ["profile", "business_id"]}
    return extra


class ErrorBody(BaseModel):
    """Every 4xx and 5xx answer: what went wrong in one readable message, and the particulars (or null)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "error": "Invalid request:\nbody.stage: Unknown stage 'nirvana'. Choose one of: aware, ...",
                    "details": [{"loc": ["body", "stage"], "msg": "Unknown stage 'nirvana'...", "type": "value_error"}],
                }
            ]
        }
    )

    error: str
    details: Any = None


BusinessIdText = Annotated[str, StringConstraints(pattern=BUSINESS_ID.pattern)]


def business_id_field() -> Any:
    return Field(
        default=None,
        description="A business stored with POST /v1/businesses, instead of `profile`: its profile and documents",
    )  # fmt: skip


def one_business(profile: BusinessProfile | None, business_id: str | None, *, required: bool) -> None:
    if profile is not None and business_id is not None:
        raise ValueError("send either profile or business_id, not both")
    if required and profile is None and business_id is None:
        raise ValueError("send the business: a profile, or the business_id of one stored with POST /v1/businesses")


class DraftBody(DraftRequest):
    """A draft request with the business profile inline; ``candidates`` > 1 drafts N and keeps the best."""

    model_config = ConfigDict(extra="forbid")

    profile: BusinessProfile
    candidates: int = Field(default=1, ge=1, le=8, description="Draft N at once, keep the one the eval ranks best")

    def draft_request(self) -> DraftRequest:
        """The request without the profile and the drafting options."""
        return DraftRequest.model_validate(self.model_dump(include=set(DraftRequest.model_fields)))


class DraftStreamBody(DraftRequest):
    """One draft, streamed: the model's text as it writes, then the scored draft."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_schema_examples(STREAM_EXAMPLES, business=True))

    profile: BusinessProfile | SkipJsonSchema[None] = None
    business_id: BusinessIdText | SkipJsonSchema[None] = business_id_field()

    @model_validator(mode="after")
    def _has_a_business(self) -> DraftStreamBody:
        one_business(self.profile, self.business_id, required=True)
        return self

    def draft_request(self) -> DraftRequest:
        return DraftRequest.model_validate(self.model_dump(include=set(DraftRequest.model_fields)))


class DraftsBody(DraftBody):
    """What to draft for a business: one draft, N distinct variants, the best of N candidates, or a draft revised
    with the eval's reasons until it reaches ``min_score``. Every draft comes back scored."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_schema_examples(DRAFTS_EXAMPLES, business=True))

    variants: int = Field(default=1, ge=1, le=6, description="N distinct drafts, each from its own angle")
    min_score: float | None = Field(
        default=None, ge=0, le=1, description="Revise with the eval's reasons until the draft passes at this score"
    )
    max_revisions: int = Field(default=2, ge=0, le=10, description="The revision budget for min_score")
    profile: BusinessProfile | SkipJsonSchema[None] = None  # type: ignore[assignment]  # or business_id
    business_id: BusinessIdText | SkipJsonSchema[None] = business_id_field()

    @model_validator(mode="after")
    def _one_way_of_drafting(self) -> DraftsBody:
        one_business(self.profile, self.business_id, required=True)
        if self.variants > 1 and (self.min_score is not None or self.candidates > 1):
            raise ValueError("min_score and candidates work on one draft at a time; drop variants (or set it to 1)")
        return self


class DraftsResponse(BaseModel):
    """Always a list, so a client reads one shape whatever it asked: one draft, or one per variant in order."""

    drafts: list[Draft] = Field(description="One draft, or one per variant (variant 1 first); each scored")
    versions: int = Field(default=1, description="With min_score: how many versions were made (the best is kept)")
    reached_min_score: bool | None = Field(
        default=None, description="With min_score: whether the kept draft passed at that score"
    )


class RevisionBody(BaseModel):
    """A draft (as POST /v1/drafts returned it) and what to change; with the profile its brand rules apply too."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_schema_examples(REVISION_EXAMPLES, business=False))

    draft: Draft
    instruction: str = Field(min_length=1, max_length=2000, description="What to change: 'shorter', 'warmer'...")
    profile: BusinessProfile | SkipJsonSchema[None] = None
    business_id: BusinessIdText | SkipJsonSchema[None] = business_id_field()

    @model_validator(mode="after")
    def _at_most_one_business(self) -> RevisionBody:
        one_business(self.profile, self.business_id, required=False)
        return self

    @field_validator("instruction")
    @classmethod
    def _says_something(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the instruction must say what to change")
        return value


class ScoreItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stage: StageId
    text: _TEXT
    business: str | None = None


class ScoreBody(BaseModel):
    """Texts to score against their stage's rubric; with a profile, brand words, claims and prices are checked."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_schema_examples(SCORE_EXAMPLES, business=False))

    items: list[ScoreItem] = Field(min_length=1, max_length=200)
    profile: BusinessProfile | SkipJsonSchema[None] = None
    business_id: BusinessIdText | SkipJsonSchema[None] = business_id_field()

    @model_validator(mode="after")
    def _at_most_one_business(self) -> ScoreBody:
        one_business(self.profile, self.business_id, required=False)
        return self


class ScoresResponse(BaseModel):
    results: list[AssetScore] = Field(description="One rubric result per item, in input order")


class ClassifyBody(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_schema_examples(CLASSIFY_EXAMPLES))

    texts: list[_TEXT] = Field(min_length=1, max_length=200)


class ClassifyResponse(BaseModel):
    results: list[StageFit] = Field(description="Which stage each text serves, with a confidence, in input order")


class StageInfo(BaseModel):
    id: str
    name: str
    purpose: str
    asset_types: list[str] = Field(default_factory=list)


class StagesResponse(BaseModel):
    stages: list[StageInfo] = Field(description="The 8 stages of the journey, in order")


class SearchResponse(BaseModel):
    query: str
    stage: StageId | None = None
    hits: list[Hit] = Field(description="The best chunks, most relevant first, with their sources")


class Health(BaseModel):
    status: str = "ok"


BUSINESS_EXAMPLES: Examples = {"coffee": {"summary": "A local coffee roaster", "value": {"profile": EXAMPLE_PROFILE}}}


class BusinessBody(BaseModel):
    """A business to keep in this key's workspace."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_schema_examples(BUSINESS_EXAMPLES))

    profile: BusinessProfile


class BusinessesResponse(BaseModel):
    businesses: list[Business] = Field(description="This workspace's businesses, oldest first")
