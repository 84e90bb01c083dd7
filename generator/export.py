"""Export a journey kit for people: Markdown, JSON, Word and one self-contained HTML page.

Every format carries the same content in the same order: title and date, the journey overview,
one section per stage (journey order) with each asset's fields, its eval score and weakest
criteria and a provenance line, then the cost and time table. The renderers share one neutral
view of the report (``_KitView``), so the formats cannot drift apart.
"""

from __future__ import annotations

import html
import os
import re
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.assets import ASSET_TYPES
from generator.charts import StageBar, stage_bar_chart_svg
from generator.errors import ConfigError
from generator.kit_models import KitEntry, KitReport
from generator.stages import STAGE_IDS, Stage, load_stages

FORMATS = ("md", "json", "docx", "html")
FILE_NAMES = {fmt: f"kit.{fmt}" for fmt in FORMATS}
PASS_LINE = 0.6
WEAKEST = 3

STAGE_COLOURS = {
    "aware": "#2563eb",
    "engage": "#0891b2",
    "subscribe": "#059669",
    "convert": "#65a30d",
    "excite": "#d97706",
    "ascend": "#dc2626",
    "advocate": "#db2777",
    "promote": "#7c3aed",
}
_DEFAULT_COLOUR = "#475569"

OVERVIEW_HEADER = ("Stage", "What the prospect sees", "The offer", "The next step", "Score")
COST_HEADER = ("Asset", "Stage", "Input tokens", "Output tokens", "Cost (USD)", "Seconds")


# --------------------------------------------------------------------------- the shared view


@dataclass(frozen=True)
class _Field:
    name: str
    value: str | list[str]


@dataclass(frozen=True)
class _Criterion:
    name: str
    score: float
    reason: str


@dataclass(frozen=True)
class _AssetView:
    key: str
    stage: str
    label: str
    fields: list[_Field] = field(default_factory=list)
    error: str | None = None
    score: float | None = None
    passed: bool | None = None
    weakest: list[_Criterion] = field(default_factory=list)
    provenance: str | None = None


@dataclass(frozen=True)
class _StageView:
    id: str
    number: int | None
    name: str
    purpose: str
    score: float | None
    assets: list[_AssetView]


@dataclass(frozen=True)
class _KitView:
    title: str
    business: str
    date: str
    overview: list[tuple[str, ...]]
    overview_ids: list[str]  # the stage id of each overview row
    stages: list[_StageView]
    chart: list[tuple[str, str, float | None]]  # (stage id, stage name, score) for all eight stages
    costs: list[tuple[str, ...]]
    totals: tuple[str, ...]
    totals_note: str


def humanise(name: str) -> str:
    """A field name as a label: 'call_to_action' -> 'Call to action'."""
    words = name.replace("_", " ").replace("-", " ").split()
    return " ".join(words).capitalize() if words else name


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _value(name: str, value: Any, currency: str) -> str | list[str]:
    if isinstance(value, list):
        return [str(_value(name, v, currency)) for v in value]
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return f"{_number(value)} {currency}" if name == "price" else _number(value)
    if isinstance(value, dict):
        return ", ".join(f"{humanise(str(k))}: {v}" for k, v in value.items())
    return str(value)


