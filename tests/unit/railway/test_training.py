"""Specification of core.railway.training: splits, training, metrics and the whole experiment."""

from __future__ import annotations

import numpy as np
import pytest

from core.railway.congestion_models import NEURAL_MODELS, build_model, predict
from core.railway.network import RailwayNetwork
from core.railway.training import (
    EVALUATIONS,
    TRAINED_FOR,
    TRAINING_RUNS,
    Experiment,
    Progress,
    Split,
    fraction_text,
    held_out_days,
    held_out_stations,
    mean_scores,
    run_experiment,
    score,
    train,
    what_if,
)

# --- splits --------------------------------------------------------------------------------------------------------


def test_held_out_days_are_a_quarter_of_the_days_and_every_station_is_tested() -> None:
    split = held_out_days(400, 37, np.random.default_rng(0))
    assert len(split.test_days) == 100 and not set(split.train_days) & set(split.test_days)
    assert sorted([*split.train_days, *split.test_days]) == list(range(400))
    assert split.train_stations.tolist() == split.test_stations.tolist() == list(range(37))


def test_held_out_stations_keep_the_days_and_hide_a_quarter_of_the_stations() -> None:
    rng = np.random.default_rng(0)
    by_day = held_out_days(400, 37, rng)
    split = held_out_stations(by_day, rng)
    assert split.train_days.tolist() == by_day.train_days.tolist()
    assert split.test_days.tolist() == by_day.test_days.tolist()
    assert len(split.test_stations) == 9 and not set(split.train_stations) & set(split.test_stations)
    assert sorted([*split.train_stations, *split.test_stations]) == list(range(37))


# --- training ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", NEURAL_MODELS)
def test_training_reduces_the_loss_and_reports_progress(
    tokyo: RailwayNetwork, days: tuple[np.ndarray, np.ndarray], kind: str
) -> None:
    boardings, crowding = days
    split = held_out_days(len(boardings), len(tokyo.stations), np.random.default_rng(0))
    reports: list[Progress] = []
    model = build_model(kind, seed=0)
    losses = train(model, tokyo, boardings, crowding, split, epochs=25, progress=reports.append, progress_every=10)
    assert len(losses) == 25 and losses[-1] < 0.5 * losses[0]
    assert [report.epoch for report in reports] == [10, 20, 25]
    assert all(report.epochs == 25 and report.test_loss > 0 for report in reports)
    assert reports[-1].train_loss == losses[-1]


def test_training_is_seeded(tokyo: RailwayNetwork, days: tuple[np.ndarray, np.ndarray]) -> None:
    split = held_out_days(len(days[0]), len(tokyo.stations), np.random.default_rng(0))

    def losses() -> list[float]:
        return train(build_model("gcn_skip", seed=3), tokyo, *days, split, epochs=5)

    assert losses() == losses()


def test_training_never_reads_the_labels_of_held_out_stations(
    tokyo: RailwayNetwork, days: tuple[np.ndarray, np.ndarray]
) -> None:
    boardings, crowding = days
    rng = np.random.default_rng(0)
    split = held_out_stations(held_out_days(len(boardings), len(tokyo.stations), rng), rng)
    scrambled = crowding.copy()
    scrambled[:, split.test_stations] = 1e6  # the held-out stations' crowding
    scrambled[split.test_days] = -1e6  # and the test days'
    original = train(build_model("gcn", seed=0), tokyo, boardings, crowding, split, epochs=5)
    assert train(build_model("gcn", seed=0), tokyo, boardings, scrambled, split, epochs=5) == original


# --- metrics ------------------------------------------------------------------------------------------


