"""The embedded server on any CPU: a portable build, a real test completion, and a crash mid-kit survived."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import threading
from pathlib import Path

import httpx

from generator.kit import KitOptions, plan_kit, run_kit
from generator.llm import build_chat_model, check_completion
from generator.local_llm import build_info, running_server
from generator.profile import BusinessProfile
from generator.settings import Provider, Settings


def test_the_installed_llama_cpp_is_the_portable_build() -> None:
    """A native build on a CPU with AVX-512 or AMX crashes on CPUs without them; `make setup` builds portable."""
    import llama_cpp  # the native library: loaded only in this test

    info = build_info()
    assert "AVX2 = 1" in info
    assert "AVX512 = 1" not in info and "AMX_INT8 = 1" not in info, info
    objdump = shutil.which("objdump")
    if objdump:  # what the machine code holds, whatever the library reports
        library = next((Path(llama_cpp.__file__).parent / "lib").glob("libggml-cpu.so*"))
        code = subprocess.run([objdump, "-d", str(library)], capture_output=True, text=True, check=True).stdout
        assert not re.search(r"%zmm|ldtilecfg|tileloadd|tdpb[su][su]d", code)


def test_doctor_asks_for_a_real_completion(tmp_path: Path) -> None:
    answer = check_completion(Settings(provider=Provider.LOCAL, data_dir=tmp_path / "data"))
    assert re.fullmatch(r"answered (['\"]).+\1 in \d+\.\d s", answer), answer


def test_a_server_killed_mid_request_is_reported_and_the_next_asset_is_drafted_by_a_restart(
    tmp_path: Path, coffee: BusinessProfile
) -> None:
    settings = Settings(provider=Provider.LOCAL, data_dir=tmp_path / "data", llm_cache=False)
    plan = plan_kit(["aware"], variants=2)
    with running_server(settings) as server:
        first_pid = server.pid
        killed = threading.Event()

        def segfault_during_first_request(request: httpx.Request) -> None:
            if request.url.path.endswith("/chat/completions") and not killed.is_set():
                killed.set()  # the prompt's prefill takes seconds on 2 cores: 0.5 s in is mid-request
                threading.Timer(0.5, os.kill, (first_pid, signal.SIGSEGV)).start()

        model = build_chat_model(settings, local_server=server)
        assert model.http_client is not None  # built for the local server
        model.http_client.event_hooks["request"].append(segfault_during_first_request)
        report = run_kit(coffee, plan, out_dir=tmp_path / "kit", model=model, index=None, settings=settings,
                         options=KitOptions(concurrency=1))  # fmt: skip
        assert killed.is_set()
        crashed, next_one = report.entries
        assert crashed.draft is None and crashed.error is not None
        assert crashed.error.startswith("The local model server crashed (signal 11, SIGSEGV); last lines of its log:")
        assert "could not be reached" not in crashed.error
        assert server.restarted == 1 and server.pid != first_pid and server.is_alive()
        assert next_one.error is None and next_one.draft is not None, next_one.error
        assert next_one.draft.meta.usage.output_tokens > 0
        assert report.totals.assets == 1 and report.totals.failed == 1
    assert not server.is_alive()  # ours, restarted or not: stopped at the end
