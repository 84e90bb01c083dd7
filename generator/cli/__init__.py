"""The ``cvj`` command line. Commands live in modules by area and register on the shared Typer app:
``knowledge`` (index, ingest, search), ``drafting`` (draft, revise, kit), ``evaluation`` (eval ...) and
``system`` (stages, doctor, serve, llm ...). Collaborators come from ``generator.runtime.components()``."""

from __future__ import annotations

from generator.cli import drafting, evaluation, knowledge, system
from generator.cli.common import app

__all__ = ["app", "drafting", "evaluation", "knowledge", "main", "system"]


def main() -> None:
    app()


if __name__ == "__main__":
    main()
