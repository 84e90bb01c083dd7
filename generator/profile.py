"""BusinessProfile: the brand context passed whole to every chain; and reading profiles from files safely."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    StringConstraints,
    model_serializer,
    model_validator,
)

from generator.errors import CVJError, ProfileError
from generator.language import DEFAULT_LANGUAGE, fold_accents, normalise_tag
from generator.validation import no_control_characters, validate_mapping
from generator.voice_traits import LearnedVoice

# A profile is a page of facts (the examples are 2-4 KiB); 256 KiB is room for every list at its cap, and a file
# past it is something else (an export, a log) that would cost seconds to parse and tokens in every prompt.
MAX_PROFILE_BYTES = 256 * 1024
# YAML anchors and aliases repeat a value: nine aliases of nine nested nine deep make a billion values from a few
# hundred bytes ("billion laughs"), and whatever walks them (validation, the prompt) never ends. A profile with
# every list at its cap holds about 400 values; aliases may add 10,000 more, 25 times that.
MAX_YAML_VALUES = 10_000
# A price is in the profile's currency; ten million is past anything a small business sells (a number beyond it
# is a typo or cents given as units), and infinity or NaN would break the price-ladder rules.
MAX_PRICE = 10_000_000
# `cvj kit --profiles`: each business is 8 assets, about a minute each on the bundled model, so 500 is already
# days of drafting; a longer list is almost surely the wrong file (a whole CRM export) and stops at once.
MAX_PROFILES = 500
MAX_PROFILE_LIST_BYTES = 16 * 1024 * 1024  # 500 typical profiles are ~2 MiB as JSONL; the cap bounds the parse
PROFILE_SUFFIXES = (".yaml", ".yml", ".json")

_Plain = AfterValidator(no_control_characters)
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300), _Plain]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000), _Plain]


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
    price: float = Field(
        default=0, ge=0, le=MAX_PRICE, allow_inf_nan=False, description="In the profile's currency; 0 = free"
    )


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

    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]{0,119}$")] | None = Field(
        default=None,
        description="A stable id for this business's facts and documents in the index (default: its name's slug). "
        "The HTTP API sets it to the business's id in the key's workspace; what a client sends here is replaced.",
    )
    name: ShortText
    what_it_sells: LongText
    market: ShortText = Field(description="Market and location, e.g. 'Local: Portland, OR' or 'Global B2B'")
    website: ShortText | None = None
    audience: Audience
    offers: OffersLadder
    brand_voice: BrandVoice = Field(default_factory=BrandVoice)
    voice: LearnedVoice | None = Field(
        default=None, description="The voice learned from the business's own copy (`cvj voice learn`); optional"
    )
    proof: Proof = Field(default_factory=Proof)
    compliance: Compliance = Field(default_factory=Compliance)
    channels: list[ShortText] = Field(default_factory=list, max_length=20)
    language: Annotated[str, AfterValidator(normalise_tag)] = Field(
        default=DEFAULT_LANGUAGE, max_length=35, description="What the copy is written in: a BCP 47 tag (en, es, de)"
    )

    @model_serializer(mode="wrap")
    def _english_unsaid(self, handler: SerializerFunctionWrapHandler) -> Any:
        """English, the default, is left out of the dump: a profile written before languages existed dumps (and
        hashes, in a kit's stamp or an index key) exactly as it did."""
        data = handler(self)
        if isinstance(data, dict) and data.get("language") == DEFAULT_LANGUAGE:
            del data["language"]
        return data

    @property
    def slug(self) -> str:
        """A stable id for file names and index metadata: accents transliterated ('Panadería' -> 'panaderia')."""
        return re.sub(r"[^a-z0-9]+", "-", fold_accents(self.name).lower()).strip("-") or "business"

    @property
    def key(self) -> str:
        """Whose facts these are in the index: ``id`` if set, else the slug (two profiles with one name share it)."""
        return self.id or self.slug

    def as_brief(self) -> str:
        """The profile as compact YAML for prompts (the model reads it whole)."""
        data = self.model_dump(mode="json", exclude_none=True, exclude_defaults=False, exclude={"id"})
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100).strip()


