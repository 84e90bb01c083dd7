"""Eval scorers, rubric loading, scoring, items, and the revise-until-it-passes loop (fakes only)."""

import json
from pathlib import Path
from typing import cast

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from generator.drafts import DraftRequest
from generator.errors import DocumentError
from generator.evaluation.criteria import load_rubric
from generator.evaluation.items import read_items, to_subject
from generator.evaluation.judge import Judge
from generator.evaluation.readability import reading_grade
from generator.evaluation.results import AssetScore
from generator.evaluation.rule_scorers import RULES, Subject
from generator.evaluation.scoring import Evaluator
from generator.evaluation.stage_fit import StageClassifier, StageFit
from generator.improve import best_version, draft_until
from generator.profile import BusinessProfile
from generator.settings import PROJECT_ROOT, Provider, Settings
from generator.stages import STAGE_IDS
from tests.test_assets_and_revision import ENTRY

CRITERIA = PROJECT_ROOT / "eval" / "criteria"


class FixedClassifier:
    """Says every text is about one stage."""

    def __init__(self, stage: str, p: float = 0.9) -> None:
        self.fit = StageFit(stage=stage, confidence=p, scores={s: (p if s == stage else 0.01) for s in STAGE_IDS})

    def classify(self, texts: list[str]) -> list[StageFit]:
        return [self.fit for _ in texts]


@pytest.mark.parametrize("stage", STAGE_IDS)
def test_every_stage_has_a_valid_rubric_with_stage_fit_and_a_judge_item(stage: str) -> None:
    rubric = load_rubric(CRITERIA, stage)
    assert rubric.stage == stage and 0 < rubric.pass_threshold <= 1
    assert any(c.rule == "stage_fit" for c in rubric.criteria)
    assert any(c.scorer == "judge" and c.steps for c in rubric.criteria)


def test_invalid_rubric_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "aware.yaml").write_text("stage: aware\nsummary: x\npass_threshold: 2\ncriteria: []\n")
    with pytest.raises(DocumentError, match="not a valid rubric"):
        load_rubric(tmp_path, "aware")


@pytest.mark.parametrize(
    ("rule", "good", "bad"),
    [
        ("has_cta", "Download the checklist today.", "We are a bakery."),
        ("no_purchase_ask", "Three ways to keep bread fresh.", "Buy now and get 20% off!"),
        ("mentions_incentive", "You both get $10 credit.", "Tell your friends about us."),
        ("min_words", "word " * 50, "too short"),
    ],
)
def test_rules_tell_good_from_bad(rule: str, good: str, bad: str) -> None:
    params = {"min": 40} if rule == "min_words" else {}
    score = RULES[rule]
    good_result = score(Subject(stage="aware", text=good), params)
    assert good_result is not None and good_result.score == 1.0
    bad_result = score(Subject(stage="aware", text=bad), params)
    assert bad_result is not None and bad_result.score < 1.0


def test_profile_rules_apply_only_with_a_profile(coffee: BusinessProfile) -> None:
    text = "Cheap beans, the best coffee in Portland."
    assert RULES["avoid_words"](Subject(stage="aware", text=text), {}) is None
    avoided = RULES["avoid_words"](Subject(stage="aware", text=text, profile=coffee), {})
    assert avoided is not None and avoided.score == 0.0
    banned = RULES["banned_claims"](Subject(stage="aware", text=text, profile=coffee), {})
    assert banned is not None and banned.score == 0.0
    unnamed = RULES["names_business"](Subject(stage="aware", text=text, business="Harbor Lane Coffee"), {})
    assert unnamed is not None and unnamed.score == 0


def test_reading_grade_orders_simple_and_dense_text() -> None:
    assert reading_grade("We roast coffee. It is fresh. Come by.") < reading_grade(
        "Comprehensive organizational transformation necessitates multidimensional stakeholder alignment initiatives."
    )


def test_score_is_a_weighted_mean_and_required_criteria_gate_the_pass(settings: Settings) -> None:
    classifier = cast("StageClassifier", FixedClassifier("aware"))  # a fake stands in for the real classifier
    evaluator = Evaluator(settings=settings, classifier=classifier)
    good = evaluator.score(
        Subject(
            stage="aware",
            text="Harbor Lane Coffee: why your beans taste flat. Follow us for tips.",
            business="Harbor Lane Coffee",
        )
    )
    bad = evaluator.score(
        Subject(stage="aware", text="BUY NOW! 50% off all beans, $5 only!", business="Harbor Lane Coffee")
    )
    assert 0 <= bad.score < good.score <= 1
    assert not bad.passed
    judged = [c for c in good.criteria if c.scorer == "judge"]
    assert judged and all(c.score is None and c.reason == "judge off" for c in judged)
    assert "no_purchase_ask" not in bad.critique() and "purchase" in bad.critique().lower()


