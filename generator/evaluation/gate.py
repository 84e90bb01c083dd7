"""The on-brief gate: what an editor checks before judging style.

A draft must be about this business, free of template and prompt debris, free of invented facts (prices,
offer names and proof figures come from the profile), with every field making sense for its type, and
written in language rather than word salad. A draft that fails any check scores near 0 whatever its call
to action: the stage criteria only rank drafts that are on brief. The word lists live in ``eval/gate.yaml``.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from generator.assets import (
    ASSET_TYPES,
    AscensionOffer,
    Asset,
    EntryOffer,
    LeadMagnet,
    ReferralProgram,
    ReviewRequest,
)
from generator.errors import DocumentError
from generator.evaluation.results import GateCheck, GateResult
from generator.profile import BusinessProfile
from generator.prompting import example_businesses
from generator.rules import contains_phrase, money_amounts

GATE_FILE = "gate.yaml"
_WORD = re.compile(r"[A-Za-z][A-Za-z'\u2019-]*")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_DOMAIN = re.compile(r"\b(?:https?://)?((?:[a-z0-9-]+\.)+[a-z]{2,})(?:/[^\s]*)?", re.I)
_SUFFIXES = ("ings", "ing", "ers", "er", "ed", "es", "s", "ly")
_HANDLE = re.compile(r"(?<![\w.])@([A-Za-z][\w.]{2,30})")
_SAME_KIND = {"percent", "rating", "ratio"}  # compared with the profile's figures of the same kind
_FIRST_PERSON = re.compile(r"\b(?:I|I'm|I've|I'd|my|me|we|our|us)\b")
_QUOTED = re.compile(  # "..." or '...' (not an apostrophe), with who said it just before or after
    r"(?P<before>[A-Z][a-z]+(?: [A-Z][a-z.]*)*(?: from [A-Z][a-z]+)? (?:said|says|told us|wrote|writes)"
    r"(?: [a-z]+){0,3}[,:]? )?"
    r"(?:[\"\u201c](?P<dq>[^\"\u201d\n]{20,400})[\"\u201d]"
    r"|(?<!\w)['\u2018](?P<sq>[^'\u2018\u2019\n]{20,400})['\u2019](?!\w))"
    r"(?P<after>[ \t]*(?:[-\u2013\u2014,(]|said|says)[ \t]*[A-Z][a-z]+)?"
)
SENTENCE_FIELD_MIN_LENGTH = 150  # schema maxLength from which a field is prose, not a label or a keyword


class DebrisPattern(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    regex: str


class ClaimPatterns(BaseModel):
    """One regex per kind of figure; group 1 is the number."""

    model_config = ConfigDict(extra="forbid")
    percent: str
    rating: str
    ratio: str
    count: str
    year: str
    years: str


class GateLists(BaseModel):
    """eval/gate.yaml, validated."""

    model_config = ConfigDict(extra="forbid")

    debris: list[DebrisPattern] = Field(min_length=1)
    merge_fields: str
    claims: ClaimPatterns
    review_sites: list[str] = Field(min_length=1)
    known_domains: list[str] = Field(default_factory=list)
    durations: list[str] = Field(min_length=1)
    ask_channels: list[str] = Field(min_length=1)
    generic_words: list[str] = Field(default_factory=list)
    other_brand: str
    guarantee: str
    known_names: list[str] = Field(default_factory=list)


class CompiledGate:
    """The lists of eval/gate.yaml as compiled patterns."""

    def __init__(self, lists: GateLists) -> None:
        self.debris = [(d.name, re.compile(d.regex, re.I | re.M)) for d in lists.debris]
        self.merge_fields = re.compile(lists.merge_fields, re.I)
        self.claims = {kind: re.compile(rx, re.I) for kind, rx in lists.claims.model_dump().items()}
        self.review_sites = lists.review_sites
        self.known_domains = {d.lower() for d in lists.known_domains}
        self.durations = [re.compile(p, re.I) for p in lists.durations]
        self.ask_channels = lists.ask_channels
        self.generic = {stem(w) for w in lists.generic_words}
        self.other_brand = re.compile(lists.other_brand)
        self.guarantee = re.compile(lists.guarantee, re.I)
        self.known_names = {n.lower() for n in lists.known_names}


@cache
def load_gate(eval_dir: Path) -> CompiledGate:
    path = eval_dir / GATE_FILE
    try:
        return CompiledGate(GateLists.model_validate(yaml.safe_load(path.read_text(encoding="utf-8"))))
    except FileNotFoundError:
        raise DocumentError(f"{path} is missing: the on-brief gate's lists live there.") from None
    except (yaml.YAMLError, ValidationError, re.error) as exc:
        raise DocumentError(f"{path} is not a valid gate file: {exc}") from None


def stem(word: str) -> str:
    """A crude English stem, enough to match 'roasted' with 'roasting' and 'runners' with 'runner'."""
    word = word.lower().strip("'\u2019-")
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def content_stems(text: str, generic: set[str] | frozenset[str] = frozenset()) -> set[str]:
    return {
        s
        for w in _WORD.findall(text)
        if len(w) > 2 and w.lower() not in ENGLISH_STOP_WORDS and (s := stem(w)) not in generic
    }


def _fields(asset: Asset | None, text: str) -> list[tuple[str, str, int]]:
    """(field, text, length) for every string and list item written in words; list items are never prose (a bullet
    may be two words); a bare text is one prose field. A field chosen from a fixed set ("core offer") is left out."""
    if asset is None:
        return [("text", text, 10_000)]
    schema = _properties(type(asset))
    out: list[tuple[str, str, int]] = []
    for name, value in asset.model_dump(mode="json").items():
        spec = schema.get(name, {})
        if "enum" in spec or "const" in spec:
            continue
        if isinstance(value, str):
            out.append((name, value, int(spec.get("maxLength", 0))))
        elif isinstance(value, list):
            limit = int(spec.get("items", {}).get("maxLength", 0))
            out += [(f"{name}[{i}]", str(v), min(limit, SENTENCE_FIELD_MIN_LENGTH - 1)) for i, v in enumerate(value, 1)]
    return out


@cache
def _properties(asset_cls: type[Asset]) -> dict[str, Any]:
    """The asset type's JSON-schema properties (built once per type: every check and re-ask reads them)."""
    return asset_cls.model_json_schema()["properties"]


