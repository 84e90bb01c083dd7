"""Stage router, MMR, stage-aware search and the retrieval eval, with deterministic fake embeddings."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import cast

import numpy as np
import pytest
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from generator.chroma_support import mmr
from generator.errors import DocumentError
from generator.evaluation.retrieval import RetrievalCase, evaluate_retrieval, load_cases
from generator.knowledge import Hit, KnowledgeIndex, stage_metadata
from generator.settings import PROJECT_ROOT, Settings
from generator.stage_router import StageRouter, router_for, training_sentences


class WordHashEmbeddings(Embeddings):
    """Bag of hashed words: texts sharing words are close; deterministic and offline."""

    def _vec(self, text: str) -> list[float]:
        vec = np.zeros(64)
        for word in text.lower().split():
            vec[int(hashlib.md5(word.strip(".,!?").encode()).hexdigest(), 16) % 64] += 1
        norm = np.linalg.norm(vec)
        return list(vec / norm) if norm else list(vec)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._vec(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vec(text)


TOPICS = {
    "subscribe": "lead magnet free checklist email address opt-in page download the guide subscribers list",
    "promote": "referral program give get reward friend share link affiliate commission invite code",
    "advocate": "review testimonial rating stars feedback happy customer google review request",
}


def _docs() -> list[Document]:
    docs = []
    for stage, words in TOPICS.items():
        vocab = words.split()
        for i in range(6):
            text = " ".join(vocab[(i + j) % len(vocab)] for j in range(8)) + f" example number {i} here."
            meta = {"source": f"{stage}.md", "kind": "method", "business": "", "topic": "", **stage_metadata([stage])}
            docs.append(Document(page_content=text, metadata=meta))
    return docs


@pytest.fixture
def index(tmp_path: Path) -> KnowledgeIndex:
    emb = WordHashEmbeddings()
    router = router_for(_docs(), embeddings=emb, embedding_id="hash", cache_dir=tmp_path / "cache")
    idx = KnowledgeIndex.open(Settings(data_dir=tmp_path), embeddings=emb, embedding_id="hash", router=router)
    idx.add(_docs())
    return idx


def test_training_sentences_skip_untagged_and_short_text() -> None:
    docs = [
        Document(page_content="Too short.\nThis sentence is long enough to count here.", metadata={"stage": "aware"}),
        Document(page_content="A general sentence that has no stage at all.", metadata={"stage": "general"}),
    ]
    assert training_sentences(docs) == (["This sentence is long enough to count here."], ["aware"])


def test_router_learns_stages_and_survives_a_round_trip(tmp_path: Path) -> None:
    emb = WordHashEmbeddings()
    router = router_for(_docs(), embeddings=emb, embedding_id="hash", cache_dir=tmp_path)
    query = "a reward when a friend uses my share link"
    probs = router.predict([query], np.array([emb.embed_query(query)]))[0]
    assert max(probs, key=probs.__getitem__) == "promote"
    assert abs(sum(probs.values()) - 1) < 1e-6
    saved = next(tmp_path.glob("stage-router-*.npz"))
    again = StageRouter.load(saved).predict([query], np.array([emb.embed_query(query)]))[0]
    assert again == pytest.approx(probs)


def test_mmr_prefers_diverse_results() -> None:
    vectors = np.array([[1.0, 0.0], [0.99, 0.01], [0.0, 1.0]])
    scores = np.array([0.9, 0.89, 0.6])
    assert mmr(scores, vectors, k=2, diversity=0.0) == [0, 1]
    assert mmr(scores, vectors, k=2, diversity=0.5) == [0, 2]


def test_adding_twice_adds_nothing(index: KnowledgeIndex) -> None:
    count = index.count()
    assert index.add(_docs()) == 0 and index.count() == count


def test_search_without_stage_follows_the_router(index: KnowledgeIndex) -> None:
    hits = index.search("how many stars in a google review from a happy customer", k=3)
    assert hits[0].stage == "advocate"
    assert all(0 <= h.score <= 1 for h in hits)
    assert hits[0].score == max(h.score for h in hits)


def test_search_with_stage_filters(index: KnowledgeIndex) -> None:
    hits = index.search("friend reward referral", k=4, stage="subscribe")
    assert hits and all(h.stage == "subscribe" for h in hits)


class _FixedIndex:
    def __init__(self, stage: str, source: str) -> None:
        self.hit = Hit(text="t", source=source, stage=stage, kind="method", score=0.5)

    def search(self, query: str, **_: object) -> list[Hit]:
        return [self.hit]


def test_retrieval_report_counts_hits_and_recall() -> None:
    cases = [
        RetrievalCase(query="a", stage="promote", sources=["08-promote.md", "x.md"]),
        RetrievalCase(query="b", stage="aware", sources=["01-aware.md"]),
    ]
    fixed = cast("KnowledgeIndex", _FixedIndex("promote", "08-promote.md"))  # a fake stands in for the real index
    report = evaluate_retrieval(fixed, cases, k=5)
    assert report.hit_at_1_stage == 0.5
    assert report.recall_at_k == 0.25
    assert report.per_stage == {"promote": 1.0, "aware": 0.0}
    assert [m.query for m in report.misses] == ["b"]


def test_shipped_query_set_is_valid_and_covers_every_stage() -> None:
    cases = load_cases(PROJECT_ROOT / "eval" / "retrieval" / "queries.yaml")
    assert len({c.stage for c in cases}) == 8 and len(cases) >= 80


def test_invalid_query_set_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "q.yaml"
    path.write_text("- query: x\n  stage: nirvana\n")
    with pytest.raises(DocumentError, match="not a valid retrieval query set"):
        load_cases(path)
