"""Grounded drafts on the real local model: one candidate vs best of three, and the prefill the shared prefix saves.

Both kits run in the same run on the same warm llama.cpp server (the bundled SmolLM2-135M), every stage, scored
by the evaluator, with the answer cache off. The server logs, per request, how many prompt tokens matched the
previous request's prefix (reused, no prefill) and how many it had to evaluate: summed, they show what putting
the system prompt and the business's facts first saves.
"""

from __future__ import annotations

import re
import tempfile
import time
from pathlib import Path

from benchmarks.report import show
from generator.kit import KitOptions, plan_kit, run_kit
from generator.kit_models import KitReport
from generator.llm import build_chat_model
from generator.local_llm import running_server
from generator.profile import load_profile
from generator.runtime import evaluator_for
from generator.settings import Provider, Settings

PROFILE = Settings().examples_dir / "harbor-lane-coffee.yaml"
CANDIDATES = 3
_PREFIX = re.compile(r"Llama\.generate: (\d+) prefix-match hit, remaining (\d+) prompt tokens to eval")
COLUMNS = ["kit", "assets drafted", "passed", "model calls", "input tokens / asset", "prefill reused",
           "prefill evaluated", "wall s", "vs one candidate"]  # fmt: skip


def prefill(log: Path, start: int) -> tuple[int, int]:
    """(tokens reused from the previous prompt's prefix, tokens evaluated) in the server log after ``start``."""
    text = log.read_text(errors="replace")[start:]
    pairs = [(int(a), int(b)) for a, b in _PREFIX.findall(text)]
    return sum(a for a, _ in pairs), sum(b for _, b in pairs)


def main() -> None:
    profile = load_profile(PROFILE)
    with tempfile.TemporaryDirectory(prefix="cvj-bench-grounded-") as tmp:
        settings = Settings(provider=Provider.LOCAL, data_dir=Path(tmp) / "data", llm_cache=False)
        evaluator = evaluator_for(settings)
        log = settings.data_dir / "llm-server.log"
        rows: list[tuple[str, KitReport, int, int, float]] = []
        with running_server(settings) as server:
            model = build_chat_model(settings, local_server=server)
            for label, candidates in (("one candidate per asset", 1), (f"best of {CANDIDATES}", CANDIDATES)):
                start = len(log.read_text(errors="replace"))
                began = time.perf_counter()
                report = run_kit(profile, plan_kit(), out_dir=Path(tmp) / f"kit-{candidates}", model=model,
                                 index=None, settings=settings, evaluator=evaluator,
                                 options=KitOptions(candidates=candidates))  # fmt: skip
                wall = time.perf_counter() - began
                reused, evaluated = prefill(log, start)
                rows.append((label, report, reused, evaluated, wall))
    base = rows[0][4]
    table = []
    for label, report, reused, evaluated, wall in rows:
        t = report.totals
        per_asset = t.input_tokens / max(1, t.assets)
        share = reused / max(1, reused + evaluated)
        table.append([label, f"{t.assets}/{len(report.entries)}", str(t.passed), str(t.model_calls),
                      f"{per_asset:,.0f}", f"{reused:,} ({share:.0%})", f"{evaluated:,}", f"{wall:.1f}",
                      f"{wall / base:.2f}x"])  # fmt: skip
    show(
        "Grounded drafts on the bundled model: one candidate vs best of three (same run, same server)",
        COLUMNS,
        table,
        note=f"{profile.name}, all 8 stages, concurrency 4, evaluator on, answer cache off. Input tokens per asset "
        "count every attempt and candidate sent (the drafts' own usage, summed over the kit's assets). Prefill "
        "reused = prompt tokens the server matched with the previous request's prefix and did not evaluate "
        "(llama.cpp keeps one slot), from its log; the system prompt and the business's fact sheet come first in "
        "every draft so that this prefix is shared.",
    )
