"""A business's own documents (notes, web pages, PDFs, Word files) as index-ready chunks.

Every format is turned into plain text first (headings as markdown ``#`` lines where the format has
them, so sections become chunk topics), then split like the method guide. Chunks carry the same
metadata scheme as :mod:`generator.knowledge` (``kind="business"``), and ``source`` is the path, so a
caller that runs ``index.replace_source(source, docs)`` per source can re-ingest as often as it likes.
One unreadable file never stops the others: it is reported with a one-line reason.
Symbolic links are refused, never followed (one in a folder could lead anywhere on the machine: copy the file in
instead), and the limits below bound what one file can cost in memory, time and index space.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import docx
from bs4 import BeautifulSoup, Tag
from docx.table import Table
from langchain_core.documents import Document
from pydantic import BaseModel
from pypdf import PdfReader
from pypdf.errors import LimitReachedError

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
_MIB = 1024 * 1024
# Limits, each well past what a real document needs. A brochure PDF with photos is 5-30 MiB; 1,000,000 characters
# is a 400-page book (~1,000 chunks, a minute of embedding on 2 cores); a price list is 1-50 pages.
MAX_DOCUMENT_BYTES, MAX_DOCUMENT_CHARS, MAX_PDF_PAGES = 50 * _MIB, 1_000_000, 500
# pypdf takes ~0.1 s on a 10 KiB page of text (5-50 KiB is dense) and minutes on a few MiB (superlinear); 20 MiB
# for all pages is ~40 s of extraction, and a small file that inflates past it is a decompression bomb.
MAX_PDF_PAGE_CONTENT, MAX_PDF_CONTENT = 1 * _MIB, 20 * _MIB
# python-docx reads every part of the zip into memory: a Word file holds 10-40 parts and one per image, and unpacks
# to about its size (images do not compress). zipfile stops at each part's declared size, so those are checked.
MAX_DOCX_PARTS, MAX_DOCX_UNPACKED = 1_000, 100 * _MIB
# A saved web page is 50 KiB-2 MiB and nests 10-40 tags deep; html.parser takes ~10 s on a MiB of hostile markup
# and laying out tags nested tens of thousands deep takes minutes.
MAX_HTML_BYTES, MAX_HTML_DEPTH = 5 * _MIB, 256
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")  # debris in prompts, escapes in terminals
_LINK_REASON = "a symbolic link; links are not followed (copy the file itself into the folder)"


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
    return text if len(text) <= 200 else text[:197] + "..."


def discover(paths: Iterable[Path]) -> tuple[list[Path], list[IngestFailure]]:
    """Files to ingest: files as given, folders recursively (sorted, supported suffixes only, hidden files/dirs
    skipped). A path that does not exist, a file with an unsupported suffix given explicitly, a symbolic link
    (named or found) and a folder with nothing to read are failures.

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
        if path.is_symlink():
            failures.append(IngestFailure(path=str(path), reason=_LINK_REASON))
        elif path.is_dir():
            before = len(files) + len(failures)
            for found in sorted(path.rglob("*")):  # rglob lists a linked folder but does not enter it
                hidden = any(part.startswith(".") for part in found.relative_to(path).parts)
                if hidden or not (found.suffix.lower() in SUPPORTED_SUFFIXES or found.is_dir()):
                    continue
                if found.is_symlink():
                    failures.append(IngestFailure(path=str(found), reason=_LINK_REASON))
                elif found.is_file():
                    keep(found)
            if len(files) + len(failures) == before:
                reason = f"no documents to read in this folder (supported: {', '.join(SUPPORTED_SUFFIXES)})"
                failures.append(IngestFailure(path=str(path), reason=reason))
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
    """UTF-8 (or UTF-16 with its byte-order mark, as Windows Notepad saves 'Unicode'); anything else is refused
    with the byte that gave it away rather than guessed at, and a file with NUL bytes is binary, not text."""
    utf16 = data[:2] in (b"\xff\xfe", b"\xfe\xff")
    if b"\x00" in data and not utf16:
        raise UnreadableDocumentError(path, "a binary file, not text (it contains NUL bytes)")
    try:
        return data.decode("utf-16") if utf16 else data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableDocumentError(
            path, f"not UTF-8 text (byte 0x{data[exc.start]:02x} at position {exc.start}); save it as UTF-8"
        ) from exc


def _markdown_text(path: Path, data: bytes) -> str:
    """Markdown without its YAML front matter: metadata, not content."""
    return _FRONT_MATTER.sub("", _decode(path, data), count=1)


def _html_text(path: Path, data: bytes) -> str:
    """Visible page text; headings become markdown lines so sections split like the guide."""
    if len(data) > MAX_HTML_BYTES:
        raise UnreadableDocumentError(path, f"a web page over {MAX_HTML_BYTES // _MIB} MiB; save its text instead")
    # bytes, not str: BeautifulSoup honours the page's declared charset and guesses otherwise.
    soup = BeautifulSoup(data, "html.parser")
    pending: list[tuple[Tag, int]] = [(soup, 0)]  # how deep tags nest, counted without recursion
    while pending:
        tag, depth = pending.pop()
        if depth > MAX_HTML_DEPTH:
            raise UnreadableDocumentError(path, f"tags nested over {MAX_HTML_DEPTH} deep (real pages nest under 50)")
        pending.extend((child, depth + 1) for child in tag.contents if isinstance(child, Tag))
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


