"""A decoder in a real headless Chromium: a local random GPT-2 folder typed into the model box by link, its causal
graph (every edge to an earlier word) and heatmap (nothing above the diagonal), photographed.

No weights can be downloaded here: the folder is core.transformer.random_checkpoints' tiny GPT-2, which has GPT-2's
architecture, byte-level tokenizer and causal mask but random weights.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest

from core.transformer.random_checkpoints import write_random_checkpoint
from harness.browser import GRAPH_IFRAME, ROOT, full_page_screenshot, open_app

pytestmark = pytest.mark.e2e

SCREENSHOT = ROOT / "artifacts" / "e2e-decoder.png"
SENTENCE = "The trophy did not fit in the suitcase because it was too big."
EDGE_TITLE = re.compile(r"\((\d+)\) → [^(]*\((\d+)\): (\d\.\d+)")  # an edge's hover, "animal (2) → it (7): 0.432"

# The attention heatmap's cells: plotly's decoded z, null for a gap.
HEATMAP_JS = """() => {
    const gd = document.querySelector('.st-key-heatmap .js-plotly-plot');
    return Array.from(gd._fullData[0].z, (row) => Array.from(row, (v) => (Number.isNaN(v) ? null : v)));
}"""
# Every edge's hover text in the graph's vis-network data.
EDGE_TITLES_JS = "() => network.body.data.edges.get().map((edge) => edge.title)"


@pytest.fixture(scope="module")
def gpt2_folder(tmp_path_factory):
    return write_random_checkpoint(tmp_path_factory.mktemp("decoder") / "gpt2", "gpt2")


def test_a_decoders_graph_and_heatmap_show_its_causal_structure(browser, server, gpt2_folder):
    url, _ = server
    query = {
        "model_choice": "Other (type a Hub id)…",
        "custom_model": str(gpt2_folder),
        "text": SENTENCE,
        "pair": "",
        "head": "3",
        "rule": "all",
    }
    page = open_app(browser, f"{url}/?{urlencode(query)}", width=1440, height=900)
    text = page.locator('[data-testid="stMain"]').inner_text()
    assert "decoder" in text and "Hide the first token" in text and "Traceback" not in text

    frame = page.frame_locator(GRAPH_IFRAME).first
    titles = frame.locator("html").evaluate(f"() => ({EDGE_TITLES_JS})()")
    edges = [(int(source), int(target)) for title in titles for source, target, _ in EDGE_TITLE.findall(title)]
    assert len(edges) == len(titles) > 10
    assert all(target <= source for source, target in edges), "an edge points to a later word"

    cells = page.evaluate(HEATMAP_JS)
    n = len(cells)
    assert n > 10 and all(len(row) == n for row in cells)
    assert all(cells[i][j] is None for i in range(n) for j in range(i + 1, n))
    assert all(cells[i][j] is not None for i in range(n) for j in range(i + 1))

    full_page_screenshot(page, SCREENSHOT)
    assert SCREENSHOT.stat().st_size > 50_000
    page.close()
