"""Streamlit glue for the station-congestion page: the network in use (bundled or uploaded), the simulated world,
trained experiments kept per settings, training with live progress, the what-if buttons' callbacks, and cached
embeddings."""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

import networkx as nx
import numpy as np
import streamlit as st

from core.railway.congestion_models import MODELS
from core.railway.exploration import (
    World,
    busiest_closable_link,
    networkx_edge_index,
    simulate_world,
    untrained_embedding,
)
from core.railway.network import NetworkDataError, RailwayNetwork, load_bundled_network, load_network
from core.railway.training import (
    CLOSED_LINK,
    EPOCHS,
    EVALUATIONS,
    TRAINING_RUNS,
    Experiment,
    Progress,
    run_experiment,
)

MAX_UPLOAD_BYTES = 1_000_000
MIN_STATIONS, MAX_STATIONS = 5, 120  # fewer cannot be split into train and test; more make the simulator slow
STORED_EXPERIMENTS = 4  # trained experiments kept per process (each a few MB)
BUNDLED_LABEL = "JR Yamanote loop + Chūō lines (bundled)"
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class NetworkChoice:
    """The network the page works on, a key that identifies its content, and the link the experiment closes."""

    network: RailwayNetwork
    key: str  # "bundled" or a hash of the uploaded files
    label: str
    closed_link: tuple[str, str] | None  # None: every link is a bridge, no topology change to test
    bundled: bool


@dataclass(frozen=True)
class TrainingSettings:
    """What the training form sets."""

    seed: int = 0
    days: int = 200
    epochs: int = EPOCHS


@dataclass
class LossHistory:
    """Progress reports of run_experiment, kept as loss curves per (model kind, evaluation)."""

    epochs: int
    curves: dict[tuple[str, str], list[tuple[int, float, float]]] = field(default_factory=dict)

    def add(self, kind: str, evaluation: str, progress: Progress) -> None:
        """Record a report of one model kind training for one evaluation."""
        self.curves.setdefault((kind, evaluation), []).append((progress.epoch, progress.train_loss, progress.test_loss))

    def fraction(self) -> float:
        """Share of the whole training done (0–1)."""
        done = sum(points[-1][0] for points in self.curves.values())
        return min(1.0, done / (TRAINING_RUNS * self.epochs))

    def current(self) -> str:
        """The task trained last, for the progress text."""
        if not self.curves:
            return "starting"
        kind, evaluation = list(self.curves)[-1]
        epoch = self.curves[kind, evaluation][-1][0]
        return f"{MODELS[kind].name} on {evaluation}: epoch {epoch} of {self.epochs}"


@dataclass(frozen=True)
class TrainedRun:
    """A finished experiment, its loss curves and how long it took."""

    experiment: Experiment
    history: LossHistory
    seconds: float


@st.cache_resource(show_spinner=False)
def bundled_network() -> RailwayNetwork:
    """The bundled Tokyo network, loaded once per process."""
    return load_bundled_network()


def _page_limits(network: RailwayNetwork, file: str) -> None:
    """Refuse networks too small to split, too big to simulate on a page, or without trips, naming the file."""
    count = len(network.stations)
    if not MIN_STATIONS <= count <= MAX_STATIONS:
        raise NetworkDataError(file, f"{count} stations; this page works with {MIN_STATIONS} to {MAX_STATIONS}")
    if np.count_nonzero(network.boardings()) < 2:
        raise NetworkDataError(file, "fewer than two stations have daily_boardings above 0, so nobody can travel")


def _read(upload, default: str) -> bytes:
    """The bytes of an uploaded file, refusing files over MAX_UPLOAD_BYTES."""
    data = upload.getvalue()
    if len(data) > MAX_UPLOAD_BYTES:
        raise NetworkDataError(
            getattr(upload, "name", default), f"{len(data):,} bytes; at most {MAX_UPLOAD_BYTES:,} bytes are accepted"
        )
    return data


def choose_network(stations_upload, links_upload) -> tuple[NetworkChoice, NetworkDataError | None]:
    """The uploaded network when both files are given and valid, else the bundled one, with the problem found."""
    bundled = NetworkChoice(bundled_network(), "bundled", BUNDLED_LABEL, CLOSED_LINK, True)
    if stations_upload is None or links_upload is None:
        return bundled, None
    try:
        stations_bytes, links_bytes = _read(stations_upload, "stations.csv"), _read(links_upload, "links.csv")
        network = load_network(stations_bytes, links_bytes)
    except NetworkDataError as error:
        return bundled, _renamed(error, stations_upload.name, links_upload.name)
    try:
        _page_limits(network, stations_upload.name)
    except NetworkDataError as error:
        return bundled, error
    key = hashlib.sha256(stations_bytes + b"\0" + links_bytes).hexdigest()[:16]
    label = "your network"
    return NetworkChoice(network, key, label, busiest_closable_link(network), False), None