def profile_from_data(data: Any, *, source: str = "profile") -> BusinessProfile:
    """Validate already-parsed data; errors name each bad field."""
    if data is None:
        raise ProfileError(
            f"{source} is empty; a profile needs name, what_it_sells, market, audience and offers (see examples/)."
        )
    return validate_mapping(BusinessProfile, data, source=source, what="business profile", error=ProfileError)


class _SafeLoader(yaml.SafeLoader):
    """YAML's plain types only (no ``!!python/...`` tags: SafeLoader), composed before anything is built."""


def _expanded(node: yaml.Node, memo: dict[int, int], open_nodes: set[int]) -> int:
    """How many values ``node`` holds with its aliases expanded (each shared node is counted once per use, but
    walked once, so a bomb costs no more to measure than its text). A node that contains itself is refused."""
    key = id(node)
    if key in memo:
        return memo[key]
    if key in open_nodes:
        raise ValueError("an alias refers to the value that contains it (a cycle)")
    open_nodes.add(key)
    children: list[yaml.Node] = []
    if isinstance(node, yaml.MappingNode):
        children = [part for pair in node.value for part in pair]
    elif isinstance(node, yaml.SequenceNode):
        children = list(node.value)
    memo[key] = 1 + sum(_expanded(child, memo, open_nodes) for child in children)
    open_nodes.discard(key)
    return memo[key]


def load_yaml(text: str, *, source: str, error: type[CVJError] = ProfileError) -> Any:
    """Plain YAML data, safely: no tags that build objects, no alias bombs or cycles, no runaway nesting."""
    loader = _SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        memo: dict[int, int] = {}
        try:
            added = _expanded(node, memo, set()) - len(memo)  # values that aliases add to the text's own
            if added > MAX_YAML_VALUES:
                raise ValueError(f"its aliases expand to more than {MAX_YAML_VALUES:,} values")
        except ValueError as exc:
            raise error(f"{source} could not be parsed as YAML: {exc}; write the values out instead.") from None
        return loader.construct_document(node)
    except yaml.constructor.ConstructorError as exc:
        tag = f" ({exc.problem})" if exc.problem else ""
        raise error(
            f"{source} could not be parsed as YAML: it uses a tag CVJ Kit does not load{tag}; "
            "write plain YAML: mappings, lists, text and numbers."
        ) from None
    except yaml.YAMLError as exc:
        raise error(f"{source} could not be parsed as YAML: {exc}".strip()) from None
    except RecursionError:
        raise error(f"{source} could not be parsed as YAML: it is nested too deeply.") from None
    finally:
        loader.dispose()


def parse_profile_text(text: str, *, source: str = "profile", fmt: str | None = None) -> BusinessProfile:
    """Parse YAML or JSON text (JSON is YAML, but its errors read better from json)."""
    if len(text.encode("utf-8", errors="surrogatepass")) > MAX_PROFILE_BYTES:
        raise ProfileError(f"{source} is larger than {MAX_PROFILE_BYTES // 1024} KiB; a profile should be short.")
    if fmt != "json":
        return profile_from_data(load_yaml(text, source=source), source=source)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProfileError(f"{source} could not be parsed as json: {exc}") from None
    except RecursionError:
        raise ProfileError(f"{source} could not be parsed as json: it is nested too deeply.") from None
    return profile_from_data(data, source=source)


def read_text_file(path: Path, *, limit: int, what: str, error: type[CVJError] = ProfileError) -> str:
    """A small UTF-8 text file, or ``error`` saying why not: missing, a folder, too big, binary, not UTF-8."""
    if path.is_dir():
        raise error(f"{path} is a folder, not a {what}.")
    if not path.is_file():
        raise error(f"{what.capitalize()} not found: {path}.")
    try:
        if path.stat().st_size > limit:
            raise error(f"{path} is larger than {limit // 1024:,} KiB, too big for a {what}.")
        data = path.read_bytes()
    except OSError as exc:
        raise error(f"Cannot read {path}: {exc.strerror or exc}.") from None
    if b"\x00" in data:
        raise error(f"{path} is a binary file, not a {what}.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(
            f"{path} is not UTF-8 text (byte 0x{data[exc.start]:02x} at position {exc.start}); save it as UTF-8."
        ) from None


