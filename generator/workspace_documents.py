"""A business's uploaded documents: kept in its workspace folder, chunked, and indexed under its key only.

Each document's chunks have the source ``<business key>/<file name>``, so uploading a file of the same name again
replaces its chunks, and removing it (or the business) removes them; search results name the file, never a path
on the server."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

from generator.errors import DocumentError
from generator.files import write_atomic
from generator.ingest import SUPPORTED_SUFFIXES, UnreadableDocumentError, document_chunks
from generator.knowledge import KnowledgeIndex
from generator.workspaces import Business, BusinessStore, StoredDocument, business_key

MAX_UPLOAD_FILES = 20  # per request
_NAME = re.compile(r"^[\w][\w .()-]{0,119}$")


def document_source(workspace: str, business_id: str, name: str) -> str:
    return f"{business_key(workspace, business_id)}/{name}"


def upload_name(filename: str | None) -> str:
    """The name a file is kept under: its base name, plain characters, a supported suffix (else a 422)."""
    name = re.split(r"[\\/]", (filename or "").strip())[-1].strip()
    if not name or not _NAME.match(name):
        raise DocumentError(
            f"The file name {name[:120]!r} is not usable: use letters, digits, spaces, '.', '-', '_' or '()' "
            "(at most 120 characters, not starting with a dot).",
            details={"name": name[:120]},
        )
    if Path(name).suffix.lower() not in SUPPORTED_SUFFIXES:
        raise DocumentError(
            f"{name}: unsupported file type (supported: {', '.join(SUPPORTED_SUFFIXES)}).", details={"name": name}
        )
    return name


def add_document(
    index: KnowledgeIndex, store: BusinessStore, workspace: str, business: Business, name: str, data: bytes
) -> StoredDocument:
    """Keep, chunk and index one document for the business (replacing one of the same name). A file that cannot be
    read is refused with its reason and leaves nothing behind."""
    name = upload_name(name)
    folder = store.folder(workspace, business.id)
    folder.mkdir(parents=True, exist_ok=True)
    trial = folder / f".upload-{uuid4().hex}{Path(name).suffix.lower()}"
    try:
        trial.write_bytes(data)
        chunks = document_chunks(trial, business=business_key(workspace, business.id))
    except UnreadableDocumentError as exc:
        details = {"name": name, "reason": exc.reason}
        raise DocumentError(f"Could not read {name}: {exc.reason}.", details=details) from None
    finally:
        trial.unlink(missing_ok=True)
    source = document_source(workspace, business.id, name)
    for chunk in chunks:
        chunk.metadata["source"] = source
    document = StoredDocument(name=name, bytes=len(data), sha256=hashlib.sha256(data).hexdigest(),
                              chunks=len(chunks), added_at=datetime.now(UTC))  # fmt: skip
    store.record_document(workspace, business.id, document)  # the limit is checked before anything is indexed
    write_atomic(folder / name, lambda tmp: Path(tmp).write_bytes(data))
    index.replace_source(source, chunks)
    return document


def remove_document(index: KnowledgeIndex | None, store: BusinessStore, workspace: str, business_id: str,
                    name: str) -> None:  # fmt: skip
    store.forget_document(workspace, business_id, name)
    (store.folder(workspace, business_id) / name).unlink(missing_ok=True)
    if index is not None:
        index.replace_source(document_source(workspace, business_id, name), [])


def forget_business(index: KnowledgeIndex | None, store: BusinessStore, workspace: str, business_id: str) -> Business:
    """Delete the business, its files and every chunk of it in the index."""
    business = store.delete(workspace, business_id)
    folder = store.folder(workspace, business_id)
    for document in business.documents:
        (folder / document.name).unlink(missing_ok=True)
        if index is not None:
            index.replace_source(document_source(workspace, business_id, document.name), [])
    if index is not None:
        index.replace_source(f"profile:{business_key(workspace, business_id)}", [])
    if folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
    return business
