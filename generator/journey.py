"""The journey check: does a kit hold together as one customer journey, not eight separate drafts?

- offer names and prices agree across every asset (and with the profile);
- each asset hands the customer to the next stage's asset (post -> content -> lead magnet -> entry offer
  -> onboarding -> upsell -> review -> referral), as ``knowledge/journey.yaml`` describes;
- the lead magnet's outline delivers what its promise says;
- the referral rewards are affordable under the price ladder.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from generator.assets import AscensionOffer, Asset, EntryOffer, LeadMagnet, ReferralProgram
from generator.errors import DocumentError
from generator.evaluation.gate import content_stems
from generator.kit_models import JourneyCheck, JourneyRow, KitEntry
from generator.profile import BusinessProfile, Offer
from generator.rules import contains_phrase, ladder_problems, money_amounts
from generator.stages import STAGE_IDS, load_stages

JOURNEY_FILE = "journey.yaml"
OfferKey = str  # lead_magnet, entry_offer, core_offer, upsell


class HandOff(BaseModel):
    """How one stage's asset hands the customer on (knowledge/journey.yaml)."""

    model_config = ConfigDict(extra="forbid")
    hands_to: str
    expect: str
    fields: list[str] = Field(min_length=1)
    mentions: list[OfferKey] = Field(default_factory=list)
    phrases: list[str] = Field(default_factory=list)


@cache
def load_hand_offs(knowledge_dir: Path) -> dict[str, HandOff]:
    path = knowledge_dir / JOURNEY_FILE
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        hand_offs = {str(k): HandOff.model_validate(v) for k, v in (data or {}).items()}
        for spec in hand_offs.values():
            for phrase in spec.phrases:
                re.compile(phrase)
    except FileNotFoundError:
        raise DocumentError(f"{path} is missing: the journey check's hand-offs live there.") from None
    except (yaml.YAMLError, ValidationError, re.error, AttributeError) as exc:
        raise DocumentError(f"{path} is not a valid journey file: {exc}") from None
    unknown = set(hand_offs) - set(STAGE_IDS)
    if unknown:
        raise DocumentError(f"{path}: unknown stage(s) {', '.join(sorted(unknown))}.")
    return hand_offs


def _offers(profile: BusinessProfile, key: OfferKey) -> list[Offer]:
    ladder = profile.offers
    found = {
        "lead_magnet": [ladder.lead_magnet] if ladder.lead_magnet else [],
        "entry_offer": [ladder.entry_offer] if ladder.entry_offer else [],
        "core_offer": [ladder.core_offer],
        "upsell": list(ladder.upsells),
    }
    return found.get(key, [])


def _field_text(asset: Asset, fields: list[str]) -> str:
    values: list[str] = []
    data = asset.model_dump(mode="json")
    for name in fields:
        value = data.get(name)
        values += [str(v) for v in value] if isinstance(value, list) else [str(value)] if value else []
    return "\n".join(values)


def _hand_off(asset: Asset, spec: HandOff, profile: BusinessProfile) -> tuple[str, bool]:
    """What the copy hands on (the phrase or offer it names) and whether that reaches the next asset."""
    text = _field_text(asset, spec.fields)
    for key in spec.mentions:
        for offer in _offers(profile, key):
            if contains_phrase(text, offer.name):
                return offer.name, True
    for phrase in spec.phrases:
        match = re.search(rf"(?<!\w){phrase}(?!\w)", text, re.I)
        if match:
            sentence = next((s for s in re.split(r"(?<=[.!?])\s+|\n", text) if match.group(0) in s), match.group(0))
            return sentence.strip()[:140], True
    return f"nothing that leads to {spec.expect}", False


def _price_breaks(asset: Asset, profile: BusinessProfile) -> list[str]:
    """An offer named with another price than the profile's, in any asset."""
    problems = []
    cur = profile.offers.currency
    text = asset.as_text()
    for offer in profile.offers.rungs():
        for match in re.finditer(re.escape(offer.name), text, re.I):
            nearby = money_amounts(text[match.end() : match.end() + 40], profile.language)
            if nearby and offer.price and all(abs(a - offer.price) > 0.005 for a in nearby):
                problems.append(f"names {offer.name} at {nearby[0]:g} {cur}; the profile says {offer.price:g}")
    fixed: list[tuple[str, float]] = []
    if isinstance(asset, EntryOffer):
        fixed.append((asset.name, asset.price))
    if isinstance(asset, AscensionOffer):
        fixed.append((asset.offer_name, asset.price))
    for name, price in fixed:
        same = [o for key in ("entry_offer", "core_offer", "upsell") for o in _offers(profile, key) if o.name == name]
        if same and abs(same[0].price - price) > 0.005:
            problems.append(f"prices {name} at {price:g} {cur}; the profile says {same[0].price:g}")
    return problems


def _promise_kept(asset: LeadMagnet) -> list[str]:
    promised = content_stems(asset.promise)
    delivered = content_stems(" ".join(asset.outline))
    if promised and not promised & delivered:
        return [f"the outline does not deliver the promise ('{asset.promise[:80]}')"]
    return []


def check_journey(profile: BusinessProfile, entries: list[KitEntry], knowledge_dir: Path) -> JourneyCheck:
    """One row per stage in journey order, with what each asset hands on and every break found."""
    hand_offs = load_hand_offs(knowledge_dir)
    first: dict[str, KitEntry] = {}
    for candidate in entries:
        first.setdefault(candidate.stage, candidate)
    rows = []
    for stage in load_stages():
        entry = first.get(stage.id)
        if entry is None:
            continue
        if entry.draft is None:
            rows.append(JourneyRow(stage=stage.id, stage_name=stage.name, asset="not drafted", hands_to="-",
                                   breaks=["no asset: the journey stops here"]))  # fmt: skip
            continue
        asset = entry.draft.typed()
        spec = hand_offs.get(stage.id)
        hands_to, leads_on = _hand_off(asset, spec, profile) if spec else ("-", None)
        breaks: list[str] = [f"does not hand on to {spec.expect}"] if spec is not None and leads_on is False else []
        breaks += _price_breaks(asset, profile)
        if isinstance(asset, LeadMagnet):
            breaks += _promise_kept(asset)
        if isinstance(asset, ReferralProgram):
            breaks += ladder_problems(asset, profile)
        evaluation = entry.draft.evaluation
        rows.append(
            JourneyRow(
                stage=stage.id,
                stage_name=stage.name,
                asset=type(asset).label,
                verdict=evaluation.verdict if evaluation else None,
                hands_to=hands_to,
                leads_on=leads_on,
                breaks=breaks,
            )
        )
    return JourneyCheck(rows=rows)
