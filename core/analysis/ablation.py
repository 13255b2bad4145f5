"""Does this head matter? Switch heads off and measure how far the model's output moves (Michel, Levy & Neubig 2019,
"Are Sixteen Heads Really Better than One?", arXiv 1905.10650).

Switching head h of layer l off multiplies its messages by 0 before the heads are merged (``merge_heads``'s
``head_mask``): the layer's output projection, residual and feed-forward then run on the other heads alone. The
bundled model is a sentence-embedding model (sentence-transformers' MiniLM: mean pooling, then unit length), so its
output is the sentence's embedding e, and a head's importance for one sentence is

    importance[l, h] = 1 − cos(e, e with head (l, h) off)        0: the head changes nothing; up to 2

For a sentence pair (A, B), embedded one sentence at a time as sentence-transformers does, the output is their
similarity s = cos(e_A, e_B), and a head's importance is how far switching it off in both moves it:

    change[l, h] = s with head (l, h) off − s                   negative: the head made the sentences more alike

Switching a head of layer l off changes nothing below layer l, so ``single_head_embeddings`` runs the sentence once
intact, keeping each layer's input, and starts the copies of layer l (one per head, each with that head off) from
that input: L·(L+1)/2 layer passes per head instead of L², 252 instead of 432 for 6 layers × 12 heads. Copies run
batched, as many at once as ABLATION_BUDGET_BYTES of attention maps allow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from core.transformer.models import AttentionModel, Network

ABLATION_BUDGET_BYTES = 64 * 2**20  # attention maps (copies · layers · heads · n² float32) held by one forward pass


def mean_pooled_embedding(hidden_states: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
    """sentence-transformers' Pooling (mean over the real tokens) and Normalize: (batch, tokens, hidden) → (batch,
    hidden) of unit length."""
    if attention_mask is None:
        pooled = hidden_states.mean(dim=1)
    else:
        weights = attention_mask[..., None].to(hidden_states.dtype)
        pooled = (hidden_states * weights).sum(dim=1) / weights.sum(dim=1).clamp_min(1e-9)
    return F.normalize(pooled, dim=-1)


def switched_off_mask(switched_off, layers: int, heads: int) -> torch.Tensor:
    """(1, layers, heads) of ones, with 0 at each (layer, head), 0-based, in ``switched_off``."""
    mask = torch.ones(1, layers, heads)
    for layer, head in switched_off:
        mask[0, layer, head] = 0
    return mask


def single_head_masks(layers: int, heads: int) -> torch.Tensor:
    """(1 + layers·heads, layers, heads): row 0 keeps every head; row 1 + l·heads + h switches head (l, h) off."""
    masks = torch.ones(1 + layers * heads, layers * heads)
    masks[1:] -= torch.eye(layers * heads)
    return masks.view(-1, layers, heads)


@torch.inference_mode()
def embeddings_with_heads(
    network: Network, input_ids: torch.Tensor, head_masks: torch.Tensor, token_type_ids: torch.Tensor | None = None
) -> torch.Tensor:
    """The mean-pooled embedding (copies, hidden) of one input (1, tokens) under each head mask (copies, layers,
    heads), in chunks that keep each forward pass's attention maps within ABLATION_BUDGET_BYTES."""
    config, tokens = network.config, input_ids.shape[-1]
    per_copy = 4 * config.num_layers * config.num_heads * tokens * tokens
    chunk = max(1, ABLATION_BUDGET_BYTES // per_copy)
    embeddings = []
    for masks in head_masks.split(chunk):
        copies = masks.shape[0]
        segments = None if token_type_ids is None else token_type_ids.expand(copies, -1)
        output = network(input_ids.expand(copies, -1), segments, head_mask=masks)
        embeddings.append(mean_pooled_embedding(output.hidden_states[-1]))
    return torch.cat(embeddings)


@torch.inference_mode()
def single_head_embeddings(
    network: Network, input_ids: torch.Tensor, token_type_ids: torch.Tensor | None = None
) -> torch.Tensor:
    """``embeddings_with_heads`` under ``single_head_masks``, (1 + layers·heads, hidden), computed without repeating
    the layers below each switched-off head: row 0 is the intact embedding, row 1 + l·heads + h has head (l, h)
    off."""
    layers, heads, tokens = network.config.num_layers, network.config.num_heads, input_ids.shape[-1]
    mask = network.attention_bias(torch.ones(1, tokens))
    states = network.embed(input_ids, token_type_ids)  # (1, tokens, hidden)
    layer_inputs = []
    for index in range(layers):
        layer_inputs.append(states)
        states = network.layer(states, mask, index)[0]
    embeddings = [mean_pooled_embedding(states)]
    chunk = max(1, ABLATION_BUDGET_BYTES // (4 * heads * tokens * tokens))  # copies whose maps fit the budget
    for first_layer, layer_input in enumerate(layer_inputs):
        for head_masks in (1 - torch.eye(heads)).split(chunk):  # copy h switches head h off: (copies, heads)
            states = network.layer(
                layer_input.expand(head_masks.shape[0], -1, -1), mask, first_layer, head_mask=head_masks
            )[0]
            for index in range(first_layer + 1, layers):
                states = network.layer(states, mask, index)[0]
            embeddings.append(mean_pooled_embedding(states))
    return torch.cat(embeddings)


def head_importance(
    network: Network, input_ids: torch.Tensor, token_type_ids: torch.Tensor | None = None
) -> torch.Tensor:
    """importance (layers, heads) = 1 − cos(e, e with that one head off), for one input (1, tokens)."""
    layers, heads = network.config.num_layers, network.config.num_heads
    embeddings = single_head_embeddings(network, input_ids, token_type_ids)
    return (1 - embeddings[1:] @ embeddings[0]).view(layers, heads)


def similarity_change(network: Network, first_ids: torch.Tensor, second_ids: torch.Tensor) -> torch.Tensor:
    """change (layers, heads) of cos(e_A, e_B) when that one head is off in both sentences, each (1, tokens) and
    embedded on its own."""
    layers, heads = network.config.num_layers, network.config.num_heads
    similarities = (single_head_embeddings(network, first_ids) * single_head_embeddings(network, second_ids)).sum(-1)
    return (similarities[1:] - similarities[0]).view(layers, heads)


@dataclass(frozen=True)
class HeadImportance:
    """Each head's importance for the model's output on one input: ``values`` (layers, heads) is 1 − cos of the
    embedding for one sentence, or the change of the pair's similarity (``pair``)."""

    values: np.ndarray
    pair: bool


def importance_of_heads(model: AttentionModel, text: str, pair: str | None = None) -> HeadImportance:
    """``head_importance`` of the text, or, given a second sentence and an encoder, ``similarity_change`` of the two
    (a decoder reads a pair as one text). The model must run on the core network."""
    if model.network is None:
        raise ValueError(f"{model.name} runs on transformers' code: its heads cannot be switched off")
    if pair and pair.strip() and not model.causal:
        first, second = (torch.tensor([model.tokenize(sentence).input_ids]) for sentence in (text, pair))
        return HeadImportance(similarity_change(model.network, first, second).numpy(), pair=True)
    tokenized = model.tokenize(text, pair)
    input_ids, token_type_ids = torch.tensor([tokenized.input_ids]), torch.tensor([tokenized.token_type_ids])
    return HeadImportance(head_importance(model.network, input_ids, token_type_ids).numpy(), pair=False)
