"""What a draft is: the request, the typed asset, and the metadata that travels with it."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    computed_field,
    field_validator,
    model_validator,
)

from generator.assets import ASSET_TYPES, Asset, channel_limits, resolve_asset_type
from generator.errors import DocumentError, UnknownStageError
from generator.evaluation.results import AssetScore
from generator.stages import StageId, parse_stage_id
from generator.validation import dotted


class DraftRequest(BaseModel):
    """What to draft: a stage, optionally an asset type, a channel and free-form instructions."""

    model_config = ConfigDict(extra="forbid")

    stage: StageId
    asset_type: str | None = None
    channel: str | None = Field(default=None, max_length=40)
    instructions: str | None = Field(default=None, max_length=2000)

    @field_validator("stage", mode="before")
    @classmethod
    def _stage(cls, value: object) -> object:
        try:
            return parse_stage_id(value) if isinstance(value, str) else value
        except UnknownStageError as exc:
            raise ValueError(exc.message) from None

    @model_validator(mode="after")
    def _asset_type(self) -> DraftRequest:
        try:
            self.asset_type = resolve_asset_type(self.stage, self.asset_type).asset_type
        except UnknownStageError as exc:
            raise ValueError(exc.message) from None
        return self

    @property
    def asset_class(self) -> type[Asset]:
        return resolve_asset_type(self.stage, self.asset_type)

    def resolved_channel(self, profile_channels: list[str]) -> str | None:
        """The channel asked for, else the profile's first channel the asset type knows."""
        if self.channel:
            return self.channel.strip().lower()
        known = channel_limits() if self.asset_type == "social_post" else {}
        return next((c for c in profile_channels if c in known), "instagram" if known else None)


class SourceRef(BaseModel):
    """A retrieved passage the draft was grounded in."""

    source: str
    stage: str
    kind: str
    score: float


class Usage(BaseModel):
    input_tokens: int = 0
    output_tokens: int = 0

    @computed_field  # type: ignore[prop-decorator]  # mypy rejects decorators over @property; pydantic documents this
    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def add(self, other: dict[str, Any] | None) -> None:
        if other:
            self.input_tokens += int(other.get("input_tokens", 0) or 0)
            self.output_tokens += int(other.get("output_tokens", 0) or 0)


class AssetMeta(BaseModel):
    """Provenance: enough to reproduce, audit and price a draft."""

    prompt_id: str
    prompt_version: str
    provider: str
    model: str
    sources: list[SourceRef] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    cost_usd: float = 0.0
    seconds: float = 0.0
    attempts: int = 1
    problems: list[str] = Field(default_factory=list, description="What the re-asks could not fix (the eval shows it)")
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))


class Alternative(BaseModel):
    """A candidate that lost to the kept draft (best of N): kept so nothing the model wrote is lost."""

    asset: dict[str, Any]
    evaluation: AssetScore | None = None
    seed: int | None = None


class Draft(BaseModel):
    """A drafted asset for one business and stage, with its metadata and revision history."""

    business: str
    stage: StageId
    asset_type: str
    asset: dict[str, Any]
    meta: AssetMeta
    version: int = Field(default=1, ge=1, description="1 for a first draft, +1 per revision")
    variant: int | None = Field(default=None, description="Which of --variants N this is (1-based)")
    revisions: list[str] = Field(default_factory=list, description="Instructions applied, oldest first")
    evaluation: AssetScore | None = Field(default=None, description="The eval's score of this version, if run")
    proposed: list[str] = Field(
        default_factory=list, description="Fields the model proposed because the profile lacks them (an offer)"
    )
    alternatives: list[Alternative] = Field(
        default_factory=list, description="The other candidates of a best-of-N draft, best first, with their scores"
    )

    @model_validator(mode="after")
    def _asset_matches_type(self) -> Draft:
        cls = ASSET_TYPES.get(self.asset_type)
        if cls is None or cls.stage != self.stage:
            raise ValueError(f"asset_type '{self.asset_type}' does not belong to stage '{self.stage}'")
        self.asset = cls.model_validate(self.asset).model_dump(mode="json")
        return self

    def typed(self) -> Asset:
        return ASSET_TYPES[self.asset_type].model_validate(self.asset)

    def as_text(self) -> str:
        return self.typed().as_text()


# A saved draft is a few KiB (best of 8 with every alternative and its scores stays under 200 KiB); 5 MiB is far
# past any draft and bounds what is read and parsed from a file someone passed by mistake.
MAX_DRAFT_BYTES = 5 * 1024 * 1024


def load_draft(path: Path, *, business: str | None = None) -> Draft:
    """A draft saved as JSON, or a clear one-line error naming the file.

    With ``business`` (the profile's name), a draft for another business is refused: building on it, or revising
    it under this business's brand rules, would mix two businesses' facts."""
    path = Path(path)
    not_a_draft = f"{path} is not a draft saved by `cvj draft --json`"
    if path.is_dir():
        raise DocumentError(f"{path} is a folder; give a draft file (from `cvj draft --json`).")
    try:
        if path.stat().st_size > MAX_DRAFT_BYTES:
            raise DocumentError(f"{not_a_draft}: it is larger than {MAX_DRAFT_BYTES // (1024 * 1024)} MiB.")
        data = path.read_bytes()
    except FileNotFoundError:
        raise DocumentError(f"Draft file not found: {path}") from None
    except OSError as exc:
        raise DocumentError(f"Cannot read draft {path}: {exc.strerror or exc}.") from None
    try:
        loaded = Draft.model_validate_json(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = dotted(tuple(first["loc"]))
        shown = first["msg"] if where == "(top level)" else f"{where}: {first['msg']}"
        raise DocumentError(f"{not_a_draft} ({shown.removeprefix('Value error, ')}).") from None
    if business is not None and _slug(loaded.business) != _slug(business):
        raise DocumentError(f"{path} is a draft for '{loaded.business}', not for '{business}'.")
    return loaded


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
