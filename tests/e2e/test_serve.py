"""`cvj serve` as installed: the console script from another folder, the API and the UI on one port."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from tests.e2e.servers import free_port, wait_until_up

CVJ_SCRIPT = Path(sys.executable).parent / "cvj"


def test_serve_answers_the_api_the_eval_and_the_ui(data_dir: Path, local_server: object, tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "CVJ_DATA_DIR": str(data_dir), "ANONYMIZED_TELEMETRY": "False"}
    # cwd outside the checkout: `ui` must come from the installed package, not from the current folder
    proc = subprocess.Popen(
        [str(CVJ_SCRIPT), "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{url}/health", proc)
        assert httpx.get(f"{url}/ui/", timeout=30).status_code == 200
        texts = [
            "Give $20, get $20: share your code and you and your friend both save.",
            "Loved your visit? Leave us a quick Google review - it takes a minute.",
        ]
        fits = httpx.post(f"{url}/eval/classify", json={"texts": texts}, timeout=300).json()
        assert [f["stage"] for f in fits] == ["promote", "advocate"]
        scored = httpx.post(f"{url}/eval/score", json={"items": [{"stage": "promote", "text": texts[0]}]}, timeout=300)
        (result,) = scored.json()
        assert 0 <= result["score"] <= 1 and any(
            c["id"] == "quality" and c["score"] is not None for c in result["criteria"]
        )
        bad = httpx.post(f"{url}/drafts", json={"profile": {"name": "X"}, "stage": "aware"}, timeout=30)
        assert bad.status_code == 422 and "what_it_sells" in bad.text
    finally:
        proc.terminate()
        proc.wait(timeout=60)
