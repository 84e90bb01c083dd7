"""One inline SVG bar chart of a score per stage, shared by the eval report and the kit's HTML export
(self-contained pages: no scripts, no external files)."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape


@dataclass(frozen=True)
class StageBar:
    stage: str  # stage id, kept in data-stage for tests and styling
    label: str  # what the reader sees under the bar
    value: float | None  # None: nothing scored for this stage ("n/a")
    colour: str
    sublabel: str = ""
    pass_mark: float | None = None  # the stage's pass mark (its rubric's threshold), drawn across its bar


PASS_COLOUR = "#b91c1c"


def stage_bar_chart_svg(bars: list[StageBar], *, title: str) -> str:
    """Bars scaled to [0, 1] with their values printed, grid lines every 0.25, and each bar's own dashed pass mark
    (rubrics pass at different scores, so one line for all stages would misstate some)."""
    width, height, left, top = 760, 280, 44, 22
    right = 12
    bottom = 46 if any(b.sublabel for b in bars) else 34
    plot_h = height - top - bottom
    slot = (width - left - right) / max(len(bars), 1)
    bar_w = slot * 0.6

    def y(value: float) -> float:
        return top + plot_h * (1 - max(0.0, min(1.0, value)))

    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-labelledby="chart-title" '
        f'font-family="system-ui, sans-serif" font-size="12">',
        f'<title id="chart-title">{escape(title)}</title>',
    ]
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        dash = "" if tick in (0.0, 1.0) else ' stroke-dasharray="3 3"'
        parts.append(
            f'<line x1="{left}" y1="{y(tick):.1f}" x2="{width - right}" y2="{y(tick):.1f}" stroke="#d1d9e0"{dash}/>'
            f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" font-size="11" fill="#59636e">'
            f"{tick:g}</text>"
        )
    for i, bar in enumerate(bars):
        x = left + slot * i + (slot - bar_w) / 2
        cx = x + bar_w / 2
        if bar.value is None:
            parts.append(
                f'<rect x="{x:.1f}" y="{top + plot_h - 2:.1f}" width="{bar_w:.1f}" height="2" fill="#d1d9e0"/>'
                f'<text x="{cx:.1f}" y="{top + plot_h - 8:.1f}" text-anchor="middle" fill="#59636e">n/a</text>'
            )
        else:
            h = max(1.0, plot_h * max(0.0, min(1.0, bar.value)))
            parts.append(
                f'<rect class="chart-bar" data-stage="{escape(bar.stage)}" x="{x:.1f}" y="{top + plot_h - h:.1f}" '
                f'width="{bar_w:.1f}" height="{h:.1f}" rx="3" fill="{bar.colour}">'
                f"<title>{escape(bar.label)}: {bar.value:.2f}</title></rect>"
                f'<text x="{cx:.1f}" y="{max(top + plot_h - h - 6, 12):.1f}" text-anchor="middle" font-size="13" '
                f'font-weight="600" fill="#1f2328">{bar.value:.2f}</text>'
            )
        parts.append(
            f'<text x="{cx:.1f}" y="{top + plot_h + 20:.1f}" text-anchor="middle" font-size="13" fill="#1f2328">'
            f"{escape(bar.label)}</text>"
        )
        if bar.pass_mark is not None:
            parts.append(
                f'<line class="pass-mark" x1="{x - 4:.1f}" y1="{y(bar.pass_mark):.1f}" x2="{x + bar_w + 4:.1f}" '
                f'y2="{y(bar.pass_mark):.1f}" stroke="{PASS_COLOUR}" stroke-width="2" stroke-dasharray="6 3">'
                f"<title>{escape(bar.label)} passes at {bar.pass_mark:.2f}</title></line>"
            )
        if bar.sublabel:
            parts.append(
                f'<text x="{cx:.1f}" y="{top + plot_h + 36:.1f}" text-anchor="middle" font-size="11" '
                f'fill="#59636e">{escape(bar.sublabel)}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)
