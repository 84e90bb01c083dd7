"""Bad input at every front door, as a corpus: each case gets one clear message and exit code 2 (CLI), a 4xx
JSON ``{error, details}`` (API) or a readable ``gr.Error`` (UI); never a traceback or a 500, and nothing half
written where the command writes. Bombs (DOCX, PDF, YAML) are generated here and are small on disk.

Case ids (P01, B03, G12...) are the rows of the table in the report of the issue that asked for this."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import gradio as gr
import pytest
from fastapi.testclient import TestClient
from langchain_core.documents import Document
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from typer.testing import CliRunner

from generator.api import MAX_BODY_BYTES, create_app
from generator.cli import app
from generator.knowledge import KnowledgeIndex
from generator.profile import MAX_PROFILES
from generator.runtime import Components, use_components
from generator.service import DraftingService
from generator.settings import Settings
from generator.ui import stream_draft, stream_revision
from tests.bad_inputs.bombs import MIB, docx_bomb, docx_with_entries, pdf_with_huge_stream, pdf_with_pages
from tests.bad_inputs.cases import (
    COFFEE,
    COFFEE_PATH,
    PROFILE_BODIES,
    PROFILE_FILES,
    PROFILE_TEXTS,
    REQUESTS,
    as_json,
    coffee,
)
from tests.fakes import SchemaFake, fake_components
from tests.test_chains import GOOD_POST

runner = CliRunner()
COFFEE_FILE = str(COFFEE_PATH)


class FakeIndex:
    """Records what ``cvj ingest`` would index."""

    def __init__(self) -> None:
        self.sources: dict[str, list[Document]] = {}

    def replace_source(self, source: str, docs: list[Document]) -> int:
        self.sources[source] = docs
        return len(docs)

    def count(self) -> int:
        return sum(len(d) for d in self.sources.values())


@pytest.fixture
def index() -> FakeIndex:
    return FakeIndex()


@pytest.fixture
def parts(settings: Settings, index: FakeIndex) -> Iterator[Components]:
    installed = fake_components(settings)
    with use_components(installed):
        yield installed


@pytest.fixture
def ingest_parts(settings: Settings, index: FakeIndex) -> Iterator[Components]:
    with use_components(Components(settings, index_factory=lambda _: cast(KnowledgeIndex, index))) as installed:
        yield installed


def corpus(names: tuple[str, ...], cases: list[tuple[Any, ...]]) -> pytest.MarkDecorator:
    """Parametrize by case: the first item of each case is its id (a row of the report's table)."""
    return pytest.mark.parametrize(names, cases, ids=[str(case[0]) for case in cases])


def fails(*args: str) -> str:
    """Run ``cvj ARGS``: it must exit 2 with its message and no traceback; returns stderr + stdout."""
    result = runner.invoke(app, list(args))
    text = result.stderr + result.stdout
    assert result.exit_code == 2, f"exit {result.exit_code}: {text}\n{result.exception!r}"
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in text
    return " ".join(text.split())  # the console never wraps, but compare words, not layout


def one_error(text: str) -> None:
    assert text.count("Error:") == 1, text


def nothing_saved(parts: Components) -> bool:
    return not (parts.settings.data_dir / "drafts").exists()


# --- profiles: CLI (`cvj draft -p FILE`) ------------------------------------------------------------------------


@corpus(("case", "text", "expected"), PROFILE_TEXTS)
def test_cli_bad_profile_text(parts: Components, tmp_path: Path, case: str, text: str, expected: str) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    message = fails("draft", "-p", str(path), "-s", "aware")
    one_error(message)
    assert expected in message and str(path) in message
    assert len(message) < 3_000 and nothing_saved(parts)


@corpus(("case", "name", "data", "expected"), PROFILE_FILES)
def test_cli_bad_profile_file(
    parts: Components, tmp_path: Path, case: str, name: str, data: bytes, expected: str
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    message = fails("draft", "-p", str(path), "-s", "aware")
    one_error(message)
    assert expected in message and nothing_saved(parts)


def test_cli_profile_that_is_a_folder_or_names_markup(parts: Components, tmp_path: Path) -> None:
    # P23: a folder; P24: a missing file whose name is Rich markup (the message must not be read as markup)
    assert "is a folder" in fails("draft", "-p", str(tmp_path), "-s", "aware")
    assert "[/]p[bold].yaml" in fails("draft", "-p", str(tmp_path / "[/]p[bold].yaml"), "-s", "aware")
    assert nothing_saved(parts)


# --- draft requests: CLI ---------------------------------------------------------------------------------------


@corpus(("case", "stage", "asset", "instructions", "expected"), REQUESTS)
def test_cli_bad_request(
    parts: Components, case: str, stage: str, asset: str | None, instructions: str | None, expected: str
) -> None:
    args = ["draft", "-p", COFFEE_FILE, "-s", stage]
    args += ["-a", asset] if asset else []
    args += ["-i", instructions] if instructions else []
    message = fails(*args)
    one_error(message)
    assert expected in message and len(message) < 3_000 and nothing_saved(parts)


@corpus(
    ("case", "option", "value"),
    [("R05-10000-variants", "--variants", "10000"), ("R06-zero-candidates", "--candidates", "0"),
     ("R07-min-score-5", "--min-score", "5")],
)  # fmt: skip
def test_cli_absurd_numbers_are_usage_errors(parts: Components, case: str, option: str, value: str) -> None:
    message = fails("draft", "-p", COFFEE_FILE, "-s", "aware", option, value)
    assert "Invalid value" in message and option in message and nothing_saved(parts)


def test_cli_stage_with_terminal_escapes_is_shown_escaped(parts: Components) -> None:
    # R09: what the user typed is echoed, but never as raw escape sequences
    message = fails("draft", "-p", COFFEE_FILE, "-s", "\x1b[2Jaware")
    assert "\x1b" not in message and "\\x1b[2Jaware" in message


# --- batch profile lists: `cvj kit --profiles` -----------------------------------------------------------------


def kit_fails(parts: Components, source: Path, tmp_path: Path) -> str:
    out = tmp_path / "kits"
    message = fails("kit", "--profiles", str(source), "--out", str(out), "--stages", "aware")
    one_error(message)
    assert not out.exists() and not SchemaFake.calls  # refused before a single draft or file
    return message


def profile_file(folder: Path, filename: str, **changes: Any) -> Path:
    path = folder / filename
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(as_json(coffee(**changes)), encoding="utf-8")
    return path


def test_kit_jsonl_with_a_malformed_line(parts: Components, tmp_path: Path) -> None:  # B01
    source = tmp_path / "profiles.jsonl"
    source.write_text(as_json(COFFEE) + "\n{not json\n", encoding="utf-8")
    assert f"{source}:2 could not be parsed as json" in kit_fails(parts, source, tmp_path)


def test_kit_jsonl_over_the_row_cap(parts: Components, tmp_path: Path) -> None:  # B02
    source = tmp_path / "profiles.jsonl"
    source.write_text("\n".join(as_json(coffee(name=f"Shop {n}")) for n in range(MAX_PROFILES + 1)), "utf-8")
    assert f"{MAX_PROFILES + 1} profiles, more than the {MAX_PROFILES}" in kit_fails(parts, source, tmp_path)


@pytest.mark.parametrize("where", ["B03-dot-dot", "B04-absolute", "B05-link-out"])
def test_kit_csv_paths_must_stay_in_its_folder(parts: Components, tmp_path: Path, where: str) -> None:
    folder = tmp_path / "list"
    outside = profile_file(tmp_path, "outside.json")
    named = {"B03-dot-dot": "../outside.json", "B04-absolute": str(outside), "B05-link-out": "inside.json"}[where]
    folder.mkdir()
    (folder / "inside.json").symlink_to(outside)
    (folder / "profiles.csv").write_text(f"path\n{named}\n", encoding="utf-8")
    message = kit_fails(parts, folder / "profiles.csv", tmp_path)
    assert f"'{named}' is outside {folder}" in message


def test_kit_folder_with_a_link_out(parts: Components, tmp_path: Path) -> None:  # B06
    folder = tmp_path / "list"
    profile_file(folder, "a.json")
    (folder / "b.json").symlink_to(profile_file(tmp_path, "elsewhere.json", name="Elsewhere"))
    assert "'b.json' is outside" in kit_fails(parts, folder, tmp_path)


@corpus(
    ("case", "name", "data", "expected"),
    [
        ("B07-csv-without-path", "p.csv", b"file\na.yaml\n", "needs a 'path' column"),
        ("B08-csv-over-the-cap", "p.csv", b"path\n" + b"a.json\n" * (MAX_PROFILES + 1), "501 rows, more than"),
        ("B09-csv-latin1", "p.csv", "path\ncaf\xe9.yaml\n".encode("latin-1"), "is not UTF-8 text (byte 0xe9"),
        ("B10-empty-jsonl", "p.jsonl", b"\n\n", "holds no profiles"),
        ("B13-csv-empty-cell", "p.csv", b"path,name\n,Harbor\n", "p.csv:2: the 'path' cell is empty"),
        ("B14-binary-list", "p.jsonl", b"\x00\x01\x02" * 100, "is a binary file"),
        ("B15-unknown-list-type", "p.txt", b"a.yaml\n", "give a folder, a .jsonl of profiles, or a .csv"),
        ("B16-csv-field-too-big", "p.csv", b'path\n"' + b"x" * 200_000 + b'"\n', "is not a valid CSV"),
    ],
)
def test_kit_bad_profile_lists(
    parts: Components, tmp_path: Path, case: str, name: str, data: bytes, expected: str
) -> None:
    (tmp_path / name).write_bytes(data)
    assert expected in kit_fails(parts, tmp_path / name, tmp_path)


def test_kit_folder_over_the_cap(parts: Components, tmp_path: Path) -> None:  # B11
    folder = tmp_path / "many"
    folder.mkdir()
    for n in range(MAX_PROFILES + 1):
        (folder / f"{n:03}.yaml").write_text("name: x\n", encoding="utf-8")
    assert f"{MAX_PROFILES + 1} profile files, more than" in kit_fails(parts, folder, tmp_path)


def test_kit_same_business_twice(parts: Components, tmp_path: Path) -> None:  # B12
    profile_file(tmp_path / "list", "a.json")
    (tmp_path / "list" / "profiles.csv").write_text("path\na.json\na.json\n", encoding="utf-8")
    assert "two profiles for 'harbor-lane-coffee'" in kit_fails(parts, tmp_path / "list" / "profiles.csv", tmp_path)


def test_kit_list_file_over_its_size_cap(parts: Components, tmp_path: Path) -> None:  # B17
    source = tmp_path / "huge.jsonl"
    with source.open("wb") as handle:
        handle.truncate(17 * MIB)  # sparse: no disk used
    assert "is larger than 16,384 KiB" in kit_fails(parts, source, tmp_path)


@corpus(
    ("case", "args", "expected"),
    [
        ("K01-unknown-stage", ["--stages", "aware,nirvana"], "Unknown stage 'nirvana'"),
        ("K02-unknown-format", ["--formats", "md,pdf"], "Unknown format(s): pdf"),
        ("K03-both-sources", ["--profiles", "examples"], "one of them"),
    ],
)
def test_kit_bad_options(parts: Components, tmp_path: Path, case: str, args: list[str], expected: str) -> None:
    out = tmp_path / "kits"
    message = fails("kit", "-p", COFFEE_FILE, "--out", str(out), *args)
    assert expected in message and not out.exists()


def test_kit_out_is_a_file(parts: Components, tmp_path: Path) -> None:  # K04
    out = tmp_path / "kits"
    out.write_text("not a folder", encoding="utf-8")
    message = fails("kit", "-p", COFFEE_FILE, "--out", str(out), "--stages", "aware", "--formats", "md")
    assert "is a file; give a folder" in message, message
    assert out.read_text(encoding="utf-8") == "not a folder" and not SchemaFake.calls  # refused before drafting


# --- item files: `cvj eval score` / `cvj eval classify` -------------------------------------------------------

ITEM = {"stage": "aware", "text": "Why your coffee tastes bitter at home, and the one-minute fix."}


def items_line(**changes: Any) -> bytes:
    return json.dumps({**ITEM, **changes}).encode()


ITEM_FILES: list[tuple[str, str, bytes, str]] = [
    ("I01-malformed-json", "i.json", b'[{"stage": "aware",]', "is not valid JSON"),
    ("I02-malformed-jsonl-line", "i.jsonl", items_line() + b"\n{oops\n", "i.jsonl:2 is not valid JSON"),
    ("I03-latin1", "i.json", '[{"stage": "aware", "text": "Caf\xe9"}]'.encode("latin-1"), "is not UTF-8 text"),
    ("I04-binary", "i.json", b"\x89PNG\r\n\x1a\n\x00\x00" + bytes(range(256)), "is a binary file"),
    ("I05-not-objects", "i.json", b'["aware", "text"]', "every item must be a JSON object"),
    ("I06-unknown-stage", "i.json", items_line(stage="nirvana"), "Item 1: stage:"),
    ("I07-text-wrong-type", "i.json", items_line(text=42), "Item 1: text: Input should be a valid string"),
    ("I08-text-empty", "i.json", items_line(text=""), "Item 1: text: String should have at least 1 character"),
    ("I09-5mb-text", "i.json", items_line(text="x" * 5 * MIB), "at most 20000 characters"),
    ("I10-over-the-item-cap", "i.jsonl", (items_line() + b"\n") * 2_001, "2,001 items, more than the 2,000"),
    ("I12-escape-in-text", "i.json", items_line(text="Hello \x1b[2J there"), "control character (U+001B"),
    ("I13-empty", "i.json", b"  \n", "holds no items"),
    ("I14-a-profile-not-items", "i.yaml", COFFEE_PATH.read_bytes(), "is not valid JSON"),
    ("I17-deep-nesting", "i.json", b"[" * 100_000, "nested too deeply"),
]


@corpus(("case", "name", "data", "expected"), ITEM_FILES)
def test_eval_score_bad_items(
    parts: Components, tmp_path: Path, case: str, name: str, data: bytes, expected: str
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    message = fails("eval", "score", str(path), "--no-judge")
    one_error(message)
    assert expected in message and len(message) < 3_000


def test_eval_score_items_file_too_big_or_a_folder(parts: Components, tmp_path: Path) -> None:  # I11, I19
    huge = tmp_path / "huge.jsonl"
    with huge.open("wb") as handle:
        handle.truncate(25 * MIB)
    assert "is larger than 20,480 KiB" in fails("eval", "score", str(huge))
    assert "is a folder" in fails("eval", "score", str(tmp_path))


def test_eval_classify_item_without_text(parts: Components, tmp_path: Path) -> None:  # I18
    path = tmp_path / "i.json"
    path.write_text('[{"stage": "aware"}]', encoding="utf-8")
    assert "Item 1 has no 'text'" in fails("eval", "classify", str(path))


# --- draft files: `cvj revise`, `cvj eval score`, `--earlier` -------------------------------------------------


@pytest.fixture
def saved_draft(parts: Components, tmp_path: Path) -> Path:
    result = runner.invoke(app, ["draft", "-p", COFFEE_FILE, "-s", "aware", "--json", "--no-score"])
    assert result.exit_code == 0, result.stderr
    path = tmp_path / "draft.json"
    path.write_text(result.stdout, encoding="utf-8")
    return path


def other_business(draft: Path, name: str = "Brightpath Physio") -> Path:
    data = json.loads(draft.read_text(encoding="utf-8"))
    path = draft.with_name("other.json")
    path.write_text(json.dumps({**data, "business": name}), encoding="utf-8")
    return path


def test_eval_score_draft_of_another_business(parts: Components, saved_draft: Path) -> None:  # I15
    message = fails("eval", "score", str(other_business(saved_draft)), "-p", COFFEE_FILE, "--no-judge")
    assert "is for 'Brightpath Physio', not for 'Harbor Lane Coffee'" in message


def test_eval_score_draft_of_the_wrong_stage(parts: Components, saved_draft: Path) -> None:  # I16
    data = {**json.loads(saved_draft.read_text(encoding="utf-8")), "stage": "promote"}
    saved_draft.write_text(json.dumps(data), encoding="utf-8")
    assert "does not belong to stage 'promote'" in fails("eval", "score", str(saved_draft), "--no-judge")


def not_drafts(tmp_path: Path, saved_draft: Path) -> dict[str, tuple[Path, str]]:
    """(file, expected words) per case; every one is refused by `cvj revise` as not a draft."""
    draft = json.loads(saved_draft.read_text(encoding="utf-8"))
    files = {
        "D01-a-yaml-profile": ("profile.yaml", COFFEE_PATH.read_bytes(), "(Invalid JSON"),
        "D02-a-list-of-items": ("items.json", b'[{"stage": "aware", "text": "x"}]', "(Input should be an object)"),
        "D03-a-json-profile": ("profile.json", as_json(COFFEE).encode(), "business: Field required"),
        "D04-wrong-stage": ("d.json", json.dumps({**draft, "stage": "promote"}).encode(), "does not belong"),
        "D05-binary": ("d.json", bytes(range(256)) * 4, "(Invalid JSON"),
        "D13-variants-list": ("v.json", json.dumps([draft, draft]).encode(), "(Input should be an object)"),
    }
    cases: dict[str, tuple[Path, str]] = {}
    for case, (name, data, expected) in files.items():
        path = tmp_path / case / name
        path.parent.mkdir()
        path.write_bytes(data)
        cases[case] = (path, expected)
    return cases


def test_revise_refuses_what_is_not_a_draft(parts: Components, tmp_path: Path, saved_draft: Path) -> None:
    for case, (path, expected) in not_drafts(tmp_path, saved_draft).items():
        out = path.with_name("out.json")
        message = fails("revise", str(path), "-i", "shorter", "-o", str(out), "--no-score")
        one_error(message)
        assert expected in message and "is not a draft saved by `cvj draft --json`" in message, case
        assert not out.exists() and sorted(p.name for p in path.parent.iterdir()) == [path.name], case


def test_revise_refuses_huge_missing_and_folder_files(parts: Components, tmp_path: Path) -> None:  # D06-D08
    huge = tmp_path / "huge.json"
    with huge.open("wb") as handle:
        handle.truncate(60 * MIB)
    assert "larger than 5 MiB" in fails("revise", str(huge), "-i", "shorter")
    assert "Draft file not found" in fails("revise", str(tmp_path / "missing.json"), "-i", "shorter")
    assert "is a folder" in fails("revise", str(tmp_path), "-i", "shorter")


def test_revise_out_under_a_file_writes_nothing(parts: Components, saved_draft: Path) -> None:  # D09
    before = saved_draft.read_text(encoding="utf-8")
    blocker = saved_draft.with_name("blocker")
    blocker.write_text("a file", encoding="utf-8")
    message = fails("revise", str(saved_draft), "-i", "shorter", "-o", str(blocker / "v2.json"), "--no-score")
    assert f"Cannot use {blocker}: a file is in the way of a folder" in message
    assert saved_draft.read_text(encoding="utf-8") == before and blocker.read_text(encoding="utf-8") == "a file"


def test_revise_needs_an_instruction(parts: Components, saved_draft: Path) -> None:  # D12
    assert "--instruction must say what to change" in fails("revise", str(saved_draft), "-i", "  ")


def test_draft_earlier_that_is_not_a_draft(parts: Components, tmp_path: Path) -> None:  # D10
    path = tmp_path / "notes.json"
    path.write_text('{"notes": "x"}', encoding="utf-8")
    message = fails("draft", "-p", COFFEE_FILE, "-s", "convert", "--earlier", str(path))
    assert "is not a draft" in message and nothing_saved(parts)


def test_draft_earlier_of_another_business(parts: Components, saved_draft: Path) -> None:  # D11
    before = sorted((parts.settings.data_dir / "drafts").rglob("*.json"))  # the fixture's own draft
    message = fails("draft", "-p", COFFEE_FILE, "-s", "convert", "--earlier", str(other_business(saved_draft)))
    assert "is a draft for 'Brightpath Physio', not for 'Harbor Lane Coffee'" in message
    assert sorted((parts.settings.data_dir / "drafts").rglob("*.json")) == before  # nothing new saved


def test_load_draft_refuses_another_business(saved_draft: Path) -> None:  # D11 at the library
    from generator.drafts import load_draft
    from generator.errors import DocumentError

    assert load_draft(saved_draft, business="Harbor Lane Coffee").business == "Harbor Lane Coffee"
    with pytest.raises(DocumentError, match="is a draft for 'Brightpath Physio', not for 'Harbor Lane Coffee'"):
        load_draft(other_business(saved_draft), business="Harbor Lane Coffee")


# --- documents: `cvj ingest` ----------------------------------------------------------------------------------


def ingest(index: FakeIndex, *paths: Path, expected: str, stage: str | None = None) -> str:
    """Ingest a folder holding one bad file and one good one: exit 2 naming the bad one; the good one indexed."""
    args = ["ingest", *map(str, paths), "--business", "harbor-lane-coffee"] + (["-s", stage] if stage else [])
    message = fails(*args)
    assert expected in message, message
    return message


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "good.md").write_text("# About\n\nWe roast small batches by the harbor.\n", encoding="utf-8")
    return folder


def bad_pdf_bytes(case: str) -> bytes:
    if case == "G06-5000-pages":
        return pdf_with_pages(5_000)
    return pdf_with_huge_stream(5 if case == "G07-5mb-page" else 100)


DOCUMENTS: list[tuple[str, str, str]] = [
    ("G01-latin1-txt", "notes.txt", "not UTF-8 text (byte 0xe9 at position 3)"),
    ("G02-nul-in-txt", "notes.txt", "a binary file, not text"),
    ("G03-png-named-md", "logo.md", "a binary file, not text"),
    ("G04-docx-bomb-300mb", "bomb.docx", "MiB, over 1,000 parts or 100 MiB (a zip bomb?)"),
    ("G05-docx-5000-parts", "parts.docx", "parts unpack to"),
    ("G06-5000-pages", "book.pdf", "5,000 pages, more than 500"),
    ("G07-5mb-page", "dense.pdf", "page 1: 5.0 MiB of content once inflated"),
    ("G07b-100mb-stream", "bomb.pdf", "a stream inflates past pypdf's safety limit"),
    ("G09-too-much-text", "long.txt", "characters, more than 1,000,000"),
    ("G10-html-nested-1000-deep", "deep.html", "tags nested over 256 deep"),
    ("G11-html-6mb", "big.html", "a web page over 5 MiB"),
    ("G17-corrupt-pdf", "broken.pdf", "not a valid PDF"),
    ("G18-corrupt-docx", "broken.docx", "not a valid DOCX file"),
]


def write_document(path: Path, case: str) -> None:
    if case == "G04-docx-bomb-300mb":
        docx_bomb(path, 300)
    elif case == "G05-docx-5000-parts":
        docx_with_entries(path, 5_000)
    elif case.startswith(("G06", "G07")):
        path.write_bytes(bad_pdf_bytes(case))
    else:
        path.write_bytes({
            "G01-latin1-txt": "Caf\xe9 cr\xe8me".encode("latin-1"),
            "G02-nul-in-txt": b"menu\x00\x00\x01 prices",
            "G03-png-named-md": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
            "G09-too-much-text": b"fresh beans roasted weekly " * 40_000,
            "G10-html-nested-1000-deep": b"<div>" * 1_000 + b"deep" + b"</div>" * 1_000,
            "G11-html-6mb": b"<p>" + b"coffee " * (6 * MIB // 7) + b"</p>",
            "G17-corrupt-pdf": b"%PDF-1.4\n garbage, not a pdf %%EOF",
            "G18-corrupt-docx": b"PK\x03\x04 garbage, not really a zip" * 5,
        }[case])  # fmt: skip


@corpus(("case", "name", "expected"), DOCUMENTS)
def test_ingest_bad_documents(
    ingest_parts: Components, index: FakeIndex, docs: Path, case: str, name: str, expected: str
) -> None:
    write_document(docs / name, case)
    message = ingest(index, docs, expected=expected)
    assert f"skipped {docs / name}:" in message and "Ingested 1 file(s)" in message and "1 skipped" in message
    assert list(index.sources) == [str(docs / "good.md")]


def test_ingest_file_over_the_size_cap(ingest_parts: Components, index: FakeIndex, docs: Path) -> None:  # G08
    with (docs / "scan.pdf").open("wb") as handle:
        handle.truncate(60 * MIB)
    ingest(index, docs, expected="larger than 50 MiB; split it")
    assert list(index.sources) == [str(docs / "good.md")]


def test_ingest_refuses_symbolic_links(ingest_parts: Components, index: FakeIndex, docs: Path, tmp_path: Path) -> None:
    secret = tmp_path / "outside" / "secret.txt"  # G12 a link to a file outside, G13 a link named, G14 a linked folder
    secret.parent.mkdir()
    secret.write_text("the admin password is hunter2", encoding="utf-8")
    (docs / "link.txt").symlink_to(secret)
    (docs / "linked-folder").symlink_to(secret.parent)
    named = tmp_path / "named.txt"
    named.symlink_to(secret)
    message = ingest(index, docs, named, expected="a symbolic link; links are not followed")
    assert message.count("a symbolic link") == 3 and "3 skipped" in message
    assert list(index.sources) == [str(docs / "good.md")]
    assert not any("hunter2" in d.page_content for chunks in index.sources.values() for d in chunks)


def test_ingest_empty_or_unreadable_folders(ingest_parts: Components, index: FakeIndex, tmp_path: Path) -> None:
    empty, pictures = tmp_path / "empty", tmp_path / "pictures"  # G15, G16
    empty.mkdir()
    pictures.mkdir()
    (pictures / "logo.png").write_bytes(b"\x89PNG")
    (pictures / ".hidden.md").write_text("# hidden\n", encoding="utf-8")
    message = ingest(index, empty, pictures, expected="no documents to read in this folder")
    assert message.count("no documents to read") == 2 and "Ingested 0 file(s)" in message and not index.sources


def test_ingest_missing_path_fifo_and_unknown_stage(
    ingest_parts: Components, index: FakeIndex, docs: Path, tmp_path: Path
) -> None:
    ingest(index, docs, tmp_path / "missing.pdf", expected="missing.pdf: no such file or folder")  # G22
    fifo = tmp_path / "pipe.txt"  # G23: a named pipe would block a reader forever
    os.mkfifo(fifo)
    ingest(index, fifo, expected="pipe.txt: not a regular file or folder")
    message = fails("ingest", str(docs), "--business", "harbor-lane-coffee", "-s", "nirvana")  # G21
    assert "Unknown stage 'nirvana'" in message


def test_ingest_cleans_what_it_can_read(ingest_parts: Components, index: FakeIndex, docs: Path) -> None:
    # G19: control characters are dropped, not indexed; G20: UTF-16 with a byte-order mark (Notepad) is read
    (docs / "escapes.txt").write_text("Open \x1b[31mdaily\x1b[0m\x07 from 7am\x0cto 5pm.", encoding="utf-8")
    (docs / "notepad.txt").write_bytes("Caf\xe9 cr\xe8me on Sundays.".encode("utf-16"))
    result = runner.invoke(app, ["ingest", str(docs), "--business", "harbor-lane-coffee"])
    assert result.exit_code == 0, result.stderr
    escapes = index.sources[str(docs / "escapes.txt")][0].page_content
    assert escapes == "Open [31mdaily[0m from 7am\nto 5pm."
    assert index.sources[str(docs / "notepad.txt")][0].page_content == "Caf\xe9 cr\xe8me on Sundays."


@pytest.mark.parametrize("name", ["[bold]bad.txt", "[/]bad.txt"], ids=["G24-markup-in-name", "G25-closing-tag-in-path"])
def test_ingest_failure_named_like_markup(ingest_parts: Components, index: FakeIndex, docs: Path, name: str) -> None:
    path = docs / name  # "[/]bad.txt" is a folder "[" holding "]bad.txt"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(b"\x00binary")
    ingest(index, docs, expected=f"{name}: a binary file")


# --- the HTTP API ---------------------------------------------------------------------------------------------


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    model = FakeListChatModel(responses=[json.dumps(GOOD_POST)] * 5)
    service = DraftingService(settings=settings, model=model, index=None)
    with TestClient(create_app(service=service, mount_ui=False), raise_server_exceptions=False) as test_client:
        yield test_client


def refused(response: Any, status: int, expected: str) -> dict[str, Any]:
    """A 4xx whose body is ``{error, details}``, the error naming the problem, no traceback, never huge."""
    assert response.status_code == status, response.text[:2_000]
    body = response.json()
    assert isinstance(body, dict) and isinstance(body["error"], str) and "details" in body
    assert expected in body["error"], body["error"]
    assert "Traceback" not in response.text and len(response.content) < 20_000
    return cast(dict[str, Any], body)


def draft_body(**changes: Any) -> dict[str, Any]:
    return {"profile": COFFEE, "stage": "aware", **changes}


@corpus(("case", "profile", "expected"), PROFILE_BODIES)
def test_api_bad_profiles(client: TestClient, case: str, profile: Any, expected: str) -> None:
    body = refused(client.post("/drafts", json=draft_body(profile=profile)), 422, expected)
    assert all(set(problem) == {"loc", "msg", "type"} for problem in body["details"])


@corpus(("case", "stage", "asset", "instructions", "expected"), REQUESTS)
def test_api_bad_requests(
    client: TestClient, case: str, stage: str, asset: str | None, instructions: str | None, expected: str
) -> None:
    body = draft_body(stage=stage, asset_type=asset, instructions=instructions)
    refused(client.post("/drafts", json=body), 422, expected)


@corpus(
    ("case", "content", "headers", "status", "expected"),
    [
        ("A01-malformed-json", b'{"stage": "aware",', {"content-type": "application/json"}, 422, "not valid JSON"),
        ("A02-a-list", b"[1, 2]", {"content-type": "application/json"}, 422, "body: Input should be a valid dict"),
        ("A03-text-plain", b"stage=aware", {"content-type": "text/plain"}, 422, "body: Input should be a valid dict"),
        ("A04-empty-body", b"", {"content-type": "application/json"}, 422, "body: Field required"),
        ("A16-nested-100k", b"[" * 100_000, {"content-type": "application/json"}, 400, "error parsing the body"),
    ],
)  # fmt: skip
def test_api_bad_bodies(
    client: TestClient, case: str, content: bytes, headers: dict[str, str], status: int, expected: str
) -> None:
    refused(client.post("/drafts", content=content, headers=headers), status, expected)


def test_api_body_over_the_limit_is_413(client: TestClient) -> None:  # A10 with a length, A10b streamed without
    content = b'{"stage": "aware", "instructions": "' + b"x" * (MAX_BODY_BYTES + 1) + b'"}'
    headers = {"content-type": "application/json"}
    refused(client.post("/drafts", content=content, headers=headers), 413, "larger than 10 MiB")

    def chunks() -> Iterator[bytes]:
        yield b'{"stage": "aware", "instructions": "'
        for _ in range(11):
            yield b"x" * MIB

    refused(client.post("/drafts", content=chunks(), headers=headers), 413, "larger than 10 MiB")


@corpus(
    ("case", "changes", "expected"),
    [("A14-nine-candidates", {"candidates": 9}, "candidates: Input should be less than or equal to 8"),
     ("A14b-candidates-not-a-number", {"candidates": "many"}, "candidates: Input should be a valid integer"),
     ("A26-unknown-top-level-field", {"temperature": 2}, "temperature: Extra inputs are not permitted")],
)  # fmt: skip
def test_api_bad_draft_options(client: TestClient, case: str, changes: dict[str, Any], expected: str) -> None:
    refused(client.post("/drafts", json=draft_body(**changes)), 422, expected)


@corpus(
    ("case", "path", "body", "expected"),
    [
        ("A17-201-items", "/eval/score", {"items": [ITEM] * 201}, "List should have at most 200 items"),
        ("A18-20001-chars", "/eval/score", {"items": [{**ITEM, "text": "x" * 20_001}]}, "at most 20000 characters"),
        ("A19-no-items", "/eval/score", {"items": []}, "List should have at least 1 item"),
        ("A20-unknown-stage", "/eval/score", {"items": [{**ITEM, "stage": "nirvana"}]}, "body.items[0].stage"),
        ("A21-texts-not-a-list", "/eval/classify", {"texts": "one text"}, "body.texts: Input should be a valid list"),
        ("A21b-empty-text", "/eval/classify", {"texts": [""]}, "at least 1 character"),
    ],
)
def test_api_bad_eval_bodies(client: TestClient, case: str, path: str, body: dict[str, Any], expected: str) -> None:
    refused(client.post(path, json=body), 422, expected)


def test_api_unknown_path_and_method(client: TestClient) -> None:  # A22, A23
    refused(client.get("/nope"), 404, "Not found: /nope")
    refused(client.delete("/drafts"), 405, "DELETE is not allowed on /drafts")


def test_api_unexpected_error_is_a_json_500_without_traceback(settings: Settings) -> None:  # A24
    class Broken(DraftingService):
        def draft(self, *args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("secret internals /etc/passwd")

    service = Broken(settings=settings, model=FakeListChatModel(responses=["{}"]), index=None)
    with TestClient(create_app(service=service, mount_ui=False), raise_server_exceptions=False) as broken:
        response = broken.post("/drafts", json=draft_body())
    assert response.status_code == 500 and response.json() == {
        "error": "Internal error: the server could not finish this request (its log has the cause).",
        "details": None,
    }


# --- the UI's functions ---------------------------------------------------------------------------------------


@pytest.fixture
def service(settings: Settings) -> DraftingService:
    return DraftingService(settings=settings, model=FakeListChatModel(responses=[json.dumps(GOOD_POST)]), index=None)


def ui_refuses(expected: str, updates: Iterator[Any]) -> str:
    with pytest.raises(gr.Error) as caught:
        list(updates)
    message = str(caught.value.message)
    assert expected in message and "Traceback" not in message and "pydantic.dev" not in message, message
    assert len(message) < 3_000
    return message


UI_PROFILES = [c for c in PROFILE_TEXTS if c[0] not in {"P12-multi-megabyte"}]


@corpus(("case", "text", "expected"), UI_PROFILES)
def test_ui_bad_profiles(service: DraftingService, case: str, text: str, expected: str) -> None:
    ui_refuses(expected, stream_draft(service, text, "aware", None, "", ""))


@corpus(("case", "stage", "asset", "instructions", "expected"), REQUESTS)
def test_ui_bad_requests(
    service: DraftingService, case: str, stage: str, asset: str | None, instructions: str | None, expected: str
) -> None:
    profile = COFFEE_PATH.read_text(encoding="utf-8")
    ui_refuses(expected, stream_draft(service, profile, stage, asset, "", instructions or ""))


@pytest.mark.parametrize("count", [50, -1, "many"])
def test_ui_absurd_candidates(service: DraftingService, count: Any) -> None:  # U16
    profile = COFFEE_PATH.read_text(encoding="utf-8")
    ui_refuses(
        "Candidates must be a whole number from 1 to 8", stream_draft(service, profile, "aware", None, "", "", count)
    )


@corpus(
    ("case", "previous", "instruction", "expected"),
    [
        ("U17-not-a-draft", {"hook": "hi"}, "shorter", "The draft to revise is not a draft CVJ Kit made"),
        ("U17b-a-list", [1, 2], "shorter", "The draft to revise is not a draft CVJ Kit made"),
        ("U18-no-instruction", {"hook": "hi"}, "   ", "Say what to change"),
        ("U19-5mb-instruction", {"hook": "hi"}, "x" * 5 * MIB, "keep it under 2,000"),
        ("U20-nothing-drafted", None, "shorter", "Draft something first"),
    ],
)
def test_ui_bad_revisions(service: DraftingService, case: str, previous: Any, instruction: str, expected: str) -> None:
    profile = COFFEE_PATH.read_text(encoding="utf-8")
    ui_refuses(expected, stream_revision(service, profile, previous, instruction))


def test_cli_business_name_like_markup_drafts(parts: Components, tmp_path: Path) -> None:  # P25
    path = tmp_path / "p.json"
    path.write_text(as_json(coffee(name="Acme [/] Co")), encoding="utf-8")
    result = runner.invoke(app, ["draft", "-p", str(path), "-s", "aware", "--no-score"])
    assert result.exit_code == 0 and result.exception is None, repr(result.exception)


# --- the knowledge folder itself (CVJ_KNOWLEDGE_DIR) -----------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "files", "expected"),
    [
        ("X1-empty", {}, "holds no guide files (*.md)"),
        ("X2-not-utf8", {"guide.md": b"caf\xe9 au lait\n"}, "guide.md is not UTF-8 text (byte 0xe9 at position 3)"),
    ],
    ids=lambda v: v if isinstance(v, str) and v.startswith("X") else "",
)
def test_index_with_a_bad_knowledge_folder(tmp_path: Path, case: str, files: dict[str, bytes], expected: str) -> None:
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    for name, data in files.items():
        (knowledge / name).write_bytes(data)
    with use_components(Components(Settings(data_dir=tmp_path / "data", knowledge_dir=knowledge))):
        assert expected in fails("index")
