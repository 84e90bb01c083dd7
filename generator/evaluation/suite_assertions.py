"""The assertions of an eval suite case: one pydantic class per ``type``, each validating its own fields and
checking itself, so that a new type is one class here plus one entry in :data:`Assertion`.

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

from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, TypeGuard, get_args

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, field_validator, model_validator

from generator.errors import CVJError, UnknownStageError
from generator.evaluation.criteria import Criterion
from generator.stages import StageId, parse_stage_id

if TYPE_CHECKING:
    from generator.evaluation.results import AssetScore
    from generator.evaluation.rule_scorers import Subject
    from generator.evaluation.scoring import Evaluator

JUDGE_OFF = "judge off"
AssertionType = Literal[
    "score-min", "passes", "criterion", "stage-fit", "contains", "not-contains", "max-length", "llm-rubric"
]
# int | float, not float: a YAML `1` stays 1 in the results, as before the types had classes.
Share = Annotated[int | float, WithJsonSchema({"type": "number", "minimum": 0, "maximum": 1})]


class AssertionResult(BaseModel):
    """What one assertion found on one case's text: pass, fail or skip, what was measured, and why."""

    type: str
    value: bool | int | float | str | None
    passed: bool
    skipped: bool = False
    score: float | None = Field(description="1 passed, 0 failed, None skipped (does not count)")
    weight: float = 1.0
    negate: bool = False
    measured: float | None = Field(default=None, description="What was measured: a score, probability or length")
    reason: str


def _number(value: object) -> TypeGuard[int | float]:
    """A YAML number, not a bool (which Python counts as an int) nor a numeric string."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def _words(kind: str, what: str, value: object) -> str:
    """A non-blank string, checked by hand so that a number or a blank gets the type's own message."""
    if not (isinstance(value, str) and value.strip()):
        raise ValueError(f"'{kind}' needs {what} as its value, got {value!r}")
    return value


class _Assertion(BaseModel):
    """What every assertion shares: how it counts (weight), whether it is flipped (negate), and its results."""

    model_config = ConfigDict(extra="forbid")

    type: str
    value: Any
    weight: float = Field(default=1.0, gt=0, description="How much this assertion counts in the case score")
    negate: bool = Field(default=False, description="Flip pass and fail (an unmeasurable assertion still fails)")

    @model_validator(mode="before")
    @classmethod
    def _prepare(cls, data: Any) -> Any:
        """Word two slips for people: a threshold on a type that has none (rather than 'Extra inputs are not
        permitted'), and a missing value (rather than 'Field required')."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        if "threshold" in data and data["threshold"] is None:
            del data["threshold"]  # `threshold: null` means the type's default
        if "threshold" in data and "threshold" not in cls.model_fields:
            raise ValueError(
                f"'{data.get('type')}' takes no threshold (only {', '.join(THRESHOLDED)} do); put the limit in value"
            )
        data.setdefault("value", None)  # so a missing value gets the value validator's message
        return data

    def check(self, subject: Subject, scored: AssetScore, evaluator: Evaluator) -> AssertionResult:
        """This assertion on a scored subject."""
        raise NotImplementedError

    def _result(self, **fields: Any) -> AssertionResult:
        return AssertionResult(type=self.type, value=self.value, weight=self.weight, negate=self.negate, **fields)

    def _verdict(self, ok: bool, reason: str, measured: float | None = None) -> AssertionResult:
        passed = ok != self.negate
        if self.negate:
            reason = f"{reason} (negated: {'fine' if passed else 'should not hold'})"
        return self._result(passed=passed, score=1.0 if passed else 0.0, measured=measured, reason=reason)

    def _fail(self, reason: str, measured: float | None = None) -> AssertionResult:
        """Could not be measured: fails whether or not the assertion is negated."""
        return self._result(passed=False, score=0.0, measured=measured, reason=reason)

    def _skip(self, reason: str) -> AssertionResult:
        """Needs something that is off (the judge): does not count either way."""
        return self._result(passed=False, skipped=True, score=None, reason=reason)


class _Thresholded(_Assertion):
    """An assertion that measures a score (0-1) and passes at or above its threshold."""

    threshold: float = Field(default=0.5, ge=0, le=1, description="The lowest score (0-1) that passes")

    def _at_least(self, measured: float, reason: str) -> AssertionResult:
        """'0.62 >= 0.5: <reason>': the measured score against the threshold."""
        ok = measured >= self.threshold
        return self._verdict(ok, f"{measured:.2f} {'>=' if ok else '<'} {self.threshold:g}: {reason}", measured)


# The class docstrings and field descriptions below are what editors show on hover (eval/suites/suite.schema.json),
# hence markdown `quotes`.


class ScoreMinAssertion(_Assertion):
    """The rubric's weighted score is at least `value`."""

    type: Literal["score-min"]
    value: Share = Field(description="The minimum rubric score (0-1)")

    @field_validator("value", mode="before")
    @classmethod
    def _share(cls, value: object) -> object:
        if not (_number(value) and 0 <= value <= 1):
            raise ValueError(f"'score-min' needs a value between 0 and 1 (the minimum rubric score), got {value!r}")
        return value

    def check(self, subject: Subject, scored: AssetScore, evaluator: Evaluator) -> AssertionResult:
        ok = scored.score >= self.value
        return self._verdict(ok, f"rubric score {scored.score:.2f} {'>=' if ok else '<'} {self.value:g}", scored.score)


