"""Deterministic scorers: free, fast and explainable. Each returns a score in [0, 1] and a reason,
or None when it does not apply (no profile to check words against, no channel for a length)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from generator.asset_sequences import EmailSequence, ReviewSequence
from generator.assets import Asset, SocialPost, channel_limits
from generator.drafts import Draft
from generator.evaluation.gate_text import content_stems
from generator.evaluation.signals import LanguageLexicon, Signals, load_lexicon, measure
from generator.language import DEFAULT_LANGUAGE
from generator.profile import BusinessProfile
from generator.rules import avoided_words, banned_claims, contains_phrase, ladder_problems
from generator.settings import load_settings
from generator.voice import voice_match


class Subject(BaseModel):
    """What is being scored: the text, and what is known about it."""

    stage: str
    text: str
    business: str | None = None
    profile: BusinessProfile | None = None
    asset: Asset | None = None
    signals: Signals | None = None  # measured once by the Evaluator; measured on demand if absent
    language: str | None = None  # what the text must be written in (default: the profile's, else English)

    @classmethod
    def of_draft(cls, draft: Draft, profile: BusinessProfile | None = None) -> Subject:
        """A saved or fresh draft as a scoring subject: its typed asset, flattened to text."""
        asset = draft.typed()
        return cls(stage=draft.stage, text=asset.as_text(), business=draft.business, profile=profile, asset=asset)

    @property
    def language_tag(self) -> str:
        return self.language or (self.profile.language if self.profile else DEFAULT_LANGUAGE)

    def lexicon(self) -> LanguageLexicon:
        """The phrase lists of the text's language (English's where it has none: such rules are not judged)."""
        return load_lexicon(load_settings().eval_dir, self.language_tag)

    def measured(self) -> Signals:
        if self.signals is None:
            self.signals = measure(self.text, load_settings().eval_dir, self.language_tag)
        return self.signals


class RuleResult(BaseModel):
    score: float
    reason: str


def has_cta(s: Subject, _: dict[str, Any]) -> RuleResult:
    found = s.measured().cta
    return RuleResult(score=1.0 if found else 0.0, reason=f"asks to '{found[0]}'" if found else "no call to action")


def _listed(found: list[str]) -> str:
    return ", ".join(f"'{f}'" for f in dict.fromkeys(w.lower() for w in found))


def plain_language(s: Subject, params: dict[str, Any]) -> RuleResult:
    """Shows value instead of claiming it: no empty superlatives, corporate filler, shouting or '!!!'."""
    m = s.measured()
    faults = m.hype + m.generic + ["!"] * max(0, m.exclamations - int(params.get("exclamations", 1)))
    faults += ["words in capitals"] * m.shouting
    score = max(0.0, 1 - len(faults) / float(params.get("tolerance", 3)))
    reason = f"vague or hyped: {_listed(faults)}" if faults else "plain, concrete language"
    return RuleResult(score=round(score, 3), reason=reason)


def no_pressure(s: Subject, _: dict[str, Any]) -> RuleResult:
    found = s.measured().pressure
    reason = f"pressure instead of a reason: {_listed(found)}" if found else "no fear or false urgency"
    return RuleResult(score=max(0.0, 1 - 0.5 * len(found)), reason=reason)


def reader_first(s: Subject, params: dict[str, Any]) -> RuleResult:
    """Copy about the reader ('you') rather than about the business ('we', 'our')."""
    m = s.measured()
    share, wanted = m.reader_share, float(params.get("share", 0.6))
    return RuleResult(score=round(min(1.0, share / wanted), 3), reason=f"'you' {m.you}x, 'we/our' {m.we}x")


def concrete(s: Subject, params: dict[str, Any]) -> RuleResult:
    """Specific details (amounts, times, counts) make a promise believable."""
    n, wanted = s.measured().numbers, int(params.get("min", 2))
    return RuleResult(score=round(min(1.0, n / wanted), 3), reason=f"{n} specific figures (amounts, times, counts)")


def quick_to_consume(s: Subject, _: dict[str, Any]) -> RuleResult:
    m = s.measured()
    if m.long and not m.quick:
        return RuleResult(score=0.0, reason=f"sounds long to get through: {_listed(m.long)}")
    if m.long:
        return RuleResult(score=0.4, reason=f"mixed: quick ({_listed(m.quick)}) but long ({_listed(m.long)})")
    if m.quick:
        return RuleResult(score=1.0, reason=f"signals small effort: {_listed(m.quick)}")
    return RuleResult(score=0.6, reason="says nothing about the time or effort it takes")


def _presence(found: list[str], *, present: str, absent: str, if_found: float = 1.0, if_not: float = 0.4) -> RuleResult:
    """A rule that looks for one kind of phrase: what was found, or what is missing."""
    if found:
        return RuleResult(score=if_found, reason=f"{present}: {_listed(found)}")
    return RuleResult(score=if_not, reason=absent)


def risk_reducer(s: Subject, _: dict[str, Any]) -> RuleResult:
    return _presence(
        s.measured().risk_reducers, present="lowers the risk", absent="no guarantee, refund or no-commitment promise"
    )


def rewards_both_sides(s: Subject, _: dict[str, Any]) -> RuleResult:
    return _presence(
        s.measured().friend_side, present="the friend gets something too", absent="no reward for the friend"
    )


def no_purchase_ask(s: Subject, _: dict[str, Any]) -> RuleResult:
    found = s.measured().purchase
    if found:
        return RuleResult(score=0.0, reason=f"asks for a purchase ('{found[0]}') too early")
    return RuleResult(score=1.0, reason="no purchase ask")


def names_business(s: Subject, _: dict[str, Any]) -> RuleResult | None:
    name = s.business or (s.profile.name if s.profile else None)
    if not name:
        return None
    found = contains_phrase(s.text, name) or contains_phrase(s.text, name.split()[0])
    return RuleResult(score=1.0 if found else 0.0, reason="names the business" if found else f"never names {name}")


def avoid_words(s: Subject, _: dict[str, Any]) -> RuleResult | None:
    if not s.profile:
        return None
    words = avoided_words(s.text, s.profile)
    return RuleResult(score=0.0 if words else 1.0, reason=f"uses {', '.join(words)}" if words else "brand words ok")


def banned(s: Subject, _: dict[str, Any]) -> RuleResult | None:
    if not s.profile:
        return None
    claims = banned_claims(s.text, s.profile)
    return RuleResult(
        score=0.0 if claims else 1.0, reason=f"claims {'; '.join(claims)}" if claims else "no banned claim"
    )


def channel_length(s: Subject, _: dict[str, Any]) -> RuleResult | None:
    """A social post within its channel's length; any other channel-bound asset within its channel's rules."""
    if isinstance(s.asset, SocialPost):
        limit, length = channel_limits()[s.asset.channel], len(s.asset.published_text())
        ok = length <= limit
        return RuleResult(score=1.0 if ok else 0.0, reason=f"{length}/{limit} characters on {s.asset.channel}")
    report = s.asset.channel_report() if s.asset is not None else None
    if report is None:
        return None
    problems, summary = report
    return RuleResult(score=0.0 if problems else 1.0, reason="; ".join(problems[:2]) or summary)


def sequence_timing(s: Subject, _: dict[str, Any]) -> RuleResult | None:
    """A sequence paced like one: each email on its own day and with its own subject; a review ask waits for the
    customer's first win."""
    if not isinstance(s.asset, EmailSequence):
        return None
    messages = s.asset.messages
    problems = []
    if len({(m.trigger.lower(), m.send_day) for m in messages}) < len(messages):
        problems.append("two emails go out on the same day")
    if len({m.subject.lower() for m in messages}) < len(messages):
        problems.append("two emails share a subject line")
    if isinstance(s.asset, ReviewSequence):
        first, lexicon = messages[0].trigger, s.lexicon()
        timed = content_stems(first, lexicon=lexicon) & content_stems(s.asset.first_win, lexicon=lexicon)
        if not (timed or lexicon.found("after_a_result", first)):
            problems.append(f"the first ask ('{first}') is not timed to the first win")
    days = ", ".join(f"day {m.send_day}" for m in messages)
    reason = "; ".join(problems) if problems else f"{len(messages)} emails: {days}"
    return RuleResult(score=round(max(0.0, 1 - 0.4 * len(problems)), 3), reason=reason)


