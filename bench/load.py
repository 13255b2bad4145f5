"""A classroom at once, measured at the server: `python bench/load.py`.

Sessions speak to the Streamlit server as browsers do, over its WebSocket with Streamlit's own protobuf messages
(harness/streamlit_client.py), and draw nothing: the CPU and memory measured are the server's. Every action's time is
the server's answer, from the request sent to ``script_finished`` received. Errors: an exception or error box shown
to the user, a timeout, a typed sentence the run was not about (dropped input), a closed WebSocket.

1. *A class at work*: N = 1, 8, 40 sessions, each opening the app from the talk's permalink (started within
   ``START_SPREAD_S``), typing ``SENTENCES`` sentences of its own (every one a cache miss), switching to the LSH page
   and back, pausing uniformly 2–4 s between actions (seeded), as a person reading the graph would.
2. *One shared link*: one session opens a permalink nobody opened before; then 40 sessions open another such
   permalink within one second. Server CPU of the 40 against the one: the shared work is done once.
3. *Saturation*: 8 sessions acting back to back, no pauses, for ``SATURATION_S``: answers per second, against one
   process and against two replicas behind Debian's nginx (harness/replicas.py, deploy/nginx.conf), in turns
   (``SATURATION_TURNS`` each, both set-ups up meanwhile); through the proxy each session first loads the page to
   get its sticky-session cookie, as a browser does.
4. *Memory*: one session types ``MEMORY_SENTENCES`` distinct sentences on a fresh server; resident memory after the
   first 10 and after all of them.

Each server is warmed first by one session (model loaded), so no scenario pays the cold start. The last line is
machine-readable:
RESULT errors=… p95_ms_1=… p95_ms_8=… p95_ms_40=… rss_mb_40=… cpu_same_link_ratio=… replicas_speedup=… …
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import psutil  # noqa: E402

from harness.browser import streamlit_server  # noqa: E402
from harness.machine import cpu_seconds, load_average, rss_mb  # noqa: E402
from harness.replicas import replicas_behind_proxy  # noqa: E402
from harness.streamlit_client import AppSession, Run, SessionClosedError  # noqa: E402
from harness.workload import percentile, sentence  # noqa: E402

CLASS_SIZES = (1, 8, 40)
SENTENCES = 4
PAUSE_S = (2.0, 4.0)
START_SPREAD_S = 3.0  # a class opens the shared link over a few seconds
SAME_LINK_SESSIONS = 40
SAME_LINK_SPREAD_S = 1.0
SATURATION_SESSIONS = 8
SATURATION_S = 30.0
SATURATION_TURNS = 2
MEMORY_SENTENCES = 200
MEMORY_FIRST = 10
TIMEOUT_S = 120.0
SEED = 15
TALK_LINK = {"text": "The speaker shared this link, and the whole class opened it at once."}
LSH_PAGE, ATTENTION_PAGE = "lsh", ""


@dataclass
class Tally:
    """Every answer's time (ms) by action, and every error."""

    answers_ms: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def all_ms(self) -> list[float]:
        return [ms for times in self.answers_ms.values() for ms in times]

    async def act(self, action: str, request: Callable[[], Awaitable[Run]], about: str | None = None) -> bool:
        """Send one request and record its answer; ``about``: a word the run's main area must show. False after an
        error that ends the session (timeout, disconnect)."""
        try:
            run = await request()
        except TimeoutError:
            self.errors.append(f"timeout ({TIMEOUT_S:.0f} s) {action}")
            return False
        except SessionClosedError as closed:
            self.errors.append(f"disconnect {action}: {closed}")
            return False
        self.answers_ms.setdefault(action, []).append(run.seconds * 1000)
        self.errors += [f"exception {action}: {text[:120]}" for text in run.exceptions]
        self.errors += [f"error box {action}: {text[:120]}" for text in run.error_boxes]
        if about is not None and not run.shows(about):
            self.errors.append(f"dropped input {action}: the run does not show {about!r}")
        return True

    def summary(self) -> str:
        counts = Counter(error.split(":")[0] for error in self.errors)
        return "; ".join(f"{n} × {error}" for error, n in counts.items()) or "none"


