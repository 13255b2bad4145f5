"""Plotly figures of attention: one head as a heatmap, every layer × head as a clickable grid of tiles (their
attention, or how much each matters), and how one sentence of a pair reads the other as a bipartite graph.

Labels are user text: every one goes through ``figures.theme.plain``, so it shows literally and is never markup.
"""

from __future__ import annotations

import itertools
import math
import unicodedata
from collections.abc import Sequence

import numpy as np
import plotly.colors
import plotly.graph_objects as go

from core.analysis.graph import mass_mask
from figures.theme import FONT_PX, GRAPH_BLUE_RGB, INK, SELECTION, WHITE, base_layout, plain, scaled_margin

COLORSCALE = "Blues"
TILE_GAP = 0.08  # overview: gap between tiles, as a share of a tile's side
OVERVIEW_WIDTH_PX = 1000
OVERVIEW_MARGIN = dict(l=52, r=34, t=44, b=6)  # head labels and title on top; the right margin holds the modebar
SHADES = 254  # overview: a tile's shading is sent as one byte, 1…255; 0 marks the white gaps between tiles


def heatmap_figure(
    attention: np.ndarray,
    from_labels: Sequence[str],
    to_labels: Sequence[str],
    *,
    title: str = "",
    text_scale: float = 1.0,
    causal: bool = False,
) -> go.Figure:
    """One head's attention (n × m) as a heatmap: rows = from (queries) top to bottom in sentence order, columns =
    to (keys); square cells sized by the token count (``heatmap_cell_px``) so that every label stays readable, the
    figure as large as they need; hover gives both tokens, their indices and the exact weight. ``causal``: a
    decoder's attention, whose cells above the diagonal (a word reading a later word) are left empty, not 0.

    The axes are categories named "label (index)" (unique even when a word repeats), shown by their label alone:
    the hover reads the names, so no per-cell hover text is sent (at 128 tokens that text was ~500 KB).
    """
    n, m = attention.shape
    if (n, m) != (len(from_labels), len(to_labels)):
        raise ValueError(f"attention {attention.shape} does not match {len(from_labels)} × {len(to_labels)} labels")
    sources, targets = [plain(label) for label in from_labels], [plain(label) for label in to_labels]
    rows, columns = indexed_names(sources), indexed_names(targets)
    cell = heatmap_cell_px(max(n, m), text_scale)
    tick_px = heatmap_tick_px(cell, text_scale)
    column_widths = [label_px(label, tick_px) for label in to_labels]
    upright = all((a + b) / 2 <= cell - 1 for a, b in itertools.pairwise(column_widths))  # neighbours clear
    widest = max((label_px(label, tick_px) for label in [*from_labels, *to_labels]), default=tick_px)
    title_px = round(FONT_PX * text_scale * 1.6)  # an axis title's line
    bar_px = min(320, max(m * cell, round(160 * text_scale)))  # the colour bar, with room for its title
    margin = dict(
        l=round(widest + title_px + 10),
        r=16,
        b=round(96 * text_scale),
        t=round((tick_px * 1.4 if upright else widest) + title_px + 12 + (title_px if title else 0)),
    )
    weights = attention.astype(np.float32)  # sent as 4-byte binary (plotly's typed arrays); hover shows 3 decimals
    if causal:
        weights[np.triu(np.ones((n, m), dtype=bool), k=1)] = np.nan  # a gap: drawn empty, no hover
    heatmap = go.Heatmap(
        z=weights,
        x=columns,
        y=rows,
        hoverongaps=False,
        hovertemplate="from %{y} → to %{x}: %{z:.3f}<extra></extra>",
        colorscale=COLORSCALE,
        zmin=0.0,
        colorbar=dict(  # under the matrix: the figure's width stays the matrix's
            orientation="h",
            y=-8 / (n * cell),
            yanchor="top",
            lenmode="pixels",
            len=bar_px,
            xanchor="left",
            x=0.0,
            thickness=12,
            outlinewidth=0,
            title=dict(text="attention weight", side="top"),
        ),
    )
    figure = go.Figure(heatmap)
    figure.update_layout(
        title=dict(text=plain(title), x=0.0, xanchor="left", yref="container", y=0.99, yanchor="top"),
        **base_layout(text_scale),
        width=margin["l"] + margin["r"] + max(m * cell, bar_px),  # a short sentence leaves the bar room on the right
        height=margin["t"] + margin["b"] + n * cell,
        margin=margin,
        template=None,  # plotly's default template is 6.5 KB per figure, and Streamlit's theme replaces it
    )
    axes = dict(tickmode="array", showgrid=False, zeroline=False, ticks="", automargin=False)
    figure.update_xaxes(
        title_text="to (keys)",
        side="top",
        tickvals=columns,
        ticktext=targets,
        tickangle=0 if upright else -90,
        tickfont_size=tick_px,
        constrain="domain",
        constraintoward="left",
        **axes,
    )
    figure.update_yaxes(  # square cells even where a page stretches the figure to its column's width
        title_text="from (queries)",
        tickvals=rows,
        ticktext=sources,
        tickfont_size=tick_px,
        autorange="reversed",
        scaleanchor="x",
        constrain="domain",
        **axes,
    )
    return figure


