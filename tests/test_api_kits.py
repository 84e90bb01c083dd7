"""Kit jobs over HTTP (in-process, the fake model): 202 + Location, progress, downloads, cancel, per-workspace
jobs, and a server restart that resumes a job without drafting a finished asset again."""

from __future__ import annotations

import csv
import io
import threading
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar

from generator.profile import BusinessProfile
from generator.settings import Settings
from tests.fakes import SchemaFake
from tests.test_api_v1 import refused
from tests.test_api_workspaces import KEYS, A, B, BlockingModel, open_app


def until(check: Callable[[], Any], *, timeout_s: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while not (found := check()):
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)
    return found


def job(client: TestClient, job_id: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    response = client.get(f"/v1/kits/{job_id}", headers=headers or {})
    assert response.status_code == 200, response.text
    payload: dict[str, Any] = response.json()
    return payload


def ended(client: TestClient, job_id: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    return dict(until(lambda: (j := job(client, job_id, headers))["status"] in {"done", "failed", "cancelled"} and j))


@pytest.fixture
def kit_body(coffee: BusinessProfile) -> dict[str, Any]:
    return {"profile": coffee.model_dump(mode="json"), "stages": ["aware", "subscribe"], "formats": ["md", "json"]}


def test_a_kit_job_runs_in_the_background_and_downloads(tmp_path: Path, kit_body: dict[str, Any]) -> None:
    SchemaFake.reset()
    with open_app(Settings(data_dir=tmp_path / "d"), index=False) as client:
        accepted = client.post("/v1/kits", json=kit_body)
        assert accepted.status_code == 202, accepted.text
        job_id = accepted.json()["id"]
        assert accepted.headers["Location"] == f"/v1/kits/{job_id}" and accepted.json()["status"] == "queued"
        assert "out_dir" not in accepted.json()  # no server paths
        done = ended(client, job_id)
        assert done["status"] == "done" and done["files"] == ["md", "json"]
        assert [(a["stage"], a["state"]) for a in done["progress"]] == [("aware", "done"), ("subscribe", "done")]
        assert all(a["verdict"] and a["score"] is not None for a in done["progress"])
        markdown = client.get(f"/v1/kits/{job_id}/download", params={"format": "md"})
        assert markdown.status_code == 200 and markdown.headers["content-type"].startswith("text/markdown")
        assert "Harbor Lane Coffee" in markdown.text
        assert f'filename="kit-{job_id[:8]}.md"' in markdown.headers["content-disposition"]
        assert client.get(f"/v1/kits/{job_id}/download", params={"format": "json"}).json()["business"]
        refused(client.get(f"/v1/kits/{job_id}/download", params={"format": "docx"}), 404, "no kit.docx")
        refused(client.get(f"/v1/kits/{job_id}/download", params={"format": "pdf"}), 422, "query.format")
        refused(client.delete(f"/v1/kits/{job_id}"), 409, "already ended")
        assert [j["id"] for j in client.get("/v1/kits").json()["jobs"]] == [job_id]
        refused(client.get("/v1/kits/" + "0" * 32), 404, "No kit job")
        refused(client.get("/v1/kits/nope"), 422, "path.job_id")
        refused(client.post("/v1/kits", json={**kit_body, "stages": ["nirvana"]}), 422, "body.stages")
        refused(client.post("/v1/kits", json={"stages": ["aware"]}), 422, "send the business")


def test_another_key_cannot_see_download_or_cancel_a_job(tmp_path: Path, kit_body: dict[str, Any]) -> None:
    settings = Settings(data_dir=tmp_path / "d", api_keys=KEYS)
    with open_app(settings, index=False) as client:
        job_id = client.post("/v1/kits", json=kit_body, headers=A).json()["id"]
        ended(client, job_id, A)
        refused(client.get(f"/v1/kits/{job_id}", headers=B), 404, "No kit job")
        refused(client.get(f"/v1/kits/{job_id}/download", headers=B), 404, "No kit job")
        refused(client.delete(f"/v1/kits/{job_id}", headers=B), 404, "No kit job")
        assert client.get("/v1/kits", headers=B).json()["jobs"] == []
        refused(client.get(f"/v1/kits/{job_id}"), 401)


def test_a_queued_job_is_cancelled_at_once_and_a_running_one_between_assets(
    tmp_path: Path, kit_body: dict[str, Any]
) -> None:
    gate = threading.Event()
    whole = {**kit_body, "stages": None}  # eight assets: more than a kit drafts at once
    with open_app(Settings(data_dir=tmp_path / "d"), model=BlockingModel(gate=gate), index=False) as client:
        running = client.post("/v1/kits", json=whole).json()["id"]
        queued = client.post("/v1/kits", json=kit_body).json()["id"]
        until(lambda: job(client, running)["status"] == "running")
        assert client.delete(f"/v1/kits/{queued}").json()["status"] == "cancelled"
        cancelling = client.delete(f"/v1/kits/{running}")
        assert cancelling.status_code == 202 and cancelling.json()["cancel_requested"] is True
        gate.set()
        stopped = ended(client, running)
        assert stopped["status"] == "cancelled"
        states = [a["state"] for a in stopped["progress"]]
        assert "done" in states and "cancelled" in states  # those in flight were kept; no new one started
        refused(client.get(f"/v1/kits/{running}/download"), 409, "cancelled")


class FirstPasses(BlockingModel):
    """The first call answers at once; later ones wait for the gate."""

    answered: int = 0

    def _call(self, *args: Any, **kwargs: Any) -> str:
        self.answered += 1
        if self.answered == 1:
            return SchemaFake._call(self, *args, **kwargs)
        return super()._call(*args, **kwargs)


def test_a_restarted_server_resumes_a_job_without_drafting_twice(tmp_path: Path, kit_body: dict[str, Any]) -> None:
    settings = Settings(data_dir=tmp_path / "d")
    body = {**kit_body, "stages": None}  # eight assets: more than a kit drafts at once
    gate = threading.Event()
    with open_app(settings, model=FirstPasses(gate=gate), index=False) as first:
        job_id = first.post("/v1/kits", json=body).json()["id"]
        until(lambda: job(first, job_id)["progress"][0]["state"] == "done")
        threading.Timer(0.5, gate.set).start()  # the asset in flight finishes while the server stops
    SchemaFake.reset()
    with open_app(settings, index=False) as second:  # the same data dir: the job is still there
        resumed = ended(second, job_id)
    assert resumed["status"] == "done" and resumed["attempts"] == 2
    reused = [a["cached"] for a in resumed["progress"]]
    assert any(reused) and not all(reused), reused
    assert len(SchemaFake.calls) == reused.count(False)  # only the assets not started were drafted after the restart


def test_a_kit_job_drafts_the_added_types_and_downloads_the_schedule(tmp_path: Path, kit_body: dict[str, Any]) -> None:
    body = {**kit_body, "stages": ["subscribe"], "add_types": ["welcome-sequence"], "formats": ["md", "ics", "csv"],
            "start": "2025-01-06"}  # fmt: skip
    SchemaFake.reset()
    with open_app(Settings(data_dir=tmp_path / "d"), index=False) as client:
        accepted = client.post("/v1/kits", json=body)
        assert accepted.status_code == 202, accepted.text
        assert accepted.json()["request"]["add_types"] == ["welcome_sequence"]  # as cvj kit --add-types reads it
        assert accepted.json()["request"]["start"] == "2025-01-06"
        job_id = accepted.json()["id"]
        done = ended(client, job_id)
        assert done["status"] == "done" and done["files"] == ["md", "ics", "csv"], done
        drafted = {a["key"]: a["state"] for a in done["progress"]}
        assert drafted == {"subscribe.lead_magnet": "done", "subscribe.welcome_sequence": "done"}
        assert "WelcomeSequence" in SchemaFake.calls
        markdown = client.get(f"/v1/kits/{job_id}/download", params={"format": "md"}).text
        assert "### Welcome sequence delivering the free gift" in markdown and "#### Email 1 · day 0" in markdown
        ics = client.get(f"/v1/kits/{job_id}/download", params={"format": "ics"})
        assert ics.status_code == 200 and ics.headers["content-type"].startswith("text/calendar")
        assert f'filename="kit-{job_id[:8]}.ics"' in ics.headers["content-disposition"]
        events = list(Calendar.from_ical(ics.text).walk("VEVENT"))
        days = [event.decoded("DTSTART") for event in events]
        assert len(events) >= 4 and min(days) == date(2025, 1, 13)  # subscribe is day 7 of a journey from the start
        sends = client.get(f"/v1/kits/{job_id}/download", params={"format": "csv"})
        assert sends.status_code == 200 and sends.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(sends.text, newline="")))
        assert len(rows) == len(events) and {r["asset type"] for r in rows} == {"lead_magnet", "welcome_sequence"}
        refused(client.get(f"/v1/kits/{job_id}/download", params={"format": "docx"}), 404, "no kit.docx")


