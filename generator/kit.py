"""The journey kit: every stage's asset for one business, run as a small dependency graph.

Assets that build on others (the entry offer on the lead magnet, the upsell on the entry offer,
the referral reward on the ladder) run after their inputs; everything else runs concurrently under
a limit. Each finished asset is written atomically as it finishes, so a crash or Ctrl-C loses
nothing and a rerun redoes nothing; with the LLM response cache an identical rerun into a new
folder makes no model calls at all.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path

from langchain_core.language_models.chat_models import BaseChatModel
from pydantic import BaseModel, Field, ValidationError

from generator.assets import ASSET_TYPES, resolve_asset_type
from generator.chains import draft, load_angles
from generator.drafts import Draft, DraftRequest
from generator.errors import CVJError
from generator.evaluation.scoring import Evaluator
from generator.files import write_json_atomic
from generator.improve import best_version, draft_best, draft_until
from generator.journey import check_journey
from generator.kit_models import JourneyStep, KitEntry, KitReport, KitTotals
from generator.knowledge import KnowledgeIndex
from generator.profile import BusinessProfile
from generator.settings import Settings
from generator.stages import STAGE_IDS, StageId, load_stages, parse_stage_id

# What each default asset builds on (by asset type). Edges to stages left out of a kit are dropped.
BUILDS_ON: dict[str, tuple[str, ...]] = {
    "entry_offer": ("lead_magnet",),
    "onboarding_wow": ("entry_offer",),
    "ascension_offer": ("entry_offer",),
    "review_request": ("onboarding_wow",),
    "referral_program": ("ascension_offer",),
}


class KitItem(BaseModel):
    key: str
    stage: StageId
    asset_type: str
    variant: int | None = None
    depends_on: list[str] = Field(default_factory=list)


class KitOptions(BaseModel):
    concurrency: int = Field(default=4, ge=1, le=64)
    candidates: int = Field(default=1, ge=1, le=8, description="Draft N per asset, keep the one the eval ranks best")
    min_score: float | None = Field(default=None, ge=0, le=1)
    max_revisions: int = Field(default=2, ge=0)


def plan_kit(stages: list[str] | None = None, variants: int = 1) -> list[KitItem]:
    """One item per stage (its default asset type) and variant, with dependency edges."""
    stage_ids = [parse_stage_id(s) for s in stages] if stages else list(STAGE_IDS)
    types = {s: resolve_asset_type(s).asset_type for s in stage_ids}
    items = []
    for stage_id in STAGE_IDS:
        if stage_id not in types:
            continue
        asset_type = types[stage_id]
        deps = [d for d in BUILDS_ON.get(asset_type, ()) if d in types.values()]
        for n in range(1, variants + 1):
            suffix = f".v{n}" if variants > 1 else ""
            depends = [f"{resolve_stage(d)}.{d}{suffix}" for d in deps]
            items.append(
                KitItem(
                    key=f"{stage_id}.{asset_type}{suffix}",
                    stage=stage_id,
                    asset_type=asset_type,
                    variant=n if variants > 1 else None,
                    depends_on=depends,
                )
            )
    return items


def resolve_stage(asset_type: str) -> str:
    return ASSET_TYPES[asset_type].stage


def chain_heights(items: list[KitItem]) -> dict[str, int]:
    """For each item, the longest chain of items that wait on it (itself included)."""
    height = {i.key: 1 for i in items}
    for item in reversed(items):  # plan order is topological, so dependants come later
        for dep in item.depends_on:
            height[dep] = max(height[dep], height[item.key] + 1)
    return height


def critical_path(items: list[KitItem]) -> int:
    """The longest chain of dependent items (the graph's depth)."""
    depth: dict[str, int] = {}
    for item in items:  # plan order is topological
        depth[item.key] = 1 + max((depth[d] for d in item.depends_on), default=0)
    return max(depth.values(), default=0)


def _load_done(assets_dir: Path, items: list[KitItem]) -> dict[str, Draft]:
    done = {}
    for item in items:
        path = assets_dir / f"{item.key}.json"
        if path.exists():
            try:
                done[item.key] = Draft.model_validate_json(path.read_bytes())
            except (OSError, ValidationError):
                continue  # a damaged file is redone, not trusted
    return done


def run_kit(
    profile: BusinessProfile,
    items: list[KitItem],
    *,
    out_dir: Path,
    model: BaseChatModel,
    index: KnowledgeIndex | None,
    settings: Settings,
    evaluator: Evaluator | None = None,
    options: KitOptions | None = None,
    on_done: Callable[[KitEntry], None] | None = None,
) -> KitReport:
    """Draft (score, and revise to ``min_score``) every item; resume from ``out_dir`` if it has some."""
    options = options or KitOptions()
    started = time.perf_counter()
    counter = getattr(model, "request_counter", None)
    calls_before = counter.count if counter else 0
    assets_dir = out_dir / "assets"
    finished = _load_done(assets_dir, items)
    entries = {
        k: KitEntry(key=k, stage=d.stage, asset_type=d.asset_type, draft=d, cached=True) for k, d in finished.items()
    }
    for entry in entries.values():
        if on_done:
            on_done(entry)
    by_key = {i.key: i for i in items}

    def work(item: KitItem) -> KitEntry:
        t0 = time.perf_counter()
        earlier = {by_key[d].asset_type: finished[d] for d in item.depends_on if d in finished}
        request = DraftRequest(stage=item.stage, asset_type=item.asset_type)
        if item.variant:
            angles = load_angles(settings.prompts_dir)  # an angle, not "Variant 2": a small model echoes labels
            request.instructions = angles[(item.variant - 1) % len(angles)]
        try:
            if evaluator and options.min_score is not None:
                versions = draft_until(
                    profile, request, min_score=options.min_score, max_revisions=options.max_revisions,
                    model=model, index=index, settings=settings, evaluator=evaluator, earlier=earlier,
                    candidates=options.candidates,
                )  # fmt: skip
                result = best_version(versions)
            elif evaluator:
                result = draft_best(profile, request, candidates=options.candidates, model=model, index=index,
                                    settings=settings, evaluator=evaluator, earlier=earlier)  # fmt: skip
            else:
                result = draft(profile, request, model=model, index=index, settings=settings, earlier=earlier)
            result = result.model_copy(update={"variant": item.variant})
            write_json_atomic(assets_dir / f"{item.key}.json", result.model_dump(mode="json"))
            return KitEntry(key=item.key, stage=item.stage, asset_type=item.asset_type, draft=result,
                            seconds=round(time.perf_counter() - t0, 3))  # fmt: skip
        except CVJError as exc:
            return KitEntry(key=item.key, stage=item.stage, asset_type=item.asset_type, error=exc.message,
                            seconds=round(time.perf_counter() - t0, 3))  # fmt: skip

    # Longest chains first: the head of the critical path never waits behind an independent asset.
    heights = chain_heights(items)
    pending = sorted((i for i in items if i.key not in finished), key=lambda i: -heights[i.key])
    running: dict[Future[KitEntry], KitItem] = {}
    settled = set(finished)
    with ThreadPoolExecutor(max_workers=options.concurrency, thread_name_prefix="kit") as pool:
        try:
            while pending or running:
                ready = [i for i in pending if all(d in settled for d in i.depends_on)]
                for item in ready:
                    pending.remove(item)
                    running[pool.submit(work, item)] = item
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    item = running.pop(future)
                    entry = future.result()
                    entries[item.key] = entry
                    settled.add(item.key)
                    if entry.draft:
                        finished[item.key] = entry.draft
                    if on_done:
                        on_done(entry)
        except KeyboardInterrupt:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    ordered = [entries[i.key] for i in items if i.key in entries]
    return KitReport(
        journey=check_journey(profile, ordered, settings.knowledge_dir),
        business=profile.name,
        slug=profile.slug,
        profile=profile,
        entries=ordered,
        overview=journey_overview(profile, ordered),
        totals=totals(ordered, time.perf_counter() - started, (counter.count - calls_before) if counter else None),
    )


def totals(entries: list[KitEntry], wall_seconds: float, model_calls: int | None = None) -> KitTotals:
    """Sums over the kit; ``model_calls`` is the real request count when the model counts them."""
    drafts = [e.draft for e in entries if e.draft]
    fresh = [e.draft for e in entries if e.draft and not e.cached]
    verdicts = [d.evaluation.verdict for d in drafts if d.evaluation]
    return KitTotals(
        assets=len(drafts),
        failed=sum(1 for e in entries if e.error),
        passed=verdicts.count("passed"),
        needs_work=verdicts.count("needs work"),
        off_brief=verdicts.count("failed"),
        input_tokens=sum(d.meta.usage.input_tokens for d in drafts),
        output_tokens=sum(d.meta.usage.output_tokens for d in drafts),
        cost_usd=round(sum(d.meta.cost_usd for d in drafts), 6),
        wall_seconds=round(wall_seconds, 3),
        model_calls=model_calls if model_calls is not None else sum(d.meta.attempts for d in fresh),
    )


_HEADLINE_FIELDS = ("hook", "title", "subject_line", "name", "offer_name", "welcome_message", "program_name", "the_ask")


def journey_overview(profile: BusinessProfile, entries: list[KitEntry]) -> list[JourneyStep]:
    """One line per stage: what the prospect sees, the offer on the table, and the next step."""
    first: dict[str, KitEntry] = {}
    for candidate in entries:
        first.setdefault(candidate.stage, candidate)
    ladder = profile.offers
    offers = {
        "subscribe": ladder.lead_magnet.name if ladder.lead_magnet else "a free lead magnet",
        "convert": ladder.entry_offer.name if ladder.entry_offer else "an entry-point offer",
        "ascend": ladder.core_offer.name,
    }
    steps = []
    for stage in load_stages():
        entry = first.get(stage.id)
        if entry is None:
            continue
        sees = "not drafted"
        evaluation = entry.draft.evaluation if entry.draft else None
        if entry.draft:
            asset = entry.draft.asset
            sees = next((str(asset[f]) for f in _HEADLINE_FIELDS if f in asset), entry.draft.typed().label)
        if evaluation and evaluation.verdict == "failed":  # never presented as done
            sees = f"not usable: {'; '.join(evaluation.problems(1))}"
        score = evaluation.score if evaluation else None
        steps.append(
            JourneyStep(
                stage=stage.id,
                stage_name=stage.name,
                prospect_sees=sees[:200],
                offer=offers.get(stage.id, "free content" if stage.number <= 2 else "-"),
                next_step=stage.next_step,
                score=score,
                verdict=evaluation.verdict if evaluation else None,
            )
        )
    return steps
