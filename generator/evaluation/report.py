"""Show a suite report: a rich table in the terminal, or one self-contained HTML page.

The HTML page has no scripts and loads nothing: inline CSS and an inline SVG chart, so it can be
mailed, archived or printed as is. Everything that comes from a suite, a model or a profile is
escaped.
"""

from __future__ import annotations

from html import escape

from rich.console import Console
from rich.table import Table
from rich.text import Text

from generator.charts import StageBar, stage_bar_chart_svg
from generator.evaluation.results import AssetScore, CriterionScore
from generator.evaluation.suite import AssertionResult, CaseResult, SuiteReport
from generator.stages import STAGE_IDS

STATUS_LABEL = {"pass": "PASS", "fail": "FAIL", "skip": "SKIP"}
STATUS_STYLE = {"pass": "bold green", "fail": "bold red", "skip": "dim"}
GOOD, FAIR = 0.65, 0.5  # score colours: the usual rubric threshold, and the required-criterion minimum


def _seconds(value: float) -> str:
    return f"{value:.1f} s" if value < 120 else f"{int(value // 60)} min {int(value % 60)} s"


def _value(a: AssertionResult) -> str:
    if isinstance(a.value, bool):
        return str(a.value).lower()
    if isinstance(a.value, float):
        return f"{a.value:g}"
    return "" if a.value is None else str(a.value)


def _assertion_label(a: AssertionResult) -> str:
    return f"{'not ' if a.negate else ''}{a.type} {_value(a)}".strip()


def summary_line(report: SuiteReport) -> str:
    s = report.summary
    return (
        f"{s.passed} passed, {s.failed} failed, {s.skipped} skipped of {s.total} "
        f"- pass rate {s.pass_rate:.0%} - {_seconds(report.seconds)}"
    )


# --------------------------------------------------------------------------- terminal


def render_terminal(report: SuiteReport, console: Console) -> None:
    """A table of cases (case, stage, result, score, failing assertions) and a summary line."""
    table = Table(title=report.description or "Eval suite", show_lines=False, expand=False)
    table.add_column("#", justify="right", style="dim")
    table.add_column("case", overflow="fold", ratio=3)
    table.add_column("stage")
    table.add_column("result")
    table.add_column("score", justify="right")
    table.add_column("rubric", justify="right")
    table.add_column("failing assertions", overflow="fold", ratio=3)
    for number, case in enumerate(report.cases, start=1):
        if case.error:
            problems = Text(f"error: {case.error}", style="red")
        elif case.skipped:
            problems = Text(case.skip_reason or "skipped", style="dim")
        else:
            problems = Text("\n".join(f"{_assertion_label(a)}: {a.reason}" for a in case.failing()))
        table.add_row(
            str(number),
            Text(case.description),
            Text(case.stage),
            Text(STATUS_LABEL[case.status], style=STATUS_STYLE[case.status]),
            "" if case.skipped else f"{case.score:.2f}",
            f"{case.asset_score.score:.2f}" if case.asset_score else "",
            problems,
        )
    console.print(table)
    console.print(Text(summary_line(report), style="bold"))
    means = report.summary.mean_score_by_stage
    if means:
        console.print(Text("mean rubric score: " + ", ".join(f"{s} {v:.2f}" for s, v in means.items()), style="dim"))


# --------------------------------------------------------------------------- html

