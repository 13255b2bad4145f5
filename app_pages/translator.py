"""A small Transformer, trained here: the chapter's sentence 私 は 今日 東京 に 行く translated by an encoder–decoder
trained on this machine, its cross-attention drawn as the word alignment it learned, training replayed snapshot by
snapshot, and a button that trains it again live."""

from __future__ import annotations

import streamlit as st

from core.analysis.graph import attention_graph, prune
from core.analysis.view_options import head_matrix
from core.transformer.tokens import EmptyTextError
from core.translation.alignment import alignment_error_rate, argmax_alignment
from core.translation.corpus import CHAPTER_SENTENCE, UnknownWordError, gold_example
from core.translation.model import SentenceTooLongError, TranslatorConfig
from core.translation.training import TrainingResult, TrainingSettings
from figures.attention_figures import heatmap_figure
from figures.attention_graph import graph_html
from figures.theme import figure_config
from figures.translation_figures import alignment_figure, head_errors_figure, training_figure
from ui.bound_widgets import always_drawn, clamp, count_slider
from ui.graph_controls import graph_controls
from ui.presentation import presenting, text_scale
from ui.translator import current_run, example_button, forget_own_run, own_run, train_live, translation

CHAPTER_TEXT = " ".join(CHAPTER_SENTENCE)
SPLIT_NAMES = {
    "train": "Training sentences",
    "held-out sentences": "New sentences",
    "held-out combinations": "New combinations",
}


def plot(figure, key: str, filename: str, width: str = "stretch") -> None:
    config = figure_config(st.session_state.get("image_format", "png"), filename)
    st.plotly_chart(figure, key=key, config=config, width=width)


