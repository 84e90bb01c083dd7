"""Eval suites in promptfoo's shape: cases (vars + assertions) run against the rubric scorer.

A case either names a profile and a stage, and is drafted by the model at run time, or carries a
fixed ``text`` that is scored as is. Each case is scored on its stage's rubric, then its
assertions are checked; the case passes when the weighted share of assertions that pass reaches
its threshold (``defaults.threshold``, 1.0 = every assertion must pass).

Assertion types::

    score-min      value: the minimum rubric score (0-1)
    passes         value: true/false, what the rubric's verdict must be (default true)
    criterion      value: a criterion id of the stage's rubric; its score >= threshold (default 0.5)
    stage-fit      value: a stage id; the classifier's probability for it >= threshold (default 0.4)
    contains       value: a case-insensitive substring the text must contain
    not-contains   value: a case-insensitive substring the text must not contain
    max-length     value: the most characters the text may have
    llm-rubric     value: a plain-language requirement, judged like a rubric criterion (threshold 0.5)

``weight`` (default 1) weighs an assertion in the case score; ``negate: true`` flips pass and fail.
An assertion that cannot be measured (no classifier, a criterion that does not apply) fails either
way; one that needs the judge while the judge is off is skipped and does not count.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from generator.assets import resolve_asset_type
from generator.chains import draft as draft_asset
from generator.drafts import Draft, DraftRequest
from generator.errors import CVJError, DocumentError, GenerationError, UnknownStageError
from generator.evaluation.criteria import Criterion
from generator.evaluation.rule_scorers import Subject
from generator.evaluation.scoring import AssetScore, Evaluator
from generator.profile import BusinessProfile, load_profile
from generator.stages import STAGE_IDS, StageId, parse_stage_id
from generator.validation import Location, describe_errors, dotted

AssertionType = Literal[
    "score-min", "passes", "criterion", "stage-fit", "contains", "not-contains", "max-length", "llm-rubric"
]
DEFAULT_THRESHOLDS: dict[str, float] = {"criterion": 0.5, "stage-fit": 0.4, "llm-rubric": 0.5}
JUDGE_OFF = "judge off"
MAX_SUITE_BYTES = 1024 * 1024


# --------------------------------------------------------------------------- the suite file


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def _stage(value: object) -> object:
    try:
        return parse_stage_id(value) if isinstance(value, str) else value
    except UnknownStageError as exc:
        raise ValueError(exc.message) from None


class Assertion(_Strict):
    """One check on a case's text or its rubric score."""

    type: AssertionType
    value: bool | int | float | str | None = None
    threshold: float | None = Field(default=None, ge=0, le=1)
    weight: float = Field(default=1.0, gt=0)
    negate: bool = False

    @model_validator(mode="after")
    def _value_fits_type(self) -> Assertion:
        kind, value = self.type, self.value
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if kind == "score-min" and not (number and 0 <= float(value) <= 1):  # type: ignore[arg-type]
            raise ValueError(f"'score-min' needs a value between 0 and 1 (the minimum rubric score), got {value!r}")
        if kind == "passes":
            if value is None:
                self.value = True
            elif not isinstance(value, bool):
                raise ValueError(f"'passes' needs value true or false, got {value!r}")
        if kind == "max-length":
            if not (number and float(value) == int(value) and int(value) > 0):  # type: ignore[arg-type]
                raise ValueError(f"'max-length' needs a whole number of characters above 0, got {value!r}")
            self.value = int(value)  # type: ignore[arg-type]
        if kind in {"criterion", "contains", "not-contains", "llm-rubric", "stage-fit"} and not (
            isinstance(value, str) and value.strip()
        ):
            what = {
                "criterion": "a criterion id",
                "stage-fit": "a stage id",
                "llm-rubric": "a requirement in plain words",
            }.get(kind, "the text to look for")
            raise ValueError(f"'{kind}' needs {what} as its value, got {value!r}")
        if kind == "stage-fit":
            self.value = _stage(value)
        if self.threshold is not None and kind not in DEFAULT_THRESHOLDS:
            raise ValueError(
                f"'{kind}' takes no threshold (only {', '.join(sorted(DEFAULT_THRESHOLDS))} do); put the limit in value"
            )
        return self

    @property
    def resolved_threshold(self) -> float:
        return self.threshold if self.threshold is not None else DEFAULT_THRESHOLDS.get(self.type, 0.0)