def _renamed(error: NetworkDataError, stations_name: str, links_name: str) -> NetworkDataError:
    """The error with the uploaded file's own name (load_network names bytes "stations.csv" / "links.csv")."""
    names = {"stations.csv": stations_name, "links.csv": links_name}
    detail = str(error).split(": ", 1)[1] if ": " in str(error) else str(error)
    return NetworkDataError(names.get(error.file, error.file), detail, error.row)


@st.cache_resource(max_entries=6, show_spinner="Simulating the days…")
def cached_world(key: str, seed: int, days: int, _network: RailwayNetwork) -> World:
    """The simulated world of a network (identified by ``key``), seed and number of days; shared, never mutated."""
    return simulate_world(_network, seed, days)


@st.cache_resource(show_spinner=False)
def _experiment_store() -> tuple[OrderedDict, threading.Lock]:
    """Trained runs per (network key, settings), most recent last, bounded to STORED_EXPERIMENTS; shared."""
    return OrderedDict(), threading.Lock()


def stored_run(key: str, settings: TrainingSettings) -> TrainedRun | None:
    """The run trained earlier for this network and these settings, if still kept."""
    store, lock = _experiment_store()
    with lock:
        run = store.get((key, settings))
        if run is not None:
            store.move_to_end((key, settings))
        return run


def train_run(
    choice: NetworkChoice, settings: TrainingSettings, on_progress: Callable[[LossHistory], None]
) -> TrainedRun:
    """Train every model for these settings (or reuse a kept run), calling ``on_progress`` as the losses come in."""
    kept = stored_run(choice.key, settings)
    if kept is not None:
        return kept
    history = LossHistory(settings.epochs)

    def report(kind: str, evaluation: str, progress: Progress) -> None:
        history.add(kind, evaluation, progress)
        on_progress(history)

    closed = () if choice.closed_link is None else (choice.closed_link,)
    started = time.perf_counter()
    experiment = run_experiment(choice.network, settings.seed, settings.days, settings.epochs, closed, progress=report)
    run = TrainedRun(experiment, history, time.perf_counter() - started)
    store, lock = _experiment_store()
    with lock:
        store[choice.key, settings] = run
        while len(store) > STORED_EXPERIMENTS:
            store.popitem(last=False)
    return run


def shown_scores(run: TrainedRun, has_closed_link: bool) -> tuple[dict[tuple[str, str], tuple[float, float]], list]:
    """(kind, evaluation) → (R², MAE) and the evaluations to show (no topology change when nothing could close)."""
    scores = {key: (value.r2, value.mae) for key, value in run.experiment.scores.items()}
    evaluations = [e for e in EVALUATIONS if has_closed_link or e != "topology change"]
    return {key: value for key, value in scores.items() if key[1] in evaluations}, evaluations


def day_label(day: int) -> str:
    """A simulated day for people: "day 3 · Wed"."""
    return f"day {day + 1} · {WEEKDAYS[day % 7]}"


def raise_boardings(stations: list[int], factor: float) -> None:
    """A what-if button's callback: raise the boardings at these stations by ``factor``."""
    st.session_state["stations_raise"], st.session_state["stations_factor"] = list(stations), factor


def reset_scenario() -> None:
    """The "back to normal" button's callback: no boardings raised, no link closed."""
    st.session_state["stations_raise"], st.session_state["stations_close"] = [], []


@st.cache_data(max_entries=32, show_spinner=False)
def railway_embedding(key: str, seed: int, _network: RailwayNetwork) -> np.ndarray:
    """An untrained GCN's 2-D embedding of the network's stations."""
    return untrained_embedding(_network.edge_index(), len(_network.stations), seed)


@st.cache_data(max_entries=32, show_spinner=False)
def karate_embedding(seed: int) -> tuple[np.ndarray, list[str]]:
    """An untrained GCN's 2-D embedding of Zachary's karate club, and each member's club after the split."""
    graph = nx.karate_club_graph()
    nodes, edge_index = networkx_edge_index(graph)
    clubs = ["Mr. Hi's club" if graph.nodes[node]["club"] == "Mr. Hi" else "the officer's club" for node in nodes]
    return untrained_embedding(edge_index, len(nodes), seed), clubs
