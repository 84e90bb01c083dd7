"""Several processes on one data folder: the local server shared by lease, one index writer, the answer cache.

The server tests run the real lease code in child processes against a stand-in server (a few lines of HTTP that
answer the health check), so they need no model; tests/e2e/test_sharing.py does the same on the real llama.cpp server.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from langchain_core.outputs import Generation

from generator import local_llm
from generator.files import exclusive
from generator.knowledge import IndexBusyError, KnowledgeIndex, knowledge_documents, profile_documents
from generator.llm_cache import SQLiteAnswerCache
from generator.server_lease import (
    ServerState,
    is_server_process,
    lease_holders,
    process_info,
    read_state,
    same_process,
    take_lease,
    write_state,
)
from generator.settings import PROJECT_ROOT, Provider, Settings
from tests.conftest import EXAMPLES
from tests.test_retrieval import WordHashEmbeddings

# A stand-in for llama_cpp.server: answers GET /v1/models, takes the same --model and --port arguments.
FAKE_SERVER = textwrap.dedent("""
    import http.server, sys
    port = int(sys.argv[sys.argv.index("--port") + 1])
    class Models(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path == "/v1/models" else 404)
            self.end_headers()
            self.wfile.write(b'{"data": []}')
        def log_message(self, *args):
            pass
    http.server.HTTPServer(("127.0.0.1", port), Models).serve_forever()
""")

# A command using the data dir's server, driven line by line on stdin: open, healthy, close, start, exit.
USER = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    from generator import local_llm
    from generator.settings import Provider, Settings
    FAKE = {fake!r}
    if FAKE is not None:
        local_llm.server_command = lambda s, model, port: [
            sys.executable, "-c", FAKE, "--model", str(model), "--port", str(port)]
    settings = Settings(provider=Provider.LOCAL, data_dir=Path({data_dir!r}), local_gguf={gguf!r}, llm_cache=False)
    server = None
    for line in sys.stdin:
        command = line.strip()
        if command == "open":
            server = local_llm.open_server(settings)
            answer = {{"pid": server.pid, "launched": server.process is not None, "shared": server.lease is not None}}
        elif command == "healthy":
            answer = {{"healthy": local_llm.is_healthy(server.base_url)}}
        elif command == "ask":
            from langchain_core.messages import HumanMessage
            from generator.llm import build_chat_model
            quick = settings.model_copy(update={{"max_output_tokens": 8}})
            reply = build_chat_model(quick, local_server=server).invoke([HumanMessage("Reply with the word OK.")])
            answer = {{"reply": str(reply.content), "pid": server.pid}}
        elif command == "ensure":
            server.ensure_running()
            answer = {{"pid": server.pid, "port": server.state.port, "restarted": server.restarted,
                       "launched": server.process is not None, "shared": server.lease is not None}}
        elif command == "close":
            server.close()
            answer = {{"closed": True}}
        elif command == "start":
            state, started = local_llm.start(settings)
            answer = {{"pid": state.pid, "started": started}}
        else:
            break
        print(json.dumps(answer), flush=True)
""")


class User:
    """One command (a process of its own) using the data dir's local server."""

    def __init__(self, data_dir: Path, gguf: Path | None, *, fake: bool = True) -> None:
        code = USER.format(fake=FAKE_SERVER if fake else None, data_dir=str(data_dir), gguf=str(gguf) if gguf else None)
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=PROJECT_ROOT
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def __call__(self, command: str) -> dict[str, object]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        assert line, f"the user process died on {command!r} (exit {self.proc.wait(timeout=30)})"
        answer: dict[str, object] = json.loads(line)
        return answer

    def exit(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        assert self.proc.wait(timeout=60) == 0

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=30)


def wait_gone(pid: int, seconds: float = 15) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process_info(pid) is None:
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def local(tmp_path: Path) -> Iterator[Settings]:
    """A data dir and a model file for the stand-in server; any server still running at the end is stopped."""
    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"GGUF")
    settings = Settings(provider=Provider.LOCAL, data_dir=tmp_path / "data", local_gguf=gguf, llm_cache=False)
    yield settings
    state = read_state(settings.data_dir)
    if state is not None and is_server_process(state):
        os.killpg(state.pid, 9)


