"""Benchmark of the small Transformer translator (issue 12): `python bench/small_transformer.py`.

Trains core.translation's encoder–decoder from scratch with the default TranslatorConfig and TrainingSettings on
the corpus of seed 0, once per training seed 0, 1 and 2, and reports per seed:

1. the training loop's wall time (``TrainingResult.seconds``: the steps and snapshots, not the evaluation);
2. the exact match of the greedy translation on each split (train, held-out sentences, held-out combinations);
3. the alignment error rate (AER, sure and possible links) of every cross-attention head's argmax alignment on the
   held-out sentences, teacher-forced on the gold target, and the best head's.

torch runs on one thread, as the app sets it: the batches are small (64 sentences of ≤ 10 words), and on two shared
cores one thread is faster and steadier than two that wait for each other.

The last line is machine-readable (train_s: the slowest of the trainings; the rest are means over the seeds, and
aer_mean also over every cross-attention head; params: trainable parameters of the model):
RESULT train_s=… exact_match=… exact_match_combos=… aer_best_head=… aer_mean=… params=…
"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from core.translation.corpus import build_corpus  # noqa: E402
from core.translation.model import TranslatorConfig  # noqa: E402
from core.translation.training import TrainingResult, TrainingSettings, train  # noqa: E402

SEEDS = (0, 1, 2)
SPLITS = ("train", "held-out sentences", "held-out combinations")
# issue 12's acceptance: (measure, goal as text, passes(value))
GOALS = {
    "exact match, held-out sentences": ("≥ 0.98", lambda value: value >= 0.98),
    "exact match, held-out combinations": ("≥ 0.90", lambda value: value >= 0.90),
    "best head's AER (mean over seeds)": ("≤ 0.15", lambda value: value <= 0.15),
    "training s (slowest seed)": ("≤ 60", lambda value: value <= 60.0),
}


def head_name(layer: int, head: int) -> str:
    return f"L{layer + 1}H{head + 1}"


def print_seeds(results: dict[int, TrainingResult]) -> None:
    """One row per seed: training time, exact match per split, the best head's AER and every head's AER."""
    split_columns = "".join(f"{split:>23}" for split in SPLITS)
    print(f"{'seed':>4}{'training s':>12}{split_columns}{'best head AER':>16}  per-head AER")
    for seed, result in results.items():
        evaluation = result.evaluation
        matches = "".join(f"{evaluation.exact_match[split]:>23.3f}" for split in SPLITS)
        best = f"{head_name(*evaluation.best_head)} {evaluation.best_aer:.3f}"
        heads = " ".join(
            f"{head_name(layer, head)} {rate:.3f}" for (layer, head), rate in np.ndenumerate(evaluation.head_aer)
        )
        print(f"{seed:>4}{result.seconds:>12.2f}{matches}{best:>16}  {heads}")


def main() -> None:
    torch.set_num_threads(1)
    print(
        f"python {platform.python_version()}, torch {torch.__version__} ({torch.get_num_threads()} thread), "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}"
    )
    config, corpus = TranslatorConfig(), build_corpus()
    sizes = ", ".join(f"{split} {len(examples)}" for split, examples in corpus.splits.items())
    unseen = ", ".join("–".join(pair) for pair in corpus.held_out_pairs)
    print(f"corpus (seed {corpus.seed}): {sizes} sentences; unseen subject–place pairs: {unseen}")
    print(f"model: {config.to_dict()}")
    print(f"training: {TrainingSettings().to_dict()} (seed varies)")

    results = {seed: train(config, TrainingSettings(seed=seed), corpus, progress=None) for seed in SEEDS}
    params = sum(p.numel() for p in results[SEEDS[0]].model.parameters() if p.requires_grad)
    print(f"\ntrained {len(SEEDS)} times from scratch, {params} trainable parameters")
    print_seeds(results)

    train_s = max(result.seconds for result in results.values())
    exact = float(np.mean([r.evaluation.exact_match["held-out sentences"] for r in results.values()]))
    exact_combos = float(np.mean([r.evaluation.exact_match["held-out combinations"] for r in results.values()]))
    aer_best = float(np.mean([r.evaluation.best_aer for r in results.values()]))
    aer_mean = float(np.mean([r.evaluation.head_aer for r in results.values()]))
    values = dict(zip(GOALS, (exact, exact_combos, aer_best, train_s)))

    print(f"\nissue 12's goals (seeds {', '.join(map(str, SEEDS))})")
    print(f"{'measure':36}{'value':>10}{'goal':>10}  verdict")
    for measure, (goal, passes) in GOALS.items():
        print(f"{measure:36}{values[measure]:>10.3f}{goal:>10}  {'PASS' if passes(values[measure]) else 'FAIL'}")
    print(f"{'mean AER over seeds and heads':36}{aer_mean:>10.3f}{'—':>10}")
    print(f"load average at the end: {os.getloadavg()[0]:.2f} (other processes on these CPUs make timings noisy)")
    print(
        f"RESULT train_s={train_s:.2f} exact_match={exact:.3f} exact_match_combos={exact_combos:.3f} "
        f"aer_best_head={aer_best:.3f} aer_mean={aer_mean:.3f} params={params}"
    )


if __name__ == "__main__":
    main()
