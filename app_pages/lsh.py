"""Reformer: LSH buckets — one head of the sentence hashed into buckets, the hash in 2-D, quality,
and scaling.

Each tab is one function, drawn only while it is open: ``buckets_tab`` (its sections in order:
``cost_cards``, ``hash_section``, ``sorted_chunks_section``, ``focus_section``,
``soft_vs_hard_section``, ``heatmaps_section``, ``model_attention_section``), ``hash_tab``,
``quality_tab`` (``sentence_quality_section``, ``synthetic_quality_section``) and ``scaling_tab``
(``benchmark_cards``, ``budget_section``, ``live_section``).
"""

from functools import partial

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from core.analysis.graph import attention_graph
from core.lsh.inspection import (
    SYNTHETIC_KINDS,
    HeadHashing,
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
from core.lsh.reformer import LSHConfig
from core.lsh.scaling import lengths_within, speed_up, time_crossover
from core.transformer.models import AttentionResult
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
from ui.bound_widgets import always_drawn, count_slider
from ui.lsh import (
    decoder_differences,
    follow_shared_head,
    head_hashing,
    live_rows,
    measure_live,
    new_rotations,
    scaling_table,
    sentence_quality,
    share_head,
    synthetic_quality,
)
from ui.presentation import text_scale

BUCKET_CHOICES = [2, 4, 6, 8, 12, 16]
ROUND_CHOICES = [1, 2, 3, 4, 8]
DEFAULT_HASH = LSHConfig(n_buckets=4, n_hashes=1, chunk_length=4, seed=0)  # the sliders at first
QUALITY_BUCKETS, QUALITY_ROUNDS, QUALITY_SEEDS = (2, 4, 8, 16), (1, 2, 4, 8), 10
SYNTHETIC_LENGTHS, SYNTHETIC_BUCKETS = [256, 512, 1024], (8, 16, 32, 64)
SYNTHETIC_CHUNK, SYNTHETIC_CAP_S = 64, 20
SYNTHETIC_NAMES = {"duplicates": "Duplicates", "clusters": "Clusters", "random": "No structure"}
LIVE_LENGTHS, LIVE_CAP_S = [256, 512, 1024, 2048, 4096, 8192], 30
GiB = 1024  # MiB
MiB = 2**20  # bytes
BUDGET_NAMES = {mib: f"{mib / GiB:g} GiB" if mib >= GiB else f"{mib} MiB" for mib in [16, 64, 256, 1024, 4096]}
TOY_ANGLES = np.linspace(0, np.pi, 61)  # between two points, for the collision curve
TOY_TRIALS = 2000
CARD = dict(border=True, height="stretch")  # metric cards; stretch: a row's cards as tall
PLAIN_DELTA = dict(delta_color="off", delta_arrow="off")  # a metric's delta as a plain note


def plot(figure: go.Figure, key: str, filename: str, **options) -> None:
    """A plotly chart whose camera button saves ``filename`` in the format chosen on the attention
    page."""
    image_format = st.session_state.get("image_format", "png")
    st.plotly_chart(figure, key=key, config=figure_config(image_format, filename), **options)


def percent(share: float) -> str:
    return f"{100 * share:.0f} %"


# --- the head and its hash, shared by the bucket and the quality tab -----------------------------


def head_controls(result: AttentionResult, with_hash: bool = True) -> tuple[int, int, LSHConfig, bool]:
    """The head to hash and the hash's settings, drawn into the current (horizontal) container; the
    bucket and the quality tab draw them with the same keys, so they share the values. Without
    ``with_hash`` the buckets, rounds and seed are not drawn but read as the bucket tab left them.

    The head is the attention page's, kept in step both ways (ui.lsh.follow_shared_head,
    ui.lsh.share_head)."""
    layers, heads = result.num_layers, result.num_heads
    follow_shared_head(layers, heads)
    layer = count_slider("Layer", layers, key="lsh_layer", bind="query-params", width=170)
    head = count_slider("Head", heads, key="lsh_head", bind="query-params", width=210)
    share_head(layer, head)
    if with_hash:
        n_buckets = st.select_slider(
            "Buckets",
            BUCKET_CHOICES,
            value=DEFAULT_HASH.n_buckets,
            key="lsh_buckets",
            bind="query-params",
            width=190,
            persist_state="page",
            help="n_buckets: the hash sends each vector to one of this many buckets.",
        )
        n_hashes = st.select_slider(
            "Hash rounds",
            ROUND_CHOICES,
            value=DEFAULT_HASH.n_hashes,
            key="lsh_rounds",
            bind="query-params",
            width=170,
            persist_state="page",
            help="n_hashes: independent hashes; a token attends within its window of every round, "
            "so more rounds miss fewer related tokens (and cost more).",
        )
    else:
        n_buckets = st.session_state.get("lsh_buckets", DEFAULT_HASH.n_buckets)
        n_hashes = st.session_state.get("lsh_rounds", DEFAULT_HASH.n_hashes)
    chunk = st.slider(
        "Chunk length m",
        2,
        16,
        DEFAULT_HASH.chunk_length,
        key="lsh_chunk",
        bind="query-params",
        width=170,
        help="The sorted sequence is cut into chunks of m slots; a chunk attends to itself and the chunk before it.",
    )
    if with_hash:
        seed = st.number_input(
            "Rotation seed",
            0,
            9999,
            DEFAULT_HASH.seed,
            key="lsh_seed",
            bind="query-params",
            width=130,
            persist_state="page",
            help="Seeds the random rotation R of the hash.",
        )
    else:
        seed = st.session_state.get("lsh_seed", DEFAULT_HASH.seed)
    centre = st.toggle(
        "Centre the queries",
        key="lsh_centre",
        bind="query-params",
        help="Subtract the mean query before hashing and attending. This model was not trained for "
        "LSH: its queries share a direction, so one bucket takes most tokens; without it they "
        "spread over the buckets, as a head trained with LSH would learn to.",
    )
    config = LSHConfig(n_buckets=n_buckets, n_hashes=n_hashes, chunk_length=chunk, seed=int(seed))
    return layer, head, config, centre


def head_queries(result: AttentionResult, layer: int, head: int, centre: bool) -> np.ndarray:
    """The queries (tokens, head size) of one head, centred when asked."""
    queries = result.queries[layer - 1, head - 1]
    return centre_queries(queries) if centre else queries


def no_queries_message(result: AttentionResult | None) -> bool:
    """True, with a message on screen, when the sentence's heads cannot be hashed."""
    if result is None:
        st.info("Type a sentence in the sidebar to hash its heads.", icon="✍️")
        return True
    if result.queries is None:
        st.warning(
            f"{result.model} runs through transformers' own implementation, which does not hand "
            "out each head's query vectors, so its heads cannot be hashed here. Pick the bundled "
            "MiniLM, a BERT-family model, GPT-2 or a Llama-family model in the sidebar. The 2-D hash and the "
            "scaling tabs work without one.",
            icon="🪣",
        )
        return True
    return False


# --- tab 1: one head of the sentence in buckets --------------------------------------------------


def buckets_tab(result: AttentionResult | None, scale: float) -> None:
    """One real head of the sentence through the hash: its settings, what it costs and keeps, then
    the hash, the sorted chunks, one token's view, the graphs and heatmaps of soft and hard
    attention, and the model's own."""
    if no_queries_message(result):
        return
    with st.container(horizontal=True, vertical_alignment="bottom", gap="small"):
        layer, head, config, centre = head_controls(result)
    st.caption(
        "Defaults for a sentence of ~16 tokens: **4 buckets** of ~4 tokens, **chunks of m = 4** — "
        "a token sees its chunk and the one before, 8 slots, about half the sentence — and **1 "
        "round**. (The paper's $m = 2L / n_\\text{buckets} = 64$ is for inputs of thousands of "
        "tokens.) **Shared-QK**, as in Reformer: each token has one vector that serves as both its "
        "query and its key, so two tokens attend strongly to each other when their vectors point "
        "the same way — just what the hash puts into one bucket. Here that vector is this head's "
        "query (as a key, scaled to length 1): “full attention” below is "
        "$\\operatorname{softmax}(q \\cdot k)$ over all the other tokens' keys, not the model's "
        "own attention, which has separate keys (that one is at the end)."
    )
    differences = decoder_differences(result.model)
    if differences:
        st.info(differences, icon="ℹ️")
    queries = head_queries(result, layer, head, centre)  # (n, head size)
    labels = result.tokenized.token_labels
    hashing = head_hashing(queries, config.n_buckets, config.n_hashes, config.chunk_length, config.seed)
    name = f"layer {layer}, head {head}"
    cost_cards(hashing)
    hash_section(labels, hashing, scale)
    focus = sorted_chunks_section(labels, hashing, scale)
    focus_section(labels, hashing, focus, mean_cosine(queries), centre, scale)
    soft_vs_hard_section(labels, hashing, name)
    heatmaps_section(labels, hashing, scale)
    causal = result.tokenized.causal
    model_attention_section(result.attentions[layer - 1, head - 1], labels, hashing, name, causal, scale)


def cost_cards(hashing: HeadHashing) -> None:
    """What LSH computes against full attention and how much of it it keeps, as a row of metric
    cards (after a note when the whole sentence fits in one chunk)."""
    n, share, mass = hashing.length, hashing.keys_share(), hashing.mass_kept()
    with always_drawn():
        if hashing.one_chunk:
            st.info(
                f"The {n} tokens fit in one chunk of m = {hashing.config.chunk_length}: LSH "
                "attention is full attention here. Lower the chunk length to see the hard "
                "structure.",
                icon="ℹ️",
            )
    with st.container(horizontal=True, gap="medium"):
        st.metric("Tokens L", n, **CARD)
        st.metric(
            "Pairs computed",
            f"{hashing.pairs():,} of {n * (n - 1):,}",
            **CARD,
            delta=f"{percent(share)} of full attention's",
            **PLAIN_DELTA,
            help="Query–key pairs that get a weight (self excluded): the cost of LSH against "
            "full attention's L·(L − 1).",
        )
        st.metric(
            "Attention mass kept",
            percent(mass),
            **CARD,
            delta=f"{100 * (mass - share):+.0f} pts vs as many random keys",
            help="Share of full attention's probability mass on the keys LSH attends to, "
            "mean over tokens. As many keys picked at random would keep the share of "
            "pairs computed.",
        )
        st.metric(
            "Strongest key seen",
            percent(hashing.top_k_recall(1)),
            **CARD,
            help="Share of tokens whose strongest key under full attention is in one of "
            "their LSH windows (top-1 recall).",
        )


def hash_section(labels: list[str], hashing: HeadHashing, scale: float) -> None:
    """Step 1: each token's bucket in every round."""
    st.subheader("1 · Hash: each token gets a bucket, in every round")
    plot(
        buckets_figure(labels, hashing.buckets, hashing.config.total_buckets, text_scale=scale),
        "lsh_buckets_fig",
        "lsh-buckets",
    )
    st.caption(
        "$h(x) = \\arg\\max\\,[xR;\\,-xR]$ with a random matrix $R$ (see the Hash tab): "
        "tokens whose query vectors point the same way tend to share a colour. Each round "
        "draws its own $R$."
    )


def sorted_chunks_section(labels: list[str], hashing: HeadHashing, scale: float) -> int | None:
    """Step 2: the tokens sorted by bucket and cut into chunks (the paper's Fig. 2), the windows of
    the token to follow outlined; returns that token (None: none)."""
    st.subheader("2 · Sort by bucket, cut into chunks of m, attend to your chunk and the one before")
    n, chunk_length = hashing.length, hashing.config.chunk_length
    token_names = {None: "—", **{i: f"{label} ({i})" for i, label in enumerate(labels)}}
    first_it = next((i for i, label in enumerate(labels) if label.lower() == "it"), min(1, n - 1))
    with st.container(horizontal=True, vertical_alignment="bottom"):
        focus = st.selectbox(
            "Follow the token",
            list(token_names),
            index=1 + first_it,
            key="lsh_focus",
            bind="query-params",
            format_func=token_names.get,
            width=260,
        )
    window = None if focus is None else window_slots(hashing.order, hashing.config, focus)
    plot(
        sorted_chunks_figure(
            labels, hashing.order, hashing.buckets, hashing.chunks, window=window, focus=focus, text_scale=scale
        ),
        "lsh_sorted",
        "lsh-sorted-chunks",
    )
    seen = (
        ""
        if focus is None
        else (
            f" The outlined “{labels[focus]}” sees only the bright slots: its chunk and the one "
            f"before, in each round — {hashing.keys_seen(focus)} of the {n - 1} other tokens."
        )
    )
    st.caption(
        "The paper's Fig. 2: each round's tokens sorted by (bucket, position), the rounds "
        f"laid end to end and cut every m = {chunk_length} slots (thick lines); the first "
        "chunk looks back to the last. A token never attends to itself unless it has "
        "nothing else." + seen
    )
    return focus


def focus_section(
    labels: list[str], hashing: HeadHashing, focus: int | None, cosine: float, centre: bool, scale: float
) -> None:
    """Side by side: what the followed token attends to, full against LSH; and the buckets' sizes,
    with the mean cosine between the (centred) queries."""
    left, right = st.columns([3, 2], gap="large")
    with left:
        if focus is not None:
            st.markdown(f"**What “{labels[focus]}” attends to**")
            plot(
                focus_figure(labels, hashing.full[focus], hashing.lsh[focus], focus, text_scale=scale),
                "lsh_focus_fig",
                "lsh-focus",
            )
            st.caption(
                "Grey: full shared-QK attention over every token; blue: LSH attention, only "
                "over the tokens in its windows, renormalised to sum to 1."
            )
    with right:
        st.markdown("**Bucket sizes**")
        plot(
            bucket_sizes_figure(hashing.sizes(), hashing.config.chunk_length, text_scale=scale),
            "lsh_sizes",
            "lsh-bucket-sizes",
        )
        st.caption(
            "Tokens per bucket; the mean cosine between this head's "
            f"{'centred ' if centre else ''}queries is {cosine:.2f}. The more they share a "
            "direction, the more tokens one bucket takes. A bucket larger than a chunk "
            "spills into the next chunk, and only part of it sees the rest."
        )


def soft_vs_hard_section(labels: list[str], hashing: HeadHashing, name: str) -> None:
    """Step 3: full and LSH attention as graphs side by side (heatmaps only, beyond MAX_GRAPH_NODES
    tokens)."""
    st.subheader(f"3 · Soft vs hard: the graph of {name}")
    with st.container(horizontal=True, vertical_alignment="bottom"):
        layout = (
            st.segmented_control(
                "Layout",
                list(LAYOUT_NAMES),
                key="lsh_layout",
                bind="query-params",
                default="circle",
                format_func=LAYOUT_NAMES.get,
            )
            or "circle"
        )
    graph_full = attention_graph(hashing.full, labels)
    graph_lsh = attention_graph(hashing.lsh, labels)
    if hashing.length > MAX_GRAPH_NODES:
        st.info(
            f"{hashing.length} tokens are too many for a readable graph (the limit is "
            f"{MAX_GRAPH_NODES}); the heatmaps below show the same matrices."
        )
        return
    left, right = st.columns(2, gap="large")
    with left:
        st.markdown(f"**Full attention (shared-QK)** — soft: {graph_full.number_of_edges()} edges, every pair")
        st.iframe(graph_html(graph_full, layout, height_px=500, served=True), height=520)
    with right:
        st.markdown(f"**LSH attention** — hard: {graph_lsh.number_of_edges()} edges, only pairs that share a window")
        st.iframe(graph_html(graph_lsh, layout, height_px=500, served=True), height=520)
    st.caption(
        "Edge width and opacity grow with the weight (a probability, 0–1; each token's "
        "outgoing weights sum to 1); hover an edge for its value. LSH renormalises each "
        "token's weights over the keys it sees, so its edges are heavier."
    )


def heatmaps_section(labels: list[str], hashing: HeadHashing, scale: float) -> None:
    """Full and LSH attention and their difference as heatmaps, each as large as its token count
    needs: side by side while they fit, one under the other after."""
    full_figure, lsh_figure = attention_pair_figures(hashing.full, hashing.lsh, labels, text_scale=scale)
    difference = difference_figure(hashing.full, hashing.lsh, labels, text_scale=scale)
    st.caption(
        "Rows: the token attending (from); columns: the token attended to; one colour scale "
        "for the first two. Red: weight LSH drops (keys outside every window of the row's "
        "token); blue: weight it gains, as the kept keys share out the dropped mass. Hover "
        "a cell for its weights."
    )
    with st.container(horizontal=True, gap="medium"):
        for title, figure, key in (
            ("Full attention (shared-QK)", full_figure, "lsh_full_heatmap"),
            ("LSH attention", lsh_figure, "lsh_lsh_heatmap"),
            ("Difference: LSH − full", difference, "lsh_difference"),
        ):
            with st.container(width="content"):
                st.markdown(f"**{title}**")
                plot(figure, key, key.replace("_", "-"), width="content")


def model_attention_section(
    attention: np.ndarray, labels: list[str], hashing: HeadHashing, name: str, causal: bool, scale: float
) -> None:
    """The model's own attention (L, L) of the head, with separate keys (``causal``: a decoder's), and
    how much of it the LSH windows cover."""
    with st.expander(f"The model's own attention for {name} (separate queries and keys)"):
        st.markdown(
            "The model computes softmax(q·k / √d) with its own key vectors"
            + (", over the keys j ≤ i only (causal)" if causal else "")
            + "; Reformer ties the keys to the queries. The LSH windows above cover "
            f"**{percent(hashing.mass_kept(attention))}** of this head's real attention mass (as "
            f"many random keys: {percent(hashing.keys_share())})."
        )
        plot(
            fit_heatmap(heatmap_figure(attention, labels, labels, text_scale=scale, causal=causal)),
            "lsh_model_heatmap",
            "lsh-model-attention",
            width="content",
        )


# --- tab 2: the hash in 2-D ----------------------------------------------------------------------


@st.fragment
def hash_tab(scale: float) -> None:
    """Points on a circle, the hash's random directions, buckets as sectors, and how often two
    points collide against their angle; a button draws new rotations (rerunning only this tab)."""
    seed = st.session_state.setdefault("toy_seed", 0)
    with st.container(horizontal=True, vertical_alignment="bottom", gap="large"):
        n_buckets = (
            st.segmented_control(
                "Buckets", [2, 4, 6, 8], default=4, key="toy_buckets", bind="query-params", required=True
            )
            or 4
        )
        rounds = (
            st.segmented_control("Rounds", [1, 2, 3], default=2, key="toy_rounds", bind="query-params", required=True)
            or 2
        )
        count = st.slider("Points", 3, 30, 12, key="toy_count", bind="query-params", width=240)
        st.button("🎲 Draw new rotations", key="toy_new", on_click=new_rotations, type="primary")
    config = LSHConfig(n_buckets=n_buckets, n_hashes=rounds, seed=seed)
    rotations = toy_rotations(config)  # (2, rounds, b/2)
    points = toy_points(count, seed=1)
    plot(
        toy_figure(
            points,
            toy_buckets(points, rotations, config),
            toy_sectors(rotations, config),
            toy_directions(rotations),
            text_scale=scale,
        ),
        "toy_figure",
        "lsh-hash-2d",
    )
    left, right = st.columns([1, 1], gap="large")
    with left:
        st.markdown(
            f"**The hash, h(x) = argmax([xR ; −xR]).** R is a random {2}×{n_buckets // 2} Gaussian "
            f"matrix (seed {seed}). Its columns and their negatives are the {n_buckets} arrows "
            "(drawn to scale, dotted for −R); a point lands in the bucket of the arrow it projects "
            "onto most, so the circle splits into sectors. Nearby points usually share a sector, "
            "far ones rarely — but a cluster astride a boundary is cut in two, which is why "
            "Reformer hashes several rounds and lets a token attend within its bucket in any of "
            "them. In the model the same happens in 32 or 64 dimensions, with the head's "
            "normalised queries as the points."
        )
    with right:
        one, any_round = collision_probability(TOY_ANGLES, config, trials=TOY_TRIALS)
        plot(
            collision_figure(np.degrees(TOY_ANGLES), one, any_round, rounds, text_scale=scale),
            "toy_collisions",
            "lsh-collisions",
        )
        st.caption(
            "How often two points share a bucket against the angle between them, over "
            f"{TOY_TRIALS:,} random rotations with {n_buckets} buckets: locality-sensitive "
            "hashing."
        )


# --- tab 3: quality ------------------------------------------------------------------------------


def quality_tab(result: AttentionResult | None, scale: float) -> None:
    """How much of full attention survives the hash against buckets and rounds: live on the
    sentence's head, then on synthetic long sequences."""
    st.markdown(
        "How much of full attention survives the hash, against the number of buckets and "
        "rounds. **Mass kept**: the share of each token's full attention that falls on "
        "keys LSH attends to (full *shared-QK* attention: each token's query is also its "
        "key, as in Reformer). **Top-k recall**: the share of each token's k strongest "
        "keys that it sees. **Keys computed**: the cost — and the mass that as many "
        "*random* keys would keep (dashed)."
    )
    st.subheader("This sentence, live")
    with st.container(horizontal=True, vertical_alignment="bottom", gap="small"):
        k = st.slider("k (top-k recall)", 1, 5, 1, key="lsh_k", bind="query-params", width=200)
        hashable = result is not None and result.queries is not None
        controls = head_controls(result, with_hash=False) if hashable else None
    if not no_queries_message(result):
        sentence_quality_section(result, *controls, k, scale)
    synthetic_quality_section(k, scale)


def sentence_quality_section(
    result: AttentionResult, layer: int, head: int, config: LSHConfig, centre: bool, k: int, scale: float
) -> None:
    """The quality sweep on the sentence's head, the bucket tab's setting ringed."""
    queries = head_queries(result, layer, head, centre)
    points = sentence_quality(queries, QUALITY_BUCKETS, QUALITY_ROUNDS, config.chunk_length, k, QUALITY_SEEDS)
    plot(
        quality_figure(
            points,
            k,
            highlight=(config.n_buckets, config.n_hashes),
            highlight_name="bucket tab's setting",
            text_scale=scale,
        ),
        "lsh_quality_sentence",
        "lsh-quality",
    )
    st.caption(
        f"Layer {layer}, head {head}{' (centred)' if centre else ''}: "
        f"{len(result.tokenized)} tokens, chunks of m = {config.chunk_length}, mean over "
        f"{QUALITY_SEEDS} rotation seeds. On a short sentence a window is a large part of "
        "the sentence and this head's attention is spread out, so LSH keeps little more "
        "than random keys would: hashing pays off on long inputs whose attention is peaked "
        "(below)."
    )


def synthetic_quality_section(k: int, scale: float) -> None:
    """The quality sweep on synthetic long sequences, the paper's setting ringed; it needs no
    model."""
    st.subheader("Synthetic long sequences")
    with st.container(horizontal=True, vertical_alignment="bottom", gap="large"):
        kind = st.segmented_control(
            "Queries",
            list(SYNTHETIC_KINDS),
            default="duplicates",
            format_func=SYNTHETIC_NAMES.get,
            key="lsh_kind",
            bind="query-params",
            required=True,
        )
        length = st.select_slider(
            "Length L", SYNTHETIC_LENGTHS, value=1024, key="lsh_length", bind="query-params", width=300
        )
    points, complete = synthetic_quality(
        kind or "duplicates", length, k, SYNTHETIC_BUCKETS, QUALITY_ROUNDS, SYNTHETIC_CHUNK, SYNTHETIC_CAP_S
    )
    if not complete:
        st.warning(f"The sweep stopped at its {SYNTHETIC_CAP_S} s cap: the curves are partial.", icon="⏱️")
    paper_buckets = 2 * length // SYNTHETIC_CHUNK  # n_buckets = 2L / m
    plot(
        quality_figure(points, k, highlight=(paper_buckets, 1), highlight_name="paper's n_buckets", text_scale=scale),
        "lsh_quality_synthetic",
        "lsh-quality-synthetic",
    )
    st.caption(
        f"{length} random 64-dimensional queries of length 12, chunks of m = "
        f"{SYNTHETIC_CHUNK}; ringed: the paper's n_buckets = 2L/m = {paper_buckets} with "
        "one round. **Duplicates**: every vector appears twice (the paper's duplication "
        "task), so attention peaks on the copy. **Clusters**: groups of 16 noisy copies. "
        "**No structure**: random directions — LSH keeps what random keys would."
    )


# --- tab 4: scaling ------------------------------------------------------------------------------


def scaling_tab(scale: float) -> None:
    """Time and memory of full against LSH attention: the shipped benchmark read, a memory budget
    to try, a small live run, and the two log-log plots."""
    table = scaling_table()
    rows, setup = table["rows"], table["setup"]
    cap_mib = setup["cap_bytes"] / MiB
    crossover = time_crossover(rows)
    st.markdown(
        f"One attention head (d = {setup['d_head']}, float32, {setup['threads']} thread) on this "
        f"app's {setup['cpu']} ({setup['cpus']} CPUs): full attention (softmax(QKᵀ/√d)V, an L × L "
        f"matrix) against LSH attention ({setup['n_hashes']} rounds, chunks of "
        f"{setup['chunk_length']}, n_buckets = 2L/{setup['chunk_length']}). Measured by `python "
        "bench/lsh.py`; shipped in assets/lsh_scaling.json."
    )
    benchmark_cards(table, crossover, cap_mib)
    budget, budget_lengths = budget_section(rows)
    live = live_section()
    left, right = st.columns(2, gap="large")
    with left:
        st.subheader("Time")
        plot(scaling_time_figure(rows, crossover, live, text_scale=scale), "lsh_time", "lsh-time")
    with right:
        st.subheader("Peak memory")
        plot(
            scaling_memory_figure(
                rows, cap_mib, budget_mib=budget, budget_lengths=budget_lengths, live=live, text_scale=scale
            ),
            "lsh_memory",
            "lsh-memory",
        )
    st.caption(
        f"Log-log axes. Full attention is not run beyond {table['longest_full']:,} tokens, "
        f"where 2·L²·4 bytes would exceed the {cap_mib / GiB:g} GiB cap (dashed: that "
        "formula, which matches the measured points); LSH was measured up to the longest "
        "length whose next doubling would pass the cap."
    )


def benchmark_cards(table: dict, crossover: float, cap_mib: float) -> None:
    """The shipped benchmark in three cards — where LSH gets faster, the longest length both kernels
    ran, the longest input within the cap — and the chapter's claim checked against it."""
    longest = [row for row in table["rows"] if speed_up(row)][-1]  # both kernels ran
    cap = f"{cap_mib / GiB:g} GiB"
    longest_full, longest_lsh = table["longest_full"], table["longest_lsh"]
    grid_ratio = table["max_len_ratio"]  # longest_lsh / longest_full
    with st.container(horizontal=True, gap="large"):
        st.metric(
            "LSH is faster beyond",
            f"≈ {crossover:,.0f} tokens",
            **CARD,
            help="Where full / LSH time crosses 1, interpolated log-log between the measured lengths.",
        )
        st.metric(
            f"At {longest['length']:,} tokens",
            f"{speed_up(longest):.1f}× faster",
            **CARD,
            delta=f"{longest['full_mib'] / longest['lsh_mib']:.0f}× less memory",
            **PLAIN_DELTA,
        )
        st.metric(
            f"Longest input in {cap}",
            f"{longest_lsh:,} vs {longest_full:,}",
            **CARD,
            delta=f"{grid_ratio:.0f}× more tokens with LSH",
            **PLAIN_DELTA,
            help="On the benchmark's doubling grid of lengths; full attention beyond "
            f"{longest_full:,} tokens from its formula.",
        )
    full_cap, lsh_cap = lengths_within(cap_mib, table["rows"])
    finding = (
        f"In the same {cap}, LSH attention holds {longest_lsh:,} tokens against full attention's "
        f"{longest_full:,}: **{grid_ratio:.0f}×** on the doubling grid, ≈ "
        f"{lsh_cap / full_cap:.0f}× interpolating ({lsh_cap:,.0f} vs {full_cap:,.0f}). This is one "
        "head's attention memory; a whole model also stores activations per layer, which Reformer "
        "shrinks with reversible layers and chunked feed-forward."
    )
    if min(grid_ratio, lsh_cap / full_cap) >= 10:
        st.success("**The chapter's “tens of times more words”: checked, it holds.** " + finding, icon="✅")
    else:
        st.warning("**The chapter's “tens of times more words” does not hold here.** " + finding, icon="⚠️")


def budget_section(rows: list[dict]) -> tuple[int, tuple[float, float]]:
    """A memory budget to choose and the lengths full and LSH attention reach within it; returns
    both."""
    with st.container(horizontal=True, vertical_alignment="bottom", gap="large"):
        budget = st.select_slider(
            "Memory budget for one head's attention",
            list(BUDGET_NAMES),
            value=4 * GiB,
            format_func=BUDGET_NAMES.__getitem__,
            key="lsh_budget",
            width=420,
        )
    full, lsh = lengths_within(budget, rows)
    st.markdown(
        f"In **{BUDGET_NAMES[budget]}**, full attention fits ≈ {full:,.0f} tokens and LSH "
        f"≈ {lsh:,.0f}: **{lsh / full:.1f}×** as many. The ratio grows with the budget, "
        "since full attention's memory grows as L² and LSH's as L."
    )
    return budget, (full, lsh)


def live_section() -> list[dict]:
    """The small live benchmark on request, and what this session's last run found; returns its
    rows."""
    st.markdown(
        "**Measure on this machine now** — a small live run of the same kernels (time: "
        "median of 3 calls; memory: bench/lsh.py's method, a fresh process per point, ≈ 2 "
        "s each)."
    )
    with st.container(horizontal=True, vertical_alignment="bottom", gap="large"):
        longest = st.select_slider(
            "Up to L", LIVE_LENGTHS, value=4096, key="lsh_live_longest", bind="query-params", width=320
        )
        memory = st.checkbox("Peak memory too", value=True, key="lsh_live_memory", bind="query-params")
        run = st.button(f"▶ Run (at most {LIVE_CAP_S} s)", key="lsh_live_run")
    if run:
        measure_live([length for length in LIVE_LENGTHS if length <= longest], LIVE_CAP_S, memory)
    live = live_rows()
    if live:
        skipped = [f"{row['length']:,} ({' and '.join(row['skipped'])})" for row in live if row["skipped"]]
        crossover = time_crossover(live)
        st.caption(
            f"Measured now: {len(live)} lengths; crossover "
            + (f"≈ {crossover:,.0f} tokens" if crossover else "not reached in this range")
            + (f"; skipped to stay within {LIVE_CAP_S} s: {', '.join(skipped)}" if skipped else "")
            + ". Open markers in the plots."
        )
    return live


# --- the page ------------------------------------------------------------------------------------

st.title("Reformer: LSH buckets")
st.caption(
    "Full attention is a **soft** structure: every token attends to every token — L² weighted "
    "pairs. Reformer (Kitaev, Kaiser & Levskaya 2020) makes it **hard**: a random hash drops "
    "tokens whose vectors point the same way into the same bucket, and a token attends only to "
    "tokens near it in bucket order — about L·2m pairs. **Buckets**: one real head of the "
    "sidebar's sentence goes through the hash. **Hash**: the hash drawn in 2-D. **Quality**: how "
    "much of full attention survives it. **Scaling**: time and memory against full attention."
)

result = current_analysis()
scale = text_scale()  # figures' text grows with the page's in presentation mode
# One plain word per tab: the active tab's label is its value in the address bar (lsh_tab=Quality).
tabs = st.tabs(["Buckets", "Hash", "Quality", "Scaling"], key="lsh_tab", bind="query-params", on_change="rerun")
for tab in tabs:
    # Clear a closed tab now, not after the run: the bucket and quality tabs draw the same URL-bound
    # controls, and an old copy removed after the new one is drawn unbinds it (app.py).
    if not tab.open:
        tab.empty()
draws = [
    partial(buckets_tab, result, scale),
    partial(hash_tab, scale),
    partial(quality_tab, result, scale),
    partial(scaling_tab, scale),
]
for tab, draw in zip(tabs, draws):
    if tab.open:
        with tab:
            draw()
