"""The head map: Jensen–Shannon distances equal scipy's, are a proper dissimilarity between heads, stay the same in
bounded memory; identical heads share a cluster and a point; the corpus map keeps its budget; behaviours name
hand-made heads."""

import math
import tracemalloc

import numpy as np
import pytest
from scipy.spatial.distance import jensenshannon

from core.analysis.head_map import (
    BEHAVIOURS,
    corpus_head_map,
    dominant_behaviours,
    head_clusters,
    head_distances,
    head_layout,
    jensen_shannon_distance,
)
from core.analysis.head_stats import TokenRoles, head_statistics, token_roles
from core.transformer.models import load_model

RNG = np.random.default_rng(0)
SENTENCES = ["The dog slept.", "A train left the station, late.", "Graphs have edges and nodes."]


def random_attentions(heads: int, n: int, sparse: bool = True) -> np.ndarray:
    """(heads, n, n) rows drawn from a Dirichlet, a third of the entries zeroed (as in causal or pruned rows)."""
    rows = RNG.dirichlet(np.full(n, 0.5), size=(heads, n))
    if sparse:
        rows[..., 1:] *= RNG.random((heads, n, n - 1)) > 0.3  # keep column 0 so no row is all zero
    return rows / rows.sum(axis=-1, keepdims=True)


def previous_token_head(n: int) -> np.ndarray:
    head = np.eye(n, k=-1)
    head[0, 0] = 1.0
    return head


def sink_head(n: int) -> np.ndarray:
    head = np.zeros((n, n))
    head[:, 0] = 1.0
    return head


def test_jensen_shannon_distance_equals_scipys_base_2():
    p, q = random_attentions(1, 40)[0], random_attentions(1, 40)[0]  # 40 row pairs of 40 keys
    expected = [jensenshannon(p_row, q_row, base=2) for p_row, q_row in zip(p, q)]
    assert jensen_shannon_distance(p, q) == pytest.approx(expected, abs=1e-6)


def test_jensen_shannon_distance_is_0_for_equal_rows_and_1_for_disjoint_ones():
    p = random_attentions(1, 8)[0]
    assert np.all(jensen_shannon_distance(p, p) == 0.0)
    assert jensen_shannon_distance(np.array([0.5, 0.5, 0, 0]), np.array([0, 0, 0.3, 0.7])) == pytest.approx(1.0)


def test_head_distance_is_the_mean_over_queries_of_scipys_row_distance():
    attentions = random_attentions(5, 7)
    expected = [
        [np.mean([jensenshannon(a_row, b_row, base=2) for a_row, b_row in zip(a, b)]) for b in attentions]
        for a in attentions
    ]
    assert head_distances(attentions) == pytest.approx(np.array(expected), abs=1e-6)


def test_head_distances_are_symmetric_with_zero_diagonal_and_values_in_the_unit_interval():
    attentions = random_attentions(12, 9).reshape(3, 4, 9, 9)  # (layers, heads, n, n) → 12 heads
    distances = head_distances(attentions)
    assert distances.shape == (12, 12)
    assert np.array_equal(distances, distances.T)
    assert np.all(np.diag(distances) == 0.0)
    off_diagonal = distances[~np.eye(12, dtype=bool)]
    assert np.all((off_diagonal > 0) & (off_diagonal <= 1))


def test_a_head_and_its_copy_are_at_distance_0():
    attentions = random_attentions(3, 10)
    distances = head_distances(np.concatenate([attentions, attentions[1:2]]))  # head 3 copies head 1
    assert distances[1, 3] == pytest.approx(0.0, abs=1e-7)
    assert distances[0, 3] == distances[0, 1] > 0


def test_chunked_head_distances_equal_unchunked():
    attentions = random_attentions(20, 11)
    one_pair_at_a_time = head_distances(attentions, memory_bytes=1)
    all_pairs_at_once = head_distances(attentions, memory_bytes=2**40)
    assert np.allclose(one_pair_at_a_time, all_pairs_at_once, rtol=0, atol=1e-12)


def test_head_distances_of_72_heads_at_128_tokens_stay_within_the_memory_budget():
    attentions = random_attentions(72, 128, sparse=False).astype(np.float32)  # 4.7 MB, as the model returns them
    budget = 32 * 2**20
    tracemalloc.start()
    try:
        head_distances(attentions, memory_bytes=budget)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    float64_copy = attentions.nbytes * 2
    assert peak < budget + 2 * float64_copy  # the work arrays plus the heads' float64 rows and their entropies


