"""Stage fit: which of the 8 stages a marketing text serves, with a confidence.

The classifier is the stage router's method (TF-IDF words and characters plus embeddings, two
logistic regressions) trained on the guide's sentences and on the example texts in
``eval/training/stage_examples*.jsonl`` (and ``eval/training/<language>/`` for another language: trained on
English alone it read Spanish at 0.28, with 120 Spanish examples at 0.875 on the held-out eval/labelled/es/). The
labelled sets used to *measure* it (eval/labelled/) are never trained on, so calibration figures stay honest.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

from generator.errors import DocumentError
from generator.evaluation.results import StageFit
from generator.knowledge import knowledge_documents
from generator.settings import Settings
from generator.stage_router import RouterTuning, StageRouter, cached_router, training_sentences
from generator.stages import STAGE_IDS

TRAINING_GLOBS = ("training/stage_examples*.jsonl", "training/*/stage_examples*.jsonl")  # English, then a folder
# per other language (training/es/): one classifier reads every language it has examples in
# Chosen by 5-fold cross-validation on the training examples (guide always in), never on eval/labelled/:
# 0.930 accuracy against 0.913 for the retrieval router's settings.
CLASSIFIER_C = 3.0
CLASSIFIER_TEXT_WEIGHT = 0.8
EXAMPLE_WEIGHT = 3.0


def read_jsonl(path: Path) -> list[dict[str, object]]:
    """Objects from a JSON Lines file; a bad line is an error naming the line."""
    items = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            items.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise DocumentError(f"{path}:{number} is not valid JSON: {exc.msg}") from None
    return items


def training_examples(eval_dir: Path) -> tuple[list[str], list[str]]:
    """Every eval/training/stage_examples*.jsonl, then each language folder's, in name order."""
    rows = [
        r
        for pattern in TRAINING_GLOBS
        for path in sorted(eval_dir.glob(pattern))
        for r in read_jsonl(path)
        if r.get("stage") in STAGE_IDS and r.get("text")
    ]
    return [str(r["text"]) for r in rows], [str(r["stage"]) for r in rows]


class StageClassifier:
    """P(stage | text) for whole marketing texts."""

    def __init__(self, router: StageRouter, embeddings: Embeddings) -> None:
        self.router = router
        self.embeddings = embeddings

    def classify(self, texts: list[str], *, vectors: np.ndarray | None = None) -> list[StageFit]:
        """``vectors``: the texts' embeddings when the caller already has them."""
        if not texts:
            return []
        if vectors is None:
            vectors = np.array(self.embeddings.embed_documents(texts))
        fits = []
        for probs in self.router.predict(texts, vectors):
            best = max(probs, key=probs.__getitem__)
            fits.append(StageFit(stage=best, confidence=round(probs[best], 4), scores=probs))
        return fits


def train_classifier(
    settings: Settings,
    *,
    embeddings: Embeddings,
    embedding_id: str,
    extra: tuple[list[str], list[str]] = ([], []),
) -> StageClassifier:
    """Train (or load from cache) the classifier on the guide, the training examples and ``extra``."""
    guide_texts, guide_labels = training_sentences(knowledge_documents(settings.knowledge_dir))
    example_texts, example_labels = training_examples(settings.eval_dir)
    texts = guide_texts + example_texts + extra[0]
    labels = guide_labels + example_labels + extra[1]
    weights = [1.0] * len(guide_texts) + [EXAMPLE_WEIGHT] * (len(texts) - len(guide_texts))
    tuning = RouterTuning(c=CLASSIFIER_C, text_weight=CLASSIFIER_TEXT_WEIGHT, calibrate=True)
    router = cached_router(
        texts,
        labels,
        embeddings=embeddings,
        embedding_id=embedding_id,
        cache_dir=settings.cache_dir,
        weights=weights,
        tuning=tuning,
    )
    return StageClassifier(router, embeddings)
