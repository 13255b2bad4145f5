"""Specification of core.gnn.gcn: eq. 2.1, h_i' = b + Σ_{j ∈ N(i)} (1/c_ij) h_j W, checked against PyTorch Geometric."""

from __future__ import annotations

import warnings

import pytest
import torch

from core.gnn.gcn import GraphConvolution, edges_from_adjacency, normalized_adjacency

with warnings.catch_warnings():  # PyG 2.8.1 calls torch.jit.script, deprecated in torch 2.13, when imported
    warnings.simplefilter("ignore", DeprecationWarning)
    from torch_geometric.nn import GCNConv

NODES, FEATURES_IN, FEATURES_OUT = 12, 5, 3


def random_graph(
    seed: int, directed: bool, weighted: bool, self_loops: bool, edges: int = 30
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """A random graph on NODES nodes: (edge_index (2, E), edge_weight (E,) or None), weights in [0.2, 3).

    No parallel edges; an undirected edge is two directed ones of the same weight. With ``self_loops`` every other
    node already has a self-loop of its own weight, so some nodes have one and some do not.
    """
    generator = torch.Generator().manual_seed(seed)

    def weights(count: int) -> torch.Tensor:
        return 0.2 + 2.8 * torch.rand(count, generator=generator)

    pairs = torch.cartesian_prod(torch.arange(NODES), torch.arange(NODES))  # (NODES², 2): (source, target)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]] if directed else pairs[pairs[:, 0] < pairs[:, 1]]
    edge_index = pairs[torch.randperm(len(pairs), generator=generator)[:edges]].T
    edge_weight = weights(edges)
    if not directed:
        edge_index, edge_weight = torch.cat([edge_index, edge_index.flip(0)], dim=1), edge_weight.repeat(2)
    if self_loops:
        looped = torch.arange(0, NODES, 2)
        edge_index = torch.cat([edge_index, looped.repeat(2, 1)], dim=1)
        edge_weight = torch.cat([edge_weight, weights(len(looped))])
    return edge_index, edge_weight if weighted else None


def layer_with_bias(normalization: str = "symmetric", seed: int = 0) -> GraphConvolution:
    """A layer with random W and a random, non-zero b, so the bias is tested too."""
    torch.manual_seed(seed)
    layer = GraphConvolution(FEATURES_IN, FEATURES_OUT, normalization=normalization)
    with torch.no_grad():
        layer.bias.uniform_(-1.0, 1.0)
    return layer


def features(seed: int = 1) -> torch.Tensor:
    return torch.randn(NODES, FEATURES_IN, generator=torch.Generator().manual_seed(seed))


def pyg_copy(layer: GraphConvolution) -> GCNConv:
    """PyG's GCNConv with our W and b (its lin.weight is W transposed: (out, in)); improved=False, the default —
    improved=True would be silently ignored whenever edge_weight is None."""
    conv = GCNConv(FEATURES_IN, FEATURES_OUT)
    with torch.no_grad():
        conv.lin.weight.copy_(layer.weight.T)
        conv.bias.copy_(layer.bias)
    return conv


GRAPHS = {
    "undirected, unweighted": dict(directed=False, weighted=False, self_loops=False),
    "undirected, weighted": dict(directed=False, weighted=True, self_loops=False),
    "directed, unweighted": dict(directed=True, weighted=False, self_loops=False),
    "directed, weighted": dict(directed=True, weighted=True, self_loops=False),
    "self-loops already present, unweighted": dict(directed=True, weighted=False, self_loops=True),
    "self-loops already present, weighted": dict(directed=True, weighted=True, self_loops=True),
}


@pytest.mark.parametrize("dense", [False, True], ids=["sparse", "dense"])
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("kind", GRAPHS)
def test_symmetric_layer_equals_pytorch_geometric_gcnconv(kind: str, seed: int, dense: bool) -> None:
    edge_index, edge_weight = random_graph(seed, **GRAPHS[kind])
    layer, x = layer_with_bias(seed=seed), features(seed)
    ours = layer(x, edge_index, edge_weight, dense=dense)
    theirs = pyg_copy(layer)(x, edge_index, edge_weight)
    torch.testing.assert_close(ours, theirs, atol=1e-5, rtol=0)


def test_mean_averages_a_station_with_its_in_neighbours_by_hand() -> None:
    # 0 → 1 with weight 2, 2 → 1 with weight 1; W = 1, b = 0, so each output is a weighted mean of inputs.
    edge_index = torch.tensor([[0, 2], [1, 1]])
    edge_weight = torch.tensor([2.0, 1.0])
    x = torch.tensor([[1.0], [2.0], [7.0]])
    layer = GraphConvolution(1, 1, normalization="mean", bias=False)
    with torch.no_grad():
        layer.weight.fill_(1.0)
    expected = torch.tensor([[1.0], [(1 * 2.0 + 2 * 1.0 + 1 * 7.0) / (1 + 2 + 1)], [7.0]])  # 1: (self + 2·x0 + x2)/4
    torch.testing.assert_close(layer(x, edge_index, edge_weight), expected)
    # A self-loop of weight 3 at node 1 replaces the unit self-loop: (3·x1 + 2·x0 + x2) / (3 + 2 + 1).
    looped = torch.tensor([[0, 2, 1], [1, 1, 1]])
    expected[1] = (3 * 2.0 + 2 * 1.0 + 1 * 7.0) / (3 + 2 + 1)
    torch.testing.assert_close(layer(x, looped, torch.tensor([2.0, 1.0, 3.0])), expected)


def test_none_is_the_plain_sum_a_x_w_without_self_loops() -> None:
    generator = torch.Generator().manual_seed(3)
    adjacency = torch.rand(NODES, NODES, generator=generator) * (torch.rand(NODES, NODES, generator=generator) < 0.3)
    adjacency[4] = 0.0  # node 4 hears from nobody, not even itself: its output is 0
    layer, x = GraphConvolution(FEATURES_IN, FEATURES_OUT, normalization="none", bias=False), features()
    out = layer(x, *edges_from_adjacency(adjacency))
    torch.testing.assert_close(out, adjacency @ x @ layer.weight, atol=1e-6, rtol=0)
    assert torch.equal(out[4], torch.zeros(FEATURES_OUT))


@pytest.mark.parametrize("normalization", ["symmetric", "mean", "none"])
def test_dense_sparse_and_message_passing_give_the_same_numbers(normalization: str) -> None:
    edge_index, edge_weight = random_graph(4, directed=True, weighted=True, self_loops=True)
    layer, x = layer_with_bias(normalization), features()
    sparse = layer(x, edge_index, edge_weight)
    torch.testing.assert_close(layer(x, edge_index, edge_weight, dense=True), sparse, atol=1e-6, rtol=0)
    torch.testing.assert_close(layer.message_passing(x, edge_index, edge_weight).output, sparse, atol=1e-6, rtol=0)


def test_message_passing_steps_board_ride_and_alight() -> None:
    edge_index, edge_weight = random_graph(5, directed=True, weighted=True, self_loops=False)
    layer, x = layer_with_bias(), features()
    steps = layer.message_passing(x, edge_index, edge_weight)
    source, target = steps.edge_index
    assert steps.edge_index.shape[1] == edge_index.shape[1] + NODES  # a unit self-loop added at every node
    for k in range(steps.edge_index.shape[1]):  # board at j with h_j W, scaled by 1/c_ij on the way to i
        torch.testing.assert_close(steps.messages[k], steps.weights[k] * (x[source[k]] @ layer.weight))
    for i in range(NODES):  # alight: station i sums what arrives there, then adds b
        arriving = steps.messages[target == i].sum(dim=0)
        torch.testing.assert_close(steps.aggregated[i], arriving)
        torch.testing.assert_close(steps.output[i], arriving + layer.bias)


def test_sparse_path_trains_like_the_dense_path() -> None:
    edge_index, edge_weight = random_graph(6, directed=False, weighted=True, self_loops=False)
    x = features()
    gradients = []
    for dense in (False, True):
        layer = layer_with_bias()
        layer(x, edge_index, edge_weight, dense=dense).square().sum().backward()
        gradients.append((layer.weight.grad, layer.bias.grad))
    torch.testing.assert_close(gradients[0], gradients[1], atol=1e-5, rtol=0)


def test_symmetric_normalisation_of_an_undirected_graph_is_a_symmetric_matrix() -> None:
    edge_index, edge_weight = random_graph(7, directed=False, weighted=True, self_loops=False)
    propagation = normalized_adjacency(edge_index, NODES, edge_weight)
    torch.testing.assert_close(propagation, propagation.T)
    assert not torch.allclose(propagation, torch.eye(NODES))


def test_the_yamanote_loop_c30_is_a_uniform_three_tap_smoother() -> None:
    stations = torch.arange(30)
    ahead = torch.stack([stations, (stations + 1) % 30])
    edge_index = torch.cat([ahead, ahead.flip(0)], dim=1)  # both directions round the loop
    adjacency = torch.zeros(30, 30)
    adjacency[edge_index[1], edge_index[0]] = 1.0
    for normalization in ("symmetric", "mean"):  # every degree is 3, so both give (A + I)/3
        propagation = normalized_adjacency(edge_index, 30, normalization=normalization)
        torch.testing.assert_close(propagation, (adjacency + torch.eye(30)) / 3)


def test_wrong_inputs_are_refused_with_a_clear_message() -> None:
    edge_index = torch.tensor([[0, 1], [1, 2]])
    with pytest.raises(ValueError, match="normalization must be one of"):
        GraphConvolution(2, 2, normalization="row")
    with pytest.raises(ValueError, match="outside 0..1"):
        normalized_adjacency(edge_index, num_nodes=2)
    with pytest.raises(ValueError, match=r"edge_weight must have shape \(2,\)"):
        normalized_adjacency(edge_index, 3, torch.ones(3))
    with pytest.raises(ValueError, match="long tensor"):
        normalized_adjacency(edge_index.float(), 3)
