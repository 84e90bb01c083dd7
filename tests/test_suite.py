"""Eval suites: loading, every assertion type, drafting errors, skips, the summary and the reports."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, cast, get_args

import pytest
import yaml
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from pydantic import TypeAdapter
from rich.console import Console

from generator.drafts import Draft
from generator.errors import CVJError, DocumentError, GenerationError
from generator.evaluation.criteria import Criterion, load_rubric
from generator.evaluation.judge import Judge
from generator.evaluation.report import render_html, render_terminal, stage_chart_svg
from generator.evaluation.results import AssetScore, CriterionScore
from generator.evaluation.rule_scorers import RuleResult, Subject
from generator.evaluation.scoring import Evaluator
from generator.evaluation.stage_fit import StageClassifier, StageFit
from generator.evaluation.suite import CaseResult, SuiteReport, run_suite, suite_drafter
from generator.evaluation.suite_assertions import (
    ASSERTION_TAGS,
    Assertion,
    AssertionType,
    ContainsAssertion,
    CriterionAssertion,
    LlmRubricAssertion,
    MaxLengthAssertion,
    NotContainsAssertion,
    PassesAssertion,
    ScoreMinAssertion,
    StageFitAssertion,
)
from generator.evaluation.suite_file import SCHEMA_FILE, Case, Suite, load_suite, parse_suite, suite_json_schema
from generator.settings import PROJECT_ROOT, Settings
from generator.stages import STAGE_IDS
from tests.test_chains import GOOD_POST

DEFAULT_SUITE = PROJECT_ROOT / "eval" / "suites" / "default.yaml"
SCHEMA = DEFAULT_SUITE.parent / SCHEMA_FILE
COFFEE = "examples/harbor-lane-coffee.yaml"
CLEAN = "Harbor Lane Coffee roasts every week in Portland. Follow us for one brewing tip a week."
PUSHY = "Harbor Lane Coffee beans 20% off, buy now!"


class StubClassifier:
    """Reads every text as the same stage mix."""

    def __init__(self, scores: dict[str, float]) -> None:
        self.scores: dict[str, float] = {s: scores.get(s, 0.0) for s in STAGE_IDS}
        self.calls = 0

    def classify(self, texts: list[str]) -> list[StageFit]:
        self.calls += 1
        best = max(self.scores, key=self.scores.__getitem__)
        return [StageFit(stage=best, confidence=self.scores[best], scores=self.scores) for _ in texts]


class StubJudge:
    """Gives every judged criterion the same score, and remembers what it was asked."""

    def __init__(self, score: float) -> None:
        self.value = score
        self.asked: list[str] = []

    def score(self, criterion: Criterion, subject: Subject) -> RuleResult:
        self.asked.append(criterion.description)
        return RuleResult(score=self.value, reason=f"stub judge on '{criterion.name}'")


def as_classifier(stub: StubClassifier) -> StageClassifier:
    return cast("StageClassifier", stub)  # the stub stands in for the real classifier: classify() is all that is called


def as_judge(stub: StubJudge | FailingJudge) -> Judge:
    return cast("Judge", stub)  # the stub stands in for the real judge: score() is all that is called


AWARE_FIT = StubClassifier({"aware": 0.6, "engage": 0.25, "convert": 0.15})


@pytest.fixture
def evaluator(tmp_path: Path) -> Evaluator:
    return Evaluator(settings=Settings(data_dir=tmp_path), classifier=None, judge=None)


def make_suite(*cases: dict[str, Any], threshold: float = 1.0) -> Suite:
    return parse_suite({"description": "test suite", "defaults": {"threshold": threshold}, "cases": list(cases)})


def fixed_case(*assertions: dict[str, Any], text: str = CLEAN, stage: str = "aware", **extra: Any) -> dict[str, Any]:
    return {
        "description": extra.pop("description", f"case {text[:20]}"),
        "vars": {"stage": stage, "text": text, "business": "Harbor Lane Coffee"},
        "assert": list(assertions),
        **extra,
    }


def run_one(evaluator: Evaluator, *assertions: dict[str, Any], text: str = CLEAN, **extra: Any) -> CaseResult:
    report = run_suite(
        make_suite(fixed_case(*assertions, text=text, **extra)),
        evaluator=evaluator,
        draft_fn=None,
        base_dir=PROJECT_ROOT,
    )
    return report.cases[0]


def drafter(tmp_path: Path, *responses: str) -> Any:
    model = FakeListChatModel(responses=list(responses) or [json.dumps(GOOD_POST)])
    settings = Settings(data_dir=tmp_path / "drafts")
    return suite_drafter(model=model, index=None, settings=settings, base_dir=PROJECT_ROOT)


# --------------------------------------------------------------------------- the shipped suite


def test_default_suite_loads_and_covers_every_stage_and_assertion_type() -> None:
    suite = load_suite(DEFAULT_SUITE)
    assert 14 <= len(suite.cases) <= 24
    assert {c.vars.stage for c in suite.cases} == set(STAGE_IDS)
    drafted = [c for c in suite.cases if c.drafted]
    assert 6 <= len(drafted) <= len(suite.cases) - 6  # about half drafted, half fixed texts
    assert {c.vars.profile for c in drafted} == {
        f"examples/{p.name}" for p in (PROJECT_ROOT / "examples").glob("*.yaml")
    }
    used = {a.type for c in suite.cases for a in c.assertions}
    assert used == {
        "score-min",
        "passes",
        "criterion",
        "stage-fit",
        "contains",
        "not-contains",
        "max-length",
        "llm-rubric",
    }
    assert any(a.negate for c in suite.cases for a in c.assertions)


def test_default_suite_names_only_real_profiles_and_criteria() -> None:
    suite = load_suite(DEFAULT_SUITE)
    for case in suite.cases:
        path = case.profile_path(PROJECT_ROOT)
        assert path is None or path.is_file(), case.description
        ids = {c.id for c in load_rubric(PROJECT_ROOT / "eval" / "criteria", case.vars.stage).criteria}
        for a in case.assertions:
            if a.type == "criterion":
                assert a.value in ids, f"{case.description}: {a.value} is not in the {case.vars.stage} rubric"


def test_default_suite_bad_texts_are_caught_by_the_rules_alone(tmp_path: Path) -> None:
    undecided = StubClassifier(dict.fromkeys(STAGE_IDS, 1 / len(STAGE_IDS)))
    evaluator = Evaluator(settings=Settings(data_dir=tmp_path), classifier=as_classifier(undecided))
    report = run_suite(load_suite(DEFAULT_SUITE), evaluator=evaluator, draft_fn=None, base_dir=PROJECT_ROOT)
    caught = [c for c in report.cases if c.description.endswith("caught")]
    assert len(caught) >= 4
    for case in caught:
        assert case.passed, (case.description, [a.reason for a in case.failing()])
    assert all(c.skipped for c in report.cases if c.drafted)
    judged = next(c for c in report.cases if "judge" in c.description)
    assert judged.skipped and judged.skip_reason == "every assertion skipped: judge off"


# --------------------------------------------------------------------------- each assertion type


@pytest.mark.parametrize(
    ("assertion", "text", "passed"),
    [
        ({"type": "score-min", "value": 0.8}, CLEAN, True),
        ({"type": "score-min", "value": 0.8}, PUSHY, False),
        ({"type": "score-min", "value": 0.8, "negate": True}, PUSHY, True),
        ({"type": "passes", "value": True}, CLEAN, True),
        ({"type": "passes"}, PUSHY, False),
        ({"type": "passes", "value": False}, PUSHY, True),
        ({"type": "criterion", "value": "no_purchase_ask"}, CLEAN, True),
        ({"type": "criterion", "value": "no_purchase_ask"}, PUSHY, False),
        ({"type": "criterion", "value": "no_purchase_ask", "negate": True}, PUSHY, True),
        ({"type": "criterion", "value": "no_purchase_ask", "negate": True}, CLEAN, False),
        ({"type": "contains", "value": "PORTLAND"}, CLEAN, True),
        ({"type": "contains", "value": "Seattle"}, CLEAN, False),
        ({"type": "not-contains", "value": "buy now"}, CLEAN, True),
        ({"type": "not-contains", "value": "BUY NOW"}, PUSHY, False),
        ({"type": "contains", "value": "buy", "negate": True}, PUSHY, False),
        ({"type": "max-length", "value": len(PUSHY)}, PUSHY, True),
        ({"type": "max-length", "value": len(PUSHY) - 1}, PUSHY, False),
        ({"type": "max-length", "value": 10, "negate": True}, PUSHY, True),
    ],
)
def test_assertion_passes_and_fails_where_it_should(
    evaluator: Evaluator, assertion: dict[str, Any], text: str, passed: bool
) -> None:
    case = run_one(evaluator, assertion, text=text)
    (result,) = case.assertions
    assert result.passed is passed, result.reason
    assert case.passed is passed and case.score == (1.0 if passed else 0.0)
    assert result.score == (1.0 if passed else 0.0) and not result.skipped


def test_criterion_assertion_uses_its_threshold_and_says_why(evaluator: Evaluator) -> None:
    text = "Harbor Lane Coffee " + " ".join(["word"] * 30) + ". Follow us."
    low = run_one(evaluator, {"type": "criterion", "value": "names_business", "threshold": 1.0}, text=text)
    assert low.assertions[0].passed and low.assertions[0].measured == 1.0
    assert "names the business" in low.assertions[0].reason
    pushy = run_one(evaluator, {"type": "criterion", "value": "no_purchase_ask", "threshold": 0.0}, text=PUSHY)
    assert pushy.assertions[0].passed  # score 0 >= threshold 0


def test_unmeasurable_assertions_fail_even_when_negated(evaluator: Evaluator) -> None:
    case = run_one(
        evaluator,
        {"type": "criterion", "value": "no_such_criterion", "negate": True},
        {"type": "stage-fit", "value": "aware", "negate": True},
        {"type": "criterion", "value": "stage_fit"},
    )
    unknown, fit, rubric_fit = case.assertions
    assert not unknown.passed and "no criterion 'no_such_criterion' in the aware rubric" in unknown.reason
    assert not fit.passed and fit.reason == "no classifier"
    assert not rubric_fit.passed and "no classifier" in rubric_fit.reason
    assert not case.passed and case.score == 0.0


def test_stage_fit_uses_the_classifier_probability(tmp_path: Path) -> None:
    classifier = StubClassifier({"aware": 0.6, "engage": 0.25, "convert": 0.15})
    evaluator = Evaluator(settings=Settings(data_dir=tmp_path), classifier=as_classifier(classifier))
    case = run_one(
        evaluator,
        {"type": "stage-fit", "value": "aware"},  # default threshold 0.4
        {"type": "stage-fit", "value": "Engage", "threshold": 0.3},
        {"type": "stage-fit", "value": "engage", "threshold": 0.2},
        {"type": "stage-fit", "value": "convert", "negate": True},
    )
    aware, engage_high, engage_low, not_convert = case.assertions
    assert aware.passed and aware.measured == 0.6 and "60%" in aware.reason
    assert not engage_high.passed and engage_high.value == "engage"
    assert engage_low.passed
    assert not_convert.passed and "negated" in not_convert.reason
    assert case.score == 0.75 and not case.passed
    assert classifier.calls == 1  # one classifier call per case, shared by the rubric and the assertions


def test_llm_rubric_is_skipped_without_a_judge_and_judged_with_one(tmp_path: Path, evaluator: Evaluator) -> None:
    requirement = {"type": "llm-rubric", "value": "Mentions the roast date."}
    off = run_one(evaluator, requirement, {"type": "contains", "value": "coffee"})
    skipped, contains = off.assertions
    assert skipped.skipped and skipped.reason == "judge off" and skipped.score is None
    assert contains.passed and off.passed and off.score == 1.0  # a skipped assertion does not count

    judge = StubJudge(0.75)
    evaluator = Evaluator(settings=Settings(data_dir=tmp_path), judge=as_judge(judge))
    on = run_one(
        evaluator,
        requirement,
        {**requirement, "threshold": 0.8},
        {**requirement, "threshold": 0.8, "negate": True},
    )
    assert [a.passed for a in on.assertions] == [True, False, True]
    assert "Mentions the roast date." in judge.asked
    assert on.asset_score is not None and any(c.scorer == "judge" and c.score == 0.75 for c in on.asset_score.criteria)


def test_a_case_with_only_skipped_assertions_is_skipped(evaluator: Evaluator) -> None:
    case = run_one(
        evaluator, {"type": "llm-rubric", "value": "Is funny."}, {"type": "criterion", "value": "grabs_attention"}
    )
    assert case.skipped and not case.passed
    assert case.skip_reason == "every assertion skipped: judge off"
    assert case.asset_score is not None  # the rubric still ran


def test_case_score_is_weighted_and_compared_with_the_threshold(evaluator: Evaluator) -> None:
    assertions = ({"type": "contains", "value": "Portland", "weight": 3}, {"type": "contains", "value": "Seattle"})
    strict = run_one(evaluator, *assertions)
    assert strict.score == 0.75 and not strict.passed and strict.threshold == 1.0
    lenient = run_one(evaluator, *assertions, threshold=0.7)
    assert lenient.score == 0.75 and lenient.passed
    assert [a.reason for a in lenient.failing()] == ["does not contain 'Seattle'"]


# --------------------------------------------------------------------------- the assertion classes

ASSERTION = TypeAdapter(Assertion)


def criterion_score(id: str, score: float | None, reason: str, scorer: str = "rule") -> CriterionScore:
    return CriterionScore(id=id, name=id, scorer=scorer, weight=1, required=False, score=score, reason=reason)


SCORED = AssetScore(
    stage="aware",
    score=0.7,
    passed=True,
    threshold=0.65,
    stage_fit=StageFit(stage="aware", confidence=0.6, scores={"aware": 0.6, "engage": 0.3, "convert": 0.1}),
    criteria=[
        criterion_score("has_cta", 0.5, "one"),
        criterion_score("voice", None, "judge off", scorer="judge"),
        criterion_score("words", None, "no profile"),
    ],
)
SUBJECT = Subject(stage="aware", text="Roasted every week in Portland.")


class FailingJudge:
    def score(self, criterion: Criterion, subject: Subject) -> RuleResult:
        raise CVJError("the judge timed out")


@pytest.mark.parametrize(
    ("raw", "cls", "status", "reason", "measured"),
    [
        ({"type": "score-min", "value": 0.7}, ScoreMinAssertion, "pass", "rubric score 0.70 >= 0.7", 0.7),
        ({"type": "score-min", "value": 0.71}, ScoreMinAssertion, "fail", "rubric score 0.70 < 0.71", 0.7),
        ({"type": "passes"}, PassesAssertion, "pass", "rubric passes (0.70, needs 0.65)", 0.7),
        ({"type": "passes", "value": False}, PassesAssertion, "fail", "rubric passes (0.70, needs 0.65)", 0.7),
        ({"type": "criterion", "value": "has_cta"}, CriterionAssertion, "pass", "0.50 >= 0.5: one", 0.5),
        ({"type": "criterion", "value": "has_cta", "threshold": 0.6}, CriterionAssertion, "fail", "0.50 < 0.6", 0.5),
        ({"type": "criterion", "value": "voice"}, CriterionAssertion, "skip", "judge off", None),
        ({"type": "criterion", "value": "words", "negate": True}, CriterionAssertion, "fail", "not scored", None),
        ({"type": "criterion", "value": "nope"}, CriterionAssertion, "fail", "(it has: has_cta, voice, words)", None),
        ({"type": "stage-fit", "value": "aware"}, StageFitAssertion, "pass", "reads as aware 60% (needs 40%;", 0.6),
        ({"type": "stage-fit", "value": "engage"}, StageFitAssertion, "fail", "best: aware 60%", 0.3),
        ({"type": "stage-fit", "value": "promote", "negate": True}, StageFitAssertion, "pass", "negated: fine", 0.0),
        ({"type": "contains", "value": "portland"}, ContainsAssertion, "pass", "contains 'portland'", None),
        ({"type": "not-contains", "value": "portland"}, NotContainsAssertion, "fail", "contains 'portland'", None),
        ({"type": "not-contains", "value": "Seattle"}, NotContainsAssertion, "pass", "does not contain", None),
        ({"type": "max-length", "value": 31}, MaxLengthAssertion, "pass", "31 characters (limit 31)", 31.0),
        ({"type": "max-length", "value": 30}, MaxLengthAssertion, "fail", "31 characters (limit 30)", 31.0),
        ({"type": "llm-rubric", "value": "Says where."}, LlmRubricAssertion, "skip", "judge off", None),
    ],
)
def test_each_assertion_class_checks_itself(
    evaluator: Evaluator, raw: dict[str, Any], cls: type, status: str, reason: str, measured: float | None
) -> None:
    assertion = ASSERTION.validate_python(raw)
    assert type(assertion) is cls
    result = assertion.check(SUBJECT, SCORED, evaluator)
    assert (result.type, result.weight, result.negate) == (raw["type"], 1.0, raw.get("negate", False))
    assert ("skip" if result.skipped else "pass" if result.passed else "fail") == status, result.reason
    assert result.score == {"pass": 1.0, "fail": 0.0, "skip": None}[status]
    assert reason in result.reason and result.measured == measured


def test_llm_rubric_asks_the_judge_and_a_judge_error_fails_it(tmp_path: Path) -> None:
    rubric = ASSERTION.validate_python({"type": "llm-rubric", "value": "  Says where.  ", "threshold": 0.7})
    judge = StubJudge(0.75)
    judged = rubric.check(SUBJECT, SCORED, Evaluator(settings=Settings(data_dir=tmp_path), judge=as_judge(judge)))
    assert (
        judged.passed and judged.reason == "0.75 >= 0.7: stub judge on 'Says where.'" and judge.asked == ["Says where."]
    )
    failing = Evaluator(settings=Settings(data_dir=tmp_path), judge=as_judge(FailingJudge()))
    failed = rubric.check(SUBJECT, SCORED, failing)
    assert not failed.passed and not failed.skipped and failed.reason == "judge failed: the judge timed out"


def test_assertion_values_and_thresholds_are_typed_per_class() -> None:
    def parse(**raw: Any) -> Any:
        return ASSERTION.validate_python(raw)

    assert get_args(AssertionType) == ASSERTION_TAGS  # the error for an unknown type lists exactly these
    assert parse(type="criterion", value="x").threshold == 0.5
    assert parse(type="stage-fit", value=" Engage ").model_dump() == {
        "type": "stage-fit", "value": "engage", "weight": 1.0, "negate": False, "threshold": 0.4,
    }  # fmt: skip
    assert parse(type="llm-rubric", value="x", threshold=None).threshold == 0.5  # null: the default
    assert parse(type="passes").value is True and parse(type="passes", value=None).value is True
    assert parse(type="passes", threshold=None).value is True
    length = parse(type="max-length", value=10.0)
    assert length.value == 10 and isinstance(length.value, int)
    assert isinstance(parse(type="score-min", value=1).value, int)  # a YAML 1 stays 1 in the results


@pytest.mark.parametrize(
    ("assertion", "message"),
    [
        (
            {"type": "equals", "value": 1},
            "assert[0].type: Input should be 'score-min', 'passes', 'criterion', 'stage-fit', 'contains', "
            "'not-contains', 'max-length' or 'llm-rubric'",
        ),
        ({"type": ["contains"]}, "assert[0].type: Input should be 'score-min', 'passes'"),
        ({"value": "x"}, "assert[0].type: Field required"),
        ("contains", "assert[0]: an assertion is a mapping such as {type: contains, value: ...}, got 'contains'"),
        ({"type": "criterion", "value": 3}, "assert[0].value: 'criterion' needs a criterion id as its value, got 3"),
        ({"type": "passes", "colour": 1}, "assert[0].colour: Extra inputs are not permitted"),
        ({"type": "stage-fit", "value": "x", "threshold": 2}, "assert[0].threshold: Input should be less than or"),
        ({"type": "stage-fit", "value": "nowhere"}, "assert[0].value: Unknown stage 'nowhere'. Choose one of"),
        ({"type": "passes", "value": "yes"}, "assert[0].value: 'passes' needs value true or false, got 'yes'"),
        ({"type": "score-min", "value": True}, "assert[0].value: 'score-min' needs a value between 0 and 1"),
        ({"type": "max-length", "value": float("inf")}, "assert[0].value: 'max-length' needs a whole number"),
        ({"type": "max-length", "value": float("nan")}, "assert[0].value: 'max-length' needs a whole number"),
        (
            {"type": "passes", "threshold": 0.5},
            "assert[0]: 'passes' takes no threshold (only criterion, llm-rubric, stage-fit do); put the limit in value",
        ),
    ],
)
def test_assertion_errors_point_at_the_field_and_say_what_fits(assertion: Any, message: str) -> None:
    with pytest.raises(DocumentError) as info:
        parse_suite(
            {"cases": [{"description": "bad one", "vars": {"stage": "aware", "text": "x"}, "assert": [assertion]}]}
        )
    assert f'cases[0] "bad one".{message}' in info.value.message
    assert not any(f".{tag}." in info.value.message for tag in ASSERTION_TAGS)  # the union's tag is not a field


# --------------------------------------------------------------------------- the JSON schema for editors


def test_committed_suite_schema_is_current() -> None:
    assert json.loads(SCHEMA.read_text(encoding="utf-8")) == suite_json_schema(), (
        f"{SCHEMA} is stale: regenerate it with "
        "`.venv/bin/python -m generator.evaluation.suite_file > eval/suites/suite.schema.json`"
    )


def test_default_suite_points_editors_at_the_schema() -> None:
    first_line = DEFAULT_SUITE.read_text(encoding="utf-8").splitlines()[0]
    assert first_line == f"# yaml-language-server: $schema={SCHEMA_FILE}"


def test_schema_accepts_the_shipped_suites_and_rejects_bad_assertions() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    suites = sorted(SCHEMA.parent.glob("*.y*ml"))
    assert DEFAULT_SUITE in suites and SCHEMA not in suites
    bad: list[dict[str, Any]] = [
        {"type": "equals", "value": 1},
        {"type": "contains", "value": "x", "threshold": 0.5},
        {"type": "max-length", "value": "long"},
        {"type": "score-min", "value": 2},
        {"type": "criterion"},
        {"type": "passes", "colour": 1},
    ]
    for draft in (jsonschema.Draft7Validator, jsonschema.Draft202012Validator):  # editors mostly speak draft-07
        validator = draft(suite_json_schema())
        for path in suites:
            load_suite(path)
            errors = [e.message for e in validator.iter_errors(yaml.safe_load(path.read_text(encoding="utf-8")))]
            assert errors == [], (draft.__name__, path.name)
        for assertion in bad:
            assert not validator.is_valid({"cases": [fixed_case(assertion)]}), (draft.__name__, assertion)


# --------------------------------------------------------------------------- drafting, errors and skips


def test_drafted_cases_are_scored_and_a_drafting_error_fails_only_its_case(tmp_path: Path) -> None:
    good = drafter(tmp_path)

    def draft_fn(case: Case) -> Draft:
        if case.vars.stage == "convert":
            raise GenerationError(
                "The model did not produce a valid entry-point offer.", last_completion="junk", problems=[], attempts=1
            )
        return good(case)

    suite = make_suite(
        {
            "description": "drafted post",
            "vars": {"profile": COFFEE, "stage": "aware"},
            "assert": [{"type": "contains", "value": "roast date"}, {"type": "criterion", "value": "channel_length"}],
        },
        {
            "description": "drafting fails",
            "vars": {"profile": COFFEE, "stage": "convert"},
            "assert": [{"type": "passes"}],
        },
        {
            "description": "missing profile",
            "vars": {"profile": "examples/nope.yaml", "stage": "aware"},
            "assert": [{"type": "passes"}],
        },
        fixed_case({"type": "criterion", "value": "no_purchase_ask"}, description="fixed text after the errors"),
    )
    progress: list[tuple[int, int]] = []
    report = run_suite(
        suite, evaluator=Evaluator(settings=Settings(data_dir=tmp_path)), draft_fn=draft_fn, base_dir=PROJECT_ROOT,
        on_case=lambda done, total: progress.append((done, total)),
    )  # fmt: skip
    drafted, failed, missing, fixed = report.cases
    assert drafted.passed and drafted.drafted and drafted.asset_type == "social_post"
    assert drafted.business == "Harbor Lane Coffee" and GOOD_POST["hook"] in drafted.text
    assert failed.error == "The model did not produce a valid entry-point offer." and not failed.passed
    assert failed.text == "junk" and failed.asset_score is None  # what the model wrote is kept
    assert missing.error is not None and "Profile file not found" in missing.error and not missing.passed
    assert fixed.passed and fixed.asset_score is not None
    assert progress == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert (report.summary.passed, report.summary.failed, report.summary.skipped) == (2, 2, 0)


def test_suite_drafter_drafts_with_the_chain(tmp_path: Path) -> None:
    case = make_suite(
        {"description": "d", "vars": {"profile": COFFEE, "stage": "aware"}, "assert": [{"type": "passes"}]}
    ).cases[0]
    result = drafter(tmp_path)(case)
    assert result.stage == "aware" and result.asset["hook"] == GOOD_POST["hook"]
    assert case.draft_request().asset_type == "social_post"


def test_without_draft_fn_drafted_cases_are_skipped_and_counted(evaluator: Evaluator) -> None:
    suite = make_suite(
        {"description": "drafted", "vars": {"profile": COFFEE, "stage": "subscribe"}, "assert": [{"type": "passes"}]},
        fixed_case({"type": "criterion", "value": "no_purchase_ask"}, description="clean"),
        fixed_case({"type": "criterion", "value": "no_purchase_ask"}, text=PUSHY, description="pushy"),
        fixed_case({"type": "criterion", "value": "has_cta"}, stage="engage", description="engage"),
    )
    report = run_suite(suite, evaluator=evaluator, draft_fn=None, base_dir=PROJECT_ROOT)
    skipped = report.cases[0]
    assert skipped.skipped and skipped.skip_reason == "drafted case, but no model to draft with"
    assert skipped.asset_score is None and skipped.assertions == []
    s = report.summary
    assert (s.total, s.passed, s.failed, s.skipped) == (4, 2, 1, 1)
    assert s.pass_rate == round(2 / 3, 4)
    assert list(s.mean_score_by_stage) == ["aware", "engage"]  # journey order, scored stages only
    aware = [c.asset_score.score for c in report.cases[1:3] if c.asset_score]
    assert s.mean_score_by_stage["aware"] == round(sum(aware) / 2, 4)
    assert report.seconds >= 0 and report.description == "test suite"


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ({"vars": {"stage": "aware", "text": "x"}, "assert": [{"type": "equals", "value": 1}]}, "assert[0].type"),
        ({"vars": {"stage": "aware", "text": "x"}, "assert": [{"type": "passes", "colour": 1}]}, "colour"),
        ({"vars": {"stage": "aware"}, "assert": [{"type": "passes"}]}, "give either `text`"),
        ({"vars": {"stage": "nowhere", "text": "x"}, "assert": [{"type": "passes"}]}, "Unknown stage 'nowhere'"),
        (
            {"vars": {"stage": "aware", "text": "x", "asset_type": "social_post"}, "assert": [{"type": "passes"}]},
            "asset_type",
        ),
        (
            {
                "vars": {"stage": "aware", "profile": COFFEE, "asset_type": "lead_magnet"},
                "assert": [{"type": "passes"}],
            },
            "lead_magnet",
        ),
        ({"vars": {"stage": "aware", "text": "x"}, "assert": [{"type": "score-min", "value": 2}]}, "between 0 and 1"),
        (
            {"vars": {"stage": "aware", "text": "x"}, "assert": [{"type": "contains", "value": "a", "threshold": 0.5}]},
            "takes no threshold",
        ),
        (
            {"vars": {"stage": "aware", "text": "x"}, "assert": [{"type": "max-length", "value": "long"}]},
            "whole number",
        ),
        ({"vars": {"stage": "aware", "text": "x"}, "assert": [{"type": "criterion"}]}, "needs a criterion id"),
        ({"vars": {"stage": "aware", "text": "x"}, "assert": []}, "at least 1"),
    ],
)
def test_invalid_suites_name_the_file_and_the_field(tmp_path: Path, case: dict[str, Any], message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"cases": [{"description": "the bad one", **case}]}), encoding="utf-8")
    with pytest.raises(DocumentError) as info:
        load_suite(path)
    assert str(path) in info.value.message and "is not a valid eval suite" in info.value.message
    assert 'cases[0] "the bad one"' in info.value.message
    assert message in info.value.message


def test_unreadable_suites_are_document_errors(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="Suite file not found"):
        load_suite(tmp_path / "missing.yaml")
    (tmp_path / "broken.yaml").write_text("cases: [", encoding="utf-8")
    with pytest.raises(DocumentError, match="not valid YAML"):
        load_suite(tmp_path / "broken.yaml")
    (tmp_path / "list.yaml").write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(DocumentError, match="must be a mapping"):
        load_suite(tmp_path / "list.yaml")
    twice = {"cases": [fixed_case({"type": "passes"}, description="same")] * 2}
    with pytest.raises(DocumentError, match="share the description 'same'"):
        parse_suite(twice)


# --------------------------------------------------------------------------- reports


@pytest.fixture
def report(tmp_path: Path) -> SuiteReport:
    evaluator = Evaluator(settings=Settings(data_dir=tmp_path), classifier=as_classifier(AWARE_FIT))
    suite = make_suite(
        fixed_case({"type": "criterion", "value": "no_purchase_ask"}, description="A clean <b>tip</b> & more"),
        fixed_case({"type": "not-contains", "value": "buy now"}, text=PUSHY, description="A pushy post"),
        fixed_case(
            {"type": "max-length", "value": 20},
            text="<script>alert('x')</script> Harbor Lane",
            description="Hostile text",
        ),
        {
            "description": "Drafted, no model",
            "vars": {"profile": COFFEE, "stage": "promote"},
            "assert": [{"type": "passes"}],
        },
    )
    return run_suite(suite, evaluator=evaluator, draft_fn=None, base_dir=PROJECT_ROOT)


def test_html_report_is_self_contained_and_escaped(report: SuiteReport) -> None:
    page = render_html(report)
    assert page.startswith("<!doctype html>") and page.rstrip().endswith("</html>")
    assert page.count('<svg class="chart"') == 1 and page.count('class="chart-bar" data-stage=') == 1  # only aware ran
    for stage in STAGE_IDS:
        assert f">{stage.capitalize()}</text>" in page
    assert "A clean &lt;b&gt;tip&lt;/b&gt; &amp; more" in page and "<b>tip</b>" not in page
    for case in report.cases[1:]:
        assert case.description in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "<script" not in page.lower()
    assert not re.search(r"https?://|\bsrc=|<link|@import|url\(", page, re.I)
    assert page.count('<article class="case') == 4
    assert ">PASS<" in page and ">FAIL<" in page and ">SKIP<" in page
    assert "Does not ask for a sale" in page  # the rubric criteria table
    assert "asks for a purchase (&#x27;20% off&#x27;) too early" in page  # an escaped reason
    s = report.summary
    assert (s.passed, s.failed, s.skipped, s.pass_rate) == (1, 2, 1, 0.3333)
    assert '<span class="num">33%</span><span class="lbl">pass rate</span>' in page


def test_chart_scales_bars_to_the_scores() -> None:
    svg = stage_chart_svg({"aware": 1.0, "convert": 0.5})
    bars = r'class="chart-bar" data-stage="\w+" x="[\d.]+" y="[\d.]+" width="[\d.]+" height="([\d.]+)"'
    heights = [float(h) for h in re.findall(bars, svg)]
    assert len(heights) == 2 and heights[0] == pytest.approx(2 * heights[1], rel=0.01)
    assert svg.count("n/a") == 6 and "1.00" in svg and "0.50" in svg


def test_terminal_report_lists_cases_and_failing_assertions(report: SuiteReport) -> None:
    console = Console(record=True, width=200, color_system=None)
    render_terminal(report, console)
    out = console.export_text()
    assert "A clean <b>tip</b> & more" in out and "Hostile text" in out
    assert "FAIL" in out and "PASS" in out and "SKIP" in out
    assert "not-contains buy now: contains 'buy now'" in out
    assert "drafted case, but no model to draft with" in out
    assert "1 passed, 2 failed, 1 skipped of 4" in out
