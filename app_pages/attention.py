"""Attention as a graph: every head at a glance, the selected head as a weighted word graph, a heatmap and text."""

from functools import partial
from pathlib import Path

import networkx as nx
import numpy as np
import streamlit as st

from core.analysis.attribution import pair_attention_summary
from core.analysis.graph import Pruning, attention_graph, induced_subgraph, neighbourhood, prune
from core.analysis.view_options import ViewOptions, head_matrix, view_position, view_sinks
from core.export import attention_json, head_csv
from core.transformer.models import BUNDLED_MODEL, AttentionResult
from figures.attention_figures import heatmap_figure, importance_figure, overview_figure, pair_summary_figure
from figures.attention_graph import MAX_GRAPH_NODES, graph_html
from figures.highlight import highlighted_text_html
from figures.theme import figure_config
from ui.analysis import cached_analysis, cached_importance, cached_model, cached_view, current_analysis
from ui.bound_widgets import always_drawn, clamp, count_slider
from ui.examples import example_for
from ui.graph_controls import graph_controls
from ui.overview import head_name_of, head_names, select_clicked_head, toggle_switched_off
from ui.presentation import presenting, text_scale
from ui.serving import shared_figure

AUTO_IMPORTANCE_TOKENS = 40  # longer inputs switch each head off only on request (73 passes: ~0.7 s at 40 tokens)
NEIGHBOURS = 8  # that neighbourhood: the focus word, the 8 words it attends to most and the 8 that attend to it most
NARROW_HEATMAP_PX = 800  # a heatmap up to this wide leaves room beside it for the export…
EXPORT_COLUMN_PX = 300  # …in a column about this wide
DOWNLOAD_HEIGHT_PX = 640  # the downloaded graph's canvas (in the app the canvas follows the window's height)
IFRAME_HEIGHT_PX = 480  # until the graph's page sizes its iframe to the window
OVERVIEW_WIDTH_PX = 520  # nominal: the figure stretches to its column, its tiles near square
SINK_TOGGLES = {  # causal → the sink toggle's label and help: an encoder's special tokens, a decoder's first token
    False: ("Hide [CLS] / [SEP]", "Drop the special tokens and renormalise each row to sum to 1."),
    True: (
        "Hide the first token",
        "Drop the first token, where a decoder's heads park spare attention (the attention sink, as [CLS] and "
        "[SEP] are for BERT), and renormalise each row to sum to 1.",
    ),
}
PAGE_CSS = (Path(__file__).resolve().parents[1] / "ui" / "attention.css").read_text(encoding="utf-8")


def header(example: dict | None, causal: bool, model: str) -> None:
    """Title, what the graph is (not while presenting: the speaker says it), and what to look at in an example (its
    note names the bundled MiniLM's heads: said so under another model)."""
    with always_drawn():
        st.title("Attention as a graph")
        if not presenting():
            st.caption(
                "Each head turns the sentence into a weighted, directed graph: words are nodes, and word *i* "
                "sends an edge to word *j* weighted by how much *i* attends to *j* (each word's outgoing "
                "weights sum to 1)."
                + (
                    " This model is a **decoder**: a word attends only to itself and the words before it, so every "
                    "edge points back in the text and the heatmap has nothing above its diagonal. Heads park "
                    "spare attention on the first token, the *attention sink*."
                    if causal
                    else ""
                )
            )
        if example is not None:
            where = "" if model == BUNDLED_MODEL else " (in the bundled MiniLM; this model's heads differ)"
            st.markdown(f"**What to look at{where}:** {example['note']}")


def focus_choices(result: AttentionResult) -> tuple[dict[str, int], int]:
    """The text's words by name ("it  (word 10)": the selector's options and the link's value) → word index, and
    which name comes first by default: the first "it", else the first word.

    Names carry the word: a new sentence whose word at that index differs offers other names, so the selector falls
    back to its default instead of keeping a stale choice (an index alone stayed valid and pointed at another word).
    """
    words = result.tokenized.words
    names = {f"{word.text}  (word {k})": k for k, word in enumerate(words) if not word.special}
    first = next((i for i, k in enumerate(names.values()) if words[k].text.lower() == "it"), 0)
    return names, first


