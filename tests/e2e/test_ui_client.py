"""The studio's named endpoints through ``gradio_client`` on the real local stack: `/draft`, `/score`, `/kit`.

The studio runs as a person starts it (``python ui.py``, port from GRADIO_SERVER_PORT), on the session's data dir,
so it shares the warm local model server and the index with the other e2e tests.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from gradio_client import Client  # type: ignore[import-untyped]  # ships no py.typed

from generator.settings import PROJECT_ROOT
from tests.e2e.servers import free_port

STARTUP_S = 300  # the index refresh and the eval's first load, on 2 cores


@contextlib.contextmanager
def studio(data_dir: Path, log: Path) -> Iterator[str]:
    """`python ui.py` on a free port; its URL once it answers. Its output goes to ``log`` (shown if it dies)."""
    port = free_port()
    env = {**os.environ, "CVJ_DATA_DIR": str(data_dir), "GRADIO_SERVER_PORT": str(port),
           "GRADIO_ANALYTICS_ENABLED": "False", "ANONYMIZED_TELEMETRY": "False"}  # fmt: skip
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "ui.py"], cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + STARTUP_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"ui.py exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url, timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                pytest.fail(f"ui.py did not answer within {STARTUP_S} s:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)


def test_the_named_endpoints_draft_score_and_run_a_kit(
    data_dir: Path, local_server: object, index: object, tmp_path: Path
) -> None:
    """``index``: the session's, up to date, so the studio starts in seconds."""
    with studio(data_dir, tmp_path / "ui.log") as url:
        client = Client(url, verbose=False)
        named = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
        assert {"/draft", "/score", "/kit"} <= set(named)

        draft = client.predict("harbor-lane-coffee", "aware", "social_post", "instagram", "", 1, api_name="/draft")
        assert draft["business"] == "Harbor Lane Coffee" and draft["asset_type"] == "social_post"
        assert draft["meta"]["model"] == "smollm2-135m-instruct" and draft["meta"]["sources"]
        assert draft["evaluation"]["verdict"] in {"passed", "needs work", "failed"}

        text = "Give $20, get $20: share your code and you and your friend both save."
        scored = client.predict("promote", text, "harbor-lane-coffee", api_name="/score")
        assert 0 <= scored["score"] <= 1 and scored["verdict"] in {"passed", "needs work", "failed"}
        assert any(c["id"] == "quality" and c["score"] is not None for c in scored["criteria"])

        kit = client.predict("harbor-lane-coffee", "aware", "md,json", api_name="/kit")
        (entry,) = kit["entries"]
        assert entry["key"] == "aware.social_post" and entry["error"] is None and entry["verdict"] is not None
        assert sorted(Path(f).name for f in kit["files"]) == ["kit.json", "kit.md"]
        assert all(Path(f).is_file() for f in kit["files"]) and kit["journey"][0]["stage"] == "aware"

        with pytest.raises(Exception, match="Unknown stage 'nirvana'"):
            client.predict("harbor-lane-coffee", "nirvana", api_name="/draft")
