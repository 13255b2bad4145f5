"""Plotly figures of the "Transformer = GNN" page: the soft-vs-hard sweep, per-head statistics as small multiples,
integrated gradients beside rollout, the map of all heads, RNN memory against attention, and parameter counts. Pure
functions of numbers and labels; user text goes through ``plain``. Every builder takes ``text_scale`` (presentation
mode: 1.25): its fonts, and the room they need, grow by it.

A decoder's head statistics (``causal``) name the roles as they are: its leading sink is the first token (Xiao et
al. 2023), not [CLS]; "to next token" is 0 by construction (a token never reads a later one) and is left out, and so
is "to other special tokens" when no head attends to any (a typed text has none).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.analysis.head_map import BEHAVIOURS
from core.analysis.head_stats import HEAD_PATTERNS, HeadStatistics
from core.analysis.rnn_memory import surviving_share
from core.transformer.model_size import ParameterCount
from figures.theme import GRID, SELECTION, plain, themed

FAMILY_COLORS = {"top-k": "#1c7ed6", "threshold": "#f76707", "same LSH bucket": "#2f9e44"}
FAMILY_SYMBOLS = {"top-k": "circle", "threshold": "diamond", "same LSH bucket": "square"}
STATISTICS = {  # field of HeadStatistics → panel title
    "entropy": "entropy (nats)",
    "to_cls": "to [CLS]",
    "to_sep": "to [SEP]",
    "to_punctuation": "to punctuation (. ,)",
    "to_previous": "to previous token",
    "to_next": "to next token",
    "to_self": "to itself",
}
CAUSAL_STATISTICS = {**STATISTICS, "to_cls": "to first token (sink)", "to_sep": "to other special tokens"}
CAUSAL_ZERO = "to_next"  # A[i, i+1] = 0 in every causal head
PATTERN_LETTERS = {"special-token": "S", "positional": "P", "broad": "B", "heterogeneous": "·"}
PATTERN_TITLES = {  # causal → the pattern panel's title
    False: "pattern (S special · P positional · B broad)",
    True: "pattern (S sink · P positional · B broad)",
}
TITLED_MARGIN = dict(l=10, r=10, t=40, b=10)  # room above the plot for a title or a legend
ATTRIBUTION_COLORS = {True: "#1c7ed6", False: "#e03131"}  # integrated gradients ≥ 0, < 0
ROLLOUT_COLOR = "#868e96"
BEHAVIOUR_COLORS = dict(
    zip(BEHAVIOURS, ("#1c7ed6", "#7048e8", "#adb5bd", "#f59f00", "#2f9e44", "#e64980", "#212529"), strict=True)
)
CLUSTER_SYMBOLS = ("circle", "diamond", "square", "triangle-up", "cross", "star", "x", "hexagon")
PART_COLORS = {"embeddings": "#74c0fc", "attention": "#1c7ed6", "feed-forward": "#f76707", "pooler": "#adb5bd"}


def sweep_figure(
    families: Sequence[str],
    shares: Sequence[float],
    similarities: Sequence[float],
    rule_names: Sequence[str],
    *,
    causal: bool = False,
    text_scale: float = 1.0,
) -> go.Figure:
    """Mean cosine similarity of the top-layer states (hard vs soft) against the share of edges kept; one marker
    series per rule family, in order of share kept. ``causal``: shares of a decoder's n(n + 1)/2 edges per head."""
    if not len(families) == len(shares) == len(similarities) == len(rule_names):
        raise ValueError("families, shares, similarities and rule names must have the same length")
    figure = go.Figure()
    for family in dict.fromkeys(families):
        rows = sorted((s, c, plain(r)) for f, s, c, r in zip(families, shares, similarities, rule_names) if f == family)
        figure.add_trace(
            go.Scatter(
                x=[100 * s for s, _, _ in rows],
                y=[c for _, c, _ in rows],
                text=[r for _, _, r in rows],
                mode="lines+markers",
                name=plain(family),
                marker=dict(size=10, symbol=FAMILY_SYMBOLS.get(family, "circle"), color=FAMILY_COLORS.get(family)),
                line=dict(width=1, dash="dot", color=FAMILY_COLORS.get(family)),
                hovertemplate="%{text}<br>%{x:.1f} % of edges kept<br>mean cosine %{y:.4f}<extra></extra>",
            )
        )
    figure.update_xaxes(
        title_text=f"edges kept (% of all layers × heads × {'n(n + 1)/2' if causal else 'n²'})",
        range=[0, 102],
        showgrid=True,
        gridcolor=GRID,
        zeroline=False,
    )
    figure.update_yaxes(
        title_text="mean cosine similarity to the soft network", showgrid=True, gridcolor=GRID, zeroline=False
    )
    figure.update_layout(legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0, title_text="rule: "))
    return themed(figure, 420, text_scale, margin=TITLED_MARGIN)


