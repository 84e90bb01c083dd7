"""The on-brief gate: each check fails the nonsense it is for and passes copy an editor would keep."""

from __future__ import annotations

from typing import Any

import pytest

from generator.assets import ASSET_TYPES, EntryOffer, ReviewRequest
from generator.evaluation.gate import gate_for
from generator.evaluation.results import GateResult
from generator.profile import BusinessProfile
from generator.settings import PROJECT_ROOT
from tests.test_assets_and_revision import ENTRY

GATE = gate_for(PROJECT_ROOT / "eval", PROJECT_ROOT / "prompts")  # as the evaluator builds it
POST: dict[str, Any] = {
    "channel": "instagram",
    "hook": "Why your home coffee tastes flat",
    "body": "Most supermarket beans were roasted months ago. Beans roasted this week at Harbor Lane Coffee still "
    "smell of fruit and chocolate when you grind them. Try a bag and taste the difference in your morning cup.",
    "call_to_action": "Follow us for a brew tip every Friday.",
    "hashtags": ["#portlandcoffee"],
}


def _check(coffee: BusinessProfile, asset_type: str, fields: dict[str, Any], **changes: Any) -> GateResult:
    asset = ASSET_TYPES[asset_type].model_validate({**fields, **changes})
    return GATE.check(asset.as_text(), asset=asset, profile=coffee)


def _failed(result: GateResult) -> dict[str, str]:
    return {c.id: c.reason for c in result.checks if not c.passed}


def test_copy_an_editor_would_keep_passes_every_check(coffee: BusinessProfile) -> None:
    for asset_type, fields in (("social_post", POST), ("entry_offer", ENTRY)):
        result = _check(coffee, asset_type, fields)
        assert result.passed, _failed(result)
        assert {c.id for c in result.checks} == {
            "on_business",
            "no_debris",
            "facts",
            "field_sense",
            "language",
            "written_in",
        }


@pytest.mark.parametrize(
    ("changes", "check", "reason"),
    [
        ({"hook": "Tight hips?", "body": "Our yoga studio opens its doors. Stretch, breathe and relax with us.",
          "call_to_action": "Follow us for opening times.", "hashtags": []},
         "on_business", "hardly touches what it sells"),
        ({"body": POST["body"] + " Better than Starbucks or BlueBottle."}, "on_business", "names another business"),
        ({"hook": "{{ content }}"}, "no_debris", "a template placeholder in hook"),
        ({"call_to_action": "Read 07-advocate.md next"}, "no_debris", "a file name"),
        ({"hook": "Aware-stage post for the week"}, "no_debris", "a stage label"),
        ({"body": POST["body"] + " See quick_start_steps."}, "no_debris", "a field name"),
        ({"body": POST["body"] + " Whats Included: two bags."}, "no_debris", "('Whats Included:')"),
        ({"body": POST["body"] + " Write it about them and its own offers only, with these fields."}, "no_debris",
         "body repeats the prompt"),
        ({"hook": "/* hook */ Why your coffee tastes flat"}, "no_debris", "a code comment in hook"),
        ({"hashtags": ["#portlandcoffee", "timeCommitment"]}, "no_debris", "a field name in hashtags[2]"),
        ({"call_to_action": "bonus/surprise"}, "no_debris", "a field name in call_to_action"),
        ({"hook": "Write a hook that stops the scroll"}, "no_debris", "hook repeats what the field is for"),
        ({"hook": "Write your post here for the whole week"}, "no_debris", "an echoed instruction"),
        ({"body": POST["body"] + " Loved by 5,000 subscribers."}, "facts", "5,000 subscribers"),
        ({"body": POST["body"] + " Rated 4.7 stars by locals."}, "facts", "4.7 stars"),
        ({"body": POST["body"] + " Beans now $9 a bag."}, "facts", "the price 9 USD"),
        ({"call_to_action": "Follow @LunaBoss for more."}, "field_sense", "@LunaBoss"),
        ({"call_to_action": "Read more at bestdeals.example.org"}, "field_sense", "links to bestdeals.example.org"),
        ({"body": "coffee beans coffee beans coffee beans coffee beans coffee beans coffee beans coffee beans"},
         "language", "repeats"),
        ({"body": "Harbor Lane Coffee roast Portland beans grind cup fresh origin ritual neighbourhood whole-bean"},
         "language", "a string of words"),
    ],
)  # fmt: skip
def test_each_kind_of_nonsense_fails_its_check(
    coffee: BusinessProfile, changes: dict[str, str], check: str, reason: str
) -> None:
    result = _check(coffee, "social_post", POST, **changes)
    assert not result.passed
    assert reason in _failed(result).get(check, ""), _failed(result)


def test_offers_keep_the_profiles_names_and_prices(coffee: BusinessProfile) -> None:
    renamed = _failed(_check(coffee, "entry_offer", ENTRY, name="CorporateBusiness.coffee", price=3.6))
    assert "not Tasting Flight Box" in renamed["facts"] and "it costs 3.6 USD" in renamed["facts"]
    assert "the price" not in _failed(_check(coffee, "entry_offer", ENTRY, value_framing="Save $22 on a month."))
    odd = _failed(_check(coffee, "entry_offer", ENTRY, time_commitment="4528"))
    assert "does not read as a duration" in odd["field_sense"] and "has no words" in odd["language"]
    assert isinstance(EntryOffer.model_validate(ENTRY), EntryOffer)


def test_a_testimonial_must_come_from_the_profiles_proof(coffee: BusinessProfile) -> None:
    real = 'As Dana R. says, "I finally make coffee at home that tastes like the café." Join her.'
    fake = 'As Linda told us, "Harbor Lane changed my whole life and my mornings forever." Join her.'
    assert "facts" not in _failed(_check(coffee, "social_post", POST, body=POST["body"] + " " + real))
    assert "not in the profile's proof" in _failed(_check(coffee, "social_post", POST, body=fake))["facts"]


def test_a_review_goes_to_a_review_site_by_a_real_channel(coffee: BusinessProfile) -> None:
    ask = {
        "timing": "Two days after their first delivery arrives",
        "channel": "email",
        "review_site": "Google",
        "the_ask": "Would you share one sentence about your first cup on Google?",
        "message": "Hi! Your Tasting Flight Box from Harbor Lane Coffee arrived on Monday. If a cup made you smile, "
        "a short Google review helps neighbours find us. It takes a minute: harborlanecoffee.example/review",
        "ugc_prompt": "Snap your first pour-over and tag us.",
    }
    assert _check(coffee, "review_request", ask).passed
    bad = _failed(_check(coffee, "review_request", ask, review_site="coffee-deals.biz", channel="The Business Profile"))
    assert "is not a review site" in bad["field_sense"] and "is not a way to reach a customer" in bad["field_sense"]
    assert isinstance(ReviewRequest.model_validate(ask), ReviewRequest)


def test_without_a_profile_only_what_needs_none_is_checked() -> None:
    result = GATE.check("Follow us at othersite.example for tips. [link]", business="Harbor Lane Coffee")
    assert result.passed, _failed(result)  # no profile: no topic, facts or links to compare; [link] is a merge field
    assert not GATE.check("Hello {{ name_of_business }}, see stage_2.md").passed
