"""AER on hand-made alignments whose value is worked out by hand, and the argmax alignment of attention heads."""

import numpy as np
import pytest

from core.translation.alignment import (
    alignment_error_rate,
    argmax_alignment,
    best_head,
    corpus_alignment_error_rate,
    head_alignment_error_rates,
)
from core.translation.corpus import VERBS, Meaning, example

SURE = frozenset({(0, 0), (1, 2)})
POSSIBLE = SURE | {(2, 1)}


def test_predicting_exactly_the_sure_links_scores_zero():
    assert alignment_error_rate(SURE, SURE, POSSIBLE) == 0.0
    assert alignment_error_rate(POSSIBLE, SURE, POSSIBLE) == 0.0  # 1 − (2 + 3) / (3 + 2)


def test_predicting_nothing_possible_scores_one():
    assert alignment_error_rate({(0, 1), (1, 0), (2, 2)}, SURE, POSSIBLE) == 1.0


def test_a_partial_alignment_scores_the_hand_computed_fraction():
    # A = {(0,0) sure, (1,1) wrong, (2,1) possible}: |A∩S| = 1, |A∩P| = 2, |A| = 3, |S| = 2 → 1 − 3/5
    assert alignment_error_rate({(0, 0), (1, 1), (2, 1)}, SURE, POSSIBLE) == pytest.approx(0.4)
    # a possible-only link missed costs nothing; predicted outside P it costs: A = {(0,0),(1,2),(2,0)} → 1 − 4/5
    assert alignment_error_rate({(0, 0), (1, 2), (2, 0)}, SURE, POSSIBLE) == pytest.approx(0.2)


def test_sure_links_must_be_possible():
    with pytest.raises(ValueError, match="S ⊆ P"):
        alignment_error_rate(set(), SURE, frozenset({(0, 0)}))


def test_corpus_aer_sums_the_counts_before_dividing():
    chapter = example(Meaning("私", "今日", "東京", VERBS[0]))  # S = {(0,0),(1,5),(3,3),(4,2)}, P adds (2,4)
    teacher = example(Meaning("先生", "明日", "駅", VERBS[0]))  # 4 sure, 5 possible-only, 8 target words
    perfect_chapter = chapter.sure | {(2, 4)}  # 5 links, all possible, 4 sure: matched 4 + 5 = 9, total 5 + 4
    teacher_all_wrong = {(i, 1) for i in range(8)}  # は: matched 0, total 8 + 4
    rate = corpus_alignment_error_rate([perfect_chapter, teacher_all_wrong], [chapter, teacher])
    assert rate == pytest.approx(1 - 9 / 21)
    mean_of_sentences = (0.0 + 1.0) / 2
    assert rate != pytest.approx(mean_of_sentences)


def test_argmax_alignment_links_each_target_row_to_its_heaviest_source_and_drops_the_eos_row():
    attention = np.array(
        [
            [0.7, 0.2, 0.1],
            [0.1, 0.3, 0.6],
            [0.2, 0.5, 0.3],
            [0.1, 0.1, 0.8],  # the step that emits <eos>
        ]
    )
    assert argmax_alignment(attention, target_length=3) == {(0, 0), (1, 2), (2, 1)}


def one_hot_rows(columns, source_length):
    rows = np.full((len(columns), source_length), 0.05)
    rows[np.arange(len(columns)), columns] = 1.0
    return rows / rows.sum(axis=1, keepdims=True)


def test_per_head_aer_finds_the_head_that_follows_the_gold_alignment():
    pairs = [example(Meaning("私", "今日", "東京", VERBS[0])), example(Meaning("彼", "昨日", "京都", VERBS[1]), True)]
    cross = []
    for pair in pairs:
        gold = [min(j for i, j in pair.possible if i == row) for row in range(len(pair.target))]
        topic = [pair.source.index("は")] * len(pair.target)  # never a gold link
        cross.append(
            np.stack(
                [
                    np.stack([one_hot_rows(topic, 6), one_hot_rows(gold, 6)]),  # layer 0: は, gold
                    np.stack([one_hot_rows(gold, 6), one_hot_rows(topic, 6)]),  # layer 1: gold, は
                ]
            )
        )  # (layers, heads, t, s)
    rates = head_alignment_error_rates(cross, pairs)
    assert rates.shape == (2, 2)
    assert rates[0, 1] == rates[1, 0] == 0.0 and rates[0, 0] == rates[1, 1] == 1.0
    assert best_head(rates) == (0, 1)  # the first of the ties
