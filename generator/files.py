"""Atomic file writes (a crash or a concurrent reader never sees half a file) and a lock file across processes."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from filelock import FileLock, Timeout

from generator.errors import DocumentError


def write_atomic(path: Path, write: Callable[[str], object]) -> None:
    """``write(tmp)`` into a unique temp file in the same folder, then replace ``path`` with it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def write_text_atomic(path: Path, text: str) -> None:
    write_atomic(Path(path), lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def write_json_atomic(path: Path, data: object) -> None:
    write_text_atomic(path, json.dumps(data, indent=2, ensure_ascii=False))


@functools.cache
def _file_lock(path: str) -> FileLock:
    # One object per path: re-entrant within a thread, and threads (each its own descriptor) exclude each other too.
    return FileLock(path)


def lock_holder(path: Path) -> int | None:
    """The pid that last took the lock file ``path`` (None if unknown)."""
    with contextlib.suppress(OSError, ValueError):
        return int(_owner_file(Path(path)).read_text(encoding="utf-8").strip())
    return None


def _owner_file(path: Path) -> Path:
    return path.with_name(path.name + ".owner")


@contextlib.contextmanager
def exclusive(path: Path, *, timeout_s: float, busy: Callable[[int | None], Exception]) -> Iterator[None]:
    """Hold the lock file ``path`` for the block: one holder at a time across processes and threads, re-entrant.

    Waits up to ``timeout_s``, then raises ``busy(pid of the holder)``. The operating system drops the lock when
    its holder dies, so a killed command never leaves it held.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = _file_lock(str(path))
    try:
        lock.acquire(timeout=timeout_s)
    except Timeout:
        raise busy(lock_holder(path)) from None
    try:
        if lock.lock_counter == 1:  # the outermost hold in this thread says who holds it
            write_text_atomic(_owner_file(path), str(os.getpid()))
        yield
    finally:
        lock.release()


def read_utf8(path: Path) -> str:
    """A text file the project ships or a user edits (a guide, a prompt), or an error naming the file and the byte."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DocumentError(
            f"{path} is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at position {exc.start}); save it as UTF-8."
        ) from None
