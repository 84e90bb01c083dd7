"""The eight CVJ stages: ids in code, wording in ``knowledge/stages.yaml``."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, TypeAdapter

from generator.errors import UnknownStageError
from generator.settings import load_settings

StageId = Literal["aware", "engage", "subscribe", "convert", "excite", "ascend", "advocate", "promote"]
STAGE_IDS: tuple[StageId, ...] = (
    "aware",
    "engage",
    "subscribe",
    "convert",
    "excite",
    "ascend",
    "advocate",
    "promote",
)


class Stage(BaseModel):
    """One stage of the journey: what it is for and where the prospect stands."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: StageId
    name: str
    purpose: str
    prospect_state: str
    next_step: str

    @property
    def number(self) -> int:
        return STAGE_IDS.index(self.id) + 1


@cache
def load_stages(path: Path | None = None) -> tuple[Stage, ...]:
    """The stages in journey order (default: <knowledge dir>/stages.yaml); the file must define each id once."""
    path = path or load_settings().knowledge_dir / "stages.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    stages = TypeAdapter(list[Stage]).validate_python(raw)
    if tuple(s.id for s in stages) != STAGE_IDS:
        raise ValueError(f"{path} must list the stages in order: {', '.join(STAGE_IDS)}")
    return tuple(stages)


def parse_stage_id(value: str) -> StageId:
    """Normalise a user-typed stage ('Subscribe', ' convert ') or raise a helpful error."""
    key = value.strip().lower()
    for stage_id in STAGE_IDS:
        if key == stage_id:
            return stage_id
    raise UnknownStageError(
        f"Unknown stage '{value}'. Choose one of: {', '.join(STAGE_IDS)}.",
        details={"stage": value, "valid": list(STAGE_IDS)},
    )


def get_stage(value: str) -> Stage:
    """The stage for an id, case-insensitive."""
    stage_id = parse_stage_id(value)
    return next(s for s in load_stages() if s.id == stage_id)
