"""Attention rollout and attention flow (Abnar & Zuidema 2020, "Quantifying Attention Flow in Transformers",
arXiv 2005.00928, §3): how much each input token reaches each position at the top, through all layers.

Per layer l, the heads are averaged and the residual connection added: Ã^l = rownorm(mean_h A^l_h + I).

- Rollout: R^1 = Ã^1, R^l = Ã^l · R^(l−1); row i of R^L spreads position i at the top over the input tokens.
- Flow: a layered DAG with nodes (l, t), l = 0..L, and an edge (l, i) → (l−1, j) of capacity Ã^l[i, j]. The flow
  from top token i to input token j is the maximum flow from (L, i) to (0, j); each row is normalised to sum to 1.

A maximum-flow value does not depend on the algorithm: the reference code's Edmonds–Karp and networkx's shortest
augmenting path give the same numbers, the latter about five times faster here, on one residual network reused for
every pair. Flow solves one problem per (output, input) pair on L·n² edges, so its cost grows like L·n⁴ for the
whole matrix: requests beyond MAX_FLOW_WORK (a few seconds) are refused with FlowTooLongError.
"""

from __future__ import annotations

from collections.abc import Sequence

import networkx as nx
import numpy as np
from networkx.algorithms.flow import build_residual_network, shortest_augmenting_path

MAX_FLOW_WORK = 400_000  # maximum-flow problems × edges: the whole matrix up to n = 16 at L = 6, one row up to n = 40


class FlowTooLongError(ValueError):
    """The input is too long for attention flow; the message says so in words meant for the user."""


def residual_attention(attentions: np.ndarray) -> np.ndarray:
    """Ã^l = rownorm(mean_h A^l_h + I): (layers, heads, n, n) → (layers, n, n)."""
    averaged = attentions.astype(np.float64).mean(axis=1) + np.eye(attentions.shape[-1])
    return averaged / averaged.sum(axis=-1, keepdims=True)


def rollout(attentions: np.ndarray) -> np.ndarray:
    """R^1 … R^L (layers, n, n) from attentions (layers, heads, n, n); every row sums to 1. R^L is ``[-1]``."""
    layers = residual_attention(attentions)
    rolled = [layers[0]]
    for layer in layers[1:]:
        rolled.append(layer @ rolled[-1])
    return np.stack(rolled)


def flow_network(residual: np.ndarray) -> nx.DiGraph:
    """The layered DAG on nodes (l, t): an edge (l, i) → (l−1, j) of ``capacity`` Ã^l[i, j] for every non-zero
    weight; residual (layers, n, n) as from ``residual_attention``."""
    network = nx.DiGraph()
    for layer, matrix in enumerate(residual, start=1):
        for i, j in zip(*np.nonzero(matrix)):
            network.add_edge((layer, int(i)), (layer - 1, int(j)), capacity=float(matrix[i, j]))
    return network


def flow_work(layers: int, n: int, outputs: int) -> int:
    """Maximum-flow problems (outputs · n) × edges of the layered network (L · n²): what attention flow costs."""
    return outputs * n * layers * n * n


def attention_flow(attentions: np.ndarray, outputs: Sequence[int] | None = None) -> np.ndarray:
    """Flow rows (len(outputs), n) from attentions (layers, heads, n, n): row r is top token ``outputs[r]``
    spread over the input tokens, summing to 1. ``outputs`` defaults to every token."""
    residual = residual_attention(attentions)
    layers, n = residual.shape[0], residual.shape[-1]
    outputs = range(n) if outputs is None else outputs
    if flow_work(layers, n, len(outputs)) > MAX_FLOW_WORK:
        one_row = int((MAX_FLOW_WORK / layers) ** (1 / 3))  # the longest text whose single row fits
        if len(outputs) == 1:
            raise FlowTooLongError(
                f"Attention flow for one output token of a {n}-token text through {layers} layers is too slow to "
                f"compute here (one maximum-flow problem per input token); it works up to {one_row} tokens. "
                "Rollout, beside it, covers the whole text."
            )
        raise FlowTooLongError(
            f"Attention flow for {len(outputs)} of {n} tokens through {layers} layers is too slow to compute here "
            f"(one maximum-flow problem per pair of tokens). Choose a single output token (up to {one_row} tokens), "
            f"or a text of at most {int((MAX_FLOW_WORK / layers) ** 0.25)} tokens for the whole matrix."
        )
    network = flow_network(residual)
    residual_network = build_residual_network(network, "capacity")
    flows = np.array(
        [
            [
                nx.maximum_flow_value(
                    network, (layers, i), (0, j), flow_func=shortest_augmenting_path, residual=residual_network
                )
                for j in range(n)
            ]
            for i in outputs
        ]
    )
    return flows / flows.sum(axis=-1, keepdims=True)
