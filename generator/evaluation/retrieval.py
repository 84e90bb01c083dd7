"""Retrieval quality on a labelled query set: hit@1 stage accuracy and recall@k of sources."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from generator.errors import DocumentError
from generator.knowledge import KnowledgeIndex
from generator.stages import StageId


class RetrievalCase(BaseModel):
    """A query and what answers it: the stage, and the knowledge files."""

    model_config = ConfigDict(extra="forbid")

    query: str = Field(min_length=1)
    stage: StageId
    sources: list[str] = Field(default_factory=list)


class Miss(BaseModel):
    query: str
    expected: str
    got: str


class RetrievalReport(BaseModel):
    cases: int
    k: int
    hit_at_1_stage: float = Field(description="Share of queries whose top chunk serves the expected stage")
    recall_at_k: float = Field(description="Mean share of expected sources found in the top k")
    per_stage: dict[str, float] = Field(description="hit@1 stage accuracy per expected stage")
    misses: list[Miss]


def load_cases(path: Path) -> list[RetrievalCase]:
    try:
        return TypeAdapter(list[RetrievalCase]).validate_python(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise DocumentError(f"{path} is not a valid retrieval query set: {exc}") from None


def evaluate_retrieval(index: KnowledgeIndex, cases: list[RetrievalCase], *, k: int = 5) -> RetrievalReport:
    """Search each query without a stage filter, as a user would, and score the results."""
    hits_by_stage: dict[str, list[bool]] = defaultdict(list)
    recalls: list[float] = []
    misses: list[Miss] = []
    for case in cases:
        hits = index.search(case.query, k=k, kind="method")
        top_stage = hits[0].stage if hits else ""
        hits_by_stage[case.stage].append(top_stage == case.stage)
        if top_stage != case.stage:
            misses.append(Miss(query=case.query, expected=case.stage, got=top_stage or "(nothing)"))
        if case.sources:
            found = {h.source for h in hits}
            recalls.append(len(found & set(case.sources)) / len(case.sources))
    flat = [hit for values in hits_by_stage.values() for hit in values]
    return RetrievalReport(
        cases=len(cases),
        k=k,
        hit_at_1_stage=round(sum(flat) / len(flat), 4) if flat else 0.0,
        recall_at_k=round(sum(recalls) / len(recalls), 4) if recalls else 0.0,
        per_stage={s: round(sum(v) / len(v), 4) for s, v in hits_by_stage.items()},
        misses=misses,
    )
