"""What a view shows: tokens or whole words, with or without the attention sinks ([CLS]/[SEP], a decoder's first
token), one head or a layer's average."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.analysis.graph import drop_tokens, word_attention
from core.transformer.tokens import Tokenized


@dataclass(frozen=True)
class ViewOptions:
    """words: merge subwords into words (Clark et al. 2019); hide_special: drop the sink tokens (``Tokenized.sinks``:
    an encoder's special tokens, a decoder's first token) and renormalise rows; readable: labels without byte-level
    space markers (export keeps the tokenizer's exact tokens)."""

    words: bool = False
    hide_special: bool = False
    readable: bool = True


def _unit_sinks(tokenized: Tokenized, options: ViewOptions) -> list[bool]:
    """``Tokenized.sinks`` in the view's units (words or tokens), before any is hidden."""
    return list(tokenized.word_sinks if options.words else tokenized.sinks)


def attention_view(tokenized: Tokenized, attentions: np.ndarray, options: ViewOptions) -> tuple[list[str], np.ndarray]:
    """(labels, attention (…, n, n)) for the chosen units; ``attentions`` is (…, tokens, tokens)."""
    special = _unit_sinks(tokenized, options)
    if options.words:
        labels, attentions = tokenized.word_labels, word_attention(attentions, tokenized.word_groups)
    else:
        labels = tokenized.token_labels if options.readable else list(tokenized.tokens)
    if options.hide_special and not all(special):
        kept = [i for i, is_special in enumerate(special) if not is_special]
        labels, attentions = [labels[i] for i in kept], drop_tokens(attentions, kept)
    return labels, attentions


def view_sinks(tokenized: Tokenized, options: ViewOptions) -> list[bool]:
    """Per label of ``attention_view``: is it a sink (``Tokenized.sinks``: [CLS]/[SEP], a decoder's first token)?"""
    sinks = _unit_sinks(tokenized, options)
    if options.hide_special and not all(sinks):
        return [False] * (len(sinks) - sum(sinks))
    return sinks


def view_position(tokenized: Tokenized, word: int, options: ViewOptions) -> int | None:
    """Where word ``word`` (an index into ``tokenized.words``) stands in ``attention_view``'s labels: the word
    itself, or its first token in token units; None when the view hides it (a sink)."""
    special = _unit_sinks(tokenized, options)
    index = word if options.words else tokenized.words[word].tokens[0]
    if not options.hide_special or all(special):
        return index
    return None if special[index] else index - sum(special[:index])


def head_matrix(attentions: np.ndarray, layer: int, head: int | None) -> np.ndarray:
    """One head's matrix from (layers, heads, n, m), or the mean over the layer's heads when ``head`` is None (rows
    stay stochastic); m = n for self-attention, the source length for cross-attention."""
    return attentions[layer].mean(axis=0) if head is None else attentions[layer, head]
