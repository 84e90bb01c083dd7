"""Who may use and who may stop the data dir's local model server, and whether a pid is still the process we mean.

Several commands share one data dir (a kit, the API server, the UI) and so one server. Its state
(``<data_dir>/llm-server.json``) is written atomically, and everything that starts, joins, leaves or stops it
does so holding ``<data_dir>/llm-server.lock``. Each command using it holds a lease, a file
``<data_dir>/llm-leases/<pid>-<token>.json``; the last one out stops a server that was started on demand, while a
server started by ``cvj llm start`` (owner ``command``) runs until ``cvj llm stop``. Leases and the state record
the process's start time beside its pid, so a lease whose holder died is dropped, and a pid the system has since
given to another process is never taken for the server, let alone signalled.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import signal
import subprocess
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ValidationError

from generator.errors import ModelUnavailableError
from generator.files import exclusive, write_text_atomic

Owner = Literal["command", "on-demand"]
LOCK_MARGIN_S = 30.0  # on top of the start timeout: a command waits while another one starts the server


class ServerState(BaseModel):
    """What we know about a running server."""

    pid: int
    port: int
    model_path: str
    started_at: datetime
    owner: Owner = "command"  # a state file of an older version: never stopped behind a user's back
    process_start: str | None = None  # the pid's start time, read when it was launched

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"


class Lease(BaseModel):
    pid: int
    process_start: str


@dataclass(frozen=True)
class ProcessInfo:
    start: str  # as the system tells it ('' if it cannot): clock ticks since boot on Linux, ps's lstart elsewhere
    cmdline: str  # the arguments joined by spaces ('' if unknown)


def process_info(pid: int) -> ProcessInfo | None:
    """The live process with this pid, or None (no such process, or a zombie waiting to be reaped)."""
    if pid <= 0:
        return None
    if Path("/proc/self/stat").exists():
        try:
            stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return None
        fields = stat[stat.rindex(")") + 2 :].split()  # after the command name, which may hold spaces
        if fields[0] in {"Z", "X"}:
            return None
        return ProcessInfo(start=fields[19], cmdline=cmdline.replace(b"\0", b" ").decode(errors="replace").strip())
    return _ps_info(pid)


def _ps_info(pid: int) -> ProcessInfo | None:
    """Without /proc (macOS, BSD): ask ps; without ps, whether the pid exists at all."""
    try:
        found = subprocess.run(
            ["ps", "-ww", "-o", "stat=", "-o", "lstart=", "-o", "args=", "-p", str(pid)],
            capture_output=True, text=True, timeout=10, check=False,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return ProcessInfo(start="", cmdline="")
    parts = found.stdout.strip().split(None, 6)  # stat, lstart's five words (Mon Jan  1 00:00:00 2024), args
    if found.returncode != 0 or len(parts) < 6 or parts[0].startswith("Z"):
        return None
    return ProcessInfo(start=" ".join(parts[1:6]), cmdline=parts[6] if len(parts) > 6 else "")


def same_process(pid: int, start: str | None) -> bool:
    """True while ``pid`` is still the process that had this start time (an unknown time: while it lives)."""
    info = process_info(pid)
    return info is not None and (not start or not info.start or info.start == start)


def is_server_process(state: ServerState) -> bool:
    """True when the state's pid is that server: alive, started when it was, and serving its port."""
    info = process_info(state.pid)
    if info is None:
        return False
    same_start = bool(state.process_start and info.start) and info.start == state.process_start
    if state.process_start and info.start and not same_start:
        return False
    if info.cmdline:
        return re.search(rf"--port[ =]{state.port}\b", info.cmdline) is not None
    return same_start or not (info.start or state.process_start)  # with nothing to tell by (no /proc, no ps): alive


