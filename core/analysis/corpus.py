"""Sentences to analyse in bulk: the bundled corpus (assets/corpus.txt, one sentence a line, then the 1,200 WordNet
example sentences of assets/wordnet/, WordNet 3.0 licence) or an uploaded text."""

from __future__ import annotations

import re
from pathlib import Path

ASSETS = Path(__file__).resolve().parents[2] / "assets"
CORPUS_PATH = ASSETS / "corpus.txt"  # the chapter's themes: animals, streets, trains, graphs
WORDNET_PATH = ASSETS / "wordnet" / "sentences.txt"  # everyday English, WordNet 3.0's usage examples
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def split_sentences(text: str) -> list[str]:
    """The sentences of a text: every line, cut again after '.', '!' or '?' and a space; blank pieces dropped."""
    pieces = (piece.strip() for line in text.splitlines() for piece in _SENTENCE_END.split(line))
    return [piece for piece in pieces if piece]


def load_corpus(path: Path = CORPUS_PATH) -> list[str]:
    """The chapter's corpus: short English sentences about animals, streets, trains and graphs."""
    return split_sentences(path.read_text(encoding="utf-8"))


def load_bundled_sentences() -> list[str]:
    """Every bundled sentence: the chapter's corpus, then the WordNet examples (over 1,200 in all)."""
    return load_corpus() + load_corpus(WORDNET_PATH)