def word_graph(
    matrix: np.ndarray,
    labels: list[str],
    sinks: list[bool],
    focus: int | None,
    pruning: Pruning,
    layout: str,
    head_name: str,
) -> tuple[nx.DiGraph, str]:
    """(graph, its page for the app's iframe): the head's word graph pruned by ``pruning``, sinks muted, the focus
    word outlined; up to MAX_GRAPH_NODES nodes the whole graph, above, the focus word's neighbourhood
    (``core.analysis.graph.neighbourhood``)."""
    graph = attention_graph(matrix, labels, prune(matrix, pruning))
    for node in np.flatnonzero(sinks):
        graph.nodes[int(node)]["sink"] = True
    if focus is not None:
        graph.nodes[focus]["focus"] = True  # outlined, as the text below underlines it
    if len(labels) > MAX_GRAPH_NODES:
        graph = induced_subgraph(graph, neighbourhood(matrix, focus or 0, NEIGHBOURS))
    return graph, graph_html(graph, layout, title=f"Graph — {head_name}", served=True, fill_window=True)


def graph_section(
    view: tuple,
    matrix: np.ndarray,
    labels: list[str],
    sinks: list[bool],
    units: str,
    focus: int | None,
    focus_name: str,
    head_name: str,
) -> None:
    """The selected head as a word graph (``word_graph``, shared by every session showing the same ``view``), with
    the controls that shape only it.

    ``matrix`` (n, n) in the view's ``units`` ("words" or "tokens"), ``sinks`` (n,) which labels are attention
    sinks (drawn muted, as [CLS]); ``focus``: the focus word's index in ``labels``
    (None: the text has no word)."""
    with st.container(horizontal=True, vertical_alignment="bottom"):
        layout, pruning = graph_controls()
    graph, html = shared_figure(
        "graph",
        (view, head_name, layout, pruning, focus),
        partial(word_graph, matrix, labels, sinks, focus, pruning, layout, head_name),
    )
    n = len(labels)
    with st.container(key="graph_frame"):  # the graph's page sizes its iframe; ui/attention.css lets the box follow
        st.iframe(html, height=IFRAME_HEIGHT_PX)
    if n > MAX_GRAPH_NODES:
        st.caption(
            f"{n} {units} are too many for one readable graph, so this is the neighbourhood of "
            f"**{focus_name}** in {head_name}: the {NEIGHBOURS} {units} it attends to most and the {NEIGHBOURS} "
            f"that attend to it most ({graph.number_of_nodes()} {units}, {graph.number_of_edges()} edges "
            "kept by the rule above). "
            "Pick another **focus word** beside the overview; the heatmap below shows the whole text."
        )
    else:
        st.caption(
            f"{graph.number_of_edges()} of {n**2} edges shown. Edge width and opacity grow with the "
            "attention weight (a probability, 0–1); hover an edge for its exact value"
            + ("; drag sideways along a long sentence." if layout == "arc" else ".")
        )
    st.download_button(
        "Download this graph (HTML)",
        partial(graph_html, graph, layout, height_px=DOWNLOAD_HEIGHT_PX, title=f"Graph — {head_name}"),
        f"attention-graph-{head_name.replace(', ', '-').replace(' ', '')}.html",
        "text/html",
        help="A standalone page (vis-network inlined, ~700 KB), built when clicked.",
    )