class PassesAssertion(_Assertion):
    """The rubric's own verdict is `value` (true: it passes)."""

    type: Literal["passes"]
    value: bool = Field(default=True, description="What the rubric's verdict must be")

    @field_validator("value", mode="before")
    @classmethod
    def _bool(cls, value: object) -> object:
        if value is None:
            return True
        if not isinstance(value, bool):  # not pydantic's lax bool: 'yes' and 1 are likely slips
            raise ValueError(f"'passes' needs value true or false, got {value!r}")
        return value

    def check(self, subject: Subject, scored: AssetScore, evaluator: Evaluator) -> AssertionResult:
        verdict = "passes" if scored.passed else "fails"
        reason = f"rubric {verdict} ({scored.score:.2f}, needs {scored.threshold:g})"
        return self._verdict(scored.passed == self.value, reason, scored.score)


class CriterionAssertion(_Thresholded):
    """One criterion of the stage's rubric scores at least `threshold`."""

    type: Literal["criterion"]
    value: str = Field(description="A criterion id of the stage's rubric (eval/criteria/<stage>.yaml)")

    @field_validator("value", mode="before")
    @classmethod
    def _id(cls, value: object) -> str:
        return _words("criterion", "a criterion id", value)

    def check(self, subject: Subject, scored: AssetScore, evaluator: Evaluator) -> AssertionResult:
        found = next((c for c in scored.criteria if c.id == self.value), None)
        if found is None:
            ids = ", ".join(c.id for c in scored.criteria)
            return self._fail(f"no criterion '{self.value}' in the {scored.stage} rubric (it has: {ids})")
        if found.score is None:
            return self._skip(JUDGE_OFF) if found.reason == JUDGE_OFF else self._fail(f"not scored: {found.reason}")
        return self._at_least(found.score, found.reason)


class StageFitAssertion(_Thresholded):
    """The stage classifier gives stage `value` at least `threshold`."""

    type: Literal["stage-fit"]
    value: StageId = Field(description="The stage the text should read as")
    threshold: float = Field(default=0.4, ge=0, le=1, description="The lowest probability (0-1) that passes")

    @field_validator("value", mode="before")
    @classmethod
    def _stage(cls, value: object) -> str:
        try:
            return parse_stage_id(_words("stage-fit", "a stage id", value))
        except UnknownStageError as exc:
            raise ValueError(exc.message) from None

    def check(self, subject: Subject, scored: AssetScore, evaluator: Evaluator) -> AssertionResult:
        fit = scored.stage_fit
        if fit is None:
            return self._fail("no classifier")
        p, t = fit.scores.get(self.value, 0.0), self.threshold
        reason = f"reads as {self.value} {p:.0%} (needs {t:.0%}; best: {fit.stage} {fit.confidence:.0%})"
        return self._verdict(p >= t, reason, p)


