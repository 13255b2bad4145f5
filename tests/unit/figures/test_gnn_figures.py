"""The pure figure builders of the Transformer = GNN page, and the page's upload validation."""

import numpy as np
import pytest

from core.analysis.graph import Pruning
from core.analysis.hard_attention import SameBucket
from core.analysis.head_stats import HeadStatistics, head_patterns
from core.transformer.model_size import model_configs, parameter_count
from figures.gnn_figures import (
    ATTRIBUTION_COLORS,
    BEHAVIOUR_COLORS,
    CLUSTER_SYMBOLS,
    attribution_figure,
    head_map_figure,
    head_statistics_figure,
    model_size_figure,
    rnn_memory_figure,
    sweep_figure,
)
from ui.gnn import MAX_UPLOAD_BYTES, read_sentences, rule_family, rule_name


def statistics(layers=2, heads=3, seed=0) -> HeadStatistics:
    rng = np.random.default_rng(seed)
    values = {
        name: rng.uniform(0, 1, (layers, heads))
        for name in ("to_cls", "to_sep", "to_punctuation", "to_previous", "to_next", "to_self")
    }
    return HeadStatistics(entropy=rng.uniform(0, 3, (layers, heads)), **values)


def test_sweep_figure_has_one_series_per_family_sorted_by_share():
    figure = sweep_figure(
        ["top-k", "threshold", "top-k", "same LSH bucket"],
        [0.5, 0.1, 0.25, 0.3],
        [0.99, 0.8, 0.95, 0.9],
        ["top-2", "weight ≥ 0.1", "<b>top-1</b>", "bucket"],
    )
    assert [trace.name for trace in figure.data] == ["top-k", "threshold", "same LSH bucket"]
    top_k = figure.data[0]
    assert list(top_k.x) == [25.0, 50.0]  # percent, ascending
    assert list(top_k.y) == [0.95, 0.99]
    assert "&lt;b&gt;top-1&lt;/b&gt;" in top_k.text  # user-facing text escaped


def test_sweep_figure_rejects_mismatched_lengths():
    with pytest.raises(ValueError):
        sweep_figure(["top-k"], [0.5, 0.1], [0.9], ["a"])


def test_head_statistics_figure_has_seven_statistics_and_the_patterns():
    stats = statistics()
    patterns = head_patterns(stats)
    figure = head_statistics_figure(stats, patterns)
    assert len(figure.data) == 8
    titles = [annotation.text for annotation in figure.layout.annotations]
    assert "entropy (nats)" in titles and "to [CLS]" in titles and titles[-1].startswith("pattern")
    np.testing.assert_allclose(np.array(figure.data[1].z), stats.to_cls)
    assert figure.data[1].zmax == 1 and figure.data[0].zmax is None  # shares on 0–1, entropy on its own scale
    assert f"layer 1, head 1 · {patterns[0, 0]}" == figure.data[0].customdata[0][0]


def test_a_decoders_head_statistics_name_the_first_token_the_sink_and_leave_out_zero_panels():
    stats = statistics()
    typed = HeadStatistics(**{**vars(stats), "to_next": np.zeros((2, 3)), "to_sep": np.zeros((2, 3))})
    figure = head_statistics_figure(typed, head_patterns(typed), causal=True)
    titles = [annotation.text for annotation in figure.layout.annotations]
    assert titles == [
        "entropy (nats)",
        "to first token (sink)",
        "to punctuation (. ,)",
        "to previous token",
        "to itself",
        "pattern (S sink · P positional · B broad)",
    ]
    np.testing.assert_allclose(np.array(figure.data[1].z), stats.to_cls)
    assert "to first token (sink): " in figure.data[1].hovertemplate
    with_special = head_statistics_figure(stats, head_patterns(stats), causal=True)  # a special token in the text
    assert "to other special tokens" in [annotation.text for annotation in with_special.layout.annotations]


def test_rnn_memory_figure_shows_half_to_the_tenth():
    figure = rnn_memory_figure(0.5, 20)
    rnn, attention = figure.data
    assert rnn.y[9] == pytest.approx(0.5**10) == pytest.approx(0.000977, rel=1e-3)
    assert set(attention.y) == {0.5}
    assert "0.000977" in figure.layout.annotations[0].text
    assert figure.layout.yaxis.type == "log"


