"""Which CVJ stage a piece of text is about: a small classifier learned from the knowledge base.

Plain embedding similarity confuses neighbouring stages (an entry offer and an upsell read alike to
MiniLM). Two logistic regressions, one on TF-IDF words and one on embeddings, trained on the
guide's sentences (each labelled with its file's primary stage), are averaged; retrieval uses the
result to boost chunks of the stage a query is about. The trained weights are cached in the data
dir, keyed by a hash of the training set, so they are learned once per knowledge change.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from pydantic import BaseModel, Field
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import FeatureUnion

from generator.stages import STAGE_IDS

MIN_WORDS = 6
CALIBRATION_FOLDS = 5
TEMPERATURE_GRID = tuple(round(0.1 * n, 1) for n in range(1, 21))
TEXT_WEIGHT = 0.7  # share of the TF-IDF model in the average; measured on eval/retrieval
WORDS = {"ngram_range": (1, 2), "sublinear_tf": True, "stop_words": "english"}
CHARACTERS = {"analyzer": "char_wb", "ngram_range": (3, 5), "sublinear_tf": True}
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


def training_sentences(docs: Sequence[Document]) -> tuple[list[str], list[str]]:
    """Sentences of stage-tagged chunks, labelled with the chunk's primary stage."""
    texts: list[str] = []
    labels: list[str] = []
    for doc in docs:
        stage = str(doc.metadata.get("stage", ""))
        if stage not in STAGE_IDS:
            continue
        for sentence in _SENTENCE.split(doc.page_content):
            sentence = sentence.strip(" #*-")
            if len(sentence.split()) >= MIN_WORDS:
                texts.append(sentence)
                labels.append(stage)
    return texts, labels


class RouterTuning(BaseModel):
    """How the two models are fitted and mixed. Retrieval routes guide sentences (the defaults, measured on
    eval/retrieval); the stage-fit classifier reads whole marketing texts and weighs its example texts
    above the guide's sentences (chosen by cross-validation on eval/training/)."""

    c: float = 10.0
    text_weight: float = TEXT_WEIGHT
    calibrate: bool = Field(default=False, description="Fit a temperature so that confidence means accuracy")


def _vectorizer(words: dict[str, int] | None = None, characters: dict[str, int] | None = None) -> FeatureUnion:
    """Word and character n-grams: characters catch 'referrals' when the guide says 'referral'."""
    return FeatureUnion(
        [
            ("words", TfidfVectorizer(**WORDS, vocabulary=words)),
            ("characters", TfidfVectorizer(**CHARACTERS, vocabulary=characters)),
        ]
    )


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1, norms)


class StageRouter:
    """P(stage | text) from words and meaning."""

    def __init__(
        self,
        vectorizer: FeatureUnion,
        text_model: LogisticRegression,
        vector_model: LogisticRegression,
        text_weight: float = TEXT_WEIGHT,
        temperature: float = 1.0,
    ) -> None:
        self.vectorizer = vectorizer
        self.text_model = text_model
        self.vector_model = vector_model
        self.text_weight = text_weight
        self.temperature = temperature

    @classmethod
    def train(
        cls,
        texts: list[str],
        labels: list[str],
        vectors: np.ndarray,
        *,
        weights: list[float] | None = None,
        tuning: RouterTuning | None = None,
    ) -> StageRouter:
        """``weights``: one per text (default 1), how much each example counts in the fit."""
        tuning = tuning or RouterTuning()
        vectorizer = _vectorizer()
        text_model = LogisticRegression(C=tuning.c, max_iter=3000)
        text_model.fit(vectorizer.fit_transform(texts), labels, sample_weight=weights)
        vector_model = LogisticRegression(C=tuning.c, max_iter=3000).fit(_unit(vectors), labels, sample_weight=weights)
        router = cls(vectorizer, text_model, vector_model, tuning.text_weight)
        if tuning.calibrate:
            router.temperature = fit_temperature(texts, labels, vectors, weights, tuning)
        return router

    def probabilities(self, texts: list[str], vectors: np.ndarray) -> np.ndarray:
        """Rows of P(stage), columns in ``classes`` order, sharpened or softened by the fitted temperature."""
        by_text = self.text_model.predict_proba(self.vectorizer.transform(texts))
        by_vector = self.vector_model.predict_proba(_unit(np.asarray(vectors, dtype=float)))
        return _tempered(self.text_weight * by_text + (1 - self.text_weight) * by_vector, self.temperature)

    @property
    def classes(self) -> list[str]:
        return [str(c) for c in self.text_model.classes_]

    def predict(self, texts: list[str], vectors: np.ndarray) -> list[dict[str, float]]:
        """One {stage: probability} per text, probabilities summing to 1."""
        classes = self.classes
        return [dict(zip(classes, (float(p) for p in row), strict=True)) for row in self.probabilities(texts, vectors)]

    # Persistence as plain JSON + arrays (no pickle: the data dir may be shared).
    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        words, characters = (v for _, v in self.vectorizer.transformer_list)
        meta = {
            "vocabulary": [{k: int(v) for k, v in t.vocabulary_.items()} for t in (words, characters)],
            "classes": [str(c) for c in self.text_model.classes_],
            "text_weight": self.text_weight,
            "temperature": self.temperature,
        }
        tmp = path.with_suffix(".tmp.npz")
        np.savez(
            tmp,
            meta=np.array(json.dumps(meta)),
            idf_words=words.idf_,
            idf_characters=characters.idf_,
            text_coef=self.text_model.coef_,
            text_intercept=self.text_model.intercept_,
            vector_coef=self.vector_model.coef_,
            vector_intercept=self.vector_model.intercept_,
        )
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> StageRouter:
        data = np.load(path, allow_pickle=False)
        meta = json.loads(str(data["meta"]))
        vectorizer = _vectorizer(*meta["vocabulary"])
        for (_, part), key in zip(vectorizer.transformer_list, ("idf_words", "idf_characters"), strict=True):
            part.idf_ = data[key]
        classes = np.array(meta["classes"])
        text_model, vector_model = LogisticRegression(), LogisticRegression()
        for model, prefix in ((text_model, "text"), (vector_model, "vector")):
            model.classes_ = classes
            model.coef_ = data[f"{prefix}_coef"]
            model.intercept_ = data[f"{prefix}_intercept"]
        return cls(
            vectorizer,
            text_model,
            vector_model,
            float(meta.get("text_weight", TEXT_WEIGHT)),
            float(meta.get("temperature", 1.0)),
        )


