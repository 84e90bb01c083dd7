"""Reading what to score: JSON or JSONL of ``{stage, text, business?}`` items or of saved drafts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from generator.drafts import Draft
from generator.errors import DocumentError
from generator.evaluation.rule_scorers import Subject
from generator.evaluation.stage_fit import read_jsonl
from generator.profile import BusinessProfile
from generator.stages import StageId


class TextItem(BaseModel):
    model_config = ConfigDict(extra="ignore")

    stage: StageId
    text: str = Field(min_length=1)
    business: str | None = None


def read_items(path: Path) -> list[dict[str, Any]]:
    """A JSON list, a single JSON object, or JSON Lines."""
    if not path.is_file():
        raise DocumentError(f"File not found: {path}")
    raw = path.read_text(encoding="utf-8").strip()
    if path.suffix.lower() == ".jsonl":
        items: Any = read_jsonl(path)
    else:
        try:
            items = json.loads(raw) if raw else []
        except json.JSONDecodeError as exc:
            raise DocumentError(
                f"{path} is not valid JSON ({exc.msg}, line {exc.lineno}); use JSON or JSONL."
            ) from None
    items = items if isinstance(items, list) else [items]
    if not all(isinstance(i, dict) for i in items):
        raise DocumentError(f"{path}: every item must be a JSON object.")
    return items


def to_subject(item: dict[str, Any], *, number: int, profile: BusinessProfile | None = None) -> Subject:
    """A scoring subject from a text item or a saved draft (item ``number`` is 1-based, for errors)."""
    try:
        if "asset_type" in item and "asset" in item:
            return Subject.of_draft(Draft.model_validate(item), profile)
        text = TextItem.model_validate(item)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(map(str, first["loc"])) or "item"
        raise DocumentError(
            f"Item {number}: {where}: {first['msg']} (want {{stage, text, business?}} or a draft)."
        ) from None
    return Subject(
        stage=text.stage, text=text.text, business=text.business or (profile.name if profile else None), profile=profile
    )
