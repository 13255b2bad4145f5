"""What the LSH page shows, computed with core.lsh.reformer: one head hashed, the windows a token sees, quality
sweeps, the 2-D toy of the hash and synthetic long sequences. Readings of the benchmark table live in core.lsh.scaling.

Numpy in, numpy out (torch inside), in float64: near-ties in the hash's argmax then fall the same way on every run.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from torch.nn import functional as F

from core.lsh.reformer import (
    LSHConfig,
    chunk_ids,
    effective_attention,
    full_attention,
    hash_buckets,
    mass_kept,
    random_rotations,
    sort_order,
    top_k_recall,
)

SyntheticKind = Literal["duplicates", "clusters", "random"]
SYNTHETIC_KINDS: tuple[SyntheticKind, ...] = ("duplicates", "clusters", "random")
SYNTHETIC_NORM = 12.0  # length of a synthetic query: the logit of an exact duplicate (q·k̂ = ‖q‖)
CLUSTER_SIZE = 16
CLUSTER_NOISE = 1.0  # per-coordinate noise of a cluster member, in units of 1/√d (its centre has length 1)


@dataclass(frozen=True)
class HeadHashing:
    """One head's queries hashed and attended the LSH way, beside full shared-QK attention.

    buckets (rounds, L): each token's bucket per round; order (rounds, L): the token in each sorted slot;
    chunks (rounds, L): the chunk of each sorted slot; full, lsh (L, L): full shared-QK attention and the LSH
    attention it becomes (rows = queries, each sums to 1).
    """

    config: LSHConfig
    buckets: np.ndarray
    order: np.ndarray
    chunks: np.ndarray
    full: np.ndarray
    lsh: np.ndarray

    @property
    def length(self) -> int:
        return self.full.shape[0]

    @property
    def one_chunk(self) -> bool:
        """L ≤ m: the whole sequence is one chunk, and LSH attention is full attention."""
        return self.length <= self.config.chunk_length

    def sizes(self) -> np.ndarray:
        """(rounds, buckets): how many tokens each bucket holds in each round."""
        return bucket_sizes(self.buckets, self.config.total_buckets)

    def mass_kept(self, attention: np.ndarray | None = None) -> float:
        """Share of ``attention``'s mass (L, L) on the keys LSH attends to, mean over queries; by default of full
        shared-QK attention, or e.g. of the model's own attention with its separate keys (copied: the app's shared
        results are read-only arrays, which torch.from_numpy warns about)."""
        return mass_kept(torch.tensor(self.full if attention is None else attention), torch.from_numpy(self.lsh))

    def top_k_recall(self, k: int) -> float:
        return top_k_recall(torch.from_numpy(self.full), torch.from_numpy(self.lsh), min(k, self.length))

    def keys_share(self) -> float:
        return keys_share(self.lsh)

    def keys_seen(self, token: int) -> int:
        """How many keys ``token``'s query gets a weight from under LSH (itself only when it sees nothing else)."""
        return int((self.lsh[token] > 0).sum())

    def pairs(self) -> int:
        """How many query–key pairs LSH computes a weight for, self excluded (full attention: L·(L − 1))."""
        return int(((self.lsh > 0) & ~np.eye(self.length, dtype=bool)).sum())


def hash_head(queries: np.ndarray, config: LSHConfig) -> HeadHashing:
    """Hash one head's query vectors (L, d) as shared-QK attention would, and attend: see HeadHashing.

    The hash depends on a vector's direction only, so hashing the queries is hashing the normalised keys."""
    qk = torch.from_numpy(np.asarray(queries, dtype=np.float64))
    buckets = hash_buckets(qk, random_rotations(config, qk.shape[-1], dtype=qk.dtype), config)  # (rounds, L)
    return HeadHashing(
        config=config,
        buckets=buckets.numpy(),
        order=sort_order(buckets).numpy(),
        chunks=chunk_ids(qk.shape[0], config).numpy(),
        full=full_attention(qk).numpy(),
        lsh=effective_attention(qk, buckets, config).numpy(),
    )


def centre_queries(queries: np.ndarray) -> np.ndarray:
    """The queries (L, d) less their mean: without the direction they share, the hash spreads them over the buckets."""
    queries = np.asarray(queries, dtype=np.float64)
    return queries - queries.mean(axis=0, keepdims=True)


