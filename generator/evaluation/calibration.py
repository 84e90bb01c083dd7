"""The eval measuring itself on labelled sets in eval/labelled/ (never trained on).

- stage fit accuracy: stage-labelled snippets -> does the classifier name the right stage? Also with
  abstention (accuracy where it does not say "unclear", and how often it does) and its calibration
  (expected calibration error: does 70% confidence mean right 70% of the time?).
- pairwise accuracy: good-vs-bad pairs -> does the good one score higher?
- per-criterion agreement: for each criterion, how often it ranks the pair the right way.
- drafts: whole drafts for the example businesses labelled publishable or nonsense (model output among them)
  -> does the eval pass the publishable ones and fail the nonsense? (precision and recall of "fails").

Several files may be given (sets written by different people); figures are pooled, and each file's
own accuracy is reported too so one author's style cannot hide another's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from generator.assets import ASSET_TYPES
from generator.errors import DocumentError, ProfileError
from generator.evaluation.results import StageFit
from generator.evaluation.rule_scorers import Subject
from generator.evaluation.scoring import Evaluator
from generator.evaluation.stage_fit import StageClassifier, read_jsonl
from generator.profile import BusinessProfile, load_profile
from generator.stages import StageId

ECE_BINS = 10


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


class LabelledDraft(BaseModel):
    """A whole draft for an example business (``profile``: the file's stem in examples/), labelled by reading it."""

    model_config = ConfigDict(extra="ignore")
    profile: str
    stage: StageId
    asset_type: str
    asset: dict[str, Any]
    verdict: Literal["publishable", "nonsense"]


class CriterionAgreement(BaseModel):
    pairs: int
    agreement: float = Field(description="Share of pairs where the good text scored at least as high")
    strict: float = Field(description="Share of pairs where the good text scored strictly higher")


class SetFigures(BaseModel):
    """One labelled file's own figures."""

    file: str
    items: int
    accuracy: float = Field(description="Stage fit (snippets), pairwise (pairs) or pass/fail agreement (drafts)")
    decided_accuracy: float | None = Field(default=None, description="Snippets: accuracy where not 'unclear'")
    abstained: float | None = Field(default=None, description="Snippets: share called 'unclear'")
    ece: float | None = Field(default=None, description="Snippets: expected calibration error of the confidence")
    publishable_passed: float | None = Field(default=None, description="Drafts: share of publishable ones passed")
    nonsense_passed: float | None = Field(default=None, description="Drafts: share of nonsense ones passed")


class DraftFigures(BaseModel):
    """Pass/fail agreement on labelled drafts: 'fails' is the positive call."""

    drafts: int
    publishable_passed: float
    nonsense_passed: float
    fail_precision: float = Field(description="Of the drafts the eval failed, the share that were nonsense")
    fail_recall: float = Field(description="Of the nonsense drafts, the share the eval failed")


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
    stage_fit_decided_accuracy: float = 0.0
    stage_fit_abstained: float = 0.0
    stage_fit_ece: float = 0.0
    drafts: DraftFigures | None = None


T = TypeVar("T", bound=BaseModel)


def _load(path: Path, model: type[T]) -> list[T]:
    try:
        # list[model] is a type built at run time, which mypy cannot check statically.
        return TypeAdapter(list[model]).validate_python(read_jsonl(path))  # type: ignore[valid-type]
    except (OSError, ValidationError) as exc:
        raise DocumentError(f"{path} is not a valid labelled set: {exc}") from None


def mean(values: list[bool]) -> float:
    return round(sum(values) / len(values), 4) if values else 0.0


def expected_calibration_error(confidences: list[float], hits: list[bool], bins: int = ECE_BINS) -> float:
    """Mean |accuracy - confidence| over equal-width confidence bins, weighted by how many fall in each."""
    total, error = len(hits), 0.0
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        members = [i for i, c in enumerate(confidences) if low <= c < high or (b == bins - 1 and c == 1.0)]
        if members:
            accuracy = sum(hits[i] for i in members) / len(members)
            confidence = sum(confidences[i] for i in members) / len(members)
            error += len(members) / total * abs(accuracy - confidence)
    return round(error, 4)


def _snippet_figures(path: Path, snippets: list[LabelledSnippet], fits: list[StageFit]) -> SetFigures:
    hits = [fit.stage == s.stage for s, fit in zip(snippets, fits, strict=True)]
    decided = [hit for hit, fit in zip(hits, fits, strict=True) if not fit.unclear]
    return SetFigures(
        file=path.name,
        items=len(snippets),
        accuracy=mean(hits),
        decided_accuracy=mean(decided),
        abstained=round(1 - len(decided) / len(hits), 4) if hits else 0.0,
        ece=expected_calibration_error([f.confidence for f in fits], hits),
    )


def draft_subjects(path: Path, examples_dir: Path) -> tuple[list[LabelledDraft], list[Subject]]:
    """Labelled drafts and their subjects, each with its typed asset and its business's profile."""
    drafts = _load(path, LabelledDraft)
    profiles: dict[str, BusinessProfile] = {}
    subjects = []
    for number, d in enumerate(drafts, 1):
        try:
            profile = profiles.get(d.profile) or load_profile(examples_dir / f"{d.profile}.yaml")
            asset = ASSET_TYPES[d.asset_type].model_validate(d.asset)
        except (KeyError, ValidationError, ProfileError) as exc:
            raise DocumentError(f"{path}:{number} is not a valid labelled draft: {exc}") from None
        profiles[d.profile] = profile
        subjects.append(
            Subject(stage=d.stage, text=asset.as_text(), business=profile.name, profile=profile, asset=asset)
        )
    return drafts, subjects


def _draft_figures(labels: Sequence[str], passed: Sequence[bool]) -> DraftFigures:
    nonsense = [lab == "nonsense" for lab in labels]
    failed = [not p for p in passed]
    caught = sum(n and f for n, f in zip(nonsense, failed, strict=True))
    return DraftFigures(
        drafts=len(labels),
        publishable_passed=mean([p for p, n in zip(passed, nonsense, strict=True) if not n]),
        nonsense_passed=mean([p for p, n in zip(passed, nonsense, strict=True) if n]),
        fail_precision=round(caught / sum(failed), 4) if any(failed) else 1.0,
        fail_recall=round(caught / sum(nonsense), 4) if any(nonsense) else 1.0,
    )


def calibrate(
    *,
    evaluator: Evaluator,
    classifier: StageClassifier,
    snippets_files: Sequence[Path],
    pairs_files: Sequence[Path],
    drafts_files: Sequence[Path] = (),
    examples_dir: Path | None = None,
) -> CalibrationReport:
    all_fits: list[tuple[StageFit, bool]] = []
    draft_labels: list[str] = []
    draft_passed: list[bool] = []
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
            all_fits.append((fit, hit))
            if not hit:
                confusions[f"{snippet.stage}->{fit.stage}"] += 1
        sets.append(_snippet_figures(path, snippets, fits))
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
    for path in drafts_files:
        if examples_dir is None:
            raise DocumentError("Labelled drafts need the examples folder their profiles come from.")
        drafts, subjects = draft_subjects(path, examples_dir)
        passed = [scored.passed for scored in evaluator.score_many(subjects)]
        labels = [d.verdict for d in drafts]
        figures = _draft_figures(labels, passed)
        agree = mean([p == (lab == "publishable") for p, lab in zip(passed, labels, strict=True)])
        sets.append(
            SetFigures(
                file=path.name,
                items=len(drafts),
                accuracy=agree,
                publishable_passed=figures.publishable_passed if "publishable" in labels else None,
                nonsense_passed=figures.nonsense_passed if "nonsense" in labels else None,
            )
        )
        draft_labels += labels
        draft_passed += passed
    decided = [hit for fit, hit in all_fits if not fit.unclear]

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
        stage_fit_decided_accuracy=mean(decided),
        stage_fit_abstained=round(1 - len(decided) / len(all_fits), 4) if all_fits else 0.0,
        stage_fit_ece=expected_calibration_error([f.confidence for f, _ in all_fits], [h for _, h in all_fits]),
        drafts=_draft_figures(draft_labels, draft_passed) if draft_labels else None,
    )
