"""A learned voice end to end on the real stack: `cvj voice learn` writes it into a profile and the real eval (ONNX
embeddings, quality model) scores copy against it. (Drafting with a voice is covered in-process in tests/test_voice.py;
on the bundled 135M model a draft takes about a minute of re-asks, too slow for this check.)"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from generator.evaluation.voice_sets import load_brand_sets
from generator.profile import load_profile
from generator.settings import PROJECT_ROOT

COFFEE = PROJECT_ROOT / "examples" / "harbor-lane-coffee.yaml"
BRANDS = {b.name: b for b in load_brand_sets(PROJECT_ROOT / "eval" / "voice" / "brands")}


def _cli(*args: str, data_dir: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CVJ_DATA_DIR": str(data_dir), "ANONYMIZED_TELEMETRY": "False"}
    return subprocess.run([sys.executable, "-m", "generator.cli", *args], input=stdin, capture_output=True,
                          text=True, env=env, timeout=600, check=False)  # fmt: skip


def test_a_learned_voice_is_written_into_the_profile_and_scored_by_the_real_eval(
    data_dir: Path, tmp_path: Path
) -> None:
    profile = tmp_path / "coffee.yaml"
    shutil.copy(COFFEE, profile)
    roofing = BRANDS["Ridgeback Roofing"]
    learned = _cli("voice", "learn", "-", "-p", str(profile), data_dir=data_dir,
                   stdin="\n---\n".join(t.text for t in roofing.train))  # fmt: skip
    assert learned.returncode == 0, learned.stderr
    voice = load_profile(profile).voice
    assert voice is not None and voice.samples == len(roofing.train)

    own, other = roofing.heldout[0], BRANDS["Sunday Loaf Bakery"].heldout[0]
    items = tmp_path / "items.jsonl"
    items.write_text("\n".join(json.dumps({"stage": t.stage, "text": t.text}) for t in (own, other)))
    scored = _cli("eval", "score", str(items), "-p", str(profile), "--json", "--no-judge", data_dir=data_dir)
    assert scored.returncode == 0, scored.stderr
    criteria = [next(c for c in r["criteria"] if c["id"] == "sounds_like_brand") for r in json.loads(scored.stdout)]
    assert all(c["score"] is not None for c in criteria)
    assert criteria[0]["score"] > criteria[1]["score"], criteria
    assert "as long as yours" in criteria[1]["reason"] or "you" in criteria[1]["reason"]
