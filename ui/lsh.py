"""The LSH page's cached computations, the head it shares with the attention page, the 2-D hash's
button, the shipped benchmark table, the small live benchmark, and what sets a decoder's heads apart
from Reformer's.

The live run reuses core.lsh.scaling, bench/lsh.py's kernels and memory method (a fresh subprocess
per point), with fewer timed calls, and stops before a measurement that would pass its time cap.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import streamlit as st

from core.lsh.inspection import (
    HeadHashing,
    QualityPoint,
    SyntheticKind,
    hash_head,
    quality_sweep,
    synthetic_queries,
)
from core.lsh.reformer import LSHConfig
from core.lsh.scaling import attention_call, peak_extra_bytes
from core.transformer.decoder import Decoder
from ui.analysis import cached_model
from ui.bound_widgets import clamp

ROOT = Path(__file__).resolve().parents[1]
SCALING_TABLE = ROOT / "assets" / "lsh_scaling.json"
MiB = 2**20
LIVE_REPEATS = 3  # timed calls per kernel and length, after one warm-up call
MEMORY_POINT_S = 2.5  # what one memory measurement (a fresh python + torch) takes, about


def follow_shared_head(layers: int, heads: int) -> None:
    """Before the layer and head sliders ("lsh_layer", "lsh_head") are drawn: take over a head
    chosen elsewhere since this page last ran (the attention page and the sidebar's examples set the
    shared "layer" and "head"; "mean" is no head), then keep both within the model
    (ui/bound_widgets.py, rule 2)."""
    shared = (st.session_state.get("layer"), st.session_state.get("head"))
    if shared != st.session_state.get("lsh_shared"):
        if isinstance(shared[0], int):
            st.session_state["lsh_layer"] = shared[0]
        if isinstance(shared[1], int):
            st.session_state["lsh_head"] = shared[1]
    clamp("lsh_layer", layers)
    clamp("lsh_head", heads)


def share_head(layer: int, head: int) -> None:
    """After the sliders: the head chosen here becomes the attention page's, and is remembered as
    seen."""
    st.session_state["layer"], st.session_state["head"] = layer, head
    st.session_state["lsh_shared"] = (layer, head)


def new_rotations() -> None:
    """The 2-D hash's button ("toy_new"): the next rotation seed. A callback of this module, not of
    the page script (ui/bound_widgets.py, rule 3)."""
    st.session_state["toy_seed"] = st.session_state.get("toy_seed", 0) + 1


def decoder_differences(name: str) -> str:
    """For a decoder (the model ``name``): how its heads differ from Reformer's shared-QK, in one sentence; "" for
    an encoder."""
    network = cached_model(name).network
    if not isinstance(network, Decoder):
        return ""
    rotated = " (taken after the rotary rotation: they carry their positions)" if network.config.rotary else ""
    return (
        f"Reformer shares Q and K; this decoder has separate ones, so its queries{rotated} stand in for both "
        "here, and its attention is causal: Reformer's causal LSH also masks j > i inside each chunk, which "
        "the windows drawn here do not."
    )


@st.cache_data(max_entries=64, show_spinner=False)
def head_hashing(queries: np.ndarray, n_buckets: int, n_hashes: int, chunk_length: int, seed: int) -> HeadHashing:
    """One head's queries (L, d) hashed and attended: core.lsh.inspection.hash_head, cached."""
    config = LSHConfig(n_buckets=n_buckets, n_hashes=n_hashes, chunk_length=chunk_length, seed=seed)
    return hash_head(queries, config)


@st.cache_data(max_entries=32, show_spinner="Sweeping buckets and rounds…")
def sentence_quality(
    queries: np.ndarray, n_buckets: tuple[int, ...], n_hashes: tuple[int, ...], chunk_length: int, k: int, seeds: int
) -> list[QualityPoint]:
    """Quality of LSH for one head of the sentence over a grid of settings, averaged over ``seeds``
    rotations."""
    return list(quality_sweep(queries, n_buckets, n_hashes, chunk_length, k, range(seeds)))


