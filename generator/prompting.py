"""Prompt files: load and validate them, fill them, and fit context into a token budget.

A prompt file is Markdown with YAML front matter (``id``, ``version``, ``description``,
``variables``). The body uses ``{name}`` placeholders; every placeholder must be declared and
every declared variable must be given, or the error names the variable.
"""

from __future__ import annotations

import json
import string
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from generator.drafts import Draft, DraftRequest
from generator.errors import PromptError
from generator.facts import business_facts
from generator.fencing import as_data, fenced
from generator.language import DEFAULT_LANGUAGE, language_name
from generator.profile import BusinessProfile
from generator.stages import get_stage
from generator.tokens import count_tokens, truncate_to_tokens

SYSTEM_PROMPT_ID = "system"
BUSINESS_PROMPT_ID = "business"
VOICE_PROMPT_ID = "voice"
LANGUAGE_PROMPT_ID = "language"
FRAME_PROMPT_ID = "asset_frame"
EXAMPLES_FILE = "examples.yaml"
EARLIER_TOKENS = 60


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


@cache
def instruction_texts(prompts_dir: Path) -> tuple[str, ...]:
    """Every prompt's instructions as literal pieces (split at its ``{variables}``): what a draft must never echo."""
    pieces: list[str] = []
    for path in sorted(prompts_dir.glob("*.md")):
        template = load_prompt(prompts_dir, path.stem).template
        pieces += [literal for literal, _, _, _ in string.Formatter().parse(template) if literal.strip()]
    return tuple(pieces)


class WorkedExample(BaseModel):
    """One asset written for another business: its copy fields, and the offer it presents (if any)."""

    model_config = ConfigDict(extra="forbid")
    offer: str | None = None
    asset: dict[str, Any]


