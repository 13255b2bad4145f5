"""Causal decoders written on core.transformer.attention: GPT-2 and the Llama family (Llama, Mistral, Qwen2), loading
Hugging Face safetensors weights.

Each layer is message passing on a causal graph (word i gathers only from words j ≤ i), with the norm *before* the
attention and the feed-forward (pre-norm), so the residual stream h runs through the layers untouched:

    x = Norm₁(h)                                         what the heads read
    A = softmax(Q Kᵀ · s + M),  M[i, j] = −∞ for j > i   one causal adjacency matrix per query head
    a = h + concat_heads(A V) W_O (+ b_O)                the messages, added to the stream
    h' = a + FFN(Norm₂(a))                               the per-node update, added too

GPT-2 (Radford et al. 2019): learned position embeddings added to the token embeddings, LayerNorm, Q, K, V from one
fused ``c_attn`` Conv1D (y = x W + b, W of shape (in, out)), FFN = c_proj(gelu_tanh(c_fc(x))), s = 1/√d (or
1/(√d·(layer + 1)) with ``scale_attn_by_inverse_layer_idx``).

Llama family (Touvron et al. 2023): RMSNorm(x) = x / √(mean(x²) + ε) · w; rotary positions (Su et al. 2021) rotate
each query and key by its position, q ↦ q·cos(pθ) + rotate_half(q)·sin(pθ); grouped-query attention (Ainslie et
al. 2023): ``num_key_value_heads`` key/value heads, each shared by ``num_heads / num_key_value_heads`` query heads,
so every query head still has a map of its own; FFN = down(silu(gate(x)) ⊙ up(x)). Qwen2 adds biases to Q, K, V.

The output has the encoder's shapes: per layer and *query* head the attention probabilities, queries and keys as
they enter the dot product (after the rotation), values, each key/value head repeated for the query heads that share
it, and the residual stream before the final norm. Anything else raises UnsupportedModelError, so the caller can
fall back to transformers.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from core.transformer.attention import merge_heads, scaled_dot_product_attention, split_heads
from core.transformer.encoder import LayerStack, UnsupportedModelError, load_safetensors

LLAMA_FAMILY = {"llama", "mistral", "qwen2"}
DECODER_TYPES = {"gpt2", *LLAMA_FAMILY}
ROPE_TYPES = {"default", "linear", "llama3"}

Weight = tuple[torch.Tensor, torch.Tensor | None]  # (out, in) matrix or norm scale, and its bias


@dataclass(frozen=True)
class Rotary:
    """Rotary position embedding: one inverse frequency θ_k per pair of the head's dimensions, (head_size / 2,)."""

    inverse_frequencies: torch.Tensor

    @classmethod
    def from_dict(cls, config: dict, head_size: int) -> Rotary:
        """θ and scaling from ``rope_parameters`` (transformers ≥ 5) or ``rope_theta`` + ``rope_scaling`` (older)."""
        parameters = config.get("rope_parameters") or {
            "rope_theta": config.get("rope_theta", 10000.0),
            **(config.get("rope_scaling") or {}),
        }
        rope_type = parameters.get("rope_type", parameters.get("type", "default"))
        if rope_type not in ROPE_TYPES or parameters.get("partial_rotary_factor", 1.0) != 1.0:
            raise UnsupportedModelError(f"rotary scaling {rope_type!r} is not implemented")
        exponents = torch.arange(0, head_size, 2, dtype=torch.int64).float() / head_size
        frequencies = 1.0 / (parameters["rope_theta"] ** exponents)  # (head_size / 2,)
        if rope_type == "linear":
            frequencies = frequencies / parameters["factor"]
        if rope_type == "llama3":
            frequencies = _llama3_frequencies(frequencies, parameters)
        return cls(frequencies)

    def rotate(self, vectors: torch.Tensor) -> torch.Tensor:
        """Rotate (batch, heads, tokens, head_size) queries or keys by their positions 0, 1, …, tokens − 1."""
        positions = torch.arange(vectors.shape[-2], dtype=torch.float32)
        angles = positions[:, None] * self.inverse_frequencies[None, :]  # (tokens, head_size / 2)
        angles = torch.cat((angles, angles), dim=-1)  # (tokens, head_size): both halves turn by the same angle
        first, second = vectors.chunk(2, dim=-1)
        rotated_half = torch.cat((-second, first), dim=-1)
        return vectors * angles.cos() + rotated_half * angles.sin()


