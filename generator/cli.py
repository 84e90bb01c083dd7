"""The ``cvj`` command line: index knowledge, draft assets, manage the local model server."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.panel import Panel
from rich.progress import Progress, TextColumn
from rich.table import Table

from generator import local_llm
from generator.assets import asset_types_for
from generator.chains import draft_variants
from generator.drafts import Draft, DraftRequest, load_draft
from generator.embeddings import ensure_minilm_files
from generator.errors import ConfigError, CVJError
from generator.evaluation.calibration import calibrate
from generator.evaluation.items import read_items, to_subject
from generator.evaluation.report import render_html, render_terminal
from generator.evaluation.retrieval import evaluate_retrieval, load_cases
from generator.evaluation.suite import run_suite, suite_drafter
from generator.evaluation.suite_file import load_suite
from generator.export import FORMATS, export_kit
from generator.files import write_json_atomic, write_text_atomic
from generator.improve import best_version, draft_until
from generator.ingest import load_documents
from generator.kit import KitOptions, plan_kit, run_kit
from generator.kit_models import KitEntry, KitReport
from generator.llm import check_completion, open_chat_model
from generator.profile import load_profile, load_profiles
from generator.revision import revise as revise_draft
from generator.runtime import (
    judge_choice,
    open_classifier,
    open_evaluator,
    open_index,
    refresh_index,
    settings_or_error,
)
from generator.settings import PROJECT_ROOT, EmbeddingsProvider, Provider
from generator.stages import STAGE_IDS, load_stages, parse_stage_id
from generator.tokens import ENCODING, count_tokens, ensure_tiktoken_cache

app = typer.Typer(
    name="cvj",
    help="CVJ Kit: draft marketing assets for every stage of the Customer Value Journey.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
llm_app = typer.Typer(help="Manage the embedded local model server (llama.cpp, OpenAI-compatible).")
app.add_typer(llm_app, name="llm")
eval_app = typer.Typer(help="Measure quality: retrieval, and drafted assets against their stage's criteria.")
app.add_typer(eval_app, name="eval")

out = Console()
err = Console(stderr=True, soft_wrap=True)  # messages stay one line, whatever the terminal width
F = TypeVar("F", bound=Callable[..., Any])

ProfileOpt = Annotated[Path, typer.Option("--profile", "-p", help="Business profile, YAML or JSON.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of formatted text.")]
JudgeOpt = Annotated[bool, typer.Option("--judge/--no-judge", help="Score judge criteria with the LLM judge.")]
CandidatesOpt = Annotated[
    int,
    typer.Option(
        "--candidates", min=1, max=8, help="Draft N at once and keep the one the eval ranks best (the rest are kept)."
    ),
]
AutoJudgeOpt = Annotated[
    bool | None,
    typer.Option(
        "--judge/--no-judge",
        help="Score judge criteria with the LLM judge [default: on with a capable model, off with the bundled one].",
        show_default=False,
    ),
]


def friendly_errors(func: F) -> F:
    """Turn library errors into one readable line on stderr and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except CVJError as exc:
            err.print(f"[bold red]Error:[/] {exc.message}", highlight=False, markup=True)
            raise typer.Exit(2) from None
        except ValidationError as exc:
            problems = "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())
            err.print(f"[bold red]Error:[/] {problems}", highlight=False)
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            err.print("Interrupted.")
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


