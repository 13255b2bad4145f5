"""Random checkpoints load with transformers' Auto classes exactly as Hub checkpoints of their family do."""

import math

import pytest
import torch
from transformers import AutoModel, AutoTokenizer

from core.transformer.random_checkpoints import FAMILIES, random_config, write_random_checkpoint

SENTENCE = "The cat didn't sit."


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    return {family: write_random_checkpoint(tmp_path_factory.mktemp(family), family) for family in FAMILIES}


def _attentions(folder, text="We'll meet at 10:30 on a well-known street, because the animal didn't cross it."):
    model = AutoModel.from_pretrained(folder, attn_implementation="eager").eval()
    inputs = AutoTokenizer.from_pretrained(folder)(text, return_tensors="pt")
    with torch.no_grad():
        return model(**inputs, output_attentions=True).attentions  # layers × (1, heads, tokens, tokens)


@pytest.mark.parametrize("family", FAMILIES)
def test_folder_holds_safetensors_config_and_tokenizer_and_no_pickled_weights(folders, family):
    names = {path.name for path in folders[family].iterdir()}
    assert {"config.json", "tokenizer.json", "tokenizer_config.json"} <= names
    assert any(name.endswith(".safetensors") for name in names)
    assert not any(name.endswith(".bin") for name in names)


@pytest.mark.parametrize("family", FAMILIES)
def test_auto_classes_load_a_fast_tokenizer_and_every_weight(folders, family):
    tokenizer = AutoTokenizer.from_pretrained(folders[family])
    model, info = AutoModel.from_pretrained(folders[family], attn_implementation="eager", output_loading_info=True)
    assert tokenizer.is_fast
    assert model.config.model_type == family
    assert not info["missing_keys"] and not info["unexpected_keys"] and not info["mismatched_keys"]
    assert model.config.vocab_size == len(tokenizer)
    assert (model.config.bos_token_id, model.config.eos_token_id) == (tokenizer.bos_token_id, tokenizer.eos_token_id)


@pytest.mark.parametrize("family", FAMILIES)
def test_attention_is_causal_and_far_from_uniform(folders, family):
    attentions = _attentions(folders[family])
    assert len(attentions) == 2
    for attention in attentions:
        _, heads, tokens, _ = attention.shape
        assert attention.shape == (1, 4, tokens, tokens)
        assert torch.all(attention.triu(diagonal=1) == 0)
        torch.testing.assert_close(attention.sum(-1), torch.ones(1, heads, tokens))
        # the last row spreads over `tokens` keys: a uniform row would have entropy ln(tokens)
        last_row = attention[0, :, -1]
        entropy = -(last_row * last_row.clamp_min(1e-30).log()).sum(-1)  # (heads,)
        assert entropy.min() < 0.8 * math.log(tokens)


@pytest.mark.parametrize("family", FAMILIES)
def test_tiny_weights_are_spread_with_nontrivial_biases_and_norm_scales(folders, family):
    model = AutoModel.from_pretrained(folders[family])
    for name, parameter in model.named_parameters():
        if name.endswith("bias"):
            assert parameter.abs().mean() > 0.05, name
        elif parameter.ndim == 1:
            assert (parameter - 1).abs().mean() > 0.05, name
        else:
            assert 0.15 < parameter.std() < 0.25, name


def test_same_seed_writes_the_same_weights_and_another_seed_others(tmp_path):
    weights = [
        AutoModel.from_pretrained(write_random_checkpoint(tmp_path / str(run), "qwen2", seed=seed)).state_dict()
        for run, seed in enumerate((3, 3, 4))
    ]
    name = "layers.0.self_attn.q_proj.bias"
    assert torch.equal(weights[0][name], weights[1][name])
    assert not torch.equal(weights[0][name], weights[2][name])


def test_llama_groups_four_query_heads_per_key_value_head(folders):
    config = AutoModel.from_pretrained(folders["llama"]).config
    assert (config.num_attention_heads, config.num_key_value_heads) == (4, 1)


def test_qwen2_projects_queries_keys_and_values_with_biases(folders):
    names = {name for name, _ in AutoModel.from_pretrained(folders["qwen2"]).named_parameters()}
    assert {f"layers.0.self_attn.{p}_proj.bias" for p in "qkv"} <= names
    assert "layers.0.self_attn.o_proj.bias" not in names


@pytest.mark.parametrize("family", ["gpt2", "qwen2"])
def test_byte_level_tokenizers_mark_spaces_with_g_add_no_bos_and_trim_the_space_from_offsets(folders, family):
    tokenizer = AutoTokenizer.from_pretrained(folders[family])
    encoding = tokenizer(SENTENCE, return_offsets_mapping=True)
    tokens = tokenizer.convert_ids_to_tokens(encoding["input_ids"])
    assert tokens[0] == "The" and tokens[1] == "Ġcat"  # no BOS in front
    assert encoding["offset_mapping"][1] == (4, 7)  # "cat" without its leading space
    # GPT-2's regex splits the contraction: didn | 't are two pre-tokens, hence two words
    assert tokens[2:4] == ["Ġdidn", "'t"]
    assert encoding.word_ids()[:4] == [0, 1, 2, 3]
    assert tokenizer.decode(encoding["input_ids"]) == SENTENCE


def test_llama_tokenizer_marks_spaces_with_metaspace_starts_with_bos_and_keeps_the_space_in_offsets(folders):
    tokenizer = AutoTokenizer.from_pretrained(folders["llama"])
    encoding = tokenizer(SENTENCE, return_offsets_mapping=True)
    tokens = tokenizer.convert_ids_to_tokens(encoding["input_ids"])
    assert tokens[:3] == ["<s>", "▁The", "▁cat"]
    assert encoding["input_ids"][0] == tokenizer.bos_token_id == 1
    assert encoding["offset_mapping"][2] == (3, 7)  # "▁cat" covers the space before "cat"
    assert encoding.word_ids()[:3] == [None, 0, 1]
    assert tokenizer.decode(encoding["input_ids"], skip_special_tokens=True) == SENTENCE


def test_qwen2_tokenizer_splits_numbers_into_digits_and_gpt2_does_not(folders):
    pieces = {
        family: AutoTokenizer.from_pretrained(folders[family]).tokenize("in 1905") for family in ("gpt2", "qwen2")
    }
    assert pieces["qwen2"] == ["in", "Ġ", "1", "9", "0", "5"]
    assert "".join(pieces["gpt2"]) == "inĠ1905" and len(pieces["gpt2"]) < len(pieces["qwen2"])


@pytest.mark.parametrize(
    ("family", "size", "parameters"),
    [
        ("gpt2", "gpt2-small", 124_439_808),  # GPT2Model of openai-community/gpt2
        ("llama", "smollm2-135m", 134_515_008),  # HuggingFaceTB/SmolLM2-135M (tied embeddings)
    ],
)
def test_benchmark_configs_have_the_published_parameter_counts(family, size, parameters):
    with torch.device("meta"):
        model = AutoModel.from_config(random_config(family, size))
    assert sum(parameter.numel() for parameter in model.parameters()) == parameters


def test_unknown_family_or_size_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown family"):
        write_random_checkpoint(tmp_path, "bert")
    with pytest.raises(ValueError, match="no size"):
        random_config("qwen2", "gpt2-small")
