"""Kits as jobs: a small pool of worker threads drafts queued kit jobs (``JobStore``) in the background.

Each job runs :func:`generator.kit.run_kit` into its own folder (``<data dir>/jobs/<id>/``) and then
:func:`generator.export.export_kit` for the formats it asked for, recording each asset's progress as it finishes.
Because a kit resumes from its folder, a job that runs again (its process died and a new runner re-queued it, or a
runner was stopped mid-kit) drafts only what is not finished. Cancelling a running job lets the assets in flight
finish (they are kept) and starts no new one. When a job with a ``callback_url`` ends, its JSON is POSTed there
from a thread of its own, signed ``X-CVJ-Signature: sha256=<HMAC-SHA256 of the body>``, with retries.

The runner takes its collaborators from the composition root (``generator.runtime.Components`` fits
:class:`KitCollaborators`), so it runs the same on the real stack and on a fake model.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Protocol

from langchain_core.language_models.chat_models import BaseChatModel
from pydantic.main import IncEx

from generator.errors import CVJError
from generator.evaluation.scoring import Evaluator
from generator.export import ExportError, export_kit
from generator.jobs_models import (
    AssetProgress,
    JobNotFoundError,
    JobStateError,
    KitJob,
    KitJobRequest,
    WebhookDelivery,
    Worker,
)
from generator.jobs_store import JobStore
from generator.kit import KitOptions, run_kit
from generator.kit_models import KitEntry
from generator.knowledge import KnowledgeIndex
from generator.llm_cache import cache_scope
from generator.profile import BusinessProfile
from generator.settings import Settings
from generator.webhooks import SIGNATURE_HEADER, PostFn, callback_refusal, post_json, signature, verify_signature

__all__ = [
    "SIGNATURE_HEADER",
    "AssetProgress",
    "JobNotFoundError",
    "JobRunner",
    "JobStateError",
    "JobStore",
    "KitCollaborators",
    "KitJob",
    "KitJobRequest",
    "PostFn",
    "WebhookDelivery",
    "callback_refusal",
    "post_json",
    "signature",
    "verify_signature",
]
log = logging.getLogger(__name__)
# The webhook says how the job went; the profile it was sent (the receiver has it) and the server's folder stay out.
WEBHOOK_LEAVES_OUT: dict[str, IncEx | bool] = {"out_dir": True, "request": {"profile"}}


class KitCollaborators(Protocol):
    """What a runner needs from the composition root; ``generator.runtime.Components`` is one."""

    @property
    def settings(self) -> Settings: ...

    def model(self) -> AbstractContextManager[BaseChatModel]: ...

    def evaluator(self) -> AbstractContextManager[Evaluator]: ...

    def index(self, profiles: Iterable[BusinessProfile], /) -> KnowledgeIndex | None: ...


class JobRunner:
    """Runs queued kit jobs, ``concurrency`` kits at a time (default 1: the local model has one slot).

    ``start()`` first queues again the jobs a dead process left ``running``; ``stop()`` lets each kit in flight
    finish its current assets and puts it back in the queue, to resume on the next start.
    """

    def __init__(
        self,
        store: JobStore,
        parts: KitCollaborators,
        *,
        concurrency: int = 1,
        poll_s: float = 1.0,
        max_attempts: int = 3,
        webhook_secret: str | bytes | None = None,
        post: PostFn = post_json,
        webhook_tries: int = 3,
        webhook_backoff_s: float = 1.0,
        webhook_timeout_s: float = 10.0,
        callback_check: Callable[[str], str | None] | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.store, self.parts = store, parts
        self.concurrency, self.poll_s, self.max_attempts = concurrency, poll_s, max_attempts
        self.webhook_secret, self.post = webhook_secret, post
        self.callback_check = callback_check  # asked again at delivery: a name may resolve elsewhere by then
        self.webhook_tries, self.webhook_backoff_s, self.webhook_timeout_s = (
            webhook_tries, webhook_backoff_s, webhook_timeout_s,
        )  # fmt: skip
        self.worker = Worker.here()
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []
        self._hooks: list[threading.Thread] = []
        self._hooks_lock = threading.Lock()

    # -- lifecycle --------------------------------------------------------------------------------------------

    def start(self) -> JobRunner:
        """Re-queue what dead processes left running, then start the worker threads."""
        self._stopping.clear()
        self.worker.enlist()
        self.requeue_orphans()
        for n in range(self.concurrency):
            thread = threading.Thread(target=self._loop, name=f"kit-jobs-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self, timeout_s: float | None = 30.0) -> bool:
        """Stop taking jobs; kits in flight start no new asset and go back to the queue. True if all ended in time
        (else the threads still finishing keep their jobs and release them when they end)."""
        self._stopping.set()
        self._wake.set()
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        for thread in [*self._threads, *self._hooks]:
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        done = not any(t.is_alive() for t in self._threads)
        if done:
            self.worker.retire()
            self._threads.clear()
        return done and not any(t.is_alive() for t in self._hooks)

    def __enter__(self) -> JobRunner:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what a front door calls --------------------------------------------------------------------------------

    def submit(self, request: KitJobRequest, *, owner: str = "default") -> KitJob:
        """Queue a kit job; it is committed to disk before this returns."""
        job = self.store.create(request, owner=owner)
        self._wake.set()
        return job

    def cancel(self, job_id: str, *, owner: str | None = None) -> KitJob:
        was = self.store.get(job_id, owner=owner)
        job = self.store.cancel(job_id, owner=owner)
        if job.ended and not was.ended:  # a queued job ends here, not in a worker
            self._notify(job)
        return job

    def wait(self, job_id: str, *, timeout_s: float = 60.0, poll_s: float = 0.05) -> KitJob:
        """The job once it has ended (``TimeoutError`` if it has not within ``timeout_s``)."""
        deadline = time.monotonic() + timeout_s
        while not (job := self.store.get(job_id)).ended:
            if time.monotonic() > deadline:
                raise TimeoutError(f"Kit job {job_id} is still {job.status} after {timeout_s:g} s.")
            time.sleep(poll_s)
        return job

    def requeue_orphans(self) -> list[KitJob]:
        changed = self.store.requeue_orphans(max_attempts=self.max_attempts)
        for job in changed:
            log.warning("jobs: %s was left running by a process that is gone; now %s", job.id, job.status)
            self._notify(job)
        if changed:
            self._wake.set()
        return changed

    # -- the work ------------------------------------------------------------------------------------------------

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                if self.run_next() is None:
                    self._wake.wait(self.poll_s)
                    self._wake.clear()
                    self.requeue_orphans()  # another process may have died meanwhile
            except Exception:  # the store itself failing (a full disk): log, wait, try again
                log.exception("jobs: the worker loop failed; retrying in %g s", self.poll_s)
                self._stopping.wait(self.poll_s)

    def run_next(self) -> KitJob | None:
        """Claim the oldest queued job and run it here, to its end (or back to the queue if the runner stops)."""
        if self._stopping.is_set():
            return None
        self.worker.enlist()
        job = self.store.claim(self.worker)
        return None if job is None else self._run(job)

    def _run(self, job: KitJob) -> KitJob:
        """Run the job in its owner's cache scope (answers cached for one workspace are not another's)."""
        token = cache_scope.set(job.owner)
        try:
            return self._run_scoped(job)
        finally:
            cache_scope.reset(token)

    def _run_scoped(self, job: KitJob) -> KitJob:
        request, job_id = job.request, job.id
        log.info("jobs: %s running (%s, attempt %d)", job_id, request.profile.name, job.attempts)

        def should_stop() -> bool:
            if self._stopping.is_set():
                return True
            try:
                return self.store.cancel_requested(job_id)
            except Exception as exc:  # a busy database must not stop the kit
                log.warning("jobs: %s: could not read its cancel flag (%s)", job_id, exc)
                return False

        def progress(entry: KitEntry) -> None:
            try:
                self.store.record_asset(job_id, entry)
            except Exception as exc:  # progress is a report; the asset's file is written either way
                log.warning("jobs: %s: could not record %s (%s)", job_id, entry.key, exc)

        try:
            plan = request.plan()
            options = KitOptions(candidates=request.candidates, min_score=request.min_score)
            index = self.parts.index([request.profile])
            with self.parts.evaluator() as evaluator, self.parts.model() as model:
                report = run_kit(
                    request.profile, plan, out_dir=job.out_dir, model=model, index=index,
                    settings=self.parts.settings, evaluator=evaluator, options=options, on_done=progress,
                    should_stop=should_stop,
                )  # fmt: skip
            if len(report.entries) < len(plan):  # stopped before every asset started
                if not self.store.cancel_requested(job_id):  # the runner is stopping: resume on the next start
                    self.store.release(job_id)
                    return self.store.get(job_id)
                ended = self.store.finish(job_id, "cancelled", totals=report.totals)
            else:
                try:
                    written = export_kit(report, job.out_dir, request.formats, start=request.start)
                    files, error = [p.suffix.lstrip(".") for p in written], None
                except ExportError as exc:  # the other formats were written
                    written = exc.details.get("written", []) if isinstance(exc.details, dict) else []
                    files, error = [str(p).rsplit(".", 1)[-1] for p in written], exc.message
                ended = self.store.finish(job_id, "done", files=files, totals=report.totals, error=error)
        except Exception as exc:  # the model cannot start, the index is broken...: this job fails, not the runner
            reason = exc.message if isinstance(exc, CVJError) else f"Unexpected {type(exc).__name__}: {exc}"
            log.warning("jobs: %s failed: %s", job_id, reason)
            ended = self.store.finish(job_id, "failed", error=reason)
        log.info("jobs: %s %s", job_id, ended.status)
        self._notify(ended)
        return ended

    # -- the webhook -------------------------------------------------------------------------------------------

    def _notify(self, job: KitJob) -> None:
        if not job.request.callback_url or not job.ended:
            return
        thread = threading.Thread(target=self._deliver, args=(job,), name=f"kit-job-hook-{job.id[:8]}", daemon=True)
        with self._hooks_lock:
            self._hooks = [t for t in self._hooks if t.is_alive()]
            self._hooks.append(thread)
        thread.start()

    def _deliver(self, job: KitJob) -> None:
        """POST the job to its callback_url: up to ``webhook_tries`` tries, backing off 1x, 2x, 4x...; any 2xx is
        delivered. How it went is recorded on the job (``webhook``)."""
        url = job.request.callback_url
        assert url is not None
        if self.callback_check is not None and (refused := self.callback_check(url)):
            log.warning("jobs: %s: webhook not sent: %s", job.id, refused)
            self.store.record_webhook(job.id, WebhookDelivery(url=url, error=refused, at=datetime.now(UTC)))
            return
        body = job.model_dump_json(exclude=WEBHOOK_LEAVES_OUT).encode()
        headers = {"Content-Type": "application/json", "User-Agent": "cvj-kit", "X-CVJ-Job": job.id}
        if self.webhook_secret is not None:
            headers[SIGNATURE_HEADER] = signature(self.webhook_secret, body)
        for attempt in range(1, self.webhook_tries + 1):
            status: int | None = None
            try:
                status = self.post(url, body, headers, self.webhook_timeout_s)
                error = None if 200 <= status < 300 else f"HTTP {status}"
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"
            delivery = WebhookDelivery(url=url, attempts=attempt, delivered=error is None, status_code=status,
                                       error=error, at=datetime.now(UTC))  # fmt: skip
            try:
                self.store.record_webhook(job.id, delivery)
            except Exception as exc:
                log.warning("jobs: %s: could not record its webhook delivery (%s)", job.id, exc)
            if error is None:
                return
            log.warning("jobs: %s: webhook try %d of %d failed: %s", job.id, attempt, self.webhook_tries, error)
            if attempt < self.webhook_tries:
                time.sleep(self.webhook_backoff_s * 2 ** (attempt - 1))
