"""figures.translation_figures: the alignment graph, the training curve and the heads' alignment errors."""

import numpy as np
import pytest

from figures.translation_figures import SOURCE_Y, TARGET_Y, alignment_figure, head_errors_figure, training_figure

SOURCE = ["私", "は", "東京", "に", "行く"]
TARGET = ["I", "go", "to", "Tokyo"]


def attention_edges(figure):
    return [trace for trace in figure.data if trace.hovertemplate and "→" in trace.hovertemplate]


def test_every_weight_above_the_floor_is_one_edge_from_its_target_word_to_its_source_word():
    attention = np.full((4, 5), 0.02)
    attention[np.arange(4), [0, 4, 3, 2]] = 0.92  # I→私, go→行く, to→に, Tokyo→東京
    edges = attention_edges(alignment_figure(SOURCE, TARGET, attention, min_weight=0.05))
    assert len(edges) == 4
    go_edge = next(edge for edge in edges if edge.hovertemplate.startswith("go → 行く"))
    assert list(go_edge.y) == [TARGET_Y, SOURCE_Y]
    assert "0.920" in go_edge.hovertemplate


def test_the_edge_width_grows_with_the_weight():
    attention = np.array([[0.8, 0.2], [0.4, 0.6]])
    widths = {
        edge.hovertemplate.split(":")[0]: edge.line.width
        for edge in attention_edges(alignment_figure(["a", "b"], ["x", "y"], attention))
    }
    assert widths["x → a"] > widths["y → b"] > widths["y → a"] > widths["x → b"]


def test_gold_links_are_drawn_sure_solid_possible_dotted_and_a_sure_link_once():
    attention = np.full((4, 5), 0.2)
    figure = alignment_figure(SOURCE, TARGET, attention, sure={(0, 0), (3, 2)}, possible={(0, 0), (0, 1), (2, 3)})
    gold = [trace for trace in figure.data if trace.hoverinfo == "skip" and trace.mode == "lines"]
    assert sorted(trace.line.dash for trace in gold) == ["dot", "dot", "solid", "solid"]


def test_words_are_shown_literally_and_a_shape_mismatch_is_refused():
    figure = alignment_figure(["<b>x</b>"], ["y"], np.ones((1, 1)))
    assert "&lt;b&gt;x&lt;/b&gt;" in [text for trace in figure.data if trace.text is not None for text in trace.text]
    with pytest.raises(ValueError, match="does not match"):
        alignment_figure(SOURCE, TARGET, np.ones((5, 4)))


def test_the_training_curve_marks_the_current_snapshot_and_reads_the_errors_on_a_second_axis():
    figure = training_figure(
        [0, 1, 2], [3.0, 2.0, 1.0], snapshot_steps=[0, 2], alignment_errors=[0.9, 0.2], current=2, total_steps=10
    )
    assert [trace.yaxis for trace in figure.data] == [None, "y2"]  # None: the first axis
    assert figure.layout.shapes[0].x0 == 2
    assert list(figure.layout.xaxis.range) == [0, 10]
    assert len(training_figure([0, 1], [1.0, 0.5]).data) == 1


def test_the_best_head_is_outlined_in_the_error_grid():
    errors = np.array([[0.5, 0.1], [0.7, 0.3]])
    figure = head_errors_figure(errors, best=(0, 1))
    shape = figure.layout.shapes[0]
    assert (shape.x0, shape.x1, shape.y0, shape.y1) == (0.5, 1.5, -0.5, 0.5)
    assert figure.data[0].text[0][1] == "0.10"
