"""Benchmark of the station-congestion GCN: `python bench/gcn.py`.

On the bundled network (Yamanote loop + Chūō lines, 37 stations), for seeds 0, 1 and 2 of
core.railway.training.run_experiment (400 simulated days; 300 train, 100 test; 200 full-batch Adam epochs per model):

1. the simulator's time for 400 days (demand, shortest paths, assignment, crowding), median of 5 runs;
2. R² and MAE (crowding percentage points) of the pure GCN, the GCN with a skip weight, the MLP and the ridge on
   held-out days, held-out stations, a topology change (Shinjuku–Yoyogi closed, no retraining) and the negative
   control (platform crowding, driven by own boardings, on held-out stations): per seed, then the mean;
3. the training time of 200 epochs of the GCN with a skip weight on held-out days, mean over the seeds.

torch runs on one thread: the tensors are small (300 days × 37 stations rows), and on two shared cores one thread is
faster and far steadier than two that wait for each other.

The last line is machine-readable (gcn: the GCN with a skip weight; means over the seeds):
RESULT r2_station_gcn=… r2_station_mlp=… r2_day_gcn=… r2_day_mlp=… r2_control_gcn=… r2_control_mlp=… train_s=…
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from core.railway.congestion_models import MODELS  # noqa: E402
from core.railway.network import RailwayNetwork, load_bundled_network  # noqa: E402
from core.railway.simulator import CongestionSimulator  # noqa: E402
from core.railway.training import CLOSED_LINK, EVALUATIONS, mean_scores, run_experiment  # noqa: E402

SEEDS = (0, 1, 2)
DAYS = 400
EPOCHS = 200


def simulator_seconds(network: RailwayNetwork) -> float:
    """Median wall time of simulating DAYS days, from drawing the demand to the crowding."""
    simulator = CongestionSimulator()
    times = []
    for seed in range(5):
        started = time.perf_counter()
        rng = np.random.default_rng(seed)
        handling = simulator.handling_factors(network, rng)
        simulator.simulate(network, simulator.daily_demand(network, DAYS, rng), handling)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def print_table(scores: dict[tuple[str, str], tuple[float, float]]) -> None:
    """One row per model, one column per evaluation: R² / MAE, or n/a where the model does not apply."""
    print(f"{'':12}" + "".join(f"{evaluation:>22}" for evaluation in EVALUATIONS))
    for row, model in MODELS.items():
        cells = (scores.get((row, evaluation)) for evaluation in EVALUATIONS)
        texts = ("n/a" if cell is None else f"{cell[0]:.3f} / {cell[1]:5.1f}" for cell in cells)
        print(f"{model.name:12}" + "".join(f"{text:>22}" for text in texts))


def main() -> None:
    torch.set_num_threads(1)
    print(
        f"python {platform.python_version()}, torch {torch.__version__} ({torch.get_num_threads()} thread), "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}"
    )
    network = load_bundled_network()
    closed = "–".join(network.stations[network.index[station]].name_en for station in CLOSED_LINK)
    print(f"network: {len(network.stations)} stations, {len(network.links)} links; closed link: {closed}")
    sim_s = simulator_seconds(network)
    print(f"simulator, {DAYS} days: {sim_s:.3f} s (median of 5)")

    runs = []
    for seed in SEEDS:
        started = time.perf_counter()
        run = run_experiment(network, seed, days=DAYS, epochs=EPOCHS)
        held_out = ", ".join(network.stations[i].name_en for i in run.splits["held-out stations"].test_stations)
        print(f"\nseed {seed}, {time.perf_counter() - started:.0f} s; held-out stations: {held_out}")
        print("R² / MAE (crowding %-points)")
        print_table(mean_scores([run]))
        seconds = ", ".join(f"{MODELS[kind].name} {value:.2f} s" for kind, value in run.train_seconds.items())
        print(f"training, {EPOCHS} epochs on held-out days: {seconds}")
        runs.append(run)

    means = mean_scores(runs)
    train_s = float(np.mean([run.train_seconds["gcn_skip"] for run in runs]))
    print(f"\nmean over seeds {', '.join(map(str, SEEDS))}; the ridge is blind to the closed link")
    print("R² / MAE (crowding %-points)")
    print_table(means)
    print(f"training, {EPOCHS} epochs, GCN + skip: {train_s:.2f} s (mean over the seeds)")
    print(f"load average at the end: {os.getloadavg()[0]:.2f} (other processes on these CPUs make timings noisy)")

    def r2(row: str, evaluation: str) -> str:
        return f"{means[row, evaluation][0]:.3f}"

    print(
        f"RESULT r2_station_gcn={r2('gcn_skip', 'held-out stations')} r2_station_mlp={r2('mlp', 'held-out stations')} "
        f"r2_day_gcn={r2('gcn_skip', 'held-out days')} r2_day_mlp={r2('mlp', 'held-out days')} "
        f"r2_control_gcn={r2('gcn_skip', 'control')} r2_control_mlp={r2('mlp', 'control')} train_s={train_s:.2f}"
    )


if __name__ == "__main__":
    main()