def _llama3_frequencies(frequencies: torch.Tensor, parameters: dict) -> torch.Tensor:
    """Llama 3.1's long-context scaling: long wavelengths divided by ``factor``, short ones kept, a smooth blend
    between them."""
    factor, low, high = parameters["factor"], parameters["low_freq_factor"], parameters["high_freq_factor"]
    context = parameters["original_max_position_embeddings"]
    wavelengths = 2 * math.pi / frequencies
    scaled = torch.where(wavelengths > context / low, frequencies / factor, frequencies)
    smooth = (context / wavelengths - low) / (high - low)
    blended = (1 - smooth) * scaled / factor + smooth * scaled
    medium = (wavelengths >= context / high) & (wavelengths <= context / low)
    return torch.where(medium, blended, scaled)


@dataclass(frozen=True)
class DecoderConfig:
    """The architecture, read from a Hugging Face config.json."""

    model_type: str
    vocab_size: int
    hidden_size: int
    num_layers: int
    num_heads: int  # query heads
    num_key_value_heads: int  # = num_heads without grouped-query attention
    head_size: int
    intermediate_size: int
    max_position_embeddings: int
    norm_eps: float
    hidden_act: str
    scale_attention: bool  # GPT-2's scale_attn_weights: divide the scores by √d
    scale_by_layer: bool  # GPT-2's scale_attn_by_inverse_layer_idx: and by layer + 1
    rotary: Rotary | None  # None for GPT-2's learned positions

    @property
    def max_tokens(self) -> int:
        return self.max_position_embeddings

    @property
    def queries_per_key(self) -> int:
        return self.num_heads // self.num_key_value_heads

    @property
    def rms_norm(self) -> bool:
        return self.model_type in LLAMA_FAMILY

    def scale(self, layer: int) -> float:
        """s in softmax(Q Kᵀ · s + M) for ``layer``."""
        scale = self.head_size**-0.5 if self.scale_attention else 1.0
        return scale / (layer + 1) if self.scale_by_layer else scale

    @classmethod
    def from_dict(cls, config: dict) -> DecoderConfig:
        model_type = config.get("model_type", "")
        if model_type == "gpt2":
            return cls._gpt2(config)
        if model_type not in LLAMA_FAMILY:
            raise UnsupportedModelError(f"model type {model_type!r} is not implemented by the core decoder")
        if config.get("sliding_window") is not None and (model_type != "qwen2" or config.get("use_sliding_window")):
            raise UnsupportedModelError("sliding-window attention is not implemented")
        heads = config["num_attention_heads"]
        head_size = config.get("head_dim") or config["hidden_size"] // heads
        return cls(
            model_type=model_type,
            vocab_size=config["vocab_size"],
            hidden_size=config["hidden_size"],
            num_layers=config["num_hidden_layers"],
            num_heads=heads,
            num_key_value_heads=config.get("num_key_value_heads") or heads,
            head_size=head_size,
            intermediate_size=config["intermediate_size"],
            max_position_embeddings=config["max_position_embeddings"],
            norm_eps=config.get("rms_norm_eps", 1e-6),
            hidden_act=config.get("hidden_act", "silu"),
            scale_attention=True,
            scale_by_layer=False,
            rotary=Rotary.from_dict(config, head_size),
        )

    @classmethod
    def _gpt2(cls, config: dict) -> DecoderConfig:
        hidden, heads = config["n_embd"], config["n_head"]
        return cls(
            model_type="gpt2",
            vocab_size=config["vocab_size"],
            hidden_size=hidden,
            num_layers=config["n_layer"],
            num_heads=heads,
            num_key_value_heads=heads,
            head_size=hidden // heads,
            intermediate_size=config.get("n_inner") or 4 * hidden,
            max_position_embeddings=config["n_positions"],
            norm_eps=config.get("layer_norm_epsilon", 1e-5),
            hidden_act=config.get("activation_function", "gelu_new"),
            scale_attention=config.get("scale_attn_weights", True),
            scale_by_layer=config.get("scale_attn_by_inverse_layer_idx", False),
            rotary=None,
        )


