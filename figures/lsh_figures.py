"""Plotly figures of Reformer's LSH attention: buckets per round, the sorted and chunked sequence (the paper's Fig. 2),
bucket sizes, LSH minus full attention, quality sweeps, the 2-D toy of the hash, and the benchmark's time and memory.

Pure builders: arrays in, ``go.Figure`` out. User text (token labels) goes through ``plain`` as everywhere in figures/.
Every builder takes ``text_scale`` (presentation mode: 1.25): its fonts, and the room they need, grow by that factor.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.lsh.inspection import Arc, QualityPoint
from figures.attention_figures import GLYPH_WIDTH, fit_heatmap, heatmap_figure
from figures.theme import GRAPH_BLUE, GRID, WHITE, plain, themed

# One colour per bucket id (Vega's tableau20, dark and light shades apart, so that the first buckets differ most).
BUCKET_COLORS = (
    "#4c78a8",
    "#f58518",
    "#54a24b",
    "#e45756",
    "#72b7b2",
    "#eeca3b",
    "#b279a2",
    "#ff9da6",
    "#9d755d",
    "#bab0ac",
    "#9ecae9",
    "#ffbf79",
    "#88d27a",
    "#ff9d98",
    "#d6a5c9",
    "#bcbddc",
)
FULL_COLOR = "#495057"  # full attention in the scaling plots
MARK_COLOR = "#f76707"  # crossovers, the followed token, budgets
TEXT_IN_CELLS_MAX = 48  # token strips: beyond this many tokens the cells are too narrow for labels (hover instead)
STRIP_WIDTH_PX = 1050  # token strips are drawn across the page: the width their cell labels are sized for
FOCUS_WIDTH_PX = 560  # the focus bars fill 3/5 of the page: the width their key labels are thinned for
FOCUS_COLOR = "#000000"  # the outline of the followed token: black shows on every bucket colour
MiB = 2**20


def bucket_color(bucket: int) -> str:
    """The colour of a bucket id (the palette repeats beyond 16 buckets)."""
    return BUCKET_COLORS[int(bucket) % len(BUCKET_COLORS)]


def bucket_colorscale(total_buckets: int) -> list[list]:
    """A stepwise colorscale that gives every integer z in [0, total_buckets) its bucket colour exactly
    (with zmin = −0.5, zmax = total_buckets − 0.5)."""
    scale = []
    for bucket in range(total_buckets):
        color = bucket_color(bucket)
        scale += [[bucket / total_buckets, color], [(bucket + 1) / total_buckets, color]]
    return scale


def cell_font_px(labels: Sequence[str], width_px: float = STRIP_WIDTH_PX, text_scale: float = 1.0) -> int:
    """Font size at which the longest label fits a cell of a strip of len(labels) cells, 9 to 17 px (× text_scale
    where the cell has the room)."""
    longest = max((len(label) for label in labels), default=1)
    fits = width_px / max(len(labels), 1) / (GLYPH_WIDTH * max(longest, 3) + 1)
    return int(max(9, min(17 * text_scale, fits)))


def _token_strip(
    z: np.ndarray, text: np.ndarray, hover: np.ndarray, total_buckets: int, font_px: int, gap_px: int
) -> go.Heatmap:
    """Rows of cells coloured by bucket (z), labelled with tokens (text) when they fit."""
    rows, columns = z.shape
    return go.Heatmap(
        z=z,
        x=np.arange(columns),
        y=np.arange(rows),
        text=text,
        customdata=hover,
        texttemplate="%{text}" if columns <= TEXT_IN_CELLS_MAX else None,
        textfont=dict(size=font_px),
        hovertemplate="%{customdata}<extra></extra>",
        colorscale=bucket_colorscale(total_buckets),
        zmin=-0.5,
        zmax=total_buckets - 0.5,
        showscale=False,
        xgap=3,
        ygap=gap_px,
    )


def _strip_axes(figure: go.Figure, rounds: int, columns: int, x_title: str, text_scale: float) -> None:
    figure.update_xaxes(
        title_text=x_title,
        range=[-0.5, columns - 0.5],
        showgrid=False,
        zeroline=False,
        tickmode="array",
        tickvals=list(range(columns)) if columns <= TEXT_IN_CELLS_MAX else None,
        tickfont_size=round(11 * text_scale),
        fixedrange=True,
    )
    figure.update_yaxes(
        range=[rounds - 0.5, -0.5],
        tickmode="array",
        tickvals=list(range(rounds)),
        ticktext=[f"round {r + 1}" for r in range(rounds)],
        showgrid=False,
        zeroline=False,
        fixedrange=True,
    )


def buckets_figure(
    labels: Sequence[str], buckets: np.ndarray, total_buckets: int, *, text_scale: float = 1.0
) -> go.Figure:
    """The tokens in sentence order, one row per hash round, each cell coloured by the token's bucket in that round.

    buckets (rounds, L). Hover: token, position, round, bucket."""
    rounds, length = buckets.shape
    if len(labels) != length:
        raise ValueError(f"buckets {buckets.shape} do not match {len(labels)} labels")
    names = [plain(label) for label in labels]
    text = np.array([names] * rounds, dtype=object)
    hover = np.array(
        [[f"{names[i]} ({i}) — round {r + 1}, bucket {buckets[r, i]}" for i in range(length)] for r in range(rounds)],
        dtype=object,
    )
    figure = go.Figure(
        _token_strip(
            buckets,
            text,
            hover,
            total_buckets,
            cell_font_px(labels, text_scale=text_scale),
            gap_px=round(12 * text_scale),
        )
    )
    _strip_axes(figure, rounds, length, "position in the sentence", text_scale)
    figure.add_annotation(
        text=bucket_legend(total_buckets),
        x=0,
        xref="paper",
        xanchor="left",
        y=1,
        yref="paper",
        yanchor="bottom",
        showarrow=False,
        font=dict(size=round(13 * text_scale), color="#495057"),
    )
    return themed(figure, 100 + 62 * rounds, text_scale, margin=dict(l=10, r=10, t=34, b=10))


def bucket_legend(total_buckets: int) -> str:
    """ "colour = bucket: ■ 0 ■ 1 …" as plotly rich text, each square in its bucket's colour."""
    squares = "  ".join(f'<span style="color:{bucket_color(b)}">■</span> {b}' for b in range(total_buckets))
    return f"colour = bucket:  {squares}"


