"""What the eval returns, as plain models: a draft carries its score (``Draft.evaluation``), so these sit below
both the drafts and the scorers and import nothing of either."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, computed_field

REQUIRED_MIN = 0.5
WEAK_BELOW = 0.75
Verdict = Literal["passed", "needs work", "failed"]


# Below this confidence the classifier says "unclear" with its two likeliest stages rather than a wrong verdict.
# Chosen on eval/training/ only: out of fold, at the fitted temperature (about 0.3), 0.6 sets aside 5% of the
# training examples and lifts accuracy on the rest from 0.932 to 0.952.
UNCLEAR_BELOW = 0.6


class StageFit(BaseModel):
    stage: str = Field(description="The stage the text serves best")
    confidence: float = Field(ge=0, le=1)
    scores: dict[str, float] = Field(description="Probability per stage")

    @property
    def ranked(self) -> list[str]:
        return sorted(self.scores, key=self.scores.__getitem__, reverse=True)

    @computed_field  # type: ignore[prop-decorator]  # mypy rejects decorators over @property; pydantic documents this
    @property
    def unclear(self) -> bool:
        """Too unsure to name one stage: say so, with the two likeliest."""
        return self.confidence < UNCLEAR_BELOW

    @computed_field  # type: ignore[prop-decorator]  # mypy rejects decorators over @property; pydantic documents this
    @property
    def runner_up(self) -> str | None:
        """The second likeliest stage."""
        ranked = self.ranked
        return ranked[1] if len(ranked) > 1 else None

    def describe(self) -> str:
        """'promote 64%' or 'unclear: engage 28% or aware 25%'."""
        if self.unclear and self.runner_up:
            return f"unclear: {self.stage} {self.confidence:.0%} or {self.runner_up} {self.scores[self.runner_up]:.0%}"
        return f"{self.stage} {self.confidence:.0%}"


class GateCheck(BaseModel):
    id: str
    name: str
    passed: bool
    reason: str


class GateResult(BaseModel):
    passed: bool
    checks: list[GateCheck]

    def problems(self) -> list[str]:
        return [f"{c.name}: {c.reason}" for c in self.checks if not c.passed]


class CriterionScore(BaseModel):
    id: str
    name: str
    scorer: str
    weight: float
    required: bool
    pass_at: float = REQUIRED_MIN  # what a required criterion must reach
    score: float | None  # None: does not apply here (e.g. no profile to check words against)
    reason: str


class Problem(BaseModel):
    """One thing to fix in a draft: a failed gate check or a weak criterion, with its score and why."""

    name: str
    score: float
    reason: str


class AssetScore(BaseModel):
    stage: str
    score: float
    passed: bool
    threshold: float
    stage_fit: StageFit | None = None
    criteria: list[CriterionScore]
    gate: GateResult | None = None

    @computed_field  # type: ignore[prop-decorator]  # mypy rejects decorators over @property; pydantic documents this
    @property
    def verdict(self) -> Verdict:
        """Failed: off brief, so not a draft to polish. Needs work: on brief, below the bar. Passed."""
        if self.gate is not None and not self.gate.passed:
            return "failed"
        return "passed" if self.passed else "needs work"

    def weakest(self, limit: int) -> list[CriterionScore]:
        """The criteria scoring under 0.75, worst first (heavier first among equals): what to fix."""
        weak = sorted(
            (c for c in self.criteria if c.score is not None and c.score < WEAK_BELOW),
            key=lambda c: (c.score, -c.weight),
        )
        return weak[:limit]

    def to_fix(self, limit: int = 5) -> list[Problem]:
        """What to fix, worst first: the gate's failed checks (each scores 0), then the weakest criteria. The one
        ordering every front door and export shows."""
        checks = self.gate.checks if self.gate else []
        gate = [Problem(name=c.name, score=0.0, reason=c.reason) for c in checks if not c.passed]
        weak = [Problem(name=c.name, score=c.score or 0.0, reason=c.reason) for c in self.weakest(limit)]
        return (gate + weak)[:limit]

    def problems(self, limit: int = 5) -> list[str]:
        """``to_fix`` as lines: 'name: reason'."""
        return [f"{p.name}: {p.reason}" for p in self.to_fix(limit)]

    def critique(self) -> str:
        """What to fix, worst first: feeds a revision."""
        return "; ".join(self.problems()) or "tighten the copy"
