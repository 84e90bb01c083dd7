"""Structured generation: ask a chat model for JSON in a pydantic model's shape, parse it, check it, re-ask.

Generic over the model class, so drafts, revisions and the judge share one loop without knowing each
other's fields. The provider is asked for JSON in the schema's shape (a grammar on local servers, a JSON
schema on OpenAI); an answer that does not parse, validate or pass the caller's checks is re-asked with the
problems listed, a bounded number of times. The failure is typed (:class:`GenerationError`) and keeps the
last answer, so nothing the model wrote is lost.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, overload

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage
from langchain_core.messages.ai import UsageMetadata
from openai import LengthFinishReasonError
from pydantic import BaseModel, ValidationError

from generator.drafts import Usage
from generator.errors import GenerationError
from generator.llm import response_format
from generator.settings import Settings
from generator.tokens import count_tokens, truncate_to_tokens

T = TypeVar("T", bound=BaseModel)
R = TypeVar("R")
TextCallback = Callable[[str], None]
# How much of a rejected answer is shown back to the model with its problems (enough to fix, not to repeat).
REJECTED_ANSWER_TOKENS = 400
_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$", re.MULTILINE)


class InvalidOutput(ValueError):
    """The model's answer is not valid; ``problems`` are fed back to it."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass
class Generated(Generic[R]):
    """What a generation returns: the value, the tokens it took, and what the re-asks could not fix."""

    value: R
    usage: Usage
    attempts: int
    problems: list[str] = field(default_factory=list)


def parse_json_object(text: str, schema: type[T]) -> T:
    """A completion parsed into ``schema``: code fences and chatter around the JSON object are ignored."""
    cleaned = _FENCE.sub("", text.strip())
    start, end = cleaned.find("{"), cleaned.rfind("}")
    if start < 0 or end <= start:
        raise InvalidOutput(["the answer contains no JSON object"])
    try:
        data = json.loads(cleaned[start : end + 1], strict=False)  # raw newlines in strings are fine
    except json.JSONDecodeError as exc:
        raise InvalidOutput([f"the JSON is malformed ({exc.msg} at character {exc.pos})"]) from None
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        problems = [f"field '{'.'.join(map(str, e['loc'])) or '(root)'}': {e['msg']}" for e in exc.errors()]
        raise InvalidOutput(problems[:8]) from None


def estimated_usage(messages: list[BaseMessage], reply: str) -> UsageMetadata:
    """Token counts by tiktoken, for replies whose server reported none."""
    sent = sum(count_tokens(str(m.content)) for m in messages)
    received = count_tokens(reply)
    return UsageMetadata(input_tokens=sent, output_tokens=received, total_tokens=sent + received)


def invoke(
    model: BaseChatModel, messages: list[BaseMessage], fmt: dict[str, Any], on_text: TextCallback | None = None
) -> AIMessage:
    """One model call; streamed to ``on_text`` chunk by chunk when a callback is given."""
    bound = model.bind(response_format=fmt)
    if on_text is None:
        reply = bound.invoke(messages)
        return reply if isinstance(reply, AIMessage) else AIMessage(content=str(reply.content))
    total: AIMessageChunk | None = None
    for chunk in bound.stream(messages):
        if chunk.content:
            on_text(str(chunk.content))
        if isinstance(chunk, AIMessageChunk):
            total = chunk if total is None else total + chunk
    content = str(total.content) if total else ""
    usage = total.usage_metadata if total else None
    if not usage or not usage.get("output_tokens"):
        usage = estimated_usage(messages, content)  # servers that stream no usage (llama.cpp) still get counted
    return AIMessage(content=content, usage_metadata=usage)


def _cut_off(exc: LengthFinishReasonError) -> AIMessage:
    """The part of an answer the provider cut off at the output token limit, marked as cut off."""
    choice = exc.completion.choices[0] if exc.completion.choices else None
    content = (choice.message.content if choice else None) or ""
    usage = exc.completion.usage
    counted = (
        UsageMetadata(input_tokens=usage.prompt_tokens, output_tokens=usage.completion_tokens,
                      total_tokens=usage.total_tokens)
        if usage else None
    )  # fmt: skip
    return AIMessage(content=content, usage_metadata=counted, response_metadata={"finish_reason": "length"})


