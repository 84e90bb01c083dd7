"""Writing a learned voice into a profile file without disturbing the rest of it.

A YAML profile is a file people edit and comment; rewriting it through a YAML dump would drop the comments and
reorder what they wrote. So only the top-level ``voice:`` section is replaced (or appended), as text, and the
result is parsed again before anything is written: the other fields stay byte for byte as they were.
"""

from __future__ import annotations

import json
import re

import yaml

from generator.errors import ProfileError
from generator.profile import BusinessProfile, parse_profile_text
from generator.voice_traits import LearnedVoice

_TOP_KEY = re.compile(r"^[^\s#-][^:]*:")  # a top-level mapping key (YAML block style)
_VOICE_KEY = re.compile(r"^voice\s*:")
HEADER = "# Learned from the business's own copy by `cvj voice learn`; learn again rather than editing the figures."


def _without_voice(lines: list[str]) -> list[str]:
    """The lines with any top-level ``voice:`` section (its key and the indented lines under it) removed."""
    kept: list[str] = []
    inside = False
    for line in lines:
        if _VOICE_KEY.match(line):
            inside = True
            if kept and kept[-1] == HEADER:
                kept.pop()
            continue
        if inside and (_TOP_KEY.match(line) or line.startswith("#")):
            inside = False
        if not inside:
            kept.append(line)
    return kept


def voice_yaml(voice: LearnedVoice) -> str:
    """The ``voice:`` section as YAML text."""
    data = {"voice": voice.model_dump(mode="json")}
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=110)


def _parts(text: str, fmt: str, source: str) -> tuple[BusinessProfile, list[str] | dict[str, object]]:
    """The profile without any voice section, and what its file holds without it (YAML lines or JSON data)."""
    if fmt == "json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ProfileError(f"{source} could not be parsed as json: {exc}") from None
        if not isinstance(data, dict):
            raise ProfileError(f"{source} is not a JSON object, so not a business profile.")
        data.pop("voice", None)
        return parse_profile_text(json.dumps(data), source=source, fmt=fmt), data
    lines = _without_voice(text.splitlines())
    while lines and not lines[-1].strip():
        lines.pop()
    return parse_profile_text("\n".join(lines) + "\n", source=source, fmt=fmt), lines


def profile_without_voice(text: str, *, fmt: str = "yaml", source: str = "profile") -> BusinessProfile:
    """The profile a file holds, read without its voice section (which may be stale or broken: it is relearned)."""
    return _parts(text, fmt, source)[0]


def profile_text_with_voice(text: str, voice: LearnedVoice, *, fmt: str = "yaml", source: str = "profile") -> str:
    """The profile's text with its voice section set to ``voice`` (JSON profiles are rewritten as JSON). An old
    voice section is replaced even if it no longer validates (learning again is how it is fixed).

    Raises ProfileError if the rest of the profile does not load, before or after (it is never left broken)."""
    before, rest = _parts(text, fmt, source)
    if isinstance(rest, dict):
        updated = json.dumps({**rest, "voice": voice.model_dump(mode="json")}, indent=2, ensure_ascii=False) + "\n"
    else:
        updated = "\n".join([*rest, "", HEADER, voice_yaml(voice)])
    after = parse_profile_text(updated, source=source, fmt=fmt)
    if after.model_dump(exclude={"voice"}) != before.model_dump(exclude={"voice"}) or after.voice != voice:
        raise ProfileError(
            f"{source}: the voice section could not be written without changing other fields; "
            "put `voice:` as a top-level key in plain block style, or remove it and try again."
        )
    return updated


def profile_with_voice(profile: BusinessProfile, voice: LearnedVoice) -> BusinessProfile:
    """The profile with this voice (for callers that hold the profile, not its file: the API, the UI)."""
    return profile.model_copy(update={"voice": voice})
