"""Parameter counts from configs equal transformers' BertModel (pooler included), part by part."""

import pytest
import torch
from transformers import BertConfig, BertModel

from core.transformer.model_size import BERT_BASE, BERT_LARGE, model_configs, parameter_count

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
