"""Pydantic errors as a short list a person can act on: where (a readable path) and what; and the check every
free-text field shares (no control characters)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from generator.errors import CVJError

Location = tuple[int | str, ...]
M = TypeVar("M", bound=BaseModel)

# C0 controls but tab, newline and carriage return; DEL; C1 controls. None belongs in copy a person writes, and
# they do harm where text goes next: NUL cuts strings in C libraries, ESC/CSI sequences repaint the terminal
# `cvj` prints to, and the rest end up as debris in prompts and exports.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def no_control_characters(value: str) -> str:
    """Validator for free text: refuse control characters (terminal escapes, NUL...), naming the first."""
    if match := _CONTROL.search(value):
        raise ValueError(
            f"contains a control character (U+{ord(match.group()):04X} at position {match.start()}); remove it"
        )
    return value


def dotted(loc: Location, _: object = None) -> str:
    """'offers.entry_offer.price', 'cases[3].assert[0]'."""
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts[-1:] = [f"{parts[-1]}[{item}]" if parts else f"[{item}]"]
        else:
            parts.append(str(item))
    return ".".join(parts) or "(top level)"


def describe_errors(
    error: ValidationError, data: object = None, *, limit: int = 8, where: Callable[[Location, object], str] = dotted
) -> str:
    """One '  - where: what' line per problem (validator wrappers and 'Value error, ' dropped), at most ``limit``."""
    return describe_error_list(error.errors(include_url=False), data, limit=limit, where=where)


def describe_error_list(
    errors: Iterable[Mapping[str, Any]],
    data: object = None,
    *,
    limit: int = 8,
    where: Callable[[Location, object], str] = dotted,
) -> str:
    """:func:`describe_errors` for pydantic-shaped error dicts from elsewhere (FastAPI's request errors)."""
    problems = list(errors)
    lines = []
    for err in problems[:limit]:
        loc = tuple(p for p in err.get("loc", ()) if not (isinstance(p, str) and p.startswith("function-")))
        lines.append(f"  - {where(loc, data)}: {str(err.get('msg', 'invalid')).removeprefix('Value error, ')}")
    if len(problems) > limit:
        lines.append(f"  - ... and {len(problems) - limit} more")
    return "\n".join(lines)


def error_list(error: ValidationError) -> list[dict[str, Any]]:
    """The errors as JSON-safe dicts for an API body: where and what, never the input (it may be megabytes)."""
    return [
        {"loc": list(e["loc"]), "msg": e["msg"].removeprefix("Value error, "), "type": e["type"]}
        for e in error.errors(include_url=False, include_context=False, include_input=False)
    ]


def validate_mapping(
    model: type[M],
    data: object,
    *,
    source: str,
    what: str,
    error: type[CVJError],
    where: Callable[[Location, object], str] = dotted,
    limit: int = 8,
) -> M:
    """``model`` from parsed YAML/JSON, or ``error`` saying which file and listing every bad field."""
    if not isinstance(data, dict):
        raise error(f"{source}: {what} must be a mapping of fields, got {type(data).__name__}.")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise error(
            f"{source} is not a valid {what}:\n{describe_errors(exc, data, limit=limit, where=where)}",
            details=error_list(exc),
        ) from None
