"""One Transformer layer, encoder or decoder, recomputed as the chapter's graph convolution (eq. 2.1) on its
attention graphs (source chapter §2.4; Vaswani et al. 2017, arXiv 1706.03762, §3.2–3.3).

Term by term, for head h of the layer, with nodes = tokens and node features x_j (what the heads read: the layer's
input h_j in a post-norm encoder, Norm₁(h_j) in a pre-norm decoder):

    eq. 2.1:  h_i' = b + Σ_{j ∈ N(i)} (1 / c_ij) · x_j W
    head h:   o_i  = b_V^h + Σ_j A_h[i, j] · x_j W_V^h

N(i) = every token (an encoder's complete graph) or the tokens j ≤ i (a decoder's causal graph), 1/c_ij = A_h[i, j],
W = W_V^h, b = b_V^h, and no self-loop beyond the attention's own A_h[i, i] (b_V^h comes out of the sum because
every row of A_h sums to 1). The heads' outputs are concatenated and projected, and the node update is the rest of
the layer:

    encoder (post-norm):  a_i = LayerNorm(h_i + concat_h(o_i^h) W_O + b_O),   h_i'' = LayerNorm(a_i + FFN(a_i))
    decoder (pre-norm):   a_i = h_i + concat_h(o_i^h) W_O (+ b_O),             h_i'' = a_i + FFN(Norm₂(a_i))

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
from core.transformer.attention import merge_heads
from core.transformer.models import Network


@dataclass(frozen=True)
class AttentionGraphs:
    """A layer's input nodes and the graphs its heads compute from them, as the network runs the layer."""

    layer: int
    nodes: Tensor  # (n, hidden): h, the layer's input
    attention_input: Tensor  # (n, hidden): x, what the heads read: h, or Norm₁(h) in a pre-norm decoder
    attention: Tensor  # (heads, n, n): A_h[i, j], the weight of edge j → i
    edges: Tensor  # (n, n) bool: the edges j → i the graph has (all of them; j ≤ i in a decoder's causal graph)
    queries: Tensor  # (heads, n, head_size)
    keys: Tensor  # (heads, n, head_size)
    network_output: Tensor  # (n, hidden): the network's own output of the layer


@torch.no_grad()
def attention_graphs(network: Network, layer: int, nodes: Tensor | np.ndarray) -> AttentionGraphs:
    """Run ``network`` layer ``layer`` on one sentence's nodes (n, hidden) and keep its attention graphs."""
    nodes = torch.tensor(np.asarray(nodes), dtype=torch.float32)  # a copy: the app's shared results are read-only
    mask = network.attention_bias(torch.ones(1, nodes.shape[0]))
    output, attention, queries, keys, _ = network.layer(nodes[None], mask, layer)
    edges = (mask[0, 0] == 0).expand(nodes.shape[0], nodes.shape[0])  # (n, n) from (1 or n, n)
    return AttentionGraphs(
        layer, nodes, network.attention_input(nodes, layer), attention[0], edges, queries[0], keys[0], output[0]
    )


def value_convolution(network: Network, layer: int, head: int) -> GraphConvolution:
    """Eq. 2.1 for head h: W = W_V^h (hidden, head_size), b = b_V^h, 1/c_ij given by the edge weights."""
    weight, bias = network.value_projection(layer, head)  # (head_size, hidden): output features × input features
    convolution = GraphConvolution(
        network.config.hidden_size, network.config.head_size, normalization="none", bias=bias is not None
    )
    with torch.no_grad():
        convolution.weight.copy_(weight.T)
        if bias is not None and convolution.bias is not None:
            convolution.bias.copy_(bias)
    return convolution


@dataclass(frozen=True)
class LayerAsMessagePassing:
    """One layer as message passing, step by step; every tensor is one sentence's."""

    graphs: AttentionGraphs
    adjacency: Tensor  # (heads, n, n): the graphs the messages ran on (the attention, or a pruned version)
    heads: tuple[MessagePassingSteps, ...]  # per head: messages A_h[i, j] · x_j W_V^h on j → i, summed at i, + b_V^h
    concatenated: Tensor  # (n, heads · head_size): the heads' outputs side by side
    attention_output: Tensor  # (n, hidden): concat W_O + b_O
    attended: Tensor  # (n, hidden): LayerNorm(h + attention_output), or h + attention_output (pre-norm)
    feed_forward: Tensor  # (n, hidden): FFN(attended), or FFN(Norm₂(attended)) (pre-norm)
    output: Tensor  # (n, hidden): LayerNorm(attended + feed_forward) or attended + feed_forward, the updated nodes

    @property
    def max_difference(self) -> float:
        """max |output − the network's own layer output|: round-off when ``adjacency`` is the attention itself."""
        return float((self.output - self.graphs.network_output).abs().max())


@torch.no_grad()
def layer_as_message_passing(
    network: Network, graphs: AttentionGraphs, adjacency: Tensor | None = None
) -> LayerAsMessagePassing:
    """Recompute the layer of ``graphs`` by message passing over ``adjacency`` (heads, n, n), default the
    attention itself; every row of ``adjacency`` must sum to 1."""
    adjacency = graphs.attention if adjacency is None else adjacency
    heads = tuple(
        value_convolution(network, graphs.layer, head).message_passing(
            graphs.attention_input, *edges_from_adjacency(graph)
        )
        for head, graph in enumerate(adjacency)
    )
    concatenated = merge_heads(torch.stack([steps.output for steps in heads])[None])[0]  # (n, heads · head_size)
    attention_output, attended, feed_forward, output = network.update(graphs.nodes, concatenated, graphs.layer)
    return LayerAsMessagePassing(
        graphs, adjacency, heads, concatenated, attention_output, attended, feed_forward, output
    )
