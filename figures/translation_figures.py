"""Plotly figures of the small translator: cross-attention as a bipartite word graph (the alignment), the training
curve with its attention snapshots, and every head's alignment error.

Labels are user text: every one goes through ``figures.theme.plain``, so it shows literally and is never markup.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np
import plotly.graph_objects as go

from figures.theme import GRAPH_BLUE_RGB, GRID, INK, PRIMARY, plain, themed

SOURCE_Y, TARGET_Y = 1.0, 0.0  # the Japanese words on top, the English words below
MAX_EDGE_PX = 12.0
GOLD = "#2b8a3e"  # gold alignment links: green, apart from the blue of attention


def _spread(count: int, width: int) -> np.ndarray:
    """x positions of ``count`` words centred in a row of ``width`` slots."""
    return np.arange(count) + (width - count) / 2


def alignment_figure(
    source: Sequence[str],
    target: Sequence[str],
    attention: np.ndarray,
    *,
    sure: Collection[tuple[int, int]] = (),
    possible: Collection[tuple[int, int]] = (),
    min_weight: float = 0.05,
    title: str = "",
    text_scale: float = 1.0,
) -> go.Figure:
    """Cross-attention (target words × source words, each row sums to 1) as a bipartite graph: source words on top,
    target words below, one edge per (target j, source i) of weight ≥ ``min_weight``, its width and opacity the
    weight. Gold links (``sure``, ``possible``: (target, source) pairs) are drawn over the edges, thin and green, solid
    for sure and dotted for possible. Hover gives both words and the exact weight."""
    t, s = attention.shape
    if (t, s) != (len(target), len(source)):
        raise ValueError(f"attention {attention.shape} does not match {len(target)} × {len(source)} words")
    width = max(s, t)
    source_x, target_x = _spread(s, width), _spread(t, width)
    figure = go.Figure()
    red, green, blue = GRAPH_BLUE_RGB
    for j, i in zip(*np.nonzero(attention >= min_weight)):
        weight = float(attention[j, i])
        figure.add_trace(
            go.Scatter(
                x=[target_x[j], source_x[i]],
                y=[TARGET_Y, SOURCE_Y],
                mode="lines",
                showlegend=False,
                line=dict(
                    color=f"rgba({red},{green},{blue},{0.25 + 0.75 * weight:.2f})", width=1 + MAX_EDGE_PX * weight
                ),
                hovertemplate=f"{plain(target[j])} → {plain(source[i])}: {weight:.3f}<extra></extra>",
            )
        )
    for links, dash in ((possible, "dot"), (sure, "solid")):
        for j, i in links:
            if (j, i) in sure and dash == "dot":
                continue  # a sure link is drawn once, solid
            figure.add_trace(
                go.Scatter(
                    x=[target_x[j], source_x[i]],
                    y=[TARGET_Y, SOURCE_Y],
                    mode="lines",
                    line=dict(color=GOLD, width=2.5, dash=dash),
                    hoverinfo="skip",
                    showlegend=False,
                )
            )
    for x, y, words, position in (
        (source_x, SOURCE_Y, source, "top center"),
        (target_x, TARGET_Y, target, "bottom center"),
    ):
        figure.add_trace(
            go.Scatter(
                x=x,
                y=[y] * len(words),
                mode="markers+text",
                text=[plain(word) for word in words],
                textposition=position,
                textfont=dict(size=20 * text_scale, color=INK),
                showlegend=False,
                marker=dict(size=12 * text_scale, color=PRIMARY if y == SOURCE_Y else INK),
                hoverinfo="skip",
            )
        )
    figure.update_xaxes(visible=False, range=[-0.6, width - 0.4])
    figure.update_yaxes(visible=False, range=[-0.45, 1.45])
    figure.update_layout(title=dict(text=plain(title), x=0, xanchor="left"), dragmode=False, template=None)
    return themed(figure, 300, text_scale, margin=dict(l=10, r=10, t=36 if title else 10, b=10))


def training_figure(
    steps: Sequence[int],
    losses: Sequence[float],
    *,
    snapshot_steps: Sequence[int] = (),
    alignment_errors: Sequence[float] = (),
    current: int | None = None,
    total_steps: int | None = None,
    text_scale: float = 1.0,
) -> go.Figure:
    """The training loss (cross-entropy per target word, nats) against the step, and, on a second axis, the best
    head's alignment error rate at each attention snapshot; ``current`` (a step) marked by a vertical line. With
    ``total_steps`` the x axis spans the whole run, so that a live curve grows into a fixed frame."""
    figure = go.Figure(
        go.Scatter(
            x=list(steps),
            y=list(losses),
            mode="lines",
            name="loss (nats per word)",
            line=dict(color=INK, width=2),
            hovertemplate="step %{x}: loss %{y:.3f}<extra></extra>",
        )
    )
    if len(alignment_errors):
        figure.add_trace(
            go.Scatter(
                x=list(snapshot_steps),
                y=list(alignment_errors),
                mode="lines+markers",
                name="alignment error (AER)",
                yaxis="y2",
                line=dict(color=GOLD, width=2, dash="dot"),
                marker=dict(size=7),
                hovertemplate="step %{x}: AER %{y:.2f}<extra></extra>",
            )
        )
    if current is not None:
        figure.add_vline(x=current, line=dict(color=PRIMARY, width=2))
    figure.update_xaxes(
        title_text="training step",
        showgrid=True,
        gridcolor=GRID,
        zeroline=False,
        range=None if total_steps is None else [0, total_steps],
    )
    figure.update_yaxes(title_text="loss", type="log", showgrid=True, gridcolor=GRID)
    figure.update_layout(
        yaxis2=dict(title_text="AER", overlaying="y", side="right", range=[0, 1.02], showgrid=False, dtick=0.25),
        legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0),
        hovermode="closest",
        template=None,
    )
    return themed(figure, 280, text_scale, margin=dict(l=10, r=10, t=36, b=10))


def head_errors_figure(
    errors: np.ndarray, *, best: tuple[int, int] | None = None, kind: str = "decoder", text_scale: float = 1.0
) -> go.Figure:
    """Every cross-attention head's alignment error rate (layers × heads, 0 = the gold alignment, 1 = none of it)
    as a grid with its values written in, 110 px a head wide; ``best`` (layer, head), 0-based, outlined."""
    layers, heads = errors.shape
    figure = go.Figure(
        go.Heatmap(
            z=errors,
            x=[f"head {h + 1}" for h in range(heads)],
            y=[f"{kind} layer {layer + 1}" for layer in range(layers)],
            zmin=0,
            zmax=1,
            colorscale="Greens",
            reversescale=True,
            showscale=False,
            text=[[f"{value:.2f}" for value in row] for row in errors],
            texttemplate="%{text}",
            textfont=dict(size=16 * text_scale),
            hovertemplate="%{y}, %{x}: AER %{z:.3f}<extra></extra>",
        )
    )
    if best is not None:
        layer, head = best
        figure.add_shape(
            type="rect", x0=head - 0.5, x1=head + 0.5, y0=layer - 0.5, y1=layer + 0.5, line=dict(color=PRIMARY, width=3)
        )
    figure.update_yaxes(autorange="reversed")
    figure.update_layout(template=None, dragmode=False, width=round((150 + 110 * heads) * text_scale))
    return themed(figure, 60 + 56 * layers, text_scale)
