"""The model-answer cache: LangChain's ``BaseCache`` over one SQLite file in the data dir.

Keyed by the whole prompt and the model's parameters (so a new prompt version misses). It replaces
langchain-community's SQLiteCache, which is being sunset. Answers are stored as plain message dicts
(LangChain's stable ``message_to_dict``), never as serialized objects: the file is data, not code.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from langchain_core.caches import RETURN_VAL_TYPE, BaseCache
from langchain_core.messages import message_to_dict, messages_from_dict
from langchain_core.outputs import ChatGeneration, Generation

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


def _key(prompt: str, llm_string: str) -> str:
    return hashlib.sha256(f"{llm_string}\0{prompt}".encode()).hexdigest()


class SQLiteAnswerCache(BaseCache):
    """Thread- and process-safe: a short connection per call, WAL journal, writes replace."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

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
