"""The knowledge index: CVJ method notes and each business's facts in one Chroma collection.

Chunks carry ``kind`` (method | business), ``stage`` (primary stage or ``general``), one boolean
flag per stage they serve (``s_<stage>``, so Chroma can filter on any of them), ``source`` and
``topic``. Chunk ids are content hashes, so indexing twice adds nothing.

Chroma's local files are not process-safe: one command at a time writes to them, holding ``<data_dir>/index.lock``
(readers go on; nothing new to write, no lock). Writers that must not wait share a Chroma server (``CVJ_CHROMA_URL``).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np
import yaml
from chromadb.api.models.Collection import Collection
from chromadb.api.types import PyEmbedding, Where
from langchain_chroma import Chroma
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_text_splitters import MarkdownHeaderTextSplitter, RecursiveCharacterTextSplitter
from pydantic import BaseModel

from generator.chroma_support import chroma_http_client, forget_cached_folders, mmr, reloading
from generator.errors import ModelUnavailableError
from generator.files import exclusive, read_utf8
from generator.profile import BusinessProfile
from generator.settings import Settings
from generator.stage_router import StageRouter
from generator.stages import STAGE_IDS
from generator.tokens import ensure_tiktoken_cache

Kind = Literal["method", "business"]
CHUNK_TOKENS = 320
CHUNK_OVERLAP = 40
FETCH_K = 30  # candidates fetched before boosting and MMR
STAGE_BOOST = 2.0  # weight of the stage signal against cosine similarity
DIVERSITY = 0.3  # MMR: 0 = pure relevance
WRITE_LOCK_TIMEOUT_S = 120.0  # how long a write waits for another command's (the guide embeds in ~10 s)


class IndexBusyError(ModelUnavailableError):
    """Another command holds the index's write lock for longer than we wait."""


class Hit(BaseModel):
    """One retrieved chunk with its provenance and relevance in [0, 1]."""

    text: str
    source: str
    stage: str
    kind: str
    topic: str = ""
    score: float


def stage_metadata(stages: Iterable[str]) -> dict[str, str | bool]:
    """Metadata for the stages a chunk serves: the primary one plus a filterable flag each."""
    stages = [s for s in stages if s in STAGE_IDS]
    meta: dict[str, str | bool] = {"stage": stages[0] if stages else "general"}
    meta.update({f"s_{s}": s in stages for s in STAGE_IDS})
    return meta


def _split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    if text.startswith("---"):
        _, front, body = text.split("---", 2)
        return (yaml.safe_load(front) or {}), body
    return {}, text


def splitter() -> RecursiveCharacterTextSplitter:
    """Token-aware splitter (cl100k_base), shared by every document kind."""
    ensure_tiktoken_cache()
    return RecursiveCharacterTextSplitter.from_tiktoken_encoder(
        encoding_name="cl100k_base", chunk_size=CHUNK_TOKENS, chunk_overlap=CHUNK_OVERLAP
    )


def split_markdown(text: str, base: Mapping[str, object]) -> list[Document]:
    """Split on ``##`` sections first (each chunk keeps its heading), then by tokens."""
    sections = MarkdownHeaderTextSplitter(
        headers_to_split_on=[("#", "title"), ("##", "section")], strip_headers=False
    ).split_text(text)
    docs = [
        Document(page_content=s.page_content, metadata={**base, "topic": str(s.metadata.get("section", ""))})
        for s in sections
        if s.page_content.strip()
    ]
    return splitter().split_documents(docs)


def knowledge_documents(knowledge_dir: Path) -> list[Document]:
    """Every ``*.md`` guide file in the knowledge folder, split into chunks."""
    docs: list[Document] = []
    for path in sorted(knowledge_dir.glob("*.md")):
        front, body = _split_front_matter(read_utf8(path))
        stages = front.get("stages") or []
        base = {"source": path.name, "kind": "method", "business": "", **stage_metadata(stages)}
        docs.extend(split_markdown(body, base))
    return docs


def profile_documents(profile: BusinessProfile) -> list[Document]:
    """The profile as a few business-fact chunks, tagged with the stages they matter to."""
    p = profile
    ladder = p.offers
    offer_lines = [
        f"{label}: {o.name} ({o.price:g} {ladder.currency}){' - ' + o.description if o.description else ''}"
        for label, o in (
            ("Lead magnet", ladder.lead_magnet),
            ("Entry-point offer", ladder.entry_offer),
            ("Core offer", ladder.core_offer),
            *(("Upsell", u) for u in ladder.upsells),
        )
        if o is not None
    ]
    sections: list[tuple[str, list[str], str]] = [
        ("overview", [], f"{p.name} sells {p.what_it_sells} Market: {p.market}."),
        (
            "audience",
            ["aware", "engage"],
            f"Audience of {p.name}: {p.audience.who}\nPains: {'; '.join(p.audience.pains)}\n"
            f"Desires: {'; '.join(p.audience.desires)}\nObjections: {'; '.join(p.audience.objections)}",
        ),
        ("offers", ["convert", "ascend", "subscribe"], f"Offers ladder of {p.name}:\n" + "\n".join(offer_lines)),
        (
            "proof",
            ["advocate", "promote"],
            f"Proof for {p.name}:\n"
            + "\n".join([f'"{t.quote}" - {t.author}' for t in p.proof.testimonials] + p.proof.numbers),
        ),
    ]
    docs = []
    for topic, stages, text in sections:
        meta = {"source": f"profile:{p.key}", "kind": "business", "business": p.key, "topic": topic}
        docs.append(Document(page_content=text, metadata={**meta, **stage_metadata(stages)}))
    return docs


