"""The knowledge index: CVJ method notes and each business's facts in one Chroma collection.

Chunks carry ``kind`` (method | business), ``stage`` (primary stage or ``general``), one boolean
flag per stage they serve (``s_<stage>``, so Chroma can filter on any of them), ``source`` and
``topic``. Chunk ids are content hashes, so indexing twice adds nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

import yaml
from langchain_chroma import Chroma
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_text_splitters import MarkdownHeaderTextSplitter, RecursiveCharacterTextSplitter
from pydantic import BaseModel

from generator.profile import BusinessProfile
from generator.settings import Settings
from generator.stages import STAGE_IDS
from generator.tokens import ensure_tiktoken_cache

Kind = Literal["method", "business"]
CHUNK_TOKENS = 320
CHUNK_OVERLAP = 40


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


def _split_front_matter(text: str) -> tuple[dict[str, object], str]:
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


def split_markdown(text: str, base: dict[str, object]) -> list[Document]:
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
        front, body = _split_front_matter(path.read_text(encoding="utf-8"))
        stages = front.get("stages") or []
        base = {"source": path.name, "kind": "method", "business": "", **stage_metadata(stages)}  # type: ignore[arg-type]
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
        meta = {"source": f"profile:{p.slug}", "kind": "business", "business": p.slug, "topic": topic}
        docs.append(Document(page_content=text, metadata={**meta, **stage_metadata(stages)}))
    return docs


def chunk_id(doc: Document) -> str:
    key = f"{doc.metadata.get('source')}\n{doc.metadata.get('business')}\n{doc.page_content}"
    return hashlib.sha1(key.encode("utf-8")).hexdigest()


class KnowledgeIndex:
    """A Chroma collection with stage-aware search."""

    def __init__(self, store: Chroma) -> None:
        self.store = store

    @classmethod
    def open(cls, settings: Settings, *, embeddings: Embeddings, embedding_id: str) -> KnowledgeIndex:
        """The persistent collection for these embeddings (one collection per embedding model)."""
        name = f"cvj-{embedding_id}".replace(".", "-")
        meta = {"hnsw:space": "cosine"}
        settings.index_dir.mkdir(parents=True, exist_ok=True)
        store = Chroma(
            collection_name=name,
            embedding_function=embeddings,
            persist_directory=str(settings.index_dir),
            collection_metadata=meta,
        )
        return cls(store)

    def count(self) -> int:
        return int(self.store._collection.count())

    def add(self, docs: list[Document]) -> int:
        """Add chunks not yet present; returns how many were new."""
        if not docs:
            return 0
        ids = [chunk_id(d) for d in docs]
        unique = dict(zip(ids, docs, strict=True))
        existing = set(self.store.get(ids=list(unique), include=[])["ids"])
        new = {i: d for i, d in unique.items() if i not in existing}
        if new:
            self.store.add_documents(list(new.values()), ids=list(new))
        return len(new)

    def replace_source(self, source: str, docs: list[Document]) -> int:
        """Make the chunks of one source exactly ``docs`` (removes what changed)."""
        keep = {chunk_id(d) for d in docs}
        old = set(self.store.get(where={"source": source}, include=[])["ids"])
        stale = old - keep
        if stale:
            self.store.delete(ids=list(stale))
        return self.add(docs)

    def search(
        self,
        query: str,
        *,
        k: int = 5,
        stage: str | None = None,
        kind: Kind | None = None,
        business: str | None = None,
    ) -> list[Hit]:
        """Nearest chunks, optionally only those serving ``stage``, of one kind or one business."""
        clauses: list[dict[str, object]] = []
        if stage:
            clauses.append({f"s_{stage}": True})
        if kind:
            clauses.append({"kind": kind})
        if business:
            clauses.append({"business": business})
        where = None if not clauses else clauses[0] if len(clauses) == 1 else {"$and": clauses}
        results = self.store.similarity_search_with_score(query, k=k, filter=where)
        return [
            Hit(
                text=doc.page_content,
                source=str(doc.metadata.get("source", "")),
                stage=str(doc.metadata.get("stage", "")),
                kind=str(doc.metadata.get("kind", "")),
                topic=str(doc.metadata.get("topic", "")),
                score=round(1.0 - float(distance), 4),
            )
            for doc, distance in results
        ]


def index_all(index: KnowledgeIndex, knowledge_dir: Path, profiles: Iterable[BusinessProfile] = ()) -> int:
    """Index the guide and the given profiles; returns how many chunks were new."""
    added = 0
    by_source: dict[str, list[Document]] = {}
    for doc in knowledge_documents(knowledge_dir):
        by_source.setdefault(str(doc.metadata["source"]), []).append(doc)
    for profile in profiles:
        by_source[f"profile:{profile.slug}"] = profile_documents(profile)
    for source, docs in by_source.items():
        added += index.replace_source(source, docs)
    return added
