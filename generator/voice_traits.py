"""How a piece of copy sounds, measured: sentence length, reading grade, person and address, contractions,
punctuation and emoji habits, and the words it leans on. The traits are plain numbers a copywriter can read
("11 words a sentence, 4 contractions per 100 words"), so a voice learned from them can be explained and
compared without a model.

``LearnedVoice`` (the profile's optional ``voice`` section) lives here, below the profile, so a profile can
hold one; learning and comparing voices is ``generator.voice``'s job.
"""

from __future__ import annotations

import re
import statistics
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from generator.validation import no_control_characters

_WORD = re.compile(r"[A-Za-z][A-Za-z']*")
_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+|\n|$)")
_NEGATION = re.compile(r"n't\b", re.I)
_SUFFIX = re.compile(r"\b[a-z]+'(?:re|ve|ll|d|m)\b", re.I)
# 's is a contraction after these (it's, that's, let's); after a name it is a possessive (Pip's).
_IS_AFTER = re.compile(
    r"\b(?:it|that|what|there|here|let|he|she|who|where|how|when|everyone|nobody|everything|nothing|today|"
    r"this)'s\b",
    re.I,
)
_EMOJI = re.compile(
    "[\U0001f300-\U0001faff\U0001f000-\U0001f2ff\u2600-\u27bf\u2b00-\u2bff\u2300-\u23ff]",
)
_DASH = re.compile(r"[\u2014\u2013]| - ")
_ELLIPSIS = re.compile(r"\.\.\.|\u2026")
_FIGURE = re.compile(r"\d+(?:[.,:]\d+)?")
_WE = {"we", "us", "our", "ours", "ourselves", "we're", "we've", "we'll", "we'd"}
_I = {"i", "me", "my", "mine", "myself", "i'm", "i've", "i'll", "i'd"}
_YOU = {"you", "your", "yours", "yourself", "yourselves", "you're", "you've", "you'll", "you'd", "y'all"}

VoiceText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000), AfterValidator(no_control_characters)
]
VoiceWord = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80), AfterValidator(no_control_characters)
]


class VoiceTraits(BaseModel):
    """One text's (or a voice's average) measurable habits. Rates are per 100 words unless named per sentence."""

    model_config = ConfigDict(extra="forbid")

    sentence_words: float = Field(ge=0, description="Words per sentence")
    sentence_spread: float = Field(ge=0, description="How much sentence length varies (standard deviation)")
    reading_grade: float = Field(description="Flesch-Kincaid grade")
    word_length: float = Field(ge=0, description="Letters per word")
    we: float = Field(ge=0, description="'we/us/our' per 100 words")
    i: float = Field(ge=0, description="'I/me/my' per 100 words")
    you: float = Field(ge=0, description="'you/your' per 100 words")
    contractions: float = Field(ge=0, description="Contractions per 100 words")
    exclamations: float = Field(ge=0, description="Exclamation marks per sentence")
    questions: float = Field(ge=0, description="Questions per sentence")
    emoji: float = Field(ge=0, description="Emoji per 100 words")
    lowercase_starts: float = Field(ge=0, le=1, description="Share of sentences that start in lower case")
    dashes: float = Field(ge=0, description="Dashes per 100 words")
    ellipses: float = Field(ge=0, description="Ellipses per 100 words")
    semicolons: float = Field(ge=0, description="Semicolons per 100 words")
    figures: float = Field(ge=0, description="Numbers written as figures per 100 words")


TRAIT_NAMES: tuple[str, ...] = tuple(VoiceTraits.model_fields)


