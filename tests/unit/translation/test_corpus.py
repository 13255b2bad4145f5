"""The grammar's sentences, their gold alignments written out by hand, the seeded split, and segmentation."""

import pytest

from core.transformer.tokens import EmptyTextError
from core.translation.corpus import (
    CHAPTER_SENTENCE,
    SOURCE_VOCABULARY,
    TARGET_VOCABULARY,
    VERBS,
    Meaning,
    UnknownWordError,
    Vocabulary,
    all_meanings,
    build_corpus,
    example,
    gold_example,
    segment,
    segment_spans,
)

GO, COME, RETURN = VERBS

HAND_WRITTEN = [  # meaning, time first, source, target, sure links, possible-only links: (target index, source index)
    (
        Meaning("私", "今日", "東京", GO),
        False,
        "私 は 今日 東京 に 行く",
        "I go to Tokyo today",
        {(0, 0), (1, 5), (3, 3), (4, 2)},
        {(2, 4)},
    ),
    (
        Meaning("私", "今日", "東京", GO),
        True,
        "今日 私 は 東京 に 行く",
        "I go to Tokyo today",
        {(0, 1), (1, 5), (3, 3), (4, 0)},
        {(2, 4)},
    ),
    (
        Meaning("彼", "昨日", "京都", GO),
        False,
        "彼 は 昨日 京都 に 行った",
        "he went to Kyoto yesterday",
        {(0, 0), (1, 5), (3, 3), (4, 2)},
        {(2, 4)},
    ),
    (
        Meaning("彼女", "今日", "学校", COME),
        True,
        "今日 彼女 は 学校 に 来る",
        "she comes to school today",
        {(0, 1), (1, 5), (3, 3), (4, 0)},
        {(2, 4)},
    ),
    (
        Meaning("先生", "明日", "駅", GO),
        False,  # "the" → its noun, "will" → verb and time word: possible only
        "先生 は 明日 駅 に 行く",
        "the teacher will go to the station tomorrow",
        {(1, 0), (3, 5), (6, 3), (7, 2)},
        {(0, 0), (2, 5), (2, 2), (4, 4), (5, 3)},
    ),
    (
        Meaning("私たち", "明日", "大阪", RETURN),
        True,
        "明日 私たち は 大阪 に 帰る",
        "we will return to Osaka tomorrow",
        {(0, 1), (2, 5), (4, 3), (5, 0)},
        {(1, 5), (1, 0), (3, 4)},
    ),
]


@pytest.mark.parametrize("meaning, time_first, source, target, sure, possible_only", HAND_WRITTEN)
def test_gold_alignment_of_hand_written_pairs(meaning, time_first, source, target, sure, possible_only):
    pair = example(meaning, time_first)
    assert pair.source == tuple(source.split())
    assert pair.target == tuple(target.split())
    assert pair.sure == sure
    assert pair.possible == sure | possible_only


def test_the_chapter_sentence_is_in_the_grammar_and_the_topic_marker_is_never_aligned():
    chapter = example(Meaning("私", "今日", "東京", GO))
    assert chapter.source == CHAPTER_SENTENCE
    for meaning in all_meanings():
        for time_first in (False, True):
            pair = example(meaning, time_first)
            assert pair.sure <= pair.possible
            assert all(pair.source[j] != "は" for _, j in pair.possible)
            assert {i for i, _ in pair.possible} == set(range(len(pair.target)))  # every English word has a link


def test_both_word_orders_share_their_english_and_the_verb_link_crosses():
    for meaning in all_meanings():
        topic_first, time_first = example(meaning), example(meaning, time_first=True)
        assert topic_first.target == time_first.target
        assert sorted(topic_first.source) == sorted(time_first.source)
        verb = next(i for i, j in topic_first.sure if j == len(topic_first.source) - 1)
        assert verb < len(topic_first.target) - 1  # last in Japanese, not last in English


def test_tense_agrees_with_the_time_word():
    assert example(Meaning("彼", "今日", "大阪", RETURN)).target == ("he", "returns", "to", "Osaka", "today")
    assert example(Meaning("私", "今日", "大阪", RETURN)).target == ("I", "return", "to", "Osaka", "today")
    assert example(Meaning("私", "明日", "大阪", COME)).source[-1] == "来る"
    assert example(Meaning("私", "昨日", "大阪", COME)).source[-1] == "来た"
    assert example(Meaning("私", "昨日", "大阪", COME)).target[1] == "came"