def _users(settings: Settings, n: int) -> list[User]:
    return [User(settings.data_dir, settings.local_gguf) for _ in range(n)]


def test_the_first_user_leaving_does_not_stop_the_server_under_the_second(local: Settings) -> None:
    first, second = _users(local, 2)
    opened = first("open")
    assert opened["launched"] and opened["shared"]
    assert second("open") == {"pid": opened["pid"], "launched": False, "shared": True}  # reused, under a lease
    assert sorted(lease_holders(local.data_dir)) == sorted([first.pid, second.pid])
    first("close")
    first.exit()  # the process that started it is gone altogether
    assert process_info(int(str(opened["pid"]))) is not None
    assert second("healthy") == {"healthy": True}
    assert lease_holders(local.data_dir) == [second.pid]
    second("close")  # the last user out stops it, though another command started it
    assert wait_gone(int(str(opened["pid"])))
    assert read_state(local.data_dir) is None and lease_holders(local.data_dir) == []
    second.exit()


def test_a_user_that_died_without_leaving_is_dropped_and_the_last_one_stops_the_server(local: Settings) -> None:
    first, second = _users(local, 2)
    pid = int(str(first("open")["pid"]))
    second("open")
    second.kill()  # SIGKILL: no close, its lease file stays behind
    assert len(list((local.data_dir / "llm-leases").glob("*.json"))) == 2
    first("close")
    assert wait_gone(pid) and read_state(local.data_dir) is None
    assert list((local.data_dir / "llm-leases").glob("*.json")) == []
    first.exit()


def test_an_orphaned_on_demand_server_is_reused_and_stopped_by_its_next_user(local: Settings) -> None:
    crashed, later = _users(local, 2)
    pid = int(str(crashed("open")["pid"]))
    crashed.kill()  # the command that started it died: its server runs on, with no user
    assert process_info(pid) is not None
    assert later("open") == {"pid": pid, "launched": False, "shared": True}
    later("close")
    assert wait_gone(pid)
    later.exit()


def test_a_shared_server_that_crashed_is_restarted_once_and_the_other_users_take_the_restart(
    local: Settings,
) -> None:
    first, second = _users(local, 2)
    crashed = int(str(first("open")["pid"]))
    second("open")
    os.killpg(crashed, 9)
    assert wait_gone(crashed)
    restart = second("ensure")  # the first user to notice restarts it, on the same port, for everyone
    assert restart["pid"] != crashed and restart["restarted"] == 1 and restart["launched"] and restart["shared"]
    state = read_state(local.data_dir)
    assert state is not None and state.pid == restart["pid"] and state.owner == "on-demand"
    adopted = first("ensure")  # the other finds it restarted already: no second server
    assert adopted == {**restart, "launched": False}
    second("close")  # the restart's own process leaves first: the other user still has it
    assert process_info(state.pid) is not None and first("healthy") == {"healthy": True}
    first("close")
    assert wait_gone(state.pid) and read_state(local.data_dir) is None
    first.exit()
    second.exit()


def test_a_server_kept_by_llm_start_outlives_its_users_until_llm_stop(local: Settings) -> None:
    starter, user = _users(local, 2)
    started = starter("start")
    starter.exit()
    pid = int(str(started["pid"]))
    assert started["started"] and read_state(local.data_dir) is not None
    assert user("open")["pid"] == pid
    user("close")
    assert process_info(pid) is not None  # owned by `cvj llm start`: its users do not stop it
    assert local_llm.stop(local) == local_llm.StopOutcome(stopped=True)
    assert wait_gone(pid) and read_state(local.data_dir) is None
    user.exit()


