"""The kit as one self-contained HTML page (inline CSS and SVG chart, no scripts, no external files)."""

from __future__ import annotations

import html
from collections.abc import Sequence

from generator.charts import StageBar, stage_bar_chart_svg
from generator.export.view import (
    COST_HEADER,
    DEFAULT_COLOUR,
    JOURNEY_HEADER,
    OVERVIEW_HEADER,
    STAGE_COLOURS,
    VERDICT_WORDS,
    AssetView,
    ChartBar,
    PartView,
    format_score,
    kit_view,
    xml_safe,
)
from generator.kit_models import KitReport

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
.parts-label { font-weight: 600; margin: .6rem 0 0; }
.part { border-top: 1px solid var(--line); margin: .6rem 0 0; padding-top: .4rem; }
.part h4 { font-size: 1rem; margin: 0 0 .3rem; }
.part p { margin: .25rem 0; }
.verdict { margin: .9rem 0 .3rem; font-weight: 600; }
.badge { display: inline-block; padding: .05rem .5rem; border-radius: 999px; font-size: .8rem; color: #fff; }
.badge.pass { background: #15803d; } .badge.warn { background: #b45309; } .badge.fail { background: #b91c1c; }
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
    return html.escape(xml_safe(text), quote=True)


def _html_table(
    header: tuple[str, ...],
    rows: Sequence[tuple[str, ...]],
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


def score_chart_svg(chart: list[ChartBar]) -> str:
    """One bar per stage in the stage's colour, values shown, its rubric's pass mark dashed; no score = n/a."""
    bars = [
        StageBar(b.stage, b.name, b.score, STAGE_COLOURS.get(b.stage, DEFAULT_COLOUR), pass_mark=b.pass_mark)
        for b in chart
    ]
    return stage_bar_chart_svg(bars, title="Eval score per stage")


def _html_parts(parts: list[PartView]) -> str:
    """Each part (an email, a question) as a section of its own: heading, labelled lines, a paragraph each."""
    out = []
    for part in parts:
        lines = [
            "".join(f"<p>{_e(p)}</p>" for p in value) if isinstance(value, list)
            else f"<p><strong>{_e(name)}:</strong> {_e(value)}</p>"
            for name, value in part.lines
        ]  # fmt: skip
        out.append(f'<section class="part"><h4>{_e(part.heading)}</h4>{"".join(lines)}</section>')
    return "".join(out)


def _html_asset(asset: AssetView) -> str:
    if asset.error is not None:
        return (
            f'<article class="asset failed"><h3>{_e(asset.label)}</h3>'
            f"<p><strong>Not drafted:</strong> {_e(asset.error)}</p></article>"
        )
    blocks: list[str] = []  # the fields as definition lists, broken by the parts (each a section)
    rows: list[str] = []
    for f in asset.fields:
        if f.parts:
            blocks += [f"<dl>{''.join(rows)}</dl>"] if rows else []
            blocks.append(f'<div class="parts"><p class="parts-label">{_e(f.name)}</p>{_html_parts(f.parts)}</div>')
            rows = []
            continue
        value = (
            "<ul>" + "".join(f"<li>{_e(v)}</li>" for v in f.value) + "</ul>"
            if isinstance(f.value, list)
            else _e(f.value)
        )
        rows.append(f"<dt>{_e(f.name)}</dt><dd>{value}</dd>")
    blocks += [f"<dl>{''.join(rows)}</dl>"] if rows else []
    out = [f'<article class="asset"><h3>{_e(asset.label)}</h3>{"".join(blocks)}']
    if asset.score is not None or asset.verdict is not None:
        badge = ""
        if asset.verdict is not None:
            css = {"passed": "pass", "needs work": "warn"}.get(asset.verdict, "fail")
            badge = f' <span class="badge {css}">{_e(VERDICT_WORDS.get(asset.verdict, asset.verdict))}</span>'
        out.append(f'<p class="verdict">Eval score: {_e(format_score(asset.score))}{badge}</p>')
    if asset.weakest:
        items = "".join(
            f"<li><strong>{_e(c.name)}</strong> ({c.score:.2f}): {_e(c.reason)}</li>" for c in asset.weakest
        )
        out.append(f'<div class="weakest">What to fix first:<ul>{items}</ul></div>')
    out.append(f'<p class="provenance">{_e(asset.provenance or "")}</p></article>')
    return "".join(out)


def to_html(report: KitReport) -> str:
    """The kit as one self-contained, printable HTML page: inline CSS and SVG, no scripts, no external links."""
    view = kit_view(report)
    body = [
        f'<header><h1>{_e(view.title)}</h1><p class="date">Created {_e(view.date)}</p></header>',
        '<section><h2>Journey overview</h2><figure aria-label="Eval score per stage">',
        score_chart_svg(view.chart),
        "<figcaption>Eval score per stage; the dashed mark on each bar is its stage's pass mark.</figcaption>",
        "</figure>",
    ]
    if view.overview:
        colours = [STAGE_COLOURS.get(s, DEFAULT_COLOUR) for s in view.overview_ids]
        body.append(_html_table(OVERVIEW_HEADER, view.overview, numeric_from=4, colours=colours, css_class="overview"))
    else:
        body.append("<p>No stages in this kit.</p>")
    body.append("</section>")
    body.append("<section><h2>The journey check</h2>")
    if view.journey:
        body.append(_html_table(JOURNEY_HEADER, view.journey, numeric_from=len(JOURNEY_HEADER), css_class="journey"))
    body.append(f'<p class="note">{_e(view.journey_note)}</p></section>')
    for stage in view.stages:
        colour = STAGE_COLOURS.get(stage.id, DEFAULT_COLOUR)
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
