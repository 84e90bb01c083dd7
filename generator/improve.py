"""Draft, score, and revise with the eval's reasons until the draft passes a minimum score.

Every version is kept (returned in order, and written by the caller), so a budget that runs out
still leaves the best attempt and its history.
"""

from __future__ import annotations

from collections.abc import Callable

from langchain_core.language_models.chat_models import BaseChatModel

from generator.chains import draft
from generator.drafts import Draft, DraftRequest
from generator.evaluation.rule_scorers import Subject
from generator.evaluation.scoring import AssetScore, Evaluator
from generator.knowledge import KnowledgeIndex
from generator.profile import BusinessProfile
from generator.revision import revise
from generator.settings import Settings


def score_draft(evaluator: Evaluator, result: Draft, profile: BusinessProfile | None) -> AssetScore:
    return evaluator.score(Subject.of_draft(result, profile))


def draft_until(
    profile: BusinessProfile,
    request: DraftRequest,
    *,
    min_score: float,
    max_revisions: int,
    model: BaseChatModel,
    index: KnowledgeIndex | None,
    settings: Settings,
    evaluator: Evaluator,
    earlier: dict[str, Draft] | None = None,
    on_version: Callable[[Draft], None] | None = None,
) -> list[Draft]:
    """All versions, oldest first; the last one passed ``min_score`` or the budget ran out."""
    current = draft(profile, request, model=model, index=index, settings=settings, earlier=earlier)
    versions: list[Draft] = []
    for attempt in range(max_revisions + 1):
        verdict = score_draft(evaluator, current, profile)
        current = current.model_copy(update={"evaluation": verdict})
        versions.append(current)
        if on_version:
            on_version(current)
        if verdict.score >= min_score or attempt == max_revisions:
            break
        instruction = f"Raise its quality score from {verdict.score:.2f} to {min_score:.2f}. Fix: {verdict.critique()}"
        current = revise(current, instruction, model=model, settings=settings, profile=profile)
    return versions


def best_version(versions: list[Draft]) -> Draft:
    """The highest-scoring version (the latest among equals)."""
    return max(reversed(versions), key=lambda d: d.evaluation.score if d.evaluation else 0.0)
