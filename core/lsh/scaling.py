"""How full and LSH attention scale with the sequence length on this CPU: the seeded inputs, the settings and the two
measurements (time of a call, peak memory one call adds) that ``bench/lsh.py`` tabulates into
assets/lsh_scaling.json and that the LSH page re-runs live at short lengths.

- Full attention: ``core.transformer.attention.scaled_dot_product_attention``, softmax(Q Kᵀ/√d) V; it keeps the
  L × L scores and probabilities, so its extra memory is 2 · L² · 4 bytes.
- LSH attention: ``core.lsh.reformer.hash_buckets`` and ``core.lsh.reformer.lsh_attention`` with N_HASHES rounds,
  chunks of m = CHUNK and the paper's n_buckets = 2L / m, factorised into two powers of two as HF does for large counts.
- One head (batch 1, d = D_HEAD, float32), torch on THREADS thread.

Memory is measured in a fresh subprocess (tracemalloc does not see torch's CPU allocations),
``python -m core.lsh.scaling --peak-memory KIND LENGTH``, with MALLOC_MMAP_THRESHOLD_=65536 so that every buffer of
64 KiB or more is its own mmap, resident while alive and returned on free; it warms up on a tiny input, reads VmRSS,
resets the high-water mark VmHWM (``5`` into /proc/self/clear_refs), makes one call and prints VmHWM − VmRSS. The
kind "calibration" allocates a tensor of CALIBRATION bytes, which checks the method.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import torch

from core.lsh.reformer import LSHConfig, hash_buckets, lsh_attention, random_rotations
from core.transformer.attention import scaled_dot_product_attention

THREADS = 1
D_HEAD = 64
CHUNK = 64
N_HASHES = 4
CALIBRATION = 256 * 2**20  # bytes of the calibration tensor
KINDS = ("full", "lsh", "calibration")


def lsh_config(length: int) -> LSHConfig:
    """N_HASHES rounds, chunks of CHUNK, and the paper's m = 2L / n_buckets as two power-of-two factors."""
    exponent = (2 * length // CHUNK).bit_length() - 1
    factors = (2 ** (exponent // 2), 2 ** (exponent - exponent // 2))
    return LSHConfig(n_buckets=factors, n_hashes=N_HASHES, chunk_length=CHUNK)


def attention_call(kind: str, length: int) -> Callable[[], torch.Tensor]:
    """One call of the kernel ``kind`` ("full", "lsh", or "calibration") on seeded inputs of ``length`` tokens."""
    if kind == "calibration":
        return lambda: torch.ones(CALIBRATION // 4)
    generator = torch.Generator().manual_seed(length)
    qk, values = (torch.randn(1, length, D_HEAD, generator=generator) for _ in range(2))  # (head, L, d)
    if kind == "full":
        return lambda: scaled_dot_product_attention(qk, qk, values)[0]
    config = lsh_config(length)
    rotations = random_rotations(config, D_HEAD)
    return lambda: lsh_attention(qk, values, hash_buckets(qk, rotations, config), config)


def full_attention_bytes(length: int) -> int:
    """The L × L float32 scores and probabilities that full attention holds at once."""
    return 2 * length * length * 4


def resident_bytes(field: str) -> int:
    """VmRSS (now) or VmHWM (peak since the last reset) of this process, in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} is missing from /proc/self/status")


def peak_extra_bytes_here(kind: str, length: int) -> int:
    """Inside the measuring subprocess: the peak resident memory one call adds."""
    torch.set_num_threads(THREADS)
    call = attention_call(kind, length)
    attention_call(kind, 4 * CHUNK)()  # lazy initialisation is not the attention's memory
    before = resident_bytes("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS
    call()
    return resident_bytes("VmHWM") - before


def peak_extra_bytes(kind: str, length: int) -> tuple[int, float]:
    """(peak extra bytes of one call, wall seconds of the measurement), in a fresh subprocess."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {KINDS}")
    environment = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "65536"}
    start = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-m", "core.lsh.scaling", "--peak-memory", kind, str(int(length))],
        cwd=Path(__file__).resolve().parents[2],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    return int(completed.stdout.split()[-1]), time.perf_counter() - start


# --- reading the benchmark table ----------------------------------------------------------------------------


def loglog_crossing(lengths: Sequence[float], ratio: Sequence[float | None]) -> float | None:
    """The first length at which ``ratio`` (e.g. full time / LSH time) reaches 1 from below, interpolated log-log
    between the grid points around it; None where it never does. Lengths with no ratio (None) are skipped."""
    points = [(x, r) for x, r in zip(lengths, ratio) if r is not None and r > 0]
    for (x0, r0), (x1, r1) in zip(points, points[1:]):
        if r0 < 1 <= r1:
            share = -math.log(r0) / (math.log(r1) - math.log(r0))
            return x0 * (x1 / x0) ** share
    return None


def length_within(budget: float, lengths: Sequence[float], cost: Sequence[float]) -> float:
    """The length at which a cost that rises with length (e.g. memory) reaches ``budget``: log-log interpolation in
    the table, extrapolation along its first or last segment outside it."""
    x, y = np.log(np.asarray(lengths, dtype=float)), np.log(np.asarray(cost, dtype=float))
    target = math.log(budget)
    segment = int(np.clip(np.searchsorted(y, target) - 1, 0, len(y) - 2))
    slope = (y[segment + 1] - y[segment]) / (x[segment + 1] - x[segment])
    return float(math.exp(x[segment] + (target - y[segment]) / slope))


def speed_up(row: Mapping) -> float | None:
    """Full attention's time over LSH attention's in one row of the benchmark table ({"full_ms", "lsh_ms", …});
    None where either kernel did not run."""
    return row["full_ms"] / row["lsh_ms"] if row["full_ms"] and row["lsh_ms"] else None


def time_crossover(rows: Sequence[Mapping]) -> float | None:
    """The length beyond which LSH attention is the faster: where ``speed_up`` of the rows ({"length", …}) reaches 1,
    by ``loglog_crossing``; None where it does not in their range."""
    return loglog_crossing([row["length"] for row in rows], [speed_up(row) for row in rows])


def lengths_within(budget_mib: float, rows: Sequence[Mapping]) -> tuple[float, float]:
    """(full, LSH): the lengths at which each kernel's memory ({"full_mib", "lsh_mib"} of the rows) reaches
    ``budget_mib``, by ``length_within``."""
    lengths = [row["length"] for row in rows]
    full = length_within(budget_mib, lengths, [row["full_mib"] for row in rows])
    lsh = length_within(budget_mib, lengths, [row["lsh_mib"] for row in rows])
    return full, lsh


if __name__ == "__main__":
    if sys.argv[1:2] != ["--peak-memory"] or len(sys.argv) != 4:
        sys.exit("usage: python -m core.lsh.scaling --peak-memory {full,lsh,calibration} LENGTH")
    print(peak_extra_bytes_here(sys.argv[2], int(sys.argv[3])))
