"""Printing a benchmark table twice: with rich for the terminal, as markdown for the README."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

console = Console()


def show(title: str, columns: Sequence[str], rows: Sequence[Sequence[str]], note: str = "") -> None:
    """Print ``rows`` as a rich table, then the same table as pasteable markdown."""
    table = Table(title=title, caption=note or None)
    for i, column in enumerate(columns):
        table.add_column(column, justify="left" if i == 0 or column == "path" else "right")
    for row in rows:
        table.add_row(*row)
    console.print(table)
    lines = [f"**{title}**", "", "| " + " | ".join(columns) + " |"]
    lines.append("|" + "|".join("---" if i == 0 or c == "path" else "---:" for i, c in enumerate(columns)) + "|")
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    if note:
        lines += ["", note]
    print("\n".join(lines) + "\n", flush=True)
