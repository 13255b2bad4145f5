"""A BERT-family Transformer encoder written on core.transformer.attention, loading Hugging Face safetensors weights.

Each layer is the chapter's graph convolution with a graph computed from the words themselves:

    A = softmax(Q Kᵀ / √d + M)                       one adjacency matrix per head
    h' = LayerNorm(h + concat_heads(A V) W_O)          message passing over A, then the output projection
    h'' = LayerNorm(h' + FFN(h'))                      the per-node update

It returns everything the views need: per layer and head the attention probabilities, queries, keys and values,
and the hidden states. BERT, RoBERTa-style (RoBERTa, XLM-R, CamemBERT) and DistilBERT checkpoints are understood;
anything else raises UnsupportedModelError so the caller can fall back to transformers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import torch
import torch.nn.functional as F
from safetensors.torch import load_file

from core.transformer.attention import additive_mask, merge_heads, scaled_dot_product_attention, split_heads


class UnsupportedModelError(ValueError):
    """The checkpoint is not an architecture this encoder implements."""


ACTIVATIONS = {
    "gelu": F.gelu,
    "gelu_new": lambda x: F.gelu(x, approximate="tanh"),
    "gelu_pytorch_tanh": lambda x: F.gelu(x, approximate="tanh"),
    "relu": F.relu,
    "silu": F.silu,
}


@dataclass(frozen=True)
class EncoderConfig:
    """The architecture, read from a Hugging Face config.json."""

    model_type: str
    vocab_size: int
    hidden_size: int
    num_layers: int
    num_heads: int
    intermediate_size: int
    max_position_embeddings: int
    type_vocab_size: int  # 0 when the model has no segment embeddings (DistilBERT)
    layer_norm_eps: float
    hidden_act: str
    pad_token_id: int
    position_offset: int  # RoBERTa counts positions from pad_token_id + 1

    @property
    def head_size(self) -> int:
        return self.hidden_size // self.num_heads

    @property
    def max_tokens(self) -> int:
        return self.max_position_embeddings - self.position_offset

    @classmethod
    def from_dict(cls, config: dict) -> EncoderConfig:
        model_type = config.get("model_type", "")
        if model_type not in CHECKPOINT_PREFIXES:
            raise UnsupportedModelError(f"model type {model_type!r} is not implemented by the core encoder")
        if model_type == "distilbert":  # same architecture, other names, no segment embeddings
            config = {DISTILBERT_CONFIG_KEYS.get(key, key): value for key, value in config.items()}
            config["type_vocab_size"] = 0
        if config.get("position_embedding_type", "absolute") != "absolute":
            raise UnsupportedModelError(
                f"position embeddings {config['position_embedding_type']!r} are not implemented"
            )
        if config.get("embedding_size", config["hidden_size"]) != config["hidden_size"]:
            raise UnsupportedModelError("embeddings projected to a different width are not implemented")
        roberta_like = model_type in ROBERTA_LIKE
        pad_token_id = config.get("pad_token_id", 1 if roberta_like else 0)
        return cls(
            model_type=model_type,
            vocab_size=config["vocab_size"],
            hidden_size=config["hidden_size"],
            num_layers=config["num_hidden_layers"],
            num_heads=config["num_attention_heads"],
            intermediate_size=config["intermediate_size"],
            max_position_embeddings=config["max_position_embeddings"],
            type_vocab_size=config.get("type_vocab_size", 2),
            layer_norm_eps=config.get("layer_norm_eps", 1e-12),
            hidden_act=config.get("hidden_act", "gelu"),
            pad_token_id=pad_token_id,
            position_offset=pad_token_id + 1 if roberta_like else 0,
        )


ROBERTA_LIKE = {"roberta", "xlm-roberta", "camembert"}
DISTILBERT_CONFIG_KEYS = {
    "dim": "hidden_size",
    "n_layers": "num_hidden_layers",
    "n_heads": "num_attention_heads",
    "hidden_dim": "intermediate_size",
    "activation": "hidden_act",
}
CHECKPOINT_PREFIXES = {  # the base model's name inside checkpoints saved from a task head
    "bert": "bert.",
    "roberta": "roberta.",
    "xlm-roberta": "roberta.",
    "camembert": "roberta.",
    "electra": "electra.",
    "distilbert": "distilbert.",
}

# Checkpoint names of each architecture → this encoder's names. "{i}" is the layer index.
BERT_NAMES = {
    "word_embeddings": "embeddings.word_embeddings",
    "position_embeddings": "embeddings.position_embeddings",
    "token_type_embeddings": "embeddings.token_type_embeddings",
    "embeddings_norm": "embeddings.LayerNorm",
    "query": "encoder.layer.{i}.attention.self.query",
    "key": "encoder.layer.{i}.attention.self.key",
    "value": "encoder.layer.{i}.attention.self.value",
    "attention_output": "encoder.layer.{i}.attention.output.dense",
    "attention_norm": "encoder.layer.{i}.attention.output.LayerNorm",
    "intermediate": "encoder.layer.{i}.intermediate.dense",
    "output": "encoder.layer.{i}.output.dense",
    "output_norm": "encoder.layer.{i}.output.LayerNorm",
}
DISTILBERT_NAMES = {
    "word_embeddings": "embeddings.word_embeddings",
    "position_embeddings": "embeddings.position_embeddings",
    "embeddings_norm": "embeddings.LayerNorm",
    "query": "transformer.layer.{i}.attention.q_lin",
    "key": "transformer.layer.{i}.attention.k_lin",
    "value": "transformer.layer.{i}.attention.v_lin",
    "attention_output": "transformer.layer.{i}.attention.out_lin",
    "attention_norm": "transformer.layer.{i}.sa_layer_norm",
    "intermediate": "transformer.layer.{i}.ffn.lin1",
    "output": "transformer.layer.{i}.ffn.lin2",
    "output_norm": "transformer.layer.{i}.output_layer_norm",
}
LAYER_PARTS = ("query", "key", "value", "attention_output", "attention_norm", "intermediate", "output", "output_norm")


@dataclass
class NetworkOutput:
    """Everything one forward pass of an encoder or decoder computes, batch first.

    hidden_states: (layers + 1, batch, tokens, hidden) — the embeddings, then each layer's output.
    attentions: (layers, batch, heads, tokens, tokens) — softmax probabilities, rows = queries.
    queries, keys, values: (layers, batch, heads, tokens, head_size) — after the per-head projections.
    """

    hidden_states: torch.Tensor
    attentions: torch.Tensor
    queries: torch.Tensor
    keys: torch.Tensor
    values: torch.Tensor


def _normalise_name(name: str, prefix: str) -> str:
    """Strip a task head's prefix and map TF-era LayerNorm names (gamma/beta) to weight/bias."""
    if name.startswith(prefix):
        name = name[len(prefix) :]
    if name.endswith(".gamma"):
        return name[: -len("gamma")] + "weight"
    if name.endswith(".beta"):
        return name[: -len("beta")] + "bias"
    return name


