"""Pydantic errors as a short list a person can act on: where (a readable path) and what."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from generator.errors import CVJError

Location = tuple[int | str, ...]
M = TypeVar("M", bound=BaseModel)


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
    lines = []
    for err in error.errors()[:limit]:
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        lines.append(f"  - {where(loc, data)}: {err['msg'].removeprefix('Value error, ')}")
    if error.error_count() > limit:
        lines.append(f"  - ... and {error.error_count() - limit} more")
    return "\n".join(lines)


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
            details=exc.errors(include_url=False, include_context=False, include_input=False),
        ) from None
