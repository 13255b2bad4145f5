"""The small-Transformer page in a real headless Chromium: the chapter's sentence translated with its alignment drawn,
typed without spaces, replayed from the first training snapshot, and trained again with live progress."""

from __future__ import annotations

import re

import pytest

from harness.browser import ROOT, expect_rerun, new_page, wait_for_app_idle

pytestmark = pytest.mark.e2e

SCREENSHOT = ROOT / "artifacts" / "e2e-translator.png"

# Per chart of the page, by its key ("tr_alignment", …): its title and the words its text traces show; null until
# every keyed chart is drawn (plotly draws lazily, in no fixed order).
CHARTS_JS = """(keys) => {
    const charts = {};
    for (const key of keys) {
        const gd = document.querySelector(`.st-key-${key} .js-plotly-plot`);
        if (!gd || !gd._fullData) return null;
        charts[key] = {
            title: ((gd.layout.title && gd.layout.title.text) || '').replace(/<[^>]*>/g, ''),
            words: gd._fullData.filter((t) => t.mode && t.mode.includes('text')).flatMap((t) => Array.from(t.text)),
        };
    }
    return charts;
}"""
KEYS = ["tr_alignment", "tr_decoder", "tr_snapshot", "tr_curve", "tr_heads"]


def charts(page) -> dict:
    return page.wait_for_function(CHARTS_JS, arg=KEYS).json_value()


def test_the_chapters_sentence_is_translated_aligned_replayed_and_trained_again(server, browser):
    url, _ = server
    page = new_page(browser, viewport={"width": 1280, "height": 800})
    page.set_default_timeout(90_000)
    page.goto(f"{url}/translator?present=true", wait_until="domcontentloaded")
    wait_for_app_idle(page, graph=False)
    main = page.locator('[data-testid="stMain"]')
    assert "→ I go to Tokyo today" in main.inner_text()
    alignment = charts(page)["tr_alignment"]
    assert alignment["title"].startswith("Cross-attention") and {"私", "東京", "Tokyo", "today"} <= set(
        alignment["words"]
    )
    box = page.locator(".st-key-tr_alignment .js-plotly-plot").bounding_box()
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
    assert charts(page)["tr_snapshot"]["title"].startswith("Step 0:")

    page.get_by_label("Steps", exact=True).and_(page.get_by_role("spinbutton")).fill("200")
    page.get_by_role("button", name="Train again").click()
    page.locator('[data-testid="stProgress"]').first.wait_for(state="visible")  # progress while it trains
    page.get_by_text(re.compile(r"trained in \d+ s in this session")).wait_for()
    wait_for_app_idle(page, graph=False)
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    page.close()
