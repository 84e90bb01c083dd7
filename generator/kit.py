"""The journey kit: every stage's asset for one business, run as a small dependency graph (``kit_plan``'s).

Assets that build on others (the entry offer on the lead magnet, the upsell on the entry offer,
the referral reward on the ladder) run after their inputs; everything else runs concurrently under
a limit. Each finished asset is written atomically as it finishes, with a stamp of the profile and
prompt versions it was written for, so a crash or Ctrl-C loses nothing and a rerun redoes nothing
that still holds; with the LLM response cache an identical rerun into a new folder makes no model calls.

Faults stay in their asset: an error in one (a model server gone, an unexpected exception, an asset
past its deadline, ``CVJ_ASSET_DEADLINE_S``) fails that asset with the reason in its entry, and the kit
goes on to finish and report the rest.
"""

from __future__ import annotations

import hashlib
import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models.chat_models import BaseChatModel
from pydantic import BaseModel, Field

from generator.chains import draft, load_angles
from generator.drafts import Draft, DraftRequest
from generator.errors import CVJError
from generator.evaluation.scoring import Evaluator
from generator.files import write_json_atomic
from generator.improve import best_version, draft_best, draft_until
from generator.journey import check_journey
from generator.kit_models import KitEntry, KitReport, KitStamp, journey_overview, totals
from generator.kit_plan import KitItem, chain_heights, critical_path, plan_kit
from generator.knowledge import KnowledgeIndex
from generator.profile import BusinessProfile
from generator.prompting import FRAME_PROMPT_ID, SYSTEM_PROMPT_ID, load_prompt
from generator.settings import Settings

__all__ = ["KitItem", "KitOptions", "chain_heights", "critical_path", "journey_overview", "plan_kit", "run_kit",
           "totals"]  # fmt: skip
log = logging.getLogger(__name__)
STAMP_KEY = "kit_stamp"  # beside the draft's own fields in assets/<key>.json (a Draft ignores it when loaded)
SUPERSEDED = "superseded"  # assets/superseded/: files found in the folder but not reused


class KitOptions(BaseModel):
    concurrency: int = Field(default=4, ge=1, le=64)
    candidates: int = Field(default=1, ge=1, le=8, description="Draft N per asset, keep the one the eval ranks best")
    min_score: float | None = Field(default=None, ge=0, le=1)
    max_revisions: int = Field(default=2, ge=0)


def stamp_for(profile: BusinessProfile, settings: Settings, asset_type: str) -> KitStamp | None:
    """What an asset of this type drafted now is written for (None: its prompts cannot be read, so no reuse)."""
    try:
        ids = (asset_type, FRAME_PROMPT_ID, SYSTEM_PROMPT_ID)
        prompts = {p.id: p.version for p in (load_prompt(settings.prompts_dir, i) for i in ids)}
    except CVJError:
        return None
    # Without an id or a voice the hash is the one of before those fields existed, so older kits still resume.
    data = profile.model_dump(mode="json", exclude={f for f in ("id", "voice") if getattr(profile, f) is None})
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False)
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    return KitStamp(business=profile.name, profile_sha256=digest, prompts=prompts)


def _load_done(
    assets_dir: Path, items: list[KitItem], stamps: dict[str, KitStamp | None]
) -> tuple[dict[str, Draft], list[str]]:
    """The asset files that still hold, and a line for each one set aside (moved to assets/superseded/)."""
    done: dict[str, Draft] = {}
    set_aside: list[str] = []
    for item in items:
        path = assets_dir / f"{item.key}.json"
        if not path.exists():
            continue
        try:
            data = json.loads(path.read_bytes())
            found = Draft.model_validate(data)
            why = _why_not_reused(data.get(STAMP_KEY), stamps[item.key])
        except (OSError, ValueError) as exc:  # ValidationError and JSONDecodeError are ValueErrors
            why = f"it cannot be read ({type(exc).__name__})"
        if why is None:
            done[item.key] = found
            continue
        moved = move_aside(path)
        log.info("kit: %s not reused, %s; moved to %s", path, why, moved)
        set_aside.append(f"{item.key}: {why} (moved to {moved.relative_to(assets_dir)})")
    return done, set_aside


