"""The ``cvj`` command line. Commands live in modules by area and register on the shared Typer app:
``knowledge`` (index, ingest, search), ``drafting`` (draft, revise, kit), ``evaluation`` (eval ...),
``system`` (stages, doctor, serve, llm ...), ``voice`` (voice learn, eval voice) and ``audit``. Collaborators
come from ``generator.runtime.components()``."""

from __future__ import annotations

from generator.cli import audit, drafting, evaluation, knowledge, system, voice
from generator.cli.common import app

__all__ = ["app", "audit", "drafting", "evaluation", "knowledge", "main", "system", "voice"]


def main() -> None:
    app()


if __name__ == "__main__":
    main()
