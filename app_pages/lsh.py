"""Reformer: LSH buckets — one head of the sentence hashed into buckets, the hash in 2-D, quality, and scaling."""

import numpy as np
import streamlit as st
import torch

from core.analysis.graph import attention_graph
from core.lsh.inspection import (
    SYNTHETIC_KINDS,
    centre_queries,
    collision_probability,
    mean_cosine,
    toy_buckets,
    toy_directions,
    toy_points,
    toy_rotations,
    toy_sectors,
    window_slots,
)
from core.lsh.reformer import LSHConfig, mass_kept
from core.lsh.scaling import length_within, loglog_crossing
from figures.attention_figures import fit_heatmap, heatmap_figure
from figures.attention_graph import LAYOUT_NAMES, MAX_GRAPH_NODES, graph_html
from figures.lsh_figures import (
    attention_pair_figures,
    bucket_sizes_figure,
    buckets_figure,
    collision_figure,
    difference_figure,
    focus_figure,
    quality_figure,
    scaling_memory_figure,
    scaling_time_figure,
    sorted_chunks_figure,
    toy_figure,
)
from figures.theme import figure_config
from ui.analysis import current_analysis
from ui.lsh import head_hashing, live_benchmark, scaling_table, sentence_quality, synthetic_quality
from ui.presentation import text_scale

BUCKET_CHOICES = [2, 4, 6, 8, 12, 16]
ROUND_CHOICES = [1, 2, 3, 4, 8]
QUALITY_BUCKETS, QUALITY_ROUNDS, QUALITY_SEEDS = (2, 4, 8, 16), (1, 2, 4, 8), 10
SYNTHETIC_LENGTHS, SYNTHETIC_BUCKETS, SYNTHETIC_CHUNK, SYNTHETIC_CAP_S = [256, 512, 1024], (8, 16, 32, 64), 64, 20
SYNTHETIC_NAMES = {"duplicates": "Duplicates", "clusters": "Clusters", "random": "No structure"}
LIVE_LENGTHS, LIVE_CAP_S = [256, 512, 1024, 2048, 4096, 8192], 30
BUDGETS_MIB = [16, 64, 256, 1024, 4096]
GiB = 1024  # MiB

st.title("Reformer: LSH buckets")
st.caption(
    "Full attention is a **soft** structure: every token attends to every token — L² weighted pairs. Reformer "
    "(Kitaev, Kaiser & Levskaya 2020) makes it **hard**: a random hash drops tokens whose vectors point the same way "
    "into the same bucket, and a token attends only to tokens near it in bucket order — about L·2m pairs. "
    "**Buckets**: one real head of the sidebar's sentence goes through the hash. **Hash**: the hash drawn in 2-D. "
    "**Quality**: how much of full attention survives it. **Scaling**: time and memory against full attention."
)

result = current_analysis()
image_format = st.session_state.get("image_format", "png")
scale = text_scale()  # figures' text grows with the page's in presentation mode
# One plain word per tab: the active tab's label is its value in the address bar (lsh_tab=Quality).
tabs = st.tabs(["Buckets", "Hash", "Quality", "Scaling"], key="lsh_tab", bind="query-params", on_change="rerun")
for tab in tabs:
    if not tab.open:  # clear a closed tab now, not after the run: the bucket and quality tabs draw the same
        tab.empty()   # URL-bound controls, and an old copy removed after the new one is drawn unbinds it (app.py)


