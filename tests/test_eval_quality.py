"""Copy signals, the craft rules, the offline quality model and multi-set calibration (no real models)."""

import json
from pathlib import Path
from typing import cast

import numpy as np
import pytest
from langchain_core.embeddings import Embeddings

from generator.errors import DocumentError
from generator.evaluation.calibration import calibrate
from generator.evaluation.quality_model import QualityModel, QualityScorer, TrainingPair
from generator.evaluation.rule_scorers import RULES, Subject
from generator.evaluation.scoring import Evaluator
from generator.evaluation.signals import FEATURE_NAMES, load_lexicon, measure
from generator.evaluation.stage_fit import StageClassifier, StageFit
from generator.settings import PROJECT_ROOT, Settings
from generator.stages import STAGE_IDS
from tests.test_eval import FixedClassifier

EVAL_DIR = PROJECT_ROOT / "eval"


def test_signals_find_calls_to_action_hype_pressure_and_effort() -> None:
    m = measure(
        "Welcome!!! We are SO thrilled. Don't miss out: our 240-page complete guide. Pop your email in.", EVAL_DIR
    )
    assert m.cta and m.hype and m.pressure and m.long and m.exclamations == 3 and m.shouting == 0
    assert len(m.features()) == len(FEATURE_NAMES)
    calm = measure("A one-page checklist you can use tonight. Reply 'list' to get yours.", EVAL_DIR)
    assert calm.quick and not calm.hype and not calm.pressure and calm.reader_share > 0.5


def test_a_broken_signals_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "signals.yaml").write_text("cta: ['(unclosed']\n")
    with pytest.raises(DocumentError, match="not a valid signals file"):
        load_lexicon(tmp_path)


@pytest.mark.parametrize(
    ("rule", "good", "bad"),
    [
        ("plain_language", "Three ways to keep bread fresh for a week.", "The most AMAZING bread ever!!! World-class!"),
        ("no_pressure", "Book a table this week.", "Hurry, last chance - don't miss out!"),
        ("reader_first", "Your bread stays fresh for a week.", "We are proud of our bakery and our team."),
        ("quick_to_consume", "A one-page checklist.", "Our 300-page comprehensive guide."),
        ("risk_reducer", "Not happy? Full refund, no questions asked.", "Pay in full upfront."),
        ("rewards_both_sides", "You get $10 and your friend gets $10.", "Refer people and earn points."),
        ("concrete", "Save 2 hours a week with a 5-minute setup.", "Save time with an easy setup."),
        ("has_cta", "Pop your email in below.", "It was lovely to see you."),
        ("has_cta", "A 30-second review would help: twoblokes.au/r", "A review somewhere would be nice."),
        ("direct_link", "Two taps: snipandsip.au/review", "Search for us on Google and find the reviews tab."),
        (
            "after_the_experience",
            "Had a few burns yet? Rate the candle.",
            "Your candle has just been dispatched. Rate it!",
        ),
    ],
)
def test_craft_rules_tell_good_from_bad(rule: str, good: str, bad: str) -> None:
    score = RULES[rule]
    good_result = score(Subject(stage="aware", text=good), {})
    bad_result = score(Subject(stage="aware", text=bad), {})
    assert good_result is not None and bad_result is not None and good_result.score > bad_result.score


def _synthetic(n: int, rng: np.random.Generator) -> tuple[list[TrainingPair], list[str], list[str], np.ndarray]:
    """Good texts are calm and sit along a hidden embedding direction; bad ones shout."""
    direction = rng.normal(size=16)
    pairs, good, bad = [], [], []
    for i in range(n):
        stage = STAGE_IDS[i % len(STAGE_IDS)]
        good.append(f"Get the one-page checklist number {i} and use it tonight.")
        bad.append(f"AMAZING deal {i}!!! Hurry, don't miss out on the best ever offer!")
        pairs.append(TrainingPair(stage=stage, good=good[-1], bad=bad[-1]))
    vectors = rng.normal(size=(2 * n, 16))
    vectors[:n] += direction
    return pairs, good, bad, vectors


