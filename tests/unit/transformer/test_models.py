"""Loading: bundled model offline, clear refusals, and the transformers fallback for other architectures."""

import shutil

import pytest
import torch
from transformers import AlbertConfig, AutoModel

from core.transformer.models import BUNDLED_MODEL, ModelLoadError, load_model, resolve_folder


def test_bundled_model_loads_offline_on_the_core_encoder(bundled_model):
    assert bundled_model.name == BUNDLED_MODEL
    assert bundled_model.encoder is not None and bundled_model.note == ""
    assert bundled_model.encoder.config.num_layers == 6 and bundled_model.encoder.config.num_heads == 12
    assert bundled_model.max_tokens == 512


@pytest.mark.parametrize(
    "name, message",
    [
        ("no-such-org/no-such-model", "bundled model"),
        ("../../etc/passwd", "not a model name"),
        ("bad name with spaces", "not a model name"),
        ("<script>alert(1)</script>", "not a model name"),
    ],
)
def test_unusable_names_give_a_clear_message(name, message):
    with pytest.raises(ModelLoadError, match=message):
        load_model(name)


def tokenizer_files_into(folder, source):
    for file in ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(source / file, folder / file)


def test_pickled_weights_are_refused(tmp_path, bundled_model):
    shutil.copy(bundled_model.folder / "config.json", tmp_path / "config.json")
    (tmp_path / "pytorch_model.bin").write_bytes(b"not loaded")
    with pytest.raises(ModelLoadError, match="only loads safetensors"):
        load_model(str(tmp_path))


def test_remote_code_models_are_refused(tmp_path):
    (tmp_path / "config.json").write_text('{"model_type": "my-custom-bert", "auto_map": {"AutoModel": "x.Y"}}')
    (tmp_path / "model.safetensors").write_bytes(b"")
    with pytest.raises(ModelLoadError, match="remote code"):
        load_model(str(tmp_path))


def test_local_folders_can_be_refused_when_hosted(bundled_model):
    with pytest.raises(ModelLoadError, match="not a model name"):
        resolve_folder(str(bundled_model.folder), allow_local=False)


def test_an_architecture_the_core_lacks_falls_back_to_transformers_with_a_note(tmp_path, bundled_model):
    config = AlbertConfig(
        vocab_size=30522,
        embedding_size=16,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
    )
    torch.manual_seed(0)
    AutoModel.from_config(config).save_pretrained(tmp_path, safe_serialization=True)
    tokenizer_files_into(tmp_path, bundled_model.folder)

    model = load_model(str(tmp_path))
    assert model.encoder is None and "transformers' own implementation" in model.note
    result = model.analyse("Falling back still shows attention.")
    assert result.attentions.shape == (2, 4, len(result.tokenized), len(result.tokenized))
    assert torch.allclose(torch.from_numpy(result.attentions.sum(-1)), torch.ones(2, 4, len(result.tokenized)))
    assert result.queries is None
