"""Benchmark of the core causal decoder against transformers: `python bench/decoders.py`.

Two random checkpoints of real size, written by core.transformer.random_checkpoints into a temporary folder
(transformers' own initialisation; the tokenizer is the small test one, the vocabulary of the config is real):

    gpt2    "gpt2-small"     12 layers × 12 heads, hidden 768, 124 M parameters
    llama   "smollm2-135m"   30 layers × 9 query heads sharing 3 key/value heads, hidden 576, 135 M parameters

1. Forward time of core.transformer.decoder.Decoder over transformers' eager AutoModel (output_attentions and
   output_hidden_states on, under inference_mode) on the same (1, n) random token ids, n = 16, 128, 512, torch on one
   thread as app.py sets it. The two run in one process, back to back and in alternating order, after one warm-up
   each; per length the figure is the median of the paired ratios core / transformers (< 1: the core is faster),
   and the attention maps of every pair are compared (max |Δ| over all runs).
2. Resident memory of the app with each model: for each checkpoint, and for the bundled MiniLM as the baseline, a
   fresh `streamlit run app.py` (harness/browser.streamlit_server; HF_HUB_OFFLINE=1, TRANSFORMER_GRAPH_HOSTED unset
   so that a local folder is allowed) opened in headless Chromium with the model chosen by the URL
   (``?model_choice=Other (type a Hub id)…&custom_model=<folder>``). RSS of the server's process tree (psutil) when
   healthy, once the first attention graph is drawn, and after visiting every other page through the sidebar links
   as bench/hosting.py does (no exception on any page, the folder still in the model box), with the peak (VmHWM).
3. Resident memory of the loading path alone, each in a fresh subprocess: core.transformer.models.load_model(folder),
   then one analyse() of a 20-word sentence; current RSS (/proc/self/status VmRSS), the part of it that is file pages
   (RssFile: safetensors weights read through a memory map, clean and shared with the page cache) and the peak
   (VmHWM), beside the same for the bundled MiniLM (load_model() with no argument): the weights without Streamlit,
   the browser's session and the other pages. getrusage's ru_maxrss is not used: Linux carries it across fork and
   exec, so the subprocess would report this process's peak, both models loaded.

The last line is machine-readable (ratios: the largest of the three lengths; rss_mb: the app after every page):
RESULT core_vs_hf_gpt2=… core_vs_hf_llama=… max_diff=… rss_mb_gpt2=… rss_mb_llama=… rss_mb_bundled=…
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from core.transformer.models import HOSTED_ENV  # noqa: E402
from harness.browser import launch_chromium, open_app, streamlit_server  # noqa: E402
from harness.machine import load_average, peak_mb, rss_mb, torch_setup  # noqa: E402

# Local folders are refused in hosted mode, by load_model and by the app (streamlit_server copies this environment).
os.environ.pop(HOSTED_ENV, None)

MODELS = {"gpt2": ("gpt2", "gpt2-small"), "llama": ("llama", "smollm2-135m")}  # name → (family, size)
LENGTHS = (16, 128, 512)
REPEATS = {16: 21, 128: 9, 512: 5}  # pairs timed per length: a 512-token forward takes seconds
WARMUP = 1
SEED = 0
SENTENCE = (  # 20 words
    "The animal didn't cross the street because it was too tired, so the driver waited patiently for it to move."
)
OTHER_MODEL = "Other (type a Hub id)…"  # app.py's model choice that shows the box for a Hub id or folder
MODEL_BOX = "Hugging Face model id"


# --- 1. core decoder vs transformers ------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    """One length: medians over the runs (ms), the median paired ratio core / transformers, max |Δ attention|."""

    core_ms: float
    hf_ms: float
    core_min_ms: float
    hf_min_ms: float
    ratio: float
    difference: float


def compare_with_transformers(folder: Path) -> dict[int, Timing]:
    """Core decoder vs transformers' eager model of ``folder``, interleaved, per length."""
    import torch
    from transformers import AutoModel

    from core.transformer.decoder import Decoder

    core_decoder = Decoder.from_pretrained(folder)
    hf = AutoModel.from_pretrained(folder, attn_implementation="eager").eval()
    generator = torch.Generator().manual_seed(SEED)
    results = {}
    for n in LENGTHS:
        input_ids = torch.randint(0, core_decoder.config.vocab_size, (1, n), generator=generator)  # (batch, tokens)

        def core():
            return core_decoder(input_ids).attentions  # (layers, batch, heads, tokens, tokens)

        def reference():
            with torch.inference_mode():
                return hf(input_ids=input_ids, output_attentions=True, output_hidden_states=True).attentions

        for _ in range(WARMUP):
            core(), reference()
        samples: dict = {core: [], reference: []}
        difference = 0.0
        for repeat in range(REPEATS[n]):
            attentions = {}
            for run in (core, reference) if repeat % 2 == 0 else (reference, core):
                start = time.perf_counter()
                attentions[run] = run()
                samples[run].append((time.perf_counter() - start) * 1000)
            difference = max(difference, float((attentions[core] - torch.stack(attentions[reference])).abs().max()))
            del attentions  # the next pair starts with nothing of this one held
        # each pair ran back to back, so a burst of load from other processes hits both of its runs
        ratio = statistics.median(a / b for a, b in zip(samples[core], samples[reference]))
        results[n] = Timing(
            statistics.median(samples[core]),
            statistics.median(samples[reference]),
            min(samples[core]),
            min(samples[reference]),
            ratio,
            difference,
        )
        print(
            f"  {n:>3} tokens: core {results[n].core_ms:8.1f} ms, transformers eager {results[n].hf_ms:8.1f} ms "
            f"(medians of {REPEATS[n]}; minima {results[n].core_min_ms:.1f} / {results[n].hf_min_ms:.1f}), "
            f"median paired ratio {ratio:.3f}, max |Δ attention| {difference:.1e}"
        )
    return results