def chunk_id(doc: Document) -> str:
    key = f"{doc.metadata.get('source')}\n{doc.metadata.get('business')}\n{doc.page_content}"
    return hashlib.sha1(key.encode("utf-8")).hexdigest()


class KnowledgeIndex:
    """A Chroma collection (local files or a Chroma server) with stage-aware, diverse search."""

    def __init__(
        self, store: Chroma, *, embeddings: Embeddings, router: StageRouter | None = None, lock: Path | None = None,
        reopen: Callable[[], Chroma] | None = None,
    ) -> None:  # fmt: skip
        self.store = store
        self._reopen = reopen  # a local folder: how to read it afresh after another process changed it
        self.embeddings = embeddings
        self.router = router
        self.write_lock = lock  # None: a Chroma server, which orders its writers itself
        self.lock_timeout_s = WRITE_LOCK_TIMEOUT_S

    @classmethod
    def open(
        cls, settings: Settings, *, embeddings: Embeddings, embedding_id: str, router: StageRouter | None = None
    ) -> KnowledgeIndex:
        """The collection for these embeddings (one per embedding model), local or on a Chroma server."""
        name = f"cvj-{embedding_id}".replace(".", "-")
        store = functools.partial(
            Chroma, collection_name=name, embedding_function=embeddings, collection_metadata={"hnsw:space": "cosine"}
        )
        if settings.chroma_url:
            return cls(store(client=chroma_http_client(settings.chroma_url)), embeddings=embeddings, router=router)
        settings.index_dir.mkdir(parents=True, exist_ok=True)
        lock = settings.data_dir / "index.lock"
        folder = functools.partial(store, persist_directory=str(settings.index_dir))
        try:  # two processes creating the folder's database or a collection at once fail: one does it
            if not (settings.index_dir / "chroma.sqlite3").exists():
                raise FileNotFoundError
            local = folder()
        except Exception:  # chromadb raises plain errors
            with index_write_lock(lock):
                local = folder()
        return cls(local, embeddings=embeddings, router=router, lock=lock, reopen=folder)

    def _reload(self) -> None:
        """Read the folder afresh: Chroma keeps its vector index in memory, so chunks another process wrote are
        missing from this process's until it reloads."""
        assert self._reopen is not None
        forget_cached_folders()
        self.store = self._reopen()

    def writing(self) -> contextlib.AbstractContextManager[None]:
        """Hold the index's write lock for the block (re-entrant; a Chroma server needs none)."""
        if self.write_lock is None:
            return contextlib.nullcontext()
        return index_write_lock(self.write_lock, timeout_s=self.lock_timeout_s)

    @property
    def collection(self) -> Collection:
        return self.store._collection

    def count(self) -> int:
        return int(self.collection.count())

    def add(self, docs: list[Document]) -> int:
        """Add chunks not yet present; returns how many were new."""
        return self._write({chunk_id(d): d for d in docs})

    def replace_source(self, source: str, docs: list[Document]) -> int:
        """Make the chunks of one source exactly ``docs`` (removes what changed); returns how many were new."""
        return self._write({chunk_id(d): d for d in docs}, source=source)

    def _write(self, docs: dict[str, Document], *, source: str | None = None) -> int:
        """Read what changes and embed it without the write lock (the slow part; nothing new: no lock), then write."""

        def missing(wanted: dict[str, Document]) -> dict[str, Document]:
            existing = set(self.store.get(ids=list(wanted), include=[])["ids"]) if wanted else set()
            return {i: d for i, d in wanted.items() if i not in existing}

        def stale() -> list[str]:
            where: Where = {"source": str(source)}
            return [i for i in self.store.get(where=where, include=[])["ids"] if i not in docs]

        new = missing(docs)
        if not new and not (source and stale()):
            return 0
        texts = [d.page_content for d in new.values()]
        vectors = dict(zip(new, self.embeddings.embed_documents(texts) if texts else [], strict=True))
        with self.writing():
            if source and (gone := stale()):
                self.store.delete(ids=gone)
            if new := missing(new):  # another command may have added some meanwhile
                self.collection.upsert(
                    ids=list(new),
                    embeddings=np.array([vectors[i] for i in new], dtype=np.float32),
                    documents=[d.page_content for d in new.values()],
                    metadatas=[d.metadata for d in new.values()],
                )
        return len(new)

    def stage_probabilities(self, query: str, vector: list[float] | None = None) -> dict[str, float]:
        """What stage a query is about, per the router (empty without one)."""
        if self.router is None:
            return {}
        vector = vector or self.embeddings.embed_query(query)
        return self.router.predict([query], np.array([vector]))[0]

    def search(
        self,
        query: str,
        *,
        k: int = 5,
        stage: str | None = None,
        kind: Kind | None = None,
        business: str | None = None,
        diversity: float = DIVERSITY,
        with_method: bool = False,
    ) -> list[Hit]:
        """The k best chunks: similar to the query, boosted by stage, diverse (MMR).

        With ``stage``, only chunks serving that stage are returned (general ones fill in if too
        few). Without it, the stage router's guess boosts the chunks of the stage the query is
        about. ``score`` is the boosted relevance in [0, 1]. ``business`` keeps one business's chunks (and, with
        ``with_method``, the method notes too).
        """
        vector = self.embeddings.embed_query(query)
        queries: list[PyEmbedding] = [vector]
        clauses: list[Where] = []
        if kind:
            clauses.append({"kind": kind})
        if business and with_method:  # the method notes and this business's facts, no other business's
            clauses.append({"$or": [{"kind": "method"}, {"business": business}]})
        elif business:
            clauses.append({"business": business})
        where: Where | None = None if not clauses else clauses[0] if len(clauses) == 1 else {"$and": clauses}
        fetch = max(FETCH_K, 4 * k)
        found = reloading(
            lambda: self.collection.query(
                query_embeddings=queries, n_results=fetch, where=where,
                include=["documents", "metadatas", "distances", "embeddings"],
            ),
            self._reload if self._reopen else None,
        )  # fmt: skip
        docs = found["documents"][0] if found["documents"] else []
        if not docs:
            return []
        metadatas, distances, embeddings = found["metadatas"], found["distances"], found["embeddings"]
        # Optional in chromadb's types (each is there only when asked for): include= asks for all of them.
        assert metadatas is not None and distances is not None and embeddings is not None
        metas = metadatas[0]
        sims = np.array([1.0 - d for d in distances[0]])
        vecs = np.array(embeddings[0])
        if stage:
            keep = [i for i, m in enumerate(metas) if m.get(f"s_{stage}")]
            keep += [i for i, m in enumerate(metas) if not m.get(f"s_{stage}") and m.get("stage") == "general"]
            if len(keep) < k:
                keep += [i for i in range(len(metas)) if i not in keep]
            boosts = np.array([1.0 if metas[i].get(f"s_{stage}") else 0.0 for i in range(len(metas))])
        else:
            keep = list(range(len(metas)))
            probs = self.stage_probabilities(query, vector)
            boosts = np.array([probs.get(str(m.get("stage")), 0.0) for m in metas])
        scores = (sims + STAGE_BOOST * boosts) / (1 + STAGE_BOOST)
        order = mmr(scores[keep], vecs[keep], k=k, diversity=diversity)
        return [
            Hit(
                text=str(docs[keep[i]]),
                source=str(metas[keep[i]].get("source", "")),
                stage=str(metas[keep[i]].get("stage", "")),
                kind=str(metas[keep[i]].get("kind", "")),
                topic=str(metas[keep[i]].get("topic", "")),
                score=round(float(np.clip(scores[keep[i]], 0, 1)), 4),
            )
            for i in order
        ]


def index_all(index: KnowledgeIndex, knowledge_dir: Path, profiles: Iterable[BusinessProfile] = ()) -> int:
    """Index the guide and the given profiles; returns how many chunks were new (only changed sources write)."""
    by_source: dict[str, list[Document]] = {}
    for doc in knowledge_documents(knowledge_dir):
        by_source.setdefault(str(doc.metadata["source"]), []).append(doc)
    for profile in profiles:
        by_source[f"profile:{profile.key}"] = profile_documents(profile)
    return sum(index.replace_source(source, docs) for source, docs in by_source.items())


def index_write_lock(path: Path, *, timeout_s: float = WRITE_LOCK_TIMEOUT_S) -> contextlib.AbstractContextManager[None]:
    """One writer at a time on a persistent index folder."""
    return exclusive(path, timeout_s=timeout_s, busy=lambda pid: IndexBusyError(
        f"The index is being updated by another command (pid {pid or '?'}); try again or set CVJ_CHROMA_URL to share "
        f"a Chroma server (waited {timeout_s:g} s)."
    ))  # fmt: skip
