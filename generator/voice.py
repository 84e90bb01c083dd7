"""A brand's voice, learned from its own copy, and how close another text sounds to it.

``learn_voice`` measures 3-20 samples (``voice_traits``), describes the voice in plain words, picks two or three
exemplar passages that cover its range, and notes the common marketing cliches (``eval/cliches.yaml``) the
brand never uses. ``voice_match`` scores a text against a learned voice and says what differs, in a copywriter's
words ("sentences twice as long as yours", "no contractions; you use them"). Nothing here calls a model: the
same samples always give the same voice.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from functools import cache
from pathlib import Path

import yaml
from pydantic import BaseModel, Field

from generator.errors import DocumentError
from generator.voice_traits import (
    TRAIT_NAMES,
    LearnedVoice,
    VoiceTraits,
    average_traits,
    measure_traits,
    phrase_in,
    words_of,
)
from generator.voice_words import describe, differences

MIN_SAMPLES, MAX_SAMPLES = 3, 20
MIN_SAMPLE_WORDS = 12
MAX_SAMPLE_CHARS = 20_000
EXEMPLAR_WORDS = 70  # a passage long enough to hear the voice, short enough to stay a style reference in a prompt
CLICHES_FILE = "cliches.yaml"  # in eval/ itself, so an installed wheel ships it with the other eval lists
# How far apart two texts of one brand usually are on each habit, whatever the brand: a floor under the samples'
# own spread, so three near-identical samples do not make every new text sound foreign. Set by hand, then checked
# leave-one-out on the training texts of eval/voice/brands/ (never on the held-out ones).
TYPICAL_SPREAD: dict[str, float] = {
    "sentence_words": 3.0,
    "sentence_spread": 3.0,
    "reading_grade": 1.5,
    "word_length": 0.25,
    "we": 1.5,
    "i": 1.5,
    "you": 2.0,
    "contractions": 1.0,
    "exclamations": 0.1,
    "questions": 0.1,
    "emoji": 0.6,
    "lowercase_starts": 0.1,
    "dashes": 0.6,
    "ellipses": 0.3,
    "semicolons": 0.3,
    "figures": 1.5,
}
Z_CAP = 3.0  # one habit can count for at most this many spreads: a single odd trait does not decide alone
# Distance -> score: a logistic around the line between a brand's own texts and others'. Leave-one-out on the training
# texts, a brand's own texts sit at a median distance of 0.75 (90% under 1.18), other brands' at 1.58 (90% over
# 1.19): own texts score about 0.8, others' about 0.15.
MIDPOINT, STEEPNESS = 1.15, 4.0
CLICHE_PENALTY = 0.1
COPIED_WORDS, COPY_PENALTY = 8, 0.3  # eight words in a row from an exemplar is reuse, not style
# The embedding says "reads like these texts" (topic as much as style), so it only tops up the habits' score.
EMBEDDING_WEIGHT = 0.2
SIMILARITY_FLOOR, SIMILARITY_SPAN = 0.05, 0.35
# Function words: never a brand's signature.
_STOP = frozenset((
    "the", "a", "an", "and", "or", "but", "so", "if", "of", "to", "in", "on", "at", "for", "with", "from", "by",
    "as", "is", "are", "was", "were", "be", "been", "being", "it", "its", "this", "that", "these", "those", "there",
    "here", "then", "than", "too", "very", "just", "not", "no", "yes", "all", "any", "each", "every", "some",
    "more", "most", "much", "many", "few", "one", "two", "three", "what", "which", "who", "whom", "whose", "when",
    "where", "why", "how", "can", "could", "would", "should", "will", "shall", "may", "might", "must", "do", "does",
    "did", "done", "have", "has", "had", "having", "get", "got", "i", "me", "my", "we", "us", "our", "you", "your",
    "he", "she", "they", "them", "their", "his", "her", "about", "into", "over", "under", "after", "before",
    "again", "also", "only", "own", "same", "such", "up", "down", "out", "off", "once", "both", "while", "because",
    "until", "through", "during", "above", "below", "between", "other", "let", "let's", "it's", "i'm", "i've",
    "i'd", "i'll", "we're", "we've", "we'll", "we'd", "you're", "you've", "you'll", "you'd", "don't", "doesn't",
    "didn't", "isn't", "aren't", "wasn't", "weren't", "won't", "can't", "couldn't", "wouldn't", "that's", "there's",
    "here's", "what's"
))  # fmt: skip
_SENTENCE_END = re.compile(r"[^.!?\n]+(?:[.!?]+[^\w\s]*|\n|$)")
_CLAUSE = re.compile(r"[,.;:!?()\n\u2014\u2013\"]+| - ")
_LEADING = {"the", "a", "an", "and", "or", "of", "to", "in", "on", "at", "for", "with", "is", "are", "it", "that"}


class VoiceMatch(BaseModel):
    """How close a text sounds to a learned voice, and what differs."""

    score: float = Field(ge=0, le=1, description="1: sounds just like the samples; near 0: a different voice")
    distance: float = Field(ge=0, description="Typical distance per habit, in the samples' own spreads")
    differences: list[str] = Field(default_factory=list, description="What differs most, in plain words")
    cliches: list[str] = Field(default_factory=list, description="Cliches the text uses that the brand never does")
    traits: VoiceTraits

    def reason(self, limit: int = 3) -> str:
        return "; ".join(self.differences[:limit]) or "sounds like your samples"


@cache
def load_cliches(eval_dir: Path) -> tuple[str, ...]:
    """The cliche list marketers edit (``eval/cliches.yaml``)."""
    path = eval_dir / CLICHES_FILE
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DocumentError(f"{path} is missing: the list of marketing cliches lives there.") from None
    except yaml.YAMLError as exc:
        raise DocumentError(f"{path} is not valid YAML: {exc}") from None
    items = data.get("cliches") if isinstance(data, dict) else None
    if not isinstance(items, list) or not all(isinstance(i, str) and i.strip() for i in items):
        raise DocumentError(f"{path} must hold `cliches:`, a list of words or phrases.")
    return tuple(dict.fromkeys(i.strip().lower() for i in items))


def _checked(texts: list[str]) -> list[str]:
    samples = [t.strip() for t in texts if t and t.strip()]
    if not MIN_SAMPLES <= len(samples) <= MAX_SAMPLES:
        raise DocumentError(
            f"A voice is learned from {MIN_SAMPLES} to {MAX_SAMPLES} pieces of the business's own copy; "
            f"got {len(samples)}. Give posts, emails or pages it has written (not the same text twice)."
        )
    for number, sample in enumerate(samples, 1):
        if len(sample) > MAX_SAMPLE_CHARS:
            raise DocumentError(
                f"Sample {number} is {len(sample):,} characters, more than {MAX_SAMPLE_CHARS:,}; give a few "
                "representative pages rather than a whole site."
            )
        if len(words_of(sample)) < MIN_SAMPLE_WORDS:
            raise DocumentError(
                f"Sample {number} has fewer than {MIN_SAMPLE_WORDS} words; a voice needs whole sentences to learn from."
            )
    if len(set(samples)) < len(samples):
        raise DocumentError("Two samples are the same text; give different pieces of copy.")
    return samples


def _signature(samples: list[str], exclude: set[str]) -> tuple[list[str], list[str]]:
    """Words and two-word phrases that recur across the samples (in a third of them, two at least)."""
    needed = max(2, math.ceil(len(samples) / 3))
    word_docs: Counter[str] = Counter()
    phrase_docs: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    for sample in samples:
        words = words_of(sample)
        content = [w for w in words if w not in _STOP and "'" not in w and len(w) > 2 and w not in exclude]
        totals.update(content)
        word_docs.update(set(content))
        pairs = {
            (a, b)
            for clause in _CLAUSE.split(sample)
            for a, b in itertools.pairwise(words_of(clause))
            if a not in _LEADING and b not in _LEADING and not {a, b} <= _STOP and not {a, b} & exclude
        }
        phrase_docs.update(f"{a} {b}" for a, b in pairs)
    ranked = sorted((w for w, n in word_docs.items() if n >= needed), key=lambda w: (-word_docs[w], -totals[w], w))
    words = [w for w in ranked if not (w.endswith("s") and w[:-1] in ranked)]  # 'plant', not 'plant' and 'plants'
    phrases = sorted((p for p, n in phrase_docs.items() if n >= needed), key=lambda p: (-phrase_docs[p], p))
    return words[:12], phrases[:8]


def _passages(sample: str) -> list[str]:
    """Paragraphs of a sample, each cut at a sentence end near EXEMPLAR_WORDS words (an emoji after the last
    full stop stays: it is part of the voice)."""
    found = []
    for paragraph in re.split(r"\n\s*\n", sample):
        end = 0
        for sentence in _SENTENCE_END.finditer(paragraph):
            if end and len(words_of(paragraph[: sentence.end()])) > EXEMPLAR_WORDS:
                break
            end = sentence.end()
        passage = " ".join(paragraph[:end].split())
        if len(words_of(passage)) >= MIN_SAMPLE_WORDS:
            found.append(passage)
    return found


def trait_distance(traits: VoiceTraits, mean: VoiceTraits, spread: VoiceTraits) -> tuple[float, dict[str, float]]:
    """Root mean square of each habit's difference in spreads (each capped at Z_CAP), and each habit's signed z."""
    zs: dict[str, float] = {}
    for name in TRAIT_NAMES:
        scale = math.hypot(getattr(spread, name), TYPICAL_SPREAD[name])
        zs[name] = (getattr(traits, name) - getattr(mean, name)) / scale
    return math.sqrt(sum(min(Z_CAP, abs(z)) ** 2 for z in zs.values()) / len(zs)), zs


def _exemplars(samples: list[str], mean: VoiceTraits, spread: VoiceTraits) -> list[str]:
    """Two or three passages: the most typical first, then those most unlike the ones chosen (the range)."""
    passages = list(dict.fromkeys(p for s in samples for p in _passages(s))) or [samples[0][:1500]]
    measured = {p: measure_traits(p) for p in passages}
    typical = sorted(passages, key=lambda p: trait_distance(measured[p], mean, spread)[0])
    usual = typical[: max(3, math.ceil(len(typical) * 0.75))]  # outliers are not the voice
    chosen = [usual[0]]
    wanted = 3 if len(samples) >= 4 else 2
    while len(chosen) < min(wanted, len(usual)):
        rest = [p for p in usual if p not in chosen]

        def apart(p: str) -> float:
            return min(trait_distance(measured[p], measured[c], spread)[0] for c in chosen)

        chosen.append(max(rest, key=apart))
    return [c[:2000] for c in chosen]


def learn_voice(texts: list[str], *, eval_dir: Path, business: str | None = None) -> LearnedVoice:
    """A voice from 3-20 of the business's own texts (``business``: its name, left out of the signature words)."""
    samples = _checked(texts)
    mean, spread = average_traits([measure_traits(s) for s in samples])
    exclude = set(words_of(business or ""))
    words, phrases = _signature(samples, exclude)
    all_words = [words_of(s) for s in samples]
    never = [c for c in load_cliches(eval_dir) if not any(phrase_in(c, w) for w in all_words)]
    return LearnedVoice(
        description=describe(mean, words, phrases),
        samples=len(samples),
        traits=mean,
        spread=spread,
        signature_words=words,
        signature_phrases=phrases,
        never_uses=never,
        exemplars=_exemplars(samples, mean, spread),
    )


