"""Loading a business's own documents: every format, folders, failures and idempotent ids."""

from __future__ import annotations

import hashlib
from pathlib import Path

import docx
import pytest
from langchain_core.documents import Document
from pypdf import PdfReader

from generator.errors import DocumentError
from generator.ingest import (
    SUPPORTED_SUFFIXES,
    IngestReport,
    discover,
    document_chunks,
    load_documents,
    load_text,
)
from generator.knowledge import chunk_id
from generator.stages import STAGE_IDS
from tests.bad_inputs.bombs import pdf_file

SLUG = "harbor-lane-coffee"

MARKDOWN = """---
title: About us
stages: [aware]
---
# Harbor Lane Coffee

We roast small batches by the harbor.

## Wholesale

Cafes order beans every Tuesday and get free delivery within 20 km.

## Classes

Our home-barista class runs on Saturday mornings.
"""

HTML = """<!doctype html>
<html><head><title>Harbor Lane</title><style>body { color: red; }</style>
<script>var trackingSecret = "do-not-index";</script></head>
<body>
<nav><a href="/">Home</a> <a href="/shop">NavShopLink</a></nav>
<h1>Harbor Lane Coffee</h1>
<p>Fresh <b>single origin</b> beans, roasted weekly.</p>
<h2>Subscriptions</h2>
<ul><li>Two bags a month</li><li>Pause any time</li></ul>
<footer>Copyright FooterText</footer>
</body></html>
"""


def _pdf_bytes(lines: list[str]) -> bytes:
    """A minimal valid one-page PDF with a Helvetica text stream (pypdf can read but not easily write text)."""
    ops = ["BT", "/F1 12 Tf", "72 720 Td", "14 TL"]
    for line in lines:
        escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        ops.append(f"({escaped}) Tj T*")
    ops.append("ET")
    content = "\n".join(ops).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    return pdf_file(objects)


def _write_docx(path: Path) -> Path:
    document = docx.Document()
    document.add_heading("Harbor Lane Coffee", level=1)
    document.add_paragraph("We deliver beans to offices across the city.")
    document.add_heading("Price list", level=2)
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Espresso blend"
    table.cell(0, 1).text = "14 EUR"
    table.cell(1, 0).text = "Decaf"
    table.cell(1, 1).text = "16 EUR"
    document.save(str(path))
    return path


@pytest.fixture
def docs_dir(tmp_path: Path) -> Path:
    """One good file of every supported kind, some in a subfolder."""
    root = tmp_path / "docs"
    (root / "web").mkdir(parents=True)
    (root / "about.md").write_text(MARKDOWN, encoding="utf-8")
    (root / "notes.txt").write_text("Opening hours: 7am to 5pm, closed on Mondays.\n", encoding="utf-8")
    (root / "web" / "home.html").write_text(HTML, encoding="utf-8")
    _write_docx(root / "web" / "prices.docx")
    (root / "menu.pdf").write_bytes(_pdf_bytes(["Oat flat white 4.20 EUR", "Cold brew 3.80 EUR"]))
    return root


def _text(docs: list[Document]) -> str:
    return "\n".join(d.page_content for d in docs)


def _assert_business_metadata(docs: list[Document], path: Path) -> None:
    assert docs, f"no chunks for {path}"
    expected_hash = hashlib.sha1(load_text(path).encode("utf-8")).hexdigest()
    for doc in docs:
        assert doc.metadata["kind"] == "business"
        assert doc.metadata["business"] == SLUG
        assert doc.metadata["source"] == str(path)
        assert doc.metadata["content_hash"] == expected_hash
        assert "topic" in doc.metadata
        assert doc.metadata["stage"] == "general"


def test_markdown_drops_front_matter_and_splits_on_sections(docs_dir: Path) -> None:
    path = docs_dir / "about.md"
    docs = document_chunks(path, business=SLUG)
    _assert_business_metadata(docs, path)
    text = _text(docs)
    assert "stages:" not in text and "title: About us" not in text
    assert "free delivery within 20 km" in text
    by_topic = {d.metadata["topic"]: d.page_content for d in docs}
    assert "Tuesday" in by_topic["Wholesale"]
    assert "Saturday" in by_topic["Classes"]