HEATMAP_WIDTHS_PX = (460, 940)  # two heatmaps side by side (gap "medium") in the page at 1440 px, or one alone


def fit_heatmap(figure: go.Figure, widths_px: Sequence[int] = HEATMAP_WIDTHS_PX) -> go.Figure:
    """A heatmap of figures.attention_figures.heatmap_figure (square cells sized by the token count) shrunk to the
    narrowest of ``widths_px`` (ascending) at which a cell still holds a line of its labels, else to the widest; never
    grown. Cells stay square; where they are thinner than a line of label, every second, third… label is kept (hover
    names every cell). A matrix narrower than its colour bar or the bar's title gets room for them on its right."""
    layout, heatmap = figure.layout, figure.data[0]
    rows, columns = len(heatmap.y), len(heatmap.x)
    margin_x, margin_y = layout.margin.l + layout.margin.r, layout.margin.t + layout.margin.b
    line = 1.2 * max(layout.xaxis.tickfont.size, layout.yaxis.tickfont.size)
    if layout.xaxis.tickangle == 0:  # upright column labels need their width
        line = max(line, max(map(len, layout.xaxis.ticktext)) * GLYPH_WIDTH * layout.xaxis.tickfont.size)
    fitting = [(width - margin_x) / columns for width in widths_px]
    cell = min((layout.width - margin_x) / columns, next((c for c in fitting if c >= line), fitting[-1]))
    step = math.ceil(line / cell)
    colour_bar_px = max(
        heatmap.colorbar.len if heatmap.colorbar.lenmode == "pixels" else 0,
        len(heatmap.colorbar.title.text or "") * GLYPH_WIDTH * layout.font.size,
    )
    spare = max(0, math.ceil(colour_bar_px - columns * cell))  # the bar and its title start where the matrix does
    figure.update_layout(
        width=round(margin_x + columns * cell) + spare,
        height=round(margin_y + rows * cell),
        margin_r=layout.margin.r + spare,
    )
    for axis in (layout.xaxis, layout.yaxis):
        axis.update(tickvals=axis.tickvals[::step], ticktext=axis.ticktext[::step])
    return figure


GLYPH_WIDTH = 0.62  # a character of the sans-serif font, in font sizes (estimated on the wide side)…
WIDE_GLYPH_WIDTH = 1.0  # …and a CJK character, one font size square


def label_px(label: str, font_px: float) -> float:
    """Estimated width of ``label`` set at ``font_px``: CJK (East Asian wide) characters are twice as wide."""
    return font_px * sum(WIDE_GLYPH_WIDTH if unicodedata.east_asian_width(c) in "WF" else GLYPH_WIDTH for c in label)


