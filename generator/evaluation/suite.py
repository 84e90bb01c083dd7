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
from generator.evaluation.criteria import Criterion
from generator.evaluation.rule_scorers import Subject
from generator.evaluation.scoring import AssetScore, Evaluator
from generator.evaluation.suite_file import Assertion, Case, Suite
from generator.profile import BusinessProfile, load_profile
from generator.stages import STAGE_IDS

JUDGE_OFF = "judge off"


# --------------------------------------------------------------------------- results


class AssertionResult(BaseModel):
    type: str
    value: bool | int | float | str | None
    passed: bool
    skipped: bool = False
    score: float | None = Field(description="1 passed, 0 failed, None skipped (does not count)")
    weight: float = 1.0
    negate: bool = False
    measured: float | None = Field(default=None, description="What was measured: a score, probability or length")
    reason: str


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


def _fail(a: Assertion, reason: str, measured: float | None = None) -> AssertionResult:
    """Could not be measured: fails whether or not the assertion is negated."""
    return AssertionResult(
        type=a.type,
        value=a.value,
        passed=False,
        score=0.0,
        weight=a.weight,
        negate=a.negate,
        measured=measured,
        reason=reason,
    )


def _skip(a: Assertion, reason: str) -> AssertionResult:
    return AssertionResult(
        type=a.type,
        value=a.value,
        passed=False,
        skipped=True,
        score=None,
        weight=a.weight,
        negate=a.negate,
        reason=reason,
    )


def _verdict(a: Assertion, ok: bool, reason: str, measured: float | None = None) -> AssertionResult:
    passed = ok != a.negate
    if a.negate:
        reason = f"{reason} (negated: {'fine' if passed else 'should not hold'})"
    return AssertionResult(
        type=a.type,
        value=a.value,
        passed=passed,
        score=1.0 if passed else 0.0,
        weight=a.weight,
        negate=a.negate,
        measured=measured,
        reason=reason,
    )


def _rubric_criterion(a: Assertion, scored: AssetScore) -> AssertionResult:
    found = next((c for c in scored.criteria if c.id == a.value), None)
    if found is None:
        ids = ", ".join(c.id for c in scored.criteria)
        return _fail(a, f"no criterion '{a.value}' in the {scored.stage} rubric (it has: {ids})")
    if found.score is None:
        if found.reason == JUDGE_OFF:
            return _skip(a, JUDGE_OFF)
        return _fail(a, f"not scored: {found.reason}")
    t = a.resolved_threshold
    sign = ">=" if found.score >= t else "<"
    return _verdict(a, found.score >= t, f"{found.score:.2f} {sign} {t:g}: {found.reason}", found.score)


def _llm_rubric(a: Assertion, subject: Subject, evaluator: Evaluator) -> AssertionResult:
    if evaluator.judge is None:
        return _skip(a, JUDGE_OFF)
    requirement = str(a.value).strip()
    criterion = Criterion(
        id="llm_rubric",
        name=requirement[:80],
        weight=1,
        scorer="judge",
        description=requirement,
        steps=[
            "Restate the requirement in your own words.",
            "Find the parts of the text that meet or miss it.",
            "Score how fully the text meets the requirement.",
        ],
    )
    try:
        result = evaluator.judge.score(criterion, subject)
    except CVJError as exc:
        return _fail(a, f"judge failed: {exc.message[:160]}")
    t = a.resolved_threshold
    return _verdict(
        a,
        result.score >= t,
        f"{result.score:.2f} {'>=' if result.score >= t else '<'} {t:g}: {result.reason}",
        result.score,
    )


def check_assertion(a: Assertion, subject: Subject, scored: AssetScore, evaluator: Evaluator) -> AssertionResult:
    """One assertion on a scored subject."""
    text = subject.text
    if a.type == "score-min":
        minimum = float(a.value)  # type: ignore[arg-type]
        ok = scored.score >= minimum
        return _verdict(a, ok, f"rubric score {scored.score:.2f} {'>=' if ok else '<'} {minimum:g}", scored.score)
    if a.type == "passes":
        verdict = "passes" if scored.passed else "fails"
        return _verdict(
            a,
            scored.passed == a.value,
            f"rubric {verdict} ({scored.score:.2f}, needs {scored.threshold:g})",
            scored.score,
        )
    if a.type == "criterion":
        return _rubric_criterion(a, scored)
    if a.type == "stage-fit":
        fit = scored.stage_fit
        if fit is None:
            return _fail(a, "no classifier")
        p, t = fit.scores.get(str(a.value), 0.0), a.resolved_threshold
        reason = f"reads as {a.value} {p:.0%} (needs {t:.0%}; best: {fit.stage} {fit.confidence:.0%})"
        return _verdict(a, p >= t, reason, p)
    if a.type in {"contains", "not-contains"}:
        needle = str(a.value)
        found = needle.lower() in text.lower()
        reason = f"{'contains' if found else 'does not contain'} '{needle}'"
        return _verdict(a, found == (a.type == "contains"), reason)
    if a.type == "max-length":
        length, limit = len(text), int(a.value)  # type: ignore[arg-type]
        return _verdict(a, length <= limit, f"{length} characters (limit {limit})", float(length))
    return _llm_rubric(a, subject, evaluator)


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
        checks = [check_assertion(a, subject, scored, evaluator) for a in case.assertions]
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
