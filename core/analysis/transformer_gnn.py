"""One Transformer encoder layer recomputed as the chapter's graph convolution (eq. 2.1) on its attention graphs
(source chapter §2.4; Vaswani et al. 2017, arXiv 1706.03762, §3.2–3.3).

Term by term, for head h of the layer, with nodes = tokens and node features h_j (the layer's input):

    eq. 2.1:  h_i' = b + Σ_{j ∈ N(i)} (1 / c_ij) · h_j W
    head h:   o_i  = b_V^h + Σ_j A_h[i, j] · h_j W_V^h

N(i) = every token, 1/c_ij = A_h[i, j], W = W_V^h, b = b_V^h, and no self-loop beyond the attention's own A_h[i, i]
(b_V^h comes out of the sum because every row of A_h sums to 1). The heads' outputs are concatenated and projected,
and the node update is the rest of the layer:

    a_i   = LayerNorm(h_i + concat_h(o_i^h) W_O + b_O)
    h_i'' = LayerNorm(a_i + FFN(a_i))

The messages run through core.gnn.gcn's ``GraphConvolution.message_passing`` with normalisation "none", the kernel of
the railway page; ``edges_from_adjacency`` reads A_h[i, j] as the weight of edge j → i, a query row gathering from
its keys.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from core.gnn.gcn import GraphConvolution, MessagePassingSteps, edges_from_adjacency
from core.transformer.attention import additive_mask, merge_heads
from core.transformer.encoder import Encoder


@dataclass(frozen=True)
class AttentionGraphs:
    """A layer's input nodes and the graphs its heads compute from them, as the encoder runs the layer."""

    layer: int
    nodes: Tensor  # (n, hidden): h, the layer's input
    attention: Tensor  # (heads, n, n): A_h[i, j], the weight of edge j → i
    queries: Tensor  # (heads, n, head_size)
    keys: Tensor  # (heads, n, head_size)
    encoder_output: Tensor  # (n, hidden): the encoder's own output of the layer


@torch.no_grad()
def attention_graphs(encoder: Encoder, layer: int, nodes: Tensor | np.ndarray) -> AttentionGraphs:
    """Run ``encoder`` layer ``layer`` on one sentence's nodes (n, hidden) and keep its attention graphs."""
    nodes = torch.as_tensor(nodes, dtype=torch.float32)
    mask = additive_mask(torch.ones(1, nodes.shape[0]))
    output, attention, queries, keys, _ = encoder.layer(nodes[None], mask, layer)
    return AttentionGraphs(layer, nodes, attention[0], queries[0], keys[0], output[0])


def value_convolution(encoder: Encoder, layer: int, head: int) -> GraphConvolution:
    """Eq. 2.1 for head h: W = W_V^h (hidden, head_size), b = b_V^h, 1/c_ij given by the edge weights."""
    weight, bias = encoder.layers[layer]["value"]  # (hidden, hidden): output features × input features
    size = encoder.config.head_size
    rows = slice(head * size, (head + 1) * size)
    convolution = GraphConvolution(encoder.config.hidden_size, size, normalization="none", bias=bias is not None)
    with torch.no_grad():
        convolution.weight.copy_(weight[rows].T)
        if bias is not None and convolution.bias is not None:
            convolution.bias.copy_(bias[rows])
    return convolution


@dataclass(frozen=True)
class LayerAsMessagePassing:
    """One encoder layer as message passing, step by step; every tensor is one sentence's."""

    graphs: AttentionGraphs
    adjacency: Tensor  # (heads, n, n): the graphs the messages ran on (the attention, or a pruned version)
    heads: tuple[MessagePassingSteps, ...]  # per head: messages A_h[i, j] · h_j W_V^h on j → i, summed at i, + b_V^h
    concatenated: Tensor  # (n, hidden): the heads' outputs side by side
    attention_output: Tensor  # (n, hidden): concat W_O + b_O
    attended: Tensor  # (n, hidden): LayerNorm(h + attention_output)
    feed_forward: Tensor  # (n, hidden): FFN(attended)
    output: Tensor  # (n, hidden): LayerNorm(attended + feed_forward), the updated nodes

    @property
    def max_difference(self) -> float:
        """max |output − the encoder's own layer output|: round-off when ``adjacency`` is the attention itself."""
        return float((self.output - self.graphs.encoder_output).abs().max())


@torch.no_grad()
def layer_as_message_passing(
    encoder: Encoder, graphs: AttentionGraphs, adjacency: Tensor | None = None
) -> LayerAsMessagePassing:
    """Recompute the layer of ``graphs`` by message passing over ``adjacency`` (heads, n, n), default the
    attention itself; every row of ``adjacency`` must sum to 1."""
    adjacency = graphs.attention if adjacency is None else adjacency
    heads = tuple(
        value_convolution(encoder, graphs.layer, head).message_passing(graphs.nodes, *edges_from_adjacency(graph))
        for head, graph in enumerate(adjacency)
    )
    concatenated = merge_heads(torch.stack([steps.output for steps in heads])[None])[0]  # (n, hidden)
    attention_output, attended, feed_forward, output = encoder.update(graphs.nodes, concatenated, graphs.layer)
    return LayerAsMessagePassing(
        graphs, adjacency, heads, concatenated, attention_output, attended, feed_forward, output
    )