def bucket_sizes(buckets: np.ndarray, total_buckets: int) -> np.ndarray:
    """(rounds, L) bucket ids → (rounds, total_buckets) counts."""
    buckets = np.asarray(buckets)
    counts = [np.bincount(row, minlength=total_buckets) for row in buckets.reshape(-1, buckets.shape[-1])]
    return np.stack(counts).reshape(*buckets.shape[:-1], total_buckets)


def keys_share(lsh: np.ndarray | torch.Tensor) -> float:
    """Share of the other L − 1 keys that LSH attends to (weight > 0), mean over queries: the cost of LSH relative to
    full attention, and the mass that as many keys drawn at random would keep on average."""
    lsh = torch.as_tensor(lsh)
    length = lsh.shape[-1]
    if length < 2:
        return 1.0
    others = ~torch.eye(length, dtype=torch.bool)
    return float(((lsh > 0) & others).sum(dim=-1).double().mean() / (length - 1))


def window_slots(order: np.ndarray, config: LSHConfig, token: int) -> np.ndarray:
    """(rounds, L) mask of the sorted slots that ``token``'s query sees in some round: its chunk and the chunk before
    it, with the rounds laid end to end as one cyclic sequence (the first chunk looks back at the last one).

    The token's own slots are included (in the window, though their logit is masked). A sequence within one chunk
    is one window: every slot."""
    rounds, length = order.shape
    if length <= config.chunk_length:
        return np.ones((rounds, length), dtype=bool)
    n_chunks = -(-rounds * length // config.chunk_length)
    slot_chunk = np.arange(rounds * length) // config.chunk_length  # (rounds·L,)
    own = (np.argsort(order, axis=-1, kind="stable")[:, token] + np.arange(rounds) * length) // config.chunk_length
    return np.isin(slot_chunk, np.concatenate([own, (own - 1) % n_chunks])).reshape(rounds, length)


# --- quality -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QualityPoint:
    """Means over seeds, for one (n_buckets, n_hashes): mass kept, top-k recall, keys share (shares in [0, 1])."""

    n_buckets: int
    n_hashes: int
    mass_kept: float
    recall: float
    keys_share: float


def quality_sweep(
    queries: np.ndarray | torch.Tensor,
    n_buckets: Sequence[int],
    n_hashes: Sequence[int],
    chunk_length: int,
    k: int,
    seeds: Sequence[int] = (0,),
) -> Iterator[QualityPoint]:
    """For every n_buckets, then every n_hashes: hash ``queries`` (L, d) with each seed and compare LSH with full
    shared-QK attention. A generator, so that a caller can show progress and stop early."""
    qk = torch.as_tensor(np.asarray(queries, dtype=np.float64))
    full = full_attention(qk)
    k = min(k, qk.shape[0])
    for buckets in n_buckets:
        for rounds in n_hashes:
            scores = []
            for seed in seeds:
                config = LSHConfig(n_buckets=buckets, n_hashes=rounds, chunk_length=chunk_length, seed=seed)
                rotations = random_rotations(config, qk.shape[-1], dtype=qk.dtype)
                lsh = effective_attention(qk, hash_buckets(qk, rotations, config), config)
                scores.append((mass_kept(full, lsh), top_k_recall(full, lsh, k), keys_share(lsh)))
            mass, recall, share = np.mean(scores, axis=0)
            yield QualityPoint(buckets, rounds, float(mass), float(recall), float(share))


def synthetic_queries(kind: SyntheticKind, length: int, d: int = 64, seed: int = 0) -> torch.Tensor:
    """Shared query-keys (L, d), float64, each of length SYNTHETIC_NORM, in shuffled positions:

    - "duplicates": every direction appears twice (the paper's duplication task): each query's strongest key is its
      copy (self is masked), and attention is peaked;
    - "clusters": groups of CLUSTER_SIZE noisy copies of a random centre: attention spreads over the group;
    - "random": independent random directions: no structure to find.
    """
    generator = torch.Generator().manual_seed(seed)

    def directions(count: int) -> torch.Tensor:
        return F.normalize(torch.randn(count, d, generator=generator, dtype=torch.float64), dim=-1)

    if kind == "duplicates":
        base = directions(-(-length // 2))
        vectors = torch.cat([base, base])[:length]
    elif kind == "clusters":
        centres = directions(-(-length // CLUSTER_SIZE)).repeat_interleave(CLUSTER_SIZE, dim=0)[:length]
        noise = torch.randn(length, d, generator=generator, dtype=torch.float64) * CLUSTER_NOISE / math.sqrt(d)
        vectors = F.normalize(centres + noise, dim=-1)
    elif kind == "random":
        vectors = directions(length)
    else:
        raise ValueError(f"unknown synthetic kind {kind!r}; expected one of {SYNTHETIC_KINDS}")
    return SYNTHETIC_NORM * vectors[torch.randperm(length, generator=generator)]


# --- the 2-D toy ----------------------------------------------------------------------------------------------


def toy_points(count: int, seed: int = 0, groups: int = 3, spread: float = 0.25) -> np.ndarray:
    """``count`` unit vectors in 2-D, (count, 2): ``groups`` clusters of angles (normal, ``spread`` radians)."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 2 * np.pi, groups)
    angles = centres[np.arange(count) % groups] + rng.normal(0, spread, count)
    return np.stack([np.cos(angles), np.sin(angles)], axis=1)


def toy_rotations(config: LSHConfig) -> np.ndarray:
    """The config's random rotation for 2-D vectors, (2, rounds, n_buckets/2), drawn by
    core.lsh.reformer.random_rotations."""
    return random_rotations(config, 2, dtype=torch.float64).numpy()


def toy_buckets(points: np.ndarray, rotations: np.ndarray, config: LSHConfig) -> np.ndarray:
    """Buckets (rounds, n) of 2-D points (n, 2) under ``rotations`` (2, rounds, b/2): core.lsh.reformer.hash_buckets."""
    return hash_buckets(
        torch.from_numpy(np.asarray(points, dtype=np.float64)), torch.from_numpy(rotations), config
    ).numpy()


def toy_directions(rotations: np.ndarray) -> np.ndarray:
    """(rounds, n_buckets, 2): the columns of [R, −R], one per bucket; bucket b holds the x whose x·(column b) is the
    largest."""
    columns = np.moveaxis(rotations, 0, -1)  # (rounds, b/2, 2)
    return np.concatenate([columns, -columns], axis=1)


Arc = tuple[int, float, float]  # bucket, start and end angle in radians


def toy_sectors(rotations: np.ndarray, config: LSHConfig, resolution: int = 1440) -> list[list[Arc]]:
    """Per round, the arcs of the unit circle that fall in each bucket, in increasing angle from 0 to 2π (a bucket
    across angle 0 gives two arcs). Found by hashing ``resolution`` points of the circle with
    core.lsh.reformer.hash_buckets; boundaries are exact to 2π / resolution."""
    angles = (np.arange(resolution) + 0.5) * 2 * np.pi / resolution  # (resolution,) cell centres
    circle = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    sectors = []
    for row in toy_buckets(circle, rotations, config):  # (resolution,)
        changes = np.flatnonzero(np.diff(row)) + 1  # the first cell of each new run
        starts, ends = np.concatenate([[0], changes]), np.concatenate([changes, [resolution]])
        sectors.append(
            [(int(row[s]), s * 2 * np.pi / resolution, e * 2 * np.pi / resolution) for s, e in zip(starts, ends)]
        )
    return sectors


def collision_probability(angles: np.ndarray, config: LSHConfig, trials: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    """How often two unit vectors at each angle (radians, (A,)) share a bucket: in one round, and in at least one of
    the config's rounds — estimated over ``trials`` random rotations in 2-D drawn from the config's seed.
    The hash is locality-sensitive: the first falls as the angle grows. Returns two (A,) arrays of frequencies."""
    angles = np.asarray(angles, dtype=np.float64)
    first = np.tile([1.0, 0.0], (len(angles), 1))  # (A, 2)
    second = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    points = torch.from_numpy(np.concatenate([first, second]))  # (2A, 2)
    rotations = random_rotations(config, 2, heads=(trials,), dtype=torch.float64)  # (trials, 2, rounds, b/2)
    buckets = hash_buckets(points, rotations, config)  # (trials, rounds, 2A)
    same = (buckets[..., : len(angles)] == buckets[..., len(angles) :]).numpy()  # (trials, rounds, A)
    return same[:, 0].mean(axis=0), same.any(axis=1).mean(axis=0)


def mean_cosine(vectors: np.ndarray) -> float:
    """Mean cosine similarity between distinct rows of (L, d): near 0 for spread-out directions, near 1 when they
    share one (the angular hash then puts most of them in one bucket)."""
    unit = np.asarray(vectors, dtype=np.float64)
    unit = unit / np.maximum(np.linalg.norm(unit, axis=-1, keepdims=True), 1e-12)
    length = len(unit)
    if length < 2:
        return 1.0
    return float(((unit @ unit.T).sum() - np.trace(unit @ unit.T)) / (length * (length - 1)))
