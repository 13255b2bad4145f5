"""Presentation mode in a real headless Chromium, as a speaker would open it on a projector (1280 × 800).

Opened from a link (``?present=true``) or the sidebar's toggle: the type is 1.25 × larger, the toolbar is gone, the
sidebar starts closed, the graph is taller, and the curated examples are one click away above the page. A
screenshot is saved to artifacts/e2e-presentation.png.
"""

from __future__ import annotations

import pytest

from harness.browser import (
    GRAPH_IFRAME,
    ROOT,
    expect_rerun,
    full_page_screenshot,
    new_page,
    server_log,
    wait_for_app_idle,
)
from tests.e2e.test_attention_e2e import hover_tile
from ui.examples import EXAMPLES

pytestmark = pytest.mark.e2e

SCREENSHOT = ROOT / "artifacts" / "e2e-presentation.png"
PROJECTOR = {"width": 1280, "height": 800}
ROOT_FONT_JS = "() => getComputedStyle(document.documentElement).fontSize"
PILLS = ".st-key-example_pick"


@pytest.fixture
def open_app(browser, server):
    url, log_path = server
    pages = []

    def open_at(path: str = "/"):
        page = new_page(browser, viewport=PROJECTOR)
        pages.append(page)
        page.set_default_timeout(60_000)
        page.goto(url + path, wait_until="domcontentloaded")
        wait_for_app_idle(page)
        return page

    yield open_at
    for page in pages:
        page.close()
    print(f"--- streamlit log ({log_path}) ---\n{server_log(log_path)}")


def test_a_presentation_link_opens_with_large_type_and_no_chrome(open_app):
    page = open_app("/?present=true")
    assert page.evaluate(ROOT_FONT_JS) == "20px"
    for chrome in ("stMainMenu", "stToolbarActions", "stAppDeployButton", "stStatusWidget"):
        assert not page.locator(f'[data-testid="{chrome}"]').is_visible(), chrome
    assert page.locator('[data-testid="stSidebar"]').get_attribute("data-collapsed") == "true"
    assert page.locator('[data-testid="stExpandSidebarButton"]').is_visible()  # the sentence box stays reachable
    pills = [page.locator(PILLS).get_by_text(example["short"], exact=True) for example in EXAMPLES]
    assert all(pill.is_visible() for pill in pills)
    assert len({round(pill.bounding_box()["y"]) for pill in pills}) == 1  # one row
    full_page_screenshot(page, SCREENSHOT)
    assert SCREENSHOT.stat().st_size > 50_000


def test_the_examples_are_one_click_away(open_app):
    page = open_app("/?present=true")
    pair = next(example for example in EXAMPLES if example["pair"])
    with expect_rerun(page):
        page.locator(PILLS).get_by_text(pair["short"], exact=True).click()
    graph = page.locator(GRAPH_IFRAME).get_attribute("srcdoc")
    assert all(word in graph for word in pair["pair"].rstrip(".").split()[-2:])
    main = page.locator('[data-testid="stMain"]').inner_text()
    assert pair["note"].split(":")[0] in main
    assert "present=true" in page.url and "pair=" in page.url


def test_a_tile_click_still_selects_its_head_in_large_type(open_app):
    page = open_app("/?present=true")
    point = hover_tile(page, 4, 6)
    with expect_rerun(page):
        page.mouse.click(point["x"], point["y"])
    assert "Heatmap — layer 5, head 7" in page.locator('[data-testid="stMain"]').inner_text()
    assert "Graph — layer 5, head 7" in page.locator(GRAPH_IFRAME).get_attribute("srcdoc")


def first_screen_overflow(page) -> dict[str, dict]:
    """Box of the overview and of the graph where either reaches outside the window (empty: both fully in view)."""
    window = page.viewport_size
    boxes = {
        "overview": page.locator(".st-key-overview .js-plotly-plot").bounding_box(),
        "graph": page.locator(GRAPH_IFRAME).bounding_box(),
    }
    return {
        name: box
        for name, box in boxes.items()
        if box["y"] < 0
        or box["x"] < 0
        or box["y"] + box["height"] > window["height"]
        or box["x"] + box["width"] > window["width"]
    }


@pytest.mark.parametrize("example", [EXAMPLES[0], EXAMPLES[-1]], ids=["first example", "longest note"])
def test_the_first_screen_shows_the_overview_and_the_whole_graph(open_app, example):
    page = open_app("/?present=true")
    if example is not EXAMPLES[0]:
        with expect_rerun(page):
            page.locator(PILLS).get_by_text(example["short"], exact=True).click()
    page.wait_for_timeout(500)  # the graph's page sizes its iframe once loaded
    assert first_screen_overflow(page) == {}
    assert page.locator(GRAPH_IFRAME).bounding_box()["height"] >= 380  # and the graph is not squeezed to fit


def test_the_sidebar_toggle_turns_it_on_and_off(open_app):
    page = open_app("/")
    assert page.evaluate(ROOT_FONT_JS) == "16px"
    toggle = page.locator('[data-testid="stSidebar"]').get_by_role("switch", name="Presentation mode")
    with expect_rerun(page):
        toggle.press("Space")
    assert page.evaluate(ROOT_FONT_JS) == "20px"
    page.wait_for_function("() => location.search.includes('present=true')")
    with expect_rerun(page):
        toggle.press("Space")
    assert page.evaluate(ROOT_FONT_JS) == "16px"
    page.wait_for_function("() => !location.search.includes('present')")
