"""Workspaces: each API key owns one, with its businesses, their documents, its kit jobs and its cache entries.

A business is known by an id (``b-`` and 12 hex digits) in its workspace, never by its name: its facts and
documents are keyed in the index as ``<workspace>--<id>`` (:attr:`BusinessProfile.id`), so businesses of one name
in two workspaces never meet. A profile sent inline with a request is keyed by its content
(``<workspace>--inline-<hash>``), so it never touches a stored business either.

Businesses and their document lists live in ``<data dir>/workspaces.sqlite``; uploaded files in
``<data dir>/workspaces/<workspace>/<business id>/``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

from pydantic import BaseModel, Field, SecretStr

from generator.errors import ConfigError, CVJError
from generator.profile import BusinessProfile
from generator.settings import Settings

DEFAULT_WORKSPACE = "default"
WORKSPACE_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
BUSINESS_ID = re.compile(r"^b-[0-9a-f]{12}$")
MAX_BUSINESSES = 1_000  # per workspace: an agency's clients, not a CRM export
MAX_DOCUMENTS = 200  # per business: notes, pages and brochures, not a document archive

_SCHEMA = """
CREATE TABLE IF NOT EXISTS businesses (
    workspace TEXT NOT NULL, id TEXT NOT NULL, name TEXT NOT NULL, profile TEXT NOT NULL,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL, PRIMARY KEY (workspace, id));
CREATE TABLE IF NOT EXISTS documents (
    workspace TEXT NOT NULL, business_id TEXT NOT NULL, name TEXT NOT NULL, bytes INTEGER NOT NULL,
    sha256 TEXT NOT NULL, chunks INTEGER NOT NULL, added_at TEXT NOT NULL, PRIMARY KEY (workspace, business_id, name))
"""


class BusinessNotFoundError(CVJError):
    """No such business in this workspace (another workspace's business is not said to exist)."""

    http_status = 404


class WorkspaceLimitError(CVJError):
    """A workspace or business is full."""

    http_status = 409


@dataclass(frozen=True)
class ApiKey:
    """One key the API accepts and the workspace it opens."""

    workspace: str
    secret: SecretStr


def parse_key_entry(entry: str) -> ApiKey:
    """``workspace:key`` names the workspace; a bare ``key`` gets one of its own, named from the key's hash (so the
    name says nothing about the key, and stays the same across restarts)."""
    name, sep, rest = entry.strip().partition(":")
    if sep and WORKSPACE_NAME.match(name) and rest.strip():
        return ApiKey(name, SecretStr(rest.strip()))
    key = entry.strip()
    return ApiKey("key-" + hashlib.sha256(key.encode()).hexdigest()[:12], SecretStr(key))


def api_keys(settings: Settings) -> list[ApiKey]:
    """The keys from ``CVJ_API_KEYS`` and ``CVJ_API_KEYS_FILE`` (one per line, ``#`` comments)."""
    entries = [key.get_secret_value() for key in settings.api_keys]
    if settings.api_keys_file is not None:
        try:
            text = settings.api_keys_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"Could not read CVJ_API_KEYS_FILE {settings.api_keys_file}: {exc}") from None
        entries += [line.split("#", 1)[0].strip() for line in text.splitlines()]
    return [parse_key_entry(entry) for entry in entries if entry.strip()]


def business_key(workspace: str, business_id: str) -> str:
    """The business's key in the index (and the folder name of its uploads)."""
    return f"{workspace}--{business_id}"


def inline_profile(workspace: str, profile: BusinessProfile) -> BusinessProfile:
    """A profile sent with a request, keyed by its content in this workspace (its own ``id`` is replaced)."""
    data = profile.model_dump(mode="json", exclude={"id"})
    digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:12]
    return profile.model_copy(update={"id": business_key(workspace, f"inline-{digest}")})


class StoredDocument(BaseModel):
    name: str = Field(description="The file name it was uploaded as; also its source in search results")
    bytes: int
    sha256: str
    chunks: int = Field(description="Chunks in the index")
    added_at: datetime


class Business(BaseModel):
    """A business in a workspace: its profile and the documents uploaded for it."""

    id: str = Field(description="Its id in this workspace (b- and 12 hex digits)")
    name: str
    profile: BusinessProfile = Field(description="Its profile; `id` is its key in the index (set by the server)")
    documents: list[StoredDocument] = Field(default_factory=list)
    created_at: datetime
    updated_at: datetime


def _now() -> str:
    return datetime.now(UTC).isoformat()


