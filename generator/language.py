"""The language a business writes in: a BCP 47 tag ("en", "es", "pt-BR"), checked and named.

The tag is checked for its shape (a 2-3 letter language, then subtags such as a script or a region) and written
in its usual case ("pt-br" -> "pt-BR"). Its name is what a prompt tells the model to write in. How the language
writes a number ("9,90" or "9.90") decides how the eval reads the prices and figures in its copy.
"""

from __future__ import annotations

import re
import unicodedata

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
# Languages whose numbers read 1.200,50 (a decimal comma; a point or a space groups the thousands), as CLDR writes
# them; English and the rest write 1,200.50. A region listed below writes the English way whatever its language.
DECIMAL_COMMA = frozenset({
    "af", "az", "be", "bg", "bs", "ca", "cs", "da", "de", "el", "es", "et", "eu", "fi", "fo", "fr", "gl", "hr", "hu",
    "hy", "id", "is", "it", "ka", "kk", "ky", "lt", "lv", "mk", "mn", "nb", "nl", "nn", "no", "pl", "pt", "ro", "ru",
    "sk", "sl", "sq", "sr", "sv", "tr", "uk", "uz", "vi",
})  # fmt: skip
DECIMAL_POINT_REGIONS = frozenset({
    "de-CH", "de-LI", "it-CH", "es-419", "es-DO", "es-GT", "es-HN", "es-MX", "es-NI", "es-PA", "es-PE", "es-PR",
    "es-SV", "es-US",
})  # fmt: skip
_GROUPED = re.compile(r"\d{1,3}(?:([.,\s])\d{3})(?:\1\d{3})*")  # 1.200, 1 200 000: thousands in threes


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


def decimal_comma(tag: str) -> bool:
    """Whether a language writes nine and a half as 9,5 (es, de, fr, pt-BR), not as 9.5 (en, es-MX, de-CH)."""
    parts = tag.replace("_", "-").split("-")
    base = parts[0].lower()
    regions = {f"{base}-{p.upper()}" for p in parts[1:] if len(p) == 2 or p.isdigit()}
    return base in DECIMAL_COMMA and not regions & DECIMAL_POINT_REGIONS


def comma_number(raw: str) -> float | None:
    """A number as a decimal-comma language writes it: '1.200,50' and '1 200,50' -> 1200.5, '9,90' -> 9.9,
    '1.500' -> 1500. Typed the English way, it still reads: '9.90' -> 9.9, '1,200.50' -> 1200.5. None: no number."""
    text = raw.strip().rstrip(".,")
    if "," in text and "." in text:  # both: the last one marks the decimals
        point = text.rfind(".") > text.rfind(",")
        text = text.replace(",", "") if point else text.replace(".", "").replace(",", ".")
    elif _GROUPED.fullmatch(text) and text.count(",") != 1:  # a lone comma marks decimals: 1,500 is 1.5
        text = re.sub(r"[.,\s]", "", text)
    else:
        text = text.replace(",", ".")
    try:
        return float(re.sub(r"\s", "", text))
    except ValueError:
        return None


def fold_accents(text: str) -> str:
    """The text without its accents ('Panadería' -> 'Panaderia', 'Ñ' -> 'N'), as an SMS or a hurried hand writes it:
    compatibility-decomposed (NFKD), combining marks dropped. ASCII text comes back as it was."""
    if text.isascii():
        return text
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
