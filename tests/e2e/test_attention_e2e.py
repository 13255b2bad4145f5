"""The attention page in a real headless Chromium: typing, markup safety, and clicking a head in the overview.

One Streamlit server for the module; each test opens its own page (a new session) at 1600 × 1000.
"""

from __future__ import annotations

import contextlib
import json
import re
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from harness.browser import (
    GRAPH_IFRAME,
    ROOT,
    expect_rerun,
    full_page_screenshot,
    long_paragraph,
    new_page,
    server_log,
    type_sentence,
    wait_for_app_idle,
)

pytestmark = pytest.mark.e2e

LAYERS, HEADS = 6, 12
SCREENSHOT = ROOT / "artifacts" / "e2e-attention.png"
SENTENCE = "The trophy did not fit in the suitcase because it was too big."
MARKUP = "<img src=x onerror=alert(1)> <script>alert(2)</script> hello"

# Summary of every plotly chart on the page, in page order: traces (type, sizes, axes) and tick labels. Streamlit
# sends arrays base64-encoded, so read plotly's decoded ``_fullData``. By chart key (the element's st-key-… class).
PLOTLY_CHARTS_JS = """() => Object.fromEntries([...document.querySelectorAll('.js-plotly-plot')].map((gd) => [
  ([...(gd.closest('[class*="st-key-"]')?.classList ?? [])].find((c) => c.startsWith('st-key-')) ?? '').slice(7), {
    traces: (gd._fullData || []).map((trace) => ({
        type: trace.type,
        points: trace._length ?? (trace.x ? trace.x.length : 0),
        rows: trace.z ? trace.z.length : 0,
        columns: trace.z && trace.z[0] ? trace.z[0].length : 0,
        xaxis: trace.xaxis || 'x',
        yaxis: trace.yaxis || 'y',
    })),
    ticks: [...gd.querySelectorAll('.xtick text, .ytick text')].map((t) => t.textContent),
    layout: JSON.stringify({x: gd.layout.xaxis, y: gd.layout.yaxis}),
    width: gd.getBoundingClientRect().width,
    height: gd.getBoundingClientRect().height,
}]))"""

# Page coordinates of point ``index`` of the trace of one marker per tile in the chart with key ``key`` (the overview
# or the importance map); null while that chart is not drawn (Streamlit may be redrawing it).
POINT_POSITION_JS = """([key, count, index]) => {
    const gd = document.querySelector(`.st-key-${key} .js-plotly-plot`);
    if (!gd || !gd._fullData || !gd._fullLayout) return null;
    const data = gd._fullData.find((trace) => trace.type === 'scatter' && trace._length === count);
    if (!data) return null;
    const xaxis = gd._fullLayout[data.xaxis.replace('x', 'xaxis')];
    const yaxis = gd._fullLayout[data.yaxis.replace('y', 'yaxis')];
    const svg = gd.querySelector('.main-svg');
    if (!xaxis || !yaxis || !svg) return null;
    const box = svg.getBoundingClientRect();
    const px = (axis, value) => axis._offset + axis.l2p(axis.d2l(value));
    return {x: box.left + px(xaxis, data.x[index]), y: box.top + px(yaxis, data.y[index])};
}"""


@pytest.fixture
def page(browser, server):
    url, log_path = server
    page = new_page(browser, viewport={"width": 1600, "height": 1000})
    page.set_default_timeout(60_000)
    dialogs: list[str] = []

    def dismiss(dialog):
        dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", dismiss)
    page.dialogs = dialogs
    page.goto(url, wait_until="domcontentloaded")
    wait_for_app_idle(page)
    yield page
    page.close()
    # pytest shows captured output only for a failing test: the server's log, to read with the failure
    print(f"--- streamlit log ({log_path}) ---\n{server_log(log_path)}")


def graph_frame(page):
    return page.frame_locator(GRAPH_IFRAME).first


def plotly_charts(page) -> dict[str, dict]:
    return page.evaluate(PLOTLY_CHARTS_JS)


