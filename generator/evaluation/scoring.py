"""Score an asset against its stage's rubric: rules first (free), stage fit, then the judge.

The score is the weighted mean of the criteria that apply, in [0, 1]; the asset passes when the
score reaches the rubric's threshold and every required criterion that applies scores >= 0.5.
"""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel

from generator.errors import CVJError
from generator.evaluation.criteria import Criterion, load_rubric
from generator.evaluation.judge import Judge
from generator.evaluation.rule_scorers import RULES, RuleResult, Subject
from generator.evaluation.stage_fit import StageClassifier, StageFit
from generator.settings import Settings

REQUIRED_MIN = 0.5


class CriterionScore(BaseModel):
    id: str
    name: str
    scorer: str
    weight: float
    required: bool
    score: float | None  # None: does not apply here (e.g. no profile to check words against)
    reason: str


class AssetScore(BaseModel):
    stage: str
    score: float
    passed: bool
    threshold: float
    stage_fit: StageFit | None = None
    criteria: list[CriterionScore]

    def critique(self) -> str:
        """What to fix, worst first: feeds a revision."""
        weak = sorted(
            (c for c in self.criteria if c.score is not None and c.score < 0.75), key=lambda c: (c.score, -c.weight)
        )
        return "; ".join(f"{c.name}: {c.reason}" for c in weak[:5]) or "tighten the copy"


class Evaluator:
    """Scores subjects; the classifier and the judge are optional collaborators."""

    def __init__(
        self, *, settings: Settings, classifier: StageClassifier | None = None, judge: Judge | None = None
    ) -> None:
        self.settings = settings
        self.classifier = classifier
        self.judge = judge

    def _stage_fit(self, criterion: Criterion, subject: Subject, fit: StageFit | None) -> RuleResult | None:
        if fit is None:
            return None
        p = fit.scores.get(subject.stage, 0.0)
        wanted = float(criterion.params.get("min_confidence", 0.4))
        reason = f"reads as {subject.stage} {p:.0%}"
        if fit.stage != subject.stage:
            reason += f" (best: {fit.stage} {fit.confidence:.0%})"
        # p == min_confidence scores 0.5 (the pass line of a required criterion); 2x that scores 1.0.
        return RuleResult(score=round(min(1.0, p / (2 * wanted)), 3), reason=reason)

    def _result(self, criterion: Criterion, subject: Subject, fit: StageFit | None) -> RuleResult | str:
        """A result, or why there is none."""
        if criterion.scorer == "judge":
            if self.judge is None:
                return "judge off"
            try:
                return self.judge.score(criterion, subject)
            except CVJError as exc:
                return f"judge failed: {exc.message[:120]}"
        if criterion.rule == "stage_fit":
            return self._stage_fit(criterion, subject, fit) or "no classifier"
        return RULES[str(criterion.rule)](subject, criterion.params) or "does not apply"

    def _one(self, criterion: Criterion, subject: Subject, fit: StageFit | None) -> CriterionScore:
        result = self._result(criterion, subject, fit)
        return CriterionScore(
            id=criterion.id,
            name=criterion.name,
            scorer=criterion.scorer,
            weight=criterion.weight,
            required=criterion.required,
            score=round(result.score, 4) if isinstance(result, RuleResult) else None,
            reason=result.reason if isinstance(result, RuleResult) else str(result),
        )

    def score(self, subject: Subject, fit: StageFit | None = None) -> AssetScore:
        rubric = load_rubric(self.settings.eval_dir / "criteria", subject.stage)
        if fit is None and self.classifier is not None:
            fit = self.classifier.classify([subject.text])[0]
        scores = [self._one(c, subject, fit) for c in rubric.criteria]
        applied = [c for c in scores if c.score is not None]
        total = sum(c.weight for c in applied)
        value = sum(c.weight * (c.score or 0.0) for c in applied) / total if total else 0.0
        required_ok = all((c.score or 0.0) >= REQUIRED_MIN for c in applied if c.required)
        return AssetScore(
            stage=subject.stage,
            score=round(value, 4),
            passed=required_ok and value >= rubric.pass_threshold,
            threshold=rubric.pass_threshold,
            stage_fit=fit,
            criteria=scores,
        )

    def score_many(
        self, subjects: list[Subject], *, on_scored: Callable[[AssetScore], None] | None = None
    ) -> list[AssetScore]:
        """Batch: one classifier call for all texts; ``on_scored`` follows progress."""
        fits = self.classifier.classify([s.text for s in subjects]) if self.classifier else [None] * len(subjects)
        results = []
        for subject, fit in zip(subjects, fits, strict=True):
            results.append(self.score(subject, fit))
            if on_scored:
                on_scored(results[-1])
        return results
