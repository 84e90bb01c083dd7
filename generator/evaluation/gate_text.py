"""The gate's reading of a draft: its fields as text, their words as stems, and whether they read as language.

The on-brief checks (``generator.evaluation.gate``) and the fact checks (``gate_facts``) compare words, not
spellings, and judge each field by what its schema says it is (a label, a bullet or prose); those shared readings
live here so that every check reads a draft the same way.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import cache
from typing import Any

from generator.assets import ASSET_TYPES, Asset
from generator.evaluation.signals import LanguageLexicon, load_lexicon
from generator.settings import load_settings

_WORD = re.compile(r"[^\W\d_](?:[^\W\d_]|['\u2019-])*")
_JOINERS = {"or", "and", "the", "a", "an", "of", "to", "for"}
_LABEL = re.compile(r"\b((?:[A-Za-z]+ ){1,3}[A-Za-z]+)\s*:")
SENTENCE_FIELD_MIN_LENGTH = 150  # schema maxLength from which a field is prose, not a label or a keyword


@cache
def english() -> LanguageLexicon:
    """The default language's words (eval/signals.yaml), for a text whose language is not given."""
    return load_lexicon(load_settings().eval_dir)


def stem(word: str, lexicon: LanguageLexicon | None = None) -> str:
    """A crude stem from the language's endings, enough to match 'roasted' with 'roasting' and 'runners' with
    'runner' (or 'panes' with 'pan')."""
    word = word.lower().strip("'\u2019-")
    for suffix in (lexicon or english()).stem_suffixes:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def content_stems(
    text: str, generic: set[str] | frozenset[str] = frozenset(), lexicon: LanguageLexicon | None = None
) -> set[str]:
    """The stems of a text's meaningful words (no stop words, none of ``generic``): what it is about."""
    lexicon = lexicon or english()
    return {
        s
        for w in _WORD.findall(text)
        if len(w) > 2 and w.lower() not in lexicon.stop_words and (s := stem(w, lexicon)) not in generic
    }


def word_stems(text: str, lexicon: LanguageLexicon | None = None) -> set[str]:
    """The stems of every word, stop words included: a short name may be nothing but stop words."""
    return {stem(w, lexicon) for w in _WORD.findall(text)}


ECHO_RUN = 6  # words in a row shared with a prompt's instructions that make a field an echo of the prompt


def word_runs(text: str, n: int = ECHO_RUN) -> set[tuple[str, ...]]:
    """Every run of ``n`` words in a text (lower case, punctuation dropped)."""
    words = [w.lower() for w in _WORD.findall(text)]
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


LANGUAGE_FIELD_WORDS = 3  # fields of fewer words (a button, a name) say little about the language


def language_sample(fields: list[tuple[str, str, int]]) -> str:
    """The fields (``fields_of``) whose language can be told, joined as sentences: what the language check reads."""
    return ". ".join(value for _, value, _ in fields if len(value.split()) >= LANGUAGE_FIELD_WORDS)


def short(text: str, limit: int = 40) -> str:
    """A field's text on one line, cut to fit in a reason."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def fields_of(asset: Asset | None, text: str) -> list[tuple[str, str, int]]:
    """(field, text, length) for every string and list item written in words; list items are never prose (a bullet
    may be two words); a bare text is one prose field. A field chosen from a fixed set ("core offer") is left out.
    A typed part (one email of a sequence) gives its own fields: ``messages[2].subject``."""
    if asset is None:
        return [("text", text, 10_000)]
    return _fields(asset.model_dump(mode="json"), _properties(type(asset)), _definitions(type(asset)), "")


def _fields(
    data: dict[str, Any], schema: dict[str, Any], defs: dict[str, Any], prefix: str
) -> list[tuple[str, str, int]]:
    out: list[tuple[str, str, int]] = []
    for name, value in data.items():
        spec = schema.get(name, {})
        if "enum" in spec or "const" in spec:
            continue
        if isinstance(value, str):
            out.append((prefix + name, value, int(spec.get("maxLength", 0))))
        elif isinstance(value, list):
            item = spec.get("items", {})
            part = defs.get(str(item.get("$ref", "")).rsplit("/", 1)[-1], {}).get("properties")
            for i, v in enumerate(value, 1):
                if isinstance(v, dict):
                    out += _fields(v, part or {}, defs, f"{prefix}{name}[{i}].")
                else:
                    out.append(
                        (
                            f"{prefix}{name}[{i}]",
                            str(v),
                            min(int(item.get("maxLength", 0)), SENTENCE_FIELD_MIN_LENGTH - 1),
                        )
                    )
    return out


@cache
def _properties(asset_cls: type[Asset]) -> dict[str, Any]:
    """The asset type's JSON-schema properties (built once per type: every check and re-ask reads them)."""
    return asset_cls.model_json_schema()["properties"]


