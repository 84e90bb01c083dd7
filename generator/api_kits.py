"""The API's kit jobs: a whole journey kit drafted in the background (generator/jobs.py), per workspace.

``POST /v1/kits`` answers 202 at once with the job and its Location; the job is on disk before that answer, so a
server that restarts resumes it (finished assets are not drafted again). Poll ``GET /v1/kits/{id}`` or name a
``callback_url``; download each format when it is done; ``DELETE`` cancels it between assets."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.json_schema import SkipJsonSchema

from generator.api_auth import bearer
from generator.api_models import EXAMPLE_PROFILE, BusinessIdText, business_id_field, one_business
from generator.api_v1 import COMMON_ERRORS, NO_BUSINESS, Businesses, Workspace, errors_doc, required_profile
from generator.errors import CVJError
from generator.jobs import JobRunner
from generator.jobs_models import JobStatus, KitJobInfo, KitJobRequest
from generator.profile import BusinessProfile
from generator.webhooks import callback_refusal

router = APIRouter(prefix="/v1", dependencies=[Depends(bearer)], responses=COMMON_ERRORS, tags=["kits"])
NOT_FOUND = errors_doc(e404="No such kit job in this workspace (another key's jobs are never shown)")
MEDIA_TYPES = {
    "md": "text/markdown; charset=utf-8",
    "json": "application/json",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "html": "text/html; charset=utf-8",
    "ics": "text/calendar; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
}
JobId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="The job's id")]
KITS_EXAMPLES: dict[str, dict[str, Any]] = {
    "all": {"summary": "The whole journey, every format", "value": {"profile": EXAMPLE_PROFILE}},
    "some": {
        "summary": "Two stages, Markdown and Word, a webhook when done",
        "value": {"business_id": "b-0123456789ab", "stages": ["subscribe", "convert"], "formats": ["md", "docx"],
                  "callback_url": "https://hooks.example.com/cvj"},
    },
    "schedule": {
        "summary": "More asset types, and the journey's schedule as a calendar and a CSV from a start date",
        "value": {"business_id": "b-0123456789ab", "stages": ["subscribe", "convert"],
                  "add_types": ["welcome_sequence", "sms_message"], "formats": ["md", "ics", "csv"],
                  "start": "2025-01-06"},
    },
}  # fmt: skip


class CallbackRefusedError(CVJError):
    http_status = 422


class KitsBody(KitJobRequest):
    """A journey kit to draft in the background for a business (a `profile`, or a stored `business_id`)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [dict(example["value"]) for example in KITS_EXAMPLES.values()],
            "oneOf": [{"required": ["profile"]}, {"required": ["business_id"]}],
        },
    )

    profile: BusinessProfile | SkipJsonSchema[None] = None  # type: ignore[assignment]  # or business_id
    business_id: BusinessIdText | SkipJsonSchema[None] = business_id_field()

    @model_validator(mode="after")
    def _has_a_business(self) -> KitsBody:
        one_business(self.profile, self.business_id, required=True)
        return self


class KitJobsResponse(BaseModel):
    jobs: list[KitJobInfo] = Field(description="This workspace's kit jobs, newest first")


def runner(request: Request) -> JobRunner:
    jobs: JobRunner = request.app.state.jobs
    return jobs


Jobs = Annotated[JobRunner, Depends(runner)]


KIT_ERRORS = errors_doc(e422="Invalid request, or a callback_url the server will not call") | NO_BUSINESS


@router.post("/kits", status_code=202, response_model=KitJobInfo, responses=KIT_ERRORS)
def create_kit(
    body: Annotated[KitsBody, Body(openapi_examples=KITS_EXAMPLES)], ws: Workspace, store: Businesses, jobs: Jobs,
    response: Response,
) -> KitJobInfo:  # fmt: skip
    """Queue a journey kit (default: all eight stages, each stage's default asset, the four document formats;
    `add_types` drafts more types, `ics`/`csv` add the schedule). 202 with the job and a `Location` to poll."""
    if body.callback_url and (why := callback_refusal(body.callback_url, jobs.parts.settings.webhook_hosts)):
        problem = {"loc": ["body", "callback_url"], "msg": why, "type": "value_error"}
        raise CallbackRefusedError(f"Invalid request:\nbody.callback_url: {why}", details=[problem])
    profile = required_profile(ws, store, body.profile, body.business_id)
    request = KitJobRequest.model_validate({**body.model_dump(exclude={"profile", "business_id"}), "profile": profile})
    job = jobs.submit(request, owner=ws)
    response.headers["Location"] = f"/v1/kits/{job.id}"
    return job.info()


@router.get("/kits", response_model=KitJobsResponse)
def list_kits(
    ws: Workspace, jobs: Jobs,
    status: Annotated[Literal["queued", "running", "done", "failed", "cancelled"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> KitJobsResponse:  # fmt: skip
    """This workspace's kit jobs, newest first (optionally only those in one status)."""
    wanted: JobStatus | None = status
    return KitJobsResponse(jobs=[job.info() for job in jobs.store.list_jobs(ws, status=wanted, limit=limit)])


@router.get("/kits/{job_id}", response_model=KitJobInfo, responses=NOT_FOUND)
def get_kit(job_id: JobId, ws: Workspace, jobs: Jobs) -> KitJobInfo:
    """The job: its status, each planned asset's progress and verdict, and once done the formats to download."""
    return jobs.store.get(job_id, owner=ws).info()


@router.get(
    "/kits/{job_id}/download",
    response_class=FileResponse,
    responses=NOT_FOUND | errors_doc(e409="The job is not done (still running, failed or cancelled)")
    | {200: {"description": "The kit file", "content": {
        t.split(";")[0]: {"schema": {"type": "string", "format": "binary"}} for t in MEDIA_TYPES.values()}}},
)  # fmt: skip
def download_kit(
    job_id: JobId, ws: Workspace, jobs: Jobs,
    format: Annotated[Literal["md", "json", "docx", "html", "ics", "csv"], Query(description="Which file")] = "md",
) -> FileResponse:  # fmt: skip
    """One file of a done kit: Markdown, JSON, Word or a web page; the calendar (ics) or the sends (csv) when the job
    asked for them."""
    path = jobs.store.download(job_id, format, owner=ws)
    return FileResponse(path, media_type=MEDIA_TYPES[format], filename=f"kit-{job_id[:8]}.{format}")


@router.delete("/kits/{job_id}", status_code=202, response_model=KitJobInfo,
               responses=NOT_FOUND | errors_doc(e409="The job has already ended"))  # fmt: skip
def cancel_kit(job_id: JobId, ws: Workspace, jobs: Jobs) -> KitJobInfo:
    """Cancel the job: a queued one ends now; a running one starts no new asset (those in flight finish and are
    kept). 202 with the job as it stands."""
    return jobs.cancel(job_id, owner=ws).info()