def count(number: int, noun: str) -> str:
    """'1 head', '4 heads'."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def head_choice(run: TrainingResult) -> tuple[int, int | None]:
    """(decoder layer, head or None for the mean of the heads), 0-based, from widgets bound to the URL; the best
    aligning head by default."""
    config, (best_layer, best_head) = run.config, run.evaluation.best_head
    clamp("tr_layer", config.decoder_layers)
    clamp("tr_head", config.heads, fallback=best_head + 1)
    with st.container(horizontal=True):
        layer = 1
        if config.decoder_layers > 1:
            layer = (
                st.segmented_control(
                    "Decoder layer",
                    range(1, config.decoder_layers + 1),
                    key="tr_layer",
                    bind="query-params",
                    default=best_layer + 1,
                )
                or best_layer + 1
            )
        head = (
            st.segmented_control(
                "Cross-attention head",
                ["mean", *range(1, config.heads + 1)],
                key="tr_head",
                bind="query-params",
                default=best_head + 1,
            )
            or best_head + 1
        )
    return layer - 1, None if head == "mean" else int(head) - 1


def head_name(layer: int, head: int | None, layers: int) -> str:
    where = f"layer {layer + 1}, " if layers > 1 else ""
    return f"{where}mean of the heads" if head is None else f"{where}head {head + 1}"


def translate_section(run: TrainingResult) -> None:
    """The typed sentence, its translation and its cross-attention as a bipartite word graph (the first screen)."""
    left, right = st.columns([2, 3], gap="large")
    with left:
        text = st.text_input(
            "Japanese sentence",
            key="ja_text",
            bind="query-params",
            value=CHAPTER_TEXT,
            help="Words of the model's grammar, spaced or not: 私は今日東京に行く works too.",
        )
        with st.container(horizontal=True, gap="small"):
            example_button("The chapter's sentence", CHAPTER_TEXT, "ex_chapter")
            example_button("Time first", "今日 私 は 東京 に 行く", "ex_time_first")
            example_button("Past", "彼女 は 昨日 京都 に 帰った", "ex_past")
            example_button("Future", "明日 先生 は 駅 に 来る", "ex_future")
        layer, head = head_choice(run)
    try:
        result = translation(text)
    except (EmptyTextError, UnknownWordError, SentenceTooLongError) as problem:
        left.info(str(problem), icon="✍️")
        return
    gold = gold_example(result.source)
    matrix = head_matrix(result.cross_attention, layer, head)
    with left:
        st.markdown(f"### → {' '.join(result.target)}")
        steps = " → ".join(
            f"{word} ({100 * probability:.0f} %)" for word, probability in zip(result.target, result.word_probabilities)
        )
        st.caption(f"Decoded word by word, each the decoder's most probable next word: ⟨start⟩ → {steps} → ⟨end⟩")
        if gold is None:
            st.caption("Not a sentence of the grammar as written, so there is no gold alignment to compare with.")
        elif gold.target != result.target:
            st.caption(f"The grammar's translation is “{' '.join(gold.target)}”.")
        if gold is not None and gold.target == result.target and head is not None:
            error = alignment_error_rate(argmax_alignment(matrix, len(result.target)), gold.sure, gold.possible)
            st.caption(
                f"Alignment error rate of this head's strongest links against the gold alignment (green): "
                f"**{error:.2f}** (0 = every sure link found, nothing outside the possible ones)."
            )
    with right:
        name = head_name(layer, head, run.config.decoder_layers)
        sure, possible = (gold.sure, gold.possible) if gold is not None and gold.target == result.target else ((), ())
        plot(
            alignment_figure(
                result.source,
                result.target,
                matrix,
                sure=sure,
                possible=possible,
                title=f"Cross-attention, {name}: each English word → the Japanese it reads",
                text_scale=text_scale(),
            ),
            "tr_alignment",
            "cross-attention",
        )


def inside_section(run: TrainingResult) -> None:
    """The typed sentence's encoder self-attention as a word graph and the decoder's causal self-attention."""
    st.header("Inside: the encoder's graph and the decoder's")
    try:
        result = translation(st.session_state.get("ja_text", CHAPTER_TEXT))
    except (EmptyTextError, UnknownWordError, SentenceTooLongError):
        st.caption("Type a sentence of the grammar above to see its graphs.")
        return
    config = run.config
    left, right = st.columns(2, gap="large")
    with left:
        with st.container(horizontal=True, vertical_alignment="bottom"):
            layer = count_slider("Encoder layer", config.encoder_layers, key="tr_enc_layer", bind="query-params")
            head = count_slider("Encoder head", config.heads, key="tr_enc_head", bind="query-params")
        with st.container(horizontal=True, vertical_alignment="bottom"):
            layout, pruning = graph_controls(prefix="tr_", layout_index=1)
        matrix = result.encoder_attention[layer - 1, head - 1]  # (s, s)
        graph = attention_graph(matrix, list(result.source), prune(matrix, pruning))
        title = f"Encoder layer {layer}, head {head}"
        st.iframe(graph_html(graph, layout, title=title, height_px=380, served=True), height=420)
        st.caption(
            "Each Japanese word gathers messages from the others, weighted by this graph — the chapter's message "
            "passing, with a graph the model computed from the words themselves. It is this mixture that the "
            "cross-attention above reads."
        )
    with right:
        decoder_layer = count_slider("Decoder layer", config.decoder_layers, key="tr_dec_layer", bind="query-params")
        decoder_head = count_slider("Decoder head", config.heads, key="tr_dec_head", bind="query-params")
        causal = result.decoder_attention[decoder_layer - 1, decoder_head - 1]  # (t, t), nothing above the diagonal
        inputs = ["⟨start⟩", *result.target[:-1]]
        title = f"Decoder layer {decoder_layer}, head {decoder_head}"
        plot(
            heatmap_figure(causal, list(result.target), inputs, title=title, text_scale=text_scale()),
            "tr_decoder",
            "decoder-self-attention",
            width="content",
        )
        st.caption(
            "Row i is the step that writes English word i; it may read only the words written before it (the "
            "causal mask: nothing above the diagonal), as a translation is written left to right."
        )


def learning_section(run: TrainingResult) -> None:
    """Training replayed: a probe sentence's cross-attention at each snapshot, beside the loss curve."""
    st.header("Watch it learn")
    snapshots = run.snapshots
    probes = {" ".join(probe.source): k for k, probe in enumerate(snapshots.probes)}
    with st.container(horizontal=True, vertical_alignment="bottom"):
        probe_text = st.selectbox("Sentence", list(probes), key="tr_probe", bind="query-params", width=320)
        step = st.select_slider(
            "Training step", snapshots.steps, value=snapshots.steps[-1], key="tr_step", bind="query-params"
        )
    probe_index = probes[probe_text or next(iter(probes))]
    probe, snapshot = snapshots.probes[probe_index], snapshots.steps.index(step)
    layer, head = run.evaluation.best_head
    errors = snapshots.alignment_errors(layer, head)
    left, right = st.columns(2, gap="large")
    with left:
        plot(
            alignment_figure(
                probe.source,
                probe.target,
                snapshots.cross[probe_index][snapshot, layer, head],
                sure=probe.sure,
                possible=probe.possible,
                title=f"Step {step}: {head_name(layer, head, run.config.decoder_layers)}",
                text_scale=text_scale(),
            ),
            "tr_snapshot",
            f"cross-attention-step-{step}",
        )
    with right:
        plot(
            training_figure(
                range(1, len(run.losses) + 1),
                run.losses,
                snapshot_steps=snapshots.steps,
                alignment_errors=errors,
                current=step,
                text_scale=text_scale(),
            ),
            "tr_curve",
            "training",
        )
    st.caption(
        f"At step 0 the weights are random and every English word reads the Japanese words almost evenly; "
        f"by step {snapshots.steps[-1]} the best head (AER {errors[-1]:.2f} on the probes) links each word to "
        "its translation. The Japanese side is the encoder's output: its self-attention has mixed each word "
        "with the others, so a head points at a *mixed* position — mostly, not only, that word. The gold "
        "alignment is green: solid for sure links, dotted for possible ones (“to” ↔ に, “the”, “will”); "
        "は has no English word."
    )


