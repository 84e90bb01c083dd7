"""What every tab of the studio shares: the service per request, the business in use, friendly errors, running
slow work in a thread while the page keeps streaming, and where the studio keeps its files.

Errors reach the page as messages (``gr.Error``/``gr.Warning``), never as a traceback: the one place that turns
the library's errors into the UI's form is :func:`friendly`.
"""

from __future__ import annotations

import functools
import html
import inspect
import logging
import queue
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, ParamSpec, TypeVar

import gradio as gr

from generator.errors import CVJError
from generator.evaluation.results import AssetScore
from generator.profile import BusinessProfile, parse_profile_text
from generator.service import DraftingService

log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")

VERDICT_COLOURS = {"passed": "#1a7f37", "needs work": "#9a6700", "failed": "#cf222e"}


class Stopped(CVJError):
    """The person pressed Stop: raised from the streaming callback, so the model's stream is closed."""


@dataclass(frozen=True)
class Studio:
    """What the tabs need to reach: the service (asked for per request, so state stays out of globals) and the
    example businesses offered in the pickers."""

    get_service: Callable[[], DraftingService]
    examples_dir: Path

    def service(self) -> DraftingService:
        return self.get_service()

    def examples(self) -> dict[str, Path]:
        return examples(self.examples_dir)

    def folder(self, name: str, profile: BusinessProfile | None = None) -> Path:
        """A studio folder in the data dir (``businesses``, ``documents``, ``drafts``, ``kits``), per business."""
        base = self.service().settings.data_dir / name
        return base / profile.key if profile is not None else base


def examples(examples_dir: Path) -> dict[str, Path]:
    """The example businesses offered in the picker (CVJ_EXAMPLES_DIR), by file stem."""
    return {p.stem: p for p in sorted(examples_dir.glob("*.yaml"))}


def message(exc: BaseException) -> str:
    """What a person reads about a failure: a CVJ error's own words, else its type and text (never a traceback)."""
    if isinstance(exc, CVJError):
        return exc.message
    log.warning("ui: unexpected %s: %s", type(exc).__name__, exc, exc_info=exc)
    return f"Something went wrong ({type(exc).__name__}: {exc}). The server's log has the details."


def friendly(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn every error a handler raises into a message in the page (``gr.Error``), generators included."""

    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def stream(*args: P.args, **kwargs: P.kwargs) -> Any:
            try:
                yield from fn(*args, **kwargs)
            except gr.Error:
                raise
            except Exception as exc:
                raise gr.Error(message(exc)) from None

        return stream

    @functools.wraps(fn)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except Exception as exc:
            raise gr.Error(message(exc)) from None

    return call


def parse_profile(profile_text: str | None) -> BusinessProfile:
    """The business in use, from its YAML or JSON; a readable error if there is none or it is invalid."""
    if not (profile_text or "").strip():
        raise gr.Error("The profile is empty: choose a business on the Business tab (an example, a file or the form).")
    try:
        return parse_profile_text(profile_text or "", source="The profile")
    except CVJError as exc:
        raise gr.Error(exc.message) from None


class Background(Generic[T, R]):
    """Run ``work(report)`` in a thread. Iterating yields the batches it reported while it runs (an empty one each
    ``poll_s``, so the page stays live); then ``result`` holds what it returned. Its error is raised from the loop,
    in the page's generator, which shows it."""

    def __init__(self, work: Callable[[Callable[[T], None]], R], *, poll_s: float = 0.5) -> None:
        self._work, self._poll_s = work, poll_s
        self._reported: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.result: R | None = None

    def _run(self) -> None:
        try:
            self._reported.put(("done", self._work(lambda item: self._reported.put(("item", item)))))
        except BaseException as exc:  # handed to the page's generator
            self._reported.put(("error", exc))

    def __iter__(self) -> Iterator[list[T]]:
        threading.Thread(target=self._run, name="ui-work", daemon=True).start()
        while True:
            batch: list[T] = []
            try:
                kind, value = self._reported.get(timeout=self._poll_s)
                while kind == "item":
                    batch.append(value)
                    kind, value = self._reported.get_nowait()
            except queue.Empty:
                yield batch
                continue
            if batch:
                yield batch
            if kind == "error":
                raise value
            self.result = value
            return


def stop_flag(flags: dict[str, threading.Event] | None, name: str) -> threading.Event:
    """A fresh stop flag for this session's ``name`` work (kept in a ``gr.State`` dict, so Stop can set it)."""
    flag = threading.Event()
    if flags is not None:
        flags[name] = flag
    return flag


def set_stop(flags: dict[str, threading.Event] | None, name: str) -> None:
    if flags and (flag := flags.get(name)) is not None:
        flag.set()


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def verdict_line(scored: AssetScore | None, *, limit: int = 3) -> str:
    """The eval's verdict as Markdown: score, verdict and pass mark, then what to fix first with each reason."""
    if scored is None:
        return "*Not scored.*"
    words = {"passed": "passed", "needs work": "needs work", "failed": "failed: off brief, not usable as is"}
    lines = [f"**Eval: {scored.score:.2f}, {words[scored.verdict]}** (pass mark {scored.threshold:.2f})"]
    lines += [f"- **{p.name}** ({p.score:.2f}): {p.reason}" for p in scored.to_fix(limit)]
    unjudged = [c for c in scored.criteria if (c.reason or "").startswith("not judged in ")]
    if unjudged:  # the business writes in a language the eval reads only in part
        where = "N" + (unjudged[0].reason or "").split(":")[0][1:]
        lines.append(f"*{where}: {', '.join(c.name for c in unjudged)}.*")
    return "\n".join(lines)


def downloadable(paths: list[Path]) -> list[str]:
    """Copies in a fresh temp folder: Gradio serves files only from the working folder or the temp folder, and the
    data dir may be anywhere."""
    if not paths:
        return []
    folder = Path(tempfile.mkdtemp(prefix="cvj-download-"))
    copies = []
    for path in paths:
        shutil.copy2(path, folder / path.name)
        copies.append(str(folder / path.name))
    return copies