def switched_off_control(layers: int, heads: int, layer: int, head: int | str) -> tuple[tuple[int, int], ...]:
    """The heads switched off (URL-bound multiselect) and a button that switches the selected head off or back
    on; returns them as (layer, head) pairs, 0-based."""
    names = head_names(layers, heads)
    with st.container(horizontal=True, vertical_alignment="bottom", gap="small"):
        chosen = st.multiselect(
            "Heads switched off",
            list(names),
            key="heads_off",
            bind="query-params",
            placeholder="none: the whole model",
            help="Each head switched off contributes nothing to its layer (its messages are multiplied by 0, as "
            "transformers' head_mask did); every view on this page then shows the model without it.",
        )
        if head != "mean":
            name = head_name_of(layer - 1, head - 1)
            st.button(
                "Switch it back on" if name in chosen else "Switch this head off",
                key="toggle_head",
                on_click=partial(toggle_switched_off, name),
            )
    return tuple(names[name] for name in chosen if name in names)


def importance_section(result: AttentionResult, heads_off: tuple[tuple[int, int], ...], selected) -> None:
    """Each head switched off in turn, and how far the output moves: a strip of tiles under the overview, computed
    at once for short inputs, on request for long ones (one forward pass per head)."""
    text, pair = st.session_state["text"], st.session_state["pair"]
    n = len(result.tokenized)
    if n > AUTO_IMPORTANCE_TOKENS and not st.toggle(
        f"Switch each head off in turn ({n} tokens: a few seconds)", key="importance_long"
    ):
        return
    importance = cached_importance(result.model, text, pair)
    values = np.abs(importance.values) if importance.pair else importance.values
    figure = shared_figure(
        "importance",
        (result.model, text, pair, heads_off, selected, text_scale()),
        partial(
            importance_figure,
            values,
            switched_off=heads_off,
            selected=selected,
            unit=" change of similarity" if importance.pair else "",
            width_px=OVERVIEW_WIDTH_PX,
            text_scale=text_scale(),
        ),
    )
    st.plotly_chart(
        figure,
        key="importance",
        on_select=partial(select_clicked_head, result.num_heads, "importance"),
        selection_mode="points",
        config=figure_config(st.session_state.get("image_format", "png"), "head-importance"),
    )
    st.caption(
        "**Does the head matter?** Each head switched off alone: "
        + (
            "how much the two sentences' similarity (each embedded on its own) changes. "
            if importance.pair
            else "how far the mean of the last layer's vectors (the sentence embedding, for the bundled model) "
            "moves (1 − cosine). "
        )
        + "Darker: needed more."
        + (f" Crossed out: switched off ({len(heads_off)})." if heads_off else "")
    )


PAIR_SUMMARIES = {  # the pair summary's choices → core.analysis.attribution.pair_attention_summary's method
    "All layers and heads": "attention",
    "Rollout": "rollout",
}


def pair_section(result: AttentionResult) -> None:
    """How the second sentence reads the first, over the whole model, as one word-to-word graph."""
    st.subheader("How sentence B reads sentence A")
    summary = st.segmented_control(
        "Summarise",
        list(PAIR_SUMMARIES),
        key="pair_summary",
        bind="query-params",
        default="All layers and heads",
        help="All layers and heads: the attention averaged over every layer and head. Rollout: the attention "
        "followed through the layers, residual connections included (Abnar & Zuidema 2020).",
    )
    method = PAIR_SUMMARIES.get(summary or "", "attention")
    b_words, a_words, weights = pair_attention_summary(result.tokenized, result.attentions, method)
    st.plotly_chart(
        pair_summary_figure(b_words, a_words, weights, text_scale=text_scale()),
        key="pair_summary_graph",
        width="content",
        config=figure_config(st.session_state.get("image_format", "png"), "pair-summary"),
    )
    st.caption(
        "Each word of sentence B (left) and its strongest links to the words of sentence A (right), covering 80 % "
        "of what it gives A; each B word's weights to A's words are rescaled to sum to 1 (the rest of its attention "
        "stays inside B or on [CLS]/[SEP]). Hover a link for its weight."
    )


