"""Shared fixtures. Unit tests never touch the network; e2e tests may use loopback only."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

import pytest

os.environ["ANONYMIZED_TELEMETRY"] = "False"  # chromadb: never phone home from tests

from generator.profile import BusinessProfile, load_profile
from generator.settings import PROJECT_ROOT, Settings

EXAMPLES = sorted((PROJECT_ROOT / "examples").glob("*.yaml"))
_real_connect = socket.socket.connect


def _is_loopback(address: object) -> bool:
    host = address[0] if isinstance(address, tuple) else str(address)
    return str(host) in {"127.0.0.1", "localhost", "::1"} or str(host).startswith("127.")


@pytest.fixture(autouse=True)
def network_guard(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Unit tests: no sockets at all. End-to-end tests (and ``loopback`` ones: a real server on the fake model):
    loopback only."""
    e2e = any(request.node.get_closest_marker(marker) is not None for marker in ("e2e", "loopback"))

    def guarded_connect(sock: socket.socket, address: tuple[Any, ...] | str | bytes) -> None:
        if sock.family == socket.AF_UNIX or (e2e and _is_loopback(address)):
            return _real_connect(sock, address)
        raise RuntimeError(f"network access in a test: {address!r}")

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests see only the settings they set."""
    for key in list(os.environ):
        if key.startswith("CVJ_") or key == "OPENAI_API_KEY":
            monkeypatch.delenv(key)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture
def coffee() -> BusinessProfile:
    return load_profile(PROJECT_ROOT / "examples" / "harbor-lane-coffee.yaml")