def describe(schema: type[BaseModel]) -> str:
    """How an error names what was asked for: an asset's label, or any other schema's name (the judge's Verdict)."""
    label = getattr(schema, "label", None)
    return label.lower() if isinstance(label, str) else f"{schema.__name__} answer"


def _finished(parsed: T, finish: Callable[[T], Any] | None) -> Any:
    if finish is None:
        return parsed
    try:
        return finish(parsed)
    except ValidationError as exc:  # e.g. a post that no longer fits its channel once its facts are added
        raise InvalidOutput([e["msg"].removeprefix("Value error, ") for e in exc.errors()][:4]) from None


@overload
def generate(
    schema: type[T],
    messages: list[BaseMessage],
    *,
    model: BaseChatModel,
    settings: Settings,
    finish: None = None,
    check: Callable[[T], list[str]] | None = None,
    on_text: TextCallback | None = None,
) -> Generated[T]: ...


@overload
def generate(
    schema: type[T],
    messages: list[BaseMessage],
    *,
    model: BaseChatModel,
    settings: Settings,
    finish: Callable[[T], R],
    check: Callable[[R], list[str]] | None = None,
    on_text: TextCallback | None = None,
) -> Generated[R]: ...


def generate(
    schema: type[T],
    messages: list[BaseMessage],
    *,
    model: BaseChatModel,
    settings: Settings,
    finish: Callable[[T], Any] | None = None,
    check: Callable[[Any], list[str]] | None = None,
    on_text: TextCallback | None = None,
) -> Generated[Any]:
    """Ask, parse, finish and check; re-ask with the problems listed until clean or out of attempts.

    ``finish`` turns what the model filled into the final value (a draft's facts added from the profile); a
    ``ValidationError`` there is fed back like any other problem. ``check`` lists what is still wrong with the
    final value (brand rules, invented facts). When the re-asks run out, the value with the fewest problems is
    returned with them listed, since nothing the model wrote is lost; only an answer that never had the right
    shape raises :class:`GenerationError`.
    """
    fmt = response_format(settings, schema)
    attempts = settings.repair_attempts + 1
    usage = Usage()
    conversation = list(messages)
    last_text = ""
    problems: list[str] = []
    kept: tuple[Any, list[str]] | None = None
    for attempt in range(1, attempts + 1):
        if on_text and attempt > 1:
            on_text(f"\n\n[attempt {attempt}: fixing {'; '.join(problems)}]\n")
        try:
            reply = invoke(model, conversation, fmt, on_text)
        except LengthFinishReasonError as exc:  # the provider cut the answer at the output limit: ask for less
            reply = _cut_off(exc)
        usage.add(dict(reply.usage_metadata) if reply.usage_metadata else None)
        last_text = str(reply.content)
        try:
            if reply.response_metadata.get("finish_reason") == "length":
                raise InvalidOutput(["the answer was cut off at the length limit; write every field shorter"])
            value = _finished(parse_json_object(last_text, schema), finish)
            problems = check(value) if check else []
            if not problems:
                return Generated(value=value, usage=usage, attempts=attempt)
            if kept is None or len(problems) <= len(kept[1]):
                kept = (value, problems)
        except InvalidOutput as exc:
            problems = exc.problems
        conversation = [
            *messages,
            AIMessage(truncate_to_tokens(last_text, REJECTED_ANSWER_TOKENS)),
            HumanMessage(
                "That answer cannot be used because "
                + "; ".join(problems)
                + ". Write the whole JSON object again, fixing these problems."
            ),
        ]
    if kept is not None:
        return Generated(value=kept[0], usage=usage, attempts=attempts, problems=kept[1])
    raise GenerationError(
        f"The model did not produce a valid {describe(schema)} after {attempts} attempts: {'; '.join(problems)}.",
        last_completion=last_text,
        problems=problems,
        attempts=attempts,
    )
