"""``cvj draft``, ``cvj revise`` and ``cvj kit``: drafting for one business or many, every result scored."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import Progress, TextColumn

from generator.chains import draft_variants
from generator.cli.common import CandidatesOpt, JsonOpt, JudgeOpt, ProfileOpt, app, err, friendly_errors, out
from generator.drafts import Draft, DraftRequest, load_draft
from generator.errors import ConfigError, CVJError
from generator.evaluation.scoring import Evaluator, language_note
from generator.export import ALL_FORMATS, export_kit
from generator.files import write_json_atomic
from generator.improve import best_version, draft_until, score_draft
from generator.kit import KitOptions, plan_kit, run_kit
from generator.kit_models import KitEntry, KitReport
from generator.kit_plan import extra_asset_types
from generator.profile import BusinessProfile, load_profile, load_profiles
from generator.render import draft_panel, kit_tables
from generator.revision import revise as revise_draft
from generator.runtime import Components, components
from generator.stages import STAGE_IDS, parse_stage_id

ScoreOpt = Annotated[
    bool, typer.Option("--score/--no-score", help="Score with the eval and show the verdict and what to fix.")
]


@contextlib.contextmanager
def _evaluator(parts: Components, *, score: bool, judge: bool) -> Iterator[Evaluator | None]:
    if not score:
        yield None
        return
    with err.status("Loading the eval..."), parts.evaluator(judge=judge) as evaluator:
        yield evaluator


def save_version(folder: Path, version: Draft) -> Path:
    """Every draft is written as it is made: <data dir>/drafts/<business>/<asset type>-v<version>[-<variant>].json."""
    variant = f"-{version.variant}" if version.variant else ""
    path = folder / f"{version.asset_type}-v{version.version}{variant}.json"
    write_json_atomic(path, version.model_dump(mode="json"))
    scored = version.evaluation
    shown = f"score {scored.score:.2f} ({scored.verdict})" if scored else "not scored"
    err.print(f"version {version.version}{variant}: {shown} -> {path}", highlight=False, markup=False)
    return path


@app.command()
@friendly_errors
def draft(
    profile: ProfileOpt,
    stage: Annotated[str, typer.Option("--stage", "-s", help=f"One of: {', '.join(STAGE_IDS)}.")],
    asset: Annotated[
        str | None, typer.Option("--asset", "-a", help="Asset type (default: the stage's first; see `cvj stages`).")
    ] = None,
    channel: Annotated[
        str | None, typer.Option("--channel", "-c", help="facebook, instagram, linkedin or x (social posts).")
    ] = None,
    instructions: Annotated[str | None, typer.Option("--instructions", "-i", help="Extra guidance.")] = None,
    variants: Annotated[int, typer.Option("--variants", "-n", min=1, max=6, help="How many distinct variants.")] = 1,
    earlier: Annotated[
        list[Path] | None,
        typer.Option("--earlier", "-e", help="Earlier assets (draft JSON) to stay consistent with; repeatable."),
    ] = None,
    min_score: Annotated[
        float | None,
        typer.Option("--min-score", min=0, max=1, help="Revise with the eval's reasons until the score reaches this."),
    ] = None,
    max_revisions: Annotated[int, typer.Option(min=0, max=10, help="Revision budget for --min-score.")] = 2,
    candidates: CandidatesOpt = 1,
    score: ScoreOpt = True,
    judge: JudgeOpt = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON: one object, or a list with --variants > 1.")
    ] = False,
) -> None:
    """Draft one asset (or N variants) for a business at one stage of the journey, scored by the eval.

    Every version is saved under <data dir>/drafts/<business>/ as it is made; with --candidates the losing
    candidates are kept in the draft's ``alternatives``."""
    if variants > 1 and (min_score is not None or candidates > 1):
        raise ConfigError("--min-score and --candidates work on one draft at a time; drop --variants.")
    if not score and (min_score is not None or candidates > 1):
        raise ConfigError("--min-score and --candidates need the eval; drop --no-score.")
    parts = components()
    business = load_profile(profile)
    _say_language(parts.settings.eval_dir, [business])
    request = DraftRequest(stage=parse_stage_id(stage), asset_type=asset, channel=channel, instructions=instructions)
    before = {d.asset_type: d for d in (load_draft(p, business=business.name) for p in earlier or [])}
    folder = parts.settings.data_dir / "drafts" / business.slug
    with err.status("Indexing knowledge and profile..."):
        idx = parts.index([business])
    with _evaluator(parts, score=score, judge=judge) as evaluator, parts.model() as model:
        what = request.asset_class.label.lower() + (f" ({variants} variants)" if variants > 1 else "")
        best_of = f" (best of {candidates})" if candidates > 1 else ""
        goal = f" until it scores {min_score:.2f}" if min_score is not None else ""
        err.print(f"Drafting {what} for {business.name}{best_of}{goal}...", markup=False)
        if evaluator is None or variants > 1:
            results = draft_variants(business, request, variants, model=model, index=idx, settings=parts.settings,
                                     earlier=before)  # fmt: skip
            if evaluator is not None:
                results = [r.model_copy(update={"evaluation": score_draft(evaluator, r, business)}) for r in results]
            for result in results:
                save_version(folder, result)
            versions = results
        else:
            budget = max_revisions if min_score is not None else 0
            versions = draft_until(
                business, request, min_score=min_score or 0.0, max_revisions=budget,
                model=model, index=idx, settings=parts.settings, evaluator=evaluator, earlier=before,
                on_version=lambda version: save_version(folder, version), candidates=candidates,
            )  # fmt: skip
            results = [best_version(versions)]
    if as_json:
        payload = results[0].model_dump(mode="json") if variants == 1 else [r.model_dump(mode="json") for r in results]
        sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    else:
        for result in results:
            out.print(draft_panel(result))
    if min_score is not None:
        final = results[0].evaluation
        reached = final is not None and final.passed and final.score >= min_score
        err.print(f"{'Reached' if reached else 'Did not reach'} {min_score:.2f} in {len(versions)} version(s).")


