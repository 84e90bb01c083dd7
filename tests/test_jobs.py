"""Kits as jobs: the SQLite job store and the runner, on a fake model (no sockets, except the one e2e-marked webhook
test, which posts to a loopback server)."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import http.server
import json
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

import pytest
from langchain_core.messages import BaseMessage
from pydantic import ValidationError

from generator.errors import ConfigError, ModelUnavailableError
from generator.evaluation.scoring import Evaluator
from generator.jobs import (
    JobNotFoundError,
    JobRunner,
    JobStateError,
    JobStore,
    KitCollaborators,
    KitJob,
    KitJobRequest,
    verify_signature,
)
from generator.jobs_models import Worker
from generator.profile import BusinessProfile
from generator.runtime import Components
from generator.settings import PROJECT_ROOT, Settings
from tests.fakes import SchemaFake

THREE = ["aware", "subscribe", "convert"]  # convert builds on subscribe


class Gated(SchemaFake):
    """SchemaFake that waits for ``release`` before answering (``entered`` says a call is in flight)."""

    entered: ClassVar[threading.Event] = threading.Event()
    release: ClassVar[threading.Event] = threading.Event()

    def _call(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> str:
        Gated.entered.set()
        assert Gated.release.wait(20), "the test never released the model"
        return super()._call(messages, *args, **kwargs)


def parts_for(settings: Settings, model: type[SchemaFake] = SchemaFake, broken: bool = False) -> Components:
    def model_factory(_: Settings) -> contextlib.AbstractContextManager[SchemaFake]:
        if broken:
            raise ModelUnavailableError("The model server could not be reached (test).")
        return contextlib.nullcontext(model())

    return Components(
        settings,
        model_factory=model_factory,
        index_factory=lambda _: None,
        evaluator_factory=lambda s, judge: Evaluator(settings=s, judge=judge),
    )


@pytest.fixture(autouse=True)
def fresh_fakes() -> None:
    SchemaFake.reset()
    Gated.entered, Gated.release = threading.Event(), threading.Event()


@pytest.fixture
def store(settings: Settings) -> JobStore:
    return JobStore(settings.data_dir)


@pytest.fixture
def runner(store: JobStore, settings: Settings) -> Iterator[JobRunner]:
    with JobRunner(store, parts_for(settings), poll_s=0.05) as started:
        yield started


def asset_type_of(title: str) -> str:
    """'LeadMagnetCopy' -> 'leadmagnet', 'SocialPost_instagram' -> 'socialpost' (asset_type without underscores)."""
    return title.split("_")[0].removesuffix("Copy").lower()


def test_components_fit_the_runner(settings: Settings) -> None:
    collaborators: KitCollaborators = parts_for(settings)  # mypy checks that the composition root fits
    assert collaborators.settings is settings


def test_a_submitted_job_is_on_disk_before_submit_returns(store: JobStore, coffee: BusinessProfile) -> None:
    job = store.create(KitJobRequest(profile=coffee, stages=THREE), owner="alice")
    with contextlib.closing(sqlite3.connect(store.path)) as db:  # another connection, as another process would
        assert db.execute("SELECT status, owner FROM jobs WHERE id = ?", (job.id,)).fetchone() == ("queued", "alice")
    assert len(job.id) == 32 and job.status == "queued" and job.out_dir == store.data_dir / "jobs" / job.id
    assert [(p.key, p.state) for p in job.progress] == [
        ("aware.social_post", "pending"), ("subscribe.lead_magnet", "pending"), ("convert.entry_offer", "pending")
    ]  # fmt: skip
    assert JobStore(store.data_dir).get(job.id) == job


def test_submit_runs_to_done_with_progress_and_downloads(
    runner: JobRunner, store: JobStore, coffee: BusinessProfile
) -> None:
    job = runner.submit(KitJobRequest(profile=coffee, stages=THREE, formats=["md", "html", "json", "docx"]))
    done = runner.wait(job.id, timeout_s=60)
    assert done.status == "done" and done.error is None and done.attempts == 1
    assert done.started_at and done.finished_at and done.finished_at >= done.started_at >= done.created_at
    assert [p.state for p in done.progress] == ["done"] * 3
    assert all(p.verdict in {"passed", "needs work", "failed"} and p.score is not None for p in done.progress)
    assert done.totals is not None and done.totals.assets == 3
    assert sorted(done.files) == ["docx", "html", "json", "md"]
    for fmt in done.files:
        path = store.download(job.id, fmt)
        assert path == done.out_dir / f"kit.{fmt}" and path.stat().st_size > 0
    assert sorted(p.name for p in (done.out_dir / "assets").glob("*.json")) == [f"{k}.json" for k in sorted(
        p.key for p in done.progress)]  # fmt: skip
    assert json.loads(store.download(job.id, ".JSON").read_text())["business"] == coffee.name


def test_cancel_while_running_keeps_finished_assets(settings: Settings, coffee: BusinessProfile) -> None:
    store = JobStore(settings.data_dir)
    with JobRunner(store, parts_for(settings, Gated), poll_s=0.05) as runner:
        job = runner.submit(KitJobRequest(profile=coffee))  # all 8: three start at once, five wait on them
        assert Gated.entered.wait(20)
        marked = runner.cancel(job.id)
        assert marked.status == "running" and marked.cancel_requested
        Gated.release.set()
        ended = runner.wait(job.id, timeout_s=60)
    assert ended.status == "cancelled" and ended.files == []
    done = [p.key for p in ended.progress if p.state == "done"]
    assert 1 <= len(done) < 8 and {p.state for p in ended.progress} == {"done", "cancelled"}
    assert sorted(p.stem for p in (ended.out_dir / "assets").glob("*.json")) == sorted(done)
    assert len(SchemaFake.calls) == len(done)
    assert runner.cancel(job.id).status == "cancelled"  # again: nothing changes
    with pytest.raises(JobStateError) as refused:
        store.download(job.id, "md")
    assert refused.value.http_status == 409 and "cancelled" in refused.value.message


def test_a_queued_job_is_cancelled_at_once_and_never_runs(settings: Settings, coffee: BusinessProfile) -> None:
    store = JobStore(settings.data_dir)
    runner = JobRunner(store, parts_for(settings), poll_s=0.05)
    job = runner.submit(KitJobRequest(profile=coffee, stages=THREE))
    ended = runner.cancel(job.id)
    assert ended.status == "cancelled" and ended.finished_at and {p.state for p in ended.progress} == {"cancelled"}
    assert runner.run_next() is None and SchemaFake.calls == []


def test_a_job_that_cannot_run_fails_and_the_runner_goes_on(settings: Settings, coffee: BusinessProfile) -> None:
    store = JobStore(settings.data_dir)
    broken = JobRunner(store, parts_for(settings, broken=True), poll_s=0.05)
    job = broken.submit(KitJobRequest(profile=coffee, stages=["aware"]))
    failed = broken.run_next()
    assert failed is not None and failed.id == job.id and failed.status == "failed"
    assert failed.error == "The model server could not be reached (test)."
    with pytest.raises(JobStateError):
        broken.cancel(job.id)  # it has ended
    working = JobRunner(store, parts_for(settings), poll_s=0.05)
    second = working.submit(KitJobRequest(profile=coffee, stages=["aware"]))
    assert (ran := working.run_next()) is not None and ran.id == second.id and ran.status == "done"


CHILD = """
import contextlib, os, sys, time
from pathlib import Path
from generator.evaluation.scoring import Evaluator
from generator.jobs import JobRunner, JobStore
from generator.runtime import Components
from generator.settings import Settings
from tests.fakes import SchemaFake

