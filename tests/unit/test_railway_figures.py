"""Specifications of the railway figure builders (figures/railway_map.py, figures/railway_results.py): what is drawn,
where the names go, and that user text never becomes markup."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.railway import RailwayNetwork, load_bundled_network, load_network
from figures.railway_map import (
    CROWDING_MAX,
    INTERCHANGE,
    LABEL_POSITIONS,
    LINE_COLOURS,
    MAP_MARGIN,
    MARKER_PX,
    NO_LINE,
    _fit,
    _label_box,
    congestion_map,
    embedding_figure,
    label_positions,
    line_colours,
    marker_sizes,
    network_lines,
    receptive_field_map,
    spread_figure,
    station_lines,
    station_value_map,
)
from figures.railway_results import (
    change_figure,
    loss_figure,
    md_plain,
    results_figure,
    results_reading,
)

HOSTILE = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def tokyo() -> RailwayNetwork:
    return load_bundled_network()


@pytest.fixture(scope="module")
def hostile() -> RailwayNetwork:
    """Five stations with markup in their names and lines; one link names no line."""
    stations = (
        "id,name_en,name_ja,x,y,daily_boardings\n"
        f"A,{HOSTILE},<b>駅</b>,0,0,100000\n"
        "B,<script>alert(2)</script>,,1,0,50000\n"
        "C,Gamma & Co,,2,1,0\n"
        "D,Delta,,1,2,60000\n"
        "E,Epsilon,,0,1,30000\n"
    )
    links = "source,target,km,lines\nA,B,1,<i>Red</i>\nB,C,1,Red;Blue\nC,D,1,Blue\nD,E,1,\nE,A,1,Red\n"
    return load_network(stations.encode(), links.encode())


def traces(figure, mode: str | None = None) -> list:
    return [trace for trace in figure.data if mode is None or trace.mode == mode]


def stations_of(figure):
    return next(trace for trace in figure.data if trace.name == "stations")


# --- lines and colours --------------------------------------------------------------------------------------------


def test_bundled_lines_take_jr_colours_and_others_a_distinct_palette(tokyo):
    lines = network_lines(tokyo)
    assert lines == ["Yamanote", "Chuo Rapid", "Chuo-Sobu Local"]
    assert line_colours(lines) == LINE_COLOURS
    colours = line_colours(["Red", "Blue", "Green", NO_LINE])
    assert len(set(colours.values())) == 4 and colours[NO_LINE] == "#868e96"


def test_each_station_lists_its_lines_and_interchanges_can_be_grouped(tokyo, hostile):
    lines = dict(zip((s.id for s in tokyo.stations), station_lines(tokyo)))
    assert lines["JY01"] == "Yamanote + Chuo Rapid"  # Tokyo
    assert lines["JY20"] == "Yamanote"  # Shibuya
    assert lines["JB14"] == "Chuo Rapid + Chuo-Sobu Local"  # Yotsuya
    grouped = dict(zip((s.id for s in tokyo.stations), station_lines(tokyo, interchange=INTERCHANGE)))
    assert grouped["JY01"] == INTERCHANGE and grouped["JY20"] == "Yamanote"
    assert network_lines(hostile) == ["<i>Red</i>", "Red", "Blue", NO_LINE]


def test_marker_area_grows_with_boardings_between_the_limits():
    sizes = marker_sizes(np.array([0.0, 25.0, 100.0]))
    assert sizes[0] == MARKER_PX[0] and sizes[-1] == MARKER_PX[1]
    area = (sizes - MARKER_PX[0]) ** 2
    assert area[1] / area[2] == pytest.approx(0.25)  # area ∝ boardings above the smallest marker
    assert marker_sizes(np.zeros(3)).tolist() == [MARKER_PX[0]] * 3


# --- label placement ------------------------------------------------------------------------------------------------


def test_labels_of_two_close_stations_go_apart():
    xy = np.array([[0.0, 0.0], [1.0, 0.0]])  # 1 km apart at 0.02 km/px: 50 px
    positions = label_positions(xy, ["Westerly", "Easterly"], np.array([20.0, 10.0]), 0.02)
    assert positions == ["middle left", "middle right"]


@pytest.mark.parametrize("which", ["tokyo", "hostile"])
def test_no_two_labels_overlap_and_all_fit_inside_the_map(tokyo, hostile, which):
    network = {"tokyo": tokyo, "hostile": hostile}[which]  # a tall loop; a small square network with long names
    names = [station.name_en for station in network.stations]
    sizes = marker_sizes(network.boardings())
    positions, x_range, y_range, km_per_px = _fit(network, names, sizes, 760, MAP_MARGIN, width_px=600)
    plot_w, plot_h = 600 - MAP_MARGIN["l"] - MAP_MARGIN["r"], 760 - MAP_MARGIN["t"] - MAP_MARGIN["b"]
    assert (x_range[1] - x_range[0]) / km_per_px <= plot_w * 1.01
    assert (y_range[1] - y_range[0]) / km_per_px <= plot_h * 1.01
    directions = dict(LABEL_POSITIONS)
    boxes = np.array([_label_box(x, y, directions[p], len(n), s / 2 * km_per_px, km_per_px)
                      for (x, y), p, n, s in zip(network.coordinates(), positions, names, sizes)])
    assert boxes[:, 0].min() >= x_range[0] and boxes[:, 2].max() <= x_range[1]
    assert boxes[:, 1].min() >= y_range[0] and boxes[:, 3].max() <= y_range[1]
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            overlap_x = min(boxes[i, 2], boxes[j, 2]) - max(boxes[i, 0], boxes[j, 0])
            overlap_y = min(boxes[i, 3], boxes[j, 3]) - max(boxes[i, 1], boxes[j, 1])
            assert overlap_x <= 0 or overlap_y <= 0, (names[i], names[j])


# --- the congestion map -----------------------------------------------------------------------------------------------


def test_the_map_draws_each_line_and_every_station_on_its_coordinates(tokyo):
    crowding = np.linspace(0, 250, len(tokyo.stations))
    figure = congestion_map(tokyo, crowding)
    assert [trace.name for trace in traces(figure, "lines")] == ["Yamanote", "Chuo Rapid", "Chuo-Sobu Local"]
    yamanote = traces(figure, "lines")[0]
    assert sum(x is None for x in yamanote.x) == 30  # one segment per Yamanote link
    stations = stations_of(figure)
    np.testing.assert_allclose(np.c_[stations.x, stations.y], tokyo.coordinates())
    assert stations.marker.colorbar.title.text == "crowding (%)"
    assert max(stations.marker.color) == CROWDING_MAX and min(stations.marker.color) == 0  # clipped to the scale
    assert list(stations.text) == [station.name_en for station in tokyo.stations]
    shibuya = tokyo.index["JY20"]
    assert "渋谷" in stations.hovertext[shibuya] and f"{crowding[shibuya]:.0f} %" in stations.hovertext[shibuya]
    assert figure.layout.yaxis.scaleanchor == "x" and figure.layout.yaxis.scaleratio == 1


def test_a_link_served_by_two_lines_is_drawn_twice_side_by_side(tokyo):
    figure = congestion_map(tokyo, np.zeros(len(tokyo.stations)))
    tokyo_kanda = tokyo.coordinates()[[tokyo.index["JY01"], tokyo.index["JY02"]]]
    starts = []
    for trace in traces(figure, "lines")[:2]:  # Yamanote, Chūō Rapid
        xy = np.array([(x, y) for x, y in zip(trace.x, trace.y) if x is not None]).reshape(-1, 2, 2)
        distance = np.linalg.norm(xy[:, 0] - tokyo_kanda[0], axis=1)
        starts.append(xy[np.argmin(distance), 0])
    assert 0 < np.linalg.norm(starts[0] - starts[1]) < 0.2


def test_prediction_maps_show_the_truth_on_hover_and_mark_what_changed(tokyo):
    predicted, truth = np.full(len(tokyo.stations), 80.0), np.full(len(tokyo.stations), 95.0)
    shibuya = tokyo.index["JY20"]
    figure = congestion_map(tokyo, predicted, truth=truth, closed_links=[("JY17", "JY18")], raised={shibuya: "×3"})
    stations = stations_of(figure)
    assert "simulator (truth): 95 %" in stations.hovertext[0] and "<b>80 %</b>" in stations.hovertext[0]
    assert stations.text[shibuya] == "Shibuya ×3" and stations.marker.line.width[shibuya] > 1.2
    closed = [trace for trace in figure.data if trace.name == "closed link"]
    assert len(closed) == 1 and closed[0].line.dash == "dot"
    assert sum(x is None for x in traces(figure, "lines")[0].x) == 29  # the Yamanote link is no longer drawn


def test_user_text_is_escaped_everywhere_on_the_map(hostile):
    figure = congestion_map(hostile, np.zeros(5), raised={0: "×2"})
    drawn = json.dumps(figure.to_plotly_json(), ensure_ascii=False, default=str)
    for markup in (HOSTILE, "<script>", "<i>Red", "<b>駅"):
        assert markup not in drawn
    stations = stations_of(figure)
    assert stations.text[0] == "&lt;img src=x onerror=alert(1)&gt; ×2"
    assert "&lt;b&gt;駅&lt;/b&gt;" in stations.hovertext[0] and "Gamma &amp; Co" in stations.text[2]
    assert {trace.name for trace in traces(figure, "lines")} == {"&lt;i&gt;Red&lt;/i&gt;", "Red", "Blue", NO_LINE}


def test_values_must_match_the_stations(tokyo):
    with pytest.raises(ValueError, match="37 stations"):
        station_value_map(tokyo, np.zeros(5))


# --- receptive field, spreading, embeddings ---------------------------------------------------------------------------


def test_the_receptive_field_map_groups_stations_by_hops(tokyo):
    hops = np.array([min(i, 4) for i in range(len(tokyo.stations))])
    figure = receptive_field_map(tokyo, hops, station=0, depth=2)
    groups = [trace for trace in figure.data if trace.mode == "markers+text"]
    assert [trace.name for trace in groups] == ["Tokyo itself", "1 stop away", "2 stops away", "out of reach"]
    assert [len(trace.x) for trace in groups] == [1, 1, 1, len(tokyo.stations) - 3]
    assert groups[-1].marker.color == "#dee2e6"


def test_the_spread_has_one_panel_per_layer_and_unreached_stations_hollow(tokyo):
    states = np.zeros((3, len(tokyo.stations)))
    states[0, 0], states[1, :3], states[2, :6] = 1.0, 0.3, 0.1
    figure = spread_figure(tokyo, states, station=0)
    markers = [trace for trace in figure.data if trace.mode == "markers"]
    assert len(markers) == 6  # per panel: unreached, reached
    assert [len(trace.x) for trace in markers] == [36, 1, 34, 3, 31, 6]
    assert markers[0].marker.color == "#ffffff"
    assert figure.layout.annotations[0].text == "start" and figure.layout.annotations[2].text == "after 2 layers"


def test_an_embedding_figure_has_one_trace_per_group_with_escaped_labels():
    points = np.arange(8.0).reshape(4, 2)
    figure = embedding_figure(points, ["a", "b", "a", INTERCHANGE], labels={1: HOSTILE},
                              edges=np.array([[0, 1], [1, 0]]))
    assert [trace.name for trace in figure.data] == [None, "a", "b", INTERCHANGE]
    assert figure.data[2].text == ("&lt;img src=x onerror=alert(1)&gt;",)
    assert figure.data[3].marker.color == "#343a40"
    assert list(figure.data[0].x) == [0.0, 2.0, None]  # one edge, drawn once


# --- results ----------------------------------------------------------------------------------------------------------

EVALUATIONS = ("held-out days", "held-out stations", "topology change", "control")
SCORES = {
    ("gcn", "held-out days"): (0.70, 16.0), ("gcn", "held-out stations"): (0.58, 17.0),
    ("gcn", "topology change"): (0.56, 18.0), ("gcn", "control"): (-0.98, 21.0),
    ("gcn_skip", "held-out days"): (0.80, 12.0), ("gcn_skip", "held-out stations"): (0.60, 18.0),
    ("gcn_skip", "topology change"): (0.55, 17.0), ("gcn_skip", "control"): (0.97, 3.0),
    ("mlp", "held-out days"): (0.27, 24.0), ("mlp", "held-out stations"): (0.10, 27.0),
    ("mlp", "topology change"): (0.23, 22.0), ("mlp", "control"): (0.98, 2.0),
    ("ridge", "held-out days"): (0.97, 5.0), ("ridge", "topology change"): (0.54, 14.0),
}


def test_the_results_grid_shows_r2_and_mae_and_na_where_a_model_cannot_answer():
    figure = results_figure(SCORES, EVALUATIONS, closed_link="Shinjuku–<b>Yoyogi</b>")
    heatmap = figure.data[0]
    assert list(heatmap.y) == ["GCN", "GCN + skip", "MLP", "ridge"]
    assert heatmap.text[3][1] == "n/a" and heatmap.text[1][0] == "<b>R² 0.80</b><br>MAE 12 pp"
    assert heatmap.z[0][3] == 0.0 and np.isnan(heatmap.z[3][1])  # negative R² shown as 0, n/a uncoloured
    assert "Shinjuku–&lt;b&gt;Yoyogi&lt;/b&gt;" in heatmap.x[2]


def test_the_reading_states_the_numbers_and_the_negative_control():
    sentences = results_reading(SCORES, closed_link="Shinjuku–Yoyogi")
    assert len(sentences) == 4
    days, stations, closed, control = sentences
    assert "0.80" in days and "0.27" in days and "ridge does best" in days
    assert "beats the MLP (R² 0.60 vs 0.10)" in stations and "cannot answer" in stations
    assert "Shinjuku–Yoyogi" in closed and "does as well" in closed  # the ridge, blind, still matches
    assert "graph is not magic" in control and "MLP does as well as the GCN + skip" in control
    assert "worse than always guessing the average" in control  # the pure GCN's R² −0.98


def test_the_reading_says_when_the_gcn_loses():
    scores = dict(SCORES)
    scores["gcn_skip", "held-out stations"] = (0.05, 30.0)
    scores["mlp", "held-out stations"] = (0.40, 20.0)
    assert "trails the MLP" in results_reading(scores)[1]


def test_markdown_from_users_is_shown_literally():
    assert md_plain("[x](http://e.com) *a* <b>") == r"\[x\]\(http\://e\.com\) \*a\* \<b\>"
    assert md_plain("two\nlines") == "two lines"


def test_loss_curves_have_a_solid_test_and_a_dotted_train_line_per_model_and_panel():
    history = {(model, evaluation): [(10, 0.5, 0.6), (20, 0.2, 0.3)]
               for model in ("GCN", "GCN + skip", "MLP") for evaluation in ("held-out days", "held-out stations",
                                                                            "control")}
    figure = loss_figure(history, epochs=20)
    assert len(figure.data) == 18
    assert [trace.line.dash for trace in figure.data[:2]] == [None, "dot"]
    assert figure.layout.yaxis.type == "log"
    assert sum(trace.showlegend for trace in figure.data) == 3


def test_the_change_chart_puts_the_biggest_true_change_on_top():
    figure = change_figure(["A", "B", "<C>"], np.array([1.0, -9.0, 4.0]), {"GCN + skip": np.array([0.5, -2.0, 3.0])},
                           top=2)
    truth, model = figure.data
    assert list(truth.y) == ["&lt;C&gt;", "B"]  # plotly draws the last category on top
    assert list(truth.x) == [4.0, -9.0] and list(model.x) == [3.0, -2.0]
