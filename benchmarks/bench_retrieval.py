"""Retrieval: what the kit's ingestion and search cost on top of the bare embedding and vector query.

Two tables, each against a baseline timed in the same run:

* Ingestion throughput: ``KnowledgeIndex.add`` (ids, dedupe check, embedding, Chroma write) vs the
  bare ONNX MiniLM function on the same texts. Embedding dominates both, so the ratio is the
  overhead of the rest of our path.
* Query latency at 1k and 10k chunks: ``KnowledgeIndex.search`` (query embedding, stage router,
  Chroma query with 30 candidates, MMR) vs a bare ``collection.query`` with a precomputed vector.
  Embedding 10k chunks for real would take minutes on 2 cores, so the big collections hold noisy
  copies of ~300 real chunk vectors, with the originals' metadata, which is what the query path
  sees (vectors, filters, documents); only the texts repeat.

Everything is written to a temporary data dir; the stage router cache (``cache_dir``) is shared.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import chromadb
import numpy as np
import yaml
from chromadb.api.models.Collection import Collection
from langchain_core.documents import Document

from benchmarks.report import console, show
from generator.embeddings import LOCAL_EMBEDDING_ID, MiniLMEmbeddings
from generator.knowledge import KnowledgeIndex, knowledge_documents
from generator.runtime import open_index
from generator.settings import EmbeddingsProvider, Settings

TARGET_CHUNKS = 300  # distinct chunks embedded for ingestion (and reused as the base vectors)
WARMUP_CHUNKS = 32  # one ONNX batch: loads the session and Chroma before anything is timed
INGEST_RUNS = 2  # best of
SIZES = (1_000, 10_000)
QUERIES = 60
QUERY_WARMUPS = 3
NOISE = 0.01  # per-dimension sigma; copies stay ~0.98 cosine to their original
ADD_BATCH = 5_000  # below Chroma's max batch size
K = 5
STAGE = "subscribe"


def bench_settings(data_dir: Path) -> Settings:
    """Offline settings on a throwaway data dir, sharing the default cache (trained stage router)."""
    return Settings(
        data_dir=data_dir, cache_dir=Settings().cache_dir, embeddings=EmbeddingsProvider.LOCAL, chroma_url=None
    )


def distinct_chunks(docs: Sequence[Document], target: int) -> list[Document]:
    """The knowledge chunks repeated with a suffix until there are ``target`` distinct ones."""
    out: list[Document] = []
    copy = 0
    while len(out) < target:
        suffix = f"\n\n(benchmark copy {copy})" if copy else ""
        out += [Document(page_content=d.page_content + suffix, metadata=dict(d.metadata)) for d in docs]
        copy += 1
    return out[:target]


def fresh_index(settings: Settings, index: KnowledgeIndex, name: str) -> KnowledgeIndex:
    """An empty collection sharing the loaded model and router (collections are named by embedding id)."""
    return KnowledgeIndex.open(
        settings, embeddings=index.embeddings, embedding_id=f"{LOCAL_EMBEDDING_ID}-{name}", router=index.router
    )


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    """Seconds one call took, and what it returned."""
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


def bench_ingestion(settings: Settings, index: KnowledgeIndex, docs: list[Document]) -> np.ndarray:
    """Print the ingestion table; return the chunk vectors so the query benchmark need not re-embed."""
    assert isinstance(index.embeddings, MiniLMEmbeddings)
    bare = index.embeddings._fn
    texts = [d.page_content for d in docs]

    bare(texts[:WARMUP_CHUNKS])
    fresh_index(settings, index, "warmup").add(docs[:WARMUP_CHUNKS])

    bare_times, add_times, vectors = [], [], None
    for run in range(INGEST_RUNS):  # interleaved, so drift on a shared machine hits both paths alike
        seconds, vectors = timed(lambda: bare(texts))
        bare_times.append(seconds)
        target = fresh_index(settings, index, f"ingest-{run}")
        seconds, added = timed(partial(target.add, docs))
        add_times.append(seconds)
        assert added == len(docs), f"expected {len(docs)} new chunks, got {added}"

    best_bare, best_add = min(bare_times), min(add_times)
    rows = [
        ("bare ONNX MiniLM embedding", best_bare),
        ("KnowledgeIndex.add: ids, dedupe, embed, Chroma write", best_add),
    ]
    show(
        "Ingestion throughput",
        ["path", "chunks", "seconds", "chunks/s", "ratio vs bare"],
        [[path, str(len(docs)), f"{s:.2f}", f"{len(docs) / s:.1f}", f"{s / best_bare:.2f}x"] for path, s in rows],
        note=f"Best of {INGEST_RUNS} runs after 1 warm-up call per path; splitting excluded; "
        f"{os.cpu_count()} CPU cores.",
    )
    return np.asarray(vectors, dtype=np.float32)


def fill(collection: Collection, docs: Sequence[Document], vectors: np.ndarray, n: int, seed: int) -> None:
    """Add ``n`` noisy, renormalised copies of the real chunk vectors, with the originals' metadata."""
    rng = np.random.default_rng(seed)
    source = np.arange(n) % len(docs)
    noisy = vectors[source] + rng.normal(0.0, NOISE, size=(n, vectors.shape[1])).astype(np.float32)
    noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
    for start in range(0, n, ADD_BATCH):
        rows = range(start, min(start + ADD_BATCH, n))
        collection.add(
            ids=[f"synthetic-{n}-{i}" for i in rows],
            embeddings=noisy[start : start + len(rows)],
            documents=[docs[source[i]].page_content for i in rows],
            metadatas=[dict(docs[source[i]].metadata) for i in rows],
        )


