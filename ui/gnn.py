"""Cached glue of the "Transformer = GNN" page: hard-attention runs, attention flow, integrated gradients, corpus
statistics and the head map, uploads, and the head map's clicks.

A click on the head map selects that head for the attention page through the shared "layer" and "head" (1-based);
the callback, ``select_mapped_head``, lives here and is bound with functools.partial (ui/bound_widgets.py, rule 3).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
import streamlit as st

from core.analysis.attribution import Attribution, integrated_gradients, pair_integrated_gradients
from core.analysis.bag_of_words import DocumentWordMatrix, document_word_matrix, word_similarity
from core.analysis.corpus import load_corpus, split_sentences
from core.analysis.hard_attention import EdgeRule, HardRun, SameBucket, run_hard
from core.analysis.head_map import HeadMap, corpus_head_map, head_layout
from core.analysis.head_stats import CorpusStatistics, corpus_statistics
from core.analysis.rollout import attention_flow
from core.serving.shared_cache import SharedCache
from core.transformer.encoder import Encoder
from ui.analysis import cached_analysis, cached_model
from ui.serving import queued, shared_run

MAX_UPLOAD_BYTES = 200_000
MAX_UPLOAD_SENTENCES = 2_000
CORPUS_RESULTS_KEPT = 4  # per session
CorpusAnalysis = Literal["statistics", "head map"]
CORPUS_ANALYSES = {"statistics": corpus_statistics, "head map": corpus_head_map}
HARD_RUNS: SharedCache[HardRun] = SharedCache(max_entries=256)
FLOWS: SharedCache[np.ndarray] = SharedCache(max_entries=32, max_bytes=64 * 2**20)  # (n, n) float64 each
ATTRIBUTIONS: SharedCache[list[tuple[Attribution, np.ndarray]]] = SharedCache(max_entries=16)


def rule_family(rule: EdgeRule) -> str:
    if isinstance(rule, SameBucket):
        return "same LSH bucket"
    return {"top_k": "top-k", "threshold": "threshold"}.get(rule.rule, rule.rule)


def rule_name(rule: EdgeRule) -> str:
    if isinstance(rule, SameBucket):
        return f"same bucket of {rule.n_buckets} ({rule.n_hashes} hash rounds)"
    if rule.rule == "top_k":
        return f"top-{rule.k} per token"
    if rule.rule == "threshold":
        return f"weight ≥ {rule.threshold:g}"
    return rule.rule


def hard_run(name: str, input_ids: tuple[int, ...], token_type_ids: tuple[int, ...], rule: EdgeRule) -> HardRun:
    """``core.analysis.hard_attention.run_hard`` on the model ``name``, each rule's run shared on its own
    (ui/serving.py)."""
    return shared_run(
        HARD_RUNS,
        (name, input_ids, token_type_ids, rule),
        lambda: run_hard(cached_model(name).network, input_ids, token_type_ids, rule),
        "Running the model on the pruned graphs…",
    )


def cached_flow(name: str, text: str, pair: str, outputs: tuple[int, ...] | None) -> np.ndarray:
    """Attention flow rows for ``outputs`` (None: every token), shared; raises FlowTooLongError (not kept)."""
    return shared_run(
        FLOWS,
        (name, text, pair, outputs),
        lambda: attention_flow(
            cached_analysis(name, text, pair).attentions, None if outputs is None else list(outputs)
        ),
        "Computing attention flow…",
    )


def read_sentences(data: bytes) -> list[str]:
    """An uploaded .txt file as sentences; ValueError with a message for the user when it cannot be used."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise ValueError(f"The file has {len(data) / 1000:.0f} kB; the limit is {MAX_UPLOAD_BYTES // 1000} kB.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValueError(
            f"The file is not UTF-8 text (byte {error.start} cannot be decoded). Save it as UTF-8 and upload it again."
        ) from None
    if "\x00" in text:
        raise ValueError("The file looks binary, not text: upload a .txt file with one sentence per line.")
    sentences = split_sentences(text)
    if not sentences:
        raise ValueError("The file holds no sentences: write one sentence per line.")
    return sentences[:MAX_UPLOAD_SENTENCES]


def corpus_result(
    analysis: CorpusAnalysis, name: str, sentences: list[str], budget_s: float
) -> CorpusStatistics | HeadMap | None:
    """The session's result of ``analysis`` for these sentences, if it was computed."""
    return st.session_state.get("gnn_corpus_results", {}).get((analysis, name, hash(tuple(sentences)), budget_s))


def run_corpus(
    analysis: CorpusAnalysis, name: str, sentences: list[str], budget_s: float, progress: Callable[[int, int], None]
) -> CorpusStatistics | HeadMap:
    """Head statistics (``corpus_statistics``) or the head map (``corpus_head_map``) over the sentences within the
    time budget, kept for this session (a few of each); a model run, so it waits its turn (ui/serving.py)."""
    model = cached_model(name)
    result = queued(
        lambda: CORPUS_ANALYSES[analysis](model, sentences, time_budget_s=budget_s, progress=progress),
        "Reading the sentences…",
    )
    results = st.session_state.setdefault("gnn_corpus_results", {})
    results[(analysis, name, hash(tuple(sentences)), budget_s)] = result
    while len(results) > 2 * CORPUS_RESULTS_KEPT:
        results.pop(next(iter(results)))
    return result


@st.cache_data(max_entries=8, show_spinner=False)
def cached_layout(distances: np.ndarray) -> np.ndarray:
    """``head_layout`` of a head map's distances (H, H): (H, 2) points, the same on every rerun."""
    return head_layout(distances)


def select_mapped_head(chart: str) -> None:
    """A click on a point of the head map (the chart with key ``chart``, customdata [layer, head], 1-based) selects
    that head on the attention page, and keeps it in "gnn_map_head" for the link there."""
    points = st.session_state[chart].selection.points
    if points:
        layer, head = (int(value) for value in points[0]["customdata"][:2])
        st.session_state["layer"], st.session_state["head"] = layer, head
        st.session_state["gnn_map_head"] = (layer, head)


def cached_attribution(name: str, text: str, pair: str) -> list[tuple[Attribution, np.ndarray]]:
    """Integrated gradients of the sentence (its embedding's projection on itself), or of a pair's cosine similarity
    one sentence at a time, each sentence tokenized on its own; beside each, its rollout share per word (words,).
    Shared by every session (ui/serving.py)."""
    return shared_run(
        ATTRIBUTIONS, (name, text, pair), lambda: _attribution(name, text, pair), "Integrating gradients…"
    )


def _attribution(name: str, text: str, pair: str) -> list[tuple[Attribution, np.ndarray]]:
    model = cached_model(name)
    network = model.network
    assert isinstance(network, Encoder)  # the page offers attribution for core encoders only
    sentences = [model.tokenize(text)] + ([model.tokenize(pair)] if pair else [])
    if pair:
        attributions = pair_integrated_gradients(network, *sentences)
    else:
        attributions = (integrated_gradients(network, sentences[0]),)
    return [
        (attribution, np.array([attribution.rollout[list(group)].sum() for group in tokenized.word_groups]))
        for attribution, tokenized in zip(attributions, sentences)
    ]


@st.cache_data(max_entries=1, show_spinner=False)
def corpus_words() -> tuple[DocumentWordMatrix, np.ndarray]:
    """The bundled corpus's document × word counts and its word × word cosine similarity."""
    matrix = document_word_matrix(load_corpus())
    return matrix, word_similarity(matrix.counts)
