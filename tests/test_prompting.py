from pathlib import Path

import pytest

from generator.assets import ASSET_TYPES
from generator.errors import PromptError
from generator.prompting import ContextPiece, fit_context, load_prompt, parse_prompt_file
from generator.settings import PROJECT_ROOT
from generator.tokens import count_tokens

PROMPTS = PROJECT_ROOT / "prompts"


@pytest.mark.parametrize("asset_type", sorted(ASSET_TYPES))
def test_every_asset_type_has_a_valid_prompt_for_its_stage(asset_type: str) -> None:
    prompt = load_prompt(PROMPTS, asset_type)
    assert prompt.version
    assert prompt.stage == ASSET_TYPES[asset_type].stage
    assert "business_name" in prompt.variables


def test_the_frame_carries_profile_context_earlier_assets_and_fields() -> None:
    frame = load_prompt(PROMPTS, "asset_frame")
    assert {"task", "profile", "context", "earlier_assets", "fields", "instructions"} <= set(frame.variables)


def test_system_prompt_carries_the_brand_rules() -> None:
    prompt = load_prompt(PROMPTS, "system")
    text = prompt.fill({"business_name": "Acme", "tone": "dry", "words_to_avoid": "cheap", "never_claim": "cures"})
    assert "Acme" in text and "cheap" in text and "cures" in text


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
    assert text.startswith("[high.md]")
    assert count_tokens(text) <= 250
