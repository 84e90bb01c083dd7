"""A Spanish business's kit: drafted in Spanish, scored with the Spanish lists, and a kit written in English for it
flagged. The model is a fake that answers each asset's schema from labelled drafts (the real model's kit is in
tests/e2e/test_language_stack.py: the 135M model rarely writes Spanish)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import pytest
from langchain_core.messages import BaseMessage

from benchmarks.fake_openai_server import instance_for
from generator.evaluation.scoring import Evaluator
from generator.export.markdown import to_markdown
from generator.kit import plan_kit, run_kit
from generator.kit_models import KitReport
from generator.profile import BusinessProfile, load_profile
from generator.settings import PROJECT_ROOT, Settings
from tests.fakes import SchemaFake

BAKERY = PROJECT_ROOT / "examples" / "panaderia-la-espiga.yaml"
STAGES = ["aware", "subscribe", "convert", "advocate"]


def _assets(path: Path) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r["asset"] for r in rows if r["verdict"] == "publishable"]


class AnswerBook(SchemaFake):
    """Answers a schema with the fields of the first labelled draft that has every field it requires."""

    book: ClassVar[list[dict[str, Any]]] = []

    def _call(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> str:
        schema = kwargs["response_format"]["schema"]
        answer = instance_for(schema)
        properties = schema.get("properties", {})
        for asset in self.book:
            if set(schema.get("required", [])) <= set(asset):
                fixed = {k for k, spec in properties.items() if "const" in spec or "enum" in spec or "$ref" in spec}
                answer |= {k: v for k, v in asset.items() if k in properties and k not in fixed}
                break
        return json.dumps(answer)


def _kit(book: list[dict[str, Any]], profile: BusinessProfile, tmp_path: Path, settings: Settings) -> KitReport:
    AnswerBook.book = book
    return run_kit(profile, plan_kit(STAGES), out_dir=tmp_path, model=AnswerBook(), index=None, settings=settings,
                   evaluator=Evaluator(settings=settings))  # fmt: skip


def _written_in(report: KitReport) -> list[tuple[bool, str]]:
    out = []
    for entry in report.entries:
        assert entry.draft is not None and entry.draft.evaluation is not None, entry.error
        gate = entry.draft.evaluation.gate
        assert gate is not None
        check = next(c for c in gate.checks if c.id == "written_in")
        out.append((check.passed, check.reason))
    return out


@pytest.fixture
def bakery() -> BusinessProfile:
    return load_profile(BAKERY)


def test_a_spanish_profile_yields_a_spanish_kit_judged_in_spanish(
    bakery: BusinessProfile, tmp_path: Path, settings: Settings
) -> None:
    assert bakery.language == "es"
    report = _kit(_assets(PROJECT_ROOT / "eval" / "labelled" / "es" / "drafts.jsonl"), bakery, tmp_path, settings)
    assert [e.stage for e in report.entries] == STAGES
    verdicts = _written_in(report)
    assert all(passed and reason.startswith("reads as Spanish") for passed, reason in verdicts), verdicts
    for entry in report.entries:
        assert entry.draft is not None and entry.draft.evaluation is not None
        reasons = {c.id: c.reason or "" for c in entry.draft.evaluation.criteria}
        assert not [r for r in reasons.values() if "no phrase lists" in r]  # every rule read with the Spanish lists
        assert reasons["quality"] == "not judged in Spanish: the quality model is trained on English"
    text = to_markdown(report)
    assert "La Espiga" in text and any(w in text for w in (" tu ", " para ", " con "))


def test_a_kit_written_in_english_for_a_spanish_business_is_flagged(
    bakery: BusinessProfile, tmp_path: Path, settings: Settings
) -> None:
    english = _assets(PROJECT_ROOT / "eval" / "labelled" / "publishable_drafts.jsonl")
    report = _kit(english, bakery, tmp_path, settings)
    verdicts = _written_in(report)
    flagged = [reason for passed, reason in verdicts if not passed]
    assert flagged and all(r.startswith("reads as English") and r.endswith("not Spanish") for r in flagged)
    assert len(flagged) >= len(verdicts) - 1, verdicts  # a short asset may be too little to tell
    assert all(not (e.draft and e.draft.evaluation and e.draft.evaluation.passed) for e in report.entries)
