"""``cvj index``, ``cvj ingest`` and ``cvj search``: what the drafts are grounded in."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from generator.cli.common import JsonOpt, app, err, friendly_errors, out
from generator.errors import ConfigError
from generator.ingest import load_documents
from generator.profile import load_profile
from generator.runtime import components, refresh_index
from generator.stages import parse_stage_id


@app.command()
@friendly_errors
def index(
    profile: Annotated[
        list[Path] | None, typer.Option("--profile", "-p", help="Also index these business profiles.")
    ] = None,
) -> None:
    """Build or update the knowledge index (knowledge/ plus any profiles). Only changes are embedded."""
    parts = components()
    profiles = [load_profile(p) for p in profile or []]
    with err.status("Indexing knowledge..."):
        idx = parts.knowledge_index()
        added = refresh_index(idx, parts.settings, profiles)
    err.print(f"Index up to date: {idx.count()} chunks ({added} new) in {parts.settings.index_dir}")


@app.command()
@friendly_errors
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders (.md .txt .html .pdf .docx).")],
    profile: Annotated[
        Path | None, typer.Option("--profile", "-p", help="The business these documents describe.")
    ] = None,
    business: Annotated[str | None, typer.Option(help="Business slug, instead of --profile.")] = None,
    stage: Annotated[list[str] | None, typer.Option("--stage", "-s", help="Tag the chunks with these stages.")] = None,
) -> None:
    """Add a business's own documents to the index. Re-ingesting is idempotent; unreadable files are reported."""
    if (profile is None) == (business is None):
        raise ConfigError("Say whose documents these are: --profile FILE or --business SLUG (one of them).")
    slug = load_profile(profile).key if profile else str(business).strip().lower()
    stages: list[str] = [parse_stage_id(s) for s in stage or []]
    by_source, report = load_documents(paths, business=slug, stages=stages)
    idx = components().knowledge_index()
    with Progress(console=err, transient=True) as progress:
        task = progress.add_task("Embedding", total=len(by_source))
        for source, docs in by_source.items():
            report.added += idx.replace_source(source, docs)
            progress.advance(task)
    for failure in report.failures:
        err.print(f"[yellow]skipped[/] {escape(f'{failure.path}: {failure.reason}')}", highlight=False)
    err.print(
        f"Ingested {len(report.files)} file(s) for '{slug}': {report.chunks} chunks, {report.added} new; "
        f"{len(report.failures)} skipped. Index: {idx.count()} chunks.",
        markup=False,
    )
    if report.failures:
        raise typer.Exit(2)


@app.command()
@friendly_errors
def search(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    stage: Annotated[str | None, typer.Option("--stage", "-s", help="Only chunks serving this stage.")] = None,
    k: Annotated[int, typer.Option("-k", min=1, max=50, help="How many results.")] = 5,
    business: Annotated[str | None, typer.Option(help="Only this business's documents (slug).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Search the index: stage-aware, diverse, with sources and scores."""
    stage_id = parse_stage_id(stage) if stage else None
    parts = components()
    idx = parts.knowledge_index()
    if idx.count() == 0:
        refresh_index(idx, parts.settings)
    hits = idx.search(query, k=k, stage=stage_id, business=business)
    if as_json:
        sys.stdout.write(json.dumps([h.model_dump() for h in hits], indent=2) + "\n")
        return
    table = Table("score", "stage", "kind", "source", "text", show_lines=True)
    for h in hits:
        table.add_row(f"{h.score:.3f}", h.stage, h.kind, escape(h.source), escape(h.text[:300].replace("\n", " ")))
    out.print(table)
