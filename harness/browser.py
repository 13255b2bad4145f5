"""Helpers for driving the running app in a real headless Chromium (no tests here).

- ``streamlit_server()``: starts ``streamlit run app.py`` on a free port in its own process group, waits for
  ``/_stcore/health`` and yields ``(base_url, process)``; the whole group is killed on exit, and the server log
  (``process.log_path``) is printed when startup fails or the block raises.
- ``launch_chromium(playwright)``: Debian's ``/usr/bin/chromium`` (``playwright install`` cannot download browsers
  here). Missing chromium fails under CI (``CI=true``) and skips otherwise.
- ``wait_for_app_idle(page)``: the script has finished (``stApp[data-test-script-state="notRunning"]`` while the
  connection is ``CONNECTED``) and the graph iframe's vis-network canvas has been drawn (and every plotly chart).
- ``new_page(browser)``: a page that counts the script runs finished on it (``finished_runs``), for
  ``expect_rerun(page)``: a block that triggers a script run, then waits for that run to finish and the app to idle.
- ``type_sentence(page, text)``: fill the sidebar's sentence box and commit it (Ctrl+Enter), as a user would.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import weakref
from collections.abc import Iterator
from pathlib import Path

from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from harness.streamlit_client import FINISHED

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
HEALTH_TIMEOUT_S = 90
IDLE_TIMEOUT_MS = 90_000

APP = '[data-testid="stApp"]'
APP_IDLE = f'{APP}[data-test-connection-state="CONNECTED"][data-test-script-state="notRunning"]'
GRAPH_IFRAME = 'iframe[data-testid="stIFrame"]'
# A paragraph of 129 BERT tokens with [CLS] and [SEP] (124 words): what a long input looks like to the pages.
PARAGRAPH = (
    "Attention lets every word in a sentence look at every other word. In a recurrent network the first word has to "
    "survive many steps before it reaches the last one, and most of it fades on the way. A Transformer instead "
    "builds a graph: the words are the nodes, and the weights of attention are the edges, recomputed for every "
    "{marker} sentence from the similarity of the words themselves. Reformer keeps only the strongest of those edges "
    "by hashing similar words into the same bucket, so that a model can read thousands of words without comparing "
    "every pair. The station map in the next chapter works the same way, with trains."
)


def long_paragraph(marker: str = "river") -> str:
    """PARAGRAPH with ``marker`` (one word, one token) in it: a new paragraph for each marker, to miss the cache."""
    return PARAGRAPH.format(marker=marker)


SENTENCE_BOX = '[data-testid="stSidebar"] [data-testid="stTextArea"] textarea'


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def healthy(url: str) -> bool:
    """Whether the server at ``url`` answers its health check with "ok"."""
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.status == 200 and response.read().strip() == b"ok"
    except (urllib.error.URLError, ConnectionError, OSError):
        return False


def stop_process_group(process: subprocess.Popen) -> None:
    """SIGTERM the server's process group, then SIGKILL whatever is left."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@contextlib.contextmanager
