"""The Journey tab: the kit for the business in use as a map; draft the whole kit with per-asset progress (Stop
lets the assets in flight finish and keeps them; pressing it again resumes, since a kit reuses what its folder
holds), redo one stage, put a draft from the Draft tab into the kit, and download it as md, docx, html or json.

A business's kit lives in ``<data dir>/kits/<business key>/``, laid out as ``cvj kit`` lays out its folders, so
``cvj kit --out <data dir>/kits`` and the studio resume each other's kits (for a profile without an ``id``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from generator.assets import resolve_asset_type
from generator.drafts import Draft
from generator.export import FORMATS, ExportError, export_kit
from generator.files import write_json_atomic
from generator.kit import STAMP_KEY, KitItem, move_aside, plan_kit, run_kit, stamp_for
from generator.kit_models import KitEntry, KitReport
from generator.profile import BusinessProfile
from generator.service import DraftingService
from generator.stages import STAGE_IDS, get_stage
from generator.ui_common import Background, Studio, downloadable, friendly, parse_profile, set_stop, stop_flag
from generator.ui_journey_map import cards, journey_html


def saved_kit(service: DraftingService, profile: BusinessProfile, folder: Path) -> KitReport:
    """What the kit folder holds now, with the journey check over it (drafts nothing: asked to stop at once)."""
    return run_kit(profile, plan_kit(), out_dir=folder, model=service.model, index=None, settings=service.settings,
                   should_stop=lambda: True)  # fmt: skip


def put_in_kit(service: DraftingService, profile: BusinessProfile, folder: Path, result: Draft) -> Path:
    """Make a draft (picked, revised or edited on the Draft tab) its stage's asset in the kit."""
    kit_type = resolve_asset_type(result.stage).asset_type
    if result.asset_type != kit_type:
        label = resolve_asset_type(result.stage).label.lower()
        raise gr.Error(f"The kit's {get_stage(result.stage).name} asset is a {label}; draft that type to put it in.")
    if result.business != profile.name:
        raise gr.Error(f"This draft is for {result.business}, not {profile.name}.")
    stamp = stamp_for(profile, service.settings, kit_type)
    path = folder / "assets" / f"{result.stage}.{kit_type}.json"
    if path.exists():
        move_aside(path)
    kept = result.model_copy(update={"variant": None}).model_dump(mode="json")
    write_json_atomic(path, {**kept, **({STAMP_KEY: stamp.model_dump()} if stamp else {})})
    return path


def summary(report: KitReport, *, stopped: bool = False, seconds: float | None = None) -> str:
    t = report.totals
    done = f"{t.assets} of 8 assets drafted: {t.passed} passed, {t.needs_work} need work, {t.off_brief} failed the eval"
    done += f", {t.failed} not drafted" if t.failed else ""
    if stopped:
        return f"**Stopped.** {done}. Press **Draft the whole kit** to finish the rest (what is done is kept)."
    breaks = len(report.journey.breaks) if report.journey else 0
    took = f" Drafted in {seconds:.0f} s." if seconds is not None else ""
    return f"**{done}.** Journey check: {breaks or 'no'} break(s).{took}"


def _exported(report: KitReport, folder: Path) -> tuple[list[str], str]:
    if not report.entries:
        return [], ""
    try:
        return downloadable(export_kit(report, folder, FORMATS)), ""
    except ExportError as exc:
        gr.Warning(exc.message)
        written = exc.details.get("written", []) if isinstance(exc.details, dict) else []
        return downloadable([Path(p) for p in written]), f" {exc.message}"


