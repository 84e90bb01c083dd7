"""Drafting for the studio, without the layout: one draft, N variants or the best of N candidates streamed in and
scored; a revision with a note; a hand edit re-scored on save; versions with what changed. Every draft and
version is saved as it is made (``<data dir>/drafts/<business>/``), as ``cvj draft`` does.

The page's layout and events are in :mod:`generator.ui_draft`; these functions are what they call (and what the
unit tests drive with a fake model).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
import yaml
from pydantic import ValidationError

from generator.assets import ASSET_TYPES
from generator.chains import draft_variants
from generator.drafts import Draft, DraftRequest
from generator.errors import DocumentError
from generator.files import write_json_atomic
from generator.profile import BusinessProfile, load_yaml
from generator.render import draft_markdown
from generator.service import DraftingService
from generator.ui_common import Background, Stopped, message, parse_profile, verdict_line
from generator.validation import describe_errors

MAX_CANDIDATES = 8  # as the API and `cvj draft --candidates`: each candidate is a full draft on the one model
MAX_VARIANTS = 6  # as `cvj draft --variants`
MAX_INSTRUCTION_CHARS = 2000  # as a draft's instructions (DraftRequest)
EDITED = "edited by hand"

Update = tuple[str, str, dict[str, Any] | None]


class Note(str):
    """A line for the status, not the model's text (reported from the drafting thread beside the tokens)."""


@dataclass(frozen=True)
class Step:
    """Where a draft stands: the model's text so far, a status line, and the scored drafts once done."""

    live: str
    status: str
    drafts: list[Draft] | None = None


def _invalid(what: str, exc: ValidationError) -> gr.Error:
    return gr.Error(f"{what}:\n{describe_errors(exc, limit=4)}")


def _count(value: object, what: str, top: int) -> int:
    try:
        count = int(value)  # type: ignore[call-overload]  # a slider's number, or whatever a client posts
    except (TypeError, ValueError):
        raise gr.Error(f"{what} must be a whole number from 1 to {top}.") from None
    if not 1 <= count <= top:
        raise gr.Error(f"{what} must be a whole number from 1 to {top}, not {count}.")
    return count


def make_request(stage: str, asset_type: str | None, channel: str | None, instructions: str | None) -> DraftRequest:
    try:
        return DraftRequest.model_validate(
            {"stage": stage, "asset_type": asset_type or None, "channel": channel or None,
             "instructions": instructions or None}
        )  # fmt: skip
    except ValidationError as exc:
        raise _invalid("Invalid request", exc) from None


def alternatives_as_drafts(best: Draft) -> list[Draft]:
    """The candidates that lost, as drafts a person can pick instead (same request and provenance)."""
    return [best.model_copy(update={"asset": a.asset, "evaluation": a.evaluation, "alternatives": []})
            for a in best.alternatives]  # fmt: skip


def save_version(service: DraftingService, profile: BusinessProfile | None, version: Draft) -> Path:
    """<data dir>/drafts/<business>/<asset type>-v<version>[-<variant>].json, as `cvj draft` writes them."""
    variant = f"-{version.variant}" if version.variant else ""
    folder = service.settings.data_dir / "drafts" / (profile.key if profile else "unknown")
    path = folder / f"{version.asset_type}-v{version.version}{variant}.json"
    write_json_atomic(path, version.model_dump(mode="json"))
    return path


def _streamed(work: Callable[[Callable[[str], None]], list[Draft]], stop: threading.Event | None) -> Iterator[Step]:
    """Run ``work(on_text)`` in a thread: the model's text as it comes, the status, then the scored drafts."""

    def guarded(report: Callable[[str], None]) -> list[Draft]:
        def on_text(piece: str) -> None:
            if stop is not None and stop.is_set():
                raise Stopped("Stopped. The draft in progress was dropped; press Draft to start again.")
            report(piece)

        return work(on_text)

    live, status = "", "*Writing...*"
    running = Background(guarded)
    try:
        for batch in running:
            for piece in batch:
                if isinstance(piece, Note):
                    status = piece
                else:
                    live += piece
            yield Step(live, status)
    except Exception as exc:  # the model's or the eval's error, as a message in the page
        raise gr.Error(message(exc)) from None
    yield Step(live, "", running.result)


