"""The asset types beyond one message per stage: sequences with send days, channel-bound messages, pages.

Every type drafts a valid typed asset with the fake model (the schema it is asked for, the channel's rules and the
profile's facts together), and the channel rules of knowledge/channels.yaml hold on validation.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from generator.asset_base import channel_rules
from generator.asset_channels import SmsMessage
from generator.asset_sequences import EmailSequence, ReviewSequence, WelcomeSequence
from generator.assets import ASSET_TYPES, SocialPost, channel_limits
from generator.chains import draft
from generator.cli import app
from generator.drafts import Draft, DraftRequest
from generator.evaluation.gate import gate_for
from generator.evaluation.rule_scorers import Subject, channel_length, sequence_timing
from generator.profile import BusinessProfile
from generator.prompting import field_guide
from generator.rules import ladder_problems
from generator.settings import PROJECT_ROOT, Settings
from tests.fakes import SchemaFake

NEW_TYPES = ["meta_ad", "linkedin_ad", "nurture_sequence", "welcome_sequence", "lead_magnet_page",
             "entry_offer_page", "order_bump", "sms_message", "onboarding_sequence", "upsell_sequence",
             "winback_email", "review_sequence"]  # fmt: skip
SEQUENCES = [t for t in NEW_TYPES if t.endswith("_sequence")]


def email(day: int, trigger: str = "Signed up", subject: str | None = None) -> dict[str, Any]:
    return {
        "send_day": day,
        "trigger": trigger,
        "subject": subject or f"Day {day} tip from Harbor Lane",
        "preview": "A quick one for your morning cup.",
        "body": "Let the kettle rest for thirty seconds after it boils, then pour slowly in circles.",
        "call_to_action": "Reply and tell us how it tasted.",
    }


def test_cvj_stages_lists_at_least_twenty_asset_types() -> None:
    result = CliRunner().invoke(app, ["stages"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    listed = [t for t in ASSET_TYPES if re.search(rf"\b{t}\b", result.output)]
    assert len(listed) == len(ASSET_TYPES) >= 20
    assert set(NEW_TYPES) <= set(ASSET_TYPES)


@pytest.mark.parametrize("asset_type", sorted(ASSET_TYPES))
def test_every_asset_type_drafts_a_valid_typed_asset_with_the_fake_model(
    asset_type: str, settings: Settings, coffee: BusinessProfile
) -> None:
    cls = ASSET_TYPES[asset_type]
    result = draft(coffee, DraftRequest(stage=cls.stage, asset_type=asset_type), model=SchemaFake(), index=None,
                   settings=settings)  # fmt: skip
    assert result.asset_type == asset_type and result.stage == cls.stage
    asset = Draft.model_validate_json(result.model_dump_json()).typed()  # the saved draft reads back, typed
    assert isinstance(asset, cls)
    report = asset.channel_report()
    assert report is None or report[0] == [], report
    if asset_type in channel_rules():
        assert report is not None and channel_rules()[asset_type].name in report[1]
    gate = gate_for(settings.eval_dir, settings.prompts_dir).check(asset.as_text(), asset=asset, profile=coffee)
    assert {c.id: c.passed for c in gate.checks}.get("no_debris"), gate
    assert not re.search(r"[{}]|'\w+':", asset.as_text())  # typed parts read as text, not as a dict


@pytest.mark.parametrize("asset_type", SEQUENCES)
def test_sequence_messages_carry_their_send_day_and_trigger(asset_type: str) -> None:
    cls = ASSET_TYPES[asset_type]
    spec = cls.for_channel(None).model_json_schema()
    message = spec["$defs"]["EmailMessage"]["properties"]
    assert message["send_day"]["type"] == "integer" and message["trigger"]["maxLength"] == 60
    assert message["subject"]["maxLength"] == channel_rules()[asset_type].fields["subject"]  # the channel's limit
    extra = {"first_win": "The first cup that tastes like the café's"} if cls is ReviewSequence else {}
    asset = cls.model_validate({"goal": "They brew a better cup.", **extra,
                                "messages": [email(7), email(0), email(400, subject="Much later")]})  # fmt: skip
    assert isinstance(asset, EmailSequence)
    assert [m.send_day for m in asset.messages] == [0, 7, 365]  # sorted by day; out-of-range days clamped
    guide = field_guide(cls.for_channel(None))
    assert '  - "send_day" (a number)' in guide and '  - "trigger" (max 60 chars)' in guide
    assert "Messages 2:" in asset.as_text() and "Send day: 7" in asset.as_text()


def test_sequence_rules_and_the_welcome_sequence_delivering_on_day_zero() -> None:
    late = WelcomeSequence.model_validate({"goal": "Use the sheet.", "messages": [email(3), email(1), email(6)]})
    assert [m.send_day for m in late.messages] == [0, 2, 5]  # delivered on day 0, the gaps kept: not re-asked
    with pytest.raises(ValidationError, match="Email allows 60"):
        WelcomeSequence.model_validate({"goal": "g", "messages": [email(0, subject="s" * 61), email(2), email(3)]})
    with pytest.raises(ValidationError, match="at least 3"):
        WelcomeSequence.model_validate({"goal": "Use the sheet.", "messages": [email(0)]})
    paced = WelcomeSequence.model_validate({"goal": "g", "messages": [email(0), email(2), email(5)]})
    result = sequence_timing(Subject(stage="subscribe", text=paced.as_text(), asset=paced), {})
    assert result is not None and result.score == 1.0 and "day 0, day 2, day 5" in result.reason
    same_subject = email(5, subject="Day 0 tip from Harbor Lane")
    crowded = WelcomeSequence.model_validate({"goal": "g", "messages": [email(0), email(0), same_subject]})
    result = sequence_timing(Subject(stage="subscribe", text="", asset=crowded), {})
    assert result is not None and result.score < 0.5
    assert "same day" in result.reason and "share a subject" in result.reason
    paid = [email(0, "Paid"), email(3, "Paid"), email(9, "Paid")]
    early = ReviewSequence.model_validate({"goal": "g", "first_win": "Their first great cup at home", "messages": paid})
    result = sequence_timing(Subject(stage="advocate", text="", asset=early), {})
    assert result is not None and "not timed to the first win" in result.reason
    assert sequence_timing(Subject(stage="aware", text="x"), {}) is None  # not a sequence: does not apply


def test_an_sms_keeps_to_its_segments_and_says_how_to_stop() -> None:
    sms = ASSET_TYPES["sms_message"]
    message = "Harbor Lane: three roasts, shipped free, 12 USD. harborlanecoffee.example/flight"
    ok = sms.model_validate({"message": message, "opt_out": "Reply STOP to opt out"})
    report = ok.channel_report()
    assert report is not None and report[0] == [] and "1 segment" in report[1]
    assert "2 segments" in (sms.model_validate({"message": "word " * 50, "opt_out": "Reply STOP"}).channel_report()
                            or ([], ""))[1]  # fmt: skip
    with pytest.raises(ValidationError, match="allows 306"):
        sms.model_validate({"message": "word " * 61, "opt_out": "Reply STOP to opt out"})
    with pytest.raises(ValidationError, match=r"outside plain SMS text.*allows 134"):  # one emoji: UCS-2
        sms.model_validate({"message": "☕ " + "word " * 27, "opt_out": "Reply STOP to opt out"})
    with pytest.raises(ValidationError, match="does not say how to stop"):
        sms.model_validate({"message": "Three roasts for 12 USD.", "opt_out": "Thanks for reading"})
    curly = SmsMessage.model_validate(
        {"message": "It\u2019s \u201cfresh\u201d \u2014 really\u2026", "opt_out": "Reply STOP"}
    )
    assert curly.message == 'It\'s "fresh" - really...'  # plain punctuation: the text stays plain SMS (160)


def test_the_opt_out_line_is_the_channels_not_the_models(settings: Settings, coffee: BusinessProfile) -> None:
    rule = channel_rules()["sms_message"]
    SchemaFake.reset()
    result = draft(coffee, DraftRequest(stage="convert", asset_type="sms_message"), model=SchemaFake(), index=None,
                   settings=settings)  # fmt: skip
    assert result.asset["opt_out"] == rule.fixed["opt_out"] == "Reply STOP to opt out"
    assert '"opt_out"' not in SchemaFake.prompts["SmsMessageCopy"]  # the model is never asked for it
    room = ASSET_TYPES["sms_message"].for_channel(None).model_json_schema()["properties"]["message"]["maxLength"]
    assert room + 1 + len(rule.fixed["opt_out"]) == rule.max_chars == 306  # the longest message still fits


def test_ads_take_their_field_limits_from_the_channel_rules() -> None:
    for asset_type, fields in (("meta_ad", ("primary_text", "headline", "description")),
                               ("linkedin_ad", ("intro_text", "headline", "description"))):  # fmt: skip
        rule = channel_rules()[asset_type]
        schema = ASSET_TYPES[asset_type].for_channel("instagram").model_json_schema()["properties"]
        assert {f: schema[f]["maxLength"] for f in fields} == {f: rule.fields[f] for f in fields}
    base: dict[str, Any] = {
        "audience": "Portland home brewers",
        "primary_text": "Bitter coffee? Cooler water.",
        "headline": "The 30-second fix",
        "description": "From Harbor Lane",
        "call_to_action": "Learn more",
        "image_idea": "A kettle resting beside a pour-over cone.",
    }
    ad = ASSET_TYPES["meta_ad"].model_validate(base)
    result = channel_length(Subject(stage="aware", text=ad.as_text(), asset=ad), {})
    assert result is not None and result.score == 1.0 and "headline 17/40" in result.reason
    with pytest.raises(ValidationError, match="headline is 41 characters; Meta ads allows 40"):
        ASSET_TYPES["meta_ad"].model_validate({**base, "headline": "h" * 41})
    with pytest.raises(ValidationError, match="call_to_action"):
        ASSET_TYPES["meta_ad"].model_validate({**base, "call_to_action": "Buy it now please"})


def test_social_channels_stay_the_four_a_post_may_go_to() -> None:
    assert set(channel_limits()) == {"facebook", "instagram", "linkedin", "x"}
    assert SocialPost.for_channel("sms") is SocialPost  # sms binds its own type, not a social post


def test_pages_and_the_order_bump(coffee: BusinessProfile) -> None:
    page = ASSET_TYPES["entry_offer_page"].model_validate({
        "headline": "Find your roast", "subhead": "Three bags, shipped free.", "bullets": ["One", "Two", "Three"],
        "proof": ["4.9 stars from 640 Google reviews."], "call_to_action": "Get the box",
        "faq": [{"question": "Is it a subscription?", "answer": "No."}, {"question": "Fresh?", "answer": "Yes."}],
    })  # fmt: skip
    assert "Faq 2:\nQuestion: Fresh?\nAnswer: Yes." in page.as_text()
    bump = {"name": "Magnet set", "price": 40, "checkbox_line": "Add it", "pitch": "Handy.", "call_to_action": "Add"}
    assert "order bump costs 40 USD" in ladder_problems(ASSET_TYPES["order_bump"].model_validate(bump), coffee)[0]
    assert ladder_problems(ASSET_TYPES["order_bump"].model_validate({**bump, "price": 4}), coffee) == []


def test_new_types_present_the_profiles_offer_in_the_prompt(settings: Settings, coffee: BusinessProfile) -> None:
    SchemaFake.reset()
    for asset_type, offer in (("welcome_sequence", "The 5-Minute Pour-Over Cheat Sheet"),
                              ("entry_offer_page", "Tasting Flight Box (12 USD)"),
                              ("upsell_sequence", "Roaster's Choice Subscription (34 USD)")):  # fmt: skip
        cls = ASSET_TYPES[asset_type]
        draft(coffee, DraftRequest(stage=cls.stage, asset_type=asset_type), model=SchemaFake(), index=None,
              settings=settings)  # fmt: skip
        assert offer in SchemaFake.prompts[cls.__name__]
    result = draft(coffee, DraftRequest(stage="convert", asset_type="order_bump"), model=SchemaFake(), index=None,
                   settings=settings)  # fmt: skip
    assert result.proposed == ["name", "price"]


def test_every_new_type_has_labelled_publishable_and_nonsense_drafts() -> None:
    rows = [json.loads(line) for line in (PROJECT_ROOT / "eval" / "labelled" / "more_types_drafts.jsonl").open()]
    for asset_type in NEW_TYPES:
        verdicts = {r["verdict"] for r in rows if r["asset_type"] == asset_type}
        assert verdicts == {"publishable", "nonsense"}, asset_type
    for row in rows:  # each a valid asset of its type, for its type's stage
        assert ASSET_TYPES[row["asset_type"]].stage == row["stage"]
        ASSET_TYPES[row["asset_type"]].model_validate(row["asset"])
