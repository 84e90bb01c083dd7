"""Export a journey kit for people: Markdown, JSON, Word and one self-contained HTML page; on request also the
journey's schedule, as a calendar (ICS) and a CSV for a scheduler.

Every document format carries the same content in the same order: title and date, the journey overview,
one section per stage (journey order) with each asset's fields, its eval score and weakest
criteria and a provenance line, then the cost and time table. The renderers share one neutral
view of the report (``KitView``), so the formats cannot drift apart. The schedule formats (``schedule``) are
opt-in (``ics``, ``csv``): what a kit writes by default is unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path

from generator.errors import ConfigError, CVJError
from generator.export.markdown import to_json, to_markdown
from generator.export.page import to_html
from generator.export.schedule import to_csv, to_ics
from generator.export.view import OVERVIEW_HEADER, humanise
from generator.export.word import to_docx
from generator.files import write_text_atomic
from generator.kit_models import KitReport

__all__ = [
    "ALL_FORMATS",
    "FORMATS",
    "OVERVIEW_HEADER",
    "SCHEDULE_FORMATS",
    "ExportError",
    "export_kit",
    "humanise",
    "parse_formats",
    "to_csv",
    "to_docx",
    "to_html",
    "to_ics",
    "to_json",
    "to_markdown",
]

FORMATS = ("md", "json", "docx", "html")  # the default: every document format
SCHEDULE_FORMATS = ("ics", "csv")  # opt-in: the journey's sends as a calendar and a scheduler's CSV
ALL_FORMATS = FORMATS + SCHEDULE_FORMATS
FILE_NAMES = {fmt: f"kit.{fmt}" for fmt in ALL_FORMATS}


def parse_formats(formats: Iterable[str] | str) -> list[str]:
    """Normalised, de-duplicated formats ('md,html' works too); unknown ones raise ConfigError."""
    items = formats.split(",") if isinstance(formats, str) else list(formats)
    wanted = list(dict.fromkeys(str(f).strip().lower().lstrip(".") for f in items if str(f).strip()))
    unknown = [f for f in wanted if f not in ALL_FORMATS]
    if unknown or not wanted:
        what = f"Unknown export format(s): {', '.join(unknown)}." if unknown else "No export format given."
        raise ConfigError(f"{what} Choose from: {', '.join(ALL_FORMATS)}.", details={"valid": list(ALL_FORMATS)})
    return wanted


class ExportError(CVJError):
    """A format could not be written (the others were); ``details['written']`` lists the files that were."""

    http_status = 500


def export_kit(report: KitReport, out_dir: Path, formats: Iterable[str], *, start: date | None = None) -> list[Path]:
    """Write the kit in each format into out_dir (kit.md, kit.json, kit.docx, kit.html, kit.ics, kit.csv); atomic
    writes; the paths. ``start``: the journey's day 0 in the schedule formats (default: the day the kit was made).

    Formats are checked before anything is written, so a typo writes nothing. One format that fails to render
    does not cost the others: every other format is written first, then :class:`ExportError` names what failed.
    """
    wanted = parse_formats(formats)
    out_dir = Path(out_dir)
    writers: dict[str, Callable[[Path], None]] = {
        "md": lambda p: write_text_atomic(p, to_markdown(report)),
        "json": lambda p: write_text_atomic(p, to_json(report)),
        "docx": lambda p: to_docx(report, p),
        "html": lambda p: write_text_atomic(p, to_html(report)),
        "ics": lambda p: write_text_atomic(p, to_ics(report, start)),
        "csv": lambda p: write_text_atomic(p, to_csv(report, start)),
    }
    paths: list[Path] = []
    failed: list[str] = []
    for fmt in wanted:
        path = out_dir / FILE_NAMES[fmt]
        try:
            writers[fmt](path)
        except Exception as exc:  # one renderer's bug or a full disk: the other formats still get written
            failed.append(f"{path.name} ({type(exc).__name__}: {exc})")
            continue
        paths.append(path)
    if failed:
        written = ", ".join(p.name for p in paths) or "nothing"
        raise ExportError(
            f"Could not write {'; '.join(failed)}. Written: {written}.", details={"written": [str(p) for p in paths]}
        )
    return paths