def _field_instructions(asset: Asset | None) -> dict[str, set[str]]:
    """Each field's own description, as words: a small model writes the instruction instead of the copy."""
    return _instructions_of(type(asset)) if asset is not None else {}


@cache
def _instructions_of(asset_cls: type[Asset]) -> dict[str, set[str]]:
    return {
        name: content_stems(f"{spec.get('description', '')} {name.replace('_', ' ')}")
        for name, spec in _properties(asset_cls).items()
    }


_JOINERS = {"or", "and", "the", "a", "an", "of", "to", "for"}


@cache
def _field_names() -> tuple[frozenset[str], frozenset[str]]:
    """Every asset field name with its separators and joining words dropped: all, and those of two words or more."""
    names = {name for cls in ASSET_TYPES.values() for name in cls.model_fields}

    def glued(name: str) -> str:
        return "".join(w for w in name.split("_") if w not in _JOINERS)

    return frozenset(map(glued, names)), frozenset(glued(n) for n in names if "_" in n)


def _field_name_written(value: str) -> str | None:
    """A field name a grammar-bound model wrote without its underscores ("timeCommitment", "bonus/surprise"):
    a value that is nothing but a field name, or a glued word that is a field name of two words or more."""
    names, compound = _field_names()
    words = [w.lower() for w in re.findall(r"[A-Za-z]+", value)]
    whole = "".join(w for w in words if w not in _JOINERS)
    if whole and whole in names and len(words) <= 4:
        return value.strip()
    return next((token for token in re.findall(r"[A-Za-z]{6,}", value) if token.lower() in compound), None)