def streamlit_server(
    port: int | None = None, timeout_s: float = HEALTH_TIMEOUT_S
) -> Iterator[tuple[str, subprocess.Popen]]:
    """Run the app; yields (base URL, Popen). The log is shown (on stderr) when the server does not come up."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "app.py",
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
    ]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
    with tempfile.NamedTemporaryFile("w+", prefix="streamlit-e2e-", suffix=".log", delete=False) as log:
        log_path = Path(log.name)
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    process.log_path = log_path  # for callers that show the log when a test fails
    try:
        deadline = time.monotonic() + timeout_s
        while not healthy(url):
            if process.poll() is not None:
                raise RuntimeError(f"streamlit exited with code {process.returncode}:\n{log_path.read_text()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"streamlit not healthy after {timeout_s:.0f} s:\n{log_path.read_text()}")
            time.sleep(0.25)
        try:
            yield url, process
        except BaseException:
            sys.stderr.write(f"--- streamlit log ({log_path}) ---\n{server_log(log_path)}\n")
            raise
    finally:
        stop_process_group(process)
        with contextlib.suppress(OSError):
            log_path.unlink()


def server_log(path: Path, tail: int = 6000) -> str:
    with contextlib.suppress(OSError):
        return path.read_text(errors="replace")[-tail:]
    return "(no log)"


def program_or_skip(path: str, name: str, needed_by: str) -> str:
    """Path of Debian's program ``name`` (at ``path``, else on PATH); a failure under CI (``CI=true``), a skip
    elsewhere, when it is missing."""
    if os.path.exists(path) and os.access(path, os.X_OK):
        return path
    found = shutil.which(name)
    if found:
        return found
    reason = f"{name} not found at {path} (apt-get install -y {name}); {needed_by} need it"
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        raise RuntimeError(reason)
    import pytest

    pytest.skip(reason)


def chromium_or_skip() -> str:
    return program_or_skip(CHROMIUM, "chromium", "the browser tests")


def launch_chromium(playwright, **kwargs):
    """A headless Debian Chromium driven by Playwright."""
    return playwright.chromium.launch(executable_path=chromium_or_skip(), args=CHROMIUM_ARGS, headless=True, **kwargs)


CANVAS_DRAWN_JS = """(iframe) => {
    const doc = iframe.contentDocument;
    if (!doc) return false;
    const canvas = doc.querySelector('#mynetwork canvas, .vis-network canvas');
    return !!canvas && canvas.width > 0 && canvas.height > 0 && canvas.getBoundingClientRect().width > 0;
}"""


PLOTS_DRAWN_JS = """() => [...document.querySelectorAll('[data-testid="stPlotlyChart"]')].every((chart) => {
    const gd = chart.querySelector('.js-plotly-plot');
    return !!gd && !!gd._fullLayout && !!gd.querySelector('.main-svg');
})"""


def wait_for_app_idle(page, timeout_ms: int = IDLE_TIMEOUT_MS, graph: bool = True) -> None:
    """Wait until the app is connected and its script is not running, then (``graph``) until the graph iframe's
    vis-network canvas is drawn. A short grace period lets a rerun triggered by the last action start first."""
    page.wait_for_selector(APP, timeout=timeout_ms)
    page.wait_for_timeout(300)
    page.wait_for_selector(APP_IDLE, timeout=timeout_ms)
    # Streamlit can mark stale elements while it reruns; wait for the element tree to settle too.
    page.wait_for_function("() => !document.querySelector('[data-stale=\"true\"]')", timeout=timeout_ms)
    # Elements still loading show as skeletons (the first screen of a page photographed as grey bars otherwise).
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stSkeleton\"]')", timeout=timeout_ms)
    # Plotly is loaded lazily: every chart element must hold a drawn plotly div.
    page.wait_for_function(PLOTS_DRAWN_JS, timeout=timeout_ms)
    if graph:
        iframe = page.wait_for_selector(GRAPH_IFRAME, timeout=timeout_ms)
        page.wait_for_function(f"(iframe) => ({CANVAS_DRAWN_JS})(iframe)", arg=iframe, timeout=timeout_ms)


_FINISHED_RUNS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # page → script runs it was told finished


def new_page(browser_or_context, **kwargs):
    """``browser_or_context.new_page(**kwargs)``, counting the script runs that finish on it (``finished_runs``):
    every ``script_finished`` message its WebSocket receives, read with Streamlit's protobufs.

    Counting changes of the app's ``data-test-script-state`` attribute instead misses a run that finishes before
    the browser renders it as running (a page switch answered from the caches in ~20 ms: 3 of 24 such switches in
    a row were missed), and the wait for that run then times out."""
    page = browser_or_context.new_page(**kwargs)
    _FINISHED_RUNS[page] = 0

    def read_frame(payload: bytes | str) -> None:
        if finishes_a_run(payload):
            _FINISHED_RUNS[page] += 1

    page.on("websocket", lambda socket: socket.on("framereceived", read_frame))
    return page


def finishes_a_run(payload: bytes | str) -> bool:
    """Whether a WebSocket frame from the server is a ForwardMsg saying a script run finished (the page's or one
    fragment's; not one cut short for a rerun)."""
    if not isinstance(payload, bytes):
        return False
    message = ForwardMsg.FromString(payload)
    return message.WhichOneof("type") == "script_finished" and message.script_finished in FINISHED


def finished_runs(page) -> int:
    """How many script runs have finished on ``page``, made by ``new_page``."""
    if page not in _FINISHED_RUNS:
        raise ValueError("make the page with harness.browser.new_page, which counts its script runs")
    return _FINISHED_RUNS[page]


def wait_for_run_after(page, before: int, timeout_ms: int = IDLE_TIMEOUT_MS) -> None:
    """Wait until a script run finishes on ``page`` after ``before`` had (``finished_runs``)."""
    deadline = time.monotonic() + timeout_ms / 1000
    while finished_runs(page) <= before:
        if time.monotonic() > deadline:
            raise TimeoutError(f"no script run finished within {timeout_ms / 1000:.0f} s")
        page.wait_for_timeout(20)  # Playwright delivers the page's events while it waits


@contextlib.contextmanager
def expect_rerun(page, timeout_ms: int = IDLE_TIMEOUT_MS, graph: bool = True) -> Iterator[None]:
    """Wait, after the block, for a script run that the block triggered to finish (a fixed grace period is not
    enough: Streamlit sends some widget changes, plotly selections among them, after a debounce)."""
    before = finished_runs(page)
    yield
    wait_for_run_after(page, before, timeout_ms)
    wait_for_app_idle(page, timeout_ms, graph=graph)


def type_sentence(page, text: str, timeout_ms: int = IDLE_TIMEOUT_MS) -> None:
    """Replace the sidebar sentence with ``text`` and commit it (Ctrl+Enter), then wait for the app to finish.

    Fails when the app dropped the change (as it did while the page scripts sat in a folder named pages/, which
    switches Streamlit's first run to its legacy multipage mode)."""
    box = page.locator(SENTENCE_BOX)
    box.click()
    box.fill(text)
    with expect_rerun(page, timeout_ms, graph=False):
        box.press("Control+Enter")
    kept = box.input_value()
    assert kept == text, f"the app dropped the typed sentence: the box holds {kept!r} after the rerun, not {text!r}"
    wait_for_app_idle(page, timeout_ms)


def open_app(browser, url: str, width: int = 1600, height: int = 1000):
    """A fresh page at ``url``, sized, with the first run finished and the graph drawn."""
    page = new_page(browser, viewport={"width": width, "height": height})
    page.goto(url, wait_until="domcontentloaded")
    wait_for_app_idle(page)
    return page


def full_page_screenshot(page, path, graph: bool = True) -> None:
    """Streamlit scrolls inside its main container, so grow the viewport to the content before the capture
    (``graph``: wait for the attention graph's canvas too, as ``wait_for_app_idle`` does)."""
    height = page.evaluate("""() => Math.max(document.documentElement.scrollHeight, ...[...document.querySelectorAll(
        '[data-testid="stMain"], [data-testid="stAppViewContainer"], [data-testid="stMainBlockContainer"]')]
        .map((e) => e.scrollHeight))""")
    viewport = page.viewport_size
    page.set_viewport_size({"width": viewport["width"], "height": max(viewport["height"], int(height) + 40)})
    page.wait_for_timeout(1500)  # plotly and vis-network redraw on resize
    wait_for_app_idle(page, graph=graph)
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(viewport)
