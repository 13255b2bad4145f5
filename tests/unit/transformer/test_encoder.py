"""The core encoder equals transformers (eager attention, output_attentions=True) within 1e-5 in float32."""

import pytest
import torch
from transformers import AutoModel, BertConfig, DistilBertConfig, RobertaConfig

from core.transformer.encoder import Encoder, UnsupportedModelError

TOLERANCE = 1e-5
SENTENCES = [
    "The animal didn't cross the street because it was too tired.",
    "Attention is a graph.",
    "Unbelievably, tokenization splits uncommon words: naïve café 🎉.",
    "私は今日東京に行く",
]


def reference_forward(model, input_ids, token_type_ids=None, attention_mask=None):
    inputs = {"input_ids": input_ids, "attention_mask": attention_mask}
    if token_type_ids is not None:
        inputs["token_type_ids"] = token_type_ids
    with torch.no_grad():
        output = model(**inputs, output_attentions=True, output_hidden_states=True)
    return torch.stack(output.attentions), torch.stack(output.hidden_states)


def assert_parity(encoder, reference, input_ids, token_type_ids=None, attention_mask=None):
    """Attention probabilities everywhere, hidden states at the real (unpadded) positions."""
    if attention_mask is None:
        attention_mask = torch.ones_like(input_ids)
    output = encoder(input_ids, token_type_ids, attention_mask)
    attentions, hidden_states = reference_forward(reference, input_ids, token_type_ids, attention_mask)
    assert output.attentions.shape == attentions.shape
    assert (output.attentions - attentions).abs().max().item() <= TOLERANCE
    real = attention_mask.bool()
    assert (output.hidden_states[:, real] - hidden_states[:, real]).abs().max().item() <= TOLERANCE


@pytest.mark.parametrize("sentence", SENTENCES)
def test_bundled_minilm_equals_transformers(bundled_model, hf_bundled, sentence):
    tokenized = bundled_model.tokenize(sentence)
    assert_parity(
        bundled_model.network, hf_bundled, torch.tensor([tokenized.input_ids]), torch.tensor([tokenized.token_type_ids])
    )


def test_bundled_minilm_equals_transformers_on_a_sentence_pair(bundled_model, hf_bundled):
    tokenized = bundled_model.tokenize("The chapter explains attention.", "A Transformer is a graph network.")
    assert set(tokenized.token_type_ids) == {0, 1}
    assert_parity(
        bundled_model.network, hf_bundled, torch.tensor([tokenized.input_ids]), torch.tensor([tokenized.token_type_ids])
    )


def test_bundled_minilm_equals_transformers_on_a_padded_batch(bundled_model, hf_bundled):
    batch = bundled_model.tokenizer(SENTENCES[:3], padding=True, return_tensors="pt")
    assert (batch["attention_mask"] == 0).any()
    assert_parity(
        bundled_model.network, hf_bundled, batch["input_ids"], batch["token_type_ids"], batch["attention_mask"]
    )


def random_checkpoint(config, folder):
    """A randomly initialised transformers model saved as safetensors, and the model itself."""
    torch.manual_seed(0)
    model = AutoModel.from_config(config, attn_implementation="eager").eval()
    model.save_pretrained(folder, safe_serialization=True)
    return Encoder.from_pretrained(folder), model


def padded_batch(vocab_size, lengths, pad_token_id, low=3):
    generator = torch.Generator().manual_seed(sum(lengths))
    width = max(lengths)
    input_ids = torch.randint(low, vocab_size, (len(lengths), width), generator=generator)
    attention_mask = torch.zeros(len(lengths), width, dtype=torch.long)
    for row, length in enumerate(lengths):
        attention_mask[row, :length] = 1
        input_ids[row, length:] = pad_token_id
    return input_ids, attention_mask


@pytest.mark.parametrize("layers, heads, hidden, act", [(1, 1, 16, "gelu"), (2, 4, 32, "gelu_new"), (3, 8, 64, "relu")])
def test_random_bert_configs_with_padding(tmp_path, layers, heads, hidden, act):
    config = BertConfig(
        vocab_size=97,
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=2 * hidden,
        max_position_embeddings=40,
        hidden_act=act,
    )
    encoder, reference = random_checkpoint(config, tmp_path)
    input_ids, attention_mask = padded_batch(97, [11, 5, 1], config.pad_token_id)
    token_type_ids = (torch.arange(11) > 4).long().expand(3, 11).contiguous()
    assert_parity(encoder, reference, input_ids, token_type_ids, attention_mask)


def test_random_roberta_config_counts_positions_after_padding_index(tmp_path):
    config = RobertaConfig(
        vocab_size=80,
        hidden_size=24,
        num_hidden_layers=2,
        num_attention_heads=3,
        intermediate_size=48,
        max_position_embeddings=34,
        type_vocab_size=1,
    )
    encoder, reference = random_checkpoint(config, tmp_path)
    assert encoder.config.max_tokens == 32
    input_ids, attention_mask = padded_batch(80, [9, 4], config.pad_token_id)
    assert_parity(encoder, reference, input_ids, None, attention_mask)


def test_random_distilbert_config(tmp_path):
    config = DistilBertConfig(vocab_size=70, dim=32, n_layers=2, n_heads=4, hidden_dim=64, max_position_embeddings=30)
    encoder, reference = random_checkpoint(config, tmp_path)
    input_ids, attention_mask = padded_batch(70, [7, 3], config.pad_token_id)
    assert_parity(encoder, reference, input_ids, None, attention_mask)


def test_outputs_carry_queries_keys_values_per_head(bundled_model):
    tokenized = bundled_model.tokenize("Queries meet keys.")
    output = bundled_model.network(torch.tensor([tokenized.input_ids]))
    n = len(tokenized)
    assert output.queries.shape == output.keys.shape == output.values.shape == (6, 1, 12, n, 32)
    # the probabilities are exactly softmax(q·k/√d) of the returned queries and keys
    scores = output.queries[2, 0, 5] @ output.keys[2, 0, 5].T / 32**0.5
    assert torch.allclose(torch.softmax(scores, -1), output.attentions[2, 0, 5], atol=1e-6)


def test_unsupported_architectures_are_refused_for_the_fallback(tmp_path):
    config = BertConfig(
        vocab_size=50,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        position_embedding_type="relative_key",
    )
    (tmp_path / "config.json").write_text(config.to_json_string())
    with pytest.raises(UnsupportedModelError, match="relative_key"):
        Encoder.from_pretrained(tmp_path)
