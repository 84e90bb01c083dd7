"""The Journey tab: the kit for the business in use as a map; draft the whole kit with per-asset progress (Stop
lets the assets in flight finish and keeps them; pressing it again resumes, since a kit reuses what its folder
holds), with extra asset types besides each stage's own (``cvj kit --add-types``), redo one stage, put a draft from
the Draft tab into the kit, and download it as md, docx, html or json, and the journey's schedule as ics and csv.

A business's kit lives in ``<data dir>/kits/<business key>/``, laid out as ``cvj kit`` lays out its folders, so
``cvj kit --out <data dir>/kits`` and the studio resume each other's kits (for a profile without an ``id``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import gradio as gr

from generator.assets import ASSET_TYPES, resolve_asset_type
from generator.drafts import Draft
from generator.export import FORMATS, SCHEDULE_FORMATS, ExportError, export_kit
from generator.files import write_json_atomic
from generator.kit import STAMP_KEY, KitItem, move_aside, plan_kit, run_kit, stamp_for
from generator.kit_models import KitEntry, KitReport
from generator.kit_plan import extra_asset_types
from generator.profile import BusinessProfile
from generator.service import DraftingService
from generator.stages import STAGE_IDS, get_stage
from generator.ui_common import Background, Studio, downloadable, friendly, parse_profile, set_stop, stop_flag
from generator.ui_journey_map import cards, journey_html

DEFAULT_TYPES = {resolve_asset_type(s).asset_type for s in STAGE_IDS}
SCHEDULE_CHOICES = [("Calendar of the sends (ics)", "ics"), ("Sends for a scheduler (csv)", "csv")]


def extra_choices() -> list[tuple[str, str]]:
    """Every type a kit may draft besides each stage's own, in journey order, as '<stage> · <label>'."""
    extras = [t for t in ASSET_TYPES.values() if t.asset_type not in DEFAULT_TYPES]
    ordered = sorted(extras, key=lambda t: STAGE_IDS.index(t.stage))
    return [(f"{get_stage(t.stage).name} · {t.label}", t.asset_type) for t in ordered]


def extras_in(folder: Path) -> list[str]:
    """The extra types a kit folder holds (``assets/<stage>.<type>.json``), in journey order."""
    found = {p.stem.split(".")[1] for p in (folder / "assets").glob("*.*.json") if p.stem.count(".") == 1}
    return [t for _, t in extra_choices() if t in found]


def start_date(text: str | None) -> date | None:
    """The journey's day 0 for the schedule formats (empty: the day the kit is made)."""
    if not (text or "").strip():
        return None
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        raise gr.Error(f"The start date {text!r} is not a date: write it as YYYY-MM-DD, e.g. 2025-01-06.") from None


def saved_kit(
    service: DraftingService, profile: BusinessProfile, folder: Path, extras: list[str] | None = None
) -> KitReport:
    """What the kit folder holds now (each stage's asset and the ``extras``), with the journey check over it (drafts
    nothing: asked to stop at once)."""
    return run_kit(profile, plan_kit(extra_types=extras), out_dir=folder, model=service.model, index=None,
                   settings=service.settings, should_stop=lambda: True)  # fmt: skip


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


def summary(
    report: KitReport, *, stopped: bool = False, seconds: float | None = None, planned: int = len(STAGE_IDS)
) -> str:
    t = report.totals
    done = f"{t.assets} of {planned} assets drafted: {t.passed} passed, {t.needs_work} need work, "
    done += f"{t.off_brief} failed the eval" + (f", {t.failed} not drafted" if t.failed else "")
    if stopped:
        return f"**Stopped.** {done}. Press **Draft the whole kit** to finish the rest (what is done is kept)."
    breaks = len(report.journey.breaks) if report.journey else 0
    took = f" Drafted in {seconds:.0f} s." if seconds is not None else ""
    return f"**{done}.** Journey check: {breaks or 'no'} break(s).{took}"


def _exported(
    report: KitReport, folder: Path, schedule: list[str] | None = None, start: date | None = None
) -> tuple[list[str], str]:
    if not report.entries:
        return [], ""
    wanted = [*FORMATS, *(f for f in SCHEDULE_FORMATS if f in (schedule or []))]
    try:
        return downloadable(export_kit(report, folder, wanted, start=start)), ""
    except ExportError as exc:
        gr.Warning(exc.message)
        written = exc.details.get("written", []) if isinstance(exc.details, dict) else []
        return downloadable([Path(p) for p in written]), f" {exc.message}"


def kit_steps(
    studio: Studio,
    profile_text: str,
    stop: threading.Event,
    *,
    only: str | None = None,
    extras: list[str] | None = None,
    schedule: list[str] | None = None,
    start: date | None = None,
) -> Iterator[tuple[str, str, Any]]:
    """Draft the kit (or redo one stage: its own asset and its extras), each stage's asset and the ``extras``,
    yielding (map, status, downloads) as each asset finishes; ``schedule`` adds ics and csv from ``start``."""
    profile = parse_profile(profile_text)
    service = studio.service()
    folder = studio.folder("kits", profile)
    extras = extra_asset_types(extras)
    plan = plan_kit(extra_types=extras)
    items: list[KitItem] = plan
    if only is not None:
        redo = [i for i in plan if i.stage == only]
        for item in redo:
            if (path := folder / "assets" / f"{item.key}.json").exists():
                move_aside(path)
        items = [i for i in plan if i in redo or (folder / "assets" / f"{i.key}.json").exists()]
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
    full = saved_kit(service, profile, folder, extras) if only is not None else done
    files, problem = _exported(full, folder, schedule, start)
    took = done.totals.wall_seconds
    said = summary(full, stopped=stop.is_set(), seconds=took, planned=len(plan))
    yield journey_html(cards(full.entries, full)), said + problem, files


