"""Eval: what scoring costs on top of the bare embedding of the same texts.

Scoring a text runs the rules (regular expressions over eval/signals.yaml), embeds it once, runs the
stage classifier and the offline quality model. The embedding is the floor any learned scorer pays,
so the baseline is the bare ONNX MiniLM call on the same texts, timed in the same run; the rules
alone are timed too. Texts: every labelled snippet in eval/labelled/ (their own stages).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from benchmarks.report import console, show
from generator.embeddings import build_embeddings
from generator.evaluation.rule_scorers import Subject
from generator.evaluation.scoring import Evaluator
from generator.evaluation.stage_fit import read_jsonl
from generator.runtime import evaluator_for
from generator.settings import Settings

RUNS = 3  # best of


def best_of(call: Callable[[], Any], runs: int = RUNS) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    settings = Settings()
    rows = [r for path in sorted((settings.eval_dir / "labelled").glob("*snippets*.jsonl")) for r in read_jsonl(path)]
    subjects = [Subject(stage=str(r["stage"]), text=str(r["text"])) for r in rows]
    texts = [s.text for s in subjects]
    embeddings, _ = build_embeddings(settings)
    with console.status("Loading the evaluator (trained once, then cached)..."):
        start = time.perf_counter()
        full = evaluator_for(settings)
        load_s = time.perf_counter() - start
    rules_only = Evaluator(settings=settings)
    embeddings.embed_documents(texts[:32])  # warm the ONNX session
    bare = best_of(lambda: embeddings.embed_documents(texts))
    rules = best_of(lambda: rules_only.score_many(subjects))
    scored = best_of(lambda: full.score_many(subjects))
    n = len(texts)
    show(
        f"Eval scoring throughput ({n} labelled texts, best of {RUNS})",
        ["path", "texts/s", "ms/text", "vs bare embedding"],
        [
            ["bare MiniLM embedding (baseline)", f"{n / bare:.0f}", f"{1000 * bare / n:.1f}", "1.00x"],
            ["rules only", f"{n / rules:.0f}", f"{1000 * rules / n:.1f}", f"{rules / bare:.2f}x"],
            [
                "full evaluator (rules, stage fit, quality model)",
                f"{n / scored:.0f}",
                f"{1000 * scored / n:.1f}",
                f"{scored / bare:.2f}x",
            ],
        ],
        note=f"Loading the evaluator from the cache took {load_s:.1f} s (the first run ever trains it).",
    )