def draft_steps(
    service: DraftingService, profile_text: str, stage: str, asset_type: str | None, channel: str | None,
    instructions: str | None, *, candidates: object = 1, variants: object = 1, stop: threading.Event | None = None,
) -> Iterator[Step]:  # fmt: skip
    """One draft, ``variants`` distinct ones, or the best of ``candidates``: streamed, then scored and saved."""
    profile = parse_profile(profile_text)
    request = make_request(stage, asset_type, channel, instructions)
    count, many = _count(candidates, "Candidates", MAX_CANDIDATES), _count(variants, "Variants", MAX_VARIANTS)
    if count > 1 and many > 1:
        raise gr.Error("Choose candidates or variants, not both: candidates keep the best, variants keep them all.")

    def scored(result: Draft) -> Draft:
        return result.model_copy(update={"evaluation": service.score_draft(result, profile)})

    def work(on_text: Callable[[str], None]) -> list[Draft]:
        if count > 1:
            on_text(Note(f"*Drafting {count} candidates at once; the eval keeps the best...*"))
            best = service.draft_best(profile, request, candidates=count)
            results = [best, *alternatives_as_drafts(best)]
        elif many > 1:
            on_text(Note(f"*Writing {many} variants, each from its own angle...*"))
            service.ensure_indexed(profile)
            made = draft_variants(profile, request, many, model=service.model, index=service.index,
                                  settings=service.settings, on_text=on_text)  # fmt: skip
            on_text(Note("*Scoring...*"))
            results = [scored(r) for r in made]
        else:
            made = [service.draft(profile, request, on_text=on_text)]
            on_text(Note("*Scoring...*"))
            results = [scored(r) for r in made]
        for result in results[:1] if count > 1 else results:
            save_version(service, profile, result)
        return results

    yield from _streamed(work, stop)


def revision_steps(
    service: DraftingService, profile_text: str, previous: dict[str, Any] | None, instruction: str,
    *, stop: threading.Event | None = None, number: int | None = None,
) -> Iterator[Step]:  # fmt: skip
    """Revise a draft following a note, streamed, then scored and saved as the next version (or ``number``)."""
    if not previous:
        raise gr.Error("Draft something first, then revise it.")
    if not (instruction or "").strip():
        raise gr.Error("Say what to change, e.g. 'shorter' or 'warmer'.")
    if len(instruction) > MAX_INSTRUCTION_CHARS:
        raise gr.Error(f"The instruction is {len(instruction):,} characters; keep it under {MAX_INSTRUCTION_CHARS:,}.")
    profile = parse_profile(profile_text)
    try:
        current = Draft.model_validate(previous)
    except ValidationError as exc:
        raise _invalid("The draft to revise is not a draft CVJ Kit made", exc) from None

    def work(on_text: Callable[[str], None]) -> list[Draft]:
        result = service.revise(current, instruction, profile=profile, on_text=on_text)
        on_text(Note("*Scoring...*"))
        update: dict[str, Any] = {"evaluation": service.score_draft(result, profile), "alternatives": []}
        result = result.model_copy(update=update | ({"version": number} if number else {}))
        save_version(service, profile, result)
        return [result]

    yield from _streamed(work, stop)


