"""How drafts, scores and kits look to people: rich renderables for the terminal, Markdown for the UI.

One module, so the CLI and the UI show the same things the same way (verdict words, colours, what to fix).
The functions build output; the caller prints it.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from generator.drafts import Draft
from generator.evaluation.results import AssetScore
from generator.export.markdown import md_parts
from generator.export.view import PartView, field_view
from generator.kit_models import KitReport

VERDICT_COLOURS = {"passed": "green", "needs work": "yellow", "failed": "red"}
VERDICT_WORDS = {"passed": "passed", "needs work": "needs work", "failed": "failed: off brief, not usable as is"}
TO_FIX = 3  # how many problems a verdict lists


def coloured_verdict(scored: AssetScore, *, upper: bool = False) -> str:
    word = scored.verdict.upper() if upper else scored.verdict
    return f"[{VERDICT_COLOURS[scored.verdict]}]{word}[/]"


def _provenance(result: Draft) -> str:
    meta = result.meta
    sources = ", ".join(sorted({s.source for s in meta.sources})) or "none"
    return (
        f"model {meta.provider}:{meta.model} · prompt {meta.prompt_id} v{meta.prompt_version} · "
        f"{meta.usage.total_tokens} tokens · ${meta.cost_usd:.4f} · {meta.seconds:.1f}s · "
        f"{meta.attempts} attempt(s)\nsources: {sources}"
    )


def _parts_text(parts: list[PartView]) -> Text:
    """A list of structured parts (a sequence's emails, a FAQ) for the terminal: each a block under its heading."""
    text = Text()
    for n, part in enumerate(parts):
        text.append(("\n\n" if n else "") + part.heading, style="bold")
        for label, value in part.lines:
            text.append("\n" + ("\n".join(value) if isinstance(value, list) else f"{label}: {value}"))
    return text


def draft_panel(result: Draft) -> RenderableType:
    """A draft's fields in a titled panel, its verdict and what to fix, then its provenance, dimmed."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column()
    for name, value in result.asset.items():
        if (shown := field_view(name, value)).parts:
            table.add_row(name.replace("_", " "), _parts_text(shown.parts))  # a Text is never read as markup
            continue
        text = "\n".join(f"• {v}" for v in value) if isinstance(value, list) else str(value)
        table.add_row(name.replace("_", " "), escape(text))  # model text is never read as markup
    title = escape(f"{result.business} · {result.stage} · {result.typed().label}")
    if result.variant:
        title += f" · variant {result.variant}"
    if result.version > 1:
        title += f" · version {result.version}"
    parts: list[RenderableType] = [Panel(table, title=title, title_align="left")]
    scored = result.evaluation
    if scored is not None:
        lines = [f"Eval: {scored.score:.2f} {coloured_verdict(scored)} (pass mark {scored.threshold:.2f})"]
        lines += [f"  - {escape(problem)}" for problem in scored.problems(TO_FIX)]
        parts.append(Text.from_markup("\n".join(lines)))
    parts.append(Text(_provenance(result), style="dim"))
    return Group(*parts)


def score_table(scored: AssetScore, *, title: str) -> Table:
    """Every gate check and criterion with its weight, score and reason (* = required)."""
    table = Table("criterion", "weight", "score", "reason", title=f"{title}: {scored.score:.2f} "
                  + coloured_verdict(scored, upper=True))  # fmt: skip
    for check in scored.gate.checks if scored.gate else []:
        table.add_row(f"gate: {check.name} *", "-", "ok" if check.passed else "[red]fails[/]", escape(check.reason))
    for c in scored.criteria:
        shown = "n/a" if c.score is None else f"{c.score:.2f}"
        table.add_row(c.name + (" *" if c.required else ""), f"{c.weight:g}", shown, escape(c.reason))
    return table


def kit_tables(reports: list[KitReport]) -> list[Table]:
    """Per business, each asset with its verdict and what to fix first; then one line per business."""
    tables: list[Table] = []
    for r in reports:
        assets = Table("asset", "verdict", "score", "what to fix first", title=escape(f"{r.business}: the journey kit"))
        for e in r.entries:
            scored = e.draft.evaluation if e.draft else None
            if e.error:
                assets.add_row(e.key, "[red]not drafted[/]", "-", escape(e.error[:160]))
            elif scored:
                fix = escape("; ".join(scored.problems(2))[:160])
                assets.add_row(e.key, coloured_verdict(scored), f"{scored.score:.2f}", fix)
            else:
                assets.add_row(e.key, "drafted", "n/a", "(not scored)")
        tables.append(assets)
    totals = Table("business", "passed", "needs work", "failed eval", "not drafted", "mean", "tokens", "cost $",
                   "wall s", "calls", title="Totals")  # fmt: skip
    for r in reports:
        scores = [s.score for s in r.overview if s.score is not None]
        mean = f"{sum(scores) / len(scores):.2f}" if scores else "n/a"
        t = r.totals
        totals.add_row(
            escape(r.business), str(t.passed), str(t.needs_work), str(t.off_brief), str(t.failed), mean,
            str(t.input_tokens + t.output_tokens), f"{t.cost_usd:.4f}", f"{t.wall_seconds:.1f}", str(t.model_calls),
        )  # fmt: skip
    tables.append(totals)
    return tables


def draft_markdown(result: Draft) -> str:
    """A draft as Markdown a copywriter can paste (the UI)."""
    lines = [f"### {result.typed().label} · {result.business}", ""]
    for name, value in result.asset.items():
        title = name.replace("_", " ").capitalize()
        if (shown := field_view(name, value)).parts:  # a sequence's emails, a FAQ: a block each
            lines += [f"**{shown.name}**", "", *md_parts(shown.parts)]
        elif isinstance(value, list):
            lines += [f"**{title}**", *[f"- {v}" for v in value], ""]
        else:
            lines += [f"**{title}:** {value}", ""]
    meta = result.meta
    sources = ", ".join(sorted({s.source for s in meta.sources})) or "none"
    lines.append(
        f"<small>{meta.provider}:{meta.model} · prompt {meta.prompt_id} v{meta.prompt_version} · "
        f"{meta.usage.total_tokens} tokens · {meta.seconds:.1f}s · sources: {sources}</small>"
    )
    return "\n".join(lines)


def score_markdown(scored: AssetScore | None) -> str:
    """The eval's verdict under a draft: score, verdict, and what to fix first (the UI)."""
    if scored is None:
        return "*Not scored.*"
    lines = [f"**Eval: {scored.score:.2f}, {VERDICT_WORDS[scored.verdict]}** (pass mark {scored.threshold:.2f})"]
    lines += [f"- {problem}" for problem in scored.problems(TO_FIX)]
    return "\n".join(lines)


def alternatives_markdown(result: Draft) -> str:
    """The candidates that lost, with their verdicts (kept in the draft's ``alternatives``)."""
    scores = [f"{a.evaluation.score:.2f} ({a.evaluation.verdict})" for a in result.alternatives if a.evaluation]
    return f"\n\nOther candidates: {', '.join(scores)}" if scores else ""