def _score(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _money(value: float) -> str:
    return f"${value:.4f}"


def _as_float(value: object) -> float | None:
    try:
        return None if value is None or isinstance(value, bool) else float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _label(entry: KitEntry) -> str:
    cls = ASSET_TYPES.get(entry.asset_type)
    label = cls.label if cls else humanise(entry.asset_type)
    variant = entry.draft.variant if entry.draft else None
    if variant is None and ".v" in entry.key:
        suffix = entry.key.rsplit(".v", 1)[1]
        variant = int(suffix) if suffix.isdigit() else None
    return f"{label} (variant {variant})" if variant else label


def _weakest(evaluation: dict[str, Any]) -> list[_Criterion]:
    scored = []
    for item in evaluation.get("criteria") or []:
        if not isinstance(item, dict):
            continue
        score = _as_float(item.get("score"))
        if score is not None:
            name = str(item.get("name") or item.get("id") or "criterion")
            scored.append(_Criterion(name=name, score=score, reason=str(item.get("reason") or "")))
    return sorted(scored, key=lambda c: c.score)[:WEAKEST]


def _seconds(entry: KitEntry) -> float:
    return entry.seconds or (entry.draft.meta.seconds if entry.draft else 0.0)


def _provenance(entry: KitEntry) -> str:
    assert entry.draft is not None
    meta = entry.draft.meta
    sources = list(dict.fromkeys(s.source for s in meta.sources))
    parts = [
        f"model: {meta.provider}/{meta.model}",
        f"prompt: {meta.prompt_id} v{meta.prompt_version}",
        f"tokens: {meta.usage.input_tokens:,} in / {meta.usage.output_tokens:,} out",
        f"cost: {_money(meta.cost_usd)}",
        f"{meta.seconds:.1f} s",
        f"sources: {', '.join(sources) if sources else 'none'}",
    ]
    if entry.draft.version > 1:
        parts.append(f"version {entry.draft.version}")
    if entry.cached:
        parts.append("cached")
    return " · ".join(parts)


def _asset_view(entry: KitEntry, currency: str) -> _AssetView:
    label = _label(entry)
    if entry.draft is None:
        return _AssetView(key=entry.key, stage=entry.stage, label=label, error=entry.error or "no draft was returned")
    fields = [
        _Field(humanise(name), _value(name, value, currency))
        for name, value in entry.draft.asset.items()
        if value is not None and value != "" and value != []
    ]
    evaluation = entry.draft.evaluation or {}
    passed = evaluation.get("passed")
    return _AssetView(
        key=entry.key,
        stage=entry.stage,
        label=label,
        fields=fields,
        score=_as_float(evaluation.get("score")),
        passed=passed if isinstance(passed, bool) else None,
        weakest=_weakest(evaluation),
        provenance=_provenance(entry),
    )


def _stage_order(report: KitReport) -> list[str]:
    """Journey order, then any stage id the kit has that the journey does not (kept, not dropped)."""
    present = [e.stage for e in report.entries] + [s.stage for s in report.overview]
    known = [s for s in STAGE_IDS if s in present]
    return known + [s for s in dict.fromkeys(present) if s not in STAGE_IDS]


def _stage_scores(report: KitReport) -> dict[str, float | None]:
    """The overview's score per stage, else the mean eval score of the stage's drafts."""
    scores: dict[str, float | None] = {}
    for stage in STAGE_IDS:
        step = next((s for s in report.overview if s.stage == stage and s.score is not None), None)
        if step is not None:
            scores[stage] = step.score
            continue
        found = [
            score
            for e in report.entries
            if e.stage == stage and e.draft and e.draft.evaluation
            for score in [_as_float(e.draft.evaluation.get("score"))]
            if score is not None
        ]
        scores[stage] = sum(found) / len(found) if found else None
    return scores


def _view(report: KitReport) -> _KitView:
    stages: dict[str, Stage] = {s.id: s for s in load_stages()}
    order = _stage_order(report)
    currency = report.profile.offers.currency
    scores = _stage_scores(report)
    assets = [_asset_view(e, currency) for e in report.entries]
    stage_views = []
    for stage_id in order:
        stage = stages.get(stage_id)
        stage_views.append(
            _StageView(
                id=stage_id,
                number=stage.number if stage else None,
                name=stage.name if stage else humanise(stage_id),
                purpose=stage.purpose if stage else "",
                score=scores.get(stage_id),
                assets=[a for a in assets if a.stage == stage_id],
            )
        )
    steps = sorted(report.overview, key=lambda s: order.index(s.stage))
    overview = [
        (step.stage_name or step.stage, step.prospect_sees, step.offer, step.next_step, _score(step.score))
        for step in steps
    ]
    costs = []
    for entry, view in zip(report.entries, assets, strict=True):
        name = stages[entry.stage].name if entry.stage in stages else entry.stage
        if entry.draft is None:
            costs.append((view.label, name, "-", "-", "-", f"{_seconds(entry):.1f}"))
            continue
        usage = entry.draft.meta.usage
        costs.append(
            (
                view.label + (" (cached)" if entry.cached else ""),
                name,
                f"{usage.input_tokens:,}",
                f"{usage.output_tokens:,}",
                _money(entry.draft.meta.cost_usd),
                f"{_seconds(entry):.1f}",
            )
        )
    t = report.totals
    totals = ("Total", "", f"{t.input_tokens:,}", f"{t.output_tokens:,}", _money(t.cost_usd), f"{t.wall_seconds:.1f}")
    note = (
        f"{t.assets} drafted, {t.failed} failed, {t.model_calls} model calls; "
        f"the total seconds are wall-clock time for the whole kit (assets run concurrently)."
    )
    created = report.created_at
    return _KitView(
        title=f"{report.business} — Customer Value Journey kit",
        business=report.business,
        date=f"{created.day} {created:%B %Y}",
        overview=overview,
        overview_ids=[step.stage for step in steps],
        stages=stage_views,
        chart=[(s.id, s.name, scores.get(s.id)) for s in stages.values()],
        costs=costs,
        totals=totals,
        totals_note=note,
    )


def _verdict(asset: _AssetView) -> str | None:
    if asset.score is None and asset.passed is None:
        return None
    result = "" if asset.passed is None else (" — passed" if asset.passed else " — failed")
    return f"Eval score: {_score(asset.score)}{result}"


# --------------------------------------------------------------------------- Markdown


def _md(text: str) -> str:
    """User text made inert for Markdown renderers that pass raw HTML through (GitHub does not; many do)."""
    return str(text).replace("<", "&lt;")


def _md_line(text: str) -> str:
    return _md(" ".join(str(text).split()))


def _md_cell(text: str) -> str:
    return _md_line(text).replace("\\", "\\\\").replace("|", "\\|")


def _md_table(header: tuple[str, ...], rows: Iterable[tuple[str, ...]]) -> list[str]:
    lines = ["| " + " | ".join(_md_cell(h) for h in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
    return lines


def to_markdown(report: KitReport) -> str:
    """The kit as GitHub-flavoured Markdown."""
    view = _view(report)
    out = [f"# {_md_line(view.title)}", "", f"Created {view.date}", "", "## Journey overview", ""]
    out += _md_table(OVERVIEW_HEADER, view.overview) if view.overview else ["No stages in this kit."]
    for stage in view.stages:
        number = f"{stage.number}. " if stage.number else ""
        out += ["", f"## {number}{_md_line(stage.name)}", ""]
        if stage.purpose:
            out += [f"*{_md_line(stage.purpose)}*", ""]
        if not stage.assets:
            out.append("Nothing drafted for this stage.")
        for asset in stage.assets:
            out += [f"### {_md_line(asset.label)}", ""]
            if asset.error is not None:
                out += [f"**Not drafted:** {_md_line(asset.error)}", ""]
                continue
            for f in asset.fields:
                if isinstance(f.value, list):
                    out += [f"**{f.name}:**", "", *(f"- {_md_line(v)}" for v in f.value), ""]
                elif "\n" in f.value:
                    out += [f"**{f.name}:**", "", _md(f.value.strip()), ""]
                else:
                    out += [f"**{f.name}:** {_md(f.value)}", ""]
            verdict = _verdict(asset)
            if verdict:
                out += [f"**{verdict}**", ""]
            if asset.weakest:
                out += ["Weakest criteria:", ""]
                out += [f"- {_md_line(c.name)} ({c.score:.2f}): {_md_line(c.reason)}" for c in asset.weakest]
                out.append("")
            out += [f"<sub>{html.escape(asset.provenance or '')}</sub>", ""]
    out += ["", "## Cost and time", ""]
    out += _md_table(COST_HEADER, [*view.costs, view.totals])
    out += ["", view.totals_note, ""]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(line.rstrip() for line in out))


# --------------------------------------------------------------------------- JSON


def to_json(report: KitReport) -> str:
    """The whole report, lossless: ``KitReport.model_validate_json`` reads it back."""
    return report.model_dump_json(indent=2)


# --------------------------------------------------------------------------- Word


def _docx_table(document: Any, header: tuple[str, ...], rows: list[tuple[str, ...]], bold_last: bool = False) -> None:
    table = document.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = ""
        cell.paragraphs[0].add_run(text).bold = True
    for i, row in enumerate(rows):
        cells = table.add_row().cells
        for cell, text in zip(cells, row, strict=True):
            cell.text = ""
            cell.paragraphs[0].add_run(str(text)).bold = bold_last and i == len(rows) - 1


def _build_docx(report: KitReport) -> Any:
    from docx import Document
    from docx.shared import Pt, RGBColor

    view = _view(report)
    document = Document()
    document.core_properties.title = view.title
    document.add_heading(view.title, level=0)
    document.add_paragraph(f"Created {view.date}")
    document.add_heading("Journey overview", level=1)
    if view.overview:
        _docx_table(document, OVERVIEW_HEADER, view.overview)
    else:
        document.add_paragraph("No stages in this kit.")
    for stage in view.stages:
        number = f"{stage.number}. " if stage.number else ""
        heading = document.add_heading(f"{number}{stage.name}", level=1)
        colour = STAGE_COLOURS.get(stage.id, _DEFAULT_COLOUR).lstrip("#")
        for run in heading.runs:
            run.font.color.rgb = RGBColor.from_string(colour.upper())
        if stage.purpose:
            document.add_paragraph().add_run(stage.purpose).italic = True
        if not stage.assets:
            document.add_paragraph("Nothing drafted for this stage.")
        for asset in stage.assets:
            document.add_heading(asset.label, level=2)
            if asset.error is not None:
                p = document.add_paragraph()
                p.add_run("Not drafted: ").bold = True
                p.add_run(asset.error)
                continue
            for f in asset.fields:
                p = document.add_paragraph()
                p.add_run(f"{f.name}:").bold = True
                if isinstance(f.value, list):
                    for item in f.value:
                        document.add_paragraph(item, style="List Bullet")
                else:
                    p.add_run(" " + f.value)
            verdict = _verdict(asset)
            if verdict:
                document.add_paragraph().add_run(verdict).bold = True
            if asset.weakest:
                document.add_paragraph("Weakest criteria:")
                for c in asset.weakest:
                    document.add_paragraph(f"{c.name} ({c.score:.2f}): {c.reason}", style="List Bullet")
            run = document.add_paragraph().add_run(asset.provenance or "")
            run.italic = True
            run.font.size = Pt(8)
            run.font.color.rgb = RGBColor(0x64, 0x74, 0x8B)
    document.add_heading("Cost and time", level=1)
    _docx_table(document, COST_HEADER, [*view.costs, view.totals], bold_last=True)
    document.add_paragraph(view.totals_note)
    return document


def to_docx(report: KitReport, path: Path) -> None:
    """The kit as a Word document at ``path`` (written atomically)."""
    document = _build_docx(report)
    _write_atomic(Path(path), document.save)


# --------------------------------------------------------------------------- HTML

_CSS = """
:root { --ink: #1e293b; --muted: #64748b; --line: #e2e8f0; --paper: #ffffff; }
* { box-sizing: border-box; }
body { margin: 0; background: #f8fafc; color: var(--ink);
  font: 16px/1.6 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 60rem; margin: 0 auto; padding: 2.5rem 1.5rem 4rem; background: var(--paper); }
h1 { font-size: 2rem; line-height: 1.2; margin: 0 0 .25rem; }
h2 { font-size: 1.4rem; margin: 2.5rem 0 .75rem; padding-bottom: .3rem; border-bottom: 2px solid var(--line); }
h3 { font-size: 1.1rem; margin: 0 0 .75rem; }
.date, .purpose, .note { color: var(--muted); }
.purpose { font-style: italic; margin-top: 0; }
table { width: 100%; border-collapse: collapse; margin: 1rem 0; font-size: .92rem; }
th, td { text-align: left; vertical-align: top; padding: .45rem .6rem; border-bottom: 1px solid var(--line); }
th { background: #f1f5f9; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.total td { font-weight: 700; border-top: 2px solid var(--ink); }
.dot { display: inline-block; width: .7rem; height: .7rem; border-radius: 50%; margin-right: .4rem;
  vertical-align: baseline; }
.stage h2 { border-bottom-color: var(--stage); color: var(--stage); }
.asset { border: 1px solid var(--line); border-left: 5px solid var(--stage); border-radius: 6px;
  padding: 1rem 1.25rem; margin: 1rem 0; break-inside: avoid; page-break-inside: avoid; }
.asset.failed { background: #fef2f2; }
dl { margin: 0; }
dt { font-weight: 600; margin-top: .6rem; }
dd { margin: .1rem 0 0; white-space: pre-line; }
dd ul, .weakest ul { margin: .2rem 0; padding-left: 1.2rem; }
.verdict { margin: .9rem 0 .3rem; font-weight: 600; }
.badge { display: inline-block; padding: .05rem .5rem; border-radius: 999px; font-size: .8rem; color: #fff; }
.badge.pass { background: #15803d; } .badge.fail { background: #b91c1c; }
.weakest { font-size: .92rem; }
.provenance { color: var(--muted); font-size: .78rem; margin: .8rem 0 0; overflow-wrap: anywhere; }
figure { margin: 1rem 0; }
figcaption { color: var(--muted); font-size: .85rem; }
figure svg { display: block; width: 100%; height: auto; }
table.overview td:first-child { white-space: nowrap; }
@page { margin: 16mm; }
@media print {
  body { background: #fff; font-size: 11pt; }
  main { max-width: none; padding: 0; }
  h2 { break-after: avoid; page-break-after: avoid; }
  .stage { break-before: auto; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _html_table(
    header: tuple[str, ...],
    rows: list[tuple[str, ...]],
    numeric_from: int,
    *,
    total: bool = False,
    colours: list[str] | None = None,
    css_class: str = "",
) -> str:
    """A table of escaped cells; ``colours`` puts a stage-coloured dot before each row's first cell."""

    def cells(row: tuple[str, ...], tag: str, colour: str | None = None) -> str:
        out = []
        for i, c in enumerate(row):
            dot = f'<span class="dot" style="background:{colour}"></span>' if colour and i == 0 else ""
            cls = ' class="num"' if i >= numeric_from else ""
            out.append(f"<{tag}{cls}>{dot}{_e(c)}</{tag}>")
        return "".join(out)

    body = [f"<tr>{cells(r, 'td', colours[i] if colours else None)}</tr>" for i, r in enumerate(rows)]
    if total and body:
        body[-1] = body[-1].replace("<tr>", '<tr class="total">', 1)
    opening = f'<table class="{css_class}">' if css_class else "<table>"
    return f"{opening}<thead><tr>{cells(header, 'th')}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def score_chart_svg(chart: list[tuple[str, str, float | None]], *, pass_line: float = PASS_LINE) -> str:
    """One bar per stage in the stage's colour, values shown, a dashed pass line; no score = n/a."""
    bars = [
        StageBar(stage_id, name, score, STAGE_COLOURS.get(stage_id, _DEFAULT_COLOUR)) for stage_id, name, score in chart
    ]
    return stage_bar_chart_svg(bars, title="Eval score per stage", pass_line=pass_line)


def _html_asset(asset: _AssetView) -> str:
    if asset.error is not None:
        return (
            f'<article class="asset failed"><h3>{_e(asset.label)}</h3>'
            f"<p><strong>Not drafted:</strong> {_e(asset.error)}</p></article>"
        )
    rows = []
    for f in asset.fields:
        value = (
            "<ul>" + "".join(f"<li>{_e(v)}</li>" for v in f.value) + "</ul>"
            if isinstance(f.value, list)
            else _e(f.value)
        )
        rows.append(f"<dt>{_e(f.name)}</dt><dd>{value}</dd>")
    out = [f'<article class="asset"><h3>{_e(asset.label)}</h3><dl>{"".join(rows)}</dl>']
    if asset.score is not None or asset.passed is not None:
        badge = ""
        if asset.passed is not None:
            badge = (
                ' <span class="badge pass">passed</span>' if asset.passed else ' <span class="badge fail">failed</span>'
            )
        out.append(f'<p class="verdict">Eval score: {_e(_score(asset.score))}{badge}</p>')
    if asset.weakest:
        items = "".join(
            f"<li><strong>{_e(c.name)}</strong> ({c.score:.2f}): {_e(c.reason)}</li>" for c in asset.weakest
        )
        out.append(f'<div class="weakest">Weakest criteria:<ul>{items}</ul></div>')
    out.append(f'<p class="provenance">{_e(asset.provenance or "")}</p></article>')
    return "".join(out)


def to_html(report: KitReport) -> str:
    """The kit as one self-contained, printable HTML page: inline CSS and SVG, no scripts, no external links."""
    view = _view(report)
    body = [
        f'<header><h1>{_e(view.title)}</h1><p class="date">Created {_e(view.date)}</p></header>',
        '<section><h2>Journey overview</h2><figure aria-label="Eval score per stage">',
        score_chart_svg(view.chart),
        f"<figcaption>Eval score per stage; the dashed line is the pass mark ({PASS_LINE:.2f}).</figcaption>",
        "</figure>",
    ]
    if view.overview:
        colours = [STAGE_COLOURS.get(s, _DEFAULT_COLOUR) for s in view.overview_ids]
        body.append(_html_table(OVERVIEW_HEADER, view.overview, numeric_from=4, colours=colours, css_class="overview"))
    else:
        body.append("<p>No stages in this kit.</p>")
    body.append("</section>")
    for stage in view.stages:
        colour = STAGE_COLOURS.get(stage.id, _DEFAULT_COLOUR)
        number = f"{stage.number}. " if stage.number else ""
        body.append(f'<section class="stage" id="stage-{_e(stage.id)}" style="--stage:{colour}">')
        body.append(f"<h2>{_e(number)}{_e(stage.name)}</h2>")
        if stage.purpose:
            body.append(f'<p class="purpose">{_e(stage.purpose)}</p>')
        if not stage.assets:
            body.append("<p>Nothing drafted for this stage.</p>")
        body += [_html_asset(a) for a in stage.assets]
        body.append("</section>")
    body += [
        "<section><h2>Cost and time</h2>",
        _html_table(COST_HEADER, [*view.costs, view.totals], numeric_from=2, total=True),
        f'<p class="note">{_e(view.totals_note)}</p></section>',
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(view.title)}</title>\n<style>{_CSS}</style>\n</head>\n"
        f"<body>\n<main>\n{chr(10).join(body)}\n</main>\n</body>\n</html>\n"
    )


# --------------------------------------------------------------------------- writing


def _write_atomic(path: Path, write: Callable[[str], object]) -> None:
    """Write through a temp file in the same folder, then replace: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _write_text_atomic(path: Path, text: str) -> None:
    _write_atomic(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def parse_formats(formats: Iterable[str] | str) -> list[str]:
    """Normalised, de-duplicated formats ('md,html' works too); unknown ones raise ConfigError."""
    items = formats.split(",") if isinstance(formats, str) else list(formats)
    wanted = list(dict.fromkeys(str(f).strip().lower().lstrip(".") for f in items if str(f).strip()))
    unknown = [f for f in wanted if f not in FORMATS]
    if unknown or not wanted:
        what = f"Unknown export format(s): {', '.join(unknown)}." if unknown else "No export format given."
        raise ConfigError(f"{what} Choose from: {', '.join(FORMATS)}.", details={"valid": list(FORMATS)})
    return wanted


def export_kit(report: KitReport, out_dir: Path, formats: Iterable[str]) -> list[Path]:
    """Write the kit in each format into out_dir (kit.md, kit.json, kit.docx, kit.html); atomic writes; the paths.

    Formats are checked before anything is written, so a typo writes nothing.
    """
    wanted = parse_formats(formats)
    out_dir = Path(out_dir)
    writers: dict[str, Callable[[Path], None]] = {
        "md": lambda p: _write_text_atomic(p, to_markdown(report)),
        "json": lambda p: _write_text_atomic(p, to_json(report)),
        "docx": lambda p: to_docx(report, p),
        "html": lambda p: _write_text_atomic(p, to_html(report)),
    }
    paths = []
    for fmt in wanted:
        path = out_dir / FILE_NAMES[fmt]
        writers[fmt](path)
        paths.append(path)
    return paths
