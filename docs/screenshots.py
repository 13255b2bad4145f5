"""Screenshots of every page for the README and docs/: `python docs/screenshots.py [PAGE ...]`.

One `streamlit run app.py` server and one headless Chromium. Each page at 1440 × 900 (sidebar open) and in
presentation mode at 1280 × 800 (`?present=true`), on its default sentence, saved twice: the first screen (what a
visitor or an audience sees before scrolling) and the whole page, scrolled through (Streamlit scrolls inside its main
container, so the window is grown to the content first). Written as docs/<page>-<size>-first.png and -full.png, in
256 colours (a tenth of the bytes; the pages are flat colours and text).

`python docs/screenshots.py --long` does the same with the 129-token paragraph (harness.browser.long_paragraph) as
the sentence, into artifacts/long/ (not committed): the look at long input that every page change asks for.
`--decoder gpt2` (or llama, qwen2) runs a tiny random checkpoint of that decoder family
(core.transformer.random_checkpoints; no weights can be downloaded here) typed into the model box, into
artifacts/decoder-<family>/ (with --long: artifacts/decoder-<family>-long/).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from PIL import Image  # noqa: E402

from core.transformer.random_checkpoints import FAMILIES, write_random_checkpoint  # noqa: E402
from harness.browser import (  # noqa: E402
    full_page_screenshot,
    launch_chromium,
    long_paragraph,
    new_page,
    streamlit_server,
    wait_for_app_idle,
)

PAGES = {"attention": "/", "translator": "/translator", "stations": "/stations", "lsh": "/lsh", "gnn": "/gnn"}
SIZES = {  # name: (window, query parameters)
    "1440": ({"width": 1440, "height": 900}, {}),
    "present-1280": ({"width": 1280, "height": 800}, {"present": "true"}),
}


def save_small(path: Path) -> None:
    """Rewrite the PNG at ``path`` in 256 colours."""
    with Image.open(path) as image:
        image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)


def main() -> None:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--long", action="store_true", help="the 129-token paragraph, into artifacts/long/")
    parser.add_argument("--decoder", choices=FAMILIES, help="a random decoder of this family, into artifacts/")
    parser.add_argument("pages", nargs="*", choices=[[], *PAGES], help="the pages to take (default: all)")
    arguments = parser.parse_args()
    long, pages = arguments.long, arguments.pages or list(PAGES)
    folder = ROOT / "docs"
    model: dict[str, str] = {}
    if arguments.decoder:
        checkpoint = write_random_checkpoint(Path(tempfile.mkdtemp()) / arguments.decoder, arguments.decoder)
        model = {"model_choice": "Other (type a Hub id)…", "custom_model": str(checkpoint)}
        folder = ROOT / "artifacts" / f"decoder-{arguments.decoder}{'-long' if long else ''}"
    elif long:
        folder = ROOT / "artifacts" / "long"
    folder.mkdir(parents=True, exist_ok=True)
    with streamlit_server() as (url, _), sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        for name in pages:
            path = PAGES[name]
            for size, (viewport, parameters) in SIZES.items():
                query = urlencode(parameters | model | ({"text": long_paragraph()} if long else {}))
                page = new_page(browser, viewport=viewport)
                page.goto(url + path + (f"?{query}" if query else ""), wait_until="domcontentloaded")
                wait_for_app_idle(page, graph=name == "attention")
                page.wait_for_timeout(1500)  # the graph's page sizes its iframe; plotly finishes its transitions
                first, full = folder / f"{name}-{size}-first.png", folder / f"{name}-{size}-full.png"
                page.screenshot(path=str(first))
                full_page_screenshot(page, full, graph=name == "attention")
                for shot in (first, full):
                    save_small(shot)
                    print(shot.relative_to(ROOT), f"{shot.stat().st_size // 1000} KB", flush=True)
                page.close()
        browser.close()


if __name__ == "__main__":
    main()
