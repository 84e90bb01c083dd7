"""The studio in a real browser (Playwright driving Debian's chromium) on the real local stack: pick an example
business, draft one stage with the local model, see the text stream in, then its verdict and score, put it in the
kit and see it on the journey map. The screenshots in the README (docs/ui-draft.png, docs/ui-journey.png) are
taken here.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from generator.settings import PROJECT_ROOT
from tests.e2e.test_ui_client import studio

CHROMIUM = Path("/usr/bin/chromium")  # Debian's package (`apt-get install chromium`); Playwright downloads nothing
DOCS = PROJECT_ROOT / "docs"
DRAFT_S = 300_000  # ms: one draft with the bundled model and its score, on 2 cores (measured: 20-60 s)

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"no chromium at {CHROMIUM}: install Debian's package (apt-get install chromium)"
)


def streamed_before_the_verdict(page: Page) -> str:
    """Wait until the model's text shows while no verdict does yet (it streams), and return the status then."""
    page.wait_for_function(
        """() => {
            const live = document.querySelector('#draft-live textarea');
            const verdict = document.querySelector('#draft-verdict');
            return live && live.value.length > 0 && !(verdict && verdict.innerText.includes('Eval:'));
        }""",
        timeout=DRAFT_S,
    )
    return page.locator("#draft-status").inner_text()


def test_the_studio_drafts_a_stage_and_shows_it_on_the_journey(
    data_dir: Path, local_server: object, index: object, tmp_path: Path
) -> None:
    with studio(data_dir, tmp_path / "ui.log") as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox"] if os.geteuid() == 0 else []
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url)

        page.locator("#business-picker input").click()
        page.get_by_role("option", name="Example: harbor-lane-coffee").click()
        expect(page.locator("#business-banner")).to_contain_text("Harbor Lane Coffee", timeout=30_000)
        expect(page.locator("#business-status")).to_contain_text("is ready")

        page.get_by_role("tab", name="Draft").click()
        page.locator("#draft-go").click()
        status_while_writing = streamed_before_the_verdict(page)
        assert re.search(r"Writing|Scoring", status_while_writing), status_while_writing
        verdict = page.locator("#draft-verdict")
        expect(verdict).to_contain_text("Eval: ", timeout=DRAFT_S)
        assert re.search(r"Eval: [01]\.\d\d, (passed|needs work|failed)", verdict.inner_text()), verdict.inner_text()
        expect(page.locator("#draft-rendered")).to_contain_text("Harbor Lane Coffee")
        expect(page.locator("#draft-live textarea")).to_have_value(re.compile(r"\{.*\"hook\"", re.S))
        expect(page.locator("#draft-sources")).to_contain_text("Sources used")
        page.screenshot(path=str(DOCS / "ui-draft.png"), full_page=True)

        page.locator("#draft-to-kit").click()
        expect(page.locator("#draft-status")).to_contain_text("kit's Aware asset", timeout=30_000)
        page.get_by_role("tab", name="Journey").click()
        aware = page.locator('#journey-map [data-stage="aware"]')
        expect(aware).to_have_attribute("data-state", "done", timeout=60_000)
        expect(aware).to_contain_text(re.compile(r"(passed|needs work|failed) · [01]\.\d\d"))
        expect(page.locator("#journey-map [data-stage]")).to_have_count(8)
        expect(page.locator("#kit-status")).to_contain_text("1 of 8 assets drafted")
        page.screenshot(path=str(DOCS / "ui-journey.png"), full_page=True)
        browser.close()
