"""Gradio UI for copywriters: pick a business and a stage, watch the draft stream in, keep the result.

``build_ui(get_service)`` is mounted by the API at /ui; the top-level ``ui.py`` runs it alone.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import gradio as gr
from pydantic import ValidationError

from generator.assets import asset_types_for
from generator.drafts import Draft, DraftRequest
from generator.errors import CVJError
from generator.profile import BusinessProfile, parse_profile_text
from generator.render import alternatives_markdown, draft_markdown, score_markdown
from generator.service import DraftingService
from generator.stages import STAGE_IDS, get_stage
from generator.validation import describe_errors

MAX_CANDIDATES = 8  # as the API and `cvj draft --candidates`: each candidate is a full draft on the one model
MAX_INSTRUCTION_CHARS = 2000  # as a draft's instructions (DraftRequest)

Update = tuple[str, str, dict[str, Any] | None]


def _stream(
    work: Callable[[Callable[[str], None]], Draft], score: Callable[[Draft], str] | None = None
) -> Iterator[Update]:
    """Run ``work`` in a thread, yielding its streamed text live, then the rendered result (and its eval)."""
    pieces: queue.Queue[str | None] = queue.Queue()
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["draft"] = work(pieces.put)
        except CVJError as exc:
            outcome["error"] = exc.message
        except Exception as exc:  # the UI must show something rather than hang
            outcome["error"] = f"Unexpected error: {exc}"
        finally:
            pieces.put(None)

    threading.Thread(target=run, daemon=True).start()
    live = ""
    while (piece := pieces.get()) is not None:
        live += piece
        yield live, "*Writing...*", None
    if "error" in outcome:
        raise gr.Error(outcome["error"])
    result: Draft = outcome["draft"]
    rendered, payload = draft_markdown(result), result.model_dump(mode="json")
    if score is None:
        yield live, rendered, payload
        return
    yield live, rendered + "\n\n*Scoring...*", payload
    try:
        verdict = score(result)
    except CVJError as exc:  # the draft is kept; only its score is missing
        verdict = f"*Eval unavailable: {exc.message}*"
    yield live, f"{rendered}\n\n{verdict}", payload


def _profile(profile_yaml: str) -> BusinessProfile:
    try:
        return parse_profile_text(profile_yaml or "", source="The profile")
    except CVJError as exc:
        raise gr.Error(exc.message) from None


def _invalid(what: str, exc: ValidationError) -> gr.Error:
    return gr.Error(f"{what}:\n{describe_errors(exc, limit=4)}")


def _candidates(value: object) -> int:
    try:
        count = int(value)  # type: ignore[call-overload]  # a slider's number, or whatever a client posts
    except (TypeError, ValueError):
        raise gr.Error(f"Candidates must be a whole number from 1 to {MAX_CANDIDATES}.") from None
    if not 1 <= count <= MAX_CANDIDATES:
        raise gr.Error(f"Candidates must be a whole number from 1 to {MAX_CANDIDATES}, not {count}.")
    return count


def stream_draft(
    service: DraftingService,
    profile_yaml: str,
    stage: str,
    asset_type: str | None,
    channel: str,
    instructions: str,
    candidates: int = 1,
) -> Iterator[Update]:
    """Yield (live text, rendered draft, JSON) as the model writes; errors become gr.Error. With several
    candidates they are drafted at once and the best is shown, with the others' scores."""
    profile = _profile(profile_yaml)
    try:
        request = DraftRequest.model_validate(
            {"stage": stage, "asset_type": asset_type or None, "channel": channel or None,
             "instructions": instructions or None}
        )  # fmt: skip
    except ValidationError as exc:
        raise _invalid("Invalid request", exc) from None
    if (count := _candidates(candidates)) > 1:

        def best(on_text: Callable[[str], None]) -> Draft:
            on_text(f"Drafting {count} candidates at once; the eval keeps the best...\n")
            return service.draft_best(profile, request, candidates=count)

        yield from _stream(best, lambda result: score_markdown(result.evaluation) + alternatives_markdown(result))
        return
    yield from _stream(
        lambda on_text: service.draft(profile, request, on_text=on_text),
        lambda result: score_markdown(service.score_draft(result, profile)),
    )


