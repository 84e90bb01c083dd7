"""The Voice & audit tab: ``cvj voice learn`` and ``cvj audit`` in the browser.

**Voice**: 3-20 pieces of the business's own copy (uploaded, or pasted with a line holding only ``---`` between
them) are measured by :func:`generator.voice.learn_voice` (no model: the same samples always give the same voice);
**Use this voice** puts it into the business in use and saves the business as the Business tab saves it.
**Audit**: the business's existing copy mapped onto the journey by :func:`generator.audit.audit` with the service's
evaluator and stage classifier: which stages are covered, weak or missing, what to draft first, and the report as
one HTML page to download.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from generator.audit import AuditDoc, AuditReport, audit
from generator.audit_html import render_audit_html
from generator.errors import DocumentError
from generator.files import write_text_atomic
from generator.ingest import SUPPORTED_SUFFIXES, UnreadableDocumentError, load_text
from generator.profile import BusinessProfile
from generator.service import DraftingService
from generator.stages import get_stage
from generator.ui_business import header, profile_yaml, saved_choices
from generator.ui_common import Studio, friendly, parse_profile
from generator.voice import MAX_SAMPLE_CHARS, MAX_SAMPLES, MIN_SAMPLES, learn_voice
from generator.voice_profile import profile_with_voice
from generator.voice_traits import LearnedVoice, VoiceTraits

# As the CLI: several pieces in one file (or one paste) are separated by a line holding only '---'.
SEPARATOR = re.compile(r"^\s*---\s*$", re.MULTILINE)
MAX_PASTE_CHARS = MAX_SAMPLES * MAX_SAMPLE_CHARS
# AuditDoc's own limit, so a long piece is named in a message rather than failing validation
MAX_AUDIT_CHARS: int = min(n for m in AuditDoc.model_fields["text"].metadata if (n := getattr(m, "max_length", None)))
TRAIT_HEADERS = ["habit", "yours", "varies by"]
COVERAGE_HEADERS = ["stage", "covered by", "score / verdict", "status"]
PIECE_HEADERS = ["piece", "serves", "confidence", "score", "to fix first"]
STATUS_WORDS = {"covered": "✓ covered", "weak": "△ weak", "missing": "✗ missing"}
NO_CLASSIFIER = "This studio's eval has no stage classifier, so it cannot tell which stage a piece serves."


def split_pieces(text: str) -> list[str]:
    """The pieces of copy in one text: split on lines holding only '---', blanks dropped."""
    return [piece.strip() for piece in SEPARATOR.split(text or "") if piece.strip()]


def read_copy(uploads: list[str] | None, pasted: str | None) -> list[tuple[str, str]]:
    """(source, text) for each piece: the uploaded files (read as ``cvj ingest`` reads them), then the pasted ones.
    A file that cannot be read is an error naming it (by its own name, not the upload's temporary path)."""
    if len(pasted or "") > MAX_PASTE_CHARS:
        raise DocumentError(f"The pasted text is over {MAX_PASTE_CHARS:,} characters; paste a few pieces, not a site.")
    found: list[tuple[str, str]] = []
    for upload in uploads or []:
        name = Path(upload).name
        try:
            text = load_text(Path(upload))
        except UnreadableDocumentError as exc:
            raise DocumentError(f"Could not read {name}: {exc.reason}. Remove it or upload another copy.") from None
        pieces = split_pieces(text)
        found += [(name if len(pieces) == 1 else f"{name} #{n}", p) for n, p in enumerate(pieces, 1)]
    found += [(f"pasted {n}", p) for n, p in enumerate(split_pieces(pasted or ""), 1)]
    return found


# --- voice ------------------------------------------------------------------------------------------------------


def _figure(value: float) -> str:
    return f"{value:.2f}" if abs(value) < 1 else f"{value:.1f}"


def trait_rows(voice: LearnedVoice) -> list[list[str]]:
    """The measured habits as the CLI's table shows them: what, the samples' average, how much it varies."""
    return [
        [info.description or name, _figure(getattr(voice.traits, name)), _figure(getattr(voice.spread, name))]
        for name, info in VoiceTraits.model_fields.items()
    ]


def voice_markdown(voice: LearnedVoice) -> str:
    """The description, then the signature words and the cliches drafts will be marked down for."""
    lines = [f"**The voice** (from {voice.samples} samples): {voice.description}"]
    if voice.signature_words or voice.signature_phrases:
        lines.append("**Signature words:** " + ", ".join([*voice.signature_words, *voice.signature_phrases]))
    if voice.never_uses:
        lines.append(
            f"**Never uses:** {len(voice.never_uses)} common marketing cliches (drafts that use them lose points)."
        )
    return "\n\n".join(lines)


def _plain(line: str) -> str:
    """A line of copy quoted as it is, not read as a heading or a list item (as the Knowledge tab quotes chunks)."""
    return re.sub(r"^(\s*)([#>*+-])", r"\1\\\2", line)


def exemplars_markdown(voice: LearnedVoice) -> str:
    """The exemplar passages drafts get as style references (how the brand sounds, never what it says)."""
    quoted = ["\n".join(f"> {_plain(line)}" for line in passage.splitlines()) for passage in voice.exemplars]
    return "**Exemplars** (style references for drafts):\n\n" + "\n\n".join(quoted)


def voice_view(voice: LearnedVoice | None, status: str) -> list[Any]:
    """What the voice half of the tab shows: status, description, habits table, exemplars."""
    if voice is None:
        return [status, "", [], ""]
    return [status, voice_markdown(voice), trait_rows(voice), exemplars_markdown(voice)]


def learn_from(
    eval_dir: Path, profile_text: str, uploads: list[str] | None, pasted: str | None
) -> tuple[LearnedVoice, str]:
    """Learn the voice of the uploaded and pasted samples; the business in use (if any) names it and its name is
    kept out of the signature words. Returns the voice and a status line."""
    texts = [text for _, text in read_copy(uploads, pasted)]
    if not texts:
        raise gr.Error(
            f"Add {MIN_SAMPLES} to {MAX_SAMPLES} samples of the business's own copy: upload files or paste them, "
            "with a line holding only --- between pieces."
        )
    business = parse_profile(profile_text) if (profile_text or "").strip() else None
    voice = learn_voice(texts, eval_dir=eval_dir, business=business.name if business else None)
    whose = f" for {business.name}" if business else ""
    return voice, f"Voice learned{whose} from {voice.samples} samples. **Use this voice** puts it into the business."


def use_voice(studio: Studio, profile_text: str, learned: dict[str, Any] | None) -> tuple[BusinessProfile, Path]:
    """The business in use with the learned voice, saved to ``<data dir>/businesses/<key>.yaml`` (as **Save it**
    on the Business tab saves it), so drafts, the kit and the picker all get it."""
    if not learned:
        raise gr.Error("Learn a voice first: add samples and press **Learn the voice**.")
    profile = profile_with_voice(parse_profile(profile_text), LearnedVoice.model_validate(learned))
    path = studio.folder("businesses") / f"{profile.key}.yaml"
    write_text_atomic(path, profile_yaml(profile))
    return profile, path


# --- audit ------------------------------------------------------------------------------------------------------


def run_audit(
    service: DraftingService, profile_text: str, uploads: list[str] | None, pasted: str | None
) -> AuditReport:
    """Audit the copy for the business in use with the service's evaluator and its stage classifier."""
    profile = parse_profile(profile_text)
    pieces = read_copy(uploads, pasted)
    if not pieces:
        raise gr.Error("Upload the business's existing copy (posts, emails, pages) or paste it first.")
    for source, text in pieces:
        if len(text) > MAX_AUDIT_CHARS:
            raise DocumentError(f"{source} is {len(text):,} characters, over {MAX_AUDIT_CHARS:,}; split it.")
    evaluator = service.evaluator()
    if evaluator.classifier is None:
        raise gr.Error(NO_CLASSIFIER)
    docs = [AuditDoc(source=source, text=text) for source, text in pieces]
    return audit(docs, profile, evaluator=evaluator, classifier=evaluator.classifier)


def _score(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def coverage_rows(report: AuditReport) -> list[list[str]]:
    """One row per stage, in journey order: its name, the pieces that serve it, its best score and verdict, status."""
    rows = []
    for s in report.stages:
        verdict = "" if s.best_score is None else "passes" if s.status == "covered" else "below the bar"
        score = f"{s.best_score:.2f}, {verdict} (pass mark {s.threshold:.2f})" if s.best_score is not None else ""
        rows.append([s.name, ", ".join(s.pieces) or "nothing yet", score, STATUS_WORDS[s.status]])
    return rows


def piece_rows(report: AuditReport) -> list[list[str]]:
    """One row per piece: the stage it serves (or why it is unclear), how sure, its score, what to fix first."""
    return [
        [p.source, p.label, f"{p.fit.confidence:.0%}", _score(p.score), p.to_fix[0] if p.to_fix else ""]
        for p in report.pieces
    ]


def draft_first_markdown(report: AuditReport) -> str:
    """The summary line and the (up to) three assets to draft first, each with why."""
    lines = [f"**{report.summary()}**", ""]
    if not report.draft_first:
        return "\n".join([*lines, "Every stage is covered by a piece that passes its rubric."])
    lines.append("**Draft these first** (on the Draft tab, pick the stage and the asset type):")
    for n, pick in enumerate(report.draft_first, 1):
        asset = pick.asset_type.replace("_", " ")
        lines.append(f"{n}. **{get_stage(pick.stage).name}**: {asset} ({pick.why})")
    return "\n".join(lines)


def report_file(report: AuditReport, profile_key: str) -> str:
    """The report as one self-contained HTML page, in a fresh temp folder (Gradio serves files from there)."""
    path = Path(tempfile.mkdtemp(prefix="cvj-download-")) / f"audit-{profile_key}.html"
    write_text_atomic(path, render_audit_html(report))
    return str(path)


def audit_view(report: AuditReport, profile_key: str) -> list[Any]:
    """What the audit half of the tab shows: the plan, the journey table, the pieces table, the HTML download."""
    return [draft_first_markdown(report), coverage_rows(report), piece_rows(report), report_file(report, profile_key)]


# --- layout -----------------------------------------------------------------------------------------------------


def build_voice_tab(
    studio: Studio, state: gr.State, banner: gr.Markdown, picker: gr.Dropdown
) -> tuple[Callable[[str], list[Any]], list[Any]]:
    """The tab's layout and events; returns the function that shows the business's current voice (run when the
    tab opens) and what it updates."""
    accepted = ", ".join(SUPPORTED_SUFFIXES)
    gr.Markdown(
        f"### The brand's voice\nGive {MIN_SAMPLES} to {MAX_SAMPLES} pieces of the business's own copy (posts, emails, "
        f"pages; {accepted}), or paste them with a line holding only `---` between pieces. The voice is measured, "
        "not guessed by a model: drafts are written and scored against it."
    )
    with gr.Row():
        samples = gr.File(label="Samples", file_count="multiple", file_types=list(SUPPORTED_SUFFIXES), scale=1)
        pasted = gr.Textbox(label="Or paste samples", lines=6, scale=2, elem_id="voice-pasted",
                            placeholder="First post...\n---\nA newsletter...\n---\nThe about page...")  # fmt: skip
    with gr.Row():
        learn = gr.Button("Learn the voice", variant="primary", elem_id="voice-learn")
        use = gr.Button("Use this voice", elem_id="voice-use")
    voice_status = gr.Markdown(elem_id="voice-status")
    description = gr.Markdown(elem_id="voice-description")
    traits = gr.Dataframe(headers=TRAIT_HEADERS, label="Measured habits", interactive=False, elem_id="voice-traits")
    exemplars = gr.Markdown(elem_id="voice-exemplars")
    learned = gr.State({})  # the voice learned last, waiting for "Use this voice"

    gr.Markdown(
        "### Journey audit\nUpload the business's existing copy (or paste it, pieces separated by `---`): each "
        "piece is placed on the stage it serves and scored on that stage's rubric, and the missing or weak stages "
        "say what to draft first."
    )
    with gr.Row():
        copy_files = gr.File(label="Existing copy", file_count="multiple", file_types=list(SUPPORTED_SUFFIXES),
                             scale=1)  # fmt: skip
        copy_pasted = gr.Textbox(label="Or paste copy", lines=6, scale=2, elem_id="audit-pasted")
    run = gr.Button("Audit", variant="primary", elem_id="audit-run")
    plan = gr.Markdown(elem_id="audit-plan")
    coverage = gr.Dataframe(headers=COVERAGE_HEADERS, label="The journey", interactive=False, elem_id="audit-journey")
    pieces = gr.Dataframe(headers=PIECE_HEADERS, label="Your copy", interactive=False, elem_id="audit-pieces")
    html_file = gr.File(label="The audit as one HTML page", interactive=False, elem_id="audit-html")
    shown = [voice_status, description, traits, exemplars]

    @friendly
    def show(profile_text: str) -> list[Any]:
        if not (profile_text or "").strip():
            return voice_view(None, "Choose a business on the Business tab first.")
        profile = parse_profile(profile_text)
        if profile.voice is None:
            return voice_view(None, f"{profile.name} has no learned voice yet: add samples below.")
        return voice_view(profile.voice, f"{profile.name}'s voice, as saved with the business.")

    @friendly
    def on_learn(profile_text: str, files: list[str] | None, text: str) -> list[Any]:
        voice, status = learn_from(studio.service().settings.eval_dir, profile_text, files, text)
        return [*voice_view(voice, status), voice.model_dump(mode="json")]

    @friendly
    def on_use(profile_text: str, voice: dict[str, Any] | None) -> list[Any]:
        profile, path = use_voice(studio, profile_text, voice)
        status = f"✓ {profile.name} now writes in this voice (drafts and the kit use it). Saved to `{path}`."
        choices = gr.update(choices=saved_choices(studio), value=f"saved:{profile.key}")
        return [profile_yaml(profile), header(profile), status, choices]

    @friendly
    def on_audit(profile_text: str, files: list[str] | None, text: str) -> Iterator[list[Any]]:
        count = len(files or []) + len(split_pieces(text))
        yield [f"*Auditing {count} item(s) (the first audit also loads the eval)...*", [], [], None]
        report = run_audit(studio.service(), profile_text, files, text)
        yield audit_view(report, parse_profile(profile_text).key)

    private: dict[str, Any] = {"api_visibility": "private"}
    learn.click(on_learn, [state, samples, pasted], [*shown, learned], **private)
    use.click(on_use, [state, learned], [state, banner, voice_status, picker], **private)
    run.click(on_audit, [state, copy_files, copy_pasted], [plan, coverage, pieces, html_file], **private)
    return show, shown
