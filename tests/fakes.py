"""A fake chat model that answers any asset schema with a minimal valid instance (unit tests only)."""

from __future__ import annotations

import json
import threading
from typing import Any, ClassVar

from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import BaseMessage
from pydantic import Field

OVERRIDES: dict[str, dict[str, Any]] = {"AscensionOffer": {"price": 59.0}, "EntryOffer": {"price": 9.0}}


def instance_for(schema: dict[str, Any]) -> dict[str, Any]:
    """The smallest plausible object that satisfies a pydantic JSON schema (no $refs in our assets)."""

    def value(spec: dict[str, Any], name: str) -> Any:
        if "const" in spec:
            return spec["const"]
        if "enum" in spec:
            return spec["enum"][0]
        kind = spec.get("type")
        if kind == "string":
            text = f"Harbor Lane Coffee {name.replace('_', ' ')}"
            return text[: spec.get("maxLength", 200)]
        if kind == "array":
            return [value(spec.get("items", {}), f"{name} {i}") for i in range(max(1, spec.get("minItems", 1)))]
        if kind == "integer":
            return spec.get("minimum", 1)
        if kind == "number":
            return float(spec.get("minimum", 0) or 1.0)
        return "x"

    data = {name: value(spec, name) for name, spec in schema["properties"].items()}
    return {**data, **OVERRIDES.get(schema.get("title", ""), {})}


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