@app.command()
@friendly_errors
def index(
    profile: Annotated[
        list[Path] | None, typer.Option("--profile", "-p", help="Also index these business profiles.")
    ] = None,
) -> None:
    """Build or update the knowledge index (knowledge/ plus any profiles). Only changes are embedded."""
    settings = settings_or_error()
    profiles = [load_profile(p) for p in profile or []]
    with err.status("Indexing knowledge..."):
        idx = open_index(settings)
        added = refresh_index(idx, settings, profiles)
    err.print(f"Index up to date: {idx.count()} chunks ({added} new) in {settings.index_dir}")


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
    slug = load_profile(profile).slug if profile else str(business).strip().lower()
    stages = [parse_stage_id(s) for s in stage or []]
    settings = settings_or_error()
    by_source, report = load_documents(paths, business=slug, stages=stages)
    idx = open_index(settings)
    with Progress(console=err, transient=True) as progress:
        task = progress.add_task("Embedding", total=len(by_source))
        for source, docs in by_source.items():
            report.added += idx.replace_source(source, docs)
            progress.advance(task)
    for failure in report.failures:
        err.print(f"[yellow]skipped[/] {failure.path}: {failure.reason}", highlight=False)
    err.print(
        f"Ingested {len(report.files)} file(s) for '{slug}': {report.chunks} chunks, {report.added} new; "
        f"{len(report.failures)} skipped. Index: {idx.count()} chunks."
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
    settings = settings_or_error()
    idx = open_index(settings)
    if idx.count() == 0:
        refresh_index(idx, settings)
    hits = idx.search(query, k=k, stage=stage_id, business=business)
    if as_json:
        sys.stdout.write(json.dumps([h.model_dump() for h in hits], indent=2) + "\n")
        return
    table = Table("score", "stage", "kind", "source", "text", show_lines=True)
    for h in hits:
        table.add_row(f"{h.score:.3f}", h.stage, h.kind, h.source, h.text[:300].replace("\n", " "))
    out.print(table)


@eval_app.command("retrieval")
@friendly_errors
def eval_retrieval(
    queries: Annotated[
        Path | None, typer.Option(help="Labelled query set (default eval/retrieval/queries.yaml).")
    ] = None,
    k: Annotated[int, typer.Option("-k", min=1, max=50)] = 5,
    as_json: JsonOpt = False,
) -> None:
    """Retrieval quality: hit@1 stage accuracy (no --stage given) and recall@k of the expected sources."""
    settings = settings_or_error()
    cases = load_cases(queries or settings.eval_dir / "retrieval" / "queries.yaml")
    idx = open_index(settings)
    refresh_index(idx, settings)
    report = evaluate_retrieval(idx, cases, k=k)
    if as_json:
        sys.stdout.write(report.model_dump_json(indent=2) + "\n")
        return
    table = Table("metric", "value", title=f"Retrieval on {report.cases} labelled queries")
    table.add_row("hit@1 stage accuracy", f"{report.hit_at_1_stage:.3f}")
    table.add_row(f"recall@{report.k} (sources)", f"{report.recall_at_k:.3f}")
    for stage_id, value in report.per_stage.items():
        table.add_row(f"  hit@1 · {stage_id}", f"{value:.3f}")
    out.print(table)
    for miss in report.misses:
        out.print(f"[dim]miss: {miss.expected} -> {miss.got}: {miss.query}[/]", highlight=False)


@eval_app.command("score")
@friendly_errors
def eval_score(
    file: Annotated[Path, typer.Argument(help="JSON or JSONL: items {stage, text, business?} or saved drafts.")],
    profile: Annotated[Path | None, typer.Option("--profile", "-p", help="Check brand words, claims, prices.")] = None,
    judge: AutoJudgeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Score texts or drafts against their stage's rubric: a score in [0, 1], pass/fail, reasons."""
    settings = settings_or_error()
    judge, judge_note = judge_choice(settings, judge)
    err.print(judge_note, highlight=False)
    business = load_profile(profile) if profile else None
    subjects = [to_subject(item, number=i, profile=business) for i, item in enumerate(read_items(file), 1)]
    with (
        err.status("Loading the eval..."),
        open_evaluator(settings, judge=judge) as evaluator,
        Progress(console=err, transient=True) as progress,
    ):
        task = progress.add_task("Scoring", total=len(subjects))
        results = evaluator.score_many(subjects, on_scored=lambda _: progress.advance(task))
    if as_json:
        sys.stdout.write(json.dumps([r.model_dump(mode="json") for r in results], indent=2) + "\n")
        return
    for number, (subject, result) in enumerate(zip(subjects, results, strict=True), 1):
        colour = {"passed": "green", "needs work": "yellow"}.get(result.verdict, "red")
        verdict = f"[{colour}]{result.verdict.upper()}[/]"
        table = Table(
            "criterion", "weight", "score", "reason", title=f"#{number} {subject.stage}: {result.score:.2f} {verdict}"
        )
        for check in result.gate.checks if result.gate else []:
            table.add_row(f"gate: {check.name} *", "-", "ok" if check.passed else "[red]fails[/]", check.reason)
        for c in result.criteria:
            shown = "n/a" if c.score is None else f"{c.score:.2f}"
            table.add_row(c.name + (" *" if c.required else ""), f"{c.weight:g}", shown, c.reason)
        out.print(table)


@eval_app.command("classify")
@friendly_errors
def eval_classify(
    file: Annotated[Path, typer.Argument(help="JSON or JSONL of items {text}.")],
    as_json: JsonOpt = False,
) -> None:
    """Which stage each text serves, with a confidence."""
    items = read_items(file)
    texts = []
    for number, item in enumerate(items, 1):
        text = item.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ConfigError(f"Item {number} has no 'text'.")
        texts.append(text)
    with err.status("Classifying..."):
        fits = open_classifier(settings_or_error()).classify(texts)
    if as_json:
        sys.stdout.write(json.dumps([f.model_dump() for f in fits], indent=2) + "\n")
        return
    table = Table("#", "stage", "confidence", "text")
    for number, (fit, text) in enumerate(zip(fits, texts, strict=True), 1):
        stage = f"unclear: {fit.stage} or {fit.runner_up}" if fit.unclear else fit.stage
        table.add_row(str(number), stage, f"{fit.confidence:.2f}", text[:90])
    out.print(table)


@eval_app.command("run")
@friendly_errors
def eval_run(
    suite: Annotated[Path | None, typer.Option(help="Suite file (default eval/suites/default.yaml).")] = None,
    report_path: Annotated[Path, typer.Option("--out", "-o", help="Where to write the HTML report.")] = Path(
        "eval-report.html"
    ),
    judge: AutoJudgeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Run the eval suite (promptfoo-shaped cases): a terminal table and a self-contained HTML report."""
    settings = settings_or_error()
    judge, judge_note = judge_choice(settings, judge)
    err.print(judge_note, highlight=False)
    suite_file = suite or settings.eval_dir / "suites" / "default.yaml"
    loaded = load_suite(suite_file)
    with err.status("Indexing knowledge and profiles..."):
        idx = open_index(settings)
        refresh_index(idx, settings)
    with (
        open_evaluator(settings, judge=judge) as evaluator,
        open_chat_model(settings) as model,
        Progress(console=err, transient=True) as progress,
    ):
        task = progress.add_task("Cases", total=len(loaded.cases))
        drafter = suite_drafter(model=model, index=idx, settings=settings, base_dir=PROJECT_ROOT)
        report = run_suite(
            loaded, evaluator=evaluator, draft_fn=drafter, base_dir=PROJECT_ROOT,
            on_case=lambda done, total: progress.update(task, completed=done),
        )  # fmt: skip
    write_text_atomic(report_path, render_html(report))
    if as_json:
        sys.stdout.write(report.model_dump_json(indent=2) + "\n")
    else:
        render_terminal(report, out)
    err.print(f"HTML report: {report_path}")


@eval_app.command("calibrate")
@friendly_errors
def eval_calibrate(
    judge: Annotated[bool, typer.Option("--judge/--no-judge", help="Include the LLM judge (slow offline).")] = False,
    snippets: Annotated[
        list[Path] | None, typer.Option(help="Stage-labelled snippets (JSONL); repeat for several files.")
    ] = None,
    pairs: Annotated[
        list[Path] | None, typer.Option(help="Good-vs-bad pairs (JSONL); repeat for several files.")
    ] = None,
    drafts: Annotated[
        list[Path] | None,
        typer.Option(help="Drafts labelled publishable or nonsense (JSONL); repeat for several files."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """The eval's own accuracy on labelled sets (default: every snippets, pairs and drafts file in eval/labelled/)."""
    settings = settings_or_error()
    labelled = settings.eval_dir / "labelled"
    with err.status("Calibrating..."), open_evaluator(settings, judge=judge) as evaluator:
        assert evaluator.classifier is not None
        report = calibrate(
            evaluator=evaluator,
            classifier=evaluator.classifier,
            snippets_files=snippets or sorted(labelled.glob("*snippets*.jsonl")),
            pairs_files=pairs or sorted(labelled.glob("*pairs*.jsonl")),
            drafts_files=drafts or sorted(labelled.glob("*drafts*.jsonl")),
            examples_dir=settings.examples_dir,
        )
    if as_json:
        sys.stdout.write(report.model_dump_json(indent=2) + "\n")
        return
    table = Table("metric", "value", title="Eval calibration")
    table.add_row(f"stage fit accuracy ({report.snippets} snippets)", f"{report.stage_fit_accuracy:.3f}")
    table.add_row(
        f"  where not 'unclear' ({report.stage_fit_abstained:.0%} unclear)", f"{report.stage_fit_decided_accuracy:.3f}"
    )
    table.add_row("  calibration error (ECE)", f"{report.stage_fit_ece:.3f}")
    for stage_id, value in report.stage_fit_per_stage.items():
        table.add_row(f"  stage fit · {stage_id}", f"{value:.3f}")
    table.add_row(f"pairwise accuracy ({report.pairs} pairs)", f"{report.pairwise_accuracy:.3f}")
    for stage_id, value in report.pairwise_per_stage.items():
        table.add_row(f"  pairwise · {stage_id}", f"{value:.3f}")
    if report.drafts:
        d = report.drafts
        table.add_row(f"drafts ({d.drafts}): publishable passed", f"{d.publishable_passed:.3f}")
        table.add_row("  nonsense passed", f"{d.nonsense_passed:.3f}")
        table.add_row("  'fails' precision / recall", f"{d.fail_precision:.3f} / {d.fail_recall:.3f}")
    out.print(table)
    sets = Table("file", "items", "accuracy", "where clear", "unclear", "ECE", "publishable passed",
                 "nonsense passed", title="Per labelled file")  # fmt: skip
    fmt = lambda v: "-" if v is None else f"{v:.3f}"  # noqa: E731
    for f in report.sets:
        sets.add_row(f.file, str(f.items), fmt(f.accuracy), fmt(f.decided_accuracy), fmt(f.abstained), fmt(f.ece),
                     fmt(f.publishable_passed), fmt(f.nonsense_passed))  # fmt: skip
    out.print(sets)
    crit = Table("criterion", "pairs", "agreement (good ≥ bad)", "strict (good > bad)", title="Per-criterion agreement")
    for key, agreement in report.criteria.items():
        crit.add_row(key, str(agreement.pairs), f"{agreement.agreement:.2f}", f"{agreement.strict:.2f}")
    out.print(crit)


def _print_draft(result: Draft) -> None:
    asset = result.typed()
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column()
    for name, value in result.asset.items():
        text = "\n".join(f"• {v}" for v in value) if isinstance(value, list) else str(value)
        table.add_row(name.replace("_", " "), text)
    title = f"{result.business} · {result.stage} · {asset.label}"
    if result.variant:
        title += f" · variant {result.variant}"
    if result.version > 1:
        title += f" · version {result.version}"
    out.print(Panel(table, title=title, title_align="left"))
    meta = result.meta
    sources = ", ".join(sorted({s.source for s in meta.sources})) or "none"
    out.print(
        f"[dim]model {meta.provider}:{meta.model} · prompt {meta.prompt_id} v{meta.prompt_version} · "
        f"{meta.usage.total_tokens} tokens · ${meta.cost_usd:.4f} · {meta.seconds:.1f}s · "
        f"{meta.attempts} attempt(s)\nsources: {sources}[/]"
    )


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
    judge: JudgeOpt = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON: one object, or a list with --variants > 1.")
    ] = False,
) -> None:
    """Draft one asset (or N variants) for a business at one stage of the journey."""
    if min_score is not None or candidates > 1:
        if variants > 1:
            raise ConfigError("--min-score and --candidates work on one draft at a time; drop --variants.")
        _draft_to_score(profile, stage, asset, channel, instructions, earlier, min_score, max_revisions, judge,
                        as_json, candidates)  # fmt: skip
        return
    stage_id = parse_stage_id(stage)
    settings = settings_or_error()
    business = load_profile(profile)
    request = DraftRequest(stage=stage_id, asset_type=asset, channel=channel, instructions=instructions)
    before = {d.asset_type: d for d in (load_draft(p) for p in earlier or [])}
    with err.status("Indexing knowledge and profile..."):
        idx = open_index(settings)
        refresh_index(idx, settings, [business])
    with err.status(f"Starting {settings.resolved_provider.value} model..."), open_chat_model(settings) as model:
        what = request.asset_class.label.lower() + (f" ({variants} variants)" if variants > 1 else "")
        err.print(f"Drafting {what} for {business.name}...")
        results = draft_variants(business, request, variants, model=model, index=idx, settings=settings, earlier=before)
    if as_json:
        payload = results[0].model_dump(mode="json") if variants == 1 else [r.model_dump(mode="json") for r in results]
        sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    else:
        for result in results:
            _print_draft(result)


def _draft_to_score(
    profile: Path,
    stage: str,
    asset: str | None,
    channel: str | None,
    instructions: str | None,
    earlier: list[Path] | None,
    min_score: float | None,
    max_revisions: int,
    judge: bool,
    as_json: bool,
    candidates: int,
) -> None:
    """`draft --min-score` / `--candidates`: every version is written to <data dir>/drafts/<business>/ as it is
    made; the losing candidates are kept in the draft's ``alternatives``."""
    settings = settings_or_error()
    business = load_profile(profile)
    request = DraftRequest(stage=parse_stage_id(stage), asset_type=asset, channel=channel, instructions=instructions)
    before = {d.asset_type: d for d in (load_draft(p) for p in earlier or [])}
    folder = settings.data_dir / "drafts" / business.slug

    def keep(version: Draft) -> None:
        path = folder / f"{version.asset_type}-v{version.version}.json"
        write_json_atomic(path, version.model_dump(mode="json"))
        scored = version.evaluation
        shown = f"{scored.score:.2f} ({scored.verdict})" if scored else "n/a"
        err.print(f"version {version.version}: score {shown} -> {path}")

    with err.status("Indexing knowledge and profile..."):
        idx = open_index(settings)
        refresh_index(idx, settings, [business])
    with open_evaluator(settings, judge=judge) as evaluator, open_chat_model(settings) as model:
        goal = f" until it scores {min_score:.2f}" if min_score is not None else ""
        best_of = f" (best of {candidates})" if candidates > 1 else ""
        err.print(f"Drafting {request.asset_class.label.lower()} for {business.name}{best_of}{goal}...")
        versions = draft_until(
            business, request, min_score=min_score or 0.0, max_revisions=max_revisions if min_score is not None else 0,
            model=model, index=idx, settings=settings, evaluator=evaluator, earlier=before, on_version=keep,
            candidates=candidates,
        )  # fmt: skip
    final = best_version(versions)
    if as_json:
        sys.stdout.write(final.model_dump_json(indent=2) + "\n")
    else:
        _print_draft(final)
    if min_score is not None:
        reached = final.evaluation is not None and final.evaluation.passed and final.evaluation.score >= min_score
        err.print(f"{'Reached' if reached else 'Did not reach'} {min_score:.2f} in {len(versions)} version(s).")


@app.command()
@friendly_errors
def kit(
    profile: Annotated[Path | None, typer.Option("--profile", "-p", help="One business profile.")] = None,
    profiles: Annotated[
        Path | None,
        typer.Option(help="Many: a folder of profiles, a JSONL of profiles, or a CSV with a 'path' column."),
    ] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder (one subfolder per business).")] = Path(
        "kits"
    ),
    formats: Annotated[str, typer.Option(help="Comma-separated: md,json,docx,html.")] = "md,json,docx,html",
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Assets drafted at once.")] = 4,
    stages: Annotated[str | None, typer.Option(help="Comma-separated stages (default: all eight).")] = None,
    variants: Annotated[int, typer.Option(min=1, max=6, help="Variants per asset.")] = 1,
    min_score: Annotated[
        float | None, typer.Option(min=0, max=1, help="Revise each asset until it scores this.")
    ] = None,
    candidates: CandidatesOpt = 1,
    judge: JudgeOpt = False,
) -> None:
    """Draft the whole journey kit (every stage, scored) for one business or many; resumable."""
    if (profile is None) == (profiles is None):
        raise ConfigError("Give --profile FILE for one business or --profiles DIR|FILE for many (one of them).")
    wanted = [f.strip() for f in formats.split(",") if f.strip()]
    unknown = sorted(set(wanted) - set(FORMATS))
    if unknown:
        raise ConfigError(f"Unknown format(s): {', '.join(unknown)}. Choose from: {', '.join(FORMATS)}.")
    businesses = [load_profile(profile)] if profile else load_profiles(profiles)  # type: ignore[arg-type]
    plan = plan_kit([s.strip() for s in stages.split(",")] if stages else None, variants)
    settings = settings_or_error()
    options = KitOptions(concurrency=concurrency, min_score=min_score, candidates=candidates)
    with err.status("Indexing knowledge and profiles..."):
        idx = open_index(settings)
        refresh_index(idx, settings, businesses)
    reports: list[KitReport] = []
    with (
        open_evaluator(settings, judge=judge) as evaluator,
        open_chat_model(settings) as model,
        Progress(*Progress.get_default_columns(), TextColumn("{task.fields[last]}"), console=err) as progress,
    ):
        task = progress.add_task("Journey kits", total=len(plan) * len(businesses), last="")
        for business in businesses:
            folder = out / business.slug

            def advance(entry: KitEntry, name: str = business.name) -> None:
                verdict = entry.draft.evaluation.verdict if entry.draft and entry.draft.evaluation else "drafted"
                state = "not drafted" if entry.error else verdict + (" (cached)" if entry.cached else "")
                progress.update(task, advance=1, last=f"{name}: {entry.key} {state}")

            report = run_kit(
                business, plan, out_dir=folder, model=model, index=idx, settings=settings,
                evaluator=evaluator, options=options, on_done=advance,
            )  # fmt: skip
            paths = export_kit(report, folder, wanted)
            reports.append(report)
            err.print(f"{business.name}: wrote {', '.join(str(p) for p in paths)}")
    _print_kit_summary(reports)
    missing = sum(r.totals.failed for r in reports)
    unusable = sum(r.totals.off_brief for r in reports)
    if missing or unusable:
        err.print(f"{missing} asset(s) not drafted and {unusable} failed the eval's on-brief check (see above).")
        raise typer.Exit(2)


