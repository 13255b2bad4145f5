"""Graph convolution: the source chapter's eq. 2.1, one layer.

    h_i' = σ( b + Σ_{j ∈ N(i)} (1 / c_ij) · h_j W )                                              (eq. 2.1)

Messages flow along the edges of ``edge_index`` (2, edges): ``edge_index[0]`` is the source station j where the
passengers board, ``edge_index[1]`` the target station i where they alight (PyTorch Geometric's
"source_to_target"). An edge may carry a weight e_ji (default 1); parallel edges add up. In matrix form the layer
is H' = σ(b + Â H W) with Â[i, j] = e_ji / c_ij: row i lists what node i gathers, as a row of an attention matrix
does. The normalisation fixes 1/c_ij:

- ``"symmetric"`` (Kipf & Welling 2017, PyG's ``GCNConv``): Â = D̃^-1/2 (A + I) D̃^-1/2, so
  1/c_ij = e_ji / sqrt(d̃_i d̃_j), with d̃_i = Σ_j (A + I)[i, j] the weighted in-degree of i, self-loop included.
- ``"mean"``: Â = D̃^-1 (A + I), so 1/c_ij = e_ji / d̃_i: every node averages itself and its in-neighbours.
- ``"none"``: Â = A, 1/c_ij = e_ji: a plain weighted sum over the in-neighbours; no self-loops are added, so a
  node without one does not see its own features.

"symmetric" and "mean" add a unit self-loop (A + I) to every node that has none; a self-loop already present
keeps its own weight, as in PyG (several self-loops at one node add up, where PyG keeps one). A node whose
degree is 0 receives nothing. The activation σ is not part of the layer: the caller applies it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor, nn

Normalization = Literal["symmetric", "mean", "none"]
NORMALIZATIONS: tuple[Normalization, ...] = ("symmetric", "mean", "none")


def edges_from_adjacency(adjacency: Tensor) -> tuple[Tensor, Tensor]:
    """Edge list (2, edges) and weights (edges,) of a dense adjacency with A[i, j] = e_ji (edge j → i)."""
    target, source = adjacency.nonzero(as_tuple=True)
    return torch.stack([source, target]), adjacency[target, source]


def adjacency_matrix(edge_index: Tensor, edge_weight: Tensor, num_nodes: int) -> Tensor:
    """Dense (nodes, nodes) matrix with A[i, j] = Σ of the weights of the edges j → i."""
    source, target = edge_index
    adjacency = edge_weight.new_zeros(num_nodes, num_nodes)
    return adjacency.index_put_((target, source), edge_weight, accumulate=True)


def add_self_loops(edge_index: Tensor, edge_weight: Tensor, num_nodes: int) -> tuple[Tensor, Tensor]:
    """A + I: a unit self-loop at every node that has none; existing self-loops keep their weight."""
    source, target = edge_index
    has_loop = torch.zeros(num_nodes, dtype=torch.bool, device=edge_index.device)
    has_loop[source[source == target]] = True
    missing = (~has_loop).nonzero().flatten()
    edge_index = torch.cat([edge_index, missing.repeat(2, 1)], dim=1)
    return edge_index, torch.cat([edge_weight, edge_weight.new_ones(len(missing))])


def _check_normalization(normalization: str) -> None:
    """Reject a normalisation other than "symmetric", "mean" or "none"."""
    if normalization not in NORMALIZATIONS:
        raise ValueError(f"normalization must be one of {NORMALIZATIONS}, not {normalization!r}")


def _reciprocal(values: Tensor) -> Tensor:
    """1 / v, with 0 where v = 0 (a node of degree 0 receives nothing)."""
    return torch.where(values == 0, torch.zeros_like(values), values.reciprocal())


def propagation_weights(
    edge_index: Tensor,
    num_nodes: int,
    edge_weight: Tensor | None = None,
    normalization: Normalization = "symmetric",
) -> tuple[Tensor, Tensor]:
    """The edges j → i that carry messages (self-loops added as the rule requires) and their weights e_ji / c_ij.

    Returns ``(edge_index (2, edges'), weights (edges',))``; ``adjacency_matrix`` of the pair is Â of eq. 2.1.
    """
    _check_normalization(normalization)
    if edge_index.dim() != 2 or edge_index.shape[0] != 2 or edge_index.dtype != torch.long:
        shape = tuple(edge_index.shape)
        raise ValueError(f"edge_index must be a (2, edges) long tensor, not {shape} {edge_index.dtype}")
    if edge_index.numel() and not (0 <= int(edge_index.min()) and int(edge_index.max()) < num_nodes):
        raise ValueError(f"edge_index refers to nodes outside 0..{num_nodes - 1}")
    if edge_weight is None:
        edge_weight = torch.ones(edge_index.shape[1], device=edge_index.device)
    elif edge_weight.shape != (edge_index.shape[1],):
        raise ValueError(f"edge_weight must have shape ({edge_index.shape[1]},), got {tuple(edge_weight.shape)}")

    if normalization == "none":
        return edge_index, edge_weight
    edge_index, edge_weight = add_self_loops(edge_index, edge_weight, num_nodes)
    source, target = edge_index
    degree = edge_weight.new_zeros(num_nodes).index_add_(0, target, edge_weight)  # d̃_i: weighted in-degree
    if normalization == "symmetric":
        inverse_sqrt = _reciprocal(degree.sqrt())
        return edge_index, inverse_sqrt[source] * edge_weight * inverse_sqrt[target]
    return edge_index, edge_weight * _reciprocal(degree)[target]


def normalized_adjacency(
    edge_index: Tensor,
    num_nodes: int,
    edge_weight: Tensor | None = None,
    normalization: Normalization = "symmetric",
) -> Tensor:
    """Â (nodes, nodes) of eq. 2.1: Â[i, j] = e_ji / c_ij."""
    return adjacency_matrix(*propagation_weights(edge_index, num_nodes, edge_weight, normalization), num_nodes)


@dataclass(frozen=True)
class MessagePassingSteps:
    """One graph convolution, step by step (eq. 2.1 without σ), for showing how passengers move.

    ``edge_index`` and ``weights`` are the edges j → i that carry messages (self-loops included) and their 1/c_ij.
    """

    edge_index: Tensor  # (2, edges')
    weights: Tensor  # (edges',): 1/c_ij
    transformed: Tensor  # (nodes, out): h_j W
    messages: Tensor  # (edges', out): (1/c_ij) h_j W, boarded at j, riding to i
    aggregated: Tensor  # (nodes, out): the messages arriving at i, summed as they alight
    output: Tensor  # (nodes, out): b + aggregated


class GraphConvolution(nn.Module):
    """h_i' = b + Σ_{j ∈ N(i)} (1/c_ij) h_j W (eq. 2.1 before σ), with 1/c_ij from ``propagation_weights``.

    ``weight`` is W (in_features, out_features), initialised like PyG's ``GCNConv`` (Glorot uniform, zero bias).
    """

    bias: nn.Parameter | None  # b (out_features,), or None without bias

    def __init__(
        self, in_features: int, out_features: int, normalization: Normalization = "symmetric", bias: bool = True
    ) -> None:
        super().__init__()
        _check_normalization(normalization)
        self.normalization = normalization
        self.weight = nn.Parameter(torch.empty(in_features, out_features))
        self.register_parameter("bias", nn.Parameter(torch.empty(out_features)) if bias else None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Glorot-uniform W and zero b."""
        nn.init.xavier_uniform_(self.weight)
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def _propagation(self, x: Tensor, edge_index: Tensor, edge_weight: Tensor | None) -> tuple[Tensor, Tensor]:
        """Message-carrying edges and their 1/c_ij, computed in the dtype of x."""
        if edge_weight is None:
            edge_weight = x.new_ones(edge_index.shape[1])
        return propagation_weights(edge_index, x.shape[0], edge_weight.to(x.dtype), self.normalization)

    def _add_bias(self, aggregated: Tensor) -> Tensor:
        """The update step: + b."""
        return aggregated if self.bias is None else aggregated + self.bias

    def forward(self, x: Tensor, edge_index: Tensor, edge_weight: Tensor | None = None, dense: bool = False) -> Tensor:
        """H' = b + Â (H W) for x (nodes, in) → (nodes, out); ``dense`` builds Â as a full matrix, else sparse."""
        edges, weights = self._propagation(x, edge_index, edge_weight)
        n = x.shape[0]
        if dense:
            propagation = adjacency_matrix(edges, weights, n)
        else:
            propagation = torch.sparse_coo_tensor(edges.flip(0), weights, (n, n), check_invariants=True)  # rows: i
        return self._add_bias(propagation @ (x @ self.weight))

    def message_passing(self, x: Tensor, edge_index: Tensor, edge_weight: Tensor | None = None) -> MessagePassingSteps:
        """The same layer as explicit message passing (MPNN): message, aggregate, update."""
        edges, weights = self._propagation(x, edge_index, edge_weight)
        source, target = edges
        transformed = x @ self.weight
        messages = weights[:, None] * transformed[source]  # board at neighbour j, ride j → i
        aggregated = transformed.new_zeros(transformed.shape).index_add_(0, target, messages)  # alight at i
        return MessagePassingSteps(edges, weights, transformed, messages, aggregated, self._add_bias(aggregated))
