"""RAG end to end: ingest real files, search through the CLI, a real Chroma server, and retrieval quality."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from docx import Document as DocxDocument

from generator.evaluation.retrieval import evaluate_retrieval, load_cases
from generator.knowledge import KnowledgeIndex
from generator.settings import PROJECT_ROOT, Settings
from tests.e2e.servers import free_port, wait_until_up

CVJ = [sys.executable, "-m", "generator.cli"]
CHROMA = Path(sys.executable).parent / "chroma"


def _cli(*args: str, data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "CVJ_DATA_DIR": str(data_dir), "ANONYMIZED_TELEMETRY": "False", **env}
    return subprocess.run([*CVJ, *args], capture_output=True, text=True, env=environ, timeout=600, check=False)


@pytest.fixture
def business_docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    (folder / "nested").mkdir(parents=True)
    (folder / "about.md").write_text("# About\n\n## Our story\nHarbor Lane Coffee roasts on Alder Street since 2016.\n")
    (folder / "nested" / "faq.html").write_text(
        "<html><body><h1>FAQ</h1><script>alert(1)</script><p>Subscriptions ship every Tuesday.</p></body></html>"
    )
    (folder / "menu.txt").write_text("Seasonal flight: three single origins from Ethiopia, Colombia and Peru.")
    doc = DocxDocument()
    doc.add_paragraph("Wholesale sheet: cafes get 15 percent off orders over 10 kg.")
    doc.save(str(folder / "wholesale.docx"))
    (folder / "broken.pdf").write_bytes(b"this is not a pdf at all")
    return folder


def test_ingest_search_and_reingest(business_docs: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = _cli("ingest", str(business_docs), "--business", "harbor-lane-coffee", data_dir=data)
    assert first.returncode == 2, first.stderr  # one file was unreadable...
    assert "broken.pdf" in first.stderr and "Ingested 4 file(s)" in first.stderr  # ...and the rest went in
    found = _cli("search", "when do subscriptions ship", "--business", "harbor-lane-coffee", "--json", data_dir=data)
    assert found.returncode == 0, found.stderr
    hits = json.loads(found.stdout)
    assert {"text", "source", "stage", "kind", "score"} <= set(hits[0])
    assert "Tuesday" in hits[0]["text"] and hits[0]["kind"] == "business"
    assert "alert(1)" not in " ".join(h["text"] for h in hits)
    again = _cli("ingest", str(business_docs), "--business", "harbor-lane-coffee", data_dir=data)
    assert "0 new" in again.stderr


def test_search_json_with_stage(tmp_path: Path) -> None:
    result = _cli("search", "ideas for a freebie to grow my list", "--stage", "subscribe", "-k", "3", "--json",
                  data_dir=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    hits = json.loads(result.stdout)
    assert len(hits) == 3 and all(h["stage"] == "subscribe" for h in hits)


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [str(CHROMA), "run", "--path", str(tmp_path / "server"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{url}/api/v2/heartbeat", proc, seconds=60)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_a_chroma_server_is_shared_by_workers(chroma_server: str, business_docs: Path, tmp_path: Path) -> None:
    """Two workers with different data dirs share one index through CVJ_CHROMA_URL."""
    worker_a, worker_b = tmp_path / "a", tmp_path / "b"
    ingest = _cli("ingest", str(business_docs / "about.md"), "--business", "harbor-lane-coffee",
                  data_dir=worker_a, CVJ_CHROMA_URL=chroma_server)  # fmt: skip
    assert ingest.returncode == 0, ingest.stderr
    found = _cli("search", "Alder Street roastery story", "--business", "harbor-lane-coffee", "--json",
                 data_dir=worker_b, CVJ_CHROMA_URL=chroma_server)  # fmt: skip
    assert found.returncode == 0, found.stderr
    assert "Alder Street" in json.loads(found.stdout)[0]["text"]
    assert not (worker_b / "index").exists()


def test_retrieval_quality_meets_the_target(index: KnowledgeIndex, stack_settings: Settings) -> None:
    report = evaluate_retrieval(index, load_cases(PROJECT_ROOT / "eval" / "retrieval" / "queries.yaml"))
    assert report.hit_at_1_stage >= 0.9, report.misses
    assert report.recall_at_k >= 0.85
