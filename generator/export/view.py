"""The neutral view every kit format renders: title, overview, stages with their assets and
weakest criteria, provenance, cost and time. One view, so the formats cannot drift apart."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from generator.assets import ASSET_TYPES
from generator.evaluation.results import AssetScore
from generator.kit_models import KitEntry, KitReport
from generator.stages import STAGE_IDS, Stage, load_stages

WEAKEST = 3

STAGE_COLOURS = {"aware": "#2563eb", "engage": "#0891b2", "subscribe": "#059669", "convert": "#65a30d",
                 "excite": "#d97706", "ascend": "#dc2626", "advocate": "#db2777", "promote": "#7c3aed"}  # fmt: skip
DEFAULT_COLOUR = "#475569"

OVERVIEW_HEADER = ("Stage", "What the prospect sees", "The offer", "The next step", "Score")
JOURNEY_HEADER = ("Stage", "Asset", "Verdict", "Hands the customer to", "Breaks")
COST_HEADER = ("Asset", "Stage", "Input tokens", "Output tokens", "Cost (USD)", "Seconds")
# What XML 1.0 cannot hold (a model's stray bell, escape or NUL): Word refuses the whole document over one.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: object) -> str:
    """The text without the control characters XML cannot hold (tab and newline stay)."""
    return _NOT_XML.sub("", str(text))


@dataclass(frozen=True)
class PartView:
    """One part of an asset shown as a block of its own (an email of a sequence, a question of a FAQ): a heading,
    then its fields in order, each a labelled line (a ``str``) or its text as paragraphs (a ``list``)."""

    heading: str
    lines: list[tuple[str, str | list[str]]] = field(default_factory=list)


@dataclass(frozen=True)
class FieldView:
    name: str
    value: str | list[str]
    parts: list[PartView] = field(default_factory=list)  # a list of structured parts: render these, not ``value``


@dataclass(frozen=True)
class CriterionView:
    name: str
    score: float
    reason: str


@dataclass(frozen=True)
class AssetView:
    key: str
    stage: str
    label: str
    fields: list[FieldView] = field(default_factory=list)
    error: str | None = None
    score: float | None = None
    verdict: str | None = None  # passed, needs work or failed (off brief)
    weakest: list[CriterionView] = field(default_factory=list)  # what to fix first
    provenance: str | None = None


@dataclass(frozen=True)
class StageView:
    id: str
    number: int | None
    name: str
    purpose: str
    score: float | None
    assets: list[AssetView]


@dataclass(frozen=True)
class ChartBar:
    stage: str
    name: str
    score: float | None
    pass_mark: float | None  # the pass threshold of the stage's rubric, from its scored drafts


@dataclass(frozen=True)
class KitView:
    title: str
    business: str
    date: str
    overview: Sequence[tuple[str, ...]]
    overview_ids: list[str]  # the stage id of each overview row
    journey: Sequence[tuple[str, ...]]  # the journey check: one row per stage (JOURNEY_HEADER)
    journey_note: str
    stages: list[StageView]
    chart: list[ChartBar]  # all eight stages
    costs: Sequence[tuple[str, ...]]
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


_PART_TEXT = ("body", "answer", "text", "message")  # a part's own text, shown as paragraphs
_WHEN = ("after", "when", "once", "on", "if", "before", "upon", "within")


def paragraphs(text: object) -> list[str]:
    """Text as paragraphs: one per line (a model's line breaks are paragraph breaks), blank lines dropped."""
    return [" ".join(line.split()) for line in str(text).splitlines() if line.strip()]


def _heading(name: str, n: int, part: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    """A part's heading ('Email 2 · day 3 · after: signed up', '2. Is it free?') and the keys it already shows."""
    if "send_day" in part:
        trigger = str(part.get("trigger") or "").strip()
        when = trigger if trigger.split(" ", 1)[0].lower() in _WHEN else f"after: {trigger}"
        kind = "Email" if "subject" in part else "Message"
        return f"{kind} {n} · day {part['send_day']}" + (f" · {when}" if trigger else ""), ("send_day", "trigger")
    if part.get("question"):
        return f"{n}. {part['question']}", ("question",)
    return f"{humanise(name).removesuffix('s')} {n}", ()


def part_views(name: str, items: list[dict[str, Any]], currency: str = "") -> list[PartView]:
    """Each structured part of a list field (a sequence's emails, a page's FAQ) as a block of its own."""
    views = []
    for n, part in enumerate(items, 1):
        heading, shown = _heading(name, n, part)
        lines: list[tuple[str, str | list[str]]] = []
        for key, raw in part.items():
            if key not in shown and raw not in (None, "", []):
                value = _value(key, raw, currency)
                text = value if isinstance(value, str) else "; ".join(value)
                lines.append((humanise(key), paragraphs(text) if key in _PART_TEXT else text))
        views.append(PartView(heading, lines))
    return views


def field_view(name: str, value: Any, currency: str = "") -> FieldView:
    """One field of an asset as the formats show it; a list of structured parts becomes its blocks."""
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        parts = part_views(name, value, currency)
        label = "Emails" if parts[0].heading.startswith("Email ") else "FAQ" if name == "faq" else humanise(name)
        return FieldView(label, [], parts)
    return FieldView(humanise(name), _value(name, value, currency))


def format_score(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _money(value: float) -> str:
    return f"${value:.4f}"


def _label(entry: KitEntry) -> str:
    cls = ASSET_TYPES.get(entry.asset_type)
    label = cls.label if cls else humanise(entry.asset_type)
    variant = entry.draft.variant if entry.draft else None
    if variant is None and ".v" in entry.key:
        suffix = entry.key.rsplit(".v", 1)[1]
        variant = int(suffix) if suffix.isdigit() else None
    return f"{label} (variant {variant})" if variant else label


def _to_fix(evaluation: AssetScore) -> list[CriterionView]:
    return [CriterionView(p.name, p.score, p.reason) for p in evaluation.to_fix(WEAKEST)]


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


def _asset_view(entry: KitEntry, currency: str) -> AssetView:
    label = _label(entry)
    if entry.draft is None:
        return AssetView(key=entry.key, stage=entry.stage, label=label, error=entry.error or "no draft was returned")
    fields = [
        field_view(name, value, currency)
        for name, value in entry.draft.asset.items()
        if value is not None and value != "" and value != []
    ]
    evaluation = entry.draft.evaluation
    return AssetView(
        key=entry.key,
        stage=entry.stage,
        label=label,
        fields=fields,
        score=evaluation.score if evaluation else None,
        verdict=evaluation.verdict if evaluation else None,
        weakest=_to_fix(evaluation) if evaluation else [],
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
            e.draft.evaluation.score for e in report.entries if e.stage == stage and e.draft and e.draft.evaluation
        ]
        scores[stage] = sum(found) / len(found) if found else None
    return scores


def _pass_mark(report: KitReport, stage: str) -> float | None:
    """The score the stage's rubric passes at, as its drafts were scored (None when nothing was)."""
    marks = [
        e.draft.evaluation.threshold for e in report.entries if e.stage == stage and e.draft and e.draft.evaluation
    ]
    return max(marks) if marks else None


def kit_view(report: KitReport) -> KitView:
    stages: dict[str, Stage] = {s.id: s for s in load_stages()}
    order = _stage_order(report)
    currency = report.profile.offers.currency
    scores = _stage_scores(report)
    assets = [_asset_view(e, currency) for e in report.entries]
    stage_views = []
    for stage_id in order:
        stage = stages.get(stage_id)
        stage_views.append(
            StageView(
                id=stage_id,
                number=stage.number if stage else None,
                name=stage.name if stage else humanise(stage_id),
                purpose=stage.purpose if stage else "",
                score=scores.get(stage_id),
                assets=[a for a in assets if a.stage == stage_id],
            )
        )
    steps = sorted(report.overview, key=lambda s: order.index(s.stage))
    overview = [(step.stage_name or step.stage, step.prospect_sees, step.offer, step.next_step,
                 format_score(step.score) + (f" ({step.verdict})" if step.verdict else ""))
                for step in steps]  # fmt: skip
    costs = []
    for entry, view in zip(report.entries, assets, strict=True):
        name = stages[entry.stage].name if entry.stage in stages else entry.stage
        seconds = f"{_seconds(entry):.1f}"
        if entry.draft is None:
            costs.append((view.label, name, "-", "-", "-", seconds))
            continue
        usage, label = entry.draft.meta.usage, view.label + (" (cached)" if entry.cached else "")
        tokens = (f"{usage.input_tokens:,}", f"{usage.output_tokens:,}")
        costs.append((label, name, *tokens, _money(entry.draft.meta.cost_usd), seconds))
    journey_rows = report.journey.rows if report.journey else []
    journey = [(row.stage_name, row.asset, row.verdict or "-", ("no: " if row.leads_on is False else "") + row.hands_to,
                "; ".join(row.breaks) or "none") for row in journey_rows]  # fmt: skip
    breaks = sum(len(row.breaks) for row in journey_rows)
    leading = sum(1 for row in journey_rows if row.leads_on)
    journey_note = (
        f"{leading} of {len(journey_rows)} stages hand the customer on to the next stage's asset; {breaks} break(s)."
        if journey_rows
        else "No journey check for this kit."
    )
    t = report.totals
    totals = ("Total", "", f"{t.input_tokens:,}", f"{t.output_tokens:,}", _money(t.cost_usd), f"{t.wall_seconds:.1f}")
    note = (
        f"{t.assets} drafted ({t.passed} passed the eval, {t.needs_work} need work, {t.off_brief} failed it), "
        f"{t.failed} not drafted, {t.model_calls} model calls; "
        f"the total seconds are wall-clock time for the whole kit (assets run concurrently)."
    )
    created = report.created_at
    return KitView(
        title=f"{report.business} — Customer Value Journey kit",
        business=report.business,
        date=f"{created.day} {created:%B %Y}",
        overview=overview,
        overview_ids=[step.stage for step in steps],
        journey=journey,
        journey_note=journey_note,
        stages=stage_views,
        chart=[ChartBar(s.id, s.name, scores.get(s.id), _pass_mark(report, s.id)) for s in stages.values()],
        costs=costs,
        totals=totals,
        totals_note=note,
    )


VERDICT_WORDS = {"passed": "passed", "needs work": "needs work", "failed": "failed (off brief: not usable as is)"}


def asset_verdict(asset: AssetView) -> str | None:
    if asset.score is None and asset.verdict is None:
        return None
    result = f" — {VERDICT_WORDS.get(asset.verdict, asset.verdict)}" if asset.verdict else ""
    return f"Eval score: {format_score(asset.score)}{result}"
