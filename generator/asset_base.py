"""What every asset type is built from: the base model, bounded texts and lists, and the channel rules.

Channel rules live in ``knowledge/channels.yaml``: the social channels a post may go to (their length limits),
and the rules of the channels other asset types are bound to (an SMS's length and opt-out line, an ad's field
lengths, an email's subject line). A channel-bound type checks its rules when it is validated, so a draft that
breaks them is re-asked, and its schema carries the channel's limits, so a grammar keeps to them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, ClassVar

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    StringConstraints,
    create_model,
    model_validator,
)
from pydantic_core import CoreSchema

from generator.settings import load_settings
from generator.stages import StageId


class ChannelRule(BaseModel):
    """The rules of one channel an asset type is bound to (``asset_types``), from knowledge/channels.yaml."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    asset_types: tuple[str, ...] = Field(min_length=1)
    fields: dict[str, int] = Field(default_factory=dict, description="Characters allowed per field")
    max_chars: int | None = Field(default=None, gt=0, description="The whole message")
    single_chars: int | None = Field(default=None, gt=0, description="One SMS segment")
    unicode_max_chars: int | None = Field(default=None, gt=0, description="The whole message, in UCS-2")
    unicode_single_chars: int | None = Field(default=None, gt=0, description="One SMS segment, in UCS-2")
    required: dict[str, str] = Field(default_factory=dict, description="Field -> what it must say (a regex)")
    fixed: dict[str, str] = Field(
        default_factory=dict, description="Field -> the text the code fills in, never the model (an opt-out line)"
    )


@cache
def _channels_file() -> dict[str, Any]:
    path = load_settings().knowledge_dir / "channels.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


@cache
def channel_limits() -> dict[str, int]:
    """Characters allowed per social channel (the channels a social post may go to), from knowledge/channels.yaml."""
    return {str(k): int(v["max_chars"]) for k, v in _channels_file().items() if "asset_types" not in v}


@cache
def channel_rules() -> dict[str, ChannelRule]:
    """Asset type -> the rules of the channel it is bound to (SMS, ads, email), from knowledge/channels.yaml."""
    rules = [ChannelRule.model_validate(v) for v in _channels_file().values() if "asset_types" in v]
    return {asset_type: rule for rule in rules for asset_type in rule.asset_types}


def Text(max_length: int) -> StringConstraints:
    """A non-empty, stripped string with a length cap: ``Annotated[str, Text(120)]``."""
    return StringConstraints(strip_whitespace=True, min_length=1, max_length=max_length)


def _drop_blank_items(value: object) -> object:
    """Blank list items carry nothing; small models emit them, so they are dropped rather than re-asked."""
    return [v for v in value if not isinstance(v, str) or v.strip()] if isinstance(value, list) else value


def clamped(low: int, high: int) -> BeforeValidator:
    """Grammars cannot bound integers: a number out of range is clamped, not re-asked."""
    return BeforeValidator(lambda v: min(max(v, low), high) if isinstance(v, int) and not isinstance(v, bool) else v)


@dataclass(frozen=True)
class Items:
    """A bounded list of short texts: ``Annotated[list[str], Items(max_length, max_items, min_items)]``.

    Each item is a ``Text(max_length)``; blank items are dropped before the bounds are checked.
    """

    max_length: int
    max_items: int
    min_items: int = 1

    def __get_pydantic_core_schema__(self, source: object, handler: GetCoreSchemaHandler) -> CoreSchema:
        # The item bound lives inside the list type, which plain metadata on ``list[str]`` cannot reach:
        # the schema is generated for the fully bounded type instead.
        bounded = Annotated[
            list[Annotated[str, Text(self.max_length)]],
            BeforeValidator(_drop_blank_items),
            Field(min_length=self.min_items, max_length=self.max_items),
        ]
        return handler.generate_schema(bounded)


class Part(BaseModel):
    """A typed part of an asset (one email of a sequence, one question of a FAQ)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Asset(BaseModel):
    """Base of every asset type: what stage it serves and how it reads as plain text."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    asset_type: ClassVar[str]
    stage: ClassVar[StageId]
    label: ClassVar[str]

    @classmethod
    def for_channel(cls, channel: str | None) -> type[Asset]:
        """The schema to ask for; channel-bound assets tighten their limits."""
        return cls

    def channel_report(self) -> tuple[list[str], str] | None:
        """The channel's rules broken, and a one-line summary; None where no channel rule binds this type."""
        return None

    def as_text(self) -> str:
        """The asset as readable text, field by field (used for eval and display)."""
        parts: list[str] = []
        for name, value in self.model_dump(exclude_none=True).items():
            title = name.replace("_", " ").capitalize()
            if isinstance(value, list) and value and isinstance(value[0], dict):
                parts += [_part_text(title, number, part) for number, part in enumerate(value, 1)]
            elif isinstance(value, list):
                parts.append(f"{title}:\n" + "\n".join(f"- {v}" for v in value))
            else:
                parts.append(f"{title}: {value}")
        return "\n".join(parts)