def test_a_required_criterion_passes_at_its_own_line(settings: Settings, tmp_path: Path) -> None:
    """``pass_at`` moves a required criterion's line (the quality model's is 0.3), never the score."""
    import shutil

    import yaml

    def scored(required: bool, pass_at: float) -> tuple[bool, float, float]:
        eval_dir = tmp_path / f"eval-{required}-{pass_at}"
        shutil.copytree(PROJECT_ROOT / "eval" / "criteria", eval_dir / "criteria")
        for data in ("gate.yaml", "signals.yaml"):
            shutil.copy(PROJECT_ROOT / "eval" / data, eval_dir / data)
        rubric_file = eval_dir / "criteria" / "aware.yaml"
        rubric = yaml.safe_load(rubric_file.read_text())
        for criterion in rubric["criteria"]:
            if criterion["id"] == "names_business":
                criterion.update(required=required, pass_at=pass_at)
        rubric_file.write_text(yaml.safe_dump(rubric))
        custom = settings.model_copy(update={"eval_dir": eval_dir})
        classifier = cast("StageClassifier", FixedClassifier("aware"))  # a fake stands in for the real classifier
        evaluator = Evaluator(settings=custom, classifier=classifier)
        text = "Why your beans taste flat: most were roasted months ago. Follow us for a brew tip every Friday."
        result = evaluator.score(Subject(stage="aware", text=text, business="Harbor Lane Coffee"))
        names = next(c for c in result.criteria if c.id == "names_business")
        assert names.score == 0.0 and names.pass_at == pass_at
        return result.passed, result.score, names.pass_at

    free, strict, lenient = scored(False, 0.5), scored(True, 0.5), scored(True, 0.0)
    assert strict[0] is False and lenient[0] == free[0]
    assert free[1] == strict[1] == lenient[1]


def test_judge_scores_with_a_reason(settings: Settings) -> None:
    model = FakeListChatModel(responses=['{"reason": "It names one specific problem.", "score": 5}'] * 20)
    evaluator = Evaluator(settings=settings, judge=Judge(model, settings))
    result = evaluator.score(Subject(stage="subscribe", text="Free 5-minute pour-over cheat sheet. Get it now."))
    judged = [c for c in result.criteria if c.scorer == "judge"]
    assert judged and all(c.score == 1.0 and "specific problem" in c.reason for c in judged)


def test_a_judge_that_never_answers_validly_is_reported_per_criterion_not_a_crash(settings: Settings) -> None:
    """The bundled model's judge can fail its re-asks: the criterion says so and scoring goes on."""
    model = FakeListChatModel(responses=["not json at all"] * 100)
    evaluator = Evaluator(settings=settings, judge=Judge(model, settings))
    result = evaluator.score(Subject(stage="convert", text="Try the Tasting Flight Box for $12. Order today."))
    judged = [c for c in result.criteria if c.scorer == "judge"]
    assert judged and all(c.score is None for c in judged)
    assert all(c.reason.startswith("judge failed: The model did not produce a valid Verdict answer") for c in judged)
    assert any(c.score is not None for c in result.criteria)  # the rules still scored


def test_items_accept_texts_and_drafts(tmp_path: Path, settings: Settings, coffee: BusinessProfile) -> None:
    from generator.chains import draft

    saved = draft(coffee, DraftRequest(stage="convert"), model=FakeListChatModel(responses=[json.dumps(ENTRY)]),
                  index=None, settings=settings)  # fmt: skip
    path = tmp_path / "items.jsonl"
    path.write_text(json.dumps({"stage": "aware", "text": "Hello"}) + "\n" + saved.model_dump_json() + "\n")
    subjects = [to_subject(item, number=i) for i, item in enumerate(read_items(path), 1)]
    assert [s.stage for s in subjects] == ["aware", "convert"]
    assert subjects[1].asset is not None and "Tasting Flight Box" in subjects[1].text
    with pytest.raises(DocumentError, match="Item 1"):
        to_subject({"stage": "nirvana", "text": "x"}, number=1)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(DocumentError, match="not valid JSON"):
        read_items(bad)


def test_draft_until_revises_with_the_critique_and_keeps_every_version(
    settings: Settings, coffee: BusinessProfile
) -> None:
    weak = {**ENTRY, "call_to_action": "Maybe later", "sales_copy": "Stuff."}
    model = FakeListChatModel(responses=[json.dumps(weak), json.dumps(ENTRY), json.dumps(ENTRY)])

    class Scorer:
        calls = 0

        def score(self, subject: Subject) -> AssetScore:
            Scorer.calls += 1
            value = 0.3 if "Stuff." in subject.text else 0.9
            return AssetScore(stage="convert", score=value, passed=value > 0.5, threshold=0.6, criteria=[])

    evaluator = cast("Evaluator", Scorer())  # a fake stands in for the real evaluator: score() is all that is called
    versions = draft_until(coffee, DraftRequest(stage="convert"), min_score=0.8, max_revisions=2, model=model,
                           index=None, settings=settings, evaluator=evaluator)  # fmt: skip
    assert [v.version for v in versions] == [1, 2]
    assert versions[0].evaluation and versions[0].evaluation.score == 0.3
    assert versions[1].evaluation and versions[1].evaluation.score == 0.9
    assert "0.30" in versions[1].revisions[0]
    assert best_version(versions) is versions[1]


def test_the_judge_is_off_by_default_only_with_the_bundled_model(tmp_path: Path) -> None:
    from generator.runtime import judge_choice

    bundled = Settings(provider=Provider.LOCAL, data_dir=tmp_path)
    use, note = judge_choice(bundled, None)
    assert use is False and "judges at chance" in note and "--judge" in note
    assert judge_choice(bundled, True)[0] is True
    capable = Settings(provider=Provider.LOCAL, data_dir=tmp_path, judge_model="qwen2.5-7b-instruct")
    assert judge_choice(capable, None) == (True, "Judge: on (qwen2.5-7b-instruct); --no-judge turns it off.")
    assert judge_choice(capable, False)[0] is False
