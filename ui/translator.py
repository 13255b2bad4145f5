"""The small translator in the app: the shipped checkpoint loaded once per process (the model box wraps the same
copy), a session's own training run, and translations of typed sentences, cached."""

from __future__ import annotations

from functools import partial

import streamlit as st

from core.translation import checkpoint
from core.translation.corpus import build_corpus, segment
from core.translation.model import Translation, TranslatorConfig, translate
from core.translation.training import TrainingResult, TrainingSettings, train
from figures.translation_figures import training_figure

RUN_KEY = "translator_run"  # st.session_state: this session's own TrainingResult, when it trained one
LIVE_EVERY = 25  # steps between two redraws of the live loss curve


@st.cache_resource(show_spinner="Loading the small Transformer…")
def shipped_run() -> TrainingResult:
    """The checkpoint in assets/translator/, shared by every session (never mutated)."""
    return checkpoint.load()


def current_run() -> TrainingResult:
    """This session's own run if it trained one, else the shipped one."""
    return st.session_state.get(RUN_KEY) or shipped_run()


def own_run() -> bool:
    return st.session_state.get(RUN_KEY) is not None


def forget_own_run() -> None:
    """Callback of "Back to the shipped model"."""
    st.session_state[RUN_KEY] = None


@st.cache_data(max_entries=64, show_spinner=False)
def shipped_translation(text: str) -> Translation:
    """The shipped model's greedy translation of ``text`` (segmented), with its attention maps."""
    return translate(shipped_run().model, segment(text))


def translation(text: str) -> Translation:
    """``text`` translated by the run in use: cached for the shipped model, computed (≈ ms) for a session's own."""
    run = st.session_state.get(RUN_KEY)
    return shipped_translation(text) if run is None else translate(run.model, segment(text))


def use_sentence(text: str) -> None:
    """Callback of an example button: type ``text`` into the sentence box."""
    st.session_state["ja_text"] = text


def example_button(label: str, text: str, key: str) -> None:
    st.button(label, key=key, on_click=partial(use_sentence, text))


def train_live(config: TranslatorConfig, settings: TrainingSettings) -> TrainingResult:
    """Train a fresh translator with a progress bar and a loss curve redrawn every LIVE_EVERY steps; the run is
    kept in this session (RUN_KEY)."""
    bar = st.progress(0.0, text="Training…")
    curve = st.empty()
    losses: list[float] = []

    def progress(step: int, steps: int, loss: float) -> None:
        losses.append(loss)
        if step % LIVE_EVERY == 0 or step == steps:
            bar.progress(step / steps, text=f"Step {step} of {steps}: loss {loss:.3f}")
            curve.plotly_chart(training_figure(range(1, step + 1), losses, total_steps=steps), key=f"live_loss_{step}")

    run = train(config, settings, build_corpus(), progress)
    bar.empty()
    curve.empty()
    st.session_state[RUN_KEY] = run
    return run
