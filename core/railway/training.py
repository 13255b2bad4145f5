"""Training and evaluating the congestion models: splits, full-batch Adam, R² and MAE, and the whole experiment.

Splits (``Split``): held-out days (test on a random ``TEST_SHARE`` of the days, train on the rest, every station),
held-out stations (the same days, and the labels of a ``TEST_SHARE`` of the stations hidden during training: the model
sees their boardings as inputs but never their crowding) and a topology change (the models trained on the intact
network re-predict the test days after a link is closed, from the changed edges and without retraining, against the
simulator's re-assignment). The negative control trains and tests on held-out stations with the platform-crowding
label, which only the station's own boardings drive.

Metrics, in crowding percentage points: R² = 1 − Σ(y − ŷ)² / Σ(y − ȳ)² pooled over the test days × test
stations, MAE = mean |y − ŷ|, and both per station over the test days.

``EVALUATIONS`` names the four evaluations once (key → short name, what it tests, whether the models train for it);
scores and loss curves are keyed by (model kind, evaluation key).
"""

from __future__ import annotations

import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from functools import partial

import numpy as np
import torch

from core.railway.congestion_models import (
    CROWDING_UNIT,
    NEURAL_MODELS,
    CongestionModel,
    build_model,
    fit_ridge,
    model_output,
    predict,
)
from core.railway.network import RailwayNetwork
from core.railway.simulator import Congestion, CongestionSimulator, Demand, close_links

CLOSED_LINK = ("JY17", "JY18")  # Shinjuku–Yoyogi: trains between them re-route via Yotsuya and Sendagaya
TEST_SHARE = 0.25  # of the days, held out for testing; and of the stations, whose labels training never sees
EPOCHS = 200
VULGAR_FRACTIONS = {Fraction(unicodedata.numeric(c)).limit_denominator(10): c for c in "½⅓⅔¼¾⅕⅖⅗⅘⅙⅚⅛⅜⅝⅞"}


def fraction_text(share: float) -> str:
    """A share as a fraction for people: 0.25 → "¼" (Unicode's own character where it has one), 0.3 → "3/10"."""
    fraction = Fraction(share).limit_denominator(100)
    return VULGAR_FRACTIONS.get(fraction, f"{fraction.numerator}/{fraction.denominator}")


@dataclass(frozen=True)
class Evaluation:
    """One way of testing the models, in words."""

    name: str  # short: a table's row, a loss panel's title
    question: str  # what it tests, in a sentence
    trains: bool = True  # each neural model trains for it; False: it reuses the models trained on held-out days


EVALUATIONS = {  # key → Evaluation; the key names the evaluation in scores, loss curves and progress
    "held-out days": Evaluation(
        "new days", f"Trained on {fraction_text(1 - TEST_SHARE)} of the days, tested on the other days, every station."
    ),
    "held-out stations": Evaluation(
        "unseen stations",
        f"The crowding of {fraction_text(TEST_SHARE)} of the stations is hidden in training; tested on those stations.",
    ),
    "topology change": Evaluation(
        "a link closed", "Trained on the intact network, tested after a link closes, no retraining.", trains=False
    ),
    "control": Evaluation(
        "control: own boardings",
        "Negative control: a label driven only by the station's own boardings (platform crowding), unseen stations.",
    ),
}
TRAINED_FOR = tuple(key for key, evaluation in EVALUATIONS.items() if evaluation.trains)
TRAINING_RUNS = len(NEURAL_MODELS) * len(TRAINED_FOR)  # each neural model is trained once for each


@dataclass(frozen=True)
class Split:
    """Which days and stations train a model and which test it: sorted indices, train and test days disjoint."""

    name: str
    train_days: np.ndarray
    test_days: np.ndarray
    train_stations: np.ndarray
    test_stations: np.ndarray


