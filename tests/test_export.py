"""Kit export: Markdown, JSON, Word and HTML carry the same content; writes are atomic; no network."""

import html
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from docx.text.paragraph import Paragraph
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from generator.chains import draft
from generator.drafts import AssetMeta, Draft, DraftRequest
from generator.errors import ConfigError
from generator.evaluation.results import AssetScore
from generator.export import FORMATS, OVERVIEW_HEADER, export_kit, humanise, to_docx, to_html, to_json, to_markdown
from generator.kit_models import JourneyStep, KitEntry, KitReport, KitTotals
from generator.profile import BusinessProfile, load_profile
from generator.settings import PROJECT_ROOT, Settings
from generator.stages import StageId, load_stages
from tests.test_asset_types import email
from tests.test_assets_and_revision import ENTRY
from tests.test_chains import GOOD_POST

INJECTED = "<script>alert('x')</script>"
POST = {**GOOD_POST, "hook": f"Fresh beans {INJECTED}"}
EVALUATION: dict[str, Any] = {
    "stage": "convert",
    "score": 0.82,
    "passed": True,
    "threshold": 0.6,
    "criteria": [
        {"id": "risk", "name": "Risk reducer", "score": 1.0, "reason": "Clear refund promise."},
        {"id": "price", "name": "Low price", "score": 0.4, "reason": "Price is not framed against the core offer."},
        {"id": "cta", "name": "Clear next step", "score": 0.9, "reason": "One obvious action."},
        {"id": "voice", "name": "Brand voice", "score": 0.55, "reason": "A little formal for the brand."},
        {"id": "n/a", "name": "Does not apply", "score": None, "reason": "No profile words to check."},
    ],
}
for _criterion in EVALUATION["criteria"]:
    _criterion |= {"scorer": "rule", "weight": 1.0, "required": False}


def _draft(profile: BusinessProfile, stage: StageId, asset: dict[str, Any], tmp_path: Path) -> Draft:
    model = FakeListChatModel(responses=[json.dumps(asset)])
    settings = Settings(data_dir=tmp_path / "data")
    return draft(profile, DraftRequest(stage=stage), model=model, index=None, settings=settings)


@pytest.fixture
def report(tmp_path: Path) -> KitReport:
    profile = load_profile(PROJECT_ROOT / "examples" / "harbor-lane-coffee.yaml")
    post = _draft(profile, "aware", POST, tmp_path)
    scored = AssetScore.model_validate(EVALUATION)
    offer = _draft(profile, "convert", ENTRY, tmp_path).model_copy(update={"evaluation": scored})
    entries = [
        KitEntry(key="aware.social_post", stage="aware", asset_type="social_post", draft=post, seconds=1.5),
        KitEntry(key="subscribe.lead_magnet", stage="subscribe", asset_type="lead_magnet", error="model timed out"),
        KitEntry(key="convert.entry_offer", stage="convert", asset_type="entry_offer", draft=offer, seconds=2.25),
    ]
    overview = [
        JourneyStep(
            stage="aware",
            stage_name="Aware",
            prospect_sees=post.asset["hook"],
            offer="free content",
            next_step="Follow the brand.",
            score=0.7,
        ),
        JourneyStep(
            stage="subscribe",
            stage_name="Subscribe",
            prospect_sees="not drafted",
            offer="Cheat sheet | free",
            next_step="Give an email address.",
        ),
        JourneyStep(
            stage="convert",
            stage_name="Convert",
            prospect_sees=offer.asset["name"],
            offer="Tasting Flight Box",
            next_step="Buy the box.",
        ),
    ]
    totals = KitTotals(
        assets=2, failed=1, input_tokens=1234, output_tokens=567, cost_usd=0.0123, wall_seconds=3.5, model_calls=2
    )
    return KitReport(
        business=profile.name,
        slug=profile.slug,
        profile=profile,
        created_at=datetime(2025, 3, 14, 9, 30, tzinfo=UTC),
        entries=entries,
        overview=overview,
        totals=totals,
    )


def test_export_writes_every_format_atomically(report: KitReport, tmp_path: Path) -> None:
    out = tmp_path / "kit"
    paths = export_kit(report, out, FORMATS)
    assert [p.name for p in paths] == ["kit.md", "kit.json", "kit.docx", "kit.html"]
    assert all(p.is_file() and p.stat().st_size > 0 for p in paths)
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in paths)  # no temp files left behind


