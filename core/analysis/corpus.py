"""Sentences to analyse in bulk: the bundled corpus (assets/corpus.txt, one sentence a line) or an uploaded text."""

from __future__ import annotations

import re
from pathlib import Path

CORPUS_PATH = Path(__file__).resolve().parents[2] / "assets" / "corpus.txt"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def split_sentences(text: str) -> list[str]:
    """The sentences of a text: every line, cut again after '.', '!' or '?' and a space; blank pieces dropped."""
    pieces = (piece.strip() for line in text.splitlines() for piece in _SENTENCE_END.split(line))
    return [piece for piece in pieces if piece]


def load_corpus(path: Path = CORPUS_PATH) -> list[str]:
    """The bundled corpus: short English sentences about animals, streets, trains and graphs."""
    return split_sentences(path.read_text(encoding="utf-8"))
