"""Running an eval suite: draft or take each case's text, score it on its stage's rubric, check its
assertions, and summarise (the suite file itself is ``suite_file``)."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from generator.chains import draft as draft_asset
from generator.drafts import Draft
from generator.errors import CVJError, DocumentError, GenerationError
from generator.evaluation.rule_scorers import Subject
from generator.evaluation.scoring import AssetScore, Evaluator
from generator.evaluation.suite_assertions import AssertionResult  # also imported from here (report.py)
from generator.evaluation.suite_file import Case, Suite
from generator.profile import BusinessProfile, load_profile
from generator.stages import STAGE_IDS

# --------------------------------------------------------------------------- results


class CaseResult(BaseModel):
    description: str
    stage: str
    asset_type: str | None = None
    business: str | None = None
    drafted: bool = False
    text: str = ""
    passed: bool
    skipped: bool = False
    skip_reason: str | None = None
    score: float = Field(ge=0, le=1, description="Weighted share of the assertions that passed")
    threshold: float = 1.0
    assertions: list[AssertionResult] = Field(default_factory=list)
    asset_score: AssetScore | None = None
    error: str | None = None
    seconds: float = 0.0

    @property
    def status(self) -> Literal["pass", "fail", "skip"]:
        return "skip" if self.skipped else "pass" if self.passed else "fail"

    def failing(self) -> list[AssertionResult]:
        return [a for a in self.assertions if not a.passed and not a.skipped]


class SuiteSummary(BaseModel):
    total: int
    passed: int
    failed: int
    skipped: int
    pass_rate: float = Field(description="passed / (passed + failed); skipped cases do not count")
    mean_score_by_stage: dict[str, float] = Field(description="Mean rubric score of the scored cases, per stage")


class SuiteReport(BaseModel):
    description: str
    started_at: datetime
    seconds: float
    cases: list[CaseResult]
    summary: SuiteSummary


# --------------------------------------------------------------------------- running


DraftFn = Callable[[Case], Draft]


def suite_drafter(*, model: Any, index: Any, settings: Any, base_dir: Path) -> DraftFn:
    """A ``draft_fn`` for :func:`run_suite` that drafts with :func:`generator.chains.draft`."""
    profiles: dict[Path, BusinessProfile] = {}

    def draft_case(case: Case) -> Draft:
        path = case.profile_path(base_dir)
        if path is None:
            raise DocumentError(f"Case '{case.description}' has no profile to draft from.")
        if path not in profiles:
            profiles[path] = load_profile(path)
        return draft_asset(profiles[path], case.draft_request(), model=model, index=index, settings=settings)

    return draft_case


def _case_score(results: list[AssertionResult]) -> float:
    counted = [r for r in results if r.score is not None]
    total = sum(r.weight for r in counted)
    return round(sum(r.weight * (r.score or 0.0) for r in counted) / total, 4) if total else 0.0


def run_case(
    case: Case,
    *,
    evaluator: Evaluator,
    draft_fn: DraftFn | None,
    base_dir: Path,
    default_threshold: float = 1.0,
) -> CaseResult:
    """Draft (if needed), score on the rubric, check the assertions; CVJErrors fail the case, never the run."""
    started = time.perf_counter()
    threshold = case.threshold if case.threshold is not None else default_threshold
    result = CaseResult(
        description=case.description,
        stage=case.vars.stage,
        asset_type=case.vars.asset_type,
        business=case.vars.business,
        drafted=case.drafted,
        text=case.vars.text or "",
        passed=False,
        score=0.0,
        threshold=threshold,
    )

    def done(**update: Any) -> CaseResult:
        update["seconds"] = round(time.perf_counter() - started, 3)
        return result.model_copy(update=update)

    if case.drafted and draft_fn is None:
        return done(skipped=True, skip_reason="drafted case, but no model to draft with")
    profile: BusinessProfile | None = None
    asset = None
    try:
        path = case.profile_path(base_dir)
        profile = load_profile(path) if path else None
        if case.drafted:
            assert draft_fn is not None
            made = draft_fn(case)
            result.text, result.asset_type, asset = made.as_text(), made.asset_type, made.typed()
            result.business = result.business or made.business
    except CVJError as exc:
        details = exc.details if isinstance(exc, GenerationError) else None
        if isinstance(details, dict) and details.get("last_completion"):
            result.text = str(details["last_completion"])  # keep what the model wrote
        return done(error=exc.message)
    result.business = result.business or (profile.name if profile else None)
    subject = Subject(stage=case.vars.stage, text=result.text, business=result.business, profile=profile, asset=asset)
    try:
        scored = evaluator.score(subject)
        checks = [a.check(subject, scored, evaluator) for a in case.assertions]
    except CVJError as exc:
        return done(error=exc.message)
    if all(c.skipped for c in checks):
        reasons = sorted({c.reason for c in checks})
        return done(
            asset_score=scored,
            assertions=checks,
            skipped=True,
            skip_reason=f"every assertion skipped: {', '.join(reasons)}",
        )
    score = _case_score(checks)
    return done(asset_score=scored, assertions=checks, score=score, passed=score >= threshold - 1e-9)


def summarize(cases: list[CaseResult]) -> SuiteSummary:
    passed = sum(c.passed for c in cases)
    skipped = sum(c.skipped for c in cases)
    failed = len(cases) - passed - skipped
    by_stage: dict[str, list[float]] = defaultdict(list)
    for c in cases:
        if c.asset_score is not None:
            by_stage[c.stage].append(c.asset_score.score)
    return SuiteSummary(
        total=len(cases),
        passed=passed,
        failed=failed,
        skipped=skipped,
        pass_rate=round(passed / (passed + failed), 4) if passed + failed else 0.0,
        mean_score_by_stage={s: round(sum(v) / len(v), 4) for s in STAGE_IDS if (v := by_stage.get(s))},
    )


def run_suite(
    suite: Suite,
    *,
    evaluator: Evaluator,
    draft_fn: DraftFn | None,
    base_dir: Path,
    on_case: Callable[[int, int], None] | None = None,
) -> SuiteReport:
    """Run every case in order; ``on_case(done, total)`` is called after each one."""
    started_at, started = datetime.now(UTC), time.perf_counter()
    results: list[CaseResult] = []
    for case in suite.cases:
        results.append(
            run_case(
                case,
                evaluator=evaluator,
                draft_fn=draft_fn,
                base_dir=base_dir,
                default_threshold=suite.defaults.threshold,
            )
        )
        if on_case is not None:
            on_case(len(results), len(suite.cases))
    return SuiteReport(
        description=suite.description,
        started_at=started_at,
        seconds=round(time.perf_counter() - started, 3),
        cases=results,
        summary=summarize(results),
    )
