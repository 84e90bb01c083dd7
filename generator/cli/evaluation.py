"""``cvj eval ...``: score texts and drafts, classify, run suites, and measure the eval and retrieval themselves."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress
from rich.table import Table

from generator.cli.common import AutoJudgeOpt, JsonOpt, err, eval_app, friendly_errors, out
from generator.errors import ConfigError
from generator.evaluation.calibration import CalibrationReport, calibrate
from generator.evaluation.items import read_items, to_subject
from generator.evaluation.report import render_html, render_terminal
from generator.evaluation.retrieval import evaluate_retrieval, load_cases
from generator.evaluation.signals import base_language
from generator.evaluation.suite import run_suite, suite_drafter
from generator.evaluation.suite_file import load_suite
from generator.files import write_text_atomic
from generator.language import DEFAULT_LANGUAGE, language_name
from generator.profile import load_profile
from generator.render import score_table
from generator.runtime import components, judge_choice, refresh_index


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
    parts = components()
    cases = load_cases(queries or parts.settings.eval_dir / "retrieval" / "queries.yaml")
    idx = parts.knowledge_index()
    refresh_index(idx, parts.settings)
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
    parts = components()
    use_judge, judge_note = judge_choice(parts.settings, judge)
    err.print(judge_note, highlight=False)
    business = load_profile(profile) if profile else None
    subjects = [to_subject(item, number=i, profile=business) for i, item in enumerate(read_items(file), 1)]
    with (
        err.status("Loading the eval..."),
        parts.evaluator(judge=use_judge) as evaluator,
        Progress(console=err, transient=True) as progress,
    ):
        task = progress.add_task("Scoring", total=len(subjects))
        results = evaluator.score_many(subjects, on_scored=lambda _: progress.advance(task))
    if as_json:
        sys.stdout.write(json.dumps([r.model_dump(mode="json") for r in results], indent=2) + "\n")
        return
    for number, (subject, result) in enumerate(zip(subjects, results, strict=True), 1):
        out.print(score_table(result, title=f"#{number} {subject.stage}"))


@eval_app.command("classify")
@friendly_errors
def eval_classify(
    file: Annotated[Path, typer.Argument(help="JSON or JSONL of items {text}.")],
    as_json: JsonOpt = False,
) -> None:
    """Which stage each text serves, with a confidence."""
    texts = []
    for number, item in enumerate(read_items(file), 1):
        text = item.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ConfigError(f"Item {number} has no 'text'.")
        texts.append(text)
    with err.status("Classifying..."):
        fits = components().classifier().classify(texts)
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
    parts = components()
    use_judge, judge_note = judge_choice(parts.settings, judge)
    err.print(judge_note, highlight=False)
    suite_file = suite or parts.settings.eval_dir / "suites" / "default.yaml"
    loaded = load_suite(suite_file)
    base_dir = parts.settings.root_dir  # profile paths in suites are relative to the data root
    with err.status("Indexing knowledge and profiles..."):
        idx = parts.index()
    with (
        parts.evaluator(judge=use_judge) as evaluator,
        parts.model() as model,
        Progress(console=err, transient=True) as progress,
    ):
        task = progress.add_task("Cases", total=len(loaded.cases))
        drafter = suite_drafter(model=model, index=idx, settings=parts.settings, base_dir=base_dir)
        report = run_suite(
            loaded, evaluator=evaluator, draft_fn=drafter, base_dir=base_dir,
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
    language: Annotated[
        str | None,
        typer.Option(help="Another language's labelled sets, eval/labelled/<language>/ (e.g. es); default English."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """The eval's own accuracy on labelled sets (default: every snippets, pairs and drafts file in eval/labelled/)."""
    parts = components()
    labelled = parts.settings.eval_dir / "labelled"
    if language and base_language(language) != DEFAULT_LANGUAGE:
        labelled = labelled / base_language(language)
        if not labelled.is_dir():
            raise ConfigError(f"No labelled sets for {language_name(language)}: {labelled} is not a folder.")
    with err.status("Calibrating..."), parts.evaluator(judge=judge) as evaluator:
        if evaluator.classifier is None:
            raise ConfigError("Calibration needs the stage classifier, and this evaluator has none.")
        report = calibrate(
            evaluator=evaluator,
            classifier=evaluator.classifier,
            snippets_files=snippets or sorted(labelled.glob("*snippets*.jsonl")),
            pairs_files=pairs or sorted(labelled.glob("*pairs*.jsonl")),
            drafts_files=drafts or sorted(labelled.glob("*drafts*.jsonl")),
            examples_dir=parts.settings.examples_dir,
        )
    if as_json:
        sys.stdout.write(report.model_dump_json(indent=2) + "\n")
        return
    for table in calibration_tables(report):
        out.print(table)


def calibration_tables(report: CalibrationReport) -> list[Table]:
    """The headline figures, then per labelled file, then per criterion."""
    table = Table("metric", "value", title="Eval calibration")
    if report.snippets:  # a language's folder may hold some kinds of set and not others
        table.add_row(f"stage fit accuracy ({report.snippets} snippets)", f"{report.stage_fit_accuracy:.3f}")
        unclear = f"  where not 'unclear' ({report.stage_fit_abstained:.0%} unclear)"
        table.add_row(unclear, f"{report.stage_fit_decided_accuracy:.3f}")
        table.add_row("  calibration error (ECE)", f"{report.stage_fit_ece:.3f}")
        for stage_id, value in report.stage_fit_per_stage.items():
            table.add_row(f"  stage fit · {stage_id}", f"{value:.3f}")
    if report.pairs:
        table.add_row(f"pairwise accuracy ({report.pairs} pairs)", f"{report.pairwise_accuracy:.3f}")
        for stage_id, value in report.pairwise_per_stage.items():
            table.add_row(f"  pairwise · {stage_id}", f"{value:.3f}")
    if report.drafts:
        d = report.drafts
        table.add_row(f"drafts ({d.drafts}): publishable passed", f"{d.publishable_passed:.3f}")
        table.add_row("  nonsense passed", f"{d.nonsense_passed:.3f}")
        table.add_row("  'fails' precision / recall", f"{d.fail_precision:.3f} / {d.fail_recall:.3f}")
    sets = Table("file", "items", "accuracy", "where clear", "unclear", "ECE", "publishable passed",
                 "nonsense passed", title="Per labelled file")  # fmt: skip

    def fmt(value: float | None) -> str:
        return "-" if value is None else f"{value:.3f}"

    for f in report.sets:
        sets.add_row(f.file, str(f.items), fmt(f.accuracy), fmt(f.decided_accuracy), fmt(f.abstained), fmt(f.ece),
                     fmt(f.publishable_passed), fmt(f.nonsense_passed))  # fmt: skip
    crit = Table("criterion", "pairs", "agreement (good ≥ bad)", "strict (good > bad)", title="Per-criterion agreement")
    for key, agreement in report.criteria.items():
        crit.add_row(key, str(agreement.pairs), f"{agreement.agreement:.2f}", f"{agreement.strict:.2f}")
    return [table, sets, crit]
