"""Reformer's LSH attention for one shared-QK head (Kitaev, Kaiser & Levskaya 2020, arXiv 2001.04451, §2).

Hash every token's query into a bucket per round, h(x) = argmax([xR; −xR]) with a random rotation R; sort each
round by (bucket, position); cut the sorted sequence into chunks of m slots; let every chunk attend to itself and
to the chunk before it; combine the rounds by their softmax normalisers (the paper's Fig. 2). The all-pairs
("soft") attention graph becomes a sparse ("hard") one.

Conventions — those of transformers' ``LSHSelfAttention``, the test oracle, so that the outputs agree to round-off:

- Rotations have shape (…heads, d, rounds, Σ_f b_f/2) and are one ``torch.randn`` draw from a generator seeded with
  ``seed``: HF's shape and order, so HF with ``hash_seed=seed`` draws the same matrix. A tuple ``n_buckets``
  (b_1, b_2, …) factorises the hash: R's columns split into blocks of b_f/2 and
  bucket = Σ_f (Π_{g<f} b_g) · argmax([xR_f; −xR_f]).
- Buckets are kept per round, (…, rounds, L), with ids in [0, Π_f b_f); HF's flat ids add round · Π_f b_f.
- Each round is sorted stably by bucket, i.e. by (bucket, position). The rounds' sorted sequences are laid end to end
  as one cyclic sequence of rounds · L slots, cut into chunks of m (the last one padded when m does not divide it).
- Look-back: a chunk also sees the chunk before it in that cyclic sequence, so the first chunk of round r sees the
  last chunk of round r − 1, and round 0's first chunk sees the last round's last chunk (HF's
  ``lsh_num_chunks_before=1, lsh_num_chunks_after=0``). A key that appears twice in a window counts twice.
- Keys are the normalised queries, k̂ = q / √(‖q‖² + d·ε) with ε = 1e-6 (HF's ``_len_and_dim_norm``); the logits are
  q·k̂ with no extra 1/√d.
- The logit of a key at the query's own position is replaced by −1e5, so a token attends to itself only when it has
  no other target; with ``causal``, keys at later positions get −1e9. Masks compare original positions.
- Rounds combine as o_i = Σ_r exp(z_r(i) − logsumexp_r z_r(i)) · o_i^(r), z_r(i) the log of query i's softmax
  normaliser in round r, without the paper's −log N_ij correction for keys seen in several rounds.
- A sequence no longer than one chunk (L ≤ m) gets full shared-QK attention, whatever the number of rounds.

Two consequences, shared with HF. A query that sees only itself in every round (causal, position 0) has z ≈ −1e5,
where float32 keeps about three digits, so its round weights sum to 1 only within ~1e-2. Causal masking keeps every
later key's vector out of an earlier query's output for given buckets, but the later tokens' buckets still move the
chunk boundaries, and with them which earlier keys a query sees.

The LSH path holds rounds · L / m chunks of m × 2m logits — memory O(rounds · L · m), never an L × L tensor.
``effective_attention`` spells out the dense (L, L) matrix those weights amount to, for display, beside
``full_attention``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor
from torch.nn import functional as F

SELF_LOGIT = -1e5  # a key at the query's own position (the paper's m_ii = 10⁵)
FUTURE_LOGIT = -1e9  # a key after the query, under causal masking
NORM_EPSILON = 1e-6  # in the normalisation of the keys, as HF's _len_norm


@dataclass(frozen=True)
class LSHConfig:
    """Settings of one LSH attention head: the hash (buckets, rounds, seed; §2), the chunk length m, causality."""

    n_buckets: int | tuple[int, ...] = 8  # even; a tuple (b_1, b_2, …) factorises the hash into Π_f b_f buckets
    n_hashes: int = 1  # hash rounds
    chunk_length: int = 64  # m; the paper takes m = 2L / n_buckets
    causal: bool = False
    seed: int = 0  # of the random rotations

    def __post_init__(self) -> None:
        if any(factor % 2 for factor in self.bucket_factors):
            raise ValueError(f"every bucket count must be even, got {self.n_buckets}")

    @property
    def bucket_factors(self) -> tuple[int, ...]:
        """(b_1, b_2, …): the factors of the hash, one of them when it is not factorised."""
        return (self.n_buckets,) if isinstance(self.n_buckets, int) else tuple(self.n_buckets)

    @property
    def total_buckets(self) -> int:
        """Π_f b_f: how many distinct bucket ids a round can give."""
        return math.prod(self.bucket_factors)


def random_rotations(
    config: LSHConfig, d_head: int, heads: tuple[int, ...] = (), dtype: torch.dtype = torch.float32
) -> Tensor:
    """R ~ N(0, 1) of shape (*heads, d_head, rounds, Σ_f b_f/2), drawn from ``config.seed`` as HF draws it (§2)."""
    generator = torch.Generator().manual_seed(config.seed)
    shape = (*heads, d_head, config.n_hashes, sum(factor // 2 for factor in config.bucket_factors))
    return torch.randn(shape, generator=generator, dtype=dtype)


def hash_buckets(vectors: Tensor, rotations: Tensor, config: LSHConfig) -> Tensor:
    """Angular LSH h(x) = argmax([xR; −xR]) per round (§2, "Locality sensitive hashing"): (…, L, d) → (…, rounds, L).

    rotations (…, d, rounds, Σ_f b_f/2) broadcast against the vectors' leading axes (e.g. one per head).
    """
    rotated = vectors.unsqueeze(-3) @ rotations.movedim(-2, -3)  # (…, rounds, L, Σ_f b_f/2)
    blocks = rotated.split([factor // 2 for factor in config.bucket_factors], dim=-1)
    buckets, place = torch.zeros(rotated.shape[:-1], dtype=torch.long), 1
    for factor, block in zip(config.bucket_factors, blocks):
        buckets = buckets + place * torch.cat([block, -block], dim=-1).argmax(dim=-1)
        place *= factor
    return buckets


def sort_order(buckets: Tensor) -> Tensor:
    """Every round's positions sorted by (bucket, position) (§2, "LSH attention"): (…, rounds, L) → same shape."""
    return buckets.argsort(dim=-1, stable=True)


