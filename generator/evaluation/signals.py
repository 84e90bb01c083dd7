"""Copy signals: cheap, explainable measurements of a marketing text (calls to action, hype, vague
corporate phrasing, pressure, effort, risk reducers, who the copy is about).

The phrase lists live in ``eval/signals.yaml`` so marketers can tune them; the craft rules and the
offline quality model both read the same ``Signals``.
"""

from __future__ import annotations

import math
import re
from functools import cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from generator.errors import DocumentError

SIGNALS_FILE = "signals.yaml"
_NUMBER = re.compile(
    r"[$£€]?\d+(?:[.,:]\d+)?%?|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|"
    r"twenty|thirty|forty|fifty|hundred|half|first|second|third)\b",
    re.I,
)
_YOU = re.compile(r"\b(?:you|your|yours|you'll|you're|you've|you'd)\b", re.I)
_WE = re.compile(r"\b(?:we|our|ours|us|we're|we've|we'll)\b", re.I)
_CAPS = re.compile(r"\b[A-Z]{4,}\b")
_SENTENCE_END = re.compile(r"[.!?]+(?:\s|$)")


class Lexicon(BaseModel):
    """The phrase lists of eval/signals.yaml, compiled once."""

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

    def pattern(self, name: str) -> re.Pattern[str] | None:
        phrases: list[str] = getattr(self, name)
        if not phrases:
            return None
        return re.compile(r"(?<![\w'])(?:" + "|".join(f"(?:{p})" for p in phrases) + r")(?![\w'])", re.I)


@cache
def load_lexicon(eval_dir: Path) -> dict[str, re.Pattern[str] | None]:
    path = eval_dir / SIGNALS_FILE
    try:
        lexicon = Lexicon.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        return {name: lexicon.pattern(name) for name in Lexicon.model_fields}
    except FileNotFoundError:
        raise DocumentError(f"{path} is missing: the eval's phrase lists live there.") from None
    except (yaml.YAMLError, ValidationError, re.error) as exc:
        raise DocumentError(f"{path} is not a valid signals file: {exc}") from None


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
    numbers: int
    you: int
    we: int
    exclamations: int
    shouting: int
    questions: int
    sentences: int

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


def _found(pattern: re.Pattern[str] | None, text: str) -> list[str]:
    return [m.group(0) for m in pattern.finditer(text)] if pattern else []


def measure(text: str, eval_dir: Path) -> Signals:
    lexicon = load_lexicon(eval_dir)
    return Signals(
        words=len(text.split()),
        cta=_found(lexicon["cta"], text),
        hype=_found(lexicon["hype"], text),
        generic=_found(lexicon["generic"], text),
        pressure=_found(lexicon["pressure"], text),
        quick=_found(lexicon["quick"], text),
        long=_found(lexicon["long"], text),
        risk_reducers=_found(lexicon["risk_reducers"], text),
        friend_side=_found(lexicon["friend_side"], text),
        link=_found(lexicon["link"], text),
        too_early=_found(lexicon["too_early"], text),
        numbers=len(_NUMBER.findall(text)),
        you=len(_YOU.findall(text)),
        we=len(_WE.findall(text)),
        exclamations=text.count("!"),
        shouting=len(_CAPS.findall(text)),
        questions=text.count("?"),
        sentences=max(1, len(_SENTENCE_END.findall(text))),
    )