CSS = """
:root {
  --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --soft: #f6f8fa;
  --pass: #1a7f37; --pass-bg: #dafbe1; --fail: #cf222e; --fail-bg: #ffebe9;
  --skip: #59636e; --skip-bg: #eaeef2; --accent: #0969da; --warn: #9a6700;
}
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body {
  margin: 0; color: var(--ink); background: #fff;
  font: 15px/1.55 -apple-system, "Segoe UI", system-ui, Roboto, "Helvetica Neue", Arial, sans-serif;
}
main { max-width: 1000px; margin: 0 auto; padding: 32px 24px 64px; }
h1 { font-size: 26px; margin: 0 0 4px; letter-spacing: -0.01em; }
h2 { font-size: 19px; margin: 36px 0 12px; padding-bottom: 6px; border-bottom: 1px solid var(--line); }
h3 { font-size: 16px; margin: 0; line-height: 1.35; }
p { margin: 6px 0; }
.muted { color: var(--muted); }
.small { font-size: 13px; }
.stats { display: flex; flex-wrap: wrap; gap: 12px; margin: 18px 0 8px; }
.stat {
  border: 1px solid var(--line); border-radius: 8px; padding: 10px 16px; min-width: 110px; background: var(--soft);
}
.stat .num { display: block; font-size: 24px; font-weight: 650; font-variant-numeric: tabular-nums; }
.stat .lbl { font-size: 12px; color: var(--muted); text-transform: uppercase; letter-spacing: 0.04em; }
.stat.pass .num { color: var(--pass); } .stat.fail .num { color: var(--fail); } .stat.skip .num { color: var(--skip); }
svg.chart { width: 100%; height: auto; display: block; }
table { width: 100%; border-collapse: collapse; font-size: 13.5px; margin: 8px 0; }
th, td { text-align: left; vertical-align: top; padding: 6px 8px; border-bottom: 1px solid var(--line); }
th { font-weight: 600; color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: 0.03em; }
tr { break-inside: avoid; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
code { font: 12.5px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.overview a { color: var(--accent); text-decoration: none; }
.badge {
  display: inline-block; font-size: 11.5px; font-weight: 650; letter-spacing: 0.04em; text-transform: uppercase;
  padding: 2px 8px; border-radius: 999px; border: 1px solid currentColor; white-space: nowrap;
}
.badge.pass { color: var(--pass); background: var(--pass-bg); }
.badge.fail { color: var(--fail); background: var(--fail-bg); }
.badge.skip { color: var(--skip); background: var(--skip-bg); }
.badge.stage { color: var(--accent); background: #ddf4ff; }
.case {
  border: 1px solid var(--line); border-left: 5px solid var(--skip); border-radius: 8px;
  padding: 16px 18px; margin: 18px 0; break-inside: avoid;
}
.case.pass { border-left-color: var(--pass); } .case.fail { border-left-color: var(--fail); }
.case > header { display: flex; justify-content: space-between; align-items: flex-start; gap: 12px; }
.badges { display: flex; gap: 6px; flex-shrink: 0; }
.facts { color: var(--muted); font-size: 13px; margin-top: 6px; }
.text {
  white-space: pre-wrap; word-wrap: break-word; overflow-wrap: anywhere; margin: 12px 0;
  padding: 12px 14px; background: var(--soft); border: 1px solid var(--line); border-radius: 6px;
  font: 14px/1.55 Georgia, "Iowan Old Style", "Times New Roman", serif; max-height: none;
}
.notice { padding: 8px 12px; border-radius: 6px; margin: 10px 0; font-size: 13.5px; }
.notice.error { background: var(--fail-bg); color: var(--fail); border: 1px solid var(--fail); }
.notice.skip { background: var(--skip-bg); color: var(--skip); border: 1px solid var(--line); }
.result { font-weight: 650; white-space: nowrap; }
.result.pass { color: var(--pass); } .result.fail { color: var(--fail); } .result.skip { color: var(--skip); }
.bar { display: inline-block; width: 90px; height: 8px; background: var(--skip-bg); border-radius: 4px;
  vertical-align: middle; margin-right: 6px; overflow: hidden; }
.bar > span { display: block; height: 100%; border-radius: 4px; }
.good { background: var(--pass); } .fair { background: #bf8700; } .poor { background: var(--fail); }
h4 { font-size: 13px; margin: 14px 0 2px; color: var(--muted); text-transform: uppercase; letter-spacing: 0.04em; }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; }
@media print {
  body { font-size: 11pt; }
  main { max-width: none; padding: 0; }
  .case { border-left-width: 4px; }
  .overview a { color: inherit; }
  h2 { break-after: avoid; }
}
@page { margin: 16mm 14mm; }
"""


def _score_class(value: float) -> str:
    return "good" if value >= GOOD else "fair" if value >= FAIR else "poor"


_BAR_FILL = {"good": "#2da44e", "fair": "#d4a72c", "poor": "#e5534b"}


def stage_chart_svg(means: dict[str, float]) -> str:
    """The mean rubric score per stage (all 8 stages; n/a where none ran), coloured by how good it is."""
    bars = [
        StageBar(stage, stage.capitalize(), means.get(stage), _BAR_FILL[_score_class(means.get(stage, 0.0))], str(i))
        for i, stage in enumerate(STAGE_IDS, 1)
    ]
    return stage_bar_chart_svg(bars, title="Mean rubric score per stage")


def _bar(value: float) -> str:
    width = round(max(0.0, min(1.0, value)) * 100)
    return f'<span class="bar"><span class="{_score_class(value)}" style="width:{width}%"></span></span>'


