"""Bad input at the CLI: one readable line on stderr, exit code 2, never a traceback."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from generator.cli import app
from tests.conftest import EXAMPLES

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stderr + result.stdout


def test_help_lists_the_commands() -> None:
    code, text = run("--help")
    assert code == 0
    for command in ("draft", "index", "llm", "doctor"):
        assert command in text


def test_unknown_stage_exits_2() -> None:
    code, text = run("draft", "--profile", str(EXAMPLES[0]), "--stage", "nirvana")
    assert code == 2
    assert "Unknown stage 'nirvana'" in text and "Traceback" not in text


@pytest.mark.parametrize("content", ["name: [broken", "name: only-a-name\n", "42"])
def test_malformed_profile_exits_2(tmp_path: Path, content: str) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(content)
    code, text = run("draft", "--profile", str(path), "--stage", "aware")
    assert code == 2
    assert str(path) in text and "Traceback" not in text


def test_missing_profile_exits_2() -> None:
    code, text = run("draft", "--profile", "missing.yaml", "--stage", "aware")
    assert code == 2 and "not found" in text


def test_bad_setting_exits_2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CVJ_PROVIDER", "carrier-pigeon")
    code, text = run("llm", "status")
    assert code == 2 and "CVJ_PROVIDER" in text