def head_controls(with_hash: bool = True) -> tuple[int, int, LSHConfig, bool]:
    """The head to hash and the hash's settings, drawn into the current (horizontal) container; the bucket and the
    quality tab draw them with the same keys, so they share the values.

    The head is the attention page's, kept in step both ways through the shared "layer" and "head" (which the
    sidebar's examples set too): a head chosen elsewhere since this page last ran is taken over, and the head
    chosen here is written back."""
    layers, heads = result.num_layers, result.num_heads
    shared = (st.session_state.get("layer"), st.session_state.get("head"))
    if shared != st.session_state.get("lsh_shared"):
        if isinstance(shared[0], int):
            st.session_state["lsh_layer"] = shared[0]
        if isinstance(shared[1], int):  # not "mean"
            st.session_state["lsh_head"] = shared[1]
    for key, largest in (("lsh_layer", layers), ("lsh_head", heads)):
        if st.session_state.get(key, 1) > largest:  # assign only then: it rewrites the address bar (see app.py)
            st.session_state[key] = largest
    layer = st.slider("Layer", 1, layers, key="lsh_layer", bind="query-params", width=170)
    head = st.slider("Head", 1, heads, key="lsh_head", bind="query-params", width=210)
    st.session_state["layer"], st.session_state["head"] = st.session_state["lsh_shared"] = layer, head
    if with_hash:
        n_buckets = st.select_slider("Buckets", BUCKET_CHOICES, value=4,
                                     key="lsh_buckets", bind="query-params", width=190,
                                     persist_state="page",
                                     help="n_buckets: the hash sends each vector to one of this many buckets.")
        n_hashes = st.select_slider("Hash rounds", ROUND_CHOICES, value=1,
                                    key="lsh_rounds", bind="query-params", width=170,
                                    persist_state="page",
                                    help="n_hashes: independent hashes; a token attends within its window of every "
                                         "round, so more rounds miss fewer related tokens (and cost more).")
    else:
        n_buckets, n_hashes = st.session_state.get("lsh_buckets", 4), st.session_state.get("lsh_rounds", 1)
    chunk = st.slider("Chunk length m", 2, 16, 4, key="lsh_chunk", bind="query-params", width=170,
                      help="The sorted sequence is cut into chunks of m slots; a chunk attends to itself and the "
                           "chunk before it.")
    if with_hash:
        seed = st.number_input("Rotation seed", 0, 9999, 0,
                               key="lsh_seed", bind="query-params", width=130, persist_state="page",
                               help="Seeds the random rotation R of the hash.")
    else:
        seed = st.session_state.get("lsh_seed", 0)
    centre = st.toggle("Centre the queries", key="lsh_centre", bind="query-params",
                       help="Subtract the mean query before hashing and attending. This model was not trained for "
                            "LSH: its queries share a direction, so one bucket takes most tokens; without it they "
                            "spread over the buckets, as a head trained with LSH would learn to.")
    config = LSHConfig(n_buckets=n_buckets, n_hashes=n_hashes, chunk_length=chunk, seed=int(seed))
    return layer, head, config, centre


def head_queries(layer: int, head: int, centre: bool) -> np.ndarray:
    """The queries (tokens, head size) of one head, centred when asked."""
    queries = result.queries[layer - 1, head - 1]
    return centre_queries(queries) if centre else queries


def no_queries_message() -> bool:
    """True, with a message on screen, when the sentence's heads cannot be hashed."""
    if result is None:
        st.info("Type a sentence in the sidebar to hash its heads.", icon="✍️")
        return True
    if result.queries is None:
        st.warning(
            f"{result.model} runs through transformers' own implementation, which does not hand out each head's "
            "query vectors, so its heads cannot be hashed here. Pick the bundled MiniLM or a BERT, RoBERTa or "
            "DistilBERT model in the sidebar. The 2-D hash and the scaling tabs work without one.", icon="🪣")
        return True
    return False


def percent(share: float) -> str:
    return f"{100 * share:.0f} %"


# --- tab 1: the bucket view -----------------------------------------------------------------------------------