class Dying(SchemaFake):
    def _call(self, messages, *args, **kwargs):
        if len(SchemaFake.calls) >= int(sys.argv[2]):
            os._exit(9)  # the process dies mid-kit, as under kill -9
        return super()._call(messages, *args, **kwargs)

settings = Settings(data_dir=Path(sys.argv[1]))
parts = Components(settings, model_factory=lambda _: contextlib.nullcontext(Dying()), index_factory=lambda _: None,
                   evaluator_factory=lambda s, judge: Evaluator(settings=s, judge=judge))
JobRunner(JobStore(settings.data_dir), parts, poll_s=0.05).start()
time.sleep(120)
"""


def test_a_job_left_running_by_a_dead_process_resumes_without_redrafting(
    settings: Settings, coffee: BusinessProfile
) -> None:
    store = JobStore(settings.data_dir)
    job = store.create(KitJobRequest(profile=coffee, formats=["md"]))
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(settings.data_dir), "3"],
        cwd=PROJECT_ROOT, env={"PYTHONPATH": str(PROJECT_ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert child.returncode == 9, child.stderr[-2000:]
    left = store.get(job.id)
    assert left.status == "running" and left.attempts == 1
    finished = {p.stem for p in (left.out_dir / "assets").glob("*.json")}
    assert "subscribe.lead_magnet" in finished and len(finished) < 8  # the fourth call (entry offer) needs it

    with JobRunner(JobStore(settings.data_dir), parts_for(settings), poll_s=0.05) as restarted:  # a new process
        ended = restarted.wait(job.id, timeout_s=60)
    assert ended.status == "done" and ended.attempts == 2 and ended.files == ["md"]
    assert [p.state for p in ended.progress] == ["done"] * 8
    assert {p.key for p in ended.progress if p.cached} == finished
    redrafted = {asset_type_of(t) for t in SchemaFake.calls}
    assert len(SchemaFake.calls) == 8 - len(finished)
    assert not redrafted & {key.split(".")[1].replace("_", "") for key in finished}


def test_requeue_takes_only_jobs_whose_worker_is_gone(store: JobStore, coffee: BusinessProfile) -> None:
    live, gone = Worker.here(), Worker.here()  # ``gone``: a runner of this process that stopped without releasing
    live.enlist()
    try:
        first = store.create(KitJobRequest(profile=coffee, stages=["aware"]))
        second = store.create(KitJobRequest(profile=coffee, stages=["aware"]))
        assert store.claim(live) == store.get(first.id) and store.claim(gone) == store.get(second.id)
        assert [j.id for j in store.requeue_orphans()] == [second.id]
        assert store.get(first.id).status == "running" and store.get(second.id).status == "queued"
        assert store.claim(gone) is not None and store.claim(gone) is None  # second try
        store.claim(gone)
        (failed,) = store.requeue_orphans(max_attempts=2)
        assert failed.status == "failed" and "stopped 2 times" in (failed.error or "")
    finally:
        live.retire()


def test_a_stopped_runner_puts_its_kit_back_and_the_next_resumes_it(
    settings: Settings, coffee: BusinessProfile
) -> None:
    store = JobStore(settings.data_dir)
    runner = JobRunner(store, parts_for(settings, Gated), poll_s=0.05).start()
    job = runner.submit(KitJobRequest(profile=coffee, stages=THREE, formats=["json"]))
    assert Gated.entered.wait(20)
    threading.Timer(0.3, Gated.release.set).start()
    assert runner.stop(timeout_s=30)
    back = store.get(job.id)
    assert back.status == "queued" and 1 <= sum(p.state == "done" for p in back.progress) < 3
    first_calls = len(SchemaFake.calls)
    with JobRunner(store, parts_for(settings), poll_s=0.05) as second:
        ended = second.wait(job.id, timeout_s=60)
    assert ended.status == "done" and ended.attempts == 2 and len(SchemaFake.calls) == 3
    assert first_calls == sum(p.cached for p in ended.progress)


def test_each_owner_sees_only_their_jobs(store: JobStore, coffee: BusinessProfile) -> None:
    a1 = store.create(KitJobRequest(profile=coffee, stages=["aware"]), owner="alice")
    b1 = store.create(KitJobRequest(profile=coffee, stages=["aware"]), owner="bob")
    a2 = store.create(KitJobRequest(profile=coffee, stages=["engage"]), owner="alice")
    assert [j.id for j in store.list_jobs("alice")] == [a2.id, a1.id]  # newest first
    assert [j.id for j in store.list_jobs("bob")] == [b1.id] and store.list_jobs("carol") == []
    assert [j.progress[0].key for j in store.list_jobs("alice")] == ["engage.newsletter_issue", "aware.social_post"]
    assert store.list_jobs("alice", status="cancelled") == []
    for call in (lambda: store.get(b1.id, owner="alice"), lambda: store.cancel(b1.id, owner="alice"),
                 lambda: store.download(b1.id, "md", owner="alice")):  # fmt: skip
        with pytest.raises(JobNotFoundError):
            call()
    assert store.get(b1.id).status == "queued"
    with pytest.raises(ConfigError):
        store.create(KitJobRequest(profile=coffee), owner=" ")


def test_unknown_job_is_404_and_download_before_done_is_409(
    runner: JobRunner, store: JobStore, coffee: BusinessProfile
) -> None:
    for call in (lambda: store.get("nope"), lambda: runner.cancel("nope"), lambda: store.download("nope", "md")):
        with pytest.raises(JobNotFoundError) as missing:
            call()
        assert missing.value.http_status == 404 and "nope" in missing.value.message
    queued = store.create(KitJobRequest(profile=coffee, stages=["aware"], formats=["md"]))
    with pytest.raises(JobStateError) as early:
        store.download(queued.id, "md")
    assert early.value.http_status == 409 and "queued" in early.value.message
    with pytest.raises(ConfigError) as unknown:
        store.download(queued.id, "pdf")
    assert unknown.value.http_status == 400
    assert runner.wait(queued.id).status == "done"
    with pytest.raises(JobNotFoundError) as not_asked:
        store.download(queued.id, "docx")
    assert "has no kit.docx (written: md)" in not_asked.value.message
    store.download(queued.id, "md").unlink()
    with pytest.raises(JobNotFoundError):
        store.download(queued.id, "md")


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("stages", ["aware", "someday"], "Unknown stage 'someday'"),
        ("formats", ["md", "pdf"], "Unknown export format(s): pdf"),
        ("formats", [], "No export format given"),
        ("callback_url", "file:///etc/passwd", "http:// or https://"),
        ("variants", 7, "less than or equal to 6"),
    ],
)
def test_a_bad_request_names_its_field(coffee: BusinessProfile, field: str, value: object, says: str) -> None:
    with pytest.raises(ValidationError) as bad:
        KitJobRequest.model_validate({"profile": coffee.model_dump(), field: value})
    assert bad.value.errors()[0]["loc"][0] == field and says in str(bad.value)


class Posts:
    """An injected HTTP post: answers from ``statuses`` (an exception is raised), records what it was sent."""

    def __init__(self, *statuses: int | Exception) -> None:
        self.statuses, self.sent = list(statuses), list[tuple[str, bytes, dict[str, str]]]()

    def __call__(self, url: str, body: bytes, headers: Mapping[str, str], timeout_s: float) -> int:
        self.sent.append((url, body, dict(headers)))
        answer = self.statuses.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def wait_for_webhook(store: JobStore, job_id: str, attempts: int) -> KitJob:
    deadline = time.monotonic() + 20
    while (job := store.get(job_id)).webhook is None or job.webhook.attempts < attempts:
        assert time.monotonic() < deadline, "the webhook was never recorded"
        time.sleep(0.02)
    return job


def test_the_webhook_is_signed_and_retried(settings: Settings, coffee: BusinessProfile) -> None:
    store, posts = JobStore(settings.data_dir), Posts(500, 204)
    with JobRunner(store, parts_for(settings), poll_s=0.05, webhook_secret="s3cret", post=posts,
                   webhook_backoff_s=0.0) as runner:  # fmt: skip
        job = runner.submit(KitJobRequest(profile=coffee, stages=["aware"], callback_url="https://hooks.test/cvj"))
        runner.wait(job.id)
        hooked = wait_for_webhook(store, job.id, attempts=2)
    assert hooked.webhook and hooked.webhook.delivered and hooked.webhook.status_code == 204
    assert len(posts.sent) == 2 and posts.sent[0] == posts.sent[1]
    url, body, headers = posts.sent[0]
    expected = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert url == "https://hooks.test/cvj" and headers["X-CVJ-Signature"] == expected
    assert verify_signature("s3cret", body, headers["X-CVJ-Signature"]) and not verify_signature("x", body, expected)
    sent = json.loads(body)
    assert sent["id"] == job.id and sent["status"] == "done" and headers["X-CVJ-Job"] == job.id
    assert "out_dir" not in sent and "profile" not in sent["request"]  # no server path; the receiver has the profile
    assert [a["state"] for a in sent["progress"]] == ["done"]


def test_a_webhook_that_keeps_failing_is_recorded_and_blocks_nothing(
    settings: Settings, coffee: BusinessProfile
) -> None:
    store, posts = JobStore(settings.data_dir), Posts(OSError("refused"), 503, OSError("timed out"))
    runner = JobRunner(store, parts_for(settings), poll_s=0.05, post=posts, webhook_backoff_s=0.0)
    job = runner.submit(KitJobRequest(profile=coffee, stages=["aware"], callback_url="http://hooks.test/"))
    cancelled = runner.cancel(job.id)  # a queued job ends here, and its webhook still goes out
    hooked = wait_for_webhook(store, job.id, attempts=3)
    assert cancelled.status == "cancelled" and hooked.webhook and not hooked.webhook.delivered
    assert hooked.webhook.error == "OSError: timed out" and len(posts.sent) == 3
    assert "X-CVJ-Signature" not in posts.sent[0][2]  # no secret, no signature


def test_a_callback_refused_at_delivery_is_not_sent(settings: Settings, coffee: BusinessProfile) -> None:
    store, posts = JobStore(settings.data_dir), Posts(204)
    refusal = "callback_url's host 'hooks.test' is a private, loopback or reserved address (10.0.0.7)"
    runner = JobRunner(store, parts_for(settings), poll_s=0.05, post=posts, callback_check=lambda url: refusal)
    job = runner.submit(KitJobRequest(profile=coffee, stages=["aware"], callback_url="http://hooks.test/"))
    runner.cancel(job.id)
    hooked = wait_for_webhook(store, job.id, attempts=0)
    assert hooked.webhook and not hooked.webhook.delivered and hooked.webhook.error == refusal
    assert posts.sent == []  # the name resolved somewhere private by delivery time: nothing sent


@pytest.mark.e2e
def test_the_webhook_reaches_a_real_server_and_verifies(settings: Settings, coffee: BusinessProfile) -> None:
    received: list[tuple[bytes, str | None]] = []

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append((self.rfile.read(int(self.headers["Content-Length"])), self.headers["X-CVJ-Signature"]))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        store = JobStore(settings.data_dir)
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        with JobRunner(store, parts_for(settings), poll_s=0.05, webhook_secret="k") as runner:
            job = runner.submit(KitJobRequest(profile=coffee, stages=["aware"], callback_url=url))
            hooked = wait_for_webhook(store, job.id, attempts=1)
    finally:
        server.shutdown()
    assert hooked.webhook and hooked.webhook.delivered and len(received) == 1
    body, header = received[0]
    assert verify_signature("k", body, header) and json.loads(body)["status"] == "done"
