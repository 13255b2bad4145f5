"""Plotly figures of attention: one head as a heatmap, every layer × head as a clickable grid of tiles.

Labels are user text. Plotly renders tick labels, hover labels and titles with a subset of HTML (``<b>``, ``<br>``,
``<a href>``…) and decodes entities, so every piece of user text goes through ``plain`` (``&``, ``<``, ``>`` as
entities): it shows literally and can never be read as markup.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

COLORSCALE = "Blues"
ACCENT = "#f76707"  # selection outline: orange stands out on the blue scale
FONT = dict(family='system-ui, "Helvetica Neue", Arial, sans-serif', size=14, color="#212529")
UPRIGHT_TICK_CHARS = 40  # heatmap: up to this many characters in all, the column labels fit side by side
TILE_GAP = 0.08  # overview: gap between tiles, as a share of a tile's side
OVERVIEW_WIDTH_PX = 1000
OVERVIEW_MARGIN = dict(l=44, r=8, t=30, b=8)
IMAGE_FORMATS = ("png", "svg")


def plain(text: str) -> str:
    """``text`` escaped for plotly's HTML-like labels, so that it shows literally (``<b>`` stays "<b>")."""
    return html.escape(str(text), quote=False)


def heatmap_figure(
    attention: np.ndarray, from_labels: Sequence[str], to_labels: Sequence[str], *, title: str = ""
) -> go.Figure:
    """One head's attention (n × m) as a heatmap: rows = from (queries) top to bottom in sentence order, columns =
    to (keys); square cells; hover gives both tokens, their indices and the exact weight."""
    n, m = attention.shape
    if (n, m) != (len(from_labels), len(to_labels)):
        raise ValueError(f"attention {attention.shape} does not match {len(from_labels)} × {len(to_labels)} labels")
    sources, targets = [plain(label) for label in from_labels], [plain(label) for label in to_labels]
    hover = [[f"from {sources[i]} ({i}) → to {targets[j]} ({j})" for j in range(m)] for i in range(n)]  # (n, m)
    heatmap = go.Heatmap(
        z=attention,
        x=np.arange(m),
        y=np.arange(n),
        text=hover,
        hovertemplate="%{text}: %{z:.3f}<extra></extra>",
        colorscale=COLORSCALE,
        zmin=0.0,
        colorbar=dict(  # under the matrix, so that a narrow column gives its width to the cells
            orientation="h", y=-0.03, yanchor="top", len=0.8, thickness=12, outlinewidth=0,
            title=dict(text="attention weight", side="top"),
        ),
    )
    figure = go.Figure(heatmap)
    figure.update_layout(
        title=dict(text=plain(title), x=0.0, xanchor="left", yref="container", y=0.98, automargin=True),
        font=FONT,
        height=min(900, 420 + 10 * max(n, m)),
        margin=dict(l=10, r=10, t=10, b=10),
        plot_bgcolor="#ffffff",
        paper_bgcolor="#ffffff",
    )
    axes = dict(tickmode="array", showgrid=False, zeroline=False, constrain="domain")
    figure.update_xaxes(
        title_text="to (keys)", side="top", tickvals=list(range(m)), ticktext=targets,
        tickangle=0 if sum(map(len, to_labels)) <= UPRIGHT_TICK_CHARS else -60, tickfont_size=tick_font_px(m), **axes,
    )
    figure.update_yaxes(  # squeezed towards the colour bar when the figure is taller than wide
        title_text="from (queries)", tickvals=list(range(n)), ticktext=sources, tickfont_size=tick_font_px(n),
        autorange="reversed", scaleanchor="x", constraintoward="bottom", **axes,
    )
    return figure