MIN_HEATMAP_TICK_PX = 9  # the smallest label a heatmap draws (at text_scale 1)
HEATMAP_SIDE_PX = 480  # a heatmap aims at this side…
MAX_HEATMAP_CELL_PX = 30  # …with cells no larger than this…


def heatmap_cell_px(count: int, text_scale: float = 1.0) -> int:
    """Side of a heatmap cell for ``count`` rows or columns: HEATMAP_SIDE_PX shared out, clamped so that a label of
    MIN_HEATMAP_TICK_PX (× text_scale) fits its row and a short sentence does not blow up."""
    smallest = math.ceil(MIN_HEATMAP_TICK_PX * text_scale * 1.2)  # a line of the smallest label
    largest = round(MAX_HEATMAP_CELL_PX * text_scale)
    return int(min(largest, max(smallest, HEATMAP_SIDE_PX * text_scale // max(count, 1))))


def heatmap_tick_px(cell_px: int, text_scale: float = 1.0) -> int:
    """Label size for rows of ``cell_px``: as large as the row allows, 9 to 14 px (× text_scale)."""
    return int(min(14 * text_scale, max(MIN_HEATMAP_TICK_PX * text_scale, cell_px / 1.2)))


def indexed_names(labels: Sequence[str]) -> list[str]:
    """ "label (index)" for every label: unique category names for a heatmap axis, read back by its hover."""
    return [f"{label} ({index})" for index, label in enumerate(labels)]


def average_pool(attention: np.ndarray, size: int) -> np.ndarray:
    """Mean of ``attention`` (…, n, n) over a size × size grid of near-equal blocks → (…, size, size)."""
    n = attention.shape[-1]
    starts = np.arange(size) * n // size  # (size,) first row (and column) of each block
    counts = np.diff(np.append(starts, n))  # (size,)
    rows = np.add.reduceat(attention, starts, axis=-2) / counts[:, None]  # (…, size, n)
    return np.add.reduceat(rows, starts, axis=-1) / counts  # (…, size, size)


def overview_tiles(attention: np.ndarray, max_tile: int) -> np.ndarray:
    """Every head (layers, heads, n, n) shrunk to at most max_tile × max_tile and divided by its own largest value."""
    tiles = average_pool(attention, max_tile) if attention.shape[-1] > max_tile else attention.astype(float)
    largest = tiles.max(axis=(-2, -1), keepdims=True)  # (layers, heads, 1, 1)
    return np.divide(tiles, largest, out=np.zeros_like(tiles, dtype=float), where=largest > 0)


def shades(tiles: np.ndarray) -> np.ndarray:
    """Tiles in [0, 1] as bytes 1…255 (1 + SHADES · value, rounded): one byte a cell on the wire, 0 left free for
    the gaps."""
    return (1 + np.rint(SHADES * np.clip(tiles, 0.0, 1.0))).astype(np.uint8)


def gap_colorscale() -> list[list]:
    """COLORSCALE over the shades 1…255, with 0 (the gaps between tiles) white."""
    scale = plotly.colors.get_colorscale(COLORSCALE)
    first = 1 / (SHADES + 1)
    return [[0.0, WHITE]] + [[first + (1 - first) * position, colour] for position, colour in scale]


def tile_origin(index: int | np.ndarray) -> float | np.ndarray:
    """Overview: left (or top) edge of tile ``index``, in axis units (a tile is 1 × 1, tiles TILE_GAP apart)."""
    return index * (1 + TILE_GAP)


def tile_centres(count: int) -> list[float]:
    """Overview: centres of ``count`` tiles along an axis (where the tick labels go)."""
    return [tile_origin(index) + 0.5 for index in range(count)]


def axis_range(count: int) -> list[float]:
    """Overview: axis range around ``count`` tiles, with a gap's width of margin on both sides."""
    return [-TILE_GAP, tile_origin(count)]


def mosaic(tiles: np.ndarray, gap: float = np.nan) -> np.ndarray:
    """Tiles (layers, heads, t, t) in one array (layers·(t+1) − 1, heads·(t+1) − 1), a row or column of ``gap``
    between neighbouring tiles."""
    layers, heads, t, _ = tiles.shape
    padded = np.pad(tiles, ((0, 0), (0, 0), (0, 1), (0, 1)), constant_values=gap)  # (layers, heads, t+1, t+1)
    return padded.transpose(0, 2, 1, 3).reshape(layers * (t + 1), heads * (t + 1))[:-1, :-1]


def cell_edges(count: int, t: int) -> np.ndarray:
    """Edges of the mosaic's cells along an axis of ``count`` tiles of t cells: each tile spans 1 unit, each gap
    cell TILE_GAP."""
    edges = [tile_origin(index) + np.arange(t + 1) / t for index in range(count)]  # each (t+1,)
    return np.concatenate(edges)  # (count·(t+1),) = cells + 1; a tile's last edge starts the gap after it


def tile_from_point_index(point_index: int, heads: int) -> tuple[int, int]:
    """(layer, head), 0-based, of the overview tile whose marker has this point index (markers go row by row)."""
    return divmod(int(point_index), heads)


TILE_HOVER = "layer %{customdata[0]}, head %{customdata[1]} — click to select"


def tile_markers(
    layers: int, heads: int, size_px: float, values: np.ndarray | None = None, hover: str = TILE_HOVER
) -> go.Scatter:
    """One nearly invisible square marker per tile, layer by layer, so that a click or hover anywhere picks a tile
    (point index = layer · heads + head; customdata = [layer, head], 1-based, and the tile's value from ``values``
    (layers, heads) when given, for ``hover``)."""
    layer, head = np.divmod(np.arange(layers * heads), heads)  # (layers·heads,) each
    columns = [layer + 1, head + 1] + ([values.reshape(-1)] if values is not None else [])
    return go.Scatter(
        x=tile_origin(head) + 0.5,
        y=tile_origin(layer) + 0.5,
        customdata=np.stack(columns, axis=1),
        mode="markers",
        marker=dict(symbol="square", size=size_px, color="rgba(0, 0, 0, 0.01)"),
        selected=dict(marker=dict(opacity=0.01)),
        unselected=dict(marker=dict(opacity=0.01)),
        hovertemplate=hover + "<extra></extra>",
        showlegend=False,
    )


def selection_outline(selected: tuple[int, int | None], heads: int) -> dict:
    """Rectangle around the selected tile, or around the whole layer's row when head is None (mean of heads)."""
    layer, head = selected
    first, last = (0, heads - 1) if head is None else (head, head)
    margin = TILE_GAP / 2
    return dict(
        type="rect",
        xref="x",
        yref="y",
        line=dict(color=SELECTION, width=3),
        x0=tile_origin(first) - margin,
        x1=tile_origin(last) + 1 + margin,
        y0=tile_origin(layer) - margin,
        y1=tile_origin(layer) + 1 + margin,
    )


def overview_figure(
    attention: np.ndarray,
    *,
    selected: tuple[int, int | None] | None = None,
    max_tile: int = 20,
    width_px: int = OVERVIEW_WIDTH_PX,
    text_scale: float = 1.0,
) -> go.Figure:
    """All heads of ``attention`` (layers, heads, n, n) as one grid of small heatmaps: rows = layers (layer 1 on
    top), columns = heads, each tile shaded relative to its own maximum (in 255 shades: ``shades``); ``selected``
    (layer, head), 0-based, is outlined (head None outlines the layer). Clicks come back as point indices: see
    ``tile_from_point_index``."""
    layers, heads = attention.shape[:2]
    tiles = overview_tiles(attention, max_tile)  # (layers, heads, t, t)
    t = tiles.shape[-1]
    heatmap = go.Heatmap(
        z=mosaic(shades(tiles), gap=0),
        x=cell_edges(heads, t),
        y=cell_edges(layers, t),
        colorscale=gap_colorscale(),
        zmin=0,
        zmax=SHADES + 1,
        showscale=False,
        hoverinfo="skip",
    )
    return head_grid_figure(heatmap, layers, heads, selected, width_px, text_scale)


IMPORTANCE_COLORSCALE = "Purples"  # not the overview's blues, nor the selection's orange
IMPORTANCE_ROW_PX = 16  # the importance map is a strip under the overview: its rows are this high (at text_scale 1)


def importance_figure(
    importance: np.ndarray,
    *,
    switched_off: Sequence[tuple[int, int]] = (),
    selected: tuple[int, int | None] | None = None,
    unit: str = "",
    width_px: int = OVERVIEW_WIDTH_PX,
    text_scale: float = 1.0,
) -> go.Figure:
    """How much each head matters, (layers, heads), on the overview's grid of tiles (same columns, so a head's
    importance sits under its attention tile, which names the columns), in compact rows; hover gives the value
    with ``unit``; heads in
    ``switched_off`` (layer, head), 0-based, are crossed out; ``selected`` is outlined; clicks as the overview's."""
    layers, heads = importance.shape
    heatmap = go.Heatmap(
        z=mosaic(importance[:, :, None, None].astype(np.float32)),
        x=cell_edges(heads, 1),
        y=cell_edges(layers, 1),
        colorscale=IMPORTANCE_COLORSCALE,
        zmin=0,
        zmax=max(float(np.nanmax(importance)), 1e-12),
        showscale=False,
        hoverinfo="skip",
    )
    traces: list = [heatmap]
    if switched_off:
        off_layers, off_heads = np.array(switched_off).T
        traces.append(
            go.Scatter(
                x=tile_origin(off_heads) + 0.5,
                y=tile_origin(off_layers) + 0.5,
                mode="markers",
                marker=dict(symbol="x-thin", size=round(12 * text_scale), line=dict(width=2, color="#333")),
                hoverinfo="skip",
                showlegend=False,
            )
        )
    row_px = round(IMPORTANCE_ROW_PX * text_scale)
    hover = "layer %{customdata[0]}, head %{customdata[1]}: %{customdata[2]:.3g}" + unit + " — click to select"
    return head_grid_figure(
        traces,
        layers,
        heads,
        selected,
        width_px,
        text_scale,
        row_px=row_px,
        values=importance,
        hover=hover,
        column_labels=False,
    )


def head_grid_figure(
    traces,
    layers: int,
    heads: int,
    selected: tuple[int, int | None] | None,
    width_px: int,
    text_scale: float,
    *,
    row_px: float | None = None,
    values: np.ndarray | None = None,
    hover: str = TILE_HOVER,
    column_labels: bool = True,
) -> go.Figure:
    """A figure of one tile per head, rows = layers, columns = heads (the overview's axes): ``traces`` drawn under
    the tiles' click markers (``tile_markers``, with ``values`` and ``hover``), ``selected`` outlined. Tiles are
    square unless ``row_px`` sets the rows' height; without ``column_labels`` the head numbers on top are left
    out (a figure under the overview, which shows them)."""
    margin = scaled_margin(OVERVIEW_MARGIN, text_scale)
    if not column_labels:
        margin["t"] = round(6 * text_scale)
    plot_width = width_px - margin["l"] - margin["r"]
    px_per_unit = plot_width / np.ptp(axis_range(heads))
    figure = go.Figure([*([traces] if isinstance(traces, go.Heatmap) else traces)])
    marker_px = px_per_unit if row_px is None else min(px_per_unit, row_px)  # one tile's: rows must not overlap
    figure.add_trace(tile_markers(layers, heads, size_px=marker_px, values=values, hover=hover))
    axes = dict(
        tickmode="array", showgrid=False, zeroline=False, ticks="", fixedrange=True, tickangle=0, title_standoff=4
    )
    figure.update_xaxes(
        side="top",
        tickvals=tile_centres(heads),
        ticktext=[str(h + 1) for h in range(heads)],
        title_text="head" if column_labels else None,
        showticklabels=column_labels,
        range=axis_range(heads),
        **axes,
    )
    figure.update_yaxes(
        tickvals=tile_centres(layers),
        ticktext=[str(layer + 1) for layer in range(layers)],
        title_text="layer",
        range=axis_range(layers)[::-1],
        **axes,  # no scaleanchor: the figure fills its column, tiles near square
    )
    plot_height = round(px_per_unit * np.ptp(axis_range(layers)) if row_px is None else row_px * layers)
    figure.update_layout(
        **base_layout(text_scale),
        width=width_px,
        height=plot_height + margin["t"] + margin["b"],
        margin=margin,
        template=None,  # plotly's default template is 6.5 KB per figure, and Streamlit's theme replaces it
        hovermode="closest",
        hoverdistance=-1,  # every point of the plot is over some tile
        dragmode=False,
        modebar=dict(orientation="v"),  # in the right margin, clear of the head labels
        shapes=[selection_outline(selected, heads)] if selected is not None else [],
    )
    return figure


PAIR_ROW_PX = 30  # the pair summary: one word a row, on each side
PAIR_EDGE_MASS = 0.8  # each word of B draws its strongest edges covering this share of its row


def pair_summary_figure(
    from_words: Sequence[str],
    to_words: Sequence[str],
    weights: np.ndarray,
    *,
    width_px: int = 640,
    text_scale: float = 1.0,
) -> go.Figure:
    """How each word of one sentence reads the words of another, as one bipartite graph: ``from_words`` on the left,
    ``to_words`` on the right, both in sentence order, an edge from i to j for each row's strongest weights
    (``weights`` (from, to), rows summing to 1) covering PAIR_EDGE_MASS of the row; width and opacity grow with
    the weight, hover gives it."""
    rows, columns = len(from_words), len(to_words)
    if weights.shape != (rows, columns):
        raise ValueError(f"weights {weights.shape} do not match {rows} × {columns} words")
    left_y, right_y = (np.linspace(1, 0, count) if count > 1 else np.array([0.5]) for count in (rows, columns))
    largest = float(weights.max()) if weights.size else 1.0
    r, g, b = GRAPH_BLUE_RGB
    traces: list = []
    for i, j in zip(*np.nonzero(mass_mask(weights, PAIR_EDGE_MASS))):
        share = float(weights[i, j]) / largest
        traces.append(
            go.Scatter(
                x=[0, 1],
                y=[left_y[i], right_y[j]],
                mode="lines",
                line=dict(width=0.5 + 7 * share, color=f"rgba({r}, {g}, {b}, {0.2 + 0.8 * share:.3f})"),
                hoverinfo="skip",
                showlegend=False,
            )
        )
        traces.append(  # the edge's hover, at its middle
            go.Scatter(
                x=[0.5],
                y=[(left_y[i] + right_y[j]) / 2],
                mode="markers",
                marker=dict(size=8, color="rgba(0, 0, 0, 0)"),
                hovertemplate=f"{plain(from_words[i])} → {plain(to_words[j])}: {weights[i, j]:.3f}<extra></extra>",
                showlegend=False,
            )
        )
    for x, y, words, side in ((0, left_y, from_words, "left"), (1, right_y, to_words, "right")):
        traces.append(
            go.Scatter(
                x=[x] * len(words),
                y=y,
                mode="markers+text",
                text=[plain(word) for word in words],
                textposition=f"middle {side}",  # outside the links
                marker=dict(size=round(9 * text_scale), color=INK),
                hoverinfo="skip",
                showlegend=False,
            )
        )
    figure = go.Figure(traces)
    axis = dict(visible=False, fixedrange=True)
    figure.update_xaxes(range=[-0.45, 1.45], **axis)
    figure.update_yaxes(range=[-0.06, 1.06], **axis)
    figure.update_layout(
        **base_layout(text_scale),
        width=width_px,
        height=round(max(rows, columns, 4) * PAIR_ROW_PX * text_scale) + 40,
        margin=dict(l=10, r=10, t=10, b=10),
        template=None,
        hovermode="closest",
        dragmode=False,
    )
    return figure
