"""Word alignment from cross-attention, scored by the alignment error rate (Och & Ney 2003).

With sure links S, possible links P ⊇ S and predicted links A, all (target index, source index) pairs,

    AER = 1 − (|A ∩ S| + |A ∩ P|) / (|A| + |S|)

0 when A holds every sure link and nothing outside P, 1 when A and P are disjoint. Over a set of sentences the
counts are summed before dividing (the corpus-level AER of the paper), so long sentences weigh more.

The alignment of a head: each target word links to the source word its row of cross-attention weighs most
(argmax over the source). Rows are those of ``core.translation.model``: row i is the step that emits target word i;
a row beyond the target (the step that emits <eos>) is excluded, as <eos> has no gold link. The cross-attention
reads the encoder's output, whose position j is word j mixed with the others by the encoder's self-attention: a
head "points at" a mixed position, which is mostly, not only, word j.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from core.translation.corpus import Example

Links = frozenset[tuple[int, int]]


def _counts(predicted: Iterable[tuple[int, int]], sure: Links, possible: Links) -> np.ndarray:
    """(|A ∩ S| + |A ∩ P|, |A| + |S|) of one sentence."""
    predicted = set(predicted)
    if not sure <= possible:
        raise ValueError("sure links must be possible links too (S ⊆ P)")
    return np.array([len(predicted & sure) + len(predicted & possible), len(predicted) + len(sure)])


def alignment_error_rate(predicted: Iterable[tuple[int, int]], sure: Links, possible: Links) -> float:
    """AER of one sentence; 0 when there is nothing to align and nothing predicted."""
    matched, total = _counts(predicted, sure, possible)
    return 1.0 - matched / total if total else 0.0


def corpus_alignment_error_rate(predictions: Sequence[Iterable[tuple[int, int]]], examples: Sequence[Example]) -> float:
    """AER over sentences, counts summed over them; ``predictions[k]`` are the links predicted for ``examples[k]``."""
    matched, total = sum(
        (_counts(a, e.sure, e.possible) for a, e in zip(predictions, examples, strict=True)), np.zeros(2, dtype=int)
    )
    return 1.0 - matched / total if total else 0.0


def argmax_alignment(cross_attention: np.ndarray, target_length: int) -> Links:
    """One head's (t, s) cross-attention → {(i, argmax_j A[i, j])} for the first ``target_length`` rows."""
    rows = cross_attention[:target_length]
    return frozenset((i, int(j)) for i, j in enumerate(rows.argmax(axis=-1)))


def head_alignment_error_rates(cross_attentions: Sequence[np.ndarray], examples: Sequence[Example]) -> np.ndarray:
    """(layers, heads) corpus AER of every head's argmax alignment; ``cross_attentions[k]`` is
    (layers, heads, t, s) for ``examples[k]`` (teacher-forced on its gold target)."""
    layers, heads = cross_attentions[0].shape[:2]
    return np.array(
        [
            [
                corpus_alignment_error_rate(
                    [
                        argmax_alignment(a[layer, head], len(e.target))
                        for a, e in zip(cross_attentions, examples, strict=True)
                    ],
                    examples,
                )
                for head in range(heads)
            ]
            for layer in range(layers)
        ]
    )


def best_head(rates: np.ndarray) -> tuple[int, int]:
    """(layer, head) of the lowest AER in a (layers, heads) table; the first one on ties."""
    layer, head = np.unravel_index(int(np.argmin(rates)), rates.shape)
    return int(layer), int(head)
