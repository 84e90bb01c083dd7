"""The studio's Voice & audit tab with a fake model: a voice learned from pasted samples goes into the business in
use and is saved; too few samples or an unreadable file are messages in the page; an audit maps a little copy onto
the journey (a fake stage classifier, the rules-only eval) and offers its HTML report."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import gradio as gr
import pytest
import yaml

from generator.evaluation.results import StageFit
from generator.evaluation.scoring import Evaluator
from generator.profile import parse_profile_text
from generator.runtime import Components
from generator.settings import PROJECT_ROOT, Settings
from generator.stages import STAGE_IDS
from generator.ui import build_ui
from generator.ui_voice import COVERAGE_HEADERS, split_pieces
from tests.fakes import SchemaFake

COFFEE = PROJECT_ROOT / "examples" / "harbor-lane-coffee.yaml"
SAMPLES = [
    "Fresh beans this week! We roasted a Kenyan that tastes like blackcurrant jam. You'll love it. Grab a bag "
    "before Saturday, we only made forty.",
    "Rainy Tuesday? We've got you. Come in, shake off the umbrella and try the new oat flat white. It's on us if "
    "you bring a friend who's never been!",
    "Ever wondered why your pour-over tastes sour? It's the grind. Go a notch finer, wait thirty seconds, and "
    "you'll taste the difference. We promise!",
]
PASTED = "\n---\n".join(SAMPLES)
# Two small pieces of existing copy: a fake classifier places the first on aware and the second on convert.
COPY = {
    "aware": "Supermarket beans tasting flat? Harbor Lane Coffee roasts small batches every week in Portland, so "
    "the bag you open is days old. Follow us for a brewing tip every Friday.",
    "convert": "Try the Harbor Lane Coffee Tasting Flight Box for 12 USD: three 80 g bags of this month's roasts "
    "with tasting notes, shipped free. Order yours today.",
}


class FakeClassifier:
    """Places each COPY text on its stage at 90% (no embedding model loaded)."""

    def classify(self, texts: list[str], *, vectors: object = None) -> list[StageFit]:
        stages = {text: stage for stage, text in COPY.items()}
        fits = []
        for text in texts:
            stage = stages.get(text, "aware")
            fits.append(
                StageFit(stage=stage, confidence=0.9, scores={s: 0.9 if s == stage else 0.01 for s in STAGE_IDS})
            )
        return fits


def open_demo(settings: Settings, *, classifier: FakeClassifier | None) -> contextlib.AbstractContextManager[Any]:
    """The whole studio over a schema-following fake model, no index, the rules-only eval (with ``classifier``)."""
    parts = Components(
        settings,
        model_factory=lambda _: contextlib.nullcontext(SchemaFake()),
        index_factory=lambda _: None,
        evaluator_factory=lambda s, judge: Evaluator(settings=s, classifier=classifier),  # type: ignore[arg-type]
    )

    @contextlib.contextmanager
    def opened() -> Iterator[gr.Blocks]:
        with parts.service() as service:
            yield build_ui(lambda: service, examples_dir=settings.examples_dir)

    return opened()


@pytest.fixture
def demo(settings: Settings) -> Iterator[gr.Blocks]:
    with open_demo(settings, classifier=FakeClassifier()) as blocks:
        yield blocks


def handler(demo: gr.Blocks, name: str, elem_id: str) -> Callable[..., Any]:
    """The page's event function called ``name`` that updates the component ``elem_id`` (as the page calls it)."""
    (found,) = [
        d.fn
        for d in demo.fns.values()
        if d.name == name and d.fn is not None and any(getattr(o, "elem_id", None) == elem_id for o in d.outputs)
    ]
    return found


def last(steps: Iterator[Any]) -> Any:
    *_, final = steps
    return final


def test_the_tab_is_in_the_studio(demo: gr.Blocks) -> None:
    tabs = [b for b in demo.blocks.values() if isinstance(b, gr.Tab)]
    assert "Voice & audit" in [t.label for t in tabs]


def test_pasted_samples_split_on_a_line_of_dashes() -> None:
    assert split_pieces("one\n---\ntwo\n  ---  \n\nthree\n---\n") == ["one", "two", "three"]
    assert split_pieces("a line with --- inside stays whole") == ["a line with --- inside stays whole"]


