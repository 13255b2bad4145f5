"""The LSH page in a real headless Chromium: the bucket view drawn (screenshot), its heatmaps and metric cards laid
out, then the 2-D hash's tab (a plain word in the address) and its button.

One Streamlit server for the module; the page is opened at its URL path, /lsh, at 1600 × 1000.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

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

pytestmark = pytest.mark.e2e

SCREENSHOT = ROOT / "artifacts" / "e2e-lsh.png"

# Every plotly chart, in page order: its element key (from the Streamlit container's class) and its decoded traces.
CHARTS_JS = """() => [...document.querySelectorAll('[data-testid="stPlotlyChart"]')].map((element) => {
    const gd = element.querySelector('.js-plotly-plot');
    const holder = element.closest('[class*="st-key-"]');
    const key = holder ? [...holder.classList].find((c) => c.startsWith('st-key-')).slice(7) : null;
    return {
        key,
        traces: (gd && gd._fullData || []).map((t) => ({type: t.type, rows: t.z ? t.z.length : 0,
                                                         columns: t.z && t.z[0] ? t.z[0].length : 0})),
        cells: gd ? [...gd.querySelectorAll('.heatmaplayer text, g.text text, text.textpoint')]
            .map((t) => t.textContent) : [],
        top: element.getBoundingClientRect().top,
        width: element.getBoundingClientRect().width,
        height: element.getBoundingClientRect().height,
    };
})"""
# The heatmaps' cells (the plot area's width and height over its rows and columns) and the difference's colour-bar
# title against its chart's box.
LAYOUT_JS = """() => {
    const box = (element) => element.getBoundingClientRect();
    const cells = Object.fromEntries(['lsh_full_heatmap', 'lsh_lsh_heatmap', 'lsh_difference'].map((key) => {
        const gd = document.querySelector(`.st-key-${key} .js-plotly-plot`);
        const size = gd._fullLayout._size, z = gd._fullData[0].z;
        return [key, [size.w / z[0].length, size.h / z.length]];
    }));
    const chart = box(document.querySelector('.st-key-lsh_difference'));
    const title = box(document.querySelector('.st-key-lsh_difference .cbtitle'));
    const metrics = [...document.querySelectorAll('[data-testid="stMetric"]')].map((m) => box(m).height);
    return {cells, title_inside: title.left >= chart.left && title.right <= chart.right, metrics};
}"""


@pytest.fixture
def page(browser, server):
    url, log_path = server
    page = new_page(browser, viewport={"width": 1600, "height": 1000})
    page.set_default_timeout(60_000)
    page.goto(f"{url}/lsh", wait_until="domcontentloaded")
    wait_for_app_idle(page)  # the two graphs are drawn too
    yield page
    page.close()
    print(f"--- streamlit log ({log_path}) ---\n{server_log(log_path)}")


def charts(page) -> dict[str, dict]:
    return {chart["key"]: chart for chart in page.evaluate(CHARTS_JS)}


def test_the_bucket_view_draws_the_sentence_in_buckets(page):
    drawn = charts(page)
    buckets = drawn["lsh_buckets_fig"]
    assert buckets["traces"][0]["type"] == "heatmap"
    assert (buckets["traces"][0]["rows"], buckets["traces"][0]["columns"]) == (1, 16)  # 1 round × 16 tokens
    assert {"animal", "street", "it"} <= set(buckets["cells"]), buckets["cells"]
    assert buckets["width"] > 800 and buckets["height"] > 80
    assert {"lsh_sorted", "lsh_sizes", "lsh_focus_fig", "lsh_difference"} <= set(drawn)
    assert page.locator(GRAPH_IFRAME).count() == 2
    text = page.locator('[data-testid="stMain"]').inner_text()
    assert "Attention mass kept" in text and "soft: 240 edges" in text
    assert not page.locator('[data-testid="stException"]').count()
    full, lsh = drawn["lsh_full_heatmap"], drawn["lsh_lsh_heatmap"]
    assert full["top"] == lsh["top"] and full["width"] >= 400  # side by side, each large enough to read
    layout = page.evaluate(LAYOUT_JS)
    for key, (width, height) in layout["cells"].items():
        assert abs(width - height) <= 1.5 and width >= 18, (key, width, height)  # square, a label's line high
    assert layout["title_inside"]  # "LSH − full (attention weight)" whole
    assert len(set(layout["metrics"])) == 1, layout["metrics"]  # the metric cards of a row are as tall
    full_page_screenshot(page, SCREENSHOT)
    assert SCREENSHOT.stat().st_size > 50_000


def test_the_button_of_the_2d_hash_draws_new_rotations(page):
    with expect_rerun(page, graph=False):
        page.get_by_role("tab", name="Hash").click()
    page.wait_for_function("() => new URLSearchParams(location.search).has('lsh_tab')")
    assert parse_qs(urlsplit(page.url).query)["lsh_tab"] == ["Hash"]  # a plain word in the address
    before = page.evaluate(
        "() => JSON.stringify(document.querySelector('.st-key-toy_figure .js-plotly-plot')"
        "._fullData.map((t) => [t.x, t.y]))"
    )
    with expect_rerun(page, graph=False):
        page.get_by_role("button", name="Draw new rotations").click()
    after = page.evaluate(
        "() => JSON.stringify(document.querySelector('.st-key-toy_figure .js-plotly-plot')"
        "._fullData.map((t) => [t.x, t.y]))"
    )
    assert after != before
    assert "seed 1" in page.locator('[data-testid="stMain"]').inner_text()
