"""The translator's encoder as a model of the attention page: the same duck-typed interface as
``core.transformer.models.AttentionModel`` (``name``, ``note``, ``network``, ``causal``, ``engine``, ``max_tokens``,
``tokenize``, ``run``, ``analyse``), so that its encoder self-attention heads show as word graphs.

A token is a segmented word (longest match over the grammar's vocabulary), with its character span in the typed
text; there are no special tokens and no sentence pairs. Input longer than the model's positions is truncated and
flagged, as the attention page expects; ``translation`` refuses it instead.
"""

from __future__ import annotations

import torch

from core.transformer.models import AttentionResult
from core.transformer.tokens import Tokenized, Word
from core.translation.corpus import segment_spans
from core.translation.model import Translation, Translator, translate

TRANSLATOR_NAME = "Small Transformer, trained here (Japanese → English)"
TRANSLATOR_NOTE = (
    "The small Transformer trained in this app translates simple Japanese sentences into English; this page shows "
    "its encoder's self-attention. It knows only the words of its grammar (私 は 今日 東京 に 行く …) and reads one "
    "sentence, without [CLS] or [SEP]. The encoder mixes the words, so each position is mostly, not only, its word."
)


class PairNotSupportedError(ValueError):
    """The small Transformer reads one sentence, not a pair."""


class TranslatorAttentionModel:
    """A trained ``Translator`` behind ``AttentionModel``'s interface, plus ``translation`` for its own page."""

    network = None  # its encoder is core.translation.model's, not a core.transformer Network
    causal = False  # the views show its encoder's self-attention, which reads the whole sentence
    engine = "core"

    def __init__(self, model: Translator, name: str = TRANSLATOR_NAME, note: str = TRANSLATOR_NOTE):
        self.model, self.name, self.note = model.eval(), name, note

    @property
    def max_tokens(self) -> int:
        return self.model.config.max_length

    def tokenize(self, text: str, pair: str | None = None) -> Tokenized:
        """One token per segmented word; raises EmptyTextError, UnknownWordError or PairNotSupportedError."""
        if pair is not None and pair.strip():
            raise PairNotSupportedError("The small Transformer reads one sentence: leave the second sentence empty.")
        segmented = segment_spans(text)
        kept = segmented[: self.max_tokens]
        words = tuple(word for word, _ in kept)
        return Tokenized(
            text=text,
            pair=None,
            tokens=words,
            input_ids=tuple(self.model.source_vocabulary.encode(words)),
            token_type_ids=(0,) * len(kept),
            sentences=(0,) * len(kept),
            offsets=tuple(span for _, span in kept),
            words=tuple(Word(word, (i,), 0, span) for i, (word, span) in enumerate(kept)),
            truncated=len(kept) < len(segmented),
            untruncated_length=len(segmented),
        )

    @torch.no_grad()
    def run(self, tokenized: Tokenized) -> AttentionResult:
        """The encoder on the words: attentions (layers, heads, s, s), hidden states (layers + 1, s, d), queries,
        keys and values (layers, heads, s, d_head)."""
        encoded = self.model.encode(torch.tensor([tokenized.input_ids]))
        return AttentionResult(
            self.name,
            tokenized,
            encoded.attentions[:, 0].numpy(),
            encoded.hidden_states[:, 0].numpy(),
            encoded.queries[:, 0].numpy(),
            encoded.keys[:, 0].numpy(),
            encoded.values[:, 0].numpy(),
        )

    def analyse(self, text: str, pair: str | None = None) -> AttentionResult:
        """Tokenize and run: text → the encoder's attention."""
        return self.run(self.tokenize(text, pair))

    def translation(self, text: str) -> Translation:
        """The greedy translation of ``text`` with its encoder, cross- and decoder attention; raises
        SentenceTooLongError beyond the model's positions."""
        return translate(self.model, [word for word, _ in segment_spans(text)])
