"""Fixtures shared by the railway specifications: the bundled network and one seeded world on it."""

from __future__ import annotations

import numpy as np
import pytest

from core.railway.network import RailwayNetwork, load_bundled_network
from core.railway.simulator import CongestionSimulator


@pytest.fixture(scope="module")
def tokyo() -> RailwayNetwork:
    return load_bundled_network()


@pytest.fixture(scope="module")
def days(tokyo: RailwayNetwork) -> tuple[np.ndarray, np.ndarray]:
    """Boardings and crowding (28 days, stations) of one seeded world."""
    simulator, rng = CongestionSimulator(), np.random.default_rng(0)
    handling = simulator.handling_factors(tokyo, rng)
    demand = simulator.daily_demand(tokyo, 28, rng)
    return demand.boardings, simulator.simulate(tokyo, demand, handling).crowding