def _partition(count: int, test_share: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A random (train, test) partition of range(count) with round(test_share · count) test indices."""
    order = rng.permutation(count)
    tests = round(test_share * count)
    return np.sort(order[tests:]), np.sort(order[:tests])


def held_out_days(days: int, stations: int, rng: np.random.Generator, test_share: float = TEST_SHARE) -> Split:
    """Test on unseen days; every station trains and tests."""
    train_days, test_days = _partition(days, test_share, rng)
    every = np.arange(stations)
    return Split("held-out days", train_days, test_days, every, every)


def held_out_stations(days_split: Split, rng: np.random.Generator, test_share: float = TEST_SHARE) -> Split:
    """The same days, and a share of the stations whose labels are hidden in training and tested."""
    train_stations, test_stations = _partition(len(days_split.train_stations), test_share, rng)
    return replace(days_split, name="held-out stations", train_stations=train_stations, test_stations=test_stations)


@dataclass(frozen=True)
class Progress:
    """Where training stands, for a live loss curve; losses are mean squared errors in (crowding / 100)²."""

    epoch: int  # 1 … epochs
    epochs: int
    train_loss: float
    test_loss: float


def _loss(
    model: CongestionModel,
    network: RailwayNetwork,
    boardings: torch.Tensor,
    crowding: torch.Tensor,
    stations: np.ndarray,
) -> torch.Tensor:
    """Mean squared error of crowding / 100 at the given stations, for boardings and crowding (days, stations)."""
    predicted = model_output(model, network, boardings)[:, stations]
    return torch.mean((predicted - crowding[:, stations] / CROWDING_UNIT) ** 2)


def _days(values: np.ndarray, days: np.ndarray) -> torch.Tensor:
    """The rows of (days, stations) values for the given days, as float32."""
    return torch.as_tensor(values[days], dtype=torch.float32)


def train(
    model: CongestionModel,
    network: RailwayNetwork,
    boardings: np.ndarray,
    crowding: np.ndarray,
    split: Split,
    epochs: int = EPOCHS,
    learning_rate: float = 0.03,
    progress: Callable[[Progress], None] | None = None,
    progress_every: int = 10,
) -> list[float]:
    """Full-batch Adam on the split's training days × stations; returns the training loss of every epoch.

    ``progress`` is called every ``progress_every`` epochs and after the last, with the test loss as well.
    """
    train_days = _days(boardings, split.train_days), _days(crowding, split.train_days)
    test_days = _days(boardings, split.test_days), _days(crowding, split.test_days)
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    losses = []
    for epoch in range(1, epochs + 1):
        optimizer.zero_grad()
        loss = _loss(model, network, *train_days, split.train_stations)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if progress is not None and (epoch % progress_every == 0 or epoch == epochs):
            with torch.no_grad():
                test_loss = _loss(model, network, *test_days, split.test_stations).item()
            progress(Progress(epoch, epochs, losses[-1], test_loss))
    return losses


@dataclass(frozen=True)
class Scores:
    """Accuracy of predicted crowding against the simulator's, in percentage points; NaN at stations not tested."""

    r2: float
    mae: float
    r2_per_station: np.ndarray  # (stations,)
    mae_per_station: np.ndarray  # (stations,)


def _r2(truth: np.ndarray, predicted: np.ndarray, axis: int | None = None) -> np.ndarray:
    """1 − Σ(y − ŷ)² / Σ(y − ȳ)² along an axis (all values when None)."""
    residual = ((truth - predicted) ** 2).sum(axis=axis)
    total = ((truth - truth.mean(axis=axis, keepdims=axis is not None)) ** 2).sum(axis=axis)
    return 1.0 - residual / total


def score(truth: np.ndarray, predicted: np.ndarray, split: Split) -> Scores:
    """R² and MAE of predicted against true crowding (days, stations) on the split's test days × test stations."""
    per_station = np.full((2, truth.shape[1]), np.nan)  # R², MAE
    truth, predicted = (values[np.ix_(split.test_days, split.test_stations)] for values in (truth, predicted))
    errors = np.abs(truth - predicted)
    per_station[:, split.test_stations] = _r2(truth, predicted, axis=0), errors.mean(axis=0)
    return Scores(float(_r2(truth, predicted)), float(errors.mean()), *per_station)


@dataclass(frozen=True)
class Experiment:
    """One seeded world: its simulated days, intact and with a link closed, the trained models and their scores."""

    network: RailwayNetwork
    closed_network: RailwayNetwork
    simulator: CongestionSimulator
    demand: Demand  # every day's boardings and (hidden) attractions
    handling: np.ndarray  # (stations,) the world's hidden handling factors
    intact: Congestion  # every day on the intact network
    closed: Congestion  # the same boardings, re-assigned on the closed network
    splits: dict[str, Split]  # "held-out days", "held-out stations"
    models: dict[str, CongestionModel]  # neural kind → trained on held-out days with the crowding label (what-ifs)
    scores: dict[tuple[str, str], Scores]  # (kind, evaluation), both keys; absent where the model does not apply
    train_seconds: dict[str, float]  # kind → seconds to train it on held-out days


def run_experiment(
    network: RailwayNetwork,
    seed: int,
    days: int = 400,
    epochs: int = EPOCHS,
    closed_links: Sequence[tuple[str, str]] = (CLOSED_LINK,),
    simulator: CongestionSimulator = CongestionSimulator(),
    progress: Callable[[str, str, Progress], None] | None = None,
) -> Experiment:
    """Simulate a world, train every model on every split, and score them; ``progress(kind, evaluation, Progress)``
    as they train.

    The ridge runs where it applies: held-out days, and the topology change, to which it is blind (it predicts the
    intact network's crowding). It cannot predict a station whose labels it never saw: no held-out stations, no
    control.
    """
    rng = np.random.default_rng(seed)
    handling = simulator.handling_factors(network, rng)
    demand = simulator.daily_demand(network, days, rng)
    boardings = demand.boardings
    closed_network = close_links(network, closed_links)
    intact = simulator.simulate(network, demand, handling)
    closed = simulator.simulate(closed_network, demand, handling)
    days_split = held_out_days(days, len(network.stations), rng)
    stations_split = held_out_stations(days_split, rng)
    label_and_split = {
        "held-out days": (intact.crowding, days_split),
        "held-out stations": (intact.crowding, stations_split),
        "control": (intact.platform_crowding, stations_split),
    }
    tasks = [(evaluation, *label_and_split[evaluation]) for evaluation in TRAINED_FOR]  # (evaluation, label, split)
    models, scores, train_seconds = {}, {}, {}
    for kind in NEURAL_MODELS:
        for evaluation, label, split in tasks:
            model = build_model(kind, seed)
            report = None if progress is None else partial(progress, kind, evaluation)
            started = time.perf_counter()
            train(model, network, boardings, label, split, epochs, progress=report)
            seconds = time.perf_counter() - started
            scores[kind, evaluation] = score(label, predict(model, network, boardings), split)
            if evaluation == "held-out days":  # this model also meets the closed link, and serves what-ifs
                models[kind], train_seconds[kind] = model, seconds
                predicted = predict(model, closed_network, boardings)
                scores[kind, "topology change"] = score(closed.crowding, predicted, days_split)
    ridge = fit_ridge(boardings[days_split.train_days], intact.crowding[days_split.train_days])
    scores["ridge", "held-out days"] = score(intact.crowding, ridge.predict(boardings), days_split)
    scores["ridge", "topology change"] = score(closed.crowding, ridge.predict(boardings), days_split)
    splits = {"held-out days": days_split, "held-out stations": stations_split}
    return Experiment(
        network, closed_network, simulator, demand, handling, intact, closed, splits, models, scores, train_seconds
    )


def mean_scores(experiments: Sequence[Experiment]) -> dict[tuple[str, str], tuple[float, float]]:
    """(kind, evaluation) → (R², MAE), each the mean over the experiments (seeds)."""
    means = {}
    for key in experiments[0].scores:
        scores = [run.scores[key] for run in experiments]
        means[key] = float(np.mean([s.r2 for s in scores])), float(np.mean([s.mae for s in scores]))
    return means


@dataclass(frozen=True)
class WhatIf:
    """One day's crowding % (stations,) after a change: the simulator's re-assignment and each trained model's."""

    truth: np.ndarray  # (stations,)
    predicted: dict[str, np.ndarray]  # kind → (stations,), from the models trained on the intact network


def what_if(run: Experiment, day: int, boardings: np.ndarray, closed_links: Sequence[tuple[str, str]] = ()) -> WhatIf:
    """Day ``day`` of the run with the given boardings (stations,) and links closed, the hidden attractions kept."""
    network = close_links(run.network, closed_links)
    demand = Demand(boardings[None], run.demand.attractions[day][None])  # one day
    truth = run.simulator.simulate(network, demand, run.handling).crowding[0]
    return WhatIf(truth, {kind: predict(model, network, boardings[None])[0] for kind, model in run.models.items()})