@app.command()
@friendly_errors
def revise(
    asset_file: Annotated[Path, typer.Argument(help="A draft as JSON (from `cvj draft --json`).")],
    instruction: Annotated[str, typer.Option("--instruction", "-i", help="What to change: 'shorter', 'warmer'...")],
    profile: Annotated[
        Path | None, typer.Option("--profile", "-p", help="Apply this business's brand rules too.")
    ] = None,
    output: Annotated[Path | None, typer.Option("--out", "-o", help="Also write the new version here.")] = None,
    score: ScoreOpt = True,
    as_json: JsonOpt = False,
) -> None:
    """Write a new version of an asset following one instruction; the original file is left as it is."""
    if not instruction.strip():
        raise ConfigError("--instruction must say what to change.")
    business = load_profile(profile) if profile else None
    original = load_draft(asset_file, business=business.name if business else None)
    parts = components()
    with _evaluator(parts, score=score, judge=False) as evaluator, parts.model() as model:
        err.print(f"Revising {asset_file.name} (version {original.version}): {instruction}", markup=False)
        result = revise_draft(original, instruction, model=model, settings=parts.settings, profile=business)
        if evaluator is not None:
            result = result.model_copy(update={"evaluation": score_draft(evaluator, result, business)})
    if output:
        write_json_atomic(output, result.model_dump(mode="json"))
    if as_json:
        sys.stdout.write(result.model_dump_json(indent=2) + "\n")
    else:
        out.print(draft_panel(result))


