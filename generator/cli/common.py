"""What every ``cvj`` command shares: the Typer apps, the consoles, common options, and the error boundary."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console

from generator.errors import CVJError

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


def friendly_errors(func: F) -> F:
    """Turn library errors into one readable line on stderr and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except CVJError as exc:
            err.print(f"[bold red]Error:[/] {exc.message}", highlight=False, markup=True)
            raise typer.Exit(2) from None
        except ValidationError as exc:
            problems = "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())
            err.print(f"[bold red]Error:[/] {problems}", highlight=False)
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            err.print("Interrupted.")
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]  # functools.wraps keeps the signature Typer reads