class CaseVars(_Strict):
    """What a case is about: a stage, plus a profile to draft from and/or a fixed text."""

    stage: StageId
    profile: str | None = Field(default=None, min_length=1, description="Profile file, relative to the base dir")
    asset_type: str | None = None
    channel: str | None = Field(default=None, max_length=40)
    instructions: str | None = Field(default=None, max_length=2000)
    text: str | None = Field(default=None, min_length=1, description="A fixed text, scored as is")
    business: str | None = Field(default=None, min_length=1)

    @field_validator("stage", mode="before")
    @classmethod
    def _parse_stage(cls, value: object) -> object:
        return _stage(value)

    @model_validator(mode="after")
    def _text_or_profile(self) -> CaseVars:
        if self.text is None and self.profile is None:
            raise ValueError("give either `text` (scored as is) or `profile` (drafted at run time)")
        drafting = {"asset_type": self.asset_type, "channel": self.channel, "instructions": self.instructions}
        if self.text is not None and any(v is not None for v in drafting.values()):
            used = ", ".join(k for k, v in drafting.items() if v is not None)
            verb = "applies" if used.count(",") == 0 else "apply"
            raise ValueError(f"{used} only {verb} to drafted cases; a case with `text` is scored as is")
        if self.text is None:
            try:
                self.asset_type = resolve_asset_type(self.stage, self.asset_type).asset_type
            except UnknownStageError as exc:
                raise ValueError(exc.message) from None
        return self


class Case(_Strict):
    """One test: vars, the assertions on the result, and optionally its own pass threshold."""

    description: str = Field(min_length=1)
    vars: CaseVars
    assertions: list[Assertion] = Field(alias="assert", min_length=1)
    threshold: float | None = Field(default=None, ge=0, le=1)

    @property
    def drafted(self) -> bool:
        """True when the model drafts the text at run time (no fixed text)."""
        return self.vars.text is None

    def profile_path(self, base_dir: Path) -> Path | None:
        if self.vars.profile is None:
            return None
        path = Path(self.vars.profile).expanduser()
        return path if path.is_absolute() else base_dir / path

    def draft_request(self) -> DraftRequest:
        return DraftRequest(
            stage=self.vars.stage,
            asset_type=self.vars.asset_type,
            channel=self.vars.channel,
            instructions=self.vars.instructions,
        )


class SuiteDefaults(_Strict):
    threshold: float = Field(default=1.0, ge=0, le=1)


class Suite(_Strict):
    description: str = ""
    defaults: SuiteDefaults = Field(default_factory=SuiteDefaults)
    cases: list[Case] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_descriptions(self) -> Suite:
        seen: set[str] = set()
        for case in self.cases:
            if case.description in seen:
                raise ValueError(f"two cases share the description '{case.description}'; make each one unique")
            seen.add(case.description)
        return self


def _where(loc: Location, data: object) -> str:
    """'cases[3] "Lead magnet ...".assert[0].value': the case's description helps find it in a long file."""
    path = dotted(loc)
    if len(loc) > 1 and loc[0] == "cases" and isinstance(loc[1], int) and isinstance(data, dict):
        cases = data.get("cases")
        case = cases[loc[1]] if isinstance(cases, list) and loc[1] < len(cases) else None
        if isinstance(case, dict) and isinstance(case.get("description"), str):
            head = f"cases[{loc[1]}]"
            path = f'{head} "{case["description"][:50]}"{path.removeprefix(head)}'
    return path


def parse_suite(data: object, *, source: str = "suite") -> Suite:
    if not isinstance(data, dict):
        raise DocumentError(f"{source} must be a mapping with `cases:`, got {type(data).__name__}.")
    try:
        return Suite.model_validate(data)
    except ValidationError as exc:
        raise DocumentError(
            f"{source} is not a valid eval suite:\n{describe_errors(exc, data, limit=10, where=_where)}",
            details=exc.errors(include_url=False, include_context=False, include_input=False),
        ) from None


def load_suite(path: str | Path) -> Suite:
    """A suite from a YAML file, or a DocumentError naming the file and every bad field."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_SUITE_BYTES:
            raise DocumentError(f"{path} is larger than {MAX_SUITE_BYTES // 1024} KiB; split the suite.")
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DocumentError(f"Suite file not found: {path}. See eval/suites/default.yaml for the format.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DocumentError(f"Cannot read suite {path}: {exc}") from None
    except yaml.YAMLError as exc:
        raise DocumentError(f"{path} is not valid YAML: {exc}") from None
    return parse_suite(data, source=str(path))


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
