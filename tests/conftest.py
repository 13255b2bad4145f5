"""Shared fixtures: the bundled model, loaded once per test session."""

import os
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # tests never reach the network; the bundled model is local
torch.set_num_threads(1)  # as the app does: small matrices on 2 shared cores run several times faster on one thread


@pytest.fixture(scope="session")
def bundled_model():
    from core.transformer.models import load_model

    return load_model()


@pytest.fixture(scope="session")
def hf_bundled(bundled_model):
    """transformers' own BertModel on the same weights, eager attention: the independent reference."""
    from transformers import AutoModel

    return AutoModel.from_pretrained(bundled_model.folder, attn_implementation="eager").eval()


@pytest.fixture(scope="session")
def decoder_folders(tmp_path_factory):
    """A small random checkpoint of each decoder family (core.transformer.random_checkpoints), by family name:
    GPT-2, Llama with 4 query heads per key/value head, Qwen2."""
    from core.transformer.random_checkpoints import FAMILIES, write_random_checkpoint

    root = tmp_path_factory.mktemp("decoders")
    return {family: write_random_checkpoint(root / family, family) for family in FAMILIES}
