"""The eval suite file: cases in promptfoo's shape (vars + assertions), validated with readable errors.

A case either names a profile and a stage, and is drafted by the model at run time, or carries a
fixed ``text`` that is scored as is. Each case is scored on its stage's rubric, then its
assertions are checked; the case passes when the weighted share of assertions that pass reaches
its threshold (``defaults.threshold``, 1.0 = every assertion must pass).

The assertion types, each a class with its own fields and check, are in ``suite_assertions``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from generator.assets import resolve_asset_type
from generator.drafts import DraftRequest
from generator.errors import DocumentError, UnknownStageError
from generator.evaluation.suite_assertions import ASSERTION_TAGS, Assertion
from generator.stages import StageId, parse_stage_id
from generator.validation import Location, dotted, validate_mapping

MAX_SUITE_BYTES = 1024 * 1024
SCHEMA_FILE = "suite.schema.json"  # next to the suites; default.yaml points editors at it


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def _stage(value: object) -> object:
    try:
        return parse_stage_id(value) if isinstance(value, str) else value
    except UnknownStageError as exc:
        raise ValueError(exc.message) from None


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
    """What every case gets unless it says otherwise."""

    threshold: float = Field(default=1.0, ge=0, le=1)


class Suite(_Strict):
    """An eval suite (`cvj eval run --suite FILE`): cases of vars and assertions, in promptfoo's shape."""

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


def _without_tags(loc: Location) -> Location:
    """Drop the union tag pydantic puts after an assertion's index: 'assert[0].criterion.value' -> 'assert[0].value'."""
    return tuple(
        part
        for i, part in enumerate(loc)
        if not (i >= 2 and loc[i - 2] == "assert" and isinstance(loc[i - 1], int) and part in ASSERTION_TAGS)
    )


def _where(loc: Location, data: object) -> str:
    """'cases[3] "Lead magnet ...".assert[0].value': the case's description helps find it in a long file."""
    loc = _without_tags(loc)
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


def suite_json_schema() -> dict[str, Any]:
    """The JSON schema of a suite file as written (``assert``, not ``assertions``), so editors check it as people type.

    It names no ``$schema``: yaml-language-server knows draft-07 and warns on 2020-12, and what pydantic writes
    means the same under both. eval/suites/suite.schema.json is this, committed; after changing the suite models,
    regenerate it with ``.venv/bin/python -m generator.evaluation.suite_file > eval/suites/suite.schema.json``.
    """
    return Suite.model_json_schema(by_alias=True, mode="validation")


if __name__ == "__main__":
    print(json.dumps(suite_json_schema(), indent=2, ensure_ascii=False))