class ExampleBusiness(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    facts: str
    examples: dict[str, WorkedExample]


class ExampleBook(BaseModel):
    """prompts/examples.yaml: worked examples for businesses unlike the user's (a small model imitates them)."""

    model_config = ConfigDict(extra="forbid")
    businesses: dict[str, ExampleBusiness] = Field(min_length=1)


def example_businesses(prompts_dir: Path) -> dict[str, str]:
    """Name -> facts of the worked examples' businesses: what a draft must not be about."""
    return {b.name: b.facts for b in load_examples(prompts_dir).businesses.values()}


@cache
def load_examples(prompts_dir: Path) -> ExampleBook:
    path = prompts_dir / EXAMPLES_FILE
    try:
        return ExampleBook.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise PromptError(f"{path} is missing: the worked examples live there.") from None
    except (yaml.YAMLError, ValidationError) as exc:
        raise PromptError(f"{path} is not a valid examples file: {exc}") from None


def pick_example(book: ExampleBook, asset_type: str, words: set[str]) -> tuple[ExampleBusiness, WorkedExample] | None:
    """The example of this asset type from the business least like the user's (fewest shared words)."""
    choices = [b for b in book.businesses.values() if asset_type in b.examples]
    if not choices:
        return None
    unlike = min(choices, key=lambda b: len(words & set(b.facts.lower().split())))
    return unlike, unlike.examples[asset_type]


class ContextPiece(BaseModel):
    """One retrieved passage, labelled with where it came from."""

    text: str
    source: str
    stage: str = ""
    kind: str = "method"
    score: float = 0.0

    def render(self) -> str:
        """The passage alone: a source label (a file name) would be copied into drafts by a small model."""
        return f"- {' '.join(self.text.split())}"


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


# -- assembling the messages for one asset ------------------------------------------------------------------------
# Order matters for speed: the system prompt (the same for every draft) and the business's facts (the same for
# every draft of a kit) come first, so a local server reuses their prefill; what is this asset's own comes last.


def system_message(prompts_dir: Path) -> SystemMessage:
    return SystemMessage(load_prompt(prompts_dir, SYSTEM_PROMPT_ID).fill({}))


def business_block(prompts_dir: Path, profile: BusinessProfile) -> str:
    """The business's fact sheet, fenced as data: the long prefix a kit's drafts share."""
    voice = voice_block(prompts_dir, profile) + language_block(prompts_dir, profile)
    return load_prompt(prompts_dir, BUSINESS_PROMPT_ID).fill(
        {"facts": fenced("business_facts", business_facts(profile)), "voice": voice}
    )


def language_block(prompts_dir: Path, profile: BusinessProfile) -> str:
    """The language to write in, or nothing for English (the default): an English profile's prompt is unchanged."""
    if profile.language == DEFAULT_LANGUAGE:
        return ""
    return (
        "\n\n"
        + load_prompt(prompts_dir, LANGUAGE_PROMPT_ID).fill({"language": language_name(profile.language)}).strip()
    )


def voice_block(prompts_dir: Path, profile: BusinessProfile) -> str:
    """The learned voice (its description and exemplars, fenced as data), or nothing: a profile without a voice
    gets the same prompt as before voices existed."""
    if profile.voice is None:
        return ""
    passages = "\n---\n".join(" ".join(e.split()) for e in profile.voice.exemplars)
    voice = fenced("voice_samples", f"Voice: {profile.voice.description}\n---\n{passages}")
    return "\n\n" + load_prompt(prompts_dir, VOICE_PROMPT_ID).fill({"voice": voice}).strip()


def field_guide(schema: type[BaseModel]) -> str:
    """The fields to fill, one line each with its limit and purpose (the schema itself goes in response_format);
    a list of typed parts (the emails of a sequence) has its parts' fields indented under it."""
    spec = schema.model_json_schema()
    return "\n".join(_field_lines(spec["properties"], spec.get("$defs", {}), ""))


def _field_lines(properties: dict[str, Any], defs: dict[str, Any], indent: str) -> list[str]:
    lines = []
    for name, spec in properties.items():
        kind = spec.get("type", "text")
        part = defs.get(str(spec.get("items", {}).get("$ref", "")).rsplit("/", 1)[-1]) if kind == "array" else None
        if part is not None:
            low, high = spec.get("minItems", 1), spec.get("maxItems", 5)
            kind = f"list of {low} to {high}, each with"
        elif kind == "array":
            limit = spec.get("items", {}).get("maxLength")
            kind = f"list of up to {spec.get('maxItems', 5)}" + (f", each max {limit} chars" if limit else "")
        elif kind == "string":
            kind = (
                f"max {spec.get('maxLength', 500)} chars"
                if "maxLength" in spec
                else "one of: " + ", ".join(spec.get("enum", []))
            )
        elif kind in ("integer", "number"):
            kind = "a number"
        desc = spec.get("description")
        lines.append(f'{indent}- "{name}" ({kind})' + (f": {desc}" if desc else ""))
        if part is not None:
            lines += _field_lines(part.get("properties", {}), defs, indent + "  ")
    return lines


def example_block(prompts_dir: Path, asset_type: str, profile: BusinessProfile) -> str:
    """One worked example of this asset type, written for a business unlike this one."""
    picked = pick_example(load_examples(prompts_dir), asset_type, set(business_facts(profile).lower().split()))
    if picked is None:
        return ""
    business, example = picked
    offer = f"The offer it presents: {example.offer}\n" if example.offer else ""
    return (
        "First, a worked example for a different business, to show the shape and the tone only:\n"
        f"{fenced('example_business', business.facts)}\n{offer}"
        f"Its answer:\n{json.dumps(example.asset, ensure_ascii=False)}\n\nNow the real one (nothing from the example)."
    )


def earlier_summary(earlier: dict[str, Draft] | None, *, tokens_each: int = EARLIER_TOKENS) -> str:
    """Earlier assets this one builds on, each cut short: enough to stay consistent, little to prefill."""
    if not earlier:
        return fenced("earlier_assets", "(none)")
    lines = (f"- {' '.join(truncate_to_tokens(d.as_text(), tokens_each).split())}" for d in earlier.values())
    return fenced("earlier_assets", "\n".join(lines))


def asset_messages(
    prompts_dir: Path,
    profile: BusinessProfile,
    request: DraftRequest,
    *,
    notes: str,
    schema: type[BaseModel],
    offer: str | None,
    earlier: dict[str, Draft] | None = None,
    worked_example: bool = True,
) -> tuple[list[BaseMessage], PromptFile]:
    """System prompt, then one user message: the business's facts (shared), then this asset's own part."""
    stage = get_stage(request.stage)
    prompt = load_prompt(prompts_dir, request.asset_class.asset_type)
    frame = load_prompt(prompts_dir, FRAME_PROMPT_ID)
    channel = request.resolved_channel(profile.channels) or "any channel"
    name = as_data(profile.name)  # the one profile field outside the fence: short, and stripped of tags
    own = frame.fill(
        {
            "business_name": name,
            "task": prompt.fill({"business_name": name, "channel": channel}).strip(),
            "reader": stage.prospect_state,
            "next_step": stage.next_step,
            "offer": f"The offer (fixed, use it exactly): {offer}\n" if offer else "",
            "notes": fenced("reference_notes", notes or "(none)"),
            "earlier_assets": earlier_summary(earlier),
            "instructions": request.instructions or "(none)",
            "example": example_block(prompts_dir, request.asset_class.asset_type, profile) if worked_example else "",
            "fields": field_guide(schema),
        }
    )
    user = f"{business_block(prompts_dir, profile)}\n{own}"
    return [system_message(prompts_dir), HumanMessage(user)], prompt