def test_export_accepts_a_subset_in_any_case(report: KitReport, tmp_path: Path) -> None:
    paths = export_kit(report, tmp_path, ["HTML", "md", "md"])
    assert [p.name for p in paths] == ["kit.html", "kit.md"]
    assert not (tmp_path / "kit.json").exists()


def test_unknown_format_raises_and_writes_nothing(report: KitReport, tmp_path: Path) -> None:
    out = tmp_path / "kit"
    with pytest.raises(ConfigError) as info:
        export_kit(report, out, ["md", "pdf"])
    assert "pdf" in info.value.message
    assert all(fmt in info.value.message for fmt in FORMATS)
    assert not out.exists()


def test_json_round_trips(report: KitReport, tmp_path: Path) -> None:
    (path,) = export_kit(report, tmp_path, ["json"])
    assert path.read_text(encoding="utf-8") == to_json(report)
    assert KitReport.model_validate_json(path.read_text(encoding="utf-8")) == report


def test_an_off_brief_draft_is_shown_as_failed_with_the_gate_problem_first(report: KitReport) -> None:
    from generator.evaluation.results import GateCheck, GateResult

    entry = report.entries[2]
    assert entry.draft and entry.draft.evaluation
    invented = "the price 3.6 USD is not one of the profile's"
    check = GateCheck(id="facts", name="No invented facts", passed=False, reason=invented)
    gate = GateResult(passed=False, checks=[check])
    failed = entry.draft.evaluation.model_copy(update={"gate": gate, "passed": False, "score": 0.08})
    report.entries[2] = entry.model_copy(update={"draft": entry.draft.model_copy(update={"evaluation": failed})})
    md = to_markdown(report)
    assert "**Eval score: 0.08 — failed (off brief: not usable as is)**" in md
    fixes = re.findall(r"^- (.+?) \((\d\.\d\d)\): (.+)$", md, flags=re.MULTILINE)
    assert fixes[0] == ("No invented facts", "0.00", "the price 3.6 USD is not one of the profile's")
    assert 'class="badge fail">failed (off brief' in to_html(report)


def test_markdown_has_overview_sections_scores_and_costs(report: KitReport) -> None:
    md = to_markdown(report)
    assert md.startswith("# Harbor Lane Coffee — Customer Value Journey kit")
    assert "Created 14 March 2025" in md
    assert "| Stage | What the prospect sees | The offer | The next step | Score |" in md
    assert "Cheat sheet \\| free" in md  # a pipe in a cell does not break the table
    assert "<script" not in md and "Fresh beans &lt;script>" in md  # inert where raw HTML is rendered
    for label in ("Awareness social post", "Lead magnet and opt-in page", "Entry-point offer"):
        assert f"### {label}" in md
    sections = [md.index(f"## {n}. {name}") for n, name in ((1, "Aware"), (3, "Subscribe"), (4, "Convert"))]
    assert sections == sorted(sections) and sections[0] > md.index("## Journey overview")
    assert "**Not drafted:** model timed out" in md
    assert "**Call to action:** Follow for weekly brew tips" in md
    assert "- Three 80 g bags" in md  # list fields are bullets
    assert "**Price:** 12 USD" in md
    assert "**Eval score: 0.82 — passed**" in md
    weakest = re.findall(r"^- (.+?) \((\d\.\d\d)\):", md, flags=re.MULTILINE)
    assert weakest == [("Low price", "0.40"), ("Brand voice", "0.55")]  # AssetScore.weakest: under 0.75 only
    assert "What to fix first:" in md
    assert "prompt: entry_offer v" in md and "sources: none" in md
    costs = md[md.index("## Cost and time") :]
    assert "| Total |  | 1,234 | 567 | $0.0123 | 3.5 |" in costs
    assert "| Entry-point offer | Convert |" in costs


def _style(paragraph: Paragraph) -> str:
    assert paragraph.style is not None  # python-docx types it optional; a saved paragraph always has one
    return paragraph.style.name