def statistic_titles(statistics: HeadStatistics, causal: bool) -> dict[str, str]:
    """The panels drawn, field of HeadStatistics → title: all seven for an encoder; a decoder's without those that
    are 0 by construction (``CAUSAL_ZERO``; ``to_sep`` when it has no other special token)."""
    if not causal:
        return STATISTICS
    dropped = {CAUSAL_ZERO} | ({"to_sep"} if not np.any(statistics.to_sep) else set())
    return {name: title for name, title in CAUSAL_STATISTICS.items() if name not in dropped}


def head_statistics_figure(
    statistics: HeadStatistics,
    patterns: np.ndarray,
    columns: int = 4,
    *,
    causal: bool = False,
    text_scale: float = 1.0,
) -> go.Figure:
    """Small multiples, layers × heads each: the statistics (``statistic_titles``; shares on one 0–1 scale, entropy
    on its own) and a last panel with each head's pattern letter; hover names the head, the value and its pattern.
    ``causal``: a decoder's heads."""
    layers, heads = patterns.shape
    panels = statistic_titles(statistics, causal)
    names = list(panels) + ["pattern"]
    rows = -(-len(names) // columns)
    titles = [panels.get(name, PATTERN_TITLES[causal]) for name in names]
    figure = make_subplots(
        rows=rows, cols=columns, subplot_titles=titles, horizontal_spacing=0.04, vertical_spacing=0.12
    )
    layer_labels = [f"L{layer + 1}" for layer in range(layers)]
    head_labels = [f"H{h + 1}" for h in range(heads)]
    hover_names = [
        [f"layer {layer + 1}, head {h + 1} · {patterns[layer, h]}" for h in range(heads)] for layer in range(layers)
    ]
    for index, name in enumerate(names):
        row, col = divmod(index, columns)
        if name == "pattern":
            codes = np.vectorize(HEAD_PATTERNS.index)(patterns).astype(float)
            letters = np.vectorize(PATTERN_LETTERS.get)(patterns)
            trace = go.Heatmap(
                z=codes,
                x=head_labels,
                y=layer_labels,
                text=letters,
                customdata=hover_names,
                texttemplate="%{text}",
                zmin=0,
                zmax=len(HEAD_PATTERNS) - 1,
                showscale=False,
                colorscale=[[0, "#ffc9c9"], [1 / 3, "#a5d8ff"], [2 / 3, "#b2f2bb"], [1, "#f1f3f5"]],
                hovertemplate="%{customdata}<extra></extra>",
                xgap=1,
                ygap=1,
            )
        else:
            values = getattr(statistics, name)
            shared = name != "entropy"
            trace = go.Heatmap(
                z=values,
                x=head_labels,
                y=layer_labels,
                customdata=hover_names,
                colorscale="Blues" if shared else "Purples",
                zmin=0,
                zmax=1 if shared else None,
                showscale=index in (0, 1),
                xgap=1,
                ygap=1,
                colorbar=dict(
                    len=0.36,
                    thickness=10,
                    outlinewidth=0,
                    x=1.01,
                    y=0.78 if shared else 0.22,
                    title=dict(text="share" if shared else "entropy<br>(nats)", side="top"),
                ),
                hovertemplate="%{customdata}<br>" + panels[name] + ": %{z:.3f}<extra></extra>",
            )
        figure.add_trace(trace, row=row + 1, col=col + 1)
    figure.update_yaxes(autorange="reversed", tickfont_size=round(11 * text_scale))
    figure.update_xaxes(tickfont_size=round(11 * text_scale), tickangle=0, dtick=2)
    figure.update_annotations(font_size=round(13 * text_scale))
    return themed(figure, 260 * rows + 60, text_scale, margin=TITLED_MARGIN)


def attribution_figure(
    words: Sequence[str], attributions: np.ndarray, shares: np.ndarray, *, text_scale: float = 1.0
) -> go.Figure:
    """Two panels sharing the words (rows, in sentence order from the top): each word's integrated gradient as a
    signed bar (blue ≥ 0, red < 0), and the pooled output's rollout share of it; attributions and shares (words,)."""
    if not len(words) == len(attributions) == len(shares):
        raise ValueError("words, attributions and rollout shares must have the same length")
    rows = np.arange(len(words))  # positions, not the words: a repeated word keeps a row of its own
    labels = [plain(word) for word in words]
    figure = make_subplots(
        rows=1,
        cols=2,
        shared_yaxes=True,
        horizontal_spacing=0.05,
        subplot_titles=("integrated gradients", "rollout share (Σ = 1)"),
    )
    figure.add_trace(
        go.Bar(
            x=attributions,
            y=rows,
            orientation="h",
            customdata=labels,
            marker_color=[ATTRIBUTION_COLORS[bool(value >= 0)] for value in attributions],
            hovertemplate="%{customdata}: %{x:+.4f}<extra>integrated gradients</extra>",
        ),
        row=1,
        col=1,
    )
    figure.add_trace(
        go.Bar(
            x=shares,
            y=rows,
            orientation="h",
            customdata=labels,
            marker_color=ROLLOUT_COLOR,
            hovertemplate="%{customdata}: %{x:.3f}<extra>rollout share</extra>",
        ),
        row=1,
        col=2,
    )
    figure.update_yaxes(
        tickvals=rows, ticktext=labels, autorange="reversed", tickfont_size=round(12 * text_scale), row=1, col=1
    )
    figure.update_xaxes(showgrid=True, gridcolor=GRID, zeroline=True, zerolinecolor="#868e96")
    figure.update_annotations(font_size=round(13 * text_scale))
    figure.update_layout(showlegend=False, bargap=0.25)
    return themed(figure, 70 + 20 * max(len(words), 6), text_scale, margin=TITLED_MARGIN)


def head_map_figure(
    points: np.ndarray,
    behaviours: np.ndarray,
    clusters: np.ndarray,
    selected: tuple[int, int] | None = None,
    *,
    text_scale: float = 1.0,
) -> go.Figure:
    """The heads as points (H, 2) (``head_layout``), heads numbered h = layer · heads + head: coloured by their
    behaviour (layers, heads), one legend entry each, and shaped by their cluster (H,) ids, a legend entry each too.
    Each point's customdata is [layer, head], 1-based, for a click; ``selected`` (layer, head), 1-based, is ringed."""
    layers, heads = behaviours.shape
    if not len(points) == len(clusters) == layers * heads:
        raise ValueError(f"{len(points)} points and {len(clusters)} cluster ids for {layers} × {heads} heads")
    layer_of, head_of = np.divmod(np.arange(layers * heads), heads)
    flat = behaviours.ravel()
    symbol_of = {c: CLUSTER_SYMBOLS[c % len(CLUSTER_SYMBOLS)] for c in sorted(set(clusters.tolist()))}
    figure = go.Figure()
    for behaviour in (b for b in BEHAVIOURS if b in flat):
        members = np.flatnonzero(flat == behaviour)
        figure.add_trace(
            go.Scatter(
                x=points[members, 0],
                y=points[members, 1],
                mode="markers",
                name=behaviour,
                legendgroup="behaviour",
                legendgrouptitle_text="behaviour",
                customdata=[[layer_of[h] + 1, head_of[h] + 1] for h in members],  # lists: a click reads them back
                text=[f"L{layer_of[h] + 1} H{head_of[h] + 1}: {behaviour}, cluster {clusters[h] + 1}" for h in members],
                marker=dict(
                    size=round(12 * text_scale),
                    color=BEHAVIOUR_COLORS[behaviour],
                    symbol=[symbol_of[c] for c in clusters[members].tolist()],
                    line=dict(width=1, color="#ffffff"),
                ),
                hovertemplate="%{text}<extra></extra>",
            )
        )
    for cluster in symbol_of:  # legend entries only: the clusters' symbols
        figure.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="markers",
                name=f"cluster {cluster + 1} ({int(np.sum(clusters == cluster))})",
                legendgroup="cluster",
                legendgrouptitle_text="cluster (heads)",
                marker=dict(size=round(11 * text_scale), color="#868e96", symbol=symbol_of[cluster]),
                hoverinfo="skip",
            )
        )
    if selected is not None:
        h = (selected[0] - 1) * heads + selected[1] - 1
        figure.add_annotation(
            x=points[h, 0],
            y=points[h, 1],
            text=f"<b>L{selected[0]} H{selected[1]}</b>",
            showarrow=True,
            arrowhead=0,
            arrowcolor=SELECTION,
            ax=30,
            ay=-30,
            bgcolor="#ffffff",
            bordercolor=SELECTION,
        )
    figure.update_xaxes(showticklabels=False, showgrid=True, gridcolor=GRID, zeroline=False)
    figure.update_yaxes(showticklabels=False, showgrid=True, gridcolor=GRID, zeroline=False, scaleanchor="x")
    figure.update_layout(legend=dict(groupclick="toggleitem", tracegroupgap=12), clickmode="event+select")
    return themed(figure, 520, text_scale)