def test_a_voice_learned_from_three_pasted_samples_goes_into_the_business_and_is_saved(
    demo: gr.Blocks, settings: Settings
) -> None:
    profile_text = COFFEE.read_text()
    status, description, traits, exemplars, learned = handler(demo, "on_learn", "voice-status")(
        profile_text, None, PASTED
    )
    assert "from 3 samples" in status and "Harbor Lane Coffee" in status
    assert description.startswith("**The voice** (from 3 samples): ") and "contractions" in description.lower()
    assert traits[0][0] == "Words per sentence" and len(traits) == 16
    assert exemplars.startswith("**Exemplars**") and "\n> " in exemplars
    state, banner, used, picker = handler(demo, "on_use", "voice-status")(profile_text, learned)
    assert "voice" in yaml.safe_load(state)
    assert parse_profile_text(state).voice is not None and "Harbor Lane Coffee" in banner
    saved = settings.data_dir / "businesses" / "harbor-lane-coffee.yaml"
    assert f"Saved to `{saved}`" in used and parse_profile_text(saved.read_text()).voice is not None
    assert picker["value"] == "saved:harbor-lane-coffee"
    shown = handler(demo, "show", "voice-status")(state)
    assert "voice, as saved" in shown[0] and shown[1] == description


def test_too_few_samples_is_a_message_in_the_page(demo: gr.Blocks) -> None:
    learn = handler(demo, "on_learn", "voice-status")
    with pytest.raises(gr.Error, match="from 3 to 20 pieces of the business's own copy; got 2"):
        learn(COFFEE.read_text(), None, "\n---\n".join(SAMPLES[:2]))
    with pytest.raises(gr.Error, match="Add 3 to 20 samples"):
        learn(COFFEE.read_text(), None, "  ")
    with pytest.raises(gr.Error, match="Learn a voice first"):
        handler(demo, "on_use", "voice-status")(COFFEE.read_text(), {})


def test_an_unreadable_sample_file_is_named_in_the_message(demo: gr.Blocks, tmp_path: Path) -> None:
    broken = tmp_path / "brochure.pdf"
    broken.write_bytes(b"not a pdf at all")
    with pytest.raises(gr.Error, match=r"Could not read brochure\.pdf: .*Remove it"):
        handler(demo, "on_learn", "voice-status")(COFFEE.read_text(), [str(broken)], PASTED)


def test_samples_come_from_files_as_well(demo: gr.Blocks, tmp_path: Path) -> None:
    (tmp_path / "posts.md").write_text("\n\n---\n\n".join(SAMPLES[:2]))
    (tmp_path / "about.txt").write_text(SAMPLES[2])
    files = [str(tmp_path / "posts.md"), str(tmp_path / "about.txt")]
    status, *_ = handler(demo, "on_learn", "voice-status")("", files, "")
    assert status.startswith("Voice learned from 3 samples")


def test_an_audit_of_two_texts_shows_the_missing_stages_and_what_to_draft_first(
    demo: gr.Blocks, tmp_path: Path
) -> None:
    (tmp_path / "offer.md").write_text(COPY["convert"])
    steps = handler(demo, "on_audit", "audit-plan")(COFFEE.read_text(), [str(tmp_path / "offer.md")], COPY["aware"])
    plan, coverage, pieces, html_path = last(steps)
    assert len(coverage) == 8 and len(coverage[0]) == len(COVERAGE_HEADERS)
    by_stage = {row[0]: row for row in coverage}
    assert by_stage["Aware"][1] == "pasted 1" and by_stage["Convert"][1] == "offer.md"
    missing = [row[0] for row in coverage if row[3].endswith("missing")]
    assert len(missing) == 6 and "Aware" not in missing and "Convert" not in missing
    assert all(row[1] == "nothing yet" and row[2] == "" for row in coverage if row[0] in missing)
    assert "pass mark" in by_stage["Convert"][2]
    assert "6 missing" in plan and "**Draft these first**" in plan and plan.count("\n1. ") == 1
    assert plan.count("\n3. ") == 1 and "nothing you have serves" in plan
    assert [p[0] for p in pieces] == ["offer.md", "pasted 1"] and pieces[0][1] == "convert"
    html = Path(html_path).read_text()
    assert Path(html_path).name == "audit-harbor-lane-coffee.html" and html.startswith("<!doctype html>")
    assert "Journey audit: Harbor Lane Coffee" in html


def test_an_audit_needs_copy_a_business_and_a_classifier(demo: gr.Blocks, settings: Settings) -> None:
    run = handler(demo, "on_audit", "audit-plan")
    with pytest.raises(gr.Error, match="existing copy"):
        last(run(COFFEE.read_text(), None, ""))
    with pytest.raises(gr.Error, match="choose a business on the Business tab"):
        last(run("", None, COPY["aware"]))
    with open_demo(settings, classifier=None) as bare, pytest.raises(gr.Error, match="no stage classifier"):
        last(handler(bare, "on_audit", "audit-plan")(COFFEE.read_text(), None, COPY["aware"]))


def test_editing_the_business_in_the_form_keeps_its_voice() -> None:
    from generator.ui_business import with_unshown

    current = "name: Harbor Lane Coffee\nvoice:\n  description: Short and warm.\n"
    kept = with_unshown({"name": "Harbor Lane Coffee", "market": "Portland"}, current)
    assert kept["voice"] == {"description": "Short and warm."} and kept["market"] == "Portland"
    assert with_unshown({"name": "X"}, "") == {"name": "X"}
