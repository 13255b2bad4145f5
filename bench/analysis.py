"""Benchmark of the head analyses (issue 14): `python bench/analysis.py`.

Measures, with the bundled MiniLM (6 layers × 12 heads), torch on one thread as app.py sets it:

1. head ablation: core.analysis.ablation.head_importance, all 72 single-head ablations batched (1 + 72 copies of the
   sentence), for one sentence of exactly 16 and of exactly 128 tokens ([CLS] and [SEP] included; the texts of
   bench/attention.py), after a warm-up; median and minimum of the repeats;
2. integrated gradients: core.analysis.attribution.integrated_gradients with 32 Gauss–Legendre steps on the 16-token
   sentence, median and minimum, and its completeness error |Σ IG − (f(x) − f(x'))| / |f(x) − f(x')| in %;
3. the head map: core.analysis.head_map.corpus_head_map over the first 1,000 bundled sentences (the chapter's, then
   WordNet's usage examples; cycled to 1,000 if there were fewer), batches of 16, with a time budget that never
   cuts it, then head_layout (metric MDS) and head_clusters (k = 6) of its distances: one run, end to end.

Goals: ablation ≤ 1,000 ms at 16 tokens; integrated gradients ≤ 2,000 ms at 16 tokens with completeness ≤ 1 %;
head map of 1,000 sentences ≤ 60 s.

The last line is machine-readable:
RESULT ablation_ms_16=… ablation_ms_128=… ig_ms_16=… ig_completeness=… headmap_s_1000=…
"""

from __future__ import annotations

import itertools
import os
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench.attention import text_of_length  # noqa: E402
from harness.machine import load_average, torch_setup  # noqa: E402

ABLATION_REPEATS = {16: 15, 128: 5}  # one 128-token ablation is 73 forward passes of 128 tokens
IG_STEPS = 32
IG_REPEATS = 9
WARMUP = 1
CORPUS_SIZE = 1000
HEAD_MAP_BUDGET_S = 600.0  # far above the goal: the budget must not cut the corpus short
CLUSTERS = 6


def timed(run: Callable[[], object], repeats: int) -> tuple[float, float, object]:
    """(median ms, min ms, last result) of ``repeats`` runs after WARMUP untimed ones."""
    for _ in range(WARMUP):
        run()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = run()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), min(samples), result


def time_ablation(model, texts: dict[int, str]) -> dict[int, float]:
    """Median ms of head_importance per length."""
    import torch

    from core.analysis.ablation import head_importance

    medians = {}
    for n, text in texts.items():
        tokenized = model.tokenize(text)
        input_ids, token_type_ids = torch.tensor([tokenized.input_ids]), torch.tensor([tokenized.token_type_ids])
        median, least, importance = timed(
            lambda: head_importance(model.network, input_ids, token_type_ids), ABLATION_REPEATS[n]
        )
        layer, head = divmod(int(importance.argmax()), importance.shape[1])
        print(
            f"head ablation, {n:>3} tokens: median {median:8.1f} ms, min {least:8.1f} ms ({ABLATION_REPEATS[n]} runs); "
            f"most important head: layer {layer + 1}, head {head + 1} (1 − cos = {float(importance.max()):.4f})"
        )
        medians[n] = median
    return medians


def time_integrated_gradients(model, text: str) -> tuple[float, float]:
    """(median ms, completeness error %) of integrated_gradients at IG_STEPS steps."""
    from core.analysis.attribution import integrated_gradients

    tokenized = model.tokenize(text)
    median, least, attribution = timed(
        lambda: integrated_gradients(model.network, tokenized, steps=IG_STEPS), IG_REPEATS
    )
    error = attribution.completeness_error_percent
    print(
        f"integrated gradients, {len(tokenized.input_ids)} tokens, {IG_STEPS} steps: median {median:8.1f} ms, "
        f"min {least:8.1f} ms ({IG_REPEATS} runs); f(x) = {attribution.f_input:.4f}, f(x') = "
        f"{attribution.f_baseline:.4f}, completeness error {error:.3f} %, Spearman vs rollout "
        f"{attribution.spearman:.2f}"
    )
    return median, error


def corpus_of(size: int) -> list[str]:
    """The first ``size`` bundled sentences (the chapter's, then WordNet's), cycled if there were fewer."""
    from core.analysis.corpus import load_bundled_sentences

    corpus = load_bundled_sentences()
    if len(corpus) < size:
        print(f"corpus: the bundled sentences are {len(corpus)}, cycled to {size}")
    else:
        print(f"corpus: the first {size} of the {len(corpus)} bundled sentences")
    return list(itertools.islice(itertools.cycle(corpus), size))


def time_head_map(model, sentences: list[str]) -> float:
    """Seconds for corpus_head_map + head_layout + head_clusters, one run."""
    from core.analysis.head_map import corpus_head_map, head_clusters, head_layout

    start = time.perf_counter()
    head_map = corpus_head_map(model, sentences, time_budget_s=HEAD_MAP_BUDGET_S)
    mapped = time.perf_counter()
    layout = head_layout(head_map.distances)
    laid_out = time.perf_counter()
    clusters = head_clusters(head_map.distances, k=CLUSTERS)
    end = time.perf_counter()
    if head_map.analysed != len(sentences):
        raise RuntimeError(f"the time budget cut the head map at {head_map.analysed} of {len(sentences)} sentences")
    behaviours = ", ".join(f"{label} {count}" for label, count in Counter(head_map.behaviours.ravel()).most_common())
    sizes = sorted(Counter(clusters.tolist()).values(), reverse=True)
    print(
        f"head map, {head_map.analysed} sentences: corpus_head_map {mapped - start:.2f} s, head_layout "
        f"{laid_out - mapped:.2f} s ({layout.shape[0]} points), head_clusters(k={CLUSTERS}) {end - laid_out:.3f} s "
        f"(sizes {sizes}); total {end - start:.2f} s"
    )
    print(f"head behaviours: {behaviours}")
    return end - start


def main() -> None:
    import torch

    torch.set_num_threads(1)  # as app.py runs it
    print(torch_setup())

    from core.transformer.models import load_model

    model = load_model()
    print(f"model {model.name}: {model.network.config.num_layers} layers × {model.network.config.num_heads} heads")
    texts = {n: text_of_length(model, n) for n in ABLATION_REPEATS}
    ablation = time_ablation(model, texts)
    ig_ms, completeness = time_integrated_gradients(model, texts[16])
    headmap_s = time_head_map(model, corpus_of(CORPUS_SIZE))
    print(f"load average at the end: {load_average()} (other processes on these CPUs make the timings noisy)")
    print(
        f"RESULT ablation_ms_16={ablation[16]:.1f} ablation_ms_128={ablation[128]:.1f} ig_ms_16={ig_ms:.1f} "
        f"ig_completeness={completeness:.3f} headmap_s_1000={headmap_s:.2f}"
    )


if __name__ == "__main__":
    main()
