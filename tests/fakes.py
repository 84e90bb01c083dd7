"""A fake chat model that answers any asset schema with a minimal valid instance (unit tests only).

The instance builder lives in benchmarks/fake_openai_server.py, which must stay stdlib-only.
"""

from __future__ import annotations

import contextlib
import json
import threading
from typing import Any, ClassVar

from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import BaseMessage
from pydantic import Field

from benchmarks.fake_openai_server import instance_for
from generator.evaluation.scoring import Evaluator
from generator.runtime import Components
from generator.settings import Settings  # stdlib-only; the simulated server uses it too


class SchemaFake(FakeListChatModel):
    """Answers with a valid instance of whatever schema ``response_format`` asks for; counts calls."""

    responses: list[str] = Field(default_factory=lambda: ["{}"])
    fail_for: set[str] = Field(default_factory=set)
    calls: ClassVar[list[str]] = []
    prompts: ClassVar[dict[str, str]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def _call(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> str:
        schema = kwargs["response_format"]["schema"]
        title = str(schema.get("title", ""))
        with self._lock:
            SchemaFake.calls.append(title)
            SchemaFake.prompts[title] = str(messages[-1].content)
        if title in self.fail_for:
            return "not json"
        return json.dumps(instance_for(schema))

    @classmethod
    def reset(cls) -> None:
        cls.calls = []
        cls.prompts = {}


def fake_components(settings: Settings) -> Components:
    """The composition root with a fake model (SchemaFake, reset) and no index: front doors run in-process."""
    SchemaFake.reset()
    return Components(
        settings,
        model_factory=lambda _: contextlib.nullcontext(SchemaFake()),
        index_factory=lambda _: None,
        evaluator_factory=lambda s, judge: Evaluator(settings=s, judge=judge),
    )