def _why_not_reused(stamp: object, now: KitStamp | None) -> str | None:
    if stamp is None:
        return "it has no kit stamp"
    return "its prompts cannot be read now" if now is None else KitStamp.model_validate(stamp).differs(now)


def move_aside(path: Path) -> Path:
    """Move a file that will be redone to assets/superseded/<name>.<n>.json, never over an earlier one."""
    folder = path.parent / SUPERSEDED
    folder.mkdir(exist_ok=True)
    n = 1
    while (target := folder / f"{path.stem}.{n}{path.suffix}").exists():
        n += 1
    path.replace(target)
    return target


class _StopWhen(BaseCallbackHandler):
    """Refuses every model call once ``stop`` is set: an asset past its deadline makes no more requests."""

    raise_error = True

    def __init__(self, stop: threading.Event, key: str) -> None:
        self.stop, self.key = stop, key

    def on_chat_model_start(self, serialized: dict[str, Any], messages: Any, *, run_id: UUID, **kwargs: Any) -> None:
        if self.stop.is_set():
            raise CVJError(f"{self.key} was stopped at its deadline; no more model calls for it.")


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
    should_stop: Callable[[], bool] | None = None,
) -> KitReport:
    """Draft (score, and revise to ``min_score``) every item; resume from ``out_dir`` if it has some.

    It always returns a report: an asset that raises (anything, not only a CVJ error) or runs past
    ``settings.asset_deadline_s`` is failed with the reason in its entry, and the others go on. Once
    ``should_stop()`` says so (asked before assets start) no new asset starts: those in flight finish and are kept,
    and those not started are left out of the report."""
    options = options or KitOptions()
    started = time.perf_counter()
    counter = getattr(model, "request_counter", None)
    calls_before = counter.count if counter else 0
    assets_dir = out_dir / "assets"
    stamps = {i.key: stamp_for(profile, settings, i.asset_type) for i in items}
    finished, set_aside = _load_done(assets_dir, items, stamps)
    entries = {
        k: KitEntry(key=k, stage=d.stage, asset_type=d.asset_type, draft=d, cached=True) for k, d in finished.items()
    }
    for entry in entries.values():
        if on_done:
            on_done(entry)
    by_key = {i.key: i for i in items}

    def work(item: KitItem, stop: threading.Event) -> KitEntry:
        t0 = time.perf_counter()
        earlier = {by_key[d].asset_type: finished[d] for d in item.depends_on if d in finished}
        request = DraftRequest(stage=item.stage, asset_type=item.asset_type)
        guarded = cast(BaseChatModel, model.with_config(callbacks=[_StopWhen(stop, item.key)]))
        try:
            if item.variant:
                angles = load_angles(settings.prompts_dir)  # an angle, not "Variant 2": a small model echoes labels
                request.instructions = angles[(item.variant - 1) % len(angles)]
            if evaluator and options.min_score is not None:
                versions = draft_until(
                    profile, request, min_score=options.min_score, max_revisions=options.max_revisions,
                    model=guarded, index=index, settings=settings, evaluator=evaluator, earlier=earlier,
                    candidates=options.candidates,
                )  # fmt: skip
                result = best_version(versions)
            elif evaluator:
                result = draft_best(profile, request, candidates=options.candidates, model=guarded, index=index,
                                    settings=settings, evaluator=evaluator, earlier=earlier)  # fmt: skip
            else:
                result = draft(profile, request, model=guarded, index=index, settings=settings, earlier=earlier)
            result = result.model_copy(update={"variant": item.variant})
            if stop.is_set():  # past its deadline: the kit has moved on, so nothing is written behind its back
                raise CVJError("finished after its deadline")
            stamp = stamps[item.key]
            written = {**result.model_dump(mode="json"), **({STAMP_KEY: stamp.model_dump()} if stamp else {})}
            write_json_atomic(assets_dir / f"{item.key}.json", written)
            return KitEntry(key=item.key, stage=item.stage, asset_type=item.asset_type, draft=result,
                            seconds=round(time.perf_counter() - t0, 3))  # fmt: skip
        except CVJError as exc:
            error = exc.message
        except Exception as exc:  # one asset's fault (a locked database, a client bug) is not the kit's
            log.warning("kit: %s failed with %s: %s", item.key, type(exc).__name__, exc)
            log.debug("kit: %s traceback", item.key, exc_info=True)
            error = f"Unexpected {type(exc).__name__}: {exc}"
        return KitEntry(key=item.key, stage=item.stage, asset_type=item.asset_type, error=error,
                        seconds=round(time.perf_counter() - t0, 3))  # fmt: skip

    results: queue.SimpleQueue[tuple[str, KitEntry]] = queue.SimpleQueue()
    stops: dict[str, threading.Event] = {}
    began: dict[str, float] = {}

    def start(item: KitItem) -> None:
        stops[item.key], began[item.key] = threading.Event(), time.monotonic()

        def run() -> None:
            try:
                entry = work(item, stops[item.key])
            except BaseException as exc:  # the scheduler must hear back whatever happens
                entry = KitEntry(key=item.key, stage=item.stage, asset_type=item.asset_type, error=repr(exc))
            results.put((item.key, entry))

        # Daemon threads, not a pool: one stopped at its deadline may still sit in an HTTP call, and neither the
        # kit nor the process waits for it (its own model calls are refused from then on).
        threading.Thread(target=run, name=f"kit-{item.key}", daemon=True).start()

    def settle(key: str, entry: KitEntry) -> None:
        entries[key] = entry
        settled.add(key)
        if entry.draft:
            finished[key] = entry.draft
        if on_done:
            on_done(entry)

    # Longest chains first (a FIFO of ready items): the head of the critical path never waits behind an
    # independent asset.
    heights = chain_heights(items)
    waiting = sorted((i for i in items if i.key not in finished), key=lambda i: -heights[i.key])
    ready: list[KitItem] = []
    running: dict[str, KitItem] = {}
    settled = set(finished)
    limit = settings.asset_deadline_s
    try:
        while waiting or ready or running:
            if should_stop is not None and (waiting or ready) and should_stop():
                log.info("kit: asked to stop; %d asset(s) not started", len(waiting) + len(ready))
                waiting.clear()
                ready.clear()
            for item in [i for i in waiting if all(d in settled or d not in by_key for d in i.depends_on)]:
                waiting.remove(item)
                ready.append(item)
            while ready and len(running) < options.concurrency:
                item = ready.pop(0)
                running[item.key] = item
                start(item)
            if not running:  # only a hand-made plan with a cycle gets here
                for item in waiting:
                    settle(item.key, KitEntry(key=item.key, stage=item.stage, asset_type=item.asset_type,
                                              error="It waits on itself through its dependencies."))  # fmt: skip
                break
            try:
                key, entry = results.get(timeout=max(0.0, min(began[k] for k in running) + limit - time.monotonic()))
                if running.pop(key, None) is not None:  # else: a late answer from an asset already stopped
                    settle(key, entry)
            except queue.Empty:
                pass
            now = time.monotonic()
            for key in [k for k in running if now - began[k] >= limit]:
                item = running.pop(key)
                stops[key].set()
                log.warning("kit: %s stopped at its deadline (%g s)", key, limit)
                reason = f"Stopped: not finished within {limit:g} s (CVJ_ASSET_DEADLINE_S); the kit went on without it."
                settle(key, KitEntry(key=key, stage=item.stage, asset_type=item.asset_type, error=reason,
                                     seconds=round(now - began[key], 3)))  # fmt: skip
    except KeyboardInterrupt:
        for stop in stops.values():
            stop.set()
        raise
    ordered = [entries[i.key] for i in items if i.key in entries]
    try:
        journey = check_journey(profile, ordered, settings.knowledge_dir)
    except Exception as exc:  # the journey check is a report on the kit, never a reason to lose it
        log.warning("kit: the journey check failed with %s: %s", type(exc).__name__, exc)
        journey = None
    return KitReport(
        journey=journey,
        business=profile.name,
        slug=profile.slug,
        profile=profile,
        entries=ordered,
        overview=journey_overview(profile, ordered),
        totals=totals(ordered, time.perf_counter() - started, (counter.count - calls_before) if counter else None),
        set_aside=set_aside,
    )