def load_safetensors(folder: Path) -> dict[str, torch.Tensor]:
    """All tensors of the folder's safetensors files (single or sharded); pickled weights are never read."""
    files = sorted(folder.glob("*.safetensors"))
    if not files:
        raise FileNotFoundError(f"no .safetensors weights in {folder}")
    tensors: dict[str, torch.Tensor] = {}
    for file in files:
        tensors.update(load_file(file))
    return tensors


class StackShape(Protocol):
    """What the shared forward pass reads of a config (frozen dataclasses: read-only)."""

    @property
    def num_layers(self) -> int: ...

    @property
    def num_heads(self) -> int: ...

    @property
    def hidden_act(self) -> str: ...


class LayerStack:
    """The forward pass an encoder and a decoder share: embed the tokens, run every layer, keep all it computes.

    A subclass provides ``config`` (with num_layers and num_heads), ``attention_bias`` (who may read whom),
    ``embed`` and ``layer``.
    """

    config: StackShape

    def __init__(self, config: StackShape):
        if config.hidden_act not in ACTIVATIONS:
            raise UnsupportedModelError(f"activation {config.hidden_act!r} is not implemented")
        self.config = config
        self.activation = ACTIVATIONS[config.hidden_act]

    def attention_bias(self, attention_mask: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def embed(self, input_ids: torch.Tensor, token_type_ids: torch.Tensor | None = None) -> torch.Tensor:
        raise NotImplementedError

    def layer(
        self,
        states: torch.Tensor,
        mask: torch.Tensor,
        index: int,
        out: torch.Tensor | None = None,
        head_mask: torch.Tensor | None = None,
    ):
        raise NotImplementedError

    @torch.inference_mode()
    def __call__(
        self,
        input_ids: torch.Tensor,
        token_type_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        head_mask: torch.Tensor | None = None,
    ) -> NetworkOutput:
        """Run the network on (batch, tokens) ids; attention_mask has 1 for real tokens, 0 for (right) padding;
        head_mask (batch, layers, heads) scales each head's messages (1 keeps a head, 0 switches it off).

        Each layer writes its attention maps straight into their slice of the stacked (layers, batch, heads, tokens,
        tokens) output: stacking them afterwards copied 270 MB at 512 tokens for a 30 × 9-head model."""
        states = self.embed(input_ids, token_type_ids)
        batch, tokens, _ = states.shape
        attentions = torch.empty(self.config.num_layers, batch, self.config.num_heads, tokens, tokens)
        return self.forward(states, attention_mask, head_mask, attentions)

    def forward(
        self,
        states: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        head_mask: torch.Tensor | None = None,
        attentions: torch.Tensor | None = None,
    ) -> NetworkOutput:
        """Every layer on embedded tokens (batch, tokens, hidden), differentiable: gradients flow back to ``states``
        unless the caller runs it under no_grad or inference_mode (``__call__``). ``attentions`` (layers, batch,
        heads, tokens, tokens), if given, receives the probabilities in place (softmax's ``out=``, which autograd
        cannot follow); without it, the maps are stacked after the last layer."""
        batch, tokens, _ = states.shape
        mask = self.attention_bias(torch.ones(batch, tokens) if attention_mask is None else attention_mask)
        hidden_states, maps, per_layer = [states], [], []
        for index in range(self.config.num_layers):
            heads = None if head_mask is None else head_mask[:, index]
            out = None if attentions is None else attentions[index]
            states, probabilities, *vectors = self.layer(states, mask, index, out=out, head_mask=heads)
            hidden_states.append(states)
            maps.append(probabilities)
            per_layer.append(vectors)
        queries, keys, values = (torch.stack(part) for part in zip(*per_layer))
        attentions = torch.stack(maps) if attentions is None else attentions
        return NetworkOutput(torch.stack(hidden_states), attentions, queries, keys, values)


class Encoder(LayerStack):
    """A BERT-family encoder: embeddings, then ``num_layers`` × (multi-head self-attention + feed-forward)."""

    config: EncoderConfig

    def __init__(self, config: EncoderConfig, weights: dict[str, torch.Tensor]):
        super().__init__(config)
        prefix = CHECKPOINT_PREFIXES[config.model_type]
        weights = {_normalise_name(name, prefix): tensor.float() for name, tensor in weights.items()}
        names = DISTILBERT_NAMES if config.model_type == "distilbert" else BERT_NAMES
        try:
            self.embeddings = {
                part: self._linear_or_norm(weights, names[part])
                for part in ("word_embeddings", "position_embeddings", "token_type_embeddings", "embeddings_norm")
                if part in names and (config.type_vocab_size or part != "token_type_embeddings")
            }
            self.layers = [
                {part: self._linear_or_norm(weights, names[part].format(i=i)) for part in LAYER_PARTS}
                for i in range(config.num_layers)
            ]
        except KeyError as missing:
            raise UnsupportedModelError(f"weight {missing} is missing from the checkpoint") from None

    @staticmethod
    def _linear_or_norm(weights: dict[str, torch.Tensor], name: str) -> tuple[torch.Tensor, torch.Tensor | None]:
        return weights[f"{name}.weight"], weights.get(f"{name}.bias")

    @classmethod
    def from_pretrained(cls, folder: str | Path) -> Encoder:
        """Load config.json and the safetensors weights of a Hugging Face model folder."""
        folder = Path(folder)
        config = EncoderConfig.from_dict(json.loads((folder / "config.json").read_text()))
        return cls(config, load_safetensors(folder))

    def position_ids(self, input_ids: torch.Tensor) -> torch.Tensor:
        """0, 1, 2, … per row; RoBERTa-style models count real tokens from pad_token_id + 1 and give padding pad."""
        if not self.config.position_offset:
            return torch.arange(input_ids.shape[1]).expand_as(input_ids)
        real = (input_ids != self.config.pad_token_id).long()
        return torch.cumsum(real, dim=1) * real + self.config.pad_token_id

    def embed(self, input_ids: torch.Tensor, token_type_ids: torch.Tensor | None = None) -> torch.Tensor:
        """h⁰ = LayerNorm(word + position [+ segment] embeddings): (batch, tokens, hidden)."""
        return self.embed_vectors(self.word_vectors(input_ids), input_ids, token_type_ids)

    def word_vectors(self, input_ids: torch.Tensor) -> torch.Tensor:
        """The word embeddings alone, (batch, tokens) → (batch, tokens, hidden): what attribution varies."""
        return F.embedding(input_ids, self.embeddings["word_embeddings"][0])

    def embed_vectors(
        self, word_vectors: torch.Tensor, input_ids: torch.Tensor, token_type_ids: torch.Tensor | None = None
    ) -> torch.Tensor:
        """h⁰ = LayerNorm(word_vectors + position [+ segment] embeddings), differentiable in ``word_vectors``
        (batch, tokens, hidden); ``input_ids`` (batch, tokens) only place the positions (RoBERTa skips padding)."""
        states = word_vectors + F.embedding(self.position_ids(input_ids), self.embeddings["position_embeddings"][0])
        if "token_type_embeddings" in self.embeddings:
            segments = torch.zeros_like(input_ids) if token_type_ids is None else token_type_ids
            states = states + F.embedding(segments, self.embeddings["token_type_embeddings"][0])
        return self._layer_norm(states, self.embeddings["embeddings_norm"])

    def _layer_norm(self, states: torch.Tensor, weight_bias) -> torch.Tensor:
        weight, bias = weight_bias
        return F.layer_norm(states, (states.shape[-1],), weight, bias, self.config.layer_norm_eps)

    def attention_bias(self, attention_mask: torch.Tensor) -> torch.Tensor:
        """Padding mask (batch, tokens), 1 = real → additive bias (batch, 1, 1, tokens): every word reads every
        real word."""
        return additive_mask(attention_mask)

    def attention_input(self, states: torch.Tensor, index: int) -> torch.Tensor:
        """The nodes whose projections are the queries, keys and values of layer ``index``: the layer's input itself
        (post-norm: the norms come after the attention)."""
        return states

    def value_projection(self, index: int, head: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        """W_V (head_size, hidden) and b_V of head ``head`` in layer ``index``."""
        weight, bias = self.layers[index]["value"]
        rows = slice(head * self.config.head_size, (head + 1) * self.config.head_size)
        return weight[rows], None if bias is None else bias[rows]

    def layer(
        self,
        states: torch.Tensor,
        mask: torch.Tensor,
        index: int,
        out: torch.Tensor | None = None,
        head_mask: torch.Tensor | None = None,
    ):
        """One encoder layer on (batch, tokens, hidden) → (output, probabilities, queries, keys, values); ``out``
        receives the probabilities (scaled_dot_product_attention); ``head_mask`` (batch, heads) scales each head's
        messages (merge_heads)."""
        weights = self.layers[index]
        heads = self.config.num_heads
        queries = split_heads(F.linear(states, *weights["query"]), heads)  # (batch, heads, tokens, head_size)
        keys = split_heads(F.linear(states, *weights["key"]), heads)
        values = split_heads(F.linear(states, *weights["value"]), heads)
        messages, probabilities = scaled_dot_product_attention(queries, keys, values, mask, out=out)
        output = self.update(states, merge_heads(messages, head_mask), index)[-1]
        return output, probabilities, queries, keys, values

    def update(
        self, states: torch.Tensor, messages: torch.Tensor, index: int
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """The update step of layer ``index``, after its attention (the message passing): every node on its own.

        ``states`` (…, tokens, hidden) are the layer's input, ``messages`` (…, tokens, hidden) the heads' merged
        weighted sums of values. Returns (attention_output = messages W_O + b_O, attended = LayerNorm(states +
        attention_output), feed_forward = FFN(attended), output = LayerNorm(attended + feed_forward)).
        """
        weights = self.layers[index]
        attention_output = F.linear(messages, *weights["attention_output"])
        attended = self._layer_norm(states + attention_output, weights["attention_norm"])
        feed_forward = F.linear(self.activation(F.linear(attended, *weights["intermediate"])), *weights["output"])
        output = self._layer_norm(attended + feed_forward, weights["output_norm"])
        return attention_output, attended, feed_forward, output