def _part_text(title: str, number: int, part: dict[str, Any]) -> str:
    """One typed part as text: a heading, then its fields ("Messages 2:", "Subject: ...")."""
    lines = [f"{title} {number}:"]
    lines += [f"{k.replace('_', ' ').capitalize()}: {v}" for k, v in part.items() if v is not None]
    return "\n".join(lines)


def _bound(info: Any, key: str) -> int | None:
    """A field's ``min_length`` or ``max_length`` from its constraints."""
    return next((getattr(m, key) for m in info.metadata if getattr(m, key, None) is not None), None)


def with_limits(cls: type[BaseModel], limits: dict[str, int]) -> type[BaseModel]:
    """A variant of a model (same name) whose string fields named in ``limits`` are capped at them, in its typed
    parts too (a list of ``Part``): the schema a grammar or a capable model is given then keeps to the channel."""
    fields: dict[str, Any] = {}
    for name, info in cls.model_fields.items():
        item = (getattr(info.annotation, "__args__", None) or (None,))[0]
        if info.annotation is str and name in limits:
            cap = min(limits[name], _bound(info, "max_length") or limits[name])
            fields[name] = (Annotated[str, Text(cap)], Field(description=info.description))
        elif isinstance(item, type) and issubclass(item, Part) and limits.keys() & item.model_fields.keys():
            bounds = Field(min_length=_bound(info, "min_length"), max_length=_bound(info, "max_length"))
            parts: Any = list[with_limits(item, limits)]  # type: ignore[misc]  # a type built at run time
            fields[name] = (Annotated[parts, bounds], Field(description=info.description))
    if not fields:
        return cls
    variant: type[BaseModel] = create_model(cls.__name__, __base__=cls, __doc__=cls.__doc__, **fields)
    return variant


# GSM-7, the plain SMS alphabet (its basic set and its escaped extension): anything else makes a text UCS-2.
GSM7 = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿"
    "abcdefghijklmnopqrstuvwxyzäöñüà^{}\\[~]|€"
)


def is_unicode_sms(text: str) -> bool:
    """Whether a text needs UCS-2 (an emoji, a curly quote): outside GSM-7, an SMS segment holds 70 characters."""
    return any(c not in GSM7 for c in text)


class ChannelBound(Asset):
    """An asset type bound to one channel: its rules (knowledge/channels.yaml) are checked on validation."""

    def channel_rule(self) -> ChannelRule | None:
        return channel_rules().get(self.asset_type)

    def channel_report(self) -> tuple[list[str], str] | None:
        rule = self.channel_rule()
        if rule is None:
            return None
        problems: list[str] = []
        longest: dict[str, int] = {}
        data = self.model_dump(mode="json")
        parts = [data] + [p for v in data.values() if isinstance(v, list) for p in v if isinstance(p, dict)]
        for part in parts:
            for name, limit in rule.fields.items():
                value = part.get(name)
                if isinstance(value, str):
                    longest[name] = max(longest.get(name, 0), len(value))
                    if len(value) > limit:
                        label = name.replace("_", " ")
                        problems.append(f"the {label} is {len(value)} characters; {rule.name} allows {limit}")
        for name, pattern in rule.required.items():
            value = str(data.get(name) or "")
            if not re.search(pattern, value, re.I):
                problems.append(f"the {name.replace('_', ' ')} '{value[:40]}' does not say how to stop ({rule.name})")
        summary = ", ".join(f"{k.replace('_', ' ')} {n}/{rule.fields[k]}" for k, n in longest.items())
        return problems, f"{rule.name}: {summary or 'within its limits'}"

    @model_validator(mode="after")
    def _keeps_channel_rules(self) -> ChannelBound:
        report = self.channel_report()
        if report and report[0]:
            raise ValueError("; ".join(report[0]))
        return self

    @classmethod
    def for_channel(cls, channel: str | None) -> type[Asset]:
        """The type with its channel's field limits in the schema (whatever channel was asked for: it has one)."""
        rule = channel_rules().get(getattr(cls, "asset_type", ""))
        if rule is None or not rule.fields:
            return cls
        variant = with_limits(cls, rule.fields)
        return variant if issubclass(variant, Asset) else cls
