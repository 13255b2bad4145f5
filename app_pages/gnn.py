"""Transformer = GNN: one layer of the running network recomputed as message passing on its attention
graphs (an encoder's complete graphs, a decoder's causal ones), soft vs hard structure, what each head looks
at and a map of all heads, rollout and flow beside integrated gradients, RNN memory, and model sizes.

One function per section, drawn in page order: ``term_by_term_section`` (with ``message_passing``),
``soft_vs_hard_section``, ``head_summary_section`` (with ``corpus_section``), ``head_map_section``,
``rollout_flow_section`` and ``attribution_section``, ``rnn_section``, ``model_sizes_section`` and
``word_graphs_section`` (``static_graph``, ``contextual_graph``). ``on_request`` runs an analysis of many sentences
behind a button.
"""

import math
from collections import Counter
from functools import partial

import numpy as np
import pandas as pd
import streamlit as st

from core.analysis.attribution import STEPS, Attribution
from core.analysis.bag_of_words import DocumentWordMatrix, known_words, similarity_graph
from core.analysis.corpus import load_bundled_sentences, load_corpus
from core.analysis.graph import Pruning, attention_graph, drop_tokens, prune
from core.analysis.hard_attention import sweep, sweep_rules
from core.analysis.head_map import BROAD_ENTROPY, DOMINANT_SHARE, HeadMap, head_clusters
from core.analysis.head_stats import head_patterns, head_statistics, token_roles
from core.analysis.rnn_memory import rnn_vs_attention
from core.analysis.rollout import FlowTooLongError, rollout
from core.analysis.transformer_gnn import attention_graphs, layer_as_message_passing
from core.analysis.view_options import ViewOptions, attention_view
from core.transformer.decoder import Decoder
from core.transformer.encoder import Encoder
from core.transformer.model_size import model_configs, parameter_count
from core.transformer.models import AttentionModel, AttentionResult
from figures.attention_figures import fit_heatmap, heatmap_figure
from figures.attention_graph import graph_html
from figures.gnn_figures import (
    attribution_figure,
    head_map_figure,
    head_statistics_figure,
    model_size_figure,
    rnn_memory_figure,
    similarity_graph_figure,
    sweep_figure,
)
from figures.theme import figure_config
from ui.analysis import cached_model, current_analysis
from ui.bound_widgets import always_drawn, clamp, count_slider
from ui.gnn import (
    MAX_UPLOAD_BYTES,
    CorpusAnalysis,
    cached_attribution,
    cached_flow,
    cached_layout,
    corpus_result,
    corpus_words,
    hard_run,
    read_sentences,
    rule_family,
    rule_name,
    run_corpus,
    select_mapped_head,
)
from ui.presentation import presenting, text_scale

AUTO_SWEEP_TOKENS = 40  # longer inputs run the sweep and the attributions only on request (cost grows with n²)
# The heatmaps' columns, 5/11 and 1/2 of the page at 1440 px (presenting: at 1280 px, no sidebar)
COLUMN_WIDTHS_PX = {False: {"adjacency": (425,), "half": (455,)}, True: {"adjacency": (465,), "half": (495,)}}
CORPUS_BUDGETS_S = (5, 10, 20, 40)
WORD_GRAPH_WORDS = 14  # words on each circle of the word graphs; more do not fit in half the page
WHOLE_MATRIX = "all (whole matrix)"  # the flow's choice of every output token
BUNDLED, UPLOADED = "Bundled sentences", "Your .txt file"
CORPUS_SOURCES = (BUNDLED, UPLOADED, "Both")  # what the head statistics and the head map run over
TERMS = {  # graph convolution against a Transformer layer, term by term: (term, graph network, encoder, decoder)
    "nodes": ("nodes", "graph vertices", "the tokens of the sentence", "the tokens of the text"),
    "features": (
        "node features $h_j$",
        "input features",
        "the layer's input vector $h_j$ of token $j$",
        "$x_j = \\operatorname{Norm}_1(h_j)$: the layer's input $h_j$, normalised",
    ),
    "neighbourhood": (
        "neighbourhood $N(i)$",
        "fixed by the graph",
        "every token: a complete graph",
        "the tokens up to $i$ ($j \\le i$): a causal graph",
    ),
    "weight": (
        "edge weight $1/c_{ij}$",
        "fixed normalisation (degree)",
        "attention $A_h[i, j]$, computed from the words",
        "attention $A_h[i, j]$, computed from the words, 0 for $j > i$",
    ),
    "projection": (
        "$W$, $b$",
        "one shared weight",
        "value projection $W_V^h$, $b_V^h$ per head, then $W_O$ over the heads",
        "value projection $W_V^h$, $b_V^h$ per head, then $W_O$ over the heads",
    ),
    "update": (
        "update $\\sigma$",
        "a non-linearity",
        "residual + layer norm, feed-forward, residual + layer norm",
        "residual, then + feed-forward of the normalised sum (pre-norm, below)",
    ),
}
NORMS = {  # a decoder's Norm₁ and Norm₂ (markdown)
    "LayerNorm": "**LayerNorm** here (GPT-2): $(x - \\mu) / \\sigma \\cdot \\gamma + \\beta$ over the hidden units.",
    "RMSNorm": "**RMSNorm** here (Llama family): $x / \\operatorname{rms}(x) \\cdot w$, no mean subtracted, no bias.",
}