def chunk_ids(length: int, config: LSHConfig) -> Tensor:
    """The chunk of every sorted slot, (rounds, L): the rounds end to end, cut every m slots; one chunk if L ≤ m."""
    if length <= config.chunk_length:
        return torch.zeros(config.n_hashes, length, dtype=torch.long)
    return torch.arange(config.n_hashes * length).view(config.n_hashes, length) // config.chunk_length


def normalised_keys(qk: Tensor) -> Tensor:
    """Shared-QK keys k̂_j = q_j / √(‖q_j‖² + d·ε), unit length up to ε (§2, "Shared-QK attention"): (…, L, d)."""
    return qk * torch.rsqrt(qk.pow(2).mean(dim=-1, keepdim=True) + NORM_EPSILON) / math.sqrt(qk.shape[-1])


def full_attention(qk: Tensor, causal: bool = False) -> Tensor:
    """All-pairs shared-QK attention softmax_j(q_i·k̂_j), self and causal masks as above: (…, L, d) → (…, L, L)."""
    positions = torch.arange(qk.shape[-2])
    logits = qk @ normalised_keys(qk).transpose(-1, -2)  # (…, L, L)
    return _masked_softmax(logits, positions, positions, causal, padding=qk.shape[-2])[0]


def lsh_attention(qk: Tensor, values: Tensor, buckets: Tensor, config: LSHConfig) -> Tensor:
    """Shared-QK LSH attention (§2): qk (…, L, d), values (…, L, d_v), buckets (…, rounds, L) → (…, L, d_v)."""
    if qk.shape[-2] <= config.chunk_length:
        return full_attention(qk, config.causal) @ values
    order = sort_order(buckets)
    probabilities, z, key_positions = _window_softmax(qk, order, config)  # (…, C, m, 2m), (…, C, m), (…, C, 2m)
    return _combine_rounds(probabilities @ _gather_rows(values, key_positions), z, order)


def effective_attention(qk: Tensor, buckets: Tensor, config: LSHConfig) -> Tensor:
    """The dense (…, L, L) matrix of the combined weights each query gives each key; rows sum to 1. For display."""
    length = qk.shape[-2]
    if length <= config.chunk_length:
        return full_attention(qk, config.causal)
    order = sort_order(buckets)
    probabilities, z, key_positions = _window_softmax(qk, order, config)
    rows = probabilities.new_zeros(*probabilities.shape[:-1], length + 1)  # (…, C, m, L + 1); column L: padding
    rows.scatter_add_(-1, key_positions.unsqueeze(-2).expand_as(probabilities), probabilities)
    return _combine_rounds(rows[..., :length], z, order)


def mass_kept(full: Tensor, lsh: Tensor) -> float:
    """Share of full attention's probability mass that falls on keys LSH attends to (lsh > 0), mean over queries."""
    return float((full * (lsh > 0)).sum(dim=-1).mean())


