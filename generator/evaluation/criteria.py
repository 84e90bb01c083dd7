"""Rubrics: weighted criteria per stage, kept as YAML in eval/criteria/ for marketers to edit."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from generator.errors import DocumentError
from generator.evaluation.results import REQUIRED_MIN
from generator.stages import StageId

RuleName = Literal[
    "has_cta",
    "no_purchase_ask",
    "names_business",
    "avoid_words",
    "banned_claims",
    "channel_length",
    "sequence_timing",
    "price_ladder",
    "readability",
    "min_words",
    "mentions_incentive",
    "plain_language",
    "no_pressure",
    "reader_first",
    "concrete",
    "quick_to_consume",
    "risk_reducer",
    "rewards_both_sides",
    "direct_link",
    "after_the_experience",
    "stage_fit",
    "quality_model",
    "brand_voice",
]


class Criterion(BaseModel):
    """One rubric item: a deterministic rule or a G-Eval style judge question."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    weight: float = Field(gt=0)
    required: bool = False
    pass_at: float = Field(
        default=REQUIRED_MIN, ge=0, le=1, description="The score a required criterion must reach for the draft to pass"
    )
    scorer: Literal["rule", "judge"]
    description: str = ""
    steps: list[str] = Field(default_factory=list)
    rule: RuleName | None = None
    params: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _rule_or_judge(self) -> Criterion:
        if self.scorer == "rule" and self.rule is None:
            raise ValueError(f"criterion '{self.id}' is a rule but names no `rule`")
        if self.scorer == "judge" and not self.description:
            raise ValueError(f"criterion '{self.id}' is judged but has no `description` for the judge")
        return self


class Rubric(BaseModel):
    """Everything a stage's asset is scored on."""

    model_config = ConfigDict(extra="forbid")

    stage: StageId
    summary: str
    pass_threshold: float = Field(ge=0, le=1)
    criteria: list[Criterion] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> Rubric:
        ids = [c.id for c in self.criteria]
        if len(ids) != len(set(ids)):
            raise ValueError("criterion ids must be unique within a rubric")
        return self


@cache
def load_rubric(criteria_dir: Path, stage: str) -> Rubric:
    path = criteria_dir / f"{stage}.yaml"
    try:
        rubric = Rubric.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise DocumentError(f"No rubric for stage '{stage}': {path} is missing.") from None
    except (yaml.YAMLError, ValidationError) as exc:
        raise DocumentError(f"{path} is not a valid rubric: {exc}") from None
    if rubric.stage != stage:
        raise DocumentError(f"{path} declares stage '{rubric.stage}' but is the file for '{stage}'.")
    return rubric
