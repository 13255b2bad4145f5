"""Widgets bound to the URL (``bind="query-params"``) and widget callbacks: what keeping them right takes in
Streamlit 1.67. Every page applies these three rules through this module; tests/app/test_bound_widgets.py pins each.

1. Keep a bound widget in place (``always_drawn``). An element that appears or goes above a bound widget, in the same
   container, moves it, and the browser side then forgets its binding (the old copy's unmount unregisters the new
   copy's id): the address bar stops following it. Optional elements therefore sit in a container that is always
   drawn, filled or empty.
2. Clamp a bound number when the model shrinks (``clamp``). A layer or head read from the URL or left by a bigger
   model can exceed the current one; it is brought back only when it must change, since each assignment to a bound
   widget's key rewrites the address bar.
3. Hold no run's output in a callback or label function. A function defined in a page script carries that run's
   globals (the model's output, its figures) for as long as Streamlit keeps the function. Measured with AppTest:
   a page-defined ``format_func`` or ``on_change`` keeps the last run's globals alive until the next run (one run per
   session); a page-defined ``on_select`` of a chart whose figure changes keeps *every* run's globals (five of six
   runs alive after six runs). So labels come from a mapping's own method (``labels.get``, ``names.__getitem__``),
   which holds only the mapping, and callbacks are functions of a ui/ module bound with ``functools.partial`` to
   small arguments (ui/overview.py).
"""

import streamlit as st
from streamlit.delta_generator import DeltaGenerator


def always_drawn() -> DeltaGenerator:
    """A container drawn on every run, empty or not, for optional elements above bound widgets (rule 1)."""
    return st.container()


def clamp(key: str, largest: int, fallback: int | str | None = None) -> None:
    """Keep the integer in ``st.session_state[key]`` at most ``largest`` (a smaller model than the last one has fewer
    layers or heads): set it to ``fallback``, or to ``largest`` without one. Assigned only when it must change (rule
    2); a value that is not an integer ("mean") stays."""
    value = st.session_state.get(key)
    if isinstance(value, int) and value > largest:
        st.session_state[key] = largest if fallback is None else fallback


def count_slider(label: str, count: int, key: str, **kwargs) -> int:
    """A slider over 1 … ``count`` (a layer or head number). Streamlit's slider refuses a range of one value, so a
    model with one layer or one head gets a select slider with that one option."""
    if count > 1:
        return st.slider(label, 1, count, key=key, **kwargs)
    return st.select_slider(label, [1], key=key, **kwargs)