# 1 ── term by term ───────────────────────────────────────────────────────────────────────────────


def terms_table(causal: bool) -> str:
    """``TERMS`` as a markdown table, the encoder's or the decoder's column."""
    rows = [
        f"| {term} | {graph} | {decoder if causal else encoder} |" for term, graph, encoder, decoder in TERMS.values()
    ]
    header = f"| term | graph network | Transformer {'decoder' if causal else 'encoder'} layer |\n|---|---|---|\n"
    return header + "\n".join(rows)


def pre_norm_explanation(decoder: Decoder) -> None:
    """What a pre-norm decoder layer does around the message passing: the norms, the residual stream, and, where
    the model has them, rotary positions and grouped-query attention."""
    config = decoder.config
    st.markdown(
        "**A decoder layer is pre-norm.** The heads read $x_j = \\operatorname{Norm}_1(h_j)$, not the stream $h_j$; "
        "their messages are added to the stream, and the feed-forward reads the sum normalised again, so the stream "
        "itself is never normalised:"
    )
    st.latex(  # one step a line: the column is half the page
        r"\begin{aligned} x_i &= \operatorname{Norm}_1(h_i) \\ a_i &= h_i + \operatorname{concat}_h(o_i^h)\, W_O"
        r"\,(+\,b_O) \\ h_i'' &= a_i + \operatorname{FFN}(\operatorname{Norm}_2(a_i)) \end{aligned}"
    )
    notes = [
        "Norm is " + NORMS["RMSNorm" if config.rms_norm else "LayerNorm"],
        "$N(i)$ = the tokens $j \\le i$: the causal mask removes every edge from a later token, so each head's "
        "graph is lower triangular: edges come only from earlier tokens, besides each token's edge to itself.",
    ]
    if config.rotary is not None:
        notes.append(
            "Rotary positions turn the queries and keys, not the values: position enters the edge weights only, "
            "never the messages $x_j W_V^h$."
        )
    if config.queries_per_key > 1:
        notes.append(
            f"Grouped-query attention: each key/value head serves {config.queries_per_key} query heads, which "
            "share $W_V^h$ and the keys, yet each has a graph of its own."
        )
    st.markdown("\n".join(f"- {note}" for note in notes))


def term_by_term_section(
    result: AttentionResult, model: AttentionModel, scale: float, config: dict, widths: dict
) -> int:
    """A graph convolution and a head of self-attention side by side, term by term; beside them the
    chosen layer recomputed as message passing. Returns that layer (the word graphs at the end use
    it too)."""
    st.header("Term by term", divider="gray")
    causal = model.causal
    left, right = st.columns([6, 5], gap="medium")
    with left:
        eq_left, eq_right = st.columns(2)
        with eq_left:
            st.markdown("**Graph convolution (eq. 2.1)**")
            st.latex(r"h_i' = \sigma\Big(b + \sum_{j \in N(i)} \tfrac{1}{c_{ij}}\, h_j W\Big)")
        with eq_right:
            st.markdown(f"**{'Causal self-attention' if causal else 'Self-attention'}, head $h$**")
            if causal:
                st.latex(r"o_i^h = b_V^h + \sum_{j \le i} A_h[i,j]\; x_j W_V^h")
            else:
                st.latex(r"o_i^h = b_V^h + \sum_{j} A_h[i,j]\; h_j W_V^h")
        st.markdown(terms_table(causal))
        if isinstance(model.network, Decoder):
            pre_norm_explanation(model.network)
    with right:
        if model.network is None:
            st.info(
                f"{model.name} runs on transformers' own code here, not the core network, so "
                "its layers cannot be recomputed as message passing. Choose the bundled model, "
                "a BERT-family model, GPT-2 or a Llama-family model in the sidebar.",
                icon="ℹ️",
            )
            return st.session_state.get("gnn_layer", 2)
        return message_passing(result, model, scale, config, widths)


