"""Stage chains: profile + retrieved context -> prompt file -> chat model -> validated asset.

The model is asked for JSON in the asset's shape (a grammar on local servers, a JSON schema on
OpenAI). The answer is parsed and checked against the brand rules; an invalid answer is re-asked
with the problems listed, a bounded number of times, and the final error keeps the last answer.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage
from langchain_core.messages.ai import UsageMetadata
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from generator.assets import Asset
from generator.drafts import AssetMeta, Draft, DraftRequest, SourceRef, Usage
from generator.errors import GenerationError, PromptError
from generator.evaluation.gate import gate_for
from generator.facts import copy_schema, offer_facts, with_facts
from generator.knowledge import KnowledgeIndex
from generator.llm import response_format
from generator.profile import BusinessProfile
from generator.prompting import ContextPiece, PromptFile, asset_messages, fit_context
from generator.rules import rule_problems
from generator.settings import Settings
from generator.stages import get_stage
from generator.tokens import count_tokens, truncate_to_tokens

BUSINESS_HITS = 2
# The gate's checks a draft is re-asked for: wrong facts and template debris.
RE_ASK_ON = {"facts", "no_debris"}
T = TypeVar("T", bound=BaseModel)
TextCallback = Callable[[str], None]


class InvalidOutput(ValueError):
    """The model's answer is not a valid asset; ``problems`` are fed back to it."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def retrieve_context(
    index: KnowledgeIndex, profile: BusinessProfile, request: DraftRequest, *, k: int
) -> list[ContextPiece]:
    """Method notes for the stage plus the business's own facts, most relevant first."""
    stage = get_stage(request.stage)
    asset_cls = request.asset_class
    query = f"{stage.name} stage: {asset_cls.label}. {stage.purpose} For {profile.what_it_sells}"
    hits = index.search(query, k=k, stage=stage.id, kind="method")
    hits += index.search(query, k=BUSINESS_HITS, kind="business", business=profile.slug)
    return [ContextPiece(text=h.text, source=h.source, stage=h.stage, kind=h.kind, score=h.score) for h in hits]


_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$", re.MULTILINE)


def parse_asset(text: str, asset_cls: type[T]) -> T:
    """Parse a completion into the schema; the seam unit tests drive with plain text."""
    cleaned = _FENCE.sub("", text.strip())
    start, end = cleaned.find("{"), cleaned.rfind("}")
    if start < 0 or end <= start:
        raise InvalidOutput(["the answer contains no JSON object"])
    try:
        data = json.loads(cleaned[start : end + 1], strict=False)  # raw newlines in strings are fine
    except json.JSONDecodeError as exc:
        raise InvalidOutput([f"the JSON is malformed ({exc.msg} at character {exc.pos})"]) from None
    try:
        return asset_cls.model_validate(data)
    except ValidationError as exc:
        problems = [f"field '{'.'.join(map(str, e['loc'])) or '(root)'}': {e['msg']}" for e in exc.errors()]
        raise InvalidOutput(problems[:8]) from None


def estimate_cost(settings: Settings, usage: Usage) -> float:
    """USD from the price table in settings (unknown and local models cost 0)."""
    price_in, price_out = settings.prices.get(settings.resolved_model, (0.0, 0.0))
    return round((usage.input_tokens * price_in + usage.output_tokens * price_out) / 1_000_000, 6)


def estimated_usage(messages: list[BaseMessage], reply: str) -> UsageMetadata:
    """Token counts by tiktoken, for replies whose server reported none."""
    sent = sum(count_tokens(str(m.content)) for m in messages)
    received = count_tokens(reply)
    return UsageMetadata(input_tokens=sent, output_tokens=received, total_tokens=sent + received)


def _invoke(
    model: BaseChatModel, messages: list[BaseMessage], fmt: dict[str, Any], on_text: TextCallback | None
) -> AIMessage:
    """One model call; streamed to ``on_text`` chunk by chunk when a callback is given."""
    bound = model.bind(response_format=fmt)
    if on_text is None:
        return bound.invoke(messages)  # type: ignore[return-value]
    total: AIMessageChunk | None = None
    for chunk in bound.stream(messages):
        if chunk.content:
            on_text(str(chunk.content))
        total = chunk if total is None else total + chunk  # type: ignore[assignment]
    content = str(total.content) if total else ""
    usage = total.usage_metadata if total else None
    if not usage or not usage.get("output_tokens"):
        usage = estimated_usage(messages, content)  # servers that stream no usage (llama.cpp) still get counted
    return AIMessage(content=content, usage_metadata=usage)


