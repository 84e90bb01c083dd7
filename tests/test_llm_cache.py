"""The SQLite answer cache through LangChain's own cache path (fake model, real SQLite)."""

import sqlite3
import warnings
from pathlib import Path

from langchain_core.language_models.fake_chat_models import FakeListChatModel

from generator.llm_cache import SQLiteAnswerCache


def test_an_identical_prompt_is_answered_from_the_cache_across_instances(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    answers = ["first answer", "second answer"]
    first = FakeListChatModel(responses=answers, cache=SQLiteAnswerCache(path))
    assert first.invoke("Write a tagline").content == "first answer"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no deprecation or deserialization warnings on the way back
        again = FakeListChatModel(responses=answers, cache=SQLiteAnswerCache(path))
        again.i = 1  # uncached, this instance would answer "second answer"
        assert again.invoke("Write a tagline").content == "first answer"
    assert again.invoke("Another prompt").content == "second answer"


def test_an_unreadable_row_is_a_miss_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    cache = SQLiteAnswerCache(path)
    FakeListChatModel(responses=["kept"], cache=cache).invoke("p")
    with sqlite3.connect(path) as db:
        db.execute("UPDATE answers SET generations = '[\"{not json\"]'")
    assert FakeListChatModel(responses=["fresh"], cache=cache).invoke("p").content == "fresh"
    cache.clear()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT COUNT(*) FROM answers").fetchone() == (0,)
