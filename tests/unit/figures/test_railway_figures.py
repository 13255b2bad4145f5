"""Specifications of the railway figure builders (figures/railway_map.py, figures/railway_results.py): what is drawn,
where the names go, and that user text never becomes markup."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from core.railway.exploration import simulate_world
from core.railway.network import RailwayNetwork, load_bundled_network, load_network
from figures.railway_map import (
    CHAR_WIDTH_EM,
    COLORBAR_TICK_PX,
    CROWDING_BAR,
    CROWDING_MAX,
    CROWDING_TICKS,
    INTERCHANGE,
    LABEL_FONT_PX,
    LABEL_POSITIONS,
    LINE_COLOURS,
    MAP_MARGIN,
    MAP_WIDTH_PX,
    MARKER_PX,
    NO_LINE,
    PRESENTING_MAP_WIDTH_PX,
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
from figures.theme import scaled_margin

HOSTILE = "<img src=x onerror=alert(1)>"
PRESENTING = 1.25  # ui.presentation's text scale


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


def test_labels_that_cannot_be_placed_clear_are_left_out_the_smallest_stations_first():
    xy = np.zeros((12, 2))  # twelve stations on one spot: eight places around it at most
    sizes = np.arange(12.0, 0.0, -1.0) + 10  # the first is the biggest
    positions = label_positions(xy, [f"Station {i}" for i in range(12)], sizes, 0.02)
    named = [i for i, position in enumerate(positions) if position is not None]
    assert 1 <= len(named) <= 8 and named[0] == 0
    assert len({positions[i] for i in named}) == len(named)


def overlapping_labels(network, positions, names, sizes, km_per_px, font_px) -> list[tuple[str, str]]:
    """Pairs of names whose boxes overlap (None positions: left out)."""
    directions = dict(LABEL_POSITIONS)
    boxes = {
        n: _label_box(x, y, directions[p], len(n), s / 2 * km_per_px, km_per_px, font_px)
        for (x, y), p, n, s in zip(network.coordinates(), positions, names, sizes, strict=True)
        if p
    }
    return [
        (a, b)
        for (a, box_a), (b, box_b) in itertools.combinations(boxes.items(), 2)
        if min(box_a[2], box_b[2]) > max(box_a[0], box_b[0]) and min(box_a[3], box_b[3]) > max(box_a[1], box_b[1])
    ]


@pytest.mark.parametrize("text_scale", [1.0, PRESENTING])
@pytest.mark.parametrize(
    ("which", "width_px"),
    [
        ("tokyo", MAP_WIDTH_PX),
        ("tokyo", PRESENTING_MAP_WIDTH_PX),
        ("tokyo", 420),  # a tall loop, narrower maps
        ("hostile", 800),  # a small square network with names of up to 28 characters: two side by side need 650 px
    ],
)
def test_no_two_labels_overlap_and_all_fit_inside_the_map(tokyo, hostile, which, width_px, text_scale):
    network = {"tokyo": tokyo, "hostile": hostile}[which]
    names = [station.name_en for station in network.stations]
    sizes = marker_sizes(network.boardings())
    font_px = LABEL_FONT_PX * text_scale
    margin = scaled_margin(MAP_MARGIN, text_scale)
    positions, x_range, y_range, km_per_px = _fit(network, names, sizes, 760, margin, width_px, font_px)
    plot_w, plot_h = width_px - margin["l"] - margin["r"], 760 - margin["t"] - margin["b"]
    assert (x_range[1] - x_range[0]) / km_per_px <= plot_w * 1.01
    assert (y_range[1] - y_range[0]) / km_per_px <= plot_h * 1.01
    assert overlapping_labels(network, positions, names, sizes, km_per_px, font_px) == []
    directions = dict(LABEL_POSITIONS)
    boxes = np.array(
        [
            _label_box(x, y, directions[p], len(n), s / 2 * km_per_px, km_per_px, font_px)
            for (x, y), p, n, s in zip(network.coordinates(), positions, names, sizes, strict=True)
            if p
        ]
    )
    assert boxes[:, 0].min() >= x_range[0] and boxes[:, 2].max() <= x_range[1]
    assert boxes[:, 1].min() >= y_range[0] and boxes[:, 3].max() <= y_range[1]


@pytest.mark.parametrize(("width_px", "text_scale"), [(MAP_WIDTH_PX, 1.0), (PRESENTING_MAP_WIDTH_PX, PRESENTING)])
def test_every_bundled_station_is_named_on_the_narrowest_map_the_page_expects(tokyo, width_px, text_scale):
    names = [station.name_en for station in tokyo.stations]
    world = simulate_world(tokyo, seed=0, days=200)  # the page's default world: markers sized by each day's boardings
    for day in world.days_split.test_days[:12]:
        map_ = congestion_map(
            tokyo, np.zeros(len(names)), boardings=world.demand.boardings[day], width_px=width_px, text_scale=text_scale
        )
        assert list(stations_of(map_).text) == names, day
    field = receptive_field_map(tokyo, np.zeros(len(names), dtype=int), 0, 0, width_px=width_px, text_scale=text_scale)
    assert sum(name != "" for trace in field.data if trace.mode == "markers+text" for name in trace.text) == len(names)


@pytest.mark.parametrize("text_scale", [1.0, PRESENTING])
def test_the_crowding_guide_labels_sit_side_by_side_on_the_narrowest_map(text_scale):
    font_px = COLORBAR_TICK_PX * text_scale
    spans = []  # (left, right) px of each tick label's widest line, centred on its tick
    for value, text in CROWDING_TICKS.items():
        centre = (CROWDING_BAR["x"] + CROWDING_BAR["len"] * value / CROWDING_MAX) * MAP_WIDTH_PX
        half = CHAR_WIDTH_EM * font_px * max(len(line) for line in text.split("<br>")) / 2
        spans.append((centre - half, centre + half))
    assert spans[0][0] >= 0 and spans[-1][1] <= MAP_WIDTH_PX
    for (_, right), (left, _) in itertools.pairwise(spans):
        assert right + 4 <= left


def test_every_text_of_the_map_grows_with_the_text_scale(tokyo):
    usual = congestion_map(tokyo, np.zeros(len(tokyo.stations)))
    presented = congestion_map(tokyo, np.zeros(len(tokyo.stations)), text_scale=PRESENTING)
    for figure, scale in ((usual, 1.0), (presented, PRESENTING)):
        stations = stations_of(figure)
        assert stations.textfont.size == LABEL_FONT_PX * scale
        assert stations.marker.colorbar.tickfont.size == COLORBAR_TICK_PX * scale
        assert figure.layout.legend.font.size == 14 * scale and figure.layout.font.size == 14 * scale
    assert presented.layout.margin.t == usual.layout.margin.t * PRESENTING  # room for the larger colour bar


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
    figure = embedding_figure(
        points, ["a", "b", "a", INTERCHANGE], labels={1: HOSTILE}, edges=np.array([[0, 1], [1, 0]])
    )
    assert [trace.name for trace in figure.data] == [None, "a", "b", INTERCHANGE]
    assert figure.data[2].text == ("&lt;img src=x onerror=alert(1)&gt;",)
    assert figure.data[3].marker.color == "#343a40"
    assert list(figure.data[0].x) == [0.0, 2.0, None]  # one edge, drawn once


def test_the_names_of_two_close_embedded_nodes_go_to_opposite_sides():
    points = np.array([[0.0, 0.0], [0.02, 0.0], [1.0, 1.0], [0.0, 1.0]])  # the first two 9 px apart
    figure = embedding_figure(points, ["a"] * 4, labels={0: "Shinagawa", 1: "Tokyo"})
    names = figure.data[0]
    assert list(names.text[:2]) == ["Shinagawa", "Tokyo"]
    assert names.textposition[0].endswith("left") and names.textposition[1].endswith("right")
    per_px = 1.0 / (450 - 80)  # x units per pixel of the narrowest plot: "Shinagawa" (9 × 13 px type) fits left of 0
    assert figure.layout.xaxis.range[0] < -0.66 * 13 * 9 * per_px


def test_an_embedding_figure_keeps_its_legend_above_and_the_axis_titles_below_and_left():
    figure = embedding_figure(np.arange(8.0).reshape(4, 2), ["a", "b", "a", "b"], text_scale=PRESENTING)
    assert figure.layout.legend.orientation == "h" and figure.layout.legend.y >= 1.0  # above the plot area
    assert figure.layout.legend.yanchor == "bottom"
    assert figure.layout.xaxis.title.text == "dimension 1"  # below the plot area: the two never meet
    assert figure.layout.legend.font.size == 13 * PRESENTING and figure.data[0].textfont.size == 13 * PRESENTING


# --- results ----------------------------------------------------------------------------------------------------------

EVALUATIONS = ("held-out days", "held-out stations", "topology change", "control")
SCORES = {
    ("gcn", "held-out days"): (0.70, 16.0),
    ("gcn", "held-out stations"): (0.58, 17.0),
    ("gcn", "topology change"): (0.56, 18.0),
    ("gcn", "control"): (-0.98, 21.0),
    ("gcn_skip", "held-out days"): (0.80, 12.0),
    ("gcn_skip", "held-out stations"): (0.60, 18.0),
    ("gcn_skip", "topology change"): (0.55, 17.0),
    ("gcn_skip", "control"): (0.97, 3.0),
    ("mlp", "held-out days"): (0.27, 24.0),
    ("mlp", "held-out stations"): (0.10, 27.0),
    ("mlp", "topology change"): (0.23, 22.0),
    ("mlp", "control"): (0.98, 2.0),
    ("ridge", "held-out days"): (0.97, 5.0),
    ("ridge", "topology change"): (0.54, 14.0),
}


def test_the_results_grid_shows_r2_and_mae_and_na_where_a_model_cannot_answer():
    figure = results_figure(SCORES, EVALUATIONS, closed_link="Shinjuku–<b>Yoyogi</b>")
    heatmap = figure.data[0]
    assert list(heatmap.x) == ["GCN", "GCN + skip", "MLP", "ridge"]  # short names across the top
    assert heatmap.y[0] == "new days" and "Shinjuku–&lt;b&gt;Yoyogi&lt;/b&gt;" in heatmap.y[2]  # long names: the side
    assert heatmap.text[1][3] == "n/a" and heatmap.text[0][1] == "<b>R² 0.80</b><br>MAE 12 pp"
    assert np.isnan(heatmap.z[1][3])  # n/a uncoloured


def test_a_negative_r2_is_shown_as_it_is_with_a_minus_sign_and_coloured_as_0():
    heatmap = results_figure(SCORES, EVALUATIONS).data[0]
    assert heatmap.text[3][0] == "<b>R² −0.98</b><br>MAE 21 pp"  # the pure GCN on the control, U+2212
    assert heatmap.z[3][0] == 0.0 == heatmap.zmin


def test_result_texts_grow_with_the_text_scale():
    usual, presented = (results_figure(SCORES, EVALUATIONS, text_scale=scale) for scale in (1.0, PRESENTING))
    assert presented.data[0].textfont.size == usual.data[0].textfont.size * PRESENTING
    assert presented.layout.yaxis.tickfont.size == usual.layout.yaxis.tickfont.size * PRESENTING
    change = change_figure(["A", "B"], np.array([1.0, 2.0]), {}, text_scale=PRESENTING)
    assert change.layout.yaxis.tickfont.size == 14 * PRESENTING and change.layout.font.size == 14 * PRESENTING


def test_the_reading_states_the_numbers_and_the_negative_control():
    sentences = results_reading(SCORES, closed_link="Shinjuku–Yoyogi")
    assert len(sentences) == 4
    days, stations, closed, control = sentences
    assert "0.80" in days and "0.27" in days and "ridge does best" in days
    assert "fitted station by station" in days and "within 3 stops" in days  # why, in what each model sees
    assert "beats the MLP (R² 0.60 vs 0.10)" in stations and "cannot answer" in stations
    assert "Shinjuku–Yoyogi" in closed and "does as well" in closed  # the ridge, blind, still matches
    assert "graph is not magic" in control and "MLP does as well as the GCN + skip" in control
    assert "−0.98, worse than always guessing the average" in control  # the pure GCN's R², with a minus sign


def test_the_reading_says_when_the_gcn_loses():
    scores = dict(SCORES)
    scores["gcn_skip", "held-out stations"] = (0.05, 30.0)
    scores["mlp", "held-out stations"] = (0.40, 20.0)
    assert "trails the MLP" in results_reading(scores)[1]


def test_markdown_from_users_is_shown_literally():
    assert md_plain("[x](http://e.com) *a* <b>") == r"\[x\]\(http\://e\.com\) \*a\* \<b\>"
    assert md_plain("two\nlines") == "two lines"


def test_loss_curves_have_a_solid_test_and_a_dotted_train_line_per_model_and_panel():
    history = {
        (kind, evaluation): [(10, 0.5, 0.6), (20, 0.2, 0.3)]
        for kind in ("gcn", "gcn_skip", "mlp")
        for evaluation in ("held-out days", "held-out stations", "control")
    }
    figure = loss_figure(history, epochs=20)
    assert len(figure.data) == 18
    assert [trace.line.dash for trace in figure.data[:2]] == [None, "dot"]
    assert figure.layout.yaxis.type == "log"
    assert [trace.name for trace in figure.data if trace.showlegend] == ["GCN", "GCN + skip", "MLP"]
    assert len({trace.line.color for trace in figure.data}) == 3  # one colour per model, in both of its lines


@pytest.mark.parametrize("text_scale", [1.0, PRESENTING])
def test_the_loss_legend_sits_in_the_top_margin_above_the_panel_titles(text_scale):
    figure = loss_figure({("gcn", "held-out days"): [(10, 0.5, 0.6)]}, epochs=20, text_scale=text_scale)
    legend, titles = figure.layout.legend, figure.layout.annotations
    assert legend.yref == "container" and legend.y == 1.0 and legend.yanchor == "top"  # the figure's top edge
    assert [title.text for title in titles] == ["new days", "unseen stations", "control:<br>own boardings"]
    title_px = max(title.font.size * (1 + title.text.count("<br>")) for title in titles) * 1.3
    legend_px = 14 * text_scale * 1.3 + 10  # one row of entries, its padding
    assert figure.layout.margin.t >= legend_px + title_px  # room for both, one above the other


def test_the_change_chart_puts_the_biggest_true_change_on_top():
    figure = change_figure(
        ["A", "B", "<C>"], np.array([1.0, -9.0, 4.0]), {"gcn_skip": np.array([0.5, -2.0, 3.0])}, top=2
    )
    truth, model = figure.data
    assert model.name == "GCN + skip"
    assert list(truth.y) == ["&lt;C&gt;", "B"]  # plotly draws the last category on top
    assert list(truth.x) == [4.0, -9.0] and list(model.x) == [3.0, -2.0]
