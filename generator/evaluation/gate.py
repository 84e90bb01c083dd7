"""The on-brief gate: what an editor checks before judging style.

A draft must be about this business, free of template and prompt debris, free of invented facts (prices,
offer names and proof figures come from the profile), with every field making sense for its type, written in
language rather than word salad, and in the business's own language. A draft that fails any check scores near 0
whatever its call to action: the stage criteria only rank drafts that are on brief. The word lists live in
``eval/gate.yaml``; a language's additions (its durations, guarantees, placeholders) in ``eval/gate.<language>.yaml``.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from generator.assets import Asset, EntryOffer, ReviewRequest
from generator.errors import DocumentError
from generator.evaluation.gate_facts import (
    claim_problems,
    link_problems,
    offer_names,
    offer_problems,
    price_problems,
    testimonial_problems,
)
from generator.evaluation.gate_text import (
    SENTENCE_FIELD_MIN_LENGTH,
    content_stems,
    field_instructions,
    field_name_written,
    fields_of,
    language_sample,
    not_language,
    short,
    stem,
    word_runs,
)
from generator.evaluation.results import GateCheck, GateResult
from generator.evaluation.signals import LanguageLexicon, base_language, load_lexicon
from generator.language import DEFAULT_LANGUAGE, language_name
from generator.language_detect import detect
from generator.profile import BusinessProfile
from generator.prompting import example_businesses, instruction_texts
from generator.rules import contains_phrase

__all__ = [
    "GATE_FILE",
    "SENTENCE_FIELD_MIN_LENGTH",
    "CompiledGate",
    "Gate",
    "content_stems",
    "gate_for",
    "load_gate",
    "stem",
]

GATE_FILE = "gate.yaml"
WRONG_LANGUAGE_MIN = 0.7  # a draft fails only when another language is this likely ...
EXPECTED_LANGUAGE_MAX = 0.1  # ... and its own language at most this


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


ClaimKind = Literal["percent", "rating", "ratio", "count", "year", "years"]


class GateLists(BaseModel):
    """eval/gate.yaml, validated."""

    model_config = ConfigDict(extra="forbid")

    debris: list[DebrisPattern] = Field(min_length=1)
    injection: str = Field(description="Orders aimed at a model: never copy, whatever the profile says")
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


class GateAdditions(BaseModel):
    """eval/gate.<language>.yaml: what another language adds to eval/gate.yaml (lists are appended, patterns are
    tried as alternatives). The English lists stay: a model may still echo an English prompt."""

    model_config = ConfigDict(extra="forbid")

    debris: list[DebrisPattern] = Field(default_factory=list)
    injection: str | None = None
    merge_fields: str | None = None
    guarantee: str | None = None
    review_sites: list[str] = Field(default_factory=list)
    durations: list[str] = Field(default_factory=list)
    ask_channels: list[str] = Field(default_factory=list)
    generic_words: list[str] = Field(default_factory=list)
    claims: dict[ClaimKind, str] = Field(
        default_factory=dict, description="More patterns per kind of figure (group 1 the number), tried after English's"
    )

    def onto(self, lists: GateLists) -> GateLists:
        update: dict[str, object] = {
            name: getattr(lists, name) + getattr(self, name)
            for name in ("debris", "review_sites", "durations", "ask_channels", "generic_words")
        }
        for name in ("injection", "merge_fields", "guarantee"):
            extra = getattr(self, name)
            if extra:
                update[name] = f"(?:{getattr(lists, name)})|(?:{extra})"
        return lists.model_copy(update=update)


class CompiledGate:
    """The lists of eval/gate.yaml (plus a language's additions) as compiled patterns."""

    def __init__(
        self, lists: GateLists, lexicon: LanguageLexicon | None = None, more_claims: dict[str, str] | None = None
    ) -> None:
        self.lexicon = lexicon
        self.debris = [(d.name, re.compile(d.regex, re.I | re.M)) for d in lists.debris]
        self.injection = re.compile(lists.injection, re.I)
        self.merge_fields = re.compile(lists.merge_fields, re.I)
        self.claims = {kind: [re.compile(rx, re.I)] for kind, rx in lists.claims.model_dump().items()}
        for kind, rx in (more_claims or {}).items():
            self.claims[kind].append(re.compile(rx, re.I))
        self.review_sites = lists.review_sites
        self.known_domains = {d.lower() for d in lists.known_domains}
        self.durations = [re.compile(p, re.I) for p in lists.durations]
        self.ask_channels = lists.ask_channels
        self.generic = {stem(w, lexicon) for w in lists.generic_words}
        self.other_brand = re.compile(lists.other_brand)
        self.guarantee = re.compile(lists.guarantee, re.I)
        self.known_names = {n.lower() for n in lists.known_names}


def _read(path: Path) -> object:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DocumentError(f"{path} is missing: the on-brief gate's lists live there.") from None
    except yaml.YAMLError as exc:
        raise DocumentError(f"{path} is not a valid gate file: {exc}") from None


@cache
def load_gate(eval_dir: Path, language: str = DEFAULT_LANGUAGE) -> CompiledGate:
    """The folder's gate lists for a language, read and compiled once: every gate and every re-ask shares them."""
    path = eval_dir / GATE_FILE
    base = base_language(language)
    extra = eval_dir / f"gate.{base}.yaml"
    try:
        lists, more_claims = GateLists.model_validate(_read(path)), dict[str, str]()
        if base != DEFAULT_LANGUAGE and extra.exists():
            path = extra
            additions = GateAdditions.model_validate(_read(extra))
            lists, more_claims = additions.onto(lists), {str(k): rx for k, rx in additions.claims.items()}
        return CompiledGate(lists, load_lexicon(eval_dir, base), more_claims)
    except (ValidationError, re.error) as exc:
        raise DocumentError(f"{path} is not a valid gate file: {exc}") from None


class Gate:
    """Runs the five checks on one draft or text."""

    def __init__(
        self, eval_dir: Path, *, others: dict[str, str] | None = None, instructions: tuple[str, ...] = ()
    ) -> None:
        """``others``: name -> fact sheet of businesses a draft must not be about (the prompts' worked examples);
        ``instructions``: the prompts' own words, which a draft must not echo."""
        self.eval_dir = eval_dir
        self.prompt_runs = set().union(*(word_runs(piece) for piece in instructions)) if instructions else set()
        self.lists = load_gate(eval_dir)
        self.others = {name: content_stems(facts, self.lists.generic) for name, facts in (others or {}).items()}

    def check(self, text: str, *, asset: Asset | None = None, profile: BusinessProfile | None = None,
              business: str | None = None, language: str | None = None) -> GateResult:  # fmt: skip
        """``language``: the one the text must be in (default: the profile's, else English)."""
        language = language or (profile.language if profile else DEFAULT_LANGUAGE)
        lists = load_gate(self.eval_dir, language)
        fields = fields_of(asset, text)
        # Every fact the draft may use, as one text; a learned voice's exemplars are style, never facts to reuse.
        brief = profile.model_copy(update={"voice": None}).as_brief() if profile else ""
        checks = [
            self._on_business(lists, text, profile, brief, business),
            self._no_debris(lists, fields, brief, field_instructions(asset)),
            self._facts(lists, text, asset, profile, brief),
            self._field_sense(lists, text, asset, profile),
            self._language(lists, fields),
            self._written_in(fields, language),
        ]
        applied = [c for c in checks if c is not None]
        return GateResult(passed=all(c.passed for c in applied), checks=applied)

    # -- the checks -------------------------------------------------------------------------------------------

    def _on_business(
        self, lists: CompiledGate, text: str, profile: BusinessProfile | None, brief: str, business: str | None
    ) -> GateCheck | None:
        if profile is None:  # what it sells is unknown: naming the business is the rubric's names_business criterion
            return None
        name = profile.name
        check = "on_business"
        title = "About this business"
        others = [
            m.group(0)
            for m in lists.other_brand.finditer(text)
            if m.group(0).lower() not in lists.known_names and m.group(0).lower() not in brief.lower()
        ]
        if others:
            return GateCheck(id=check, name=title, passed=False, reason=f"names another business: {others[0]}")
        own = content_stems(brief, lists.generic, lists.lexicon)
        said = content_stems(text, lists.generic, lists.lexicon)
        for other, their_words in self.others.items():  # a small model copies its worked example's business
            copied = (said & their_words) - own
            if contains_phrase(text, other) or (len(copied) >= 3 and len(copied) > len(said & own)):
                words = ", ".join(sorted(copied)[:5])
                return GateCheck(id=check, name=title, passed=False, reason=f"is about {other}, not {name} ({words})")
        if contains_phrase(text, name) or (profile and any(contains_phrase(text, o) for o in offer_names(profile))):
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
        self, lists: CompiledGate, fields: list[tuple[str, str, int]], brief: str, instructions: dict[str, set[str]]
    ) -> GateCheck:
        allowed = brief.lower()  # the profile's own words are never debris
        found = []
        for field, value, _ in fields:
            planted = lists.injection.search(value)
            if planted:  # checked before the profile's words excuse anything: planted orders can sit in a profile
                found.append(f"an order aimed at a model in {field} ('{short(planted.group(0))}')")
                continue
            value = lists.merge_fields.sub("", value)  # a link or first-name merge field is the sender's to fill
            said, told = content_stems(value), instructions.get(re.sub(r"\[\d+\]", "", field), set())
            if len(said & told) >= 3 and len(said & told) >= 0.75 * len(said):
                found.append(f"{field} repeats what the field is for ('{short(value)}')")
                continue
            echoed = word_runs(value) & self.prompt_runs
            if echoed and not any(" ".join(run) in allowed for run in echoed):
                found.append(f"{field} repeats the prompt ('{short(' '.join(sorted(echoed)[0]))}')")
                continue
            written = field_name_written(value)
            if written:
                found.append(f"a field name in {field} ('{short(written)}')")
                continue
            for label, pattern in lists.debris:
                hit = pattern.search(value)
                if hit and hit.group(0).lower() not in allowed:
                    found.append(f"{label} in {field} ('{short(hit.group(0))}')")
                    break
        reason = "; ".join(found[:3]) if found else "no placeholders, file names, field names or echoed instructions"
        return GateCheck(id="no_debris", name="No template or prompt debris", passed=not found, reason=reason)

    def _facts(
        self, lists: CompiledGate, text: str, asset: Asset | None, profile: BusinessProfile | None, brief: str
    ) -> GateCheck | None:
        if profile is None:
            return None
        problems = offer_problems(asset, profile) + price_problems(text, asset, profile, brief)
        promise = lists.guarantee.search(text)
        if promise and not lists.guarantee.search(brief):
            problems.append(f"it promises '{promise.group(0)}', which the profile never offers")
        problems += claim_problems(text, brief, lists.claims, profile.language)
        problems += testimonial_problems(text, profile, lists.lexicon)
        reason = "; ".join(problems[:3]) if problems else "prices, offers and figures match the profile"
        return GateCheck(id="facts", name="No invented facts", passed=not problems, reason=reason)

    def _field_sense(
        self, lists: CompiledGate, text: str, asset: Asset | None, profile: BusinessProfile | None
    ) -> GateCheck | None:
        problems = link_problems(text, profile, lists.known_domains)
        if isinstance(asset, EntryOffer) and not any(p.search(asset.time_commitment) for p in lists.durations):
            problems.append(f"the time commitment '{short(asset.time_commitment)}' does not read as a duration")
        if isinstance(asset, ReviewRequest):
            site = asset.review_site.lower()
            own = bool(profile and profile.website and profile.website.lower() in site)
            if not own and not any(contains_phrase(site, s) for s in lists.review_sites):
                problems.append(f"'{short(asset.review_site)}' is not a review site or the business's own")
            if not any(contains_phrase(asset.channel, c) for c in lists.ask_channels):
                problems.append(f"'{short(asset.channel)}' is not a way to reach a customer")
        if asset is None and not problems and profile is None:
            return None
        reason = "; ".join(problems[:3]) if problems else "every field fits its type"
        return GateCheck(id="field_sense", name="Fields make sense", passed=not problems, reason=reason)

    def _language(self, lists: CompiledGate, fields: list[tuple[str, str, int]]) -> GateCheck:
        problems = []
        for field, value, limit in fields:
            problem = not_language(value, prose=limit >= SENTENCE_FIELD_MIN_LENGTH, lexicon=lists.lexicon)
            if problem:
                problems.append(f"{field} {problem} ('{short(value)}')")
        reason = "; ".join(problems[:3]) if problems else "reads as language"
        return GateCheck(id="language", name="Language, not word salad", passed=not problems, reason=reason)

    def _written_in(self, fields: list[tuple[str, str, int]], language: str) -> GateCheck:
        """The words a customer reads are in the business's language: a draft in another language is off brief.
        Only a confident reading fails a draft (brand and offer names in another language are normal)."""
        name, title = language_name(language), "In the business's language"
        found = detect(language_sample(fields), expected=language)
        if found is None:
            return GateCheck(id="written_in", name=title, passed=True, reason="too little text to tell its language")
        if found.language == base_language(language):
            reason = f"reads as {name} ({found.probability:.0%})"
            return GateCheck(id="written_in", name=title, passed=True, reason=reason)
        wrong = found.probability >= WRONG_LANGUAGE_MIN and (found.expected or 0.0) <= EXPECTED_LANGUAGE_MAX
        reason = f"reads as {language_name(found.language)} ({found.probability:.0%}), not {name}"
        return GateCheck(
            id="written_in", name=title, passed=not wrong, reason=reason if wrong else f"{reason}? not sure enough"
        )


@cache
def gate_for(eval_dir: Path, prompts_dir: Path) -> Gate:
    """The gate whose "other businesses" are the prompts' worked examples: built once per folder pair and shared
    (it keeps no state between checks) by the re-asks of every draft and by the evaluator."""
    return Gate(eval_dir, others=example_businesses(prompts_dir), instructions=instruction_texts(prompts_dir))
