"""Which input words make the output what it is? Integrated gradients (Sundararajan, Taly & Yan 2017, "Axiomatic
Attribution for Deep Networks", arXiv 1703.01365) beside attention rollout.

The bundled model's output is the sentence embedding e(x) = normalize(mean_t h^L_t) (``ablation``), a vector;
attribution needs one number:

    one sentence:   f(x) = e(x) · e₀          e₀ = the input's own embedding, held fixed: f = 1 at the input
    a pair (A, B):  f = cos(e(A), e(B)) = e(A) · e(B)     each sentence encoded on its own, as sentence-transformers

Integrated gradients, over the word embeddings x (tokens, hidden), along the straight path from a baseline x':

    IG_tk = (x_tk − x'_tk) ∫₀¹ ∂f(x' + α (x − x')) / ∂x_tk dα

computed by captum with a Gauss–Legendre rule of STEPS points. Completeness: the integral's IG sum to
f(x) − f(x'); the rule's error delta = Σ IG − (f(x) − f(x')) comes with the result, and |delta| / |f(x) − f(x')|
as a percentage. Per token a_t = Σ_k IG_tk; per word the sum over its tokens.

Baseline: every ordinary token's word embedding replaced by [PAD]'s, the model's "no word"; positions and segments
stay. [CLS] and [SEP] keep their own embeddings: they are the same in every input, so the attribution goes to the
words alone, and a special token's is exactly 0 (x = x' there).

A pair is attributed one sentence at a time, the other held fixed: A's attributions are those of
f_A(x) = e(x) · e(B) with e(B) fixed (the one-sentence case with e(B) in place of e₀), B's symmetrically, and
completeness holds for each sentence: Σ_A a = cos(A, B) − cos(A', B). Integrating both sentences along one path
would instead split cos(A, B) − cos(A', B') between them, against a baseline pair of two "empty" sentences
([CLS] [PAD] … [SEP]) whose cosine is itself high (0.95 on the bundled model, exactly 1 when A and B have as many
tokens), so that most attributions would say "less alike than two empty sentences"; one at a time, each sentence's
attributions say which of its words bring it towards the other.

Beside the gradients, attention rollout (``rollout``): the mean-pooled output takes input token j's share
r_j = (1/n) Σ_i R^L[i, j], with Σ_j r_j = 1. Spearman's rank correlation between a_t and r_t over the ordinary
tokens (special tokens have a = 0 by construction, where rollout gives the attention sinks large shares) measures
how far attention's picture agrees with the gradients'.

For a pair tokenized jointly ([CLS] A [SEP] B [SEP], as the attention page shows it), ``pair_attention_summary`` tells
how each word of B reads each word of A: word attention (``graph.word_attention``) averaged over all layers and
heads, or rollout R^L, the block of B's rows and A's columns, each row renormalised to sum to 1. A row's share
that crosses to the other sentence is small beside [SEP] and the word itself, and rollout's residual path makes it
smaller still; renormalised, a row is the distribution over A's words of what that word of B reads there, the same
scale for every row and for both methods.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from captum.attr import IntegratedGradients
from scipy.stats import spearmanr

from core.analysis.ablation import mean_pooled_embedding
from core.analysis.graph import word_attention
from core.analysis.rollout import rollout
from core.transformer.encoder import Encoder
from core.transformer.tokens import Tokenized

STEPS = 32  # Gauss–Legendre points: completeness within 1 % on the bundled model's sentences and pairs


@dataclass(frozen=True)
class Attribution:
    """Integrated gradients of one sentence, beside attention rollout.

    token_attributions (tokens,) and word_attributions (words,) sum (up to ``delta``) to f_input − f_baseline;
    rollout (tokens,) is the pooled output's share of each input token; spearman compares the two over the ordinary
    tokens (nan with fewer than two)."""

    tokens: list[str]
    words: list[str]
    token_attributions: np.ndarray
    word_attributions: np.ndarray
    f_input: float
    f_baseline: float
    delta: float  # Σ attributions − (f_input − f_baseline): the integration rule's error
    rollout: np.ndarray
    spearman: float

    @property
    def completeness_error_percent(self) -> float:
        """|delta| / |f_input − f_baseline| in %."""
        return 100 * abs(self.delta) / abs(self.f_input - self.f_baseline)


def rollout_of_pooled_output(attentions: np.ndarray) -> np.ndarray:
    """r (n,) from attentions (layers, heads, n, n): the mean over output tokens i of R^L[i, :], the mean-pooled
    output's share of each input token; sums to 1."""
    return rollout(attentions)[-1].mean(axis=0)


