"""The journey drawn as a map: the eight stages in order (a loop that snakes back, since the friend a referral
brings starts again at Aware), each card with its asset, verdict and score, what the prospect sees and what the
copy hands them to next (the journey check), or where a kit in progress stands; a stage's extra assets (a welcome
sequence beside the lead magnet) are listed on its card, each with its verdict.

Plain HTML with inline styles, so it looks the same mounted under /ui (where the page's CSS is not ours) and in
light or dark mode (the cards carry their own colours).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from generator.assets import ASSET_TYPES, resolve_asset_type
from generator.kit_models import KitEntry, KitReport
from generator.stages import Stage, load_stages
from generator.ui_common import VERDICT_COLOURS, esc

State = Literal["empty", "waiting", "done", "failed"]
_BORDERS = {"empty": "#d0d7de", "waiting": "#0969da", "failed": "#cf222e"}
_PROGRESS = {"empty": "Not drafted yet", "waiting": "Queued or drafting...", "failed": "Not drafted"}


@dataclass
class Card:
    """One stage on the map."""

    stage: Stage
    state: State = "empty"
    asset: str = ""
    sees: str = ""
    verdict: str | None = None
    score: float | None = None
    hands_to: str = ""
    leads_on: bool | None = None
    notes: list[str] = field(default_factory=list)
    also: list[str] = field(default_factory=list)  # the stage's other assets, each with its verdict


def _also(entry: KitEntry) -> str:
    """One of a stage's extra assets, as its card lists it: its label and verdict (or why it is missing)."""
    cls = ASSET_TYPES.get(entry.asset_type)
    label = cls.label if cls else entry.asset_type
    if entry.draft is None:
        return f"{label}: not drafted"
    scored = entry.draft.evaluation
    return f"{label}: {scored.verdict} · {scored.score:.2f}" if scored else f"{label}: not scored"


def cards(entries: list[KitEntry], report: KitReport | None = None, pending: set[str] | None = None) -> list[Card]:
    """The eight cards from a kit's entries (and its journey check, when the kit is done); ``pending`` stages
    are queued or being drafted."""
    first: dict[str, KitEntry] = {}
    others: dict[str, list[KitEntry]] = {}
    own: dict[str, str] = {stage.id: resolve_asset_type(stage.id).asset_type for stage in load_stages()}
    for one in sorted(entries, key=lambda e: e.asset_type != own.get(e.stage)):  # the stage's own asset first
        if first.setdefault(one.stage, one) is not one:
            others.setdefault(one.stage, []).append(one)
    rows = {r.stage: r for r in report.journey.rows} if report and report.journey else {}
    seen = {s.stage: s for s in report.overview} if report else {}
    made = []
    for stage in load_stages():
        card = Card(stage=stage, state="waiting" if stage.id in (pending or set()) else "empty")
        entry = first.get(stage.id)
        if entry is not None and entry.draft is not None:
            scored = entry.draft.evaluation
            card.state, card.asset = "done", entry.draft.typed().label
            card.verdict, card.score = (scored.verdict, scored.score) if scored else (None, None)
            card.sees = seen[stage.id].prospect_sees if stage.id in seen else ""
            card.notes = scored.problems(1) if scored and scored.verdict == "needs work" else []  # failed: in "sees"
        elif entry is not None:
            card.state, card.notes = "failed", [entry.error or "no asset"]
        if (row := rows.get(stage.id)) is not None and entry is not None and entry.draft is not None:
            card.hands_to, card.leads_on = row.hands_to, row.leads_on
            shown = [b for b in row.breaks if not b.startswith("does not hand on")]  # the hand-off line says it
            card.notes = [*shown, *card.notes]
        card.also = [_also(other) for other in others.get(stage.id, [])]
        made.append(card)
    return made


def _badge(card: Card) -> str:
    if card.state != "done":
        return f'<span style="font-size:12px;color:#57606a">{_PROGRESS[card.state]}</span>'
    if card.verdict is None:
        return '<span style="font-size:12px;color:#57606a">not scored</span>'
    colour = VERDICT_COLOURS.get(card.verdict, "#57606a")
    score = f" · {card.score:.2f}" if card.score is not None else ""
    return (f'<span style="background:{colour};color:#fff;border-radius:9px;padding:1px 8px;font-size:12px">'
            f"{esc(card.verdict)}{score}</span>")  # fmt: skip


def _card(card: Card) -> str:
    stage = card.stage
    border = VERDICT_COLOURS.get(card.verdict or "", "#57606a") if card.state == "done" else _BORDERS[card.state]
    style = "solid" if card.state in ("done", "failed") else "dashed"
    parts = [
        f'<div style="font-size:12px;color:#57606a">{stage.number} · {esc(stage.name)}</div>',
        f'<div style="font-weight:600;margin:2px 0">{esc(card.asset)}</div>'
        if card.asset
        else f'<div style="font-size:12px;margin:2px 0">{esc(stage.purpose)}</div>',
        f"<div>{_badge(card)}</div>",
    ]
    if card.sees:
        parts.append(f'<div style="font-size:12px;margin-top:6px">Sees: “{esc(card.sees[:140])}”</div>')
    if card.hands_to:
        mark = "✓" if card.leads_on else "⚠" if card.leads_on is False else "·"
        parts.append(f'<div style="font-size:12px;margin-top:4px">Hands on {mark} {esc(card.hands_to[:140])}</div>')
    for line in card.also:
        parts.append(f'<div data-also style="font-size:12px;margin-top:4px">+ {esc(line[:140])}</div>')
    if card.notes:
        items = "".join(f"<li>{esc(note[:160])}</li>" for note in card.notes[:3])
        parts.append(f'<ul style="font-size:12px;color:#cf222e;margin:4px 0 0 16px;padding:0">{items}</ul>')
    return (
        f'<div data-stage="{stage.id}" data-state="{card.state}" style="border:2px {style} {border};'
        f'border-radius:10px;padding:8px 10px;background:#ffffff;color:#1f2328;min-height:110px">{"".join(parts)}</div>'
    )


def _arrow(symbol: str) -> str:
    return f'<div style="align-self:center;text-align:center;font-size:20px;color:#57606a">{symbol}</div>'


def journey_html(shown: list[Card], *, caption: str = "") -> str:
    """The map: stages 1-4 left to right, down, 5-8 right to left, and back to the start."""
    top = [_card(c) for c in shown[:4]]
    bottom = [_card(c) for c in reversed(shown[4:8])]
    cells = [top[0], _arrow("→"), top[1], _arrow("→"), top[2], _arrow("→"), top[3]]
    cells += [*["<div></div>"] * 6, _arrow("↓")]
    cells += [bottom[0], _arrow("←"), bottom[1], _arrow("←"), bottom[2], _arrow("←"), bottom[3]]
    grid = "".join(cells)
    loop = "↺ A referral brings a friend back to the start: their first step is an Aware post."
    note = f'<div style="font-size:13px;margin-bottom:6px">{esc(caption)}</div>' if caption else ""
    return (
        f'<div id="cvj-journey" style="font-family:inherit">{note}'
        '<div style="display:grid;grid-template-columns:1fr 22px 1fr 22px 1fr 22px 1fr;gap:6px">'
        f'{grid}</div><div style="font-size:12px;color:#57606a;margin-top:6px">{esc(loop)}</div></div>'
    )
