"""core.lsh.scaling: the kernels bench/lsh.py and the LSH page time, and the subprocess that measures their memory."""

import json
import math

import pytest
import torch

from core.lsh.scaling import (
    CALIBRATION,
    CHUNK,
    attention_call,
    full_attention_bytes,
    length_within,
    lengths_within,
    loglog_crossing,
    lsh_config,
    peak_extra_bytes,
    speed_up,
    time_crossover,
)
from tests.conftest import ROOT


@pytest.mark.parametrize("length", [512, 4096, 16384])
def test_lsh_uses_the_papers_bucket_count_as_two_powers_of_two(length):
    config = lsh_config(length)
    assert math.prod(config.n_buckets) == 2 * length // CHUNK
    assert all(factor & (factor - 1) == 0 for factor in config.n_buckets)


def test_both_kernels_attend_one_head_of_the_seeded_inputs():
    full, lsh = attention_call("full", 256)(), attention_call("lsh", 256)()
    assert full.shape == lsh.shape == (1, 256, 64)
    assert torch.equal(full, attention_call("full", 256)())  # seeded by the length: the same inputs every call


def test_the_memory_method_reads_a_known_tensor_and_full_attentions_l_squared_buffers():
    calibration, _ = peak_extra_bytes("calibration", 0)
    assert calibration == pytest.approx(CALIBRATION, rel=0.03)
    full, _ = peak_extra_bytes("full", 1024)
    assert full == pytest.approx(full_attention_bytes(1024), rel=0.15)  # the 2 · L² · 4 bytes of scores and probs
    with pytest.raises(ValueError):
        peak_extra_bytes("exec", 1)


# --- the benchmark table ---------------------------------------------------------------------------------------


def test_crossing_is_interpolated_log_log():
    assert loglog_crossing([100, 400], [0.5, 2.0]) == pytest.approx(200)
    assert loglog_crossing([100, 200, 400], [0.5, None, 2.0]) == pytest.approx(200)
    assert loglog_crossing([100, 200], [0.5, 0.9]) is None
    assert loglog_crossing([100, 200], [1.5, 3.0]) is None


def test_length_within_inverts_a_power_law_inside_and_beyond_the_table():
    lengths = [256, 512, 1024]
    cost = [length**2 for length in lengths]
    assert length_within(700**2, lengths, cost) == pytest.approx(700)
    assert length_within(4096**2, lengths, cost) == pytest.approx(4096)
    assert length_within(100**2, lengths, cost) == pytest.approx(100)


def test_the_shipped_table_reads_as_bench_lsh_summarised_it():
    table = json.loads((ROOT / "assets" / "lsh_scaling.json").read_text())
    rows = table["rows"]
    lengths = [row["length"] for row in rows]
    ratio = [row["full_ms"] / row["lsh_ms"] if row["full_ms"] else None for row in rows]
    assert loglog_crossing(lengths, ratio) == pytest.approx(table["crossover_len"])
    cap_mib = table["setup"]["cap_bytes"] / 2**20
    full = length_within(cap_mib, lengths, [row["full_mib"] for row in rows])
    assert full == pytest.approx(math.sqrt(table["setup"]["cap_bytes"] / 8), rel=0.01)  # 2·L²·4 bytes
    lsh = length_within(cap_mib, lengths, [row["lsh_mib"] for row in rows])
    assert table["longest_lsh"] <= lsh < 2 * table["longest_lsh"]
    assert lsh / full >= 10  # "tens of times more words"


def test_the_crossover_of_table_rows_skips_a_length_where_a_kernel_did_not_run():
    rows = [
        {"length": 100, "full_ms": 1.0, "lsh_ms": 2.0},
        {"length": 200, "full_ms": None, "lsh_ms": 3.0},
        {"length": 400, "full_ms": 4.0, "lsh_ms": 2.0},
    ]
    assert [speed_up(row) for row in rows] == [0.5, None, 2.0]
    assert time_crossover(rows) == pytest.approx(200)  # log-log between 100 and 400
    assert time_crossover(rows[:2]) is None
    table = json.loads((ROOT / "assets" / "lsh_scaling.json").read_text())
    assert time_crossover(table["rows"]) == pytest.approx(table["crossover_len"])  # as bench/lsh.py summarised it


def test_lengths_within_a_budget_read_each_kernels_memory_column():
    rows = [{"length": length, "full_mib": length**2 / 1000, "lsh_mib": length / 10} for length in (256, 512, 1024)]
    full, lsh = lengths_within(700**2 / 1000, rows)  # 490 MiB
    assert full == pytest.approx(700) and lsh == pytest.approx(4900)  # L²/1000 = 490 and L/10 = 490
