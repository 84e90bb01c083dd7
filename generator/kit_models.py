"""What a journey kit is: one business's drafted assets across the stages, with scores and costs."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, Field

from generator.drafts import Draft
from generator.profile import BusinessProfile


class KitEntry(BaseModel):
    """One asset in the kit (or why it is missing)."""

    key: str = Field(description="'<stage>.<asset_type>' plus '.v<n>' for variants")
    stage: str
    asset_type: str
    draft: Draft | None = None
    error: str | None = None
    seconds: float = 0.0
    cached: bool = Field(default=False, description="Loaded from an earlier run instead of drafted")


class KitTotals(BaseModel):
    assets: int = Field(default=0, description="Drafted (whatever the eval says of them)")
    failed: int = Field(default=0, description="Not drafted: the model never returned a valid asset")
    passed: int = Field(default=0, description="Drafted and passed the eval")
    needs_work: int = Field(default=0, description="On brief, below the eval's bar")
    off_brief: int = Field(default=0, description="Failed the eval's on-brief gate: not usable as is")
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    wall_seconds: float = 0.0
    model_calls: int = 0


class JourneyStep(BaseModel):
    """One row of the journey overview: what the prospect sees, the offer, the next step."""

    stage: str
    stage_name: str
    prospect_sees: str
    offer: str
    next_step: str
    score: float | None = None
    verdict: str | None = None


class JourneyRow(BaseModel):
    """One stage of the kit in the journey table."""

    stage: str
    stage_name: str
    asset: str = Field(description="The asset's label, or 'not drafted'")
    verdict: str | None = None
    hands_to: str = Field(description="What the asset hands the customer to next, as the copy says it")
    leads_on: bool | None = Field(default=None, description="Whether the hand-off reaches the next stage's asset")
    breaks: list[str] = Field(default_factory=list)


class JourneyCheck(BaseModel):
    rows: list[JourneyRow]

    @property
    def breaks(self) -> list[str]:
        return [f"{row.stage_name}: {problem}" for row in self.rows for problem in row.breaks]


class KitReport(BaseModel):
    """A whole journey kit for one business."""

    business: str
    slug: str
    profile: BusinessProfile
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    entries: list[KitEntry]
    overview: list[JourneyStep]
    totals: KitTotals
    journey: JourneyCheck | None = Field(default=None, description="Does the kit hold together as one journey?")
