"""Offline quality model: how likely a text is the better draft of its stage's asset.

Learned from the good-vs-bad pairs in ``eval/training/pairs*.jsonl`` (never from eval/labelled/),
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

PAIRS_GLOB = "training/pairs*.jsonl"
NAMES = [*FEATURE_NAMES, "stage_fit", "stage_direction", "overall_direction"]
FOLDS = 5
Z_LIMIT = 3.0
C = 0.3  # L2 strength, chosen by cross-validation on the training pairs


# What each feature means to a copywriter, when the text has more of it than usual and when less, and
# whether more is better (+1) or worse (-1): the reasons (and so the revision critique) use these words.
LABELS = {
    "cta": ("a clear call to action", "no clear call to action", 1),
    "numbers": ("specific figures", "few specific figures", 1),
    "reader_share": ("talking to the reader", "talking about the business", 1),
    "exclamations": ("exclamation marks", "few exclamation marks", -1),
    "shouting": ("words in capitals", "no words in capitals", -1),
    "hype": ("hype words", "no hype", -1),
    "generic": ("vague corporate phrasing", "no corporate filler", -1),
    "pressure": ("pressure or false urgency", "no pressure", -1),
    "quick": ("a small stated effort", "no stated effort", 1),
    "long": ("signs of a long slog", "no sign of a slog", -1),
    "risk_reducers": ("risk reducers", "no risk reducer", 1),
    "friend_side": ("a reward for the friend", "no reward for the friend", 1),
    "questions": ("questions to the reader", "no questions", 1),
    "link": ("a direct link", "no direct link", 1),
    "too_early": ("asking before the customer has tried it", "good timing", -1),
    "stage_fit": ("reads clearly as this stage", "reads like another stage", 1),
    "stage_direction": ("close to strong drafts of this stage", "far from strong drafts of this stage", 1),
    "overall_direction": ("close to strong drafts in general", "far from strong drafts in general", 1),
}


def _explain(w: np.ndarray, z: np.ndarray) -> tuple[list[str], list[str]]:
    """The two features that helped most and hurt most, skipping any whose learned effect runs against
    common sense for this text (a reason must make sense to the copywriter who reads it)."""
    contributions = w * z
    helps: list[str] = []
    hurts: list[str] = []
    for i in np.argsort(-np.abs(contributions)):
        more, less, sign = LABELS[NAMES[i]]
        if abs(contributions[i]) < 0.1 or np.sign(contributions[i]) != np.sign(sign * z[i]):
            continue
        target = helps if contributions[i] > 0 else hurts
        if len(target) < 2:
            target.append(more if z[i] >= 0 else less)
    return helps, hurts


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
    """Every eval/training/pairs*.jsonl, in name order."""
    pairs: list[TrainingPair] = []
    for path in sorted(eval_dir.glob(PAIRS_GLOB)):
        try:
            pairs += TypeAdapter(list[TrainingPair]).validate_python(read_jsonl(path))
        except ValidationError as exc:
            raise DocumentError(f"{path} is not a valid pairs file: {exc}") from None
    return pairs


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-max(-60.0, min(60.0, x))))


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
        slope: float,
        pairs: int,
    ) -> None:
        self.mean, self.scale, self.weights = mean, scale, weights
        self.directions, self.offsets, self.slope, self.pairs = directions, offsets, slope, pairs

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

    def _standard(self, x: np.ndarray) -> np.ndarray:
        """Standard scores, clipped: a text far outside the training drafts must not dominate on one feature."""
        return np.clip((x - self.mean) / self.scale, -Z_LIMIT, Z_LIMIT)

    def _logits(self, x: np.ndarray, stages: Sequence[str]) -> np.ndarray:
        return _expand(self._standard(x), stages) @ self.weights

    def judge(
        self, signals: Sequence[Signals], fit_p: Sequence[float], vectors: np.ndarray, stages: Sequence[str]
    ) -> list[Judged]:
        x = self.raw_features(signals, fit_p, np.asarray(vectors), stages, self.directions)
        logits = self._logits(x, stages)
        z = self._standard(x)
        results = []
        for row, stage in enumerate(stages):
            k = STAGE_IDS.index(stage)
            n = len(NAMES)
            w = self.weights[:n] + self.weights[n * (k + 1) : n * (k + 2)]
            helps, hurts = _explain(w, z[row])
            score = _sigmoid(self.slope * (logits[row] - self.offsets[k]))
            reason = f"offline quality model ({self.pairs} training pairs)"
            if helps:
                reason += f"; helped by {', '.join(helps)}"
            if hurts:
                reason += f"; held back by {', '.join(hurts)}"
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
        stages: list[str] = [p.stage for p in pairs]
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
        # Weights and per-stage offsets from every pair; the slope that turns a logit into a probability
        # from out-of-fold logits (Platt scaling), so absolute scores are not overconfident.
        model = cls._fit(xg, xb, stages, c, directions=_directions(stages, good[2], bad[2]), slope=1.0)
        held_logits, held_stages = [], []
        for fold in range(FOLDS):
            rest = folds != fold
            part = cls._fit(
                xg[rest],
                xb[rest],
                [s for s, r in zip(stages, rest, strict=True) if r],
                c,
                directions=model.directions,
                slope=1.0,
            )
            picked = [s for s, r in zip(stages, rest, strict=True) if not r]
            for x in (xg[~rest], xb[~rest]):
                offsets = np.array([part.offsets[STAGE_IDS.index(s)] for s in picked])
                held_logits.append(part._logits(x, picked) - offsets)
            held_stages += picked
        n_held = len(held_stages)
        logits = np.concatenate([np.concatenate(held_logits[0::2]), np.concatenate(held_logits[1::2])])
        platt = LogisticRegression(fit_intercept=False).fit(logits[:, None], np.r_[np.ones(n_held), np.zeros(n_held)])
        model.slope = float(platt.coef_[0, 0])
        return model

    @classmethod
    def _fit(
        cls, xg: np.ndarray, xb: np.ndarray, stages: list[str], c: float, *, directions: np.ndarray, slope: float
    ) -> QualityModel:
        both = np.vstack([xg, xb])
        mean, scale = both.mean(axis=0), both.std(axis=0) + 1e-6
        diff = _expand((xg - mean) / scale, stages) - _expand((xb - mean) / scale, stages)
        lr = LogisticRegression(C=c, fit_intercept=False, max_iter=5000)
        lr.fit(np.vstack([diff, -diff]), np.r_[np.ones(len(stages)), np.zeros(len(stages))])
        model = cls(
            mean=mean,
            scale=scale,
            weights=lr.coef_[0],
            directions=directions,
            offsets=np.zeros(len(STAGE_IDS)),
            slope=slope,
            pairs=len(stages),
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