if tabs[0].open:
    with tabs[0]:
        if not no_queries_message():
            with st.container(horizontal=True, vertical_alignment="bottom", gap="small"):
                layer, head, config, centre = head_controls()
            st.caption(
                "Defaults for a sentence of ~16 tokens: **4 buckets** of ~4 tokens, **chunks of m = 4** — a token "
                "sees its chunk and the one before, 8 slots, about half the sentence — and **1 round**. (The paper's "
                "$m = 2L / n_\\text{buckets} = 64$ is for inputs of thousands of tokens.) **Shared-QK**, as in "
                "Reformer: each token has one vector that serves as both its query and its key, so two tokens "
                "attend strongly to each other when their vectors point the same way — just what the hash puts into "
                "one bucket. Here "
                "that vector is this head's query (as a key, scaled to length 1): “full attention” below is "
                "$\\operatorname{softmax}(q \\cdot k)$ over all the other tokens' keys, not the model's own "
                "attention, which has separate keys (that one is at the end)."
            )
            queries = head_queries(layer, head, centre)  # (n, head size)
            labels = result.tokenized.token_labels
            n = len(labels)
            hashing = head_hashing(queries, config.n_buckets, config.n_hashes, config.chunk_length, config.seed)
            share, mass = hashing.keys_share(), hashing.mass_kept()
            name = f"layer {layer}, head {head}"
            with st.container():  # always drawn, so the widgets below keep their place (see app.py)
                if hashing.one_chunk:
                    st.info(f"The {n} tokens fit in one chunk of m = {config.chunk_length}: LSH attention is full "
                            "attention here. Lower the chunk length to see the hard structure.", icon="ℹ️")
            with st.container(horizontal=True, gap="medium"):
                st.metric("Tokens L", n, border=True, height="stretch")  # stretch: the row's cards as tall
                st.metric("Pairs computed", f"{hashing.pairs():,} of {n * (n - 1):,}", border=True, height="stretch",
                          delta=f"{percent(share)} of full attention's", delta_color="off", delta_arrow="off",
                          help="Query–key pairs that get a weight (self excluded): the cost of LSH against full "
                               "attention's L·(L − 1).")
                st.metric("Attention mass kept", percent(mass), border=True, height="stretch",
                          delta=f"{100 * (mass - share):+.0f} pts vs as many random keys",
                          help="Share of full attention's probability mass on the keys LSH attends to, mean over "
                               "tokens. As many keys picked at random would keep the share of pairs computed.")
                st.metric("Strongest key seen", percent(hashing.top_k_recall(1)), border=True, height="stretch",
                          help="Share of tokens whose strongest key under full attention is in one of their LSH "
                               "windows (top-1 recall).")

            st.subheader("1 · Hash: each token gets a bucket, in every round")
            st.plotly_chart(buckets_figure(labels, hashing.buckets, config.total_buckets, text_scale=scale),
                            key="lsh_buckets_fig", config=figure_config(image_format, "lsh-buckets"))
            st.caption("$h(x) = \\arg\\max\\,[xR;\\,-xR]$ with a random matrix $R$ (see the Hash tab): tokens "
                       "whose query vectors point the same way tend to share a colour. Each round draws its own $R$.")

            st.subheader("2 · Sort by bucket, cut into chunks of m, attend to your chunk and the one before")
            default_focus = next((i for i, label in enumerate(labels) if label.lower() == "it"), min(1, n - 1))
            with st.container(horizontal=True, vertical_alignment="bottom"):
                focus = st.selectbox("Follow the token", [None, *range(n)], index=1 + default_focus,
                                     key="lsh_focus", bind="query-params",
                                     format_func=lambda i: "—" if i is None else f"{labels[i]} ({i})", width=260)
            window = None if focus is None else window_slots(hashing.order, config, focus)
            st.plotly_chart(
                sorted_chunks_figure(labels, hashing.order, hashing.buckets, hashing.chunks, window=window,
                                     focus=focus, text_scale=scale),
                key="lsh_sorted", config=figure_config(image_format, "lsh-sorted-chunks"))
            seen = "" if focus is None else (
                f" The outlined “{labels[focus]}” sees only the bright slots: its chunk and the one before, in "
                f"each round — {int((hashing.lsh[focus] > 0).sum())} of the {n - 1} other tokens.")
            st.caption("The paper's Fig. 2: each round's tokens sorted by (bucket, position), the rounds laid end to "
                       f"end and cut every m = {config.chunk_length} slots (thick lines); the first chunk looks back "
                       "to the last. A token never attends to itself unless it has nothing else." + seen)

            left, right = st.columns([3, 2], gap="large")
            with left:
                if focus is not None:
                    st.markdown(f"**What “{labels[focus]}” attends to**")
                    st.plotly_chart(focus_figure(labels, hashing.full[focus], hashing.lsh[focus], focus,
                                                 text_scale=scale),
                                    key="lsh_focus_fig", config=figure_config(image_format, "lsh-focus"))
                    st.caption("Grey: full shared-QK attention over every token; blue: LSH attention, only over the "
                               "tokens in its windows, renormalised to sum to 1.")
            with right:
                st.markdown("**Bucket sizes**")
                st.plotly_chart(bucket_sizes_figure(hashing.sizes(), config.chunk_length, text_scale=scale),
                                key="lsh_sizes",
                                config=figure_config(image_format, "lsh-bucket-sizes"))
                st.caption(f"Tokens per bucket; the mean cosine between this head's {'centred ' if centre else ''}"
                           f"queries is {mean_cosine(queries):.2f}. The more they share a direction, the more tokens "
                           "one bucket takes. A bucket larger than a chunk spills into the next chunk, and only part "
                           "of it sees the rest.")

            st.subheader(f"3 · Soft vs hard: the graph of {name}")
            with st.container(horizontal=True, vertical_alignment="bottom"):
                layout = st.segmented_control("Layout", list(LAYOUT_NAMES),
                                              key="lsh_layout", bind="query-params", default="circle",
                                              format_func=LAYOUT_NAMES.get) or "circle"
            graph_full, graph_lsh = attention_graph(hashing.full, labels), attention_graph(hashing.lsh, labels)
            if n > MAX_GRAPH_NODES:
                st.info(f"{n} tokens are too many for a readable graph (the limit is {MAX_GRAPH_NODES}); the "
                        "heatmaps below show the same matrices.")
            else:
                left, right = st.columns(2, gap="large")
                with left:
                    st.markdown(f"**Full attention (shared-QK)** — soft: {graph_full.number_of_edges()} edges, "
                                "every pair")
                    st.iframe(graph_html(graph_full, layout, height_px=500, served=True), height=520)
                with right:
                    st.markdown(f"**LSH attention** — hard: {graph_lsh.number_of_edges()} edges, only pairs that "
                                "share a window")
                    st.iframe(graph_html(graph_lsh, layout, height_px=500, served=True), height=520)
                st.caption("Edge width and opacity grow with the weight (a probability, 0–1; each token's outgoing "
                           "weights sum to 1); hover an edge for its value. LSH renormalises each token's weights "
                           "over the keys it sees, so its edges are heavier.")

            full_figure, lsh_figure = attention_pair_figures(hashing.full, hashing.lsh, labels, text_scale=scale)
            st.caption("Rows: the token attending (from); columns: the token attended to; one colour scale for the "
                       "first two. Red: weight LSH drops (keys outside every window of the row's token); blue: "
                       "weight it gains, as the kept keys share out the dropped mass. Hover a cell for its weights.")
            # Each heatmap as large as its token count needs: side by side while they fit, one under the other after.
            with st.container(horizontal=True, gap="medium"):
                for title, figure, key in (
                    ("Full attention (shared-QK)", full_figure, "lsh_full_heatmap"),
                    ("LSH attention", lsh_figure, "lsh_lsh_heatmap"),
                    ("Difference: LSH − full", difference_figure(hashing.full, hashing.lsh, labels, text_scale=scale),
                     "lsh_difference"),
                ):
                    with st.container(width="content"):
                        st.markdown(f"**{title}**")
                        st.plotly_chart(figure, key=key, width="content",
                                        config=figure_config(image_format, key.replace("_", "-")))

            with st.expander(f"The model's own attention for {name} (separate queries and keys)"):
                model_attention = result.attentions[layer - 1, head - 1]
                kept = mass_kept(torch.from_numpy(model_attention), torch.from_numpy(hashing.lsh))
                st.markdown(
                    "The model computes softmax(q·k / √d) with its own key vectors; Reformer ties the keys to the "
                    f"queries. The LSH windows above cover **{percent(kept)}** of this head's real attention mass "
                    f"(as many random keys: {percent(share)}).")
                st.plotly_chart(fit_heatmap(heatmap_figure(model_attention, labels, labels, text_scale=scale)),
                                key="lsh_model_heatmap", width="content",
                                config=figure_config(image_format, "lsh-model-attention"))

