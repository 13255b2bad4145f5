"""Figures and words for the congestion models' results: the live loss curves, the table of scores with its plain
reading, and a what-if's change per station, truth against predictions.

Models and evaluations come as keys ("gcn_skip", "held-out days"); their names and descriptions are core's
(``core.railway.congestion_models.MODELS``, ``core.railway.training.EVALUATIONS``), their colours are here.

Station and line names may come from an uploaded CSV: plotly text goes through ``plain`` (HTML entities) and
Markdown text through ``md_plain`` (Markdown's punctuation backslash-escaped), so neither can become markup.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.railway.congestion_models import DEFAULT_LAYERS, MODELS
from core.railway.simulator import CongestionSimulator
from core.railway.training import EVALUATIONS, TRAINED_FOR
from figures.theme import plain, themed

MINUS = "\u2212"  # a true minus sign: "−0.98" reads as negative where "-0.98" can pass for a dash
MODEL_COLOURS = {"gcn": "#1c7ed6", "gcn_skip": "#f76707", "mlp": "#868e96"}  # model kind → its curves' and bars'
OTHER_COLOUR = "#495057"  # a model without a colour of its own
MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=&])")


def md_plain(text: str) -> str:
    """``text`` for st.markdown, shown literally: Markdown punctuation backslash-escaped, line breaks as spaces."""
    return MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def _evaluation_title(evaluation: str) -> str:
    """An evaluation's short name as a title, broken after its colon ("control:<br>own boardings")."""
    return EVALUATIONS[evaluation].name.replace(": ", ":<br>")


