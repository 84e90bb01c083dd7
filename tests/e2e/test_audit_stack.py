"""The journey audit end to end on the real stack: `cvj audit` reads a folder of a business's existing copy in
mixed formats, classifies each piece with the trained stage classifier, scores it with the real eval (ONNX
embeddings, quality model) and finds the stages nothing serves. No chat model is needed (no --draft)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from generator.audit import AuditReport
from generator.settings import PROJECT_ROOT

COFFEE = PROJECT_ROOT / "examples" / "harbor-lane-coffee.yaml"
# Harbor Lane Coffee's existing copy: an Instagram post, a newsletter, an offer page, a review request and an
# about page. Nothing asks for an email, welcomes a new customer, offers the next step up or a referral.
COPY = {
    "instagram-post.md": "Supermarket beans tasting flat? Ours were roasted on Tuesday, right here on Harbor Lane. "
    "Fresh coffee tastes sweeter and brighter, and you can smell the difference when you open the bag. Follow us "
    "for a brewing tip every Friday.",
    "newsletter/march.txt": "The Harbor Lane Coffee letter, March\n\nWhy does your pour-over taste sour some "
    "mornings? Nine times out of ten it is the grind: too coarse, and the water runs through before it pulls out the "
    "sweetness. This month our head roaster walks through three grind settings side by side, with photos, so you "
    "can see what medium-fine actually looks like.\n\nGot a brewing question? Reply to this email and we'll answer "
    "the best ones in next month's letter.",
    "tasting-flight.html": "<html><body><h1>The Tasting Flight Box</h1><p>Not sure which of our coffees is yours? "
    "Try three. The Tasting Flight Box brings you three 80 g bags of this month's roasts, tasting notes and brew "
    "cards, for 12 USD with free shipping. If none of them becomes your new favourite, tell us and we'll refund "
    "you.</p><p><a href='/flight'>Order your Tasting Flight Box</a></p></body></html>",
    "review-request.md": "Thank you for your order! It's been two weeks since your Roaster's Choice beans arrived, "
    "and we hope your mornings taste better for it. If you have a minute, would you leave us a short review on "
    "Google? One honest sentence helps other coffee lovers find a small roaster like us. Here is the direct link: "
    "harborlanecoffee.example/review",
    "about.txt": "Harbor Lane Coffee opened in 2014 in a former bike shop. We roast on a 12-kilo Diedrich, we buy "
    "green coffee from four importers we know by name, and our café seats twenty-two.",
}
GIVEN = {"aware", "engage", "convert", "advocate"}
LEFT_OUT = ["subscribe", "excite", "ascend", "promote"]


def test_audit_of_a_folder_of_mixed_copy_finds_the_missing_stages(data_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "site"
    for name, text in COPY.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    page = tmp_path / "audit.html"
    env = {**os.environ, "CVJ_DATA_DIR": str(data_dir), "ANONYMIZED_TELEMETRY": "False"}
    done = subprocess.run(
        [sys.executable, "-m", "generator.cli", "audit", str(folder), "-p", str(COFFEE), "--json", "--html", str(page)],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = AuditReport.model_validate(json.loads(done.stdout))
    assert sorted(p.source.removeprefix(str(folder) + "/") for p in report.pieces) == sorted(COPY)
    placed = {p.stage for p in report.pieces if p.stage}
    assert placed <= GIVEN | {"aware"}, report.pieces  # the about page may read as awareness, nothing else
    assert set(LEFT_OUT) <= set(report.missing)
    assert [r.stage for r in report.draft_first] == LEFT_OUT[:3]  # missing, earliest in the journey first
    scored = [p for p in report.pieces if p.stage]
    assert scored and all(p.score is not None and 0 <= p.score <= 1 for p in scored)
    html = page.read_text(encoding="utf-8")
    assert "Journey audit: Harbor Lane Coffee" in html and "Subscribe" in html and "<script" not in html
