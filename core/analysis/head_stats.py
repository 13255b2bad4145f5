"""What each head looks at: per-head statistics and pattern labels (Clark et al. 2019, "What Does BERT Look At?",
arXiv 1906.04341, §3–4), for one sentence or averaged over many.

For a head's attention A (n × n, rows = queries, each row sums to 1):

    to_self = mean_i A[i, i]      to_next = mean_i A[i, i+1]      to_previous = mean_i A[i, i−1]
    to_cls  = mean_i Σ_{j ∈ [CLS]} A[i, j]       likewise to_sep and to_punctuation ('.' and ',')
    entropy = mean_i −Σ_j A'[i, j] ln A'[i, j],   A' = 0.9999·A + 0.0001/n   (nats; a uniform row has ln n)

The next/previous means run over the n − 1 queries that have such a neighbour.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, fields

import numpy as np

from core.transformer.models import AttentionModel
from core.transformer.tokens import Tokenized

PUNCTUATION = frozenset({".", ","})
SMOOTHING = 1e-4  # the ε of A' = (1 − ε)·A + ε/n
HEAD_PATTERNS = ("special-token", "positional", "broad", "heterogeneous")


@dataclass(frozen=True)
class TokenRoles:
    """Which token positions are [CLS], [SEP] and punctuation: boolean arrays (n,)."""

    cls: np.ndarray
    sep: np.ndarray
    punctuation: np.ndarray


def token_roles(tokenized: Tokenized) -> TokenRoles:
    """The leading sink plays [CLS] (RoBERTa's <s>, a decoder's first token), every other sink [SEP] (</s>)."""
    special = np.array(tokenized.sinks)
    leading = np.arange(len(special)) == 0
    punctuation = np.array([token in PUNCTUATION for token in tokenized.token_labels])
    return TokenRoles(cls=special & leading, sep=special & ~leading, punctuation=punctuation)


@dataclass(frozen=True)
class HeadStatistics:
    """One value per head; every array has the attention's leading shape, e.g. (layers, heads)."""

    entropy: np.ndarray  # nats
    to_cls: np.ndarray
    to_sep: np.ndarray
    to_punctuation: np.ndarray
    to_previous: np.ndarray
    to_next: np.ndarray
    to_self: np.ndarray


def head_statistics(attentions: np.ndarray, roles: TokenRoles) -> HeadStatistics:
    """The statistics above for attentions (…, n, n), e.g. (layers, heads, n, n)."""
    attentions = attentions.astype(np.float64)
    n = attentions.shape[-1]
    smoothed = (1 - SMOOTHING) * attentions + SMOOTHING / n
    return HeadStatistics(
        entropy=-(smoothed * np.log(smoothed)).sum(axis=-1).mean(axis=-1),
        to_cls=(attentions @ roles.cls).mean(axis=-1),
        to_sep=(attentions @ roles.sep).mean(axis=-1),
        to_punctuation=(attentions @ roles.punctuation).mean(axis=-1),
        to_previous=np.diagonal(attentions, offset=-1, axis1=-2, axis2=-1).mean(axis=-1),
        to_next=np.diagonal(attentions, offset=1, axis1=-2, axis2=-1).mean(axis=-1),
        to_self=np.diagonal(attentions, axis1=-2, axis2=-1).mean(axis=-1),
    )


@dataclass(frozen=True)
class PatternThresholds:
    """Clark et al.'s cut-offs. A broad head needs entropy above 3.8 nats, which only inputs of more than
    e^3.8 ≈ 45 tokens allow (the uniform row's ln n)."""

    broad: float = 3.8  # entropy, nats
    positional: float = 0.5  # to_previous or to_next
    special: float = 0.6  # to_cls, to_sep or to_punctuation


def head_patterns(statistics: HeadStatistics, thresholds: PatternThresholds = PatternThresholds()) -> np.ndarray:
    """Each head's label from HEAD_PATTERNS, the first that applies in that order ("heterogeneous": none does)."""
    special = np.maximum.reduce([statistics.to_cls, statistics.to_sep, statistics.to_punctuation])
    positional = np.maximum(statistics.to_previous, statistics.to_next)
    return np.select(
        [special > thresholds.special, positional > thresholds.positional, statistics.entropy > thresholds.broad],
        HEAD_PATTERNS[:3],
        default=HEAD_PATTERNS[3],
    )


def mean_statistics(per_sentence: Sequence[HeadStatistics]) -> HeadStatistics:
    """Every statistic averaged over sentences, each sentence weighing the same."""
    return HeadStatistics(
        **{
            field.name: np.mean([getattr(statistics, field.name) for statistics in per_sentence], axis=0)
            for field in fields(HeadStatistics)
        }
    )


@dataclass(frozen=True)
class CorpusStatistics:
    """Head statistics averaged over the first ``analysed`` of ``offered`` sentences."""

    mean: HeadStatistics
    analysed: int
    offered: int


def corpus_attentions(
    model: AttentionModel,
    sentences: Sequence[str],
    time_budget_s: float,
    progress: Callable[[int, int], None] | None = None,
    batch_size: int = 1,
) -> Iterator[tuple[np.ndarray, Tokenized]]:
    """Each sentence's (attentions (layers, heads, n, n), tokenized), in order, ``batch_size`` at a time
    (``AttentionModel.attentions_in_batches``), until the sentences or the time budget run out (at least one batch;
    the budget counts the caller's work on each sentence too); ``progress(done, total)`` after each batch."""
    if not sentences:
        raise ValueError("there are no sentences to analyse")
    start, done = time.monotonic(), 0
    for batch in model.attentions_in_batches(sentences, batch_size):
        yield from batch
        done += len(batch)
        if progress is not None:
            progress(done, len(sentences))
        if time.monotonic() - start >= time_budget_s:
            return


def corpus_statistics(
    model: AttentionModel,
    sentences: Sequence[str],
    time_budget_s: float = 20.0,
    progress: Callable[[int, int], None] | None = None,
) -> CorpusStatistics:
    """Head statistics averaged over the sentences, run in order until they or the time budget run out (at least
    one sentence); ``progress(done, total)`` after each."""
    per_sentence = [
        head_statistics(attentions, token_roles(tokenized))
        for attentions, tokenized in corpus_attentions(model, sentences, time_budget_s, progress)
    ]
    return CorpusStatistics(mean_statistics(per_sentence), len(per_sentence), len(sentences))
