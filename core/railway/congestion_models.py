"""Models that predict each station's crowding from the day's boardings: two GCNs, a graph-blind MLP and a ridge.

``MODELS`` names them once (kind → display name, what it reads, whether it is neural); the page, the figures and the
benchmark take names from there. All three neural models read the same node features and differ only in their layers
(σ = ReLU between layers; ``DEFAULT_LAYERS`` of them, ``DEFAULT_HIDDEN`` units wide):

- ``"gcn"``, the pure GCN of eq. 2.1 (Kipf & Welling):     H' = σ(Â H W + b), Â symmetric-normalised A + I;
- ``"gcn_skip"``, a GCN with a separate self weight:       H' = σ(H W_self + Â H W_neigh + b);
- ``"mlp"``, graph-blind:                                   H' = σ(H W + b).

With k layers a station's prediction depends on the boardings within k hops (its receptive field) and on nothing
farther. Days are a batch dimension: x (days, stations, features) → crowding (days, stations), each day on its own
copy of the graph. Features are scaled by fixed constants shared by all stations (never per station, which would
erase the level of each station's boardings), so a model trained on one network also reads a changed one.

The ridge baseline is per station: crowding_i = a_i + Σ_j w_ij O_j over all stations' standardised boardings O_j,
fitted in closed form. It needs each station's own training labels and knows nothing of the topology: it applies to
held-out days, and to a changed topology only blindly, predicting as if nothing had changed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from core.gnn.gcn import GraphConvolution
from core.railway.network import RailwayNetwork


@dataclass(frozen=True)
class ModelKind:
    """What a model is called and what it reads to predict a station's crowding."""

    name: str  # for people: a table's column, a legend, a button
    reads: str  # a predicate, after "the {name} …"
    neural: bool = True  # built by build_model and trained by gradient descent (a loss curve); False: closed form


MODELS = {  # kind → ModelKind; the kind names the model in scores, loss curves, what-ifs and permalinks
    "gcn": ModelKind("GCN", "reads each station's boardings and its neighbours' through one weight"),
    "gcn_skip": ModelKind("GCN + skip", "reads the same, with a separate weight for the station itself"),
    "mlp": ModelKind("MLP", "reads a station's own boardings only"),
    "ridge": ModelKind(
        "ridge", "is a linear regression fitted station by station on every station's boardings", neural=False
    ),
}
NEURAL_MODELS = tuple(kind for kind, model in MODELS.items() if model.neural)  # the kinds build_model makes
DEFAULT_LAYERS = 3  # a GCN's prediction reads the boardings up to this many stops away
DEFAULT_HIDDEN = 32  # units in each hidden layer
FEATURES = ("boardings / 100k", "ln(boardings / 100k)", "links")
BOARDINGS_UNIT = 100_000.0  # passengers
CROWDING_UNIT = 100.0  # %: the models predict crowding / 100, the share of capacity


def station_features(network: RailwayNetwork, boardings: Tensor) -> Tensor:
    """Node features (days, stations, 3) of boardings (days, stations): O / 100k, ln(O / 100k), number of links."""
    scaled = boardings / BOARDINGS_UNIT
    links = torch.from_numpy(np.bincount(network.edge_index()[0], minlength=len(network.stations))).to(scaled)
    log_scaled = scaled.clamp_min(1e-3).log()  # a station closed to boarders (O = 0) reads as 100 passengers
    return torch.stack([scaled, log_scaled, links.expand_as(scaled)], dim=-1)


def batched_edges(edge_index: Tensor, stations: int, days: int) -> Tensor:
    """One copy of the graph per day, as PyG batches graphs: (2, edges) → (2, days · edges), days · stations nodes."""
    offsets = torch.arange(days) * stations  # (days,)
    return (edge_index[:, None, :] + offsets[None, :, None]).reshape(2, -1)


class SkipGraphConvolution(nn.Module):
    """H W_self + Â H W_neigh + b: a graph convolution (eq. 2.1) plus a separate weight for the station itself."""

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        self.self_weight = nn.Linear(in_features, out_features, bias=False)
        self.neighbours = GraphConvolution(in_features, out_features, normalization="symmetric")

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        return self.self_weight(x) + self.neighbours(x, edge_index)


class NodeLinear(nn.Linear):
    """H W + b for every station alone: a layer that ignores the graph."""

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:  # type: ignore[override]  # a layer of a graph model
        return super().forward(x)


