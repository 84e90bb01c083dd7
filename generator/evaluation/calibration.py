"""The eval measuring itself on labelled sets in eval/labelled/ (never trained on).

- stage fit accuracy: stage-labelled snippets -> does the classifier name the right stage?
- pairwise accuracy: good-vs-bad pairs -> does the good one score higher?
- per-criterion agreement: for each criterion, how often it ranks the pair the right way.

Several files may be given (sets written by different people); figures are pooled, and each file's
own accuracy is reported too so one author's style cannot hide another's.
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


class SetFigures(BaseModel):
    """One labelled file's own figure."""

    file: str
    items: int
    accuracy: float


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
    quality_model: bool = False
    sets: list[SetFigures] = Field(default_factory=list, description="Stage fit and pairwise accuracy per file")


T = TypeVar("T", bound=BaseModel)


def _load(path: Path, model: type[T]) -> list[T]:
    try:
        return TypeAdapter(list[model]).validate_python(read_jsonl(path))  # type: ignore[valid-type]
    except (OSError, ValidationError) as exc:
        raise DocumentError(f"{path} is not a valid labelled set: {exc}") from None


def mean(values: list[bool]) -> float:
    return round(sum(values) / len(values), 4) if values else 0.0


def calibrate(
    *, evaluator: Evaluator, classifier: StageClassifier, snippets_files: list[Path], pairs_files: list[Path]
) -> CalibrationReport:
    right: dict[str, list[bool]] = defaultdict(list)
    confusions: dict[str, int] = defaultdict(int)
    ordered: dict[str, list[bool]] = defaultdict(list)
    per_criterion: dict[str, list[tuple[float, float]]] = defaultdict(list)
    sets: list[SetFigures] = []
    snippet_count = pair_count = 0
    for path in snippets_files:
        snippets = _load(path, LabelledSnippet)
        fits = classifier.classify([s.text for s in snippets])
        hits = [fit.stage == snippet.stage for snippet, fit in zip(snippets, fits, strict=True)]
        for snippet, fit, hit in zip(snippets, fits, hits, strict=True):
            right[snippet.stage].append(hit)
            if not hit:
                confusions[f"{snippet.stage}->{fit.stage}"] += 1
        sets.append(SetFigures(file=path.name, items=len(snippets), accuracy=mean(hits)))
        snippet_count += len(snippets)
    for path in pairs_files:
        pairs = _load(path, LabelledPair)
        subjects = [Subject(stage=p.stage, text=t, business=p.business) for p in pairs for t in (p.good, p.bad)]
        scores = evaluator.score_many(subjects)
        wins = [good.score > bad.score for good, bad in zip(scores[0::2], scores[1::2], strict=True)]
        for pair, good, bad, win in zip(pairs, scores[0::2], scores[1::2], wins, strict=True):
            ordered[pair.stage].append(win)
            for g, b in zip(good.criteria, bad.criteria, strict=True):
                if g.score is not None and b.score is not None:
                    per_criterion[f"{pair.stage}.{g.id}"].append((g.score, b.score))
        sets.append(SetFigures(file=path.name, items=len(pairs), accuracy=mean(wins)))
        pair_count += len(pairs)

    return CalibrationReport(
        snippets=snippet_count,
        stage_fit_accuracy=mean([v for vs in right.values() for v in vs]),
        stage_fit_per_stage={s: mean(v) for s, v in right.items()},
        confusions=dict(sorted(confusions.items(), key=lambda kv: -kv[1])),
        pairs=pair_count,
        pairwise_accuracy=mean([v for vs in ordered.values() for v in vs]),
        pairwise_per_stage={s: mean(v) for s, v in ordered.items()},
        criteria={
            key: CriterionAgreement(
                pairs=len(v), agreement=mean([g >= b for g, b in v]), strict=mean([g > b for g, b in v])
            )
            for key, v in sorted(per_criterion.items())
        },
        judge=evaluator.judge is not None,
        quality_model=evaluator.quality is not None,
        sets=sets,
    )
