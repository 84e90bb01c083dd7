"""Reading what to score: JSON or JSONL of ``{stage, text, business?}`` items or of saved drafts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from generator.drafts import Draft
from generator.errors import DocumentError
from generator.evaluation.rule_scorers import Subject
from generator.profile import BusinessProfile, read_text_file
from generator.stages import StageId
from generator.validation import no_control_characters

# The API takes 200 items of 20,000 characters a request; a file is for batch measurement (the labelled sets are
# 40-220 items), so ten requests' worth, with the same cap per text. Scoring is ~50 ms an item on 2 cores, so
# 2,000 is under two minutes; a bigger file is the wrong file. 20 MiB holds 2,000 saved drafts with room to spare.
MAX_ITEMS = 2_000
MAX_ITEM_CHARS = 20_000
MAX_ITEMS_BYTES = 20 * 1024 * 1024


class TextItem(BaseModel):
    model_config = ConfigDict(extra="ignore")

    stage: StageId
    text: Annotated[str, Field(min_length=1, max_length=MAX_ITEM_CHARS), AfterValidator(no_control_characters)]
    business: Annotated[str, Field(max_length=300), AfterValidator(no_control_characters)] | None = None


def _parse(path: Path, text: str) -> Any:
    """JSON Lines for .jsonl, else one JSON document; errors name the line."""
    try:
        if path.suffix.lower() != ".jsonl":
            return json.loads(text)
        items = []
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    items.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise DocumentError(f"{path}:{number} is not valid JSON: {exc.msg}") from None
        return items
    except json.JSONDecodeError as exc:
        raise DocumentError(f"{path} is not valid JSON ({exc.msg}, line {exc.lineno}); use JSON or JSONL.") from None
    except RecursionError:
        raise DocumentError(f"{path} is nested too deeply to be a list of items.") from None


def read_items(path: Path) -> list[dict[str, Any]]:
    """A JSON list, a single JSON object, or JSON Lines: at most MAX_ITEMS objects, at least one."""
    if not path.exists():
        raise DocumentError(f"File not found: {path}")
    raw = read_text_file(path, limit=MAX_ITEMS_BYTES, what="file of items", error=DocumentError).strip()
    items = _parse(path, raw) if raw else []
    items = items if isinstance(items, list) else [items]
    if not items:
        raise DocumentError(f"{path} holds no items; give {{stage, text}} objects or saved drafts.")
    if len(items) > MAX_ITEMS:
        raise DocumentError(f"{path} has {len(items):,} items, more than the {MAX_ITEMS:,} one run scores; split it.")
    if not all(isinstance(i, dict) for i in items):
        raise DocumentError(f"{path}: every item must be a JSON object.")
    return items


def to_subject(item: dict[str, Any], *, number: int, profile: BusinessProfile | None = None) -> Subject:
    """A scoring subject from a text item or a saved draft (item ``number`` is 1-based, for errors).

    With a profile, an item that names another business is refused: its brand words, claims and prices would be
    checked against the wrong business."""
    try:
        if "asset_type" in item and "asset" in item:
            subject = Subject.of_draft(Draft.model_validate(item), profile)
        else:
            text = TextItem.model_validate(item)
            business = text.business or (profile.name if profile else None)
            subject = Subject(stage=text.stage, text=text.text, business=business, profile=profile)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(map(str, first["loc"])) or "item"
        message = first["msg"].removeprefix("Value error, ")
        raise DocumentError(
            f"Item {number}: {where}: {message} (want {{stage, text, business?}} or a draft)."
        ) from None
    if (
        profile is not None
        and subject.business
        and profile.model_copy(update={"name": subject.business}).slug != profile.slug
    ):
        raise DocumentError(
            f"Item {number} is for '{subject.business}', not for '{profile.name}' (--profile); "
            "score it with its own profile."
        )
    return subject
