"""Facts come from the profile, copy from the model.

Where an asset presents an offer the profile already has (the lead magnet, the entry offer, the core offer),
its name and price are filled in from the profile and left out of the schema the model is asked to fill: the
model writes the copy around them and cannot rename or reprice them. Where the profile lacks the offer, the
model proposes one and the draft marks those fields as proposed (the price-ladder rules check them).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from generator.asset_base import channel_rules
from generator.asset_channels import SmsMessage, channel_rule_in
from generator.asset_pages import EntryOfferPage, LeadMagnetPage, OrderBump
from generator.asset_sequences import UpsellSequence, WelcomeSequence
from generator.assets import AscensionOffer, Asset, EntryOffer, LeadMagnet, ReferralProgram
from generator.profile import BusinessProfile, Offer


class OfferFacts(BaseModel):
    """What the profile fixes for one asset, and what the model must propose instead."""

    fixed: dict[str, Any] = Field(default_factory=dict, description="Field values taken from the profile")
    proposed: list[str] = Field(default_factory=list, description="Fields the model proposes: the profile lacks them")
    offer: str | None = Field(default=None, description="The offer, as the prompt states it")


def _describe(offer: Offer, currency: str) -> str:
    price = "free" if offer.price == 0 else f"{offer.price:g} {currency}"
    return f"{offer.name} ({price})" + (f": {offer.description}" if offer.description else "")


# The fields each offer-presenting asset takes from the profile rather than from the model.
FACT_FIELDS: dict[type[Asset], tuple[str, ...]] = {
    LeadMagnet: ("title",),
    EntryOffer: ("name", "price"),
    AscensionOffer: ("offer_name", "price", "ladder_position"),
}


def fact_fields(asset_cls: type[Asset]) -> tuple[str, ...]:
    """The fields the model never writes: the profile's offer facts, and what the type's channel rules fix."""
    rule = channel_rules().get(getattr(asset_cls, "asset_type", ""))
    fixed_by_channel = tuple(rule.fixed) if rule else ()
    return next((fields for cls, fields in FACT_FIELDS.items() if issubclass(asset_cls, cls)), ()) + fixed_by_channel


def offer_facts(asset_cls: type[Asset], profile: BusinessProfile) -> OfferFacts:
    """The fixed fields for this asset type and business (none for assets that present no profile offer), with
    those its channel's rules fix (an SMS's opt-out line, knowledge/channels.yaml)."""
    facts = _offer_facts(asset_cls, profile)
    rule = channel_rule_in(getattr(asset_cls, "asset_type", ""), profile.language)
    if rule and rule.fixed:
        facts.fixed = {**rule.fixed, **facts.fixed}
    return facts


def _offer_facts(asset_cls: type[Asset], profile: BusinessProfile) -> OfferFacts:
    ladder, currency = profile.offers, profile.offers.currency
    if issubclass(asset_cls, LeadMagnet):
        if ladder.lead_magnet is None:
            return OfferFacts(proposed=["title"])
        return OfferFacts(fixed={"title": ladder.lead_magnet.name}, offer=_describe(ladder.lead_magnet, currency))
    if issubclass(asset_cls, EntryOffer):
        if ladder.entry_offer is None:
            return OfferFacts(proposed=["name", "price"])
        entry = ladder.entry_offer
        return OfferFacts(fixed={"name": entry.name, "price": entry.price}, offer=_describe(entry, currency))
    if issubclass(asset_cls, AscensionOffer):
        core = ladder.core_offer
        return OfferFacts(
            fixed={"offer_name": core.name, "price": core.price, "ladder_position": "core offer"},
            offer=_describe(core, currency),
        )
    if issubclass(asset_cls, ReferralProgram):
        return OfferFacts(proposed=["sharer_reward", "friend_reward"])
    if issubclass(asset_cls, OrderBump):
        return OfferFacts(proposed=["name", "price"])
    return OfferFacts(offer=_presented(asset_cls, profile))


def _presented(asset_cls: type[Asset], profile: BusinessProfile) -> str | None:
    """The profile's offer an asset presents without taking fields from it (a page, a sequence), as the prompt
    states it; None where the profile lacks it or the type presents none."""
    ladder = profile.offers
    offer = None
    if issubclass(asset_cls, LeadMagnetPage | WelcomeSequence):
        offer = ladder.lead_magnet
    elif issubclass(asset_cls, EntryOfferPage | SmsMessage):
        offer = ladder.entry_offer
    elif issubclass(asset_cls, UpsellSequence):
        offer = ladder.core_offer
    return _describe(offer, ladder.currency) if offer else None


def copy_schema(asset_cls: type[Asset], fixed: dict[str, Any]) -> type[Asset]:
    """The asset's schema without the fields the profile fixes: what the model is asked to fill."""
    if not fixed:
        return asset_cls
    fields: dict[str, Any] = {  # create_model's (annotation, FieldInfo) field definitions
        name: (info.annotation, info)
        for name, info in asset_cls.model_fields.items()
        if name not in fixed  # the model never sees, so never writes, a fixed field
    }
    model: type[Asset] = create_model(f"{asset_cls.__name__}Copy", __base__=_Copy, __doc__=asset_cls.__doc__, **fields)
    return model


class _Copy(Asset):
    """What the model fills: a fact field it writes anyway (a price) is dropped, the profile's wins."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


def with_facts(asset_cls: type[Asset], copy: Asset, fixed: dict[str, Any]) -> Asset:
    """The whole asset: the model's copy plus the profile's facts, validated together (channel rules included)."""
    return asset_cls.model_validate({**copy.model_dump(mode="json"), **fixed})


def business_facts(profile: BusinessProfile) -> str:
    """The profile as the short fact sheet every draft for this business starts with (the shared prefix)."""
    audience, voice, ladder = profile.audience, profile.brand_voice, profile.offers
    lines = [f"Business: {profile.name}" + (f" (website: {profile.website})" if profile.website else "")]
    lines += [f"Sells: {profile.what_it_sells}", f"Market: {profile.market}", f"Customers: {audience.who}"]
    for label, items in (
        ("Their problems", audience.pains),
        ("What they want", audience.desires),
        ("What holds them back", audience.objections),
    ):
        if items:
            lines.append(f"{label}: {'; '.join(items)}")
    lines.append(
        f"Voice: {voice.tone}" + (f"; words we like: {', '.join(voice.words_to_use)}" if voice.words_to_use else "")
    )
    if voice.words_to_avoid:
        lines.append(f"Never use the words: {', '.join(voice.words_to_avoid)}")
    if profile.compliance.never_claim:
        lines.append(f"Never claim: {'; '.join(profile.compliance.never_claim)}")
    lines.append(f"Offers (prices in {ladder.currency}):")
    # Plain words, not marketing jargon: a small model copies labels ("Lead magnet:") into the copy.
    ladder_rows = [("Free gift for signing up", ladder.lead_magnet), ("First small offer", ladder.entry_offer)]
    ladder_rows += [("Main offer", ladder.core_offer)] + [("Add-on", u) for u in ladder.upsells]
    lines += [f"- {label}: {_describe(offer, ladder.currency)}" for label, offer in ladder_rows if offer]
    if profile.proof.numbers:
        lines.append(f"Proof: {'; '.join(profile.proof.numbers)}")
    lines += [f'Testimonial: "{t.quote}" ({t.author})' for t in profile.proof.testimonials]
    return "\n".join(lines)
