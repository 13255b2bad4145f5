"""What the "Station congestion" page shows, computed: the simulated world before any training, what-if days on it,
hop distances, a signal spreading layer by layer through graph convolutions, and an untrained GCN's embedding.

- ``simulate_world`` draws the same world as ``core.railway.training.run_experiment`` with the same network, seed and
  number of days (the same handling factors, days and held-out-days split), so the page can show the simulator's
  crowding before the models are trained, and the trained models' predictions on the very same days afterwards.
- ``scenario_truth`` is the simulator's crowding on one day of that world with changed boardings and links closed:
  the truth of ``core.railway.training.what_if``, available without an experiment; ``closable_together`` picks, from the
  links a user asks to close, those that can close without cutting any station off.
- ``spread`` applies ``core.gnn.gcn.GraphConvolution`` with W = 1 and no bias, layer after layer, to a signal that
  starts at one station: layer l holds Â^l e_s. Because the symmetric Â is symmetric, it is at once how far the
  station's signal reaches and how much each station contributes to the station's own state after l layers; it is
  zero beyond l hops (the receptive field of an l-layer GCN).
- ``untrained_embedding`` is Kipf's demonstration: a 3-layer GCN with random weights, tanh between layers, one-hot
  node features (X = I), read out in 2-D; nodes placed alike in the graph land alike in the plane.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import networkx as nx
import numpy as np
import torch

from core.gnn.gcn import GraphConvolution
from core.railway.congestion_models import CongestionModel, sensitivity
from core.railway.network import RailwayNetwork
from core.railway.simulator import Congestion, CongestionSimulator, Demand, close_links
from core.railway.training import Split, held_out_days

KIPF_WIDTHS = (4, 4, 2)  # the untrained GCN's layer widths: two hidden layers of 4, a 2-D output


@dataclass(frozen=True)
class World:
    """A seeded world as ``run_experiment`` draws it: demand, hidden handling factors, crowding and test days."""

    network: RailwayNetwork
    simulator: CongestionSimulator
    demand: Demand  # (days, stations) boardings and hidden attractions
    handling: np.ndarray  # (stations,)
    intact: Congestion  # every day on the intact network
    days_split: Split  # the held-out-days split of run_experiment


def simulate_world(
    network: RailwayNetwork, seed: int, days: int, simulator: CongestionSimulator = CongestionSimulator()
) -> World:
    """The world of ``run_experiment(network, seed, days)``: its random draws, in the same order from the same seed."""
    rng = np.random.default_rng(seed)
    handling = simulator.handling_factors(network, rng)
    demand = simulator.daily_demand(network, days, rng)
    intact = simulator.simulate(network, demand, handling)
    return World(network, simulator, demand, handling, intact, held_out_days(days, len(network.stations), rng))


def scenario_boardings(boardings: np.ndarray, stations: Sequence[int], factor: float) -> np.ndarray:
    """One day's boardings (stations,) with those of the given stations multiplied by ``factor``."""
    scaled = np.asarray(boardings, dtype=np.float64).copy()
    scaled[list(stations)] *= factor
    return scaled


def scenario_truth(
    world: World, day: int, boardings: np.ndarray, closed_links: Sequence[tuple[str, str]] = ()
) -> np.ndarray:
    """The simulator's crowding % (stations,) on ``day`` with these boardings and links closed (hidden parts kept).

    Raises ``ValueError`` (from ``close_links``) for an unknown link, or when the closures disconnect the network.
    """
    network = close_links(world.network, closed_links)
    demand = Demand(np.asarray(boardings, dtype=np.float64)[None], world.demand.attractions[day][None])
    return world.simulator.simulate(network, demand, world.handling).crowding[0]


def non_bridge_links(network: RailwayNetwork) -> list[tuple[str, str]]:
    """The links (source, target) that can close without disconnecting the network, in file order."""
    bridges = {frozenset(edge) for edge in nx.bridges(network.to_networkx())}
    pairs = [(link.source, link.target) for link in network.links]
    return [pair for pair in pairs if frozenset(pair) not in bridges]


@dataclass(frozen=True)
class Closures:
    """Links asked to close, split into those that close together and those left open, with why."""

    closed: list[tuple[str, str]]  # in the order asked
    left_open: list[tuple[tuple[str, str], list[str]]]  # (link, ids of the stations its closing would cut off)