def test_model_size_figure_stacks_parts_and_labels_totals():
    counts = {name: parameter_count(config) for name, config in model_configs().items()}
    figure = model_size_figure(counts)
    assert [trace.name for trace in figure.data[:4]] == ["embeddings", "attention", "feed-forward", "pooler"]
    assert figure.layout.barmode == "stack"
    totals = figure.data[4].text
    assert totals[0].strip() == "109.5 M" and totals[1].strip() == "335.1 M" and totals[2].strip() == "22.7 M"
    stacked = sum(np.array(trace.x) for trace in figure.data[:4])
    np.testing.assert_allclose(stacked, [count.total / 1e6 for count in counts.values()])


def test_rule_names_and_families():
    assert rule_family(Pruning("top_k", k=2)) == "top-k" and rule_name(Pruning("top_k", k=2)) == "top-2 per token"
    assert rule_family(Pruning("threshold", threshold=0.1)) == "threshold"
    assert rule_family(SameBucket(8, 2)) == "same LSH bucket" and "8" in rule_name(SameBucket(8, 2))


def test_read_sentences_accepts_utf8_lines():
    assert read_sentences(b"The cat sat.\n\nIt was tired. It slept.\n") == [
        "The cat sat.",
        "It was tired.",
        "It slept.",
    ]
    assert read_sentences("\ufeffÉté.".encode()) == ["Été."]


@pytest.mark.parametrize(
    "data, message",
    [
        (b"x" * (MAX_UPLOAD_BYTES + 1), "limit"),
        ("café".encode("latin-1"), "UTF-8"),
        (b"\n \n", "no sentences"),
        (b"ab\x00cd", "binary"),
    ],
)
def test_read_sentences_rejects_bad_files_with_a_message(data, message):
    with pytest.raises(ValueError, match=message):
        read_sentences(data)


def test_similarity_graph_figure_draws_every_edge_and_escapes_labels():
    import networkx as nx

    from figures.gnn_figures import similarity_graph_figure

    graph = nx.Graph()
    graph.add_nodes_from([(0, {"label": "cat"}), (1, {"label": "<dog>"}), (2, {"label": "street"})])
    graph.add_weighted_edges_from([(0, 1, 0.8), (1, 2, 0.2)])
    figure = similarity_graph_figure(graph)
    assert len(figure.data) == 2 + 2  # two edges, their hover midpoints, the nodes
    assert list(figure.data[-1].text) == ["cat", "&lt;dog&gt;", "street"]
    assert "cos = 0.800" in figure.data[2].text[0]
    boxes = figure.layout.annotations  # each word in a box of its own size, where its node is
    assert [box.text for box in boxes] == ["cat", "&lt;dog&gt;", "street"] and all(box.bgcolor for box in boxes)
    assert (boxes[1].x, boxes[1].y) == (figure.data[-1].x[1], figure.data[-1].y[1])


def test_presentation_mode_draws_the_head_panels_labels_larger():
    stats = statistics(layers=6, heads=12)
    usual = head_statistics_figure(stats, head_patterns(stats))
    presenting = head_statistics_figure(stats, head_patterns(stats), text_scale=1.25)
    assert usual.layout.xaxis.tickfont.size >= 11 and usual.layout.yaxis.tickfont.size >= 11  # readable at all
    for axis in ("xaxis", "yaxis", "xaxis8", "yaxis8"):
        assert presenting.layout[axis].tickfont.size >= 1.25 * usual.layout[axis].tickfont.size - 0.5
    assert presenting.layout.annotations[0].font.size > usual.layout.annotations[0].font.size  # panel titles
    assert presenting.layout.font.size > usual.layout.font.size  # pattern letters, colour bars


