"""What a kit job is at the boundary (the HTTP API, a webhook's body): the request, its progress, its errors; and
who runs it (a :class:`Worker`, told alive or gone)."""

from __future__ import annotations

import os
import socket
import threading
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit
from uuid import uuid4

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator

from generator.assets import ASSET_TYPES
from generator.errors import CVJError
from generator.export import FORMATS, parse_formats
from generator.kit_models import KitTotals
from generator.kit_plan import KitItem, extra_types_in_kit, plan_kit
from generator.profile import BusinessProfile
from generator.server_lease import process_info, same_process
from generator.stages import STAGE_IDS, parse_stage_id

JobStatus = Literal["queued", "running", "done", "failed", "cancelled"]
AssetState = Literal["pending", "done", "failed", "cancelled"]
ENDED: frozenset[str] = frozenset({"done", "failed", "cancelled"})


class JobNotFoundError(CVJError):
    """No such job (or not one of this owner's: another owner's job is not said to exist)."""

    http_status = 404


class JobStateError(CVJError):
    """The job is not in a state that allows this (a download before it is done, cancelling a finished job)."""

    http_status = 409


class KitJobRequest(BaseModel):
    """A journey kit to draft in the background: one business and the kit's options."""

    model_config = ConfigDict(extra="forbid")

    profile: BusinessProfile
    stages: list[str] | None = Field(default=None, max_length=8, description="Stage ids (default: all eight)")
    add_types: list[Annotated[str, StringConstraints(max_length=64)]] | None = Field(
        default=None,
        max_length=len(ASSET_TYPES),
        description="More asset types to draft besides each stage's default (ids, e.g. welcome_sequence, "
        "sms_message; GET /v1/stages lists them); each must serve a stage in the kit",
    )
    variants: int = Field(default=1, ge=1, le=6, description="Variants per asset")
    candidates: int = Field(default=1, ge=1, le=8, description="Draft N per asset, keep the one the eval ranks best")
    min_score: float | None = Field(default=None, ge=0, le=1, description="Revise each asset until it scores this")
    formats: list[str] = Field(
        default_factory=lambda: list(FORMATS),
        description="Of md, json, docx, html (the default: those four) and ics, csv (the journey's schedule as a "
        "calendar and a scheduler's CSV; opt-in)",
    )
    start: date | None = Field(
        default=None, description="Day 0 of the journey in the ics and csv files (default: the day the kit is made)"
    )
    callback_url: str | None = Field(default=None, max_length=2000, description="POSTed the job when it ends")

    @field_validator("stages")
    @classmethod
    def _known_stages(cls, value: list[str] | None) -> list[str] | None:
        if not value:
            return None
        try:
            return list(dict.fromkeys(parse_stage_id(s) for s in value))
        except CVJError as exc:
            raise ValueError(exc.message) from None

    @field_validator("add_types")
    @classmethod
    def _known_types(cls, value: list[str] | None, info: ValidationInfo) -> list[str] | None:
        """Known type ids (as ``cvj kit --add-types`` takes them), each serving a stage the kit drafts."""
        if not value:
            return None
        try:
            wanted = extra_types_in_kit(value, info.data.get("stages") or list(STAGE_IDS))
        except CVJError as exc:
            raise ValueError(exc.message) from None
        return wanted

    @field_validator("formats")
    @classmethod
    def _known_formats(cls, value: list[str]) -> list[str]:
        try:
            return parse_formats(value)
        except CVJError as exc:
            raise ValueError(exc.message) from None

    @field_validator("callback_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError("callback_url must be an http:// or https:// URL with a host")
        return value.strip()

    def plan(self) -> list[KitItem]:
        """The assets this job drafts: each stage's default, the added types, per variant (``kit_plan``)."""
        return plan_kit(self.stages, self.variants, self.add_types)


class AssetProgress(BaseModel):
    """One planned asset of a job: pending until it finishes, then done (with the eval's verdict) or failed."""

    key: str
    stage: str
    asset_type: str
    state: AssetState = "pending"
    verdict: str | None = None
    score: float | None = None
    error: str | None = None
    cached: bool = Field(default=False, description="Reused from an earlier run of this job (a resumed job)")
    seconds: float = 0.0


class WebhookDelivery(BaseModel):
    """How the POST to the job's callback_url went."""

    url: str
    attempts: int = 0
    delivered: bool = False
    status_code: int | None = None
    error: str | None = None
    at: datetime | None = None


class KitJobInfo(BaseModel):
    """A kit job as the API shows it: its request, status, progress per asset and, once done, what it can download."""

    id: str
    owner: str = Field(description="The workspace it belongs to")
    status: JobStatus
    request: KitJobRequest
    progress: list[AssetProgress] = Field(default_factory=list)
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    cancel_requested: bool = False
    attempts: int = Field(default=0, description="Runs started: more than one after a restart re-queued it")
    error: str | None = None
    files: list[str] = Field(default_factory=list, description="Formats written, each at /v1/kits/{id}/download")
    totals: KitTotals | None = None
    webhook: WebhookDelivery | None = None

    @property
    def ended(self) -> bool:
        return self.status in ENDED


class KitJob(KitJobInfo):
    """A kit job as stored: also the folder it drafts into (on the server, so not shown to API clients)."""

    out_dir: Path

    def info(self) -> KitJobInfo:
        return KitJobInfo.model_validate(self.model_dump(exclude={"out_dir"}))


_LIVE: set[str] = set()  # runner ids started in this process and not yet stopped
_LIVE_LOCK = threading.Lock()


@dataclass(frozen=True)
class Worker:
    """Who runs a job: a runner (``id``) in a process (``host``, ``pid`` and that pid's start time)."""

    id: str
    host: str
    pid: int
    start: str | None = None

    @classmethod
    def here(cls) -> Worker:
        info = process_info(os.getpid())
        return cls(id=uuid4().hex, host=socket.gethostname(), pid=os.getpid(), start=info.start if info else None)

    def enlist(self) -> None:
        """This runner is live (a job it holds is not taken from it by a runner in the same process)."""
        with _LIVE_LOCK:
            _LIVE.add(self.id)

    def retire(self) -> None:
        with _LIVE_LOCK:
            _LIVE.discard(self.id)

    def alive(self) -> bool:
        """False once its process is gone (or, in this process, once the runner stopped). A worker on another host
        cannot be checked from here and counts as alive: its jobs are never taken from it."""
        if self.host != socket.gethostname():
            return True
        if self.pid == os.getpid():
            with _LIVE_LOCK:
                return self.id in _LIVE
        return same_process(self.pid, self.start)
