"""Revise an asset from one instruction ("shorter", "warmer", or an eval critique): a new version."""

from __future__ import annotations

import json
import time

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage

from generator.chains import TextCallback, asset_meta, field_guide, generate_asset, system_message
from generator.drafts import Draft
from generator.profile import BusinessProfile
from generator.prompting import load_prompt
from generator.settings import Settings
from generator.stages import get_stage

REVISE_PROMPT_ID = "revise"


def revise(
    draft: Draft,
    instruction: str,
    *,
    model: BaseChatModel,
    settings: Settings,
    profile: BusinessProfile | None = None,
    on_text: TextCallback | None = None,
) -> Draft:
    """A new version of ``draft`` that follows ``instruction``; the brand rules apply when a profile is given."""
    started = time.perf_counter()
    asset = draft.typed()
    schema = type(asset).for_channel(draft.asset.get("channel"))
    stage = get_stage(draft.stage)
    prompt = load_prompt(settings.prompts_dir, REVISE_PROMPT_ID)
    user = prompt.fill(
        {
            "asset_label": asset.label.lower(),
            "stage_name": stage.name,
            "stage_purpose": stage.purpose,
            "asset_json": json.dumps(draft.asset, indent=2, ensure_ascii=False),
            "instruction": instruction.strip(),
            "fields": field_guide(schema),
        }
    )
    system = (
        system_message(settings, profile)
        if profile
        else SystemMessage(f"You are a senior copywriter revising an asset for {draft.business}. Answer in JSON only.")
    )
    revised, usage, attempts = generate_asset(
        model, [system, HumanMessage(user)], schema, settings=settings, profile=profile, on_text=on_text
    )
    meta = asset_meta(settings, prompt, sources=draft.meta.sources, usage=usage, attempts=attempts, started=started)
    return draft.model_copy(
        update={
            "asset": revised.model_dump(mode="json"),
            "meta": meta,
            "version": draft.version + 1,
            "revisions": [*draft.revisions, instruction.strip()],
        }
    )