def _content_size(page: Any) -> int:
    """Bytes of a page's content streams and form XObjects once inflated (what text extraction will parse)."""
    contents = page.get("/Contents")
    contents = contents.get_object() if contents is not None else []
    streams = list(contents) if isinstance(contents, list) else [contents]
    resources = page.get("/Resources")
    forms = resources.get_object().get("/XObject") if resources is not None else None
    forms = forms.get_object() if forms is not None else {}
    streams += [x for x in forms.values() if x.get_object().get("/Subtype") == "/Form"]
    return sum(len(stream.get_object().get_data()) for stream in streams)


def _pdf_text(path: Path, data: bytes) -> str:
    """The text layer of every page (a scanned PDF has none and needs OCR first)."""
    if b"%PDF-" not in data[:1024]:
        raise UnreadableDocumentError(path, "not a valid PDF (no %PDF header)")
    bomb = "a decompression bomb or mostly drawings; export its text to .txt or .docx"
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise UnreadableDocumentError(path, "the PDF is password-protected; save an unprotected copy")
        if len(reader.pages) > MAX_PDF_PAGES:
            raise UnreadableDocumentError(path, f"{len(reader.pages):,} pages, more than {MAX_PDF_PAGES}; split it")
        pages, total = [], 0
        for number, page in enumerate(reader.pages, 1):
            total += (size := _content_size(page))
            if size > MAX_PDF_PAGE_CONTENT or total > MAX_PDF_CONTENT:
                what, much = (f"page {number}", size) if size > MAX_PDF_PAGE_CONTENT else (f"pages 1-{number}", total)
                raise UnreadableDocumentError(path, f"{what}: {much / _MIB:.1f} MiB of content once inflated ({bomb})")
            pages.append(page.extract_text() or "")
    except DocumentError:
        raise
    except LimitReachedError as exc:
        raise UnreadableDocumentError(path, f"a stream inflates past pypdf's safety limit ({bomb})") from exc
    except Exception as exc:  # pypdf raises many types on damaged files
        why = "EOF marker not found; the file may be truncated" if b"%%EOF" not in data else _one_line(exc)
        raise UnreadableDocumentError(path, f"not a valid PDF ({why})") from exc
    text = _tidy("\n\n".join(pages))
    if not text and pages:
        raise UnreadableDocumentError(path, "the PDF has no text layer (a scanned PDF needs OCR first)")
    return text


def _docx_text(path: Path, data: bytes) -> str:
    """Paragraphs and table cells in document order; Title/Heading styles become markdown headings."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            parts = package.infolist()
    except (zipfile.BadZipFile, ValueError) as exc:
        why = "not a ZIP package; save old .doc files as .docx"
        raise UnreadableDocumentError(path, f"not a valid DOCX file ({why})") from exc
    unpacked = sum(part.file_size for part in parts)
    if len(parts) > MAX_DOCX_PARTS or unpacked > MAX_DOCX_UNPACKED:
        limit = f"{MAX_DOCX_PARTS:,} parts or {MAX_DOCX_UNPACKED // _MIB} MiB (a zip bomb?)"
        raise UnreadableDocumentError(path, f"{len(parts):,} parts unpack to {unpacked / _MIB:,.0f} MiB, over {limit}")
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
    ".md": _markdown_text, ".markdown": _markdown_text, ".txt": _decode, ".html": _html_text, ".htm": _html_text,
    ".pdf": _pdf_text, ".docx": _docx_text,
}  # fmt: skip


def load_text(path: Path) -> str:
    """The text of one file. Raises DocumentError with a readable message if it cannot be parsed (corrupt
    PDF/DOCX, undecodable bytes, empty document)."""
    path = Path(path)
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        raise UnreadableDocumentError(path, f"unsupported file type '{path.suffix}'")
    try:
        if path.is_symlink() or path.stat().st_size > MAX_DOCUMENT_BYTES:
            too_big = f"larger than {MAX_DOCUMENT_BYTES // _MIB} MiB; split it"
            raise UnreadableDocumentError(path, _LINK_REASON if path.is_symlink() else too_big)
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableDocumentError(path, exc.strerror or _one_line(exc)) from exc
    text = _CONTROL.sub("", reader(path, data).replace("\x0c", "\n"))  # form feeds: page breaks in text exports
    if not text.strip():
        raise UnreadableDocumentError(path, "the document is empty (no text found)")
    if len(text) > MAX_DOCUMENT_CHARS:
        raise UnreadableDocumentError(path, f"{len(text):,} characters, more than {MAX_DOCUMENT_CHARS:,}; split it")
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
        except DocumentError as exc:
            reason = exc.reason if isinstance(exc, UnreadableDocumentError) else exc.message
            failures.append(IngestFailure(path=str(path), reason=reason))
            continue
        loaded.append(str(path))
        by_source.setdefault(str(path), []).extend(docs)
    report = IngestReport(files=loaded, failures=failures, chunks=sum(len(d) for d in by_source.values()))
    return by_source, report