def message_passing(result: AttentionResult, model: AttentionModel, scale: float, config: dict, widths: dict) -> int:
    """The chosen layer recomputed as message passing against the network's own output, and one head's
    adjacency; returns the layer."""
    network, labels, causal = model.network, result.tokenized.token_labels, model.causal
    kind = "decoder" if causal else "encoder"
    layers, heads, n = result.num_layers, result.num_heads, len(result.tokenized)
    layer = count_slider("Layer", layers, key="gnn_layer", bind="query-params", value=min(2, layers))
    graphs = attention_graphs(network, layer - 1, result.hidden_states[layer - 1])
    passing = layer_as_message_passing(network, graphs)
    st.metric(
        f"Layer {layer} recomputed by message passing vs the {kind}",
        f"max |difference| = {passing.max_difference:.1e}",
        help="Largest absolute difference over all tokens and hidden units between the "
        f"message-passing output and the {kind}'s own output of the layer (float32 "
        "round-off).",
    )
    edges = (
        f"the {n * (n + 1) // 2} edges $j \\le i$ of their causal graph"
        if causal
        else f"the {n} × {n} = {n * n} edges of their graph"
    )
    st.caption(
        f"{heads} heads each pass messages $A_h[i, j]\\, {'x_j' if causal else 'h_j'} W_V^h$ along {edges}; "
        f"the {n} nodes hold {network.config.hidden_size}-dimensional features. The outputs agree to float32 "
        "round-off: the layer *is* the message passing."
    )
    head = count_slider("Head whose adjacency is shown", heads, key="gnn_head", bind="query-params", value=1)
    adjacency = heatmap_figure(
        graphs.attention[head - 1].numpy(),
        labels,
        labels,
        title=f"Adjacency of layer {layer}, head {head}",
        text_scale=scale,
        causal=causal,
    )
    st.plotly_chart(fit_heatmap(adjacency, widths["adjacency"]), key="gnn_adjacency", width="content", config=config)
    st.caption(
        "Row $i$: the weights $1/c_{ij}$ with which token $i$ sums its neighbours' messages (each row sums to 1)."
        + (" Above the diagonal the graph has no edge: a token never reads a later one." if causal else "")
    )
    return layer


# 2 ── soft vs hard ───────────────────────────────────────────────────────────────────────────────


def soft_vs_hard_section(result: AttentionResult, model: AttentionModel, scale: float, config: dict) -> None:
    """The network run on pruned attention graphs (top-k, threshold, same LSH bucket) against the
    unpruned one."""
    st.header("Soft vs hard structure", divider="gray")
    tokenized, n = result.tokenized, len(result.tokenized)
    kind = "decoder" if model.causal else "encoder"
    graph = "a *soft* causal graph, every edge $j \\le i$ weighted" if model.causal else "a *soft*, complete graph"
    left, right = st.columns([7, 4], gap="large")
    with right:
        st.markdown(
            f"Attention builds {graph}. Keep only some edges in every layer and "
            f"head (each row renormalised, its strongest edge always kept), run the whole {kind} "
            "as message passing on the sparse graphs, and compare its top-layer token vectors with "
            "the unpruned ones (mean cosine similarity, 1 = the same). Rules: each token's "
            "**top-k** edges, every edge above a **threshold**, or Reformer's **same LSH bucket** "
            "(query and key hashed into the same bucket)."
        )
    with left:
        if model.network is None:
            st.info(
                "The sweep needs the core network: choose the bundled model, a BERT-family model, GPT-2 or a "
                "Llama-family model in the sidebar.",
                icon="ℹ️",
            )
            return
        if n > AUTO_SWEEP_TOKENS and not st.toggle(
            f"Run the sweep for {n} tokens (slow)", key="gnn_sweep_long", bind="query-params"
        ):
            st.info(f"The sweep runs the {kind} {len(sweep_rules(n)) + 1} times; for {n} tokens that takes a while.")
            return
        bar = st.progress(0.0, text=f"Running the {kind} on pruned graphs…")
        run = partial(hard_run, model.name, tuple(tokenized.input_ids), tuple(tokenized.token_type_ids))
        points = sweep(
            run, sweep_rules(n), lambda done, total: bar.progress(done / total, text=f"Rule {done} of {total}")
        )
        bar.empty()
        figure = sweep_figure(
            [rule_family(p.rule) for p in points],
            [p.share_kept for p in points],
            [p.similarity for p in points],
            [rule_name(p.rule) for p in points],
            causal=model.causal,
            text_scale=scale,
        )
        st.plotly_chart(figure, key="gnn_sweep", config=config)
        pairs = "the causal graphs' n(n + 1)/2 per head" if model.causal else "the complete graphs' n² per head"
        st.caption(
            f"x: edges kept over all layers and heads, in % of {pairs}; y: mean over tokens of the cosine "
            f"similarity between the hard and the soft {kind}'s top-layer vectors."
        )


# 3 ── head summary ───────────────────────────────────────────────────────────────────────────────


