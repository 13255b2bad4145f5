"""Attention → graph: the pruning rules and word aggregation, on hand-made matrices."""

import numpy as np
import pytest

from core.analysis.graph import (
    Pruning,
    attention_graph,
    drop_tokens,
    induced_subgraph,
    mass_mask,
    neighbourhood,
    prune,
    top_k_mask,
    word_attention,
)

A = np.array(
    [
        [0.50, 0.30, 0.15, 0.05],
        [0.10, 0.10, 0.10, 0.70],
        [0.25, 0.25, 0.25, 0.25],
        [0.00, 0.00, 0.40, 0.60],
    ]
)


def test_mass_rule_keeps_the_smallest_prefix_covering_the_share():
    keep = mass_mask(A, 0.7)
    assert keep.tolist() == [
        [True, True, False, False],  # 0.50 < 0.7, 0.50 + 0.30 ≥ 0.7
        [False, False, False, True],  # 0.70 alone covers 0.7
        [True, True, True, False],  # ties: earliest first, 0.75 ≥ 0.7 after three
        [False, False, True, True],  # 0.60 then 0.40
    ]


def test_mass_rule_at_full_share_keeps_every_nonzero_edge_and_never_a_zero_one():
    assert (mass_mask(A, 1.0) == (A > 0)).all()
    assert mass_mask(A, 0.01).sum(axis=1).tolist() == [1, 1, 1, 1]


def test_top_k_keeps_k_per_row():
    keep = top_k_mask(A, 2)
    assert keep.sum(axis=1).tolist() == [2, 2, 2, 2]
    assert keep[0].tolist() == [True, True, False, False]
    assert keep[1].tolist() == [True, False, False, True]  # 0.70, then the earliest of the tied 0.10s
    assert top_k_mask(A, 10).all()


def test_threshold_and_all():
    assert prune(A, Pruning("threshold", threshold=0.3)).sum() == 5
    assert prune(A, Pruning("all")).all()
    with pytest.raises(ValueError):
        prune(A, Pruning("nearest"))


def test_word_attention_sums_columns_and_averages_rows():
    # tokens: [CLS] un ##believ ##able [SEP] → words: [CLS] unbelievable [SEP]
    rng = np.random.default_rng(0)
    tokens = rng.random((5, 5))
    tokens /= tokens.sum(axis=1, keepdims=True)
    words = word_attention(tokens, [(0,), (1, 2, 3), (4,)])
    assert words.shape == (3, 3)
    assert np.allclose(words.sum(axis=1), 1.0)
    assert np.isclose(words[0, 1], tokens[0, 1:4].sum())  # to a word: sum of its columns
    assert np.isclose(words[1, 2], tokens[1:4, 4].mean())  # from a word: mean of its rows
    assert np.isclose(words[1, 1], tokens[1:4, 1:4].sum(axis=1).mean())


def test_word_attention_keeps_leading_axes():
    stacked = np.stack([A, A.T / A.T.sum(axis=1, keepdims=True)])  # (2, 4, 4)
    words = word_attention(stacked, [(0, 1), (2,), (3,)])
    assert words.shape == (2, 3, 3)
    assert np.allclose(words[0], word_attention(A, [(0, 1), (2,), (3,)]))


def test_drop_tokens_renormalises_rows_and_handles_empty_rows():
    kept = drop_tokens(A, [0, 1])
    assert np.allclose(kept, [[0.5 / 0.8, 0.3 / 0.8], [0.5, 0.5]])
    assert np.allclose(drop_tokens(A, [0, 1]).sum(axis=1), 1.0)
    assert np.allclose(drop_tokens(A, [0, 3]), [[0.50 / 0.55, 0.05 / 0.55], [0.0, 1.0]])
    no_mass = np.array([[0.0, 1.0], [0.5, 0.5]])
    assert np.allclose(drop_tokens(no_mass, [0]), [[1.0]])  # row 0 attended only to the dropped token


def test_attention_graph_has_weighted_edges_for_kept_entries():
    graph = attention_graph(A, ["a", "b", "c", "d"], mass_mask(A, 0.7))
    assert graph.number_of_nodes() == 4 and graph.nodes[2]["label"] == "c"
    assert graph.number_of_edges() == 2 + 1 + 3 + 2
    assert graph.edges[1, 3]["weight"] == pytest.approx(0.7)
    assert graph.edges[1, 3]["share"] == pytest.approx(1.0)  # the strongest edge of the matrix
    assert not graph.has_edge(3, 0)
    with pytest.raises(ValueError):
        attention_graph(A, ["a", "b"])


def test_a_neighbourhood_holds_the_centre_its_heaviest_targets_and_its_heaviest_sources_in_sentence_order():
    attention = np.full((8, 8), 0.01)
    attention[5, [1, 6]] = [0.6, 0.3]  # word 5 attends most to 1, then 6
    attention[[7, 2], 5] = [0.9, 0.5]  # 7, then 2, attend most to word 5
    assert neighbourhood(attention, 5, k=2) == [1, 2, 5, 6, 7]
    assert neighbourhood(attention, 5, k=1) == [1, 5, 7]


def test_a_neighbourhood_never_counts_the_centre_as_its_own_neighbour():
    attention = np.eye(6) * 0.9 + 0.02  # every word attends mostly to itself
    nodes = neighbourhood(attention, 3, k=2)
    assert 3 in nodes and len(nodes) == 3  # the centre and two others, which are both targets and sources


def test_an_induced_subgraph_keeps_its_edges_and_shades_them_against_its_own_heaviest():
    graph = attention_graph(A, ["a", "b", "c", "d"])
    part = induced_subgraph(graph, [0, 2])
    assert set(part.edges) == {(0, 0), (0, 2), (2, 0), (2, 2)}
    assert part.edges[0, 0]["weight"] == pytest.approx(0.50) and part.edges[0, 0]["share"] == pytest.approx(1.0)
    assert part.edges[0, 2]["share"] == pytest.approx(0.15 / 0.50)
    assert graph.edges[0, 0]["share"] == pytest.approx(0.50 / 0.70)  # the whole graph is left as it was