LAYERS = {  # neural kind → its layer (in_features, out_features)
    "gcn": lambda n_in, n_out: GraphConvolution(n_in, n_out, normalization="symmetric"),
    "gcn_skip": SkipGraphConvolution,
    "mlp": NodeLinear,
}


class CongestionModel(nn.Module):
    """``layers`` layers of one kind (one of NEURAL_MODELS), ReLU between them, one output per station."""

    def __init__(self, kind: str, hidden: int = DEFAULT_HIDDEN, layers: int = DEFAULT_LAYERS) -> None:
        super().__init__()
        if kind not in LAYERS:
            raise ValueError(f"kind must be one of {NEURAL_MODELS}, not {kind!r}")
        widths = [len(FEATURES)] + [hidden] * (layers - 1) + [1]
        self.layers = nn.ModuleList(LAYERS[kind](n_in, n_out) for n_in, n_out in zip(widths, widths[1:]))

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        """x (days, stations, features), edge_index (2, edges) → crowding / 100 (days, stations)."""
        days, stations, _ = x.shape
        edges = batched_edges(edge_index, stations, days)
        h = x.reshape(days * stations, -1)
        for depth, layer in enumerate(self.layers):
            h = layer(h, edges)
            if depth < len(self.layers) - 1:
                h = torch.relu(h)
        return h.reshape(days, stations)


def build_model(kind: str, seed: int, hidden: int = DEFAULT_HIDDEN, layers: int = DEFAULT_LAYERS) -> CongestionModel:
    """A freshly initialised model; the seed fixes its initial weights."""
    torch.manual_seed(seed)
    return CongestionModel(kind, hidden, layers)


def model_output(model: CongestionModel, network: RailwayNetwork, boardings: Tensor) -> Tensor:
    """The model's crowding / 100 (days, stations) for boardings (days, stations) on this network's topology."""
    return model(station_features(network, boardings), torch.from_numpy(network.edge_index()))


def predict(model: CongestionModel, network: RailwayNetwork, boardings: np.ndarray) -> np.ndarray:
    """Predicted crowding % (days, stations) for boardings (days, stations) — the network may differ from training."""
    with torch.no_grad():
        output = model_output(model, network, torch.as_tensor(boardings, dtype=torch.float32))
    return CROWDING_UNIT * output.numpy().astype(np.float64)


def sensitivity(model: CongestionModel, network: RailwayNetwork, boardings: np.ndarray, station: int) -> np.ndarray:
    """∂ crowding_station / ∂ ln O_j (stations,): percentage points per relative change of each station's boardings.

    Zero outside the model's receptive field (farther than its number of layers, in hops, for the GCNs).
    """
    log_boardings = torch.as_tensor(np.log(boardings), dtype=torch.float32).requires_grad_()
    output = model_output(model, network, log_boardings.exp()[None])  # one day
    (gradient,) = torch.autograd.grad(CROWDING_UNIT * output[0, station], log_boardings)
    return gradient.numpy().astype(np.float64)


@dataclass(frozen=True)
class Ridge:
    """Per-station linear baseline: crowding (days, stations) = standardised boardings @ weights + intercept."""

    mean: np.ndarray  # (stations,) of the training boardings
    scale: np.ndarray  # (stations,)
    weights: np.ndarray  # (stations, stations): column i predicts station i from every station's boardings
    intercept: np.ndarray  # (stations,)

    def predict(self, boardings: np.ndarray) -> np.ndarray:
        """Crowding % (days, stations) for boardings (days, stations)."""
        return (boardings - self.mean) / self.scale @ self.weights + self.intercept


def fit_ridge(boardings: np.ndarray, crowding: np.ndarray, penalty: float = 1.0) -> Ridge:
    """W = (XᵀX + λI)⁻¹ Xᵀ (Y − Ȳ), all stations at once; X: standardised boardings, Y: crowding (days, stations)."""
    mean, spread = boardings.mean(axis=0), boardings.std(axis=0)
    scale = np.where(spread > 0, spread, 1.0)  # a station whose boardings never vary adds nothing
    x = (boardings - mean) / scale
    intercept = crowding.mean(axis=0)
    weights = np.linalg.solve(x.T @ x + penalty * np.eye(x.shape[1]), x.T @ (crowding - intercept))
    return Ridge(mean, scale, weights, intercept)
