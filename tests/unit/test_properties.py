"""Property-based tests (hypothesis) of the core kernels: invariants that must hold for any input, not only examples.

Each property draws small shapes and a seed; the arrays come from numpy/torch generators seeded with it, which keeps
the search space small and the shrunk counterexamples readable. A few dozen examples per property keep the file fast.
"""

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from core.analysis.graph import drop_tokens, mass_mask, top_k_mask, word_attention
from core.gnn.gcn import GraphConvolution, adjacency_matrix, edges_from_adjacency, normalized_adjacency
from core.transformer.attention import additive_mask, scaled_dot_product_attention

FAST = settings(max_examples=40, deadline=None)
seeds = st.integers(0, 2**32 - 1)


def stochastic(n: int, seed: int, rows: int | None = None, sparse: bool = False) -> np.ndarray:
    """A random (rows, n) matrix whose rows are probability distributions; ``sparse`` zeroes about half the entries."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(scale=3.0, size=(rows or n, n))
    weights = np.exp(logits - logits.max(axis=-1, keepdims=True))
    if sparse:
        weights *= rng.random(weights.shape) < 0.5
        weights[np.arange(len(weights)), rng.integers(0, n, len(weights))] += 0.01  # no row left empty
    return weights / weights.sum(axis=-1, keepdims=True)


@st.composite
def contiguous_groups(draw, max_tokens: int = 12) -> list[list[int]]:
    """Tokens 0..n-1 cut into contiguous words, as subwords are merged into words."""
    sizes = draw(st.lists(st.integers(1, 4), min_size=1, max_size=max_tokens // 2))
    starts = np.cumsum([0, *sizes])
    return [list(range(start, stop)) for start, stop in zip(starts[:-1], starts[1:])]


# --- scaled dot-product attention -------------------------------------------------------------------------------


@FAST
@given(
    batch=st.integers(1, 2),
    heads=st.integers(1, 3),
    n=st.integers(1, 9),
    d=st.integers(1, 8),
    seed=seeds,
    data=st.data(),
)
def test_attention_rows_are_distributions_and_masked_keys_get_nothing(batch, heads, n, d, seed, data):
    generator = torch.Generator().manual_seed(seed)
    q, k, v = (torch.randn(batch, heads, n, d, generator=generator) * 4 for _ in range(3))
    real = torch.tensor(
        data.draw(st.lists(st.lists(st.booleans(), min_size=n, max_size=n).filter(any), min_size=batch, max_size=batch))
    )  # ≥ 1 real key per input
    outputs, probabilities = scaled_dot_product_attention(q, k, v, additive_mask(real.long()))
    assert probabilities.shape == (batch, heads, n, n) and outputs.shape == (batch, heads, n, d)
    assert torch.all(probabilities >= 0)
    torch.testing.assert_close(probabilities.sum(-1), torch.ones(batch, heads, n))
    assert torch.all(probabilities.masked_select(~real[:, None, None, :].expand_as(probabilities)) == 0)
    # every output is a convex combination of the values: it lies within their range, per feature
    assert torch.all(outputs <= v.amax(-2, keepdim=True) + 1e-4)
    assert torch.all(outputs >= v.amin(-2, keepdim=True) - 1e-4)


@FAST
@given(n=st.integers(1, 9), d=st.integers(1, 8), seed=seeds, data=st.data())
def test_attention_without_positions_is_permutation_equivariant(n, d, seed, data):
    """Permuting the tokens permutes the outputs, and the rows and the columns of the attention matrix."""
    perm = torch.tensor(data.draw(st.permutations(range(n))))
    generator = torch.Generator().manual_seed(seed)
    q, k, v = (torch.randn(2, n, d, generator=generator, dtype=torch.float64) for _ in range(3))
    outputs, probabilities = scaled_dot_product_attention(q, k, v)
    outputs_p, probabilities_p = scaled_dot_product_attention(q[:, perm], k[:, perm], v[:, perm])
    torch.testing.assert_close(outputs_p, outputs[:, perm])
    torch.testing.assert_close(probabilities_p, probabilities[:, perm][:, :, perm])


@FAST
@given(n=st.integers(1, 9), d=st.integers(1, 8), seed=seeds, data=st.data())
def test_attention_is_invariant_to_permuting_only_the_keys_and_values_together(n, d, seed, data):
    """Without positions a query sees a set of key–value pairs: their order does not change its output."""
    perm = torch.tensor(data.draw(st.permutations(range(n))))
    generator = torch.Generator().manual_seed(seed)
    q, k, v = (torch.randn(n, d, generator=generator, dtype=torch.float64) for _ in range(3))
    outputs, probabilities = scaled_dot_product_attention(q, k, v)
    outputs_p, probabilities_p = scaled_dot_product_attention(q, k[perm], v[perm])
    torch.testing.assert_close(outputs_p, outputs)
    torch.testing.assert_close(probabilities_p, probabilities[:, perm])


# --- core.analysis.graph: reshaping and pruning attention matrices ----------------------------------------------------


@FAST
@given(groups=contiguous_groups(), seed=seeds, sparse=st.booleans())
def test_word_attention_keeps_rows_stochastic_for_any_grouping(groups, seed, sparse):
    n = groups[-1][-1] + 1
    attention = stochastic(n, seed, sparse=sparse)
    words = word_attention(attention, groups)
    assert words.shape == (len(groups), len(groups))
    assert np.all(words >= 0)
    np.testing.assert_allclose(words.sum(axis=-1), 1.0, atol=1e-9)


@FAST
@given(groups=contiguous_groups(), seed=seeds)
def test_word_attention_with_leading_axes_matches_one_matrix_at_a_time(groups, seed):
    n = groups[-1][-1] + 1
    stack = np.stack([stochastic(n, seed + i) for i in range(3)]).reshape(3, 1, n, n)
    together = word_attention(stack, groups)
    for i in range(3):
        np.testing.assert_allclose(together[i, 0], word_attention(stack[i, 0], groups), atol=1e-12)


@FAST
@given(n=st.integers(1, 12), seed=seeds)
def test_one_token_per_word_leaves_attention_unchanged(n, seed):
    attention = stochastic(n, seed)
    np.testing.assert_allclose(word_attention(attention, [[i] for i in range(n)]), attention, atol=1e-12)


@FAST
@given(n=st.integers(1, 12), seed=seeds, sparse=st.booleans(), data=st.data())
def test_drop_tokens_keeps_rows_stochastic(n, seed, sparse, data):
    keep = sorted(data.draw(st.sets(st.integers(0, n - 1), min_size=1)))
    attention = stochastic(n, seed, sparse=sparse).astype(np.float32)
    kept = drop_tokens(attention, keep)
    assert kept.shape == (len(keep), len(keep)) and kept.dtype == attention.dtype
    assert np.all(kept >= 0)
    np.testing.assert_allclose(kept.sum(axis=-1), 1.0, atol=1e-5)


@FAST
@given(n=st.integers(1, 12), seed=seeds, sparse=st.booleans(), mass=st.floats(0.01, 1.0))
def test_mass_mask_covers_the_share_of_every_row_with_the_fewest_edges(n, seed, sparse, mass):
    attention = stochastic(n, seed, rows=5, sparse=sparse)
    keep = mass_mask(attention, mass)
    for row, kept in zip(attention, keep):
        assert kept.any() and np.all(row[kept] > 0)
        assert row[kept].sum() >= mass * row.sum() - 1e-9  # covers the share …
        assert row[kept].sum() - row[kept].min() < mass * row.sum() + 1e-9  # … and no edge could be spared
        assert row[kept].min() >= row[~kept].max(initial=0.0)  # the strongest edges come first


@FAST
@given(n=st.integers(1, 12), k=st.integers(0, 15), seed=seeds, sparse=st.booleans())
def test_top_k_keeps_exactly_min_k_n_of_the_largest_per_row(n, k, seed, sparse):
    attention = stochastic(n, seed, rows=5, sparse=sparse)
    keep = top_k_mask(attention, k)
    assert np.all(keep.sum(axis=-1) == min(k, n))
    for row, kept in zip(attention, keep):
        assert row[kept].min(initial=np.inf) >= row[~kept].max(initial=-np.inf)


# --- core.gnn.gcn: normalised adjacency and the graph convolution ---------------------------------------------------


@st.composite
def undirected_graphs(draw, max_nodes: int = 8):
    """(num_nodes, symmetric dense weighted adjacency), self-loops allowed, weights > 0."""
    n = draw(st.integers(1, max_nodes))
    pairs = draw(
        st.lists(
            st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), st.floats(0.1, 10.0, allow_nan=False)),
            max_size=2 * n,
        )
    )
    adjacency = torch.zeros(n, n, dtype=torch.float64)
    for i, j, weight in pairs:
        adjacency[i, j] = adjacency[j, i] = weight
    return n, adjacency


@FAST
@given(graph=undirected_graphs())
def test_symmetric_normalisation_of_an_undirected_graph_is_symmetric_with_spectrum_in_unit_interval(graph):
    n, adjacency = graph
    edge_index, edge_weight = edges_from_adjacency(adjacency)
    normalised = normalized_adjacency(edge_index, n, edge_weight, "symmetric")
    torch.testing.assert_close(normalised, normalised.T)
    assert torch.all(normalised >= 0)
    eigenvalues = torch.linalg.eigvalsh(normalised)
    assert eigenvalues.abs().max() <= 1 + 1e-9  # D^-1/2 (A + I) D^-1/2 never amplifies a signal


@FAST
@given(graph=undirected_graphs())
def test_mean_normalisation_rows_sum_to_one_like_attention(graph):
    n, adjacency = graph
    edge_index, edge_weight = edges_from_adjacency(adjacency)
    normalised = normalized_adjacency(edge_index, n, edge_weight, "mean")
    torch.testing.assert_close(normalised.sum(-1), torch.ones(n, dtype=torch.float64))


@FAST
@given(graph=undirected_graphs())
def test_dense_and_edge_list_views_round_trip(graph):
    n, adjacency = graph
    torch.testing.assert_close(adjacency_matrix(*edges_from_adjacency(adjacency), n), adjacency)


@FAST
@given(
    graph=undirected_graphs(), seed=seeds, normalization=st.sampled_from(["symmetric", "mean", "none"]), data=st.data()
)
def test_graph_convolution_is_permutation_equivariant(graph, seed, normalization, data):
    """Relabelling the nodes relabels the outputs, as for attention without positions."""
    n, adjacency = graph
    perm = torch.tensor(data.draw(st.permutations(range(n))))
    torch.manual_seed(seed % 2**31)
    layer = GraphConvolution(3, 2, normalization).double()
    x = torch.randn(n, 3, dtype=torch.float64)
    out = layer(x, *edges_from_adjacency(adjacency))
    out_p = layer(x[perm], *edges_from_adjacency(adjacency[perm][:, perm]))
    torch.testing.assert_close(out_p, out[perm])
    torch.testing.assert_close(layer(x, *edges_from_adjacency(adjacency), dense=True), out)