class Generated(BaseModel):
    """What a generation returns: the answer, the tokens it took, and what the re-asks could not fix."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    value: Any
    usage: Usage
    attempts: int
    problems: list[str] = Field(default_factory=list)


def generate_asset(
    model: BaseChatModel,
    messages: list[BaseMessage],
    asset_cls: type[T],
    *,
    settings: Settings,
    profile: BusinessProfile | None,
    on_text: TextCallback | None = None,
    complete: Callable[[T], Asset] | None = None,
) -> Generated:
    """Ask, parse and check; re-ask with the problems listed until valid or out of attempts.

    ``complete`` turns what the model filled into the whole asset (the profile's facts added); the brand rules,
    the price ladder and the copy checks (invented facts, template debris) then run on the whole asset. When the
    re-asks run out, an answer of the right shape is kept with its problems listed (the eval shows them as its
    verdict: nothing the model wrote is lost); only an answer that never had the right shape is an error.
    """
    fmt = response_format(settings, asset_cls)
    usage = Usage()
    conversation = list(messages)
    last_text, problems = "", []
    kept: tuple[Any, list[str]] | None = None
    for attempt in range(1, settings.repair_attempts + 2):
        if on_text and attempt > 1:
            on_text(f"\n\n[attempt {attempt}: fixing {'; '.join(problems)}]\n")
        reply = _invoke(model, conversation, fmt, on_text)
        usage.add(reply.usage_metadata)  # type: ignore[arg-type]
        last_text = str(reply.content)
        try:
            whole = _complete(parse_asset(last_text, asset_cls), complete)
            problems = asset_problems(whole, profile, settings) if profile else []
            if not problems:
                return Generated(value=whole, usage=usage, attempts=attempt)
            if kept is None or len(problems) <= len(kept[1]):
                kept = (whole, problems)
        except InvalidOutput as exc:
            problems = exc.problems
        conversation = [
            *messages,
            AIMessage(truncate_to_tokens(last_text, 400)),
            HumanMessage(
                "That answer cannot be used because "
                + "; ".join(problems)
                + ". Write the whole JSON object again, fixing these problems."
            ),
        ]
    if kept is not None:
        return Generated(value=kept[0], usage=usage, attempts=settings.repair_attempts + 1, problems=kept[1])
    raise GenerationError(
        f"The model did not produce a valid {_what(asset_cls)} after "
        f"{settings.repair_attempts + 1} attempts: {'; '.join(problems)}.",
        details={"problems": problems, "last_completion": last_text},
    )


def _complete(parsed: Any, complete: Callable[[Any], Asset] | None) -> Any:
    if complete is None:
        return parsed
    try:
        return complete(parsed)
    except ValidationError as exc:  # e.g. a post that no longer fits its channel
        raise InvalidOutput([e["msg"].removeprefix("Value error, ") for e in exc.errors()][:4]) from None


def asset_problems(asset: Any, profile: BusinessProfile, settings: Settings) -> list[str]:
    """Everything that gets an answer re-asked: brand rules, the price ladder, invented facts, template debris."""
    if not isinstance(asset, Asset):
        return []
    found = rule_problems(asset, profile)
    checked = gate_for(settings.eval_dir, settings.prompts_dir).check(asset.as_text(), asset=asset, profile=profile)
    return found + [f"{c.name.lower()}: {c.reason}" for c in checked.checks if c.id in RE_ASK_ON and not c.passed]


def _what(schema: type[BaseModel]) -> str:
    """How an error names what was asked for: an asset's label, or any other schema's name (the judge's Verdict)."""
    label = getattr(schema, "label", None)
    return label.lower() if isinstance(label, str) else f"{schema.__name__} answer"


def asset_meta(
    settings: Settings, prompt: PromptFile, *, sources: list[SourceRef], generated: Generated, started: float
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
    generated = generate_asset(
        model, messages, schema, settings=settings, profile=profile, on_text=on_text,
        complete=lambda copy: with_facts(asset_cls, copy, facts.fixed),
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