def test_r2_and_mae_are_pooled_over_the_test_days_and_stations() -> None:
    truth = np.arange(12.0).reshape(4, 3)
    split = Split("test", np.array([0, 1]), np.array([2, 3]), np.array([0]), test_stations=np.array([1, 2]))
    perfect = score(truth, truth, split)
    assert perfect.r2 == 1.0 and perfect.mae == 0.0
    tested = truth[2:, 1:]
    at_the_mean = score(truth, np.full_like(truth, tested.mean()), split)
    assert at_the_mean.r2 == pytest.approx(0.0)
    assert at_the_mean.mae == pytest.approx(np.abs(tested - tested.mean()).mean())
    off_by_two = score(truth, truth + 2.0, split)
    assert off_by_two.mae == 2.0 and np.isnan(off_by_two.mae_per_station[0])
    assert off_by_two.mae_per_station[1:].tolist() == [2.0, 2.0]
    assert off_by_two.r2_per_station[1:] == pytest.approx(1 - 8 / 4.5)  # y = (7, 10) or (8, 11): Σ(y − ȳ)² = 4.5


# --- the experiment -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def run_and_tasks(tokyo: RailwayNetwork) -> tuple[Experiment, list[tuple[str, str]]]:
    """A tiny experiment (28 days, 2 epochs) and the (kind, evaluation) its progress callback named, in order."""
    tasks: list[tuple[str, str]] = []

    def report(kind: str, evaluation: str, progress: Progress) -> None:
        if (kind, evaluation) not in tasks:
            tasks.append((kind, evaluation))

    return run_experiment(tokyo, seed=0, days=28, epochs=2, progress=report), tasks


def test_the_experiment_scores_every_model_where_it_applies(
    tokyo: RailwayNetwork, run_and_tasks: tuple[Experiment, list[tuple[str, str]]]
) -> None:
    run, tasks = run_and_tasks
    assert set(run.scores) == {(kind, evaluation) for kind in NEURAL_MODELS for evaluation in EVALUATIONS} | {
        ("ridge", "held-out days"),
        ("ridge", "topology change"),
    }
    trained = ["held-out days", "held-out stations", "control"]  # the topology change reuses the held-out-days models
    assert tasks == [(kind, evaluation) for kind in ["gcn", "gcn_skip", "mlp"] for evaluation in trained]
    assert len(tasks) == TRAINING_RUNS and list(TRAINED_FOR) == trained
    assert set(run.models) == set(run.train_seconds) == set(NEURAL_MODELS)
    assert len(run.closed_network.links) == len(tokyo.links) - 1
    assert not np.allclose(run.closed.crowding, run.intact.crowding)
    means = mean_scores([run, run])
    assert means["gcn", "control"] == (run.scores["gcn", "control"].r2, run.scores["gcn", "control"].mae)


def test_the_evaluations_state_the_shares_the_splits_hold_out() -> None:
    split = held_out_days(400, 37, np.random.default_rng(0))
    trained_share = len(split.train_days) / 400
    assert (
        f"Trained on {fraction_text(trained_share)} of the days"
        in EVALUATIONS["held-out days"].question
        == ("Trained on ¾ of the days, tested on the other days, every station.")
    )
    assert "¼ of the stations" in EVALUATIONS["held-out stations"].question


@pytest.mark.parametrize(("share", "text"), [(0.25, "¼"), (0.75, "¾"), (1 / 3, "⅓"), (0.5, "½"), (0.3, "3/10")])
def test_a_share_reads_as_a_fraction(share: float, text: str) -> None:
    assert fraction_text(share) == text


def test_a_what_if_compares_the_simulator_with_every_model(
    tokyo: RailwayNetwork, run_and_tasks: tuple[Experiment, list[tuple[str, str]]]
) -> None:
    run, _ = run_and_tasks
    day = int(run.splits["held-out days"].test_days[0])
    boardings = run.demand.boardings[day]
    unchanged = what_if(run, day, boardings)
    np.testing.assert_allclose(unchanged.truth, run.intact.crowding[day])
    model = run.models["gcn_skip"]
    np.testing.assert_allclose(unchanged.predicted["gcn_skip"], predict(model, tokyo, boardings[None])[0])

    concert = boardings * np.where(np.arange(len(tokyo.stations)) == tokyo.index["JY20"], 3.0, 1.0)  # Shibuya
    after = what_if(run, day, concert, closed_links=[("JY17", "JY18")])
    assert set(after.predicted) == set(NEURAL_MODELS)
    assert after.truth[tokyo.index["JY20"]] > unchanged.truth[tokyo.index["JY20"]]
    assert not np.allclose(after.predicted["gcn"], unchanged.predicted["gcn"])