# --- 2. resident memory of the app with each model ----------------------------------------------------------


@dataclass(frozen=True)
class AppMemory:
    """RSS (MB) of the app server's process tree at three moments, and its peak (VmHWM) after the last."""

    healthy_mb: float
    first_graph_mb: float
    all_pages_mb: float
    peak_mb: float


def app_memory(browser, folder: Path | None) -> AppMemory:
    """A fresh app server with the model of ``folder`` (None: the bundled model) chosen by URL, every page visited."""
    from bench.hosting import PAGES, visit_every_page  # Playwright: not imported by the --memory subprocess

    query = "" if folder is None else "?" + urlencode({"model_choice": OTHER_MODEL, "custom_model": str(folder)})
    with streamlit_server() as (url, server):
        healthy = rss_mb(server)
        page = open_app(browser, f"{url}/{query}", width=1400, height=900)
        first_graph = rss_mb(server)

        def model_kept(link: str) -> None:
            if folder is not None:
                assert page.get_by_label(MODEL_BOX).input_value() == str(folder), f"{link!r} lost the model"

        model_kept(PAGES[0][0])
        visit_every_page(page, model_kept)
        measured = AppMemory(healthy, first_graph, rss_mb(server), peak_mb(server))
        page.close()
    return measured


def app_memories(folders: dict[str, Path | None]) -> dict[str, AppMemory]:
    """``app_memory`` of each folder, one after the other, from one headless Chromium."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            return {name: app_memory(browser, folder) for name, folder in folders.items()}
        finally:
            browser.close()


# --- 3. resident memory of the app's loading path -----------------------------------------------------------


def resident_mb(field: str) -> float:
    """A /proc/self/status memory line (VmRSS, VmHWM) in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024  # kB
    raise RuntimeError(f"/proc/self/status has no {field}")