class _TextSearch(_Assertion):
    wanted: ClassVar[bool]  # True: the text must contain value; False: it must not
    value: str = Field(description="Text to look for, ignoring case")

    @field_validator("value", mode="before")
    @classmethod
    def _needle(cls, value: object) -> str:
        return _words("contains" if cls.wanted else "not-contains", "the text to look for", value)

    def check(self, subject: Subject, scored: AssetScore, evaluator: Evaluator) -> AssertionResult:
        found = self.value.lower() in subject.text.lower()
        return self._verdict(found == self.wanted, f"{'contains' if found else 'does not contain'} '{self.value}'")


class ContainsAssertion(_TextSearch):
    """The text contains `value` (ignoring case)."""

    wanted = True
    type: Literal["contains"]


class NotContainsAssertion(_TextSearch):
    """The text does not contain `value` (ignoring case)."""

    wanted = False
    type: Literal["not-contains"]


class MaxLengthAssertion(_Assertion):
    """The text has at most `value` characters."""

    type: Literal["max-length"]
    value: int = Field(gt=0, description="The most characters the text may have")

    @field_validator("value", mode="before")
    @classmethod
    def _whole(cls, value: object) -> object:
        if not (_number(value) and value > 0 and (isinstance(value, int) or value.is_integer())):  # not inf/nan
            raise ValueError(f"'max-length' needs a whole number of characters above 0, got {value!r}")
        return int(value)

    def check(self, subject: Subject, scored: AssetScore, evaluator: Evaluator) -> AssertionResult:
        length = len(subject.text)
        return self._verdict(length <= self.value, f"{length} characters (limit {self.value})", float(length))


class LlmRubricAssertion(_Thresholded):
    """The judge scores a plain-language requirement at least `threshold`; skipped while the judge is off."""

    type: Literal["llm-rubric"]
    value: str = Field(description="The requirement, in plain words")

    @field_validator("value", mode="before")
    @classmethod
    def _requirement(cls, value: object) -> str:
        return _words("llm-rubric", "a requirement in plain words", value)

    def check(self, subject: Subject, scored: AssetScore, evaluator: Evaluator) -> AssertionResult:
        if evaluator.judge is None:
            return self._skip(JUDGE_OFF)
        requirement = self.value.strip()
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
            return self._fail(f"judge failed: {exc.message[:160]}")
        return self._at_least(result.score, result.reason)


ASSERTION_CLASSES: tuple[type[_Assertion], ...] = (
    ScoreMinAssertion,
    PassesAssertion,
    CriterionAssertion,
    StageFitAssertion,
    ContainsAssertion,
    NotContainsAssertion,
    MaxLengthAssertion,
    LlmRubricAssertion,
)


def _tag(cls: type[_Assertion]) -> str:
    """The ``type`` a class is picked by."""
    return str(get_args(cls.model_fields["type"].annotation)[0])


ASSERTION_TAGS: tuple[str, ...] = tuple(_tag(c) for c in ASSERTION_CLASSES)
THRESHOLDED: list[str] = sorted(_tag(c) for c in ASSERTION_CLASSES if "threshold" in c.model_fields)


class _KnownType(BaseModel):
    type: AssertionType


def _known_type(data: Any) -> Any:
    """Check ``type`` before the union dispatches on it, for a clearer error than the union's own: it points at
    the field and lists the known types ('assert[0].type: Input should be 'score-min', 'passes', ...')."""
    if not isinstance(data, dict):
        raise ValueError(f"an assertion is a mapping such as {{type: contains, value: ...}}, got {data!r}")
    if data.get("type") not in ASSERTION_TAGS:
        _KnownType.model_validate({k: v for k, v in data.items() if k == "type"})  # its errors nest under here
    return data


Assertion = Annotated[
    ScoreMinAssertion
    | PassesAssertion
    | CriterionAssertion
    | StageFitAssertion
    | ContainsAssertion
    | NotContainsAssertion
    | MaxLengthAssertion
    | LlmRubricAssertion,
    Field(discriminator="type"),
    BeforeValidator(_known_type),
]
"""One check on a case's text or its rubric score; which class is picked by its ``type``."""
