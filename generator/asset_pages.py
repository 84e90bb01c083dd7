"""Pages and checkout offers: a landing page for the lead magnet, one for the entry offer, and an order bump.

A landing page has the sections a page builder expects (headline, subhead, bullets, proof, the button, a FAQ);
the offer it presents comes from the profile, like the lead magnet's and the entry offer's own assets.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from generator.asset_base import Asset, Items, Part, Text


class FaqItem(Part):
    """One question a visitor asks before acting, and its answer."""

    question: Annotated[str, Text(120)]
    answer: Annotated[str, Text(300)]


class LandingPage(Asset):
    """Base of the landing pages: the sections, top to bottom."""

    headline: Annotated[str, Text(90)] = Field(description="The promise, in the visitor's words")
    subhead: Annotated[str, Text(200)] = Field(description="Who it is for and what they get")
    bullets: Annotated[list[str], Items(150, 6, 3)] = Field(description="What is inside or what they get, one each")
    proof: Annotated[list[str], Items(250, 3)] = Field(
        description="Ratings, reviews or testimonials from the business facts only"
    )
    call_to_action: Annotated[str, Text(50)] = Field(description="The button text")
    faq: Annotated[list[FaqItem], Field(min_length=2, max_length=4)] = Field(
        description="Questions a visitor asks before acting, answered plainly"
    )


class LeadMagnetPage(LandingPage):
    asset_type = "lead_magnet_page"
    stage = "subscribe"
    label = "Landing page for the free gift"


class EntryOfferPage(LandingPage):
    asset_type = "entry_offer_page"
    stage = "convert"
    label = "Landing page for the first offer"


class OrderBump(Asset):
    asset_type = "order_bump"
    stage = "convert"
    label = "Order bump or tripwire"

    name: Annotated[str, Text(80)] = Field(description="The small add-on offered at checkout")
    price: float = Field(ge=0, description="Small next to the order it joins")
    checkbox_line: Annotated[str, Text(120)] = Field(description="The line beside the tick box at checkout")
    pitch: Annotated[str, Text(300)] = Field(description="Why it belongs with this order, in two sentences")
    call_to_action: Annotated[str, Text(60)] = Field(description="The words on the tick box or button")
