"""Specification of core.railway.simulator: gravity demand, shortest-path assignment, crowding, the negative control."""

from __future__ import annotations

import io

import numpy as np
import pytest

from core.railway.network import RailwayNetwork, load_network
from core.railway.simulator import (
    CongestionSimulator,
    Demand,
    close_links,
    gravity_trips,
    incident_links,
    link_loads,
)

# A hand-made line A – B – C.
STATIONS = """id,name_en,x,y,daily_boardings
A,Alpha,0,0,1000
B,Beta,1,0,2000
C,Gamma,2,0,3000
"""
LINE = """source,target,km,lines
A,B,1.0,Red
B,C,2.0,Red
"""
SIMULATOR = CongestionSimulator(speed_kmh=60.0, dwell_minutes=1.0, capacity=100.0, demand_noise=0.0)


def network(links: str = LINE) -> RailwayNetwork:
    return load_network(io.StringIO(STATIONS), io.StringIO(links))


def column(net: RailwayNetwork, source: str, target: str) -> int:
    """The column of the directional link source → target in net.edge_index()."""
    ends = net.edge_index()
    return int(np.flatnonzero((ends[0] == net.index[source]) & (ends[1] == net.index[target]))[0])


# --- demand -------------------------------------------------------------------------------------------------------


def test_a_seed_fixes_the_world_and_its_days(tokyo: RailwayNetwork) -> None:
    simulator = CongestionSimulator()

    def crowding(seed: int) -> np.ndarray:
        rng = np.random.default_rng(seed)
        handling = simulator.handling_factors(tokyo, rng)
        return simulator.simulate(tokyo, simulator.daily_demand(tokyo, 5, rng), handling).crowding

    np.testing.assert_array_equal(crowding(7), crowding(7))
    assert not np.allclose(crowding(7), crowding(8))


def test_without_noise_boardings_are_the_published_level_times_the_day_type(tokyo: RailwayNetwork) -> None:
    demand = SIMULATOR.daily_demand(tokyo, 9, np.random.default_rng(0))
    day_type = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 0.8, 0.7, 1.0, 1.0])  # day 0 is a Monday, day 7 the next one
    np.testing.assert_allclose(demand.boardings, day_type[:, None] * tokyo.boardings())
    np.testing.assert_allclose(demand.attractions, demand.boardings)


def test_day_to_day_noise_is_mean_one(tokyo: RailwayNetwork) -> None:
    demand = CongestionSimulator(demand_noise=0.2).daily_demand(tokyo, 7 * 400, np.random.default_rng(0))
    mondays = demand.boardings[::7] / tokyo.boardings()
    assert mondays.std() == pytest.approx(0.2, rel=0.05)  # lognormal σ = 0.2: sd ≈ 0.2
    assert mondays.mean() == pytest.approx(1.0, abs=0.01)


# --- distribution --------------------------------------------------------------------------------------------------


def test_gravity_trips_leave_every_station_with_its_boardings_and_go_nowhere_else() -> None:
    rng = np.random.default_rng(0)
    boardings, attractions = rng.uniform(10, 100, (4, 5)), rng.uniform(10, 100, (4, 5))  # (days, stations)
    minutes = rng.uniform(1, 20, (5, 5))
    trips = gravity_trips(boardings, attractions, minutes, beta=0.2)
    assert trips.shape == (4, 5, 5)
    np.testing.assert_allclose(trips.sum(axis=-1), boardings)
    assert np.all(trips[:, np.arange(5), np.arange(5)] == 0)  # nobody rides to the station they boarded at


def test_gravity_shares_follow_attraction_times_deterrence() -> None:
    minutes = np.array([[0.0, 2.0, 5.0], [2.0, 0.0, 3.0], [5.0, 3.0, 0.0]])
    trips = gravity_trips(np.array([90.0, 0.0, 0.0]), np.array([0.0, 1.0, 2.0]), minutes, beta=0.5)
    to_b, to_c = 1.0 * np.exp(-0.5 * 2.0), 2.0 * np.exp(-0.5 * 5.0)  # D_j f(c_ij) from A
    np.testing.assert_allclose(trips[0], [0.0, 90.0 * to_b / (to_b + to_c), 90.0 * to_c / (to_b + to_c)])


# --- assignment ----------------------------------------------------------------------------------------------------


def test_routes_take_the_fastest_path_with_dwell_per_link() -> None:
    # Direct A–C: 60 · 3.5 / 60 + 1 = 4.5 min; via B: (1 + 1) + (2 + 1) = 5 min. A longer hop can win on stops.
    net = network(LINE + "A,C,3.5,Blue\n")
    routes = SIMULATOR.routes(net)
    assert routes.minutes[0, 2] == pytest.approx(4.5)
    assert routes.minutes[0, 1] == pytest.approx(2.0)
    a_to_c = routes.incidence[0 * 3 + 2]
    assert np.flatnonzero(a_to_c).tolist() == [column(net, "A", "C")]