class SentenceEmbedding:
    """e(word vectors) for one tokenized sentence: (batch, tokens, hidden) → (batch, hidden), differentiable."""

    def __init__(self, network: Encoder, tokenized: Tokenized):
        self.network = network
        self.input_ids = torch.tensor([tokenized.input_ids])  # (1, tokens)
        self.token_type_ids = torch.tensor([tokenized.token_type_ids])
        self.input_vectors = network.word_vectors(self.input_ids)  # (1, tokens, hidden)
        pad = torch.full_like(self.input_ids, network.config.pad_token_id)
        special = torch.tensor([tokenized.special])
        self.baseline_vectors = network.word_vectors(torch.where(special, self.input_ids, pad))

    def __call__(self, word_vectors: torch.Tensor) -> torch.Tensor:
        return self.run(word_vectors)[0]

    def run(self, word_vectors: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(embeddings (batch, hidden), attentions (layers, batch, heads, tokens, tokens))."""
        batch = word_vectors.shape[0]
        ids, segments = self.input_ids.expand(batch, -1), self.token_type_ids.expand(batch, -1)
        output = self.network.forward(self.network.embed_vectors(word_vectors, ids, segments))
        return mean_pooled_embedding(output.hidden_states[-1]), output.attentions


def sentence_embedding(network: Encoder, tokenized: Tokenized) -> torch.Tensor:
    """e (hidden,) of one sentence, outside inference mode: usable as a fixed direction inside autograd."""
    embedding = SentenceEmbedding(network, tokenized)
    with torch.no_grad():
        return embedding(embedding.input_vectors)[0]


def integrated_gradients(
    network: Encoder, tokenized: Tokenized, direction: torch.Tensor | None = None, steps: int = STEPS
) -> Attribution:
    """Integrated gradients of f(x) = e(x) · direction over the word embeddings of one sentence; ``direction``
    (hidden,) defaults to the sentence's own embedding e₀ (f = 1 at the input)."""
    embedding = SentenceEmbedding(network, tokenized)
    with torch.no_grad():
        embeddings, attentions = embedding.run(torch.cat([embedding.input_vectors, embedding.baseline_vectors]))
    direction = embeddings[0] if direction is None else direction  # (hidden,)
    f_input, f_baseline = (embeddings @ direction).tolist()
    gradients = IntegratedGradients(lambda word_vectors: embedding(word_vectors) @ direction)
    attributions, delta = gradients.attribute(
        embedding.input_vectors,
        embedding.baseline_vectors,
        n_steps=steps,
        return_convergence_delta=True,
    )
    per_token = attributions[0].sum(dim=-1).detach().double().numpy()  # (tokens,)
    shares = rollout_of_pooled_output(attentions[:, 0].numpy())  # (tokens,)
    ordinary = ~np.array(tokenized.special)
    spearman = float(spearmanr(per_token[ordinary], shares[ordinary]).statistic) if ordinary.sum() > 1 else np.nan
    return Attribution(
        tokens=tokenized.token_labels,
        words=tokenized.word_labels,
        token_attributions=per_token,
        word_attributions=np.array([per_token[list(group)].sum() for group in tokenized.word_groups]),
        f_input=f_input,
        f_baseline=f_baseline,
        delta=float(delta.item()),
        rollout=shares,
        spearman=spearman,
    )


def pair_integrated_gradients(
    network: Encoder, first: Tokenized, second: Tokenized, steps: int = STEPS
) -> tuple[Attribution, Attribution]:
    """Integrated gradients of f = cos(e(A), e(B)) for sentences A = ``first`` and B = ``second``, each tokenized on
    its own: A's attributions with e(B) held fixed, then B's with e(A) held fixed. Both f_input are cos(e(A), e(B))."""
    first_embedding, second_embedding = sentence_embedding(network, first), sentence_embedding(network, second)
    return (
        integrated_gradients(network, first, second_embedding, steps),
        integrated_gradients(network, second, first_embedding, steps),
    )


def pair_attention_summary(
    tokenized: Tokenized, attentions: np.ndarray, method: Literal["attention", "rollout"] = "attention"
) -> tuple[list[str], list[str], np.ndarray]:
    """(B's words, A's words, matrix (B words, A words)) for a pair tokenized jointly, attentions (layers, heads, n,
    n): how each word of B reads each word of A, through the attention averaged over layers and heads or through
    rollout R^L; each row renormalised to sum to 1."""
    if tokenized.pair is None or tokenized.causal:
        raise ValueError("the summary reads a sentence pair tokenized jointly by an encoder")
    tokens = attentions.mean(axis=(0, 1)) if method == "attention" else rollout(attentions)[-1]  # (n, n)
    words = word_attention(tokens, tokenized.word_groups)  # (words, words)
    first = [index for index, word in enumerate(tokenized.words) if word.sentence == 0]
    second = [index for index, word in enumerate(tokenized.words) if word.sentence == 1]
    block = words[np.ix_(second, first)]  # (B words, A words)
    labels = tokenized.word_labels
    return [labels[i] for i in second], [labels[i] for i in first], block / block.sum(axis=-1, keepdims=True)