def test_plain_text_is_one_chunk_with_its_text(docs_dir: Path) -> None:
    path = docs_dir / "notes.txt"
    docs = document_chunks(path, business=SLUG)
    _assert_business_metadata(docs, path)
    assert len(docs) == 1
    assert docs[0].page_content == "Opening hours: 7am to 5pm, closed on Mondays."
    assert docs[0].metadata["topic"] == ""


def test_html_keeps_visible_text_and_headings_but_not_scripts_or_chrome(docs_dir: Path) -> None:
    path = docs_dir / "web" / "home.html"
    text = load_text(path)
    assert "# Harbor Lane Coffee" in text.splitlines()
    assert "## Subscriptions" in text.splitlines()
    assert "Fresh single origin beans, roasted weekly." in text  # inline tags do not break the sentence
    for hidden in ("trackingSecret", "do-not-index", "color: red", "NavShopLink", "FooterText"):
        assert hidden not in text

    docs = document_chunks(path, business=SLUG)
    _assert_business_metadata(docs, path)
    assert "trackingSecret" not in _text(docs)
    by_topic = {d.metadata["topic"]: d.page_content for d in docs}
    assert "Pause any time" in by_topic["Subscriptions"]


def test_docx_reads_paragraphs_headings_and_table_cells(docs_dir: Path) -> None:
    path = docs_dir / "web" / "prices.docx"
    text = load_text(path)
    assert "We deliver beans to offices across the city." in text
    assert "Espresso blend | 14 EUR" in text
    assert "Decaf | 16 EUR" in text

    docs = document_chunks(path, business=SLUG)
    _assert_business_metadata(docs, path)
    by_topic = {d.metadata["topic"]: d.page_content for d in docs}
    assert "16 EUR" in by_topic["Price list"]


def test_handmade_pdf_is_valid_and_its_text_is_extracted(docs_dir: Path) -> None:
    path = docs_dir / "menu.pdf"
    # The helper writes a real PDF: pypdf parses it strictly (correct xref) and finds the text.
    reader = PdfReader(path, strict=True)
    assert len(reader.pages) == 1
    assert "Cold brew 3.80 EUR" in reader.pages[0].extract_text()

    docs = document_chunks(path, business=SLUG)
    _assert_business_metadata(docs, path)
    text = _text(docs)
    assert "Oat flat white 4.20 EUR" in text
    assert "Cold brew 3.80 EUR" in text


def test_stages_are_tagged_like_the_guide(docs_dir: Path) -> None:
    docs = document_chunks(docs_dir / "notes.txt", business=SLUG, stages=["convert", "not-a-stage", "ascend"])
    meta = docs[0].metadata
    assert meta["stage"] == "convert"
    assert {s for s in STAGE_IDS if meta[f"s_{s}"]} == {"convert", "ascend"}
    assert "s_not-a-stage" not in meta


def test_long_documents_are_split_into_several_chunks(tmp_path: Path) -> None:
    path = tmp_path / "long.txt"
    path.write_text("\n\n".join(f"Paragraph {i}: " + "espresso crema " * 40 for i in range(20)), encoding="utf-8")
    docs = document_chunks(path, business=SLUG)
    assert len(docs) > 3
    assert "Paragraph 0:" in docs[0].page_content
    assert "Paragraph 19:" in docs[-1].page_content


def test_discover_walks_folders_recursively_in_order_and_skips_hidden_and_unsupported(docs_dir: Path) -> None:
    (docs_dir / ".git").mkdir()
    (docs_dir / ".git" / "notes.md").write_text("# hidden", encoding="utf-8")
    (docs_dir / ".draft.md").write_text("# hidden", encoding="utf-8")
    (docs_dir / "logo.png").write_bytes(b"\x89PNG")
    (docs_dir / "web" / "deep").mkdir()
    (docs_dir / "web" / "deep" / "faq.MD").write_text("Do you ship? Yes.", encoding="utf-8")

    files, failures = discover([docs_dir])

    assert failures == []
    assert [f.relative_to(docs_dir).as_posix() for f in files] == [
        "about.md",
        "menu.pdf",
        "notes.txt",
        "web/deep/faq.MD",
        "web/home.html",
        "web/prices.docx",
    ]


