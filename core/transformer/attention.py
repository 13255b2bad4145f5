"""Scaled dot-product attention and the multi-head split/merge (Vaswani et al. 2017, arXiv 1706.03762, §3.2)."""

from __future__ import annotations

import torch


def split_heads(states: torch.Tensor, num_heads: int) -> torch.Tensor:
    """(batch, tokens, heads·d_head) → (batch, heads, tokens, d_head)."""
    batch, tokens, width = states.shape
    return states.view(batch, tokens, num_heads, width // num_heads).transpose(1, 2)


def merge_heads(states: torch.Tensor, head_mask: torch.Tensor | None = None) -> torch.Tensor:
    """(batch, heads, tokens, d_head) → (batch, tokens, heads·d_head): the heads' outputs side by side.

    ``head_mask`` (batch, heads) scales each head's output first: 1 keeps a head, 0 switches it off (transformers'
    former ``head_mask``; Michel et al. 2019)."""
    if head_mask is not None:
        states = states * head_mask[:, :, None, None]
    batch, heads, tokens, d_head = states.shape
    return states.transpose(1, 2).reshape(batch, tokens, heads * d_head)


def additive_mask(attention_mask: torch.Tensor, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Padding mask (batch, tokens) of 1 = real, 0 = padding → additive bias (batch, 1, 1, tokens).

    Real keys get 0, padding keys the most negative finite number, so that softmax gives them zero weight.
    """
    bias = torch.zeros(attention_mask.shape, dtype=dtype)
    bias = bias.masked_fill(attention_mask == 0, torch.finfo(dtype).min)
    return bias[:, None, None, :]


def scaled_dot_product_attention(
    queries: torch.Tensor,
    keys: torch.Tensor,
    values: torch.Tensor,
    mask: torch.Tensor | None = None,
    scale: float | None = None,
    out: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Attention(Q, K, V) = softmax(Q Kᵀ · s + M) V, with s = 1/√d_k unless ``scale`` says otherwise.

    queries, keys, values: (..., tokens, d_head); mask: additive, broadcastable to (..., tokens, tokens).
    Returns (outputs (..., tokens, d_head), probabilities (..., tokens, tokens)); each row of the probabilities is
    one query's distribution over the keys, i.e. one node's outgoing edge weights in the attention graph. ``out``
    (..., tokens, tokens), if given, receives the probabilities: a slice of a model's stacked maps, filled in place
    rather than copied there afterwards.
    """
    scores = torch.matmul(queries, keys.transpose(-1, -2), out=out)
    scores.mul_(queries.shape[-1] ** -0.5 if scale is None else scale)
    if mask is not None:
        scores.add_(mask)
    probabilities = torch.softmax(scores, dim=-1) if out is None else torch.softmax(scores, dim=-1, out=out)
    return torch.matmul(probabilities, values), probabilities
