"""A voice's habits in a copywriter's words: the description written into the profile, and what a draft does
differently ("sentences twice as long as yours", "no contractions; you use them")."""

from __future__ import annotations

from generator.voice_traits import VoiceTraits

NOTABLE_Z = 1.5  # a habit this many spreads away from the samples' is worth saying
SHOWN = 4
Z_SHOWN = 2.0  # past this many spreads every difference is glaring: then what a reader notices first goes first
SALIENCE = (
    "sentence_words", "contractions", "emoji", "exclamations", "i", "we", "you", "reading_grade", "questions",
    "lowercase_starts", "dashes", "ellipses", "semicolons", "figures", "word_length", "sentence_spread",
)  # fmt: skip
# Habits counted per 100 words or per sentence: (what it is, what "none" means, the unit shown, "rarely" below).
COUNTED: dict[str, tuple[str, str, float]] = {
    "contractions": ("contractions", "per 100 words", 0.5),
    "exclamations": ("exclamation marks", "of sentences", 0.05),
    "questions": ("questions", "of sentences", 0.05),
    "emoji": ("emoji", "per 100 words", 0.2),
    "dashes": ("dashes", "per 100 words", 0.3),
    "ellipses": ("ellipses", "per 100 words", 0.15),
    "semicolons": ("semicolons", "per 100 words", 0.15),
    "figures": ("figures", "per 100 words", 0.5),
}
PERSONS = {"we": "'we'", "i": "'I'", "you": "'you'"}


def _times(ratio: float) -> str:
    if ratio >= 2.6:
        return f"{ratio:.0f} times as"
    if ratio >= 1.8:
        return "twice as"
    if ratio >= 1.3:
        return f"{ratio:.1f} times as"
    if ratio <= 0.4:
        return "a third as"
    return "half as" if ratio <= 0.6 else f"{ratio:.1f} times as"


def _amount(name: str, value: float) -> str:
    unit = COUNTED[name][1]
    return f"{value:.0%} {unit}" if unit == "of sentences" else f"{value:.1f} {unit}"


def _one(name: str, draft: float, brand: float, z: float) -> str:
    """One difference, said plainly."""
    if name == "sentence_words":
        return f"sentences {_times(draft / max(brand, 1.0))} long as yours ({draft:.0f} words vs {brand:.0f})"
    if name == "sentence_spread":
        return "sentence lengths more varied than yours" if z > 0 else "sentence lengths more even than yours"
    if name == "reading_grade":
        harder = "harder to read" if z > 0 else "simpler"
        return f"{harder} than yours (grade {draft:.0f} vs {brand:.0f})"
    if name == "word_length":
        return "longer words than yours" if z > 0 else "shorter words than yours"
    if name == "lowercase_starts":
        return "sentences start in lower case; yours do not" if z > 0 else "capitalised sentences; yours often are not"
    if name in PERSONS:
        who = PERSONS[name]
        if brand < 0.3:
            return f"says {who}; you never do"
        if draft < 0.3:
            return f"never says {who}; you do ({brand:.1f} per 100 words)"
        return f"{'more' if z > 0 else 'less'} {who} than yours ({draft:.1f} vs {brand:.1f} per 100 words)"
    what, _, rare = COUNTED[name]
    if brand < rare and draft >= rare:
        return f"{what}; you {'never' if brand == 0 else 'rarely'} use them"
    if draft < rare <= brand:
        return f"{'no' if draft == 0 else 'few'} {what}; you use them ({_amount(name, brand)})"
    return f"{'more' if z > 0 else 'fewer'} {what} than yours ({_amount(name, draft)} vs {_amount(name, brand)})"


def differences(draft: VoiceTraits, brand: VoiceTraits, zs: dict[str, float]) -> list[str]:
    """The habits furthest from the samples', furthest first, each in words."""

    def glaring(name: str) -> float:
        """How much it shows: capped, and a habit one side has and the other never shows at once."""
        d, b = getattr(draft, name), getattr(brand, name)
        rare = COUNTED[name][2] if name in COUNTED else 0.3 if name in PERSONS else None
        if rare is not None and ((d == 0 and b >= 2 * rare) or (b < rare / 2 and d >= 2 * rare)):
            return Z_SHOWN
        return min(abs(zs[name]), Z_SHOWN)

    notable = sorted((n for n, z in zs.items() if abs(z) >= NOTABLE_Z), key=lambda n: (-glaring(n), SALIENCE.index(n)))
    return [_one(n, getattr(draft, n), getattr(brand, n), zs[n]) for n in notable[:SHOWN]]


def _length(t: VoiceTraits) -> str:
    words = t.sentence_words
    kind = (
        "Short, punchy" if words < 9 else "Medium-length" if words < 15 else "Long" if words < 22 else "Long, flowing"
    )
    grade = t.reading_grade
    ease = "very easy" if grade < 6 else "easy" if grade < 9 else "fairly demanding" if grade < 12 else "demanding"
    return f"{kind} sentences (about {words:.0f} words), {ease} to read (grade {grade:.0f})."


def _person(t: VoiceTraits) -> str:
    speaker = (
        "Writes as 'I'" if t.i >= max(1.5, t.we) else "Writes as 'we'" if t.we >= 1.5 else "Rarely speaks of itself"
    )
    if t.you >= 3:
        return f"{speaker} and talks straight to 'you'."
    return f"{speaker}; {'addresses the reader now and then' if t.you >= 1 else 'seldom addresses the reader'}."


def _habits(t: VoiceTraits) -> str:
    found = [
        "uses contractions freely" if t.contractions >= 2
        else "the odd contraction" if t.contractions >= 0.5 else "no contractions",
        f"exclamation marks often (about 1 sentence in {round(1 / t.exclamations)})" if t.exclamations >= 0.25
        else "an occasional exclamation mark" if t.exclamations >= 0.05 else "no exclamation marks",
        "emoji regularly" if t.emoji >= 0.8 else "the odd emoji" if t.emoji >= 0.2 else "no emoji",
    ]  # fmt: skip
    if t.questions >= 0.15:
        found.append("asks the reader questions")
    if t.dashes >= 1:
        found.append("strings clauses together with dashes")
    if t.ellipses >= 0.3:
        found.append("trails off with ellipses")
    if t.semicolons >= 0.3:
        found.append("uses semicolons")
    if t.figures >= 4:
        found.append("leans on figures")
    if t.lowercase_starts >= 0.3:
        found.append("often starts sentences in lower case")
    return found[0][0].upper() + "; ".join(found)[1:] + "."


def describe(t: VoiceTraits, words: list[str], phrases: list[str]) -> str:
    """The voice in three or four sentences, from its measured habits alone."""
    parts = [_length(t), _person(t), _habits(t)]
    signature = [f"'{p}'" for p in phrases[:3]] + [f"'{w}'" for w in words[:5]]
    if signature:
        parts.append(f"Words it comes back to: {', '.join(signature)}.")
    return " ".join(parts)