@app.command()
@friendly_errors
def kit(
    profile: Annotated[Path | None, typer.Option("--profile", "-p", help="One business profile.")] = None,
    profiles: Annotated[
        Path | None,
        typer.Option(help="Many: a folder of profiles, a JSONL of profiles, or a CSV with a 'path' column."),
    ] = None,
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Output folder (one subfolder per business).")] = Path(
        "kits"
    ),
    formats: Annotated[
        str, typer.Option(help="Comma-separated: md,json,docx,html, and ics,csv (the journey's calendar and sends).")
    ] = "md,json,docx,html",
    start: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="Day 0 of the journey in kit.ics and kit.csv (default: today)."),
    ] = None,
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Assets drafted at once.")] = 4,
    stages: Annotated[str | None, typer.Option(help="Comma-separated stages (default: all eight).")] = None,
    variants: Annotated[int, typer.Option(min=1, max=6, help="Variants per asset.")] = 1,
    add_types: Annotated[
        str | None,
        typer.Option(help="More asset types to draft besides each stage's default, e.g. welcome_sequence,sms_message."),
    ] = None,
    min_score: Annotated[
        float | None, typer.Option(min=0, max=1, help="Revise each asset until it scores this.")
    ] = None,
    candidates: CandidatesOpt = 1,
    judge: JudgeOpt = False,
) -> None:
    """Draft the whole journey kit (every stage, scored) for one business or many; resumable."""
    wanted = [f.strip() for f in formats.split(",") if f.strip()]
    unknown = sorted(set(wanted) - set(ALL_FORMATS))
    if unknown:
        raise ConfigError(f"Unknown format(s): {', '.join(unknown)}. Choose from: {', '.join(ALL_FORMATS)}.")
    if profile is not None and profiles is None:
        businesses = [load_profile(profile)]
    elif profiles is not None and profile is None:
        businesses = load_profiles(profiles)
    else:
        raise ConfigError("Give --profile FILE for one business or --profiles DIR|FILE for many (one of them).")
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(f"--out {out_dir} is a file; give a folder for the kits.")
    extra = extra_asset_types(add_types)
    plan = plan_kit([s.strip() for s in stages.split(",")] if stages else None, variants, extra)
    parts = components()
    _say_language(parts.settings.eval_dir, businesses)
    options = KitOptions(concurrency=concurrency, min_score=min_score, candidates=candidates)
    with err.status("Indexing knowledge and profiles..."):
        idx = parts.index(businesses)
    reports: list[KitReport] = []
    broken: list[str] = []
    with (
        parts.evaluator(judge=judge) as evaluator,
        parts.model() as model,
        Progress(*Progress.get_default_columns(), TextColumn("{task.fields[last]}"), console=err) as progress,
    ):
        task = progress.add_task("Journey kits", total=len(plan) * len(businesses), last="")
        for business in businesses:  # one folder each: load_profiles refuses two profiles with one slug
            folder = out_dir / business.slug

            def advance(entry: KitEntry, name: str = business.name) -> None:
                verdict = entry.draft.evaluation.verdict if entry.draft and entry.draft.evaluation else "drafted"
                state = "not drafted" if entry.error else verdict + (" (cached)" if entry.cached else "")
                progress.update(task, advance=1, last=escape(f"{name}: {entry.key} {state}"))

            try:
                report = run_kit(
                    business, plan, out_dir=folder, model=model, index=idx, settings=parts.settings,
                    evaluator=evaluator, options=options, on_done=advance,
                )  # fmt: skip
            except Exception as exc:  # one business's fault is not the batch's: the next one still runs
                broken.append(f"{business.name}: the kit could not run ({type(exc).__name__}: {exc})")
                continue
            reports.append(report)
            for line in report.set_aside:
                err.print(f"{business.name}: redone {line}", highlight=False, markup=False)
            try:
                paths = export_kit(report, folder, wanted, start=start.date() if start else None)
            except CVJError as exc:
                broken.append(f"{business.name}: {exc.message}")
                continue
            err.print(f"{business.name}: wrote {', '.join(str(p) for p in paths)}", markup=False)
    for table in kit_tables(reports):
        out.print(table)
    for line in broken:
        err.print(f"[bold red]Error:[/] {escape(line)}", highlight=False)
    missing = sum(r.totals.failed for r in reports)
    unusable = sum(r.totals.off_brief for r in reports)
    if missing or unusable:
        err.print(f"{missing} asset(s) not drafted and {unusable} failed the eval's on-brief check (see above).")
    if missing or unusable or broken:
        raise typer.Exit(2)


def _say_language(eval_dir: Path, businesses: list[BusinessProfile]) -> None:
    """One line per language the eval judges only in part (each business's language, said once)."""
    for language in dict.fromkeys(b.language for b in businesses):
        note = language_note(eval_dir, language)
        if note:
            err.print(f"[yellow]{note}[/yellow]", highlight=False)