def heatmap_section(
    result: AttentionResult,
    view: tuple,
    labels: list[str],
    attention: np.ndarray,
    matrix: np.ndarray,
    layer: int,
    head: int | str,
    head_name: str,
) -> None:
    """The head as a heatmap sized by its token count (figures.attention_figures.heatmap_figure), the export beside
    it when it is narrow, below it when it is wide; ``view`` names what ``matrix`` shows (the figure's shared key)."""
    image_format = st.session_state.get("image_format", "png")
    figure = shared_figure(
        "heatmap",
        (view, layer, head, text_scale()),
        partial(heatmap_figure, matrix, labels, labels, text_scale=text_scale(), causal=result.tokenized.causal),
    )
    width = figure.layout.width
    if width <= NARROW_HEATMAP_PX:
        heat, side = st.columns([width, EXPORT_COLUMN_PX], gap="large")
    else:  # one below the other
        heat = side = st.container()
    with heat:
        st.subheader(f"Heatmap — {head_name}")
        with st.container(key="heatmap_scroll"):  # a long text's heatmap is wider than the page: it scrolls sideways
            st.html(
                f"<style>.st-key-heatmap_scroll [data-testid='stElementContainer'] {{min-width: {width}px}}</style>"
            )
            st.plotly_chart(
                figure, key="heatmap", width="content", config=figure_config(image_format, "attention-heatmap")
            )
    with side:
        st.caption("Rows: the word attending (from); columns: the word attended to. Hover a cell for the exact weight.")
        export_section(result, labels, attention, matrix, layer, head)


def text_section(
    result: AttentionResult, word_attention: np.ndarray, focus: int, layer: int, head_index: int | None, head_name: str
) -> None:
    """The typed text, each word shaded by the focus word's attention to it; ``word_attention`` (L, H, words, words)
    in whole words, special tokens kept."""
    words = result.tokenized.words
    st.subheader("Read it as text")
    word_matrix = head_matrix(word_attention, layer - 1, head_index)  # (words, words)
    st.html(
        highlighted_text_html([result.tokenized.text, result.tokenized.pair or ""], words, word_matrix[focus], focus)
    )
    st.caption(
        f"Each word is shaded by the attention “{words[focus].text}” (the focus word) pays to it in "
        f"{head_name} (darkest = its strongest word; hover for the exact weight)."
    )


def export_section(
    result: AttentionResult, labels: list[str], attention: np.ndarray, matrix: np.ndarray, layer: int, head: int | str
) -> None:
    with st.expander("Export"):
        st.radio(
            "Figure format for the camera button of each figure",
            ["png", "svg"],
            key="image_format",
            horizontal=True,
            format_func=str.upper,
        )
        slug = f"L{layer}-{'mean' if head == 'mean' else f'H{head}'}"
        head_index = None if head == "mean" else int(head) - 1
        with st.container(horizontal=True):
            # JSON and CSV are built only when clicked: the JSON of a 512-token input runs to hundreds of MB
            st.download_button(
                "All heads (JSON)",
                partial(attention_json, result.model, labels, attention, result.engine, result.tokenized.causal),
                "attention.json",
                "application/json",
                help='{"model", "engine", "causal", "tokens", "attention": [layers][heads][n][n]} in the units shown.',
            )
            st.download_button(
                "This head (CSV)",
                partial(head_csv, labels, matrix, layer - 1, head_index),
                f"attention-{slug}.csv",
                "text/csv",
            )
        st.caption(
            'The same JSON from the command line: `python -m core.export "TEXT" [--pair "TEXT B"] '
            "[--model NAME] [--words]`."
        )


st.html(f"<style>{PAGE_CSS}</style>")
result = current_analysis()
if result is None:
    st.stop()
