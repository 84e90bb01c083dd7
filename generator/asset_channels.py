"""Channel-bound messages: an SMS, paid social ads (Meta, LinkedIn) and a win-back email.

Each is bound to one channel whose rules (lengths per field, an SMS's segments and opt-out line) live in
``knowledge/channels.yaml`` and are checked when the asset is validated, so a draft that breaks them is re-asked.
A rule may read differently in another language (``sms_message@es``: the Spanish opt-out words and line).
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, field_validator

from generator.asset_base import (
    Asset,
    ChannelBound,
    ChannelRule,
    Text,
    channel_rules,
    clamped,
    is_unicode_sms,
    with_limits,
)

_PLAIN = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-",
                        "\u2026": "...", "\u00a0": " "})  # fmt: skip

_MERGED = ("fields", "required", "fixed")  # what a language's rule adds to the channel's, key by key


def language_rules(asset_type: str) -> dict[str, ChannelRule]:
    """Language tag -> the rule of the channel an asset type is bound to, as it reads in that language: the
    channel's rule ("": every language not listed) with what ``<asset type>@<language>`` in knowledge/channels.yaml
    says instead (an SMS's opt-out words and line). Empty where no channel binds the type."""
    rules = channel_rules()
    base = rules.get(asset_type)
    if base is None:
        return {}
    found = {"": base}
    for key, variant in rules.items():
        asset, _, language = key.partition("@")
        if asset == asset_type and language:
            said = {name: getattr(variant, name) for name in variant.model_fields_set - {"name", "asset_types"}}
            update = {k: {**getattr(base, k), **v} if k in _MERGED else v for k, v in said.items()}
            found[language.lower()] = base.model_copy(update=update)
    return found


def channel_rule_in(asset_type: str, language: str) -> ChannelRule | None:
    """The channel's rule for an asset in a language (a BCP 47 tag: es-MX's, else es's, else the channel's own)."""
    rules = language_rules(asset_type)
    tag = language.replace("_", "-").lower()
    return rules.get(tag) or rules.get(tag.split("-")[0]) or rules.get("")


# The buttons each platform offers (the ad's call to action is one of them, not free text).
MetaButton = Literal[
    "Learn more", "Watch more", "Sign up", "Subscribe", "Download", "Get offer", "Book now", "Shop now", "Contact us"
]
LinkedInButton = Literal[
    "Learn more", "Download", "Register", "Sign up", "Subscribe", "Request demo", "Join", "Attend", "Apply"
]


class SmsMessage(ChannelBound):
    asset_type = "sms_message"
    stage = "convert"
    label = "SMS offer reminder"

    message: Annotated[str, Text(306)] = Field(
        description="The text: one offer, one reason, one link or reply keyword; plain words, no emoji"
    )
    opt_out: Annotated[str, Text(40)] = Field(
        description="The line telling people how to unsubscribe from these messages"
    )

    def published_text(self) -> str:
        return f"{self.message}\n{self.opt_out}"

    @field_validator("message", "opt_out", mode="before")
    @classmethod
    def _plain_punctuation(cls, value: object) -> object:
        """Curly quotes, long dashes and an ellipsis character make a text UCS-2 (70 characters a segment, not 160):
        written as their plain forms, which read the same on a phone."""
        return value.translate(_PLAIN) if isinstance(value, str) else value

    def channel_rule(self) -> ChannelRule | None:
        """The SMS rule of the language the opt-out line is in. The code fills the line in the profile's language
        (``channel_rule_in``) but an asset does not know its profile: a line that says how to stop in one of the
        languages of knowledge/channels.yaml keeps to that language's rule; one that says it in none is held to
        the channel's own (and fails it, as before languages)."""
        rules = list(language_rules(self.asset_type).values())
        for rule in rules:
            if all(re.search(rx, str(getattr(self, name, "") or ""), re.I) for name, rx in rule.required.items()):
                return rule
        return rules[0] if rules else None

    @classmethod
    def for_channel(cls, channel: str | None) -> type[Asset]:
        """The message capped so that, with the fixed opt-out line, it fits the channel's longest plain SMS (the
        channel's own line: another language's, if longer, may leave a message to re-ask when it is near the cap)."""
        rule = channel_rules().get(cls.asset_type)
        if rule is None or rule.max_chars is None:
            return cls
        room = rule.max_chars - len(rule.fixed.get("opt_out", "")) - 1
        variant = with_limits(cls, {"message": room})
        return variant if issubclass(variant, Asset) else cls

    def channel_report(self) -> tuple[list[str], str] | None:
        report = super().channel_report()
        rule = self.channel_rule()
        if report is None or rule is None:
            return report
        problems, _ = report
        text = self.published_text()
        unicode = is_unicode_sms(text)
        single = (rule.unicode_single_chars if unicode else rule.single_chars) or len(text)
        limit = (rule.unicode_max_chars if unicode else rule.max_chars) or len(text)
        kind = "with characters outside plain SMS text (an emoji, a curly quote)" if unicode else "in plain SMS text"
        if len(text) > limit:
            problems.append(f"the text and opt-out line are {len(text)} characters; an SMS {kind} allows {limit}")
        segments = 1 if len(text) <= single else 2
        return problems, f"{rule.name}: {len(text)}/{limit} characters, {segments} segment{'s' * (segments > 1)}"


class MetaAd(ChannelBound):
    asset_type = "meta_ad"
    stage = "aware"
    label = "Meta ad (Facebook, Instagram)"

    audience: Annotated[str, Text(200)] = Field(description="Who should see it: place, interests, age, life stage")
    primary_text: Annotated[str, Text(300)] = Field(description="The text above the image: a useful or curious hook")
    headline: Annotated[str, Text(60)] = Field(description="The bold line under the image")
    description: Annotated[str, Text(60)] = Field(description="The small line under the headline")
    call_to_action: MetaButton = Field(description="The button")
    image_idea: Annotated[str, Text(200)] = Field(description="What the image or first seconds of video show")


class LinkedInAd(ChannelBound):
    asset_type = "linkedin_ad"
    stage = "aware"
    label = "LinkedIn sponsored content"

    audience: Annotated[str, Text(200)] = Field(description="Job titles, industries, company sizes, places")
    intro_text: Annotated[str, Text(600)] = Field(description="The post text above the image: a point worth reading")
    headline: Annotated[str, Text(200)] = Field(description="The line under the image")
    description: Annotated[str, Text(300)] = Field(description="The small line under the headline")
    call_to_action: LinkedInButton = Field(description="The button")
    image_idea: Annotated[str, Text(200)] = Field(description="What the image shows")


class WinBackEmail(ChannelBound):
    asset_type = "winback_email"
    stage = "ascend"
    label = "Win-back email"

    trigger: Annotated[str, Text(60)] = Field(description="What marks a customer as lapsed, e.g. no order in 60 days")
    send_day: Annotated[int, clamped(0, 365)] = Field(ge=0, le=365, description="Days after the trigger it goes out")
    subject: Annotated[str, Text(90)]
    preview: Annotated[str, Text(140)] = Field(description="The line the inbox shows after the subject")
    body: Annotated[str, Text(900)] = Field(description="Miss them, say what is new or better, one reason to return")
    call_to_action: Annotated[str, Text(80)] = Field(description="The one thing the reader is asked to do")
