"""Specifications of the figure builders: the HTML word graph (vis-network) and the plotly heatmap and overview."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
import pyvis

from core.analysis.graph import Pruning, attention_graph, prune
from figures.attention_figures import (
    HEATMAP_WIDTHS_PX,
    SHADES,
    TILE_GAP,
    fit_heatmap,
    heatmap_figure,
    overview_figure,
    pair_summary_figure,
    tile_from_point_index,
)
from figures.attention_graph import (
    ARC_MAX_RISE_PX,
    BOX_HEIGHT_PX,
    LAYOUT_NAMES,
    LAYOUTS,
    MIN_ARC_SCALE,
    box_width,
    curve_midpoint,
    graph_html,
)
from tests.conftest import ROOT

LABELS = ["[CLS]", "the", "animal", "it"]
ATTENTION = np.array(  # row-stochastic: rows = from, columns = to
    [
        [0.10, 0.60, 0.20, 0.10],
        [0.50, 0.20, 0.20, 0.10],
        [0.05, 0.15, 0.30, 0.50],
        [0.25, 0.25, 0.25, 0.25],
    ]
)
HOSTILE = ["<img src=x onerror=alert(1)>", "<script>alert(2)</script>", "a href b", "</script><b>bold</b>"]


def small_graph(labels=LABELS):
    """All 16 edges of ATTENTION (self-loops included) between ``labels``."""
    return attention_graph(ATTENTION, labels)


def drawn(html: str) -> tuple[list[dict], list[dict], dict]:
    """(nodes, edges, config) as the page hands them to vis-network."""

    def script_value(name: str) -> str:
        return re.search(rf"const {name} = (?:new vis\.DataSet\()?(.*?)\)?;\n", html).group(1)

    return json.loads(script_value("nodes")), json.loads(script_value("edges")), json.loads(script_value("config"))


def positions(html: str) -> dict:
    """Drawn node id → (x, y)."""
    return {node["id"]: (node["x"], node["y"]) for node in drawn(html)[0]}


# --- graph_html: what is drawn ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["arc", "circle", "force"])
def test_every_token_is_one_node_labelled_with_its_text(layout):
    nodes, _, _ = drawn(graph_html(small_graph(), layout))
    assert [node["id"] for node in nodes] == [0, 1, 2, 3]
    assert [node["label"] for node in nodes] == LABELS
    assert [node["title"] for node in nodes] == ["[CLS] (0)", "the (1)", "animal (2)", "it (3)"]


def test_sinks_are_drawn_muted_like_bracketed_special_tokens():
    """[CLS] by its brackets; a decoder's first token ("the" here) by the page's ``sink`` attribute."""
    graph = small_graph()
    graph.nodes[1]["sink"] = True
    nodes, _, _ = drawn(graph_html(graph, "circle"))
    colours = [node["color"]["background"] for node in nodes]
    assert colours[0] == colours[1] != colours[2] == colours[3]


def test_columns_draw_every_token_twice_from_queries_on_the_left_to_keys_on_the_right():
    html = graph_html(small_graph(), "columns")
    nodes, edges, config = drawn(html)
    assert [node["id"] for node in nodes] == [f"{side}:{i}" for side in ("from", "to") for i in range(4)]
    assert [node["label"] for node in nodes] == LABELS * 2
    assert nodes[2]["title"] == "from animal (2)" and nodes[7]["title"] == "to it (3)"
    xy = positions(html)
    assert all(xy[f"from:{i}"][0] < 0 < xy[f"to:{i}"][0] for i in range(4))
    assert all(xy[f"from:{i}"][1] == xy[f"to:{i}"][1] < xy[f"from:{i + 1}"][1] for i in range(3))  # rows top down
    assert all(edge["from"].startswith("from:") and edge["to"].startswith("to:") for edge in edges)
    assert [caption["text"] for caption in config["view"]["captions"]] == ["from", "to"]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_one_drawn_edge_per_graph_edge_self_loops_included(layout):
    graph = attention_graph(ATTENTION, LABELS, prune(ATTENTION, Pruning("top_k", k=2)))
    _, edges, _ = drawn(graph_html(graph, layout))
    ends = {(int(str(edge["from"]).split(":")[-1]), int(str(edge["to"]).split(":")[-1])) for edge in edges}
    assert len(edges) == graph.number_of_edges() == 8
    assert ends == set(graph.edges) and (2, 2) in ends


def test_edge_hover_gives_both_tokens_their_indices_and_the_weight_to_three_decimals():
    _, edges, _ = drawn(graph_html(small_graph(), "arc"))
    titles = {(edge["from"], edge["to"]): edge["title"] for edge in edges}
    assert titles[2, 3] == "animal (2) → it (3): 0.500"
    assert titles[0, 1] == "[CLS] (0) → the (1): 0.600"


def test_heavier_edges_are_wider_and_more_opaque():
    _, edges, _ = drawn(graph_html(small_graph(), "circle"))
    by_weight = sorted(edges, key=lambda edge: ATTENTION[edge["from"], edge["to"]])
    widths = [edge["width"] for edge in by_weight]
    alphas = [float(re.search(r"([\d.]+)\)$", edge["color"]["color"]).group(1)) for edge in by_weight]
    assert widths == sorted(widths) and widths[0] < widths[-1] == pytest.approx(7.5)
    assert alphas == sorted(alphas) and alphas[-1] == pytest.approx(1.0)


def test_special_tokens_are_muted():
    nodes, _, _ = drawn(graph_html(small_graph(), "arc"))
    assert nodes[0]["font"]["color"] != nodes[1]["font"]["color"]
    assert nodes[1]["font"]["color"] == nodes[2]["font"]["color"] == nodes[3]["font"]["color"]


def test_a_blank_token_is_drawn_as_a_visible_space_not_as_its_id():
    nodes, _, _ = drawn(graph_html(small_graph(["[CLS]", "the", " ", "it"]), "arc"))
    assert nodes[2]["label"] == "␣"


# --- graph_html: layouts ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", LAYOUTS)
def test_same_graph_same_page_with_physics_off_and_every_position_fixed(layout):
    html = graph_html(small_graph(), layout)
    nodes, _, config = drawn(html)
    assert html == graph_html(small_graph(), layout)
    assert config["vis"]["physics"]["enabled"] is False
    assert all(isinstance(node["x"], float) and isinstance(node["y"], float) for node in nodes)


def test_arc_sets_the_words_left_to_right_in_sentence_order():
    graph = small_graph()
    for node in graph:  # node ids need not follow the sentence: the position attribute decides
        graph.nodes[node]["position"] = 3 - node
    xy = positions(graph_html(graph, "arc"))
    assert xy[3][0] < xy[2][0] < xy[1][0] < xy[0][0]
    assert {y for _, y in xy.values()} == {0.0}


def test_a_long_sentence_stays_on_one_line_and_neighbours_do_not_overlap():
    labels = [f"word{i}" for i in range(40)]
    attention = np.full((40, 40), 1 / 40)
    html = graph_html(attention_graph(attention, labels), "arc")
    xy = positions(html)
    xs = [xy[i][0] for i in range(40)]
    assert {y for _, y in xy.values()} == {0.0}
    assert all(xs[i + 1] - xs[i] >= box_width(labels[i]) for i in range(39))


def test_arcs_of_a_long_sentence_rise_no_higher_than_the_cap_and_the_view_keeps_the_type_readable():
    labels = [f"word{i}" for i in range(40)]
    html = graph_html(attention_graph(np.full((40, 40), 1 / 40), labels), "arc")
    _, edges, options = drawn(html)
    xy = positions(html)
    rises = [
        abs(curve_midpoint(xy[e["from"]], xy[e["to"]], e["smooth"]["roundness"])[1])
        for e in edges
        if e["from"] != e["to"]
    ]
    assert max(rises) <= ARC_MAX_RISE_PX * 1.05
    assert options["view"]["min_scale"] == MIN_ARC_SCALE  # the page shows the left end at this scale, not smaller


def test_a_words_attention_to_itself_loops_straight_up_in_the_arc_layout():
    _, edges, _ = drawn(graph_html(small_graph(), "arc"))
    loops = [edge for edge in edges if edge["from"] == edge["to"]]
    assert loops and all(edge["selfReference"]["angle"] == pytest.approx(math.pi / 2) for edge in loops)


def test_arc_bends_forward_edges_above_the_line_and_backward_edges_below():
    html = graph_html(small_graph(), "arc")
    _, edges, _ = drawn(html)
    xy = positions(html)
    for edge in edges:
        source, target = edge["from"], edge["to"]
        if source != target:
            _, y = curve_midpoint(xy[source], xy[target], edge["smooth"]["roundness"])
            assert edge["smooth"]["type"] == "curvedCW"
            clear = BOX_HEIGHT_PX / 2 + 10  # the arc's middle clears the boxes on the line (y grows downwards)
            assert (y < -clear) if source < target else (y > clear)


def test_circle_sets_the_words_clockwise_from_the_top_at_equal_distance_from_the_centre():
    xy = positions(graph_html(small_graph(), "circle"))
    radii = [math.hypot(x, y) for x, y in xy.values()]
    assert radii == pytest.approx([radii[0]] * 4, rel=1e-3)
    assert xy[0][0] == pytest.approx(0) and xy[0][1] < 0  # top (y points down)
    assert xy[1][0] > 0 and xy[2][1] > 0 and xy[3][0] < 0  # right, bottom, left: clockwise


def test_force_layout_is_reproducible_and_its_boxes_do_not_overlap():
    labels = [f"token{i}" for i in range(16)]
    attention = np.random.default_rng(1).dirichlet(np.full(16, 0.3), size=16)  # spring layout alone overlaps 4 pairs
    graph = attention_graph(attention, labels, prune(attention, Pruning("mass", mass=0.7)))
    xy = positions(graph_html(graph, "force"))
    assert xy == positions(graph_html(graph, "force"))
    for i in range(16):
        for j in range(i):
            apart_x = abs(xy[i][0] - xy[j][0]) >= (box_width(labels[i]) + box_width(labels[j])) / 2
            apart_y = abs(xy[i][1] - xy[j][1]) >= 30
            assert apart_x or apart_y


def test_unknown_layout_is_refused():
    with pytest.raises(ValueError, match="unknown layout"):
        graph_html(small_graph(), "spiral")


def test_every_layout_has_a_human_name():
    assert set(LAYOUT_NAMES) == set(LAYOUTS)


# --- graph_html: safety and self-containment -------------------------------------------------------------------------


@pytest.mark.parametrize("layout", LAYOUTS)
def test_markup_in_labels_and_title_stays_text(layout):
    html = graph_html(small_graph(HOSTILE), layout, title="<img src=x onerror=alert(3)>")
    for markup in ("<img src=x onerror", "<script>alert", "</script><b>", "<b>bold"):
        assert markup not in html
    assert "&lt;img src=x onerror=alert(3)&gt;" in html  # the title, as HTML text
    nodes, edges, _ = drawn(html)
    assert [node["label"] for node in nodes][:4] == HOSTILE  # labels arrive intact, as JSON strings
    assert any(edge["title"].startswith("<img src=x onerror=alert(1)> (0) → ") for edge in edges)


def test_tooltips_are_shown_as_text_even_when_a_label_mentions_href():
    html = graph_html(small_graph(HOSTILE), "arc")
    assert "this.frame.innerText=t" in html  # vis-network 9.1.2 puts string titles into innerText
    assert ".innerHTML = nodeData" not in html  # pyvis's own popup (triggered by "href" in a title) is left out


@pytest.mark.parametrize("layout", LAYOUTS)
def test_the_page_loads_nothing_from_the_network(layout):
    html = graph_html(small_graph(), layout)
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html, re.IGNORECASE)
    assert not re.search(r"""url\(\s*["']?\s*(https?:)?//""", html, re.IGNORECASE)
    assert not re.search(r"<script[^>]*\ssrc|<link|@import", html)  # vis-network is inlined, nothing else is used
    assert "bootstrap" not in html


@pytest.mark.parametrize("layout", LAYOUTS)
def test_in_the_app_vis_network_comes_from_the_apps_own_server(layout):
    html = graph_html(small_graph(), layout, served=True)
    scripts = re.findall(r"<script[^>]*\ssrc=\"([^\"]+)\"", html)
    sheets = re.findall(r"<link[^>]*\shref=\"([^\"]+)\"", html)
    assert scripts == ["app/static/vis-9.1.2/vis-network.min.js"] and sheets == ["app/static/vis-9.1.2/vis-network.css"]
    assert len(html) < len(graph_html(small_graph(), layout)) / 20  # 690 KB of vis-network left out
    assert html.replace(scripts[0], "").count("vis.Network(") == 1  # the same drawing code as the standalone page


def test_the_served_vis_network_is_pyvis_own_copy():
    """static/vis-9.1.2 (served by Streamlit, .streamlit/config.toml) holds exactly the files the standalone page
    inlines, so both draw the same."""
    import tomllib

    bundled = Path(pyvis.__file__).parent / "templates" / "lib" / "vis-9.1.2"
    for name in ("vis-network.min.js", "vis-network.css"):
        assert (ROOT / "static" / "vis-9.1.2" / name).read_bytes() == (bundled / name).read_bytes()
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["enableStaticServing"] is True


def test_height_is_the_requested_one():
    assert "height: 420px;" in graph_html(small_graph(), "arc", height_px=420)


# --- heatmap_figure --------------------------------------------------------------------------------------------------

SENTENCE = ["the", "cat", "saw", "the"]


def test_heatmap_shows_the_matrix_with_every_label_even_repeated_ones():
    figure = heatmap_figure(ATTENTION, SENTENCE, SENTENCE)
    heatmap = figure.data[0]
    np.testing.assert_allclose(np.asarray(heatmap.z, dtype=float), ATTENTION, atol=1e-7)  # sent as float32
    names = ["the (0)", "cat (1)", "saw (2)", "the (3)"]  # unique categories, even for the repeated "the"
    assert list(heatmap.x) == list(heatmap.y) == names
    assert list(figure.layout.xaxis.tickvals) == list(figure.layout.yaxis.tickvals) == names
    assert list(figure.layout.xaxis.ticktext) == list(figure.layout.yaxis.ticktext) == SENTENCE


def test_heatmap_turns_column_labels_upright_only_when_each_fits_its_cell():
    assert heatmap_figure(ATTENTION, SENTENCE, SENTENCE).layout.xaxis.tickangle == 0
    assert heatmap_figure(ATTENTION, HOSTILE, HOSTILE).layout.xaxis.tickangle == -90
    japanese = ["[CLS]", "私", "は", "[SEP]"]  # "[CLS]" is wider than a cell, "私" narrow enough to leave it room
    assert heatmap_figure(ATTENTION, japanese, japanese).layout.xaxis.tickangle == 0
    crowded = ["[CLS]", "Tokyo", "is", "[SEP]"]  # two wide labels side by side would run into each other
    assert heatmap_figure(ATTENTION, crowded, crowded).layout.xaxis.tickangle == -90


def test_heatmap_rows_are_queries_top_down_columns_keys_cells_square():
    figure = heatmap_figure(ATTENTION, SENTENCE, SENTENCE)
    assert figure.layout.yaxis.autorange == "reversed"
    assert figure.layout.yaxis.scaleanchor == "x"  # square cells, whatever width the page gives the figure
    eight = [f"w{i}" for i in range(8)]
    figure, margin = heatmap_figure(np.eye(8), eight, eight), heatmap_figure(np.eye(8), eight, eight).layout.margin
    assert figure.layout.width - margin.l - margin.r == figure.layout.height - margin.t - margin.b  # 8 × 8 cells
    assert figure.layout.yaxis.title.text.startswith("from") and figure.layout.xaxis.title.text.startswith("to")


@pytest.mark.parametrize("tokens", [5, 16, 23, 64, 129, 512])
def test_heatmap_cells_grow_with_fewer_tokens_and_every_row_keeps_a_readable_label(tokens):
    labels = [f"w{i}" for i in range(tokens)]
    figure = heatmap_figure(np.full((tokens, tokens), 1 / tokens), labels, labels)
    margin = figure.layout.margin
    cell = (figure.layout.height - margin.t - margin.b) / tokens
    assert cell >= 6 and figure.layout.yaxis.tickfont.size >= 9
    assert cell >= figure.layout.yaxis.tickfont.size  # a label's line fits its row: no two labels overlap
    assert cell <= 30


def test_heatmap_text_grows_in_presentation_mode():
    normal = heatmap_figure(ATTENTION, SENTENCE, SENTENCE)
    presenting = heatmap_figure(ATTENTION, SENTENCE, SENTENCE, text_scale=1.25)
    assert presenting.layout.font.size > normal.layout.font.size
    assert presenting.layout.yaxis.tickfont.size > normal.layout.yaxis.tickfont.size


def test_heatmap_hover_names_both_tokens_and_gives_the_weight_without_a_text_per_cell():
    heatmap = heatmap_figure(ATTENTION, SENTENCE, SENTENCE).data[0]
    assert heatmap.hovertemplate == "from %{y} → to %{x}: %{z:.3f}<extra></extra>"
    assert heatmap.text is None  # the hover reads the axis categories: "from the (3) → to cat (1): 0.250"


def test_a_long_heatmap_is_sent_compactly():
    labels = [f"word{i}" for i in range(128)]
    figure = heatmap_figure(np.full((128, 128), 1 / 128), labels, labels)
    assert len(figure.to_json()) < 120_000  # 16 384 weights as float32; per-cell hover text made it ~600 KB


def test_a_short_sentence_leaves_its_colour_bar_room():
    figure = heatmap_figure(np.eye(2), ["a", "b"], ["a", "b"])
    margin = figure.layout.margin
    assert figure.layout.width - margin.l - margin.r >= figure.data[0].colorbar.len


def test_heatmap_colour_scale_starts_at_zero_and_is_titled():
    heatmap = heatmap_figure(ATTENTION, SENTENCE, SENTENCE).data[0]
    assert heatmap.zmin == 0 and heatmap.colorbar.title.text == "attention weight"


def test_heatmap_escapes_markup_in_labels_and_title():
    figure = heatmap_figure(ATTENTION, HOSTILE, HOSTILE, title="<b>x</b>")
    assert figure.layout.xaxis.ticktext[0] == "&lt;img src=x onerror=alert(1)&gt;"
    assert figure.layout.title.text == "&lt;b&gt;x&lt;/b&gt;"
    spec = figure.to_json()
    for label in HOSTILE[:2] + ["<b>bold</b>"]:
        assert label not in spec


def test_heatmap_refuses_labels_that_do_not_match_the_matrix():
    with pytest.raises(ValueError):
        heatmap_figure(ATTENTION, SENTENCE[:3], SENTENCE)


# --- overview_figure -------------------------------------------------------------------------------------------------


def all_heads(layers=2, heads=3, n=4, seed=0):
    """Random row-stochastic attention (layers, heads, n, n)."""
    return np.random.default_rng(seed).dirichlet(np.ones(n), size=(layers, heads, n))


def tile(figure, layer, head, t):
    """The (t, t) block of the overview mosaic drawn for (layer, head), as shades back in [0, 1]."""
    top, left = layer * (t + 1), head * (t + 1)
    return (np.asarray(figure.data[0].z, dtype=float)[top : top + t, left : left + t] - 1) / SHADES


def test_each_tile_is_its_head_shaded_relative_to_its_own_maximum():
    attention = all_heads()
    figure = overview_figure(attention)
    for layer in range(2):
        for head in range(3):
            head_attention = attention[layer, head]
            np.testing.assert_allclose(
                tile(figure, layer, head, 4), head_attention / head_attention.max(), atol=0.5 / SHADES
            )  # one byte a cell


def test_tiles_are_separated_by_empty_cells_and_spaced_one_unit_apart():
    figure = overview_figure(all_heads())
    z = np.asarray(figure.data[0].z, dtype=float)
    assert z.shape == (2 * 5 - 1, 3 * 5 - 1)
    assert (z[4] == 0).all() and (z[:, 4] == 0).all() and (z[:, 9] == 0).all()  # the gaps: shade 0, white
    assert (np.delete(np.delete(z, [4], axis=0), [4, 9], axis=1) >= 1).all()  # every tile cell: a shade of blue
    assert figure.data[0].colorscale[0][1] == "#ffffff"
    x_edges = np.asarray(figure.data[0].x)
    assert x_edges[0] == 0 and x_edges[4] == 1 and x_edges[5] == pytest.approx(1 + TILE_GAP)


def test_long_sentences_are_average_pooled_down_to_max_tile():
    attention = all_heads(layers=1, heads=2, n=8)
    figure = overview_figure(attention, max_tile=4)
    pooled = attention[0, 1].reshape(4, 2, 4, 2).mean(axis=(1, 3))
    np.testing.assert_allclose(tile(figure, 0, 1, 4), pooled / pooled.max(), atol=0.5 / SHADES)


def test_pooling_an_uneven_size_keeps_every_row():
    figure = overview_figure(all_heads(layers=1, heads=1, n=7), max_tile=3)
    assert np.asarray(figure.data[0].z).shape == (3, 3)


def test_a_click_on_a_tile_maps_back_to_its_layer_and_head():
    figure = overview_figure(all_heads(layers=2, heads=3))
    markers = figure.data[1]
    for point in range(6):
        layer, head = tile_from_point_index(point, heads=3)
        assert list(markers.customdata[point]) == [layer + 1, head + 1]
        assert markers.x[point] == pytest.approx(head * (1 + TILE_GAP) + 0.5)
        assert markers.y[point] == pytest.approx(layer * (1 + TILE_GAP) + 0.5)
    assert tile_from_point_index(5, heads=3) == (1, 2)


def test_layers_run_top_down_and_are_labelled():
    figure = overview_figure(all_heads(layers=2, heads=3))
    low, high = figure.layout.yaxis.range[1], figure.layout.yaxis.range[0]
    assert low < high  # reversed: layer 1 on top
    assert list(figure.layout.yaxis.ticktext) == ["1", "2"] and figure.layout.yaxis.title.text == "layer"
    assert list(figure.layout.xaxis.ticktext) == ["1", "2", "3"] and figure.layout.xaxis.title.text == "head"
    assert figure.layout.xaxis.tickangle == 0  # short labels, never turned on their side
    assert figure.data[0].showscale is False


def enclosed_tiles(shape, layers, heads):
    """(layer, head) of the tiles whose centre lies inside a rectangle shape."""
    return {
        (layer, head)
        for layer in range(layers)
        for head in range(heads)
        if shape.x0 < head * (1 + TILE_GAP) + 0.5 < shape.x1 and shape.y0 < layer * (1 + TILE_GAP) + 0.5 < shape.y1
    }


def test_the_selected_head_is_outlined():
    figure = overview_figure(all_heads(layers=2, heads=3), selected=(1, 2))
    (outline,) = figure.layout.shapes
    assert enclosed_tiles(outline, 2, 3) == {(1, 2)}


def test_selecting_a_layer_mean_outlines_the_whole_layer():
    figure = overview_figure(all_heads(layers=2, heads=3), selected=(0, None))
    (outline,) = figure.layout.shapes
    assert enclosed_tiles(outline, 2, 3) == {(0, 0), (0, 1), (0, 2)}


def test_nothing_is_outlined_without_a_selection():
    assert overview_figure(all_heads()).layout.shapes == ()


def test_twelve_heads_fill_a_wide_figure_with_square_tiles():
    figure = overview_figure(all_heads(layers=6, heads=12, n=5))
    margin = figure.layout.margin
    plot_width, plot_height = figure.layout.width - margin.l - margin.r, figure.layout.height - margin.t - margin.b
    assert figure.layout.width == 1000
    assert plot_height / 6 == pytest.approx(plot_width / 12, rel=0.02)  # at its nominal width, tiles are square


def test_the_overview_of_a_long_text_is_sent_compactly():
    figure = overview_figure(all_heads(layers=6, heads=12, n=128))
    assert np.asarray(figure.data[0].z).dtype == np.uint8
    assert len(figure.to_json()) < 60_000  # 72 tiles of 20 × 20 shades; as floats the figure was ~700 KB


def test_the_modebar_stands_in_the_right_margin_clear_of_the_head_labels():
    figure = overview_figure(all_heads())
    assert figure.layout.modebar.orientation == "v" and figure.layout.margin.r >= 30


def test_the_focus_word_is_outlined_in_the_accent_colour():
    graph = small_graph()
    graph.nodes[3]["focus"] = True
    nodes, _, _ = drawn(graph_html(graph, "circle"))
    colours = {node["id"]: node["color"]["border"] for node in nodes}
    assert colours[3] == "#d1495b" and len({colours[0], colours[1], colours[2], colours[3]}) == 3  # [CLS] muted


def heatmap_cell_size(figure) -> tuple[float, float]:
    """(width, height) of one heatmap cell, in pixels."""
    layout, heatmap = figure.layout, figure.data[0]
    return (
        (layout.width - layout.margin.l - layout.margin.r) / len(heatmap.x),
        (layout.height - layout.margin.t - layout.margin.b) / len(heatmap.y),
    )


def test_fit_heatmap_never_enlarges_the_cells_of_a_short_sentence_and_makes_room_for_its_colour_bar():
    figure = heatmap_figure(np.eye(3), ["a", "b", "c"], ["a", "b", "c"])
    cell = heatmap_cell_size(figure)[0]
    fitted = fit_heatmap(figure)
    assert heatmap_cell_size(fitted)[0] == pytest.approx(cell, abs=0.5)  # the plot area is the matrix: 3 cells…
    assert fitted.layout.margin.l + fitted.data[0].colorbar.len <= fitted.layout.width  # …and the bar fits beside


def test_fit_heatmap_shrinks_a_long_text_to_the_page_and_keeps_every_label_it_has_room_for():
    labels = [f"w{i}" for i in range(130)]
    fitted = fit_heatmap(heatmap_figure(np.full((130, 130), 1 / 130), labels, labels))
    width, height = heatmap_cell_size(fitted)
    assert fitted.layout.width <= max(HEATMAP_WIDTHS_PX) + 1 and width == pytest.approx(height, abs=1.5)
    step = len(labels) // len(fitted.layout.yaxis.ticktext)
    assert step * height >= fitted.layout.yaxis.tickfont.size  # the labels kept are a line apart


def test_only_a_graph_asked_to_fill_the_window_sizes_its_own_iframe():
    filling = graph_html(small_graph(), "circle", served=True, fill_window=True)
    assert drawn(filling)[2]["view"]["frame"]["min_px"] > 0 and "height: 100vh" in filling
    fixed = graph_html(small_graph(), "circle", height_px=460, served=True)
    assert "frame" not in drawn(fixed)[2]["view"] and "height: 460px" in fixed


def test_pair_summary_draws_each_rows_strongest_links_and_every_word_once():
    weights = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])  # rows sum to 1
    figure = pair_summary_figure(["It", "<b>x</b>"], ["The", "cat", "sat"], weights)
    lines = [trace for trace in figure.data if trace.mode == "lines"]
    assert len(lines) == 3  # row 0: 0.7 then 0.2 reach 80 %; row 1: 0.8 alone does
    words = [text for trace in figure.data if trace.mode == "markers+text" for text in trace.text]
    assert words == ["It", "&lt;b&gt;x&lt;/b&gt;", "The", "cat", "sat"]  # user text shown literally, never markup
    with pytest.raises(ValueError):
        pair_summary_figure(["a"], ["b"], weights)
