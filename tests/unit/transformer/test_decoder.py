"""The core decoder equals transformers (eager attention, output_attentions=True) within 1e-5 in float32, for GPT-2,
Llama (grouped-query attention, rotary scaling) and Qwen2, loaded through the loader the app uses."""

import json

import pytest
import torch
from transformers import AutoModel

from core.transformer.decoder import Decoder, DecoderConfig, Rotary
from core.transformer.encoder import UnsupportedModelError
from core.transformer.models import load_model
from core.transformer.random_checkpoints import write_random_checkpoint

TOLERANCE = 1e-5
TEXT = "The animal didn't cross the street because it was too tired. We'll meet at 10:30, well-known street."


def reference(folder):
    return AutoModel.from_pretrained(folder, attn_implementation="eager").eval()


def assert_parity(folder, input_ids, attention_mask=None):
    """Attention probabilities per query head everywhere; the residual stream after every layer but the last, and
    the last layer's output through the final norm (transformers' last hidden state), at the real positions."""
    network = load_model(str(folder)).network
    assert isinstance(network, Decoder)
    mask = torch.ones_like(input_ids) if attention_mask is None else attention_mask
    output = network(input_ids, attention_mask=mask)
    with torch.no_grad():
        expected = reference(folder)(input_ids, attention_mask=mask, output_attentions=True, output_hidden_states=True)
    attentions = torch.stack(expected.attentions)  # (layers, batch, heads, tokens, tokens)
    assert output.attentions.shape == attentions.shape
    assert (output.attentions - attentions).abs().max().item() <= TOLERANCE
    real = mask.bool()
    hidden = torch.stack(expected.hidden_states[:-1])
    assert (output.hidden_states[:-1][:, real] - hidden[:, real]).abs().max().item() <= TOLERANCE
    last = network.final_norm(output.hidden_states[-1])
    assert (last[real] - expected.last_hidden_state[real]).abs().max().item() <= TOLERANCE
    return output


@pytest.mark.parametrize("family", ["gpt2", "llama", "qwen2"])
def test_each_family_equals_transformers_on_a_sentence(decoder_folders, family):
    model = load_model(str(decoder_folders[family]))
    tokenized = model.tokenize(TEXT)
    assert_parity(decoder_folders[family], torch.tensor([tokenized.input_ids]))
    assert model.engine == "core" and model.causal


@pytest.mark.parametrize("family", ["gpt2", "llama", "qwen2"])
def test_each_family_equals_transformers_on_random_ids_with_right_padding(decoder_folders, family):
    generator = torch.Generator().manual_seed(1)
    input_ids = torch.randint(0, 500, (2, 40), generator=generator)
    attention_mask = torch.ones_like(input_ids)
    attention_mask[1, 25:] = 0
    assert_parity(decoder_folders[family], input_ids, attention_mask)


def test_attention_is_causal_and_every_row_sums_to_one(decoder_folders):
    output = load_model(str(decoder_folders["gpt2"])).network(torch.arange(30)[None])
    upper = torch.ones(30, 30, dtype=torch.bool).triu(diagonal=1)
    assert output.attentions[..., upper].abs().max() == 0
    assert torch.allclose(output.attentions.sum(-1), torch.ones(()), atol=1e-6)


def test_grouped_query_heads_share_keys_and_values_but_each_has_its_own_map(decoder_folders):
    """Llama here has 4 query heads per key/value head: keys and values repeat in groups of 4, the maps differ."""
    network = load_model(str(decoder_folders["llama"])).network
    assert network.config.num_heads == 4 * network.config.num_key_value_heads
    output = network(torch.arange(12)[None])
    layer_keys, layer_values = output.keys[0, 0], output.values[0, 0]  # (heads, tokens, head_size)
    assert all(torch.equal(layer_keys[0], layer_keys[head]) for head in range(4))
    assert all(torch.equal(layer_values[0], layer_values[head]) for head in range(4))
    assert not torch.allclose(output.attentions[0, 0, 0], output.attentions[0, 0, 1])


