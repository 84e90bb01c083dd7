"""What every ``cvj`` command shares: the Typer apps, the consoles, common options, and the error boundary."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

from generator.errors import CVJError
from generator.validation import dotted

app = typer.Typer(
    name="cvj",
    help="CVJ Kit: draft marketing assets for every stage of the Customer Value Journey.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
llm_app = typer.Typer(help="Manage the embedded local model server (llama.cpp, OpenAI-compatible).")
app.add_typer(llm_app, name="llm")
eval_app = typer.Typer(help="Measure quality: retrieval, and drafted assets against their stage's criteria.")
app.add_typer(eval_app, name="eval")

out = Console()
err = Console(stderr=True, soft_wrap=True)  # messages stay one line, whatever the terminal width
F = TypeVar("F", bound=Callable[..., Any])

ProfileOpt = Annotated[Path, typer.Option("--profile", "-p", help="Business profile, YAML or JSON.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of formatted text.")]
JudgeOpt = Annotated[bool, typer.Option("--judge/--no-judge", help="Score judge criteria with the LLM judge.")]
CandidatesOpt = Annotated[
    int,
    typer.Option(
        "--candidates", min=1, max=8, help="Draft N at once and keep the one the eval ranks best (the rest are kept)."
    ),
]
AutoJudgeOpt = Annotated[
    bool | None,
    typer.Option(
        "--judge/--no-judge",
        help="Score judge criteria with the LLM judge [default: on with a capable model, off with the bundled one].",
        show_default=False,
    ),
]


# An error message can echo what the user typed: a 5 MB option value, or terminal escape sequences. It is shown
# clipped (2,000 characters is every problem of a profile, not a pasted file) with control characters escaped.
_MESSAGE_CHARS = 2_000
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _fail(message: str) -> typer.Exit:
    """Print one error message on stderr (its text never read as markup) and return the exit to raise."""
    if len(message) > _MESSAGE_CHARS:
        message = f"{message[:_MESSAGE_CHARS]}... ({len(message) - _MESSAGE_CHARS:,} more characters)"
    message = _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", message)
    err.print(f"[bold red]Error:[/] {escape(message)}", highlight=False, markup=True)
    return typer.Exit(2)


def friendly_errors(func: F) -> F:
    """Turn library errors, and what bad files and paths raise (OSError, undecodable bytes, data nested past
    Python's recursion limit), into one readable message on stderr and exit code 2, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except CVJError as exc:
            raise _fail(exc.message) from None
        except ValidationError as exc:
            problems = [f"{dotted(tuple(e['loc']))}: {e['msg'].removeprefix('Value error, ')}" for e in exc.errors()]
            raise _fail("; ".join(p.removeprefix("(top level): ") for p in problems)) from None
        except UnicodeDecodeError as exc:
            raise _fail(f"A file is not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8.") from None
        except OSError as exc:
            why = exc.strerror or str(exc) or type(exc).__name__
            why = "a file is in the way of a folder" if isinstance(exc, FileExistsError) else why  # from mkdir
            raise _fail(f"Cannot use {exc.filename}: {why}." if exc.filename else f"{why}.") from None
        except RecursionError:
            raise _fail("The input is nested too deeply to read.") from None
        except KeyboardInterrupt:
            err.print("Interrupted.")
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]  # functools.wraps keeps the signature Typer reads