def test_docx_opens_with_headings_tables_and_bullets(report: KitReport, tmp_path: Path) -> None:
    path = tmp_path / "kit.docx"
    to_docx(report, path)
    document = Document(str(path))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "Harbor Lane Coffee" in text
    headings = [p.text for p in document.paragraphs if _style(p).startswith(("Heading", "Title"))]
    assert headings[:4] == [
        "Harbor Lane Coffee — Customer Value Journey kit",
        "Journey overview",
        "The journey check",
        "1. Aware",
    ]
    assert "Cost and time" in headings
    assert len(document.tables) == 2
    overview, costs = document.tables
    assert tuple(c.text for c in overview.rows[0].cells) == OVERVIEW_HEADER
    assert [r.cells[0].text for r in overview.rows[1:]] == ["Aware", "Subscribe", "Convert"]
    assert costs.rows[-1].cells[0].text == "Total" and costs.rows[-1].cells[4].text == "$0.0123"
    bullets = [p.text for p in document.paragraphs if _style(p) == "List Bullet"]
    assert "Three 80 g bags" in bullets and "#portlandcoffee" in bullets
    assert "Not drafted: model timed out" in text


def test_html_is_self_contained_escaped_and_charted(report: KitReport) -> None:
    page = to_html(report)
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page
    assert page.count("<svg") == 1
    for stage in load_stages():
        assert stage.name in page
    assert "<script" not in page.lower()  # the injected tag is escaped and the page has no JS of its own
    assert html.escape(INJECTED) in page
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*https?://""", page, flags=re.IGNORECASE)
    assert "<link" not in page and "<img" not in page and "@import" not in page and "url(" not in page


def test_html_chart_has_eight_bars_values_na_and_pass_marks(report: KitReport) -> None:
    svg = to_html(report).split("<svg", 1)[1].split("</svg>", 1)[0]
    stage_names = [s.name for s in load_stages()]
    labels = re.findall(r">([^<>]+)</text>", svg)
    assert [label for label in labels if label in stage_names] == stage_names
    assert "0.70" in labels  # aware: the overview's score
    assert "0.82" in labels  # convert: no overview score, so its draft's eval score
    assert labels.count("n/a") == 6
    marks = re.findall(r'class="pass-mark"[^>]*><title>([^<]+)</title>', svg)
    thresholds = {e.stage: e.draft.evaluation.threshold for e in report.entries if e.draft and e.draft.evaluation}
    assert len(marks) == len(thresholds) >= 1  # one per scored stage, at its own rubric's threshold
    assert all(f"passes at {thresholds[s.id]:.2f}" in " ".join(marks) for s in load_stages() if s.id in thresholds)


def test_humanise_field_names() -> None:
    assert humanise("call_to_action") == "Call to action"
    assert humanise("ugc_prompt") == "Ugc prompt"
    assert humanise("hook") == "Hook"


# --- assets made of parts: a sequence's emails, a landing page's FAQ -------------------------------------------------

LONG_BODY = "The cheat sheet is attached.\n\nStart with 15 g of coffee.\nPour slowly, in circles."
PAGE = {"headline": "Brew better at home", "subhead": "A free one-page guide.", "bullets": ["Ratios", "Grind", "Pour"],
        "proof": ["4.9 stars from 640 Google reviews."], "call_to_action": "Send me the guide",
        "faq": [{"question": "Is it really free?", "answer": "Yes.\nNo card needed."},
                {"question": "How long is it?", "answer": "One page."}]}  # fmt: skip


def _part_entry(stage: StageId, asset_type: str, asset: dict[str, Any]) -> KitEntry:
    meta = AssetMeta(prompt_id=asset_type, prompt_version="1", provider="local", model="fake")
    made = Draft(business="Harbor Lane Coffee", stage=stage, asset_type=asset_type, asset=asset, meta=meta)
    return KitEntry(key=f"{stage}.{asset_type}", stage=stage, asset_type=asset_type, draft=made)


@pytest.fixture
def parts_report(report: KitReport) -> KitReport:
    emails = [email(0, "Signed up for the cheat sheet"), {**email(3, "after they download the guide"),
              "body": LONG_BODY}, email(6, "Signed up")]  # fmt: skip
    welcome = _part_entry("subscribe", "welcome_sequence", {"goal": "They brew with the guide.", "messages": emails})
    page = _part_entry("subscribe", "lead_magnet_page", PAGE)
    return report.model_copy(update={"entries": [*report.entries, welcome, page]})


