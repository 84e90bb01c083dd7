"""Draft every asset type for the example profiles with the configured model, several seeds: raw material for
the eval's model-output sets (label them by reading, then keep training and measurement files apart).

    .venv/bin/python scripts/draft_model_outputs.py --seeds 1 2 --out /tmp/model-drafts.jsonl
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from langchain_core.language_models import BaseChatModel

from generator.assets import ASSET_TYPES
from generator.chains import draft
from generator.drafts import DraftRequest
from generator.errors import CVJError
from generator.llm import open_chat_model
from generator.profile import load_profile
from generator.runtime import open_index, refresh_index, settings_or_error


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--types", nargs="*", default=list(ASSET_TYPES))
    args = parser.parse_args()
    settings = settings_or_error(llm_cache=False)
    profiles = {p.stem: load_profile(p) for p in sorted(settings.examples_dir.glob("*.yaml"))}
    index = open_index(settings)
    refresh_index(index, settings, list(profiles.values()))
    done = (
        {(r["profile"], r["asset_type"], r["seed"]) for r in map(json.loads, args.out.open())}
        if args.out.exists()
        else set()
    )
    with open_chat_model(settings) as model, args.out.open("a", encoding="utf-8") as out:
        for seed in args.seeds:
            seeded: BaseChatModel = model.bind(seed=seed)  # type: ignore[assignment]  # the binding acts as the model
            for stem, profile in profiles.items():
                for asset_type in args.types:
                    if (stem, asset_type, seed) in done:
                        continue
                    request = DraftRequest(stage=ASSET_TYPES[asset_type].stage, asset_type=asset_type)
                    row = {"profile": stem, "asset_type": asset_type, "stage": request.stage, "seed": seed}
                    try:
                        result = draft(profile, request, model=seeded, index=index, settings=settings)
                        row |= {"asset": result.asset, "attempts": result.meta.attempts}
                    except CVJError as exc:
                        row |= {"error": exc.message[:300]}
                    out.write(json.dumps(row, ensure_ascii=False) + "\n")
                    out.flush()
                    print(stem, asset_type, seed, "ok" if "asset" in row else "failed", flush=True)


if __name__ == "__main__":
    main()