def tick_font_px(count: int) -> int:
    """Tick label size for ``count`` labels along a heatmap axis: smaller as they get more, 9 to 14 px."""
    return max(9, min(14, 360 // max(count, 1)))


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


def tile_origin(index: int | np.ndarray) -> float | np.ndarray:
    """Overview: left (or top) edge of tile ``index``, in axis units (a tile is 1 × 1, tiles TILE_GAP apart)."""
    return index * (1 + TILE_GAP)


def tile_centres(count: int) -> list[float]:
    """Overview: centres of ``count`` tiles along an axis (where the tick labels go)."""
    return [tile_origin(index) + 0.5 for index in range(count)]


def axis_range(count: int) -> list[float]:
    """Overview: axis range around ``count`` tiles, with a gap's width of margin on both sides."""
    return [-TILE_GAP, tile_origin(count)]


def mosaic(tiles: np.ndarray) -> np.ndarray:
    """Tiles (layers, heads, t, t) in one array (layers·(t+1) − 1, heads·(t+1) − 1), a NaN row or column between
    neighbouring tiles."""
    layers, heads, t, _ = tiles.shape
    padded = np.pad(tiles, ((0, 0), (0, 0), (0, 1), (0, 1)), constant_values=np.nan)  # (layers, heads, t+1, t+1)
    return padded.transpose(0, 2, 1, 3).reshape(layers * (t + 1), heads * (t + 1))[:-1, :-1]


def cell_edges(count: int, t: int) -> np.ndarray:
    """Edges of the mosaic's cells along an axis of ``count`` tiles of t cells: each tile spans 1 unit, each gap
    cell TILE_GAP."""
    edges = [tile_origin(index) + np.arange(t + 1) / t for index in range(count)]  # each (t+1,)
    return np.concatenate(edges)  # (count·(t+1),) = cells + 1; a tile's last edge starts the gap after it


def tile_from_point_index(point_index: int, heads: int) -> tuple[int, int]:
    """(layer, head), 0-based, of the overview tile whose marker has this point index (markers go row by row)."""
    return divmod(int(point_index), heads)


def tile_markers(layers: int, heads: int, size_px: float) -> go.Scatter:
    """One nearly invisible square marker per tile, layer by layer, so that a click or hover anywhere picks a tile
    (point index = layer · heads + head; customdata = [layer, head], 1-based)."""
    layer, head = np.divmod(np.arange(layers * heads), heads)  # (layers·heads,) each
    return go.Scatter(
        x=tile_origin(head) + 0.5,
        y=tile_origin(layer) + 0.5,
        customdata=np.stack([layer + 1, head + 1], axis=1),
        mode="markers",
        marker=dict(symbol="square", size=size_px, color="rgba(0, 0, 0, 0.01)"),
        selected=dict(marker=dict(opacity=0.01)),
        unselected=dict(marker=dict(opacity=0.01)),
        hovertemplate="layer %{customdata[0]}, head %{customdata[1]} — click to select<extra></extra>",
        showlegend=False,
    )


def selection_outline(selected: tuple[int, int | None], heads: int) -> dict:
    """Rectangle around the selected tile, or around the whole layer's row when head is None (mean of heads)."""
    layer, head = selected
    first, last = (0, heads - 1) if head is None else (head, head)
    margin = TILE_GAP / 2
    return dict(
        type="rect", xref="x", yref="y", line=dict(color=ACCENT, width=3),
        x0=tile_origin(first) - margin, x1=tile_origin(last) + 1 + margin,
        y0=tile_origin(layer) - margin, y1=tile_origin(layer) + 1 + margin,
    )


def overview_figure(
    attention: np.ndarray,
    *,
    selected: tuple[int, int | None] | None = None,
    max_tile: int = 24,
    width_px: int = OVERVIEW_WIDTH_PX,
) -> go.Figure:
    """All heads of ``attention`` (layers, heads, n, n) as one grid of small heatmaps: rows = layers (layer 1 on
    top), columns = heads, each tile shaded relative to its own maximum; ``selected`` (layer, head), 0-based, is
    outlined (head None outlines the layer). Clicks come back as point indices: see ``tile_from_point_index``."""
    layers, heads = attention.shape[:2]
    tiles = overview_tiles(attention, max_tile)  # (layers, heads, t, t)
    t = tiles.shape[-1]
    plot_width = width_px - OVERVIEW_MARGIN["l"] - OVERVIEW_MARGIN["r"]
    px_per_unit = plot_width / np.ptp(axis_range(heads))
    heatmap = go.Heatmap(
        z=mosaic(tiles), x=cell_edges(heads, t), y=cell_edges(layers, t),
        colorscale=COLORSCALE, zmin=0.0, zmax=1.0, showscale=False, hoverinfo="skip",
    )
    figure = go.Figure([heatmap, tile_markers(layers, heads, size_px=px_per_unit)])
    axes = dict(tickmode="array", showgrid=False, zeroline=False, ticks="", fixedrange=True)
    figure.update_xaxes(
        side="top", tickvals=tile_centres(heads), ticktext=[f"H{h + 1}" for h in range(heads)],
        range=axis_range(heads), **axes,
    )
    figure.update_yaxes(
        tickvals=tile_centres(layers), ticktext=[f"L{layer + 1}" for layer in range(layers)],
        range=axis_range(layers)[::-1], scaleanchor="x", **axes,
    )
    figure.update_layout(
        font=FONT,
        width=width_px,
        height=round(px_per_unit * np.ptp(axis_range(layers))) + OVERVIEW_MARGIN["t"] + OVERVIEW_MARGIN["b"],
        margin=OVERVIEW_MARGIN,
        plot_bgcolor="#ffffff",
        paper_bgcolor="#ffffff",
        hovermode="closest",
        hoverdistance=-1,  # every point of the plot is over some tile
        dragmode=False,
        shapes=[selection_outline(selected, heads)] if selected is not None else [],
    )
    return figure


def figure_config(image_format: str = "png", filename: str = "attention") -> dict:
    """Plotly config for ``st.plotly_chart``: the modebar (shown on hover) has a camera button that downloads ``filename`` as PNG (3× scale)
    or SVG; no plotly logo, no box/lasso selection, no scroll zoom."""
    if image_format not in IMAGE_FORMATS:
        raise ValueError(f"image format {image_format!r}; expected one of {IMAGE_FORMATS}")
    return {
        "displaylogo": False,
        "scrollZoom": False,
        "toImageButtonOptions": {
            "format": image_format, "filename": filename, "scale": 3 if image_format == "png" else 1,
        },
        "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d", "toggleSpikelines"],
    }
