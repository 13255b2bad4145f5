"""The encoder–decoder Transformer of Vaswani et al. 2017 (arXiv 1706.03762), small, on core's attention kernel.

    x⁰ = √d · E[source] + PE                    PE(p, 2i) = sin(p / 10000^(2i/d)), PE(p, 2i+1) = cos(…)
    encoder layer:  x ← Norm(x + MHA(x, x))  then  x ← Norm(x + FFN(x))               FFN(x) = ReLU(x W₁ + b₁) W₂ + b₂
    decoder layer:  y ← Norm(y + MHA_causal(y, y)),  y ← Norm(y + MHA(y, memory)),  y ← Norm(y + FFN(y))
    p(next word) = softmax(y W_out + b_out)

MHA(x, m) = concat_h softmax(x W_Q^h (m W_K^h)ᵀ / √d_h + M) m W_V^h · W_O, with M the source's padding (encoder,
cross-attention) or the causal mask (decoder self-attention). That is the post-norm layer of the paper
(``norm_first=False``); ``norm_first=True`` is the pre-norm variant x ← x + MHA(Norm(x)), … with a final norm
after each stack. Each layer equals ``torch.nn.TransformerEncoderLayer`` / ``TransformerDecoderLayer`` (ReLU,
dropout 0) on the same weights: tests/unit/translation/test_model.py. Embeddings are drawn from N(0, 1/d), so that
√d · E has the scale of PE. In training, dropout (§5.4) acts on the embeddings and on each sublayer's output before
its residual sum; the default 0.3 was measured to make the cross-attention align more cleanly (the copy of a word
that attention moves elsewhere is dropped at times, its own position never), see core.translation.training.

Every attention map is returned: encoder self-attention (layers, heads, s, s), decoder causal self-attention
(layers, heads, t, t) and cross-attention (layers, heads, t, s), rows = queries. Row i of the decoder's maps is the
step that emits target word i: its query is the decoder's input at i, <bos> for i = 0 and target word i − 1 after.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from core.transformer.attention import additive_mask, merge_heads, scaled_dot_product_attention, split_heads
from core.translation.corpus import Vocabulary


@dataclass(frozen=True)
class TranslatorConfig:
    """The architecture. ``max_length`` bounds the source words and the decoder's steps (positions)."""

    encoder_layers: int = 1
    decoder_layers: int = 1
    heads: int = 1
    d_model: int = 64
    d_ff: int = 128
    norm_first: bool = False
    dropout: float = 0.3
    max_length: int = 16
    layer_norm_eps: float = 1e-5

    def __post_init__(self):
        if min(self.encoder_layers, self.decoder_layers, self.heads) < 1:
            raise ValueError("the model needs at least one encoder layer, one decoder layer and one head")
        if self.d_model % self.heads:
            raise ValueError(f"d_model ({self.d_model}) must be a multiple of heads ({self.heads})")

    @property
    def d_head(self) -> int:
        return self.d_model // self.heads

    def to_dict(self) -> dict:
        return asdict(self)


class SentenceTooLongError(ValueError):
    """More words than the model has positions for."""


class Attended(NamedTuple):
    """One multi-head attention: output (batch, q, d), probabilities (batch, heads, q, k) and the per-head
    queries (batch, heads, q, d_head), keys and values (batch, heads, k, d_head)."""

    output: torch.Tensor
    probabilities: torch.Tensor
    queries: torch.Tensor
    keys: torch.Tensor
    values: torch.Tensor


class MultiHeadAttention(nn.Module):
    """Projections around ``core.transformer.attention.scaled_dot_product_attention``."""

    def __init__(self, d_model: int, heads: int):
        super().__init__()
        self.heads = heads
        self.query, self.key, self.value, self.output = (nn.Linear(d_model, d_model) for _ in range(4))

    def forward(self, states: torch.Tensor, memory: torch.Tensor, mask: torch.Tensor | None = None) -> Attended:
        """``states`` (batch, q, d) attend to ``memory`` (batch, k, d); ``mask`` additive, broadcast to
        (batch, heads, q, k)."""
        queries = split_heads(self.query(states), self.heads)  # (batch, heads, q, d_head)
        keys = split_heads(self.key(memory), self.heads)  # (batch, heads, k, d_head)
        values = split_heads(self.value(memory), self.heads)
        messages, probabilities = scaled_dot_product_attention(queries, keys, values, mask)
        return Attended(self.output(merge_heads(messages)), probabilities, queries, keys, values)