# --- tab 2: the hash in 2-D -------------------------------------------------------------------------------------


def new_rotations() -> None:
    st.session_state["toy_seed"] = st.session_state.get("toy_seed", 0) + 1


@st.fragment
def hash_toy() -> None:
    """Points on a circle, the hash's random directions, buckets as sectors; a button draws new rotations."""
    seed = st.session_state.setdefault("toy_seed", 0)
    with st.container(horizontal=True, vertical_alignment="bottom", gap="large"):
        n_buckets = st.segmented_control("Buckets", [2, 4, 6, 8], default=4, key="toy_buckets", bind="query-params",
                                         required=True) or 4
        rounds = st.segmented_control("Rounds", [1, 2, 3], default=2,
                                      key="toy_rounds", bind="query-params", required=True) or 2
        count = st.slider("Points", 3, 30, 12, key="toy_count", bind="query-params", width=240)
        st.button("🎲 Draw new rotations", key="toy_new", on_click=new_rotations, type="primary")
    config = LSHConfig(n_buckets=n_buckets, n_hashes=rounds, seed=seed)
    rotations = toy_rotations(config)  # (2, rounds, b/2)
    points = toy_points(count, seed=1)
    st.plotly_chart(toy_figure(points, toy_buckets(points, rotations, config), toy_sectors(rotations, config),
                               toy_directions(rotations), text_scale=scale), key="toy_figure",
                    config=figure_config(image_format, "lsh-hash-2d"))
    left, right = st.columns([1, 1], gap="large")
    with left:
        st.markdown(
            f"**The hash, h(x) = argmax([xR ; −xR]).** R is a random {2}×{n_buckets // 2} Gaussian matrix (seed "
            f"{seed}). Its columns and their negatives are the {n_buckets} arrows (drawn to scale, dotted for −R); a "
            "point lands in the bucket of the arrow it projects onto most, so the circle splits into sectors. "
            "Nearby points usually share a sector, far ones rarely — but a cluster astride a boundary is cut in "
            "two, which is why Reformer hashes several rounds and lets a token attend within its bucket in any "
            "of them. In the model the same happens in 32 or 64 dimensions, with the head's normalised queries "
            "as the points.")
    with right:
        angles = np.linspace(0, np.pi, 61)
        one, any_round = collision_probability(angles, config, trials=2000)
        st.plotly_chart(collision_figure(np.degrees(angles), one, any_round, rounds, text_scale=scale),
                        key="toy_collisions",
                        config=figure_config(image_format, "lsh-collisions"))
        st.caption(f"How often two points share a bucket against the angle between them, over 2,000 random "
                   f"rotations with {n_buckets} buckets: locality-sensitive hashing.")


