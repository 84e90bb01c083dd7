"""The eval measuring itself on labelled sets in eval/labelled/ (never trained on).

- stage fit accuracy: stage-labelled snippets -> does the classifier name the right stage?
- pairwise accuracy: good-vs-bad pairs -> does the good one score higher?
- per-criterion agreement: for each criterion, how often it ranks the pair the right way.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from generator.errors import DocumentError
from generator.evaluation.rule_scorers import Subject
from generator.evaluation.scoring import Evaluator
from generator.evaluation.stage_fit import StageClassifier, read_jsonl
from generator.stages import StageId


class LabelledSnippet(BaseModel):
    model_config = ConfigDict(extra="ignore")
    text: str = Field(min_length=1)
    stage: StageId


class LabelledPair(BaseModel):
    model_config = ConfigDict(extra="ignore")
    stage: StageId
    business: str | None = None
    good: str = Field(min_length=1)
    bad: str = Field(min_length=1)


class CriterionAgreement(BaseModel):
    pairs: int
    agreement: float = Field(description="Share of pairs where the good text scored at least as high")
    strict: float = Field(description="Share of pairs where the good text scored strictly higher")


class CalibrationReport(BaseModel):
    snippets: int
    stage_fit_accuracy: float
    stage_fit_per_stage: dict[str, float]
    confusions: dict[str, int] = Field(description="'expected->got': count")
    pairs: int
    pairwise_accuracy: float
    pairwise_per_stage: dict[str, float]
    criteria: dict[str, CriterionAgreement]
    judge: bool


T = TypeVar("T", bound=BaseModel)


def _load(path: Path, model: type[T]) -> list[T]:
    try:
        return TypeAdapter(list[model]).validate_python(read_jsonl(path))  # type: ignore[valid-type]
    except (OSError, ValidationError) as exc:
        raise DocumentError(f"{path} is not a valid labelled set: {exc}") from None


def calibrate(
    *, evaluator: Evaluator, classifier: StageClassifier, snippets_file: Path, pairs_file: Path
) -> CalibrationReport:
    snippets = _load(snippets_file, LabelledSnippet)
    fits = classifier.classify([s.text for s in snippets])
    right: dict[str, list[bool]] = defaultdict(list)
    confusions: dict[str, int] = defaultdict(int)
    for snippet, fit in zip(snippets, fits, strict=True):
        right[snippet.stage].append(fit.stage == snippet.stage)
        if fit.stage != snippet.stage:
            confusions[f"{snippet.stage}->{fit.stage}"] += 1

    pairs = _load(pairs_file, LabelledPair)
    subjects = [Subject(stage=p.stage, text=t, business=p.business) for p in pairs for t in (p.good, p.bad)]
    scores = evaluator.score_many(subjects)
    ordered: dict[str, list[bool]] = defaultdict(list)
    per_criterion: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for pair, good, bad in zip(pairs, scores[0::2], scores[1::2], strict=True):
        ordered[pair.stage].append(good.score > bad.score)
        for g, b in zip(good.criteria, bad.criteria, strict=True):
            if g.score is not None and b.score is not None:
                per_criterion[f"{pair.stage}.{g.id}"].append((g.score, b.score))

    def mean(values: list[bool]) -> float:
        return round(sum(values) / len(values), 4) if values else 0.0

    return CalibrationReport(
        snippets=len(snippets),
        stage_fit_accuracy=mean([v for vs in right.values() for v in vs]),
        stage_fit_per_stage={s: mean(v) for s, v in right.items()},
        confusions=dict(sorted(confusions.items(), key=lambda kv: -kv[1])),
        pairs=len(pairs),
        pairwise_accuracy=mean([v for vs in ordered.values() for v in vs]),
        pairwise_per_stage={s: mean(v) for s, v in ordered.items()},
        criteria={
            key: CriterionAgreement(
                pairs=len(v), agreement=mean([g >= b for g, b in v]), strict=mean([g > b for g, b in v])
            )
            for key, v in sorted(per_criterion.items())
        },
        judge=evaluator.judge is not None,
    )