def test_llm_stop_while_in_use_leaves_the_server_to_its_users_and_the_last_one_stops_it(local: Settings) -> None:
    starter, user = _users(local, 2)
    pid = int(str(starter("start")["pid"]))
    starter.exit()
    user("open")
    outcome = local_llm.stop(local)
    assert outcome == local_llm.StopOutcome(stopped=False, users=[user.pid])
    state = read_state(local.data_dir)
    assert state is not None and state.owner == "on-demand" and process_info(pid) is not None
    assert user("healthy") == {"healthy": True}
    user("close")
    assert wait_gone(pid)
    user.exit()


def test_llm_start_keeps_a_server_started_on_demand(local: Settings) -> None:
    user, starter = _users(local, 2)
    pid = int(str(user("open")["pid"]))
    assert starter("start") == {"pid": pid, "started": False}
    user("close")
    assert process_info(pid) is not None
    assert local_llm.stop(local).stopped and wait_gone(pid)
    user.exit()
    starter.exit()


@pytest.fixture
def stranger() -> Iterator[subprocess.Popen[bytes]]:
    """Another process, not our server, that now has the pid a state file names (pid reuse)."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", "--port", "8123"])
    deadline = time.monotonic() + 30
    while "--port 8123" not in getattr(process_info(proc.pid), "cmdline", "") and time.monotonic() < deadline:
        time.sleep(0.02)  # until it has exec'd: a fork not yet exec'd has this test's command line
    yield proc
    proc.kill()
    proc.wait(timeout=30)


def _stale_state(pid: int, *, process_start: str | None, model: str = "model.gguf") -> ServerState:
    return ServerState(pid=pid, port=8123, model_path=model, started_at=datetime.now(UTC), owner="on-demand",
                       process_start=process_start)  # fmt: skip


@pytest.mark.parametrize("process_start", ["1", None], ids=["other start time", "old state file, other command line"])
def test_a_stale_state_file_naming_another_process_is_never_signalled(
    local: Settings, stranger: subprocess.Popen[bytes], process_start: str | None
) -> None:
    state = _stale_state(stranger.pid, process_start=process_start, model=str(local_llm.gguf_path(local)))
    if process_start is None:  # no start time recorded: the command line must name the server's port
        state = state.model_copy(update={"port": 8999})
    write_state(local.data_dir, state)
    assert not is_server_process(state)
    assert local_llm.find_running(local) is None  # not taken for the server (and no health check sent to its port)
    assert local_llm.stop(local) == local_llm.StopOutcome(stopped=False)
    time.sleep(0.3)
    assert stranger.poll() is None  # not signalled
    assert read_state(local.data_dir) is None  # the stale file is gone


def test_a_state_file_naming_the_server_itself_is_recognised(stranger: subprocess.Popen[bytes]) -> None:
    info = process_info(stranger.pid)
    assert info is not None and "--port 8123" in info.cmdline
    assert is_server_process(_stale_state(stranger.pid, process_start=info.start))
    assert not is_server_process(_stale_state(stranger.pid, process_start=info.start).model_copy(update={"port": 812}))


def test_process_identity_with_and_without_proc(stranger: subprocess.Popen[bytes]) -> None:
    from generator.server_lease import _ps_info

    own = process_info(os.getpid())
    assert own is not None and same_process(os.getpid(), own.start) and not same_process(os.getpid(), "1")
    by_ps = _ps_info(stranger.pid)  # the fallback where there is no /proc (macOS)
    assert by_ps is not None and "--port 8123" in by_ps.cmdline and by_ps.start
    stranger.kill()
    stranger.wait(timeout=30)
    assert process_info(stranger.pid) is None and _ps_info(stranger.pid) is None


def test_a_lease_whose_pid_now_belongs_to_another_process_is_dropped(
    settings: Settings, stranger: subprocess.Popen[bytes]
) -> None:
    mine = take_lease(settings.data_dir)
    reused = settings.data_dir / "llm-leases" / f"{stranger.pid}-0000.json"
    reused.write_text(json.dumps({"pid": stranger.pid, "process_start": "1"}))
    garbage = settings.data_dir / "llm-leases" / "1-garbage.json"
    garbage.write_text("{not json")
    assert lease_holders(settings.data_dir) == [os.getpid()]
    assert mine.exists() and not reused.exists() and not garbage.exists()


# --- the index: one writer at a time ---------------------------------------------------------------------------

INDEXER = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    from generator.knowledge import KnowledgeIndex, index_all
    from generator.profile import load_profile
    from generator.settings import Settings
    from tests.test_retrieval import WordHashEmbeddings
    data_dir, go, profile = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    settings = Settings(data_dir=data_dir)
    while not go.exists():
        time.sleep(0.01)
    added = 0
    for _ in range(2):  # the second pass finds everything there and adds nothing
        index = KnowledgeIndex.open(settings, embeddings=WordHashEmbeddings(), embedding_id="hash")
        added += index_all(index, settings.knowledge_dir, [load_profile(profile)])
    print(json.dumps({"added": added}))
""")


