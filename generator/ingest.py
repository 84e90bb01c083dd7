"""A business's own documents (notes, web pages, PDFs, Word files) as index-ready chunks.

Every format is turned into plain text first (headings as markdown ``#`` lines where the format has
them, so sections become chunk topics), then split like the method guide. Chunks carry the same
metadata scheme as :mod:`generator.knowledge` (``kind="business"``), and ``source`` is the path, so a
caller that runs ``index.replace_source(source, docs)`` per source can re-ingest as often as it likes.
One unreadable file never stops the others: it is reported with a one-line reason.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import docx
from bs4 import BeautifulSoup
from docx.table import Table
from langchain_core.documents import Document
from pydantic import BaseModel
from pypdf import PdfReader

from generator.errors import DocumentError
from generator.knowledge import split_markdown, splitter, stage_metadata

SUPPORTED_SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm", ".pdf", ".docx")
_MARKDOWN_SUFFIXES = (".md", ".markdown", ".html", ".htm", ".docx")  # text with markdown headings
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n.*?\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_HTML_DROP = ("script", "style", "noscript", "template", "nav", "footer", "svg", "iframe")
_HTML_BLOCKS = (
    "p", "div", "section", "article", "main", "header", "aside", "blockquote", "pre",
    "ul", "ol", "li", "dl", "dt", "dd", "table", "tr", "figure", "figcaption", "address",
)  # fmt: skip
_MAX_REASON = 200


class IngestFailure(BaseModel):
    """A file that could not be read, and why (one line the user can act on)."""

    path: str
    reason: str


class IngestReport(BaseModel):
    """What one ingest run did; ``added`` is filled by the caller once the chunks are indexed."""

    files: list[str]
    failures: list[IngestFailure]
    chunks: int
    added: int = 0


class UnreadableDocumentError(DocumentError):
    """A :class:`DocumentError` that keeps the bare reason apart from the path, for reports."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"Could not read {path}: {reason}.", details={"path": str(path), "reason": reason})
        self.path = str(path)
        self.reason = reason


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= _MAX_REASON else text[: _MAX_REASON - 3] + "..."


def _is_hidden(parts: Iterable[str]) -> bool:
    return any(part.startswith(".") for part in parts)


def discover(paths: Iterable[Path]) -> tuple[list[Path], list[IngestFailure]]:
    """Files to ingest: files as given, folders recursively (sorted, supported suffixes only, hidden files/dirs
    skipped). A path that does not exist, or a file with an unsupported suffix given explicitly, is a failure.

    A file reached twice (named and inside a named folder) is ingested once.
    """
    files: list[Path] = []
    failures: list[IngestFailure] = []
    seen: set[Path] = set()

    def keep(path: Path) -> None:
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            files.append(path)

    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for found in sorted(path.rglob("*")):
                rel = found.relative_to(path)
                if found.is_file() and found.suffix.lower() in SUPPORTED_SUFFIXES and not _is_hidden(rel.parts):
                    keep(found)
        elif path.is_file():
            if path.suffix.lower() in SUPPORTED_SUFFIXES:
                keep(path)
            else:
                kind = f"'{path.suffix}'" if path.suffix else "without a suffix"
                reason = f"unsupported file type {kind} (supported: {', '.join(SUPPORTED_SUFFIXES)})"
                failures.append(IngestFailure(path=str(path), reason=reason))
        elif path.exists():
            failures.append(IngestFailure(path=str(path), reason="not a regular file or folder"))
        else:
            failures.append(IngestFailure(path=str(path), reason="no such file or folder"))
    return files, failures


