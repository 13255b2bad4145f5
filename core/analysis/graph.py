"""One attention head as a weighted, directed word graph.

An attention matrix ``A`` (n × n, rows = queries "from", columns = keys "to", every row sums to 1) is the
adjacency matrix of a complete directed graph on the tokens. The functions here reshape that matrix (merge
subwords into words, drop special tokens, average heads) and prune it into a readable sparse graph.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import networkx as nx
import numpy as np

PruneRule = Literal["all", "threshold", "top_k", "mass"]


@dataclass(frozen=True)
class Pruning:
    """Which edges of an attention matrix to keep.

    rule: ``"all"`` keeps every edge; ``"threshold"`` keeps A[i, j] ≥ ``threshold``; ``"top_k"`` keeps each row's
    ``k`` largest weights; ``"mass"`` keeps each row's strongest edges until they cover ``mass`` of the row's total
    (exBERT's rule).
    """

    rule: PruneRule = "mass"
    threshold: float = 0.1
    k: int = 3
    mass: float = 0.7


def threshold_mask(attention: np.ndarray, threshold: float) -> np.ndarray:
    """Keep A[i, j] ≥ threshold."""
    return attention >= threshold


def top_k_mask(attention: np.ndarray, k: int) -> np.ndarray:
    """Keep the k largest entries of every row (ties broken by position, earliest first)."""
    n = attention.shape[-1]
    k = max(0, min(k, n))
    order = np.argsort(-attention, axis=-1, kind="stable")[..., :k]
    keep = np.zeros(attention.shape, dtype=bool)
    np.put_along_axis(keep, order, True, axis=-1)
    return keep


def mass_mask(attention: np.ndarray, mass: float) -> np.ndarray:
    """Keep each row's strongest edges, in decreasing order, until their sum reaches ``mass`` × the row's sum.

    Edge j of row i is kept iff the weight of the edges ranked strictly before it is < mass · Σ_j A[i, j]; so
    the smallest prefix of the sorted row that covers the share is kept (at least one edge per non-empty row).
    """
    order = np.argsort(-attention, axis=-1, kind="stable")
    ranked = np.take_along_axis(attention, order, axis=-1)
    mass_before = np.cumsum(ranked, axis=-1) - ranked
    row_total = attention.sum(axis=-1, keepdims=True)
    keep_ranked = (mass_before < mass * row_total) & (ranked > 0)
    keep = np.zeros(attention.shape, dtype=bool)
    np.put_along_axis(keep, order, keep_ranked, axis=-1)
    return keep


def prune(attention: np.ndarray, pruning: Pruning) -> np.ndarray:
    """Boolean mask (same shape as ``attention``) of the edges that ``pruning`` keeps."""
    if pruning.rule == "all":
        return np.ones(attention.shape, dtype=bool)
    if pruning.rule == "threshold":
        return threshold_mask(attention, pruning.threshold)
    if pruning.rule == "top_k":
        return top_k_mask(attention, pruning.k)
    if pruning.rule == "mass":
        return mass_mask(attention, pruning.mass)
    raise ValueError(f"unknown pruning rule {pruning.rule!r}")


def membership_matrix(groups: Sequence[Sequence[int]], n_tokens: int) -> np.ndarray:
    """S (groups × tokens) with S[g, t] = 1 when token t belongs to group g."""
    membership = np.zeros((len(groups), n_tokens), dtype=np.float64)
    for g, tokens in enumerate(groups):
        membership[g, list(tokens)] = 1.0
    return membership


def word_attention(attention: np.ndarray, groups: Sequence[Sequence[int]]) -> np.ndarray:
    """Subword attention → word attention (Clark et al. 2019, §4.1).

    Attention *to* a word is the sum of its tokens' columns, attention *from* a word the mean of its tokens' rows:
    A_w = diag(1/|g|) S A Sᵀ. Rows stay stochastic. ``attention`` may carry leading axes (…, n, n).
    """
    membership = membership_matrix(groups, attention.shape[-1]).astype(np.result_type(attention.dtype, np.float32))
    mean_rows = membership / membership.sum(axis=1, keepdims=True)
    # in the attention's own precision: a float64 factor on float32 attention leaves BLAS (~60 × slower at 128 tokens)
    return (mean_rows @ attention @ membership.T).astype(attention.dtype)


def drop_tokens(attention: np.ndarray, keep: Sequence[int]) -> np.ndarray:
    """Remove the rows and columns not in ``keep`` and renormalise each remaining row to sum to 1.

    A row left with no mass (it attended only to dropped tokens) becomes uniform over the kept tokens.
    """
    index = np.asarray(keep, dtype=int)
    kept = attention[..., index[:, None], index[None, :]].astype(np.float64)
    row_total = kept.sum(axis=-1, keepdims=True)
    uniform = np.full_like(kept, 1.0 / max(len(index), 1))
    renormalised = np.divide(kept, row_total, out=uniform, where=row_total > 0)
    return renormalised.astype(attention.dtype)


def attention_graph(attention: np.ndarray, labels: Sequence[str], keep: np.ndarray | None = None) -> nx.DiGraph:
    """Directed graph with node i labelled ``labels[i]`` and an edge i → j of ``weight`` A[i, j] for every kept edge.

    Nodes are the integers 0..n−1 in sentence order; each carries ``label`` and ``position`` attributes. Edges
    carry ``weight`` (the attention probability) and ``share`` (the weight over the largest weight in the matrix).
    """
    n = attention.shape[0]
    if attention.shape != (n, n) or len(labels) != n:
        raise ValueError(f"attention {attention.shape} does not match {len(labels)} labels")
    keep = np.ones((n, n), dtype=bool) if keep is None else keep
    graph = nx.DiGraph()
    for i, label in enumerate(labels):
        graph.add_node(i, label=label, position=i)
    largest = float(attention.max()) if attention.size else 1.0
    for i, j in zip(*np.nonzero(keep & (attention > 0))):
        weight = float(attention[i, j])
        graph.add_edge(int(i), int(j), weight=weight, share=weight / largest if largest > 0 else 0.0)
    return graph


def neighbourhood(attention: np.ndarray, centre: int, k: int) -> list[int]:
    """The nodes of ``centre``'s neighbourhood in A (n × n), in sentence order: ``centre``, the k nodes it attends
    to most (its heaviest out-edges) and the k nodes that attend to it most (its heaviest in-edges).

    A readable graph of a long text: at most 2k + 1 nodes, picked by weight wherever they are in the text.
    """
    others = np.arange(attention.shape[0]) != centre  # (n,) every node but the centre
    candidates = np.flatnonzero(others)
    targets = candidates[np.argsort(-attention[centre, others], kind="stable")[:k]]
    sources = candidates[np.argsort(-attention[others, centre], kind="stable")[:k]]
    return sorted({centre, *targets.tolist(), *sources.tolist()})


def induced_subgraph(graph: nx.DiGraph, nodes: Sequence[int]) -> nx.DiGraph:
    """The part of an ``attention_graph`` on ``nodes``: their edges among themselves, each edge's ``share``
    recomputed against the heaviest edge kept, so that a drawing's widths span their whole range again (in a long
    text every weight is small against the matrix's largest)."""
    part = graph.subgraph(nodes).copy()
    largest = max((weight for _, _, weight in part.edges(data="weight")), default=0.0)
    for _, _, data in part.edges(data=True):
        data["share"] = data["weight"] / largest if largest > 0 else 0.0
    return part
