"""The HTTP API as deployed: `cvj serve` in its own process (uvicorn), with two keys.

- On the real local stack: a business, a document uploaded for it, a draft grounded in it by id, a kit job to its
  end and its Word file; the other key sees none of it.
- Against a slow fault server as the model: the server is killed (SIGKILL) mid-kit and started again; the job
  resumes, ends done, and no asset finished before the kill is asked of the model again.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from docx import Document

from generator.profile import BusinessProfile
from tests.e2e.servers import free_port, wait_until_up
from tests.faults import Fault, FaultServer

CVJ_SCRIPT = Path(sys.executable).parent / "cvj"
A, B = {"Authorization": "Bearer key-a"}, {"Authorization": "Bearer key-b"}
KEYS = "alpha:key-a,beta:key-b"


@contextlib.contextmanager
def cvj_serve(data_dir: Path, cwd: Path, **env: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = free_port()
    environment = {**os.environ, "CVJ_DATA_DIR": str(data_dir), "CVJ_API_KEYS": KEYS, "ANONYMIZED_TELEMETRY": "False",
                   **env}  # fmt: skip
    proc = subprocess.Popen([str(CVJ_SCRIPT), "serve", "--port", str(port), "--no-ui"], cwd=cwd, env=environment,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{url}/healthz", proc)
        yield url, proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=60)


def until(check: Callable[[], Any], *, timeout_s: float, every_s: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout_s
    while not (found := check()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(every_s)
    return found


def test_a_business_its_document_a_draft_and_a_kit_over_http(
    data_dir: Path, local_server: object, tmp_path: Path, coffee: BusinessProfile
) -> None:
    with cvj_serve(data_dir, tmp_path) as (url, _), httpx.Client(base_url=url, timeout=600) as http:
        created = http.post("/v1/businesses", json={"profile": coffee.model_dump(mode="json")}, headers=A)
        assert created.status_code == 201, created.text
        business = created.json()["id"]
        note = b"# Opening offer\nThe Tasting Flight Box ships free to Portland addresses this month.\n"
        uploaded = http.post("/v1/knowledge", data={"business_id": business},
                             files=[("files", ("offer.md", note, "text/markdown"))], headers=A)  # fmt: skip
        assert uploaded.status_code == 201 and uploaded.json()["documents"][0]["chunks"] >= 1, uploaded.text

        drafted = http.post("/v1/drafts", json={"business_id": business, "stage": "convert"}, headers=A)
        assert drafted.status_code == 200, drafted.text
        (draft,) = drafted.json()["drafts"]
        assert draft["business"] == coffee.name and draft["evaluation"]["verdict"]
        query = {"q": "ships free to Portland addresses this month", "business_id": business, "k": 5}
        mine = http.get("/v1/search", params=query, headers=A).json()["hits"]
        assert any(hit["source"] == f"alpha--{business}/offer.md" for hit in mine), mine
        theirs = http.get("/v1/search", params={"q": query["q"], "k": 10}, headers=B).json()["hits"]
        assert not any("offer.md" in hit["source"] for hit in theirs)

        job = http.post("/v1/kits", json={"business_id": business, "stages": ["subscribe"],
                                          "formats": ["md", "docx"]}, headers=A)  # fmt: skip
        assert job.status_code == 202 and job.headers["Location"] == f"/v1/kits/{job.json()['id']}", job.text
        done = until(lambda: (j := http.get(job.headers["Location"], headers=A).json())["status"] in
                     {"done", "failed", "cancelled"} and j, timeout_s=600)  # fmt: skip
        assert done["status"] == "done" and done["progress"][0]["state"] in {"done", "failed"}, done
        word = http.get(f"{job.headers['Location']}/download", params={"format": "docx"}, headers=A)
        assert word.status_code == 200
        assert any(coffee.name in p.text for p in Document(io.BytesIO(word.content)).paragraphs)

        for path in [f"/v1/businesses/{business}", job.headers["Location"], f"{job.headers['Location']}/download"]:
            assert http.get(path, headers=B).status_code == 404
        assert http.get("/v1/kits", headers=B).json()["jobs"] == []
        assert http.get("/v1/stages").status_code == 401


@pytest.fixture
def slow_model() -> Iterator[FaultServer]:
    with FaultServer(faults=[Fault("slow", seconds=1.0)]) as server:
        yield server


def test_a_killed_server_resumes_its_kit_job_without_drafting_twice(
    slow_model: FaultServer, tmp_path: Path, coffee: BusinessProfile
) -> None:
    model = {"CVJ_PROVIDER": "openai-compatible", "CVJ_BASE_URL": slow_model.url, "CVJ_MODEL": "fault-server",
             "CVJ_LLM_CACHE": "false", "CVJ_REPAIR_ATTEMPTS": "0"}  # fmt: skip
    data = tmp_path / "data"
    body = {"profile": coffee.model_dump(mode="json"), "formats": ["md", "json"]}  # the whole journey: 8 assets
    with cvj_serve(data, tmp_path, **model) as (url, proc):
        job = httpx.post(f"{url}/v1/kits", json=body, headers=A, timeout=60).json()

        def some_done() -> Any:
            progress = httpx.get(f"{url}/v1/kits/{job['id']}", headers=A, timeout=60).json()["progress"]
            return [p["key"] for p in progress if p["state"] == "done"]

        finished_before = until(some_done, timeout_s=300, every_s=0.2)
        proc.send_signal(signal.SIGKILL)  # no shutdown at all: the job is left "running" by a dead process
        proc.wait(timeout=30)
    asked_before = slow_model.titles()
    with cvj_serve(data, tmp_path, **model) as (url, _):
        resumed = until(lambda: (j := httpx.get(f"{url}/v1/kits/{job['id']}", headers=A, timeout=60).json())
                        ["status"] in {"done", "failed", "cancelled"} and j, timeout_s=300)  # fmt: skip
    assert resumed["status"] == "done" and resumed["attempts"] == 2, resumed
    by_key = {p["key"]: p for p in resumed["progress"]}
    assert all(by_key[key]["cached"] for key in finished_before), (
        finished_before,
        resumed["progress"],
        asked_before,
        slow_model.titles(),
    )
    assert all(p["state"] == "done" for p in resumed["progress"])
    asked_after = slow_model.titles()[len(asked_before) :]
    assert asked_after and len(asked_after) <= len(resumed["progress"]) - len(finished_before)
