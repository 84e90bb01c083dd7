"""Offline quality model: how likely a text is the better draft of its stage's asset.

Learned from the good-vs-bad pairs in ``eval/training/pairs.jsonl`` (never from eval/labelled/),
it stands in for the LLM judge when none is worth asking (SmolLM2-135M judges at chance) and is a
second opinion next to one. Its inputs are explainable: the copy signals (calls to action, hype,
vague filler, pressure, effort, risk reducers, who the copy is about), the stage fit, and two
embedding directions ("what the good drafts of this stage have that the bad ones lack"). A pairwise
logistic regression (RankNet-style: good minus bad) weighs them, per stage and overall.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from sklearn.linear_model import LogisticRegression

from generator.embeddings import embed_cached
from generator.errors import DocumentError
from generator.evaluation.signals import FEATURE_NAMES, Signals, measure
from generator.evaluation.stage_fit import StageClassifier, read_jsonl
from generator.settings import Settings
from generator.stages import STAGE_IDS, StageId

PAIRS_FILE = Path("training") / "pairs.jsonl"
NAMES = [*FEATURE_NAMES, "stage_fit", "stage_direction", "overall_direction"]
FOLDS = 5
C = 0.3  # L2 strength, chosen by cross-validation on the training pairs


class TrainingPair(BaseModel):
    model_config = ConfigDict(extra="ignore")
    stage: StageId
    good: str = Field(min_length=1)
    bad: str = Field(min_length=1)


class Judged(BaseModel):
    """The model's verdict on one text."""

    score: float = Field(ge=0, le=1)
    reason: str


def load_pairs(eval_dir: Path) -> list[TrainingPair]:
    path = eval_dir / PAIRS_FILE
    if not path.exists():
        return []
    try:
        return TypeAdapter(list[TrainingPair]).validate_python(read_jsonl(path))
    except ValidationError as exc:
        raise DocumentError(f"{path} is not a valid pairs file: {exc}") from None


def _unit(v: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(v))
    return v / norm if norm else v


def _directions(stages: Sequence[str], good: np.ndarray, bad: np.ndarray) -> np.ndarray:
    """Row per stage plus a last 'overall' row: the mean good-minus-bad embedding difference."""
    diff = good - bad
    rows = [
        _unit(diff[[s == stage for s in stages]].mean(axis=0)) if stage in stages else np.zeros(diff.shape[1])
        for stage in STAGE_IDS
    ]
    return np.vstack([*rows, _unit(diff.mean(axis=0))])


def _expand(x: np.ndarray, stages: Sequence[str]) -> np.ndarray:
    """[shared features | features in the stage's own block]: weights learned overall and per stage."""
    blocks = np.zeros((len(stages), x.shape[1] * (len(STAGE_IDS) + 1)))
    blocks[:, : x.shape[1]] = x
    for row, stage in enumerate(stages):
        start = x.shape[1] * (STAGE_IDS.index(stage) + 1)
        blocks[row, start : start + x.shape[1]] = x[row]
    return blocks


