"""The journey check: each asset hands the customer on, offers keep one name and price, promises are kept."""

from __future__ import annotations

from typing import Any

from generator.drafts import AssetMeta, Draft
from generator.journey import check_journey
from generator.kit_models import KitEntry
from generator.profile import BusinessProfile
from generator.settings import PROJECT_ROOT
from generator.stages import StageId
from tests.test_assets_and_revision import ENTRY
from tests.test_chains import GOOD_POST

KNOWLEDGE = PROJECT_ROOT / "knowledge"
MAGNET = {
    "title": "The 5-Minute Pour-Over Cheat Sheet",
    "format": "one-page printable",
    "problem": "Home coffee tastes flat and bitter.",
    "promise": "A better pour-over tomorrow morning with the right ratio and grind.",
    "outline": ["The ratio that works", "Grind size by brewer", "A 5-step pour-over routine"],
    "optin_headline": "Better coffee tomorrow",
    "optin_bullets": ["Ratios", "Grind sizes"],
    "form_cta": "Send me the sheet",
    "thank_you_message": "It's in your inbox. Ready for more? The Tasting Flight Box brings three roasts to try.",
}


def _entry(stage: StageId, asset_type: str, asset: dict[str, Any]) -> KitEntry:
    meta = AssetMeta(prompt_id=asset_type, prompt_version="1", provider="local", model="m")
    draft = Draft(business="Harbor Lane Coffee", stage=stage, asset_type=asset_type, asset=asset, meta=meta)
    return KitEntry(key=f"{stage}.{asset_type}", stage=stage, asset_type=asset_type, draft=draft)


def test_each_stage_says_what_it_hands_the_customer_to(coffee: BusinessProfile) -> None:
    entries = [
        _entry("aware", "social_post", GOOD_POST),
        _entry("subscribe", "lead_magnet", MAGNET),
        _entry("convert", "entry_offer", ENTRY),
        KitEntry(key="excite.onboarding_wow", stage="excite", asset_type="onboarding_wow", error="timed out"),
    ]
    check = check_journey(coffee, entries, KNOWLEDGE)
    rows = {row.stage: row for row in check.rows}
    assert list(rows) == ["aware", "subscribe", "convert", "excite"]
    assert rows["aware"].leads_on and "follow" in rows["aware"].hands_to.lower()
    assert rows["subscribe"].leads_on and rows["subscribe"].hands_to == "Tasting Flight Box"
    assert rows["convert"].leads_on and rows["convert"].breaks == []
    assert rows["excite"].asset == "not drafted" and check.breaks == ["Excite: no asset: the journey stops here"]


def test_breaks_are_found_and_named(coffee: BusinessProfile) -> None:
    lost = {**MAGNET, "thank_you_message": "Thanks, enjoy it!", "outline": ["Milk frothing", "Latte art"]}
    wrong_price = {**ENTRY, "sales_copy": "The Tasting Flight Box is just $9 this week."}
    check = check_journey(coffee, [_entry("subscribe", "lead_magnet", lost),
                                   _entry("convert", "entry_offer", wrong_price)], KNOWLEDGE)  # fmt: skip
    subscribe, convert = check.rows
    assert subscribe.leads_on is False and "does not hand on to the entry offer" in subscribe.breaks
    assert any("does not deliver the promise" in b for b in subscribe.breaks)
    assert convert.breaks == ["names Tasting Flight Box at 9 USD; the profile says 12"]