def _print_kit_summary(reports: list[KitReport]) -> None:
    """Each asset with its verdict and what to fix first, then one line per business."""
    for r in reports:
        assets = Table("asset", "verdict", "score", "what to fix first", title=f"{r.business}: the journey kit")
        for e in r.entries:
            scored = e.draft.evaluation if e.draft else None
            if e.error:
                assets.add_row(e.key, "[red]not drafted[/]", "-", e.error[:160])
            elif scored:
                colour = {"passed": "green", "needs work": "yellow"}.get(scored.verdict, "red")
                fix = "; ".join(scored.problems(2))[:160]
                assets.add_row(e.key, f"[{colour}]{scored.verdict}[/]", f"{scored.score:.2f}", fix)
            else:
                assets.add_row(e.key, "drafted", "n/a", "(not scored)")
        out.print(assets)
    table = Table("business", "passed", "needs work", "failed eval", "not drafted", "mean score", "tokens", "cost $",
                  "wall s", "model calls")  # fmt: skip
    for r in reports:
        scores = [s.score for s in r.overview if s.score is not None]
        mean = f"{sum(scores) / len(scores):.2f}" if scores else "n/a"
        t = r.totals
        table.add_row(
            r.business, str(t.passed), str(t.needs_work), str(t.off_brief), str(t.failed), mean,
            str(t.input_tokens + t.output_tokens), f"{t.cost_usd:.4f}", f"{t.wall_seconds:.1f}", str(t.model_calls),
        )  # fmt: skip
    out.print(table)


