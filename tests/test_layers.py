"""The library's floors (README "How it works"): a module imports only from its own floor or the ones above it,
so nothing runs back up and the front doors stay at the edge."""

from __future__ import annotations

import ast
from pathlib import Path

from generator.settings import PROJECT_ROOT

FLOORS: list[list[str]] = [
    # foundations
    ["settings", "errors", "files", "fencing", "tokens", "validation", "stages", "language", "language_detect",
     "profile", "asset_base",
     "asset_sequences", "asset_channels", "asset_pages", "assets", "drafts",
     "facts", "rules", "charts", "evaluation.results", "voice_traits", "voice_words", "voice", "voice_profile"],
    # models and retrieval
    ["llm", "llm_cache", "local_llm", "chroma_support", "server_lease", "embeddings", "knowledge", "ingest",
     "stage_router"],
    # generation
    ["prompting", "structured"],
    # eval
    ["evaluation.gate", "evaluation.gate_facts", "evaluation.gate_text", "evaluation.criteria", "evaluation.signals",
     "evaluation.rule_scorers", "evaluation.stage_fit", "evaluation.quality_model", "evaluation.judge",
     "evaluation.scoring", "evaluation.items", "evaluation.calibration", "evaluation.retrieval",
     "evaluation.suite_file", "evaluation.suite_assertions", "evaluation.voice_sets", "evaluation.readability"],
    # drafting
    ["chains", "revision", "improve", "evaluation.suite", "evaluation.report", "audit", "audit_html"],
    # kits
    ["kit", "kit_models", "kit_plan", "journey", "export", "export.view", "export.markdown", "export.word",
     "export.page", "export.schedule",
     "jobs_models", "jobs_store", "jobs", "webhooks", "workspaces", "workspace_documents"],
    # front doors
    ["runtime", "service", "render", "cli", "cli.common", "cli.drafting", "cli.knowledge", "cli.evaluation",
     "cli.system", "cli.voice", "cli.audit",
     "api_models", "api_errors", "api_auth", "api_limits", "api_stream", "api_v1", "api_businesses", "api_kits",
     "api_voice",
     "api", "ui",
     "ui_common", "ui_business", "ui_knowledge", "ui_drafting", "ui_draft", "ui_journey_map", "ui_journey", "ui_api",
     "ui_voice"],
]  # fmt: skip
FLOOR = {module: number for number, modules in enumerate(FLOORS) for module in modules}
PACKAGE = PROJECT_ROOT / "generator"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_every_module_has_a_floor_and_imports_only_from_above() -> None:
    upward: list[str] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        name = module_name(path)
        if name in {"", "evaluation"} or name.endswith("__main__"):  # empty __init__ files; `python -m` shims
            continue
        assert name in FLOOR, f"generator.{name} has no floor: add it to FLOORS and to the README's module map"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("generator."):
                imported = node.module.removeprefix("generator.")
                if FLOOR.get(imported, -1) > FLOOR[name]:
                    upward.append(f"generator.{name} imports generator.{imported}")
    assert not upward, "imports that run back up a floor:\n" + "\n".join(upward)


def test_no_library_module_is_over_350_lines() -> None:
    long = {module_name(p): n for p in PACKAGE.rglob("*.py") if (n := len(p.read_text().splitlines())) > 350}
    assert not long, f"split these modules (one job each): {long}"