def synthetic_quality(
    kind: SyntheticKind,
    length: int,
    k: int,
    n_buckets: Sequence[int],
    n_hashes: Sequence[int],
    chunk_length: int,
    cap_s: float,
) -> tuple[list[QualityPoint], bool]:
    """The quality sweep on synthetic queries: from this session's store, or computed now under a
    progress bar and stopped after ``cap_s`` seconds; (points, complete). Only a complete sweep is
    stored."""
    store = st.session_state.setdefault("lsh_synthetic", {})
    settings = (kind, length, k, tuple(n_buckets), tuple(n_hashes), chunk_length)
    if settings in store:
        return store[settings], True
    total = len(n_buckets) * len(n_hashes)
    bar = st.progress(0.0, text=f"Hashing {length} synthetic tokens…")
    points, started = [], time.perf_counter()
    queries = synthetic_queries(kind, length)
    for point in quality_sweep(queries, n_buckets, n_hashes, chunk_length, k):
        points.append(point)
        bar.progress(
            len(points) / total, text=f"{point.n_buckets} buckets, {point.n_hashes} rounds ({len(points)} of {total})"
        )
        if time.perf_counter() - started > cap_s:
            break
    bar.empty()
    complete = len(points) == total
    if complete:
        store[settings] = points
    return points, complete


@st.cache_data(show_spinner=False)
def scaling_table() -> dict:
    """assets/lsh_scaling.json, written by `python bench/lsh.py`."""
    return json.loads(SCALING_TABLE.read_text(encoding="utf-8"))


def live_benchmark(lengths: Sequence[int], cap_s: float, memory: bool) -> Iterator[dict]:
    """Time (median of LIVE_REPEATS calls) and, with ``memory``, peak extra memory (a subprocess
    each) of full and LSH attention at each length, with bench/lsh.py's kernels, inputs and settings
    (core.lsh.scaling), one row at a time.

    A measurement that would not finish within ``cap_s`` seconds of the start (judged from the one
    before it, full attention growing as L², LSH a little faster than L) is skipped: its field stays
    None and the row says ``"skipped"``; the run stops once nothing more fits."""
    started = time.perf_counter()
    previous: dict[str, tuple[int, float]] = {}  # kernel → (length, seconds of its last timing)
    for length in lengths:
        row = {"length": length, "full_ms": None, "lsh_ms": None, "full_mib": None, "lsh_mib": None, "skipped": []}
        for kernel, growth in (("full", 2.0), ("lsh", 1.3)):
            expected = MEMORY_POINT_S if memory else 0.0
            if kernel in previous:
                last_length, last_s = previous[kernel]
                expected += last_s * (length / last_length) ** growth
            if time.perf_counter() - started + expected > cap_s:
                row["skipped"].append(kernel)
                continue
            call = attention_call(kernel, length)
            call()  # warm-up
            samples = []
            for _ in range(LIVE_REPEATS):
                start = time.perf_counter()
                call()
                samples.append(time.perf_counter() - start)
            row[f"{kernel}_ms"] = round(1000 * statistics.median(samples), 3)
            previous[kernel] = (length, (LIVE_REPEATS + 1) * statistics.median(samples))
            if memory:
                row[f"{kernel}_mib"] = round(peak_extra_bytes(kernel, length)[0] / MiB, 3)
        yield row
        if len(row["skipped"]) == 2:
            return


def measure_live(lengths: Sequence[int], cap_s: float, memory: bool) -> None:
    """``live_benchmark`` under a progress bar; its rows are kept for this session
    (``live_rows``)."""
    bar = st.progress(0.0, text="Measuring…")
    rows: list[dict] = []
    for row in live_benchmark(lengths, cap_s, memory):
        rows.append(row)
        bar.progress(len(rows) / len(lengths), text=f"L = {row['length']:,} measured")
    bar.empty()
    st.session_state["lsh_live"] = rows


def live_rows() -> list[dict]:
    """The rows of this session's last live run (none before the first)."""
    return st.session_state.get("lsh_live", [])
