"""Prompt files: load and validate them, fill them, and fit context into a token budget.

A prompt file is Markdown with YAML front matter (``id``, ``version``, ``description``,
``variables``). The body uses ``{name}`` placeholders; every placeholder must be declared and
every declared variable must be given, or the error names the variable.
"""

from __future__ import annotations

import string
from functools import cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from generator.errors import PromptError
from generator.tokens import count_tokens, truncate_to_tokens

SYSTEM_PROMPT_ID = "system"


class PromptFile(BaseModel):
    """A validated prompt file."""

    model_config = ConfigDict(extra="forbid")

    id: str
    version: str = Field(description="Bumped on every wording change; part of cache keys and asset metadata")
    description: str
    stage: str | None = Field(default=None, description="The stage an asset prompt serves")
    variables: list[str] = Field(default_factory=list)
    template: str

    @model_validator(mode="after")
    def _placeholders_declared(self) -> PromptFile:
        used = placeholders(self.template)
        undeclared = used - set(self.variables)
        if undeclared:
            raise ValueError(f"placeholders not declared in `variables`: {', '.join(sorted(undeclared))}")
        unused = set(self.variables) - used
        if unused:
            raise ValueError(f"declared variables never used: {', '.join(sorted(unused))}")
        return self

    def fill(self, values: dict[str, str]) -> str:
        """The template with every variable filled; a missing one raises an error naming it."""
        missing = [v for v in self.variables if v not in values]
        if missing:
            raise PromptError(f"Prompt '{self.id}' needs variable(s): {', '.join(missing)}.")
        return self.template.format(**{v: values[v] for v in self.variables})


def placeholders(template: str) -> set[str]:
    """The ``{name}`` fields of a format string (``{{`` and ``}}`` are literal braces)."""
    return {field for _, field, _, _ in string.Formatter().parse(template) if field}


def parse_prompt_file(text: str, *, source: str) -> PromptFile:
    if not text.startswith("---"):
        raise PromptError(f"{source}: a prompt file starts with YAML front matter between '---' lines.")
    try:
        _, front, body = text.split("---", 2)
        meta = yaml.safe_load(front) or {}
        return PromptFile.model_validate({**meta, "template": body.strip() + "\n"})
    except (ValueError, yaml.YAMLError, ValidationError) as exc:
        raise PromptError(f"{source} is not a valid prompt file: {exc}") from None


@cache
def load_prompt(prompts_dir: Path, prompt_id: str) -> PromptFile:
    """The prompt file ``<prompts_dir>/<prompt_id>.md``."""
    path = prompts_dir / f"{prompt_id}.md"
    if not path.is_file():
        raise PromptError(f"Prompt file not found: {path}")
    prompt = parse_prompt_file(path.read_text(encoding="utf-8"), source=str(path))
    if prompt.id != prompt_id:
        raise PromptError(f"{path}: front matter id '{prompt.id}' must match the file name '{prompt_id}'.")
    return prompt


class ContextPiece(BaseModel):
    """One retrieved passage, labelled with where it came from."""

    text: str
    source: str
    stage: str = ""
    kind: str = "method"
    score: float = 0.0

    def render(self) -> str:
        return f"[{self.source}]\n{self.text.strip()}"


def fit_context(pieces: list[ContextPiece], budget_tokens: int) -> tuple[str, list[ContextPiece]]:
    """Join pieces, most relevant first, within a token budget; returns the text and what fit.

    A piece that would overflow is truncated if at least a useful part of it fits, else skipped.
    """
    used: list[ContextPiece] = []
    blocks: list[str] = []
    remaining = budget_tokens
    for piece in sorted(pieces, key=lambda p: p.score, reverse=True):
        block = piece.render()
        cost = count_tokens(block) + 2
        if cost <= remaining:
            blocks.append(block)
        elif remaining >= 60:
            blocks.append(truncate_to_tokens(block, remaining - 2))
            cost = remaining
        else:
            continue
        used.append(piece)
        remaining -= cost
    return "\n\n".join(blocks), used