def canvas_box(page) -> dict:
    box = graph_frame(page).locator("#mynetwork canvas").bounding_box()
    assert box is not None, "the graph's canvas is not laid out"
    return box


def page_text(page) -> str:
    return page.locator('[data-testid="stMain"]').inner_text()


def test_typing_a_sentence_draws_graph_overview_and_heatmap(page):
    type_sentence(page, SENTENCE)

    box = canvas_box(page)
    assert box["width"] > 100 and box["height"] > 100, box
    frame_html = graph_frame(page).locator("html").inner_html()
    for word in ("trophy", "suitcase", "big"):
        assert word in frame_html, f"{word!r} is not in the graph's data"

    charts = plotly_charts(page)
    overview, heatmap = charts["overview"], charts["heatmap"]
    assert any(trace["type"] == "heatmap" for trace in overview["traces"]), overview
    tiles = [trace for trace in overview["traces"] if trace["points"] == LAYERS * HEADS]
    grid = [t for t in overview["traces"] if t["type"] == "heatmap" and t["rows"] and t["columns"]]
    assert tiles or grid, f"no trace with one point per head ({LAYERS * HEADS}) in the overview: {overview['traces']}"
    assert overview["width"] > 300 and overview["width"] > overview["height"] > 100, overview  # 12 columns × 6 rows

    assert any(trace["type"] == "heatmap" for trace in heatmap["traces"]), heatmap
    for word in ("trophy", "suitcase", "big"):
        assert word in heatmap["ticks"], f"{word!r} is not a tick label of the heatmap: {heatmap['ticks']}"

    assert page.locator('[data-testid="stSidebar"] textarea').first.input_value() == SENTENCE
    full_page_screenshot(page, SCREENSHOT)
    assert SCREENSHOT.stat().st_size > 50_000


INERT_JS = """() => ({
    images: document.querySelectorAll('img[src="x"]').length,
    onerror: document.querySelectorAll('[onerror]').length,
    scripts: [...document.scripts].filter((s) => /^\\s*alert\\s*\\(/.test(s.textContent)).length,
    injected: [...document.querySelectorAll('script')].filter((s) => s.textContent.includes('alert(2)')).length,
})"""


def test_markup_in_the_sentence_stays_inert(page):
    type_sentence(page, MARKUP)
    page.wait_for_timeout(500)  # an onerror handler would have fired by now

    iframe = page.locator(GRAPH_IFRAME).first.element_handle().content_frame()
    assert iframe is not None
    for where, result in (("main page", page.evaluate(INERT_JS)), ("graph iframe", iframe.evaluate(INERT_JS))):
        assert result == {"images": 0, "onerror": 0, "scripts": 0, "injected": 0}, (where, result)

    srcdoc = page.locator(GRAPH_IFRAME).first.get_attribute("srcdoc") or ""
    labels = iframe.evaluate("() => nodes.get().map((node) => node.label)")
    assert "hello" in labels and "hello" in srcdoc, labels
    assert "img" in labels and "<" in labels, labels
    assert "<img" not in srcdoc and "<script>alert" not in srcdoc, "user text reached the iframe's HTML unescaped"

    heatmap = plotly_charts(page)["heatmap"]
    assert "img" in heatmap["ticks"] and "hello" in heatmap["ticks"], heatmap["ticks"]

    # Hover every node (and the canvas centre) so vis-network shows its tooltips; the graph sits below the fold.
    page.locator(GRAPH_IFRAME).first.scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    box = canvas_box(page)
    positions = iframe.evaluate("""() => Object.entries(network.getPositions()).map(([id, p]) =>
        ({id, ...network.canvasToDOM(p)}))""")
    hovered_tooltips = []
    points = [(box["width"] / 2, box["height"] / 2)] + [(p["x"], p["y"]) for p in positions]
    for x, y in points:
        if 0 <= x <= box["width"] and 0 <= y <= box["height"]:
            page.mouse.move(box["x"] + x, box["y"] + y)
            page.wait_for_timeout(150)
            tooltip = iframe.evaluate("""() => { const t = document.querySelector('div.vis-tooltip');
                return t && t.style.visibility !== 'hidden'
                    ? {text: t.innerText, elements: t.children.length} : null; }""")
            if tooltip:
                hovered_tooltips.append(tooltip)
    assert hovered_tooltips, "no vis-network tooltip appeared on hovering the nodes"
    assert all(tip["elements"] == 0 for tip in hovered_tooltips), hovered_tooltips
    assert any("<" in tip["text"] or "img" in tip["text"] for tip in hovered_tooltips), hovered_tooltips
    for where, result in (("main page", page.evaluate(INERT_JS)), ("graph iframe", iframe.evaluate(INERT_JS))):
        assert result == {"images": 0, "onerror": 0, "scripts": 0, "injected": 0}, (where, result)
    assert page.dialogs == []


