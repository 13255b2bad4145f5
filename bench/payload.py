"""What one interaction costs the browser on the attention page: `python bench/payload.py`.

One `streamlit run app.py` server and one headless Chromium at 1440 × 900. Every byte the page receives over
Streamlit's WebSocket is counted (Playwright's ``framereceived``); the time runs from the user's action to the
page being ready again: the script run it triggered has finished, no element is stale, every plotly chart is drawn
and, where a graph is shown, its vis-network canvas is drawn.

Interactions, each repeated and reported as the median:
- head change at 16 tokens: the default sentence (16 tokens), Head slider one step right (→ key), as a tile click
  or a slider drag does;
- sentence change at 128 tokens: a new ~128-token paragraph typed into the sidebar (fill + Ctrl+Enter): the model
  runs (a cache miss) and every figure is rebuilt;
- head change at 128 tokens: the Head slider one step right with that paragraph shown;
- graph change at 16 tokens: the "Share kept" slider one step left (on the default sentence): only the graph's
  section reruns (a Streamlit fragment), so only the graph is sent.

The targets of issue 10: ≤ 300 KB and ≤ 1.5 s per sentence change at 128 tokens; ≤ 100 KB per head change at 16.

The last line is machine-readable:
RESULT kb_head_16=… s_head_16=… kb_graph_16=… s_graph_16=… kb_sentence_128=… s_sentence_128=… kb_head_128=… …
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from harness.browser import (  # noqa: E402
    APP_IDLE,
    CANVAS_DRAWN_JS,
    GRAPH_IFRAME,
    PLOTS_DRAWN_JS,
    SENTENCE_BOX,
    finished_runs,
    launch_chromium,
    long_paragraph,
    new_page,
    streamlit_server,
    wait_for_app_idle,
    wait_for_run_after,
)

VIEWPORT = {"width": 1440, "height": 900}
REPEATS = 5
TIMEOUT_MS = 90_000
MARKERS = ("river", "lantern", "garden", "teacher", "violin", "harbor", "pencil")
SHARE_SLIDER = '[data-testid="stMain"] [role="group"][aria-label="Share kept (%)"] input[type="range"]'
HEAD_SLIDER = '[data-testid="stMain"] [role="group"][aria-label="Head"] input[type="range"]'
GRAPH_DRAWN_JS = f"""() => {{
    const iframe = document.querySelector('{GRAPH_IFRAME}');
    return !iframe || ({CANVAS_DRAWN_JS})(iframe);
}}"""


class FrameCounter:
    """Bytes received over the page's WebSockets since the last ``reset``."""

    def __init__(self, page) -> None:
        self.received = 0
        page.on("websocket", lambda socket: socket.on("framereceived", self.count))

    def count(self, payload: str | bytes) -> None:
        self.received += len(payload)

    def reset(self) -> None:
        self.received = 0


def measure(page, counter: FrameCounter, action) -> tuple[float, float]:
    """(KB received, seconds) from ``action()`` to the page ready again."""
    before = finished_runs(page)
    counter.reset()
    start = time.perf_counter()
    action()
    wait_for_run_after(page, before, TIMEOUT_MS)
    page.wait_for_selector(APP_IDLE, timeout=TIMEOUT_MS)
    page.wait_for_function("() => !document.querySelector('[data-stale=\"true\"]')", timeout=TIMEOUT_MS, polling=20)
    page.wait_for_function(PLOTS_DRAWN_JS, timeout=TIMEOUT_MS, polling=20)
    page.wait_for_function(GRAPH_DRAWN_JS, timeout=TIMEOUT_MS, polling=20)
    seconds = time.perf_counter() - start
    page.wait_for_timeout(500)  # late frames (e.g. a plotly selection echo) still count
    return counter.received / 1000, seconds


def type_paragraph(page, marker: str) -> None:
    box = page.locator(SENTENCE_BOX)
    box.fill(long_paragraph(marker))
    box.press("Control+Enter")


def next_head(page) -> None:
    page.locator(HEAD_SLIDER).press("ArrowRight")


def less_share(page) -> None:
    page.locator(SHARE_SLIDER).press("ArrowLeft")


def medians(samples: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(kb for kb, _ in samples), statistics.median(s for _, s in samples)


def main() -> None:
    from playwright.sync_api import sync_playwright

    results: dict[str, float] = {}
    with streamlit_server() as (url, _), sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = new_page(browser, viewport=VIEWPORT)
        counter = FrameCounter(page)
        page.goto(url, wait_until="domcontentloaded")
        wait_for_app_idle(page)
        for name, samples in (
            ("head_16", [measure(page, counter, lambda: next_head(page)) for _ in range(REPEATS)]),
            ("graph_16", [measure(page, counter, lambda: less_share(page)) for _ in range(REPEATS)]),
            ("sentence_128", [measure(page, counter, lambda m=m: type_paragraph(page, m)) for m in MARKERS[:REPEATS]]),
            ("head_128", [measure(page, counter, lambda: next_head(page)) for _ in range(REPEATS)]),
        ):
            kb, seconds = medians(samples)
            results[f"kb_{name}"], results[f"s_{name}"] = round(kb, 1), round(seconds, 2)
            print(f"{name}: " + ", ".join(f"{k:.0f} KB / {s:.2f} s" for k, s in samples), flush=True)
        browser.close()
    print("RESULT " + " ".join(f"{key}={value}" for key, value in results.items()))


if __name__ == "__main__":
    main()