def save_edit(service: DraftingService, profile_text: str, current: Draft, edited: str, number: int) -> Draft | None:
    """The draft with the fields as edited, scored and saved as version ``number``; None if nothing changed."""
    profile = parse_profile(profile_text)
    try:
        data = load_yaml(edited or "", source="The edited draft", error=DocumentError)
    except DocumentError as exc:
        raise gr.Error(exc.message) from None
    if not isinstance(data, dict):
        raise gr.Error("The edited draft must keep its fields as 'name: value' lines (YAML).")
    try:
        asset = ASSET_TYPES[current.asset_type].model_validate(data).model_dump(mode="json")
    except ValidationError as exc:
        raise _invalid("The edit cannot be saved", exc) from None
    changed = [name for name in asset if asset[name] != current.asset.get(name)]
    if not changed:
        return None
    revisions = [*current.revisions, f"{EDITED}: {', '.join(n.replace('_', ' ') for n in changed)}"]
    result = current.model_copy(update={"asset": asset, "version": number, "revisions": revisions,
                                        "alternatives": [], "evaluation": None})  # fmt: skip
    result = result.model_copy(update={"evaluation": service.score_draft(result, profile)})
    save_version(service, profile, result)
    return result


def asset_yaml(result: Draft) -> str:
    """The asset's fields as YAML, for editing in place."""
    return yaml.safe_dump(result.asset, sort_keys=False, allow_unicode=True, width=100)


def what_was_done(result: Draft) -> str:
    if result.version == 1 or not result.revisions:
        return f"variant {result.variant}" if result.variant else "first draft"
    last = result.revisions[-1]
    return last if last.startswith(EDITED) else f"revised: {last}"


def version_label(result: Draft) -> str:
    scored = result.evaluation
    score = f" · {scored.score:.2f} {scored.verdict}" if scored else ""
    return f"v{result.version} · {what_was_done(result)[:60]}{score}"


def what_changed(result: Draft, before: Draft | None) -> str:
    """One line on a version: what was done, which fields changed and how the score moved."""
    line = f"**v{result.version}**: {what_was_done(result)}."
    if before is not None:
        fields = [n.replace("_", " ") for n in result.asset if result.asset[n] != before.asset.get(n)]
        line += f" Changed: {', '.join(fields) or 'nothing'}."
        if result.evaluation and before.evaluation:
            line += f" Score {before.evaluation.score:.2f} → {result.evaluation.score:.2f}."
    return line


def sources_markdown(result: Draft) -> str:
    sources = sorted(result.meta.sources, key=lambda s: -s.score)
    if not sources:
        return "*No sources: this draft used the profile only.*"
    lines = ["**Sources used** (what the draft was grounded in):"]
    lines += [f"- `{s.source}` · {s.kind}, {s.stage} · relevance {s.score:.2f}" for s in sources]
    return "\n".join(lines)


def card_markdown(result: Draft, title: str) -> str:
    """One variant or candidate, side by side with the others: its verdict and weakest criteria, then its copy."""
    return f"#### {title}\n{verdict_line(result.evaluation)}\n\n{draft_markdown(result)}"


def stream_draft(
    service: DraftingService, profile_yaml: str, stage: str, asset_type: str | None, channel: str,
    instructions: str, candidates: int = 1,
) -> Iterator[Update]:  # fmt: skip
    """Yield (live text, rendered draft and verdict, JSON) as the model writes: the shape of the first UI, kept for
    callers that want one draft (the best, with candidates); errors become gr.Error."""
    for step in draft_steps(service, profile_yaml, stage, asset_type, channel, instructions, candidates=candidates):
        if step.drafts is None:
            yield step.live, step.status, None
        else:
            best = step.drafts[0]
            yield step.live, f"{draft_markdown(best)}\n\n{verdict_line(best.evaluation)}", best.model_dump(mode="json")


def stream_revision(
    service: DraftingService, profile_yaml: str, previous: dict[str, Any] | None, instruction: str
) -> Iterator[Update]:
    """Revise the draft on screen following one instruction (:func:`stream_draft`'s shape)."""
    for step in revision_steps(service, profile_yaml, previous, instruction):
        if step.drafts is None:
            yield step.live, step.status, None
        else:
            new = step.drafts[0]
            yield step.live, f"{draft_markdown(new)}\n\n{verdict_line(new.evaluation)}", new.model_dump(mode="json")
