from pathlib import Path

import pytest

from generator.assets import ASSET_TYPES
from generator.errors import PromptError
from generator.profile import BusinessProfile
from generator.prompting import ContextPiece, business_block, fit_context, load_examples, load_prompt, parse_prompt_file
from generator.settings import PROJECT_ROOT
from generator.tokens import count_tokens

PROMPTS = PROJECT_ROOT / "prompts"


@pytest.mark.parametrize("asset_type", sorted(ASSET_TYPES))
def test_every_asset_type_has_a_valid_prompt_for_its_stage(asset_type: str) -> None:
    prompt = load_prompt(PROMPTS, asset_type)
    assert prompt.version
    assert prompt.stage == ASSET_TYPES[asset_type].stage
    assert "business_name" in prompt.variables


def test_the_frame_carries_the_task_offer_notes_earlier_assets_example_and_fields() -> None:
    frame = load_prompt(PROMPTS, "asset_frame")
    assert {"task", "offer", "notes", "earlier_assets", "example", "fields", "instructions"} <= set(frame.variables)
    assert "profile" not in frame.variables  # the business's facts come first, in their own block (a shared prefix)


def test_the_business_block_carries_the_brand_rules_fenced_as_data(coffee: BusinessProfile) -> None:
    assert load_prompt(PROMPTS, "system").variables == []  # one system prompt for every business
    block = business_block(PROMPTS, coffee)
    assert block.startswith("<business_facts>") and block.rstrip().endswith("</business_facts>")
    for fact in ("warm, neighbourly", "artisanal", "the best coffee in Portland", "Tasting Flight Box (12 USD)",
                 "4.9 stars from 640 Google reviews", "(Dana R., Sellwood)"):  # fmt: skip
        assert fact in block


def test_every_worked_example_is_a_valid_asset_without_the_profiles_facts() -> None:
    from generator.facts import fact_fields

    book = load_examples(PROMPTS)
    assert len(book.businesses) >= 2
    for business in book.businesses.values():
        assert set(business.examples) == set(ASSET_TYPES)
        for asset_type, example in business.examples.items():
            cls = ASSET_TYPES[asset_type]
            fixed = fact_fields(cls)
            assert not set(fixed) & set(example.asset) and (example.offer is not None) == bool(fixed)
            filler = {"title": "t", "name": "n", "price": 1, "offer_name": "o", "ladder_position": "core offer",
                      "opt_out": "Reply STOP to opt out"}  # fmt: skip
            cls.model_validate({**example.asset, **{f: filler[f] for f in fixed}})


def test_missing_variable_is_named() -> None:
    prompt = parse_prompt_file("---\nid: t\nversion: '1'\ndescription: d\nvariables: [a, b]\n---\n{a} {b}", source="t")
    with pytest.raises(PromptError, match="needs variable"):
        prompt.fill({"a": "1"})


def test_undeclared_placeholder_is_rejected() -> None:
    with pytest.raises(PromptError, match=r"not declared.*oops"):
        parse_prompt_file("---\nid: t\nversion: '1'\ndescription: d\nvariables: []\n---\n{oops}", source="t")


def test_unknown_front_matter_key_is_rejected() -> None:
    with pytest.raises(PromptError, match="extra"):
        parse_prompt_file("---\nid: t\nversion: '1'\ndescription: d\nauthor: me\n---\nhi", source="t")


def test_id_must_match_file_name(tmp_path: Path) -> None:
    (tmp_path / "x.md").write_text("---\nid: y\nversion: '1'\ndescription: d\n---\nhi")
    with pytest.raises(PromptError, match="must match"):
        load_prompt(tmp_path, "x")


def test_context_is_fitted_most_relevant_first_with_labels() -> None:
    pieces = [
        ContextPiece(text="low " * 300, source="low.md", score=0.1),
        ContextPiece(text="high " * 100, source="high.md", score=0.9),
        ContextPiece(text="mid " * 100, source="mid.md", score=0.5),
    ]
    text, used = fit_context(pieces, 250)
    assert [p.source for p in used] == ["high.md", "mid.md"]
    assert text.startswith("- high high") and "high.md" not in text  # no file names for a model to copy
    assert count_tokens(text) <= 250