def latencies_ms(call: Callable[[int], Any], count: int) -> np.ndarray:
    """Per-call latency in ms over ``count`` queries, after a few untimed warm-up calls."""
    for i in range(QUERY_WARMUPS):
        call(i)
    out = []
    for i in range(count):
        start = time.perf_counter()
        call(i)
        out.append(time.perf_counter() - start)
    return np.array(out) * 1000


def eval_queries(settings: Settings, count: int) -> list[str]:
    """``count`` queries spread evenly over eval/retrieval (which is ordered by stage)."""
    items = yaml.safe_load((settings.eval_dir / "retrieval" / "queries.yaml").read_text(encoding="utf-8"))
    picks = np.linspace(0, len(items) - 1, num=min(count, len(items))).round().astype(int)
    return [str(items[i]["query"]) for i in picks]


def bench_queries(settings: Settings, index: KnowledgeIndex, docs: list[Document], vectors: np.ndarray) -> None:
    """Print the query latency table: our full search vs a bare Chroma vector query."""
    assert isinstance(index.embeddings, MiniLMEmbeddings)
    queries = eval_queries(settings, QUERIES)
    query_vectors = index.embeddings._fn(queries)
    rows = []
    for n in SIZES:
        target = fresh_index(settings, index, f"query-{n}")
        build, _ = timed(partial(fill, target.collection, docs, vectors, n, seed=n))
        console.print(f"[dim]{n:,} synthetic chunks added in {build:.1f} s[/dim]")
        assert target.count() == n
        paths = [
            (
                "bare collection.query (precomputed vector)",
                lambda i, c=target.collection: c.query(query_embeddings=[query_vectors[i]], n_results=K),
            ),
            ("search (embed + router + query + MMR)", lambda i, t=target: t.search(queries[i], k=K)),
            (f"search stage={STAGE}", lambda i, t=target: t.search(queries[i], k=K, stage=STAGE)),
        ]
        bare_p50 = None
        for path, call in paths:
            p50, p95 = np.percentile(latencies_ms(call, len(queries)), [50, 95])
            if bare_p50 is None:
                bare_p50 = p50
            rows.append([f"{n:,}", path, f"{p50:.2f}", f"{p95:.2f}", f"{p50 / bare_p50:.1f}x"])
    show(
        "Query latency",
        ["chunks", "path", "p50 ms", "p95 ms", "ratio p50 vs bare"],
        rows,
        note=f"{len(queries)} queries from eval/retrieval/queries.yaml, {QUERY_WARMUPS} warm-ups, k={K}; "
        f"collections of noisy copies of {len(docs)} real chunk vectors; chromadb {chromadb.__version__}.",
    )


def main() -> None:
    """Run both retrieval benchmarks on a temporary data dir."""
    with tempfile.TemporaryDirectory(prefix="cvj-bench-") as tmp:
        settings = bench_settings(Path(tmp))
        index = open_index(settings)
        docs = distinct_chunks(knowledge_documents(settings.knowledge_dir), TARGET_CHUNKS)
        vectors = bench_ingestion(settings, index, docs)
        bench_queries(settings, index, docs, vectors)
