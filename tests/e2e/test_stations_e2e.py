"""The station-congestion page in a real headless Chromium: the railway map drawn and coloured by crowding, its names
and colour-bar labels clear of each other at the sizes a speaker uses, and a what-if's effect under its buttons."""

from __future__ import annotations

import itertools

import pytest

from harness.browser import ROOT, expect_rerun, launch_chromium, new_page, streamlit_server, wait_for_app_idle

pytestmark = pytest.mark.e2e

SCREENSHOT = ROOT / "artifacts" / "e2e-stations.png"

# The map (chart key "stations_map"; other charts may draw first): its marker trace carries one colour (crowding, %)
# per station.
MAP_JS = """() => {
    const gd = document.querySelector('.st-key-stations_map .js-plotly-plot');
    if (!gd || !gd._fullData) return null;
    const stations = gd._fullData.find(
        (t) => t.mode && t.mode.includes('markers') && t.marker.color && ArrayBuffer.isView(t.marker.color));
    return stations && {
        count: stations._length,
        colours: Array.from(stations.marker.color),
        names: [...gd.querySelectorAll('text')].map((t) => t.textContent),
        colourbar: gd.querySelector('.colorbar') !== null,
    };
}"""

# The boxes (left, top, right, bottom, text, font size) of the map's station names and of its colour bar's tick labels.
MAP_TEXT_JS = """() => {
    const gd = document.querySelector('.st-key-stations_map .js-plotly-plot');
    const box = (t) => {
        const r = t.getBoundingClientRect();
        return [r.left, r.top, r.right, r.bottom, t.textContent, parseFloat(getComputedStyle(t).fontSize)];
    };
    return {
        names: [...gd.querySelectorAll('.scatterlayer .textpoint text')].filter((t) => t.textContent).map(box),
        ticks: [...gd.querySelectorAll('.colorbar text')].filter((t) => !/title/.test(t.getAttribute('class') || ''))
            .map(box),
    };
}"""


@pytest.fixture(scope="module")
def app():
    """(base URL, browser): one server and one Chromium for the module."""
    from playwright.sync_api import sync_playwright

    with streamlit_server() as (url, _), sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield url, browser
        browser.close()


def open_stations(app, query: str = "", width: int = 1600, height: int = 1200):
    url, browser = app
    page = new_page(browser, viewport={"width": width, "height": height})
    page.goto(f"{url}/stations{query}", wait_until="domcontentloaded")
    wait_for_app_idle(page, graph=False)
    return page


def overlapping(boxes: list) -> list[tuple[str, str]]:
    """Pairs of texts whose boxes share more than a pixel in both directions."""
    return [
        (a[4], b[4])
        for a, b in itertools.combinations(boxes, 2)
        if min(a[2], b[2]) - max(a[0], b[0]) > 1 and min(a[3], b[3]) - max(a[1], b[1]) > 1
    ]


def test_the_railway_map_is_coloured_by_crowding(app):
    page = open_stations(app)
    drawn = page.wait_for_function(MAP_JS, timeout=60_000).json_value()
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))
    page.close()

    assert drawn["count"] == 37  # the Yamanote loop and the Chūō line's seven stations
    assert len(set(drawn["colours"])) > 10 and all(value >= 0 for value in drawn["colours"])  # crowding in %
    assert drawn["colourbar"]
    assert {"Shinjuku", "Shibuya", "Tokyo"} <= set(drawn["names"])


@pytest.mark.parametrize(
    ("query", "width", "height", "name_px"),
    [
        ("", 1440, 900, 14.0),  # a laptop, sidebar open
        ("?present=true", 1280, 800, 17.5),  # a projector: presentation mode, names 1.25 × larger
    ],
)
def test_every_station_is_named_and_no_names_or_colour_bar_labels_overlap(app, query, width, height, name_px):
    page = open_stations(app, query, width, height)
    page.wait_for_function(MAP_JS, timeout=60_000)
    texts = page.evaluate(MAP_TEXT_JS)
    page.close()

    assert len(texts["names"]) == 37
    assert {font for *_, font in texts["names"]} == {name_px}
    assert overlapping(texts["names"]) == []
    assert [text for *_, text, _ in texts["ticks"]] == ["0", "50", "100every straptaken", "150", "200+bodiestouch"]
    assert overlapping(texts["ticks"]) == []


def test_a_what_if_shows_its_effect_right_under_its_buttons(app):
    page = open_stations(app, width=1440, height=900)
    concert = page.get_by_role("button", name="A concert at Shibuya")
    with expect_rerun(page, graph=False):
        concert.click()
    effect = page.get_by_text("Biggest change (simulator): Shibuya")
    raise_box = page.get_by_text("Raise boardings at", exact=True)
    buttons_bottom = concert.bounding_box()["y"] + concert.bounding_box()["height"]
    assert buttons_bottom < effect.bounding_box()["y"] < raise_box.bounding_box()["y"]
    page.close()
