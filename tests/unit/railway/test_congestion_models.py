"""Specification of core.railway.congestion_models: each model's receptive field, and the ridge baseline."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from core.railway.congestion_models import (
    DEFAULT_HIDDEN,
    DEFAULT_LAYERS,
    LAYERS,
    MODELS,
    NEURAL_MODELS,
    build_model,
    fit_ridge,
    predict,
    sensitivity,
)
from core.railway.network import RailwayNetwork
from core.railway.simulator import close_links


def hops(network: RailwayNetwork, station: str) -> np.ndarray:
    """Hop distance (stations,) of every station from the given one."""
    distance = nx.single_source_shortest_path_length(network.to_networkx(), station)
    return np.array([distance[s.id] for s in network.stations])


# --- the models' receptive field ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["gcn", "gcn_skip"])
@pytest.mark.parametrize("layers", [1, 2, 3])
def test_a_k_layer_gcn_sees_the_boardings_within_k_hops_and_nothing_farther(
    tokyo: RailwayNetwork, days: tuple[np.ndarray, np.ndarray], kind: str, layers: int
) -> None:
    model = build_model(kind, seed=0, layers=layers)
    boardings = days[0][:1]
    distance = hops(tokyo, "JY20")  # Shibuya
    shibuya = tokyo.index["JY20"]
    before = predict(model, tokyo, boardings)[0, shibuya]
    far = predict(model, tokyo, boardings * np.where(distance > layers, 3.0, 1.0))[0, shibuya]
    near = predict(model, tokyo, boardings * np.where(distance == layers, 3.0, 1.0))[0, shibuya]
    assert far == pytest.approx(before, abs=1e-4)
    assert abs(near - before) > 1e-3


def test_the_mlp_sees_only_the_station_itself(tokyo: RailwayNetwork, days: tuple[np.ndarray, np.ndarray]) -> None:
    model = build_model("mlp", seed=0)
    boardings = days[0][:1]
    shibuya = tokyo.index["JY20"]
    others = predict(model, tokyo, boardings * np.where(np.arange(len(tokyo.stations)) == shibuya, 1.0, 3.0))
    assert others[0, shibuya] == pytest.approx(predict(model, tokyo, boardings)[0, shibuya], abs=1e-4)


def test_sensitivity_maps_the_receptive_field(tokyo: RailwayNetwork, days: tuple[np.ndarray, np.ndarray]) -> None:
    model = build_model("gcn_skip", seed=0, layers=2)
    gradient = sensitivity(model, tokyo, days[0][0], tokyo.index["JY20"])
    distance = hops(tokyo, "JY20")
    assert np.all(gradient[distance > 2] == 0)
    assert np.all(gradient[distance <= 2] != 0)


def test_a_closed_link_changes_the_predictions_only_within_reach_of_its_ends(
    tokyo: RailwayNetwork, days: tuple[np.ndarray, np.ndarray]
) -> None:
    model = build_model("gcn", seed=0, layers=2)
    closed = close_links(tokyo, [("JY24", "JY25")])  # Ōsaki–Shinagawa
    change = np.abs(predict(model, closed, days[0]) - predict(model, tokyo, days[0])).max(axis=0)  # (stations,)
    reach = np.minimum(hops(tokyo, "JY24"), hops(tokyo, "JY25"))
    assert np.all(change[reach > 2] < 1e-4)
    assert np.all(change[reach == 0] > 1e-3)


def test_an_unknown_model_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="kind"):
        build_model("transformer", seed=0)


def test_the_neural_kinds_are_those_with_layers_and_the_ridge_is_not_one() -> None:
    assert NEURAL_MODELS == ("gcn", "gcn_skip", "mlp") == tuple(LAYERS)
    assert list(MODELS) == [*NEURAL_MODELS, "ridge"]
    with pytest.raises(ValueError, match="kind"):
        build_model("ridge", seed=0)  # fitted in closed form by fit_ridge


def test_a_default_model_has_the_default_depth_and_width() -> None:
    model = build_model("gcn_skip", seed=0)
    assert len(model.layers) == DEFAULT_LAYERS
    assert model.layers[0].self_weight.out_features == DEFAULT_HIDDEN


# --- the ridge -------------------------------------------------------------------------------------------------------


def test_ridge_recovers_a_linear_law_of_the_boardings() -> None:
    rng = np.random.default_rng(0)
    boardings = rng.uniform(1e4, 1e5, (200, 5))
    law = rng.normal(size=(5, 5)) * 1e-3
    crowding = boardings @ law + 40.0
    ridge = fit_ridge(boardings[:150], crowding[:150], penalty=1e-6)
    np.testing.assert_allclose(ridge.predict(boardings[150:]), crowding[150:], rtol=1e-6)
