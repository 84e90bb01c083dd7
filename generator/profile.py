"""BusinessProfile: the brand context passed whole to every chain."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from generator.errors import ProfileError
from generator.validation import validate_mapping

MAX_PROFILE_BYTES = 256 * 1024

ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Audience(_Strict):
    """Who the business serves, and what moves them."""

    who: LongText
    pains: list[ShortText] = Field(default_factory=list, max_length=20)
    desires: list[ShortText] = Field(default_factory=list, max_length=20)
    objections: list[ShortText] = Field(default_factory=list, max_length=20)


class Offer(_Strict):
    """One rung of the offers ladder."""

    name: ShortText
    description: LongText | None = None
    price: float = Field(default=0, ge=0, description="In the profile's currency; 0 = free")


class OffersLadder(_Strict):
    """Lead magnet -> entry-point offer -> core offer -> upsells."""

    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = "USD"
    lead_magnet: Offer | None = None
    entry_offer: Offer | None = None
    core_offer: Offer
    upsells: list[Offer] = Field(default_factory=list, max_length=10)

    def rungs(self) -> list[Offer]:
        """Every offer on the ladder, lowest rung first."""
        return [o for o in (self.lead_magnet, self.entry_offer, self.core_offer, *self.upsells) if o]

    @model_validator(mode="after")
    def _entry_below_core(self) -> OffersLadder:
        if self.entry_offer and self.core_offer.price and self.entry_offer.price >= self.core_offer.price:
            raise ValueError(
                f"offers.entry_offer.price ({self.entry_offer.price:g}) must be below "
                f"offers.core_offer.price ({self.core_offer.price:g}): the entry offer is the low-risk first step"
            )
        return self


class BrandVoice(_Strict):
    tone: ShortText = "friendly, clear, confident"
    words_to_use: list[ShortText] = Field(default_factory=list, max_length=50)
    words_to_avoid: list[ShortText] = Field(default_factory=list, max_length=50)


class Testimonial(_Strict):
    quote: LongText
    author: ShortText


class Proof(_Strict):
    testimonials: list[Testimonial] = Field(default_factory=list, max_length=20)
    numbers: list[ShortText] = Field(default_factory=list, max_length=20)


class Compliance(_Strict):
    never_claim: list[ShortText] = Field(default_factory=list, max_length=50)


class BusinessProfile(_Strict):
    """Everything a copywriter needs to know about a business before writing for it."""

    name: ShortText
    what_it_sells: LongText
    market: ShortText = Field(description="Market and location, e.g. 'Local: Portland, OR' or 'Global B2B'")
    website: ShortText | None = None
    audience: Audience
    offers: OffersLadder
    brand_voice: BrandVoice = Field(default_factory=BrandVoice)
    proof: Proof = Field(default_factory=Proof)
    compliance: Compliance = Field(default_factory=Compliance)
    channels: list[ShortText] = Field(default_factory=list, max_length=20)

    @property
    def slug(self) -> str:
        """A stable id for file names and index metadata."""
        return re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-") or "business"

    def as_brief(self) -> str:
        """The profile as compact YAML for prompts (the model reads it whole)."""
        data = self.model_dump(mode="json", exclude_none=True, exclude_defaults=False)
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100).strip()


def profile_from_data(data: Any, *, source: str = "profile") -> BusinessProfile:
    """Validate already-parsed data; errors name each bad field."""
    return validate_mapping(BusinessProfile, data, source=source, what="business profile", error=ProfileError)


def parse_profile_text(text: str, *, source: str = "profile", fmt: str | None = None) -> BusinessProfile:
    """Parse YAML or JSON text (JSON is YAML, but its errors read better from json)."""
    if len(text.encode("utf-8")) > MAX_PROFILE_BYTES:
        raise ProfileError(f"{source} is larger than {MAX_PROFILE_BYTES // 1024} KiB; a profile should be short.")
    try:
        data = json.loads(text) if fmt == "json" else yaml.safe_load(text)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise ProfileError(f"{source} could not be parsed as {fmt or 'YAML'}: {exc}".strip()) from None
    return profile_from_data(data, source=source)


def load_profile(path: str | Path) -> BusinessProfile:
    """Load a profile from a .yaml, .yml or .json file."""
    path = Path(path)
    if not path.is_file():
        raise ProfileError(f"Profile file not found: {path}. Pass a YAML or JSON file (see examples/).")
    if path.stat().st_size > MAX_PROFILE_BYTES:
        raise ProfileError(f"{path} is larger than {MAX_PROFILE_BYTES // 1024} KiB; a profile should be short.")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"Cannot read profile {path}: {exc}") from None
    fmt = "json" if path.suffix.lower() == ".json" else "yaml"
    return parse_profile_text(text, source=str(path), fmt=fmt)


def load_profiles(source: str | Path) -> list[BusinessProfile]:
    """Many profiles: a folder of YAML/JSON files, a JSONL of profiles, or a CSV with a 'path' column."""
    source = Path(source)
    if source.is_dir():
        files = sorted(p for p in source.iterdir() if p.suffix.lower() in {".yaml", ".yml", ".json"})
        if not files:
            raise ProfileError(f"No .yaml, .yml or .json profiles in {source}.")
        return [load_profile(p) for p in files]
    if not source.is_file():
        raise ProfileError(f"Profiles not found: {source}. Give a folder, a .jsonl or a .csv file.")
    text = source.read_text(encoding="utf-8")
    if source.suffix.lower() == ".jsonl":
        profiles = []
        for number, line in enumerate(text.splitlines(), 1):
            if line.strip():
                profiles.append(parse_profile_text(line, source=f"{source}:{number}", fmt="json"))
        return profiles
    if source.suffix.lower() == ".csv":
        rows = list(csv.DictReader(io.StringIO(text)))
        if not rows or "path" not in rows[0]:
            raise ProfileError(f"{source}: a CSV of profiles needs a 'path' column (one profile file per row).")
        return [load_profile(source.parent / row["path"]) for row in rows]
    raise ProfileError(f"{source}: give a folder, a .jsonl of profiles, or a .csv with a 'path' column.")
