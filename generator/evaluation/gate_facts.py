"""The gate's fact checks: what a draft states or points to must come from the business profile.

A small model invents prices, renames the offers, makes up proof figures and testimonials, and links to other
people's sites. Each function here compares one kind of fact with the profile and returns the problems found, as
reasons an editor can read; ``generator.evaluation.gate`` decides which check each one belongs to.
"""

from __future__ import annotations

import math
import re

from generator.asset_pages import OrderBump
from generator.assets import AscensionOffer, Asset, EntryOffer, LeadMagnet, ReferralProgram
from generator.evaluation.gate_text import content_stems, english, short, word_stems
from generator.evaluation.signals import LanguageLexicon
from generator.language import DEFAULT_LANGUAGE, comma_number, decimal_comma
from generator.profile import BusinessProfile
from generator.rules import money_amounts

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_DOMAIN = re.compile(r"\b(?:https?://)?((?:[a-z0-9-]+\.)+[a-z]{2,})(?:/[^\s]*)?", re.I)
_HANDLE = re.compile(r"(?<![\w.])@([A-Za-z][\w.]{2,30})")
_SAME_KIND = {"percent", "rating", "ratio"}  # compared with the profile's figures of the same kind
_QUOTED = re.compile(  # "..." or '...' (not an apostrophe), with who said it just before or after
    r"(?P<before>[A-Z][a-z]+(?: [A-Z][a-z.]*)*(?: from [A-Z][a-z]+)? (?:said|says|told us|wrote|writes)"
    r"(?: [a-z]+){0,3}[,:]? )?"
    r"(?:[\"\u201c](?P<dq>[^\"\u201d\n]{20,400})[\"\u201d]"
    r"|(?<!\w)['\u2018](?P<sq>[^'\u2018\u2019\n]{20,400})['\u2019](?!\w)"
    r"|\u00ab(?P<gq>[^\u00bb\n]{20,400})\u00bb)"
    r"(?P<after>[ \t]*(?:[-\u2013\u2014,(]|said|says)[ \t]*[A-Z][a-z]+)?"
)


def offer_names(profile: BusinessProfile) -> list[str]:
    """The names of every offer on the profile's ladder: naming one is naming the business."""
    return [o.name for o in profile.offers.rungs()]


def price_problems(text: str, asset: Asset | None, profile: BusinessProfile, brief: str) -> list[str]:
    """Every amount of money must be a profile price or plain arithmetic on them (read as the profile's language
    writes money: 9,90 € is 9.9 in Spanish)."""
    language = profile.language
    known = {0.0} | {float(o.price) for o in profile.offers.rungs()} | set(money_amounts(brief, language))
    if isinstance(asset, ReferralProgram):  # rewards are the draft's proposal; the ladder rule sizes them
        known |= set(money_amounts(f"{asset.sharer_reward} {asset.friend_reward}", language))
    if isinstance(asset, OrderBump):  # its price is the draft's proposal too; the ladder rule sizes it
        known.add(float(asset.price))
    strange = [a for a in money_amounts(text, language) if not derivable(a, known)]
    cur = profile.offers.currency
    return [f"the price {a:g} {cur} is not one of the profile's" for a in dict.fromkeys(strange)][:2]


def claim_problems(
    text: str, brief: str, claims: dict[str, list[re.Pattern[str]]], language: str = DEFAULT_LANGUAGE
) -> list[str]:
    """Percentages and ratings must be the profile's percentages and ratings; counts and years its numbers.

    ``claims``: patterns per kind of figure (eval/gate.yaml, then the language's), group 1 the number; ``language``: the
    profile's, which says how its numbers are written (4,8 and 1.500 in Spanish)."""
    numbers = {plain_number(n, language) for n in _NUMBER.findall(brief)}
    problems = []
    for kind, patterns in claims.items():
        same = kind in _SAME_KIND
        known = {plain_number(m.group(1), language) for p in patterns for m in p.finditer(brief)} if same else numbers
        for hit in (h for p in patterns for h in p.finditer(text)):
            problem = f"'{short(hit.group(0))}' is not in the profile's proof"
            if plain_number(hit.group(1), language) not in known and problem not in problems:
                problems.append(problem)
    return problems[:2]


def plain_number(raw: str, language: str = DEFAULT_LANGUAGE) -> str:
    """'1,200' and '1200' and '4.9' compare as numbers written without separators; in a decimal-comma language
    (``generator.language.decimal_comma``) '1.200' is 1200 and '4,9' is 4.9."""
    if decimal_comma(language):
        value = comma_number(raw)
        return raw.rstrip(".,") if value is None else f"{value:g}"
    cleaned = raw.rstrip(".,").replace(",", "")
    try:
        value = float(cleaned)
    except ValueError:
        return cleaned
    return f"{value:g}"