def test_quality_model_learns_to_rank_good_above_bad() -> None:
    rng = np.random.default_rng(0)
    pairs, good, bad, vectors = _synthetic(64, rng)
    sig = [measure(t, EVAL_DIR) for t in good + bad]
    n = len(pairs)
    model = QualityModel.train(pairs, good=(sig[:n], [0.6] * n, vectors[:n]), bad=(sig[n:], [0.4] * n, vectors[n:]))
    _, g2, b2, v2 = _synthetic(16, rng)
    stages = [STAGE_IDS[i % 8] for i in range(16)]
    good_scores = model.judge([measure(t, EVAL_DIR) for t in g2], [0.6] * 16, v2[:16], stages)
    bad_scores = model.judge([measure(t, EVAL_DIR) for t in b2], [0.4] * 16, v2[16:], stages)
    assert all(g.score > b.score for g, b in zip(good_scores, bad_scores, strict=True))
    assert all(0 <= j.score <= 1 and "training pairs" in j.reason for j in good_scores + bad_scores)


class _Embeddings:
    """Deterministic fake vectors: shouting texts point one way, calm ones the other."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [[-1.0 if "!" in t else 1.0] * 16 for t in texts]


def test_evaluator_scores_with_the_quality_model(settings: Settings) -> None:
    rng = np.random.default_rng(1)
    pairs, good, bad, _ = _synthetic(32, rng)
    vectors = np.array(_Embeddings().embed_documents(good + bad))
    sig = [measure(t, EVAL_DIR) for t in good + bad]
    model = QualityModel.train(
        pairs, good=(sig[:32], [0.5] * 32, vectors[:32]), bad=(sig[32:], [0.5] * 32, vectors[32:])
    )

    class Classifier(FixedClassifier):
        def classify(self, texts: list[str], *, vectors: np.ndarray | None = None) -> list[StageFit]:
            return super().classify(texts)

    evaluator = Evaluator(
        settings=settings,
        classifier=cast("StageClassifier", Classifier("subscribe")),  # a fake stands in for the real classifier
        quality=QualityScorer(model, cast("Embeddings", _Embeddings())),  # fake vectors stand in for a real model
    )
    calm, loud = evaluator.score_many(
        [Subject(stage="subscribe", text=good[0]), Subject(stage="subscribe", text=bad[0])]
    )
    quality = {r.stage: next(c for c in r.criteria if c.id == "quality") for r in (calm,)}
    assert quality["subscribe"].score is not None and quality["subscribe"].score > 0.5
    assert calm.score > loud.score


def test_calibration_pools_several_labelled_files_and_reports_each(tmp_path: Path, settings: Settings) -> None:
    ours, theirs = tmp_path / "a_snippets.jsonl", tmp_path / "b_snippets.jsonl"
    ours.write_text(json.dumps({"text": "Leave us a review", "stage": "advocate"}) + "\n")
    theirs.write_text("\n".join(json.dumps({"text": t, "stage": s}) for t, s in [("x", "advocate"), ("y", "aware")]))
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text(
        json.dumps(
            {"stage": "advocate", "good": "Would you leave a short review? Here is the link.", "bad": "Review us!!!"}
        )
    )
    classifier = cast("StageClassifier", FixedClassifier("advocate"))  # a fake stands in for the real classifier
    evaluator = Evaluator(settings=settings, classifier=classifier)
    report = calibrate(evaluator=evaluator, classifier=classifier, snippets_files=[ours, theirs], pairs_files=[pairs])
    assert report.snippets == 3 and report.stage_fit_accuracy == pytest.approx(2 / 3, abs=1e-3)
    assert [(s.file, s.items, s.accuracy) for s in report.sets] == [
        ("a_snippets.jsonl", 1, 1.0),
        ("b_snippets.jsonl", 2, 0.5),
        ("pairs.jsonl", 1, 1.0),
    ]
    assert report.confusions == {"aware->advocate": 1}


def test_weakest_lists_criteria_under_the_bar_worst_first_heavier_first() -> None:
    from generator.evaluation.scoring import AssetScore, CriterionScore

    def c(cid: str, score: float | None, weight: float) -> CriterionScore:
        return CriterionScore(id=cid, name=cid, scorer="rule", weight=weight, required=False, score=score, reason="r")

    scored = AssetScore(
        stage="aware",
        score=0.5,
        passed=False,
        threshold=0.6,
        criteria=[c("ok", 0.9, 1), c("light", 0.2, 1), c("heavy", 0.2, 3), c("na", None, 5), c("mid", 0.5, 1)],
    )
    assert [x.id for x in scored.weakest(2)] == ["heavy", "light"]
    assert scored.critique().startswith("heavy: r; light: r; mid: r")
