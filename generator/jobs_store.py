"""Kit jobs kept in one SQLite file, ``<data dir>/jobs.sqlite``; each job's files in ``<data dir>/jobs/<id>/``.

Safe across threads and processes: a connection per thread (and per process), WAL (readers never wait for the
writer), a busy timeout (a writer waits its turn), ``BEGIN IMMEDIATE`` around every read-then-write (a queued job is
claimed by one worker only) and ``synchronous=FULL`` (a job is on disk before ``create`` returns). A running job
records the worker that runs it (host, pid, process start, runner id), so a job left ``running`` by a process that
died is told apart from one a live process is still running, and is queued again (``requeue_orphans``).
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

from generator.errors import ConfigError
from generator.export import parse_formats
from generator.jobs_models import (
    AssetProgress,
    JobNotFoundError,
    JobStateError,
    JobStatus,
    KitJob,
    KitJobRequest,
    WebhookDelivery,
    Worker,
)
from generator.kit_models import KitEntry, KitTotals

__all__ = ["JobStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY, owner TEXT NOT NULL, status TEXT NOT NULL, request TEXT NOT NULL,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL, started_at TEXT, finished_at TEXT,
    cancel_requested INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0, error TEXT,
    files TEXT NOT NULL DEFAULT '[]', totals TEXT, webhook TEXT, worker TEXT
);
CREATE INDEX IF NOT EXISTS jobs_by_owner ON jobs (owner, created_at);
CREATE INDEX IF NOT EXISTS jobs_by_status ON jobs (status, created_at);
CREATE TABLE IF NOT EXISTS assets (
    job_id TEXT NOT NULL, position INTEGER NOT NULL, key TEXT NOT NULL, stage TEXT NOT NULL,
    asset_type TEXT NOT NULL, state TEXT NOT NULL, verdict TEXT, score REAL, error TEXT,
    cached INTEGER NOT NULL DEFAULT 0, seconds REAL NOT NULL DEFAULT 0, PRIMARY KEY (job_id, key)
);
"""


def _now() -> str:
    return datetime.now(UTC).isoformat()


