"""The language a business writes in: a BCP 47 tag ("en", "es", "pt-BR"), checked and named.

The tag is checked for its shape (a 2-3 letter language, then subtags such as a script or a region) and written
in its usual case ("pt-br" -> "pt-BR"). Its name is what a prompt tells the model to write in.
"""

from __future__ import annotations

import re

DEFAULT_LANGUAGE = "en"
_TAG = re.compile(
    r"^[A-Za-z]{2,3}(?:-[A-Za-z]{4})?(?:-(?:[A-Za-z]{2}|\d{3}))?(?:-[A-Za-z0-9]{5,8}|-\d[A-Za-z0-9]{3})*$"
)
NAMES = {
    "ar": "Arabic", "ca": "Catalan", "cs": "Czech", "da": "Danish", "de": "German", "el": "Greek", "en": "English",
    "es": "Spanish", "fi": "Finnish", "fr": "French", "he": "Hebrew", "hi": "Hindi", "hu": "Hungarian",
    "id": "Indonesian", "it": "Italian", "ja": "Japanese", "ko": "Korean", "nb": "Norwegian Bokmål",
    "nl": "Dutch", "no": "Norwegian", "pl": "Polish", "pt": "Portuguese", "ro": "Romanian", "ru": "Russian",
    "sv": "Swedish", "th": "Thai", "tr": "Turkish", "uk": "Ukrainian", "vi": "Vietnamese", "zh": "Chinese",
}  # fmt: skip


def normalise_tag(value: str) -> str:
    """A BCP 47 tag in its usual case ('PT-br' -> 'pt-BR', 'zh-hant' -> 'zh-Hant'), or ValueError saying why not."""
    tag = value.strip().replace("_", "-")
    if not _TAG.match(tag):
        raise ValueError(f"'{value}' is not a BCP 47 language tag: use one like en, es, de, pt-BR or zh-Hant")
    parts = tag.split("-")
    out = [parts[0].lower()]
    for part in parts[1:]:
        out.append(part.title() if len(part) == 4 and part.isalpha() else part.upper() if len(part) == 2 else part)
    return "-".join(out)


def language_name(tag: str) -> str:
    """'es' -> 'Spanish', 'pt-BR' -> 'Portuguese (pt-BR)'; a language not listed is named by its tag."""
    base = tag.split("-")[0].lower()
    name = NAMES.get(base)
    if name is None:
        return f"the language tagged {tag}"
    return name if tag == base else f"{name} ({tag})"