def kit_steps(
    studio: Studio, profile_text: str, stop: threading.Event, *, only: str | None = None
) -> Iterator[tuple[str, str, Any]]:
    """Draft the kit (or redo one stage), yielding (map, status, downloads) as each asset finishes."""
    profile = parse_profile(profile_text)
    service = studio.service()
    folder = studio.folder("kits", profile)
    plan = plan_kit()
    items: list[KitItem] = plan
    if only is not None:
        (item,) = [i for i in plan if i.stage == only]
        if (path := folder / "assets" / f"{item.key}.json").exists():
            move_aside(path)
        items = [i for i in plan if i.key == item.key or (folder / "assets" / f"{i.key}.json").exists()]
    entries: dict[str, KitEntry] = {}

    def work(report: Callable[[KitEntry], None]) -> KitReport:
        service.ensure_indexed(profile)
        return run_kit(profile, items, out_dir=folder, model=service.model, index=service.index,
                       settings=service.settings, evaluator=service.evaluator(), on_done=report,
                       should_stop=stop.is_set)  # fmt: skip

    running = Background(work)
    for batch in running:
        entries.update((e.key, e) for e in batch)
        pending: set[str] = {i.stage for i in items if i.key not in entries}
        fresh = sum(1 for e in entries.values() if not e.cached)
        status = f"Drafting: {len(entries)} of {len(items)} assets ready ({fresh} new this run)."
        if stop.is_set():
            status += " Stopping once the assets in flight finish (they are kept)..."
        yield journey_html(cards(list(entries.values()), pending=pending)), status, gr.update()
    done = running.result
    assert done is not None
    full = saved_kit(service, profile, folder) if only is not None else done
    files, problem = _exported(full, folder)
    took = done.totals.wall_seconds
    yield journey_html(cards(full.entries, full)), summary(full, stopped=stop.is_set(), seconds=took) + problem, files


def build_journey_tab(studio: Studio, state: gr.State, flags: gr.State) -> tuple[Callable[[str], list[Any]], list[Any]]:
    """The tab's layout and events; returns the function that shows the saved kit (run when the tab opens) and
    what it updates."""
    gr.Markdown(
        "The whole journey for the business in use. **Draft the whole kit** drafts and scores every stage's asset "
        "(each card fills in as it finishes); Stop keeps what is done, and drafting again resumes."
    )
    status = gr.Markdown(elem_id="kit-status")
    board = gr.HTML(journey_html(cards([])), elem_id="journey-map")
    with gr.Row():
        run = gr.Button("Draft the whole kit", variant="primary", elem_id="kit-run")
        stop = gr.Button("Stop the kit", variant="stop", elem_id="kit-stop")
        refresh = gr.Button("Refresh", elem_id="kit-refresh")
    with gr.Row():
        stage = gr.Dropdown([(get_stage(s).name, s) for s in STAGE_IDS], value="aware", label="Redo one stage", scale=2)
        redo = gr.Button("Redo this stage", scale=1)
    files = gr.File(label="Download the kit (md, docx, html, json)", file_count="multiple", elem_id="kit-files")
    outputs = [board, status, files]

    @friendly
    def show(profile_text: str) -> list[Any]:
        if not (profile_text or "").strip():
            return [journey_html(cards([])), "Choose a business on the Business tab first.", None]
        profile = parse_profile(profile_text)
        folder = studio.folder("kits", profile)
        report = saved_kit(studio.service(), profile, folder)
        if not report.entries:
            return [journey_html(cards([])), f"No kit for {profile.name} yet: press **Draft the whole kit**.", None]
        files_out, problem = _exported(report, folder)
        return [journey_html(cards(report.entries, report)), summary(report) + problem, files_out]

    @friendly
    def on_run(profile_text: str, stop_flags: dict[str, threading.Event]) -> Iterator[list[Any]]:
        yield [gr.update(), "Starting the kit (the first run also loads the eval)...", gr.update()]
        for step in kit_steps(studio, profile_text, stop_flag(stop_flags, "kit")):
            yield list(step)

    @friendly
    def on_redo(profile_text: str, stage_id: str, stop_flags: dict[str, threading.Event]) -> Iterator[list[Any]]:
        if stage_id not in STAGE_IDS:
            raise gr.Error("Choose the stage to redo.")
        yield [gr.update(), f"Redoing {get_stage(stage_id).name} (the old asset is kept in assets/superseded/)...",
               gr.update()]  # fmt: skip
        for step in kit_steps(studio, profile_text, stop_flag(stop_flags, "kit"), only=stage_id):
            yield list(step)

    def on_stop(stop_flags: dict[str, threading.Event]) -> str:
        set_stop(stop_flags, "kit")
        return "Stopping: no new asset starts; those in flight finish and are kept..."

    run.click(on_run, [state, flags], outputs, api_visibility="private", show_progress="minimal", concurrency_id="kit")
    redo.click(
        on_redo, [state, stage, flags], outputs, api_visibility="private", show_progress="minimal", concurrency_id="kit"
    )
    stop.click(on_stop, [flags], [status], api_visibility="private", queue=False)
    refresh.click(show, [state], outputs, api_visibility="private")
    return show, outputs
