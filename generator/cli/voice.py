"""``cvj voice learn``: learn a business's voice from its own copy and write it into its profile; and
``cvj eval voice``: how well learned voices tell brands apart on the labelled sets in eval/voice/."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from generator.cli.common import JsonOpt, ProfileOpt, app, err, eval_app, friendly_errors, out
from generator.errors import DocumentError
from generator.evaluation.voice_sets import VoiceSetReport, measure_voice_sets
from generator.files import write_text_atomic
from generator.ingest import discover, load_text
from generator.profile import MAX_PROFILE_BYTES, read_text_file
from generator.runtime import components
from generator.voice import MAX_SAMPLE_CHARS, learn_voice
from generator.voice_profile import profile_text_with_voice, profile_without_voice
from generator.voice_traits import LearnedVoice

voice_app = typer.Typer(help="A business's voice, learned from its own copy.")
app.add_typer(voice_app, name="voice")

# Several pieces of copy in one file (or on stdin) are separated by a line holding only '---'.
_SEPARATOR = re.compile(r"^\s*---\s*$", re.MULTILINE)
MAX_STDIN_CHARS = 20 * MAX_SAMPLE_CHARS


def read_pieces(sources: list[str]) -> list[tuple[str, str]]:
    """(source, text) for each piece of copy in these files (md, txt, html, pdf, docx), folders (searched like
    ``cvj ingest`` does) or stdin ('-'); a line holding only '---' separates pieces within one file."""
    found: list[tuple[str, str]] = []
    named = [Path(s) for s in sources if s != "-"]
    files, failures = discover(named)
    if failures:
        raise DocumentError("; ".join(f"{f.path}: {f.reason}" for f in failures))
    texts: list[tuple[str, str]] = []
    if "-" in sources:
        text = sys.stdin.read(MAX_STDIN_CHARS + 1)
        if len(text) > MAX_STDIN_CHARS:
            raise DocumentError(f"stdin holds more than {MAX_STDIN_CHARS:,} characters; give a few samples.")
        texts.append(("stdin", text))
    texts += [(str(path), load_text(path)) for path in files]
    for source, text in texts:
        pieces = [piece.strip() for piece in _SEPARATOR.split(text) if piece.strip()]
        found += [(source if len(pieces) == 1 else f"{source} #{n}", piece) for n, piece in enumerate(pieces, 1)]
    return found


def read_samples(sources: list[str]) -> list[str]:
    """The texts of ``read_pieces``."""
    return [text for _, text in read_pieces(sources)]


def _figure(value: float) -> str:
    return f"{value:.2f}" if abs(value) < 1 else f"{value:.1f}"


def _trait_table(voice: LearnedVoice) -> Table:
    table = Table("habit", "yours", "varies by", title=f"Voice learned from {voice.samples} samples")
    for name, info in type(voice.traits).model_fields.items():
        table.add_row(
            info.description or name, _figure(getattr(voice.traits, name)), _figure(getattr(voice.spread, name))
        )
    return table


@voice_app.command("learn")
@friendly_errors
def voice_learn(
    samples: Annotated[
        list[str], typer.Argument(help="3-20 pieces of the business's own copy: files (md, txt, html, pdf, docx) or -.")
    ],
    profile: ProfileOpt,
    output: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write the updated profile here (default: in place).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Learn the voice of 3-20 samples and write it into the profile (a .bak of the file it replaces is kept).

    Several samples in one file (or on stdin) are separated by a line holding only '---'."""
    fmt = "json" if profile.suffix.lower() == ".json" else "yaml"
    text = read_text_file(profile, limit=MAX_PROFILE_BYTES, what="profile")
    business = profile_without_voice(text, fmt=fmt, source=str(profile))  # an old voice is relearned, not checked
    parts = components()
    voice = learn_voice(read_samples(samples), eval_dir=parts.settings.eval_dir, business=business.name)
    updated = profile_text_with_voice(text, voice, fmt=fmt, source=str(profile))
    target = output or profile
    backup = target.with_name(target.name + ".bak")
    if target.exists():
        shutil.copy2(target, backup)
    write_text_atomic(target, updated)
    if as_json:
        sys.stdout.write(voice.model_dump_json(indent=2) + "\n")
    else:
        out.print(f"[bold]{escape(business.name)}[/]: {escape(voice.description)}")
        out.print(_trait_table(voice))
        for number, passage in enumerate(voice.exemplars, 1):
            out.print(f"[dim]exemplar {number}:[/] {escape(passage)}")
    kept = f" (the previous file is {backup})" if backup.exists() else ""
    err.print(f"Wrote the voice into {target}{kept}.", markup=False, highlight=False)


def _report_table(report: VoiceSetReport) -> Table:
    table = Table("measure", "pairs", "closer to own brand", title=f"Voice separation on {report.brands} brands")
    for figure in report.figures:
        table.add_row(figure.name, str(figure.pairs), f"{figure.share:.1%}")
    return table


@eval_app.command("voice")
@friendly_errors
def eval_voice(
    brands: Annotated[
        Path | None, typer.Option(help="Folder of labelled brand sets (default eval/voice/brands/).")
    ] = None,
    embeddings: Annotated[
        bool, typer.Option("--embeddings/--no-embeddings", help="Also measure with the local embeddings.")
    ] = True,
    as_json: JsonOpt = False,
) -> None:
    """Does a brand's held-out text sound closer to its own learned voice than to another brand's?"""
    parts = components()
    folder = brands or parts.settings.eval_dir / "voice" / "brands"
    embed = None
    if embeddings:
        from generator.embeddings import build_embeddings

        embed = build_embeddings(parts.settings)[0].embed_documents
    with err.status("Learning voices and comparing..."):
        report = measure_voice_sets(folder, eval_dir=parts.settings.eval_dir, embed=embed)
    if as_json:
        sys.stdout.write(report.model_dump_json(indent=2) + "\n")
        return
    out.print(_report_table(report))
    for miss in report.misses[:20]:
        out.print(f"[dim]miss: {escape(miss)}[/]", highlight=False)
