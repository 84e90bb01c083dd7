"""Copy signals: cheap, explainable measurements of a marketing text (calls to action, hype, vague
corporate phrasing, pressure, effort, risk reducers, who the copy is about).

The phrase lists live in ``eval/signals.yaml`` (English) and ``eval/signals.<language>.yaml`` (another language)
so marketers can tune them; the craft rules and the offline quality model both read the same ``Signals``. A
language without its file is read with none: the rules that need the lists are "not judged" there.
"""

from __future__ import annotations

import math
import re
from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from generator.errors import DocumentError
from generator.evaluation.readability import Readability, reading_grade
from generator.language import DEFAULT_LANGUAGE

SIGNALS_FILE = "signals.yaml"  # English; another language's lists live in signals.<language>.yaml
_DIGITS = re.compile(r"[$£€]?\d+(?:[.,:]\d+)?%?")
_CAPS = re.compile(r"\b[A-Z]{4,}\b")
_SENTENCE_END = re.compile(r"[.!?]+(?:\s|$)")
ModelCriterion = Literal["stage_fit", "quality_model"]
MODEL_CRITERIA: tuple[ModelCriterion, ...] = ("stage_fit", "quality_model")


class Lexicon(BaseModel):
    """One language's phrase lists (eval/signals.yaml for English, eval/signals.<language>.yaml for others)."""

    model_config = ConfigDict(extra="forbid")

    cta: list[str] = Field(min_length=1)
    hype: list[str] = Field(default_factory=list)
    generic: list[str] = Field(default_factory=list)
    pressure: list[str] = Field(default_factory=list)
    quick: list[str] = Field(default_factory=list)
    long: list[str] = Field(default_factory=list)
    risk_reducers: list[str] = Field(default_factory=list)
    friend_side: list[str] = Field(default_factory=list)
    link: list[str] = Field(default_factory=list)
    too_early: list[str] = Field(default_factory=list)
    number_words: list[str] = Field(default_factory=list)
    you: list[str] = Field(default_factory=list)
    we: list[str] = Field(default_factory=list)
    first_person: list[str] = Field(default_factory=list)
    purchase: list[str] = Field(default_factory=list)
    incentive: list[str] = Field(default_factory=list)
    after_a_result: list[str] = Field(default_factory=list)
    stop_words: list[str] = Field(min_length=1)
    stem_suffixes: list[str] = Field(default_factory=list)
    readability: Readability = "flesch_kincaid"
    min_function_share: float = Field(
        default=0.1, ge=0, le=1, description="Prose of 10+ words with fewer function words is a string of keywords"
    )
    models: list[ModelCriterion] = Field(
        default_factory=lambda: list(MODEL_CRITERIA),
        description="The learned scorers measured to work in this language (trained on English texts)",
    )

    def pattern(self, name: str) -> re.Pattern[str] | None:
        """Whole words or phrases; a phrase next to an apostrophe is part of a contraction ("don't get"), except in
        the lists read as plain words (a quoted 'First' is still a number word, "we'd" still says "we")."""
        phrases: list[str] = getattr(self, name)
        if not phrases:
            return None
        edge = r"\w" if name in WORD_EDGE_LISTS else r"[\w']"
        return re.compile(rf"(?<!{edge})(?:" + "|".join(f"(?:{p})" for p in phrases) + rf")(?!{edge})", re.I)


WORD_EDGE_LISTS = frozenset({"number_words", "you", "we", "first_person", "purchase", "incentive", "after_a_result"})
PHRASE_LISTS = tuple(name for name, field in Lexicon.model_fields.items() if field.annotation == list[str])


