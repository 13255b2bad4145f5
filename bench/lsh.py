"""Benchmark of Reformer's LSH attention against full attention on this CPU: `python bench/lsh.py`.

The kernels, their seeded inputs and the two measurements live in core.lsh.scaling (the LSH page re-runs them
live): one head (batch 1, d = 64, float32) on torch with one thread — on this shared 2-core machine a second thread
makes every small LSH operation wait on OpenMP hand-offs whenever another process holds the other core, so one
thread gives both kernels the same, steadier footing. Full attention keeps the L × L scores and probabilities
(2 · L² · 4 bytes, checked against the measurements); LSH attention runs 4 rounds, chunks of m = 64 and the paper's
n_buckets = 2L / m. Time: the median of at least REPEATS calls, and of as many as fit in MIN_SECONDS, after one
warm-up call, in this process. Memory: the peak resident memory one call adds, each in a fresh subprocess
(core.lsh.scaling.peak_extra_bytes says how); a tensor of known size calibrates the method.

Memory cap: CAP = 4 GiB of extra memory for the attention. Full attention is not run where 2 · L² · 4 bytes exceeds
the cap (its memory there is that formula); LSH doubles its length beyond 16K while twice its last peak fits the cap,
twice its last measurement takes under MAX_SECONDS, and L ≤ MAX_LENGTH. Derived: the crossover length (where the
time ratio crosses 1, interpolated log-log), the speed-up and memory ratio at 16K, and max_len_ratio, the longest
LSH length over the longest full-attention length within the cap, both on the doubling grid. The table goes to
assets/lsh_scaling.json for the LSH page. The last line is machine-readable:
RESULT crossover_len=… speedup_16k=… mem_ratio_16k=… max_len_ratio=…
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from core.lsh.scaling import (  # noqa: E402
    CALIBRATION,
    CHUNK,
    D_HEAD,
    N_HASHES,
    THREADS,
    attention_call,
    full_attention_bytes,
    peak_extra_bytes,
    time_crossover,
)

LENGTHS = (512, 1024, 2048, 4096, 8192, 16384)  # 512 too, to bracket the crossover
REPEATS = 5  # timed calls at least, and
MIN_SECONDS = 1.0  # as many as fit in this time: short inputs get many samples
CAP = 4 * 2**30  # bytes of extra memory the attention may use
MAX_LENGTH = 2**20  # the longest LSH length tried
MAX_SECONDS = 60  # per memory measurement of a long LSH input
OUTPUT = ROOT / "assets" / "lsh_scaling.json"
MiB = 2**20


# --- measurements -------------------------------------------------------------------------------------------


def median_ms(call: Callable[[], torch.Tensor]) -> float:
    """Median wall time, in ms, of at least REPEATS calls and as many as fit in MIN_SECONDS, after a warm-up call."""
    call()
    samples, started = [], time.perf_counter()
    while len(samples) < REPEATS or time.perf_counter() - started < MIN_SECONDS:
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(samples), 3)


# --- the comparison -----------------------------------------------------------------------------------------


def crossover_length(rows: list[dict]) -> float:
    """Where full / LSH time first reaches 1 (core.lsh.scaling.time_crossover, as the LSH page reads the table)."""
    crossing = time_crossover(rows)
    if crossing is None:
        raise RuntimeError("LSH is not slower at the shortest length and faster at a longer one: widen LENGTHS")
    return crossing


def row_of(length: int, full_ms: float | None, lsh_ms: float | None, lsh_bytes: int, full_bytes: int | None) -> dict:
    """One row of the table; where full attention did not run, its memory is the formula's."""
    return {
        "length": length,
        "full_ms": full_ms,
        "lsh_ms": lsh_ms,
        "full_mib": round((full_bytes if full_bytes is not None else full_attention_bytes(length)) / MiB, 3),
        "full_mib_measured": full_bytes is not None,
        "lsh_mib": round(lsh_bytes / MiB, 3),
    }


def print_row(row: dict) -> None:
    """L | times | memories (* = the formula) | speed-up and memory ratio of LSH over full attention."""

    def ms(value: float | None) -> str:
        return f"{value:>10.1f}" if value is not None else f"{'—':>10}"

    speedup = f"{row['full_ms'] / row['lsh_ms']:>8.1f}" if row["full_ms"] and row["lsh_ms"] else f"{'—':>8}"
    print(
        f"{row['length']:>7} | {ms(row['full_ms'])} {ms(row['lsh_ms'])} | {row['full_mib']:>10.1f}"
        f"{' ' if row['full_mib_measured'] else '*'} {row['lsh_mib']:>9.1f} | {speedup} "
        f"{row['full_mib'] / row['lsh_mib']:>13.1f}"
    )


def grid_row(length: int) -> tuple[dict, float]:
    """Both kernels at ``length`` (full attention only within the cap): (row, seconds of LSH's memory measurement)."""
    lsh_bytes, lsh_seconds = peak_extra_bytes("lsh", length)
    lsh_ms = median_ms(attention_call("lsh", length))
    full_ms = full_bytes = None
    if full_attention_bytes(length) <= CAP:
        full_bytes, _ = peak_extra_bytes("full", length)
        full_ms = median_ms(attention_call("full", length))
    return row_of(length, full_ms, lsh_ms, lsh_bytes, full_bytes), lsh_seconds