def head_summary_section(
    result: AttentionResult, model_name: str, scale: float, config: dict
) -> tuple[list[str] | None, float]:
    """Each head's attention statistics and pattern on this sentence, then (on request) over many
    sentences; returns the sentences chosen there (None: none yet) and the time budget."""
    st.header("What each head looks at", divider="gray")
    n, causal = len(result.tokenized), result.tokenized.causal
    statistics = head_statistics(result.attentions, token_roles(result.tokenized))
    patterns = head_patterns(statistics)
    counts = Counter(patterns.ravel().tolist())
    spread = (
        "ln(i + 1) when token i spreads it evenly over the i + 1 tokens it can see (at most "
        f"ln {n} ≈ {math.log(n):.1f}, for the last of these {n} tokens)"
        if causal
        else f"ln n when it spreads it evenly over all n (ln {n} ≈ {math.log(n):.1f} for these {n} tokens)"
    )
    decoder_roles = (
        " In a decoder the **first token** is the attention sink, where heads park the attention they do not need "
        "(Xiao et al. 2023): a head that sends most of its attention there counts as a sink head (S), one that "
        "reads the previous token as positional (P). A token never sees the next one, so that share, 0 by "
        "construction, is left out."
        if causal
        else ""
    )
    st.caption(
        f"This sentence, {result.num_layers} layers × {result.num_heads} heads: each "
        "panel's rows are layers, columns heads. Shares are the mean attention per token "
        "(0–1). **Entropy** says how spread out a head's attention is, averaged over the "
        f"tokens: 0 when each token puts all its weight on one token, {spread}. It is "
        "counted in **nats**, the unit of the natural logarithm (1 nat ≈ 1.44 bits). "
        f"Patterns after Clark et al. 2019: {counts['special-token']} {'sink' if causal else 'special-token'}, "
        f"{counts['positional']} positional, {counts['broad']} broad heads; the rest are "
        "heterogeneous. Hover a cell for its head and pattern." + decoder_roles
    )
    figure = head_statistics_figure(statistics, patterns, causal=causal, text_scale=scale)
    st.plotly_chart(figure, key="gnn_heads", config=config)
    return corpus_section(model_name, causal, scale, config)


def on_request(analysis: CorpusAnalysis, model_name: str, sentences: list[str], budget: float, label: str, key: str):
    """The session's ``analysis`` of the sentences, or a button that runs it with a progress bar; None until it
    ran."""
    outcome = corpus_result(analysis, model_name, sentences, budget)
    button_slot = st.empty()
    if outcome is None and button_slot.button(label, key=key):
        button_slot.empty()
        bar = st.progress(0.0)
        outcome = run_corpus(
            analysis,
            model_name,
            sentences,
            budget,
            lambda done, total: bar.progress(done / total, text=f"Sentence {done} of {total}"),
        )
        bar.empty()
    return outcome


def corpus_section(model_name: str, causal: bool, scale: float, config: dict) -> tuple[list[str] | None, float]:
    """The head statistics averaged over the bundled sentences, an uploaded file or both, within a time budget, on
    request; returns the sentences (None: no usable file yet) and the budget."""
    with st.expander("The same over many sentences: the bundled ones, your own file, or both", expanded=False):
        source_col, budget_col = st.columns([3, 2])
        with source_col:
            source = (
                st.segmented_control(
                    "Sentences",
                    list(CORPUS_SOURCES),
                    key="gnn_source",
                    bind="query-params",
                    default=BUNDLED,
                    help=f"Bundled: the chapter's {len(load_corpus())} sentences, then "
                    f"{len(load_bundled_sentences()) - len(load_corpus())} everyday ones from WordNet 3.0's usage "
                    "examples (assets/wordnet/). Both: your file's sentences first, then the bundled ones.",
                )
                or BUNDLED
            )
        with budget_col:
            budget = st.select_slider(
                "Time budget (s)",
                CORPUS_BUDGETS_S,
                value=10,
                key="gnn_budget",
                bind="query-params",
                help="The sentences are analysed in order until they or the budget run out.",
            )
        uploaded: list[str] = []
        if source != BUNDLED:
            upload = st.file_uploader(
                f"One sentence per line, UTF-8, at most {MAX_UPLOAD_BYTES // 1000} kB", type=["txt"], key="gnn_upload"
            )
            if upload is not None:
                try:
                    uploaded = read_sentences(upload.getvalue())
                except ValueError as problem:
                    st.error(str(problem), icon="⚠️")
        sentences = uploaded + (load_bundled_sentences() if source != UPLOADED else [])
        if source == "Both" and not uploaded:
            sentences = []  # wait for the file
        if not sentences:
            return None, float(budget)
        corpus = on_request(
            "statistics", model_name, sentences, float(budget), f"Analyse {len(sentences)} sentences", "gnn_run_corpus"
        )
        if corpus is not None:
            everything = corpus.analysed == corpus.offered
            st.caption(
                f"Averaged over {corpus.analysed} of {corpus.offered} sentences "
                f"({'all of them' if everything else 'the time budget ran out'})."
            )
            figure = head_statistics_figure(corpus.mean, head_patterns(corpus.mean), causal=causal, text_scale=scale)
            st.plotly_chart(figure, key="gnn_corpus_heads", config=config)
    return sentences, float(budget)