def loss_figure(
    history: Mapping[tuple[str, str], Sequence[tuple[int, float, float]]], epochs: int, *, text_scale: float = 1.0
) -> go.Figure:
    """Loss curves, one panel per evaluation the models train for: (model kind, evaluation) → [(epoch, train loss,
    test loss)].

    Test loss solid, training loss dotted, log scale; losses are mean squared errors of crowding / 100. The models'
    legend sits in the top margin, above the panels' titles.
    """
    figure = make_subplots(
        rows=1,
        cols=len(TRAINED_FOR),
        shared_yaxes=True,
        horizontal_spacing=0.05,
        subplot_titles=[_evaluation_title(e) for e in TRAINED_FOR],
    )
    for (kind, evaluation), points in history.items():
        if evaluation not in TRAINED_FOR or not points:
            continue
        column = TRAINED_FOR.index(evaluation) + 1
        epoch, train, test = (list(values) for values in zip(*points, strict=True))
        colour, name = MODEL_COLOURS.get(kind, OTHER_COLOUR), plain(MODELS[kind].name)
        first = evaluation == TRAINED_FOR[0]
        figure.add_trace(
            go.Scatter(
                x=epoch,
                y=test,
                mode="lines",
                name=name,
                legendgroup=kind,
                showlegend=first,
                line=dict(color=colour, width=3),
                hovertemplate=f"{name}, test: %{{y:.4f}} at epoch %{{x}}<extra></extra>",
            ),
            row=1,
            col=column,
        )
        figure.add_trace(
            go.Scatter(
                x=epoch,
                y=train,
                mode="lines",
                name=f"{name} (train)",
                legendgroup=kind,
                showlegend=False,
                line=dict(color=colour, width=2, dash="dot"),
                hovertemplate=f"{name}, train: %{{y:.4f}} at epoch %{{x}}<extra></extra>",
            ),
            row=1,
            col=column,
        )
    figure.update_xaxes(
        range=[0, epochs],
        title_text="epoch",
        showgrid=True,
        gridcolor="#f1f3f5",
        tick0=epochs,
        dtick=max(1, epochs // 4),
    )
    figure.update_yaxes(type="log", dtick=1, showgrid=True, gridcolor="#f1f3f5")
    figure.update_yaxes(title_text="loss: test (solid),<br>train (dotted)", row=1, col=1)
    figure.update_annotations(font_size=15 * text_scale)  # the panels' titles, one or two lines
    return themed(
        figure,
        360,
        text_scale,
        margin=dict(l=10, r=10, t=84, b=10),
        hoverlabel=dict(font_size=15 * text_scale),
        legend=dict(orientation="h", x=0.0, xanchor="left", y=1.0, yanchor="top", yref="container"),
    )


def _r2_text(value: float) -> str:
    """An R² with two decimals and a true minus sign."""
    return f"{value:.2f}".replace("-", MINUS)


def _cell(value: tuple[float, float] | None) -> str:
    """The text of a results cell: R² and MAE, or "n/a"."""
    if value is None:
        return "n/a"
    r2, mae = value
    return f"<b>R² {_r2_text(r2)}</b><br>MAE {mae:.0f} pp"


def results_figure(
    scores: Mapping[tuple[str, str], tuple[float, float]],
    evaluations: Sequence[str],
    *,
    closed_link: str = "",
    text_scale: float = 1.0,
) -> go.Figure:
    """The scores as a grid: rows = ``evaluations``, columns = every model of MODELS; text = R² and MAE in crowding
    percentage points, colour = R² from 0 (white, also for every R² below 0) to 1; a model that cannot answer an
    evaluation reads "n/a". The long names run down the side, where they have room; the short ones across the top."""
    kinds = list(MODELS)
    r2 = np.array([[scores[k, e][0] if (k, e) in scores else np.nan for k in kinds] for e in evaluations])
    text = [[_cell(scores.get((k, e))) for k in kinds] for e in evaluations]
    rows = [
        _evaluation_title(e) + (f":<br>{plain(closed_link)}" if e == "topology change" and closed_link else "")
        for e in evaluations
    ]
    hover = [[f"{MODELS[k].name} · {EVALUATIONS[e].question}" for k in kinds] for e in evaluations]
    heatmap = go.Heatmap(
        z=np.clip(r2, 0.0, 1.0),
        x=[MODELS[k].name for k in kinds],
        y=rows,
        text=text,
        customdata=hover,
        texttemplate="%{text}",
        textfont=dict(size=16 * text_scale),
        colorscale="Blues",
        zmin=0.0,
        zmax=1.15,
        showscale=False,
        hovertemplate="%{customdata}<extra></extra>",
        xgap=3,
        ygap=3,
    )
    figure = go.Figure(heatmap)
    figure.update_xaxes(side="top", tickfont=dict(size=15 * text_scale), tickangle=0, fixedrange=True)
    figure.update_yaxes(autorange="reversed", tickfont=dict(size=15 * text_scale), fixedrange=True)
    return themed(
        figure,
        340,
        text_scale,
        margin=dict(l=10, r=10, t=30, b=10),
        plot_bgcolor="#f8f9fa",
        hoverlabel=dict(font_size=15 * text_scale),
    )


def _fmt(value: float) -> str:
    """An R² for a sentence; a negative one says what it means."""
    return _r2_text(value) if value >= 0 else f"{_r2_text(value)}, worse than always guessing the average"


def _compare(a: float, b: float, margin: float = 0.05) -> str:
    """How R² a compares with R² b, in words."""
    if a >= b + margin:
        return "beats"
    if b >= a + margin:
        return "trails"
    return "does as well as"


def results_reading(scores: Mapping[tuple[str, str], tuple[float, float]], *, closed_link: str = "") -> list[str]:
    """Plain-language sentences (Markdown) that read the table, one per evaluation present, with its numbers."""

    def r2(kind: str, evaluation: str) -> float:
        return scores[kind, evaluation][0]

    gcn, skip, mlp, ridge = (MODELS[kind].name for kind in ("gcn", "gcn_skip", "mlp", "ridge"))
    sentences = []
    if ("gcn_skip", "held-out days") in scores:
        best = max(MODELS, key=lambda kind: r2(kind, "held-out days"))
        sentence = (
            f"**New days:** the {skip} reaches R² {_fmt(r2('gcn_skip', 'held-out days'))} and the graph-blind "
            f"{mlp} {_fmt(r2('mlp', 'held-out days'))}: a station's crowding depends on the trips that pass through "
            f"it, which the {mlp}, seeing one station at a time, cannot know."
        )
        if best == "ridge":
            handling = 100 * CongestionSimulator().handling_spread
            sentence += (
                f" The {ridge} does best here ({_fmt(r2('ridge', 'held-out days'))}): it is fitted station by "
                "station, with a weight on every station's boardings learned from that station's own crowding. On an "
                "unchanged network each station sends a roughly steady share of its riders past any other, so these "
                "weights capture where a station's riders come from, however far away, and its hidden handling quirk "
                f"(±{handling:.0f} % in the simulator). The GCNs apply one rule to every station and see only the "
                f"boardings within {DEFAULT_LAYERS} stops. The {ridge}'s edge needs each station's own history on an "
                "unchanged network: it cannot answer for unseen stations, nor see a closed link."
            )
        sentences.append(sentence)
    if ("gcn_skip", "held-out stations") in scores:
        skip_r2, mlp_r2 = r2("gcn_skip", "held-out stations"), r2("mlp", "held-out stations")
        sentences.append(
            f"**Unseen stations:** the {skip} {_compare(skip_r2, mlp_r2)} the {mlp} (R² {_fmt(skip_r2)} vs "
            f"{_fmt(mlp_r2)}). The {ridge} cannot answer at all: it never saw these stations' crowding. A GCN shares "
            "one rule across all stations — read your neighbours' boardings — so it carries over to stations it was "
            "never shown."
        )
    if ("gcn_skip", "topology change") in scores and ("ridge", "topology change") in scores:
        where = f" ({md_plain(closed_link)})" if closed_link else ""
        skip_r2, mlp_r2, ridge_r2 = (r2(kind, "topology change") for kind in ("gcn_skip", "mlp", "ridge"))
        sentence = (
            f"**A link closed{where}, no retraining:** the {skip} reaches R² {_fmt(skip_r2)}, the {mlp} "
            f"{_fmt(mlp_r2)}. The GCNs read the new edges; the {ridge} cannot see the change and predicts the intact "
            "network's crowding"
        )
        if _compare(skip_r2, ridge_r2) == "beats":
            sentence += f", which costs it here (R² {_fmt(ridge_r2)})."
        else:
            sentence += (
                f" — and still {'does as well' if _compare(skip_r2, ridge_r2) != 'trails' else 'does better'} (R² "
                f"{_fmt(ridge_r2)}): most stations hardly change when one link closes. The big shifts are next to the "
                "closed link; close it in the what-if above and compare the bars — they are mostly beyond the models."
            )
        sentences.append(sentence)
    if ("mlp", "control") in scores and ("gcn_skip", "control") in scores:
        verdict = _compare(r2("mlp", "control"), r2("gcn_skip", "control"))
        sentences.append(
            f"**Negative control — the graph is not magic:** when the label is driven by the station's own boardings "
            f"alone (platform crowding), the graph-blind {mlp} {verdict} the {skip} (R² "
            f"{_fmt(r2('mlp', 'control'))} vs {_fmt(r2('gcn_skip', 'control'))}), and the pure {gcn}, which must "
            f"average a station with its neighbours, reaches only {_fmt(r2('gcn', 'control'))}. The graph helps when "
            "the label depends on the neighbours, and only then."
        )
    return sentences


def change_figure(
    names: Sequence[str],
    truth_change: np.ndarray,
    predicted_change: Mapping[str, np.ndarray],
    *,
    top: int = 10,
    text_scale: float = 1.0,
) -> go.Figure:
    """Horizontal bars: the ``top`` stations whose true crowding changed most in a what-if, in percentage points,
    the simulator's change beside each model's (``predicted_change``: model kind → change (stations,))."""
    truth_change = np.asarray(truth_change, dtype=np.float64)
    order = np.argsort(-np.abs(truth_change), kind="stable")[:top][::-1]  # biggest change at the top
    labels = [plain(names[i]) for i in order]
    bars = [
        go.Bar(
            y=labels,
            x=truth_change[order],
            orientation="h",
            name="simulator (truth)",
            marker_color="#212529",
            hovertemplate="%{y}: %{x:+.0f} pp (simulator)<extra></extra>",
        )
    ]
    for kind, change in predicted_change.items():
        change, name = np.asarray(change, dtype=np.float64), plain(MODELS[kind].name)
        bars.append(
            go.Bar(
                y=labels,
                x=change[order],
                orientation="h",
                name=name,
                marker_color=MODEL_COLOURS.get(kind, OTHER_COLOUR),
                hovertemplate=f"%{{y}}: %{{x:+.0f}} pp ({name})<extra></extra>",
            )
        )
    figure = go.Figure(bars)
    return themed(  # the legend above the bars: its margin grows to hold it
        figure,
        max(260, 90 + 30 * len(order)),
        text_scale,
        margin=dict(l=10, r=10, t=30, b=10),
        barmode="group",
        bargap=0.25,
        hoverlabel=dict(font_size=15 * text_scale),
        legend=dict(orientation="h", x=0.0, y=1.02, yanchor="bottom", traceorder="normal"),
        xaxis=dict(
            title="change in crowding (percentage points)",
            zeroline=True,
            zerolinecolor="#495057",
            showgrid=True,
            gridcolor="#f1f3f5",
        ),
        yaxis=dict(tickfont=dict(size=14 * text_scale)),
    )