@dataclass
class Measured:
    tally: Tally
    wall_s: float
    cpu_s: float  # the servers' (and proxy's)
    rss_peak_mb: float
    client_cpu_s: float  # this load driver's own

    def line(self, label: str) -> str:
        times = self.tally.all_ms()
        return (
            f"{label}: {len(times)} answers in {self.wall_s:.1f} s, p50 {percentile(times, 50):.0f} ms, "
            f"p95 {percentile(times, 95):.0f} ms, max {max(times, default=0):.0f} ms; server CPU {self.cpu_s:.1f} s; "
            f"RSS peak {self.rss_peak_mb:.0f} MB; errors {len(self.tally.errors)} ({self.tally.summary()})"
        )


async def measured(servers: list, sessions: list[Awaitable[None]], tally: Tally) -> Measured:
    """Run the sessions together; the servers' CPU over them and their resident memory's peak (sampled 4 × a s)."""
    peak = [sum(rss_mb(server) for server in servers)]
    done = asyncio.Event()

    async def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], sum(rss_mb(server) for server in servers))
            await asyncio.sleep(0.25)

    sampler = asyncio.create_task(sample())
    client = psutil.Process().cpu_times()
    cpu, start = sum(map(cpu_seconds, servers)), time.perf_counter()
    await asyncio.gather(*sessions)
    wall, cpu = time.perf_counter() - start, sum(map(cpu_seconds, servers)) - cpu
    client_cpu = sum(psutil.Process().cpu_times()[:2]) - sum(client[:2])
    done.set()
    await sampler
    return Measured(tally, wall, cpu, peak[0], client_cpu)


async def reader(url: str, tally: Tally, first: int, rng: random.Random, **connect) -> None:
    """Scenario 1's person: the talk's link, SENTENCES sentences of their own, the LSH page and back, pausing."""
    await asyncio.sleep(rng.uniform(0, START_SPREAD_S))
    async with AppSession(url, timeout_s=TIMEOUT_S, **connect) as session:
        if not await tally.act("open the link", lambda: session.open(TALK_LINK)):
            return
        for k in range(SENTENCES):
            await asyncio.sleep(rng.uniform(*PAUSE_S))
            text, word = sentence(first + k)
            if not await tally.act("type a sentence", lambda: session.set_widget("text", text), about=word):
                return
        for action, page in (("open the LSH page", LSH_PAGE), ("back to the attention page", ATTENTION_PAGE)):
            await asyncio.sleep(rng.uniform(*PAUSE_S))
            if not await tally.act(action, lambda: session.switch_page(page)):
                return


async def a_class_at_work(url: str, server, sessions: int, first: int) -> Measured:
    tally = Tally()
    people = [reader(url, tally, first + 100 * i, random.Random(SEED * 1000 + i)) for i in range(sessions)]
    return await measured([server], people, tally)


async def one_shared_link(url: str, server, sessions: int, link: dict[str, str]) -> Measured:
    """``sessions`` open ``link`` within SAME_LINK_SPREAD_S."""
    tally = Tally()
    rng = random.Random(SEED)

    async def opener(delay: float) -> None:
        await asyncio.sleep(delay)
        async with AppSession(url, timeout_s=TIMEOUT_S) as session:
            await tally.act("open the link", lambda: session.open(link), about=link["text"].split()[1])

    return await measured([server], [opener(rng.uniform(0, SAME_LINK_SPREAD_S)) for _ in range(sessions)], tally)


def sticky_cookie(url: str, source_address: str) -> dict[str, str]:
    """Load the page once, as a browser does before its WebSocket, and keep the proxy's sticky-session cookie."""
    import http.client
    import urllib.parse

    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30, source_address=(source_address, 0))
    connection.request("GET", "/")
    response = connection.getresponse()
    response.read()
    connection.close()
    cookies = [header.split(";")[0] for name, header in response.getheaders() if name.lower() == "set-cookie"]
    return {"Cookie": "; ".join(cookies)} if cookies else {}


