"""Parameter counts from configs equal transformers' BertModel (pooler included), part by part."""

import json

import pytest
import torch
from transformers import BertConfig, BertModel, DistilBertConfig, RobertaConfig

from core.transformer.model_size import BERT_BASE, BERT_LARGE, QWEN2_5_0_5B, model_configs, parameter_count

PARTS = {  # BertModel parameter names → the part they belong to
    "embeddings.": "embeddings",
    "attention.": "attention",
    "intermediate.": "feed_forward",
    "output.": "feed_forward",  # checked after "attention." so the attention output stays with attention
    "pooler.": "pooler",
}


def transformers_parts(config: dict) -> dict[str, int]:
    """sum(p.numel()) per part of a BertModel built on the meta device (no memory for BERT-LARGE's 1.3 GB)."""
    with torch.device("meta"):
        model = BertModel(BertConfig(**config))
    parts = dict.fromkeys(set(PARTS.values()), 0)
    for name, parameter in model.named_parameters():
        part = next(part for key, part in PARTS.items() if key in name)
        parts[part] += parameter.numel()
    return parts


@pytest.mark.parametrize("name", ["BERT-BASE", "BERT-LARGE", "MiniLM-L6 (bundled)"])
def test_counts_equal_transformers_part_by_part(name):
    config = model_configs()[name]
    count = parameter_count(config)
    parts = transformers_parts(config)
    assert {part: getattr(count, part) for part in parts} == parts
    assert count.total == sum(parts.values())


def test_totals_are_the_published_sizes():
    assert parameter_count(BERT_BASE).total == 109_482_240  # "110M" (Devlin et al. 2019)
    assert parameter_count(BERT_LARGE).total == 335_141_888  # "340M"
    assert parameter_count(model_configs()["MiniLM-L6 (bundled)"]).total == 22_713_216  # 22.7 M


# The count a model box refuses by, before any weight is fetched


def core_configs(decoder_folders) -> dict[str, dict]:
    from core.transformer.models import bundled_model_folder
    from core.transformer.random_checkpoints import random_config

    configs = {
        "minilm": json.loads((bundled_model_folder() / "config.json").read_text()),
        "bert-base": {"model_type": "bert", **BERT_BASE},
        "distilbert": DistilBertConfig().to_dict(),
        "roberta": RobertaConfig().to_dict(),
        "qwen2.5-0.5b": QWEN2_5_0_5B,
        "llama-with-biases": random_config("llama", attention_bias=True, mlp_bias=True).to_dict(),
        "gpt2-small": random_config("gpt2", "gpt2-small").to_dict(),
        "smollm2-135m": random_config("llama", "smollm2-135m").to_dict(),
    }
    for family, folder in decoder_folders.items():
        configs[family] = json.loads((folder / "config.json").read_text())
    return configs


def test_the_core_architectures_are_counted_from_their_sizes_exactly_as_transformers_builds_them(decoder_folders):
    """The arithmetic count equals the parameters of transformers' AutoModel built on the meta device."""
    from core.transformer.model_size import _meta_parameter_count, core_parameter_count

    for name, config in core_configs(decoder_folders).items():
        assert core_parameter_count(config) == _meta_parameter_count(config), name
    assert core_parameter_count(QWEN2_5_0_5B) == 494_032_768  # the published 0.49 B


def test_other_architectures_are_counted_on_the_meta_device():
    from core.transformer.model_size import config_parameter_count, core_parameter_count

    albert = {"model_type": "albert", "vocab_size": 100, "embedding_size": 16, "hidden_size": 32}
    albert |= {"num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64}
    assert core_parameter_count(albert) is None
    assert config_parameter_count(albert) > 0
