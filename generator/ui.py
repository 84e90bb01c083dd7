"""The copywriter's studio (Gradio Blocks): the whole Customer Value Journey for one business in the browser.

Tabs: **Business** (pick, upload or fill in a profile), **Knowledge** (the business's documents in the index),
**Draft** (one asset, streamed, scored, compared, edited, revised, versioned), **Journey** (the eight stages as
a map; the whole kit drafted, resumed, downloaded) and **Voice & audit** (the brand's voice learned from its own copy;
its existing copy mapped onto the journey). Named endpoints for ``gradio_client``: ``/draft``, ``/score``,
``/kit`` (:mod:`generator.ui_api`).

``build_ui(get_service)`` is mounted by the API at /ui; the top-level ``ui.py`` runs it alone. ``get_service`` is
called per request and per-person state lives in ``gr.State``, so nothing is kept in globals.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr

from generator.service import DraftingService
from generator.ui_api import register_api
from generator.ui_business import build_business_tab, first_business, header, profile_yaml, saved_choices
from generator.ui_common import Studio, examples, friendly
from generator.ui_draft import build_draft_tab
from generator.ui_drafting import MAX_CANDIDATES, MAX_INSTRUCTION_CHARS, stream_draft, stream_revision
from generator.ui_journey import build_journey_tab
from generator.ui_knowledge import build_knowledge_tab
from generator.ui_voice import build_voice_tab

__all__ = ["MAX_CANDIDATES", "MAX_INSTRUCTION_CHARS", "build_ui", "examples", "stream_draft", "stream_revision"]


def build_ui(get_service: Callable[[], DraftingService], *, examples_dir: Path) -> gr.Blocks:
    """The studio; ``get_service`` is called per request so state stays out of globals."""
    studio = Studio(get_service=get_service, examples_dir=examples_dir)
    profile, data = first_business(studio)
    with gr.Blocks(title="CVJ Kit studio") as demo:
        gr.Markdown("# CVJ Kit studio\nDraft what each stage of the Customer Value Journey needs, for one business.")
        banner = gr.Markdown(header(profile), elem_id="business-banner")
        state = gr.State(profile_yaml(profile) if profile else "")  # the business in use, as YAML
        flags = gr.State({})  # this session's stop flags (draft, kit)
        with gr.Tabs():
            with gr.Tab("Business", id="business"):
                picker = build_business_tab(studio, state, banner, data)
            with gr.Tab("Knowledge", id="knowledge") as knowledge_tab:
                list_indexed, listing = build_knowledge_tab(studio, state)
            with gr.Tab("Draft", id="draft"):
                build_draft_tab(studio, state, flags)
            with gr.Tab("Journey", id="journey") as journey_tab:
                show_kit, kit_outputs = build_journey_tab(studio, state, flags)
            with gr.Tab("Voice & audit", id="voice") as voice_tab:
                show_voice, voice_outputs = build_voice_tab(studio, state, banner, picker)
        register_api(studio)

        @friendly
        def on_load() -> dict[str, Any]:
            return gr.update(choices=saved_choices(studio))

        demo.load(on_load, None, picker, api_visibility="private")
        knowledge_tab.select(list_indexed, state, listing, api_visibility="private")
        journey_tab.select(show_kit, state, kit_outputs, api_visibility="private")
        voice_tab.select(show_voice, state, voice_outputs, api_visibility="private")
    return demo