class LanguageLexicon(BaseModel):
    """A lexicon compiled for use: its language, its patterns, and the words that tell what a text is about."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    language: str
    patterns: dict[str, re.Pattern[str] | None]
    stop_words: frozenset[str]
    stem_suffixes: tuple[str, ...]
    readability: Readability
    min_function_share: float
    models: frozenset[str]

    def found(self, name: str, text: str) -> list[str]:
        pattern = self.patterns[name]
        return [m.group(0) for m in pattern.finditer(text)] if pattern else []


def base_language(tag: str) -> str:
    """'es-MX' -> 'es': the lists are per language, not per region."""
    return tag.split("-")[0].lower()


def lexicon_file(eval_dir: Path, language: str = DEFAULT_LANGUAGE) -> Path:
    base = base_language(language)
    return eval_dir / (SIGNALS_FILE if base == DEFAULT_LANGUAGE else f"signals.{base}.yaml")


def has_lexicon(eval_dir: Path, language: str) -> bool:
    """Whether the eval can read copy in ``language`` (its phrase lists exist); English always can."""
    return base_language(language) == DEFAULT_LANGUAGE or lexicon_file(eval_dir, language).exists()


@cache
def _load(path: Path, language: str) -> LanguageLexicon:
    try:
        lexicon = Lexicon.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        return LanguageLexicon(
            language=language,
            patterns={name: lexicon.pattern(name) for name in PHRASE_LISTS if name not in _PLAIN_LISTS},
            stop_words=frozenset(w.lower() for w in lexicon.stop_words),
            stem_suffixes=tuple(lexicon.stem_suffixes),
            readability=lexicon.readability,
            min_function_share=lexicon.min_function_share,
            models=frozenset(lexicon.models),
        )
    except FileNotFoundError:
        raise DocumentError(f"{path} is missing: the eval's phrase lists live there.") from None
    except (yaml.YAMLError, ValidationError, re.error) as exc:
        raise DocumentError(f"{path} is not a valid signals file: {exc}") from None


_PLAIN_LISTS = {"stop_words", "stem_suffixes", "models"}  # words, not patterns


def load_lexicon(eval_dir: Path, language: str = DEFAULT_LANGUAGE) -> LanguageLexicon:
    """The language's lists, or English's where the language has none (``.language`` says which was read)."""
    if not has_lexicon(eval_dir, language):
        language = DEFAULT_LANGUAGE
    base = base_language(language)
    return _load(lexicon_file(eval_dir, base), base)


class Signals(BaseModel):
    """What the craft rules and the quality model look at. Counts are raw; ``features`` scales them."""

    words: int
    cta: list[str]
    hype: list[str]
    generic: list[str]
    pressure: list[str]
    quick: list[str]
    long: list[str]
    risk_reducers: list[str]
    friend_side: list[str]
    link: list[str]
    too_early: list[str]
    purchase: list[str]  # an ask to buy or a price
    incentive: list[str]  # what a referral pays with
    numbers: int
    you: int
    we: int
    exclamations: int
    shouting: int
    questions: int
    sentences: int
    reading_grade: float  # by the language's formula (evaluation.readability)

    @property
    def reader_share(self) -> float:
        """Share of 'you' among you + we words; 0.5 when the copy uses neither."""
        return (self.you + 0.5) / (self.you + self.we + 1)

    def features(self) -> list[float]:
        """A fixed-length numeric view for the quality model (log-scaled counts). Length is left out on
        purpose: the training drafts are 30-110 words, and a model that learns "longer is better" there
        punishes every short post."""

        def log(n: int) -> float:
            return math.log1p(n)

        return [
            1.0 if self.cta else 0.0,
            log(self.numbers),
            self.reader_share,
            log(self.exclamations),
            log(self.shouting),
            log(len(self.hype)),
            log(len(self.generic)),
            log(len(self.pressure)),
            log(len(self.quick)),
            log(len(self.long)),
            log(len(self.risk_reducers)),
            log(len(self.friend_side)),
            log(self.questions),
            log(len(self.link)),
            log(len(self.too_early)),
        ]


FEATURE_NAMES = [
    "cta", "numbers", "reader_share", "exclamations", "shouting", "hype", "generic", "pressure",
    "quick", "long", "risk_reducers", "friend_side", "questions", "link", "too_early",
]  # fmt: skip


def measure(text: str, eval_dir: Path, language: str = DEFAULT_LANGUAGE) -> Signals:
    lexicon = load_lexicon(eval_dir, language)
    found = {name: lexicon.found(name, text) for name in _SIGNAL_LISTS}
    return Signals(
        words=len(text.split()),
        **found,
        numbers=len(_DIGITS.findall(text)) + len(lexicon.found("number_words", text)),
        you=len(lexicon.found("you", text)),
        we=len(lexicon.found("we", text)),
        exclamations=text.count("!"),
        shouting=len(_CAPS.findall(text)),
        questions=text.count("?"),
        sentences=max(1, len(_SENTENCE_END.findall(text))),
        reading_grade=reading_grade(text, lexicon.readability),
    )


_SIGNAL_LISTS = ("cta", "hype", "generic", "pressure", "quick", "long", "risk_reducers", "friend_side", "link",
                 "too_early", "purchase", "incentive")  # fmt: skip
