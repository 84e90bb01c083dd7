"""The HTTP API: what serving ``POST /v1/drafts`` costs on top of the library call the route makes.

50 clients at once, one draft each (the stage varies over the 8 stages), against a real uvicorn server running
``create_app`` in a thread of this process, with the model at the simulated OpenAI-compatible server
(``fake_openai_server``, a subprocess, fixed latency). The baseline, in the same run: the same 50 drafts through
``make_drafts`` (the function the route calls) from 50 threads, on the same service setup. No knowledge index and
the rules-only evaluator, so what differs between the rows is the API layer: HTTP, JSON, validation, the
middleware, the model slots and the thread pool the route runs in. A third row runs with the default 4 model slots
to show what the bound does to latency (the excess requests wait their turn).
"""

from __future__ import annotations

import contextlib
import socket
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from benchmarks.bench_kit import machine, sim_settings
from benchmarks.fake_openai_server import serve
from benchmarks.report import show
from generator.api import create_app
from generator.api_models import DraftsBody
from generator.api_v1 import make_drafts, required_profile
from generator.evaluation.judge import Judge
from generator.evaluation.scoring import Evaluator
from generator.profile import load_profile
from generator.runtime import Components
from generator.settings import Settings
from generator.stages import STAGE_IDS
from generator.workspaces import DEFAULT_WORKSPACE, BusinessStore

PROFILE = Settings().examples_dir / "harbor-lane-coffee.yaml"
CLIENTS = 50  # concurrent clients, one draft each per round
LATENCY_S = 0.5  # simulated model latency per call
WARMUP_ROUNDS = 1  # per mode: opens connections, loads prompts, fills the thread pools
ROUNDS = 2  # measured rounds of CLIENTS drafts per mode
MAIN_SLOTS = 64  # api_model_slots for the main API row: more than CLIENTS, so the bound never binds
DEFAULT_SLOTS = Settings.model_fields["api_model_slots"].default
COLUMNS = [
    "mode", "requests", "errors", "wall s", "drafts/s", "p50 ms", "p95 ms", "CPU ms/draft",
    "drafts/s vs library", "p95 vs library",
]  # fmt: skip


@dataclass
class Outcome:
    """One mode's measured rounds: every request's latency, the failures, and the wall and CPU time summed."""

    label: str
    latencies: list[float]
    errors: int
    wall_s: float
    cpu_s: float

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def throughput(self) -> float:
        """Good drafts per second of wall time: failed requests do not count as throughput."""
        return (self.requests - self.errors) / self.wall_s

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies)

    @property
    def p95(self) -> float:
        return statistics.quantiles(self.latencies, n=20)[-1]


def bench_settings(base_url: str, data_dir: Path, slots: int) -> Settings:
    """The kit benchmark's simulated-server settings (no answer cache, no retries: one call per draft), with the
    API's per-key rate limit off and ``slots`` model slots; keys off whatever the environment says."""
    return sim_settings(base_url, data_dir).model_copy(
        update={"api_rate_limit": 0, "api_model_slots": slots, "api_keys": [], "api_keys_file": None}
    )


def bench_components(settings: Settings) -> Components:
    """The real model stack with no knowledge index and the rules-only evaluator (as tests/fakes.py): retrieval and
    the ONNX scorers would cost the same in every mode and, on two cores, drown out the API layer."""

    def rules_only(s: Settings, judge: Judge | None) -> Evaluator:
        return Evaluator(settings=s, judge=judge)

    return Components(settings, index_factory=lambda _: None, evaluator_factory=rules_only)


def payloads(n: int) -> list[dict[str, Any]]:
    """``n`` request bodies for the example profile, the stage cycling through the 8 (each stage's default asset)."""
    profile = load_profile(PROFILE).model_dump(mode="json", exclude_none=True)
    return [{"profile": profile, "stage": STAGE_IDS[i % len(STAGE_IDS)]} for i in range(n)]


def one_round(call: Callable[[int], bool], n: int) -> Outcome:
    """Run ``call(0..n-1)`` from ``n`` threads released together; wall time from the release to the last answer.

    ``call`` returns whether its answer was right; an exception counts as an error too.
    """
    latencies, ends, ok = [0.0] * n, [0.0] * n, [False] * n
    start = [0.0]
    barrier = threading.Barrier(n, action=lambda: start.__setitem__(0, time.perf_counter()))

    def client(i: int) -> None:
        barrier.wait()
        began = time.perf_counter()
        try:
            ok[i] = call(i)
        except Exception:  # a failed request is counted, not raised: the table shows it
            ok[i] = False
        ends[i] = time.perf_counter()
        latencies[i] = ends[i] - began

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(n)]
    cpu = time.process_time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Outcome("", latencies, ok.count(False), max(ends) - start[0], time.process_time() - cpu)


