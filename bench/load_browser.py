"""The end-to-end check of load, in real browsers: `python bench/load_browser.py [--sessions 1 4 8]`.

bench/load.py measures the server with protocol-level sessions; this smaller run checks the same path through real
Chromium pages (drawing included). One `streamlit run app.py` server and one headless Chromium; for N = 1 and 4
(``--sessions``), N browser contexts (N independent Streamlit sessions) run at the same time. Each session types
``SENTENCES_PER_SESSION`` distinct sentences into the sidebar box (fill + Ctrl+Enter, as a user and
harness/browser.type_sentence do), then switches to "Reformer: LSH buckets" and back to "Attention as a graph" through
the navigation links. Time to graph: from the Ctrl+Enter to the script run it triggered finished, no stale element,
every plotly chart drawn and the graph iframe's vis-network canvas drawn *for that sentence* (each sentence carries a
unique marker word, and the iframe's document must contain it). Errors: an exception shown by the app
(``[data-testid="stException"]``), a timeout, a sentence the app dropped, a console message of type error, an
uncaught page error, a page crash. The server's answer: from the Ctrl+Enter to the browser receiving the run's
``script_finished`` message, before it draws anything.

A run is counted when its ``script_finished`` message arrives over the page's WebSocket (Playwright's
``framereceived``, parsed with Streamlit's protobufs). Counting changes of the app's ``data-test-script-state``
attribute instead, as this bench once did, misses a run that finishes before the browser renders it as running: a
page switch answered from the caches in ~20 ms. The wait for it then timed out after 90 s: the two "timeouts at N = 8
switching back from the LSH page" of an earlier run, an error of the bench, not of the app.

Why the async API: Playwright's sync API binds its Playwright instance (and every browser, context and page made
from it) to the thread that started it, so N threads cannot share one Chromium through it; one sync Playwright per
thread would mean N Chromium processes on two cores. The async API drives N contexts of one Chromium from one event
loop: every session's waits (the server's run, the browser's drawing) overlap, and the client side costs next to
nothing while it waits.

The last line is machine-readable:
RESULT errors=… p95_ms_1=… p95_ms_4=…
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import psutil  # noqa: E402

from harness import machine  # noqa: E402
from harness.browser import (  # noqa: E402
    APP,
    APP_IDLE,
    CANVAS_DRAWN_JS,
    CHROMIUM_ARGS,
    GRAPH_IFRAME,
    PLOTS_DRAWN_JS,
    SENTENCE_BOX,
    chromium_or_skip,
    finishes_a_run,
    streamlit_server,
)
from harness.workload import percentile, sentence  # noqa: E402

SESSIONS = (1, 4)
SENTENCES_PER_SESSION = 4
STEP_TIMEOUT_MS = 90_000
VIEWPORT = {"width": 1400, "height": 900}
EXCEPTION = '[data-testid="stException"]'
POLL_MS = 50  # predicates are checked every 50 ms: Playwright's default (every animation frame) keeps all N pages
# producing frames while they wait, which costs Chromium CPU that a user's browser would not spend
NO_STALE_JS = "() => !document.querySelector('[data-stale=\"true\"]')"
ATTENTION_LINK, LSH_LINK = "Attention as a graph", "Reformer: LSH buckets"

# The graph iframe holds the vis-network canvas, drawn, and (when given) the marker word of the sentence typed.
GRAPH_OF_JS = f"""([iframe, marker]) => {{
    if (!({CANVAS_DRAWN_JS})(iframe)) return false;
    return !marker || iframe.contentDocument.documentElement.innerHTML.includes(marker);
}}"""


def cpu_seconds(server) -> tuple[float, float]:
    """(CPU seconds of the server's process tree, of every other descendant of this process: Playwright's driver
    and Chromium), user + system, so far."""
    this = psutil.Process()
    everything = machine.cpu_seconds(this) - sum(this.cpu_times()[:2])
    served = machine.cpu_seconds(server)
    return served, everything - served


# --- async counterparts of harness/browser.py's helpers ----------------------------------------------------


class StepTimeout(Exception):
    """A wait that failed, with the stage it was waiting for."""


async def wait_idle(page, timeout_ms: int = STEP_TIMEOUT_MS, graph: bool = True, tag: str | None = None) -> None:
    """browser.wait_for_app_idle without its fixed 300 ms grace period (callers wait for the run they caused
    first), and, with ``tag``, the graph must be the one of the sentence holding that marker word."""
    stage = "script run finished"
    try:
        await page.wait_for_selector(APP_IDLE, timeout=timeout_ms)
        stage = "no stale element"
        await page.wait_for_function(NO_STALE_JS, timeout=timeout_ms, polling=POLL_MS)
        stage = "plotly charts drawn"
        await page.wait_for_function(PLOTS_DRAWN_JS, timeout=timeout_ms, polling=POLL_MS)
        if graph:
            stage = "graph canvas drawn"
            iframe = await page.wait_for_selector(GRAPH_IFRAME, timeout=timeout_ms)
            await page.wait_for_function(GRAPH_OF_JS, arg=[iframe, tag], timeout=timeout_ms, polling=POLL_MS)
    except Exception as error:
        raise StepTimeout(f"{type(error).__name__} waiting for {stage}: {error}") from error


async def after_run(
    session: Session, before: int, timeout_ms: int = STEP_TIMEOUT_MS, graph: bool = True, tag: str | None = None
) -> float:
    """Wait for a script run finished after the count ``before`` (``Session.finished_runs``), then for the app to
    idle; returns when (perf_counter) the browser received ``script_finished``: the server's answer, before drawing."""
    deadline = time.perf_counter() + timeout_ms / 1000
    while session.finished_runs <= before:
        if time.perf_counter() > deadline:
            raise StepTimeout(f"no script_finished within {timeout_ms / 1000:.0f} s")
        await asyncio.sleep(POLL_MS / 1000)
    await wait_idle(session.page, timeout_ms, graph=graph, tag=tag)
    return session.answered_at