def derivable(amount: float, known: set[float]) -> bool:
    """A profile price, the saving between two, or a price per session, week or month (a copywriter's arithmetic)."""
    close = lambda a, b: abs(a - b) <= max(0.01, 0.005 * max(a, b))  # noqa: E731
    prices = [k for k in known if k > 0]
    if any(close(amount, k) for k in known):
        return True
    if any(close(amount, a - b) for a in prices for b in prices if a > b):
        return True
    return any(close(amount, a / n) for a in prices for n in (2, 3, 4, 6, 12, 52))


def offer_problems(asset: Asset | None, profile: BusinessProfile) -> list[str]:
    """Offers the profile already has keep their names and prices."""
    ladder, cur = profile.offers, profile.offers.currency
    problems = []
    if isinstance(asset, EntryOffer) and ladder.entry_offer:
        if not same_name(asset.name, ladder.entry_offer.name):
            problems.append(f"the entry offer is '{short(asset.name)}', not {ladder.entry_offer.name}")
        if abs(asset.price - ladder.entry_offer.price) > 0.005:
            problems.append(
                f"it costs {asset.price:g} {cur}; {ladder.entry_offer.name} is {ladder.entry_offer.price:g}"
            )
    if isinstance(asset, AscensionOffer):
        match = [o for o in (ladder.core_offer, *ladder.upsells) if same_name(asset.offer_name, o.name)]
        if not match:
            problems.append(f"'{short(asset.offer_name)}' is not the core offer or an upsell in the profile")
        elif all(abs(asset.price - o.price) > 0.005 for o in match):
            problems.append(f"it costs {asset.price:g} {cur}; {match[0].name} is {match[0].price:g}")
    if isinstance(asset, LeadMagnet) and ladder.lead_magnet and not same_name(asset.title, ladder.lead_magnet.name):
        problems.append(f"the lead magnet is '{short(asset.title)}', not {ladder.lead_magnet.name}")
    return problems


def same_name(written: str, actual: str) -> bool:
    """The offer's own name, allowing 'The' and a subtitle: most of its words are there."""
    want = content_stems(actual) or word_stems(actual)
    have = content_stems(written) | word_stems(written)
    return len(want & have) >= max(1, math.ceil(0.75 * len(want)))


def testimonial_problems(text: str, profile: BusinessProfile, lexicon: LanguageLexicon | None = None) -> list[str]:
    """A quoted first-person passage (a customer speaking) must be one of the profile's testimonials; first person
    as the language's lists say it (``first_person``)."""
    lexicon = lexicon or english()
    quotes = [content_stems(t.quote) for t in profile.proof.testimonials]
    problems = []
    for match in _QUOTED.finditer(text):
        quoted = match.group("dq") or match.group("sq") or match.group("gq")
        said = content_stems(quoted)
        attributed = match.group("before") or match.group("after")
        if not attributed or len(quoted.split()) < 6 or not lexicon.found("first_person", quoted) or not said:
            continue
        if not any(len(said & q) >= 0.6 * len(said) for q in quotes):
            problems.append(f"a testimonial that is not in the profile's proof ('{short(quoted)}')")
    return problems[:1]


def link_problems(text: str, profile: BusinessProfile | None, known_domains: set[str]) -> list[str]:
    """Social handles and web addresses must be the business's own (or a well-known site from eval/gate.yaml)."""
    if profile is None:  # whose website it should be is unknown
        return []
    own = domain_of(profile.website) if profile.website else None
    problems = []
    own_words = re.sub(r"[^a-z0-9]", "", f"{profile.name} {own or ''}".lower())
    for handle in _HANDLE.findall(text):  # a social handle must be the business's own
        if re.sub(r"[^a-z0-9]", "", handle.lower()) not in own_words:
            problems.append(f"points to @{handle}, not the business's own account")
    for match in _DOMAIN.finditer(text):
        domain = match.group(1).lower().removeprefix("www.")
        if domain.endswith((".md", ".json", ".yaml", ".txt", ".py")) or re.fullmatch(r"[\d.]+", domain):
            continue  # file names are debris, and 4.9 is a number
        if own and (domain == own or domain.endswith("." + own)):
            continue
        if any(domain == d or domain.endswith("." + d) for d in known_domains):
            continue
        problems.append(f"links to {domain}" + (f", not {own}" if own else ""))
    return problems[:2]


def domain_of(website: str) -> str:
    """A website's bare domain ('https://www.x.com/a' -> 'x.com'), to compare with the links a draft writes."""
    match = _DOMAIN.search(website)
    return (match.group(1) if match else website).lower().removeprefix("www.")