ROW_PX = 92  # sorted view: one round's row, the gap above it (for the chunk numbers) included (at text_scale 1)
ROW_GAP_PX = 30
CHUNK_LABEL_PX = 12
VEIL = "rgba(255, 255, 255, 0.8)"


def chunk_starts(chunks: np.ndarray) -> list[tuple[int, int, int]]:
    """(round, slot, chunk) of every slot that begins a chunk, from the chunk ids of the sorted slots (rounds, L)."""
    flat = chunks.reshape(-1)
    starts = np.flatnonzero(np.diff(flat, prepend=-1))
    length = chunks.shape[1]
    return [(int(g // length), int(g % length), int(flat[g])) for g in starts]


def sorted_chunks_figure(
    labels: Sequence[str],
    order: np.ndarray,
    buckets: np.ndarray,
    chunks: np.ndarray,
    *,
    window: np.ndarray | None = None,
    focus: int | None = None,
    text_scale: float = 1.0,
) -> go.Figure:
    """The paper's Fig. 2: every round's tokens sorted by (bucket, position), then cut into chunks — a thick line
    before every chunk and its number above ("chunk 3", or "3" where a chunk is too narrow for that, or none where
    even the number does not fit). The rounds run on from one row to the next as one sequence.

    order, chunks (rounds, L): the token and the chunk of each sorted slot; buckets (rounds, L) in token order.
    ``window`` (rounds, L), bool: the slots that token ``focus`` sees; the others are greyed and ``focus``'s own
    cells outlined."""
    rounds, length = order.shape
    total_buckets = int(buckets.max()) + 1
    names = [plain(label) for label in labels]
    sorted_buckets = np.take_along_axis(buckets, order, axis=1)  # (rounds, L)
    text = np.array([[names[t] for t in row] for row in order], dtype=object)
    hover = np.array(
        [
            [
                f"{names[t]} ({t}) — round {r + 1}, bucket {sorted_buckets[r, s]}, chunk {chunks[r, s]}"
                + ("" if window is None else " — in the window" if window[r, s] else " — not seen")
                for s, t in enumerate(row)
            ]
            for r, row in enumerate(order)
        ],
        dtype=object,
    )
    gap_px = round(ROW_GAP_PX * text_scale)
    figure = go.Figure(
        _token_strip(
            sorted_buckets,
            text,
            hover,
            max(total_buckets, 1),
            cell_font_px(labels, text_scale=text_scale),
            gap_px=gap_px,
        )
    )
    half = 0.5 - ROW_GAP_PX / 2 / ROW_PX  # a cell's half height, in rows
    if window is not None:  # a veil over the slots the followed token does not see
        figure.add_trace(
            go.Heatmap(
                z=np.where(window, np.nan, 1.0),
                x=np.arange(length),
                y=np.arange(rounds),
                xgap=3,
                ygap=gap_px,
                colorscale=[[0, VEIL], [1, VEIL]],
                showscale=False,
                hoverinfo="skip",
            )
        )
    starts = chunk_starts(chunks)
    xs, ys = [], []
    for r, s, _ in starts:
        if s > 0 or r == 0:  # a chunk that runs on from the previous row has its line there
            xs += [s - 0.5, s - 0.5, None]
            ys += [r - 0.5, r + half, None]
    figure.add_trace(
        go.Scatter(
            x=xs,
            y=ys,
            mode="lines",
            line=dict(color="#343a40", width=4),
            hoverinfo="skip",
            showlegend=False,
            name="chunk boundaries",
        )
    )
    label_px = round(CHUNK_LABEL_PX * text_scale)
    chunk_px = STRIP_WIDTH_PX * rounds / len(starts)  # a chunk's mean width
    label = next(
        (
            form
            for form in (" chunk {}", " {}")
            if len(form.format(starts[-1][2])) * GLYPH_WIDTH * label_px <= chunk_px - 4
        ),
        None,
    )
    annotations = (
        [
            dict(
                x=s - 0.5,
                y=r - 0.5,
                text=label.format(chunk),
                showarrow=False,
                xanchor="left",
                yanchor="top",
                font=dict(size=label_px, color="#343a40"),
            )
            for r, s, chunk in starts
        ]
        if label
        else []
    )
    shapes = (
        [
            dict(
                type="rect",
                x0=s - 0.45,
                x1=s + 0.45,
                y0=r - half + 0.02,
                y1=r + half - 0.02,
                line=dict(color=FOCUS_COLOR, width=4),
            )
            for r, s in zip(*np.nonzero(order == focus))
        ]
        if focus is not None
        else []
    )
    figure.update_layout(shapes=shapes, annotations=annotations)
    _strip_axes(figure, rounds, length, "slot in the sorted sequence (the rounds run on, row after row)", text_scale)
    figure.update_xaxes(showticklabels=False)
    return themed(figure, 50 + ROW_PX * rounds, text_scale)


def bucket_sizes_figure(sizes: np.ndarray, chunk_length: int, *, text_scale: float = 1.0) -> go.Figure:
    """Tokens per bucket (sizes (rounds, buckets)), bars grouped by bucket, one hatching per round; a dashed line at
    the chunk length m: a bucket larger than m spills into the next chunk."""
    rounds, total = sizes.shape
    patterns = ["", "/", ".", "x", "\\", "+", "-", "|"]
    figure = go.Figure(
        [
            go.Bar(
                x=[f"bucket {b}" for b in range(total)],
                y=sizes[r],
                name=f"round {r + 1}",
                marker=dict(
                    color=[bucket_color(b) for b in range(total)],
                    line=dict(color="#495057", width=1),
                    pattern=dict(shape=patterns[r % len(patterns)], fgcolor="#212529", solidity=0.25),
                ),
                hovertemplate=f"round {r + 1}, %{{x}}: %{{y}} tokens<extra></extra>",
            )
            for r in range(rounds)
        ]
    )
    figure.add_hline(
        y=chunk_length,
        line=dict(color="#212529", dash="dash", width=1.5),
        annotation=dict(
            text=f"chunk length m = {chunk_length}",
            xanchor="left",
            x=0,
            yanchor="bottom",
            font_size=round(12 * text_scale),
            bgcolor="rgba(255, 255, 255, 0.85)",
        ),
    )
    figure.update_layout(
        barmode="group", bargap=0.25, legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0), showlegend=rounds > 1
    )
    figure.update_yaxes(title_text="tokens", gridcolor=GRID, rangemode="tozero", dtick=max(1, int(sizes.max()) // 6))
    figure.update_xaxes(fixedrange=True)
    return themed(figure, 320, text_scale)


def difference_figure(
    full: np.ndarray, lsh: np.ndarray, labels: Sequence[str], *, text_scale: float = 1.0
) -> go.Figure:
    """LSH minus full attention (n × n) on a diverging scale: red where LSH drops weight (keys outside the windows),
    blue where it gains (the kept keys share out the dropped mass). Sized and labelled as the attention heatmaps
    (``attention_pair_figures``); hover gives both weights."""
    n = full.shape[0]
    if full.shape != (n, n) or lsh.shape != (n, n) or len(labels) != n:
        raise ValueError(f"matrices {full.shape}, {lsh.shape} do not match {len(labels)} labels")
    difference = lsh - full
    limit = float(np.abs(difference).max()) or 1.0
    figure = heatmap_figure(difference, labels, labels, text_scale=text_scale)
    figure.update_traces(
        colorscale="RdBu",
        zmid=0.0,
        zmin=-limit,
        zmax=limit,
        customdata=np.stack([full, lsh], axis=-1).astype(np.float32),  # (n, n, 2): both weights of each cell
        hovertemplate="from %{y} → to %{x}: full %{customdata[0]:.3f}, LSH %{customdata[1]:.3f}; "
        "difference %{z:+.3f}<extra></extra>",
        colorbar_title_text="LSH − full (attention weight)",
    )
    return fit_heatmap(figure)


# --- quality ---------------------------------------------------------------------------------------------------

QUALITY_PANELS = (
    ("mass_kept", "attention mass kept (%)"),
    ("recall", "top-{k} recall (%)"),
    ("keys_share", "keys computed (% of L − 1)"),
)
LINE_SHADES = ("#a5d8ff", "#4dabf7", "#1c7ed6", "#1864ab", "#0b3d73", "#051f3e")


def quality_figure(
    points: Sequence[QualityPoint],
    k: int,
    *,
    highlight: tuple[int, int] | None = None,
    highlight_name: str = "current setting",
    text_scale: float = 1.0,
) -> go.Figure:
    """Three panels against the number of hash rounds, one line per bucket count: the share of full attention's mass
    that LSH keeps, the top-k recall, and the share of keys it computes (its cost; also the mass that as many random
    keys would keep — the dashed grey line in the first panel). ``highlight`` (n_buckets, n_hashes) is ringed."""
    titles = [title.format(k=k) for _, title in QUALITY_PANELS]
    figure = make_subplots(rows=1, cols=3, subplot_titles=titles, horizontal_spacing=0.06)
    bucket_counts = sorted({p.n_buckets for p in points})
    rounds = sorted({p.n_hashes for p in points})
    for index, buckets in enumerate(bucket_counts):
        line = sorted((p for p in points if p.n_buckets == buckets), key=lambda p: p.n_hashes)
        color = LINE_SHADES[
            min(index, len(LINE_SHADES) - 1)
            if len(bucket_counts) <= len(LINE_SHADES)
            else index * len(LINE_SHADES) // len(bucket_counts)
        ]
        for column, (field, _) in enumerate(QUALITY_PANELS, start=1):
            figure.add_trace(
                go.Scatter(
                    x=[p.n_hashes for p in line],
                    y=[100 * getattr(p, field) for p in line],
                    mode="lines+markers",
                    name=f"{buckets} buckets",
                    legendgroup=str(buckets),
                    showlegend=column == 1,
                    line=dict(color=color, width=2.5),
                    marker=dict(size=8),
                    hovertemplate=f"{buckets} buckets, %{{x}} rounds: %{{y:.1f}} %<extra></extra>",
                ),
                row=1,
                col=column,
            )
    if rounds:
        random_line = [100 * float(np.mean([p.keys_share for p in points if p.n_hashes == r])) for r in rounds]
        figure.add_trace(
            go.Scatter(
                x=rounds,
                y=random_line,
                mode="lines",
                name="random keys, as many",
                line=dict(color="#868e96", dash="dash", width=2),
                hovertemplate="as many random keys would keep %{y:.1f} % on average<extra></extra>",
            ),
            row=1,
            col=1,
        )
    if highlight is not None:
        chosen = next((p for p in points if (p.n_buckets, p.n_hashes) == tuple(highlight)), None)
        if chosen is not None:
            for column, (field, _) in enumerate(QUALITY_PANELS, start=1):
                figure.add_trace(
                    go.Scatter(
                        x=[chosen.n_hashes],
                        y=[100 * getattr(chosen, field)],
                        mode="markers",
                        name=highlight_name,
                        showlegend=column == 1,
                        legendgroup="current",
                        marker=dict(size=18, color="rgba(0, 0, 0, 0)", line=dict(color=MARK_COLOR, width=3)),
                        hoverinfo="skip",
                    ),
                    row=1,
                    col=column,
                )
    figure.update_xaxes(
        type="log",
        tickvals=rounds,
        ticktext=[str(r) for r in rounds],
        title_text="hash rounds",
        gridcolor=GRID,
        fixedrange=True,
    )
    figure.update_yaxes(range=[0, 104], gridcolor=GRID, ticksuffix=" %", fixedrange=True)
    figure.update_layout(legend=dict(orientation="v", x=1.01, xanchor="left", y=1, yanchor="top"), hovermode="closest")
    figure.update_annotations(font_size=round(15 * text_scale))
    return themed(figure, 360, text_scale, margin=dict(l=10, r=10, t=40, b=10))


# --- the 2-D toy ---------------------------------------------------------------------------------------------------

SECTOR_RADIUS = 1.22
ARROW_RADIUS = 1.0


def _wedge(start: float, end: float, radius: float) -> tuple[list[float], list[float]]:
    """A closed polygon from the origin along the arc [start, end] (radians) of ``radius``."""
    angles = np.linspace(start, end, max(2, int(math.degrees(end - start) / 2) + 2))
    return [0.0, *(radius * np.cos(angles)).tolist(), 0.0], [0.0, *(radius * np.sin(angles)).tolist(), 0.0]


def toy_figure(
    points: np.ndarray,
    buckets: np.ndarray,
    sectors: Sequence[Sequence[Arc]],
    directions: np.ndarray,
    *,
    text_scale: float = 1.0,
) -> go.Figure:
    """The hash in 2-D, one panel per round: the unit circle cut into sectors, one per bucket; the bucket directions
    (columns of R and −R, to scale, the longest reaching the circle); the points coloured by the bucket they land in.

    points (n, 2) unit vectors; buckets (rounds, n); sectors: toy_sectors; directions (rounds, n_buckets, 2)."""
    rounds = buckets.shape[0]
    figure = make_subplots(
        rows=1, cols=rounds, subplot_titles=[f"round {r + 1}" for r in range(rounds)], horizontal_spacing=0.03
    )
    figure.update_annotations(font_size=round(14 * text_scale))  # the panel titles, before the bucket numbers
    circle = np.linspace(0, 2 * np.pi, 181)
    for r in range(rounds):
        col = r + 1
        for bucket, start, end in sectors[r]:
            xs, ys = _wedge(start, end, SECTOR_RADIUS)
            figure.add_trace(
                go.Scatter(
                    x=xs,
                    y=ys,
                    fill="toself",
                    mode="lines",
                    line=dict(width=0),
                    fillcolor=bucket_color(bucket),
                    opacity=0.22,
                    hoverinfo="skip",
                    showlegend=False,
                ),
                row=1,
                col=col,
            )
        figure.add_trace(
            go.Scatter(
                x=np.cos(circle),
                y=np.sin(circle),
                mode="lines",
                hoverinfo="skip",
                line=dict(color="#adb5bd", width=1.5),
                showlegend=False,
            ),
            row=1,
            col=col,
        )
        lengths = np.linalg.norm(directions[r], axis=-1)
        scale = ARROW_RADIUS / max(float(lengths.max()), 1e-12)
        for bucket, (dx, dy) in enumerate(directions[r]):
            tip = (dx * scale, dy * scale)
            figure.add_trace(
                go.Scatter(
                    x=[0, tip[0]],
                    y=[0, tip[1]],
                    mode="lines+markers",
                    showlegend=False,
                    line=dict(
                        color=bucket_color(bucket), width=3, dash="solid" if bucket < len(directions[r]) // 2 else "dot"
                    ),
                    marker=dict(size=[0, 11], symbol="arrow", angleref="previous", color=bucket_color(bucket)),
                    hovertemplate=f"bucket {bucket}: direction ({dx:.2f}, {dy:.2f}), length {lengths[bucket]:.2f}"
                    "<extra></extra>",
                ),
                row=1,
                col=col,
            )
            label = 1.12 * np.array([dx, dy]) / max(lengths[bucket], 1e-12)
            figure.add_annotation(
                x=label[0],
                y=label[1],
                text=f"<b>{bucket}</b>",
                showarrow=False,
                font=dict(color=bucket_color(bucket), size=round(15 * text_scale)),
                row=1,
                col=col,
            )
        figure.add_trace(
            go.Scatter(
                x=points[:, 0],
                y=points[:, 1],
                mode="markers",
                showlegend=False,
                marker=dict(
                    size=13, color=[bucket_color(b) for b in buckets[r]], line=dict(color="#212529", width=1.5)
                ),
                customdata=buckets[r],
                hovertemplate="point %{pointNumber}: bucket %{customdata}<extra></extra>",
            ),
            row=1,
            col=col,
        )
    limit = SECTOR_RADIUS + 0.05
    figure.update_xaxes(range=[-limit, limit], visible=False, fixedrange=True)
    for r in range(rounds):
        figure.update_yaxes(
            range=[-limit, limit],
            visible=False,
            fixedrange=True,
            scaleanchor=f"x{r + 1 if r else ''}",
            row=1,
            col=r + 1,
        )
    return themed(figure, 380 if rounds > 1 else 460, text_scale, margin=dict(l=5, r=5, t=30, b=5))


def collision_figure(
    angles_deg: np.ndarray, one_round: np.ndarray, any_round: np.ndarray | None, rounds: int, *, text_scale: float = 1.0
) -> go.Figure:
    """Probability that two points at an angle share a bucket: in one round, and in at least one of ``rounds``."""
    figure = go.Figure(
        go.Scatter(
            x=angles_deg,
            y=100 * one_round,
            mode="lines",
            name="one round",
            line=dict(color=GRAPH_BLUE, width=3),
            hovertemplate="%{x:.0f}°: %{y:.0f} %<extra>one round</extra>",
        )
    )
    if any_round is not None and rounds > 1:
        figure.add_trace(
            go.Scatter(
                x=angles_deg,
                y=100 * any_round,
                mode="lines",
                name=f"any of {rounds} rounds",
                line=dict(color=MARK_COLOR, width=3, dash="dash"),
                hovertemplate=f"%{{x:.0f}}°: %{{y:.0f}} %<extra>any of {rounds}</extra>",
            )
        )
    figure.update_xaxes(
        title_text="angle between the two points",
        ticksuffix="°",
        range=[0, 180],
        dtick=30,
        gridcolor=GRID,
        fixedrange=True,
    )
    figure.update_yaxes(title_text="same bucket", ticksuffix=" %", range=[0, 102], gridcolor=GRID, fixedrange=True)
    figure.update_layout(legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0))
    return themed(figure, 300, text_scale)


# --- scaling ---------------------------------------------------------------------------------------------------


def length_text(length: float) -> str:
    """512, 2K, 16K, 512K, 1M: a power-of-two length as a tick label."""
    if length >= 2**20:
        return f"{length / 2**20:g}M"
    return f"{length / 2**10:g}K" if length >= 2**10 else f"{length:g}"


def _log_axes(figure: go.Figure, lengths: Sequence[float], y_ticks: Sequence[tuple[float, str]], y_title: str) -> None:
    """Log-log axes: lengths as 512, 2K…, y at the given (value, label) ticks; the legend under the plot."""
    figure.update_xaxes(
        type="log",
        title_text="sequence length L (tokens)",
        gridcolor=GRID,
        tickmode="array",
        tickvals=list(lengths),
        ticktext=[length_text(v) for v in lengths],
    )
    figure.update_yaxes(
        type="log",
        title_text=y_title,
        gridcolor=GRID,
        tickmode="array",
        tickvals=[v for v, _ in y_ticks],
        ticktext=[t for _, t in y_ticks],
    )
    figure.update_layout(legend=dict(orientation="h", y=-0.2, yanchor="top", x=0), hovermode="x unified")


TIME_TICKS = ((0.1, "0.1 ms"), (1, "1 ms"), (10, "10 ms"), (100, "100 ms"), (1000, "1 s"), (10_000, "10 s"))
MEMORY_TICKS = (
    (1, "1 MiB"),
    (16, "16 MiB"),
    (256, "256 MiB"),
    (4096, "4 GiB"),
    (65_536, "64 GiB"),
    (1_048_576, "1 TiB"),
    (16_777_216, "16 TiB"),
)


def _table_trace(
    rows: Sequence[dict], field: str, name: str, color: str, hover: str, *, formula: bool = False
) -> go.Scatter:
    """One column of the benchmark table against L: a solid line with markers where measured, dashed for a formula."""
    return go.Scatter(
        x=[row["length"] for row in rows],
        y=[row[field] for row in rows],
        mode="lines" if formula else "lines+markers",
        name=name,
        hovertemplate=hover,
        line=dict(color=color, width=2 if formula else 3, dash="dash" if formula else None),
        marker=dict(size=8),
    )


def _add_live_traces(figure: go.Figure, live: Sequence[dict], unit: str) -> None:
    """The ``live`` rows (this machine, now) of full and LSH attention's ``full_<unit>`` and ``lsh_<unit>`` as open
    markers; a kind without a measurement adds nothing."""
    for kind, name, color, symbol in (
        ("full", "full, measured now", FULL_COLOR, "circle-open"),
        ("lsh", "LSH, measured now", GRAPH_BLUE, "diamond-open"),
    ):
        field = f"{kind}_{unit}"
        measured = [row for row in live if row.get(field) is not None]
        if measured:
            figure.add_trace(
                go.Scatter(
                    x=[row["length"] for row in measured],
                    y=[row[field] for row in measured],
                    mode="markers",
                    name=name,
                    marker=dict(symbol=symbol, size=13, color=color, line=dict(width=2.5)),
                )
            )


def scaling_time_figure(
    rows: Sequence[dict], crossover: float | None, live: Sequence[dict] = (), *, text_scale: float = 1.0
) -> go.Figure:
    """Wall time of one head, full vs LSH attention, against L (log-log), from the benchmark table ``rows``; the
    crossover marked; ``live`` rows (this machine, now) as open markers."""
    timed = [row for row in rows if row["full_ms"] is not None and row["lsh_ms"] is not None]
    figure = go.Figure(
        [
            _table_trace(timed, "full_ms", "full attention", FULL_COLOR, "%{y:,.1f} ms"),
            _table_trace(timed, "lsh_ms", "LSH attention", GRAPH_BLUE, "%{y:,.1f} ms"),
        ]
    )
    _add_live_traces(figure, live, "ms")
    if crossover is not None:
        figure.add_vline(x=crossover, line=dict(color=MARK_COLOR, dash="dash", width=2))
        figure.add_annotation(
            x=math.log10(crossover),
            y=1,
            yref="paper",
            yanchor="top",
            xanchor="right",
            text=f"LSH faster beyond ≈ {crossover:,.0f} tokens ",
            showarrow=False,
            font=dict(color=MARK_COLOR, size=round(14 * text_scale)),
        )
    lengths = sorted({r["length"] for r in timed} | {r["length"] for r in live})
    _log_axes(figure, lengths, TIME_TICKS, "time per call")
    figure.update_xaxes(range=[math.log10(lengths[0]) - 0.12, math.log10(lengths[-1]) + 0.12])
    return themed(figure, 440, text_scale)


def scaling_memory_figure(
    rows: Sequence[dict],
    cap_mib: float,
    *,
    budget_mib: float | None = None,
    budget_lengths: tuple[float, float] | None = None,
    live: Sequence[dict] = (),
    text_scale: float = 1.0,
) -> go.Figure:
    """Peak extra memory of one call against L (log-log): full attention measured (solid) and by its formula
    2·L²·4 bytes where it was not run (dashed), LSH measured; the cap as a line; with ``budget_mib``, the lengths
    that fit in it (``budget_lengths`` = (full, LSH)) marked on both curves."""
    measured = [r for r in rows if r["full_mib_measured"]]
    formula = [r for r in rows if not r["full_mib_measured"]]
    if measured and formula:
        formula = [measured[-1], *formula]  # the dashed line continues the solid one
    figure = go.Figure(
        [
            _table_trace(measured, "full_mib", "full attention (measured)", FULL_COLOR, "%{y:,.1f} MiB"),
            _table_trace(
                formula, "full_mib", "full attention (2·L²·4 bytes, not run)", FULL_COLOR, "%{y:,.0f} MiB", formula=True
            ),
            _table_trace(rows, "lsh_mib", "LSH attention (measured)", GRAPH_BLUE, "%{y:,.1f} MiB"),
        ]
    )
    _add_live_traces(figure, live, "mib")
    figure.add_hline(y=cap_mib, line=dict(color="#c92a2a", width=1.5))
    figure.add_annotation(
        x=0,
        xref="paper",
        xanchor="left",
        y=math.log10(cap_mib),
        yanchor="top",
        text=f"benchmark cap {cap_mib / 1024:g} GiB",
        showarrow=False,
        font=dict(color="#c92a2a", size=round(14 * text_scale)),
    )
    if budget_mib is not None and budget_lengths is not None:
        full_len, lsh_len = budget_lengths
        figure.add_shape(
            type="line", x0=full_len, x1=lsh_len, y0=budget_mib, y1=budget_mib, line=dict(color=MARK_COLOR, width=3)
        )
        figure.add_trace(
            go.Scatter(
                x=[full_len, lsh_len],
                y=[budget_mib, budget_mib],
                mode="markers+text",
                name="tokens that fit the budget",
                marker=dict(size=12, color=MARK_COLOR, line=dict(width=1.5, color=WHITE)),
                text=[f"{full_len:,.0f} tokens", f"{lsh_len:,.0f} tokens"],
                textposition=["top left", "top left"],
                textfont=dict(color=MARK_COLOR, size=round(14 * text_scale)),
                hovertemplate="%{x:,.0f} tokens fit<extra></extra>",
            )
        )
    lengths = [r["length"] for r in rows]
    _log_axes(figure, lengths[::2] if len(lengths) > 8 else lengths, MEMORY_TICKS, "peak extra memory")
    top = max(max(r["full_mib"] for r in rows), budget_mib or 0)
    figure.update_yaxes(range=[math.log10(min(r["lsh_mib"] for r in rows)) - 0.3, math.log10(top) + 0.3])
    widest = max(lengths[-1], budget_lengths[1] if budget_lengths else 0)
    figure.update_xaxes(range=[math.log10(lengths[0]) - 0.15, math.log10(widest) + 0.25])
    return themed(figure, 440, text_scale)


def attention_pair_figures(
    full: np.ndarray, lsh: np.ndarray, labels: Sequence[str], *, text_scale: float = 1.0
) -> tuple[go.Figure, go.Figure]:
    """Full and LSH attention as two heatmaps (figures.attention_figures.heatmap_figure, fitted to the page by
    ``fit_heatmap``) on one colour scale."""
    top = float(max(full.max(), lsh.max()))
    figures = (
        fit_heatmap(heatmap_figure(full, labels, labels, text_scale=text_scale)),
        fit_heatmap(heatmap_figure(lsh, labels, labels, text_scale=text_scale)),
    )
    for figure in figures:
        figure.update_traces(zmin=0.0, zmax=top)
    return figures


def focus_figure(
    labels: Sequence[str], full_row: np.ndarray, lsh_row: np.ndarray, focus: int, *, text_scale: float = 1.0
) -> go.Figure:
    """What one token attends to, key by key: full shared-QK attention (grey) beside LSH attention (blue). Every
    key is labelled while the labels fit side by side, every second, third… key beyond (hover names them all)."""
    names = [plain(label) for label in labels]
    tick_px = round(max(9, min(14, 480 // max(len(labels), 1))) * text_scale)
    step = math.ceil(1.3 * tick_px / (FOCUS_WIDTH_PX / max(len(labels), 1)))  # labels a line apart, at least
    x = np.arange(len(labels))  # positions: a token can occur twice
    hover = [f"{name} ({j})" for j, name in enumerate(names)]
    figure = go.Figure(
        [
            go.Bar(
                x=x,
                y=full_row,
                name="full attention",
                marker_color="#adb5bd",
                customdata=hover,
                hovertemplate="%{customdata} — full: %{y:.3f}<extra></extra>",
            ),
            go.Bar(
                x=x,
                y=lsh_row,
                name="LSH attention",
                marker_color=GRAPH_BLUE,
                customdata=hover,
                hovertemplate="%{customdata} — LSH: %{y:.3f}<extra></extra>",
            ),
        ]
    )
    figure.update_layout(
        barmode="group",
        bargap=0.25,
        bargroupgap=0.05,
        hovermode="closest",
        legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0),
    )
    figure.update_xaxes(
        tickmode="array",
        tickvals=list(x[::step]),
        ticktext=names[::step],
        fixedrange=True,
        tickfont_size=tick_px,
        tickangle=0 if sum(map(len, labels)) <= 40 else -50,
    )
    figure.update_yaxes(title_text=f"weight from “{names[focus]}”", gridcolor=GRID, rangemode="tozero", fixedrange=True)
    return themed(figure, 320, text_scale)