@dataclass
class Session:
    """One browser context (one Streamlit session) and what it saw."""

    index: int
    page: object = None
    errors: list[str] = field(default_factory=list)
    graph_ms: list[float] = field(default_factory=list)
    answer_ms: list[float] = field(default_factory=list)  # to the server's answer, before the browser draws it
    switch_ms: list[float] = field(default_factory=list)
    open_ms: float = float("nan")
    finished_runs: int = 0  # script_finished messages received so far
    answered_at: float = float("nan")  # when (perf_counter) the last one arrived

    def watch(self, page) -> None:
        self.page = page
        page.on("websocket", lambda socket: socket.on("framereceived", self.read_frame))
        page.on("console", lambda m: m.type == "error" and self.errors.append(f"console error: {m.text[:160]}"))
        page.on("pageerror", lambda e: self.errors.append(f"page error: {str(e)[:160]}"))
        page.on("crash", lambda _: self.errors.append("page crash"))
        page.on("dialog", lambda d: asyncio.ensure_future(d.dismiss()))

    def read_frame(self, payload: bytes | str) -> None:
        """Count a finished script run when its message arrives (harness.browser.finishes_a_run)."""
        if finishes_a_run(payload):
            self.finished_runs += 1
            self.answered_at = time.perf_counter()

    async def check_exception(self, where: str) -> None:
        count = await self.page.locator(EXCEPTION).count()
        if count:
            text = (await self.page.locator(EXCEPTION).first.inner_text())[:200].replace("\n", " ")
            self.errors.append(f"app exception {where}: {text}")

    async def step(self, where: str, action) -> float | None:
        """Run ``action`` (a coroutine function); ms taken, or None after recording the failure."""
        start = time.perf_counter()
        try:
            await action()
        except Exception as error:  # a Playwright timeout above all
            self.errors.append(f"{type(error).__name__} {where}: {str(error).splitlines()[0][:160]}")
            return None
        finally:
            await self.check_exception(where)
        return (time.perf_counter() - start) * 1000


async def open_session(browser, url: str, index: int) -> Session:
    session = Session(index)
    context = await browser.new_context(viewport=VIEWPORT)
    page = await context.new_page()
    page.set_default_timeout(STEP_TIMEOUT_MS)
    session.watch(page)

    async def load():
        await page.goto(url, wait_until="domcontentloaded")
        await page.wait_for_selector(APP)
        await page.wait_for_timeout(300)  # the first run starts after the websocket connects
        await wait_idle(page)

    session.open_ms = await session.step("opening the app", load) or float("nan")
    return session


async def type_and_time(session: Session, text: str, tag: str) -> None:
    page = session.page
    box = page.locator(SENTENCE_BOX)

    async def commit():
        await box.click()
        await box.fill(text)
        before = session.finished_runs
        start = time.perf_counter()
        await box.press("Control+Enter")
        answered = await after_run(session, before, tag=tag)
        session.graph_ms.append((time.perf_counter() - start) * 1000)
        session.answer_ms.append((answered - start) * 1000)
        kept = await box.input_value()
        if kept != text:
            session.errors.append(f"dropped sentence: the box holds {kept[:60]!r}")

    await session.step(f"typing sentence {tag}", commit)


async def switch_page(session: Session, link: str, graph: bool = True) -> None:
    page = session.page

    async def click():
        before = session.finished_runs
        await page.get_by_role("link", name=link).click()
        await after_run(session, before, graph=graph)

    ms = await session.step(f"switching to {link!r}", click)
    if ms is not None:
        session.switch_ms.append(ms)


async def drive(session: Session, first: int) -> None:
    """Type the sentences, go to the LSH page and back, then type one more (the last sentence) on return."""
    for k in range(SENTENCES_PER_SESSION - 1):
        await type_and_time(session, *sentence(first + k))
    await switch_page(session, LSH_LINK)
    await switch_page(session, ATTENTION_LINK)
    await type_and_time(session, *sentence(first + SENTENCES_PER_SESSION - 1))