def rnn_memory_figure(keep_rate: float, max_steps: int, *, text_scale: float = 1.0) -> go.Figure:
    """The first word's share after n steps: rⁿ for an RNN against r (one step) for attention, log scale."""
    steps = np.arange(1, max_steps + 1)
    rnn = surviving_share(keep_rate, steps.astype(float))  # (max_steps,)
    figure = go.Figure(
        [
            go.Scatter(
                x=steps,
                y=rnn,
                mode="lines+markers",
                name=f"RNN: {keep_rate:g}ⁿ",
                line=dict(color="#f76707"),
                hovertemplate="n = %{x}: %{y:.3g}<extra>RNN</extra>",
            ),
            go.Scatter(
                x=steps,
                y=np.full(len(steps), keep_rate),
                mode="lines",
                name=f"attention: {keep_rate:g}¹ (one step)",
                line=dict(color="#1c7ed6", dash="dash"),
                hovertemplate="n = %{x}: %{y:.3g}<extra>attention</extra>",
            ),
        ]
    )
    if max_steps >= 10 and keep_rate > 0:
        tenth = surviving_share(keep_rate, 10)
        figure.add_annotation(
            x=10, y=np.log10(tenth), text=f"{keep_rate:g}¹⁰ ≈ {tenth:.3g}", showarrow=True, arrowhead=2, ax=40, ay=-40
        )
    figure.update_xaxes(title_text="n: words between the first word and the current one", showgrid=True, gridcolor=GRID)
    figure.update_yaxes(
        title_text="share of the first word left",
        type="log" if keep_rate > 0 else "linear",
        showgrid=True,
        gridcolor=GRID,
        exponentformat="power",
    )
    figure.update_layout(legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0))
    return themed(figure, 380, text_scale, margin=TITLED_MARGIN)


