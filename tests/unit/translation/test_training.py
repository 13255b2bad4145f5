"""Training lowers the loss, is reproducible from its seed, snapshots attention along the way and evaluates."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from core.translation.corpus import CHAPTER_SENTENCE, build_corpus
from core.translation.model import TranslatorConfig
from core.translation.training import TrainingSettings, evaluate, exact_match, train

TINY = TranslatorConfig(heads=2, d_model=32, d_ff=64, dropout=0.1)
SHORT = TrainingSettings(seed=0, steps=40, batch_size=16, learning_rate=1e-2, warmup_steps=5, snapshots=4)


@pytest.fixture(scope="module")
def corpus():
    return build_corpus()


@pytest.fixture(scope="module")
def short_run(corpus):
    calls = []
    result = train(TINY, SHORT, corpus, progress=lambda step, total, loss: calls.append((step, total, loss)))
    return result, calls


def test_a_short_run_lowers_the_loss(short_run):
    losses = short_run[0].losses
    assert len(losses) == SHORT.steps
    assert np.mean(losses[-5:]) < 0.5 * np.mean(losses[:5])


def test_the_same_seed_gives_the_same_weights_and_losses(short_run, corpus):
    first = short_run[0]
    again = train(TINY, SHORT, corpus)
    other = train(TINY, replace(SHORT, seed=1), corpus)
    assert again.losses == first.losses
    for name, tensor in first.model.state_dict().items():
        assert torch.equal(tensor, again.model.state_dict()[name])
    assert other.losses != first.losses


def test_progress_reports_every_step_with_its_loss(short_run):
    result, calls = short_run
    assert [(step, total) for step, total, _ in calls] == [(s, SHORT.steps) for s in range(1, SHORT.steps + 1)]
    assert [loss for _, _, loss in calls] == result.losses


def test_snapshots_run_from_the_start_to_the_end_with_fixed_shapes(short_run, corpus):
    snapshots = short_run[0].snapshots
    assert snapshots.steps[0] == 0 and snapshots.steps[-1] == SHORT.steps
    assert list(snapshots.steps) == sorted(set(snapshots.steps))
    assert snapshots.probes == corpus.probes() and snapshots.probes[0].source == CHAPTER_SENTENCE
    for k, probe in enumerate(snapshots.probes):
        t, s = len(probe.target), len(probe.source)
        assert snapshots.cross[k].shape == (len(snapshots.steps), 1, 2, t, s)
        assert snapshots.encoder[k].shape == (len(snapshots.steps), 1, 2, s, s)
        assert snapshots.decoder[k].shape == (len(snapshots.steps), 1, 2, t, t)
        assert np.allclose(snapshots.cross[k].sum(-1), 1.0, atol=1e-5)
    assert not np.allclose(snapshots.cross[0][0], snapshots.cross[0][-1], atol=1e-3)  # attention moved


def test_snapshot_steps_are_dense_at_the_start():
    steps = TrainingSettings(steps=600, snapshots=16).snapshot_steps
    assert steps[0] == 0 and steps[-1] == 600 and len(steps) == 16
    gaps = np.diff(steps)
    assert gaps[0] < gaps[-1]


def test_learning_rate_warms_up_linearly_then_decays_to_zero():
    settings = TrainingSettings(steps=100, warmup_steps=10, learning_rate=1e-2)
    assert settings.learning_rate_at(1) == pytest.approx(1e-3)
    assert settings.learning_rate_at(10) == pytest.approx(1e-2)
    assert settings.learning_rate_at(55) == pytest.approx(5e-3)
    assert settings.learning_rate_at(100) == pytest.approx(0.0, abs=1e-12)


def test_evaluation_reports_every_split_and_every_cross_attention_head(short_run, corpus):
    evaluation = short_run[0].evaluation
    assert set(evaluation.exact_match) == {"train", "held-out sentences", "held-out combinations"}
    assert all(0.0 <= share <= 1.0 for share in evaluation.exact_match.values())
    assert evaluation.head_aer.shape == (1, 2)
    assert evaluation.best_aer == evaluation.head_aer.min()
    assert evaluation.exact_match["train"] == exact_match(short_run[0].model, corpus.train)


def test_the_shipped_translator_is_exact_on_every_split_and_aligns(shipped):
    corpus = build_corpus(shipped.corpus_seed)
    evaluation = evaluate(shipped.model, corpus)
    assert evaluation.exact_match == shipped.evaluation.exact_match
    assert np.allclose(evaluation.head_aer, shipped.evaluation.head_aer)
    assert evaluation.exact_match["held-out sentences"] >= 0.98
    assert evaluation.exact_match["held-out combinations"] >= 0.9
    assert evaluation.best_aer <= 0.15


def test_the_shipped_snapshots_go_from_spread_to_sharp_attention(shipped):
    cross = shipped.snapshots.cross[0]  # the chapter's sentence: (snapshots, layers, heads, t, s)
    entropy = -(cross * np.log(np.clip(cross, 1e-9, 1))).sum(-1).mean(axis=(1, 2, 3))
    assert entropy[0] > 0.8 * np.log(cross.shape[-1])  # near uniform at step 0
    assert entropy[-1] < 0.5 * entropy[0]


def test_the_best_heads_alignment_error_over_the_probes_falls_from_the_first_snapshot_to_the_last(shipped):
    layer, head = shipped.evaluation.best_head
    errors = shipped.snapshots.alignment_errors(layer, head)
    assert errors.shape == (len(shipped.snapshots.steps),)
    assert errors[0] > 0.5 > 0.2 > errors[-1]  # from a near-uniform start to the alignment
