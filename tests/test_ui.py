"""The studio's functions with a fake model: drafting streams, variants and candidates, revisions, hand edits and
versions, the business form, the knowledge listing, the journey map and kit, and the named API endpoints."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import gradio as gr
import pytest
import yaml
from icalendar import Calendar
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGenerationChunk

from generator.drafts import Draft
from generator.evaluation.results import AssetScore, GateCheck, GateResult
from generator.evaluation.scoring import Evaluator
from generator.kit import plan_kit
from generator.render import score_markdown
from generator.runtime import Components
from generator.service import DraftingService
from generator.settings import PROJECT_ROOT, Settings
from generator.ui import build_ui, stream_draft, stream_revision
from generator.ui_api import profile_text
from generator.ui_business import FIELDS, check, data_to_form, field_errors, form_to_data
from generator.ui_common import Background, Studio
from generator.ui_drafting import draft_steps, revision_steps, save_edit, version_label, what_changed
from generator.ui_journey import extra_choices, extras_in, kit_steps, put_in_kit, saved_kit, start_date
from generator.ui_journey_map import cards, journey_html
from tests.fakes import SchemaFake
from tests.test_chains import GOOD_POST

COFFEE = PROJECT_ROOT / "examples" / "harbor-lane-coffee.yaml"


class StreamingFake(SchemaFake):
    """SchemaFake that also streams (the studio drafts with ``on_text``): its valid answer in small pieces."""

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        text = self._call(messages, stop, run_manager, **kwargs)
        for start in range(0, len(text), 16):
            yield ChatGenerationChunk(message=AIMessageChunk(content=text[start : start + 16]))


@pytest.fixture
def service(settings: Settings) -> DraftingService:
    return DraftingService(settings=settings, model=FakeListChatModel(responses=[json.dumps(GOOD_POST)]), index=None)


@pytest.fixture
def studio(settings: Settings) -> Iterator[Studio]:
    """The studio over a schema-following fake model, no index, and the rules-only eval."""
    parts = Components(
        settings,
        model_factory=lambda _: contextlib.nullcontext(StreamingFake()),
        index_factory=lambda _: None,
        evaluator_factory=lambda s, judge: Evaluator(settings=s),
    )
    with parts.service() as opened:
        yield Studio(get_service=lambda: opened, examples_dir=settings.examples_dir)


def last(steps: Iterator[Any]) -> Any:
    *_, final = steps
    return final


# --- drafting ---------------------------------------------------------------------------------------------------


def test_stream_yields_live_text_then_the_rendered_draft(service: DraftingService) -> None:
    profile = COFFEE.read_text()
    updates = list(stream_draft(service, profile, "aware", None, "instagram", ""))
    assert len(updates) > 2
    live, rendered, payload = updates[-1]
    assert live == json.dumps(GOOD_POST)
    assert "Awareness social post" in rendered and GOOD_POST["hook"] in rendered
    assert payload is not None and payload["asset_type"] == "social_post"
    assert "*Scoring...*" in updates[-2][1] and "**Eval: " in rendered and "pass mark" in rendered
    saved = service.settings.data_dir / "drafts" / "harbor-lane-coffee" / "social_post-v1.json"
    assert Draft.model_validate_json(saved.read_text()).asset["hook"] == GOOD_POST["hook"]


def test_bad_profile_is_a_visible_error(service: DraftingService) -> None:
    with pytest.raises(gr.Error, match="what_it_sells"):
        list(stream_draft(service, "name: only\n", "aware", None, "", ""))


def test_unknown_stage_is_a_visible_error(service: DraftingService) -> None:
    with pytest.raises(gr.Error, match="Unknown stage"):
        list(stream_draft(service, COFFEE.read_text(), "nirvana", None, "", ""))


def test_no_business_yet_says_where_to_choose_one(service: DraftingService) -> None:
    with pytest.raises(gr.Error, match="The profile is empty: choose a business on the Business tab"):
        list(draft_steps(service, "", "aware", None, "", ""))


def test_ui_builds_with_its_named_endpoints(studio: Studio) -> None:
    demo = build_ui(studio.get_service, examples_dir=studio.examples_dir)
    assert isinstance(demo, gr.Blocks)
    named = {d.api_name for d in demo.fns.values() if d.api_visibility == "public"}
    assert {"draft", "score", "kit"} <= named


def test_revision_streams_a_new_version(settings: Settings) -> None:
    revised = {**GOOD_POST, "hook": "A shorter hook."}
    model = FakeListChatModel(responses=[json.dumps(GOOD_POST), json.dumps(revised)])
    service = DraftingService(settings=settings, model=model, index=None)
    profile = COFFEE.read_text()
    *_, (_, _, first) = stream_draft(service, profile, "aware", None, "instagram", "")
    *_, (_, rendered, second) = stream_revision(service, profile, first, "shorter hook")
    assert second is not None and second["version"] == 2 and second["asset"]["hook"] == "A shorter hook."
    assert "A shorter hook." in rendered
    shown = what_changed(Draft.model_validate(second), Draft.model_validate(first))
    assert "revised: shorter hook" in shown and "Changed: hook" in shown and "Score " in shown


def test_revision_needs_a_draft_and_an_instruction(service: DraftingService) -> None:
    with pytest.raises(gr.Error, match="Draft something first"):
        list(stream_revision(service, "", None, "shorter"))


def test_variants_come_side_by_side_each_scored(studio: Studio) -> None:
    step = last(draft_steps(studio.service(), COFFEE.read_text(), "subscribe", None, "", "", variants=3))
    assert [d.variant for d in step.drafts] == [1, 2, 3] and all(d.evaluation for d in step.drafts)
    saved = studio.folder("drafts") / "harbor-lane-coffee"
    assert sorted(p.name for p in saved.glob("*.json")) == [f"lead_magnet-v1-{n}.json" for n in (1, 2, 3)]


def test_candidates_keep_the_best_and_offer_the_others(studio: Studio) -> None:
    step = last(draft_steps(studio.service(), COFFEE.read_text(), "aware", None, "x", "", candidates=3))
    best, *others = step.drafts
    assert len(others) == 2 and not any(o.alternatives for o in others) and best.evaluation is not None


def test_candidates_and_variants_together_are_refused(studio: Studio) -> None:
    with pytest.raises(gr.Error, match="candidates or variants, not both"):
        list(draft_steps(studio.service(), COFFEE.read_text(), "aware", None, "", "", candidates=2, variants=2))


def test_stop_drops_the_draft_in_progress(studio: Studio) -> None:
    stop = threading.Event()
    stop.set()
    with pytest.raises(gr.Error, match="Stopped"):
        list(draft_steps(studio.service(), COFFEE.read_text(), "aware", None, "", "", stop=stop))


def test_a_hand_edit_is_rescored_and_saved_as_the_next_version(studio: Studio) -> None:
    service, profile = studio.service(), COFFEE.read_text()
    first = last(draft_steps(service, profile, "aware", None, "instagram", "")).drafts[0]
    edited = yaml.safe_dump({**first.asset, "hook": "Fresh beans, roasted this week, two streets away."})
    second = save_edit(service, profile, first, edited, 2)
    assert second is not None and second.version == 2 and second.revisions[-1] == "edited by hand: hook"
    assert second.evaluation is not None and "edited by hand: hook" in version_label(second)
    assert save_edit(service, profile, second, edited, 3) is None  # nothing changed
    with pytest.raises(gr.Error, match="The edit cannot be saved"):
        save_edit(service, profile, second, yaml.safe_dump({**second.asset, "hook": ""}), 3)
    with pytest.raises(gr.Error, match="YAML"):
        save_edit(service, profile, second, "just words", 3)


def test_revision_takes_the_version_number_it_is_given(studio: Studio) -> None:
    service, profile = studio.service(), COFFEE.read_text()
    first = last(draft_steps(service, profile, "aware", None, "instagram", "")).drafts[0]
    step = last(revision_steps(service, profile, first.model_dump(mode="json"), "warmer", number=4))
    assert step.drafts[0].version == 4 and step.drafts[0].revisions == ["warmer"]


def test_the_score_shows_the_verdict_and_the_gate_problem_first() -> None:
    check_ = GateCheck(id="no_debris", name="No template or prompt debris", passed=False, reason="'{{ content }}'")
    scored = AssetScore(stage="convert", score=0.07, passed=False, threshold=0.65, criteria=[],
                        gate=GateResult(passed=False, checks=[check_]))  # fmt: skip
    shown = score_markdown(scored)
    assert "**Eval: 0.07, failed: off brief, not usable as is**" in shown
    assert shown.index("No template or prompt debris: '{{ content }}'") > shown.index("failed")
    on_brief = scored.model_copy(update={"gate": GateResult(passed=True, checks=[]), "score": 0.5})
    assert "needs work" in score_markdown(on_brief)


def test_background_hands_back_the_reports_then_the_result_or_the_error() -> None:
    def work(report: Any) -> int:
        for n in range(3):
            report(n)
        return 42

    running: Background[int, int] = Background(work, poll_s=0.01)
    assert [n for batch in running for n in batch] == [0, 1, 2] and running.result == 42

    def broken(report: Any) -> int:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        list(Background(broken, poll_s=0.01))


# --- the business form ------------------------------------------------------------------------------------------


def test_the_form_round_trips_a_profile() -> None:
    data = yaml.safe_load(COFFEE.read_text())
    assert form_to_data(data_to_form(data)) == {**data, "brand_voice": data["brand_voice"]}
    assert len(data_to_form(data)) == len(FIELDS)


def test_validation_errors_go_beside_their_field() -> None:
    data = yaml.safe_load(COFFEE.read_text())
    data["offers"]["entry_offer"]["price"] = "twelve"
    data["offers"]["upsells"][1]["price"] = -5
    del data["audience"]["who"]
    checked = check(data, fill=True)
    assert checked.profile is None and "3 problem(s)" in checked.updates[2]
    assert "- Who they are: Field required" in checked.updates[2]
    infos = {f.path: u["info"] for f, u in zip(FIELDS, checked.updates[4 : 4 + len(FIELDS)], strict=True)}
    assert [u.get("open") for u in checked.updates[4 + len(FIELDS) :]] == [None, True, True, None]  # opened to show
    assert infos[("audience", "who")] == "⚠ Field required"
    assert "valid number" in infos[("offers", "entry_offer", "price")]
    assert infos[("offers", "upsells")].startswith("⚠ line 2 price: Input should be greater than or equal to 0")
    assert infos[("name",)] == "As customers know it."  # the help comes back where nothing is wrong


def test_the_price_ladder_error_sits_on_the_entry_price() -> None:
    data = yaml.safe_load(COFFEE.read_text())
    data["offers"]["entry_offer"]["price"] = 99
    placed, loose = field_errors(check_details(data))
    assert not loose and "must be below" in placed[("offers", "entry_offer", "price")][0]


def check_details(data: dict[str, Any]) -> object:
    from generator.errors import ProfileError
    from generator.profile import profile_from_data

    with pytest.raises(ProfileError) as caught:
        profile_from_data(data)
    return caught.value.details


def test_the_language_is_checked_by_the_profile_and_its_error_sits_beside_it() -> None:
    data = yaml.safe_load(COFFEE.read_text())
    language = FIELDS.index(next(f for f in FIELDS if f.path == ("language",)))
    values = data_to_form(data)
    assert values[language] == ""  # English, the default, is not written out
    values[language] = "pt-br"
    checked = check(form_to_data(values), fill=False)
    assert checked.profile is not None and checked.profile.language == "pt-BR"  # in its usual case
    assert "language: pt-BR" in checked.updates[0]
    values[language] = "Portuguese please"
    refused = check(form_to_data(values), fill=False)
    info = refused.updates[4 + language]["info"]
    assert refused.profile is None and info.startswith("⚠ 'Portuguese please' is not a BCP 47 language tag")
    assert "- Language: 'Portuguese please' is not a BCP 47" in refused.updates[2]
    assert check(data, fill=False).updates[4 + language]["info"].startswith("The copy's language, a BCP 47 tag")


def test_a_valid_form_becomes_the_business_in_use() -> None:
    checked = check(yaml.safe_load(COFFEE.read_text()), fill=False)
    assert checked.profile is not None and checked.profile.key == "harbor-lane-coffee"
    assert "Harbor Lane Coffee" in checked.updates[1] and checked.updates[0].startswith("name: Harbor Lane Coffee")


# --- the journey -------------------------------------------------------------------------------------------------


def test_the_map_draws_eight_stages_in_order_with_progress() -> None:
    shown = journey_html(cards([], pending={"aware"}))
    assert shown.count("data-stage=") == 8 and shown.index('data-stage="aware"') < shown.index('data-stage="engage"')
    assert 'data-stage="aware" data-state="waiting"' in shown and 'data-stage="promote" data-state="empty"' in shown


def test_kit_streams_progress_then_the_map_and_downloads(studio: Studio) -> None:
    profile = COFFEE.read_text()
    steps = list(kit_steps(studio, profile, threading.Event()))
    board, status, files = steps[-1]
    assert board.count('data-state="done"') == 8 and "8 of 8 assets drafted" in status
    assert sorted(Path(f).name for f in files) == ["kit.docx", "kit.html", "kit.json", "kit.md"]
    assert any("assets ready" in s for _, s, _ in steps[:-1])
    SchemaFake.reset()
    again = list(kit_steps(studio, profile, threading.Event()))  # resumes from its folder: nothing to draft
    assert "8 of 8" in again[-1][1] and SchemaFake.calls == []


def test_a_stopped_kit_keeps_what_is_done_and_resumes(studio: Studio) -> None:
    stop = threading.Event()
    stop.set()
    board, status, _ = list(kit_steps(studio, COFFEE.read_text(), stop))[-1]
    assert "Stopped" in status and 'data-state="done"' not in board
    _, status, _ = list(kit_steps(studio, COFFEE.read_text(), threading.Event()))[-1]
    assert "8 of 8" in status


def test_redo_one_stage_moves_the_old_asset_aside(studio: Studio) -> None:
    profile = COFFEE.read_text()
    list(kit_steps(studio, profile, threading.Event()))
    *_, (board, status, _) = kit_steps(studio, profile, threading.Event(), only="convert")
    folder = studio.folder("kits") / "harbor-lane-coffee" / "assets"
    assert (folder / "superseded" / "convert.entry_offer.1.json").exists() and "8 of 8" in status
    assert board.count('data-state="done"') == 8


def test_the_extra_types_offered_are_every_type_but_each_stages_own() -> None:
    choices = extra_choices()
    ids = [value for _, value in choices]
    assert len(ids) == 17 and not set(ids) & {item.asset_type for item in plan_kit()}
    assert ("Subscribe · Welcome sequence delivering the free gift", "welcome_sequence") in choices
    assert ids.index("meta_ad") < ids.index("welcome_sequence") < ids.index("review_sequence")  # journey order


def test_kit_drafts_the_extra_types_and_downloads_the_schedule(studio: Studio) -> None:
    profile = COFFEE.read_text()
    steps = kit_steps(studio, profile, threading.Event(), extras=["welcome_sequence"], schedule=["ics", "csv"],
                      start=date(2025, 1, 6))  # fmt: skip
    board, status, files = last(steps)
    assert "9 of 9 assets drafted" in status and board.count('data-state="done"') == 8
    assert "+ Welcome sequence delivering the free gift: " in board  # on the Subscribe card, with its verdict
    names = {Path(f).name: Path(f) for f in files}
    assert sorted(names) == ["kit.csv", "kit.docx", "kit.html", "kit.ics", "kit.json", "kit.md"]
    events = list(Calendar.from_ical(names["kit.ics"].read_text(encoding="utf-8")).walk("VEVENT"))
    assert min(e.decoded("DTSTART") for e in events) == date(2025, 1, 6) and len(events) >= 11  # 8, and 3+ emails
    assert "#### Email 1 · day 0" in names["kit.md"].read_text(encoding="utf-8")
    folder = studio.folder("kits") / "harbor-lane-coffee"
    assert extras_in(folder) == ["welcome_sequence"]  # the tab puts these back in the picker when it opens
    from generator.profile import load_profile

    report = saved_kit(studio.service(), load_profile(COFFEE), folder, extras_in(folder))
    assert "subscribe.welcome_sequence" in [e.key for e in report.entries] and len(report.entries) == 9
    *_, (_, status, _) = kit_steps(studio, profile, threading.Event(), only="subscribe", extras=["welcome_sequence"])
    moved = sorted(p.name for p in (folder / "assets" / "superseded").iterdir())
    assert moved == ["subscribe.lead_magnet.1.json", "subscribe.welcome_sequence.1.json"] and "9 of 9" in status


def test_the_journey_tab_shows_the_extras_a_kit_holds_and_puts_them_in_the_picker(studio: Studio) -> None:
    list(kit_steps(studio, COFFEE.read_text(), threading.Event(), extras=["sms_message"]))
    demo = build_ui(studio.get_service, examples_dir=studio.examples_dir)
    named = {getattr(d.fn, "__qualname__", ""): d.fn for d in demo.fns.values() if d.fn is not None}
    show = named["build_journey_tab.<locals>.show"]  # what the tab runs when it opens, and Refresh
    board, status, files, picked = show(COFFEE.read_text())  # the tab opens
    assert "9 of 9 assets drafted" in status and picked["value"] == ["sms_message"] and "+ SMS offer" in board
    _, status, files, picked = show(COFFEE.read_text(), ["welcome_sequence"], ["ics"], "2025-01-06")  # Refresh
    assert "9 of 10 assets drafted" in status and picked["value"] == ["welcome_sequence", "sms_message"]
    assert "kit.ics" in [Path(f).name for f in files]


def test_the_start_date_is_a_day_or_nothing() -> None:
    assert start_date("2025-01-06") == date(2025, 1, 6) and start_date("  ") is None
    with pytest.raises(gr.Error, match="YYYY-MM-DD"):
        start_date("6 January")


def test_a_draft_goes_into_the_kit(studio: Studio) -> None:
    from generator.profile import load_profile

    profile = load_profile(COFFEE)
    first = last(draft_steps(studio.service(), COFFEE.read_text(), "aware", None, "instagram", "")).drafts[0]
    folder = studio.folder("kits", profile)
    put_in_kit(studio.service(), profile, folder, first)
    report = saved_kit(studio.service(), profile, folder)
    assert [e.key for e in report.entries] == ["aware.social_post"] and report.entries[0].cached
    assert journey_html(cards(report.entries, report)).count('data-state="done"') == 1
    with pytest.raises(gr.Error, match="draft that type"):
        ad = last(draft_steps(studio.service(), COFFEE.read_text(), "aware", "search_ad", "", "")).drafts[0]
        put_in_kit(studio.service(), profile, folder, ad)
    assert plan_kit()[0].key == "aware.social_post"


# --- the named endpoints ------------------------------------------------------------------------------------------


def test_a_business_is_named_by_example_or_given_whole(studio: Studio) -> None:
    assert profile_text(studio, "harbor-lane-coffee").startswith("# A local shop")
    assert profile_text(studio, "name: X\n") == "name: X\n"
    with pytest.raises(Exception, match="No business called 'nope'"):
        profile_text(studio, "nope")
    assert profile_text(studio, "../examples/harbor-lane-coffee") == "../examples/harbor-lane-coffee"  # not a path


# --- knowledge ---------------------------------------------------------------------------------------------------


def test_documents_are_indexed_listed_searched_and_removed(settings: Settings, tmp_path: Path) -> None:
    from generator.knowledge import KnowledgeIndex
    from generator.profile import load_profile
    from generator.ui_knowledge import add_documents, indexed, removable, search_markdown
    from tests.test_retrieval import WordHashEmbeddings

    index = KnowledgeIndex.open(settings, embeddings=WordHashEmbeddings(), embedding_id="hash")
    service = DraftingService(settings=settings, model=FakeListChatModel(responses=["{}"]), index=index)
    studio = Studio(get_service=lambda: service, examples_dir=settings.examples_dir)
    profile = load_profile(COFFEE)
    service.ensure_indexed(profile)
    menu = tmp_path / "upload" / "menu.md"
    menu.parent.mkdir()
    menu.write_text("# Menu\n\n## Drinks\n\nOat flat white, cold brew on tap, and a seasonal pour-over flight.\n")
    broken = tmp_path / "upload" / "empty.txt"
    broken.write_text("   ")
    with pytest.warns(UserWarning, match="Skipped empty.txt: the document is empty"):  # gr.Warning, outside a page
        line = add_documents(studio, profile, [str(menu), str(broken)], ["engage"], lambda *a, **k: None)  # type: ignore[arg-type]
    assert line.startswith("Added 1 file(s) for Harbor Lane Coffee") and "Skipped 1" in line
    rows = indexed(index, profile)
    doc = next(r for r in rows if r["kind"] == "document")
    assert doc["name"] == "menu.md" and doc["stages"] == "Engage" and doc["chunks"] >= 1
    assert any(r["kind"] == "profile" for r in rows) and removable(rows) == [("menu.md", doc["source"])]
    assert Path(doc["source"]).parent == settings.data_dir / "documents" / "harbor-lane-coffee"
    found = search_markdown(index, profile, "cold brew on tap", "", "Its documents and facts")
    assert "menu.md" in found and "cold brew" in found
    with pytest.raises(gr.Error, match="Type what to look for"):
        search_markdown(index, profile, "  ", "", "Its documents and facts")
    index.replace_source(doc["source"], [])
    assert not [r for r in indexed(index, profile) if r["kind"] == "document"]


def test_the_studio_mounts_under_a_path_with_its_endpoints(studio: Studio) -> None:
    """As `cvj serve` mounts it at /ui: the page answers, and its config names the three endpoints."""
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    app = gr.mount_gradio_app(FastAPI(), build_ui(studio.get_service, examples_dir=studio.examples_dir), path="/ui")
    with TestClient(app) as client:
        assert client.get("/ui/").status_code == 200
        config = client.get("/ui/config").json()
    named = {d.get("api_name") for d in config["dependencies"] if d.get("api_visibility", "public") == "public"}
    assert {"draft", "score", "kit"} <= named


def test_the_kit_endpoint_takes_extra_types_and_a_schedule_start(studio: Studio) -> None:
    demo = build_ui(studio.get_service, examples_dir=studio.examples_dir)
    kit = next(d.fn for d in demo.fns.values() if d.api_name == "kit")
    assert kit is not None
    done = kit("harbor-lane-coffee", "subscribe", "md,ics", "welcome_sequence", "2026-01-05")
    assert [e["key"] for e in done["entries"]] == ["subscribe.lead_magnet", "subscribe.welcome_sequence"]
    assert any(f.endswith("kit.ics") for f in done["files"])
    with pytest.raises(gr.Error, match="not a date"):
        kit("harbor-lane-coffee", "subscribe", "md", "", "next monday")
    with pytest.raises(gr.Error, match="not a stage of this kit"):
        kit("harbor-lane-coffee", "subscribe", "md", "sms_message", "")