def test_link_loads_on_a_line_match_a_hand_count() -> None:
    net = network()
    trips = np.array([[0.0, 10.0, 20.0], [1.0, 0.0, 2.0], [100.0, 200.0, 0.0]])  # T_ij, from row i to column j
    loads = link_loads(trips, SIMULATOR.routes(net))
    hand = {("A", "B"): 10 + 20, ("B", "C"): 20 + 2, ("B", "A"): 1 + 100, ("C", "B"): 100 + 200}
    for (source, target), load in hand.items():
        assert loads[column(net, source, target)] == pytest.approx(load)
    hops = np.array([[0, 1, 2], [1, 0, 1], [2, 1, 0]])
    assert loads.sum() == pytest.approx((trips * hops).sum())  # every trip is on every link of its path, once


def test_closing_a_link_reroutes_its_trips_the_long_way_round() -> None:
    square = "source,target,km\nA,B,1\nB,C,1\nC,D,1\nD,A,1\n"
    stations = STATIONS + "D,Delta,0,1,4000\n"
    net = load_network(io.StringIO(stations), io.StringIO(square))
    trips = np.zeros((4, 4))
    trips[0, 1] = 50.0  # A → B only
    intact_loads = link_loads(trips, SIMULATOR.routes(net))
    closed = close_links(net, [("B", "A")])  # either order names the link
    closed_loads = link_loads(trips, SIMULATOR.routes(closed))
    assert intact_loads[column(net, "A", "B")] == 50.0 and intact_loads.sum() == 50.0
    for source, target in (("A", "D"), ("D", "C"), ("C", "B")):
        assert closed_loads[column(closed, source, target)] == 50.0
    assert closed_loads.sum() == 150.0


def test_closing_an_unknown_link_or_a_bridge_is_refused() -> None:
    with pytest.raises(ValueError, match="no link"):
        close_links(network(), [("A", "C")])
    with pytest.raises(ValueError, match="disconnects"):
        close_links(network(), [("A", "B")])


def test_closing_a_link_keeps_the_stations(tokyo: RailwayNetwork) -> None:
    closed = close_links(tokyo, [("JY17", "JY18")])
    assert closed.stations == tokyo.stations and len(closed.links) == len(tokyo.links) - 1
    assert not closed.to_networkx().has_edge("JY17", "JY18")


# --- crowding ------------------------------------------------------------------------------------------------------


def test_crowding_is_the_busiest_incident_link_over_capacity_times_handling() -> None:
    net = network()
    demand = Demand(boardings=np.array([[100.0, 50.0, 10.0]]), attractions=np.ones((1, 3)))
    handling = np.array([1.0, 0.5, 2.0])
    congestion = SIMULATOR.simulate(net, demand, handling)
    loads = congestion.link_loads[0]
    touches = {
        "A": [("A", "B"), ("B", "A")],
        "B": [("A", "B"), ("B", "A"), ("B", "C"), ("C", "B")],
        "C": [("B", "C"), ("C", "B")],
    }
    for i, station in enumerate("ABC"):
        busiest = max(loads[column(net, *link)] for link in touches[station])
        assert congestion.crowding[0, i] == pytest.approx(100.0 * busiest / 100.0 * handling[i])  # capacity 100
    assert incident_links(net).sum(axis=1).tolist() == [2, 4, 2]


def test_bundled_network_crowding_is_calibrated_to_published_levels(tokyo: RailwayNetwork) -> None:
    rng = np.random.default_rng(0)
    simulator = CongestionSimulator()
    handling = simulator.handling_factors(tokyo, rng)
    congestion = simulator.simulate(tokyo, simulator.daily_demand(tokyo, 70, rng), handling)
    weekday = congestion.crowding[np.arange(70) % 7 < 5].mean(axis=0)
    assert np.all(congestion.crowding >= 0)
    assert 130 <= weekday.max() <= 200 and weekday.min() < 50


def test_crowding_depends_on_the_neighbours_boardings_and_the_control_does_not(tokyo: RailwayNetwork) -> None:
    simulator = CongestionSimulator()
    demand = simulator.daily_demand(tokyo, 1, np.random.default_rng(0))
    handling = simulator.handling_factors(tokyo, np.random.default_rng(1))
    sendagaya = tokyo.index["JB12"]
    others = np.arange(len(tokyo.stations)) != sendagaya
    busier = Demand(demand.boardings * np.where(others, 1.5, 1.0), demand.attractions)  # everyone else boards more
    before, after = simulator.simulate(tokyo, demand, handling), simulator.simulate(tokyo, busier, handling)
    assert after.crowding[0, sendagaya] > 1.2 * before.crowding[0, sendagaya]
    assert after.platform_crowding[0, sendagaya] == before.platform_crowding[0, sendagaya]
    own = 100 * demand.boardings / simulator.platform_capacity * handling
    np.testing.assert_allclose(before.platform_crowding, own)


def test_days_are_simulated_independently_in_one_batch(tokyo: RailwayNetwork) -> None:
    rng = np.random.default_rng(0)
    simulator = CongestionSimulator()
    demand, handling = simulator.daily_demand(tokyo, 400, rng), simulator.handling_factors(tokyo, rng)
    congestion = simulator.simulate(tokyo, demand, handling)
    one_day = simulator.simulate(tokyo, Demand(demand.boardings[123:124], demand.attractions[123:124]), handling)
    assert congestion.crowding.shape == (400, len(tokyo.stations))
    assert congestion.link_loads.shape == (400, 2 * len(tokyo.links))
    np.testing.assert_allclose(congestion.crowding[123], one_day.crowding[0])