def _assertions_table(case: CaseResult) -> str:
    if not case.assertions:
        return ""
    rows = []
    for a in case.assertions:
        status = "skip" if a.skipped else "pass" if a.passed else "fail"
        kind = escape(a.type) + (' <span class="muted small">(negated)</span>' if a.negate else "")
        weight = f' <span class="muted small">&times;{a.weight:g}</span>' if a.weight != 1 else ""
        rows.append(
            f"<tr><td><code>{kind}</code>{weight}</td><td>{escape(_value(a))}</td>"
            f'<td class="result {status}">{STATUS_LABEL[status]}</td><td>{escape(a.reason)}</td></tr>'
        )
    return (
        '<h4>Assertions</h4><table class="assertions"><thead><tr><th>type</th><th>value</th><th>result</th>'
        f"<th>reason</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _criterion_row(c: CriterionScore) -> str:
    score = f"{_bar(c.score)}{c.score:.2f}" if c.score is not None else '<span class="muted">not scored</span>'
    required = f"&ge; {c.pass_at:g}" if c.required else ""
    return (
        f'<tr><td>{escape(c.name)}<br><code class="muted">{escape(c.id)}</code></td>'
        f'<td class="num">{c.weight:g}</td><td>{required}</td><td style="white-space:nowrap">{score}</td>'
        f"<td>{escape(c.reason)}</td></tr>"
    )


def _rubric_table(scored: AssetScore | None) -> str:
    if scored is None:
        return ""
    verdict = "passes" if scored.passed else "fails"
    head = (
        f"<h4>Rubric: {scored.score:.2f}, {verdict} "
        f'<span class="muted small">(needs {scored.threshold:g} and every required criterion at its line)</span></h4>'
    )
    rows = "".join(_criterion_row(c) for c in scored.criteria)
    return (
        f'{head}<table class="criteria"><thead><tr><th>criterion</th><th class="num">weight</th><th>required</th>'
        f"<th>score</th><th>reason</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def _facts(case: CaseResult) -> str:
    facts = []
    if not case.skipped and not case.error:
        facts.append(f"case score {case.score:.2f} (needs {case.threshold:g})")
    if case.asset_score:
        facts.append(f"rubric {case.asset_score.score:.2f}")
        fit = case.asset_score.stage_fit
        if fit is not None:
            facts.append(f"reads as {fit.stage} {fit.confidence:.0%}")
    origin = "drafted" if case.drafted else "fixed text"
    if case.asset_type:
        origin += f" {case.asset_type.replace('_', ' ')}"
    if case.business:
        origin += f" for {case.business}"
    facts.append(origin)
    if case.seconds:
        facts.append(_seconds(case.seconds))
    return " &middot; ".join(escape(f) for f in facts)


def _case_card(number: int, case: CaseResult) -> str:
    status = case.status
    notices = ""
    if case.error:
        notices += f'<div class="notice error"><strong>Error:</strong> {escape(case.error)}</div>'
    if case.skipped:
        notices += f'<div class="notice skip"><strong>Skipped:</strong> {escape(case.skip_reason or "")}</div>'
    label = "Last model answer" if case.error else "Text"
    text = (
        f'<h4>{label}</h4><pre class="text">{escape(case.text)}</pre>'
        if case.text
        else '<p class="muted small">(no text)</p>'
    )
    return (
        f'<article class="case {status}" id="case-{number}"><header>'
        f"<h3>{number}. {escape(case.description)}</h3>"
        f'<div class="badges"><span class="badge stage">{escape(case.stage)}</span>'
        f'<span class="badge {status}">{STATUS_LABEL[status]}</span></div></header>'
        f'<p class="facts">{_facts(case)}</p>{notices}{text}'
        f"{_assertions_table(case)}{_rubric_table(case.asset_score)}</article>"
    )


def _overview(report: SuiteReport) -> str:
    rows = []
    for number, case in enumerate(report.cases, start=1):
        status = case.status
        score = "" if case.skipped else f"{case.score:.2f}"
        rubric = f"{case.asset_score.score:.2f}" if case.asset_score else ""
        rows.append(
            f'<tr><td class="num">{number}</td><td><a href="#case-{number}">{escape(case.description)}</a></td>'
            f'<td>{escape(case.stage)}</td><td class="result {status}">{STATUS_LABEL[status]}</td>'
            f'<td class="num">{score}</td><td class="num">{rubric}</td></tr>'
        )
    return (
        '<table class="overview"><thead><tr><th class="num">#</th><th>case</th><th>stage</th><th>result</th>'
        f'<th class="num">score</th><th class="num">rubric</th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )


def render_html(report: SuiteReport) -> str:
    """One self-contained page: summary, per-stage chart, an overview and one card per case."""
    s = report.summary
    title = report.description or "Eval suite"
    started = report.started_at.strftime("%Y-%m-%d %H:%M UTC")
    stats = "".join(
        f'<div class="stat {cls}"><span class="num">{num}</span><span class="lbl">{label}</span></div>'
        for cls, num, label in (
            ("", f"{s.pass_rate:.0%}", "pass rate"),
            ("pass", s.passed, "passed"),
            ("fail", s.failed, "failed"),
            ("skip", s.skipped, "skipped"),
            ("", s.total, "cases"),
            ("", _seconds(report.seconds), "time"),
        )
    )
    cards = "".join(_case_card(i, c) for i, c in enumerate(report.cases, start=1))
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>CVJ Kit eval: {escape(title)}</title>
<style>{CSS}</style>
</head>
<body>
<main>
<header class="summary">
<h1>CVJ Kit eval report</h1>
<p>{escape(title)}</p>
<div class="stats">{stats}</div>
<p class="muted small">Started {escape(started)}. Pass rate counts the cases that ran (skipped ones do not count).</p>
</header>
<section>
<h2>Mean rubric score per stage</h2>
{stage_chart_svg(s.mean_score_by_stage)}
</section>
<section>
<h2>Overview</h2>
{_overview(report)}
</section>
<section>
<h2>Cases</h2>
{cards}
</section>
<footer>Generated by CVJ Kit &middot; {escape(summary_line(report))}</footer>
</main>
</body>
</html>
"""