def tile_point(page, layer: int, head: int, chart: str = "overview") -> dict:
    """Page position of the clickable marker for 0-based (layer, head) in a grid of heads (chart key ``chart``)."""
    from figures.attention_figures import tile_from_point_index

    index = next(i for i in range(LAYERS * HEADS) if tuple(tile_from_point_index(i, HEADS)) == (layer, head))
    return page.wait_for_function(POINT_POSITION_JS, arg=[chart, LAYERS * HEADS, index], timeout=30_000).json_value()


def hover_tile(page, layer: int, head: int, chart: str = "overview") -> dict:
    """Move the mouse onto the tile of 0-based (layer, head) of a grid of heads until plotly's hover label names it
    (the grid can still shift while Streamlit lays out the page); returns the point."""
    hover = page.locator(f".st-key-{chart} .js-plotly-plot .hoverlayer .hovertext").first
    wanted = f"layer {layer + 1}, head {head + 1}"
    label = None
    for _ in range(10):
        point = tile_point(page, layer, head, chart)
        page.mouse.move(point["x"] - 40, point["y"] - 40)
        page.mouse.move(point["x"], point["y"], steps=4)
        with contextlib.suppress(PlaywrightTimeout):
            hover.wait_for(timeout=2_000)
            label = hover.text_content()
            if label.startswith(wanted):
                return point
        page.wait_for_timeout(300)
    raise AssertionError(f"hovering the tile of layer {layer + 1}, head {head + 1} shows {label!r}")


@pytest.mark.parametrize("chart", ["overview", "importance"])
def test_clicking_a_tile_selects_that_head(page, chart):
    assert "Heatmap — layer 5, head 7" not in page_text(page)
    point = hover_tile(page, 4, 6, chart)
    with expect_rerun(page):
        page.mouse.click(point["x"], point["y"])
    assert "Heatmap — layer 5, head 7" in page_text(page)
    assert "Graph — layer 5, head 7" in page.locator(GRAPH_IFRAME).get_attribute("srcdoc")
    sliders = page.locator('[data-testid="stMain"] [data-testid="stSlider"]')
    values = {
        sliders.nth(i).get_attribute("aria-label") or sliders.nth(i).locator("label").inner_text(): sliders.nth(i)
        .locator('input[type="range"]')
        .first.get_attribute("aria-valuetext")
        for i in range(sliders.count())
    }
    assert values.get("Layer") == "5" and values.get("Head") == "7", values


