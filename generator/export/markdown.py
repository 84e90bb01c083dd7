"""The kit as Markdown (and as JSON, the report itself)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

from generator.export.view import (
    COST_HEADER,
    JOURNEY_HEADER,
    OVERVIEW_HEADER,
    PartView,
    asset_verdict,
    kit_view,
)
from generator.kit_models import KitReport


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


def md_parts(parts: list[PartView], level: int = 4) -> list[str]:
    """Each part (an email, a question) under a heading of its own: labelled lines, its text as paragraphs."""
    out = []
    for part in parts:
        out += [f"{'#' * level} {_md_line(part.heading)}", ""]
        for name, value in part.lines:
            if isinstance(value, list):  # its text: a paragraph each
                out += [line for paragraph in value for line in (_md_line(paragraph), "")]
            else:
                out += [f"**{name}:** {_md_line(value)}", ""]
    return out


def to_markdown(report: KitReport) -> str:
    """The kit as GitHub-flavoured Markdown."""
    view = kit_view(report)
    out = [f"# {_md_line(view.title)}", "", f"Created {view.date}", "", "## Journey overview", ""]
    out += _md_table(OVERVIEW_HEADER, view.overview) if view.overview else ["No stages in this kit."]
    out += ["", "## The journey check", ""]
    out += [*_md_table(JOURNEY_HEADER, view.journey), "", view.journey_note] if view.journey else [view.journey_note]
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
                if f.parts:
                    out += [f"**{f.name}:**", "", *md_parts(f.parts)]
                elif isinstance(f.value, list):
                    out += [f"**{f.name}:**", "", *(f"- {_md_line(v)}" for v in f.value), ""]
                elif "\n" in f.value:
                    out += [f"**{f.name}:**", "", _md(f.value.strip()), ""]
                else:
                    out += [f"**{f.name}:** {_md(f.value)}", ""]
            note = asset_verdict(asset)
            if note:
                out += [f"**{note}**", ""]
            if asset.weakest:
                out += ["What to fix first:", ""]
                out += [f"- {_md_line(c.name)} ({c.score:.2f}): {_md_line(c.reason)}" for c in asset.weakest]
                out.append("")
            out += [f"<sub>{html.escape(asset.provenance or '')}</sub>", ""]
    out += ["", "## Cost and time", ""]
    out += _md_table(COST_HEADER, [*view.costs, view.totals])
    out += ["", view.totals_note, ""]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(line.rstrip() for line in out))


def to_json(report: KitReport) -> str:
    """The whole report, lossless: ``KitReport.model_validate_json`` reads it back."""
    return report.model_dump_json(indent=2)
