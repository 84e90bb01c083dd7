"""Which language a text is written in: py3langid's naive Bayes model (shipped in the package, offline),
restricted to the languages we name (generator.language.NAMES) so that a short Spanish text is not read as
Aragonese or Extremaduran.

Short texts are too little to tell: below ``MIN_WORDS`` the answer is None rather than a guess.
"""

from __future__ import annotations

import re
import threading
from functools import cache

from py3langid.langid import MODEL_FILE, LanguageIdentifier
from pydantic import BaseModel

from generator.language import NAMES

MIN_WORDS = 8  # fewer words than this read as too little to tell a language (a button, a headline)
_WORD = re.compile(r"[^\W\d_]{2,}")
_LOCK = threading.Lock()


class Detected(BaseModel):
    """The likeliest language (a base tag, "es") and how sure the model is; ``expected``: its probability for the
    language the text should be in, when one was given."""

    language: str
    probability: float
    words: int
    expected: float | None = None


@cache
def _identifier() -> LanguageIdentifier:
    """Loaded once (~1 s); normalised probabilities so they read as confidences."""
    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(sorted(set(NAMES) & set(identifier.nb_classes)))
    return identifier


def detect(text: str, expected: str | None = None) -> Detected | None:
    """The language of ``text``, or None when it has fewer than MIN_WORDS words."""
    words = len(_WORD.findall(text))
    if words < MIN_WORDS:
        return None
    with _LOCK:  # set_languages at load mutates the model; ranking itself only reads it
        ranked = _identifier().rank(text)
    probabilities = {str(lang): float(p) for lang, p in ranked}
    best = max(probabilities, key=probabilities.__getitem__)
    base = expected.split("-")[0].lower() if expected else None
    return Detected(
        language=best,
        probability=round(probabilities[best], 4),
        words=words,
        expected=round(probabilities.get(base, 0.0), 4) if base else None,
    )
