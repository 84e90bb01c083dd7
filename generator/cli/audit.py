"""``cvj audit``: map a business's existing copy onto the journey, say what is missing or weak, and (--draft)
draft the three assets to make first through the same path as ``cvj draft``."""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from generator.audit import AuditDoc, AuditReport, audit
from generator.audit_html import render_audit_html
from generator.cli.common import JsonOpt, ProfileOpt, app, err, friendly_errors, out
from generator.cli.drafting import save_version
from generator.cli.voice import read_pieces
from generator.drafts import Draft, DraftRequest
from generator.errors import ConfigError
from generator.evaluation.scoring import Evaluator
from generator.files import write_text_atomic
from generator.improve import best_version, draft_until
from generator.profile import BusinessProfile, load_profile
from generator.render import draft_panel
from generator.runtime import Components, components

STATUS_STYLE = {"covered": "green", "weak": "yellow", "missing": "bold red"}


def audit_tables(report: AuditReport) -> list[Table]:
    """The journey stage by stage, then every piece with the stage it serves and its score."""
    journey = Table("stage", "status", "best", "pass mark", "pieces", title=f"Journey audit: {escape(report.business)}")
    for s in report.stages:
        journey.add_row(
            s.name, f"[{STATUS_STYLE[s.status]}]{s.status}[/]", "" if s.best_score is None else f"{s.best_score:.2f}",
            f"{s.threshold:.2f}", escape(", ".join(s.pieces)) or "[dim]none[/]",
        )  # fmt: skip
    pieces = Table("piece", "stage", "conf.", "score", "to fix first", title="Your copy")
    for p in report.pieces:
        score = "" if p.score is None else f"{p.score:.2f}" + ("" if p.passed else " [yellow]weak[/]")
        fix = p.to_fix[0] if p.to_fix else ""
        pieces.add_row(escape(p.source), escape(p.label), f"{p.fit.confidence:.0%}", score, escape(fix))
    return [journey, pieces]


def _draft_first(
    parts: Components, business: BusinessProfile, report: AuditReport, evaluator: Evaluator, *, show: bool
) -> None:
    """The recommended assets, each drafted, scored and saved as ``cvj draft`` does (``show``: print them too;
    with --json, stdout holds the report alone and the saved files are named on stderr)."""
    folder = parts.settings.data_dir / "drafts" / business.slug
    with err.status("Indexing knowledge and profile..."):
        idx = parts.index([business])
    drafted: list[Draft] = []
    with parts.model() as model:
        for pick in report.draft_first:
            request = DraftRequest(stage=pick.stage, asset_type=pick.asset_type)
            err.print(f"Drafting {request.asset_class.label.lower()} for {business.name} ({pick.why})...", markup=False)
            versions = draft_until(
                business, request, min_score=0.0, max_revisions=0, model=model, index=idx, settings=parts.settings,
                evaluator=evaluator, on_version=lambda version: save_version(folder, version),
            )  # fmt: skip
            drafted.append(best_version(versions))
    for result in drafted if show else []:
        out.print(draft_panel(result))


@app.command("audit")
@friendly_errors
def audit_command(
    docs: Annotated[
        list[str], typer.Argument(help="The business's existing copy: files (md, txt, html, pdf, docx), folders or -.")
    ],
    profile: ProfileOpt,
    html: Annotated[Path | None, typer.Option("--html", help="Also write the report as one HTML page.")] = None,
    draft: Annotated[bool, typer.Option("--draft", help="Then draft the three assets to make first.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Which journey stages your existing copy covers, how well, what is missing or weak, and what to draft first.

    A line holding only '---' separates several pieces in one file."""
    business = load_profile(profile)
    pieces = read_pieces(docs)
    if not pieces:
        raise ConfigError("No copy to audit: give files, folders or '-' for stdin.")
    parts = components()
    with contextlib.ExitStack() as stack:
        with err.status("Loading the eval..."):
            evaluator = stack.enter_context(parts.evaluator())
            if evaluator.classifier is None:
                evaluator.classifier = parts.classifier()
        with err.status(f"Auditing {len(pieces)} piece(s)..."):
            report = audit([AuditDoc(source=s, text=t) for s, t in pieces], business, evaluator=evaluator)
        if html:
            write_text_atomic(html, render_audit_html(report))
            err.print(f"Wrote {html}", markup=False, highlight=False)
        if as_json:
            sys.stdout.write(json.dumps(report.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n")
        else:
            for table in audit_tables(report):
                out.print(table)
            out.print(escape(report.summary()))
            for number, pick in enumerate(report.draft_first, 1):
                out.print(f"{number}. draft [bold]{pick.stage}[/] {pick.asset_type}: {escape(pick.why)}")
        if draft and report.draft_first:
            _draft_first(parts, business, report, evaluator, show=not as_json)