if tabs[1].open:
    with tabs[1]:
        hash_toy()

# --- tab 3: quality ---------------------------------------------------------------------------------------------


if tabs[2].open:
    with tabs[2]:
        st.markdown("How much of full attention survives the hash, against the number of buckets and rounds. "
                    "**Mass kept**: the share of each token's full attention that falls on keys LSH attends to "
                    "(full *shared-QK* attention: each token's query is also its key, as in Reformer). **Top-k "
                    "recall**: the share of each token's k strongest keys that it sees. **Keys computed**: the cost "
                    "— and the mass that as many *random* keys would keep (dashed).")
        st.subheader("This sentence, live")
        with st.container(horizontal=True, vertical_alignment="bottom", gap="small"):
            k = st.slider("k (top-k recall)", 1, 5, 1, key="lsh_k", bind="query-params", width=200)
            controls = None if result is None or result.queries is None else head_controls(with_hash=False)
        if not no_queries_message():
            layer, head, config, centre = controls
            queries = head_queries(layer, head, centre)
            points = sentence_quality(queries, QUALITY_BUCKETS, QUALITY_ROUNDS, config.chunk_length, k,
                                      QUALITY_SEEDS)
            st.plotly_chart(quality_figure(points, k, highlight=(config.n_buckets, config.n_hashes),
                                           highlight_name="bucket tab's setting", text_scale=scale),
                            key="lsh_quality_sentence", config=figure_config(image_format, "lsh-quality"))
            st.caption(f"Layer {layer}, head {head}{' (centred)' if centre else ''}: {len(result.tokenized)} "
                       f"tokens, chunks of m = {config.chunk_length}, mean over {QUALITY_SEEDS} rotation seeds. On "
                       "a short sentence a window is a large part of the sentence and this head's attention is "
                       "spread out, so LSH keeps little more than random keys would: hashing pays off on long "
                       "inputs whose attention is peaked (below).")

        st.subheader("Synthetic long sequences")
        with st.container(horizontal=True, vertical_alignment="bottom", gap="large"):
            kind = st.segmented_control("Queries", list(SYNTHETIC_KINDS), default="duplicates",
                                        format_func=SYNTHETIC_NAMES.get,
                                        key="lsh_kind", bind="query-params", required=True)
            length = st.select_slider("Length L", SYNTHETIC_LENGTHS, value=1024,
                                      key="lsh_length", bind="query-params", width=300)
        points, complete = synthetic_quality(kind or "duplicates", length, k, SYNTHETIC_BUCKETS, QUALITY_ROUNDS,
                                             SYNTHETIC_CHUNK, SYNTHETIC_CAP_S)
        if not complete:
            st.warning(f"The sweep stopped at its {SYNTHETIC_CAP_S} s cap: the curves are partial.", icon="⏱️")
        paper_buckets = 2 * length // SYNTHETIC_CHUNK
        st.plotly_chart(quality_figure(points, k, highlight=(paper_buckets, 1), highlight_name="paper's n_buckets",
                                       text_scale=scale),
                        key="lsh_quality_synthetic", config=figure_config(image_format, "lsh-quality-synthetic"))
        st.caption(f"{length} random 64-dimensional queries of length 12, chunks of m = {SYNTHETIC_CHUNK}; ringed: "
                   f"the paper's n_buckets = 2L/m = {paper_buckets} with one round. **Duplicates**: every vector "
                   "appears twice (the paper's duplication task), so attention peaks on the copy. **Clusters**: "
                   "groups of 16 noisy copies. **No structure**: random directions — LSH keeps what random keys "
                   "would.")