# Checkpoint names of each architecture → this decoder's names. "{i}" is the layer index.
GPT2_NAMES = {
    "token_embeddings": "wte",
    "position_embeddings": "wpe",
    "final_norm": "ln_f",
    "attention_norm": "h.{i}.ln_1",
    "qkv": "h.{i}.attn.c_attn",
    "attention_output": "h.{i}.attn.c_proj",
    "mlp_norm": "h.{i}.ln_2",
    "up": "h.{i}.mlp.c_fc",
    "down": "h.{i}.mlp.c_proj",
}
LLAMA_NAMES = {
    "token_embeddings": "embed_tokens",
    "final_norm": "norm",
    "attention_norm": "layers.{i}.input_layernorm",
    "query": "layers.{i}.self_attn.q_proj",
    "key": "layers.{i}.self_attn.k_proj",
    "value": "layers.{i}.self_attn.v_proj",
    "attention_output": "layers.{i}.self_attn.o_proj",
    "mlp_norm": "layers.{i}.post_attention_layernorm",
    "gate": "layers.{i}.mlp.gate_proj",
    "up": "layers.{i}.mlp.up_proj",
    "down": "layers.{i}.mlp.down_proj",
}
CHECKPOINT_PREFIXES = ("transformer.", "model.")  # the base model's name inside a checkpoint saved with its LM head
GPT2_CONV1D = ("qkv", "attention_output", "up", "down")