def model_size_figure(counts: Mapping[str, ParameterCount], *, text_scale: float = 1.0) -> go.Figure:
    """Stacked horizontal bars of parameters (millions) by part, one bar per model, its total at the end."""
    names = [plain(name) for name in counts]
    parts = {"embeddings": "embeddings", "attention": "attention", "feed-forward": "feed_forward", "pooler": "pooler"}
    figure = go.Figure()
    for label, field in parts.items():
        values = [getattr(count, field) / 1e6 for count in counts.values()]
        figure.add_trace(
            go.Bar(
                y=names,
                x=values,
                name=label,
                orientation="h",
                marker_color=PART_COLORS[label],
                hovertemplate="%{y}: " + label + " %{x:.2f} M<extra></extra>",
            )
        )
    totals = [count.total / 1e6 for count in counts.values()]
    figure.add_trace(
        go.Scatter(
            y=names,
            x=totals,
            mode="text",
            text=[f"  {t:.1f} M" for t in totals],
            textposition="middle right",
            showlegend=False,
            hoverinfo="skip",
        )
    )
    figure.update_layout(
        barmode="stack", legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0, traceorder="normal")
    )
    figure.update_xaxes(title_text="parameters (millions)", range=[0, max(totals) * 1.3], showgrid=True, gridcolor=GRID)
    figure.update_yaxes(autorange="reversed")
    return themed(figure, 300, text_scale, margin=TITLED_MARGIN)


