"""The Transformer = GNN page in a real headless Chromium: the layer recomputed as message passing, and the head
summary over the bundled corpus run with its progress bar."""

from __future__ import annotations

import re

import pytest

from core.analysis.corpus import load_bundled_sentences
from harness.browser import ROOT, launch_chromium, new_page, streamlit_server, wait_for_app_idle

pytestmark = pytest.mark.e2e

SCREENSHOT = ROOT / "artifacts" / "e2e-gnn.png"


def test_message_passing_matches_and_the_corpus_summary_finishes_with_progress():
    from playwright.sync_api import sync_playwright

    with streamlit_server() as (url, _), sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = new_page(browser, viewport={"width": 1600, "height": 1200})
        page.set_default_timeout(90_000)
        page.goto(f"{url}/gnn", wait_until="domcontentloaded")
        wait_for_app_idle(page, graph=False)

        main = page.locator('[data-testid="stMain"]')
        error = float(re.search(r"max \|difference\| = ([0-9.e+-]+)", main.inner_text()).group(1))
        assert error <= 1e-5

        page.locator('[data-testid="stExpander"] summary', has_text="The same over many sentences").click()
        page.get_by_role("button", name=re.compile(r"Analyse \d+ sentences")).click()
        page.locator('[data-testid="stProgress"]').first.wait_for(state="visible")  # progress is shown while it runs
        page.get_by_text(re.compile(r"Averaged over \d+ of \d+ sentences")).wait_for()
        wait_for_app_idle(page, graph=False)
        SCREENSHOT.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOT))
        summary = re.search(r"Averaged over (\d+) of (\d+) sentences", main.inner_text())
        browser.close()

    analysed, offered = map(int, summary.groups())
    assert 1 <= analysed <= offered == len(load_bundled_sentences())  # the time budget may stop it early
