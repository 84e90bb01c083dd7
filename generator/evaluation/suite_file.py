"""The eval suite file: cases in promptfoo's shape (vars + assertions), validated with readable errors.

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

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from generator.assets import resolve_asset_type
from generator.drafts import DraftRequest
from generator.errors import DocumentError, UnknownStageError
from generator.stages import StageId, parse_stage_id
from generator.validation import Location, dotted, validate_mapping

AssertionType = Literal[
    "score-min", "passes", "criterion", "stage-fit", "contains", "not-contains", "max-length", "llm-rubric"
]
DEFAULT_THRESHOLDS: dict[str, float] = {"criterion": 0.5, "stage-fit": 0.4, "llm-rubric": 0.5}
MAX_SUITE_BYTES = 1024 * 1024


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
    return validate_mapping(Suite, data, source=source, what="eval suite", error=DocumentError, where=_where, limit=10)


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
