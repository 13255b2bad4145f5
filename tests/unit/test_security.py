"""Hosted mode refuses local model folders (path tricks, absolute paths, ~); remote code in a model is never run."""

import ast
import json
import os
import shutil
from pathlib import Path

import pytest
import torch
from transformers import AlbertConfig, AutoModel

import core.transformer.models
from core.transformer.models import (
    BUNDLED_MODEL,
    HOSTED_ENV,
    ModelLoadError,
    bundled_model_folder,
    hosted,
    load_model,
    resolve_folder,
)
from tests.conftest import ROOT

PATH_TRICKS = [
    "../x",
    "../../etc",
    "../../etc/passwd",
    "a/../../etc",
    "..",
    "./core",
    "/etc",
    "/",
    "~",
    "~/x",
    "~root",
    "C:\\Windows",
    "\\\\server\\share",
    "file:///etc/passwd",
    "core/../..",
    " /etc ",
]


@pytest.fixture
def no_hub(monkeypatch):
    """Record instead of downloading: which names would have gone to the Hugging Face Hub."""
    asked = []
    monkeypatch.setattr(
        core.transformer.models, "_download", lambda name, budget: asked.append(name) or Path("/nonexistent")
    )
    return asked


@pytest.mark.parametrize("name", PATH_TRICKS)
def test_path_tricks_are_refused_when_hosted_with_a_clear_message(name, no_hub):
    with pytest.raises(ModelLoadError, match="is not a model name.*loads no folders from its disk"):
        resolve_folder(name, allow_local=False)
    assert no_hub == []  # refused before anything is fetched


@pytest.mark.parametrize("folder", [lambda: bundled_model_folder(), lambda: ROOT, lambda: Path.home()])
def test_existing_absolute_folders_are_refused_when_hosted(folder, no_hub):
    with pytest.raises(ModelLoadError, match="not a model name"):
        resolve_folder(str(folder()), allow_local=False)
    with pytest.raises(ModelLoadError, match="not a model name"):
        load_model(str(folder()), allow_local=False)


def test_a_relative_folder_that_looks_like_a_hub_id_goes_to_the_hub_not_the_disk(monkeypatch, no_hub):
    monkeypatch.chdir(ROOT)
    assert Path("tests/unit").is_dir()
    resolve_folder("tests/unit", allow_local=False)
    assert no_hub == ["tests/unit"]
    assert resolve_folder("tests/unit", allow_local=True) == Path("tests/unit")  # locally, the folder is used


def test_the_bundled_model_still_loads_when_hosted(no_hub):
    assert resolve_folder(BUNDLED_MODEL, allow_local=False) == bundled_model_folder()
    assert resolve_folder("", allow_local=False) == bundled_model_folder()
    assert no_hub == []


@pytest.mark.parametrize(
    "value, expected",
    [
        (None, False),
        ("", False),
        ("0", False),
        ("false", False),
        ("no", False),
        ("1", True),
        ("true", True),
        ("TRUE", True),
        (" yes ", True),
        ("on", True),
    ],
)
def test_hosted_mode_is_read_from_the_environment(monkeypatch, value, expected):
    if value is None:
        monkeypatch.delenv(HOSTED_ENV, raising=False)
    else:
        monkeypatch.setenv(HOSTED_ENV, value)
    assert hosted() is expected


# --- remote code is never run -----------------------------------------------------------------------------------

EVIL = "from pathlib import Path\nPath({marker!r}).write_text('remote code ran')\n"


def plant_remote_code(folder: Path, marker: Path) -> None:
    """Point the config's and the tokenizer's auto_map at a module that leaves a marker file when imported."""
    for module in ("evil_config", "evil_model", "evil_tokenizer"):
        (folder / f"{module}.py").write_text(EVIL.format(marker=str(marker)))
    config = json.loads((folder / "config.json").read_text())
    config["auto_map"] = {"AutoConfig": "evil_config.EvilConfig", "AutoModel": "evil_model.EvilModel"}
    (folder / "config.json").write_text(json.dumps(config))
    tokenizer_config = json.loads((folder / "tokenizer_config.json").read_text())
    tokenizer_config["auto_map"] = {"AutoTokenizer": ["evil_tokenizer.EvilTokenizer", None]}
    (folder / "tokenizer_config.json").write_text(json.dumps(tokenizer_config))


def load_ignoring_refusal(folder: Path):
    try:
        return load_model(str(folder))
    except ModelLoadError:
        return None  # refusing is as good as ignoring the remote code


def test_a_known_architecture_with_an_auto_map_never_runs_its_remote_code(tmp_path, bundled_model):
    marker = tmp_path / "ran"
    folder = tmp_path / "model"
    folder.mkdir()
    for file in ("config.json", "vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(bundled_model.folder / file, folder / file)
    os.symlink(bundled_model.folder / "model.safetensors", folder / "model.safetensors")
    plant_remote_code(folder, marker)
    model = load_ignoring_refusal(folder)
    assert not marker.exists()
    if model is not None:
        assert model.network is not None  # the core encoder, not the planted class


def test_the_transformers_fallback_never_runs_remote_code_either(tmp_path, bundled_model):
    marker = tmp_path / "ran"
    folder = tmp_path / "model"
    config = AlbertConfig(
        vocab_size=30522,
        embedding_size=8,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=16,
    )
    torch.manual_seed(0)
    AutoModel.from_config(config).save_pretrained(folder, safe_serialization=True)
    for file in ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(bundled_model.folder / file, folder / file)
    plant_remote_code(folder, marker)
    model = load_ignoring_refusal(folder)
    assert not marker.exists()
    if model is not None:
        assert model.fallback is not None and type(model.fallback).__module__.startswith("transformers.")


def app_sources() -> list[Path]:
    return [
        ROOT / "app.py",
        *(path for folder in ("core", "ui", "app_pages", "figures") for path in sorted((ROOT / folder).rglob("*.py"))),
    ]


def test_every_hugging_face_loader_call_refuses_remote_code_explicitly():
    """Each ``Auto*.from_pretrained`` / ``snapshot_download``-style loader passes trust_remote_code=False; nothing
    in the app says trust_remote_code=True, loads pickles (torch.load, pickle) or evaluates strings."""
    loaders = 0
    for path in app_sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.keyword) and node.arg == "trust_remote_code":
                assert isinstance(node.value, ast.Constant) and node.value.value is False, path
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [alias.name for alias in node.names] + [getattr(node, "module", None) or ""]
                assert not any(name.split(".")[0] in {"pickle", "dill", "cloudpickle"} for name in names), path
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if isinstance(func, ast.Name):
                assert func.id not in {"eval", "exec"}, path
            if isinstance(func, ast.Attribute):
                owner = func.value.id if isinstance(func.value, ast.Name) else ""
                assert not (owner == "torch" and func.attr == "load"), f"{path}: torch.load unpickles"
                if func.attr == "from_pretrained" and owner.startswith("Auto"):
                    loaders += 1
                    assert any(k.arg == "trust_remote_code" for k in node.keywords), f"{path}:{node.lineno}"
    assert loaders >= 2  # the tokenizer and the fallback model: the scan did find them