def head_map_explanation() -> None:
    """What the map of all heads shows: the distance, the layout, the clusters and the behaviours."""
    st.markdown(
        "Two heads are close when they spread their attention alike. For each sentence and each token, the two "
        "heads' attention rows are compared by their **Jensen–Shannon distance** (the square root of the "
        "Jensen–Shannon divergence in bits: 0 = identical rows, 1 = rows with no token in common), averaged "
        "over the tokens and then the sentences. **Multidimensional scaling** (MDS) places the heads in the "
        "plane so that their distances there match these as well as possible; the axes themselves mean nothing. "
        "The **clusters** group the heads into k by average linkage on the same distances (marker shape)."
    )
    st.caption(
        "A head's **behaviour** (colour) is its largest share of attention over the sentences, to the previous "
        f"token, the next, [CLS]/[SEP], punctuation or itself, when that share reaches {DOMINANT_SHARE:.0%}; "
        f"otherwise it is *broad* when its entropy reaches {BROAD_ENTROPY:.0%} of the uniform rows' (ln n), "
        "*mixed* if not. The sentences and the time budget are those chosen under “The same over many "
        "sentences” above."
    )


def head_map_section(model_name: str, sentences: list[str] | None, budget: float, scale: float, config: dict) -> None:
    """Every head as a point, placed by how differently the heads attend over many sentences (on request), coloured
    by its behaviour and shaped by its cluster; a click selects the head for the attention page."""
    st.header("A map of all heads", divider="gray")
    left, right = st.columns([7, 4], gap="large")
    with right:
        k = st.slider("Clusters (k)", 2, 8, 4, key="gnn_map_k", bind="query-params")
        explanation_slot = st.container()  # beside the map once it is drawn; under the button until then
        link = always_drawn()  # the link to the clicked head, once there is one
    with left:
        if not sentences:
            st.info("Upload a .txt file above (or choose the bundled sentences) to map the heads.", icon="ℹ️")
            return
        head_map = on_request(
            "head map", model_name, sentences, budget, f"Map the heads over {len(sentences)} sentences", "gnn_run_map"
        )
        if not isinstance(head_map, HeadMap):
            head_map_explanation()
            return
    with explanation_slot:
        head_map_explanation()
    with left:
        layers, heads = head_map.behaviours.shape
        selected = st.session_state.get("gnn_map_head")
        if selected is not None and not (selected[0] <= layers and selected[1] <= heads):
            selected = None  # clicked on a bigger model's map
        figure = head_map_figure(
            cached_layout(head_map.distances),
            head_map.behaviours,
            head_clusters(head_map.distances, k),
            selected,
            text_scale=scale,
        )
        st.plotly_chart(
            figure,
            key="gnn_head_map",
            on_select=partial(select_mapped_head, "gnn_head_map"),  # a page function would keep every run's output
            selection_mode="points",
            config=config,
        )
        everything = head_map.analysed == head_map.offered
        st.caption(
            f"{layers} × {heads} = {layers * heads} heads over {head_map.analysed} of {head_map.offered} sentences "
            f"({'all of them' if everything else 'the time budget ran out'}). Hover a point for its head; "
            "**click it** to select that head on the attention page."
        )
    if selected is not None:
        layer, head = selected
        link.page_link(
            "app_pages/attention.py",
            label=f"Open L{layer} H{head} ({head_map.behaviours[layer - 1, head - 1]}) on the attention page",
            icon="🕸️",
            query_params={"layer": layer, "head": head},  # the session's "layer" and "head" hold them too
        )


# 4 ── rollout and flow ───────────────────────────────────────────────────────────────────────────


