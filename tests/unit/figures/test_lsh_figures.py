"""Specifications of the LSH page's plotly figures (figures.lsh_figures): what each one draws, and user text escaped."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import plotly.colors
import pytest

from core.lsh.inspection import (
    QualityPoint,
    hash_head,
    toy_buckets,
    toy_directions,
    toy_points,
    toy_rotations,
    toy_sectors,
)
from core.lsh.reformer import LSHConfig
from figures.attention_figures import GLYPH_WIDTH, HEATMAP_WIDTHS_PX
from figures.lsh_figures import (
    BUCKET_COLORS,
    attention_pair_figures,
    bucket_color,
    bucket_colorscale,
    bucket_sizes_figure,
    buckets_figure,
    cell_font_px,
    chunk_starts,
    collision_figure,
    difference_figure,
    focus_figure,
    length_text,
    quality_figure,
    scaling_memory_figure,
    scaling_time_figure,
    sorted_chunks_figure,
    toy_figure,
)

LABELS = [
    "[CLS]",
    "the",
    "animal",
    "didn",
    "'",
    "t",
    "cross",
    "the",
    "street",
    "because",
    "it",
    "was",
    "too",
    "tired",
    ".",
    "[SEP]",
]
HOSTILE = ["<img src=x onerror=alert(1)>", "<b>bold</b>", "a & b", "</script>"]


@pytest.fixture(scope="module")
def hashing():
    queries = np.random.default_rng(0).normal(size=(len(LABELS), 8))
    return hash_head(queries, LSHConfig(n_buckets=4, n_hashes=2, chunk_length=4, seed=1))


def figure_json(figure) -> str:
    return json.dumps(figure.to_plotly_json(), default=str)


def assert_escaped(figure) -> None:
    text = figure_json(figure)
    for raw in ("<img", "<b>bold", "</script>", "a & b"):
        assert raw not in text, raw
    assert "&lt;img src=x onerror=alert(1)&gt;" in text


def hostile_labels(n: int) -> list[str]:
    return [HOSTILE[i % len(HOSTILE)] for i in range(n)]


def test_every_bucket_gets_its_colour_exactly_from_the_colorscale():
    total = 6
    scale = bucket_colorscale(total)
    for bucket in range(total):
        at = (bucket + 0.5) / total  # z = bucket with zmin = −0.5, zmax = total − 0.5
        around = [(a, b) for a, b in itertools.pairwise(scale) if a[0] <= at <= b[0]]
        assert len(around) == 1 and around[0][0][1] == around[0][1][1] == bucket_color(bucket)
    assert len(set(BUCKET_COLORS)) == len(BUCKET_COLORS) and bucket_color(16) == bucket_color(0)
    for color in BUCKET_COLORS:
        plotly.colors.validate_colors([color])


def test_buckets_figure_has_a_row_per_round_coloured_by_bucket(hashing):
    figure = buckets_figure(LABELS, hashing.buckets, 4)
    heatmap = figure.data[0]
    assert np.array_equal(np.asarray(heatmap.z), hashing.buckets)
    assert list(heatmap.text[1]) == LABELS and heatmap.texttemplate == "%{text}"
    assert list(figure.layout.yaxis.ticktext) == ["round 1", "round 2"]
    assert f"bucket {hashing.buckets[1, 10]}" in heatmap.customdata[1][10]
    with pytest.raises(ValueError):
        buckets_figure(LABELS[:3], hashing.buckets, 4)


def test_long_inputs_drop_the_cell_labels():
    buckets = np.zeros((1, 100), dtype=int)
    assert buckets_figure([f"w{i}" for i in range(100)], buckets, 2).data[0].texttemplate is None
    assert 9 <= cell_font_px(["because"] * 16) <= 17 and cell_font_px(["x"] * 4) == 17


def test_chunk_starts_run_on_from_one_round_to_the_next():
    chunks = np.arange(20).reshape(2, 10) // 4  # 2 rounds of 10 slots, chunks of 4
    assert chunk_starts(chunks) == [(0, 0, 0), (0, 4, 1), (0, 8, 2), (1, 2, 3), (1, 6, 4)]


def test_sorted_view_shows_the_sorted_tokens_the_chunks_and_the_followed_window(hashing):
    from core.lsh.inspection import window_slots

    window = window_slots(hashing.order, hashing.config, 10)
    figure = sorted_chunks_figure(LABELS, hashing.order, hashing.buckets, hashing.chunks, window=window, focus=10)
    heatmap = figure.data[0]
    assert [list(row) for row in heatmap.text] == [[LABELS[t] for t in row] for row in hashing.order]
    assert np.array_equal(np.asarray(heatmap.z), np.take_along_axis(hashing.buckets, hashing.order, axis=1))
    veil = figure.data[1]
    assert np.array_equal(np.isnan(np.asarray(veil.z, dtype=float)), window)  # veiled: the slots not seen
    boundaries = figure.data[2]
    starts = chunk_starts(hashing.chunks)
    assert list(boundaries.x).count(None) == sum(1 for r, s, _ in starts if s > 0 or r == 0)
    outlined = figure.layout.shapes
    assert len(outlined) == 2 and all(shape.type == "rect" for shape in outlined)  # token 10, once per round
    assert [a.text.strip() for a in figure.layout.annotations] == [f"chunk {c}" for _, _, c in starts]
    plain = sorted_chunks_figure(LABELS, hashing.order, hashing.buckets, hashing.chunks)
    assert len(plain.data) == 2 and not plain.layout.shapes


def test_narrow_chunks_get_their_number_alone_and_narrower_ones_none():
    order = np.tile(np.arange(130), (1, 1))
    figure = sorted_chunks_figure(
        [f"w{i}" for i in range(130)], order, np.zeros((1, 130), dtype=int), np.arange(130).reshape(1, 130) // 4
    )  # 33 chunks of ~32 px
    assert [a.text.strip() for a in figure.layout.annotations] == [str(chunk) for chunk in range(33)]
    order = np.tile(np.arange(200), (2, 1))
    figure = sorted_chunks_figure(
        [f"w{i}" for i in range(200)], order, np.zeros((2, 200), dtype=int), np.arange(400).reshape(2, 200) // 2
    )  # 200 chunks of ~10 px
    assert not figure.layout.annotations and figure.data[0].texttemplate is None


def test_bucket_sizes_figure_groups_rounds_and_marks_the_chunk_length(hashing):
    figure = bucket_sizes_figure(hashing.sizes(), 4)
    assert [trace.name for trace in figure.data] == ["round 1", "round 2"]
    assert list(figure.data[1].y) == hashing.sizes()[1].tolist()
    assert list(figure.data[0].marker.color) == [bucket_color(b) for b in range(4)]
    assert figure.layout.shapes[0].y0 == 4


def test_difference_figure_is_lsh_minus_full_on_a_symmetric_scale(hashing):
    figure = difference_figure(hashing.full, hashing.lsh, LABELS)
    heatmap = figure.data[0]
    assert np.allclose(np.asarray(heatmap.z), hashing.lsh - hashing.full, atol=1e-6)
    assert heatmap.zmin == -heatmap.zmax and heatmap.zmid == 0
    both = np.asarray(heatmap.customdata)  # (n, n, 2): the two weights each cell's hover reads
    assert np.allclose(both[..., 0], hashing.full, atol=1e-6) and np.allclose(both[..., 1], hashing.lsh, atol=1e-6)
    assert "full %{customdata[0]" in heatmap.hovertemplate and "LSH %{customdata[1]" in heatmap.hovertemplate
    with pytest.raises(ValueError):
        difference_figure(hashing.full, hashing.lsh, LABELS[:4])


@pytest.mark.parametrize("text_scale", [1.0, 1.25])
@pytest.mark.parametrize("length", [4, 16, 130])
def test_the_difference_colour_bar_title_fits_the_figure(hashing, length, text_scale):
    full = np.full((length, length), 1 / length)
    figure = difference_figure(
        full, full[::-1] * 0.5 + 0.5 / length, [f"w{i}" for i in range(length)], text_scale=text_scale
    )
    title = figure.data[0].colorbar.title.text
    assert title == "LSH − full (attention weight)"
    assert figure.layout.margin.l + len(title) * GLYPH_WIDTH * figure.layout.font.size <= figure.layout.width


def test_full_and_lsh_heatmaps_share_one_scale(hashing):
    full, lsh = attention_pair_figures(hashing.full, hashing.lsh, LABELS)
    assert full.data[0].zmax == lsh.data[0].zmax == pytest.approx(max(hashing.full.max(), hashing.lsh.max()))


def cell_px(figure) -> tuple[float, float]:
    """(width, height) of one heatmap cell, in pixels."""
    layout, heatmap = figure.layout, figure.data[0]
    return (
        (layout.width - layout.margin.l - layout.margin.r) / len(heatmap.x),
        (layout.height - layout.margin.t - layout.margin.b) / len(heatmap.y),
    )


@pytest.mark.parametrize("text_scale", [1.0, 1.25])
def test_a_sentence_s_heatmaps_fit_two_side_by_side_with_square_cells_and_every_label(hashing, text_scale):
    full, lsh = attention_pair_figures(hashing.full, hashing.lsh, LABELS, text_scale=text_scale)
    for figure in (full, lsh, difference_figure(hashing.full, hashing.lsh, LABELS, text_scale=text_scale)):
        width, height = cell_px(figure)
        assert width == pytest.approx(height, abs=1)  # square
        assert figure.layout.width <= HEATMAP_WIDTHS_PX[0]  # two in a row of the page
        assert width >= 1.2 * figure.layout.yaxis.tickfont.size  # a row holds a line of label
        assert list(figure.layout.yaxis.ticktext) == LABELS and list(figure.layout.xaxis.ticktext) == LABELS


@pytest.mark.parametrize("text_scale", [1.0, 1.25])
def test_a_long_text_s_heatmap_takes_the_page_s_width_and_keeps_a_label_a_line_apart(text_scale):
    length = 130
    labels = [f"word{i}" for i in range(length)]
    attention = np.full((length, length), 1 / length)
    figure = attention_pair_figures(attention, attention, labels, text_scale=text_scale)[0]
    width, height = cell_px(figure)
    assert width == pytest.approx(height, abs=1) and figure.layout.width <= HEATMAP_WIDTHS_PX[-1]
    shown = list(figure.layout.yaxis.ticktext)
    step = labels.index(shown[1])
    assert shown == labels[::step] and list(figure.layout.xaxis.ticktext) == shown
    assert step * height >= 1.2 * figure.layout.yaxis.tickfont.size  # labels a line apart, none overlapping
    assert (step - 1) * height < 1.2 * figure.layout.yaxis.tickfont.size  # and no fewer than that allows
    assert (
        figure.layout.height
        > attention_pair_figures(attention[:16, :16], attention[:16, :16], labels[:16], text_scale=text_scale)[
            0
        ].layout.height
    )  # taller


def test_focus_figure_compares_one_row_and_keeps_repeated_tokens_apart(hashing):
    figure = focus_figure(LABELS, hashing.full[10], hashing.lsh[10], 10)
    assert [trace.name for trace in figure.data] == ["full attention", "LSH attention"]
    assert list(figure.data[0].x) == list(range(len(LABELS)))  # "the" twice, two bars
    assert list(figure.layout.xaxis.ticktext) == LABELS


def test_focus_figure_labels_every_few_keys_of_a_long_text():
    labels = [f"w{i}" for i in range(130)]
    figure = focus_figure(labels, np.full(130, 1 / 130), np.full(130, 1 / 130), 0)
    shown = list(figure.layout.xaxis.ticktext)
    step = labels.index(shown[1])
    assert step > 1 and shown == labels[::step] and list(figure.layout.xaxis.tickvals) == list(range(0, 130, step))


def every_font_size(figure) -> list[float]:
    """Every font size a figure sets, but for labels inside the cells of a token strip (as large as the cell's width
    allows): its layout font, axis tick labels, annotations, text beside markers."""
    sizes = [figure.layout.font.size]
    sizes += [axis.tickfont.size for axis in (figure.layout.xaxis, figure.layout.yaxis) if axis.tickfont.size]
    sizes += [annotation.font.size for annotation in figure.layout.annotations if annotation.font.size]
    sizes += [trace.textfont.size for trace in figure.data if trace.type != "heatmap" and trace.textfont.size]
    return sizes


@pytest.mark.parametrize(
    "build",
    ["buckets", "sorted", "sizes", "focus", "pair", "difference", "quality", "toy", "collision", "time", "memory"],
)
def test_presentation_mode_draws_every_text_of_a_figure_larger(hashing, build):
    config = LSHConfig(n_buckets=4, n_hashes=2, seed=2)
    rotations = toy_rotations(config)
    points = [QualityPoint(b, r, 0.5, 0.6, 0.1 * r) for b in (4, 8) for r in (1, 2)]
    builders = {
        "buckets": lambda scale: buckets_figure(LABELS, hashing.buckets, 4, text_scale=scale),
        "sorted": lambda scale: sorted_chunks_figure(
            LABELS, hashing.order, hashing.buckets, hashing.chunks, text_scale=scale
        ),
        "sizes": lambda scale: bucket_sizes_figure(hashing.sizes(), 4, text_scale=scale),
        "focus": lambda scale: focus_figure(LABELS, hashing.full[0], hashing.lsh[0], 0, text_scale=scale),
        "pair": lambda scale: attention_pair_figures(hashing.full, hashing.lsh, LABELS, text_scale=scale)[0],
        "difference": lambda scale: difference_figure(hashing.full, hashing.lsh, LABELS, text_scale=scale),
        "quality": lambda scale: quality_figure(points, 1, text_scale=scale),
        "toy": lambda scale: toy_figure(
            toy_points(5),
            toy_buckets(toy_points(5), rotations, config),
            toy_sectors(rotations, config),
            toy_directions(rotations),
            text_scale=scale,
        ),
        "collision": lambda scale: collision_figure(np.array([0, 90]), np.array([1, 0.5]), None, 1, text_scale=scale),
        "time": lambda scale: scaling_time_figure(ROWS, 1800.0, text_scale=scale),
        "memory": lambda scale: scaling_memory_figure(
            ROWS, 4096, budget_mib=64, budget_lengths=(2900.0, 1e4), text_scale=scale
        ),
    }
    usual, presenting = every_font_size(builders[build](1.0)), every_font_size(builders[build](1.25))
    assert len(usual) == len(presenting) >= 1
    for before, after in zip(usual, presenting):
        assert after >= before * 1.25 - 1 or after >= before + 2, (usual, presenting)  # rounded to whole pixels


@pytest.mark.parametrize("build", ["buckets", "sorted", "difference", "pair", "focus"])
def test_user_text_is_escaped(hashing, build):
    labels = hostile_labels(len(LABELS))
    if build == "buckets":
        figures = [buckets_figure(labels, hashing.buckets, 4)]
    elif build == "sorted":
        figures = [sorted_chunks_figure(labels, hashing.order, hashing.buckets, hashing.chunks)]
    elif build == "difference":
        figures = [difference_figure(hashing.full, hashing.lsh, labels)]
    elif build == "pair":
        figures = list(attention_pair_figures(hashing.full, hashing.lsh, labels))
    else:
        figures = [focus_figure(labels, hashing.full[0], hashing.lsh[0], 0)]
    for figure in figures:
        assert_escaped(figure)


def test_quality_figure_draws_three_panels_a_random_baseline_and_the_highlight():
    points = [QualityPoint(b, r, 0.5 + 0.05 * r, 0.6, 0.1 * r) for b in (4, 8) for r in (1, 2, 4)]
    figure = quality_figure(points, 2, highlight=(8, 2), highlight_name="chosen")
    lines = [trace for trace in figure.data if trace.mode == "lines+markers"]
    assert len(lines) == 2 * 3 and {trace.name for trace in lines} == {"4 buckets", "8 buckets"}
    assert [a.text for a in figure.layout.annotations][:2] == ["attention mass kept (%)", "top-2 recall (%)"]
    baseline = next(trace for trace in figure.data if trace.name.startswith("random"))
    assert list(baseline.y) == pytest.approx([10, 20, 40])
    rings = [trace for trace in figure.data if trace.name == "chosen"]
    assert len(rings) == 3 and rings[0].y[0] == pytest.approx(60)
    assert len(quality_figure(points, 1, highlight=(16, 1)).data) == 7  # no ring off the grid


def test_toy_figure_draws_a_panel_per_round_with_sectors_arrows_and_points():
    config = LSHConfig(n_buckets=4, n_hashes=3, seed=2)
    rotations = toy_rotations(config)
    points = toy_points(10)
    buckets = toy_buckets(points, rotations, config)
    sectors = toy_sectors(rotations, config)
    figure = toy_figure(points, buckets, sectors, toy_directions(rotations))
    assert [a.text for a in figure.layout.annotations[:3]] == ["round 1", "round 2", "round 3"]
    markers = [trace for trace in figure.data if trace.mode == "markers"]
    assert len(markers) == 3 and all(len(trace.x) == 10 for trace in markers)
    assert list(markers[2].marker.color) == [bucket_color(b) for b in buckets[2]]
    wedges = [trace for trace in figure.data if trace.fill == "toself"]
    assert len(wedges) == sum(len(arcs) for arcs in sectors)
    arrows = [trace for trace in figure.data if trace.mode == "lines+markers"]
    assert len(arrows) == 3 * 4
    longest = max(math.hypot(trace.x[1], trace.y[1]) for trace in arrows[:4])
    assert longest == pytest.approx(1.0)
    assert figure.layout.yaxis.scaleanchor == "x" and figure.layout.yaxis2.scaleanchor == "x2"


def test_collision_figure_adds_the_any_round_curve_only_for_several_rounds():
    angles = np.array([0, 90, 180])
    assert len(collision_figure(angles, np.array([1, 0.5, 0]), np.array([1, 0.7, 0]), 2).data) == 2
    assert len(collision_figure(angles, np.array([1, 0.5, 0]), np.array([1, 0.5, 0]), 1).data) == 1


ROWS = [
    {"length": 512, "full_ms": 1.0, "lsh_ms": 6.0, "full_mib": 2.4, "full_mib_measured": True, "lsh_mib": 2.7},
    {"length": 1024, "full_ms": 4.0, "lsh_ms": 9.0, "full_mib": 8.6, "full_mib_measured": True, "lsh_mib": 5.2},
    {"length": 2048, "full_ms": 19.0, "lsh_ms": 16.0, "full_mib": 33.0, "full_mib_measured": True, "lsh_mib": 10.5},
    {"length": 4096, "full_ms": None, "lsh_ms": None, "full_mib": 128.0, "full_mib_measured": False, "lsh_mib": 21.8},
]


def test_time_figure_marks_the_crossover_and_the_live_points():
    live = [{"length": 512, "full_ms": 1.2, "lsh_ms": 5.0}, {"length": 1024, "full_ms": None, "lsh_ms": 8.0}]
    figure = scaling_time_figure(ROWS, 1800.0, live)
    names = [trace.name for trace in figure.data]
    assert names == ["full attention", "LSH attention", "full, measured now", "LSH, measured now"]
    assert list(figure.data[0].x) == [512, 1024, 2048]  # the untimed length is left out
    assert len(figure.data[3].x) == 2 and len(figure.data[2].x) == 1
    assert figure.layout.shapes[0].x0 == 1800.0 and "1,800" in figure.layout.annotations[0].text
    assert figure.layout.xaxis.type == "log" and figure.layout.yaxis.type == "log"
    assert len(scaling_time_figure(ROWS, None).layout.shapes) == 0


def test_memory_figure_continues_the_measured_line_with_the_formula_and_marks_the_budget():
    figure = scaling_memory_figure(ROWS, 4096, budget_mib=64, budget_lengths=(2900.0, 10000.0))
    formula = next(trace for trace in figure.data if "not run" in trace.name)
    assert list(formula.x) == [2048, 4096] and formula.line.dash == "dash"
    budget = next(trace for trace in figure.data if trace.name.startswith("tokens that fit"))
    assert list(budget.x) == [2900.0, 10000.0] and list(budget.y) == [64, 64]
    assert any(shape.y0 == 4096 for shape in figure.layout.shapes)  # the cap
    assert figure.layout.xaxis.range[1] >= math.log10(10000)
    assert length_text(512) == "512" and length_text(16384) == "16K" and length_text(2**20) == "1M"