def terminate_server(state: ServerState, *, grace_s: float = 5.0) -> bool:
    """SIGTERM the server's process group, SIGKILL after ``grace_s``; only while its pid is still that server."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if not is_server_process(state):
            return sig is signal.SIGKILL  # gone (after our SIGTERM), or never ours: not signalled
        with contextlib.suppress(ProcessLookupError):
            os.killpg(state.pid, sig)
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline and process_info(state.pid) is not None:
            time.sleep(0.1)
    return True


def state_file(data_dir: Path) -> Path:
    return data_dir / "llm-server.json"


def read_state(data_dir: Path) -> ServerState | None:
    with contextlib.suppress(OSError, ValidationError):
        return ServerState.model_validate_json(state_file(data_dir).read_text(encoding="utf-8"))
    return None


def write_state(data_dir: Path, state: ServerState) -> None:
    write_text_atomic(state_file(data_dir), state.model_dump_json())


def forget_state(data_dir: Path, pid: int) -> None:
    """Remove the state file if it still names ``pid``."""
    state = read_state(data_dir)
    if state is not None and state.pid == pid:
        state_file(data_dir).unlink(missing_ok=True)


def server_lock(data_dir: Path, timeout_s: float) -> contextlib.AbstractContextManager[None]:
    """Held by whatever starts, joins, leaves or stops the data dir's server."""

    def busy(pid: int | None) -> Exception:
        who = f"another command (pid {pid})" if pid else "another command"
        return ModelUnavailableError(
            f"The local model server in {data_dir} is being started or stopped by {who}; waited {timeout_s:g} s. "
            "Try again, or `cvj llm stop` if that command is stuck."
        )

    return exclusive(data_dir / "llm-server.lock", timeout_s=timeout_s + LOCK_MARGIN_S, busy=busy)


def _lease_dir(data_dir: Path) -> Path:
    return data_dir / "llm-leases"


def take_lease(data_dir: Path) -> Path:
    """A lease for this process on the data dir's server (one per user: a process may hold several)."""
    pid = os.getpid()
    info = process_info(pid)
    path = _lease_dir(data_dir) / f"{pid}-{secrets.token_hex(4)}.json"
    write_text_atomic(path, Lease(pid=pid, process_start=info.start if info else "").model_dump_json())
    return path


def release_lease(path: Path) -> None:
    path.unlink(missing_ok=True)


def lease_holders(data_dir: Path) -> list[int]:
    """The pids of the live processes holding a lease; leases of dead holders (or of a reused pid) are removed."""
    holders: list[int] = []
    for path in sorted(_lease_dir(data_dir).glob("*.json")):
        try:
            lease = Lease.model_validate_json(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            continue  # released meanwhile
        except (OSError, ValidationError):
            lease = None
        if lease is not None and same_process(lease.pid, lease.process_start):
            holders.append(lease.pid)
        else:
            path.unlink(missing_ok=True)
    return holders


def stop_child(proc: subprocess.Popen[bytes], *, grace_s: float = 5.0) -> None:
    """Stop a server this process started: until we reap it, its pid cannot belong to anything else."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=grace_s)


def blocking_server(data_dir: Path) -> ServerState | None:
    """The recorded server when it cannot serve a command (another model, not answering) but is kept (``cvj llm
    start``) or in use; one that is gone, or started on demand and left by every user, is cleared away. Call it
    holding the server lock."""
    state = read_state(data_dir)
    if state is None:
        return None
    if is_server_process(state) and (state.owner == "command" or lease_holders(data_dir)):
        return state
    terminate_server(state)  # signals only a pid that is still that server
    forget_state(data_dir, state.pid)
    return None


def leave(data_dir: Path, lease: Path, process: subprocess.Popen[bytes] | None) -> None:
    """A command is done with the shared server (``process``: it started it). Call it holding the server lock.

    The last user out stops a server started on demand, whoever started it; one started by ``cvj llm start`` stays.
    """
    release_lease(lease)
    state = read_state(data_dir)
    if process is not None and (state is None or state.pid != process.pid):
        stop_child(process)  # ours and no longer the shared one: nobody else can find it
    if state is None or state.owner == "command" or lease_holders(data_dir):
        return
    if process is not None and process.pid == state.pid:
        stop_child(process)
    else:
        terminate_server(state)  # started by a command that has left: checked to be that server first
    forget_state(data_dir, state.pid)


@dataclass(frozen=True)
class StopOutcome:
    """What ``cvj llm stop`` did: stopped the server, or left it to the commands still using it."""

    stopped: bool
    users: list[int] = field(default_factory=list)  # pids of the commands using it; the last one out stops it


def stop_shared(data_dir: Path) -> StopOutcome:
    """``cvj llm stop`` (holding the server lock): stop the data dir's server now, unless commands are using it.

    Then it is handed back to them as if started on demand, and the last one out stops it. A state file whose pid
    is no longer that server (it died; the pid may belong to another process by now) is removed, nothing signalled.
    """
    state = read_state(data_dir)
    if state is None or not is_server_process(state):
        if state is not None:
            forget_state(data_dir, state.pid)
        return StopOutcome(stopped=False)
    if users := lease_holders(data_dir):
        if state.owner == "command":
            write_state(data_dir, state.model_copy(update={"owner": "on-demand"}))
        return StopOutcome(stopped=False, users=users)
    terminate_server(state)
    forget_state(data_dir, state.pid)
    return StopOutcome(stopped=True)
