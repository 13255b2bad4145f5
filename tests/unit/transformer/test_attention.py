"""Scaled dot-product attention against transformers' eager BERT attention, on random inputs."""

import pytest
import torch
from transformers.models.bert.modeling_bert import eager_attention_forward

from core.transformer.attention import additive_mask, merge_heads, scaled_dot_product_attention, split_heads


class _Eval(torch.nn.Module):
    training = False


@pytest.mark.parametrize("dtype, tolerance", [(torch.float32, 1e-6), (torch.float64, 1e-12)])
@pytest.mark.parametrize("tokens, heads, d_head", [(1, 1, 4), (7, 3, 8), (33, 12, 32)])
def test_equals_transformers_eager_attention_with_padding(tokens, heads, d_head, dtype, tolerance):
    torch.manual_seed(tokens * heads)
    queries, keys, values = (torch.randn(2, heads, tokens, d_head, dtype=dtype) for _ in range(3))
    padding = torch.ones(2, tokens, dtype=torch.long)
    padding[1, tokens // 2 + 1 :] = 0  # the second input is shorter
    mask = additive_mask(padding, dtype)

    outputs, probabilities = scaled_dot_product_attention(queries, keys, values, mask)
    reference_outputs, reference_probabilities = eager_attention_forward(_Eval(), queries, keys, values, mask)

    assert torch.allclose(probabilities, reference_probabilities, atol=tolerance, rtol=0)
    assert torch.allclose(merge_heads(outputs), reference_outputs.flatten(2), atol=tolerance, rtol=0)


def test_rows_are_distributions_and_padding_gets_no_weight():
    torch.manual_seed(0)
    queries, keys, values = (torch.randn(1, 2, 5, 4) for _ in range(3))
    padding = torch.tensor([[1, 1, 1, 0, 0]])
    _, probabilities = scaled_dot_product_attention(queries, keys, values, additive_mask(padding))
    assert torch.allclose(probabilities.sum(-1), torch.ones(1, 2, 5))
    assert probabilities[..., 3:].abs().max() == 0


def test_matches_the_formula_softmax_of_scaled_scores():
    torch.manual_seed(1)
    queries, keys, values = (torch.randn(6, 8, dtype=torch.float64) for _ in range(3))
    outputs, probabilities = scaled_dot_product_attention(queries, keys, values)
    scores = queries @ keys.T / 8**0.5
    expected = torch.exp(scores) / torch.exp(scores).sum(-1, keepdim=True)
    assert torch.allclose(probabilities, expected, atol=1e-14)
    assert torch.allclose(outputs, expected @ values, atol=1e-14)


def test_split_then_merge_heads_is_the_identity():
    states = torch.arange(2 * 5 * 12, dtype=torch.float32).view(2, 5, 12)
    split = split_heads(states, 3)
    assert split.shape == (2, 3, 5, 4)
    assert torch.equal(split[0, 1, 2], states[0, 2, 4:8])  # head 1 holds columns 4..7
    assert torch.equal(merge_heads(split), states)
