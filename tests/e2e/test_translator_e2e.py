"""The small-Transformer page in a real headless Chromium: the chapter's sentence translated with its alignment drawn,
typed without spaces, replayed from the first training snapshot, and trained again with live progress."""

from __future__ import annotations

import re

import pytest

from harness.browser import ROOT, expect_rerun, wait_for_app_idle

pytestmark = pytest.mark.e2e

SCREENSHOT = ROOT / "artifacts" / "e2e-translator.png"

# Per plotly chart on the page: its title and the words its text traces show.
CHARTS_JS = """() => [...document.querySelectorAll('.js-plotly-plot')].map((gd) => ({
    title: ((gd.layout.title && gd.layout.title.text) || '').replace(/<[^>]*>/g, ''),
    words: gd._fullData.filter((t) => t.mode && t.mode.includes('text')).flatMap((t) => Array.from(t.text)),
}))"""

CHARTS_DRAWN_JS = "() => document.querySelectorAll('.js-plotly-plot').length >= 4"  # alignment, step, curve, heads


def test_the_chapters_sentence_is_translated_aligned_replayed_and_trained_again(server, browser):
    url, _ = server
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.set_default_timeout(90_000)
    page.goto(f"{url}/translator?present=true", wait_until="domcontentloaded")
    wait_for_app_idle(page, graph=False)
    page.wait_for_function(CHARTS_DRAWN_JS)
    main = page.locator('[data-testid="stMain"]')
    assert "→ I go to Tokyo today" in main.inner_text()
    alignment = page.evaluate(CHARTS_JS)[0]
    assert alignment["title"].startswith("Cross-attention") and {"私", "東京", "Tokyo", "today"} <= set(
        alignment["words"]
    )
    box = page.locator(".js-plotly-plot").first.bounding_box()
    assert box["y"] + box["height"] <= 800  # the graph is on the first screen of a projector
    page.screenshot(path=str(SCREENSHOT.with_name("e2e-translator-first.png")))

    with expect_rerun(page, graph=False):
        sentence = page.get_by_label("Japanese sentence", exact=True).and_(page.get_by_role("textbox"))
        sentence.fill("彼女は昨日京都に帰った")
        sentence.press("Enter")
    assert "→ she returned to Kyoto yesterday" in main.inner_text()

    with expect_rerun(page, graph=False):
        step = page.locator('[data-testid="stSlider"]', has_text="Training step").get_by_role("slider")
        step.press("Home")  # the first snapshot: step 0
    page.wait_for_function(CHARTS_DRAWN_JS)
    assert any(chart["title"].startswith("Step 0:") for chart in page.evaluate(CHARTS_JS))

    page.get_by_label("Steps", exact=True).and_(page.get_by_role("spinbutton")).fill("200")
    page.get_by_role("button", name="Train again").click()
    page.locator('[data-testid="stProgress"]').first.wait_for(state="visible")  # progress while it trains
    page.get_by_text(re.compile(r"trained in \d+ s in this session")).wait_for()
    wait_for_app_idle(page, graph=False)
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    page.close()