class BusinessStore:
    """Businesses and their documents, per workspace; every read and write names the workspace."""

    BUSY_TIMEOUT_S = 30.0

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / "workspaces.sqlite"
        self.files_dir = Path(data_dir) / "workspaces"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._db().execute("PRAGMA journal_mode=WAL")
        with self._tx() as db:
            for statement in filter(str.strip, _SCHEMA.split(";")):
                db.execute(statement)

    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None or self._local.pid != os.getpid():
            db = sqlite3.connect(self.path, timeout=self.BUSY_TIMEOUT_S, isolation_level=None)
            db.row_factory = sqlite3.Row
            self._local.db, self._local.pid = db, os.getpid()
        return db

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def folder(self, workspace: str, business_id: str) -> Path:
        """Where this business's uploaded files are kept."""
        return self.files_dir / workspace / business_id

    def create(self, workspace: str, profile: BusinessProfile) -> Business:
        business_id = f"b-{uuid4().hex[:12]}"
        keyed = profile.model_copy(update={"id": business_key(workspace, business_id)})
        now = _now()
        with self._tx() as db:
            (count,) = db.execute("SELECT COUNT(*) FROM businesses WHERE workspace = ?", (workspace,)).fetchone()
            if count >= MAX_BUSINESSES:
                raise WorkspaceLimitError(f"This workspace has {count} businesses, the most it can hold.")
            db.execute(
                "INSERT INTO businesses VALUES (?, ?, ?, ?, ?, ?)",
                (workspace, business_id, profile.name, keyed.model_dump_json(), now, now),
            )
        return self.get(workspace, business_id)

    def get(self, workspace: str, business_id: str) -> Business:
        with self._tx() as db:
            row = db.execute(
                "SELECT * FROM businesses WHERE workspace = ? AND id = ?", (workspace, business_id)
            ).fetchone()
            if row is None:
                raise BusinessNotFoundError(f"No business {business_id[:64]!r} in this workspace.",
                                            details={"business_id": business_id[:64]})  # fmt: skip
            docs = db.execute(
                "SELECT * FROM documents WHERE workspace = ? AND business_id = ? ORDER BY name",
                (workspace, business_id),
            ).fetchall()
        return self._business(row, docs)

    def businesses(self, workspace: str) -> list[Business]:
        with self._tx() as db:
            rows = db.execute("SELECT id FROM businesses WHERE workspace = ? ORDER BY created_at", (workspace,))
            ids = [row["id"] for row in rows.fetchall()]
        return [self.get(workspace, business_id) for business_id in ids]

    def update(self, workspace: str, business_id: str, profile: BusinessProfile) -> Business:
        keyed = profile.model_copy(update={"id": business_key(workspace, business_id)})
        with self._tx() as db:
            changed = db.execute(
                "UPDATE businesses SET name = ?, profile = ?, updated_at = ? WHERE workspace = ? AND id = ?",
                (profile.name, keyed.model_dump_json(), _now(), workspace, business_id),
            ).rowcount
        if not changed:
            self.get(workspace, business_id)  # raises the 404
        return self.get(workspace, business_id)

    def delete(self, workspace: str, business_id: str) -> Business:
        business = self.get(workspace, business_id)
        with self._tx() as db:
            db.execute("DELETE FROM documents WHERE workspace = ? AND business_id = ?", (workspace, business_id))
            db.execute("DELETE FROM businesses WHERE workspace = ? AND id = ?", (workspace, business_id))
        return business

    def record_document(self, workspace: str, business_id: str, document: StoredDocument) -> None:
        with self._tx() as db:
            (count,) = db.execute(
                "SELECT COUNT(*) FROM documents WHERE workspace = ? AND business_id = ? AND name != ?",
                (workspace, business_id, document.name),
            ).fetchone()
            if count >= MAX_DOCUMENTS:
                raise WorkspaceLimitError(f"This business has {count} documents, the most it can hold; remove one.")
            db.execute(
                "INSERT OR REPLACE INTO documents VALUES (?, ?, ?, ?, ?, ?, ?)",
                (workspace, business_id, document.name, document.bytes, document.sha256, document.chunks,
                 document.added_at.isoformat()),
            )  # fmt: skip

    def forget_document(self, workspace: str, business_id: str, name: str) -> None:
        with self._tx() as db:
            gone = db.execute(
                "DELETE FROM documents WHERE workspace = ? AND business_id = ? AND name = ?",
                (workspace, business_id, name),
            ).rowcount
        if not gone:
            raise BusinessNotFoundError(f"No document {name[:200]!r} for business {business_id}.",
                                        details={"business_id": business_id, "name": name[:200]})  # fmt: skip

    @staticmethod
    def _business(row: sqlite3.Row, docs: list[sqlite3.Row]) -> Business:
        return Business(
            id=row["id"], name=row["name"], profile=BusinessProfile.model_validate_json(row["profile"]),
            documents=[StoredDocument(name=d["name"], bytes=d["bytes"], sha256=d["sha256"], chunks=d["chunks"],
                                      added_at=d["added_at"]) for d in docs],
            created_at=row["created_at"], updated_at=row["updated_at"],
        )  # fmt: skip