def closable_together(network: RailwayNetwork, links: Sequence[tuple[str, str]]) -> Closures:
    """Close ``links`` (station-id pairs) one by one, in order, keeping each only if the network stays connected.

    A link whose closing would disconnect the network, with the links kept before it, stays open; the stations it
    would cut off (the smaller side) say why.
    """
    graph = network.to_networkx()
    closed: list[tuple[str, str]] = []
    left_open: list[tuple[tuple[str, str], list[str]]] = []
    for link in links:
        graph.remove_edge(*link)
        if nx.is_connected(graph):
            closed.append(link)
            continue
        cut_off = min(nx.connected_components(graph), key=len)
        graph.add_edge(*link)
        left_open.append((link, [station.id for station in network.stations if station.id in cut_off]))
    return Closures(closed, left_open)


def busiest_closable_link(network: RailwayNetwork) -> tuple[str, str] | None:
    """The closable link whose two stations have the most boardings together (None when every link is a bridge)."""
    boardings = network.boardings()
    candidates = non_bridge_links(network)
    if not candidates:
        return None
    return max(candidates, key=lambda pair: boardings[network.index[pair[0]]] + boardings[network.index[pair[1]]])


def hop_distances(network: RailwayNetwork, station: int) -> np.ndarray:
    """Hops (stations,) from the station at position ``station`` to every station, along the links."""
    lengths = nx.single_source_shortest_path_length(network.to_networkx(), network.stations[station].id)
    return np.array([lengths[s.id] for s in network.stations], dtype=np.int64)


def _identity_convolution() -> GraphConvolution:
    """A 1 → 1 graph convolution with W = 1 and no bias: H' = Â H."""
    layer = GraphConvolution(1, 1, normalization="symmetric", bias=False)
    with torch.no_grad():
        layer.weight.fill_(1.0)
    return layer


def spread(network: RailwayNetwork, station: int, layers: int) -> np.ndarray:
    """(layers + 1, stations): a unit signal at ``station`` after 0 … ``layers`` graph convolutions (Â^l e_s)."""
    edge_index = torch.from_numpy(network.edge_index())
    layer = _identity_convolution()
    h = torch.zeros(len(network.stations), 1, dtype=torch.float64)
    h[station] = 1.0
    states = [h[:, 0].clone()]
    with torch.no_grad():
        layer = layer.double()
        for _ in range(layers):
            h = layer.message_passing(h, edge_index).output  # board at a neighbour, alight here
            states.append(h[:, 0].clone())
    return torch.stack(states).numpy()


def untrained_embedding(
    edge_index: np.ndarray, num_nodes: int, seed: int, widths: Sequence[int] = KIPF_WIDTHS
) -> np.ndarray:
    """(nodes, 2) output of a randomly initialised GCN (seeded) with X = I and tanh after every layer (Kipf 2016)."""
    generator_state = torch.random.get_rng_state()
    try:
        torch.manual_seed(seed)
        sizes = [num_nodes, *widths]
        layers = [GraphConvolution(n_in, n_out, normalization="symmetric") for n_in, n_out in zip(sizes, sizes[1:])]
    finally:
        torch.random.set_rng_state(generator_state)  # leave the caller's random stream as it was
    edges = torch.as_tensor(np.asarray(edge_index), dtype=torch.long)
    h = torch.eye(num_nodes)
    with torch.no_grad():
        for layer in layers:
            h = torch.tanh(layer(h, edges))
    return h.numpy().astype(np.float64)


def networkx_edge_index(graph: nx.Graph) -> tuple[list, np.ndarray]:
    """(nodes in graph order, edge_index (2, 2·edges)) of an undirected networkx graph, both directions listed."""
    nodes = list(graph.nodes)
    position = {node: i for i, node in enumerate(nodes)}
    pairs = np.array([(position[u], position[v]) for u, v in graph.edges if u != v], dtype=np.int64).reshape(-1, 2).T
    return nodes, np.concatenate([pairs, pairs[::-1]], axis=1)


def sensitivity_to_rise(
    model: CongestionModel, network: RailwayNetwork, boardings: np.ndarray, station: int, rise: float = 0.1
) -> np.ndarray:
    """(stations,) percentage points by which the model's crowding at ``station`` moves when one station's boardings
    rise by ``rise`` (0.1 = 10 %), to first order: ∂ crowding / ∂ ln O_j · ln(1 + rise). Zero outside the receptive
    field."""
    return sensitivity(model, network, boardings, station) * np.log1p(rise)