class FeedForward(nn.Module):
    """FFN(x) = ReLU(x W₁ + b₁) W₂ + b₂, on every position alone."""

    def __init__(self, d_model: int, d_ff: int):
        super().__init__()
        self.intermediate, self.output = nn.Linear(d_model, d_ff), nn.Linear(d_ff, d_model)

    def forward(self, states: torch.Tensor) -> torch.Tensor:
        return self.output(F.relu(self.intermediate(states)))


class Sublayer(nn.Module):
    """A residual connection with its layer norm: Norm(x + f(x)) after, or x + f(Norm(x)) before (``norm_first``)."""

    def __init__(self, config: TranslatorConfig):
        super().__init__()
        self.norm = nn.LayerNorm(config.d_model, eps=config.layer_norm_eps)
        self.norm_first = config.norm_first
        self.dropout = nn.Dropout(config.dropout)

    def input(self, states: torch.Tensor) -> torch.Tensor:
        """What f reads."""
        return self.norm(states) if self.norm_first else states

    def forward(self, states: torch.Tensor, update: torch.Tensor) -> torch.Tensor:
        """The residual sum, given f's output ``update``."""
        update = self.dropout(update)
        return states + update if self.norm_first else self.norm(states + update)


class EncoderLayer(nn.Module):
    def __init__(self, config: TranslatorConfig):
        super().__init__()
        self.self_attention = MultiHeadAttention(config.d_model, config.heads)
        self.feed_forward = FeedForward(config.d_model, config.d_ff)
        self.attention_sublayer, self.feed_forward_sublayer = Sublayer(config), Sublayer(config)

    def forward(self, states: torch.Tensor, source_mask: torch.Tensor) -> tuple[torch.Tensor, Attended]:
        """(batch, s, d) → (batch, s, d), and the self-attention."""
        attention_input = self.attention_sublayer.input(states)
        attended = self.self_attention(attention_input, attention_input, source_mask)
        states = self.attention_sublayer(states, attended.output)
        states = self.feed_forward_sublayer(states, self.feed_forward(self.feed_forward_sublayer.input(states)))
        return states, attended


class DecoderLayer(nn.Module):
    def __init__(self, config: TranslatorConfig):
        super().__init__()
        self.self_attention = MultiHeadAttention(config.d_model, config.heads)
        self.cross_attention = MultiHeadAttention(config.d_model, config.heads)
        self.feed_forward = FeedForward(config.d_model, config.d_ff)
        self.self_sublayer, self.cross_sublayer, self.feed_forward_sublayer = (Sublayer(config) for _ in range(3))

    def forward(
        self, states: torch.Tensor, memory: torch.Tensor, causal_mask: torch.Tensor, source_mask: torch.Tensor
    ) -> tuple[torch.Tensor, Attended, Attended]:
        """(batch, t, d) with the encoder's memory (batch, s, d) → (batch, t, d), self- and cross-attention."""
        self_input = self.self_sublayer.input(states)
        itself = self.self_attention(self_input, self_input, causal_mask)
        states = self.self_sublayer(states, itself.output)
        cross = self.cross_attention(self.cross_sublayer.input(states), memory, source_mask)
        states = self.cross_sublayer(states, cross.output)
        states = self.feed_forward_sublayer(states, self.feed_forward(self.feed_forward_sublayer.input(states)))
        return states, itself, cross


