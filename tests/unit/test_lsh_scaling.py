"""core.lsh_scaling: the kernels bench/lsh.py and the LSH page time, and the subprocess that measures their memory."""

import math

import pytest
import torch

from core.lsh_scaling import CALIBRATION, CHUNK, attention_call, full_attention_bytes, lsh_config, peak_extra_bytes


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