def memory_here(folder: str) -> dict:
    """Inside the measuring subprocess: load_model(folder) (the bundled model for ""), one analyse()."""
    import torch

    torch.set_num_threads(1)
    from core.transformer.models import load_model

    imported = resident_mb("VmRSS")
    model = load_model(folder) if folder else load_model()
    model.analyse(SENTENCE)
    return {
        "imports_mb": imported,
        "rss_mb": resident_mb("VmRSS"),
        "file_mb": resident_mb("RssFile"),
        "peak_mb": resident_mb("VmHWM"),
        "engine": model.engine,
    }


def memory(folder: Path | None) -> dict:
    """``memory_here`` in a fresh Python process."""
    completed = subprocess.run(
        [sys.executable, __file__, "--memory", str(folder or "")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(completed.stdout.splitlines()[-1])


# --- report -------------------------------------------------------------------------------------------------


def main() -> None:
    import torch

    from core.transformer.random_checkpoints import write_random_checkpoint

    torch.set_num_threads(1)  # as app.py runs it
    print(torch_setup())
    timings: dict[str, dict[int, Timing]] = {}
    memories: dict[str, dict] = {}
    folders: dict[str, Path | None] = {}
    with tempfile.TemporaryDirectory(prefix="bench-decoders-") as directory:
        for name, (family, size) in MODELS.items():
            folders[name] = write_random_checkpoint(Path(directory) / name, family, size=size, seed=SEED)
            print(f"{name} ({size}), core decoder vs transformers eager:")
            timings[name] = compare_with_transformers(folders[name])
            memories[name] = memory(folders[name])
        memories["bundled"] = memory(None)
        folders["bundled"] = None
        print("the app with each model, every page visited in headless Chromium …")
        apps = app_memories(folders)

    print()
    print("| model | measure | " + " | ".join(f"{n} tokens" for n in LENGTHS) + " |")
    print("|---|---|" + "---|" * len(LENGTHS))
    for name, per_length in timings.items():
        rows = {
            "core, median ms": [f"{t.core_ms:.1f}" for t in per_length.values()],
            "transformers eager, median ms": [f"{t.hf_ms:.1f}" for t in per_length.values()],
            "core / transformers (median paired ratio)": [f"{t.ratio:.3f}" for t in per_length.values()],
            "max \\|Δ attention\\|": [f"{t.difference:.1e}" for t in per_length.values()],
        }
        for measure, cells in rows.items():
            print(f"| {name} | {measure} | " + " | ".join(cells) + " |")
    print()
    print("| the app, model | RSS MB healthy | first graph | after every page | peak RSS MB |")
    print("|---|---|---|---|---|")
    for name, app in apps.items():
        print(
            f"| {name} | {app.healthy_mb:.0f} | {app.first_graph_mb:.0f} | {app.all_pages_mb:.0f} | {app.peak_mb:.0f} |"
        )
    print()
    print("| load_model, one analyse() | engine | RSS MB | of which file pages MB | peak RSS MB | after imports MB |")
    print("|---|---|---|---|---|---|")
    for name, measured in memories.items():
        print(
            f"| {name} | {measured['engine']} | {measured['rss_mb']:.0f} | {measured['file_mb']:.0f} | "
            f"{measured['peak_mb']:.0f} | {measured['imports_mb']:.0f} |"
        )
    print(f"load average at the end: {load_average()} (other processes on these CPUs make the timings noisy)")
    worst = {name: max(t.ratio for t in per_length.values()) for name, per_length in timings.items()}
    difference = max(t.difference for per_length in timings.values() for t in per_length.values())
    print(
        f"RESULT core_vs_hf_gpt2={worst['gpt2']:.2f} core_vs_hf_llama={worst['llama']:.2f} max_diff={difference:.1e} "
        f"rss_mb_gpt2={apps['gpt2'].all_pages_mb:.0f} rss_mb_llama={apps['llama'].all_pages_mb:.0f} "
        f"rss_mb_bundled={apps['bundled'].all_pages_mb:.0f}"
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--memory"]:
        print(json.dumps(memory_here(sys.argv[2] if len(sys.argv) > 2 else "")))
    else:
        main()