class QualityModel:
    """P(better draft | text, stage) as a score in [0, 1]; 0.5 is a typical training draft."""

    def __init__(
        self,
        *,
        mean: np.ndarray,
        scale: np.ndarray,
        weights: np.ndarray,
        directions: np.ndarray,
        offsets: np.ndarray,
        pairs: int,
    ) -> None:
        self.mean, self.scale, self.weights = mean, scale, weights
        self.directions, self.offsets, self.pairs = directions, offsets, pairs

    @staticmethod
    def raw_features(
        signals: Sequence[Signals], fit_p: Sequence[float], vectors: np.ndarray, stages: Sequence[str], dirs: np.ndarray
    ) -> np.ndarray:
        own = np.array([dirs[STAGE_IDS.index(s)] for s in stages])
        return np.column_stack(
            [
                np.array([s.features() for s in signals]),
                np.asarray(fit_p),
                np.einsum("ij,ij->i", vectors, own),
                vectors @ dirs[-1],
            ]
        )

    def _logits(self, x: np.ndarray, stages: Sequence[str]) -> np.ndarray:
        return _expand((x - self.mean) / self.scale, stages) @ self.weights

    def judge(
        self, signals: Sequence[Signals], fit_p: Sequence[float], vectors: np.ndarray, stages: Sequence[str]
    ) -> list[Judged]:
        x = self.raw_features(signals, fit_p, np.asarray(vectors), stages, self.directions)
        logits = self._logits(x, stages)
        z = (x - self.mean) / self.scale
        results = []
        for row, stage in enumerate(stages):
            k = STAGE_IDS.index(stage)
            n = len(NAMES)
            w = self.weights[:n] + self.weights[n * (k + 1) : n * (k + 2)]
            contributions = w * z[row]
            helps = [NAMES[i] for i in np.argsort(-contributions)[:2] if contributions[i] > 0.1]
            hurts = [NAMES[i] for i in np.argsort(contributions)[:2] if contributions[i] < -0.1]
            score = 1 / (1 + math.exp(-(logits[row] - self.offsets[k])))
            reason = f"offline quality model ({self.pairs} training pairs)"
            if helps:
                reason += f"; helped by {', '.join(h.replace('_', ' ') for h in helps)}"
            if hurts:
                reason += f"; held back by {', '.join(h.replace('_', ' ') for h in hurts)}"
            results.append(Judged(score=round(score, 4), reason=reason))
        return results

    @classmethod
    def train(
        cls,
        pairs: Sequence[TrainingPair],
        *,
        good: tuple[Sequence[Signals], Sequence[float], np.ndarray],
        bad: tuple[Sequence[Signals], Sequence[float], np.ndarray],
        c: float = C,
    ) -> QualityModel:
        """Fit on pairs; direction features are cross-fitted so the training rows never see their own pair."""
        stages = [p.stage for p in pairs]
        folds = np.arange(len(pairs)) % FOLDS
        xg, xb = np.zeros((len(pairs), len(NAMES))), np.zeros((len(pairs), len(NAMES)))
        for fold in range(FOLDS):
            held, rest = folds == fold, folds != fold
            dirs = _directions([s for s, r in zip(stages, rest, strict=True) if r], good[2][rest], bad[2][rest])
            picked = [s for s, h in zip(stages, held, strict=True) if h]
            for target, (sig, fit, vec) in ((xg, good), (xb, bad)):
                target[held] = cls.raw_features(
                    [s for s, h in zip(sig, held, strict=True) if h], np.asarray(fit)[held], vec[held], picked, dirs
                )
        both = np.vstack([xg, xb])
        mean, scale = both.mean(axis=0), both.std(axis=0) + 1e-6
        diff = _expand((xg - mean) / scale, stages) - _expand((xb - mean) / scale, stages)
        lr = LogisticRegression(C=c, fit_intercept=False, max_iter=5000)
        lr.fit(np.vstack([diff, -diff]), np.r_[np.ones(len(pairs)), np.zeros(len(pairs))])
        model = cls(
            mean=mean,
            scale=scale,
            weights=lr.coef_[0],
            directions=_directions(stages, good[2], bad[2]),
            offsets=np.zeros(len(STAGE_IDS)),
            pairs=len(pairs),
        )
        logits = model._logits(both, stages + stages)
        model.offsets = np.array(
            [
                float(np.median(logits[[s == stage for s in stages + stages]])) if stage in stages else 0.0
                for stage in STAGE_IDS
            ]
        )
        return model


class QualityScorer:
    """The model with the embeddings it was trained on: what the Evaluator holds."""

    def __init__(self, model: QualityModel, embeddings: Embeddings) -> None:
        self.model = model
        self.embeddings = embeddings

    def embed(self, texts: list[str]) -> np.ndarray:
        return np.array(self.embeddings.embed_documents(texts)) if texts else np.zeros((0, 0))


def train_quality_scorer(
    settings: Settings, classifier: StageClassifier, *, embeddings: Embeddings, embedding_id: str
) -> QualityScorer | None:
    """Train on eval/training/pairs.jsonl (vectors cached; the fit itself takes well under a second)."""
    pairs = load_pairs(settings.eval_dir)
    if not pairs:
        return None
    texts = [p.good for p in pairs] + [p.bad for p in pairs]
    vectors = embed_cached(texts, embeddings=embeddings, embedding_id=embedding_id, cache_dir=settings.cache_dir)
    fits = classifier.classify(texts, vectors=vectors)
    signals = [measure(t, settings.eval_dir) for t in texts]
    stages = [p.stage for p in pairs] * 2
    p_stage = [f.scores.get(s, 0.0) for f, s in zip(fits, stages, strict=True)]
    n = len(pairs)
    model = QualityModel.train(
        pairs, good=(signals[:n], p_stage[:n], vectors[:n]), bad=(signals[n:], p_stage[n:], vectors[n:])
    )
    return QualityScorer(model, embeddings)