@cache
def _definitions(asset_cls: type[Asset]) -> dict[str, Any]:
    """The schemas of the asset type's typed parts (an email of a sequence), by name."""
    return asset_cls.model_json_schema().get("$defs", {})


def field_instructions(asset: Asset | None) -> dict[str, set[str]]:
    """Each field's own description, as words (a part's fields as ``messages.subject``): a small model writes the
    instruction instead of the copy."""
    return _instructions_of(type(asset)) if asset is not None else {}


@cache
def _instructions_of(asset_cls: type[Asset]) -> dict[str, set[str]]:
    """Built once per asset type: the descriptions never change while the program runs."""
    out = {
        name: content_stems(f"{spec.get('description', '')} {name.replace('_', ' ')}")
        for name, spec in _properties(asset_cls).items()
    }
    defs = _definitions(asset_cls)
    for name, spec in _properties(asset_cls).items():
        part = defs.get(str(spec.get("items", {}).get("$ref", "")).rsplit("/", 1)[-1], {})
        for inner, inner_spec in part.get("properties", {}).items():
            words = f"{inner_spec.get('description', '')} {inner.replace('_', ' ')}"
            out[f"{name}.{inner}"] = content_stems(words)
    return out


@cache
def _field_names() -> tuple[frozenset[str], frozenset[str]]:
    """Every asset field name (its parts' too) with its separators and joining words dropped: all, and those of two
    words or more."""
    names = {name for cls in ASSET_TYPES.values() for name in cls.model_fields}
    names |= {
        name
        for cls in ASSET_TYPES.values()
        for part in cls.model_json_schema().get("$defs", {}).values()
        for name in part.get("properties", {})
    }

    def glued(name: str) -> str:
        return "".join(w for w in name.split("_") if w not in _JOINERS)

    return frozenset(map(glued, names)), frozenset(glued(n) for n in names if "_" in n)


def field_name_written(value: str) -> str | None:
    """A field name a grammar-bound model wrote without its underscores ("timeCommitment", "bonus/surprise"):
    a value that is nothing but a field name, or a glued word that is a field name of two words or more."""
    names, compound = _field_names()
    words = [w.lower() for w in re.findall(r"[A-Za-z]+", value)]
    whole = "".join(w for w in words if w not in _JOINERS)
    if whole and whole in names and len(words) <= 4:
        return value.strip()
    for label in _LABEL.finditer(value):  # "... Whats Included: ..." inside a value: a field's name as a label
        words = label.group(1).split()
        for k in range(2, len(words) + 1):  # Title Case, as a model labels a field ("What to ask for:" is copy)
            tail = words[-k:]
            if (
                all(w[0].isupper() for w in tail)
                and "".join(w.lower() for w in tail if w.lower() not in _JOINERS) in compound
            ):
                return " ".join(words[-k:]) + ":"
    return next((token for token in re.findall(r"[A-Za-z]{6,}", value) if token.lower() in compound), None)


def not_language(value: str, *, prose: bool, lexicon: LanguageLexicon | None = None) -> str | None:
    """Why a field is not language, or None: no words, a repeated phrase, or (in prose) no sentence (too few of the
    language's function words)."""
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
        lexicon = lexicon or english()
        if len(lowered) >= 10 and sum(w in lexicon.stop_words for w in lowered) < lexicon.min_function_share * len(
            lowered
        ):
            return "is a string of words, not sentences"
    return None