def stream_revision(
    service: DraftingService, profile_yaml: str, previous: dict[str, Any] | None, instruction: str
) -> Iterator[Update]:
    """Revise the draft on screen following one instruction; the brand rules of the profile apply."""
    if not previous:
        raise gr.Error("Draft something first, then revise it.")
    if not (instruction or "").strip():
        raise gr.Error("Say what to change, e.g. 'shorter' or 'warmer'.")
    if len(instruction) > MAX_INSTRUCTION_CHARS:
        raise gr.Error(f"The instruction is {len(instruction):,} characters; keep it under {MAX_INSTRUCTION_CHARS:,}.")
    profile = _profile(profile_yaml)
    try:
        current = Draft.model_validate(previous)
    except ValidationError as exc:
        raise _invalid("The draft to revise is not a draft CVJ Kit made", exc) from None
    yield from _stream(
        lambda on_text: service.revise(current, instruction, profile=profile, on_text=on_text),
        lambda result: score_markdown(service.score_draft(result, profile)),
    )


def examples(examples_dir: Path) -> dict[str, Path]:
    """The example businesses offered in the picker (CVJ_EXAMPLES_DIR), by file stem."""
    return {p.stem: p for p in sorted(examples_dir.glob("*.yaml"))}


def build_ui(get_service: Callable[[], DraftingService], *, examples_dir: Path) -> gr.Blocks:
    """The Blocks app; ``get_service`` is called per request so state stays out of globals."""
    offered = examples(examples_dir)
    first = next(iter(offered), None)
    with gr.Blocks(title="CVJ Kit") as demo:
        gr.Markdown("# CVJ Kit\nDraft the content each stage of the Customer Value Journey needs.")
        with gr.Row():
            with gr.Column(scale=1):
                example = gr.Dropdown(list(offered), value=first, label="Example business")
                profile = gr.Code(
                    value=offered[first].read_text() if first else "",
                    language="yaml",
                    label="Business profile (YAML, editable)",
                    lines=18,
                )
                stage = gr.Dropdown(list(STAGE_IDS), value="subscribe", label="Stage")
                stage_info = gr.Markdown(get_stage("subscribe").purpose)
                asset = gr.Dropdown(
                    [a.asset_type for a in asset_types_for("subscribe")], value="lead_magnet", label="Asset type"
                )
                channel = gr.Textbox(label="Channel (social posts and ads)", placeholder="instagram")
                instructions = gr.Textbox(label="Extra instructions", placeholder="warmer, shorter, mention the class")
                candidates = gr.Slider(1, 5, value=1, step=1, label="Candidates (the eval keeps the best)")
                with gr.Row():
                    go = gr.Button("Draft", variant="primary")
                    stop = gr.Button("Stop", variant="stop")
            with gr.Column(scale=2):
                rendered = gr.Markdown(label="Draft")
                with gr.Row():
                    instruction = gr.Textbox(label="Revise the draft", placeholder="shorter, warmer, add the guarantee")
                    again = gr.Button("Revise")
                live = gr.Textbox(label="Model output (live)", lines=8, max_lines=14, autoscroll=True)
                as_json = gr.JSON(label="Draft JSON (asset + metadata)")

        def on_example(name: str) -> str:
            return offered[name].read_text() if name in offered else ""

        def on_stage(stage_id: str) -> tuple[str, dict[str, Any]]:
            types = [a.asset_type for a in asset_types_for(stage_id)]
            return get_stage(stage_id).purpose, gr.update(choices=types, value=types[0])

        def on_draft(
            profile_yaml: str, stage_id: str, asset_type: str | None, channel_name: str, extra: str, count: int
        ) -> Iterator[Update]:
            yield from stream_draft(get_service(), profile_yaml, stage_id, asset_type, channel_name, extra, count)

        def on_revise(profile_yaml: str, previous: dict[str, Any] | None, note: str) -> Iterator[Update]:
            yield from stream_revision(get_service(), profile_yaml, previous, note)

        example.change(on_example, example, profile)
        stage.change(on_stage, stage, [stage_info, asset])
        event = go.click(
            on_draft, [profile, stage, asset, channel, instructions, candidates], [live, rendered, as_json]
        )
        revision = again.click(on_revise, [profile, as_json, instruction], [live, rendered, as_json])
        stop.click(None, cancels=[event, revision])
    return demo