def _decode(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableDocumentError(
            path, f"not UTF-8 text (byte 0x{data[exc.start]:02x} at position {exc.start}); save it as UTF-8"
        ) from exc


def _markdown_text(path: Path, data: bytes) -> str:
    """Markdown without its YAML front matter: metadata, not content."""
    return _FRONT_MATTER.sub("", _decode(path, data), count=1)


def _html_text(path: Path, data: bytes) -> str:
    """Visible page text; headings become markdown lines so sections split like the guide."""
    # bytes, not str: BeautifulSoup honours the page's declared charset and guesses otherwise.
    soup = BeautifulSoup(data, "html.parser")
    for tag in soup.find_all(_HTML_DROP):
        tag.decompose()
    title = soup.find("title")
    if title is not None:
        heading = " ".join(title.get_text(" ").split())
        title.replace_with(f"\n# {heading}\n" if heading and soup.find("h1") is None else "")
    for tag in soup.find_all(["h1", "h2", "h3", "h4", "h5", "h6"]):
        text = " ".join(tag.get_text(" ").split())
        tag.replace_with(f"\n\n{'#' * int(tag.name[1])} {text}\n\n" if text else "")
    for tag in soup.find_all("br"):
        tag.replace_with("\n")
    for tag in soup.find_all(["td", "th"]):
        tag.insert_after(" ")
    for tag in soup.find_all(_HTML_BLOCKS):
        tag.insert_before("\n")
        tag.insert_after("\n")
    return _tidy(soup.get_text())


def _pdf_text(path: Path, data: bytes) -> str:
    """The text layer of every page (a scanned PDF has none and needs OCR first)."""
    if b"%PDF-" not in data[:1024]:
        raise UnreadableDocumentError(path, "not a valid PDF (no %PDF header)")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise UnreadableDocumentError(path, "the PDF is password-protected; save an unprotected copy")
        pages = [page.extract_text() or "" for page in reader.pages]
    except DocumentError:
        raise
    except Exception as exc:  # pypdf raises many types on damaged files
        why = "EOF marker not found; the file may be truncated" if b"%%EOF" not in data else _one_line(exc)
        raise UnreadableDocumentError(path, f"not a valid PDF ({why})") from exc
    text = _tidy("\n\n".join(pages))
    if not text and pages:
        raise UnreadableDocumentError(path, "the PDF has no text layer (a scanned PDF needs OCR first)")
    return text


def _docx_text(path: Path, data: bytes) -> str:
    """Paragraphs and table cells in document order; Title/Heading styles become markdown headings."""
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise UnreadableDocumentError(path, "not a valid DOCX file (not a ZIP package; save old .doc files as .docx)")
    try:
        document = docx.Document(io.BytesIO(data))
        lines: list[str] = []
        for block in document.iter_inner_content():
            if isinstance(block, Table):
                lines.extend(_table_lines(block))
            else:
                lines.append(_heading_prefix(block.style.name if block.style else "") + block.text)
    except Exception as exc:  # python-docx raises KeyError, ValueError, lxml errors... on damaged files
        raise UnreadableDocumentError(path, f"not a valid DOCX file ({_one_line(exc)})") from exc
    return _tidy("\n\n".join(lines))


def _heading_prefix(style: str | None) -> str:
    if style == "Title":
        return "# "
    match = re.fullmatch(r"Heading (\d)", style or "")
    return "#" * int(match.group(1)) + " " if match else ""


def _table_lines(table: Table) -> Iterator[str]:
    """One line per row, cells joined by ``|``; a merged cell is repeated by python-docx, so count it once."""
    for row in table.rows:
        cells: list[str] = []
        seen: set[int] = set()
        for cell in row.cells:
            if id(cell._tc) in seen:
                continue
            seen.add(id(cell._tc))
            text = " ".join(cell.text.split())
            if text:
                cells.append(text)
        if cells:
            yield " | ".join(cells)


def _tidy(text: str) -> str:
    """Trim every line and keep at most one blank line in a row."""
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


_READERS: dict[str, Callable[[Path, bytes], str]] = {
    ".md": _markdown_text,
    ".markdown": _markdown_text,
    ".txt": _decode,
    ".html": _html_text,
    ".htm": _html_text,
    ".pdf": _pdf_text,
    ".docx": _docx_text,
}


def load_text(path: Path) -> str:
    """The text of one file. Raises DocumentError with a readable message if it cannot be parsed (corrupt
    PDF/DOCX, undecodable bytes, empty document)."""
    path = Path(path)
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        raise UnreadableDocumentError(path, f"unsupported file type '{path.suffix}'")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableDocumentError(path, exc.strerror or _one_line(exc)) from exc
    text = reader(path, data)
    if not text.strip():
        raise UnreadableDocumentError(path, "the document is empty (no text found)")
    return text


def document_chunks(path: Path, *, business: str, stages: list[str] | None = None) -> list[Document]:
    """Chunks of one business document, tagged like every other business fact (see the module docstring).

    ``content_hash`` (sha1 of the extracted text) lets a caller tell a changed file from an unchanged one.
    """
    path = Path(path)
    text = load_text(path)
    base: dict[str, object] = {
        "source": str(path),
        "kind": "business",
        "business": business,
        "topic": "",
        "content_hash": hashlib.sha1(text.encode("utf-8")).hexdigest(),
        **stage_metadata(stages or []),
    }
    if path.suffix.lower() in _MARKDOWN_SUFFIXES:
        return split_markdown(text, base)
    return splitter().split_documents([Document(page_content=text, metadata=base)])


def load_documents(
    paths: Iterable[Path], *, business: str, stages: list[str] | None = None
) -> tuple[dict[str, list[Document]], IngestReport]:
    """Chunks grouped by source (so the caller can call ``index.replace_source(source, docs)`` per source, which
    makes re-ingesting idempotent), and a report. A file that fails is recorded in ``report.failures`` and the
    others still go in."""
    files, failures = discover(paths)
    by_source: dict[str, list[Document]] = {}
    loaded: list[str] = []
    for path in files:
        try:
            docs = document_chunks(path, business=business, stages=stages)
        except UnreadableDocumentError as exc:
            failures.append(IngestFailure(path=str(path), reason=exc.reason))
            continue
        except DocumentError as exc:
            failures.append(IngestFailure(path=str(path), reason=exc.message))
            continue
        loaded.append(str(path))
        by_source.setdefault(str(path), []).extend(docs)
    report = IngestReport(files=loaded, failures=failures, chunks=sum(len(d) for d in by_source.values()))
    return by_source, report