def test_exported_json_holds_every_head_with_its_tokens(page):
    page.get_by_text("Export", exact=True).click()
    button = page.get_by_role("button", name="All heads (JSON)")
    button.wait_for()
    with page.expect_download(timeout=60_000) as download:
        button.click()
    document = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    n = len(document["tokens"])
    assert document["model"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert "animal" in document["tokens"]
    assert [len(document["attention"]), len(document["attention"][0])] == [LAYERS, HEADS]
    assert all(abs(sum(row) - 1) < 1e-4 for layer in document["attention"] for head in layer for row in head)
    assert len(document["attention"][3][1]) == n


# --- what a new user hits first (issue 10) ---------------------------------------------------------------------------

HEATMAP_ROWS_JS = """() => {
    const gd = document.querySelector('.st-key-heatmap .js-plotly-plot');
    return {rows: gd._fullData[0].y.length, height: gd._fullLayout.yaxis._length, width: gd._fullLayout.xaxis._length};
}"""
# Screen x of every node of the graph, from vis-network itself, and the canvas's width.
NODE_XS_JS = """() => ({
    xs: Object.values(network.getPositions()).map((p) => network.canvasToDOM(p).x),
    width: document.querySelector('#mynetwork canvas').getBoundingClientRect().width,
})"""


def test_a_long_paragraph_gives_a_readable_heatmap_and_a_graph_around_the_focus_word(page):
    type_sentence(page, long_paragraph())
    heatmap = page.evaluate(HEATMAP_ROWS_JS)
    assert heatmap["rows"] == 124  # the 129 tokens as words, [CLS] and [SEP] included
    assert heatmap["height"] / heatmap["rows"] >= 6 and heatmap["width"] / heatmap["rows"] >= 6, heatmap
    text = page_text(page)
    assert not re.search(r"\d+ of \d+ edges shown", text)  # no caption of a whole graph that is not drawn
    assert "this is the neighbourhood of it" in text
    nodes = graph_frame(page).locator("html").evaluate("() => Object.keys(network.getPositions()).length")
    assert 3 <= nodes <= 17


def test_a_new_sentence_brings_a_focus_word_of_its_own(page):
    def focus_word() -> str:
        return page.get_by_role("combobox", name="Focus word").input_value().split()[0]

    type_sentence(page, "The cat sat on the mat because it was warm.")
    assert focus_word() == "it"
    type_sentence(page, "My neighbour's dog barked at the postman all morning.")
    assert focus_word() == "My"  # not the old sentence's word 1, "The"


def test_the_arc_layout_spreads_the_sentence_across_the_canvas(page):
    page.goto(page.url.split("?")[0] + "?layout=" + quote("Arc (sentence order)"), wait_until="domcontentloaded")
    wait_for_app_idle(page)
    assert page.get_by_role("combobox", name="Layout").input_value() == "Arc (sentence order)"
    drawn = graph_frame(page).locator("html").evaluate(NODE_XS_JS)
    on_canvas = [min(max(x, 0), drawn["width"]) for x in drawn["xs"]]
    assert (max(on_canvas) - min(on_canvas)) / drawn["width"] >= 0.5, drawn


IMPORTANCE_SCREENSHOT = ROOT / "artifacts" / "e2e-importance.png"


def test_the_importance_map_sits_under_the_overview_and_a_switched_off_head_is_crossed_out(page):
    """Each head's importance on the overview's columns, right under it; switching the selected head off crosses it
    out there and changes the later layers' attention."""
    boxes = {key: page.locator(f".st-key-{key} .js-plotly-plot").bounding_box() for key in ("overview", "importance")}
    overview, importance = boxes["overview"], boxes["importance"]
    assert importance["y"] > overview["y"] + overview["height"] - 5  # below the overview…
    assert importance["y"] < overview["y"] + overview["height"] + 150  # …right under it (its caption between)
    assert abs(importance["x"] - overview["x"]) < 5 and abs(importance["width"] - overview["width"]) < 5
    with expect_rerun(page):
        page.get_by_role("button", name="Switch this head off").click()
    assert "Switch it back on" in page_text(page)
    crossed = page.evaluate(
        """() => document.querySelector('.st-key-importance .js-plotly-plot')._fullData
            .filter((trace) => trace.marker && trace.marker.symbol === 'x-thin').length"""
    )
    assert crossed == 1
    full_page_screenshot(page, IMPORTANCE_SCREENSHOT)
    assert IMPORTANCE_SCREENSHOT.stat().st_size > 50_000
