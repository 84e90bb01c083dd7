"""The kit as a Word document (python-docx)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from generator.export.view import (
    COST_HEADER,
    DEFAULT_COLOUR,
    JOURNEY_HEADER,
    OVERVIEW_HEADER,
    STAGE_COLOURS,
    PartView,
    asset_verdict,
    kit_view,
    xml_safe,
)
from generator.files import write_atomic
from generator.kit_models import KitReport


def _docx_table(
    document: Any, header: tuple[str, ...], rows: Sequence[tuple[str, ...]], bold_last: bool = False
) -> None:
    table = document.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = ""
        cell.paragraphs[0].add_run(xml_safe(text)).bold = True
    for i, row in enumerate(rows):
        cells = table.add_row().cells
        for cell, text in zip(cells, row, strict=True):
            cell.text = ""
            cell.paragraphs[0].add_run(xml_safe(text)).bold = bold_last and i == len(rows) - 1


def _docx_parts(document: Any, parts: list[PartView]) -> None:
    """Each part (an email, a question) under a heading of its own: labelled lines, its text a paragraph each."""
    for part in parts:
        document.add_heading(xml_safe(part.heading), level=3)
        for name, value in part.lines:
            if isinstance(value, list):
                for paragraph in value:
                    document.add_paragraph(xml_safe(paragraph))
                continue
            p = document.add_paragraph()
            p.add_run(xml_safe(f"{name}: ")).bold = True
            p.add_run(xml_safe(value))


def _build_docx(report: KitReport) -> Any:
    from docx import Document
    from docx.shared import Pt, RGBColor

    view = kit_view(report)
    document = Document()
    document.core_properties.title = xml_safe(view.title)
    document.add_heading(xml_safe(view.title), level=0)
    document.add_paragraph(f"Created {view.date}")
    document.add_heading("Journey overview", level=1)
    if view.overview:
        _docx_table(document, OVERVIEW_HEADER, view.overview)
    else:
        document.add_paragraph("No stages in this kit.")
    document.add_heading("The journey check", level=1)
    if view.journey:
        _docx_table(document, JOURNEY_HEADER, view.journey)
    document.add_paragraph(xml_safe(view.journey_note))
    for stage in view.stages:
        number = f"{stage.number}. " if stage.number else ""
        heading = document.add_heading(xml_safe(f"{number}{stage.name}"), level=1)
        colour = STAGE_COLOURS.get(stage.id, DEFAULT_COLOUR).lstrip("#")
        for run in heading.runs:
            run.font.color.rgb = RGBColor.from_string(colour.upper())
        if stage.purpose:
            document.add_paragraph().add_run(xml_safe(stage.purpose)).italic = True
        if not stage.assets:
            document.add_paragraph("Nothing drafted for this stage.")
        for asset in stage.assets:
            document.add_heading(xml_safe(asset.label), level=2)
            if asset.error is not None:
                p = document.add_paragraph()
                p.add_run("Not drafted: ").bold = True
                p.add_run(xml_safe(asset.error))
                continue
            for f in asset.fields:
                p = document.add_paragraph()
                p.add_run(xml_safe(f"{f.name}:")).bold = True
                if f.parts:
                    _docx_parts(document, f.parts)
                elif isinstance(f.value, list):
                    for item in f.value:
                        document.add_paragraph(xml_safe(item), style="List Bullet")
                else:
                    p.add_run(" " + xml_safe(f.value))
            note = asset_verdict(asset)
            if note:
                document.add_paragraph().add_run(xml_safe(note)).bold = True
            if asset.weakest:
                document.add_paragraph("What to fix first:")
                for c in asset.weakest:
                    document.add_paragraph(xml_safe(f"{c.name} ({c.score:.2f}): {c.reason}"), style="List Bullet")
            run = document.add_paragraph().add_run(xml_safe(asset.provenance or ""))
            run.italic = True
            run.font.size = Pt(8)
            run.font.color.rgb = RGBColor(0x64, 0x74, 0x8B)
    document.add_heading("Cost and time", level=1)
    _docx_table(document, COST_HEADER, [*view.costs, view.totals], bold_last=True)
    document.add_paragraph(xml_safe(view.totals_note))
    return document


def to_docx(report: KitReport, path: Path) -> None:
    """The kit as a Word document at ``path`` (written atomically)."""
    document = _build_docx(report)
    write_atomic(Path(path), document.save)