def price_ladder(s: Subject, _: dict[str, Any]) -> RuleResult | None:
    if not (s.profile and s.asset):
        return None
    problems = ladder_problems(s.asset, s.profile)
    return RuleResult(score=0.0 if problems else 1.0, reason=problems[0] if problems else "fits the price ladder")


def readability(s: Subject, params: dict[str, Any]) -> RuleResult:
    grade, limit = s.measured().reading_grade, float(params.get("max_grade", 10))
    score = 1.0 if grade <= limit else max(0.0, 1 - (grade - limit) / 6)
    return RuleResult(score=round(score, 3), reason=f"reading grade {grade:.1f} (target {limit:g} or lower)")


def min_words(s: Subject, params: dict[str, Any]) -> RuleResult:
    count, wanted = len(s.text.split()), int(params.get("min", 40))
    return RuleResult(score=round(min(1.0, count / wanted), 3), reason=f"{count} words (at least {wanted} wanted)")


def mentions_incentive(s: Subject, _: dict[str, Any]) -> RuleResult:
    found = s.measured().incentive
    reason = f"incentive: '{found[0]}'" if found else "no explicit incentive"
    return RuleResult(score=1.0 if found else 0.0, reason=reason)


def direct_link(s: Subject, _: dict[str, Any]) -> RuleResult:
    return _presence(s.measured().link, present="one tap away", absent="no direct link: every extra step loses people")


