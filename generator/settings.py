"""Configuration: the only place that reads the environment (prefix ``CVJ_``)."""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_FOLDERS = ("knowledge", "prompts", "eval", "examples")


def default_root_dir() -> Path:
    """Where the editable data folders are: the source checkout, else an installed wheel's ``share/cvj-kit``
    (pyproject's data-files), so ``pip install`` gives a working app."""
    if (PROJECT_ROOT / "prompts").is_dir():
        return PROJECT_ROOT
    installed = Path(sys.prefix) / "share" / "cvj-kit"
    return installed if (installed / "prompts").is_dir() else PROJECT_ROOT


class Provider(StrEnum):
    """Where the chat model lives. All three speak the OpenAI API."""

    LOCAL = "local"
    OPENAI = "openai"
    OPENAI_COMPATIBLE = "openai-compatible"


class ResponseFormat(StrEnum):
    """How structured output is requested: ``auto`` picks by provider."""

    AUTO = "auto"
    JSON_SCHEMA = "json_schema"
    JSON_OBJECT = "json_object"


class EmbeddingsProvider(StrEnum):
    """Local ONNX MiniLM (offline, default) or the OpenAI embeddings API."""

    LOCAL = "local"
    OPENAI = "openai"


DEFAULT_MODELS: dict[Provider, str] = {
    Provider.LOCAL: "smollm2-135m-instruct",
    Provider.OPENAI: "gpt-4o-mini",
    Provider.OPENAI_COMPATIBLE: "llama3.1:8b",
}

# USD per million tokens (input, output); unknown models cost 0 (local models are free).
DEFAULT_PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-nano": (0.10, 0.40),
}


