"""The controls that shape a word graph — its layout and which edges it shows — shared by every page that draws one
with figures.attention_graph. Each page passes its own key prefix, so that its choices live apart in the address."""

from __future__ import annotations

import streamlit as st

from core.analysis.graph import Pruning
from figures.attention_graph import LAYOUT_NAMES

PRUNING_RULES = {
    "mass": "Strongest share",
    "top_k": "Top-k per word",
    "threshold": "Above a threshold",
    "all": "All edges",
}


def graph_controls(prefix: str = "", layout_index: int = 1) -> tuple[str, Pruning]:
    """(layout, pruning) from three widgets bound to the URL under ``prefix``: the layout, the rule, and the rule's
    value (none for "all edges"). Meant for a horizontal container."""
    layout = st.selectbox(
        "Layout",
        list(LAYOUT_NAMES),
        key=f"{prefix}layout",
        bind="query-params",
        index=layout_index,
        format_func=LAYOUT_NAMES.get,
    )
    rule = st.selectbox(
        "Edges shown",
        list(PRUNING_RULES),
        key=f"{prefix}rule",
        bind="query-params",
        format_func=PRUNING_RULES.get,
        help="Strongest share: each word's strongest edges until they cover the share of its attention (exBERT's "
        "rule). Top-k: each word's k strongest. Threshold: every weight above it.",
    )
    return layout, pruning_control(rule, prefix)


def pruning_control(rule: str, prefix: str = "") -> Pruning:
    """The value slider of the chosen pruning rule (none for "all edges")."""
    if rule == "mass":
        share = st.slider("Share kept (%)", 10, 100, 70, 5, key=f"{prefix}mass", bind="query-params")
        return Pruning("mass", mass=share / 100)
    if rule == "top_k":
        return Pruning("top_k", k=st.slider("Edges per word (k)", 1, 10, 2, key=f"{prefix}top_k", bind="query-params"))
    if rule == "threshold":
        threshold = st.slider("Minimum weight", 0.0, 1.0, 0.1, 0.01, key=f"{prefix}threshold", bind="query-params")
        return Pruning("threshold", threshold=threshold)
    return Pruning("all")
