"""The local server's supervision: a dead server is reported as a crash, with how it died and its log."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

import pytest
from langchain_core.messages import HumanMessage

from generator.errors import ModelCrashedError
from generator.llm import build_chat_model
from generator.local_llm import LocalServer, ServerState, describe_exit
from generator.settings import Provider, Settings


def _process(code: str, *, wait: bool) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([sys.executable, "-c", code], start_new_session=True)
    if wait:
        proc.wait(timeout=30)
    return proc


def _server(settings: Settings, proc: subprocess.Popen[bytes], *, restarts: int = 1) -> LocalServer:
    state = ServerState(pid=proc.pid, port=9, model_path="model.gguf", started_at=datetime.now(UTC))
    return LocalServer(settings, state, proc, restarts=restarts)


@pytest.fixture
def server_log(settings: Settings) -> None:
    settings.data_dir.mkdir(parents=True)
    lines = [f"line {n}" for n in range(40)] + ["llama_context: n_ctx = 8192", "ggml_compute_forward: boom"]
    (settings.data_dir / "llm-server.log").write_text("\n".join(lines))


def test_exit_statuses_read_as_a_person_would_say_them() -> None:
    assert describe_exit(-11) == "signal 11, SIGSEGV"
    assert describe_exit(-9) == "signal 9, SIGKILL"
    assert describe_exit(1) == "exit code 1"
    assert describe_exit(None) == "exit status unknown"


@pytest.mark.usefixtures("server_log")
def test_a_crashed_server_is_reported_with_its_signal_and_the_end_of_its_log(settings: Settings) -> None:
    proc = _process("import os, signal; os.kill(os.getpid(), signal.SIGSEGV)", wait=True)
    report = _server(settings, proc).crash_report()
    assert report is not None
    assert report.startswith("The local model server crashed (signal 11, SIGSEGV); last lines of its log:")
    assert "ggml_compute_forward: boom" in report and "line 0\n" not in report  # the tail, not the whole log
    assert "built for another CPU" in report  # a segfault hints at the build


@pytest.mark.usefixtures("server_log")
def test_a_server_that_exited_says_its_exit_code_without_the_build_hint(settings: Settings) -> None:
    report = _server(settings, _process("raise SystemExit(3)", wait=True)).crash_report()
    assert report is not None and "(exit code 3)" in report and "another CPU" not in report


@pytest.mark.usefixtures("server_log")
def test_a_server_is_restarted_only_once(settings: Settings) -> None:
    proc = _process("import os, signal; os.kill(os.getpid(), signal.SIGKILL)", wait=True)
    server = _server(settings, proc, restarts=0)
    with pytest.raises(ModelCrashedError, match=r"signal 9, SIGKILL(.|\n)*already restarted once"):
        server.ensure_running()


def test_a_live_server_has_no_crash_and_is_stopped_when_ours(settings: Settings) -> None:
    proc = _process("import time; time.sleep(60)", wait=False)
    server = _server(settings, proc)
    assert server.crash_report() is None
    server.ensure_running()  # alive: nothing to do
    assert server.restarted == 0
    server.close()
    assert proc.poll() is not None


@pytest.mark.usefixtures("server_log")
def test_the_chat_model_reports_the_crash_before_sending_anything(settings: Settings) -> None:
    proc = _process("import os, signal; os.kill(os.getpid(), signal.SIGSEGV)", wait=True)
    local = Settings(provider=Provider.LOCAL, data_dir=settings.data_dir, llm_cache=False)
    model = build_chat_model(local, local_server=_server(local, proc, restarts=0))
    assert model.openai_api_base == "http://127.0.0.1:9/v1"
    with pytest.raises(ModelCrashedError, match="crashed \\(signal 11, SIGSEGV\\)"):
        model.invoke([HumanMessage("hello")])
    assert model.request_counter is not None and model.request_counter.count == 0