@pytest.mark.parametrize("build", ["sweep", "rnn", "sizes", "similarity"])
def test_presentation_mode_draws_the_other_figures_text_larger(build):
    import networkx as nx

    from figures.gnn_figures import similarity_graph_figure

    graph = nx.Graph()
    graph.add_nodes_from([(0, {"label": "cat"}), (1, {"label": "dog"})])
    graph.add_weighted_edges_from([(0, 1, 0.8)])
    counts = {name: parameter_count(config) for name, config in model_configs().items()}
    builders = {
        "sweep": lambda scale: sweep_figure(["top-k"], [0.5], [0.9], ["top-2"], text_scale=scale),
        "rnn": lambda scale: rnn_memory_figure(0.5, 20, text_scale=scale),
        "sizes": lambda scale: model_size_figure(counts, text_scale=scale),
        "similarity": lambda scale: similarity_graph_figure(graph, text_scale=scale),
    }
    usual, presenting = builders[build](1.0), builders[build](1.25)
    assert presenting.layout.font.size == 1.25 * usual.layout.font.size  # as the page's type: 14 → 17.5 px
    assert presenting.layout.height > usual.layout.height  # room for the larger text


def test_attribution_figure_keeps_every_word_in_order_and_colours_the_sign():
    words = ["[CLS]", "the", "cat", "saw", "the", "<b>dog</b>", "[SEP]"]
    attributions = np.array([0.0, 0.1, 0.5, -0.2, 0.05, 0.3, 0.0])
    shares = np.full(7, 1 / 7)
    figure = attribution_figure(words, attributions, shares)
    gradients, rollout = figure.data
    assert list(gradients.y) == list(rollout.y) == list(range(7))  # a repeated word keeps a row of its own
    assert list(figure.layout.yaxis.ticktext) == [*words[:5], "&lt;b&gt;dog&lt;/b&gt;", "[SEP]"]
    assert figure.layout.yaxis.autorange == "reversed"  # the first word on top
    assert list(gradients.marker.color[2:4]) == [ATTRIBUTION_COLORS[True], ATTRIBUTION_COLORS[False]]  # 0.5, −0.2
    np.testing.assert_allclose(rollout.x, shares)


def test_attribution_figure_rejects_mismatched_lengths():
    with pytest.raises(ValueError):
        attribution_figure(["a", "b"], np.zeros(2), np.zeros(3))


def test_head_map_figure_draws_each_head_once_coloured_by_behaviour_and_shaped_by_cluster():
    behaviours = np.array([["previous token", "broad", "mixed"], ["[CLS]/[SEP]", "previous token", "broad"]])
    points = np.arange(12.0).reshape(6, 2)
    clusters = np.array([0, 1, 1, 2, 0, 1])
    figure = head_map_figure(points, behaviours, clusters, selected=(2, 3))
    drawn = [trace for trace in figure.data if trace.customdata is not None]
    assert [trace.name for trace in drawn] == ["previous token", "[CLS]/[SEP]", "broad", "mixed"]  # BEHAVIOURS order
    heads = {tuple(head) for trace in drawn for head in np.asarray(trace.customdata).tolist()}
    assert heads == {(layer, head) for layer in (1, 2) for head in (1, 2, 3)}
    previous = drawn[0]
    assert previous.marker.color == BEHAVIOUR_COLORS["previous token"]
    assert np.asarray(previous.customdata).tolist() == [[1, 1], [2, 2]]
    assert list(previous.x) == [0.0, 8.0]  # heads h = layer · 3 + head: 0 and 4
    assert list(previous.marker.symbol) == [CLUSTER_SYMBOLS[0], CLUSTER_SYMBOLS[0]]
    assert previous.text[1] == "L2 H2: previous token, cluster 1"
    assert [trace.name for trace in figure.data if trace.customdata is None] == [
        "cluster 1 (2)",
        "cluster 2 (3)",
        "cluster 3 (1)",
    ]
    (annotation,) = figure.layout.annotations
    assert (annotation.x, annotation.y, annotation.text) == (10.0, 11.0, "<b>L2 H3</b>")


def test_head_map_figure_rejects_a_point_count_that_is_not_layers_times_heads():
    with pytest.raises(ValueError):
        head_map_figure(np.zeros((5, 2)), np.full((2, 3), "broad"), np.zeros(5, dtype=int))