@app.command()
@friendly_errors
def revise(
    asset_file: Annotated[Path, typer.Argument(help="A draft as JSON (from `cvj draft --json`).")],
    instruction: Annotated[str, typer.Option("--instruction", "-i", help="What to change: 'shorter', 'warmer'...")],
    profile: Annotated[
        Path | None, typer.Option("--profile", "-p", help="Apply this business's brand rules too.")
    ] = None,
    output: Annotated[Path | None, typer.Option("--out", "-o", help="Also write the new version here.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Write a new version of an asset following one instruction; the original file is left as it is."""
    original = load_draft(asset_file)
    if not instruction.strip():
        raise ConfigError("--instruction must say what to change.")
    business = load_profile(profile) if profile else None
    settings = settings_or_error()
    with err.status(f"Starting {settings.resolved_provider.value} model..."), open_chat_model(settings) as model:
        err.print(f"Revising {asset_file.name} (version {original.version}): {instruction}")
        result = revise_draft(original, instruction, model=model, settings=settings, profile=business)
    if output:
        write_json_atomic(output, result.model_dump(mode="json"))
    if as_json:
        sys.stdout.write(result.model_dump_json(indent=2) + "\n")
    else:
        _print_draft(result)


@app.command()
def stages() -> None:
    """List the eight stages, what each is for, and their asset types."""
    table = Table("stage", "purpose", "asset types", show_lines=True)
    for s in load_stages():
        table.add_row(s.id, s.purpose, "\n".join(a.asset_type for a in asset_types_for(s.id)))
    out.print(table)


@app.command()
@friendly_errors
def doctor() -> None:
    """Check the configuration, prepare the offline stack, and ask the chat model for one real completion."""
    settings = settings_or_error()
    checks: list[tuple[str, str]] = []
    ensure_tiktoken_cache()
    checks.append(("tokens", f"tiktoken {ENCODING}: {count_tokens('ready')} token(s) for 'ready'"))
    if settings.embeddings is EmbeddingsProvider.LOCAL:
        checks.append(("embeddings", f"MiniLM ONNX files in {ensure_minilm_files(settings.models_dir)}"))
    else:
        checks.append(("embeddings", f"OpenAI {settings.embedding_model}"))
    provider = settings.resolved_provider
    if provider is Provider.LOCAL:
        checks.append(("llama.cpp", local_llm.build_info()))
        where = f"local llama.cpp server with {local_llm.gguf_path(settings).name}"
    else:
        where = f"{provider.value}:{settings.resolved_model} at {settings.base_url or 'api.openai.com'}"
    with err.status("Asking the chat model for a test completion..."):
        checks.append(("chat model", f"{where}: {check_completion(settings)}"))
    for name, detail in checks:
        err.print(f"[green]ok[/] {name:<11} {detail}", highlight=False)


@app.command()
@friendly_errors
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Run the HTTP API (docs at /docs) with the Gradio UI mounted at /ui."""
    import uvicorn

    from generator.api import create_app

    settings_or_error()  # fail early and readably on bad configuration
    err.print(f"CVJ Kit API on http://{host}:{port} (docs /docs, UI /ui)")
    uvicorn.run(create_app(), host=host, port=port, log_level="info")


@llm_app.command("start")
@friendly_errors
def llm_start() -> None:
    """Start the local server (or reuse a running one); it keeps running for later commands."""
    settings = settings_or_error()
    with err.status("Starting the local model server..."):
        state, started = local_llm.start(settings)
    verb = "Started" if started else "Already running:"
    err.print(f"{verb} {Path(state.model_path).name} at {state.base_url} (pid {state.pid})")


@llm_app.command("stop")
@friendly_errors
def llm_stop() -> None:
    """Stop the local server started by `cvj llm start`."""
    stopped = local_llm.stop(settings_or_error())
    err.print("Stopped." if stopped else "No local server was running.")


@llm_app.command("status")
@friendly_errors
def llm_status(as_json: JsonOpt = False) -> None:
    """Show whether the local server is running, and where."""
    state = local_llm.find_running(settings_or_error())
    if as_json:
        payload = {"running": bool(state), **(json.loads(state.model_dump_json()) if state else {})}
        sys.stdout.write(json.dumps(payload) + "\n")
    elif state:
        out.print(f"Running {Path(state.model_path).name} at {state.base_url} (pid {state.pid})")
    else:
        out.print("Not running. The app starts it on demand; `cvj llm start` keeps one warm.")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
