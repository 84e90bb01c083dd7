"""``python -m benchmarks [NAME ...]``: run every ``bench_*`` module, or only the named ones.

Names may be given with or without the ``bench_`` prefix (``retrieval`` = ``bench_retrieval``).
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
import time
from pathlib import Path

# Runs are offline: keep chromadb from trying to send telemetry before anything imports it.
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

PREFIX = "bench_"


def available() -> list[str]:
    """The benchmark modules in this package, sorted, so runs are in a stable order."""
    return sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if m.name.startswith(PREFIX))


def resolve(names: list[str]) -> list[str]:
    """The modules to run; unknown names are an error rather than silently skipped."""
    known = available()
    if not names:
        return known
    chosen = []
    for name in names:
        module = name if name.startswith(PREFIX) else PREFIX + name
        if module not in known:
            raise SystemExit(f"Unknown benchmark '{name}'. Available: {', '.join(known) or 'none'}")
        chosen.append(module)
    return chosen


def main(argv: list[str]) -> None:
    """Import and run each chosen module's ``main()``, timing the whole run."""
    start = time.perf_counter()
    for module in resolve(argv):
        print(f"\n=== {module} ===", flush=True)
        began = time.perf_counter()
        importlib.import_module(f"{__package__ or 'benchmarks'}.{module}").main()
        print(f"({module}: {time.perf_counter() - began:.1f} s)", flush=True)
    print(f"\nTotal wall time: {time.perf_counter() - start:.1f} s", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