def test_discover_reports_missing_paths_and_explicit_unsupported_files(tmp_path: Path) -> None:
    image = tmp_path / "logo.png"
    image.write_bytes(b"\x89PNG")
    good = tmp_path / "a.txt"
    good.write_text("hello", encoding="utf-8")

    files, failures = discover([tmp_path / "missing.md", image, good, good])

    assert files == [good]  # named twice, ingested once
    reasons = {Path(f.path).name: f.reason for f in failures}
    assert reasons["missing.md"] == "no such file or folder"
    assert reasons["logo.png"].startswith("unsupported file type '.png'")
    assert all(s in reasons["logo.png"] for s in SUPPORTED_SUFFIXES)


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("broken.pdf", b"this is not a pdf at all" * 10, "not a valid PDF"),
        ("truncated.pdf", _pdf_bytes(["Cut short"])[:120], "not a valid PDF (EOF marker not found"),
        ("broken.docx", b"PK\x03\x04 garbage, not really a zip" * 5, "not a valid DOCX file"),
        ("empty.txt", b"  \n\n ", "empty"),
        ("latin1.txt", "Caf\xe9 cr\xe8me".encode("latin-1"), "not UTF-8 text"),
        ("blank.html", b"<html><script>x = 1</script></html>", "empty"),
    ],
)
def test_load_text_raises_a_readable_document_error(tmp_path: Path, name: str, content: bytes, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DocumentError) as caught:
        load_text(path)
    message = caught.value.message
    assert reason in message
    assert str(path) in message
    assert "\n" not in message
    assert caught.value.http_status == 422


def test_failures_are_reported_and_good_files_still_load(docs_dir: Path) -> None:
    bad = docs_dir / "bad"
    bad.mkdir()
    (bad / "scan.pdf").write_bytes(b"\x00\x01garbage bytes" * 50)
    (bad / "contract.docx").write_bytes(b"garbage docx bytes" * 20)
    (bad / "empty.txt").write_text("", encoding="utf-8")
    unsupported = docs_dir / "logo.png"
    unsupported.write_bytes(b"\x89PNG")

    by_source, report = load_documents([docs_dir, unsupported], business=SLUG)

    assert isinstance(report, IngestReport)
    reasons = {Path(f.path).name: f.reason for f in report.failures}
    assert set(reasons) == {"scan.pdf", "contract.docx", "empty.txt", "logo.png"}
    assert reasons["scan.pdf"].startswith("not a valid PDF")
    assert reasons["contract.docx"].startswith("not a valid DOCX file")
    assert "empty" in reasons["empty.txt"]
    assert all("\n" not in r and str(docs_dir) not in r for r in reasons.values())

    good = ["about.md", "menu.pdf", "notes.txt", "web/home.html", "web/prices.docx"]
    assert report.files == [str(docs_dir / g) for g in good]
    assert sorted(by_source) == sorted(report.files)
    assert report.chunks == sum(len(docs) for docs in by_source.values()) > len(good)
    assert report.added == 0
    for source, docs in by_source.items():
        assert {d.metadata["source"] for d in docs} == {source}
        assert {d.metadata["business"] for d in docs} == {SLUG}


def test_loading_twice_gives_identical_chunk_ids(docs_dir: Path) -> None:
    first, _ = load_documents([docs_dir], business=SLUG)
    second, _ = load_documents([docs_dir], business=SLUG)
    ids = {source: [chunk_id(d) for d in docs] for source, docs in first.items()}
    assert ids == {source: [chunk_id(d) for d in docs] for source, docs in second.items()}
    assert len({i for chunk_ids in ids.values() for i in chunk_ids}) == sum(len(v) for v in ids.values())

    # A changed file changes its hash and ids; the others stay the same.
    (docs_dir / "notes.txt").write_text("Opening hours: 8am to 4pm.\n", encoding="utf-8")
    third, _ = load_documents([docs_dir], business=SLUG)
    notes = str(docs_dir / "notes.txt")
    assert [chunk_id(d) for d in third[notes]] != ids[notes]
    assert third[notes][0].metadata["content_hash"] != first[notes][0].metadata["content_hash"]
    assert {s: [chunk_id(d) for d in docs] for s, docs in third.items() if s != notes} == {
        s: v for s, v in ids.items() if s != notes
    }
