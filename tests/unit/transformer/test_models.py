"""Loading: bundled model offline, clear refusals, and the transformers fallback for other architectures."""

import json
import shutil

import pytest
import torch
from transformers import AlbertConfig, AutoModel

from core.transformer.model_size import QWEN2_5_0_5B
from core.transformer.models import BUNDLED_MODEL, ModelLoadError, load_model, resolve_folder


def test_bundled_model_loads_offline_on_the_core_encoder(bundled_model):
    assert bundled_model.name == BUNDLED_MODEL
    assert bundled_model.network is not None and bundled_model.note == ""
    assert bundled_model.network.config.num_layers == 6 and bundled_model.network.config.num_heads == 12
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
    assert model.network is None and "transformers' own implementation" in model.note
    result = model.analyse("Falling back still shows attention.")
    assert result.attentions.shape == (2, 4, len(result.tokenized), len(result.tokenized))
    assert torch.allclose(torch.from_numpy(result.attentions.sum(-1)), torch.ones(2, 4, len(result.tokenized)))
    assert result.queries is None


# Decoders and the parameter budget


def test_a_decoder_reads_a_second_sentence_appended_to_the_first(decoder_folders):
    model = load_model(str(decoder_folders["gpt2"]))
    assert model.causal and model.engine == "core"
    pair = model.tokenize("The cat sat.", "It slept.")
    assert pair.pair is None and pair.text == "The cat sat. It slept."
    assert pair.input_ids == model.tokenize("The cat sat. It slept.").input_ids


def test_the_longest_input_keeps_one_inputs_attention_maps_within_the_budget(decoder_folders):
    """max_tokens = the largest n with layers · heads · n² float32 ≤ ATTENTION_BUDGET_BYTES, under the positions."""
    from core.transformer.models import ATTENTION_BUDGET_BYTES

    model = load_model(str(decoder_folders["llama"]))
    config = model.network.config
    maps = config.num_layers * config.num_heads
    assert model.max_tokens == min(config.max_tokens, int((ATTENTION_BUDGET_BYTES / (4 * maps)) ** 0.5))
    assert 4 * maps * model.max_tokens**2 <= ATTENTION_BUDGET_BYTES


def test_a_model_over_the_parameter_budget_is_refused_with_its_size(decoder_folders):
    from core.transformer.model_size import config_parameter_count

    folder = decoder_folders["qwen2"]
    parameters = config_parameter_count(json.loads((folder / "config.json").read_text()))
    assert load_model(str(folder), parameter_budget=parameters).network is not None
    with pytest.raises(ModelLoadError, match=r"has 0\.\d+ M parameters; this app loads models of up to"):
        load_model(str(folder), parameter_budget=parameters - 1)


def test_a_hub_models_config_is_checked_before_any_weight_is_fetched(monkeypatch, tmp_path):
    """Qwen2.5-0.5B's config (494 M parameters, counted from its sizes) against a 200 M budget: refused, and
    the weights are never asked for."""
    import huggingface_hub

    (tmp_path / "config.json").write_text(json.dumps(QWEN2_5_0_5B))
    fetched = []
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", lambda repo, file: fetched.append(file) or tmp_path / file)
    monkeypatch.setattr(huggingface_hub, "snapshot_download", lambda *args, **kwargs: fetched.append("weights"))
    with pytest.raises(ModelLoadError, match="“Qwen/Qwen2.5-0.5B” has 494 M parameters"):
        load_model("Qwen/Qwen2.5-0.5B", parameter_budget=200_000_000)
    assert fetched == ["config.json"]
