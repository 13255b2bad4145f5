"""Bag-of-words network analysis (source chapter §2.2, Fig. 2.6): a document × word matrix and the word graph
of cosine similarities between its columns — a static graph, the same whatever sentence a word appears in.

    X[d, w] = how often word w occurs in document d
    cos(u, v) = X[:, u] · X[:, v] / (‖X[:, u]‖ ‖X[:, v]‖)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import networkx as nx
import numpy as np

from core.analysis.graph import threshold_mask, top_k_mask

_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
STOP_WORDS = frozenset(
    "a an and are as at be because both by did do does every for from get go gives has in into is it its "
    "made many most not of off on one or other over says so than that the their them then these this those to "
    "too until up was were what when where which while who whose with".split()
)


def words_of(text: str, stop_words: Iterable[str] = STOP_WORDS) -> list[str]:
    """The lower-cased words of a text, in order, stop words left out."""
    stop_words = frozenset(stop_words)
    return [word for word in _WORD.findall(text.lower()) if word not in stop_words]


@dataclass(frozen=True)
class DocumentWordMatrix:
    """X (documents, words): X[d, w] counts word ``words[w]`` in document d; words in alphabetical order."""

    words: tuple[str, ...]
    counts: np.ndarray  # (documents, words), int


def document_word_matrix(documents: Sequence[str], stop_words: Iterable[str] = STOP_WORDS) -> DocumentWordMatrix:
    """Count every word (stop words left out) of every document."""
    tokenized = [words_of(document, stop_words) for document in documents]
    words = tuple(sorted({word for document in tokenized for word in document}))
    column = {word: w for w, word in enumerate(words)}
    counts = np.zeros((len(documents), len(words)), dtype=int)
    for d, document in enumerate(tokenized):
        for word in document:
            counts[d, column[word]] += 1
    return DocumentWordMatrix(words, counts)


def word_similarity(counts: np.ndarray) -> np.ndarray:
    """cos(u, v) between the columns of X (documents, words) → (words, words); 0 for a word that never occurs."""
    columns = counts.astype(np.float64)
    norms = np.linalg.norm(columns, axis=0)
    unit = np.divide(columns, norms, out=np.zeros_like(columns), where=norms > 0)
    return unit.T @ unit


def similarity_graph(
    words: Sequence[str], similarity: np.ndarray, threshold: float = 0.0, k: int | None = None
) -> nx.Graph:
    """Undirected word graph: an edge u — v of ``weight`` cos(u, v) when cos ≥ threshold and, with ``k``, v is
    among u's k most similar words or u among v's (no self-loops). Nodes carry a ``label``."""
    off_diagonal = similarity * (1 - np.eye(len(words)))
    keep = threshold_mask(off_diagonal, threshold) & (off_diagonal > 0)
    if k is not None:
        nearest = top_k_mask(off_diagonal, k)
        keep &= nearest | nearest.T
    graph = nx.Graph()
    graph.add_nodes_from((w, {"label": word}) for w, word in enumerate(words))
    graph.add_weighted_edges_from((int(u), int(v), float(similarity[u, v])) for u, v in zip(*np.nonzero(np.triu(keep))))
    return graph


def known_words(matrix: DocumentWordMatrix, labels: Sequence[str]) -> tuple[list[int], list[int]]:
    """(positions in ``labels``, columns of X) of the labels that are corpus words; each word at its first place."""
    column = {word: w for w, word in enumerate(matrix.words)}
    first: dict[str, int] = {}
    for position, label in enumerate(labels):
        first.setdefault(label.lower(), position)
    known = [(position, column[word]) for word, position in first.items() if word in column]
    return [position for position, _ in known], [w for _, w in known]
