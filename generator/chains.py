"""Stage chains: profile + retrieved context -> prompt file -> chat model -> validated asset.

Prompt assembly is ``prompting``'s and the ask/parse/re-ask loop is ``structured``'s; this module puts
them together for a business: what to retrieve, which facts the profile fixes, and what gets a draft re-asked
(brand rules, the price ladder, invented facts, template debris).
"""

from __future__ import annotations

import time
from pathlib import Path

import yaml
from langchain_core.language_models.chat_models import BaseChatModel

from generator.assets import Asset
from generator.drafts import AssetMeta, Draft, DraftRequest, SourceRef, Usage
from generator.errors import PromptError
from generator.evaluation.gate import gate_for
from generator.facts import copy_schema, offer_facts, with_facts
from generator.knowledge import KnowledgeIndex
from generator.profile import BusinessProfile
from generator.prompting import ContextPiece, PromptFile, asset_messages, fit_context
from generator.rules import rule_problems
from generator.settings import Settings
from generator.stages import get_stage
from generator.structured import Generated, TextCallback, generate

BUSINESS_HITS = 2
# The gate's checks a draft is re-asked for: wrong facts and template debris.
RE_ASK_ON = {"facts", "no_debris"}


def retrieve_context(
    index: KnowledgeIndex, profile: BusinessProfile, request: DraftRequest, *, k: int
) -> list[ContextPiece]:
    """Method notes for the stage plus the business's own facts, most relevant first."""
    stage = get_stage(request.stage)
    asset_cls = request.asset_class
    query = f"{stage.name} stage: {asset_cls.label}. {stage.purpose} For {profile.what_it_sells}"
    hits = index.search(query, k=k, stage=stage.id, kind="method")
    hits += index.search(query, k=BUSINESS_HITS, kind="business", business=profile.key)
    return [ContextPiece(text=h.text, source=h.source, stage=h.stage, kind=h.kind, score=h.score) for h in hits]


def estimate_cost(settings: Settings, usage: Usage) -> float:
    """USD from the price table in settings (unknown and local models cost 0)."""
    price_in, price_out = settings.prices.get(settings.resolved_model, (0.0, 0.0))
    return round((usage.input_tokens * price_in + usage.output_tokens * price_out) / 1_000_000, 6)


def asset_problems(asset: Asset, profile: BusinessProfile, settings: Settings) -> list[str]:
    """Everything that gets an answer re-asked: brand rules, the price ladder, invented facts, template debris."""
    found = rule_problems(asset, profile)
    checked = gate_for(settings.eval_dir, settings.prompts_dir).check(asset.as_text(), asset=asset, profile=profile)
    return found + [f"{c.name.lower()}: {c.reason}" for c in checked.checks if c.id in RE_ASK_ON and not c.passed]


def asset_meta(
    settings: Settings, prompt: PromptFile, *, sources: list[SourceRef], generated: Generated[Asset], started: float
) -> AssetMeta:
    """Provenance for a generated asset; ``started`` is the ``time.perf_counter()`` when the work began."""
    return AssetMeta(
        prompt_id=prompt.id,
        prompt_version=prompt.version,
        provider=settings.resolved_provider.value,
        model=settings.resolved_model,
        sources=sources,
        usage=generated.usage,
        cost_usd=estimate_cost(settings, generated.usage),
        seconds=round(time.perf_counter() - started, 3),
        attempts=generated.attempts,
        problems=generated.problems,
    )


def draft(
    profile: BusinessProfile,
    request: DraftRequest,
    *,
    model: BaseChatModel,
    index: KnowledgeIndex | None,
    settings: Settings,
    earlier: dict[str, Draft] | None = None,
    on_text: TextCallback | None = None,
) -> Draft:
    """Draft one asset for a business, grounded in the index, with its metadata.

    The profile's facts (an offer's name and price) are filled in, not written by the model; the model writes
    the copy around them. ``on_text`` receives the model's text as it streams (the UI shows it live).
    """
    started = time.perf_counter()
    pieces = retrieve_context(index, profile, request, k=settings.retrieval_k) if index else []
    notes, used = fit_context(pieces, settings.context_tokens)
    asset_cls = request.asset_class.for_channel(request.resolved_channel(profile.channels))
    facts = offer_facts(asset_cls, profile)
    schema = copy_schema(asset_cls, facts.fixed)
    messages, prompt = asset_messages(
        settings.prompts_dir, profile, request, notes=notes, schema=schema, offer=facts.offer, earlier=earlier,
        worked_example=settings.use_worked_examples,
    )  # fmt: skip
    generated = generate(
        schema, messages, model=model, settings=settings, on_text=on_text,
        finish=lambda copy: with_facts(asset_cls, copy, facts.fixed),
        check=lambda asset: asset_problems(asset, profile, settings),
    )  # fmt: skip
    asset = generated.value
    sources = [SourceRef(source=p.source, stage=p.stage, kind=p.kind, score=p.score) for p in used]
    meta = asset_meta(settings, prompt, sources=sources, generated=generated, started=started)
    return Draft(
        business=profile.name,
        stage=request.stage,
        asset_type=asset.asset_type,
        asset=asset.model_dump(mode="json"),
        meta=meta,
        proposed=facts.proposed,
    )


def draft_variants(
    profile: BusinessProfile,
    request: DraftRequest,
    count: int,
    *,
    model: BaseChatModel,
    index: KnowledgeIndex | None,
    settings: Settings,
    earlier: dict[str, Draft] | None = None,
    on_text: TextCallback | None = None,
) -> list[Draft]:
    """``count`` distinct drafts: each takes its own angle (prompts/angles.yaml); a duplicate is redone once."""
    angles = load_angles(settings.prompts_dir)
    results: list[Draft] = []
    seen: set[str] = set()
    for number in range(1, count + 1):
        for retry in range(2):
            angle = angles[(number - 1 + retry * count) % len(angles)]
            instructions = f"{request.instructions}. {angle}" if request.instructions else angle
            varied = request.model_copy(update={"instructions": instructions})
            result = draft(
                profile, varied, model=model, index=index, settings=settings, earlier=earlier, on_text=on_text
            )
            key = " ".join(result.as_text().lower().split())
            if key not in seen:
                break
        seen.add(key)
        results.append(result.model_copy(update={"variant": number}))
    return results


def load_angles(prompts_dir: Path) -> list[str]:
    angles = yaml.safe_load((prompts_dir / "angles.yaml").read_text(encoding="utf-8"))
    if not isinstance(angles, list) or not angles or not all(isinstance(a, str) for a in angles):
        raise PromptError(f"{prompts_dir / 'angles.yaml'} must be a non-empty list of sentences.")
    return angles