def test_queries_and_keys_give_the_attention_after_the_rotation(decoder_folders):
    """The returned queries and keys are the rotated ones that enter the dot product: softmax(Q Kᵀ/√d + causal
    mask) gives back the maps."""
    output = load_model(str(decoder_folders["llama"])).network(torch.arange(10)[None])
    queries, keys = output.queries[1, 0], output.keys[1, 0]  # (heads, tokens, head_size)
    scores = queries @ keys.transpose(-1, -2) / queries.shape[-1] ** 0.5
    scores = scores.masked_fill(torch.ones(10, 10, dtype=torch.bool).triu(diagonal=1), float("-inf"))
    assert torch.allclose(torch.softmax(scores, dim=-1), output.attentions[1, 0], atol=1e-6)


def test_gpt2_scaling_by_inverse_layer_index_equals_transformers(tmp_path):
    folder = write_random_checkpoint(tmp_path, "gpt2", scale_attn_by_inverse_layer_idx=True)
    assert DecoderConfig.from_dict(json.loads((folder / "config.json").read_text())).scale(1) == 0.25 / 2
    assert_parity(folder, torch.arange(3, 33)[None])


@pytest.mark.parametrize(
    "rope_scaling",
    [
        {"rope_type": "linear", "factor": 4.0},
        {
            "rope_type": "llama3",
            "factor": 8.0,
            "low_freq_factor": 1.0,
            "high_freq_factor": 4.0,
            "original_max_position_embeddings": 16,
        },
    ],
)
def test_rotary_scaling_equals_transformers(tmp_path, rope_scaling):
    folder = write_random_checkpoint(tmp_path, "llama", rope_scaling={**rope_scaling, "rope_theta": 10000.0})
    assert_parity(folder, torch.arange(3, 60)[None])


def test_the_rotation_turns_each_pair_of_dimensions_by_position_times_frequency():
    """Head size 2, θ = 1: the vector (1, 0) at position p becomes (cos p, sin p)."""
    rotary = Rotary(torch.tensor([1.0]))
    vectors = torch.tensor([1.0, 0.0]).expand(1, 1, 4, 2)
    positions = torch.arange(4.0)
    assert torch.allclose(rotary.rotate(vectors)[0, 0], torch.stack([positions.cos(), positions.sin()], -1))


@pytest.mark.parametrize(
    "change, message",
    [
        ({"model_type": "gpt_neox"}, "not implemented by the core decoder"),
        ({"rope_scaling": {"rope_type": "yarn", "factor": 2.0}}, "rotary scaling 'yarn'"),
        ({"model_type": "mistral", "sliding_window": 64}, "sliding-window"),
    ],
)
def test_what_the_decoder_does_not_implement_is_refused_by_name(decoder_folders, change, message):
    saved = json.loads((decoder_folders["llama"] / "config.json").read_text())
    config = {key: value for key, value in saved.items() if key != "rope_parameters"} | change
    with pytest.raises(UnsupportedModelError, match=message):
        DecoderConfig.from_dict(config)


def test_mistral_without_a_sliding_window_equals_transformers(tmp_path):
    """Mistral is Llama's architecture; without a sliding window (v0.2 on) the core runs it."""
    from transformers import MistralConfig

    config = MistralConfig(
        vocab_size=100,
        hidden_size=64,
        intermediate_size=96,
        num_hidden_layers=2,
        num_attention_heads=8,
        num_key_value_heads=2,
        max_position_embeddings=64,
        sliding_window=None,
        initializer_range=0.3,  # attention far from uniform
    )
    torch.manual_seed(0)
    AutoModel.from_config(config, attn_implementation="eager").save_pretrained(tmp_path)
    decoder = Decoder.from_pretrained(tmp_path)
    input_ids = torch.arange(3, 40)[None]
    with torch.no_grad():
        expected = reference(tmp_path)(input_ids, output_attentions=True)
    assert (decoder(input_ids).attentions - torch.stack(expected.attentions)).abs().max() <= TOLERANCE
    later_rows = decoder(input_ids).attentions[..., 8:, :]  # the first rows are sharp by construction (few keys)
    assert later_rows.max() > 0.5  # a sharp head somewhere: the comparison means something
