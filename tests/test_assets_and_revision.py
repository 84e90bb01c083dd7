"""Asset types, channel limits, ladder rules, variants and revision, with scripted fake models."""

import json
from pathlib import Path
from typing import ClassVar

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import BaseMessage
from pydantic import ValidationError
from typer.testing import CliRunner

from generator.assets import ASSET_TYPES, EntryOffer, ReferralProgram, SocialPost, channel_limits
from generator.chains import draft_variants, load_angles
from generator.cli import app
from generator.drafts import Draft, DraftRequest
from generator.profile import BusinessProfile
from generator.revision import revise
from generator.rules import ladder_problems, money_amounts
from generator.settings import Settings
from tests.test_chains import GOOD_POST

ENTRY = {
    "name": "Tasting Flight Box",
    "whats_included": ["Three 80 g bags", "Brew cards"],
    "price": 12,
    "time_commitment": "Ten minutes a day for a week",
    "value_framing": "Three roasts for less than two café lattes.",
    "risk_reducer": "Not for you? We refund it, no questions.",
    "sales_copy": "Find your favourite roast before you commit to anything.",
    "call_to_action": "Get the flight",
}


def test_there_are_at_least_twenty_asset_types_covering_every_stage() -> None:
    assert len(ASSET_TYPES) >= 20
    by_stage = {cls.stage for cls in ASSET_TYPES.values()}
    assert len(by_stage) == 8


@pytest.mark.parametrize("channel", ["x", "facebook", "instagram", "linkedin"])
def test_social_posts_respect_each_channel_limit(channel: str) -> None:
    limit = channel_limits()[channel]
    too_long = {**GOOD_POST, "channel": channel, "body": "word " * (limit // 5 + 1)}
    with pytest.raises(ValidationError, match=f"{channel} allows {limit}|at most 2000 characters"):
        SocialPost.model_validate(too_long)
    schema = SocialPost.for_channel(channel).model_json_schema()["properties"]
    assert schema["channel"]["const"] == channel
    worst_case = sum(schema[f]["maxLength"] for f in ("hook", "body", "call_to_action"))
    assert worst_case <= limit


def test_search_ad_headlines_are_capped_at_30_characters() -> None:
    spec = ASSET_TYPES["search_ad"].model_json_schema()["properties"]
    assert spec["headlines"]["items"]["maxLength"] == 30
    assert spec["descriptions"]["items"]["maxLength"] == 90


def test_ladder_rules(coffee: BusinessProfile) -> None:
    assert ladder_problems(EntryOffer.model_validate(ENTRY), coffee) == []
    pricey = EntryOffer.model_validate({**ENTRY, "price": 40})
    assert "not less than the core offer" in ladder_problems(pricey, coffee)[0]
    program = {
        "program_name": "Brew Buddies",
        "mechanism": "give-get",
        "sharer_reward": "$500 credit",
        "friend_reward": "$5 off",
        "rules": ["One per friend"],
        "sharer_invite": "Share your link",
        "friend_message": "Your friend sent you $5",
        "tracking": "Unique links",
    }
    assert "larger than the core offer" in ladder_problems(ReferralProgram.model_validate(program), coffee)[0]
    assert money_amounts("Give $10, get £5.50 or 20 USD") == [10.0, 5.5, 20.0]
    assert money_amounts("from £42,000 a year, or $1,400.50 once, or €4,50 a cup") == [42000.0, 1400.5, 4.5]


class RecordingFake(FakeListChatModel):
    """A fake that remembers the prompts it was given."""

    seen: ClassVar[list[list[BaseMessage]]] = []

    def _call(self, messages: list[BaseMessage], *args: object, **kwargs: object) -> str:
        self.seen.append(messages)
        return super()._call(messages, *args, **kwargs)


def test_variants_take_different_angles_and_redo_duplicates(settings: Settings, coffee: BusinessProfile) -> None:
    other = {**GOOD_POST, "hook": "Three mistakes that make home coffee bitter."}
    RecordingFake.seen = []
    model = RecordingFake(responses=[json.dumps(GOOD_POST), json.dumps(GOOD_POST), json.dumps(other)])
    results = draft_variants(coffee, DraftRequest(stage="aware"), 2, model=model, index=None, settings=settings)
    assert [r.variant for r in results] == [1, 2]
    assert results[0].asset != results[1].asset
    prompts = [str(m[-1].content) for m in model.seen]
    angles = load_angles(settings.prompts_dir)
    assert angles[0] in prompts[0] and angles[1] in prompts[1] and angles[0] not in prompts[1]
    assert "Variant" not in prompts[0]  # a small model echoes "Variant 1 of 2" into the copy
    assert len(model.seen) == 3  # the duplicate second variant was redone


def _draft(settings: Settings, coffee: BusinessProfile) -> Draft:
    from generator.chains import draft

    model = FakeListChatModel(responses=[json.dumps(ENTRY)])
    return draft(coffee, DraftRequest(stage="convert"), model=model, index=None, settings=settings)


def test_revision_is_a_new_version_that_follows_the_instruction(settings: Settings, coffee: BusinessProfile) -> None:
    first = _draft(settings, coffee)
    shorter = {**ENTRY, "sales_copy": "Find your roast."}
    RecordingFake.seen = []
    model = RecordingFake(responses=[json.dumps(shorter)])
    second = revise(first, "make the sales copy shorter", model=model, settings=settings, profile=coffee)
    prompt = str(model.seen[0][-1].content)
    assert "make the sales copy shorter" in prompt and "Three roasts for less" in prompt
    assert second.version == 2 and second.revisions == ["make the sales copy shorter"]
    assert second.asset["sales_copy"] == "Find your roast." and first.asset["sales_copy"] != second.asset["sales_copy"]
    assert second.meta.prompt_id == "revise"


def test_revision_re_asks_on_a_banned_word(settings: Settings, coffee: BusinessProfile) -> None:
    first = _draft(settings, coffee)
    banned = {**ENTRY, "sales_copy": "A cheap way in."}
    model = FakeListChatModel(responses=[json.dumps(banned), json.dumps(ENTRY)])
    second = revise(first, "punchier", model=model, settings=settings, profile=coffee)
    assert second.meta.attempts == 2


def test_cli_revise_rejects_a_file_that_is_not_a_draft(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"hello": 1}')
    result = CliRunner().invoke(app, ["revise", str(path), "--instruction", "shorter"])
    assert result.exit_code == 2 and "is not a draft" in result.stderr


def test_cli_draft_rejects_an_unknown_asset_type(tmp_path: Path) -> None:
    from tests.conftest import EXAMPLES

    result = CliRunner().invoke(app, ["draft", "-p", str(EXAMPLES[0]), "-s", "aware", "--asset", "sonnet"])
    assert result.exit_code == 2 and "Unknown asset type 'sonnet'" in result.stderr


def test_video_duration_is_clamped_and_small_upsells_may_cost_less(coffee: BusinessProfile) -> None:
    from generator.assets import AscensionOffer, VideoScript

    script = VideoScript(title="t", hook="h", scenes=["a"], closing_line="c", duration_seconds=300)
    assert script.duration_seconds == 180
    offer = {
        "offer_name": "Extra bag",
        "ladder_position": "upsell",
        "price": 6,
        "why_now": "w",
        "price_anchor": "p",
        "email_subject": "s",
        "email_body": "b",
        "page_copy": "c",
    }
    assert ladder_problems(AscensionOffer.model_validate(offer), coffee) == []
    core = AscensionOffer.model_validate({**offer, "ladder_position": "core offer"})
    assert "not more than the entry offer" in ladder_problems(core, coffee)[0]
