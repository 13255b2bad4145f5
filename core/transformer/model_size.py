"""Parameter counts of BERT-family encoders from their configs (Devlin et al. 2019, arXiv 1810.04805, §3).

Convention: every weight, bias and layer-norm scale and shift of transformers' ``BertModel`` with its pooler (a
hidden × hidden dense layer on [CLS], which BERT's released checkpoints carry), no masked-LM or next-sentence
head. For hidden size h, intermediate size f, L layers, vocabulary V, P positions and T segment types:

    embeddings   = (V + P + T)·h + 2h                     word, position, segment tables and their layer norm
    attention    = L · (4·(h² + h) + 2h)                   Q, K, V, output projection, layer norm
    feed-forward = L · (2·h·f + f + h + 2h)                two dense layers, layer norm
    pooler       = h² + h
"""

from __future__ import annotations

import json
from dataclasses import dataclass

BERT_BASE = {
    "vocab_size": 30522,
    "hidden_size": 768,
    "num_hidden_layers": 12,
    "num_attention_heads": 12,
    "intermediate_size": 3072,
    "max_position_embeddings": 512,
    "type_vocab_size": 2,
}
BERT_LARGE = {
    **BERT_BASE,
    "hidden_size": 1024,
    "num_hidden_layers": 24,
    "num_attention_heads": 16,
    "intermediate_size": 4096,
}


@dataclass(frozen=True)
class ParameterCount:
    """How many parameters each part of the encoder holds."""

    embeddings: int
    attention: int  # all layers
    feed_forward: int  # all layers
    pooler: int

    @property
    def total(self) -> int:
        return self.embeddings + self.attention + self.feed_forward + self.pooler


def parameter_count(config: dict) -> ParameterCount:
    """Count the parameters of a BertModel (pooler included) from its config.json keys."""
    h, f, layers = config["hidden_size"], config["intermediate_size"], config["num_hidden_layers"]
    rows = config["vocab_size"] + config["max_position_embeddings"] + config.get("type_vocab_size", 2)
    layer_norm = 2 * h
    return ParameterCount(
        embeddings=rows * h + layer_norm,
        attention=layers * (4 * (h * h + h) + layer_norm),
        feed_forward=layers * (2 * h * f + f + h + layer_norm),
        pooler=h * h + h,
    )


def config_parameter_count(config: dict) -> int:
    """Every parameter of transformers' base model (``AutoModel``) for a config.json, counted without allocating
    weights: the model is built on the meta device. Tied weights count once."""
    import torch
    from transformers import AutoConfig, AutoModel

    model_type = config["model_type"]
    settings = {key: value for key, value in config.items() if key != "model_type"}
    with torch.device("meta"):
        model = AutoModel.from_config(AutoConfig.for_model(model_type, **settings), trust_remote_code=False)
    return sum(parameter.numel() for parameter in model.parameters())


def model_configs() -> dict[str, dict]:
    """BERT-BASE, BERT-LARGE and the bundled MiniLM's config.json, by display name."""
    from core.transformer.models import bundled_model_folder

    minilm = json.loads((bundled_model_folder() / "config.json").read_text(encoding="utf-8"))
    return {"BERT-BASE": BERT_BASE, "BERT-LARGE": BERT_LARGE, "MiniLM-L6 (bundled)": minilm}