class Settings(BaseSettings):
    """Every knob of CVJ Kit; each field is ``CVJ_<NAME>`` in the environment or a ``.env`` file."""

    model_config = SettingsConfigDict(env_prefix="CVJ_", env_file=".env", extra="ignore", validate_by_name=True)

    provider: Provider | None = Field(
        default=None, description="local | openai | openai-compatible (default: openai if a key is set)"
    )
    model: str | None = Field(default=None, description="Chat model name (default depends on provider)")
    base_url: str | None = Field(default=None, description="Base URL of an OpenAI-compatible server")
    api_key: SecretStr | None = Field(default=None, validation_alias=AliasChoices("CVJ_API_KEY", "OPENAI_API_KEY"))
    response_format: ResponseFormat = Field(
        default=ResponseFormat.AUTO, description="auto | json_schema | json_object (+schema, llama.cpp grammar)"
    )
    temperature: float = Field(default=0.7, ge=0, le=2)
    max_output_tokens: int = Field(default=900, gt=0, description="Generation limit per call")
    timeout_s: float = Field(default=180.0, gt=0, description="Per-request timeout")
    max_retries: int = Field(default=2, ge=0, description="HTTP retries (429/5xx/timeouts) per call")
    repair_attempts: int = Field(default=2, ge=0, description="Re-asks after invalid output")
    asset_deadline_s: float = Field(
        default=600.0, gt=0, description="A kit asset not finished in this many seconds (all its calls) is failed"
    )
    context_tokens: int = Field(default=120, gt=0, description="Token budget for retrieved context")
    worked_examples: Literal["auto", "on", "off"] = Field(
        default="auto",
        description="A worked example per asset type in the prompt; auto: on, except with the bundled 135M model, "
        "which copies the example's business instead of learning its shape",
    )
    copy_figures: Literal["auto", "on", "off"] = Field(
        default="auto",
        description="Digits and currency signs in copy a grammar-bound model writes; auto: off with the bundled "
        "135M model, whose every figure was invented (the profile's prices and names still come in as data)",
    )
    retrieval_k: int = Field(default=6, gt=0)

    # Embedded local server (llama.cpp, OpenAI-compatible).
    local_gguf: Path | None = Field(default=None, description="GGUF file (default: bundled SmolLM2-135M)")
    local_n_ctx: int = Field(default=8192, ge=1024)
    local_threads: int = Field(default_factory=lambda: max(1, os.cpu_count() or 1))
    local_port: int = Field(default=0, ge=0, le=65535, description="0 picks a free port")
    local_repeat_penalty: float = Field(default=1.15, ge=1.0)
    local_start_timeout_s: float = Field(default=60.0, gt=0)

    llm_cache: bool = Field(default=True, description="Cache model answers in <data_dir>/llm-cache.sqlite")
    judge_model: str | None = Field(default=None, description="Model for the eval's LLM judge (default: CVJ_MODEL)")

    embeddings: EmbeddingsProvider = EmbeddingsProvider.LOCAL
    embedding_model: str = "text-embedding-3-small"
    chroma_url: str | None = Field(default=None, description="Chroma server URL; unset = local files")

    data_dir: Path = Field(default=Path(".cvj"), description="Index, server state, outputs")
    cache_dir: Path = Field(
        default=Path.home() / ".cache" / "cvj-kit", description="Content-addressed caches shared by data dirs"
    )
    root_dir: Path = Field(
        default_factory=default_root_dir,
        description="Holds knowledge/, prompts/, eval/ and examples/; each can be moved on its own too",
    )
    knowledge_dir: Path = Field(description="Default: <root_dir>/knowledge")
    prompts_dir: Path = Field(description="Default: <root_dir>/prompts")
    eval_dir: Path = Field(description="Default: <root_dir>/eval")
    examples_dir: Path = Field(description="Default: <root_dir>/examples")

    prices: dict[str, tuple[float, float]] = Field(default_factory=lambda: dict(DEFAULT_PRICES))

    # The HTTP API (`cvj serve`).
    api_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated keys the HTTP API accepts as 'Authorization: Bearer <key>'; none: the API is open",
    )
    api_keys_file: Path | None = Field(
        default=None, description="A file of API keys, one per line ('workspace:key' or 'key'; '#' comments)"
    )
    api_docs_public: bool = Field(default=True, description="/docs and /openapi.json answer without a key")
    api_rate_limit: int = Field(
        default=300, ge=0, description="Requests per minute per key (a burst of as many is allowed); 0 = no limit"
    )
    api_model_slots: int = Field(
        default=4, ge=1, description="Requests doing model work at once; the rest wait their turn (api_queue_timeout_s)"
    )
    api_queue_timeout_s: float = Field(
        default=60.0, gt=0, description="How long a request waits for a model slot before a 429 with Retry-After"
    )
    api_cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Comma-separated origins browsers may call the API from ('*' = any)"
    )
    api_kit_workers: int = Field(default=1, ge=1, le=16, description="Kit jobs drafted at once by `cvj serve`")
    webhook_secret: SecretStr | None = Field(
        default=None, description="Signs kit-job webhooks: X-CVJ-Signature: sha256=<HMAC-SHA256 of the body>"
    )
    webhook_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated hosts a kit job's callback_url may name; none = any public host (private, "
        "loopback and link-local addresses are refused unless listed)",
    )

    @field_validator("api_cors_origins", "webhook_hosts", mode="before")
    @classmethod
    def _split_commas(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        return value

    @field_validator("api_keys", mode="before")
    @classmethod
    def _split_api_keys(cls, value: Any) -> Any:
        """``CVJ_API_KEYS=key1,key2``: one key per comma; spaces around a key and empty entries dropped."""
        if isinstance(value, str):
            value = value.split(",")
        if isinstance(value, list | tuple):
            plain = [v.get_secret_value() if isinstance(v, SecretStr) else v for v in value]
            return [v.strip() if isinstance(v, str) else v for v in plain if not isinstance(v, str) or v.strip()]
        return value

    @model_validator(mode="before")
    @classmethod
    def _data_folders_under_root(cls, data: Any) -> Any:
        """Data folders not set on their own live under ``root_dir``."""
        if not isinstance(data, dict):
            return data
        root = Path(data.get("root_dir") or default_root_dir())
        unset = {f"{folder}_dir": root / folder for folder in DATA_FOLDERS if not data.get(f"{folder}_dir")}
        return {**data, **unset}

    @model_validator(mode="after")
    def _pick_defaults(self) -> Settings:
        if self.provider is None:
            self.provider = Provider.OPENAI if self.api_key else Provider.LOCAL
        if self.model is None:
            self.model = DEFAULT_MODELS[self.provider]
        if self.provider is Provider.OPENAI_COMPATIBLE and not self.base_url:
            raise ValueError("CVJ_BASE_URL is required when CVJ_PROVIDER=openai-compatible")
        return self

    @property
    def resolved_provider(self) -> Provider:
        assert self.provider is not None  # set by the validator
        return self.provider

    @property
    def resolved_model(self) -> str:
        assert self.model is not None  # set by the validator
        return self.model

    @property
    def use_worked_examples(self) -> bool:
        return self._on_unless_bundled(self.worked_examples)

    @property
    def allow_copy_figures(self) -> bool:
        return self._on_unless_bundled(self.copy_figures)

    def _on_unless_bundled(self, choice: Literal["auto", "on", "off"]) -> bool:
        """An on/off/auto setting; auto is on except with the bundled 135M model."""
        return choice == "on" if choice != "auto" else not self.uses_bundled_model

    @property
    def uses_bundled_model(self) -> bool:
        """The embedded server on the bundled SmolLM2-135M: too small to be trusted with examples or figures."""
        return self.resolved_provider is Provider.LOCAL and self.local_gguf is None

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment, with explicit overrides winning."""
    return Settings(**overrides)  # type: ignore[arg-type]
