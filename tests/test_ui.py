"""The UI's drafting function with a fake model: streams text, renders, and shows errors."""

import json

import gradio as gr
import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from generator.render import score_markdown
from generator.service import DraftingService
from generator.settings import PROJECT_ROOT, Settings
from generator.ui import build_ui, stream_draft, stream_revision
from tests.test_chains import GOOD_POST

COFFEE = PROJECT_ROOT / "examples" / "harbor-lane-coffee.yaml"


@pytest.fixture
def service(settings: Settings) -> DraftingService:
    return DraftingService(settings=settings, model=FakeListChatModel(responses=[json.dumps(GOOD_POST)]), index=None)


def test_stream_yields_live_text_then_the_rendered_draft(service: DraftingService) -> None:
    profile = COFFEE.read_text()
    updates = list(stream_draft(service, profile, "aware", None, "instagram", ""))
    assert len(updates) > 2
    live, rendered, payload = updates[-1]
    assert live == json.dumps(GOOD_POST)
    assert "Awareness social post" in rendered and GOOD_POST["hook"] in rendered
    assert payload is not None and payload["asset_type"] == "social_post"
    assert "*Scoring...*" in updates[-2][1] and "**Eval: " in rendered and "pass mark" in rendered


def test_bad_profile_is_a_visible_error(service: DraftingService) -> None:
    with pytest.raises(gr.Error, match="what_it_sells"):
        list(stream_draft(service, "name: only\n", "aware", None, "", ""))


def test_unknown_stage_is_a_visible_error(service: DraftingService) -> None:
    with pytest.raises(gr.Error, match="Unknown stage"):
        list(stream_draft(service, COFFEE.read_text(), "nirvana", None, "", ""))


def test_ui_builds(service: DraftingService) -> None:
    assert isinstance(build_ui(lambda: service, examples_dir=service.settings.examples_dir), gr.Blocks)


def test_revision_streams_a_new_version(settings: Settings) -> None:
    revised = {**GOOD_POST, "hook": "A shorter hook."}
    model = FakeListChatModel(responses=[json.dumps(GOOD_POST), json.dumps(revised)])
    service = DraftingService(settings=settings, model=model, index=None)
    profile = COFFEE.read_text()
    *_, (_, _, first) = stream_draft(service, profile, "aware", None, "instagram", "")
    *_, (_, rendered, second) = stream_revision(service, profile, first, "shorter hook")
    assert second is not None and second["version"] == 2 and second["asset"]["hook"] == "A shorter hook."
    assert "A shorter hook." in rendered


def test_revision_needs_a_draft_and_an_instruction(service: DraftingService) -> None:
    with pytest.raises(gr.Error, match="Draft something first"):
        list(stream_revision(service, "", None, "shorter"))


def test_the_score_shows_the_verdict_and_the_gate_problem_first() -> None:
    from generator.evaluation.results import AssetScore, GateCheck, GateResult

    check = GateCheck(id="no_debris", name="No template or prompt debris", passed=False, reason="'{{ content }}'")
    scored = AssetScore(stage="convert", score=0.07, passed=False, threshold=0.65, criteria=[],
                        gate=GateResult(passed=False, checks=[check]))  # fmt: skip
    shown = score_markdown(scored)
    assert "**Eval: 0.07, failed: off brief, not usable as is**" in shown
    assert shown.index("No template or prompt debris: '{{ content }}'") > shown.index("failed")
    on_brief = scored.model_copy(update={"gate": GateResult(passed=True, checks=[]), "score": 0.5})
    assert "needs work" in score_markdown(on_brief)