class JobStore:
    """Kit jobs: create, read, list by owner, cancel, and the runner's transitions queued -> running -> ended."""

    BUSY_TIMEOUT_S = 30.0

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.path = self.data_dir / "jobs.sqlite"
        self.jobs_dir = self.data_dir / "jobs"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        db = self._db()
        db.execute("PRAGMA journal_mode=WAL")  # kept in the file, for every process
        with self._tx() as tx:
            for statement in filter(str.strip, _SCHEMA.split(";")):
                tx.execute(statement)

    def _db(self) -> sqlite3.Connection:
        """This thread's connection (never one inherited through a fork), in autocommit mode: transactions are
        explicit (``_tx``)."""
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None or self._local.pid != os.getpid():
            db = sqlite3.connect(self.path, timeout=self.BUSY_TIMEOUT_S, isolation_level=None)
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA synchronous=FULL")  # a submitted job survives a power cut too
            self._local.db, self._local.pid = db, os.getpid()
        return db

    @contextlib.contextmanager
    def _tx(self, *, write: bool = True) -> Iterator[sqlite3.Connection]:
        db = self._db()
        db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def folder(self, job_id: str) -> Path:
        return self.jobs_dir / job_id

    # -- what a front door calls --------------------------------------------------------------------------------

    def create(self, request: KitJobRequest, *, owner: str = "default") -> KitJob:
        """A queued job, committed to disk before this returns, with a pending entry for each planned asset."""
        owner = _checked_owner(owner)
        plan = request.plan()
        job_id, now = uuid4().hex, _now()
        with self._tx() as db:
            db.execute(
                "INSERT INTO jobs (id, owner, status, request, created_at, updated_at) "
                "VALUES (?, ?, 'queued', ?, ?, ?)",
                (job_id, owner, request.model_dump_json(), now, now),
            )
            db.executemany(
                "INSERT INTO assets (job_id, position, key, stage, asset_type, state) "
                "VALUES (?, ?, ?, ?, ?, 'pending')",
                [(job_id, n, item.key, item.stage, item.asset_type) for n, item in enumerate(plan)],
            )
        return self.get(job_id)

    def get(self, job_id: str, *, owner: str | None = None) -> KitJob:
        """The job, or :class:`JobNotFoundError` (also for another owner's job, when ``owner`` is given)."""
        with self._tx(write=False) as db:
            row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None or (owner is not None and row["owner"] != owner):
                raise JobNotFoundError(f"No kit job {job_id[:64]!r}.", details={"id": job_id[:64]})
            assets = db.execute("SELECT * FROM assets WHERE job_id = ? ORDER BY position", (job_id,)).fetchall()
        return self._job(row, assets)

    def list_jobs(self, owner: str, *, status: JobStatus | None = None, limit: int = 100) -> list[KitJob]:
        """This owner's jobs, newest first."""
        query = "SELECT * FROM jobs WHERE owner = ?" + (" AND status = ?" if status else "")
        args: tuple[object, ...] = (owner, status) if status else (owner,)
        with self._tx(write=False) as db:
            rows = db.execute(query + " ORDER BY created_at DESC, rowid DESC LIMIT ?", (*args, limit)).fetchall()
            marks = ",".join("?" * len(rows))
            assets = db.execute(
                f"SELECT * FROM assets WHERE job_id IN ({marks}) ORDER BY position", [r["id"] for r in rows]
            ).fetchall()
        return [self._job(row, [a for a in assets if a["job_id"] == row["id"]]) for row in rows]

    def cancel(self, job_id: str, *, owner: str | None = None) -> KitJob:
        """A queued job ends ``cancelled`` now; a running one is marked, and its runner starts no new asset (it ends
        ``cancelled`` once the assets in flight finish, and they are kept). Cancelling a cancelled job is a no-op;
        a done or failed one is a :class:`JobStateError`."""
        with self._tx() as db:
            row = db.execute("SELECT owner, status FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None or (owner is not None and row["owner"] != owner):
                raise JobNotFoundError(f"No kit job {job_id[:64]!r}.", details={"id": job_id[:64]})
            if row["status"] in ("done", "failed"):
                ended = row["status"]
                raise JobStateError(f"Kit job {job_id} has already ended ({ended}); there is nothing to cancel.")
            db.execute("UPDATE jobs SET cancel_requested = 1, updated_at = ? WHERE id = ?", (_now(), job_id))
            if row["status"] == "queued":
                self._end(db, job_id, "cancelled")
        return self.get(job_id)

    def download(self, job_id: str, fmt: str, *, owner: str | None = None) -> Path:
        """The path of ``kit.<fmt>`` for a done job: 404 for an unknown job or a format it was not exported in,
        409 while it is not done (or if it failed or was cancelled), 400 for a format that does not exist."""
        (fmt,) = parse_formats([fmt])
        job = self.get(job_id, owner=owner)
        if job.status != "done":
            when = "when it is done" if not job.ended else "only from a job that is done"
            raise JobStateError(f"Kit job {job_id} is {job.status}; its files can be downloaded {when}.",
                                details={"status": job.status})  # fmt: skip
        path = job.out_dir / f"kit.{fmt}"
        if fmt not in job.files or not path.is_file():
            have = ", ".join(job.files) or "none"
            raise JobNotFoundError(f"Kit job {job_id} has no kit.{fmt} (written: {have}).",
                                   details={"files": job.files})  # fmt: skip
        return path

    # -- what a runner calls -------------------------------------------------------------------------------------

    def claim(self, worker: Worker) -> KitJob | None:
        """The oldest queued job, now ``running`` for ``worker`` (one worker wins it, across processes), or None."""
        with self._tx() as db:
            oldest = "SELECT id FROM jobs WHERE status = 'queued' ORDER BY created_at, rowid LIMIT 1"
            row = db.execute(oldest).fetchone()
            if row is None:
                return None
            now = _now()
            db.execute(
                "UPDATE jobs SET status = 'running', worker = ?, attempts = attempts + 1, error = NULL, "
                "started_at = COALESCE(started_at, ?), updated_at = ? WHERE id = ?",
                (json.dumps(asdict(worker)), now, now, row["id"]),
            )
        return self.get(row["id"])

    def cancel_requested(self, job_id: str) -> bool:
        row = self._db().execute("SELECT cancel_requested FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return bool(row and row[0])

    def record_asset(self, job_id: str, entry: KitEntry) -> None:
        """An asset finished (drafted, reused from an earlier run, or failed)."""
        evaluation = entry.draft.evaluation if entry.draft else None
        now = _now()
        with self._tx() as db:
            db.execute(
                "INSERT INTO assets (job_id, position, key, stage, asset_type, state, verdict, score, error, cached, "
                "seconds) VALUES (?, (SELECT COALESCE(MAX(position), -1) + 1 FROM assets WHERE job_id = ?), "
                "?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (job_id, key) DO UPDATE SET state = excluded.state, "
                "verdict = excluded.verdict, score = excluded.score, error = excluded.error, cached = excluded.cached, "
                "seconds = excluded.seconds",
                (job_id, job_id, entry.key, entry.stage, entry.asset_type, "failed" if entry.error else "done",
                 evaluation.verdict if evaluation else None, evaluation.score if evaluation else None,
                 entry.error, int(entry.cached), entry.seconds),
            )  # fmt: skip
            db.execute("UPDATE jobs SET updated_at = ? WHERE id = ?", (now, job_id))

    def finish(
        self,
        job_id: str,
        status: JobStatus,
        *,
        error: str | None = None,
        files: Sequence[str] = (),
        totals: KitTotals | None = None,
    ) -> KitJob:
        """The job ends (done, failed or cancelled); assets never started are marked cancelled."""
        with self._tx() as db:
            db.execute(
                "UPDATE jobs SET error = ?, files = ?, totals = ? WHERE id = ?",
                (error, json.dumps(list(files)), totals.model_dump_json() if totals else None, job_id),
            )
            self._end(db, job_id, status)
        return self.get(job_id)

    def release(self, job_id: str) -> None:
        """Back to the queue (its runner is shutting down); the next run resumes from its folder."""
        with self._tx() as db:
            db.execute(
                "UPDATE jobs SET status = 'queued', worker = NULL, updated_at = ? WHERE id = ? AND status = 'running'",
                (_now(), job_id),
            )

    def requeue_orphans(self, *, max_attempts: int = 3) -> list[KitJob]:
        """Jobs left ``running`` by a worker that is gone: queued again (cancelled if that was asked, failed after
        ``max_attempts`` runs). Returns the jobs it changed."""
        rows = self._db().execute("SELECT id, worker, attempts, cancel_requested FROM jobs WHERE status = 'running'")
        changed = []
        for row in rows.fetchall():
            worker = Worker(**json.loads(row["worker"])) if row["worker"] else None
            if worker is not None and worker.alive():
                continue
            with self._tx() as db:
                still = db.execute(
                    "SELECT 1 FROM jobs WHERE id = ? AND status = 'running' AND worker IS ?", (row["id"], row["worker"])
                ).fetchone()
                if still is None:  # someone else got to it first
                    continue
                if row["cancel_requested"]:
                    self._end(db, row["id"], "cancelled")
                elif row["attempts"] >= max_attempts:
                    why = f"The process running it stopped {row['attempts']} times (last: pid {worker and worker.pid})."
                    db.execute("UPDATE jobs SET error = ? WHERE id = ?", (why, row["id"]))
                    self._end(db, row["id"], "failed")
                else:
                    db.execute(
                        "UPDATE jobs SET status = 'queued', worker = NULL, updated_at = ? WHERE id = ?",
                        (_now(), row["id"]),
                    )
            changed.append(self.get(row["id"]))
        return changed

    def record_webhook(self, job_id: str, delivery: WebhookDelivery) -> None:
        with self._tx() as db:
            db.execute("UPDATE jobs SET webhook = ? WHERE id = ?", (delivery.model_dump_json(), job_id))

    # -- rows -> models ----------------------------------------------------------------------------------------

    @staticmethod
    def _end(db: sqlite3.Connection, job_id: str, status: JobStatus) -> None:
        now = _now()
        db.execute(
            "UPDATE jobs SET status = ?, worker = NULL, finished_at = ?, updated_at = ? WHERE id = ?",
            (status, now, now, job_id),
        )
        db.execute("UPDATE assets SET state = 'cancelled' WHERE job_id = ? AND state = 'pending'", (job_id,))

    def _job(self, row: sqlite3.Row, assets: Sequence[sqlite3.Row]) -> KitJob:
        return KitJob(
            id=row["id"],
            owner=row["owner"],
            status=row["status"],
            request=KitJobRequest.model_validate_json(row["request"]),
            progress=[AssetProgress.model_validate({**dict(a), "cached": bool(a["cached"])}) for a in assets],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            started_at=row["started_at"],
            finished_at=row["finished_at"],
            cancel_requested=bool(row["cancel_requested"]),
            attempts=row["attempts"],
            error=row["error"],
            out_dir=self.folder(row["id"]),
            files=json.loads(row["files"]),
            totals=KitTotals.model_validate_json(row["totals"]) if row["totals"] else None,
            webhook=WebhookDelivery.model_validate_json(row["webhook"]) if row["webhook"] else None,
        )


def _checked_owner(owner: str) -> str:
    owner = owner.strip() if isinstance(owner, str) else ""
    if not owner or len(owner) > 200:
        raise ConfigError("A job's owner must be a name of 1 to 200 characters.")
    return owner
