"""Sessions share results and figures (one computation per input for the whole process), and a model run waits
for a free slot of the run queue, saying how many runs are ahead of it (ui/serving.py)."""

import threading
import time
import uuid

import pytest
import streamlit as st

import ui.serving
from core.transformer.models import BUNDLED_MODEL
from tests.app.apptest import enter, open_app
from ui.analysis import ANALYSES, IMPORTANCES
from ui.serving import FIGURES, RUN_QUEUE, waiting_message


def new_sentence() -> str:
    """A sentence no test has run yet (so every cache misses), with a marker word."""
    return f"The class opened the link zo{uuid.uuid4().hex[:6]}ix together."


def graph_html(at) -> str:
    return at.get("iframe")[0].proto.srcdoc


def test_two_sessions_on_the_same_input_share_one_model_run_and_its_figures():
    text = new_sentence()
    first, second = open_app(), open_app()  # two sessions on the example
    runs, importances, figures = ANALYSES.stats.misses, IMPORTANCES.stats.misses, FIGURES.stats.misses
    enter(first, text=text)
    built = FIGURES.stats.misses - figures
    assert ANALYSES.stats.misses - runs == 1 and IMPORTANCES.stats.misses - importances == 1
    assert built >= 3  # the overview, the importance strip and the heatmap
    hits = FIGURES.stats.hits
    enter(second, text=text)
    assert ANALYSES.stats.misses - runs == 1, "the second session ran the model again"
    assert IMPORTANCES.stats.misses - importances == 1
    assert FIGURES.stats.misses - figures == built, "the second session built a figure again"
    assert FIGURES.stats.hits - hits >= 3
    assert graph_html(first) == graph_html(second)
    assert text.split()[4] in graph_html(second)


def test_a_shared_result_is_read_only():
    text = new_sentence()
    enter(open_app(), text=text)
    result = ANALYSES.get((BUNDLED_MODEL, True, text, "", ()))  # (model, local folders allowed, text, pair, heads off)
    assert result is not None
    with pytest.raises(ValueError, match="read-only"):
        result.attentions[0, 0, 0, 0] = 1.0  # a page writing into it would change every session's view


@pytest.fixture
def spinners(monkeypatch) -> list[str]:
    """The text of every spinner ui.serving shows (spinners are transient: AppTest does not keep them)."""
    shown: list[str] = []
    spinner = st.spinner

    def recording(text: str = "", **kwargs):
        shown.append(text)
        return spinner(text, **kwargs)

    monkeypatch.setattr(ui.serving.st, "spinner", recording)
    return shown


def test_a_model_run_waits_for_a_free_slot_and_says_how_many_runs_are_ahead(spinners):
    at = open_app()
    release, holding = threading.Event(), threading.Barrier(RUN_QUEUE.slots + 1)

    def busy_elsewhere() -> None:  # another session's run, holding a slot
        with RUN_QUEUE.turn():
            holding.wait(timeout=10)
            release.wait(timeout=60)

    others = [threading.Thread(target=busy_elsewhere) for _ in range(RUN_QUEUE.slots)]
    for other in others:
        other.start()
    holding.wait(timeout=10)  # every slot is taken
    text = new_sentence()
    run = threading.Thread(target=enter, args=(at,), kwargs={"text": text})
    run.start()
    deadline = time.monotonic() + 30
    while RUN_QUEUE.waiting == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        assert RUN_QUEUE.waiting == 1, "the new sentence's run did not wait for a slot"
        assert run.is_alive()
        assert waiting_message(RUN_QUEUE.slots) in spinners
    finally:
        release.set()
        for other in others:
            other.join(timeout=10)
        run.join(timeout=60)
    assert not run.is_alive()
    assert (RUN_QUEUE.running, RUN_QUEUE.waiting) == (0, 0)
    assert text.split()[4] in graph_html(at)  # the run went on once a slot was free
    assert "Waiting for the model: 2 runs from other people ahead of yours" in waiting_message(2)


def test_the_model_runs_at_once_are_the_cpus_unless_the_environment_says(monkeypatch):
    monkeypatch.delenv(ui.serving.MODEL_RUNS_ENV, raising=False)
    cpus = ui.serving.model_run_slots()
    assert cpus >= 1
    monkeypatch.setenv(ui.serving.MODEL_RUNS_ENV, "3")
    assert ui.serving.model_run_slots() == 3
    for unusable in ("0", "-2", "two", ""):
        monkeypatch.setenv(ui.serving.MODEL_RUNS_ENV, unusable)
        assert ui.serving.model_run_slots() == cpus


def test_a_figure_is_kept_by_the_size_of_what_it_sends():
    import numpy as np

    from figures.attention_figures import heatmap_figure

    labels = [f"w{k}" for k in range(500)]
    big = heatmap_figure(np.random.default_rng(0).random((500, 500), dtype=np.float32), labels, labels)
    small = heatmap_figure(np.eye(5, dtype=np.float32), labels[:5], labels[:5])
    assert ui.serving.figure_bytes(big) >= 500 * 500 * 4  # its weights travel as float32
    assert ui.serving.figure_bytes(small) < 20_000
    assert ui.serving.figure_bytes((None, "<html>" * 10)) == 60  # a graph and its page: the page
