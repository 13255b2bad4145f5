"""Integrated gradients over the word embeddings: the differentiable path equals the inference path and its gradients
equal finite differences (gradcheck in float64); completeness within 1 % at 32 steps; rollout's pooled share and the
pair summary."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from transformers import AutoModel, BertConfig

from core.analysis.ablation import mean_pooled_embedding
from core.analysis.attribution import (
    integrated_gradients,
    pair_attention_summary,
    pair_integrated_gradients,
    rollout_of_pooled_output,
)
from core.transformer.encoder import Encoder, EncoderConfig

SENTENCE = "The animal didn't cross the street because it was too tired."
FIRST, SECOND = "A man is playing a guitar.", "Someone plays an instrument on stage."


@pytest.fixture(scope="module")
def sentence_attribution(bundled_model):
    tokenized = bundled_model.tokenize(SENTENCE)
    return tokenized, integrated_gradients(bundled_model.network, tokenized)


@pytest.fixture(scope="module")
def pair_attribution(bundled_model):
    first, second = bundled_model.tokenize(FIRST), bundled_model.tokenize(SECOND)
    return pair_integrated_gradients(bundled_model.network, first, second)


def tiny_double_encoder() -> Encoder:
    """A random 2-layer BERT (hidden 8, 2 heads) with every weight in float64, for gradcheck."""
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=30,
        hidden_size=8,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=16,
        max_position_embeddings=16,
        initializer_range=0.5,  # large weights: attention far from uniform, the path clearly non-linear
    )
    encoder = Encoder(EncoderConfig.from_dict(config.to_dict()), AutoModel.from_config(config).state_dict())

    def double(weight_bias):
        return tuple(None if tensor is None else tensor.double() for tensor in weight_bias)

    encoder.embeddings = {part: double(weights) for part, weights in encoder.embeddings.items()}
    encoder.layers = [{part: double(weights) for part, weights in layer.items()} for layer in encoder.layers]
    return encoder


def test_the_differentiable_forward_equals_the_inference_path(bundled_model):
    tokenized = bundled_model.tokenize(FIRST, SECOND)
    network = bundled_model.network
    input_ids, token_type_ids = torch.tensor([tokenized.input_ids]), torch.tensor([tokenized.token_type_ids])
    inference = network(input_ids, token_type_ids)
    word_vectors = network.word_vectors(input_ids).requires_grad_()
    differentiable = network.forward(network.embed_vectors(word_vectors, input_ids, token_type_ids))
    assert differentiable.hidden_states.requires_grad
    assert (differentiable.hidden_states - inference.hidden_states).abs().max() <= 1e-6
    assert (differentiable.attentions - inference.attentions).abs().max() <= 1e-6


def test_gradients_of_the_differentiable_path_equal_finite_differences():
    encoder = tiny_double_encoder()
    input_ids = torch.tensor([[2, 7, 11, 5, 3], [2, 9, 3, 0, 0]])
    attention_mask = (input_ids != 0).long()
    token_type_ids = torch.tensor([[0, 0, 0, 1, 1], [0, 0, 0, 0, 0]])

    def embedding(word_vectors):
        states = encoder.embed_vectors(word_vectors, input_ids, token_type_ids)
        return mean_pooled_embedding(encoder.forward(states, attention_mask).hidden_states[-1], attention_mask)

    word_vectors = encoder.word_vectors(input_ids).clone().requires_grad_()
    assert word_vectors.dtype == torch.float64
    assert torch.autograd.gradcheck(embedding, (word_vectors,), eps=1e-6, atol=1e-6)


def test_completeness_within_one_percent_at_32_steps_on_a_sentence(sentence_attribution):
    _, attribution = sentence_attribution
    assert attribution.f_input == pytest.approx(1.0, abs=1e-5)  # e · e₀ at the input
    assert attribution.token_attributions.sum() - attribution.delta == pytest.approx(
        attribution.f_input - attribution.f_baseline, abs=1e-5
    )
    assert attribution.completeness_error_percent <= 1.0
    assert attribution.word_attributions.sum() == pytest.approx(attribution.token_attributions.sum())


def test_special_tokens_keep_their_embedding_and_get_no_attribution(sentence_attribution):
    tokenized, attribution = sentence_attribution
    special = np.array(tokenized.special)
    assert special.sum() == 2  # [CLS] and [SEP]
    assert (attribution.token_attributions[special] == 0).all()
    assert (attribution.token_attributions[~special] != 0).all()


def test_a_pair_is_attributed_one_sentence_at_a_time_to_the_cosine(bundled_model, hf_bundled, pair_attribution):
    first, second = pair_attribution
    with torch.no_grad():  # transformers' BertModel, mean-pooled: each sentence embedded on its own
        a, b = (
            F.normalize(hf_bundled(torch.tensor([bundled_model.tokenize(text).input_ids])).last_hidden_state.mean(1))
            for text in (FIRST, SECOND)
        )
    cosine = float(a[0] @ b[0])
    assert first.f_input == pytest.approx(cosine, abs=1e-5)
    assert second.f_input == pytest.approx(cosine, abs=1e-5)
    for attribution in (first, second):
        assert attribution.completeness_error_percent <= 1.0
    assert [first.words[1], second.words[1]] == ["A", "Someone"]


def test_spearman_against_rollout_is_a_rank_correlation(sentence_attribution):
    tokenized, attribution = sentence_attribution
    assert -1.0 <= attribution.spearman <= 1.0
    assert attribution.rollout.shape == (len(tokenized),)
    assert attribution.rollout.sum() == pytest.approx(1.0)


def test_pooled_rollout_of_uniform_attention_is_uniform():
    # Ã = rownorm(J/n + I) is doubly stochastic, so every R^l is: the mean of its rows is 1/n everywhere
    attentions = np.full((3, 2, 5, 5), 0.2)
    assert np.allclose(rollout_of_pooled_output(attentions), 0.2)


def test_pooled_rollout_of_real_attention_sums_to_one(bundled_model):
    result = bundled_model.analyse(SENTENCE)
    shares = rollout_of_pooled_output(result.attentions)
    assert shares.shape == (len(result.tokenized),)
    assert shares.sum() == pytest.approx(1.0)
    assert (shares > 0).all()


@pytest.mark.parametrize("method", ["attention", "rollout"])
def test_pair_summary_has_a_row_per_word_of_b_over_the_words_of_a(bundled_model, method):
    result = bundled_model.analyse(FIRST, SECOND)
    b_words, a_words, matrix = pair_attention_summary(result.tokenized, result.attentions, method)
    assert a_words == ["A", "man", "is", "playing", "a", "guitar", "."]
    assert b_words == ["Someone", "plays", "an", "instrument", "on", "stage", "."]
    assert matrix.shape == (len(b_words), len(a_words))
    assert np.allclose(matrix.sum(axis=1), 1.0)


def test_pair_summary_follows_the_attention_to_a_word_of_a(bundled_model):
    tokenized = bundled_model.tokenize(FIRST, SECOND)
    n, guitar = len(tokenized), tokenized.words[6].tokens[0]
    attentions = np.zeros((2, 3, n, n), dtype=np.float32)
    attentions[..., guitar] = 1.0  # every token reads "guitar" only
    _, a_words, matrix = pair_attention_summary(tokenized, attentions)
    assert np.allclose(matrix[:, a_words.index("guitar")], 1.0)


def test_pair_summary_refuses_a_single_sentence(bundled_model):
    result = bundled_model.analyse(SENTENCE)
    with pytest.raises(ValueError, match="pair"):
        pair_attention_summary(result.tokenized, result.attentions)
