"""Better drafts from the eval: best of N candidates, and revising with the eval's reasons to a minimum score.

Nothing is thrown away: the losing candidates stay in the winner's ``alternatives``, and every revision is
returned in order (the caller writes them), so a budget that runs out still leaves the best attempt.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from langchain_core.language_models.chat_models import BaseChatModel

from generator.chains import draft
from generator.drafts import Alternative, Draft, DraftRequest, Usage
from generator.errors import CVJError
from generator.evaluation.rule_scorers import Subject
from generator.evaluation.scoring import AssetScore, Evaluator
from generator.knowledge import KnowledgeIndex
from generator.profile import BusinessProfile
from generator.revision import revise
from generator.settings import Settings


def score_draft(evaluator: Evaluator, result: Draft, profile: BusinessProfile | None) -> AssetScore:
    return evaluator.score(Subject.of_draft(result, profile))


CANDIDATE_REPAIRS = 1


def rank(result: Draft) -> tuple[bool, bool, float]:
    """How the eval orders candidates: on brief first, then passed, then the score."""
    scored = result.evaluation
    if scored is None:
        return (False, False, 0.0)
    return (scored.verdict != "failed", scored.passed, scored.score)


def draft_best(
    profile: BusinessProfile,
    request: DraftRequest,
    *,
    candidates: int,
    model: BaseChatModel,
    index: KnowledgeIndex | None,
    settings: Settings,
    evaluator: Evaluator,
    earlier: dict[str, Draft] | None = None,
) -> Draft:
    """Draft ``candidates`` versions (a different seed each), score them, keep the one the eval ranks highest; the
    others go into its ``alternatives``. One candidate is a plain draft, scored. On a one-slot local server the
    candidates run back to back (so they reuse one prefill); elsewhere at once."""

    # With several candidates the choice between them does the repairing: one re-ask each, not the full budget.
    budget = settings.model_copy(update={"repair_attempts": min(settings.repair_attempts, CANDIDATE_REPAIRS)})

    def one(seed: int) -> Draft:
        seeded = model.bind(seed=seed) if candidates > 1 else model
        use = budget if candidates > 1 else settings
        result = draft(profile, request, model=seeded, index=index, settings=use, earlier=earlier)  # type: ignore[arg-type]
        return result.model_copy(update={"evaluation": score_draft(evaluator, result, profile)})

    seeds = list(range(1, candidates + 1))
    group = getattr(model, "prompt_group", None)
    outcomes: list[Draft | CVJError] = []
    if group is not None:  # one slot: the candidates back to back, each after the first reusing the whole prompt
        with group:
            outcomes = [_attempt(one, seed) for seed in seeds]
    else:  # a server that runs requests in parallel: all at once
        with ThreadPoolExecutor(max_workers=candidates, thread_name_prefix="candidate") as pool:
            outcomes = list(pool.map(lambda seed: _attempt(one, seed), seeds))
    drafted = [(seed, o) for seed, o in zip(seeds, outcomes, strict=True) if isinstance(o, Draft)]
    errors = [o for o in outcomes if isinstance(o, CVJError)]
    if not drafted:
        raise errors[0]
    ordered = sorted(drafted, key=lambda pair: rank(pair[1]), reverse=True)
    best = ordered[0][1]
    others = [Alternative(asset=d.asset, evaluation=d.evaluation, seed=seed) for seed, d in ordered[1:]]
    usage = Usage()  # the draft's cost is every candidate's: what it took to get it
    for _, candidate in drafted:
        usage.add(candidate.meta.usage.model_dump())
    cost = round(sum(candidate.meta.cost_usd for _, candidate in drafted), 6)
    meta = best.meta.model_copy(update={"usage": usage, "cost_usd": cost})
    return best.model_copy(update={"alternatives": others, "meta": meta})


def _attempt(work: Callable[[int], Draft], seed: int) -> Draft | CVJError:
    try:
        return work(seed)
    except CVJError as exc:
        return exc


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
    on_version: Callable[[Draft], object] | None = None,
    candidates: int = 1,
) -> list[Draft]:
    """All versions, oldest first; the last one passed ``min_score`` or the budget ran out. The first version is
    the best of ``candidates``."""
    current = draft_best(profile, request, candidates=candidates, model=model, index=index, settings=settings,
                         evaluator=evaluator, earlier=earlier)  # fmt: skip
    versions: list[Draft] = []
    for attempt in range(max_revisions + 1):
        verdict = current.evaluation or score_draft(evaluator, current, profile)
        current = current.model_copy(update={"evaluation": verdict})
        versions.append(current)
        if on_version:
            on_version(current)
        if (verdict.passed and verdict.score >= min_score) or attempt == max_revisions:
            break
        instruction = f"Raise its quality score from {verdict.score:.2f} to {min_score:.2f}. Fix: {verdict.critique()}"
        current = revise(current, instruction, model=model, settings=settings, profile=profile)
    return versions


def best_version(versions: list[Draft]) -> Draft:
    """The highest-scoring version (the latest among equals)."""
    return max(reversed(versions), key=rank)
