"""The Draft tab's layout and events: choose what to draft, watch it stream in (Stop drops it), compare variants or
candidates side by side and pick one, then work on it: edit in place (re-scored on save), revise with a note,
step through its versions, copy it, see its sources, put it in the journey kit.

The drafting itself is :mod:`generator.ui_drafting`; this module only lays it out and wires it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import gradio as gr

from generator.assets import asset_types_for, channel_limits
from generator.drafts import Draft
from generator.render import draft_markdown
from generator.stages import STAGE_IDS, get_stage
from generator.ui_common import Studio, friendly, parse_profile, set_stop, stop_flag, verdict_line
from generator.ui_drafting import (
    MAX_CANDIDATES,
    MAX_VARIANTS,
    asset_yaml,
    card_markdown,
    draft_steps,
    revision_steps,
    save_edit,
    sources_markdown,
    version_label,
    what_changed,
)
from generator.ui_journey import put_in_kit

SLOTS = max(MAX_CANDIDATES, MAX_VARIANTS)  # side-by-side cards, shown as needed
PANEL = 8  # verdict, rendered, copy text, editor, versions, what changed, sources, JSON
Flags = dict[str, threading.Event]


def _types(stage_id: str) -> list[tuple[str, str]]:
    return [(a.label, a.asset_type) for a in asset_types_for(stage_id)]


def _drafts(history: list[dict[str, Any]]) -> list[Draft]:
    return [Draft.model_validate(d) for d in history]


def panel(history: list[dict[str, Any]], shown: int | None = None) -> list[Any]:
    """The draft being worked on (a version of it): verdict, copy, editor, versions and what changed, sources."""
    if not history:
        return ["", "", "", "", gr.update(choices=[], value=None), "", "", None]
    versions = _drafts(history)
    at = len(versions) - 1 if shown is None else max(0, min(shown, len(versions) - 1))
    current = versions[at]
    before = next((v for v in reversed(versions[:at]) if v.version < current.version), None)
    choices = [(version_label(v), str(n)) for n, v in enumerate(versions)]
    return [
        verdict_line(current.evaluation, limit=5),
        draft_markdown(current),
        current.as_text(),
        asset_yaml(current),
        gr.update(choices=choices, value=str(at)),
        what_changed(current, before),
        sources_markdown(current),
        current.model_dump(mode="json"),
    ]


def _shown(history: list[dict[str, Any]], choice: str | None) -> tuple[Draft, int]:
    if not history:
        raise gr.Error("Draft something first.")
    at = int(choice) if choice and choice.isdigit() and int(choice) < len(history) else len(history) - 1
    return Draft.model_validate(history[at]), max(d["version"] for d in history) + 1


def build_draft_tab(studio: Studio, state: gr.State, flags: gr.State) -> None:
    """The tab's layout and events."""
    first = "aware"
    with gr.Row():
        with gr.Column(scale=1, min_width=280):
            stage = gr.Dropdown([(f"{get_stage(s).number} · {get_stage(s).name}", s) for s in STAGE_IDS], value=first,
                                label="Stage", elem_id="draft-stage")  # fmt: skip
            stage_info = gr.Markdown(get_stage(first).purpose)
            asset = gr.Dropdown(_types(first), value=_types(first)[0][1], label="Asset type", elem_id="draft-asset")
            channel = gr.Dropdown(["", *channel_limits()], value="", allow_custom_value=True, label="Channel",
                                  info="Social posts: sets the length limit. Empty: the profile's first.")  # fmt: skip
            instructions = gr.Textbox(label="Instructions (optional)", lines=2,
                                      placeholder="warmer, shorter, mention the Saturday class")  # fmt: skip
            candidates = gr.Slider(1, MAX_CANDIDATES, value=1, step=1, label="Candidates: draft several, keep the best")
            variants = gr.Slider(1, MAX_VARIANTS, value=1, step=1, label="Variants: distinct angles, keep them all")
            with gr.Row():
                go = gr.Button("Draft", variant="primary", elem_id="draft-go")
                stop = gr.Button("Stop", variant="stop", elem_id="draft-stop")
        with gr.Column(scale=2):
            status = gr.Markdown(elem_id="draft-status")
            live = gr.Textbox(label="The model writing (live)", lines=5, max_lines=10, autoscroll=True,
                              interactive=False, elem_id="draft-live")  # fmt: skip
            columns, cards, picks_buttons = [], [], []
            with gr.Row(equal_height=False):
                for n in range(SLOTS):
                    with gr.Column(visible=False, min_width=260) as column:
                        cards.append(gr.Markdown(elem_id=f"draft-card-{n + 1}"))
                        picks_buttons.append(gr.Button("Work on this one", size="sm"))
                    columns.append(column)
            verdict = gr.Markdown(elem_id="draft-verdict")
            rendered = gr.Markdown(buttons=["copy"], elem_id="draft-rendered")
            plain = gr.Textbox(label="Copy-ready text", lines=4, max_lines=16, buttons=["copy"], interactive=False)
            with gr.Row():
                note = gr.Textbox(label="Revise with a note", placeholder="shorter, warmer, add the guarantee", scale=3)
                revise = gr.Button("Revise", scale=1)
            with gr.Accordion("Edit in place", open=False):
                editor = gr.Code(language="yaml", interactive=True, label="The draft's fields (edit, then save)")
                save = gr.Button("Save the edit and re-score")
            with gr.Row():
                versions = gr.Dropdown([], label="Versions", interactive=True, scale=2, elem_id="draft-versions")
                to_kit = gr.Button("Use in the journey kit", scale=1, elem_id="draft-to-kit")
            changed = gr.Markdown()
            sources = gr.Markdown(elem_id="draft-sources")
            with gr.Accordion("JSON: the asset and its provenance", open=False):
                as_json = gr.JSON(label="Draft")
    picks = gr.State([])  # the variants or candidates of the last draft, to pick from
    history = gr.State([])  # the versions of the draft being worked on
    shown_panel = [verdict, rendered, plain, editor, versions, changed, sources, as_json]
    keep = [gr.update()]

    def on_stage(stage_id: str) -> tuple[str, dict[str, Any]]:
        types = _types(stage_id)
        return get_stage(stage_id).purpose, gr.update(choices=types, value=types[0][1])

    @friendly
    def on_draft(profile_text: str, stage_id: str, asset_type: str | None, channel_name: str | None, extra: str,
                 count: int, many: int, stop_flags: Flags) -> Iterator[list[Any]]:  # fmt: skip
        hidden = [gr.update(visible=False)] * SLOTS
        yield ["", "*Starting...*", *hidden, *keep * SLOTS, *keep * 2, *keep * PANEL]
        steps = draft_steps(studio.service(), profile_text, stage_id, asset_type, channel_name, extra,
                            candidates=count, variants=many, stop=stop_flag(stop_flags, "draft"))  # fmt: skip
        for step in steps:
            if step.drafts is None:
                yield [step.live, step.status, *keep * SLOTS, *keep * SLOTS, *keep * 2, *keep * PANEL]
                continue
            made = step.drafts
            if len(made) == 1:
                done = f"Done: {made[0].typed().label.lower()} for {made[0].business}, saved as version 1."
                yield [step.live, done, *hidden, *keep * SLOTS, [], [made[0].model_dump(mode="json")],
                       *panel([made[0].model_dump(mode="json")])]  # fmt: skip
                return
            titles = [f"Variant {d.variant}" for d in made] if made[0].variant else [
                "Best candidate", *[f"Candidate {n}" for n in range(2, len(made) + 1)]]  # fmt: skip
            shown_cols = [gr.update(visible=n < len(made)) for n in range(SLOTS)]
            texts = [card_markdown(made[n], titles[n]) if n < len(made) else "" for n in range(SLOTS)]
            dumped = [d.model_dump(mode="json") for d in made]
            done = f"Done: {len(made)} side by side, each with its verdict. Work on one, or keep the first."
            yield [step.live, done, *shown_cols, *texts, dumped, dumped[:1], *panel(dumped[:1])]

    @friendly
    def on_pick(choices: list[dict[str, Any]], n: int) -> list[Any]:
        if n >= len(choices):
            raise gr.Error("Draft variants or candidates first.")
        return [f"Working on option {n + 1}.", [choices[n]], *panel([choices[n]])]

    @friendly
    def on_revise(profile_text: str, versions_: list[dict[str, Any]], choice: str | None, instruction: str,
                  stop_flags: Flags) -> Iterator[list[Any]]:  # fmt: skip
        current, number = _shown(versions_, choice)
        steps = revision_steps(studio.service(), profile_text, current.model_dump(mode="json"), instruction,
                               stop=stop_flag(stop_flags, "draft"), number=number)  # fmt: skip
        for step in steps:
            if step.drafts is None:
                yield [step.live, step.status or "*Revising...*", *keep, *keep * PANEL]
            else:
                grown = [*versions_, step.drafts[0].model_dump(mode="json")]
                yield [step.live, f"Revised: version {number} saved.", grown, *panel(grown)]

    @friendly
    def on_save(profile_text: str, versions_: list[dict[str, Any]], choice: str | None, edited: str) -> list[Any]:
        current, number = _shown(versions_, choice)
        result = save_edit(studio.service(), profile_text, current, edited, number)
        if result is None:
            gr.Warning("Nothing changed: edit a field, then save.")
            return ["Nothing changed.", *keep, *keep * PANEL]
        grown = [*versions_, result.model_dump(mode="json")]
        return [f"Edit saved as version {number} and re-scored.", grown, *panel(grown)]

    @friendly
    def on_version(versions_: list[dict[str, Any]], choice: str | None) -> list[Any]:
        return panel(versions_, int(choice) if choice and choice.isdigit() else None)

    @friendly
    def on_to_kit(profile_text: str, versions_: list[dict[str, Any]], choice: str | None) -> str:
        current, _ = _shown(versions_, choice)
        profile = parse_profile(profile_text)
        put_in_kit(studio.service(), profile, studio.folder("kits", profile), current)
        return (
            f"Version {current.version} is now the kit's {get_stage(current.stage).name} asset (see the Journey tab)."
        )

    def on_stop(stop_flags: Flags) -> str:
        set_stop(stop_flags, "draft")
        return "Stopped. Nothing from the unfinished draft was kept."

    private: dict[str, Any] = {"api_visibility": "private"}
    stage.change(on_stage, stage, [stage_info, asset], **private)
    inputs = [state, stage, asset, channel, instructions, candidates, variants, flags]
    drafting = go.click(on_draft, inputs, [live, status, *columns, *cards, picks, history, *shown_panel],
                        concurrency_id="draft", **private)  # fmt: skip
    for n, button in enumerate(picks_buttons):
        button.click(lambda choices, n=n: on_pick(choices, n), picks, [status, history, *shown_panel], **private)
    revising = revise.click(on_revise, [state, history, versions, note, flags], [live, status, history, *shown_panel],
                            concurrency_id="draft", **private)  # fmt: skip
    save.click(on_save, [state, history, versions, editor], [status, history, *shown_panel], **private)
    versions.input(on_version, [history, versions], shown_panel, **private)
    to_kit.click(on_to_kit, [state, history, versions], status, **private)
    stop.click(on_stop, flags, status, cancels=[drafting, revising], queue=False, **private)
