"""The model-answer cache: LangChain's ``BaseCache`` over one SQLite file in the data dir.

Keyed by the whole prompt and the model's parameters (so a new prompt version misses). It replaces
langchain-community's SQLiteCache, which is being sunset. Answers are stored as plain message dicts
(LangChain's stable ``message_to_dict``), never as serialized objects: the file is data, not code.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from langchain_core.caches import RETURN_VAL_TYPE, BaseCache
from langchain_core.messages import message_to_dict, messages_from_dict
from langchain_core.outputs import ChatGeneration, Generation

from generator.errors import ModelUnavailableError
from generator.files import exclusive

_SCHEMA = "CREATE TABLE IF NOT EXISTS answers (key TEXT PRIMARY KEY, generations TEXT NOT NULL)"


def _dump(generation: Generation) -> dict[str, Any]:
    if isinstance(generation, ChatGeneration):
        return {"message": message_to_dict(generation.message), "info": generation.generation_info}
    return {"text": generation.text, "info": generation.generation_info}


def _load(data: dict[str, Any]) -> Generation:
    if "message" in data:
        (message,) = messages_from_dict([data["message"]])
        return ChatGeneration(message=message, generation_info=data.get("info"))
    return Generation(text=str(data["text"]), generation_info=data.get("info"))


cache_scope: ContextVar[str] = ContextVar("cvj_cache_scope", default="")
"""Whose answers these are: the HTTP API sets it to the caller's workspace (and a kit job to its owner's), so one
workspace never gets, or learns by timing, an answer cached for another. Empty (the CLI, the UI): keys of before."""


def _key(prompt: str, llm_string: str) -> str:
    scope = cache_scope.get()
    return hashlib.sha256(f"{scope}\0{llm_string}\0{prompt}".encode() if scope else
                          f"{llm_string}\0{prompt}".encode()).hexdigest()  # fmt: skip


class SQLiteAnswerCache(BaseCache):
    """Thread- and process-safe: a connection per thread (and per process: never one inherited through a fork),
    WAL journal (readers never wait for the writer), a busy timeout (a writer waits its turn rather than failing with
    "database is locked"), one statement per transaction, writes replace."""

    BUSY_TIMEOUT_S = 30.0

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        # Switching a file to WAL takes an exclusive lock and SQLite does not always wait for it (its busy handler
        # is skipped there): several processes opening a fresh cache at once got "database is locked". One at a time.
        setup_lock = self.path.with_name(self.path.name + ".setup.lock")
        busy = lambda pid: ModelUnavailableError(f"The answer cache {self.path} is being set up by pid {pid}.")  # noqa: E731
        with exclusive(setup_lock, timeout_s=self.BUSY_TIMEOUT_S, busy=busy), self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")  # kept in the file, for every process
            db.execute(_SCHEMA)

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """This thread's connection, for one transaction: committed at the end of the block, rolled back on an error."""
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None or self._local.pid != os.getpid():
            db = sqlite3.connect(self.path, timeout=self.BUSY_TIMEOUT_S)
            # Safe with WAL (a power cut may lose the last answers, never the file); commits need not wait for the disk.
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db, self._local.pid = db, os.getpid()
        with db:
            yield db

    def lookup(self, prompt: str, llm_string: str) -> RETURN_VAL_TYPE | None:
        with self._connect() as db:
            row = db.execute("SELECT generations FROM answers WHERE key = ?", (_key(prompt, llm_string),)).fetchone()
        if row is None:
            return None
        try:
            return [_load(item) for item in json.loads(row[0])]
        except (ValueError, TypeError, KeyError, AttributeError):
            return None  # an unreadable row is a miss; the fresh answer overwrites it

    def update(self, prompt: str, llm_string: str, return_val: RETURN_VAL_TYPE) -> None:
        generations: Sequence[Generation] = return_val
        payload = json.dumps([_dump(g) for g in generations])
        with self._connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO answers (key, generations) VALUES (?, ?)", (_key(prompt, llm_string), payload)
            )

    def clear(self, **_: object) -> None:
        with self._connect() as db:
            db.execute("DELETE FROM answers")