async def saturation(url: str, servers: list, sessions: int, first: int, deployment=None) -> Measured:
    """``sessions`` acting back to back for SATURATION_S: a new sentence, again, the LSH page and back, …; through
    ``deployment``'s proxy (harness.replicas.Deployment) when given, each session with its sticky cookie."""
    tally = Tally()
    cookies = {}
    if deployment is not None:
        cookies = {i: sticky_cookie(url, f"127.0.0.{2 + i}") for i in range(sessions)}
        served = Counter(
            deployment.served_by(f"127.0.0.{2 + i}", cookie["Cookie"].removeprefix("replica="))
            for i, cookie in cookies.items()
        )
        print(f"  sessions per replica (sticky cookie): {dict(sorted(served.items()))}")
    deadline = time.perf_counter() + SATURATION_S

    async def worker(i: int) -> None:
        address = f"127.0.0.{2 + i}"
        headers = cookies.get(i, {})
        async with AppSession(url, timeout_s=TIMEOUT_S, headers=headers, source_address=address) as session:
            if not await tally.act("open the link", lambda: session.open(TALK_LINK)):
                return
            n = first + 1000 * i
            while time.perf_counter() < deadline:
                text, word = sentence(n)
                n += 1
                if not await tally.act("type a sentence", lambda: session.set_widget("text", text), about=word):
                    return
                if n % 4 == 0:
                    for action, page in (("open the LSH page", LSH_PAGE), ("back", ATTENTION_PAGE)):
                        if not await tally.act(action, lambda: session.switch_page(page)):
                            return

    return await measured(servers, [worker(i) for i in range(sessions)], tally)


async def warm(url: str) -> None:
    """One session over both pages: the model loaded and every module imported before anything is measured."""
    async with AppSession(url, timeout_s=TIMEOUT_S) as session:
        await session.open({"text": "Warming up the server before the class arrives."})
        await session.switch_page(LSH_PAGE)
        await session.switch_page(ATTENTION_PAGE)


