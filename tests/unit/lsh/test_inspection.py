"""Specification of core.lsh.inspection: what the LSH page computes with core.lsh.reformer, checked against it."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from core.lsh.inspection import (
    SYNTHETIC_NORM,
    bucket_sizes,
    centre_queries,
    collision_probability,
    hash_head,
    keys_share,
    mean_cosine,
    quality_sweep,
    synthetic_queries,
    toy_buckets,
    toy_directions,
    toy_points,
    toy_rotations,
    toy_sectors,
    window_slots,
)
from core.lsh.reformer import LSHConfig, effective_attention, full_attention, hash_buckets, random_rotations


def queries(length: int, d: int = 8, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(length, d))


# (length, chunk length, rounds, buckets): chunks within a round; chunks straddling rounds with a padded last
# chunk; two chunks that see each other; one chunk
WINDOW_CASES = [(16, 4, 1, 4), (16, 4, 2, 4), (15, 4, 3, 4), (10, 4, 3, 8), (16, 8, 1, 2), (7, 8, 2, 4)]


@pytest.mark.parametrize("length, chunk_length, rounds, buckets", WINDOW_CASES)
def test_a_token_attends_exactly_to_the_other_tokens_in_its_window_slots(length, chunk_length, rounds, buckets):
    config = LSHConfig(n_buckets=buckets, n_hashes=rounds, chunk_length=chunk_length, seed=1)
    hashing = hash_head(queries(length), config)
    for token in range(length):
        window = window_slots(hashing.order, config, token)
        seen = set(hashing.order[window].tolist()) - {token}
        assert seen == set(np.flatnonzero(hashing.lsh[token] > 0).tolist()) - {token}, token
        assert window[hashing.order == token].all()  # its own slots are in its windows


def test_window_of_one_round_is_the_chunk_and_the_one_before():
    config = LSHConfig(n_buckets=2, chunk_length=4)
    order = np.arange(12)[None, :]  # sorted order = positions: chunks {0-3}, {4-7}, {8-11}
    assert np.flatnonzero(window_slots(order, config, 9)).tolist() == list(range(4, 12))
    assert np.flatnonzero(window_slots(order, config, 1)).tolist() == [0, 1, 2, 3, 8, 9, 10, 11]  # wraps around


def test_hash_head_is_core_lsh_on_the_queries():
    config = LSHConfig(n_buckets=4, n_hashes=2, chunk_length=4, seed=3)
    q = queries(12)
    hashing = hash_head(q, config)
    qk = torch.from_numpy(q)
    buckets = hash_buckets(qk, random_rotations(config, 8, dtype=torch.float64), config)
    assert np.array_equal(hashing.buckets, buckets.numpy())
    assert np.allclose(hashing.lsh, effective_attention(qk, buckets, config).numpy())
    assert np.allclose(hashing.full, full_attention(qk).numpy())
    assert np.array_equal(np.sort(hashing.order, axis=1), np.tile(np.arange(12), (2, 1)))
    assert np.allclose(hashing.lsh.sum(axis=1), 1) and not hashing.one_chunk
    assert np.array_equal(hash_head(3 * q, config).buckets, hashing.buckets)  # the direction only
    assert hashing.sizes().sum(axis=1).tolist() == [12, 12]
    assert hashing.pairs() == round(hashing.keys_share() * 12 * 11)


def test_keys_seen_counts_the_other_tokens_in_a_tokens_windows():
    config = LSHConfig(n_buckets=4, n_hashes=2, chunk_length=4, seed=1)
    hashing = hash_head(queries(16), config)
    for token in range(16):
        window = window_slots(hashing.order, config, token)
        assert hashing.keys_seen(token) == len(set(hashing.order[window].tolist()) - {token}), token


def test_mass_kept_sums_each_rows_weight_on_the_keys_lsh_sees_for_any_attention():
    hashing = hash_head(queries(12), LSHConfig(n_buckets=4, chunk_length=4, seed=2))
    logits = np.random.default_rng(5).normal(size=(12, 12))
    model = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)  # (L, L), e.g. the model's own attention
    seen = hashing.lsh > 0
    assert hashing.mass_kept(model) == pytest.approx(np.mean([model[i, seen[i]].sum() for i in range(12)]))
    assert hashing.mass_kept() == pytest.approx(np.mean([hashing.full[i, seen[i]].sum() for i in range(12)]))
    assert hashing.mass_kept(model) != pytest.approx(hashing.mass_kept())


def test_within_one_chunk_lsh_is_full_attention_and_keeps_everything():
    hashing = hash_head(queries(6), LSHConfig(n_buckets=4, n_hashes=2, chunk_length=8))
    assert hashing.one_chunk and np.allclose(hashing.lsh, hashing.full)
    assert hashing.mass_kept() == pytest.approx(1) and hashing.top_k_recall(3) == 1 and hashing.keys_share() == 1
    assert hashing.pairs() == 30


def test_bucket_sizes_count_each_round():
    sizes = bucket_sizes(np.array([[0, 0, 3, 1], [2, 2, 2, 2]]), 4)
    assert sizes.tolist() == [[2, 1, 0, 1], [0, 0, 4, 0]]


def test_keys_share_is_the_share_of_other_keys_with_a_weight():
    lsh = np.array([[0.0, 1.0, 0.0, 0.0], [0.5, 0.0, 0.5, 0.0], [0.2, 0.2, 0.2, 0.4], [0.0, 0.0, 1.0, 0.0]])
    assert keys_share(lsh) == pytest.approx((1 + 2 + 3 + 1) / 12)  # the diagonal does not count


def test_centred_queries_have_no_common_direction():
    q = queries(16) + 5.0  # a shared offset: all in one cone
    assert mean_cosine(q) > 0.9
    assert np.allclose(centre_queries(q).mean(axis=0), 0)
    assert abs(mean_cosine(centre_queries(q))) < 0.1
    assert mean_cosine(np.eye(4)) == 0 and mean_cosine(np.ones((3, 2))) == pytest.approx(1)


# --- quality ---------------------------------------------------------------------------------------------------


def test_quality_sweep_visits_every_setting_in_order_and_averages_seeds():
    q = queries(16)
    points = list(quality_sweep(q, (2, 4), (1, 2), chunk_length=4, k=1, seeds=(0, 1)))
    assert [(p.n_buckets, p.n_hashes) for p in points] == [(2, 1), (2, 2), (4, 1), (4, 2)]
    by_seed = [hash_head(q, LSHConfig(n_buckets=4, n_hashes=2, chunk_length=4, seed=s)) for s in (0, 1)]
    assert points[-1].mass_kept == pytest.approx(np.mean([h.mass_kept() for h in by_seed]))
    assert points[-1].recall == pytest.approx(np.mean([h.top_k_recall(1) for h in by_seed]))
    assert points[-1].keys_share == pytest.approx(np.mean([h.keys_share() for h in by_seed]))
    whole = next(quality_sweep(q, (4,), (1,), chunk_length=16, k=3))
    assert (whole.mass_kept, whole.recall, whole.keys_share) == (pytest.approx(1), 1, 1)


def test_synthetic_queries_have_the_announced_structure():
    duplicates = synthetic_queries("duplicates", 64, d=16, seed=2)
    assert duplicates.shape == (64, 16) and torch.allclose(
        duplicates.norm(dim=-1), torch.tensor(SYNTHETIC_NORM, dtype=torch.float64)
    )
    cosines = duplicates @ duplicates.T / SYNTHETIC_NORM**2
    cosines.fill_diagonal_(-2)
    assert torch.allclose(cosines.max(dim=-1).values, torch.ones(64, dtype=torch.float64))  # a copy each
    full = full_attention(duplicates)
    assert float(full.max(dim=-1).values.mean()) > 0.9  # attention peaks on the copy
    clusters = synthetic_queries("clusters", 64, d=16)
    random = synthetic_queries("random", 64, d=16)
    assert mean_cosine(clusters.numpy()) > mean_cosine(random.numpy()) + 0.05
    assert torch.equal(synthetic_queries("random", 64, d=16), random)  # seeded
    with pytest.raises(ValueError):
        synthetic_queries("zipf", 8)


def test_lsh_finds_duplicates_better_than_random_keys():
    point = next(quality_sweep(synthetic_queries("duplicates", 256), (8,), (2,), chunk_length=32, k=1))
    assert point.mass_kept > point.keys_share + 0.3 and point.recall > 0.8


# --- the 2-D toy -----------------------------------------------------------------------------------------------


def test_sectors_tile_the_circle_and_agree_with_the_hash():
    config = LSHConfig(n_buckets=6, n_hashes=2, seed=4)
    rotations = toy_rotations(config)
    assert rotations.shape == (2, 2, 3)
    sectors = toy_sectors(rotations, config)
    for arcs in sectors:
        assert arcs[0][1] == 0 and arcs[-1][2] == pytest.approx(2 * math.pi)
        assert all(a[2] == pytest.approx(b[1]) for a, b in zip(arcs, arcs[1:]))
    points = toy_points(40, seed=5)
    assert np.allclose(np.linalg.norm(points, axis=1), 1)
    buckets = toy_buckets(points, rotations, config)
    angles = np.mod(np.arctan2(points[:, 1], points[:, 0]), 2 * math.pi)
    for r, arcs in enumerate(sectors):
        for point, angle in enumerate(angles):
            bucket = next(b for b, start, end in arcs if start <= angle < end)
            near_edge = min(min(abs(angle - start), abs(angle - end)) for _, start, end in arcs)
            assert bucket == buckets[r, point] or near_edge < 2 * math.pi / 1440


def test_a_point_falls_in_the_bucket_of_the_direction_it_projects_onto_most():
    config = LSHConfig(n_buckets=8, n_hashes=1, seed=7)
    rotations = toy_rotations(config)
    directions = toy_directions(rotations)  # (1, 8, 2)
    points = toy_points(25, seed=3)
    assert np.array_equal(toy_buckets(points, rotations, config)[0], (points @ directions[0].T).argmax(axis=1))


def test_the_hash_is_locality_sensitive():
    angles = np.radians([0, 30, 90, 150, 180])
    one, any_round = collision_probability(angles, LSHConfig(n_buckets=4, n_hashes=3), trials=3000)
    assert one[0] == 1 and one[-1] == 0  # the same direction always, the opposite one never
    assert np.all(np.diff(one) < 0)
    assert np.all(any_round >= one) and any_round[1] > one[1]
