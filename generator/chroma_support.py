"""Chroma plumbing the index needs: a client for a Chroma server, reloading a folder another process changed,
and maximal-marginal-relevance picking."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar
from urllib.parse import urlparse

import chromadb
import numpy as np
from chromadb.api import ClientAPI
from chromadb.api.shared_system_client import SharedSystemClient
from chromadb.errors import InternalError

from generator.errors import ConfigError, ModelUnavailableError

T = TypeVar("T")


def chroma_http_client(url: str) -> ClientAPI:
    """A client for a Chroma server at ``http(s)://host:port``."""
    parsed = urlparse(url if "://" in url else f"http://{url}")
    if not parsed.hostname:
        raise ConfigError(f"CVJ_CHROMA_URL '{url}' is not a URL like http://127.0.0.1:8001")
    port = parsed.port or (443 if parsed.scheme == "https" else 8000)
    try:
        return chromadb.HttpClient(host=parsed.hostname, port=port, ssl=parsed.scheme == "https")
    except Exception as exc:  # chromadb raises plain exceptions for connection failures
        raise ModelUnavailableError(f"Cannot reach the Chroma server at {url}: {exc}") from None


def changed_elsewhere(exc: Exception) -> bool:
    """Chroma's error when this process's in-memory vector index misses chunks another process wrote to the folder
    (the metadata filter finds them on disk, the stale vector index does not)."""
    return isinstance(exc, InternalError) and "error finding id" in str(exc).lower()


def reloading(query: Callable[[], T], reload: Callable[[], None] | None) -> T:
    """Run ``query``; if another process changed the folder under it, reload the folder and run it once more."""
    try:
        return query()
    except Exception as exc:
        if reload is None or not changed_elsewhere(exc):
            raise
    reload()
    return query()


def forget_cached_folders() -> None:
    """Make the next client of a folder read it from disk again (Chroma caches one per path per process; clients
    already open keep working)."""
    SharedSystemClient.clear_system_cache()


def mmr(scores: np.ndarray, vectors: np.ndarray, *, k: int, diversity: float) -> list[int]:
    """Maximal marginal relevance: each pick trades relevance against similarity to earlier picks."""
    if len(scores) == 0:
        return []
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True).clip(min=1e-12)
    picked = [int(np.argmax(scores))]
    while len(picked) < min(k, len(scores)):
        redundancy = (unit @ unit[picked].T).max(axis=1)
        value = (1 - diversity) * scores - diversity * redundancy
        value[picked] = -np.inf
        picked.append(int(np.argmax(value)))
    return picked
