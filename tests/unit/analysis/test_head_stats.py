"""Head statistics (Clark et al. 2019) on hand-made matrices equal their definitions; labels follow the thresholds."""

import math

import numpy as np
import pytest

from core.analysis.head_stats import (
    HeadStatistics,
    TokenRoles,
    corpus_statistics,
    head_patterns,
    head_statistics,
    mean_statistics,
    token_roles,
)
from core.transformer.models import load_model

# Tokens: [CLS] a , [SEP]
ROLES = TokenRoles(
    cls=np.array([True, False, False, False]),
    sep=np.array([False, False, False, True]),
    punctuation=np.array([False, False, True, False]),
)
HEAD = np.array(
    [
        [0.70, 0.10, 0.10, 0.10],
        [0.20, 0.20, 0.50, 0.10],
        [0.00, 0.60, 0.00, 0.40],
        [0.25, 0.25, 0.25, 0.25],
    ]
)


def smoothed_entropy(row: np.ndarray) -> float:
    """−Σ_j A'_j ln A'_j with A' = 0.9999·A + 0.0001/n, written out."""
    return -sum((0.9999 * a + 0.0001 / len(row)) * math.log(0.9999 * a + 0.0001 / len(row)) for a in row)


def test_statistics_of_one_head_equal_their_definitions():
    statistics = head_statistics(HEAD, ROLES)
    assert statistics.to_self == pytest.approx((0.70 + 0.20 + 0.00 + 0.25) / 4)
    assert statistics.to_next == pytest.approx((0.10 + 0.50 + 0.40) / 3)  # A[i, i+1], i = 0..2
    assert statistics.to_previous == pytest.approx((0.20 + 0.60 + 0.25) / 3)  # A[i, i−1], i = 1..3
    assert statistics.to_cls == pytest.approx((0.70 + 0.20 + 0.00 + 0.25) / 4)
    assert statistics.to_sep == pytest.approx((0.10 + 0.10 + 0.40 + 0.25) / 4)
    assert statistics.to_punctuation == pytest.approx((0.10 + 0.50 + 0.00 + 0.25) / 4)
    assert statistics.entropy == pytest.approx(np.mean([smoothed_entropy(row) for row in HEAD]))


def test_entropy_is_ln_n_for_uniform_rows_and_near_zero_for_one_hot_rows():
    uniform, one_hot = np.full((4, 4), 0.25), np.eye(4)
    assert head_statistics(uniform, ROLES).entropy == pytest.approx(math.log(4))
    assert head_statistics(one_hot, ROLES).entropy == pytest.approx(smoothed_entropy(one_hot[0]))
    assert head_statistics(one_hot, ROLES).entropy < 1e-3


def test_statistics_keep_the_layers_by_heads_shape():
    attentions = np.stack([np.stack([HEAD, np.eye(4), np.full((4, 4), 0.25)])] * 2)  # (2 layers, 3 heads, 4, 4)
    statistics = head_statistics(attentions, ROLES)
    assert statistics.to_self.shape == (2, 3)
    assert statistics.to_self[1].tolist() == pytest.approx([0.2875, 1.0, 0.25])


def statistics_of(**values) -> HeadStatistics:
    defaults = dict(entropy=1.0, to_cls=0.1, to_sep=0.1, to_punctuation=0.1, to_previous=0.1, to_next=0.1, to_self=0.1)
    return HeadStatistics(**{name: np.array([value]) for name, value in {**defaults, **values}.items()})


@pytest.mark.parametrize(
    "values, pattern",
    [
        (dict(to_sep=0.61), "special-token"),
        (dict(to_cls=0.9, to_next=0.05), "special-token"),
        (dict(to_punctuation=0.7), "special-token"),
        (dict(to_previous=0.51), "positional"),
        (dict(to_next=0.8), "positional"),
        (dict(entropy=3.9), "broad"),
        (dict(to_sep=0.6, to_next=0.5, entropy=3.8), "heterogeneous"),  # thresholds are strict
    ],
)
def test_head_patterns_follow_the_thresholds(values, pattern):
    assert head_patterns(statistics_of(**values)).tolist() == [pattern]


def test_token_roles_mark_cls_sep_and_punctuation(bundled_model):
    roles = token_roles(bundled_model.tokenize("Hello, world.", "Bye."))  # [CLS] hello , world . [SEP] bye . [SEP]
    assert np.flatnonzero(roles.cls).tolist() == [0]
    assert np.flatnonzero(roles.sep).tolist() == [5, 8]
    assert np.flatnonzero(roles.punctuation).tolist() == [2, 4, 7]


@pytest.mark.parametrize("family, first", [("gpt2", "The"), ("llama", "<s>")])
def test_a_decoders_first_token_plays_cls_as_the_attention_sink(family, first, decoder_folders):
    tokenized = load_model(str(decoder_folders[family])).tokenize("The cat sat and the dog slept.")
    assert tokenized.causal and tokenized.tokens[0] == first  # GPT-2 adds no special token, Llama adds <s>
    roles = token_roles(tokenized)
    assert np.flatnonzero(roles.cls).tolist() == [0]
    assert not roles.sep.any()  # no other special token in a typed text


def test_causal_previous_token_and_sink_heads_get_their_patterns():
    n = 5
    previous = np.eye(n, k=-1)
    previous[0, 0] = 1.0  # the first token can only read itself
    sink = np.zeros((n, n))
    sink[:, 0] = 1.0
    roles = TokenRoles(cls=np.arange(n) == 0, sep=np.zeros(n, dtype=bool), punctuation=np.zeros(n, dtype=bool))
    statistics = head_statistics(np.stack([previous, sink]), roles)
    assert statistics.to_previous.tolist() == [1.0, 0.25] and statistics.to_next.tolist() == [0.0, 0.0]
    assert statistics.to_cls.tolist() == [2 / n, 1.0]  # tokens 0 and 1 read token 0
    assert head_patterns(statistics).tolist() == ["positional", "special-token"]


def test_corpus_statistics_average_the_sentences_and_report_progress(bundled_model):
    sentences = ["The dog slept.", "A train left the station, late.", "Graphs have edges."]
    calls = []
    corpus = corpus_statistics(bundled_model, sentences, progress=lambda done, total: calls.append((done, total)))
    assert (corpus.analysed, corpus.offered) == (3, 3)
    assert calls == [(1, 3), (2, 3), (3, 3)]
    each = [
        head_statistics(result.attentions, token_roles(result.tokenized))
        for result in map(bundled_model.analyse, sentences)
    ]
    assert np.allclose(corpus.mean.entropy, mean_statistics(each).entropy)
    assert np.allclose(corpus.mean.to_sep, np.mean([statistics.to_sep for statistics in each], axis=0))
    assert corpus.mean.to_sep.shape == (6, 12)


def test_corpus_statistics_stop_at_the_time_budget_after_at_least_one_sentence(bundled_model):
    corpus = corpus_statistics(bundled_model, ["The dog slept.", "The cat slept."], time_budget_s=0.0)
    assert (corpus.analysed, corpus.offered) == (1, 2)
