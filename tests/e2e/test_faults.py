"""The kit against a fault-injecting OpenAI-compatible server on loopback (tests/faults.py), through the real
client (``build_chat_model``: ChatOpenAI, httpx, the OpenAI SDK's retries): every fault fails at most its own
asset, the kit finishes and writes every format, and a resume asks the server only for what did not finish.

No local model, embeddings or Chroma: each test takes seconds (CVJ_TIMEOUT_S of 1 s, one HTTP retry, one re-ask).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from typer.testing import CliRunner

from generator.cli import app
from generator.evaluation.scoring import Evaluator
from generator.export import FORMATS, export_kit
from generator.kit import KitOptions, plan_kit, run_kit
from generator.kit_models import KitReport
from generator.llm import build_chat_model
from generator.profile import BusinessProfile
from generator.runtime import Components, use_components
from generator.settings import PROJECT_ROOT, Provider, Settings
from tests.faults import Fault, FaultServer

pytestmark = pytest.mark.e2e

TITLES = {  # the schema title each asset's requests carry
    "aware.social_post": "SocialPost",
    "engage.newsletter_issue": "NewsletterIssue",
    "subscribe.lead_magnet": "LeadMagnetCopy",
    "convert.entry_offer": "EntryOfferCopy",
    "excite.onboarding_wow": "OnboardingWow",
    "ascend.ascension_offer": "AscensionOfferCopy",
    "advocate.review_request": "ReviewRequest",
    "promote.referral_program": "ReferralProgram",
}
THREE = ["aware", "subscribe", "convert"]  # convert builds on subscribe
LEAD = "subscribe.lead_magnet"
UNREACHABLE = "The model could not be reached (Connection error)"


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as running:
        yield running


def proxy_settings(tmp_path: Path, server: FaultServer, **overrides: Any) -> Settings:
    values: dict[str, Any] = dict(
        provider=Provider.OPENAI_COMPATIBLE, base_url=server.url, api_key="sk-test", model="faulty",
        timeout_s=1.0, max_retries=1, repair_attempts=1, llm_cache=False, data_dir=tmp_path / "data",
    )  # fmt: skip
    return Settings(**{**values, **overrides})


def run(profile: BusinessProfile, out: Path, settings: Settings, *, stream: bool = False, **kw: Any) -> KitReport:
    model = build_chat_model(settings)
    model.streaming = stream  # invoke() goes through the SSE path, as the UI's live drafts do
    plan = plan_kit(kw.pop("stages", THREE))
    return run_kit(profile, plan, out_dir=out, model=model, index=None, settings=settings, **kw)


def asked(server: FaultServer, since: int) -> list[str]:
    """The assets the server was asked for after request ``since`` (social posts carry their channel)."""
    return sorted(title.split("_")[0] for title in server.titles(since=since))


def errors(report: KitReport) -> dict[str, str | None]:
    return {e.key: e.error for e in report.entries}


def resume_asks_only_for_what_failed(
    server: FaultServer, first: KitReport, profile: BusinessProfile, out: Path, settings: Settings, **kw: Any
) -> KitReport:
    """Clear the faults, rerun into the same folder: the server sees one request per asset that failed, no more."""
    failed = sorted(TITLES[e.key] for e in first.entries if e.error)
    before = server.count
    server.faults.clear()
    resumed = run(profile, out, settings, **kw)
    assert asked(server, before) == failed
    assert resumed.totals.failed == 0
    assert sum(e.cached for e in resumed.entries) == first.totals.assets
    return resumed


def exported(report: KitReport, out: Path) -> list[str]:
    return [p.name for p in export_kit(report, out, FORMATS)]


# (id, fault on the lead magnet, streamed, what its entry says (None: drafted), requests the lead magnet took)
CASES = [
    ("429 once, Retry-After 1", Fault("429", asset="LeadMagnet", times=1, seconds=1), False, None, 2),
    ("429 every time", Fault("429", asset="LeadMagnet"), False, "refused the request (HTTP 429)", 2),
    ("500 once", Fault("500", asset="LeadMagnet", times=1), False, None, 2),
    ("500 once, streamed", Fault("500", asset="LeadMagnet", times=1), True, None, 2),
    ("500 every time", Fault("500", asset="LeadMagnet"), False, "refused the request (HTTP 500)", 2),
    ("slower than the timeout", Fault("slow", asset="LeadMagnet", seconds=3), False, "(Request timed out)", 2),
    ("invalid JSON once", Fault("invalid", asset="LeadMagnet", times=1), False, None, 2),
    ("invalid JSON every time", Fault("invalid", asset="LeadMagnet"), False, "did not produce a valid", 2),
    ("truncated JSON once (length)", Fault("truncated", asset="LeadMagnet", times=1), False, None, 2),
    ("truncated JSON every time", Fault("truncated", asset="LeadMagnet"), False, "cut off at the length limit", 2),
    ("a body that is not JSON", Fault("garbage", asset="LeadMagnet", times=1), False, "JSONDecodeError", 1),
    ("connection reset once", Fault("reset", asset="LeadMagnet", times=1), False, None, 2),
    ("connection reset every time", Fault("reset", asset="LeadMagnet"), False, UNREACHABLE, 2),
    ("connection reset mid-stream", Fault("reset", asset="LeadMagnet", times=1), True, UNREACHABLE, 1),
    ("control characters in the copy", Fault("control", asset="LeadMagnet"), False, None, 1),
]


@pytest.mark.parametrize(("fault", "stream", "verdict", "requests"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_fault_fails_at_most_its_asset_and_a_resume_redoes_only_that(
    fault: Fault, stream: bool, verdict: str | None, requests: int, server: FaultServer, tmp_path: Path,
    coffee: BusinessProfile,
) -> None:  # fmt: skip
    server.faults.append(fault)
    settings = proxy_settings(tmp_path, server)
    out = tmp_path / "kit"
    report = run(coffee, out, settings, stream=stream)
    others = errors(report)
    lead = others.pop(LEAD)
    assert lead is None if verdict is None else verdict in str(lead), lead
    assert others == {"aware.social_post": None, "convert.entry_offer": None}  # the others are unharmed
    assert server.calls("LeadMagnet") == requests
    assert exported(report, out) == ["kit.md", "kit.json", "kit.docx", "kit.html"]
    if fault.kind == "control":
        text = "\n".join(p.text for p in Document(str(out / "kit.docx")).paragraphs)
        assert "Harbor Lane Coffee note" in text and not any(c in text for c in "\x00\x07\x0b\x1b")
    resume_asks_only_for_what_failed(server, report, coffee, out, settings, stream=stream)


def test_an_asset_stuck_past_its_deadline_is_failed_and_the_kit_goes_on(
    server: FaultServer, tmp_path: Path, coffee: BusinessProfile
) -> None:
    server.faults.append(Fault("slow", asset="LeadMagnet", seconds=20))  # well inside the 30 s HTTP timeout
    settings = proxy_settings(tmp_path, server, timeout_s=30.0, asset_deadline_s=1.0)
    started = time.monotonic()
    report = run(coffee, tmp_path / "kit", settings)
    assert time.monotonic() - started < 5
    assert str(errors(report)[LEAD]).startswith("Stopped: not finished within 1 s (CVJ_ASSET_DEADLINE_S)")
    assert errors(report)["convert.entry_offer"] is None
    assert len(exported(report, tmp_path / "kit")) == 4
    resume_asks_only_for_what_failed(server, report, coffee, tmp_path / "kit", settings)


def test_the_server_dying_mid_kit_fails_what_was_left_and_a_resume_finishes_it(
    server: FaultServer, tmp_path: Path, coffee: BusinessProfile
) -> None:
    server.faults.append(Fault("die", requests={3}))  # and it stays down
    settings = proxy_settings(tmp_path, server)
    out = tmp_path / "kit"
    report = run(coffee, out, settings, stages=None, options=KitOptions(concurrency=2))
    assert not server.alive
    failed = {k: e for k, e in errors(report).items() if e}
    assert 1 <= report.totals.assets <= 2 and len(failed) == 8 - report.totals.assets
    assert all(UNREACHABLE in e for e in failed.values()), failed
    assert len(exported(report, out)) == 4
    server.revive()
    resume_asks_only_for_what_failed(server, report, coffee, out, settings, stages=None)


def test_a_server_back_within_the_retries_costs_nothing(
    server: FaultServer, tmp_path: Path, coffee: BusinessProfile
) -> None:
    server.faults.append(Fault("die", requests={2}, seconds=0.1))  # the SDK's first retry waits 0.375-0.5 s
    settings = proxy_settings(tmp_path, server, max_retries=2)
    report = run(coffee, tmp_path / "kit", settings, stages=None, options=KitOptions(concurrency=4))
    assert report.totals.failed == 0 and report.totals.assets == 8 and server.alive


def test_cvj_kit_finishes_through_a_dead_server_and_resumes(
    server: FaultServer, tmp_path: Path, coffee: BusinessProfile
) -> None:
    settings = proxy_settings(tmp_path, server)
    parts = Components(
        settings,
        model_factory=lambda s: contextlib.nullcontext(build_chat_model(s)),
        index_factory=lambda _: None,
        evaluator_factory=lambda s, judge: Evaluator(settings=s, judge=judge),
    )
    args = ["kit", "-p", str(PROJECT_ROOT / "examples" / "harbor-lane-coffee.yaml"), "--concurrency", "1",
            "--stages", "aware,engage,subscribe,convert", "--out", str(tmp_path / "kits")]  # fmt: skip
    folder = tmp_path / "kits" / coffee.slug
    server.faults.append(Fault("die", requests={3}))
    with use_components(parts):
        result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and "Traceback" not in result.stdout + result.stderr
    assert sorted(p.name for p in folder.glob("kit.*")) == ["kit.docx", "kit.html", "kit.json", "kit.md"]
    first = KitReport.model_validate_json((folder / "kit.json").read_text())
    assert first.totals.assets == 2 and first.totals.failed == 2
    assert "not drafted" in result.stdout and f"**Not drafted:** {UNREACHABLE}" in (folder / "kit.md").read_text()
    server.revive()
    server.faults.clear()
    before = server.count
    with use_components(parts):
        again = CliRunner().invoke(app, args)
    assert again.exit_code in (0, 2) and "Traceback" not in again.stdout + again.stderr  # 2: the eval's verdicts
    resumed = KitReport.model_validate_json((folder / "kit.json").read_text())
    assert resumed.totals.failed == 0 and sum(e.cached for e in resumed.entries) == 2
    assert asked(server, before) == sorted(TITLES[e.key] for e in first.entries if e.error)