def top_k_recall(full: Tensor, lsh: Tensor, k: int) -> float:
    """Share of each query's k strongest keys under full attention that LSH attends to, mean over queries."""
    strongest = full.topk(k, dim=-1).indices  # (…, L, k)
    return float((lsh > 0).take_along_dim(strongest, dim=-1).double().mean())


def _masked_softmax(
    logits: Tensor, query_positions: Tensor, key_positions: Tensor, causal: bool, padding: int
) -> tuple[Tensor, Tensor]:
    """Self (−1e5), causal (−1e9) and padding masks m(j, P_i), then softmax (§2): probabilities and z = log Σ exp.

    logits (…, Q, K), overwritten in place; query_positions (…, Q), key_positions (…, K); key position ``padding``
    marks a padding slot, which gets no weight. Returns probabilities (…, Q, K) and z (…, Q).
    """
    queries, keys = query_positions.unsqueeze(-1), key_positions.unsqueeze(-2)  # (…, Q, 1), (…, 1, K)
    if causal:
        logits.masked_fill_(keys > queries, FUTURE_LOGIT)
    logits.masked_fill_(keys == queries, SELF_LOGIT)
    logits.masked_fill_(keys == padding, torch.finfo(logits.dtype).min)
    z = logits.logsumexp(dim=-1, keepdim=True)
    return logits.sub_(z).exp_(), z.squeeze(-1)


def _gather_rows(rows: Tensor, index: Tensor) -> Tensor:
    """Batched row lookup: rows (…, S, X), index (…, *shape) in [0, S] → (…, *shape, X); index S gives a zero row."""
    *batch, length, width = rows.shape
    padded = F.pad(rows, (0, 0, 0, 1)).reshape(-1, width)  # every slice's S rows and then a zero row
    starts = torch.arange(math.prod(batch)).view(*batch, *[1] * (index.dim() - len(batch))) * (length + 1)
    return padded.index_select(0, (index + starts).flatten()).view(*index.shape, width)


def _window_softmax(qk: Tensor, order: Tensor, config: LSHConfig) -> tuple[Tensor, Tensor, Tensor]:
    """Each sorted slot's softmax over its chunk and the chunk before it: probabilities, z and the keys' positions.

    The rounds' sorted sequences, end to end, are cut into C = ⌈rounds·L / m⌉ chunks of m slots (position L marks the
    padding of the last one); slot i sees the window P̃_i = {j : ⌊s_i/m⌋ − 1 ≤ ⌊s_j/m⌋ ≤ ⌊s_i/m⌋}, wrapping around.
    qk (…, L, d), order (…, rounds, L) → probabilities (…, C, m, 2m), z (…, C, m), key positions (…, C, 2m).
    """
    length, m = qk.shape[-2], config.chunk_length
    slots = order.flatten(-2)  # (…, rounds·L): the position in each sorted slot
    query_positions = F.pad(slots, (0, -slots.shape[-1] % m), value=length).unflatten(-1, (-1, m))  # (…, C, m)
    key_positions = torch.cat([query_positions.roll(1, dims=-2), query_positions], dim=-1)  # (…, C, 2m)
    queries = _gather_rows(qk, query_positions)  # (…, C, m, d)
    logits = queries @ _gather_rows(normalised_keys(qk), key_positions).transpose(-1, -2)  # (…, C, m, 2m)
    probabilities, z = _masked_softmax(logits, query_positions, key_positions, config.causal, padding=length)
    return probabilities, z, key_positions


def _combine_rounds(per_slot: Tensor, z: Tensor, order: Tensor) -> Tensor:
    """o_i = Σ_r exp(z_r(i) − logsumexp_r z_r(i)) · o_i^(r) (§2, "Multi-round LSH attention").

    per_slot (…, C, m, X) and z (…, C, m) in slot order; order (…, rounds, L), the position each slot holds.
    Returns (…, L, X) in token order.
    """
    rounds, length = order.shape[-2:]
    slots = order.argsort(dim=-1) + torch.arange(rounds).unsqueeze(-1) * length  # (…, R, L): each token's slots
    per_round = _gather_rows(per_slot.flatten(-3, -2), slots)  # (…, R, L, X)
    z = _gather_rows(z.flatten(-2).unsqueeze(-1), slots)  # (…, R, L, 1)
    return ((z - z.logsumexp(dim=-3, keepdim=True)).exp() * per_round).sum(dim=-3)