def sinusoidal_positions(length: int, d_model: int) -> torch.Tensor:
    """PE (length, d_model): sin on even, cos on odd dimensions, wavelengths 2π … 10000 · 2π (§3.5)."""
    positions = torch.arange(length, dtype=torch.float32)[:, None]
    frequencies = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float32) * (-math.log(10000.0) / d_model))
    table = torch.zeros(length, d_model)
    table[:, 0::2] = torch.sin(positions * frequencies)
    table[:, 1::2] = torch.cos(positions * frequencies[: d_model // 2])
    return table


def causal_mask(length: int) -> torch.Tensor:
    """(length, length) additive: 0 on and below the diagonal, the most negative float above (no future words)."""
    return torch.full((length, length), torch.finfo(torch.float32).min).triu(1)


class EncoderOutput(NamedTuple):
    """memory (batch, s, d) for the decoder; hidden_states (layers + 1, batch, s, d); attentions
    (layers, batch, heads, s, s); queries, keys, values (layers, batch, heads, s, d_head)."""

    memory: torch.Tensor
    hidden_states: torch.Tensor
    attentions: torch.Tensor
    queries: torch.Tensor
    keys: torch.Tensor
    values: torch.Tensor


class TranslatorOutput(NamedTuple):
    """logits (batch, t, target vocabulary); encoder (layers, batch, heads, s, s), decoder self
    (layers, batch, heads, t, t) and cross-attention (layers, batch, heads, t, s)."""

    logits: torch.Tensor
    encoder_attentions: torch.Tensor
    decoder_attentions: torch.Tensor
    cross_attentions: torch.Tensor


class Translator(nn.Module):
    """Source word ids → target word logits, with every attention map; carries its two vocabularies."""

    positions: torch.Tensor  # (max_length, d_model), a buffer

    def __init__(self, config: TranslatorConfig, source: Vocabulary, target: Vocabulary):
        super().__init__()
        self.config, self.source_vocabulary, self.target_vocabulary = config, source, target
        d = config.d_model
        self.source_embedding = nn.Embedding(len(source), d, padding_idx=Vocabulary.PAD)
        self.target_embedding = nn.Embedding(len(target), d, padding_idx=Vocabulary.PAD)
        for embedding in (self.source_embedding, self.target_embedding):  # × √d below gives unit variance
            nn.init.normal_(embedding.weight, std=d**-0.5)
            nn.init.zeros_(embedding.weight[Vocabulary.PAD])
        self.register_buffer("positions", sinusoidal_positions(config.max_length, d), persistent=False)
        self.encoder_layers = nn.ModuleList(EncoderLayer(config) for _ in range(config.encoder_layers))
        self.decoder_layers = nn.ModuleList(DecoderLayer(config) for _ in range(config.decoder_layers))
        final_norm = (lambda: nn.LayerNorm(d, eps=config.layer_norm_eps)) if config.norm_first else nn.Identity
        self.encoder_norm, self.decoder_norm = final_norm(), final_norm()
        self.generator = nn.Linear(d, len(target))
        self.embedding_dropout = nn.Dropout(config.dropout)

    def embed(self, ids: torch.Tensor, embedding: nn.Embedding) -> torch.Tensor:
        """(batch, n) ids → (batch, n, d): √d · E[ids] + PE."""
        if ids.shape[1] > self.config.max_length:
            raise SentenceTooLongError(
                f"{ids.shape[1]} words are more than this model's {self.config.max_length} positions."
            )
        return self.embedding_dropout(embedding(ids) * self.config.d_model**0.5 + self.positions[: ids.shape[1]])

    @staticmethod
    def source_mask(source_ids: torch.Tensor) -> torch.Tensor:
        """(batch, 1, 1, s) additive: padding keys get no attention."""
        return additive_mask(source_ids != Vocabulary.PAD)

    def encode(self, source_ids: torch.Tensor) -> EncoderOutput:
        """(batch, s) source ids → the memory and everything the encoder computed."""
        mask = self.source_mask(source_ids)
        states = self.embed(source_ids, self.source_embedding)
        hidden, attended = [states], []
        for layer in self.encoder_layers:
            states, attention = layer(states, mask)
            hidden.append(states)
            attended.append(attention)
        attentions, queries, keys, values = (torch.stack(parts) for parts in zip(*(a[1:] for a in attended)))
        return EncoderOutput(self.encoder_norm(states), torch.stack(hidden), attentions, queries, keys, values)

    def decode(
        self, memory: torch.Tensor, source_ids: torch.Tensor, target_ids: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(batch, t) decoder inputs (<bos> + words) → logits (batch, t, V), self-attentions
        (layers, batch, heads, t, t), cross-attentions (layers, batch, heads, t, s)."""
        states = self.embed(target_ids, self.target_embedding)
        causal, source = causal_mask(target_ids.shape[1]), self.source_mask(source_ids)
        itself, cross = [], []
        for layer in self.decoder_layers:
            states, self_attended, cross_attended = layer(states, memory, causal, source)
            itself.append(self_attended.probabilities)
            cross.append(cross_attended.probabilities)
        return self.generator(self.decoder_norm(states)), torch.stack(itself), torch.stack(cross)

    def forward(self, source_ids: torch.Tensor, target_ids: torch.Tensor) -> TranslatorOutput:
        """Teacher forcing: (batch, s) source ids and (batch, t) decoder inputs → logits and every attention map."""
        encoded = self.encode(source_ids)
        logits, itself, cross = self.decode(encoded.memory, source_ids, target_ids)
        return TranslatorOutput(logits, encoded.attentions, itself, cross)


def pad(sequences: list[list[int]]) -> torch.Tensor:
    """Id lists → (batch, longest) with <pad> after each."""
    longest = max((len(s) for s in sequences), default=0)
    return torch.tensor([s + [Vocabulary.PAD] * (longest - len(s)) for s in sequences], dtype=torch.long)


@torch.no_grad()
def greedy_decode(model: Translator, sources: Sequence[Sequence[str]]) -> list[list[str]]:
    """Translate a batch of segmented sentences: at each step the likeliest next word or <eos> (never <pad> or
    <bos>), until <eos> or ``max_length`` words."""
    source_ids = pad([model.source_vocabulary.encode(words) for words in sources])
    memory = model.encode(source_ids).memory
    decoded = torch.full((len(sources), 1), Vocabulary.BOS, dtype=torch.long)
    finished = torch.zeros(len(sources), dtype=torch.bool)
    while decoded.shape[1] <= model.config.max_length and not finished.all():
        logits = model.decode(memory, source_ids, decoded)[0][:, -1]  # (batch, V)
        logits[:, [Vocabulary.PAD, Vocabulary.BOS]] = -math.inf  # never an output
        following = logits.argmax(dim=-1).masked_fill(finished, Vocabulary.PAD)
        decoded = torch.cat([decoded, following[:, None]], dim=1)
        finished |= following == Vocabulary.EOS
    return [model.target_vocabulary.decode(row[1:].tolist()) for row in decoded]


@dataclass(frozen=True)
class Translation:
    """One sentence through the model, batch axis removed; row i of the decoder's maps emits ``target[i]``
    (the <eos> step is left out). encoder_attention (layers, heads, s, s); cross_attention (layers, heads, t, s);
    decoder_attention (layers, heads, t, t), whose column j is the decoder input <bos> (j = 0) or target[j − 1];
    word_probabilities (t,): the probability the decoder gave ``target[i]`` at step i."""

    source: tuple[str, ...]
    target: tuple[str, ...]
    encoder_attention: np.ndarray
    cross_attention: np.ndarray
    decoder_attention: np.ndarray
    word_probabilities: np.ndarray


@torch.no_grad()
def attention_maps(model: Translator, pairs: Sequence[tuple[Sequence[str], Sequence[str]]]) -> list[Translation]:
    """The attention maps of each (source, target) pair, the decoder teacher-forced on the target (words without
    <bos>/<eos>); one batch, each map cut to its own sentence's lengths."""
    source_ids = pad([model.source_vocabulary.encode(source) for source, _ in pairs])
    decoder_inputs = pad([[Vocabulary.BOS] + model.target_vocabulary.encode(target[:-1]) for _, target in pairs])
    output = model(source_ids, decoder_inputs)
    labels = pad(
        [model.target_vocabulary.encode(target) for _, target in pairs]
    )  # (batch, t): the word each step emits
    chosen = torch.softmax(output.logits[:, : labels.shape[1]], dim=-1).gather(-1, labels[..., None])[..., 0]
    maps = []
    for k, (source, target) in enumerate(pairs):
        s, t = len(source), len(target)
        maps.append(
            Translation(
                tuple(source),
                tuple(target),
                output.encoder_attentions[:, k, :, :s, :s].numpy(),
                output.cross_attentions[:, k, :, :t, :s].numpy(),
                output.decoder_attentions[:, k, :, :t, :t].numpy(),
                chosen[k, :t].numpy(),
            )
        )
    return maps


def translate(model: Translator, source: Sequence[str]) -> Translation:
    """Greedy translation of one segmented sentence, with its attention maps."""
    if len(source) > model.config.max_length:
        raise SentenceTooLongError(
            f"The sentence has {len(source)} words; this model reads at most {model.config.max_length}."
        )
    return attention_maps(model, [(source, greedy_decode(model, [source])[0])])[0]