def rollout_flow_section(result: AttentionResult, model_name: str, scale: float, config: dict, widths: dict) -> None:
    """How much of each input token reaches the top: attention rollout beside attention flow."""
    st.header("Rollout and flow: from the top back to the input", divider="gray")
    st.caption(
        "Rollout and flow answer one question in two ways: how much of each input token "
        "reaches a token at the top of the model, once the attention of every layer is "
        "followed back down? Each layer's heads are averaged, the residual connection added "
        "and the rows renormalised: "
        r"$\tilde A = \operatorname{rownorm}(\operatorname{mean}_h A_h + I)$. **Rollout** "
        "multiplies these matrices through the layers: the shares along every path are "
        "multiplied and the paths added up. **Flow** reads them as the capacities of pipes "
        "in a layered graph and sends as much as it can from a top token down to each input "
        "token (a maximum flow; Abnar & Zuidema 2020), so the narrowest link on the way "
        "limits what gets through. Each row is normalised to sum to 1."
    )
    tokenized, labels, causal = result.tokenized, result.tokenized.token_labels, result.tokenized.causal
    if causal:
        st.caption(
            "In a decoder every layer's graph is causal, so both matrices are lower triangular: a token at the "
            "top draws only on itself and the tokens before it, and the first token reaches every later one."
        )
    left, right = st.columns(2, gap="large")
    with left:
        st.subheader("Rollout")
        figure = heatmap_figure(rollout(result.attentions)[-1], labels, labels, text_scale=scale, causal=causal)
        figure.update_traces(colorbar_title_text="share from each input token")
        st.plotly_chart(fit_heatmap(figure, widths["half"]), key="gnn_rollout", width="content", config=config)
        st.caption("Row i: how top-layer token i spreads over the input tokens (columns), a share 0–1.")
    with right:
        st.subheader("Flow")
        output_names = {WHOLE_MATRIX: WHOLE_MATRIX, **{k: f"{label}  (token {k})" for k, label in enumerate(labels)}}
        choice = st.selectbox(
            "Output token",
            list(output_names),
            key="gnn_flow_token",
            bind="query-params",
            index=len(labels) if causal else 1,  # a decoder's last token sees the whole text
            format_func=output_names.get,
        )
        outputs = None if choice == WHOLE_MATRIX else (choice,)
        try:
            flow = cached_flow(model_name, tokenized.text, tokenized.pair or "", outputs)
        except FlowTooLongError as too_long:
            st.warning(str(too_long), icon="⏱️")
            return
        rows = labels if outputs is None else [labels[choice]]
        figure = heatmap_figure(flow, rows, labels, text_scale=scale, causal=causal and outputs is None)
        figure.update_traces(colorbar_title_text="share of flow")
        st.plotly_chart(fit_heatmap(figure, widths["half"]), key="gnn_flow", width="content", config=config)
        st.caption("Row: the top-layer token; columns: its share of maximum flow from each input token (0–1).")


def completeness_text(attribution: Attribution) -> str:
    """The completeness check and the Spearman correlation of one sentence's attributions, in words."""
    change = attribution.f_input - attribution.f_baseline
    rho = (
        "undefined (fewer than two word tokens)"
        if math.isnan(attribution.spearman)
        else f"**{attribution.spearman:+.2f}** over the word tokens ([CLS] and [SEP] left out)"
    )
    return (
        f"**Completeness:** Σ attributions = f(x) − f(baseline): {attribution.word_attributions.sum():.3f} vs "
        f"{change:.3f} ({attribution.f_input:.3f} − {attribution.f_baseline:.3f}), error "
        f"{attribution.completeness_error_percent:.2f} % (the integral taken with {STEPS} points). "
        f"**Spearman's ρ** between attribution and rollout: {rho} (1: the same ranking, 0: unrelated, −1: reversed)."
    )


def attribution_section(result: AttentionResult, model: AttentionModel, scale: float, config: dict) -> None:
    """Integrated gradients per word beside the pooled output's rollout share, for the sentence or, one sentence at a
    time, for the pair's cosine similarity; core encoders only."""
    st.subheader("Attribution beside rollout: which words make the output?")
    if not isinstance(model.network, Encoder):
        why = (
            f"{model.name} is a decoder: its output is the next word, not a sentence embedding"
            if model.causal
            else f"{model.name} runs on transformers' own code here, not the core network"
        )
        st.info(
            f"Integrated gradients are computed here for the sentence embedding of a core encoder (the mean of the "
            f"top layer's tokens, normalised, as sentence-transformers embed a sentence); {why}. Choose the bundled "
            "model or a BERT-family model in the sidebar.",
            icon="ℹ️",
        )
        return
    tokenized = result.tokenized
    n = len(tokenized)
    if n > AUTO_SWEEP_TOKENS and not st.toggle(f"Compute the attributions for {n} tokens (slow)", key="gnn_ig_long"):
        st.info(f"Integrated gradients run the encoder {STEPS} times per sentence; for {n} tokens that takes a while.")
        return
    sentences = cached_attribution(model.name, tokenized.text, tokenized.pair or "")
    pair = len(sentences) == 2
    output = (
        "the cosine similarity of the two sentences, each embedded on its own (mean of the top layer's tokens, "
        "normalised), attributed to one sentence at a time with the other held fixed: "
        f"f(x) = cos(A, B) = {sentences[0][0].f_input:.3f}"
        if pair
        else "the sentence embedding (mean of the top layer's tokens, normalised) projected on its own direction, "
        "so that f(x) = 1 for the sentence itself"
    )
    explanation = (
        "**Integrated gradients** (Sundararajan et al. 2017) measure how much each word moves the output: its word "
        "vector is slid from a baseline to its value, the gradient of the output summed along the way. Here the "
        f"output is {output}. The **baseline** replaces every word by [PAD], the model's “no word”; positions and "
        "[CLS]/[SEP] stay, so their attribution is 0, and the bars add up to f(x) − f(baseline) (completeness). "
        "Red bars pull the output down. **Rollout** (grey, right) is the mean-pooled output's share of each word, "
        "attention followed back through every layer (the matrix above, averaged over its rows; Σ = 1). "
        "**Spearman's ρ** compares the two rankings of the words: near 1, attention's picture of what matters "
        "agrees with the gradients'; near 0, attention weights do not say which words matter."
    )
    if not pair:
        left, right = st.columns(2, gap="large")
        with right:
            st.caption(explanation)
        columns = [left]
    else:
        st.caption(explanation)
        columns = st.columns(2, gap="large")
    names = ("first sentence (A)", "second sentence (B)") if pair else ("the sentence",)
    for index, (column, name, (attribution, shares)) in enumerate(zip(columns, names, sentences)):
        with column:
            if pair:
                st.markdown(f"**{name}**")
            figure = attribution_figure(attribution.words, attribution.word_attributions, shares, text_scale=scale)
            st.plotly_chart(figure, key=f"gnn_attribution_{index}", config=config)
            st.caption(completeness_text(attribution))


