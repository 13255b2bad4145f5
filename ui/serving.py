"""One process, many sessions: results and figures shared by all of them, and at most a few model runs at a time.

Streamlit runs every session's script as a thread of one process. What those threads share lives here, at module
level (imported once per process), built on ``core.serving``:

- ``shared_run(cache, key, compute, label)``: the result for ``key``, computed once for every session that asks
  (``SharedCache``), its arrays made read-only; a computation waits for one of the ``RUN_QUEUE``'s slots, and
  while it waits the session shows how many runs are ahead of it.
- ``shared_figure(kind, key, build)``: a figure built once for every session showing the same thing.

Garbage collection: Streamlit collects every generation after each script run (``runner.postScriptGC``). With torch
and transformers loaded that walk over ~1.5 million objects cost ~0.2 s of CPU per run, ~70 % of a warm run of the
attention page, for every session and every click, so .streamlit/config.toml turns it off. Python's own collector
then decides, and it compares the objects created since with those alive before: ``leave_out_of_garbage_collection``
moves what lives for the whole process (the modules imported, a model's weights) out of its view (``gc.freeze``),
which keeps the collections frequent enough and cheap (bench/load.py: memory flat over 200 sentences; postScriptGC
off without the freeze kept each run's cycles alive, +300 MB).

The queue has one slot per CPU this process may use (``TRANSFORMER_GRAPH_MODEL_RUNS`` overrides it): forty
sessions typing at once get answers in turn instead of forty runs sharing two cores.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import os
from collections.abc import Callable, Hashable
from typing import TypeVar

import streamlit as st
from plotly.basedatatypes import BaseFigure

from core.serving.run_queue import RunQueue
from core.serving.shared_cache import SharedCache, freeze, nbytes

V = TypeVar("V")
MODEL_RUNS_ENV = "TRANSFORMER_GRAPH_MODEL_RUNS"
FIGURES_KEPT = 256  # figures and graph pages: tens of KB each for a sentence…
FIGURES_BYTES = 64 * 2**20  # …but a 512-token heatmap is 1.5 MB: the byte bound decides for long texts


def model_run_slots() -> int:
    """How many model runs may go at once: ``TRANSFORMER_GRAPH_MODEL_RUNS``, else the CPUs this process may use."""
    configured = os.environ.get(MODEL_RUNS_ENV, "").strip()
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


RUN_QUEUE = RunQueue(model_run_slots())


def figure_bytes(value: object) -> int:
    """A plotly figure's size as its JSON's arrays and strings (``nbytes`` of ``to_plotly_json``); for anything
    else (a graph and its page) ``nbytes``."""
    return nbytes(value.to_plotly_json() if isinstance(value, BaseFigure) else value)


FIGURES: SharedCache[object] = SharedCache(max_entries=FIGURES_KEPT, max_bytes=FIGURES_BYTES, size_of=figure_bytes)


def leave_out_of_garbage_collection() -> None:
    """Collect the garbage there is, then leave every object alive now out of later collections (gc.freeze): called
    after a model is loaded, and once per process before the first page runs."""
    gc.collect()
    gc.freeze()


@functools.cache
def leave_imports_out_of_garbage_collection() -> None:
    """``leave_out_of_garbage_collection`` once per process: the modules app.py imported (torch, transformers)."""
    leave_out_of_garbage_collection()


def waiting_message(ahead: int) -> str:
    """The waiting state: how many runs are ahead of this one and why it waits."""
    runs = "run" if ahead == 1 else "runs"
    return (
        f"Waiting for the model: {ahead} {runs} from other people ahead of yours "
        f"(this server runs {RUN_QUEUE.slots} at a time, so that every answer comes in turn)…"
    )


def queued(compute: Callable[[], V], label: str) -> V:
    """``compute()`` in one of the queue's slots; a spinner says how many runs are ahead while it waits for one,
    then ``label`` while it runs. Spinners are transient: nothing is left on the page or moves."""
    with contextlib.ExitStack() as waiting:
        with RUN_QUEUE.turn(on_wait=lambda ahead: waiting.enter_context(st.spinner(waiting_message(ahead)))):
            waiting.close()
            with st.spinner(label):
                return compute()


def shared_run(cache: SharedCache[V], key: Hashable, compute: Callable[[], V], label: str) -> V:
    """The value for ``key`` in ``cache``; computed once (``queued``) however many sessions ask, then read-only."""
    return cache.get_or_compute(key, lambda: freeze(queued(compute, label)))


def shared_figure(kind: str, key: Hashable, build: Callable[[], V]) -> V:
    """The figure of ``kind`` for ``key`` (everything it shows), built once for every session. Streamlit only reads
    a figure it is given (it serialises a copy), so one object serves every session."""
    return FIGURES.get_or_compute((kind, key), build)  # type: ignore[return-value]
