"""Specification of core.railway.exploration: the world before training, what-ifs, hops, the spreading signal and an
untrained GCN's embedding."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import torch

from core.gnn.gcn import normalized_adjacency
from core.railway.congestion_models import build_model
from core.railway.exploration import (
    busiest_closable_link,
    closable_together,
    hop_distances,
    networkx_edge_index,
    non_bridge_links,
    scenario_boardings,
    scenario_truth,
    sensitivity_to_rise,
    simulate_world,
    spread,
    untrained_embedding,
)
from core.railway.network import load_network
from core.railway.training import run_experiment, what_if


def test_the_world_is_the_one_run_experiment_draws(tokyo):
    world = simulate_world(tokyo, seed=3, days=28)
    run = run_experiment(tokyo, seed=3, days=28, epochs=1)
    np.testing.assert_array_equal(world.demand.boardings, run.demand.boardings)
    np.testing.assert_array_equal(world.handling, run.handling)
    np.testing.assert_array_equal(world.intact.crowding, run.intact.crowding)
    np.testing.assert_array_equal(world.days_split.test_days, run.splits["held-out days"].test_days)
    day = int(world.days_split.test_days[0])
    boardings = scenario_boardings(world.demand.boardings[day], [tokyo.index["JY20"]], 3.0)
    closed = [("JY17", "JY18")]
    expected = what_if(run, day, boardings, closed).truth
    np.testing.assert_allclose(scenario_truth(world, day, boardings, closed), expected)


def test_an_unchanged_day_reproduces_the_simulated_crowding(tokyo):
    world = simulate_world(tokyo, seed=0, days=14)
    np.testing.assert_allclose(scenario_truth(world, 5, world.demand.boardings[5]), world.intact.crowding[5])


def test_scenario_boardings_scale_only_the_chosen_stations():
    base = np.array([10.0, 20.0, 30.0])
    assert scenario_boardings(base, [0, 2], 2.0).tolist() == [20.0, 20.0, 60.0]
    assert base.tolist() == [10.0, 20.0, 30.0]


def test_closing_links_that_disconnect_raises(tokyo):
    world = simulate_world(tokyo, seed=0, days=7)
    with pytest.raises(ValueError, match="disconnects"):
        scenario_truth(world, 0, world.demand.boardings[0], [("JY25", "JY26"), ("JY26", "JY27")])


def test_hop_distances_match_networkx(tokyo):
    lengths = nx.single_source_shortest_path_length(tokyo.to_networkx(), "JY20")
    assert hop_distances(tokyo, tokyo.index["JY20"]).tolist() == [lengths[s.id] for s in tokyo.stations]


@pytest.mark.parametrize("layers", [1, 2, 4])
def test_the_signal_after_l_layers_is_a_hat_to_the_l_and_reaches_l_hops(tokyo, layers):
    shibuya = tokyo.index["JY20"]
    states = spread(tokyo, shibuya, layers)
    assert states.shape == (layers + 1, len(tokyo.stations))
    edge_index = torch.from_numpy(tokyo.edge_index())
    ones = torch.ones(edge_index.shape[1], dtype=torch.float64)
    a_hat = normalized_adjacency(edge_index, len(tokyo.stations), ones).numpy()
    np.testing.assert_allclose(states[-1], np.linalg.matrix_power(a_hat, layers)[:, shibuya], atol=1e-12)
    hops = hop_distances(tokyo, shibuya)
    for layer, state in enumerate(states):
        assert np.all(state[hops > layer] == 0) and np.all(state[hops <= layer] > 0)


def test_the_spread_is_symmetric_in_source_and_target(tokyo):
    a, b = tokyo.index["JY01"], tokyo.index["JB14"]
    assert spread(tokyo, a, 3)[3, b] == pytest.approx(spread(tokyo, b, 3)[3, a])


def test_an_untrained_embedding_is_seeded_and_leaves_the_global_random_stream_alone(tokyo):
    torch.manual_seed(123)
    expected = torch.rand(1)
    torch.manual_seed(123)
    first = untrained_embedding(tokyo.edge_index(), len(tokyo.stations), seed=1)
    assert torch.rand(1) == expected
    again = untrained_embedding(tokyo.edge_index(), len(tokyo.stations), seed=1)
    other = untrained_embedding(tokyo.edge_index(), len(tokyo.stations), seed=2)
    assert first.shape == (37, 2) and np.all(np.abs(first) < 1)  # tanh
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)


def test_karate_club_edges_come_out_in_both_directions():
    graph = nx.karate_club_graph()
    nodes, edge_index = networkx_edge_index(graph)
    assert nodes == list(range(34)) and edge_index.shape == (2, 2 * graph.number_of_edges())
    assert {(int(u), int(v)) for u, v in edge_index.T} == {(u, v) for u, v in graph.edges} | {
        (v, u) for u, v in graph.edges
    }


def test_the_busiest_closable_link_keeps_the_network_connected(tokyo):
    link = busiest_closable_link(tokyo)
    assert link in non_bridge_links(tokyo)
    graph = tokyo.to_networkx()
    graph.remove_edge(*link)
    assert nx.is_connected(graph)
    line = load_network(
        b"id,name_en,x,y,daily_boardings\nA,A,0,0,1\nB,B,1,0,1\nC,C,2,0,1\n", b"source,target,km\nA,B,1\nB,C,1\n"
    )
    assert non_bridge_links(line) == [] and busiest_closable_link(line) is None


def test_sensitivity_to_a_rise_is_zero_outside_three_hops(tokyo):
    model = build_model("gcn_skip", seed=0)
    shibuya = tokyo.index["JY20"]
    change = sensitivity_to_rise(model, tokyo, tokyo.boardings(), shibuya, rise=0.1)
    hops = hop_distances(tokyo, shibuya)
    assert np.all(change[hops > 3] == 0) and np.all(change[hops <= 3] != 0)


def test_links_close_together_in_the_order_asked_until_one_would_cut_stations_off(tokyo):
    around_takanawa = [("JY26", "JY27"), ("JY25", "JY26")]  # Takanawa Gateway–Tamachi, Shinagawa–Takanawa Gateway
    ids = {station.id: station.name_en for station in tokyo.stations}
    closures = closable_together(tokyo, [*around_takanawa, ("JY17", "JY18")])
    assert closures.closed == [around_takanawa[0], ("JY17", "JY18")]  # the second would cut Takanawa Gateway off
    ((link, cut_off),) = closures.left_open
    assert link == around_takanawa[1] and [ids[s] for s in cut_off] == ["Takanawa Gateway"]
    scenario_truth(simulate_world(tokyo, seed=0, days=7), 0, tokyo.boardings(), closures.closed)  # connected


def test_asking_to_close_every_link_closes_as_many_as_keep_the_network_connected(tokyo):
    closures = closable_together(tokyo, [(link.source, link.target) for link in tokyo.links])
    cycles = len(tokyo.links) - len(tokyo.stations) + 1  # links beyond a spanning tree
    assert len(closures.closed) == cycles and len(closures.left_open) == len(tokyo.links) - cycles
    graph = tokyo.to_networkx()
    graph.remove_edges_from(closures.closed)
    assert nx.is_connected(graph) and nx.is_tree(graph)