# 5 ── RNN vs attention ───────────────────────────────────────────────────────────────────────────


def rnn_section(scale: float, config: dict) -> None:
    """What an RNN keeps of a word n steps back (rⁿ) against attention's one step."""
    st.header("Why attention: an RNN forgets step by step", divider="gray")
    left, right = st.columns([7, 4], gap="large")
    with right:
        keep_rate = st.slider(
            "Share an RNN step keeps (r)", 0.05, 0.99, 0.5, 0.01, key="gnn_keep_rate", bind="query-params"
        )
        distance = st.slider("Words back (n)", 1, 50, 10, key="gnn_distance", bind="query-params")
        rnn_share, attention_share = rnn_vs_attention(keep_rate, distance)
        st.metric(f"RNN: {keep_rate:g}^{distance}", f"{rnn_share:.3g}")
        st.metric(
            "Attention: one step",
            f"{attention_share:g}",
            help="Attention reaches any earlier word in one step, whatever the distance.",
        )
    with left:
        st.plotly_chart(rnn_memory_figure(keep_rate, max(20, distance), text_scale=scale), key="gnn_rnn", config=config)
        st.caption(
            "Share of the first word left in the state after n steps (log scale): rⁿ for an "
            "RNN that keeps a share r per step, r for attention's direct edge. 0.5¹⁰ ≈ "
            "0.001."
        )


# 6 ── model sizes ────────────────────────────────────────────────────────────────────────────────


def model_sizes_section(scale: float, config: dict) -> None:
    """Parameters of each model, counted from its config, as a chart and a table."""
    st.header("How big are these models?", divider="gray")
    left, right = st.columns([7, 4], gap="large")
    configs = model_configs()  # read once: the bundled model's config.json is a file
    sizes = {name: parameter_count(cfg) for name, cfg in configs.items()}
    with left:
        st.plotly_chart(model_size_figure(sizes, text_scale=scale), key="gnn_sizes", config=config)
    # A table, not a dataframe: its text wraps and grows with the page's, so no column is ever cut.
    with right:
        st.table(
            pd.DataFrame(
                {
                    "layers": [cfg["num_hidden_layers"] for cfg in configs.values()],
                    "hidden size": [cfg["hidden_size"] for cfg in configs.values()],
                    "parameters (millions)": [count.total / 1e6 for count in sizes.values()],
                },
                index=list(sizes),
            ).style.format({"parameters (millions)": "{:.1f}"})
        )
        st.caption(
            "Parameters of the encoder with its pooler, in millions, counted from each "
            "config: BERT-BASE ≈ 110 M, BERT-LARGE ≈ 340 M, the bundled MiniLM ≈ 22.7 M. "
            "The word-embedding table is a large share of the small model."
        )


# 7 ── static vs contextual graphs ────────────────────────────────────────────────────────────────


