"""A map of all heads: how far apart every two heads' attention is over a corpus, the heads laid out in 2-D by
multidimensional scaling, clustered, and each labelled by its dominant behaviour.

Two attention rows p, q (distributions over the n keys) are compared by their Jensen–Shannon distance, in bits:

    m = (p + q) / 2        H(p) = −Σ_j p_j log₂ p_j   (0 log 0 = 0)
    JSD(p, q) = H(m) − (H(p) + H(q)) / 2 = ½ KL(p ‖ m) + ½ KL(q ‖ m)  ∈ [0, 1]
    d(p, q)   = √JSD(p, q)                                               a metric on distributions, ∈ [0, 1]

(scipy.spatial.distance.jensenshannon(p, q, base=2)). Two heads a, b of one sentence of n tokens are as far apart
as their query rows on average, and over a corpus each sentence weighs the same:

    D[a, b] = (1/n) Σ_i d(A_a[i, :], A_b[i, :])           D_corpus = mean over sentences of D

D is symmetric with a zero diagonal; heads are numbered h = layer · heads + head. The map places the heads at
points x_h ∈ ℝ² whose distances approximate D (metric MDS, SMACOF on the stress Σ_{a<b} (‖x_a − x_b‖ − D[a, b])²),
and the clusters are average-linkage agglomerative clusters of D.

A head's dominant behaviour comes from its mean statistics (``head_stats``) over the same sentences, as shares of
its attention mass:

    previous token = to_previous    next token = to_next    [CLS]/[SEP] = to_cls + to_sep
    punctuation    = to_punctuation self       = to_self    (a token reading itself)

The largest share names the head when it reaches DOMINANT_SHARE; otherwise the head is "broad" when its normalised
entropy, the mean over sentences of entropy / ln n (1 = uniform rows), reaches BROAD_ENTROPY, and "mixed" if not.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import xlogy
from sklearn.cluster import AgglomerativeClustering
from sklearn.manifold import MDS

from core.analysis.head_stats import HeadStatistics, corpus_attentions, head_statistics, mean_statistics, token_roles
from core.transformer.models import AttentionModel

HEAD_MAP_MEMORY_BYTES = 4 * 2**20  # float64 work arrays of one chunk of head pairs (2 · pairs · n²), cache-sized
BEHAVIOURS = ("previous token", "next token", "[CLS]/[SEP]", "punctuation", "self", "broad", "mixed")
DOMINANT_SHARE = 0.4  # the largest share of attention that names a head's behaviour
BROAD_ENTROPY = 0.75  # normalised entropy (entropy / ln n) from which a head without a dominant share is broad


def _entropy_bits(rows: np.ndarray) -> np.ndarray:
    """H(p) = −Σ_j p_j log₂ p_j over the last axis, 0 log 0 = 0: (…, n) → (…)."""
    return -xlogy(rows, rows).sum(axis=-1) / math.log(2)


def _distance_from_entropies(mixture_entropy: np.ndarray, entropy_p: np.ndarray, entropy_q: np.ndarray) -> np.ndarray:
    """√(H(m) − (H(p) + H(q)) / 2), clipped at 0 against rounding."""
    return np.sqrt(np.maximum(mixture_entropy - (entropy_p + entropy_q) / 2, 0.0))


def jensen_shannon_distance(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """d(p, q) in bits for distributions over the last axis (broadcast): (…, n), (…, n) → (…)."""
    p, q = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
    return _distance_from_entropies(_entropy_bits((p + q) / 2), _entropy_bits(p), _entropy_bits(q))


def head_distances(attentions: np.ndarray, memory_bytes: int = HEAD_MAP_MEMORY_BYTES) -> np.ndarray:
    """D[a, b] of one sentence for attentions (…, n, n), e.g. (layers, heads, n, n), flattened to H heads: (H, H).

    The H(H − 1)/2 pairs a < b run in chunks whose two float64 work arrays (pairs, n, n) fit in memory_bytes."""
    rows = np.asarray(attentions, dtype=np.float64).reshape(-1, *attentions.shape[-2:])  # (H, n, n)
    heads, n = rows.shape[0], rows.shape[-1]
    entropies = _entropy_bits(rows)  # (H, n)
    first, second = np.triu_indices(heads, k=1)  # (pairs,) each
    chunk = max(1, memory_bytes // (2 * n * n * rows.itemsize))
    distances = np.zeros((heads, heads))
    for start in range(0, len(first), chunk):
        a, b = first[start : start + chunk], second[start : start + chunk]
        mixture = rows[a]  # (chunk, n, n)
        mixture += rows[b]
        mixture *= 0.5
        per_row = _distance_from_entropies(_entropy_bits(mixture), entropies[a], entropies[b])  # (chunk, n)
        distances[a, b] = distances[b, a] = per_row.mean(axis=-1)
    return distances


def dominant_behaviours(statistics: HeadStatistics, normalised_entropy: np.ndarray) -> np.ndarray:
    """Each head's label from BEHAVIOURS by the rule in the module docstring; arrays of the statistics' shape."""
    shares = np.stack(
        [
            statistics.to_previous,
            statistics.to_next,
            statistics.to_cls + statistics.to_sep,
            statistics.to_punctuation,
            statistics.to_self,
        ]
    )  # (5, …)
    largest = np.asarray(BEHAVIOURS[:5])[shares.argmax(axis=0)]
    return np.where(
        shares.max(axis=0) >= DOMINANT_SHARE,
        largest,
        np.where(normalised_entropy >= BROAD_ENTROPY, BEHAVIOURS[5], BEHAVIOURS[6]),
    )


@dataclass(frozen=True)
class HeadMap:
    """The head map of the first ``analysed`` of ``offered`` sentences; heads numbered h = layer · heads + head."""

    distances: np.ndarray  # (H, H), mean Jensen–Shannon distance
    mean: HeadStatistics  # (layers, heads) each
    normalised_entropy: np.ndarray  # (layers, heads), mean entropy / ln n
    behaviours: np.ndarray  # (layers, heads), labels from BEHAVIOURS
    analysed: int
    offered: int


def corpus_head_map(
    model: AttentionModel,
    sentences: Sequence[str],
    time_budget_s: float = 60.0,
    progress: Callable[[int, int], None] | None = None,
    batch_size: int = 16,
    memory_bytes: int = HEAD_MAP_MEMORY_BYTES,
) -> HeadMap:
    """Run the model on the sentences in order, ``batch_size`` at a time, until they or the time budget run out (at
    least one batch); ``progress(done, total)`` after each batch. Only the running sum of D and each sentence's
    statistics are kept, never the attentions of more than one batch."""
    distance_sum: np.ndarray | float = 0.0
    per_sentence: list[HeadStatistics] = []
    normalised_entropies: list[np.ndarray] = []
    for attentions, tokenized in corpus_attentions(model, sentences, time_budget_s, progress, batch_size):
        distance_sum = distance_sum + head_distances(attentions, memory_bytes)
        statistics = head_statistics(attentions, token_roles(tokenized))
        per_sentence.append(statistics)
        normalised_entropies.append(statistics.entropy / math.log(max(attentions.shape[-1], 2)))
    mean, normalised_entropy = mean_statistics(per_sentence), np.mean(normalised_entropies, axis=0)
    return HeadMap(
        distances=np.asarray(distance_sum) / len(per_sentence),
        mean=mean,
        normalised_entropy=normalised_entropy,
        behaviours=dominant_behaviours(mean, normalised_entropy),
        analysed=len(per_sentence),
        offered=len(sentences),
    )


def head_layout(distances: np.ndarray, seed: int = 0) -> np.ndarray:
    """Metric MDS of the heads: (H, H) distances → (H, 2) points, started from classical MDS (so ``seed`` only
    breaks ties)."""
    symmetric = (distances + distances.T) / 2  # sklearn checks the symmetry exactly
    mds = MDS(n_components=2, metric="precomputed", metric_mds=True, init="classical_mds", random_state=seed)
    return mds.fit_transform(symmetric)


def head_clusters(distances: np.ndarray, k: int) -> np.ndarray:
    """Average-linkage clusters of the heads: (H, H) distances → (H,) cluster ids in 0 … k − 1."""
    clustering = AgglomerativeClustering(n_clusters=k, metric="precomputed", linkage="average")
    return clustering.fit_predict(distances)
