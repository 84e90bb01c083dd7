"""Reading ease as a school grade, by the formula made for the text's language.

English uses Flesch-Kincaid's grade. Spanish uses Fernández Huerta's ease (Flesch's formula refitted to Spanish),
turned into a grade with Flesch's own table (90-100 reads at 5th grade ... 0-30 at graduate level), so that one
rubric threshold ("grade 10 or lower") means the same in both.
"""

from __future__ import annotations

import re
from typing import Literal

import numpy as np

from generator.voice_traits import reading_grade as flesch_kincaid_grade

Readability = Literal["flesch_kincaid", "fernandez_huerta"]
_WORD = re.compile(r"[^\W\d_]+")
_SENTENCE_END = re.compile(r"[.!?¡¿]+(?:\s|$)")
_VOWELS = re.compile(r"[aeiouáéíóúü]+")
_HIATUS = re.compile(r"(?=[aeoáéó][aeoáéó]|[íú][aeo]|[aeo][íú])")  # two vowels that are two syllables
# Flesch's table, ease -> grade, at the middle of each band (ease ascending for np.interp).
_EASE = [15.0, 40.0, 55.0, 65.0, 75.0, 85.0, 95.0]
_GRADE = [17.0, 14.0, 11.0, 8.5, 7.0, 6.0, 5.0]


def spanish_syllables(word: str) -> int:
    """Vowel groups, with a strong-strong pair or an accented weak vowel next to a strong one split in two."""
    word = word.lower()
    groups = _VOWELS.findall(word)
    return max(1, len(groups) + sum(len(_HIATUS.findall(g)) for g in groups))


def fernandez_huerta(text: str) -> float:
    """Fernández Huerta's ease: 206.84 - 0.60 x syllables per 100 words - 1.02 x sentences per 100 words."""
    words = _WORD.findall(text)
    if not words:
        return 100.0
    sentences = max(1, len(_SENTENCE_END.findall(text)))
    per_100 = 100 / len(words)
    return 206.84 - 0.60 * sum(map(spanish_syllables, words)) * per_100 - 1.02 * sentences * per_100


def reading_grade(text: str, formula: Readability = "flesch_kincaid") -> float:
    if formula == "fernandez_huerta":
        return float(np.interp(fernandez_huerta(text), _EASE, _GRADE))
    return flesch_kincaid_grade(text)
