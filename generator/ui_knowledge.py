"""The Knowledge tab: the business's own documents (md, txt, html, pdf, docx) in the index its drafts retrieve
from; what is indexed for it (files, chunks, stages); removing one; and a search that shows the chunks a draft
would be grounded in, with their sources.

Uploads are copied to ``<data dir>/documents/<business>/`` first, so a document's source in the index is a stable
path (re-uploading a file replaces its chunks) rather than the upload's temporary one.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr

from generator.ingest import SUPPORTED_SUFFIXES, load_documents
from generator.knowledge import KnowledgeIndex
from generator.profile import BusinessProfile
from generator.stages import STAGE_IDS, get_stage, parse_stage_id
from generator.ui_common import Studio, friendly, parse_profile

NO_INDEX = "This server has no knowledge index, so drafts use the profile alone; `cvj serve` or `python ui.py` has one."
MAX_QUERY_CHARS = 500
SCOPES = {"Its documents and facts": "business", "The method guide": "method"}


def _index(studio: Studio) -> KnowledgeIndex:
    index = studio.service().index
    if index is None:
        raise gr.Error(NO_INDEX)
    return index


def indexed(index: KnowledgeIndex, profile: BusinessProfile) -> list[dict[str, Any]]:
    """What the index holds for this business, one row per source: name, kind, chunks, stages."""
    found = index.store.get(where={"business": profile.key}, include=["metadatas"])
    rows: dict[str, dict[str, Any]] = {}
    for meta in found.get("metadatas") or []:
        source = str(meta.get("source", ""))
        row = rows.setdefault(source, {"source": source, "chunks": 0, "stages": set()})
        row["chunks"] += 1
        row["stages"].update(s for s in STAGE_IDS if meta.get(f"s_{s}"))
    listed = []
    for source, row in sorted(rows.items()):
        facts = source.startswith("profile:")
        stages = ", ".join(get_stage(s).name for s in STAGE_IDS if s in row["stages"]) or "any stage"
        name = "The profile's facts" if facts else Path(source).name
        kind = "profile" if facts else "document"
        listed.append({"source": source, "name": name, "kind": kind, "chunks": row["chunks"], "stages": stages})
    return listed


def table(rows: list[dict[str, Any]]) -> list[list[Any]]:
    return [[r["name"], r["kind"], r["chunks"], r["stages"]] for r in rows]


def removable(rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """The documents a person can remove (the profile's facts come back with the next draft, so they are not)."""
    return [(r["name"], r["source"]) for r in rows if r["kind"] == "document"]


def add_documents(
    studio: Studio, profile: BusinessProfile, uploads: list[str], stages: list[str], progress: gr.Progress
) -> str:
    """Copy the uploads into the business's documents folder, index them, and say what happened to each."""
    index = _index(studio)
    folder = studio.folder("documents", profile)
    folder.mkdir(parents=True, exist_ok=True)
    copies = []
    for upload in uploads:
        target = folder / Path(upload).name
        shutil.copyfile(upload, target)
        copies.append(target)
    tags: list[str] = [parse_stage_id(s) for s in stages or []]
    by_source, report = load_documents(copies, business=profile.key, stages=tags)
    for n, (source, docs) in enumerate(by_source.items()):
        progress((n, len(by_source)), desc=f"Embedding {Path(source).name}")
        report.added += index.replace_source(source, docs)
    for failure in report.failures:
        gr.Warning(f"Skipped {Path(failure.path).name}: {failure.reason}")
        Path(failure.path).unlink(missing_ok=True)
    line = f"Added {len(report.files)} file(s) for {profile.name}: {report.chunks} chunk(s) ({report.added} new)."
    return line + (f" Skipped {len(report.failures)} (see the warnings)." if report.failures else "")


def search_markdown(index: KnowledgeIndex, profile: BusinessProfile, query: str, stage: str, scope: str) -> str:
    """The chunks a draft would retrieve for this query, best first, each with its source and stage."""
    query = (query or "").strip()
    if not query:
        raise gr.Error("Type what to look for, e.g. 'how do I get more reviews'.")
    if len(query) > MAX_QUERY_CHARS:
        raise gr.Error(f"Keep the search under {MAX_QUERY_CHARS} characters.")
    which = SCOPES.get(scope, "business")
    hits = index.search(query, k=5, stage=parse_stage_id(stage) if stage else None,
                        business=profile.key if which == "business" else None,
                        kind="method" if which == "method" else None)  # fmt: skip
    if not hits:
        return "*Nothing found. Add documents above, or search the method guide.*"
    lines = []
    for n, hit in enumerate(hits, 1):
        source = hit.source if hit.kind == "method" or hit.source.startswith("profile:") else Path(hit.source).name
        where = f"`{source}`" + (f" · {hit.topic}" if hit.topic else "")
        escaped = [re.sub(r"^(\s*)([#>*+-])", r"\1\\\2", line) for line in hit.text.strip().splitlines()[:12]]
        quoted = "\n".join(f"> {line}" for line in escaped)
        lines.append(f"**{n}.** {where} · {hit.kind}, {hit.stage} · relevance {hit.score:.2f}\n\n{quoted}\n")
    return "\n".join(lines)


def build_knowledge_tab(studio: Studio, state: gr.State) -> tuple[Callable[[str], list[Any]], list[Any]]:
    """The tab's layout and events; returns the function that lists what is indexed (run when the tab opens) and
    what it updates."""
    gr.Markdown(
        "Add the business's own documents (menus, price lists, about pages, FAQs): drafts retrieve facts from them. "
        f"Accepted: {', '.join(SUPPORTED_SUFFIXES)}."
    )
    with gr.Row():
        uploads = gr.File(label="Documents", file_count="multiple", file_types=list(SUPPORTED_SUFFIXES), scale=2)
        with gr.Column(scale=1):
            stages = gr.Dropdown(
                [(get_stage(s).name, s) for s in STAGE_IDS],
                multiselect=True,
                label="Tag with stages (optional)",
                info="Which stages these documents serve.",
            )
            add = gr.Button("Add to the knowledge base", variant="primary")
    status = gr.Markdown(elem_id="knowledge-status")
    listing = gr.Dataframe(headers=["document", "kind", "chunks", "stages"], label="Indexed for this business",
                           interactive=False, elem_id="knowledge-list")  # fmt: skip
    with gr.Row():
        chosen = gr.Dropdown([], label="Document to remove", scale=2)
        remove = gr.Button("Remove it", variant="stop", scale=1)
    gr.Markdown("### Try a search\nSee what a draft would be grounded in.")
    with gr.Row():
        query = gr.Textbox(label="Search", placeholder="how do I get more reviews", scale=3)
        stage = gr.Dropdown([("Any stage", ""), *[(get_stage(s).name, s) for s in STAGE_IDS]], value="",
                            label="Stage", scale=1)  # fmt: skip
        scope = gr.Radio(list(SCOPES), value=next(iter(SCOPES)), label="Search in", scale=2)
    find = gr.Button("Search")
    hits = gr.Markdown(elem_id="knowledge-hits")

    @friendly
    def show(profile_text: str, line: str = "") -> list[Any]:
        if studio.service().index is None:
            return [NO_INDEX, [], gr.update(choices=[], value=None)]
        if not (profile_text or "").strip():
            return ["Choose a business on the Business tab first.", [], gr.update(choices=[], value=None)]
        profile = parse_profile(profile_text)
        studio.service().ensure_indexed(profile)  # its facts are listed and searched too, as a draft would
        rows = indexed(_index(studio), profile)
        return [line or f"{len(rows)} source(s) indexed.", table(rows), gr.update(choices=removable(rows), value=None)]

    @friendly
    def on_add(
        profile_text: str, files: list[str] | None, tags: list[str], progress: gr.Progress = gr.Progress()
    ) -> list[Any]:
        if not files:
            raise gr.Error("Choose one or more documents first.")
        return show(profile_text, add_documents(studio, parse_profile(profile_text), files, tags, progress))

    @friendly
    def on_remove(profile_text: str, source: str | None) -> list[Any]:
        profile = parse_profile(profile_text)
        rows = {r["source"]: r for r in indexed(_index(studio), profile)}
        if not source or source not in rows or rows[source]["kind"] != "document":
            raise gr.Error("Choose a document to remove.")
        _index(studio).replace_source(source, [])
        folder = studio.folder("documents", profile).resolve()
        if Path(source).resolve().parent == folder:
            Path(source).unlink(missing_ok=True)
        return show(profile_text, f"Removed {rows[source]['name']} ({rows[source]['chunks']} chunk(s)).")

    @friendly
    def on_search(profile_text: str, text: str, stage_id: str, where: str) -> str:
        return search_markdown(_index(studio), parse_profile(profile_text), text, stage_id, where)

    add.click(on_add, [state, uploads, stages], [status, listing, chosen], api_visibility="private")
    remove.click(on_remove, [state, chosen], [status, listing, chosen], api_visibility="private")
    find.click(on_search, [state, query, stage, scope], hits, api_visibility="private")
    query.submit(on_search, [state, query, stage, scope], hits, api_visibility="private")
    return show, [status, listing, chosen]