class Decoder(LayerStack):
    """A causal decoder: embeddings, then ``num_layers`` × pre-norm (causal multi-head attention + feed-forward)."""

    config: DecoderConfig

    def __init__(self, config: DecoderConfig, weights: dict[str, torch.Tensor]):
        super().__init__(config)
        weights = {_strip_prefix(name): tensor.float() for name, tensor in weights.items()}
        names = GPT2_NAMES if config.model_type == "gpt2" else LLAMA_NAMES
        try:
            self.embeddings = {
                part: _weight(weights, names[part])
                for part in ("token_embeddings", "position_embeddings", "final_norm")
                if part in names
            }
            self.layers = [self._layer(weights, names, i) for i in range(config.num_layers)]
        except KeyError as missing:
            raise UnsupportedModelError(f"weight {missing} is missing from the checkpoint") from None

    def _layer(self, weights: dict[str, torch.Tensor], names: dict[str, str], index: int) -> dict[str, Weight]:
        layer = {part: _weight(weights, name.format(i=index)) for part, name in names.items() if "{i}" in name}
        if self.config.model_type == "gpt2":  # Conv1D stores (in, out): transposed to F.linear's (out, in)
            layer.update({part: (layer[part][0].T, layer[part][1]) for part in GPT2_CONV1D})  # views: no copy
        if "qkv" in layer:  # GPT-2's fused projection: rows [0, h) queries, [h, 2h) keys, [2h, 3h) values
            weight, bias = layer.pop("qkv")
            weight_parts = weight.chunk(3, dim=0)
            bias_parts = bias.chunk(3) if bias is not None else (None, None, None)
            for part, part_weight, part_bias in zip(("query", "key", "value"), weight_parts, bias_parts):
                layer[part] = (part_weight, part_bias)
        return layer

    @classmethod
    def from_pretrained(cls, folder: str | Path) -> Decoder:
        """Load config.json and the safetensors weights of a Hugging Face model folder."""
        folder = Path(folder)
        config = DecoderConfig.from_dict(json.loads((folder / "config.json").read_text()))
        return cls(config, load_safetensors(folder))

    def _norm(self, states: torch.Tensor, weight_bias: Weight) -> torch.Tensor:
        weight, bias = weight_bias
        if not self.config.rms_norm:
            return F.layer_norm(states, (states.shape[-1],), weight, bias, self.config.norm_eps)
        return states * torch.rsqrt(states.pow(2).mean(-1, keepdim=True) + self.config.norm_eps) * weight

    def attention_bias(self, attention_mask: torch.Tensor) -> torch.Tensor:
        """Padding mask (batch, tokens), 1 = real → additive bias (batch, 1, tokens, tokens): 0 where query i may
        read key j (j ≤ i and j real), the most negative finite float elsewhere, so softmax gives it zero weight."""
        tokens = attention_mask.shape[-1]
        causal = torch.ones(tokens, tokens, dtype=torch.bool).tril()  # (tokens, tokens)
        allowed = causal[None, None] & (attention_mask[:, None, None, :] != 0)
        return torch.zeros(allowed.shape).masked_fill(~allowed, torch.finfo(torch.float32).min)

    def embed(self, input_ids: torch.Tensor, token_type_ids: torch.Tensor | None = None) -> torch.Tensor:
        """h⁰ = token embeddings [+ GPT-2's position embeddings]: (batch, tokens, hidden). Decoders read no
        segments: ``token_type_ids`` is accepted for the encoder's signature and ignored."""
        states = F.embedding(input_ids, self.embeddings["token_embeddings"][0])
        if "position_embeddings" in self.embeddings:
            positions = torch.arange(input_ids.shape[1])
            states = states + F.embedding(positions, self.embeddings["position_embeddings"][0])[None]
        return states

    def attention_input(self, states: torch.Tensor, index: int) -> torch.Tensor:
        """x = Norm₁(h): the nodes whose projections are the queries, keys and values of layer ``index``."""
        return self._norm(states, self.layers[index]["attention_norm"])

    def value_projection(self, index: int, head: int) -> Weight:
        """W_V (head_size, hidden) and b_V of query head ``head`` in layer ``index``: its key/value head's."""
        weight, bias = self.layers[index]["value"]
        size = self.config.head_size
        rows = slice(head // self.config.queries_per_key * size, (head // self.config.queries_per_key + 1) * size)
        return weight[rows], None if bias is None else bias[rows]

    def layer(
        self,
        states: torch.Tensor,
        mask: torch.Tensor,
        index: int,
        out: torch.Tensor | None = None,
        head_mask: torch.Tensor | None = None,
    ):
        """One decoder layer on (batch, tokens, hidden) → (output, probabilities, queries, keys, values), the last
        four (batch, heads, tokens, head_size or tokens) per query head; ``out`` receives the probabilities,
        ``head_mask`` (batch, heads) scales each head's messages."""
        weights, config = self.layers[index], self.config
        nodes = self.attention_input(states, index)
        queries = split_heads(F.linear(nodes, *weights["query"]), config.num_heads)  # (batch, heads, tokens, d)
        keys = split_heads(F.linear(nodes, *weights["key"]), config.num_key_value_heads)  # (batch, kv, tokens, d)
        values = split_heads(F.linear(nodes, *weights["value"]), config.num_key_value_heads)
        if config.rotary is not None:
            queries, keys = config.rotary.rotate(queries), config.rotary.rotate(keys)
        keys = keys.repeat_interleave(config.queries_per_key, dim=1)  # (batch, heads, tokens, d)
        values = values.repeat_interleave(config.queries_per_key, dim=1)
        messages, probabilities = scaled_dot_product_attention(queries, keys, values, mask, config.scale(index), out)
        output = self.update(states, merge_heads(messages, head_mask), index)[-1]
        return output, probabilities, queries, keys, values

    def update(
        self, states: torch.Tensor, messages: torch.Tensor, index: int
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """The update step of layer ``index``, after its attention: every node on its own.

        ``states`` (…, tokens, hidden) are the layer's input h, ``messages`` (…, tokens, heads·head_size) the heads'
        merged weighted sums of values. Returns (attention_output = messages W_O (+ b_O), attended = h +
        attention_output, feed_forward = FFN(Norm₂(attended)), output = attended + feed_forward).
        """
        weights = self.layers[index]
        attention_output = F.linear(messages, *weights["attention_output"])
        attended = states + attention_output
        normed = self._norm(attended, weights["mlp_norm"])
        if "gate" in weights:  # SwiGLU
            hidden = self.activation(F.linear(normed, *weights["gate"])) * F.linear(normed, *weights["up"])
        else:
            hidden = self.activation(F.linear(normed, *weights["up"]))
        feed_forward = F.linear(hidden, *weights["down"])
        return attention_output, attended, feed_forward, attended + feed_forward

    def final_norm(self, states: torch.Tensor) -> torch.Tensor:
        """The norm after the last layer (GPT-2's ln_f, Llama's norm): what a language-model head reads."""
        return self._norm(states, self.embeddings["final_norm"])


def _weight(weights: dict[str, torch.Tensor], name: str) -> Weight:
    return weights[f"{name}.weight"], weights.get(f"{name}.bias")


def _strip_prefix(name: str) -> str:
    for prefix in CHECKPOINT_PREFIXES:
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name