def test_gold_example_finds_the_grammar_sentence_of_segmented_words():
    for meaning, time_first, source, *_ in HAND_WRITTEN:
        assert gold_example(source.split()) == example(meaning, time_first)
    assert gold_example(["私", "は", "東京", "に", "行く"]) is None  # no time word: not a sentence of the grammar


def test_the_split_holds_out_pairs_and_sentences_never_seen_in_training():
    corpus = build_corpus(seed=0)
    train, sentences, combinations = corpus.train, corpus.held_out_sentences, corpus.held_out_combinations
    assert len(train) + len(sentences) + len(combinations) == 2 * len(all_meanings()) == 450
    train_sources, train_targets = {e.source for e in train}, {e.target for e in train}
    for held_out in (sentences, combinations):
        assert held_out and not {e.source for e in held_out} & train_sources
        assert not {e.target for e in held_out} & train_targets  # the English of a held-out sentence is new too
    unseen = set(corpus.held_out_pairs)
    assert len(unseen) == 3
    assert {(e.meaning.subject, e.meaning.place) for e in combinations} == unseen
    assert not {(e.meaning.subject, e.meaning.place) for e in train} & unseen
    assert CHAPTER_SENTENCE in train_sources


def test_the_split_is_seeded():
    assert build_corpus(seed=3) == build_corpus(seed=3)
    assert build_corpus(seed=3).held_out_sentences != build_corpus(seed=4).held_out_sentences


def test_probes_start_with_the_chapter_sentence_and_its_twin_then_held_out_ones():
    corpus = build_corpus()
    chapter, twin, sentence, combination = corpus.probes()
    assert chapter.source == CHAPTER_SENTENCE and twin.source == ("今日", "私", "は", "東京", "に", "行く")
    assert sentence in corpus.held_out_sentences and combination in corpus.held_out_combinations


def test_vocabularies_have_pad_bos_eos_first_and_round_trip():
    for vocabulary in (SOURCE_VOCABULARY, TARGET_VOCABULARY):
        assert vocabulary.words[:3] == ("<pad>", "<bos>", "<eos>")
        assert (Vocabulary.PAD, Vocabulary.BOS, Vocabulary.EOS) == (0, 1, 2)
    words = ["the", "teacher", "will", "go"]
    ids = TARGET_VOCABULARY.encode(words)
    assert TARGET_VOCABULARY.decode(ids + [Vocabulary.EOS] + ids) == words  # stops at <eos>
    assert len(SOURCE_VOCABULARY) == 3 + 21 and "私たち" in SOURCE_VOCABULARY


@pytest.mark.parametrize("text", ["私は今日東京に行く", "私 は 今日 東京 に 行く", " 私は　今日、東京に行く。"])
def test_segmentation_with_or_without_spaces_gives_the_six_words(text):
    assert segment(text) == list(CHAPTER_SENTENCE)


def test_segmentation_takes_the_longest_known_word():
    assert segment("私たちは明日駅に帰った") == ["私たち", "は", "明日", "駅", "に", "帰った"]
    assert segment("彼女は昨日京都に来た") == ["彼女", "は", "昨日", "京都", "に", "来た"]


def test_segmentation_spans_point_into_the_text():
    text = "今日 彼は駅に来る"
    for word, (start, end) in segment_spans(text):
        assert text[start:end] == word


@pytest.mark.parametrize(
    "text, span, position",
    [
        ("私はhello東京に行く", "hello", 2),
        ("私は今日パリに行く", "パリ", 4),
        ("<b>私</b>は", "<b>", 0),
        ("私は🙂", "🙂", 2),
    ],
)
def test_an_unknown_span_is_named_with_its_position(text, span, position):
    with pytest.raises(UnknownWordError) as raised:
        segment(text)
    assert (raised.value.span, raised.value.position) == (span, position)
    assert isinstance(raised.value, ValueError)
    assert f"“{span}” (at character {position + 1})" in str(raised.value) and "東京" in str(raised.value)


@pytest.mark.parametrize("text", ["", "   ", "\u3000", "。、"])
def test_empty_text_is_refused(text):
    with pytest.raises(EmptyTextError):
        segment(text)