async def memory(url: str, server, first: int) -> tuple[float, float, list[float], Tally]:
    """(RSS after MEMORY_FIRST sentences, after all, every 10, tally) for one session typing MEMORY_SENTENCES."""
    tally, samples = Tally(), []
    async with AppSession(url, timeout_s=TIMEOUT_S) as session:
        await tally.act("open the link", lambda: session.open(TALK_LINK))
        for k in range(MEMORY_SENTENCES):
            text, word = sentence(first + k)
            if not await tally.act("type a sentence", lambda: session.set_widget("text", text), about=word):
                break
            if (k + 1) % 10 == 0:
                samples.append(rss_mb(server))
    return samples[MEMORY_FIRST // 10 - 1], samples[-1], samples, tally


def table(rows: dict[str, Measured]) -> None:
    print("| run | answers | p50 | p95 | max | answers/s | errors | server CPU | RSS peak |")
    print("|---|---|---|---|---|---|---|---|---|")
    for label, m in rows.items():
        times = m.tally.all_ms()
        print(
            f"| {label} | {len(times)} | {percentile(times, 50):.0f} ms | {percentile(times, 95):.0f} ms | "
            f"{max(times, default=0):.0f} ms | {len(times) / m.wall_s:.1f} | {len(m.tally.errors)} | "
            f"{m.cpu_s:.1f} s | {m.rss_peak_mb:.0f} MB |"
        )


async def main(scenarios: set[str]) -> None:
    print(f"{psutil.cpu_count()} CPUs, load average {load_average()}")
    rows: dict[str, Measured] = {}
    result: dict[str, str] = {}
    errors = 0
    if scenarios & {"class", "link"}:
        with streamlit_server() as (url, server):
            await warm(url)
            if "link" in scenarios:
                one = await one_shared_link(url, server, 1, {"text": "A talk about attention, opened by one person."})
                many = await one_shared_link(
                    url, server, SAME_LINK_SESSIONS, {"text": "A talk about attention, opened by the whole class."}
                )
                rows["one link, 1 session"], rows[f"one link, {SAME_LINK_SESSIONS} sessions"] = one, many
                for label in list(rows)[-2:]:
                    print(rows[label].line(label))
                result["cpu_same_link_ratio"] = f"{many.cpu_s / one.cpu_s:.2f}"
                ratio = result["cpu_same_link_ratio"]
                print(f"server CPU, {SAME_LINK_SESSIONS} sessions on one link / 1 session: {ratio} (goal ≤ 3)")
            if "class" in scenarios:
                for n in CLASS_SIZES:
                    rows[f"class at work, {n}"] = m = await a_class_at_work(url, server, n, 10_000 * n)
                    print(m.line(f"class at work, N={n}"))
                    for action, times in m.tally.answers_ms.items():
                        print(f"    {action}: p50 {percentile(times, 50):.0f} ms, p95 {percentile(times, 95):.0f} ms")
                    result[f"p95_ms_{n}"] = f"{percentile(m.tally.all_ms(), 95):.0f}"
                result["rss_mb_40"] = f"{rows['class at work, 40'].rss_peak_mb:.0f}"
                ratio = percentile(rows["class at work, 8"].tally.all_ms(), 95) / percentile(
                    rows["class at work, 1"].tally.all_ms(), 95
                )
                print(f"p95 at 8 sessions / at 1: {ratio:.2f} (goal ≤ 3)")
    if "saturation" in scenarios:
        # Both set-ups up at once (idle, they take no CPU), measured in turns, so that the other jobs on these shared
        # cores weigh on both alike; the throughput of each is the mean over its turns.
        with streamlit_server() as (url, server), replicas_behind_proxy(2) as deployment:
            for warm_url in (url, *deployment.replica_urls):
                await warm(warm_url)
            throughput: dict[str, list[float]] = {"1 process": [], "2 replicas + nginx": []}
            for turn in range(SATURATION_TURNS):
                for label in throughput:
                    first = 1_000_000 * (turn + 1) + 500_000 * (label != "1 process")
                    if label == "1 process":
                        m = await saturation(url, [server], SATURATION_SESSIONS, first)
                    else:
                        servers = [*deployment.replicas, deployment.proxy]
                        m = await saturation(deployment.url, servers, SATURATION_SESSIONS, first, deployment)
                    rows[f"saturation, {label}, turn {turn + 1}"] = m
                    throughput[label].append(len(m.tally.all_ms()) / m.wall_s)
                    print(m.line(f"saturation, {label}, turn {turn + 1}") + f"; client CPU {m.client_cpu_s:.1f} s")
        one, two = (float(np.mean(values)) for values in throughput.values())
        result["answers_per_s_1"], result["answers_per_s_2"] = f"{one:.2f}", f"{two:.2f}"
        result["replicas_speedup"] = f"{two / one:.2f}"
        print(f"throughput (mean of {SATURATION_TURNS} turns): 1 process {one:.2f}/s, 2 replicas {two:.2f}/s")
    if "memory" in scenarios:
        with streamlit_server() as (url, server):
            await warm(url)
            first, last, samples, tally = await memory(url, server, 900_000)
        errors += len(tally.errors)
        result["rss_growth_mb_200"] = f"{last - first:.0f}"
        print(
            f"memory: {first:.0f} MB after {MEMORY_FIRST} sentences, {last:.0f} MB after {MEMORY_SENTENCES}; every "
            f"10: {' '.join(f'{s:.0f}' for s in samples)}; errors {len(tally.errors)} ({tally.summary()})"
        )
    errors += sum(len(m.tally.errors) for m in rows.values())
    print()
    table(rows)
    for m in rows.values():
        for error in m.tally.errors[:5]:
            print(f"  error: {error}")
    print(f"load average at the end: {load_average()}")
    order = ("p95_ms_1", "p95_ms_8", "p95_ms_40", "rss_mb_40", "cpu_same_link_ratio", "replicas_speedup")
    keys = [key for key in order if key in result] + [key for key in result if key not in order]
    print("RESULT " + " ".join([f"errors={errors}", *(f"{key}={result[key]}" for key in keys)]))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "scenarios", nargs="*", default=["link", "class", "saturation", "memory"], help="which to run (default: all)"
    )
    asyncio.run(main(set(parser.parse_args().scenarios)))
