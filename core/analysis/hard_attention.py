"""Soft versus hard structure (source chapter §2.4; Reformer, Kitaev et al. 2020, arXiv 2001.04451): the network
run as message passing (core.analysis.transformer_gnn) on pruned attention graphs, and how far its output moves.

Every head's complete, weighted graph A_h becomes a sparse one: keep a mask of edges, zero the rest and renormalise
each row to sum to 1, Â_h[i, j] = A_h[i, j]·M[i, j] / Σ_k A_h[i, k]·M[i, k]. The mask comes from
core.analysis.graph's rules (top-k per row, weight ≥ threshold, exBERT's mass share) or from Reformer's LSH
buckets (``SameBucket``); every row also keeps its strongest edge, so that no token is left without messages.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from core.analysis.graph import Pruning, prune, top_k_mask
from core.analysis.transformer_gnn import AttentionGraphs, attention_graphs, layer_as_message_passing
from core.lsh.reformer import LSHConfig, hash_buckets, random_rotations
from core.transformer.models import Network


@dataclass(frozen=True)
class SameBucket:
    """Reformer's hard structure: edge j → i is kept when query i and key j, hashed with the same random rotations,
    share a bucket in at least one round (BERT's heads have separate Q and K; Reformer shares them)."""

    n_buckets: int = 4  # 1, or an even number (core.lsh.reformer's angular hash)
    n_hashes: int = 1
    seed: int = 0


EdgeRule = Pruning | SameBucket
KEEP_ALL = Pruning(rule="all")


def bucket_ids(vectors: Tensor, rule: SameBucket) -> Tensor:
    """Each vector's bucket per round: (heads, n, head_size) → (heads, rounds, n); one rotation per head."""
    heads, n, size = vectors.shape
    if rule.n_buckets == 1:  # one bucket holds every token; core.lsh.reformer's hash needs an even count
        return torch.zeros(heads, rule.n_hashes, n, dtype=torch.long)
    config = LSHConfig(n_buckets=rule.n_buckets, n_hashes=rule.n_hashes, seed=rule.seed)
    return hash_buckets(vectors, random_rotations(config, size, heads=(heads,)), config)


def same_bucket_mask(query_buckets: Tensor, key_buckets: Tensor) -> np.ndarray:
    """M[h, i, j] = query i and key j share a bucket in some round: (heads, rounds, n) twice → (heads, n, n)."""
    shared = query_buckets[..., :, None] == key_buckets[..., None, :]  # (heads, rounds, n, n)
    return shared.any(dim=-3).numpy()


def keep_mask(graphs: AttentionGraphs, rule: EdgeRule) -> np.ndarray:
    """The edges (heads, n, n) that ``rule`` keeps in the layer's graphs, plus every row's strongest edge; never a
    pair the graph lacks (j > i in a decoder's causal graph)."""
    attention = graphs.attention.numpy()
    if isinstance(rule, SameBucket):
        keep = same_bucket_mask(bucket_ids(graphs.queries, rule), bucket_ids(graphs.keys, rule))
    else:
        keep = prune(attention, rule)
    return (keep | top_k_mask(attention, 1)) & graphs.edges.numpy()


def renormalised(attention: Tensor, keep: np.ndarray) -> Tensor:
    """Â: the kept edges of attention (…, n, n), each row rescaled to sum to 1."""
    kept = attention * torch.from_numpy(keep)
    return kept / kept.sum(dim=-1, keepdim=True)


@dataclass(frozen=True)
class HardRun:
    """The network's top-layer node states on pruned graphs, and how many edges the graphs kept."""

    final_states: Tensor  # (n, hidden)
    kept_edges: int  # over every layer and head
    all_edges: int  # layers · heads · the graph's edges (n², or n(n + 1)/2 in a decoder's causal graph)

    @property
    def share_kept(self) -> float:
        return self.kept_edges / self.all_edges


@torch.no_grad()
def run_hard(
    network: Network, input_ids: Sequence[int], token_type_ids: Sequence[int] | None, rule: EdgeRule
) -> HardRun:
    """Embed one sentence, then run every layer as message passing on its pruned attention graphs; each layer's
    graphs are computed from the previous pruned layer's output."""
    segments = None if token_type_ids is None else torch.tensor([token_type_ids])
    states = network.embed(torch.tensor([input_ids]), segments)[0]  # (n, hidden)
    kept_edges = all_edges = 0
    for layer in range(network.config.num_layers):
        graphs = attention_graphs(network, layer, states)
        keep = keep_mask(graphs, rule)
        kept_edges += int(keep.sum())
        all_edges += network.config.num_heads * int(graphs.edges.sum())
        states = layer_as_message_passing(network, graphs, renormalised(graphs.attention, keep)).output
    return HardRun(states, kept_edges, all_edges)


@dataclass(frozen=True)
class SweepPoint:
    """One rule's share of edges kept and the mean cosine similarity of the top-layer token states to the
    unpruned network's."""

    rule: EdgeRule
    share_kept: float
    similarity: float


def sweep_rules(n: int) -> list[EdgeRule]:
    """A spread of rules for an n-token sentence: top-k for k = 1, 2, 4, … n, thresholds, LSH bucket counts."""
    top_k = [Pruning(rule="top_k", k=k) for k in sorted({2**power for power in range(n.bit_length())} | {n})]
    thresholds = [Pruning(rule="threshold", threshold=t) for t in (0.5, 0.3, 0.2, 0.1, 0.05, 0.02)]
    buckets = [SameBucket(n_buckets=b, n_hashes=2) for b in (32, 16, 8, 4, 2)]
    return [*top_k, *thresholds, *buckets]


def sweep(
    run: Callable[[EdgeRule], HardRun],
    rules: Sequence[EdgeRule],
    progress: Callable[[int, int], None] | None = None,
) -> list[SweepPoint]:
    """Each rule's share of edges kept and the mean cosine similarity of its top-layer token states to the soft
    network's (``KEEP_ALL``).

    ``run(rule)`` runs the network hard on one sentence: ``functools.partial(run_hard, network, input_ids,
    token_type_ids)``, or a cached copy of it. ``progress(done, total)`` is called after each rule."""
    soft = run(KEEP_ALL).final_states
    points = []
    for done, rule in enumerate(rules, start=1):
        hard = run(rule)
        similarity = F.cosine_similarity(hard.final_states, soft, dim=-1).mean()
        points.append(SweepPoint(rule, hard.share_kept, float(similarity)))
        if progress is not None:
            progress(done, len(rules))
    return points