def quality_section(run: TrainingResult) -> None:
    """Exact match per split and every cross-attention head's alignment error."""
    st.header("How well it translates and aligns")
    with st.container(horizontal=True):
        for split, share in run.evaluation.exact_match.items():
            st.metric(
                SPLIT_NAMES.get(split, split),
                f"{100 * share:.0f} %",
                border=True,
                help="Share of sentences translated word for word as the grammar does (greedy decoding).",
            )
        st.metric(
            "Best head's AER",
            f"{run.evaluation.best_aer:.2f}",
            border=True,
            help="Alignment error rate (Och & Ney 2003) of the head's argmax links on the new sentences.",
        )
    plot(
        head_errors_figure(run.evaluation.head_aer, best=run.evaluation.best_head, text_scale=text_scale()),
        "tr_heads",
        "head-alignment-errors",
        width="content",
    )
    st.caption(
        "Each head's alignment: every English word linked to the Japanese word its row of cross-attention "
        "weighs most. AER = 1 − (|A∩S| + |A∩P|) / (|A| + |S|) with sure links S and possible links P, over "
        "the new sentences. “New combinations” pair a subject and a place never seen together in training."
    )


def training_section(run: TrainingResult) -> None:
    """Settings and a button that trains the model again, live."""
    st.header("Train it again")
    config, settings = run.config, run.settings
    st.caption(
        f"In use: {count(config.encoder_layers, 'encoder layer')}, {count(config.decoder_layers, 'decoder layer')}, "
        f"{count(config.heads, 'head')}, width {config.d_model}, {settings.steps} steps, seed {settings.seed}, "
        f"trained in {run.seconds:.0f} s" + (" in this session." if own_run() else " (the shipped model).")
    )
    with st.form("tr_train", border=True):
        with st.container(horizontal=True):
            encoder_layers = st.number_input("Encoder layers", 1, 3, config.encoder_layers, width=140)
            decoder_layers = st.number_input("Decoder layers", 1, 3, config.decoder_layers, width=140)
            heads = st.selectbox("Heads", [1, 2, 4, 8], index=[1, 2, 4, 8].index(config.heads), width=110)
            d_model = st.selectbox("Width", [32, 64, 128], index=[32, 64, 128].index(config.d_model), width=110)
            steps = st.number_input("Steps", 100, 3000, settings.steps, step=100, width=140)
            seed = st.number_input("Seed", 0, 10_000, settings.seed, width=120)
        trained = st.form_submit_button("Train again", type="primary")
    if trained:
        train_live(
            TranslatorConfig(encoder_layers, decoder_layers, heads, d_model, 2 * d_model),
            TrainingSettings(seed=int(seed), steps=int(steps)),
        )
        st.rerun()
    with always_drawn():
        if own_run():
            st.button("Back to the shipped model", on_click=forget_own_run)


st.title("A small Transformer, trained here")
if not presenting():
    st.caption(
        "The original encoder–decoder Transformer (Vaswani et al. 2017), small enough to train on this machine "
        "in seconds, translating simple Japanese sentences into English. Its cross-attention is a graph "
        "from each English word to the Japanese words — and nobody gave it that graph: it is learned from "
        "the sentence pairs alone."
    )
run = current_run()
translate_section(run)
inside_section(run)
learning_section(run)
quality_section(run)
training_section(run)
