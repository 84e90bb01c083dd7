"""Commands sharing the real local llama.cpp server: the first to leave does not stop it under the others."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from generator.server_lease import lease_holders, process_info, read_state
from tests.test_sharing import User

CVJ = [sys.executable, "-m", "generator.cli"]


def _cli(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CVJ_DATA_DIR": str(data_dir), "CVJ_PROVIDER": "local", "ANONYMIZED_TELEMETRY": "False"}
    return subprocess.run([*CVJ, *args], capture_output=True, text=True, env=env, timeout=300, check=False)


def _gone(pid: int, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while process_info(pid) is not None and time.monotonic() < deadline:
        time.sleep(0.1)
    return process_info(pid) is None


def test_two_commands_share_an_on_demand_server_and_the_second_goes_on_after_the_first_exits(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first, second = User(data_dir, None, fake=False), User(data_dir, None, fake=False)
    opened = first("open")
    pid = int(str(opened["pid"]))
    assert opened["launched"] and opened["shared"]
    assert second("open") == {"pid": pid, "launched": False, "shared": True}
    assert first("ask")["reply"] and second("ask")["reply"]  # both draft through the one server
    first("close")
    first.exit()  # the command that started the server is gone
    for _ in range(2):
        answer = second("ask")
        assert answer["reply"] and answer["pid"] == pid  # the same server, not a restart
    assert lease_holders(data_dir) == [second.pid]
    second("close")  # the last one out stops it
    assert _gone(pid) and read_state(data_dir) is None
    second.exit()


def test_llm_stop_while_a_command_uses_the_server_leaves_it_running_until_that_command_is_done(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    started = _cli("llm", "start", data_dir=data_dir)
    assert started.returncode == 0 and "Started" in started.stderr, started.stderr
    state = read_state(data_dir)
    assert state is not None and state.owner == "command"
    user = User(data_dir, None, fake=False)
    assert user("open")["pid"] == state.pid
    user("close")
    assert process_info(state.pid) is not None  # kept by `cvj llm start`
    user("open")
    stopped = _cli("llm", "stop", data_dir=data_dir)
    assert stopped.returncode == 0, stopped.stderr
    assert f"in use by 1 command(s) (pid {user.pid}); it stops when the last of them finishes" in stopped.stderr
    status = json.loads(_cli("llm", "status", "--json", data_dir=data_dir).stdout)
    assert status["running"] and status["owner"] == "on-demand" and status["users"] == [user.pid]
    assert user("ask")["reply"]
    user("close")
    assert _gone(state.pid)
    assert json.loads(_cli("llm", "status", "--json", data_dir=data_dir).stdout) == {"running": False}
    assert "No local server was running." in _cli("llm", "stop", data_dir=data_dir).stderr
    user.exit()