causal = result.tokenized.causal
header(example_for(result.tokenized.text, result.tokenized.pair), causal, result.model)
switchable = cached_model(result.model).network is not None  # the core network: heads can be switched off
layers, heads = result.num_layers, result.num_heads
clamp("layer", layers)  # a smaller model than the last one
clamp("head", heads, fallback="mean")
focus_names, first_focus = focus_choices(result)
left, right = st.columns([5, 7], gap="medium")
with left:  # the overview, then every control that shapes the views
    overview_slot = st.container()
    with st.container(horizontal=True):
        layer = count_slider("Layer", layers, key="layer", bind="query-params")
        head = st.select_slider(
            "Head",
            ["mean", *range(1, heads + 1)],
            key="head",
            bind="query-params",
            help="“mean” averages the layer's heads.",
        )
    with st.container(horizontal=True, vertical_alignment="bottom", gap="small"):  # one row, in large type too
        units = st.segmented_control(
            "Units",
            ["Words", "Tokens"],
            key="units",
            bind="query-params",
            default="Words",
            help="Words merge subword pieces: attention to a word is the sum over its "
            "pieces, attention from a word their mean (Clark et al. 2019).",
        )
        hide_special = st.toggle(
            SINK_TOGGLES[causal][0],
            key="hide_special",
            bind="query-params",
            help=SINK_TOGGLES[causal][1],
        )
    focus_name = st.selectbox(
        "Focus word",
        list(focus_names),
        key="focus",
        bind="query-params",
        index=first_focus,
        help="The word whose attention the text below shades; in a text too long for one "
        "graph, the graph shows this word's neighbourhood.",
    )
    focus = focus_names.get(focus_name)  # (word index) None when the text has no word (only special tokens)
    heads_off = switched_off_control(layers, heads, layer, head) if switchable else ()

if heads_off:  # every view below shows the model without those heads
    result = cached_analysis(result.model, st.session_state["text"], st.session_state["pair"], heads_off)

options = ViewOptions(words=units != "Tokens", hide_special=hide_special)
# What the views show, as a key: the figures built from it are shared by every session showing the same
view = (result.model, st.session_state["text"], st.session_state["pair"], heads_off, options)
labels, attention = cached_view(result, view)  # (L, H, n, n)
head_index = None if head == "mean" else head - 1
matrix = head_matrix(attention, layer - 1, head_index)  # (n, n)
head_name = f"layer {layer}, " + ("mean of all heads" if head == "mean" else f"head {head}")
focus_position = view_position(result.tokenized, focus, options) if focus is not None else None

with overview_slot:
    st.plotly_chart(
        shared_figure(
            "overview",
            (view, layer, head_index, text_scale()),
            partial(
                overview_figure,
                attention,
                selected=(layer - 1, head_index),
                width_px=OVERVIEW_WIDTH_PX,
                text_scale=text_scale(),
            ),
        ),
        key="overview",
        on_select=partial(select_clicked_head, heads, "overview"),  # a page function would keep every run's output
        selection_mode="points",
        config=figure_config(st.session_state.get("image_format", "png"), "attention-overview"),
    )
    st.caption(
        f"All {layers} × {heads} heads: rows are layers, columns heads; each tile is one head's attention "
        "matrix, shaded relative to its own largest weight. **Click a tile** to select that head."
    )
    if switchable:
        importance_section(result, heads_off, (layer - 1, head_index))

with right:  # the graph's title is drawn in its canvas: the first screen's height goes to the graph
    graph_section(
        view,
        matrix,
        labels,
        view_sinks(result.tokenized, options),
        "tokens" if units == "Tokens" else "words",
        focus_position,
        result.tokenized.words[focus].text if focus is not None else "",
        head_name,
    )

with left:
    if focus is not None:
        # The text reads whole words, [CLS]/[SEP] kept: the page's own view, unless that shows tokens or hides them.
        words_only = ViewOptions(words=True)
        word_attention = attention if options == words_only else cached_view(result, (*view[:-1], words_only))[1]
        text_section(result, word_attention, focus, layer, head_index, head_name)
heatmap_section(result, view, labels, attention, matrix, layer, head, head_name)
if result.tokenized.pair is not None and not causal:
    pair_section(result)