def build_journey_tab(studio: Studio, state: gr.State, flags: gr.State) -> tuple[Callable[..., list[Any]], list[Any]]:
    """The tab's layout and events; returns the function that shows the saved kit (run when the tab opens) and
    what it updates."""
    gr.Markdown(
        "The whole journey for the business in use. **Draft the whole kit** drafts and scores every stage's asset "
        "(each card fills in as it finishes); Stop keeps what is done, and drafting again resumes."
    )
    status = gr.Markdown(elem_id="kit-status")
    board = gr.HTML(journey_html(cards([])), elem_id="journey-map")
    extras = gr.Dropdown(extra_choices(), value=[], multiselect=True, label="Extra asset types", elem_id="kit-extras",
                         info="Drafted too, besides each stage's own asset, after what they build on (a welcome "
                         "sequence waits for the lead magnet).")  # fmt: skip
    with gr.Row():
        run = gr.Button("Draft the whole kit", variant="primary", elem_id="kit-run")
        stop = gr.Button("Stop the kit", variant="stop", elem_id="kit-stop")
        refresh = gr.Button("Refresh", elem_id="kit-refresh")
    with gr.Row():
        stage = gr.Dropdown([(get_stage(s).name, s) for s in STAGE_IDS], value="aware", label="Redo one stage", scale=2)
        redo = gr.Button("Redo this stage", scale=1)
    with gr.Row():
        schedule = gr.CheckboxGroup(SCHEDULE_CHOICES, value=[], label="Also download the journey's schedule",
                                    elem_id="kit-schedule", scale=2)  # fmt: skip
        start = gr.Textbox(label="The journey starts on", placeholder="YYYY-MM-DD (empty: the day the kit is made)",
                           elem_id="kit-start", scale=1)  # fmt: skip
    files = gr.File(label="Download the kit (md, docx, html, json; ics and csv when chosen)", file_count="multiple",
                    elem_id="kit-files")  # fmt: skip
    outputs = [board, status, files]

    @friendly
    def show(
        profile_text: str, chosen: list[str] | None = None, formats: list[str] | None = None, start_text: str = ""
    ) -> list[Any]:
        """The saved kit: each stage's asset, the ``chosen`` extras and those the folder holds (put in the picker)."""
        if not (profile_text or "").strip():
            return [journey_html(cards([])), "Choose a business on the Business tab first.", None, gr.update()]
        profile = parse_profile(profile_text)
        folder = studio.folder("kits", profile)
        held = extras_in(folder)
        wanted = list(dict.fromkeys([*(chosen or []), *held]))
        picked = gr.update(value=wanted) if held else gr.update()
        report = saved_kit(studio.service(), profile, folder, wanted)
        if not report.entries:
            return [journey_html(cards([])), f"No kit for {profile.name} yet: press **Draft the whole kit**.", None,
                    picked]  # fmt: skip
        files_out, problem = _exported(report, folder, formats, start_date(start_text))
        said = summary(report, planned=len(plan_kit(extra_types=wanted))) + problem
        return [journey_html(cards(report.entries, report)), said, files_out, picked]

    @friendly
    def on_run(
        profile_text: str,
        chosen: list[str],
        formats: list[str],
        start_text: str,
        stop_flags: dict[str, threading.Event],
    ) -> Iterator[list[Any]]:
        day0 = start_date(start_text)
        yield [gr.update(), "Starting the kit (the first run also loads the eval)...", gr.update()]
        for step in kit_steps(studio, profile_text, stop_flag(stop_flags, "kit"), extras=chosen, schedule=formats,
                              start=day0):  # fmt: skip
            yield list(step)

    @friendly
    def on_redo(
        profile_text: str, stage_id: str, chosen: list[str], formats: list[str], start_text: str,
        stop_flags: dict[str, threading.Event],
    ) -> Iterator[list[Any]]:  # fmt: skip
        if stage_id not in STAGE_IDS:
            raise gr.Error("Choose the stage to redo.")
        day0 = start_date(start_text)
        yield [gr.update(), f"Redoing {get_stage(stage_id).name} (the old assets are kept in assets/superseded/)...",
               gr.update()]  # fmt: skip
        for step in kit_steps(studio, profile_text, stop_flag(stop_flags, "kit"), only=stage_id, extras=chosen,
                              schedule=formats, start=day0):  # fmt: skip
            yield list(step)

    def on_stop(stop_flags: dict[str, threading.Event]) -> str:
        set_stop(stop_flags, "kit")
        return "Stopping: no new asset starts; those in flight finish and are kept..."

    options = [extras, schedule, start]
    run.click(on_run, [state, *options, flags], outputs, api_visibility="private", show_progress="minimal",
              concurrency_id="kit")  # fmt: skip
    redo.click(on_redo, [state, stage, *options, flags], outputs, api_visibility="private", show_progress="minimal",
               concurrency_id="kit")  # fmt: skip
    stop.click(on_stop, [flags], [status], api_visibility="private", queue=False)
    refresh.click(show, [state, *options], [*outputs, extras], api_visibility="private")
    return show, [*outputs, extras]
