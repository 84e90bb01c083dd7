"""Deterministic brand and offer rules an asset must pass before it is returned (and a re-ask if not).

Shared by the chains (validate, then re-ask) and the eval suite (score). Each rule returns the
problems it found, phrased so the model can fix them.
"""

from __future__ import annotations

import re

from generator.asset_pages import OrderBump
from generator.assets import AscensionOffer, Asset, EntryOffer, ReferralProgram
from generator.language import DEFAULT_LANGUAGE, comma_number, decimal_comma, fold_accents
from generator.profile import BusinessProfile

# English and other decimal-point languages: $10, £5.50, 20 USD, $1,400 (thousands), €4,50 (a decimal comma).
_AMOUNT = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:[.,]\d+)?"
_MONEY = re.compile(rf"(?:[$£€]\s?({_AMOUNT}))|({_AMOUNT})\s?(?:usd|gbp|eur|dollars|pounds|euros)\b", re.I)
_THOUSANDS = re.compile(r"^\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
# Decimal-comma languages (es, de, fr): 1.200,50 € or 1 200,50 € (a point or a space groups thousands, in threes),
# 9,90€, € 9,90, 24 euros, S/ 60, $19.990 (Chilean pesos); typed the English way (9.90 €, 1,200.50 €) still reads.
_COMMA_AMOUNT = (
    r"(?:\d{1,3}(?:[.\u00a0\u202f ]\d{3})+(?:,\d+)?"  # 1.200,50 and 1 200
    r"|\d{1,3}(?:,\d{3})+\.\d{1,2}"  # 1,200.50
    r"|\d+(?:,\d+|\.\d{1,2})?)(?!\d)"  # 9,90 and 9.90
)
_SIGNS = r"US\$|R\$|S/\.?|CHF|[$£€¥₹₽₺₴₫₩]"
_NAMES = (  # the other currency codes in capitals only: "5 try" and "2 pen" are words
    r"usd|gbp|eur|(?-i:CHF|MXN|CLP|ARS|COP|PEN|BRL|SEK|NOK|DKK|PLN|CZK|HUF|RON|TRY|RUB|UAH)|dollars|pounds|euros?"
    r"|d[oó]lar(?:es)?|pesos|soles|libras|reais|reales|francs|francos|franken|kr|kronor|kroner|zł|złotych"
)
_COMMA_MONEY = re.compile(
    rf"(?:(?:{_SIGNS})\s?({_COMMA_AMOUNT}))|(?<![\d.,])({_COMMA_AMOUNT})\s?(?:[$£€¥₹₽₺₴₫₩]|(?:{_NAMES})\b)", re.I
)


def contains_phrase(text: str, phrase: str) -> bool:
    """Whole-word, case- and accent-blind match ('cheap' is not found in 'cheapest' or 'cheaply'; 'Panaderia', as
    an SMS writes it, is 'Panadería')."""
    folded = re.escape(fold_accents(phrase).lower())
    return re.search(rf"(?<!\w){folded}(?!\w)", fold_accents(text).lower()) is not None


def avoided_words(text: str, profile: BusinessProfile) -> list[str]:
    return [w for w in profile.brand_voice.words_to_avoid if contains_phrase(text, w)]


def banned_claims(text: str, profile: BusinessProfile) -> list[str]:
    return [c for c in profile.compliance.never_claim if contains_phrase(text, c)]


def money_amounts(text: str, language: str = DEFAULT_LANGUAGE) -> list[float]:
    """Amounts of money as the language writes them: in English $10, £5.50, 20 USD, $1,400 (thousands) or €4,50
    (a decimal comma); in a decimal-comma language (``generator.language.decimal_comma``) 9,90 €, 1.200 € or
    $19.990 too."""
    if decimal_comma(language):
        found = (comma_number(a or b) for a, b in _COMMA_MONEY.findall(text))
        return [a for a in found if a is not None]
    amounts = []
    for a, b in _MONEY.findall(text):
        raw = a or b
        amounts.append(float(raw.replace(",", "") if _THOUSANDS.match(raw) else raw.replace(",", ".")))
    return amounts


def ladder_problems(asset: Asset, profile: BusinessProfile) -> list[str]:
    """Prices must respect the offers ladder: entry < core; core offers, bundles and subscriptions above the
    entry offer (a small upsell or order bump may cost less); an order bump and referral rewards below the core
    offer."""
    ladder = profile.offers
    core, entry = ladder.core_offer.price, ladder.entry_offer.price if ladder.entry_offer else None
    cur = ladder.currency
    if isinstance(asset, EntryOffer) and core and asset.price >= core:
        return [f"the entry offer costs {asset.price:g} {cur}, not less than the core offer ({core:g} {cur})"]
    if (
        isinstance(asset, AscensionOffer)
        and asset.ladder_position != "upsell"
        and entry is not None
        and asset.price <= entry
    ):
        return [f"the {asset.ladder_position} costs {asset.price:g} {cur}, not more than the entry offer ({entry:g})"]
    if isinstance(asset, OrderBump) and core and asset.price >= core:
        return [f"the order bump costs {asset.price:g} {cur}, not less than the core offer ({core:g} {cur})"]
    if isinstance(asset, ReferralProgram) and core:
        rewards = money_amounts(f"{asset.sharer_reward} {asset.friend_reward}", profile.language)
        if any(r > core for r in rewards):
            return [f"a referral reward is larger than the core offer's price ({core:g} {cur}); size it to the ladder"]
    return []


def rule_problems(asset: Asset, profile: BusinessProfile) -> list[str]:
    """Every deterministic problem with an asset for this business."""
    text = asset.as_text()
    problems = [f"it uses the word '{w}', which {profile.name} never uses" for w in avoided_words(text, profile)]
    problems += [f"it makes a claim {profile.name} must never make: '{c}'" for c in banned_claims(text, profile)]
    return problems + ladder_problems(asset, profile)
