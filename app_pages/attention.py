"""Attention as a graph: every head at a glance, the selected head as a weighted word graph, a heatmap and text."""

from functools import partial

import streamlit as st

from core.export import attention_json, head_csv
from core.graph import Pruning, attention_graph, prune
from core.views import ViewOptions, attention_view, head_matrix
from figures.attention_figures import figure_config, heatmap_figure, overview_figure
from figures.attention_graph import LAYOUT_NAMES, graph_html
from figures.highlight import highlighted_text_html
from ui.analysis import current_analysis
from ui.examples import example_for
from ui.overview import select_clicked_head

MAX_GRAPH_NODES = 64
GRAPH_HEIGHT_PX = {False: 540, True: 700}  # presentation mode: a taller canvas draws the words larger
OVERVIEW_WIDTH_PX = 520  # nominal: the figure stretches to its column, tiles stay square
PRUNING_RULES = {
    "mass": "Share of each word's attention",
    "top_k": "Top-k per word",
    "threshold": "Above a threshold",
    "all": "All edges",
}

st.title("Attention as a graph")
st.caption(
    "Each attention head turns the sentence into a weighted, directed graph: the words are nodes, and word *i* sends "
    "an edge to word *j* weighted by how much *i* attends to *j* (each word's outgoing weights sum to 1)."
)

result = current_analysis()
if result is None:
    st.stop()
example = example_for(result.tokenized.text, result.tokenized.pair)
with st.container():  # always there, note or not: the widgets below keep their place (see app.py)
    if example is not None:
        st.markdown(f"**What to look at:** {example['note']}")

layers, heads = result.num_layers, result.num_heads
if st.session_state.get("layer", 1) > layers:  # a smaller model than the last one: assign only then, as an
    st.session_state["layer"] = layers  # assignment to a URL-bound widget's key rewrites the address bar
if st.session_state.get("head", "mean") != "mean" and st.session_state["head"] > heads:
    st.session_state["head"] = "mean"


left, right = st.columns([5, 7], gap="large")
with left:  # the overview is drawn above the controls that shape it
    st.subheader(f"All {layers} × {heads} heads")
    overview_slot = st.container()
    layer = st.slider("Layer", 1, layers, key="layer", bind="query-params")
    head = st.select_slider("Head", ["mean", *range(1, heads + 1)], key="head", bind="query-params",
                            help="“mean” averages the layer's heads.")
    with st.container(horizontal=True, vertical_alignment="bottom", gap="large"):
        units = st.segmented_control("Units", ["Words", "Tokens"], key="units", bind="query-params", default="Words",
                                     help="Words merge subword pieces: attention to a word is the sum over its "
                                          "pieces, attention from a word their mean (Clark et al. 2019).")
        hide_special = st.toggle("Hide [CLS] / [SEP]", key="hide_special", bind="query-params",
                                 help="Drop the special tokens and renormalise each row to sum to 1.")
labels, attention = attention_view(result.tokenized, result.attentions,
                                   ViewOptions(words=units != "Tokens", hide_special=hide_special))  # (L, H, n, n)
head_index = None if head == "mean" else head - 1
matrix = head_matrix(attention, layer - 1, head_index)  # (n, n)
head_name = f"layer {layer}, " + ("mean of all heads" if head == "mean" else f"head {head}")
image_format = st.session_state.get("image_format", "png")

with overview_slot:
    st.plotly_chart(
        overview_figure(attention, selected=(layer - 1, head_index), width_px=OVERVIEW_WIDTH_PX),
        key="overview",
        on_select=partial(select_clicked_head, heads),  # a page-script function would keep every run's output
        selection_mode="points",
        config=figure_config(image_format, "attention-overview"),
    )
    st.caption("Rows are layers, columns heads; each tile is one head's attention matrix (rows = from, columns = to), "
               "shaded relative to its own largest weight. **Click a tile** to select that head.")

