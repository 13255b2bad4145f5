"""Hosting figures of the app as Streamlit Community Cloud would run it: `python bench/hosting.py`.

A fresh `streamlit run app.py` server (harness/browser.streamlit_server) with ``TRANSFORMER_GRAPH_HOSTED=1`` in its
environment (the hosted mode: local model folders refused) and ``HF_HUB_OFFLINE=1`` (the bundled model needs no
network), then one headless Debian Chromium session driven by Playwright's sync API:

1. Cold start: seconds from the server process's start to ``/_stcore/health`` answering ``ok``, and to the first
   attention graph drawn in Chromium (Chromium's launch included). The first script run loads the model, so this is
   what the first visitor of a sleeping app waits for once the packages are installed.
2. Resident memory (RSS, MB) of the server's process tree: after start (healthy, no session yet), after the first
   graph (the default page, "Attention as a graph"), and after visiting each of the other four pages once, in order,
   through the sidebar's navigation links, waiting for the app to idle on each (the script has finished, no stale
   element, every plotly chart and, where the page has one, the graph canvas drawn). Peak RSS (the kernel's
   high-water mark, VmHWM) is shown beside it.

The last line is machine-readable:
RESULT health_s=… first_graph_s=… rss_mb_start=… rss_mb_first_graph=… rss_mb_all_pages=…
"""

from __future__ import annotations

import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from harness.browser import expect_rerun, launch_chromium, open_app, streamlit_server  # noqa: E402
from harness.machine import peak_mb, rss_mb  # noqa: E402

# (navigation link, whether the page draws a graph iframe), in the sidebar's order. The first, the default page, is
# visited by opening the app; the others are clicked in turn.
PAGES = (
    ("Attention as a graph", True),
    ("Small Transformer, trained here", True),
    ("Station congestion (GCN)", False),
    ("Reformer: LSH buckets", True),
    ("Transformer = GNN", False),
)
EXCEPTION = '[data-testid="stException"]'


def visit_every_page(page, visited: Callable[[str], None]) -> None:
    """From the default page, open each other page of PAGES in turn through its sidebar link, wait for the app to
    idle, fail if the page shows an exception, then call ``visited(link)``."""
    assert page.locator(EXCEPTION).count() == 0, f"{PAGES[0][0]!r} shows an exception"
    for link, graph in PAGES[1:]:
        with expect_rerun(page, graph=graph):
            page.get_by_role("link", name=link).click()
        assert page.locator(EXCEPTION).count() == 0, f"{link!r} shows an exception"
        visited(link)


def main() -> None:
    # streamlit_server copies this process's environment into the server's.
    os.environ["TRANSFORMER_GRAPH_HOSTED"] = "1"
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    rows: list[tuple[str, float, float, float]] = []  # (moment, seconds since process start, RSS MB, peak MB)

    def sample(moment: str, t0: float, server) -> None:
        rows.append((moment, time.monotonic() - t0, rss_mb(server), peak_mb(server)))

    t0 = time.monotonic()  # streamlit_server starts the process right away
    with streamlit_server() as (url, server):
        health_s = time.monotonic() - t0
        sample("healthy (no session yet)", t0, server)
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            try:
                page = open_app(browser, url, width=1400, height=900)
                first_graph_s = time.monotonic() - t0
                sample("first attention graph drawn", t0, server)
                visit_every_page(page, lambda link: sample(f"visited {link!r}", t0, server))
            finally:
                browser.close()
        rss_all_pages = rows[-1][2]

    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, TRANSFORMER_GRAPH_HOSTED=1, HF_HUB_OFFLINE=1")
    print(f"{'moment':<44} {'t (s)':>7} {'RSS MB':>8} {'peak MB':>8}")
    for moment, t, rss, peak in rows:
        print(f"{moment:<44} {t:>7.1f} {rss:>8.0f} {peak:>8.0f}")
    print(
        f"RESULT health_s={health_s:.1f} first_graph_s={first_graph_s:.1f} rss_mb_start={rows[0][2]:.0f} "
        f"rss_mb_first_graph={rows[1][2]:.0f} rss_mb_all_pages={rss_all_pages:.0f}"
    )


if __name__ == "__main__":
    main()