def _short(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Gate:
    """Runs the five checks on one draft or text."""

    def __init__(self, eval_dir: Path, *, others: dict[str, str] | None = None) -> None:
        """``others``: name -> fact sheet of businesses a draft must not be about (the prompts' worked examples)."""
        self.lists = load_gate(eval_dir)
        self.others = {name: content_stems(facts, self.lists.generic) for name, facts in (others or {}).items()}

    def check(self, text: str, *, asset: Asset | None = None, profile: BusinessProfile | None = None,
              business: str | None = None) -> GateResult:  # fmt: skip
        fields = _fields(asset, text)
        brief = profile.as_brief() if profile else ""  # every fact the draft may use, as one text
        checks = [
            self._on_business(text, profile, brief, business),
            self._no_debris(fields, brief, _field_instructions(asset)),
            self._facts(text, asset, profile, brief),
            self._field_sense(text, asset, profile),
            self._language(fields),
        ]
        applied = [c for c in checks if c is not None]
        return GateResult(passed=all(c.passed for c in applied), checks=applied)

    # -- the checks -------------------------------------------------------------------------------------------

    def _on_business(
        self, text: str, profile: BusinessProfile | None, brief: str, business: str | None
    ) -> GateCheck | None:
        if profile is None:  # what it sells is unknown: naming the business is the rubric's names_business criterion
            return None
        name = profile.name
        check = "on_business"
        title = "About this business"
        others = [
            m.group(0)
            for m in self.lists.other_brand.finditer(text)
            if m.group(0).lower() not in self.lists.known_names and m.group(0).lower() not in brief.lower()
        ]
        if others:
            return GateCheck(id=check, name=title, passed=False, reason=f"names another business: {others[0]}")
        own = content_stems(brief, self.lists.generic)
        said = content_stems(text, self.lists.generic)
        for other, their_words in self.others.items():  # a small model copies its worked example's business
            copied = (said & their_words) - own
            if contains_phrase(text, other) or (len(copied) >= 3 and len(copied) > len(said & own)):
                words = ", ".join(sorted(copied)[:5])
                return GateCheck(id=check, name=title, passed=False, reason=f"is about {other}, not {name} ({words})")
        if contains_phrase(text, name) or (profile and any(contains_phrase(text, o) for o in _offer_names(profile))):
            return GateCheck(id=check, name=title, passed=True, reason=f"names {name} or its offers")
        shared = said & own
        if len(shared) >= 3:
            return GateCheck(id=check, name=title, passed=True, reason=f"talks about {', '.join(sorted(shared)[:5])}")
        return GateCheck(
            id=check,
            name=title,
            passed=False,
            reason=f"never names {name} or its offers, and hardly touches what it sells "
            f"({len(shared)} of its words: {', '.join(sorted(shared)) or 'none'})",
        )

    def _no_debris(
        self, fields: list[tuple[str, str, int]], brief: str, instructions: dict[str, set[str]]
    ) -> GateCheck:
        allowed = brief.lower()  # the profile's own words are never debris
        found = []
        for field, value, _ in fields:
            value = self.lists.merge_fields.sub("", value)  # a link or first-name merge field is the sender's to fill
            said, told = content_stems(value), instructions.get(field.split("[")[0], set())
            if len(said & told) >= 3 and len(said & told) >= 0.75 * len(said):
                found.append(f"{field} repeats what the field is for ('{_short(value)}')")
                continue
            written = _field_name_written(value)
            if written:
                found.append(f"a field name in {field} ('{_short(written)}')")
                continue
            for label, pattern in self.lists.debris:
                hit = pattern.search(value)
                if hit and hit.group(0).lower() not in allowed:
                    found.append(f"{label} in {field} ('{_short(hit.group(0))}')")
                    break
        reason = "; ".join(found[:3]) if found else "no placeholders, file names, field names or echoed instructions"
        return GateCheck(id="no_debris", name="No template or prompt debris", passed=not found, reason=reason)

    def _facts(self, text: str, asset: Asset | None, profile: BusinessProfile | None, brief: str) -> GateCheck | None:
        if profile is None:
            return None
        problems = _offer_problems(asset, profile) + self._price_problems(text, asset, profile, brief)
        promise = self.lists.guarantee.search(text)
        if promise and not self.lists.guarantee.search(brief):
            problems.append(f"it promises '{promise.group(0)}', which the profile never offers")
        problems += self._claim_problems(text, brief) + _testimonial_problems(text, profile)
        reason = "; ".join(problems[:3]) if problems else "prices, offers and figures match the profile"
        return GateCheck(id="facts", name="No invented facts", passed=not problems, reason=reason)

    def _price_problems(self, text: str, asset: Asset | None, profile: BusinessProfile, brief: str) -> list[str]:
        known = {0.0} | {float(o.price) for o in profile.offers.rungs()} | set(money_amounts(brief))
        if isinstance(asset, ReferralProgram):  # rewards are the draft's proposal; the ladder rule sizes them
            known |= set(money_amounts(f"{asset.sharer_reward} {asset.friend_reward}"))
        strange = [a for a in money_amounts(text) if not _derivable(a, known)]
        cur = profile.offers.currency
        return [f"the price {a:g} {cur} is not one of the profile's" for a in dict.fromkeys(strange)][:2]

    def _claim_problems(self, text: str, brief: str) -> list[str]:
        """Percentages and ratings must be the profile's percentages and ratings; counts and years its numbers."""
        numbers = {_plain_number(n) for n in _NUMBER.findall(brief)}
        problems = []
        for kind, pattern in self.lists.claims.items():
            known = {_plain_number(m.group(1)) for m in pattern.finditer(brief)} if kind in _SAME_KIND else numbers
            for hit in pattern.finditer(text):
                if _plain_number(hit.group(1)) not in known:
                    problems.append(f"'{_short(hit.group(0))}' is not in the profile's proof")
        return problems[:2]

    def _field_sense(self, text: str, asset: Asset | None, profile: BusinessProfile | None) -> GateCheck | None:
        problems = self._link_problems(text, profile)
        if isinstance(asset, EntryOffer) and not any(p.search(asset.time_commitment) for p in self.lists.durations):
            problems.append(f"the time commitment '{_short(asset.time_commitment)}' does not read as a duration")
        if isinstance(asset, ReviewRequest):
            site = asset.review_site.lower()
            own = bool(profile and profile.website and profile.website.lower() in site)
            if not own and not any(contains_phrase(site, s) for s in self.lists.review_sites):
                problems.append(f"'{_short(asset.review_site)}' is not a review site or the business's own")
            if not any(contains_phrase(asset.channel, c) for c in self.lists.ask_channels):
                problems.append(f"'{_short(asset.channel)}' is not a way to reach a customer")
        if asset is None and not problems and profile is None:
            return None
        reason = "; ".join(problems[:3]) if problems else "every field fits its type"
        return GateCheck(id="field_sense", name="Fields make sense", passed=not problems, reason=reason)

    def _link_problems(self, text: str, profile: BusinessProfile | None) -> list[str]:
        if profile is None:  # whose website it should be is unknown
            return []
        own = _domain(profile.website) if profile.website else None
        problems = []
        own_words = re.sub(r"[^a-z0-9]", "", f"{profile.name} {own or ''}".lower())
        for handle in _HANDLE.findall(text):  # a social handle must be the business's own
            if re.sub(r"[^a-z0-9]", "", handle.lower()) not in own_words:
                problems.append(f"points to @{handle}, not the business's own account")
        for match in _DOMAIN.finditer(text):
            domain = match.group(1).lower().removeprefix("www.")
            if domain.endswith((".md", ".json", ".yaml", ".txt", ".py")) or re.fullmatch(r"[\d.]+", domain):
                continue  # file names are debris, and 4.9 is a number
            if own and (domain == own or domain.endswith("." + own)):
                continue
            if any(domain == d or domain.endswith("." + d) for d in self.lists.known_domains):
                continue
            problems.append(f"links to {domain}" + (f", not {own}" if own else ""))
        return problems[:2]

    def _language(self, fields: list[tuple[str, str, int]]) -> GateCheck:
        problems = []
        for field, value, limit in fields:
            problem = _not_language(value, prose=limit >= SENTENCE_FIELD_MIN_LENGTH)
            if problem:
                problems.append(f"{field} {problem} ('{_short(value)}')")
        reason = "; ".join(problems[:3]) if problems else "reads as language"
        return GateCheck(id="language", name="Language, not word salad", passed=not problems, reason=reason)


@cache
def gate_for(eval_dir: Path, prompts_dir: Path) -> Gate:
    """The gate whose "other businesses" are the prompts' worked examples: built once per folder pair and shared
    (it keeps no state between checks) by the re-asks of every draft and by the evaluator."""
    return Gate(eval_dir, others=example_businesses(prompts_dir))


# -- helpers -----------------------------------------------------------------------------------------------------


def _offer_names(profile: BusinessProfile) -> list[str]:
    return [o.name for o in profile.offers.rungs()]


def _plain_number(raw: str) -> str:
    """'1,200' and '1200' and '4.9' compare as numbers written without separators."""
    cleaned = raw.rstrip(".,").replace(",", "")
    try:
        value = float(cleaned)
    except ValueError:
        return cleaned
    return f"{value:g}"


def _derivable(amount: float, known: set[float]) -> bool:
    """A profile price, the saving between two, or a price per session, week or month (a copywriter's arithmetic)."""
    close = lambda a, b: abs(a - b) <= max(0.01, 0.005 * max(a, b))  # noqa: E731
    prices = [k for k in known if k > 0]
    if any(close(amount, k) for k in known):
        return True
    if any(close(amount, a - b) for a in prices for b in prices if a > b):
        return True
    return any(close(amount, a / n) for a in prices for n in (2, 3, 4, 6, 12, 52))


def _domain(website: str) -> str:
    match = _DOMAIN.search(website)
    return (match.group(1) if match else website).lower().removeprefix("www.")


def _offer_problems(asset: Asset | None, profile: BusinessProfile) -> list[str]:
    """Offers the profile already has keep their names and prices."""
    ladder, cur = profile.offers, profile.offers.currency
    problems = []
    if isinstance(asset, EntryOffer) and ladder.entry_offer:
        if not _same_name(asset.name, ladder.entry_offer.name):
            problems.append(f"the entry offer is '{_short(asset.name)}', not {ladder.entry_offer.name}")
        if abs(asset.price - ladder.entry_offer.price) > 0.005:
            problems.append(
                f"it costs {asset.price:g} {cur}; {ladder.entry_offer.name} is {ladder.entry_offer.price:g}"
            )
    if isinstance(asset, AscensionOffer):
        match = [o for o in (ladder.core_offer, *ladder.upsells) if _same_name(asset.offer_name, o.name)]
        if not match:
            problems.append(f"'{_short(asset.offer_name)}' is not the core offer or an upsell in the profile")
        elif all(abs(asset.price - o.price) > 0.005 for o in match):
            problems.append(f"it costs {asset.price:g} {cur}; {match[0].name} is {match[0].price:g}")
    if isinstance(asset, LeadMagnet) and ladder.lead_magnet and not _same_name(asset.title, ladder.lead_magnet.name):
        problems.append(f"the lead magnet is '{_short(asset.title)}', not {ladder.lead_magnet.name}")
    return problems


def _same_name(written: str, actual: str) -> bool:
    """The offer's own name, allowing 'The' and a subtitle: most of its words are there."""
    want = content_stems(actual) or {stem(w) for w in _WORD.findall(actual)}
    have = content_stems(written) | {stem(w) for w in _WORD.findall(written)}
    return len(want & have) >= max(1, math.ceil(0.75 * len(want)))


def _testimonial_problems(text: str, profile: BusinessProfile) -> list[str]:
    """A quoted first-person passage (a customer speaking) must be one of the profile's testimonials."""
    quotes = [content_stems(t.quote) for t in profile.proof.testimonials]
    problems = []
    for match in _QUOTED.finditer(text):
        quoted = match.group("dq") or match.group("sq")
        said = content_stems(quoted)
        attributed = match.group("before") or match.group("after")
        if not attributed or len(quoted.split()) < 6 or not _FIRST_PERSON.search(quoted) or not said:
            continue
        if not any(len(said & q) >= 0.6 * len(said) for q in quotes):
            problems.append(f"a testimonial that is not in the profile's proof ('{_short(quoted)}')")
    return problems[:1]


def _not_language(value: str, *, prose: bool) -> str | None:
    """Why a field is not language, or None: no words, a repeated phrase, or (in prose) no sentence."""
    words = _WORD.findall(value)
    if not re.search(r"[^\W\d_]\w|\w[^\W\d_]", value):
        return "has no words"
    lowered = [w.lower() for w in words]
    if len(lowered) >= 8:
        top, count = Counter(zip(lowered, lowered[1:], lowered[2:], strict=False)).most_common(1)[0]
        if count >= 3 and count * 3 >= 0.3 * len(lowered):
            return f"repeats '{' '.join(top)}' {count} times"
        if len(set(lowered)) < 0.35 * len(lowered):
            return "repeats the same few words"
    if prose:
        if len(lowered) < 3:
            return "is not a sentence"
        if len(lowered) >= 10 and sum(w in ENGLISH_STOP_WORDS for w in lowered) < 0.1 * len(lowered):
            return "is a string of words, not sentences"
    return None
