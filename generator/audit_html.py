"""The journey audit as one self-contained HTML page: inline CSS, no scripts, nothing loaded, so it can be mailed or
printed as is. Everything from the copy, the profile or the eval is escaped."""

from __future__ import annotations

from html import escape

from generator.audit import AuditPiece, AuditReport, StageCoverage

STATUS_COLOUR = {"covered": "#1a7f37", "weak": "#b35900", "missing": "#c62828"}
CSS = """
body { font: 15px/1.5 system-ui, sans-serif; max-width: 960px; margin: 2em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; width: 100%; margin: 1em 0 2em; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid #ddd; vertical-align: top; }
th { background: #f4f4f4; }
.status { font-weight: 600; }
.dim { color: #666; font-size: 13px; }
ol li { margin-bottom: .4em; }
"""


def _score(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _stage_row(s: StageCoverage) -> str:
    colour = STATUS_COLOUR[s.status]
    pieces = ", ".join(escape(p) for p in s.pieces) or '<span class="dim">none</span>'
    return (
        f"<tr><td>{escape(s.name)}</td><td class='status' style='color:{colour}'>{escape(s.status)}</td>"
        f"<td>{_score(s.best_score)}</td><td>{s.threshold:.2f}</td><td>{pieces}</td></tr>"
    )


def _piece_row(p: AuditPiece) -> str:
    verdict = "" if p.passed is None else ("passes" if p.passed else "below the bar")
    fixes = "".join(f"<div>{escape(f)}</div>" for f in p.to_fix)
    notes = "".join(f"<div class='dim'>note: {escape(n)}</div>" for n in p.notes)
    return (
        f"<tr><td>{escape(p.source)}</td><td>{escape(p.label)}</td><td>{p.fit.confidence:.0%}</td>"
        f"<td>{_score(p.score)}</td><td>{escape(verdict)}</td><td>{fixes}{notes}</td></tr>"
    )


def render_audit_html(report: AuditReport) -> str:
    """The page: the summary, what to draft first, the journey stage by stage, and every piece."""
    first = "".join(
        f"<li><b>{escape(r.stage)}</b>: {escape(r.asset_type.replace('_', ' '))} <span class='dim'>({escape(r.why)})"
        "</span></li>"
        for r in report.draft_first
    )
    stages = "".join(_stage_row(s) for s in report.stages)
    pieces = "".join(_piece_row(p) for p in report.pieces)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Journey audit: {escape(report.business)}</title>
<style>{CSS}</style></head><body>
<h1>Journey audit: {escape(report.business)}</h1>
<p>{escape(report.summary())}</p>
<h2>Draft these first</h2>
{f"<ol>{first}</ol>" if first else "<p>Every stage is covered by a piece that passes its rubric.</p>"}
<h2>The journey</h2>
<table><tr><th>Stage</th><th>Status</th><th>Best score</th><th>Pass mark</th><th>Pieces</th></tr>{stages}</table>
<h2>Your copy</h2>
<table><tr><th>Piece</th><th>Stage</th><th>Confidence</th><th>Score</th><th>Verdict</th><th>To fix</th></tr>
{pieces}</table>
<p class="dim">Stages from the stage classifier (unclear below its confidence line: not counted); scores from each
stage's rubric in eval/criteria/, without the on-brief gate (its findings are shown as notes).</p>
</body></html>
"""
