"""Attention rollout and attention flow (Abnar & Zuidema 2020) on hand-made attentions."""

import networkx as nx
import numpy as np
import pytest

from core.analysis.rollout import (
    FlowTooLongError,
    attention_flow,
    flow_network,
    residual_attention,
    rollout,
)

# Two layers, one head, two tokens, chosen so that Ã^1 = [[0.6, 0.4], [0.3, 0.7]] and Ã^2 = [[0.9, 0.1], [0.5, 0.5]].
HAND = np.array(
    [
        [[[0.2, 0.8], [0.6, 0.4]]],
        [[[0.8, 0.2], [1.0, 0.0]]],
    ]
)


def random_attentions(layers: int, heads: int, n: int, seed: int = 0) -> np.ndarray:
    weights = np.random.default_rng(seed).random((layers, heads, n, n)) ** 4
    return weights / weights.sum(axis=-1, keepdims=True)


def test_residual_attention_averages_heads_and_adds_the_identity():
    attentions = random_attentions(3, 4, 5)
    assert np.allclose(residual_attention(attentions), 0.5 * attentions.mean(axis=1) + 0.5 * np.eye(5))
    assert np.allclose(residual_attention(HAND), [[[0.6, 0.4], [0.3, 0.7]], [[0.9, 0.1], [0.5, 0.5]]])


def test_rollout_multiplies_the_layers_upwards_and_keeps_rows_stochastic():
    attentions = random_attentions(6, 12, 9)
    rolled = rollout(attentions)
    layers = residual_attention(attentions)
    assert rolled.shape == (6, 9, 9)
    assert np.allclose(rolled[0], layers[0])
    assert np.allclose(rolled[2], layers[2] @ layers[1] @ layers[0])
    assert np.allclose(rolled.sum(axis=-1), 1.0)
    assert np.allclose(
        rollout(HAND)[-1],
        [[0.9 * 0.6 + 0.1 * 0.3, 0.9 * 0.4 + 0.1 * 0.7], [0.5 * 0.6 + 0.5 * 0.3, 0.5 * 0.4 + 0.5 * 0.7]],
    )


def causal_attentions(layers: int, heads: int, n: int, seed: int = 0) -> np.ndarray:
    """Random attentions masked as a decoder's: no weight on a later token, rows renormalised."""
    weights = random_attentions(layers, heads, n, seed) * np.tri(n)
    return weights / weights.sum(axis=-1, keepdims=True)


def test_rollout_of_causal_attention_stays_lower_triangular_with_stochastic_rows():
    rolled = rollout(causal_attentions(4, 3, 7))
    assert np.all(np.triu(rolled, k=1) == 0)  # no top token draws on a later input token
    assert np.allclose(rolled.sum(axis=-1), 1.0)
    assert np.allclose(rolled[:, 0], np.eye(7)[0])  # the first token only ever reads itself


def test_flow_of_causal_attention_reaches_no_later_token():
    flow = attention_flow(causal_attentions(3, 2, 6, seed=2))
    assert np.all(np.triu(flow, k=1) == 0) and np.all(flow[np.tri(6, dtype=bool)] > 0)
    assert np.allclose(flow.sum(axis=-1), 1.0)
    assert np.allclose(flow[0], np.eye(6)[0])


def test_flow_network_is_the_layered_graph_with_residual_attention_as_capacities():
    network = flow_network(residual_attention(HAND))
    assert network.number_of_nodes() == 3 * 2 and network.number_of_edges() == 2 * 2 * 2
    assert network.edges[(2, 0), (1, 1)]["capacity"] == pytest.approx(0.1)
    assert network.edges[(1, 1), (0, 0)]["capacity"] == pytest.approx(0.3)
    # (2, 0) → (0, 0) through (1, 0): min(0.9, 0.6); through (1, 1): min(0.1, 0.3)
    assert nx.maximum_flow_value(network, (2, 0), (0, 0)) == pytest.approx(0.6 + 0.1)


def test_flow_on_the_hand_made_graph_equals_the_hand_computed_max_flows():
    # Two layers: each route top → middle → input is separate, so max flow = Σ_k min(Ã²[i, k], Ã¹[k, j]).
    # Top 0: to input 0, 0.6 + 0.1; to input 1, min(0.9, 0.4) + min(0.1, 0.7) = 0.5 → normalised by 1.2.
    # Top 1: to input 0, min(0.5, 0.6) + min(0.5, 0.3) = 0.8; to input 1, 0.4 + 0.5 = 0.9 → normalised by 1.7.
    assert np.allclose(attention_flow(HAND), [[0.7 / 1.2, 0.5 / 1.2], [0.8 / 1.7, 0.9 / 1.7]])


def test_flow_rows_sum_to_one_and_one_row_equals_that_row_of_the_matrix():
    attentions = random_attentions(3, 2, 6, seed=1)
    flow = attention_flow(attentions)
    assert np.allclose(flow.sum(axis=-1), 1.0)
    assert np.allclose(attention_flow(attentions, outputs=[4]), flow[[4]])


def test_flow_refuses_the_whole_matrix_of_a_long_input_but_computes_one_row():
    attentions = np.full((6, 1, 17, 17), 1 / 17)
    with pytest.raises(FlowTooLongError, match="single output token"):
        attention_flow(attentions)
    assert attention_flow(attentions, outputs=[0]).shape == (1, 17)


def test_flow_of_one_token_of_a_text_too_long_for_it_says_how_long_a_text_can_be():
    attentions = np.full((6, 1, 41, 41), 1 / 41)
    with pytest.raises(FlowTooLongError, match="one output token of a 41-token text .* works up to 40 tokens"):
        attention_flow(attentions, outputs=[0])