def hand_made_heads(n: int = 6) -> np.ndarray:
    """(9, n, n): three copies each of a previous-token head, a sink head and a uniform head."""
    uniform = np.full((n, n), 1 / n)
    return np.stack([previous_token_head(n)] * 3 + [sink_head(n)] * 3 + [uniform] * 3)


def test_identical_heads_share_a_cluster_and_a_point_of_the_map():
    distances = head_distances(hand_made_heads())
    clusters = head_clusters(distances, k=3)
    assert len(set(clusters)) == 3
    assert [len(set(clusters[group : group + 3])) for group in (0, 3, 6)] == [1, 1, 1]
    points = head_layout(distances)
    assert points.shape == (9, 2)
    for group in (0, 3, 6):
        assert np.allclose(points[group : group + 3], points[group], atol=1e-6)
    assert np.linalg.norm(points[0] - points[3]) > 0.1


def test_hand_made_heads_get_their_dominant_behaviour():
    n = 6
    punctuation = np.zeros((n, n))
    punctuation[:, 3] = 1.0
    uniform = np.full((n, n), 1 / n)
    next_token = np.eye(n, k=1)
    next_token[-1, -1] = 1.0  # the last token can only read itself
    attentions = np.stack([previous_token_head(n), sink_head(n), np.eye(n), punctuation, next_token, uniform])
    roles = TokenRoles(
        cls=np.arange(n) == 0, sep=np.arange(n) == n - 1, punctuation=np.isin(np.arange(n), [3])
    )  # [CLS] w w . w [SEP]
    statistics = head_statistics(attentions, roles)
    behaviours = dominant_behaviours(statistics, statistics.entropy / math.log(n))
    assert behaviours.tolist() == ["previous token", "[CLS]/[SEP]", "self", "punctuation", "next token", "broad"]


def test_a_head_without_a_dominant_share_and_with_focused_rows_is_mixed():
    n = 6
    scattered = np.zeros((n, n))
    scattered[np.arange(n), (np.arange(n) + 3) % n] = 1.0  # each token reads the one three ahead (cyclically)
    roles = TokenRoles(cls=np.zeros(n, dtype=bool), sep=np.zeros(n, dtype=bool), punctuation=np.zeros(n, dtype=bool))
    statistics = head_statistics(scattered[None], roles)
    assert dominant_behaviours(statistics, statistics.entropy / math.log(n)).tolist() == [BEHAVIOURS[-1]]


def test_corpus_head_map_averages_the_sentences_as_if_run_one_by_one(bundled_model):
    calls = []
    head_map = corpus_head_map(
        bundled_model, SENTENCES, batch_size=2, progress=lambda done, total: calls.append((done, total))
    )
    assert (head_map.analysed, head_map.offered) == (3, 3)
    assert calls == [(2, 3), (3, 3)]
    results = [bundled_model.analyse(sentence) for sentence in SENTENCES]  # unpadded, one forward pass each
    expected = np.mean([head_distances(result.attentions) for result in results], axis=0)
    assert head_map.distances.shape == (72, 72)
    assert np.allclose(head_map.distances, expected, atol=1e-5)
    to_cls = np.mean([head_statistics(r.attentions, token_roles(r.tokenized)).to_cls for r in results], axis=0)
    assert np.allclose(head_map.mean.to_cls, to_cls, atol=1e-5)
    assert head_map.behaviours.shape == (6, 12) and set(head_map.behaviours.ravel()) <= set(BEHAVIOURS)
    assert head_map.behaviours[0, 2] == "previous token"  # MiniLM's layer 1, head 3 reads the previous token


def test_corpus_head_map_stops_at_the_time_budget_after_at_least_one_batch(bundled_model):
    calls = []
    head_map = corpus_head_map(
        bundled_model, SENTENCES, time_budget_s=0.0, batch_size=1, progress=lambda *call: calls.append(call)
    )
    assert (head_map.analysed, head_map.offered) == (1, 3)
    assert calls == [(1, 3)]
    assert np.all(np.isfinite(head_map.distances))


@pytest.mark.parametrize("family", ["gpt2", "llama"])
def test_a_decoders_batched_head_map_equals_its_sentences_run_one_by_one(family, decoder_folders):
    model = load_model(str(decoder_folders[family]))
    head_map = corpus_head_map(model, SENTENCES, batch_size=3)  # one right-padded batch
    expected = np.mean([head_distances(model.analyse(sentence).attentions) for sentence in SENTENCES], axis=0)
    assert np.allclose(head_map.distances, expected, atol=1e-5)
