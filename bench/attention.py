"""Benchmark of the attention page's work: `python bench/attention.py`.

Measures, with the bundled MiniLM (6 layers × 12 heads):

1. cold start: process start of `streamlit run app.py` to the first page rendered in headless Chromium (the graph
   iframe's vis-network canvas drawn), and the resident memory of the running app (streamlit process and its
   children) with the model loaded and the page rendered;
2. text → graph-ready data, warm: tokenize + core encoder forward + word view of all heads
   (core.analysis.view_options.attention_view) + the selected head + prune + attention_graph, at exactly 16, 64
   and 128 tokens; p50 and p95;
3. the core encoder's forward time over transformers' eager BertModel (output_attentions and output_hidden_states on)
   on the same inputs, interleaved: the median of the paired ratios per length, then the median over the three
   lengths (< 1: the core encoder is faster).

The last line is machine-readable:
RESULT p50_ms_16=… p50_ms_64=… p50_ms_128=… encoder_vs_hf=… cold_start_s=… rss_mb=…
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

import numpy as np  # noqa: E402

from harness.machine import load_average, torch_setup  # noqa: E402

LENGTHS = (16, 64, 128)
REPEATS = 30
WARMUP = 3
LAYER, HEAD = 2, 0  # the selected head (0-based): layer 3, head 1
BASE_TEXT = (
    "The animal didn't cross the street because it was too tired, and the driver waited patiently. "
    "Graphs connect words with weighted edges; every head draws a different picture of the same sentence. "
    "In 1998, researchers in Zürich measured 42 bridges, three tunnels and a surprisingly crooked lighthouse! "
    "Would the committee approve the proposal if the budget were cut by half? Nobody knew for sure. "
)


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


# --- 1. cold start and memory -------------------------------------------------------------------------------


def cold_start() -> tuple[float, float]:
    """(seconds from `streamlit run` to the graph drawn in Chromium, resident MB of the app's processes)."""
    import psutil
    from playwright.sync_api import sync_playwright

    from harness.browser import CHROMIUM, CHROMIUM_ARGS, new_page, streamlit_server, wait_for_app_idle

    if not os.path.exists(CHROMIUM):
        print(f"cold start: skipped, {CHROMIUM} is missing")
        return float("nan"), float("nan")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = new_page(browser, viewport={"width": 1600, "height": 1000})
        start = time.perf_counter()
        with streamlit_server() as (url, process):
            healthy = time.perf_counter() - start
            page.goto(url, wait_until="domcontentloaded")
            wait_for_app_idle(page, timeout_ms=180_000)
            rendered = time.perf_counter() - start
            page.wait_for_timeout(1000)  # let the process settle after the first run
            server = psutil.Process(process.pid)
            processes = [server, *server.children(recursive=True)]
            rss = sum(p.memory_info().rss for p in processes if p.is_running())
            print(
                f"cold start: server healthy after {healthy:.1f} s, first page with the graph drawn after "
                f"{rendered:.1f} s"
            )
            print(
                f"memory: {rss / 2**20:.0f} MB resident ({len(processes)} process(es): streamlit "
                f"{server.memory_info().rss / 2**20:.0f} MB), model loaded, page rendered"
            )
        browser.close()
    return rendered, rss / 2**20


# --- 2. text → graph-ready data -----------------------------------------------------------------------------


def text_of_length(model, n_tokens: int) -> str:
    """A prefix of a long varied text that tokenizes to exactly ``n_tokens`` ([CLS] and [SEP] included)."""
    long_text = BASE_TEXT * (n_tokens // 40 + 2)
    encoding = model.tokenizer(long_text, add_special_tokens=False, return_offsets_mapping=True)
    offsets = encoding["offset_mapping"]
    target = n_tokens - 2
    for cut in [target, *range(target - 1, max(target - 8, 0), -1), *range(target + 1, target + 8)]:
        text = long_text[: offsets[cut - 1][1]]
        if len(model.tokenize(text)) == n_tokens:
            return text
    raise RuntimeError(f"no prefix of the benchmark text tokenizes to {n_tokens} tokens")


def text_to_graph(model, text: str):
    """Everything the page computes from the text before drawing: the word graph of the selected head."""
    from core.analysis.graph import Pruning, attention_graph, prune
    from core.analysis.view_options import ViewOptions, attention_view, head_matrix

    result = model.analyse(text)
    labels, attention = attention_view(result.tokenized, result.attentions, ViewOptions(words=True))
    matrix = head_matrix(attention, LAYER, HEAD)
    keep = prune(matrix, Pruning("mass", mass=0.7))
    return attention_graph(matrix, labels, keep)


def time_pipeline(model, texts: dict[int, str]) -> dict[int, tuple[float, float]]:
    """(p50, p95) in ms per length."""
    timings = {}
    for n, text in texts.items():
        for _ in range(WARMUP):
            text_to_graph(model, text)
        samples = []
        for _ in range(REPEATS):
            start = time.perf_counter()
            graph = text_to_graph(model, text)
            samples.append((time.perf_counter() - start) * 1000)
        timings[n] = (percentile(samples, 50), percentile(samples, 95))
        print(
            f"text → graph data, {n:>3} tokens ({graph.number_of_nodes()} words, {graph.number_of_edges()} edges): "
            f"p50 {timings[n][0]:7.2f} ms, p95 {timings[n][1]:7.2f} ms, min {min(samples):7.2f} ms ({REPEATS} runs)"
        )
    return timings


# --- 3. core encoder vs transformers ------------------------------------------------------------------------


def compare_with_transformers(model, texts: dict[int, str]) -> dict[int, tuple[float, float, float]]:
    """(core median ms, transformers median ms, ratio) per length; runs interleaved, order alternating."""
    import torch
    from transformers import AutoModel

    hf = AutoModel.from_pretrained(model.folder, attn_implementation="eager").eval()
    results = {}
    for n, text in texts.items():
        tokenized = model.tokenize(text)
        input_ids = torch.tensor([tokenized.input_ids])
        token_type_ids = torch.tensor([tokenized.token_type_ids])

        def core():
            return model.network(input_ids, token_type_ids)

        def reference():
            with torch.inference_mode():
                return hf(
                    input_ids=input_ids,
                    token_type_ids=token_type_ids,
                    output_attentions=True,
                    output_hidden_states=True,
                )

        # same attention probabilities, or the comparison means nothing
        ours, theirs = core().attentions, torch.stack(reference().attentions)
        difference = float((ours - theirs).abs().max())
        if difference > 1e-4:
            raise RuntimeError(f"core encoder and transformers disagree at {n} tokens: max |Δ| = {difference:.2e}")
        for _ in range(WARMUP):
            core(), reference()
        samples = {core: [], reference: []}
        for repeat in range(REPEATS):
            for run in (core, reference) if repeat % 2 == 0 else (reference, core):
                start = time.perf_counter()
                run()
                samples[run].append((time.perf_counter() - start) * 1000)
        ours_ms, theirs_ms = statistics.median(samples[core]), statistics.median(samples[reference])
        # the median of the paired ratios: each pair ran back to back, so a burst of load elsewhere hits both
        ratio = statistics.median(a / b for a, b in zip(samples[core], samples[reference]))
        results[n] = (ours_ms, theirs_ms, ratio)
        print(
            f"encoder forward, {n:>3} tokens: core {ours_ms:7.2f} ms, transformers eager {theirs_ms:7.2f} ms "
            f"(medians of {REPEATS}), median paired ratio {ratio:.3f} (max |Δ attention| {difference:.1e})"
        )
    return results


def main() -> None:
    import torch

    torch.set_num_threads(1)  # as app.py runs it
    print(torch_setup())
    cold_s, rss_mb = cold_start()

    from core.transformer.models import load_model

    model = load_model()
    texts = {n: text_of_length(model, n) for n in LENGTHS}
    print(
        f"model {model.name}: {model.network.config.num_layers} layers × {model.network.config.num_heads} heads; "
        f"selected head: layer {LAYER + 1}, head {HEAD + 1}; word view, mass pruning 70 %"
    )
    timings = time_pipeline(model, texts)
    ratios = compare_with_transformers(model, texts)
    ratio = statistics.median(r for _, _, r in ratios.values())
    print(f"core encoder / transformers eager, median over {len(LENGTHS)} lengths: {ratio:.3f}")
    print(f"load average at the end: {load_average()} (other processes on these CPUs make the timings noisy)")
    print(
        f"RESULT p50_ms_16={timings[16][0]:.2f} p50_ms_64={timings[64][0]:.2f} p50_ms_128={timings[128][0]:.2f} "
        f"encoder_vs_hf={ratio:.3f} cold_start_s={cold_s:.1f} rss_mb={rss_mb:.0f}"
    )


if __name__ == "__main__":
    main()
