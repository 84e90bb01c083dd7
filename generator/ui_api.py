"""The studio's named endpoints for ``gradio_client``: ``/draft``, ``/score`` and ``/kit`` (README, "UI").

They are the studio's own functions without the page: a business is named the way a person picks it (an
example's name, a saved business's id) or given whole as YAML/JSON text, and every answer is plain JSON.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import gradio as gr

from generator.errors import ProfileError
from generator.evaluation.rule_scorers import Subject
from generator.export import export_kit, parse_formats
from generator.kit import plan_kit, run_kit
from generator.kit_models import KitReport
from generator.profile import MAX_PROFILE_BYTES, read_text_file
from generator.stages import parse_stage_id
from generator.ui_common import Studio, friendly, parse_profile
from generator.ui_drafting import draft_steps

NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,119}")  # an example's file name or a business id; never a path
MAX_SCORE_CHARS = 20_000  # a long article is ~10,000 characters; the eval reads the whole text


def profile_text(studio: Studio, business: str) -> str:
    """The profile for an example's name, a saved business's id, or the profile's own YAML/JSON text."""
    name = (business or "").strip()
    if NAME.fullmatch(name):
        for path in (studio.examples_dir / f"{name}.yaml", studio.folder("businesses") / f"{name}.yaml"):
            if path.is_file():
                return read_text_file(path, limit=MAX_PROFILE_BYTES, what="profile")
        known = ", ".join(studio.examples()) or "none"
        raise ProfileError(f"No business called '{name}'. Examples: {known}; or pass the profile as YAML/JSON text.")
    return business


def kit_summary(report: KitReport, files: list[str]) -> dict[str, Any]:
    """The kit as a client wants it: each asset's verdict, score, what to fix and copy; the journey; the files."""
    entries = []
    for e in report.entries:
        scored = e.draft.evaluation if e.draft else None
        entries.append({
            "key": e.key, "stage": e.stage, "asset_type": e.asset_type, "error": e.error, "cached": e.cached,
            "verdict": scored.verdict if scored else None, "score": scored.score if scored else None,
            "to_fix": scored.problems(3) if scored else [], "asset": e.draft.asset if e.draft else None,
        })  # fmt: skip
    journey = [row.model_dump(mode="json") for row in report.journey.rows] if report.journey else []
    return {"business": report.business, "entries": entries, "journey": journey,
            "totals": report.totals.model_dump(mode="json"), "files": files}  # fmt: skip


def register_api(studio: Studio) -> None:
    """Add the named endpoints to the Blocks being built."""

    def draft(
        profile: str, stage: str, asset_type: str = "", channel: str = "", instructions: str = "", candidates: int = 1
    ) -> dict[str, Any]:
        """Draft one asset for a business at one stage, scored by the eval (with candidates > 1: the best of them,
        the others in `alternatives`). Returns the draft: asset, meta (sources, usage), evaluation, version."""
        text = profile_text(studio, profile)
        steps = draft_steps(studio.service(), text, stage, asset_type, channel, instructions, candidates=candidates)
        *_, last = steps
        assert last.drafts is not None
        return last.drafts[0].model_dump(mode="json")

    def score(stage: str, text: str, profile: str = "") -> dict[str, Any]:
        """Score a text as a stage's asset: the eval's score, verdict, pass mark, criteria with reasons, to_fix.
        With a profile, the checks that need the business (invented facts, its words to avoid) run too."""
        if not (text or "").strip():
            raise gr.Error("Give the text to score.")
        if len(text) > MAX_SCORE_CHARS:
            raise gr.Error(f"The text is {len(text):,} characters; score at most {MAX_SCORE_CHARS:,} at a time.")
        business = parse_profile(profile_text(studio, profile)) if (profile or "").strip() else None
        subject = Subject(stage=parse_stage_id(stage), text=text, business=business.name if business else None,
                          profile=business)  # fmt: skip
        (scored,) = studio.service().score([subject])
        return {**scored.model_dump(mode="json"), "to_fix": [p.model_dump() for p in scored.to_fix()]}

    def kit(
        profile: str, stages: str = "", formats: str = "md,json", add_types: str = "", start: str = ""
    ) -> dict[str, Any]:
        """Draft (or resume) the journey kit for a business: every stage, or the comma-separated `stages`, plus the
        comma-separated `add_types` (e.g. welcome_sequence,sms_message); each asset scored; written as `formats`
        (md, json, docx, html, ics, csv; the schedule from `start`, YYYY-MM-DD, default today) to
        <data dir>/kits/<business>/."""
        business = parse_profile(profile_text(studio, profile))
        wanted = parse_formats(formats or "md,json")
        try:
            day_0 = date.fromisoformat(start.strip()) if (start or "").strip() else None
        except ValueError:
            raise gr.Error(f"start '{start}' is not a date; give YYYY-MM-DD.") from None
        items = plan_kit(
            [s.strip() for s in stages.split(",") if s.strip()] or None,
            extra_types=[t for t in (add_types or "").split(",") if t.strip()] or None,
        )
        service = studio.service()
        service.ensure_indexed(business)
        folder = studio.folder("kits", business)
        report = run_kit(business, items, out_dir=folder, model=service.model, index=service.index,
                         settings=service.settings, evaluator=service.evaluator())  # fmt: skip
        files = [str(p) for p in export_kit(report, folder, wanted, start=day_0)] if report.entries else []
        return kit_summary(report, files)

    gr.api(friendly(draft), api_name="draft")
    gr.api(friendly(score), api_name="score")
    gr.api(friendly(kit), api_name="kit")