def test_added_types_are_checked_like_the_cli_checks_them(tmp_path: Path, kit_body: dict[str, Any]) -> None:
    with open_app(Settings(data_dir=tmp_path / "d"), index=False) as client:
        unknown = refused(client.post("/v1/kits", json={**kit_body, "add_types": ["podcast"]}), 422, "body.add_types")
        (problem,) = unknown["details"]
        assert problem["loc"] == ["body", "add_types"] and "Unknown asset type(s): podcast" in problem["msg"]
        assert "welcome_sequence" in problem["msg"]  # the valid ones are listed
        outside = client.post("/v1/kits", json={**kit_body, "stages": ["aware"], "add_types": ["sms_message"]})
        (problem,) = refused(outside, 422, "body.add_types")["details"]
        assert "sms_message serves Convert: not a stage of this kit (stages: aware)" in problem["msg"]
        refused(client.post("/v1/kits", json={**kit_body, "start": "6 January"}), 422, "body.start")
        refused(client.post("/v1/kits", json={**kit_body, "formats": ["pdf"]}), 422, "ics, csv")
        assert client.get("/v1/kits").json()["jobs"] == []  # nothing was queued
        whole = client.post("/v1/kits", json={**kit_body, "stages": None, "add_types": ["sms_message"]})
        assert whole.status_code == 202 and whole.json()["request"]["add_types"] == ["sms_message"]
