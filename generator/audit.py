"""The journey audit: what a business's existing copy already does for each stage, and what to draft first.

Each piece is classified by stage (abstaining when the classifier is unsure: an unclear piece is reported, not
guessed), then scored on that stage's rubric. A stage is *covered* when its best piece passes the rubric, *weak*
when it has pieces but none passes, *missing* when none serves it. What to draft first: missing stages, earliest
in the journey first (a journey leaks from the top), then weak ones, three at most.

The score of existing copy is the rubric's alone: the on-brief gate was built for model drafts (it fails a draft
for a price the profile lacks), and on a business's own copy such a finding says the profile is incomplete, not
that the copy is off brief. The gate's findings are kept as notes.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, computed_field

from generator.drafts import DraftRequest
from generator.errors import DocumentError
from generator.evaluation.criteria import load_rubric
from generator.evaluation.results import AssetScore, StageFit
from generator.evaluation.rule_scorers import Subject
from generator.evaluation.scoring import Evaluator
from generator.evaluation.stage_fit import StageClassifier
from generator.profile import BusinessProfile
from generator.stages import STAGE_IDS, StageId, get_stage, parse_stage_id

DRAFT_FIRST = 3
MAX_PIECES = 200  # a whole site's pages at most; more is the wrong folder
CoverageStatus = Literal["covered", "weak", "missing"]


class AuditDoc(BaseModel):
    """One piece of existing copy and where it came from (a file name, a URL, 'pasted 2')."""

    source: str = Field(min_length=1, max_length=500)
    text: str = Field(min_length=1, max_length=100_000)


class AuditPiece(BaseModel):
    """One piece of copy: the stage it serves (None: the classifier abstained) and how well it serves it."""

    source: str
    words: int
    stage: StageId | None = Field(description="The stage it serves; None when the classifier is unsure")
    fit: StageFit
    score: float | None = Field(default=None, description="Its stage rubric's score in [0, 1]")
    passed: bool | None = None
    to_fix: list[str] = Field(default_factory=list, description="The weakest criteria, worst first")
    notes: list[str] = Field(default_factory=list, description="The on-brief gate's findings (not scored)")

    @property
    def label(self) -> str:
        return self.stage or f"unclear ({self.fit.describe().removeprefix('unclear: ')})"


class StageCoverage(BaseModel):
    """One stage of the journey: the pieces that serve it and how well the best of them does."""

    stage: StageId
    name: str
    status: CoverageStatus
    pieces: list[str] = Field(default_factory=list, description="Sources of the pieces that serve it, best first")
    best_score: float | None = None
    threshold: float
    to_fix: list[str] = Field(default_factory=list, description="What the best piece should fix first")


class Recommendation(BaseModel):
    """An asset to draft, and why."""

    stage: StageId
    asset_type: str
    why: str


class AuditReport(BaseModel):
    business: str
    pieces: list[AuditPiece]
    stages: list[StageCoverage]
    draft_first: list[Recommendation]

    def _with(self, status: CoverageStatus) -> list[StageId]:
        return [s.stage for s in self.stages if s.status == status]

    @computed_field  # type: ignore[prop-decorator]  # mypy rejects decorators over @property; pydantic documents this
    @property
    def covered(self) -> list[StageId]:
        return self._with("covered")

    @computed_field  # type: ignore[prop-decorator]  # mypy rejects decorators over @property; pydantic documents this
    @property
    def weak(self) -> list[StageId]:
        return self._with("weak")

    @computed_field  # type: ignore[prop-decorator]  # mypy rejects decorators over @property; pydantic documents this
    @property
    def missing(self) -> list[StageId]:
        return self._with("missing")

    def summary(self) -> str:
        """'3 of 8 stages covered, 2 weak, 3 missing (subscribe, excite, promote); 1 piece unclear.'"""
        unclear = sum(p.stage is None for p in self.pieces)
        missing = f" ({', '.join(self.missing)})" if self.missing else ""
        line = f"{len(self.covered)} of {len(STAGE_IDS)} stages covered, {len(self.weak)} weak, "
        line += f"{len(self.missing)} missing{missing}"
        return line + (f"; {unclear} piece{'s' if unclear != 1 else ''} unclear." if unclear else ".")


def rubric_score(scored: AssetScore) -> tuple[float, bool]:
    """The rubric's weighted score and verdict without the on-brief gate's penalty (see the module docstring)."""
    applied = [c for c in scored.criteria if c.score is not None]
    total = sum(c.weight for c in applied)
    value = sum(c.weight * (c.score or 0.0) for c in applied) / total if total else 0.0
    required_ok = all((c.score or 0.0) >= c.pass_at for c in applied if c.required)
    return round(value, 4), required_ok and value >= scored.threshold


def _piece(doc: AuditDoc, fit: StageFit, scored: AssetScore | None) -> AuditPiece:
    stage = None if fit.unclear else parse_stage_id(fit.stage)
    piece = AuditPiece(source=doc.source, words=len(doc.text.split()), stage=stage, fit=fit)
    if scored is None:
        return piece
    score, passed = rubric_score(scored)
    weakest = [f"{c.name}: {c.reason}" for c in scored.weakest(3)]
    notes = scored.gate.problems() if scored.gate else []
    return piece.model_copy(update={"score": score, "passed": passed, "to_fix": weakest, "notes": notes})


def _coverage(stage: StageId, pieces: list[AuditPiece], threshold: float) -> StageCoverage:
    mine = sorted((p for p in pieces if p.stage == stage), key=lambda p: -(p.score or 0.0))
    status: CoverageStatus = "missing" if not mine else "covered" if any(p.passed for p in mine) else "weak"
    return StageCoverage(
        stage=stage,
        name=get_stage(stage).name,
        status=status,
        pieces=[p.source for p in mine],
        best_score=mine[0].score if mine else None,
        threshold=threshold,
        to_fix=mine[0].to_fix if mine else [],
    )


def draft_first(stages: list[StageCoverage], limit: int = DRAFT_FIRST) -> list[Recommendation]:
    """Missing stages in journey order, then weak ones in journey order: ``limit`` at most."""
    order = [s for s in stages if s.status == "missing"] + [s for s in stages if s.status == "weak"]
    picks = []
    for coverage in order[:limit]:
        asset = DraftRequest(stage=coverage.stage).asset_class
        if coverage.status == "missing":
            why = f"nothing you have serves {coverage.name} yet"
        else:
            score = coverage.best_score or 0.0
            why = f"your best {coverage.name} piece ({coverage.pieces[0]}) scores {score:.2f}"
            if score < coverage.threshold:
                why += f", under the {coverage.threshold:.2f} pass mark"
            if coverage.to_fix:
                why += f"; fix first: {coverage.to_fix[0]}"
        picks.append(Recommendation(stage=coverage.stage, asset_type=asset.asset_type, why=why))
    return picks


def audit(
    docs: list[AuditDoc],
    profile: BusinessProfile,
    *,
    evaluator: Evaluator,
    classifier: StageClassifier | None = None,
) -> AuditReport:
    """Classify, score and map existing copy onto the journey. ``classifier`` defaults to the evaluator's."""
    classifier = classifier or evaluator.classifier
    if classifier is None:
        raise ValueError("the audit needs a stage classifier (the evaluator has none)")
    if len(docs) > MAX_PIECES:
        raise DocumentError(f"{len(docs)} pieces of copy; an audit takes {MAX_PIECES} at most. Pick the main ones.")
    fits = classifier.classify([d.text for d in docs]) if docs else []
    placed = [(d, f) for d, f in zip(docs, fits, strict=True) if not f.unclear]
    subjects = [Subject(stage=f.stage, text=d.text, business=profile.name, profile=profile) for d, f in placed]
    scores = dict(zip((id(d) for d, _ in placed), evaluator.score_many(subjects), strict=True))
    pieces = [_piece(d, f, scores.get(id(d))) for d, f in zip(docs, fits, strict=True)]
    rubrics = evaluator.settings.eval_dir / "criteria"
    stages = [_coverage(stage, pieces, load_rubric(rubrics, stage).pass_threshold) for stage in STAGE_IDS]
    return AuditReport(business=profile.name, pieces=pieces, stages=stages, draft_first=draft_first(stages))
