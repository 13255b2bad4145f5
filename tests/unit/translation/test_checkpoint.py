"""A trained translator survives saving and loading; loading reads safetensors, never pickle; what ships."""

import pickle

import numpy as np
import pytest
import torch

from core.translation.checkpoint import ASSET_FOLDER, DOCUMENT, WEIGHTS, load, save
from core.translation.corpus import CHAPTER_SENTENCE, build_corpus
from core.translation.model import TranslatorConfig, greedy_decode, translate
from core.translation.training import TrainingSettings, train


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    result = train(
        TranslatorConfig(heads=2, d_model=16, d_ff=32),
        TrainingSettings(seed=3, steps=30, batch_size=16, warmup_steps=5, snapshots=3),
        build_corpus(),
    )
    folder = tmp_path_factory.mktemp("translator")
    save(result, folder)
    return result, folder


def test_loading_gives_back_the_weights_history_snapshots_and_evaluation(saved):
    result, folder = saved
    loaded = load(folder)
    assert loaded.config == result.config and loaded.settings == result.settings
    assert loaded.corpus_seed == result.corpus_seed and loaded.seconds == result.seconds
    for name, tensor in result.model.state_dict().items():
        assert torch.equal(loaded.model.state_dict()[name], tensor)
    assert loaded.model.source_vocabulary == result.model.source_vocabulary
    assert loaded.model.target_vocabulary == result.model.target_vocabulary
    assert loaded.losses == result.losses
    assert loaded.evaluation.exact_match == result.evaluation.exact_match
    assert np.array_equal(loaded.evaluation.head_aer, result.evaluation.head_aer)
    assert loaded.evaluation.best_head == result.evaluation.best_head
    assert loaded.snapshots.steps == result.snapshots.steps and loaded.snapshots.probes == result.snapshots.probes
    for kind in ("cross", "encoder", "decoder"):
        for ours, theirs in zip(getattr(loaded.snapshots, kind), getattr(result.snapshots, kind)):
            assert ours.shape == theirs.shape and np.abs(ours - theirs).max() <= 5e-5  # 4 decimals
    assert not loaded.model.training
    assert greedy_decode(loaded.model, [CHAPTER_SENTENCE]) == greedy_decode(result.model, [CHAPTER_SENTENCE])


def test_loading_never_unpickles(saved, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("pickle was used")

    monkeypatch.setattr(torch, "load", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "Unpickler", refuse)
    load(saved[1])


def test_the_shipped_checkpoint_is_small_and_complete():
    files = {path.name: path.stat().st_size for path in ASSET_FOLDER.iterdir()}
    assert {WEIGHTS, DOCUMENT, "README.md"} <= set(files)
    assert sum(files.values()) < 5 * 2**20


def test_the_shipped_translator_translates_the_chapter_sentence(shipped):
    assert translate(shipped.model, CHAPTER_SENTENCE).target == ("I", "go", "to", "Tokyo", "today")
    assert translate(shipped.model, ("今日", "私", "は", "東京", "に", "行く")).target == (
        "I",
        "go",
        "to",
        "Tokyo",
        "today",
    )


def test_the_shipped_readme_names_the_command_and_seed(shipped):
    readme = (ASSET_FOLDER / "README.md").read_text(encoding="utf-8")
    assert "python -m core.translation.checkpoint" in readme
    assert f"training seed {shipped.settings.seed}" in readme