class LearnedVoice(BaseModel):
    """A brand's voice learned from its own copy: the measured habits, a description, and a few exemplars.

    The exemplars are style references for drafts (how the brand sounds), never content to reuse."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    description: VoiceText
    samples: int = Field(ge=1, le=1000, description="How many texts it was learned from")
    traits: VoiceTraits = Field(description="The samples' average habits")
    spread: VoiceTraits = Field(description="How much each habit varies between the samples (standard deviation)")
    signature_words: list[VoiceWord] = Field(default_factory=list, max_length=20)
    signature_phrases: list[VoiceWord] = Field(default_factory=list, max_length=20)
    never_uses: list[VoiceWord] = Field(
        default_factory=list, max_length=200, description="Marketing cliches none of the samples uses"
    )
    exemplars: list[VoiceText] = Field(min_length=1, max_length=3)


def words_of(text: str) -> list[str]:
    """The words, lower case, with curly apostrophes made straight."""
    return [w.strip("'").lower() for w in _WORD.findall(text.replace("\u2019", "'")) if w.strip("'")]


def sentences_of(text: str) -> list[str]:
    """Sentences, with a line break ending one too (posts and lists break lines instead of using full stops)."""
    found = (s.strip() for s in _SENTENCE.findall(text.replace("\u2019", "'")))
    return [s for s in found if _WORD.search(s)]


def _syllables(word: str) -> int:
    groups = re.findall(r"[aeiouy]+", word.lower())
    count = len(groups) - (1 if word.lower().endswith("e") and len(groups) > 1 else 0)
    return max(1, count)


def reading_grade(text: str) -> float:
    """Flesch-Kincaid grade level (a rough but standard readability measure)."""
    words = re.findall(r"[A-Za-z']+", text)
    sentences = max(1, len(re.findall(r"[.!?]+(?:\s|$)", text)))
    if not words:
        return 0.0
    syllables = sum(_syllables(w) for w in words)
    return 0.39 * len(words) / sentences + 11.8 * syllables / len(words) - 15.59


def contraction_count(text: str) -> int:
    text = text.replace("\u2019", "'")
    return len(_NEGATION.findall(text)) + len(_SUFFIX.findall(text)) + len(_IS_AFTER.findall(text))


def measure_traits(text: str) -> VoiceTraits:
    """The habits of one text (an empty text measures as zeros)."""
    words = words_of(text)
    if not words:
        return VoiceTraits.model_validate(dict.fromkeys(TRAIT_NAMES, 0.0))
    sentences = sentences_of(text)
    lengths = [len(words_of(s)) for s in sentences] or [0]
    per_100 = 100 / max(1, len(words))
    per_sentence = 1 / max(1, len(sentences))
    firsts = [next(c for c in s if c.isalpha()) for s in sentences]
    return VoiceTraits(
        sentence_words=round(statistics.fmean(lengths), 2),
        sentence_spread=round(statistics.pstdev(lengths), 2),
        reading_grade=round(reading_grade(text), 2),
        word_length=round(statistics.fmean(len(w.replace("'", "")) for w in words), 2),
        we=round(sum(w in _WE for w in words) * per_100, 2),
        i=round(sum(w in _I for w in words) * per_100, 2),
        you=round(sum(w in _YOU for w in words) * per_100, 2),
        contractions=round(contraction_count(text) * per_100, 2),
        exclamations=round(sum(s.count("!") > 0 for s in sentences) * per_sentence, 3),
        questions=round(sum("?" in s for s in sentences) * per_sentence, 3),
        emoji=round(len(_EMOJI.findall(text)) * per_100, 2),
        lowercase_starts=round(sum(c.islower() for c in firsts) * per_sentence, 3),
        dashes=round(len(_DASH.findall(text)) * per_100, 2),
        ellipses=round(len(_ELLIPSIS.findall(text)) * per_100, 2),
        semicolons=round(text.count(";") * per_100, 2),
        figures=round(len(_FIGURE.findall(text)) * per_100, 2),
    )


def average_traits(measured: list[VoiceTraits]) -> tuple[VoiceTraits, VoiceTraits]:
    """The mean and the standard deviation of each habit over several texts."""
    columns = {name: [getattr(t, name) for t in measured] for name in TRAIT_NAMES}
    mean = {name: round(statistics.fmean(values), 3) for name, values in columns.items()}
    spread = {name: round(statistics.pstdev(values), 3) for name, values in columns.items()}
    return VoiceTraits.model_validate(mean), VoiceTraits.model_validate(spread)


def phrase_in(phrase: str, words: list[str]) -> bool:
    """Whether the words contain the phrase's words in a row."""
    wanted = words_of(phrase)
    n = len(wanted)
    return bool(n) and any(words[i : i + n] == wanted for i in range(len(words) - n + 1))