with right:  # the graph is drawn above the controls that shape it
    st.subheader(f"Graph — {head_name}")
    graph_slot = st.container()
    layout = st.segmented_control("Layout", list(LAYOUT_NAMES), key="layout", bind="query-params", default="circle",
                                  format_func=LAYOUT_NAMES.get) or "circle"
    with st.container(horizontal=True, vertical_alignment="bottom"):
        rule = st.selectbox("Edges shown", list(PRUNING_RULES),
                            key="rule", bind="query-params", format_func=PRUNING_RULES.get,
                            help="Share: each word's strongest edges until they cover the share of its attention "
                                 "(exBERT's rule). Top-k: each word's k strongest. Threshold: every weight above it.")
        if rule == "mass":
            pruning = Pruning("mass", mass=st.slider("Share kept (%)", 10, 100, 70, 5,
                                                     key="mass", bind="query-params") / 100)
        elif rule == "top_k":
            pruning = Pruning("top_k", k=st.slider("Edges per word (k)", 1, 10, 2, key="top_k", bind="query-params"))
        elif rule == "threshold":
            pruning = Pruning("threshold", threshold=st.slider("Minimum weight", 0.0, 1.0, 0.1, 0.01,
                                                               key="threshold", bind="query-params"))
        else:
            pruning = Pruning("all")
    graph = attention_graph(matrix, labels, prune(matrix, pruning))
    graph_drawn = False
    with graph_slot:
        if len(labels) > MAX_GRAPH_NODES and not st.checkbox(f"Draw the graph of {len(labels)} nodes anyway",
                                                             key="draw_anyway", bind="query-params"):
            st.info(f"{len(labels)} nodes are too many for a readable graph (the limit is {MAX_GRAPH_NODES}). Read "
                    "the heatmap, switch to words, hide [CLS]/[SEP], or tick the box to draw it with the edges kept.")
        else:
            height_px = GRAPH_HEIGHT_PX[bool(st.session_state.get("present"))]
            st.iframe(graph_html(graph, layout, height_px=height_px, served=True), height=height_px + 20)
            graph_drawn = True
        st.caption(f"{graph.number_of_edges()} of {len(labels) ** 2} edges shown. Edge width and opacity grow with "
                   "the attention weight (a probability, 0–1); hover an edge for its exact value.")

with left:
    st.subheader(f"Heatmap — {head_name}")
    st.plotly_chart(heatmap_figure(matrix, labels, labels), key="heatmap",
                    config=figure_config(image_format, "attention-heatmap"))
    st.caption("Rows: the word attending (from); columns: the word attended to. Hover a cell for the exact weight.")

words = result.tokenized.words
text_words = [k for k, word in enumerate(words) if not word.special]
with right:
    if text_words:
        st.subheader("Read it as text")
        word_names = {k: f"{words[k].text}  (word {k})" for k in text_words}
        focus = st.selectbox(  # format_func is a dict's get: a lambda here would hold this script's globals, and with
            "Attention from the word", text_words, format_func=word_names.get,  # them every run's result, alive
            key="focus", bind="query-params",
            index=next((i for i, k in enumerate(text_words) if words[k].text.lower() == "it"), 0),
        )
        word_matrix = head_matrix(attention_view(result.tokenized, result.attentions, ViewOptions(words=True))[1],
                                  layer - 1, head_index)  # (words, words)
        st.html(highlighted_text_html([result.tokenized.text, result.tokenized.pair or ""], words,
                                      word_matrix[focus], focus))
        st.caption(f"Each word is shaded by the attention “{words[focus].text}” pays to it in {head_name} (darkest = "
                   "its strongest word; hover for the exact weight). Word boundaries come from the tokenizer's "
                   "character offsets, so the shading falls exactly on the characters you typed.")

    with st.expander("Export"):
        st.radio("Figure format for the camera button of each figure", ["png", "svg"], key="image_format",
                 horizontal=True, format_func=str.upper)
        slug = f"L{layer}-{'mean' if head == 'mean' else f'H{head}'}"
        with st.container(horizontal=True):
            if graph_drawn:  # a standalone file (vis-network inlined, 690 KB): built only when clicked
                st.download_button("Graph (HTML)", partial(graph_html, graph, layout, height_px=height_px),
                                   f"attention-graph-{slug}.html", "text/html")
            # JSON and CSV are built only when clicked: the JSON of a 512-token input runs to hundreds of MB
            st.download_button("All heads (JSON)", partial(attention_json, result.model, labels, attention),
                               "attention.json", "application/json",
                               help='{"model", "tokens", "attention": [layers][heads][n][n]} in the units shown.')
            st.download_button("This head (CSV)",
                               partial(head_csv, labels, matrix, layer - 1, head_index),
                               f"attention-{slug}.csv", "text/csv")
        st.caption("The same JSON from the command line: `python -m core.export \"TEXT\" [--pair \"TEXT B\"] "
                   "[--model NAME] [--words]`.")
