"""The model and the current sentence's analysis, cached and shared by every page."""

from __future__ import annotations

from functools import partial

import numpy as np
import streamlit as st

from core.analysis.ablation import HeadImportance, importance_of_heads, switched_off_mask
from core.analysis.view_options import ViewOptions, attention_view
from core.serving.shared_cache import SharedCache, freeze
from core.transformer.models import (
    BUNDLED_MODEL,
    AttentionModel,
    AttentionResult,
    ModelLoadError,
    hosted,
    load_model,
    parameter_budget,
)
from core.transformer.tokens import EmptyTextError
from core.translation.attention_model import TRANSLATOR_NAME, PairNotSupportedError, TranslatorAttentionModel
from core.translation.corpus import CHAPTER_SENTENCE, UnknownWordError, segment
from ui.serving import leave_out_of_garbage_collection, shared_run
from ui.translator import shipped_run

# Results kept for every session: a 512-token input holds ~90 MB (attention ~75 MB for a 6 × 12 model), a sentence
# under 1 MB, so the byte bound, not the count, decides for long texts.
ANALYSES_BYTES = 256 * 2**20
RUNNING, SWITCHING_OFF = "Running the model…", "Switching each head off in turn…"


def cached_model(name: str) -> AttentionModel | TranslatorAttentionModel:
    """One model object per process and name, shared by all sessions (never mutated); no local folder when hosted.
    TRANSLATOR_NAME is the small Transformer trained in this app (its shipped checkpoint)."""
    return _cached_model(name, allow_local=not hosted())


@st.cache_resource(max_entries=2, show_spinner="Loading the model…")
def _cached_model(name: str, allow_local: bool) -> AttentionModel | TranslatorAttentionModel:
    """Keyed by ``allow_local`` too, so that a folder or a large model loaded while not hosted is never served once
    hosted."""
    if name == TRANSLATOR_NAME:
        model: AttentionModel | TranslatorAttentionModel = TranslatorAttentionModel(shipped_run().model)
    else:
        budget = parameter_budget(hosted_mode=not allow_local)
        model = load_model(name, allow_local=allow_local, parameter_budget=budget)
    leave_out_of_garbage_collection()
    return model


ANALYSES: SharedCache[AttentionResult] = SharedCache(max_entries=64, max_bytes=ANALYSES_BYTES)
IMPORTANCES: SharedCache[HeadImportance] = SharedCache(max_entries=128)
VIEWS: SharedCache[tuple[list[str], np.ndarray]] = SharedCache(max_entries=64, max_bytes=ANALYSES_BYTES)


def cached_analysis(name: str, text: str, pair: str, heads_off: tuple[tuple[int, int], ...] = ()) -> AttentionResult:
    """The model's analysis of the input, shared by every session (ui/serving.py) and read-only. ``heads_off``
    (layer, head) pairs, 0-based, are switched off (core networks only)."""
    return shared_run(
        ANALYSES, (name, not hosted(), text, pair, heads_off), partial(_analyse, name, text, pair, heads_off), RUNNING
    )


def _analyse(name: str, text: str, pair: str, heads_off: tuple[tuple[int, int], ...]) -> AttentionResult:
    model = cached_model(name)
    if not heads_off:
        return model.analyse(text, pair or None)
    assert isinstance(model, AttentionModel) and model.network is not None  # the page offers it for these only
    config = model.network.config
    return model.analyse(text, pair or None, switched_off_mask(heads_off, config.num_layers, config.num_heads))


def cached_importance(name: str, text: str, pair: str) -> HeadImportance:
    """core.analysis.ablation.importance_of_heads, shared: every single-head ablation of the input."""
    return shared_run(
        IMPORTANCES, (name, not hosted(), text, pair), partial(_importance, name, text, pair), SWITCHING_OFF
    )


def _importance(name: str, text: str, pair: str) -> HeadImportance:
    model = cached_model(name)
    assert isinstance(model, AttentionModel)
    return importance_of_heads(model, text, pair or None)


def cached_view(result: AttentionResult, view: tuple) -> tuple[list[str], np.ndarray]:
    """``core.analysis.view_options.attention_view`` of ``result``, shared: ``view`` is (model, text, pair,
    heads off, ViewOptions), what ``result`` was computed from and how it is shown. Returns (labels, (L, H, n, n))."""
    options = view[-1]
    assert isinstance(options, ViewOptions)
    return VIEWS.get_or_compute(view, lambda: freeze(attention_view(result.tokenized, result.attentions, options)))


def model_in_use() -> AttentionModel | TranslatorAttentionModel:
    """The model chosen in the sidebar, or the bundled one with an error message when it cannot be loaded."""
    name = (st.session_state.get("model") or BUNDLED_MODEL).strip()
    try:
        model = cached_model(name)
    except ModelLoadError as error:
        st.error(f"{error}  \nShowing the bundled model instead.", icon="⚠️")
        model = cached_model(BUNDLED_MODEL)
    if model.note:
        st.info(model.note, icon="ℹ️")
    return model


def use_chapter_sentence() -> None:
    """Callback: the sidebar's sentence becomes the chapter's Japanese sentence, with no second sentence."""
    st.session_state["text"], st.session_state["pair"] = " ".join(CHAPTER_SENTENCE), ""


def model_changed() -> None:
    """Callback of the model box: choosing the small Transformer with a sentence it cannot read (English, say) puts
    the chapter's sentence in the box, so that its graphs show at once."""
    if st.session_state.get("model_choice") == TRANSLATOR_NAME:
        try:
            segment(st.session_state.get("text", ""))
        except (EmptyTextError, UnknownWordError):
            use_chapter_sentence()


def current_analysis() -> AttentionResult | None:
    """The analysis of the sidebar's sentence (and pair); None, with a prompt on screen, when there is no text."""
    model = model_in_use()
    text, pair = st.session_state.get("text", ""), st.session_state.get("pair", "")
    try:
        result = cached_analysis(model.name, text, pair)
    except EmptyTextError as prompt:
        st.info(f"{prompt} Or pick an example in the sidebar.", icon="✍️")
        return None
    except (UnknownWordError, PairNotSupportedError) as problem:  # the small Transformer's grammar
        st.info(str(problem), icon="✍️")
        st.button("Use the chapter's sentence, 私 は 今日 東京 に 行く", on_click=use_chapter_sentence)
        return None
    tokenized = result.tokenized
    if tokenized.causal and pair.strip():
        st.caption(
            f"{model.name} is a decoder: it reads one text, so the second sentence is appended to the first "
            "(there is no [SEP] between them)."
        )
    if tokenized.truncated:
        st.warning(
            f"The input has {tokenized.untruncated_length} tokens; {model.name} reads at most {len(tokenized)}, "
            f"so the text was truncated to its first {len(tokenized)} tokens.",
            icon="✂️",
        )
    return result