def _tempered(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    if temperature == 1.0:
        return probabilities
    sharpened = np.power(np.clip(probabilities, 1e-12, 1.0), 1.0 / temperature)
    return sharpened / sharpened.sum(axis=1, keepdims=True)


def out_of_fold(
    texts: list[str],
    labels: list[str],
    vectors: np.ndarray,
    weights: list[float] | None,
    tuning: RouterTuning,
    *,
    folds: int = CALIBRATION_FOLDS,
) -> tuple[np.ndarray, list[str]]:
    """Each text's P(stage) from a router trained without it (k-fold), and the column order."""
    plain = tuning.model_copy(update={"calibrate": False})
    vectors = np.asarray(vectors)
    probabilities = np.zeros((len(texts), len(set(labels))))
    classes: list[str] = []
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=0).split(texts, labels):
        fold = StageRouter.train(
            [texts[i] for i in train],
            [labels[i] for i in train],
            vectors[train],
            weights=[weights[i] for i in train] if weights else None,
            tuning=plain,
        )
        classes = fold.classes
        probabilities[test] = fold.probabilities([texts[i] for i in test], vectors[test])
    return probabilities, classes


def fit_temperature(
    texts: list[str], labels: list[str], vectors: np.ndarray, weights: list[float] | None, tuning: RouterTuning
) -> float:
    """The temperature that makes out-of-fold confidences honest (least log loss), from a grid.

    The average of two regressions is underconfident: right 94% of the time while saying 50%.
    """
    probabilities, classes = out_of_fold(texts, labels, vectors, weights, tuning)
    truth = np.array([classes.index(label) for label in labels])
    sample = np.asarray(weights if weights else [1.0] * len(texts))

    def log_loss(temperature: float) -> float:
        picked = _tempered(probabilities, temperature)[np.arange(len(truth)), truth]
        return float(-(sample * np.log(np.clip(picked, 1e-12, 1.0))).sum() / sample.sum())

    return min(TEMPERATURE_GRID, key=log_loss)


def router_for(docs: Sequence[Document], *, embeddings: Embeddings, embedding_id: str, cache_dir: Path) -> StageRouter:
    """The router for these documents, trained once and cached by a hash of its training set."""
    texts, labels = training_sentences(docs)
    return cached_router(texts, labels, embeddings=embeddings, embedding_id=embedding_id, cache_dir=cache_dir)


def cached_router(
    texts: list[str],
    labels: list[str],
    *,
    embeddings: Embeddings,
    embedding_id: str,
    cache_dir: Path,
    weights: list[float] | None = None,
    tuning: RouterTuning | None = None,
) -> StageRouter:
    """A router trained on these labelled (and weighted) texts, cached by a hash of them, the tuning and the
    embedding model."""
    tuning = tuning or RouterTuning()
    key = [embedding_id, texts, labels, weights, tuning.model_dump()]
    digest = hashlib.sha1(json.dumps(key).encode("utf-8")).hexdigest()[:16]
    path = cache_dir / f"stage-router-{digest}.npz"
    if path.exists():
        return StageRouter.load(path)
    vectors = np.array(embeddings.embed_documents(texts))
    router = StageRouter.train(texts, labels, vectors, weights=weights, tuning=tuning)
    router.save(path)
    return router
