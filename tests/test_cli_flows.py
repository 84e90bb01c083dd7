"""The CLI's success paths in-process: Typer's runner on the composition root with a fake model (no index).

The same commands run on the real local stack in tests/e2e; here they are fast and check what each command
prints and writes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from generator.cli import app
from generator.drafts import Draft
from generator.runtime import Components, use_components
from generator.settings import Settings
from tests.conftest import EXAMPLES
from tests.fakes import fake_components

runner = CliRunner()
COFFEE = str(EXAMPLES[0])


@pytest.fixture
def parts(settings: Settings) -> Iterator[Components]:
    installed = fake_components(settings)
    with use_components(installed):
        yield installed


def cvj(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.stderr + result.stdout
    return result.exit_code, result.stdout, result.stderr


def saved_versions(parts: Components) -> list[str]:
    return sorted(p.name for p in (parts.settings.data_dir / "drafts").rglob("*.json"))


def test_draft_json_is_a_scored_draft_and_is_saved(parts: Components) -> None:
    code, stdout, stderr = cvj("draft", "-p", COFFEE, "-s", "convert", "--json")
    assert code == 0, stderr
    result = Draft.model_validate_json(stdout)
    assert result.stage == "convert" and result.evaluation is not None
    assert result.evaluation.verdict in {"passed", "needs work", "failed"}
    assert saved_versions(parts) == [f"{result.asset_type}-v1.json"]
    assert "Drafting entry-point offer for" in stderr and "version 1: score" in stderr


def test_draft_panel_shows_the_fields_the_verdict_and_provenance(parts: Components) -> None:
    code, stdout, _ = cvj("draft", "-p", COFFEE, "-s", "aware")
    assert code == 0
    assert "· aware ·" in stdout and "Eval:" in stdout and "pass mark" in stdout
    assert "prompt social_post" in stdout and "sources: none" in stdout


def test_variants_without_scoring(parts: Components) -> None:
    code, stdout, _ = cvj("draft", "-p", COFFEE, "-s", "aware", "--variants", "2", "--no-score", "--json")
    assert code == 0
    drafts = [Draft.model_validate(d) for d in json.loads(stdout)]
    assert [d.variant for d in drafts] == [1, 2] and all(d.evaluation is None for d in drafts)
    assert len(saved_versions(parts)) == 2


def test_candidates_keep_the_losers_as_alternatives(parts: Components) -> None:
    code, stdout, _ = cvj("draft", "-p", COFFEE, "-s", "subscribe", "--candidates", "2", "--json")
    assert code == 0
    result = Draft.model_validate_json(stdout)
    assert len(result.alternatives) == 1 and result.alternatives[0].evaluation is not None


def test_min_score_revises_and_keeps_every_version(parts: Components) -> None:
    code, _, stderr = cvj("draft", "-p", COFFEE, "-s", "excite", "--min-score", "0.99", "--max-revisions", "1")
    assert code == 0
    assert "Did not reach 0.99 in 2 version(s)." in stderr
    assert [name.split("-v")[1] for name in saved_versions(parts)] == ["1.json", "2.json"]


def test_flags_that_contradict_each_other_exit_2(parts: Components) -> None:
    code, _, stderr = cvj("draft", "-p", COFFEE, "-s", "aware", "--candidates", "2", "--no-score")
    assert code == 2 and "need the eval" in stderr


def test_revise_writes_a_scored_second_version(parts: Components, tmp_path: Path) -> None:
    _, stdout, _ = cvj("draft", "-p", COFFEE, "-s", "aware", "--json", "--no-score")
    first = tmp_path / "first.json"
    first.write_text(stdout)
    second = tmp_path / "second.json"
    code, stdout, stderr = cvj("revise", str(first), "-i", "shorter", "-p", COFFEE, "-o", str(second), "--json")
    assert code == 0, stderr
    revised = Draft.model_validate_json(second.read_text())
    assert revised.version == 2 and revised.revisions == ["shorter"] and revised.evaluation is not None
    assert Draft.model_validate_json(stdout) == revised


def test_kit_writes_every_format_and_a_summary(parts: Components, tmp_path: Path) -> None:
    out = tmp_path / "kits"
    code, stdout, stderr = cvj("kit", "-p", COFFEE, "--stages", "aware,convert", "--out", str(out))
    written = sorted(p.name for p in out.rglob("kit.*"))
    assert written == ["kit.docx", "kit.html", "kit.json", "kit.md"], stderr
    assert "the journey kit" in stdout and "Totals" in stdout
    # A fake model's filler fails the on-brief check: the kit is still written, and the exit code says so.
    assert code in (0, 2)
    if code == 2:
        assert "failed the eval's on-brief check" in stderr


def test_eval_score_prints_a_table_per_item(parts: Components, tmp_path: Path) -> None:
    items = tmp_path / "items.jsonl"
    lines = [
        {"stage": "aware", "text": "Three mistakes that make home espresso sour, and the one-minute fix."},
        {"stage": "promote", "text": "Give a friend a free class; you both get a month of beans."},
    ]
    items.write_text("\n".join(json.dumps(line) for line in lines))
    code, stdout, stderr = cvj("eval", "score", str(items))
    assert code == 0, stderr
    assert "#1 aware" in stdout and "#2 promote" in stdout and "Judge: off" in stderr
    code, stdout, _ = cvj("eval", "score", str(items), "--json")
    assert code == 0 and len(json.loads(stdout)) == 2
