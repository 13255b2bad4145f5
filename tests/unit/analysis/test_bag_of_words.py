"""Bag-of-words network (Fig. 2.6): document × word counts, cosine similarity of words, the thresholded graph."""

import math

import numpy as np
import pytest

from core.analysis.bag_of_words import document_word_matrix, known_words, similarity_graph, word_similarity, words_of
from core.analysis.corpus import load_corpus, split_sentences

DOCUMENTS = ["The cat and the dog.", "A cat, a cat and a mouse!", "Dog meets mouse."]


def test_the_document_word_matrix_counts_words_without_stop_words():
    matrix = document_word_matrix(DOCUMENTS)
    assert matrix.words == ("cat", "dog", "meets", "mouse")
    assert matrix.counts.tolist() == [[1, 1, 0, 0], [2, 0, 0, 1], [0, 1, 1, 1]]


def test_word_cosine_similarity_equals_the_hand_computation():
    similarity = word_similarity(document_word_matrix(DOCUMENTS).counts)
    # cat = (1, 2, 0), dog = (1, 0, 1), mouse = (0, 1, 1), meets = (0, 0, 1)
    assert similarity[0, 1] == pytest.approx(1 / (math.sqrt(5) * math.sqrt(2)))  # cat · dog = 1
    assert similarity[0, 3] == pytest.approx(2 / (math.sqrt(5) * math.sqrt(2)))  # cat · mouse = 2
    assert similarity[1, 3] == pytest.approx(1 / 2)  # dog · mouse = 1
    assert similarity[0, 2] == 0.0
    assert np.allclose(np.diag(similarity), 1.0) and np.allclose(similarity, similarity.T)


def test_a_word_that_never_occurs_is_similar_to_nothing():
    assert np.allclose(word_similarity(np.array([[1, 0], [2, 0]])), [[1.0, 0.0], [0.0, 0.0]])


def test_the_graph_keeps_edges_above_the_threshold_and_among_nearest_neighbours():
    matrix = document_word_matrix(DOCUMENTS)
    similarity = word_similarity(matrix.counts)
    graph = similarity_graph(matrix.words, similarity, threshold=0.45)  # cat — dog (0.32) is the one left out
    named = {tuple(sorted((graph.nodes[u]["label"], graph.nodes[v]["label"]))) for u, v in graph.edges}
    assert named == {("cat", "mouse"), ("dog", "mouse"), ("dog", "meets"), ("meets", "mouse")}
    assert graph.edges[0, 3]["weight"] == pytest.approx(similarity[0, 3])
    nearest = similarity_graph(matrix.words, similarity, k=1)  # each word's best match, either way round
    assert {tuple(sorted(edge)) for edge in nearest.edges} == {(0, 3), (1, 2), (2, 3)}


def test_known_words_finds_the_corpus_words_of_a_sentence_in_order():
    matrix = document_word_matrix(DOCUMENTS)
    labels = ["[CLS]", "the", "Dog", "saw", "a", "cat", "and", "a", "dog", "[SEP]"]
    assert known_words(matrix, labels) == ([2, 5], [1, 0])


def test_words_of_lowercases_and_drops_stop_words():
    assert words_of("The Train didn't stop at the station.") == ["train", "didn't", "stop", "station"]


def test_the_bundled_corpus_has_forty_to_eighty_sentences():
    corpus = load_corpus()
    assert 40 <= len(corpus) <= 80
    assert all(sentence.endswith((".", "!", "?")) for sentence in corpus)


def test_uploaded_text_is_split_into_sentences():
    assert split_sentences("One. Two!\n\n  Three? Four\n") == ["One.", "Two!", "Three?", "Four"]