def load_profile(path: str | Path) -> BusinessProfile:
    """Load a profile from a .yaml, .yml or .json file."""
    path = Path(path)
    if not path.exists():
        raise ProfileError(f"Profile file not found: {path}. Pass a YAML or JSON file (see examples/).")
    text = read_text_file(path, limit=MAX_PROFILE_BYTES, what="profile")
    fmt = "json" if path.suffix.lower() == ".json" else "yaml"
    return parse_profile_text(text, source=str(path), fmt=fmt)


def _inside(folder: Path, named: str, *, where: str) -> Path:
    """``named`` (relative to ``folder``), refused if it leads outside it, by ``..``, an absolute path or a link."""
    path = folder / named
    if not path.resolve().is_relative_to(folder.resolve()):
        raise ProfileError(
            f"{where}: '{named}' is outside {folder}; a list of profiles may only name files in its own folder."
        )
    return path


def _at_most(count: int, source: Path, what: str) -> None:
    if count > MAX_PROFILES:
        raise ProfileError(
            f"{source} has {count:,} {what}, more than the {MAX_PROFILES} one run drafts kits for; split the list."
        )


def _profile_rows(source: Path) -> list[BusinessProfile]:
    text = read_text_file(source, limit=MAX_PROFILE_LIST_BYTES, what="list of profiles")
    if source.suffix.lower() == ".jsonl":
        lines = [(number, line) for number, line in enumerate(text.splitlines(), 1) if line.strip()]
        _at_most(len(lines), source, "profiles")
        return [parse_profile_text(line, source=f"{source}:{number}", fmt="json") for number, line in lines]
    if source.suffix.lower() != ".csv":
        raise ProfileError(f"{source}: give a folder, a .jsonl of profiles, or a .csv with a 'path' column.")
    try:
        rows = list(csv.DictReader(io.StringIO(text)))
    except csv.Error as exc:
        raise ProfileError(f"{source} is not a valid CSV: {exc}.") from None
    if not rows or "path" not in rows[0]:
        raise ProfileError(f"{source}: a CSV of profiles needs a 'path' column (one profile file per row).")
    _at_most(len(rows), source, "rows")
    paths = []
    for number, row in enumerate(rows, 2):  # line 1 is the header
        named = (row.get("path") or "").strip()
        if not named:
            raise ProfileError(f"{source}:{number}: the 'path' cell is empty.")
        paths.append(_inside(source.parent, named, where=f"{source}:{number}"))
    return [load_profile(path) for path in paths]


def load_profiles(source: str | Path) -> list[BusinessProfile]:
    """Many profiles: a folder of YAML/JSON files, a JSONL of profiles, or a CSV with a 'path' column.

    At most MAX_PROFILES; a file a CSV names (or a folder holds) must be inside that folder, links included; two
    profiles for the same business are refused (their kits would overwrite each other)."""
    source = Path(source)
    if source.is_dir():
        files = sorted(p for p in source.iterdir() if p.suffix.lower() in PROFILE_SUFFIXES)
        if not files:
            raise ProfileError(f"No .yaml, .yml or .json profiles in {source}.")
        _at_most(len(files), source, "profile files")
        profiles = [load_profile(_inside(source, p.name, where=str(source))) for p in files]
    elif source.is_file():
        profiles = _profile_rows(source)
    else:
        raise ProfileError(f"Profiles not found: {source}. Give a folder, a .jsonl or a .csv file.")
    if not profiles:
        raise ProfileError(f"{source} holds no profiles.")
    seen: dict[str, str] = {}
    for profile in profiles:
        if profile.slug in seen:
            raise ProfileError(
                f"{source} has two profiles for '{profile.slug}' ({seen[profile.slug]!r} and {profile.name!r}); "
                "their kits would overwrite each other. Keep one."
            )
        seen[profile.slug] = profile.name
    return profiles