async def concurrent(browser, url: str, process, n: int, first: int) -> tuple[list[Session], float, tuple]:
    """N sessions opened one after the other (each drawn once), then driven at the same time; (sessions, wall
    seconds of the driven part, (server, browser) CPU seconds over it)."""
    sessions = [await open_session(browser, url, i) for i in range(n)]
    cpu_before = cpu_seconds(process)
    start = time.perf_counter()
    await asyncio.gather(*(drive(s, first + s.index * SENTENCES_PER_SESSION) for s in sessions))
    wall = time.perf_counter() - start
    cpu_after = cpu_seconds(process)
    for s in sessions:
        await s.page.context.close()
    return sessions, wall, (cpu_after[0] - cpu_before[0], cpu_after[1] - cpu_before[1])


def summarise(errors: list[str]) -> str:
    counts: dict[str, int] = {}
    for e in errors:
        counts[e] = counts.get(e, 0) + 1
    return "; ".join(f"{n} × {e}" if n > 1 else e for e, n in counts.items())


async def main(sessions: tuple[int, ...]) -> None:
    from playwright.async_api import async_playwright

    print(
        f"python {platform.python_version()}, {os.cpu_count()} CPUs, load average "
        f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}; {SENTENCES_PER_SESSION} sentences per session, "
        f"then LSH page and back"
    )
    results: dict[int, dict] = {}
    total_errors = 0
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium_or_skip(), args=CHROMIUM_ARGS, headless=True
        )
        with streamlit_server() as (url, process):
            # warm the server (model loaded, modules imported) so N = 1 does not pay the cold start
            warm, _, _ = await concurrent(browser, url, process, 1, 9000)
            print(f"warm-up session: {len(warm[0].graph_ms)} graphs, errors: {summarise(warm[0].errors) or 'none'}")
            first = 0
            for n in sessions:
                sessions, wall, cpu = await concurrent(browser, url, process, n, first)
                first += 1000
                graph_ms = [t for s in sessions for t in s.graph_ms]
                switch_ms = [t for s in sessions for t in s.switch_ms]
                answer_ms = [t for s in sessions for t in s.answer_ms]
                errors = [e for s in sessions for e in s.errors]
                total_errors += len(errors)
                results[n] = {
                    "p50": percentile(graph_ms, 50),
                    "p95": percentile(graph_ms, 95),
                    "max": max(graph_ms, default=0),
                    "count": len(graph_ms),
                    "answer_p95": percentile(answer_ms, 95),
                    "switch_p50": percentile(switch_ms, 50),
                    "switch_p95": percentile(switch_ms, 95),
                    "errors": errors,
                    "wall": wall,
                    "open_p50": percentile([s.open_ms for s in sessions], 50),
                    "rss": machine.rss_mb(process),
                    "server_cpu": cpu[0],
                    "browser_cpu": cpu[1],
                }
                print(
                    f"N={n}: {len(graph_ms)} graphs in {wall:.1f} s, time to graph p50 {results[n]['p50']:.0f} ms, "
                    f"p95 {results[n]['p95']:.0f} ms (server's answer p95 {results[n]['answer_p95']:.0f} ms); "
                    f"page switch p50 {results[n]['switch_p50']:.0f} ms; "
                    f"errors {len(errors)}{': ' + summarise(errors) if errors else ''}"
                )
                busy = (results[n]["server_cpu"] + results[n]["browser_cpu"]) / wall
                print(
                    f"  CPU while driven: server {results[n]['server_cpu']:.1f} s, browser (Chromium + driver) "
                    f"{results[n]['browser_cpu']:.1f} s over {wall:.1f} s wall ({busy:.2f} of {os.cpu_count()} "
                    "cores busy)"
                )

        await browser.close()

    print()
    print(
        "| sessions | graphs | time to graph p50 | p95 | max | server's answer p95 | page switch p50 | p95 | "
        "first page p50 | wall | errors | server CPU | browser CPU | server RSS after |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for n, r in results.items():
        print(
            f"| {n} | {r['count']} | {r['p50']:.0f} ms | {r['p95']:.0f} ms | {r['max']:.0f} ms | "
            f"{r['answer_p95']:.0f} ms | "
            f"{r['switch_p50']:.0f} ms | {r['switch_p95']:.0f} ms | {r['open_p50']:.0f} ms | {r['wall']:.1f} s | "
            f"{len(r['errors'])} | {r['server_cpu']:.1f} s | {r['browser_cpu']:.1f} s | {r['rss']:.0f} MB |"
        )
    first, last = results[min(results)], results[max(results)]
    print(
        f"p95 at {max(results)} sessions / at {min(results)}: {last['p95'] / first['p95']:.2f}; to the server's "
        f"answer only (the run finished, not yet drawn): {last['answer_p95'] / first['answer_p95']:.2f}"
    )
    print(f"load average at the end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(f"RESULT errors={total_errors} " + " ".join(f"p95_ms_{n}={r['p95']:.0f}" for n, r in results.items()))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=list(SESSIONS), help="N at once, each a run")
    asyncio.run(main(tuple(parser.parse_args().sessions)))