def similarity_score(cosine: float) -> float:
    """An embedding's mean cosine with the exemplars, as a score: another brand's text sits near 0.1, one of the
    brand's own near 0.35 (the local MiniLM, leave-one-out on the training texts of eval/voice/brands/)."""
    return max(0.0, min(1.0, (cosine - SIMILARITY_FLOOR) / SIMILARITY_SPAN))


def copied_run(words: list[str], exemplars: list[str]) -> str | None:
    """The first COPIED_WORDS-word run of ``words`` that also appears in an exemplar, if any."""
    n = COPIED_WORDS
    runs = {tuple(w[i : i + n]) for w in map(words_of, exemplars) for i in range(len(w) - n + 1)}
    return next(
        (" ".join(words[i : i + n]) for i in range(len(words) - n + 1) if tuple(words[i : i + n]) in runs), None
    )


def voice_match(text: str, voice: LearnedVoice, *, similarity: float | None = None) -> VoiceMatch:
    """How close ``text`` sounds to ``voice``: its habits against the samples', the cliches the brand avoids and,
    when the caller has embeddings, ``similarity`` (the text's mean cosine with the exemplars)."""
    traits = measure_traits(text)
    distance, zs = trait_distance(traits, voice.traits, voice.spread)
    words = words_of(text)
    cliches = [c for c in voice.never_uses if phrase_in(c, words)]
    score = 1 / (1 + math.exp(STEEPNESS * (distance - MIDPOINT)))
    found = differences(traits, voice.traits, zs)
    if similarity is not None:
        alike = similarity_score(similarity)
        score = (1 - EMBEDDING_WEIGHT) * score + EMBEDDING_WEIGHT * alike
        if alike < 0.3:
            found.append(f"reads unlike your samples overall (similarity {similarity:.2f})")
    score -= CLICHE_PENALTY * len(cliches)
    if cliches:
        found.append(f"uses {', '.join(repr(c) for c in cliches[:3])}, which you never use")
    copied = copied_run(words, voice.exemplars)
    if copied:
        score -= COPY_PENALTY
        found.insert(0, f"repeats your sample word for word ('{copied}'): the samples are for style, not content")
    return VoiceMatch(
        score=round(max(0.0, min(1.0, score)), 4),
        distance=round(distance, 3),
        differences=found,
        cliches=cliches,
        traits=traits,
    )
