"""What a journey kit is: one business's drafted assets across the stages, with scores and costs."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, Field

from generator.drafts import Draft
from generator.profile import BusinessProfile
from generator.stages import load_stages


class KitEntry(BaseModel):
    """One asset in the kit (or why it is missing)."""

    key: str = Field(description="'<stage>.<asset_type>' plus '.v<n>' for variants")
    stage: str
    asset_type: str
    draft: Draft | None = None
    error: str | None = None
    seconds: float = 0.0
    cached: bool = Field(default=False, description="Loaded from an earlier run instead of drafted")


class KitStamp(BaseModel):
    """What an asset file in a kit folder was written for (stored beside the draft, under ``kit_stamp``): a resumed
    kit reuses the file only if the business's profile and the prompts are the same as now."""

    business: str
    profile_sha256: str = Field(description="Hash of the whole profile: an edited profile redoes its assets")
    prompts: dict[str, str] = Field(description="Prompt id -> version (the asset's prompt, the frame, the system)")

    def differs(self, now: KitStamp) -> str | None:
        """Why a file with this stamp cannot stand in for an asset drafted ``now`` (None: it can)."""
        if self.profile_sha256 != now.profile_sha256:
            same = self.business == now.business
            return "its business profile has changed" if same else f"it was written for {self.business!r}"
        changed = sorted(k for k in {*self.prompts, *now.prompts} if self.prompts.get(k) != now.prompts.get(k))
        if not changed:
            return None
        return "it was written with another prompt version: " + ", ".join(
            f"{k} v{self.prompts.get(k, '-')} (now v{now.prompts.get(k, '-')})" for k in changed
        )


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
    set_aside: list[str] = Field(
        default_factory=list,
        description="Asset files found in the folder but not reused (another business or prompt version, damaged): "
        "moved to assets/superseded/ and redone",
    )


def totals(entries: list[KitEntry], wall_seconds: float, model_calls: int | None = None) -> KitTotals:
    """Sums over the kit; ``model_calls`` is the real request count when the model counts them."""
    drafts = [e.draft for e in entries if e.draft]
    fresh = [e.draft for e in entries if e.draft and not e.cached]
    verdicts = [d.evaluation.verdict for d in drafts if d.evaluation]
    return KitTotals(
        assets=len(drafts),
        failed=sum(1 for e in entries if e.error),
        passed=verdicts.count("passed"),
        needs_work=verdicts.count("needs work"),
        off_brief=verdicts.count("failed"),
        input_tokens=sum(d.meta.usage.input_tokens for d in drafts),
        output_tokens=sum(d.meta.usage.output_tokens for d in drafts),
        cost_usd=round(sum(d.meta.cost_usd for d in drafts), 6),
        wall_seconds=round(wall_seconds, 3),
        model_calls=model_calls if model_calls is not None else sum(d.meta.attempts for d in fresh),
    )


_HEADLINE_FIELDS = ("hook", "title", "subject_line", "name", "offer_name", "welcome_message", "program_name", "the_ask")


def journey_overview(profile: BusinessProfile, entries: list[KitEntry]) -> list[JourneyStep]:
    """One line per stage: what the prospect sees, the offer on the table, and the next step."""
    first: dict[str, KitEntry] = {}
    for candidate in entries:
        first.setdefault(candidate.stage, candidate)
    ladder = profile.offers
    offers = {
        "subscribe": ladder.lead_magnet.name if ladder.lead_magnet else "a free lead magnet",
        "convert": ladder.entry_offer.name if ladder.entry_offer else "an entry-point offer",
        "ascend": ladder.core_offer.name,
    }
    steps = []
    for stage in load_stages():
        entry = first.get(stage.id)
        if entry is None:
            continue
        sees = "not drafted"
        evaluation = entry.draft.evaluation if entry.draft else None
        if entry.draft:
            asset = entry.draft.asset
            sees = next((str(asset[f]) for f in _HEADLINE_FIELDS if f in asset), entry.draft.typed().label)
        if evaluation and evaluation.verdict == "failed":  # never presented as done
            sees = f"not usable: {'; '.join(evaluation.problems(1))}"
        score = evaluation.score if evaluation else None
        steps.append(
            JourneyStep(
                stage=stage.id,
                stage_name=stage.name,
                prospect_sees=sees[:200],
                offer=offers.get(stage.id, "free content" if stage.number <= 2 else "-"),
                next_step=stage.next_step,
                score=score,
                verdict=evaluation.verdict if evaluation else None,
            )
        )
    return steps
