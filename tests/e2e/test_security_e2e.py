"""Markup in uploaded CSV station names never executes, in a real headless Chromium: no dialog, no injected element."""

from __future__ import annotations

import pytest

from harness.browser import expect_rerun, new_page, wait_for_app_idle

pytestmark = pytest.mark.e2e

PAYLOAD = "<img src=x onerror=alert(1)>"
STATIONS = (
    "id,name_en,name_ja,x,y,daily_boardings\n"
    f"A,{PAYLOAD},<img src=x onerror=alert(3)>,0,0,100000\n"
    "B,<script>alert(2)</script>,,1,0,50000\n"
    "C,<svg onload=alert(4)>,,2,1,80000\n"
    "D,Delta,,1,2,60000\n"
    "E,Epsilon,,0,1,30000\n"
    "F,Zeta,,2,2,20000\n"
).encode()
LINKS = (
    b"source,target,km,lines\nA,B,1,<img src=x onerror=alert(5)>\nB,C,1,Red\nC,D,1,Blue\nD,E,1,Blue\n"
    b"E,A,1,Red\nD,F,1,Blue\nC,F,1,Blue\n"
)

INJECTED_JS = """() => {
    const docs = [document, ...[...document.querySelectorAll('iframe')].map((f) => f.contentDocument).filter(Boolean)];
    const count = (selector) => docs.reduce((n, doc) => n + doc.querySelectorAll(selector).length, 0);
    return {
        images: count('img[src="x"]') + docs.reduce((n, doc) =>
            n + [...doc.images].filter((img) => img.getAttribute('src') === 'x').length, 0),
        handlers: count('[onerror], [onload]:not(body):not(iframe)'),
        scripts: docs.reduce((n, doc) =>
            n + [...doc.scripts].filter((s) => s.textContent.includes('alert(')).length, 0),
        svgs: count('svg[onload]'),
    };
}"""

DRAWN_AS_TEXT_JS = """(payload) => [...document.querySelectorAll('.js-plotly-plot text')]
    .some((t) => t.textContent.includes(payload))"""


def test_markup_in_uploaded_station_names_never_executes(server, browser):
    url, _ = server
    page = new_page(browser, viewport={"width": 1600, "height": 1200})
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    try:
        page.goto(f"{url}/stations", wait_until="domcontentloaded")
        wait_for_app_idle(page, graph=False)
        page.get_by_text("Use your own network").click()
        uploads = page.locator('[data-testid="stFileUploader"] input[type="file"]')
        uploads.first.wait_for(state="attached", timeout=30_000)
        with expect_rerun(page, graph=False):
            uploads.nth(0).set_input_files({"name": "stations.csv", "mimeType": "text/csv", "buffer": STATIONS})
        with expect_rerun(page, graph=False):
            uploads.nth(1).set_input_files({"name": "links.csv", "mimeType": "text/csv", "buffer": LINKS})
        page.wait_for_function("() => document.body.innerText.includes('your network')", timeout=60_000)
        wait_for_app_idle(page, graph=False)
        page.wait_for_function(DRAWN_AS_TEXT_JS, arg=PAYLOAD, timeout=30_000)  # the name is shown, as text
        page.mouse.move(800, 600)  # a hover label, should one appear, is drawn too
        page.wait_for_timeout(800)  # an onerror / onload handler would have fired by now
        injected = page.evaluate(INJECTED_JS)
        assert not dialogs, dialogs
        assert injected == {"images": 0, "handlers": 0, "scripts": 0, "svgs": 0}, injected
        assert "could not be used" not in page.inner_text("body")
    finally:
        page.close()
