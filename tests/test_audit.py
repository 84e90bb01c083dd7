"""The journey audit: classify existing copy by stage (abstaining when unsure), score it on its stage's rubric, map
covered, weak and missing stages, and pick what to draft first; its HTML page and `cvj audit` (fakes only)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from generator.audit import AuditDoc, AuditReport, audit, draft_first
from generator.audit_html import render_audit_html
from generator.cli import app
from generator.drafts import Draft
from generator.evaluation.results import StageFit
from generator.evaluation.scoring import Evaluator
from generator.profile import BusinessProfile
from generator.runtime import Components, use_components
from generator.settings import PROJECT_ROOT, Settings
from generator.stages import STAGE_IDS
from tests.fakes import SchemaFake, fake_components

COFFEE = PROJECT_ROOT / "examples" / "harbor-lane-coffee.yaml"
runner = CliRunner()

# Harbor Lane Coffee's existing copy, each piece tagged with the stage a fake classifier will say it serves.
COPY: dict[str, tuple[str, str]] = {
    "post.md": ("aware", "Supermarket beans tasting flat? Harbor Lane Coffee roasts small batches every week in "
                "Portland, so the bag you open is days old, not months. Follow us for a brewing tip every Friday."),
    "newsletter.md": ("engage", "This week at Harbor Lane Coffee: why your pour-over tastes sour, and the one grind "
                      "change that fixes it. Reply with your brewer and we'll send you our ratio for it."),
    "optin.md": ("subscribe", "Harbor Lane Coffee has a cheat sheet about pour-over ratios and grind sizes. It "
                 "exists and it is one page long and it has some information on it about coffee."),
    "offer.md": ("convert", "Try the Harbor Lane Coffee Tasting Flight Box for 12 USD: three 80 g bags of this "
                 "month's roasts with tasting notes, shipped free. Order yours today and find your favourite."),
    "review.md": ("advocate", "Loving your Roaster's Choice beans? Harbor Lane Coffee is a small team, and a quick "
                  "review helps neighbours find us. Tap here to leave one honest sentence on Google."),
    "referral.md": ("promote", "Share Harbor Lane Coffee with a friend: they get their first Tasting Flight Box "
                    "free and you get 10 USD off your next bag. Send them your link from your account page."),
    "about.md": ("unclear", "Harbor Lane Coffee has been on this corner since 2014. We roast, we brew, we talk."),
}  # fmt: skip


class TaggedClassifier:
    """Says each text serves the stage COPY tags it with, at 90%; 'unclear' texts get a flat, unsure spread."""

    def __init__(self) -> None:
        self.tags = {text: stage for stage, text in COPY.values()}

    def classify(self, texts: list[str], *, vectors: object = None) -> list[StageFit]:
        fits = []
        for text in texts:
            stage = self.tags.get(text, "unclear")
            if stage == "unclear":
                scores: dict[str, float] = {s: 0.125 for s in STAGE_IDS}
                scores |= {"aware": 0.3, "engage": 0.2, "subscribe": 0.05}
                fits.append(StageFit(stage="aware", confidence=0.3, scores=scores))
            else:
                fits.append(
                    StageFit(stage=stage, confidence=0.9, scores={s: 0.9 if s == stage else 0.01 for s in STAGE_IDS})
                )
        return fits


@pytest.fixture
def report(settings: Settings, coffee: BusinessProfile) -> AuditReport:
    evaluator = Evaluator(settings=settings, classifier=TaggedClassifier())  # type: ignore[arg-type]
    return audit([AuditDoc(source=name, text=text) for name, (_, text) in COPY.items()], coffee, evaluator=evaluator)


def test_each_piece_is_placed_on_its_stage_or_left_unclear(report: AuditReport) -> None:
    placed = {p.source: p.stage for p in report.pieces}
    assert placed == {name: (None if stage == "unclear" else stage) for name, (stage, _) in COPY.items()}
    unclear = next(p for p in report.pieces if p.stage is None)
    assert unclear.score is None and unclear.label.startswith("unclear (aware 30% or engage 20%")


def test_the_journey_shows_covered_weak_and_missing_stages(report: AuditReport) -> None:
    assert report.missing == ["excite", "ascend"]
    assert report.weak == ["subscribe"]  # no call to action: a required criterion fails
    optin = next(p for p in report.pieces if p.source == "optin.md")
    assert optin.passed is False and any("call to action" in f for f in optin.to_fix)
    assert report.covered == ["aware", "engage", "convert", "advocate", "promote"]
    for stage in report.stages:
        assert (stage.status == "missing") == (not stage.pieces)
    assert (
        report.summary().startswith(f"{len(report.covered)} of 8 stages covered")
        and "1 piece unclear" in report.summary()
    )


def test_what_to_draft_first_is_missing_stages_in_journey_order_then_weak_ones(report: AuditReport) -> None:
    picks = report.draft_first
    assert [(p.stage, p.asset_type) for p in picks] == [
        ("excite", "onboarding_wow"), ("ascend", "ascension_offer"), ("subscribe", "lead_magnet")
    ]  # fmt: skip
    assert picks[0].why == "nothing you have serves Excite yet"
    assert "optin.md" in picks[2].why and "fix first: Clear opt-in action: no call to action" in picks[2].why
    assert draft_first(report.stages, limit=1) == picks[:1]


def test_existing_copy_is_scored_without_the_drafts_gate(report: AuditReport) -> None:
    """A price the profile lacks fails a model draft's gate; on the business's own copy it is a note, not a 0.1x."""
    offer = next(p for p in report.pieces if p.source == "offer.md")
    assert offer.score is not None and offer.score > 0.5


def test_the_html_page_is_self_contained_and_escaped(report: AuditReport) -> None:
    hostile = report.model_copy(update={"business": "<script>alert(1)</script> & Co"})
    page = render_audit_html(hostile)
    assert "<script>" not in page and "&lt;script&gt;" in page and "&amp; Co" in page
    assert "http" not in page and page.count("<tr>") == 1 + 8 + 1 + len(COPY)
    for stage in report.stages:
        assert stage.name in page


def test_an_audit_of_nothing_reports_every_stage_missing(settings: Settings, coffee: BusinessProfile) -> None:
    empty = audit([], coffee, evaluator=Evaluator(settings=settings, classifier=TaggedClassifier()))  # type: ignore[arg-type]
    assert empty.missing == list(STAGE_IDS) and [p.stage for p in empty.draft_first] == ["aware", "engage", "subscribe"]


# -- the CLI ------------------------------------------------------------------------------------------------------


@pytest.fixture
def parts(settings: Settings) -> Iterator[Components]:
    installed = fake_components(settings)
    installed = Components(
        settings,
        model_factory=installed.model_factory,
        index_factory=installed.index_factory,
        evaluator_factory=lambda s, judge: Evaluator(settings=s, judge=judge, classifier=TaggedClassifier()),  # type: ignore[arg-type]
    )
    with use_components(installed):
        yield installed


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    docs = tmp_path / "copy"
    docs.mkdir()
    for name, (_, text) in COPY.items():
        if name != "review.md":
            (docs / name).write_text(text)
    return docs


def test_cvj_audit_prints_the_journey_and_writes_html(parts: Components, folder: Path, tmp_path: Path) -> None:
    page = tmp_path / "audit.html"
    review = tmp_path / "review.txt"
    review.write_text(COPY["review.md"][1])
    result = runner.invoke(app, ["audit", str(folder), str(review), "-p", str(COFFEE), "--html", str(page)],
                           env={"COLUMNS": "200"})  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "Journey audit: Harbor Lane Coffee" in result.stdout and "missing" in result.stdout
    assert "1. draft excite onboarding_wow" in result.stdout
    assert "Harbor Lane Coffee" in page.read_text() and "Wrote" in result.stderr


def test_cvj_audit_json_and_draft_makes_the_three_first_assets(parts: Components, folder: Path) -> None:
    result = runner.invoke(app, ["audit", str(folder), "-p", str(COFFEE), "--json", "--draft"])
    assert result.exit_code == 0, result.stderr
    report = AuditReport.model_validate(json.loads(result.stdout))  # the report alone: drafts are named on stderr
    assert report.missing == ["excite", "ascend", "advocate"]
    saved = sorted(p.name for p in (parts.settings.data_dir / "drafts").rglob("*.json"))
    assert saved == ["ascension_offer-v1.json", "onboarding_wow-v1.json", "review_request-v1.json"]
    first = Draft.model_validate_json(
        next((parts.settings.data_dir / "drafts").rglob("onboarding_wow-v1.json")).read_text()
    )
    assert first.evaluation is not None and first.stage == "excite"
    assert len(SchemaFake.calls) >= 3 and result.stderr.count("version 1: score") == 3


def test_cvj_audit_with_a_missing_file_exits_2(parts: Components, tmp_path: Path) -> None:
    result = runner.invoke(app, ["audit", str(tmp_path / "nope.md"), "-p", str(COFFEE)])
    assert result.exit_code == 2 and "no such file" in result.stderr