def word_graphs_section(result: AttentionResult, layer: int, scale: float, config: dict) -> None:
    """The sentence's corpus words linked once and for all by co-occurrence, beside the same words
    linked by the attention of ``layer`` in this sentence."""
    st.header("Static vs contextual word graphs", divider="gray")
    st.caption(
        "A bag-of-words model links two words by how often they share a sentence of the "
        "corpus, once and for all. Attention links the same words anew in every sentence, "
        "from what they mean there."
    )
    matrix, similarity = corpus_words()
    labels, attentions = attention_view(result.tokenized, result.attentions, ViewOptions(words=True))  # (L, H, w, w)
    positions, columns = known_words(matrix, labels)
    known = len(positions)
    # More words make no readable circle.
    positions, columns = positions[:WORD_GRAPH_WORDS], columns[:WORD_GRAPH_WORDS]
    if len(positions) < 2:
        st.info(
            "Fewer than two words of this sentence occur in the bundled corpus (stop words "
            "left out), so there is no static graph to compare. Try an example from the "
            "sidebar.",
            icon="ℹ️",
        )
        return
    words = [matrix.words[w] for w in columns]
    left, right = st.columns(2, gap="large")
    with left:
        shown = (
            f"the first {len(positions)} of the text's {known} corpus words"
            if known > len(positions)
            else "the text's corpus words"
        )
        static_graph(words, similarity[np.ix_(columns, columns)], matrix, shown, scale, config)
    with right:
        among = drop_tokens(attentions[layer - 1].mean(axis=0), positions)  # (k, k), rows sum to 1
        contextual_graph(words, among, layer)


def static_graph(
    words: list[str], similarity: np.ndarray, matrix: DocumentWordMatrix, shown: str, scale: float, config: dict
) -> None:
    """The words' corpus co-occurrence graph: an edge where their cosine similarity (k, k) passes a
    threshold."""
    st.subheader("Static: corpus co-occurrence")
    threshold = st.slider(
        "Minimum cosine similarity", 0.0, 1.0, 0.1, 0.05, key="gnn_static_threshold", bind="query-params"
    )
    static = similarity_graph(words, similarity, threshold=threshold)
    st.plotly_chart(similarity_graph_figure(static, text_scale=scale), key="gnn_static", config=config)
    st.caption(
        f"{static.number_of_edges()} edges between {shown}: cosine similarity (0–1) of the "
        f"words' columns in the {matrix.counts.shape[0]} sentences × {len(matrix.words)} "
        "words count matrix of the bundled corpus; the same in every sentence."
    )


def contextual_graph(words: list[str], attention: np.ndarray, layer: int) -> None:
    """The same words linked by this sentence's attention (k, k) among them, each row summing to 1:
    each word's strongest edges."""
    st.subheader("Contextual: attention in this sentence")
    top_k = st.slider(
        "Edges per word (k)",
        1,
        max(1, len(words) - 1),
        min(2, len(words) - 1),
        key="gnn_context_k",
        bind="query-params",
    )
    graph = attention_graph(attention, words, prune(attention, Pruning("top_k", k=top_k)))
    st.iframe(graph_html(graph, "circle", height_px=440, served=True), height=460)
    st.caption(
        f"Layer {layer} (the layer chosen above), mean of its heads, between the same words "
        "only: each word's attention to the others, renormalised to sum to 1, its k "
        "strongest edges drawn; hover an edge for its weight (0–1)."
    )


# ── the page ─────────────────────────────────────────────────────────────────────────────────────

st.title("Transformer = GNN")
st.caption(
    "A Transformer layer is a graph neural network: the words are nodes, each head's attention is a "
    "weighted adjacency matrix, and every word updates itself from the messages of its neighbours: "
    "every word in an encoder (a complete graph), itself and the words before it in a decoder (a "
    "causal graph)."
)

result = current_analysis()
if result is None:
    st.stop()
# The model current_analysis ran (the bundled one if the choice failed).
model = cached_model(result.model)
if not isinstance(model, AttentionModel):
    st.info(
        f"This page recomputes the layers of an encoder or a decoder; {model.name} is an encoder–decoder with a page "
        "of its own. Choose the bundled model in the sidebar to read on.",
        icon="ℹ️",
    )
    st.page_link("app_pages/translator.py", label="The small Transformer's page", icon="🗼")
    st.stop()
clamp("gnn_layer", result.num_layers)  # a smaller model than the last one
clamp("gnn_head", result.num_heads)
config = figure_config(st.session_state.get("image_format", "png"), "transformer-gnn")
scale = text_scale()  # figures' text grows with the page's in presentation mode
widths = COLUMN_WIDTHS_PX[presenting()]
layer = term_by_term_section(result, model, scale, config, widths)
soft_vs_hard_section(result, model, scale, config)
corpus_sentences, corpus_budget = head_summary_section(result, model.name, scale, config)
with always_drawn():  # the map appears on request, above the bound widgets below
    head_map_section(model.name, corpus_sentences, corpus_budget, scale, config)
rollout_flow_section(result, model.name, scale, config, widths)
with always_drawn():  # a figure per sentence, or a note, above the bound widgets below
    attribution_section(result, model, scale, config)
rnn_section(scale, config)
model_sizes_section(scale, config)
word_graphs_section(result, layer, scale, config)