def measure(label: str, call: Callable[[int], bool], n: int, rounds: int) -> Outcome:
    """Warm-up rounds (not counted), then ``rounds`` measured rounds of ``n`` concurrent calls, pooled."""
    for _ in range(WARMUP_ROUNDS):
        one_round(call, n)
    runs = [one_round(call, n) for _ in range(rounds)]
    return Outcome(
        label,
        [t for r in runs for t in r.latencies],
        sum(r.errors for r in runs),
        sum(r.wall_s for r in runs),
        sum(r.cpu_s for r in runs),
    )


@contextlib.contextmanager
def running_api(parts: Components) -> Iterator[str]:
    """The API (no UI) on uvicorn in a background thread, on a free loopback port; yields its base URL."""
    app = create_app(parts, mount_ui=False)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="bench-uvicorn", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


def via_library(settings: Settings, bodies: list[dict[str, Any]], rounds: int) -> Outcome:
    """The baseline: ``make_drafts`` on the route's own profile lookup, from one thread per draft."""
    parts = bench_components(settings)
    store = BusinessStore(settings.data_dir)
    requests = [DraftsBody.model_validate(body) for body in bodies]  # a library caller holds objects, not JSON
    with parts.service() as svc:

        def call(i: int) -> bool:
            body = requests[i]
            profile = required_profile(DEFAULT_WORKSPACE, store, body.profile, body.business_id)
            return len(make_drafts(svc, body, profile).drafts) == 1

        return measure("library: make_drafts (baseline)", call, len(bodies), rounds)


def via_api(label: str, settings: Settings, bodies: list[dict[str, Any]], rounds: int) -> Outcome:
    """The same drafts as ``POST /v1/drafts`` from one client thread each, over a shared keep-alive pool."""
    n = len(bodies)
    limits = httpx.Limits(max_connections=n, max_keepalive_connections=n)
    with (
        running_api(bench_components(settings)) as base_url,
        httpx.Client(base_url=base_url, timeout=settings.api_queue_timeout_s + 60, limits=limits) as client,
    ):

        def call(i: int) -> bool:
            answer = client.post("/v1/drafts", json=bodies[i])
            return answer.status_code == 200 and len(answer.json()["drafts"]) == 1

        return measure(label, call, n, rounds)


def row(outcome: Outcome, base: Outcome) -> list[str]:
    return [
        outcome.label, str(outcome.requests), str(outcome.errors), f"{outcome.wall_s:.2f}",
        f"{outcome.throughput:.1f}", f"{outcome.p50 * 1000:.0f}", f"{outcome.p95 * 1000:.0f}",
        f"{outcome.cpu_s / outcome.requests * 1000:.1f}", f"{outcome.throughput / base.throughput:.2f}x",
        f"{outcome.p95 / base.p95:.2f}x",
    ]  # fmt: skip


def main(clients: int = CLIENTS, latency_s: float = LATENCY_S, rounds: int = ROUNDS) -> None:
    """Print the table: the library baseline, the API with slots to spare, the API with the default slots."""
    bodies = payloads(clients)
    host = machine()
    with tempfile.TemporaryDirectory(prefix="cvj-bench-api-") as tmp, serve(latency_s) as model_url:
        data = Path(tmp)
        base = via_library(bench_settings(model_url, data / "library", MAIN_SLOTS), bodies, rounds)
        outcomes = [base]
        for slots in (MAIN_SLOTS, DEFAULT_SLOTS):
            label = f"API, {slots} model slots" + (" (default)" if slots == DEFAULT_SLOTS else "")
            settings = bench_settings(model_url, data / f"api-{slots}", slots)
            outcomes.append(via_api(label, settings, bodies, rounds))
    floor = clients / latency_s
    show(
        f"API throughput: {clients} concurrent POST /v1/drafts vs the same drafts through the library",
        COLUMNS,
        [row(o, base) for o in outcomes],
        note=f"{clients} concurrent clients x {rounds} measured rounds per mode after {WARMUP_ROUNDS} warm-up round; "
        f"one draft per request, the stage cycling through the 8 (each stage's default asset type), profile "
        f"{PROFILE.name} sent inline as JSON. Model: the simulated OpenAI-compatible server (separate process) at "
        f"{latency_s:g} s per call, so a round can be no faster than {latency_s:g} s ({floor:.0f} drafts/s); the "
        f"other floor is CPU: the library used {base.cpu_s / rounds:.1f} s of it per round of {clients} (one "
        f"process, one GIL). No knowledge index, rules-only evaluator, answer cache off, no retries, no API keys, "
        f"rate limit off. API: "
        f"create_app(mount_ui=False) on uvicorn in a thread of this process, clients are threads sharing one httpx "
        f"keep-alive pool; the route is sync, so it runs in AnyIO's worker thread pool: at most 40 at once (its "
        f"default) whatever the model slots. Library: make_drafts (the route's function) with the route's profile "
        f"lookup, one thread per draft. Latency = per request, as the client sees it; p95 over all measured requests. "
        f"Errors = not 200 or not exactly one draft (excluded from drafts/s). CPU ms/draft = this process's CPU time "
        f"per request (server and clients both, in the API rows). {host}.",
    )
