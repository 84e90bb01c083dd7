"""Does a learned voice tell brands apart? Measured on labelled sets of several brands' copy (eval/voice/brands/).

Each brand's voice is learned from its ``train`` texts; each of its ``heldout`` texts should then score closer to
its own voice than to every other brand's. The figure is the share of (text, other brand) pairs where it does.
The training texts are also measured leave-one-out (learn from the others, score the one left out): the
voice's constants were tuned on that, never on the held-out texts.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, computed_field

from generator.errors import DocumentError
from generator.stages import StageId
from generator.voice import learn_voice, voice_match
from generator.voice_traits import LearnedVoice

Embed = Callable[[list[str]], list[list[float]]]
Scorer = Callable[[str, int, str], float]  # (text, its row in the embedded texts, brand) -> score


class LabelledText(BaseModel):
    model_config = ConfigDict(extra="forbid")
    stage: StageId
    text: str = Field(min_length=1)


class BrandSet(BaseModel):
    """One brand's copy, in one voice, split into texts to learn from and texts to test on."""

    model_config = ConfigDict(extra="forbid")
    name: str
    voice: str = Field(description="The voice the texts were written in, for the people who read the set")
    train: list[LabelledText] = Field(min_length=3)
    heldout: list[LabelledText] = Field(min_length=1)


class Figure(BaseModel):
    name: str
    pairs: int
    closer: int

    @computed_field  # type: ignore[prop-decorator]  # mypy rejects decorators over @property; pydantic documents this
    @property
    def share(self) -> float:
        return self.closer / self.pairs if self.pairs else 0.0


class VoiceSetReport(BaseModel):
    brands: int
    figures: list[Figure]
    per_brand: dict[str, float] = Field(description="Held-out share per brand (traits and embeddings if measured)")
    misses: list[str] = Field(default_factory=list)


def load_brand_sets(folder: Path) -> list[BrandSet]:
    """Every ``*.yaml`` brand set in the folder, in name order."""
    sets = []
    for path in sorted(folder.glob("*.yaml")):
        try:
            sets.append(BrandSet.model_validate(yaml.safe_load(path.read_text(encoding="utf-8"))))
        except (yaml.YAMLError, ValidationError) as exc:
            raise DocumentError(f"{path} is not a valid brand set: {exc}") from None
    if len(sets) < 2:
        raise DocumentError(f"{folder} needs at least two brand sets (*.yaml) to compare voices.")
    return sets


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=-1, keepdims=True), 1e-9)


def _pairs(
    name: str, sets: list[BrandSet], score: Scorer, *, misses: list[str] | None = None, only: str = ""
) -> Figure:
    """Held-out texts (of every brand, or ``only`` one): closer to their own brand than to each other brand?"""
    closer = total = row = 0
    for brand in sets:
        for number, item in enumerate(brand.heldout, 1):
            row += 1
            if only and brand.name != only:
                continue
            own = score(item.text, row - 1, brand.name)
            for other in (b for b in sets if b.name != brand.name):
                theirs = score(item.text, row - 1, other.name)
                total += 1
                closer += own > theirs
                if own <= theirs and misses is not None:
                    misses.append(
                        f"{brand.name} held-out {number}: {own:.2f} to its own voice, {theirs:.2f} to {other.name}"
                    )
    return Figure(name=name, pairs=total, closer=closer)


def _leave_one_out(sets: list[BrandSet], eval_dir: Path, voices: dict[str, LearnedVoice]) -> Figure:
    """Training texts, each scored against its brand's voice learned without it (on eval/voice/brands/, what the
    constants were tuned on)."""
    closer = total = 0
    for brand in sets:
        texts = [t.text for t in brand.train]
        for left_out in range(len(texts)):
            rest = texts[:left_out] + texts[left_out + 1 :]
            if len(rest) < 3:
                continue
            own = voice_match(texts[left_out], learn_voice(rest, eval_dir=eval_dir, business=brand.name)).score
            for other in sets:
                if other.name != brand.name:
                    total += 1
                    closer += own > voice_match(texts[left_out], voices[other.name]).score
    return Figure(name="training texts, leave-one-out", pairs=total, closer=closer)


def measure_voice_sets(folder: Path, *, eval_dir: Path, embed: Embed | None = None) -> VoiceSetReport:
    """Learn each brand's voice from its training texts and measure how well held-out texts find their brand."""
    sets = load_brand_sets(folder)
    voices = {b.name: learn_voice([t.text for t in b.train], eval_dir=eval_dir, business=b.name) for b in sets}
    misses: list[str] = []

    def habits(text: str, _: int, brand: str) -> float:
        return voice_match(text, voices[brand]).score

    main: Scorer = habits
    figures = [_pairs("held-out texts, voice habits", sets, habits, misses=None if embed else misses)]
    if embed is not None:
        vectors = _unit(np.array(embed([t.text for b in sets for t in b.heldout])))
        exemplars = {name: _unit(np.array(embed(list(v.exemplars)))) for name, v in voices.items()}

        def cosine(_: str, row: int, brand: str) -> float:
            return float((exemplars[brand] @ vectors[row]).mean())

        def combined(text: str, row: int, brand: str) -> float:
            return voice_match(text, voices[brand], similarity=cosine(text, row, brand)).score

        main = combined
        figures.append(
            _pairs("held-out texts, habits + embeddings (the eval's criterion)", sets, combined, misses=misses)
        )
        figures.append(_pairs("held-out texts, embeddings alone", sets, cosine))
    figures.append(_leave_one_out(sets, eval_dir, voices))
    per_brand = {b.name: round(_pairs(b.name, sets, main, only=b.name).share, 3) for b in sets}
    return VoiceSetReport(brands=len(sets), figures=figures, per_brand=per_brand, misses=misses)