def longer_lsh_rows(row: dict, seconds: float) -> list[dict]:
    """LSH's memory at doubled lengths beyond the grid, while twice the last peak fits the cap, twice the last
    measurement's time fits MAX_SECONDS and the length stays within MAX_LENGTH; says which of these stopped it."""
    rows = []
    while 2 * row["length"] <= MAX_LENGTH and 2 * row["lsh_mib"] * MiB <= CAP and 2 * seconds <= MAX_SECONDS:
        length = 2 * row["length"]
        lsh_bytes, seconds = peak_extra_bytes("lsh", length)
        row = row_of(length, None, None, lsh_bytes, None)
        rows.append(row)
        print_row(row)
    if 2 * row["length"] > MAX_LENGTH:
        print(f"LSH search stopped at the length limit {MAX_LENGTH}")
    elif 2 * row["lsh_mib"] * MiB > CAP:
        print(
            f"LSH search stopped: {2 * row['length']} tokens would take about {2 * row['lsh_mib']:.0f} MiB, "
            f"over the cap"
        )
    else:
        print(f"LSH search stopped: {2 * row['length']} tokens would take about {2 * seconds:.0f} s to measure")
    return rows


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo."""
    names = [
        line.split(":", 1)[1].strip()
        for line in Path("/proc/cpuinfo").read_text().splitlines()
        if line.startswith("model name")
    ]
    return names[0] if names else platform.machine()


def main() -> None:
    torch.set_num_threads(THREADS)
    print(
        f"{cpu_model()}, python {platform.python_version()}, torch {torch.__version__} ({THREADS} thread of "
        f"{os.cpu_count()} CPUs), load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}"
    )
    calibration, _ = peak_extra_bytes("calibration", 0)
    print(f"memory method check: a {CALIBRATION / MiB:.0f} MiB tensor reads as {calibration / MiB:.1f} MiB")
    print(
        f"one head, d = {D_HEAD}, float32; LSH: {N_HASHES} rounds, chunks of {CHUNK}, n_buckets = 2L/{CHUNK}; "
        f"memory cap {CAP / 2**30:.0f} GiB; time: median of ≥ {REPEATS} calls, ≥ {MIN_SECONDS:.0f} s"
    )
    print(f"{'L':>7} | {'full ms':>10} {'LSH ms':>10} | {'full MiB':>11} {'LSH MiB':>9} | speed-up  memory ratio")
    rows = []
    for length in LENGTHS:
        row, lsh_seconds = grid_row(length)
        rows.append(row)
        print_row(row)
    rows += longer_lsh_rows(rows[-1], lsh_seconds)
    print(
        "* not run: 2 · L² · 4 bytes; — not timed. Full attention's formula at its measured lengths: "
        + ", ".join(
            f"{row['length']}: {full_attention_bytes(row['length']) / MiB:.1f} MiB"
            for row in rows
            if row["full_mib_measured"]
        )
    )
    longest_full = max(row["length"] for row in rows if row["full_mib"] * MiB <= CAP)
    longest_lsh = max(row["length"] for row in rows if row["lsh_mib"] * MiB <= CAP)

    at_16k = next(row for row in rows if row["length"] == 16384)
    result = {
        "crossover_len": crossover_length(rows),
        "speedup_16k": at_16k["full_ms"] / at_16k["lsh_ms"],
        "mem_ratio_16k": at_16k["full_mib"] / at_16k["lsh_mib"],
        "max_len_ratio": longest_lsh / longest_full,
    }
    print(f"longest length within {CAP / 2**30:.0f} GiB: full attention {longest_full}, LSH {longest_lsh}")
    setup = {
        "heads": 1,
        "d_head": D_HEAD,
        "dtype": "float32",
        "threads": THREADS,
        "chunk_length": CHUNK,
        "n_hashes": N_HASHES,
        "n_buckets": "2L / chunk_length, two power-of-two factors",
        "cap_bytes": CAP,
        "repeats": REPEATS,
        "full": "core.transformer.attention.scaled_dot_product_attention",
        "lsh": "core.lsh.reformer.hash_buckets + core.lsh.reformer.lsh_attention",
        "memory": "peak RSS added by one call, fresh subprocess, MALLOC_MMAP_THRESHOLD_=65536",
        "cpu": cpu_model(),
        "cpus": os.cpu_count(),
        "torch": torch.__version__,
    }
    OUTPUT.write_text(
        json.dumps(
            {"setup": setup, "rows": rows, **result, "longest_full": longest_full, "longest_lsh": longest_lsh}, indent=1
        )
        + "\n"
    )
    print(f"table written to {OUTPUT.relative_to(ROOT)}")
    print(
        f"RESULT crossover_len={result['crossover_len']:.0f} speedup_16k={result['speedup_16k']:.1f} "
        f"mem_ratio_16k={result['mem_ratio_16k']:.1f} max_len_ratio={result['max_len_ratio']:.0f}"
    )


if __name__ == "__main__":
    main()