# --- tab 4: scaling ---------------------------------------------------------------------------------------------

if tabs[3].open:
    with tabs[3]:
        table = scaling_table()
        rows, setup = table["rows"], table["setup"]
        lengths = [row["length"] for row in rows]
        cap_mib = setup["cap_bytes"] / 2**20
        crossover = loglog_crossing(lengths, [row["full_ms"] / row["lsh_ms"] if row["full_ms"] else None
                                              for row in rows])
        longest = [row for row in rows if row["full_ms"] and row["lsh_ms"]][-1]  # the longest both kernels ran
        full_cap = length_within(cap_mib, lengths, [row["full_mib"] for row in rows])
        lsh_cap = length_within(cap_mib, lengths, [row["lsh_mib"] for row in rows])
        grid_ratio = table["longest_lsh"] / table["longest_full"]
        st.markdown(
            f"One attention head (d = {setup['d_head']}, float32, {setup['threads']} thread) on this app's "
            f"{setup['cpu']} ({setup['cpus']} CPUs): full attention (softmax(QKᵀ/√d)V, an L × L matrix) against "
            f"LSH attention ({setup['n_hashes']} rounds, chunks of {setup['chunk_length']}, n_buckets = 2L/"
            f"{setup['chunk_length']}). Measured by `python bench/lsh.py`; shipped in assets/lsh_scaling.json.")
        with st.container(horizontal=True, gap="large"):
            st.metric("LSH is faster beyond", f"≈ {crossover:,.0f} tokens", border=True, height="stretch",
                      help="Where full / LSH time crosses 1, interpolated log-log between the measured lengths.")
            st.metric(f"At {longest['length']:,} tokens", f"{longest['full_ms'] / longest['lsh_ms']:.1f}× faster",
                      border=True, height="stretch",
                      delta=f"{longest['full_mib'] / longest['lsh_mib']:.0f}× less memory", delta_color="off",
                      delta_arrow="off")
            st.metric(f"Longest input in {cap_mib / GiB:g} GiB",
                      f"{table['longest_lsh']:,} vs {table['longest_full']:,}", border=True, height="stretch",
                      delta=f"{grid_ratio:.0f}× more tokens with LSH", delta_color="off", delta_arrow="off",
                      help="On the benchmark's doubling grid of lengths; full attention beyond "
                           f"{table['longest_full']:,} tokens from its formula.")
        finding = (
            f"In the same {cap_mib / GiB:g} GiB, LSH attention holds {table['longest_lsh']:,} tokens against full "
            f"attention's {table['longest_full']:,}: **{grid_ratio:.0f}×** on the doubling grid, ≈ "
            f"{lsh_cap / full_cap:.0f}× interpolating ({lsh_cap:,.0f} vs {full_cap:,.0f}). This is one head's "
            "attention memory; a whole model also stores activations per layer, which Reformer shrinks with "
            "reversible layers and chunked feed-forward.")
        if min(grid_ratio, lsh_cap / full_cap) >= 10:
            st.success(f"**The chapter's “tens of times more words”: checked, it holds.** {finding}", icon="✅")
        else:
            st.warning(f"**The chapter's “tens of times more words” does not hold here.** {finding}", icon="⚠️")

        with st.container(horizontal=True, vertical_alignment="bottom", gap="large"):
            budget = st.select_slider("Memory budget for one head's attention", BUDGETS_MIB, value=GiB * 4,
                                      format_func=lambda mib: f"{mib / GiB:g} GiB" if mib >= GiB else f"{mib} MiB",
                                      key="lsh_budget", width=420)
        budget_full = length_within(budget, lengths, [row["full_mib"] for row in rows])
        budget_lsh = length_within(budget, lengths, [row["lsh_mib"] for row in rows])
        budget_name = f"{budget / GiB:g} GiB" if budget >= GiB else f"{budget} MiB"
        st.markdown(f"In **{budget_name}**, full attention fits ≈ {budget_full:,.0f} tokens and LSH ≈ "
                    f"{budget_lsh:,.0f}: **{budget_lsh / budget_full:.1f}×** as many. The ratio grows with the "
                    "budget, since full attention's memory grows as L² and LSH's as L.")

        st.markdown("**Measure on this machine now** — a small live run of the same kernels (time: median of 3 "
                    "calls; memory: bench/lsh.py's method, a fresh process per point, ≈ 2 s each).")
        with st.container(horizontal=True, vertical_alignment="bottom", gap="large"):
            longest = st.select_slider("Up to L", LIVE_LENGTHS, value=4096,
                                       key="lsh_live_longest", bind="query-params", width=320)
            memory = st.checkbox("Peak memory too", value=True, key="lsh_live_memory", bind="query-params")
            run = st.button(f"▶ Run (at most {LIVE_CAP_S} s)", key="lsh_live_run")
        if run:
            live_lengths = [length for length in LIVE_LENGTHS if length <= longest]
            bar = st.progress(0.0, text="Measuring…")
            live = []
            for row in live_benchmark(live_lengths, LIVE_CAP_S, memory):
                live.append(row)
                bar.progress(len(live) / len(live_lengths), text=f"L = {row['length']:,} measured")
            bar.empty()
            st.session_state["lsh_live"] = live
        live = st.session_state.get("lsh_live", [])
        if live:
            skipped = [f"{row['length']:,} ({' and '.join(row['skipped'])})" for row in live if row["skipped"]]
            live_crossover = loglog_crossing([row["length"] for row in live],
                                             [row["full_ms"] / row["lsh_ms"] if row["full_ms"] and row["lsh_ms"]
                                              else None for row in live])
            st.caption(
                f"Measured now: {len(live)} lengths; crossover "
                + (f"≈ {live_crossover:,.0f} tokens" if live_crossover else "not reached in this range")
                + (f"; skipped to stay within {LIVE_CAP_S} s: {', '.join(skipped)}" if skipped else "")
                + ". Open markers in the plots.")

        left, right = st.columns(2, gap="large")
        with left:
            st.subheader("Time")
            st.plotly_chart(scaling_time_figure(rows, crossover, live, text_scale=scale), key="lsh_time",
                            config=figure_config(image_format, "lsh-time"))
        with right:
            st.subheader("Peak memory")
            st.plotly_chart(scaling_memory_figure(rows, cap_mib, budget_mib=budget,
                                                  budget_lengths=(budget_full, budget_lsh), live=live,
                                                  text_scale=scale),
                            key="lsh_memory", config=figure_config(image_format, "lsh-memory"))
        st.caption(f"Log-log axes. Full attention is not run beyond {table['longest_full']:,} tokens, where 2·L²·4 "
                   "bytes would exceed the "
                   f"{cap_mib / GiB:g} GiB cap (dashed: that formula, which matches the measured points); LSH was "
                   "measured up to the longest length whose next doubling would pass the cap.")
