"""Faults stay in their asset (no sockets: fake models that raise, hang or write control characters).

The same faults over real HTTP, against a fault-injecting server, are in tests/e2e/test_faults.py."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, cast

import pytest
from chromadb.errors import InternalError
from docx import Document
from langchain_core.messages import BaseMessage
from typer.testing import CliRunner

from generator.cli import app
from generator.drafts import Draft
from generator.evaluation.results import AssetScore
from generator.evaluation.rule_scorers import Subject
from generator.evaluation.scoring import Evaluator
from generator.export import FORMATS, ExportError, export_kit
from generator.kit import SUPERSEDED, KitOptions, plan_kit, run_kit
from generator.kit_models import KitReport
from generator.knowledge import KnowledgeIndex
from generator.profile import BusinessProfile
from generator.runtime import Components, use_components
from generator.settings import PROJECT_ROOT, Settings
from tests.fakes import SchemaFake
from tests.faults import CONTROL

THREE = ["aware", "subscribe", "convert"]  # convert builds on subscribe


class Faulty(SchemaFake):
    """SchemaFake that raises ``error``, sleeps ``sleep_s`` or adds control characters, for titles starting with
    ``target``."""

    target: str = "LeadMagnetCopy"
    error: Any = None
    sleep_s: float = 0.0
    control: bool = False

    def _call(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> str:
        title = str(kwargs["response_format"]["schema"].get("title", ""))
        answer = super()._call(messages, *args, **kwargs)
        if not title.startswith(self.target):
            return answer
        time.sleep(self.sleep_s)
        if self.error is not None:
            raise self.error
        if self.control:
            data = json.loads(answer)
            return json.dumps({k: f"{v}{CONTROL}" if isinstance(v, str) else v for k, v in data.items()})
        return answer if not self.sleep_s else "not json"  # a slow asset would be re-asked


def kit(profile: BusinessProfile, out: Path, settings: Settings, model: SchemaFake, **kw: Any) -> KitReport:
    SchemaFake.reset()
    return run_kit(profile, plan_kit(kw.pop("stages", THREE)), out_dir=out, model=model, index=None,
                   settings=settings, **kw)  # fmt: skip


def errors(report: KitReport) -> dict[str, str | None]:
    return {e.key: e.error for e in report.entries}


@pytest.mark.parametrize(
    ("error", "shown"),
    [
        (sqlite3.OperationalError("database is locked"), "Unexpected OperationalError: database is locked"),
        (RuntimeError("client bug"), "Unexpected RuntimeError: client bug"),
        (KeyError("choices"), "Unexpected KeyError: 'choices'"),
    ],
)
def test_an_unexpected_error_fails_its_asset_not_the_kit(
    error: Exception, shown: str, tmp_path: Path, settings: Settings, coffee: BusinessProfile
) -> None:
    report = kit(coffee, tmp_path, settings, Faulty(error=error))
    assert errors(report) == {"aware.social_post": None, "subscribe.lead_magnet": shown, "convert.entry_offer": None}
    assert report.totals.failed == 1 and report.totals.assets == 2
    assert [p.name for p in export_kit(report, tmp_path, FORMATS)] == ["kit.md", "kit.json", "kit.docx", "kit.html"]
    assert shown in (tmp_path / "kit.md").read_text()


def test_a_chroma_error_in_retrieval_fails_only_that_asset(
    tmp_path: Path, settings: Settings, coffee: BusinessProfile
) -> None:
    class BrokenIndex:
        def search(self, query: str, *, k: int, stage: str | None = None, **_: Any) -> list[Any]:
            if stage == "subscribe":
                raise InternalError("Error executing plan: disk I/O error")
            return []

    SchemaFake.reset()
    report = run_kit(coffee, plan_kit(THREE), out_dir=tmp_path, model=SchemaFake(),
                     index=cast(KnowledgeIndex, BrokenIndex()), settings=settings)  # fmt: skip
    assert errors(report)["subscribe.lead_magnet"] == "Unexpected InternalError: Error executing plan: disk I/O error"
    assert report.totals.assets == 2


def test_an_evaluator_error_fails_only_that_asset(tmp_path: Path, settings: Settings, coffee: BusinessProfile) -> None:
    class BrokenEvaluator(Evaluator):
        def score(self, subject: Subject) -> AssetScore:
            if subject.stage == "convert":
                raise ValueError("Input contains NaN")
            return super().score(subject)

    report = kit(coffee, tmp_path, settings, SchemaFake(), evaluator=BrokenEvaluator(settings=settings))
    assert errors(report)["convert.entry_offer"] == "Unexpected ValueError: Input contains NaN"
    assert report.totals.assets == 2 and all(e.draft.evaluation for e in report.entries if e.draft)


def test_an_asset_past_its_deadline_is_failed_and_the_kit_goes_on(
    tmp_path: Path, settings: Settings, coffee: BusinessProfile
) -> None:
    quick = settings.model_copy(update={"asset_deadline_s": 0.5})
    started = time.monotonic()
    report = kit(coffee, tmp_path, quick, Faulty(sleep_s=3))  # answers after 3 s, and badly (a re-ask)
    assert time.monotonic() - started < 2.5  # it did not wait for the stuck asset
    reason = errors(report)["subscribe.lead_magnet"]
    assert reason and reason.startswith("Stopped: not finished within 0.5 s (CVJ_ASSET_DEADLINE_S)")
    assert errors(report)["convert.entry_offer"] is None  # its dependant ran without it
    stuck = [t for t in threading.enumerate() if t.name == "kit-subscribe.lead_magnet"]
    for thread in stuck:
        thread.join(5)
    # Once stopped, the asset made no more calls (no re-ask) and wrote nothing behind the kit's back.
    assert SchemaFake.calls.count("LeadMagnetCopy") == 1
    assert not (tmp_path / "assets" / "subscribe.lead_magnet.json").exists()
    resumed = kit(coffee, tmp_path, settings, SchemaFake())
    assert SchemaFake.calls == ["LeadMagnetCopy"] and resumed.totals.failed == 0


def test_the_deadline_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().asset_deadline_s == 600
    monkeypatch.setenv("CVJ_ASSET_DEADLINE_S", "42.5")
    assert Settings().asset_deadline_s == 42.5


def test_control_characters_in_copy_do_not_cost_the_word_or_html_export(
    tmp_path: Path, settings: Settings, coffee: BusinessProfile
) -> None:
    report = kit(coffee, tmp_path, settings, Faulty(control=True))
    assert report.totals.failed == 0
    assert any(CONTROL in str(v) for e in report.entries if e.draft for v in e.draft.asset.values())
    export_kit(report, tmp_path, FORMATS)
    text = "\n".join(p.text for p in Document(str(tmp_path / "kit.docx")).paragraphs)
    assert "Harbor Lane Coffee note" in text and not any(c in text for c in "\x00\x07\x0b\x1b")
    html = (tmp_path / "kit.html").read_text()
    assert "Harbor Lane Coffee note" in html and "\x07" not in html and "\x00" not in html


def test_one_format_failing_still_writes_the_others(
    tmp_path: Path, settings: Settings, coffee: BusinessProfile, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = kit(coffee, tmp_path, settings, SchemaFake())

    def broken(*_: object) -> None:
        raise MemoryError("out of memory")

    monkeypatch.setattr("generator.export.to_docx", broken)
    with pytest.raises(ExportError, match=r"kit.docx \(MemoryError: out of memory\)") as raised:
        export_kit(report, tmp_path, FORMATS)
    assert "Written: kit.md, kit.json, kit.html" in raised.value.message
    assert sorted(p.name for p in tmp_path.glob("kit.*")) == ["kit.html", "kit.json", "kit.md"]


def test_files_written_for_another_business_are_set_aside_and_redone(
    tmp_path: Path, settings: Settings, coffee: BusinessProfile
) -> None:
    kit(coffee, tmp_path, settings, SchemaFake())
    first = {p.name: p.read_bytes() for p in (tmp_path / "assets").glob("*.json")}
    twin = coffee.model_copy(update={"name": "Harbor-Lane Coffee!"})  # same slug, same folder
    assert twin.slug == coffee.slug
    report = kit(twin, tmp_path, settings, SchemaFake())
    assert len(SchemaFake.calls) == 3 and not any(e.cached for e in report.entries)
    assert all(d.business == "Harbor-Lane Coffee!" for d in (e.draft for e in report.entries) if d)
    assert len(report.set_aside) == 3 and "it was written for 'Harbor Lane Coffee'" in report.set_aside[0]
    kept = {p.name: p.read_bytes() for p in (tmp_path / "assets" / SUPERSEDED).glob("*.json")}
    assert kept == {name.replace(".json", ".1.json"): data for name, data in first.items()}  # nothing lost
    again = kit(twin, tmp_path, settings, SchemaFake())  # and the redone files are reused
    assert SchemaFake.calls == [] and not again.set_aside


def test_an_edited_profile_redoes_its_assets(tmp_path: Path, settings: Settings, coffee: BusinessProfile) -> None:
    kit(coffee, tmp_path, settings, SchemaFake())
    edited = coffee.model_copy(update={"market": "Local: Seattle, WA"})
    report = kit(edited, tmp_path, settings, SchemaFake())
    assert len(SchemaFake.calls) == 3 and report.set_aside[0].endswith(
        "its business profile has changed (moved to superseded/aware.social_post.1.json)"
    )


def test_a_new_prompt_version_redoes_only_its_assets(
    tmp_path: Path, settings: Settings, coffee: BusinessProfile
) -> None:
    kit(coffee, tmp_path / "kit", settings, SchemaFake())
    prompts = tmp_path / "prompts"
    prompts.mkdir()
    for source in (PROJECT_ROOT / "prompts").iterdir():
        (prompts / source.name).write_bytes(source.read_bytes())
    post = prompts / "social_post.md"
    post.write_text(post.read_text().replace('version: "3"', 'version: "3.1"', 1))
    report = kit(coffee, tmp_path / "kit", settings.model_copy(update={"prompts_dir": prompts}), SchemaFake())
    assert SchemaFake.calls == ["SocialPost_instagram"]
    assert report.set_aside == [
        "aware.social_post: it was written with another prompt version: social_post v3 (now v3.1) "
        "(moved to superseded/aware.social_post.1.json)"
    ]


def test_unstamped_and_damaged_files_are_kept_aside_not_overwritten(
    tmp_path: Path, settings: Settings, coffee: BusinessProfile
) -> None:
    kit(coffee, tmp_path, settings, SchemaFake())
    assets = tmp_path / "assets"
    post = assets / "aware.social_post.json"
    unstamped = json.loads(post.read_text())
    del unstamped["kit_stamp"]
    Draft.model_validate(unstamped)  # still a valid draft, from an older version or another tool
    post.write_text(json.dumps(unstamped))
    (assets / "subscribe.lead_magnet.json").write_text("{half a fi")
    report = kit(coffee, tmp_path, settings, SchemaFake())
    assert sorted(SchemaFake.calls) == ["LeadMagnetCopy", "SocialPost_instagram"]
    assert [line.split(" (moved")[0] for line in report.set_aside] == [
        "aware.social_post: it has no kit stamp",
        "subscribe.lead_magnet: it cannot be read (JSONDecodeError)",
    ]
    assert (assets / SUPERSEDED / "subscribe.lead_magnet.1.json").read_text() == "{half a fi"
    assert json.loads((assets / SUPERSEDED / "aware.social_post.1.json").read_text()) == unstamped


def test_a_kit_with_concurrency_one_still_runs_the_graph(
    tmp_path: Path, settings: Settings, coffee: BusinessProfile
) -> None:
    report = kit(coffee, tmp_path, settings, SchemaFake(), stages=None, options=KitOptions(concurrency=1))
    assert report.totals.assets == 8
    assert SchemaFake.calls.index("LeadMagnetCopy") < SchemaFake.calls.index("EntryOfferCopy")


def test_two_businesses_with_one_slug_in_one_batch_are_a_clear_error(
    tmp_path: Path, settings: Settings, coffee: BusinessProfile
) -> None:
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    for n, name in enumerate(["Harbor Lane Coffee", "Harbor-Lane Coffee!"]):
        data = coffee.model_copy(update={"name": name}).model_dump(mode="json", exclude_none=True)
        (profiles / f"{n}.json").write_text(json.dumps(data))
    parts = Components(settings, model_factory=lambda _: contextlib.nullcontext(SchemaFake()),
                       index_factory=lambda _: None, evaluator_factory=lambda s, _: Evaluator(settings=s))  # fmt: skip
    out = tmp_path / "kits"
    SchemaFake.reset()
    with use_components(parts):
        result = CliRunner().invoke(app, ["kit", "--profiles", str(profiles), "--stages", "aware", "--out", str(out)])
    assert result.exit_code == 2 and "Traceback" not in result.stdout + result.stderr
    assert "two profiles for 'harbor-lane-coffee'" in " ".join(result.stderr.split())
    assert not out.exists() and SchemaFake.calls == []  # refused before any model call or folder