def after_the_experience(s: Subject, _: dict[str, Any]) -> RuleResult:
    return _presence(
        s.measured().too_early,
        present="asks before they have tried it",
        absent="asks after the experience",
        if_found=0.0,
        if_not=1.0,
    )


def copy_text(s: Subject) -> str:
    """The words a customer reads: an asset's prose fields without their labels ("Hook:", "Channel: x" would read
    as short sentences to a voice), else the whole text."""
    if s.asset is None:
        return s.text
    parts: list[str] = []
    for value in s.asset.model_dump(mode="json", exclude_none=True).values():
        parts += [
            v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str) and len(v.split()) > 2
        ]
    return "\n".join(parts) or s.text


def brand_voice(s: Subject, _: dict[str, Any]) -> RuleResult | None:
    """Sounds like the brand's own copy (its learned voice's habits); applies only to a profile with a voice."""
    if not (s.profile and s.profile.voice):
        return None
    match = voice_match(copy_text(s), s.profile.voice)
    return RuleResult(score=match.score, reason=match.reason())


# Rules that read the text's words through its language's phrase lists: not judged in a language without them.
LEXICAL_RULES = frozenset({
    "has_cta", "no_purchase_ask", "plain_language", "no_pressure", "reader_first", "concrete", "quick_to_consume",
    "risk_reducer", "rewards_both_sides", "mentions_incentive", "direct_link", "after_the_experience", "readability",
})  # fmt: skip

RULES: dict[str, Callable[[Subject, dict[str, Any]], RuleResult | None]] = {
    "has_cta": has_cta,
    "no_purchase_ask": no_purchase_ask,
    "names_business": names_business,
    "avoid_words": avoid_words,
    "banned_claims": banned,
    "channel_length": channel_length,
    "sequence_timing": sequence_timing,
    "price_ladder": price_ladder,
    "readability": readability,
    "min_words": min_words,
    "mentions_incentive": mentions_incentive,
    "plain_language": plain_language,
    "no_pressure": no_pressure,
    "reader_first": reader_first,
    "concrete": concrete,
    "quick_to_consume": quick_to_consume,
    "risk_reducer": risk_reducer,
    "rewards_both_sides": rewards_both_sides,
    "direct_link": direct_link,
    "after_the_experience": after_the_experience,
    "brand_voice": brand_voice,
}
