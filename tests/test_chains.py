"""Chain logic with scripted fake models: parsing, repair, brand rules, metadata."""

import json
import re
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from generator.assets import EntryOffer, SocialPost
from generator.chains import draft
from generator.drafts import Draft, DraftRequest
from generator.errors import GenerationError
from generator.facts import copy_schema, offer_facts
from generator.profile import BusinessProfile
from generator.prompting import asset_messages, field_guide
from generator.rules import rule_problems as brand_problems
from generator.settings import Settings
from generator.stages import StageId
from generator.structured import InvalidOutput, parse_json_object

GOOD_POST: dict[str, Any] = {
    "channel": "instagram",
    "hook": "Your beans are older than you think.",
    "body": "Harbor Lane Coffee roasts every week in Portland. Here is how to read a roast date.",
    "call_to_action": "Follow for weekly brew tips",
    "hashtags": ["#portlandcoffee"],
}


def test_parse_accepts_fenced_json() -> None:
    text = "Sure!\n```json\n" + json.dumps(GOOD_POST) + "\n```"
    assert parse_json_object(text, SocialPost).hook == GOOD_POST["hook"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("no json here", "no JSON object"),
        ('{"channel": "x", ', "no JSON object"),
        ('{"channel": "x",}', "malformed"),
        (json.dumps({**GOOD_POST, "hook": ""}), "hook"),
        (json.dumps({**GOOD_POST, "extra": 1}), "extra"),
    ],
)
def test_parse_reports_problems(text: str, problem: str) -> None:
    with pytest.raises(InvalidOutput) as info:
        parse_json_object(text, SocialPost)
    assert problem in "; ".join(info.value.problems)


def test_brand_rules_catch_words_and_claims(coffee: BusinessProfile) -> None:
    post = SocialPost.model_validate({**GOOD_POST, "body": "Cheap beans, the best coffee in Portland."})
    problems = brand_problems(post, coffee)
    assert any("'cheap'" in p for p in problems)
    assert any("the best coffee in Portland" in p for p in problems)
    assert brand_problems(SocialPost.model_validate(GOOD_POST), coffee) == []


def test_field_guide_lists_every_field_with_limits() -> None:
    guide = field_guide(EntryOffer)
    for name in EntryOffer.model_fields:
        assert f'"{name}"' in guide
    assert "max 100 chars" in guide


def test_the_model_never_fills_the_profiles_facts(coffee: BusinessProfile) -> None:
    facts = offer_facts(EntryOffer, coffee)
    assert facts.fixed == {"name": "Tasting Flight Box", "price": 12} and facts.proposed == []
    schema = copy_schema(EntryOffer, facts.fixed)
    assert "name" not in schema.model_fields and "price" not in schema.model_fields
    assert set(schema.model_fields) == set(EntryOffer.model_fields) - {"name", "price"}


def test_messages_share_the_business_prefix_and_carry_no_file_names(
    settings: Settings, coffee: BusinessProfile
) -> None:
    def messages_for(stage: StageId) -> list[str]:
        request = DraftRequest(stage=stage)
        asset_cls = request.asset_class
        facts = offer_facts(asset_cls, coffee)
        schema = copy_schema(asset_cls, facts.fixed)
        messages, _ = asset_messages(settings.prompts_dir, coffee, request, notes="- Low risk first.",
                                     schema=schema, offer=facts.offer)  # fmt: skip
        return [str(m.content) for m in messages]

    (system, offer), (system_too, post) = messages_for("convert"), messages_for("aware")
    assert system == system_too and "Harbor Lane" not in system  # one system prompt for every draft
    shared = next(i for i, (a, b) in enumerate(zip(offer, post, strict=False)) if a != b)
    assert "</business_facts>" in offer[:shared]  # the whole fact sheet is the shared prefix
    assert "Tasting Flight Box (12 USD)" in offer[:shared] and "artisanal" in offer[:shared]
    assert "The offer (fixed, use it exactly): Tasting Flight Box" in offer
    assert '"risk_reducer"' in offer and '"price"' not in offer.split("with these fields:")[1]
    assert "a worked example for a different business" in offer and "Low risk first." in offer
    assert not re.search(r"\w+\.md\b|\bstage\b", offer, re.I)  # nothing a small model would copy as debris


def test_draft_repairs_a_banned_word_then_returns_metadata(settings: Settings, coffee: BusinessProfile) -> None:
    bad = json.dumps({**GOOD_POST, "body": "Our cheap beans are roasted weekly."})
    model = FakeListChatModel(responses=[bad, json.dumps(GOOD_POST)])
    result = draft(coffee, DraftRequest(stage="aware"), model=model, index=None, settings=settings)
    assert result.meta.attempts == 2
    assert result.asset["body"] == GOOD_POST["body"]
    assert result.meta.prompt_id == "social_post" and result.meta.prompt_version == "3"
    round_trip = Draft.model_validate_json(result.model_dump_json())
    assert round_trip.typed() == SocialPost.model_validate(GOOD_POST)


def test_draft_gives_up_with_the_last_completion(settings: Settings, coffee: BusinessProfile) -> None:
    model = FakeListChatModel(responses=["junk 1", "junk 2", "junk 3"])
    with pytest.raises(GenerationError) as info:
        draft(coffee, DraftRequest(stage="aware"), model=model, index=None, settings=settings)
    assert info.value.last_completion == "junk 3"
    assert "3 attempts" in info.value.message


def test_draft_streams_the_text_as_it_arrives(settings: Settings, coffee: BusinessProfile) -> None:
    model = FakeListChatModel(responses=[json.dumps(GOOD_POST)])
    pieces: list[str] = []
    result = draft(
        coffee, DraftRequest(stage="aware"), model=model, index=None, settings=settings, on_text=pieces.append
    )
    assert len(pieces) > 1
    assert "".join(pieces) == json.dumps(GOOD_POST)
    assert result.asset["hook"] == GOOD_POST["hook"]
    # the fake streams no usage (like llama.cpp's server): tokens are counted, not left at 0
    assert result.meta.usage.output_tokens > 10 and result.meta.usage.input_tokens > result.meta.usage.output_tokens


def test_an_answer_that_still_breaks_a_rule_is_kept_with_its_problems(
    settings: Settings, coffee: BusinessProfile
) -> None:
    """After the re-asks, a well-formed answer is kept (nothing is lost) and says what is wrong; junk is an error."""
    cheap = json.dumps({**GOOD_POST, "body": "Cheap beans."})
    kept = draft(coffee, DraftRequest(stage="aware"), model=FakeListChatModel(responses=[cheap] * 3), index=None,
                 settings=settings)  # fmt: skip
    assert kept.meta.attempts == 3 and kept.asset["body"] == "Cheap beans."
    assert any("'cheap'" in problem for problem in kept.meta.problems)
    with pytest.raises(GenerationError) as junk:
        draft(coffee, DraftRequest(stage="aware"), model=FakeListChatModel(responses=["x"] * 3), index=None,
              settings=settings)  # fmt: skip
    assert junk.value.last_completion == "x"
