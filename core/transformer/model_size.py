"""Parameter counts from configs: BERT's parts for the model-size figure (Devlin et al. 2019, arXiv 1810.04805, §3),
and any model's total, checked against a budget before its weights are fetched (``config_parameter_count``).

Convention of the parts: every weight, bias and layer-norm scale and shift of transformers' ``BertModel`` with its
pooler (a hidden × hidden dense layer on [CLS], which BERT's released checkpoints carry), no masked-LM or
next-sentence head. For hidden size h, intermediate size f, L layers, vocabulary V, P positions and T segment types:

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


QWEN2_5_0_5B = {  # Qwen/Qwen2.5-0.5B's config.json, its sizes: 494 M parameters, over the hosted budget
    "model_type": "qwen2",
    "hidden_size": 896,
    "intermediate_size": 4864,
    "num_hidden_layers": 24,
    "num_attention_heads": 14,
    "num_key_value_heads": 2,
    "vocab_size": 151936,
    "max_position_embeddings": 32768,
    "tie_word_embeddings": True,
}
POOLED_ENCODERS = {"bert", "roberta", "xlm-roberta", "camembert"}  # their AutoModel carries BERT's pooler


def config_parameter_count(config: dict) -> int:
    """Every parameter of transformers' base model (``AutoModel``) for a config.json, without loading a weight.

    For the architectures the core implements the count is arithmetic (``core_parameter_count``); for any other the
    model is built on PyTorch's meta device, which allocates nothing but imports transformers' modelling code
    (~125 MB of resident memory that an app running only core models need not hold). Tied weights count once."""
    return core_parameter_count(config) or _meta_parameter_count(config)


def core_parameter_count(config: dict) -> int | None:
    """``config_parameter_count`` for a BERT-family encoder or a GPT-2 / Llama-family decoder, from the config's
    sizes; None for an architecture the core does not implement.

    Encoder: the BERT formula above, without the pooler for DistilBERT and ELECTRA. With hidden size h, feed-forward
    f, L layers, vocabulary V, head size d, H query and K key/value heads:

        GPT-2        V·h + P·h + L·(4h + (3h² + 3h) + (h² + h) + (2·h·f + f + h)) + 2h
        Llama family V·h + L·(2h + h·(H + 2K)·d + H·d·h + 3·h·f + biases) + h
                     biases: Qwen2 H·d + 2K·d on Q, K, V; Llama's attention_bias (H + 2K)·d + h, mlp_bias 2f + h
    """
    from core.transformer.decoder import DECODER_TYPES, DecoderConfig
    from core.transformer.encoder import CHECKPOINT_PREFIXES, EncoderConfig, UnsupportedModelError

    model_type = config.get("model_type")
    try:
        if model_type in DECODER_TYPES:
            return _decoder_count(DecoderConfig.from_dict(config), config)
        if model_type in CHECKPOINT_PREFIXES:
            encoder = EncoderConfig.from_dict(config)
            bert_keys = {
                "hidden_size": encoder.hidden_size,
                "intermediate_size": encoder.intermediate_size,
                "num_hidden_layers": encoder.num_layers,
                "vocab_size": encoder.vocab_size,
                "max_position_embeddings": encoder.max_position_embeddings,
                "type_vocab_size": encoder.type_vocab_size,
            }
            count = parameter_count(bert_keys)
            return count.total if model_type in POOLED_ENCODERS else count.total - count.pooler
    except (UnsupportedModelError, KeyError):
        return None
    return None


def _decoder_count(decoder, config: dict) -> int:
    """The GPT-2 and Llama-family formulas of ``core_parameter_count``; ``decoder`` is the DecoderConfig."""
    h, f, layers, vocabulary = decoder.hidden_size, decoder.intermediate_size, decoder.num_layers, decoder.vocab_size
    if decoder.model_type == "gpt2":
        per_layer = 4 * h + (3 * h * h + 3 * h) + (h * h + h) + (2 * h * f + f + h)
        return vocabulary * h + decoder.max_position_embeddings * h + layers * per_layer + 2 * h
    queries, keys = decoder.num_heads * decoder.head_size, decoder.num_key_value_heads * decoder.head_size
    biases = queries + 2 * keys if decoder.model_type == "qwen2" else 0
    if config.get("attention_bias"):
        biases += queries + 2 * keys + h
    if config.get("mlp_bias"):
        biases += 2 * f + h
    per_layer = 2 * h + h * (queries + 2 * keys) + queries * h + 3 * h * f + biases
    return vocabulary * h + layers * per_layer + h


def _meta_parameter_count(config: dict) -> int:
    """Build transformers' AutoModel for the config on the meta device and count its parameters."""
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
