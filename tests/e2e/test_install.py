"""The install path: a wheel built from this checkout, installed into a fresh virtual environment, runs from
any folder with the data folders it carries (prompts, knowledge, eval, examples), not the checkout's."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from generator.settings import PROJECT_ROOT

pytestmark = pytest.mark.e2e


def run(*args: str | Path, cwd: Path) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CVJ_")}
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_wheel_carries_its_data_and_runs_outside_the_checkout(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", wheels, PROJECT_ROOT, cwd=tmp_path)
    wheel = next(wheels.glob("cvj_kit-*.whl"))
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    # The dependencies come from this environment (no second download of torch-free but large packages).
    site = run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp_path).strip()
    Path(site, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run(python, "-m", "pip", "install", "-q", "--no-deps", wheel, cwd=tmp_path)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = run(python, "-c", "import generator, generator.settings as s; st = s.Settings(); "
                "print(generator.__file__); print(st.root_dir); print(st.eval_dir)", cwd=elsewhere).split()  # fmt: skip
    assert where[0].startswith(str(venv)), "the installed package, not the checkout, was imported"
    assert where[1] == str(venv / "share" / "cvj-kit")
    for folder in ("prompts", "knowledge", "examples", "eval/criteria", "eval/training", "eval/training/es",
                   "eval/labelled/es", "eval/suites"):  # fmt: skip
        assert any(Path(where[1], folder).iterdir()), f"{folder} is missing from the wheel"
    stages = run(venv / "bin" / "cvj", "stages", cwd=elsewhere)
    assert "aware" in stages and "promote" in stages and "lead_magnet" in stages
