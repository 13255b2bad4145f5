"""The station-congestion page in a real headless Chromium: the railway map drawn and coloured by crowding."""

from __future__ import annotations

import pytest

from tests.e2e.browser import ROOT, launch_chromium, streamlit_server, wait_for_app_idle

pytestmark = pytest.mark.e2e

SCREENSHOT = ROOT / "artifacts" / "e2e-stations.png"

# The first plotly chart on the page is the map: its marker trace carries one colour (crowding, %) per station.
MAP_JS = """() => {
    const gd = document.querySelector('.js-plotly-plot');
    if (!gd || !gd._fullData) return null;
    const stations = gd._fullData.find((t) => t.mode && t.mode.includes('markers') && t.marker.color && ArrayBuffer.isView(t.marker.color));
    return stations && {
        count: stations._length,
        colours: Array.from(stations.marker.color),
        names: [...gd.querySelectorAll('text')].map((t) => t.textContent),
        colourbar: gd.querySelector('.colorbar') !== null,
    };
}"""


def test_the_railway_map_is_coloured_by_crowding():
    from playwright.sync_api import sync_playwright

    with streamlit_server() as (url, _), sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 1600, "height": 1200})
        page.goto(f"{url}/stations", wait_until="domcontentloaded")
        wait_for_app_idle(page, graph=False)
        drawn = page.wait_for_function(MAP_JS, timeout=60_000).json_value()
        SCREENSHOT.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOT))
        browser.close()

    assert drawn["count"] == 37  # the Yamanote loop and the Chūō line's seven stations
    assert len(set(drawn["colours"])) > 10 and all(value >= 0 for value in drawn["colours"])  # crowding in %
    assert drawn["colourbar"]
    assert {"Shinjuku", "Shibuya", "Tokyo"} <= set(drawn["names"])