def similarity_graph_figure(graph, height_px: int = 460, *, text_scale: float = 1.0) -> go.Figure:
    """An undirected word graph (nodes with ``label``, edges with ``weight`` = cosine similarity) drawn on a circle
    in node order, each word in a box: edge width and opacity grow with the weight; hover an edge's midpoint for its
    exact value."""
    nodes = list(graph.nodes)
    angles = np.pi / 2 - 2 * np.pi * np.arange(len(nodes)) / max(len(nodes), 1)
    position = {node: (np.cos(a), np.sin(a)) for node, a in zip(nodes, angles)}
    label = {node: plain(graph.nodes[node].get("label", node)) for node in nodes}
    figure = go.Figure()
    mid_x, mid_y, mid_text = [], [], []
    for u, v, weight in graph.edges(data="weight"):
        (x0, y0), (x1, y1) = position[u], position[v]
        color = f"rgba(247, 103, 7, {0.2 + 0.8 * weight:.3f})"
        figure.add_trace(
            go.Scatter(
                x=[x0, x1],
                y=[y0, y1],
                mode="lines",
                hoverinfo="skip",
                showlegend=False,
                line=dict(width=0.5 + 7 * weight, color=color),
            )
        )
        mid_x.append((x0 + x1) / 2)
        mid_y.append((y0 + y1) / 2)
        mid_text.append(f"{label[u]} — {label[v]}: cos = {weight:.3f}")
    figure.add_trace(
        go.Scatter(
            x=mid_x,
            y=mid_y,
            text=mid_text,
            mode="markers",
            showlegend=False,
            marker=dict(size=8, color="rgba(0,0,0,0)"),
            hovertemplate="%{text}<extra></extra>",
        )
    )
    figure.add_trace(
        go.Scatter(  # under each word's label: what its hover reads
            x=[position[node][0] for node in nodes],
            y=[position[node][1] for node in nodes],
            text=[label[node] for node in nodes],
            mode="markers",
            showlegend=False,
            marker=dict(size=round(20 * text_scale), color="rgba(0,0,0,0)"),
            hovertemplate="%{text}<extra></extra>",
        )
    )
    for node in nodes:  # each word in a box as large as the word
        figure.add_annotation(
            x=position[node][0],
            y=position[node][1],
            text=label[node],
            showarrow=False,
            bgcolor="#e7f5ff",
            bordercolor="#1c7ed6",
            borderwidth=1,
            borderpad=3,
        )
    figure.update_xaxes(visible=False, range=[-1.35, 1.35])
    figure.update_yaxes(visible=False, range=[-1.2, 1.2], scaleanchor="x")
    return themed(figure, height_px, text_scale)