def test_markdown_gives_each_email_and_question_a_heading_of_its_own(parts_report: KitReport) -> None:
    md = to_markdown(parts_report)
    assert re.findall(r"^#### (Email .+)$", md, flags=re.MULTILINE) == [
        "Email 1 · day 0 · after: Signed up for the cheat sheet",
        "Email 2 · day 3 · after they download the guide",
        "Email 3 · day 6 · after: Signed up",
    ]
    second = md[md.index("#### Email 2") : md.index("#### Email 3")]
    assert second.strip().splitlines() == [
        "#### Email 2 · day 3 · after they download the guide", "",
        "**Subject:** Day 3 tip from Harbor Lane", "",
        "**Preview:** A quick one for your morning cup.", "",
        "The cheat sheet is attached.", "", "Start with 15 g of coffee.", "", "Pour slowly, in circles.", "",
        "**Call to action:** Reply and tell us how it tasted.",
    ]  # fmt: skip
    assert "Send day" not in md and "Trigger:" not in md  # no email squeezed onto one line
    assert "**Emails:**" in md and "**FAQ:**" in md
    faq = md[md.index("#### 1. Is it really free?") :]
    assert faq.startswith(
        "#### 1. Is it really free?\n\nYes.\n\nNo card needed.\n\n#### 2. How long is it?\n\nOne page."
    )
    assert "- Ratios" in md  # the page's plain lists are bullets still


def test_docx_gives_each_email_a_heading_and_its_body_a_paragraph_each(parts_report: KitReport, tmp_path: Path) -> None:
    path = tmp_path / "kit.docx"
    to_docx(parts_report, path)
    paragraphs = Document(str(path)).paragraphs
    emails = [n for n, p in enumerate(paragraphs) if _style(p) == "Heading 3" and p.text.startswith("Email ")]
    assert len(emails) == 3 and paragraphs[emails[1]].text == "Email 2 · day 3 · after they download the guide"
    second = [p.text for p in paragraphs[emails[1] + 1 : emails[2]]]
    assert second == ["Subject: Day 3 tip from Harbor Lane", "Preview: A quick one for your morning cup.",
                      "The cheat sheet is attached.", "Start with 15 g of coffee.", "Pour slowly, in circles.",
                      "Call to action: Reply and tell us how it tasted."]  # fmt: skip
    assert paragraphs[emails[1] + 1].runs[0].bold and paragraphs[emails[1] + 1].runs[0].text == "Subject: "
    questions = [p.text for p in paragraphs if _style(p) == "Heading 3" and not p.text.startswith("Email ")]
    assert questions == ["1. Is it really free?", "2. How long is it?"]


def test_html_gives_each_email_a_section_of_its_own(parts_report: KitReport) -> None:
    page = to_html(parts_report)
    welcome = page[page.index("<h3>Welcome sequence") : page.index("<h3>Landing page for the free gift")]
    sections = re.findall(r'<section class="part">(.*?)</section>', welcome)
    assert len(sections) == 3
    assert sections[1] == (
        "<h4>Email 2 · day 3 · after they download the guide</h4>"
        "<p><strong>Subject:</strong> Day 3 tip from Harbor Lane</p>"
        "<p><strong>Preview:</strong> A quick one for your morning cup.</p>"
        "<p>The cheat sheet is attached.</p><p>Start with 15 g of coffee.</p><p>Pour slowly, in circles.</p>"
        "<p><strong>Call to action:</strong> Reply and tell us how it tasted.</p>"
    )
    assert "<dt>Goal</dt><dd>They brew with the guide.</dd>" in welcome
    landing = page[page.index("<h3>Landing page for the free gift") :]
    assert re.findall(r'<section class="part"><h4>(.*?)</h4>', landing) == [
        "1. Is it really free?",
        "2. How long is it?",
    ]
    assert "<dt>Bullets</dt><dd><ul><li>Ratios</li>" in landing


def test_the_terminal_and_the_studio_show_each_email_as_its_own_block(parts_report: KitReport) -> None:
    from rich.console import Console

    from generator.render import draft_markdown, draft_panel

    welcome = next(e.draft for e in parts_report.entries if e.asset_type == "welcome_sequence")
    assert welcome is not None
    shown = draft_markdown(welcome)
    assert len(re.findall(r"^#### Email \d · day \d", shown, flags=re.MULTILINE)) == 3 and "{'send_day'" not in shown
    assert "\n\nStart with 15 g of coffee.\n\nPour slowly, in circles.\n\n**Call to action:** Reply" in shown
    console = Console(record=True, width=120)
    console.print(draft_panel(welcome))
    lines = [line.strip(" │") for line in console.export_text().splitlines()]
    second = lines.index(next(line for line in lines if "Email 2 · day 3 · after they download the guide" in line))
    assert lines[second + 1 : second + 4] == ["Subject: Day 3 tip from Harbor Lane",
                                              "Preview: A quick one for your morning cup.",
                                              "The cheat sheet is attached."]  # fmt: skip