def test_processes_indexing_at_once_leave_a_consistent_index(tmp_path: Path) -> None:
    go = tmp_path / "go"
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", INDEXER, str(tmp_path / "data"), str(go), str(profile)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=PROJECT_ROOT,
        )
        for profile in EXAMPLES[:2]
    ]
    time.sleep(1.5)  # every worker waits at the line, its imports done
    go.touch()
    outputs = [w.communicate(timeout=300) for w in workers]
    for worker, (_, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err[-3000:]
    from generator.profile import load_profile

    expected = {d.page_content for d in knowledge_documents(PROJECT_ROOT / "knowledge")}
    for profile in EXAMPLES[:2]:
        expected |= {d.page_content for d in profile_documents(load_profile(profile))}
    index = KnowledgeIndex.open(
        Settings(data_dir=tmp_path / "data"), embeddings=WordHashEmbeddings(), embedding_id="hash"
    )
    assert index.count() == len(expected)
    assert sum(json.loads(out)["added"] for out, _ in outputs) == len(expected)  # every chunk written exactly once
    stored = index.collection.get(include=["documents"])
    assert len(set(stored["ids"])) == len(expected) and set(stored["documents"] or []) == expected
    query = np.array([WordHashEmbeddings().embed_query("referral")], dtype=np.float32)
    found = index.collection.query(query_embeddings=query, n_results=len(expected))
    assert len(found["ids"][0]) == len(expected)  # the vector index holds every chunk too


HOLDER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from generator.files import exclusive  # what index_write_lock holds, without importing Chroma
    with exclusive(Path(sys.argv[1]), timeout_s=10, busy=RuntimeError):
        print("held", flush=True)
        time.sleep(60)
""")


def test_a_writer_waits_for_another_commands_write_and_says_who_holds_it(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    index = KnowledgeIndex.open(settings, embeddings=WordHashEmbeddings(), embedding_id="hash")
    docs = knowledge_documents(PROJECT_ROOT / "knowledge")[:5]
    index.add(docs[:2])
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(settings.data_dir / "index.lock")],
                              stdout=subprocess.PIPE, text=True, cwd=PROJECT_ROOT)  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        index.lock_timeout_s = 0.5
        with pytest.raises(IndexBusyError) as busy:
            index.add(docs)
        assert busy.value.message.startswith(f"The index is being updated by another command (pid {holder.pid}); ")
        assert "try again or set CVJ_CHROMA_URL to share a Chroma server" in busy.value.message
        assert index.add(docs[:2]) == 0  # nothing new: no lock to wait for
        assert index.search("referral reward", k=2)  # readers go on
        assert index.count() == 2
    finally:
        holder.kill()
        holder.wait(timeout=30)
    assert index.add(docs) == 3  # the holder died: the system released its lock


def test_a_chroma_server_index_takes_no_file_lock(tmp_path: Path) -> None:
    index = KnowledgeIndex.open(
        Settings(data_dir=tmp_path / "data"), embeddings=WordHashEmbeddings(), embedding_id="h2"
    )
    remote = KnowledgeIndex(index.store, embeddings=index.embeddings)  # how open() builds it for CVJ_CHROMA_URL
    lock = tmp_path / "data" / "index.lock"
    with exclusive(lock, timeout_s=1, busy=RuntimeError), remote.writing():  # no wait on the folder's lock
        pass
    assert remote.write_lock is None and index.write_lock == lock


# --- the answer cache written by several processes at once --------------------------------------------------------

KEYS = 25


def _cache_worker(path: str, worker: int, go: str) -> list[str]:
    """Open the cache (a fresh file: every worker sets WAL at once) and write and read overlapping keys."""
    while not Path(go).exists():
        time.sleep(0.005)
    cache = SQLiteAnswerCache(Path(path))
    seen = []
    for i in range(120):
        cache.update(f"prompt {i % KEYS}", "llm", [Generation(text=f"worker {worker} answer {i}")])
        hit = cache.lookup(f"prompt {(i * 7) % KEYS}", "llm")
        if hit is not None:
            seen.append(hit[0].text)
    return seen


def test_the_answer_cache_written_by_several_processes_at_once_stays_consistent(tmp_path: Path) -> None:
    path, go = tmp_path / "llm-cache.sqlite", tmp_path / "go"
    context = multiprocessing.get_context("forkserver")  # never a fork of this (threaded) process
    context.set_forkserver_preload([__name__])  # each worker forks from one server with this module imported
    with context.Pool(6) as pool:
        pending = pool.starmap_async(_cache_worker, [(str(path), w, str(go)) for w in range(6)])
        time.sleep(3)  # the workers start (imports) and wait at the line
        go.touch()
        seen = pending.get(timeout=300)  # a "database is locked" in any worker would be raised here
    written = {f"worker {w} answer {i}" for w in range(6) for i in range(120)}
    assert all(text in written for texts in seen for text in texts)  # every read is a whole answer someone wrote
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        rows = db.execute("SELECT generations FROM answers").fetchall()
    assert len(rows) == KEYS
    assert all(json.loads(row[0])[0]["text"] in written for row in rows)
    cache = SQLiteAnswerCache(path)
    assert all(cache.lookup(f"prompt {k}", "llm") for k in range(KEYS))


ADDER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from generator.knowledge import KnowledgeIndex, profile_documents
    from generator.profile import load_profile
    from generator.settings import Settings
    from tests.test_retrieval import WordHashEmbeddings
    settings = Settings(data_dir=Path(sys.argv[1]))
    index = KnowledgeIndex.open(settings, embeddings=WordHashEmbeddings(), embedding_id="hash")
    profile = load_profile(Path(sys.argv[2]))
    print(index.replace_source(f"profile:{profile.slug}", profile_documents(profile)))
""")


def test_a_long_running_reader_finds_chunks_another_process_wrote(tmp_path: Path) -> None:
    """Chroma keeps a folder's vector index in memory: a filtered search for chunks another process added failed
    with "Error finding id" (the API or the UI beside `cvj ingest`). The index reloads the folder and answers."""
    from generator.profile import load_profile

    settings = Settings(data_dir=tmp_path / "data")
    index = KnowledgeIndex.open(settings, embeddings=WordHashEmbeddings(), embedding_id="hash")
    first = load_profile(EXAMPLES[0])
    index.replace_source(f"profile:{first.slug}", profile_documents(first))
    assert index.search("offer", k=2, business=first.slug)  # this process's vector index is loaded now
    second = load_profile(EXAMPLES[1])
    done = subprocess.run([sys.executable, "-c", ADDER, str(settings.data_dir), str(EXAMPLES[1])],
                          capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=300)  # fmt: skip
    assert done.returncode == 0 and int(done.stdout) > 0, done.stderr[-2000:]
    hits = index.search("offer", k=2, business=second.slug)
    assert hits and all(h.kind == "business" for h in hits)
    assert index.search("offer", k=2, business=first.slug)  # and the first business's still
